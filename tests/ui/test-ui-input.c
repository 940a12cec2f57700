/* test-ui-input.c: real pointer input on the canvas under Xvfb. GTK 4 cannot
 * synthesise events, so the X server's XTest extension moves the pointer and
 * presses buttons: wire a port to a port, refuse a bad wire, move a node,
 * box-select, pan with the middle button, zoom with ctrl and the wheel. */
#include "gradus-window.h"

#include <dlfcn.h>
#include <gdk/x11/gdkx.h>
#include <string.h>

typedef int (*MotionFunc) (Display *, int, int, int, unsigned long);
typedef int (*ButtonFunc) (Display *, unsigned int, int, unsigned long);
typedef int (*KeyFunc) (Display *, unsigned int, int, unsigned long);

static MotionFunc fake_motion;
static ButtonFunc fake_button;
static KeyFunc fake_key;
static char *tmpdir;

static void
spin (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;
  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  /* A loaded machine may still have events queued: handle them all. */
  for (int i = 0; i < 1000 && g_main_context_pending (NULL); i++)
    g_main_context_iteration (NULL, FALSE);
}

static Display *
xdisplay (void)
{
  return gdk_x11_display_get_xdisplay (gdk_display_get_default ());
}

/* Root-window position of a graph point on the canvas. */
static void
graph_to_root (GradusWindow *w, double gx, double gy, int *rx, int *ry)
{
  GradusCanvas *c = gradus_window_get_canvas (w);
  double ox, oy;
  gradus_canvas_widget_to_graph (c, 0, 0, &ox, &oy);
  double z = gradus_canvas_get_zoom (c);
  graphene_point_t p = GRAPHENE_POINT_INIT ((gx - ox) * z, (gy - oy) * z), q;
  g_assert_true (gtk_widget_compute_point (GTK_WIDGET (c), GTK_WIDGET (w), &p, &q));
  double sx, sy;
  gtk_native_get_surface_transform (GTK_NATIVE (w), &sx, &sy);
  Window child;
  int wx, wy;
  XTranslateCoordinates (xdisplay (), gdk_x11_surface_get_xid (gtk_native_get_surface (GTK_NATIVE (w))),
                         DefaultRootWindow (xdisplay ()), 0, 0, &wx, &wy, &child);
  *rx = wx + (int) (sx + q.x + 0.5);
  *ry = wy + (int) (sy + q.y + 0.5);
}

static void
move_to (int x, int y)
{
  fake_motion (xdisplay (), -1, x, y, 0);
  XSync (xdisplay (), False);
  spin (30);
}

static void
button (unsigned int b, gboolean press)
{
  fake_button (xdisplay (), b, press, 0);
  XSync (xdisplay (), False);
  spin (30);
}

static void
key (KeySym sym, gboolean press)
{
  fake_key (xdisplay (), XKeysymToKeycode (xdisplay (), sym), press, 0);
  XSync (xdisplay (), False);
  spin (20);
}

/* Presses `b` at graph point (x0, y0) and releases at (x1, y1), in steps. */
static void
drag (GradusWindow *w, unsigned int b, double x0, double y0, double x1, double y1)
{
  int ax, ay, bx, by;
  graph_to_root (w, x0, y0, &ax, &ay);
  graph_to_root (w, x1, y1, &bx, &by);
  move_to (ax, ay);
  button (b, TRUE);
  for (int i = 1; i <= 8; i++)
    move_to (ax + (bx - ax) * i / 8, ay + (by - ay) * i / 8);
  button (b, FALSE);
  spin (50);
}

static const char *graph_text =
  "{\"format\": \"gradus-graph\", \"version\": 1, \"nodes\": ["
  " {\"id\": \"u\", \"kind\": \"variable\", \"dtype\": \"float32\", \"shape\": [3]},"
  " {\"id\": \"v\", \"kind\": \"variable\", \"dtype\": \"float32\", \"shape\": [4]},"
  " {\"id\": \"s\", \"kind\": \"op\", \"op\": \"add\", \"inputs\": []}],"
  " \"ui\": {\"nodes\": {\"u\": {\"x\": 40, \"y\": 40}, \"v\": {\"x\": 40, \"y\": 200},"
  "  \"s\": {\"x\": 360, \"y\": 60}}, \"view\": {\"x\": 0, \"y\": 0, \"zoom\": 1}}}";

