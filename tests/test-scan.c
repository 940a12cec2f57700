/* test-scan.c: theano.scan: maps, recurrences with taps, non-sequences,
 * n_steps of every kind, go_backwards, scans inside scans, and
 * backpropagation through time checked against finite differences. The
 * expected values are computed here by plain C loops, independently. */
#include "grad-check.h"
#include "scan-test-helpers.h"

#include <math.h>
#include <string.h>

static GrdTensor *
call1 (GrdGraph *g, const GrdRef *in, gint n_in, GrdTensor *const *args, GrdRef out)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdFunction) f = grd_function_new (g, in, n_in, &out, 1, NULL, 0, &error);
  g_assert_no_error (error);
  GrdTensor *r = NULL;
  g_assert_true (grd_function_call (f, args, &r, &error));
  g_assert_no_error (error);
  return r;
}

/* map: y_t = 2 x_t + w, with w a non-sequence; output of a vector sequence */
static void
test_map (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GrdGraph) b = grd_graph_new ();
  gint64 sx[] = { GRD_DIM_UNKNOWN, 3 }, sr[] = { 3 };
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 2, sx, &error);
  GrdRef w = grd_graph_variable (g, "w", GRD_DTYPE_FLOAT64, 1, sr, &error);
  GrdRef xt = grd_graph_variable (b, "x_t", GRD_DTYPE_FLOAT64, 1, sr, &error);
  GrdRef wb = grd_graph_variable (b, "w_in", GRD_DTYPE_FLOAT64, 1, sr, &error);
  GrdRef y = grd_op2 (b, "add", grd_op2 (b, "mul", xt, grd_scalar (b, GRD_DTYPE_FLOAT64, 2, &error),
                                         &error), wb, &error);
  GrdRef bin[] = { xt, wb };
  GrdScanSlot seq = grd_test_scan_slot (x, 0, NULL);
  GrdScanSpec sp = grd_test_scan_spec (b, bin, 2, &y, 1);
  sp.sequences = &seq;
  sp.n_sequences = 1;
  sp.non_sequences = &w;
  sp.n_non_sequences = 1;
  GrdRef out = grd_graph_scan (g, "map", &sp, &error);
  g_assert_no_error (error);
  const GrdType *t = grd_graph_ref_type (g, out);
  g_assert_cmpint (t->rank, ==, 2);
  g_assert_cmpint (t->dims[1], ==, 3);
  gint64 s4[] = { 4, 3 };
  g_autoptr (GrdTensor) xv = grd_test_random (GRD_DTYPE_FLOAT64, 2, s4, -1, 1, 1);
  g_autoptr (GrdTensor) wv = grd_test_random (GRD_DTYPE_FLOAT64, 1, sr, -1, 1, 2);
  GrdRef in[] = { x, w };
  GrdTensor *args[] = { xv, wv };
  g_autoptr (GrdTensor) r = call1 (g, in, 2, args, out);
  double want[12];
  for (gint i = 0; i < 4; i++)
    for (gint j = 0; j < 3; j++)
      want[i * 3 + j] = 2 * grd_tensor_get (xv, i * 3 + j) + grd_tensor_get (wv, j);
  grd_test_assert_tensor (r, GRD_DTYPE_FLOAT64, 2, s4, want, 1e-15, 0);
}

/* Fibonacci with taps [-2, -1], a sequence read with taps [-1, 0], and an
 * output that is not fed back: n_steps from the sequence (len - span). */
