/* ops-reduce.c: reductions over axes, with NumPy's dtypes and edge cases.
 *   sum prod      bool/int32/int64 give int64, floats keep their dtype
 *   mean          integers and bool give float64
 *   max min       keep the dtype; NaN propagates; an empty reduction is an error
 *   argmax argmin int64; one axis or none (flattened); first occurrence; NaN wins
 * attrs: axis (int or list, negative allowed, absent = all axes), keepdims.
 *
 * Internal ops for the gradient rules (they keep shapes that are unknown when
 * the graph is built working, since they read the runtime shape of x):
 *   _unreduce (g, x)     g, shaped as the reduction of x, broadcast back to x's shape
 *   _reduce_count (x)    number of reduced elements as a 0-d float (x's dtype or float64)
 *   _prod_others (x)     per element, the product of the other elements of its
 *                        reduction group (float x): the gradient of prod, exact
 *                        with zeros (no division by x)
 *
 * Known limitation: the gradient of _prod_others (so the second derivative of
 * prod) divides by x, and is not finite where x is zero. */
#include "../grd-internal.h"

#include <math.h>
#include <string.h>

typedef enum {
  RED_SUM,
  RED_MEAN,
  RED_PROD,
  RED_MAX,
  RED_MIN,
  RED_ARGMAX,
  RED_ARGMIN,
} RedKind;

static RedKind
kind_of (const GrdNode *node)
{
  const char *n = node->op->name;
  if (g_str_equal (n, "sum"))
    return RED_SUM;
  if (g_str_equal (n, "mean"))
    return RED_MEAN;
  if (g_str_equal (n, "prod"))
    return RED_PROD;
  if (g_str_equal (n, "max"))
    return RED_MAX;
  if (g_str_equal (n, "min"))
    return RED_MIN;
  if (g_str_equal (n, "argmax"))
    return RED_ARGMAX;
  return RED_ARGMIN;
}

static const char *
numpy_name (RedKind k)
{
  return k == RED_MAX ? "maximum" : "minimum";
}

static GrdDType
result_dtype (RedKind k, GrdDType in)
{
  switch (k) {
  case RED_SUM:
  case RED_PROD:
    return grd_dtype_is_float (in) ? in : GRD_DTYPE_INT64;
  case RED_MEAN:
    return grd_dtype_is_float (in) ? in : GRD_DTYPE_FLOAT64;
  case RED_MAX:
  case RED_MIN:
    return in;
  default:
    return GRD_DTYPE_INT64;
  }
}

/* ------------------------------------------------------------ axes */

/* The reduced axes of an input of `rank`: argmax/argmin take one axis or none. */
static gboolean
reduced_mask (RedKind k, const GrdAttrs *attrs, gint rank, gboolean *mask, GError **error)
{
  if ((k == RED_ARGMAX || k == RED_ARGMIN) && attrs->has_axis) {
    gint axis;
    if (!grd_axis_single (attrs, rank, 0, &axis, error))
      return FALSE;
    memset (mask, 0, sizeof (gboolean) * GRD_MAX_RANK);
    mask[axis] = TRUE;
    return TRUE;
  }
  return grd_axes_mask (attrs, rank, mask, error);
}

/* Shape of the result: reduced axes dropped, or kept with size 1. */
static gint
reduced_dims (gint rank, const gint64 *dims, const gboolean *mask, gboolean keepdims,
              gint64 *out)
{
  gint r = 0;
  for (gint d = 0; d < rank; d++) {
    if (!mask[d])
      out[r++] = dims[d];
    else if (keepdims)
      out[r++] = 1;
  }
  return r;
}

/* ------------------------------------------------------------ plan */

/* The input seen as a few merged axes, each either reduced (output stride 0)
 * or kept (its row-major stride in the output). Size-1 axes are dropped and
 * neighbours of the same kind merged, so the innermost loop is long. */
typedef struct {
  gint   n;
  gint64 size[GRD_MAX_RANK];
  gint64 ostride[GRD_MAX_RANK];
  gint64 out_size;   /* elements of the result */
  gint64 count;      /* elements reduced into each result element */
} Plan;

static void
plan_make (Plan *p, gint rank, const gint64 *shape, const gboolean *mask)
{
  gboolean red[GRD_MAX_RANK];
  gint n = 0;
  p->out_size = 1;
  p->count = 1;
  for (gint d = 0; d < rank; d++) {
    if (mask[d])
      p->count = grd_dim_mul (p->count, shape[d]);
    else
      p->out_size = grd_dim_mul (p->out_size, shape[d]);
    if (shape[d] == 1)
      continue;
    if (n > 0 && red[n - 1] == mask[d]) {
      p->size[n - 1] = grd_dim_mul (p->size[n - 1], shape[d]);
      continue;
    }
    red[n] = mask[d];
    p->size[n++] = shape[d];
  }
  gint64 s = 1;
  for (gint d = n - 1; d >= 0; d--) {
    p->ostride[d] = red[d] ? 0 : s;
    if (!red[d])
      s *= p->size[d];
  }
  p->n = n;
}

