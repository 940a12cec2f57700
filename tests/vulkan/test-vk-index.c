/* test-vk-index.c: shape, arange, index, set_subtensor and inc_subtensor on
 * Vulkan (lavapipe in CI, validation on), against the CPU back end (whose
 * kernels test-index.c checks against NumPy) and values written out by hand:
 * the negative log likelihood p[arange(y.shape[0]), y] and its gradient (an
 * inc_subtensor), repeated indices, broadcast and negative indices, slices
 * with negative steps, and arange's length changing while no shape does. */
#include "gradus.h"
#include "grd-internal.h"
#include "../grad-check.h"
#include "vulkan/grd-vk-private.h"

#include <math.h>
#include <string.h>

static GrdFunction *
on_vulkan (GrdGraph *g, const GrdRef *ins, gint n_in, const GrdRef *outs, gint n_out)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *warning = NULL;
  GrdFunction *fn = grd_function_new_on (g, ins, n_in, outs, n_out, NULL, 0, GRD_BACKEND_VULKAN,
                                         &warning, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (warning, ==, NULL);
  g_assert_cmpint (grd_function_backend (fn), ==, GRD_BACKEND_VULKAN);
  return fn;
}

/* Both back ends on the same inputs; every output within tol of the CPU's. */
static void
compare (GrdGraph *g, const GrdRef *ins, GrdTensor *const *vals, gint n_in, const GrdRef *outs,
         gint n_out, double tol, GrdTensor **keep)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdFunction) cpu = grd_function_new_on (g, ins, n_in, outs, n_out, NULL, 0,
                                                     GRD_BACKEND_CPU, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (GrdFunction) vk = on_vulkan (g, ins, n_in, outs, n_out);
  GrdTensor *r[8] = { NULL }, *v[8] = { NULL };
  g_assert_true (grd_function_call (cpu, vals, r, &error));
  g_assert_no_error (error);
  g_assert_true (grd_function_call (vk, vals, v, &error));
  g_assert_no_error (error);
  for (gint o = 0; o < n_out; o++) {
    grd_test_assert_close (v[o], r[o], tol, tol);
    if (keep && o == 0)
      *keep = grd_tensor_ref (v[o]);
    grd_tensor_unref (v[o]);
    grd_tensor_unref (r[o]);
  }
}

static GrdTensor *
vec (GrdDType dtype, gint64 n, const double *v)
{
  return grd_test_tensor (dtype, 1, &n, v);
}

/* -mean(log p[arange(y.shape[0]), y]) and its gradient, in both float types. */
static void
test_nll (void)
{
  g_autoptr (GError) error = NULL;
  GrdVkContext *ctx = grd_vk_context_get (&error);
  g_assert_no_error (error);
  for (GrdDType dt = GRD_DTYPE_FLOAT32; dt <= GRD_DTYPE_FLOAT64; dt++) {
    if (dt == GRD_DTYPE_FLOAT64 && !ctx->has_float64)
      continue;
    g_autoptr (GrdGraph) g = grd_graph_new ();
    GrdRef p = grd_graph_variable (g, "p", dt, 2, NULL, &error);
    GrdRef y = grd_graph_variable (g, "y", GRD_DTYPE_INT32, 1, NULL, &error);
    GrdAttrs ax = grd_attrs_axis (0, FALSE);
    GrdRef n = grd_graph_op (g, "n", "shape", &y, 1, &ax, &error);
    GrdRef ar[] = { grd_scalar (g, GRD_DTYPE_INT64, 0, &error), n,
                    grd_scalar (g, GRD_DTYPE_INT64, 1, &error) };
    GrdAttrs none;
    grd_attrs_init (&none);
    GrdRef rows = grd_graph_op (g, "rows", "arange", ar, 3, &none, &error);
    GrdRef iy[] = { p, rows, y };
    GrdRef picked = grd_graph_op (g, "picked", "index", iy, 3, &none, &error);
    GrdRef cost = grd_op1 (g, "neg", grd_op1 (g, "mean", grd_op1 (g, "log", picked, &error),
                                              &error), &error);
    GrdRef gp;
    grd_graph_grad (g, "g", cost, &p, 1, NULL, 0, &gp, &error);
    g_assert_no_error (error);
    GrdRef outs[] = { picked, cost, gp, rows, grd_graph_op (g, "sh", "shape", &p, 1, &none, &error) };
    GrdRef ins[] = { p, y };
    gint64 ps[] = { 3, 4 };
    double pv[12] = { .1, .2, .3, .4, .5, .6, .7, .8, .9, .15, .25, .35 };
    g_autoptr (GrdTensor) pt = grd_test_tensor (dt, 2, ps, pv);
    g_autoptr (GrdTensor) yt = vec (GRD_DTYPE_INT32, 3, (double[]) { 3, 0, -1 });
    GrdTensor *vals[] = { pt, yt };
    g_autoptr (GrdTensor) got = NULL;
    compare (g, ins, vals, 2, outs, 5, 1e-6, &got);
    gint64 n3 = 3;
    grd_test_assert_tensor (got, dt, 1, &n3, (double[]) { .4, .5, .35 }, 1e-6, 0);
    /* more rows: arange follows */
    gint64 ps2[] = { 40, 7 };
    g_autoptr (GrdTensor) p2 = grd_test_random (dt, 2, ps2, 0.1, 1, 3);
    g_autoptr (GrdTensor) y2 = grd_test_random (GRD_DTYPE_INT32, 1, ps2, 0, 7, 4);
    GrdTensor *vals2[] = { p2, y2 };
    compare (g, ins, vals2, 2, outs, 5, 1e-6, NULL);
  }
  g_assert_cmpint (grd_vk_validation_messages (), ==, 0);
}