static void
test_taps (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GrdGraph) b = grd_graph_new ();
  gint64 s1[] = { GRD_DIM_UNKNOWN }, s2[] = { 2 };
  GrdRef u = grd_graph_variable (g, "u", GRD_DTYPE_FLOAT64, 1, s1, &error);
  GrdRef y0 = grd_graph_variable (g, "y0", GRD_DTYPE_FLOAT64, 1, s2, &error);
  GrdRef up = grd_graph_variable (b, "u_prev", GRD_DTYPE_FLOAT64, 0, NULL, &error);
  GrdRef ut = grd_graph_variable (b, "u_t", GRD_DTYPE_FLOAT64, 0, NULL, &error);
  GrdRef ym2 = grd_graph_variable (b, "y_m2", GRD_DTYPE_FLOAT64, 0, NULL, &error);
  GrdRef ym1 = grd_graph_variable (b, "y_m1", GRD_DTYPE_FLOAT64, 0, NULL, &error);
  GrdRef yt = grd_op2 (b, "add", ym2, ym1, &error);
  GrdRef ot = grd_op2 (b, "sub", ut, up, &error);
  GrdRef bin[] = { up, ut, ym2, ym1 }, bout[] = { yt, ot };
  gint ut_taps[] = { -1, 0 }, y_taps[] = { -2, -1 };
  GrdScanSlot seq = grd_test_scan_slot (u, 2, ut_taps);
  GrdScanSlot info[] = { grd_test_scan_slot (y0, 2, y_taps),
                         grd_test_scan_slot (GRD_REF_NONE, 0, NULL) };
  GrdScanSpec sp = grd_test_scan_spec (b, bin, 4, bout, 2);
  sp.sequences = &seq;
  sp.n_sequences = 1;
  sp.outputs_info = info;
  sp.n_outputs_info = 2;
  GrdRef out = grd_graph_scan (g, "fib", &sp, &error);
  g_assert_no_error (error);
  double uv[] = { 1, 4, 9, 16, 25, 36, 49 }, y0v[] = { 1, 1 };
  gint64 su[] = { 7 };
  g_autoptr (GrdTensor) ut_v = grd_test_tensor (GRD_DTYPE_FLOAT64, 1, su, uv);
  g_autoptr (GrdTensor) y0_v = grd_test_tensor (GRD_DTYPE_FLOAT64, 1, s2, y0v);
  GrdRef in[] = { u, y0 };
  GrdTensor *args[] = { ut_v, y0_v };
  g_autoptr (GrdTensor) ry = call1 (g, in, 2, args, out);
  g_autoptr (GrdTensor) ro = call1 (g, in, 2, args, (GrdRef) { out.node, 1 });
  gint64 s6[] = { 6 };
  double wy[] = { 2, 3, 5, 8, 13, 21 }, wo[] = { 3, 5, 7, 9, 11, 13 };
  grd_test_assert_tensor (ry, GRD_DTYPE_FLOAT64, 1, s6, wy, 0, 0);
  grd_test_assert_tensor (ro, GRD_DTYPE_FLOAT64, 1, s6, wo, 0, 0);
}

/* n_steps fixed, symbolic, and go_backwards (stacked in iteration order) */
static void
test_n_steps_and_backwards (void)
{
  for (gint mode = 0; mode < 3; mode++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GrdGraph) g = grd_graph_new ();
    g_autoptr (GrdGraph) b = grd_graph_new ();
    gint64 s1[] = { GRD_DIM_UNKNOWN };
    GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 1, s1, &error);
    GrdRef a0 = grd_graph_variable (g, "a0", GRD_DTYPE_FLOAT64, 0, NULL, &error);
    GrdRef n = grd_graph_variable (g, "n", GRD_DTYPE_INT64, 0, NULL, &error);
    GrdRef xt = grd_graph_variable (b, "x_t", GRD_DTYPE_FLOAT64, 0, NULL, &error);
    GrdRef ap = grd_graph_variable (b, "a_prev", GRD_DTYPE_FLOAT64, 0, NULL, &error);
    GrdRef at = grd_op2 (b, "add", grd_op2 (b, "mul", ap, grd_scalar (b, GRD_DTYPE_FLOAT64, 10, &error),
                                            &error), xt, &error);
    GrdRef bin[] = { xt, ap };
    GrdScanSlot seq = grd_test_scan_slot (x, 0, NULL), info = grd_test_scan_slot (a0, 0, NULL);
    GrdScanSpec sp = grd_test_scan_spec (b, bin, 2, &at, 1);
    sp.sequences = &seq;
    sp.n_sequences = 1;
    sp.outputs_info = &info;
    sp.n_outputs_info = 1;
    if (mode == 0)
      sp.n_steps = 3;
    else if (mode == 1)
      sp.n_steps_ref = n;
    else
      sp.go_backwards = TRUE;
    GrdRef out = grd_graph_scan (g, "acc", &sp, &error);
    g_assert_no_error (error);
    if (mode == 0)
      g_assert_cmpint (grd_graph_ref_type (g, out)->dims[0], ==, 3);
    double xv[] = { 1, 2, 3, 4 };
    gint64 s4[] = { 4 };
    g_autoptr (GrdTensor) x_v = grd_test_tensor (GRD_DTYPE_FLOAT64, 1, s4, xv);
    g_autoptr (GrdTensor) a_v = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 0);
    g_autoptr (GrdTensor) n_v = grd_tensor_new_scalar (GRD_DTYPE_INT64, 2);
    GrdRef in[] = { x, a0, n };
    GrdTensor *args[] = { x_v, a_v, n_v };
    g_autoptr (GrdTensor) r = call1 (g, in, mode == 1 ? 3 : 2, args, out);
    if (mode == 0) {
      double w[] = { 1, 12, 123 };
      grd_test_assert_tensor (r, GRD_DTYPE_FLOAT64, 1, (gint64[]) { 3 }, w, 0, 0);
    } else if (mode == 1) {
      double w[] = { 1, 12 };
      grd_test_assert_tensor (r, GRD_DTYPE_FLOAT64, 1, (gint64[]) { 2 }, w, 0, 0);
    } else {
      double w[] = { 4, 43, 432, 4321 };
      grd_test_assert_tensor (r, GRD_DTYPE_FLOAT64, 1, s4, w, 0, 0);
    }
  }
}

