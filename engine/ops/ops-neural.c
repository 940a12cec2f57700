/* ops-neural.c: softmax, log_softmax, logsumexp, the crossentropies and
 * one_hot, and the internal op that the crossentropy gradient needs:
 *   _onehot_like (t, p)  one-hot of the integer classes t, shaped like p and of
 *                        its dtype (no gradient)
 * Kernels subtract the maximum first, so large inputs stay finite, and sum
 * in double. Gradients are graphs of catalogue ops, so second derivatives
 * work. */
#include "../grd-internal.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------ helpers */

static GrdDType
float_dtype (GrdDType dt)
{
  return grd_dtype_is_float (dt) ? dt : GRD_DTYPE_FLOAT64;
}

static GrdRef
self_ref (GrdGraph *g, const GrdNode *node)
{
  return (GrdRef) { grd_graph_find (g, node->id), 0 };
}

/* A tensor read as doubles: the data itself for float64, a converted copy otherwise. */
typedef struct {
  const double *v;
  double       *owned;
} Doubles;

static void
doubles_clear (Doubles *d)
{
  g_clear_pointer (&d->owned, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Doubles, doubles_clear)

static gboolean
doubles_of (const GrdTensor *t, Doubles *d, GError **error)
{
  if (t->dtype == GRD_DTYPE_FLOAT64) {
    d->v = t->data;
    return TRUE;
  }
  d->owned = grd_scratch_try_new ((gsize) t->size, sizeof (double), error);
  if (!d->owned)
    return FALSE;
  if (t->dtype == GRD_DTYPE_FLOAT32)
    for (gint64 i = 0; i < t->size; i++)
      d->owned[i] = ((const float *) t->data)[i];
  else
    for (gint64 i = 0; i < t->size; i++)
      d->owned[i] = grd_tensor_get (t, i);
  d->v = d->owned;
  return TRUE;
}

/* A new tensor of `dtype` holding a copy of `values`. */
static GrdTensor *
tensor_from (GrdDType dtype, gint rank, const gint64 *shape, const double *values, GError **error)
{
  GrdTensor *o = grd_tensor_try_new (dtype, rank, shape, error);
  if (!o)
    return NULL;
  if (dtype == GRD_DTYPE_FLOAT64)
    memcpy (o->data, values, (gsize) o->size * sizeof (double));
  else if (dtype == GRD_DTYPE_FLOAT32)
    for (gint64 i = 0; i < o->size; i++)
      ((float *) o->data)[i] = (float) values[i];
  else
    for (gint64 i = 0; i < o->size; i++)
      grd_tensor_set (o, i, values[i]);
  return o;
}

/* g (reduced over the axes in `mask`, keepdims false) with those axes put back
 * as size-1 axes, so that it broadcasts against the unreduced input. */
static GrdRef
unreduce (GrdGraph *g, GError **error, GrdRef r, gint rank, const gboolean *mask)
{
  GrdAttrs a;
  grd_attrs_init (&a);
  a.n_pattern = rank;
  for (gint d = 0, k = 0; d < rank; d++)
    a.pattern[d] = mask[d] ? -1 : k++;
  return grd_build (g, error, "dimshuffle", &a, 1, r);
}

/* ------------------------------------------------------------ softmax, log_softmax */

static gboolean
softmax_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  gint axis;
  if (in[0].rank == 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "the input must have at least one axis");
    return FALSE;
  }
  if (!grd_axis_single (attrs, in[0].rank, -1, &axis, error))
    return FALSE;
  grd_type_set (out, float_dtype (in[0].dtype), in[0].rank, in[0].dims);
  return TRUE;
}

typedef enum {
  MODE_SOFTMAX,
  MODE_LOG_SOFTMAX,
  MODE_LOGSUMEXP,
} AxisMode;

/* Blocks of n x inner elements reduced along n with the stable formulas:
 * m = max, s = sum(exp(x - m)); softmax exp(x - m) / s, log_softmax
 * (x - m) - log(s), logsumexp m + log(s) (one value per block column).
 * One exp per element, in the dtype's own precision; sums in double. The
 * inner loops run along memory whichever axis is reduced. m and s hold
 * `inner` doubles. */
