/* test-linalg.c: dot and outer against naive loops, NumPy's dtypes and shape
 * errors, and their gradients in every rank combination. */
#include "grad-check.h"

#include <math.h>
#include <string.h>

/* NumPy's dot of ranks 0-2 written out: a scalar multiplies; otherwise the
 * last axis of a meets the first axis of b (vectors: the only one). */
static void
naive_dot (const GrdTensor *a, const GrdTensor *b, gint *rank, gint64 *shape, double *out)
{
  if (a->rank == 0 || b->rank == 0) {
    const GrdTensor *s = a->rank == 0 ? a : b, *t = a->rank == 0 ? b : a;
    *rank = t->rank;
    memcpy (shape, t->shape, sizeof (gint64) * t->rank);
    for (gint64 i = 0; i < t->size; i++)
      out[i] = grd_tensor_get (s, 0) * grd_tensor_get (t, i);
    return;
  }
  gint64 m = a->rank == 2 ? a->shape[0] : 1, k = a->shape[a->rank - 1];
  gint64 n = b->rank == 2 ? b->shape[1] : 1;
  *rank = 0;
  if (a->rank == 2)
    shape[(*rank)++] = m;
  if (b->rank == 2)
    shape[(*rank)++] = n;
  for (gint64 i = 0; i < m; i++)
    for (gint64 j = 0; j < n; j++) {
      double s = 0;
      for (gint64 p = 0; p < k; p++)
        s += grd_tensor_get (a, i * k + p) * grd_tensor_get (b, p * n + j);
      out[i * n + j] = s;
    }
}

typedef struct {
  gint   ra, rb;
  gint64 a[2], b[2];
} DotCase;

static const DotCase dot_cases[] = {
  { 0, 0, { 0 }, { 0 } },
  { 0, 1, { 0 }, { 4 } },
  { 1, 0, { 4 }, { 0 } },
  { 0, 2, { 0 }, { 3, 2 } },
  { 2, 0, { 3, 2 }, { 0 } },
  { 1, 1, { 5 }, { 5 } },
  { 2, 1, { 3, 5 }, { 5 } },
  { 1, 2, { 5 }, { 5, 4 } },
  { 2, 2, { 3, 5 }, { 5, 4 } },
  { 2, 2, { 1, 1 }, { 1, 1 } },
};

static void
test_dot_values (void)
{
  for (GrdDType dt = GRD_DTYPE_FLOAT32; dt <= GRD_DTYPE_FLOAT64; dt++)
    for (gsize c = 0; c < G_N_ELEMENTS (dot_cases); c++) {
      const DotCase *dc = &dot_cases[c];
      g_autoptr (GrdTensor) a = grd_test_random (dt, dc->ra, dc->a, -1, 1, 2 * c + 1);
      g_autoptr (GrdTensor) b = grd_test_random (dt, dc->rb, dc->b, -1, 1, 2 * c + 2);
      GrdTensor *in[] = { a, b };
      g_autoptr (GrdTensor) got = grd_test_eval_op ("dot", NULL, in, 2);
      gint r;
      gint64 shape[2];
      double want[64];
      naive_dot (a, b, &r, shape, want);
      double tol = dt == GRD_DTYPE_FLOAT32 ? 1e-6 : 1e-14;
      grd_test_assert_tensor (got, dt, r, shape, want, tol, tol);
    }
}

/* float32 sgemm, sgemv and sdot against a naive double loop. */
static void
test_dot_float32_blas (void)
{
  const gint64 sa[] = { 64, 37 }, sb[] = { 37, 50 }, sv[] = { 37 };
  g_autoptr (GrdTensor) a = grd_test_random (GRD_DTYPE_FLOAT32, 2, sa, -1, 1, 31);
  g_autoptr (GrdTensor) b = grd_test_random (GRD_DTYPE_FLOAT32, 2, sb, -1, 1, 32);
  g_autoptr (GrdTensor) v = grd_test_random (GRD_DTYPE_FLOAT32, 1, sv, -1, 1, 33);
  GrdTensor *cases[][2] = { { a, b }, { a, v }, { v, b }, { v, v } };
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++) {
    g_autoptr (GrdTensor) got = grd_test_eval_op ("dot", NULL, cases[c], 2);
    gint r;
    gint64 shape[2];
    g_autofree double *want = g_new (double, 64 * 50);
    naive_dot (cases[c][0], cases[c][1], &r, shape, want);
    /* 37 products of magnitude <= 1: float32 rounding stays under ~37 * 2^-24 */
    grd_test_assert_tensor (got, GRD_DTYPE_FLOAT32, r, shape, want, 1e-5, 1e-5);
  }
}

