/* gradus-doc-model.c: the document the editor edits.
 *
 * The JSON tree is the truth: edits change it in place, so keys the editor
 * does not know survive every edit and every save. Each edit snapshots the
 * tree before and after (one command on the undo stack), then rebuilds the
 * engine's lenient document to re-infer types and shapes and collect errors.
 * Nodes with an input not connected yet are left out of that build (and
 * their dependents with them) and carry the editor's own message instead. */
#include "gradus-doc-model.h"
#include "gradus-catalog.h"
#include "gradus-layout.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

typedef struct {
  char     *label;
  JsonNode *before;
  JsonNode *after;
  guint     serial;
} Command;

struct _GradusDocModel {
  GObject      parent_instance;
  JsonNode    *root;
  char        *path;
  GrdDocument *doc;
  char        *build_error;
  GHashTable  *missing;     /* id -> message of nodes the editor kept out of the build */
  GPtrArray   *undo;        /* Command* */
  GPtrArray   *redo;
  JsonNode    *pending;     /* the tree before the edit in progress */
  guint        next_serial;
  guint        saved_serial;
};

enum { PROP_0, PROP_PATH, PROP_MODIFIED, PROP_CAN_UNDO, PROP_CAN_REDO, N_PROPS };
enum { CHANGED, RENAMED, N_SIGNALS };
static GParamSpec *props[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (GradusDocModel, gradus_doc_model, G_TYPE_OBJECT)

static void
command_free (gpointer data)
{
  Command *c = data;
  g_free (c->label);
  json_node_unref (c->before);
  json_node_unref (c->after);
  g_free (c);
}

static void
gradus_doc_model_finalize (GObject *object)
{
  GradusDocModel *self = GRADUS_DOC_MODEL (object);
  g_clear_pointer (&self->root, json_node_unref);
  g_clear_pointer (&self->pending, json_node_unref);
  g_clear_pointer (&self->doc, grd_document_free);
  g_free (self->path);
  g_free (self->build_error);
  g_hash_table_unref (self->missing);
  g_ptr_array_unref (self->undo);
  g_ptr_array_unref (self->redo);
  G_OBJECT_CLASS (gradus_doc_model_parent_class)->finalize (object);
}

static void
gradus_doc_model_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  GradusDocModel *self = GRADUS_DOC_MODEL (object);
  switch (id) {
  case PROP_PATH:
    g_value_set_string (value, self->path);
    break;
  case PROP_MODIFIED:
    g_value_set_boolean (value, gradus_doc_model_get_modified (self));
    break;
  case PROP_CAN_UNDO:
    g_value_set_boolean (value, gradus_doc_model_can_undo (self));
    break;
  case PROP_CAN_REDO:
    g_value_set_boolean (value, gradus_doc_model_can_redo (self));
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
  }
}

static void
gradus_doc_model_class_init (GradusDocModelClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  oc->finalize = gradus_doc_model_finalize;
  oc->get_property = gradus_doc_model_get_property;
  props[PROP_PATH] = g_param_spec_string ("path", NULL, NULL, NULL,
                                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_MODIFIED] = g_param_spec_boolean ("modified", NULL, NULL, FALSE,
                                               G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_CAN_UNDO] = g_param_spec_boolean ("can-undo", NULL, NULL, FALSE,
                                               G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_CAN_REDO] = g_param_spec_boolean ("can-redo", NULL, NULL, FALSE,
                                               G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (oc, N_PROPS, props);
  /* Emitted after every change of the tree (edit, undo, redo, load). */
  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                   NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* Emitted when an edit renames a node (old id, new id), before "changed",
   * so that views can follow the node. */
  signals[RENAMED] = g_signal_new ("node-renamed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                   NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
}

static JsonNode *
empty_root (void)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "format", "gradus-graph");
  json_object_set_int_member (o, "version", 1);
  json_object_set_array_member (o, "nodes", json_array_new ());
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (n, o);
  return n;
}

static void rebuild (GradusDocModel *self);

static void
gradus_doc_model_init (GradusDocModel *self)
{
  self->missing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->undo = g_ptr_array_new_with_free_func (command_free);
  self->redo = g_ptr_array_new_with_free_func (command_free);
  self->root = empty_root ();
  self->next_serial = 1;
  rebuild (self);
}

GradusDocModel *
gradus_doc_model_new (void)
{
  return g_object_new (GRADUS_TYPE_DOC_MODEL, NULL);
}

/* ------------------------------------------------------------ tree helpers */

JsonNode *
gradus_json_deep_copy (JsonNode *node)
{
  /* json_node_copy() shares objects and arrays; snapshots must not. */
  if (!node)
    return NULL;
  switch (json_node_get_node_type (node)) {
  case JSON_NODE_OBJECT: {
    JsonObject *src = json_node_get_object (node), *dst = json_object_new ();
    JsonObjectIter it;
    const char *key;
    JsonNode *member;
    json_object_iter_init_ordered (&it, src);
    while (json_object_iter_next_ordered (&it, &key, &member))
      json_object_set_member (dst, key, gradus_json_deep_copy (member));
    JsonNode *n = json_node_new (JSON_NODE_OBJECT);
    json_node_take_object (n, dst);
    return n;
  }
  case JSON_NODE_ARRAY: {
    JsonArray *src = json_node_get_array (node), *dst = json_array_sized_new (json_array_get_length (src));
    for (guint i = 0; i < json_array_get_length (src); i++)
      json_array_add_element (dst, gradus_json_deep_copy (json_array_get_element (src, i)));
    JsonNode *n = json_node_new (JSON_NODE_ARRAY);
    json_node_take_array (n, dst);
    return n;
  }
  default:
    return json_node_copy (node);
  }
}

static JsonObject *
root_object (GradusDocModel *self)
{
  return json_node_get_object (self->root);
}

static JsonArray *
nodes_array (GradusDocModel *self)
{
  JsonObject *r = root_object (self);
  JsonNode *n = json_object_get_member (r, "nodes");
  if (!n || !JSON_NODE_HOLDS_ARRAY (n)) {
    json_object_set_array_member (r, "nodes", json_array_new ());
    n = json_object_get_member (r, "nodes");
  }
  return json_node_get_array (n);
}

static JsonObject *
object_member (JsonObject *o, const char *key, gboolean create)
{
  JsonNode *n = json_object_get_member (o, key);
  if (n && JSON_NODE_HOLDS_OBJECT (n))
    return json_node_get_object (n);
  if (!create)
    return NULL;
  json_object_set_object_member (o, key, json_object_new ());
  return json_object_get_object_member (o, key);
}

static JsonObject *
ui_nodes (GradusDocModel *self, gboolean create)
{
  JsonObject *ui = object_member (root_object (self), "ui", create);
  return ui ? object_member (ui, "nodes", create) : NULL;
}

