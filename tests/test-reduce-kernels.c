/* test-reduce-kernels.c: the compiler's reduction kernels against the
 * reference executor (the ops' own kernels, no passes), in odd shapes
 * (empty, size 1, lengths that are no multiple of the vector width, rows and
 * columns longer than one task, ranks 0 to 4), every axis layout, special
 * values, float32 accuracy against float64, and bit-identical results for
 * any thread count. */
#include "grad-check.h"
#include "grd-internal.h"
#include "compile/grd-program.h"

#include <math.h>
#include <string.h>

#define F64 GRD_DTYPE_FLOAT64
#define F32 GRD_DTYPE_FLOAT32

/* op on variables shaped like `in` (dims unknown when built); NULL + error on failure */
static GrdTensor *
run_op (const char *op, const GrdAttrs *attrs, GrdTensor *const *in, gint n_in, guint passes,
        char **program, GError **error)
{
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef v[3];
  for (gint i = 0; i < n_in; i++)
    v[i] = grd_graph_variable (g, NULL, in[i]->dtype, in[i]->rank, NULL, error);
  GrdRef out = grd_graph_op (g, "r", op, v, n_in, attrs, error);
  if (*error)
    return NULL;
  g_autoptr (GrdFunction) fn = grd_function_new_with_passes (g, v, n_in, &out, 1, NULL, 0, passes,
                                                            error);
  g_assert_no_error (*error);
  if (program)
    *program = grd_function_describe (fn);
  GrdTensor *r = NULL;
  if (!grd_function_call (fn, in, &r, error))
    return NULL;
  return r;
}

/* The compiled result equals the reference's (or both fail with the same code). */
static void
check_same (const char *op, const GrdAttrs *attrs, GrdTensor *const *in, gint n_in, gboolean fast)
{
  g_autoptr (GError) e_want = NULL, e_got = NULL;
  g_autoptr (GrdTensor) want = run_op (op, attrs, in, n_in, 0, NULL, &e_want);
  g_autofree char *program = NULL;
  g_autoptr (GrdTensor) got = run_op (op, attrs, in, n_in, GRD_PASS_ALL, &program, &e_got);
  g_autofree char *shape = grd_tensor_describe (in[0]);
  g_test_message ("%s of %s: has_axis %d n_axes %d axis0 %d keepdims %d\n%s", op, shape,
                  attrs->has_axis, attrs->n_axes, attrs->axes[0], attrs->keepdims, program);
  if (e_want) {
    g_assert_nonnull (e_got);
    g_assert_cmpint (e_got->code, ==, e_want->code);
    return;
  }
  g_assert_no_error (e_got);
  if (fast)
    g_assert_nonnull (strstr (program, "[fast]"));
  gboolean f32 = in[0]->dtype == F32;
  gboolean prod = g_str_equal (op, "prod");
  double rtol = f32 ? 2e-6 : prod ? 1e-11 : 1e-12;
  grd_test_assert_close (got, want, rtol, f32 ? 1e-5 : 1e-11);
}

static const gint64 shapes[][5] = {
  /* rank, dims */
  { 0 },
  { 1, 0 }, { 1, 1 }, { 1, 7 }, { 1, 33 }, { 1, 40001 },
  { 2, 3, 0 }, { 2, 0, 3 }, { 2, 1, 1 }, { 2, 5, 17 }, { 2, 17, 5 }, { 2, 300, 1500 }, { 2, 3000, 3 },
  { 2, 1, 70001 },
  { 3, 3, 4, 5 }, { 3, 2, 1, 7 }, { 3, 9, 130, 11 },
  { 4, 2, 3, 4, 5 }, { 4, 3, 1, 33, 2 },
};

static const char *const ops[] = { "sum", "mean", "prod", "max", "min", "argmax", "argmin", "logsumexp" };

