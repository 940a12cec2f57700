/* gradus-inspector.c: fields for the selected node. Each field applies on
 * Enter or when focus leaves it, as one undoable edit of the model; the panel
 * is rebuilt (in an idle, never inside a field's own signal) after edits. */
#include "gradus-inspector.h"
#include "gradus-catalog.h"

#include <glib/gi18n.h>
#include <string.h>

struct _GradusInspector {
  GtkWidget       parent_instance;
  GtkWidget      *scroll;
  GtkWidget      *box;
  GradusDocModel *model;
  gulong          changed_id;
  char           *node_id;
  guint           n_selected;
  char           *shown_json;   /* the node as last shown: rebuild only on change */
  guint           rebuild_id;
  gboolean        node_switched; /* the next rebuild shows another node */
  gboolean        building;
  GtkWidget      *message;
};

G_DEFINE_FINAL_TYPE (GradusInspector, gradus_inspector, GTK_TYPE_WIDGET)

static const char *const dtypes[] = { "float32", "float64", "int32", "int64", "bool", NULL };
static const char *const inits[] = { "values", "zeros", "ones", "uniform", "normal",
                                     "glorot_uniform", NULL };

static void rebuild (GradusInspector *self);
static char *node_state (GradusInspector *self);

/* ------------------------------------------------------------ applying */

static JsonNode *
parse_text (const char *text, gboolean bare_string, GError **error)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  if (json_parser_load_from_data (p, text, -1, NULL) && json_parser_get_root (p))
    return json_node_copy (json_parser_get_root (p));
  if (bare_string) {
    JsonNode *n = json_node_new (JSON_NODE_VALUE);
    json_node_set_string (n, text);
    return n;
  }
  g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, _("'%s' is not a JSON value (e.g. 3, [1, 2], [null, 3])"), text);
  return NULL;
}

static JsonNode *
value_member (GradusInspector *self)
{
  JsonObject *o = gradus_doc_model_get_node (self->model, self->node_id);
  return o ? json_object_get_member (o, "value") : NULL;
}

/* The value's shape as a JSON array, from nested lists or a shape member. */
static JsonArray *
value_shape (JsonNode *v)
{
  JsonArray *shape = json_array_new ();
  if (v && JSON_NODE_HOLDS_OBJECT (v)) {
    JsonNode *s = json_object_get_member (json_node_get_object (v), "shape");
    if (s && JSON_NODE_HOLDS_ARRAY (s)) {
      json_array_unref (shape);
      return json_array_ref (json_node_get_array (s));
    }
    return shape;
  }
  while (v && JSON_NODE_HOLDS_ARRAY (v)) {
    JsonArray *a = json_node_get_array (v);
    json_array_add_int_element (shape, json_array_get_length (a));
    v = json_array_get_length (a) ? json_array_get_element (a, 0) : NULL;
  }
  return shape;
}

static gboolean
apply_init (GradusInspector *self, const char *init, GError **error)
{
  JsonNode *v = value_member (self);
  JsonObject *o = gradus_doc_model_get_node (self->model, self->node_id);
  const char *dtype = json_object_get_string_member_with_default (o, "dtype", "float32");
  if (g_str_equal (init, "values")) {
    /* Back to explicit numbers: what the engine draws from the init. */
    GrdDType dt = GRD_DTYPE_FLOAT32;
    grd_dtype_from_name (dtype, &dt);
    g_autoptr (GrdTensor) t = v ? grd_value_from_json (v, dt, NULL, error) : NULL;
    if (!t)
      return FALSE;
    if (t->size > 4096) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE,
                   _("%s has %lld elements: too many to edit as numbers"), self->node_id, (long long) t->size);
      return FALSE;
    }
    return gradus_doc_model_set_member (self->model, self->node_id, "value", grd_value_to_json (t), error);
  }
  JsonObject *nv = json_object_new ();
  json_object_set_array_member (nv, "shape", value_shape (v));
  json_object_set_string_member (nv, "init", init);
  json_object_set_int_member (nv, "seed", 1);
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (n, nv);
  return gradus_doc_model_set_member (self->model, self->node_id, "value", n, error);
}