static GradusWindow *
open_graph (void)
{
  g_autofree char *path = g_build_filename (tmpdir, "input.gradus", NULL);
  g_assert_true (g_file_set_contents (path, graph_text, -1, NULL));
  GradusWindow *w = gradus_window_new (NULL);
  gtk_window_set_default_size (GTK_WINDOW (w), 1200, 800);
  gtk_window_present (GTK_WINDOW (w));
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (!gtk_widget_get_mapped (GTK_WIDGET (w)) && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  g_autoptr (GError) error = NULL;
  g_assert_true (gradus_window_open_path (w, path, &error));
  spin (200);
  return w;
}

static void
port (GradusWindow *w, const char *id, gboolean output, gint k, double *x, double *y)
{
  GradusScene *scene = gradus_canvas_get_scene (gradus_window_get_canvas (w));
  gradus_scene_port_pos (scene, gradus_scene_find (scene, id), output, k, x, y);
}

static void
test_wire_by_drag (void)
{
  GradusWindow *w = open_graph ();
  GradusDocModel *m = gradus_window_get_model (w);
  double x0, y0, x1, y1;
  port (w, "u", TRUE, 0, &x0, &y0);
  port (w, "s", FALSE, 0, &x1, &y1);
  drag (w, 1, x0, y0, x1, y1);
  g_assert_cmpstr (gradus_doc_model_node_slot_ref (m, "s", 0), ==, "u");
  /* [4] into the other input of an add fed [3]: refused, with the reason. */
  port (w, "v", TRUE, 0, &x0, &y0);
  port (w, "s", FALSE, 1, &x1, &y1);
  drag (w, 1, x0, y0, x1, y1);
  g_assert_null (gradus_doc_model_node_slot_ref (m, "s", 1));
  g_assert_nonnull (gradus_window_get_last_message (w));
  g_assert_nonnull (strstr (gradus_window_get_last_message (w), "cannot connect"));
  /* Dragging a connected input away picks the wire up: disconnected. */
  port (w, "s", FALSE, 0, &x0, &y0);
  drag (w, 1, x0, y0, x0 + 100, y0 + 250);
  g_assert_null (gradus_doc_model_node_slot_ref (m, "s", 0));
  gtk_window_destroy (GTK_WINDOW (w));
}

static void
test_move_select_pan_zoom (void)
{
  GradusWindow *w = open_graph ();
  GradusDocModel *m = gradus_window_get_model (w);
  GradusCanvas *c = gradus_window_get_canvas (w);
  /* Drag a node by its title: it moves by the same amount (zoom 1). */
  drag (w, 1, 360 + 40, 60 + 12, 360 + 40 + 60, 60 + 12 + 40);
  double x, y;
  g_assert_true (gradus_doc_model_get_position (m, "s", &x, &y));
  g_assert_cmpfloat (fabs (x - 420), <=, 2);
  g_assert_cmpfloat (fabs (y - 100), <=, 2);
  g_assert_true (gradus_doc_model_can_undo (m));
  /* A box from empty space around u and v selects both, not s. */
  /* (Not at the very edge: the paned's handle takes presses there.) */
  drag (w, 1, 25, 20, 300, 330);
  g_auto (GStrv) sel = gradus_canvas_dup_selection (c);
  g_assert_cmpuint (g_strv_length (sel), ==, 2);
  g_assert_true (g_strv_contains ((const char *const *) sel, "u"));
  g_assert_true (g_strv_contains ((const char *const *) sel, "v"));
  /* Middle drag pans: the graph point under the pointer follows it. */
  double ox0, oy0, ox1, oy1;
  gradus_canvas_widget_to_graph (c, 0, 0, &ox0, &oy0);
  drag (w, 2, 600, 250, 500, 200);
  gradus_canvas_widget_to_graph (c, 0, 0, &ox1, &oy1);
  g_assert_cmpfloat (fabs ((ox1 - ox0) - 100), <=, 2);
  g_assert_cmpfloat (fabs ((oy1 - oy0) - 50), <=, 2);
  /* Ctrl and the wheel zoom in about the pointer. */
  int rx, ry, rx2, ry2;
  graph_to_root (w, 500, 300, &rx, &ry);
  move_to (rx - 1, ry);
  move_to (rx, ry);
  double z0 = gradus_canvas_get_zoom (c);
  key (XK_Control_L, TRUE);
  button (4, TRUE);
  button (4, FALSE);
  key (XK_Control_L, FALSE);
  g_assert_cmpfloat (gradus_canvas_get_zoom (c), >, z0);
  graph_to_root (w, 500, 300, &rx2, &ry2);
  g_assert_cmpint (ABS (rx2 - rx), <=, 2);
  g_assert_cmpint (ABS (ry2 - ry), <=, 2);
  /* Delete from the keyboard removes the selection. */
  gtk_widget_grab_focus (GTK_WIDGET (c));
  spin (20);
  key (XK_Delete, TRUE);
  key (XK_Delete, FALSE);
  g_assert_cmpuint (gradus_doc_model_n_nodes (m), ==, 1);
  gtk_window_destroy (GTK_WINDOW (w));
}

static GtkWidget *
find_row (GtkWidget *w, const char *payload)
{
  if (GTK_IS_LIST_BOX_ROW (w) && g_strcmp0 (g_object_get_data (G_OBJECT (w), "payload"), payload) == 0)
    return w;
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c)) {
    GtkWidget *r = find_row (c, payload);
    if (r)
      return r;
  }
  return NULL;
}

