/* test-vk-scan.c: scan and ifelse on Vulkan (lavapipe in CI, validation on)
 * against the CPU: a map, a recurrence with taps [-2, -1], go_backwards,
 * n_steps from an input and from a value only the device computes, an Elman
 * RNN and its BPTT gradient (checked against finite differences of the
 * Vulkan cost too), a body drawing random numbers (the CPU's draws), ifelse
 * both ways, and laziness: the untaken branch's kernels are not dispatched.
 * Every function here must run on Vulkan, with no fallback. float64
 * throughout (lavapipe has shaderFloat64): tolerance 1e-12 relative. */
#include "gradus.h"
#include "grd-internal.h"
#include "../grad-check.h"
#include "../scan-test-helpers.h"
#include "vulkan/grd-vk-private.h"
#include "vulkan/grd-vk-function-private.h"

#include <math.h>
#include <string.h>

#define F64 GRD_DTYPE_FLOAT64

static GrdFunction *
vk_function (GrdGraph *g, const GrdRef *in, gint n_in, const GrdRef *out, gint n_out)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *warning = NULL;
  GrdFunction *f = grd_function_new_on (g, in, n_in, out, n_out, NULL, 0, GRD_BACKEND_VULKAN,
                                        &warning, &error);
  g_assert_no_error (error);
  if (warning)
    g_error ("fell back: %s", warning);
  g_assert_cmpint (grd_function_backend (f), ==, GRD_BACKEND_VULKAN);
  g_assert_null (grd_function_fallback_reason (f));
  return f;
}

/* The outputs on both back ends, compared; returns the Vulkan ones (caller frees). */
static void
both (GrdGraph *g, const GrdRef *in, gint n_in, GrdTensor *const *args, const GrdRef *out,
      gint n_out, GrdTensor **vk_out)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdFunction) cpu = grd_function_new_on (g, in, n_in, out, n_out, NULL, 0,
                                                     GRD_BACKEND_CPU, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (GrdFunction) vk = vk_function (g, in, n_in, out, n_out);
  GrdTensor *c[8], *v[8];
  g_assert_cmpint (n_out, <=, 8);
  gint before = grd_vk_validation_messages ();
  grd_graph_random_reset (g);
  g_assert_true (grd_function_call (cpu, args, c, &error));
  g_assert_no_error (error);
  grd_graph_random_reset (g);
  g_assert_true (grd_function_call (vk, args, v, &error));
  g_assert_no_error (error);
  g_assert_cmpint (grd_vk_validation_messages (), ==, before);
  for (gint o = 0; o < n_out; o++) {
    grd_test_assert_close (v[o], c[o], 1e-12, 1e-14);
    grd_tensor_unref (c[o]);
    if (vk_out)
      vk_out[o] = v[o];
    else
      grd_tensor_unref (v[o]);
  }
}

/* map: y_t = 2 x_t + w */
static void
test_map (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GrdGraph) b = grd_graph_new ();
  gint64 sx[] = { GRD_DIM_UNKNOWN, 3 }, sr[] = { 3 };
  GrdRef x = grd_graph_variable (g, "x", F64, 2, sx, &error);
  GrdRef w = grd_graph_variable (g, "w", F64, 1, sr, &error);
  GrdRef xt = grd_graph_variable (b, "x_t", F64, 1, sr, &error);
  GrdRef wb = grd_graph_variable (b, "w_in", F64, 1, sr, &error);
  GrdRef y = grd_op2 (b, "add", grd_op2 (b, "mul", xt, grd_scalar (b, F64, 2, &error), &error),
                      wb, &error);
  GrdRef bin[] = { xt, wb };
  GrdScanSlot seq = grd_test_scan_slot (x, 0, NULL);
  GrdScanSpec sp = grd_test_scan_spec (b, bin, 2, &y, 1);
  sp.sequences = &seq;
  sp.n_sequences = 1;
  sp.non_sequences = &w;
  sp.n_non_sequences = 1;
  GrdRef out = grd_graph_scan (g, "map", &sp, &error);
  g_assert_no_error (error);
  gint64 s5[] = { 5, 3 };
  g_autoptr (GrdTensor) xv = grd_test_random (F64, 2, s5, -1, 1, 1);
  g_autoptr (GrdTensor) wv = grd_test_random (F64, 1, sr, -1, 1, 2);
  GrdRef in[] = { x, w };
  GrdTensor *args[] = { xv, wv }, *r = NULL;
  both (g, in, 2, args, &out, 1, &r);
  /* and the values themselves */
  g_assert_cmpint (r->shape[0], ==, 5);
  for (gint64 i = 0; i < 15; i++)
    g_assert_cmpfloat_with_epsilon (grd_tensor_get (r, i),
                                    2 * grd_tensor_get (xv, i) + grd_tensor_get (wv, i % 3), 1e-14);
  grd_tensor_unref (r);
  /* one step more than a call records: an error naming the node, not
   * memory that grows with the step count */
  g_autoptr (GrdFunction) vk = vk_function (g, in, 2, &out, 1);
  gint64 slong[] = { GRD_VK_SCAN_MAX_STEPS + 1, 3 };
  g_autoptr (GrdTensor) xlong = grd_tensor_new (F64, 2, slong);
  GrdTensor *long_args[] = { xlong, wv }, *none = NULL;
  g_assert_false (grd_function_call (vk, long_args, &none, &error));
  g_assert_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "'map'"));
  g_assert_null (none);
}

