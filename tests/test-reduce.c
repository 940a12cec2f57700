/* test-reduce.c: sum mean prod max min argmax argmin against naive loops,
 * NumPy's dtype rules and edge cases, and their gradients. */
#include "grad-check.h"

#include <math.h>
#include <string.h>

static GrdAttrs
attrs_axes (gint n, const gint *axes, gboolean keepdims)
{
  GrdAttrs a;
  grd_attrs_init (&a);
  a.has_axis = n > 0;
  a.n_axes = n;
  for (gint i = 0; i < n; i++)
    a.axes[i] = axes[i];
  a.keepdims = keepdims;
  return a;
}

static GrdAttrs
attrs_all (gboolean keepdims)
{
  return attrs_axes (0, NULL, keepdims);
}

/* ------------------------------------------------------------ naive reference */

/* The reduction written the obvious way: for every input element, its output
 * element from the multi-index. Returns the number of output elements; fills
 * the output shape. kind: 0 sum, 1 mean, 2 prod, 3 max, 4 min. */
static gint64
naive_reduce (gint kind, const GrdTensor *x, gint n_axes, const gint *axes, gboolean keepdims,
              gint *rank_out, gint64 *shape_out, double *out)
{
  gboolean red[GRD_MAX_RANK] = { 0 };
  if (n_axes == 0)
    for (gint d = 0; d < x->rank; d++)
      red[d] = TRUE;
  for (gint i = 0; i < n_axes; i++)
    red[axes[i] < 0 ? axes[i] + x->rank : axes[i]] = TRUE;
  gint r = 0;
  gint64 count = 1;
  for (gint d = 0; d < x->rank; d++) {
    if (!red[d])
      shape_out[r++] = x->shape[d];
    else if (keepdims)
      shape_out[r++] = 1;
    if (red[d])
      count *= x->shape[d];
  }
  *rank_out = r;
  gint64 n_out = 1;
  for (gint d = 0; d < r; d++)
    n_out *= shape_out[d];
  for (gint64 o = 0; o < n_out; o++)
    out[o] = kind == 2 ? 1.0 : kind == 3 ? -INFINITY : kind == 4 ? INFINITY : 0.0;
  for (gint64 i = 0; i < x->size; i++) {
    gint64 rem = i, idx[GRD_MAX_RANK];
    for (gint d = x->rank - 1; d >= 0; d--) {
      idx[d] = rem % x->shape[d];
      rem /= x->shape[d];
    }
    gint64 o = 0;
    for (gint d = 0; d < x->rank; d++) {
      if (!red[d])
        o = o * x->shape[d] + idx[d];
    }
    double v = grd_tensor_get (x, i);
    switch (kind) {
    case 0: case 1: out[o] += v; break;
    case 2: out[o] *= v; break;
    case 3: out[o] = isnan (out[o]) || isnan (v) ? NAN : fmax (out[o], v); break;
    case 4: out[o] = isnan (out[o]) || isnan (v) ? NAN : fmin (out[o], v); break;
    }
  }
  if (kind == 1)
    for (gint64 o = 0; o < n_out; o++)
      out[o] /= (double) count;
  return n_out;
}

static const char *kind_names[] = { "sum", "mean", "prod", "max", "min" };

typedef struct {
  gint n;
  gint axes[3];
} AxisCase;

static const AxisCase axis_cases[] = {
  { 0, { 0 } }, { 1, { 0 } }, { 1, { 1 } }, { 1, { 2 } }, { 1, { -1 } }, { 1, { -3 } },
  { 2, { 0, 2 } }, { 2, { -1, 0 } }, { 2, { 1, 2 } }, { 3, { 2, 0, 1 } },
};

static void
test_values_float64 (void)
{
  const gint64 shape[] = { 3, 4, 5 };
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 3, shape, 0.5, 1.5, 11);
  for (gint kind = 0; kind < 5; kind++)
    for (gsize c = 0; c < G_N_ELEMENTS (axis_cases); c++)
      for (gint keep = 0; keep < 2; keep++) {
        GrdAttrs a = attrs_axes (axis_cases[c].n, axis_cases[c].axes, keep);
        g_autoptr (GrdTensor) got = grd_test_eval_op (kind_names[kind], &a, &x, 1);
        double want[64];
        gint r;
        gint64 s[GRD_MAX_RANK];
        naive_reduce (kind, x, axis_cases[c].n, axis_cases[c].axes, keep, &r, s, want);
        grd_test_assert_tensor (got, GRD_DTYPE_FLOAT64, r, s, want, 1e-13, 0);
      }
}

