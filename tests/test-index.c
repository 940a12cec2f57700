/* test-index.c: mod, floor_div, shape, arange, index, set_subtensor and
 * inc_subtensor: values against NumPy's (written out by hand), static
 * types, gradients against finite differences (with unknown dims too),
 * and errors that name the node. */
#include "grad-check.h"
#include "grd-internal.h"

#include <math.h>
#include <string.h>

static GrdTensor *
vec (GrdDType dtype, gint64 n, const double *v)
{
  return grd_test_tensor (dtype, 1, &n, v);
}

/* ------------------------------------------------------------ mod, floor_div */

static void
test_mod_values (void)
{
  /* numpy: a % b and a // b, the sign of % follows b */
  double a[] = { 7, -7, 7, -7, 5.5, -5.5, 0, 3 };
  double b[] = { 3, 3, -3, -3, 2, 2, 3, 0 };
  double mod_f[] = { 1, 2, -2, -1, 1.5, 0.5, 0, NAN };
  double div_f[] = { 2, -3, -3, 2, 2, -3, 0, INFINITY };
  for (GrdDType dt = GRD_DTYPE_FLOAT32; dt <= GRD_DTYPE_FLOAT64; dt++) {
    g_autoptr (GrdTensor) x = vec (dt, 8, a), y = vec (dt, 8, b);
    GrdTensor *in[] = { x, y };
    g_autoptr (GrdTensor) m = grd_test_eval_op ("mod", NULL, in, 2);
    g_autoptr (GrdTensor) d = grd_test_eval_op ("floor_div", NULL, in, 2);
    gint64 n = 8;
    grd_test_assert_tensor (m, dt, 1, &n, mod_f, 0, 0);
    grd_test_assert_tensor (d, dt, 1, &n, div_f, 0, 0);
  }
  /* integers: x // 0 and x % 0 are 0 in NumPy */
  double ai[] = { 7, -7, 7, -7, 0, 3 }, bi[] = { 3, 3, -3, -3, 3, 0 };
  g_autoptr (GrdTensor) x = vec (GRD_DTYPE_INT32, 6, ai);
  g_autoptr (GrdTensor) y = vec (GRD_DTYPE_INT64, 6, bi);
  GrdTensor *in[] = { x, y };
  g_autoptr (GrdTensor) m = grd_test_eval_op ("mod", NULL, in, 2);
  g_autoptr (GrdTensor) d = grd_test_eval_op ("floor_div", NULL, in, 2);
  gint64 n = 6;
  grd_test_assert_tensor (m, GRD_DTYPE_INT64, 1, &n, (double[]) { 1, 2, -2, -1, 0, 0 }, 0, 0);
  grd_test_assert_tensor (d, GRD_DTYPE_INT64, 1, &n, (double[]) { 2, -3, -3, 2, 0, 0 }, 0, 0);
  /* broadcasting: [2,1] % [3] */
  gint64 s21[] = { 2, 1 };
  g_autoptr (GrdTensor) p = grd_test_tensor (GRD_DTYPE_INT32, 2, s21, (double[]) { 10, -10 });
  g_autoptr (GrdTensor) q = vec (GRD_DTYPE_INT32, 3, (double[]) { 3, 4, -6 });
  GrdTensor *pq[] = { p, q };
  g_autoptr (GrdTensor) r = grd_test_eval_op ("mod", NULL, pq, 2);
  gint64 s23[] = { 2, 3 };
  grd_test_assert_tensor (r, GRD_DTYPE_INT32, 2, s23, (double[]) { 1, 2, -2, 2, 2, -4 }, 0, 0);
}

static void
test_mod_grad (void)
{
  gint64 s[] = { 3, 4 };
  g_autoptr (GrdTensor) a = grd_test_random (GRD_DTYPE_FLOAT64, 2, s, -5, 5, 1);
  g_autoptr (GrdTensor) b = grd_test_random (GRD_DTYPE_FLOAT64, 1, s + 1, 0.7, 2, 2);
  GrdTensor *in[] = { a, b };
  grd_test_verify_grad ("mod", NULL, in, 2);
  grd_test_verify_grad ("floor_div", NULL, in, 2);
  grd_test_verify_grad_unknown_dims ("mod", NULL, in, 2);
}

/* ------------------------------------------------------------ shape, arange */

