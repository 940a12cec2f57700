/* test-groups.c: groups in graph files (engine/io/grd-document-groups.c): a
 * file with a group computes what the same graph written flat computes, its
 * gradients agree with finite differences in float64, saves keep the group,
 * and bad groups are refused naming the node. */
#include "grad-check.h"

#include <math.h>
#include <string.h>

static char *
data_path (const char *name)
{
  const char *src = g_getenv ("GRADUS_SOURCE_DIR");
  g_assert_nonnull (src);
  return g_build_filename (src, "tests", "data", name, NULL);
}

static GrdDocument *
load_ok (const char *name)
{
  g_autofree char *path = data_path (name);
  g_autoptr (GError) error = NULL;
  GrdDocument *doc = grd_document_load (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (doc);
  return doc;
}

static GrdRef
lookup (GrdDocument *doc, const char *ref)
{
  GrdRef r;
  g_autoptr (GError) error = NULL;
  g_assert_true (grd_graph_lookup (grd_document_graph (doc), ref, &r, &error));
  g_assert_no_error (error);
  return r;
}

static void
feeds (GrdTensor **in)
{
  const double x[] = { 0.5, -1.0, 2.0, 1.5, 0.2, -0.7 }, t[] = { 0.3, -0.2 };
  in[0] = grd_tensor_new_from_doubles (GRD_DTYPE_FLOAT64, 2, (gint64[]) { 2, 3 }, x);
  in[1] = grd_tensor_new_from_doubles (GRD_DTYPE_FLOAT64, 2, (gint64[]) { 2, 1 }, t);
}

#define N_OUT 6

/* Three calls of each file's function (a training step on W1): every output
 * and the updated W1 agree. */
static void
compare_runs (const char *grouped, const char *flat)
{
  g_autoptr (GrdDocument) a = load_ok (grouped);
  g_autoptr (GrdDocument) b = load_ok (flat);
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdFunction) fa = grd_document_function (a, &error);
  g_assert_no_error (error);
  g_autoptr (GrdFunction) fb = grd_document_function (b, &error);
  g_assert_no_error (error);
  g_assert_cmpint (grd_function_n_outputs (fa), ==, N_OUT);
  g_assert_cmpint (grd_function_n_outputs (fb), ==, N_OUT);
  GrdTensor *in[2];
  feeds (in);
  for (gint step = 0; step < 3; step++) {
    GrdTensor *oa[N_OUT] = { 0 }, *ob[N_OUT] = { 0 };
    g_assert_true (grd_function_call (fa, in, oa, &error));
    g_assert_no_error (error);
    g_assert_true (grd_function_call (fb, in, ob, &error));
    g_assert_no_error (error);
    for (gint k = 0; k < N_OUT; k++) {
      grd_test_assert_close (oa[k], ob[k], 1e-12, 1e-14);
      grd_tensor_unref (oa[k]);
      grd_tensor_unref (ob[k]);
    }
    g_assert_true (grd_function_sync (fa, NULL) && grd_function_sync (fb, NULL));
    grd_test_assert_close (grd_graph_get_value (grd_document_graph (a), lookup (a, "W1")),
                           grd_graph_get_value (grd_document_graph (b), lookup (b, "W1")),
                           1e-12, 1e-14);
  }
  /* the training step changed W1: the comparison was of moving values */
  GrdTensor *w = grd_graph_get_value (grd_document_graph (a), lookup (a, "W1"));
  g_assert_cmpfloat (fabs (grd_tensor_get (w, 0) - 0.1), >, 1e-9);
  grd_tensor_unref (in[0]);
  grd_tensor_unref (in[1]);
}

static void
test_same_run_as_flat (void)
{
  compare_runs ("groups-mlp.gradus", "groups-mlp-flat.gradus");
}

/* The cost of the grouped file as a function of the shared values. */
static double
cost_now (GrdFunction *fn, GrdTensor **in)
{
  GrdTensor *out = NULL;
  g_autoptr (GError) error = NULL;
  g_assert_true (grd_function_call (fn, in, &out, &error));
  g_assert_no_error (error);
  double c = grd_tensor_get (out, 0);
  grd_tensor_unref (out);
  return c;
}

