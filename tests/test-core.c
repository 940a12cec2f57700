/* test-core.c: dtypes, tensors, broadcasting, graph building and functions,
 * using only the engine's internal ops so it does not depend on the catalogue. */
#include "grad-check.h"
#include "grd-internal.h"

#include <math.h>

static void
test_dtype_promotion (void)
{
  /* numpy.result_type of array dtypes */
  struct { GrdDType a, b, want; } cases[] = {
    { GRD_DTYPE_BOOL, GRD_DTYPE_BOOL, GRD_DTYPE_BOOL },
    { GRD_DTYPE_BOOL, GRD_DTYPE_INT32, GRD_DTYPE_INT32 },
    { GRD_DTYPE_INT32, GRD_DTYPE_INT64, GRD_DTYPE_INT64 },
    { GRD_DTYPE_INT32, GRD_DTYPE_FLOAT32, GRD_DTYPE_FLOAT64 },
    { GRD_DTYPE_INT64, GRD_DTYPE_FLOAT32, GRD_DTYPE_FLOAT64 },
    { GRD_DTYPE_BOOL, GRD_DTYPE_FLOAT32, GRD_DTYPE_FLOAT32 },
    { GRD_DTYPE_FLOAT32, GRD_DTYPE_FLOAT64, GRD_DTYPE_FLOAT64 },
    { GRD_DTYPE_INT64, GRD_DTYPE_FLOAT64, GRD_DTYPE_FLOAT64 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_assert_cmpint (grd_dtype_promote (cases[i].a, cases[i].b), ==, cases[i].want);
    g_assert_cmpint (grd_dtype_promote (cases[i].b, cases[i].a), ==, cases[i].want);
  }
  GrdDType d;
  g_assert_true (grd_dtype_from_name ("int64", &d) && d == GRD_DTYPE_INT64);
  g_assert_false (grd_dtype_from_name ("float16", &d));
  g_assert_cmpstr (grd_dtype_name (GRD_DTYPE_FLOAT32), ==, "float32");
}

static void
test_tensor_cast (void)
{
  gint64 shape[] = { 5 };
  double v[] = { -1.5, 0.0, 2.7, 1e10, NAN };
  g_autoptr (GrdTensor) t = grd_test_tensor (GRD_DTYPE_FLOAT64, 1, shape, v);
  g_autoptr (GrdTensor) i = grd_tensor_cast (t, GRD_DTYPE_INT64);
  g_assert_cmpint (((gint64 *) i->data)[0], ==, -1);   /* truncation toward zero */
  g_assert_cmpint (((gint64 *) i->data)[2], ==, 2);
  g_assert_cmpint (((gint64 *) i->data)[3], ==, 10000000000);
  g_autoptr (GrdTensor) b = grd_tensor_cast (t, GRD_DTYPE_BOOL);
  guint8 *bb = b->data;
  g_assert_true (bb[0] == 1 && bb[1] == 0 && bb[2] == 1 && bb[4] == 1);  /* NaN is true */
  g_autoptr (GrdTensor) f = grd_tensor_cast (t, GRD_DTYPE_FLOAT32);
  g_assert_cmpfloat (((float *) f->data)[2], ==, 2.7f);
  /* int64 -> int32 wraps as NumPy's astype does */
  gint64 one[] = { 1 };
  g_autoptr (GrdTensor) big = grd_tensor_new (GRD_DTYPE_INT64, 1, one);
  ((gint64 *) big->data)[0] = G_GINT64_CONSTANT (4294967297);
  g_autoptr (GrdTensor) w = grd_tensor_cast (big, GRD_DTYPE_INT32);
  g_assert_cmpint (((gint32 *) w->data)[0], ==, 1);
  g_autofree char *desc = grd_tensor_describe (t);
  g_assert_cmpstr (desc, ==, "float64[5]");
}

static void
test_broadcast_types (void)
{
  GrdType a, b;
  gint64 da[] = { 3, 1 }, db[] = { 4 };
  grd_type_set (&a, GRD_DTYPE_FLOAT32, 2, da);
  grd_type_set (&b, GRD_DTYPE_FLOAT32, 1, db);
  GrdType in[2] = { a, b };
  gint64 out[GRD_MAX_RANK];
  g_assert_true (grd_broadcast_types (in, 2, 2, out, NULL));
  g_assert_cmpint (out[0], ==, 3);
  g_assert_cmpint (out[1], ==, 4);
  /* unknown against 1 stays unknown; unknown against 5 becomes 5 */
  gint64 du[] = { GRD_DIM_UNKNOWN, GRD_DIM_UNKNOWN }, dk[] = { 1, 5 };
  grd_type_set (&in[0], GRD_DTYPE_FLOAT32, 2, du);
  grd_type_set (&in[1], GRD_DTYPE_FLOAT32, 2, dk);
  g_assert_true (grd_broadcast_types (in, 2, 2, out, NULL));
  g_assert_cmpint (out[0], ==, GRD_DIM_UNKNOWN);
  g_assert_cmpint (out[1], ==, 5);
  /* a mismatch names both shapes */
  gint64 d3[] = { 3 }, d4[] = { 4 };
  grd_type_set (&in[0], GRD_DTYPE_FLOAT32, 1, d3);
  grd_type_set (&in[1], GRD_DTYPE_FLOAT32, 1, d4);
  g_autoptr (GError) error = NULL;
  g_assert_false (grd_broadcast_types (in, 2, 1, out, &error));
  g_assert_error (error, GRD_ERROR, GRD_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "[3] and [4]"));
}

