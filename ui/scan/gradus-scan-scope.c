/* gradus-scan-scope.c: the body of a scan opened in place. While it is open,
 * gradus_doc_nodes() answers the body's "nodes", so every typed edit of the
 * model (add, connect, delete, move, undo) edits the body inside the one
 * JSON tree; the lenient build types the body as a graph of its own, with a
 * variable for each outer node it reads (so Wx, bh... have their types). */
#include "gradus-scan.h"
#include "document/gradus-doc-private.h"

#include <glib/gi18n.h>

gboolean
gradus_scan_is_scan (JsonObject *o)
{
  return o && g_strcmp0 (gradus_json_get_string (o, "kind"), "scan") == 0;
}

/* The top-level node `id` (whatever is open). */
static JsonObject *
top_node (GradusDocModel *self, const char *id)
{
  JsonNode *n = json_object_get_member (gradus_doc_root (self), "nodes");
  if (!id || !n || !JSON_NODE_HOLDS_ARRAY (n))
    return NULL;
  JsonArray *a = json_node_get_array (n);
  gint i = gradus_doc_find_index (a, id);
  return i < 0 ? NULL : json_node_get_object (json_array_get_element (a, i));
}

static JsonObject *
body_of (JsonObject *scan)
{
  if (!gradus_scan_is_scan (scan))
    return NULL;
  JsonNode *b = json_object_get_member (scan, "body");
  if (!b || !JSON_NODE_HOLDS_OBJECT (b))
    return NULL;
  JsonObject *body = json_node_get_object (b);
  JsonNode *nodes = json_object_get_member (body, "nodes");
  return nodes && JSON_NODE_HOLDS_ARRAY (nodes) ? body : NULL;
}

JsonObject *
gradus_doc_scope_body (GradusDocModel *self)
{
  return self->scope ? body_of (top_node (self, self->scope)) : NULL;
}

gboolean
gradus_doc_scope_id_taken (GradusDocModel *self, const char *id)
{
  return gradus_doc_scope_body (self) && top_node (self, id) != NULL;
}

gboolean
gradus_scan_open (GradusDocModel *model, const char *scan_id, GError **error)
{
  g_return_val_if_fail (GRADUS_IS_DOC_MODEL (model), FALSE);
  /* always a top-level scan: close the open body first */
  g_autofree char *was = g_steal_pointer (&model->scope);
  if (!body_of (top_node (model, scan_id))) {
    model->scope = g_steal_pointer (&was);
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("%s is not a scan with a body to open"),
                 scan_id ? scan_id : _("(none)"));
    return FALSE;
  }
  model->scope = g_strdup (scan_id);
  gradus_doc_model_rebuild (model);
  gradus_doc_model_emit_changed (model);
  return TRUE;
}

void
gradus_scan_close (GradusDocModel *model)
{
  g_return_if_fail (GRADUS_IS_DOC_MODEL (model));
  if (!model->scope)
    return;
  g_clear_pointer (&model->scope, g_free);
  gradus_doc_model_rebuild (model);
  gradus_doc_model_emit_changed (model);
}

const char *
gradus_scan_get_open (GradusDocModel *model)
{
  return gradus_doc_scope_body (model) ? model->scope : NULL;
}

JsonObject *
gradus_scan_open_node (GradusDocModel *model)
{
  return gradus_doc_scope_body (model) ? top_node (model, model->scope) : NULL;
}

