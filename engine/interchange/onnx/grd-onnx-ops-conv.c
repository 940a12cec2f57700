/* grd-onnx-ops-conv.c: conv2d and pool_2d (Theano's) and the internal ops
 * of their gradients in ONNX (opset 17).
 *   conv2d               Conv, the filters turned by 180 degrees first when
 *                        filter_flip (Theano convolves; ONNX correlates)
 *   _conv2d_grad_input   ConvTranspose (Conv's adjoint with the same
 *                        attributes, cropped at the start only), cut or
 *                        padded with zeros to x's size
 *   _conv2d_grad_filters per group, Conv of x with gy over the batch axis
 *                        (strides and dilations swap roles)
 *   pool_2d max          MaxPool of the input padded with -inf (explicit Pad,
 *                        so Theano's windows and ignore_border hold)
 *   pool_2d sum/average  MatMul with a constant window matrix built from
 *                        Theano's windows (ops/ops-pool.c), exact in any dtype
 *   _pool_2d_grad        max: ScatterElements of gy at MaxPool's Indices;
 *                        sum/average: MatMul with the window matrix's transpose
 *   _pool_2d_gather      GatherElements at MaxPool's Indices
 * Pooling works on any rank >= 2: the leading axes are folded into one. */
#include "grd-onnx-build.h"
#include "../../ops/ops-conv.h"

#include <math.h>
#include <string.h>

static const char *
shape_of (OnnxBuilder *b, const char *x)
{
  return onnx_out (onnx_node (b, "Shape", NULL, 1, x));
}

/* Shape(x)[start:end] (end 0: to the end). */
static const char *
shape_part (OnnxBuilder *b, const char *x, gint64 start, gint64 end)
{
  OnnxNode *n = onnx_node (b, "Shape", NULL, 1, x);
  onnx_attr_int (b, n, "start", start);
  if (end)
    onnx_attr_int (b, n, "end", end);
  return onnx_out (n);
}

static const char *
flatten_all (OnnxBuilder *b, const char *x)
{
  gint64 minus_one = -1;
  return onnx_out (onnx_node (b, "Reshape", NULL, 2, x, onnx_int64s (b, &minus_one, 1)));
}

static const GrdType *
type_in (OnnxBuilder *b, const GrdNode *node, gint i)
{
  return onnx_in_type (b, node, i);
}

/* ------------------------------------------------------------ conv2d */

typedef struct {
  gint64 pads[4], strides[2], dilations[2], group;
} ConvAttrs;

/* ONNX's attributes for conv2d's attrs; half and full borders need the
 * filters' static size. */
static gboolean
conv_attrs (const GrdAttrs *a, const GrdType *w, ConvAttrs *c, GError **error)
{
  for (gint k = 0; k < 2; k++) {
    gint64 taps = w->rank == 4 ? w->dims[2 + k] : -1;
    gint64 span = taps < 0 ? -1 : (taps - 1) * a->filter_dilation[k] + 1;
    gint64 pad = 0;
    switch (a->border_mode) {
    case GRD_BORDER_FULL: pad = span - 1; break;
    case GRD_BORDER_HALF: pad = span / 2; break;
    case GRD_BORDER_EXPLICIT: pad = a->border[k]; break;
    default: pad = 0; break;
    }
    if (span < 0 && (a->border_mode == GRD_BORDER_FULL || a->border_mode == GRD_BORDER_HALF)) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                   "the ONNX form of a 'half' or 'full' border needs the filters' size, and "
                   "their static shape leaves it unknown (expected [o, c, kh, kw] with known kh, kw)");
      return FALSE;
    }
    c->pads[k] = c->pads[k + 2] = pad;
    c->strides[k] = a->subsample[k];
    c->dilations[k] = a->filter_dilation[k];
  }
  c->group = a->num_groups;
  return TRUE;
}

