/* test-neural.c: softmax, log_softmax, logsumexp, the crossentropies and
 * one_hot: values against naive formulas and NumPy, stability for large
 * inputs, gradients (verify_grad, grad of grad, unknown dims) and errors. */
#include "grad-check.h"
#include "grd-internal.h"

#include <math.h>
#include <string.h>

/* Naive reference: log(sum(exp(x))) over the axes in mask of a row-major
 * tensor, by visiting every (output, input) pair; no max shift (small inputs). */
static void
naive_lse (const GrdTensor *x, const gboolean *mask, double *out, gint64 *n_out)
{
  gint64 kept = 1;
  for (gint d = 0; d < x->rank; d++)
    if (!mask[d])
      kept *= x->shape[d];
  *n_out = kept;
  for (gint64 o = 0; o < kept; o++)
    out[o] = 0;
  for (gint64 i = 0; i < x->size; i++) {
    /* output index: the kept coordinates of i, row-major */
    gint64 rem = i, o = 0, mul = 1;
    for (gint d = x->rank - 1; d >= 0; d--) {
      gint64 c = rem % x->shape[d];
      rem /= x->shape[d];
      if (!mask[d]) {
        o += c * mul;
        mul *= x->shape[d];
      }
    }
    out[o] += exp (grd_tensor_get (x, i));
  }
  for (gint64 o = 0; o < kept; o++)
    out[o] = log (out[o]);
}

/* Softmax along one axis: exp(x) / sum(exp(x)) by the naive formula. */
static void
naive_softmax (const GrdTensor *x, gint axis, gboolean log_form, double *out)
{
  gboolean mask[GRD_MAX_RANK] = { FALSE };
  mask[axis] = TRUE;
  double lse[64];
  gint64 n_out;
  naive_lse (x, mask, lse, &n_out);
  for (gint64 i = 0; i < x->size; i++) {
    gint64 rem = i, o = 0, mul = 1;
    for (gint d = x->rank - 1; d >= 0; d--) {
      gint64 c = rem % x->shape[d];
      rem /= x->shape[d];
      if (d != axis) {
        o += c * mul;
        mul *= x->shape[d];
      }
    }
    double l = grd_tensor_get (x, i) - lse[o];
    out[i] = log_form ? l : exp (l);
  }
}

/* ------------------------------------------------------------ softmax family */

static void
test_softmax (void)
{
  gint64 s[] = { 2, 3, 4 };
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 3, s, -3, 3, 1);
  g_autoptr (GrdTensor) x32 = grd_tensor_cast (x, GRD_DTYPE_FLOAT32);
  struct { gboolean has; gint axis, norm; } cases[] = {
    { FALSE, 0, 2 }, { TRUE, 0, 0 }, { TRUE, 1, 1 }, { TRUE, -2, 1 }, { TRUE, -1, 2 },
  };
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++) {
    GrdAttrs a = grd_attrs_axis (cases[c].axis, FALSE);
    a.has_axis = cases[c].has;
    for (gint lf = 0; lf < 2; lf++) {
      const char *op = lf ? "log_softmax" : "softmax";
      double want[24];
      naive_softmax (x, cases[c].norm, lf, want);
      g_autoptr (GrdTensor) y = grd_test_eval_op (op, &a, &x, 1);
      grd_test_assert_tensor (y, GRD_DTYPE_FLOAT64, 3, s, want, 1e-12, 1e-14);
      g_autoptr (GrdTensor) y32 = grd_test_eval_op (op, &a, &x32, 1);
      grd_test_assert_tensor (y32, GRD_DTYPE_FLOAT32, 3, s, want, 1e-5, 1e-6);
    }
  }
  /* integer inputs give float64 */
  gint64 s3[] = { 3 };
  double iv[] = { 0, 1, 2 };
  g_autoptr (GrdTensor) xi = grd_test_tensor (GRD_DTYPE_INT32, 1, s3, iv);
  g_autoptr (GrdTensor) yi = grd_test_eval_op ("softmax", NULL, &xi, 1);
  g_assert_cmpint (yi->dtype, ==, GRD_DTYPE_FLOAT64);
  /* a 0-d input or a bad axis is refused, naming the node */
  g_autoptr (GrdTensor) sc = grd_tensor_new_scalar (GRD_DTYPE_FLOAT32, 1);
  g_autoptr (GError) error = NULL;
  g_assert_null (grd_test_try_op ("softmax", NULL, &sc, 1, &error));
  grd_test_assert_error_names (error, GRD_ERROR_SHAPE, "'under_test'", NULL);
  g_clear_error (&error);
  GrdAttrs bad = grd_attrs_axis (3, FALSE);
  g_assert_null (grd_test_try_op ("log_softmax", &bad, &x, 1, &error));
  grd_test_assert_error_names (error, GRD_ERROR_SHAPE, "'under_test'", "axis 3");
}

