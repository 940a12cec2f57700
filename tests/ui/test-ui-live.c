/* test-ui-live.c: live values on the canvas (Xvfb): the card's text for
 * scalars, vectors and matrices against statistics computed here; the value
 * on the wire out of the primer's `mse` after three steps in the run panel,
 * against `gradus run`; values of the gradient graph's wires; an edit clears
 * them; the NaN badge on the node the guard names. */
#include "gradus-window.h"
#include "gradus-live.h"
#include "gradus-run-panel.h"

#include "ui-test-util.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static char *tmpdir;

#define SPIN_UNTIL(cond) UI_TEST_SPIN_UNTIL (cond, 10)

static GradusWindow *
open_window (const char *path)
{
  GradusWindow *w = gradus_window_new (NULL);
  gtk_window_set_default_size (GTK_WINDOW (w), 1200, 800);
  gtk_window_present (GTK_WINDOW (w));
  SPIN_UNTIL (gtk_widget_get_mapped (GTK_WIDGET (w)));
  g_autoptr (GError) error = NULL;
  g_assert_true (gradus_window_open_path (w, path, &error));
  g_assert_no_error (error);
  /* The run panel takes the document 250 ms after it changes. */
  GradusRunPanel *run = GRADUS_RUN_PANEL (gradus_window_get_run_panel (w));
  SPIN_UNTIL (gradus_run_panel_get_steps (run) > 0 && gradus_run_panel_get_n_calls (run) == 0
              && gradus_run_panel_get_action_group (run) != NULL);
  ui_test_spin (400);
  g_assert_null (gradus_run_panel_get_error (run));
  return w;
}

/* The number after `key` in `text`. */
static double
number_after (const char *text, const char *key)
{
  const char *p = strstr (text, key);
  g_assert_nonnull (p);
  char *end;
  double v = g_ascii_strtod (p + strlen (key), &end);
  g_assert_true (end != p + strlen (key));
  return v;
}

static void
check_stats (const char *text, const double *v, gsize n, gint64 want_nan, gint64 want_inf)
{
  double lo = INFINITY, hi = -INFINITY, sum = 0;
  gsize finite = 0;
  for (gsize i = 0; i < n; i++)
    if (isfinite (v[i])) {
      lo = MIN (lo, v[i]);
      hi = MAX (hi, v[i]);
      sum += v[i];
      finite++;
    }
  g_assert_cmpfloat_with_epsilon (number_after (text, "min "), lo, 1e-9 * MAX (1, fabs (lo)));
  g_assert_cmpfloat_with_epsilon (number_after (text, "max "), hi, 1e-9 * MAX (1, fabs (hi)));
  double mean = sum / finite;
  g_assert_cmpfloat_with_epsilon (number_after (text, "mean "), mean, 1e-9 * MAX (1, fabs (mean)));
  if (want_nan || want_inf) {
    g_assert_cmpint ((gint64) number_after (text, "NaN "), ==, want_nan);
    g_assert_cmpint ((gint64) number_after (text, "Inf "), ==, want_inf);
  } else
    g_assert_null (strstr (text, "NaN"));
}

static void
test_describe (void)
{
  g_autoptr (GrdTensor) s = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, -2.75);
  g_autofree char *st = gradus_live_describe (s);
  g_assert_true (g_str_has_prefix (st, "float64 scalar\n"));
  g_assert_cmpfloat (number_after (st, "value "), ==, -2.75);
  g_assert_null (strstr (st, "min "));

  double vec[7];
  for (int i = 0; i < 7; i++)
    vec[i] = sin (i * 0.9) * 3 + i * 0.25;
  gint64 vshape[] = { 7 };
  g_autoptr (GrdTensor) v = grd_tensor_new_from_doubles (GRD_DTYPE_FLOAT64, 1, vshape, vec);
  g_autofree char *vt = gradus_live_describe (v);
  g_assert_true (g_str_has_prefix (vt, "float64[7]"));
  check_stats (vt, vec, 7, 0, 0);

  double mat[12];
  for (int i = 0; i < 12; i++)
    mat[i] = (i % 5) - 2.5 + i * 0.125;
  mat[4] = NAN;
  mat[9] = INFINITY;
  mat[10] = -INFINITY;
  gint64 mshape[] = { 3, 4 };
  g_autoptr (GrdTensor) m = grd_tensor_new_from_doubles (GRD_DTYPE_FLOAT64, 2, mshape, mat);
  g_autofree char *mt = gradus_live_describe (m);
  g_assert_true (g_str_has_prefix (mt, "float64[3,4]"));
  check_stats (mt, mat, 12, 1, 2);

  /* float32 values are read as the float32 they hold. */
  gint64 m3[] = { 2, 2, 2 };
  double cube[8] = { 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8 };
  g_autoptr (GrdTensor) c = grd_tensor_new_from_doubles (GRD_DTYPE_FLOAT32, 3, m3, cube);
  g_autofree char *ct = gradus_live_describe (c);
  g_assert_true (g_str_has_prefix (ct, "float32[2,2,2]"));
  double cube32[8];
  for (int i = 0; i < 8; i++)
    cube32[i] = (float) cube[i];
  check_stats (ct, cube32, 8, 0, 0);

  /* The picture is drawn for each rank without trouble. */
  cairo_surface_t *surf = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 300, 200);
  cairo_t *cr = cairo_create (surf);
  GrdTensor *all[] = { s, v, m, c };
  for (int i = 0; i < 4; i++)
    gradus_live_draw_card (cr, 10, 10, 300, 200, "ref", all[i], i % 2);
  gradus_live_draw_badge (cr, 10, 190, "NaN at call 3");
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  cairo_surface_destroy (surf);
}

