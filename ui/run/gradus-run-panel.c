/* gradus-run-panel.c: GradusRunPanel, where a class watches gradient descent.
 *
 * The panel owns a GrdDocument built from the editor's JSON, the compiled
 * function and the feeds. Run and Step hand them to a GradusRunWorker; until
 * its done callback nothing here touches them (every control that would is
 * insensitive meanwhile). Values arrive in batches and are appended to one
 * array per scalar series, which the plots reference and draw decimated. */
#include "gradus-run-panel.h"
#include "gradus-plot.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

/* Feed values longer than this are described, not shown as editable text. */
#define MAX_FEED_TEXT 4000
/* The calls-per-second label changes at most this often. */
#define RATE_INTERVAL_US 250000

typedef struct {
  char       *name;     /* "out:N" or the shared id */
  char       *ref;      /* the output reference or the shared id */
  char       *label;    /* what the user reads: the node's name (ids are internal) */
  gboolean    scalar;   /* rank 0 */
  GArray     *values;   /* doubles, one per call, scalars only */
  GrdTensor  *latest;
  GradusPlot *plot;     /* vector or heatmap plot of a non-scalar */
} Slot;

struct _GradusRunPanel {
  GtkBox              parent_instance;

  JsonNode           *root;
  char               *path;
  GrdDocument        *doc;
  GrdFunction        *fn;
  GPtrArray          *feeds;
  GArray             *inputs;        /* GrdRef */
  GArray             *roots;         /* GrdRef: outputs and update values */
  GArray             *shared;        /* GrdRef: every shared variable, file order */
  GPtrArray          *input_ids;
  GHashTable         *overrides;     /* input id -> JsonNode */
  GPtrArray          *slots;         /* Slot*: outputs, then shared */
  gint                n_outputs;
  GrdBackend          backend;
  gboolean            nan_guard;
  gint64              n_calls;
  char               *error;
  GArray             *profile;       /* GradusProfileRow */

  GradusRunWorker    *worker;
  GrdTensor         **last_inputs;   /* the last call's inputs (n inputs) */
  GrdTensor         **last_shared;   /* ... and shared values before it (n shared) */
  gint64              last_step;
  gint64              run_target;
  gint64              run_done;
  gint64              run_start_us;
  gint64              rate_shown_us;

  GSimpleActionGroup *actions;
  GPtrArray          *plots;         /* GradusPlot* */
  GtkWidget          *steps_spin;
  GtkWidget          *backend_drop;
  GtkWidget          *progress;
  GtkWidget          *rate_label;
  GtkWidget          *status_label;
  GtkWidget          *feeds_grid;
  GtkWidget          *plots_box;
  GtkWidget          *profile_grid;
  gboolean            updating_backend;
  gint                file_steps;    /* run.steps of the document last set */
};

G_DEFINE_FINAL_TYPE (GradusRunPanel, gradus_run_panel, GTK_TYPE_BOX)

enum {
  SIGNAL_FINISHED,
  SIGNAL_NAN_FOUND,
  SIGNAL_RUNNING_CHANGED,
  SIGNAL_CLEARED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void
slot_free (gpointer data)
{
  Slot *s = data;
  g_free (s->name);
  g_free (s->ref);
  g_free (s->label);
  g_array_unref (s->values);
  if (s->latest)
    grd_tensor_unref (s->latest);
  g_free (s);
}

static void
profile_row_clear (gpointer data)
{
  GradusProfileRow *row = data;
  g_free (row->nodes);
  g_free (row->kind);
}

/* ---------------------------------------------------------------- status */

static void
set_status (GradusRunPanel *self, gboolean is_error, const char *format, ...) G_GNUC_PRINTF (3, 4);

static void
set_status (GradusRunPanel *self, gboolean is_error, const char *format, ...)
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
static void
drop_focus_within (GtkWidget *widget)
{
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkWidget *focus = root ? gtk_root_get_focus (root) : NULL;
  if (focus && (focus == widget || gtk_widget_is_ancestor (focus, widget)))
    gtk_root_set_focus (root, NULL);
}

static void
update_actions (GradusRunPanel *self)
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
    drop_focus_within (self->steps_spin);
    drop_focus_within (self->feeds_grid);
  }
  gtk_widget_set_sensitive (self->steps_spin, !running);
  gtk_widget_set_sensitive (self->backend_drop, !running);
  gtk_widget_set_sensitive (self->feeds_grid, !running);
}

/* ---------------------------------------------------------------- document */

static void
clear_children (GtkWidget *box)
{
  drop_focus_within (box);
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (box)))
    gtk_widget_unparent (child);
}

static void
stop_worker (GradusRunPanel *self)
{
  if (!self->worker)
    return;
  gradus_run_worker_free (g_steal_pointer (&self->worker));
  g_signal_emit (self, signals[SIGNAL_RUNNING_CHANGED], 0, FALSE);
}

static void
clear_last_call (GradusRunPanel *self)
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
clear_document (GradusRunPanel *self)
{
  stop_worker (self);
  clear_last_call (self);
  g_clear_pointer (&self->fn, grd_function_free);
  g_clear_pointer (&self->feeds, g_ptr_array_unref);
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
  g_clear_pointer (&self->error, g_free);
  drop_focus_within (self->plots_box);
  GtkWidget *card;
  while ((card = gtk_widget_get_first_child (self->plots_box)))
    gtk_flow_box_remove (GTK_FLOW_BOX (self->plots_box), card);
  clear_children (self->profile_grid);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), 0);
  gtk_label_set_text (GTK_LABEL (self->rate_label), "");
}