static void
test_large_inputs (void)
{
  /* NumPy: x - max - log(sum(exp(x - max))) for [1000, 1001, 1002] */
  gint64 s[] = { 3 };
  double xv[] = { 1000, 1001, 1002 };
  double want_ls[] = { -2.4076059644443806, -1.4076059644443804, -0.4076059644443804 };
  double want_sm[] = { 0.09003057317038043, 0.24472847105479764, 0.6652409557748218 };
  for (GrdDType dt = GRD_DTYPE_FLOAT32; dt <= GRD_DTYPE_FLOAT64; dt++) {
    double tol = dt == GRD_DTYPE_FLOAT32 ? 1e-6 : 1e-13;
    g_autoptr (GrdTensor) x = grd_test_tensor (dt, 1, s, xv);
    g_autoptr (GrdTensor) ls = grd_test_eval_op ("log_softmax", NULL, &x, 1);
    grd_test_assert_tensor (ls, dt, 1, s, want_ls, tol, tol);
    g_autoptr (GrdTensor) sm = grd_test_eval_op ("softmax", NULL, &x, 1);
    grd_test_assert_tensor (sm, dt, 1, s, want_sm, tol, tol);
    /* logsumexp of [[1000, 1000], [-1000, -999]] along the last axis */
    gint64 s22[] = { 2, 2 };
    double yv[] = { 1000, 1000, -1000, -999 };
    double want_lse[] = { 1000.6931471805599, -998.6867383124818 };
    g_autoptr (GrdTensor) y = grd_test_tensor (dt, 2, s22, yv);
    g_autoptr (GrdTensor) lse = grd_test_eval_op ("logsumexp", NULL, &y, 1);
    grd_test_assert_tensor (lse, dt, 1, s22, want_lse, tol, tol);
    for (gint64 i = 0; i < lse->size; i++)
      g_assert_true (isfinite (grd_tensor_get (lse, i)));
    for (gint64 i = 0; i < ls->size; i++)
      g_assert_true (isfinite (grd_tensor_get (ls, i)));
  }
  /* -inf entries: exp gives 0; a row of -inf gives -inf, as log(0) */
  gint64 s2[] = { 2, 2 };
  double v[] = { -INFINITY, 0, -INFINITY, -INFINITY };
  g_autoptr (GrdTensor) x = grd_test_tensor (GRD_DTYPE_FLOAT64, 2, s2, v);
  g_autoptr (GrdTensor) lse = grd_test_eval_op ("logsumexp", NULL, &x, 1);
  double want[] = { 0, -INFINITY };
  grd_test_assert_tensor (lse, GRD_DTYPE_FLOAT64, 1, s2, want, 0, 0);
}

