/* test-vk-stable.c: the CPU compiler's stabilising rewrites apply before the
 * Vulkan back end compiles a graph (lavapipe in CI, validation on):
 * log(sigmoid(x)) at x = -800 is -800 there too, not -inf; and a function
 * compiled from the rewritten copy still reads and writes the user's shared
 * variables and draws the user's random streams. */
#include "gradus.h"
#include "grd-internal.h"
#include "../grad-check.h"

#include <math.h>
#include <string.h>

static GrdFunction *
on_vulkan (GrdGraph *g, const GrdRef *in, gint n_in, const GrdRef *out, gint n_out,
           const GrdUpdate *upd, gint n_upd)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *warning = NULL;
  GrdFunction *f = grd_function_new_on (g, in, n_in, out, n_out, upd, n_upd, GRD_BACKEND_VULKAN,
                                        &warning, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (warning, ==, NULL);
  g_assert_cmpint (grd_function_backend (f), ==, GRD_BACKEND_VULKAN);
  return f;
}

/* log(sigmoid(x)) = -softplus(-x), log(1 - sigmoid(x)) = -softplus(x) */
static void
test_log_sigmoid (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  gint64 s[] = { 5 };
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT32, 1, s, &error);
  GrdRef sg = grd_op1 (g, "sigmoid", x, &error);
  GrdRef outs[] = {
    grd_op1 (g, "log", sg, &error),
    grd_op1 (g, "log", grd_op2 (g, "sub", grd_scalar (g, GRD_DTYPE_FLOAT32, 1, &error), sg, &error),
             &error),
  };
  g_assert_no_error (error);
  g_autoptr (GrdFunction) f = on_vulkan (g, &x, 1, outs, 2, NULL, 0);
  double xv[] = { -800, -1, 0, 3, 800 };
  g_autoptr (GrdTensor) xt = grd_test_tensor (GRD_DTYPE_FLOAT32, 1, s, xv);
  GrdTensor *r[2] = { NULL, NULL };
  g_assert_true (grd_function_call (f, &xt, r, &error));
  g_assert_no_error (error);
  double want0[5], want1[5];
  for (gint i = 0; i < 5; i++) {
    /* -softplus(-x) and -softplus(x), computed stably here */
    want0[i] = -(fmax (-xv[i], 0) + log1p (exp (-fabs (xv[i]))));
    want1[i] = -(fmax (xv[i], 0) + log1p (exp (-fabs (xv[i]))));
  }
  grd_test_assert_tensor (r[0], GRD_DTYPE_FLOAT32, 1, s, want0, 1e-6, 1e-6);
  grd_test_assert_tensor (r[1], GRD_DTYPE_FLOAT32, 1, s, want1, 1e-6, 1e-6);
  grd_tensor_unref (r[0]);
  grd_tensor_unref (r[1]);
}

/* crossentropy(softmax(x), t) = logsumexp(x) - x[t]: finite where softmax
 * rounds the target's probability to 0 */
static void
test_crossentropy_logits (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  gint64 sx[] = { 2, 3 }, st[] = { 2 };
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT32, 2, sx, &error);
  GrdRef t = grd_graph_variable (g, "t", GRD_DTYPE_INT32, 1, st, &error);
  GrdRef ce = grd_op2 (g, "categorical_crossentropy", grd_op1 (g, "softmax", x, &error), t, &error);
  g_assert_no_error (error);
  GrdRef in[] = { x, t };
  g_autoptr (GrdFunction) f = on_vulkan (g, in, 2, &ce, 1, NULL, 0);
  double xv[] = { 1000, 0, -1000, 0, 1, 2 }, tv[] = { 1, 2 };
  g_autoptr (GrdTensor) xt = grd_test_tensor (GRD_DTYPE_FLOAT32, 2, sx, xv);
  g_autoptr (GrdTensor) tt = grd_test_tensor (GRD_DTYPE_INT32, 1, st, tv);
  GrdTensor *args[] = { xt, tt }, *r = NULL;
  g_assert_true (grd_function_call (f, args, &r, &error));
  g_assert_no_error (error);
  double want[] = { 1000, log (1 + exp (1) + exp (2)) - 2 };
  grd_test_assert_tensor (r, GRD_DTYPE_FLOAT32, 1, st, want, 1e-6, 1e-6);
  grd_tensor_unref (r);
}

/* logistic regression by SGD on a rewritten graph: the updates land in the
 * user's shared variables, a set_value between calls is seen, and the
 * numbers are the CPU's */