#define DEFINE_AXIS_KERNEL(NAME, T, EXP)                                                  \
  static void                                                                             \
  NAME (const T *x, T *y, gint64 outer, gint64 n, gint64 inner, AxisMode mode, double *m, \
        double *s)                                                                        \
  {                                                                                       \
    if (inner == 1) { /* rows: the same steps with locals */                              \
      for (gint64 r = 0; r < outer; r++) {                                                \
        const T *xr = x + r * n;                                                          \
        double mr = -INFINITY, sr = 0;                                                    \
        for (gint64 i = 0; i < n; i++)                                                    \
          mr = MAX (mr, (double) xr[i]);                                                  \
        if (isinf (mr))                                                                   \
          mr = 0;                                                                         \
        T mt = (T) mr;                                                                    \
        if (mode == MODE_SOFTMAX) {                                                       \
          T *yr = y + r * n;                                                              \
          for (gint64 i = 0; i < n; i++) {                                                \
            yr[i] = EXP (xr[i] - mt);                                                     \
            sr += yr[i];                                                                  \
          }                                                                               \
          T inv = (T) (1.0 / sr);                                                         \
          for (gint64 i = 0; i < n; i++)                                                  \
            yr[i] *= inv;                                                                 \
          continue;                                                                       \
        }                                                                                 \
        for (gint64 i = 0; i < n; i++)                                                    \
          sr += EXP (xr[i] - mt);                                                         \
        if (mode == MODE_LOGSUMEXP) {                                                     \
          y[r] = (T) (mr + log (sr));                                                     \
          continue;                                                                       \
        }                                                                                 \
        T *yr = y + r * n, ls = (T) log (sr);                                             \
        for (gint64 i = 0; i < n; i++)                                                    \
          yr[i] = (xr[i] - mt) - ls;                                                      \
      }                                                                                   \
      return;                                                                             \
    }                                                                                     \
    for (gint64 r = 0; r < outer; r++) {                                                  \
      const T *xb = x + r * n * inner;                                                    \
      T *yb = mode == MODE_LOGSUMEXP ? y + r * inner : y + r * n * inner;                 \
      for (gint64 j = 0; j < inner; j++) {                                                \
        m[j] = -INFINITY;                                                                 \
        s[j] = 0;                                                                         \
      }                                                                                   \
      for (gint64 i = 0; i < n; i++)                                                      \
        for (gint64 j = 0; j < inner; j++)                                                \
          m[j] = MAX (m[j], (double) xb[i * inner + j]);                                  \
      /* all -inf, or an inf: let exp and log give what the formula gives */             \
      for (gint64 j = 0; j < inner; j++)                                                  \
        if (isinf (m[j]))                                                                 \
          m[j] = 0;                                                                       \
      for (gint64 i = 0; i < n; i++)                                                      \
        for (gint64 j = 0; j < inner; j++) {                                              \
          T e = EXP (xb[i * inner + j] - (T) m[j]);                                       \
          if (mode == MODE_SOFTMAX)                                                       \
            yb[i * inner + j] = e;                                                        \
          s[j] += e;                                                                      \
        }                                                                                 \
      if (mode == MODE_SOFTMAX) {                                                         \
        for (gint64 j = 0; j < inner; j++)                                                \
          s[j] = 1.0 / s[j];                                                              \
        for (gint64 i = 0; i < n; i++)                                                    \
          for (gint64 j = 0; j < inner; j++)                                              \
            yb[i * inner + j] *= (T) s[j];                                                \
      } else if (mode == MODE_LOG_SOFTMAX) {                                              \
        for (gint64 j = 0; j < inner; j++)                                                \
          s[j] = log (s[j]);                                                              \
        for (gint64 i = 0; i < n; i++)                                                    \
          for (gint64 j = 0; j < inner; j++)                                              \
            yb[i * inner + j] = (xb[i * inner + j] - (T) m[j]) - (T) s[j];                \
      } else {                                                                            \
        for (gint64 j = 0; j < inner; j++)                                                \
          yb[j] = (T) (m[j] + log (s[j]));                                                \
      }                                                                                   \
    }                                                                                     \
  }

DEFINE_AXIS_KERNEL (axis_kernel_f32, float, expf)
DEFINE_AXIS_KERNEL (axis_kernel_f64, double, exp)