static void
test_values_int_dtypes (void)
{
  const gint64 shape[] = { 4, 6 };
  const gint axes[] = { 0 };
  for (GrdDType dt = GRD_DTYPE_BOOL; dt <= GRD_DTYPE_INT64; dt++) {
    g_autoptr (GrdTensor) x = grd_test_random (dt, 2, shape, dt == GRD_DTYPE_BOOL ? 0 : -5,
                                               dt == GRD_DTYPE_BOOL ? 2 : 6, 3 + dt);
    /* NumPy: sum/prod of bool and ints give int64, mean float64, max/min keep */
    const GrdDType want_dt[] = { GRD_DTYPE_INT64, GRD_DTYPE_FLOAT64, GRD_DTYPE_INT64, dt, dt };
    for (gint kind = 0; kind < 5; kind++)
      for (gint all = 0; all < 2; all++) {
        GrdAttrs a = attrs_axes (all ? 0 : 1, axes, FALSE);
        g_autoptr (GrdTensor) got = grd_test_eval_op (kind_names[kind], &a, &x, 1);
        double want[8];
        gint r;
        gint64 s[GRD_MAX_RANK];
        naive_reduce (kind, x, all ? 0 : 1, axes, FALSE, &r, s, want);
        grd_test_assert_tensor (got, want_dt[kind], r, s, want, 1e-15, 0);
      }
  }
}

static void
test_values_float32 (void)
{
  /* 1e6 float32 ones sum exactly; float32 stays float32 for sum and mean */
  const gint64 n = 1000000;
  g_autoptr (GrdTensor) ones = grd_tensor_new (GRD_DTYPE_FLOAT32, 1, &n);
  for (gint64 i = 0; i < n; i++)
    ((float *) ones->data)[i] = 1.0f;
  g_autoptr (GrdTensor) s = grd_test_eval_op ("sum", NULL, &ones, 1);
  g_assert_cmpint (s->dtype, ==, GRD_DTYPE_FLOAT32);
  g_assert_cmpint (s->rank, ==, 0);
  g_assert_cmpfloat (((float *) s->data)[0], ==, 1e6f);
  g_autoptr (GrdTensor) m = grd_test_eval_op ("mean", NULL, &ones, 1);
  g_assert_cmpint (m->dtype, ==, GRD_DTYPE_FLOAT32);
  g_assert_cmpfloat (((float *) m->data)[0], ==, 1.0f);

  /* 0.1f repeated: within float32 rounding of the exact double sum */
  g_autoptr (GrdTensor) tenth = grd_tensor_new (GRD_DTYPE_FLOAT32, 1, &n);
  double exact = 0;
  for (gint64 i = 0; i < n; i++) {
    ((float *) tenth->data)[i] = 0.1f;
    exact += (double) 0.1f;
  }
  g_autoptr (GrdTensor) s2 = grd_test_eval_op ("sum", NULL, &tenth, 1);
  g_assert_cmpfloat (((float *) s2->data)[0], ==, (float) exact);

  /* keepdims over a float32 matrix */
  const gint64 shape[] = { 7, 9 };
  const gint ax[] = { -1 };
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT32, 2, shape, -1, 1, 5);
  GrdAttrs a = attrs_axes (1, ax, TRUE);
  g_autoptr (GrdTensor) got = grd_test_eval_op ("mean", &a, &x, 1);
  double want[7];
  gint r;
  gint64 sh[GRD_MAX_RANK];
  naive_reduce (1, x, 1, ax, TRUE, &r, sh, want);
  grd_test_assert_tensor (got, GRD_DTYPE_FLOAT32, r, sh, want, 1e-6, 1e-7);
}