static JsonObject *
member_object (JsonObject *obj, const char *name)
{
  JsonNode *n = obj ? json_object_get_member (obj, name) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static JsonArray *
member_array (JsonObject *obj, const char *name)
{
  JsonNode *n = obj ? json_object_get_member (obj, name) : NULL;
  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static const char *
member_string (JsonObject *obj, const char *name)
{
  JsonNode *n = obj ? json_object_get_member (obj, name) : NULL;
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
         ? json_node_get_string (n) : NULL;
}

static const char *
element_string (JsonArray *array, guint i)
{
  JsonNode *n = json_array_get_element (array, i);
  return JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
         ? json_node_get_string (n) : NULL;
}

static gboolean
lookup (GrdGraph *graph, const char *what, const char *reference, GrdRef *out, GError **error)
{
  if (!reference) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("function: %s must be a node reference"),
                 what);
    return FALSE;
  }
  if (!grd_graph_lookup (graph, reference, out, error)) {
    g_prefix_error (error, _("function: %s '%s': "), what, reference);
    return FALSE;
  }
  return TRUE;
}

/* Reads the file's function object (as `gradus run` does) and compiles it on
 * the chosen back end. Fills inputs, roots and the output slots. */
/* The node object of `id` in the file's nodes, or NULL. */
static JsonObject *
node_object (JsonObject *top, const char *id)
{
  JsonArray *nodes = member_array (top, "nodes");
  for (guint i = 0; nodes && id && i < json_array_get_length (nodes); i++) {
    JsonNode *n = json_array_get_element (nodes, i);
    JsonObject *o = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
    if (g_strcmp0 (member_string (o, "id"), id) == 0)
      return o;
  }
  return NULL;
}

/* A title for an output reference: "squared error" for "mse", "d z / d x"
 * for "g:0" (with the variable when the grad node has several), not ids. */
static char *
ref_label (JsonObject *top, const char *ref)
{
  if (!ref)
    return g_strdup ("?");
  const char *colon = strrchr (ref, ':');
  g_autofree char *id = colon ? g_strndup (ref, colon - ref) : g_strdup (ref);
  gint k = colon ? atoi (colon + 1) : 0;
  JsonObject *o = node_object (top, id);
  const char *name = member_string (o, "name");
  if (!name || !*name)
    name = id;
  JsonArray *wrt = member_array (o, "wrt");
  if (g_strcmp0 (member_string (o, "kind"), "grad") == 0 && wrt && json_array_get_length (wrt) > 1
      && k >= 0 && (guint) k < json_array_get_length (wrt)) {
    const char *v = element_string (wrt, k);
    JsonObject *vo = node_object (top, v);
    const char *vname = member_string (vo, "name");
    return g_strdup_printf ("%s: %s", name, vname && *vname ? vname : v ? v : "?");
  }
  if (k > 0 && g_strcmp0 (member_string (o, "kind"), "grad") != 0)
    return g_strdup_printf (_("%s (output %d)"), name, k);
  return g_strdup (name);
}

static GrdFunction *
compile_function (GradusRunPanel *self, GError **error)
{
  GrdGraph *graph = grd_document_graph (self->doc);
  JsonObject *top = json_node_get_object (grd_document_root (self->doc));
  JsonObject *fn = member_object (top, "function");
  if (!fn && member_object (top, "functions")) {
    /* several functions: Run calls the run's main one (run.function); the
     * run.also functions are not called by the panel yet */
    g_autofree char *main_name = grd_document_run_function (self->doc, error);
    fn = main_name ? grd_document_function_object (self->doc, main_name, error) : NULL;
    if (!fn)
      return NULL;
  }
  if (!fn) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("the file has no function object"));
    return NULL;
  }
  JsonArray *inputs = member_array (fn, "inputs");
  JsonArray *outputs = member_array (fn, "outputs");
  JsonArray *updates = member_array (fn, "updates");
  g_autoptr (GArray) out_refs = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  g_autoptr (GArray) up = g_array_new (FALSE, FALSE, sizeof (GrdUpdate));
  for (guint i = 0; inputs && i < json_array_get_length (inputs); i++) {
    GrdRef r;
    if (!lookup (graph, "input", element_string (inputs, i), &r, error))
      return NULL;
    g_array_append_val (self->inputs, r);
    g_ptr_array_add (self->input_ids, g_strdup (element_string (inputs, i)));
  }
  for (guint i = 0; outputs && i < json_array_get_length (outputs); i++) {
    GrdRef r;
    if (!lookup (graph, "output", element_string (outputs, i), &r, error))
      return NULL;
    g_array_append_val (out_refs, r);
    g_array_append_val (self->roots, r);
  }
  for (guint i = 0; updates && i < json_array_get_length (updates); i++) {
    JsonNode *n = json_array_get_element (updates, i);
    JsonObject *u = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
    GrdUpdate update;
    if (!lookup (graph, "update of", member_string (u, "shared"), &update.shared, error)
        || !lookup (graph, "update value", member_string (u, "value"), &update.value, error))
      return NULL;
    g_array_append_val (up, update);
    g_array_append_val (self->roots, update.value);
  }

  g_autofree char *warning = NULL;
  GrdFunction *f = grd_function_new_on (graph, (GrdRef *) self->inputs->data, self->inputs->len,
                                        (GrdRef *) out_refs->data, out_refs->len,
                                        (GrdUpdate *) up->data, up->len, self->backend, &warning,
                                        error);
  if (!f)
    return NULL;
  if (warning)
    set_status (self, FALSE, "%s", warning);
  grd_function_set_profiling (f, TRUE);

  for (guint i = 0; i < out_refs->len; i++) {
    GrdRef r = g_array_index (out_refs, GrdRef, i);
    const GrdType *type = grd_graph_ref_type (graph, r);
    Slot *s = g_new0 (Slot, 1);
    s->name = g_strdup_printf ("out:%u", i);
    s->ref = g_strdup (element_string (outputs, i));
    s->label = ref_label (top, s->ref);
    s->scalar = type && type->rank == 0;
    s->values = g_array_new (FALSE, FALSE, sizeof (double));
    g_ptr_array_add (self->slots, s);
  }
  self->n_outputs = out_refs->len;
  return f;
}