/* Sets element `index` (flat, row-major) of a nested-list value. */
static gboolean
apply_cell (GradusInspector *self, gint row, gint col, const char *text, GError **error)
{
  g_autoptr (JsonNode) cell = parse_text (text, FALSE, error);
  if (!cell)
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE (cell)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, _("'%s' is not a number"), text);
    return FALSE;
  }
  JsonNode *v = value_member (self);
  if (!v)
    return FALSE;
  g_autoptr (JsonNode) copy = gradus_json_deep_copy (v);
  JsonNode *target = copy;
  if (JSON_NODE_HOLDS_ARRAY (target)) {
    JsonArray *a = json_node_get_array (target);
    if (row >= 0) {
      target = json_array_get_element (a, row);
      a = JSON_NODE_HOLDS_ARRAY (target) ? json_node_get_array (target) : NULL;
    }
    target = a && col < (gint) json_array_get_length (a) ? json_array_get_element (a, col) : NULL;
  }
  if (!target)
    return FALSE;
  GValue gv = G_VALUE_INIT;
  json_node_get_value (cell, &gv);
  json_node_set_value (target, &gv);
  g_value_unset (&gv);
  return gradus_doc_model_set_member (self->model, self->node_id, "value", g_steal_pointer (&copy),
                                      error);
}

gboolean
gradus_inspector_apply (GradusInspector *self, const char *key, const char *text, GError **error)
{
  if (!self->model || !self->node_id) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("no node is selected"));
    return FALSE;
  }
  g_autofree char *id = g_strdup (self->node_id);
  g_autofree char *t = g_strstrip (g_strdup (text ? text : ""));
  if (g_str_equal (key, "id")) {
    return gradus_doc_model_rename_node (self->model, id, t, error);
  }
  if (g_str_equal (key, "name") || g_str_equal (key, "dtype")) {
    GrdDType dt;
    if (g_str_equal (key, "dtype") && !grd_dtype_from_name (t, &dt)) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE, _("'%s' is not a dtype (float32, float64, int32, int64, bool)"), t);
      return FALSE;
    }
    JsonNode *n = NULL;
    if (*t) {
      n = json_node_new (JSON_NODE_VALUE);
      json_node_set_string (n, t);
    }
    return gradus_doc_model_set_member (self->model, id, key, n, error);
  }
  if (g_str_equal (key, "init"))
    return apply_init (self, t, error);
  if (g_str_equal (key, "function.inputs") || g_str_equal (key, "function.outputs"))
    return gradus_doc_model_set_in_function (self->model, key + 9, id,
                                             g_str_equal (t, "true") || g_str_equal (t, "1"), error);
  if (g_str_equal (key, "update"))
    return gradus_doc_model_set_update (self->model, id, t, error);
  if (g_str_equal (key, "feed")) {
    JsonNode *f = *t ? parse_text (t, FALSE, error) : NULL;
    if (*t && !f)
      return FALSE;
    return gradus_doc_model_set_feed (self->model, id, f, error);
  }
  if (g_str_has_prefix (key, "cell:")) {
    gint row = -1, col = 0;
    if (sscanf (key + 5, "%d,%d", &row, &col) != 2)
      return FALSE;
    return apply_cell (self, row, col, t, error);
  }
  gboolean is_attr = g_str_has_prefix (key, "attrs.");
  if (is_attr && !*t)
    return gradus_doc_model_set_member (self->model, id, key, NULL, error);
  JsonNode *n = parse_text (t, is_attr, error);
  if (!n)
    return FALSE;
  if (g_str_equal (key, "shape") && !JSON_NODE_HOLDS_ARRAY (n)) {
    json_node_unref (n);
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, _("a shape is a list: [] scalar, [null] vector, [null, 3] ..."));
    return FALSE;
  }
  return gradus_doc_model_set_member (self->model, id, key, n, error);
}

static void
show_error (GradusInspector *self, const char *msg)
{
  if (!self->message)
    return;
  gtk_label_set_text (GTK_LABEL (self->message), msg ? msg : "");
  gtk_widget_set_visible (self->message, msg != NULL);
}

static void
entry_apply (GtkWidget *entry, GradusInspector *self)
{
  if (self->building)
    return;
  const char *key = g_object_get_data (G_OBJECT (entry), "key");
  const char *orig = g_object_get_data (G_OBJECT (entry), "orig");
  const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));
  if (g_strcmp0 (orig, text) == 0)
    return;
  g_debug ("inspector: %s of %s := '%s'", key, self->node_id, text);
  /* Remember the text as applied, so focus leaving does not apply it twice. */
  g_object_set_data_full (G_OBJECT (entry), "orig", g_strdup (text), g_free);
  g_autoptr (GError) error = NULL;
  if (!gradus_inspector_apply (self, key, text, &error))
    show_error (self, error ? error->message : _("not applied"));
  else
    show_error (self, NULL);
}