static const char *
node_string (JsonObject *node, const char *key)
{
  JsonNode *n = json_object_get_member (node, key);
  if (n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
    return json_node_get_string (n);
  return NULL;
}

static JsonArray *
node_array (JsonObject *node, const char *key, gboolean create)
{
  JsonNode *n = json_object_get_member (node, key);
  if (n && JSON_NODE_HOLDS_ARRAY (n))
    return json_node_get_array (n);
  if (!create)
    return NULL;
  json_object_set_array_member (node, key, json_array_new ());
  return json_object_get_array_member (node, key);
}

static gint
find_index (JsonArray *nodes, const char *id)
{
  for (guint i = 0; i < json_array_get_length (nodes); i++) {
    JsonNode *n = json_array_get_element (nodes, i);
    if (!JSON_NODE_HOLDS_OBJECT (n))
      continue;
    const char *nid = node_string (json_node_get_object (n), "id");
    if (nid && g_str_equal (nid, id))
      return i;
  }
  return -1;
}

char *
gradus_ref_parse (const char *ref, gint *output)
{
  const char *colon = ref ? strrchr (ref, ':') : NULL;
  if (output)
    *output = 0;
  if (!ref)
    return NULL;
  if (!colon)
    return g_strdup (ref);
  if (output)
    *output = atoi (colon + 1);
  return g_strndup (ref, colon - ref);
}

static gboolean
valid_id (const char *id)
{
  if (!id || !(g_ascii_isalpha (id[0]) || id[0] == '_'))
    return FALSE;
  for (const char *p = id + 1; *p; p++)
    if (!(g_ascii_isalnum (*p) || *p == '_' || *p == '.' || *p == '-'))
      return FALSE;
  return TRUE;
}

/* Calls fn on every reference-holding JSON node of a graph node: op inputs,
 * grad cost, wrt and consider_constant. */
typedef void (*RefFunc) (JsonNode *ref_node, gpointer data);

static void
foreach_ref (JsonObject *node, RefFunc fn, gpointer data)
{
  static const char *const lists[] = { "inputs", "wrt", "consider_constant" };
  for (gsize l = 0; l < G_N_ELEMENTS (lists); l++) {
    JsonArray *a = node_array (node, lists[l], FALSE);
    for (guint i = 0; a && i < json_array_get_length (a); i++)
      fn (json_array_get_element (a, i), data);
  }
  JsonNode *cost = json_object_get_member (node, "cost");
  if (cost)
    fn (cost, data);
}

static const char *
ref_string (JsonNode *n)
{
  if (n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING) {
    const char *s = json_node_get_string (n);
    return s && *s ? s : NULL;
  }
  return NULL;
}

static void
collect_dep (JsonNode *ref_node, gpointer data)
{
  const char *s = ref_string (ref_node);
  if (s)
    g_ptr_array_add (data, gradus_ref_parse (s, NULL));
}

static GPtrArray *
deps_of (JsonObject *node)
{
  GPtrArray *deps = g_ptr_array_new_with_free_func (g_free);
  foreach_ref (node, collect_dep, deps);
  return deps;
}

/* ------------------------------------------------------------ slots */

static gint
n_slots_of (JsonObject *node)
{
  const char *kind = node_string (node, "kind");
  if (!kind)
    return 0;
  if (g_str_equal (kind, "grad")) {
    JsonArray *wrt = node_array (node, "wrt", FALSE);
    return 2 + (wrt ? (gint) json_array_get_length (wrt) : 0);
  }
  if (g_str_equal (kind, "op")) {
    JsonArray *in = node_array (node, "inputs", FALSE);
    gint len = in ? (gint) json_array_get_length (in) : 0;
    gint arity = gradus_catalog_arity (node_string (node, "op"));
    if (arity == GRADUS_ARITY_VARIADIC)
      return len + 1;
    if (arity < 0)
      return len;
    return MAX (arity, len);
  }
  return 0;
}

static JsonNode *
slot_node (JsonObject *node, gint slot)
{
  const char *kind = node_string (node, "kind");
  if (!kind)
    return NULL;
  if (g_str_equal (kind, "grad")) {
    if (slot == 0)
      return json_object_get_member (node, "cost");
    JsonArray *wrt = node_array (node, "wrt", FALSE);
    if (wrt && slot - 1 < (gint) json_array_get_length (wrt))
      return json_array_get_element (wrt, slot - 1);
    return NULL;
  }
  JsonArray *in = node_array (node, "inputs", FALSE);
  if (in && slot >= 0 && slot < (gint) json_array_get_length (in))
    return json_array_get_element (in, slot);
  return NULL;
}

/* Message for a node that cannot be built yet, or NULL. */
static char *
missing_message (JsonObject *node)
{
  const char *kind = node_string (node, "kind"), *id = node_string (node, "id");
  if (!kind)
    return NULL;
  if (g_str_equal (kind, "grad")) {
    if (!ref_string (json_object_get_member (node, "cost")))
      return g_strdup_printf (_("%s: connect a scalar cost"), id);
    JsonArray *wrt = node_array (node, "wrt", FALSE);
    if (!wrt || json_array_get_length (wrt) == 0)
      return g_strdup_printf (_("%s: connect at least one variable to differentiate with respect to"), id);
    for (guint i = 0; i < json_array_get_length (wrt); i++)
      if (!ref_string (json_array_get_element (wrt, i)))
        return g_strdup_printf (_("%s: wrt %u is not connected"), id, i);
    return NULL;
  }
  if (!g_str_equal (kind, "op"))
    return NULL;
  const char *op = node_string (node, "op");
  gint arity = gradus_catalog_arity (op);
  JsonArray *in = node_array (node, "inputs", FALSE);
  gint len = in ? (gint) json_array_get_length (in) : 0;
  gint need = arity == GRADUS_ARITY_VARIADIC ? MAX (len, 1) : arity < 0 ? len : MAX (arity, len);
  for (gint i = 0; i < need; i++)
    if (i >= len || !ref_string (json_array_get_element (in, i)))
      return g_strdup_printf (_("%s: input %s (%d) of %s is not connected"), id,
                              gradus_catalog_input_name (op, i), i + 1, op ? op : "op");
  return NULL;
}

/* ------------------------------------------------------------ build */

static void
rebuild (GradusDocModel *self)
{
  g_clear_pointer (&self->doc, grd_document_free);
  g_clear_pointer (&self->build_error, g_free);
  g_hash_table_remove_all (self->missing);

  JsonArray *nodes = nodes_array (self);
  guint n = json_array_get_length (nodes);
  g_autoptr (GHashTable) known = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < n; i++) {
    JsonNode *e = json_array_get_element (nodes, i);
    const char *id = JSON_NODE_HOLDS_OBJECT (e) ? node_string (json_node_get_object (e), "id") : NULL;
    if (id)
      g_hash_table_add (known, (gpointer) id);
  }
  /* Leave out nodes that miss an input, and everything downstream of them. */
  for (guint i = 0; i < n; i++) {
    JsonNode *e = json_array_get_element (nodes, i);
    if (!JSON_NODE_HOLDS_OBJECT (e))
      continue;
    JsonObject *o = json_node_get_object (e);
    const char *id = node_string (o, "id");
    char *msg = id ? missing_message (o) : NULL;
    if (msg)
      g_hash_table_insert (self->missing, g_strdup (id), msg);
  }
  for (gboolean changed = TRUE; changed;) {
    changed = FALSE;
    for (guint i = 0; i < n; i++) {
      JsonNode *e = json_array_get_element (nodes, i);
      if (!JSON_NODE_HOLDS_OBJECT (e))
        continue;
      JsonObject *o = json_node_get_object (e);
      const char *id = node_string (o, "id");
      if (!id || g_hash_table_contains (self->missing, id))
        continue;
      g_autoptr (GPtrArray) deps = deps_of (o);
      for (guint k = 0; k < deps->len; k++) {
        const char *d = deps->pdata[k];
        char *msg = NULL;
        if (!g_hash_table_contains (known, d))
          msg = g_strdup_printf (_("%s: no node named '%s'"), id, d);
        else if (g_hash_table_contains (self->missing, d))
          msg = g_strdup_printf (_("%s: waits for '%s', which is incomplete"), id, d);
        if (msg) {
          g_hash_table_insert (self->missing, g_strdup (id), msg);
          changed = TRUE;
          break;
        }
      }
    }
  }

  g_autoptr (JsonNode) build = gradus_json_deep_copy (self->root);
  JsonObject *bo = json_node_get_object (build);
  /* The editor shows types and errors; running is not its business here, and
   * a half-edited function must not make the whole build fail. */
  json_object_remove_member (bo, "function");
  json_object_remove_member (bo, "run");
  JsonArray *kept = json_array_new ();
  for (guint i = 0; i < n; i++) {
    JsonNode *e = json_array_get_element (nodes, i);
    const char *id = JSON_NODE_HOLDS_OBJECT (e) ? node_string (json_node_get_object (e), "id") : NULL;
    if (!id || !g_hash_table_contains (self->missing, id))
      json_array_add_element (kept, gradus_json_deep_copy (e));
  }
  json_object_set_array_member (bo, "nodes", kept);

  g_autoptr (GError) error = NULL;
  self->doc = grd_document_new_from_json (build, self->path, GRD_DOCUMENT_LENIENT, &error);
  if (!self->doc)
    self->build_error = g_strdup (error ? error->message : _("the graph could not be built"));
}

