/* gradus-scan-actions.c: opening and closing a scan's body on the canvas,
 * expanding and collapsing a zone. */
#include "gradus-scan-actions.h"
#include "gradus-scan-zone.h"

#include <glib/gi18n.h>

/* The scan the actions apply to: the selected one, or the only one. */
static char *
target_scan (GradusCanvas *canvas, GradusDocModel *model)
{
  g_auto (GStrv) sel = gradus_canvas_dup_selection (canvas);
  char *only = NULL;
  guint n_scans = 0;
  for (guint i = 0; i < gradus_doc_model_n_nodes (model); i++) {
    JsonObject *o = gradus_doc_model_node_at (model, i);
    const char *id = o ? json_object_get_string_member_with_default (o, "id", NULL) : NULL;
    if (!id || !gradus_scan_is_scan (o))
      continue;
    if (sel && g_strv_contains ((const char *const *) sel, id)) {
      g_free (only);
      return g_strdup (id);
    }
    if (n_scans++ == 0)
      only = g_strdup (id);
  }
  if (n_scans == 1)
    return only;
  g_free (only);
  return NULL;
}

static void
toggle_open (GradusWindow *window, const char *id)
{
  GradusCanvas *canvas = gradus_window_get_canvas (window);
  GradusDocModel *model = gradus_canvas_get_model (canvas);
  if (gradus_scan_get_open (model)) {
    g_autofree char *was = g_strdup (gradus_scan_get_open (model));
    gradus_scan_close (model);
    const char *ids[] = { was, NULL };
    gradus_canvas_set_selection (canvas, ids);
    gradus_canvas_zoom_to_fit (canvas);
    return;
  }
  g_autofree char *target = id ? g_strdup (id) : target_scan (canvas, model);
  g_autoptr (GError) error = NULL;
  if (!target) {
    gradus_window_message (window, _("Select a scan to open its body"));
    return;
  }
  if (!gradus_scan_open (model, target, &error)) {
    gradus_window_message (window, error->message);
    return;
  }
  gradus_canvas_zoom_to_fit (canvas);
}

static void
action_scan_open (GSimpleAction *a, GVariant *p, gpointer data)
{
  toggle_open (data, NULL);
}

static void
action_scan_expand (GSimpleAction *a, GVariant *p, gpointer data)
{
  GradusCanvas *canvas = gradus_window_get_canvas (data);
  GradusDocModel *model = gradus_canvas_get_model (canvas);
  g_autofree char *id = gradus_scan_get_open (model) ? NULL : target_scan (canvas, model);
  if (!id) {
    gradus_window_message (data, _("Select a scan to show its body in the zone"));
    return;
  }
  /* kept with the shown gradient graphs (ui.expanded) */
  gradus_canvas_set_gradient_shown (canvas, id, !gradus_canvas_get_gradient_shown (canvas, id));
}

void
gradus_scan_actions_install (GradusWindow *window)
{
  static const GActionEntry entries[] = {
    { "scan-open", action_scan_open },
    { "scan-expand", action_scan_expand },
  };
  g_action_map_add_action_entries (G_ACTION_MAP (window), entries, G_N_ELEMENTS (entries), window);
  /* The keys work in a window without an application too (tests); the
   * application lists them in its shortcuts window. */
  GtkEventController *sc = gtk_shortcut_controller_new ();
  const char *keys[][2] = {
    { "<Control>r", "win.scan-open" },
    { "<Control><Shift>r", "win.scan-expand" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (sc),
                                          gtk_shortcut_new (gtk_shortcut_trigger_parse_string (keys[i][0]),
                                                            gtk_named_action_new (keys[i][1])));
  gtk_widget_add_controller (GTK_WIDGET (window), sc);
}

gboolean
gradus_scan_canvas_activate (GradusCanvas *canvas, GradusSceneNode *sn)
{
  GradusScanBox *b = sn->scan;
  if (!b || (b->role != GRADUS_SCAN_BOX_ZONE && b->role != GRADUS_SCAN_BOX_OUTPUTS))
    return FALSE;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (canvas));
  if (!GRADUS_IS_WINDOW (root))
    return FALSE;
  toggle_open (GRADUS_WINDOW (root), b->role == GRADUS_SCAN_BOX_ZONE ? sn->id : NULL);
  return TRUE;
}