/* a scan inside a scan: each row's running sum, the inner loop over the row */
static void
test_nested (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GrdGraph) outer = grd_graph_new ();
  g_autoptr (GrdGraph) inner = grd_graph_new ();
  gint64 sm[] = { GRD_DIM_UNKNOWN, GRD_DIM_UNKNOWN }, sv[] = { GRD_DIM_UNKNOWN };
  GrdRef m = grd_graph_variable (g, "m", GRD_DTYPE_FLOAT64, 2, sm, &error);
  GrdRef e = grd_graph_variable (inner, "e", GRD_DTYPE_FLOAT64, 0, NULL, &error);
  GrdRef sprev = grd_graph_variable (inner, "s_prev", GRD_DTYPE_FLOAT64, 0, NULL, &error);
  GrdRef snext = grd_op2 (inner, "add", sprev, e, &error);
  GrdRef row = grd_graph_variable (outer, "row", GRD_DTYPE_FLOAT64, 1, sv, &error);
  GrdRef zero = grd_scalar (outer, GRD_DTYPE_FLOAT64, 0, &error);
  GrdRef ibin[] = { e, sprev };
  GrdScanSlot iseq = grd_test_scan_slot (row, 0, NULL), iinfo = grd_test_scan_slot (zero, 0, NULL);
  GrdScanSpec isp = grd_test_scan_spec (inner, ibin, 2, &snext, 1);
  isp.sequences = &iseq;
  isp.n_sequences = 1;
  isp.outputs_info = &iinfo;
  isp.n_outputs_info = 1;
  GrdRef cums = grd_graph_scan (outer, "inner", &isp, &error);
  GrdScanSlot oseq = grd_test_scan_slot (m, 0, NULL);
  GrdScanSpec osp = grd_test_scan_spec (outer, &row, 1, &cums, 1);
  osp.sequences = &oseq;
  osp.n_sequences = 1;
  GrdRef out = grd_graph_scan (g, "outer", &osp, &error);
  g_assert_no_error (error);
  gint64 s23[] = { 2, 3 };
  double mv[] = { 1, 2, 3, 4, 5, 6 }, w[] = { 1, 3, 6, 4, 9, 15 };
  g_autoptr (GrdTensor) m_v = grd_test_tensor (GRD_DTYPE_FLOAT64, 2, s23, mv);
  g_autoptr (GrdTensor) r = call1 (g, &m, 1, &m_v, out);
  grd_test_assert_tensor (r, GRD_DTYPE_FLOAT64, 2, s23, w, 0, 0);
}

/* ------------------------------------------------------------ gradients */

/* Elman RNN: h_t = tanh(x_t W + h_{t-1} U + b), all of X, h0, W, U, b
 * differentiated; the output is every h_t. */
static GrdRef
build_rnn (GrdGraph *g, const GrdRef *v, gpointer data, GError **error)
{
  gboolean backwards = GPOINTER_TO_INT (data);
  g_autoptr (GrdGraph) b = grd_graph_new ();
  gint64 sx[] = { GRD_DIM_UNKNOWN, 3 }, sh[] = { GRD_DIM_UNKNOWN, 4 }, sw[] = { 3, 4 },
         su[] = { 4, 4 }, sb[] = { 4 };
  GrdRef xt = grd_graph_variable (b, "x_t", GRD_DTYPE_FLOAT64, 2, sx, error);
  GrdRef hp = grd_graph_variable (b, "h_prev", GRD_DTYPE_FLOAT64, 2, sh, error);
  GrdRef W = grd_graph_variable (b, "W_in", GRD_DTYPE_FLOAT64, 2, sw, error);
  GrdRef U = grd_graph_variable (b, "U_in", GRD_DTYPE_FLOAT64, 2, su, error);
  GrdRef bb = grd_graph_variable (b, "b_in", GRD_DTYPE_FLOAT64, 1, sb, error);
  GrdRef h = grd_op1 (b, "tanh", grd_op2 (b, "add", grd_op2 (b, "add", grd_op2 (b, "dot", xt, W, error),
                                                               grd_op2 (b, "dot", hp, U, error), error),
                                          bb, error), error);
  GrdRef bin[] = { xt, hp, W, U, bb };
  GrdScanSlot seq = grd_test_scan_slot (v[0], 0, NULL), info = grd_test_scan_slot (v[1], 0, NULL);
  GrdScanSpec sp = grd_test_scan_spec (b, bin, 5, &h, 1);
  sp.sequences = &seq;
  sp.n_sequences = 1;
  sp.outputs_info = &info;
  sp.n_outputs_info = 1;
  sp.non_sequences = v + 2;
  sp.n_non_sequences = 3;
  sp.go_backwards = backwards;
  return grd_graph_scan (g, NULL, &sp, error);
}

