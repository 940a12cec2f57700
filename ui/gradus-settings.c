/* gradus-settings.c: the editor's preferences in GSettings.
 *
 * A window's state is followed through property notifications into a small
 * record and written when the window goes (finalised), not on every step of
 * a resize; the back end is read then from the run panel, which the record
 * keeps alive until that moment. Presentation mode follows the window's
 * stateful boolean action win.presentation, whenever that action is added. */
#include "gradus-settings.h"
#include "gradus-run-panel.h"

#include <string.h>

/* Below this the run panel's paned has no real height yet (not shown). */
#define MIN_PANED_HEIGHT 300

GSettings *
gradus_settings_new (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  if (!source)
    return NULL;
  g_autoptr (GSettingsSchema) schema = g_settings_schema_source_lookup (source, GRADUS_SETTINGS_SCHEMA_ID, TRUE);
  if (!schema)
    return NULL;
  return g_settings_new_full (schema, NULL, NULL);
}

typedef struct {
  GSettings *settings;
  GtkWidget *run_panel;     /* strong: read when the window has gone */
  GAction   *presentation;  /* strong, or NULL */
  gulong     presentation_handler;
  int        width, height;
  gboolean   maximized;
  int        panel_height;  /* -1: not known yet */
  gboolean   panel_restored;
} WindowState;

static void
window_state_free (WindowState *ws)
{
  /* The window is gone: what it last showed is kept. */
  if (ws->width > 0 && ws->height > 0) {
    g_settings_set_int (ws->settings, "window-width", ws->width);
    g_settings_set_int (ws->settings, "window-height", ws->height);
  }
  g_settings_set_boolean (ws->settings, "window-maximized", ws->maximized);
  if (ws->panel_height >= 0)
    g_settings_set_int (ws->settings, "panel-height", ws->panel_height);
  if (GRADUS_IS_RUN_PANEL (ws->run_panel))
    g_settings_set_enum (ws->settings, "backend",
                         gradus_run_panel_get_backend (GRADUS_RUN_PANEL (ws->run_panel)) == GRD_BACKEND_VULKAN);
  if (ws->presentation) {
    g_signal_handler_disconnect (ws->presentation, ws->presentation_handler);
    g_object_unref (ws->presentation);
  }
  g_clear_object (&ws->run_panel);
  g_object_unref (ws->settings);
  g_free (ws);
}

static void
size_changed (GtkWindow *window, GParamSpec *pspec, WindowState *ws)
{
  ws->maximized = gtk_window_is_maximized (window);
  /* A maximised window's size is the screen's: keep the one to go back to. */
  if (ws->maximized)
    return;
  int w = 0, h = 0;
  gtk_window_get_default_size (window, &w, &h);
  if (w > 0 && h > 0) {
    ws->width = w;
    ws->height = h;
  }
}

static void
paned_changed (GtkPaned *paned, GParamSpec *pspec, WindowState *ws)
{
  int max = 0;
  g_object_get (paned, "max-position", &max, NULL);
  /* Not while hidden or torn down: its children and sizes are not the user's. */
  if (max < MIN_PANED_HEIGHT || !gtk_widget_get_mapped (GTK_WIDGET (paned)))
    return;
  if (!ws->panel_restored) {
    /* Once, after the window has set its own first height: the user's. */
    ws->panel_restored = TRUE;
    g_autoptr (GVariant) saved = g_settings_get_user_value (ws->settings, "panel-height");
    if (saved) {
      int panel = CLAMP (g_variant_get_int32 (saved), 0, max);
      gtk_paned_set_position (paned, max - panel);
    }
  }
  ws->panel_height = MAX (0, max - gtk_paned_get_position (paned));
}

static void
presentation_changed (GAction *action, GParamSpec *pspec, WindowState *ws)
{
  g_autoptr (GVariant) state = g_action_get_state (action);
  g_settings_set_boolean (ws->settings, "presentation-mode", g_variant_get_boolean (state));
}

/* Binds presentation-mode to win.presentation if the window has it as a
 * stateful boolean action. */
static void
bind_presentation (GtkWindow *window, WindowState *ws)
{
  if (!G_IS_ACTION_MAP (window))
    return;
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (window), "presentation");
  const GVariantType *type = action ? g_action_get_state_type (action) : NULL;
  if (action == ws->presentation || !type || !g_variant_type_equal (type, G_VARIANT_TYPE_BOOLEAN))
    return;
  /* A replaced action: follow the new one. */
  if (ws->presentation) {
    g_signal_handler_disconnect (ws->presentation, ws->presentation_handler);
    g_clear_object (&ws->presentation);
  }
  ws->presentation = g_object_ref (action);
  g_autoptr (GVariant) state = g_action_get_state (action);
  gboolean wanted = g_settings_get_boolean (ws->settings, "presentation-mode");
  if (g_variant_get_boolean (state) != wanted)
    g_action_change_state (action, g_variant_new_boolean (wanted));
  ws->presentation_handler = g_signal_connect (action, "notify::state",
                                               G_CALLBACK (presentation_changed), ws);
}

