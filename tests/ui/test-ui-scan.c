/* test-ui-scan.c (Xvfb, XTest): a scan drawn as a zone, its body opened and
 * edited in place with real pointer and key events, run, saved, reloaded,
 * and `gradus run` of the saved file agreeing; the strips of per-step values
 * against the engine's; random nodes' histograms; the gradient graph of a
 * cost through a scan. */
#include "gradus-window.h"
#include "gradus-canvas.h"
#include "gradus-run-panel.h"
#include "scan/gradus-scan-zone.h"
#include "ui-test-util.h"
#include "ui-xtest.h"

#include <X11/keysym.h>
#include <math.h>
#include <string.h>

static char *tmpdir;

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
  ui_xtest_spin (30);
}

static GradusSceneNode *
scene_node (GradusWindow *w, const char *id)
{
  GradusScene *scene = gradus_canvas_get_scene (gradus_window_get_canvas (w));
  gint i = scene ? gradus_scene_find (scene, id) : -1;
  g_assert_cmpint (i, >=, 0);
  return scene->nodes->pdata[i];
}

/* The pointer over the canvas and the window active before any key. */
static void
wait_active (GradusWindow *w)
{
  int rx, ry;
  GtkWidget *canvas = GTK_WIDGET (gradus_window_get_canvas (w));
  g_assert_true (ui_widget_to_root (GTK_WINDOW (w), canvas, 30, 30, &rx, &ry));
  ui_move_to (rx, ry);
  UI_TEST_SPIN_UNTIL (gtk_window_is_active (GTK_WINDOW (w)), 5);
  g_assert_true (gtk_window_is_active (GTK_WINDOW (w)));
  ui_xtest_spin (200);
}

static void
double_click_graph (GradusWindow *w, double gx, double gy)
{
  int rx, ry;
  ui_graph_to_root (w, gx, gy, &rx, &ry);
  ui_click_root (1, rx, ry);
  ui_click_root (1, rx, ry);
  ui_xtest_spin (200);
}

/* A wire dragged from output `out` of `from` to input `slot` of `to`. */
static void
drag_wire (GradusWindow *w, const char *from, gint out, const char *to, gint slot)
{
  double x0, y0, x1, y1;
  gradus_scene_port_pos_of (scene_node (w, from), TRUE, out, &x0, &y0);
  gradus_scene_port_pos_of (scene_node (w, to), FALSE, slot, &x1, &y1);
  ui_drag_graph (w, 1, x0, y0, x1, y1, 8);
  ui_xtest_spin (100);
}

/* Runs `gradus run` on `path` and returns its first output line's outputs. */
static JsonArray *
gradus_run_outputs (const char *path, JsonParser *parser)
{
  g_autofree char *out = NULL, *err = NULL;
  gint status = 0;
  const char *argv[] = { g_getenv ("GRADUS_BINARY"), "run", path, NULL };
  g_assert_nonnull (argv[0]);
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, 0, NULL, NULL, &out, &err, &status, NULL));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  char *nl = strchr (out, '\n');
  if (nl)
    *nl = '\0';
  g_assert_true (json_parser_load_from_data (parser, out, -1, NULL));
  return json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "outputs");
}

static JsonObject *
body_node (GradusDocModel *model, const char *scan, const char *id)
{
  JsonObject *root = json_node_get_object (gradus_doc_model_get_root (model));
  JsonArray *nodes = json_object_get_array_member (root, "nodes");
  for (guint i = 0; i < json_array_get_length (nodes); i++) {
    JsonObject *o = json_array_get_object_element (nodes, i);
    if (!g_str_equal (json_object_get_string_member (o, "id"), scan))
      continue;
    JsonArray *b = json_object_get_array_member (json_object_get_object_member (o, "body"), "nodes");
    for (guint k = 0; k < json_array_get_length (b); k++) {
      JsonObject *n = json_array_get_object_element (b, k);
      if (g_str_equal (json_object_get_string_member (n, "id"), id))
        return n;
    }
  }
  return NULL;
}