/* y_t = 0.5 y_{t-2} - 0.3 y_{t-1} + x_t, taps [-2, -1] of a stacked initial
 * value; and the same with go_backwards, whose sequence is read from its end */
static void
test_taps (gconstpointer data)
{
  gboolean backwards = GPOINTER_TO_INT (data);
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GrdGraph) b = grd_graph_new ();
  gint64 sx[] = { GRD_DIM_UNKNOWN, 2 }, s0[] = { 2, 2 }, sr[] = { 2 };
  GrdRef x = grd_graph_variable (g, "x", F64, 2, sx, &error);
  GrdRef y0 = grd_graph_variable (g, "y0", F64, 2, s0, &error);
  GrdRef xt = grd_graph_variable (b, "x_t", F64, 1, sr, &error);
  GrdRef y2 = grd_graph_variable (b, "y_tm2", F64, 1, sr, &error);
  GrdRef y1 = grd_graph_variable (b, "y_tm1", F64, 1, sr, &error);
  GrdRef y = grd_op2 (b, "add",
                      grd_op2 (b, "sub", grd_op2 (b, "mul", y2, grd_scalar (b, F64, 0.5, &error),
                                                  &error),
                               grd_op2 (b, "mul", y1, grd_scalar (b, F64, 0.3, &error), &error),
                               &error),
                      xt, &error);
  GrdRef bin[] = { xt, y2, y1 };
  gint taps[] = { -2, -1 }, seq_taps[] = { 0 };
  GrdScanSlot seq = grd_test_scan_slot (x, 1, seq_taps), st = grd_test_scan_slot (y0, 2, taps);
  GrdScanSpec sp = grd_test_scan_spec (b, bin, 3, &y, 1);
  sp.sequences = &seq;
  sp.n_sequences = 1;
  sp.outputs_info = &st;
  sp.n_outputs_info = 1;
  sp.go_backwards = backwards;
  GrdRef out = grd_graph_scan (g, "rec", &sp, &error);
  g_assert_no_error (error);
  gint64 s6[] = { 6, 2 };
  g_autoptr (GrdTensor) xv = grd_test_random (F64, 2, s6, -1, 1, 3);
  g_autoptr (GrdTensor) y0v = grd_test_random (F64, 2, s0, -1, 1, 4);
  GrdRef in[] = { x, y0 };
  GrdTensor *args[] = { xv, y0v }, *r = NULL;
  both (g, in, 2, args, &out, 1, &r);
  /* the recurrence by hand */
  double prev2[2], prev1[2];
  for (gint j = 0; j < 2; j++) {
    prev2[j] = grd_tensor_get (y0v, j);
    prev1[j] = grd_tensor_get (y0v, 2 + j);
  }
  for (gint t = 0; t < 6; t++)
    for (gint j = 0; j < 2; j++) {
      gint row = backwards ? 5 - t : t;
      double v = 0.5 * prev2[j] - 0.3 * prev1[j] + grd_tensor_get (xv, row * 2 + j);
      g_assert_cmpfloat_with_epsilon (grd_tensor_get (r, t * 2 + j), v, 1e-12);
      /* shifted once both columns are checked */
      if (j == 1)
        for (gint k = 0; k < 2; k++) {
          prev2[k] = prev1[k];
          prev1[k] = grd_tensor_get (r, t * 2 + k);
        }
    }
  grd_tensor_unref (r);
}

