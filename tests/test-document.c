/* test-document.c: graph files: building, errors, round trips, saving, feeds. */
#include "grad-check.h"

#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* ------------------------------------------------------------ helpers */

static char *
data_path (const char *name)
{
  const char *src = g_getenv ("GRADUS_SOURCE_DIR");
  g_assert_nonnull (src);
  return g_build_filename (src, "tests", "data", name, NULL);
}

static char *
read_data (const char *name, gsize *len)
{
  g_autofree char *path = data_path (name);
  char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, len, NULL));
  return text;
}

static JsonNode *
parse (const char *text)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (GError) error = NULL;
  if (!json_parser_load_from_data (p, text, -1, &error))
    g_error ("test JSON does not parse: %s\n%s", error->message, text);
  return json_node_copy (json_parser_get_root (p));
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

static GrdTensor *
shared_value (GrdDocument *doc, const char *id)
{
  GrdRef r;
  g_assert_true (grd_graph_lookup (grd_document_graph (doc), id, &r, NULL));
  return grd_graph_get_value (grd_document_graph (doc), r);
}

/* A small valid file around `nodes` (JSON list items), using internal ops only. */
static char *
doc_text (const char *nodes, const char *extra)
{
  return g_strdup_printf ("{\"format\": \"gradus-graph\", \"version\": 1, \"nodes\": [%s]%s%s}",
                          nodes, extra ? ", " : "", extra ? extra : "");
}

/* The same, taking `nodes` (made with g_strdup_printf). */
static char *
doc_text_take (char *nodes, const char *extra)
{
  char *text = doc_text (nodes, extra);
  g_free (nodes);
  return text;
}

static const char *base_nodes =
  "{\"id\": \"v\", \"kind\": \"variable\", \"dtype\": \"float32\", \"shape\": [null, 3]},"
  "{\"id\": \"c\", \"kind\": \"constant\", \"dtype\": \"float32\", \"value\": [[1, 2, 3]]},"
  "{\"id\": \"s\", \"kind\": \"shared\", \"dtype\": \"float32\", \"value\": [[0, 0, 0]]},"
  "{\"id\": \"b\", \"kind\": \"op\", \"op\": \"_broadcast_to\", \"inputs\": [\"c\", \"v\"]},"
  "{\"id\": \"r\", \"kind\": \"op\", \"op\": \"_reduce_to\", \"inputs\": [\"b\", \"s\"]},"
  "{\"id\": \"d\", \"kind\": \"constant\", \"dtype\": \"float64\", \"value\": [[1, 2, 3]]}";

/* Loads text that must fail; the message must start with the file name and
 * contain every fragment. */
static void
load_fails (const char *text, const char *const *fragments)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdDocument) doc = grd_document_load_from_data (text, -1, "bad.gradus", &error);
  if (doc)
    g_error ("accepted:\n%s", text);
  g_assert_nonnull (error);
  g_assert_true (error->domain == GRD_ERROR);
  if (!g_str_has_prefix (error->message, "bad.gradus: "))
    g_error ("message '%s' does not start with the file name", error->message);
  for (gint i = 0; fragments && fragments[i]; i++)
    if (!strstr (error->message, fragments[i]))
      g_error ("message '%s' does not mention '%s'", error->message, fragments[i]);
}

#define FAILS(text, ...) \
  G_STMT_START { \
    g_autofree char *t_ = (text); \
    load_fails (t_, (const char *const[]) { __VA_ARGS__, NULL }); \
  } G_STMT_END

/* ------------------------------------------------------------ linear regression */

/* The primer's model by hand: y = a x + b, cost (y - t)^2, 0.01 steps. */
static void
linreg_reference (gint steps, double x, double t, double *a, double *b, double *cost)
{
  *a = -1.0;
  *b = 0.0;
  for (gint i = 0; i < steps; i++) {
    double e = *a * x + *b - t;
    cost[i] = e * e;
    double ga = 2 * e * x, gb = 2 * e;
    *a -= 0.01 * ga;
    *b -= 0.01 * gb;
  }
}

static void
run_doc (GrdDocument *doc, gint steps, GrdTensor **last_outputs)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdFunction) fn = grd_document_function (doc, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) feeds = grd_document_feeds (doc, NULL, &error);
  g_assert_no_error (error);
  gint n_in = grd_function_n_inputs (fn), n_out = grd_function_n_outputs (fn);
  g_assert_cmpint (feeds->len, ==, n_in);
  for (gint s = 0; s < steps; s++) {
    GrdTensor *in[8] = { NULL }, *out[8] = { NULL };
    for (gint i = 0; i < n_in; i++) {
      in[i] = grd_feed_next (feeds->pdata[i], s, &error);
      g_assert_no_error (error);
    }
    g_assert_true (grd_function_call (fn, in, out, &error));
    g_assert_no_error (error);
    for (gint i = 0; i < n_in; i++)
      grd_tensor_unref (in[i]);
    for (gint i = 0; i < n_out; i++) {
      if (last_outputs && s == steps - 1)
        last_outputs[i] = out[i];
      else
        grd_tensor_unref (out[i]);
    }
  }
}

static void
test_linreg_runs (void)
{
  g_autoptr (GrdDocument) doc = load_ok ("linreg.gradus");
  g_assert_cmpint (grd_document_run_steps (doc, 3), ==, 10);
  double a, b, cost[10];
  linreg_reference (10, 1.0, 5.0, &a, &b, cost);
  GrdTensor *out[1] = { NULL };
  run_doc (doc, 10, out);
  g_assert_cmpfloat_with_epsilon (grd_tensor_get (out[0], 0), cost[9], 1e-12);
  grd_tensor_unref (out[0]);
  g_assert_cmpfloat_with_epsilon (grd_tensor_get (shared_value (doc, "a"), 0), a, 1e-12);
  g_assert_cmpfloat_with_epsilon (grd_tensor_get (shared_value (doc, "b"), 0), b, 1e-12);
  /* the first step is the primer's: cost 36, a -0.88, b 0.12 */
  g_assert_cmpfloat (cost[0], ==, 36.0);
}

/* Nodes in reverse order build into the same graph. */
static void
test_reverse_order (void)
{
  g_autofree char *text = read_data ("linreg.gradus", NULL);
  g_autoptr (JsonNode) root = parse (text);
  /* keep the original array alive: replacing the member below drops it */
  g_autoptr (JsonArray) nodes = json_array_ref (json_object_get_array_member (json_node_get_object (root), "nodes"));
  JsonArray *rev = json_array_new ();
  for (gint i = json_array_get_length (nodes) - 1; i >= 0; i--)
    json_array_add_element (rev, json_node_copy (json_array_get_element (nodes, i)));
  json_object_set_array_member (json_node_get_object (root), "nodes", rev);
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdDocument) doc = grd_document_new_from_json (root, "rev.gradus", 0, &error);
  g_assert_no_error (error);
  g_autoptr (GrdDocument) fwd = load_ok ("linreg.gradus");
  GrdGraph *g1 = grd_document_graph (fwd), *g2 = grd_document_graph (doc);
  for (guint i = 0; i < json_array_get_length (nodes); i++) {
    const char *id = json_object_get_string_member (json_array_get_object_element (nodes, i), "id");
    gint n1 = grd_graph_find (g1, id), n2 = grd_graph_find (g2, id);
    g_assert_cmpint (n2, >=, 0);
    g_autofree char *t1 = grd_type_describe (grd_graph_node_type (g1, n1, 0));
    g_autofree char *t2 = grd_type_describe (grd_graph_node_type (g2, n2, 0));
    g_assert_cmpstr (t1, ==, t2);
  }
  double a, b, cost[10];
  linreg_reference (4, 1.0, 5.0, &a, &b, cost);
  run_doc (doc, 4, NULL);
  g_assert_cmpfloat_with_epsilon (grd_tensor_get (shared_value (doc, "a"), 0), a, 1e-12);
  g_assert_cmpfloat_with_epsilon (grd_tensor_get (shared_value (doc, "b"), 0), b, 1e-12);
}