/* Runs the kernel of `mode` along `axis` of x into a new tensor of rank/shape. */
static GrdTensor *
along_axis (GrdTensor *x, gint axis, AxisMode mode, gint rank, const gint64 *shape, GError **error)
{
  g_autoptr (GrdTensor) xc = grd_tensor_try_convert (x, grd_dtype_is_float (x->dtype) ? x->dtype
                                                     : GRD_DTYPE_FLOAT64, error);
  if (!xc)
    return NULL;
  gint64 n = x->shape[axis], inner = grd_shape_size (x->rank - axis - 1, x->shape + axis + 1);
  gint64 outer = grd_shape_size (axis, x->shape);
  g_autofree double *m = grd_scratch_try_new ((gsize) inner, sizeof (double), error);
  g_autofree double *s = m ? grd_scratch_try_new ((gsize) inner, sizeof (double), error) : NULL;
  GrdTensor *o = s ? grd_tensor_try_new (xc->dtype, rank, shape, error) : NULL;
  if (!o)
    return NULL;
  if (xc->dtype == GRD_DTYPE_FLOAT32)
    axis_kernel_f32 (xc->data, o->data, outer, n, inner, mode, m, s);
  else
    axis_kernel_f64 (xc->data, o->data, outer, n, inner, mode, m, s);
  return o;
}

static gboolean
softmax_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  gint axis;
  if (!grd_axis_single (&node->attrs, in[0]->rank, -1, &axis, error))
    return FALSE;
  out[0] = along_axis (in[0], axis, MODE_SOFTMAX, in[0]->rank, in[0]->shape, error);
  return out[0] != NULL;
}

static gboolean
log_softmax_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  gint axis;
  if (!grd_axis_single (&node->attrs, in[0]->rank, -1, &axis, error))
    return FALSE;
  out[0] = along_axis (in[0], axis, MODE_LOG_SOFTMAX, in[0]->rank, in[0]->shape, error);
  return out[0] != NULL;
}

/* s * (g - sum(g * s, axis, keepdims)) */
static gboolean
softmax_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
              GrdRef *ig, GError **error)
{
  gint axis;
  if (!grd_axis_single (&node->attrs, node->types[0].rank, -1, &axis, error))
    return FALSE;
  GrdAttrs sa = grd_attrs_axis (axis, TRUE);
  GrdRef s = self_ref (g, node);
  GrdRef gs = grd_build (g, error, "sum", &sa, 1, grd_build (g, error, "mul", NULL, 2, og[0], s));
  ig[0] = grd_build (g, error, "mul", NULL, 2, s, grd_build (g, error, "sub", NULL, 2, og[0], gs));
  return !*error;
}

/* g - exp(y) * sum(g, axis, keepdims) */
static gboolean
log_softmax_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
                  GrdRef *ig, GError **error)
{
  gint axis;
  if (!grd_axis_single (&node->attrs, node->types[0].rank, -1, &axis, error))
    return FALSE;
  GrdAttrs sa = grd_attrs_axis (axis, TRUE);
  GrdRef sm = grd_build (g, error, "exp", NULL, 1, self_ref (g, node));
  GrdRef gs = grd_build (g, error, "sum", &sa, 1, og[0]);
  ig[0] = grd_build (g, error, "sub", NULL, 2, og[0], grd_build (g, error, "mul", NULL, 2, sm, gs));
  return !*error;
}

/* ------------------------------------------------------------ logsumexp */

/* The reduced axes: attrs axis/axes, or the last axis. */
static gboolean
lse_mask (const GrdAttrs *attrs, gint rank, gboolean *mask, GError **error)
{
  if (rank == 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "the input must have at least one axis");
    return FALSE;
  }
  if (attrs->has_axis)
    return grd_axes_mask (attrs, rank, mask, error);
  memset (mask, 0, sizeof (gboolean) * GRD_MAX_RANK);
  mask[rank - 1] = TRUE;
  return TRUE;
}

static gint
reduced_dims (const gboolean *mask, gboolean keepdims, gint rank, const gint64 *dims,
              gint64 *out)
{
  gint k = 0;
  for (gint d = 0; d < rank; d++)
    if (!mask[d])
      out[k++] = dims[d];
    else if (keepdims)
      out[k++] = 1;
  return k;
}

