/* grd-vk-call.c: one call of a Vulkan function: inputs and leaves uploaded,
 * runtime shapes, every step recorded (or the last call replayed) into one
 * submission, outputs read back, updates swapped in. */
#include "grd-vk-function-private.h"

#include <stdint.h>
#include <string.h>

static void
write_host (guint8 *dst, const GrdTensor *t)
{
  if (t->dtype == GRD_DTYPE_BOOL) {
    const guint8 *s = t->data;
    guint32 *d = (guint32 *) dst;
    for (gint64 i = 0; i < t->size; i++)
      d[i] = s[i] != 0;
  } else
    memcpy (dst, t->data, t->size * grd_dtype_size (t->dtype));
}

static void
read_host (GrdTensor *t, const guint8 *src)
{
  if (t->dtype == GRD_DTYPE_BOOL) {
    const guint32 *s = (const guint32 *) src;
    guint8 *d = t->data;
    for (gint64 i = 0; i < t->size; i++)
      d[i] = s[i] != 0;
  } else
    memcpy (t->data, src, t->size * grd_dtype_size (t->dtype));
}

/* ------------------------------------------------------------ calls */

/* Lossless conversions only, as the CPU function. */
static gboolean
can_feed (GrdDType from, GrdDType to)
{
  if (from == to || from == GRD_DTYPE_BOOL || to == GRD_DTYPE_FLOAT64)
    return TRUE;
  if (to == GRD_DTYPE_INT64)
    return from == GRD_DTYPE_INT32;
  return FALSE;
}

typedef struct {
  GrdTensor   *t;     /* owned */
  GrdVkBuffer *dst;
} Upload;

static void
upload_clear (Upload *u)
{
  grd_tensor_unref (u->t);
}

/* Runtime shapes: each op's type rule applied to the runtime shapes. */
typedef struct _Transfers Transfers;
static gboolean prepare_values (GrdVkFunction *fn, Transfers *tr, GError **error);
static gboolean nested_shapes (GrdVkFunction *fn, GrdVkStep *st, Transfers *tr, GError **error);

static GrdVkStep *
step_of (GrdVkFunction *fn, gint node)
{
  for (guint s = 0; s < fn->steps->len; s++)
    if (g_array_index (fn->steps, GrdVkStep, s).node == node)
      return &g_array_index (fn->steps, GrdVkStep, s);
  return NULL;
}

static gboolean
infer_shapes (GrdVkFunction *fn, Transfers *tr, GError **error)
{
  for (guint p = 0; p < fn->schedule->len; p++) {
    gint i = g_array_index (fn->schedule, gint, p);
    GrdNode *node = grd_vk_node_at (fn, i);
    const char *op = node->op->name;
    /* only these four look their step up (the others need no search per call) */
    gboolean nested = !fn->host[i] && (!strcmp (op, "_scan") || !strcmp (op, "ifelse")
                                       || !strcmp (op, "_tap_gather")
                                       || !strcmp (op, "_tap_scatter"));
    GrdVkStep *st = nested ? step_of (fn, i) : NULL;
    if (st && (st->kind == GRD_VK_STEP_SCAN || st->kind == GRD_VK_STEP_IFELSE
               || st->kind == GRD_VK_STEP_TAP_GATHER || st->kind == GRD_VK_STEP_TAP_SCATTER)) {
      if (!nested_shapes (fn, st, tr, error))
        return FALSE;
      continue;
    }
    if (fn->host[i]) {
      if (!grd_vk_host_value (fn, i, error))
        return FALSE;
      GrdTensor *t = fn->host_val[i];
      grd_vk_value_set_shape (&fn->values[fn->slot_base[i]], t->dtype, t->rank, t->shape);
      continue;
    }
    GrdType in[node->n_inputs + 1], out[node->n_outputs + 1];
    for (gint j = 0; j < node->n_inputs; j++) {
      GrdVkValue *v = grd_vk_slot (fn, node->inputs[j]);
      grd_type_set (&in[j], v->dtype, v->rank, v->shape);
    }
    g_autoptr (GError) local = NULL;
    if (!node->op->infer (&node->attrs, in, node->n_inputs, out, &local)) {
      g_set_error (error, GRD_ERROR, local->code, "node '%s' (%s): %s", node->id,
                   node->op->name, local->message);
      return FALSE;
    }
    for (gint k = 0; k < node->n_outputs; k++) {
      for (gint d = 0; d < out[k].rank; d++)
        if (out[k].dims[d] < 0) {
          g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                       "node '%s' (%s): the output shape is not known from the input shapes",
                       node->id, node->op->name);
          return FALSE;
        }
      grd_vk_value_set_shape (&fn->values[fn->slot_base[i] + k], node->types[k].dtype, out[k].rank,
                              out[k].dims);
    }
  }
  return TRUE;
}

