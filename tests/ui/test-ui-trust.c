/* test-ui-trust.c: the editor's side of issue 15. An autosave that fails is
 * told to the user once (a toast), not dropped in silence, and told again
 * after one that worked failed anew. A document that reads a data file
 * outside its folder makes the editor ask, naming the file: allowed, it runs
 * (for that document only); refused, the run panel says why and the
 * question is not asked again at every edit. */
#include "gradus-window.h"
#include "gradus-run-panel.h"
#include "ui-test-util.h"
#include "ui-xtest.h"

#include <glib/gstdio.h>
#include <string.h>

static char *
example (const char *name)
{
  return g_build_filename (g_getenv ("GRADUS_SOURCE_DIR"), "data", "examples", name, NULL);
}

/* An edit that makes the document modified again. */
static void
edit (GradusWindow *w)
{
  gtk_widget_activate_action (GTK_WIDGET (w), "win.add-node", "s", "constant");
  ui_xtest_spin (50);
}

static void
test_autosave_failure (void)
{
  g_autofree char *path = example ("primer-3-linear-regression.gradus");
  GradusWindow *w = ui_open_window (path, 1280, 800);
  edit (w);
  g_autofree char *saved = g_strdup (gradus_window_autosave_now (w));
  g_assert_nonnull (saved);
  g_assert_false (gradus_window_get_autosave_failing (w));
  /* A folder where the autosave goes: it cannot be written any more. */
  g_assert_cmpint (g_unlink (saved), ==, 0);
  g_assert_cmpint (g_mkdir (saved, 0700), ==, 0);
  edit (w);
  g_assert_null (gradus_window_autosave_now (w));
  g_assert_true (gradus_window_get_autosave_failing (w));
  const char *told = gradus_window_get_last_message (w);
  g_assert_nonnull (told);
  g_assert_true (g_str_has_prefix (told, "Autosave failed"));
  /* Once: the next failing autosave (the timer's) says nothing new. */
  gradus_window_message (w, "something else");
  edit (w);
  g_assert_null (gradus_window_autosave_now (w));
  g_assert_cmpstr (gradus_window_get_last_message (w), ==, "something else");
  /* It works again, then fails again: told again. */
  g_assert_cmpint (g_rmdir (saved), ==, 0);
  edit (w);
  g_assert_cmpstr (gradus_window_autosave_now (w), ==, saved);
  g_assert_false (gradus_window_get_autosave_failing (w));
  g_assert_cmpint (g_unlink (saved), ==, 0);
  g_assert_cmpint (g_mkdir (saved, 0700), ==, 0);
  edit (w);
  g_assert_null (gradus_window_autosave_now (w));
  g_assert_true (g_str_has_prefix (gradus_window_get_last_message (w), "Autosave failed"));
  g_assert_cmpint (g_rmdir (saved), ==, 0);
  gradus_doc_model_set_modified (gradus_window_get_model (w), FALSE);
  gtk_window_destroy (GTK_WINDOW (w));
  ui_xtest_spin (100);
}

static const char outside_doc[] =
  "{\"format\": \"gradus-graph\", \"version\": 1,"
  " \"nodes\": [{\"id\": \"x\", \"kind\": \"variable\", \"dtype\": \"float64\", \"shape\": [null]},"
  "           {\"id\": \"s\", \"kind\": \"op\", \"op\": \"sum\", \"inputs\": [\"x\"]}],"
  " \"function\": {\"inputs\": [\"x\"], \"outputs\": [\"s\"]},"
  " \"run\": {\"steps\": 2, \"feeds\": {\"x\": {\"csv\": \"../B/data.csv\", \"header\": true,"
  " \"column\": 0, \"batch\": 2}}}}";

static GtkWindow *
wait_dialog (GradusWindow *w)
{
  UI_TEST_SPIN_UNTIL (gradus_window_get_data_dialog (w) != NULL, 10);
  ui_xtest_spin (100);
  return gradus_window_get_data_dialog (w);
}

static void
test_data_outside (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("gradus-trust-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *a = g_build_filename (tmp, "A", NULL);
  g_autofree char *b = g_build_filename (tmp, "B", NULL);
  g_assert_cmpint (g_mkdir (a, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (b, 0700), ==, 0);
  g_autofree char *csv = g_build_filename (b, "data.csv", NULL);
  g_autofree char *doc = g_build_filename (a, "doc.gradus", NULL);
  g_autofree char *doc2 = g_build_filename (a, "doc2.gradus", NULL);
  g_assert_true (g_file_set_contents (csv, "v\n1\n2\n3\n4\n", -1, NULL));
  g_assert_true (g_file_set_contents (doc, outside_doc, -1, NULL));
  g_assert_true (g_file_set_contents (doc2, outside_doc, -1, NULL));

  GradusWindow *w = ui_open_window (doc, 1280, 800);
  GradusRunPanel *run = GRADUS_RUN_PANEL (gradus_window_get_run_panel (w));
  /* Asked, naming the file; until then the panel refuses it. */
  GtkWindow *dialog = wait_dialog (w);
  g_assert_nonnull (dialog);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (dialog)));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (dialog)), csv));
  g_assert_nonnull (strstr (gradus_run_panel_get_error (run), "outside the document's folder"));
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "allow");
  UI_TEST_SPIN_UNTIL (gradus_window_get_data_dialog (w) == NULL, 5);
  ui_xtest_spin (100);
  g_assert_null (gradus_window_get_data_dialog (w));
  /* Allowed: it runs, reading the file. */
  g_assert_null (gradus_run_panel_get_error (run));
  gtk_widget_activate_action (GTK_WIDGET (w), "run.run", NULL);
  UI_TEST_SPIN_UNTIL (!gradus_run_panel_is_running (run) && gradus_run_panel_get_n_calls (run) == 2, 20);
  GArray *sums = gradus_run_panel_get_series (run, "out:0");
  g_assert_nonnull (sums);
  g_assert_cmpuint (sums->len, ==, 2);
  g_assert_cmpfloat (g_array_index (sums, double, 0), ==, 3);
  g_assert_cmpfloat (g_array_index (sums, double, 1), ==, 7);
  /* Edits of the same document keep the permission: no question. */
  edit (w);
  ui_xtest_spin (400);
  g_assert_null (gradus_window_get_data_dialog (w));
  g_assert_null (gradus_run_panel_get_error (run));

  /* Another document: asked again; refused, the panel says why, and an edit
   * does not ask again. */
  gradus_doc_model_set_modified (gradus_window_get_model (w), FALSE);
  g_assert_true (gradus_window_open_path (w, doc2, &error));
  g_assert_no_error (error);
  dialog = wait_dialog (w);
  g_assert_nonnull (dialog);
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "refuse");
  UI_TEST_SPIN_UNTIL (gradus_window_get_data_dialog (w) == NULL, 5);
  g_assert_nonnull (strstr (gradus_run_panel_get_error (run), csv));
  edit (w);
  ui_xtest_spin (400);
  g_assert_null (gradus_window_get_data_dialog (w));
  g_assert_nonnull (gradus_run_panel_get_error (run));

  gradus_doc_model_set_modified (gradus_window_get_model (w), FALSE);
  gtk_window_destroy (GTK_WINDOW (w));
  ui_xtest_spin (100);
  g_unlink (csv);
  g_unlink (doc);
  g_unlink (doc2);
  g_rmdir (a);
  g_rmdir (b);
  g_rmdir (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  adw_init ();
  ui_xtest_init ();
  g_test_add_func ("/ui/trust/autosave-failure", test_autosave_failure);
  g_test_add_func ("/ui/trust/data-outside", test_data_outside);
  return g_test_run ();
}