/* Every shared node of the file, in file order (what `gradus run` prints). */
static void
collect_shared (GradusRunPanel *self)
{
  GrdGraph *graph = grd_document_graph (self->doc);
  JsonObject *top = json_node_get_object (grd_document_root (self->doc));
  JsonArray *nodes = member_array (top, "nodes");
  for (guint i = 0; nodes && i < json_array_get_length (nodes); i++) {
    JsonNode *n = json_array_get_element (nodes, i);
    JsonObject *obj = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
    const char *id = member_string (obj, "id");
    if (!id || g_strcmp0 (member_string (obj, "kind"), "shared") != 0)
      continue;
    GrdRef r = { grd_graph_find (graph, id), 0 };
    if (r.node < 0)
      continue;
    GrdTensor *value = grd_graph_get_value (graph, r);
    g_array_append_val (self->shared, r);
    Slot *s = g_new0 (Slot, 1);
    s->name = g_strdup (id);
    s->ref = g_strdup (id);
    s->label = ref_label (top, id);
    s->scalar = value && value->rank == 0;
    s->values = g_array_new (FALSE, FALSE, sizeof (double));
    if (value)
      s->latest = grd_tensor_copy (value);
    g_ptr_array_add (self->slots, s);
  }
}

/* ---------------------------------------------------------------- plots */

static void
plot_export_response (GtkNativeDialog *dialog, int response, GradusPlot *plot)
{
  const char *format = g_object_get_data (G_OBJECT (dialog), "format");
  if (response == GTK_RESPONSE_ACCEPT) {
    g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
    g_autofree char *path = file ? g_file_get_path (file) : NULL;
    g_autoptr (GError) error = NULL;
    int w = MAX (gtk_widget_get_width (GTK_WIDGET (plot)), 640);
    int h = MAX (gtk_widget_get_height (GTK_WIDGET (plot)), 320);
    gboolean ok = TRUE;
    if (!path)
      ok = FALSE;
    else if (strcmp (format, "png") == 0)
      ok = gradus_plot_export_png (plot, path, w, h, &error);
    else if (strcmp (format, "svg") == 0)
      ok = gradus_plot_export_svg (plot, path, w, h, &error);
    else
      ok = gradus_plot_export_csv (plot, path, &error);
    if (!ok && error)
      g_warning ("%s", error->message);
  }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
  g_object_unref (plot);
}

static void
plot_export_activate (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  GradusPlot *plot = user_data;
  const char *format = g_variant_get_string (parameter, NULL);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (plot));
  GtkFileChooserNative *dialog =
    gtk_file_chooser_native_new (_("Export plot"), GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                 GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
  g_autofree char *name = g_strdup_printf ("%s.%s", gradus_plot_get_title (plot), format);
  g_strdelimit (name, "/: ", '-');
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), name);
  g_object_set_data_full (G_OBJECT (dialog), "format", g_strdup (format), g_free);
  g_signal_connect (dialog, "response", G_CALLBACK (plot_export_response), g_object_ref (plot));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
plot_log_change (GSimpleAction *action, GVariant *value, gpointer user_data)
{
  gradus_plot_set_log_scale (user_data, g_variant_get_boolean (value));
  g_simple_action_set_state (action, value);
}

static void
plot_show_all (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  gradus_plot_set_x_range (user_data, 0, 0);
}

