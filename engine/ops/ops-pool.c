/* ops-pool.c: pool_2d, Theano's `pool_2d` over the last two axes, with
 * ignore_border true by default, and the internal ops of its gradient:
 *   _pool_2d_grad (x, gy)     the gradient for x, shaped like x (Theano's
 *                             MaxPoolGrad / AveragePoolGrad)
 *   _pool_2d_gather (x, gx)   max mode: gx read at each window's argmax,
 *                             shaped like pool_2d(x) (the gradient of the
 *                             gradient; Theano's DownsampleFactorMaxGradGrad)
 * Windows follow Theano's Pool.perform: they start at i * stride in the
 * padded input; max, sum and average_exc_pad see only the real input,
 * average_inc_pad divides by the window's size in the padded input. The
 * max of a window goes to its first largest element (row-major), as in
 * PyTorch; Theano's CPU code gives it to every tie. */
#include "ops-conv.h"

#include <math.h>
#include <string.h>

static gint64
floor_div (gint64 a, gint64 b)
{
  gint64 q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

gboolean
grd_pool_geom (const GrdAttrs *a, gint rank, const gint64 *xs, GrdPoolGeom *g, GError **error)
{
  memset (g, 0, sizeof *g);
  if (rank < 2) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "expected an input of rank 2 or more, not %d",
                 rank);
    return FALSE;
  }
  if (a->ws[0] < 1 || a->ws[1] < 1) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                 "ws must be two positive sizes [h, w] (it is required)");
    return FALSE;
  }
  g->wh = a->ws[0], g->ww = a->ws[1];
  g->sh = a->pool_stride[0] ? a->pool_stride[0] : g->wh;
  g->sw = a->pool_stride[1] ? a->pool_stride[1] : g->ww;
  g->ph = a->pool_pad[0], g->pw = a->pool_pad[1];
  g->mode = a->pool_mode;
  if (g->sh < 1 || g->sw < 1 || g->ph < 0 || g->pw < 0 || g->ph >= g->wh || g->pw >= g->ww) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                 "stride must be positive and pad smaller than ws (stride [%" G_GINT64_FORMAT ", %"
                 G_GINT64_FORMAT "], pad [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "])",
                 g->sh, g->sw, g->ph, g->pw);
    return FALSE;
  }
  if (!a->ignore_border && (g->ph || g->pw)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "pad needs ignore_border true (as in Theano)");
    return FALSE;
  }
  g->planes = grd_shape_size (rank - 2, xs);
  g->h = xs[rank - 2], g->w = xs[rank - 1];
  gint64 n[2] = { g->h, g->w }, ws[2] = { g->wh, g->ww }, st[2] = { g->sh, g->sw };
  gint64 pad[2] = { g->ph, g->pw }, o[2];
  for (gint k = 0; k < 2; k++) {
    if (n[k] < 0)
      o[k] = GRD_DIM_UNKNOWN;
    else if (a->ignore_border)
      o[k] = MAX (0, floor_div (n[k] + 2 * pad[k] - ws[k], st[k]) + 1);
    else if (st[k] >= ws[k])
      o[k] = floor_div (n[k] - 1, st[k]) + 1;
    else
      o[k] = MAX (0, floor_div (n[k] - 1 - ws[k] + st[k], st[k])) + 1;
  }
  g->oh = o[0], g->ow = o[1];
  return TRUE;
}

void
grd_pool_window (const GrdPoolGeom *g, gint64 i, gint64 j, gint64 *r0, gint64 *r1, gint64 *c0,
                 gint64 *c1, gint64 *count)
{
  gint64 rs = i * g->sh, re = MIN (rs + g->wh, g->h + 2 * g->ph);
  gint64 cs = j * g->sw, ce = MIN (cs + g->ww, g->w + 2 * g->pw);
  if (g->mode == GRD_POOL_AVERAGE_INC_PAD)
    *count = MAX (re - rs, 0) * MAX (ce - cs, 0);
  rs = MAX (rs, g->ph);
  re = MIN (re, g->h + g->ph);
  cs = MAX (cs, g->pw);
  ce = MIN (ce, g->w + g->pw);
  if (g->mode != GRD_POOL_AVERAGE_INC_PAD)
    *count = MAX (re - rs, 0) * MAX (ce - cs, 0);
  *r0 = rs - g->ph, *r1 = MAX (re - g->ph, *r0);
  *c0 = cs - g->pw, *c1 = MAX (ce - g->pw, *c0);
}

