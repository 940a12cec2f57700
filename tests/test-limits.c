/* test-limits.c: untrusted files cannot hurt (issue 15): memory budgets,
 * nesting depth, shape overflow, the data access policy and exact numbers.
 * Every case must end in one error line, never an abort or a huge allocation. */
#include "gradus.h"
#include "grd-internal.h"
#include "compile/grd-program.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Under ASan a failed allocation must come back as NULL (as malloc's does)
 * for the out-of-memory cases below; ASAN_OPTIONS still adds its own. */
const char *__asan_default_options (void);
const char *
__asan_default_options (void)
{
  return "allocator_may_return_null=1";
}

#define MIB (G_GUINT64_CONSTANT (1) << 20)

/* ------------------------------------------------------------ helpers */

static char *
data_path (const char *name)
{
  const char *src = g_getenv ("GRADUS_SOURCE_DIR");
  g_assert_nonnull (src);
  return g_build_filename (src, "tests", "data", name, NULL);
}

static char *
graph_text (const char *nodes, const char *function)
{
  return g_strdup_printf ("{\"format\": \"gradus-graph\", \"version\": 1, \"nodes\": [%s]%s%s}",
                          nodes, function ? ", " : "", function ? function : "");
}

static GrdLimits
limits_of (guint64 bytes)
{
  GrdLimits l;
  grd_limits_init (&l);
  l.memory_limit = bytes;
  return l;
}

/* Loads text (named `path`) under limits; returns the document or NULL with error. */
static GrdDocument *
load_with (const char *text, const char *path, const GrdLimits *limits, GError **error)
{
  g_autoptr (JsonNode) root = grd_json_parse (text, -1, path, error);
  if (!root)
    return NULL;
  return grd_document_new_from_json_with_limits (root, path, GRD_DOCUMENT_STRICT, limits, error);
}

/* The error must hold every fragment and be one line. */
static void
assert_error (const GError *error, const char *const *fragments)
{
  g_assert_nonnull (error);
  g_assert_null (strchr (error->message, '\n'));
  for (gint i = 0; fragments[i]; i++)
    if (!strstr (error->message, fragments[i]))
      g_error ("error \"%s\" lacks \"%s\"", error->message, fragments[i]);
}
#define ASSERT_ERROR(error, ...) assert_error ((error), (const char *const[]) { __VA_ARGS__, NULL })

/* ------------------------------------------------------------ memory */

static void
test_parse_size (void)
{
  guint64 b;
  g_assert_true (grd_parse_size ("512M", &b, NULL));
  g_assert_cmpuint (b, ==, 512 * MIB);
  g_assert_true (grd_parse_size ("4G", &b, NULL));
  g_assert_cmpuint (b, ==, 4096 * MIB);
  g_assert_true (grd_parse_size ("1000", &b, NULL));
  g_assert_cmpuint (b, ==, 1000);
  g_autoptr (GError) error = NULL;
  g_assert_false (grd_parse_size ("-1G", &b, &error));
  ASSERT_ERROR (error, "'-1G'", "512M");
  g_assert_false (grd_parse_size ("0", &b, NULL));
  g_assert_false (grd_parse_size ("99999999999T", &b, NULL));
  g_assert_false (grd_parse_size ("12Q", &b, NULL));
  g_assert_cmpuint (grd_memory_limit_default (), >, 0);
}

/* An init of exactly 2^31 float64 (16 GiB) is refused before allocating. */
static void
test_init_too_big (void)
{
  GrdLimits l = limits_of (1024 * MIB);
  g_autofree char *text = graph_text (
    "{\"id\": \"w\", \"kind\": \"shared\", \"dtype\": \"float64\","
    " \"value\": {\"shape\": [2147483648], \"init\": \"zeros\"}}", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdDocument) doc = load_with (text, "big.gradus", &l, &error);
  g_assert_null (doc);
  ASSERT_ERROR (error, "big.gradus", "node 'w'", "float64[2147483648]", "16.0 GiB",
                "memory limit of 1.0 GiB");
  /* the same under the default budget, which is at most the machine's memory */
  g_clear_error (&error);
  g_autofree char *huge = graph_text (
    "{\"id\": \"w\", \"kind\": \"shared\", \"dtype\": \"float64\","
    " \"value\": {\"shape\": [65536, 65536, 65536], \"init\": \"ones\"}}", NULL);
  g_autoptr (GrdDocument) d2 = grd_document_load_from_data (huge, -1, NULL, &error);
  g_assert_null (d2);
  ASSERT_ERROR (error, "node 'w'", "more than 2^31 elements");
}

/* [1e5,1] + [1,1e5] and dot: refused at compile time from the static shapes,
 * and at call time from the actual shapes when the graph leaves them open. */