static void
test_logsumexp (void)
{
  gint64 s[] = { 2, 3, 4 };
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 3, s, -2, 2, 3);
  struct { gint n; gint axes[3]; gboolean keep; } cases[] = {
    { 0, { 0 }, FALSE }, { 0, { 0 }, TRUE }, { 1, { 0 }, FALSE }, { 2, { 0, -1 }, FALSE },
    { 2, { 2, 0 }, TRUE }, { 1, { -2 }, TRUE }, { 3, { 0, 1, 2 }, FALSE },
  };
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++) {
    GrdAttrs a;
    grd_attrs_init (&a);
    a.has_axis = cases[c].n > 0;
    a.n_axes = cases[c].n;
    memcpy (a.axes, cases[c].axes, sizeof (gint) * 3);
    a.keepdims = cases[c].keep;
    gboolean mask[GRD_MAX_RANK] = { FALSE };
    if (cases[c].n == 0)
      mask[2] = TRUE;
    for (gint k = 0; k < cases[c].n; k++)
      mask[(cases[c].axes[k] + 3) % 3] = TRUE;
    double want[24];
    gint64 n_out, shape[3];
    naive_lse (x, mask, want, &n_out);
    gint rank = 0;
    for (gint d = 0; d < 3; d++)
      if (!mask[d] || cases[c].keep)
        shape[rank++] = mask[d] ? 1 : s[d];
    g_autoptr (GrdTensor) y = grd_test_eval_op ("logsumexp", &a, &x, 1);
    grd_test_assert_tensor (y, GRD_DTYPE_FLOAT64, rank, shape, want, 1e-12, 1e-14);
  }
  GrdAttrs rep;
  grd_attrs_init (&rep);
  rep.has_axis = TRUE;
  rep.n_axes = 2;
  rep.axes[0] = 1, rep.axes[1] = -2;
  g_autoptr (GError) error = NULL;
  g_assert_null (grd_test_try_op ("logsumexp", &rep, &x, 1, &error));
  grd_test_assert_error_names (error, GRD_ERROR_SHAPE, "under_test", "repeated");
}

/* ------------------------------------------------------------ crossentropies, one_hot */

static GrdTensor *
probabilities (gint rank, const gint64 *shape, guint64 seed)
{
  /* rows that sum to 1 with entries well inside (0, 1) */
  GrdTensor *p = grd_test_random (GRD_DTYPE_FLOAT64, rank, shape, 0.2, 1, seed);
  gint64 n = shape[rank - 1];
  for (gint64 r = 0; r < p->size / n; r++) {
    double s = 0;
    for (gint64 i = 0; i < n; i++)
      s += grd_tensor_get (p, r * n + i);
    for (gint64 i = 0; i < n; i++)
      grd_tensor_set (p, r * n + i, grd_tensor_get (p, r * n + i) / s);
  }
  return p;
}

