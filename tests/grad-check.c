/* grad-check.c: test helpers: random tensors, op evaluation and verify_grad. */
#include "grad-check.h"
#include "grd-internal.h"

#include <math.h>
#include <string.h>

GrdTensor *
grd_test_random (GrdDType dtype, gint rank, const gint64 *shape, double lo, double hi, guint64 seed)
{
  GrdRandom rng;
  grd_random_seed (&rng, seed);
  GrdTensor *t = grd_tensor_new (dtype, rank, shape);
  for (gint64 i = 0; i < t->size; i++) {
    double v = lo + (hi - lo) * grd_random_uniform (&rng);
    grd_tensor_set (t, i, grd_dtype_is_float (dtype) ? v : floor (v));
  }
  return t;
}

GrdTensor *
grd_test_tensor (GrdDType dtype, gint rank, const gint64 *shape, const double *values)
{
  return grd_tensor_new_from_doubles (dtype, rank, shape, values);
}

GrdTensor *
grd_test_try_op (const char *op, const GrdAttrs *attrs, GrdTensor *const *inputs, gint n_inputs,
                 GError **error)
{
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef vars[16];
  g_assert (n_inputs <= 16);
  for (gint i = 0; i < n_inputs; i++) {
    vars[i] = grd_graph_variable (g, NULL, inputs[i]->dtype, inputs[i]->rank, inputs[i]->shape, error);
    if (grd_ref_is_none (vars[i]))
      return NULL;
  }
  GrdRef out = grd_graph_op (g, "under_test", op, vars, n_inputs, attrs, error);
  if (grd_ref_is_none (out))
    return NULL;
  /* the reference executor: these check the op's own kernel */
  g_autoptr (GrdFunction) fn = grd_function_new_with_passes (g, vars, n_inputs, &out, 1, NULL, 0, 0, error);
  if (!fn)
    return NULL;
  GrdTensor *result = NULL;
  if (!grd_function_call (fn, inputs, &result, error))
    return NULL;
  return result;
}

GrdTensor *
grd_test_eval_op (const char *op, const GrdAttrs *attrs, GrdTensor *const *inputs, gint n_inputs)
{
  g_autoptr (GError) error = NULL;
  GrdTensor *t = grd_test_try_op (op, attrs, inputs, n_inputs, &error);
  g_assert_no_error (error);
  g_assert_nonnull (t);
  return t;
}

static gboolean
close_enough (double got, double want, double rtol, double atol)
{
  if (isnan (want))
    return isnan (got);
  if (isinf (want) || isinf (got))
    return got == want;
  return fabs (got - want) <= atol + rtol * fabs (want);
}

void
grd_test_assert_tensor (const GrdTensor *got, GrdDType dtype, gint rank, const gint64 *shape,
                        const double *want, double rtol, double atol)
{
  g_assert_nonnull (got);
  if (got->dtype != dtype)
    g_error ("dtype: got %s, want %s", grd_dtype_name (got->dtype), grd_dtype_name (dtype));
  g_assert_cmpint (got->rank, ==, rank);
  for (gint i = 0; i < rank; i++)
    g_assert_cmpint (got->shape[i], ==, shape[i]);
  for (gint64 i = 0; i < got->size; i++) {
    double v = grd_tensor_get (got, i);
    if (!close_enough (v, want[i], rtol, atol))
      g_error ("element %" G_GINT64_FORMAT ": got %.17g, want %.17g", i, v, want[i]);
  }
}

void
grd_test_assert_close (const GrdTensor *got, const GrdTensor *want, double rtol, double atol)
{
  g_autofree double *w = g_new (double, MAX (want->size, 1));
  for (gint64 i = 0; i < want->size; i++)
    w[i] = grd_tensor_get (want, i);
  grd_test_assert_tensor (got, want->dtype, want->rank, want->shape, w, rtol, atol);
}

void
grd_test_assert_error_names (GError *error, gint code, const char *node, const char *what)
{
  g_assert_nonnull (error);
  g_assert_error (error, GRD_ERROR, code);
  if (!strstr (error->message, node) || (what && !strstr (error->message, what)))
    g_error ("message '%s' should name %s and say '%s'", error->message, node, what ? what : "");
}

typedef struct {
  const char     *op;
  const GrdAttrs *attrs;
  gint            n;
} OpBuild;

static GrdRef
build_op (GrdGraph *g, const GrdRef *vars, gpointer data, GError **error)
{
  OpBuild *b = data;
  return grd_graph_op (g, "under_test", b->op, vars, b->n, b->attrs, error);
}

void
grd_test_verify_grad (const char *op, const GrdAttrs *attrs, GrdTensor *const *inputs, gint n_inputs)
{
  OpBuild b = { op, attrs, n_inputs };
  grd_test_verify_grad_build (build_op, &b, inputs, n_inputs, g_str_hash (op));
}

void
grd_test_verify_grad_build (GrdTestBuild build, gpointer data, GrdTensor *const *inputs,
                            gint n_inputs, guint64 seed)
{
  grd_test_verify_grad_full (build, data, inputs, n_inputs, seed, FALSE);
}