static void
test_op_result_too_big (void)
{
  GrdLimits l = limits_of (256 * MIB);
  g_autofree char *text = graph_text (
    "{\"id\": \"a\", \"kind\": \"constant\", \"dtype\": \"float64\","
    " \"value\": {\"shape\": [100000, 1], \"init\": \"ones\"}},"
    "{\"id\": \"b\", \"kind\": \"constant\", \"dtype\": \"float64\","
    " \"value\": {\"shape\": [1, 100000], \"init\": \"ones\"}},"
    "{\"id\": \"z\", \"kind\": \"op\", \"op\": \"add\", \"inputs\": [\"a\", \"b\"]},"
    "{\"id\": \"d\", \"kind\": \"op\", \"op\": \"dot\", \"inputs\": [\"a\", \"b\"]}",
    "\"function\": {\"inputs\": [], \"outputs\": [\"z\"]}");
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdDocument) doc = load_with (text, "bc.gradus", &l, &error);
  g_assert_no_error (error);
  g_autoptr (GrdFunction) fn = grd_document_function (doc, &error);
  g_assert_null (fn);
  ASSERT_ERROR (error, "node 'z' (add)", "float64[100000,100000]", "74.5 GiB", "256.0 MiB");

  GrdGraph *g = grd_document_graph (doc);
  GrdRef d = { grd_graph_find (g, "d"), 0 };
  g_clear_error (&error);
  GrdFunction *df = grd_function_new (g, NULL, 0, &d, 1, NULL, 0, &error);
  g_assert_null (df);   /* the default budget refuses it as well */
  ASSERT_ERROR (error, "node 'd' (dot)", "float64[100000,100000]");
  g_clear_error (&error);

  /* unknown shapes: checked when the call gives them */
  g_autoptr (GrdGraph) vg = grd_graph_new ();
  GrdRef x = grd_graph_variable (vg, "x", GRD_DTYPE_FLOAT64, 2, (gint64[]) { -1, 1 }, NULL);
  GrdRef y = grd_graph_variable (vg, "y", GRD_DTYPE_FLOAT64, 2, (gint64[]) { 1, -1 }, NULL);
  GrdRef s = grd_graph_op (vg, "s", "add", (GrdRef[]) { x, y }, 2, NULL, NULL);
  g_autoptr (GrdFunction) vf = grd_function_new (vg, (GrdRef[]) { x, y }, 2, &s, 1, NULL, 0, &error);
  g_assert_no_error (error);
  grd_function_set_memory_limit (vf, 64 * MIB);
  g_assert_cmpuint (grd_function_get_memory_limit (vf), ==, 64 * MIB);
  g_autoptr (GrdTensor) xs = grd_tensor_new (GRD_DTYPE_FLOAT64, 2, (gint64[]) { 100000, 1 });
  g_autoptr (GrdTensor) ys = grd_tensor_new (GRD_DTYPE_FLOAT64, 2, (gint64[]) { 1, 100000 });
  GrdTensor *out = NULL;
  g_assert_false (grd_function_call (vf, (GrdTensor *[]) { xs, ys }, &out, &error));
  g_assert_null (out);
  ASSERT_ERROR (error, "node 's' (add)", "float64[100000,100000]", "64.0 MiB");
  /* small shapes still run, and the large ones are refused again after them */
  g_clear_error (&error);
  g_autoptr (GrdTensor) xs2 = grd_tensor_new (GRD_DTYPE_FLOAT64, 2, (gint64[]) { 3, 1 });
  g_autoptr (GrdTensor) ys2 = grd_tensor_new (GRD_DTYPE_FLOAT64, 2, (gint64[]) { 1, 4 });
  g_assert_true (grd_function_call (vf, (GrdTensor *[]) { xs2, ys2 }, &out, &error));
  g_assert_cmpint (out->size, ==, 12);
  g_clear_pointer (&out, grd_tensor_unref);
  g_assert_false (grd_function_call (vf, (GrdTensor *[]) { xs, ys }, &out, &error));
  g_assert_nonnull (error);
}

