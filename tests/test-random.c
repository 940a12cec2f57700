/* test-random.c: random streams: Philox against its published known-answer
 * vectors, the distributions checked statistically (mean, variance, bounds),
 * independence across calls and across scan steps, reproducibility (same
 * seed, reset, reseed), params as nodes, and no gradient to the params. */
#include "grad-check.h"
#include "grd-internal.h"

#include <math.h>

static void
test_philox_kat (void)
{
  /* Random123's kat_vectors for philox4x32_10 */
  struct { guint32 ctr[4], key[2], want[4]; } v[] = {
    { { 0, 0, 0, 0 }, { 0, 0 }, { 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8 } },
    { { 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff }, { 0xffffffff, 0xffffffff },
      { 0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd } },
    { { 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344 }, { 0xa4093822, 0x299f31d0 },
      { 0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1 } },
  };
  for (guint i = 0; i < G_N_ELEMENTS (v); i++) {
    guint32 out[4];
    grd_philox4x32 (v[i].ctr, v[i].key, out);
    for (gint k = 0; k < 4; k++)
      g_assert_cmphex (out[k], ==, v[i].want[k]);
  }
}

typedef struct {
  GrdGraph    *g;
  GrdRef       r;
  GrdFunction *f;
} Draw;

static void
draw_init (Draw *d, GrdDistribution dist, GrdDType dt, gint64 n, double p0, double p1,
           guint64 seed)
{
  g_autoptr (GError) error = NULL;
  d->g = grd_graph_new ();
  GrdRef a = grd_scalar (d->g, GRD_DTYPE_FLOAT64, p0, &error);
  GrdRef b = grd_scalar (d->g, GRD_DTYPE_FLOAT64, p1, &error);
  d->r = grd_graph_random (d->g, "r", dist, dt, 1, &n, GRD_REF_NONE, a, b, seed, &error);
  g_assert_no_error (error);
  d->f = grd_function_new (d->g, NULL, 0, &d->r, 1, NULL, 0, &error);
  g_assert_no_error (error);
}

static GrdTensor *
draw_call (Draw *d)
{
  g_autoptr (GError) error = NULL;
  GrdTensor *out = NULL;
  g_assert_true (grd_function_call (d->f, NULL, &out, &error));
  g_assert_no_error (error);
  return out;
}

static void
draw_clear (Draw *d)
{
  grd_function_free (d->f);
  grd_graph_unref (d->g);
}

static void
moments (const GrdTensor *t, double *mean, double *var, double *lo, double *hi)
{
  double s = 0, s2 = 0;
  *lo = INFINITY, *hi = -INFINITY;
  for (gint64 i = 0; i < t->size; i++) {
    double v = grd_tensor_get (t, i);
    s += v;
    s2 += v * v;
    *lo = MIN (*lo, v);
    *hi = MAX (*hi, v);
  }
  *mean = s / t->size;
  *var = s2 / t->size - *mean * *mean;
}

static double
correlation (const GrdTensor *a, const GrdTensor *b, gint64 n, gint64 off_a, gint64 off_b)
{
  double sa = 0, sb = 0, sab = 0, saa = 0, sbb = 0;
  for (gint64 i = 0; i < n; i++) {
    double x = grd_tensor_get (a, off_a + i), y = grd_tensor_get (b, off_b + i);
    sa += x, sb += y, sab += x * y, saa += x * x, sbb += y * y;
  }
  double cov = sab / n - sa / n * sb / n;
  return cov / sqrt ((saa / n - sa / n * sa / n) * (sbb / n - sb / n * sb / n));
}

#define N 200000
/* 5 standard errors of a mean of N draws of variance v */
#define TOL(v) (5 * sqrt ((double) (v) / N))

static void
test_uniform (void)
{
  for (gint k = 0; k < 2; k++) {
    Draw d;
    GrdDType dt = k ? GRD_DTYPE_FLOAT32 : GRD_DTYPE_FLOAT64;
    draw_init (&d, GRD_RANDOM_UNIFORM, dt, N, 2, 5, 42);
    g_autoptr (GrdTensor) t = draw_call (&d);
    g_assert_cmpint (t->dtype, ==, dt);
    double mean, var, lo, hi;
    moments (t, &mean, &var, &lo, &hi);
    g_assert_cmpfloat (fabs (mean - 3.5), <, TOL (0.75));
    g_assert_cmpfloat (fabs (var - 0.75), <, 0.02);
    g_assert_cmpfloat (lo, >=, 2);
    g_assert_cmpfloat (hi, <, 5);
    g_assert_cmpfloat (lo, <, 2.001);
    g_assert_cmpfloat (hi, >, 4.999);
    draw_clear (&d);
  }
}