static void
test_dot_dtypes (void)
{
  /* int32 · int32 stays int32 (NumPy), computed exactly */
  const gint64 s3[] = { 3 }, s23[] = { 2, 3 };
  const double iv[] = { 1, -2, 3 }, im[] = { 4, 5, 6, -7, 8, 9 };
  g_autoptr (GrdTensor) a = grd_test_tensor (GRD_DTYPE_INT32, 1, s3, iv);
  g_autoptr (GrdTensor) m = grd_test_tensor (GRD_DTYPE_INT32, 2, s23, im);
  GrdTensor *mv[] = { m, a };
  g_autoptr (GrdTensor) r1 = grd_test_eval_op ("dot", NULL, mv, 2);
  const gint64 s2[] = { 2 };
  const double want1[] = { 4 - 10 + 18, -7 - 16 + 27 };
  grd_test_assert_tensor (r1, GRD_DTYPE_INT32, 1, s2, want1, 0, 0);

  /* int64 beyond 2^53 stays exact */
  const gint64 s2b[] = { 2 };
  g_autoptr (GrdTensor) big = grd_tensor_new (GRD_DTYPE_INT64, 1, s2b);
  g_autoptr (GrdTensor) small = grd_tensor_new (GRD_DTYPE_INT64, 1, s2b);
  ((gint64 *) big->data)[0] = (G_GINT64_CONSTANT (1) << 60) + 1;
  ((gint64 *) big->data)[1] = 3;
  ((gint64 *) small->data)[0] = 3;
  ((gint64 *) small->data)[1] = 5;
  GrdTensor *bs[] = { big, small };
  g_autoptr (GrdTensor) r2 = grd_test_eval_op ("dot", NULL, bs, 2);
  g_assert_cmpint (r2->dtype, ==, GRD_DTYPE_INT64);
  g_assert_cmpint (((gint64 *) r2->data)[0], ==, 3 * (G_GINT64_CONSTANT (1) << 60) + 3 + 15);

  /* int32 with float32 promotes to float64 */
  g_autoptr (GrdTensor) f = grd_test_tensor (GRD_DTYPE_FLOAT32, 1, s3, (double[]) { 0.5, 0.25, 2 });
  GrdTensor *af[] = { a, f };
  g_autoptr (GrdTensor) r3 = grd_test_eval_op ("dot", NULL, af, 2);
  double want3 = 0.5 - 0.5 + 6;
  grd_test_assert_tensor (r3, GRD_DTYPE_FLOAT64, 0, NULL, &want3, 0, 0);

  /* bool: logical (any of the ands) */
  const double p[] = { 1, 0, 1 }, q[] = { 0, 1, 0 }, qq[] = { 0, 1, 1 };
  g_autoptr (GrdTensor) bp = grd_test_tensor (GRD_DTYPE_BOOL, 1, s3, p);
  g_autoptr (GrdTensor) bq = grd_test_tensor (GRD_DTYPE_BOOL, 1, s3, q);
  g_autoptr (GrdTensor) bqq = grd_test_tensor (GRD_DTYPE_BOOL, 1, s3, qq);
  GrdTensor *pq[] = { bp, bq }, *pqq[] = { bp, bqq };
  g_autoptr (GrdTensor) r4 = grd_test_eval_op ("dot", NULL, pq, 2);
  g_autoptr (GrdTensor) r5 = grd_test_eval_op ("dot", NULL, pqq, 2);
  double f0 = 0, t1 = 1;
  grd_test_assert_tensor (r4, GRD_DTYPE_BOOL, 0, NULL, &f0, 0, 0);
  grd_test_assert_tensor (r5, GRD_DTYPE_BOOL, 0, NULL, &t1, 0, 0);

  /* scalar times an int matrix */
  g_autoptr (GrdTensor) three = grd_tensor_new_scalar (GRD_DTYPE_INT64, 3);
  GrdTensor *sm[] = { three, m };
  g_autoptr (GrdTensor) r6 = grd_test_eval_op ("dot", NULL, sm, 2);
  double want6[6];
  for (gint i = 0; i < 6; i++)
    want6[i] = 3 * im[i];
  grd_test_assert_tensor (r6, GRD_DTYPE_INT64, 2, s23, want6, 0, 0);
}

