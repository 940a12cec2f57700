/* test-ui-save-as.c: Save As into another folder keeps the document's data
 * (docs/format.md, "Saving into another folder"). The window saves a graph
 * whose data files (a group's constant, a constant, run.feeds and a run.also
 * feed) sit beside it: one folder up, the copy runs under `gradus run` as it
 * is; beside its folder, the window names the files left outside, the copy
 * runs once they are allowed, and an undo does not bring back the old
 * folder's paths; into the same folder, the file keeps its bytes. */
#include "gradus-keep-action.h"
#include "gradus-run-binding.h"
#include "ui-run-util.h"

#include <glib/gstdio.h>
#include <string.h>

static char *tmpdir;

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

static const char doc_text[] =
  "{\"format\": \"gradus-graph\", \"version\": 1,\n"
  " \"groups\": {\"aff\": {\"inputs\": [\"v\"], \"nodes\": [\n"
  "   {\"id\": \"c\", \"kind\": \"constant\", \"dtype\": \"float64\", \"value\": {\"npy\" : \"w/scale.npy\"}},\n"
  "   {\"id\": \"m\", \"kind\": \"op\", \"op\": \"mul\", \"inputs\": [\"v\", \"c\"]}],\n"
  "   \"outputs\": [\"m\"]}},\n"
  " \"nodes\": [\n"
  "  {\"id\": \"x\", \"kind\": \"variable\", \"dtype\": \"float64\", \"shape\": [2]},\n"
  "  {\"id\": \"k\", \"kind\": \"constant\", \"dtype\": \"float64\", \"value\": {\"npy\" : \"w/bias.npy\"}},\n"
  "  {\"id\": \"acc\", \"kind\": \"shared\", \"dtype\": \"float64\", \"value\": 0},\n"
  "  {\"id\": \"p\", \"kind\": \"shared\", \"dtype\": \"float64\", \"value\": {\"npy\" : \"w/bias.npy\"}},\n"
  "  {\"id\": \"g1\", \"kind\": \"group\", \"group\": \"aff\", \"inputs\": [\"x\"]},\n"
  "  {\"id\": \"y0\", \"kind\": \"op\", \"op\": \"add\", \"inputs\": [\"g1\", \"k\"]},\n"
  "  {\"id\": \"y\", \"kind\": \"op\", \"op\": \"add\", \"inputs\": [\"y0\", \"p\"]},\n"
  "  {\"id\": \"s\", \"kind\": \"op\", \"op\": \"sum\", \"inputs\": [\"y\"]},\n"
  "  {\"id\": \"acc_n\", \"kind\": \"op\", \"op\": \"add\", \"inputs\": [\"acc\", \"s\"]}],\n"
  " \"function\": {\"inputs\": [\"x\"], \"outputs\": [\"y\"],\n"
  "              \"updates\": [{\"shared\": \"acc\", \"value\": \"acc_n\"}]},\n"
  " \"functions\": {\"other\": {\"inputs\": [\"x\"], \"outputs\": [\"s\"]}},\n"
  " \"run\": {\"steps\": 4,\n"
  "  \"feeds\": {\"x\": {\"csv\" : \"data/rows.csv\", \"header\": true, \"column\": 1, \"batch\": 2}},\n"
  "  \"also\": [{\"function\": \"other\", \"every\": 2, \"feeds\": {\"x\": {\"npy\" : \"w/feed.npy\"}}}]}}\n";

/* `gradus run FILE` (with --allow-data DIR when given): its exit status,
 * standard output in `out`. */
static gint
cli_run (const char *file, const char *allow, char **out, char **err)
{
  const char *argv[] = { g_getenv ("GRADUS_BINARY"), "run", file, allow ? "--allow-data" : NULL,
                         allow, NULL };
  gint status = 0;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, err,
                               &status, &error));
  return g_spawn_check_wait_status (status, NULL) ? 0 : 1;
}