static void
set_conv_attrs (OnnxBuilder *b, OnnxNode *n, const ConvAttrs *c, gboolean swap)
{
  onnx_attr_ints (b, n, "pads", c->pads, 4);
  onnx_attr_ints (b, n, "strides", swap ? c->dilations : c->strides, 2);
  onnx_attr_ints (b, n, "dilations", swap ? c->strides : c->dilations, 2);
}

/* w turned by 180 degrees in its last two axes. */
static const char *
flip_hw (OnnxBuilder *b, const char *w)
{
  gint64 starts[2] = { -1, -1 }, ends[2] = { G_MININT64, G_MININT64 };
  gint64 axes[2] = { 2, 3 }, steps[2] = { -1, -1 };
  return onnx_out (onnx_node (b, "Slice", NULL, 5, w, onnx_int64s (b, starts, 2),
                              onnx_int64s (b, ends, 2), onnx_int64s (b, axes, 2),
                              onnx_int64s (b, steps, 2)));
}

static const char *
filters (OnnxBuilder *b, const GrdNode *node, const char *w)
{
  return node->attrs.filter_flip ? flip_hw (b, w) : w;
}

/* The dtype a convolution is computed in: its own, or float32 for a float64
 * one when the export was asked to (ONNX Runtime's Conv and ConvTranspose
 * are float32 only); a float64 one written as it is is noted. */
static GrdDType
conv_compute_dtype (OnnxBuilder *b, const GrdNode *node)
{
  GrdDType dt = node->types[0].dtype;
  if (dt != GRD_DTYPE_FLOAT64)
    return dt;
  if (b->conv_float32)
    return GRD_DTYPE_FLOAT32;
  if (!b->float64_conv)
    b->float64_conv = node->id;
  return dt;
}

/* The name the convolution's last node writes: `out`, or a fresh one cast
 * back to the node's dtype into `out` by conv_result. */
static const char *
conv_last (OnnxBuilder *b, const GrdNode *node, GrdDType cdt, const char *out)
{
  return cdt == node->types[0].dtype ? out : NULL;
}

static void
conv_result (OnnxBuilder *b, const GrdNode *node, GrdDType cdt, const char *value, const char *out)
{
  if (cdt == node->types[0].dtype)
    return;
  OnnxNode *n = onnx_node (b, "Cast", out, 1, value);
  onnx_attr_int (b, n, "to", onnx_dtype (node->types[0].dtype));
}

ONNX_EMITTER (onnx_emit_conv2d)
{
  ConvAttrs c;
  if (!conv_attrs (&node->attrs, type_in (b, node, 1), &c, error))
    return FALSE;
  GrdDType dt = conv_compute_dtype (b, node);
  const char *x = onnx_cast (b, in[0], type_in (b, node, 0)->dtype, dt);
  const char *w = onnx_cast (b, in[1], type_in (b, node, 1)->dtype, dt);
  OnnxNode *n = onnx_node (b, "Conv", conv_last (b, node, dt, out), 2, x, filters (b, node, w));
  set_conv_attrs (b, n, &c, FALSE);
  onnx_attr_int (b, n, "group", c.group);
  conv_result (b, node, dt, onnx_out (n), out);
  return TRUE;
}

/* _conv2d_grad_input (gy, w, x): ConvTranspose (Conv's adjoint) cropped at
 * the start only, so it covers padded rows [p, s (oh - 1) + span); then cut
 * to x's rows, and the rows past the last window (which the forward never
 * read) padded with zeros. */
