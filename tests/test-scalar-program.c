/* test-scalar-program.c: programs of float scalars run as straight-line
 * code: the same values as the reference executor to the last bit, outputs
 * and shared values that someone else holds are never written over, inputs
 * that need checks or conversion take the general path, and steady calls
 * allocate nothing. */
#include "grad-check.h"
#include "grd-internal.h"
#include "compile/grd-program.h"

#include <math.h>
#include <string.h>

#define F64 GRD_DTYPE_FLOAT64
#define F32 GRD_DTYPE_FLOAT32

typedef struct {
  GrdGraph    *g;
  GrdFunction *fn;
} Step;

/* the primer's step: loss (a x + b - t)^2 (plus tanh and a division, which
 * take the reference's scalar code), a and b updated by gradient descent */
static Step
make_step (GrdDType dt, guint passes)
{
  g_autoptr (GError) error = NULL;
  GrdGraph *g = grd_graph_new ();
  g_autoptr (GrdTensor) a0 = grd_tensor_new_scalar (dt, -1);
  g_autoptr (GrdTensor) b0 = grd_tensor_new_scalar (dt, 0);
  GrdRef x = grd_graph_variable (g, "x", dt, 0, NULL, &error);
  GrdRef t = grd_graph_variable (g, "t", dt, 0, NULL, &error);
  GrdRef a = grd_graph_shared (g, "a", a0, &error);
  GrdRef b = grd_graph_shared (g, "b", b0, &error);
  GrdRef err = grd_op2 (g, "sub", grd_op2 (g, "add", grd_op2 (g, "mul", a, x, &error), b, &error), t, &error);
  GrdRef loss = grd_op2 (g, "add", grd_op1 (g, "square", err, &error),
                         grd_op2 (g, "div", grd_op1 (g, "tanh", a, &error), grd_scalar (g, dt, 7, &error), &error),
                         &error);
  GrdRef wrt[] = { a, b }, gr[2];
  grd_graph_grad (g, "g", loss, wrt, 2, NULL, 0, gr, &error);
  GrdRef lr = grd_scalar (g, dt, 0.01, &error);
  GrdUpdate ups[] = { { a, grd_op2 (g, "sub", a, grd_op2 (g, "mul", lr, gr[0], &error), &error) },
                      { b, grd_op2 (g, "sub", b, grd_op2 (g, "mul", lr, gr[1], &error), &error) } };
  GrdRef in[] = { x, t };
  GrdFunction *fn = grd_function_new_with_passes (g, in, 2, &loss, 1, ups, 2, passes, &error);
  g_assert_no_error (error);
  return (Step) { g, fn };
}

static void
step_free (Step *s)
{
  grd_function_free (s->fn);
  grd_graph_unref (s->g);
}

static GrdTensor *
node_value (GrdGraph *g, const char *id)
{
  return grd_graph_get_value (g, (GrdRef) { grd_graph_find (g, id), 0 });
}

static double
shared_value (GrdGraph *g, const char *id)
{
  return grd_tensor_get (node_value (g, id), 0);
}

static void
test_same_as_reference (void)
{
  for (gint d = 0; d < 2; d++) {
    GrdDType dt = d ? F64 : F32;
    Step fast = make_step (dt, GRD_PASS_ALL), ref = make_step (dt, 0);
    g_autofree char *text = grd_function_describe (fast.fn);
    g_assert_nonnull (strstr (text, "straight-line"));
    g_autoptr (GError) error = NULL;
    for (gint i = 0; i < 200; i++) {
      g_autoptr (GrdTensor) x = grd_tensor_new_scalar (dt, 0.5 + i % 7);
      g_autoptr (GrdTensor) t = grd_tensor_new_scalar (dt, 3.0 - i % 5);
      GrdTensor *in[] = { x, t }, *lf = NULL, *lr = NULL;
      g_assert_true (grd_function_call (fast.fn, in, &lf, &error));
      g_assert_true (grd_function_call (ref.fn, in, &lr, &error));
      g_assert_no_error (error);
      g_assert_cmpint (lf->dtype, ==, dt);
      g_assert_cmpint (lf->rank, ==, 0);
      /* float64: the reference's own arithmetic, to the last bit */
      if (dt == F64)
        g_assert_cmpfloat (grd_tensor_get (lf, 0), ==, grd_tensor_get (lr, 0));
      else
        g_assert_cmpfloat_with_epsilon (grd_tensor_get (lf, 0), grd_tensor_get (lr, 0),
                                        1e-5 * (1 + grd_tensor_get (lr, 0)));
      grd_tensor_unref (lf);
      grd_tensor_unref (lr);
    }
    for (gint k = 0; k < 2; k++) {
      const char *id = k ? "b" : "a";
      if (dt == F64)
        g_assert_cmpfloat (shared_value (fast.g, id), ==, shared_value (ref.g, id));
      else
        g_assert_cmpfloat_with_epsilon (shared_value (fast.g, id), shared_value (ref.g, id), 1e-4);
    }
    step_free (&fast);
    step_free (&ref);
  }
}

