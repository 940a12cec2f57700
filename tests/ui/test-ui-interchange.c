/* test-ui-interchange.c: File → Export as ONNX / PyTorch script and File →
 * Import ONNX in the editor window under Xvfb. The actions are triggered as
 * the menu triggers them (the file dialogs' part through the *-to / -from
 * actions that take the path); the written files are checked, the exported
 * ONNX model is imported back, and the imported graph must be on the canvas
 * (every node a box of the scene, the function's outputs the model's). */
#include "gradus-window.h"
#include "gradus-interchange-actions.h"
#include "gradus-scene.h"
#include "grd-interchange.h"

#include "ui-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

static char *tmpdir;

#define SPIN_UNTIL(cond) UI_TEST_SPIN_UNTIL (cond, 5)

static GradusWindow *
new_window (void)
{
  GradusWindow *w = gradus_window_new (NULL);
  gtk_window_set_default_size (GTK_WINDOW (w), 1200, 800);
  gtk_window_present (GTK_WINDOW (w));
  SPIN_UNTIL (gtk_widget_get_mapped (GTK_WIDGET (w)));
  ui_test_spin (50);
  return w;
}

static char *
example (const char *name)
{
  return g_build_filename (g_getenv ("GRADUS_SOURCE_DIR"), "data", "examples", name, NULL);
}

static void
act (GradusWindow *w, const char *action, const char *param)
{
  if (param)
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (w), action, "s", param));
  else
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (w), action, NULL));
  ui_test_spin (5);
}

/* Whether the bytes hold `needle` (a binary file: NULs allowed). */
static gboolean
holds (const char *bytes, gsize len, const char *needle)
{
  gsize n = strlen (needle);
  for (gsize i = 0; i + n <= len; i++)
    if (memcmp (bytes + i, needle, n) == 0)
      return TRUE;
  return FALSE;
}

/* The menus name the actions the window has. */
static gboolean
window_has_action (GradusWindow *w, const char *name)
{
  return g_action_map_lookup_action (G_ACTION_MAP (w), name) != NULL;
}

static void
test_export (void)
{
  GradusWindow *w = new_window ();
  for (const char *const *n = (const char *const[]) { "export-model", "export-model-to",
                                                      "import-onnx", "import-onnx-from", NULL };
       *n; n++)
    g_assert_true (window_has_action (w, *n));
  g_autofree char *path = example ("cnn-digits.gradus");
  act (w, "win.open-path", path);
  g_assert_cmpuint (gradus_doc_model_n_nodes (gradus_window_get_model (w)), >, 40);

  /* ONNX: a protobuf model (field 1, ir_version, first) holding the
   * convolutions and the update outputs of the training step */
  g_autofree char *onnx = g_build_filename (tmpdir, "cnn.onnx", NULL);
  g_autofree char *param = g_strdup_printf ("onnx:%s", onnx);
  act (w, "win.export-model-to", param);
  g_assert_true (g_file_test (onnx, G_FILE_TEST_IS_REGULAR));
  g_assert_nonnull (strstr (gradus_window_get_last_message (w), "ONNX"));
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (onnx, &bytes, &len, NULL));
  g_assert_cmpuint (len, >, 1000);
  g_assert_cmpint (bytes[0], ==, 0x08);
  g_assert_true (holds (bytes, len, "ConvTranspose"));
  g_assert_true (holds (bytes, len, "MaxPool"));
  g_assert_true (holds (bytes, len, "update:W1"));

  /* PyTorch: the script and the folder of values beside it */
  g_autofree char *py = g_build_filename (tmpdir, "cnn.py", NULL);
  g_free (param);
  param = g_strdup_printf ("pytorch:%s", py);
  act (w, "win.export-model-to", param);
  g_autofree char *script = NULL;
  g_assert_true (g_file_get_contents (py, &script, NULL, NULL));
  g_assert_nonnull (strstr (script, "import torch"));
  g_assert_nonnull (strstr (script, "_conv2d("));
  g_assert_nonnull (strstr (script, "_pool_2d("));
  g_autofree char *data_dir = g_build_filename (tmpdir, "cnn.data", NULL);
  g_assert_true (g_file_test (data_dir, G_FILE_TEST_IS_DIR));

  /* a refusal names the node, in the window's message */
  g_autofree char *scan = g_build_filename (g_getenv ("GRADUS_SOURCE_DIR"), "tests", "interchange",
                                            "data", "scan-random.gradus", NULL);
  act (w, "win.open-path", scan);
  g_autofree char *refused = g_build_filename (tmpdir, "scan.onnx", NULL);
  g_free (param);
  param = g_strdup_printf ("onnx:%s", refused);
  act (w, "win.export-model-to", param);
  g_assert_false (g_file_test (refused, G_FILE_TEST_EXISTS));
  g_assert_nonnull (strstr (gradus_window_get_last_message (w), "node '"));
  gtk_window_destroy (GTK_WINDOW (w));
  ui_test_spin (20);
}