static gboolean
logsumexp_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out,
                 GError **error)
{
  gboolean mask[GRD_MAX_RANK];
  if (!lse_mask (attrs, in[0].rank, mask, error))
    return FALSE;
  gint64 dims[GRD_MAX_RANK];
  gint rank = reduced_dims (mask, attrs->keepdims, in[0].rank, in[0].dims, dims);
  grd_type_set (out, float_dtype (in[0].dtype), rank, dims);
  return TRUE;
}

static gboolean
logsumexp_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdTensor *x = in[0];
  gboolean mask[GRD_MAX_RANK];
  if (!lse_mask (&node->attrs, x->rank, mask, error))
    return FALSE;
  gint64 shape[GRD_MAX_RANK], kept[GRD_MAX_RANK];
  gint rank = reduced_dims (mask, node->attrs.keepdims, x->rank, x->shape, shape);
  gint n_reduced = 0, axis = 0;
  for (gint d = 0; d < x->rank; d++)
    if (mask[d])
      n_reduced++, axis = d;
  if (n_reduced == 1) {
    out[0] = along_axis (x, axis, MODE_LOGSUMEXP, rank, shape, error);
    return out[0] != NULL;
  }
  /* Several axes: visit every element with the output position it reduces to. */
  reduced_dims (mask, TRUE, x->rank, x->shape, kept);
  gint64 n_out = grd_shape_size (x->rank, kept);
  /* Output position of each input element: strides over the kept axes only. */
  gint64 ostride[GRD_MAX_RANK], idx[GRD_MAX_RANK] = { 0 }, s = 1;
  for (gint d = x->rank - 1; d >= 0; d--) {
    ostride[d] = mask[d] ? 0 : s;
    s *= kept[d];
  }
  g_auto (Doubles) xd = { NULL, NULL };
  if (!doubles_of (x, &xd, error))
    return FALSE;
  g_autofree double *m = grd_scratch_try_new ((gsize) n_out, sizeof (double), error);
  g_autofree double *sum = m ? grd_scratch_try_new ((gsize) n_out, sizeof (double), error) : NULL;
  if (!sum)
    return FALSE;
  for (gint64 i = 0; i < n_out; i++)
    m[i] = -INFINITY;
  for (gint pass = 0; pass < 2; pass++) {
    gint64 o = 0;
    for (gint64 i = 0; i < x->size; i++) {
      if (pass == 0)
        m[o] = MAX (m[o], xd.v[i]);
      else
        sum[o] += exp (xd.v[i] - m[o]);
      for (gint d = x->rank - 1; d >= 0; d--) {
        o += ostride[d];
        if (++idx[d] < x->shape[d])
          break;
        o -= ostride[d] * x->shape[d];
        idx[d] = 0;
      }
    }
    if (pass == 0)
      for (gint64 i = 0; i < n_out; i++)
        if (isinf (m[i]))
          m[i] = 0;  /* all -inf, or an inf: log(sum(exp(x))) says it */
  }
  for (gint64 i = 0; i < n_out; i++)
    sum[i] = m[i] + log (sum[i]);
  out[0] = tensor_from (node->types[0].dtype, rank, shape, sum, error);
  return out[0] != NULL;
}

/* g (unreduced) * exp(x - y) (the softmax over the reduced axes) */
static gboolean
logsumexp_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
                GrdRef *ig, GError **error)
{
  GrdRef x = node->inputs[0];
  gint rank = grd_graph_ref_type (g, x)->rank;
  gboolean mask[GRD_MAX_RANK];
  if (!lse_mask (&node->attrs, rank, mask, error))
    return FALSE;
  GrdRef y = self_ref (g, node), gr = og[0];
  if (!node->attrs.keepdims) {
    y = unreduce (g, error, y, rank, mask);
    gr = unreduce (g, error, gr, rank, mask);
  }
  GrdRef sm = grd_build (g, error, "exp", NULL, 1, grd_build (g, error, "sub", NULL, 2, x, y));
  ig[0] = grd_build (g, error, "mul", NULL, 2, gr, sm);
  return !*error;
}

/* ------------------------------------------------------------ categorical_crossentropy */

static gboolean
is_int (GrdDType dt)
{
  return dt == GRD_DTYPE_INT32 || dt == GRD_DTYPE_INT64;
}