static void
test_every_layout (gconstpointer data)
{
  const char *op = data;
  gboolean arg = g_str_has_prefix (op, "arg");
  for (gint dt = 0; dt < 2; dt++) {
    GrdDType dtype = dt ? F64 : F32;
    for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++) {
      gint rank = (gint) shapes[s][0];
      gboolean is_prod = g_str_equal (op, "prod");
      g_autoptr (GrdTensor) x = grd_test_random (dtype, rank, shapes[s] + 1, is_prod ? 0.97 : -1,
                                                 is_prod ? 1.03 : 1, 100 + s);
      GrdTensor *in[] = { x };
      gboolean nonempty = x->size > 0 && !(g_str_equal (op, "logsumexp") && rank == 0);
      GrdAttrs a;
      /* all axes (absent), and keepdims */
      for (gint keep = 0; keep < 2; keep++) {
        grd_attrs_init (&a);
        a.keepdims = keep;
        check_same (op, &a, in, 1, nonempty);
      }
      /* each axis alone, positive and negative, kept or not */
      for (gint d = 0; d < rank; d++)
        for (gint keep = 0; keep < 2; keep++) {
          a = grd_attrs_axis (keep ? d - rank : d, keep);
          check_same (op, &a, in, 1, nonempty);
        }
      if (arg)
        continue;
      /* pairs of axes: neighbours (one run) and apart (the reference runs) */
      for (gint d = 0; d + 1 < rank; d++)
        for (gint e = d + 1; e < rank; e++) {
          grd_attrs_init (&a);
          a.has_axis = TRUE;
          a.n_axes = 2;
          a.axes[0] = d;
          a.axes[1] = e;
          check_same (op, &a, in, 1, nonempty);
        }
    }
  }
}

/* NaN, infinities and ties, along rows and down columns. */
static void
test_special_values (void)
{
  const double nan = NAN, inf = INFINITY;
  const double rows[][6] = {
    { 1, nan, 3, nan, 2, 0 },    { -inf, -inf, -inf, -inf, -inf, -inf }, { inf, 1, 2, inf, 0, -1 },
    { 2, 5, 5, 1, 5, 0 },        { -inf, 3, inf, 1, 2, 0 },             { 0, -0.0, 0, -0.0, 0, 0 },
    { nan, 1, 2, 3, 4, 5 },
  };
  gint64 shape[] = { G_N_ELEMENTS (rows), 6 };
  for (gint dt = 0; dt < 2; dt++) {
    g_autoptr (GrdTensor) x = grd_test_tensor (dt ? F64 : F32, 2, shape, &rows[0][0]);
    GrdTensor *in[] = { x };
    for (gsize k = 0; k < G_N_ELEMENTS (ops); k++)
      for (gint axis = -1; axis < 2; axis++) {
        GrdAttrs a;
        if (axis < 0)
          grd_attrs_init (&a);
        else
          a = grd_attrs_axis (axis, FALSE);
        check_same (ops[k], &a, in, 1, TRUE);
      }
  }
}

/* Rows long enough for the vector kernels (groups of 64 floats, the last
 * one overlapping), float32 and float64, with an infinity, all -inf, a NaN
 * only in the last (overlapping) group, a NaN early, and plain values. */
static void
test_special_long_rows (void)
{
  const gint64 w = 203;
  gint64 shape[] = { 5, w };
  g_autofree double *v = g_new (double, 5 * w);
  for (gint64 i = 0; i < 5 * w; i++)
    v[i] = sin ((double) i * 0.37);
  v[0 * w + 150] = INFINITY;
  for (gint64 i = 0; i < w; i++)
    v[1 * w + i] = -INFINITY;
  v[2 * w + 202] = NAN;
  v[3 * w + 3] = NAN;
  v[3 * w + 100] = NAN;
  v[4 * w + 70] = -INFINITY;
  for (gint dt = 0; dt < 2; dt++) {
    g_autoptr (GrdTensor) x = grd_test_tensor (dt ? F64 : F32, 2, shape, v);
    GrdTensor *in[] = { x };
    for (gsize k = 0; k < G_N_ELEMENTS (ops); k++) {
      GrdAttrs a = grd_attrs_axis (1, FALSE);
      check_same (ops[k], &a, in, 1, TRUE);
    }
  }
}

/* Long rows and tall columns with the NaN or the extreme near the end (in
 * the last chunk) and a tie in an earlier chunk. */
