/* grd-onnx-ops.c: the Gradus ops that have an ONNX form (opset 17), one row
 * each: an emitter and the ONNX operator it is built on. Adding an op is one
 * row (and, when no emitter fits, one function). Dtypes follow Gradus: inputs
 * are cast to the node's result dtype where ONNX wants equal types, which is
 * NumPy's promotion done explicitly. The internal ops of gradient rules read
 * run-time shapes (Shape, Size), so gradients work for any batch size. */
#include "grd-onnx-build.h"

#include <string.h>

static GrdDType
out_dtype (const GrdNode *node)
{
  return node->types[0].dtype;
}

static GrdDType
in_dtype (OnnxBuilder *b, const GrdNode *node, gint i)
{
  return onnx_in_type (b, node, i)->dtype;
}

static gint
in_rank (OnnxBuilder *b, const GrdNode *node, gint i)
{
  return onnx_in_type (b, node, i)->rank;
}

static gint
norm_axis (gint axis, gint rank)
{
  return axis < 0 ? axis + rank : axis;
}

/* The reduced axes of attrs against `rank`, sorted, as int64. */
static gint
masked_axes (const GrdAttrs *attrs, gint rank, gint64 *axes)
{
  gboolean mask[GRD_MAX_RANK] = { FALSE };
  if (!attrs->has_axis)
    for (gint d = 0; d < rank; d++)
      mask[d] = TRUE;
  else
    for (gint i = 0; i < attrs->n_axes; i++)
      mask[norm_axis (attrs->axes[i], rank)] = TRUE;
  gint n = 0;
  for (gint d = 0; d < rank; d++)
    if (mask[d])
      axes[n++] = d;
  return n;
}

/* Inputs 0..n-1 cast to `dtype`. */
static void
cast_inputs (OnnxBuilder *b, const GrdNode *node, const char *const *in, GrdDType dtype,
             const char **cast)
{
  for (gint i = 0; i < node->n_inputs; i++)
    cast[i] = onnx_cast (b, in[i], in_dtype (b, node, i), dtype);
}

static const char *
shape_of (OnnxBuilder *b, const char *x)
{
  return onnx_out (onnx_node (b, "Shape", NULL, 1, x));
}

/* x's elements numbered 0.. in row-major order, shaped like x (int64). */
static const char *
flat_positions (OnnxBuilder *b, const char *x)
{
  const char *size = onnx_out (onnx_node (b, "Size", NULL, 1, x));
  const char *range = onnx_out (onnx_node (b, "Range", NULL, 3, onnx_scalar (b, GRD_DTYPE_INT64, 0),
                                           size, onnx_scalar (b, GRD_DTYPE_INT64, 1)));
  return onnx_out (onnx_node (b, "Reshape", NULL, 2, range, shape_of (b, x)));
}

/* Zeros of dtype with as many elements as x, as a vector. */
static const char *
flat_zeros (OnnxBuilder *b, const char *x, GrdDType dtype)
{
  const char *size = onnx_out (onnx_node (b, "Size", NULL, 1, x));
  gint64 one = 1;
  const char *len = onnx_out (onnx_node (b, "Reshape", NULL, 2, size, onnx_int64s (b, &one, 1)));
  OnnxNode *n = onnx_node (b, "ConstantOfShape", NULL, 1, len);
  gint64 shape[1] = { 1 };
  g_autoptr (GrdTensor) zero = grd_tensor_new (dtype, 1, shape);
  onnx_attr_tensor (b, n, "value", onnx_tensor (b, NULL, zero));
  return onnx_out (n);
}

static const char *
flatten_all (OnnxBuilder *b, const char *x)
{
  gint64 minus_one = -1;
  return onnx_out (onnx_node (b, "Reshape", NULL, 2, x, onnx_int64s (b, &minus_one, 1)));
}

/* ------------------------------------------------------------ elementwise */

/* The ONNX operator on the inputs cast to the result dtype. */
static gboolean
emit_same_dtype (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
                 const char *onnx_op, GError **error)
{
  const char *cast[8];
  cast_inputs (b, node, in, out_dtype (node), cast);
  onnx_node_v (b, onnx_op, out, node->n_inputs, cast);
  return TRUE;
}

/* Rounding: integers are already whole. */
static gboolean
emit_rounding (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
               const char *onnx_op, GError **error)
{
  gboolean is_float = grd_dtype_is_float (in_dtype (b, node, 0));
  const char *x = onnx_cast (b, in[0], in_dtype (b, node, 0), out_dtype (node));
  onnx_node (b, is_float ? onnx_op : "Identity", out, 1, x);
  return TRUE;
}

static gboolean
emit_square (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
             const char *onnx_op, GError **error)
{
  const char *x = onnx_cast (b, in[0], in_dtype (b, node, 0), out_dtype (node));
  onnx_node (b, "Mul", out, 2, x, x);
  return TRUE;
}

static gboolean
emit_log1p (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
            const char *onnx_op, GError **error)
{
  GrdDType dt = out_dtype (node);
  const char *x = onnx_cast (b, in[0], in_dtype (b, node, 0), dt);
  const char *sum = onnx_out (onnx_node (b, "Add", NULL, 2, x, onnx_scalar (b, dt, 1)));
  onnx_node (b, "Log", out, 1, sum);
  return TRUE;
}