static void
test_int64_exact (void)
{
  /* values beyond 2^53 must not go through doubles */
  const gint64 n = 3;
  g_autoptr (GrdTensor) x = grd_tensor_new (GRD_DTYPE_INT64, 1, &n);
  gint64 *d = x->data;
  d[0] = (G_GINT64_CONSTANT (1) << 62) + 1;
  d[1] = (G_GINT64_CONSTANT (1) << 62);
  d[2] = -7;
  g_autoptr (GrdTensor) mx = grd_test_eval_op ("max", NULL, &x, 1);
  g_assert_cmpint (((gint64 *) mx->data)[0], ==, (G_GINT64_CONSTANT (1) << 62) + 1);
  g_autoptr (GrdTensor) am = grd_test_eval_op ("argmax", NULL, &x, 1);
  g_assert_cmpint (((gint64 *) am->data)[0], ==, 0);
  d[1] = G_GINT64_CONSTANT (1) << 61;
  d[2] = 3;
  g_autoptr (GrdTensor) sm = grd_test_eval_op ("sum", NULL, &x, 1);
  g_assert_cmpint (((gint64 *) sm->data)[0], ==,
                   (G_GINT64_CONSTANT (1) << 62) + (G_GINT64_CONSTANT (1) << 61) + 4);
}

static void
test_scalar_and_keepdims_all (void)
{
  g_autoptr (GrdTensor) s = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 2.5);
  for (gint kind = 0; kind < 5; kind++) {
    g_autoptr (GrdTensor) got = grd_test_eval_op (kind_names[kind], NULL, &s, 1);
    double want = 2.5;
    grd_test_assert_tensor (got, GRD_DTYPE_FLOAT64, 0, NULL, &want, 0, 0);
  }
  g_autoptr (GrdTensor) am = grd_test_eval_op ("argmax", NULL, &s, 1);
  double zero = 0;
  grd_test_assert_tensor (am, GRD_DTYPE_INT64, 0, NULL, &zero, 0, 0);

  const gint64 shape[] = { 2, 3 };
  const double v[] = { 1, 2, 3, 4, 5, 6 };
  g_autoptr (GrdTensor) x = grd_test_tensor (GRD_DTYPE_FLOAT64, 2, shape, v);
  GrdAttrs a = attrs_all (TRUE);
  g_autoptr (GrdTensor) got = grd_test_eval_op ("sum", &a, &x, 1);
  const gint64 ones[] = { 1, 1 };
  double want = 21;
  grd_test_assert_tensor (got, GRD_DTYPE_FLOAT64, 2, ones, &want, 0, 0);
  g_autoptr (GrdTensor) amk = grd_test_eval_op ("argmax", &a, &x, 1);
  double five = 5;
  grd_test_assert_tensor (amk, GRD_DTYPE_INT64, 2, ones, &five, 0, 0);
}