static void
focus_leave (GtkEventControllerFocus *c, GradusInspector *self)
{
  entry_apply (gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (c)), self);
}

static GtkWidget *
make_entry (GradusInspector *self, const char *key, const char *text, const char *tooltip)
{
  GtkWidget *e = gtk_entry_new ();
  gtk_editable_set_text (GTK_EDITABLE (e), text ? text : "");
  g_object_set_data_full (G_OBJECT (e), "key", g_strdup (key), g_free);
  g_object_set_data_full (G_OBJECT (e), "orig", g_strdup (text ? text : ""), g_free);
  g_signal_connect (e, "activate", G_CALLBACK (entry_apply), self);
  GtkEventController *f = gtk_event_controller_focus_new ();
  g_signal_connect (f, "leave", G_CALLBACK (focus_leave), self);
  gtk_widget_add_controller (e, f);
  if (tooltip)
    gtk_widget_set_tooltip_text (e, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (e), GTK_ACCESSIBLE_PROPERTY_LABEL, key, -1);
  gtk_widget_set_hexpand (e, TRUE);
  return e;
}

static void
dropdown_changed (GtkDropDown *dd, GParamSpec *pspec, GradusInspector *self)
{
  if (self->building)
    return;
  const char *key = g_object_get_data (G_OBJECT (dd), "key");
  GtkStringObject *item = gtk_drop_down_get_selected_item (dd);
  if (!item)
    return;
  g_autoptr (GError) error = NULL;
  if (!gradus_inspector_apply (self, key, gtk_string_object_get_string (item), &error))
    show_error (self, error->message);
}

static GtkWidget *
make_dropdown (GradusInspector *self, const char *key, const char *const *choices,
               const char *current)
{
  GtkWidget *dd = gtk_drop_down_new_from_strings (choices);
  for (guint i = 0; choices[i]; i++)
    if (current && g_str_equal (choices[i], current))
      gtk_drop_down_set_selected (GTK_DROP_DOWN (dd), i);
  g_object_set_data_full (G_OBJECT (dd), "key", g_strdup (key), g_free);
  g_signal_connect (dd, "notify::selected", G_CALLBACK (dropdown_changed), self);
  gtk_accessible_update_property (GTK_ACCESSIBLE (dd), GTK_ACCESSIBLE_PROPERTY_LABEL, key, -1);
  return dd;
}

/* ------------------------------------------------------------ building */

static void
add_row (GtkGrid *grid, gint *row, const char *label, GtkWidget *field)
{
  GtkWidget *l = gtk_label_new (label);
  gtk_label_set_xalign (GTK_LABEL (l), 1);
  gtk_widget_add_css_class (l, "dim-label");
  gtk_grid_attach (grid, l, 0, *row, 1, 1);
  gtk_grid_attach (grid, field, 1, *row, 1, 1);
  (*row)++;
}

static GtkWidget *
heading (const char *text)
{
  GtkWidget *l = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (l), 0);
  gtk_label_set_wrap (GTK_LABEL (l), TRUE);
  gtk_widget_add_css_class (l, "heading");
  return l;
}

static char *
node_to_text (JsonNode *n)
{
  if (!n)
    return g_strdup ("");
  if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (n));
  return json_to_string (n, FALSE);
}

static char *
cell_text (JsonNode *n)
{
  return json_to_string (n, FALSE);
}