static void
test_graph_ids (void)
{
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT32, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (x.node, ==, 0);
  GrdRef dup = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT32, 0, NULL, &error);
  g_assert_true (grd_ref_is_none (dup));
  g_assert_error (error, GRD_ERROR, GRD_ERROR_GRAPH);
  g_assert_nonnull (strstr (error->message, "'x'"));
  g_clear_error (&error);
  GrdRef bad = grd_graph_variable (g, "9lives", GRD_DTYPE_FLOAT32, 0, NULL, &error);
  g_assert_true (grd_ref_is_none (bad));
  g_assert_nonnull (strstr (error->message, "9lives"));
  g_clear_error (&error);
  GrdRef unknown = grd_op1 (g, "no_such_op", x, &error);
  g_assert_true (grd_ref_is_none (unknown));
  g_assert_nonnull (strstr (error->message, "no_such_op"));
  g_clear_error (&error);
  /* a missing input makes the next call fail too, so calls nest */
  GrdRef nested = grd_op2 (g, "_broadcast_to", GRD_REF_NONE, x, &error);
  g_assert_true (grd_ref_is_none (nested));
  g_assert_nonnull (error);
  g_clear_error (&error);
  GrdRef r;
  g_assert_true (grd_graph_lookup (g, "x", &r, NULL));
  g_assert_false (grd_graph_lookup (g, "x:1", &r, &error));
  g_assert_nonnull (strstr (error->message, "1 output"));
  g_clear_error (&error);
  g_assert_false (grd_graph_lookup (g, "x:abc", &r, &error));
  g_clear_error (&error);
  g_assert_false (grd_graph_lookup (g, "y", &r, &error));
  g_assert_cmpint (grd_graph_n_nodes (g), ==, 1);
}

static GrdTensor *
vec (double a, double b)
{
  gint64 shape[] = { 2 };
  double v[] = { a, b };
  return grd_test_tensor (GRD_DTYPE_FLOAT64, 1, shape, v);
}