/* One contiguous run of the input: n elements starting at xoff, going to the
 * output from o with stride `os` (0: all into o; 1: one each). */
typedef void (*Segment) (const void *x, gint64 xoff, void *acc, gint64 o, gint64 n, gint64 os);

static void
plan_run (const Plan *p, gint64 total, const void *x, void *acc, Segment seg)
{
  if (total == 0)
    return;
  gint n = p->n;
  gint64 inner = n > 0 ? p->size[n - 1] : 1;
  gint64 os = n > 0 ? p->ostride[n - 1] : 0;
  gint64 idx[GRD_MAX_RANK] = { 0 };
  gint64 o = 0;
  for (gint64 base = 0; base < total; base += inner) {
    seg (x, base, acc, o, inner, os);
    for (gint d = n - 2; d >= 0; d--) {
      o += p->ostride[d];
      if (++idx[d] < p->size[d])
        break;
      o -= p->ostride[d] * p->size[d];
      idx[d] = 0;
    }
  }
}

/* ------------------------------------------------------------ segments */

/* for (i = 0; i < n; i++) BODY, in fixed blocks of 16 that the compiler turns
 * into vector code at -O2 (it leaves loops of unknown length scalar). */
#define BLOCKED(i, n, BODY)                                                              \
  do {                                                                                   \
    gint64 i##_b = 0;                                                                    \
    for (; i##_b + 16 <= (n); i##_b += 16)                                               \
      for (gint64 i = i##_b; i < i##_b + 16; i++) {                                      \
        BODY;                                                                            \
      }                                                                                  \
    for (gint64 i = i##_b; i < (n); i++) {                                               \
      BODY;                                                                              \
    }                                                                                    \
  } while (0)

/* Sums into double: eight partial sums keep the loop vectorisable and the
 * rounding small; float32 inputs are summed exactly far beyond 1e6 terms. */
#define DEF_SUM_DOUBLE(name, T)                                                          \
  static void name (const void *xv, gint64 xoff, void *accv, gint64 o, gint64 n, gint64 os) \
  {                                                                                      \
    const T *restrict x = (const T *) xv + xoff;                                         \
    double *acc = accv;                                                                  \
    if (os == 0) {                                                                       \
      double s[8] = { 0 };                                                               \
      gint64 i = 0;                                                                      \
      for (; i + 8 <= n; i += 8)                                                         \
        for (gint j = 0; j < 8; j++)                                                     \
          s[j] += x[i + j];                                                              \
      for (; i < n; i++)                                                                 \
        s[0] += x[i];                                                                    \
      acc[o] += ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));       \
    } else {                                                                             \
      double *restrict a = acc + o;                                                      \
      BLOCKED (i, n, a[i] += x[i]);                                                      \
    }                                                                                    \
  }

DEF_SUM_DOUBLE (sum_d_bool, guint8)
DEF_SUM_DOUBLE (sum_d_i32, gint32)
DEF_SUM_DOUBLE (sum_d_i64, gint64)
DEF_SUM_DOUBLE (sum_d_f32, float)
DEF_SUM_DOUBLE (sum_d_f64, double)

/* Integer sums wrap around in int64 as NumPy's do (unsigned: no UB). */
#define DEF_SUM_INT(name, T)                                                             \
  static void name (const void *xv, gint64 xoff, void *accv, gint64 o, gint64 n, gint64 os) \
  {                                                                                      \
    const T *restrict x = (const T *) xv + xoff;                                         \
    guint64 *acc = accv;                                                                 \
    if (os == 0) {                                                                       \
      guint64 s = 0;                                                                     \
      for (gint64 i = 0; i < n; i++)                                                     \
        s += (guint64) (gint64) x[i];                                                    \
      acc[o] += s;                                                                       \
    } else {                                                                             \
      guint64 *restrict a = acc + o;                                                     \
      BLOCKED (i, n, a[i] += (guint64) (gint64) x[i]);                                   \
    }                                                                                    \
  }

DEF_SUM_INT (sum_i_bool, guint8)
DEF_SUM_INT (sum_i_i32, gint32)
DEF_SUM_INT (sum_i_i64, gint64)