static void
test_chunked_extremes (void)
{
  gint64 row[] = { 2, 100000 }, col[] = { 100000, 3 };
  for (gint dt = 0; dt < 2; dt++) {
    GrdDType dtype = dt ? F64 : F32;
    g_autoptr (GrdTensor) r = grd_test_random (dtype, 2, row, -1, 1, 7);
    g_autoptr (GrdTensor) c = grd_test_random (dtype, 2, col, -1, 1, 8);
    grd_tensor_set (r, 99990, 5);
    grd_tensor_set (r, 10, 5);
    grd_tensor_set (r, 100000 + 99999, NAN);
    grd_tensor_set (c, 3 * 99000 + 1, 7);
    grd_tensor_set (c, 3 * 5 + 1, 7);
    grd_tensor_set (c, 3 * 99999 + 2, NAN);
    for (gint t = 0; t < 2; t++) {
      GrdTensor *in[] = { t ? c : r };
      for (gsize k = 0; k < G_N_ELEMENTS (ops); k++)
        for (gint axis = 0; axis < 2; axis++) {
          GrdAttrs a = grd_attrs_axis (axis, FALSE);
          check_same (ops[k], &a, in, 1, TRUE);
        }
    }
  }
}

/* Columns are combined in groups of rows as a tree (sums 16 rows, products
 * 4, max/min 8), 16 or 8 columns per vector and the rest one by one. With
 * many ties of +0 and -0, NaN and infinities in a few columns, and heights
 * and widths that are no multiple of a group or a vector, max and min must
 * keep the first best (the sign of a zero) and the first NaN's place, as
 * the reference does a row at a time; sums and products must agree. */
static void
test_column_groups (void)
{
  const gint64 shapes2[][4] = { { 2, 43, 37 }, { 3, 5, 43, 37 }, { 2, 9, 16 }, { 2, 17, 8 } };
  const double pool[] = { 0.0, -0.0, 1, -1, 2, 0.5, -0.0, 0.0 };
  for (gint t = 0; t < 4; t++)
    for (gsize s = 0; s < G_N_ELEMENTS (shapes2); s++) {
      gint dt = t & 1;
      gboolean special = t >= 2;   /* without NaN, max and min take their fast path */
      gint rank = (gint) shapes2[s][0];
      const gint64 *shape = shapes2[s] + 1;
      gint64 n = grd_shape_size (rank, shape), w = shape[rank - 1];
      g_autofree double *v = g_new (double, n);
      guint32 state = 7 + (guint32) s;
      for (gint64 i = 0; i < n; i++) {
        state = state * 1664525u + 1013904223u;
        v[i] = pool[(state >> 16) % G_N_ELEMENTS (pool)];
      }
      /* column 3: a NaN low down; column w - 1 (the scalar tail when w is
       * not a multiple of the vector): a NaN, then inf, then another NaN;
       * -inf in column 1 */
      if (special) {
        v[(n / w - 2) * w + 3] = NAN;
        v[w + w - 1] = NAN;
        v[2 * w + w - 1] = INFINITY;
        v[(n / w - 1) * w + w - 1] = -NAN;
      }
      v[5 * w + 1 < n ? 5 * w + 1 : 1] = -INFINITY;
      g_autoptr (GrdTensor) x = grd_test_tensor (dt ? F64 : F32, rank, shape, v);
      GrdTensor *in[] = { x };
      for (gsize k = 0; k < G_N_ELEMENTS (ops); k++)
        for (gint axis = 0; axis < rank - 1; axis++) {
          GrdAttrs a = grd_attrs_axis (axis, FALSE);
          check_same (ops[k], &a, in, 1, TRUE);
          if (!g_str_equal (ops[k], "max") && !g_str_equal (ops[k], "min"))
            continue;
          /* bit for bit, but for the NaN's payload */
          g_autoptr (GError) e1 = NULL, e2 = NULL;
          g_autoptr (GrdTensor) want = run_op (ops[k], &a, in, 1, 0, NULL, &e1);
          g_autoptr (GrdTensor) got = run_op (ops[k], &a, in, 1, GRD_PASS_ALL, NULL, &e2);
          g_assert_no_error (e1);
          g_assert_no_error (e2);
          g_assert_cmpint (got->size, ==, want->size);
          for (gint64 i = 0; i < got->size; i++) {
            double gv = grd_tensor_get (got, i), wv = grd_tensor_get (want, i);
            g_assert_cmpint (isnan (gv), ==, isnan (wv));
            if (!isnan (gv)) {
              g_assert_cmpfloat (gv, ==, wv);
              g_assert_cmpint (signbit (gv), ==, signbit (wv));
            }
          }
        }
    }
}