/* a cumulative product, n_steps from the host (an input) or from a value only
 * the device computes (argmax of a vector: the function's pre-pass) */
static void
test_n_steps (gconstpointer data)
{
  gboolean on_device = GPOINTER_TO_INT (data);
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GrdGraph) b = grd_graph_new ();
  gint64 sv[] = { 5 };
  GrdRef a = grd_graph_variable (g, "a", F64, 0, NULL, &error);
  GrdRef ns = on_device ? grd_graph_variable (g, "v", F64, 1, sv, &error)
                        : grd_graph_variable (g, "n", GRD_DTYPE_INT64, 0, NULL, &error);
  GrdRef n = on_device ? grd_op1 (g, "argmax", ns, &error) : ns;
  GrdRef p = grd_graph_variable (b, "p", F64, 0, NULL, &error);
  GrdRef ab = grd_graph_variable (b, "a_in", F64, 0, NULL, &error);
  GrdRef y = grd_op2 (b, "mul", p, ab, &error);
  GrdRef bin[] = { p, ab };
  GrdScanSlot st = grd_test_scan_slot (grd_scalar (g, F64, 1, &error), 0, NULL);
  GrdScanSpec sp = grd_test_scan_spec (b, bin, 2, &y, 1);
  sp.outputs_info = &st;
  sp.n_outputs_info = 1;
  sp.non_sequences = &a;
  sp.n_non_sequences = 1;
  sp.n_steps_ref = n;
  GrdRef out = grd_graph_scan (g, "powers", &sp, &error);
  g_assert_no_error (error);
  GrdRef in[] = { a, ns };
  g_autoptr (GrdTensor) av = grd_tensor_new_scalar (F64, 1.5);
  for (gint steps = 0; steps < 5; steps += 2) {
    g_autoptr (GrdTensor) nv = NULL;
    if (on_device) {
      nv = grd_tensor_new (F64, 1, sv);
      grd_tensor_set (nv, steps, 1);
    } else {
      nv = grd_tensor_new_scalar (GRD_DTYPE_INT64, steps);
    }
    GrdTensor *args[] = { av, nv }, *r = NULL;
    both (g, in, 2, args, &out, 1, &r);
    g_assert_cmpint (r->shape[0], ==, steps);
    for (gint t = 0; t < steps; t++)
      g_assert_cmpfloat_with_epsilon (grd_tensor_get (r, t), pow (1.5, t + 1), 1e-12);
    grd_tensor_unref (r);
  }
}

/* Elman RNN: h_t = tanh (x_t W + h_{t-1} U + b), cost = sum (h * h); its
 * gradient with respect to W, U, b, h0 is a reverse scan */
typedef struct {
  GrdGraph *g;
  GrdRef    x, h0, W, U, bias, cost, grads[4];
} Rnn;