static void
test_internal_ops (void)
{
  g_autoptr (GrdDocument) doc = load_ok ("internal.gradus");
  GrdTensor *out[2] = { NULL };
  run_doc (doc, 3, out);
  /* wide is the row twice, back sums the two copies */
  grd_test_assert_tensor (out[0], GRD_DTYPE_FLOAT32, 2, (gint64[]) { 2, 3 },
                          (double[]) { 0.5, -1, 2, 0.5, -1, 2 }, 0, 0);
  grd_test_assert_tensor (out[1], GRD_DTYPE_FLOAT32, 1, (gint64[]) { 3 },
                          (double[]) { 1, -2, 4 }, 0, 0);
  grd_test_assert_tensor (shared_value (doc, "w"), GRD_DTYPE_FLOAT32, 1, (gint64[]) { 3 },
                          (double[]) { 1, -2, 4 }, 0, 0);
  grd_tensor_unref (out[0]);
  grd_tensor_unref (out[1]);
}

/* ------------------------------------------------------------ round trips */

/* Replaces the "value" of shared node `id` in a parsed tree. */
static void
set_tree_value (JsonNode *root, const char *id, JsonNode *value)
{
  JsonArray *nodes = json_object_get_array_member (json_node_get_object (root), "nodes");
  for (guint i = 0; i < json_array_get_length (nodes); i++) {
    JsonObject *o = json_array_get_object_element (nodes, i);
    if (g_str_equal (json_object_get_string_member (o, "id"), id))
      json_object_set_member (o, "value", value);
  }
}

static void
test_round_trip_unknown_keys (void)
{
  g_autofree char *text = read_data ("linreg.gradus", NULL);
  g_autoptr (JsonNode) original = parse (text);
  g_autoptr (GrdDocument) doc = load_ok ("linreg.gradus");

  /* unchanged: the data is the file, key for key */
  gsize len;
  g_autofree char *data = grd_document_to_data (doc, &len);
  g_assert_cmpint (strlen (data), ==, len);
  g_autoptr (JsonNode) again = parse (data);
  g_assert_true (json_node_equal (original, again));

  /* after a run, the shared values change and nothing else */
  run_doc (doc, 10, NULL);
  g_autofree char *dir = g_dir_make_tmp ("gradus-doc-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "saved.gradus", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (grd_document_save (doc, path, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (grd_document_path (doc), ==, path);
  g_autoptr (GrdDocument) re = grd_document_load (path, &error);
  g_assert_no_error (error);
  for (gint k = 0; k < 2; k++) {
    const char *id = k ? "b" : "a";
    GrdTensor *v1 = shared_value (doc, id), *v2 = shared_value (re, id);
    g_assert_cmpmem (v1->data, 8, v2->data, 8);  /* shortest decimals read back exactly */
    set_tree_value (original, id, grd_value_to_json (v1));
  }
  g_autofree char *saved = NULL;
  g_assert_true (g_file_get_contents (path, &saved, NULL, NULL));
  g_autoptr (JsonNode) saved_tree = parse (saved);
  g_assert_true (json_node_equal (original, saved_tree));
  /* and a second save of the reloaded file is byte for byte the first */
  g_autofree char *data2 = grd_document_to_data (re, NULL);
  g_assert_cmpstr (data2, ==, saved);
  /* saving again after more steps writes the newer values, and saving
   * unchanged keeps them */
  run_doc (doc, 3, NULL);
  for (gint k = 0; k < 2; k++) {
    g_assert_true (grd_document_save (doc, path, &error));
    g_assert_no_error (error);
    g_autoptr (GrdDocument) re2 = grd_document_load (path, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (shared_value (re2, "a")->data, 8, shared_value (doc, "a")->data, 8);
    g_assert_cmpmem (shared_value (re2, "b")->data, 8, shared_value (doc, "b")->data, 8);
    g_assert_cmpfloat (grd_tensor_get (shared_value (re2, "a"), 0), !=,
                       grd_tensor_get (shared_value (re, "a"), 0));
  }
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_value_forms_saved (void)
{
  g_autofree char *text = doc_text (
    "{\"id\": \"w\", \"kind\": \"shared\", \"dtype\": \"float32\","
    " \"value\": {\"shape\": [40, 30], \"init\": \"uniform\", \"seed\": 5}},"
    "{\"id\": \"n\", \"kind\": \"shared\", \"dtype\": \"float64\", \"value\": {\"npy\": \"f8.npy\"}},"
    "{\"id\": \"k\", \"kind\": \"shared\", \"dtype\": \"int64\","
    " \"value\": {\"shape\": [2], \"data\": [9007199254740993, -1]}}", NULL);
  g_autofree char *path = data_path ("virtual.gradus");   /* npy resolves from tests/data */
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdDocument) doc = grd_document_load_from_data (text, -1, path, &error);
  g_assert_no_error (error);
  /* unchanged values keep their form */
  g_autofree char *d1 = grd_document_to_data (doc, NULL);
  g_assert_nonnull (strstr (d1, "\"init\": \"uniform\""));
  g_assert_nonnull (strstr (d1, "\"npy\": \"f8.npy\""));
  g_assert_nonnull (strstr (d1, "9007199254740993"));
  /* changed: nested lists up to 1000 elements, base64 beyond */
  GrdGraph *g = grd_document_graph (doc);
  GrdTensor *w = shared_value (doc, "w");
  g_autoptr (GrdTensor) w2 = grd_tensor_copy (w);
  ((float *) w2->data)[7] = 0.1f;
  GrdRef r;
  g_assert_true (grd_graph_lookup (g, "w", &r, NULL));
  g_assert_true (grd_graph_set_value (g, r, w2, &error));
  GrdTensor *n = shared_value (doc, "n");
  g_autoptr (GrdTensor) n2 = grd_tensor_copy (n);
  ((double *) n2->data)[0] = 1.0 / 3.0;
  g_assert_true (grd_graph_lookup (g, "n", &r, NULL));
  g_assert_true (grd_graph_set_value (g, r, n2, &error));
  g_autofree char *d2 = grd_document_to_data (doc, NULL);
  g_assert_null (strstr (d2, "\"init\""));
  g_assert_nonnull (strstr (d2, "\"base64\""));
  g_assert_null (strstr (d2, "\"npy\""));
  g_assert_nonnull (strstr (d2, "[0.3333333333333333, -1.5, -1.0, -0.5]"));
  g_autoptr (GrdDocument) re = grd_document_load_from_data (d2, -1, path, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (shared_value (re, "w")->data, 1200 * 4, w2->data, 1200 * 4);
  g_assert_cmpmem (shared_value (re, "n")->data, 12 * 8, n2->data, 12 * 8);
  g_assert_cmpint (((gint64 *) shared_value (re, "k")->data)[0], ==,
                   G_GINT64_CONSTANT (9007199254740993));
}

/* Integer literals beyond int64 read as the floats they stand for. */
static void
test_big_integers (void)
{
  g_autofree char *text = g_strdup_printf (
    "{\"format\": \"gradus-graph\", \"version\": 1, \"name\": \"99999999999999999999\","
    " \"nodes\": [{\"id\": \"f\", \"kind\": \"constant\", \"dtype\": \"float64\", \"value\":"
    " [99999999999999999999, -123456789012345678901234567890, 9223372036854775807, \"inf\"]}]}");
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdDocument) doc = grd_document_load_from_data (text, -1, NULL, &error);
  g_assert_no_error (error);
  GrdTensor *f = shared_value (doc, "f");
  g_assert_cmpfloat (((double *) f->data)[0], ==, 1e20);
  g_assert_cmpfloat (((double *) f->data)[1], ==, -1.2345678901234568e29);
  g_assert_cmpfloat (((double *) f->data)[2], ==, 9223372036854775807.0);
  g_assert_true (isinf (((double *) f->data)[3]));
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (grd_document_root (doc)),
                                                  "name"), ==, "99999999999999999999");
  FAILS (doc_text ("{\"id\": \"i\", \"kind\": \"constant\", \"dtype\": \"int64\","
                   " \"value\": [9223372036854775808]}", NULL), "node 'i'", "integer");
  /* a literal that overflows to infinity is refused (infinity is written "inf") */
  FAILS (doc_text ("{\"id\": \"o\", \"kind\": \"constant\", \"dtype\": \"float64\","
                   " \"value\": [1, 1e400]}", NULL), "node 'o'", "element 1 is too large for float64");
  FAILS (doc_text ("{\"id\": \"o\", \"kind\": \"constant\", \"dtype\": \"float32\","
                   " \"value\": 1e39}", NULL), "node 'o'", "too large for float32");
}