/* Static dims of two types that must agree (unknown takes the other). */
static gboolean
merge_dims (const GrdType *a, const GrdType *b, gint rank, gint64 *dims, GError **error)
{
  for (gint d = 0; d < rank; d++) {
    gint64 u = a->dims[d], v = b->dims[d];
    if (u >= 0 && v >= 0 && u != v) {
      g_autofree char *ta = grd_type_describe (a), *tb = grd_type_describe (b);
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                   "probabilities %s and targets %s differ on axis %d", ta, tb, d);
      return FALSE;
    }
    dims[d] = u >= 0 ? u : v;
  }
  return TRUE;
}

static gboolean
cce_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  const GrdType *p = &in[0], *t = &in[1];
  if (!grd_dtype_is_float (p->dtype) || p->rank == 0) {
    g_autofree char *tp = grd_type_describe (p);
    g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE,
                 "the probabilities must be float with at least one axis, got %s", tp);
    return FALSE;
  }
  gint64 dims[GRD_MAX_RANK];
  if (is_int (t->dtype) && t->rank == p->rank - 1) {
    if (!merge_dims (p, t, t->rank, dims, error))
      return FALSE;
    grd_type_set (out, p->dtype, t->rank, dims);
    return TRUE;
  }
  if (grd_dtype_is_float (t->dtype) && t->rank == p->rank) {
    if (!merge_dims (p, t, t->rank, dims, error))
      return FALSE;
    grd_type_set (out, grd_dtype_promote (p->dtype, t->dtype), p->rank - 1, dims);
    return TRUE;
  }
  g_autofree char *tp = grd_type_describe (p), *tt = grd_type_describe (t);
  g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE,
               "targets %s must be integer classes of rank %d or float distributions of the "
               "probabilities' shape %s", tt, p->rank - 1, tp);
  return FALSE;
}

static gboolean
check_same_lead (const GrdTensor *p, const GrdTensor *t, gint n, GError **error)
{
  gboolean ok = t->rank == n;
  for (gint d = 0; ok && d < n; d++)
    ok = p->shape[d] == t->shape[d];
  if (!ok) {
    g_autofree char *a = grd_tensor_describe (p), *b = grd_tensor_describe (t);
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "probabilities %s do not fit targets %s", a, b);
  }
  return ok;
}

/* Class indices, checked against the number of classes. */
static gint64 *
class_indices (const GrdTensor *t, gint64 depth, GError **error)
{
  gint64 *c = grd_scratch_try_new ((gsize) t->size, sizeof (gint64), error);
  if (!c)
    return NULL;
  for (gint64 i = 0; i < t->size; i++) {
    c[i] = t->dtype == GRD_DTYPE_INT32 ? ((const gint32 *) t->data)[i]
                                       : ((const gint64 *) t->data)[i];
    if (c[i] < 0 || c[i] >= depth) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE,
                   "class index %" G_GINT64_FORMAT " (element %" G_GINT64_FORMAT
                   ") is not in 0..%" G_GINT64_FORMAT, c[i], i, depth - 1);
      g_free (c);
      return NULL;
    }
  }
  return c;
}

static gboolean
cce_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdTensor *p = in[0], *t = in[1];
  gboolean classes = is_int (t->dtype);
  gint64 n = p->shape[p->rank - 1], rows = grd_shape_size (p->rank - 1, p->shape);
  if (!check_same_lead (p, t, classes ? p->rank - 1 : p->rank, error))
    return FALSE;
  g_autofree gint64 *c = classes ? class_indices (t, n, error) : NULL;
  if (classes && !c)
    return FALSE;
  g_auto (Doubles) pd = { NULL, NULL };
  g_auto (Doubles) td = { NULL, NULL };
  if (!doubles_of (p, &pd, error) || (!classes && !doubles_of (t, &td, error)))
    return FALSE;
  g_autofree double *loss = grd_scratch_try_new ((gsize) rows, sizeof (double), error);
  if (!loss)
    return FALSE;
  if (classes)
    for (gint64 r = 0; r < rows; r++)
      loss[r] = -log (pd.v[r * n + c[r]]);
  else {
    for (gint64 r = 0; r < rows; r++) {
      double s = 0;
      for (gint64 i = 0; i < n; i++)
        s += td.v[r * n + i] * log (pd.v[r * n + i]);
      loss[r] = -s;
    }
  }
  out[0] = tensor_from (node->types[0].dtype, p->rank - 1, p->shape, loss, error);
  return out[0] != NULL;
}