/* A table of entries for a value of at most 2 dimensions and 64 elements. */
static GtkWidget *
value_table (GradusInspector *self, JsonNode *v)
{
  if (!v)
    return NULL;
  if (JSON_NODE_HOLDS_VALUE (v)) {
    g_autofree char *t = cell_text (v);
    return make_entry (self, "value", t, _("The value: a number, or a JSON list for an array"));
  }
  if (!JSON_NODE_HOLDS_ARRAY (v))
    return NULL;
  JsonArray *a = json_node_get_array (v);
  guint rows = json_array_get_length (a), cols = 0;
  gboolean matrix = rows > 0 && JSON_NODE_HOLDS_ARRAY (json_array_get_element (a, 0));
  for (guint r = 0; matrix && r < rows; r++) {
    JsonNode *e = json_array_get_element (a, r);
    if (!JSON_NODE_HOLDS_ARRAY (e))
      return NULL;
    cols = MAX (cols, json_array_get_length (json_node_get_array (e)));
  }
  if ((matrix ? rows * cols : rows) > 64 || (matrix ? cols : rows) > 8)
    return NULL;
  GtkWidget *grid = gtk_grid_new ();
  gtk_grid_set_column_spacing (GTK_GRID (grid), 2);
  gtk_grid_set_row_spacing (GTK_GRID (grid), 2);
  for (guint r = 0; r < (matrix ? rows : 1); r++) {
    JsonArray *ra = matrix ? json_node_get_array (json_array_get_element (a, r)) : a;
    for (guint c = 0; c < json_array_get_length (ra); c++) {
      JsonNode *e = json_array_get_element (ra, c);
      if (!JSON_NODE_HOLDS_VALUE (e))
        return NULL;
      g_autofree char *key = g_strdup_printf ("cell:%d,%u", matrix ? (gint) r : -1, c);
      g_autofree char *t = cell_text (e);
      GtkWidget *cell = make_entry (self, key, t, NULL);
      gtk_editable_set_width_chars (GTK_EDITABLE (cell), 5);
      gtk_editable_set_max_width_chars (GTK_EDITABLE (cell), 7);
      gtk_grid_attach (GTK_GRID (grid), cell, c, r, 1, 1);
    }
  }
  return grid;
}

static void
switch_toggled (GtkCheckButton *b, GradusInspector *self)
{
  if (self->building)
    return;
  g_autoptr (GError) error = NULL;
  if (!gradus_inspector_apply (self, g_object_get_data (G_OBJECT (b), "key"),
                               gtk_check_button_get_active (b) ? "true" : "false", &error))
    show_error (self, error->message);
}

static GtkWidget *
make_check (GradusInspector *self, const char *key, const char *label, gboolean active,
            const char *tooltip)
{
  GtkWidget *b = gtk_check_button_new_with_label (label);
  gtk_check_button_set_active (GTK_CHECK_BUTTON (b), active);
  g_object_set_data_full (G_OBJECT (b), "key", g_strdup (key), g_free);
  g_signal_connect (b, "toggled", G_CALLBACK (switch_toggled), self);
  gtk_widget_set_tooltip_text (b, tooltip);
  return b;
}

static void
toggle_gradient (GtkButton *b, GradusInspector *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "win.toggle-gradient", NULL);
}

static void
clear_box (GradusInspector *self)
{
  /* A focused field that goes away without losing the focus first leaves
   * GTK's scrolled window with a dangling focus child (a critical, then
   * crashes): hand the focus back to the window before. */
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *focus = root ? gtk_root_get_focus (root) : NULL;
  if (focus && gtk_widget_is_ancestor (focus, self->box))
    gtk_root_set_focus (root, NULL);
  GtkWidget *c;
  while ((c = gtk_widget_get_first_child (self->box)))
    gtk_box_remove (GTK_BOX (self->box), c);
  self->message = NULL;
}