/* ------------------------------------------------------------ malformed files */

static void
test_truncated (void)
{
  gsize len;
  g_autofree char *text = read_data ("linreg.gradus", &len);
  while (len && g_ascii_isspace (text[len - 1]))
    len--;
  for (gsize cut = 0; cut < len; cut++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GrdDocument) doc = grd_document_load_from_data (text, cut, NULL, &error);
    g_assert_null (doc);
    g_assert_nonnull (error);
    g_assert_true (g_str_has_prefix (error->message, "<data>: "));
  }
  g_autoptr (GrdDocument) whole = grd_document_load_from_data (text, len, NULL, NULL);
  g_assert_nonnull (whole);
}

static void
test_header_errors (void)
{
  FAILS (g_strdup ("[1, 2]"), "JSON object");
  FAILS (g_strdup ("{\"version\": 1, \"nodes\": []}"), "\"format\"");
  FAILS (g_strdup ("{\"format\": \"other\", \"version\": 1}"), "gradus-graph");
  FAILS (g_strdup ("{\"format\": \"gradus-graph\", \"version\": 2, \"nodes\": []}"),
         "version 2", "version 1");
  FAILS (g_strdup ("{\"format\": \"gradus-graph\", \"version\": \"1\"}"), "\"version\"");
  FAILS (g_strdup ("{\"format\": \"gradus-graph\", \"version\": 0}"), "\"version\"");
  FAILS (g_strdup ("{\"format\": \"gradus-graph\"}"), "\"version\"");
  FAILS (g_strdup ("{\"format\": \"gradus-graph\", \"version\": 1, \"nodes\": {}}"), "\"nodes\"");
  FAILS (g_strdup ("{\"format\": \"gradus-graph\", \"version\": 1, \"nodes\": [3]}"), "node 0");
  FAILS (doc_text ("{\"kind\": \"variable\"}", NULL), "node 0", "\"id\"");
  FAILS (doc_text ("{\"id\": 7, \"kind\": \"variable\"}", NULL), "node 0", "\"id\"");
  FAILS (g_strdup ("{\"format\": \"gradus-graph\", \"version\": 1, \"nodes\": [] "), "JSON");
  FAILS (g_strdup ("\xff\xfe{}"), "UTF-8");
  FAILS (g_strdup (""), "empty");
}