static void
test_normal (void)
{
  Draw d;
  draw_init (&d, GRD_RANDOM_NORMAL, GRD_DTYPE_FLOAT64, N, 1, 2, 7);
  g_autoptr (GrdTensor) t = draw_call (&d);
  double mean, var, lo, hi;
  moments (t, &mean, &var, &lo, &hi);
  g_assert_cmpfloat (fabs (mean - 1), <, TOL (4));
  g_assert_cmpfloat (fabs (var - 4), <, 0.1);
  /* tails: about 4.55% beyond two standard deviations */
  gint64 beyond = 0;
  for (gint64 i = 0; i < t->size; i++)
    beyond += fabs (grd_tensor_get (t, i) - 1) > 4;
  g_assert_cmpfloat (fabs ((double) beyond / N - 0.0455), <, 0.003);
  draw_clear (&d);
}

static void
test_binomial (void)
{
  struct { double n, p; } c[] = { { 1, 0.3 }, { 5, 0.4 } };
  for (guint k = 0; k < G_N_ELEMENTS (c); k++) {
    Draw d;
    draw_init (&d, GRD_RANDOM_BINOMIAL, GRD_DTYPE_FLOAT32, N, c[k].n, c[k].p, 3);
    g_autoptr (GrdTensor) t = draw_call (&d);
    double mean, var, lo, hi;
    moments (t, &mean, &var, &lo, &hi);
    double want_var = c[k].n * c[k].p * (1 - c[k].p);
    g_assert_cmpfloat (fabs (mean - c[k].n * c[k].p), <, TOL (want_var));
    g_assert_cmpfloat (fabs (var - want_var), <, 0.03);
    g_assert_cmpfloat (lo, ==, 0);
    g_assert_cmpfloat (hi, ==, c[k].n);
    for (gint64 i = 0; i < t->size; i++)
      g_assert_cmpfloat (grd_tensor_get (t, i), ==, round (grd_tensor_get (t, i)));
    draw_clear (&d);
  }
}

/* consecutive calls draw anew and uncorrelated; the same seed in a new graph,
 * a reset, give the same numbers again; reseeding changes them */
static void
test_calls_and_reproducibility (void)
{
  Draw a, b;
  draw_init (&a, GRD_RANDOM_UNIFORM, GRD_DTYPE_FLOAT64, 10000, 0, 1, 5);
  draw_init (&b, GRD_RANDOM_UNIFORM, GRD_DTYPE_FLOAT64, 10000, 0, 1, 5);
  g_autoptr (GrdTensor) a1 = draw_call (&a);
  g_autoptr (GrdTensor) a2 = draw_call (&a);
  g_assert_cmpfloat (fabs (correlation (a1, a2, 10000, 0, 0)), <, 0.05);
  /* neighbours within a draw too */
  g_assert_cmpfloat (fabs (correlation (a1, a1, 9999, 0, 1)), <, 0.05);
  g_autoptr (GrdTensor) b1 = draw_call (&b);
  g_autoptr (GrdTensor) b2 = draw_call (&b);
  grd_test_assert_close (b1, a1, 0, 0);
  grd_test_assert_close (b2, a2, 0, 0);
  grd_graph_random_reset (a.g);
  g_autoptr (GrdTensor) a1again = draw_call (&a);
  grd_test_assert_close (a1again, a1, 0, 0);
  grd_graph_random_reseed (b.g, 6);
  g_autoptr (GrdTensor) b_new = draw_call (&b);
  g_assert_cmpfloat (fabs (correlation (b_new, a1, 10000, 0, 0)), <, 0.05);
  /* the optimising compiler and the reference executor draw the same numbers */
  g_autoptr (GError) error = NULL;
  grd_graph_random_reset (a.g);
  g_autoptr (GrdFunction) ref = grd_function_new_with_passes (a.g, NULL, 0, &a.r, 1, NULL, 0, 0,
                                                               &error);
  GrdTensor *r1 = NULL;
  g_assert_true (grd_function_call (ref, NULL, &r1, &error));
  grd_test_assert_close (r1, a1, 0, 0);
  grd_tensor_unref (r1);
  draw_clear (&a);
  draw_clear (&b);
}