/* A plot with its header: title, log scale, show all calls, export. */
static GradusPlot *
add_plot (GradusRunPanel *self, GradusPlotMode mode, const char *title)
{
  GtkWidget *plot = gradus_plot_new (mode, title);
  GtkWidget *card = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  GtkWidget *label = gtk_label_new (title);
  gtk_widget_add_css_class (label, "heading");
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_box_append (GTK_BOX (header), label);

  GSimpleActionGroup *group = g_simple_action_group_new ();
  const GActionEntry entries[] = {
    { .name = "export", .activate = plot_export_activate, .parameter_type = "s" },
    { .name = "log", .state = "false", .change_state = plot_log_change },
    { .name = "show-all", .activate = plot_show_all },
  };
  g_action_map_add_action_entries (G_ACTION_MAP (group), entries, G_N_ELEMENTS (entries), plot);
  gtk_widget_insert_action_group (card, "plot", G_ACTION_GROUP (group));
  g_object_unref (group);

  if (mode != GRADUS_PLOT_HEATMAP) {
    GtkWidget *log = gtk_toggle_button_new_with_label ("log");
    gtk_actionable_set_action_name (GTK_ACTIONABLE (log), "plot.log");
    gtk_widget_set_tooltip_text (log, _("Logarithmic y axis"));
    gtk_box_append (GTK_BOX (header), log);
  }
  if (mode == GRADUS_PLOT_LINES) {
    GtkWidget *all = gtk_button_new_from_icon_name ("zoom-fit-best-symbolic");
    gtk_actionable_set_action_name (GTK_ACTIONABLE (all), "plot.show-all");
    gtk_widget_set_tooltip_text (all, _("Show every call (drag on the plot to zoom)"));
    gtk_box_append (GTK_BOX (header), all);
  }
  g_autoptr (GMenu) menu = g_menu_new ();
  g_menu_append (menu, _("Export as PNG…"), "plot.export::png");
  g_menu_append (menu, _("Export as SVG…"), "plot.export::svg");
  g_menu_append (menu, _("Export as CSV…"), "plot.export::csv");
  GtkWidget *export = gtk_menu_button_new ();
  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (export), "document-save-symbolic");
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (export), G_MENU_MODEL (menu));
  gtk_widget_set_tooltip_text (export, _("Export this plot"));
  gtk_box_append (GTK_BOX (header), export);

  for (GtkWidget *c = gtk_widget_get_first_child (header); c; c = gtk_widget_get_next_sibling (c))
    if (c != label)
      gtk_widget_add_css_class (c, "flat");
  gtk_box_append (GTK_BOX (card), header);
  /* Plots share the height the panel has; the scroller takes over below their minimum. */
  gtk_widget_set_vexpand (plot, TRUE);
  gtk_box_append (GTK_BOX (card), plot);
  gtk_flow_box_append (GTK_FLOW_BOX (self->plots_box), card);
  g_ptr_array_add (self->plots, plot);
  return GRADUS_PLOT (plot);
}

static void
build_plots (GradusRunPanel *self)
{
  GradusPlot *outputs = NULL, *shared = NULL;
  for (guint i = 0; i < self->slots->len; i++) {
    Slot *s = g_ptr_array_index (self->slots, i);
    gboolean is_output = (gint) i < self->n_outputs;
    if (s->scalar) {
      /* One y axis per kind of series: each output (a loss, an accuracy) in a
       * plot of its own, the shared variables together. */
      if (is_output)
        outputs = add_plot (self, GRADUS_PLOT_LINES, s->label);
      else if (!shared)
        shared = add_plot (self, GRADUS_PLOT_LINES, _("Shared variables"));
      gradus_plot_add_series (is_output ? outputs : shared, s->label, s->values);
    }
  }
  /* Vectors and matrices after the lines, each in a small plot of its own. */
  for (guint i = 0; i < self->slots->len; i++) {
    Slot *s = g_ptr_array_index (self->slots, i);
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

/* ---------------------------------------------------------------- feeds */

static void
on_feed_activate (GtkEntry *entry, GradusRunPanel *self)
{
  const char *input = g_object_get_data (G_OBJECT (entry), "input");
  g_autoptr (GError) error = NULL;
  if (gradus_run_panel_set_feed (self, input, gtk_editable_get_text (GTK_EDITABLE (entry)),
                                 &error)) {
    gtk_widget_remove_css_class (GTK_WIDGET (entry), "error");
    set_status (self, FALSE, _("Feed of %s changed"), input);
  } else {
    gtk_widget_add_css_class (GTK_WIDGET (entry), "error");
  }
}

static void
build_feed_rows (GradusRunPanel *self)
{
  clear_children (self->feeds_grid);
  for (guint i = 0; i < self->input_ids->len; i++) {
    const char *id = g_ptr_array_index (self->input_ids, i);
    GrdGraph *graph = grd_document_graph (self->doc);
    const GrdType *type = grd_graph_ref_type (graph, g_array_index (self->inputs, GrdRef, i));
    g_autofree char *tdesc = type ? grd_type_describe (type) : g_strdup ("?");
    g_autofree char *label_text = g_strdup_printf ("%s  %s", id, tdesc);
    GtkWidget *label = gtk_label_new (label_text);
    gtk_label_set_xalign (GTK_LABEL (label), 0);
    gtk_grid_attach (GTK_GRID (self->feeds_grid), label, 0, i, 1, 1);

    JsonNode *feed = g_hash_table_lookup (self->overrides, id);
    JsonObject *top = json_node_get_object (self->root);
    JsonObject *feeds = member_object (member_object (top, "run"), "feeds");
    if (!feed && feeds)
      feed = json_object_get_member (feeds, id);
    g_autofree char *text = feed ? json_to_string (feed, FALSE) : g_strdup ("");
    GtkWidget *entry = gtk_entry_new ();
    gtk_widget_set_hexpand (entry, TRUE);
    g_object_set_data_full (G_OBJECT (entry), "input", g_strdup (id), g_free);
    if (strlen (text) > MAX_FEED_TEXT) {
      g_autofree char *desc = g_strdup_printf (_("a value of %zu characters: edit it in the file"),
                                               strlen (text));
      gtk_editable_set_text (GTK_EDITABLE (entry), desc);
      gtk_editable_set_editable (GTK_EDITABLE (entry), FALSE);
    } else {
      gtk_editable_set_text (GTK_EDITABLE (entry), text);
      gtk_widget_set_tooltip_text (entry, _("A value or a data set as JSON "
                                     "({\"csv\": ..., \"batch\": ...}); Enter applies it"));
      g_signal_connect (entry, "activate", G_CALLBACK (on_feed_activate), self);
    }
    gtk_grid_attach (GTK_GRID (self->feeds_grid), entry, 1, i, 1, 1);
  }
}

static gboolean
rebuild_feeds (GradusRunPanel *self, GError **error)
{
  g_clear_pointer (&self->feeds, g_ptr_array_unref);
  self->feeds = grd_document_feeds (self->doc, self->overrides, error);
  if (self->feeds && self->feeds->len != self->inputs->len) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("%u feeds for %u inputs"), self->feeds->len,
                 self->inputs->len);
    g_clear_pointer (&self->feeds, g_ptr_array_unref);
  }
  return self->feeds != NULL;
}

