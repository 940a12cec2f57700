/* gradus-keep-action.c: Keep Trained Values.
 *
 * The run panel holds a run; the document holds the file. Keeping copies the
 * run's shared values (after the last call, brought home from a Vulkan
 * device) and run.resume into the document, through the engine's writer of
 * `gradus run --save` (grd_document_dup_saved_tree): one undo step. The run
 * binding sees a change of values only and lets the run go on (plots, calls,
 * compiled function); Reset then starts from the kept values. Undoing a keep
 * changes the document back, not the run. */
#include "gradus-keep-action.h"
#include "gradus-run-binding.h"
#include "gradus-run-panel.h"

#include <glib/gi18n.h>

static GradusRunPanel *
panel_of (GradusWindow *window)
{
  return GRADUS_RUN_PANEL (gradus_window_get_run_panel (window));
}

static void
update_sensitive (GradusWindow *window)
{
  GAction *a = g_action_map_lookup_action (G_ACTION_MAP (window), "keep-trained");
  GradusRunBinding *binding = gradus_window_get_run_binding (window);
  /* An edit not yet in the panel: its run is of another function. */
  gboolean on = binding && gradus_run_panel_can_keep (panel_of (window))
                && gradus_run_binding_is_current (binding);
  if (a)
    g_simple_action_set_enabled (G_SIMPLE_ACTION (a), on);
}

gboolean
gradus_keep_trained (GradusWindow *window, GError **error)
{
  g_return_val_if_fail (GRADUS_IS_WINDOW (window), FALSE);
  GradusRunPanel *panel = panel_of (window);
  GradusRunBinding *binding = gradus_window_get_run_binding (window);
  if (!gradus_run_binding_is_current (binding)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE, "%s",
                 _("The graph changed since the run: run it again to keep its values"));
    return FALSE;
  }
  g_autoptr (JsonNode) saved = gradus_run_panel_dup_kept_tree (panel, error);
  if (!saved || !gradus_doc_model_keep_values (gradus_window_get_model (window), saved, error))
    return FALSE;
  gradus_run_panel_mark_kept (panel);
  /* The panel takes the kept JSON now: a Reset right away starts from it. */
  gradus_run_binding_flush (binding);
  update_sensitive (window);
  return TRUE;
}

static void
action_keep_trained (GSimpleAction *a, GVariant *p, gpointer data)
{
  GradusWindow *window = data;
  g_autoptr (GError) error = NULL;
  if (!gradus_keep_trained (window, &error)) {
    g_autofree char *msg = g_strdup_printf (_("Could not keep the trained values: %s"),
                                            error->message);
    gradus_window_message (window, msg);
    return;
  }
  gint64 calls = gradus_run_panel_get_n_calls (panel_of (window));
  g_autofree char *msg = g_strdup_printf (
    ngettext ("Kept the values after %lld call in the document (Ctrl+Z undoes it)",
              "Kept the values after %lld calls in the document (Ctrl+Z undoes it)", calls),
    (long long) calls);
  gradus_window_message (window, msg);
}

static const GActionEntry keep_actions[] = {
  { "keep-trained", action_keep_trained },
};

void
gradus_keep_action_install (GradusWindow *window)
{
  g_action_map_add_action_entries (G_ACTION_MAP (window), keep_actions, G_N_ELEMENTS (keep_actions),
                                   window);
  GtkWidget *panel = gradus_window_get_run_panel (window);
  /* What changes whether there is anything to keep: calls, Reset, edits. */
  g_signal_connect_object (panel, "finished", G_CALLBACK (update_sensitive), window,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (panel, "cleared", G_CALLBACK (update_sensitive), window,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (panel, "running-changed", G_CALLBACK (update_sensitive), window,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (gradus_window_get_model (window), "changed",
                           G_CALLBACK (update_sensitive), window,
                           G_CONNECT_SWAPPED | G_CONNECT_AFTER);
  update_sensitive (window);
}
