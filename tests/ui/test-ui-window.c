/* test-ui-window.c: the editor window under Xvfb, driven through the same
 * actions a user triggers from the keyboard, menus and canvas (GTK 4 cannot
 * synthesise input events): build the primer's linear regression from an
 * empty canvas, refuse bad wires with a reason, undo, redo, copy and paste,
 * save, reopen and compare, show the gradient graph, export, autosave. */
#include "gradus-window.h"
#include "gradus-ui-private.h"
#include "gradus-run-panel.h"

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

static void
close_window (GradusWindow *w)
{
  gtk_window_destroy (GTK_WINDOW (w));
  ui_test_spin (20);
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

/* Adds a node from the palette the way a double-click does; returns its id. */
static char *
add (GradusWindow *w, const char *payload)
{
  guint before = gradus_doc_model_n_nodes (gradus_window_get_model (w));
  act (w, "win.add-node", payload);
  GradusDocModel *m = gradus_window_get_model (w);
  g_assert_cmpuint (gradus_doc_model_n_nodes (m), ==, before + 1);
  /* The new node is selected, so the inspector shows it. */
  g_auto (GStrv) sel = gradus_canvas_dup_selection (gradus_window_get_canvas (w));
  g_assert_cmpuint (g_strv_length (sel), ==, 1);
  JsonObject *o = gradus_doc_model_node_at (m, before);
  g_assert_cmpstr (sel[0], ==, json_object_get_string_member (o, "id"));
  g_assert_cmpstr (gradus_inspector_get_node (gradus_window_get_inspector (w)), ==, sel[0]);
  return g_strdup (sel[0]);
}

static void
inspect (GradusWindow *w, const char *id, const char *key, const char *text)
{
  const char *ids[] = { id, NULL };
  gradus_canvas_set_selection (gradus_window_get_canvas (w), ids);
  g_autoptr (GError) error = NULL;
  g_assert_true (gradus_inspector_apply (gradus_window_get_inspector (w), key, text, &error));
  g_assert_no_error (error);
  ui_test_spin (5);
}

static void
connect (GradusWindow *w, const char *source, const char *target, gint slot)
{
  g_autofree char *p = g_strdup_printf ("%s %s %d", source, target, slot);
  act (w, "win.connect", p);
  g_assert_cmpstr (gradus_doc_model_node_slot_ref (gradus_window_get_model (w), target, slot), ==, source);
}

/* The primer's listing 3 from an empty canvas, as a user would build it. */
static void
build_linreg (GradusWindow *w)
{
  g_autofree char *x = add (w, "variable");
  inspect (w, x, "dtype", "float64");
  g_autofree char *t = add (w, "variable");
  inspect (w, t, "dtype", "float64");
  inspect (w, t, "id", "t");
  g_autofree char *a = add (w, "shared");
  inspect (w, a, "dtype", "float64");
  inspect (w, a, "value", "-1.0");
  inspect (w, a, "id", "a");
  g_autofree char *b = add (w, "shared");
  inspect (w, b, "dtype", "float64");
  inspect (w, b, "id", "b");
  g_autofree char *two = add (w, "constant");
  inspect (w, two, "dtype", "float64");
  inspect (w, two, "value", "2");
  inspect (w, two, "id", "two");
  g_autofree char *ax = add (w, "op:mul");
  connect (w, "a", ax, 0);
  connect (w, "x", ax, 1);
  g_autofree char *y = add (w, "op:add");
  connect (w, ax, y, 0);
  connect (w, "b", y, 1);
  g_autofree char *err = add (w, "op:sub");
  connect (w, y, err, 0);
  connect (w, "t", err, 1);
  g_autofree char *mse = add (w, "op:pow");
  connect (w, err, mse, 0);
  connect (w, "two", mse, 1);
  inspect (w, mse, "id", "mse");
  g_autofree char *g = add (w, "grad");
  connect (w, "mse", g, 0);
  connect (w, "a", g, 1);
  connect (w, "b", g, 2);
  inspect (w, g, "id", "g");
  /* One gradient step per call: a <- a - lr * d/da, b likewise. */
  g_autofree char *lr = add (w, "constant");
  inspect (w, lr, "dtype", "float64");
  inspect (w, lr, "value", "0.01");
  g_autofree char *sa = add (w, "op:mul");
  connect (w, lr, sa, 0);
  connect (w, "g:0", sa, 1);
  g_autofree char *a1 = add (w, "op:sub");
  connect (w, "a", a1, 0);
  connect (w, sa, a1, 1);
  g_autofree char *sb = add (w, "op:mul");
  connect (w, lr, sb, 0);
  connect (w, "g:1", sb, 1);
  g_autofree char *b1 = add (w, "op:sub");
  connect (w, "b", b1, 0);
  connect (w, sb, b1, 1);
  /* The function: inputs, output, updates, set in the inspector. */
  inspect (w, x, "function.inputs", "true");
  inspect (w, "t", "function.inputs", "true");
  inspect (w, "mse", "function.outputs", "true");
  inspect (w, "a", "update", a1);
  inspect (w, "b", "update", b1);
}

static void
assert_no_errors (GradusDocModel *m)
{
  for (guint i = 0; i < gradus_doc_model_n_nodes (m); i++) {
    const char *id = json_object_get_string_member (gradus_doc_model_node_at (m, i), "id");
    const char *err = gradus_doc_model_node_error (m, id);
    if (err)
      g_error ("node %s is in error: %s", id, err);
  }
}

static void
test_build_save_reopen (void)
{
  GradusWindow *w = new_window ();
  GradusDocModel *m = gradus_window_get_model (w);
  build_linreg (w);
  assert_no_errors (m);
  g_assert_cmpuint (gradus_doc_model_n_nodes (m), ==, 15);
  /* The gradient outputs take the types of a and b. */
  GrdGraph *graph = grd_document_graph (gradus_doc_model_get_document (m));
  GrdRef r;
  g_assert_true (grd_graph_lookup (graph, "g:1", &r, NULL));
  g_autofree char *type = grd_type_describe (grd_graph_ref_type (graph, r));
  g_assert_cmpstr (type, ==, "float64[]");

  /* Show the gradient graph, then fold it back. */
  const char *gsel[] = { "g", NULL };
  gradus_canvas_set_selection (gradus_window_get_canvas (w), gsel);
  act (w, "win.show-gradient", NULL);
  GradusScene *scene = gradus_canvas_get_scene (gradus_window_get_canvas (w));
  g_assert_cmpuint (scene->groups->len, ==, 1);
  g_assert_cmpuint (scene->nodes->len, >, 15);
  act (w, "win.hide-gradient", NULL);
  scene = gradus_canvas_get_scene (gradus_window_get_canvas (w));
  g_assert_cmpuint (scene->groups->len, ==, 0);
  g_assert_cmpuint (scene->nodes->len, ==, 15);

  /* The run panel under the canvas follows the edits: one call from the window's
   * run.step action gives the squared error (-1 * 1 + 0 - 5)^2 = 36. */
  GradusRunPanel *run = GRADUS_RUN_PANEL (gradus_window_get_run_panel (w));
  ui_test_spin (400);
  /* The graph has no run.feeds yet: the panel says so until it is given some. */
  g_assert_nonnull (gradus_run_panel_get_error (run));
  /* Feeds are set in the inspector, as run.feeds of the file. */
  inspect (w, "x", "feed", "1");
  inspect (w, "t", "feed", "5.0");
  ui_test_spin (400);
  if (gradus_run_panel_get_error (run))
    g_error ("run panel: %s", gradus_run_panel_get_error (run));
  act (w, "run.step", NULL);
  SPIN_UNTIL (gradus_run_panel_get_n_calls (run) == 1 && !gradus_run_panel_is_running (run));
  GArray *series = gradus_run_panel_get_series (run, "mse");
  g_assert_nonnull (series);
  g_assert_cmpuint (series->len, ==, 1);
  g_assert_cmpfloat_with_epsilon (g_array_index (series, double, 0), 36.0, 1e-9);

  g_autofree char *path = g_build_filename (tmpdir, "linreg.gradus", NULL);
  act (w, "win.save-to", path);
  g_assert_false (gradus_doc_model_get_modified (m));
  g_assert_cmpstr (gradus_doc_model_get_path (m), ==, path);

  /* Reopen in a new window: the same JSON, and the engine agrees. */
  GradusWindow *w2 = new_window ();
  act (w2, "win.open-path", path);
  GradusDocModel *m2 = gradus_window_get_model (w2);
  g_assert_true (json_node_equal (gradus_doc_model_get_root (m), gradus_doc_model_get_root (m2)));
  assert_no_errors (m2);
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdDocument) doc = grd_document_load (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (doc);

  /* The saved graph runs: at x = 1, t = 5, a = -1, b = 0 the squared error is
   * (-1 - 5)^2 = 36, and one step with lr = 0.01 moves a by -0.01 * 2 * (-6) * 1
   * and b by -0.01 * 2 * (-6). */
  const char *argv[] = { g_getenv ("GRADUS_BINARY"), "run", path, "--steps", "1", "--feed", "x=1",
                         "--feed", "t=5", NULL };
  g_autofree char *out = NULL, *err = NULL;
  int status;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                               &status, &error));
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("gradus run failed: %s", err);
  g_autoptr (JsonParser) p = json_parser_new ();
  g_assert_true (json_parser_load_from_data (p, out, -1, &error));
  JsonObject *line = json_node_get_object (json_parser_get_root (p));
  g_assert_cmpfloat_with_epsilon (json_array_get_double_element (json_object_get_array_member (line, "outputs"), 0), 36.0, 1e-9);
  JsonObject *shared = json_object_get_object_member (line, "shared");
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (shared, "a"), -1.0 + 0.12, 1e-9);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (shared, "b"), 0.12, 1e-9);
  close_window (w2);
  close_window (w);
}