static void
test_simultaneous_updates (void)
{
  /* a <- b and b <- a in one call swap them: every update sees the old values */
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdTensor) va = vec (1, 2), vb = vec (3, 4);
  GrdRef a = grd_graph_shared (g, "a", va, &error);
  GrdRef b = grd_graph_shared (g, "b", vb, &error);
  GrdRef a_next = grd_op2 (g, "_broadcast_to", b, a, &error);
  GrdRef b_next = grd_op2 (g, "_broadcast_to", a, b, &error);
  g_assert_no_error (error);
  GrdUpdate ups[] = { { a, a_next }, { b, b_next } };
  GrdRef outs[] = { a, b_next };
  g_autoptr (GrdFunction) fn = grd_function_new (g, NULL, 0, outs, 2, ups, 2, &error);
  g_assert_no_error (error);
  GrdTensor *res[2];
  g_assert_true (grd_function_call (fn, NULL, res, &error));
  double old_a[] = { 1, 2 }, new_a[] = { 3, 4 }, new_b[] = { 1, 2 };
  gint64 shape[] = { 2 };
  /* the output a is the value from before the call */
  grd_test_assert_tensor (res[0], GRD_DTYPE_FLOAT64, 1, shape, old_a, 0, 0);
  grd_test_assert_tensor (grd_graph_get_value (g, a), GRD_DTYPE_FLOAT64, 1, shape, new_a, 0, 0);
  grd_test_assert_tensor (grd_graph_get_value (g, b), GRD_DTYPE_FLOAT64, 1, shape, new_b, 0, 0);
  grd_tensor_unref (res[0]);
  grd_tensor_unref (res[1]);
  /* the caller's tensors were not modified */
  g_assert_cmpfloat (((double *) va->data)[0], ==, 1);
}

static void
test_function_errors (void)
{
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  gint64 d2[] = { 2 }, d3[] = { 3 };
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 1, d2, &error);
  GrdRef y = grd_graph_variable (g, "y", GRD_DTYPE_FLOAT64, 1, NULL, &error);
  g_autoptr (GrdTensor) v3 = grd_tensor_new (GRD_DTYPE_FLOAT64, 1, d3);
  GrdRef s = grd_graph_shared (g, "s", v3, &error);
  GrdRef xy = grd_op2 (g, "_broadcast_to", x, y, &error);
  g_assert_no_error (error);

  /* a needed variable that is not an input */
  g_assert_null (grd_function_new (g, &x, 1, &xy, 1, NULL, 0, &error));
  g_assert_nonnull (strstr (error->message, "'y'"));
  g_clear_error (&error);
  /* an input that is not a variable */
  g_assert_null (grd_function_new (g, &s, 1, &s, 1, NULL, 0, &error));
  g_assert_nonnull (strstr (error->message, "'s'"));
  g_clear_error (&error);
  /* an update of the wrong shape, named */
  GrdUpdate bad = { s, x };
  g_assert_null (grd_function_new (g, &x, 1, NULL, 0, &bad, 1, &error));
  g_assert_nonnull (strstr (error->message, "'s'"));
  g_assert_nonnull (strstr (error->message, "float64[3]"));
  g_clear_error (&error);
  /* a fed value of the wrong shape, named */
  GrdRef in[] = { x, y };
  g_autoptr (GrdFunction) fn = grd_function_new (g, in, 2, &xy, 1, NULL, 0, &error);
  g_assert_no_error (error);
  g_autoptr (GrdTensor) v2 = grd_tensor_new (GRD_DTYPE_FLOAT64, 1, d2);
  GrdTensor *args[] = { v3, v2 };
  GrdTensor *out = NULL;
  g_assert_false (grd_function_call (fn, args, &out, &error));
  g_assert_nonnull (strstr (error->message, "'x'"));
  g_clear_error (&error);
  /* a run-time broadcast failure names the node */
  GrdTensor *args2[] = { v2, v3 };
  g_assert_false (grd_function_call (fn, args2, &out, &error));
  g_assert_error (error, GRD_ERROR, GRD_ERROR_SHAPE);
  g_clear_error (&error);
  /* a downcast is refused */
  g_autoptr (GrdGraph) g2 = grd_graph_new ();
  GrdRef f = grd_graph_variable (g2, "f", GRD_DTYPE_FLOAT32, 0, NULL, &error);
  g_autoptr (GrdFunction) fn2 = grd_function_new (g2, &f, 1, &f, 1, NULL, 0, &error);
  g_autoptr (GrdTensor) d = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 1.0);
  g_assert_false (grd_function_call (fn2, &d, &out, &error));
  g_assert_nonnull (strstr (error->message, "float32"));
}