static gboolean
emit_expm1 (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
            const char *onnx_op, GError **error)
{
  GrdDType dt = out_dtype (node);
  const char *x = onnx_cast (b, in[0], in_dtype (b, node, 0), dt);
  const char *e = onnx_out (onnx_node (b, "Exp", NULL, 1, x));
  onnx_node (b, "Sub", out, 2, e, onnx_scalar (b, dt, 1));
  return TRUE;
}

/* softplus(x) = relu(x) + log(1 + exp(-|x|)): finite for large |x|. */
static gboolean
emit_softplus (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
               const char *onnx_op, GError **error)
{
  GrdDType dt = out_dtype (node);
  const char *x = onnx_cast (b, in[0], in_dtype (b, node, 0), dt);
  const char *abs = onnx_out (onnx_node (b, "Abs", NULL, 1, x));
  const char *neg = onnx_out (onnx_node (b, "Neg", NULL, 1, abs));
  const char *e = onnx_out (onnx_node (b, "Exp", NULL, 1, neg));
  const char *one_plus = onnx_out (onnx_node (b, "Add", NULL, 2, e, onnx_scalar (b, dt, 1)));
  const char *log = onnx_out (onnx_node (b, "Log", NULL, 1, one_plus));
  const char *relu = onnx_out (onnx_node (b, "Relu", NULL, 1, x));
  onnx_node (b, "Add", out, 2, relu, log);
  return TRUE;
}

/* cos(x) = 1 - 2 sin²(x / 2) in float64: ONNX Runtime has no float64 Cos
 * kernel (the error is below 1e-16 absolute). */
static gboolean
emit_cos (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
          const char *onnx_op, GError **error)
{
  GrdDType dt = out_dtype (node);
  const char *x = onnx_cast (b, in[0], in_dtype (b, node, 0), dt);
  if (dt != GRD_DTYPE_FLOAT64) {
    onnx_node (b, "Cos", out, 1, x);
    return TRUE;
  }
  const char *half = onnx_out (onnx_node (b, "Mul", NULL, 2, x, onnx_scalar (b, dt, 0.5)));
  const char *s = onnx_out (onnx_node (b, "Sin", NULL, 1, half));
  const char *s2 = onnx_out (onnx_node (b, "Mul", NULL, 2, s, s));
  const char *twice = onnx_out (onnx_node (b, "Add", NULL, 2, s2, s2));
  onnx_node (b, "Sub", out, 2, onnx_scalar (b, dt, 1), twice);
  return TRUE;
}

/* Comparisons: both sides in their promoted dtype; the result is bool. */
static gboolean
emit_compare (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
              const char *onnx_op, GError **error)
{
  GrdDType dt = grd_dtype_promote (in_dtype (b, node, 0), in_dtype (b, node, 1));
  const char *cast[2];
  cast_inputs (b, node, in, dt, cast);
  if (strcmp (onnx_op, "NotEqual") == 0) {
    const char *eq = onnx_out (onnx_node (b, "Equal", NULL, 2, cast[0], cast[1]));
    onnx_node (b, "Not", out, 1, eq);
  } else {
    onnx_node (b, onnx_op, out, 2, cast[0], cast[1]);
  }
  return TRUE;
}

/* And, Or, Not on the inputs' truth values. */
static gboolean
emit_logic (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
            const char *onnx_op, GError **error)
{
  const char *cast[2];
  cast_inputs (b, node, in, GRD_DTYPE_BOOL, cast);
  onnx_node_v (b, onnx_op, out, node->n_inputs, cast);
  return TRUE;
}

static gboolean
emit_switch (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
             const char *onnx_op, GError **error)
{
  GrdDType dt = out_dtype (node);
  const char *cond = onnx_cast (b, in[0], in_dtype (b, node, 0), GRD_DTYPE_BOOL);
  onnx_node (b, "Where", out, 3, cond, onnx_cast (b, in[1], in_dtype (b, node, 1), dt),
             onnx_cast (b, in[2], in_dtype (b, node, 2), dt));
  return TRUE;
}

/* NumPy's clip: minimum (maximum (x, lo), hi), broadcasting all three. */
static gboolean
emit_clip (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
           const char *onnx_op, GError **error)
{
  const char *cast[3];
  cast_inputs (b, node, in, out_dtype (node), cast);
  const char *lo = onnx_out (onnx_node (b, "Max", NULL, 2, cast[0], cast[1]));
  onnx_node (b, "Min", out, 2, lo, cast[2]);
  return TRUE;
}

static gboolean
emit_cast (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
           const char *onnx_op, GError **error)
{
  OnnxNode *n = onnx_node (b, "Cast", out, 1, in[0]);
  onnx_attr_int (b, n, "to", onnx_dtype (out_dtype (node)));
  return TRUE;
}

/* ------------------------------------------------------------ reductions */

