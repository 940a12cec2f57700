/* test-compile.c: the optimising CPU compiler. Every rewrite keeps values
 * (each pass alone and all together, against the reference executor), the
 * rewrites that should happen do, fused loops handle broadcasting, results
 * do not depend on the thread count, and long runs do not grow memory. */
#include "grad-check.h"
#include "grd-internal.h"
#include "compile/grd-program.h"

#include <math.h>
#include <string.h>

typedef GrdRef (*Build) (GrdGraph *g, const GrdRef *v, GError **error);

typedef struct {
  const char *name;
  Build       build;
  gint        n_inputs;
  GrdDType    dtype;
  gint64      shapes[3][3];   /* per input: rank, dims... (rank first) */
  const char *expect;         /* text the optimised program must contain, or NULL */
  const char *absent;         /* text it must not contain, or NULL */
} Case;

#define F64 GRD_DTYPE_FLOAT64
#define F32 GRD_DTYPE_FLOAT32

static GrdRef
c (GrdGraph *g, double v, GrdDType dt, GError **e)
{
  return grd_scalar (g, dt, v, e);
}

/* x*1 + 0, neg(neg(x)), x**2, cast to the same dtype */
static GrdRef
b_identities (GrdGraph *g, const GrdRef *v, GError **e)
{
  GrdRef x = grd_op2 (g, "add", grd_op2 (g, "mul", v[0], c (g, 1, F64, e), e), c (g, 0, F64, e), e);
  GrdRef y = grd_op1 (g, "neg", grd_op1 (g, "neg", x, e), e);
  return grd_op2 (g, "pow", y, c (g, 2, F64, e), e);
}

/* the same subexpression twice, and a constant expression */
static GrdRef
b_merge_fold (GrdGraph *g, const GrdRef *v, GError **e)
{
  GrdRef a = grd_op1 (g, "exp", v[0], e), b = grd_op1 (g, "exp", v[0], e);
  GrdRef k = grd_op1 (g, "sqrt", grd_op2 (g, "add", c (g, 7, F64, e), c (g, 9, F64, e), e), e);
  return grd_op2 (g, "mul", grd_op2 (g, "add", a, b, e), k, e);
}

static GrdRef
b_log_softmax (GrdGraph *g, const GrdRef *v, GError **e)
{
  return grd_op1 (g, "log", grd_op1 (g, "softmax", v[0], e), e);
}

static GrdRef
b_log1p_expm1 (GrdGraph *g, const GrdRef *v, GError **e)
{
  GrdRef l = grd_op1 (g, "log", grd_op2 (g, "add", c (g, 1, F64, e), v[0], e), e);
  GrdRef m = grd_op2 (g, "sub", grd_op1 (g, "exp", v[0], e), c (g, 1, F64, e), e);
  return grd_op2 (g, "add", l, m, e);
}

static GrdRef
b_log_sigmoid (GrdGraph *g, const GrdRef *v, GError **e)
{
  return grd_op1 (g, "log", grd_op1 (g, "sigmoid", v[0], e), e);
}

static GrdRef
b_logsumexp (GrdGraph *g, const GrdRef *v, GError **e)
{
  GrdAttrs a = grd_attrs_axis (1, FALSE);
  GrdRef ex = grd_op1 (g, "exp", v[0], e);
  GrdRef s = grd_graph_op (g, NULL, "sum", &ex, 1, &a, e);
  return grd_op1 (g, "log", s, e);
}

static GrdRef
b_transposes (GrdGraph *g, const GrdRef *v, GError **e)
{
  GrdRef t = grd_op1 (g, "transpose", grd_op1 (g, "transpose", v[0], e), e);
  return grd_op2 (g, "add", t, v[0], e);
}

/* dot plus a bias, with a transposed operand: one gemm */
static GrdRef
b_gemm (GrdGraph *g, const GrdRef *v, GError **e)
{
  GrdRef prod = grd_op2 (g, "dot", grd_op1 (g, "transpose", v[0], e), v[1], e);
  return grd_op2 (g, "add", prod, v[2], e);
}

