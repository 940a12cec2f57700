/* test-ui-keep.c: Keep Trained Values (win.keep-trained) with real clicks
 * (XTest under Xvfb). The kept values are those `gradus run` prints, one undo
 * step restores the file's bit for bit, the run and its plots stay through
 * the keep, its undo and redo; a saved document continues the run exactly
 * (random streams included) under `gradus run`. Issue 11. */
#include "gradus-keep-action.h"
#include "ui-run-util.h"

#include <glib/gstdio.h>
#include <string.h>

static char *tmpdir;

static char *
example (const char *name)
{
  return g_build_filename (g_getenv ("GRADUS_SOURCE_DIR"), "data", "examples", name, NULL);
}

static GtkWidget *
keep_button (GradusWindow *w)
{
  GtkWidget *b = ui_find_action_button (gradus_window_get_run_panel (w), "win.keep-trained");
  g_assert_nonnull (b);
  return b;
}

static gboolean
keep_enabled (GradusWindow *w)
{
  gboolean on = g_action_group_get_action_enabled (G_ACTION_GROUP (w), "keep-trained");
  /* the panel's button follows the action */
  g_assert_cmpint (gtk_widget_get_sensitive (keep_button (w)), ==, on);
  return on;
}

/* `gradus run FILE --steps N` (and `extra`), its lines. */
static GStrv
cli_lines (const char *file, gint steps)
{
  g_autofree char *n = g_strdup_printf ("%d", steps);
  const char *argv[] = { g_getenv ("GRADUS_BINARY"), "run", file, "--steps", n, NULL };
  g_autofree char *out = NULL, *err = NULL;
  gint status = 0;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                               &status, &error));
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("gradus run %s: %s", file, err);
  g_strchomp (out);
  GStrv lines = g_strsplit (out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, (guint) steps);
  return lines;
}

static JsonNode *
parse (const char *text)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_assert_true (json_parser_load_from_data (p, text, -1, NULL));
  return json_node_copy (json_parser_get_root (p));
}

/* Same numbers exactly (nested lists of numbers, or a number). */
static gboolean
same_numbers (JsonNode *a, JsonNode *b)
{
  if (JSON_NODE_HOLDS_ARRAY (a) && JSON_NODE_HOLDS_ARRAY (b)) {
    JsonArray *x = json_node_get_array (a), *y = json_node_get_array (b);
    if (json_array_get_length (x) != json_array_get_length (y))
      return FALSE;
    for (guint i = 0; i < json_array_get_length (x); i++)
      if (!same_numbers (json_array_get_element (x, i), json_array_get_element (y, i)))
        return FALSE;
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_VALUE (a) || !JSON_NODE_HOLDS_VALUE (b))
    return FALSE;
  return json_node_get_double (a) == json_node_get_double (b);
}

static JsonObject *
model_node (GradusDocModel *m, const char *id)
{
  JsonObject *o = gradus_doc_model_get_node (m, id);
  g_assert_nonnull (o);
  return o;
}

static char *
signature (GradusDocModel *m)
{
  return gradus_run_binding_signature (gradus_doc_model_get_root (m));
}

/* Linear regression: run N calls with a click on Run, keep with a click on
 * Keep: the document's a and b are those `gradus run --steps N` prints last;
 * undo gives back the file's document exactly, redo the kept one, and the
 * run and its plots stay through all of it. Reset then starts from the kept
 * values: N more calls equal calls N..2N-1 of `gradus run`. */