#define DEF_PROD_DOUBLE(name, T)                                                         \
  static void name (const void *xv, gint64 xoff, void *accv, gint64 o, gint64 n, gint64 os) \
  {                                                                                      \
    const T *restrict x = (const T *) xv + xoff;                                         \
    double *acc = accv;                                                                  \
    for (gint64 i = 0; i < n; i++)                                                       \
      acc[o + i * os] *= x[i];                                                           \
  }

DEF_PROD_DOUBLE (prod_d_f32, float)
DEF_PROD_DOUBLE (prod_d_f64, double)

#define DEF_PROD_INT(name, T)                                                            \
  static void name (const void *xv, gint64 xoff, void *accv, gint64 o, gint64 n, gint64 os) \
  {                                                                                      \
    const T *restrict x = (const T *) xv + xoff;                                         \
    guint64 *acc = accv;                                                                 \
    for (gint64 i = 0; i < n; i++)                                                       \
      acc[o + i * os] *= (guint64) (gint64) x[i];                                        \
  }

DEF_PROD_INT (prod_i_bool, guint8)
DEF_PROD_INT (prod_i_i32, gint32)
DEF_PROD_INT (prod_i_i64, gint64)

/* The best of a contiguous run, NaN if it holds one (floats). Sixteen
 * independent lanes of selects let the compiler use vector max/min. */
#define LANES 16
#define DEF_ROW_BEST(name, T, BETTER)                                                    \
  static T name (const T *x, gint64 n, T init)                                           \
  {                                                                                      \
    T m[LANES];                                                                          \
    for (gint j = 0; j < LANES; j++)                                                     \
      m[j] = init;                                                                       \
    gint64 i = 0;                                                                        \
    for (; i + LANES <= n; i += LANES)                                                   \
      for (gint j = 0; j < LANES; j++) {                                                 \
        T v = x[i + j];                                                                  \
        m[j] = BETTER (v, m[j]) ? v : m[j];                                              \
      }                                                                                  \
    for (; i < n; i++)                                                                   \
      m[0] = BETTER (x[i], m[0]) ? x[i] : m[0];                                          \
    T r = m[0];                                                                          \
    for (gint j = 1; j < LANES; j++)                                                     \
      r = BETTER (m[j], r) ? m[j] : r;                                                   \
    return r;                                                                            \
  }

/* "v replaces a": for floats a NaN replaces anything and, once there, stays
 * (nothing compares greater than NaN). */
#define INT_GT(v, a) ((v) > (a))
#define INT_LT(v, a) ((v) < (a))
#define FLT_GT(v, a) (((v) > (a)) | ((v) != (v)))
#define FLT_LT(v, a) (((v) < (a)) | ((v) != (v)))