static void
emit_changed (GradusDocModel *self)
{
  g_signal_emit (self, signals[CHANGED], 0);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MODIFIED]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CAN_UNDO]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CAN_REDO]);
}

static void
begin_edit (GradusDocModel *self)
{
  g_return_if_fail (self->pending == NULL);
  self->pending = gradus_json_deep_copy (self->root);
}

static void
abort_edit (GradusDocModel *self)
{
  json_node_unref (self->root);
  self->root = g_steal_pointer (&self->pending);
  rebuild (self);
}

static void
commit_edit (GradusDocModel *self, const char *label)
{
  Command *c = g_new0 (Command, 1);
  c->label = g_strdup (label);
  c->before = g_steal_pointer (&self->pending);
  c->after = gradus_json_deep_copy (self->root);
  c->serial = self->next_serial++;
  g_ptr_array_add (self->undo, c);
  g_ptr_array_set_size (self->redo, 0);
  rebuild (self);
  emit_changed (self);
}

/* ------------------------------------------------------------ files */

static gboolean
check_root (JsonNode *root, const char *path, GError **error)
{
  const char *name = path ? path : "graph";
  if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, _("%s: not a graph file (expected a JSON object)"), name);
    return FALSE;
  }
  JsonObject *o = json_node_get_object (root);
  const char *format = node_string (o, "format");
  if (!format || !g_str_equal (format, "gradus-graph")) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, _("%s: \"format\" must be \"gradus-graph\""), name);
    return FALSE;
  }
  gint64 version = json_object_get_int_member_with_default (o, "version", 0);
  if (version < 1 || version > 1) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                 "%s: graph file version %" G_GINT64_FORMAT " is not supported (this Gradus reads version 1)",
                 name, version);
    return FALSE;
  }
  return TRUE;
}

gboolean
gradus_doc_model_load_data (GradusDocModel *self, const char *data, gssize length,
                            const char *path, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;
  if (!json_parser_load_from_data (parser, data, length, &local)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "%s: %s", path ? path : "graph", local->message);
    return FALSE;
  }
  JsonNode *root = json_parser_get_root (parser);
  if (!check_root (root, path, error))
    return FALSE;
  json_node_unref (self->root);
  self->root = gradus_json_deep_copy (root);
  g_free (self->path);
  self->path = g_strdup (path);
  g_ptr_array_set_size (self->undo, 0);
  g_ptr_array_set_size (self->redo, 0);
  self->saved_serial = 0;
  rebuild (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_PATH]);
  emit_changed (self);
  return TRUE;
}

gboolean
gradus_doc_model_load_file (GradusDocModel *self, const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;
  if (!g_file_get_contents (path, &data, &len, &local)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_IO, "%s", local->message);
    return FALSE;
  }
  return gradus_doc_model_load_data (self, data, len, path, error);
}

char *
gradus_doc_model_to_data (GradusDocModel *self, gsize *length)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_indent (gen, 2);
  json_generator_set_root (gen, self->root);
  g_autofree char *text = json_generator_to_data (gen, NULL);
  char *out = g_strconcat (text, "\n", NULL);
  if (length)
    *length = strlen (out);
  return out;
}

gboolean
gradus_doc_model_save (GradusDocModel *self, const char *path, GError **error)
{
  gsize len;
  g_autofree char *data = gradus_doc_model_to_data (self, &len);
  g_autoptr (GError) local = NULL;
  /* CONSISTENT: a temporary file renamed over the old one, so a crash leaves
   * either the old file or the new one, never half of one. */
  if (!g_file_set_contents_full (path, data, len, G_FILE_SET_CONTENTS_CONSISTENT, 0644, &local)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_IO, "%s", local->message);
    return FALSE;
  }
  if (g_strcmp0 (path, self->path) != 0) {
    g_free (self->path);
    self->path = g_strdup (path);
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_PATH]);
  }
  gradus_doc_model_set_modified (self, FALSE);
  return TRUE;
}

/* ------------------------------------------------------------ accessors */

JsonNode *
gradus_doc_model_get_root (GradusDocModel *self)
{
  return self->root;
}

const char *
gradus_doc_model_get_path (GradusDocModel *self)
{
  return self->path;
}

static guint
current_serial (GradusDocModel *self)
{
  return self->undo->len ? ((Command *) self->undo->pdata[self->undo->len - 1])->serial : 0;
}

gboolean
gradus_doc_model_get_modified (GradusDocModel *self)
{
  return current_serial (self) != self->saved_serial;
}