static void
test_keep_undo_redo (void)
{
  const gint N = 7;
  g_autofree char *path = example ("primer-3-linear-regression.gradus");
  GradusWindow *w = ui_open_window (path, 1280, 800);
  GradusRunPanel *run = ui_run_panel (w);
  GradusDocModel *m = gradus_window_get_model (w);
  GradusRunBinding *binding = gradus_window_get_run_binding (w);
  g_assert_null (gradus_run_panel_get_error (run));
  /* nothing to keep before the first call */
  g_assert_false (keep_enabled (w));
  gradus_run_panel_set_steps (run, N);
  ui_press_and_wait (w, "run.run");
  g_assert_cmpint (gradus_run_panel_get_n_calls (run), ==, N);
  g_assert_true (keep_enabled (w));
  g_autofree char *before = signature (m);
  g_autofree char *before_text = gradus_doc_model_to_data (m, NULL);
  g_assert_false (gradus_doc_model_get_modified (m));
  guint syncs = gradus_run_binding_get_n_syncs (binding);

  ui_press_and_wait (w, "win.keep-trained");
  g_assert_cmpstr (gradus_doc_model_undo_label (m), ==, "Keep Trained Values");
  g_assert_true (gradus_doc_model_get_modified (m));
  g_assert_false (keep_enabled (w));
  g_assert_nonnull (strstr (gradus_window_get_last_message (w), "Kept"));
  g_auto (GStrv) lines = cli_lines (path, 2 * N);
  g_autoptr (JsonNode) last = parse (lines[N - 1]);
  JsonObject *shared = json_object_get_object_member (json_node_get_object (last), "shared");
  const char *ids[] = { "a", "b" };
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    g_assert_true (same_numbers (json_object_get_member (model_node (m, ids[i]), "value"),
                                 json_object_get_member (shared, ids[i])));
  JsonObject *resume = json_object_get_object_member (
    json_object_get_object_member (json_node_get_object (gradus_doc_model_get_root (m)), "run"),
    "resume");
  g_assert_cmpint (json_object_get_int_member (resume, "step"), ==, N);
  g_autofree char *kept = signature (m);

  /* two seconds later the run is still there: plots, calls, no rebuild */
  ui_xtest_spin (2000);
  g_assert_cmpint (gradus_run_panel_get_n_calls (run), ==, N);
  ui_assert_plots_hold (w, N);
  g_assert_cmpuint (gradus_run_binding_get_n_syncs (binding), ==, syncs);
  g_assert_nonnull (strstr (gradus_run_panel_get_status (run), "kept"));

  /* undo: the file's values, bit for bit; the run and plots stay */
  ui_press_and_wait (w, "win.undo");
  g_autofree char *undone = signature (m);
  g_assert_cmpstr (undone, ==, before);
  g_autofree char *undone_text = gradus_doc_model_to_data (m, NULL);
  g_assert_cmpstr (undone_text, ==, before_text);
  g_assert_false (gradus_doc_model_get_modified (m));
  ui_xtest_spin (2000);
  g_assert_cmpint (gradus_run_panel_get_n_calls (run), ==, N);
  ui_assert_plots_hold (w, N);
  g_assert_cmpuint (gradus_run_binding_get_n_syncs (binding), ==, syncs);

  /* redo: the kept values again */
  ui_press_and_wait (w, "win.redo");
  g_autofree char *redone = signature (m);
  g_assert_cmpstr (redone, ==, kept);
  ui_xtest_spin (600);
  ui_assert_plots_hold (w, N);
  g_assert_cmpuint (gradus_run_binding_get_n_syncs (binding), ==, syncs);
  g_assert_cmpuint (gradus_run_binding_get_n_adopted (binding), >=, 3);

  /* Reset: from the kept values, nothing to keep; N calls continue the run */
  ui_press_and_wait (w, "run.reset");
  g_assert_cmpint (gradus_run_panel_get_n_calls (run), ==, 0);
  g_assert_false (keep_enabled (w));
  ui_press_and_wait (w, "run.run");
  g_assert_cmpint (gradus_run_panel_get_n_calls (run), ==, N);
  GArray *a = gradus_run_panel_get_series (run, "a");
  g_assert_nonnull (a);
  g_assert_cmpuint (a->len, ==, (guint) N);
  for (gint i = 0; i < N; i++) {
    g_autoptr (JsonNode) line = parse (lines[N + i]);
    JsonObject *sh = json_object_get_object_member (json_node_get_object (line), "shared");
    g_assert_cmpfloat (g_array_index (a, double, i), ==, json_object_get_double_member (sh, "a"));
  }
  g_assert_true (keep_enabled (w));
  /* an edit of the function: a new run, nothing to keep */
  JsonNode *v = json_node_new (JSON_NODE_VALUE);
  json_node_set_double (v, 0.02);
  g_assert_true (gradus_doc_model_set_member (m, "lr", "value", v, NULL));
  g_assert_false (keep_enabled (w));
  /* refused with the reason, nothing changed (the run is of the old function) */
  g_autofree char *edited = signature (m);
  g_autoptr (GError) error = NULL;
  g_assert_false (gradus_keep_trained (w, &error));
  g_assert_nonnull (strstr (error->message, "changed since the run"));
  g_autofree char *after_refusal = signature (m);
  g_assert_cmpstr (after_refusal, ==, edited);
  g_assert_cmpstr (gradus_doc_model_undo_label (m), !=, "Keep Trained Values");
  UI_TEST_SPIN_UNTIL (!gradus_run_binding_is_pending (binding), 5);
  g_assert_cmpint (gradus_run_panel_get_n_calls (run), ==, 0);
  g_assert_false (keep_enabled (w));
  g_clear_error (&error);
  g_assert_false (gradus_keep_trained (w, &error));
  g_assert_nonnull (strstr (error->message, "No call"));
  gradus_doc_model_set_modified (m, FALSE);
  gtk_window_destroy (GTK_WINDOW (w));
  ui_xtest_spin (50);
}