/* The edge from scene node `from_id` (first output) whose wire is hovered. */
static gint
edge_from (GradusScene *scene, const char *from_id)
{
  gint from = gradus_scene_find (scene, from_id);
  g_assert_cmpint (from, >=, 0);
  for (guint e = 0; e < scene->edges->len; e++) {
    GradusSceneEdge *ed = &g_array_index (scene->edges, GradusSceneEdge, e);
    if (ed->from == from && !ed->to_output)
      return e;
  }
  return -1;
}

static void
hover_edge_mid (GradusCanvas *c, gint e)
{
  double mx, my;
  gradus_scene_edge_point (gradus_canvas_get_scene (c), e, 0.5, &mx, &my);
  /* Within the tolerance, a little off the curve. */
  gradus_canvas_hover_at (c, mx + 1, my - 1.5 / gradus_canvas_get_zoom (c));
  ui_test_spin (30);
}

/* The mse `gradus run --steps 3` prints for step 2. */
static double
cli_mse_step2 (const char *file)
{
  const char *bin = g_getenv ("GRADUS_BINARY");
  g_assert_nonnull (bin);
  const char *argv[] = { bin, "run", file, "--steps", "3", NULL };
  g_autofree char *out = NULL;
  gint status;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL,
                               &status, &error));
  g_assert_no_error (error);
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), >=, 3);
  g_autoptr (JsonParser) p = json_parser_new ();
  g_assert_true (json_parser_load_from_data (p, lines[2], -1, NULL));
  JsonObject *o = json_node_get_object (json_parser_get_root (p));
  g_assert_cmpint (json_object_get_int_member (o, "step"), ==, 2);
  return json_array_get_double_element (json_object_get_array_member (o, "outputs"), 0);
}