static void
test_node_errors (void)
{
  const char *v = "{\"id\": \"v\", \"kind\": \"variable\", \"dtype\": \"float32\", \"shape\": [3]}";
#define NODE(json, ...) FAILS (doc_text_take (g_strdup_printf ("%s, %s", v, json), NULL), __VA_ARGS__)
  /* ids */
  NODE ("{\"id\": \"v\", \"kind\": \"variable\", \"dtype\": \"float32\", \"shape\": []}",
        "node 'v'", "more than one");
  NODE ("{\"id\": \"1x\", \"kind\": \"variable\", \"dtype\": \"float32\", \"shape\": []}", "'1x'",
        "not valid");
  NODE ("{\"id\": \"a b\", \"kind\": \"variable\", \"dtype\": \"float32\", \"shape\": []}", "'a b'");
  NODE ("{\"id\": \"a:1\", \"kind\": \"variable\", \"dtype\": \"float32\", \"shape\": []}", "'a:1'");
  NODE ("{\"id\": \"\", \"kind\": \"variable\", \"dtype\": \"float32\", \"shape\": []}", "not valid");
  /* kinds */
  NODE ("{\"id\": \"k\"}", "node 'k'", "\"kind\"");
  NODE ("{\"id\": \"k\", \"kind\": 3}", "node 'k'", "\"kind\"");
  NODE ("{\"id\": \"k\", \"kind\": \"tensor\"}", "node 'k'", "\"kind\"");
  NODE ("{\"id\": \"k\", \"kind\": \"variable\", \"dtype\": \"float32\", \"shape\": [], \"name\": 5}",
        "node 'k'", "\"name\"");
  /* variables */
  NODE ("{\"id\": \"k\", \"kind\": \"variable\", \"shape\": []}", "node 'k'", "\"dtype\"");
  NODE ("{\"id\": \"k\", \"kind\": \"variable\", \"dtype\": \"float16\", \"shape\": []}", "node 'k'",
        "\"dtype\"");
  NODE ("{\"id\": \"k\", \"kind\": \"variable\", \"dtype\": 32, \"shape\": []}", "node 'k'", "\"dtype\"");
  NODE ("{\"id\": \"k\", \"kind\": \"variable\", \"dtype\": \"float32\"}", "node 'k'", "\"shape\"");
  NODE ("{\"id\": \"k\", \"kind\": \"variable\", \"dtype\": \"float32\", \"shape\": 3}", "node 'k'",
        "\"shape\"");
  NODE ("{\"id\": \"k\", \"kind\": \"variable\", \"dtype\": \"float32\", \"shape\": [-1]}", "node 'k'",
        "\"shape\"");
  NODE ("{\"id\": \"k\", \"kind\": \"variable\", \"dtype\": \"float32\", \"shape\": [\"a\"]}",
        "node 'k'", "\"shape\"");
  NODE ("{\"id\": \"k\", \"kind\": \"variable\", \"dtype\": \"float32\", \"shape\": [1e12, 1e12]}",
        "node 'k'", "\"shape\"");
  NODE ("{\"id\": \"k\", \"kind\": \"variable\", \"dtype\": \"float32\", "
        "\"shape\": [1,1,1,1,1,1,1,1,1]}", "node 'k'", "\"shape\"");
  /* constants and shared variables */
  NODE ("{\"id\": \"k\", \"kind\": \"constant\", \"dtype\": \"float32\"}", "node 'k'", "\"value\"");
  NODE ("{\"id\": \"k\", \"kind\": \"shared\", \"dtype\": \"float32\", \"value\": [[1], [1, 2]]}",
        "node 'k' (shared)", "ragged");
  NODE ("{\"id\": \"k\", \"kind\": \"shared\", \"dtype\": \"float32\", \"value\": "
        "{\"shape\": [1e12, 1e12], \"init\": \"zeros\"}}", "node 'k'", "2^31");
  NODE ("{\"id\": \"k\", \"kind\": \"constant\", \"dtype\": \"float32\", \"value\": "
        "{\"shape\": [-1], \"data\": []}}", "node 'k'", "negative");
  NODE ("{\"id\": \"k\", \"kind\": \"constant\", \"dtype\": \"int32\", \"value\": \"one\"}",
        "node 'k'", "\"one\"");
  NODE ("{\"id\": \"k\", \"kind\": \"constant\", \"dtype\": [], \"value\": 1}", "node 'k'", "\"dtype\"");
  /* ops */
  NODE ("{\"id\": \"k\", \"kind\": \"op\", \"inputs\": [\"v\"]}", "node 'k'", "\"op\"");
  NODE ("{\"id\": \"k\", \"kind\": \"op\", \"op\": 4, \"inputs\": [\"v\"]}", "node 'k'", "\"op\"");
  NODE ("{\"id\": \"k\", \"kind\": \"op\", \"op\": \"frobnicate\", \"inputs\": [\"v\"]}",
        "node 'k'", "unknown op 'frobnicate'");
  NODE ("{\"id\": \"k\", \"kind\": \"op\", \"op\": \"_reduce_to\", \"inputs\": \"v\"}", "node 'k'",
        "\"inputs\"");
  NODE ("{\"id\": \"k\", \"kind\": \"op\", \"op\": \"_reduce_to\", \"inputs\": [\"v\", 2]}",
        "node 'k'", "input 1");
  NODE ("{\"id\": \"k\", \"kind\": \"op\", \"op\": \"_reduce_to\", \"inputs\": [\"v\"]}", "node 'k'",
        "expected 2 inputs");
  NODE ("{\"id\": \"k\", \"kind\": \"op\", \"op\": \"_reduce_to\", \"inputs\": [\"v\", \"v:1\"]}",
        "node 'k'", "1 output");
  NODE ("{\"id\": \"k\", \"kind\": \"op\", \"op\": \"_reduce_to\", \"inputs\": [\"v\", \"v:x\"]}",
        "node 'k'", "'v:x'");
  NODE ("{\"id\": \"k\", \"kind\": \"op\", \"op\": \"_reduce_to\", \"inputs\": [\"v\", \"v\"], "
        "\"attrs\": 3}", "node 'k'", "\"attrs\"");
  const char *bad_attrs[] = { "\"axis\": \"a\"", "\"axis\": [0, \"b\"]", "\"axis\": 99",
                              "\"keepdims\": 1", "\"perm\": [\"a\"]", "\"shape\": [-2]",
                              "\"pattern\": [\"y\"]", "\"ndim\": 0", "\"begin\": \"x\"",
                              "\"end\": [1.5]", "\"step\": [true]", "\"dtype\": \"float16\"",
                              "\"depth\": -1", "\"perm\": [0,1,2,3,4,5,6,7,8]" };
  for (guint i = 0; i < G_N_ELEMENTS (bad_attrs); i++) {
    g_autofree char *key = g_strndup (bad_attrs[i] + 1, strchr (bad_attrs[i] + 1, '"') - bad_attrs[i] - 1);
    g_autofree char *quoted = g_strdup_printf ("\"%s\"", key);
    g_autofree char *node = g_strdup_printf (
      "{\"id\": \"k\", \"kind\": \"op\", \"op\": \"_reduce_to\", \"inputs\": [\"v\", \"v\"], "
      "\"attrs\": {%s}}", bad_attrs[i]);
    NODE (node, "node 'k'", quoted);
  }
  /* grads */
  NODE ("{\"id\": \"k\", \"kind\": \"grad\", \"wrt\": [\"v\"]}", "node 'k'", "\"cost\"");
  NODE ("{\"id\": \"k\", \"kind\": \"grad\", \"cost\": \"v\", \"wrt\": 3}", "node 'k'", "\"wrt\"");
  NODE ("{\"id\": \"k\", \"kind\": \"grad\", \"cost\": \"v\", \"wrt\": [\"v\"], "
        "\"consider_constant\": {}}", "node 'k'", "\"consider_constant\"");
  NODE ("{\"id\": \"k\", \"kind\": \"grad\", \"cost\": \"v\", \"wrt\": [\"v\"]}", "node 'k' (grad)",
        "scalar");
  NODE ("{\"id\": \"k\", \"kind\": \"grad\", \"cost\": \"v\", \"wrt\": []}", "node 'k' (grad)");
  /* shapes that do not fit */
  NODE ("{\"id\": \"w\", \"kind\": \"constant\", \"dtype\": \"float32\", \"value\": [1, 2]},"
        "{\"id\": \"k\", \"kind\": \"op\", \"op\": \"_broadcast_to\", \"inputs\": [\"v\", \"w\"]}",
        "node 'k' (_broadcast_to)");
#undef NODE
}