static void
test_zone_edit_run_save (void)
{
  g_autofree char *path = example ("scan-polynomial.gradus");
  GradusWindow *w = ui_open_window (path, 1400, 900);
  GradusDocModel *model = gradus_window_get_model (w);
  GradusCanvas *canvas = gradus_window_get_canvas (w);
  wait_active (w);

  /* The zone: the scan's ports named by role, a strip per output. */
  GradusSceneNode *zone = scene_node (w, "terms");
  GradusScanBox *box = zone->scan;
  g_assert_nonnull (box);
  g_assert_cmpint (box->role, ==, GRADUS_SCAN_BOX_ZONE);
  g_assert_cmpuint (zone->in_labels->len, ==, 3);
  g_assert_true (g_str_has_prefix (zone->in_labels->pdata[0], "seq [t]"));
  g_assert_true (g_str_has_prefix (zone->in_labels->pdata[1], "state [t-1]"));
  g_assert_true (g_str_has_prefix (zone->in_labels->pdata[2], "non-seq"));
  g_assert_cmpint (box->n_strips, ==, 2);
  /* the wires into it: coefficients, one, x */
  GradusScene *scene = gradus_canvas_get_scene (canvas);
  guint into = 0;
  for (guint e = 0; e < scene->edges->len; e++)
    into += g_array_index (scene->edges, GradusSceneEdge, e).to == gradus_scene_find (scene, "terms");
  g_assert_cmpuint (into, ==, 3);

  /* Expanded (Ctrl+Shift+R with it selected): the body drawn in small inside. */
  const char *sel[] = { "terms", NULL };
  gradus_canvas_set_selection (canvas, sel);
  double h_collapsed = scene_node (w, "terms")->h;   /* the selection made a new scene */
  ui_key (XK_Control_L, TRUE);   /* Ctrl+Shift+R */
  ui_key (XK_Shift_L, TRUE);
  ui_tap (0, XK_r);
  ui_key (XK_Shift_L, FALSE);
  ui_key (XK_Control_L, FALSE);
  ui_xtest_spin (100);
  zone = scene_node (w, "terms");
  g_assert_nonnull (((GradusScanBox *) zone->scan)->minis);
  g_assert_cmpuint (((GradusScanBox *) zone->scan)->minis->len, ==, 5);
  g_assert_cmpfloat (zone->h, >, h_collapsed + 20);
  g_assert_true (gradus_canvas_get_gradient_shown (canvas, "terms"));
  g_assert_null (gradus_scan_get_open (model));
  act (w, "win.scan-expand", NULL);
  g_assert_false (gradus_canvas_get_gradient_shown (canvas, "terms"));
  zone = scene_node (w, "terms");
  g_assert_cmpfloat (zone->h, ==, h_collapsed);

  /* Open it with a real double-click on its header. */
  double_click_graph (w, zone->x + zone->w / 2, zone->y + 12);
  g_assert_cmpstr (gradus_scan_get_open (model), ==, "terms");
  scene = gradus_canvas_get_scene (canvas);
  g_assert_nonnull (scene->scan_zone);
  GradusScanZone *z = scene->scan_zone;
  /* the body's inputs on the left border, its outputs' box on the right */
  const char *ins[] = { "c", "power", "x_in" };
  for (guint i = 0; i < G_N_ELEMENTS (ins); i++) {
    GradusSceneNode *n = scene_node (w, ins[i]);
    g_assert_cmpfloat (fabs (n->x + n->w / 2 - z->x), <, 1);
    g_assert_cmpint (((GradusScanBox *) n->scan)->role, ==, GRADUS_SCAN_BOX_BORDER_IN);
  }
  g_assert_true (strstr (scene_node (w, "c")->subtitle, "coefficients") != NULL);
  g_assert_true (strstr (scene_node (w, "power")->subtitle, "one") != NULL);
  GradusSceneNode *outs = scene_node (w, "terms");
  g_assert_cmpint (((GradusScanBox *) outs->scan)->role, ==, GRADUS_SCAN_BOX_OUTPUTS);
  g_assert_cmpfloat (fabs (outs->x + outs->w / 2 - (z->x + z->w)), <, 1);
  g_assert_cmpuint (outs->in_labels->len, ==, 2);
  /* the body is typed as a graph of its own */
  g_assert_null (gradus_doc_model_node_error (model, "term"));
  g_assert_true (strstr (scene_node (w, "term")->out_labels->pdata[0], "float64[]") != NULL);

  /* Edit the body: an add node, c wired into both its inputs by dragging, and
   * the add into term's first input: each term becomes 2 c x^i. */
  act (w, "win.add-node", "op:add");
  g_autofree char *add = NULL;
  for (guint i = 0; i < gradus_doc_model_n_nodes (model); i++) {
    const char *id = json_object_get_string_member (gradus_doc_model_node_at (model, i), "id");
    if (g_str_has_prefix (id, "add"))
      add = g_strdup (id);
  }
  g_assert_nonnull (add);
  g_assert_nonnull (body_node (model, "terms", add));   /* in the body, not the outer graph */
  GradusSceneNode *t = scene_node (w, "term");
  const char *moved[] = { add, NULL };
  double ax, ay;
  g_assert_true (gradus_doc_model_get_position (model, add, &ax, &ay));
  gradus_doc_model_move_nodes (model, moved, t->x - 260 - ax, t->y + 140 - ay);
  gradus_canvas_zoom_to_fit (canvas);   /* the whole zone on screen */
  ui_xtest_spin (100);
  if (g_getenv ("GRADUS_SCAN_SHOTS")) {
    g_autofree char *shot = g_build_filename (g_getenv ("GRADUS_SCAN_SHOTS"), "scan-edit.png", NULL);
    gradus_window_screenshot (w, shot, NULL);
  }
  drag_wire (w, "c", 0, add, 0);
  drag_wire (w, "c", 0, add, 1);
  drag_wire (w, add, 0, "term", 0);
  g_assert_cmpstr (gradus_doc_model_node_slot_ref (model, add, 0), ==, "c");
  g_assert_cmpstr (gradus_doc_model_node_slot_ref (model, add, 1), ==, "c");
  g_assert_cmpstr (gradus_doc_model_node_slot_ref (model, "term", 0), ==, add);
  /* undo the last wire, redo it */
  act (w, "win.undo", NULL);
  g_assert_cmpstr (gradus_doc_model_node_slot_ref (model, "term", 0), ==, "c");
  g_assert_cmpstr (gradus_scan_get_open (model), ==, "terms");
  act (w, "win.redo", NULL);
  g_assert_cmpstr (gradus_doc_model_node_slot_ref (model, "term", 0), ==, add);
  /* a wire onto the zone's right border makes the add body output 1; undone */
  drag_wire (w, add, 0, "terms", 1);
  JsonObject *scan_o = NULL;
  {
    JsonArray *top = json_object_get_array_member (json_node_get_object (gradus_doc_model_get_root (model)), "nodes");
    for (guint i = 0; i < json_array_get_length (top); i++)
      if (g_str_equal (json_object_get_string_member (json_array_get_object_element (top, i), "id"), "terms"))
        scan_o = json_array_get_object_element (top, i);
  }
  JsonArray *body_outs = json_object_get_array_member (json_object_get_object_member (scan_o, "body"), "outputs");
  g_assert_cmpstr (json_array_get_string_element (body_outs, 1), ==, add);
  act (w, "win.undo", NULL);
  g_assert_cmpstr (gradus_doc_model_node_slot_ref (model, "term", 0), ==, add);
  /* a refused wire inside: a cycle */
  drag_wire (w, "term", 0, add, 0);
  g_assert_cmpstr (gradus_doc_model_node_slot_ref (model, add, 0), ==, "c");

  /* Close it with the real key (Ctrl+R); the edit is in the file's scan body. */
  ui_tap (XK_Control_L, XK_r);
  ui_xtest_spin (100);
  g_assert_null (gradus_scan_get_open (model));
  g_assert_nonnull (body_node (model, "terms", add));
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (body_node (model, "terms", "term"), "inputs"), 0), ==, add);

  /* Run one call in the panel: the strips show the engine's per-step values. */
  GradusRunPanel *run = GRADUS_RUN_PANEL (gradus_window_get_run_panel (w));
  ui_xtest_spin (400);   /* the binding hands the panel the edited document */
  gradus_run_panel_run (run, 1);
  UI_TEST_SPIN_UNTIL (!gradus_run_panel_is_running (run), 20);
  UI_TEST_SPIN_UNTIL (gradus_canvas_get_live_values (canvas) != NULL, 5);
  GHashTable *live = gradus_canvas_get_live_values (canvas);
  g_assert_nonnull (live);
  GrdTensor *steps = gradus_scan_strip_tensor (live, "terms", 1);
  g_assert_nonnull (steps);
  g_autoptr (GArray) strip = gradus_scan_strip_means (steps);
  g_assert_cmpuint (strip->len, ==, 3);

  /* Save, reload, and `gradus run` of the saved file agrees. */
  g_autofree char *saved = g_build_filename (tmpdir, "poly-edited.gradus", NULL);
  act (w, "win.save-to", saved);
  g_autoptr (GradusDocModel) again = gradus_doc_model_new ();
  g_assert_true (gradus_doc_model_load_file (again, saved, NULL));
  g_assert_nonnull (body_node (again, "terms", add));
  g_autoptr (JsonParser) p1 = json_parser_new ();
  JsonArray *o1 = gradus_run_outputs (saved, p1);
  /* 2 * (1 + 0 * 3 + 2 * 9) = 38; d/dc = 2 x^i */
  g_assert_cmpfloat (json_array_get_double_element (o1, 0), ==, 38.0);
  JsonArray *dc = json_array_get_array_element (o1, 2);
  g_assert_cmpfloat (json_array_get_double_element (dc, 2), ==, 18.0);

  /* The engine's per-step values: the saved file with terms:1 as its output. */
  g_autoptr (JsonParser) fp = json_parser_new ();
  g_assert_true (json_parser_load_from_file (fp, saved, NULL));
  JsonObject *fn = json_object_get_object_member (json_node_get_object (json_parser_get_root (fp)), "function");
  JsonArray *fo = json_array_new ();
  json_array_add_string_element (fo, "terms:1");
  json_object_set_array_member (fn, "outputs", fo);
  g_autofree char *steps_path = g_build_filename (tmpdir, "poly-steps.gradus", NULL);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_root (gen, json_parser_get_root (fp));
  g_assert_true (json_generator_to_file (gen, steps_path, NULL));
  g_autoptr (JsonParser) p2 = json_parser_new ();
  JsonArray *per_step = json_array_get_array_element (gradus_run_outputs (steps_path, p2), 0);
  g_assert_cmpuint (json_array_get_length (per_step), ==, strip->len);
  for (guint i = 0; i < strip->len; i++) {
    double engine = json_array_get_double_element (per_step, i);
    g_test_message ("step %u: strip %g, gradus run %g", i, g_array_index (strip, double, i), engine);
    g_assert_cmpfloat (g_array_index (strip, double, i), ==, engine);
  }
  g_assert_cmpfloat (g_array_index (strip, double, 2), ==, 36.0);

  gradus_doc_model_set_modified (model, FALSE);
  gtk_window_destroy (GTK_WINDOW (w));
  ui_xtest_spin (100);
}