void
gradus_doc_model_set_modified (GradusDocModel *self, gboolean modified)
{
  /* G_MAXUINT never matches a command's serial: "modified" until saved again. */
  self->saved_serial = modified ? G_MAXUINT : current_serial (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MODIFIED]);
}

char *
gradus_doc_model_dup_title (GradusDocModel *self)
{
  const char *name = node_string (root_object (self), "name");
  if (name && *name)
    return g_strdup (name);
  if (self->path)
    return g_path_get_basename (self->path);
  return g_strdup (_("Untitled"));
}

GrdDocument *
gradus_doc_model_get_document (GradusDocModel *self)
{
  return self->doc;
}

const char *
gradus_doc_model_get_build_error (GradusDocModel *self)
{
  return self->build_error;
}

guint
gradus_doc_model_n_nodes (GradusDocModel *self)
{
  return json_array_get_length (nodes_array (self));
}

JsonObject *
gradus_doc_model_node_at (GradusDocModel *self, guint i)
{
  JsonArray *nodes = nodes_array (self);
  if (i >= json_array_get_length (nodes))
    return NULL;
  JsonNode *n = json_array_get_element (nodes, i);
  return JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

JsonObject *
gradus_doc_model_get_node (GradusDocModel *self, const char *id)
{
  gint i = id ? find_index (nodes_array (self), id) : -1;
  return i < 0 ? NULL : gradus_doc_model_node_at (self, i);
}

const char *
gradus_doc_model_node_error (GradusDocModel *self, const char *id)
{
  const char *m = g_hash_table_lookup (self->missing, id);
  if (m)
    return m;
  return self->doc ? grd_document_node_error (self->doc, id) : NULL;
}

gint
gradus_doc_model_node_n_slots (GradusDocModel *self, const char *id)
{
  JsonObject *o = gradus_doc_model_get_node (self, id);
  return o ? n_slots_of (o) : 0;
}

const char *
gradus_doc_model_node_slot_ref (GradusDocModel *self, const char *id, gint slot)
{
  JsonObject *o = gradus_doc_model_get_node (self, id);
  return o ? ref_string (slot_node (o, slot)) : NULL;
}

GPtrArray *
gradus_doc_model_node_deps (GradusDocModel *self, const char *id)
{
  JsonObject *o = gradus_doc_model_get_node (self, id);
  return o ? deps_of (o) : g_ptr_array_new_with_free_func (g_free);
}

gboolean
gradus_doc_model_get_position (GradusDocModel *self, const char *id, double *x, double *y)
{
  JsonObject *un = ui_nodes (self, FALSE);
  JsonObject *p = un ? object_member (un, id, FALSE) : NULL;
  if (!p || !json_object_has_member (p, "x") || !json_object_has_member (p, "y"))
    return FALSE;
  *x = json_object_get_double_member (p, "x");
  *y = json_object_get_double_member (p, "y");
  return TRUE;
}

static void
set_position (GradusDocModel *self, const char *id, double x, double y)
{
  JsonObject *p = object_member (ui_nodes (self, TRUE), id, TRUE);
  /* Whole pixels keep files tidy and diffs small. */
  json_object_set_double_member (p, "x", round (x));
  json_object_set_double_member (p, "y", round (y));
}

gboolean
gradus_doc_model_get_view (GradusDocModel *self, double *x, double *y, double *zoom)
{
  JsonObject *ui = object_member (root_object (self), "ui", FALSE);
  JsonObject *v = ui ? object_member (ui, "view", FALSE) : NULL;
  if (!v)
    return FALSE;
  *x = json_object_get_double_member_with_default (v, "x", 0);
  *y = json_object_get_double_member_with_default (v, "y", 0);
  *zoom = json_object_get_double_member_with_default (v, "zoom", 1);
  return TRUE;
}

void
gradus_doc_model_set_view (GradusDocModel *self, double x, double y, double zoom)
{
  JsonObject *v = object_member (object_member (root_object (self), "ui", TRUE), "view", TRUE);
  json_object_set_double_member (v, "x", round (x));
  json_object_set_double_member (v, "y", round (y));
  json_object_set_double_member (v, "zoom", round (zoom * 1000) / 1000);
}

/* ------------------------------------------------------------ edits */

static gboolean
id_taken (GradusDocModel *self, const char *id, GHashTable *extra)
{
  return find_index (nodes_array (self), id) >= 0 || (extra && g_hash_table_contains (extra, id));
}

static char *
unique_id (GradusDocModel *self, const char *base, GHashTable *extra)
{
  if (!id_taken (self, base, extra))
    return g_strdup (base);
  /* Strip a numeric suffix so that copies of "add2" become "add3", not "add21". */
  gsize len = strlen (base);
  while (len > 1 && g_ascii_isdigit (base[len - 1]))
    len--;
  g_autofree char *stem = g_strndup (base, len);
  for (guint k = 1;; k++) {
    char *id = g_strdup_printf ("%s%u", stem, k);
    if (!id_taken (self, id, extra))
      return id;
    g_free (id);
  }
}

char *
gradus_doc_model_add_node (GradusDocModel *self, const char *kind, const char *op, double x,
                           double y, GError **error)
{
  const char *base;
  if (g_str_equal (kind, "op")) {
    if (!op || !grd_op_exists (op)) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("no op named '%s'"), op ? op : "(none)");
      return NULL;
    }
    base = op[0] == '_' ? op + 1 : op;
  } else if (g_str_equal (kind, "variable"))
    base = "x";
  else if (g_str_equal (kind, "constant"))
    base = "c";
  else if (g_str_equal (kind, "shared"))
    base = "w";
  else if (g_str_equal (kind, "grad"))
    base = "g";
  else {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("unknown node kind '%s'"), kind);
    return NULL;
  }
  begin_edit (self);
  char *id = unique_id (self, base, NULL);
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "id", id);
  json_object_set_string_member (o, "kind", kind);
  if (g_str_equal (kind, "op")) {
    json_object_set_string_member (o, "op", op);
    json_object_set_array_member (o, "inputs", json_array_new ());
  } else if (g_str_equal (kind, "variable")) {
    /* float64 as in the Theano primer: exact numbers for a class on gradients. */
    json_object_set_string_member (o, "dtype", "float64");
    json_object_set_array_member (o, "shape", json_array_new ());
  } else if (g_str_equal (kind, "grad")) {
    json_object_set_array_member (o, "wrt", json_array_new ());
  } else {
    json_object_set_string_member (o, "dtype", "float64");
    json_object_set_double_member (o, "value", 0.0);
  }
  json_array_add_object_element (nodes_array (self), o);
  set_position (self, id, x, y);
  g_autofree char *label = g_strdup_printf (_("Add %s"), id);
  commit_edit (self, label);
  return id;
}

typedef struct {
  GHashTable *gone;
} DropData;

static void
drop_ref (JsonNode *ref_node, gpointer data)
{
  DropData *d = data;
  const char *s = ref_string (ref_node);
  g_autofree char *id = s ? gradus_ref_parse (s, NULL) : NULL;
  if (id && g_hash_table_contains (d->gone, id))
    json_node_init_null (ref_node);
}