/* _reduce_to (broadcast gradients summed back) and _unreduce (a reduction's
 * gradient broadcast back), float32 and float64. */
static void
test_gradient_helpers (void)
{
  const gint64 g_shape[] = { 3, 37, 5, 1030 };
  const gint64 to[][4] = { { 1, 1030 }, { 2, 5, 1 }, { 3, 1, 5, 1030 }, { 0 }, { 3, 37, 1, 1 },
                           { 3, 37, 5, 1030 }, { 2, 1, 1030 } };
  for (gint dt = 0; dt < 2; dt++) {
    GrdDType dtype = dt ? F64 : F32;
    g_autoptr (GrdTensor) g = grd_test_random (dtype, 3, g_shape + 1, -1, 1, 11);
    for (gsize k = 0; k < G_N_ELEMENTS (to); k++) {
      g_autoptr (GrdTensor) like = grd_test_random (dtype, (gint) to[k][0], to[k] + 1, 0, 1, 12);
      GrdTensor *in[] = { g, like };
      GrdAttrs a;
      grd_attrs_init (&a);
      check_same ("_reduce_to", &a, in, 2, TRUE);
    }
    /* _unreduce: the gradient of sum over each axis, kept or not, and all */
    for (gint axis = -1; axis < 3; axis++)
      for (gint keep = 0; keep < 2; keep++) {
        GrdAttrs a;
        if (axis < 0) {
          grd_attrs_init (&a);
          a.keepdims = keep;
        } else {
          a = grd_attrs_axis (axis, keep);
        }
        GrdTensor *gin[] = { g };
        g_autoptr (GrdTensor) red = grd_test_eval_op ("sum", &a, gin, 1);
        GrdTensor *in[] = { red, g };
        check_same ("_unreduce", &a, in, 2, TRUE);
      }
  }
  /* an output of 4.5 MB whose rows of 4120 bytes start at every alignment */
  const gint64 big[] = { 1100, 1030 };
  g_autoptr (GrdTensor) x = grd_test_random (F32, 2, big, -1, 1, 13);
  GrdAttrs a = grd_attrs_axis (0, FALSE);
  GrdTensor *xin[] = { x };
  g_autoptr (GrdTensor) red = grd_test_eval_op ("sum", &a, xin, 1);
  GrdTensor *in[] = { red, x };
  check_same ("_unreduce", &a, in, 2, TRUE);
}

/* ---------------------------------------------------------- property tests */

/* lengths around the vector widths (16 float32, 8 float64), the argmax
 * group (4 vectors) and the row chunk (32768) */
static const gint64 prop_dims[] = { 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65,
                                    100, 127, 128, 129, 255, 257, 1000 };

/* Case `trial` of the property tests: a random shape (rank 1 to 3, axes of
 * length 1 included, now and then one row longer than a chunk) and values
 * of one of four kinds: continuous, few distinct values (ties, with 0 and
 * -0), few distinct values with infinities, continuous with NaNs. The same
 * trial always gives the same tensor. */
