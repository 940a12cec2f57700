/* gradus-doc-build.c: validation after every edit. Nodes with an input not
 * connected yet are left out of the engine's lenient build (and their
 * dependents with them) and carry the editor's own message instead; the
 * engine types and shapes the rest and reports its errors by node. */
#include "gradus-doc-private.h"
#include "gradus-catalog.h"

#include <glib/gi18n.h>

/* Message for a node that cannot be built yet, or NULL. */
static char *
missing_message (JsonObject *node)
{
  const char *kind = gradus_json_get_string (node, "kind"), *id = gradus_json_get_string (node, "id");
  if (!kind)
    return NULL;
  if (g_str_equal (kind, "grad")) {
    if (!gradus_json_ref_string (json_object_get_member (node, "cost")))
      return g_strdup_printf (_("%s: connect a scalar cost"), id);
    JsonArray *wrt = gradus_json_get_array (node, "wrt", FALSE);
    if (!wrt || json_array_get_length (wrt) == 0)
      return g_strdup_printf (_("%s: connect at least one variable to differentiate with respect to"), id);
    for (guint i = 0; i < json_array_get_length (wrt); i++)
      if (!gradus_json_ref_string (json_array_get_element (wrt, i)))
        return g_strdup_printf (_("%s: wrt %u is not connected"), id, i);
    return NULL;
  }
  if (g_str_equal (kind, "group")) {
    JsonArray *in = gradus_json_get_array (node, "inputs", FALSE);
    for (guint i = 0; in && i < json_array_get_length (in); i++)
      if (!gradus_json_ref_string (json_array_get_element (in, i)))
        return g_strdup_printf (_("%s: input %u of group %s is not connected"), id, i + 1,
                                gradus_json_get_string (node, "group"));
    return NULL;
  }
  if (!g_str_equal (kind, "op"))
    return NULL;
  const char *op = gradus_json_get_string (node, "op");
  gint arity = gradus_catalog_arity (op);
  JsonArray *in = gradus_json_get_array (node, "inputs", FALSE);
  gint len = in ? (gint) json_array_get_length (in) : 0;
  gint need = arity == GRADUS_ARITY_VARIADIC ? MAX (len, 1) : arity < 0 ? len : MAX (arity, len);
  for (gint i = 0; i < need; i++)
    if (i >= len || !gradus_json_ref_string (json_array_get_element (in, i)))
      return g_strdup_printf (_("%s: input %s (%d) of %s is not connected"), id,
                              gradus_catalog_input_name (op, i), i + 1, op ? op : "op");
  return NULL;
}

/* ------------------------------------------------------------ build */

void
gradus_doc_model_rebuild (GradusDocModel *self)
{
  g_clear_pointer (&self->doc, grd_document_free);
  g_clear_pointer (&self->build_error, g_free);
  g_autoptr (GHashTable) known = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GrdDocument) outer = gradus_doc_scope_outer_build (self, known);
  g_hash_table_remove_all (self->missing);

  JsonArray *nodes = gradus_doc_nodes (self);
  guint n = json_array_get_length (nodes);
  for (guint i = 0; i < n; i++) {
    JsonNode *e = json_array_get_element (nodes, i);
    const char *id = JSON_NODE_HOLDS_OBJECT (e) ? gradus_json_get_string (json_node_get_object (e), "id") : NULL;
    if (id)
      g_hash_table_add (known, (gpointer) id);
  }
  /* Leave out nodes that miss an input, and everything downstream of them. */
  for (guint i = 0; i < n; i++) {
    JsonNode *e = json_array_get_element (nodes, i);
    if (!JSON_NODE_HOLDS_OBJECT (e))
      continue;
    JsonObject *o = json_node_get_object (e);
    const char *id = gradus_json_get_string (o, "id");
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
      const char *id = gradus_json_get_string (o, "id");
      if (!id || g_hash_table_contains (self->missing, id))
        continue;
      g_autoptr (GPtrArray) deps = gradus_doc_deps_of (o);
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
    const char *id = JSON_NODE_HOLDS_OBJECT (e) ? gradus_json_get_string (json_node_get_object (e), "id") : NULL;
    if (!id || !g_hash_table_contains (self->missing, id))
      json_array_add_element (kept, gradus_json_deep_copy (e));
  }
  json_object_set_array_member (bo, "nodes", kept);
  if (outer) {
    /* an open scan body: typed as a graph of its own (ui/scan) */
    JsonNode *body_build = gradus_doc_scope_build_root (self, outer, kept);
    json_node_unref (build);
    build = body_build;
  }

  g_autoptr (GError) error = NULL;
  self->doc = grd_document_new_from_json (build, self->path, GRD_DOCUMENT_LENIENT, &error);
  if (!self->doc)
    self->build_error = g_strdup (error ? error->message : _("the graph could not be built"));
}
