/* test-save-paths.c: a graph file saved into another folder still reads
 * the same data files (grd_data_paths_rebase, docs/format.md "Saving into
 * another folder"). One document holds a data path in every place the format
 * allows one: a constant, a shared variable, a group definition's constant,
 * a scan body's constant, run.feeds and a run.also entry's feeds. Saved
 * above its folder (every file still inside) and beside it (every file
 * outside, read once allowed), it loads from there and computes the same
 * numbers as the original; saved into its own folder, every path keeps its
 * bytes. */
#include "gradus.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d))) {
    g_autofree char *p = g_build_filename (path, name, NULL);
    if (g_file_test (p, G_FILE_TEST_IS_DIR) && !g_file_test (p, G_FILE_TEST_IS_SYMLINK))
      remove_tree (p);
    else
      g_unlink (p);
  }
  g_rmdir (path);
}

/* A float64 vector as an .npy file, by the engine's own writer. */
static void
write_npy (const char *path, const double *v, guint n)
{
  gint64 shape[1] = { n };
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdTensor) t = grd_tensor_new_from_doubles (GRD_DTYPE_FLOAT64, 1, shape, v);
  gboolean ok = grd_npy_save (path, t, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
}

/* Every place a data path can sit; "./w//bias.npy" is an odd spelling that
 * only a rewrite would tidy. */
static const char doc_text[] =
  "{\"format\": \"gradus-graph\", \"version\": 1,\n"
  " \"groups\": {\"aff\": {\"inputs\": [\"v\"], \"nodes\": [\n"
  "   {\"id\": \"c\", \"kind\": \"constant\", \"dtype\": \"float64\", \"value\": {\"npy\": \"w/scale.npy\"}},\n"
  "   {\"id\": \"s\", \"kind\": \"op\", \"op\": \"mul\", \"inputs\": [\"v\", \"c\"]}],\n"
  "   \"outputs\": [\"s\"]}},\n"
  " \"nodes\": [\n"
  "  {\"id\": \"x\", \"kind\": \"variable\", \"dtype\": \"float64\", \"shape\": [2]},\n"
  "  {\"id\": \"k\", \"kind\": \"constant\", \"dtype\": \"float64\", \"value\": {\"npy\": \"./w//bias.npy\"}},\n"
  "  {\"id\": \"p\", \"kind\": \"shared\", \"dtype\": \"float64\", \"value\": {\"npy\": \"w/bias.npy\"}},\n"
  "  {\"id\": \"g1\", \"kind\": \"group\", \"group\": \"aff\", \"inputs\": [\"x\"]},\n"
  "  {\"id\": \"sc\", \"kind\": \"scan\", \"sequences\": [\"x\"], \"body\": {\"inputs\": [\"x_t\"],\n"
  "   \"nodes\": [{\"id\": \"x_t\", \"kind\": \"variable\", \"dtype\": \"float64\", \"shape\": []},\n"
  "    {\"id\": \"bc\", \"kind\": \"constant\", \"dtype\": \"float64\", \"value\": {\"npy\": \"w/scan.npy\"}},\n"
  "    {\"id\": \"bs\", \"kind\": \"op\", \"op\": \"sum\", \"inputs\": [\"bc\"]},\n"
  "    {\"id\": \"o_t\", \"kind\": \"op\", \"op\": \"add\", \"inputs\": [\"x_t\", \"bs\"]}],\n"
  "   \"outputs\": [\"o_t\"]}},\n"
  "  {\"id\": \"a\", \"kind\": \"op\", \"op\": \"add\", \"inputs\": [\"g1\", \"k\"]},\n"
  "  {\"id\": \"y\", \"kind\": \"op\", \"op\": \"add\", \"inputs\": [\"a\", \"p\"]},\n"
  "  {\"id\": \"z\", \"kind\": \"op\", \"op\": \"add\", \"inputs\": [\"y\", \"sc\"]}],\n"
  " \"functions\": {\"main\": {\"inputs\": [\"x\"], \"outputs\": [\"z\"]},\n"
  "               \"other\": {\"inputs\": [\"x\"], \"outputs\": [\"z\"]}},\n"
  " \"run\": {\"function\": \"main\", \"steps\": 2,\n"
  "  \"feeds\": {\"x\": {\"csv\": \"data/rows.csv\", \"header\": true, \"column\": 1, \"batch\": 2}},\n"
  "  \"also\": [{\"function\": \"other\", \"every\": 1, \"feeds\": {\"x\": {\"npy\": \"w/feed.npy\"}}}]}}\n";

