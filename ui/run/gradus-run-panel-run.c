/* gradus-run-panel-run.c: runs of the panel's function on a GradusRunWorker:
 * started, their values appended to the series as batches arrive, paused,
 * and what the end brings (status, profile, the last call for live values). */
#include "gradus-run-panel-private.h"

#include <glib/gi18n.h>

/* The calls-per-second label changes at most this often. */
#define RATE_INTERVAL_US 250000

void
gradus_run_panel_stop_worker (GradusRunPanel *self)
{
  if (!self->worker)
    return;
  gradus_run_worker_free (g_steal_pointer (&self->worker));
  g_signal_emit (self, gradus_run_panel_signals[GRADUS_RUN_PANEL_SIGNAL_RUNNING_CHANGED], 0, FALSE);
}

void
gradus_run_panel_clear_last_call (GradusRunPanel *self)
{
  for (guint i = 0; self->last_inputs && i < self->inputs->len; i++)
    g_clear_pointer (&self->last_inputs[i], grd_tensor_unref);
  for (guint i = 0; self->last_shared && i < self->shared->len; i++)
    g_clear_pointer (&self->last_shared[i], grd_tensor_unref);
  g_clear_pointer (&self->last_inputs, g_free);
  g_clear_pointer (&self->last_shared, g_free);
  self->last_step = -1;
}

static void
on_batch (const GradusRunBatch *batch, gpointer user_data)
{
  GradusRunPanel *self = user_data;
  for (gint i = 0; i < batch->n_slots && (guint) i < self->slots->len; i++) {
    GradusRunSeries *s = g_ptr_array_index (self->slots, i);
    GArray *scalars = batch->scalars[i];
    if (s->scalar && scalars->len > 0)
      g_array_append_vals (s->values, scalars->data, scalars->len);
    if (batch->latest[i]) {
      if (s->latest)
        grd_tensor_unref (s->latest);
      s->latest = grd_tensor_ref (batch->latest[i]);
      if (s->plot)
        gradus_plot_set_value (s->plot, s->latest);
    }
  }
  for (guint i = 0; i < self->plots->len; i++) {
    GradusPlot *plot = g_ptr_array_index (self->plots, i);
    if (gradus_plot_get_mode (plot) == GRADUS_PLOT_LINES)
      gradus_plot_changed (plot);
  }
  self->n_calls += batch->n_calls;
  self->run_done += batch->n_calls;
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress),
                                 self->run_target > 0
                                 ? (double) self->run_done / self->run_target : 1);
  gint64 now = g_get_monotonic_time ();
  if (now - self->rate_shown_us >= RATE_INTERVAL_US && now > self->run_start_us) {
    self->rate_shown_us = now;
    g_autofree char *rate = g_strdup_printf (_("%.0f calls/s"),
                                             self->run_done / ((now - self->run_start_us) / 1e6));
    gtk_label_set_text (GTK_LABEL (self->rate_label), rate);
  }
}

static void
on_done (const GradusRunResult *result, gpointer user_data)
{
  GradusRunPanel *self = user_data;
  GrdTensor **inputs, **shared;
  gint64 last = gradus_run_worker_take_last_call (self->worker, &inputs, &shared);
  if (last >= 0) {
    gradus_run_panel_clear_last_call (self);
    self->last_inputs = inputs;
    self->last_shared = shared;
    self->last_step = last;
  } else {
    g_free (inputs);
    g_free (shared);
  }
  gradus_run_worker_free (g_steal_pointer (&self->worker));
  double rate = result->seconds > 0 ? result->n_calls / result->seconds : 0;
  if (rate > 0) {
    g_autofree char *text = g_strdup_printf (_("%.0f calls/s"), rate);
    gtk_label_set_text (GTK_LABEL (self->rate_label), text);
  }
  switch (result->end) {
  case GRADUS_RUN_COMPLETED:
    gradus_run_panel_set_status (self, FALSE,
                                 _("%lld calls in %.1f ms (%lld in all)"),
                                 (long long) result->n_calls, result->seconds * 1e3, (long long) self->n_calls);
    break;
  case GRADUS_RUN_PAUSED:
    gradus_run_panel_set_status (self, FALSE, _("Paused after %lld calls"),
                                 (long long) self->n_calls);
    break;
  case GRADUS_RUN_FAILED:
    gradus_run_panel_set_status (self, TRUE, "%s",
                                 result->error ? result->error->message : _("the call failed"));
    break;
  case GRADUS_RUN_NON_FINITE: {
    GradusRunSeries *s = g_ptr_array_index (self->slots, result->nan_slot);
    gboolean is_output = result->nan_slot < self->n_outputs;
    g_autofree char *where = result->nan_node
                             ? g_strdup_printf (_("; first produced by node '%s'"), result->nan_node)
                             : g_strdup ("");
    gradus_run_panel_set_status (self, TRUE,
                                 _("NaN guard: call %lld gave a non-finite value in %s '%s'%s"),
                                 (long long) result->nan_step,
                                 is_output ? _("output") : _("shared variable"), s->label, where);
    break;
  }
  }
  gradus_profile_rows_fill (self->profile, self->fn);
  gradus_profile_view_show (GRADUS_PROFILE_VIEW (self->profile_view), self->profile);
  gradus_run_panel_update_actions (self);
  g_signal_emit (self, gradus_run_panel_signals[GRADUS_RUN_PANEL_SIGNAL_RUNNING_CHANGED], 0, FALSE);
  if (result->end == GRADUS_RUN_NON_FINITE)
    g_signal_emit (self, gradus_run_panel_signals[GRADUS_RUN_PANEL_SIGNAL_NAN_FOUND], 0,
                   result->nan_node ? result->nan_node : "", result->nan_step);
  g_signal_emit (self, gradus_run_panel_signals[GRADUS_RUN_PANEL_SIGNAL_FINISHED], 0,
                 (gint) result->end);
}

