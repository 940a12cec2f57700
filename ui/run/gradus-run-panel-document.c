/* gradus-run-panel-document.c: the run panel's document: built from the
 * editor's JSON, its function compiled, its plots and feed rows made; a back
 * end switched and a feed replaced on it. */
#include "gradus-run-panel-private.h"
#include "gradus-feed-editor.h"
#include "gradus-plot-card.h"
#include "gradus-run-data.h"

#include <glib/gi18n.h>
#include <string.h>

void
gradus_run_panel_clear_document (GradusRunPanel *self)
{
  gradus_run_panel_stop_worker (self);
  gradus_run_panel_clear_last_call (self);
  g_clear_pointer (&self->fn, grd_function_free);
  g_clear_pointer (&self->feeds, g_ptr_array_unref);
  g_array_set_size (self->also, 0);
  g_ptr_array_set_size (self->also_names, 0);
  g_clear_pointer (&self->doc, grd_document_free);
  g_array_set_size (self->inputs, 0);
  g_array_set_size (self->roots, 0);
  g_array_set_size (self->shared, 0);
  g_ptr_array_set_size (self->input_ids, 0);
  g_ptr_array_set_size (self->slots, 0);
  g_ptr_array_set_size (self->plots, 0);
  g_array_set_size (self->profile, 0);
  self->n_outputs = 0;
  self->n_calls = 0;
  self->kept_calls = 0;
  self->first_step = 0;
  g_clear_pointer (&self->resume_calls, json_object_unref);
  g_clear_pointer (&self->error, g_free);
  gradus_run_panel_drop_focus_within (self->plots_box);
  GtkWidget *card;
  while ((card = gtk_widget_get_first_child (self->plots_box)))
    gtk_flow_box_remove (GTK_FLOW_BOX (self->plots_box), card);
  gradus_profile_view_clear (GRADUS_PROFILE_VIEW (self->profile_view));
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), 0);
  gtk_widget_set_visible (self->progress, FALSE);
  gtk_label_set_text (GTK_LABEL (self->rate_label), "");
}

/* Takes the compiled function's inputs, roots and output series. */
static void
take_compiled (GradusRunPanel *self, GradusRunCompiled *c, gboolean keep_output_series)
{
  self->fn = g_steal_pointer (&c->fn);
  g_array_append_vals (self->inputs, c->inputs->data, c->inputs->len);
  for (guint i = 0; i < c->input_ids->len; i++)
    g_ptr_array_add (self->input_ids, g_strdup (c->input_ids->pdata[i]));
  g_array_append_vals (self->roots, c->roots->data, c->roots->len);
  /* The outputs come first in the slots, before the shared variables. */
  if (!keep_output_series) {
    g_assert (self->slots->len == 0);
    while (c->outputs->len > 0)
      g_ptr_array_add (self->slots, g_ptr_array_steal_index (c->outputs, 0));
    self->n_outputs = self->slots->len;
  }
  if (c->warning)
    gradus_run_panel_set_status (self, FALSE, "%s", c->warning);
}

static GradusPlot *
add_plot (GradusRunPanel *self, GradusPlotMode mode, const char *title)
{
  GtkWidget *card = gradus_plot_card_new (mode, title);
  gtk_flow_box_append (GTK_FLOW_BOX (self->plots_box), card);
  GradusPlot *plot = gradus_plot_card_get_plot (GRADUS_PLOT_CARD (card));
  gradus_plot_set_text_scale (plot, self->text_scale);
  g_ptr_array_add (self->plots, plot);
  return plot;
}