/* The MLP with dropout (a binomial random node, shuffled minibatches, a
 * weight matrix large enough for base64): N calls in the window, kept,
 * saved by the window; `gradus run SAVED --steps M` prints the last M lines
 * of `gradus run ORIGINAL --steps N+M`. */
static void
test_keep_save_resume (void)
{
  const gint N = 3, M = 2;
  g_autofree char *src = example ("mlp-dropout-digits.gradus");
  /* a copy beside its data set, so that the saved file reads it too */
  g_autofree char *dir = g_build_filename (tmpdir, "mlp", NULL);
  g_autofree char *data_dir = g_build_filename (dir, "datasets", NULL);
  g_assert_cmpint (g_mkdir_with_parents (data_dir, 0700), ==, 0);
  g_autofree char *csv_src = example ("datasets/digits.csv");
  g_autofree char *csv = g_build_filename (data_dir, "digits.csv", NULL);
  g_autofree char *text = NULL, *csv_text = NULL;
  gsize len = 0, csv_len = 0;
  g_assert_true (g_file_get_contents (src, &text, &len, NULL));
  g_assert_true (g_file_get_contents (csv_src, &csv_text, &csv_len, NULL));
  g_assert_true (g_file_set_contents (csv, csv_text, csv_len, NULL));
  g_autofree char *orig = g_build_filename (dir, "mlp.gradus", NULL);
  g_assert_true (g_file_set_contents (orig, text, len, NULL));

  GradusWindow *w = ui_open_window (orig, 1280, 800);
  GradusRunPanel *run = ui_run_panel (w);
  g_assert_null (gradus_run_panel_get_error (run));
  g_assert_false (keep_enabled (w));
  gradus_run_panel_set_steps (run, N);
  ui_press_and_wait (w, "run.run");
  g_assert_cmpint (gradus_run_panel_get_n_calls (run), ==, N);
  ui_press_and_wait (w, "win.keep-trained");
  g_autofree char *saved = g_build_filename (dir, "mlp-kept.gradus", NULL);
  gtk_widget_activate_action (GTK_WIDGET (w), "win.save-to", "s", saved);
  g_assert_false (gradus_doc_model_get_modified (gradus_window_get_model (w)));
  ui_xtest_spin (300);
  ui_assert_plots_hold (w, N);

  g_auto (GStrv) all = cli_lines (orig, N + M);
  g_auto (GStrv) cont = cli_lines (saved, M);
  for (gint i = 0; i < M; i++)
    g_assert_cmpstr (cont[i], ==, all[N + i]);
  /* the window's run goes on with the same numbers */
  gradus_run_panel_set_steps (run, M);
  ui_press_and_wait (w, "run.run");
  GArray *loss = gradus_run_panel_get_series (run, "out:0");
  g_assert_nonnull (loss);
  g_assert_cmpuint (loss->len, ==, (guint) (N + M));
  for (gint i = 0; i < M; i++) {
    g_autoptr (JsonNode) line = parse (all[N + i]);
    JsonArray *outs = json_object_get_array_member (json_node_get_object (line), "outputs");
    /* float32: the line prints the shortest decimals of the float */
    g_assert_cmpfloat ((float) g_array_index (loss, double, N + i), ==,
                       (float) json_array_get_double_element (outs, 0));
  }
  gtk_window_destroy (GTK_WINDOW (w));
  ui_xtest_spin (50);
}