static gboolean
start_run (GradusRunPanel *self, gint64 n_steps)
{
  if (self->worker || !self->fn || !self->feeds || n_steps <= 0)
    return FALSE;
  GradusRunSetup setup = {
    .graph = grd_document_graph (self->doc),
    .fn = self->fn,
    .feeds = self->feeds,
    .inputs = (GrdRef *) self->inputs->data,
    .n_inputs = self->inputs->len,
    .roots = (GrdRef *) self->roots->data,
    .n_roots = self->roots->len,
    .shared = (GrdRef *) self->shared->data,
    .n_shared = self->shared->len,
    .first_step = self->first_step + self->n_calls,
    .n_steps = n_steps,
    .nan_guard = self->nan_guard,
    .also = (GradusRunAlso *) self->also->data,
    .n_also = self->also->len,
  };
  g_clear_pointer (&self->error, g_free);
  self->run_target = n_steps;
  self->run_done = 0;
  self->run_start_us = self->rate_shown_us = g_get_monotonic_time ();
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), 0);
  /* Shown from the first run only: an empty bar looked like a scrollbar. */
  gtk_widget_set_visible (self->progress, TRUE);
  gradus_run_panel_set_status (self, FALSE, _("Running %lld calls…"), (long long) n_steps);
  self->worker = gradus_run_worker_start (&setup, on_batch, on_done, self);
  gradus_run_panel_update_actions (self);
  g_signal_emit (self, gradus_run_panel_signals[GRADUS_RUN_PANEL_SIGNAL_RUNNING_CHANGED], 0, TRUE);
  return TRUE;
}

gboolean
gradus_run_panel_run (GradusRunPanel *self, gint64 n_steps)
{
  g_return_val_if_fail (GRADUS_IS_RUN_PANEL (self), FALSE);
  return start_run (self, n_steps > 0 ? n_steps : gradus_run_panel_get_steps (self));
}

gboolean
gradus_run_panel_step (GradusRunPanel *self)
{
  g_return_val_if_fail (GRADUS_IS_RUN_PANEL (self), FALSE);
  return start_run (self, 1);
}

void
gradus_run_panel_pause (GradusRunPanel *self)
{
  g_return_if_fail (GRADUS_IS_RUN_PANEL (self));
  if (!self->worker)
    return;
  gradus_run_worker_pause (self->worker);
  GAction *a = g_action_map_lookup_action (G_ACTION_MAP (self->actions), "pause");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (a), FALSE);
  gradus_run_panel_set_status (self, FALSE, _("Pausing after the current call…"));
}

gboolean
gradus_run_panel_is_running (GradusRunPanel *self)
{
  return self->worker != NULL;
}

GHashTable *
gradus_run_panel_dup_node_values (GradusRunPanel *self, gint64 *call, GError **error)
{
  g_return_val_if_fail (GRADUS_IS_RUN_PANEL (self), NULL);
  if (self->worker || !self->doc || self->last_step < 0 || !self->last_inputs) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE, "%s",
                 self->worker ? _("values are shown when the run stops") : _("no call made yet"));
    return NULL;
  }
  if (call)
    *call = self->last_step;
  /* A Vulkan function keeps its shared values on the device: bring them home
   * so that the graph's own values are put back as they are. */
  if (self->fn)
    grd_function_sync (self->fn, NULL);
  return gradus_run_eval_nodes (grd_document_graph (self->doc), (GrdRef *) self->inputs->data,
                                self->inputs->len, self->last_inputs,
                                (GrdRef *) self->shared->data, self->shared->len,
                                self->last_shared, error);
}
