/* test-function.c: the Theano workflow through the C API: the primer's three
 * listings, simultaneous updates, feeding and long runs. */
#include "grad-check.h"
#include "grd-internal.h"

#include <math.h>

static void
test_primer_vector_add (void)
{
  /* x = T.dvector(); y = T.dvector(); f = function([x, y], x + y) */
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 1, NULL, &error);
  GrdRef y = grd_graph_variable (g, "y", GRD_DTYPE_FLOAT64, 1, NULL, &error);
  GrdRef z = grd_op2 (g, "add", x, y, &error);
  g_assert_no_error (error);
  GrdRef in[] = { x, y };
  g_autoptr (GrdFunction) f = grd_function_new (g, in, 2, &z, 1, NULL, 0, &error);
  g_assert_no_error (error);
  gint64 s[] = { 2 };
  double a[] = { 1, 2 }, b[] = { 3, 4 }, want[] = { 4, 6 };
  g_autoptr (GrdTensor) ta = grd_test_tensor (GRD_DTYPE_FLOAT64, 1, s, a);
  g_autoptr (GrdTensor) tb = grd_test_tensor (GRD_DTYPE_FLOAT64, 1, s, b);
  GrdTensor *args[] = { ta, tb };
  g_autoptr (GrdTensor) out = NULL;
  g_assert_true (grd_function_call (f, args, &out, &error));
  grd_test_assert_tensor (out, GRD_DTYPE_FLOAT64, 1, s, want, 0, 0);
}

static void
test_primer_grad_sum_x2 (void)
{
  /* x = T.dvector(); gy = T.grad(T.sum(x ** 2), x); f(x) == 2x */
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 1, NULL, &error);
  GrdRef cost = grd_op1 (g, "sum", grd_op2 (g, "pow", x, grd_scalar (g, GRD_DTYPE_FLOAT64, 2, &error), &error), &error);
  GrdRef gx;
  grd_graph_grad (g, "gy", cost, &x, 1, NULL, 0, &gx, &error);
  g_assert_no_error (error);
  g_autoptr (GrdFunction) f = grd_function_new (g, &x, 1, &gx, 1, NULL, 0, &error);
  g_assert_no_error (error);
  gint64 s[] = { 3 };
  double v[] = { 4, -1.5, 0 }, want[] = { 8, -3, 0 };
  g_autoptr (GrdTensor) t = grd_test_tensor (GRD_DTYPE_FLOAT64, 1, s, v);
  g_autoptr (GrdTensor) out = NULL;
  g_assert_true (grd_function_call (f, &t, &out, &error));
  grd_test_assert_tensor (out, GRD_DTYPE_FLOAT64, 1, s, want, 0, 0);
}

/* Listing 3: linear regression with shared a, b and gradient-descent updates. */
static GrdFunction *
build_linear_regression (GrdGraph *g, GrdRef *a, GrdRef *b, GError **error)
{
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 0, NULL, error);
  GrdRef t = grd_graph_variable (g, "t", GRD_DTYPE_FLOAT64, 0, NULL, error);
  g_autoptr (GrdTensor) a0 = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, -1.0);
  g_autoptr (GrdTensor) b0 = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 0.0);
  *a = grd_graph_shared (g, "a", a0, error);
  *b = grd_graph_shared (g, "b", b0, error);
  GrdRef y = grd_op2 (g, "add", grd_op2 (g, "mul", *a, x, error), *b, error);
  GrdRef mse = grd_op2 (g, "pow", grd_op2 (g, "sub", y, t, error),
                        grd_scalar (g, GRD_DTYPE_FLOAT64, 2, error), error);
  GrdRef wrt[] = { *a, *b }, grads[2];
  grd_graph_grad (g, "g", mse, wrt, 2, NULL, 0, grads, error);
  GrdRef lr = grd_scalar (g, GRD_DTYPE_FLOAT64, 0.01, error);
  GrdUpdate ups[] = {
    { *a, grd_op2 (g, "sub", *a, grd_op2 (g, "mul", lr, grads[0], error), error) },
    { *b, grd_op2 (g, "sub", *b, grd_op2 (g, "mul", lr, grads[1], error), error) },
  };
  if (*error)
    return NULL;
  GrdRef in[] = { x, t };
  return grd_function_new (g, in, 2, &mse, 1, ups, 2, error);
}