ONNX_EMITTER (onnx_emit_conv2d_grad_input)
{
  ConvAttrs c;
  if (!conv_attrs (&node->attrs, type_in (b, node, 1), &c, error))
    return FALSE;
  GrdDType dt = conv_compute_dtype (b, node);
  const char *gy = onnx_cast (b, in[0], type_in (b, node, 0)->dtype, dt);
  const char *w = onnx_cast (b, in[1], type_in (b, node, 1)->dtype, dt);
  OnnxNode *t = onnx_node (b, "ConvTranspose", NULL, 2, gy, filters (b, node, w));
  gint64 start_pads[4] = { c.pads[0], c.pads[1], 0, 0 };
  onnx_attr_ints (b, t, "pads", start_pads, 4);
  onnx_attr_ints (b, t, "strides", c.strides, 2);
  onnx_attr_ints (b, t, "dilations", c.dilations, 2);
  onnx_attr_int (b, t, "group", c.group);
  gint64 zero2[2] = { 0, 0 }, hw[2] = { 2, 3 };
  const char *size = shape_part (b, in[2], 2, 0);
  const char *cut = onnx_out (onnx_node (b, "Slice", NULL, 4, onnx_out (t), onnx_int64s (b, zero2, 2),
                                         size, onnx_int64s (b, hw, 2)));
  const char *short_by = onnx_out (onnx_node (b, "Sub", NULL, 2, size, shape_part (b, cut, 2, 0)));
  gint64 zeros[6] = { 0 };
  OnnxNode *pads = onnx_node (b, "Concat", NULL, 2, onnx_int64s (b, zeros, 6), short_by);
  onnx_attr_int (b, pads, "axis", 0);
  OnnxNode *padded = onnx_node (b, "Pad", conv_last (b, node, dt, out), 2, cut, onnx_out (pads));
  conv_result (b, node, dt, onnx_out (padded), out);
  return TRUE;
}

/* _conv2d_grad_filters (x, gy, w): dw[o, c, a, b] = sum over n, i, j of
 * gy[n, o, i, j] x[n, c, i sh + a dh - ph, j sw + b dw - pw], which is a Conv
 * of x as [C, N, H, W] with gy as filters [O, N, oh, ow], stride dh and
 * dilation sh, cut to [kh, kw]. Groups are done one at a time. */
ONNX_EMITTER (onnx_emit_conv2d_grad_filters)
{
  ConvAttrs c;
  if (!conv_attrs (&node->attrs, type_in (b, node, 2), &c, error))
    return FALSE;
  const GrdType *xt = type_in (b, node, 0), *gyt = type_in (b, node, 1);
  GrdDType dt = conv_compute_dtype (b, node);
  gint64 groups = c.group;
  if (groups > 1 && (xt->dims[1] < 0 || gyt->dims[1] < 0)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "the ONNX form of a grouped convolution's filter gradient needs the channel "
                 "counts, and the static shapes leave them unknown");
    return FALSE;
  }
  const char *x = onnx_cast (b, in[0], xt->dtype, dt);
  const char *gy = onnx_cast (b, in[1], gyt->dtype, dt);
  gint64 perm[4] = { 1, 0, 2, 3 };
  gint64 zero2[2] = { 0, 0 }, hw[2] = { 2, 3 };
  const char *kernel = shape_part (b, in[2], 2, 4);
  g_autofree const char **parts = g_new0 (const char *, groups);
  for (gint64 g = 0; g < groups; g++) {
    const char *xg = x, *gyg = gy;
    if (groups > 1) {
      gint64 cg = xt->dims[1] / groups, og = gyt->dims[1] / groups;
      gint64 axis = 1, xs = g * cg, xe = xs + cg, ys = g * og, ye = ys + og;
      xg = onnx_out (onnx_node (b, "Slice", NULL, 4, x, onnx_int64s (b, &xs, 1),
                                onnx_int64s (b, &xe, 1), onnx_int64s (b, &axis, 1)));
      gyg = onnx_out (onnx_node (b, "Slice", NULL, 4, gy, onnx_int64s (b, &ys, 1),
                                 onnx_int64s (b, &ye, 1), onnx_int64s (b, &axis, 1)));
    }
    OnnxNode *tx = onnx_node (b, "Transpose", NULL, 1, xg);
    onnx_attr_ints (b, tx, "perm", perm, 4);
    OnnxNode *tg = onnx_node (b, "Transpose", NULL, 1, gyg);
    onnx_attr_ints (b, tg, "perm", perm, 4);
    OnnxNode *cv = onnx_node (b, "Conv", NULL, 2, onnx_out (tx), onnx_out (tg));
    set_conv_attrs (b, cv, &c, TRUE);
    const char *cut = onnx_out (onnx_node (b, "Slice", NULL, 4, onnx_out (cv),
                                           onnx_int64s (b, zero2, 2), kernel,
                                           onnx_int64s (b, hw, 2)));
    OnnxNode *back = onnx_node (b, "Transpose", NULL, 1, cut);
    onnx_attr_ints (b, back, "perm", perm, 4);
    parts[g] = onnx_out (back);
  }
  const char *dw = parts[0];
  if (groups > 1) {
    OnnxNode *cat = onnx_node_v (b, "Concat", NULL, (gint) groups, parts);
    onnx_attr_int (b, cat, "axis", 0);
    dw = onnx_out (cat);
  }
  if (node->attrs.filter_flip)
    dw = flip_hw (b, dw);
  OnnxNode *last = onnx_node (b, "Identity", conv_last (b, node, dt, out), 1, dw);
  conv_result (b, node, dt, onnx_out (last), out);
  return TRUE;
}

