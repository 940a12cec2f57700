/* grd-vk-layout.c: ops that move elements: transpose, dimshuffle and slice
 * views, concatenation and their gradients. */
#include "grd-vk-function-private.h"

#include <string.h>

/* Python's slice.indices: the first index and the step of axis d. */
static void
slice_start (const GrdAttrs *a, gint d, gint64 len, gint64 *start, gint64 *step)
{
  gint64 s = a->step[d] == GRD_SLICE_NONE ? 1 : a->step[d];
  gint64 b = a->begin[d];
  if (s > 0)
    *start = b == GRD_SLICE_NONE ? 0 : b < 0 ? MAX (b + len, 0) : MIN (b, len);
  else
    *start = b == GRD_SLICE_NONE ? len - 1 : b < 0 ? MAX (b + len, -1) : MIN (b, len - 1);
  *step = s;
}

/* The view of `in` that a transpose, dimshuffle or slice node reads: offset
 * and strides over the output's shape. */
void
grd_vk_view_of (const GrdNode *node, const GrdVkValue *in, const GrdVkValue *out, gint64 *off,
                gint64 *st)
{
  gint64 cs[GRD_MAX_RANK];
  grd_vk_contiguous (in->rank, in->shape, cs);
  const GrdAttrs *a = &node->attrs;
  *off = 0;
  if (!strcmp (node->op->name, "transpose")) {
    for (gint d = 0; d < out->rank; d++)
      st[d] = cs[a->n_perm > 0 ? (a->perm[d] + in->rank) % in->rank : in->rank - 1 - d];
  } else if (!strcmp (node->op->name, "dimshuffle")) {
    for (gint d = 0; d < out->rank; d++)
      st[d] = a->pattern[d] >= 0 ? cs[a->pattern[d]] : 0;
  } else { /* slice */
    for (gint d = 0; d < in->rank; d++) {
      gint64 start = 0, step = 1;
      if (d < a->n_slice)
        slice_start (a, d, in->shape[d], &start, &step);
      if (out->shape[d] > 0)
        *off += start * cs[d];
      st[d] = step * cs[d];
    }
  }
}

gboolean
grd_vk_step_view (GrdVkRec *r, GrdVkStep *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = grd_vk_node_at (fn, st->node);
  GrdVkValue *in = grd_vk_slot (fn, node->inputs[0]), *out = grd_vk_slot (fn, (GrdRef) { st->node, 0 });
  g_autofree char *body = grd_vk_copy_body (in->dtype, out->dtype);
  GrdVkEw e = { .rank = out->rank, .n = 1, .body = body };
  memcpy (e.shape, out->shape, sizeof e.shape);
  e.buf[0] = in->buf;
  e.dt[0] = in->dtype;
  grd_vk_view_of (node, in, out, &e.off[0], e.st[0]);
  grd_vk_ew_out_contiguous (&e, out);
  return grd_vk_ew_run (r, &e, error);
}

/* Copies `in` (contiguous) into out's block starting at index `at` along `axis`. */
static gboolean
copy_into (GrdVkRec *r, GrdVkValue *in, GrdVkValue *out, gint axis, gint64 at, gboolean new_axis,
           GError **error)
{
  g_autofree char *body = grd_vk_copy_body (in->dtype, out->dtype);
  GrdVkEw e = { .rank = in->rank, .n = 1, .body = body };
  memcpy (e.shape, in->shape, sizeof e.shape);
  e.buf[0] = in->buf;
  e.dt[0] = in->dtype;
  grd_vk_contiguous (in->rank, in->shape, e.st[0]);
  gint64 os[GRD_MAX_RANK];
  grd_vk_contiguous (out->rank, out->shape, os);
  e.obuf = out->buf;
  e.odt = out->dtype;
  e.ooff = at * os[axis];
  for (gint d = 0; d < in->rank; d++)
    e.ost[d] = new_axis && d >= axis ? os[d + 1] : os[d];
  return grd_vk_ew_run (r, &e, error);
}

gboolean
grd_vk_step_concat (GrdVkRec *r, GrdVkStep *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = grd_vk_node_at (fn, st->node);
  GrdVkValue *out = grd_vk_slot (fn, (GrdRef) { st->node, 0 });
  gboolean stack = !strcmp (node->op->name, "stack");
  gint axis;
  if (!grd_axis_single (&node->attrs, out->rank, 0, &axis, error))
    return FALSE;
  gint64 at = 0;
  for (gint j = 0; j < node->n_inputs; j++) {
    GrdVkValue *in = grd_vk_slot (fn, node->inputs[j]);
    if (!copy_into (r, in, out, axis, at, stack, error))
      return FALSE;
    at += stack ? 1 : in->shape[axis];
  }
  return TRUE;
}

gboolean
grd_vk_step_concat_part (GrdVkRec *r, GrdVkStep *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = grd_vk_node_at (fn, st->node);
  GrdVkValue *g = grd_vk_slot (fn, node->inputs[0]), *out = grd_vk_slot (fn, (GrdRef) { st->node, 0 });
  gint axis;
  if (!grd_axis_single (&node->attrs, g->rank, 0, &axis, error))
    return FALSE;
  gint64 at = 0;
  for (gint j = 0; j < node->attrs.depth; j++)
    at += grd_vk_slot (fn, node->inputs[1 + j])->shape[axis];
  g_autofree char *body = grd_vk_copy_body (g->dtype, out->dtype);
  GrdVkEw e = { .rank = out->rank, .n = 1, .body = body };
  memcpy (e.shape, out->shape, sizeof e.shape);
  e.buf[0] = g->buf;
  e.dt[0] = g->dtype;
  grd_vk_contiguous (g->rank, g->shape, e.st[0]);
  e.off[0] = at * e.st[0][axis];
  grd_vk_ew_out_contiguous (&e, out);
  return grd_vk_ew_run (r, &e, error);
}

gboolean
grd_vk_step_slice_grad (GrdVkRec *r, GrdVkStep *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = grd_vk_node_at (fn, st->node);
  GrdVkValue *g = grd_vk_slot (fn, node->inputs[0]), *x = grd_vk_slot (fn, node->inputs[1]);
  GrdVkValue *out = grd_vk_slot (fn, (GrdRef) { st->node, 0 });
  if (!grd_vk_fill_zero (r, out, error))
    return FALSE;
  /* g goes where slice(x) reads: the slice's view, on the output. */
  g_autofree char *body = grd_vk_copy_body (g->dtype, out->dtype);
  GrdVkEw e = { .rank = g->rank, .n = 1, .body = body };
  memcpy (e.shape, g->shape, sizeof e.shape);
  e.buf[0] = g->buf;
  e.dt[0] = g->dtype;
  grd_vk_contiguous (g->rank, g->shape, e.st[0]);
  GrdNode fake = *node;
  static const GrdOpDef slice_def = { .name = "slice" };
  fake.op = &slice_def;
  e.obuf = out->buf;
  e.odt = out->dtype;
  grd_vk_view_of (&fake, x, g, &e.ooff, e.ost);
  return grd_vk_ew_run (r, &e, error);
}