/* Removes the elements of array `key` that name a removed node. */
static void
filter_ref_list (JsonObject *o, const char *key, GHashTable *gone)
{
  JsonArray *a = node_array (o, key, FALSE);
  for (gint i = a ? (gint) json_array_get_length (a) - 1 : -1; i >= 0; i--) {
    const char *s = ref_string (json_array_get_element (a, i));
    g_autofree char *id = s ? gradus_ref_parse (s, NULL) : NULL;
    if (id && g_hash_table_contains (gone, id))
      json_array_remove_element (a, i);
  }
}

gboolean
gradus_doc_model_remove_nodes (GradusDocModel *self, const char *const *ids)
{
  if (!ids || !ids[0])
    return FALSE;
  begin_edit (self);
  g_autoptr (GHashTable) gone = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  JsonArray *nodes = nodes_array (self);
  for (const char *const *p = ids; *p; p++) {
    gint i = find_index (nodes, *p);
    if (i < 0)
      continue;
    g_hash_table_add (gone, g_strdup (*p));
    json_array_remove_element (nodes, i);
    JsonObject *un = ui_nodes (self, FALSE);
    if (un)
      json_object_remove_member (un, *p);
  }
  if (g_hash_table_size (gone) == 0) {
    abort_edit (self);
    return FALSE;
  }
  DropData d = { gone };
  for (guint i = 0; i < json_array_get_length (nodes); i++) {
    JsonObject *o = gradus_doc_model_node_at (self, i);
    if (!o)
      continue;
    /* Variadic lists and wrt lose the element; fixed inputs keep an empty slot. */
    filter_ref_list (o, "wrt", gone);
    filter_ref_list (o, "consider_constant", gone);
    if (gradus_catalog_arity (node_string (o, "op")) == GRADUS_ARITY_VARIADIC)
      filter_ref_list (o, "inputs", gone);
    foreach_ref (o, drop_ref, &d);
  }
  /* Keep the function valid: forget inputs, outputs and updates of removed nodes. */
  JsonObject *fn = object_member (root_object (self), "function", FALSE);
  if (fn) {
    filter_ref_list (fn, "inputs", gone);
    filter_ref_list (fn, "outputs", gone);
    JsonArray *up = node_array (fn, "updates", FALSE);
    for (gint i = up ? (gint) json_array_get_length (up) - 1 : -1; i >= 0; i--) {
      JsonNode *e = json_array_get_element (up, i);
      if (!JSON_NODE_HOLDS_OBJECT (e))
        continue;
      JsonObject *u = json_node_get_object (e);
      g_autofree char *s = gradus_ref_parse (node_string (u, "shared"), NULL);
      g_autofree char *v = gradus_ref_parse (node_string (u, "value"), NULL);
      if ((s && g_hash_table_contains (gone, s)) || (v && g_hash_table_contains (gone, v)))
        json_array_remove_element (up, i);
    }
  }
  g_autofree char *label = g_hash_table_size (gone) == 1
                             ? g_strdup_printf (_("Delete %s"), ids[0])
                             : g_strdup_printf (_("Delete %u nodes"), g_hash_table_size (gone));
  commit_edit (self, label);
  return TRUE;
}

/* Does `from` (transitively) read `target`? */
static gboolean
depends_on (GradusDocModel *self, const char *from, const char *target, GHashTable *seen)
{
  if (g_str_equal (from, target))
    return TRUE;
  if (!g_hash_table_add (seen, g_strdup (from)))
    return FALSE;
  JsonObject *o = gradus_doc_model_get_node (self, from);
  if (!o)
    return FALSE;
  g_autoptr (GPtrArray) deps = deps_of (o);
  for (guint i = 0; i < deps->len; i++)
    if (depends_on (self, deps->pdata[i], target, seen))
      return TRUE;
  return FALSE;
}

static gint
n_outputs_of (GradusDocModel *self, JsonObject *o)
{
  const char *kind = node_string (o, "kind");
  if (kind && g_str_equal (kind, "grad")) {
    JsonArray *wrt = node_array (o, "wrt", FALSE);
    return wrt ? json_array_get_length (wrt) : 0;
  }
  const char *id = node_string (o, "id");
  GrdGraph *g = self->doc ? grd_document_graph (self->doc) : NULL;
  gint idx = g && id ? grd_graph_find (g, id) : -1;
  return idx >= 0 ? grd_graph_node_n_outputs (g, idx) : 1;
}

static void
write_slot (JsonObject *o, gint slot, const char *ref)
{
  const char *kind = node_string (o, "kind");
  JsonArray *a;
  gint index = slot;
  if (g_str_equal (kind, "grad")) {
    if (slot == 0) {
      if (ref)
        json_object_set_string_member (o, "cost", ref);
      else
        json_object_remove_member (o, "cost");
      return;
    }
    a = node_array (o, "wrt", TRUE);
    index = slot - 1;
    if (!ref) {
      if (index < (gint) json_array_get_length (a))
        json_array_remove_element (a, index);
      return;
    }
  } else {
    a = node_array (o, "inputs", TRUE);
    if (!ref && gradus_catalog_arity (node_string (o, "op")) == GRADUS_ARITY_VARIADIC) {
      if (index < (gint) json_array_get_length (a))
        json_array_remove_element (a, index);
      return;
    }
  }
  while ((gint) json_array_get_length (a) <= index)
    json_array_add_null_element (a);
  JsonNode *e = json_array_get_element (a, index);
  if (ref)
    json_node_init_string (e, ref);
  else
    json_node_init_null (e);
  /* Trailing empty slots are implied by the op's arity. */
  while (json_array_get_length (a) > 0 &&
         JSON_NODE_HOLDS_NULL (json_array_get_element (a, json_array_get_length (a) - 1)))
    json_array_remove_element (a, json_array_get_length (a) - 1);
}