static void
rnn_build (Rnn *m)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) b = grd_graph_new ();
  m->g = grd_graph_new ();
  gint64 sx[] = { GRD_DIM_UNKNOWN, 3 }, sh[] = { 4 }, sw[] = { 3, 4 }, su[] = { 4, 4 }, s3[] = { 3 };
  m->x = grd_graph_variable (m->g, "x", F64, 2, sx, &error);
  m->h0 = grd_graph_variable (m->g, "h0", F64, 1, sh, &error);
  m->W = grd_graph_variable (m->g, "W", F64, 2, sw, &error);
  m->U = grd_graph_variable (m->g, "U", F64, 2, su, &error);
  m->bias = grd_graph_variable (m->g, "b", F64, 1, sh, &error);
  GrdRef xt = grd_graph_variable (b, "x_t", F64, 1, s3, &error);
  GrdRef hp = grd_graph_variable (b, "h_prev", F64, 1, sh, &error);
  GrdRef Wb = grd_graph_variable (b, "W_in", F64, 2, sw, &error);
  GrdRef Ub = grd_graph_variable (b, "U_in", F64, 2, su, &error);
  GrdRef bb = grd_graph_variable (b, "b_in", F64, 1, sh, &error);
  GrdRef h = grd_op1 (b, "tanh",
                      grd_op2 (b, "add",
                               grd_op2 (b, "add", grd_op2 (b, "dot", xt, Wb, &error),
                                        grd_op2 (b, "dot", hp, Ub, &error), &error),
                               bb, &error),
                      &error);
  GrdRef bin[] = { xt, hp, Wb, Ub, bb };
  GrdRef nonseq[] = { m->W, m->U, m->bias };
  GrdScanSlot seq = grd_test_scan_slot (m->x, 0, NULL), st = grd_test_scan_slot (m->h0, 0, NULL);
  GrdScanSpec sp = grd_test_scan_spec (b, bin, 5, &h, 1);
  sp.sequences = &seq;
  sp.n_sequences = 1;
  sp.outputs_info = &st;
  sp.n_outputs_info = 1;
  sp.non_sequences = nonseq;
  sp.n_non_sequences = 3;
  GrdRef hs = grd_graph_scan (m->g, "rnn", &sp, &error);
  m->cost = grd_op1 (m->g, "sum", grd_op2 (m->g, "mul", hs, hs, &error), &error);
  GrdRef wrt[] = { m->W, m->U, m->bias, m->h0 };
  grd_graph_grad (m->g, "bptt", m->cost, wrt, 4, NULL, 0, m->grads, &error);
  g_assert_no_error (error);
}

static void
test_rnn (void)
{
  g_autoptr (GError) error = NULL;
  Rnn m;
  rnn_build (&m);
  gint64 sx[] = { 7, 3 }, sh[] = { 4 }, sw[] = { 3, 4 }, su[] = { 4, 4 };
  g_autoptr (GrdTensor) xv = grd_test_random (F64, 2, sx, -1, 1, 5);
  g_autoptr (GrdTensor) hv = grd_test_random (F64, 1, sh, -0.5, 0.5, 6);
  g_autoptr (GrdTensor) Wv = grd_test_random (F64, 2, sw, -0.7, 0.7, 7);
  g_autoptr (GrdTensor) Uv = grd_test_random (F64, 2, su, -0.7, 0.7, 8);
  g_autoptr (GrdTensor) bv = grd_test_random (F64, 1, sh, -0.2, 0.2, 9);
  GrdRef in[] = { m.x, m.h0, m.W, m.U, m.bias };
  GrdTensor *args[] = { xv, hv, Wv, Uv, bv };
  GrdRef outs[] = { m.cost, m.grads[0], m.grads[1], m.grads[2], m.grads[3] };
  GrdTensor *r[5];
  both (m.g, in, 5, args, outs, 5, r);
  /* the Vulkan gradient against central differences of the Vulkan cost */
  g_autoptr (GrdFunction) cost = vk_function (m.g, in, 5, &m.cost, 1);
  for (gint which = 0; which < 4; which++) {
    GrdTensor *p = which == 0 ? Wv : which == 1 ? Uv : which == 2 ? bv : hv;
    for (gint64 e = 0; e < p->size; e += 3) {
      double keep = grd_tensor_get (p, e), eps = 1e-6, f[2];
      for (gint s = 0; s < 2; s++) {
        grd_tensor_set (p, e, keep + (s ? -eps : eps));
        g_autoptr (GrdTensor) c = NULL;
        g_assert_true (grd_function_call (cost, args, &c, &error));
        f[s] = grd_tensor_get (c, 0);
      }
      grd_tensor_set (p, e, keep);
      double fd = (f[0] - f[1]) / (2 * eps), an = grd_tensor_get (r[1 + which], e);
      if (fabs (fd - an) > 1e-7 * (1 + fabs (an)))
        g_error ("gradient %d element %" G_GINT64_FORMAT ": Vulkan %.12g, differences %.12g",
                 which, e, an, fd);
    }
  }
  for (gint o = 0; o < 5; o++)
    grd_tensor_unref (r[o]);
  grd_graph_unref (m.g);
}

