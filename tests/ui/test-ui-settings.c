/* test-ui-settings.c: the editor keeps its preferences in GSettings (the
 * schema compiled in the build tree, the memory backend): a window's size,
 * back end, run panel height and presentation mode, changed, the window
 * closed and a new one opened, are kept; saved files come first in
 * recent-files and in the Open Recent menu. */
#include "gradus-window.h"
#include "gradus-run-panel.h"
#include "gradus-settings.h"

#include "ui-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

#define SPIN_UNTIL(cond) UI_TEST_SPIN_UNTIL (cond, 5)

static char *tmpdir;

static GradusWindow *
new_window (void)
{
  GradusWindow *w = gradus_window_new (NULL);
  gtk_window_present (GTK_WINDOW (w));
  SPIN_UNTIL (gtk_widget_get_mapped (GTK_WIDGET (w)));
  ui_test_spin (100);
  return w;
}

/* Destroys the window and waits until it is finalised (when it writes). */
static void
close_window (GradusWindow *w)
{
  gboolean gone = FALSE;
  GWeakRef ref;
  g_weak_ref_init (&ref, w);
  gtk_window_destroy (GTK_WINDOW (w));
  for (int i = 0; i < 200 && !gone; i++) {
    ui_test_spin (10);
    GObject *still = g_weak_ref_get (&ref);
    gone = still == NULL;
    g_clear_object (&still);
  }
  g_weak_ref_clear (&ref);
  g_assert_true (gone);
}

static GtkPaned *
run_paned (GradusWindow *w)
{
  GtkWidget *p = gtk_widget_get_parent (gradus_window_get_run_panel (w));
  g_assert_true (GTK_IS_PANED (p));
  return GTK_PANED (p);
}

static int
panel_height (GradusWindow *w)
{
  int max = 0;
  g_object_get (run_paned (w), "max-position", &max, NULL);
  return max - gtk_paned_get_position (run_paned (w));
}

static void
test_schema_found (void)
{
  g_autoptr (GSettings) s = gradus_settings_new ();
  g_assert_nonnull (s);
  g_autoptr (GSettingsSchema) schema = NULL;
  g_object_get (s, "settings-schema", &schema, NULL);
  g_assert_true (g_settings_schema_has_key (schema, "window-width"));
  g_assert_true (g_settings_schema_has_key (schema, "recent-files"));
}

static void
test_kept_after_close (void)
{
  g_autoptr (GSettings) s = gradus_settings_new ();
  GradusWindow *w = new_window ();
  GradusRunPanel *run = GRADUS_RUN_PANEL (gradus_window_get_run_panel (w));
  g_assert_cmpint (gradus_run_panel_get_backend (run), ==, GRD_BACKEND_CPU);

  /* The user resizes the window, drags the divider and picks Vulkan. */
  gtk_window_set_default_size (GTK_WINDOW (w), 1000, 700);
  ui_test_spin (300);
  int max = 0;
  g_object_get (run_paned (w), "max-position", &max, NULL);
  g_assert_cmpint (max, >=, 400);
  gtk_paned_set_position (run_paned (w), max - 250);
  ui_test_spin (50);
  g_assert_cmpint (panel_height (w), ==, 250);
  /* (An empty graph does not compile: the choice is what counts.) */
  gradus_run_panel_set_backend (run, GRD_BACKEND_VULKAN);
  g_assert_cmpint (gradus_run_panel_get_backend (run), ==, GRD_BACKEND_VULKAN);
  close_window (w);

  g_assert_cmpint (g_settings_get_int (s, "window-width"), ==, 1000);
  g_assert_cmpint (g_settings_get_int (s, "window-height"), ==, 700);
  g_assert_cmpint (g_settings_get_int (s, "panel-height"), ==, 250);
  g_assert_cmpint (g_settings_get_enum (s, "backend"), ==, 1);
  g_assert_false (g_settings_get_boolean (s, "window-maximized"));

  /* A new window: as the last one was. */
  w = new_window ();
  int dw = 0, dh = 0;
  gtk_window_get_default_size (GTK_WINDOW (w), &dw, &dh);
  g_assert_cmpint (dw, ==, 1000);
  g_assert_cmpint (dh, ==, 700);
  /* The window really has that size (within its frame). */
  ui_test_spin (300);
  g_assert_cmpint (ABS (gtk_widget_get_width (GTK_WIDGET (w)) - 1000), <=, 20);
  run = GRADUS_RUN_PANEL (gradus_window_get_run_panel (w));
  g_assert_cmpint (gradus_run_panel_get_backend (run), ==, GRD_BACKEND_VULKAN);
  SPIN_UNTIL (panel_height (w) == 250);
  g_assert_cmpint (panel_height (w), ==, 250);

  /* Back to the CPU and a taller window: kept in turn. */
  gradus_run_panel_set_backend (run, GRD_BACKEND_CPU);
  gtk_window_set_default_size (GTK_WINDOW (w), 1100, 760);
  ui_test_spin (300);
  close_window (w);
  g_assert_cmpint (g_settings_get_int (s, "window-width"), ==, 1100);
  g_assert_cmpint (g_settings_get_int (s, "window-height"), ==, 760);
  g_assert_cmpint (g_settings_get_enum (s, "backend"), ==, 0);
  w = new_window ();
  run = GRADUS_RUN_PANEL (gradus_window_get_run_panel (w));
  g_assert_cmpint (gradus_run_panel_get_backend (run), ==, GRD_BACKEND_CPU);
  gtk_window_get_default_size (GTK_WINDOW (w), &dw, &dh);
  g_assert_cmpint (dw, ==, 1100);
  g_assert_cmpint (dh, ==, 760);
  close_window (w);
}

