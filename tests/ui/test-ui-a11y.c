/* test-ui-a11y.c: the canvas' nodes in the accessibility tree (GTK_A11Y=test,
 * read through gtk_test_accessible_*): each node an accessible child with
 * the button role, a label naming its op, id, where its inputs come from and
 * its output type, the selected state; Tab gives each node keyboard focus
 * and selects it, and the canvas' description names it and its wires. */
#include "gradus-window.h"
#include "gradus-canvas-a11y.h"

#include "ui-test-util.h"

#include <string.h>

#define SPIN_UNTIL(cond) UI_TEST_SPIN_UNTIL (cond, 5)

static GradusWindow *
open_example (const char *name)
{
  GradusWindow *w = gradus_window_new (NULL);
  gtk_window_set_default_size (GTK_WINDOW (w), 1200, 800);
  gtk_window_present (GTK_WINDOW (w));
  SPIN_UNTIL (gtk_widget_get_mapped (GTK_WIDGET (w)));
  g_autofree char *path = g_build_filename (g_getenv ("GRADUS_SOURCE_DIR"), "data", "examples", name, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (gradus_window_open_path (w, path, &error));
  g_assert_no_error (error);
  ui_test_spin (100);
  return w;
}

static void
assert_label (GtkWidget *w, const char *label)
{
  g_autofree char *msg = gtk_test_accessible_check_property (GTK_ACCESSIBLE (w), GTK_ACCESSIBLE_PROPERTY_LABEL, label);
  if (msg)
    g_error ("%s", msg);
}

static gboolean
description_has (GtkWidget *w, const char *part)
{
  /* No getter in GTK 4.8: the check's message on a mismatch quotes the value. */
  g_autofree char *msg = gtk_test_accessible_check_property (GTK_ACCESSIBLE (w),
                                                             GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                                             "\x01 no such description");
  g_assert_nonnull (msg);
  return strstr (msg, part) != NULL;
}

static guint
count_node_children (GtkWidget *canvas)
{
  guint n = 0;
  for (GtkWidget *c = gtk_widget_get_first_child (canvas); c; c = gtk_widget_get_next_sibling (c))
    if (gtk_test_accessible_has_role (GTK_ACCESSIBLE (c), GTK_ACCESSIBLE_ROLE_BUTTON))
      n++;
  return n;
}

static void
test_roles_and_labels (void)
{
  GradusWindow *w = open_example ("primer-1-vector-add.gradus");
  GradusCanvas *canvas = gradus_window_get_canvas (w);
  gradus_canvas_a11y_update (canvas);

  g_assert_true (gtk_test_accessible_has_role (GTK_ACCESSIBLE (canvas), GTK_ACCESSIBLE_ROLE_GROUP));
  assert_label (GTK_WIDGET (canvas), "Graph canvas");
  g_assert_true (description_has (GTK_WIDGET (canvas), "3 nodes, 2 wires"));

  /* One child per node, each a button with its label. */
  g_assert_cmpuint (count_node_children (GTK_WIDGET (canvas)), ==, 3);
  GtkWidget *z = gradus_canvas_a11y_get_node (canvas, "z");
  GtkWidget *x = gradus_canvas_a11y_get_node (canvas, "x");
  g_assert_nonnull (z);
  g_assert_nonnull (x);
  g_assert_true (gtk_test_accessible_has_role (GTK_ACCESSIBLE (z), GTK_ACCESSIBLE_ROLE_BUTTON));
  assert_label (z, "add node z (x + y), inputs a from x, b from y, output float64[?]");
  assert_label (x, "variable node x, output float64[?]");
  g_assert_true (gtk_test_accessible_has_state (GTK_ACCESSIBLE (z), GTK_ACCESSIBLE_STATE_SELECTED));
  g_autofree char *unselected = gtk_test_accessible_check_state (GTK_ACCESSIBLE (z),
                                                                 GTK_ACCESSIBLE_STATE_SELECTED, FALSE);
  g_assert_null (unselected);

  /* Each child lies over its node; the pointer still reaches the canvas there. */
  ui_test_spin (50);
  graphene_point_t centre;
  g_assert_true (gtk_widget_compute_point (z, GTK_WIDGET (canvas),
                                           &GRAPHENE_POINT_INIT (gtk_widget_get_width (z) / 2.0,
                                                                 gtk_widget_get_height (z) / 2.0),
                                           &centre));
  g_assert_true (gtk_widget_get_width (z) > 10);
  g_assert_true (gtk_widget_pick (GTK_WIDGET (canvas), centre.x, centre.y, GTK_PICK_DEFAULT) == GTK_WIDGET (canvas));

  /* Edits follow: a wire removed, then a node deleted. */
  g_assert_true (gradus_doc_model_disconnect (gradus_window_get_model (w), "z", 1));
  ui_test_spin (50);
  gradus_canvas_a11y_update (canvas);
  /* No type any more, and the node's error is read out. */
  assert_label (z, "add node z (x + y), inputs a from x, b not connected, output ?, "
                   "z: input b (2) of add is not connected");
  g_assert_true (description_has (GTK_WIDGET (canvas), "3 nodes, 1 wire"));
  const char *ids[] = { "y", NULL };
  gradus_canvas_set_selection (canvas, ids);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (w), "win.delete", NULL));
  ui_test_spin (50);
  gradus_canvas_a11y_update (canvas);
  g_assert_null (gradus_canvas_a11y_get_node (canvas, "y"));
  g_assert_cmpuint (count_node_children (GTK_WIDGET (canvas)), ==, 2);
  gtk_window_destroy (GTK_WINDOW (w));
  ui_test_spin (20);
}