static void
test_shape_arange (void)
{
  gint64 s[] = { 2, 5, 3 };
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT32, 3, s, 0, 1, 1);
  g_autoptr (GrdTensor) sh = grd_test_eval_op ("shape", NULL, &x, 1);
  gint64 three = 3;
  grd_test_assert_tensor (sh, GRD_DTYPE_INT64, 1, &three, (double[]) { 2, 5, 3 }, 0, 0);
  GrdAttrs ax = grd_attrs_axis (-2, FALSE);
  g_autoptr (GrdTensor) s1 = grd_test_eval_op ("shape", &ax, &x, 1);
  grd_test_assert_tensor (s1, GRD_DTYPE_INT64, 0, NULL, (double[]) { 5 }, 0, 0);

  struct { GrdDType dt; double a, b, c; gint64 n; double v[6]; GrdDType want; } cases[] = {
    { GRD_DTYPE_INT32, 0, 5, 1, 5, { 0, 1, 2, 3, 4 }, GRD_DTYPE_INT64 },
    { GRD_DTYPE_INT64, 10, 1, -3, 3, { 10, 7, 4 }, GRD_DTYPE_INT64 },
    { GRD_DTYPE_FLOAT64, 0, 1, 0.25, 4, { 0, 0.25, 0.5, 0.75 }, GRD_DTYPE_FLOAT64 },
    { GRD_DTYPE_FLOAT32, 1, 0, 1, 0, { 0 }, GRD_DTYPE_FLOAT32 },
  };
  for (gsize k = 0; k < G_N_ELEMENTS (cases); k++) {
    g_autoptr (GrdTensor) a = grd_tensor_new_scalar (cases[k].dt, cases[k].a);
    g_autoptr (GrdTensor) b = grd_tensor_new_scalar (cases[k].dt, cases[k].b);
    g_autoptr (GrdTensor) c = grd_tensor_new_scalar (cases[k].dt, cases[k].c);
    GrdTensor *in[] = { a, b, c };
    g_autoptr (GrdTensor) r = grd_test_eval_op ("arange", NULL, in, 3);
    grd_test_assert_tensor (r, cases[k].want, 1, &cases[k].n, cases[k].v, 0, 0);
  }
  /* dtype attr; a zero step is refused */
  g_autoptr (GrdTensor) z = grd_tensor_new_scalar (GRD_DTYPE_INT64, 0);
  g_autoptr (GrdTensor) four = grd_tensor_new_scalar (GRD_DTYPE_INT64, 4);
  g_autoptr (GrdTensor) one = grd_tensor_new_scalar (GRD_DTYPE_INT64, 1);
  GrdAttrs d;
  grd_attrs_init (&d);
  d.has_dtype = TRUE;
  d.dtype = GRD_DTYPE_FLOAT32;
  GrdTensor *in[] = { z, four, one };
  g_autoptr (GrdTensor) r = grd_test_eval_op ("arange", &d, in, 3);
  gint64 n4 = 4;
  grd_test_assert_tensor (r, GRD_DTYPE_FLOAT32, 1, &n4, (double[]) { 0, 1, 2, 3 }, 0, 0);
  g_autoptr (GError) error = NULL;
  GrdTensor *bad[] = { z, four, z };
  g_assert_null (grd_test_try_op ("arange", NULL, bad, 3, &error));
  grd_test_assert_error_names (error, GRD_ERROR_VALUE, "arange", "step");
}

/* ------------------------------------------------------------ index */

static void
test_index_values (void)
{
  /* p[arange(3), y]: the probability of each row's class */
  gint64 ps[] = { 3, 4 };
  double pv[12] = { 0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23 };
  g_autoptr (GrdTensor) p = grd_test_tensor (GRD_DTYPE_FLOAT32, 2, ps, pv);
  g_autoptr (GrdTensor) rows = vec (GRD_DTYPE_INT64, 3, (double[]) { 0, 1, 2 });
  g_autoptr (GrdTensor) y = vec (GRD_DTYPE_INT32, 3, (double[]) { 3, 0, -1 });
  GrdTensor *in[] = { p, rows, y };
  g_autoptr (GrdTensor) r = grd_test_eval_op ("index", NULL, in, 3);
  gint64 n3 = 3;
  grd_test_assert_tensor (r, GRD_DTYPE_FLOAT32, 1, &n3, (double[]) { 3, 10, 23 }, 0, 0);
  /* one index array of rank 2 selects rows: x[[[2, 0], [1, 1]]] has shape [2, 2, 4] */
  gint64 is[] = { 2, 2 };
  g_autoptr (GrdTensor) i2 = grd_test_tensor (GRD_DTYPE_INT64, 2, is, (double[]) { 2, 0, 1, 1 });
  GrdTensor *in2[] = { p, i2 };
  g_autoptr (GrdTensor) r2 = grd_test_eval_op ("index", NULL, in2, 2);
  gint64 s224[] = { 2, 2, 4 };
  grd_test_assert_tensor (r2, GRD_DTYPE_FLOAT32, 3, s224,
                          (double[]) { 20, 21, 22, 23, 0, 1, 2, 3, 10, 11, 12, 13, 10, 11, 12, 13 },
                          0, 0);
  /* broadcast index arrays: x[[[0], [2]], [1, 3]] has shape [2, 2] */
  gint64 c21[] = { 2, 1 };
  g_autoptr (GrdTensor) ic = grd_test_tensor (GRD_DTYPE_INT64, 2, c21, (double[]) { 0, 2 });
  g_autoptr (GrdTensor) ir = vec (GRD_DTYPE_INT64, 2, (double[]) { 1, 3 });
  GrdTensor *in3[] = { p, ic, ir };
  g_autoptr (GrdTensor) r3 = grd_test_eval_op ("index", NULL, in3, 3);
  gint64 s22[] = { 2, 2 };
  grd_test_assert_tensor (r3, GRD_DTYPE_FLOAT32, 2, s22, (double[]) { 1, 3, 21, 23 }, 0, 0);
  /* out of range: the error names the node */
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdTensor) far = vec (GRD_DTYPE_INT64, 1, (double[]) { 3 });
  GrdTensor *in4[] = { p, far };
  g_assert_null (grd_test_try_op ("index", NULL, in4, 2, &error));
  grd_test_assert_error_names (error, GRD_ERROR_VALUE, "index", "out of bounds");
}