static void
test_empty (void)
{
  const gint64 shape[] = { 0, 3 };
  g_autoptr (GrdTensor) x = grd_tensor_new (GRD_DTYPE_FLOAT64, 2, shape);
  GrdAttrs a0 = grd_attrs_axis (0, FALSE), a1 = grd_attrs_axis (1, FALSE);
  const gint64 three = 3, zero = 0;
  const double zeros[] = { 0, 0, 0 }, ones[] = { 1, 1, 1 }, nans[] = { NAN, NAN, NAN };
  g_autoptr (GrdTensor) s = grd_test_eval_op ("sum", &a0, &x, 1);
  grd_test_assert_tensor (s, GRD_DTYPE_FLOAT64, 1, &three, zeros, 0, 0);
  g_autoptr (GrdTensor) p = grd_test_eval_op ("prod", &a0, &x, 1);
  grd_test_assert_tensor (p, GRD_DTYPE_FLOAT64, 1, &three, ones, 0, 0);
  g_autoptr (GrdTensor) m = grd_test_eval_op ("mean", &a0, &x, 1);
  grd_test_assert_tensor (m, GRD_DTYPE_FLOAT64, 1, &three, nans, 0, 0);
  /* max over the non-empty axis of an empty array is an empty result */
  g_autoptr (GrdTensor) mx = grd_test_eval_op ("max", &a1, &x, 1);
  grd_test_assert_tensor (mx, GRD_DTYPE_FLOAT64, 1, &zero, NULL, 0, 0);
  g_autoptr (GrdTensor) am = grd_test_eval_op ("argmax", &a1, &x, 1);
  grd_test_assert_tensor (am, GRD_DTYPE_INT64, 1, &zero, NULL, 0, 0);

  /* max over an empty axis: refused when the graph is built ... */
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdTensor) bad = grd_test_try_op ("max", &a0, &x, 1, &error);
  g_assert_null (bad);
  g_assert_error (error, GRD_ERROR, GRD_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "under_test"));
  g_assert_nonnull (strstr (error->message, "zero-size array to reduction operation maximum"));
  g_clear_error (&error);
  g_autoptr (GrdTensor) bad2 = grd_test_try_op ("argmin", NULL, &x, 1, &error);
  g_assert_null (bad2);
  g_assert_nonnull (strstr (error->message, "empty sequence"));
  g_clear_error (&error);

  /* ... and at run time when the shape is only known then */
  g_autoptr (GrdGraph) g = grd_graph_new ();
  const gint64 dims[] = { GRD_DIM_UNKNOWN, 3 };
  GrdRef v = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 2, dims, &error);
  GrdRef out = grd_graph_op (g, "lowest", "min", &v, 1, &a0, &error);
  g_assert_no_error (error);
  g_autoptr (GrdFunction) fn = grd_function_new (g, &v, 1, &out, 1, NULL, 0, &error);
  g_assert_no_error (error);
  GrdTensor *res = NULL;
  g_assert_false (grd_function_call (fn, &x, &res, &error));
  g_assert_error (error, GRD_ERROR, GRD_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "'lowest'"));
  g_assert_nonnull (strstr (error->message, "zero-size array to reduction operation minimum"));
}

static void
test_nan (void)
{
  const gint64 n = 5;
  const double v[] = { 1, NAN, 7, NAN, -2 };
  g_autoptr (GrdTensor) x = grd_test_tensor (GRD_DTYPE_FLOAT32, 1, &n, v);
  double nan = NAN, one = 1;
  g_autoptr (GrdTensor) mx = grd_test_eval_op ("max", NULL, &x, 1);
  grd_test_assert_tensor (mx, GRD_DTYPE_FLOAT32, 0, NULL, &nan, 0, 0);
  g_autoptr (GrdTensor) mn = grd_test_eval_op ("min", NULL, &x, 1);
  grd_test_assert_tensor (mn, GRD_DTYPE_FLOAT32, 0, NULL, &nan, 0, 0);
  /* NumPy: the first NaN is both the argmax and the argmin */
  g_autoptr (GrdTensor) amx = grd_test_eval_op ("argmax", NULL, &x, 1);
  grd_test_assert_tensor (amx, GRD_DTYPE_INT64, 0, NULL, &one, 0, 0);
  g_autoptr (GrdTensor) amn = grd_test_eval_op ("argmin", NULL, &x, 1);
  grd_test_assert_tensor (amn, GRD_DTYPE_INT64, 0, NULL, &one, 0, 0);

  /* per column: NaN in column 1 only */
  const gint64 shape[] = { 3, 2 };
  const double w[] = { 1, 4, 9, NAN, 2, 5 };
  g_autoptr (GrdTensor) m = grd_test_tensor (GRD_DTYPE_FLOAT64, 2, shape, w);
  GrdAttrs a0 = grd_attrs_axis (0, FALSE);
  const gint64 two = 2;
  const double want_max[] = { 9, NAN }, want_amax[] = { 1, 1 }, want_amin[] = { 0, 1 };
  g_autoptr (GrdTensor) cm = grd_test_eval_op ("max", &a0, &m, 1);
  grd_test_assert_tensor (cm, GRD_DTYPE_FLOAT64, 1, &two, want_max, 0, 0);
  g_autoptr (GrdTensor) ca = grd_test_eval_op ("argmax", &a0, &m, 1);
  grd_test_assert_tensor (ca, GRD_DTYPE_INT64, 1, &two, want_amax, 0, 0);
  g_autoptr (GrdTensor) ci = grd_test_eval_op ("argmin", &a0, &m, 1);
  grd_test_assert_tensor (ci, GRD_DTYPE_INT64, 1, &two, want_amin, 0, 0);
}