/* ------------------------------------------------------------ pool_2d */

/* x as [P, 1, H, W]. */
static const char *
planes_of (OnnxBuilder *b, const char *x)
{
  gint64 lead[2] = { -1, 1 };
  OnnxNode *shape = onnx_node (b, "Concat", NULL, 2, onnx_int64s (b, lead, 2),
                               shape_part (b, x, -2, 0));
  onnx_attr_int (b, shape, "axis", 0);
  return onnx_out (onnx_node (b, "Reshape", NULL, 2, x, onnx_out (shape)));
}

/* p ([P, 1, oh, ow] or [P, oh * ow]) shaped as x's leading axes + [oh, ow]. */
static void
unfold_planes (OnnxBuilder *b, const char *p, const char *x, gint64 oh, gint64 ow,
               const char *out)
{
  gint64 tail[2] = { oh, ow };
  OnnxNode *shape = onnx_node (b, "Concat", NULL, 2, shape_part (b, x, 0, -2),
                               onnx_int64s (b, tail, 2));
  onnx_attr_int (b, shape, "axis", 0);
  onnx_node (b, "Reshape", out, 2, p, onnx_out (shape));
}

/* The static pooling geometry; the ONNX forms need the input's last two dims. */
static gboolean
pool_geometry (const GrdNode *node, const GrdType *x, GrdPoolGeom *g, GError **error)
{
  if (x->rank < 2 || x->dims[x->rank - 2] < 0 || x->dims[x->rank - 1] < 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "the ONNX form of pool_2d needs the input's last two dims, and its static "
                 "shape leaves them unknown");
    return FALSE;
  }
  gint64 dims[GRD_MAX_RANK];
  memcpy (dims, x->dims, sizeof (gint64) * x->rank);
  for (gint d = 0; d < x->rank - 2; d++)
    dims[d] = 1;
  return grd_pool_geom (&node->attrs, x->rank, dims, g, error);
}

/* x4 padded with `fill` as Theano's windows need: they start at i * stride
 * in the input padded by [ph, pw], and the last one may run past it
 * (ignore_border false), where nothing is read. */
static const char *
pad_planes (OnnxBuilder *b, const GrdPoolGeom *g, const char *x4, GrdDType dt, double fill)
{
  gint64 end_h = MAX (g->ph, (g->oh - 1) * g->sh + g->wh - g->h - g->ph);
  gint64 end_w = MAX (g->pw, (g->ow - 1) * g->sw + g->ww - g->w - g->pw);
  gint64 pads[8] = { 0, 0, g->ph, g->pw, 0, 0, end_h, end_w };
  return onnx_out (onnx_node (b, "Pad", NULL, 3, x4, onnx_int64s (b, pads, 8),
                              onnx_scalar (b, dt, fill)));
}

