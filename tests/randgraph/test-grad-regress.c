/* test-grad-regress.c: the gradients of issue 9, on every executor.
 *
 * d/dz of log(1 + z), log(1 / z), log(1 - z / 4), log(1 - sigmoid(z)) and
 * log(1 / (1 + exp(-z))) were 0: the stable-pair rule of grd-grad.c claimed
 * any op under a log before it knew the op was a softmax or a sigmoid. Each
 * expression is checked against its derivative by hand, in float32 and
 * float64, scalar and vector, on the reference executor, the optimised CPU
 * program and Vulkan; then the near-misses of the stable pairs (an inner node
 * with two readers, float targets, a softmax on another axis, ...) against
 * finite differences. */
#include "../grad-check.h"
#include "grd-internal.h"
#include "compile/grd-program.h"

#include <math.h>

typedef enum { EXEC_REFERENCE, EXEC_OPTIMISED, EXEC_VULKAN, N_EXECS } Exec;

static const char *const exec_names[] = { "reference", "optimised", "vulkan" };

/* Vulkan is required where the build has it and the suite says so (lavapipe
 * in CI); elsewhere those cases are skipped with a message. */
static gboolean
vulkan_wanted (void)
{
  return g_strcmp0 (g_getenv ("GRADUS_TEST_VULKAN"), "1") == 0;
}