/* The values alive together count, not only each one. */
static void
test_peak_too_big (void)
{
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 1, (gint64[]) { -1 }, NULL);
  GrdRef a = grd_graph_op (g, "a", "exp", &x, 1, NULL, NULL);
  GrdRef b = grd_graph_op (g, "b", "sin", &x, 1, NULL, NULL);
  GrdRef c = grd_graph_op (g, "c", "cos", &x, 1, NULL, NULL);
  GrdRef s1 = grd_graph_op (g, "s1", "add", (GrdRef[]) { a, b }, 2, NULL, NULL);
  GrdRef s2 = grd_graph_op (g, "s2", "add", (GrdRef[]) { s1, c }, 2, NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdFunction) fn = grd_function_new (g, &x, 1, &s2, 1, NULL, 0, &error);
  g_assert_no_error (error);
  /* x, a, b, c alive together: 4 MiB of 1 MiB values under a 3 MiB budget */
  grd_function_set_memory_limit (fn, 3 * MIB);
  g_autoptr (GrdTensor) xs = grd_tensor_new (GRD_DTYPE_FLOAT64, 1, (gint64[]) { 131072 });
  GrdTensor *out = NULL;
  g_assert_false (grd_function_call (fn, &xs, &out, &error));
  ASSERT_ERROR (error, "values alive", "memory limit of 3.0 MiB");
  g_clear_error (&error);
  grd_function_set_memory_limit (fn, 8 * MIB);
  g_assert_true (grd_function_call (fn, &xs, &out, &error));
  grd_tensor_unref (out);
}

/* "batch": 2147483647 on a 10-row file is refused before any batch is made. */
static void
test_batch_too_big (void)
{
  g_autofree char *dir = data_path ("");
  GrdLimits l = limits_of (64 * MIB);
  g_autoptr (JsonNode) json = grd_json_parse ("{\"npy\": \"rows.npy\", \"batch\": 2147483647}", -1,
                                              NULL, NULL);
  GrdType t;
  grd_type_set (&t, GRD_DTYPE_FLOAT32, 2, (gint64[]) { -1, 3 });
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdFeed) feed = grd_feed_new_limited (json, &t, dir, &l, &error);
  g_assert_null (feed);
  ASSERT_ERROR (error, "a batch", "float32[2147483647,3]", "memory limit");
}

/* A wrong init name fails before the value is built (a 3.7 GB shape here). */
static void
test_init_name_first (void)
{
  GrdLimits l = limits_of (1 * MIB);
  g_autoptr (JsonNode) json = grd_json_parse ("{\"shape\": [5, 93372030], \"init\": \"gform\"}", -1,
                                              NULL, NULL);
  GrdType t;
  grd_type_set (&t, GRD_DTYPE_FLOAT64, 2, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdFeed) feed = grd_feed_new_limited (json, &t, ".", &l, &error);
  g_assert_null (feed);
  ASSERT_ERROR (error, "\"init\" must be");
}

/* "run": {"steps": 10^12} is refused, not clamped (1e12, a float, was refused already). */
static void
test_steps_too_many (void)
{
  g_autofree char *text = graph_text ("{\"id\": \"x\", \"kind\": \"variable\", \"dtype\": \"float64\","
                                      " \"shape\": []}",
                                      "\"run\": {\"steps\": 1000000000000}");
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdDocument) doc = grd_document_load_from_data (text, -1, "s.gradus", &error);
  g_assert_null (doc);
  ASSERT_ERROR (error, "s.gradus", "\"steps\"", "2147483647");
}

/* ------------------------------------------------------------ depth */

static void
test_json_depth (void)
{
  gsize n = 100000;
  GString *s = g_string_new (NULL);
  for (gsize i = 0; i < n; i++)
    g_string_append_c (s, '[');
  for (gsize i = 0; i < n; i++)
    g_string_append_c (s, ']');
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdDocument) doc = grd_document_load_from_data (s->str, s->len, "deep.gradus", &error);
  g_assert_null (doc);
  ASSERT_ERROR (error, "deep.gradus", "nested more than 512 deep");
  g_string_free (s, TRUE);
  /* brackets inside strings do not count; 512 levels parse */
  g_clear_error (&error);
  g_assert_true (grd_json_check_depth ("{\"a\": \"[[[[[[\"}", 14, 1, "t", &error));
  GString *ok = g_string_new (NULL);
  for (gint i = 0; i < GRD_JSON_MAX_DEPTH; i++)
    g_string_append_c (ok, '[');
  for (gint i = 0; i < GRD_JSON_MAX_DEPTH; i++)
    g_string_append_c (ok, ']');
  g_autoptr (JsonNode) node = grd_json_parse (ok->str, ok->len, "ok", &error);
  g_assert_no_error (error);
  g_string_free (ok, TRUE);
}

/* ------------------------------------------------------------ shapes */

