/* gradus-run-panel.c: GradusRunPanel, where a class watches gradient descent.
 *
 * The panel owns a GrdDocument built from the editor's JSON, the compiled
 * function and the feeds. Run and Step hand them to a GradusRunWorker; until
 * its done callback nothing here touches them (every control that would is
 * insensitive meanwhile). Values arrive in batches and are appended to one
 * array per scalar series, which the plots reference and draw decimated.
 *
 * This file: the widget (its layout is gradus-run-panel.ui), its actions and
 * accessors. The document is built in gradus-run-panel-document.c, runs are
 * in gradus-run-panel-run.c. */
#include "gradus-run-panel-private.h"
#include "gradus-feed-editor.h"
#include "gradus-plot-card.h"
#include "gradus-run-resources.h"

#include <glib/gi18n.h>
#include <string.h>

G_DEFINE_FINAL_TYPE (GradusRunPanel, gradus_run_panel, GTK_TYPE_BOX)

guint gradus_run_panel_signals[GRADUS_RUN_PANEL_N_SIGNALS];

/* ---------------------------------------------------------------- status */

void
gradus_run_panel_set_status (GradusRunPanel *self, gboolean is_error, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *text = g_strdup_vprintf (format, args);
  va_end (args);
  gtk_label_set_text (GTK_LABEL (self->status_label), text);
  if (is_error) {
    gtk_widget_add_css_class (self->status_label, "error");
    g_free (self->error);
    self->error = g_strdup (text);
  } else {
    gtk_widget_remove_css_class (self->status_label, "error");
  }
}

/* A focused entry that goes away or turns insensitive without losing the
 * focus first makes GTK warn; hand the focus back to the window. */
void
gradus_run_panel_drop_focus_within (GtkWidget *widget)
{
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkWidget *focus = root ? gtk_root_get_focus (root) : NULL;
  if (focus && (focus == widget || gtk_widget_is_ancestor (focus, widget)))
    gtk_root_set_focus (root, NULL);
}

void
gradus_run_panel_update_actions (GradusRunPanel *self)
{
  gboolean running = self->worker != NULL;
  gboolean can_run = self->fn && self->feeds && !running;
  const struct { const char *name; gboolean on; } states[] = {
    { "run", can_run },
    { "step", can_run },
    { "pause", running },
    { "reset", self->root && !running },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (states); i++) {
    GAction *a = g_action_map_lookup_action (G_ACTION_MAP (self->actions), states[i].name);
    g_simple_action_set_enabled (G_SIMPLE_ACTION (a), states[i].on);
  }
  if (running) {
    gradus_run_panel_drop_focus_within (self->steps_spin);
    gradus_run_panel_drop_focus_within (self->feed_editor);
  }
  gtk_widget_set_sensitive (self->steps_spin, !running);
  gtk_widget_set_sensitive (self->backend_drop, !running);
  gtk_widget_set_sensitive (self->feed_editor, !running);
}

/* ---------------------------------------------------------------- accessors */

void
gradus_run_panel_set_problem (GradusRunPanel *self, const char *message)
{
  g_return_if_fail (GRADUS_IS_RUN_PANEL (self));
  gradus_run_panel_set_status (self, TRUE, "%s", message);
}

const char *
gradus_run_panel_get_status (GradusRunPanel *self)
{
  g_return_val_if_fail (GRADUS_IS_RUN_PANEL (self), NULL);
  return gtk_label_get_text (GTK_LABEL (self->status_label));
}

const char *
gradus_run_panel_get_error (GradusRunPanel *self)
{
  return self->error;
}

void
gradus_run_panel_set_steps (GradusRunPanel *self, gint64 steps)
{
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->steps_spin), (double) steps);
}

gint64
gradus_run_panel_get_steps (GradusRunPanel *self)
{
  return (gint64) gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->steps_spin));
}

GrdBackend
gradus_run_panel_get_backend (GradusRunPanel *self)
{
  return self->backend;
}

GrdBackend
gradus_run_panel_get_active_backend (GradusRunPanel *self)
{
  return self->fn ? grd_function_backend (self->fn) : GRD_BACKEND_CPU;
}

void
gradus_run_panel_set_nan_guard (GradusRunPanel *self, gboolean on)
{
  g_action_group_change_action_state (G_ACTION_GROUP (self->actions), "nan-guard",
                                      g_variant_new_boolean (on));
}

gint64
gradus_run_panel_get_n_calls (GradusRunPanel *self)
{
  return self->n_calls;
}

