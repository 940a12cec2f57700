/* gradus-doc-clipboard.c: copy, paste and duplicate as graph JSON text. */
#include "gradus-doc-private.h"

#include <glib/gi18n.h>
#include <string.h>

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
    const char *id = o ? gradus_json_get_string (o, "id") : NULL;
    if (!id || !g_strv_contains (ids, id))
      continue;
    JsonNode *copy = json_node_new (JSON_NODE_OBJECT);
    json_node_set_object (copy, o);
    json_array_add_element (nodes, gradus_json_deep_copy (copy));
    json_node_unref (copy);
    JsonObject *un = gradus_doc_ui_nodes (self, FALSE);
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
  const char *s = gradus_json_ref_string (ref_node);
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
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, _("the clipboard holds no graph%s%s"),
                 local ? ": " : "", local ? local->message : "");
    return NULL;
  }
  JsonNode *root = json_parser_get_root (parser);
  JsonObject *ro = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  JsonArray *in = ro ? gradus_json_get_array (ro, "nodes", FALSE) : NULL;
  if (!in || json_array_get_length (in) == 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, _("the clipboard holds no graph nodes"));
    return NULL;
  }
  JsonObject *ui = gradus_json_object_member (ro, "ui", FALSE);
  JsonObject *pos = ui ? gradus_json_object_member (ui, "nodes", FALSE) : NULL;

  gradus_doc_model_begin_edit (self);
  g_autoptr (GHashTable) map = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GHashTable) fresh = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) added = g_ptr_array_new ();
  for (guint i = 0; i < json_array_get_length (in); i++) {
    JsonNode *e = json_array_get_element (in, i);
    const char *id = JSON_NODE_HOLDS_OBJECT (e) ? gradus_json_get_string (json_node_get_object (e), "id") : NULL;
    if (!id || g_hash_table_contains (map, id))
      continue;
    char *to = gradus_doc_unique_id (self, gradus_doc_valid_id (id) ? id : "node", fresh);
    g_hash_table_insert (map, g_strdup (id), to);
    g_hash_table_add (fresh, to);
  }
  PasteData d = { self, map };
  JsonArray *nodes = gradus_doc_nodes (self);
  guint n_pasted = 0;
  for (guint i = 0; i < json_array_get_length (in); i++) {
    JsonNode *e = json_array_get_element (in, i);
    const char *id = JSON_NODE_HOLDS_OBJECT (e) ? gradus_json_get_string (json_node_get_object (e), "id") : NULL;
    if (!id)
      continue;
    JsonNode *copy = gradus_json_deep_copy (e);
    JsonObject *o = json_node_get_object (copy);
    const char *to = g_hash_table_lookup (map, id);
    gradus_doc_foreach_ref (o, paste_ref, &d);
    json_object_set_string_member (o, "id", to);
    json_array_add_element (nodes, copy);
    double x = 40 + 20 * n_pasted, y = 40 + 20 * n_pasted;
    JsonObject *p = pos ? gradus_json_object_member (pos, id, FALSE) : NULL;
    if (p) {
      x = json_object_get_double_member_with_default (p, "x", x);
      y = json_object_get_double_member_with_default (p, "y", y);
    }
    gradus_doc_set_position (self, to, x + dx, y + dy);
    g_ptr_array_add (added, g_strdup (to));
    n_pasted++;
  }
  g_ptr_array_add (added, NULL);
  gradus_doc_model_commit_edit (self, n_pasted == 1 ? _("Paste node") : _("Paste nodes"));
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