/* an elementwise tree with broadcast operands ending in a sum */
/* a scaled product: gemm's alpha */
static GrdRef
b_gemm_scale (GrdGraph *g, const GrdRef *v, GError **e)
{
  return grd_op2 (g, "mul", c (g, 0.25, F64, e), grd_op2 (g, "dot", v[0], v[1], e), e);
}

static GrdRef
b_fused_sum (GrdGraph *g, const GrdRef *v, GError **e)
{
  GrdRef t = grd_op1 (g, "tanh", grd_op2 (g, "add", grd_op2 (g, "mul", v[0], v[1], e), c (g, 3, F32, e), e), e);
  GrdRef z = grd_op2 (g, "add", grd_op2 (g, "mul", t, grd_op1 (g, "exp", grd_op1 (g, "neg", v[0], e), e), e),
                      grd_op1 (g, "sqrt", grd_op1 (g, "abs", v[2], e), e), e);
  return grd_op1 (g, "sum", z, e);
}

/* mean((a - b)^2): the squared error's mean without storing the squares */
static GrdRef
b_fused_mean (GrdGraph *g, const GrdRef *v, GError **e)
{
  return grd_op1 (g, "mean", grd_op1 (g, "square", grd_op2 (g, "sub", v[0], v[1], e), e), e);
}

static GrdRef
b_fused_vecmath (GrdGraph *g, const GrdRef *v, GError **e)
{
  /* every vectorised float32 function, against libm through the reference */
  const char *fn[] = { "exp", "expm1", "log1p", "tanh", "sigmoid", "softplus", "sin", "cos" };
  GrdRef acc = grd_op1 (g, "log", grd_op1 (g, "abs", v[0], e), e);
  for (gsize i = 0; i < G_N_ELEMENTS (fn); i++)
    acc = grd_op2 (g, "add", acc, grd_op1 (g, fn[i], v[0], e), e);
  return acc;
}

static GrdRef
b_softmax_f32 (GrdGraph *g, const GrdRef *v, GError **e)
{
  return grd_op1 (g, "softmax", v[0], e);
}

static const Case cases[] = {
  { "identities", b_identities, 1, F64, { { 1, 5 } }, "square", "neg" },
  { "merge-fold", b_merge_fold, 1, F64, { { 2, 2, 3 } }, NULL, "sqrt" },
  { "log-softmax", b_log_softmax, 1, F64, { { 2, 3, 4 } }, "log_softmax", NULL },
  { "log1p-expm1", b_log1p_expm1, 1, F64, { { 1, 6 } }, "log1p expm1", NULL },
  { "log-sigmoid", b_log_sigmoid, 1, F64, { { 1, 6 } }, "softplus", "sigmoid" },
  { "logsumexp", b_logsumexp, 1, F64, { { 2, 3, 5 } }, "logsumexp", NULL },
  { "transposes", b_transposes, 1, F64, { { 2, 3, 4 } }, NULL, "transpose" },
  { "gemm-bias", b_gemm, 3, F64, { { 2, 4, 3 }, { 2, 4, 5 }, { 1, 5 } }, "beta=1", "transpose" },
  { "gemm-scale", b_gemm_scale, 2, F64, { { 2, 3, 4 }, { 2, 4, 2 } }, "alpha=0.25", "mul" },
  { "fused-sum", b_fused_sum, 3, F32, { { 2, 40, 50 }, { 1, 50 }, { 2, 40, 1 } }, "(sum fused)", NULL },
  { "fused-mean", b_fused_mean, 2, F32, { { 2, 40, 50 }, { 1, 50 } }, "(mean fused)", NULL },
  { "fused-mean-f64", b_fused_mean, 2, F64, { { 2, 40, 50 }, { 2, 40, 50 } }, "(mean fused)", NULL },
  { "fused-vecmath", b_fused_vecmath, 1, F32, { { 1, 3000 } }, "fused", NULL },
  { "softmax-f32", b_softmax_f32, 1, F32, { { 2, 70, 33 } }, "[fast]", NULL },
};

static const guint single_passes[] = {
  GRD_PASS_MERGE, GRD_PASS_CONSTANT_FOLD, GRD_PASS_SIMPLIFY, GRD_PASS_STABILIZE,
  GRD_PASS_GEMM, GRD_PASS_FUSE, GRD_PASS_KERNELS, GRD_PASS_ALL,
};