/* MaxPool of x4 padded with -inf: output 0 the maxima, output 1 the Indices
 * when asked. */
static OnnxNode *
max_pool (OnnxBuilder *b, const GrdPoolGeom *g, const char *x4, GrdDType dt, gboolean indices,
          const char **padded)
{
  *padded = pad_planes (b, g, x4, dt, -INFINITY);
  OnnxNode *n = onnx_node (b, "MaxPool", NULL, 1, *padded);
  gint64 kernel[2] = { g->wh, g->ww }, strides[2] = { g->sh, g->sw };
  onnx_attr_ints (b, n, "kernel_shape", kernel, 2);
  onnx_attr_ints (b, n, "strides", strides, 2);
  if (indices)
    onnx_node_add_output (b, n, "MaxPool_indices");
  return n;
}

/* The [H * W, oh * ow] matrix of the sum and average modes: column k holds
 * the weights of output k's window over the input (1, or 1 / count). */
static const char *
window_matrix (OnnxBuilder *b, const GrdPoolGeom *g, GrdDType dt, gboolean transposed)
{
  gint64 n_in = g->h * g->w, n_out = g->oh * g->ow;
  gint64 shape[2] = { transposed ? n_out : n_in, transposed ? n_in : n_out };
  g_autoptr (GrdTensor) m = grd_tensor_new (dt, 2, shape);
  for (gint64 i = 0; i < g->oh; i++)
    for (gint64 j = 0; j < g->ow; j++) {
      gint64 r0, r1, c0, c1, count, k = i * g->ow + j;
      grd_pool_window (g, i, j, &r0, &r1, &c0, &c1, &count);
      double weight = g->mode == GRD_POOL_SUM ? 1.0 : count > 0 ? 1.0 / (double) count : 0.0;
      for (gint64 r = r0; r < r1; r++)
        for (gint64 c = c0; c < c1; c++) {
          gint64 q = r * g->w + c;
          grd_tensor_set (m, transposed ? k * n_in + q : q * n_out + k, weight);
        }
    }
  return onnx_initializer (b, NULL, m);
}

/* The window matrix has H W oh ow entries: refused past 2^24 (64 MiB of
 * float32 in the model), with what would fit said. */
#define WINDOW_MATRIX_MAX (G_GINT64_CONSTANT (1) << 24)

static gboolean
window_matrix_fits (const GrdPoolGeom *g, GError **error)
{
  gint64 n_in = g->h * g->w, n_out = g->oh * g->ow;
  if (n_out > 0 && n_in > WINDOW_MATRIX_MAX / n_out) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "the ONNX form of sum and average pooling is a window matrix of H*W x oh*ow "
                 "entries; a %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT " input needs more than %"
                 G_GINT64_FORMAT " (expected an input of fewer pixels, or max pooling)",
                 g->h, g->w, WINDOW_MATRIX_MAX);
    return FALSE;
  }
  return TRUE;
}

/* x as [P, H * W]. */
static const char *
rows_of (OnnxBuilder *b, const char *x, gint64 h, gint64 w)
{
  gint64 shape[2] = { -1, h * w };
  return onnx_out (onnx_node (b, "Reshape", NULL, 2, x, onnx_int64s (b, shape, 2)));
}

ONNX_EMITTER (onnx_emit_pool_2d)
{
  const GrdType *xt = type_in (b, node, 0);
  GrdPoolGeom g;
  if (!pool_geometry (node, xt, &g, error))
    return FALSE;
  GrdDType dt = node->types[0].dtype;
  const char *pooled;
  if (g.mode == GRD_POOL_MAX) {
    const char *padded;
    pooled = onnx_out (max_pool (b, &g, planes_of (b, in[0]), dt, FALSE, &padded));
  } else {
    if (!window_matrix_fits (&g, error))
      return FALSE;
    pooled = onnx_out (onnx_node (b, "MatMul", NULL, 2, rows_of (b, in[0], g.h, g.w),
                                  window_matrix (b, &g, dt, FALSE)));
  }
  unfold_planes (b, pooled, in[0], g.oh, g.ow, out);
  return TRUE;
}