/* index with broadcast, negative and rank-2 index arrays of both integer
 * types, and its gradient with repeated positions (inc_subtensor on Vulkan). */
static void
test_index (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT32, 3, NULL, &error);
  GrdRef i0 = grd_graph_variable (g, "i0", GRD_DTYPE_INT64, 2, NULL, &error);
  GrdRef i1 = grd_graph_variable (g, "i1", GRD_DTYPE_INT32, 1, NULL, &error);
  GrdAttrs none;
  grd_attrs_init (&none);
  GrdRef a[] = { x, i0, i1 };
  GrdRef both = grd_graph_op (g, "both", "index", a, 3, &none, &error);   /* [2, 3, 2] */
  GrdRef rows = grd_graph_op (g, "rows", "index", a, 2, &none, &error);   /* [2, 3, 3, 2] */
  GrdRef cost = grd_op2 (g, "add", grd_op1 (g, "sum", grd_op1 (g, "sin", both, &error), &error),
                         grd_op1 (g, "sum", grd_op1 (g, "square", rows, &error), &error), &error);
  GrdRef gx;
  grd_graph_grad (g, "g", cost, &x, 1, NULL, 0, &gx, &error);
  g_assert_no_error (error);
  GrdRef outs[] = { both, rows, gx };
  GrdRef ins[] = { x, i0, i1 };
  gint64 xs[] = { 4, 3, 2 }, is[] = { 2, 1 };
  g_autoptr (GrdTensor) xv = grd_test_random (GRD_DTYPE_FLOAT32, 3, xs, -1, 1, 5);
  g_autoptr (GrdTensor) i0v = grd_test_tensor (GRD_DTYPE_INT64, 2, is, (double[]) { 3, -1 });
  g_autoptr (GrdTensor) i1v = vec (GRD_DTYPE_INT32, 3, (double[]) { 0, 2, -3 });
  GrdTensor *vals[] = { xv, i0v, i1v };
  g_autoptr (GrdTensor) got = NULL;
  compare (g, ins, vals, 3, outs, 3, 1e-5, &got);
  /* both[r, c, :] = x[i0[r], i1[c], :]: i0 = 3, 3 (-1), i1 = 0, 2, 0 (-3) */
  gint64 want_shape[] = { 2, 3, 2 };
  double want[12];
  gint64 r0[] = { 3, 3 }, c0[] = { 0, 2, 0 };
  for (gint r = 0; r < 2; r++)
    for (gint c = 0; c < 3; c++)
      for (gint k = 0; k < 2; k++)
        want[(r * 3 + c) * 2 + k] = grd_tensor_get (xv, (r0[r] * 3 + c0[c]) * 2 + k);
  grd_test_assert_tensor (got, GRD_DTYPE_FLOAT32, 3, want_shape, want, 0, 0);
  g_assert_cmpint (grd_vk_validation_messages (), ==, 0);
}

/* set/inc_subtensor: a slice with a negative step, index arrays with
 * repeats (the sums in order, the last set wins), broadcast values, an int32
 * inc, and both gradients. */
