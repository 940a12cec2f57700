/* test-vulkan.c: the Vulkan back end against the CPU back end, on lavapipe.
 *
 * Every graph is compiled twice, with GRD_BACKEND_CPU and GRD_BACKEND_VULKAN,
 * called with the same values, and the outputs compared. The meson test runs
 * with GRADUS_VULKAN_VALIDATION=1: the Khronos validation layer with
 * synchronisation validation is on, and any message it prints fails the test. */
#include "gradus.h"
#include "../grad-check.h"
#include "vulkan/grd-vk-private.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

static guint64 seed = 1;

static GrdTensor *
rnd (GrdDType dt, gint rank, const gint64 *shape, double lo, double hi)
{
  return grd_test_random (dt, rank, shape, lo, hi, seed++);
}

static void
tol_for (GrdDType dt, double *rtol, double *atol)
{
  if (dt == GRD_DTYPE_FLOAT32) {
    *rtol = 2e-5;
    *atol = 2e-6;
  } else if (dt == GRD_DTYPE_FLOAT64) {
    *rtol = 1e-11;
    *atol = 1e-13;
  } else {
    *rtol = 0;
    *atol = 0;
  }
}

static void
assert_no_validation_messages (void)
{
  g_assert_cmpint (grd_vk_validation_messages (), ==, 0);
}

/* Compiles on both back ends, calls `steps` times and compares every output
 * (and every shared variable after each call, through grd_function_sync). */
static void
parity_full (GrdGraph *g, const GrdRef *ins, gint n_in, GrdTensor *const *vals, const GrdRef *outs,
             gint n_out, const GrdUpdate *ups, gint n_up, gint steps, double loosen)
{
  g_autoptr (GError) error = NULL;
  GrdFunction *cpu = grd_function_new_on (g, ins, n_in, outs, n_out, ups, n_up, GRD_BACKEND_CPU,
                                          NULL, &error);
  g_assert_no_error (error);
  g_autofree char *warning = NULL;
  GrdFunction *vk = grd_function_new_on (g, ins, n_in, outs, n_out, ups, n_up,
                                         GRD_BACKEND_VULKAN, &warning, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (warning, ==, NULL);
  g_assert_cmpint (grd_function_backend (vk), ==, GRD_BACKEND_VULKAN);
  /* The CPU runs on copies of the shared values, the device on its own. */
  gint n = grd_graph_n_nodes (g);
  g_autoptr (GPtrArray) start = g_ptr_array_new ();
  for (gint i = 0; i < n; i++) {
    GrdRef r = { i, 0 };
    g_ptr_array_add (start, grd_graph_node_kind (g, i) == GRD_NODE_SHARED
                              ? grd_tensor_copy (grd_graph_get_value (g, r)) : NULL);
  }
  g_autoptr (GPtrArray) cpu_state = g_ptr_array_new ();
  g_ptr_array_set_size (cpu_state, n);
  for (gint s = 0; s < steps; s++) {
    GrdTensor *oc[n_out + 1], *ov[n_out + 1];
    /* The CPU steps from its own state; the graph then gets back the very
     * tensors the device last saw, so that it does not upload them again. */
    GrdTensor *vk_seen[n + 1];
    for (gint i = 0; i < n; i++) {
      vk_seen[i] = NULL;
      if (start->pdata[i]) {
        GrdRef r = { i, 0 };
        vk_seen[i] = grd_tensor_ref (grd_graph_get_value (g, r));
        GrdTensor *t = s == 0 ? start->pdata[i] : cpu_state->pdata[i];
        g_assert_true (grd_graph_set_value (g, r, t, &error));
      }
    }
    g_assert_true (grd_function_call (cpu, vals, oc, &error));
    g_assert_no_error (error);
    for (gint i = 0; i < n; i++)
      if (start->pdata[i]) {
        GrdRef r = { i, 0 };
        if (s > 0)
          grd_tensor_unref (cpu_state->pdata[i]);
        cpu_state->pdata[i] = grd_tensor_ref (grd_graph_get_value (g, r));
        g_assert_true (grd_graph_set_value (g, r, vk_seen[i], &error));
        grd_tensor_unref (vk_seen[i]);
      }
    g_assert_true (grd_function_call (vk, vals, ov, &error));
    g_assert_no_error (error);
    for (gint o = 0; o < n_out; o++) {
      g_test_message ("step %d output %d", s, o);
      double rtol, atol;
      tol_for (oc[o]->dtype, &rtol, &atol);
      grd_test_assert_close (ov[o], oc[o], rtol * loosen, atol * loosen);
      grd_tensor_unref (oc[o]);
      grd_tensor_unref (ov[o]);
    }
    if (n_up > 0) {
      g_assert_true (grd_function_sync (vk, &error));
      for (gint i = 0; i < n; i++)
        if (start->pdata[i]) {
          GrdRef r = { i, 0 };
          double rtol, atol;
          GrdTensor *want = cpu_state->pdata[i];
          tol_for (want->dtype, &rtol, &atol);
          grd_test_assert_close (grd_graph_get_value (g, r), want, rtol * loosen * (s + 1),
                                 atol * loosen * (s + 1));
        }
    }
  }
  for (gint i = 0; i < n; i++) {
    if (start->pdata[i])
      grd_tensor_unref (start->pdata[i]);
    if (steps > 0 && cpu_state->pdata[i])
      grd_tensor_unref (cpu_state->pdata[i]);
  }
  grd_function_free (cpu);
  grd_function_free (vk);
  assert_no_validation_messages ();
}

/* One op on variables fed with `vals`, compared on both back ends. */
static void
op_parity (const char *op, const GrdAttrs *attrs, GrdTensor *const *vals, gint n, double loosen)
{
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  GrdRef vars[8];
  for (gint i = 0; i < n; i++) {
    g_autofree char *id = g_strdup_printf ("x%d", i);
    gint64 dims[GRD_MAX_RANK];
    for (gint d = 0; d < vals[i]->rank; d++)
      dims[d] = GRD_DIM_UNKNOWN;
    vars[i] = grd_graph_variable (g, id, vals[i]->dtype, vals[i]->rank, dims, &error);
  }
  GrdRef out = grd_graph_op (g, "out", op, vars, n, attrs, &error);
  g_assert_no_error (error);
  g_autoptr (GString) what = g_string_new (op);
  for (gint i = 0; i < n; i++) {
    g_autofree char *d = grd_tensor_describe (vals[i]);
    g_string_append_printf (what, " %s", d);
  }
  g_test_message ("%s", what->str);
  parity_full (g, vars, n, vals, &out, 1, NULL, 0, 1, loosen);
}

/* ------------------------------------------------------------ tests */

static void
test_devices (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = grd_vulkan_describe_devices (&error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (text, "[selected]"));
}

static const gint64 shapes[][4] = {
  /* rank, dims */
  { 1, 0 }, { 0 }, { 1, 1 }, { 1, 7 }, { 2, 5, 13 }, { 3, 3, 1, 4 }, { 1, 1000 },
};

static void
test_unary (void)
{
  static const struct { const char *op; double lo, hi; } ops[] = {
    { "neg", -3, 3 }, { "abs", -3, 3 }, { "sign", -3, 3 }, { "square", -3, 3 },
    { "sqrt", 0, 9 }, { "reciprocal", 0.5, 4 }, { "exp", -10, 10 }, { "log", 1e-3, 100 },
    { "log1p", -0.9, 5 }, { "expm1", -3, 3 }, { "sin", -20, 20 }, { "cos", -20, 20 },
    { "tanh", -10, 10 }, { "sigmoid", -30, 30 }, { "softplus", -30, 30 }, { "relu", -3, 3 },
    { "erf", -5, 5 }, { "floor", -5, 5 }, { "ceil", -5, 5 }, { "round", -5, 5 },
  };
  static const GrdDType dts[] = { GRD_DTYPE_FLOAT32, GRD_DTYPE_FLOAT64 };
  for (gsize o = 0; o < G_N_ELEMENTS (ops); o++)
    for (gsize t = 0; t < G_N_ELEMENTS (dts); t++)
      for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++) {
        g_autoptr (GrdTensor) x = rnd (dts[t], shapes[s][0], &shapes[s][1], ops[o].lo, ops[o].hi);
        if (!strcmp (ops[o].op, "round") && x->size > 3) {
          grd_tensor_set (x, 0, 2.5);
          grd_tensor_set (x, 1, -0.5);
          grd_tensor_set (x, 2, 1.5);
        }
        op_parity (ops[o].op, NULL, &x, 1, 1);
      }
  /* tiny and special arguments */
  static const double special[] = { 1e-30, -1e-30, 1e-8, -1e-8, 0, 700, -700, 1e6 };
  static const char *const careful[] = { "expm1", "log1p", "tanh", "sigmoid", "softplus",
                                         "erf", "sin", "cos", "exp" };
  gint64 ns = G_N_ELEMENTS (special);
  for (gsize t = 0; t < G_N_ELEMENTS (dts); t++)
    for (gsize c = 0; c < G_N_ELEMENTS (careful); c++) {
      g_autoptr (GrdTensor) x = grd_test_tensor (dts[t], 1, &ns, special);
      op_parity (careful[c], NULL, &x, 1, dts[t] == GRD_DTYPE_FLOAT64 ? 10 : 1);
    }
  /* integers */
  static const char *const int_ops[] = { "neg", "abs", "sign", "square" };
  static const GrdDType its[] = { GRD_DTYPE_INT32, GRD_DTYPE_INT64 };
  for (gsize o = 0; o < G_N_ELEMENTS (int_ops); o++)
    for (gsize t = 0; t < G_N_ELEMENTS (its); t++) {
      gint64 shape = 33;
      g_autoptr (GrdTensor) x = rnd (its[t], 1, &shape, -100, 100);
      op_parity (int_ops[o], NULL, &x, 1, 1);
    }
  gint64 shape = 9;
  g_autoptr (GrdTensor) b = rnd (GRD_DTYPE_BOOL, 1, &shape, 0, 2);
  op_parity ("not", NULL, &b, 1, 1);
}