/* argmax/argmin by a naive scan along one axis of a 3-d tensor. */
static void
test_argmax_axes (void)
{
  const gint64 shape[] = { 3, 4, 5 };
  /* integers in a small range so ties happen: the first must win */
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_INT32, 3, shape, 0, 4, 21);
  for (gint op = 0; op < 2; op++)
    for (gint axis = -3; axis < 3; axis++)
      for (gint keep = 0; keep < 2; keep++) {
        GrdAttrs a = grd_attrs_axis (axis, keep);
        g_autoptr (GrdTensor) got = grd_test_eval_op (op ? "argmin" : "argmax", &a, &x, 1);
        gint ax = axis < 0 ? axis + 3 : axis;
        gint64 oshape[3];
        gint r = 0;
        for (gint d = 0; d < 3; d++)
          if (d != ax)
            oshape[r++] = shape[d];
          else if (keep)
            oshape[r++] = 1;
        double want[20];
        gint64 o = 0;
        for (gint64 i = 0; i < shape[0]; i++)
          for (gint64 j = 0; j < shape[1]; j++)
            for (gint64 k = 0; k < shape[2]; k++) {
              gint64 idx[3] = { i, j, k };
              if (idx[ax] != 0)
                continue;
              double best = 0;
              gint64 best_t = 0;
              for (gint64 t = 0; t < shape[ax]; t++) {
                idx[ax] = t;
                double v = grd_tensor_get (x, (idx[0] * 4 + idx[1]) * 5 + idx[2]);
                if (t == 0 || (op ? v < best : v > best)) {
                  best = v;
                  best_t = t;
                }
              }
              want[o++] = best_t;
            }
        grd_test_assert_tensor (got, GRD_DTYPE_INT64, r, oshape, want, 0, 0);
      }

  /* flattened, with a tie */
  const gint64 n = 4;
  const double v[] = { 3, 5, 5, 1 };
  g_autoptr (GrdTensor) t = grd_test_tensor (GRD_DTYPE_INT64, 1, &n, v);
  g_autoptr (GrdTensor) am = grd_test_eval_op ("argmax", NULL, &t, 1);
  double one = 1;
  grd_test_assert_tensor (am, GRD_DTYPE_INT64, 0, NULL, &one, 0, 0);
}

static void
test_static_types (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  const gint64 dims[] = { GRD_DIM_UNKNOWN, 4, 5 };
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_INT32, 3, dims, &error);
  const gint axes[] = { 1 };
  GrdAttrs a = attrs_axes (1, axes, FALSE), k = attrs_axes (1, axes, TRUE);
  const struct {
    const char *op;
    const GrdAttrs *attrs;
    const char *want;
  } cases[] = {
    { "sum", &a, "int64[?,5]" },
    { "sum", &k, "int64[?,1,5]" },
    { "mean", &a, "float64[?,5]" },
    { "max", &k, "int32[?,1,5]" },
    { "argmin", &a, "int64[?,5]" },
    { "prod", NULL, "int64[]" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    GrdRef r = grd_graph_op (g, NULL, cases[i].op, &x, 1, cases[i].attrs, &error);
    g_assert_no_error (error);
    g_autofree char *got = grd_type_describe (grd_graph_ref_type (g, r));
    g_assert_cmpstr (got, ==, cases[i].want);
  }
  g_assert_cmpstr (grd_op_group ("argmax"), ==, "reductions");
  g_assert_cmpstr (grd_op_group ("_unreduce"), ==, "internal");
}