static GrdFunction *
compile_on (GrdGraph *g, const GrdRef *in, gint n_in, const GrdRef *out, gint n_out, Exec exec)
{
  g_autoptr (GError) error = NULL;
  GrdFunction *f = NULL;
  if (exec == EXEC_VULKAN) {
    g_autofree char *warning = NULL;
    f = grd_function_new_on (g, in, n_in, out, n_out, NULL, 0, GRD_BACKEND_VULKAN, &warning, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (warning, ==, NULL);
    g_assert_cmpint (grd_function_backend (f), ==, GRD_BACKEND_VULKAN);
  } else {
    f = grd_function_new_with_passes (g, in, n_in, out, n_out, NULL, 0,
                                      exec == EXEC_REFERENCE ? 0 : GRD_PASS_ALL, &error);
    g_assert_no_error (error);
  }
  return f;
}

/* ------------------------------------------------------------ the five expressions */

typedef struct {
  const char *name;
  const char *path;   /* the test path's part */
  GrdRef (*build) (GrdGraph *g, GrdRef z, GrdDType dt, GError **error);
  double (*d1) (double z);
  double (*d2) (double z);
} Expr;

static double sig (double z) { return 1 / (1 + exp (-z)); }

static GrdRef
b_log_1_plus (GrdGraph *g, GrdRef z, GrdDType dt, GError **e)
{
  return grd_op1 (g, "log", grd_op2 (g, "add", grd_scalar (g, dt, 1, e), z, e), e);
}
static double d1_log_1_plus (double z) { return 1 / (1 + z); }
static double d2_log_1_plus (double z) { return -1 / ((1 + z) * (1 + z)); }

static GrdRef
b_log_inv (GrdGraph *g, GrdRef z, GrdDType dt, GError **e)
{
  return grd_op1 (g, "log", grd_op2 (g, "div", grd_scalar (g, dt, 1, e), z, e), e);
}
static double d1_log_inv (double z) { return -1 / z; }
static double d2_log_inv (double z) { return 1 / (z * z); }

static GrdRef
b_log_1_minus_quarter (GrdGraph *g, GrdRef z, GrdDType dt, GError **e)
{
  GrdRef q = grd_op2 (g, "div", z, grd_scalar (g, dt, 4, e), e);
  return grd_op1 (g, "log", grd_op2 (g, "sub", grd_scalar (g, dt, 1, e), q, e), e);
}
static double d1_log_1_minus_quarter (double z) { return -1 / (4 - z); }
static double d2_log_1_minus_quarter (double z) { return -1 / ((4 - z) * (4 - z)); }

static GrdRef
b_log_1_minus_sigmoid (GrdGraph *g, GrdRef z, GrdDType dt, GError **e)
{
  GrdRef s = grd_op1 (g, "sigmoid", z, e);
  return grd_op1 (g, "log", grd_op2 (g, "sub", grd_scalar (g, dt, 1, e), s, e), e);
}
static double d1_log_1_minus_sigmoid (double z) { return -sig (z); }
static double d2_log_1_minus_sigmoid (double z) { return -sig (z) * (1 - sig (z)); }

static GrdRef
b_log_manual_sigmoid (GrdGraph *g, GrdRef z, GrdDType dt, GError **e)
{
  GrdRef ex = grd_op1 (g, "exp", grd_op1 (g, "neg", z, e), e);
  GrdRef den = grd_op2 (g, "add", grd_scalar (g, dt, 1, e), ex, e);
  return grd_op1 (g, "log", grd_op2 (g, "div", grd_scalar (g, dt, 1, e), den, e), e);
}
static double d1_log_manual_sigmoid (double z) { return 1 - sig (z); }
static double d2_log_manual_sigmoid (double z) { return -sig (z) * (1 - sig (z)); }

static const Expr exprs[] = {
  { "log(1+z)", "log-1-plus-z", b_log_1_plus, d1_log_1_plus, d2_log_1_plus },
  { "log(1/z)", "log-1-over-z", b_log_inv, d1_log_inv, d2_log_inv },
  { "log(1-z/4)", "log-1-minus-z-over-4", b_log_1_minus_quarter, d1_log_1_minus_quarter, d2_log_1_minus_quarter },
  { "log(1-sigmoid(z))", "log-1-minus-sigmoid", b_log_1_minus_sigmoid, d1_log_1_minus_sigmoid, d2_log_1_minus_sigmoid },
  { "log(1/(1+exp(-z)))", "log-1-over-1-plus-exp-minus-z", b_log_manual_sigmoid, d1_log_manual_sigmoid, d2_log_manual_sigmoid },
};

typedef struct {
  const Expr *expr;
  GrdDType    dtype;
  gboolean    vector;
  Exec        exec;
} Case;

static void
test_expression (gconstpointer data)
{
  const Case *c = data;
  if (c->exec == EXEC_VULKAN && !vulkan_wanted ()) {
    g_test_skip ("GRADUS_TEST_VULKAN is not 1 (a build without the Vulkan back end)");
    return;
  }
  static const double zs[] = { 0.8, 0.25, 1.5, 3.0, 0.05 };
  gint64 n = c->vector ? G_N_ELEMENTS (zs) : 1;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  GrdRef z = grd_graph_variable (g, "z", c->dtype, c->vector ? 1 : 0, &n, &error);
  GrdRef y = grd_op1 (g, "sum", c->expr->build (g, z, c->dtype, &error), &error);
  GrdRef g1, g2;
  grd_graph_grad (g, "d1", y, &z, 1, NULL, 0, &g1, &error);
  /* the second derivative, elementwise, through sum(d1) */
  grd_graph_grad (g, "d2", grd_op1 (g, "sum", g1, &error), &z, 1, NULL, 0, &g2, &error);
  g_assert_no_error (error);
  GrdRef outs[] = { g1, g2 };
  g_autoptr (GrdFunction) f = compile_on (g, &z, 1, outs, 2, c->exec);
  g_autoptr (GrdTensor) zv = grd_tensor_new_from_doubles (c->dtype, c->vector ? 1 : 0, &n, zs);
  GrdTensor *r[2] = { NULL, NULL };
  g_assert_true (grd_function_call (f, &zv, r, &error));
  g_assert_no_error (error);
  double want1[G_N_ELEMENTS (zs)], want2[G_N_ELEMENTS (zs)];
  for (gint64 i = 0; i < n; i++) {
    want1[i] = c->expr->d1 (zs[i]);
    want2[i] = c->expr->d2 (zs[i]);
  }
  gboolean single = c->dtype == GRD_DTYPE_FLOAT32;
  g_test_message ("%s, %s, %s", c->expr->name, grd_dtype_name (c->dtype), exec_names[c->exec]);
  grd_test_assert_tensor (r[0], c->dtype, c->vector ? 1 : 0, &n, want1, single ? 2e-6 : 1e-13,
                          single ? 1e-6 : 1e-14);
  grd_test_assert_tensor (r[1], c->dtype, c->vector ? 1 : 0, &n, want2, single ? 2e-5 : 1e-12,
                          single ? 1e-5 : 1e-14);
  grd_tensor_unref (r[0]);
  grd_tensor_unref (r[1]);
}

/* ------------------------------------------------------------ near-misses */

/* log(sigmoid(x)) + 2 sigmoid(x): the sigmoid has two readers, so the pair
 * rule must not claim it; d/dx = (1 - s) + 2 s (1 - s). */
static GrdRef
build_sigmoid_two_readers (GrdGraph *g, const GrdRef *v, gpointer data, GError **e)
{
  GrdRef s = grd_op1 (g, "sigmoid", v[0], e);
  GrdRef two = grd_scalar (g, GRD_DTYPE_FLOAT64, 2, e);
  return grd_op2 (g, "add", grd_op1 (g, "log", s, e), grd_op2 (g, "mul", two, s, e), e);
}

/* log(softmax(x)) weighted, plus softmax(x) read again. */
static GrdRef
build_softmax_two_readers (GrdGraph *g, const GrdRef *v, gpointer data, GError **e)
{
  GrdRef p = grd_op1 (g, "softmax", v[0], e);
  return grd_op2 (g, "add", grd_op1 (g, "log", p, e), grd_op2 (g, "mul", p, v[1], e), e);
}

/* crossentropy of a softmax with float (one-hot-like, soft) targets: the
 * integer-target shortcut does not apply. */
static GrdRef
build_cce_float_targets (GrdGraph *g, const GrdRef *v, gpointer data, GError **e)
{
  GrdRef p = grd_op1 (g, "softmax", v[0], e);
  return grd_op2 (g, "categorical_crossentropy", p, v[1], e);
}

/* the softmax over axis 0, then log or crossentropy on the last axis. */
static GrdRef
build_softmax_axis0_log (GrdGraph *g, const GrdRef *v, gpointer data, GError **e)
{
  GrdAttrs a = grd_attrs_axis (0, FALSE);
  GrdRef p = grd_graph_op (g, NULL, "softmax", v, 1, &a, e);
  return grd_op1 (g, "log", p, e);
}

static GrdRef
build_softmax_axis0_cce (GrdGraph *g, const GrdRef *v, gpointer data, GError **e)
{
  GrdAttrs a = grd_attrs_axis (0, FALSE);
  GrdRef p = grd_graph_op (g, NULL, "softmax", v, 1, &a, e);
  return grd_op2 (g, "categorical_crossentropy", p, v[1], e);
}

/* log of a softmax and of a sigmoid that are not the pairs' inner ops:
 * log(exp(x)), log(softplus(x)), log(1 - softmax(x)). */
static GrdRef
build_log_of_others (GrdGraph *g, const GrdRef *v, gpointer data, GError **e)
{
  GrdRef a = grd_op1 (g, "log", grd_op1 (g, "exp", v[0], e), e);
  GrdRef b = grd_op1 (g, "log", grd_op1 (g, "softplus", v[0], e), e);
  GrdRef one = grd_scalar (g, GRD_DTYPE_FLOAT64, 1, e);
  GrdRef c = grd_op1 (g, "log", grd_op2 (g, "sub", one, grd_op1 (g, "softmax", v[0], e), e), e);
  return grd_op2 (g, "add", grd_op2 (g, "add", a, b, e), c, e);
}

/* log(sigmoid(x)) and log(softmax(x)) with x itself computed: the pair's
 * gradient must still flow on to the inputs of x. */
static GrdRef
build_pairs_after_ops (GrdGraph *g, const GrdRef *v, gpointer data, GError **e)
{
  GrdRef x = grd_op2 (g, "mul", v[0], v[1], e);
  GrdRef a = grd_op1 (g, "log", grd_op1 (g, "sigmoid", x, e), e);
  GrdRef b = grd_op1 (g, "log", grd_op1 (g, "softmax", x, e), e);
  return grd_op2 (g, "add", a, b, e);
}

/* the exact pairs, grad of grad included (verify_grad of the gradient). */
static GrdRef
build_exact_pairs_grad (GrdGraph *g, const GrdRef *v, gpointer data, GError **e)
{
  GrdRef a = grd_op1 (g, "log", grd_op1 (g, "sigmoid", v[0], e), e);
  GrdRef b = grd_op1 (g, "log", grd_op1 (g, "softmax", v[0], e), e);
  GrdRef cost = grd_op1 (g, "sum", grd_op2 (g, "mul", grd_op2 (g, "add", a, b, e), v[1], e), e);
  GrdRef gx;
  grd_graph_grad (g, NULL, cost, &v[0], 1, NULL, 0, &gx, e);
  return gx;
}


/* The logistic regression tutorial's cost as Theano users write it:
 * p = 1 / (1 + exp(-(x * w))), y log p + (1 - y) log(1 - p), plus 3 p so that
 * p has a reader besides the two logs: the logs' gradients go straight to
 * x * w (sigmoid forms), p's third reader keeps its own. */
static GrdRef
build_written_sigmoid_three_readers (GrdGraph *g, const GrdRef *v, gpointer data, GError **e)
{
  GrdRef one = grd_scalar (g, GRD_DTYPE_FLOAT64, 1, e);
  GrdRef z = grd_op2 (g, "mul", v[0], v[1], e);
  GrdRef den = grd_op2 (g, "add", one, grd_op1 (g, "exp", grd_op1 (g, "neg", z, e), e), e);
  GrdRef p = grd_op2 (g, "div", one, den, e);
  GrdRef a = grd_op2 (g, "mul", v[2], grd_op1 (g, "log", p, e), e);
  GrdRef b = grd_op2 (g, "mul", grd_op2 (g, "sub", one, v[2], e),
                      grd_op1 (g, "log", grd_op2 (g, "sub", one, p, e), e), e);
  GrdRef three = grd_scalar (g, GRD_DTYPE_FLOAT64, 3, e);
  return grd_op2 (g, "add", grd_op2 (g, "add", a, b, e), grd_op2 (g, "mul", three, p, e), e);
}

static void
test_near_misses (void)
{
  gint64 s23[] = { 2, 3 };
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 2, s23, -2, 2, 91);
  g_autoptr (GrdTensor) w = grd_test_random (GRD_DTYPE_FLOAT64, 2, s23, -1, 1, 92);
  g_autoptr (GrdTensor) t = grd_test_random (GRD_DTYPE_FLOAT64, 2, s23, 0, 1, 93);
  GrdTensor *one[] = { x };
  GrdTensor *two[] = { x, w };
  GrdTensor *targets[] = { x, t };
  grd_test_verify_grad_build (build_sigmoid_two_readers, NULL, one, 1, 1);
  grd_test_verify_grad_build (build_softmax_two_readers, NULL, two, 2, 2);
  grd_test_verify_grad_build (build_cce_float_targets, NULL, targets, 2, 3);
  grd_test_verify_grad_build (build_softmax_axis0_log, NULL, one, 1, 4);
  grd_test_verify_grad_build (build_softmax_axis0_cce, NULL, targets, 2, 5);
  grd_test_verify_grad_build (build_log_of_others, NULL, one, 1, 6);
  grd_test_verify_grad_build (build_pairs_after_ops, NULL, two, 2, 7);
  grd_test_verify_grad_build (build_exact_pairs_grad, NULL, two, 2, 8);
  GrdTensor *three[] = { x, w, t };
  grd_test_verify_grad_build (build_written_sigmoid_three_readers, NULL, three, 3, 9);
}