static GrdTensor *
prop_case (gint trial)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (9000 + trial);
  GrdDType dtype = trial & 1 ? F64 : F32;
  gint rank = g_rand_int_range (rng, 1, 4);
  gint64 shape[3], size = 1;
  for (gint d = 0; d < rank; d++) {
    shape[d] = prop_dims[g_rand_int_range (rng, 0, G_N_ELEMENTS (prop_dims))];
    size *= shape[d];
  }
  if (trial % 10 == 9) {
    /* one long row: pieces of 32768 combined in order */
    rank = 1;
    shape[0] = size = g_rand_int_range (rng, 32700, 70000);
  }
  gint kind = g_rand_int_range (rng, 0, 4);
  g_autofree double *v = g_new (double, size);
  for (gint64 i = 0; i < size; i++) {
    switch (kind) {
    case 0:
      v[i] = g_rand_double_range (rng, -1, 1);
      break;
    case 1:
      v[i] = g_rand_int_range (rng, -2, 3);
      if (v[i] == 0 && g_rand_boolean (rng))
        v[i] = -0.0;
      break;
    case 2: {
      gint32 r = g_rand_int_range (rng, 0, 40);
      v[i] = r == 0 ? INFINITY : r == 1 ? -INFINITY : r % 3;
      break;
    }
    default:
      v[i] = g_rand_int_range (rng, 0, 300) == 0 ? NAN : g_rand_double_range (rng, -1, 1);
    }
  }
  if (kind == 2 && g_rand_int_range (rng, 0, 3) == 0)
    for (gint64 i = 0; i < size; i++)
      v[i] = -INFINITY;   /* every value the identity of argmax */
  return grd_test_tensor (dtype, rank, shape, v);
}

static const char *const prop_ops[] = { "argmax", "argmin", "max", "min", "sum", "mean",
                                        "_reduce_to", "_unreduce" };
#define PROP_TRIALS 120

/* The attributes (and second input) of layout `l` of a case: l = 0 all
 * axes, then each axis alone, kept or not. FALSE when there is no such
 * layout. */
static gboolean
prop_layout (GrdTensor *x, gint l, GrdAttrs *a)
{
  if (l == 0) {
    grd_attrs_init (a);
    return TRUE;
  }
  gint d = (l - 1) / 2;
  if (d >= x->rank)
    return FALSE;
  *a = grd_attrs_axis (d, (l - 1) % 2);
  return TRUE;
}

/* Runs op of layout l on case x through `passes`: for _reduce_to the value
 * is summed to the shape with axis d of x set to 1 (l > 0) or to a scalar;
 * for _unreduce the sum of x is broadcast back. */
static GrdTensor *
prop_run (const char *op, GrdTensor *x, const GrdAttrs *a, guint passes, char **program)
{
  g_autoptr (GError) error = NULL;
  GrdTensor *r;
  if (g_str_equal (op, "_reduce_to")) {
    gint64 like_shape[3];
    gint like_rank = a->has_axis ? x->rank : 0;
    for (gint d = 0; d < like_rank; d++)
      like_shape[d] = d == a->axes[0] ? 1 : x->shape[d];
    g_autoptr (GrdTensor) like = grd_test_random (x->dtype, like_rank, like_shape, 0, 1, 5);
    GrdTensor *in[] = { x, like };
    GrdAttrs none;
    grd_attrs_init (&none);
    r = run_op (op, &none, in, 2, passes, program, &error);
  } else if (g_str_equal (op, "_unreduce")) {
    GrdTensor *xin[] = { x };
    g_autoptr (GrdTensor) red = grd_test_eval_op ("sum", a, xin, 1);
    GrdTensor *in[] = { red, x };
    r = run_op (op, a, in, 2, passes, program, &error);
  } else {
    GrdTensor *in[] = { x };
    r = run_op (op, a, in, 1, passes, program, &error);
  }
  g_assert_no_error (error);
  return r;
}

/* argmax, argmin, max, min and _unreduce equal the reference to the bit
 * (NaN where it has NaN; positions of first occurrences); sums within
 * rounding. Every case takes the kernel ("[fast]"). */