static char *
read_text (const char *path)
{
  char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return text;
}

/* The value of "npy" of node `id`'s value in the model. */
static const char *
model_npy (GradusDocModel *m, const char *id)
{
  JsonObject *o = gradus_doc_model_get_node (m, id);
  return json_object_get_string_member (json_object_get_object_member (o, "value"), "npy");
}

static void
test_save_as_folders (void)
{
  g_autofree char *proj = g_build_filename (tmpdir, "proj", NULL);
  g_autofree char *a = g_build_filename (proj, "a", NULL);
  g_autofree char *w_dir = g_build_filename (a, "w", NULL);
  g_autofree char *data = g_build_filename (a, "data", NULL);
  g_autofree char *b = g_build_filename (proj, "b", NULL);
  g_assert_cmpint (g_mkdir_with_parents (w_dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (data, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (b, 0700), ==, 0);
  const double bias[] = { 0.5, -0.25 }, scale[] = { 3, 7 }, feed[] = { -2, 9 };
  g_autofree char *p1 = g_build_filename (w_dir, "bias.npy", NULL);
  g_autofree char *p2 = g_build_filename (w_dir, "scale.npy", NULL);
  g_autofree char *p3 = g_build_filename (w_dir, "feed.npy", NULL);
  write_npy (p1, bias, 2);
  write_npy (p2, scale, 2);
  write_npy (p3, feed, 2);
  g_autofree char *csv = g_build_filename (data, "rows.csv", NULL);
  g_assert_true (g_file_set_contents (csv, "i,x\n0,1.5\n1,-4\n2,8\n3,0.25\n", -1, NULL));
  g_autofree char *orig = g_build_filename (a, "m.gradus", NULL);
  g_assert_true (g_file_set_contents (orig, doc_text, -1, NULL));
  g_autofree char *want = NULL, *err = NULL;
  g_assert_cmpint (cli_run (orig, NULL, &want, &err), ==, 0);
  g_assert_nonnull (strstr (want, "\"function\": \"other\""));

  GradusWindow *w = ui_open_window (orig, 1280, 800);
  GradusDocModel *m = gradus_window_get_model (w);
  GradusRunPanel *run = ui_run_panel (w);
  g_assert_null (gradus_run_panel_get_error (run));
  /* an edit, for the undo history, in the panel before the run */
  g_autoptr (GError) error = NULL;
  g_assert_true (gradus_doc_model_set_member (m, "y", "name",
                                              json_node_init_string (json_node_alloc (), "sum"),
                                              &error));
  gradus_run_binding_flush (gradus_window_get_run_binding (w));
  /* the window runs it from its folder */
  gradus_run_panel_set_steps (run, 2);
  ui_press_and_wait (w, "run.run");
  g_assert_cmpint (gradus_run_panel_get_n_calls (run), ==, 2);

  /* one folder up: the paths gain "a/", nothing is outside, nothing to say */
  g_autofree char *up = g_build_filename (proj, "up.gradus", NULL);
  const char *before = gradus_window_get_last_message (w);
  g_autofree char *before_copy = g_strdup (before);
  gtk_widget_activate_action (GTK_WIDGET (w), "win.save-to", "s", up);
  g_assert_false (gradus_doc_model_get_modified (m));
  g_assert_cmpstr (gradus_window_get_last_message (w), ==, before_copy);
  g_autofree char *up_text = read_text (up);
  g_assert_nonnull (strstr (up_text, "\"npy\" : \"a/w/scale.npy\""));
  g_assert_nonnull (strstr (up_text, "\"npy\" : \"a/w/bias.npy\""));
  g_assert_nonnull (strstr (up_text, "\"csv\" : \"a/data/rows.csv\""));
  g_assert_nonnull (strstr (up_text, "\"npy\" : \"a/w/feed.npy\""));
  g_autofree char *got = NULL, *got_err = NULL;
  g_assert_cmpint (cli_run (up, NULL, &got, &got_err), ==, 0);
  g_assert_cmpstr (got, ==, want);

  /* into the same folder again: the same bytes */
  g_autofree char *up2 = g_build_filename (proj, ".", "up2.gradus", NULL);
  gtk_widget_activate_action (GTK_WIDGET (w), "win.save-to", "s", up2);
  g_autofree char *up2_text = read_text (up2);
  g_assert_cmpstr (up2_text, ==, up_text);

  /* beside: every file is outside; the window says which, the copy runs
   * once allowed and is refused before */
  g_autofree char *beside = g_build_filename (b, "m.gradus", NULL);
  gtk_widget_activate_action (GTK_WIDGET (w), "win.save-to", "s", beside);
  g_assert_false (gradus_doc_model_get_modified (m));
  const char *said = gradus_window_get_last_message (w);
  g_assert_nonnull (said);
  g_test_message ("%s", said);
  g_assert_nonnull (strstr (said, "outside"));
  const char *names[] = { "w/bias.npy", "w/scale.npy", "data/rows.csv", "w/feed.npy" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_assert_nonnull (strstr (said, names[i]));
  g_assert_nonnull (strstr (said, "4 data files"));
  g_autofree char *b_text = read_text (beside);
  g_assert_nonnull (strstr (b_text, "\"npy\" : \"../a/w/scale.npy\""));
  g_assert_nonnull (strstr (b_text, "\"csv\" : \"../a/data/rows.csv\""));
  g_autofree char *refused = NULL, *refused_err = NULL;
  g_assert_cmpint (cli_run (beside, NULL, &refused, &refused_err), ==, 1);
  g_assert_nonnull (strstr (refused_err, "outside the document's folder"));
  g_autofree char *allowed = NULL, *allowed_err = NULL;
  g_assert_cmpint (cli_run (beside, a, &allowed, &allowed_err), ==, 0);
  g_assert_cmpstr (allowed, ==, want);

  /* the run goes on through the saves: its values can still be kept, and
   * the unchanged shared value kept in its file names it from here */
  g_assert_cmpint (gradus_run_panel_get_n_calls (run), ==, 2);
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (w), "keep-trained"));
  g_assert_true (gradus_keep_trained (w, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (model_npy (m, "p"), ==, "../a/w/bias.npy");

  /* the model and its history speak of the new folder: undo keeps them */
  g_assert_cmpstr (model_npy (m, "k"), ==, "../a/w/bias.npy");
  g_assert_true (gradus_doc_model_undo (m));   /* the keep */
  g_assert_true (gradus_doc_model_undo (m));   /* the name */
  g_assert_cmpstr (model_npy (m, "k"), ==, "../a/w/bias.npy");
  g_assert_cmpstr (model_npy (m, "p"), ==, "../a/w/bias.npy");
  g_assert_true (gradus_doc_model_redo (m));
  g_assert_true (gradus_doc_model_redo (m));

  /* the window's next run from the new folder asks before reading them */
  g_assert_true (gradus_doc_model_set_member (m, "s", "name",
                                              json_node_init_string (json_node_alloc (), "total"),
                                              &error));
  UI_TEST_SPIN_UNTIL (gradus_window_get_data_dialog (w) != NULL, 10);
  g_assert_nonnull (gradus_window_get_data_dialog (w));
  gtk_window_destroy (gradus_window_get_data_dialog (w));
  gradus_doc_model_set_modified (m, FALSE);
  gtk_window_destroy (GTK_WINDOW (w));
  ui_xtest_spin (50);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  adw_init ();
  ui_xtest_init ();
  tmpdir = g_dir_make_tmp ("gradus-ui-save-as-XXXXXX", NULL);
  g_test_add_func ("/ui/save-as/folders", test_save_as_folders);
  int status = g_test_run ();
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmpdir);
  if (!g_getenv ("GRADUS_TEST_KEEP_TMP"))
    (void) !system (cmd);
  return status;
}