/* max/min straight into the result, which starts at the identity (-inf, ...). */
#define DEF_EXTREME(name, T, BETTER)                                                     \
  DEF_ROW_BEST (name##_row, T, BETTER)                                                   \
  static void name (const void *xv, gint64 xoff, void *accv, gint64 o, gint64 n, gint64 os) \
  {                                                                                      \
    const T *restrict x = (const T *) xv + xoff;                                         \
    T *acc = accv;                                                                       \
    if (os == 0) {                                                                       \
      T v = name##_row (x, n, acc[o]);                                                   \
      acc[o] = BETTER (v, acc[o]) ? v : acc[o];                                          \
      return;                                                                            \
    }                                                                                    \
    T *restrict a = acc + o;                                                             \
    BLOCKED (i, n, a[i] = BETTER (x[i], a[i]) ? x[i] : a[i]);                            \
  }

DEF_EXTREME (max_bool, guint8, INT_GT)
DEF_EXTREME (max_i32, gint32, INT_GT)
DEF_EXTREME (max_i64, gint64, INT_GT)
DEF_EXTREME (max_f32, float, FLT_GT)
DEF_EXTREME (max_f64, double, FLT_GT)
DEF_EXTREME (min_bool, guint8, INT_LT)
DEF_EXTREME (min_i32, gint32, INT_LT)
DEF_EXTREME (min_i64, gint64, INT_LT)
DEF_EXTREME (min_f32, float, FLT_LT)
DEF_EXTREME (min_f64, double, FLT_LT)

/* Indexed by GrdDType. */
static const Segment sum_double_segs[] = { sum_d_bool, sum_d_i32, sum_d_i64, sum_d_f32, sum_d_f64 };
static const Segment sum_int_segs[] = { sum_i_bool, sum_i_i32, sum_i_i64, NULL, NULL };
static const Segment prod_segs[] = { prod_i_bool, prod_i_i32, prod_i_i64, prod_d_f32, prod_d_f64 };
static const Segment max_segs[] = { max_bool, max_i32, max_i64, max_f32, max_f64 };
static const Segment min_segs[] = { min_bool, min_i32, min_i64, min_f32, min_f64 };

static void
fill_identity (GrdTensor *o, RedKind k)
{
  gboolean mx = k == RED_MAX;
  for (gint64 i = 0; i < o->size; i++)
    switch (o->dtype) {
    case GRD_DTYPE_BOOL: ((guint8 *) o->data)[i] = mx ? 0 : 1; break;
    case GRD_DTYPE_INT32: ((gint32 *) o->data)[i] = mx ? G_MININT32 : G_MAXINT32; break;
    case GRD_DTYPE_INT64: ((gint64 *) o->data)[i] = mx ? G_MININT64 : G_MAXINT64; break;
    case GRD_DTYPE_FLOAT32: ((float *) o->data)[i] = mx ? -INFINITY : INFINITY; break;
    case GRD_DTYPE_FLOAT64: ((double *) o->data)[i] = mx ? -INFINITY : INFINITY; break;
    default: g_assert_not_reached ();
    }
}

/* ------------------------------------------------------------ argmax / argmin */

/* Scans the reduced axis (length n, between `outer` and `inner` elements)
 * keeping the first best; a NaN is the best and the first one stays. A
 * contiguous axis (inner 1) finds the best value with vector code, then its
 * first position. */
#define DEF_ARG(name, T, BETTER, ROW_BEST)                                               \
  static void name (const void *xv, gint64 outer, gint64 n, gint64 inner, gint64 *res,  \
                    void *scratch)                                                       \
  {                                                                                      \
    const T *x = xv;                                                                     \
    if (inner == 1) {                                                                    \
      for (gint64 a = 0; a < outer; a++) {                                               \
        const T *row = x + a * n;                                                        \
        T b = ROW_BEST (row, n, row[0]);                                                 \
        gint64 k = 0;                                                                    \
        if (b == b)                                                                      \
          while (row[k] != b)                                                            \
            k++;                                                                         \
        else                                                                             \
          while (row[k] == row[k])                                                       \
            k++;                                                                         \
        res[a] = k;                                                                      \
      }                                                                                  \
      return;                                                                            \
    }                                                                                    \
    T *best = scratch; /* inner elements */                                             \
    for (gint64 a = 0; a < outer; a++) {                                                 \
      const T *row = x + a * n * inner;                                                  \
      gint64 *r = res + a * inner;                                                       \
      for (gint64 i = 0; i < inner; i++) {                                               \
        best[i] = row[i];                                                                \
        r[i] = 0;                                                                        \
      }                                                                                  \
      for (gint64 k = 1; k < n; k++)                                                     \
        for (gint64 i = 0; i < inner; i++) {                                             \
          T v = row[k * inner + i], b = best[i];                                         \
          if (b == b && BETTER (v, b)) {                                                 \
            best[i] = v;                                                                 \
            r[i] = k;                                                                    \
          }                                                                              \
        }                                                                                \
    }                                                                                    \
  }

DEF_ARG (argmax_bool, guint8, INT_GT, max_bool_row)
DEF_ARG (argmax_i32, gint32, INT_GT, max_i32_row)
DEF_ARG (argmax_i64, gint64, INT_GT, max_i64_row)
DEF_ARG (argmax_f32, float, FLT_GT, max_f32_row)
DEF_ARG (argmax_f64, double, FLT_GT, max_f64_row)
DEF_ARG (argmin_bool, guint8, INT_LT, min_bool_row)
DEF_ARG (argmin_i32, gint32, INT_LT, min_i32_row)
DEF_ARG (argmin_i64, gint64, INT_LT, min_i64_row)
DEF_ARG (argmin_f32, float, FLT_LT, min_f32_row)
DEF_ARG (argmin_f64, double, FLT_LT, min_f64_row)

typedef void (*ArgScan) (const void *x, gint64 outer, gint64 n, gint64 inner, gint64 *res,
                         void *scratch);

static const ArgScan argmax_scans[] = { argmax_bool, argmax_i32, argmax_i64, argmax_f32,
                                        argmax_f64 };
static const ArgScan argmin_scans[] = { argmin_bool, argmin_i32, argmin_i64, argmin_f32,
                                        argmin_f64 };

/* ------------------------------------------------------------ public ops */

static gboolean
reduce_infer (RedKind k, const GrdAttrs *attrs, const GrdType *in, GrdType *out, GError **error)
{
  gboolean mask[GRD_MAX_RANK];
  if (!reduced_mask (k, attrs, in[0].rank, mask, error))
    return FALSE;
  gint64 dims[GRD_MAX_RANK];
  gint r = reduced_dims (in[0].rank, in[0].dims, mask, attrs->keepdims, dims);
  if (k == RED_MAX || k == RED_MIN || k == RED_ARGMAX || k == RED_ARGMIN) {
    /* Refuse a reduction known to be empty before the graph runs. */
    gboolean empty = FALSE, out_known_nonempty = TRUE;
    for (gint d = 0; d < in[0].rank; d++) {
      if (mask[d] && in[0].dims[d] == 0)
        empty = TRUE;
      if (!mask[d] && in[0].dims[d] <= 0)  /* zero or unknown */
        out_known_nonempty = FALSE;
    }
    if (empty && out_known_nonempty) {
      if (k == RED_MAX || k == RED_MIN)
        g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                     "zero-size array to reduction operation %s which has no identity",
                     numpy_name (k));
      else
        g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "attempt to get %s of an empty sequence",
                     k == RED_ARGMAX ? "argmax" : "argmin");
      return FALSE;
    }
  }
  grd_type_set (out, result_dtype (k, in[0].dtype), r, dims);
  return TRUE;
}