/* an output or a shared value that the caller still holds keeps its value */
static void
test_held_values_kept (void)
{
  Step s = make_step (F64, GRD_PASS_ALL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdTensor) x = grd_tensor_new_scalar (F64, 1);
  g_autoptr (GrdTensor) t = grd_tensor_new_scalar (F64, 5);
  GrdTensor *in[] = { x, t }, *l1 = NULL, *l2 = NULL;
  g_assert_true (grd_function_call (s.fn, in, &l1, &error));
  double first = grd_tensor_get (l1, 0);
  GrdTensor *a_held = grd_tensor_ref (node_value (s.g, "a"));
  double a_before = grd_tensor_get (a_held, 0);
  g_assert_true (grd_function_call (s.fn, in, &l2, &error));
  g_assert_no_error (error);
  g_assert_true (l1 != l2);
  g_assert_cmpfloat (grd_tensor_get (l1, 0), ==, first);
  g_assert_cmpfloat (grd_tensor_get (l2, 0), !=, first);
  g_assert_cmpfloat (grd_tensor_get (a_held, 0), ==, a_before);
  g_assert_cmpfloat (shared_value (s.g, "a"), !=, a_before);
  grd_tensor_unref (a_held);
  grd_tensor_unref (l1);
  grd_tensor_unref (l2);
  step_free (&s);
}

/* inputs that are not scalars of the program's dtype go the general way:
 * converted (int32 to float64) or refused with the usual message */