static gboolean
emit_reduce (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
             const char *onnx_op, GError **error)
{
  const char *x = onnx_cast (b, in[0], in_dtype (b, node, 0), out_dtype (node));
  gint64 axes[GRD_MAX_RANK];
  gint n = masked_axes (&node->attrs, in_rank (b, node, 0), axes);
  OnnxNode *r;
  if (n == 0) {
    /* a 0-d input, or no axis at all: nothing is reduced */
    r = onnx_node (b, "Identity", out, 1, x);
    return TRUE;
  }
  /* ReduceSum takes its axes as an input since opset 13, the others from 18 */
  if (strcmp (onnx_op, "ReduceSum") == 0) {
    r = onnx_node (b, onnx_op, out, 2, x, onnx_int64s (b, axes, n));
  } else {
    r = onnx_node (b, onnx_op, out, 1, x);
    onnx_attr_ints (b, r, "axes", axes, n);
  }
  onnx_attr_int (b, r, "keepdims", node->attrs.keepdims);
  return TRUE;
}

static gboolean
emit_arg (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
          const char *onnx_op, GError **error)
{
  gint rank = in_rank (b, node, 0);
  OnnxNode *n;
  if (node->attrs.has_axis) {
    n = onnx_node (b, onnx_op, out, 1, in[0]);
    onnx_attr_int (b, n, "axis", norm_axis (node->attrs.axes[0], rank));
    onnx_attr_int (b, n, "keepdims", node->attrs.keepdims);
    return TRUE;
  }
  /* no axis: the position in the flattened array */
  n = onnx_node (b, onnx_op, node->attrs.keepdims ? NULL : out, 1, flatten_all (b, in[0]));
  onnx_attr_int (b, n, "axis", 0);
  onnx_attr_int (b, n, "keepdims", 0);
  if (node->attrs.keepdims) {
    gint64 ones[GRD_MAX_RANK];
    for (gint d = 0; d < rank; d++)
      ones[d] = 1;
    onnx_node (b, "Reshape", out, 2, onnx_out (n), onnx_int64s (b, ones, rank));
  }
  return TRUE;
}

/* ------------------------------------------------------------ linear algebra */

static gboolean
emit_dot (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
          const char *onnx_op, GError **error)
{
  const char *cast[2];
  cast_inputs (b, node, in, out_dtype (node), cast);
  gboolean scalar = in_rank (b, node, 0) == 0 || in_rank (b, node, 1) == 0;
  onnx_node (b, scalar ? "Mul" : "MatMul", out, 2, cast[0], cast[1]);
  return TRUE;
}

/* _dot_nt: a · bᵀ; _dot_tn: aᵀ · b, both 2-d: Gemm with one side transposed. */
static gboolean
emit_dot_transposed (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
                     const char *onnx_op, GError **error)
{
  const char *cast[2];
  cast_inputs (b, node, in, out_dtype (node), cast);
  OnnxNode *n = onnx_node (b, "Gemm", out, 2, cast[0], cast[1]);
  onnx_attr_int (b, n, strcmp (onnx_op, "Gemm/nt") == 0 ? "transB" : "transA", 1);
  return TRUE;
}

static gboolean
emit_outer (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
            const char *onnx_op, GError **error)
{
  const char *cast[2];
  cast_inputs (b, node, in, out_dtype (node), cast);
  gint64 col[2] = { -1, 1 }, row[2] = { 1, -1 };
  const char *a = onnx_out (onnx_node (b, "Reshape", NULL, 2, cast[0], onnx_int64s (b, col, 2)));
  const char *c = onnx_out (onnx_node (b, "Reshape", NULL, 2, cast[1], onnx_int64s (b, row, 2)));
  onnx_node (b, "Mul", out, 2, a, c);
  return TRUE;
}

static gboolean
emit_ravel (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
            const char *onnx_op, GError **error)
{
  gint64 minus_one = -1;
  onnx_node (b, "Reshape", out, 2, in[0], onnx_int64s (b, &minus_one, 1));
  return TRUE;
}

/* ------------------------------------------------------------ shape */

static gboolean
emit_transpose (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
                const char *onnx_op, GError **error)
{
  OnnxNode *n = onnx_node (b, "Transpose", out, 1, in[0]);
  gint rank = in_rank (b, node, 0);
  if (node->attrs.n_perm > 0) {
    gint64 perm[GRD_MAX_RANK];
    for (gint d = 0; d < node->attrs.n_perm; d++)
      perm[d] = norm_axis (node->attrs.perm[d], rank);
    onnx_attr_ints (b, n, "perm", perm, node->attrs.n_perm);
  }
  return TRUE;
}

static gboolean
emit_reshape (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
              const char *onnx_op, GError **error)
{
  gboolean zero = FALSE;
  for (gint d = 0; d < node->attrs.n_shape; d++)
    zero |= node->attrs.shape[d] == 0;
  OnnxNode *n = onnx_node (b, "Reshape", out, 2, in[0],
                           onnx_int64s (b, node->attrs.shape, node->attrs.n_shape));
  if (zero) /* a 0 in Gradus is an empty axis, not "copy this dim" */
    onnx_attr_int (b, n, "allowzero", 1);
  return TRUE;
}