static const gint64 pairs[][2][4] = {
  { { 2, 3, 4 }, { 2, 3, 4 } },
  { { 2, 3, 4 }, { 1, 4 } },
  { { 3, 2, 1, 5 }, { 2, 3, 1 } },
  { { 0 }, { 2, 4, 3 } },
  { { 2, 0, 3 }, { 1, 3 } },
  { { 1, 1 }, { 2, 1, 1 } },
  { { 1, 257 }, { 2, 3, 257 } },
};

static void
test_binary (void)
{
  static const char *const ops[] = { "add", "sub", "mul", "div", "maximum", "minimum", "eq",
                                     "neq", "lt", "le", "gt", "ge" };
  static const GrdDType combos[][2] = {
    { GRD_DTYPE_FLOAT32, GRD_DTYPE_FLOAT32 }, { GRD_DTYPE_FLOAT64, GRD_DTYPE_FLOAT64 },
    { GRD_DTYPE_INT32, GRD_DTYPE_FLOAT32 }, { GRD_DTYPE_INT64, GRD_DTYPE_INT32 },
    { GRD_DTYPE_INT32, GRD_DTYPE_INT32 },
  };
  for (gsize o = 0; o < G_N_ELEMENTS (ops); o++)
    for (gsize c = 0; c < G_N_ELEMENTS (combos); c++)
      for (gsize p = 0; p < G_N_ELEMENTS (pairs); p++) {
        if (!strcmp (ops[o], "div") && !grd_dtype_is_float (combos[c][1]))
          continue; /* division by zero of integers */
        GrdTensor *v[2] = {
          rnd (combos[c][0], pairs[p][0][0], &pairs[p][0][1], -4, 4),
          rnd (combos[c][1], pairs[p][1][0], &pairs[p][1][1], 0.5, 4),
        };
        if (!strcmp (ops[o], "eq") || !strcmp (ops[o], "neq"))
          grd_tensor_unref (v[1]), v[1] = rnd (combos[c][1], pairs[p][1][0], &pairs[p][1][1], -2,
                                                2);
        op_parity (ops[o], NULL, v, 2, 1);
        grd_tensor_unref (v[0]);
        grd_tensor_unref (v[1]);
      }
  /* pow: positive bases, and negative bases with integer exponents */
  gint64 n = 40;
  for (gint t = 0; t < 2; t++) {
    GrdDType dt = t ? GRD_DTYPE_FLOAT64 : GRD_DTYPE_FLOAT32;
    GrdTensor *v[2] = { rnd (dt, 1, &n, 0.1, 3), rnd (dt, 1, &n, -3, 3) };
    op_parity ("pow", NULL, v, 2, 10);
    grd_tensor_unref (v[0]);
    grd_tensor_unref (v[1]);
    GrdTensor *w[2] = { rnd (dt, 1, &n, -3, 3), rnd (GRD_DTYPE_INT32, 1, &n, -4, 5) };
    op_parity ("pow", NULL, w, 2, 10);
    grd_tensor_unref (w[0]);
    grd_tensor_unref (w[1]);
  }
  GrdTensor *ip[2] = { rnd (GRD_DTYPE_INT64, 1, &n, -5, 5), rnd (GRD_DTYPE_INT64, 1, &n, 0, 6) };
  op_parity ("pow", NULL, ip, 2, 1);
  grd_tensor_unref (ip[0]);
  grd_tensor_unref (ip[1]);
  /* logic */
  GrdTensor *bb[2] = { rnd (GRD_DTYPE_BOOL, 1, &n, 0, 2), rnd (GRD_DTYPE_BOOL, 1, &n, 0, 2) };
  op_parity ("and", NULL, bb, 2, 1);
  op_parity ("or", NULL, bb, 2, 1);
  op_parity ("add", NULL, bb, 2, 1);
  grd_tensor_unref (bb[0]);
  grd_tensor_unref (bb[1]);
  /* NaN and infinities through maximum and comparisons */
  static const double a[] = { NAN, 1, INFINITY, -INFINITY, 0, NAN };
  static const double b[] = { 1, NAN, 2, 3, -0.0, NAN };
  gint64 six = 6;
  GrdTensor *nv[2] = { grd_test_tensor (GRD_DTYPE_FLOAT32, 1, &six, a),
                       grd_test_tensor (GRD_DTYPE_FLOAT32, 1, &six, b) };
  static const char *const nan_ops[] = { "maximum", "minimum", "eq", "neq", "lt", "add" };
  for (gsize o = 0; o < G_N_ELEMENTS (nan_ops); o++)
    op_parity (nan_ops[o], NULL, nv, 2, 1);
  grd_tensor_unref (nv[0]);
  grd_tensor_unref (nv[1]);
}