/* The same cost where the sigmoid saturates (z = +-800): d/dz of
 * -t log p - (1 - t) log(1 - p) is sigmoid(z) - t, finite on every executor
 * (the naive chain rule gives inf * 0). */
static void
test_written_sigmoid_saturated (gconstpointer data)
{
  Exec exec = GPOINTER_TO_INT (data);
  if (exec == EXEC_VULKAN && !vulkan_wanted ()) {
    g_test_skip ("GRADUS_TEST_VULKAN is not 1 (a build without the Vulkan back end)");
    return;
  }
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  gint64 n = 6;
  GrdRef z = grd_graph_variable (g, "z", GRD_DTYPE_FLOAT64, 1, &n, &error);
  GrdRef t = grd_graph_variable (g, "t", GRD_DTYPE_FLOAT64, 1, &n, &error);
  GrdRef one = grd_scalar (g, GRD_DTYPE_FLOAT64, 1, &error);
  GrdRef den = grd_op2 (g, "add", one, grd_op1 (g, "exp", grd_op1 (g, "neg", z, &error), &error), &error);
  GrdRef p = grd_op2 (g, "div", one, den, &error);
  GrdRef a = grd_op2 (g, "mul", t, grd_op1 (g, "log", p, &error), &error);
  GrdRef b = grd_op2 (g, "mul", grd_op2 (g, "sub", one, t, &error),
                      grd_op1 (g, "log", grd_op2 (g, "sub", one, p, &error), &error), &error);
  GrdRef cost = grd_op1 (g, "neg", grd_op1 (g, "sum", grd_op2 (g, "add", a, b, &error), &error), &error);
  GrdRef gz;
  grd_graph_grad (g, "d", cost, &z, 1, NULL, 0, &gz, &error);
  g_assert_no_error (error);
  GrdRef in[] = { z, t };
  g_autoptr (GrdFunction) f = compile_on (g, in, 2, &gz, 1, exec);
  const double zs[] = { 800, -800, 800, -800, 30, 0.5 };
  const double ts[] = { 1, 1, 0, 0, 0, 1 };
  g_autoptr (GrdTensor) zv = grd_tensor_new_from_doubles (GRD_DTYPE_FLOAT64, 1, &n, zs);
  g_autoptr (GrdTensor) tv = grd_tensor_new_from_doubles (GRD_DTYPE_FLOAT64, 1, &n, ts);
  GrdTensor *args[] = { zv, tv };
  g_autoptr (GrdTensor) r = NULL;
  g_assert_true (grd_function_call (f, args, &r, &error));
  g_assert_no_error (error);
  double want[6];
  for (gint i = 0; i < 6; i++)
    want[i] = 0.5 * (1 + tanh (0.5 * zs[i])) - ts[i];
  grd_test_assert_tensor (r, GRD_DTYPE_FLOAT64, 1, &n, want, 1e-12, 1e-14);
}

