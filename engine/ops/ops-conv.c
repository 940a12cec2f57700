/* ops-conv.c: conv2d, Theano's `T.nnet.conv2d`, and the two internal ops
 * of its gradient:
 *   conv2d (x, w)                     input [N, C, H, W], filters [O, C/groups, kh, kw]
 *   _conv2d_grad_input (gy, w, x)     d/dx of <gy, conv2d(x, w)>, shaped like x
 *   _conv2d_grad_filters (x, gy, w)   d/dw of <gy, conv2d(x, w)>, shaped like w
 * all with conv2d's attrs. The last input of each gradient op only gives the
 * run-time shape (strides make the input size ambiguous from gy's). The
 * three are bilinear and each one's gradient is made of the other two and
 * conv2d, so gradients of gradients work.
 * The kernels here are the references: direct loops in double. The CPU
 * compiler replaces them with gemm over im2col (compile/grd-conv.c). */
#include "ops-conv.h"

#include <string.h>

gboolean
grd_conv_attrs_equal (const GrdAttrs *a, const GrdAttrs *b)
{
  return a->border_mode == b->border_mode && a->border[0] == b->border[0]
         && a->border[1] == b->border[1] && a->subsample[0] == b->subsample[0]
         && a->subsample[1] == b->subsample[1] && a->filter_dilation[0] == b->filter_dilation[0]
         && a->filter_dilation[1] == b->filter_dilation[1] && a->num_groups == b->num_groups
         && a->filter_flip == b->filter_flip && a->ws[0] == b->ws[0] && a->ws[1] == b->ws[1]
         && a->pool_stride[0] == b->pool_stride[0] && a->pool_stride[1] == b->pool_stride[1]
         && a->pool_pad[0] == b->pool_pad[0] && a->pool_pad[1] == b->pool_pad[1]
         && a->ignore_border == b->ignore_border && a->pool_mode == b->pool_mode;
}

/* Padding of one axis for a (dilated) filter of `span` taps. */
static gint64
border_pad (const GrdAttrs *a, gint axis, gint64 span)
{
  switch (a->border_mode) {
  case GRD_BORDER_FULL: return span - 1;
  case GRD_BORDER_HALF: return span / 2;
  case GRD_BORDER_EXPLICIT: return a->border[axis];
  default: return 0;
  }
}

static gboolean
attrs_check (const GrdAttrs *a, GError **error)
{
  for (gint k = 0; k < 2; k++) {
    if (a->subsample[k] < 1 || a->filter_dilation[k] < 1) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                   "subsample and filter_dilation must be at least 1, not [%" G_GINT64_FORMAT
                   ", %" G_GINT64_FORMAT "] and [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]",
                   a->subsample[0], a->subsample[1], a->filter_dilation[0], a->filter_dilation[1]);
      return FALSE;
    }
    if (a->border_mode == GRD_BORDER_EXPLICIT && a->border[k] < 0) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "border_mode padding must not be negative");
      return FALSE;
    }
  }
  if (a->num_groups < 1) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "num_groups must be at least 1, not %"
                 G_GINT64_FORMAT, a->num_groups);
    return FALSE;
  }
  return TRUE;
}

/* Output size of one axis, or -1 when the filter does not fit. */
static gint64
out_size (gint64 n, gint64 pad, gint64 span, gint64 stride)
{
  if (n < 0)
    return GRD_DIM_UNKNOWN;
  gint64 room = n + 2 * pad - span;
  return room < 0 ? -2 : room / stride + 1;
}