static void
test_categorical_crossentropy (void)
{
  gint64 s[] = { 3, 4 };
  g_autoptr (GrdTensor) p = probabilities (2, s, 5);
  double tv[] = { 0, 3, 1 };
  g_autoptr (GrdTensor) t = grd_test_tensor (GRD_DTYPE_INT32, 1, s, tv);
  GrdTensor *in[] = { p, t };
  g_autoptr (GrdTensor) y = grd_test_eval_op ("categorical_crossentropy", NULL, in, 2);
  double want[3];
  for (gint r = 0; r < 3; r++)
    want[r] = -log (grd_tensor_get (p, r * 4 + (gint) tv[r]));
  grd_test_assert_tensor (y, GRD_DTYPE_FLOAT64, 1, s, want, 1e-14, 0);
  /* float32 probabilities keep their dtype */
  g_autoptr (GrdTensor) p32 = grd_tensor_cast (p, GRD_DTYPE_FLOAT32);
  GrdTensor *in32[] = { p32, t };
  g_autoptr (GrdTensor) y32 = grd_test_eval_op ("categorical_crossentropy", NULL, in32, 2);
  grd_test_assert_tensor (y32, GRD_DTYPE_FLOAT32, 1, s, want, 1e-6, 0);

  /* rank 3 with int64 classes of rank 2 */
  gint64 s3[] = { 2, 2, 3 };
  g_autoptr (GrdTensor) p3 = probabilities (3, s3, 6);
  double t3v[] = { 2, 0, 1, 2 };
  g_autoptr (GrdTensor) t3 = grd_test_tensor (GRD_DTYPE_INT64, 2, s3, t3v);
  GrdTensor *in3[] = { p3, t3 };
  g_autoptr (GrdTensor) y3 = grd_test_eval_op ("categorical_crossentropy", NULL, in3, 2);
  double want3[4];
  for (gint r = 0; r < 4; r++)
    want3[r] = -log (grd_tensor_get (p3, r * 3 + (gint) t3v[r]));
  grd_test_assert_tensor (y3, GRD_DTYPE_FLOAT64, 2, s3, want3, 1e-14, 0);

  /* distributions as targets: -sum(t * log(p), last axis) */
  g_autoptr (GrdTensor) q = probabilities (2, s, 7);
  GrdTensor *inq[] = { p32, q };
  g_autoptr (GrdTensor) yq = grd_test_eval_op ("categorical_crossentropy", NULL, inq, 2);
  double wantq[3];
  for (gint r = 0; r < 3; r++) {
    wantq[r] = 0;
    for (gint i = 0; i < 4; i++)
      wantq[r] -= grd_tensor_get (q, r * 4 + i) * log (grd_tensor_get (p32, r * 4 + i));
  }
  grd_test_assert_tensor (yq, GRD_DTYPE_FLOAT64, 1, s, wantq, 1e-12, 0);

  /* unknown dims */
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  GrdRef vars[] = { grd_graph_variable (g, "p", GRD_DTYPE_FLOAT64, 2, NULL, &error),
                    grd_graph_variable (g, "t", GRD_DTYPE_INT32, 1, NULL, &error) };
  GrdRef out = grd_graph_op (g, "cce", "categorical_crossentropy", vars, 2, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (grd_graph_ref_type (g, out)->dims[0], ==, GRD_DIM_UNKNOWN);
  g_autoptr (GrdFunction) fn = grd_function_new (g, vars, 2, &out, 1, NULL, 0, &error);
  g_autoptr (GrdTensor) yu = NULL;
  g_assert_true (grd_function_call (fn, in, &yu, &error));
  grd_test_assert_tensor (yu, GRD_DTYPE_FLOAT64, 1, s, want, 1e-14, 0);

  /* a class out of range at run time names the node; bad types when built */
  tv[1] = 4;
  g_autoptr (GrdTensor) tbad = grd_test_tensor (GRD_DTYPE_INT32, 1, s, tv);
  GrdTensor *inb[] = { p, tbad };
  g_assert_false (grd_function_call (fn, inb, &yu, &error));
  grd_test_assert_error_names (error, GRD_ERROR_VALUE, "'cce'", "4");
  g_clear_error (&error);
  GrdTensor *inw[] = { p, p3 };
  g_assert_null (grd_test_try_op ("categorical_crossentropy", NULL, inw, 2, &error));
  grd_test_assert_error_names (error, GRD_ERROR_TYPE, "'under_test'", "targets");
  g_clear_error (&error);
  gint64 s2[] = { 2 };
  g_autoptr (GrdTensor) t2 = grd_test_tensor (GRD_DTYPE_INT32, 1, s2, tv);
  GrdTensor *ins[] = { p, t2 };
  g_assert_null (grd_test_try_op ("categorical_crossentropy", NULL, ins, 2, &error));
  grd_test_assert_error_names (error, GRD_ERROR_SHAPE, "'under_test'", NULL);
}

static void
test_binary_crossentropy (void)
{
  gint64 s[] = { 2, 3 };
  g_autoptr (GrdTensor) p = grd_test_random (GRD_DTYPE_FLOAT32, 2, s, 0.05, 0.95, 8);
  g_autoptr (GrdTensor) t = grd_test_random (GRD_DTYPE_FLOAT32, 2, s, 0, 1, 9);
  GrdTensor *in[] = { p, t };
  g_autoptr (GrdTensor) y = grd_test_eval_op ("binary_crossentropy", NULL, in, 2);
  double want[6];
  for (gint i = 0; i < 6; i++) {
    double pv = grd_tensor_get (p, i), tv = grd_tensor_get (t, i);
    want[i] = -(tv * log (pv) + (1 - tv) * log (1 - pv));
  }
  grd_test_assert_tensor (y, GRD_DTYPE_FLOAT32, 2, s, want, 1e-6, 1e-7);
  /* broadcast targets of shape [3], float64: the result is float64 */
  gint64 s3[] = { 3 };
  double tv[] = { 0, 1, 0.25 };
  g_autoptr (GrdTensor) tb = grd_test_tensor (GRD_DTYPE_FLOAT64, 1, s3, tv);
  GrdTensor *inb[] = { p, tb };
  g_autoptr (GrdTensor) yb = grd_test_eval_op ("binary_crossentropy", NULL, inb, 2);
  for (gint i = 0; i < 6; i++) {
    double pv = grd_tensor_get (p, i), t2 = tv[i % 3];
    want[i] = -(t2 * log (pv) + (1 - t2) * log (1 - pv));
  }
  grd_test_assert_tensor (yb, GRD_DTYPE_FLOAT64, 2, s, want, 1e-13, 0);
  gint64 s4[] = { 4 };
  g_autoptr (GrdTensor) t4 = grd_tensor_new (GRD_DTYPE_FLOAT32, 1, s4);
  GrdTensor *inw[] = { p, t4 };
  g_autoptr (GError) error = NULL;
  g_assert_null (grd_test_try_op ("binary_crossentropy", NULL, inw, 2, &error));
  grd_test_assert_error_names (error, GRD_ERROR_SHAPE, "'under_test'", NULL);
}

static void
test_one_hot (void)
{
  gint64 s[] = { 2, 2 };
  double iv[] = { 3, 0, 1, 3 };
  g_autoptr (GrdTensor) idx = grd_test_tensor (GRD_DTYPE_INT32, 2, s, iv);
  GrdAttrs a;
  grd_attrs_init (&a);
  a.depth = 4;
  g_autoptr (GrdTensor) y = grd_test_eval_op ("one_hot", &a, &idx, 1);
  gint64 ys[] = { 2, 2, 4 };
  double want[16] = { 0 };
  for (gint i = 0; i < 4; i++)
    want[i * 4 + (gint) iv[i]] = 1;
  grd_test_assert_tensor (y, GRD_DTYPE_FLOAT32, 3, ys, want, 0, 0);
  a.has_dtype = TRUE;
  a.dtype = GRD_DTYPE_INT64;
  g_autoptr (GrdTensor) yi = grd_test_eval_op ("one_hot", &a, &idx, 1);
  grd_test_assert_tensor (yi, GRD_DTYPE_INT64, 3, ys, want, 0, 0);
  /* out of range at run time, no depth, float indices */
  a.depth = 3;
  g_autoptr (GError) error = NULL;
  g_assert_null (grd_test_try_op ("one_hot", &a, &idx, 1, &error));
  grd_test_assert_error_names (error, GRD_ERROR_VALUE, "'under_test'", "3");
  g_clear_error (&error);
  a.depth = 0;
  g_assert_null (grd_test_try_op ("one_hot", &a, &idx, 1, &error));
  grd_test_assert_error_names (error, GRD_ERROR_SHAPE, "'under_test'", "depth");
  g_clear_error (&error);
  a.depth = 4;
  g_autoptr (GrdTensor) f = grd_tensor_cast (idx, GRD_DTYPE_FLOAT32);
  g_assert_null (grd_test_try_op ("one_hot", &a, &f, 1, &error));
  grd_test_assert_error_names (error, GRD_ERROR_TYPE, "'under_test'", NULL);
}

/* ------------------------------------------------------------ gradients */

static void
test_grad_softmax_family (void)
{
  gint64 s[] = { 2, 3, 4 };
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 3, s, -2, 2, 11);
  GrdAttrs a0 = grd_attrs_axis (0, FALSE), a1 = grd_attrs_axis (-2, FALSE);
  const GrdAttrs *axes[] = { NULL, &a0, &a1 };
  for (gsize k = 0; k < G_N_ELEMENTS (axes); k++) {
    grd_test_verify_grad ("softmax", axes[k], &x, 1);
    grd_test_verify_grad ("log_softmax", axes[k], &x, 1);
  }
  GrdAttrs l2;
  grd_attrs_init (&l2);
  l2.has_axis = TRUE;
  l2.n_axes = 2;
  l2.axes[0] = 0, l2.axes[1] = 2;
  GrdAttrs lk = grd_attrs_axis (1, TRUE);
  GrdAttrs dk;
  grd_attrs_init (&dk);
  dk.keepdims = TRUE;
  const GrdAttrs *lse[] = { NULL, &l2, &lk, &dk, &a0 };
  for (gsize k = 0; k < G_N_ELEMENTS (lse); k++)
    grd_test_verify_grad ("logsumexp", lse[k], &x, 1);
  /* at large inputs the gradients stay finite and right */
  gint64 s3[] = { 3 };
  double big[] = { 1000, 1001, 1002 };
  g_autoptr (GrdTensor) xb = grd_test_tensor (GRD_DTYPE_FLOAT64, 1, s3, big);
  grd_test_verify_grad ("log_softmax", NULL, &xb, 1);
  grd_test_verify_grad ("logsumexp", NULL, &xb, 1);
}