static void
test_refuse_bad_wire (void)
{
  GradusWindow *w = new_window ();
  GradusDocModel *m = gradus_window_get_model (w);
  g_autofree char *u = add (w, "variable");
  inspect (w, u, "shape", "[3]");
  g_autofree char *v = add (w, "variable");
  inspect (w, v, "shape", "[4]");
  g_autofree char *sum = add (w, "op:add");
  connect (w, u, sum, 0);
  g_autofree char *before = gradus_doc_model_to_data (m, NULL);
  g_autofree char *p = g_strdup_printf ("%s %s 1", v, sum);
  act (w, "win.connect", p);
  /* Refused, with the reason shown to the user, and nothing changed. */
  const char *msg = gradus_window_get_last_message (w);
  g_assert_nonnull (msg);
  g_assert_nonnull (strstr (msg, "cannot connect"));
  g_assert_null (gradus_doc_model_node_slot_ref (m, sum, 1));
  g_autofree char *after = gradus_doc_model_to_data (m, NULL);
  g_assert_cmpstr (before, ==, after);
  /* A cycle is refused too. */
  g_autofree char *neg = add (w, "op:neg");
  connect (w, sum, neg, 0);
  g_autofree char *p2 = g_strdup_printf ("%s %s 1", neg, sum);
  act (w, "win.connect", p2);
  g_assert_nonnull (strstr (gradus_window_get_last_message (w), "cycle"));
  g_assert_null (gradus_doc_model_node_slot_ref (m, sum, 1));
  close_window (w);
}