#define DEF_INFER(name, kind)                                                            \
  static gboolean name (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, \
                        GError **error)                                                  \
  {                                                                                      \
    return reduce_infer (kind, attrs, in, out, error);                                   \
  }

DEF_INFER (sum_infer, RED_SUM)
DEF_INFER (mean_infer, RED_MEAN)
DEF_INFER (prod_infer, RED_PROD)
DEF_INFER (max_infer, RED_MAX)
DEF_INFER (min_infer, RED_MIN)
DEF_INFER (argmax_infer, RED_ARGMAX)
DEF_INFER (argmin_infer, RED_ARGMIN)

static gboolean
arg_eval (RedKind k, const GrdNode *node, GrdTensor *x, GrdTensor **out, GError **error)
{
  gint64 dims[GRD_MAX_RANK] = { 0 }, outer = 1, n = x->size, inner = 1;
  gint r;
  if (node->attrs.has_axis) {
    gint axis;
    if (!grd_axis_single (&node->attrs, x->rank, 0, &axis, error))
      return FALSE;
    gboolean mask[GRD_MAX_RANK] = { 0 };
    mask[axis] = TRUE;
    r = reduced_dims (x->rank, x->shape, mask, node->attrs.keepdims, dims);
    outer = grd_shape_size (axis, x->shape);
    n = x->shape[axis];
    inner = grd_shape_size (x->rank - axis - 1, x->shape + axis + 1);
  } else {
    r = node->attrs.keepdims ? x->rank : 0;
    for (gint d = 0; d < r; d++)
      dims[d] = 1;
  }
  if (n == 0 && outer * inner > 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "attempt to get %s of an empty sequence",
                 k == RED_ARGMAX ? "argmax" : "argmin");
    return FALSE;
  }
  GrdTensor *o = grd_tensor_try_new (GRD_DTYPE_INT64, r, dims, error);
  if (!o)
    return FALSE;
  /* the best value of each column so far, for a strided axis */
  g_autofree void *best = inner > 1 ? grd_scratch_try_new ((gsize) inner, sizeof (gint64), error) : NULL;
  if (inner > 1 && !best) {
    grd_tensor_unref (o);
    return FALSE;
  }
  if (n > 0)
    (k == RED_ARGMAX ? argmax_scans : argmin_scans)[x->dtype] (x->data, outer, n, inner, o->data,
                                                               best);
  out[0] = o;
  return TRUE;
}

