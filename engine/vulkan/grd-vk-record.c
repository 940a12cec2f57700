/* grd-vk-record.c: recording dispatches into the command buffer: bindings,
 * barriers where a dispatch reads what an earlier one wrote, kernel parameters,
 * and the replay list of the dispatches recorded. */
#include "grd-vk-function-private.h"

#include <string.h>

/* The slot (>= 0) or temporary (-1 - i) that holds `buf` in this call. */
static gint
buffer_source (GrdVkRec *r, GrdVkBuffer *buf)
{
  GrdVkFunction *fn = r->fn;
  for (gint i = 0; i < r->n_prefer; i++) {
    gint s = fn->slot_base[r->prefer[i].node] + r->prefer[i].output;
    if (fn->values[s].buf == buf)
      return s;
  }
  for (guint t = 0; t < r->temps->len; t++)
    if (r->temps->pdata[t] == buf)
      return -1 - (gint) t;
  for (gint s = 0; s < fn->n_slots; s++)
    if (fn->values[s].buf == buf)
      return s;
  return G_MININT;
}

void
grd_vk_barrier (VkCommandBuffer cmd, VkPipelineStageFlags src, VkAccessFlags src_access,
                VkPipelineStageFlags dst, VkAccessFlags dst_access)
{
  VkMemoryBarrier mb = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
    .srcAccessMask = src_access,
    .dstAccessMask = dst_access,
  };
  vkCmdPipelineBarrier (cmd, src, dst, 0, 1, &mb, 0, NULL, 0, NULL);
}