static void
test_ternary_and_cast (void)
{
  gint64 s3[] = { 3, 4, 5 }, s1[] = { 5 }, s2[] = { 4, 1 };
  GrdTensor *v[3] = { rnd (GRD_DTYPE_BOOL, 2, s2, 0, 2), rnd (GRD_DTYPE_FLOAT32, 3, s3, -3, 3),
                      rnd (GRD_DTYPE_FLOAT64, 1, s1, -3, 3) };
  op_parity ("switch", NULL, v, 3, 1);
  GrdTensor *c[3] = { v[1], rnd (GRD_DTYPE_FLOAT32, 1, s1, -1, 0), rnd (GRD_DTYPE_FLOAT32, 2, s2, 0, 1) };
  op_parity ("clip", NULL, c, 3, 1);
  for (gint i = 0; i < 3; i++)
    grd_tensor_unref (v[i]);
  grd_tensor_unref (c[1]);
  grd_tensor_unref (c[2]);
  for (gint from = 0; from < GRD_N_DTYPES; from++)
    for (gint to = 0; to < GRD_N_DTYPES; to++) {
      g_autoptr (GrdTensor) x = rnd (from, 3, s3, -50, 50);
      GrdAttrs a;
      grd_attrs_init (&a);
      a.has_dtype = TRUE;
      a.dtype = to;
      op_parity ("cast", &a, &x, 1, 1);
    }
}

static void
test_reduce (void)
{
  static const char *const ops[] = { "sum", "mean", "prod", "max", "min", "argmax", "argmin" };
  static const GrdDType dts[] = { GRD_DTYPE_FLOAT32, GRD_DTYPE_FLOAT64, GRD_DTYPE_INT32,
                                  GRD_DTYPE_BOOL };
  static const gint64 sh[][4] = { { 3, 4, 5, 6 }, { 3, 1, 7, 1 }, { 1, 300 }, { 2, 0, 3 } };
  static const gint axes[][3] = { { -1 }, { 1, 0 }, { 1, -1 }, { 2, 0, 2 } }; /* n, axes */
  for (gsize o = 0; o < G_N_ELEMENTS (ops); o++)
    for (gsize t = 0; t < G_N_ELEMENTS (dts); t++)
      for (gsize s = 0; s < G_N_ELEMENTS (sh); s++)
        for (gsize a = 0; a < G_N_ELEMENTS (axes); a++)
          for (gint keep = 0; keep < 2; keep++) {
            gboolean arg = g_str_has_prefix (ops[o], "arg");
            if (arg && axes[a][0] > 1)
              continue;
            if (dts[t] == GRD_DTYPE_BOOL && strcmp (ops[o], "sum") && strcmp (ops[o], "max"))
              continue;
            GrdAttrs at;
            grd_attrs_init (&at);
            at.keepdims = keep;
            if (axes[a][0] >= 0) {
              at.has_axis = TRUE;
              at.n_axes = axes[a][0];
              gboolean fits = TRUE;
              for (gint k = 0; k < axes[a][0]; k++) {
                at.axes[k] = axes[a][k + 1];
                fits = fits && at.axes[k] < sh[s][0] && at.axes[k] >= -sh[s][0];
              }
              if (!fits)
                continue;
            }
            g_autoptr (GrdTensor) x = rnd (dts[t], sh[s][0], &sh[s][1],
                                           !strcmp (ops[o], "prod") ? 0.5 : -5,
                                           !strcmp (ops[o], "prod") ? 1.5 : 5);
            /* an empty max has no identity: both back ends must refuse it */
            if (x->size == 0 && (!strcmp (ops[o], "max") || !strcmp (ops[o], "min") || arg))
              continue;
            op_parity (ops[o], &at, &x, 1, 5);
          }
}