static gboolean
pool_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  GrdPoolGeom g;
  if (!grd_pool_geom (attrs, in[0].rank, in[0].dims, &g, error))
    return FALSE;
  if (!grd_dtype_is_float (in[0].dtype)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE, "expected a float input, not %s",
                 grd_dtype_name (in[0].dtype));
    return FALSE;
  }
  gint64 dims[GRD_MAX_RANK];
  memcpy (dims, in[0].dims, sizeof (gint64) * in[0].rank);
  dims[in[0].rank - 2] = g.oh;
  dims[in[0].rank - 1] = g.ow;
  grd_type_set (out, in[0].dtype, in[0].rank, dims);
  return TRUE;
}

/* x, gy -> shaped like x */
static gboolean
pool_grad_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out,
                 GError **error)
{
  GrdType y;
  if (!pool_infer (attrs, &in[0], 1, &y, error))
    return FALSE;
  if (in[1].rank != y.rank) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "the gradient has rank %d, pool_2d's output %d",
                 in[1].rank, y.rank);
    return FALSE;
  }
  grd_type_set (out, grd_dtype_promote (in[0].dtype, in[1].dtype), in[0].rank, in[0].dims);
  return TRUE;
}

/* x, gx -> shaped like pool_2d(x) */
static gboolean
pool_gather_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out,
                   GError **error)
{
  if (!pool_infer (attrs, &in[0], 1, out, error))
    return FALSE;
  if (attrs->pool_mode != GRD_POOL_MAX || in[1].rank != in[0].rank) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "expected max pooling and two inputs of one rank");
    return FALSE;
  }
  out->dtype = grd_dtype_promote (in[0].dtype, in[1].dtype);
  return TRUE;
}

/* The first largest element of the window (a flat index into its plane), -1 if empty. */
static gint64
window_argmax (const GrdPoolGeom *g, const double *plane, gint64 r0, gint64 r1, gint64 c0, gint64 c1)
{
  gint64 best = -1;
  for (gint64 r = r0; r < r1; r++)
    for (gint64 c = c0; c < c1; c++) {
      gint64 k = r * g->w + c;
      if (best < 0 || plane[k] > plane[best] || (isnan (plane[k]) && !isnan (plane[best])))
        best = k;
    }
  return best;
}

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

/* The windows of every output position, computed once per call. */
typedef struct {
  gint64 r0, r1, c0, c1, count;
} Window;

static Window *
windows_of (const GrdPoolGeom *g, GError **error)
{
  Window *w = grd_scratch_try_new ((gsize) (g->oh * g->ow), sizeof (Window), error);
  if (!w)
    return NULL;
  for (gint64 i = 0; i < g->oh; i++)
    for (gint64 j = 0; j < g->ow; j++) {
      Window *v = &w[i * g->ow + j];
      grd_pool_window (g, i, j, &v->r0, &v->r1, &v->c0, &v->c1, &v->count);
    }
  return w;
}

/* Typed kernels for float32 and float64 (the CPU path; the loops above in
 * double are the reference they are tested against): forward, and the
 * gradient scattered back (max: to each window's first largest element). */