static GrdTensor *
run_case (const Case *cs, GrdTensor **vals, guint passes, char **program)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef v[3];
  for (gint i = 0; i < cs->n_inputs; i++)
    v[i] = grd_graph_variable (g, NULL, cs->dtype, vals[i]->rank, NULL, &error);
  GrdRef out = cs->build (g, v, &error);
  g_assert_no_error (error);
  g_autoptr (GrdFunction) fn = grd_function_new_with_passes (g, v, cs->n_inputs, &out, 1, NULL, 0,
                                                            passes, &error);
  g_assert_no_error (error);
  if (program)
    *program = grd_function_describe (fn);
  GrdTensor *r = NULL;
  g_assert_true (grd_function_call (fn, vals, &r, &error));
  g_assert_no_error (error);
  return r;
}

static void
test_rewrite_case (gconstpointer data)
{
  const Case *cs = data;
  GrdTensor *vals[3];
  for (gint i = 0; i < cs->n_inputs; i++)
    vals[i] = grd_test_random (cs->dtype, (gint) cs->shapes[i][0], cs->shapes[i] + 1, 0.1, 1.5, 40 + i);
  g_autofree char *before = NULL;
  g_autoptr (GrdTensor) want = run_case (cs, vals, 0, &before);
  double rtol = cs->dtype == F32 ? 2e-6 : 1e-13;
  for (gsize p = 0; p < G_N_ELEMENTS (single_passes); p++) {
    g_autofree char *after = NULL;
    g_autoptr (GrdTensor) got = run_case (cs, vals, single_passes[p], &after);
    g_test_message ("passes 0x%x\nbefore:\n%s\nafter:\n%s", single_passes[p], before, after);
    grd_test_assert_close (got, want, rtol, rtol);
    if (single_passes[p] == GRD_PASS_ALL) {
      if (cs->expect) {
        g_auto (GStrv) words = g_strsplit (cs->expect, " ", -1);
        for (gint w = 0; words[w]; w++)
          if (!strstr (after, words[w]))
            g_error ("'%s' missing from the optimised program:\n%s\nbefore:\n%s", words[w], after, before);
      }
      if (cs->absent && strstr (after, cs->absent))
        g_error ("'%s' left in the optimised program:\n%s", cs->absent, after);
    }
  }
  for (gint i = 0; i < cs->n_inputs; i++)
    grd_tensor_unref (vals[i]);
}

static void
test_softmax_special_values (void)
{
  /* the fast softmax rows agree with the reference on -inf, inf and NaN */
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef x = grd_graph_variable (g, "x", F32, 2, NULL, &error);
  GrdRef outs[2] = { grd_op1 (g, "softmax", x, &error), grd_op1 (g, "log_softmax", x, &error) };
  g_autoptr (GrdFunction) fast = grd_function_new (g, &x, 1, outs, 2, NULL, 0, &error);
  g_autoptr (GrdFunction) ref = grd_function_new_with_passes (g, &x, 1, outs, 2, NULL, 0, 0, &error);
  g_assert_no_error (error);
  g_autofree char *text = grd_function_describe (fast);
  g_assert_nonnull (strstr (text, "[fast]"));
  gint64 s[] = { 5, 3 };
  double v[] = { 1, 2, 3,   -INFINITY, 0, 1,   -INFINITY, -INFINITY, -INFINITY,
                 INFINITY, 0, 1,   NAN, 0, 1 };
  g_autoptr (GrdTensor) t = grd_test_tensor (F32, 2, s, v);
  GrdTensor *a[2], *b[2];
  g_assert_true (grd_function_call (fast, &t, a, &error));
  g_assert_true (grd_function_call (ref, &t, b, &error));
  for (gint k = 0; k < 2; k++) {
    grd_test_assert_close (a[k], b[k], 1e-6, 1e-7);
    grd_tensor_unref (a[k]);
    grd_tensor_unref (b[k]);
  }
}