static void
test_grad_crossentropy (void)
{
  gint64 s[] = { 3, 4 };
  /* p strictly inside (0, 1); it need not be normalised for the gradient */
  g_autoptr (GrdTensor) p = grd_test_random (GRD_DTYPE_FLOAT64, 2, s, 0.1, 0.9, 21);
  double tv[] = { 0, 3, 3 };
  g_autoptr (GrdTensor) t = grd_test_tensor (GRD_DTYPE_INT64, 1, s, tv);
  GrdTensor *in[] = { p, t };
  grd_test_verify_grad ("categorical_crossentropy", NULL, in, 2);
  g_autoptr (GrdTensor) q = grd_test_random (GRD_DTYPE_FLOAT64, 2, s, 0.1, 0.9, 22);
  GrdTensor *inq[] = { p, q };
  grd_test_verify_grad ("categorical_crossentropy", NULL, inq, 2);
  g_autoptr (GrdTensor) tb = grd_test_random (GRD_DTYPE_FLOAT64, 2, s, 0, 1, 23);
  GrdTensor *inb[] = { p, tb };
  grd_test_verify_grad ("binary_crossentropy", NULL, inb, 2);
  /* broadcast targets: their gradient is summed back */
  g_autoptr (GrdTensor) tr = grd_test_random (GRD_DTYPE_FLOAT64, 1, s + 1, 0, 1, 24);
  GrdTensor *inr[] = { p, tr };
  grd_test_verify_grad ("binary_crossentropy", NULL, inr, 2);

  /* a zero probability of another class gives a zero gradient, not NaN */
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  GrdRef vars[] = { grd_graph_variable (g, "p", GRD_DTYPE_FLOAT64, 2, NULL, &error),
                    grd_graph_variable (g, "t", GRD_DTYPE_INT64, 1, NULL, &error) };
  GrdRef cost = grd_op1 (g, "sum", grd_op2 (g, "categorical_crossentropy", vars[0], vars[1],
                                            &error), &error);
  GrdRef gp;
  grd_graph_grad (g, "grad", cost, vars, 1, NULL, 0, &gp, &error);
  g_assert_no_error (error);
  g_autoptr (GrdFunction) fn = grd_function_new (g, vars, 2, &gp, 1, NULL, 0, &error);
  gint64 s2[] = { 1, 3 };
  double pv[] = { 0, 0.5, 0.5 }, t1[] = { 2 };
  g_autoptr (GrdTensor) p0 = grd_test_tensor (GRD_DTYPE_FLOAT64, 2, s2, pv);
  g_autoptr (GrdTensor) t0 = grd_test_tensor (GRD_DTYPE_INT64, 1, s2, t1);
  GrdTensor *args[] = { p0, t0 };
  g_autoptr (GrdTensor) r = NULL;
  g_assert_true (grd_function_call (fn, args, &r, &error));
  double want[] = { 0, 0, -2 };
  grd_test_assert_tensor (r, GRD_DTYPE_FLOAT64, 2, s2, want, 1e-15, 0);
}