static void
test_dot_empty (void)
{
  const gint64 s30[] = { 3, 0 }, s04[] = { 0, 4 }, s03[] = { 0, 3 }, s3[] = { 3 };
  g_autoptr (GrdTensor) a = grd_tensor_new (GRD_DTYPE_FLOAT32, 2, s30);
  g_autoptr (GrdTensor) b = grd_tensor_new (GRD_DTYPE_FLOAT32, 2, s04);
  GrdTensor *ab[] = { a, b };
  g_autoptr (GrdTensor) r = grd_test_eval_op ("dot", NULL, ab, 2);
  const gint64 s34[] = { 3, 4 };
  double zeros[12] = { 0 };
  grd_test_assert_tensor (r, GRD_DTYPE_FLOAT32, 2, s34, zeros, 0, 0);
  g_autoptr (GrdTensor) c = grd_tensor_new (GRD_DTYPE_FLOAT64, 2, s03);
  g_autoptr (GrdTensor) v = grd_test_random (GRD_DTYPE_FLOAT64, 1, s3, -1, 1, 3);
  GrdTensor *cv[] = { c, v };
  g_autoptr (GrdTensor) r2 = grd_test_eval_op ("dot", NULL, cv, 2);
  const gint64 z = 0;
  grd_test_assert_tensor (r2, GRD_DTYPE_FLOAT64, 1, &z, NULL, 0, 0);
}

static void
test_dot_errors (void)
{
  const gint64 s34[] = { 3, 4 }, s52[] = { 5, 2 };
  g_autoptr (GrdTensor) a = grd_tensor_new (GRD_DTYPE_FLOAT32, 2, s34);
  g_autoptr (GrdTensor) b = grd_tensor_new (GRD_DTYPE_FLOAT32, 2, s52);
  GrdTensor *ab[] = { a, b };
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdTensor) r = grd_test_try_op ("dot", NULL, ab, 2, &error);
  g_assert_null (r);
  g_assert_error (error, GRD_ERROR, GRD_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "'under_test'"));
  g_assert_nonnull (strstr (error->message, "[3,4]"));
  g_assert_nonnull (strstr (error->message, "[5,2]"));
  g_clear_error (&error);

  /* unknown dims: checked when the function runs */
  g_autoptr (GrdGraph) g = grd_graph_new ();
  const gint64 unk[] = { GRD_DIM_UNKNOWN, GRD_DIM_UNKNOWN };
  GrdRef in[] = { grd_graph_variable (g, "a", GRD_DTYPE_FLOAT32, 2, unk, &error),
                  grd_graph_variable (g, "b", GRD_DTYPE_FLOAT32, 2, unk, &error) };
  GrdRef out = grd_graph_op (g, "prod", "dot", in, 2, NULL, &error);
  g_assert_no_error (error);
  g_autofree char *t = grd_type_describe (grd_graph_ref_type (g, out));
  g_assert_cmpstr (t, ==, "float32[?,?]");
  g_autoptr (GrdFunction) fn = grd_function_new (g, in, 2, &out, 1, NULL, 0, &error);
  g_assert_no_error (error);
  GrdTensor *res = NULL;
  g_assert_false (grd_function_call (fn, ab, &res, &error));
  g_assert_error (error, GRD_ERROR, GRD_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "'prod'"));
  g_assert_nonnull (strstr (error->message, "[3,4]"));
  g_assert_nonnull (strstr (error->message, "[5,2]"));
  g_clear_error (&error);

  /* vector lengths */
  const gint64 s4[] = { 4 }, s5[] = { 5 };
  g_autoptr (GrdTensor) u = grd_tensor_new (GRD_DTYPE_FLOAT64, 1, s4);
  g_autoptr (GrdTensor) w = grd_tensor_new (GRD_DTYPE_FLOAT64, 1, s5);
  GrdTensor *uw[] = { u, w };
  g_autoptr (GrdTensor) r2 = grd_test_try_op ("dot", NULL, uw, 2, &error);
  g_assert_null (r2);
  g_assert_nonnull (strstr (error->message, "[4] and [5]"));
  g_clear_error (&error);

  /* rank 3 is a type error */
  const gint64 s234[] = { 2, 3, 4 };
  g_autoptr (GrdTensor) c = grd_tensor_new (GRD_DTYPE_FLOAT64, 3, s234);
  GrdTensor *cu[] = { c, u };
  g_autoptr (GrdTensor) r3 = grd_test_try_op ("dot", NULL, cu, 2, &error);
  g_assert_null (r3);
  g_assert_error (error, GRD_ERROR, GRD_ERROR_TYPE);
  g_assert_nonnull (strstr (error->message, "'under_test'"));
}

