/* test-grad.c: the grad driver: accumulation over several paths, second
 * derivatives, consider_constant, wrt of every kind, dtypes of gradients. */
#include "grad-check.h"

#include <math.h>

static GrdTensor *
eval1 (GrdGraph *g, GrdRef *in, gint n_in, GrdTensor **args, GrdRef out)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdFunction) f = grd_function_new (g, in, n_in, &out, 1, NULL, 0, &error);
  g_assert_no_error (error);
  GrdTensor *r = NULL;
  g_assert_true (grd_function_call (f, args, &r, &error));
  g_assert_no_error (error);
  return r;
}

static void
test_several_paths (void)
{
  /* y = x*x + sin(x)*x: dy/dx = 2x + cos(x)*x + sin(x) */
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 0, NULL, &error);
  GrdRef y = grd_op2 (g, "add", grd_op2 (g, "mul", x, x, &error),
                      grd_op2 (g, "mul", grd_op1 (g, "sin", x, &error), x, &error), &error);
  GrdRef gx;
  grd_graph_grad (g, "g", y, &x, 1, NULL, 0, &gx, &error);
  g_assert_no_error (error);
  g_autoptr (GrdTensor) v = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 0.7);
  g_autoptr (GrdTensor) r = eval1 (g, &x, 1, &v, gx);
  g_assert_cmpfloat_with_epsilon (grd_tensor_get (r, 0), 1.4 + cos (0.7) * 0.7 + sin (0.7), 1e-14);
}

static void
test_second_derivative (void)
{
  /* d2/dx2 of x^3 = 6x; grad of grad through the graph */
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 0, NULL, &error);
  GrdRef y = grd_op2 (g, "pow", x, grd_scalar (g, GRD_DTYPE_FLOAT64, 3, &error), &error);
  GrdRef g1, g2, g3;
  grd_graph_grad (g, "d1", y, &x, 1, NULL, 0, &g1, &error);
  grd_graph_grad (g, "d2", g1, &x, 1, NULL, 0, &g2, &error);
  grd_graph_grad (g, "d3", g2, &x, 1, NULL, 0, &g3, &error);
  g_assert_no_error (error);
  g_autoptr (GrdTensor) v = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 1.5);
  g_autoptr (GrdTensor) r1 = eval1 (g, &x, 1, &v, g1);
  g_autoptr (GrdTensor) r2 = eval1 (g, &x, 1, &v, g2);
  g_autoptr (GrdTensor) r3 = eval1 (g, &x, 1, &v, g3);
  g_assert_cmpfloat_with_epsilon (grd_tensor_get (r1, 0), 3 * 1.5 * 1.5, 1e-12);
  g_assert_cmpfloat_with_epsilon (grd_tensor_get (r2, 0), 6 * 1.5, 1e-12);
  g_assert_cmpfloat_with_epsilon (grd_tensor_get (r3, 0), 6, 1e-12);
}

static GrdRef
build_hessian_vector (GrdGraph *g, const GrdRef *vars, gpointer data, GError **error)
{
  /* the gradient of sum(tanh(W x)) wrt x, itself differentiated by verify_grad */
  GrdRef cost = grd_op1 (g, "sum", grd_op1 (g, "tanh", grd_op2 (g, "dot", vars[0], vars[1], error), error), error);
  GrdRef gx;
  grd_graph_grad (g, NULL, cost, &vars[1], 1, NULL, 0, &gx, error);
  return gx;
}

static void
test_grad_of_grad_numeric (void)
{
  gint64 sw[] = { 3, 4 }, sx[] = { 4 };
  g_autoptr (GrdTensor) w = grd_test_random (GRD_DTYPE_FLOAT64, 2, sw, -1, 1, 11);
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 1, sx, -1, 1, 12);
  GrdTensor *in[] = { w, x };
  grd_test_verify_grad_build (build_hessian_vector, NULL, in, 2, 5);
}

static void
test_consider_constant (void)
{
  /* y = x * stop(x^2): with x^2 constant, dy/dx = x^2 */
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 0, NULL, &error);
  GrdRef sq = grd_op1 (g, "square", x, &error);
  GrdRef y = grd_op2 (g, "mul", x, sq, &error);
  GrdRef gx, gfull;
  grd_graph_grad (g, "g", y, &x, 1, &sq, 1, &gx, &error);
  grd_graph_grad (g, "h", y, &x, 1, NULL, 0, &gfull, &error);
  g_assert_no_error (error);
  g_autoptr (GrdTensor) v = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 2.0);
  g_autoptr (GrdTensor) r = eval1 (g, &x, 1, &v, gx);
  g_autoptr (GrdTensor) rf = eval1 (g, &x, 1, &v, gfull);
  g_assert_cmpfloat (grd_tensor_get (r, 0), ==, 4.0);
  g_assert_cmpfloat (grd_tensor_get (rf, 0), ==, 12.0);
}