/* A folder "a" with the document and its data, in a fresh temporary root. */
static char *
make_tree (char **doc_path)
{
  char *root = g_dir_make_tmp ("gradus-save-paths-XXXXXX", NULL);
  g_autofree char *w = g_build_filename (root, "a", "w", NULL);
  g_autofree char *data = g_build_filename (root, "a", "data", NULL);
  g_assert_cmpint (g_mkdir_with_parents (w, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (data, 0755), ==, 0);
  const double bias[] = { 0.5, -0.25 }, scale[] = { 3, 7 }, scan[] = { 100, 1000 },
               feed[] = { -2, 9 };
  g_autofree char *p1 = g_build_filename (w, "bias.npy", NULL);
  g_autofree char *p2 = g_build_filename (w, "scale.npy", NULL);
  g_autofree char *p3 = g_build_filename (w, "scan.npy", NULL);
  g_autofree char *p4 = g_build_filename (w, "feed.npy", NULL);
  write_npy (p1, bias, 2);
  write_npy (p2, scale, 2);
  write_npy (p3, scan, 2);
  write_npy (p4, feed, 2);
  g_autofree char *csv = g_build_filename (data, "rows.csv", NULL);
  g_assert_true (g_file_set_contents (csv, "i,x\n0,1.5\n1,-4\n2,8\n3,0.25\n", -1, NULL));
  *doc_path = g_build_filename (root, "a", "m.gradus", NULL);
  g_assert_true (g_file_set_contents (*doc_path, doc_text, -1, NULL));
  return root;
}

/* What the document computes from its files: two calls of "main" with
 * run.feeds, one of "other" with its run.also feeds, as text. */
static char *
outcome (GrdDocument *doc)
{
  GString *s = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) also = grd_document_run_also (doc, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (also->len, ==, 1);
  for (guint f = 0; f < 2; f++) {
    const char *name = f ? "other" : "main";
    JsonNode *feeds_json = f ? ((GrdRunAlso *) g_ptr_array_index (also, 0))->feeds : NULL;
    g_autoptr (GPtrArray) feeds = grd_document_feeds_named (doc, name, feeds_json, NULL, &error);
    g_assert_no_error (error);
    g_autoptr (GrdFunction) fn = grd_document_function_named (doc, name, &error);
    g_assert_no_error (error);
    for (gint64 step = 0; step < (f ? 1 : 2); step++) {
      g_autoptr (GrdTensor) in = grd_feed_next (g_ptr_array_index (feeds, 0), step, &error);
      g_assert_no_error (error);
      GrdTensor *out = NULL;
      g_assert_true (grd_function_call (fn, &in, &out, &error));
      g_assert_no_error (error);
      g_string_append_printf (s, "%s %" G_GINT64_FORMAT ":", name, step);
      for (gint64 i = 0; i < out->size; i++)
        g_string_append_printf (s, " %.17g", grd_tensor_get (out, i));
      g_string_append_c (s, '\n');
      grd_tensor_unref (out);
    }
  }
  return g_string_free (s, FALSE);
}

static GrdDocument *
load_allowed (const char *path, const char *allowed_dir, GError **error)
{
  GrdLimits l;
  grd_limits_init (&l);
  const char *const allowed[] = { allowed_dir, NULL };
  l.allowed_data = allowed_dir ? allowed : NULL;
  return grd_document_load_with_limits (path, &l, error);
}

/* The data path strings of a saved file, in file order. */
static char *
paths_of (const char *file)
{
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (file, &text, NULL, NULL));
  GString *s = g_string_new (NULL);
  static const char *const keys[] = { "\"npy\": \"", "\"csv\": \"" };
  for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
    for (const char *p = text; (p = strstr (p, keys[k]));) {
      p += strlen (keys[k]);
      g_string_append_len (s, p, strchr (p, '"') - p);
      g_string_append_c (s, ';');
    }
  return g_string_free (s, FALSE);
}

/* Saved one folder up: every file is still inside, the paths gain "a/"
 * and the copy loads without any allowance. */