/* Theano's flatten(ndim): the first ndim-1 axes kept (0 copies them in ONNX). */
static gboolean
emit_flatten (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
              const char *onnx_op, GError **error)
{
  gint ndim = node->attrs.ndim > 0 ? node->attrs.ndim : 1;
  gint64 shape[GRD_MAX_RANK];
  for (gint d = 0; d < ndim - 1; d++)
    shape[d] = 0;
  shape[ndim - 1] = -1;
  onnx_node (b, "Reshape", out, 2, in[0], onnx_int64s (b, shape, ndim));
  return TRUE;
}

/* dimshuffle: squeeze the dropped (broadcastable) axes, transpose the kept
 * ones into pattern order, then insert the "x" axes. */
static gboolean
emit_dimshuffle (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
                 const char *onnx_op, GError **error)
{
  const GrdAttrs *a = &node->attrs;
  gint rank = in_rank (b, node, 0);
  gboolean kept[GRD_MAX_RANK] = { FALSE };
  gint64 dropped[GRD_MAX_RANK], perm[GRD_MAX_RANK], xs[GRD_MAX_RANK], renum[GRD_MAX_RANK];
  gint n_dropped = 0, n_perm = 0, n_x = 0;
  for (gint i = 0; i < a->n_pattern; i++)
    if (a->pattern[i] >= 0)
      kept[a->pattern[i]] = TRUE;
  for (gint d = 0, r = 0; d < rank; d++) {
    if (!kept[d])
      dropped[n_dropped++] = d;
    else
      renum[d] = r++;
  }
  for (gint i = 0; i < a->n_pattern; i++) {
    if (a->pattern[i] >= 0)
      perm[n_perm++] = renum[a->pattern[i]];
    else
      xs[n_x++] = i;
  }
  const char *x = in[0];
  if (n_dropped)
    x = onnx_out (onnx_node (b, "Squeeze", NULL, 2, x, onnx_int64s (b, dropped, n_dropped)));
  /* nothing left to permute (a 0-d value): ONNX wants perm non-empty */
  OnnxNode *t = onnx_node (b, n_perm ? "Transpose" : "Identity", n_x ? NULL : out, 1, x);
  if (n_perm)
    onnx_attr_ints (b, t, "perm", perm, n_perm);
  if (n_x)
    onnx_node (b, "Unsqueeze", out, 2, onnx_out (t), onnx_int64s (b, xs, n_x));
  return TRUE;
}

static gboolean
emit_concatenate (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
                  const char *onnx_op, GError **error)
{
  g_autofree const char **cast = g_new0 (const char *, node->n_inputs);
  cast_inputs (b, node, in, out_dtype (node), cast);
  OnnxNode *n = onnx_node_v (b, "Concat", out, node->n_inputs, cast);
  onnx_attr_int (b, n, "axis", node->attrs.has_axis ? node->attrs.axes[0] : 0);
  return TRUE;
}

static gboolean
emit_stack (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
            const char *onnx_op, GError **error)
{
  g_autofree const char **parts = g_new0 (const char *, node->n_inputs);
  cast_inputs (b, node, in, out_dtype (node), parts);
  gint64 axis = node->attrs.has_axis ? node->attrs.axes[0] : 0;
  axis = norm_axis (axis, in_rank (b, node, 0) + 1);
  const char *axes = onnx_int64s (b, &axis, 1);
  for (gint i = 0; i < node->n_inputs; i++)
    parts[i] = onnx_out (onnx_node (b, "Unsqueeze", NULL, 2, parts[i], axes));
  OnnxNode *n = onnx_node_v (b, "Concat", out, node->n_inputs, parts);
  onnx_attr_int (b, n, "axis", axis);
  return TRUE;
}

/* Python slices: absent bounds become the extremes, which ONNX clamps. */
static void
slice_inputs (OnnxBuilder *b, const GrdAttrs *a, const char **starts, const char **ends,
              const char **axes, const char **steps)
{
  gint64 s[GRD_MAX_RANK], e[GRD_MAX_RANK], ax[GRD_MAX_RANK], st[GRD_MAX_RANK];
  for (gint d = 0; d < a->n_slice; d++) {
    st[d] = a->step[d] == GRD_SLICE_NONE ? 1 : a->step[d];
    s[d] = a->begin[d] != GRD_SLICE_NONE ? a->begin[d] : st[d] > 0 ? 0 : G_MAXINT64;
    e[d] = a->end[d] != GRD_SLICE_NONE ? a->end[d] : st[d] > 0 ? G_MAXINT64 : G_MININT64;
    ax[d] = d;
  }
  *starts = onnx_int64s (b, s, a->n_slice);
  *ends = onnx_int64s (b, e, a->n_slice);
  *axes = onnx_int64s (b, ax, a->n_slice);
  *steps = onnx_int64s (b, st, a->n_slice);
}

static gboolean
emit_slice (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
            const char *onnx_op, GError **error)
{
  if (node->attrs.n_slice == 0) {
    onnx_node (b, "Identity", out, 1, in[0]);
    return TRUE;
  }
  const char *s, *e, *ax, *st;
  slice_inputs (b, &node->attrs, &s, &e, &ax, &st);
  onnx_node (b, "Slice", out, 5, in[0], s, e, ax, st);
  return TRUE;
}