/* ---------------------------------------------------------------- build */

static gboolean
build_document (GradusRunPanel *self)
{
  g_autoptr (GError) error = NULL;
  clear_document (self);
  set_status (self, FALSE, "%s", "");
  if (!self->root)
    return FALSE;
  self->doc = grd_document_new_from_json (self->root, self->path, GRD_DOCUMENT_STRICT, &error);
  if (self->doc) {
    self->fn = compile_function (self, &error);
    if (self->fn) {
      collect_shared (self);
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
        set_status (self, FALSE, _("Ready: %s, %s, %s"), ins, outs, shs);
      }
      build_plots (self);
      build_feed_rows (self);
    }
  }
  if (error)
    set_status (self, TRUE, "%s", error->message);
  update_actions (self);
  /* Results are gone: whoever shows them (the canvas's values, a NaN badge) follows. */
  g_signal_emit (self, signals[SIGNAL_CLEARED], 0);
  return error == NULL;
}

/* ---------------------------------------------------------------- running */

static void
on_batch (const GradusRunBatch *batch, gpointer user_data)
{
  GradusRunPanel *self = user_data;
  for (gint i = 0; i < batch->n_slots && (guint) i < self->slots->len; i++) {
    Slot *s = g_ptr_array_index (self->slots, i);
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

static int
compare_rows (gconstpointer a, gconstpointer b)
{
  const GradusProfileRow *x = a, *y = b;
  return (x->us_per_call < y->us_per_call) - (x->us_per_call > y->us_per_call);
}

static void
update_profile (GradusRunPanel *self)
{
  g_array_set_size (self->profile, 0);
  clear_children (self->profile_grid);
  GArray *entries = self->fn ? grd_function_profile (self->fn) : NULL;
  if (!entries || entries->len == 0) {
    gtk_grid_attach (GTK_GRID (self->profile_grid),
                     gtk_label_new (_("No profile for this function (reference executor)")),
                     0, 0, 4, 1);
    return;
  }
  double total = 0;
  for (guint i = 0; i < entries->len; i++)
    total += g_array_index (entries, GrdProfileEntry, i).total_us;
  for (guint i = 0; i < entries->len; i++) {
    const GrdProfileEntry *e = &g_array_index (entries, GrdProfileEntry, i);
    GradusProfileRow row = {
      .nodes = g_strdup (e->label ? e->label : ""),
      .kind = g_strdup (e->kind ? e->kind : ""),
      .us_per_call = e->calls ? e->total_us / e->calls : 0,
      .share = total > 0 ? e->total_us / total : 0,
    };
    g_array_append_val (self->profile, row);
  }
  g_array_sort (self->profile, compare_rows);

  const char *heads[] = { _("nodes"), _("kind"), _("µs per call"), _("share") };
  for (int c = 0; c < 4; c++) {
    GtkWidget *l = gtk_label_new (heads[c]);
    gtk_widget_add_css_class (l, "heading");
    gtk_label_set_xalign (GTK_LABEL (l), c < 2 ? 0 : 1);
    gtk_grid_attach (GTK_GRID (self->profile_grid), l, c, 0, 1, 1);
  }
  for (guint i = 0; i < self->profile->len && i < 40; i++) {
    GradusProfileRow *row = &g_array_index (self->profile, GradusProfileRow, i);
    g_autofree char *us = g_strdup_printf ("%.2f", row->us_per_call);
    g_autofree char *share = g_strdup_printf ("%.1f %%", row->share * 100);
    const char *cells[] = { row->nodes, row->kind, us, share };
    for (int c = 0; c < 4; c++) {
      GtkWidget *l = gtk_label_new (cells[c]);
      gtk_label_set_xalign (GTK_LABEL (l), c < 2 ? 0 : 1);
      if (c == 0) {
        gtk_label_set_ellipsize (GTK_LABEL (l), PANGO_ELLIPSIZE_END);
        gtk_label_set_max_width_chars (GTK_LABEL (l), 40);
        gtk_widget_set_tooltip_text (l, row->nodes);
        gtk_widget_set_hexpand (l, TRUE);
      }
      gtk_grid_attach (GTK_GRID (self->profile_grid), l, c, i + 1, 1, 1);
    }
  }
}

static void
on_done (const GradusRunResult *result, gpointer user_data)
{
  GradusRunPanel *self = user_data;
  GrdTensor **inputs, **shared;
  gint64 last = gradus_run_worker_take_last_call (self->worker, &inputs, &shared);
  if (last >= 0) {
    clear_last_call (self);
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
    set_status (self, FALSE, _("%lld calls in %.1f ms (%lld in all)"),
                (long long) result->n_calls, result->seconds * 1e3, (long long) self->n_calls);
    break;
  case GRADUS_RUN_PAUSED:
    set_status (self, FALSE, _("Paused after %lld calls"), (long long) self->n_calls);
    break;
  case GRADUS_RUN_FAILED:
    set_status (self, TRUE, "%s", result->error ? result->error->message : _("the call failed"));
    break;
  case GRADUS_RUN_NON_FINITE: {
    Slot *s = g_ptr_array_index (self->slots, result->nan_slot);
    gboolean is_output = result->nan_slot < self->n_outputs;
    long long step = result->nan_step;
    if (result->nan_node && is_output)
      set_status (self, TRUE, _("NaN guard: call %lld gave a non-finite value in output '%s'; "
                                "first produced by node '%s'"), step, s->label, result->nan_node);
    else if (result->nan_node)
      set_status (self, TRUE, _("NaN guard: call %lld gave a non-finite value in shared variable "
                                "'%s'; first produced by node '%s'"), step, s->label, result->nan_node);
    else if (is_output)
      set_status (self, TRUE, _("NaN guard: call %lld gave a non-finite value in output '%s'"),
                  step, s->label);
    else
      set_status (self, TRUE, _("NaN guard: call %lld gave a non-finite value in shared variable '%s'"),
                  step, s->label);
    break;
  }
  }
  update_profile (self);
  update_actions (self);
  g_signal_emit (self, signals[SIGNAL_RUNNING_CHANGED], 0, FALSE);
  if (result->end == GRADUS_RUN_NON_FINITE)
    g_signal_emit (self, signals[SIGNAL_NAN_FOUND], 0,
                   result->nan_node ? result->nan_node : "", result->nan_step);
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0, (gint) result->end);
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
    .first_step = self->n_calls,
    .n_steps = n_steps,
    .nan_guard = self->nan_guard,
  };
  g_clear_pointer (&self->error, g_free);
  self->run_target = n_steps;
  self->run_done = 0;
  self->run_start_us = self->rate_shown_us = g_get_monotonic_time ();
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), 0);
  set_status (self, FALSE, _("Running %lld calls…"), (long long) n_steps);
  self->worker = gradus_run_worker_start (&setup, on_batch, on_done, self);
  update_actions (self);
  g_signal_emit (self, signals[SIGNAL_RUNNING_CHANGED], 0, TRUE);
  return TRUE;
}