static void
test_dot (void)
{
  static const gint64 sh[][2][3] = {
    { { 1, 7 }, { 1, 7 } },       { { 2, 37, 53 }, { 2, 53, 29 } }, { { 2, 4, 6 }, { 1, 6 } },
    { { 1, 6 }, { 2, 6, 5 } },    { { 0 }, { 2, 3, 4 } },           { { 2, 130, 70 }, { 2, 70, 129 } },
    { { 2, 0, 4 }, { 2, 4, 3 } }, { { 2, 3, 0 }, { 2, 0, 5 } },
  };
  static const GrdDType dts[] = { GRD_DTYPE_FLOAT32, GRD_DTYPE_FLOAT64, GRD_DTYPE_INT32 };
  for (gsize s = 0; s < G_N_ELEMENTS (sh); s++)
    for (gsize t = 0; t < G_N_ELEMENTS (dts); t++) {
      GrdTensor *v[2] = { rnd (dts[t], sh[s][0][0], &sh[s][0][1], -3, 3),
                          rnd (dts[t], sh[s][1][0], &sh[s][1][1], -3, 3) };
      op_parity ("dot", NULL, v, 2, 10);
      if (v[0]->size * v[1]->size < 100000)
        op_parity ("outer", NULL, v, 2, 1);
      grd_tensor_unref (v[0]);
      grd_tensor_unref (v[1]);
    }
  /* the transposed products the gradients use */
  gint64 a[] = { 9, 5 }, b[] = { 7, 5 }, c[] = { 9, 7 };
  GrdTensor *nt[2] = { rnd (GRD_DTYPE_FLOAT32, 2, a, -1, 1), rnd (GRD_DTYPE_FLOAT32, 2, b, -1, 1) };
  op_parity ("_dot_nt", NULL, nt, 2, 10);
  GrdTensor *tn[2] = { nt[0], rnd (GRD_DTYPE_FLOAT32, 2, c, -1, 1) };
  op_parity ("_dot_tn", NULL, tn, 2, 10);
  grd_tensor_unref (nt[0]);
  grd_tensor_unref (nt[1]);
  grd_tensor_unref (tn[1]);
  /* a big float32 product takes the 8x8 tiles */
  gint64 m[] = { 515, 131 }, k[] = { 131, 600 };
  GrdTensor *big[2] = { rnd (GRD_DTYPE_FLOAT32, 2, m, -1, 1), rnd (GRD_DTYPE_FLOAT32, 2, k, -1, 1) };
  op_parity ("dot", NULL, big, 2, 10);
  grd_tensor_unref (big[0]);
  grd_tensor_unref (big[1]);
}

static void
test_neural (void)
{
  gint64 s2[] = { 6, 10 }, s3[] = { 2, 3, 4 };
  static const GrdDType dts[] = { GRD_DTYPE_FLOAT32, GRD_DTYPE_FLOAT64 };
  static const char *const ops[] = { "softmax", "log_softmax", "logsumexp" };
  for (gsize t = 0; t < G_N_ELEMENTS (dts); t++) {
    g_autoptr (GrdTensor) x = rnd (dts[t], 2, s2, -20, 20);
    g_autoptr (GrdTensor) y = rnd (dts[t], 3, s3, -5, 5);
    for (gsize o = 0; o < G_N_ELEMENTS (ops); o++) {
      op_parity (ops[o], NULL, &x, 1, 5);
      op_parity (ops[o], NULL, &y, 1, 5);
      GrdAttrs a = grd_attrs_axis (1, FALSE);
      op_parity (ops[o], &a, &y, 1, 5);
    }
    g_autoptr (GrdTensor) p = rnd (dts[t], 2, s2, 0.01, 1);
    g_autoptr (GrdTensor) labels = rnd (GRD_DTYPE_INT32, 1, s2, 0, 10);
    GrdTensor *v[2] = { p, labels };
    op_parity ("categorical_crossentropy", NULL, v, 2, 5);
    g_autoptr (GrdTensor) tp = rnd (dts[t], 2, s2, 0, 1);
    GrdTensor *w[2] = { p, tp };
    op_parity ("categorical_crossentropy", NULL, w, 2, 5);
    op_parity ("binary_crossentropy", NULL, w, 2, 5);
  }
  gint64 n = 7;
  g_autoptr (GrdTensor) idx = rnd (GRD_DTYPE_INT64, 1, &n, 0, 5);
  GrdAttrs a;
  grd_attrs_init (&a);
  a.depth = 5;
  op_parity ("one_hot", &a, &idx, 1, 1);
}