static void
test_dot_static_types (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  const gint64 d1[] = { GRD_DIM_UNKNOWN, 4 }, d2[] = { 4, GRD_DIM_UNKNOWN }, d3[] = { 3, GRD_DIM_UNKNOWN },
               d4[] = { GRD_DIM_UNKNOWN };
  GrdRef a = grd_graph_variable (g, "a", GRD_DTYPE_FLOAT32, 2, d1, &error);
  GrdRef b = grd_graph_variable (g, "b", GRD_DTYPE_FLOAT64, 2, d2, &error);
  GrdRef c = grd_graph_variable (g, "c", GRD_DTYPE_INT32, 2, d3, &error);
  GrdRef v = grd_graph_variable (g, "v", GRD_DTYPE_INT32, 1, d4, &error);
  const struct {
    const char *op;
    GrdRef x, y;
    const char *want;
  } cases[] = {
    { "dot", a, b, "float64[?,?]" },
    { "dot", c, v, "int32[3]" },
    { "dot", v, b, "float64[?]" },
    { "dot", v, v, "int32[]" },
    { "outer", c, a, "float64[?,?]" },
    { "outer", v, b, "float64[?,?]" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    GrdRef r = grd_op2 (g, cases[i].op, cases[i].x, cases[i].y, &error);
    g_assert_no_error (error);
    g_autofree char *got = grd_type_describe (grd_graph_ref_type (g, r));
    g_assert_cmpstr (got, ==, cases[i].want);
  }
  const gint64 k3[] = { 3 }, k23[] = { 2, 3 };
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT32, 1, k3, &error);
  GrdRef y = grd_graph_variable (g, "y", GRD_DTYPE_FLOAT32, 2, k23, &error);
  GrdRef o = grd_op2 (g, "outer", y, x, &error);
  g_assert_no_error (error);
  g_autofree char *ot = grd_type_describe (grd_graph_ref_type (g, o));
  g_assert_cmpstr (ot, ==, "float32[6,3]");
  g_assert_cmpstr (grd_op_group ("dot"), ==, "linear algebra");
  g_assert_cmpstr (grd_op_group ("outer"), ==, "linear algebra");
}