static gboolean
emit_take (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
           const char *onnx_op, GError **error)
{
  const char *idx = onnx_cast (b, in[1], in_dtype (b, node, 1), GRD_DTYPE_INT64);
  OnnxNode *n = onnx_node (b, "Gather", out, 2, in[0], idx);
  onnx_attr_int (b, n, "axis", node->attrs.has_axis ? node->attrs.axes[0] : 0);
  return TRUE;
}

/* ------------------------------------------------------------ neural */

static gboolean
emit_softmax (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
              const char *onnx_op, GError **error)
{
  const char *x = onnx_cast (b, in[0], in_dtype (b, node, 0), out_dtype (node));
  OnnxNode *n = onnx_node (b, onnx_op, out, 1, x);
  onnx_attr_int (b, n, "axis", node->attrs.has_axis ? node->attrs.axes[0] : -1);
  return TRUE;
}

static gboolean
emit_logsumexp (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
                const char *onnx_op, GError **error)
{
  const char *x = onnx_cast (b, in[0], in_dtype (b, node, 0), out_dtype (node));
  gint rank = in_rank (b, node, 0);
  gint64 axes[GRD_MAX_RANK];
  gint n_axes = 1;
  axes[0] = rank - 1;
  if (node->attrs.has_axis)
    n_axes = masked_axes (&node->attrs, rank, axes);
  OnnxNode *n = onnx_node (b, "ReduceLogSumExp", out, 1, x);
  onnx_attr_ints (b, n, "axes", axes, n_axes);
  onnx_attr_int (b, n, "keepdims", node->attrs.keepdims);
  return TRUE;
}

/* Integer classes: -log p[..., t]; distributions: -sum (t * log p) on the last axis. */
static gboolean
emit_cce (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
          const char *onnx_op, GError **error)
{
  GrdDType dt = out_dtype (node), tdt = in_dtype (b, node, 1);
  gint64 last = -1;
  const char *axes = onnx_int64s (b, &last, 1);
  const char *p = onnx_cast (b, in[0], in_dtype (b, node, 0), dt);
  const char *picked;
  if (!grd_dtype_is_float (tdt)) {
    const char *t = onnx_cast (b, in[1], tdt, GRD_DTYPE_INT64);
    const char *col = onnx_out (onnx_node (b, "Unsqueeze", NULL, 2, t, axes));
    OnnxNode *g = onnx_node (b, "GatherElements", NULL, 2, p, col);
    onnx_attr_int (b, g, "axis", -1);
    const char *pt = onnx_out (onnx_node (b, "Squeeze", NULL, 2, onnx_out (g), axes));
    picked = onnx_out (onnx_node (b, "Log", NULL, 1, pt));
  } else {
    const char *t = onnx_cast (b, in[1], tdt, dt);
    const char *logp = onnx_out (onnx_node (b, "Log", NULL, 1, p));
    const char *prod = onnx_out (onnx_node (b, "Mul", NULL, 2, t, logp));
    OnnxNode *s = onnx_node (b, "ReduceSum", NULL, 2, prod, axes);
    onnx_attr_int (b, s, "keepdims", 0);
    picked = onnx_out (s);
  }
  onnx_node (b, "Neg", out, 1, picked);
  return TRUE;
}

/* -(t log p + (1 - t) log (1 - p)) */
static gboolean
emit_bce (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
          const char *onnx_op, GError **error)
{
  GrdDType dt = out_dtype (node);
  const char *cast[2];
  cast_inputs (b, node, in, dt, cast);
  const char *one = onnx_scalar (b, dt, 1);
  const char *logp = onnx_out (onnx_node (b, "Log", NULL, 1, cast[0]));
  const char *q = onnx_out (onnx_node (b, "Sub", NULL, 2, one, cast[0]));
  const char *logq = onnx_out (onnx_node (b, "Log", NULL, 1, q));
  const char *u = onnx_out (onnx_node (b, "Sub", NULL, 2, one, cast[1]));
  const char *a = onnx_out (onnx_node (b, "Mul", NULL, 2, cast[1], logp));
  const char *c = onnx_out (onnx_node (b, "Mul", NULL, 2, u, logq));
  const char *s = onnx_out (onnx_node (b, "Add", NULL, 2, a, c));
  onnx_node (b, "Neg", out, 1, s);
  return TRUE;
}

/* one-hot as (t[..., None] == range(depth)) cast to the result dtype. */
static void
one_hot_from (OnnxBuilder *b, const char *t, GrdDType tdt, const char *classes, GrdDType dt,
              const char *out)
{
  gint64 last = -1;
  const char *t64 = onnx_cast (b, t, tdt, GRD_DTYPE_INT64);
  const char *col = onnx_out (onnx_node (b, "Unsqueeze", NULL, 2, t64, onnx_int64s (b, &last, 1)));
  const char *eq = onnx_out (onnx_node (b, "Equal", NULL, 2, col, classes));
  OnnxNode *c = onnx_node (b, "Cast", out, 1, eq);
  onnx_attr_int (b, c, "to", onnx_dtype (dt));
}