/* The pictures of docs/images (a zone after a run, expanded; opened), in
 * GRADUS_SCAN_SHOTS=DIR or the test's folder: PNGs of the window. */
static void
test_shots (void)
{
  const char *shots = g_getenv ("GRADUS_SCAN_SHOTS") ? g_getenv ("GRADUS_SCAN_SHOTS") : tmpdir;
  g_autofree char *path = example ("scan-polynomial.gradus");
  GradusWindow *w = ui_open_window (path, 1500, 900);
  GradusCanvas *canvas = gradus_window_get_canvas (w);
  GradusRunPanel *run = GRADUS_RUN_PANEL (gradus_window_get_run_panel (w));
  gradus_run_panel_run (run, 1);
  UI_TEST_SPIN_UNTIL (!gradus_run_panel_is_running (run), 20);
  UI_TEST_SPIN_UNTIL (gradus_canvas_get_live_values (canvas) != NULL, 5);
  const char *sel[] = { "terms", NULL };
  gradus_canvas_set_selection (canvas, sel);
  act (w, "win.scan-expand", NULL);
  gradus_canvas_zoom_to_fit (canvas);
  gradus_canvas_zoom_reset (canvas);   /* full size: the strips legible */
  ui_xtest_spin (300);
  g_autofree char *a = g_build_filename (shots, "scan-zone.png", NULL);
  g_assert_true (gradus_window_screenshot (w, a, NULL));
  act (w, "win.scan-expand", NULL);
  act (w, "win.scan-open", NULL);
  ui_xtest_spin (300);
  g_autofree char *b = g_build_filename (shots, "scan-zone-open.png", NULL);
  g_assert_true (gradus_window_screenshot (w, b, NULL));
  act (w, "win.scan-open", NULL);
  for (guint i = 0; i < 2; i++) {
    g_autofree char *data = NULL;
    gsize len = 0;
    g_assert_true (g_file_get_contents (i ? b : a, &data, &len, NULL));
    g_assert_cmpuint (len, >, 1000);
    g_assert_true (memcmp (data, "\x89PNG", 4) == 0);
  }
  gradus_doc_model_set_modified (gradus_window_get_model (w), FALSE);
  gtk_window_destroy (GTK_WINDOW (w));
  ui_xtest_spin (100);
}