/* ---------------------------------------------------------------- public */

gboolean
gradus_run_panel_run (GradusRunPanel *self, gint64 n_steps)
{
  g_return_val_if_fail (GRADUS_IS_RUN_PANEL (self), FALSE);
  return start_run (self, n_steps > 0 ? n_steps : gradus_run_panel_get_steps (self));
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
  set_status (self, FALSE, _("Pausing after the current call…"));
}

gboolean
gradus_run_panel_step (GradusRunPanel *self)
{
  g_return_val_if_fail (GRADUS_IS_RUN_PANEL (self), FALSE);
  return start_run (self, 1);
}

void
gradus_run_panel_reset (GradusRunPanel *self)
{
  g_return_if_fail (GRADUS_IS_RUN_PANEL (self));
  /* The file's shared values: build the document again from the JSON. */
  build_document (self);
}

gboolean
gradus_run_panel_is_running (GradusRunPanel *self)
{
  return self->worker != NULL;
}

gboolean
gradus_run_panel_set_document (GradusRunPanel *self, JsonNode *root, const char *path)
{
  g_return_val_if_fail (GRADUS_IS_RUN_PANEL (self), FALSE);
  stop_worker (self);
  g_clear_pointer (&self->root, json_node_unref);
  self->root = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_copy (root) : NULL;
  /* A new file starts from its own feeds; an edit of the same one keeps the
   * feeds edited in the panel (build_document drops those that no longer fit). */
  /* Saving an untitled graph gives it a path: the same document still. */
  gboolean new_file = self->path && g_strcmp0 (path, self->path) != 0;
  if (new_file)
    g_hash_table_remove_all (self->overrides);
  g_free (self->path);
  self->path = g_strdup (path);
  gboolean ok = build_document (self);
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
    set_status (self, FALSE, _("No document"));
  return ok;
}

void
gradus_run_panel_set_problem (GradusRunPanel *self, const char *message)
{
  g_return_if_fail (GRADUS_IS_RUN_PANEL (self));
  set_status (self, TRUE, "%s", message);
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
  /* compile_function fills these again. */
  g_array_set_size (self->inputs, 0);
  g_array_set_size (self->roots, 0);
  g_ptr_array_set_size (self->input_ids, 0);
  g_autoptr (GPtrArray) old = g_ptr_array_new_with_free_func (slot_free);
  for (gint i = 0; i < self->n_outputs; i++)
    g_ptr_array_add (old, g_ptr_array_steal_index (self->slots, 0));
  guint n_shared_slots = self->slots->len;
  set_status (self, FALSE, _("Compiled for %s"), grd_backend_name (backend));
  self->fn = compile_function (self, &error);
  /* Keep the output series (the plots hold them): drop the fresh output slots. */
  while (self->slots->len > n_shared_slots)
    slot_free (g_ptr_array_steal_index (self->slots, n_shared_slots));
  self->n_outputs = old->len;
  for (gint i = 0; i < self->n_outputs; i++) {
    Slot *kept = g_ptr_array_steal_index (old, 0);
    g_ptr_array_insert (self->slots, i, kept);
  }
  if (!self->fn)
    set_status (self, TRUE, "%s", error->message);
  update_actions (self);
  return self->fn != NULL;
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
  JsonNode *saved = old ? json_node_copy (old) : NULL;
  if (json) {
    g_autoptr (JsonParser) parser = json_parser_new ();
    g_autoptr (GError) parse_error = NULL;
    if (!json_parser_load_from_data (parser, json, -1, &parse_error)
        || !json_parser_get_root (parser)) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, _("feed of %s: not JSON: %s"), input,
                   parse_error ? parse_error->message : _("empty"));
      set_status (self, TRUE, "%s", (*error)->message);
      g_clear_pointer (&saved, json_node_unref);
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
    set_status (self, TRUE, _("feed of %s: %s"), input, local->message);
    g_propagate_error (error, g_steal_pointer (&local));
    update_actions (self);
    return FALSE;
  }
  g_clear_pointer (&saved, json_node_unref);
  update_actions (self);
  return TRUE;
}