static gboolean
emit_one_hot (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
              const char *onnx_op, GError **error)
{
  gint64 depth = node->attrs.depth;
  g_autofree gint64 *classes = g_new (gint64, MAX (depth, 1));
  for (gint64 i = 0; i < depth; i++)
    classes[i] = i;
  one_hot_from (b, in[0], in_dtype (b, node, 0), onnx_int64s (b, classes, (gint) depth),
                out_dtype (node), out);
  return TRUE;
}

/* _onehot_like (t, p): as many classes as p's last axis holds at run time. */
static gboolean
emit_onehot_like (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
                  const char *onnx_op, GError **error)
{
  const char *n = onnx_out (onnx_node (b, "Gather", NULL, 2, shape_of (b, in[1]),
                                       onnx_scalar (b, GRD_DTYPE_INT64, -1)));
  const char *classes = onnx_out (onnx_node (b, "Range", NULL, 3,
                                             onnx_scalar (b, GRD_DTYPE_INT64, 0), n,
                                             onnx_scalar (b, GRD_DTYPE_INT64, 1)));
  one_hot_from (b, in[0], in_dtype (b, node, 0), classes, out_dtype (node), out);
  return TRUE;
}

/* ------------------------------------------------------------ gradient helpers */

/* _broadcast_to (a, like): Expand broadcasts both ways, as Gradus does. */
static gboolean
emit_broadcast_to (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
                   const char *onnx_op, GError **error)
{
  onnx_node (b, "Expand", out, 2, in[0], shape_of (b, in[1]));
  return TRUE;
}

/* _reshape_like (a, like) */
static gboolean
emit_reshape_like (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
                   const char *onnx_op, GError **error)
{
  onnx_node (b, "Reshape", out, 2, in[0], shape_of (b, in[1]));
  return TRUE;
}

/* _reduce_to (g, x): g summed over its leading axes and over the axes where x
 * has length 1, then shaped like x. Where x's static type fixes its dims the
 * axes are constants; where it does not, they are found at run time. */
static gboolean
emit_reduce_to (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
                const char *onnx_op, GError **error)
{
  const GrdType *g = onnx_in_type (b, node, 0), *x = onnx_in_type (b, node, 1);
  gint lead = g->rank - x->rank, n = 0;
  gint64 axes[GRD_MAX_RANK];
  gboolean unknown = FALSE;
  for (gint d = 0; d < g->rank; d++) {
    if (d < lead || (x->dims[d - lead] == 1 && g->dims[d] != 1))
      axes[n++] = d;
    else if (x->dims[d - lead] < 0 && g->dims[d] != 1)
      unknown = TRUE;
  }
  const char *summed = in[0];
  if (n) {
    OnnxNode *s = onnx_node (b, "ReduceSum", NULL, 2, summed, onnx_int64s (b, axes, n));
    onnx_attr_int (b, s, "keepdims", 1);
    summed = onnx_out (s);
  }
  if (unknown) {
    /* the axes where x is 1 and g is not: NonZero of (shape(x) == 1) > (shape(g) == 1) */
    const char *one = onnx_scalar (b, GRD_DTYPE_INT64, 1);
    const char *gs = shape_of (b, summed);
    gint64 tail_start = lead;
    const char *gtail = gs;
    if (lead) {
      gint64 big = G_MAXINT64;
      gtail = onnx_out (onnx_node (b, "Slice", NULL, 3, gs, onnx_int64s (b, &tail_start, 1),
                                   onnx_int64s (b, &big, 1)));
    }
    const char *x1 = onnx_out (onnx_node (b, "Equal", NULL, 2, shape_of (b, in[1]), one));
    const char *g1 = onnx_out (onnx_node (b, "Equal", NULL, 2, gtail, one));
    const char *g_not1 = onnx_out (onnx_node (b, "Not", NULL, 1, g1));
    const char *both = onnx_out (onnx_node (b, "And", NULL, 2, x1, g_not1));
    const char *nz = onnx_out (onnx_node (b, "NonZero", NULL, 1, both));
    const char *dyn = flatten_all (b, nz);
    if (lead)
      dyn = onnx_out (onnx_node (b, "Add", NULL, 2, dyn, onnx_scalar (b, GRD_DTYPE_INT64, lead)));
    OnnxNode *s = onnx_node (b, "ReduceSum", NULL, 2, summed, dyn);
    onnx_attr_int (b, s, "keepdims", 1);
    onnx_attr_int (b, s, "noop_with_empty_axes", 1);
    summed = onnx_out (s);
  }
  onnx_node (b, "Reshape", out, 2, summed, shape_of (b, in[1]));
  return TRUE;
}

/* _unreduce (g, x): the reduced axes put back (when not kept), then g
 * broadcast to x's run-time shape. */
static gboolean
emit_unreduce (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
               const char *onnx_op, GError **error)
{
  gint64 axes[GRD_MAX_RANK];
  gint n = masked_axes (&node->attrs, in_rank (b, node, 1), axes);
  const char *g = in[0];
  if (!node->attrs.keepdims && n)
    g = onnx_out (onnx_node (b, "Unsqueeze", NULL, 2, g, onnx_int64s (b, axes, n)));
  onnx_node (b, "Expand", out, 2, g, shape_of (b, in[1]));
  return TRUE;
}

