/* gradus-run-panel-keep.c: the run's trained values for the document, and
 * run.resume both ways: written when the values are kept (as `gradus run
 * --save` writes it, through the engine's one writer), read when the
 * document is built, so that Run after Reset continues a kept or saved run
 * with the numbers `gradus run` gives for that file. */
#include "gradus-run-panel-private.h"

#include <glib/gi18n.h>

static JsonObject *
object_member (JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

/* A non-negative integer member, else `fallback`. */
static gint64
count_member (JsonObject *o, const char *name, gint64 fallback)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  if (!n || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return fallback;
  return MAX (json_node_get_int (n), 0);
}

void
gradus_run_panel_read_resume (GradusRunPanel *self)
{
  self->first_step = 0;
  g_clear_pointer (&self->resume_calls, json_object_unref);
  JsonObject *top = self->root ? json_node_get_object (self->root) : NULL;
  JsonObject *resume = object_member (object_member (top, "run"), "resume");
  if (!resume)
    return;
  self->first_step = count_member (resume, "step", 0);
  JsonObject *calls = object_member (resume, "calls");
  if (calls)
    self->resume_calls = json_object_ref (calls);
  JsonObject *draws = object_member (resume, "draws");
  if (!draws)
    return;
  g_autoptr (GHashTable) state = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  g_autoptr (GList) members = json_object_get_members (draws);
  for (GList *l = members; l; l = l->next) {
    gint64 *v = g_new (gint64, 1);
    *v = count_member (draws, l->data, 0);
    g_hash_table_insert (state, l->data, v);
  }
  grd_graph_random_set_state (grd_document_graph (self->doc), state);
}

gboolean
gradus_run_panel_can_keep (GradusRunPanel *self)
{
  g_return_val_if_fail (GRADUS_IS_RUN_PANEL (self), FALSE);
  return self->doc && self->fn && !self->worker && self->n_calls > self->kept_calls;
}

JsonNode *
gradus_run_panel_dup_kept_tree (GradusRunPanel *self, GError **error)
{
  g_return_val_if_fail (GRADUS_IS_RUN_PANEL (self), NULL);
  if (!gradus_run_panel_can_keep (self)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE, "%s",
                 self->worker ? _("Values can be kept when the run stops")
                              : _("No call since the values were last kept or reset"));
    return NULL;
  }
  /* A Vulkan function keeps its shared values on the device: bring them home. */
  if (!grd_function_sync (self->fn, error))
    return NULL;
  for (guint i = 0; i < self->also->len; i++)
    if (!grd_function_sync (g_array_index (self->also, GradusRunAlso, i).fn, error))
      return NULL;
  /* Each function's calls as `gradus run` counts them: the main function's
   * every call, an also function's after every `every`-th step. */
  gint64 next = self->first_step + self->n_calls;
  g_autofree char *run_name = self->function ? g_strdup (self->function)
                                             : grd_document_run_function (self->doc, error);
  if (!run_name)
    return NULL;
  guint n = 1 + self->also->len;
  g_autofree const char **names = g_new0 (const char *, n);
  g_autofree gint64 *calls = g_new0 (gint64, n);
  names[0] = run_name;
  calls[0] = count_member (self->resume_calls, run_name, 0) + self->n_calls;
  for (guint i = 1; i < n; i++) {
    const GradusRunAlso *also = &g_array_index (self->also, GradusRunAlso, i - 1);
    names[i] = self->also_names->pdata[i - 1];
    calls[i] = count_member (self->resume_calls, names[i], 0)
               + next / also->every - self->first_step / also->every;
  }
  grd_document_set_resume (self->doc, next, n, names, calls);
  JsonNode *tree = grd_document_dup_saved_tree (self->doc);
  /* The document may have been saved into another folder since this run
   * was built (gradus_run_binding_follow_save): its data paths follow. */
  const char *built = grd_document_path (self->doc);
  g_autofree char *from = built ? g_path_get_dirname (built) : g_strdup (".");
  g_autofree char *to = self->path ? g_path_get_dirname (self->path) : g_strdup (".");
  g_strfreev (grd_data_paths_rebase (tree, from, to));
  return tree;
}

void
gradus_run_panel_mark_kept (GradusRunPanel *self)
{
  g_return_if_fail (GRADUS_IS_RUN_PANEL (self));
  self->kept_calls = self->n_calls;
  gradus_run_panel_set_status (self, FALSE,
                               _("Trained values of call %lld kept in the document"),
                               (long long) (self->first_step + self->n_calls - 1));
}

void
gradus_run_panel_adopt_document (GradusRunPanel *self, JsonNode *root, const char *path)
{
  g_return_if_fail (GRADUS_IS_RUN_PANEL (self));
  g_return_if_fail (root && JSON_NODE_HOLDS_OBJECT (root));
  g_clear_pointer (&self->root, json_node_unref);
  self->root = json_node_copy (root);
  g_free (self->path);
  self->path = g_strdup (path);
  gradus_run_panel_update_actions (self);
}