static void
test_zero_dimension (void)
{
  g_assert_cmpint (grd_shape_size (3, (gint64[]) { G_GINT64_CONSTANT (1) << 62,
                                                   G_GINT64_CONSTANT (1) << 62, 0 }), ==, 0);
  g_assert_cmpint (grd_shape_size (2, (gint64[]) { G_GINT64_CONSTANT (1) << 62,
                                                   G_GINT64_CONSTANT (1) << 62 }), ==, G_MAXINT64);
  guint64 b;
  g_assert_false (grd_shape_bytes (2, (gint64[]) { G_GINT64_CONSTANT (1) << 40,
                                                   G_GINT64_CONSTANT (1) << 40 }, GRD_DTYPE_FLOAT64, &b));
  /* An init with a zero next to huge dimensions is refused in one line: the value
   * is empty, but loops and printing would walk its 2^124 outer rows (a fuzzer
   * found `gradus run` printing "[]" for ever) */
  g_autoptr (JsonNode) json = grd_json_parse (
    "{\"shape\": [4611686018427387904, 4611686018427387904, 0], \"init\": \"uniform\"}", -1,
    NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdTensor) t = grd_value_from_json (json, GRD_DTYPE_FLOAT64, NULL, &error);
  g_assert_null (t);
  g_assert_error (error, GRD_ERROR, GRD_ERROR_VALUE);
  g_assert_nonnull (strstr (error->message, "empty"));
  g_assert_null (strchr (error->message, '\n'));
  g_clear_error (&error);
  /* and the same dimensions in an .npy header */
  g_autofree char *dir = g_dir_make_tmp ("gradus-limits-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "z.npy", NULL);
  const char *dict = "{'descr': '<f8', 'fortran_order': True, "
                     "'shape': (4611686018427387904, 4611686018427387904, 0), }";
  GString *npy = g_string_new_len ("\x93NUMPY\x01\x00", 8);
  guint16 hl = (guint16) (strlen (dict) + 1);
  g_string_append_c (npy, (char) (hl & 0xff));
  g_string_append_c (npy, (char) (hl >> 8));
  g_string_append (npy, dict);
  g_string_append_c (npy, '\n');
  g_assert_true (g_file_set_contents (path, npy->str, npy->len, NULL));
  g_string_free (npy, TRUE);
  g_autoptr (GrdTensor) huge = grd_npy_load (path, &error);
  g_assert_null (huge);
  g_assert_nonnull (strstr (error->message, "empty"));
  g_clear_error (&error);
  /* an empty value of a reasonable extent is fine, and a sum over it is an empty
   * reduction, not an overflow */
  g_autoptr (JsonNode) small = grd_json_parse (
    "{\"shape\": [1000, 1000, 0], \"init\": \"uniform\"}", -1, NULL, NULL);
  g_autoptr (GrdTensor) z = grd_value_from_json (small, GRD_DTYPE_FLOAT64, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (z->size, ==, 0);
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef c = grd_graph_constant (g, "c", z, &error);
  GrdRef s = grd_op1 (g, "sum", c, &error);
  g_assert_no_error (error);
  g_autoptr (GrdFunction) fn = grd_function_new (g, NULL, 0, &s, 1, NULL, 0, &error);
  g_assert_no_error (error);
  GrdTensor *out = NULL;
  g_assert_true (grd_function_call (fn, NULL, &out, &error));
  g_assert_cmpfloat (grd_tensor_get (out, 0), ==, 0.0);
  grd_tensor_unref (out);
  g_unlink (path);
  g_rmdir (dir);
}

/* ------------------------------------------------------------ data access */

typedef struct {
  char *root;     /* tmp/ */
  char *doc_dir;  /* tmp/doc/ : where the graph file is */
  char *secret;   /* tmp/secret.csv : outside it */
} Tree;

static void
tree_make (Tree *t)
{
  t->root = g_dir_make_tmp ("gradus-access-XXXXXX", NULL);
  t->doc_dir = g_build_filename (t->root, "doc", NULL);
  g_assert_cmpint (g_mkdir (t->doc_dir, 0700), ==, 0);
  t->secret = g_build_filename (t->root, "secret.csv", NULL);
  g_assert_true (g_file_set_contents (t->secret, "hunter2-password\n", -1, NULL));
  g_autofree char *inside = g_build_filename (t->doc_dir, "ok.csv", NULL);
  g_assert_true (g_file_set_contents (inside, "1\n2\n", -1, NULL));
  g_autofree char *link = g_build_filename (t->doc_dir, "link.csv", NULL);
  g_assert_cmpint (symlink (t->secret, link), ==, 0);
}

static void
tree_free (Tree *t)
{
  const char *names[] = { "doc/ok.csv", "doc/link.csv", "secret.csv", "doc" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++) {
    g_autofree char *p = g_build_filename (t->root, names[i], NULL);
    g_remove (p);
  }
  g_rmdir (t->root);
  g_free (t->root);
  g_free (t->doc_dir);
  g_free (t->secret);
}

static GrdFeed *
csv_feed (const Tree *t, const char *name, const GrdLimits *l, GError **error)
{
  g_autofree char *text = g_strdup_printf ("{\"csv\": \"%s\", \"column\": 0}", name);
  g_autoptr (JsonNode) json = grd_json_parse (text, -1, NULL, NULL);
  GrdType type;
  grd_type_set (&type, GRD_DTYPE_FLOAT64, 1, NULL);
  return grd_feed_new_limited (json, &type, t->doc_dir, l, error);
}

static void
test_data_access (void)
{
  Tree t;
  tree_make (&t);
  GrdLimits l;
  grd_limits_init (&l);
  g_autoptr (GError) error = NULL;
  /* inside the folder: read */
  g_autoptr (GrdFeed) ok = csv_feed (&t, "ok.csv", &l, &error);
  g_assert_no_error (error);
  /* climbing out, an absolute path, a symlink out: refused, contents never shown */
  g_autofree char *abs = g_strdup (t.secret);
  const char *bad[] = { "../secret.csv", abs, "link.csv", "/etc/passwd" };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_clear_error (&error);
    g_autoptr (GrdFeed) f = csv_feed (&t, bad[i], &l, &error);
    g_assert_null (f);
    ASSERT_ERROR (error, "outside the document's folder", "--allow-data");
    g_assert_null (strstr (error->message, "hunter2"));
  }
  /* allowed explicitly: read, and a bad cell is not echoed */
  const char *const extra[] = { t.root, NULL };
  l.allowed_data = extra;
  g_clear_error (&error);
  g_autoptr (GrdFeed) f = csv_feed (&t, "../secret.csv", &l, &error);
  g_assert_null (f);
  ASSERT_ERROR (error, "secret.csv: line 1, column 0", "not a number");
  g_assert_null (strstr (error->message, "hunter2"));
  /* not a regular file, even when allowed */
  l.allow_any_data = TRUE;
  g_clear_error (&error);
  g_autoptr (JsonNode) z = grd_json_parse ("{\"npy\": \"/dev/zero\"}", -1, NULL, NULL);
  g_autoptr (GrdTensor) v = grd_value_from_json_limited (z, GRD_DTYPE_FLOAT64, t.doc_dir, &l,
                                                         &error);
  g_assert_null (v);
  ASSERT_ERROR (error, "/dev/zero", "not a regular file");
  /* and by default /dev/zero is outside the folder */
  g_clear_error (&error);
  g_autoptr (GrdTensor) v2 = grd_value_from_json (z, GRD_DTYPE_FLOAT64, t.doc_dir, &error);
  g_assert_null (v2);
  ASSERT_ERROR (error, "/dev/zero", "outside");
  /* a data file larger than the budget is not read */
  g_clear_error (&error);
  GrdLimits tiny = limits_of (4);
  g_autoptr (GrdFeed) big = csv_feed (&t, "ok.csv", &tiny, &error);
  g_assert_null (big);
  ASSERT_ERROR (error, "ok.csv", "more than the memory limit");
  tree_free (&t);
}

/* ------------------------------------------------------------ exact numbers */

static void
test_exact_numbers (void)
{
  g_autoptr (GError) error = NULL;
  /* --feed x=99999999999999999999: a float, never a wrapped -1 */
  g_autoptr (JsonNode) big = grd_json_parse ("99999999999999999999", -1, "--feed x", &error);
  g_assert_no_error (error);
  g_autoptr (GrdTensor) i = grd_value_from_json (big, GRD_DTYPE_INT64, NULL, &error);
  g_assert_null (i);
  ASSERT_ERROR (error, "1e+20", "int64");
  g_clear_error (&error);
  g_autoptr (GrdTensor) f = grd_value_from_json (big, GRD_DTYPE_FLOAT64, NULL, &error);
  g_assert_cmpfloat (grd_tensor_get (f, 0), ==, 1e20);
  /* 1e400 would be infinite */
  g_autoptr (JsonNode) inf = grd_json_parse ("[1e400]", -1, NULL, NULL);
  g_autoptr (GrdTensor) fi = grd_value_from_json (inf, GRD_DTYPE_FLOAT64, NULL, &error);
  g_assert_null (fi);
  ASSERT_ERROR (error, "element 0", "too large for float64", "\"inf\"");
  g_clear_error (&error);
  /* CSV: out of int64, out of int32, overflow to inf */
  const char *csv = "a,b,c\n99999999999999999999,3000000000,1e400\n";
  g_autoptr (GrdCsv) t = grd_csv_parse (csv, strlen (csv), "n.csv", TRUE, &error);
  g_assert_no_error (error);
  struct { gint col; GrdDType dt; const char *want; } cases[] = {
    { 0, GRD_DTYPE_INT64, "n.csv: line 2, column 0 ('a'): 99999999999999999999 is out of the int64 range" },
    { 1, GRD_DTYPE_INT32, "n.csv: line 2, column 1 ('b'): 3000000000 is out of the int32 range" },
    { 2, GRD_DTYPE_FLOAT64, "n.csv: line 2, column 2 ('c'): 1e400 is out of the float64 range" },
    { 2, GRD_DTYPE_FLOAT32, "1e400 is out of the float32 range" },
  };
  for (gsize k = 0; k < G_N_ELEMENTS (cases); k++) {
    g_clear_error (&error);
    g_autoptr (GrdTensor) v = grd_csv_columns (t, &cases[k].col, 1, TRUE, cases[k].dt, &error);
    g_assert_null (v);
    ASSERT_ERROR (error, cases[k].want);
  }
  /* "inf" written out is a float value */
  const char *ok = "a\ninf\n-1e300\n";
  g_clear_error (&error);
  g_autoptr (GrdCsv) t2 = grd_csv_parse (ok, strlen (ok), "ok.csv", TRUE, &error);
  g_assert_no_error (error);
  gint c0 = 0;
  g_autoptr (GrdTensor) v = grd_csv_columns (t2, &c0, 1, TRUE, GRD_DTYPE_FLOAT64, &error);
  g_assert_no_error (error);
  g_assert_true (isinf (grd_tensor_get (v, 0)));
}

/* ------------------------------------------------------------ kernels */

/* A constant node of a scalar (the graph holds its own reference). */
static GrdRef
scalar_constant (GrdGraph *g, const char *id, GrdDType dtype, double v)
{
  g_autoptr (GrdTensor) t = grd_tensor_new_scalar (dtype, v);
  return grd_graph_constant (g, id, t, NULL);
}

/* arange's length comes from input values, which the budget check before
 * the call cannot foresee: the kernel checks the calling function's budget
 * itself, on both executors. */
static void
test_arange_budget (void)
{
  for (gint opt = 0; opt < 2; opt++) {
    g_autoptr (GrdGraph) g = grd_graph_new ();
    GrdRef a = scalar_constant (g, "a", GRD_DTYPE_FLOAT64, 0);
    GrdRef b = grd_graph_variable (g, "b", GRD_DTYPE_FLOAT64, 0, NULL, NULL);
    GrdRef st = scalar_constant (g, "st", GRD_DTYPE_FLOAT64, 1);
    GrdRef r = grd_graph_op (g, "r", "arange", (GrdRef[]) { a, b, st }, 3, NULL, NULL);
    GrdRef s = grd_graph_op (g, "s", "sum", &r, 1, NULL, NULL);
    g_autoptr (GError) error = NULL;
    g_autoptr (GrdFunction) fn = grd_function_new_with_passes (g, &b, 1, &s, 1, NULL, 0,
                                                               opt ? GRD_PASS_ALL : 0, &error);
    g_assert_no_error (error);
    grd_function_set_memory_limit (fn, 64 * MIB);
    g_autoptr (GrdTensor) big = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 1e9);
    GrdTensor *out = NULL;
    g_assert_false (grd_function_call (fn, &big, &out, &error));
    g_assert_null (out);
    ASSERT_ERROR (error, "node 'r' (arange)", "float64[1000000000]", "7.5 GiB", "64.0 MiB");
    /* a far integer range is counted without overflow */
    g_clear_error (&error);
    g_autoptr (GrdTensor) small = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 1000);
    g_assert_true (grd_function_call (fn, &small, &out, &error));
    g_assert_cmpfloat (grd_tensor_get (out, 0), ==, 999.0 * 1000 / 2);
    g_clear_pointer (&out, grd_tensor_unref);
  }
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef lo = scalar_constant (g, "lo", GRD_DTYPE_INT64, -9e18);
  GrdRef hi = scalar_constant (g, "hi", GRD_DTYPE_INT64, 9e18);
  GrdRef one = scalar_constant (g, "one", GRD_DTYPE_INT64, 1);
  GrdRef r = grd_graph_op (g, "r", "arange", (GrdRef[]) { lo, hi, one }, 3, NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdFunction) fn = grd_function_new (g, NULL, 0, &r, 1, NULL, 0, &error);
  g_assert_no_error (error);
  GrdTensor *out = NULL;
  g_assert_false (grd_function_call (fn, NULL, &out, &error));
  ASSERT_ERROR (error, "node 'r' (arange)", "2^31 elements");
}