gboolean
grd_conv_geom (const GrdAttrs *a, const gint64 *xs, const gint64 *ws, GrdConvGeom *g,
               GError **error)
{
  if (!attrs_check (a, error))
    return FALSE;
  memset (g, 0, sizeof *g);
  g->n = xs[0], g->c = xs[1], g->h = xs[2], g->w = xs[3];
  g->o = ws[0], g->cg = ws[1], g->kh = ws[2], g->kw = ws[3];
  g->groups = a->num_groups;
  g->sh = a->subsample[0], g->sw = a->subsample[1];
  g->dh = a->filter_dilation[0], g->dw = a->filter_dilation[1];
  g->flip = a->filter_flip;
  if (g->c % g->groups || g->o % g->groups || g->c / g->groups != g->cg) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                 "the filters' shape [%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",...] does not fit"
                 " %" G_GINT64_FORMAT " input channels in %" G_GINT64_FORMAT " groups (expected"
                 " [k * %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ", kh, kw])",
                 g->o, g->cg, g->c, g->groups, g->groups, g->c / MAX (g->groups, 1));
    return FALSE;
  }
  g->og = g->o / g->groups;
  gint64 span_h = (g->kh - 1) * g->dh + 1, span_w = (g->kw - 1) * g->dw + 1;
  g->ph = border_pad (a, 0, span_h);
  g->pw = border_pad (a, 1, span_w);
  g->oh = out_size (g->h, g->ph, span_h, g->sh);
  g->ow = out_size (g->w, g->pw, span_w, g->sw);
  if (g->kh < 1 || g->kw < 1 || g->oh < 1 || g->ow < 1) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                 "a %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT " filter (dilated to %" G_GINT64_FORMAT
                 "x%" G_GINT64_FORMAT ") does not fit a %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                 " input padded by [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]",
                 g->kh, g->kw, span_h, span_w, g->h, g->w, g->ph, g->pw);
    return FALSE;
  }
  return TRUE;
}

/* ------------------------------------------------------------ types */

static gboolean
float_pair (const GrdType *x, const GrdType *w, GrdDType *dt, GError **error)
{
  *dt = grd_dtype_promote (x->dtype, w->dtype);
  if (!grd_dtype_is_float (*dt)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE, "expected float inputs, not %s and %s",
                 grd_dtype_name (x->dtype), grd_dtype_name (w->dtype));
    return FALSE;
  }
  if (x->rank != 4 || w->rank != 4) {
    g_autofree char *a = grd_type_describe (x), *b = grd_type_describe (w);
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                 "expected an input [N, C, H, W] and filters [O, C / num_groups, kh, kw], not %s"
                 " and %s", a, b);
    return FALSE;
  }
  return TRUE;
}

/* The static output dims of conv2d(x, w): unknown where an input dim is. */
static gboolean
conv_dims (const GrdAttrs *a, const GrdType *x, const GrdType *w, gint64 *dims, GError **error)
{
  if (!attrs_check (a, error))
    return FALSE;
  dims[0] = x->dims[0];
  dims[1] = w->dims[0];
  gint64 groups = a->num_groups;
  if (x->dims[1] >= 0 && w->dims[1] >= 0 && (x->dims[1] % groups || x->dims[1] / groups != w->dims[1])) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                 "filters of %" G_GINT64_FORMAT " channels do not fit %" G_GINT64_FORMAT
                 " input channels in %" G_GINT64_FORMAT " groups", w->dims[1], x->dims[1], groups);
    return FALSE;
  }
  if (w->dims[0] >= 0 && w->dims[0] % groups) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                 "%" G_GINT64_FORMAT " filters do not split into %" G_GINT64_FORMAT " groups",
                 w->dims[0], groups);
    return FALSE;
  }
  for (gint k = 0; k < 2; k++) {
    gint64 kk = w->dims[2 + k];
    if (kk < 0) {
      dims[2 + k] = GRD_DIM_UNKNOWN;
      continue;
    }
    gint64 span = (kk - 1) * a->filter_dilation[k] + 1;
    dims[2 + k] = out_size (x->dims[2 + k], border_pad (a, k, span), span, a->subsample[k]);
    if (dims[2 + k] == -2 || kk == 0) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                   "a filter of %" G_GINT64_FORMAT " taps does not fit an axis of %"
                   G_GINT64_FORMAT, kk, x->dims[2 + k]);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
conv2d_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  GrdDType dt;
  gint64 dims[4];
  if (!float_pair (&in[0], &in[1], &dt, error) || !conv_dims (attrs, &in[0], &in[1], dims, error))
    return FALSE;
  grd_type_set (out, dt, 4, dims);
  return TRUE;
}

/* gy, w, x: the result is shaped like x */
static gboolean
grad_input_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out,
                  GError **error)
{
  GrdDType dt;
  gint64 dims[4];
  if (!float_pair (&in[2], &in[1], &dt, error) || !conv_dims (attrs, &in[2], &in[1], dims, error))
    return FALSE;
  if (in[0].rank != 4) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "the gradient must have rank 4, not %d",
                 in[0].rank);
    return FALSE;
  }
  grd_type_set (out, grd_dtype_promote (in[0].dtype, dt), 4, in[2].dims);
  return TRUE;
}