static void
test_references (void)
{
  const char *v = "{\"id\": \"v\", \"kind\": \"variable\", \"dtype\": \"float32\", \"shape\": [3]}";
  g_autoptr (GError) error = NULL;
  g_autofree char *dangling = doc_text_take (g_strdup_printf (
    "%s, {\"id\": \"n4\", \"kind\": \"op\", \"op\": \"_reduce_to\", \"inputs\": [\"v\", \"zz\"]}", v),
    NULL);
  g_autoptr (GrdDocument) d = grd_document_load_from_data (dangling, -1, NULL, &error);
  g_assert_null (d);
  g_assert_cmpstr (error->message, ==,
                   "<data>: node 'n4': input 1 refers to 'zz', which is not a node");
  FAILS (doc_text_take (g_strdup_printf ("%s, {\"id\": \"g\", \"kind\": \"grad\", \"cost\": \"zz:0\", "
                                    "\"wrt\": [\"v\"]}", v), NULL),
         "node 'g': cost refers to 'zz', which is not a node");
  FAILS (doc_text_take (g_strdup_printf ("%s, {\"id\": \"g\", \"kind\": \"grad\", \"cost\": \"v\", "
                                    "\"wrt\": [\"v\", \"q\"]}", v), NULL),
         "node 'g': wrt 1 refers to 'q'");
  /* cycles: a -> b -> a, and a node that is its own input */
  FAILS (doc_text_take (g_strdup_printf (
    "%s, {\"id\": \"a\", \"kind\": \"op\", \"op\": \"_reduce_to\", \"inputs\": [\"b\", \"v\"]},"
    "{\"id\": \"b\", \"kind\": \"op\", \"op\": \"_reduce_to\", \"inputs\": [\"a\", \"v\"]}", v), NULL),
    "cycle", "'a' -> 'b' -> 'a'");
  FAILS (doc_text_take (g_strdup_printf (
    "%s, {\"id\": \"s\", \"kind\": \"op\", \"op\": \"_reduce_to\", \"inputs\": [\"s\", \"v\"]}", v),
    NULL), "node 's'", "cycle");
  /* function and run */
  FAILS (doc_text (base_nodes, "\"function\": 3"), "\"function\"");
  FAILS (doc_text (base_nodes, "\"function\": {\"inputs\": \"v\"}"), "\"inputs\"");
  FAILS (doc_text (base_nodes, "\"function\": {\"outputs\": [1]}"), "\"outputs\"");
  FAILS (doc_text (base_nodes, "\"function\": {\"updates\": [3]}"), "\"updates\"");
  FAILS (doc_text (base_nodes, "\"function\": {\"updates\": [{\"shared\": \"s\"}]}"), "\"updates\"");
  FAILS (doc_text (base_nodes, "\"run\": 3"), "\"run\"");
  FAILS (doc_text (base_nodes, "\"run\": {\"steps\": -1}"), "\"steps\"");
  FAILS (doc_text (base_nodes, "\"run\": {\"steps\": \"10\"}"), "\"steps\"");
  FAILS (doc_text (base_nodes, "\"run\": {\"feeds\": []}"), "\"feeds\"");
}