static void
test_axis_errors (void)
{
  const gint64 shape[] = { 2, 3 };
  g_autoptr (GrdTensor) x = grd_tensor_new (GRD_DTYPE_FLOAT32, 2, shape);
  g_autoptr (GError) error = NULL;
  GrdAttrs a3 = grd_attrs_axis (3, FALSE);
  g_autoptr (GrdTensor) r1 = grd_test_try_op ("sum", &a3, &x, 1, &error);
  g_assert_null (r1);
  g_assert_error (error, GRD_ERROR, GRD_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "'under_test'"));
  g_assert_nonnull (strstr (error->message, "axis 3"));
  g_clear_error (&error);

  const gint rep[] = { 1, -1 };
  GrdAttrs ar = attrs_axes (2, rep, FALSE);
  g_autoptr (GrdTensor) r2 = grd_test_try_op ("mean", &ar, &x, 1, &error);
  g_assert_null (r2);
  g_assert_error (error, GRD_ERROR, GRD_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "repeated"));
  g_clear_error (&error);

  const gint two[] = { 0, 1 };
  GrdAttrs a2 = attrs_axes (2, two, FALSE);
  g_autoptr (GrdTensor) r3 = grd_test_try_op ("argmax", &a2, &x, 1, &error);
  g_assert_null (r3);
  g_assert_error (error, GRD_ERROR, GRD_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "single axis"));
  g_clear_error (&error);

  GrdAttrs am3 = grd_attrs_axis (-3, FALSE);
  g_autoptr (GrdTensor) r4 = grd_test_try_op ("argmin", &am3, &x, 1, &error);
  g_assert_null (r4);
  g_assert_nonnull (strstr (error->message, "axis -3"));
}

/* ------------------------------------------------------------ gradients */

static void
test_grad_sum_mean (void)
{
  const gint64 shape[] = { 3, 4, 2 };
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 3, shape, -1, 1, 7);
  for (gint op = 0; op < 2; op++)
    for (gsize c = 0; c < G_N_ELEMENTS (axis_cases); c++)
      for (gint keep = 0; keep < 2; keep++) {
        GrdAttrs a = attrs_axes (axis_cases[c].n, axis_cases[c].axes, keep);
        grd_test_verify_grad (op ? "mean" : "sum", &a, &x, 1);
      }
  /* float32 input: the gradient is computed in the checker's float64 */
  g_autoptr (GrdTensor) xf = grd_test_random (GRD_DTYPE_FLOAT32, 3, shape, -1, 1, 8);
  GrdAttrs a1 = grd_attrs_axis (1, TRUE);
  grd_test_verify_grad ("mean", &a1, &xf, 1);
  g_autoptr (GrdTensor) s = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 0.3);
  grd_test_verify_grad ("sum", NULL, &s, 1);
  grd_test_verify_grad ("mean", NULL, &s, 1);
}

static void
test_grad_prod (void)
{
  /* away from zero (see the limitation in ops-reduce.c) */
  const gint64 shape[] = { 3, 4 };
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 2, shape, 0.5, 1.5, 9);
  for (gint keep = 0; keep < 2; keep++) {
    GrdAttrs all = attrs_all (keep), a0 = grd_attrs_axis (0, keep), a1 = grd_attrs_axis (-1, keep);
    grd_test_verify_grad ("prod", &all, &x, 1);
    grd_test_verify_grad ("prod", &a0, &x, 1);
    grd_test_verify_grad ("prod", &a1, &x, 1);
  }
  /* negative values too */
  g_autoptr (GrdTensor) y = grd_test_random (GRD_DTYPE_FLOAT64, 2, shape, -1.5, -0.5, 10);
  GrdAttrs a1 = grd_attrs_axis (1, FALSE);
  grd_test_verify_grad ("prod", &a1, &y, 1);
}

static void
test_grad_max_min (void)
{
  /* distinct values: away from ties the gradient is the indicator */
  const gint64 shape[] = { 3, 4, 5 };
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 3, shape, -1, 1, 12);
  for (gint op = 0; op < 2; op++)
    for (gsize c = 0; c < G_N_ELEMENTS (axis_cases); c++)
      for (gint keep = 0; keep < 2; keep++) {
        GrdAttrs a = attrs_axes (axis_cases[c].n, axis_cases[c].axes, keep);
        grd_test_verify_grad (op ? "min" : "max", &a, &x, 1);
      }
}

