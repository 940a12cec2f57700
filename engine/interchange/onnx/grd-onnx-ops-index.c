/* grd-onnx-ops-index.c: the indexing and integer-arithmetic ops in ONNX
 * (opset 17):
 *   shape                    Shape (one axis: Gather of it)
 *   arange                   Range of the three scalars in the result dtype
 *   index (x, i0, ...)       GatherND of the indices broadcast and stacked
 *                            (negative ones wrapped first)
 *   set_subtensor, inc_subtensor
 *                            ScatterND (reduction "add" for inc) with index
 *                            inputs; ScatterElements at the flat positions the
 *                            slice covers without
 *   mod, floor_div           NumPy's npy_divmod spelled out (floats), or
 *                            Python's floor rule with x // 0 = x % 0 = 0 (ints)
 *   _prod_others             the product of the non-zero elements and their
 *                            zero count, per reduction group */
#include "grd-onnx-build.h"

#include <string.h>

static const char *
shape_of (OnnxBuilder *b, const char *x)
{
  return onnx_out (onnx_node (b, "Shape", NULL, 1, x));
}

static const char *
flatten_all (OnnxBuilder *b, const char *x)
{
  gint64 minus_one = -1;
  return onnx_out (onnx_node (b, "Reshape", NULL, 2, x, onnx_int64s (b, &minus_one, 1)));
}

static const char *
op2 (OnnxBuilder *b, const char *op, const char *x, const char *y)
{
  return onnx_out (onnx_node (b, op, NULL, 2, x, y));
}

static const char *
where (OnnxBuilder *b, const char *c, const char *x, const char *y)
{
  return onnx_out (onnx_node (b, "Where", NULL, 3, c, x, y));
}

static GrdDType
in_dtype (OnnxBuilder *b, const GrdNode *node, gint i)
{
  return onnx_in_type (b, node, i)->dtype;
}

/* ------------------------------------------------------------ shape, arange */

ONNX_EMITTER (onnx_emit_shape)
{
  if (!node->attrs.has_axis) {
    onnx_node (b, "Shape", out, 1, in[0]);
    return TRUE;
  }
  gint rank = onnx_in_type (b, node, 0)->rank;
  gint axis = node->attrs.axes[0] < 0 ? node->attrs.axes[0] + rank : node->attrs.axes[0];
  onnx_node (b, "Gather", out, 2, shape_of (b, in[0]), onnx_scalar (b, GRD_DTYPE_INT64, axis));
  return TRUE;
}

ONNX_EMITTER (onnx_emit_arange)
{
  GrdDType dt = node->types[0].dtype;
  gboolean ints = TRUE;
  for (gint i = 0; i < 3; i++)
    ints &= !grd_dtype_is_float (in_dtype (b, node, i));
  if (ints && grd_dtype_is_float (dt)) {
    /* integer bounds, float result (a dtype attr): count in int64, then cast */
    const char *r[3];
    for (gint i = 0; i < 3; i++)
      r[i] = onnx_cast (b, in[i], in_dtype (b, node, i), GRD_DTYPE_INT64);
    const char *range = onnx_out (onnx_node (b, "Range", NULL, 3, r[0], r[1], r[2]));
    onnx_node (b, "Identity", out, 1, onnx_cast (b, range, GRD_DTYPE_INT64, dt));
    return TRUE;
  }
  const char *r[3];
  for (gint i = 0; i < 3; i++)
    r[i] = onnx_cast (b, in[i], in_dtype (b, node, i), dt);
  onnx_node (b, "Range", out, 3, r[0], r[1], r[2]);
  return TRUE;
}

/* ------------------------------------------------------------ index */

/* The index inputs first..first+n-1 of node as one int64 array [..., n]:
 * wrapped (i < 0: i + dim), broadcast together, stacked on a new last axis. */
static const char *
stacked_indices (OnnxBuilder *b, const GrdNode *node, const char *const *in, gint first, gint n,
                 const char *x)
{
  g_autofree const char **idx = g_new0 (const char *, n);
  const char *zero = onnx_scalar (b, GRD_DTYPE_INT64, 0);
  const char *dims = shape_of (b, x);
  const char *common = zero;
  for (gint i = 0; i < n; i++) {
    const char *v = onnx_cast (b, in[first + i], in_dtype (b, node, first + i), GRD_DTYPE_INT64);
    const char *dim = onnx_out (onnx_node (b, "Gather", NULL, 2, dims,
                                           onnx_scalar (b, GRD_DTYPE_INT64, i)));
    idx[i] = where (b, op2 (b, "Less", v, zero), op2 (b, "Add", v, dim), v);
    common = op2 (b, "Add", common, idx[i]);
  }
  gint64 last = -1;
  const char *axes = onnx_int64s (b, &last, 1);
  const char *shape = shape_of (b, common);
  for (gint i = 0; i < n; i++)
    idx[i] = onnx_out (onnx_node (b, "Unsqueeze", NULL, 2,
                                  onnx_out (onnx_node (b, "Expand", NULL, 2, idx[i], shape)), axes));
  if (n == 1)
    return idx[0];
  OnnxNode *cat = onnx_node_v (b, "Concat", NULL, n, idx);
  onnx_attr_int (b, cat, "axis", -1);
  return onnx_out (cat);
}