static void
test_save_above (void)
{
  g_autofree char *src = NULL;
  g_autofree char *root = make_tree (&src);
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdDocument) doc = grd_document_load (src, &error);
  g_assert_no_error (error);
  g_autofree char *want = outcome (doc);
  g_autoptr (GrdDocument) fresh = grd_document_load (src, &error);
  g_assert_no_error (error);
  g_autofree char *dst = g_build_filename (root, "up.gradus", NULL);
  g_auto (GStrv) outside = NULL;
  g_assert_true (grd_document_save_full (fresh, dst, &outside, &error));
  g_assert_no_error (error);
  g_assert_null (outside);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (dst, &text, NULL, NULL));
  /* the constant, the group's and the scan body's constant, both feeds */
  g_assert_nonnull (strstr (text, "\"npy\": \"a/w/bias.npy\""));
  g_assert_nonnull (strstr (text, "\"npy\": \"a/w/scale.npy\""));
  g_assert_nonnull (strstr (text, "\"npy\": \"a/w/scan.npy\""));
  g_assert_nonnull (strstr (text, "\"npy\": \"a/w/feed.npy\""));
  g_assert_nonnull (strstr (text, "\"csv\": \"a/data/rows.csv\""));
  /* the groups and the scan stay as written */
  g_assert_nonnull (strstr (text, "\"group\": \"aff\""));
  g_autoptr (GrdDocument) back = grd_document_load (dst, &error);
  g_assert_no_error (error);
  g_autofree char *got = outcome (back);
  g_assert_cmpstr (got, ==, want);
  /* the numbers come from the files: 1.5*3 + 0.5 + 0.5 + 1.5 + 1100 */
  g_assert_nonnull (strstr (want, "main 0: 1107 "));
  remove_tree (root);
}

/* Saved beside its folder: every file is outside the copy's folder. The
 * save names them all; the copy is refused until they are allowed, then
 * gives the same numbers. */
static void
test_save_beside (void)
{
  g_autofree char *src = NULL;
  g_autofree char *root = make_tree (&src);
  g_autofree char *a = g_build_filename (root, "a", NULL);
  g_autofree char *b = g_build_filename (root, "b", NULL);
  g_assert_cmpint (g_mkdir (b, 0755), ==, 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdDocument) doc = grd_document_load (src, &error);
  g_assert_no_error (error);
  g_autofree char *want = outcome (doc);
  g_autoptr (GrdDocument) fresh = grd_document_load (src, &error);
  g_autofree char *dst = g_build_filename (b, "m.gradus", NULL);
  g_auto (GStrv) outside = NULL;
  g_assert_true (grd_document_save_full (fresh, dst, &outside, &error));
  g_assert_nonnull (outside);
  /* the five files, each once, resolved */
  g_assert_cmpuint (g_strv_length (outside), ==, 5);
  g_autofree char *real_a = realpath (a, NULL);
  for (guint i = 0; outside[i]; i++)
    g_assert_true (g_str_has_prefix (outside[i], real_a));
  g_autofree char *paths = paths_of (dst);
  /* the shared value moved with the file: written into it (base64 or
   * inline); the others point back at the same files */
  g_assert_cmpstr (paths, ==, "../a/w/scale.npy;../a/w/bias.npy;../a/w/scan.npy;"
                              "../a/w/feed.npy;../a/data/rows.csv;");
  /* not allowed: refused, naming the folder to allow */
  g_autoptr (GrdDocument) refused = grd_document_load (dst, &error);
  g_assert_null (refused);
  g_assert_nonnull (strstr (error->message, "outside the document's folder"));
  g_clear_error (&error);
  /* allowed: the same numbers */
  g_autoptr (GrdDocument) back = load_allowed (dst, a, &error);
  g_assert_no_error (error);
  g_autofree char *got = outcome (back);
  g_assert_cmpstr (got, ==, want);
  /* and saved back home, its paths are plain again and nothing is outside */
  g_autofree char *home = g_build_filename (a, "again.gradus", NULL);
  g_auto (GStrv) none = NULL;
  g_assert_true (grd_document_save_full (back, home, &none, &error));
  g_assert_null (none);
  g_autofree char *home_paths = paths_of (home);
  g_assert_cmpstr (home_paths, ==, "w/scale.npy;w/bias.npy;w/scan.npy;w/feed.npy;data/rows.csv;");
  remove_tree (root);
}