gboolean
gradus_doc_model_connect (GradusDocModel *self, const char *target, gint slot,
                          const char *source_ref, GError **error)
{
  JsonObject *t = gradus_doc_model_get_node (self, target);
  if (!t) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("no node named '%s'"), target);
    return FALSE;
  }
  gint n_slots = n_slots_of (t);
  if (slot < 0 || slot >= n_slots) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("%s has no input %d"), target, slot + 1);
    return FALSE;
  }
  gint k;
  g_autofree char *source = gradus_ref_parse (source_ref, &k);
  JsonObject *s = source ? gradus_doc_model_get_node (self, source) : NULL;
  if (!s) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("no node named '%s'"), source_ref);
    return FALSE;
  }
  if (k < 0 || k >= MAX (n_outputs_of (self, s), 1)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("%s has no output %d"), source, k);
    return FALSE;
  }
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (depends_on (self, source, target, seen)) {
    if (g_str_equal (source, target))
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("cannot connect %s to itself: that would create a cycle"), target);
    else
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH,
                   _("cannot connect %s to %s: that would create a cycle (%s already depends on %s)"),
                   source, target, source, target);
    return FALSE;
  }
  const char *kind = node_string (t, "kind");
  if (!kind || !(g_str_equal (kind, "op") || g_str_equal (kind, "grad"))) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("%s takes no inputs"), target);
    return FALSE;
  }
  begin_edit (self);
  /* Re-read after the snapshot: the same tree, still ours to edit. */
  t = gradus_doc_model_get_node (self, target);
  /* Output 0 is written "id" except for grad nodes, whose outputs read best numbered. */
  gboolean numbered = k != 0 || g_strcmp0 (node_string (s, "kind"), "grad") == 0;
  g_autofree char *ref = numbered ? g_strdup_printf ("%s:%d", source, k) : g_strdup (source);
  write_slot (t, slot, ref);
  rebuild (self);
  /* Refuse what the engine refuses for the target once all its inputs are in. */
  const char *err = NULL;
  if (!g_hash_table_contains (self->missing, target))
    err = self->doc ? grd_document_node_error (self->doc, target) : self->build_error;
  if (err) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE, _("cannot connect %s to %s: %s"), ref, target, err);
    abort_edit (self);
    return FALSE;
  }
  g_autofree char *label = g_strdup_printf (_("Connect %s to %s"), ref, target);
  commit_edit (self, label);
  return TRUE;
}

gboolean
gradus_doc_model_disconnect (GradusDocModel *self, const char *target, gint slot)
{
  JsonObject *t = gradus_doc_model_get_node (self, target);
  if (!t || !ref_string (slot_node (t, slot)))
    return FALSE;
  begin_edit (self);
  write_slot (gradus_doc_model_get_node (self, target), slot, NULL);
  g_autofree char *label = g_strdup_printf (_("Disconnect input %d of %s"), slot + 1, target);
  commit_edit (self, label);
  return TRUE;
}

gboolean
gradus_doc_model_set_member (GradusDocModel *self, const char *id, const char *key,
                             JsonNode *value, GError **error)
{
  g_autoptr (JsonNode) owned = value;
  if (!gradus_doc_model_get_node (self, id)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("no node named '%s'"), id);
    return FALSE;
  }
  if (g_str_equal (key, "id") || g_str_equal (key, "kind")) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("'%s' cannot be set here"), key);
    return FALSE;
  }
  begin_edit (self);
  JsonObject *o = gradus_doc_model_get_node (self, id);
  const char *name = key;
  if (g_str_has_prefix (key, "attrs.")) {
    name = key + 6;
    o = object_member (o, "attrs", TRUE);
  }
  if (owned)
    json_object_set_member (o, name, g_steal_pointer (&owned));
  else
    json_object_remove_member (o, name);
  if (name != key && json_object_get_size (o) == 0)
    json_object_remove_member (gradus_doc_model_get_node (self, id), "attrs");
  g_autofree char *label = g_strdup_printf (_("Change %s of %s"), name, id);
  commit_edit (self, label);
  return TRUE;
}

typedef struct {
  const char *from, *to;
} RenameData;

static void
rename_ref (JsonNode *ref_node, gpointer data)
{
  RenameData *d = data;
  const char *s = ref_string (ref_node);
  gint k;
  g_autofree char *id = s ? gradus_ref_parse (s, &k) : NULL;
  if (!id || !g_str_equal (id, d->from))
    return;
  if (strchr (s, ':')) {
    g_autofree char *r = g_strdup_printf ("%s:%d", d->to, k);
    json_node_set_string (ref_node, r);
  } else
    json_node_set_string (ref_node, d->to);
}

static void
rename_list (JsonObject *o, const char *key, RenameData *d)
{
  JsonArray *a = o ? node_array (o, key, FALSE) : NULL;
  for (guint i = 0; a && i < json_array_get_length (a); i++)
    rename_ref (json_array_get_element (a, i), d);
}

static void
rename_member (JsonObject *o, const char *from, const char *to)
{
  JsonNode *n = o ? json_object_dup_member (o, from) : NULL;
  if (n) {
    json_object_remove_member (o, from);
    json_object_set_member (o, to, n);
  }
}

gboolean
gradus_doc_model_rename_node (GradusDocModel *self, const char *id, const char *new_id,
                              GError **error)
{
  if (!gradus_doc_model_get_node (self, id)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("no node named '%s'"), id);
    return FALSE;
  }
  if (g_str_equal (id, new_id))
    return TRUE;
  if (!valid_id (new_id)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH,
                 "'%s' is not a valid id (a letter or _, then letters, digits, _ . -)", new_id);
    return FALSE;
  }
  if (gradus_doc_model_get_node (self, new_id)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("there is already a node named '%s'"), new_id);
    return FALSE;
  }
  begin_edit (self);
  g_autofree char *from = g_strdup (id);
  RenameData d = { from, new_id };
  json_object_set_string_member (gradus_doc_model_get_node (self, from), "id", new_id);
  for (guint i = 0; i < gradus_doc_model_n_nodes (self); i++) {
    JsonObject *o = gradus_doc_model_node_at (self, i);
    if (o)
      foreach_ref (o, rename_ref, &d);
  }
  JsonObject *r = root_object (self);
  JsonObject *fn = object_member (r, "function", FALSE);
  rename_list (fn, "inputs", &d);
  rename_list (fn, "outputs", &d);
  JsonArray *up = fn ? node_array (fn, "updates", FALSE) : NULL;
  for (guint i = 0; up && i < json_array_get_length (up); i++) {
    JsonNode *e = json_array_get_element (up, i);
    if (!JSON_NODE_HOLDS_OBJECT (e))
      continue;
    JsonObject *u = json_node_get_object (e);
    rename_ref (json_object_get_member (u, "shared"), &d);
    rename_ref (json_object_get_member (u, "value"), &d);
  }
  JsonObject *run = object_member (r, "run", FALSE);
  rename_member (run ? object_member (run, "feeds", FALSE) : NULL, from, new_id);
  rename_member (ui_nodes (self, FALSE), from, new_id);
  rename_list (object_member (r, "ui", FALSE), "expanded", &d);
  g_signal_emit (self, signals[RENAMED], 0, from, new_id);
  g_autofree char *label = g_strdup_printf (_("Rename %s to %s"), from, new_id);
  commit_edit (self, label);
  return TRUE;
}

void
gradus_doc_model_move_nodes (GradusDocModel *self, const char *const *ids, double dx, double dy)
{
  if (!ids || !ids[0] || (dx == 0 && dy == 0))
    return;
  begin_edit (self);
  for (const char *const *p = ids; *p; p++) {
    double x, y;
    if (!gradus_doc_model_get_node (self, *p))
      continue;
    if (!gradus_doc_model_get_position (self, *p, &x, &y))
      x = y = 0;
    set_position (self, *p, x + dx, y + dy);
  }
  commit_edit (self, ids[1] ? _("Move nodes") : _("Move node"));
}