/* Fused sums and means of float32 products over 3·10⁶ elements, against
 * float64: each product is rounded to float32 (as the register holds it),
 * then summed in float64 (the fused loop's accumulators are float64 per
 * task, added in task order: neither pairwise nor Kahan is needed at this
 * precision); the result must be that float64 sum rounded once to float32.
 * Values of mixed sign and magnitude, where a float32 accumulator would be
 * off by hundreds of ulps. */
static void
test_fused_reduce_accuracy (void)
{
  const gint64 n = 3000000;
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdTensor) a = grd_tensor_new (F32, 1, &n), b = grd_tensor_new (F32, 1, &n);
  float *pa = a->data, *pb = b->data;
  double exact = 0;
  guint32 state = 12345;
  for (gint64 i = 0; i < n; i++) {
    state = state * 1664525u + 1013904223u;
    pa[i] = (float) ((state >> 8) / 16777216.0 * 2 - 0.9) * (i % 3 ? 1.0f : 1000.0f);
    state = state * 1664525u + 1013904223u;
    pb[i] = (float) ((state >> 8) / 16777216.0 + 0.5);
    exact += (double) (float) (pa[i] * pb[i]);
  }
  for (gint mean = 0; mean < 2; mean++) {
    g_autoptr (GrdGraph) g = grd_graph_new ();
    GrdRef x = grd_graph_variable (g, "x", F32, 1, NULL, &error);
    GrdRef y = grd_graph_variable (g, "y", F32, 1, NULL, &error);
    GrdRef r = grd_op1 (g, mean ? "mean" : "sum", grd_op2 (g, "mul", x, y, &error), &error);
    GrdRef in[] = { x, y };
    g_autoptr (GrdFunction) fn = grd_function_new (g, in, 2, &r, 1, NULL, 0, &error);
    g_assert_no_error (error);
    g_autofree char *text = grd_function_describe (fn);
    g_assert_nonnull (strstr (text, mean ? "(mean fused)" : "(sum fused)"));
    GrdTensor *vals[] = { a, b }, *got = NULL;
    g_assert_true (grd_function_call (fn, vals, &got, &error));
    double want = mean ? exact / n : exact;
    double ulp = nextafterf ((float) want, INFINITY) - (float) want;
    g_test_message ("%s: got %.9g, float64 %.12g", mean ? "mean" : "sum", grd_tensor_get (got, 0), want);
    g_assert_cmpfloat (fabs (grd_tensor_get (got, 0) - want), <=, ulp);
    grd_tensor_unref (got);
  }
}

static void
test_merge_counts (void)
{
  /* two equal subexpressions and two equal constants leave one of each */
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef x = grd_graph_variable (g, "x", F64, 1, NULL, &error);
  GrdRef a = grd_op2 (g, "mul", x, c (g, 2, F64, &error), &error);
  GrdRef b = grd_op2 (g, "mul", x, c (g, 2, F64, &error), &error);
  GrdRef outs[] = { a, b };
  g_autoptr (GrdFunction) fn = grd_function_new_with_passes (g, &x, 1, outs, 2, NULL, 0, GRD_PASS_MERGE, &error);
  g_autofree char *text = grd_function_describe (fn);
  gint count = 0;
  for (const char *p = text; (p = strstr (p, "mul")); p++)
    count++;
  if (count != 1)
    g_error ("expected one mul after merging:\n%s", text);
}