static void
test_index_grad (void)
{
  gint64 ps[] = { 4, 3, 2 };
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 3, ps, -1, 1, 7);
  /* a repeated row: its gradient adds up */
  g_autoptr (GrdTensor) i0 = vec (GRD_DTYPE_INT64, 5, (double[]) { 0, 3, 3, -1, 1 });
  g_autoptr (GrdTensor) i1 = vec (GRD_DTYPE_INT32, 5, (double[]) { 2, 0, 0, 1, 2 });
  GrdTensor *in[] = { x, i0, i1 };
  grd_test_verify_grad ("index", NULL, in, 3);
  grd_test_verify_grad_unknown_dims ("index", NULL, in, 3);
  GrdTensor *in1[] = { x, i0 };
  grd_test_verify_grad ("index", NULL, in1, 2);
}

/* ------------------------------------------------------------ set_subtensor, inc_subtensor */

static void
test_subtensor_values (void)
{
  gint64 s[] = { 3, 4 };
  double xv[12] = { 0 };
  g_autoptr (GrdTensor) x = grd_test_tensor (GRD_DTYPE_FLOAT64, 2, s, xv);
  /* x[1:, ::2] = [5, 6] (broadcast over rows) */
  GrdAttrs a;
  grd_attrs_init (&a);
  a.n_slice = 2;
  a.begin[0] = 1;
  a.step[1] = 2;
  g_autoptr (GrdTensor) y = vec (GRD_DTYPE_FLOAT64, 2, (double[]) { 5, 6 });
  GrdTensor *in[] = { x, y };
  g_autoptr (GrdTensor) r = grd_test_eval_op ("set_subtensor", &a, in, 2);
  grd_test_assert_tensor (r, GRD_DTYPE_FLOAT64, 2, s,
                          (double[]) { 0, 0, 0, 0, 5, 0, 6, 0, 5, 0, 6, 0 }, 0, 0);
  /* inc at repeated indices accumulates: x[[0, 2, 0], [1, 1, 1]] += 1 */
  g_autoptr (GrdTensor) i0 = vec (GRD_DTYPE_INT64, 3, (double[]) { 0, 2, 0 });
  g_autoptr (GrdTensor) i1 = vec (GRD_DTYPE_INT64, 3, (double[]) { 1, 1, 1 });
  g_autoptr (GrdTensor) one = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 1);
  GrdTensor *in2[] = { r, one, i0, i1 };
  g_autoptr (GrdTensor) r2 = grd_test_eval_op ("inc_subtensor", NULL, in2, 4);
  grd_test_assert_tensor (r2, GRD_DTYPE_FLOAT64, 2, s,
                          (double[]) { 0, 2, 0, 0, 5, 0, 6, 0, 5, 1, 6, 0 }, 0, 0);
  g_autoptr (GrdTensor) r3 = grd_test_eval_op ("set_subtensor", NULL, in2, 4);
  grd_test_assert_tensor (r3, GRD_DTYPE_FLOAT64, 2, s,
                          (double[]) { 0, 1, 0, 0, 5, 0, 6, 0, 5, 1, 6, 0 }, 0, 0);
  /* a value that does not fit the region is refused, naming the node */
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdTensor) three = vec (GRD_DTYPE_FLOAT64, 3, (double[]) { 1, 2, 3 });
  GrdTensor *bad[] = { x, three };
  g_assert_null (grd_test_try_op ("set_subtensor", &a, bad, 2, &error));
  g_assert_nonnull (error);
}

