/* test-ui-export.c: gradus_ui_export renders a bundled example to PNG, SVG
 * and PDF without a display; the files are checked by their own formats. */
#include "gradus-ui.h"
#include "gradus.h"

#include <glib/gstdio.h>
#include <string.h>

static char *tmpdir;

static const char *
example_path (void)
{
  static char *path;
  if (!path) {
    const char *src = g_getenv ("GRADUS_SOURCE_DIR");
    g_assert_nonnull (src);
    path = g_build_filename (src, "data", "examples", "primer-3-linear-regression.gradus", NULL);
    if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
      g_free (path);
      path = g_build_filename (src, "tests", "ui", "data", "primer-3-linreg.gradus", NULL);
    }
  }
  return path;
}

/* Node ids of the example, read with json-glib independently of the editor. */
static GPtrArray *
example_ids (void)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_assert_true (json_parser_load_from_file (p, example_path (), NULL));
  JsonArray *nodes = json_object_get_array_member (json_node_get_object (json_parser_get_root (p)), "nodes");
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < json_array_get_length (nodes); i++)
    g_ptr_array_add (ids, g_strdup (json_object_get_string_member (json_array_get_object_element (nodes, i), "id")));
  return ids;
}

static guint32
be32 (const guchar *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

static void
test_png (void)
{
  g_autofree char *out = g_build_filename (tmpdir, "linreg.png", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (gradus_ui_export (example_path (), "png", out, &error));
  g_assert_no_error (error);
  g_autofree guchar *data = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (out, (char **) &data, &len, NULL));
  static const guchar sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  g_assert_cmpuint (len, >, 33);
  g_assert_cmpmem (data, 8, sig, 8);
  g_assert_cmpmem (data + 12, 4, "IHDR", 4);
  guint32 w = be32 (data + 16), h = be32 (data + 20);
  /* 15 nodes in several layers at twice the pixels: a real picture, not a stub. */
  g_assert_cmpuint (w, >, 800);
  g_assert_cmpuint (h, >, 300);
  g_assert_cmpuint (w, <, 20000);
  g_assert_cmpuint (len, >, 10000);
}

typedef struct {
  gboolean   in_text;
  GString   *text;
  GPtrArray *texts;
  gboolean   saw_svg;
} SvgScan;

static void
svg_start (GMarkupParseContext *c, const char *name, const char **an, const char **av,
           gpointer data, GError **error)
{
  SvgScan *s = data;
  if (g_str_equal (name, "svg"))
    s->saw_svg = TRUE;
  if (g_str_equal (name, "text")) {
    s->in_text = TRUE;
    g_string_truncate (s->text, 0);
  }
}

static void
svg_end (GMarkupParseContext *c, const char *name, gpointer data, GError **error)
{
  SvgScan *s = data;
  if (g_str_equal (name, "text")) {
    s->in_text = FALSE;
    g_ptr_array_add (s->texts, g_strdup (s->text->str));
  }
}

static void
svg_text (GMarkupParseContext *c, const char *text, gsize len, gpointer data, GError **error)
{
  SvgScan *s = data;
  if (s->in_text)
    g_string_append_len (s->text, text, len);
}

static void
test_svg (void)
{
  g_autofree char *out = g_build_filename (tmpdir, "linreg.svg", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (gradus_ui_export (example_path (), "svg", out, &error));
  g_autofree char *data = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (out, &data, &len, NULL));
  /* Skip the XML declaration: GMarkup parses elements, not prologs. */
  char *start = strstr (data, "<svg");
  g_assert_nonnull (start);
  SvgScan scan = { FALSE, g_string_new (NULL), g_ptr_array_new_with_free_func (g_free), FALSE };
  GMarkupParser parser = { svg_start, svg_end, svg_text, NULL, NULL };
  GMarkupParseContext *ctx = g_markup_parse_context_new (&parser, 0, &scan, NULL);
  g_assert_true (g_markup_parse_context_parse (ctx, start, -1, &error));
  g_assert_no_error (error);
  g_assert_true (g_markup_parse_context_end_parse (ctx, &error));
  g_markup_parse_context_free (ctx);
  g_assert_true (scan.saw_svg);
  g_autoptr (GPtrArray) ids = example_ids ();
  for (guint i = 0; i < ids->len; i++) {
    gboolean found = FALSE;
    for (guint k = 0; k < scan.texts->len; k++)
      found |= g_str_equal (scan.texts->pdata[k], ids->pdata[i]);
    if (!found)
      g_error ("node id %s is not in the SVG's text", (char *) ids->pdata[i]);
  }
  g_string_free (scan.text, TRUE);
  g_ptr_array_unref (scan.texts);
}

static void
test_pdf (void)
{
  g_autofree char *out = g_build_filename (tmpdir, "linreg.pdf", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (gradus_ui_export (example_path (), "pdf", out, &error));
  g_autofree char *data = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (out, &data, &len, NULL));
  g_assert_cmpuint (len, >, 1000);
  g_assert_true (g_str_has_prefix (data, "%PDF-1."));
  g_assert_nonnull (g_strrstr_len (data + len - 32, 32, "%%EOF"));
}

/* Every bundled example renders, and every node of it is in the picture. */
static void
test_all_examples (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("GRADUS_SOURCE_DIR"), "data", "examples", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;
  while (d && (name = g_dir_read_name (d))) {
    if (!g_str_has_suffix (name, ".gradus"))
      continue;
    g_autofree char *in = g_build_filename (dir, name, NULL);
    g_autofree char *out = g_build_filename (tmpdir, "example.svg", NULL);
    g_autoptr (GError) error = NULL;
    if (!gradus_ui_export (in, "svg", out, &error))
      g_error ("%s: %s", name, error->message);
    g_autofree char *svg = NULL;
    g_assert_true (g_file_get_contents (out, &svg, NULL, NULL));
    g_autoptr (JsonParser) p = json_parser_new ();
    g_assert_true (json_parser_load_from_file (p, in, NULL));
    JsonArray *nodes = json_object_get_array_member (json_node_get_object (json_parser_get_root (p)), "nodes");
    for (guint i = 0; i < json_array_get_length (nodes); i++) {
      const char *id = json_object_get_string_member (json_array_get_object_element (nodes, i), "id");
      g_autofree char *esc = g_markup_escape_text (id, -1);
      g_autofree char *tag = g_strdup_printf (">%s</text>", esc);
      if (!strstr (svg, tag))
        g_error ("%s: node %s is not in the SVG", name, id);
    }
    g_unlink (out);
    n++;
  }
  g_test_message ("%u examples rendered", n);
  g_assert_cmpuint (n, >=, 1);
}

static void
test_errors (void)
{
  g_autofree char *out = g_build_filename (tmpdir, "x.bmp", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_false (gradus_ui_export (example_path (), "bmp", out, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_false (gradus_ui_export ("/nonexistent/graph.gradus", "png", out, &error));
  g_assert_nonnull (error);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("gradus-ui-export-XXXXXX", NULL);
  g_test_add_func ("/ui/export/png", test_png);
  g_test_add_func ("/ui/export/svg", test_svg);
  g_test_add_func ("/ui/export/pdf", test_pdf);
  g_test_add_func ("/ui/export/errors", test_errors);
  g_test_add_func ("/ui/export/all-examples", test_all_examples);
  int status = g_test_run ();
  const char *names[] = { "linreg.png", "linreg.svg", "linreg.pdf" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++) {
    g_autofree char *p = g_build_filename (tmpdir, names[i], NULL);
    g_unlink (p);
  }
  g_rmdir (tmpdir);
  g_free (tmpdir);
  return status;
}