#define DEFINE_POOL(T, SUFFIX)                                                                 \
  /* the first largest; the first NaN beats every number (then nothing beats it).            \
   * The comparison picks by select, not branch: on real data which element wins is          \
   * a coin toss per element, and mispredicted branches were most of the pooling's time. */  \
  static inline gint64                                                                         \
  argmax_##SUFFIX (const GrdPoolGeom *g, const T *plane, const Window *v)                      \
  {                                                                                            \
    if (v->r0 >= v->r1 || v->c0 >= v->c1)                                                      \
      return -1;                                                                               \
    gint64 best = v->r0 * g->w + v->c0;                                                        \
    T bv = plane[best];                                                                        \
    if (isnan (bv))                                                                            \
      return best;                                                                             \
    for (gint64 r = v->r0; r < v->r1; r++) {                                                   \
      const T *row = plane + r * g->w;                                                         \
      for (gint64 c = v->c0; c < v->c1; c++) {                                                 \
        T xv = row[c];                                                                         \
        if (G_UNLIKELY (isnan (xv)))                                                           \
          return r * g->w + c;                                                                 \
        gboolean up = xv > bv;                                                                 \
        best = up ? r * g->w + c : best;                                                       \
        bv = up ? xv : bv;                                                                     \
      }                                                                                        \
    }                                                                                          \
    return best;                                                                               \
  }                                                                                            \
                                                                                               \
  /* argmax of every window (kept by the compiled function for the gradient), the            \
   * pooled values read through it, and the gradient scattered back through it */            \
  /* 2x2 windows at stride 2 inside the plane (the common max pool): four                   \
   * loads and three selects a window; a row holding a NaN is redone by argmax. */            \
  static void                                                                                  \
  quad_argmax_##SUFFIX (const GrdPoolGeom *g, const Window *win, const T *plane, gint64 *idx)  \
  {                                                                                            \
    for (gint64 i = 0; i < g->oh; i++) {                                                       \
      const T *u = plane + 2 * i * g->w, *l = u + g->w;                                        \
      gint64 *o = idx + i * g->ow, base = 2 * i * g->w;                                        \
      gboolean nan = FALSE;                                                                    \
      for (gint64 j = 0; j < g->ow; j++) {                                                     \
        T a = u[2 * j], b = u[2 * j + 1], c = l[2 * j], d = l[2 * j + 1];                      \
        nan |= (a != a) | (b != b) | (c != c) | (d != d);                                      \
        /* k: the winner's place 0..3 in arithmetic, m: the max so far (maxss) */            \
        gint64 k = b > a;                                                                      \
        T m = b > a ? b : a;                                                                   \
        gint64 up = c > m;                                                                     \
        k += up * (2 - k);                                                                     \
        m = c > m ? c : m;                                                                     \
        up = d > m;                                                                            \
        k += up * (3 - k);                                                                     \
        o[j] = base + 2 * j + (k & 1) + (k >> 1) * g->w;                                       \
      }                                                                                        \
      if (G_UNLIKELY (nan))                                                                    \
        for (gint64 j = 0; j < g->ow; j++)                                                     \
          o[j] = argmax_##SUFFIX (g, plane, &win[i * g->ow + j]);                              \
    }                                                                                          \
  }                                                                                            \
                                                                                               \
  static void                                                                                  \
  pool_argmax_##SUFFIX (const GrdPoolGeom *g, const Window *win, const T *x, gint64 *idx)      \
  {                                                                                            \
    gint64 hw = g->h * g->w, n = g->oh * g->ow;                                                \
    gboolean quad = g->wh == 2 && g->ww == 2 && g->sh == 2 && g->sw == 2 && g->ph == 0          \
                    && g->pw == 0 && 2 * g->oh <= g->h && 2 * g->ow <= g->w;                   \
    for (gint64 p = 0; p < g->planes; p++) {                                                   \
      if (quad) {                                                                              \
        quad_argmax_##SUFFIX (g, win, x + p * hw, idx + p * n);                                \
        continue;                                                                              \
      }                                                                                        \
      for (gint64 k = 0; k < n; k++)                                                           \
        idx[p * n + k] = argmax_##SUFFIX (g, x + p * hw, &win[k]);                             \
    }                                                                                          \
  }                                                                                            \
                                                                                               \
  static void                                                                                  \
  pool_take_##SUFFIX (const GrdPoolGeom *g, const T *x, const gint64 *idx, T *y)               \
  {                                                                                            \
    gint64 hw = g->h * g->w, n = g->oh * g->ow;                                                \
    for (gint64 p = 0; p < g->planes; p++)                                                     \
      for (gint64 k = 0; k < n; k++) {                                                         \
        gint64 b = idx[p * n + k];                                                             \
        y[p * n + k] = b < 0 ? (T) 0 : x[p * hw + b];                                          \
      }                                                                                        \
  }                                                                                            \
                                                                                               \
  static void                                                                                  \
  pool_scatter_##SUFFIX (const GrdPoolGeom *g, const gint64 *idx, const T *gy, T *gx)          \
  {                                                                                            \
    gint64 hw = g->h * g->w, n = g->oh * g->ow;                                                \
    memset (gx, 0, sizeof (T) * (gsize) (g->planes * hw));                                     \
    for (gint64 p = 0; p < g->planes; p++)                                                     \
      for (gint64 k = 0; k < n; k++) {                                                         \
        gint64 b = idx[p * n + k];                                                             \
        if (b >= 0)                                                                            \
          gx[p * hw + b] += gy[p * n + k];                                                     \
      }                                                                                        \
  }                                                                                            \
                                                                                               \
  static void                                                                                  \
  pool_fwd_##SUFFIX (const GrdPoolGeom *g, const Window *win, const T *x, T *y)                \
  {                                                                                            \
    gint64 hw = g->h * g->w, n = g->oh * g->ow;                                                \
    for (gint64 p = 0; p < g->planes; p++) {                                                   \
      const T *plane = x + p * hw;                                                             \
      T *out = y + p * n;                                                                      \
      for (gint64 k = 0; k < n; k++) {                                                         \
        const Window *v = &win[k];                                                             \
        if (g->mode == GRD_POOL_MAX) {                                                         \
          gint64 b = argmax_##SUFFIX (g, plane, v);                                            \
          out[k] = b < 0 ? (T) 0 : plane[b];                                                   \
          continue;                                                                            \
        }                                                                                      \
        T acc = 0;                                                                             \
        for (gint64 r = v->r0; r < v->r1; r++)                                                 \
          for (gint64 c = v->c0; c < v->c1; c++)                                               \
            acc += plane[r * g->w + c];                                                        \
        out[k] = g->mode == GRD_POOL_SUM ? acc : v->count ? acc / (T) v->count : (T) 0;        \
      }                                                                                        \
    }                                                                                          \
  }                                                                                            \
                                                                                               \
  static void                                                                                  \
  pool_bwd_##SUFFIX (const GrdPoolGeom *g, const Window *win, const T *x, const T *gy, T *gx)  \
  {                                                                                            \
    gint64 hw = g->h * g->w, n = g->oh * g->ow;                                                \
    memset (gx, 0, sizeof (T) * (gsize) (g->planes * hw));                                     \
    for (gint64 p = 0; p < g->planes; p++) {                                                   \
      const T *plane = x + p * hw, *gin = gy + p * n;                                          \
      T *gout = gx + p * hw;                                                                   \
      for (gint64 k = 0; k < n; k++) {                                                         \
        const Window *v = &win[k];                                                             \
        if (g->mode == GRD_POOL_MAX) {                                                         \
          gint64 b = argmax_##SUFFIX (g, plane, v);                                            \
          if (b >= 0)                                                                          \
            gout[b] += gin[k];                                                                 \
          continue;                                                                            \
        }                                                                                      \
        T d = g->mode == GRD_POOL_SUM ? gin[k] : v->count ? gin[k] / (T) v->count : (T) 0;     \
        for (gint64 r = v->r0; r < v->r1; r++)                                                 \
          for (gint64 c = v->c0; c < v->c1; c++)                                               \
            gout[r * g->w + c] += d;                                                           \
      }                                                                                        \
    }                                                                                          \
  }