static void
test_hover_mse (void)
{
  g_autofree char *file = g_build_filename (g_getenv ("GRADUS_SOURCE_DIR"), "data", "examples",
                                            "primer-3-linear-regression.gradus", NULL);
  GradusWindow *w = open_window (file);
  GradusCanvas *c = gradus_window_get_canvas (w);
  GradusRunPanel *run = GRADUS_RUN_PANEL (gradus_window_get_run_panel (w));
  g_assert_null (gradus_canvas_get_live_values (c));

  for (int i = 1; i <= 3; i++) {
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (w), "run.step", NULL));
    SPIN_UNTIL (gradus_run_panel_get_n_calls (run) == i && !gradus_run_panel_is_running (run)
                && gradus_canvas_get_live_values (c) != NULL);
    g_assert_cmpint (gradus_run_panel_get_n_calls (run), ==, i);
  }
  ui_test_spin (50);
  g_assert_nonnull (gradus_canvas_get_live_values (c));

  /* Reference: a naive loop of the primer's gradient descent, and the CLI. */
  double a = -1, b = 0, x = 1, t = 5, mse = 0;
  for (int step = 0; step < 3; step++) {
    double err = a * x + b - t;
    mse = err * err;
    a -= 0.01 * 2 * err * x;
    b -= 0.01 * 2 * err;
  }
  double cli = cli_mse_step2 (file);
  g_assert_cmpfloat_with_epsilon (cli, mse, 1e-9);

  GradusScene *scene = gradus_canvas_get_scene (c);
  gint e = edge_from (scene, "mse");
  g_assert_cmpint (e, >=, 0);
  g_autofree char *ref = gradus_scene_edge_source_ref (scene, e);
  g_assert_cmpstr (ref, ==, "mse");
  /* Away from every wire: no card. */
  gradus_canvas_hover_at (c, -10000, -10000);
  g_assert_null (gradus_canvas_get_hover_text (c));
  hover_edge_mid (c, e);
  const char *text = gradus_canvas_get_hover_text (c);
  g_assert_nonnull (text);
  g_test_message ("hover: %s", text);
  g_assert_true (g_str_has_prefix (text, "mse\n"));
  g_assert_nonnull (strstr (text, "\nfloat64 scalar\n"));
  g_assert_nonnull (strstr (text, "30.57647616"));
  g_assert_cmpfloat_with_epsilon (number_after (text, "value "), cli, 1e-8);

  /* A grad output's wire carries "g:k": d mse / d a at the last call. */
  e = edge_from (scene, "g");
  g_assert_cmpint (e, >=, 0);
  g_autofree char *gref = gradus_scene_edge_source_ref (scene, e);
  g_assert_true (g_str_has_prefix (gref, "g:"));
  hover_edge_mid (c, e);
  text = gradus_canvas_get_hover_text (c);
  g_assert_nonnull (text);
  g_assert_true (g_str_has_prefix (text, gref));

  /* A screenshot of the card on the mse wire. */
  e = edge_from (gradus_canvas_get_scene (c), "mse");
  hover_edge_mid (c, e);
  gtk_widget_queue_draw (GTK_WIDGET (c));
  ui_test_spin (200);
  g_autofree char *png = g_build_filename (tmpdir, "live-values.png", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (gradus_window_screenshot (w, png, &error));
  g_assert_no_error (error);
  g_autofree char *data = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (png, &data, &len, NULL));
  g_assert_cmpuint (len, >, 8);
  g_assert_cmpint (memcmp (data, "\x89PNG", 4), ==, 0);
  const char *keep = g_getenv ("GRADUS_LIVE_SCREENSHOT");
  if (keep && *keep)
    g_assert_true (g_file_set_contents (keep, data, len, NULL));

  /* The gradient graph's wires: keys are the engine's generated ids. */
  gradus_canvas_set_gradient_shown (c, "g", TRUE);
  ui_test_spin (30);
  g_assert_nonnull (gradus_canvas_get_live_values (c));
  scene = gradus_canvas_get_scene (c);
  gint derived = -1;
  for (guint i = 0; i < scene->edges->len && derived < 0; i++) {
    GradusSceneEdge *ed = &g_array_index (scene->edges, GradusSceneEdge, i);
    GradusSceneNode *from = scene->nodes->pdata[ed->from];
    if (ed->derived && !ed->to_output && from->readonly)
      derived = i;
  }
  g_assert_cmpint (derived, >=, 0);
  g_autofree char *dref = gradus_scene_edge_source_ref (scene, derived);
  GrdTensor *dval = g_hash_table_lookup (gradus_canvas_get_live_values (c), dref);
  g_assert_nonnull (dval);
  hover_edge_mid (c, derived);
  text = gradus_canvas_get_hover_text (c);
  g_assert_nonnull (text);
  g_autofree char *want = gradus_live_card_text (dref, dval);
  g_assert_cmpstr (text, ==, want);

  /* Moving a node keeps the values; an edit of the graph clears them. */
  const char *ids[] = { "lr", NULL };
  gradus_doc_model_move_nodes (gradus_window_get_model (w), ids, 5, 5);
  ui_test_spin (10);
  g_assert_nonnull (gradus_canvas_get_live_values (c));
  JsonObject *lr = gradus_doc_model_get_node (gradus_window_get_model (w), "lr");
  g_assert_nonnull (lr);
  gradus_canvas_set_selection (c, ids);
  g_autoptr (GError) e2 = NULL;
  g_assert_true (gradus_inspector_apply (gradus_window_get_inspector (w), "value", "0.02", &e2));
  g_assert_no_error (e2);
  ui_test_spin (10);
  g_assert_null (gradus_canvas_get_live_values (c));
  g_assert_null (gradus_canvas_get_hover_text (c));

  gtk_window_destroy (GTK_WINDOW (w));
  ui_test_spin (20);
}