ONNX_EMITTER (onnx_emit_index)
{
  gint n = node->n_inputs - 1;
  if (n == 0) {
    onnx_node (b, "Identity", out, 1, in[0]);
    return TRUE;
  }
  onnx_node (b, "GatherND", out, 2, in[0], stacked_indices (b, node, in, 1, n, in[0]));
  return TRUE;
}

/* set_subtensor / inc_subtensor (x, y, [i0, ...]) */
ONNX_EMITTER (onnx_emit_subtensor)
{
  GrdDType dt = node->types[0].dtype;
  gboolean inc = strcmp (node->op->name, "inc_subtensor") == 0;
  if (inc && dt == GRD_DTYPE_BOOL) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "inc_subtensor of bool values has no ONNX form (ScatterND adds numbers)");
    return FALSE;
  }
  const char *y = onnx_cast (b, in[1], in_dtype (b, node, 1), dt);
  gint n = node->n_inputs - 2;
  if (n > 0) {
    const char *idx = stacked_indices (b, node, in, 2, n, in[0]);
    /* y broadcast to the region's shape: what GatherND would read */
    const char *region = onnx_out (onnx_node (b, "GatherND", NULL, 2, in[0], idx));
    const char *updates = onnx_out (onnx_node (b, "Expand", NULL, 2, y, shape_of (b, region)));
    OnnxNode *s = onnx_node (b, "ScatterND", out, 3, in[0], idx, updates);
    if (inc)
      onnx_attr_string (b, s, "reduction", "add");
    return TRUE;
  }
  /* a slice: the flat positions of x it covers say where y goes */
  const char *size = onnx_out (onnx_node (b, "Size", NULL, 1, in[0]));
  const char *range = onnx_out (onnx_node (b, "Range", NULL, 3, onnx_scalar (b, GRD_DTYPE_INT64, 0),
                                           size, onnx_scalar (b, GRD_DTYPE_INT64, 1)));
  const char *pos = onnx_out (onnx_node (b, "Reshape", NULL, 2, range, shape_of (b, in[0])));
  const GrdAttrs *a = &node->attrs;
  if (a->n_slice) {
    gint64 s[GRD_MAX_RANK], e[GRD_MAX_RANK], ax[GRD_MAX_RANK], st[GRD_MAX_RANK];
    for (gint d = 0; d < a->n_slice; d++) {
      st[d] = a->step[d] == GRD_SLICE_NONE ? 1 : a->step[d];
      s[d] = a->begin[d] != GRD_SLICE_NONE ? a->begin[d] : st[d] > 0 ? 0 : G_MAXINT64;
      e[d] = a->end[d] != GRD_SLICE_NONE ? a->end[d] : st[d] > 0 ? G_MAXINT64 : G_MININT64;
      ax[d] = d;
    }
    pos = onnx_out (onnx_node (b, "Slice", NULL, 5, pos, onnx_int64s (b, s, a->n_slice),
                               onnx_int64s (b, e, a->n_slice), onnx_int64s (b, ax, a->n_slice),
                               onnx_int64s (b, st, a->n_slice)));
  }
  const char *updates = onnx_out (onnx_node (b, "Expand", NULL, 2, y, shape_of (b, pos)));
  OnnxNode *sc = onnx_node (b, "ScatterElements", NULL, 3, flatten_all (b, in[0]),
                            flatten_all (b, pos), flatten_all (b, updates));
  onnx_attr_int (b, sc, "axis", 0);
  if (inc)
    onnx_attr_string (b, sc, "reduction", "add");
  onnx_node (b, "Reshape", out, 2, onnx_out (sc), shape_of (b, in[0]));
  return TRUE;
}

/* ------------------------------------------------------------ mod, floor_div */