static void
test_bptt_rnn (void)
{
  gint64 sx[] = { 5, 2, 3 }, sh[] = { 2, 4 }, sw[] = { 3, 4 }, su[] = { 4, 4 }, sb[] = { 4 };
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 3, sx, -1, 1, 1);
  g_autoptr (GrdTensor) h0 = grd_test_random (GRD_DTYPE_FLOAT64, 2, sh, -1, 1, 2);
  g_autoptr (GrdTensor) w = grd_test_random (GRD_DTYPE_FLOAT64, 2, sw, -0.7, 0.7, 3);
  g_autoptr (GrdTensor) u = grd_test_random (GRD_DTYPE_FLOAT64, 2, su, -0.7, 0.7, 4);
  g_autoptr (GrdTensor) bv = grd_test_random (GRD_DTYPE_FLOAT64, 1, sb, -0.5, 0.5, 5);
  GrdTensor *in[] = { x, h0, w, u, bv };
  grd_test_verify_grad_build (build_rnn, GINT_TO_POINTER (FALSE), in, 5, 7);
  grd_test_verify_grad_build (build_rnn, GINT_TO_POINTER (TRUE), in, 5, 8);
}

/* grad of grad: the gradient of sin(h_t) summed, with respect to input
 * k = data / 2 of the RNN above, is itself checked against finite
 * differences: its gradient goes through the gradient scan (a reverse loop
 * keeping only its carries' last values). */
static GrdRef
build_rnn_gradient (GrdGraph *g, const GrdRef *v, gpointer data, GError **error)
{
  gint k = GPOINTER_TO_INT (data) / 2;
  GrdRef h = build_rnn (g, v, GINT_TO_POINTER (GPOINTER_TO_INT (data) % 2), error);
  GrdRef cost = grd_op1 (g, "sum", grd_op1 (g, "sin", h, error), error);
  GrdRef gr[5];
  if (*error)
    return GRD_REF_NONE;
  grd_graph_grad (g, NULL, cost, v, 5, NULL, 0, gr, error);
  if (*error)
    return GRD_REF_NONE;
  return gr[k];
}

/* third order: the gradient of sum(sin(dcost/dW)) with respect to input k,
 * whose own gradient goes through a forward loop keeping only its carries'
 * last values (the gradient of the gradient scan) */
static GrdRef
build_rnn_gradient2 (GrdGraph *g, const GrdRef *v, gpointer data, GError **error)
{
  GrdRef gw = build_rnn_gradient (g, v, GINT_TO_POINTER (2 * 2 + GPOINTER_TO_INT (data) % 2), error);
  GrdRef cost = grd_op1 (g, "sum", grd_op1 (g, "sin", gw, error), error);
  GrdRef gr[5];
  if (*error)
    return GRD_REF_NONE;
  grd_graph_grad (g, NULL, cost, v, 5, NULL, 0, gr, error);
  if (*error)
    return GRD_REF_NONE;
  return gr[GPOINTER_TO_INT (data) / 2];
}

static GrdRef build_taps (GrdGraph *g, const GrdRef *v, gpointer data, GError **error);

/* grad of grad with taps of two steps (carries of two rows) */
static GrdRef
build_taps_gradient (GrdGraph *g, const GrdRef *v, gpointer data, GError **error)
{
  GrdRef y = build_taps (g, v, GINT_TO_POINTER (GPOINTER_TO_INT (data) % 2), error);
  GrdRef cost = grd_op1 (g, "sum", grd_op1 (g, "sin", y, error), error);
  GrdRef gr[2];
  if (*error)
    return GRD_REF_NONE;
  grd_graph_grad (g, NULL, cost, v, 2, NULL, 0, gr, error);
  if (*error)
    return GRD_REF_NONE;
  return gr[GPOINTER_TO_INT (data) / 2];
}

