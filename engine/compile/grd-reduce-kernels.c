/* grd-reduce-kernels.c: reductions over axes for the compiled program.
 *
 * Every layout that has one run of reduced axes is seen as [outer, n, inner]
 * (kept axes, the reduced run, kept axes; size-1 axes dropped):
 *   inner == 1  rows: each output reduces a contiguous row of n elements,
 *               with vector lanes along the row;
 *   inner > 1   columns: whole rows of `inner` elements are accumulated into
 *               an array of accumulators (blocks of COL_BLOCK columns, in
 *               L1), so the strided axis is vectorised across the row; rows
 *               are taken in groups combined in registers first (16 for
 *               float32 sums, 8 for float64 sums and max/min, 2 x 4 for
 *               products), one accumulator load and store per group.
 * Work is cut into pieces whose bounds depend only on the shape (rows longer
 * than ROW_CHUNK, and columns taller than a few blocks, are split into
 * chunks whose partial results are combined in order afterwards), so the
 * worker pool changes the speed, never a bit of the result.
 *
 * Accuracy: sums accumulate in float64 for float32 and float64 inputs alike.
 * Along a row: vector lanes over blocks of SUM_BLOCK elements, the block sums
 * added pairwise (a pairwise summation with a 256-element base case; float32
 * rows keep eight float64 lanes along the row instead); down
 * columns: 16 float32 rows (8 float64 rows) added pairwise in the input's
 * type, then into one float64 accumulator per column within a chunk of
 * rows, chunks added in order. prod multiplies in float64 too; max, min, argmax and argmin
 * are exact (NaN wins, first occurrence); logsumexp is max + log(sum(exp(x -
 * max))) with float32 exp from grd-vecmath.c.
 *
 * Layouts with separate reduced runs ([R, K, R]), empty inputs and integer
 * inputs run the op's own (reference) kernel, so results and errors are the
 * reference's. */
#include "grd-reduce-kernels.h"
#include "grd-fuse.h"

#include <math.h>
#include <string.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

typedef enum {
  RK_SUM,
  RK_MEAN,
  RK_PROD,
  RK_MAX,
  RK_MIN,
  RK_ARGMAX,
  RK_ARGMIN,
  RK_LSE,
  RK_REDUCE_TO,
  RK_UNREDUCE,
  RK_COUNT,
} RKind;

static const char *const kind_names[] = {
  "sum", "mean", "prod", "max", "min", "argmax", "argmin", "logsumexp", "_reduce_to", "_unreduce", "_reduce_count",
};

#define ROW_CHUNK 32768       /* longest row piece one task reduces */
#define TASK_ELEMS 65536      /* about this many elements per task */
#define COL_BLOCK 1024        /* columns per accumulator block: 8 KiB of doubles */
#define MAX_ROW_CHUNKS 16     /* a column is cut into at most this many chunks */
#define SUM_BLOCK 256         /* base case of the pairwise row sum */

typedef float  v8f __attribute__ ((vector_size (32)));
typedef double v8d __attribute__ ((vector_size (64)));
typedef float  v16f __attribute__ ((vector_size (64)));
typedef gint32 v16i __attribute__ ((vector_size (64)));
typedef gint64 v8l __attribute__ ((vector_size (64)));

/* Eight float32 to float64: one instruction with AVX-512 (GCC 12 splits
 * __builtin_convertvector of this width into four narrow converts and two
 * inserts, which cost as much as the loads in the column loops). */
static inline v8d
f32_to_f64 (v8f f)
{
#ifdef __AVX512F__
  __m256 m;
  memcpy (&m, &f, 32);
  __m512d d = _mm512_cvtps_pd (m);
  v8d r;
  memcpy (&r, &d, 64);
  return r;
#else
  return __builtin_convertvector (f, v8d);
#endif
}

/* ------------------------------------------------------------ layout */

typedef struct {
  gint64 outer, n, inner;
} Layout;

/* FALSE when the reduced axes are not one run (after dropping size-1 axes). */
static gboolean
layout_of (gint rank, const gint64 *shape, const gboolean *mask, Layout *l)
{
  l->outer = l->n = l->inner = 1;
  gint state = 0;   /* 0 before the reduced run, 1 in it, 2 after it */
  for (gint d = 0; d < rank; d++) {
    if (shape[d] == 1)
      continue;
    if (mask[d]) {
      if (state == 2)
        return FALSE;
      state = 1;
      l->n *= shape[d];
    } else if (state == 0) {
      l->outer *= shape[d];
    } else {
      state = 2;
      l->inner *= shape[d];
    }
  }
  return TRUE;
}

static gint
reduced_dims (gint rank, const gint64 *dims, const gboolean *mask, gboolean keepdims, gint64 *out)
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

/* One call's plan: what is reduced, and the output's dtype and shape. */
typedef struct {
  RKind      kind;
  GrdDType   dt;        /* the reduced tensor's dtype */
  GrdDType   out_dt;
  Layout     l;
  gint       rank;
  gint64     shape[GRD_MAX_RANK];
  const void *x;        /* the reduced tensor's data (the gradient for _unreduce) */
} Plan;

/* FALSE when the fast kernels do not apply (the reference then runs). */
static gboolean
plan_make (RKind kind, const GrdAttrs *attrs, GrdTensor *const *in, Plan *p)
{
  GrdTensor *x = in[0];
  gboolean mask[GRD_MAX_RANK] = { 0 };
  p->kind = kind;
  p->dt = x->dtype;
  p->out_dt = kind == RK_ARGMAX || kind == RK_ARGMIN ? GRD_DTYPE_INT64 : x->dtype;
  p->x = x->data;
  if (!grd_dtype_is_float (x->dtype))
    return FALSE;
  switch (kind) {
  case RK_ARGMAX:
  case RK_ARGMIN:
    if (attrs->has_axis) {
      gint axis;
      if (!grd_axis_single (attrs, x->rank, 0, &axis, NULL))
        return FALSE;
      mask[axis] = TRUE;
    } else {
      for (gint d = 0; d < x->rank; d++)
        mask[d] = TRUE;
    }
    break;
  case RK_LSE:
    if (x->rank == 0)
      return FALSE;
    if (attrs->has_axis) {
      if (!grd_axes_mask (attrs, x->rank, mask, NULL))
        return FALSE;
    } else {
      mask[x->rank - 1] = TRUE;
    }
    break;
  case RK_REDUCE_TO: {
    GrdTensor *like = in[1];
    gint lead = x->rank - like->rank;
    if (lead < 0)
      return FALSE;
    for (gint d = 0; d < x->rank; d++) {
      gint k = d - lead;
      if (k >= 0 && like->shape[k] != 1 && like->shape[k] != x->shape[d])
        return FALSE;
      mask[d] = k < 0 || like->shape[k] == 1;
    }
    p->rank = like->rank;
    memcpy (p->shape, like->shape, sizeof (gint64) * like->rank);
    break;
  }
  case RK_UNREDUCE: {
    GrdTensor *like = in[1];
    if (!grd_axes_mask (attrs, like->rank, mask, NULL))
      return FALSE;
    gint64 dims[GRD_MAX_RANK];
    gint r = reduced_dims (like->rank, like->shape, mask, attrs->keepdims, dims);
    if (r != x->rank || memcmp (dims, x->shape, sizeof (gint64) * r) != 0)
      return FALSE;
    p->rank = like->rank;
    memcpy (p->shape, like->shape, sizeof (gint64) * like->rank);
    if (grd_shape_size (like->rank, like->shape) == 0)
      return FALSE;
    return layout_of (like->rank, like->shape, mask, &p->l);
  }
  default:
    if (!grd_axes_mask (attrs, x->rank, mask, NULL))
      return FALSE;
    break;
  }
  if (kind != RK_REDUCE_TO)
    p->rank = reduced_dims (x->rank, x->shape, mask, attrs->keepdims, p->shape);
  if (x->size == 0)
    return FALSE;   /* empty: the reference's identity, NaN or error */
  return layout_of (x->rank, x->shape, mask, &p->l);
}

/* ------------------------------------------------------------ partial results */

/* A partial reduction of part of a row or column: a is the sum, product or
 * best value (float32 values are exact in a double), b the sum of exps for
 * logsumexp (a its shift), idx the position of the best value. */
typedef struct {
  double a, b;
  gint64 idx;
} Part;

static inline gboolean
better (RKind k, double v, double best)
{
  /* NaN wins and, once there, stays; ties keep the first */
  if (best != best)
    return FALSE;
  if (v != v)
    return TRUE;
  return k == RK_MAX || k == RK_ARGMAX ? v > best : v < best;
}

/* later follows acc in the reduction order */
static void
part_combine (RKind k, Part *acc, const Part *later)
{
  switch (k) {
  case RK_PROD:
    acc->a *= later->a;
    break;
  case RK_MAX:
  case RK_MIN:
  case RK_ARGMAX:
  case RK_ARGMIN:
    if (better (k, later->a, acc->a)) {
      acc->a = later->a;
      acc->idx = later->idx;
    }
    break;
  case RK_LSE: {
    /* shifts are finite (an infinite max becomes 0, as in the reference) */
    double m = MAX (acc->a, later->a);
    acc->b = acc->b * exp (acc->a - m) + later->b * exp (later->a - m);
    acc->a = m;
    break;
  }
  default:
    acc->a += later->a;
  }
}