static gboolean
reduce_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  RedKind k = kind_of (node);
  GrdTensor *x = in[0];
  if (k == RED_ARGMAX || k == RED_ARGMIN)
    return arg_eval (k, node, x, out, error);
  gboolean mask[GRD_MAX_RANK];
  if (!grd_axes_mask (&node->attrs, x->rank, mask, error))
    return FALSE;
  gint64 dims[GRD_MAX_RANK];
  gint r = reduced_dims (x->rank, x->shape, mask, node->attrs.keepdims, dims);
  Plan p;
  plan_make (&p, x->rank, x->shape, mask);
  GrdDType dt = result_dtype (k, x->dtype);
  GrdTensor *o = grd_tensor_try_new (dt, r, dims, error);
  if (!o)
    return FALSE;
  g_assert (o->size == p.out_size);

  if (k == RED_MAX || k == RED_MIN) {
    if (p.count == 0 && p.out_size > 0) {
      grd_tensor_unref (o);
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                   "zero-size array to reduction operation %s which has no identity",
                   numpy_name (k));
      return FALSE;
    }
    fill_identity (o, k);
    plan_run (&p, x->size, x->data, o->data, (k == RED_MAX ? max_segs : min_segs)[x->dtype]);
  } else if (dt == GRD_DTYPE_INT64) {
    /* integer sum and prod accumulate in the int64 result itself */
    if (k == RED_PROD)
      for (gint64 i = 0; i < o->size; i++)
        ((gint64 *) o->data)[i] = 1;
    plan_run (&p, x->size, x->data, o->data,
              (k == RED_PROD ? prod_segs : sum_int_segs)[x->dtype]);
  } else {
    g_autofree double *acc = grd_scratch_try_new ((gsize) o->size, sizeof (double), error);
    if (!acc) {
      grd_tensor_unref (o);
      return FALSE;
    }
    for (gint64 i = 0; i < o->size; i++)
      acc[i] = k == RED_PROD ? 1.0 : 0.0;
    plan_run (&p, x->size, x->data, acc, (k == RED_PROD ? prod_segs : sum_double_segs)[x->dtype]);
    if (k == RED_MEAN) {
      /* NumPy gives NaN (with a warning) for the mean of nothing */
      double c = (double) p.count;
      for (gint64 i = 0; i < o->size; i++)
        acc[i] = p.count ? acc[i] / c : NAN;
    }
    if (dt == GRD_DTYPE_FLOAT32)
      for (gint64 i = 0; i < o->size; i++)
        ((float *) o->data)[i] = (float) acc[i];
    else
      memcpy (o->data, acc, sizeof (double) * o->size);
  }
  out[0] = o;
  return TRUE;
}

/* The node's own output, as a reference for gradient rules. */
static GrdRef
self_ref (GrdGraph *g, const GrdNode *node)
{
  return (GrdRef) { grd_graph_find (g, node->id), 0 };
}

static GrdRef
build_unreduce (GrdGraph *g, GError **error, const GrdNode *node, GrdRef grad)
{
  return grd_build (g, error, "_unreduce", &node->attrs, 2, grad, node->inputs[0]);
}

static gboolean
sum_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
          GrdRef *ig, GError **error)
{
  if (needed[0])
    ig[0] = build_unreduce (g, error, node, og[0]);
  return !*error;
}

static gboolean
mean_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
           GrdRef *ig, GError **error)
{
  if (!needed[0])
    return TRUE;
  GrdRef count = grd_build (g, error, "_reduce_count", &node->attrs, 1, node->inputs[0]);
  ig[0] = grd_build (g, error, "div", NULL, 2, build_unreduce (g, error, node, og[0]), count);
  return !*error;
}

static gboolean
prod_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
           GrdRef *ig, GError **error)
{
  if (!needed[0])
    return TRUE;
  /* d prod / d x_i = product of the others, computed without dividing by x_i */
  GrdRef others = grd_build (g, error, "_prod_others", &node->attrs, 1, node->inputs[0]);
  ig[0] = grd_build (g, error, "mul", NULL, 2, build_unreduce (g, error, node, og[0]), others);
  return !*error;
}

static gboolean
extreme_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
              GrdRef *ig, GError **error)
{
  if (!needed[0])
    return TRUE;
  /* The gradient goes to the elements equal to the extreme, split evenly
   * between ties (as PyTorch does). */
  GrdRef x = node->inputs[0];
  GrdRef mask = grd_build (g, error, "eq", NULL, 2, x,
                           build_unreduce (g, error, node, self_ref (g, node)));
  GrdDType gdt = *error ? GRD_DTYPE_FLOAT64 : grd_graph_ref_type (g, og[0])->dtype;
  GrdRef ties = grd_build_cast (g, error, grd_build (g, error, "sum", &node->attrs, 1, mask), gdt);
  GrdRef share = grd_build (g, error, "div", NULL, 2, og[0], ties);
  ig[0] = grd_build (g, error, "mul", NULL, 2, build_unreduce (g, error, node, share), mask);
  return !*error;
}

/* ------------------------------------------------------------ _unreduce */

static gboolean
unreduce_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  gboolean mask[GRD_MAX_RANK];
  if (!grd_axes_mask (attrs, in[1].rank, mask, error))
    return FALSE;
  gint64 dims[GRD_MAX_RANK];
  gint r = reduced_dims (in[1].rank, in[1].dims, mask, attrs->keepdims, dims);
  gboolean ok = r == in[0].rank;
  for (gint d = 0; ok && d < r; d++)
    ok = dims[d] < 0 || in[0].dims[d] < 0 || dims[d] == in[0].dims[d];
  if (!ok) {
    g_autofree char *a = grd_type_describe (&in[0]), *b = grd_type_describe (&in[1]);
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "%s is not the shape of a reduction of %s",
                 a, b);
    return FALSE;
  }
  grd_type_set (out, in[0].dtype, in[1].rank, in[1].dims);
  return TRUE;
}