ONNX_EMITTER (onnx_emit_divmod)
{
  GrdDType dt = node->types[0].dtype;
  gboolean want_mod = strcmp (node->op->name, "mod") == 0;
  const char *a = onnx_cast (b, in[0], in_dtype (b, node, 0), dt);
  const char *d = onnx_cast (b, in[1], in_dtype (b, node, 1), dt);
  const char *zero = onnx_scalar (b, dt, 0), *one = onnx_scalar (b, dt, 1);
  const char *by_zero = op2 (b, "Equal", d, zero);
  if (!grd_dtype_is_float (dt)) {
    /* Mod with fmod 0 takes the divisor's sign (Python's rule); a zero
     * divisor is replaced by 1 so that nothing traps, and its results are 0 */
    const char *safe = where (b, by_zero, one, d);
    OnnxNode *m = onnx_node (b, "Mod", NULL, 2, a, safe);
    onnx_attr_int (b, m, "fmod", 0);
    const char *r = onnx_out (m);
    if (!want_mod)  /* exact: a - r is a multiple of the divisor */
      r = op2 (b, "Div", op2 (b, "Sub", a, r), safe);
    onnx_node (b, "Where", out, 3, by_zero, zero, r);
    return TRUE;
  }
  /* npy_divmod: m = fmod (a, b); div = (a - m) / b; where m is non-zero and
   * its sign differs from b's, m += b and div -= 1; the quotient is div
   * rounded to the nearest whole number (floor, +1 past a half) */
  OnnxNode *fm = onnx_node (b, "Mod", NULL, 2, a, d);
  onnx_attr_int (b, fm, "fmod", 1);
  const char *m = onnx_out (fm);
  const char *div = op2 (b, "Div", op2 (b, "Sub", a, m), d);
  const char *m_neg = op2 (b, "Less", m, zero), *d_neg = op2 (b, "Less", d, zero);
  const char *signs_differ = onnx_out (onnx_node (b, "Not", NULL, 1, op2 (b, "Equal", m_neg, d_neg)));
  const char *m_nonzero = onnx_out (onnx_node (b, "Not", NULL, 1, op2 (b, "Equal", m, zero)));
  const char *adjust = op2 (b, "And", m_nonzero, signs_differ);
  if (want_mod) {
    onnx_node (b, "Where", out, 3, adjust, op2 (b, "Add", m, d), m);
    return TRUE;
  }
  div = where (b, adjust, op2 (b, "Sub", div, one), div);
  const char *fd = onnx_out (onnx_node (b, "Floor", NULL, 1, div));
  const char *past_half = op2 (b, "Greater", op2 (b, "Sub", div, fd), onnx_scalar (b, dt, 0.5));
  fd = where (b, past_half, op2 (b, "Add", fd, one), fd);
  /* b == 0: a / b (inf or nan), as NumPy */
  onnx_node (b, "Where", out, 3, by_zero, op2 (b, "Div", a, d), fd);
  return TRUE;
}

/* ------------------------------------------------------------ _prod_others */

/* Per element, the product of the other elements of its reduction group:
 * P / x with P the group's product when the group has no zero; P of the
 * non-zero elements at the group's only zero; 0 elsewhere. */
ONNX_EMITTER (onnx_emit_prod_others)
{
  GrdDType dt = node->types[0].dtype;
  const char *x = onnx_cast (b, in[0], in_dtype (b, node, 0), dt);
  gint rank = onnx_in_type (b, node, 0)->rank;
  gint64 axes[GRD_MAX_RANK];
  gint n = 0;
  gboolean mask[GRD_MAX_RANK] = { FALSE };
  if (!node->attrs.has_axis)
    for (gint d = 0; d < rank; d++)
      mask[d] = TRUE;
  else
    for (gint i = 0; i < node->attrs.n_axes; i++)
      mask[node->attrs.axes[i] < 0 ? node->attrs.axes[i] + rank : node->attrs.axes[i]] = TRUE;
  for (gint d = 0; d < rank; d++)
    if (mask[d])
      axes[n++] = d;
  if (n == 0) {
    /* nothing reduced: each group is one element, whose others multiply to 1 */
    onnx_node (b, "Expand", out, 2, onnx_scalar (b, dt, 1), shape_of (b, x));
    return TRUE;
  }
  const char *zero = onnx_scalar (b, dt, 0), *one = onnx_scalar (b, dt, 1);
  const char *is_zero = op2 (b, "Equal", x, zero);
  OnnxNode *p = onnx_node (b, "ReduceProd", NULL, 1, where (b, is_zero, one, x));
  onnx_attr_ints (b, p, "axes", axes, n);
  onnx_attr_int (b, p, "keepdims", 1);
  OnnxNode *c = onnx_node (b, "Cast", NULL, 1, is_zero);
  onnx_attr_int (b, c, "to", onnx_dtype (dt));
  OnnxNode *zeros = onnx_node (b, "ReduceSum", NULL, 2, onnx_out (c), onnx_int64s (b, axes, n));
  onnx_attr_int (b, zeros, "keepdims", 1);
  const char *none = op2 (b, "Equal", onnx_out (zeros), zero);
  const char *only = op2 (b, "And", is_zero, op2 (b, "Equal", onnx_out (zeros), one));
  const char *product = onnx_out (onnx_node (b, "Expand", NULL, 2, onnx_out (p), shape_of (b, x)));
  const char *when_some = where (b, only, product, onnx_out (onnx_node (b, "Expand", NULL, 2, zero,
                                                                        shape_of (b, x))));
  onnx_node (b, "Where", out, 3, none, op2 (b, "Div", onnx_out (p), x), when_some);
  return TRUE;
}