static void
test_grad_of_grad (void)
{
  gint64 sx[] = { 4, 2, 3 }, sh[] = { 2, 4 }, sw[] = { 3, 4 }, su[] = { 4, 4 }, sb[] = { 4 };
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 3, sx, -1, 1, 31);
  g_autoptr (GrdTensor) h0 = grd_test_random (GRD_DTYPE_FLOAT64, 2, sh, -1, 1, 32);
  g_autoptr (GrdTensor) w = grd_test_random (GRD_DTYPE_FLOAT64, 2, sw, -0.7, 0.7, 33);
  g_autoptr (GrdTensor) u = grd_test_random (GRD_DTYPE_FLOAT64, 2, su, -0.7, 0.7, 34);
  g_autoptr (GrdTensor) bv = grd_test_random (GRD_DTYPE_FLOAT64, 1, sb, -0.5, 0.5, 35);
  GrdTensor *in[] = { x, h0, w, u, bv };
  for (gint k = 0; k < 5; k++)
    for (gint backwards = 0; backwards < 2; backwards++)
      grd_test_verify_grad_build (build_rnn_gradient, GINT_TO_POINTER (2 * k + backwards), in, 5,
                                  40 + 2 * k + backwards);
  for (gint k = 0; k < 5; k++)
    grd_test_verify_grad_build (build_rnn_gradient2, GINT_TO_POINTER (2 * k + k % 2), in, 5,
                                50 + k);
  gint64 sxt[] = { 7 }, sy[] = { 2 };
  g_autoptr (GrdTensor) xt = grd_test_random (GRD_DTYPE_FLOAT64, 1, sxt, -1, 1, 61);
  g_autoptr (GrdTensor) y0 = grd_test_random (GRD_DTYPE_FLOAT64, 1, sy, -1, 1, 62);
  GrdTensor *tin[] = { xt, y0 };
  for (gint k = 0; k < 4; k++)
    grd_test_verify_grad_build (build_taps_gradient, GINT_TO_POINTER (k), tin, 2, 63 + k);
}

/* dropout inside the recurrence: h_t = tanh(x_t W + h_{t-1} U) * m_t / 0.7,
 * m_t a binomial mask drawn at every step, and a uniform noise added to the
 * input: the gradient uses the numbers each forward step drew (the check
 * restarts the streams before every evaluation, so each draws the same). */
static GrdRef
build_dropout_rnn (GrdGraph *g, const GrdRef *v, gpointer data, GError **error)
{
  g_autoptr (GrdGraph) b = grd_graph_new ();
  gint64 sx[] = { GRD_DIM_UNKNOWN, 3 }, sh[] = { GRD_DIM_UNKNOWN, 4 }, sw[] = { 3, 4 },
         su[] = { 4, 4 };
  GrdRef xt = grd_graph_variable (b, "x_t", GRD_DTYPE_FLOAT64, 2, sx, error);
  GrdRef hp = grd_graph_variable (b, "h_prev", GRD_DTYPE_FLOAT64, 2, sh, error);
  GrdRef W = grd_graph_variable (b, "W_in", GRD_DTYPE_FLOAT64, 2, sw, error);
  GrdRef U = grd_graph_variable (b, "U_in", GRD_DTYPE_FLOAT64, 2, su, error);
  GrdRef noise = grd_graph_random (b, "noise", GRD_RANDOM_UNIFORM, GRD_DTYPE_FLOAT64, 0, NULL, xt,
                                   grd_scalar (b, GRD_DTYPE_FLOAT64, -0.3, error),
                                   grd_scalar (b, GRD_DTYPE_FLOAT64, 0.3, error), 5, error);
  GrdRef pre = grd_op2 (b, "add", grd_op2 (b, "dot", grd_op2 (b, "add", xt, noise, error), W, error),
                        grd_op2 (b, "dot", hp, U, error), error);
  GrdRef mask = grd_graph_random (b, "mask", GRD_RANDOM_BINOMIAL, GRD_DTYPE_FLOAT64, 0, NULL, hp,
                                  grd_scalar (b, GRD_DTYPE_FLOAT64, 1, error),
                                  grd_scalar (b, GRD_DTYPE_FLOAT64, 0.7, error), 6, error);
  GrdRef h = grd_op2 (b, "div", grd_op2 (b, "mul", grd_op1 (b, "tanh", pre, error), mask, error),
                      grd_scalar (b, GRD_DTYPE_FLOAT64, 0.7, error), error);
  GrdRef bin[] = { xt, hp, W, U };
  GrdScanSlot seq = grd_test_scan_slot (v[0], 0, NULL), info = grd_test_scan_slot (v[1], 0, NULL);
  GrdScanSpec sp = grd_test_scan_spec (b, bin, 4, &h, 1);
  sp.sequences = &seq;
  sp.n_sequences = 1;
  sp.outputs_info = &info;
  sp.n_outputs_info = 1;
  sp.non_sequences = v + 2;
  sp.n_non_sequences = 2;
  sp.go_backwards = GPOINTER_TO_INT (data);
  return grd_graph_scan (g, NULL, &sp, error);
}