/* Class indices: -g * onehot / p, with 1 - onehot added to the divisor so a
 * zero probability of another class gives 0, not 0/0. Distributions:
 * -g * t / p for p and -g * log(p) for t. */
static gboolean
cce_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
          GrdRef *ig, GError **error)
{
  GrdRef p = node->inputs[0], t = node->inputs[1];
  gint rank = grd_graph_ref_type (g, p)->rank;
  gboolean mask[GRD_MAX_RANK] = { FALSE };
  mask[rank - 1] = TRUE;
  GrdRef gk = grd_build (g, error, "neg", NULL, 1, unreduce (g, error, og[0], rank, mask));
  if (is_int (grd_graph_ref_type (g, t)->dtype)) {
    if (!needed[0])
      return TRUE;
    GrdRef oh = grd_build (g, error, "_onehot_like", NULL, 2, t, p);
    GrdDType dt = grd_graph_ref_type (g, p)->dtype;
    GrdRef den = grd_build (g, error, "add", NULL, 2, p,
                            grd_build (g, error, "sub", NULL, 2,
                                       grd_build_scalar (g, error, dt, 1.0), oh));
    ig[0] = grd_build (g, error, "div", NULL, 2, grd_build (g, error, "mul", NULL, 2, gk, oh), den);
    return !*error;
  }
  if (needed[0])
    ig[0] = grd_build (g, error, "div", NULL, 2, grd_build (g, error, "mul", NULL, 2, gk, t), p);
  if (needed[1])
    ig[1] = grd_build (g, error, "mul", NULL, 2, gk, grd_build (g, error, "log", NULL, 1, p));
  return !*error;
}

static gboolean
onehot_like_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out,
                   GError **error)
{
  if (!is_int (in[0].dtype) || in[0].rank != in[1].rank - 1) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE,
                 "expected integer classes of rank %d", in[1].rank - 1);
    return FALSE;
  }
  grd_type_set (out, in[1].dtype, in[1].rank, in[1].dims);
  return TRUE;
}

static gboolean
onehot_like_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdTensor *t = in[0], *p = in[1];
  if (!check_same_lead (p, t, p->rank - 1, error))
    return FALSE;
  gint64 n = p->shape[p->rank - 1];
  g_autofree gint64 *c = class_indices (t, n, error);
  if (!c)
    return FALSE;
  GrdTensor *o = grd_tensor_try_new (p->dtype, p->rank, p->shape, error);
  if (!o)
    return FALSE;
  for (gint64 r = 0; r < t->size; r++)
    grd_tensor_set (o, r * n + c[r], 1.0);
  out[0] = o;
  return TRUE;
}

/* ------------------------------------------------------------ binary_crossentropy */

static gboolean
bce_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  gint rank = MAX (in[0].rank, in[1].rank);
  gint64 dims[GRD_MAX_RANK];
  if (!grd_broadcast_types (in, 2, rank, dims, error))
    return FALSE;
  grd_type_set (out, float_dtype (grd_dtype_promote (in[0].dtype, in[1].dtype)), rank, dims);
  return TRUE;
}

static gboolean
bce_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  gint rank;
  gint64 shape[GRD_MAX_RANK], sp[GRD_MAX_RANK], st[GRD_MAX_RANK], idx[GRD_MAX_RANK] = { 0 };
  if (!grd_broadcast_shapes (in, 2, &rank, shape, error))
    return FALSE;
  grd_broadcast_strides (in[0], rank, shape, sp);
  grd_broadcast_strides (in[1], rank, shape, st);
  g_auto (Doubles) pd = { NULL, NULL };
  g_auto (Doubles) td = { NULL, NULL };
  if (!doubles_of (in[0], &pd, error) || !doubles_of (in[1], &td, error))
    return FALSE;
  gint64 size = grd_shape_size (rank, shape), ip = 0, it = 0;
  g_autofree double *y = grd_scratch_try_new ((gsize) size, sizeof (double), error);
  if (!y)
    return FALSE;
  for (gint64 i = 0; i < size; i++) {
    double p = pd.v[ip], t = td.v[it];
    y[i] = -(t * log (p) + (1 - t) * log1p (-p));
    for (gint d = rank - 1; d >= 0; d--) {
      ip += sp[d];
      it += st[d];
      if (++idx[d] < shape[d])
        break;
      ip -= sp[d] * shape[d];
      it -= st[d] * shape[d];
      idx[d] = 0;
    }
  }
  out[0] = tensor_from (node->types[0].dtype, rank, shape, y, error);
  return out[0] != NULL;
}