static void
node_box (GradusDocModel *self, JsonObject *o, double *w, double *h)
{
  const char *id = node_string (o, "id");
  const char *name = node_string (o, "name");
  gradus_layout_node_size (name ? name : id, node_string (o, "op") ? node_string (o, "op") : node_string (o, "kind"),
                           n_slots_of (o), MAX (n_outputs_of (self, o), 1), w, h);
}

void
gradus_doc_model_auto_layout (GradusDocModel *self)
{
  guint n = gradus_doc_model_n_nodes (self);
  if (n == 0)
    return;
  g_autofree double *w = g_new0 (double, n), *h = g_new0 (double, n);
  g_autofree double *x = g_new0 (double, n), *y = g_new0 (double, n);
  g_autoptr (GPtrArray) deps = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  for (guint i = 0; i < n; i++) {
    JsonObject *o = gradus_doc_model_node_at (self, i);
    GArray *d = g_array_new (FALSE, FALSE, sizeof (gint));
    if (o) {
      node_box (self, o, &w[i], &h[i]);
      g_autoptr (GPtrArray) ids = deps_of (o);
      for (guint k = 0; k < ids->len; k++) {
        gint j = find_index (nodes_array (self), ids->pdata[k]);
        g_array_append_val (d, j);
      }
    }
    g_ptr_array_add (deps, d);
  }
  gradus_layout_layered (n, w, h, deps, 40, 40, x, y);
  begin_edit (self);
  for (guint i = 0; i < n; i++) {
    JsonObject *o = gradus_doc_model_node_at (self, i);
    const char *id = o ? node_string (o, "id") : NULL;
    if (id)
      set_position (self, id, x[i], y[i]);
  }
  commit_edit (self, _("Arrange nodes"));
}

char *
gradus_doc_model_copy_nodes (GradusDocModel *self, const char *const *ids)
{
  JsonObject *out = json_object_new ();
  json_object_set_string_member (out, "format", "gradus-graph");
  json_object_set_int_member (out, "version", 1);
  JsonArray *nodes = json_array_new ();
  JsonObject *pos = json_object_new ();
  for (guint i = 0; i < gradus_doc_model_n_nodes (self); i++) {
    JsonObject *o = gradus_doc_model_node_at (self, i);
    const char *id = o ? node_string (o, "id") : NULL;
    if (!id || !g_strv_contains (ids, id))
      continue;
    JsonNode *copy = json_node_new (JSON_NODE_OBJECT);
    json_node_set_object (copy, o);
    json_array_add_element (nodes, gradus_json_deep_copy (copy));
    json_node_unref (copy);
    JsonObject *un = ui_nodes (self, FALSE);
    JsonNode *p = un ? json_object_dup_member (un, id) : NULL;
    if (p)
      json_object_set_member (pos, id, p);
  }
  json_object_set_array_member (out, "nodes", nodes);
  JsonObject *ui = json_object_new ();
  json_object_set_object_member (ui, "nodes", pos);
  json_object_set_object_member (out, "ui", ui);
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (root, out);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

typedef struct {
  GradusDocModel *self;
  GHashTable     *map;   /* pasted id -> new id */
} PasteData;

static void
paste_ref (JsonNode *ref_node, gpointer data)
{
  PasteData *d = data;
  const char *s = ref_string (ref_node);
  gint k;
  g_autofree char *id = s ? gradus_ref_parse (s, &k) : NULL;
  if (!id)
    return;
  const char *to = g_hash_table_lookup (d->map, id);
  if (to) {
    g_autofree char *r = strchr (s, ':') ? g_strdup_printf ("%s:%d", to, k) : g_strdup (to);
    json_node_set_string (ref_node, r);
  } else if (!gradus_doc_model_get_node (d->self, id))
    json_node_init_null (ref_node);   /* from another graph: leave the port empty */
}

GStrv
gradus_doc_model_paste (GradusDocModel *self, const char *text, double dx, double dy,
                        GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;
  if (!text || !json_parser_load_from_data (parser, text, -1, &local)) {
    if (local)
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, _("the clipboard holds no graph: %s"), local->message);
    else
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, _("the clipboard holds no graph"));
    return NULL;
  }
  JsonNode *root = json_parser_get_root (parser);
  JsonObject *ro = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  JsonArray *in = ro ? node_array (ro, "nodes", FALSE) : NULL;
  if (!in || json_array_get_length (in) == 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, _("the clipboard holds no graph nodes"));
    return NULL;
  }
  JsonObject *ui = object_member (ro, "ui", FALSE);
  JsonObject *pos = ui ? object_member (ui, "nodes", FALSE) : NULL;

  begin_edit (self);
  g_autoptr (GHashTable) map = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GHashTable) fresh = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) added = g_ptr_array_new ();
  for (guint i = 0; i < json_array_get_length (in); i++) {
    JsonNode *e = json_array_get_element (in, i);
    const char *id = JSON_NODE_HOLDS_OBJECT (e) ? node_string (json_node_get_object (e), "id") : NULL;
    if (!id || g_hash_table_contains (map, id))
      continue;
    char *to = unique_id (self, valid_id (id) ? id : "node", fresh);
    g_hash_table_insert (map, g_strdup (id), to);
    g_hash_table_add (fresh, to);
  }
  PasteData d = { self, map };
  JsonArray *nodes = nodes_array (self);
  guint n_pasted = 0;
  for (guint i = 0; i < json_array_get_length (in); i++) {
    JsonNode *e = json_array_get_element (in, i);
    const char *id = JSON_NODE_HOLDS_OBJECT (e) ? node_string (json_node_get_object (e), "id") : NULL;
    if (!id)
      continue;
    JsonNode *copy = gradus_json_deep_copy (e);
    JsonObject *o = json_node_get_object (copy);
    const char *to = g_hash_table_lookup (map, id);
    foreach_ref (o, paste_ref, &d);
    json_object_set_string_member (o, "id", to);
    json_array_add_element (nodes, copy);
    double x = 40 + 20 * n_pasted, y = 40 + 20 * n_pasted;
    JsonObject *p = pos ? object_member (pos, id, FALSE) : NULL;
    if (p) {
      x = json_object_get_double_member_with_default (p, "x", x);
      y = json_object_get_double_member_with_default (p, "y", y);
    }
    set_position (self, to, x + dx, y + dy);
    g_ptr_array_add (added, g_strdup (to));
    n_pasted++;
  }
  g_ptr_array_add (added, NULL);
  commit_edit (self, n_pasted == 1 ? _("Paste node") : _("Paste nodes"));
  return (GStrv) g_ptr_array_steal (added, NULL);
}

GStrv
gradus_doc_model_duplicate (GradusDocModel *self, const char *const *ids)
{
  if (!ids || !ids[0])
    return NULL;
  g_autofree char *text = gradus_doc_model_copy_nodes (self, ids);
  return gradus_doc_model_paste (self, text, 30, 30, NULL);
}

/* ------------------------------------------------------------ function */