static void
rebuild (GradusInspector *self)
{
  self->building = TRUE;
  clear_box (self);
  JsonObject *o = self->model && self->node_id ? gradus_doc_model_get_node (self->model, self->node_id) : NULL;
  g_clear_pointer (&self->shown_json, g_free);
  if (!o) {
    gtk_box_append (GTK_BOX (self->box), heading (self->n_selected > 1 ? _("Several nodes selected") : _("No node selected")));
    GtkWidget *hint = gtk_label_new (_("Select a node on the canvas to edit it. Drag from an output port to an input port to connect."));
    gtk_label_set_wrap (GTK_LABEL (hint), TRUE);
    gtk_label_set_xalign (GTK_LABEL (hint), 0);
    gtk_widget_add_css_class (hint, "dim-label");
    gtk_box_append (GTK_BOX (self->box), hint);
    self->building = FALSE;
    return;
  }
  self->shown_json = node_state (self);

  const char *kind = json_object_get_string_member_with_default (o, "kind", "?");
  const char *op = json_object_get_string_member_with_default (o, "op", NULL);
  g_autofree char *title = op ? g_strdup_printf (_("Op: %s"), op) : g_strdup_printf ("%c%s", g_ascii_toupper (kind[0]), kind + 1);
  gtk_box_append (GTK_BOX (self->box), heading (title));
  const char *about = gradus_catalog_describe (op ? op : kind);
  if (about) {
    GtkWidget *l = gtk_label_new (about);
    gtk_label_set_wrap (GTK_LABEL (l), TRUE);
    gtk_label_set_xalign (GTK_LABEL (l), 0);
    gtk_widget_add_css_class (l, "dim-label");
    gtk_box_append (GTK_BOX (self->box), l);
  }
  const char *err = gradus_doc_model_node_error (self->model, self->node_id);
  if (err) {
    GtkWidget *l = gtk_label_new (err);
    gtk_label_set_wrap (GTK_LABEL (l), TRUE);
    gtk_label_set_xalign (GTK_LABEL (l), 0);
    gtk_label_set_selectable (GTK_LABEL (l), TRUE);
    gtk_widget_add_css_class (l, "error");
    gtk_box_append (GTK_BOX (self->box), l);
  }

  GtkWidget *grid = gtk_grid_new ();
  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 8);
  gint row = 0;
  add_row (GTK_GRID (grid), &row, _("Id"), make_entry (self, "id", self->node_id, _("Unique id: other nodes refer to it")));
  add_row (GTK_GRID (grid), &row, _("Name"),
           make_entry (self, "name", json_object_get_string_member_with_default (o, "name", ""),
                       _("Display name (the id when empty)")));
  if (g_str_equal (kind, "variable") || g_str_equal (kind, "constant") || g_str_equal (kind, "shared"))
    add_row (GTK_GRID (grid), &row, _("Dtype"),
             make_dropdown (self, "dtype", dtypes, json_object_get_string_member_with_default (o, "dtype", "float32")));
  if (g_str_equal (kind, "variable")) {
    g_autofree char *shape = node_to_text (json_object_get_member (o, "shape"));
    add_row (GTK_GRID (grid), &row, _("Shape"),
             make_entry (self, "shape", shape, _("[] scalar, [null] vector, [null, null] matrix; numbers fix a dimension")));
  }
  if (g_str_equal (kind, "constant") || g_str_equal (kind, "shared")) {
    JsonNode *v = json_object_get_member (o, "value");
    const char *init = "values";
    if (v && JSON_NODE_HOLDS_OBJECT (v))
      init = json_object_get_string_member_with_default (json_node_get_object (v), "init", "values");
    GtkWidget *table = g_str_equal (init, "values") ? value_table (self, v) : NULL;
    g_autofree char *text = node_to_text (v);
    if (table)
      add_row (GTK_GRID (grid), &row, _("Value"), table);
    /* A scalar's one cell already is the whole value. */
    if (!table || !GTK_IS_ENTRY (table))
      add_row (GTK_GRID (grid), &row, table ? _("As JSON") : _("Value"),
               make_entry (self, "value", text, _("Any value form of the file format: 1.5, [[1, 2], [3, 4]], {\"shape\": [784, 10], \"init\": \"glorot_uniform\", \"seed\": 1}")));
    add_row (GTK_GRID (grid), &row, _("Init"), make_dropdown (self, "init", inits, init));
  }
  if (op) {
    for (const char *const *a = gradus_catalog_attrs (op); *a; a++) {
      JsonObject *attrs = json_object_get_member (o, "attrs") && JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "attrs"))
                            ? json_object_get_object_member (o, "attrs") : NULL;
      g_autofree char *text = node_to_text (attrs ? json_object_get_member (attrs, *a) : NULL);
      g_autofree char *key = g_strconcat ("attrs.", *a, NULL);
      add_row (GTK_GRID (grid), &row, *a, make_entry (self, key, text, _("JSON; empty for the default")));
    }
  }
  gtk_box_append (GTK_BOX (self->box), grid);

  /* The node's part in the file's function (theano.function inputs, outputs, updates). */
  gtk_box_append (GTK_BOX (self->box), heading (_("Function")));
  if (g_str_equal (kind, "variable")) {
    GtkWidget *fg = gtk_grid_new ();
    gtk_grid_set_column_spacing (GTK_GRID (fg), 8);
    gint frow = 0;
    g_autofree char *feed = node_to_text (gradus_doc_model_get_feed (self->model, self->node_id));
    add_row (GTK_GRID (fg), &frow, _("Fed with"),
             make_entry (self, "feed", feed,
                         _("What each call feeds this input (run.feeds): a value such as 1.5 or [1, 2], "
                           "or a data set such as {\"csv\": \"iris.csv\", \"columns\": [0, 1], \"batch\": 16}")));
    gtk_box_append (GTK_BOX (self->box), fg);
  }
  if (g_str_equal (kind, "variable"))
    gtk_box_append (GTK_BOX (self->box),
                    make_check (self, "function.inputs", _("Input of the function"),
                                gradus_doc_model_in_function (self->model, "inputs", self->node_id),
                                _("Each call of the function is fed a value for this variable")));
  gtk_box_append (GTK_BOX (self->box),
                  make_check (self, "function.outputs", _("Output of the function"),
                              gradus_doc_model_in_function (self->model, "outputs", self->node_id),
                              _("Each call of the function returns this value")));
  if (g_str_equal (kind, "shared")) {
    GtkWidget *ug = gtk_grid_new ();
    gtk_grid_set_column_spacing (GTK_GRID (ug), 8);
    gint urow = 0;
    add_row (GTK_GRID (ug), &urow, _("Updated to"),
             make_entry (self, "update", gradus_doc_model_get_update (self->model, self->node_id),
                         _("After each call this shared variable takes the value of this node (e.g. a_next); empty for none")));
    gtk_box_append (GTK_BOX (self->box), ug);
  }

  /* Types as the engine inferred them. */
  GrdDocument *doc = gradus_doc_model_get_document (self->model);
  GrdGraph *graph = doc ? grd_document_graph (doc) : NULL;
  gint idx = graph ? grd_graph_find (graph, self->node_id) : -1;
  if (idx >= 0) {
    GString *types = g_string_new (NULL);
    gint n_out = grd_graph_node_n_outputs (graph, idx);
    for (gint k = 0; k < n_out; k++) {
      g_autofree char *ref = g_strdup_printf ("%s:%d", self->node_id, k);
      GrdRef r;
      if (!grd_graph_lookup (graph, ref, &r, NULL))
        continue;
      g_autofree char *t = grd_type_describe (grd_graph_ref_type (graph, r));
      g_string_append_printf (types, _("%soutput %d: %s"), k ? "\n" : "", k, t);
    }
    GtkWidget *l = gtk_label_new (types->str);
    g_string_free (types, TRUE);
    gtk_label_set_xalign (GTK_LABEL (l), 0);
    gtk_label_set_selectable (GTK_LABEL (l), TRUE);
    gtk_widget_add_css_class (l, "monospace");
    gtk_box_append (GTK_BOX (self->box), heading (_("Type")));
    gtk_box_append (GTK_BOX (self->box), l);
  }
  if (g_str_equal (kind, "grad")) {
    GtkWidget *b = gtk_button_new_with_mnemonic (_("Show or hide the _gradient graph"));
    gtk_widget_set_tooltip_text (b, _("Lay the nodes that the engine derived beside the graph (double-click the grad node does the same)"));
    g_signal_connect (b, "clicked", G_CALLBACK (toggle_gradient), self);
    gtk_box_append (GTK_BOX (self->box), b);
  }
  self->message = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->message), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->message), 0);
  gtk_widget_add_css_class (self->message, "error");
  gtk_widget_set_visible (self->message, FALSE);
  gtk_box_append (GTK_BOX (self->box), self->message);
  self->building = FALSE;
}