static gboolean
unreduce_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdTensor *gr = in[0], *x = in[1];
  gboolean mask[GRD_MAX_RANK];
  if (!grd_axes_mask (&node->attrs, x->rank, mask, error))
    return FALSE;
  gint64 dims[GRD_MAX_RANK];
  gint r = reduced_dims (x->rank, x->shape, mask, node->attrs.keepdims, dims);
  gboolean ok = r == gr->rank;
  for (gint d = 0; ok && d < r; d++)
    ok = dims[d] == gr->shape[d];
  if (!ok) {
    g_autofree char *a = grd_tensor_describe (gr), *b = grd_tensor_describe (x);
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "%s is not the shape of a reduction of %s",
                 a, b);
    return FALSE;
  }
  Plan p;
  plan_make (&p, x->rank, x->shape, mask);
  GrdTensor *o = grd_tensor_try_new (gr->dtype, x->rank, x->shape, error);
  if (!o)
    return FALSE;
  gsize es = grd_dtype_size (gr->dtype);
  /* The same walk as a reduction, copying instead of accumulating. */
  gint n = p.n;
  gint64 inner = n > 0 ? p.size[n - 1] : 1, os = n > 0 ? p.ostride[n - 1] : 0;
  gint64 idx[GRD_MAX_RANK] = { 0 }, src = 0;
  char *dst = o->data;
  const char *s = gr->data;
  for (gint64 base = 0; base < o->size; base += inner) {
    if (os == 0 && es == 8) {
      gint64 v;
      memcpy (&v, s + src * 8, 8);
      for (gint64 i = 0; i < inner; i++)
        memcpy (dst + (base + i) * 8, &v, 8);
    } else if (os == 0) {
      for (gint64 i = 0; i < inner; i++)
        memcpy (dst + (base + i) * es, s + src * es, es);
    } else {
      memcpy (dst + base * es, s + src * es, inner * es);
    }
    for (gint d = n - 2; d >= 0; d--) {
      src += p.ostride[d];
      if (++idx[d] < p.size[d])
        break;
      src -= p.ostride[d] * p.size[d];
      idx[d] = 0;
    }
  }
  out[0] = o;
  return TRUE;
}

static gboolean
unreduce_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
               GrdRef *ig, GError **error)
{
  /* the broadcast's adjoint is the sum; x only lends its shape */
  if (needed[0])
    ig[0] = grd_build (g, error, "sum", &node->attrs, 1, og[0]);
  return !*error;
}

/* ------------------------------------------------------------ _reduce_count */

static GrdDType
count_dtype (GrdDType x)
{
  return grd_dtype_is_float (x) ? x : GRD_DTYPE_FLOAT64;
}

static gboolean
count_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  gboolean mask[GRD_MAX_RANK];
  if (!grd_axes_mask (attrs, in[0].rank, mask, error))
    return FALSE;
  grd_type_set (out, count_dtype (in[0].dtype), 0, NULL);
  return TRUE;
}

static gboolean
count_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  gboolean mask[GRD_MAX_RANK];
  if (!grd_axes_mask (&node->attrs, in[0]->rank, mask, error))
    return FALSE;
  gint64 c = 1;
  for (gint d = 0; d < in[0]->rank; d++)
    if (mask[d])
      c = grd_dim_mul (c, in[0]->shape[d]);
  out[0] = grd_tensor_new_scalar (count_dtype (in[0]->dtype), (double) c);
  return TRUE;
}

/* ------------------------------------------------------------ _prod_others */

/* Per group: the product of its nonzero elements and how many are zero. Then
 * an element's "others" product is P / x (no zero), P for the only zero, or 0. */
typedef struct {
  const void *x;
  void       *out;
  double     *nonzero;
  gint64     *zeros;
} Others;