gint
gradus_doc_scope_connect_output (GradusDocModel *self, const char *target, gint slot,
                                 const char *source_ref, GError **error)
{
  JsonObject *body = gradus_doc_scope_body (self);
  if (!body || !target || g_strcmp0 (target, self->scope) != 0
      || gradus_doc_find_index (json_object_get_array_member (body, "nodes"), target) >= 0)
    return -1;
  JsonNode *outs_node = json_object_get_member (body, "outputs");
  JsonArray *outs = outs_node && JSON_NODE_HOLDS_ARRAY (outs_node) ? json_node_get_array (outs_node) : NULL;
  if (!outs || slot < 0 || (guint) slot >= json_array_get_length (outs)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("the body of %s has no output %d"), target, slot + 1);
    return FALSE;
  }
  gint k = 0;
  g_autofree char *source = gradus_ref_parse (source_ref, &k);
  if (!source || gradus_doc_find_index (json_object_get_array_member (body, "nodes"), source) < 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("%s is not a node of the body of %s"), source_ref, target);
    return FALSE;
  }
  g_autofree char *ref = k ? g_strdup_printf ("%s:%d", source, k) : g_strdup (source);
  gradus_doc_model_begin_edit (self);
  body = gradus_doc_scope_body (self);
  gradus_json_array_replace (json_object_get_array_member (body, "outputs"), slot,
                             json_node_init_string (json_node_alloc (), ref));
  /* the scan as the outer graph sees it: a state must keep its type */
  g_autoptr (GHashTable) known = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GrdDocument) outer = gradus_doc_scope_outer_build (self, known);
  const char *err = outer ? grd_document_node_error (outer, self->scope) : NULL;
  if (err) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE, _("cannot make %s output %d of %s: %s"), ref, slot + 1,
                 target, err);
    gradus_doc_model_abort_edit (self);
    return FALSE;
  }
  g_autofree char *label = g_strdup_printf (_("Connect %s to output %d of %s"), ref, slot + 1, target);
  gradus_doc_model_commit_edit (self, label);
  return TRUE;
}

GrdDocument *
gradus_doc_scope_outer_build (GradusDocModel *self, GHashTable *known)
{
  if (!gradus_doc_scope_body (self))
    return NULL;
  char *scope = g_steal_pointer (&self->scope);
  gradus_doc_model_rebuild (self);
  self->scope = scope;
  GrdDocument *outer = g_steal_pointer (&self->doc);
  g_clear_pointer (&self->build_error, g_free);
  JsonArray *top = json_object_get_array_member (gradus_doc_root (self), "nodes");
  for (guint i = 0; i < json_array_get_length (top); i++) {
    JsonNode *e = json_array_get_element (top, i);
    const char *id = JSON_NODE_HOLDS_OBJECT (e) ? gradus_json_get_string (json_node_get_object (e), "id") : NULL;
    if (id)
      g_hash_table_add (known, (gpointer) id);
  }
  return outer;
}

/* A variable standing for outer node `id` as the body reads it. */
static JsonNode *
closure_variable (GrdGraph *graph, const char *id)
{
  gint idx = graph ? grd_graph_find (graph, id) : -1;
  const GrdType *t = idx >= 0 ? grd_graph_node_type (graph, idx, 0) : NULL;
  if (!t)
    return NULL;
  JsonObject *v = json_object_new ();
  json_object_set_string_member (v, "id", id);
  json_object_set_string_member (v, "kind", "variable");
  json_object_set_string_member (v, "dtype", grd_dtype_name (t->dtype));
  JsonArray *shape = json_array_new ();
  for (gint d = 0; d < t->rank; d++) {
    if (t->dims[d] == GRD_DIM_UNKNOWN)
      json_array_add_null_element (shape);
    else
      json_array_add_int_element (shape, t->dims[d]);
  }
  json_object_set_array_member (v, "shape", shape);
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (n, v);
  return n;
}