/* d/dp: g * (p - t) / (p * (1 - p)); d/dt: g * (log(1 - p) - log(p)). */
static gboolean
bce_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
          GrdRef *ig, GError **error)
{
  GrdRef p = node->inputs[0], t = node->inputs[1];
  GrdDType dt = node->types[0].dtype;
  GrdRef one = grd_build_scalar (g, error, dt, 1.0);
  GrdRef one_minus_p = grd_build (g, error, "sub", NULL, 2, one, p);
  if (needed[0]) {
    GrdRef num = grd_build (g, error, "mul", NULL, 2, og[0],
                            grd_build (g, error, "sub", NULL, 2, p, t));
    GrdRef den = grd_build (g, error, "mul", NULL, 2, p, one_minus_p);
    ig[0] = grd_build_reduce_to (g, error, grd_build (g, error, "div", NULL, 2, num, den), p);
  }
  if (needed[1]) {
    GrdRef d = grd_build (g, error, "sub", NULL, 2, grd_build (g, error, "log", NULL, 1, one_minus_p),
                          grd_build (g, error, "log", NULL, 1, p));
    ig[1] = grd_build_reduce_to (g, error, grd_build (g, error, "mul", NULL, 2, og[0], d), t);
  }
  return !*error;
}

/* ------------------------------------------------------------ one_hot */

static gboolean
one_hot_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  if (!is_int (in[0].dtype)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE, "indices must be int32 or int64, not %s",
                 grd_dtype_name (in[0].dtype));
    return FALSE;
  }
  if (attrs->depth < 1) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "depth must be at least 1, got %"
                 G_GINT64_FORMAT, attrs->depth);
    return FALSE;
  }
  if (in[0].rank + 1 > GRD_MAX_RANK) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "the result would have rank %d (at most %d)",
                 in[0].rank + 1, GRD_MAX_RANK);
    return FALSE;
  }
  gint64 dims[GRD_MAX_RANK];
  memcpy (dims, in[0].dims, sizeof (gint64) * in[0].rank);
  dims[in[0].rank] = attrs->depth;
  grd_type_set (out, attrs->has_dtype ? attrs->dtype : GRD_DTYPE_FLOAT32, in[0].rank + 1, dims);
  return TRUE;
}

static gboolean
one_hot_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdTensor *t = in[0];
  gint64 n = node->attrs.depth, shape[GRD_MAX_RANK];
  g_autofree gint64 *c = class_indices (t, n, error);
  if (!c)
    return FALSE;
  memcpy (shape, t->shape, sizeof (gint64) * t->rank);
  shape[t->rank] = n;
  GrdTensor *o = grd_tensor_try_new (node->types[0].dtype, t->rank + 1, shape, error);
  if (!o)
    return FALSE;
  for (gint64 r = 0; r < t->size; r++)
    grd_tensor_set (o, r * n + c[r], 1.0);
  out[0] = o;
  return TRUE;
}

/* ------------------------------------------------------------ table */

static const GrdOpDef neural_ops[] = {
  { "softmax", "neural", 1, 1, 1, softmax_infer, softmax_eval, softmax_grad },
  { "log_softmax", "neural", 1, 1, 1, softmax_infer, log_softmax_eval, log_softmax_grad },
  { "logsumexp", "neural", 1, 1, 1, logsumexp_infer, logsumexp_eval, logsumexp_grad },
  { "categorical_crossentropy", "neural", 2, 2, 1, cce_infer, cce_eval, cce_grad },
  { "binary_crossentropy", "neural", 2, 2, 1, bce_infer, bce_eval, bce_grad },
  { "one_hot", "neural", 1, 1, 1, one_hot_infer, one_hot_eval, NULL },
  { "_onehot_like", "internal", 2, 2, 1, onehot_like_infer, onehot_like_eval, NULL },
};

void
grd_ops_register_neural (GrdOpRegisterFunc add)
{
  for (gsize i = 0; i < G_N_ELEMENTS (neural_ops); i++)
    add (&neural_ops[i]);
}