/* y_t = x_t + noise_t: each step draws anew, the same numbers as the CPU */
static void
test_random_body (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GrdGraph) b = grd_graph_new ();
  gint64 sx[] = { GRD_DIM_UNKNOWN, 4 }, sr[] = { 4 };
  GrdRef x = grd_graph_variable (g, "x", F64, 2, sx, &error);
  GrdRef xt = grd_graph_variable (b, "x_t", F64, 1, sr, &error);
  GrdRef noise = grd_graph_random (b, "noise", GRD_RANDOM_NORMAL, F64, 0, NULL, xt,
                                   grd_scalar (b, F64, 0, &error), grd_scalar (b, F64, 1, &error),
                                   11, &error);
  GrdRef y = grd_op2 (b, "add", xt, noise, &error);
  GrdScanSlot seq = grd_test_scan_slot (x, 0, NULL);
  GrdScanSpec sp = grd_test_scan_spec (b, &xt, 1, &y, 1);
  sp.sequences = &seq;
  sp.n_sequences = 1;
  GrdRef out = grd_graph_scan (g, "noisy", &sp, &error);
  g_assert_no_error (error);
  gint64 s5[] = { 5, 4 };
  g_autoptr (GrdTensor) xv = grd_tensor_new (F64, 2, s5);  /* zeros: the draws themselves */
  GrdTensor *args[] = { xv }, *r = NULL;
  both (g, &x, 1, args, &out, 1, &r);
  /* every step's row differs: a new draw per step */
  for (gint t = 1; t < 5; t++)
    g_assert_cmpfloat (grd_tensor_get (r, t * 4), !=, grd_tensor_get (r, (t - 1) * 4));
  grd_tensor_unref (r);
}

/* A scan inside a scan: each row's running sum (the inner loop's count from
 * its sequence); with the inner count computed on the device (argmax of the
 * row), the function runs on the CPU and says which node */
static void
test_nested (gconstpointer data)
{
  gboolean device_count = GPOINTER_TO_INT (data);
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GrdGraph) b = grd_graph_new ();
  g_autoptr (GrdGraph) ib = grd_graph_new ();
  gint64 sx[] = { GRD_DIM_UNKNOWN, 4 }, sr[] = { 4 };
  GrdRef x = grd_graph_variable (g, "x", F64, 2, sx, &error);
  GrdRef xt = grd_graph_variable (b, "x_t", F64, 1, sr, &error);
  /* inner: acc_k = acc_{k-1} + e_k */
  GrdRef e = grd_graph_variable (ib, "e", F64, 0, NULL, &error);
  GrdRef acc = grd_graph_variable (ib, "acc", F64, 0, NULL, &error);
  GrdRef next = grd_op2 (ib, "add", acc, e, &error);
  GrdRef ibin[] = { e, acc };
  GrdScanSlot iseq = grd_test_scan_slot (xt, 0, NULL);
  GrdScanSlot ist = grd_test_scan_slot (grd_scalar (b, F64, 0, &error), 0, NULL);
  GrdScanSpec isp = grd_test_scan_spec (ib, ibin, 2, &next, 1);
  isp.sequences = &iseq;
  isp.n_sequences = 1;
  isp.outputs_info = &ist;
  isp.n_outputs_info = 1;
  if (device_count)
    isp.n_steps_ref = grd_op1 (b, "argmax", xt, &error);
  GrdRef sums = grd_graph_scan (b, "inner", &isp, &error);
  GrdScanSlot seq = grd_test_scan_slot (x, 0, NULL);
  GrdScanSpec sp = grd_test_scan_spec (b, &xt, 1, &sums, 1);
  sp.sequences = &seq;
  sp.n_sequences = 1;
  GrdRef out = grd_graph_scan (g, "outer", &sp, &error);
  g_assert_no_error (error);
  gint64 s3[] = { 3, 4 };
  g_autoptr (GrdTensor) xv = grd_test_random (F64, 2, s3, -1, 1, 12);
  if (device_count) {
    g_autofree char *warning = NULL;
    g_autoptr (GrdFunction) f = grd_function_new_on (g, &x, 1, &out, 1, NULL, 0,
                                                     GRD_BACKEND_VULKAN, &warning, &error);
    g_assert_no_error (error);
    g_assert_cmpint (grd_function_backend (f), ==, GRD_BACKEND_CPU);
    g_assert_nonnull (warning);
    g_assert_nonnull (strstr (warning, "inside a scan body"));
    g_assert_nonnull (strstr (warning, "cannot run this function"));
    g_assert_nonnull (strstr (warning, "'outer'"));
    g_test_message ("%s", warning);
    return;
  }
  GrdTensor *args[] = { xv }, *r = NULL;
  both (g, &x, 1, args, &out, 1, &r);
  for (gint t = 0; t < 3; t++) {
    double run = 0;
    for (gint k = 0; k < 4; k++) {
      run += grd_tensor_get (xv, t * 4 + k);
      g_assert_cmpfloat_with_epsilon (grd_tensor_get (r, t * 4 + k), run, 1e-12);
    }
  }
  grd_tensor_unref (r);
}