JsonNode *
gradus_doc_scope_build_root (GradusDocModel *self, GrdDocument *outer, JsonArray *kept)
{
  GrdGraph *graph = outer ? grd_document_graph (outer) : NULL;
  g_autoptr (GHashTable) inside = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < json_array_get_length (kept); i++) {
    JsonNode *e = json_array_get_element (kept, i);
    const char *id = JSON_NODE_HOLDS_OBJECT (e) ? gradus_json_get_string (json_node_get_object (e), "id") : NULL;
    if (id)
      g_hash_table_add (inside, (gpointer) id);
  }
  JsonArray *nodes = json_array_new ();
  g_autoptr (GHashTable) added = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < json_array_get_length (kept); i++) {
    JsonNode *e = json_array_get_element (kept, i);
    if (!JSON_NODE_HOLDS_OBJECT (e))
      continue;
    g_autoptr (GPtrArray) deps = gradus_doc_deps_of (json_node_get_object (e));
    for (guint k = 0; k < deps->len; k++) {
      const char *d = deps->pdata[k];
      if (g_hash_table_contains (inside, d) || g_hash_table_contains (added, d))
        continue;
      JsonNode *v = closure_variable (graph, d);
      if (v) {
        json_array_add_element (nodes, v);
        g_hash_table_add (added, g_strdup (d));
      }
    }
  }
  for (guint i = 0; i < json_array_get_length (kept); i++)
    json_array_add_element (nodes, gradus_json_deep_copy (json_array_get_element (kept, i)));
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "format", "gradus-graph");
  json_object_set_int_member (o, "version", 1);
  json_object_set_array_member (o, "nodes", nodes);
  (void) self;
  JsonNode *root = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (root, o);
  return root;
}

/* ------------------------------------------------------------ slots and roles */

static JsonArray *
list_of (JsonObject *scan, const char *key)
{
  JsonNode *n = json_object_get_member (scan, key);
  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static guint
len_of (JsonArray *a)
{
  return a ? json_array_get_length (a) : 0;
}

/* The initial states: outputs_info entries with an init, in order. */
static GPtrArray *
states_of (JsonObject *scan)
{
  GPtrArray *s = g_ptr_array_new ();
  JsonArray *info = list_of (scan, "outputs_info");
  for (guint i = 0; i < len_of (info); i++) {
    JsonNode *e = json_array_get_element (info, i);
    if (JSON_NODE_HOLDS_OBJECT (e) && json_object_has_member (json_node_get_object (e), "init"))
      g_ptr_array_add (s, json_node_get_object (e));
  }
  return s;
}

gint
gradus_scan_n_slots (JsonObject *scan)
{
  g_autoptr (GPtrArray) states = states_of (scan);
  return len_of (list_of (scan, "sequences")) + states->len + len_of (list_of (scan, "non_sequences"));
}

/* Slot `slot` as (list, entry): 0 sequence, 1 state, 2 non-sequence. */
static JsonNode *
slot_entry (JsonObject *scan, gint slot, gint *which)
{
  JsonArray *seq = list_of (scan, "sequences"), *non = list_of (scan, "non_sequences");
  g_autoptr (GPtrArray) states = states_of (scan);
  if (slot < 0)
    return NULL;
  if ((guint) slot < len_of (seq)) {
    *which = 0;
    return json_array_get_element (seq, slot);
  }
  slot -= len_of (seq);
  if ((guint) slot < states->len) {
    *which = 1;
    return json_object_get_member (states->pdata[slot], "init");
  }
  slot -= states->len;
  if ((guint) slot < len_of (non)) {
    *which = 2;
    return json_array_get_element (non, slot);
  }
  return NULL;
}

JsonNode *
gradus_scan_slot_node (JsonObject *scan, gint slot)
{
  gint which;
  JsonNode *e = slot_entry (scan, slot, &which);
  if (e && JSON_NODE_HOLDS_OBJECT (e))   /* {"ref": "U", "taps": [...]} */
    e = json_object_get_member (json_node_get_object (e), "ref");
  return e;
}

/* Tap i, or `fallback` when the list holds something else. */
static gint64
tap_at (JsonArray *taps, guint i, gint64 fallback)
{
  JsonNode *e = taps && i < json_array_get_length (taps) ? json_array_get_element (taps, i) : NULL;
  if (!e || !JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_INT64)
    return fallback;
  return json_node_get_int (e);
}

/* The taps of a sequence or a state entry as text: "t", "t-1, t", ... */
static char *
taps_text (JsonObject *entry, gint fallback)
{
  JsonArray *taps = entry ? list_of (entry, "taps") : NULL;
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < MAX (len_of (taps), 1); i++) {
    gint64 t = tap_at (taps, i, fallback);
    if (i)
      g_string_append (s, ", ");
    if (t == 0)
      g_string_append (s, "t");
    else
      g_string_append_printf (s, "t%+" G_GINT64_FORMAT, t);
  }
  return g_string_free (s, FALSE);
}