static void
test_grad_of_internal_ops (void)
{
  /* d/dx sum-to-shape and broadcast, through the grad driver */
  gint64 s23[] = { 2, 3 };
  g_autoptr (GrdTensor) big = grd_test_random (GRD_DTYPE_FLOAT64, 2, s23, -1, 1, 7);
  g_autoptr (GrdTensor) small = grd_test_random (GRD_DTYPE_FLOAT64, 1, s23 + 1, -1, 1, 8);
  GrdTensor *in[] = { small, big };
  grd_test_verify_grad ("_broadcast_to", NULL, in, 2);
  GrdTensor *in2[] = { big, small };
  grd_test_verify_grad ("_reduce_to", NULL, in2, 2);
}

static void
test_grad_errors (void)
{
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  gint64 d2[] = { 2 };
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 1, d2, &error);
  GrdRef k = grd_graph_variable (g, "k", GRD_DTYPE_INT64, 0, NULL, &error);
  gint before = grd_graph_n_nodes (g);
  /* a cost that is not a scalar */
  g_assert_true (grd_ref_is_none (grd_graph_grad (g, "g", x, &x, 1, NULL, 0, NULL, &error)));
  g_assert_error (error, GRD_ERROR, GRD_ERROR_TYPE);
  g_assert_nonnull (strstr (error->message, "'g'"));
  g_clear_error (&error);
  /* an integer cost */
  g_assert_true (grd_ref_is_none (grd_graph_grad (g, "g", k, &x, 1, NULL, 0, NULL, &error)));
  g_clear_error (&error);
  g_assert_cmpint (grd_graph_n_nodes (g), ==, before);
  /* a disconnected wrt gets zeros of its type */
  GrdRef y = grd_graph_variable (g, "y", GRD_DTYPE_FLOAT32, 0, NULL, &error);
  GrdRef gy;
  GrdRef gn = grd_graph_grad (g, "g", y, &x, 1, NULL, 0, &gy, &error);
  g_assert_no_error (error);
  g_assert_false (grd_ref_is_none (gn));
  g_assert_cmpint (grd_graph_node_kind (g, gn.node), ==, GRD_NODE_GRAD);
  g_assert_true (grd_ref_equal (grd_graph_grad_output (g, gn.node, 0), gy));
  const GrdType *t = grd_graph_ref_type (g, gy);
  g_assert_cmpint (t->dtype, ==, GRD_DTYPE_FLOAT64);
  g_assert_cmpint (t->rank, ==, 1);
  GrdRef in[] = { x, y };
  g_autoptr (GrdFunction) fn = grd_function_new (g, in, 2, &gy, 1, NULL, 0, &error);
  g_assert_no_error (error);
  g_autoptr (GrdTensor) vx = vec (5, 6);
  g_autoptr (GrdTensor) vy = grd_tensor_new_scalar (GRD_DTYPE_FLOAT32, 2);
  GrdTensor *args[] = { vx, vy };
  g_autoptr (GrdTensor) out = NULL;
  g_assert_true (grd_function_call (fn, args, &out, &error));
  double zeros[] = { 0, 0 };
  grd_test_assert_tensor (out, GRD_DTYPE_FLOAT64, 1, d2, zeros, 0, 0);
  /* "g:0" names the gradient; the nodes made belong to the grad node */
  GrdRef r;
  g_assert_true (grd_graph_lookup (g, "g:0", &r, &error));
  g_assert_true (grd_ref_equal (r, gy));
  g_assert_cmpint (grd_graph_node_owner (g, gy.node), ==, gn.node);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/core/dtype-promotion", test_dtype_promotion);
  g_test_add_func ("/engine/core/tensor-cast", test_tensor_cast);
  g_test_add_func ("/engine/core/broadcast-types", test_broadcast_types);
  g_test_add_func ("/engine/core/graph-ids", test_graph_ids);
  g_test_add_func ("/engine/core/simultaneous-updates", test_simultaneous_updates);
  g_test_add_func ("/engine/core/function-errors", test_function_errors);
  g_test_add_func ("/engine/core/grad-internal-ops", test_grad_of_internal_ops);
  g_test_add_func ("/engine/core/grad-errors", test_grad_errors);
  return g_test_run ();
}
