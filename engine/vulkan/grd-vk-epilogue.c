/* grd-vk-epilogue.c: a conv with its elementwise consumers as its epilogue.
 *
 * The planner (grd-vk-function.c, plan_epilogues) gives a conv2d or
 * _conv2d_grad_input whose result has one reader, an elementwise group of
 * the same dtype, to that group's step: the tiled kernel
 * (grd-vk-conv-tiled.c) then applies the group's GLSL, the one the
 * elementwise codegen wrote for the group, to each result in registers and
 * stores the group's result. One dispatch instead of two, and the conv's
 * result never reaches memory. When a call's shapes do not allow it (the
 * group's result shaped otherwise than the conv's, a leaf that does not
 * broadcast to it) or GRADUS_VULKAN_CONV=simple, the step records the conv
 * into a temporary and the group after it, as unfused. */
#include "grd-vk-function-private.h"
#include "grd-vk-conv-tiled.h"

#include <string.h>

gboolean
grd_vk_epilogue_op (const char *op)
{
  return g_str_equal (op, "conv2d") || g_str_equal (op, "_conv2d_grad_input");
}

static gboolean
same_shape (const GrdVkValue *a, const GrdVkValue *b)
{
  if (a->rank != b->rank)
    return FALSE;
  for (gint d = 0; d < a->rank; d++)
    if (a->shape[d] != b->shape[d])
      return FALSE;
  return TRUE;
}

/* v broadcasts to `to` without growing it (NumPy rules). */
static gboolean
broadcasts (const GrdVkValue *v, const GrdVkValue *to)
{
  if (v->rank > to->rank)
    return FALSE;
  for (gint j = 0; j < v->rank; j++) {
    gint64 d = to->shape[to->rank - v->rank + j];
    if (v->shape[j] != 1 && v->shape[j] != d)
      return FALSE;
  }
  return TRUE;
}

gboolean
grd_vk_step_conv_fused (GrdVkRec *r, GrdVkStep *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *conv = grd_vk_node_at (fn, st->producer);
  GrdVkValue *cv = grd_vk_slot (fn, (GrdRef) { st->producer, 0 });
  GrdVkValue *out = grd_vk_slot (fn, (GrdRef) { st->node, 0 });
  gint self = -1;
  gboolean fuse = out->dtype == cv->dtype && cv->rank == 4 && same_shape (out, cv)
                  && g_strcmp0 (g_getenv ("GRADUS_VULKAN_CONV"), "simple") != 0;
  for (guint k = 0; k < st->leaves->len; k++) {
    GrdRef ref = g_array_index (st->leaves, GrdRef, k);
    if (ref.node == st->producer)
      self = (gint) k;
    else
      fuse = fuse && broadcasts (grd_vk_slot (fn, ref), cv);
  }
  g_return_val_if_fail (self >= 0, FALSE);
  GrdVkExtCall call;
  if (fuse) {
    GrdVkEw e = { .rank = cv->rank, .n = st->leaves->len, .body = st->body };
    memcpy (e.shape, cv->shape, sizeof e.shape);
    for (guint k = 0; k < st->leaves->len; k++)
      if ((gint) k != self)
        grd_vk_ew_leaf_broadcast (&e, k, grd_vk_slot (fn, g_array_index (st->leaves, GrdRef, k)));
    e.dt[self] = cv->dtype;
    grd_vk_ew_out_contiguous (&e, out);
    grd_vk_ext_call_init (r, conv, out->buf, cv, &call);
    if (!grd_vk_conv_record_epilogue (&call, &e, self, error)) {
      g_prefix_error (error, "node '%s' (%s): ", conv->id, conv->op->name);
      return FALSE;
    }
    return TRUE;
  }
  /* unfused: the conv into a temporary of this submission, then the group */
  VkDeviceSize bytes = MAX ((VkDeviceSize) cv->size * grd_vk_device_size (cv->dtype), 16);
  GrdVkBuffer *tmp = grd_vk_rec_temp (r, bytes, error);
  if (!tmp)
    return FALSE;
  grd_vk_ext_call_init (r, conv, tmp, cv, &call);
  if (!grd_vk_ext_record (&call, error)) {
    g_prefix_error (error, "node '%s' (%s): ", conv->id, conv->op->name);
    return FALSE;
  }
  GrdVkValue held = *cv;
  held.buf = tmp;
  GrdVkEw e = { .rank = out->rank, .n = st->leaves->len, .body = st->body };
  memcpy (e.shape, out->shape, sizeof e.shape);
  for (guint k = 0; k < st->leaves->len; k++)
    grd_vk_ew_leaf_broadcast (&e, k, (gint) k == self ? &held
                                     : grd_vk_slot (fn, g_array_index (st->leaves, GrdRef, k)));
  grd_vk_ew_out_contiguous (&e, out);
  return grd_vk_ew_run (r, &e, error);
}