/* _reduce_count (x): how many elements each reduction group holds. */
static gboolean
emit_reduce_count (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
                   const char *onnx_op, GError **error)
{
  gint rank = in_rank (b, node, 0);
  gint64 axes[GRD_MAX_RANK];
  gint n = masked_axes (&node->attrs, rank, axes);
  const char *count;
  if (n == rank) {
    count = onnx_out (onnx_node (b, "Size", NULL, 1, in[0]));
  } else {
    const char *dims = onnx_out (onnx_node (b, "Gather", NULL, 2, shape_of (b, in[0]),
                                            onnx_int64s (b, axes, n)));
    OnnxNode *p = onnx_node (b, "ReduceProd", NULL, 1, dims);
    onnx_attr_int (b, p, "keepdims", 0);
    count = onnx_out (p);
  }
  OnnxNode *c = onnx_node (b, "Cast", out, 1, count);
  onnx_attr_int (b, c, "to", onnx_dtype (out_dtype (node)));
  return TRUE;
}

/* _concat_part (g, x0, ..., xn): the block of g along `axis` that lines up
 * with x_i (i in attrs.depth), from the parts' run-time lengths. */
static gboolean
emit_concat_part (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
                  const char *onnx_op, GError **error)
{
  gint64 axis = norm_axis (node->attrs.has_axis ? node->attrs.axes[0] : 0, in_rank (b, node, 0));
  const char *ax = onnx_int64s (b, &axis, 1);
  gint part = (gint) node->attrs.depth;
  gint64 zero = 0;
  const char *start = onnx_int64s (b, &zero, 1);
  for (gint j = 0; j < part; j++) {
    const char *len = onnx_out (onnx_node (b, "Gather", NULL, 2, shape_of (b, in[1 + j]), ax));
    start = onnx_out (onnx_node (b, "Add", NULL, 2, start, len));
  }
  const char *len = onnx_out (onnx_node (b, "Gather", NULL, 2, shape_of (b, in[1 + part]), ax));
  const char *end = onnx_out (onnx_node (b, "Add", NULL, 2, start, len));
  onnx_node (b, "Slice", out, 4, in[0], start, end, ax);
  return TRUE;
}

/* Zeros shaped like x with g scattered (or added) at flat positions `where`. */
static void
scatter_into_zeros (OnnxBuilder *b, const char *x, const char *g, GrdDType dtype,
                    const char *where, gboolean add, const char *out)
{
  OnnxNode *s = onnx_node (b, "ScatterElements", NULL, 3, flat_zeros (b, x, dtype),
                           flatten_all (b, where), flatten_all (b, g));
  onnx_attr_int (b, s, "axis", 0);
  if (add)
    onnx_attr_string (b, s, "reduction", "add");
  onnx_node (b, "Reshape", out, 2, onnx_out (s), shape_of (b, x));
}

/* _slice_grad (g, x): the slice taken of x's element positions says where g goes. */
static gboolean
emit_slice_grad (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
                 const char *onnx_op, GError **error)
{
  const char *where = flat_positions (b, in[1]);
  if (node->attrs.n_slice) {
    const char *s, *e, *ax, *st;
    slice_inputs (b, &node->attrs, &s, &e, &ax, &st);
    where = onnx_out (onnx_node (b, "Slice", NULL, 5, where, s, e, ax, st));
  }
  scatter_into_zeros (b, in[1], in[0], out_dtype (node), where, FALSE, out);
  return TRUE;
}

/* _take_grad (g, x, idx): repeated indices add up. */
static gboolean
emit_take_grad (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out,
                const char *onnx_op, GError **error)
{
  const char *idx = onnx_cast (b, in[2], in_dtype (b, node, 2), GRD_DTYPE_INT64);
  OnnxNode *w = onnx_node (b, "Gather", NULL, 2, flat_positions (b, in[1]), idx);
  onnx_attr_int (b, w, "axis", node->attrs.has_axis ? node->attrs.axes[0] : 0);
  scatter_into_zeros (b, in[1], in[0], out_dtype (node), onnx_out (w), TRUE, out);
  return TRUE;
}

/* ------------------------------------------------------------ the table */