char *
gradus_scan_slot_name (JsonObject *scan, gint slot)
{
  gint which = 0;
  JsonNode *e = slot_entry (scan, slot, &which);
  if (!e)
    return g_strdup ("?");
  if (which == 2)
    return g_strdup (_("non-seq"));
  JsonObject *entry = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
  if (which == 1) {
    /* the init node; its taps are on the outputs_info entry */
    g_autoptr (GPtrArray) states = states_of (scan);
    gint k = slot - len_of (list_of (scan, "sequences"));
    g_autofree char *taps = taps_text (states->pdata[k], -1);
    return g_strdup_printf (_("state [%s]"), taps);
  }
  g_autofree char *taps = taps_text (entry, 0);
  return g_strdup_printf (_("seq [%s]"), taps);
}

char *
gradus_scan_output_name (JsonObject *scan, gint k)
{
  JsonObject *body = body_of (scan);
  JsonArray *outs = body ? list_of (body, "outputs") : NULL;
  const char *ref = k >= 0 && (guint) k < len_of (outs)
                    ? gradus_json_ref_string (json_array_get_element (outs, k)) : NULL;
  JsonArray *info = list_of (scan, "outputs_info");
  JsonNode *e = k >= 0 && (guint) k < len_of (info) ? json_array_get_element (info, k) : NULL;
  gboolean fed = e && JSON_NODE_HOLDS_OBJECT (e) && json_object_has_member (json_node_get_object (e), "init");
  return fed ? g_strdup_printf (_("state %s"), ref ? ref : "?")
             : g_strdup_printf (_("out %s"), ref ? ref : "?");
}

char *
gradus_scan_body_input_role (JsonObject *scan, gint i)
{
  JsonObject *body = body_of (scan);
  JsonArray *seq = list_of (scan, "sequences"), *non = list_of (scan, "non_sequences");
  g_autoptr (GPtrArray) states = states_of (scan);
  if (!body || i < 0 || (guint) i >= len_of (list_of (body, "inputs")))
    return NULL;
  /* one input per tap of each sequence, then of each state, then the non-sequences */
  for (guint s = 0; s < len_of (seq); s++) {
    JsonNode *e = json_array_get_element (seq, s);
    JsonObject *entry = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
    JsonArray *taps = entry ? list_of (entry, "taps") : NULL;
    guint n = MAX (len_of (taps), 1);
    if ((guint) i < n) {
      const char *ref = gradus_json_ref_string (entry ? json_object_get_member (entry, "ref") : e);
      gint64 t = tap_at (taps, i, 0);
      return t == 0 ? g_strdup_printf (_("sequence %s [t]"), ref ? ref : "?")
                    : g_strdup_printf (_("sequence %s [t%+d]"), ref ? ref : "?", (gint) t);
    }
    i -= n;
  }
  for (guint s = 0; s < states->len; s++) {
    JsonArray *taps = list_of (states->pdata[s], "taps");
    guint n = MAX (len_of (taps), 1);
    if ((guint) i < n) {
      const char *ref = gradus_json_ref_string (json_object_get_member (states->pdata[s], "init"));
      gint64 t = tap_at (taps, i, -1);
      return g_strdup_printf (_("state from %s [t%+d]"), ref ? ref : "?", (gint) t);
    }
    i -= n;
  }
  if ((guint) i < len_of (non)) {
    const char *ref = gradus_json_ref_string (json_array_get_element (non, i));
    return g_strdup_printf (_("non-sequence %s"), ref ? ref : "?");
  }
  return NULL;
}
