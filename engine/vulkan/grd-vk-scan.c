/* grd-vk-scan.c: scan and ifelse on Vulkan, kept on the device.
 *
 * A scan's body and each ifelse branch are Vulkan functions of their own
 * (nested: their inputs are never known on the host). A scan step copies the
 * sequences' rows and the fed-back outputs' rows into the body's input
 * buffers (vkCmdCopyBuffer, device to device), records the body's dispatches,
 * and copies the body's outputs into their rows of the stacked outputs: the
 * whole loop is one submission, with barriers between the phases, and
 * nothing goes back to the host per step. Random nodes of the body take a
 * new draw number each time they are recorded, once per step, as on the CPU.
 * An ifelse records the taken branch only; the other's kernels are not even
 * compiled. The step count or condition is known before recording: from the
 * host (inputs, constants, shapes and scalar arithmetic on them) or, when
 * only the device computes it, from the function's `pre` submission. */
#include "grd-vk-function-private.h"

#include <string.h>

gint
grd_vk_scalar_input (const GrdNode *node)
{
  const char *op = node->op->name;
  GrdScanView l;
  if (!strcmp (op, "ifelse"))
    return 0;
  if (grd_scan_view (node, &l))
    return l.has_n_steps_input ? 0 : -1;
  if (!strcmp (op, "_tap_gather"))
    return node->n_inputs > 1 ? 1 : -1;
  if (!strcmp (op, "_tap_scatter"))
    return node->n_inputs > 2 ? 2 : -1;
  return -1;
}

gboolean
grd_vk_known_scalar (GrdVkFunction *fn, const GrdNode *node, gint j, gint64 *value,
                     GError **error)
{
  GrdRef r = node->inputs[j];
  GrdNode *src = grd_vk_node_at (fn, r.node);
  GrdTensor *t = src->kind == GRD_NODE_CONSTANT ? src->value : fn->host_val[r.node];
  if (!t || r.output != 0 || t->size < 1) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "node '%s' (%s): input %d ('%s') is "
                 "not known before the call", node->id, node->op->name, j, src->id);
    return FALSE;
  }
  *value = (gint64) grd_tensor_get (t, 0);
  return TRUE;
}

/* Everything recorded so far is done before what follows: copies and
 * dispatches, reads and writes (the loop rewrites what the last step read). */