/* two nodes with one seed draw independent streams; two draws of one node in
 * one function are never merged */
static void
test_independent_nodes (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  gint64 n = 10000;
  GrdRef lo = grd_scalar (g, GRD_DTYPE_FLOAT64, 0, &error);
  GrdRef hi = grd_scalar (g, GRD_DTYPE_FLOAT64, 1, &error);
  GrdRef r1 = grd_graph_random (g, "r1", GRD_RANDOM_UNIFORM, GRD_DTYPE_FLOAT64, 1, &n,
                                GRD_REF_NONE, lo, hi, 9, &error);
  GrdRef r2 = grd_graph_random (g, "r2", GRD_RANDOM_UNIFORM, GRD_DTYPE_FLOAT64, 1, &n,
                                GRD_REF_NONE, lo, hi, 9, &error);
  GrdRef outs[] = { r1, r2 };
  g_autoptr (GrdFunction) f = grd_function_new (g, NULL, 0, outs, 2, NULL, 0, &error);
  g_assert_no_error (error);
  GrdTensor *res[2];
  g_assert_true (grd_function_call (f, NULL, res, &error));
  g_assert_cmpfloat (fabs (correlation (res[0], res[1], n, 0, 0)), <, 0.05);
  grd_tensor_unref (res[0]);
  grd_tensor_unref (res[1]);
}

/* a random node in a scan body draws anew at every step; the shape comes
 * from `like`, the probability is a node */
static void
test_in_scan (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GrdGraph) b = grd_graph_new ();
  gint64 sx[] = { GRD_DIM_UNKNOWN, GRD_DIM_UNKNOWN }, sr[] = { GRD_DIM_UNKNOWN };
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 2, sx, &error);
  GrdRef keep = grd_graph_variable (g, "keep", GRD_DTYPE_FLOAT64, 0, NULL, &error);
  GrdRef xt = grd_graph_variable (b, "x_t", GRD_DTYPE_FLOAT64, 1, sr, &error);
  GrdRef kb = grd_graph_variable (b, "keep_in", GRD_DTYPE_FLOAT64, 0, NULL, &error);
  GrdRef one = grd_scalar (b, GRD_DTYPE_FLOAT64, 1, &error);
  GrdRef mask = grd_graph_random (b, "mask", GRD_RANDOM_BINOMIAL, GRD_DTYPE_FLOAT64, 0, NULL, xt,
                                  one, kb, 1, &error);
  GrdRef y = grd_op2 (b, "mul", xt, mask, &error);
  GrdRef bin[] = { xt, kb };
  GrdScanSlot seq = { x, 0, { 0 } };
  GrdScanSpec sp = { 0 };
  sp.body = b;
  sp.body_inputs = bin;
  sp.n_body_inputs = 2;
  sp.body_outputs = &y;
  sp.n_body_outputs = 1;
  sp.sequences = &seq;
  sp.n_sequences = 1;
  sp.non_sequences = &keep;
  sp.n_non_sequences = 1;
  sp.n_steps = -1;
  sp.n_steps_ref = GRD_REF_NONE;
  GrdRef out = grd_graph_scan (g, "drop", &sp, &error);
  g_assert_no_error (error);
  GrdRef in[] = { x, keep };
  g_autoptr (GrdFunction) f = grd_function_new (g, in, 2, &out, 1, NULL, 0, &error);
  g_assert_no_error (error);
  gint64 s[] = { 20, 2000 };
  g_autoptr (GrdTensor) ones = grd_test_random (GRD_DTYPE_FLOAT64, 2, s, 1, 1, 0);
  for (gint64 i = 0; i < ones->size; i++)
    grd_tensor_set (ones, i, 1.0);
  g_autoptr (GrdTensor) kv = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 0.25);
  GrdTensor *args[] = { ones, kv };
  g_autoptr (GrdTensor) r = NULL;
  g_assert_true (grd_function_call (f, args, &r, &error));
  double mean, var, lo, hi;
  moments (r, &mean, &var, &lo, &hi);
  g_assert_cmpfloat (fabs (mean - 0.25), <, 5 * sqrt (0.1875 / 40000));
  for (gint step = 0; step + 1 < 20; step++)
    g_assert_cmpfloat (fabs (correlation (r, r, 2000, step * 2000, (step + 1) * 2000)), <, 0.1);
  /* its gradient reads the draws of the forward steps: d sum(x * mask) / dx
   * is the mask each step drew, which (x being ones) is the output itself */
  GrdRef cost = grd_op1 (g, "sum", out, &error);
  GrdRef gx;
  grd_graph_grad (g, "gx", cost, &x, 1, NULL, 0, &gx, &error);
  g_assert_no_error (error);
  GrdRef both[] = { out, gx };
  g_autoptr (GrdFunction) fg = grd_function_new (g, in, 2, both, 2, NULL, 0, &error);
  g_assert_no_error (error);
  GrdTensor *res[2];
  g_assert_true (grd_function_call (fg, args, res, &error));
  g_assert_true (grd_tensor_same_shape (res[0], res[1]));
  gint64 ones_seen = 0;
  for (gint64 i = 0; i < res[0]->size; i++) {
    g_assert_cmpfloat (grd_tensor_get (res[0], i), ==, grd_tensor_get (res[1], i));
    ones_seen += grd_tensor_get (res[1], i) == 1.0;
  }
  g_assert_cmpint (ones_seen, >, 0);
  g_assert_cmpint (ones_seen, <, res[0]->size);
  grd_tensor_unref (res[0]);
  grd_tensor_unref (res[1]);
}