static void
part_store (const Plan *p, const Part *r, void *out, gint64 o)
{
  double v;
  switch (p->kind) {
  case RK_ARGMAX:
  case RK_ARGMIN:
    ((gint64 *) out)[o] = r->idx;
    return;
  case RK_MEAN:
    v = r->a / (double) p->l.n;
    break;
  case RK_LSE:
    v = r->a + log (r->b);
    break;
  default:
    v = r->a;
  }
  if (p->out_dt == GRD_DTYPE_FLOAT32)
    ((float *) out)[o] = (float) v;
  else
    ((double *) out)[o] = v;
}

/* ------------------------------------------------------------ rows */

static double
pairwise (double *a, gint64 n)
{
  while (n > 1) {
    gint64 h = n / 2;
    for (gint64 i = 0; i < h; i++)
      a[i] = a[2 * i] + a[2 * i + 1];
    if (n & 1)
      a[h] = a[n - 1];
    n = h + (n & 1);
  }
  return n ? a[0] : 0.0;
}

static inline double
hsum8 (v8d a)
{
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

/* sum of at most SUM_BLOCK float32 elements: 64 float32 lanes add 4
 * numbers each, the four vectors are added pairwise (16 numbers a lane),
 * and the 16 lanes are added in float64 */
static double
sum_block_f32 (const float *x, gint64 n)
{
  v16f a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
  gint64 i = 0;
  for (; i + 64 <= n; i += 64) {
    v16f f0, f1, f2, f3;
    memcpy (&f0, x + i, 64);
    memcpy (&f1, x + i + 16, 64);
    memcpy (&f2, x + i + 32, 64);
    memcpy (&f3, x + i + 48, 64);
    a0 += f0;
    a1 += f1;
    a2 += f2;
    a3 += f3;
  }
  for (; i + 16 <= n; i += 16) {
    v16f f0;
    memcpy (&f0, x + i, 64);
    a0 += f0;
  }
  v16f a = (a0 + a1) + (a2 + a3);
  v8f lo, hi;
  memcpy (&lo, &a, 32);
  memcpy (&hi, (const char *) &a + 32, 32);
  double s = hsum8 (f32_to_f64 (lo) + f32_to_f64 (hi));
  for (; i < n; i++)
    s += x[i];
  return s;
}

static double
sum_block_f64 (const double *x, gint64 n)
{
  v8d a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
  gint64 i = 0;
  for (; i + 32 <= n; i += 32) {
    v8d f0, f1, f2, f3;
    memcpy (&f0, x + i, 64);
    memcpy (&f1, x + i + 8, 64);
    memcpy (&f2, x + i + 16, 64);
    memcpy (&f3, x + i + 24, 64);
    a0 += f0;
    a1 += f1;
    a2 += f2;
    a3 += f3;
  }
  double s = hsum8 ((a0 + a1) + (a2 + a3));
  for (; i < n; i++)
    s += x[i];
  return s;
}

/* A float32 row of at most ROW_CHUNK elements: each block's 64 float32
 * lanes (4 numbers each, then added pairwise as above) go into eight
 * float64 lanes that run along the whole row, summed once at the end: one
 * horizontal sum per row instead of one per block (a fifth of the time of
 * rows of 1000). The float64 lanes add n / 128 numbers each. */
static double
sum_row_f32 (const float *x, gint64 n)
{
  v8d acc = { 0 };
  gint64 i = 0;
  for (; i + 64 <= n;) {
    v16f a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
    gint64 end = i + (MIN (SUM_BLOCK, n - i) & ~(gint64) 63);
    for (; i < end; i += 64) {
      v16f f0, f1, f2, f3;
      memcpy (&f0, x + i, 64);
      memcpy (&f1, x + i + 16, 64);
      memcpy (&f2, x + i + 32, 64);
      memcpy (&f3, x + i + 48, 64);
      a0 += f0;
      a1 += f1;
      a2 += f2;
      a3 += f3;
    }
    v16f a = (a0 + a1) + (a2 + a3);
    v8f lo, hi;
    memcpy (&lo, &a, 32);
    memcpy (&hi, (const char *) &a + 32, 32);
    acc += f32_to_f64 (lo) + f32_to_f64 (hi);
  }
  /* the tail, eight at a time while it lasts */
  for (; i + 8 <= n; i += 8) {
    v8f f;
    memcpy (&f, x + i, 32);
    acc += f32_to_f64 (f);
  }
  double s = hsum8 (acc);
  for (; i < n; i++)
    s += x[i];
  return s;
}

/* pairwise over blocks; n <= ROW_CHUNK */
static double
sum_row (const Plan *p, gint64 off, gint64 n)
{
  if (p->dt == GRD_DTYPE_FLOAT32)
    return sum_row_f32 ((const float *) p->x + off, n);
  double blocks[ROW_CHUNK / SUM_BLOCK + 1];
  gint64 nb = 0;
  for (gint64 i = 0; i < n; i += SUM_BLOCK) {
    gint64 len = MIN (SUM_BLOCK, n - i);
    blocks[nb++] = p->dt == GRD_DTYPE_FLOAT32 ? sum_block_f32 ((const float *) p->x + off + i, len)
                                              : sum_block_f64 ((const double *) p->x + off + i, len);
  }
  return pairwise (blocks, nb);
}

static double
prod_row (const Plan *p, gint64 off, gint64 n)
{
  v8d a0 = { 1, 1, 1, 1, 1, 1, 1, 1 }, a1 = a0;
  gint64 i = 0;
  double r = 1;
  if (p->dt == GRD_DTYPE_FLOAT32) {
    const float *x = (const float *) p->x + off;
    for (; i + 16 <= n; i += 16) {
      v8f f0, f1;
      memcpy (&f0, x + i, 32);
      memcpy (&f1, x + i + 8, 32);
      a0 *= f32_to_f64 (f0);
      a1 *= f32_to_f64 (f1);
    }
    for (; i < n; i++)
      r *= x[i];
  } else {
    const double *x = (const double *) p->x + off;
    for (; i + 16 <= n; i += 16) {
      v8d f0, f1;
      memcpy (&f0, x + i, 64);
      memcpy (&f1, x + i + 8, 64);
      a0 *= f0;
      a1 *= f1;
    }
    for (; i < n; i++)
      r *= x[i];
  }
  v8d a = a0 * a1;
  return (((a[0] * a[1]) * (a[2] * a[3])) * ((a[4] * a[5]) * (a[6] * a[7]))) * r;
}

/* The best of a row ignoring NaN, and whether a NaN was seen. Lanes select
 * with masks: v replaces m where v is strictly better. */
#define DEF_BEST_ROW(NAME, T, VT, VI, W, GT)                                              \
  static T NAME (const T *x, gint64 n, T init, gboolean *nan_seen)                        \
  {                                                                                       \
    VT m0, m1;                                                                            \
    VI nan0 = { 0 }, nan1 = { 0 };                                                        \
    for (gint j = 0; j < W; j++)                                                          \
      m0[j] = m1[j] = init;                                                               \
    gint64 i = 0;                                                                         \
    for (; i + 2 * W <= n; i += 2 * W) {                                                  \
      VT v0, v1;                                                                          \
      memcpy (&v0, x + i, sizeof v0);                                                     \
      memcpy (&v1, x + i + W, sizeof v1);                                                 \
      VI s0 = GT (v0, m0), s1 = GT (v1, m1);                                              \
      m0 = (VT) (((VI) v0 & s0) | ((VI) m0 & ~s0));                                       \
      m1 = (VT) (((VI) v1 & s1) | ((VI) m1 & ~s1));                                       \
      nan0 |= v0 != v0;                                                                   \
      nan1 |= v1 != v1;                                                                   \
    }                                                                                     \
    T r = init;                                                                           \
    gboolean nan = FALSE;                                                                 \
    for (gint j = 0; j < W; j++) {                                                        \
      r = GT (m0[j], r) ? m0[j] : r;                                                      \
      r = GT (m1[j], r) ? m1[j] : r;                                                      \
      nan |= nan0[j] != 0 || nan1[j] != 0;                                                \
    }                                                                                     \
    for (; i < n; i++) {                                                                  \
      r = GT (x[i], r) ? x[i] : r;                                                        \
      nan |= x[i] != x[i];                                                                \
    }                                                                                     \
    *nan_seen = nan;                                                                      \
    return r;                                                                             \
  }

#define VGT(a, b) ((a) > (b))
#define VLT(a, b) ((a) < (b))
DEF_BEST_ROW (max_row_f32, float, v16f, v16i, 16, VGT)
DEF_BEST_ROW (min_row_f32, float, v16f, v16i, 16, VLT)
DEF_BEST_ROW (max_row_f64, double, v8d, v8l, 8, VGT)
DEF_BEST_ROW (min_row_f64, double, v8d, v8l, 8, VLT)

/* Max or min ignoring NaN, with lanes the compiler turns into vector
 * max/min; *special is set when the row holds a NaN or an infinity (x * 0
 * is then NaN), and the caller redoes such rows on the exact path. */
#define DEF_FAST_BEST(NAME, T, LANES, OP)                                                 \
  static T NAME (const T *restrict x, gint64 n, T init, gboolean *special)                \
  {                                                                                       \
    T m[LANES], t[LANES];                                                                 \
    for (gint j = 0; j < LANES; j++) {                                                    \
      m[j] = init;                                                                        \
      t[j] = 0;                                                                           \
    }                                                                                     \
    gint64 i = 0;                                                                         \
    for (; i + LANES <= n; i += LANES)                                                    \
      for (gint j = 0; j < LANES; j++) {                                                  \
        T v = x[i + j];                                                                   \
        m[j] = v OP m[j] ? v : m[j];                                                      \
        t[j] += v * 0;                                                                    \
      }                                                                                   \
    if (i < n && n >= LANES) {                                                            \
      /* the last full window, overlapping: max and min do not mind */                    \
      for (gint j = 0; j < LANES; j++) {                                                  \
        T v = x[n - LANES + j];                                                           \
        m[j] = v OP m[j] ? v : m[j];                                                      \
        t[j] += v * 0;                                                                    \
      }                                                                                   \
      i = n;                                                                              \
    }                                                                                     \
    for (gint w = LANES / 2; w >= 1; w /= 2)                                              \
      for (gint j = 0; j < w; j++) {                                                      \
        m[j] = m[j + w] OP m[j] ? m[j + w] : m[j];                                        \
        t[j] += t[j + w];                                                                 \
      }                                                                                   \
    T r = m[0], tt = t[0];                                                                \
    for (; i < n; i++) {                                                                  \
      r = x[i] OP r ? x[i] : r;                                                           \
      tt += x[i] * 0;                                                                     \
    }                                                                                     \
    *special = tt != tt;                                                                  \
    return r;                                                                             \
  }

DEF_FAST_BEST (fast_max_f32, float, 64, >)
DEF_FAST_BEST (fast_min_f32, float, 64, <)
DEF_FAST_BEST (fast_max_f64, double, 32, >)
DEF_FAST_BEST (fast_min_f64, double, 32, <)

#ifdef __AVX512F__
/* With AVX-512: four vector accumulators of vmaxps/vminps (infinities need
 * nothing special; *special is set only for a NaN, found by unordered
 * compares of vector pairs), the last group overlapping the one before,
 * one vector reduction at the end: about half the instructions of the form
 * above, whose 64-lane tree at the end of each row cost as much as a
 * row of 1000 itself. Short rows take the form above. */
#define DEF_FAST_BEST_512(NAME, T, W, M512, MASK, SFX, BEST, REDUCE, SHORT)               \
  static T NAME (const T *restrict x, gint64 n, T init, gboolean *special)                \
  {                                                                                       \
    const gint64 G = 4 * W;                                                               \
    if (n < G)                                                                            \
      return SHORT (x, n, init, special);                                                 \
    M512 m0 = _mm512_set1_##SFX (init), m1 = m0, m2 = m0, m3 = m0;                        \
    MASK nan = 0;                                                                         \
    for (gint64 i = 0;;) {                                                                \
      M512 v0 = _mm512_loadu_##SFX (x + i), v1 = _mm512_loadu_##SFX (x + i + W);         \
      M512 v2 = _mm512_loadu_##SFX (x + i + 2 * W), v3 = _mm512_loadu_##SFX (x + i + 3 * W); \
      m0 = BEST (v0, m0);                                                                 \
      m1 = BEST (v1, m1);                                                                 \
      m2 = BEST (v2, m2);                                                                 \
      m3 = BEST (v3, m3);                                                                 \
      nan |= _mm512_cmp_##SFX##_mask (v0, v1, _CMP_UNORD_Q)                               \
             | _mm512_cmp_##SFX##_mask (v2, v3, _CMP_UNORD_Q);                            \
      if (i + G == n)                                                                     \
        break;                                                                            \
      i = i + 2 * G <= n ? i + G : n - G;                                                 \
    }                                                                                     \
    *special = nan != 0;                                                                  \
    return REDUCE (BEST (BEST (m0, m1), BEST (m2, m3)));                                  \
  }
DEF_FAST_BEST_512 (fast_max512_f32, float, 16, __m512, __mmask16, ps, _mm512_max_ps, _mm512_reduce_max_ps, fast_max_f32)
DEF_FAST_BEST_512 (fast_min512_f32, float, 16, __m512, __mmask16, ps, _mm512_min_ps, _mm512_reduce_min_ps, fast_min_f32)
DEF_FAST_BEST_512 (fast_max512_f64, double, 8, __m512d, __mmask8, pd, _mm512_max_pd, _mm512_reduce_max_pd, fast_max_f64)
DEF_FAST_BEST_512 (fast_min512_f64, double, 8, __m512d, __mmask8, pd, _mm512_min_pd, _mm512_reduce_min_pd, fast_min_f64)
#define FAST_MAX_f32 fast_max512_f32
#define FAST_MIN_f32 fast_min512_f32
#define FAST_MAX_f64 fast_max512_f64
#define FAST_MIN_f64 fast_min512_f64
#else
#define FAST_MAX_f32 fast_max_f32
#define FAST_MIN_f32 fast_min_f32
#define FAST_MAX_f64 fast_max_f64
#define FAST_MIN_f64 fast_min_f64
#endif

/* max or min of a row, NaN when it holds one */
static double
best_row (const Plan *p, gboolean want_max, gint64 off, gint64 n)
{
  gboolean nan, special;
  double r;
  if (p->dt == GRD_DTYPE_FLOAT32) {
    const float *x = (const float *) p->x + off;
    r = want_max ? FAST_MAX_f32 (x, n, -INFINITY, &special) : FAST_MIN_f32 (x, n, INFINITY, &special);
    if (special)
      r = want_max ? max_row_f32 (x, n, -INFINITY, &nan) : min_row_f32 (x, n, INFINITY, &nan);
  } else {
    const double *x = (const double *) p->x + off;
    r = want_max ? FAST_MAX_f64 (x, n, -INFINITY, &special) : FAST_MIN_f64 (x, n, INFINITY, &special);
    if (special)
      r = want_max ? max_row_f64 (x, n, -INFINITY, &nan) : min_row_f64 (x, n, INFINITY, &nan);
  }
  return special && nan ? NAN : r;
}

typedef gint32 v8i __attribute__ ((vector_size (32)));
typedef gint32 v4i __attribute__ ((vector_size (16)));

/* whether any lane of a 64-byte compare mask is set: halves ORed down to
 * 128 bits, so the test is a few vector ops and one branch */
static inline gboolean
any_lane (v16i e)
{
  v8i h = __builtin_shufflevector (e, e, 0, 1, 2, 3, 4, 5, 6, 7)
          | __builtin_shufflevector (e, e, 8, 9, 10, 11, 12, 13, 14, 15);
  v4i q = __builtin_shufflevector (h, h, 0, 1, 2, 3) | __builtin_shufflevector (h, h, 4, 5, 6, 7);
  guint64 lo, hi;
  memcpy (&lo, &q, 8);
  memcpy (&hi, (const char *) &q + 8, 8);
  return (lo | hi) != 0;
}

/* first position in the row equal to v (NaN: the first NaN; n - 1 when
 * none); four vectors are compared at a time and the hit is then found
 * among their elements */
#define DEF_FIND(NAME, T, VT, VI, W)                                                      \
  static gint64 NAME (const T *restrict x, gint64 n, T v)                                 \
  {                                                                                       \
    gint64 i = 0;                                                                         \
    gboolean nan = v != v;                                                                \
    VT vv = (VT) { 0 } + v;                                                               \
    for (; i + 4 * W <= n; i += 4 * W) {                                                  \
      VT a0, a1, a2, a3;                                                                  \
      memcpy (&a0, x + i, sizeof a0);                                                     \
      memcpy (&a1, x + i + W, sizeof a1);                                                 \
      memcpy (&a2, x + i + 2 * W, sizeof a2);                                             \
      memcpy (&a3, x + i + 3 * W, sizeof a3);                                             \
      VI e = nan ? (a0 != a0) | (a1 != a1) | (a2 != a2) | (a3 != a3)                      \
                 : (a0 == vv) | (a1 == vv) | (a2 == vv) | (a3 == vv);                     \
      v16i e16;                                                                           \
      memcpy (&e16, &e, sizeof e16);                                                      \
      if (any_lane (e16))                                                                 \
        break;                                                                            \
    }                                                                                     \
    for (; i < n; i++)                                                                    \
      if (nan ? x[i] != x[i] : x[i] == v)                                                 \
        return i;                                                                         \
    return n - 1;                                                                         \
  }

DEF_FIND (find_f32, float, v16f, v16i, 16)
DEF_FIND (find_f64, double, v8d, v8l, 8)

/* argmax/argmin of a row piece in one pass. The row is read in groups of
 * four vectors: the group's lane-wise best (three vector max/min) is
 * compared with each lane's best so far, and a lane that improves strictly
 * records where the group starts: no per-element index bookkeeping. The
 * first group holding the overall best is then the smallest recorded start
 * among the lanes that hold it, and the position is looked up in those few
 * elements: the first occurrence, as in the reference. A row that is not a
 * whole number of groups ends with a group overlapping the one before (a
 * value seen twice cannot become strictly better). Infinities need nothing
 * special (a row of -inf: every lane keeps the start 0); a NaN anywhere
 * makes the answer the first NaN, found by a second look. */
#define SEL(VT, VI, g, a, b) ((VT) (((VI) (a) & (g)) | ((VI) (b) & ~(g))))

/* The group scan: each lane's best (m) and the start of the group where it
 * last improved strictly (start), over groups of 4 vectors of n >= 4 W
 * elements; TRUE when a NaN was seen. */
#ifdef __AVX512F__
/* With mask registers: the group's best by vmaxps/vminps (a NaN there is
 * caught by the unordered compares and the row redone), one compare, two
 * masked moves: about half the instructions of the generic form, which
 * made argmax the slowest of the row kernels (it ran below the speed of
 * reading the rows even in cache). */
#define DEF_ARG_SCAN(NAME, T, VT, VI, IT, W, M512, MASK, SFX, ISFX, BEST, CMP)            \
  static gboolean NAME##_scan (const T *restrict x, gint64 n, T init, VT *m_out, VI *start_out) \
  {                                                                                       \
    const gint64 G = 4 * W;                                                               \
    M512 m = _mm512_set1_##SFX (init);                                                    \
    __m512i start = _mm512_setzero_si512 ();                                              \
    MASK nan = 0;                                                                         \
    for (gint64 i = 0;;) {                                                                \
      M512 v0 = _mm512_loadu_##SFX (x + i), v1 = _mm512_loadu_##SFX (x + i + W);         \
      M512 v2 = _mm512_loadu_##SFX (x + i + 2 * W), v3 = _mm512_loadu_##SFX (x + i + 3 * W); \
      M512 g = BEST (BEST (v0, v1), BEST (v2, v3));                                       \
      MASK up = _mm512_cmp_##SFX##_mask (g, m, CMP);                                      \
      m = _mm512_mask_mov_##SFX (m, up, g);                                               \
      start = _mm512_mask_set1_##ISFX (start, up, (IT) i);                                \
      nan |= _mm512_cmp_##SFX##_mask (v0, v1, _CMP_UNORD_Q)                               \
             | _mm512_cmp_##SFX##_mask (v2, v3, _CMP_UNORD_Q);                            \
      if (i + G == n)                                                                     \
        break;                                                                            \
      i = i + 2 * G <= n ? i + G : n - G;                                                 \
    }                                                                                     \
    memcpy (m_out, &m, 64);                                                               \
    memcpy (start_out, &start, 64);                                                       \
    return nan != 0;                                                                      \
  }
DEF_ARG_SCAN (argmax_row_f32, float, v16f, v16i, gint32, 16, __m512, __mmask16, ps, epi32, _mm512_max_ps, _CMP_GT_OQ)
DEF_ARG_SCAN (argmin_row_f32, float, v16f, v16i, gint32, 16, __m512, __mmask16, ps, epi32, _mm512_min_ps, _CMP_LT_OQ)
DEF_ARG_SCAN (argmax_row_f64, double, v8d, v8l, gint64, 8, __m512d, __mmask8, pd, epi64, _mm512_max_pd, _CMP_GT_OQ)
DEF_ARG_SCAN (argmin_row_f64, double, v8d, v8l, gint64, 8, __m512d, __mmask8, pd, epi64, _mm512_min_pd, _CMP_LT_OQ)

/* The overall best, the first group holding it (the smallest start among
 * the lanes that hold it) and its first position in that group, all with
 * vector reductions and compare masks: on rows of 1000 the scalar version
 * of this took as long as the scan. */
#define DEF_ARG_LOCATE(NAME, T, VT, VI, W, M512, MASK, SFX, ISFX, REDUCE, IOTA, CVT, FIND) \
  static inline gint64 NAME##_locate (const T *restrict x, VT mv, VI sv, T *value)        \
  {                                                                                       \
    M512 m;                                                                               \
    __m512i start;                                                                        \
    memcpy (&m, &mv, 64);                                                                 \
    memcpy (&start, &sv, 64);                                                             \
    T best = REDUCE (m);                                                                  \
    M512 b = _mm512_set1_##SFX (best);                                                    \
    MASK eq = _mm512_cmp_##SFX##_mask (m, b, _CMP_EQ_OQ);                                 \
    gint64 at = _mm512_mask_reduce_min_##ISFX (eq, start);                                \
    *value = best;                                                                        \
    /* the first hit's lane by compressing the lane numbers with the hit */              \
    /* mask: GCC 12 miscompiles a mask widened to an integer (a one-byte */               \
    /* spill read back as eight bytes, seen in the sanitizer build) */                    \
    for (gint q = 0; q < 4; q++) {                                                        \
      MASK h = _mm512_cmp_##SFX##_mask (_mm512_loadu_##SFX (x + at + q * W), b, _CMP_EQ_OQ); \
      if (h)                                                                              \
        return at + q * W                                                                 \
               + (gint64) CVT (_mm512_castsi512_si128 (_mm512_maskz_compress_##ISFX (h, IOTA))); \
    }                                                                                     \
    return at + FIND (x + at, 4 * W, best);   /* not reached: the group holds best */     \
  }
#define IOTA32 _mm512_set_epi32 (15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define IOTA64 _mm512_set_epi64 (7, 6, 5, 4, 3, 2, 1, 0)
DEF_ARG_LOCATE (argmax_row_f32, float, v16f, v16i, 16, __m512, __mmask16, ps, epi32, _mm512_reduce_max_ps,
                IOTA32, _mm_cvtsi128_si32, find_f32)
DEF_ARG_LOCATE (argmin_row_f32, float, v16f, v16i, 16, __m512, __mmask16, ps, epi32, _mm512_reduce_min_ps,
                IOTA32, _mm_cvtsi128_si32, find_f32)
DEF_ARG_LOCATE (argmax_row_f64, double, v8d, v8l, 8, __m512d, __mmask8, pd, epi64, _mm512_reduce_max_pd,
                IOTA64, _mm_cvtsi128_si64, find_f64)
DEF_ARG_LOCATE (argmin_row_f64, double, v8d, v8l, 8, __m512d, __mmask8, pd, epi64, _mm512_reduce_min_pd,
                IOTA64, _mm_cvtsi128_si64, find_f64)
#else
#define DEF_ARG_SCAN(NAME, T, VT, VI, IT, W, OP)                                          \
  static inline VT NAME##_best (VT a, VT b)                                               \
  {                                                                                       \
    return SEL (VT, VI, a OP b, a, b);                                                    \
  }                                                                                       \
  static gboolean NAME##_scan (const T *restrict x, gint64 n, T init, VT *m_out, VI *start_out) \
  {                                                                                       \
    const gint64 G = 4 * W;                                                               \
    VT m = (VT) { 0 } + init;                                                             \
    VI start = { 0 }, nan = { 0 };                                                        \
    for (gint64 i = 0;;) {                                                                \
      VT v0, v1, v2, v3;                                                                  \
      memcpy (&v0, x + i, sizeof v0);                                                     \
      memcpy (&v1, x + i + W, sizeof v1);                                                 \
      memcpy (&v2, x + i + 2 * W, sizeof v2);                                             \
      memcpy (&v3, x + i + 3 * W, sizeof v3);                                             \
      VT g = NAME##_best (NAME##_best (v0, v1), NAME##_best (v2, v3));                    \
      VI up = g OP m;                                                                     \
      m = SEL (VT, VI, up, g, m);                                                         \
      start = SEL (VI, VI, up, (VI) { 0 } + (IT) i, start);                               \
      nan |= (v0 != v0) | (v1 != v1) | (v2 != v2) | (v3 != v3);                           \
      if (i + G == n)                                                                     \
        break;                                                                            \
      i = i + 2 * G <= n ? i + G : n - G;                                                 \
    }                                                                                     \
    *m_out = m;                                                                           \
    *start_out = start;                                                                   \
    gboolean any = FALSE;                                                                 \
    for (gint j = 0; j < W; j++)                                                          \
      any |= nan[j] != 0;                                                                 \
    return any;                                                                           \
  }
DEF_ARG_SCAN (argmax_row_f32, float, v16f, v16i, gint32, 16, >)
DEF_ARG_SCAN (argmin_row_f32, float, v16f, v16i, gint32, 16, <)
DEF_ARG_SCAN (argmax_row_f64, double, v8d, v8l, gint64, 8, >)
DEF_ARG_SCAN (argmin_row_f64, double, v8d, v8l, gint64, 8, <)

#define DEF_ARG_LOCATE(NAME, T, VT, W, OP, FIND)                                          \
  static inline gint64 NAME##_locate (const T *restrict x, VT m, __typeof__ ((VT) { 0 } < 0) start, \
                                      T *value)                                           \
  {                                                                                       \
    T best = m[0];                                                                        \
    for (gint j = 0; j < W; j++)                                                          \
      best = m[j] OP best ? m[j] : best;                                                  \
    gint64 at = G_MAXINT64;                                                               \
    for (gint j = 0; j < W; j++)                                                          \
      at = m[j] == best && start[j] < at ? start[j] : at;                                 \
    *value = best;                                                                        \
    return at + FIND (x + at, 4 * W, best);                                               \
  }
DEF_ARG_LOCATE (argmax_row_f32, float, v16f, 16, >, find_f32)
DEF_ARG_LOCATE (argmin_row_f32, float, v16f, 16, <, find_f32)
DEF_ARG_LOCATE (argmax_row_f64, double, v8d, 8, >, find_f64)
DEF_ARG_LOCATE (argmin_row_f64, double, v8d, 8, <, find_f64)
#endif

#define DEF_ARG_ROW(NAME, T, VT, VI, IT, W, OP, FIND)                                     \
  static gint64 NAME (const T *restrict x, gint64 n, T init, T *value)                    \
  {                                                                                       \
    const gint64 G = 4 * W;                                                               \
    if (n < G) {                                                                          \
      gint64 at = 0;                                                                      \
      for (gint64 i = 0; i < n; i++) {                                                    \
        if (x[i] != x[i]) {                                                               \
          *value = NAN;                                                                   \
          return i;                                                                       \
        }                                                                                 \
        if (x[i] OP x[at])                                                                \
          at = i;                                                                         \
      }                                                                                   \
      *value = x[at];                                                                     \
      return at;                                                                          \
    }                                                                                     \
    VT m;                                                                                 \
    VI start;                                                                             \
    if (NAME##_scan (x, n, init, &m, &start)) {                                           \
      *value = NAN;                                                                       \
      return FIND (x, n, (T) NAN);                                                        \
    }                                                                                     \
    return NAME##_locate (x, m, start, value);                                            \
  }

DEF_ARG_ROW (argmax_row_f32, float, v16f, v16i, gint32, 16, >, find_f32)
DEF_ARG_ROW (argmin_row_f32, float, v16f, v16i, gint32, 16, <, find_f32)
DEF_ARG_ROW (argmax_row_f64, double, v8d, v8l, gint64, 8, >, find_f64)
DEF_ARG_ROW (argmin_row_f64, double, v8d, v8l, gint64, 8, <, find_f64)

/* logsumexp's (shift, sum of exp(x - shift)) of a row */
static void
lse_row (const Plan *p, gint64 off, gint64 n, Part *r)
{
  double m = best_row (p, TRUE, off, n);
  if (isinf (m))
    m = 0;   /* all -inf, or an inf: the formula gives -inf or inf by itself */
  double s = 0;
  if (m != m) {
    s = NAN;
  } else if (p->dt == GRD_DTYPE_FLOAT32) {
    const float *x = (const float *) p->x + off;
    float scratch[1024];
    for (gint64 i = 0; i < n; i += 1024)
      s += grd_vec_exp_shift_sum_f32 (scratch, x + i, (float) m, (gint) MIN (1024, n - i));
  } else {
    const double *x = (const double *) p->x + off;
    for (gint64 i = 0; i < n; i++)
      s += exp (x[i] - m);
  }
  r->a = m;
  r->b = s;
}

/* The partial result of row piece [off, off + n); idx counts from `first`. */
static void
row_part (const Plan *p, gint64 off, gint64 n, gint64 first, Part *r)
{
  r->b = 0;
  r->idx = 0;
  switch (p->kind) {
  case RK_SUM:
  case RK_MEAN:
  case RK_REDUCE_TO:
    r->a = sum_row (p, off, n);
    break;
  case RK_PROD:
    r->a = prod_row (p, off, n);
    break;
  case RK_MAX:
  case RK_MIN:
    r->a = best_row (p, p->kind == RK_MAX, off, n);
    break;
  case RK_ARGMAX:
  case RK_ARGMIN: {
    gboolean mx = p->kind == RK_ARGMAX;
    if (p->dt == GRD_DTYPE_FLOAT32) {
      const float *x = (const float *) p->x + off;
      float v;
      r->idx = first + (mx ? argmax_row_f32 (x, n, -INFINITY, &v) : argmin_row_f32 (x, n, INFINITY, &v));
      r->a = v;
    } else {
      const double *x = (const double *) p->x + off;
      double v;
      r->idx = first + (mx ? argmax_row_f64 (x, n, -INFINITY, &v) : argmin_row_f64 (x, n, INFINITY, &v));
      r->a = v;
    }
    break;
  }
  case RK_LSE:
    lse_row (p, off, n, r);
    break;
  default:
    g_assert_not_reached ();
  }
}

typedef struct {
  const Plan *p;
  void       *out;
  Part       *parts;     /* rows cut into chunks: outer x n_chunks partials */
  gint64      n_chunks, chunk, units_per_task, n_units;
} RowJob;

static void
row_task (gpointer data, gint task)
{
  RowJob *j = data;
  const Plan *p = j->p;
  gint64 u0 = task * j->units_per_task, u1 = MIN (j->n_units, u0 + j->units_per_task);
  for (gint64 u = u0; u < u1; u++) {
    gint64 o = u / j->n_chunks, c = u % j->n_chunks;
    gint64 start = c * j->chunk, len = MIN (j->chunk, p->l.n - start);
    Part r;
    row_part (p, o * p->l.n + start, len, start, &r);
    if (j->parts)
      j->parts[u] = r;
    else
      part_store (p, &r, j->out, o);
  }
}

static void
run_rows (const Plan *p, void *out)
{
  RowJob j = { p, out, NULL, 0, 0, 0, 0 };
  j.chunk = MIN (p->l.n, ROW_CHUNK);
  j.n_chunks = (p->l.n + j.chunk - 1) / j.chunk;
  j.n_units = p->l.outer * j.n_chunks;
  j.units_per_task = MAX (1, TASK_ELEMS / j.chunk);
  g_autofree Part *parts = j.n_chunks > 1 ? g_new (Part, j.n_units) : NULL;
  j.parts = parts;
  gint n_tasks = (gint) ((j.n_units + j.units_per_task - 1) / j.units_per_task);
  grd_parallel_for (n_tasks, row_task, &j);
  if (!parts)
    return;
  for (gint64 o = 0; o < p->l.outer; o++) {
    Part *row = parts + o * j.n_chunks;
    if (p->kind == RK_SUM || p->kind == RK_MEAN || p->kind == RK_REDUCE_TO) {
      /* chunk sums added pairwise, as the blocks inside a chunk */
      g_autofree double *s = g_new (double, j.n_chunks);
      for (gint64 c = 0; c < j.n_chunks; c++)
        s[c] = row[c].a;
      row[0].a = pairwise (s, j.n_chunks);
    } else {
      for (gint64 c = 1; c < j.n_chunks; c++)
        part_combine (p->kind, &row[0], &row[c]);
    }
    part_store (p, &row[0], out, o);
  }
}

/* ------------------------------------------------------------ columns */

/* Accumulators for a block of w <= COL_BLOCK columns over rows [r0, r1) of
 * outer index o. a: sum/product/best (or logsumexp's shift), b: logsumexp's
 * sum, idx: position of the best. */
typedef struct {
  double a[COL_BLOCK], b[COL_BLOCK];
  gint64 idx[COL_BLOCK];
} ColAcc;

/* Down columns, rows are taken in groups (SUM_ROWS for sums, PROD_ROWS for
 * products, BEST_ROWS for max/min): each group is combined as a tree in
 * registers, 16 (float32) or 8 (float64) columns per vector, and only the
 * group's result touches the accumulators in L1. One accumulator load and
 * store per group instead of per row: the loop then runs at the speed of
 * reading the rows (a row at a time it was a third slower, and NumPy's
 * column sum is a row at a time in float32). */
#define SUM_ROWS  16   /* float32 pairwise tree of 16: within 4 roundings of the group */
#define PROD_ROWS 4    /* products of 4 float32 values cannot overflow a double */
#define BEST_ROWS 8

/* a (16 doubles) += s, or = s when fresh */
static inline void
add_to_f64 (double *restrict a, v16f s, gboolean fresh)
{
  /* halves by shuffles, not through memory (a store then two narrower
   * loads of it stalls store forwarding) */
  v8f lo = __builtin_shufflevector (s, s, 0, 1, 2, 3, 4, 5, 6, 7);
  v8f hi = __builtin_shufflevector (s, s, 8, 9, 10, 11, 12, 13, 14, 15);
  v8d d0 = f32_to_f64 (lo), d1 = f32_to_f64 (hi);
  if (!fresh) {
    v8d a0, a1;
    memcpy (&a0, a, 64);
    memcpy (&a1, a + 8, 64);
    d0 += a0;
    d1 += a1;
  }
  memcpy (a, &d0, 64);
  memcpy (a + 8, &d1, 64);
}

/* a[k] = the sum of column k over `rows` rows (x: first row, ld: row
 * stride); groups of SUM_ROWS rows are added pairwise in float32 (for
 * float64, eight rows in float64), the rest a row at a time. The first
 * group stores into a instead of adding to zeros: where a piece is one
 * group (a middle axis of 16) that was a fifth of the accumulator work. */
static void
col_sum_f32 (const float *restrict x, gint64 ld, gint64 w, gint64 rows, double *restrict a)
{
  gint64 r = 0;
  gboolean fresh = rows >= SUM_ROWS;
  if (!fresh)
    for (gint64 k = 0; k < w; k++)
      a[k] = 0;
  for (; r + SUM_ROWS <= rows; r += SUM_ROWS, x += SUM_ROWS * ld, fresh = FALSE) {
    gint64 k = 0;
    for (; k + 16 <= w; k += 16) {
      v16f s[SUM_ROWS];
      for (gint i = 0; i < SUM_ROWS; i++)
        memcpy (&s[i], x + i * ld + k, 64);
      for (gint h = SUM_ROWS / 2; h >= 1; h /= 2)
        for (gint i = 0; i < h; i++)
          s[i] += s[i + h];
      add_to_f64 (a + k, s[0], fresh);
    }
    for (; k < w; k++) {
      float s[SUM_ROWS];
      for (gint i = 0; i < SUM_ROWS; i++)
        s[i] = x[i * ld + k];
      for (gint h = SUM_ROWS / 2; h >= 1; h /= 2)
        for (gint i = 0; i < h; i++)
          s[i] += s[i + h];
      a[k] = fresh ? (double) s[0] : a[k] + s[0];
    }
  }
  for (; r < rows; r++, x += ld)
    for (gint64 k = 0; k < w; k++)
      a[k] += x[k];
}

static void
col_sum_f64 (const double *restrict x, gint64 ld, gint64 w, gint64 rows, double *restrict a)
{
  gint64 r = 0;
  for (gint64 k = 0; k < w; k++)
    a[k] = 0;
  for (; r + 8 <= rows; r += 8, x += 8 * ld) {
    gint64 k = 0;
    for (; k + 8 <= w; k += 8) {
      v8d s[8], t;
      for (gint i = 0; i < 8; i++)
        memcpy (&s[i], x + i * ld + k, 64);
      for (gint h = 4; h >= 1; h /= 2)
        for (gint i = 0; i < h; i++)
          s[i] += s[i + h];
      memcpy (&t, a + k, 64);
      t += s[0];
      memcpy (a + k, &t, 64);
    }
    for (; k < w; k++) {
      double s[8];
      for (gint i = 0; i < 8; i++)
        s[i] = x[i * ld + k];
      for (gint h = 4; h >= 1; h /= 2)
        for (gint i = 0; i < h; i++)
          s[i] += s[i + h];
      a[k] += s[0];
    }
  }
  for (; r < rows; r++, x += ld)
    for (gint64 k = 0; k < w; k++)
      a[k] += x[k];
}

/* the product of PROD_ROWS (4) rows of eight columns, pairwise in float64
 * (a float32 pair's product is exact) */
static inline v8d
col_quad_f32 (const float *restrict x, gint64 ld)
{
  v8f v0, v1, v2, v3;
  memcpy (&v0, x, 32);
  memcpy (&v1, x + ld, 32);
  memcpy (&v2, x + 2 * ld, 32);
  memcpy (&v3, x + 3 * ld, 32);
  return (f32_to_f64 (v0) * f32_to_f64 (v1)) * (f32_to_f64 (v2) * f32_to_f64 (v3));
}

static inline v8d
col_quad_f64 (const double *restrict x, gint64 ld)
{
  v8d v0, v1, v2, v3;
  memcpy (&v0, x, 64);
  memcpy (&v1, x + ld, 64);
  memcpy (&v2, x + 2 * ld, 64);
  memcpy (&v3, x + 3 * ld, 64);
  return (v0 * v1) * (v2 * v3);
}

#define COL_QUAD_float  col_quad_f32
#define COL_QUAD_double col_quad_f64

/* a[k] *= the product of column k over `rows` rows: groups of PROD_ROWS
 * rows multiplied pairwise in float64, then into a, two groups per load and
 * store of a (a times the first group, then times the second: the same
 * operations as one group at a time) */
#define DEF_COL_PROD(NAME, T, W)                                                      \
  static void NAME (const T *restrict x, gint64 ld, gint64 w, gint64 rows, double *restrict a) \
  {                                                                                       \
    gint64 r = 0;                                                                         \
    for (; r + 2 * PROD_ROWS <= rows; r += 2 * PROD_ROWS, x += 2 * PROD_ROWS * ld) {      \
      gint64 k = 0;                                                                       \
      for (; k + W <= w; k += W) {                                                        \
        v8d q0 = COL_QUAD_##T (x + k, ld), q1 = COL_QUAD_##T (x + PROD_ROWS * ld + k, ld), t;   \
        memcpy (&t, a + k, 64);                                                           \
        t = (t * q0) * q1;                                                                \
        memcpy (a + k, &t, 64);                                                           \
      }                                                                                   \
      for (; k < w; k++)                                                                  \
        for (gint g = 0; g < 2; g++) {                                                    \
          const T *y = x + g * PROD_ROWS * ld + k;                                        \
          a[k] *= ((double) y[0] * (double) y[ld]) * ((double) y[2 * ld] * (double) y[3 * ld]); \
        }                                                                                 \
    }                                                                                     \
    for (; r + PROD_ROWS <= rows; r += PROD_ROWS, x += PROD_ROWS * ld) {                  \
      gint64 k = 0;                                                                       \
      for (; k + W <= w; k += W) {                                                        \
        v8d q = COL_QUAD_##T (x + k, ld), t;                                              \
        memcpy (&t, a + k, 64);                                                           \
        t *= q;                                                                           \
        memcpy (a + k, &t, 64);                                                           \
      }                                                                                   \
      for (; k < w; k++) {                                                                \
        double p[PROD_ROWS];                                                              \
        for (gint i = 0; i < PROD_ROWS; i++)                                              \
          p[i] = x[i * ld + k];                                                           \
        for (gint h = PROD_ROWS / 2; h >= 1; h /= 2)                                      \
          for (gint i = 0; i < h; i++)                                                    \
            p[i] = p[2 * i] * p[2 * i + 1];                                               \
        a[k] *= p[0];                                                                     \
      }                                                                                   \
    }                                                                                     \
    for (; r < rows; r++, x += ld)                                                        \
      for (gint64 k = 0; k < w; k++)                                                      \
        a[k] *= x[k];                                                                     \
  }

DEF_COL_PROD (col_prod_f32, float, 8)
DEF_COL_PROD (col_prod_f64, double, 8)

/* best[k] = the max (min) of best[k] and column k over `rows` rows, best
 * coming first: the later value wins when it is strictly better or a NaN
 * while the earlier is not. That rule is associative (the result is the
 * first NaN, else the first best), so groups of BEST_ROWS rows are combined
 * as a tree of neighbours and then with best, exactly as one row at a time. */
#define DEF_COL_BEST(NAME, T, VT, VI, W, OP)                                              \
  static inline VT NAME##_pick (VT e, VT l)                                               \
  {                                                                                       \
    VI take = (e == e) & ((l != l) | (l OP e));                                           \
    return SEL (VT, VI, take, l, e);                                                      \
  }                                                                                       \
  static inline T NAME##_pick1 (T e, T l)                                                 \
  {                                                                                       \
    return (e == e) & ((l != l) | (l OP e)) ? l : e;                                      \
  }                                                                                       \
  static void NAME (const T *restrict x, gint64 ld, gint64 w, gint64 rows, T *restrict best) \
  {                                                                                       \
    gint64 r = 0;                                                                         \
    for (; r + BEST_ROWS <= rows; r += BEST_ROWS, x += BEST_ROWS * ld) {                  \
      gint64 k = 0;                                                                       \
      for (; k + W <= w; k += W) {                                                        \
        VT v[BEST_ROWS], b;                                                               \
        for (gint i = 0; i < BEST_ROWS; i++)                                              \
          memcpy (&v[i], x + i * ld + k, sizeof (VT));                                    \
        for (gint h = BEST_ROWS / 2; h >= 1; h /= 2)                                      \
          for (gint i = 0; i < h; i++)                                                    \
            v[i] = NAME##_pick (v[2 * i], v[2 * i + 1]);                                  \
        memcpy (&b, best + k, sizeof (VT));                                               \
        b = NAME##_pick (b, v[0]);                                                        \
        memcpy (best + k, &b, sizeof (VT));                                               \
      }                                                                                   \
      for (; k < w; k++)                                                                  \
        for (gint i = 0; i < BEST_ROWS; i++)                                              \
          best[k] = NAME##_pick1 (best[k], x[i * ld + k]);                                \
    }                                                                                     \
    for (; r < rows; r++, x += ld)                                                        \
      for (gint64 k = 0; k < w; k++)                                                      \
        best[k] = NAME##_pick1 (best[k], x[k]);                                           \
  }

DEF_COL_BEST (col_max_f32, float, v16f, v16i, 16, >)
DEF_COL_BEST (col_min_f32, float, v16f, v16i, 16, <)
DEF_COL_BEST (col_max_f64, double, v8d, v8l, 8, >)
DEF_COL_BEST (col_min_f64, double, v8d, v8l, 8, <)

/* The same without NaN: vmaxps/vminps return their second operand on ties
 * of +0 and -0 (and on NaN), so with the earlier value second a tie keeps
 * the first, and a column step is one instruction instead of five. NaNs
 * are only looked for (unordered compares of row pairs); FALSE when one
 * was seen, and the caller redoes the piece with the exact rule above.
 * best's own NaN (from the first row) stays: it is the second operand. */
#ifdef __AVX512F__
#define DEF_COL_BEST_FAST(NAME, T, W, M512, MASK, SFX, BEST, EXACT1)                      \
  static gboolean NAME (const T *restrict x, gint64 ld, gint64 w, gint64 rows, T *restrict best) \
  {                                                                                       \
    MASK nan = 0;                                                                         \
    gint64 r = 0;                                                                         \
    for (; r + BEST_ROWS <= rows; r += BEST_ROWS, x += BEST_ROWS * ld) {                  \
      gint64 k = 0;                                                                       \
      for (; k + W <= w; k += W) {                                                        \
        M512 v[BEST_ROWS];                                                                \
        for (gint i = 0; i < BEST_ROWS; i++)                                              \
          v[i] = _mm512_loadu_##SFX (x + i * ld + k);                                     \
        for (gint i = 0; i < BEST_ROWS; i += 2)                                           \
          nan |= _mm512_cmp_##SFX##_mask (v[i], v[i + 1], _CMP_UNORD_Q);                  \
        for (gint h = BEST_ROWS / 2; h >= 1; h /= 2)                                      \
          for (gint i = 0; i < h; i++)                                                    \
            v[i] = BEST (v[2 * i + 1], v[2 * i]);                                         \
        _mm512_storeu_##SFX (best + k, BEST (v[0], _mm512_loadu_##SFX (best + k)));       \
      }                                                                                   \
      for (; k < w; k++)                                                                  \
        for (gint i = 0; i < BEST_ROWS; i++)                                              \
          best[k] = EXACT1 (best[k], x[i * ld + k]);                                      \
    }                                                                                     \
    for (; r < rows; r++, x += ld)                                                        \
      for (gint64 k = 0; k < w; k++)                                                      \
        best[k] = EXACT1 (best[k], x[k]);                                                 \
    return nan == 0;                                                                      \
  }
DEF_COL_BEST_FAST (col_max_fast_f32, float, 16, __m512, __mmask16, ps, _mm512_max_ps, col_max_f32_pick1)
DEF_COL_BEST_FAST (col_min_fast_f32, float, 16, __m512, __mmask16, ps, _mm512_min_ps, col_min_f32_pick1)
DEF_COL_BEST_FAST (col_max_fast_f64, double, 8, __m512d, __mmask8, pd, _mm512_max_pd, col_max_f64_pick1)
DEF_COL_BEST_FAST (col_min_fast_f64, double, 8, __m512d, __mmask8, pd, _mm512_min_pd, col_min_f64_pick1)
#else
#define DEF_COL_BEST_FAST(NAME, T, EXACT)                                                 \
  static gboolean NAME (const T *restrict x, gint64 ld, gint64 w, gint64 rows, T *restrict best) \
  {                                                                                       \
    EXACT (x, ld, w, rows, best);                                                         \
    return TRUE;                                                                          \
  }
DEF_COL_BEST_FAST (col_max_fast_f32, float, col_max_f32)
DEF_COL_BEST_FAST (col_min_fast_f32, float, col_min_f32)
DEF_COL_BEST_FAST (col_max_fast_f64, double, col_max_f64)
DEF_COL_BEST_FAST (col_min_fast_f64, double, col_min_f64)
#endif

#define COL_SUM_float  col_sum_f32
#define COL_SUM_double col_sum_f64
#define COL_PROD_float  col_prod_f32
#define COL_PROD_double col_prod_f64
#define COL_MAX_float  col_max_f32
#define COL_MAX_double col_max_f64
#define COL_MIN_float  col_min_f32
#define COL_MIN_double col_min_f64
#define COL_MAX_FAST_float  col_max_fast_f32
#define COL_MAX_FAST_double col_max_fast_f64
#define COL_MIN_FAST_float  col_min_fast_f32
#define COL_MIN_FAST_double col_min_fast_f64

#define DEF_COLS(NAME, T)                                                                 \
  static void NAME (const Plan *p, gint64 o, gint64 c0, gint64 w, gint64 r0, gint64 r1,   \
                    ColAcc *acc)                                                          \
  {                                                                                       \
    const gint64 ld = p->l.inner;                                                         \
    const T *base = (const T *) p->x + o * p->l.n * ld + c0;                              \
    double *restrict a = acc->a;                                                          \
    switch (p->kind) {                                                                    \
    case RK_SUM:                                                                          \
    case RK_MEAN:                                                                         \
    case RK_REDUCE_TO:                                                                    \
      COL_SUM_##T (base + r0 * ld, ld, w, r1 - r0, a);                                    \
      break;                                                                              \
    case RK_PROD:                                                                         \
      for (gint64 k = 0; k < w; k++)                                                      \
        a[k] = 1;                                                                         \
      COL_PROD_##T (base + r0 * ld, ld, w, r1 - r0, a);                                   \
      break;                                                                              \
    case RK_MAX:                                                                          \
    case RK_MIN: {                                                                        \
      /* the best so far in the input's type, starting from the first row */             \
      T best[COL_BLOCK];                                                                  \
      const T *restrict x0 = base + r0 * ld;                                              \
      for (gint64 k = 0; k < w; k++)                                                      \
        best[k] = x0[k];                                                                  \
      gboolean mx = p->kind == RK_MAX;                                                    \
      if (!(mx ? COL_MAX_FAST_##T (x0 + ld, ld, w, r1 - r0 - 1, best)                     \
               : COL_MIN_FAST_##T (x0 + ld, ld, w, r1 - r0 - 1, best))) {                 \
        /* a NaN: again with the exact rule */                                           \
        for (gint64 k = 0; k < w; k++)                                                    \
          best[k] = x0[k];                                                                \
        if (mx)                                                                           \
          COL_MAX_##T (x0 + ld, ld, w, r1 - r0 - 1, best);                                \
        else                                                                              \
          COL_MIN_##T (x0 + ld, ld, w, r1 - r0 - 1, best);                                \
      }                                                                                   \
      for (gint64 k = 0; k < w; k++)                                                      \
        a[k] = best[k];                                                                   \
      break;                                                                              \
    }                                                                                     \
    case RK_ARGMAX:                                                                       \
    case RK_ARGMIN: {                                                                     \
      T best[COL_BLOCK];                                                                  \
      gint64 *restrict idx = acc->idx;                                                    \
      gboolean mx = p->kind == RK_ARGMAX;                                                 \
      const T *restrict x0 = base + r0 * ld;                                              \
      for (gint64 k = 0; k < w; k++) {                                                    \
        best[k] = x0[k];                                                                  \
        idx[k] = r0;                                                                      \
      }                                                                                   \
      for (gint64 r = r0 + 1; r < r1; r++) {                                              \
        const T *restrict x = base + r * ld;                                              \
        for (gint64 k = 0; k < w; k++) {                                                  \
          T v = x[k], b = best[k];                                                        \
          gboolean take = (b == b) & ((v != v) | (mx ? v > b : v < b));                   \
          best[k] = take ? v : b;                                                         \
          idx[k] = take ? r : idx[k];                                                     \
        }                                                                                 \
      }                                                                                   \
      for (gint64 k = 0; k < w; k++)                                                      \
        a[k] = best[k];                                                                   \
      break;                                                                              \
    }                                                                                     \
    case RK_LSE: {                                                                        \
      double *restrict s = acc->b;                                                        \
      T m[COL_BLOCK], e[COL_BLOCK];                                                       \
      for (gint64 k = 0; k < w; k++) {                                                    \
        m[k] = -INFINITY;                                                                 \
        s[k] = 0;                                                                         \
      }                                                                                   \
      for (gint64 r = r0; r < r1; r++) {                                                  \
        const T *restrict x = base + r * ld;                                              \
        for (gint64 k = 0; k < w; k++)                                                    \
          m[k] = (x[k] > m[k]) | (x[k] != x[k]) ? x[k] : m[k];                            \
      }                                                                                   \
      for (gint64 k = 0; k < w; k++)                                                      \
        m[k] = isinf (m[k]) ? 0 : m[k];                                                   \
      for (gint64 r = r0; r < r1; r++) {                                                  \
        const T *restrict x = base + r * ld;                                              \
        for (gint64 k = 0; k < w; k++)                                                    \
          e[k] = x[k] - m[k];                                                             \
        EXP_BLOCK_##T (e, w);                                                             \
        for (gint64 k = 0; k < w; k++)                                                    \
          s[k] += e[k];                                                                   \
      }                                                                                   \
      for (gint64 k = 0; k < w; k++)                                                      \
        a[k] = m[k];                                                                      \
      break;                                                                              \
    }                                                                                     \
    default:                                                                              \
      g_assert_not_reached ();                                                            \
    }                                                                                     \
  }

#define EXP_BLOCK_float(e, w) grd_vec_exp_f32 (e, e, (gint) (w))
#define EXP_BLOCK_double(e, w)                                                            \
  for (gint64 k = 0; k < (w); k++)                                                        \
  e[k] = exp (e[k])

DEF_COLS (cols_f32, float)
DEF_COLS (cols_f64, double)

/* the final values of a block of w columns, straight from the accumulators */
static void
store_block (const Plan *p, const ColAcc *acc, gint64 w, void *out, gint64 oi)
{
  double tmp[COL_BLOCK];
  const double *v = acc->a;
  switch (p->kind) {
  case RK_ARGMAX:
  case RK_ARGMIN:
    memcpy ((gint64 *) out + oi, acc->idx, sizeof (gint64) * w);
    return;
  case RK_MEAN:
    /* the same division as part_store, so chunked and whole columns agree */
    for (gint64 k = 0; k < w; k++)
      tmp[k] = acc->a[k] / (double) p->l.n;
    v = tmp;
    break;
  case RK_LSE:
    for (gint64 k = 0; k < w; k++)
      tmp[k] = acc->a[k] + log (acc->b[k]);
    v = tmp;
    break;
  default:
    break;
  }
  if (p->out_dt == GRD_DTYPE_FLOAT32) {
    float *restrict o = (float *) out + oi;
    for (gint64 k = 0; k < w; k++)
      o[k] = (float) v[k];
  } else {
    memcpy ((double *) out + oi, v, sizeof (double) * w);
  }
}

typedef struct {
  const Plan *p;
  void       *out;
  /* when columns are cut: n_chunks x outer x inner partials, one array per
   * field so that chunk sums are combined with vector adds */
  double     *pa, *pb;
  gint64     *pidx;
  gint64      n_blocks, n_chunks, rows_per_chunk, units_per_task, n_units;
} ColJob;

static void
col_task (gpointer data, gint task)
{
  ColJob *j = data;
  const Plan *p = j->p;
  ColAcc acc;
  gint64 u0 = task * j->units_per_task, u1 = MIN (j->n_units, u0 + j->units_per_task);
  for (gint64 u = u0; u < u1; u++) {
    gint64 c = u % j->n_chunks, b = (u / j->n_chunks) % j->n_blocks, o = u / (j->n_chunks * j->n_blocks);
    gint64 c0 = b * COL_BLOCK, w = MIN (COL_BLOCK, p->l.inner - c0);
    gint64 r0 = c * j->rows_per_chunk, r1 = MIN (p->l.n, r0 + j->rows_per_chunk);
    if (p->dt == GRD_DTYPE_FLOAT32)
      cols_f32 (p, o, c0, w, r0, r1, &acc);
    else
      cols_f64 (p, o, c0, w, r0, r1, &acc);
    gint64 oi = o * p->l.inner + c0;
    if (j->pa) {
      gint64 at = c * p->l.outer * p->l.inner + oi;
      memcpy (j->pa + at, acc.a, sizeof (double) * w);
      if (j->pb)
        memcpy (j->pb + at, acc.b, sizeof (double) * w);
      if (j->pidx)
        memcpy (j->pidx + at, acc.idx, sizeof (gint64) * w);
    } else {
      store_block (p, &acc, w, j->out, oi);
    }
  }
}

/* FALSE when the partials' memory is not there */
static gboolean
run_cols (const Plan *p, void *out, GError **error)
{
  ColJob j = { p, out, NULL, NULL, NULL, 0, 0, 0, 0, 0 };
  gint64 bw = MIN (p->l.inner, COL_BLOCK);
  j.n_blocks = (p->l.inner + COL_BLOCK - 1) / COL_BLOCK;
  /* a column is cut into chunks of about TASK_ELEMS / bw rows, at most MAX_ROW_CHUNKS */
  gint64 rows = MAX (1, TASK_ELEMS / bw);
  j.n_chunks = MIN (MAX_ROW_CHUNKS, (p->l.n + rows - 1) / rows);
  j.rows_per_chunk = (p->l.n + j.n_chunks - 1) / j.n_chunks;
  j.n_units = p->l.outer * j.n_blocks * j.n_chunks;
  j.units_per_task = MAX (1, TASK_ELEMS / MAX (1, j.rows_per_chunk * bw));
  gint64 n_out = p->l.outer * p->l.inner;
  gboolean cut = j.n_chunks > 1;
  /* the partials: one array per field, logsumexp's sums and argmax/argmin's
   * positions only where they are used; from the scratch cache, so that a
   * function called in a loop does not fault in fresh pages each call */
  gboolean lse = p->kind == RK_LSE, arg = p->kind == RK_ARGMAX || p->kind == RK_ARGMIN;
  gint64 n_part = j.n_chunks * n_out;
  gpointer block = NULL;
  if (cut) {
    block = grd_scratch_take ((gsize) n_part, sizeof (double) * (1 + lse + arg), error);
    if (!block)
      return FALSE;
    j.pa = block;
    j.pb = lse ? j.pa + n_part : NULL;
    j.pidx = arg ? (gint64 *) (j.pa + n_part) : NULL;
  }
  double *pa = j.pa, *pb = j.pb;
  gint64 *pidx = j.pidx;
  gint n_tasks = (gint) ((j.n_units + j.units_per_task - 1) / j.units_per_task);
  grd_parallel_for (n_tasks, col_task, &j);
  if (!cut)
    return TRUE;
  if (p->kind == RK_SUM || p->kind == RK_MEAN || p->kind == RK_REDUCE_TO) {
    /* chunk sums added in chunk order, as part_combine does, a block at a time */
    ColAcc acc;
    for (gint64 o0 = 0; o0 < n_out; o0 += COL_BLOCK) {
      gint64 w = MIN (COL_BLOCK, n_out - o0);
      memcpy (acc.a, pa + o0, sizeof (double) * w);
      for (gint64 c = 1; c < j.n_chunks; c++) {
        const double *restrict src = pa + c * n_out + o0;
        for (gint64 k = 0; k < w; k++)
          acc.a[k] += src[k];
      }
      store_block (p, &acc, w, out, o0);
    }
    grd_scratch_give (block);
    return TRUE;
  }
  for (gint64 oi = 0; oi < n_out; oi++) {
    Part r = { pa[oi], pb ? pb[oi] : 0, pidx ? pidx[oi] : 0 };
    for (gint64 c = 1; c < j.n_chunks; c++) {
      gint64 at = c * n_out + oi;
      Part later = { pa[at], pb ? pb[at] : 0, pidx ? pidx[at] : 0 };
      part_combine (p->kind, &r, &later);
    }
    part_store (p, &r, out, oi);
  }
  grd_scratch_give (block);
  return TRUE;
}

/* ------------------------------------------------------------ _unreduce */

typedef struct {
  const Plan *p;
  char       *out;
  gsize       es;
  gint64      rows_per_unit, units_per_o, units_per_task, n_units;
} BcastJob;

static void
bcast_task (gpointer data, gint task)
{
  BcastJob *j = data;
  const Plan *p = j->p;
  gint64 u0 = task * j->units_per_task, u1 = MIN (j->n_units, u0 + j->units_per_task);
  gint64 in_ = p->l.inner;
  for (gint64 u = u0; u < u1; u++) {
    gint64 o = u / j->units_per_o, r0 = (u % j->units_per_o) * j->rows_per_unit;
    gint64 r1 = MIN (p->l.n, r0 + j->rows_per_unit);
    const char *src = (const char *) p->x + o * in_ * j->es;
    char *dst = j->out + (o * p->l.n + r0) * in_ * j->es;
    if (in_ == 1 && j->es == 4) {
      float v = *(const float *) src, *d = (float *) dst;
      for (gint64 r = 0; r < r1 - r0; r++)
        d[r] = v;
    } else if (in_ == 1) {
      double v = *(const double *) src, *d = (double *) dst;
      for (gint64 r = 0; r < r1 - r0; r++)
        d[r] = v;
    } else {
      for (gint64 r = r0; r < r1; r++, dst += in_ * j->es)
        memcpy (dst, src, in_ * j->es);
    }
  }
}

static void
run_unreduce (const Plan *p, void *out)
{
  BcastJob j = { p, out, grd_dtype_size (p->dt), 0, 0, 0, 0 };
  j.rows_per_unit = MAX (1, TASK_ELEMS / p->l.inner);
  j.units_per_o = (p->l.n + j.rows_per_unit - 1) / j.rows_per_unit;
  j.n_units = p->l.outer * j.units_per_o;
  j.units_per_task = MAX (1, TASK_ELEMS / (j.rows_per_unit * p->l.inner));
  gint n_tasks = (gint) ((j.n_units + j.units_per_task - 1) / j.units_per_task);
  grd_parallel_for (n_tasks, bcast_task, &j);
}

/* ------------------------------------------------------------ kernels */

static gboolean
run_reference (GrdInstr *ins, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdNode fake = { 0 };
  GrdType type;
  GrdDType dt = in[0]->dtype;
  if (g_str_equal (ins->op->name, "argmax") || g_str_equal (ins->op->name, "argmin"))
    dt = GRD_DTYPE_INT64;
  grd_type_set (&type, dt, 0, NULL);
  fake.id = ins->label;
  fake.op = ins->op;
  fake.attrs = ins->attrs;
  fake.n_inputs = ins->n_in;
  fake.n_outputs = 1;
  fake.types = &type;
  GrdTensor *o = NULL;
  if (!ins->op->eval (&fake, in, &o, error))
    return FALSE;
  grd_tensor_unref (*out);
  *out = o;
  return TRUE;
}

/* _reduce_count: the number of reduced elements, into last call's scalar */
static gboolean
count_run (GrdInstr *ins, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  gboolean mask[GRD_MAX_RANK];
  if (!grd_axes_mask (&ins->attrs, in[0]->rank, mask, NULL))
    return run_reference (ins, in, out, error);
  gint64 c = 1;
  for (gint d = 0; d < in[0]->rank; d++)
    if (mask[d])
      c *= in[0]->shape[d];
  GrdDType dt = grd_dtype_is_float (in[0]->dtype) ? in[0]->dtype : GRD_DTYPE_FLOAT64;
  GrdTensor *o = *out;
  if (!(o && o->ref_count == 1 && o->dtype == dt && o->rank == 0)) {
    grd_tensor_unref (o);
    o = *out = grd_tensor_new (dt, 0, NULL);
  }
  grd_tensor_set (o, 0, (double) c);
  return TRUE;
}

static gboolean
reduce_run (GrdInstr *ins, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  if (ins->kernel_arg == RK_COUNT)
    return count_run (ins, in, out, error);
  Plan p;
  if (!plan_make ((RKind) ins->kernel_arg, &ins->attrs, in, &p))
    return run_reference (ins, in, out, error);
  GrdTensor *o = *out;
  if (!(o && o->ref_count == 1 && o->dtype == p.out_dt && o->rank == p.rank
        && memcmp (o->shape, p.shape, sizeof (gint64) * p.rank) == 0)) {
    grd_tensor_unref (o);
    /* every element is written: no zeroing (16 MB for a broadcast gradient) */
    o = *out = grd_tensor_try_new_uninit (p.out_dt, p.rank, p.shape, error);
    if (!o)
      return FALSE;
  }
  if (p.kind == RK_UNREDUCE)
    run_unreduce (&p, o->data);
  else if (p.l.inner == 1)
    run_rows (&p, o->data);
  else
    return run_cols (&p, o->data, error);
  return TRUE;
}

static gint
reduce_shape (GrdInstr *ins, GrdTensor *const *in, gint64 *shape)
{
  if (ins->kernel_arg == RK_COUNT)
    return 0;
  Plan p;
  if (!plan_make ((RKind) ins->kernel_arg, &ins->attrs, in, &p))
    return -1;
  memcpy (shape, p.shape, sizeof (gint64) * p.rank);
  return p.rank;
}

gboolean
grd_reduce_kernel_install (GrdProgram *prog, GrdInstr *ins)
{
  if (ins->kind != GRD_INSTR_OP || ins->n_in < 1 || ins->n_out != 1)
    return FALSE;
  gint kind = -1;
  for (gsize k = 0; k < G_N_ELEMENTS (kind_names); k++)
    if (g_str_equal (ins->op->name, kind_names[k]))
      kind = (gint) k;
  if (kind < 0 || (kind != RK_COUNT && !grd_dtype_is_float (grd_program_value (prog, ins->in[0])->type.dtype)))
    return FALSE;
  ins->kind = GRD_INSTR_KERNEL;
  ins->kernel = reduce_run;
  ins->kernel_shape = reduce_shape;
  ins->kernel_arg = kind;
  return TRUE;
}