/* "Show gradient graph" on a cost through a scan: the engine's backward
 * scan in a frame, named after what it differentiates. */
static void
test_gradient_through_scan (void)
{
  g_autofree char *path = example ("scan-polynomial.gradus");
  GradusWindow *w = ui_open_window (path, 1400, 900);
  const char *sel[] = { "d", NULL };
  gradus_canvas_set_selection (gradus_window_get_canvas (w), sel);
  act (w, "win.show-gradient", NULL);
  GradusScene *scene = gradus_canvas_get_scene (gradus_window_get_canvas (w));
  g_assert_cmpuint (scene->groups->len, ==, 1);
  guint derived = 0, scans = 0;
  for (guint i = 0; i < scene->nodes->len; i++) {
    GradusSceneNode *n = scene->nodes->pdata[i];
    if (n->group != 0)
      continue;
    derived++;
    g_assert_nonnull (n->title);
    g_assert_false (g_str_has_prefix (n->title, "_"));   /* no raw engine ids */
    if (g_strcmp0 (n->op, "_scan") == 0) {
      /* its many inputs numbered, not all called "x" */
      scans++;
      g_assert_true (g_str_has_prefix (n->in_labels->pdata[0], "in 0"));
      g_assert_true (g_str_has_prefix (n->in_labels->pdata[1], "in 1"));
    }
  }
  g_test_message ("gradient graph: %u nodes, %u scans", derived, scans);
  g_assert_cmpuint (derived, >, 0);
  g_assert_cmpuint (scans, >, 0);   /* backpropagation through time is a scan */
  gradus_doc_model_set_modified (gradus_window_get_model (w), FALSE);
  gtk_window_destroy (GTK_WINDOW (w));
  ui_xtest_spin (100);
}