DEFINE_POOL (float, f32)
DEFINE_POOL (double, f64)

static gboolean
pool_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdTensor *x = in[0];
  GrdPoolGeom g;
  if (!grd_pool_geom (&node->attrs, x->rank, x->shape, &g, error))
    return FALSE;
  gint64 shape[GRD_MAX_RANK];
  memcpy (shape, x->shape, sizeof (gint64) * x->rank);
  shape[x->rank - 2] = g.oh;
  shape[x->rank - 1] = g.ow;
  g_autofree Window *win = windows_of (&g, error);
  GrdTensor *o = win ? grd_tensor_try_new (x->dtype, x->rank, shape, error) : NULL;
  if (!o)
    return FALSE;
  if (x->dtype == GRD_DTYPE_FLOAT32)
    pool_fwd_f32 (&g, win, x->data, o->data);
  else
    pool_fwd_f64 (&g, win, x->data, o->data);
  out[0] = o;
  return TRUE;
}

static gboolean
check_pooled (const GrdPoolGeom *g, const GrdTensor *x, const GrdTensor *t, GError **error)
{
  gboolean ok = t->rank == x->rank && t->shape[t->rank - 2] == g->oh && t->shape[t->rank - 1] == g->ow;
  for (gint d = 0; ok && d < x->rank - 2; d++)
    ok = t->shape[d] == x->shape[d];
  if (ok)
    return TRUE;
  g_autofree char *a = grd_tensor_describe (t), *b = grd_tensor_describe (x);
  g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "%s is not the shape of pool_2d of %s", a, b);
  return FALSE;
}

