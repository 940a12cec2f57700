/* conv-cases.c: the conv2d and pool_2d reference cases of
 * tests/data/conv-refs.json (tests/conv/make-refs.py), run by the CPU tests
 * (test-conv) and the Vulkan tests (test-vk-conv) alike. */
#include "conv-cases.h"
#include "grad-check.h"
#include "grd-internal.h"

GrdTensor *
grd_test_conv_tensor (JsonObject *o, GrdDType dtype)
{
  JsonArray *shape = json_object_get_array_member (o, "shape");
  JsonArray *data = json_object_get_array_member (o, "data");
  gint rank = json_array_get_length (shape);
  gint64 dims[GRD_MAX_RANK];
  for (gint d = 0; d < rank; d++)
    dims[d] = json_array_get_int_element (shape, d);
  g_autofree double *v = g_new (double, MAX (json_array_get_length (data), 1));
  for (guint i = 0; i < json_array_get_length (data); i++)
    v[i] = json_array_get_double_element (data, i);
  return grd_tensor_new_from_doubles (dtype, rank, dims, v);
}

JsonArray *
grd_test_conv_cases (JsonParser **parser)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (g_getenv ("GRADUS_SOURCE_DIR"), "tests", "data",
                                            "conv-refs.json", NULL);
  *parser = json_parser_new ();
  g_assert_true (json_parser_load_from_file (*parser, path, &error));
  g_assert_no_error (error);
  return json_object_get_array_member (json_node_get_object (json_parser_get_root (*parser)), "cases");
}

void
grd_test_conv_check_case (JsonObject *c, GrdDType dtype, double tol, GrdTestConvCompile compile,
                          gpointer data)
{
  const char *op = json_object_get_string_member (c, "op");
  GrdAttrs attrs;
  const char *bad = NULL, *expected = NULL;
  grd_attrs_init (&attrs);
  g_assert_true (grd_conv_attrs_parse (json_object_get_object_member (c, "attrs"), &attrs, &bad,
                                       &expected));
  JsonArray *ins = json_object_get_array_member (c, "inputs");
  gint n_in = json_array_get_length (ins);
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  GrdRef vars[3];
  GrdTensor *vals[3] = { NULL };
  for (gint i = 0; i < n_in; i++) {
    vals[i] = grd_test_conv_tensor (json_array_get_object_element (ins, i), dtype);
    vars[i] = grd_graph_variable (g, NULL, dtype, 4, NULL, &error);
  }
  gboolean conv = g_str_equal (op, "conv2d");
  GrdRef outs[3];
  gint n_out = 1;
  outs[0] = grd_graph_op (g, "case", op, vars, n_in, &attrs, &error);
  if (conv) {
    vals[2] = grd_test_conv_tensor (json_object_get_object_member (c, "gy"), dtype);
    vars[2] = grd_graph_variable (g, "gy", dtype, 4, NULL, &error);
    GrdRef cost = grd_op1 (g, "sum", grd_op2 (g, "mul", outs[0], vars[2], &error), &error);
    grd_graph_grad (g, "grads", cost, vars, 2, NULL, 0, outs + 1, &error);
    n_out = 3;
  }
  g_assert_no_error (error);
  g_autoptr (GrdFunction) fn = compile (g, vars, conv ? 3 : n_in, outs, n_out, data);
  GrdTensor *got[3] = { NULL };
  g_assert_true (grd_function_call (fn, vals, got, &error));
  g_assert_no_error (error);
  g_autoptr (GrdTensor) want = grd_test_conv_tensor (json_object_get_object_member (c, "output"), dtype);
  grd_test_assert_close (got[0], want, tol, tol);
  if (conv) {
    JsonArray *grads = json_object_get_array_member (c, "grads");
    for (gint k = 0; k < 2; k++) {
      g_autoptr (GrdTensor) w = grd_test_conv_tensor (json_array_get_object_element (grads, k), dtype);
      grd_test_assert_close (got[1 + k], w, tol, tol);
    }
  }
  for (gint k = 0; k < 3; k++) {
    if (got[k])
      grd_tensor_unref (got[k]);
    if (vals[k])
      grd_tensor_unref (vals[k]);
  }
}