static gboolean
submit (GrdVkContext *ctx, GError **error)
{
  VkSubmitInfo si = {
    .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
    .commandBufferCount = 1,
    .pCommandBuffers = &ctx->cmd,
  };
  if (!grd_vk_check (vkResetFences (ctx->device, 1, &ctx->fence), "vkResetFences", error)
      || !grd_vk_check (vkQueueSubmit (ctx->queue, 1, &si, ctx->fence), "vkQueueSubmit", error)
      || !grd_vk_check (vkWaitForFences (ctx->device, 1, &ctx->fence, VK_TRUE, UINT64_MAX),
                        "vkWaitForFences", error))
    return FALSE;
  return TRUE;
}

static gboolean
begin (GrdVkContext *ctx, GError **error)
{
  VkCommandBufferBeginInfo bi = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
    .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
  };
  if (!grd_vk_check (vkResetCommandBuffer (ctx->cmd, 0), "vkResetCommandBuffer", error)
      || !grd_vk_check (vkBeginCommandBuffer (ctx->cmd, &bi), "vkBeginCommandBuffer", error))
    return FALSE;
  /* Everything of the previous submission is done before anything of this one. */
  grd_vk_barrier (ctx->cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                  VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT,
                  VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                  VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT);
  return TRUE;
}

/* Host data into device buffers (before any dispatch), values out of them
 * (after the last), in one submission with the work. */
typedef struct {
  GrdVkFunction *fn;
  gint           node;
} Leaf;

struct _Transfers {
  GArray      *up;    /* Upload */
  GPtrArray   *down;  /* GrdVkValue* to read back */
  GArray      *down_at; /* VkDeviceSize: staging offsets */
  GArray      *leaves;  /* Leaf: constant and shared nodes uploaded by this call */
};

static VkDeviceSize
align_up (VkDeviceSize v)
{
  return (v + 255) / 256 * 256;
}

/* Records the steps of r->fn; a scan or ifelse step records its body's in turn. */
gboolean
grd_vk_record_steps (GrdVkRec *r, GArray *steps, GError **error)
{
  gboolean good = TRUE;
  GrdVkFunction *fn = r->fn;
  for (guint i = 0; good && i < steps->len; i++) {
    GrdVkStep *st = &g_array_index (steps, GrdVkStep, i);
    GrdNode *node = grd_vk_node_at (fn, st->node);
    g_autoptr (GError) local = NULL;
    r->n_prefer = 0;
    if (st->kind == GRD_VK_STEP_CONV_FUSED) {
      GrdNode *conv = grd_vk_node_at (fn, st->producer);
      for (gint k = 0; k < conv->n_inputs && k < GRD_VK_MAX_BINDINGS / 2; k++)
        r->prefer[r->n_prefer++] = conv->inputs[k];
    }
    if (st->kind == GRD_VK_STEP_FUSED || st->kind == GRD_VK_STEP_CONV_FUSED)
      for (guint k = 0; k < st->leaves->len; k++)
        r->prefer[r->n_prefer++] = g_array_index (st->leaves, GrdRef, k);
    else
      for (gint k = 0; k < node->n_inputs && k < GRD_VK_MAX_BINDINGS; k++)
        r->prefer[r->n_prefer++] = node->inputs[k];
    r->prefer[r->n_prefer++] = (GrdRef) { st->node, 0 };
    switch (st->kind) {
    case GRD_VK_STEP_FUSED: good = grd_vk_step_fused (r, st, &local); break;
    case GRD_VK_STEP_ALIAS: break;
    case GRD_VK_STEP_VIEW: good = grd_vk_step_view (r, st, &local); break;
    case GRD_VK_STEP_CONCAT: good = grd_vk_step_concat (r, st, &local); break;
    case GRD_VK_STEP_CONCAT_PART: good = grd_vk_step_concat_part (r, st, &local); break;
    case GRD_VK_STEP_SLICE_GRAD: good = grd_vk_step_slice_grad (r, st, &local); break;
    case GRD_VK_STEP_REDUCE: good = grd_vk_step_reduce (r, st, &local); break;
    case GRD_VK_STEP_UNREDUCE: good = grd_vk_step_unreduce (r, st, &local); break;
    case GRD_VK_STEP_COUNT: break;
    case GRD_VK_STEP_DOT: good = grd_vk_step_dot (r, st, &local); break;
    case GRD_VK_STEP_OUTER: good = grd_vk_step_outer (r, st, &local); break;
    case GRD_VK_STEP_ROW: good = grd_vk_step_row (r, st, &local); break;
    case GRD_VK_STEP_TAKE: good = grd_vk_step_take (r, st, FALSE, &local); break;
    case GRD_VK_STEP_TAKE_GRAD: good = grd_vk_step_take (r, st, TRUE, &local); break;
    case GRD_VK_STEP_ONE_HOT: good = grd_vk_step_one_hot (r, st, &local); break;
    case GRD_VK_STEP_PROD_OTHERS: good = grd_vk_step_prod_others (r, st, &local); break;
    case GRD_VK_STEP_EXT: good = grd_vk_step_ext (r, st, &local); break;
    case GRD_VK_STEP_HOST: break;
    case GRD_VK_STEP_INDEX: good = grd_vk_step_index (r, st, &local); break;
    case GRD_VK_STEP_SUBTENSOR: good = grd_vk_step_subtensor (r, st, &local); break;
    case GRD_VK_STEP_SCAN: good = grd_vk_step_scan (r, st, &local); break;
    case GRD_VK_STEP_IFELSE: good = grd_vk_step_ifelse (r, st, &local); break;
    case GRD_VK_STEP_TAP_GATHER: good = grd_vk_step_tap (r, st, FALSE, &local); break;
    case GRD_VK_STEP_TAP_SCATTER: good = grd_vk_step_tap (r, st, TRUE, &local); break;
    case GRD_VK_STEP_CONV_FUSED: good = grd_vk_step_conv_fused (r, st, &local); break;
    }
    if (!good)
      g_set_error (error, GRD_ERROR, local ? local->code : GRD_ERROR_UNSUPPORTED,
                   "node '%s' (%s): %s", node->id, node->op->name,
                   local ? local->message : "failed");
  }
  return good;
}