/* ifelse (c, sum (exp (x)) * dot (x, x), 2 x[0]-like): both ways, the
 * condition an input or computed on the device (sum (x) > 0) */
typedef struct {
  GrdGraph *g;
  GrdRef    c, x, then, els, r;
} If;

static void
if_build (If *m, gboolean device_cond)
{
  g_autoptr (GError) error = NULL;
  gint64 s3[] = { 3 };
  m->g = grd_graph_new ();
  m->x = grd_graph_variable (m->g, "x", F64, 1, s3, &error);
  m->c = device_cond ? grd_op2 (m->g, "gt", grd_op1 (m->g, "sum", m->x, &error),
                                grd_scalar (m->g, F64, 0, &error), &error)
                     : grd_graph_variable (m->g, "c", GRD_DTYPE_BOOL, 0, NULL, &error);
  m->then = grd_op2 (m->g, "mul", grd_op1 (m->g, "sum", grd_op1 (m->g, "exp", m->x, &error), &error),
                     grd_op2 (m->g, "dot", m->x, m->x, &error), &error);
  m->els = grd_op2 (m->g, "mul", grd_op1 (m->g, "max", m->x, &error),
                    grd_scalar (m->g, F64, 2, &error), &error);
  GrdRef in3[] = { m->c, m->then, m->els };
  m->r = grd_graph_op (m->g, "choice", "ifelse", in3, 3, NULL, &error);
  g_assert_no_error (error);
}

static void
test_ifelse (gconstpointer data)
{
  gboolean device_cond = GPOINTER_TO_INT (data);
  If m;
  if_build (&m, device_cond);
  gint64 s3[] = { 3 };
  for (gint way = 0; way < 2; way++) {
    double xs[2][3] = { { 0.5, -0.25, 1 }, { -0.5, 0.25, -1 } };
    g_autoptr (GrdTensor) xv = grd_test_tensor (F64, 1, s3, xs[way]);
    g_autoptr (GrdTensor) cv = grd_tensor_new_scalar (GRD_DTYPE_BOOL, way == 0);
    GrdRef in[] = { m.x, m.c };
    GrdTensor *args[] = { xv, cv }, *r = NULL;
    both (m.g, in, device_cond ? 1 : 2, args, &m.r, 1, &r);
    double sx = 0, se = 0, mx = -INFINITY;
    for (gint i = 0; i < 3; i++) {
      sx += xs[way][i] * xs[way][i];
      se += exp (xs[way][i]);
      mx = MAX (mx, xs[way][i]);
    }
    g_assert_cmpfloat_with_epsilon (grd_tensor_get (r, 0), way == 0 ? se * sx : 2 * mx, 1e-12);
    grd_tensor_unref (r);
  }
  grd_graph_unref (m.g);
}

/* p_t = max_pool_2x2 (x_t + h_{t-1}), h_t = 0.5 h_{t-1} + 0.01 sum (p_t),
 * both stacked, T steps from an input: a body with a temporary per step (the
 * pool's argmax). The device memory a call allocates is the same for 100 and
 * 2000 steps (the body's temporaries are reused from step to step), the
 * outputs match the CPU's and the 100 steps are the first rows of the 2000
 * bit for bit. Each step pools anew: an earlier step's argmax is not reused. */