/* Into its own folder, by whatever spelling of the path: every data path
 * keeps its bytes ("./w//bias.npy" included), and the shared variable its
 * npy form. */
static void
test_save_same_folder (void)
{
  g_autofree char *src = NULL;
  g_autofree char *root = make_tree (&src);
  g_autofree char *before = paths_of (src);
  g_assert_cmpstr (before, ==, "w/scale.npy;./w//bias.npy;w/bias.npy;w/scan.npy;w/feed.npy;"
                               "data/rows.csv;");
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdDocument) doc = grd_document_load (src, &error);
  g_assert_no_error (error);
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *a = g_build_filename (root, "a", NULL);
  g_assert_cmpint (g_chdir (a), ==, 0);
  /* "a/m.gradus" was loaded by its full path; saved as "./copy.gradus" */
  g_auto (GStrv) outside = NULL;
  g_assert_true (grd_document_save_full (doc, "./copy.gradus", &outside, &error));
  g_assert_no_error (error);
  g_assert_null (outside);
  g_assert_cmpint (g_chdir (cwd), ==, 0);
  g_autofree char *copy = g_build_filename (a, "copy.gradus", NULL);
  g_autofree char *after = paths_of (copy);
  g_assert_cmpstr (after, ==, before);
  /* the rewrite itself leaves a tree alone for the same folder */
  g_autoptr (JsonNode) tree = json_from_string (doc_text, &error);
  g_assert_no_error (error);
  g_autofree char *link = g_build_filename (root, "link", NULL);
  g_assert_cmpint (symlink (a, link), ==, 0);
  g_assert_true (grd_data_paths_same_folder (a, link));
  g_assert_null (grd_data_paths_rebase (tree, a, link));
  g_autofree char *again = json_to_string (tree, FALSE);
  g_autoptr (JsonNode) orig = json_from_string (doc_text, NULL);
  g_autofree char *orig_text = json_to_string (orig, FALSE);
  g_assert_cmpstr (again, ==, orig_text);
  remove_tree (root);
}

/* The rewrite touches only what the format reads as data paths: an "npy"
 * key in the editor's "ui" or in a node that is not a value stays. A
 * missing file is rewritten by its name. An absolute path stays. */
static void
test_rebase_places (void)
{
  g_autofree char *root = g_dir_make_tmp ("gradus-rebase-XXXXXX", NULL);
  g_autofree char *a = g_build_filename (root, "a", NULL);
  g_autofree char *b = g_build_filename (root, "b", NULL);
  g_assert_cmpint (g_mkdir (a, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (b, 0755), ==, 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) tree = json_from_string (
    "{\"ui\": {\"note\": {\"npy\": \"x.npy\"}},"
    " \"nodes\": [{\"id\": \"k\", \"kind\": \"constant\", \"value\": {\"npy\": \"gone.npy\"},"
    "              \"npy\": \"not-a-value.npy\"},"
    "             {\"id\": \"m\", \"kind\": \"constant\", \"value\": {\"npy\": \"/abs/m.npy\"}}],"
    " \"run\": {\"feeds\": {\"x\": {\"csv\": \"sub/../d.csv\"}}}}", &error);
  g_assert_no_error (error);
  g_auto (GStrv) outside = grd_data_paths_rebase (tree, a, b);
  g_assert_null (outside);   /* no file exists: none to name */
  g_autofree char *text = json_to_string (tree, FALSE);
  g_assert_nonnull (strstr (text, "\"ui\":{\"note\":{\"npy\":\"x.npy\"}}"));
  g_assert_nonnull (strstr (text, "\"value\":{\"npy\":\"../a/gone.npy\"}"));
  g_assert_nonnull (strstr (text, "\"npy\":\"not-a-value.npy\""));
  g_assert_nonnull (strstr (text, "\"npy\":\"/abs/m.npy\""));
  g_assert_nonnull (strstr (text, "\"csv\":\"../a/d.csv\""));
  remove_tree (root);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/save-paths/above", test_save_above);
  g_test_add_func ("/save-paths/beside", test_save_beside);
  g_test_add_func ("/save-paths/same-folder", test_save_same_folder);
  g_test_add_func ("/save-paths/places", test_rebase_places);
  return g_test_run ();
}