static void
test_properties (gconstpointer data)
{
  const char *op = data;
  gboolean exact = !g_str_equal (op, "sum") && !g_str_equal (op, "mean") && !g_str_equal (op, "_reduce_to");
  for (gint trial = 0; trial < PROP_TRIALS; trial++) {
    g_autoptr (GrdTensor) x = prop_case (trial);
    if (!exact && trial % 4 == 3)
      continue;   /* NaNs: sums are NaN on both sides, nothing to compare */
    GrdAttrs a;
    for (gint l = 0; prop_layout (x, l, &a); l++) {
      g_autofree char *program = NULL;
      g_autoptr (GrdTensor) want = prop_run (op, x, &a, 0, NULL);
      g_autoptr (GrdTensor) got = prop_run (op, x, &a, GRD_PASS_ALL, &program);
      g_autofree char *shape = grd_tensor_describe (x);
      g_test_message ("%s trial %d of %s, layout %d\n%s", op, trial, shape, l, program);
      g_assert_nonnull (strstr (program, "[fast]"));
      g_assert_cmpint (got->dtype, ==, want->dtype);
      g_assert_cmpint (got->rank, ==, want->rank);
      g_assert_cmpmem (got->shape, sizeof (gint64) * got->rank, want->shape, sizeof (gint64) * want->rank);
      if (exact)
        g_assert_cmpmem (got->data, got->size * grd_dtype_size (got->dtype), want->data,
                         want->size * grd_dtype_size (want->dtype));
      else
        grd_test_assert_close (got, want, x->dtype == F32 ? 2e-6 : 1e-12, x->dtype == F32 ? 1e-5 : 1e-11);
    }
  }
}

/* every property case's result bits, hashed (for the thread count test) */
static guint32
property_results (guint32 h)
{
  for (gsize k = 0; k < G_N_ELEMENTS (prop_ops); k++)
    for (gint trial = 0; trial < PROP_TRIALS; trial++) {
      g_autoptr (GrdTensor) x = prop_case (trial);
      GrdAttrs a;
      for (gint l = 0; prop_layout (x, l, &a); l++) {
        g_autoptr (GrdTensor) r = prop_run (prop_ops[k], x, &a, GRD_PASS_ALL, NULL);
        const guint8 *bytes = r->data;
        for (gint64 i = 0; i < r->size * (gint64) grd_dtype_size (r->dtype); i++)
          h = (h ^ bytes[i]) * 16777619u;
      }
    }
  return h;
}

static double
kahan_f32 (const float *x, gint64 n, gint64 stride)
{
  long double s = 0;
  for (gint64 i = 0; i < n; i++)
    s += x[i * stride];
  return (double) s;
}

/* float32 sums are float64 sums rounded once: within one float32 rounding
 * of the exact sum, along rows and down columns, where float32 accumulation
 * would be off by thousands of ulp. */
