/* test-gtypes.c: the boxed and enum GTypes of grd-gtypes.h, and the calls
 * that language bindings use in place of the by-value ones of gradus.h. */
#include "gradus.h"

#include <string.h>

static void
test_boxed_function_outlives_its_owner (void)
{
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdRef) x = grd_graph_add_variable (g, "x", GRD_DTYPE_FLOAT64, NULL, 0, &error);
  g_assert_no_error (error);
  g_autoptr (GrdRef) two = grd_graph_add_scalar (g, GRD_DTYPE_FLOAT64, 2.0, &error);
  GrdRef in[2] = { *x, *two };
  g_autoptr (GrdRef) y = grd_graph_add_op (g, NULL, "mul", in, 2, NULL, &error);
  g_assert_no_error (error);
  GrdFunction *fn = grd_function_new (g, x, 1, y, 1, NULL, 0, &error);
  g_assert_no_error (error);

  /* A boxed copy is one more reference: the owner's free leaves it usable. */
  GrdFunction *copy = g_boxed_copy (GRD_TYPE_FUNCTION, fn);
  g_assert_true (copy == fn);
  grd_function_free (fn);
  g_autoptr (GrdTensor) three = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 3.0);
  GrdTensor *args[1] = { three };
  g_autoptr (GPtrArray) out = grd_function_call_list (copy, args, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (out->len, ==, 1);
  g_assert_cmpfloat (grd_tensor_get (out->pdata[0], 0), ==, 6.0);
  grd_tensor_unref (out->pdata[0]);

  /* The wrong number of inputs is an error, not a read past the array. */
  g_autoptr (GPtrArray) none = grd_function_call_list (copy, args, 0, &error);
  g_assert_null (none);
  g_assert_error (error, GRD_ERROR, GRD_ERROR_VALUE);
  g_assert_nonnull (strstr (error->message, "takes 1"));
  g_boxed_free (GRD_TYPE_FUNCTION, copy);
}

static void
test_boxed_document (void)
{
  g_autoptr (GError) error = NULL;
  const char *text = "{\"format\": \"gradus-graph\", \"version\": 1, \"nodes\": ["
                     "{\"id\": \"x\", \"kind\": \"variable\", \"dtype\": \"float64\", \"shape\": []}],"
                     " \"function\": {\"inputs\": [\"x\"], \"outputs\": [\"x\"]}}";
  GrdDocument *doc = grd_document_load_from_data (text, -1, NULL, &error);
  g_assert_no_error (error);
  GValue value = G_VALUE_INIT;
  g_value_init (&value, GRD_TYPE_DOCUMENT);
  g_value_set_boxed (&value, doc);
  grd_document_free (doc);
  GrdDocument *held = g_value_get_boxed (&value);
  g_assert_cmpint (grd_graph_find (grd_document_graph (held), "x"), ==, 0);
  g_value_unset (&value);
}

static void
test_tensor_bytes_round_trip (void)
{
  g_autoptr (GError) error = NULL;
  gint32 values[6] = { 1, 2, 3, 4, 5, 6 };
  gint64 shape[2] = { 2, 3 };
  g_autoptr (GBytes) in = g_bytes_new (values, sizeof values);
  g_autoptr (GrdTensor) t = grd_tensor_new_from_bytes (GRD_DTYPE_INT32, shape, 2, in, &error);
  g_assert_no_error (error);
  gint rank = 0;
  const gint64 *dims = grd_tensor_get_shape (t, &rank);
  g_assert_cmpint (rank, ==, 2);
  g_assert_cmpint (dims[0], ==, 2);
  g_assert_cmpint (dims[1], ==, 3);
  g_assert_cmpfloat (grd_tensor_get (t, 5), ==, 6.0);
  g_autoptr (GBytes) out = grd_tensor_get_bytes (t);
  g_assert_true (g_bytes_equal (in, out));

  /* A byte count that does not fit the shape, a negative or overflowing dimension. */
  g_autoptr (GBytes) short_bytes = g_bytes_new (values, 20);
  g_assert_null (grd_tensor_new_from_bytes (GRD_DTYPE_INT32, shape, 2, short_bytes, &error));
  g_assert_error (error, GRD_ERROR, GRD_ERROR_VALUE);
  g_assert_nonnull (strstr (error->message, "needs 24"));
  g_clear_error (&error);
  gint64 bad[2] = { -1, 3 };
  g_assert_null (grd_tensor_new_from_bytes (GRD_DTYPE_INT32, bad, 2, in, &error));
  g_assert_error (error, GRD_ERROR, GRD_ERROR_VALUE);
  g_clear_error (&error);
  gint64 huge[2] = { G_MAXINT64 / 2, 4 };
  g_assert_null (grd_tensor_new_from_bytes (GRD_DTYPE_INT32, huge, 2, in, &error));
  g_assert_error (error, GRD_ERROR, GRD_ERROR_VALUE);
  g_clear_error (&error);
  g_assert_null (grd_tensor_new_from_bytes (GRD_DTYPE_INT32, shape, GRD_MAX_RANK + 1, in, &error));
  g_assert_error (error, GRD_ERROR, GRD_ERROR_VALUE);
}