/* Files that load but whose function does not compile. */
static void
test_function_errors (void)
{
  const char *cases[][2] = {
    { "\"function\": {\"inputs\": [\"v\"], \"outputs\": [\"nothere\"]}", "nothere" },
    { "\"function\": {\"inputs\": [], \"outputs\": [\"b\"]}", "'v'" },
    { "\"function\": {\"inputs\": [\"c\"], \"outputs\": [\"b\"]}", "'c'" },
    { "\"function\": {\"inputs\": [\"v\"], \"outputs\": [\"b\"], \"updates\": "
      "[{\"shared\": \"c\", \"value\": \"r\"}]}", "'c'" },
    { "\"function\": {\"inputs\": [\"v\"], \"outputs\": [], \"updates\": "
      "[{\"shared\": \"s\", \"value\": \"d\"}]}", "'s'" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *text = doc_text (base_nodes, cases[i][0]);
    g_autoptr (GError) error = NULL;
    g_autoptr (GrdDocument) doc = grd_document_load_from_data (text, -1, "f.gradus", &error);
    g_assert_no_error (error);
    g_autoptr (GrdFunction) fn = grd_document_function (doc, &error);
    if (fn)
      g_error ("compiled: %s", cases[i][0]);
    g_assert_true (g_str_has_prefix (error->message, "f.gradus: "));
    if (!strstr (error->message, cases[i][1]))
      g_error ("'%s' does not mention %s", error->message, cases[i][1]);
  }
  g_autofree char *none = doc_text (base_nodes, NULL);
  g_autoptr (GrdDocument) doc = grd_document_load_from_data (none, -1, NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_null (grd_document_function (doc, &error));
  g_assert_nonnull (strstr (error->message, "\"function\""));
  g_assert_cmpint (grd_document_run_steps (doc, 17), ==, 17);
}

static void
test_lenient (void)
{
  g_autofree char *text = doc_text (
    "{\"id\": \"late\", \"kind\": \"op\", \"op\": \"_reduce_to\", \"inputs\": [\"bad\", \"x\"]},"
    "{\"id\": \"x\", \"kind\": \"variable\", \"dtype\": \"float32\", \"shape\": [3]},"
    "{\"id\": \"bad\", \"kind\": \"op\", \"op\": \"nosuchop\", \"inputs\": [\"x\"]},"
    "{\"id\": \"dang\", \"kind\": \"op\", \"op\": \"_reduce_to\", \"inputs\": [\"x\", \"zz\"]},"
    "{\"id\": \"c1\", \"kind\": \"op\", \"op\": \"_reduce_to\", \"inputs\": [\"c2\", \"x\"]},"
    "{\"id\": \"c2\", \"kind\": \"op\", \"op\": \"_reduce_to\", \"inputs\": [\"c1\", \"x\"]},"
    "{\"id\": \"good\", \"kind\": \"op\", \"op\": \"_broadcast_to\", \"inputs\": [\"x\", \"x\"]},"
    "{\"id\": \"val\", \"kind\": \"shared\", \"dtype\": \"int32\", \"value\": [1.5]},"
    "{\"id\": \"uses_val\", \"kind\": \"op\", \"op\": \"_broadcast_to\", \"inputs\": [\"val:0\", \"x\"]}",
    "\"function\": {\"inputs\": [\"x\"], \"outputs\": [\"late\"]}");
  g_autoptr (GError) error = NULL;
  /* strict: the first error fails the load */
  g_autoptr (GrdDocument) strict = grd_document_load_from_data (text, -1, "l.gradus", &error);
  g_assert_null (strict);
  g_clear_error (&error);
  g_autoptr (JsonNode) root = parse (text);
  g_autoptr (GrdDocument) doc = grd_document_new_from_json (root, "l.gradus", GRD_DOCUMENT_LENIENT,
                                                           &error);
  g_assert_no_error (error);
  GPtrArray *ids = grd_document_error_ids (doc);
  const char *want[] = { "late", "bad", "dang", "c1", "c2", "val", "uses_val" };
  g_assert_cmpint (ids->len, ==, G_N_ELEMENTS (want));
  for (guint i = 0; i < ids->len; i++)
    g_assert_cmpstr (ids->pdata[i], ==, want[i]);
  g_assert_cmpstr (grd_document_node_error (doc, "late"), ==, "node 'late': input 'bad' has an error");
  g_assert_nonnull (strstr (grd_document_node_error (doc, "bad"), "unknown op 'nosuchop'"));
  g_assert_cmpstr (grd_document_node_error (doc, "dang"), ==,
                   "node 'dang': input 1 refers to 'zz', which is not a node");
  g_assert_nonnull (strstr (grd_document_node_error (doc, "c1"), "cycle"));
  g_assert_nonnull (strstr (grd_document_node_error (doc, "c2"), "cycle"));
  g_assert_nonnull (strstr (grd_document_node_error (doc, "val"), "integer"));
  g_assert_cmpstr (grd_document_node_error (doc, "uses_val"), ==,
                   "node 'uses_val': input 'val' has an error");
  g_assert_null (grd_document_node_error (doc, "good"));
  g_assert_null (grd_document_node_error (doc, "x"));
  GrdGraph *g = grd_document_graph (doc);
  g_assert_cmpint (grd_graph_find (g, "good"), >=, 0);
  g_assert_cmpint (grd_graph_find (g, "bad"), <, 0);
  /* a function that needs a node in error says so */
  g_autoptr (GrdFunction) fn = grd_document_function (doc, &error);
  g_assert_null (fn);
  g_assert_nonnull (strstr (error->message, "'late' has an error"));
  /* lenient saves keep the broken nodes as written */
  g_autofree char *data = grd_document_to_data (doc, NULL);
  g_autoptr (JsonNode) back = parse (data);
  g_assert_true (json_node_equal (root, back));
  /* syntax errors still fail */
  g_autoptr (JsonNode) arr = parse ("[1]");
  g_clear_error (&error);
  g_assert_null (grd_document_new_from_json (arr, NULL, GRD_DOCUMENT_LENIENT, &error));
  g_assert_nonnull (error);
}

/* ------------------------------------------------------------ export */

static void
test_dot (void)
{
  g_autoptr (GrdDocument) doc = load_ok ("linreg.gradus");
  g_autofree char *dot = grd_document_to_dot (doc);
  g_assert_true (g_str_has_prefix (dot, "digraph"));
  g_assert_nonnull (strstr (dot, "\"a\" -> \"ax\""));
  g_assert_nonnull (strstr (dot, "\"x\" -> \"ax\""));
  g_assert_nonnull (strstr (dot, "subgraph \"cluster_g\""));
  g_assert_nonnull (strstr (dot, "mse\\nmul\\nfloat64[]"));
  g_assert_nonnull (strstr (dot, "x\\nvariable\\nfloat64[]"));
  /* every gradient node is inside the cluster, no forward node is */
  GrdGraph *g = grd_document_graph (doc);
  const char *cluster = strstr (dot, "subgraph");
  const char *cluster_end = strstr (cluster, "  }\n");
  for (gint i = 0; i < grd_graph_n_nodes (g); i++) {
    g_autofree char *decl = g_strdup_printf ("\"%s\" [label=", grd_graph_node_id (g, i));
    const char *at = strstr (dot, decl);
    g_assert_nonnull (at);
    gboolean inside = at > cluster && at < cluster_end;
    gboolean grad = grd_graph_node_owner (g, i) >= 0 || grd_graph_node_kind (g, i) == GRD_NODE_GRAD;
    g_assert_cmpint (inside, ==, grad);
  }
  /* balanced braces */
  gint depth = 0;
  for (const char *p = dot; *p; p++)
    depth += *p == '{' ? 1 : *p == '}' ? -1 : 0;
  g_assert_cmpint (depth, ==, 0);
}

/* ------------------------------------------------------------ saving */

static gboolean
dir_has_only (const char *dir, const char *name)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *e;
  gint n = 0;
  while ((e = g_dir_read_name (d)))
    if (!g_str_equal (e, name) || ++n > 1)
      return FALSE;
  return n == 1;
}

static void
test_atomic_save (void)
{
  g_autoptr (GrdDocument) doc = load_ok ("linreg.gradus");
  run_doc (doc, 2, NULL);
  g_autofree char *dir = g_dir_make_tmp ("gradus-save-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "model.gradus", NULL);
  const char *old = "old contents, not to be lost";
  g_assert_true (g_file_set_contents (path, old, -1, NULL));
  g_autoptr (GError) error = NULL;

  /* a disk that fills up: the file size limit makes every write past 200 bytes fail */
  struct rlimit saved, small = { 200, 200 };
  getrlimit (RLIMIT_FSIZE, &saved);
  small.rlim_max = saved.rlim_max;
  void (*prev) (int) = signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &small), ==, 0);
  gboolean ok = grd_document_save (doc, path, &error);
  setrlimit (RLIMIT_FSIZE, &saved);
  signal (SIGXFSZ, prev);
  g_assert_false (ok);
  g_assert_error (error, GRD_ERROR, GRD_ERROR_IO);
  g_assert_true (g_str_has_prefix (error->message, path));
  g_autofree char *now = NULL;
  g_assert_true (g_file_get_contents (path, &now, NULL, NULL));
  g_assert_cmpstr (now, ==, old);
  g_assert_true (dir_has_only (dir, "model.gradus"));   /* no temporary file left */
  g_clear_error (&error);

  /* a folder that cannot be written (root writes anywhere: there the size limit
   * above stands for this case too) */
  if (geteuid () != 0) {
    g_assert_cmpint (g_chmod (dir, 0555), ==, 0);
    g_assert_false (grd_document_save (doc, path, &error));
    g_assert_error (error, GRD_ERROR, GRD_ERROR_IO);
    g_assert_true (g_str_has_prefix (error->message, path));
    g_clear_pointer (&now, g_free);
    g_assert_true (g_file_get_contents (path, &now, NULL, NULL));
    g_assert_cmpstr (now, ==, old);
    g_assert_cmpint (g_chmod (dir, 0755), ==, 0);
    g_clear_error (&error);
  }
  /* a folder that does not exist */
  g_autofree char *nowhere = g_build_filename (dir, "no", "such", "x.gradus", NULL);
  g_assert_false (grd_document_save (doc, nowhere, &error));
  g_assert_true (g_str_has_prefix (error->message, nowhere));
  g_clear_error (&error);

  /* and a save that works replaces the file whole */
  g_assert_true (grd_document_save (doc, path, &error));
  g_assert_no_error (error);
  g_autoptr (GrdDocument) re = grd_document_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (shared_value (re, "a")->data, 8, shared_value (doc, "a")->data, 8);
  g_assert_true (dir_has_only (dir, "model.gradus"));
  g_unlink (path);
  g_rmdir (dir);
}

/* ------------------------------------------------------------ feeds */

static GrdFeed *
feed_ok (const char *json, GrdDType dtype, gint rank, const gint64 *dims)
{
  GrdType type;
  memset (&type, 0, sizeof type);
  type.dtype = dtype;
  type.rank = rank;
  for (gint i = 0; i < rank; i++)
    type.dims[i] = dims[i];
  g_autoptr (JsonNode) n = parse (json);
  g_autofree char *dir = data_path ("");
  g_autoptr (GError) error = NULL;
  GrdFeed *f = grd_feed_new (n, &type, dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f);
  return f;
}

static void
feed_fails (const char *json, GrdDType dtype, gint rank, const gint64 *dims, const char *fragment)
{
  GrdType type;
  memset (&type, 0, sizeof type);
  type.dtype = dtype;
  type.rank = rank;
  for (gint i = 0; i < rank; i++)
    type.dims[i] = dims[i];
  g_autoptr (JsonNode) n = parse (json);
  g_autofree char *dir = data_path ("");
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdFeed) f = grd_feed_new (n, &type, dir, &error);
  g_assert_null (f);
  g_assert_nonnull (error);
  if (!strstr (error->message, fragment))
    g_error ("'%s' does not mention '%s'", error->message, fragment);
}

static GrdTensor *
next_ok (GrdFeed *f, gint64 step)
{
  g_autoptr (GError) error = NULL;
  GrdTensor *t = grd_feed_next (f, step, &error);
  g_assert_no_error (error);
  return t;
}