/* d cost / d W1, b1, W2, b2 through both group instances, against central
 * differences (eps 1e-6) in float64. */
static void
test_gradients_through_group (void)
{
  g_autoptr (GrdDocument) doc = load_ok ("groups-mlp.gradus");
  GrdGraph *g = grd_document_graph (doc);
  g_autoptr (GError) error = NULL;
  GrdRef inputs[2] = { lookup (doc, "x"), lookup (doc, "t") };
  GrdRef outputs[5] = { lookup (doc, "cost"), lookup (doc, "g:0"), lookup (doc, "g:1"),
                        lookup (doc, "g:2"), lookup (doc, "g:3") };
  g_autoptr (GrdFunction) grads = grd_function_new (g, inputs, 2, outputs, 5, NULL, 0, &error);
  g_assert_no_error (error);
  g_autoptr (GrdFunction) cost = grd_function_new (g, inputs, 2, outputs, 1, NULL, 0, &error);
  g_assert_no_error (error);
  GrdTensor *in[2];
  feeds (in);
  GrdTensor *out[5] = { 0 };
  g_assert_true (grd_function_call (grads, in, out, &error));
  g_assert_no_error (error);
  const char *wrt[] = { "W1", "b1", "W2", "b2" };
  const double eps = 1e-6;
  gint checked = 0;
  for (gint k = 0; k < 4; k++) {
    GrdRef r = lookup (doc, wrt[k]);
    g_autoptr (GrdTensor) base = grd_tensor_copy (grd_graph_get_value (g, r));
    g_assert_cmpint (out[k + 1]->size, ==, base->size);
    for (gint64 i = 0; i < base->size; i++) {
      g_autoptr (GrdTensor) plus = grd_tensor_copy (base);
      g_autoptr (GrdTensor) minus = grd_tensor_copy (base);
      grd_tensor_set (plus, i, grd_tensor_get (base, i) + eps);
      grd_tensor_set (minus, i, grd_tensor_get (base, i) - eps);
      g_assert_true (grd_graph_set_value (g, r, plus, &error));
      double cp = cost_now (cost, in);
      g_assert_true (grd_graph_set_value (g, r, minus, &error));
      double cm = cost_now (cost, in);
      g_assert_true (grd_graph_set_value (g, r, base, &error));
      double fd = (cp - cm) / (2 * eps), sym = grd_tensor_get (out[k + 1], i);
      if (fabs (fd - sym) > 1e-7 + 1e-5 * fabs (fd))
        g_error ("d cost / d %s[%" G_GINT64_FORMAT "]: symbolic %.12g, finite differences %.12g",
                 wrt[k], i, sym, fd);
      checked++;
    }
  }
  g_assert_cmpint (checked, ==, 12 + 4 + 4 + 1);
  for (gint k = 0; k < 5; k++)
    grd_tensor_unref (out[k]);
  grd_tensor_unref (in[0]);
  grd_tensor_unref (in[1]);
}

/* A save (what `gradus run --save` writes) keeps the group as a group. */
static void
test_save_keeps_groups (void)
{
  g_autoptr (GrdDocument) doc = load_ok ("groups-mlp.gradus");
  g_autofree char *text = grd_document_to_data (doc, NULL);
  g_assert_nonnull (strstr (text, "\"groups\""));
  g_assert_nonnull (strstr (text, "\"group\""));
  g_assert_null (strstr (text, "layer1.xw"));
  /* run.resume reaches the file's own form too (it was written to the expanded tree only) */
  const char *names[] = { "main" };
  gint64 calls[] = { 5 };
  grd_document_set_resume (doc, 5, 1, names, calls);
  g_autoptr (JsonNode) tree = grd_document_dup_saved_tree (doc);
  JsonObject *run = json_object_get_object_member (json_node_get_object (tree), "run");
  JsonObject *resume = json_object_get_object_member (run, "resume");
  g_assert_cmpint (json_object_get_int_member (resume, "step"), ==, 5);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (resume, "calls"),
                                               "main"), ==, 5);
  g_assert_true (json_object_has_member (json_node_get_object (tree), "groups"));
}