static void
test_subtensor (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT32, 2, NULL, &error);
  GrdRef y = grd_graph_variable (g, "y", GRD_DTYPE_FLOAT32, 1, NULL, &error);
  GrdRef i0 = grd_graph_variable (g, "i0", GRD_DTYPE_INT64, 1, NULL, &error);
  GrdRef k = grd_graph_variable (g, "k", GRD_DTYPE_INT32, 2, NULL, &error);
  GrdAttrs sl;
  grd_attrs_init (&sl);
  sl.n_slice = 1;
  sl.begin[0] = -1;
  sl.end[0] = 0;
  sl.step[0] = -2;
  GrdAttrs none;
  grd_attrs_init (&none);
  GrdRef xy[] = { x, y }, xyi[] = { x, y, i0 };
  GrdRef s1 = grd_graph_op (g, "s1", "set_subtensor", xy, 2, &sl, &error);
  GrdRef s2 = grd_graph_op (g, "s2", "inc_subtensor", xy, 2, &sl, &error);
  GrdRef s3 = grd_graph_op (g, "s3", "set_subtensor", xyi, 3, &none, &error);
  GrdRef s4 = grd_graph_op (g, "s4", "inc_subtensor", xyi, 3, &none, &error);
  GrdRef kk[] = { k, grd_scalar (g, GRD_DTYPE_INT32, 5, &error), i0 };
  GrdRef s5 = grd_graph_op (g, "s5", "inc_subtensor", kk, 3, &none, &error);
  GrdRef terms = grd_op2 (g, "add", grd_op2 (g, "mul", s1, s2, &error),
                          grd_op2 (g, "mul", s3, grd_op1 (g, "sin", s4, &error), &error), &error);
  GrdRef cost = grd_op1 (g, "sum", grd_op1 (g, "square", terms, &error), &error);
  GrdRef wrt[] = { x, y }, gr[2];
  grd_graph_grad (g, "g", cost, wrt, 2, NULL, 0, gr, &error);
  g_assert_no_error (error);
  GrdRef outs[] = { s4, s1, s2, s3, s5, gr[0], gr[1] };
  GrdRef ins[] = { x, y, i0, k };
  gint64 xs[] = { 5, 3 }, ks[] = { 5, 2 };
  g_autoptr (GrdTensor) xv = grd_test_random (GRD_DTYPE_FLOAT32, 2, xs, -1, 1, 6);
  g_autoptr (GrdTensor) yv = vec (GRD_DTYPE_FLOAT32, 3, (double[]) { 10, 20, 30 });
  g_autoptr (GrdTensor) iv = vec (GRD_DTYPE_INT64, 4, (double[]) { 1, -1, 1, 1 });
  g_autoptr (GrdTensor) kv = grd_test_random (GRD_DTYPE_INT32, 2, ks, -9, 9, 7);
  GrdTensor *vals[] = { xv, yv, iv, kv };
  g_autoptr (GrdTensor) got = NULL;
  compare (g, ins, vals, 4, outs, 7, 1e-5, &got);
  /* s4: row 1 gets y three times, row 4 once */
  double want[15];
  for (gint r = 0; r < 5; r++)
    for (gint c = 0; c < 3; c++)
      want[r * 3 + c] = grd_tensor_get (xv, r * 3 + c) + (r == 1 ? 3 : r == 4 ? 1 : 0) * (c + 1) * 10;
  grd_test_assert_tensor (got, GRD_DTYPE_FLOAT32, 2, xs, want, 1e-6, 1e-6);
  g_assert_cmpint (grd_vk_validation_messages (), ==, 0);
}

/* arange's length is its stop's value: a new n with the same shapes must not
 * replay the last call's dispatches. */
static void
test_arange_values (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef n = grd_graph_variable (g, "n", GRD_DTYPE_INT64, 0, NULL, &error);
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT32, 1, NULL, &error);
  GrdAttrs none;
  grd_attrs_init (&none);
  GrdRef ar[] = { grd_scalar (g, GRD_DTYPE_INT64, 1, &error),
                  grd_op2 (g, "mul", n, grd_scalar (g, GRD_DTYPE_INT64, 2, &error), &error),
                  grd_scalar (g, GRD_DTYPE_INT64, 3, &error) };
  GrdRef idx = grd_graph_op (g, "idx", "arange", ar, 3, &none, &error);
  GrdRef xi[] = { x, idx };
  GrdRef picked = grd_graph_op (g, "picked", "index", xi, 2, &none, &error);
  g_assert_no_error (error);
  GrdRef ins[] = { n, x };
  g_autoptr (GrdFunction) vk = on_vulkan (g, ins, 2, &picked, 1);
  gint64 xs = 20;
  g_autoptr (GrdTensor) xv = grd_test_random (GRD_DTYPE_FLOAT32, 1, &xs, -1, 1, 8);
  for (gint k = 0; k < 3; k++) {
    gint64 nv = 3 + 2 * k;  /* arange(1, 2n, 3) */
    g_autoptr (GrdTensor) nt = grd_tensor_new_scalar (GRD_DTYPE_INT64, nv);
    GrdTensor *vals[] = { nt, xv }, *out = NULL;
    g_assert_true (grd_function_call (vk, vals, &out, &error));
    g_assert_no_error (error);
    gint64 len = (2 * nv - 1 + 2) / 3;
    double want[20];
    for (gint64 i = 0; i < len; i++)
      want[i] = grd_tensor_get (xv, 1 + 3 * i);
    grd_test_assert_tensor (out, GRD_DTYPE_FLOAT32, 1, &len, want, 0, 0);
    grd_tensor_unref (out);
  }
  g_assert_cmpint (grd_vk_validation_messages (), ==, 0);
}