static GrdTensor *
train (GrdBackend backend, gint steps, gboolean reset_midway)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  gint64 sx[] = { 6, 3 }, sw[] = { 3 };
  double xv[] = { 1, -2, 3, 0.5, 400, -1, -3, 2, 1, 2, 2, -600, 0.1, 0.2, 0.3, -1, -1, -1 };
  double wv[] = { 0.5, -0.25, 1 };
  g_autoptr (GrdTensor) w0 = grd_test_tensor (GRD_DTYPE_FLOAT64, 1, sw, wv);
  GrdRef w = grd_graph_shared (g, "w", w0, &error);
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 2, sx, &error);
  /* the sigmoid written out, as the tutorials do: 1 / (1 + exp(-xw)) */
  GrdRef one = grd_scalar (g, GRD_DTYPE_FLOAT64, 1, &error);
  GrdRef p = grd_op2 (g, "div", one,
                      grd_op2 (g, "add", one, grd_op1 (g, "exp", grd_op1 (g, "neg",
                               grd_op2 (g, "dot", x, w, &error), &error), &error), &error), &error);
  GrdRef cost = grd_op1 (g, "mean", grd_op1 (g, "neg", grd_op1 (g, "log", p, &error), &error), &error);
  GrdRef gw;
  grd_graph_grad (g, NULL, cost, &w, 1, NULL, 0, &gw, &error);
  GrdRef step = grd_op2 (g, "sub", w, grd_op2 (g, "mul", grd_scalar (g, GRD_DTYPE_FLOAT64, 0.1, &error),
                                               gw, &error), &error);
  g_assert_no_error (error);
  GrdUpdate u = { w, step };
  g_autoptr (GrdFunction) f = NULL;
  if (backend == GRD_BACKEND_VULKAN)
    f = on_vulkan (g, &x, 1, &cost, 1, &u, 1);
  else
    f = grd_function_new_on (g, &x, 1, &cost, 1, &u, 1, GRD_BACKEND_CPU, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (GrdTensor) xt = grd_test_tensor (GRD_DTYPE_FLOAT64, 2, sx, xv);
  for (gint k = 0; k < steps; k++) {
    if (reset_midway && k == steps / 2) {
      g_assert_true (grd_function_sync (f, &error));
      g_assert_true (grd_graph_set_value (g, w, w0, &error));
      g_assert_no_error (error);
    }
    GrdTensor *c = NULL;
    g_assert_true (grd_function_call (f, &xt, &c, &error));
    g_assert_no_error (error);
    g_assert_true (isfinite (grd_tensor_get (c, 0)));
    grd_tensor_unref (c);
  }
  g_assert_true (grd_function_sync (f, &error));
  g_assert_no_error (error);
  return grd_tensor_ref (grd_graph_get_value (g, w));
}

static void
test_shared_updates (void)
{
  for (gint reset = 0; reset < 2; reset++) {
    g_autoptr (GrdTensor) cpu = train (GRD_BACKEND_CPU, 6, reset);
    g_autoptr (GrdTensor) vk = train (GRD_BACKEND_VULKAN, 6, reset);
    g_autoptr (GrdTensor) cpu_short = train (GRD_BACKEND_CPU, 3, FALSE);
    grd_test_assert_close (vk, cpu, 1e-12, 1e-12);
    /* the updates did move w: reset or not changes the result */
    if (reset) {
      double d = 0;
      for (gint64 i = 0; i < cpu->size; i++)
        d = fmax (d, fabs (grd_tensor_get (vk, i) - grd_tensor_get (cpu_short, i)));
      g_assert_cmpfloat (d, <, 1e-12);  /* reset after 3 steps, 3 more = 3 steps */
    }
  }
}

/* a random node in a rewritten graph draws the CPU's numbers */
static void
test_random_kept (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  gint64 s[] = { 64 };
  GrdRef r = grd_graph_random (g, "r", GRD_RANDOM_NORMAL, GRD_DTYPE_FLOAT64, 1, s, GRD_REF_NONE,
                               grd_scalar (g, GRD_DTYPE_FLOAT64, 0, &error),
                               grd_scalar (g, GRD_DTYPE_FLOAT64, 300, &error), 9, &error);
  GrdRef outs[] = { r, grd_op1 (g, "log", grd_op1 (g, "sigmoid", r, &error), &error) };
  g_assert_no_error (error);
  g_autoptr (GrdFunction) vk = on_vulkan (g, NULL, 0, outs, 2, NULL, 0);
  g_autoptr (GrdFunction) cpu = grd_function_new_on (g, NULL, 0, outs, 2, NULL, 0, GRD_BACKEND_CPU,
                                                     NULL, &error);
  g_assert_no_error (error);
  GrdTensor *a[2], *b[2];
  grd_graph_random_reset (g);
  g_assert_true (grd_function_call (vk, NULL, a, &error));
  grd_graph_random_reset (g);
  g_assert_true (grd_function_call (cpu, NULL, b, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (a[0]->data, a[0]->size * 8, b[0]->data, b[0]->size * 8);
  grd_test_assert_close (a[1], b[1], 1e-12, 1e-12);
  gboolean saturated = FALSE;
  for (gint64 i = 0; i < a[1]->size; i++) {
    g_assert_true (isfinite (grd_tensor_get (a[1], i)));
    saturated |= grd_tensor_get (a[0], i) < -40;
  }
  g_assert_true (saturated);  /* std 300: some draws are far past where log(sigmoid) underflows */
  for (gint k = 0; k < 2; k++) {
    grd_tensor_unref (a[k]);
    grd_tensor_unref (b[k]);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vk-stable/log-sigmoid", test_log_sigmoid);
  g_test_add_func ("/vk-stable/crossentropy-logits", test_crossentropy_logits);
  g_test_add_func ("/vk-stable/shared-updates", test_shared_updates);
  g_test_add_func ("/vk-stable/random", test_random_kept);
  return g_test_run ();
}