static gboolean
pool_grad_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdTensor *x = in[0], *gy = in[1];
  GrdPoolGeom g;
  if (!grd_pool_geom (&node->attrs, x->rank, x->shape, &g, error) || !check_pooled (&g, x, gy, error))
    return FALSE;
  /* x chooses the argmax; both are read in the result's dtype */
  GrdDType dt = node->types[0].dtype;
  g_autoptr (GrdTensor) xc = grd_tensor_try_convert (x, dt, error);
  g_autoptr (GrdTensor) gc = xc ? grd_tensor_try_convert (gy, dt, error) : NULL;
  if (!gc)
    return FALSE;
  g_autofree Window *win = windows_of (&g, error);
  GrdTensor *o = win ? grd_tensor_try_new (dt, x->rank, x->shape, error) : NULL;
  if (!o)
    return FALSE;
  if (dt == GRD_DTYPE_FLOAT32)
    pool_bwd_f32 (&g, win, xc->data, gc->data, o->data);
  else
    pool_bwd_f64 (&g, win, xc->data, gc->data, o->data);
  out[0] = o;
  return TRUE;
}

static gboolean
pool_gather_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdTensor *x = in[0], *gx = in[1];
  GrdPoolGeom g;
  if (!grd_pool_geom (&node->attrs, x->rank, x->shape, &g, error))
    return FALSE;
  if (!grd_tensor_same_shape (x, gx)) {
    g_autofree char *a = grd_tensor_describe (gx), *b = grd_tensor_describe (x);
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "%s is not the shape of %s", a, b);
    return FALSE;
  }
  gint64 shape[GRD_MAX_RANK];
  memcpy (shape, x->shape, sizeof (gint64) * x->rank);
  shape[x->rank - 2] = g.oh;
  shape[x->rank - 1] = g.ow;
  g_autofree double *xv = as_doubles (x, error);
  GrdTensor *o = xv ? grd_tensor_try_new (node->types[0].dtype, x->rank, shape, error) : NULL;
  if (!o)
    return FALSE;
  for (gint64 p = 0; p < g.planes; p++)
    for (gint64 i = 0; i < g.oh; i++)
      for (gint64 j = 0; j < g.ow; j++) {
        gint64 r0, r1, c0, c1, count;
        grd_pool_window (&g, i, j, &r0, &r1, &c0, &c1, &count);
        gint64 k = window_argmax (&g, xv + p * g.h * g.w, r0, r1, c0, c1);
        if (k >= 0)
          grd_tensor_set (o, (p * g.oh + i) * g.ow + j, grd_tensor_get (gx, p * g.h * g.w + k));
      }
  out[0] = o;
  return TRUE;
}

/* ------------------------------------------------------------ stored argmax
 * The compiler (grd-pool-argmax.c) splits a max pool_2d whose gradient the
 * same function computes into
 *   _pool_2d_argmax (x)             each window's argmax (int64, a flat index
 *                                   into its plane, -1 for an empty window)
 *   _pool_2d_take (x, idx)          the pooled values read through it
 *   _pool_2d_scatter (x, idx, gy)   the gradient for x, scattered through it
 * so the backward pass does not compare the windows again. The index is the
 * forward's own choice: the first largest element (row-major), a NaN first. */

static gboolean
argmax_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  if (attrs->pool_mode != GRD_POOL_MAX) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "expected max pooling");
    return FALSE;
  }
  if (!pool_infer (attrs, &in[0], 1, out, error))
    return FALSE;
  if (n_in > 1 && (in[1].dtype != GRD_DTYPE_INT64 || in[1].rank != in[0].rank)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE, "expected int64 window indices of rank %d",
                 in[0].rank);
    return FALSE;
  }
  if (n_in == 1)
    out->dtype = GRD_DTYPE_INT64;
  else if (n_in == 3) {  /* scatter: shaped like x */
    if (in[2].dtype != in[0].dtype || in[2].rank != in[0].rank) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE, "expected a gradient of %s and rank %d",
                   grd_dtype_name (in[0].dtype), in[0].rank);
      return FALSE;
    }
    grd_type_set (out, in[0].dtype, in[0].rank, in[0].dims);
  }
  return TRUE;
}