static GradusRunSeries *
find_slot (GradusRunPanel *self, const char *name)
{
  for (guint i = 0; i < self->slots->len; i++) {
    GradusRunSeries *s = g_ptr_array_index (self->slots, i);
    if (strcmp (s->name, name) == 0)
      return s;
  }
  /* An output reference of the file ("mse", "g:0"), then a title as shown. */
  for (gint i = 0; i < self->n_outputs; i++) {
    GradusRunSeries *s = g_ptr_array_index (self->slots, i);
    if (g_strcmp0 (s->ref, name) == 0)
      return s;
  }
  for (guint i = 0; i < self->slots->len; i++) {
    GradusRunSeries *s = g_ptr_array_index (self->slots, i);
    if (g_strcmp0 (s->label, name) == 0)
      return s;
  }
  return NULL;
}

GArray *
gradus_run_panel_get_series (GradusRunPanel *self, const char *name)
{
  g_return_val_if_fail (GRADUS_IS_RUN_PANEL (self), NULL);
  GradusRunSeries *s = find_slot (self, name);
  return s && s->scalar ? s->values : NULL;
}

GrdTensor *
gradus_run_panel_get_latest (GradusRunPanel *self, const char *name)
{
  GradusRunSeries *s = find_slot (self, name);
  return s ? s->latest : NULL;
}

GStrv
gradus_run_panel_list_series (GradusRunPanel *self)
{
  GStrv names = g_new0 (char *, self->slots->len + 1);
  for (guint i = 0; i < self->slots->len; i++)
    names[i] = g_strdup (((GradusRunSeries *) g_ptr_array_index (self->slots, i))->name);
  return names;
}

void
gradus_run_panel_set_text_scale (GradusRunPanel *self, double scale)
{
  g_return_if_fail (GRADUS_IS_RUN_PANEL (self));
  self->text_scale = scale;
  for (guint i = 0; i < self->plots->len; i++)
    gradus_plot_set_text_scale (self->plots->pdata[i], scale);
}

GPtrArray *
gradus_run_panel_get_plots (GradusRunPanel *self)
{
  return self->plots;
}

GArray *
gradus_run_panel_get_profile (GradusRunPanel *self)
{
  return self->profile;
}

GActionGroup *
gradus_run_panel_get_action_group (GradusRunPanel *self)
{
  return G_ACTION_GROUP (self->actions);
}

/* ---------------------------------------------------------------- actions */

static void
action_run (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  gradus_run_panel_run (user_data, 0);
}

static void
action_pause (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  gradus_run_panel_pause (user_data);
}

static void
action_step (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  gradus_run_panel_step (user_data);
}

static void
action_reset (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  gradus_run_panel_reset (user_data);
}

static void
action_nan_guard (GSimpleAction *action, GVariant *value, gpointer user_data)
{
  GradusRunPanel *self = user_data;
  self->nan_guard = g_variant_get_boolean (value);
  g_simple_action_set_state (action, value);
}

static void
on_backend_selected (GtkDropDown *drop, GParamSpec *pspec, GradusRunPanel *self)
{
  if (self->updating_backend)
    return;
  self->updating_backend = TRUE;
  gradus_run_panel_set_backend (self, gtk_drop_down_get_selected (drop) == 1
                                      ? GRD_BACKEND_VULKAN : GRD_BACKEND_CPU);
  self->updating_backend = FALSE;
}

static void
on_function_selected (GtkDropDown *drop, GParamSpec *pspec, GradusRunPanel *self)
{
  if (self->updating_function)
    return;
  GtkStringObject *item = gtk_drop_down_get_selected_item (drop);
  if (item)
    gradus_run_panel_set_function (self, gtk_string_object_get_string (item));
}

static gboolean
on_feed_apply (GradusFeedEditor *editor, const char *input, const char *text,
               GradusRunPanel *self)
{
  return gradus_run_panel_on_feed_apply (self, input, text);
}

/* ---------------------------------------------------------------- object */

static void
gradus_run_panel_dispose (GObject *object)
{
  GradusRunPanel *self = GRADUS_RUN_PANEL (object);
  if (self->worker)
    gradus_run_worker_free (g_steal_pointer (&self->worker));
  gtk_widget_dispose_template (GTK_WIDGET (self), GRADUS_TYPE_RUN_PANEL);
  G_OBJECT_CLASS (gradus_run_panel_parent_class)->dispose (object);
}

static void
gradus_run_panel_finalize (GObject *object)
{
  GradusRunPanel *self = GRADUS_RUN_PANEL (object);
  gradus_run_panel_clear_last_call (self);
  g_clear_pointer (&self->fn, grd_function_free);
  g_clear_pointer (&self->feeds, g_ptr_array_unref);
  g_array_unref (self->also);
  g_ptr_array_unref (self->also_names);
  g_ptr_array_unref (self->allowed_data);
  g_free (self->function);
  g_clear_pointer (&self->doc, grd_document_free);
  g_clear_pointer (&self->root, json_node_unref);
  g_clear_pointer (&self->resume_calls, json_object_unref);
  g_free (self->path);
  g_free (self->error);
  g_array_unref (self->inputs);
  g_array_unref (self->roots);
  g_array_unref (self->shared);
  g_ptr_array_unref (self->input_ids);
  g_hash_table_unref (self->overrides);
  g_ptr_array_unref (self->slots);
  g_ptr_array_unref (self->plots);
  g_array_unref (self->profile);
  g_object_unref (self->actions);
  G_OBJECT_CLASS (gradus_run_panel_parent_class)->finalize (object);
}

