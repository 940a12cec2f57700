/* test-ui-groups.c: organising a graph (ui/organise): frames and comments in
 * the model (undoable, saved under "ui", drawn below the nodes), then with
 * real input under Xvfb: a frame made with the shortcut around the selection,
 * dragged by its title bar with its nodes, undone, a comment
 * made with the other shortcut and typed. */
#include "gradus-window.h"
#include "gradus-render.h"
#include "organise/gradus-organise.h"
#include "organise/gradus-organise-groups.h"
#include "gradus-palette.h"
#include "gradus-keyboard.h"
#include "run/gradus-run-panel.h"
#include "ui-xtest.h"
#include "ui-test-util.h"

#include <X11/keysym.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static char *tmpdir;

static char *
example (const char *name)
{
  return g_build_filename (g_getenv ("GRADUS_SOURCE_DIR"), "data", "examples", name, NULL);
}

static GradusFrame *
only_frame (GPtrArray *frames)
{
  g_assert_cmpuint (frames->len, ==, 1);
  return frames->pdata[0];
}

static void
position (GradusDocModel *m, const char *id, double *x, double *y)
{
  g_assert_true (gradus_doc_model_get_position (m, id, x, y));
}

static void
test_frames_in_model (void)
{
  g_autoptr (GradusDocModel) m = gradus_doc_model_new ();
  g_autofree char *path = example ("primer-3-linear-regression.gradus");
  g_autoptr (GError) error = NULL;
  g_assert_true (gradus_doc_model_load_file (m, path, &error));
  const char *ids[] = { "ax", "y", NULL };
  double ax, ay, yx, yy, tx, ty;
  position (m, "ax", &ax, &ay);
  position (m, "y", &yx, &yy);
  position (m, "t", &tx, &ty);
  g_autofree char *fid = gradus_organise_add_frame (m, ids, "model", 0x33d17a, 0, 0);
  g_assert_cmpstr (fid, ==, "frame1");
  g_autoptr (GPtrArray) frames = gradus_organise_frames (m);
  GradusFrame *f = only_frame (frames);
  g_assert_cmpstr (f->title, ==, "model");
  g_assert_cmphex (f->colour, ==, 0x33d17a);
  /* it encloses exactly the two nodes (their corners), with a title bar above */
  g_assert_cmpfloat (f->x, <, MIN (ax, yx));
  g_assert_cmpfloat (f->y + 30, <, MIN (ay, yy));
  g_auto (GStrv) inside = gradus_organise_frame_nodes (m, fid);
  g_assert_true (g_strv_contains ((const char *const *) inside, "ax"));
  g_assert_true (g_strv_contains ((const char *const *) inside, "y"));
  double fx = f->x, fy = f->y;

  /* moving the frame moves its nodes, not the others; one undo puts all back */
  g_assert_true (gradus_organise_move_frame (m, fid, 100, -40));
  double nx, ny;
  position (m, "ax", &nx, &ny);
  g_assert_cmpfloat (nx, ==, ax + 100);
  g_assert_cmpfloat (ny, ==, ay - 40);
  position (m, "t", &nx, &ny);
  g_assert_cmpfloat (nx, ==, tx);
  g_assert_cmpstr (gradus_doc_model_undo_label (m), ==, "Move frame");
  g_assert_true (gradus_doc_model_undo (m));
  position (m, "ax", &nx, &ny);
  g_assert_cmpfloat (nx, ==, ax);
  g_autoptr (GPtrArray) back = gradus_organise_frames (m);
  g_assert_cmpfloat (only_frame (back)->x, ==, fx);
  g_assert_cmpfloat (only_frame (back)->y, ==, fy);

  g_autofree char *cid = gradus_organise_add_comment (m, "the chain rule\nat work", 40, 500);
  g_assert_true (gradus_organise_set_comment (m, cid, "d mse / d a", &error));
  g_assert_false (gradus_organise_set_comment (m, "nope", "x", &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_autofree char *hit = gradus_organise_hit_comment (m, 45, 505);
  g_assert_cmpstr (hit, ==, cid);
  g_autofree char *title_hit = gradus_organise_hit_frame_title (m, fx + 10, fy + 10);
  g_assert_cmpstr (title_hit, ==, fid);

  /* saved under "ui", read back, and the engine still runs the file */
  g_autofree char *out = g_build_filename (tmpdir, "framed.gradus", NULL);
  g_assert_true (gradus_doc_model_save (m, out, &error));
  g_autoptr (GrdDocument) doc = grd_document_load (out, &error);
  g_assert_no_error (error);
  g_autoptr (GradusDocModel) again = gradus_doc_model_new ();
  g_assert_true (gradus_doc_model_load_file (again, out, &error));
  g_autoptr (GPtrArray) fr = gradus_organise_frames (again);
  g_assert_cmpstr (only_frame (fr)->title, ==, "model");
  g_autoptr (GPtrArray) cm = gradus_organise_comments (again);
  g_assert_cmpuint (cm->len, ==, 1);
  g_assert_cmpstr (((GradusComment *) cm->pdata[0])->text, ==, "d mse / d a");

  /* drawn: the frame's tint under its title bar, the note's yellow */
  g_autoptr (GradusScene) scene = gradus_scene_new (again, NULL, NULL);
  g_assert_cmpuint (scene->frames->len, ==, 1);
  double bx, by, bw, bh;
  g_assert_true (gradus_scene_bounds (scene, &bx, &by, &bw, &bh));
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, (int) bw + 2, (int) bh + 2);
  cairo_t *cr = cairo_create (s);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_translate (cr, -bx, -by);
  GradusRenderOptions o = { 0 };
  gradus_render_scene (cr, scene, &o);
  cairo_destroy (cr);
  cairo_surface_flush (s);
  guint32 *px = (guint32 *) cairo_image_surface_get_data (s);
  int stride = cairo_image_surface_get_stride (s) / 4;
  guint32 title = px[(int) (fy - by + 4) * stride + (int) (fx - bx + 4 + 2)] & 0xffffff;
  guint32 note = px[(int) (500 - by + 3) * stride + (int) (40 - bx + 3)] & 0xffffff;
  cairo_surface_destroy (s);
  /* green tint: more green than red or blue */
  g_assert_cmpuint ((title >> 8) & 0xff, >, (title >> 16) & 0xff);
  g_assert_cmpuint ((title >> 8) & 0xff, >, title & 0xff);
  /* yellow: blue well below red and green */
  g_assert_cmpuint (note & 0xff, <, ((note >> 16) & 0xff) - 40);

  g_assert_true (gradus_organise_remove (again, cid));
  g_autoptr (GPtrArray) none = gradus_organise_comments (again);
  g_assert_cmpuint (none->len, ==, 0);
}

static void
test_frame_with_real_input (void)
{
  g_autofree char *path = example ("primer-3-linear-regression.gradus");
  GradusWindow *w = ui_open_window (path, 1280, 800);
  GradusCanvas *canvas = gradus_window_get_canvas (w);
  GradusDocModel *m = gradus_window_get_model (w);
  gradus_canvas_zoom_reset (canvas);
  ui_xtest_spin (100);
  const char *sel[] = { "ax", "y", NULL };
  gradus_canvas_set_selection (canvas, sel);
  double ax, ay, tx, ty;
  position (m, "ax", &ax, &ay);
  position (m, "t", &tx, &ty);

  /* Ctrl+Shift+F: a frame around the selection, its editor open on the title */
  gtk_widget_grab_focus (GTK_WIDGET (canvas));
  ui_xtest_spin (50);
  ui_key (XK_Control_L, TRUE);
  ui_key (XK_Shift_L, TRUE);
  ui_key (XK_f, TRUE);
  ui_key (XK_f, FALSE);
  ui_key (XK_Shift_L, FALSE);
  ui_key (XK_Control_L, FALSE);
  ui_xtest_spin (200);
  g_autoptr (GPtrArray) frames = gradus_organise_frames (m);
  GradusFrame *f = only_frame (frames);
  /* type a title and press Enter */
  ui_tap (XK_Control_L, XK_a);
  ui_tap (0, XK_l);
  ui_tap (0, XK_i);
  ui_tap (0, XK_n);
  ui_tap (0, XK_Return);
  ui_xtest_spin (200);
  g_autoptr (GPtrArray) titled = gradus_organise_frames (m);
  g_assert_cmpstr (only_frame (titled)->title, ==, "lin");
  ui_tap (0, XK_Escape);
  ui_xtest_spin (200);

  /* drag the title bar: the frame and both nodes follow, t stays */
  gradus_canvas_zoom_to_fit (canvas);
  ui_xtest_spin (200);
  double fx = f->x, fy = f->y;
  double wx, wy, zoom = gradus_canvas_get_zoom (canvas);
  gradus_canvas_widget_to_graph (canvas, 0, 0, &wx, &wy);
  /* the title bar is on screen */
  g_assert_cmpfloat ((fy + 12 - wy) * zoom, >, 0);
  g_assert_cmpfloat ((fy + 12 - wy) * zoom, <, gtk_widget_get_height (GTK_WIDGET (canvas)));
  ui_drag_graph (w, 1, fx + 20, fy + 12, fx + 140, fy + 72, 8);
  ui_xtest_spin (200);
  g_autoptr (GPtrArray) moved = gradus_organise_frames (m);
  g_assert_cmpfloat (fabs (only_frame (moved)->x - (fx + 120)), <=, 2);
  g_assert_cmpfloat (fabs (only_frame (moved)->y - (fy + 60)), <=, 2);
  double nx, ny;
  position (m, "ax", &nx, &ny);
  g_assert_cmpfloat (fabs (nx - (ax + 120)), <=, 2);
  g_assert_cmpfloat (fabs (ny - (ay + 60)), <=, 2);
  position (m, "t", &nx, &ny);
  g_assert_cmpfloat (nx, ==, tx);
  g_assert_cmpfloat (ny, ==, ty);

  /* one undo (the window's action: accelerators belong to the application,
   * which this test has none of) puts the frame and its nodes back */
  g_assert_cmpstr (gradus_doc_model_undo_label (m), ==, "Move frame");
  gtk_widget_activate_action (GTK_WIDGET (w), "win.undo", NULL);
  ui_xtest_spin (200);
  position (m, "ax", &nx, &ny);
  g_assert_cmpfloat (nx, ==, ax);
  g_assert_cmpfloat (ny, ==, ay);

  /* Ctrl+Shift+M: a comment at the pointer, typed in its editor */
  int rx, ry;
  ui_graph_to_root (w, tx, ty + 200, &rx, &ry);
  ui_move_to (rx, ry);
  ui_key (XK_Control_L, TRUE);
  ui_key (XK_Shift_L, TRUE);
  ui_key (XK_m, TRUE);
  ui_key (XK_m, FALSE);
  ui_key (XK_Shift_L, FALSE);
  ui_key (XK_Control_L, FALSE);
  ui_xtest_spin (200);
  ui_tap (XK_Control_L, XK_a);
  ui_tap (0, XK_o);
  ui_tap (0, XK_k);
  ui_tap (0, XK_Return);
  ui_xtest_spin (200);
  g_autoptr (GPtrArray) comments = gradus_organise_comments (m);
  g_assert_cmpuint (comments->len, ==, 1);
  g_assert_cmpstr (((GradusComment *) comments->pdata[0])->text, ==, "ok");
  g_assert_cmpfloat (fabs (((GradusComment *) comments->pdata[0])->y - (ty + 200)), <=, 2);
  gradus_doc_model_set_modified (m, FALSE);
  gtk_window_destroy (GTK_WINDOW (w));
  ui_xtest_spin (100);
}

/* The gradient graph of `grad` in example `name`, as the canvas draws it:
 * every derived node named without engine ids; returns the titles. */
static GPtrArray *
gradient_titles (const char *name, const char *grad, guint *n_drawn)
{
  g_autoptr (GradusDocModel) m = gradus_doc_model_new ();
  g_autofree char *path = example (name);
  g_autoptr (GError) error = NULL;
  g_assert_true (gradus_doc_model_load_file (m, path, &error));
  g_autoptr (GHashTable) expanded = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_add (expanded, (gpointer) grad);
  g_autoptr (GradusScene) scene = gradus_scene_new (m, expanded, NULL);
  GPtrArray *titles = g_ptr_array_new_with_free_func (g_free);
  *n_drawn = 0;
  for (guint i = 0; i < scene->nodes->len; i++) {
    GradusSceneNode *n = scene->nodes->pdata[i];
    if (n->group < 0)
      continue;
    (*n_drawn)++;
    g_test_message ("%s: %s (%s)", name, n->title, n->subtitle);
    /* no internal id: "_3", "_unreduce" */
    g_assert_false (n->title[0] == '_');
    g_assert_null (strstr (n->subtitle, n->id));
    g_ptr_array_add (titles, g_strdup (n->title));
  }
  return titles;
}

static gboolean
has_title (GPtrArray *titles, const char *t)
{
  for (guint i = 0; i < titles->len; i++)
    if (g_str_equal (titles->pdata[i], t))
      return TRUE;
  return FALSE;
}

static void
test_gradient_graph_shown (void)
{
  guint n;
  /* sum(x ** 2): the engine derives 8 nodes; x ** 1, the broadcast ones and
   * the reduce to x's own shape are identities: 2 * x is what is left */
  g_autoptr (GPtrArray) p2 = gradient_titles ("primer-2-grad-sum-x2.gradus", "g", &n);
  g_assert_cmpuint (n, <=, 3);
  g_assert_true (has_title (p2, "d sum / d x"));
  g_autoptr (GPtrArray) p3 = gradient_titles ("primer-3-linear-regression.gradus", "g", &n);
  g_assert_true (has_title (p3, "d squared error / d b"));
  g_assert_cmpuint (n, <=, 4);
  g_assert_true (has_title (p3, "d squared error / d a"));
  g_assert_cmpuint (n, >, 0);
  g_autoptr (GPtrArray) mlp = gradient_titles ("mlp-digits.gradus", "g", &n);
  g_assert_cmpuint (n, >, 5);
  gboolean rule = FALSE;
  for (guint i = 0; i < mlp->len; i++)
    rule |= g_str_has_prefix (mlp->pdata[i], "grad of ");
  g_assert_true (rule);
}

/* A file with group nodes in the editor: ports as the definition has inputs,
 * types through the engine's expansion, a disconnected input named. */
static void
test_group_file_in_editor (void)
{
  g_autoptr (GradusDocModel) m = gradus_doc_model_new ();
  g_autofree char *path = g_build_filename (g_getenv ("GRADUS_SOURCE_DIR"), "tests", "data",
                                            "groups-mlp.gradus", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (gradus_doc_model_load_file (m, path, &error));
  g_assert_null (gradus_doc_model_get_build_error (m));
  g_assert_cmpint (gradus_doc_model_node_n_slots (m, "layer2"), ==, 3);
  g_assert_null (gradus_doc_model_node_error (m, "layer2"));
  g_assert_null (gradus_doc_model_node_error (m, "cost"));
  g_assert_true (gradus_doc_model_disconnect (m, "layer2", 2));
  g_assert_cmpint (gradus_doc_model_node_n_slots (m, "layer2"), ==, 3);
  const char *err = gradus_doc_model_node_error (m, "layer2");
  g_assert_nonnull (err);
  g_assert_nonnull (strstr (err, "input 3 of group dense"));
  g_assert_nonnull (gradus_doc_model_node_error (m, "cost"));
  g_assert_true (gradus_doc_model_connect (m, "layer2", 2, "b2", &error));
  g_assert_no_error (error);
  g_assert_null (gradus_doc_model_node_error (m, "cost"));
  g_assert_true (gradus_doc_model_undo (m));
  g_assert_nonnull (gradus_doc_model_node_error (m, "layer2"));
}

/* ------------------------------------------------------------ groups made in the editor */

/* What `gradus run FILE --steps 3` prints: outputs and shared values of each call. */
static char *
cli_run (const char *file)
{
  const char *bin = g_getenv ("GRADUS_BINARY");
  g_assert_nonnull (bin);
  const char *argv[] = { bin, "run", file, "--steps", "3", NULL };
  g_autofree char *out = NULL, *err = NULL;
  gint status;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                               &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("gradus run %s failed: %s", file, err);
  return g_steal_pointer (&out);
}

static char *
save_tmp (GradusDocModel *m, const char *name)
{
  char *path = g_build_filename (tmpdir, name, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (gradus_doc_model_save (m, path, &error));
  g_assert_no_error (error);
  return path;
}

static char *
tree_text (GradusDocModel *m)
{
  JsonNode *root = gradus_doc_model_get_root (m);
  g_autoptr (JsonNode) copy = gradus_json_deep_copy (root);
  /* the view is not part of an edit */
  JsonObject *ui = json_object_get_object_member (json_node_get_object (copy), "ui");
  if (ui)
    json_object_remove_member (ui, "view");
  return json_to_string (copy, FALSE);
}

static JsonObject *
definition (GradusDocModel *m, const char *node)
{
  JsonObject *g = gradus_doc_model_get_node (m, node);
  g_assert_nonnull (g);
  g_assert_cmpstr (json_object_get_string_member (g, "kind"), ==, "group");
  JsonObject *defs = json_object_get_object_member (json_node_get_object (gradus_doc_model_get_root (m)), "groups");
  return json_object_get_object_member (defs, json_object_get_string_member (g, "group"));
}

static void
test_group_make_in_model (void)
{
  g_autofree char *flat = example ("primer-3-linear-regression.gradus");
  g_autofree char *want = cli_run (flat);
  g_autoptr (GradusDocModel) m = gradus_doc_model_new ();
  g_autoptr (GError) error = NULL;
  g_assert_true (gradus_doc_model_load_file (m, flat, &error));
  g_autofree char *before = tree_text (m);

  /* the model: a * x + b - t, squared; the variables and shared a stay outside */
  const char *sel[] = { "x", "a", "ax", "y", "err", "two", "mse", NULL };
  g_autofree char *id = gradus_group_make (m, sel, "squared error", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id, ==, "squared_error");
  g_assert_null (gradus_doc_model_get_build_error (m));
  g_assert_null (gradus_doc_model_get_node (m, "mse"));
  g_assert_nonnull (gradus_doc_model_get_node (m, "a"));
  JsonObject *def = definition (m, id);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (def, "nodes")), ==, 5);
  JsonArray *in = json_object_get_array_member (def, "inputs");
  g_assert_cmpuint (json_array_get_length (in), ==, 4);
  g_assert_cmpstr (json_array_get_string_element (in, 0), ==, "a");
  g_assert_cmpstr (json_array_get_string_element (in, 3), ==, "t");
  JsonArray *out = json_object_get_array_member (def, "outputs");
  g_assert_cmpuint (json_array_get_length (out), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (out, 0), ==, "mse");
  /* the wires leaving it now leave the group node: the grad's cost, the output */
  g_assert_cmpstr (gradus_doc_model_node_slot_ref (m, "g", 0), ==, id);
  g_assert_true (gradus_doc_model_in_function (m, "outputs", id));
  g_assert_cmpint (gradus_doc_model_node_n_slots (m, id), ==, 4);
  g_assert_null (gradus_doc_model_node_error (m, "g"));
  g_assert_cmpstr (gradus_doc_model_undo_label (m), ==, "Group");

  /* the same numbers as the flat file, gradients through the group included */
  g_autofree char *grouped = save_tmp (m, "grouped.gradus");
  g_autofree char *got = cli_run (grouped);
  g_assert_cmpstr (got, ==, want);

  /* the scene: one box with the definition's ports */
  g_autoptr (GradusScene) scene = gradus_scene_new (m, NULL, NULL);
  GradusSceneNode *gn = scene->nodes->pdata[gradus_scene_find (scene, id)];
  g_assert_cmpstr (gn->title, ==, "squared error");
  g_assert_cmpuint (gn->in_labels->len, ==, 4);
  g_assert_cmpuint (gn->out_labels->len, ==, 1);
  g_assert_true (g_str_has_prefix (gn->out_labels->pdata[0], "mse  float64"));

  /* the gradient graph of the cost through the group, as the canvas shows it:
   * derived nodes named after the forward nodes inside the group */
  g_autoptr (GHashTable) expanded = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_add (expanded, (gpointer) "g");
  g_autoptr (GradusScene) grads = gradus_scene_new (m, expanded, NULL);
  guint derived = 0;
  for (guint i = 0; i < grads->nodes->len; i++) {
    GradusSceneNode *n = grads->nodes->pdata[i];
    if (n->group < 0)
      continue;
    derived++;
    g_test_message ("gradient through the group: %s", n->title);
    g_assert_false (n->title[0] == '_');
  }
  g_assert_cmpuint (derived, >, 0);

  /* open, close: the same definition again, the same numbers */
  g_assert_true (gradus_group_open (m, id, &error));
  g_assert_no_error (error);
  g_autofree char *open_name = NULL;
  g_autofree char *open_id = gradus_group_open_id (m, &open_name);
  g_assert_cmpstr (open_id, ==, id);
  g_assert_cmpstr (open_name, ==, "squared error");
  g_assert_null (gradus_doc_model_get_node (m, id));
  g_autofree char *inner = g_strdup_printf ("%s.mse", id);
  g_assert_true (gradus_group_is_inside (m, inner));
  g_assert_false (gradus_group_is_inside (m, "a"));
  g_assert_cmpstr (gradus_doc_model_node_slot_ref (m, "g", 0), ==, inner);
  g_autofree char *opened = save_tmp (m, "opened.gradus");
  g_autofree char *got_open = cli_run (opened);
  g_assert_cmpstr (got_open, ==, want);
  /* an edit inside: the constant 2 becomes 3 */
  g_autofree char *two = g_strdup_printf ("%s.two", id);
  g_assert_true (gradus_doc_model_set_member (m, two, "value", json_node_init_double (json_node_alloc (), 3.0), &error));
  g_assert_true (gradus_group_close (m, &error));
  g_assert_no_error (error);
  g_assert_null (gradus_group_open_id (m, NULL));
  def = definition (m, id);
  in = json_object_get_array_member (def, "inputs");
  g_assert_cmpstr (json_array_get_string_element (in, 0), ==, "a");
  g_assert_cmpstr (json_array_get_string_element (in, 3), ==, "t");
  g_autofree char *closed = save_tmp (m, "closed.gradus");
  g_autofree char *got_closed = cli_run (closed);
  g_assert_cmpstr (got_closed, !=, want);
  /* undo the close and the edit: the flat numbers again */
  g_assert_true (gradus_doc_model_undo (m));
  g_assert_true (gradus_doc_model_undo (m));
  g_assert_true (gradus_group_close (m, &error));
  g_autofree char *reclosed = save_tmp (m, "reclosed.gradus");
  g_autofree char *got_reclosed = cli_run (reclosed);
  g_assert_cmpstr (got_reclosed, ==, want);

  /* ungroup: the nodes back (prefixed), the definition gone */
  g_auto (GStrv) back = gradus_group_ungroup (m, id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (back), ==, 5);
  g_assert_false (json_object_has_member (json_node_get_object (gradus_doc_model_get_root (m)), "groups")
                  && json_object_get_size (json_object_get_object_member (json_node_get_object (gradus_doc_model_get_root (m)), "groups")) > 0);
  g_autofree char *ungrouped = save_tmp (m, "ungrouped.gradus");
  g_autofree char *got_ungrouped = cli_run (ungrouped);
  g_assert_cmpstr (got_ungrouped, ==, want);

  /* undo all the way: the file as it was */
  while (gradus_doc_model_can_undo (m))
    g_assert_true (gradus_doc_model_undo (m));
  g_autofree char *after = tree_text (m);
  g_assert_cmpstr (after, ==, before);
}

/* Two outputs, a cycle refused, nothing groupable refused. */
static void
test_group_boundaries (void)
{
  g_autofree char *flat = example ("primer-3-linear-regression.gradus");
  g_autofree char *want = cli_run (flat);
  g_autoptr (GradusDocModel) m = gradus_doc_model_new ();
  g_autoptr (GError) error = NULL;
  g_assert_true (gradus_doc_model_load_file (m, flat, &error));

  const char *vars[] = { "x", "a", NULL };
  g_assert_null (gradus_group_make (m, vars, NULL, &error));
  g_assert_error (error, GRD_ERROR, GRD_ERROR_GRAPH);
  g_clear_error (&error);
  /* y and mse inside, err outside: err would read the group and feed it */
  const char *cycle[] = { "y", "mse", NULL };
  g_assert_null (gradus_group_make (m, cycle, NULL, &error));
  g_assert_nonnull (strstr (error->message, "err"));
  g_clear_error (&error);
  g_assert_false (gradus_doc_model_can_undo (m));

  /* err and the constant 2 both leave: two outputs */
  const char *two_out[] = { "y", "err", "two", NULL };
  g_autofree char *id = gradus_group_make (m, two_out, NULL, &error);
  g_assert_no_error (error);
  JsonArray *out = json_object_get_array_member (definition (m, id), "outputs");
  g_assert_cmpuint (json_array_get_length (out), ==, 2);
  g_autofree char *port1 = g_strdup_printf ("%s:1", id);
  g_assert_cmpstr (gradus_doc_model_node_slot_ref (m, "mse", 0), ==, id);
  g_assert_cmpstr (gradus_doc_model_node_slot_ref (m, "mse", 1), ==, port1);
  g_autoptr (GradusScene) scene = gradus_scene_new (m, NULL, NULL);
  GradusSceneNode *gn = scene->nodes->pdata[gradus_scene_find (scene, id)];
  g_assert_cmpuint (gn->out_labels->len, ==, 2);
  /* both wires drawn, from ports 0 and 1 */
  guint wires = 0;
  for (guint e = 0; e < scene->edges->len; e++) {
    GradusSceneEdge *ed = &g_array_index (scene->edges, GradusSceneEdge, e);
    if (ed->from == gradus_scene_find (scene, id))
      wires |= 1u << ed->from_port;
  }
  g_assert_cmpuint (wires, ==, 3);
  g_autofree char *path = save_tmp (m, "two-outputs.gradus");
  g_autofree char *got = cli_run (path);
  g_assert_cmpstr (got, ==, want);
}

/* Saved to the user's palette, added twice to another graph. */
static void
test_group_library (void)
{
  g_autofree char *flat = example ("primer-3-linear-regression.gradus");
  g_autoptr (GradusDocModel) m = gradus_doc_model_new ();
  g_autoptr (GError) error = NULL;
  g_assert_true (gradus_doc_model_load_file (m, flat, &error));
  const char *sel[] = { "ax", "y", NULL };
  g_autofree char *id = gradus_group_make (m, sel, NULL, &error);
  g_assert_true (gradus_group_rename (m, id, "affine map", &error));
  g_autofree char *path = gradus_group_save_to_library (m, id, &error);
  g_assert_no_error (error);
  g_autofree char *dir = gradus_group_library_dir ();
  g_assert_true (g_str_has_prefix (path, dir));
  g_assert_true (g_str_has_suffix (path, "affine-map.json"));
  g_auto (GStrv) names = gradus_group_library_names ();
  g_assert_true (g_strv_contains ((const char *const *) names, "affine map"));

  g_autoptr (GradusDocModel) other = gradus_doc_model_new ();
  g_autofree char *a = gradus_doc_model_add_node (other, "group", "affine map", 300, 40, &error);
  g_assert_no_error (error);
  g_autofree char *b = gradus_doc_model_add_node (other, "group", "affine map", 300, 240, &error);
  g_assert_cmpstr (a, !=, b);
  /* one definition, used twice; inputs waiting for wires */
  JsonObject *defs = json_object_get_object_member (json_node_get_object (gradus_doc_model_get_root (other)), "groups");
  g_assert_cmpuint (json_object_get_size (defs), ==, 1);
  g_assert_cmpint (gradus_doc_model_node_n_slots (other, a), ==, 3);
  g_assert_nonnull (gradus_doc_model_node_error (other, a));
  g_assert_null (gradus_doc_model_add_node (other, "group", "no such group", 0, 0, &error));
  g_assert_error (error, GRD_ERROR, GRD_ERROR_GRAPH);
}

/* The window's picture in tmpdir, and in docs/images/ when
 * GRADUS_UPDATE_DOC_IMAGES is set (tools: docs/organise.md). */
static void
screenshot (GradusWindow *w, const char *name)
{
  g_autofree char *path = g_build_filename (tmpdir, name, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (gradus_window_screenshot (w, path, &error));
  g_assert_no_error (error);
  if (g_getenv ("GRADUS_UPDATE_DOC_IMAGES")) {
    g_autofree char *doc = g_build_filename (g_getenv ("GRADUS_SOURCE_DIR"), "docs", "images", name, NULL);
    g_assert_true (gradus_window_screenshot (w, doc, &error));
  }
}

static double
series_at (GradusRunPanel *run, guint i)
{
  GArray *s = gradus_run_panel_get_series (run, "out:0");
  g_assert_nonnull (s);
  g_assert_cmpuint (s->len, >, i);
  return g_array_index (s, double, i);
}

/* With real input under Xvfb: select, Ctrl+G, run (the flat file's numbers),
 * double-click to open, edit inside, Close Group on the bar, save and
 * reopen, undo; ] rings a port; the group saved to the palette, added twice. */
static void
test_group_with_real_input (void)
{
  g_autofree char *path = example ("primer-3-linear-regression.gradus");
  GradusWindow *w = ui_open_window (path, 1280, 800);
  UI_TEST_SPIN_UNTIL (gtk_window_is_active (GTK_WINDOW (w)), 5);
  GradusCanvas *canvas = gradus_window_get_canvas (w);
  GradusDocModel *m = gradus_window_get_model (w);
  GradusRunPanel *run = GRADUS_RUN_PANEL (gradus_window_get_run_panel (w));

  /* select the model's nodes with clicks (Ctrl adds to the selection) */
  gradus_canvas_zoom_to_fit (canvas);
  ui_xtest_spin (200);
  g_autoptr (GradusScene) before = gradus_scene_new (m, NULL, NULL);
  const char *pick[] = { "ax", "y", "err", "two", "mse" };
  for (guint i = 0; i < G_N_ELEMENTS (pick); i++) {
    GradusSceneNode *n = before->nodes->pdata[gradus_scene_find (before, pick[i])];
    int rx, ry;
    ui_graph_to_root (w, n->x + n->w / 2, n->y + 12, &rx, &ry);
    if (i)
      ui_key (XK_Control_L, TRUE);
    ui_click_root (1, rx, ry);
    if (i)
      ui_key (XK_Control_L, FALSE);
    ui_xtest_spin (60);
  }
  g_auto (GStrv) sel = gradus_canvas_dup_selection (canvas);
  g_assert_cmpuint (g_strv_length (sel), ==, 5);

  /* Ctrl+G */
  gtk_widget_grab_focus (GTK_WIDGET (canvas));
  ui_tap (XK_Control_L, XK_g);
  ui_xtest_spin (300);
  g_autofree char *open_none = gradus_group_open_id (m, NULL);
  g_assert_null (open_none);
  g_assert_null (gradus_doc_model_get_node (m, "mse"));
  JsonObject *gnode = gradus_doc_model_get_node (m, "group");
  g_assert_nonnull (gnode);
  g_assert_cmpstr (json_object_get_string_member (gnode, "kind"), ==, "group");
  g_assert_cmpstr (gradus_doc_model_undo_label (m), ==, "Group");
  g_autoptr (GError) error = NULL;
  g_assert_true (gradus_group_rename (m, "group", "squared error", &error));
  /* the run panel takes the document 250 ms after an edit */
  ui_xtest_spin (700);
  screenshot (w, "group-closed.png");

  /* run: the primer's numbers, gradients through the group */
  for (int i = 1; i <= 3; i++) {
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (w), "run.step", NULL));
    UI_TEST_SPIN_UNTIL (gradus_run_panel_get_n_calls (run) == i && !gradus_run_panel_is_running (run), 20);
  }
  g_assert_cmpfloat (series_at (run, 0), ==, 36.0);
  g_assert_cmpfloat (fabs (series_at (run, 1) - 33.1776), <, 1e-12);
  g_assert_cmpfloat (fabs (series_at (run, 2) - 30.57647616), <, 1e-9);

  /* double-click the group node: its inside, outlined, and the bar */
  g_autoptr (GradusScene) grouped = gradus_scene_new (m, NULL, NULL);
  GradusSceneNode *gn = grouped->nodes->pdata[gradus_scene_find (grouped, "group")];
  int gx, gy;
  ui_graph_to_root (w, gn->x + gn->w / 2, gn->y + 12, &gx, &gy);
  ui_move_to (gx, gy);
  ui_button (1, TRUE);
  ui_button (1, FALSE);
  ui_button (1, TRUE);
  ui_button (1, FALSE);
  ui_xtest_spin (400);
  g_autofree char *opened = gradus_group_open_id (m, NULL);
  g_assert_cmpstr (opened, ==, "group");
  g_assert_true (gradus_group_is_inside (m, "group.two"));
  screenshot (w, "group-open.png");

  /* edit inside: the constant 2 becomes 3 (the inspector's edit) */
  g_assert_true (gradus_doc_model_set_member (m, "group.two", "value",
                                              json_node_init_double (json_node_alloc (), 3.0), &error));
  /* Close Group, on the bar */
  GtkWidget *bar_close = NULL;
  for (GtkWidget *c = gtk_widget_get_first_child (GTK_WIDGET (canvas)); c; c = gtk_widget_get_next_sibling (c))
    if (gtk_widget_get_child_visible (c) && GTK_IS_BOX (c))
      for (GtkWidget *b = gtk_widget_get_first_child (c); b; b = gtk_widget_get_next_sibling (b))
        if (GTK_IS_BUTTON (b))
          bar_close = b;
  g_assert_nonnull (bar_close);
  g_assert_true (ui_click_widget (GTK_WINDOW (w), bar_close));
  ui_xtest_spin (300);
  g_autofree char *closed = gradus_group_open_id (m, NULL);
  g_assert_null (closed);
  JsonObject *def = definition (m, "group");
  JsonObject *two = json_array_get_object_element (json_object_get_array_member (def, "nodes"), 3);
  g_assert_cmpstr (json_object_get_string_member (two, "id"), ==, "two");
  g_assert_cmpfloat (json_object_get_double_member (two, "value"), ==, 3.0);

  /* save, reopen: the group and its definition are in the file */
  g_autofree char *saved = save_tmp (m, "real-input.gradus");
  g_autoptr (GradusDocModel) back = gradus_doc_model_new ();
  g_assert_true (gradus_doc_model_load_file (back, saved, &error));
  g_assert_null (gradus_doc_model_get_build_error (back));
  g_assert_cmpfloat (json_object_get_double_member (
    json_array_get_object_element (json_object_get_array_member (definition (back, "group"), "nodes"), 3),
    "value"), ==, 3.0);

  /* undo (close, edit): 2 again */
  g_assert_cmpstr (gradus_doc_model_undo_label (m), ==, "Close group group");
  gtk_widget_activate_action (GTK_WIDGET (w), "win.undo", NULL);
  gtk_widget_activate_action (GTK_WIDGET (w), "win.undo", NULL);
  ui_xtest_spin (100);
  g_autofree char *reopened = gradus_group_open_id (m, NULL);
  g_assert_cmpstr (reopened, ==, "group");
  JsonObject *inner_two = gradus_doc_model_get_node (m, "group.two");
  g_assert_cmpfloat (json_object_get_double_member (inner_two, "value"), ==, 2.0);
  /* Ctrl+Shift+G closes it too */
  gtk_widget_grab_focus (GTK_WIDGET (canvas));
  ui_key (XK_Control_L, TRUE);
  ui_key (XK_Shift_L, TRUE);
  ui_key (XK_g, TRUE);
  ui_key (XK_g, FALSE);
  ui_key (XK_Shift_L, FALSE);
  ui_key (XK_Control_L, FALSE);
  ui_xtest_spin (300);
  g_autofree char *shut = gradus_group_open_id (m, NULL);
  g_assert_null (shut);
  g_assert_nonnull (gradus_doc_model_get_node (m, "group"));

  /* ] on the selected group node: its output ringed */
  const char *only[] = { "group", NULL };
  gradus_canvas_set_selection (canvas, only);
  g_assert_false (gradus_keyboard_get_port_marked (canvas));
  ui_tap (0, XK_bracketright);
  ui_xtest_spin (100);
  g_assert_true (gradus_keyboard_get_port_marked (canvas));

  /* Save Group to Palette, then the palette's row added twice */
  g_autofree char *lib = gradus_group_save_to_library (m, "group", &error);
  g_assert_no_error (error);
  GradusPalette *palette = gradus_window_get_palette (w);
  gradus_palette_set_search (palette, "squared");
  UI_TEST_SPIN_UNTIL (({ g_auto (GStrv) v = gradus_palette_dup_visible (palette);
                         v && g_strv_contains ((const char *const *) v, "group:squared error"); }), 5);
  g_auto (GStrv) visible = gradus_palette_dup_visible (palette);
  g_assert_true (g_strv_contains ((const char *const *) visible, "group:squared error"));
  guint n_before = gradus_doc_model_n_nodes (m);
  gtk_widget_activate_action (GTK_WIDGET (w), "win.add-node", "s", "group:squared error");
  gtk_widget_activate_action (GTK_WIDGET (w), "win.add-node", "s", "group:squared error");
  ui_xtest_spin (100);
  g_assert_cmpuint (gradus_doc_model_n_nodes (m), ==, n_before + 2);
  guint uses = 0;
  for (guint i = 0; i < gradus_doc_model_n_nodes (m); i++) {
    JsonObject *o = gradus_doc_model_node_at (m, i);
    uses += g_strcmp0 (json_object_get_string_member_with_default (o, "kind", ""), "group") == 0;
  }
  g_assert_cmpuint (uses, ==, 3);
  gradus_palette_set_search (palette, "");
  gradus_doc_model_set_modified (m, FALSE);
  gtk_window_destroy (GTK_WINDOW (w));
  ui_xtest_spin (100);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  adw_init ();
  ui_xtest_init ();
  tmpdir = g_dir_make_tmp ("gradus-ui-groups-XXXXXX", NULL);
  g_test_add_func ("/ui/organise/frames-and-comments", test_frames_in_model);
  g_test_add_func ("/ui/organise/frame-with-real-input", test_frame_with_real_input);
  g_test_add_func ("/ui/gradient/simplified-and-named", test_gradient_graph_shown);
  g_test_add_func ("/ui/groups/file-in-editor", test_group_file_in_editor);
  g_test_add_func ("/ui/groups/make-open-close-ungroup", test_group_make_in_model);
  g_test_add_func ("/ui/groups/boundaries", test_group_boundaries);
  g_test_add_func ("/ui/groups/palette-library", test_group_library);
  g_test_add_func ("/ui/groups/real-input", test_group_with_real_input);
  int status = g_test_run ();
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmpdir);
  (void) !system (cmd);
  return status;
}