static void
test_undo_redo (void)
{
  GradusWindow *w = new_window ();
  GradusDocModel *m = gradus_window_get_model (w);
  GActionGroup *g = G_ACTION_GROUP (w);
  g_assert_false (g_action_group_get_action_enabled (g, "undo"));
  g_autofree char *x = add (w, "variable");
  g_autofree char *n = add (w, "op:neg");
  connect (w, x, n, 0);
  g_assert_true (g_action_group_get_action_enabled (g, "undo"));
  act (w, "win.undo", NULL);
  g_assert_null (gradus_doc_model_node_slot_ref (m, n, 0));
  g_assert_true (g_action_group_get_action_enabled (g, "redo"));
  act (w, "win.undo", NULL);
  g_assert_cmpuint (gradus_doc_model_n_nodes (m), ==, 1);
  act (w, "win.redo", NULL);
  act (w, "win.redo", NULL);
  g_assert_cmpstr (gradus_doc_model_node_slot_ref (m, n, 0), ==, x);
  g_assert_false (g_action_group_get_action_enabled (g, "redo"));
  /* Delete and duplicate are edits like the others. */
  const char *sel[] = { n, NULL };
  gradus_canvas_set_selection (gradus_window_get_canvas (w), sel);
  act (w, "win.duplicate", NULL);
  g_assert_cmpuint (gradus_doc_model_n_nodes (m), ==, 3);
  act (w, "win.select-all", NULL);
  act (w, "win.delete", NULL);
  g_assert_cmpuint (gradus_doc_model_n_nodes (m), ==, 0);
  act (w, "win.undo", NULL);
  g_assert_cmpuint (gradus_doc_model_n_nodes (m), ==, 3);
  /* The view is not an edit: zooming leaves the history alone. */
  const char *label = gradus_doc_model_undo_label (m);
  act (w, "win.zoom-in", NULL);
  act (w, "win.zoom-fit", NULL);
  g_assert_cmpstr (gradus_doc_model_undo_label (m), ==, label);
  close_window (w);
}