gint64
gradus_run_panel_get_n_calls (GradusRunPanel *self)
{
  return self->n_calls;
}

static Slot *
find_slot (GradusRunPanel *self, const char *name)
{
  for (guint i = 0; i < self->slots->len; i++) {
    Slot *s = g_ptr_array_index (self->slots, i);
    if (strcmp (s->name, name) == 0)
      return s;
  }
  /* An output reference of the file ("mse", "g:0"), then a title as shown. */
  for (gint i = 0; i < self->n_outputs; i++) {
    Slot *s = g_ptr_array_index (self->slots, i);
    if (g_strcmp0 (s->ref, name) == 0)
      return s;
  }
  for (guint i = 0; i < self->slots->len; i++) {
    Slot *s = g_ptr_array_index (self->slots, i);
    if (g_strcmp0 (s->label, name) == 0)
      return s;
  }
  return NULL;
}

GArray *
gradus_run_panel_get_series (GradusRunPanel *self, const char *name)
{
  g_return_val_if_fail (GRADUS_IS_RUN_PANEL (self), NULL);
  Slot *s = find_slot (self, name);
  return s && s->scalar ? s->values : NULL;
}

GrdTensor *
gradus_run_panel_get_latest (GradusRunPanel *self, const char *name)
{
  Slot *s = find_slot (self, name);
  return s ? s->latest : NULL;
}