/* Random nodes: a histogram of the distribution before a run, of the draws after. */
static void
test_random_histogram (void)
{
  g_autofree char *path = example ("rnn-sine-bptt.gradus");
  GradusWindow *w = ui_open_window (path, 1400, 900);
  GradusSceneNode *noise = scene_node (w, "noise");
  GradusScanBox *b = noise->scan;
  g_assert_nonnull (b);
  g_assert_cmpint (b->role, ==, GRADUS_SCAN_BOX_RANDOM);
  g_assert_cmpstr (b->distribution, ==, "normal");
  g_assert_true (b->params_known);
  g_assert_cmpfloat (b->p1, ==, 0.05);
  GradusRunPanel *run = GRADUS_RUN_PANEL (gradus_window_get_run_panel (w));
  gradus_run_panel_run (run, 1);
  UI_TEST_SPIN_UNTIL (!gradus_run_panel_is_running (run), 30);
  GradusCanvas *canvas = gradus_window_get_canvas (w);
  UI_TEST_SPIN_UNTIL (gradus_canvas_get_live_values (canvas) != NULL, 5);
  GrdTensor *draws = g_hash_table_lookup (gradus_canvas_get_live_values (canvas), "noise");
  g_assert_nonnull (draws);
  /* the strips of the RNN's states: steps x batch x 16, drawn as a heatmap */
  GrdTensor *h = gradus_scan_strip_tensor (gradus_canvas_get_live_values (canvas), "rnn", 0);
  g_assert_nonnull (h);
  g_assert_cmpint (h->rank, >=, 2);
  g_autoptr (GArray) means = gradus_scan_strip_means (h);
  g_assert_cmpuint (means->len, ==, h->shape[0]);
  gradus_doc_model_set_modified (gradus_window_get_model (w), FALSE);
  gtk_window_destroy (GTK_WINDOW (w));
  ui_xtest_spin (100);
}