static void
test_grad_returns_one_ref_per_wrt (void)
{
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdTensor) v = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 3.0);
  g_autoptr (GrdRef) a = grd_graph_add_shared (g, "a", v, &error);
  g_autoptr (GrdRef) b = grd_graph_add_shared (g, "b", v, &error);
  GrdRef ab[2] = { *a, *b };
  g_autoptr (GrdRef) cost = grd_graph_add_op (g, "c", "mul", ab, 2, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) grads = grd_graph_add_grad (g, "g", cost, ab, 2, NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (grads->len, ==, 2);
  for (guint i = 0; i < grads->len; i++) {
    g_assert_cmpint (((GrdRef *) grads->pdata[i])->node, >=, 0);
    grd_ref_free (grads->pdata[i]);
  }

  /* A failing op gives NULL and the graph's error naming the node. */
  g_autoptr (GrdRef) bad = grd_graph_add_op (g, "bad", "no_such_op", ab, 2, NULL, &error);
  g_assert_null (bad);
  g_assert_error (error, GRD_ERROR, GRD_ERROR_GRAPH);
  g_assert_nonnull (strstr (error->message, "'bad'"));

  g_autoptr (GrdTensor) nine = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 9.0);
  g_clear_error (&error);
  g_assert_true (grd_graph_set_value_of (g, a, nine, &error));
  g_assert_cmpfloat (grd_tensor_get (grd_graph_value_of (g, a), 0), ==, 9.0);
}

static void
test_attrs_setters (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdAttrs) attrs = grd_attrs_new ();
  gint axes[2] = { 0, -1 };
  g_assert_true (grd_attrs_set_axes (attrs, axes, 2, &error));
  g_assert_true (attrs->has_axis);
  g_assert_cmpint (attrs->axes[1], ==, -1);
  gint many[GRD_MAX_RANK + 1] = { 0 };
  g_assert_false (grd_attrs_set_perm (attrs, many, GRD_MAX_RANK + 1, &error));
  g_assert_error (error, GRD_ERROR, GRD_ERROR_VALUE);
  g_autoptr (GrdAttrs) copy = g_boxed_copy (GRD_TYPE_ATTRS, attrs);
  g_assert_cmpint (copy->n_axes, ==, 2);
}

static void
test_enum_nicks_are_the_file_names (void)
{
  g_autoptr (GEnumClass) dtypes = g_type_class_ref (GRD_TYPE_DTYPE);
  for (gint d = 0; d < GRD_N_DTYPES; d++)
    g_assert_cmpstr (g_enum_get_value (dtypes, d)->value_nick, ==, grd_dtype_name (d));
  g_autoptr (GEnumClass) backends = g_type_class_ref (GRD_TYPE_BACKEND);
  g_assert_cmpint (g_enum_get_value_by_nick (backends, "vulkan")->value, ==, GRD_BACKEND_VULKAN);
  g_autoptr (GFlagsClass) flags = g_type_class_ref (GRD_TYPE_DOCUMENT_FLAGS);
  g_assert_cmpuint (g_flags_get_value_by_nick (flags, "lenient")->value, ==, GRD_DOCUMENT_LENIENT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gtypes/function-outlives-its-owner", test_boxed_function_outlives_its_owner);
  g_test_add_func ("/gtypes/document-in-a-gvalue", test_boxed_document);
  g_test_add_func ("/gtypes/tensor-bytes", test_tensor_bytes_round_trip);
  g_test_add_func ("/gtypes/grad-refs", test_grad_returns_one_ref_per_wrt);
  g_test_add_func ("/gtypes/attrs-setters", test_attrs_setters);
  g_test_add_func ("/gtypes/enum-nicks", test_enum_nicks_are_the_file_names);
  return g_test_run ();
}