static void
test_bounded_temps (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GrdGraph) b = grd_graph_new ();
  gint64 sh[] = { 1, 1, 4, 4 }, sx[] = { 2000, 1, 1, 4, 4 };
  GrdRef x = grd_graph_variable (g, "x", F64, 5, NULL, &error);
  GrdRef h0 = grd_graph_variable (g, "h0", F64, 4, sh, &error);
  GrdRef ns = grd_graph_variable (g, "n", GRD_DTYPE_INT64, 0, NULL, &error);
  GrdRef xt = grd_graph_variable (b, "x_t", F64, 4, sh, &error);
  GrdRef hp = grd_graph_variable (b, "h_prev", F64, 4, sh, &error);
  GrdAttrs a;
  grd_attrs_init (&a);
  a.ws[0] = a.ws[1] = 2;
  a.pool_stride[0] = a.pool_stride[1] = 1;
  a.pool_mode = GRD_POOL_MAX;
  a.ignore_border = TRUE;
  GrdRef xh = grd_op2 (b, "add", xt, hp, &error);
  GrdRef p = grd_graph_op (b, "pool", "pool_2d", &xh, 1, &a, &error);
  GrdRef h = grd_op2 (b, "add", grd_op2 (b, "mul", hp, grd_scalar (b, F64, 0.5, &error), &error),
                      grd_op2 (b, "mul", grd_op1 (b, "sum", p, &error),
                               grd_scalar (b, F64, 0.01, &error), &error), &error);
  GrdRef bin[] = { xt, hp }, bout[] = { h, p };
  GrdScanSlot seq = grd_test_scan_slot (x, 0, NULL);
  GrdScanSlot info[] = { grd_test_scan_slot (h0, 0, NULL),
                         grd_test_scan_slot (GRD_REF_NONE, 0, NULL) };
  GrdScanSpec sp = grd_test_scan_spec (b, bin, 2, bout, 2);
  sp.sequences = &seq;
  sp.n_sequences = 1;
  sp.outputs_info = info;
  sp.n_outputs_info = 2;
  sp.n_steps_ref = ns;
  GrdRef out = grd_graph_scan (g, "pooled", &sp, &error);
  g_assert_no_error (error);
  g_autoptr (GrdTensor) xv = grd_test_random (F64, 5, sx, -1, 1, 22);
  GrdRef outs[] = { out, { out.node, 1 } }, in[] = { x, h0, ns };
  g_autoptr (GrdTensor) hv = grd_test_random (F64, 4, sh, -1, 1, 21);
  g_autoptr (GrdTensor) n100 = grd_tensor_new_scalar (GRD_DTYPE_INT64, 100);
  g_autoptr (GrdTensor) n2000 = grd_tensor_new_scalar (GRD_DTYPE_INT64, 2000);
  GrdTensor *args100[] = { xv, hv, n100 }, *args2000[] = { xv, hv, n2000 };
  both (g, in, 3, args100, outs, 2, NULL);
  both (g, in, 3, args2000, outs, 2, NULL);
  /* the per-function statistic: the first call makes the value buffers
   * (2000 rows); the next ones allocate temporaries only */
  GrdVkFunction *fn = grd_vk_function_new (g, in, 3, outs, 2, NULL, 0, &error);
  g_assert_no_error (error);
  GrdTensor *warm[2], *short_run[2], *long_run[2];
  g_assert_true (grd_vk_function_call (fn, args2000, warm, &error));
  g_assert_true (grd_vk_function_call (fn, args100, short_run, &error));
  gint64 bytes100 = fn->call_bytes;
  g_assert_true (grd_vk_function_call (fn, args2000, long_run, &error));
  gint64 bytes2000 = fn->call_bytes;
  g_assert_no_error (error);
  g_test_message ("bytes a call allocates: %" G_GINT64_FORMAT " (100 steps), %" G_GINT64_FORMAT
                  " (2000 steps)", bytes100, bytes2000);
  g_assert_cmpint (bytes100, >, 0);
  g_assert_cmpint (bytes2000, ==, bytes100);
  for (gint o = 0; o < 2; o++) {
    g_assert_cmpint (short_run[o]->shape[0], ==, 100);
    g_assert_cmpint (long_run[o]->shape[0], ==, 2000);
    g_assert_cmpmem (short_run[o]->data, short_run[o]->size * 8, long_run[o]->data,
                     short_run[o]->size * 8);
    g_assert_cmpmem (warm[o]->data, warm[o]->size * 8, long_run[o]->data, long_run[o]->size * 8);
    grd_tensor_unref (warm[o]);
    grd_tensor_unref (short_run[o]);
    grd_tensor_unref (long_run[o]);
  }
  grd_vk_function_free (fn);
}