/* The gradient of sum(f(x)^3), itself differentiated by verify_grad. */
static GrdRef
build_grad_of_cube (GrdGraph *g, const GrdRef *vars, gpointer data, GError **error)
{
  GrdRef y = grd_graph_op (g, NULL, data, vars, 1, NULL, error);
  GrdRef cost = grd_op1 (g, "sum", grd_op2 (g, "mul", grd_op2 (g, "mul", y, y, error), y, error),
                         error);
  GrdRef gx = GRD_REF_NONE;
  grd_graph_grad (g, NULL, cost, vars, 1, NULL, 0, &gx, error);
  return gx;
}

static GrdRef
build_grad_of_cce (GrdGraph *g, const GrdRef *vars, gpointer data, GError **error)
{
  GrdRef y = grd_graph_op (g, NULL, data, vars, 2, NULL, error);
  GrdRef cost = grd_op1 (g, "sum", grd_op2 (g, "mul", y, y, error), error);
  GrdRef gx = GRD_REF_NONE;
  grd_graph_grad (g, NULL, cost, vars, 1, NULL, 0, &gx, error);
  return gx;
}

static void
test_grad_of_grad (void)
{
  gint64 s[] = { 3, 4 };
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 2, s, -2, 2, 31);
  grd_test_verify_grad_build (build_grad_of_cube, (gpointer) "softmax", &x, 1, 32);
  grd_test_verify_grad_build (build_grad_of_cube, (gpointer) "log_softmax", &x, 1, 33);
  grd_test_verify_grad_build (build_grad_of_cube, (gpointer) "logsumexp", &x, 1, 34);
  g_autoptr (GrdTensor) p = grd_test_random (GRD_DTYPE_FLOAT64, 2, s, 0.1, 0.9, 35);
  double tv[] = { 1, 0, 3 };
  g_autoptr (GrdTensor) t = grd_test_tensor (GRD_DTYPE_INT32, 1, s, tv);
  GrdTensor *in[] = { p, t };
  grd_test_verify_grad_build (build_grad_of_cce, (gpointer) "categorical_crossentropy", in, 2, 36);
  g_autoptr (GrdTensor) q = grd_test_random (GRD_DTYPE_FLOAT64, 2, s, 0.1, 0.9, 37);
  GrdTensor *inb[] = { p, q };
  grd_test_verify_grad_build (build_grad_of_cce, (gpointer) "binary_crossentropy", inb, 2, 38);
}