GStrv
gradus_run_panel_list_series (GradusRunPanel *self)
{
  GStrv names = g_new0 (char *, self->slots->len + 1);
  for (guint i = 0; i < self->slots->len; i++)
    names[i] = g_strdup (((Slot *) g_ptr_array_index (self->slots, i))->name);
  return names;
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

GHashTable *
gradus_run_panel_dup_node_values (GradusRunPanel *self, gint64 *call, GError **error)
{
  g_return_val_if_fail (GRADUS_IS_RUN_PANEL (self), NULL);
  if (self->worker || !self->doc || self->last_step < 0 || !self->last_inputs) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE,
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

/* ---------------------------------------------------------------- object */

static void
gradus_run_panel_dispose (GObject *object)
{
  GradusRunPanel *self = GRADUS_RUN_PANEL (object);
  if (self->worker)
    gradus_run_worker_free (g_steal_pointer (&self->worker));
  G_OBJECT_CLASS (gradus_run_panel_parent_class)->dispose (object);
}

static void
gradus_run_panel_finalize (GObject *object)
{
  GradusRunPanel *self = GRADUS_RUN_PANEL (object);
  clear_last_call (self);
  g_clear_pointer (&self->fn, grd_function_free);
  g_clear_pointer (&self->feeds, g_ptr_array_unref);
  g_clear_pointer (&self->doc, grd_document_free);
  g_clear_pointer (&self->root, json_node_unref);
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
  oc->dispose = gradus_run_panel_dispose;
  oc->finalize = gradus_run_panel_finalize;
  gtk_widget_class_set_css_name (GTK_WIDGET_CLASS (klass), "gradusrunpanel");

  signals[SIGNAL_FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_INT);
  signals[SIGNAL_NAN_FOUND] =
    g_signal_new ("nan-found", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_INT64);
  signals[SIGNAL_RUNNING_CHANGED] =
    g_signal_new ("running-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
  signals[SIGNAL_CLEARED] =
    g_signal_new ("cleared", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static GtkWidget *
action_button (const char *icon, const char *label, const char *action, const char *tooltip)
{
  GtkWidget *button = gtk_button_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  gtk_box_append (GTK_BOX (box), gtk_image_new_from_icon_name (icon));
  gtk_box_append (GTK_BOX (box), gtk_label_new (label));
  gtk_button_set_child (GTK_BUTTON (button), box);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  gtk_widget_set_tooltip_text (button, tooltip);
  return button;
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
  self->slots = g_ptr_array_new_with_free_func (slot_free);
  self->plots = g_ptr_array_new ();
  self->profile = g_array_new (FALSE, TRUE, sizeof (GradusProfileRow));
  g_array_set_clear_func (self->profile, profile_row_clear);
  self->nan_guard = TRUE;
  self->backend = GRD_BACKEND_CPU;
  self->last_step = -1;
  self->file_steps = -1;

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

  GtkBox *box = GTK_BOX (self);
  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing (box, 6);
  gtk_widget_set_margin_start (GTK_WIDGET (self), 6);
  gtk_widget_set_margin_end (GTK_WIDGET (self), 6);
  gtk_widget_set_margin_top (GTK_WIDGET (self), 6);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self), 6);

  /* The controls in three groups that wrap onto more lines in a narrow window. */
  GtkWidget *bar = gtk_flow_box_new ();
  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (bar), GTK_SELECTION_NONE);
  gtk_flow_box_set_homogeneous (GTK_FLOW_BOX (bar), FALSE);
  gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (bar), 3);
  gtk_flow_box_set_column_spacing (GTK_FLOW_BOX (bar), 12);
  gtk_flow_box_set_row_spacing (GTK_FLOW_BOX (bar), 4);
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *settings = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *meter = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_append (GTK_BOX (buttons), action_button ("media-playback-start-symbolic", _("Run"), "run.run",
                                                _("Call the function the given number of times")));
  gtk_box_append (GTK_BOX (buttons), action_button ("media-playback-pause-symbolic", _("Pause"),
                                                "run.pause", _("Stop after the current call")));
  gtk_box_append (GTK_BOX (buttons), action_button ("media-skip-forward-symbolic", _("Step"), "run.step",
                                                _("Call the function once")));
  gtk_box_append (GTK_BOX (buttons), action_button ("view-refresh-symbolic", _("Reset"), "run.reset",
                                                _("Shared variables back to the file's values")));
  gtk_box_append (GTK_BOX (settings), gtk_label_new (_("Steps")));
  self->steps_spin = gtk_spin_button_new_with_range (1, 1e9, 1);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->steps_spin), 1);
  gtk_box_append (GTK_BOX (settings), self->steps_spin);
  const char *backends[] = { "CPU", "Vulkan", NULL };
  self->backend_drop = gtk_drop_down_new_from_strings (backends);
  gtk_widget_set_tooltip_text (self->backend_drop,
                               _("Back end (Vulkan falls back to the CPU without a device)"));
  g_signal_connect (self->backend_drop, "notify::selected", G_CALLBACK (on_backend_selected), self);
  gtk_box_append (GTK_BOX (settings), self->backend_drop);
  GtkWidget *guard = gtk_check_button_new_with_label (_("NaN guard"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (guard), "run.nan-guard");
  gtk_widget_set_tooltip_text (guard, _("Stop at the first NaN or Inf and find the node that made it"));
  gtk_box_append (GTK_BOX (settings), guard);
  self->progress = gtk_progress_bar_new ();
  gtk_widget_set_hexpand (self->progress, TRUE);
  gtk_widget_set_valign (self->progress, GTK_ALIGN_CENTER);
  gtk_widget_set_size_request (self->progress, 120, -1);
  gtk_box_append (GTK_BOX (meter), self->progress);
  self->rate_label = gtk_label_new ("");
  gtk_label_set_width_chars (GTK_LABEL (self->rate_label), 12);
  gtk_label_set_xalign (GTK_LABEL (self->rate_label), 1);
  gtk_box_append (GTK_BOX (meter), self->rate_label);
  gtk_flow_box_append (GTK_FLOW_BOX (bar), buttons);
  gtk_flow_box_append (GTK_FLOW_BOX (bar), settings);
  gtk_box_append (box, bar);

  /* The status, then how far the run is, on one line: the plots get the height. */
  GtkWidget *status_line = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->status_label = gtk_label_new (_("No document"));
  gtk_label_set_xalign (GTK_LABEL (self->status_label), 0);
  gtk_label_set_wrap (GTK_LABEL (self->status_label), TRUE);
  gtk_label_set_selectable (GTK_LABEL (self->status_label), TRUE);
  gtk_widget_set_hexpand (self->status_label, TRUE);
  gtk_box_append (GTK_BOX (status_line), self->status_label);
  gtk_widget_set_hexpand (self->progress, FALSE);
  gtk_box_append (GTK_BOX (status_line), meter);
  gtk_box_append (box, status_line);

  GtkWidget *scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_widget_set_vexpand (scroller, TRUE);
  /* Side by side where the width allows, each at least a readable size. */
  self->plots_box = gtk_flow_box_new ();
  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (self->plots_box), GTK_SELECTION_NONE);
  gtk_flow_box_set_homogeneous (GTK_FLOW_BOX (self->plots_box), TRUE);
  gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (self->plots_box), 3);
  gtk_flow_box_set_column_spacing (GTK_FLOW_BOX (self->plots_box), 10);
  gtk_flow_box_set_row_spacing (GTK_FLOW_BOX (self->plots_box), 10);
  gtk_widget_set_valign (self->plots_box, GTK_ALIGN_START);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), self->plots_box);
  gtk_box_append (box, scroller);

  /* Feeds and profile under the plots, folded: they are looked at less. */
  GtkWidget *feeds = gtk_expander_new (_("Feeds"));
  self->feeds_grid = gtk_grid_new ();
  gtk_grid_set_column_spacing (GTK_GRID (self->feeds_grid), 8);
  gtk_grid_set_row_spacing (GTK_GRID (self->feeds_grid), 4);
  gtk_expander_set_child (GTK_EXPANDER (feeds), self->feeds_grid);
  gtk_box_append (box, feeds);

  GtkWidget *profile = gtk_expander_new (_("Profile (time per call of each compiled step)"));
  self->profile_grid = gtk_grid_new ();
  gtk_grid_set_column_spacing (GTK_GRID (self->profile_grid), 12);
  gtk_expander_set_child (GTK_EXPANDER (profile), self->profile_grid);
  gtk_box_append (box, profile);

  update_actions (self);
}

GtkWidget *
gradus_run_panel_new (void)
{
  return g_object_new (GRADUS_TYPE_RUN_PANEL, NULL);
}