/* With zeros: the gradient is the product of the others, not prod / x. */
static void
test_grad_prod_zeros (void)
{
  const gint64 shape[] = { 3, 3 };
  const double v[] = { 2, 0, 3, 0, 0, 5, 1, 2, -4 };
  g_autoptr (GrdTensor) x = grd_test_tensor (GRD_DTYPE_FLOAT64, 2, shape, v);
  GrdAttrs a1 = grd_attrs_axis (1, FALSE), a0 = grd_attrs_axis (0, TRUE), all = attrs_all (FALSE);
  grd_test_verify_grad ("prod", &a1, &x, 1);
  grd_test_verify_grad ("prod", &a0, &x, 1);
  grd_test_verify_grad ("prod", &all, &x, 1);

  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef xv = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT32, 2, shape, &error);
  GrdRef cost = grd_op1 (g, "sum", grd_graph_op (g, NULL, "prod", &xv, 1, &a1, &error), &error);
  GrdRef gx;
  grd_graph_grad (g, "d", cost, &xv, 1, NULL, 0, &gx, &error);
  g_assert_no_error (error);
  g_autoptr (GrdFunction) fn = grd_function_new (g, &xv, 1, &gx, 1, NULL, 0, &error);
  g_assert_no_error (error);
  g_autoptr (GrdTensor) xf = grd_tensor_cast (x, GRD_DTYPE_FLOAT32);
  g_autoptr (GrdTensor) got = NULL;
  g_assert_true (grd_function_call (fn, &xf, &got, &error));
  /* row by row: the others' product; two zeros in a row give all zeros */
  const double want[] = { 0, 6, 0, 0, 0, 0, -8, -4, 2 };
  grd_test_assert_tensor (got, GRD_DTYPE_FLOAT32, 2, shape, want, 0, 0);
}

/* d sum(max(x, axis 1)) / dx with ties: split evenly, as PyTorch does. */
static void
test_grad_max_ties (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  const gint64 dims[] = { GRD_DIM_UNKNOWN, GRD_DIM_UNKNOWN };
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT32, 2, dims, &error);
  GrdAttrs a = grd_attrs_axis (1, FALSE);
  GrdRef m = grd_graph_op (g, "m", "max", &x, 1, &a, &error);
  GrdRef cost = grd_op1 (g, "sum", m, &error);
  GrdRef gx;
  grd_graph_grad (g, "d", cost, &x, 1, NULL, 0, &gx, &error);
  g_assert_no_error (error);
  g_autoptr (GrdFunction) fn = grd_function_new (g, &x, 1, &gx, 1, NULL, 0, &error);
  g_assert_no_error (error);
  const gint64 shape[] = { 2, 4 };
  const double v[] = { 1, 3, 3, 2, 5, 5, 5, 0 };
  g_autoptr (GrdTensor) xv = grd_test_tensor (GRD_DTYPE_FLOAT32, 2, shape, v);
  g_autoptr (GrdTensor) got = NULL;
  g_assert_true (grd_function_call (fn, &xv, &got, &error));
  const double want[] = { 0, 0.5, 0.5, 0, 1.0 / 3, 1.0 / 3, 1.0 / 3, 0 };
  grd_test_assert_tensor (got, GRD_DTYPE_FLOAT32, 2, shape, want, 1e-6, 0);
}

/* Shapes unknown when the graph is built: the gradient reads them at run time. */
static void
test_grad_unknown_shapes (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  const gint64 dims[] = { GRD_DIM_UNKNOWN, GRD_DIM_UNKNOWN };
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 2, dims, &error);
  GrdAttrs a0 = grd_attrs_axis (0, FALSE);
  GrdRef m = grd_graph_op (g, NULL, "mean", &x, 1, &a0, &error);
  GrdRef cost = grd_op1 (g, "sum", m, &error);
  GrdRef gx;
  grd_graph_grad (g, "d", cost, &x, 1, NULL, 0, &gx, &error);
  g_assert_no_error (error);
  g_autofree char *t = grd_type_describe (grd_graph_ref_type (g, gx));
  g_assert_cmpstr (t, ==, "float64[?,?]");
  g_autoptr (GrdFunction) fn = grd_function_new (g, &x, 1, &gx, 1, NULL, 0, &error);
  g_assert_no_error (error);
  for (gint64 rows = 1; rows <= 4; rows += 3) {
    const gint64 shape[] = { rows, 3 };
    g_autoptr (GrdTensor) xv = grd_test_random (GRD_DTYPE_FLOAT64, 2, shape, -1, 1, rows);
    g_autoptr (GrdTensor) got = NULL;
    g_assert_true (grd_function_call (fn, &xv, &got, &error));
    double want[12];
    for (gint i = 0; i < rows * 3; i++)
      want[i] = 1.0 / rows;
    grd_test_assert_tensor (got, GRD_DTYPE_FLOAT64, 2, shape, want, 1e-15, 0);
  }
}