static GrdDocument *
load_text (const char *text, GError **error)
{
  return grd_document_load_from_data (text, -1, NULL, error);
}

#define HEAD "{\"format\": \"gradus-graph\", \"version\": 1, "
#define DENSE "\"groups\": {\"dense\": {\"inputs\": [\"x\", \"W\"], \"nodes\": [" \
  "{\"id\": \"xw\", \"kind\": \"op\", \"op\": \"dot\", \"inputs\": [\"x\", \"W\"]}," \
  "{\"id\": \"h\", \"kind\": \"op\", \"op\": \"tanh\", \"inputs\": [\"xw\"]}], \"outputs\": [\"h\"]}}, "
#define VARS "{\"id\": \"x\", \"kind\": \"variable\", \"dtype\": \"float64\", \"shape\": [2, 2]}," \
  "{\"id\": \"W\", \"kind\": \"shared\", \"dtype\": \"float64\", \"value\": [[1, 0], [0, 1]]}"

static void
test_errors_name_the_node (void)
{
  struct { const char *text; const char *node; const char *what; } cases[] = {
    { HEAD DENSE "\"nodes\": [" VARS ", {\"id\": \"L\", \"kind\": \"group\", \"group\": \"nope\", "
      "\"inputs\": [\"x\", \"W\"]}]}", "'L'", "nope" },
    { HEAD DENSE "\"nodes\": [" VARS ", {\"id\": \"L\", \"kind\": \"group\", \"group\": \"dense\", "
      "\"inputs\": [\"x\"]}]}", "'L'", "takes 2 inputs" },
    { HEAD DENSE "\"nodes\": [" VARS ", {\"id\": \"L\", \"kind\": \"group\", \"group\": \"dense\", "
      "\"inputs\": [\"x\", null]}]}", "'L'", "not connected" },
    { HEAD "\"groups\": {\"bad\": {\"inputs\": [\"x\"], \"nodes\": [{\"id\": \"y\", \"kind\": \"op\", "
      "\"op\": \"neg\", \"inputs\": [\"q\"]}], \"outputs\": [\"y\"]}}, \"nodes\": [" VARS
      ", {\"id\": \"L\", \"kind\": \"group\", \"group\": \"bad\", \"inputs\": [\"x\"]}]}", "'y'",
      "'q' is neither" },
    { HEAD "\"groups\": {\"loop\": {\"inputs\": [\"x\"], \"nodes\": [{\"id\": \"in\", \"kind\": "
      "\"group\", \"group\": \"loop\", \"inputs\": [\"x\"]}], \"outputs\": [\"in\"]}}, \"nodes\": ["
      VARS ", {\"id\": \"L\", \"kind\": \"group\", \"group\": \"loop\", \"inputs\": [\"x\"]}]}",
      "'L.in", "nested more than" },
    { HEAD "\"groups\": {\"v\": {\"inputs\": [], \"nodes\": [{\"id\": \"p\", \"kind\": \"variable\", "
      "\"dtype\": \"float64\", \"shape\": []}], \"outputs\": [\"p\"]}}, \"nodes\": [" VARS
      ", {\"id\": \"L\", \"kind\": \"group\", \"group\": \"v\", \"inputs\": []}]}", "'p'",
      "stay outside" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    GrdDocument *doc = load_text (cases[i].text, &error);
    g_assert_null (doc);
    grd_test_assert_error_names (error, GRD_ERROR_GRAPH, cases[i].node, cases[i].what);
  }
}

/* A group inside a group, and an output of one group fed to the function and
 * to a grad: the same numbers as two tanh(dot) written by hand. */
static void
test_nested_groups (void)
{
  const char *nested =
    HEAD DENSE
    "\"nodes\": [" VARS ", {\"id\": \"L\", \"kind\": \"group\", \"group\": \"two\", "
    "\"inputs\": [\"x\", \"W\"]}, {\"id\": \"c\", \"kind\": \"op\", \"op\": \"sum\", "
    "\"inputs\": [\"L\"]}, {\"id\": \"g\", \"kind\": \"grad\", \"cost\": \"c\", \"wrt\": [\"W\"]}],"
    "\"function\": {\"inputs\": [\"x\"], \"outputs\": [\"L:0\", \"g:0\"]}}";
  /* "two" is added beside "dense": a definition that uses another one */
  g_autofree char *text = g_strdup (nested);
  char *at = strstr (text, "\"dense\":");
  g_assert_nonnull (at);
  g_autofree char *full = g_strdup_printf (
    "%.*s\"two\": {\"inputs\": [\"a\", \"M\"], \"nodes\": [{\"id\": \"d1\", \"kind\": \"group\", "
    "\"group\": \"dense\", \"inputs\": [\"a\", \"M\"]}, {\"id\": \"d2\", \"kind\": \"group\", "
    "\"group\": \"dense\", \"inputs\": [\"d1\", \"M\"]}], \"outputs\": [\"d2:0\"]}, %s",
    (int) (at - text), text, at);
  const char *flat =
    HEAD "\"nodes\": [" VARS ", {\"id\": \"a\", \"kind\": \"op\", \"op\": \"dot\", \"inputs\": [\"x\", \"W\"]},"
    "{\"id\": \"b\", \"kind\": \"op\", \"op\": \"tanh\", \"inputs\": [\"a\"]},"
    "{\"id\": \"d\", \"kind\": \"op\", \"op\": \"dot\", \"inputs\": [\"b\", \"W\"]},"
    "{\"id\": \"e\", \"kind\": \"op\", \"op\": \"tanh\", \"inputs\": [\"d\"]},"
    "{\"id\": \"c\", \"kind\": \"op\", \"op\": \"sum\", \"inputs\": [\"e\"]},"
    "{\"id\": \"g\", \"kind\": \"grad\", \"cost\": \"c\", \"wrt\": [\"W\"]}],"
    "\"function\": {\"inputs\": [\"x\"], \"outputs\": [\"e\", \"g:0\"]}}";
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdDocument) a = load_text (full, &error);
  g_assert_no_error (error);
  g_assert_true (grd_graph_find (grd_document_graph (a), "L.d2.h") >= 0);
  g_autoptr (GrdDocument) b = load_text (flat, &error);
  g_assert_no_error (error);
  g_autoptr (GrdFunction) fa = grd_document_function (a, &error);
  g_assert_no_error (error);
  g_autoptr (GrdFunction) fb = grd_document_function (b, &error);
  g_assert_no_error (error);
  const double xv[] = { 0.3, -0.5, 0.8, 0.1 };
  g_autoptr (GrdTensor) x = grd_tensor_new_from_doubles (GRD_DTYPE_FLOAT64, 2, (gint64[]) { 2, 2 }, xv);
  GrdTensor *oa[2] = { 0 }, *ob[2] = { 0 };
  g_assert_true (grd_function_call (fa, &x, oa, &error));
  g_assert_true (grd_function_call (fb, &x, ob, &error));
  for (gint k = 0; k < 2; k++) {
    grd_test_assert_close (oa[k], ob[k], 1e-12, 1e-14);
    grd_tensor_unref (oa[k]);
    grd_tensor_unref (ob[k]);
  }
}

/* A file without groups is loaded as before (the expansion is not even run). */
static void
test_no_groups_unchanged (void)
{
  g_autoptr (GrdDocument) doc = load_ok ("groups-mlp-flat.gradus");
  g_autofree char *text = grd_document_to_data (doc, NULL);
  g_assert_null (strstr (text, "\"groups\""));
  g_assert_nonnull (strstr (text, "layer1.xw"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/groups/same-run-as-flat", test_same_run_as_flat);
  g_test_add_func ("/groups/gradients-finite-differences", test_gradients_through_group);
  g_test_add_func ("/groups/save-keeps-groups", test_save_keeps_groups);
  g_test_add_func ("/groups/errors-name-the-node", test_errors_name_the_node);
  g_test_add_func ("/groups/nested", test_nested_groups);
  g_test_add_func ("/groups/no-groups-unchanged", test_no_groups_unchanged);
  return g_test_run ();
}