/* x, gy, w: the result is shaped like w */
static gboolean
grad_filters_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out,
                    GError **error)
{
  GrdDType dt;
  gint64 dims[4];
  if (!float_pair (&in[0], &in[2], &dt, error) || !conv_dims (attrs, &in[0], &in[2], dims, error))
    return FALSE;
  if (in[1].rank != 4) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "the gradient must have rank 4, not %d",
                 in[1].rank);
    return FALSE;
  }
  grd_type_set (out, grd_dtype_promote (in[1].dtype, dt), 4, in[2].dims);
  return TRUE;
}

/* ------------------------------------------------------------ reference kernels */

typedef enum { CONV_FORWARD, CONV_GRAD_INPUT, CONV_GRAD_FILTERS } ConvPass;

static double *
as_doubles (const GrdTensor *t, GError **error)
{
  double *d = grd_scratch_try_new ((gsize) t->size, sizeof (double), error);
  if (!d)
    return NULL;
  for (gint64 i = 0; i < t->size; i++)
    d[i] = grd_tensor_get (t, i);
  return d;
}

static gboolean
check_gy (const GrdConvGeom *g, const GrdTensor *gy, GError **error)
{
  gint64 want[4] = { g->n, g->o, g->oh, g->ow };
  if (gy->rank == 4 && memcmp (gy->shape, want, sizeof want) == 0)
    return TRUE;
  g_autofree char *a = grd_tensor_describe (gy), *b = grd_dims_describe (4, want);
  g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "the gradient %s does not match conv2d's output %s",
               a, b);
  return FALSE;
}

/* Every tap of every output element, in double: y += x w (forward),
 * gx += gy w, gw += gy x. */
static void
conv_reference (const GrdConvGeom *g, ConvPass pass, double *x, double *w,
                double *y)
{
  for (gint64 n = 0; n < g->n; n++)
    for (gint64 o = 0; o < g->o; o++) {
      gint64 grp = o / g->og;
      for (gint64 i = 0; i < g->oh; i++)
        for (gint64 j = 0; j < g->ow; j++) {
          gint64 yi = ((n * g->o + o) * g->oh + i) * g->ow + j;
          double acc = 0;
          for (gint64 c = 0; c < g->cg; c++) {
            gint64 ci = grp * g->cg + c;
            for (gint64 a = 0; a < g->kh; a++) {
              gint64 r = i * g->sh + a * g->dh - g->ph;
              if (r < 0 || r >= g->h)
                continue;
              for (gint64 b = 0; b < g->kw; b++) {
                gint64 s = j * g->sw + b * g->dw - g->pw;
                if (s < 0 || s >= g->w)
                  continue;
                gint64 xi = ((n * g->c + ci) * g->h + r) * g->w + s;
                gint64 wi = grd_conv_tap (g, o * g->cg + c, a, b);
                switch (pass) {
                case CONV_FORWARD: acc += x[xi] * w[wi]; break;
                case CONV_GRAD_INPUT: x[xi] += y[yi] * w[wi]; break;  /* x is gx here */
                case CONV_GRAD_FILTERS: w[wi] += y[yi] * x[xi]; break;  /* w is gw here */
                }
              }
            }
          }
          if (pass == CONV_FORWARD)
            y[yi] = acc;
        }
    }
}

static GrdTensor *
tensor_of (GrdDType dt, const gint64 *shape, const double *v, GError **error)
{
  GrdTensor *o = grd_tensor_try_new (dt, 4, shape, error);
  for (gint64 i = 0; o && i < o->size; i++)
    grd_tensor_set (o, i, v[i]);
  return o;
}

static gboolean
conv2d_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdConvGeom g;
  if (!grd_conv_geom (&node->attrs, in[0]->shape, in[1]->shape, &g, error))
    return FALSE;
  gint64 shape[4] = { g.n, g.o, g.oh, g.ow };
  if (!grd_shape_check_size (4, shape, node->types[0].dtype, error))
    return FALSE;
  g_autofree double *x = as_doubles (in[0], error);
  g_autofree double *w = x ? as_doubles (in[1], error) : NULL;
  g_autofree double *y = w ? grd_scratch_try_new ((gsize) grd_shape_size (4, shape), sizeof (double),
                                                  error) : NULL;
  if (!y)
    return FALSE;
  conv_reference (&g, CONV_FORWARD, x, w, y);
  out[0] = tensor_of (node->types[0].dtype, shape, y, error);
  return out[0] != NULL;
}