static void
test_grad_unknown_dims (void)
{
  gint64 s[] = { 2, 3, 4 };
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 3, s, -2, 2, 41);
  GrdAttrs a1 = grd_attrs_axis (1, FALSE);
  grd_test_verify_grad_unknown_dims ("softmax", NULL, &x, 1);
  grd_test_verify_grad_unknown_dims ("log_softmax", &a1, &x, 1);
  grd_test_verify_grad_unknown_dims ("logsumexp", NULL, &x, 1);
  GrdAttrs l2;
  grd_attrs_init (&l2);
  l2.has_axis = TRUE;
  l2.n_axes = 2;
  l2.axes[0] = 0, l2.axes[1] = 2;
  grd_test_verify_grad_unknown_dims ("logsumexp", &l2, &x, 1);
  gint64 ps[] = { 3, 4 };
  g_autoptr (GrdTensor) p = grd_test_random (GRD_DTYPE_FLOAT64, 2, ps, 0.1, 0.9, 42);
  double tv[] = { 3, 0, 2 };
  g_autoptr (GrdTensor) t = grd_test_tensor (GRD_DTYPE_INT32, 1, ps, tv);
  GrdTensor *in[] = { p, t };
  grd_test_verify_grad_unknown_dims ("categorical_crossentropy", NULL, in, 2);
  g_autoptr (GrdTensor) q = grd_test_random (GRD_DTYPE_FLOAT64, 2, ps, 0.1, 0.9, 43);
  GrdTensor *inq[] = { p, q };
  grd_test_verify_grad_unknown_dims ("categorical_crossentropy", NULL, inq, 2);
  grd_test_verify_grad_unknown_dims ("binary_crossentropy", NULL, inq, 2);
}

static void
test_groups (void)
{
  const char *ops[] = { "softmax", "log_softmax", "logsumexp", "categorical_crossentropy",
                        "binary_crossentropy", "one_hot" };
  for (gsize i = 0; i < G_N_ELEMENTS (ops); i++)
    g_assert_cmpstr (grd_op_group (ops[i]), ==, "neural");
  g_assert_cmpstr (grd_op_group ("_onehot_like"), ==, "internal");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/neural/softmax", test_softmax);
  g_test_add_func ("/engine/neural/large-inputs", test_large_inputs);
  g_test_add_func ("/engine/neural/logsumexp", test_logsumexp);
  g_test_add_func ("/engine/neural/categorical-crossentropy", test_categorical_crossentropy);
  g_test_add_func ("/engine/neural/binary-crossentropy", test_binary_crossentropy);
  g_test_add_func ("/engine/neural/one-hot", test_one_hot);
  g_test_add_func ("/engine/neural/groups", test_groups);
  g_test_add_func ("/engine/neural/grad-softmax-family", test_grad_softmax_family);
  g_test_add_func ("/engine/neural/grad-crossentropy", test_grad_crossentropy);
  g_test_add_func ("/engine/neural/grad-of-grad", test_grad_of_grad);
  g_test_add_func ("/engine/neural/grad-unknown-dims", test_grad_unknown_dims);
  return g_test_run ();
}