static void
build_plots (GradusRunPanel *self)
{
  GradusPlot *outputs = NULL, *shared = NULL;
  for (guint i = 0; i < self->slots->len; i++) {
    GradusRunSeries *s = g_ptr_array_index (self->slots, i);
    gboolean is_output = (gint) i < self->n_outputs;
    if (s->scalar) {
      /* One y axis per kind of series: each output (a loss, an accuracy) in a
       * plot of its own, the shared variables together. */
      if (i >= self->n_outputs + self->shared->len)
        break;   /* the also functions' outputs, plotted below */
      if (is_output)
        outputs = add_plot (self, GRADUS_PLOT_LINES, s->label);
      else if (!shared)
        shared = add_plot (self, GRADUS_PLOT_LINES, _("Shared variables"));
      gradus_plot_add_series (is_output ? outputs : shared, s->label, s->values);
    }
  }
  /* Each also function: its scalar outputs together, a point where it was called. */
  guint first_also = self->n_outputs + self->shared->len;
  for (guint a = 0, i = first_also; a < self->also->len; a++) {
    GradusRunAlso *also = &g_array_index (self->also, GradusRunAlso, a);
    g_autofree char *title = g_strdup_printf (_("%s, every %d calls"),
                                              (char *) self->also_names->pdata[a], also->every);
    GradusPlot *plot = NULL;
    for (gint k = 0; k < grd_function_n_outputs (also->fn); k++, i++) {
      GradusRunSeries *s = g_ptr_array_index (self->slots, i);
      if (!s->scalar)
        continue;
      if (!plot)
        plot = add_plot (self, GRADUS_PLOT_LINES, title);
      gradus_plot_add_sparse_series (plot, s->label, s->values);
    }
  }
  /* Vectors and matrices after the lines, each in a small plot of its own. */
  for (guint i = 0; i < first_also; i++) {
    GradusRunSeries *s = g_ptr_array_index (self->slots, i);
    if (s->scalar)
      continue;
    GrdGraph *graph = grd_document_graph (self->doc);
    gint rank = s->latest ? s->latest->rank
                          : grd_graph_ref_type (graph, g_array_index (self->roots, GrdRef, i))->rank;
    s->plot = add_plot (self, rank >= 2 ? GRADUS_PLOT_HEATMAP : GRADUS_PLOT_VECTOR, s->label);
    if (s->latest)
      gradus_plot_set_value (s->plot, s->latest);
  }
}

static JsonObject *
member_object (JsonObject *obj, const char *name)
{
  JsonNode *n = obj ? json_object_get_member (obj, name) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static void
build_feed_rows (GradusRunPanel *self)
{
  GradusFeedEditor *editor = GRADUS_FEED_EDITOR (self->feed_editor);
  gradus_feed_editor_clear (editor);
  for (guint i = 0; i < self->input_ids->len; i++) {
    const char *id = g_ptr_array_index (self->input_ids, i);
    GrdGraph *graph = grd_document_graph (self->doc);
    const GrdType *type = grd_graph_ref_type (graph, g_array_index (self->inputs, GrdRef, i));
    g_autofree char *tdesc = type ? grd_type_describe (type) : g_strdup ("?");
    JsonNode *feed = g_hash_table_lookup (self->overrides, id);
    JsonObject *top = json_node_get_object (self->root);
    JsonObject *feeds = member_object (member_object (top, "run"), "feeds");
    if (!feed && feeds)
      feed = json_object_get_member (feeds, id);
    g_autofree char *text = feed ? json_to_string (feed, FALSE) : NULL;
    gradus_feed_editor_add_row (editor, id, tdesc, text);
  }
}

static gboolean
rebuild_feeds (GradusRunPanel *self, GError **error)
{
  g_clear_pointer (&self->feeds, g_ptr_array_unref);
  self->feeds = self->function
                ? grd_document_feeds_named (self->doc, self->function, NULL, self->overrides, error)
                : grd_document_feeds (self->doc, self->overrides, error);
  if (self->feeds && self->feeds->len != self->inputs->len) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("%u feeds for %u inputs"), self->feeds->len,
                 self->inputs->len);
    g_clear_pointer (&self->feeds, g_ptr_array_unref);
  }
  return self->feeds != NULL;
}

static void
also_clear (gpointer data)
{
  GradusRunAlso *also = data;
  g_clear_pointer (&also->fn, grd_function_free);
  g_clear_pointer (&also->feeds, g_ptr_array_unref);
}

GArray *
gradus_run_panel_also_new (void)
{
  GArray *also = g_array_new (FALSE, TRUE, sizeof (GradusRunAlso));
  g_array_set_clear_func (also, also_clear);
  return also;
}

/* run.also of the file, when Run calls the file's run function: each
 * function compiled with its feeds; with `add_series`, a series per output
 * after the shared ones. */