static void
test_bptt_random (void)
{
  gint64 sx[] = { 6, 2, 3 }, sh[] = { 2, 4 }, sw[] = { 3, 4 }, su[] = { 4, 4 };
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 3, sx, -1, 1, 21);
  g_autoptr (GrdTensor) h0 = grd_test_random (GRD_DTYPE_FLOAT64, 2, sh, -1, 1, 22);
  g_autoptr (GrdTensor) w = grd_test_random (GRD_DTYPE_FLOAT64, 2, sw, -0.7, 0.7, 23);
  g_autoptr (GrdTensor) u = grd_test_random (GRD_DTYPE_FLOAT64, 2, su, -0.7, 0.7, 24);
  GrdTensor *in[] = { x, h0, w, u };
  grd_test_verify_grad_build (build_dropout_rnn, GINT_TO_POINTER (FALSE), in, 4, 25);
  grd_test_verify_grad_build (build_dropout_rnn, GINT_TO_POINTER (TRUE), in, 4, 26);
}

/* taps on both sides: y_t = sin(y_{t-2}) * y_{t-1} + x_{t-1} * x_{t+1} */
static GrdRef
build_taps (GrdGraph *g, const GrdRef *v, gpointer data, GError **error)
{
  g_autoptr (GrdGraph) b = grd_graph_new ();
  GrdRef xm = grd_graph_variable (b, "x_m1", GRD_DTYPE_FLOAT64, 0, NULL, error);
  GrdRef xp = grd_graph_variable (b, "x_p1", GRD_DTYPE_FLOAT64, 0, NULL, error);
  GrdRef ym2 = grd_graph_variable (b, "y_m2", GRD_DTYPE_FLOAT64, 0, NULL, error);
  GrdRef ym1 = grd_graph_variable (b, "y_m1", GRD_DTYPE_FLOAT64, 0, NULL, error);
  GrdRef y = grd_op2 (b, "add", grd_op2 (b, "mul", grd_op1 (b, "sin", ym2, error), ym1, error),
                      grd_op2 (b, "mul", xm, xp, error), error);
  GrdRef bin[] = { xm, xp, ym2, ym1 };
  gint xt[] = { -1, 1 }, yt[] = { -2, -1 };
  GrdScanSlot seq = grd_test_scan_slot (v[0], 2, xt), info = grd_test_scan_slot (v[1], 2, yt);
  GrdScanSpec sp = grd_test_scan_spec (b, bin, 4, &y, 1);
  sp.sequences = &seq;
  sp.n_sequences = 1;
  sp.outputs_info = &info;
  sp.n_outputs_info = 1;
  sp.go_backwards = GPOINTER_TO_INT (data);
  return grd_graph_scan (g, NULL, &sp, error);
}

static void
test_bptt_taps (void)
{
  gint64 sx[] = { 7 }, sy[] = { 2 };
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 1, sx, -1, 1, 11);
  g_autoptr (GrdTensor) y0 = grd_test_random (GRD_DTYPE_FLOAT64, 1, sy, -1, 1, 12);
  GrdTensor *in[] = { x, y0 };
  grd_test_verify_grad_build (build_taps, GINT_TO_POINTER (FALSE), in, 2, 13);
  grd_test_verify_grad_build (build_taps, GINT_TO_POINTER (TRUE), in, 2, 14);
}

/* a shared variable read in the body (as a non-sequence) gets its gradient */
static void
test_grad_shared_and_sgd (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GrdGraph) b = grd_graph_new ();
  g_autoptr (GrdTensor) a_init = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 0.5);
  GrdRef a = grd_graph_shared (g, "a", a_init, &error);
  gint64 s1[] = { GRD_DIM_UNKNOWN };
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 1, s1, &error);
  GrdRef xt = grd_graph_variable (b, "x_t", GRD_DTYPE_FLOAT64, 0, NULL, &error);
  GrdRef ab = grd_graph_variable (b, "a", GRD_DTYPE_FLOAT64, 0, NULL, &error);
  GrdRef y = grd_op2 (b, "mul", ab, xt, &error);
  GrdRef bin[] = { xt, ab };
  GrdScanSlot seq = grd_test_scan_slot (x, 0, NULL);
  GrdScanSpec sp = grd_test_scan_spec (b, bin, 2, &y, 1);
  sp.sequences = &seq;
  sp.n_sequences = 1;
  sp.non_sequences = &a;
  sp.n_non_sequences = 1;
  GrdRef ys = grd_graph_scan (g, "s", &sp, &error);
  /* cost = sum((a x_t)^2): d/da = 2 a sum(x^2) */
  GrdRef cost = grd_op1 (g, "sum", grd_op1 (g, "square", ys, &error), &error);
  GrdRef ga;
  grd_graph_grad (g, "g", cost, &a, 1, NULL, 0, &ga, &error);
  g_assert_no_error (error);
  double xv[] = { 1, 2, 3 };
  g_autoptr (GrdTensor) x_v = grd_test_tensor (GRD_DTYPE_FLOAT64, 1, (gint64[]) { 3 }, xv);
  g_autoptr (GrdTensor) r = call1 (g, &x, 1, &x_v, ga);
  g_assert_cmpfloat_with_epsilon (grd_tensor_get (r, 0), 2 * 0.5 * 14, 1e-12);
}