static void
test_outer_values (void)
{
  const gint64 s22[] = { 2, 2 }, s3[] = { 3 };
  g_autoptr (GrdTensor) a = grd_test_random (GRD_DTYPE_FLOAT64, 2, s22, -1, 1, 41);
  g_autoptr (GrdTensor) b = grd_test_random (GRD_DTYPE_FLOAT32, 1, s3, -1, 1, 42);
  g_autoptr (GrdTensor) s = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, -2);
  GrdTensor *pairs[][2] = { { a, b }, { b, a }, { s, b }, { b, b } };
  for (gsize c = 0; c < G_N_ELEMENTS (pairs); c++) {
    GrdTensor *x = pairs[c][0], *y = pairs[c][1];
    g_autoptr (GrdTensor) got = grd_test_eval_op ("outer", NULL, pairs[c], 2);
    const gint64 shape[] = { x->size, y->size };
    double want[16];
    for (gint64 i = 0; i < x->size; i++)
      for (gint64 j = 0; j < y->size; j++)
        want[i * y->size + j] = grd_tensor_get (x, i) * grd_tensor_get (y, j);
    GrdDType dt = x->dtype == y->dtype ? x->dtype : GRD_DTYPE_FLOAT64;
    grd_test_assert_tensor (got, dt, 2, shape, want, dt == GRD_DTYPE_FLOAT32 ? 1e-7 : 1e-15, 0);
  }
  /* integers and bool keep their (promoted) dtype */
  const double iv[] = { 1, -2, 3 }, bv[] = { 1, 0, 1 };
  g_autoptr (GrdTensor) i = grd_test_tensor (GRD_DTYPE_INT32, 1, s3, iv);
  g_autoptr (GrdTensor) bb = grd_test_tensor (GRD_DTYPE_BOOL, 1, s3, bv);
  GrdTensor *ib[] = { i, bb }, *bbb[] = { bb, bb };
  g_autoptr (GrdTensor) r1 = grd_test_eval_op ("outer", NULL, ib, 2);
  const gint64 s33[] = { 3, 3 };
  const double want1[] = { 1, 0, 1, -2, 0, -2, 3, 0, 3 };
  grd_test_assert_tensor (r1, GRD_DTYPE_INT32, 2, s33, want1, 0, 0);
  g_autoptr (GrdTensor) r2 = grd_test_eval_op ("outer", NULL, bbb, 2);
  const double want2[] = { 1, 0, 1, 0, 0, 0, 1, 0, 1 };
  grd_test_assert_tensor (r2, GRD_DTYPE_BOOL, 2, s33, want2, 0, 0);
}

/* ------------------------------------------------------------ gradients */

static void
test_grad_dot (void)
{
  for (gsize c = 0; c < G_N_ELEMENTS (dot_cases); c++) {
    const DotCase *dc = &dot_cases[c];
    g_autoptr (GrdTensor) a = grd_test_random (GRD_DTYPE_FLOAT64, dc->ra, dc->a, -1, 1, 3 * c + 1);
    g_autoptr (GrdTensor) b = grd_test_random (GRD_DTYPE_FLOAT64, dc->rb, dc->b, -1, 1, 3 * c + 2);
    GrdTensor *in[] = { a, b };
    grd_test_verify_grad ("dot", NULL, in, 2);
  }
  /* mixed dtypes: the checker makes floats float64, the int input gets none */
  const gint64 s34[] = { 3, 4 }, s4[] = { 4 };
  g_autoptr (GrdTensor) m = grd_test_random (GRD_DTYPE_FLOAT32, 2, s34, -1, 1, 50);
  g_autoptr (GrdTensor) iv = grd_test_random (GRD_DTYPE_INT32, 1, s4, -3, 3, 51);
  GrdTensor *mi[] = { m, iv };
  grd_test_verify_grad ("dot", NULL, mi, 2);
}

static void
test_grad_outer (void)
{
  const gint64 s4[] = { 4 }, s3[] = { 3 }, s23[] = { 2, 3 };
  g_autoptr (GrdTensor) u = grd_test_random (GRD_DTYPE_FLOAT64, 1, s4, -1, 1, 61);
  g_autoptr (GrdTensor) v = grd_test_random (GRD_DTYPE_FLOAT64, 1, s3, -1, 1, 62);
  g_autoptr (GrdTensor) m = grd_test_random (GRD_DTYPE_FLOAT64, 2, s23, -1, 1, 63);
  g_autoptr (GrdTensor) s = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 0.7);
  GrdTensor *pairs[][2] = { { u, v }, { m, u }, { u, m }, { s, v }, { v, s } };
  for (gsize c = 0; c < G_N_ELEMENTS (pairs); c++)
    grd_test_verify_grad ("outer", NULL, pairs[c], 2);
}