static void
test_feed_values (void)
{
  g_autoptr (GrdFeed) f = feed_ok ("[1, 2]", GRD_DTYPE_FLOAT64, 1, (gint64[]) { -1 });
  for (gint s = 0; s < 3; s++) {
    g_autoptr (GrdTensor) t = next_ok (f, s);
    grd_test_assert_tensor (t, GRD_DTYPE_FLOAT64, 1, (gint64[]) { 2 }, (double[]) { 1, 2 }, 0, 0);
  }
  g_autoptr (GrdFeed) i = feed_ok ("{\"shape\": [2], \"data\": [3, 4]}", GRD_DTYPE_INT32, 1,
                                   (gint64[]) { 2 });
  g_autoptr (GrdTensor) it = next_ok (i, 0);
  grd_test_assert_tensor (it, GRD_DTYPE_INT32, 1, (gint64[]) { 2 }, (double[]) { 3, 4 }, 0, 0);
  g_autoptr (GrdFeed) n = feed_ok ("{\"npy\": \"f8.npy\"}", GRD_DTYPE_FLOAT32, 2,
                                   (gint64[]) { -1, 4 });
  g_autoptr (GrdTensor) nt = next_ok (n, 5);
  g_assert_cmpint (nt->dtype, ==, GRD_DTYPE_FLOAT32);
  g_assert_cmpint (nt->shape[0], ==, 3);
  feed_fails ("[[1, 2]]", GRD_DTYPE_FLOAT64, 1, (gint64[]) { -1 }, "expected float64[?], got float64[1,2]");
  feed_fails ("[1, 2]", GRD_DTYPE_FLOAT64, 1, (gint64[]) { 3 }, "expected float64[3]");
  feed_fails ("1.5", GRD_DTYPE_INT32, 0, NULL, "integer");
}

static void
test_feed_batches (void)
{
  /* rows.npy: row r is [r, 10 r, 100 r], 10 rows */
  g_autoptr (GrdFeed) f = feed_ok ("{\"npy\": \"rows.npy\", \"batch\": 4}", GRD_DTYPE_FLOAT32, 2,
                                   (gint64[]) { -1, 3 });
  for (gint s = 0; s < 6; s++) {
    g_autoptr (GrdTensor) t = next_ok (f, s);
    g_assert_cmpint (t->shape[0], ==, 4);
    g_assert_cmpint (t->shape[1], ==, 3);
    for (gint j = 0; j < 4; j++) {
      gint r = (s * 4 + j) % 10;   /* wraps around */
      g_assert_cmpfloat (grd_tensor_get (t, j * 3), ==, r);
      g_assert_cmpfloat (grd_tensor_get (t, j * 3 + 2), ==, 100 * r);
    }
  }
  /* a batch larger than the data set wraps within one call */
  g_autoptr (GrdFeed) big = feed_ok ("{\"npy\": \"labels.npy\", \"batch\": 25}", GRD_DTYPE_INT64, 1,
                                     (gint64[]) { 25 });
  g_autoptr (GrdTensor) bt = next_ok (big, 1);
  for (gint j = 0; j < 25; j++)
    g_assert_cmpint (((gint64 *) bt->data)[j], ==, (25 + j) % 10);
  feed_fails ("{\"npy\": \"rows.npy\", \"batch\": 4}", GRD_DTYPE_FLOAT32, 2, (gint64[]) { 5, 3 },
              "batches of");
  feed_fails ("{\"npy\": \"rows.npy\", \"batch\": 4}", GRD_DTYPE_FLOAT32, 2, (gint64[]) { -1, 2 },
              "expected float32[?,2]");
  feed_fails ("{\"npy\": \"rows.npy\", \"batch\": 0}", GRD_DTYPE_FLOAT32, 2, (gint64[]) { -1, 3 },
              "\"batch\"");
  feed_fails ("{\"npy\": \"rows.npy\", \"batch\": 2, \"shuffle\": 1}", GRD_DTYPE_FLOAT32, 2,
              (gint64[]) { -1, 3 }, "\"shuffle\"");
  feed_fails ("{\"npy\": \"nope.npy\", \"batch\": 2}", GRD_DTYPE_FLOAT32, 2, (gint64[]) { -1, 3 },
              "nope.npy");
  feed_fails ("{\"batch\": 2}", GRD_DTYPE_FLOAT32, 2, (gint64[]) { -1, 3 }, "\"npy\" or \"csv\"");
}

static void
test_feed_shuffle (void)
{
  const char *x = "{\"npy\": \"rows.npy\", \"batch\": 3, \"shuffle\": true, \"seed\": 9}";
  const char *y = "{\"npy\": \"labels.npy\", \"batch\": 3, \"shuffle\": true, \"seed\": 9}";
  const char *z = "{\"csv\": \"rows.csv\", \"header\": true, \"columns\": [\"feature, one\", 2],"
                  " \"batch\": 3, \"shuffle\": true, \"seed\": 9}";
  const char *l = "{\"csv\": \"rows.csv\", \"header\": true, \"column\": \"label\","
                  " \"batch\": 3, \"shuffle\": true, \"seed\": 9}";
  g_autoptr (GrdFeed) fx = feed_ok (x, GRD_DTYPE_FLOAT32, 2, (gint64[]) { -1, 3 });
  g_autoptr (GrdFeed) fy = feed_ok (y, GRD_DTYPE_INT64, 1, (gint64[]) { 3 });
  g_autoptr (GrdFeed) fz = feed_ok (z, GRD_DTYPE_FLOAT64, 2, (gint64[]) { 3, 2 });
  g_autoptr (GrdFeed) fl = feed_ok (l, GRD_DTYPE_INT32, 1, (gint64[]) { -1 });
  g_autoptr (GrdFeed) fx2 = feed_ok (x, GRD_DTYPE_FLOAT32, 2, (gint64[]) { -1, 3 });
  /* 10 passes of 10 rows in 3-row batches: stream positions 0..99 */
  gint seen[10][10] = { { 0 } };
  gint order[10][10];
  for (gint s = 0; s < 34; s++) {
    g_autoptr (GrdTensor) tx = next_ok (fx, s);
    g_autoptr (GrdTensor) ty = next_ok (fy, s);
    g_autoptr (GrdTensor) tz = next_ok (fz, s);
    g_autoptr (GrdTensor) tl = next_ok (fl, s);
    g_autoptr (GrdTensor) tx2 = next_ok (fx2, s);
    g_assert_cmpmem (tx->data, 36, tx2->data, 36);   /* reproducible */
    for (gint j = 0; j < 3; j++) {
      gint r = (gint) grd_tensor_get (tx, j * 3);
      /* aligned row for row: inputs, labels, the same rows from CSV */
      g_assert_cmpfloat (grd_tensor_get (tx, j * 3 + 1), ==, 10 * r);
      g_assert_cmpint (((gint64 *) ty->data)[j], ==, r);
      g_assert_cmpfloat (grd_tensor_get (tz, j * 2), ==, 10 * r);
      g_assert_cmpfloat (grd_tensor_get (tz, j * 2 + 1), ==, 100 * r);
      g_assert_cmpint (((gint32 *) tl->data)[j], ==, r);
      gint pos = s * 3 + j;
      if (pos < 100) {
        seen[pos / 10][r]++;
        order[pos / 10][pos % 10] = r;
      }
    }
  }
  /* each pass is a permutation of the rows, and passes differ */
  gint identical_to_first = 0, identity = 0;
  for (gint p = 0; p < 10; p++) {
    for (gint r = 0; r < 10; r++)
      g_assert_cmpint (seen[p][r], ==, 1);
    identical_to_first += p > 0 && memcmp (order[p], order[0], sizeof order[0]) == 0;
    gboolean id = TRUE;
    for (gint r = 0; r < 10; r++)
      id = id && order[p][r] == r;
    identity += id;
  }
  g_assert_cmpint (identical_to_first, <, 2);
  g_assert_cmpint (identity, ==, 0);
  /* a different seed gives a different order; random access gives the same batches */
  g_autoptr (GrdFeed) other = feed_ok ("{\"npy\": \"rows.npy\", \"batch\": 3, \"shuffle\": true,"
                                       " \"seed\": 10}", GRD_DTYPE_FLOAT32, 2, (gint64[]) { -1, 3 });
  gint differ = 0;
  for (gint s = 0; s < 4; s++) {
    g_autoptr (GrdTensor) a = next_ok (other, s);
    for (gint j = 0; j < 3 && s * 3 + j < 10; j++)
      differ += (gint) grd_tensor_get (a, j * 3) != order[0][s * 3 + j];
  }
  g_assert_cmpint (differ, >, 0);
  g_autoptr (GrdTensor) late = next_ok (fx2, 20);
  for (gint j = 0; j < 3; j++) {
    gint pos = 60 + j;
    g_assert_cmpfloat (grd_tensor_get (late, j * 3), ==, order[pos / 10][pos % 10]);
  }
}