void
grd_vk_full_barrier (GrdVkRec *r)
{
  grd_vk_barrier (r->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                  VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT
                  | VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                  VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT
                  | VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
  g_ptr_array_set_size (r->written, 0);
}

static VkDeviceSize
bytes_of (const GrdVkValue *v, gint64 elements)
{
  return (VkDeviceSize) elements * grd_vk_device_size (v->dtype);
}

/* `n` bytes from src at byte `from` to dst at byte `to`. */
static void
copy (GrdVkRec *r, GrdVkBuffer *src, VkDeviceSize from, GrdVkBuffer *dst, VkDeviceSize to,
      VkDeviceSize n)
{
  if (n == 0)
    return;
  VkBufferCopy c = { from, to, n };
  vkCmdCopyBuffer (r->cmd, src->buffer, dst->buffer, 1, &c);
}

/* Row `row` of a value (its shape without axis 0) in bytes. */
static VkDeviceSize
row_bytes (const GrdVkValue *v)
{
  return v->rank > 0 && v->shape[0] > 0 ? bytes_of (v, v->size / v->shape[0]) : 0;
}

static gint
max_lag (const GrdScanView *l, gint o)
{
  return grd_scan_max_lag (l->out_ntaps, l->out_taps, o);
}

gboolean
grd_vk_step_scan (GrdVkRec *r, GrdVkStep *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = grd_vk_node_at (fn, st->node);
  GrdScanView l;
  grd_scan_view (node, &l);
  GrdVkFunction *sub = st->sub[0];
  gint64 T = st->n_steps;
  gint fs = l.has_n_steps_input ? 1 : 0, fi = fs + l.n_seq, fm = fi + l.n_state;
  /* the buffers of the body change with the step: never replayed */
  r->record_ok = FALSE;
  grd_vk_full_barrier (r);
  /* non-sequences: the same at every step, copied once */
  gint nb0 = l.n_body_inputs - l.n_nonseq;
  for (gint m = 0; m < l.n_nonseq; m++) {
    GrdVkValue *dst = grd_vk_slot (sub, l.body_inputs[nb0 + m]);
    GrdVkValue *src = grd_vk_slot (fn, node->inputs[fm + m]);
    if (sub->needed[l.body_inputs[nb0 + m].node])
      copy (r, src->buf, 0, dst->buf, 0, bytes_of (src, src->size));
  }
  if (T == 0) {
    /* no step ran: a carry keeps its initial value */
    for (gint o = 0, k = 0; o < l.n_out; o++) {
      if (!l.out_ntaps[o])
        continue;
      GrdVkValue *init = grd_vk_slot (fn, node->inputs[fi + k++]);
      if (l.last_only && l.last_only[o])
        copy (r, init->buf, 0, grd_vk_slot (fn, (GrdRef) { st->node, o })->buf, 0,
              bytes_of (init, init->size));
    }
    grd_vk_full_barrier (r);
    return TRUE;
  }
  g_autoptr (GPtrArray) written = g_ptr_array_new ();
  /* The body's temporaries: the same ones at every step (a step asks for the
   * same sizes in the same order; the full barriers between steps order the
   * uses), so a call's memory does not grow with the step count. An inner
   * scan takes the places after its enclosing body's. */
  g_autoptr (GPtrArray) own_bufs = r->pool ? NULL : g_ptr_array_new ();
  GrdVkTempPool own = { own_bufs, 0 }, *pool = r->pool ? r->pool : &own;
  guint base = pool->next;
  GrdVkRec sr = { .fn = sub, .cmd = r->cmd, .written = written, .temps = r->temps, .pool = pool };
  gboolean ok = TRUE;
  for (gint64 i = 0; ok && i < T; i++) {
    gint64 pos = l.reverse ? T - 1 - i : i;
    gint bi = 0;
    pool->next = base;
    /* a max pool's argmax is this step's (grd-vk-conv.c) */
    g_clear_pointer (&sr.kept, g_hash_table_unref);
    for (gint q = 0; q < l.n_seq; q++, bi++) {
      GrdVkValue *seq = grd_vk_slot (fn, node->inputs[fs + q]);
      GrdVkValue *dst = grd_vk_slot (sub, l.body_inputs[bi]);
      VkDeviceSize rb = row_bytes (seq);
      if (sub->needed[l.body_inputs[bi].node])
        copy (r, seq->buf, (VkDeviceSize) pos * rb, dst->buf, 0, rb);
    }
    for (gint o = 0, k = 0; o < l.n_out; o++) {
      if (!l.out_ntaps[o])
        continue;
      GrdVkValue *init = grd_vk_slot (fn, node->inputs[fi + k++]);
      GrdVkValue *out = grd_vk_slot (fn, (GrdRef) { st->node, o });
      gint lag = max_lag (&l, o);
      for (gint m = 0; m < l.out_ntaps[o]; m++, bi++) {
        GrdVkValue *dst = grd_vk_slot (sub, l.body_inputs[bi]);
        if (!sub->needed[l.body_inputs[bi].node])
          continue;
        VkDeviceSize n = bytes_of (dst, dst->size);
        gint64 from = i + l.out_taps[o * GRD_SCAN_MAX_TAPS + m];
        if (from >= 0) {
          gint64 row = l.last_only && l.last_only[o] ? 0 : l.reverse ? T - 1 - from : from;
          copy (r, out->buf, (VkDeviceSize) row * n, dst->buf, 0, n);
        } else if (lag > 1) {
          copy (r, init->buf, (VkDeviceSize) (lag + from) * n, dst->buf, 0, n);
        } else {
          copy (r, init->buf, 0, dst->buf, 0, n);
        }
      }
    }
    grd_vk_full_barrier (r);
    if (!grd_vk_record_steps (&sr, sub->steps, error)) {
      g_prefix_error (error, "step %" G_GINT64_FORMAT ": ", i);
      ok = FALSE;
      break;
    }
    grd_vk_full_barrier (&sr);
    for (gint o = 0; o < l.n_out; o++) {
      GrdVkValue *y = grd_vk_slot (sub, g_array_index (sub->outputs, GrdRef, o));
      GrdVkValue *out = grd_vk_slot (fn, (GrdRef) { st->node, o });
      gint64 row = l.last_only && l.last_only[o] ? 0 : pos;
      VkDeviceSize n = bytes_of (y, y->size);
      copy (r, y->buf, 0, out->buf, (VkDeviceSize) row * n, n);
    }
    grd_vk_full_barrier (r);
  }
  g_clear_pointer (&sr.kept, g_hash_table_unref);
  return ok;
}

gboolean
grd_vk_step_ifelse (GrdVkRec *r, GrdVkStep *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = grd_vk_node_at (fn, st->node);
  GrdVkFunction *sub = st->sub[st->taken];
  /* the taken branch is this call's: never replayed */
  r->record_ok = FALSE;
  grd_vk_full_barrier (r);
  for (guint k = 0; k < sub->inputs->len; k++) {
    GrdRef in = g_array_index (sub->inputs, GrdRef, k);
    GrdVkValue *src = grd_vk_slot (fn, node->inputs[1 + k]);
    if (sub->needed[in.node])
      copy (r, src->buf, 0, grd_vk_slot (sub, in)->buf, 0, bytes_of (src, src->size));
  }
  grd_vk_full_barrier (r);
  g_autoptr (GPtrArray) written = g_ptr_array_new ();
  GrdVkRec sr = { .fn = sub, .cmd = r->cmd, .written = written, .temps = r->temps,
                  .pool = r->pool };
  gboolean ok = grd_vk_record_steps (&sr, sub->steps, error);
  g_clear_pointer (&sr.kept, g_hash_table_unref);
  if (!ok) {
    g_prefix_error (error, "the %s branch: ", st->taken ? "else" : "then");
    return FALSE;
  }
  grd_vk_full_barrier (&sr);
  for (gint o = 0; o < node->n_outputs; o++) {
    GrdVkValue *y = grd_vk_slot (sub, g_array_index (sub->outputs, GrdRef, o));
    copy (r, y->buf, 0, grd_vk_slot (fn, (GrdRef) { st->node, o })->buf, 0,
          bytes_of (y, y->size));
  }
  grd_vk_full_barrier (r);
  return TRUE;
}

/* _tap_gather: row t of the result is row begin + t of the sequence (from
 * its end when keepdims); _tap_scatter puts g's rows back there, zeros
 * elsewhere (the rows are distinct, so nothing adds up). */
gboolean
grd_vk_step_tap (GrdVkRec *r, GrdVkStep *st, gboolean scatter, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = grd_vk_node_at (fn, st->node);
  const GrdAttrs *a = &node->attrs;
  GrdVkValue *seq = grd_vk_slot (fn, node->inputs[scatter ? 1 : 0]);
  GrdVkValue *src = grd_vk_slot (fn, node->inputs[0]);
  GrdVkValue *out = grd_vk_slot (fn, (GrdRef) { st->node, 0 });
  gint64 T = st->n_steps, len = seq->shape[0];
  VkDeviceSize rb = row_bytes (scatter ? out : src);
  /* counted rows may differ per call */
  r->record_ok = FALSE;
  grd_vk_full_barrier (r);
  if (scatter && out->size > 0)
    vkCmdFillBuffer (r->cmd, out->buf->buffer, 0, VK_WHOLE_SIZE, 0);
  if (scatter)
    grd_vk_full_barrier (r);
  if (rb > 0 && T > 0) {
    gint64 n_regions = a->keepdims ? T : 1;
    g_autofree VkBufferCopy *c = g_new (VkBufferCopy, n_regions);
    for (gint64 t = 0; t < n_regions; t++) {
      gint64 s = a->begin[0] + t;
      if (a->keepdims)
        s = len - 1 - s;
      VkDeviceSize seq_at = (VkDeviceSize) s * rb, dense_at = (VkDeviceSize) t * rb;
      VkDeviceSize n = a->keepdims ? rb : (VkDeviceSize) T * rb;
      c[t] = scatter ? (VkBufferCopy) { dense_at, seq_at, n } : (VkBufferCopy) { seq_at, dense_at, n };
    }
    vkCmdCopyBuffer (r->cmd, src->buf->buffer, out->buf->buffer, (guint32) n_regions, c);
  }
  grd_vk_full_barrier (r);
  return TRUE;
}