static void
test_shape (void)
{
  gint64 s3[] = { 3, 4, 5 };
  static const GrdDType dts[] = { GRD_DTYPE_FLOAT32, GRD_DTYPE_INT64, GRD_DTYPE_BOOL };
  for (gsize t = 0; t < G_N_ELEMENTS (dts); t++) {
    g_autoptr (GrdTensor) x = rnd (dts[t], 3, s3, -5, 5);
    GrdAttrs a;
    grd_attrs_init (&a);
    op_parity ("transpose", &a, &x, 1, 1);
    a.n_perm = 3;
    a.perm[0] = 1, a.perm[1] = 2, a.perm[2] = 0;
    op_parity ("transpose", &a, &x, 1, 1);
    grd_attrs_init (&a);
    a.n_shape = 2;
    a.shape[0] = -1, a.shape[1] = 10;
    op_parity ("reshape", &a, &x, 1, 1);
    grd_attrs_init (&a);
    a.n_pattern = 4;
    a.pattern[0] = 2, a.pattern[1] = -1, a.pattern[2] = 0, a.pattern[3] = 1;
    op_parity ("dimshuffle", &a, &x, 1, 1);
    a.pattern[0] = 0, a.pattern[1] = -1, a.pattern[2] = 1, a.pattern[3] = 2;
    op_parity ("dimshuffle", &a, &x, 1, 1);
    grd_attrs_init (&a);
    a.ndim = 2;
    op_parity ("flatten", &a, &x, 1, 1);
    /* slices, negative steps and bounds included */
    grd_attrs_init (&a);
    a.n_slice = 3;
    gint64 begin[] = { 1, GRD_SLICE_NONE, -1 }, end[] = { GRD_SLICE_NONE, 0, GRD_SLICE_NONE };
    gint64 step[] = { GRD_SLICE_NONE, -1, -2 };
    memcpy (a.begin, begin, sizeof begin);
    memcpy (a.end, end, sizeof end);
    memcpy (a.step, step, sizeof step);
    op_parity ("slice", &a, &x, 1, 1);
    a.n_slice = 1;
    a.begin[0] = 5, a.end[0] = 9, a.step[0] = GRD_SLICE_NONE;
    op_parity ("slice", &a, &x, 1, 1);
    /* concatenate and stack */
    gint64 s3b[] = { 3, 2, 5 };
    GrdTensor *v[3] = { x, rnd (dts[t], 3, s3b, -5, 5), x };
    a = grd_attrs_axis (1, FALSE);
    op_parity ("concatenate", &a, v, 3, 1);
    GrdTensor *w[2] = { x, x };
    a = grd_attrs_axis (-1, FALSE);
    op_parity ("stack", &a, w, 2, 1);
    a = grd_attrs_axis (0, FALSE);
    op_parity ("stack", &a, w, 2, 1);
    grd_tensor_unref (v[1]);
    /* take */
    gint64 ni[] = { 2, 3 };
    static const double idx[] = { 0, 2, -1, 1, 1, -3 };
    GrdTensor *tk[2] = { x, grd_test_tensor (GRD_DTYPE_INT32, 2, ni, idx) };
    op_parity ("take", NULL, tk, 2, 1);
    a = grd_attrs_axis (1, FALSE);
    op_parity ("take", &a, tk, 2, 1);
    grd_tensor_unref (tk[1]);
  }
}

/* Past 65535 workgroups of 256 threads, and long reductions. */
static void
test_large (void)
{
  gint64 n = 65535LL * 256 + 1001;
  GrdTensor *v[2] = { rnd (GRD_DTYPE_FLOAT32, 1, &n, -1, 1), rnd (GRD_DTYPE_FLOAT32, 1, &n, -1, 1) };
  op_parity ("mul", NULL, v, 2, 1);
  GrdAttrs a;
  grd_attrs_init (&a);
  op_parity ("sum", &a, v, 1, 50);
  op_parity ("max", &a, v, 1, 1);
  op_parity ("argmin", &a, v, 1, 1);
  grd_tensor_unref (v[0]);
  grd_tensor_unref (v[1]);
  gint64 s2[] = { 3, 70000 };
  g_autoptr (GrdTensor) m = rnd (GRD_DTYPE_FLOAT64, 2, s2, -1, 1);
  a = grd_attrs_axis (1, FALSE);
  op_parity ("sum", &a, &m, 1, 1);
  op_parity ("mean", &a, &m, 1, 1);
  op_parity ("softmax", NULL, &m, 1, 5);
}

/* The CPU benchmark's chain as one fused kernel, and an intermediate read twice. */
static void
test_fusion (void)
{
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) e = NULL;
  gint64 dims[] = { GRD_DIM_UNKNOWN };
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT32, 1, dims, &e);
  GrdRef y = grd_graph_variable (g, "y", GRD_DTYPE_FLOAT32, 1, dims, &e);
  GrdRef t = grd_op1 (g, "tanh", grd_op2 (g, "add", grd_op2 (g, "mul", x, y, &e),
                                          grd_scalar (g, GRD_DTYPE_FLOAT32, 3, &e), &e), &e);
  GrdRef z = grd_op2 (g, "add", grd_op2 (g, "mul", t, grd_op1 (g, "exp", grd_op1 (g, "neg", x, &e),
                                                               &e), &e),
                      grd_op1 (g, "sqrt", grd_op1 (g, "abs", y, &e), &e), &e);
  GrdRef twice = grd_op2 (g, "mul", t, t, &e);
  GrdRef s = grd_op1 (g, "sum", twice, &e);
  g_assert_no_error (e);
  gint64 n = 100003;
  GrdTensor *v[2] = { rnd (GRD_DTYPE_FLOAT32, 1, &n, -2, 2), rnd (GRD_DTYPE_FLOAT32, 1, &n, -2, 2) };
  GrdRef ins[] = { x, y }, outs[] = { z, s, t };
  parity_full (g, ins, 2, v, outs, 3, NULL, 0, 2, 20);
  grd_tensor_unref (v[0]);
  grd_tensor_unref (v[1]);

  /* more leaves than a kernel binds: the chain runs unfused, still right */
  g_autoptr (GrdGraph) g2 = grd_graph_new ();
  GrdRef xs[20], acc = GRD_REF_NONE;
  GrdTensor *vals[20];
  gint64 m = 33;
  for (gint i = 0; i < 20; i++) {
    g_autofree char *id = g_strdup_printf ("x%d", i);
    xs[i] = grd_graph_variable (g2, id, GRD_DTYPE_FLOAT32, 1, dims, &e);
    vals[i] = rnd (GRD_DTYPE_FLOAT32, 1, &m, -1, 1);
    acc = i == 0 ? xs[0] : grd_op2 (g2, "add", acc, grd_op1 (g2, "sin", xs[i], &e), &e);
  }
  g_assert_no_error (e);
  parity_full (g2, xs, 20, vals, &acc, 1, NULL, 0, 1, 10);
  for (gint i = 0; i < 20; i++)
    grd_tensor_unref (vals[i]);
}