static void
test_palette_drag (void)
{
  GradusWindow *w = open_graph ();
  GradusDocModel *m = gradus_window_get_model (w);
  GtkWidget *row = find_row (GTK_WIDGET (gradus_window_get_palette (w)), "op:mul");
  g_assert_nonnull (row);
  graphene_point_t p = GRAPHENE_POINT_INIT (30, 8), q;
  g_assert_true (gtk_widget_compute_point (row, GTK_WIDGET (w), &p, &q));
  double sx, sy;
  gtk_native_get_surface_transform (GTK_NATIVE (w), &sx, &sy);
  Window child;
  int wx, wy, tx, ty;
  XTranslateCoordinates (xdisplay (), gdk_x11_surface_get_xid (gtk_native_get_surface (GTK_NATIVE (w))),
                         DefaultRootWindow (xdisplay ()), 0, 0, &wx, &wy, &child);
  int ax = wx + (int) (sx + q.x), ay = wy + (int) (sy + q.y);
  graph_to_root (w, 600, 250, &tx, &ty);
  move_to (ax, ay);
  button (1, TRUE);
  for (int i = 1; i <= 12; i++)
    move_to (ax + (tx - ax) * i / 12, ay + (ty - ay) * i / 12);
  spin (100);
  button (1, FALSE);
  gint64 end = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;
  while (gradus_doc_model_n_nodes (m) < 4 && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (gradus_doc_model_n_nodes (m), ==, 4);
  JsonObject *o = gradus_doc_model_node_at (m, 3);
  g_assert_cmpstr (json_object_get_string_member (o, "op"), ==, "mul");
  double x, y;
  g_assert_true (gradus_doc_model_get_position (m, json_object_get_string_member (o, "id"), &x, &y));
  /* Dropped where the pointer let go. */
  g_assert_cmpfloat (fabs (x - 600), <, 160);
  g_assert_cmpfloat (fabs (y - 250), <, 80);
  gtk_window_destroy (GTK_WINDOW (w));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  adw_init ();
  tmpdir = g_dir_make_tmp ("gradus-ui-input-XXXXXX", NULL);
  g_assert_true (GDK_IS_X11_DISPLAY (gdk_display_get_default ()));
  /* XTest comes with the X client libraries (libxtst6); no headers needed. */
  void *xtst = dlopen ("libXtst.so.6", RTLD_NOW);
  if (!xtst)
    g_error ("libXtst.so.6 is needed to send input to Xvfb: %s", dlerror ());
  fake_motion = (MotionFunc) dlsym (xtst, "XTestFakeMotionEvent");
  fake_button = (ButtonFunc) dlsym (xtst, "XTestFakeButtonEvent");
  fake_key = (KeyFunc) dlsym (xtst, "XTestFakeKeyEvent");
  g_assert_true (fake_motion && fake_button && fake_key);
  g_test_add_func ("/ui/input/wire-by-drag", test_wire_by_drag);
  g_test_add_func ("/ui/input/move-select-pan-zoom", test_move_select_pan_zoom);
  g_test_add_func ("/ui/input/palette-drag", test_palette_drag);
  int status = g_test_run ();
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmpdir);
  (void) !system (cmd);
  return status;
}
