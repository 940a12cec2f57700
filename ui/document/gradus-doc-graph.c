/* gradus-doc-graph.c: the node and wire store inside the JSON tree: where
 * nodes live, their ids, the references they read, their input slots and
 * their positions under "ui". */
#include "gradus-doc-private.h"
#include "gradus-catalog.h"
#include "organise/gradus-organise-groups.h"
#include "scan/gradus-scan.h"

#include <math.h>
#include <string.h>

JsonObject *
gradus_doc_root (GradusDocModel *self)
{
  return json_node_get_object (self->root);
}

JsonArray *
gradus_doc_nodes (GradusDocModel *self)
{
  JsonObject *r = gradus_doc_root (self);
  JsonObject *body = gradus_doc_scope_body (self);
  if (body)   /* a scan opened in place: its body is what is edited (ui/scan) */
    r = body;
  JsonNode *n = json_object_get_member (r, "nodes");
  if (!n || !JSON_NODE_HOLDS_ARRAY (n)) {
    json_object_set_array_member (r, "nodes", json_array_new ());
    n = json_object_get_member (r, "nodes");
  }
  return json_node_get_array (n);
}

JsonObject *
gradus_doc_ui_nodes (GradusDocModel *self, gboolean create)
{
  JsonObject *ui = gradus_json_object_member (gradus_doc_root (self), "ui", create);
  return ui ? gradus_json_object_member (ui, "nodes", create) : NULL;
}

gint
gradus_doc_find_index (JsonArray *nodes, const char *id)
{
  for (guint i = 0; i < json_array_get_length (nodes); i++) {
    JsonNode *n = json_array_get_element (nodes, i);
    if (!JSON_NODE_HOLDS_OBJECT (n))
      continue;
    const char *nid = gradus_json_get_string (json_node_get_object (n), "id");
    if (nid && g_str_equal (nid, id))
      return i;
  }
  return -1;
}

gboolean
gradus_doc_valid_id (const char *id)
{
  if (!id || !(g_ascii_isalpha (id[0]) || id[0] == '_'))
    return FALSE;
  for (const char *p = id + 1; *p; p++)
    if (!(g_ascii_isalnum (*p) || *p == '_' || *p == '.' || *p == '-'))
      return FALSE;
  return TRUE;
}

void
gradus_doc_foreach_ref (JsonObject *node, GradusDocRefFunc fn, gpointer data)
{
  static const char *const lists[] = { "inputs", "wrt", "consider_constant" };
  for (gsize l = 0; l < G_N_ELEMENTS (lists); l++) {
    JsonArray *a = gradus_json_get_array (node, lists[l], FALSE);
    for (guint i = 0; a && i < json_array_get_length (a); i++)
      fn (json_array_get_element (a, i), data);
  }
  JsonNode *cost = json_object_get_member (node, "cost");
  if (cost)
    fn (cost, data);
  for (gint s = 0, n = gradus_scan_is_scan (node) ? gradus_scan_n_slots (node) : 0; s < n; s++) {
    JsonNode *ref = gradus_scan_slot_node (node, s);   /* sequences, inits, non-sequences */
    if (ref)
      fn (ref, data);
  }
}

static void
collect_dep (JsonNode *ref_node, gpointer data)
{
  const char *s = gradus_json_ref_string (ref_node);
  if (s)
    g_ptr_array_add (data, gradus_ref_parse (s, NULL));
}

GPtrArray *
gradus_doc_deps_of (JsonObject *node)
{
  GPtrArray *deps = g_ptr_array_new_with_free_func (g_free);
  gradus_doc_foreach_ref (node, collect_dep, deps);
  return deps;
}

/* ------------------------------------------------------------ slots */