static void
test_feed_csv (void)
{
  g_autoptr (GrdFeed) all = feed_ok ("{\"csv\": \"rows.csv\", \"header\": true, \"batch\": 10}",
                                     GRD_DTYPE_FLOAT64, 2, (gint64[]) { 10, 4 });
  g_autoptr (GrdTensor) t = next_ok (all, 0);
  for (gint r = 0; r < 10; r++) {
    g_assert_cmpfloat (grd_tensor_get (t, r * 4), ==, r);
    g_assert_cmpfloat (grd_tensor_get (t, r * 4 + 1), ==, 10 * r);
    g_assert_cmpfloat (grd_tensor_get (t, r * 4 + 3), ==, r);
  }
  g_autoptr (GrdFeed) idx = feed_ok ("{\"csv\": \"rows.csv\", \"header\": true, \"columns\": [3, 1],"
                                     " \"batch\": 2}", GRD_DTYPE_FLOAT32, 2, (gint64[]) { -1, 2 });
  g_autoptr (GrdTensor) ti = next_ok (idx, 1);
  grd_test_assert_tensor (ti, GRD_DTYPE_FLOAT32, 2, (gint64[]) { 2, 2 },
                          (double[]) { 2, 20, 3, 30 }, 0, 0);
  feed_fails ("{\"csv\": \"rows.csv\", \"header\": true, \"column\": \"nope\"}", GRD_DTYPE_FLOAT32, 1,
              (gint64[]) { -1 }, "'nope'");
  feed_fails ("{\"csv\": \"rows.csv\", \"header\": true, \"column\": 9}", GRD_DTYPE_FLOAT32, 1,
              (gint64[]) { -1 }, "column 9");
  feed_fails ("{\"csv\": \"rows.csv\", \"column\": 0}", GRD_DTYPE_FLOAT32, 1, (gint64[]) { -1 },
              "line 1, column 0");   /* the header read as data */
  feed_fails ("{\"csv\": \"rows.csv\", \"header\": true, \"column\": 1, \"columns\": [1]}",
              GRD_DTYPE_FLOAT32, 1, (gint64[]) { -1 }, "not both");
}

static void
test_document_feeds (void)
{
  g_autoptr (GrdDocument) doc = load_ok ("linreg.gradus");
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) over = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                       (GDestroyNotify) json_node_unref);
  g_hash_table_insert (over, "t", parse ("7"));
  g_autoptr (GPtrArray) feeds = grd_document_feeds (doc, over, &error);
  g_assert_no_error (error);
  g_assert_cmpint (feeds->len, ==, 2);
  g_autoptr (GrdTensor) x = next_ok (feeds->pdata[0], 0);
  g_autoptr (GrdTensor) t = next_ok (feeds->pdata[1], 0);
  g_assert_cmpfloat (grd_tensor_get (x, 0), ==, 1.0);
  g_assert_cmpfloat (grd_tensor_get (t, 0), ==, 7.0);
  /* a feed that does not fit names the input */
  g_hash_table_insert (over, "t", parse ("[1, 2]"));
  g_autoptr (GPtrArray) bad = grd_document_feeds (doc, over, &error);
  g_assert_null (bad);
  g_assert_nonnull (strstr (error->message, "input 't'"));
  g_assert_true (g_str_has_suffix (error->message, "expected float64[], got float64[2]"));
  g_clear_error (&error);
  /* a missing feed names the input */
  g_autofree char *text = read_data ("linreg.gradus", NULL);
  g_autoptr (JsonNode) root = parse (text);
  JsonObject *run = json_object_get_object_member (json_node_get_object (root), "run");
  json_object_remove_member (json_object_get_object_member (run, "feeds"), "x");
  g_autoptr (GrdDocument) d2 = grd_document_new_from_json (root, "m.gradus", 0, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) none = grd_document_feeds (d2, NULL, &error);
  g_assert_null (none);
  g_assert_cmpstr (error->message, ==, "m.gradus: input 'x' has no feed (add it to run.feeds)");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/document/internal-ops", test_internal_ops);
  g_test_add_func ("/engine/document/linreg", test_linreg_runs);
  g_test_add_func ("/engine/document/reverse-order", test_reverse_order);
  g_test_add_func ("/engine/document/round-trip", test_round_trip_unknown_keys);
  g_test_add_func ("/engine/document/value-forms-saved", test_value_forms_saved);
  g_test_add_func ("/engine/document/big-integers", test_big_integers);
  g_test_add_func ("/engine/document/truncated", test_truncated);
  g_test_add_func ("/engine/document/header-errors", test_header_errors);
  g_test_add_func ("/engine/document/node-errors", test_node_errors);
  g_test_add_func ("/engine/document/references", test_references);
  g_test_add_func ("/engine/document/function-errors", test_function_errors);
  g_test_add_func ("/engine/document/lenient", test_lenient);
  g_test_add_func ("/engine/document/dot", test_dot);
  g_test_add_func ("/engine/document/atomic-save", test_atomic_save);
  g_test_add_func ("/engine/document/feed/values", test_feed_values);
  g_test_add_func ("/engine/document/feed/batches", test_feed_batches);
  g_test_add_func ("/engine/document/feed/shuffle", test_feed_shuffle);
  g_test_add_func ("/engine/document/feed/csv", test_feed_csv);
  g_test_add_func ("/engine/document/feed/document", test_document_feeds);
  return g_test_run ();
}