static gboolean
run_submission (GrdVkFunction *fn, Transfers *tr, GArray *steps, gboolean replay,
                GPtrArray *host_tensors, GError **error)
{
  GrdVkContext *ctx = fn->ctx;
  g_mutex_lock (&ctx->lock);
  gboolean ok = FALSE;
  g_autoptr (GPtrArray) temps = g_ptr_array_new_with_free_func ((GDestroyNotify) grd_vk_buffer_unref);
  GrdVkBuffer *staging = NULL;
  VkDeviceSize up_total = 0, total = 0;
  for (guint i = 0; i < tr->up->len; i++) {
    Upload *u = &g_array_index (tr->up, Upload, i);
    up_total = align_up (up_total + u->t->size * grd_vk_device_size (u->t->dtype));
  }
  total = up_total;
  g_array_set_size (tr->down_at, 0);
  for (guint i = 0; i < tr->down->len; i++) {
    GrdVkValue *v = tr->down->pdata[i];
    g_array_append_val (tr->down_at, total);
    total = align_up (total + v->size * grd_vk_device_size (v->dtype));
  }
  if (!ctx->direct && total > 0 && !(staging = grd_vk_staging (ctx, total, error)))
    goto out;
  gint64 t_record = g_get_monotonic_time ();
  if (!begin (ctx, error))
    goto out;
  {
    VkDeviceSize at = 0;
    for (guint i = 0; i < tr->up->len; i++) {
      Upload *u = &g_array_index (tr->up, Upload, i);
      VkDeviceSize n = u->t->size * grd_vk_device_size (u->t->dtype);
      if (n == 0)
        continue;
      if (ctx->direct)
        write_host (u->dst->mapped, u->t);
      else {
        write_host (staging->mapped + at, u->t);
        VkBufferCopy c = { at, 0, n };
        vkCmdCopyBuffer (ctx->cmd, staging->buffer, u->dst->buffer, 1, &c);
        at = align_up (at + n);
      }
    }
    if (!ctx->direct && tr->up->len)
      grd_vk_barrier (ctx->cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                      VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT);
  }
  {
    GrdVkRec rec = { .fn = fn, .cmd = ctx->cmd, .written = g_ptr_array_new (), .temps = temps };
    gboolean good = TRUE;
    if (steps && replay) {
      for (guint t = 0; good && t < fn->replay_temps->len; t++) {
        GrdVkBuffer *b = grd_vk_buffer_new (ctx, g_array_index (fn->replay_temps, VkDeviceSize, t),
                                            error);
        good = b != NULL;
        if (b)
          g_ptr_array_add (temps, b);
      }
      for (guint d = 0; good && d < fn->replay->len; d++) {
        GrdVkReplay *rp = &g_array_index (fn->replay, GrdVkReplay, d);
        GrdVkBuffer *bufs[GRD_VK_MAX_BINDINGS];
        for (gint i = 0; i < rp->n; i++)
          bufs[i] = rp->src[i] >= 0 ? fn->values[rp->src[i]].buf : temps->pdata[-1 - rp->src[i]];
        grd_vk_dispatch_n (&rec, rp->kernel, bufs, rp->n, rp->n_out, rp->push, GRD_VK_PUSH_WORDS, rp->gx,
                           rp->gy);
      }
      steps = NULL;
    } else if (steps) {
      rec.record = g_array_new (FALSE, FALSE, sizeof (GrdVkReplay));
      rec.record_ok = TRUE;
    }
    if (good && steps)
      good = grd_vk_record_steps (&rec, steps, error);
    g_ptr_array_unref (rec.written);
    g_clear_pointer (&rec.kept, g_hash_table_unref);
    if (rec.record) {
      /* kept for the next calls when every binding was recognised */
      g_clear_pointer (&fn->replay, g_array_unref);
      g_array_set_size (fn->replay_temps, 0);
      if (good && rec.record_ok) {
        fn->replay = g_steal_pointer (&rec.record);
        for (guint t = 0; t < temps->len; t++) {
          VkDeviceSize size = ((GrdVkBuffer *) temps->pdata[t])->size;
          g_array_append_val (fn->replay_temps, size);
        }
      }
      g_clear_pointer (&rec.record, g_array_unref);
    }
    if (!good) {
      vkEndCommandBuffer (ctx->cmd);
      goto out;
    }
  }
  if (ctx->direct)
    grd_vk_barrier (ctx->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                    VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                    VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
  else if (tr->down->len) {
    grd_vk_barrier (ctx->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                    VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                    VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
    for (guint i = 0; i < tr->down->len; i++) {
      GrdVkValue *v = tr->down->pdata[i];
      VkDeviceSize n = v->size * grd_vk_device_size (v->dtype);
      if (n == 0)
        continue;
      VkBufferCopy c = { 0, g_array_index (tr->down_at, VkDeviceSize, i), n };
      vkCmdCopyBuffer (ctx->cmd, v->buf->buffer, staging->buffer, 1, &c);
    }
    grd_vk_barrier (ctx->cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                    VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
  }
  if (!grd_vk_check (vkEndCommandBuffer (ctx->cmd), "vkEndCommandBuffer", error))
    goto out;
  t_record = g_get_monotonic_time () - t_record;
  gint64 t_submit = g_get_monotonic_time ();
  if (!submit (ctx, error))
    goto out;
  if (g_getenv ("GRADUS_VULKAN_PROFILE"))
    g_printerr ("vulkan call: recorded in %" G_GINT64_FORMAT " us, ran in %" G_GINT64_FORMAT
                " us\n", t_record, g_get_monotonic_time () - t_submit);
  for (guint i = 0; i < tr->down->len; i++) {
    GrdVkValue *v = tr->down->pdata[i];
    GrdTensor *t = grd_tensor_new (v->dtype, v->rank, v->shape);
    if (t->size > 0)
      read_host (t, ctx->direct ? v->buf->mapped
                                : staging->mapped + g_array_index (tr->down_at, VkDeviceSize, i));
    g_ptr_array_add (host_tensors, t);
  }
  ok = TRUE;
out:
  g_mutex_unlock (&ctx->lock);
  return ok;
}

/* Constants and shared variables: on the device from the first call, again
 * whenever the graph's value tensor is another than the one last uploaded. */
static gboolean
prepare_leaf (GrdVkFunction *fn, gint i, Transfers *tr, GError **error)
{
  GrdNode *node = grd_vk_leaf_node (fn, i);
  GrdVkValue *v = &fn->values[fn->slot_base[i]];
  if (fn->seen[i] == node->value && v->buf)
    return TRUE;
  GrdTensor *t = node->value;
  grd_vk_value_drop (v);
  grd_vk_value_set_shape (v, t->dtype, t->rank, t->shape);
  if (!grd_vk_value_own (fn, v, error))
    return FALSE;
  Upload u = { grd_tensor_ref (t), v->buf };
  g_array_append_val (tr->up, u);
  if (fn->seen[i])
    grd_tensor_unref (fn->seen[i]);
  fn->seen[i] = grd_tensor_ref (t);
  fn->dirty[i] = FALSE;
  Leaf l = { fn, i };
  g_array_append_val (tr->leaves, l);
  return TRUE;
}

/* This call's leaves, runtime shapes and buffers of fn (its inputs' shapes
 * set); the nested functions of the branches and bodies it runs too. */
static gboolean
prepare_values (GrdVkFunction *fn, Transfers *tr, GError **error)
{
  for (gint i = 0; i < fn->n_nodes; i++) {
    GrdNode *node = grd_vk_node_at (fn, i);
    if (fn->needed[i] && (node->kind == GRD_NODE_CONSTANT || node->kind == GRD_NODE_SHARED)
        && !prepare_leaf (fn, i, tr, error))
      return FALSE;
  }
  /* a nested function's inputs are copied in on the device: buffers of their own */
  for (guint k = 0; fn->nested && k < fn->inputs->len; k++) {
    GrdRef r = g_array_index (fn->inputs, GrdRef, k);
    if (fn->needed[r.node] && !grd_vk_value_own (fn, grd_vk_slot (fn, r), error))
      return FALSE;
  }
  if (!infer_shapes (fn, tr, error))
    return FALSE;
  /* Buffers for what the steps make; aliases share their input's. */
  for (guint s = 0; s < fn->steps->len; s++) {
    GrdVkStep *st = &g_array_index (fn->steps, GrdVkStep, s);
    GrdNode *node = grd_vk_node_at (fn, st->node);
    GrdVkValue *v = grd_vk_slot (fn, (GrdRef) { st->node, 0 });
    if (st->kind == GRD_VK_STEP_ALIAS) {
      GrdVkValue *in = grd_vk_slot (fn, node->inputs[0]);
      grd_vk_value_drop (v);
      v->buf = grd_vk_buffer_ref (in->buf);
      v->borrowed = TRUE;
      continue;
    }
    if (!grd_vk_value_own (fn, v, error))
      return FALSE;
    /* every output of a scan or ifelse */
    for (gint k = 1; k < node->n_outputs; k++)
      if (!grd_vk_value_own (fn, grd_vk_slot (fn, (GrdRef) { st->node, k }), error))
        return FALSE;
    if (st->kind == GRD_VK_STEP_HOST) {
      Upload u = { grd_tensor_ref (fn->host_val[st->node]), v->buf };
      g_array_append_val (tr->up, u);
    }
    if (st->kind == GRD_VK_STEP_COUNT) {
      GrdTensor *t = NULL;
      GrdVkRec rec = { .fn = fn };
      if (!grd_vk_step_count (&rec, st, &t, error))
        return FALSE;
      Upload u = { t, v->buf };
      g_array_append_val (tr->up, u);
    }
  }
  return TRUE;
}

/* Rows of a sequence-like value: its shape without axis 0. */
static void
row_shape (const GrdVkValue *v, gint *rank, gint64 *shape)
{
  *rank = v->rank - 1;
  memcpy (shape, v->shape + 1, sizeof (gint64) * MAX (*rank, 0));
}

static gboolean
same_shape (gint ra, const gint64 *a, gint rb, const gint64 *b)
{
  if (ra != rb)
    return FALSE;
  for (gint d = 0; d < ra; d++)
    if (a[d] != b[d])
      return FALSE;
  return TRUE;
}

/* The shapes of a scan, ifelse or tap node: the step count or branch from
 * the host's scalar, the body's or branch's shapes from its own inference
 * (its buffers and uploads prepared on the way). */
static gboolean
nested_shapes (GrdVkFunction *fn, GrdVkStep *st, Transfers *tr, GError **error)
{
  GrdNode *node = grd_vk_node_at (fn, st->node);
  gint j = grd_vk_scalar_input (node);
  gint64 scalar = 0;
  if (j >= 0 && !grd_vk_known_scalar (fn, node, j, &scalar, error))
    return FALSE;
  if (st->kind == GRD_VK_STEP_TAP_GATHER || st->kind == GRD_VK_STEP_TAP_SCATTER) {
    gboolean scatter = st->kind == GRD_VK_STEP_TAP_SCATTER;
    GrdVkValue *seq = grd_vk_slot (fn, node->inputs[scatter ? 1 : 0]);
    const GrdAttrs *a = &node->attrs;
    gint64 len = seq->rank ? seq->shape[0] : 0;
    gint64 t = j >= 0 ? scalar : a->end[0] != GRD_SLICE_NONE ? a->end[0] : len - a->step[0];
    if (seq->rank < 1 || t < 0 || a->begin[0] + t > len) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "node '%s': a sequence of %" G_GINT64_FORMAT
                   " rows is too short for %" G_GINT64_FORMAT " steps with its taps", node->id,
                   len, MAX (t, 0));
      return FALSE;
    }
    st->n_steps = t;
    GrdVkValue *out = grd_vk_slot (fn, (GrdRef) { st->node, 0 });
    if (scatter) {
      GrdVkValue *g = grd_vk_slot (fn, node->inputs[0]);
      if (g->rank != seq->rank || g->shape[0] != t) {
        g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "node '%s': gradient of %" G_GINT64_FORMAT
                     " rows for %" G_GINT64_FORMAT " steps", node->id, g->rank ? g->shape[0] : 0, t);
        return FALSE;
      }
      grd_vk_value_set_shape (out, g->dtype, seq->rank, seq->shape);
    } else {
      gint64 shape[GRD_MAX_RANK];
      memcpy (shape, seq->shape, sizeof shape);
      shape[0] = t;
      grd_vk_value_set_shape (out, seq->dtype, seq->rank, shape);
    }
    return TRUE;
  }
  if (st->kind == GRD_VK_STEP_IFELSE) {
    st->taken = scalar != 0 ? 0 : 1;
    GrdVkFunction *sub = st->sub[st->taken];
    for (guint k = 0; k < sub->inputs->len; k++) {
      GrdVkValue *v = grd_vk_slot (fn, node->inputs[1 + k]);
      grd_vk_value_set_shape (grd_vk_slot (sub, g_array_index (sub->inputs, GrdRef, k)), v->dtype,
                              v->rank, v->shape);
    }
    if (!prepare_values (sub, tr, error))
      return FALSE;
    for (gint o = 0; o < node->n_outputs; o++) {
      GrdVkValue *v = grd_vk_slot (sub, g_array_index (sub->outputs, GrdRef, o));
      grd_vk_value_set_shape (grd_vk_slot (fn, (GrdRef) { st->node, o }), node->types[o].dtype,
                              v->rank, v->shape);
    }
    return TRUE;
  }
  /* a scan */
  GrdScanView l;
  grd_scan_view (node, &l);
  GrdVkFunction *sub = st->sub[0];
  gint fs = l.has_n_steps_input ? 1 : 0, fi = fs + l.n_seq, fm = fi + l.n_state;
  gint64 t = l.has_n_steps_input ? scalar : l.n_steps;
  for (gint q = 0; t < 0 && !l.has_n_steps_input && q < l.n_seq; q++) {
    gint64 len = grd_vk_slot (fn, node->inputs[fs + q])->shape[0];
    t = q == 0 ? len : MIN (t, len);
  }
  if (t < 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE, "node '%s': n_steps is %" G_GINT64_FORMAT
                 " (it must be at least 0)", node->id, t);
    return FALSE;
  }
  for (gint q = 0; q < l.n_seq; q++)
    if (grd_vk_slot (fn, node->inputs[fs + q])->shape[0] < t) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "node '%s': sequence %d has %"
                   G_GINT64_FORMAT " rows for %" G_GINT64_FORMAT " steps", node->id, q,
                   grd_vk_slot (fn, node->inputs[fs + q])->shape[0], t);
      return FALSE;
    }
  /* Every step is recorded into the call's one command buffer (docs/scan.md):
   * a bound keeps that command memory finite. */
  if (t > GRD_VK_SCAN_MAX_STEPS) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "node '%s': a scan of %" G_GINT64_FORMAT
                 " steps is more than the Vulkan back end records in one call (%d); run it on the CPU",
                 node->id, t, GRD_VK_SCAN_MAX_STEPS);
    return FALSE;
  }
  st->n_steps = t;
  /* the body's inputs: rows of the sequences, rows of the fed-back outputs, non-sequences */
  gint bi = 0;
  for (gint q = 0; q < l.n_seq; q++, bi++) {
    GrdVkValue *v = grd_vk_slot (fn, node->inputs[fs + q]);
    gint rank;
    gint64 shape[GRD_MAX_RANK];
    row_shape (v, &rank, shape);
    grd_vk_value_set_shape (grd_vk_slot (sub, l.body_inputs[bi]), v->dtype, rank, shape);
  }
  for (gint o = 0, k = 0; o < l.n_out; o++) {
    if (!l.out_ntaps[o])
      continue;
    GrdVkValue *init = grd_vk_slot (fn, node->inputs[fi + k++]);
    gint lag = 0;
    for (gint m = 0; m < l.out_ntaps[o]; m++)
      lag = MAX (lag, -l.out_taps[o * GRD_SCAN_MAX_TAPS + m]);
    gint rank = init->rank;
    gint64 shape[GRD_MAX_RANK];
    memcpy (shape, init->shape, sizeof shape);
    if (lag > 1)
      row_shape (init, &rank, shape);
    for (gint m = 0; m < l.out_ntaps[o]; m++, bi++)
      grd_vk_value_set_shape (grd_vk_slot (sub, l.body_inputs[bi]), init->dtype, rank, shape);
  }
  for (gint m = 0; m < l.n_nonseq; m++, bi++) {
    GrdVkValue *v = grd_vk_slot (fn, node->inputs[fm + m]);
    grd_vk_value_set_shape (grd_vk_slot (sub, l.body_inputs[bi]), v->dtype, v->rank, v->shape);
  }
  if (!prepare_values (sub, tr, error))
    return FALSE;
  bi = l.n_seq;
  for (gint o = 0; o < l.n_out; o++) {
    GrdVkValue *y = grd_vk_slot (sub, g_array_index (sub->outputs, GrdRef, o));
    if (l.out_ntaps[o]) {
      GrdVkValue *in = grd_vk_slot (sub, l.body_inputs[bi]);
      bi += l.out_ntaps[o];
      if (!same_shape (y->rank, y->shape, in->rank, in->shape)) {
        GrdType a, b;
        grd_type_set (&a, y->dtype, y->rank, y->shape);
        grd_type_set (&b, in->dtype, in->rank, in->shape);
        g_autofree char *got = grd_type_describe (&a);
        g_autofree char *want = grd_type_describe (&b);
        g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "node '%s': body output %d is %s but its "
                     "initial value gives %s (a fed-back output keeps its shape)", node->id, o,
                     got, want);
        return FALSE;
      }
    }
    gint64 shape[GRD_MAX_RANK];
    shape[0] = l.last_only && l.last_only[o] ? 1 : t;
    memcpy (shape + 1, y->shape, sizeof (gint64) * y->rank);
    grd_vk_value_set_shape (grd_vk_slot (fn, (GrdRef) { st->node, o }), y->dtype, y->rank + 1,
                            shape);
  }
  return TRUE;
}

