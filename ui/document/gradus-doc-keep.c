/* gradus-doc-keep.c: the run's trained values kept in the document: every
 * shared node's "value" and run.resume taken from the tree the engine would
 * save (grd_document_dup_saved_tree), as one undo step. Such a change, its
 * undo and its redo touch only values, so views that hold a run (the run
 * panel) may keep it: gradus_doc_model_last_change_keeps_run() tells them. */
#include "gradus-doc-private.h"

#include <glib/gi18n.h>

static JsonObject *
object_member (JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static JsonObject *
node_with_id (JsonArray *nodes, const char *id)
{
  gint i = nodes ? gradus_doc_find_index (nodes, id) : -1;
  JsonNode *n = i >= 0 ? json_array_get_element (nodes, i) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

gboolean
gradus_doc_model_keep_values (GradusDocModel *self, JsonNode *saved, GError **error)
{
  g_return_val_if_fail (GRADUS_IS_DOC_MODEL (self), FALSE);
  if (!saved || !JSON_NODE_HOLDS_OBJECT (saved)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE, _("No values to keep"));
    return FALSE;
  }
  JsonObject *from = json_node_get_object (saved);
  JsonArray *from_nodes = gradus_json_get_array (from, "nodes", FALSE);
  JsonObject *resume = object_member (object_member (from, "run"), "resume");
  gradus_doc_model_begin_edit (self);
  /* The file's own nodes, whatever scan body is open. */
  JsonArray *nodes = gradus_json_get_array (gradus_doc_root (self), "nodes", FALSE);
  for (guint i = 0; nodes && i < json_array_get_length (nodes); i++) {
    JsonNode *e = json_array_get_element (nodes, i);
    JsonObject *o = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
    const char *id = o ? gradus_json_get_string (o, "id") : NULL;
    if (!id || g_strcmp0 (gradus_json_get_string (o, "kind"), "shared") != 0)
      continue;
    JsonObject *src = node_with_id (from_nodes, id);
    JsonNode *value = src ? json_object_get_member (src, "value") : NULL;
    if (value)
      json_object_set_member (o, "value", gradus_json_deep_copy (value));
  }
  if (resume) {
    JsonObject *run = gradus_json_object_member (gradus_doc_root (self), "run", TRUE);
    JsonNode *copy = json_node_new (JSON_NODE_OBJECT);
    json_node_set_object (copy, resume);
    json_object_set_member (run, "resume", gradus_json_deep_copy (copy));
    json_node_unref (copy);
  }
  gradus_doc_model_commit_run_values (self, _("Keep Trained Values"));
  return TRUE;
}