static void
test_wrt_intermediate_and_types (void)
{
  /* wrt an intermediate node; float32 wrt keeps float32 under a float64 cost */
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  gint64 s[] = { 3 };
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT32, 1, s, &error);
  GrdRef h = grd_op1 (g, "exp", x, &error);
  GrdRef h64 = grd_op2 (g, "mul", h, grd_scalar (g, GRD_DTYPE_FLOAT64, 3, &error), &error);
  GrdRef cost = grd_op1 (g, "sum", h64, &error);
  GrdRef wrt[] = { h, x }, grads[2];
  grd_graph_grad (g, "g", cost, wrt, 2, NULL, 0, grads, &error);
  g_assert_no_error (error);
  g_assert_cmpint (grd_graph_ref_type (g, grads[0])->dtype, ==, GRD_DTYPE_FLOAT32);
  g_assert_cmpint (grd_graph_ref_type (g, grads[1])->dtype, ==, GRD_DTYPE_FLOAT32);
  g_assert_cmpint (grd_graph_ref_type (g, grads[1])->dims[0], ==, 3);
  double xv[] = { 0, 1, -1 };
  g_autoptr (GrdTensor) v = grd_test_tensor (GRD_DTYPE_FLOAT32, 1, s, xv);
  g_autoptr (GrdTensor) rh = eval1 (g, &x, 1, &v, grads[0]);
  g_autoptr (GrdTensor) rx = eval1 (g, &x, 1, &v, grads[1]);
  double wh[] = { 3, 3, 3 }, wx[] = { 3, 3 * exp (1), 3 * exp (-1) };
  grd_test_assert_tensor (rh, GRD_DTYPE_FLOAT32, 1, s, wh, 1e-6, 0);
  grd_test_assert_tensor (rx, GRD_DTYPE_FLOAT32, 1, s, wx, 1e-6, 0);
}

static void
test_integer_paths_are_disconnected (void)
{
  /* gradients do not flow through integer values (cast to int, argmax) */
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 0, NULL, &error);
  GrdAttrs ca;
  grd_attrs_init (&ca);
  ca.has_dtype = TRUE;
  ca.dtype = GRD_DTYPE_INT64;
  GrdRef xi = grd_graph_op (g, NULL, "cast", &x, 1, &ca, &error);
  GrdRef y = grd_op2 (g, "add", grd_op2 (g, "mul", xi, x, &error), x, &error);
  GrdRef gx;
  grd_graph_grad (g, "g", y, &x, 1, NULL, 0, &gx, &error);
  g_assert_no_error (error);
  g_autoptr (GrdTensor) v = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 2.5);
  g_autoptr (GrdTensor) r = eval1 (g, &x, 1, &v, gx);
  /* d/dx (int(x) * x + x) with int(x) constant = int(x) + 1 = 3 */
  g_assert_cmpfloat (grd_tensor_get (r, 0), ==, 3.0);
}

static GrdRef
build_mse (GrdGraph *g, const GrdRef *v, gpointer data, GError **error)
{
  /* mean((a*x + b - t)^2) */
  GrdRef y = grd_op2 (g, "add", grd_op2 (g, "mul", v[0], v[2], error), v[1], error);
  GrdRef e = grd_op2 (g, "sub", y, v[3], error);
  return grd_op1 (g, "mean", grd_op2 (g, "pow", e, grd_scalar (g, GRD_DTYPE_FLOAT64, 2, error), error), error);
}

static void
test_linear_regression_gradient (void)
{
  /* the gradient of the primer's loss with respect to everything, numerically */
  gint64 s[] = { 5 };
  g_autoptr (GrdTensor) a = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, -0.3);
  g_autoptr (GrdTensor) b = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 0.2);
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 1, s, -2, 2, 21);
  g_autoptr (GrdTensor) t = grd_test_random (GRD_DTYPE_FLOAT64, 1, s, -2, 2, 22);
  GrdTensor *in[] = { a, b, x, t };
  grd_test_verify_grad_build (build_mse, NULL, in, 4, 23);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/grad/several-paths", test_several_paths);
  g_test_add_func ("/engine/grad/second-derivative", test_second_derivative);
  g_test_add_func ("/engine/grad/grad-of-grad-numeric", test_grad_of_grad_numeric);
  g_test_add_func ("/engine/grad/consider-constant", test_consider_constant);
  g_test_add_func ("/engine/grad/wrt-intermediate-and-types", test_wrt_intermediate_and_types);
  g_test_add_func ("/engine/grad/integer-paths", test_integer_paths_are_disconnected);
  g_test_add_func ("/engine/grad/linear-regression", test_linear_regression_gradient);
  return g_test_run ();
}