/* consider_constant on the exp inside 1 / (1 + exp(-x)): the sigmoid form
 * is not recognised through it, and no gradient flows that way. */
static void
test_written_sigmoid_constant_exp (void)
{
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 0, NULL, &error);
  GrdRef one = grd_scalar (g, GRD_DTYPE_FLOAT64, 1, &error);
  GrdRef e = grd_op1 (g, "exp", grd_op1 (g, "neg", x, &error), &error);
  GrdRef p = grd_op2 (g, "div", one, grd_op2 (g, "add", one, e, &error), &error);
  GrdRef y = grd_op2 (g, "add", grd_op1 (g, "log", p, &error), x, &error);
  GrdRef gx;
  grd_graph_grad (g, "d", y, &x, 1, &e, 1, &gx, &error);
  g_assert_no_error (error);
  for (Exec k = EXEC_REFERENCE; k <= EXEC_OPTIMISED; k++) {
    g_autoptr (GrdFunction) f = compile_on (g, &x, 1, &gx, 1, k);
    g_autoptr (GrdTensor) xv = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 0.8);
    g_autoptr (GrdTensor) r = NULL;
    g_assert_true (grd_function_call (f, &xv, &r, &error));
    g_assert_no_error (error);
    g_assert_cmpfloat (grd_tensor_get (r, 0), ==, 1.0);
  }
}