static void
test_keyboard_focus (void)
{
  GradusWindow *w = open_example ("primer-1-vector-add.gradus");
  GradusCanvas *canvas = gradus_window_get_canvas (w);
  gradus_canvas_a11y_update (canvas);
  gradus_canvas_set_selection (canvas, NULL);
  ui_test_spin (20);

  /* From the canvas, Tab goes through the nodes, one after the other. */
  g_assert_true (gtk_widget_grab_focus (GTK_WIDGET (canvas)));
  g_autoptr (GHashTable) visited = g_hash_table_new (g_str_hash, g_str_equal);
  for (int i = 0; i < 3; i++) {
    g_assert_true (gtk_widget_child_focus (GTK_WIDGET (canvas), GTK_DIR_TAB_FORWARD));
    ui_test_spin (20);
    GtkWidget *focus = gtk_window_get_focus (GTK_WINDOW (w));
    g_assert_nonnull (focus);
    g_assert_true (gtk_widget_get_parent (focus) == GTK_WIDGET (canvas));
    /* Focus selects the node: the inspector shows it, the description says it. */
    g_auto (GStrv) sel = gradus_canvas_dup_selection (canvas);
    g_assert_cmpuint (g_strv_length (sel), ==, 1);
    g_assert_true (gradus_canvas_a11y_get_node (canvas, sel[0]) == focus);
    g_assert_cmpstr (gradus_inspector_get_node (gradus_window_get_inspector (w)), ==, sel[0]);
    gradus_canvas_a11y_update (canvas);
    g_assert_true (gtk_test_accessible_has_state (GTK_ACCESSIBLE (focus), GTK_ACCESSIBLE_STATE_SELECTED));
    g_autofree char *selected = gtk_test_accessible_check_state (GTK_ACCESSIBLE (focus),
                                                                 GTK_ACCESSIBLE_STATE_SELECTED, TRUE);
    g_assert_null (selected);
    g_autofree char *said = g_strdup_printf ("Selected: %s node %s",
                                             g_str_equal (sel[0], "z") ? "add" : "variable", sel[0]);
    g_assert_true (description_has (GTK_WIDGET (canvas), said));
    if (g_str_equal (sel[0], "x"))
      g_assert_true (description_has (GTK_WIDGET (canvas), "its output goes to z.a"));
    g_hash_table_add (visited, (gpointer) g_intern_string (sel[0]));
  }
  g_assert_cmpuint (g_hash_table_size (visited), ==, 3);

  /* The edit keys act on the focused node: Delete removes it. */
  GtkWidget *focus = gtk_window_get_focus (GTK_WINDOW (w));
  g_auto (GStrv) sel = gradus_canvas_dup_selection (canvas);
  g_assert_true (gradus_canvas_a11y_get_node (canvas, sel[0]) == focus);
  g_assert_true (gtk_widget_activate_action (focus, "win.delete", NULL));
  ui_test_spin (50);
  gradus_canvas_a11y_update (canvas);
  g_assert_null (gradus_canvas_a11y_get_node (canvas, sel[0]));
  gtk_window_destroy (GTK_WINDOW (w));
  ui_test_spin (20);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_add_func ("/ui/a11y/roles-and-labels", test_roles_and_labels);
  g_test_add_func ("/ui/a11y/keyboard-focus", test_keyboard_focus);
  return g_test_run ();
}