/* Segments get the Others context in place of x. */
#define DEF_OTHERS(T)                                                                    \
  static void others_count_##T (const void *cv, gint64 xoff, void *unused, gint64 o,     \
                                gint64 n, gint64 os)                                     \
  {                                                                                      \
    const Others *c = cv;                                                                \
    const T *x = (const T *) c->x + xoff;                                                \
    for (gint64 i = 0; i < n; i++) {                                                     \
      if (x[i] == 0)                                                                     \
        c->zeros[o + i * os]++;                                                          \
      else                                                                               \
        c->nonzero[o + i * os] *= x[i];                                                  \
    }                                                                                    \
  }                                                                                      \
  static void others_fill_##T (const void *cv, gint64 xoff, void *unused, gint64 o,      \
                               gint64 n, gint64 os)                                      \
  {                                                                                      \
    const Others *c = cv;                                                                \
    const T *x = (const T *) c->x + xoff;                                                \
    T *out = (T *) c->out + xoff;                                                        \
    for (gint64 i = 0; i < n; i++) {                                                     \
      gint64 z = c->zeros[o + i * os];                                                   \
      double p = c->nonzero[o + i * os];                                                 \
      out[i] = z == 0 ? p / x[i] : (z == 1 && x[i] == 0) ? p : 0;                        \
    }                                                                                    \
  }

DEF_OTHERS (float)
DEF_OTHERS (double)

static gboolean
others_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  gboolean mask[GRD_MAX_RANK];
  if (!grd_axes_mask (attrs, in[0].rank, mask, error))
    return FALSE;
  if (!grd_dtype_is_float (in[0].dtype)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE, "expected a float input, got %s",
                 grd_dtype_name (in[0].dtype));
    return FALSE;
  }
  *out = in[0];
  return TRUE;
}

static gboolean
others_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdTensor *x = in[0];
  gboolean mask[GRD_MAX_RANK];
  if (!grd_axes_mask (&node->attrs, x->rank, mask, error))
    return FALSE;
  Plan p;
  plan_make (&p, x->rank, x->shape, mask);
  GrdTensor *o = grd_tensor_try_new (x->dtype, x->rank, x->shape, error);
  if (!o)
    return FALSE;
  g_autofree double *nonzero = g_try_new (double, MAX (p.out_size, 1));
  g_autofree gint64 *zeros = g_try_new0 (gint64, MAX (p.out_size, 1));
  if (!nonzero || !zeros) {
    grd_tensor_unref (o);
    g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE, "out of memory for the %" G_GINT64_FORMAT
                 " products of the reduction", p.out_size);
    return FALSE;
  }
  for (gint64 i = 0; i < p.out_size; i++)
    nonzero[i] = 1.0;
  Others c = { x->data, o->data, nonzero, zeros };
  gboolean f32 = x->dtype == GRD_DTYPE_FLOAT32;
  plan_run (&p, x->size, &c, NULL, f32 ? others_count_float : others_count_double);
  plan_run (&p, x->size, &c, NULL, f32 ? others_fill_float : others_fill_double);
  out[0] = o;
  return TRUE;
}

static gboolean
others_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
             GrdRef *ig, GError **error)
{
  if (!needed[0])
    return TRUE;
  /* d others_i / d x_j = prod over k != i, j = others_i / x_j for j != i, so
   * the gradient at j is (sum_i G_i others_i - G_j others_j) / x_j. */
  GrdRef x = node->inputs[0];
  GrdRef go = grd_build (g, error, "mul", NULL, 2, og[0], self_ref (g, node));
  GrdRef total = grd_build (g, error, "_unreduce", &node->attrs, 2,
                            grd_build (g, error, "sum", &node->attrs, 1, go), x);
  ig[0] = grd_build (g, error, "div", NULL, 2, grd_build (g, error, "sub", NULL, 2, total, go), x);
  return !*error;
}

static const GrdOpDef reduce_ops[] = {
  { "sum", "reductions", 1, 1, 1, sum_infer, reduce_eval, sum_grad },
  { "mean", "reductions", 1, 1, 1, mean_infer, reduce_eval, mean_grad },
  { "prod", "reductions", 1, 1, 1, prod_infer, reduce_eval, prod_grad },
  { "max", "reductions", 1, 1, 1, max_infer, reduce_eval, extreme_grad },
  { "min", "reductions", 1, 1, 1, min_infer, reduce_eval, extreme_grad },
  { "argmax", "reductions", 1, 1, 1, argmax_infer, reduce_eval, NULL },
  { "argmin", "reductions", 1, 1, 1, argmin_infer, reduce_eval, NULL },
  { "_unreduce", "internal", 2, 2, 1, unreduce_infer, unreduce_eval, unreduce_grad },
  { "_reduce_count", "internal", 1, 1, 1, count_infer, count_eval, NULL },
  { "_prod_others", "internal", 1, 1, 1, others_infer, others_eval, others_grad },
};

void
grd_ops_register_reduce (GrdOpRegisterFunc add)
{
  for (gsize i = 0; i < G_N_ELEMENTS (reduce_ops); i++)
    add (&reduce_ops[i]);
}
