/* gradus-export.c: `gradus export`: a graph file's canvas to PNG, SVG or PDF
 * (the same drawing as the window, no display needed) or its DOT text. */
#include "gradus-ui.h"
#include "gradus-doc-model.h"
#include "gradus-render.h"
#include "gradus-scene.h"
#include "gradus-ui-private.h"

gboolean
gradus_ui_export (const char *in_path, const char *format, const char *out_path, GError **error)
{
  g_autoptr (GradusDocModel) model = gradus_doc_model_new ();
  if (!gradus_doc_model_load_file (model, in_path, error))
    return FALSE;
  if (g_str_equal (format, "dot")) {
    GrdDocument *doc = gradus_doc_model_get_document (model);
    if (!doc) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "%s: %s", in_path,
                   gradus_doc_model_get_build_error (model));
      return FALSE;
    }
    g_autofree char *dot = grd_document_to_dot (doc);
    g_autoptr (GError) local = NULL;
    if (!g_file_set_contents_full (out_path, dot, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, &local)) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_IO, "%s", local->message);
      return FALSE;
    }
    return TRUE;
  }
  g_autoptr (GHashTable) expanded = gradus_ui_expanded_grads (model);
  g_autoptr (GradusScene) scene = gradus_scene_new (model, expanded, NULL);
  g_autoptr (GError) local = NULL;
  if (!gradus_render_to_file (scene, format, out_path, 2.0, FALSE, &local)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_IO, "%s", local->message);
    return FALSE;
  }
  return TRUE;
}

GHashTable *
gradus_ui_expanded_grads (GradusDocModel *model)
{
  GHashTable *set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  JsonObject *root = json_node_get_object (gradus_doc_model_get_root (model));
  JsonNode *ui = json_object_get_member (root, "ui");
  JsonNode *list = ui && JSON_NODE_HOLDS_OBJECT (ui)
                     ? json_object_get_member (json_node_get_object (ui), "expanded") : NULL;
  if (list && JSON_NODE_HOLDS_ARRAY (list)) {
    JsonArray *a = json_node_get_array (list);
    for (guint i = 0; i < json_array_get_length (a); i++) {
      JsonNode *e = json_array_get_element (a, i);
      if (JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_STRING)
        g_hash_table_add (set, g_strdup (json_node_get_string (e)));
    }
  }
  return set;
}

static gint
compare_strings (gconstpointer a, gconstpointer b, gpointer data)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

void
gradus_ui_set_expanded_grads (GradusDocModel *model, GHashTable *set)
{
  JsonObject *root = json_node_get_object (gradus_doc_model_get_root (model));
  JsonNode *ui = json_object_get_member (root, "ui");
  if (!ui || !JSON_NODE_HOLDS_OBJECT (ui)) {
    if (g_hash_table_size (set) == 0)
      return;
    json_object_set_object_member (root, "ui", json_object_new ());
    ui = json_object_get_member (root, "ui");
  }
  JsonObject *uo = json_node_get_object (ui);
  if (g_hash_table_size (set) == 0) {
    json_object_remove_member (uo, "expanded");
    return;
  }
  g_autofree const char **keys = (const char **) g_hash_table_get_keys_as_array (set, NULL);
  g_qsort_with_data (keys, g_hash_table_size (set), sizeof (char *), compare_strings, NULL);
  JsonArray *a = json_array_new ();
  for (guint i = 0; i < g_hash_table_size (set); i++)
    json_array_add_string_element (a, keys[i]);
  json_object_set_array_member (uo, "expanded", a);
}
