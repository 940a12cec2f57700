/* test-ui-keyboard.c: the canvas without a pointer, with real key events
 * (XTest under Xvfb): Tab and Shift+Tab go through the nodes in reading
 * order, arrows to the nearest node that way, Alt+arrows move it; Enter
 * starts a wire at the chosen output, ] picks the target's input, Enter
 * connects; Escape cancels; F2 renames. Issue 10. */
#include "gradus-window.h"
#include "gradus-keyboard.h"
#include "ui-test-util.h"
#include "ui-xtest.h"

#include <glib/gstdio.h>
#include <string.h>

static const char graph[] =
  "{\"format\": \"gradus-graph\", \"version\": 1,"
  " \"nodes\": [{\"id\": \"x\", \"kind\": \"variable\", \"dtype\": \"float64\", \"shape\": []},"
  "  {\"id\": \"two\", \"kind\": \"constant\", \"dtype\": \"float64\", \"value\": 2.0},"
  "  {\"id\": \"m\", \"kind\": \"op\", \"op\": \"mul\", \"inputs\": [null, null]}],"
  " \"ui\": {\"nodes\": {\"x\": {\"x\": 40, \"y\": 40}, \"m\": {\"x\": 320, \"y\": 100},"
  "  \"two\": {\"x\": 40, \"y\": 220}}}}";

static char *
selected (GradusWindow *w)
{
  g_auto (GStrv) ids = gradus_canvas_dup_selection (gradus_window_get_canvas (w));
  g_assert_true (ids[0] == NULL || ids[1] == NULL);
  return g_strdup (ids[0]);
}

static void
assert_selected (GradusWindow *w, const char *id)
{
  g_autofree char *s = selected (w);
  g_assert_cmpstr (s, ==, id);
}

static const char *
input_of (GradusWindow *w, const char *id, guint slot)
{
  JsonObject *o = gradus_doc_model_get_node (gradus_window_get_model (w), id);
  JsonArray *inputs = json_object_get_array_member (o, "inputs");
  JsonNode *n = json_array_get_element (inputs, slot);
  return JSON_NODE_HOLDS_NULL (n) ? NULL : json_node_get_string (n);
}

static void
test_keyboard (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("gradus-keys-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "keys.gradus", NULL);
  g_assert_true (g_file_set_contents (path, graph, -1, NULL));
  GradusWindow *w = ui_open_window (path, 1280, 800);
  GradusCanvas *canvas = gradus_window_get_canvas (w);
  /* Focus on the canvas: a click on empty canvas. */
  int rx = 0, ry = 0;
  g_assert_true (ui_widget_to_root (GTK_WINDOW (w), GTK_WIDGET (canvas), 500, 300, &rx, &ry));
  ui_click_root (1, rx, ry);
  g_assert_true (gtk_widget_has_focus (GTK_WIDGET (canvas)));

  /* Reading order: x, m, two; Shift+Tab goes back; focus stays on the canvas. */
  ui_tap (0, XK_Tab);
  assert_selected (w, "x");
  ui_tap (0, XK_Tab);
  assert_selected (w, "m");
  ui_tap (0, XK_Tab);
  assert_selected (w, "two");
  ui_tap (0, XK_Tab);
  assert_selected (w, "x");
  ui_tap (XK_Shift_L, XK_Tab);
  assert_selected (w, "two");
  g_assert_true (gtk_widget_has_focus (GTK_WIDGET (canvas)));
  /* Arrows: up from two is x, right from x is m, left from m is x. */
  ui_tap (0, XK_Up);
  assert_selected (w, "x");
  ui_tap (0, XK_Right);
  assert_selected (w, "m");
  ui_tap (0, XK_Left);
  assert_selected (w, "x");
  /* Alt+Right moves the node instead. */
  double x0, y0, x1, y1;
  g_assert_true (gradus_doc_model_get_position (gradus_window_get_model (w), "x", &x0, &y0));
  ui_key (XK_Alt_L, TRUE);
  ui_tap (0, XK_Right);
  ui_key (XK_Alt_L, FALSE);
  assert_selected (w, "x");
  g_assert_true (gradus_doc_model_get_position (gradus_window_get_model (w), "x", &x1, &y1));
  g_assert_cmpfloat (x1, >, x0);
  g_assert_cmpfloat (y1, ==, y0);

  /* Wire x to m's second input: Enter, go to m, ], Enter. */
  ui_tap (0, XK_Return);
  g_assert_cmpstr (gradus_keyboard_get_wire_source (canvas), ==, "x");
  ui_tap (0, XK_Right);
  assert_selected (w, "m");
  ui_tap (0, XK_bracketright);
  g_assert_cmpint (gradus_keyboard_get_port (canvas), ==, 1);
  ui_tap (0, XK_Return);
  g_assert_null (gradus_keyboard_get_wire_source (canvas));
  g_assert_cmpstr (input_of (w, "m", 1), ==, "x");
  g_assert_null (input_of (w, "m", 0));
  /* two to the first input; a wire started and cancelled changes nothing. */
  ui_tap (0, XK_Tab);
  assert_selected (w, "two");
  ui_tap (0, XK_Return);
  g_assert_cmpstr (gradus_keyboard_get_wire_source (canvas), ==, "two");
  ui_tap (0, XK_Escape);
  g_assert_null (gradus_keyboard_get_wire_source (canvas));
  ui_tap (0, XK_Return);
  ui_tap (XK_Shift_L, XK_Tab);
  assert_selected (w, "m");
  ui_tap (0, XK_Return);
  g_assert_cmpstr (input_of (w, "m", 0), ==, "two");
  g_assert_cmpstr (input_of (w, "m", 1), ==, "x");

  /* F2 renames m: its name, typed. */
  ui_tap (0, XK_F2);
  ui_xtest_spin (200);
  ui_tap (XK_Control_L, XK_a);
  ui_tap (0, XK_p);
  ui_tap (0, XK_q);
  ui_tap (0, XK_Return);
  ui_xtest_spin (200);
  JsonObject *m = gradus_doc_model_get_node (gradus_window_get_model (w), "m");
  g_assert_cmpstr (json_object_get_string_member (m, "name"), ==, "pq");
  /* Back on the canvas, Tab still walks the nodes. */
  g_assert_true (gtk_widget_has_focus (GTK_WIDGET (canvas)));
  ui_tap (0, XK_Tab);
  assert_selected (w, "two");

  gradus_doc_model_set_modified (gradus_window_get_model (w), FALSE);
  gtk_window_destroy (GTK_WINDOW (w));
  ui_xtest_spin (100);
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  adw_init ();
  ui_xtest_init ();
  g_test_add_func ("/ui/keyboard/nodes-ports-wires", test_keyboard);
  return g_test_run ();
}