static void
gradus_run_panel_class_init (GradusRunPanelClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
  oc->dispose = gradus_run_panel_dispose;
  oc->finalize = gradus_run_panel_finalize;
  gtk_widget_class_set_css_name (wc, "gradusrunpanel");

  /* The template's own widget types, and its resource (a static library's
   * resource constructor is not linked in unless something refers to it). */
  g_type_ensure (GRADUS_TYPE_FEED_EDITOR);
  g_type_ensure (GRADUS_TYPE_PROFILE_VIEW);
  g_resources_register (gradus_run_get_resource ());
  gtk_widget_class_set_template_from_resource (wc, "/org/gradus/Gradus/run/gradus-run-panel.ui");
  gtk_widget_class_bind_template_child (wc, GradusRunPanel, steps_spin);
  gtk_widget_class_bind_template_child (wc, GradusRunPanel, backend_drop);
  gtk_widget_class_bind_template_child (wc, GradusRunPanel, progress);
  gtk_widget_class_bind_template_child (wc, GradusRunPanel, rate_label);
  gtk_widget_class_bind_template_child (wc, GradusRunPanel, status_label);
  gtk_widget_class_bind_template_child (wc, GradusRunPanel, plots_box);
  gtk_widget_class_bind_template_child (wc, GradusRunPanel, feed_editor);
  gtk_widget_class_bind_template_child (wc, GradusRunPanel, profile_view);
  gtk_widget_class_bind_template_callback (wc, on_backend_selected);
  gtk_widget_class_bind_template_callback (wc, on_feed_apply);
  gtk_widget_class_bind_template_callback (wc, on_function_selected);
  gtk_widget_class_bind_template_child (wc, GradusRunPanel, function_box);
  gtk_widget_class_bind_template_child (wc, GradusRunPanel, function_drop);

  gradus_run_panel_signals[GRADUS_RUN_PANEL_SIGNAL_FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_INT);
  gradus_run_panel_signals[GRADUS_RUN_PANEL_SIGNAL_NAN_FOUND] =
    g_signal_new ("nan-found", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_INT64);
  gradus_run_panel_signals[GRADUS_RUN_PANEL_SIGNAL_RUNNING_CHANGED] =
    g_signal_new ("running-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
  gradus_run_panel_signals[GRADUS_RUN_PANEL_SIGNAL_CLEARED] =
    g_signal_new ("cleared", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
  gradus_run_panel_signals[GRADUS_RUN_PANEL_SIGNAL_DATA_REFUSED] =
    g_signal_new ("data-refused", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
gradus_run_panel_init (GradusRunPanel *self)
{
  self->inputs = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  self->roots = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  self->shared = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  self->input_ids = g_ptr_array_new_with_free_func (g_free);
  self->overrides = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) json_node_unref);
  self->slots = g_ptr_array_new_with_free_func (gradus_run_series_free);
  self->also = gradus_run_panel_also_new ();
  self->also_names = g_ptr_array_new_with_free_func (g_free);
  self->allowed_data = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (self->allowed_data, NULL);
  self->plots = g_ptr_array_new ();
  self->text_scale = 1.0;
  self->profile = gradus_profile_rows_new ();
  self->nan_guard = TRUE;
  self->backend = GRD_BACKEND_CPU;
  self->last_step = -1;
  self->file_steps = -1;

  /* The actions first: the template's buttons look them up as they are made. */
  self->actions = g_simple_action_group_new ();
  const GActionEntry entries[] = {
    { .name = "run", .activate = action_run },
    { .name = "pause", .activate = action_pause },
    { .name = "step", .activate = action_step },
    { .name = "reset", .activate = action_reset },
    { .name = "nan-guard", .state = "true", .change_state = action_nan_guard },
  };
  g_action_map_add_action_entries (G_ACTION_MAP (self->actions), entries, G_N_ELEMENTS (entries),
                                   self);
  gtk_widget_insert_action_group (GTK_WIDGET (self), "run", G_ACTION_GROUP (self->actions));

  gtk_widget_init_template (GTK_WIDGET (self));
  gradus_run_panel_update_actions (self);
}

GtkWidget *
gradus_run_panel_new (void)
{
  return g_object_new (GRADUS_TYPE_RUN_PANEL, NULL);
}