static void
test_copy_paste (void)
{
  GradusWindow *w = new_window ();
  GradusDocModel *m = gradus_window_get_model (w);
  g_autofree char *x = add (w, "variable");
  g_autofree char *e = add (w, "op:exp");
  connect (w, x, e, 0);
  act (w, "win.select-all", NULL);
  act (w, "win.copy", NULL);
  act (w, "win.paste", NULL);
  SPIN_UNTIL (gradus_doc_model_n_nodes (m) == 4);
  g_assert_cmpuint (gradus_doc_model_n_nodes (m), ==, 4);
  /* The copies are selected and wired to each other. */
  g_auto (GStrv) sel = gradus_canvas_dup_selection (gradus_window_get_canvas (w));
  g_assert_cmpuint (g_strv_length (sel), ==, 2);
  g_assert_cmpstr (gradus_doc_model_node_slot_ref (m, sel[1], 0), ==, sel[0]);

  /* Through the clipboard into another window. */
  GradusWindow *w2 = new_window ();
  act (w2, "win.paste", NULL);
  GradusDocModel *m2 = gradus_window_get_model (w2);
  SPIN_UNTIL (gradus_doc_model_n_nodes (m2) == 2);
  g_assert_cmpuint (gradus_doc_model_n_nodes (m2), ==, 2);
  g_assert_cmpstr (gradus_doc_model_node_slot_ref (m2, e, 0), ==, x);
  assert_no_errors (m2);
  /* Cut removes, paste brings back. */
  act (w2, "win.select-all", NULL);
  act (w2, "win.cut", NULL);
  g_assert_cmpuint (gradus_doc_model_n_nodes (m2), ==, 0);
  act (w2, "win.paste", NULL);
  SPIN_UNTIL (gradus_doc_model_n_nodes (m2) == 2);
  g_assert_cmpuint (gradus_doc_model_n_nodes (m2), ==, 2);
  close_window (w2);
  close_window (w);
}

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

static void
drop_view (JsonNode *root)
{
  JsonObject *ui = json_object_get_object_member (json_node_get_object (root), "ui");
  if (ui)
    json_object_remove_member (ui, "view");
}