static void
action_added (GActionGroup *group, const char *name, WindowState *ws)
{
  bind_presentation (GTK_WINDOW (group), ws);
}

void
gradus_settings_attach_window (GtkWindow *window, GtkWidget *run_panel)
{
  g_return_if_fail (GTK_IS_WINDOW (window));
  GSettings *settings = gradus_settings_new ();
  if (!settings)
    return;
  WindowState *ws = g_new0 (WindowState, 1);
  ws->settings = settings;
  ws->panel_height = -1;

  ws->width = g_settings_get_int (settings, "window-width");
  ws->height = g_settings_get_int (settings, "window-height");
  ws->maximized = g_settings_get_boolean (settings, "window-maximized");
  if (ws->width > 0 && ws->height > 0)
    gtk_window_set_default_size (window, ws->width, ws->height);
  if (ws->maximized)
    gtk_window_maximize (window);
  g_signal_connect (window, "notify::default-width", G_CALLBACK (size_changed), ws);
  g_signal_connect (window, "notify::default-height", G_CALLBACK (size_changed), ws);
  g_signal_connect (window, "notify::maximized", G_CALLBACK (size_changed), ws);

  if (GRADUS_IS_RUN_PANEL (run_panel)) {
    ws->run_panel = g_object_ref (run_panel);
    if (g_settings_get_enum (settings, "backend") == 1)
      gradus_run_panel_set_backend (GRADUS_RUN_PANEL (run_panel), GRD_BACKEND_VULKAN);
    GtkWidget *paned = gtk_widget_get_parent (run_panel);
    if (GTK_IS_PANED (paned)) {
      g_signal_connect (paned, "notify::max-position", G_CALLBACK (paned_changed), ws);
      g_signal_connect (paned, "notify::position", G_CALLBACK (paned_changed), ws);
    }
  }

  bind_presentation (window, ws);
  if (G_IS_ACTION_GROUP (window))
    g_signal_connect (window, "action-added::presentation", G_CALLBACK (action_added), ws);
  /* Freed, and written, when the window is finalised. */
  g_object_set_data_full (G_OBJECT (window), "gradus-settings-state", ws,
                          (GDestroyNotify) window_state_free);
}

void
gradus_settings_add_recent (const char *path)
{
  g_return_if_fail (path != NULL);
  g_autoptr (GSettings) settings = gradus_settings_new ();
  if (!settings)
    return;
  g_auto (GStrv) old = g_settings_get_strv (settings, "recent-files");
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  g_strv_builder_add (b, path);
  guint n = 1;
  for (char **p = old; *p && n < GRADUS_SETTINGS_MAX_RECENT; p++) {
    if (g_str_equal (*p, path))
      continue;
    g_strv_builder_add (b, *p);
    n++;
  }
  g_auto (GStrv) now = g_strv_builder_end (b);
  g_settings_set_strv (settings, "recent-files", (const char *const *) now);
}

char **
gradus_settings_dup_recent (void)
{
  g_autoptr (GSettings) settings = gradus_settings_new ();
  if (!settings)
    return g_new0 (char *, 1);
  return g_settings_get_strv (settings, "recent-files");
}

char **
gradus_settings_recent_paths (guint max)
{
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint n = 0;
  g_auto (GStrv) kept = gradus_settings_dup_recent ();
  GList *items = gtk_recent_manager_get_items (gtk_recent_manager_get_default ());
  GPtrArray *all = g_ptr_array_new_with_free_func (g_free);
  for (char **p = kept; *p; p++)
    g_ptr_array_add (all, g_strdup (*p));
  for (GList *l = items; l; l = l->next) {
    char *path = g_filename_from_uri (gtk_recent_info_get_uri (l->data), NULL, NULL);
    if (path)
      g_ptr_array_add (all, path);
  }
  g_list_free_full (items, (GDestroyNotify) gtk_recent_info_unref);
  for (guint i = 0; i < all->len && n < max; i++) {
    const char *path = all->pdata[i];
    if (!g_str_has_suffix (path, ".gradus") || !g_file_test (path, G_FILE_TEST_EXISTS) ||
        !g_hash_table_add (seen, g_strdup (path)))
      continue;
    g_strv_builder_add (b, path);
    n++;
  }
  g_ptr_array_unref (all);
  return g_strv_builder_end (b);
}

void
gradus_settings_sync (void)
{
  g_settings_sync ();
}