/* Second derivatives: the gradient (wrt `which`) of sum(dot(a, b)²) is
 * itself differentiated, through _dot_nt, _dot_tn, outer and dot. */
static GrdRef
build_dot_second (GrdGraph *g, const GrdRef *v, gpointer data, GError **error)
{
  gint which = GPOINTER_TO_INT (data);
  GrdRef c = grd_op2 (g, "dot", v[0], v[1], error);
  GrdRef cost = grd_op1 (g, "sum", grd_op2 (g, "mul", c, c, error), error);
  GrdRef grads[2] = { GRD_REF_NONE, GRD_REF_NONE };
  grd_graph_grad (g, NULL, cost, v, 2, NULL, 0, grads, error);
  return grads[which];
}

static void
test_grad_of_grad (void)
{
  static const DotCase cases[] = {
    { 2, 2, { 3, 4 }, { 4, 2 } },
    { 2, 1, { 3, 4 }, { 4 } },
    { 1, 2, { 4 }, { 4, 2 } },
    { 1, 1, { 4 }, { 4 } },
    { 0, 2, { 0 }, { 2, 3 } },
  };
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++) {
    const DotCase *dc = &cases[c];
    g_autoptr (GrdTensor) a = grd_test_random (GRD_DTYPE_FLOAT64, dc->ra, dc->a, -1, 1, 5 * c + 1);
    g_autoptr (GrdTensor) b = grd_test_random (GRD_DTYPE_FLOAT64, dc->rb, dc->b, -1, 1, 5 * c + 2);
    GrdTensor *in[] = { a, b };
    for (gint which = 0; which < 2; which++)
      grd_test_verify_grad_build (build_dot_second, GINT_TO_POINTER (which), in, 2, c + 1);
  }
}

/* outer of a matrix: its gradient goes through _ravel and back. */
static GrdRef
build_outer_second (GrdGraph *g, const GrdRef *v, gpointer data, GError **error)
{
  GrdRef o = grd_op2 (g, "outer", v[0], v[1], error);
  GrdRef cost = grd_op1 (g, "sum", grd_op2 (g, "mul", o, o, error), error);
  GrdRef grads[2] = { GRD_REF_NONE, GRD_REF_NONE };
  grd_graph_grad (g, NULL, cost, v, 2, NULL, 0, grads, error);
  return grads[GPOINTER_TO_INT (data)];
}

static void
test_grad_of_grad_outer (void)
{
  const gint64 s23[] = { 2, 3 }, s2[] = { 2 };
  g_autoptr (GrdTensor) m = grd_test_random (GRD_DTYPE_FLOAT64, 2, s23, -1, 1, 71);
  g_autoptr (GrdTensor) v = grd_test_random (GRD_DTYPE_FLOAT64, 1, s2, -1, 1, 72);
  GrdTensor *in[] = { m, v };
  grd_test_verify_grad_build (build_outer_second, GINT_TO_POINTER (0), in, 2, 3);
  grd_test_verify_grad_build (build_outer_second, GINT_TO_POINTER (1), in, 2, 4);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/linalg/dot-values", test_dot_values);
  g_test_add_func ("/engine/linalg/dot-float32-blas", test_dot_float32_blas);
  g_test_add_func ("/engine/linalg/dot-dtypes", test_dot_dtypes);
  g_test_add_func ("/engine/linalg/dot-empty", test_dot_empty);
  g_test_add_func ("/engine/linalg/dot-errors", test_dot_errors);
  g_test_add_func ("/engine/linalg/static-types", test_dot_static_types);
  g_test_add_func ("/engine/linalg/outer-values", test_outer_values);
  g_test_add_func ("/engine/linalg/grad-dot", test_grad_dot);
  g_test_add_func ("/engine/linalg/grad-outer", test_grad_outer);
  g_test_add_func ("/engine/linalg/grad-of-grad-dot", test_grad_of_grad);
  g_test_add_func ("/engine/linalg/grad-of-grad-outer", test_grad_of_grad_outer);
  return g_test_run ();
}