static void
test_roundtrip_example (void)
{
  /* The example with keys the editor does not know, everywhere. */
  g_autoptr (JsonParser) p = json_parser_new ();
  g_assert_true (json_parser_load_from_file (p, example_path (), NULL));
  JsonNode *root = json_parser_get_root (p);
  JsonObject *r = json_node_get_object (root);
  json_object_set_string_member (r, "x-unknown", "kept");
  json_object_set_boolean_member (json_array_get_object_element (json_object_get_array_member (r, "nodes"), 0), "x-flag", TRUE);
  if (!json_object_has_member (r, "ui"))
    json_object_set_object_member (r, "ui", json_object_new ());
  json_object_set_int_member (json_object_get_object_member (r, "ui"), "x-colour", 7);
  g_autofree char *in = g_build_filename (tmpdir, "with-unknown.gradus", NULL);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_root (gen, root);
  g_assert_true (json_generator_to_file (gen, in, NULL));

  GradusWindow *w = new_window ();
  act (w, "win.open-path", in);
  GradusDocModel *m = gradus_window_get_model (w);
  assert_no_errors (m);
  /* An edit and its undo, then save. */
  act (w, "win.auto-layout", NULL);
  act (w, "win.undo", NULL);
  g_autofree char *out = g_build_filename (tmpdir, "with-unknown-saved.gradus", NULL);
  act (w, "win.save-to", out);
  g_autoptr (JsonParser) back = json_parser_new ();
  g_assert_true (json_parser_load_from_file (back, out, NULL));
  JsonNode *saved = json_parser_get_root (back);
  /* Equal to the original, except the view the editor records (its own key). */
  JsonObject *sui = json_object_get_object_member (json_node_get_object (saved), "ui");
  g_assert_true (json_object_has_member (sui, "view"));
  drop_view (saved);
  drop_view (root);
  g_assert_true (json_node_equal (root, saved));
  close_window (w);
}

static void
test_palette (void)
{
  GradusWindow *w = new_window ();
  GradusPalette *pal = gradus_window_get_palette (w);
  g_auto (GStrv) all = gradus_palette_dup_visible (pal);
  /* Node kinds, then every public op of the engine's catalogue. */
  g_assert_cmpstr (all[0], ==, "variable");
  guint n_ops = 0;
  for (const char *const *op = grd_op_names (); *op; op++)
    if ((*op)[0] != '_') {
      g_autofree char *payload = g_strconcat ("op:", *op, NULL);
      g_assert_true (g_strv_contains ((const char *const *) all, payload));
      n_ops++;
    }
  g_assert_cmpuint (g_strv_length (all), ==, n_ops + 4);
  gradus_palette_set_search (pal, "soft");
  g_auto (GStrv) soft = gradus_palette_dup_visible (pal);
  g_assert_cmpuint (g_strv_length (soft), >=, 1);
  for (guint i = 0; soft[i]; i++)
    g_assert_nonnull (strstr (soft[i], "soft"));
  /* Enter in the search box adds the first match at the view centre. */
  g_signal_emit_by_name (gradus_palette_get_search_entry (pal), "activate");
  ui_test_spin (5);
  GradusDocModel *m = gradus_window_get_model (w);
  g_assert_cmpuint (gradus_doc_model_n_nodes (m), ==, 1);
  JsonObject *o = gradus_doc_model_node_at (m, 0);
  g_assert_cmpstr (json_object_get_string_member (o, "op"), ==, soft[0] + 3);
  double cx, cy, nx, ny;
  gradus_canvas_get_view_centre (gradus_window_get_canvas (w), &cx, &cy);
  g_assert_true (gradus_doc_model_get_position (m, json_object_get_string_member (o, "id"), &nx, &ny));
  g_assert_cmpfloat (fabs (nx - cx), <, 200);
  g_assert_cmpfloat (fabs (ny - cy), <, 200);
  close_window (w);
}