/* From tests/ui-run/test-run-panel.c: w goes 2.5, 1.5, 0.5, -0.5, so
 * log(w * x) is NaN at call 3, first in node `lw`. */
static const char nan_graph[] =
  "{\"format\": \"gradus-graph\", \"version\": 1, \"nodes\": ["
  " {\"id\": \"x\", \"kind\": \"variable\", \"dtype\": \"float64\", \"shape\": []},"
  " {\"id\": \"w\", \"kind\": \"shared\", \"dtype\": \"float64\", \"value\": 2.5},"
  " {\"id\": \"one\", \"kind\": \"constant\", \"dtype\": \"float64\", \"value\": 1},"
  " {\"id\": \"three\", \"kind\": \"constant\", \"dtype\": \"float64\", \"value\": 3},"
  " {\"id\": \"wx\", \"kind\": \"op\", \"op\": \"mul\", \"inputs\": [\"w\", \"x\"]},"
  " {\"id\": \"lw\", \"kind\": \"op\", \"op\": \"log\", \"inputs\": [\"wx\"]},"
  " {\"id\": \"out\", \"kind\": \"op\", \"op\": \"mul\", \"inputs\": [\"lw\", \"three\"]},"
  " {\"id\": \"w_next\", \"kind\": \"op\", \"op\": \"sub\", \"inputs\": [\"w\", \"one\"]}],"
  " \"function\": {\"inputs\": [\"x\"], \"outputs\": [\"out\"],"
  "  \"updates\": [{\"shared\": \"w\", \"value\": \"w_next\"}]},"
  " \"run\": {\"steps\": 10, \"feeds\": {\"x\": 1.0}}}";

static void
test_nan_badge (void)
{
  g_autofree char *file = g_build_filename (tmpdir, "nan.gradus", NULL);
  g_assert_true (g_file_set_contents (file, nan_graph, -1, NULL));
  GradusWindow *w = open_window (file);
  GradusCanvas *c = gradus_window_get_canvas (w);
  GradusRunPanel *run = GRADUS_RUN_PANEL (gradus_window_get_run_panel (w));
  g_assert_null (gradus_canvas_get_nan_badge (c, NULL));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (w), "run.run", NULL));
  SPIN_UNTIL (!gradus_run_panel_is_running (run) && gradus_canvas_get_nan_badge (c, NULL) != NULL);
  const char *node = NULL;
  const char *badge = gradus_canvas_get_nan_badge (c, &node);
  g_assert_cmpstr (badge, ==, "NaN at call 3");
  g_assert_cmpstr (node, ==, "lw");
  ui_test_spin (50);
  /* The values of call 3: lw = log(-0.5), a NaN the card counts. */
  g_assert_nonnull (gradus_canvas_get_live_values (c));
  GradusScene *scene = gradus_canvas_get_scene (c);
  gint e = edge_from (scene, "lw");
  g_assert_cmpint (e, >=, 0);
  hover_edge_mid (c, e);
  const char *text = gradus_canvas_get_hover_text (c);
  g_assert_nonnull (text);
  g_assert_true (g_str_has_prefix (text, "lw\n"));
  g_assert_cmpint ((gint64) number_after (text, "NaN "), ==, 1);
  /* wx = w * x = -0.5 at call 3. */
  e = edge_from (scene, "wx");
  hover_edge_mid (c, e);
  g_assert_cmpfloat (number_after (gradus_canvas_get_hover_text (c), "value "), ==, -0.5);

  /* An edit clears the badge with the values. */
  const char *ids[] = { "three", NULL };
  gradus_canvas_set_selection (c, ids);
  g_autoptr (GError) error = NULL;
  g_assert_true (gradus_inspector_apply (gradus_window_get_inspector (w), "value", "4", &error));
  g_assert_no_error (error);
  ui_test_spin (10);
  g_assert_null (gradus_canvas_get_nan_badge (c, NULL));
  g_assert_null (gradus_canvas_get_live_values (c));

  gtk_window_destroy (GTK_WINDOW (w));
  ui_test_spin (20);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  adw_init ();
  tmpdir = g_dir_make_tmp ("gradus-live-XXXXXX", NULL);
  g_test_add_func ("/ui/live/describe", test_describe);
  g_test_add_func ("/ui/live/hover-mse", test_hover_mse);
  g_test_add_func ("/ui/live/nan-badge", test_nan_badge);
  int rc = g_test_run ();
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmpdir);
  (void) !system (cmd);
  return rc;
}