/* The sigmoid's two readers by hand, on each executor (the optimiser's
 * stabilising rewrites must not merge a pair the gradient did not). */
static void
test_sigmoid_two_readers_values (gconstpointer data)
{
  Exec exec = GPOINTER_TO_INT (data);
  if (exec == EXEC_VULKAN && !vulkan_wanted ()) {
    g_test_skip ("GRADUS_TEST_VULKAN is not 1 (a build without the Vulkan back end)");
    return;
  }
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  gint64 n = 4;
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 1, &n, &error);
  GrdRef y = grd_op1 (g, "sum", build_sigmoid_two_readers (g, &x, NULL, &error), &error);
  GrdRef gx;
  grd_graph_grad (g, "d", y, &x, 1, NULL, 0, &gx, &error);
  g_assert_no_error (error);
  g_autoptr (GrdFunction) f = compile_on (g, &x, 1, &gx, 1, exec);
  const double xs[] = { 0.8, -3, 40, -40 };
  g_autoptr (GrdTensor) xv = grd_tensor_new_from_doubles (GRD_DTYPE_FLOAT64, 1, &n, xs);
  g_autoptr (GrdTensor) r = NULL;
  g_assert_true (grd_function_call (f, &xv, &r, &error));
  g_assert_no_error (error);
  double want[4];
  for (gint i = 0; i < 4; i++)
    want[i] = (1 - sig (xs[i])) + 2 * sig (xs[i]) * (1 - sig (xs[i]));
  grd_test_assert_tensor (r, GRD_DTYPE_FLOAT64, 1, &n, want, 1e-12, 1e-14);
}