/* type errors name the scan node and the body input */
static void
test_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GrdGraph) b = grd_graph_new ();
  gint64 s1[] = { 4 };
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 1, s1, &error);
  GrdRef h0 = grd_graph_variable (g, "h0", GRD_DTYPE_FLOAT32, 0, NULL, &error);
  GrdRef xt = grd_graph_variable (b, "x_t", GRD_DTYPE_FLOAT64, 0, NULL, &error);
  GrdRef hp = grd_graph_variable (b, "h_prev", GRD_DTYPE_FLOAT64, 0, NULL, &error);
  GrdRef h = grd_op2 (b, "add", xt, hp, &error);
  GrdRef bin[] = { xt, hp };
  GrdScanSlot seq = grd_test_scan_slot (x, 0, NULL), info = grd_test_scan_slot (h0, 0, NULL);
  GrdScanSpec sp = grd_test_scan_spec (b, bin, 2, &h, 1);
  sp.sequences = &seq;
  sp.n_sequences = 1;
  sp.outputs_info = &info;
  sp.n_outputs_info = 1;
  GrdRef r = grd_graph_scan (g, "rnn", &sp, &error);
  g_assert_true (grd_ref_is_none (r));
  grd_test_assert_error_names (error, GRD_ERROR_TYPE, "rnn", "initial value of output 0");
  g_clear_error (&error);
  sp.n_body_inputs = 1;
  r = grd_graph_scan (g, "rnn2", &sp, &error);
  grd_test_assert_error_names (error, GRD_ERROR_GRAPH, "rnn2", "call for 2");
}

/* a bad reference inside a body names the scan and the body node holding it
 * ("node 'rnn': the input 0 of body node 'pre' refers to 'nope'") */
static void
test_body_error_names_body_node (void)
{
  static const char text[] =
    "{\"format\": \"gradus-graph\", \"version\": 1, \"nodes\": ["
    " {\"id\": \"x\", \"kind\": \"variable\", \"dtype\": \"float64\", \"shape\": [3]},"
    " {\"id\": \"h0\", \"kind\": \"constant\", \"dtype\": \"float64\", \"value\": 0},"
    " {\"id\": \"rnn\", \"kind\": \"scan\", \"sequences\": [\"x\"], \"outputs_info\": [\"h0\"],"
    "  \"body\": {\"inputs\": [\"x_t\", \"h_prev\"], \"nodes\": ["
    "   {\"id\": \"x_t\", \"kind\": \"variable\", \"dtype\": \"float64\", \"shape\": []},"
    "   {\"id\": \"h_prev\", \"kind\": \"variable\", \"dtype\": \"float64\", \"shape\": []},"
    "   {\"id\": \"pre\", \"kind\": \"op\", \"op\": \"add\", \"inputs\": [\"nope\", \"h_prev\"]}],"
    "   \"outputs\": [\"pre\"]}}]}";
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdDocument) doc = grd_document_load_from_data (text, -1, NULL, &error);
  g_assert_null (doc);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "node 'rnn'"));
  g_assert_nonnull (strstr (error->message, "body node 'pre'"));
  g_assert_nonnull (strstr (error->message, "'nope'"));
}

/* the compiled body does not allocate per step beyond its outputs: a long
 * loop leaves no tensor alive */