/* grad of grad: the gradient of an expression whose own gradient goes
 * through _unreduce of something that depends on x. */
static GrdRef
build_sum_second (GrdGraph *g, const GrdRef *v, gpointer data, GError **error)
{
  const char *op = data;
  GrdAttrs a1 = grd_attrs_axis (1, FALSE);
  const gint both[] = { 0, -1 };
  GrdAttrs a01 = attrs_axes (2, both, TRUE);
  GrdRef x = v[0];
  GrdRef sq = grd_graph_op (g, NULL, op, (GrdRef[]) { grd_op2 (g, "mul", x, x, error) }, 1, &a1,
                            error);
  GrdRef s = grd_graph_op (g, NULL, op, &x, 1, &a1, error);
  GrdRef k = grd_graph_op (g, NULL, op, &x, 1, &a01, error);
  GrdRef cost = grd_op1 (g, "sum", grd_op2 (g, "mul", grd_op2 (g, "mul", sq, s, error), k, error),
                         error);
  GrdRef gx = GRD_REF_NONE;
  grd_graph_grad (g, NULL, cost, &x, 1, NULL, 0, &gx, error);
  return gx;
}

static void
test_grad_of_grad (void)
{
  const gint64 shape[] = { 3, 4 };
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 2, shape, -1, 1, 13);
  grd_test_verify_grad_build (build_sum_second, "sum", &x, 1, 1);
  grd_test_verify_grad_build (build_sum_second, "mean", &x, 1, 2);
  /* prod's second derivative (away from zero) goes through _prod_others */
  g_autoptr (GrdTensor) y = grd_test_random (GRD_DTYPE_FLOAT64, 2, shape, 0.5, 1.5, 14);
  grd_test_verify_grad_build (build_sum_second, "prod", &y, 1, 3);
  /* max and min: piecewise polynomial, smooth away from ties */
  grd_test_verify_grad_build (build_sum_second, "max", &x, 1, 4);
  grd_test_verify_grad_build (build_sum_second, "min", &x, 1, 5);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/reduce/values-float64", test_values_float64);
  g_test_add_func ("/engine/reduce/values-int-dtypes", test_values_int_dtypes);
  g_test_add_func ("/engine/reduce/values-float32", test_values_float32);
  g_test_add_func ("/engine/reduce/int64-exact", test_int64_exact);
  g_test_add_func ("/engine/reduce/scalar-keepdims", test_scalar_and_keepdims_all);
  g_test_add_func ("/engine/reduce/empty", test_empty);
  g_test_add_func ("/engine/reduce/nan", test_nan);
  g_test_add_func ("/engine/reduce/argmax-axes", test_argmax_axes);
  g_test_add_func ("/engine/reduce/static-types", test_static_types);
  g_test_add_func ("/engine/reduce/axis-errors", test_axis_errors);
  g_test_add_func ("/engine/reduce/grad-sum-mean", test_grad_sum_mean);
  g_test_add_func ("/engine/reduce/grad-prod", test_grad_prod);
  g_test_add_func ("/engine/reduce/grad-prod-zeros", test_grad_prod_zeros);
  g_test_add_func ("/engine/reduce/grad-max-min", test_grad_max_min);
  g_test_add_func ("/engine/reduce/grad-max-ties", test_grad_max_ties);
  g_test_add_func ("/engine/reduce/grad-unknown-shapes", test_grad_unknown_shapes);
  g_test_add_func ("/engine/reduce/grad-of-grad", test_grad_of_grad);
  return g_test_run ();
}