static gboolean
compile_also (GradusRunPanel *self, gboolean add_series, GError **error)
{
  g_array_set_size (self->also, 0);
  g_ptr_array_set_size (self->also_names, 0);
  if (self->function)
    return TRUE;
  g_autoptr (GPtrArray) entries = grd_document_run_also (self->doc, error);
  if (!entries)
    return FALSE;
  JsonObject *top = json_node_get_object (grd_document_root (self->doc));
  for (guint i = 0; i < entries->len; i++) {
    GrdRunAlso *entry = g_ptr_array_index (entries, i);
    g_autoptr (GradusRunCompiled) c = gradus_run_compile (self->doc, entry->function,
                                                          self->backend, error);
    GPtrArray *feeds = c ? grd_document_feeds_named (self->doc, entry->function, entry->feeds,
                                                     NULL, error) : NULL;
    if (!feeds) {
      g_prefix_error (error, _("run.also %s: "), entry->function);
      return FALSE;
    }
    GradusRunAlso also = { .fn = g_steal_pointer (&c->fn), .feeds = feeds, .every = entry->every };
    g_array_append_val (self->also, also);
    g_ptr_array_add (self->also_names, g_strdup (entry->function));
    for (guint k = 0; add_series && k < c->outputs->len; k++) {
      GradusRunSeries *out = c->outputs->pdata[k];
      g_autofree char *name = g_strdup_printf ("%s/%s", entry->function, out->name);
      g_autofree char *label = gradus_run_ref_label (top, out->ref);
      g_ptr_array_add (self->slots, gradus_run_series_new (name, out->ref, label, out->scalar));
    }
  }
  return TRUE;
}

/* The chooser shows the file's functions when it has several, the one Run
 * calls selected. */
static void
update_function_chooser (GradusRunPanel *self)
{
  g_auto (GStrv) names = self->doc ? grd_document_function_names (self->doc) : NULL;
  guint n = names ? g_strv_length (names) : 0;
  gtk_widget_set_visible (self->function_box, n > 1);
  if (n <= 1)
    return;
  g_autofree char *run_name = self->function ? g_strdup (self->function)
                                             : grd_document_run_function (self->doc, NULL);
  guint selected = 0;
  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (names[i], run_name) == 0)
      selected = i;
  self->updating_function = TRUE;
  g_autoptr (GtkStringList) model = gtk_string_list_new ((const char *const *) names);
  gtk_drop_down_set_model (GTK_DROP_DOWN (self->function_drop), G_LIST_MODEL (model));
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->function_drop), selected);
  self->updating_function = FALSE;
}

gboolean
gradus_run_panel_set_function (GradusRunPanel *self, const char *name)
{
  g_return_val_if_fail (GRADUS_IS_RUN_PANEL (self), FALSE);
  if (self->worker)
    return FALSE;
  /* The file's run function is NULL: it calls its run.also functions too. */
  g_autofree char *run_name = self->doc ? grd_document_run_function (self->doc, NULL) : NULL;
  g_free (self->function);
  self->function = name && g_strcmp0 (name, run_name) != 0 ? g_strdup (name) : NULL;
  g_hash_table_remove_all (self->overrides);
  return gradus_run_panel_build_document (self);
}

const char *
gradus_run_panel_get_function (GradusRunPanel *self)
{
  return self->function;
}