gboolean
gradus_doc_model_in_function (GradusDocModel *self, const char *list, const char *id)
{
  JsonObject *fn = object_member (root_object (self), "function", FALSE);
  JsonArray *a = fn ? node_array (fn, list, FALSE) : NULL;
  for (guint i = 0; a && i < json_array_get_length (a); i++) {
    g_autofree char *rid = gradus_ref_parse (ref_string (json_array_get_element (a, i)), NULL);
    if (g_strcmp0 (rid, id) == 0)
      return TRUE;
  }
  return FALSE;
}

gboolean
gradus_doc_model_set_in_function (GradusDocModel *self, const char *list, const char *id,
                                  gboolean on, GError **error)
{
  JsonObject *o = gradus_doc_model_get_node (self, id);
  if (!o) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("no node named '%s'"), id);
    return FALSE;
  }
  if (g_str_equal (list, "inputs") && on && g_strcmp0 (node_string (o, "kind"), "variable") != 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("%s: only variables are inputs of the function"), id);
    return FALSE;
  }
  if (gradus_doc_model_in_function (self, list, id) == on)
    return TRUE;
  begin_edit (self);
  JsonObject *fn = object_member (root_object (self), "function", TRUE);
  JsonArray *a = node_array (fn, list, TRUE);
  if (on)
    json_array_add_string_element (a, id);
  else {
    g_autoptr (GHashTable) gone = g_hash_table_new (g_str_hash, g_str_equal);
    g_hash_table_add (gone, (gpointer) id);
    filter_ref_list (fn, list, gone);
  }
  /* TRANSLATORS: the last %s is "inputs" or "outputs", as the file names them. */
  g_autofree char *label = on ? g_strdup_printf (_("Add %s to the function's %s"), id, list)
                              : g_strdup_printf (_("Remove %s from the function's %s"), id, list);
  commit_edit (self, label);
  return TRUE;
}

static gint
update_index (GradusDocModel *self, const char *id, JsonArray **out)
{
  JsonObject *fn = object_member (root_object (self), "function", FALSE);
  JsonArray *up = fn ? node_array (fn, "updates", FALSE) : NULL;
  *out = up;
  for (guint i = 0; up && i < json_array_get_length (up); i++) {
    JsonNode *e = json_array_get_element (up, i);
    if (JSON_NODE_HOLDS_OBJECT (e) && g_strcmp0 (node_string (json_node_get_object (e), "shared"), id) == 0)
      return i;
  }
  return -1;
}

const char *
gradus_doc_model_get_update (GradusDocModel *self, const char *id)
{
  JsonArray *up;
  gint i = update_index (self, id, &up);
  return i < 0 ? NULL : node_string (json_array_get_object_element (up, i), "value");
}

gboolean
gradus_doc_model_set_update (GradusDocModel *self, const char *id, const char *value_ref,
                             GError **error)
{
  JsonObject *o = gradus_doc_model_get_node (self, id);
  if (!o || g_strcmp0 (node_string (o, "kind"), "shared") != 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "%s is not a shared variable", id);
    return FALSE;
  }
  if (value_ref && !*value_ref)
    value_ref = NULL;
  if (value_ref) {
    g_autofree char *vid = gradus_ref_parse (value_ref, NULL);
    if (!gradus_doc_model_get_node (self, vid)) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("update of %s: no node named '%s'"), id, vid);
      return FALSE;
    }
  }
  begin_edit (self);
  JsonArray *up;
  gint i = update_index (self, id, &up);
  if (i >= 0 && !value_ref)
    json_array_remove_element (up, i);
  else if (i >= 0)
    json_object_set_string_member (json_array_get_object_element (up, i), "value", value_ref);
  else if (value_ref) {
    up = node_array (object_member (root_object (self), "function", TRUE), "updates", TRUE);
    JsonObject *u = json_object_new ();
    json_object_set_string_member (u, "shared", id);
    json_object_set_string_member (u, "value", value_ref);
    json_array_add_object_element (up, u);
  }
  g_autofree char *label = g_strdup_printf (_("Change the update of %s"), id);
  commit_edit (self, label);
  return TRUE;
}

JsonNode *
gradus_doc_model_get_feed (GradusDocModel *self, const char *id)
{
  JsonObject *run = object_member (root_object (self), "run", FALSE);
  JsonObject *feeds = run ? object_member (run, "feeds", FALSE) : NULL;
  return feeds ? json_object_get_member (feeds, id) : NULL;
}

gboolean
gradus_doc_model_set_feed (GradusDocModel *self, const char *id, JsonNode *feed, GError **error)
{
  g_autoptr (JsonNode) owned = feed;
  JsonObject *o = gradus_doc_model_get_node (self, id);
  if (!o || g_strcmp0 (node_string (o, "kind"), "variable") != 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "%s is not a variable: only inputs are fed", id);
    return FALSE;
  }
  begin_edit (self);
  JsonObject *feeds = object_member (object_member (root_object (self), "run", TRUE), "feeds", TRUE);
  if (owned)
    json_object_set_member (feeds, id, g_steal_pointer (&owned));
  else
    json_object_remove_member (feeds, id);
  g_autofree char *label = g_strdup_printf (_("Change the feed of %s"), id);
  commit_edit (self, label);
  return TRUE;
}

/* ------------------------------------------------------------ undo */

gboolean
gradus_doc_model_can_undo (GradusDocModel *self)
{
  return self->undo->len > 0;
}

gboolean
gradus_doc_model_can_redo (GradusDocModel *self)
{
  return self->redo->len > 0;
}

const char *
gradus_doc_model_undo_label (GradusDocModel *self)
{
  return self->undo->len ? ((Command *) self->undo->pdata[self->undo->len - 1])->label : NULL;
}

static void
restore (GradusDocModel *self, JsonNode *tree)
{
  /* The view is where the user looks now, not part of the history. */
  g_autoptr (JsonNode) view = NULL;
  JsonObject *ui = object_member (root_object (self), "ui", FALSE);
  if (ui && json_object_has_member (ui, "view"))
    view = json_object_dup_member (ui, "view");
  json_node_unref (self->root);
  self->root = gradus_json_deep_copy (tree);
  if (view)
    json_object_set_member (object_member (root_object (self), "ui", TRUE), "view",
                            g_steal_pointer (&view));
  rebuild (self);
  emit_changed (self);
}

gboolean
gradus_doc_model_undo (GradusDocModel *self)
{
  if (!self->undo->len)
    return FALSE;
  Command *c = g_ptr_array_steal_index (self->undo, self->undo->len - 1);
  g_ptr_array_add (self->redo, c);
  restore (self, c->before);
  return TRUE;
}

gboolean
gradus_doc_model_redo (GradusDocModel *self)
{
  if (!self->redo->len)
    return FALSE;
  Command *c = g_ptr_array_steal_index (self->redo, self->redo->len - 1);
  g_ptr_array_add (self->undo, c);
  restore (self, c->after);
  return TRUE;
}