static void
test_inspector (void)
{
  GradusWindow *w = new_window ();
  GradusDocModel *m = gradus_window_get_model (w);
  g_autofree char *c = add (w, "constant");
  inspect (w, c, "value", "[[1, 2], [3, 4]]");
  inspect (w, c, "cell:0,1", "5");
  g_autofree char *v = json_to_string (json_object_get_member (gradus_doc_model_get_node (m, c), "value"), FALSE);
  g_assert_cmpstr (v, ==, "[[1,5],[3,4]]");
  g_autofree char *s = add (w, "op:sum");
  connect (w, c, s, 0);
  inspect (w, s, "attrs.axis", "0");
  GrdGraph *graph = grd_document_graph (gradus_doc_model_get_document (m));
  g_autofree char *t = grd_type_describe (grd_graph_node_type (graph, grd_graph_find (graph, s), 0));
  g_assert_cmpstr (t, ==, "float64[2]");
  /* A large value as an init choice, then back to numbers. */
  inspect (w, c, "init", "ones");
  JsonObject *val = json_object_get_object_member (gradus_doc_model_get_node (m, c), "value");
  g_assert_cmpstr (json_object_get_string_member (val, "init"), ==, "ones");
  inspect (w, c, "init", "values");
  g_autofree char *v2 = json_to_string (json_object_get_member (gradus_doc_model_get_node (m, c), "value"), FALSE);
  g_assert_cmpstr (v2, ==, "[[1.0,1.0],[1.0,1.0]]");
  /* Renaming follows every reference; bad input is refused with a reason. */
  inspect (w, c, "id", "weights");
  g_assert_cmpstr (gradus_doc_model_node_slot_ref (m, s, 0), ==, "weights");
  /* The renamed node stays selected and inspected. */
  g_auto (GStrv) sel = gradus_canvas_dup_selection (gradus_window_get_canvas (w));
  g_assert_cmpstr (sel[0], ==, "weights");
  g_assert_cmpstr (gradus_inspector_get_node (gradus_window_get_inspector (w)), ==, "weights");
  g_autoptr (GError) error = NULL;
  g_assert_false (gradus_inspector_apply (gradus_window_get_inspector (w), "dtype", "float16", &error));
  g_assert_nonnull (error);
  close_window (w);
}