static void
test_subtensor_grad (void)
{
  gint64 s[] = { 4, 3 };
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 2, s, -1, 1, 3);
  g_autoptr (GrdTensor) y = grd_test_random (GRD_DTYPE_FLOAT64, 1, s + 1, -1, 1, 4);
  GrdAttrs a;
  grd_attrs_init (&a);
  a.n_slice = 1;
  a.begin[0] = -1;
  a.end[0] = 0;
  a.step[0] = -2;   /* rows 3 and 1 */
  GrdTensor *in[] = { x, y };
  grd_test_verify_grad ("set_subtensor", &a, in, 2);
  grd_test_verify_grad ("inc_subtensor", &a, in, 2);
  grd_test_verify_grad_unknown_dims ("inc_subtensor", &a, in, 2);
  g_autoptr (GrdTensor) i0 = vec (GRD_DTYPE_INT64, 3, (double[]) { 0, 2, 2 });
  g_autoptr (GrdTensor) y1 = grd_test_random (GRD_DTYPE_FLOAT64, 0, NULL, -1, 1, 5);
  GrdTensor *in2[] = { x, y1, i0 };
  grd_test_verify_grad ("inc_subtensor", NULL, in2, 3);
  g_autoptr (GrdTensor) i1 = vec (GRD_DTYPE_INT64, 2, (double[]) { 0, 3 });
  g_autoptr (GrdTensor) y2 = grd_test_random (GRD_DTYPE_FLOAT64, 2, (gint64[]) { 2, 3 }, -1, 1, 6);
  GrdTensor *in3[] = { x, y2, i1 };
  grd_test_verify_grad ("set_subtensor", NULL, in3, 3);
}

static void
test_types (void)
{
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  gint64 pd[] = { GRD_DIM_UNKNOWN, 10 };
  GrdRef p = grd_graph_variable (g, "p", GRD_DTYPE_FLOAT32, 2, pd, &error);
  GrdRef y = grd_graph_variable (g, "y", GRD_DTYPE_INT32, 1, NULL, &error);
  GrdAttrs ax = grd_attrs_axis (0, FALSE);
  GrdRef n = grd_graph_op (g, "n", "shape", &y, 1, &ax, &error);
  GrdRef zero = grd_scalar (g, GRD_DTYPE_INT64, 0, &error), one = grd_scalar (g, GRD_DTYPE_INT64, 1, &error);
  GrdRef ar_in[] = { zero, n, one };
  GrdRef rows = grd_graph_op (g, "rows", "arange", ar_in, 3, NULL, &error);
  GrdRef ix[] = { p, rows, y };
  GrdRef picked = grd_graph_op (g, "picked", "index", ix, 3, NULL, &error);
  g_assert_no_error (error);
  g_autofree char *t = grd_type_describe (grd_graph_ref_type (g, picked));
  g_assert_cmpstr (t, ==, "float32[?]");
  /* the negative log likelihood of Theano's tutorial, and its gradient */
  GrdRef nll = grd_op1 (g, "neg", grd_op1 (g, "mean", grd_op1 (g, "log", picked, &error), &error), &error);
  GrdRef gp;
  grd_graph_grad (g, "gr", nll, &p, 1, NULL, 0, &gp, &error);
  g_assert_no_error (error);
  GrdRef vars[] = { p, y };
  g_autoptr (GrdFunction) fn = grd_function_new (g, vars, 2, &gp, 1, NULL, 0, &error);
  g_assert_no_error (error);
  gint64 ps[] = { 2, 10 };
  g_autoptr (GrdTensor) pv = grd_test_random (GRD_DTYPE_FLOAT32, 2, ps, 0.1, 1, 1);
  g_autoptr (GrdTensor) yv = vec (GRD_DTYPE_INT32, 2, (double[]) { 4, 9 });
  GrdTensor *args[] = { pv, yv };
  g_autoptr (GrdTensor) out = NULL;
  g_assert_true (grd_function_call (fn, args, &out, &error));
  for (gint64 i = 0; i < 20; i++) {
    double want = (i == 4 || i == 19) ? -0.5 / grd_tensor_get (pv, i) : 0;
    g_assert_cmpfloat_with_epsilon (grd_tensor_get (out, i), want, 1e-5 * (1 + fabs (want)));
  }
  /* float index arrays are refused, naming the node */
  GrdRef bad_in[] = { p, p };
  grd_graph_op (g, "bad_index", "index", bad_in, 2, NULL, &error);
  grd_test_assert_error_names (error, GRD_ERROR_TYPE, "bad_index", "int32 or int64");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/index/mod/values", test_mod_values);
  g_test_add_func ("/index/mod/grad", test_mod_grad);
  g_test_add_func ("/index/shape-arange", test_shape_arange);
  g_test_add_func ("/index/index/values", test_index_values);
  g_test_add_func ("/index/index/grad", test_index_grad);
  g_test_add_func ("/index/subtensor/values", test_subtensor_values);
  g_test_add_func ("/index/subtensor/grad", test_subtensor_grad);
  g_test_add_func ("/index/types", test_types);
  return g_test_run ();
}