static char *
node_state (GradusInspector *self)
{
  JsonObject *o = self->model && self->node_id ? gradus_doc_model_get_node (self->model, self->node_id) : NULL;
  if (!o)
    return NULL;
  JsonNode *wrap = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (wrap, o);
  g_autofree char *json = json_to_string (wrap, FALSE);
  json_node_unref (wrap);
  /* Types too: rewiring an input changes what the panel shows. */
  GString *state = g_string_new (json);
  g_string_append_printf (state, "\n%s\n%d%d %s", gradus_doc_model_node_error (self->model, self->node_id),
                          gradus_doc_model_in_function (self->model, "inputs", self->node_id),
                          gradus_doc_model_in_function (self->model, "outputs", self->node_id),
                          gradus_doc_model_get_update (self->model, self->node_id));
  JsonNode *feed = gradus_doc_model_get_feed (self->model, self->node_id);
  if (feed) {
    g_autofree char *f = json_to_string (feed, FALSE);
    g_string_append_printf (state, "\n%s", f);
  }
  GrdDocument *doc = gradus_doc_model_get_document (self->model);
  GrdGraph *graph = doc ? grd_document_graph (doc) : NULL;
  gint idx = graph ? grd_graph_find (graph, self->node_id) : -1;
  for (gint k = 0; idx >= 0 && k < grd_graph_node_n_outputs (graph, idx); k++) {
    g_autofree char *t = grd_type_describe (grd_graph_node_type (graph, idx, k));
    g_string_append_printf (state, "\n%s", t);
  }
  return g_string_free (state, FALSE);
}