/* no gradient flows to the params (disconnected, as in Theano) */
static void
test_no_grad (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef mu = grd_graph_variable (g, "mu", GRD_DTYPE_FLOAT64, 0, NULL, &error);
  gint64 n = 4;
  GrdRef r = grd_graph_random (g, "r", GRD_RANDOM_NORMAL, GRD_DTYPE_FLOAT64, 1, &n, GRD_REF_NONE,
                               mu, grd_scalar (g, GRD_DTYPE_FLOAT64, 1, &error), 0, &error);
  GrdRef cost = grd_op1 (g, "sum", grd_op2 (g, "mul", r, mu, &error), &error);
  GrdRef gm;
  grd_graph_grad (g, "g", cost, &mu, 1, NULL, 0, &gm, &error);
  g_assert_no_error (error);
  /* d/dmu sum(r * mu) with r constant = sum(r): the same draw */
  GrdRef outs[] = { gm, cost };
  g_autoptr (GrdFunction) f = grd_function_new (g, &mu, 1, outs, 2, NULL, 0, &error);
  g_autoptr (GrdTensor) m = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 1.0);
  GrdTensor *res[2];
  g_assert_true (grd_function_call (f, &m, res, &error));
  g_assert_cmpfloat_with_epsilon (grd_tensor_get (res[0], 0), grd_tensor_get (res[1], 0), 1e-12);
  grd_tensor_unref (res[0]);
  grd_tensor_unref (res[1]);
}

/* the logarithm and cosine of the normal draws (written without libm, so
 * that Vulkan computes the same bits) agree with libm to a few ulps */
static void
test_transforms (void)
{
  for (gint i = 1; i <= 200000; i++) {
    double u = i / 200001.0;
    double x = ldexp (u, -(i % 60));  /* down to 2^-60 */
    g_assert_cmpfloat (fabs (grd_random_log (x) - log (x)), <=, 4e-16 * fabs (log (x)) + 1e-300);
    g_assert_cmpfloat (fabs (grd_random_cos2pi (u) - cos (2 * G_PI * u)), <=, 2e-15);
  }
  g_assert_cmpfloat (grd_random_log (1.0), ==, 0.0);
  g_assert_cmpfloat (grd_random_cos2pi (0.0), ==, 1.0);
  g_assert_cmpfloat (grd_random_cos2pi (0.5), ==, -1.0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/random/philox-kat", test_philox_kat);
  g_test_add_func ("/random/uniform", test_uniform);
  g_test_add_func ("/random/normal", test_normal);
  g_test_add_func ("/random/transforms", test_transforms);
  g_test_add_func ("/random/binomial", test_binomial);
  g_test_add_func ("/random/calls-and-reproducibility", test_calls_and_reproducibility);
  g_test_add_func ("/random/independent-nodes", test_independent_nodes);
  g_test_add_func ("/random/in-scan", test_in_scan);
  g_test_add_func ("/random/no-grad", test_no_grad);
  return g_test_run ();
}