gboolean
gradus_run_panel_build_document (GradusRunPanel *self)
{
  g_autoptr (GError) error = NULL;
  gradus_run_panel_clear_document (self);
  gradus_run_panel_set_status (self, FALSE, "%s", "");
  if (!self->root)
    return FALSE;
  GrdLimits limits;
  grd_limits_init (&limits);
  limits.allowed_data = (const char *const *) self->allowed_data->pdata;
  self->doc = grd_document_new_from_json_with_limits (self->root, self->path, GRD_DOCUMENT_STRICT,
                                                      &limits, &error);
  /* A chosen function that an edit removed: back to the file's. */
  if (self->doc && self->function) {
    g_auto (GStrv) names = grd_document_function_names (self->doc);
    if (!g_strv_contains ((const char *const *) names, self->function))
      g_clear_pointer (&self->function, g_free);
  }
  update_function_chooser (self);
  g_autoptr (GradusRunCompiled) compiled = self->doc
                                           ? gradus_run_compile (self->doc, self->function,
                                                                 self->backend, &error)
                                           : NULL;
  if (compiled) {
    take_compiled (self, compiled, FALSE);
    gradus_run_collect_shared (self->doc, self->shared, self->slots);
    if (!compile_also (self, TRUE, &error))
      g_clear_pointer (&self->fn, grd_function_free);
  }
  if (self->fn)
    gradus_run_panel_read_resume (self);
  if (self->fn) {
    /* Feed edits for inputs that are gone; then, if the edits no longer fit
     * the inputs, the file's feeds. */
    GHashTableIter iter;
    gpointer key;
    g_hash_table_iter_init (&iter, self->overrides);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      if (!g_ptr_array_find_with_equal_func (self->input_ids, key, g_str_equal, NULL))
        g_hash_table_iter_remove (&iter);
    if (g_hash_table_size (self->overrides) > 0 && !rebuild_feeds (self, NULL))
      g_hash_table_remove_all (self->overrides);
    if (rebuild_feeds (self, &error)) {
      guint n_in = self->inputs->len, n_out = (guint) self->n_outputs, n_sh = self->shared->len;
      g_autofree char *ins = g_strdup_printf (ngettext ("%u input", "%u inputs", n_in), n_in);
      g_autofree char *outs = g_strdup_printf (ngettext ("%u output", "%u outputs", n_out), n_out);
      g_autofree char *shs = g_strdup_printf (ngettext ("%u shared variable", "%u shared variables", n_sh),
                                              n_sh);
      /* TRANSLATORS: "Ready: 2 inputs, 1 output, 2 shared variables". */
      gradus_run_panel_set_status (self, FALSE, _("Ready: %s, %s, %s"), ins, outs, shs);
    }
    build_plots (self);
    build_feed_rows (self);
  }
  if (error)
    gradus_run_panel_set_status (self, TRUE, "%s", error->message);
  gradus_run_panel_update_actions (self);
  /* Results are gone: whoever shows them (the canvas's values, a NaN badge) follows. */
  g_signal_emit (self, gradus_run_panel_signals[GRADUS_RUN_PANEL_SIGNAL_CLEARED], 0);
  /* Refused for a data file outside the folder: the editor may ask the user. */
  if (error) {
    g_autoptr (GPtrArray) outside =
      gradus_run_data_outside (self->root, self->path,
                               (const char *const *) self->allowed_data->pdata);
    if (outside->len > 0)
      g_signal_emit (self, gradus_run_panel_signals[GRADUS_RUN_PANEL_SIGNAL_DATA_REFUSED], 0,
                     outside->pdata[0]);
  }
  return error == NULL;
}

gboolean
gradus_run_panel_set_document (GradusRunPanel *self, JsonNode *root, const char *path)
{
  g_return_val_if_fail (GRADUS_IS_RUN_PANEL (self), FALSE);
  gradus_run_panel_stop_worker (self);
  g_clear_pointer (&self->root, json_node_unref);
  self->root = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_copy (root) : NULL;
  /* A new file starts from its own feeds; an edit of the same one keeps the
   * feeds edited in the panel (build_document drops those that no longer fit). */
  /* Saving an untitled graph gives it a path: the same document still. */
  gboolean new_file = self->path && g_strcmp0 (path, self->path) != 0;
  if (new_file) {
    g_hash_table_remove_all (self->overrides);
    /* What the user allowed was for that document. */
    g_ptr_array_set_size (self->allowed_data, 0);
    g_ptr_array_add (self->allowed_data, NULL);
  }
  g_free (self->path);
  self->path = g_strdup (path);
  gboolean ok = gradus_run_panel_build_document (self);
  /* The steps field follows the file's run.steps for a new file or when that
   * changes, and keeps what the user typed otherwise. */
  /* A broken edit (no document) and its undo leave the field alone. */
  if (self->doc) {
    gint file_steps = grd_document_run_steps (self->doc, 1);
    if (new_file || (self->file_steps >= 0 && file_steps != self->file_steps))
      gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->steps_spin), file_steps);
    else if (self->file_steps < 0 && file_steps > 1)
      gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->steps_spin), file_steps);
    self->file_steps = file_steps;
  }
  if (!self->root)
    gradus_run_panel_set_status (self, FALSE, _("No document"));
  return ok;
}

void
gradus_run_panel_allow_data (GradusRunPanel *self, const char *path)
{
  g_return_if_fail (GRADUS_IS_RUN_PANEL (self) && path);
  if (self->worker)
    return;
  /* Before the NULL that ends the list. */
  g_ptr_array_insert (self->allowed_data, self->allowed_data->len - 1, g_strdup (path));
  gradus_run_panel_build_document (self);
}