gboolean
grd_pool_argmax_kernel (const GrdAttrs *attrs, gint n_in, GrdTensor *const *in, GrdTensor **out,
                        GError **error)
{
  GrdTensor *x = in[0];
  GrdPoolGeom g;
  if (!grd_pool_geom (attrs, x->rank, x->shape, &g, error))
    return FALSE;
  if (n_in > 1 && (in[1]->dtype != GRD_DTYPE_INT64 || !check_pooled (&g, x, in[1], error))) {
    if (error && !*error)
      g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE, "expected int64 window indices");
    return FALSE;
  }
  if (n_in > 2 && (in[2]->dtype != x->dtype || !check_pooled (&g, x, in[2], error))) {
    if (error && !*error)
      g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE, "expected a gradient of %s",
                   grd_dtype_name (x->dtype));
    return FALSE;
  }
  gint64 shape[GRD_MAX_RANK];
  memcpy (shape, x->shape, sizeof (gint64) * x->rank);
  if (n_in < 3) {
    shape[x->rank - 2] = g.oh;
    shape[x->rank - 1] = g.ow;
  }
  GrdDType dt = n_in == 1 ? GRD_DTYPE_INT64 : x->dtype;
  /* last call's tensor when nobody else holds it */
  GrdTensor *o = *out;
  if (!(o && o->ref_count == 1 && o->dtype == dt && o->rank == x->rank
        && memcmp (o->shape, shape, sizeof (gint64) * x->rank) == 0)) {
    grd_tensor_unref (o);
    o = grd_tensor_try_new (dt, x->rank, shape, error);
    *out = o;
    if (!o)
      return FALSE;
  }
  gboolean f32 = x->dtype == GRD_DTYPE_FLOAT32;
  if (n_in == 1) {
    g_autofree Window *win = windows_of (&g, error);
    if (!win)
      return FALSE;
    if (f32)
      pool_argmax_f32 (&g, win, x->data, o->data);
    else
      pool_argmax_f64 (&g, win, x->data, o->data);
  } else if (n_in == 2) {
    if (f32)
      pool_take_f32 (&g, x->data, in[1]->data, o->data);
    else
      pool_take_f64 (&g, x->data, in[1]->data, o->data);
  } else {
    if (f32)
      pool_scatter_f32 (&g, in[1]->data, in[2]->data, o->data);
    else
      pool_scatter_f64 (&g, in[1]->data, in[2]->data, o->data);
  }
  return TRUE;
}

static gboolean
argmax_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdTensor *o = NULL;
  if (!grd_pool_argmax_kernel (&node->attrs, node->n_inputs, in, &o, error))
    return FALSE;
  out[0] = o;
  return TRUE;
}

static gboolean
pool_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
           GrdRef *ig, GError **error)
{
  if (needed[0])
    ig[0] = grd_build (g, error, "_pool_2d_grad", &node->attrs, 2, node->inputs[0], og[0]);
  return !*error;
}

/* linear in gy; x only chooses the argmax (no gradient) */
static gboolean
pool_grad_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
                GrdRef *ig, GError **error)
{
  if (!needed[1])
    return TRUE;
  if (node->attrs.pool_mode == GRD_POOL_MAX)
    ig[1] = grd_build (g, error, "_pool_2d_gather", &node->attrs, 2, node->inputs[0], og[0]);
  else  /* the adjoint of the adjoint of a linear pooling is the pooling */
    ig[1] = grd_build (g, error, "pool_2d", &node->attrs, 1, og[0]);
  return !*error;
}

static gboolean
pool_gather_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
                  GrdRef *ig, GError **error)
{
  if (needed[1])
    ig[1] = grd_build (g, error, "_pool_2d_grad", &node->attrs, 2, node->inputs[0], og[0]);
  return !*error;
}

static const GrdOpDef pool_ops[] = {
  { "pool_2d", "neural", 1, 1, 1, pool_infer, pool_eval, pool_grad },
  { "_pool_2d_grad", "internal", 2, 2, 1, pool_grad_infer, pool_grad_eval, pool_grad_grad },
  { "_pool_2d_gather", "internal", 2, 2, 1, pool_gather_infer, pool_gather_eval, pool_gather_grad },
  /* made by the compiler only, after differentiation: no gradients */
  { "_pool_2d_argmax", "internal", 1, 1, 1, argmax_infer, argmax_eval, NULL },
  { "_pool_2d_take", "internal", 2, 2, 1, argmax_infer, argmax_eval, NULL },
  { "_pool_2d_scatter", "internal", 3, 3, 1, argmax_infer, argmax_eval, NULL },
};

void
grd_ops_register_pool (GrdOpRegisterFunc add)
{
  for (gsize i = 0; i < G_N_ELEMENTS (pool_ops); i++)
    add (&pool_ops[i]);
}