void
grd_test_verify_grad_unknown_dims (const char *op, const GrdAttrs *attrs, GrdTensor *const *inputs,
                                   gint n_inputs)
{
  OpBuild b = { op, attrs, n_inputs };
  grd_test_verify_grad_full (build_op, &b, inputs, n_inputs, g_str_hash (op) + 1, TRUE);
}

void
grd_test_verify_grad_full (GrdTestBuild build, gpointer data, GrdTensor *const *inputs,
                           gint n_inputs, guint64 seed, gboolean unknown_dims)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef vars[16], wrt[16];
  GrdTensor *vals[16];
  gint n_wrt = 0, wrt_index[16];
  g_assert (n_inputs <= 16);
  for (gint i = 0; i < n_inputs; i++) {
    GrdDType dt = grd_dtype_is_float (inputs[i]->dtype) ? GRD_DTYPE_FLOAT64 : inputs[i]->dtype;
    vals[i] = grd_tensor_cast (inputs[i], dt);
    vars[i] = grd_graph_variable (g, NULL, dt, vals[i]->rank, unknown_dims ? NULL : vals[i]->shape,
                                  &error);
    g_assert_no_error (error);
    if (grd_dtype_is_float (dt)) {
      wrt_index[n_wrt] = i;
      wrt[n_wrt++] = vars[i];
    }
  }
  GrdRef out = build (g, vars, data, &error);
  g_assert_no_error (error);
  /* Evaluate once to learn the output shape, then project. */
  g_autoptr (GrdFunction) f0 = grd_function_new (g, vars, n_inputs, &out, 1, NULL, 0, &error);
  g_assert_no_error (error);
  g_autoptr (GrdTensor) y = NULL;
  g_assert_true (grd_function_call (f0, vals, &y, &error));
  g_autoptr (GrdTensor) proj = grd_test_random (GRD_DTYPE_FLOAT64, y->rank, y->shape, -1, 1, seed);
  GrdRef outf = out;
  if (grd_graph_ref_type (g, out)->dtype != GRD_DTYPE_FLOAT64) {
    GrdAttrs ca;
    grd_attrs_init (&ca);
    ca.has_dtype = TRUE;
    ca.dtype = GRD_DTYPE_FLOAT64;
    outf = grd_graph_op (g, NULL, "cast", &out, 1, &ca, &error);
  }
  GrdRef p = grd_graph_constant (g, "projection", proj, &error);
  GrdRef cost = grd_op1 (g, "sum", grd_op2 (g, "mul", outf, p, &error), &error);
  g_assert_no_error (error);
  GrdRef grads[16];
  grd_graph_grad (g, "grad", cost, wrt, n_wrt, NULL, 0, grads, &error);
  g_assert_no_error (error);
  GrdRef outs[17];
  outs[0] = cost;
  for (gint i = 0; i < n_wrt; i++)
    outs[i + 1] = grads[i];
  g_autoptr (GrdFunction) fn = grd_function_new (g, vars, n_inputs, outs, n_wrt + 1, NULL, 0, &error);
  g_assert_no_error (error);
  GrdTensor *res[17];
  /* graphs that draw random numbers draw the same ones at every evaluation */
  grd_graph_random_reset (g);
  g_assert_true (grd_function_call (fn, vals, res, &error));
  for (gint w = 0; w < n_wrt; w++) {
    gint k = wrt_index[w];
    GrdTensor *sym = res[w + 1];
    g_assert_cmpint (sym->dtype, ==, GRD_DTYPE_FLOAT64);
    const GrdType *gt = grd_graph_ref_type (g, grads[w]);
    g_assert_cmpint (gt->rank, ==, vals[k]->rank);
    for (gint d = 0; unknown_dims && d < gt->rank; d++)
      g_assert_cmpint (gt->dims[d], ==, GRD_DIM_UNKNOWN);
    g_assert_true (grd_tensor_same_shape (sym, vals[k]));
    for (gint64 e = 0; e < vals[k]->size; e++) {
      const double eps = 1e-7;
      double x0 = grd_tensor_get (vals[k], e), c[2];
      for (gint s = 0; s < 2; s++) {
        g_autoptr (GrdTensor) cp = grd_tensor_copy (vals[k]);
        grd_tensor_set (cp, e, x0 + (s ? -eps : eps));
        GrdTensor *args[16];
        for (gint i = 0; i < n_inputs; i++)
          args[i] = i == k ? cp : vals[i];
        GrdTensor *r[17];
        grd_graph_random_reset (g);
        g_assert_true (grd_function_call (fn, args, r, &error));
        c[s] = grd_tensor_get (r[0], 0);
        for (gint i = 0; i <= n_wrt; i++)
          grd_tensor_unref (r[i]);
      }
      double num = (c[0] - c[1]) / (2 * eps);
      double got = grd_tensor_get (sym, e);
      double err = fabs (num - got);
      if (!(err <= 1e-4 || err <= 1e-4 * fabs (num)))
        g_error ("verify_grad: input %d element %" G_GINT64_FORMAT ": symbolic %.10g, numeric %.10g",
                 k, e, got, num);
    }
  }
  for (gint i = 0; i <= n_wrt; i++)
    grd_tensor_unref (res[i]);
  for (gint i = 0; i < n_inputs; i++)
    grd_tensor_unref (vals[i]);
}