/* The model alone: edits while a body is open go into the body; undo and
 * redo keep the body open; ids stay unique across the file. */
static void
test_model_scope (void)
{
  g_autofree char *path = example ("scan-polynomial.gradus");
  g_autoptr (GradusDocModel) m = gradus_doc_model_new ();
  g_assert_true (gradus_doc_model_load_file (m, path, NULL));
  g_autoptr (GError) error = NULL;
  g_assert_false (gradus_scan_open (m, "x", &error));
  g_assert_nonnull (error);
  g_assert_true (gradus_scan_open (m, "terms", NULL));
  g_assert_cmpuint (gradus_doc_model_n_nodes (m), ==, 5);
  g_autofree char *id = gradus_doc_model_add_node (m, "variable", NULL, 0, 0, NULL);
  g_assert_cmpstr (id, !=, "x");   /* "x" is an outer node */
  g_autofree char *add = gradus_doc_model_add_node (m, "op", "add", 0, 0, NULL);
  g_assert_true (gradus_doc_model_connect (m, add, 0, "c", NULL));
  g_assert_true (gradus_doc_model_connect (m, add, 1, "c", NULL));
  g_assert_true (gradus_doc_model_connect (m, "term", 0, add, NULL));
  g_assert_cmpstr (gradus_doc_model_node_slot_ref (m, "term", 0), ==, add);
  g_assert_true (gradus_doc_model_undo (m));
  g_assert_cmpstr (gradus_doc_model_node_slot_ref (m, "term", 0), ==, "c");
  g_assert_true (gradus_doc_model_redo (m));
  g_assert_cmpstr (gradus_doc_model_node_slot_ref (m, "term", 0), ==, add);
  /* the zone's right border: body outputs; a state must keep its type */
  g_assert_true (gradus_doc_model_connect (m, "terms", 1, add, NULL));
  g_autoptr (GError) refused = NULL;
  JsonArray *shape = json_array_new ();
  json_array_add_int_element (shape, 3);
  JsonNode *sn = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (sn, shape);
  g_assert_true (gradus_doc_model_set_member (m, id, "shape", sn, NULL));
  /* a float64[3] where the state power is a float64 scalar */
  g_assert_false (gradus_doc_model_connect (m, "terms", 0, id, &refused));
  g_assert_nonnull (refused);
  g_test_message ("refused: %s", refused ? refused->message : "(none)");
  g_assert_true (gradus_doc_model_undo (m));   /* the shape */
  g_assert_true (gradus_doc_model_undo (m));   /* the output */
  /* a body node reading an outer shared/constant by id is typed */
  g_assert_null (gradus_doc_model_node_error (m, add));
  gradus_scan_close (m);
  g_assert_null (gradus_scan_get_open (m));
  g_assert_nonnull (gradus_doc_model_get_node (m, "terms"));
  g_assert_null (gradus_doc_model_get_node (m, add));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  adw_init ();
  ui_xtest_init ();
  tmpdir = g_dir_make_tmp ("gradus-scan-XXXXXX", NULL);
  g_test_add_func ("/ui/scan/model-scope", test_model_scope);
  g_test_add_func ("/ui/scan/zone-edit-run-save", test_zone_edit_run_save);
  g_test_add_func ("/ui/scan/gradient-through-scan", test_gradient_through_scan);
  g_test_add_func ("/ui/scan/random-histogram", test_random_histogram);
  g_test_add_func ("/ui/scan/shots", test_shots);
  return g_test_run ();
}