/* win.presentation (a stateful boolean action): the window's own if it has
 * one, else a stand-in added the way a later version of the window would. */
static GAction *
presentation_action (GradusWindow *w)
{
  GAction *a = g_action_map_lookup_action (G_ACTION_MAP (w), "presentation");
  if (!a) {
    GSimpleAction *sa = g_simple_action_new_stateful ("presentation", NULL, g_variant_new_boolean (FALSE));
    g_action_map_add_action (G_ACTION_MAP (w), G_ACTION (sa));
    g_object_unref (sa);
    a = g_action_map_lookup_action (G_ACTION_MAP (w), "presentation");
  }
  return a;
}

static gboolean
action_state (GAction *a)
{
  g_autoptr (GVariant) v = g_action_get_state (a);
  return g_variant_get_boolean (v);
}

static void
test_presentation (void)
{
  g_autoptr (GSettings) s = gradus_settings_new ();
  g_settings_set_boolean (s, "presentation-mode", FALSE);
  GradusWindow *w = new_window ();
  GAction *a = presentation_action (w);
  g_assert_false (action_state (a));
  g_action_change_state (a, g_variant_new_boolean (TRUE));
  ui_test_spin (20);
  g_assert_true (g_settings_get_boolean (s, "presentation-mode"));
  close_window (w);

  w = new_window ();
  a = presentation_action (w);
  g_assert_true (action_state (a));
  g_action_change_state (a, g_variant_new_boolean (FALSE));
  ui_test_spin (20);
  g_assert_false (g_settings_get_boolean (s, "presentation-mode"));
  close_window (w);
}

static gboolean
menu_has_label (GMenuModel *menu, const char *text)
{
  for (gint i = 0; i < g_menu_model_get_n_items (menu); i++) {
    g_autofree char *label = NULL;
    if (g_menu_model_get_item_attribute (menu, i, G_MENU_ATTRIBUTE_LABEL, "s", &label) &&
        g_str_equal (label, text))
      return TRUE;
    g_autoptr (GMenuModel) section = g_menu_model_get_item_link (menu, i, G_MENU_LINK_SECTION);
    if (section && menu_has_label (section, text))
      return TRUE;
    g_autoptr (GMenuModel) sub = g_menu_model_get_item_link (menu, i, G_MENU_LINK_SUBMENU);
    if (sub && menu_has_label (sub, text))
      return TRUE;
  }
  return FALSE;
}

static gboolean
window_menus_have (GtkWidget *w, const char *text)
{
  if (GTK_IS_MENU_BUTTON (w) && gtk_menu_button_get_menu_model (GTK_MENU_BUTTON (w)) &&
      menu_has_label (gtk_menu_button_get_menu_model (GTK_MENU_BUTTON (w)), text))
    return TRUE;
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    if (window_menus_have (c, text))
      return TRUE;
  return FALSE;
}

static void
test_recent_files (void)
{
  g_autoptr (GSettings) s = gradus_settings_new ();
  GradusWindow *w = new_window ();
  g_autofree char *a = g_build_filename (tmpdir, "first-kept.gradus", NULL);
  g_autofree char *b = g_build_filename (tmpdir, "second-kept.gradus", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (gradus_window_save_to (w, a, &error));
  g_assert_no_error (error);
  g_assert_true (gradus_window_save_to (w, b, &error));
  g_assert_no_error (error);
  g_assert_true (gradus_window_save_to (w, a, &error));
  g_assert_no_error (error);
  g_auto (GStrv) recent = g_settings_get_strv (s, "recent-files");
  g_assert_cmpuint (g_strv_length (recent), >=, 2);
  g_assert_cmpstr (recent[0], ==, a);
  g_assert_cmpstr (recent[1], ==, b);
  close_window (w);

  /* At most GRADUS_SETTINGS_MAX_RECENT, each once. */
  for (int i = 0; i < GRADUS_SETTINGS_MAX_RECENT + 3; i++) {
    g_autofree char *p = g_strdup_printf ("%s/many-%d.gradus", tmpdir, i);
    gradus_settings_add_recent (p);
  }
  gradus_settings_add_recent (a);
  g_auto (GStrv) many = g_settings_get_strv (s, "recent-files");
  g_assert_cmpuint (g_strv_length (many), ==, GRADUS_SETTINGS_MAX_RECENT);
  g_assert_cmpstr (many[0], ==, a);
  g_assert_false (g_strv_contains ((const char *const *) many + 1, a));

  /* A new window's Open Recent menu lists them (those that exist). */
  w = new_window ();
  g_assert_true (window_menus_have (GTK_WIDGET (w), "first-kept.gradus"));
  g_assert_false (window_menus_have (GTK_WIDGET (w), "many-0.gradus"));
  close_window (w);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  adw_init ();
  tmpdir = g_dir_make_tmp ("gradus-ui-settings-XXXXXX", NULL);
  g_test_add_func ("/ui/settings/schema-found", test_schema_found);
  g_test_add_func ("/ui/settings/kept-after-close", test_kept_after_close);
  g_test_add_func ("/ui/settings/presentation", test_presentation);
  g_test_add_func ("/ui/settings/recent-files", test_recent_files);
  int status = g_test_run ();
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmpdir);
  (void) !system (cmd);
  g_free (tmpdir);
  return status;
}