static void
transfers_init (Transfers *tr)
{
  tr->up = g_array_new (FALSE, FALSE, sizeof (Upload));
  g_array_set_clear_func (tr->up, (GDestroyNotify) upload_clear);
  tr->down = g_ptr_array_new ();
  tr->down_at = g_array_new (FALSE, FALSE, sizeof (VkDeviceSize));
  tr->leaves = g_array_new (FALSE, FALSE, sizeof (Leaf));
}

static void
transfers_clear (Transfers *tr)
{
  g_array_unref (tr->up);
  g_ptr_array_unref (tr->down);
  g_array_unref (tr->down_at);
  g_array_unref (tr->leaves);
}

/* After a call: borrowed buffers and host values, in the nested functions too. */
static void
release_borrowed (GrdVkFunction *fn)
{
  for (gint s = 0; s < fn->n_slots; s++)
    if (fn->values[s].borrowed)
      grd_vk_value_drop (&fn->values[s]);
  for (gint i = 0; i < fn->n_nodes; i++)
    g_clear_pointer (&fn->host_val[i], grd_tensor_unref);
  for (guint s = 0; s < fn->steps->len; s++)
    for (gint b = 0; b < 2; b++)
      if (g_array_index (fn->steps, GrdVkStep, s).sub[b])
        release_borrowed (g_array_index (fn->steps, GrdVkStep, s).sub[b]);
}

