/* gradus-doc-function.c: the file's function (inputs, outputs, updates) and
 * the run's feeds, as edited from the inspector. */
#include "gradus-doc-private.h"

#include <glib/gi18n.h>

gboolean
gradus_doc_model_in_function (GradusDocModel *self, const char *list, const char *id)
{
  JsonObject *fn = gradus_json_object_member (gradus_doc_root (self), "function", FALSE);
  JsonArray *a = fn ? gradus_json_get_array (fn, list, FALSE) : NULL;
  for (guint i = 0; a && i < json_array_get_length (a); i++) {
    g_autofree char *rid = gradus_ref_parse (gradus_json_ref_string (json_array_get_element (a, i)), NULL);
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
  if (g_str_equal (list, "inputs") && on && g_strcmp0 (gradus_json_get_string (o, "kind"), "variable") != 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("%s: only variables are inputs of the function"), id);
    return FALSE;
  }
  if (gradus_doc_model_in_function (self, list, id) == on)
    return TRUE;
  gradus_doc_model_begin_edit (self);
  JsonObject *fn = gradus_json_object_member (gradus_doc_root (self), "function", TRUE);
  JsonArray *a = gradus_json_get_array (fn, list, TRUE);
  if (on)
    json_array_add_string_element (a, id);
  else {
    g_autoptr (GHashTable) gone = g_hash_table_new (g_str_hash, g_str_equal);
    g_hash_table_add (gone, (gpointer) id);
    gradus_doc_filter_ref_list (fn, list, gone);
  }
  g_autofree char *label = g_strdup_printf (on ? _("Add %s to the function's %s") : _("Remove %s from the function's %s"),
                                            id, list);
  gradus_doc_model_commit_edit (self, label);
  return TRUE;
}

static gint
update_index (GradusDocModel *self, const char *id, JsonArray **out)
{
  JsonObject *fn = gradus_json_object_member (gradus_doc_root (self), "function", FALSE);
  JsonArray *up = fn ? gradus_json_get_array (fn, "updates", FALSE) : NULL;
  *out = up;
  for (guint i = 0; up && i < json_array_get_length (up); i++) {
    JsonNode *e = json_array_get_element (up, i);
    if (JSON_NODE_HOLDS_OBJECT (e) && g_strcmp0 (gradus_json_get_string (json_node_get_object (e), "shared"), id) == 0)
      return i;
  }
  return -1;
}

const char *
gradus_doc_model_get_update (GradusDocModel *self, const char *id)
{
  JsonArray *up;
  gint i = update_index (self, id, &up);
  return i < 0 ? NULL : gradus_json_get_string (json_array_get_object_element (up, i), "value");
}

gboolean
gradus_doc_model_set_update (GradusDocModel *self, const char *id, const char *value_ref,
                             GError **error)
{
  JsonObject *o = gradus_doc_model_get_node (self, id);
  if (!o || g_strcmp0 (gradus_json_get_string (o, "kind"), "shared") != 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("%s is not a shared variable"), id);
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
  gradus_doc_model_begin_edit (self);
  JsonArray *up;
  gint i = update_index (self, id, &up);
  if (i >= 0 && !value_ref)
    json_array_remove_element (up, i);
  else if (i >= 0)
    json_object_set_string_member (json_array_get_object_element (up, i), "value", value_ref);
  else if (value_ref) {
    up = gradus_json_get_array (gradus_json_object_member (gradus_doc_root (self), "function", TRUE), "updates", TRUE);
    JsonObject *u = json_object_new ();
    json_object_set_string_member (u, "shared", id);
    json_object_set_string_member (u, "value", value_ref);
    json_array_add_object_element (up, u);
  }
  g_autofree char *label = g_strdup_printf (_("Change the update of %s"), id);
  gradus_doc_model_commit_edit (self, label);
  return TRUE;
}

JsonNode *
gradus_doc_model_get_feed (GradusDocModel *self, const char *id)
{
  JsonObject *run = gradus_json_object_member (gradus_doc_root (self), "run", FALSE);
  JsonObject *feeds = run ? gradus_json_object_member (run, "feeds", FALSE) : NULL;
  return feeds ? json_object_get_member (feeds, id) : NULL;
}

gboolean
gradus_doc_model_set_feed (GradusDocModel *self, const char *id, JsonNode *feed, GError **error)
{
  g_autoptr (JsonNode) owned = feed;
  JsonObject *o = gradus_doc_model_get_node (self, id);
  if (!o || g_strcmp0 (gradus_json_get_string (o, "kind"), "variable") != 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("%s is not a variable: only inputs are fed"), id);
    return FALSE;
  }
  gradus_doc_model_begin_edit (self);
  JsonObject *feeds = gradus_json_object_member (gradus_json_object_member (gradus_doc_root (self), "run", TRUE), "feeds", TRUE);
  if (owned)
    json_object_set_member (feeds, id, g_steal_pointer (&owned));
  else
    json_object_remove_member (feeds, id);
  g_autofree char *label = g_strdup_printf (_("Change the feed of %s"), id);
  gradus_doc_model_commit_edit (self, label);
  return TRUE;
}