static void
test_no_leak (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef v[5];
  gint64 sx[] = { 50, 2, 3 }, sh[] = { 2, 4 }, sw[] = { 3, 4 }, su[] = { 4, 4 }, sb[] = { 4 };
  gint64 *shapes[] = { sx, sh, sw, su, sb };
  gint ranks[] = { 3, 2, 2, 2, 1 };
  GrdTensor *vals[5];
  for (gint i = 0; i < 5; i++) {
    v[i] = grd_graph_variable (g, NULL, GRD_DTYPE_FLOAT64, ranks[i], shapes[i], &error);
    vals[i] = grd_test_random (GRD_DTYPE_FLOAT64, ranks[i], shapes[i], -0.5, 0.5, i);
  }
  GrdRef hs = build_rnn (g, v, GINT_TO_POINTER (FALSE), &error);
  GrdRef cost = grd_op1 (g, "sum", hs, &error);
  GrdRef grads[5];
  grd_graph_grad (g, NULL, cost, v, 5, NULL, 0, grads, &error);
  g_assert_no_error (error);
  g_autoptr (GrdFunction) f = grd_function_new (g, v, 5, grads, 5, NULL, 0, &error);
  g_assert_no_error (error);
  GrdTensor *out[5];
  g_assert_true (grd_function_call (f, vals, out, &error));
  for (gint i = 0; i < 5; i++)
    grd_tensor_unref (out[i]);
  gint64 live = grd_tensor_live_count ();
  for (gint k = 0; k < 5; k++) {
    g_assert_true (grd_function_call (f, vals, out, &error));
    for (gint i = 0; i < 5; i++)
      grd_tensor_unref (out[i]);
  }
  g_assert_cmpint (grd_tensor_live_count (), <=, live);
  for (gint i = 0; i < 5; i++)
    grd_tensor_unref (vals[i]);
}

/* zero steps: empty outputs, and gradients that are zeros (W) or come only
 * from outside the loop (h0) */
static void
test_zero_steps (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef v[5];
  gint64 sx[] = { GRD_DIM_UNKNOWN, 2, 3 }, sh[] = { 2, 4 }, sw[] = { 3, 4 }, su[] = { 4, 4 },
         sb[] = { 4 };
  gint64 *shapes[] = { sx, sh, sw, su, sb };
  gint ranks[] = { 3, 2, 2, 2, 1 };
  for (gint i = 0; i < 5; i++)
    v[i] = grd_graph_variable (g, NULL, GRD_DTYPE_FLOAT64, ranks[i], shapes[i], &error);
  GrdRef hs = build_rnn (g, v, GINT_TO_POINTER (FALSE), &error);
  GrdRef cost = grd_op2 (g, "add", grd_op1 (g, "sum", hs, &error),
                         grd_op1 (g, "sum", v[1], &error), &error);
  GrdRef grads[5];
  grd_graph_grad (g, NULL, cost, v, 5, NULL, 0, grads, &error);
  g_assert_no_error (error);
  g_autoptr (GrdFunction) f = grd_function_new (g, v, 5, grads, 5, NULL, 0, &error);
  g_assert_no_error (error);
  gint64 s0[] = { 0, 2, 3 };
  GrdTensor *vals[5];
  vals[0] = grd_tensor_new (GRD_DTYPE_FLOAT64, 3, s0);
  for (gint i = 1; i < 5; i++)
    vals[i] = grd_test_random (GRD_DTYPE_FLOAT64, ranks[i], shapes[i], -0.5, 0.5, i);
  GrdTensor *out[5];
  gboolean called = grd_function_call (f, vals, out, &error);
  g_assert_no_error (error);
  g_assert_true (called);
  g_assert_cmpint (out[0]->shape[0], ==, 0);
  for (gint64 k = 0; k < out[1]->size; k++)
    g_assert_cmpfloat (grd_tensor_get (out[1], k), ==, 1.0);
  for (gint i = 2; i < 5; i++)
    for (gint64 k = 0; k < out[i]->size; k++)
      g_assert_cmpfloat (grd_tensor_get (out[i], k), ==, 0.0);
  for (gint i = 0; i < 5; i++) {
    grd_tensor_unref (out[i]);
    grd_tensor_unref (vals[i]);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/scan/map", test_map);
  g_test_add_func ("/scan/taps", test_taps);
  g_test_add_func ("/scan/n-steps-and-backwards", test_n_steps_and_backwards);
  g_test_add_func ("/scan/nested", test_nested);
  g_test_add_func ("/scan/bptt-rnn", test_bptt_rnn);
  g_test_add_func ("/scan/bptt-taps", test_bptt_taps);
  g_test_add_func ("/scan/bptt-random", test_bptt_random);
  g_test_add_func ("/scan/grad-of-grad", test_grad_of_grad);
  g_test_add_func ("/scan/grad-shared", test_grad_shared_and_sgd);
  g_test_add_func ("/scan/errors", test_errors);
  g_test_add_func ("/scan/body-error-names-body-node", test_body_error_names_body_node);
  g_test_add_func ("/scan/no-leak", test_no_leak);
  g_test_add_func ("/scan/zero-steps", test_zero_steps);
  return g_test_run ();
}