static void
test_stable_crossentropy (void)
{
  /* loss and gradient of crossentropy(softmax(x)) stay finite for logits of
   * 1000, and equal the float64 formula */
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  gint64 sx[] = { 2, 3 }, sy[] = { 2 };
  GrdRef x = grd_graph_variable (g, "x", F32, 2, sx, &error);
  GrdRef y = grd_graph_variable (g, "y", GRD_DTYPE_INT64, 1, sy, &error);
  GrdRef loss = grd_op1 (g, "mean", grd_op2 (g, "categorical_crossentropy", grd_op1 (g, "softmax", x, &error), y, &error), &error);
  GrdRef gx;
  grd_graph_grad (g, "g", loss, &x, 1, NULL, 0, &gx, &error);
  g_assert_no_error (error);
  GrdRef in[] = { x, y }, outs[] = { loss, gx };
  g_autoptr (GrdFunction) fn = grd_function_new (g, in, 2, outs, 2, NULL, 0, &error);
  g_assert_no_error (error);
  double xv[] = { 1000, -1000, 0, 0, 1000, 999 }, yv[] = { 1, 2 };
  g_autoptr (GrdTensor) tx = grd_test_tensor (F32, 2, sx, xv);
  g_autoptr (GrdTensor) ty = grd_test_tensor (GRD_DTYPE_INT64, 1, sy, yv);
  GrdTensor *args[] = { tx, ty }, *res[2];
  g_assert_true (grd_function_call (fn, args, res, &error));
  /* row 0: -log softmax[1] = 2000; row 1: logsumexp(0,1000,999) - 999 = 1 + log1p(e^-1) */
  double want = (2000.0 + 1.0 + log1p (exp (-1.0))) / 2;
  g_assert_cmpfloat_with_epsilon (grd_tensor_get (res[0], 0), want, 1e-3);
  double s1 = 1 / (1 + exp (-1.0));   /* softmax of row 1 at 1000 */
  double gw[] = { 0.5, -0.5, 0, 0, 0.5 * s1, 0.5 * (1 - s1) - 0.5 };
  grd_test_assert_tensor (res[1], F32, 2, sx, gw, 1e-5, 1e-6);
  grd_tensor_unref (res[0]);
  grd_tensor_unref (res[1]);
}

static void
test_fused_fallback_shapes (void)
{
  /* a value of the region smaller than the loop (a [3,1] intermediate that is
   * also an output) runs through the original instructions */
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef a = grd_graph_variable (g, "a", F64, 2, NULL, &error);
  GrdRef b = grd_graph_variable (g, "b", F64, 2, NULL, &error);
  GrdRef ea = grd_op1 (g, "exp", a, &error);
  GrdRef s = grd_op2 (g, "add", ea, b, &error);
  GrdRef in[] = { a, b }, outs[] = { ea, s };
  g_autoptr (GrdFunction) fn = grd_function_new (g, in, 2, outs, 2, NULL, 0, &error);
  g_autoptr (GrdFunction) ref = grd_function_new_with_passes (g, in, 2, outs, 2, NULL, 0, 0, &error);
  g_assert_no_error (error);
  gint64 sa[] = { 3, 1 }, sb[] = { 3, 4 };
  g_autoptr (GrdTensor) ta = grd_test_random (F64, 2, sa, -1, 1, 1);
  g_autoptr (GrdTensor) tb = grd_test_random (F64, 2, sb, -1, 1, 2);
  GrdTensor *args[] = { ta, tb }, *r1[2], *r2[2];
  g_assert_true (grd_function_call (fn, args, r1, &error));
  g_assert_true (grd_function_call (ref, args, r2, &error));
  for (gint k = 0; k < 2; k++) {
    grd_test_assert_close (r1[k], r2[k], 0, 0);
    grd_tensor_unref (r1[k]);
    grd_tensor_unref (r2[k]);
  }
}

/* Fused loops read broadcast inputs and inputs of another dtype (the bool
 * mask of a relu's gradient) by runs along merged axes: a conv bias
 * [1, c, 1, 1], a [h, 1] column and a full bool mask, over blocks that cut
 * rows, against the reference executor bit for bit. */