static void
test_float32_accuracy (void)
{
  g_autoptr (GError) error = NULL;
  /* rows; columns of 2 (summed one by one); columns of 37 (two vectors of
   * 16 and a tail), which also run the mean */
  const gint64 shapes2[][2] = { { 1, 2000000 }, { 2000000, 2 }, { 300000, 37 } };
  for (gint t = 0; t < 3; t++) {
    const gint64 *shape = shapes2[t];
    g_autoptr (GrdTensor) x = grd_test_random (F32, 2, shape, 0, 1, 21 + t);
    GrdTensor *in[] = { x };
    GrdAttrs a = grd_attrs_axis (t ? 0 : 1, FALSE);
    g_autoptr (GrdTensor) s = run_op ("sum", &a, in, 1, GRD_PASS_ALL, NULL, &error);
    g_assert_no_error (error);
    g_autoptr (GrdTensor) m = run_op ("mean", &a, in, 1, GRD_PASS_ALL, NULL, &error);
    g_assert_no_error (error);
    for (gint64 k = 0; k < s->size; k++) {
      double exact = t ? kahan_f32 ((const float *) x->data + k, shape[0], shape[1])
                       : kahan_f32 (x->data, shape[1], 1);
      double mean = exact / (double) (t ? shape[0] : shape[1]);
      g_assert_cmpfloat (fabs (grd_tensor_get (m, k) - mean), <=, fabs (mean) * 6e-8);
      double got = grd_tensor_get (s, k);
      g_assert_cmpfloat (fabs (got - exact), <=, fabs (exact) * 6e-8);
    }
  }
  /* float64: pairwise along rows keeps the error near one rounding */
  gint64 n[] = { 3000000 };
  g_autoptr (GrdTensor) y = grd_test_random (F64, 1, n, 0, 1, 22);
  long double exact = 0;
  for (gint64 i = 0; i < n[0]; i++)
    exact += ((const double *) y->data)[i];
  GrdTensor *in[] = { y };
  GrdAttrs a;
  grd_attrs_init (&a);
  g_autoptr (GrdTensor) s = run_op ("sum", &a, in, 1, GRD_PASS_ALL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (fabs (grd_tensor_get (s, 0) - (double) exact), <=, (double) exact * 4e-16);
}

/* every kernel on big inputs, printed as a hash of the result bits */
static char *
big_results (void)
{
  g_autoptr (GError) error = NULL;
  gint64 m[] = { 4096, 1000 }, v[] = { 1, 300000 };
  g_autoptr (GrdTensor) tm = grd_test_random (F32, 2, m, -3, 3, 31);
  g_autoptr (GrdTensor) tv = grd_test_random (F64, 2, v, -3, 3, 32);
  guint32 h = 2166136261u;
  for (gsize k = 0; k < G_N_ELEMENTS (ops); k++)
    for (gint t = 0; t < 3; t++) {
      GrdTensor *in[] = { t == 2 ? tv : tm };
      GrdAttrs a = grd_attrs_axis (t == 2 ? 1 : t, FALSE);
      g_autoptr (GrdTensor) r = run_op (ops[k], &a, in, 1, GRD_PASS_ALL, NULL, &error);
      g_assert_no_error (error);
      const guint8 *bytes = r->data;
      for (gint64 i = 0; i < r->size * (gint64) grd_dtype_size (r->dtype); i++)
        h = (h ^ bytes[i]) * 16777619u;
    }
  h = property_results (h);
  return g_strdup_printf ("%08x", h);
}

static void
test_thread_count_independence (void)
{
  const char *self = g_getenv ("GRADUS_TEST_SELF");
  g_assert_nonnull (self);
  char *got[2];
  for (gint k = 0; k < 2; k++) {
    g_auto (GStrv) env = g_environ_setenv (g_get_environ (), "GRADUS_THREADS", k ? "3" : "1", TRUE);
    char *argv[] = { (char *) self, "--print-big-results", NULL };
    g_autoptr (GError) error = NULL;
    gint status;
    g_assert_true (g_spawn_sync (NULL, argv, env, G_SPAWN_DEFAULT, NULL, NULL, &got[k], NULL, &status,
                                 &error));
    g_assert_no_error (error);
    g_assert_cmpint (status, ==, 0);
  }
  g_assert_cmpstr (got[0], ==, got[1]);
  g_assert_cmpuint (strlen (got[0]), ==, 9);
  g_free (got[0]);
  g_free (got[1]);
}

int
main (int argc, char **argv)
{
  if (argc > 1 && g_str_equal (argv[1], "--print-big-results")) {
    g_autofree char *r = big_results ();
    g_print ("%s\n", r);
    return 0;
  }
  g_setenv ("GRADUS_TEST_SELF", argv[0], TRUE);
  g_test_init (&argc, &argv, NULL);
  for (gsize k = 0; k < G_N_ELEMENTS (ops); k++) {
    g_autofree char *path = g_strdup_printf ("/engine/reduce-kernels/layouts/%s", ops[k]);
    g_test_add_data_func (path, ops[k], test_every_layout);
  }
  for (gsize k = 0; k < G_N_ELEMENTS (prop_ops); k++) {
    g_autofree char *path = g_strdup_printf ("/engine/reduce-kernels/properties/%s", prop_ops[k]);
    g_test_add_data_func (path, prop_ops[k], test_properties);
  }
  g_test_add_func ("/engine/reduce-kernels/special-values", test_special_values);
  g_test_add_func ("/engine/reduce-kernels/special-long-rows", test_special_long_rows);
  g_test_add_func ("/engine/reduce-kernels/chunked-extremes", test_chunked_extremes);
  g_test_add_func ("/engine/reduce-kernels/gradient-helpers", test_gradient_helpers);
  g_test_add_func ("/engine/reduce-kernels/column-groups", test_column_groups);
  g_test_add_func ("/engine/reduce-kernels/float32-accuracy", test_float32_accuracy);
  g_test_add_func ("/engine/reduce-kernels/thread-count-independence", test_thread_count_independence);
  return g_test_run ();
}