static void
test_import (void)
{
  /* a model written by the export (a training step in ONNX) */
  g_autofree char *path = example ("primer-3-linear-regression.gradus");
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdDocument) doc = grd_document_load (path, &error);
  g_assert_no_error (error);
  g_autofree char *onnx = g_build_filename (tmpdir, "linreg.onnx", NULL);
  g_assert_true (grd_onnx_export (doc, NULL, onnx, &error));
  g_assert_no_error (error);

  GradusWindow *w = new_window ();
  act (w, "win.import-onnx-from", onnx);
  GradusDocModel *m = gradus_window_get_model (w);
  guint n = gradus_doc_model_n_nodes (m);
  g_assert_cmpuint (n, >, 8);
  g_assert_true (gradus_doc_model_get_modified (m));
  g_assert_null (gradus_doc_model_get_path (m));
  g_assert_nonnull (strstr (gradus_window_get_last_message (w), "Imported linreg.onnx"));
  /* the engine builds it, and every node is on the canvas */
  g_assert_nonnull (gradus_doc_model_get_document (m));
  ui_test_spin (100);
  GradusScene *scene = gradus_canvas_get_scene (gradus_window_get_canvas (w));
  g_assert_nonnull (scene);
  for (guint i = 0; i < n; i++) {
    JsonObject *o = gradus_doc_model_node_at (m, i);
    g_assert_cmpint (gradus_scene_find (scene, json_object_get_string_member (o, "id")), >=, 0);
  }
  /* the model's inputs (the data, and the shared a, b it is fed) are
   * variables; its constants with float values are shared */
  g_assert_cmpstr (json_object_get_string_member (gradus_doc_model_get_node (m, "a"), "kind"),
                   ==, "variable");
  g_assert_cmpstr (json_object_get_string_member (gradus_doc_model_get_node (m, "two"), "kind"),
                   ==, "shared");

  /* unsaved work is kept: a second import opens a new window */
  GList *before = gtk_window_list_toplevels ();
  guint windows = g_list_length (before);
  g_list_free (before);
  act (w, "win.import-onnx-from", onnx);
  GList *after = gtk_window_list_toplevels ();
  g_assert_cmpuint (g_list_length (after), ==, windows + 1);
  for (GList *l = after; l; l = l->next)
    if (GRADUS_IS_WINDOW (l->data) && l->data != w)
      gtk_window_destroy (GTK_WINDOW (l->data));
  g_list_free (after);
  g_assert_cmpuint (gradus_doc_model_n_nodes (m), ==, n);

  /* a file that is not a model is refused with a message */
  act (w, "win.import-onnx-from", path);
  g_assert_nonnull (strstr (gradus_window_get_last_message (w), "not an ONNX model"));
  gtk_window_destroy (GTK_WINDOW (w));
  ui_test_spin (20);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  adw_init ();
  tmpdir = g_dir_make_tmp ("gradus-ui-interchange-XXXXXX", NULL);
  g_test_add_func ("/ui/interchange/export", test_export);
  g_test_add_func ("/ui/interchange/import", test_import);
  int status = g_test_run ();
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmpdir);
  (void) !system (cmd);
  return status;
}