static void
test_primer_linear_regression (void)
{
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  GrdRef a, b;
  g_autoptr (GrdFunction) f = build_linear_regression (g, &a, &b, &error);
  g_assert_no_error (error);
  g_autoptr (GrdTensor) x = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 1.0);
  g_autoptr (GrdTensor) t = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 5.0);
  GrdTensor *args[] = { x, t };
  /* Theano's numbers for the first three calls, then a and b after ten. */
  const double mse_want[] = { 36.0, 33.1776, 30.57647616 };
  for (gint step = 0; step < 10; step++) {
    g_autoptr (GrdTensor) mse = NULL;
    g_assert_true (grd_function_call (f, args, &mse, &error));
    if (step < 3)
      g_assert_cmpfloat_with_epsilon (grd_tensor_get (mse, 0), mse_want[step], 1e-12);
    if (step == 0) {
      g_assert_cmpfloat_with_epsilon (grd_tensor_get (grd_graph_get_value (g, a), 0), -0.88, 1e-15);
      g_assert_cmpfloat_with_epsilon (grd_tensor_get (grd_graph_get_value (g, b), 0), 0.12, 1e-15);
    }
  }
  g_assert_cmpfloat_with_epsilon (grd_tensor_get (grd_graph_get_value (g, a), 0),
                                  0.005502092025496813, 1e-15);
  g_assert_cmpfloat_with_epsilon (grd_tensor_get (grd_graph_get_value (g, b), 0),
                                  1.005502092025497, 1e-15);
  /* set_value as theano's shared.set_value, and a shape change refused */
  g_autoptr (GrdTensor) reset = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, -1.0);
  g_assert_true (grd_graph_set_value (g, a, reset, &error));
  gint64 s2[] = { 2 };
  g_autoptr (GrdTensor) wrong = grd_tensor_new (GRD_DTYPE_FLOAT64, 1, s2);
  g_assert_false (grd_graph_set_value (g, a, wrong, &error));
  g_assert_nonnull (strstr (error->message, "'a'"));
}

static void
test_failed_call_changes_nothing (void)
{
  /* an update whose value fails at run time leaves every shared value as it was */
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  gint64 s3[] = { 3 };
  g_autoptr (GrdTensor) v = grd_test_random (GRD_DTYPE_FLOAT64, 1, s3, 0, 1, 3);
  GrdRef w = grd_graph_shared (g, "w", v, &error);
  GrdRef c = grd_graph_shared (g, "c", v, &error);
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 1, NULL, &error);
  GrdRef ok = grd_op2 (g, "add", w, grd_scalar (g, GRD_DTYPE_FLOAT64, 1, &error), &error);
  GrdRef bad = grd_op2 (g, "add", c, x, &error);   /* fails when x has 2 elements */
  GrdUpdate ups[] = { { w, ok }, { c, bad } };
  g_autoptr (GrdFunction) f = grd_function_new (g, &x, 1, NULL, 0, ups, 2, &error);
  g_assert_no_error (error);
  gint64 s2[] = { 2 };
  g_autoptr (GrdTensor) x2 = grd_tensor_new (GRD_DTYPE_FLOAT64, 1, s2);
  g_assert_false (grd_function_call (f, &x2, NULL, &error));
  g_assert_true (strstr (error->message, "add") != NULL);
  g_assert_true (grd_graph_get_value (g, w) == v);
  g_assert_true (grd_graph_get_value (g, c) == v);
}

static void
test_updates_see_old_values (void)
{
  /* w <- w + 1 and an output 2*w in one call: the output uses the old w */
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdTensor) w0 = grd_tensor_new_scalar (GRD_DTYPE_FLOAT32, 1.0);
  GrdRef w = grd_graph_shared (g, "w", w0, &error);
  GrdRef next = grd_op2 (g, "add", w, grd_scalar (g, GRD_DTYPE_FLOAT32, 1, &error), &error);
  GrdRef twice = grd_op2 (g, "mul", w, grd_scalar (g, GRD_DTYPE_FLOAT32, 2, &error), &error);
  GrdUpdate up = { w, next };
  g_autoptr (GrdFunction) f = grd_function_new (g, NULL, 0, &twice, 1, &up, 1, &error);
  g_assert_no_error (error);
  for (gint i = 0; i < 3; i++) {
    g_autoptr (GrdTensor) out = NULL;
    g_assert_true (grd_function_call (f, NULL, &out, &error));
    g_assert_cmpfloat (grd_tensor_get (out, 0), ==, 2.0 * (i + 1));
  }
  g_assert_cmpfloat (grd_tensor_get (grd_graph_get_value (g, w), 0), ==, 4.0);
}