/* One function called with changing shapes: each call matches the CPU. */
static void
test_shapes_change (void)
{
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) e = NULL;
  gint64 d[] = { GRD_DIM_UNKNOWN, GRD_DIM_UNKNOWN };
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT32, 2, d, &e);
  GrdRef y = grd_op1 (g, "softmax", grd_op2 (g, "mul", x, x, &e), &e);
  GrdRef s = grd_op1 (g, "sum", y, &e);
  GrdRef outs[] = { y, s };
  GrdFunction *cpu = grd_function_new (g, &x, 1, outs, 2, NULL, 0, &e);
  GrdFunction *vk = grd_function_new_on (g, &x, 1, outs, 2, NULL, 0, GRD_BACKEND_VULKAN, NULL, &e);
  g_assert_no_error (e);
  static const gint64 sizes[][2] = { { 4, 300 }, { 7, 5 }, { 7, 5 }, { 4, 300 }, { 1, 1 } };
  for (gsize k = 0; k < G_N_ELEMENTS (sizes); k++) {
    g_autoptr (GrdTensor) v = rnd (GRD_DTYPE_FLOAT32, 2, sizes[k], -2, 2);
    GrdTensor *oc[2], *ov[2];
    g_assert_true (grd_function_call (cpu, &v, oc, &e));
    g_assert_true (grd_function_call (vk, &v, ov, &e));
    g_assert_no_error (e);
    for (gint o = 0; o < 2; o++) {
      grd_test_assert_close (ov[o], oc[o], 1e-4, 1e-5);
      grd_tensor_unref (oc[o]);
      grd_tensor_unref (ov[o]);
    }
  }
  grd_function_free (cpu);
  grd_function_free (vk);
  assert_no_validation_messages ();
}

/* Softmax regression trained with gradients: outputs and shared variables
 * match the CPU call for call; then a set_value is seen by the device. */
static void
test_updates (void)
{
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) e = NULL;
  gint64 xd[] = { GRD_DIM_UNKNOWN, 4 }, yd[] = { GRD_DIM_UNKNOWN }, wd[] = { 4, 3 }, bd[] = { 3 };
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 2, xd, &e);
  GrdRef y = grd_graph_variable (g, "y", GRD_DTYPE_INT32, 1, yd, &e);
  g_autoptr (GrdTensor) w0 = rnd (GRD_DTYPE_FLOAT64, 2, wd, -0.5, 0.5);
  g_autoptr (GrdTensor) b0 = rnd (GRD_DTYPE_FLOAT64, 1, bd, -0.1, 0.1);
  GrdRef w = grd_graph_shared (g, "w", w0, &e);
  GrdRef b = grd_graph_shared (g, "b", b0, &e);
  GrdRef p = grd_op1 (g, "softmax", grd_op2 (g, "add", grd_op2 (g, "dot", x, w, &e), b, &e), &e);
  GrdRef cost = grd_op1 (g, "mean", grd_op2 (g, "categorical_crossentropy", p, y, &e), &e);
  GrdRef wrt[] = { w, b }, grads[2];
  grd_graph_grad (g, "g", cost, wrt, 2, NULL, 0, grads, &e);
  g_assert_no_error (e);
  GrdRef lr = grd_scalar (g, GRD_DTYPE_FLOAT64, 0.5, &e);
  GrdUpdate ups[] = {
    { w, grd_op2 (g, "sub", w, grd_op2 (g, "mul", lr, grads[0], &e), &e) },
    { b, grd_op2 (g, "sub", b, grd_op2 (g, "mul", lr, grads[1], &e), &e) },
  };
  g_assert_no_error (e);
  gint64 xs[] = { 11, 4 }, ys[] = { 11 };
  GrdTensor *v[2] = { rnd (GRD_DTYPE_FLOAT64, 2, xs, -2, 2), rnd (GRD_DTYPE_INT32, 1, ys, 0, 3) };
  GrdRef ins[] = { x, y }, outs[] = { cost, p };
  parity_full (g, ins, 2, v, outs, 2, ups, 2, 5, 100);

  /* set_value between calls: the device takes the new value */
  GrdFunction *vk = grd_function_new_on (g, ins, 2, outs, 1, ups, 2, GRD_BACKEND_VULKAN, NULL, &e);
  g_assert_no_error (e);
  GrdTensor *o1[1], *o2[1];
  g_assert_true (grd_function_call (vk, v, o1, &e));
  g_assert_true (grd_graph_set_value (g, w, w0, &e));
  g_assert_true (grd_graph_set_value (g, b, b0, &e));
  GrdFunction *cpu = grd_function_new (g, ins, 2, outs, 1, NULL, 0, &e);
  g_assert_true (grd_function_call (cpu, v, o2, &e));
  grd_tensor_unref (o1[0]);
  g_assert_true (grd_function_call (vk, v, o1, &e));
  g_assert_no_error (e);
  grd_test_assert_close (o1[0], o2[0], 1e-11, 1e-13);
  grd_tensor_unref (o1[0]);
  grd_tensor_unref (o2[0]);
  grd_function_free (cpu);
  grd_function_free (vk);
  grd_tensor_unref (v[0]);
  grd_tensor_unref (v[1]);
  assert_no_validation_messages ();
}