static gboolean
grad_input_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdConvGeom g;
  if (!grd_conv_geom (&node->attrs, in[2]->shape, in[1]->shape, &g, error) || !check_gy (&g, in[0], error))
    return FALSE;
  g_autofree double *gy = as_doubles (in[0], error);
  g_autofree double *w = gy ? as_doubles (in[1], error) : NULL;
  g_autofree double *gx = w ? grd_scratch_try_new ((gsize) in[2]->size, sizeof (double), error) : NULL;
  if (!gx)
    return FALSE;
  conv_reference (&g, CONV_GRAD_INPUT, gx, w, gy);
  out[0] = tensor_of (node->types[0].dtype, in[2]->shape, gx, error);
  return out[0] != NULL;
}

static gboolean
grad_filters_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdConvGeom g;
  if (!grd_conv_geom (&node->attrs, in[0]->shape, in[2]->shape, &g, error) || !check_gy (&g, in[1], error))
    return FALSE;
  g_autofree double *x = as_doubles (in[0], error);
  g_autofree double *gy = x ? as_doubles (in[1], error) : NULL;
  g_autofree double *gw = gy ? grd_scratch_try_new ((gsize) in[2]->size, sizeof (double), error) : NULL;
  if (!gw)
    return FALSE;
  conv_reference (&g, CONV_GRAD_FILTERS, x, gw, gy);
  out[0] = tensor_of (node->types[0].dtype, in[2]->shape, gw, error);
  return out[0] != NULL;
}

/* ------------------------------------------------------------ gradients */

static gboolean
conv2d_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
             GrdRef *ig, GError **error)
{
  GrdRef x = node->inputs[0], w = node->inputs[1];
  if (needed[0])
    ig[0] = grd_build (g, error, "_conv2d_grad_input", &node->attrs, 3, og[0], w, x);
  if (needed[1])
    ig[1] = grd_build (g, error, "_conv2d_grad_filters", &node->attrs, 3, x, og[0], w);
  return !*error;
}

/* gx = I(gy, w): d<ggx, gx>/dgy = conv2d(ggx, w); d/dw = F(ggx, gy) */
static gboolean
grad_input_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
                 GrdRef *ig, GError **error)
{
  GrdRef gy = node->inputs[0], w = node->inputs[1], x = node->inputs[2];
  if (needed[0])
    ig[0] = grd_build (g, error, "conv2d", &node->attrs, 2, og[0], w);
  if (needed[1])
    ig[1] = grd_build (g, error, "_conv2d_grad_filters", &node->attrs, 3, og[0], gy, w);
  (void) x;  /* only its shape matters: no gradient */
  return !*error;
}

/* gw = F(x, gy): d<ggw, gw>/dx = I(gy, ggw); d/dgy = conv2d(x, ggw) */
static gboolean
grad_filters_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
                   GrdRef *ig, GError **error)
{
  GrdRef x = node->inputs[0], gy = node->inputs[1];
  if (needed[0])
    ig[0] = grd_build (g, error, "_conv2d_grad_input", &node->attrs, 3, gy, og[0], x);
  if (needed[1])
    ig[1] = grd_build (g, error, "conv2d", &node->attrs, 2, x, og[0]);
  return !*error;
}

static const GrdOpDef conv_ops[] = {
  { "conv2d", "neural", 2, 2, 1, conv2d_infer, conv2d_eval, conv2d_grad },
  { "_conv2d_grad_input", "internal", 3, 3, 1, grad_input_infer, grad_input_eval, grad_input_grad },
  { "_conv2d_grad_filters", "internal", 3, 3, 1, grad_filters_infer, grad_filters_eval,
    grad_filters_grad },
};

void
grd_ops_register_conv (GrdOpRegisterFunc add)
{
  for (gsize i = 0; i < G_N_ELEMENTS (conv_ops); i++)
    add (&conv_ops[i]);
}