static void
test_update_type_mismatch (void)
{
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdTensor) w0 = grd_tensor_new_scalar (GRD_DTYPE_FLOAT32, 1.0);
  GrdRef w = grd_graph_shared (g, "w", w0, &error);
  GrdRef next = grd_op2 (g, "add", w, grd_scalar (g, GRD_DTYPE_FLOAT64, 1, &error), &error);
  GrdUpdate up = { w, next };
  g_assert_null (grd_function_new (g, NULL, 0, NULL, 0, &up, 1, &error));
  g_assert_error (error, GRD_ERROR, GRD_ERROR_TYPE);
  g_assert_nonnull (strstr (error->message, "'w'"));
  g_assert_nonnull (strstr (error->message, "float64"));
}

static void
test_long_run_memory (void)
{
  /* a thousand calls leave no tensors behind */
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  GrdRef a, b;
  g_autoptr (GrdFunction) f = build_linear_regression (g, &a, &b, &error);
  g_assert_no_error (error);
  g_autoptr (GrdTensor) x = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 1.0);
  g_autoptr (GrdTensor) t = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 5.0);
  GrdTensor *args[] = { x, t };
  gint64 live = 0;
  for (gint step = 0; step < 1000; step++) {
    g_autoptr (GrdTensor) mse = NULL;
    g_assert_true (grd_function_call (f, args, &mse, &error));
    if (step == 10)
      live = grd_tensor_live_count ();
  }
  g_assert_cmpint (grd_tensor_live_count (), ==, live);
}

/* A graph keeps growing after a function is made from it (as theano users
 * build f, then more expressions on the same variables, then call f): the
 * function sees only the nodes it was made from, on every back end. Calling
 * it used to read past its own tables. */
static void
test_graph_grows_after_function (void)
{
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 1, NULL, &error);
  GrdRef y = grd_op2 (g, "mul", x, x, &error);
  g_assert_no_error (error);
  GrdFunction *fns[3];
  fns[0] = grd_function_new_with_passes (g, &x, 1, &y, 1, NULL, 0, 0, &error);
  g_assert_no_error (error);
  fns[1] = grd_function_new (g, &x, 1, &y, 1, NULL, 0, &error);
  g_assert_no_error (error);
  g_autofree char *warning = NULL;
  fns[2] = grd_function_new_on (g, &x, 1, &y, 1, NULL, 0, GRD_BACKEND_VULKAN, &warning, &error);
  g_assert_no_error (error);
  /* many more nodes after: the node and slot tables grow past the functions' */
  GrdRef z = y;
  for (gint i = 0; i < 200; i++) {
    z = grd_op2 (g, "add", z, x, &error);
    g_assert_no_error (error);
  }
  gint64 s[] = { 3 };
  double a[] = { 1, -2, 3 }, want[] = { 1, 4, 9 };
  g_autoptr (GrdTensor) ta = grd_test_tensor (GRD_DTYPE_FLOAT64, 1, s, a);
  for (gint k = 0; k < 3; k++)
    for (gint call = 0; call < 2; call++) {
      g_autoptr (GrdTensor) out = NULL;
      g_assert_true (grd_function_call (fns[k], &ta, &out, &error));
      g_assert_no_error (error);
      grd_test_assert_tensor (out, GRD_DTYPE_FLOAT64, 1, s, want, 0, 0);
    }
  for (gint k = 0; k < 3; k++)
    grd_function_free (fns[k]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/function/primer-vector-add", test_primer_vector_add);
  g_test_add_func ("/engine/function/primer-grad-sum-x2", test_primer_grad_sum_x2);
  g_test_add_func ("/engine/function/primer-linear-regression", test_primer_linear_regression);
  g_test_add_func ("/engine/function/failed-call-changes-nothing", test_failed_call_changes_nothing);
  g_test_add_func ("/engine/function/updates-see-old-values", test_updates_see_old_values);
  g_test_add_func ("/engine/function/update-type-mismatch", test_update_type_mismatch);
  g_test_add_func ("/engine/function/long-run-memory", test_long_run_memory);
  g_test_add_func ("/engine/function/graph-grows-after-function", test_graph_grows_after_function);
  return g_test_run ();
}