static void
test_fused_gather_runs (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef x = grd_graph_variable (g, "x", F32, 4, NULL, &error);
  GrdRef b = grd_graph_variable (g, "b", F32, 4, NULL, &error);
  GrdRef col = grd_graph_variable (g, "col", F32, 2, NULL, &error);
  GrdRef m = grd_graph_variable (g, "m", GRD_DTYPE_BOOL, 4, NULL, &error);
  GrdRef z = grd_op1 (g, "relu", grd_op2 (g, "add", x, b, &error), &error);
  GrdRef sw[] = { m, grd_op2 (g, "mul", z, col, &error), grd_op1 (g, "neg", z, &error) };
  GrdRef out = grd_graph_op (g, NULL, "switch", sw, 3, NULL, &error);
  g_assert_no_error (error);
  GrdRef in[] = { x, b, col, m };
  g_autoptr (GrdFunction) fn = grd_function_new (g, in, 4, &out, 1, NULL, 0, &error);
  g_autoptr (GrdFunction) ref = grd_function_new_with_passes (g, in, 4, &out, 1, NULL, 0, 0, &error);
  g_assert_no_error (error);
  g_autofree char *program = grd_function_describe (fn);
  g_assert_nonnull (strstr (program, "fused"));
  gint64 sx[] = { 5, 4, 33, 7 }, sb[] = { 1, 4, 1, 1 }, sc[] = { 33, 1 };
  g_autoptr (GrdTensor) tx = grd_test_random (F32, 4, sx, -1, 1, 1);
  g_autoptr (GrdTensor) tb = grd_test_random (F32, 4, sb, -1, 1, 2);
  g_autoptr (GrdTensor) tc = grd_test_random (F32, 2, sc, -1, 1, 3);
  g_autoptr (GrdTensor) tm = grd_tensor_new (GRD_DTYPE_BOOL, 4, sx);
  for (gint64 k = 0; k < tm->size; k++)
    ((guint8 *) tm->data)[k] = (guint8) ((k * 7 + k / 5) % 3 == 0);
  GrdTensor *args[] = { tx, tb, tc, tm }, *r1 = NULL, *r2 = NULL;
  g_assert_true (grd_function_call (fn, args, &r1, &error));
  g_assert_true (grd_function_call (ref, args, &r2, &error));
  g_assert_no_error (error);
  grd_test_assert_close (r1, r2, 0, 0);
  grd_tensor_unref (r1);
  grd_tensor_unref (r2);
}

/* The sum of a big fused loop and a softmax, printed as exact bits, so two
 * processes with different thread counts can be compared. */
static char *
big_results (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  gint64 n[] = { 1 << 20 }, sm[] = { 300, 1000 };
  GrdRef x = grd_graph_variable (g, "x", F32, 1, n, &error);
  GrdRef m = grd_graph_variable (g, "m", F32, 2, sm, &error);
  GrdRef s = grd_op1 (g, "sum", grd_op1 (g, "tanh", grd_op2 (g, "mul", x, x, &error), &error), &error);
  GrdRef p = grd_op1 (g, "softmax", m, &error);
  GrdRef in[] = { x, m }, outs[] = { s, p };
  g_autoptr (GrdFunction) fn = grd_function_new (g, in, 2, outs, 2, NULL, 0, &error);
  g_assert_no_error (error);
  g_autoptr (GrdTensor) tx = grd_test_random (F32, 1, n, -2, 2, 5);
  g_autoptr (GrdTensor) tm = grd_test_random (F32, 2, sm, -5, 5, 6);
  GrdTensor *args[] = { tx, tm }, *r[2];
  g_assert_true (grd_function_call (fn, args, r, &error));
  guint32 h = 2166136261u;
  const guint8 *bytes = r[1]->data;
  for (gint64 i = 0; i < r[1]->size * 4; i++)
    h = (h ^ bytes[i]) * 16777619u;
  float sum = ((float *) r[0]->data)[0];
  guint32 sbits;
  memcpy (&sbits, &sum, 4);
  grd_tensor_unref (r[0]);
  grd_tensor_unref (r[1]);
  return g_strdup_printf ("%08x %08x", sbits, h);
}

static void
test_thread_count_independence (void)
{
  const char *self = g_getenv ("GRADUS_TEST_SELF");
  g_assert_nonnull (self);
  char *got[2];
  for (gint k = 0; k < 2; k++) {
    const char *threads = k ? "2" : "1";
    g_auto (GStrv) env = g_environ_setenv (g_get_environ (), "GRADUS_THREADS", threads, TRUE);
    char *argv[] = { (char *) self, "--print-big-results", NULL };
    g_autoptr (GError) error = NULL;
    gint status;
    g_assert_true (g_spawn_sync (NULL, argv, env, G_SPAWN_DEFAULT, NULL, NULL, &got[k], NULL, &status, &error));
    g_assert_no_error (error);
    g_assert_cmpint (status, ==, 0);
  }
  g_assert_cmpstr (got[0], ==, got[1]);
  g_assert_cmpuint (strlen (got[0]), >, 10);
  g_free (got[0]);
  g_free (got[1]);
}