static void
test_general_path_inputs (void)
{
  Step s = make_step (F64, GRD_PASS_ALL), ref = make_step (F64, 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdTensor) x = grd_tensor_new_scalar (GRD_DTYPE_INT32, 2);
  g_autoptr (GrdTensor) t = grd_tensor_new_scalar (F64, 5);
  GrdTensor *in[] = { x, t }, *l = NULL, *lr = NULL;
  g_assert_true (grd_function_call (s.fn, in, &l, &error));
  g_assert_true (grd_function_call (ref.fn, in, &lr, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (grd_tensor_get (l, 0), ==, grd_tensor_get (lr, 0));
  grd_tensor_unref (l);
  grd_tensor_unref (lr);
  gint64 two[] = { 2 };
  g_autoptr (GrdTensor) v = grd_tensor_new (F64, 1, two);
  GrdTensor *bad[] = { v, t };
  l = NULL;
  g_assert_false (grd_function_call (s.fn, bad, &l, &error));
  g_assert_error (error, GRD_ERROR, GRD_ERROR_VALUE);
  g_assert_nonnull (strstr (error->message, "input 'x'"));
  step_free (&s);
  step_free (&ref);
}

static void
test_no_allocation (void)
{
  Step s = make_step (F64, GRD_PASS_ALL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdTensor) x = grd_tensor_new_scalar (F64, 1);
  g_autoptr (GrdTensor) t = grd_tensor_new_scalar (F64, 5);
  GrdTensor *in[] = { x, t };
  gint64 live = 0;
  for (gint i = 0; i < 1000; i++) {
    GrdTensor *l = NULL;
    g_assert_true (grd_function_call (s.fn, in, &l, &error));
    grd_tensor_unref (l);
    if (i == 2)
      live = grd_tensor_live_count ();
  }
  g_assert_cmpint (grd_tensor_live_count (), ==, live);
  step_free (&s);
}

/* grd_function_call_doubles: the numbers and updates of the tensor path to
 * the last bit (straight-line programs and the reference executor alike),
 * the shared values written in place, and errors for what is not a scalar */
static void
test_call_doubles (void)
{
  for (gint d = 0; d < 2; d++) {
    GrdDType dt = d ? F64 : F32;
    for (gint opt = 0; opt < 2; opt++) {
      Step dbl = make_step (dt, opt ? GRD_PASS_ALL : 0), ten = make_step (dt, opt ? GRD_PASS_ALL : 0);
      g_autoptr (GError) error = NULL;
      GrdTensor *a_before = NULL;
      for (gint i = 0; i < 200; i++) {
        /* 0.1 steps: not exact in float32, so the rounding of inputs shows */
        double in[2] = { 0.1 * (1 + i % 7), 3.0 - 0.3 * (i % 5) }, loss = NAN;
        g_autoptr (GrdTensor) x = grd_tensor_new_scalar (dt, in[0]);
        g_autoptr (GrdTensor) t = grd_tensor_new_scalar (dt, in[1]);
        GrdTensor *tin[] = { x, t }, *lt = NULL;
        g_assert_true (grd_function_call_doubles (dbl.fn, in, &loss, &error));
        g_assert_true (grd_function_call (ten.fn, tin, &lt, &error));
        g_assert_no_error (error);
        g_assert_cmpfloat (loss, ==, grd_tensor_get (lt, 0));
        grd_tensor_unref (lt);
        if (opt && i == 1)
          a_before = node_value (dbl.g, "a");
      }
      for (gint k = 0; k < 2; k++)
        g_assert_cmpfloat (shared_value (dbl.g, k ? "b" : "a"), ==, shared_value (ten.g, k ? "b" : "a"));
      /* straight-line calls update the shared value's own tensor */
      if (opt)
        g_assert_true (node_value (dbl.g, "a") == a_before);
      step_free (&dbl);
      step_free (&ten);
    }
  }
  /* not scalars, or values an integer input cannot hold: refused, nothing run */
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef v = grd_graph_variable (g, "v", F64, 1, (gint64[]) { 3 }, NULL);
  GrdRef n = grd_graph_variable (g, "n", GRD_DTYPE_INT32, 0, NULL, NULL);
  GrdRef s = grd_op1 (g, "sum", v, &error);
  GrdRef m = grd_op2 (g, "mul", n, grd_scalar (g, GRD_DTYPE_INT32, 3, &error), &error);
  g_assert_no_error (error);
  g_autoptr (GrdFunction) fv = grd_function_new (g, &v, 1, &s, 1, NULL, 0, &error);
  g_autoptr (GrdFunction) fn = grd_function_new (g, &n, 1, &m, 1, NULL, 0, &error);
  g_assert_no_error (error);
  double in[3] = { 1, 2, 3 }, out = NAN;
  g_assert_false (grd_function_call_doubles (fv, in, &out, &error));
  g_assert_error (error, GRD_ERROR, GRD_ERROR_VALUE);
  g_assert_nonnull (strstr (error->message, "input 'v' is float64[3], not a scalar"));
  g_clear_error (&error);
  g_assert_true (grd_function_call_doubles (fn, (double[]) { 14 }, &out, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (out, ==, 42);
  g_assert_false (grd_function_call_doubles (fn, (double[]) { 2.5 }, &out, &error));
  g_assert_nonnull (strstr (error->message, "input 'n': 2.5 is not a int32 value"));
  g_clear_error (&error);
  g_assert_false (grd_function_call_doubles (fn, (double[]) { 3e9 }, &out, &error));
  g_assert_error (error, GRD_ERROR, GRD_ERROR_VALUE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/scalar-program/same-as-reference", test_same_as_reference);
  g_test_add_func ("/engine/scalar-program/held-values-kept", test_held_values_kept);
  g_test_add_func ("/engine/scalar-program/general-path-inputs", test_general_path_inputs);
  g_test_add_func ("/engine/scalar-program/no-allocation", test_no_allocation);
  g_test_add_func ("/engine/scalar-program/call-doubles", test_call_doubles);
  return g_test_run ();
}