static void
flatten (JsonNode *n, GArray *out)
{
  if (JSON_NODE_HOLDS_ARRAY (n)) {
    JsonArray *a = json_node_get_array (n);
    for (guint i = 0; i < json_array_get_length (a); i++)
      flatten (json_array_get_element (a, i), out);
    return;
  }
  double x = json_node_get_double (n);
  g_array_append_val (out, x);
}

/* On the Vulkan back end (lavapipe here; the CPU where no device is found)
 * the values live on the device: Keep brings them home. The kept values are
 * the run's after its last call, float for float. */
static void
test_keep_vulkan (void)
{
  const gint N = 20;
  g_autofree char *path = example ("xor-mlp.gradus");
  GradusWindow *w = ui_open_window (path, 1280, 800);
  GradusRunPanel *run = ui_run_panel (w);
  GradusDocModel *m = gradus_window_get_model (w);
  g_assert_true (gradus_run_panel_set_backend (run, GRD_BACKEND_VULKAN));
  g_test_message ("active back end: %s",
                  grd_backend_name (gradus_run_panel_get_active_backend (run)));
  gradus_run_panel_set_steps (run, N);
  ui_press_and_wait (w, "run.run");
  g_assert_cmpint (gradus_run_panel_get_n_calls (run), ==, N);
  ui_press_and_wait (w, "win.keep-trained");
  const char *ids[] = { "W1", "b1", "W2", "b2" };
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++) {
    GrdTensor *latest = gradus_run_panel_get_latest (run, ids[i]);
    g_assert_nonnull (latest);
    g_autoptr (GArray) kept = g_array_new (FALSE, FALSE, sizeof (double));
    flatten (json_object_get_member (model_node (m, ids[i]), "value"), kept);
    g_assert_cmpint (kept->len, ==, latest->size);
    for (guint k = 0; k < kept->len; k++)
      g_assert_cmpfloat ((float) g_array_index (kept, double, k), ==,
                         (float) grd_tensor_get (latest, k));
  }
  /* and they differ from the file's: the run trained them */
  g_assert_true (gradus_doc_model_undo (m));
  g_assert_cmpfloat (json_object_get_double_member (model_node (m, "b2"), "value"), ==, 0);
  g_assert_cmpfloat (grd_tensor_get (gradus_run_panel_get_latest (run, "b2"), 0), !=, 0);
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
  tmpdir = g_dir_make_tmp ("gradus-ui-keep-XXXXXX", NULL);
  g_test_add_func ("/ui/keep/undo-redo", test_keep_undo_redo);
  g_test_add_func ("/ui/keep/save-resume", test_keep_save_resume);
  g_test_add_func ("/ui/keep/vulkan", test_keep_vulkan);
  int status = g_test_run ();
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmpdir);
  if (!g_getenv ("GRADUS_TEST_KEEP_TMP"))
    (void) !system (cmd);
  return status;
}