/* _pool_2d_grad (x, gy) */
ONNX_EMITTER (onnx_emit_pool_2d_grad)
{
  const GrdType *xt = type_in (b, node, 0);
  GrdPoolGeom g;
  if (!pool_geometry (node, xt, &g, error))
    return FALSE;
  GrdDType dt = node->types[0].dtype;
  const char *gy = onnx_cast (b, in[1], type_in (b, node, 1)->dtype, dt);
  const char *x = onnx_cast (b, in[0], xt->dtype, dt);
  if (g.mode != GRD_POOL_MAX) {
    if (!window_matrix_fits (&g, error))
      return FALSE;
    const char *spread = onnx_out (onnx_node (b, "MatMul", NULL, 2, rows_of (b, gy, g.oh, g.ow),
                                              window_matrix (b, &g, dt, TRUE)));
    onnx_node (b, "Reshape", out, 2, spread, shape_of (b, x));
    return TRUE;
  }
  /* each window's gradient goes to its first largest element (MaxPool's
   * Indices: flat positions in the padded planes), as Theano and PyTorch do */
  const char *padded;
  OnnxNode *mp = max_pool (b, &g, planes_of (b, x), dt, TRUE, &padded);
  OnnxNode *zeros = onnx_node (b, "ConstantOfShape", NULL, 1, shape_of (b, padded));
  gint64 one = 1;
  g_autoptr (GrdTensor) zero = grd_tensor_new (dt, 1, &one);
  onnx_attr_tensor (b, zeros, "value", onnx_tensor (b, NULL, zero));
  OnnxNode *s = onnx_node (b, "ScatterElements", NULL, 3, flatten_all (b, onnx_out (zeros)),
                           flatten_all (b, mp->output[1]), flatten_all (b, gy));
  onnx_attr_int (b, s, "axis", 0);
  onnx_attr_string (b, s, "reduction", "add");
  const char *back = onnx_out (onnx_node (b, "Reshape", NULL, 2, onnx_out (s), shape_of (b, padded)));
  gint64 starts[2] = { g.ph, g.pw }, ends[2] = { g.ph + g.h, g.pw + g.w }, axes[2] = { 2, 3 };
  const char *cut = onnx_out (onnx_node (b, "Slice", NULL, 4, back, onnx_int64s (b, starts, 2),
                                         onnx_int64s (b, ends, 2), onnx_int64s (b, axes, 2)));
  onnx_node (b, "Reshape", out, 2, cut, shape_of (b, x));
  return TRUE;
}

/* _pool_2d_gather (x, gx): gx read where each window of x has its maximum. */
ONNX_EMITTER (onnx_emit_pool_2d_gather)
{
  const GrdType *xt = type_in (b, node, 0);
  GrdPoolGeom g;
  if (!pool_geometry (node, xt, &g, error))
    return FALSE;
  GrdDType dt = node->types[0].dtype;
  const char *x = onnx_cast (b, in[0], xt->dtype, dt);
  const char *gx = onnx_cast (b, in[1], type_in (b, node, 1)->dtype, dt);
  const char *padded;
  OnnxNode *mp = max_pool (b, &g, planes_of (b, x), dt, TRUE, &padded);
  /* gx padded the same way (the pad is never picked: any value does) */
  const char *gx_padded = pad_planes (b, &g, planes_of (b, gx), dt, 0);
  OnnxNode *pick = onnx_node (b, "GatherElements", NULL, 2, flatten_all (b, gx_padded),
                              flatten_all (b, mp->output[1]));
  onnx_attr_int (b, pick, "axis", 0);
  const char *planes = onnx_out (onnx_node (b, "Reshape", NULL, 2, onnx_out (pick),
                                            shape_of (b, onnx_out (mp))));
  unfold_planes (b, planes, x, g.oh, g.ow, out);
  return TRUE;
}