/* The dispatches a call of `f` records. */
static gint64
dispatches (GrdFunction *f, GrdTensor *const *args)
{
  g_autoptr (GError) error = NULL;
  GrdVkContext *ctx = grd_vk_context_get (&error);
  g_assert_no_error (error);
  gint64 before = ctx->n_dispatches;
  g_autoptr (GrdTensor) r = NULL;
  g_assert_true (grd_function_call (f, args, &r, &error));
  g_assert_no_error (error);
  return ctx->n_dispatches - before;
}

/* Laziness: a call taking one branch dispatches exactly what that branch
 * alone dispatches, and the then branch (several kernels) is not among them
 * when else is taken */
static void
test_ifelse_lazy (void)
{
  If m;
  if_build (&m, FALSE);
  gint64 s3[] = { 3 };
  double xs[] = { 0.5, -0.25, 1 };
  g_autoptr (GrdTensor) xv = grd_test_tensor (F64, 1, s3, xs);
  g_autoptr (GrdTensor) yes = grd_tensor_new_scalar (GRD_DTYPE_BOOL, 1);
  g_autoptr (GrdTensor) no = grd_tensor_new_scalar (GRD_DTYPE_BOOL, 0);
  GrdRef in[] = { m.x, m.c };
  g_autoptr (GrdFunction) f = vk_function (m.g, in, 2, &m.r, 1);
  g_autoptr (GrdFunction) then_alone = vk_function (m.g, in, 2, &m.then, 1);
  g_autoptr (GrdFunction) else_alone = vk_function (m.g, in, 2, &m.els, 1);
  GrdTensor *args_yes[] = { xv, yes }, *args_no[] = { xv, no };
  gint64 n_then = dispatches (then_alone, args_yes), n_else = dispatches (else_alone, args_no);
  g_assert_cmpint (n_then, >, n_else);
  for (gint k = 0; k < 2; k++) {
    g_assert_cmpint (dispatches (f, args_no), ==, n_else);
    g_assert_cmpint (dispatches (f, args_yes), ==, n_then);
  }
  grd_graph_unref (m.g);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autoptr (GError) error = NULL;
  GrdVkContext *ctx = grd_vk_context_get (&error);
  g_assert_no_error (error);
  /* lavapipe has it; these tests are float64 */
  g_assert_true (ctx->has_float64);
  g_test_add_func ("/vk-scan/map", test_map);
  g_test_add_data_func ("/vk-scan/taps", GINT_TO_POINTER (0), test_taps);
  g_test_add_data_func ("/vk-scan/go-backwards", GINT_TO_POINTER (1), test_taps);
  g_test_add_data_func ("/vk-scan/n-steps-input", GINT_TO_POINTER (0), test_n_steps);
  g_test_add_data_func ("/vk-scan/n-steps-device", GINT_TO_POINTER (1), test_n_steps);
  g_test_add_func ("/vk-scan/rnn-bptt", test_rnn);
  g_test_add_data_func ("/vk-scan/nested", GINT_TO_POINTER (0), test_nested);
  g_test_add_data_func ("/vk-scan/nested-device-count", GINT_TO_POINTER (1), test_nested);
  g_test_add_func ("/vk-scan/random-body", test_random_body);
  g_test_add_func ("/vk-scan/bounded-temps", test_bounded_temps);
  g_test_add_data_func ("/vk-ifelse/input-condition", GINT_TO_POINTER (0), test_ifelse);
  g_test_add_data_func ("/vk-ifelse/device-condition", GINT_TO_POINTER (1), test_ifelse);
  g_test_add_func ("/vk-ifelse/lazy", test_ifelse_lazy);
  return g_test_run ();
}