static const OnnxOpRow rows[] = {
  { "add", emit_same_dtype, "Add" },
  { "sub", emit_same_dtype, "Sub" },
  { "mul", emit_same_dtype, "Mul" },
  { "div", emit_same_dtype, "Div" },
  { "pow", emit_same_dtype, "Pow" },
  { "maximum", emit_same_dtype, "Max" },
  { "minimum", emit_same_dtype, "Min" },
  { "neg", emit_same_dtype, "Neg" },
  { "abs", emit_same_dtype, "Abs" },
  { "sign", emit_same_dtype, "Sign" },
  { "square", emit_square, "Mul" },
  { "sqrt", emit_same_dtype, "Sqrt" },
  { "reciprocal", emit_same_dtype, "Reciprocal" },
  { "exp", emit_same_dtype, "Exp" },
  { "log", emit_same_dtype, "Log" },
  { "log1p", emit_log1p, "Log" },
  { "expm1", emit_expm1, "Exp" },
  { "sin", emit_same_dtype, "Sin" },
  { "cos", emit_cos, "Cos" },
  { "tanh", emit_same_dtype, "Tanh" },
  { "sigmoid", emit_same_dtype, "Sigmoid" },
  { "softplus", emit_softplus, "Softplus" },
  { "relu", emit_same_dtype, "Relu" },
  { "erf", emit_same_dtype, "Erf" },
  { "eq", emit_compare, "Equal" },
  { "neq", emit_compare, "NotEqual" },
  { "lt", emit_compare, "Less" },
  { "le", emit_compare, "LessOrEqual" },
  { "gt", emit_compare, "Greater" },
  { "ge", emit_compare, "GreaterOrEqual" },
  { "and", emit_logic, "And" },
  { "or", emit_logic, "Or" },
  { "not", emit_logic, "Not" },
  { "switch", emit_switch, "Where" },
  { "clip", emit_clip, "Min" },
  { "floor", emit_rounding, "Floor" },
  { "ceil", emit_rounding, "Ceil" },
  { "round", emit_rounding, "Round" },
  { "cast", emit_cast, "Cast" },
  { "sum", emit_reduce, "ReduceSum" },
  { "mean", emit_reduce, "ReduceMean" },
  { "prod", emit_reduce, "ReduceProd" },
  { "max", emit_reduce, "ReduceMax" },
  { "min", emit_reduce, "ReduceMin" },
  { "argmax", emit_arg, "ArgMax" },
  { "argmin", emit_arg, "ArgMin" },
  { "dot", emit_dot, "MatMul" },
  { "outer", emit_outer, "Mul" },
  { "transpose", emit_transpose, "Transpose" },
  { "reshape", emit_reshape, "Reshape" },
  { "dimshuffle", emit_dimshuffle, "Transpose" },
  { "flatten", emit_flatten, "Reshape" },
  { "concatenate", emit_concatenate, "Concat" },
  { "stack", emit_stack, "Concat" },
  { "slice", emit_slice, "Slice" },
  { "take", emit_take, "Gather" },
  { "softmax", emit_softmax, "Softmax" },
  { "log_softmax", emit_softmax, "LogSoftmax" },
  { "logsumexp", emit_logsumexp, "ReduceLogSumExp" },
  { "categorical_crossentropy", emit_cce, "GatherElements" },
  { "binary_crossentropy", emit_bce, "Log" },
  { "one_hot", emit_one_hot, "Equal" },
  /* internal ops of the gradient rules */
  { "_broadcast_to", emit_broadcast_to, "Expand" },
  { "_reduce_to", emit_reduce_to, "ReduceSum" },
  { "_reshape_like", emit_reshape_like, "Reshape" },
  { "_dot_nt", emit_dot_transposed, "Gemm/nt" },
  { "_dot_tn", emit_dot_transposed, "Gemm/tn" },
  { "_ravel", emit_ravel, "Reshape" },
  { "_unreduce", emit_unreduce, "Expand" },
  { "_reduce_count", emit_reduce_count, "Size" },
  { "_concat_part", emit_concat_part, "Slice" },
  { "_slice_grad", emit_slice_grad, "ScatterElements" },
  { "_take_grad", emit_take_grad, "ScatterElements" },
  { "_onehot_like", emit_onehot_like, "Equal" },
  /* part two: convolution and pooling (grd-onnx-ops-conv.c) */
  { "conv2d", onnx_emit_conv2d, "Conv" },
  { "_conv2d_grad_input", onnx_emit_conv2d_grad_input, "ConvTranspose" },
  { "_conv2d_grad_filters", onnx_emit_conv2d_grad_filters, "Conv" },
  { "pool_2d", onnx_emit_pool_2d, "MaxPool" },
  { "_pool_2d_grad", onnx_emit_pool_2d_grad, "ScatterElements" },
  { "_pool_2d_gather", onnx_emit_pool_2d_gather, "GatherElements" },
  /* part two: indexing and integer arithmetic (grd-onnx-ops-index.c) */
  { "shape", onnx_emit_shape, "Shape" },
  { "arange", onnx_emit_arange, "Range" },
  { "index", onnx_emit_index, "GatherND" },
  { "set_subtensor", onnx_emit_subtensor, "ScatterND" },
  { "inc_subtensor", onnx_emit_subtensor, "ScatterND" },
  { "mod", onnx_emit_divmod, "Mod" },
  { "floor_div", onnx_emit_divmod, "Mod" },
  { "_prod_others", onnx_emit_prod_others, "ReduceProd" },
  /* random nodes: ONNX Runtime's own generator (grd-onnx-ops-random.c) */
  { "_random", onnx_emit_random, "RandomUniformLike" },
  /* the taps of scan sequences (grd-onnx-control.c; _scan itself and ifelse
   * hold graphs and are emitted there by the export walk) */
  { "_tap_gather", onnx_emit_tap_gather, "Slice" },
  { "_tap_scatter", onnx_emit_tap_scatter, "Pad" },
};

const OnnxOpRow *
onnx_op_row (const char *op)
{
  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    if (strcmp (rows[i].op, op) == 0)
      return &rows[i];
  return NULL;
}