gint
gradus_doc_n_slots (JsonObject *node)
{
  const char *kind = gradus_json_get_string (node, "kind");
  if (!kind)
    return 0;
  if (g_str_equal (kind, "grad")) {
    JsonArray *wrt = gradus_json_get_array (node, "wrt", FALSE);
    return 2 + (wrt ? (gint) json_array_get_length (wrt) : 0);
  }
  if (g_str_equal (kind, "scan"))
    return gradus_scan_n_slots (node);
  if (g_str_equal (kind, "group")) {
    /* one slot per input of its definition: the file gives them all */
    JsonArray *in = gradus_json_get_array (node, "inputs", FALSE);
    return in ? (gint) json_array_get_length (in) : 0;
  }
  if (g_str_equal (kind, "op")) {
    JsonArray *in = gradus_json_get_array (node, "inputs", FALSE);
    gint len = in ? (gint) json_array_get_length (in) : 0;
    gint arity = gradus_catalog_arity (gradus_json_get_string (node, "op"));
    if (arity == GRADUS_ARITY_VARIADIC)
      return len + 1;
    if (arity < 0)
      return len;
    return MAX (arity, len);
  }
  return 0;
}

JsonNode *
gradus_doc_slot_node (JsonObject *node, gint slot)
{
  const char *kind = gradus_json_get_string (node, "kind");
  if (!kind)
    return NULL;
  if (g_str_equal (kind, "grad")) {
    if (slot == 0)
      return json_object_get_member (node, "cost");
    JsonArray *wrt = gradus_json_get_array (node, "wrt", FALSE);
    if (wrt && slot - 1 < (gint) json_array_get_length (wrt))
      return json_array_get_element (wrt, slot - 1);
    return NULL;
  }
  if (g_str_equal (kind, "scan"))
    return gradus_scan_slot_node (node, slot);
  JsonArray *in = gradus_json_get_array (node, "inputs", FALSE);
  if (in && slot >= 0 && slot < (gint) json_array_get_length (in))
    return json_array_get_element (in, slot);
  return NULL;
}

void
gradus_doc_set_position (GradusDocModel *self, const char *id, double x, double y)
{
  JsonObject *p = gradus_json_object_member (gradus_doc_ui_nodes (self, TRUE), id, TRUE);
  /* Whole pixels keep files tidy and diffs small. */
  json_object_set_double_member (p, "x", round (x));
  json_object_set_double_member (p, "y", round (y));
}

static gboolean
id_taken (GradusDocModel *self, const char *id, GHashTable *extra)
{
  /* body ids are unique across the whole file (FORMAT.md part two) */
  if (gradus_doc_scope_id_taken (self, id))
    return TRUE;
  return gradus_doc_find_index (gradus_doc_nodes (self), id) >= 0 || (extra && g_hash_table_contains (extra, id));
}

char *
gradus_doc_unique_id (GradusDocModel *self, const char *base, GHashTable *extra)
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

/* Removes the elements of array `key` that name a removed node. */
void
gradus_doc_filter_ref_list (JsonObject *o, const char *key, GHashTable *gone)
{
  JsonArray *a = gradus_json_get_array (o, key, FALSE);
  for (gint i = a ? (gint) json_array_get_length (a) - 1 : -1; i >= 0; i--) {
    const char *s = gradus_json_ref_string (json_array_get_element (a, i));
    g_autofree char *id = s ? gradus_ref_parse (s, NULL) : NULL;
    if (id && g_hash_table_contains (gone, id))
      json_array_remove_element (a, i);
  }
}

gint
gradus_doc_n_outputs (GradusDocModel *self, JsonObject *o)
{
  const char *kind = gradus_json_get_string (o, "kind");
  if (kind && g_str_equal (kind, "grad")) {
    JsonArray *wrt = gradus_json_get_array (o, "wrt", FALSE);
    return wrt ? json_array_get_length (wrt) : 0;
  }
  g_autoptr (GPtrArray) group_outs = g_ptr_array_new_with_free_func (g_free);
  if (kind && g_str_equal (kind, "group")
      && gradus_group_ports (self, gradus_json_get_string (o, "id"), NULL, group_outs))
    return group_outs->len;
  const char *id = gradus_json_get_string (o, "id");
  GrdGraph *g = self->doc ? grd_document_graph (self->doc) : NULL;
  gint idx = g && id ? grd_graph_find (g, id) : -1;
  return idx >= 0 ? grd_graph_node_n_outputs (g, idx) : 1;
}