static gboolean
rebuild_idle (gpointer data)
{
  GradusInspector *self = data;
  self->rebuild_id = 0;
  /* Rebuild only when this node or its error changed: the user may be
   * typing in another field of the panel. */
  g_autofree char *now = node_state (self);
  if (self->node_switched || g_strcmp0 (now, self->shown_json) != 0)
    rebuild (self);
  self->node_switched = FALSE;
  return G_SOURCE_REMOVE;
}

static void
queue_rebuild (GradusInspector *self)
{
  if (!self->rebuild_id)
    self->rebuild_id = g_idle_add (rebuild_idle, self);
}

static void
node_renamed (GradusDocModel *model, const char *from, const char *to, GradusInspector *self)
{
  if (g_strcmp0 (self->node_id, from) == 0) {
    g_free (self->node_id);
    self->node_id = g_strdup (to);
  }
}

void
gradus_inspector_set_model (GradusInspector *self, GradusDocModel *model)
{
  if (self->model) {
    g_signal_handler_disconnect (self->model, self->changed_id);
    g_signal_handlers_disconnect_by_func (self->model, node_renamed, self);
    g_clear_object (&self->model);
  }
  self->model = g_object_ref (model);
  self->changed_id = g_signal_connect_swapped (model, "changed", G_CALLBACK (queue_rebuild), self);
  g_signal_connect (model, "node-renamed", G_CALLBACK (node_renamed), self);
  g_clear_pointer (&self->node_id, g_free);
  rebuild (self);
}

void
gradus_inspector_set_node (GradusInspector *self, const char *id, guint n_selected)
{
  if (g_strcmp0 (id, self->node_id) == 0 && n_selected == self->n_selected)
    return;
  g_free (self->node_id);
  self->node_id = g_strdup (id);
  self->n_selected = n_selected;
  /* Later, not now: this comes from the canvas in the middle of a press, and
   * tearing fields down there (their controllers, a focused entry) while GTK
   * still dispatches to them is how the editor crashed. */
  self->node_switched = TRUE;
  queue_rebuild (self);
}

const char *
gradus_inspector_get_node (GradusInspector *self)
{
  return self->node_id;
}

static void
gradus_inspector_dispose (GObject *object)
{
  GradusInspector *self = GRADUS_INSPECTOR (object);
  g_clear_handle_id (&self->rebuild_id, g_source_remove);
  if (self->model) {
    g_signal_handler_disconnect (self->model, self->changed_id);
    g_signal_handlers_disconnect_by_func (self->model, node_renamed, self);
    g_clear_object (&self->model);
  }
  g_clear_pointer (&self->scroll, gtk_widget_unparent);
  G_OBJECT_CLASS (gradus_inspector_parent_class)->dispose (object);
}

static void
gradus_inspector_finalize (GObject *object)
{
  GradusInspector *self = GRADUS_INSPECTOR (object);
  g_free (self->node_id);
  g_free (self->shown_json);
  G_OBJECT_CLASS (gradus_inspector_parent_class)->finalize (object);
}

static void
gradus_inspector_class_init (GradusInspectorClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = gradus_inspector_dispose;
  G_OBJECT_CLASS (klass)->finalize = gradus_inspector_finalize;
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (GTK_WIDGET_CLASS (klass), "gradus-inspector");
}

static void
gradus_inspector_init (GradusInspector *self)
{
  self->scroll = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (self->scroll), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_widget_set_parent (self->scroll, GTK_WIDGET (self));
  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  gtk_widget_set_margin_start (self->box, 12);
  gtk_widget_set_margin_end (self->box, 12);
  gtk_widget_set_margin_top (self->box, 12);
  gtk_widget_set_margin_bottom (self->box, 12);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scroll), self->box);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Inspector of the selected node"), -1);
}

GtkWidget *
gradus_inspector_new (void)
{
  return g_object_new (GRADUS_TYPE_INSPECTOR, NULL);
}