static void
test_long_run_memory (void)
{
  /* an MLP-like step with updates, called 300 times: the tensors alive stay
   * the same (buffers are reused, shared values double-buffered) */
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  gint64 sw[] = { 20, 8 }, sb[] = { 8 };
  g_autoptr (GrdTensor) w0 = grd_test_random (F32, 2, sw, -0.5, 0.5, 9);
  g_autoptr (GrdTensor) b0 = grd_tensor_new (F32, 1, sb);
  GrdRef X = grd_graph_variable (g, "X", F32, 2, (gint64[]) { GRD_DIM_UNKNOWN, 20 }, &error);
  GrdRef W = grd_graph_shared (g, "W", w0, &error);
  GrdRef B = grd_graph_shared (g, "B", b0, &error);
  GrdRef h = grd_op1 (g, "tanh", grd_op2 (g, "add", grd_op2 (g, "dot", X, W, &error), B, &error), &error);
  GrdRef loss = grd_op1 (g, "mean", grd_op1 (g, "square", h, &error), &error);
  GrdRef wrt[] = { W, B }, gr[2];
  grd_graph_grad (g, "g", loss, wrt, 2, NULL, 0, gr, &error);
  GrdRef lr = c (g, 0.1, F32, &error);
  GrdUpdate ups[] = { { W, grd_op2 (g, "sub", W, grd_op2 (g, "mul", lr, gr[0], &error), &error) },
                      { B, grd_op2 (g, "sub", B, grd_op2 (g, "mul", lr, gr[1], &error), &error) } };
  g_autoptr (GrdFunction) fn = grd_function_new (g, &X, 1, &loss, 1, ups, 2, &error);
  g_assert_no_error (error);
  gint64 sx[] = { 32, 20 };
  g_autoptr (GrdTensor) tx = grd_test_random (F32, 2, sx, -1, 1, 10);
  gint64 live = 0;
  double first = 0, last = 0;
  grd_function_set_profiling (fn, TRUE);
  for (gint i = 0; i < 300; i++) {
    g_autoptr (GrdTensor) l = NULL;
    g_assert_true (grd_function_call (fn, &tx, &l, &error));
    if (i == 0)
      first = grd_tensor_get (l, 0);
    last = grd_tensor_get (l, 0);
    if (i == 5)
      live = grd_tensor_live_count ();
  }
  g_assert_cmpint (grd_tensor_live_count (), ==, live);
  g_assert_cmpfloat (last, <, first);   /* it learns */
  GArray *prof = grd_function_profile (fn);
  g_assert_nonnull (prof);
  g_assert_cmpuint (prof->len, >, 0);
  gboolean saw_gemm = FALSE;
  for (guint i = 0; i < prof->len; i++) {
    GrdProfileEntry *p = &g_array_index (prof, GrdProfileEntry, i);
    g_assert_cmpuint (p->calls, ==, 300);
    saw_gemm |= g_str_equal (p->kind, "gemm");
  }
  g_assert_true (saw_gemm);
}

int
main (int argc, char **argv)
{
  if (argc > 1 && g_str_equal (argv[1], "--print-big-results")) {
    g_autofree char *r = big_results ();
    g_print ("%s\n", r);
    return 0;
  }
  g_setenv ("GRADUS_TEST_SELF", argv[0], TRUE);
  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *path = g_strdup_printf ("/engine/compile/rewrite/%s", cases[i].name);
    g_test_add_data_func (path, &cases[i], test_rewrite_case);
  }
  g_test_add_func ("/engine/compile/merge-counts", test_merge_counts);
  g_test_add_func ("/engine/compile/fused-reduce-accuracy", test_fused_reduce_accuracy);
  g_test_add_func ("/engine/compile/softmax-special-values", test_softmax_special_values);
  g_test_add_func ("/engine/compile/stable-crossentropy", test_stable_crossentropy);
  g_test_add_func ("/engine/compile/fused-fallback-shapes", test_fused_fallback_shapes);
  g_test_add_func ("/engine/compile/fused-gather-runs", test_fused_gather_runs);
  g_test_add_func ("/engine/compile/thread-count-independence", test_thread_count_independence);
  g_test_add_func ("/engine/compile/long-run-memory", test_long_run_memory);
  return g_test_run ();
}