/* Results within the budget but beyond the memory the process may take
 * (a budget set too high, a small ulimit): each kernel gives an error
 * naming its node instead of GLib's abort. In a subprocess whose address
 * space is capped at what it uses plus 512 MiB. */
static void
test_out_of_memory (void)
{
  if (!g_test_subprocess ()) {
    g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
    g_test_trap_assert_passed ();
    return;
  }
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 2, (gint64[]) { -1, 1 }, NULL);
  GrdRef y = grd_graph_variable (g, "y", GRD_DTYPE_FLOAT64, 2, (gint64[]) { 1, -1 }, NULL);
  GrdRef z = grd_graph_op (g, "z", "add", (GrdRef[]) { x, y }, 2, NULL, NULL);
  GrdRef e = grd_graph_op (g, "e", "exp", &z, 1, NULL, NULL);
  GrdRef d = grd_graph_op (g, "d", "dot", (GrdRef[]) { x, y }, 2, NULL, NULL);
  GrdAttrs ax;
  grd_attrs_init (&ax);
  ax.has_axis = TRUE;
  ax.n_axes = 1;
  ax.axes[0] = 0;
  GrdRef m = grd_graph_op (g, "m", "max", &z, 1, &ax, NULL);
  g_autoptr (GrdTensor) xs = grd_tensor_new (GRD_DTYPE_FLOAT64, 2, (gint64[]) { 12000, 1 });
  g_autoptr (GrdTensor) ys = grd_tensor_new (GRD_DTYPE_FLOAT64, 2, (gint64[]) { 1, 12000 });
  g_autoptr (GError) error = NULL;
  GrdFunction *fns[8];
  const char *want[8];
  gint n = 0;
  struct { GrdRef out; const char *node; } cases[] = { { e, "'z" }, { d, "'d' (dot)" }, { m, "'z" } };
  for (gint opt = 0; opt < 2; opt++)
    for (gsize c = 0; c < G_N_ELEMENTS (cases); c++) {
      fns[n] = grd_function_new_with_passes (g, (GrdRef[]) { x, y }, 2, &cases[c].out, 1, NULL, 0,
                                             opt ? GRD_PASS_ALL : 0, &error);
      g_assert_no_error (error);
      grd_function_set_memory_limit (fns[n], G_GUINT64_CONSTANT (1) << 40);
      want[n++] = cases[c].node;
    }
  /* the cap: what the process maps now (ASan's shadow included) + 512 MiB */
  g_autofree char *status = NULL;
  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  const char *vm = strstr (status, "VmSize:");
  g_assert_nonnull (vm);
  guint64 kib = g_ascii_strtoull (vm + strlen ("VmSize:"), NULL, 10);
  struct rlimit cap = { (kib << 10) + 512 * MIB, RLIM_INFINITY };
  g_assert_cmpint (setrlimit (RLIMIT_AS, &cap), ==, 0);
  for (gint i = 0; i < n; i++) {
    GrdTensor *out = NULL;
    g_clear_error (&error);
    g_assert_false (grd_function_call (fns[i], (GrdTensor *[]) { xs, ys }, &out, &error));
    g_assert_null (out);
    ASSERT_ERROR (error, want[i], "out of memory for a float64[12000,12000] value");
  }
  for (gint i = 0; i < n; i++)
    grd_function_free (fns[i]);
}