gboolean
grd_vk_function_call (GrdVkFunction *fn, GrdTensor *const *inputs, GrdTensor **outputs,
                      GError **error)
{
  Transfers tr;
  transfers_init (&tr);
  gboolean ok = FALSE;
  g_autoptr (GPtrArray) host = g_ptr_array_new_with_free_func ((GDestroyNotify) grd_tensor_unref);
  g_autoptr (GByteArray) key = NULL;
  gint n = fn->n_nodes;
  gint64 bytes_before = fn->ctx->n_bytes;

  /* step counts and conditions only the device computes: a submission of their own first */
  if (fn->pre) {
    gboolean dirty = FALSE;
    for (gint i = 0; i < n; i++)
      dirty |= fn->dirty[i];
    /* `pre` reads shared variables from the host: this function's updates go back first */
    if (dirty && !grd_vk_function_sync (fn, error))
      goto out;
    guint np = fn->pre_refs->len;
    GrdTensor *pv[np + 1];
    if (!grd_vk_function_call (fn->pre, inputs, pv, error))
      goto out;
    for (guint k = 0; k < np; k++) {
      gint i = g_array_index (fn->pre_refs, GrdRef, k).node;
      g_clear_pointer (&fn->host_val[i], grd_tensor_unref);
      fn->host_val[i] = pv[k];
    }
  }

  for (guint i = 0; i < fn->inputs->len; i++) {
    GrdRef r = g_array_index (fn->inputs, GrdRef, i);
    GrdNode *node = grd_vk_node_at (fn, r.node);
    GrdTensor *in = inputs[i];
    if (!in) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE, "input '%s': no value given", node->id);
      goto out;
    }
    if (!can_feed (in->dtype, node->types[0].dtype) || !grd_type_accepts (&node->types[0], in)) {
      g_autofree char *want = grd_type_describe (&node->types[0]);
      g_autofree char *got = grd_tensor_describe (in);
      g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE, "input '%s': expected %s, got %s",
                   node->id, want, got);
      goto out;
    }
    if (!fn->needed[r.node])
      continue;
    GrdVkValue *v = grd_vk_slot (fn, r);
    grd_vk_value_set_shape (v, node->types[0].dtype, in->rank, in->shape);
    if (!grd_vk_value_own (fn, v, error))
      goto out;
    Upload u = { in->dtype == node->types[0].dtype ? grd_tensor_ref (in)
                                                   : grd_tensor_cast (in, node->types[0].dtype),
                 v->buf };
    g_array_append_val (tr.up, u);
    g_clear_pointer (&fn->host_val[r.node], grd_tensor_unref);
    fn->host_val[r.node] = grd_tensor_ref (u.t);
  }
  if (!prepare_values (fn, &tr, error))
    goto out;
  for (guint u = 0; u < fn->updates->len; u++) {
    GrdUpdate *up = &g_array_index (fn->updates, GrdUpdate, u);
    GrdVkValue *sv = grd_vk_slot (fn, up->shared), *vv = grd_vk_slot (fn, up->value);
    gboolean same = sv->rank == vv->rank;
    for (gint d = 0; same && d < sv->rank; d++)
      same = sv->shape[d] == vv->shape[d];
    if (!same) {
      g_autofree char *want = grd_tensor_describe (grd_vk_leaf_node (fn, up->shared.node)->value);
      GrdType t;
      grd_type_set (&t, vv->dtype, vv->rank, vv->shape);
      g_autofree char *got = grd_type_describe (&t);
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                   "update of shared variable '%s' by node '%s': expected %s, got %s",
                   grd_vk_node_at (fn, up->shared.node)->id, grd_vk_node_at (fn, up->value.node)->id, want,
                   got);
      goto out;
    }
  }
  for (guint o = 0; o < fn->outputs->len; o++)
    g_ptr_array_add (tr.down, grd_vk_slot (fn, g_array_index (fn->outputs, GrdRef, o)));
  /* the leaves' shapes decide every other shape: the same ones replay the last call */
  key = g_byte_array_new ();
  for (gint i = 0; i < n; i++) {
    GrdNode *node = grd_vk_node_at (fn, i);
    if (!fn->needed[i] || node->kind == GRD_NODE_OP || node->kind == GRD_NODE_GRAD)
      continue;
    GrdVkValue *v = &fn->values[fn->slot_base[i]];
    g_byte_array_append (key, (const guint8 *) &v->rank, sizeof v->rank);
    g_byte_array_append (key, (const guint8 *) v->shape, sizeof (gint64) * v->rank);
  }
  /* arange's length is a value, not a shape */
  for (gint i = 0; i < n; i++)
    if (fn->host[i]) {
      GrdTensor *t = fn->host_val[i];
      g_byte_array_append (key, (const guint8 *) &t->rank, sizeof t->rank);
      g_byte_array_append (key, (const guint8 *) t->shape, sizeof (gint64) * t->rank);
    }
  gboolean replay = fn->replay && fn->replay_key && fn->replay_key->len == key->len
                    && memcmp (fn->replay_key->data, key->data, key->len) == 0;
  if (!run_submission (fn, &tr, fn->steps, replay, host, error))
    goto out;
  if (!replay) {
    g_clear_pointer (&fn->replay_key, g_byte_array_unref);
    fn->replay_key = g_steal_pointer (&key);
  }
  for (guint o = 0; o < fn->outputs->len; o++)
    outputs[o] = grd_tensor_ref (host->pdata[o]);
  /* Updates: every new buffer first, then the swap. */
  {
    guint nu = fn->updates->len;
    GrdVkBuffer *fresh[nu + 1];
    for (guint u = 0; u < nu; u++)
      fresh[u] = grd_vk_buffer_ref (grd_vk_slot (fn, g_array_index (fn->updates, GrdUpdate, u).value)->buf);
    for (guint u = 0; u < nu; u++) {
      GrdUpdate *up = &g_array_index (fn->updates, GrdUpdate, u);
      GrdVkValue *sv = grd_vk_slot (fn, up->shared);
      GrdVkValue *vv = grd_vk_slot (fn, up->value);
      GrdVkBuffer *old = sv->buf;
      sv->buf = fresh[u];
      fn->dirty[up->shared.node] = TRUE;
      /* double buffering: the value's slot takes the old buffer, if it is its own */
      if (!vv->borrowed && grd_vk_node_at (fn, up->value.node)->kind == GRD_NODE_OP && vv->buf == fresh[u]
          && old && old->ref_count == 1) {
        grd_vk_buffer_unref (vv->buf);
        vv->buf = old;
      } else {
        grd_vk_buffer_unref (old);
      }
    }
  }
  ok = TRUE;