/* The shape of a computed tensor, feeding an arange: shape reads only the
 * runtime shape, so the tensor itself (abs(exp(x))) stays on the device. It
 * used to be marked as known on the host with its own inputs, and the call
 * failed: "node 'a' (abs): input 0 ('e') is not known before the call"
 * (found by tools/grad-fuzz.sh --vulkan). */
static void
test_shape_of_computed (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT32, 1, NULL, &error);
  GrdRef a = grd_op1 (g, "abs", grd_op1 (g, "exp", x, &error), &error);
  GrdAttrs ax = grd_attrs_axis (0, FALSE), none;
  grd_attrs_init (&none);
  GrdRef n = grd_graph_op (g, "n", "shape", &a, 1, &ax, &error);
  GrdRef ar[] = { grd_scalar (g, GRD_DTYPE_INT64, 0, &error), n,
                  grd_scalar (g, GRD_DTYPE_INT64, 1, &error) };
  GrdRef r = grd_graph_op (g, "r", "arange", ar, 3, &none, &error);
  GrdRef xi[] = { x, r };
  GrdRef picked = grd_graph_op (g, "picked", "index", xi, 2, &none, &error);
  GrdRef outs[] = { grd_op2 (g, "mul", a, picked, &error), n };
  g_assert_no_error (error);
  g_autoptr (GrdTensor) xv = vec (GRD_DTYPE_FLOAT32, 3, (double[]) { 1, -2, 0.5 });
  GrdTensor *vals[] = { xv };
  g_autoptr (GrdTensor) got = NULL;
  compare (g, &x, vals, 1, outs, 2, 1e-6, &got);
  gint64 three = 3;
  double want[3];
  for (gint i = 0; i < 3; i++)
    want[i] = exp (grd_tensor_get (xv, i)) * grd_tensor_get (xv, i);
  grd_test_assert_tensor (got, GRD_DTYPE_FLOAT32, 1, &three, want, 1e-6, 1e-6);
  g_assert_cmpint (grd_vk_validation_messages (), ==, 0);
}

/* An arange whose stop only the device knows stays on the CPU, saying why. */
static void
test_arange_refused (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_INT64, 1, NULL, &error);
  GrdAttrs none;
  grd_attrs_init (&none);
  GrdRef ar[] = { grd_scalar (g, GRD_DTYPE_INT64, 0, &error), grd_op1 (g, "sum", x, &error),
                  grd_scalar (g, GRD_DTYPE_INT64, 1, &error) };
  GrdRef idx = grd_graph_op (g, "late", "arange", ar, 3, &none, &error);
  g_assert_no_error (error);
  g_autofree char *warning = NULL;
  g_autoptr (GrdFunction) fn = grd_function_new_on (g, &x, 1, &idx, 1, NULL, 0,
                                                    GRD_BACKEND_VULKAN, &warning, &error);
  g_assert_no_error (error);
  g_assert_nonnull (warning);
  g_assert_nonnull (strstr (warning, "late"));
  g_assert_cmpint (grd_function_backend (fn), ==, GRD_BACKEND_CPU);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vk-index/nll", test_nll);
  g_test_add_func ("/vk-index/index", test_index);
  g_test_add_func ("/vk-index/subtensor", test_subtensor);
  g_test_add_func ("/vk-index/arange-values", test_arange_values);
  g_test_add_func ("/vk-index/arange-refused", test_arange_refused);
  g_test_add_func ("/vk-index/shape-of-computed", test_shape_of_computed);
  return g_test_run ();
}