/* Ops whose results are far larger than their inputs (outer products,
 * one-hot codes, broadcasting, index arrays, ranges): under the same cap each
 * gives an out-of-memory error naming its node, on the reference executor
 * and compiled, and nothing aborts. */
static GrdTensor *
filled (GrdDType dtype, gint rank, const gint64 *shape, double v)
{
  GrdTensor *t = grd_tensor_new (dtype, rank, shape);
  for (gint64 i = 0; i < t->size; i++)
    grd_tensor_set (t, i, v);
  return t;
}

static void
test_out_of_memory_ops (void)
{
  if (!g_test_subprocess ()) {
    g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
    g_test_trap_assert_passed ();
    return;
  }
  const gint64 N = 12000;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef a = grd_graph_variable (g, "a", GRD_DTYPE_FLOAT64, 1, &N, NULL);
  GrdRef t = grd_graph_variable (g, "t", GRD_DTYPE_INT64, 1, &N, NULL);
  GrdRef col = grd_graph_variable (g, "col", GRD_DTYPE_FLOAT64, 2, (gint64[]) { N, 1 }, NULL);
  GrdRef row = grd_graph_variable (g, "row", GRD_DTYPE_FLOAT64, 2, (gint64[]) { 1, N }, NULL);
  GrdRef icol = grd_graph_variable (g, "icol", GRD_DTYPE_INT64, 2, (gint64[]) { N, 1 }, NULL);
  GrdRef irow = grd_graph_variable (g, "irow", GRD_DTYPE_INT64, 2, (gint64[]) { 1, N }, NULL);
  GrdRef inputs[] = { a, t, col, row, icol, irow };
  g_autoptr (GrdTensor) av = filled (GRD_DTYPE_FLOAT64, 1, &N, 1);
  g_autoptr (GrdTensor) tv = filled (GRD_DTYPE_INT64, 1, &N, 0);
  g_autoptr (GrdTensor) colv = filled (GRD_DTYPE_FLOAT64, 2, (gint64[]) { N, 1 }, 0.5);
  g_autoptr (GrdTensor) rowv = filled (GRD_DTYPE_FLOAT64, 2, (gint64[]) { 1, N }, 0.5);
  g_autoptr (GrdTensor) icolv = filled (GRD_DTYPE_INT64, 2, (gint64[]) { N, 1 }, 0);
  g_autoptr (GrdTensor) irowv = filled (GRD_DTYPE_INT64, 2, (gint64[]) { 1, N }, 1);
  GrdTensor *values[] = { av, tv, colv, rowv, icolv, irowv };

  GrdAttrs depth;
  grd_attrs_init (&depth);
  depth.depth = N;
  struct { const char *id, *op; GrdRef in[3]; gint n; const GrdAttrs *attrs; } cases[] = {
    { "outer", "outer", { a, a }, 2, NULL },
    { "onehot", "one_hot", { t }, 1, &depth },
    { "eye", "_eye_like", { a }, 1, NULL },
    { "picked", "index", { row, icol }, 2, NULL },
    { "rem", "mod", { icol, irow }, 2, NULL },
    { "bce", "binary_crossentropy", { col, row }, 2, NULL },
    { "range", "arange", { scalar_constant (g, "lo", GRD_DTYPE_INT64, 0),
                           scalar_constant (g, "hi", GRD_DTYPE_INT64, (double) (N * N)),
                           scalar_constant (g, "one", GRD_DTYPE_INT64, 1) }, 3, NULL },
  };
  g_autoptr (GError) error = NULL;
  GrdFunction *fns[2 * G_N_ELEMENTS (cases)];
  gint n = 0;
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++) {
    GrdRef out = grd_graph_op (g, cases[c].id, cases[c].op, cases[c].in, cases[c].n, cases[c].attrs,
                               &error);
    g_assert_no_error (error);
    for (gint opt = 0; opt < 2; opt++) {
      fns[n] = grd_function_new_with_passes (g, inputs, G_N_ELEMENTS (inputs), &out, 1, NULL, 0,
                                             opt ? GRD_PASS_ALL : 0, &error);
      g_assert_no_error (error);
      grd_function_set_memory_limit (fns[n++], G_GUINT64_CONSTANT (1) << 40);
    }
  }
  g_autofree char *status = NULL;
  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  const char *vm = strstr (status, "VmSize:");
  g_assert_nonnull (vm);
  guint64 kib = g_ascii_strtoull (vm + strlen ("VmSize:"), NULL, 10);
  struct rlimit cap = { (kib << 10) + 512 * MIB, RLIM_INFINITY };
  g_assert_cmpint (setrlimit (RLIMIT_AS, &cap), ==, 0);
  for (gint i = 0; i < n; i++) {
    GrdTensor *out = NULL;
    g_clear_error (&error);
    g_test_message ("case %s, %s", cases[i / 2].id, i % 2 ? "compiled" : "reference");
    g_assert_false (grd_function_call (fns[i], values, &out, &error));
    g_assert_null (out);
    g_autofree char *node = g_strdup_printf ("'%s'", cases[i / 2].id);
    ASSERT_ERROR (error, node, "out of memory");
  }
  for (gint i = 0; i < n; i++)
    grd_function_free (fns[i]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/limits/parse-size", test_parse_size);
  g_test_add_func ("/limits/memory/init", test_init_too_big);
  g_test_add_func ("/limits/memory/op-result", test_op_result_too_big);
  g_test_add_func ("/limits/memory/peak", test_peak_too_big);
  g_test_add_func ("/limits/memory/batch", test_batch_too_big);
  g_test_add_func ("/limits/memory/init-name-first", test_init_name_first);
  g_test_add_func ("/limits/steps", test_steps_too_many);
  g_test_add_func ("/limits/json-depth", test_json_depth);
  g_test_add_func ("/limits/zero-dimension", test_zero_dimension);
  g_test_add_func ("/limits/data-access", test_data_access);
  g_test_add_func ("/limits/exact-numbers", test_exact_numbers);
  g_test_add_func ("/limits/memory/arange", test_arange_budget);
  g_test_add_func ("/limits/memory/out-of-memory", test_out_of_memory);
  g_test_add_func ("/limits/memory/out-of-memory-ops", test_out_of_memory_ops);
  return g_test_run ();
}