static void
test_export_and_screenshot (void)
{
  GradusWindow *w = new_window ();
  act (w, "win.open-path", example_path ());
  act (w, "win.show-gradient", NULL);
  const char *formats[] = { "png", "svg", "pdf", "dot" };
  for (gsize i = 0; i < G_N_ELEMENTS (formats); i++) {
    g_autofree char *out = g_strdup_printf ("%s/window.%s", tmpdir, formats[i]);
    g_autofree char *param = g_strdup_printf ("%s:%s", formats[i], out);
    act (w, "win.export-to", param);
    g_autofree char *data = NULL;
    gsize len = 0;
    g_assert_true (g_file_get_contents (out, &data, &len, NULL));
    g_assert_cmpuint (len, >, 100);
    if (g_str_equal (formats[i], "dot"))
      g_assert_nonnull (strstr (data, "digraph"));
    g_unlink (out);
  }
  /* With a node in the inspector, as a user would look at it. */
  const char *sel[] = { "a", NULL };
  gradus_canvas_set_selection (gradus_window_get_canvas (w), sel);
  ui_test_spin (200);
  const char *keep = g_getenv ("GRADUS_KEEP_SCREENSHOT");
  g_autofree char *shot = keep ? g_strdup (keep) : g_build_filename (tmpdir, "window.png", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (gradus_window_screenshot (w, shot, &error));
  g_assert_no_error (error);
  g_autoptr (GdkTexture) tex = gdk_texture_new_from_filename (shot, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_texture_get_width (tex), >=, 800);
  /* Not a blank window: the canvas drew coloured node headers. */
  gsize stride = gdk_texture_get_width (tex) * 4;
  g_autofree guchar *px = g_malloc (stride * gdk_texture_get_height (tex));
  gdk_texture_download (tex, px, stride);
  guint colourful = 0;
  for (gsize i = 0; i < stride * gdk_texture_get_height (tex); i += 4) {
    int r = px[i + 2], g = px[i + 1], b = px[i];
    if (MAX (MAX (r, g), b) - MIN (MIN (r, g), b) > 80)
      colourful++;
  }
  g_assert_cmpuint (colourful, >, 1000);
  if (!keep)
    g_unlink (shot);
  close_window (w);
}

static void
test_autosave_restore (void)
{
  GradusWindow *w = new_window ();
  g_autofree char *x = add (w, "variable");
  g_autofree char *e = add (w, "op:exp");
  connect (w, x, e, 0);
  const char *path = gradus_window_autosave_now (w);
  g_assert_nonnull (path);
  g_autofree char *dir = gradus_autosave_dir ();
  g_assert_true (g_str_has_prefix (path, dir));
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
  g_autofree char *saved = g_strdup (path);

  /* As after a crash: a new window restores the work, still unsaved. */
  GradusWindow *w2 = new_window ();
  g_autoptr (GError) error = NULL;
  g_assert_true (gradus_window_restore (w2, saved, "", &error));
  GradusDocModel *m2 = gradus_window_get_model (w2);
  g_assert_true (gradus_doc_model_get_modified (m2));
  g_assert_true (json_node_equal (gradus_doc_model_get_root (gradus_window_get_model (w)),
                                  gradus_doc_model_get_root (m2)));
  /* Saving removes the window's autosave. */
  g_autofree char *out = g_build_filename (tmpdir, "saved.gradus", NULL);
  act (w, "win.save-to", out);
  g_assert_false (g_file_test (saved, G_FILE_TEST_EXISTS));
  g_unlink (out);
  gradus_doc_model_set_modified (m2, FALSE);
  close_window (w2);
  close_window (w);
}

static void
test_canvas_view (void)
{
  GradusWindow *w = new_window ();
  act (w, "win.open-path", example_path ());
  GradusCanvas *c = gradus_window_get_canvas (w);
  ui_test_spin (50);
  /* Zoom about a point keeps the graph point under it. */
  double gx0, gy0, gx1, gy1;
  gradus_canvas_widget_to_graph (c, 100, 80, &gx0, &gy0);
  double z = gradus_canvas_get_zoom (c);
  gradus_canvas_zoom_at (c, 1.5, 100, 80);
  g_assert_cmpfloat_with_epsilon (gradus_canvas_get_zoom (c), MIN (z * 1.5, 4.0), 1e-9);
  gradus_canvas_widget_to_graph (c, 100, 80, &gx1, &gy1);
  g_assert_cmpfloat_with_epsilon (gx0, gx1, 1e-6);
  g_assert_cmpfloat_with_epsilon (gy0, gy1, 1e-6);
  /* Zoom to fit shows every node. */
  act (w, "win.zoom-fit", NULL);
  GradusScene *scene = gradus_canvas_get_scene (c);
  double vx0, vy0, vx1, vy1;
  gradus_canvas_widget_to_graph (c, 0, 0, &vx0, &vy0);
  gradus_canvas_widget_to_graph (c, gtk_widget_get_width (GTK_WIDGET (c)),
                                 gtk_widget_get_height (GTK_WIDGET (c)), &vx1, &vy1);
  for (guint i = 0; i < scene->nodes->len; i++) {
    GradusSceneNode *n = scene->nodes->pdata[i];
    g_assert_cmpfloat (n->x, >=, vx0);
    g_assert_cmpfloat (n->y, >=, vy0);
    g_assert_cmpfloat (n->x + n->w, <=, vx1);
    g_assert_cmpfloat (n->y + n->h, <=, vy1);
  }
  /* The view is saved with the file, not recorded as an edit. */
  double sx, sy, sz;
  g_assert_true (gradus_doc_model_get_view (gradus_window_get_model (w), &sx, &sy, &sz));
  g_assert_cmpfloat_with_epsilon (sz, gradus_canvas_get_zoom (c), 1e-3);
  g_assert_false (gradus_doc_model_get_modified (gradus_window_get_model (w)));
  close_window (w);
}

static AdwMessageDialog *
find_dialog (void)
{
  GListModel *tops = gtk_window_get_toplevels ();   /* borrowed */
  for (guint i = 0; i < g_list_model_get_n_items (tops); i++) {
    g_autoptr (GObject) o = g_list_model_get_item (tops, i);
    if (ADW_IS_MESSAGE_DIALOG (o) && gtk_widget_get_visible (GTK_WIDGET (o)))
      return ADW_MESSAGE_DIALOG (o);
  }
  return NULL;
}

static void
destroyed (GtkWidget *w, gboolean *flag)
{
  *flag = TRUE;
}

static void
test_close_unsaved (void)
{
  GradusWindow *w = new_window ();
  gboolean gone = FALSE;
  g_signal_connect (w, "destroy", G_CALLBACK (destroyed), &gone);
  g_autofree char *x = add (w, "variable");
  /* Unsaved work: closing asks first and keeps the window. */
  act (w, "win.close", NULL);
  ui_test_spin (50);
  AdwMessageDialog *d = find_dialog ();
  g_assert_nonnull (d);
  g_assert_false (gone);
  adw_message_dialog_response (d, "cancel");
  ui_test_spin (20);
  g_assert_false (gone);
  g_assert_cmpuint (gradus_doc_model_n_nodes (gradus_window_get_model (w)), ==, 1);
  /* Discarding closes it. */
  act (w, "win.close", NULL);
  ui_test_spin (50);
  d = find_dialog ();
  g_assert_nonnull (d);
  adw_message_dialog_response (d, "discard");
  SPIN_UNTIL (gone);
  g_assert_true (gone);
}

static void
count_shortcuts (GtkWidget *w, guint *n)
{
  if (GTK_IS_SHORTCUTS_SHORTCUT (w))
    (*n)++;
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    count_shortcuts (c, n);
}

static void
test_shortcuts_window (void)
{
  GtkWindow *sw = gradus_ui_shortcuts_window ();
  g_assert_true (GTK_IS_SHORTCUTS_WINDOW (sw));
  gtk_window_present (sw);
  ui_test_spin (50);
  guint n = 0;
  count_shortcuts (GTK_WIDGET (sw), &n);
  /* Files, editing, canvas and view shortcuts, and the pinch gesture. */
  g_assert_cmpuint (n, >=, 20);
  gtk_window_destroy (sw);
  g_object_unref (sw);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  adw_init ();
  tmpdir = g_dir_make_tmp ("gradus-ui-window-XXXXXX", NULL);
  g_test_add_func ("/ui/window/build-save-reopen", test_build_save_reopen);
  g_test_add_func ("/ui/window/refuse-bad-wire", test_refuse_bad_wire);
  g_test_add_func ("/ui/window/undo-redo", test_undo_redo);
  g_test_add_func ("/ui/window/copy-paste", test_copy_paste);
  g_test_add_func ("/ui/window/roundtrip-example", test_roundtrip_example);
  g_test_add_func ("/ui/window/palette", test_palette);
  g_test_add_func ("/ui/window/inspector", test_inspector);
  g_test_add_func ("/ui/window/export-screenshot", test_export_and_screenshot);
  g_test_add_func ("/ui/window/autosave-restore", test_autosave_restore);
  g_test_add_func ("/ui/window/canvas-view", test_canvas_view);
  g_test_add_func ("/ui/window/close-unsaved", test_close_unsaved);
  g_test_add_func ("/ui/window/shortcuts", test_shortcuts_window);
  int status = g_test_run ();
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmpdir);
  (void) !system (cmd);
  return status;
}