void
gradus_run_panel_reset (GradusRunPanel *self)
{
  g_return_if_fail (GRADUS_IS_RUN_PANEL (self));
  /* The file's shared values: build the document again from the JSON. */
  gradus_run_panel_build_document (self);
}

gboolean
gradus_run_panel_set_backend (GradusRunPanel *self, GrdBackend backend)
{
  g_return_val_if_fail (GRADUS_IS_RUN_PANEL (self), FALSE);
  if (self->worker)
    return FALSE;
  if (!self->updating_backend) {
    self->updating_backend = TRUE;
    gtk_drop_down_set_selected (GTK_DROP_DOWN (self->backend_drop), backend);
    self->updating_backend = FALSE;
  }
  if (backend == self->backend)
    return TRUE;
  self->backend = backend;
  if (!self->doc)
    return TRUE;
  /* Recompile on the new back end from the shared values as they are now. */
  g_autoptr (GError) error = NULL;
  if (self->fn)
    grd_function_sync (self->fn, NULL);
  g_clear_pointer (&self->fn, grd_function_free);
  g_array_set_size (self->inputs, 0);
  g_array_set_size (self->roots, 0);
  g_ptr_array_set_size (self->input_ids, 0);
  gradus_run_panel_set_status (self, FALSE, _("Compiled for %s"), grd_backend_name (backend));
  for (guint i = 0; i < self->also->len; i++)
    grd_function_sync (g_array_index (self->also, GradusRunAlso, i).fn, NULL);
  g_autoptr (GradusRunCompiled) compiled = gradus_run_compile (self->doc, self->function, backend,
                                                               &error);
  /* Keep the output series (the plots hold them). */
  if (compiled)
    take_compiled (self, compiled, TRUE);
  if (compiled && !compile_also (self, FALSE, &error))
    g_clear_pointer (&self->fn, grd_function_free);
  if (!self->fn)
    gradus_run_panel_set_status (self, TRUE, "%s", error->message);
  gradus_run_panel_update_actions (self);
  return self->fn != NULL;
}

gboolean
gradus_run_panel_set_feed (GradusRunPanel *self, const char *input, const char *json,
                           GError **error)
{
  g_return_val_if_fail (GRADUS_IS_RUN_PANEL (self), FALSE);
  if (self->worker) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE, _("feeds cannot change while running"));
    return FALSE;
  }
  if (!self->doc) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("no document"));
    return FALSE;
  }
  JsonNode *old = g_hash_table_lookup (self->overrides, input);
  g_autoptr (JsonNode) saved = old ? json_node_copy (old) : NULL;
  if (json) {
    g_autoptr (JsonParser) parser = json_parser_new ();
    g_autoptr (GError) parse_error = NULL;
    if (!json_parser_load_from_data (parser, json, -1, &parse_error)
        || !json_parser_get_root (parser)) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, _("feed of %s: not JSON: %s"), input,
                   parse_error ? parse_error->message : _("empty"));
      gradus_run_panel_set_status (self, TRUE, "%s", (*error)->message);
      return FALSE;
    }
    g_hash_table_replace (self->overrides, g_strdup (input),
                          json_node_copy (json_parser_get_root (parser)));
  } else {
    g_hash_table_remove (self->overrides, input);
  }
  g_autoptr (GError) local = NULL;
  if (!rebuild_feeds (self, &local)) {
    if (saved)
      g_hash_table_replace (self->overrides, g_strdup (input), g_steal_pointer (&saved));
    else
      g_hash_table_remove (self->overrides, input);
    rebuild_feeds (self, NULL);
    gradus_run_panel_set_status (self, TRUE, _("feed of %s: %s"), input, local->message);
    g_propagate_error (error, g_steal_pointer (&local));
    gradus_run_panel_update_actions (self);
    return FALSE;
  }
  gradus_run_panel_update_actions (self);
  return TRUE;
}

gboolean
gradus_run_panel_on_feed_apply (GradusRunPanel *self, const char *input, const char *text)
{
  g_autoptr (GError) error = NULL;
  if (!gradus_run_panel_set_feed (self, input, text, &error))
    return FALSE;
  gradus_run_panel_set_status (self, FALSE, _("Feed of %s changed"), input);
  return TRUE;
}