/* An update whose value does not fit changes nothing. */
static void
test_update_error (void)
{
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) e = NULL;
  gint64 d[] = { GRD_DIM_UNKNOWN }, three = 3;
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT32, 1, d, &e);
  g_autoptr (GrdTensor) s0 = rnd (GRD_DTYPE_FLOAT32, 1, &three, 0, 1);
  GrdRef s = grd_graph_shared (g, "s", s0, &e);
  GrdUpdate up = { s, grd_op2 (g, "add", s, x, &e) };
  GrdFunction *vk = grd_function_new_on (g, &x, 1, &up.value, 1, &up, 1, GRD_BACKEND_VULKAN, NULL,
                                         &e);
  g_assert_no_error (e);
  gint64 one = 1, four = 4;
  g_autoptr (GrdTensor) ok = rnd (GRD_DTYPE_FLOAT32, 1, &one, 0, 1);
  g_autoptr (GrdTensor) bad = rnd (GRD_DTYPE_FLOAT32, 1, &four, 0, 1);
  GrdTensor *out[1];
  g_assert_false (grd_function_call (vk, &bad, out, &e));
  g_assert_nonnull (e);
  g_clear_error (&e);
  g_assert_true (grd_function_call (vk, &ok, out, &e));
  g_assert_true (grd_function_sync (vk, &e));
  GrdTensor *now = grd_graph_get_value (g, s);
  g_test_message ("s0 %g ok %g now %g out %g", grd_tensor_get (s0, 0), grd_tensor_get (ok, 0),
                  grd_tensor_get (now, 0), grd_tensor_get (out[0], 0));
  for (gint i = 0; i < 3; i++)
    g_assert_cmpfloat_with_epsilon (grd_tensor_get (now, i),
                                    grd_tensor_get (s0, i) + grd_tensor_get (ok, 0), 1e-6);
  grd_tensor_unref (out[0]);
  /* one more call, then no sync: freeing the function writes the value back */
  g_autoptr (GrdTensor) before = grd_tensor_copy (grd_graph_get_value (g, s));
  g_assert_true (grd_function_call (vk, &ok, out, &e));
  grd_tensor_unref (out[0]);
  grd_function_free (vk);
  now = grd_graph_get_value (g, s);
  for (gint i = 0; i < 3; i++)
    g_assert_cmpfloat_with_epsilon (grd_tensor_get (now, i),
                                    grd_tensor_get (before, i) + grd_tensor_get (ok, 0), 1e-6);
  assert_no_validation_messages ();
}

static GrdFunction *
small_function (GrdGraph *g, GrdRef *x, GrdRef *y, GError **e)
{
  gint64 d[] = { GRD_DIM_UNKNOWN };
  *x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT32, 1, d, e);
  /* an expression no other test builds, so that its kernel is new to the cache */
  *y = grd_op2 (g, "mul", grd_op1 (g, "erf", grd_op1 (g, "cos", *x, e), e),
                grd_scalar (g, GRD_DTYPE_FLOAT32, 1.25, e), e);
  return grd_function_new_on (g, x, 1, y, 1, NULL, 0, GRD_BACKEND_VULKAN, NULL, e);
}

static void
run_small (GrdBackend want)
{
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) e = NULL;
  GrdRef x, y;
  GrdFunction *fn = small_function (g, &x, &y, &e);
  g_assert_no_error (e);
  g_assert_cmpint (grd_function_backend (fn), ==, want);
  gint64 n = 5;
  static const double xs[] = { 0, 1, 2, 3, 4 };
  g_autoptr (GrdTensor) in = grd_test_tensor (GRD_DTYPE_FLOAT32, 1, &n, xs);
  GrdTensor *out[1];
  g_assert_true (grd_function_call (fn, &in, out, &e));
  g_assert_no_error (e);
  for (gint i = 0; i < 5; i++)
    g_assert_cmpfloat_with_epsilon (grd_tensor_get (out[0], i), erf (cos (xs[i])) * 1.25, 1e-5);
  grd_tensor_unref (out[0]);
  grd_function_free (fn);
}

static void
test_no_device (void)
{
  if (g_test_subprocess ()) {
    g_autoptr (GError) e = NULL;
    g_autofree char *devices = grd_vulkan_describe_devices (&e);
    g_assert_null (devices);
    g_assert_error (e, GRD_ERROR, GRD_ERROR_UNSUPPORTED);
    g_clear_error (&e);
    g_autoptr (GrdGraph) g = grd_graph_new ();
    GrdRef x, y;
    gint64 d[] = { GRD_DIM_UNKNOWN };
    x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT32, 1, d, &e);
    y = grd_op1 (g, "exp", x, &e);
    g_autofree char *warning = NULL;
    GrdFunction *fn = grd_function_new_on (g, &x, 1, &y, 1, NULL, 0, GRD_BACKEND_VULKAN, &warning,
                                           &e);
    g_assert_no_error (e);
    g_assert_nonnull (warning);
    g_assert_nonnull (strstr (warning, "Vulkan"));
    g_assert_cmpint (grd_function_backend (fn), ==, GRD_BACKEND_CPU);
    grd_function_free (fn);
    run_small (GRD_BACKEND_CPU);
    return;
  }
  g_setenv ("VK_ICD_FILENAMES", "/nonexistent", TRUE);
  g_setenv ("VK_DRIVER_FILES", "/nonexistent", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv ("VK_ICD_FILENAMES");
  g_unsetenv ("VK_DRIVER_FILES");
  g_test_trap_assert_passed ();
}