out:
  /* a failed call uploaded nothing: those leaves go up again next time */
  for (guint k = 0; !ok && k < tr.leaves->len; k++) {
    Leaf *l = &g_array_index (tr.leaves, Leaf, k);
    g_clear_pointer (&l->fn->seen[l->node], grd_tensor_unref);
    grd_vk_value_drop (&l->fn->values[l->fn->slot_base[l->node]]);
  }
  release_borrowed (fn);
  transfers_clear (&tr);
  fn->call_bytes = fn->ctx->n_bytes - bytes_before;
  return ok;
}

gboolean
grd_vk_function_sync (GrdVkFunction *fn, GError **error)
{
  gint n = fn->n_nodes;
  Transfers tr;
  transfers_init (&tr);
  g_autoptr (GArray) which = g_array_new (FALSE, FALSE, sizeof (gint));
  for (gint i = 0; i < n; i++)
    if (fn->dirty[i]) {
      g_ptr_array_add (tr.down, &fn->values[fn->slot_base[i]]);
      g_array_append_val (which, i);
    }
  gboolean ok = TRUE;
  if (which->len > 0) {
    g_autoptr (GPtrArray) host = g_ptr_array_new_with_free_func ((GDestroyNotify) grd_tensor_unref);
    ok = run_submission (fn, &tr, NULL, FALSE, host, error);
    for (guint k = 0; ok && k < which->len; k++) {
      gint i = g_array_index (which, gint, k);
      GrdNode *node = grd_vk_leaf_node (fn, i);
      grd_tensor_unref (node->value);
      node->value = grd_tensor_ref (host->pdata[k]);
      if (fn->seen[i])
        grd_tensor_unref (fn->seen[i]);
      fn->seen[i] = grd_tensor_ref (host->pdata[k]);
      fn->dirty[i] = FALSE;
    }
  }
  transfers_clear (&tr);
  return ok;
}