/* consider_constant on the inner node of a pair: no gradient through it. */
static void
test_pair_inner_constant (void)
{
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 0, NULL, &error);
  GrdRef s = grd_op1 (g, "sigmoid", x, &error);
  GrdRef y = grd_op2 (g, "add", grd_op1 (g, "log", s, &error), x, &error);
  GrdRef gx;
  grd_graph_grad (g, "d", y, &x, 1, &s, 1, &gx, &error);
  g_assert_no_error (error);
  for (Exec e = EXEC_REFERENCE; e <= EXEC_OPTIMISED; e++) {
    g_autoptr (GrdFunction) f = compile_on (g, &x, 1, &gx, 1, e);
    g_autoptr (GrdTensor) xv = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 0.8);
    g_autoptr (GrdTensor) r = NULL;
    g_assert_true (grd_function_call (f, &xv, &r, &error));
    g_assert_no_error (error);
    g_assert_cmpfloat (grd_tensor_get (r, 0), ==, 1.0);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  static Case cases[G_N_ELEMENTS (exprs) * 2 * 2 * N_EXECS];
  gint k = 0;
  for (guint i = 0; i < G_N_ELEMENTS (exprs); i++)
    for (gint d = 0; d < 2; d++)
      for (gint v = 0; v < 2; v++)
        for (Exec e = 0; e < N_EXECS; e++) {
          Case *c = &cases[k++];
          c->expr = &exprs[i];
          c->dtype = d ? GRD_DTYPE_FLOAT64 : GRD_DTYPE_FLOAT32;
          c->vector = v;
          c->exec = e;
          g_autofree char *path = g_strdup_printf ("/grad-regress/%s/%s/%s/%s", exprs[i].path,
                                                   grd_dtype_name (c->dtype),
                                                   v ? "vector" : "scalar", exec_names[e]);
          g_test_add_data_func (path, c, test_expression);
        }
  for (Exec e = 0; e < N_EXECS; e++) {
    g_autofree char *path = g_strdup_printf ("/grad-regress/near-miss/sigmoid-two-readers/%s",
                                             exec_names[e]);
    g_test_add_data_func (path, GINT_TO_POINTER (e), test_sigmoid_two_readers_values);
  }
  for (Exec e = 0; e < N_EXECS; e++) {
    g_autofree char *path = g_strdup_printf ("/grad-regress/written-sigmoid/saturated/%s",
                                             exec_names[e]);
    g_test_add_data_func (path, GINT_TO_POINTER (e), test_written_sigmoid_saturated);
  }
  g_test_add_func ("/grad-regress/written-sigmoid/constant-exp", test_written_sigmoid_constant_exp);
  g_test_add_func ("/grad-regress/near-miss/finite-differences", test_near_misses);
  g_test_add_func ("/grad-regress/near-miss/inner-node-constant", test_pair_inner_constant);
  return g_test_run ();
}