static void
test_device_choice (void)
{
  if (g_test_subprocess ()) {
    g_autoptr (GError) e = NULL;
    g_autoptr (GrdGraph) g = grd_graph_new ();
    gint64 d[] = { GRD_DIM_UNKNOWN };
    GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT32, 1, d, &e);
    GrdRef y = grd_op1 (g, "exp", x, &e);
    g_autofree char *warning = NULL;
    GrdFunction *fn = grd_function_new_on (g, &x, 1, &y, 1, NULL, 0, GRD_BACKEND_VULKAN, &warning,
                                           &e);
    g_assert_nonnull (warning);
    g_assert_nonnull (strstr (warning, "no-such-gpu"));
    grd_function_free (fn);
    return;
  }
  g_setenv ("GRADUS_VULKAN_DEVICE", "no-such-gpu", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv ("GRADUS_VULKAN_DEVICE");
  g_test_trap_assert_passed ();
  /* by index and by name */
  g_setenv ("GRADUS_VULKAN_DEVICE", "0", TRUE);
  g_autoptr (GError) e = NULL;
  g_autofree char *by_index = grd_vulkan_describe_devices (&e);
  g_assert_no_error (e);
  g_assert_true (g_str_has_prefix (by_index, "0: ") && strstr (by_index, "[selected]"));
  g_setenv ("GRADUS_VULKAN_DEVICE", "llvmpipe", TRUE);
  g_autofree char *by_name = grd_vulkan_describe_devices (&e);
  g_unsetenv ("GRADUS_VULKAN_DEVICE");
  g_assert_no_error (e);
  g_assert_nonnull (strstr (by_name, "[selected]"));
}

/* A kernel compiled by one process is read from the disk cache by the next. */
static void
test_cache (void)
{
  if (g_test_subprocess ()) {
    GrdVkContext *ctx = grd_vk_context_get (NULL);
    g_assert_nonnull (ctx);
    const char *phase = g_getenv ("GRADUS_TEST_PHASE");
    run_small (GRD_BACKEND_VULKAN);
    if (!g_strcmp0 (phase, "first")) {
      g_assert_cmpint (ctx->n_compiles, >=, 1);
    } else {
      g_assert_cmpint (ctx->n_compiles, ==, 0);
      g_assert_cmpint (ctx->n_disk_hits, >=, 1);
    }
    return;
  }
  g_autofree char *dir = g_dir_make_tmp ("gradus-spirv-XXXXXX", NULL);
  g_assert_nonnull (dir);
  g_autofree char *old = g_strdup (g_getenv ("XDG_CACHE_HOME"));
  g_setenv ("XDG_CACHE_HOME", dir, TRUE);
  g_setenv ("GRADUS_TEST_PHASE", "first", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  g_autofree char *spirv = g_build_filename (dir, "gradus", "spirv", NULL);
  g_autoptr (GDir) d = g_dir_open (spirv, 0, NULL);
  g_assert_nonnull (d);
  gint files = 0;
  const char *name;
  while ((name = g_dir_read_name (d))) {
    g_assert_true (g_str_has_suffix (name, ".spv"));
    files++;
  }
  g_assert_cmpint (files, >=, 1);
  g_setenv ("GRADUS_TEST_PHASE", "second", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  g_unsetenv ("GRADUS_TEST_PHASE");
  if (old)
    g_setenv ("XDG_CACHE_HOME", old, TRUE);
  else
    g_unsetenv ("XDG_CACHE_HOME");
  /* clean up */
  g_dir_rewind (d);
  while ((name = g_dir_read_name (d))) {
    g_autofree char *f = g_build_filename (spirv, name, NULL);
    g_remove (f);
  }
  g_rmdir (spirv);
  g_autofree char *gd = g_build_filename (dir, "gradus", NULL);
  g_rmdir (gd);
  g_rmdir (dir);
}

/* The validation layer is really listening: a bad call is counted. */
static void
test_validation_active (void)
{
  if (g_test_subprocess ()) {
    GrdVkContext *ctx = grd_vk_context_get (NULL);
    g_assert_nonnull (ctx);
    VkBufferCreateInfo bi = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .size = 0, /* invalid */
      .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
    };
    VkBuffer b = VK_NULL_HANDLE;
    vkCreateBuffer (ctx->device, &bi, NULL, &b);
    if (b)
      vkDestroyBuffer (ctx->device, b, NULL);
    g_assert_cmpint (grd_vk_validation_messages (), >, 0);
    /* the layer keeps state for the bad call: leave without exit handlers
     * (leak checkers would blame the layer's bookkeeping on us) */
    _exit (0);
  }
  if (g_strcmp0 (g_getenv ("GRADUS_VULKAN_VALIDATION"), "1") != 0) {
    g_test_skip ("GRADUS_VULKAN_VALIDATION is not set (the meson test sets it)");
    return;
  }
  g_test_trap_subprocess (NULL, 0, 0);
  g_test_trap_assert_passed ();
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vulkan/devices", test_devices);
  g_test_add_func ("/vulkan/validation-active", test_validation_active);
  g_test_add_func ("/vulkan/unary", test_unary);
  g_test_add_func ("/vulkan/binary", test_binary);
  g_test_add_func ("/vulkan/ternary-cast", test_ternary_and_cast);
  g_test_add_func ("/vulkan/reduce", test_reduce);
  g_test_add_func ("/vulkan/dot", test_dot);
  g_test_add_func ("/vulkan/neural", test_neural);
  g_test_add_func ("/vulkan/shape", test_shape);
  g_test_add_func ("/vulkan/large", test_large);
  g_test_add_func ("/vulkan/fusion", test_fusion);
  g_test_add_func ("/vulkan/shapes-change", test_shapes_change);
  g_test_add_func ("/vulkan/updates", test_updates);
  g_test_add_func ("/vulkan/update-error", test_update_error);
  g_test_add_func ("/vulkan/no-device", test_no_device);
  g_test_add_func ("/vulkan/device-choice", test_device_choice);
  g_test_add_func ("/vulkan/cache", test_cache);
  return g_test_run ();
}