/* Binds buffers 0..n-1 (the last one is written) and dispatches. */
void
grd_vk_dispatch_n (GrdVkRec *r, GrdVkKernel *k, GrdVkBuffer *const *bufs, gint n, gint n_out,
                   const guint32 *push, gint n_push, guint32 gx, guint32 gy)
{
  gboolean hazard = FALSE;
  for (gint i = 0; i < n && !hazard; i++)
    for (guint w = 0; w < r->written->len && !hazard; w++)
      hazard = r->written->pdata[w] == (gpointer) bufs[i]->buffer;
  if (hazard) {
    grd_vk_barrier (r->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                    VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                    VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
    g_ptr_array_set_size (r->written, 0);
  }
  VkDescriptorBufferInfo info[GRD_VK_MAX_BINDINGS];
  VkWriteDescriptorSet writes[GRD_VK_MAX_BINDINGS];
  for (gint i = 0; i < n; i++) {
    info[i] = (VkDescriptorBufferInfo) { bufs[i]->buffer, 0, VK_WHOLE_SIZE };
    writes[i] = (VkWriteDescriptorSet) {
      .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
      .dstBinding = i,
      .descriptorCount = 1,
      .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
      .pBufferInfo = &info[i],
    };
  }
  guint32 words[GRD_VK_PUSH_WORDS] = { 0 };
  memcpy (words, push, MIN (n_push, GRD_VK_PUSH_WORDS) * 4);
  vkCmdBindPipeline (r->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, k->pipeline);
  r->fn->ctx->push_descriptor (r->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, k->layout, 0, n, writes);
  vkCmdPushConstants (r->cmd, k->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof words, words);
  vkCmdDispatch (r->cmd, gx, gy, 1);
  r->fn->ctx->n_dispatches++;
  for (gint i = n - n_out; i < n; i++)
    g_ptr_array_add (r->written, (gpointer) bufs[i]->buffer);
  if (r->record) {
    GrdVkReplay rp = { .kernel = k, .n = n, .n_out = n_out, .gx = gx, .gy = gy };
    memcpy (rp.push, words, sizeof words);
    for (gint i = 0; i < n; i++) {
      rp.src[i] = buffer_source (r, bufs[i]);
      r->record_ok &= rp.src[i] != G_MININT;
    }
    g_array_append_val (r->record, rp);
  }
}

/* The usual case: the last binding is the one written. */
void
grd_vk_dispatch (GrdVkRec *r, GrdVkKernel *k, GrdVkBuffer *const *bufs, gint n, const guint32 *push,
                 gint n_push, guint32 gx, guint32 gy)
{
  grd_vk_dispatch_n (r, k, bufs, n, 1, push, n_push, gx, gy);
}

guint32
grd_vk_groups_for (gint64 n)
{
  return (guint32) MAX (MIN ((n + GRD_VK_GROUP - 1) / GRD_VK_GROUP, 65535), 1);
}

gint
grd_vk_param (GrdVkParams *p, gint64 value)
{
  g_assert (p->n < (gint) G_N_ELEMENTS (p->v));
  p->v[p->n] = (guint32) value;
  return p->n++;
}

const char *
grd_vk_pexpr (GrdVkParams *p, gint k)
{
  char *buf = p->ring[p->next++ % 8];
  if (k < GRD_VK_PUSH_WORDS)
    g_snprintf (buf, 24, "pc.p[%d]", k);
  else
    g_snprintf (buf, 24, "%uu", p->v[k]);
  return buf;
}

GrdVkKernel *
grd_vk_rec_kernel (GrdVkRec *r, GString *body, gint n_buffers, GError **error)
{
  return grd_vk_kernel_glsl (r->fn->ctx, body->str, r->fn->int64, r->fn->float64, n_buffers,
                             error);
}

/* Appends "uint c0 = ..., c1 = ...;" decomposing `flat` over the dims shape[k0..k0+rank). */
void
grd_vk_emit_coords (GString *s, GrdVkParams *p, const char *prefix, const char *flat, gint rank,
                    const gint *shape_param)
{
  g_string_append_printf (s, "    uint %s_r = %s;\n", prefix, flat);
  for (gint d = rank - 1; d >= 1; d--)
    g_string_append_printf (s, "    uint %s%d = %s_r %% %s; %s_r /= %s;\n", prefix, d, prefix,
                            grd_vk_pexpr (p, shape_param[d]), prefix, grd_vk_pexpr (p, shape_param[d]));
  if (rank > 0)
    g_string_append_printf (s, "    uint %s0 = %s_r;\n", prefix, prefix);
}

/* "off + c0*s0 + ..." */
char *
grd_vk_offset_expr (GrdVkParams *p, const char *prefix, gint rank, gint off_param,
                    const gint *stride_param)
{
  GString *s = g_string_new (NULL);
  g_string_append_printf (s, "(%s", grd_vk_pexpr (p, off_param));
  for (gint d = 0; d < rank; d++)
    g_string_append_printf (s, " + %s%d * %s", prefix, d, grd_vk_pexpr (p, stride_param[d]));
  g_string_append_c (s, ')');
  return g_string_free (s, FALSE);
}

/* ------------------------------------------------------------ kernels of other files */

static GrdVkKernel *
ext_kernel (GrdVkExtCall *call, GString *body, gint n_buffers, GError **error)
{
  return grd_vk_rec_kernel (call->priv, body, n_buffers, error);
}

static void
ext_dispatch (GrdVkExtCall *call, GrdVkKernel *k, GrdVkBuffer *const *bufs, gint n,
              const guint32 *push, gint n_push, guint32 gx)
{
  grd_vk_dispatch (call->priv, k, bufs, n, push, n_push, gx, 1);
}

void
grd_vk_ext_call_init (GrdVkRec *r, const GrdNode *node, GrdVkBuffer *out_buf,
                      const GrdVkValue *out, GrdVkExtCall *call)
{
  GrdVkFunction *fn = r->fn;
  *call = (GrdVkExtCall) { .node = node, .n_in = MIN (node->n_inputs, GRD_VK_MAX_BINDINGS),
                           .out_buf = out_buf, .out_dtype = out->dtype, .out_rank = out->rank,
                           .out_size = out->size, .priv = r, .kernel = ext_kernel,
                           .dispatch = ext_dispatch };
  memcpy (call->out_shape, out->shape, sizeof call->out_shape);
  for (gint j = 0; j < call->n_in; j++) {
    GrdVkValue *v = grd_vk_slot (fn, node->inputs[j]);
    call->in_buf[j] = v->buf;
    call->in_dtype[j] = v->dtype;
    call->in_rank[j] = v->rank;
    memcpy (call->in_shape[j], v->shape, sizeof call->in_shape[j]);
  }
}

gboolean
grd_vk_step_ext (GrdVkRec *r, GrdVkStep *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = grd_vk_node_at (fn, st->node);
  GrdVkValue *out = grd_vk_slot (fn, (GrdRef) { st->node, 0 });
  GrdVkExtCall call;
  grd_vk_ext_call_init (r, node, out->buf, out, &call);
  if (grd_vk_random_handles (node->op->name)) {
    r->record_ok = FALSE;  /* a new draw number every call: never replayed */
    return grd_vk_random_record (&call, fn->ctx->has_float64, error);
  }
  return grd_vk_ext_record (&call, error);
}

GrdVkBuffer *
grd_vk_rec_temp (GrdVkRec *r, VkDeviceSize size, GError **error)
{
  GrdVkTempPool *pool = r->pool;
  if (pool && pool->next < pool->bufs->len) {
    GrdVkBuffer *b = pool->bufs->pdata[pool->next];
    if (b->size >= size) {
      pool->next++;
      return b;
    }
  }
  GrdVkBuffer *b = grd_vk_buffer_new (r->fn->ctx, size, error);
  if (!b)
    return NULL;
  g_ptr_array_add (r->temps, b);
  if (pool) {
    /* a step asked for more than the last one: the bigger one from now on */
    if (pool->next < pool->bufs->len)
      pool->bufs->pdata[pool->next] = b;
    else
      g_ptr_array_add (pool->bufs, b);
    pool->next++;
  }
  return b;
}
