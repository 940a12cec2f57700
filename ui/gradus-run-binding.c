/* gradus-run-binding.c: the run panel follows the document model.
 *
 * The window used to push the document into the panel after every edit and
 * again whenever a run stopped, which rebuilt the panel and wiped the
 * results of the run that had just ended. Here the panel is handed a
 * document only when the function's side of the file really changed. */
#include "gradus-run-binding.h"

#include <glib/gi18n.h>

struct _GradusRunBinding {
  GObject         parent_instance;
  GWeakRef        panel;
  GradusDocModel *model;       /* strong: the binding lives no longer than the window */
  gulong          changed_id;
  gulong          running_id;
  guint           debounce_id;
  char           *synced;      /* signature the panel was last handed */
  char           *synced_shape; /* ... and without values (values_free_signature) */
  gboolean        edited;      /* a change since then that was not a keep (or its undo) */
  guint           n_syncs;
  guint           n_adopted;
};

G_DEFINE_FINAL_TYPE (GradusRunBinding, gradus_run_binding, G_TYPE_OBJECT)

/* Edits come in bursts (typing, dragging): compile once they settle. */
#define DEBOUNCE_MS 250

char *
gradus_run_binding_signature (JsonNode *root)
{
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  JsonObject *o = json_node_get_object (root);
  GString *sig = g_string_new (NULL);
  g_autoptr (GList) members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next) {
    if (g_str_equal (l->data, "ui"))
      continue;
    g_autofree char *text = json_to_string (json_object_get_member (o, l->data), FALSE);
    g_string_append_printf (sig, "%s=%s;", (const char *) l->data, text);
  }
  return g_string_free (sig, FALSE);
}

/* The signature without what a keep changes: shared nodes' values and
 * run.resume. Equal ones differ in run values only. */
static char *
values_free_signature (JsonNode *root)
{
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  g_autoptr (JsonNode) copy = gradus_json_deep_copy (root);
  JsonObject *top = json_node_get_object (copy);
  JsonNode *run = json_object_get_member (top, "run");
  if (run && JSON_NODE_HOLDS_OBJECT (run))
    json_object_remove_member (json_node_get_object (run), "resume");
  JsonNode *nodes = json_object_get_member (top, "nodes");
  JsonArray *a = nodes && JSON_NODE_HOLDS_ARRAY (nodes) ? json_node_get_array (nodes) : NULL;
  for (guint i = 0; a && i < json_array_get_length (a); i++) {
    JsonNode *e = json_array_get_element (a, i);
    JsonObject *o = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
    if (o && g_strcmp0 (json_object_get_string_member_with_default (o, "kind", ""), "shared") == 0)
      json_object_remove_member (o, "value");
  }
  return gradus_run_binding_signature (copy);
}

static void
need (GradusDocModel *model, GHashTable *needed, const char *ref)
{
  g_autofree char *id = ref ? gradus_ref_parse (ref, NULL) : NULL;
  if (!id || g_hash_table_contains (needed, id) || !gradus_doc_model_get_node (model, id))
    return;
  g_hash_table_add (needed, g_strdup (id));
  g_autoptr (GPtrArray) deps = gradus_doc_model_node_deps (model, id);
  for (guint i = 0; deps && i < deps->len; i++)
    need (model, needed, deps->pdata[i]);
}

static void
need_list (GradusDocModel *model, GHashTable *needed, JsonObject *fn, const char *list,
           const char *member)
{
  JsonArray *a = fn && json_object_has_member (fn, list) &&
                 JSON_NODE_HOLDS_ARRAY (json_object_get_member (fn, list))
                 ? json_object_get_array_member (fn, list) : NULL;
  for (guint i = 0; a && i < json_array_get_length (a); i++) {
    JsonNode *e = json_array_get_element (a, i);
    if (member && JSON_NODE_HOLDS_OBJECT (e)) {
      JsonObject *o = json_node_get_object (e);
      for (int k = 0; k < 2; k++) {
        const char *m = k ? "value" : member;
        JsonNode *v = json_object_get_member (o, m);
        if (v && JSON_NODE_HOLDS_VALUE (v) && json_node_get_value_type (v) == G_TYPE_STRING)
          need (model, needed, json_node_get_string (v));
      }
    } else if (JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_STRING) {
      need (model, needed, json_node_get_string (e));
    }
  }
}

/* What the panel runs: the model's JSON without the unfinished nodes the
 * function does not use (one unwired node elsewhere must not stop Run). Sets
 * `problem` to the model's own words when a node the function uses is
 * unfinished ("g: connect a scalar cost"), or when nothing is computed. */
static JsonNode *
runnable_root (GradusDocModel *model, char **problem)
{
  *problem = NULL;
  JsonNode *root = gradus_json_deep_copy (gradus_doc_model_get_root (model));
  JsonObject *top = json_node_get_object (root);
  JsonObject *fn = json_object_has_member (top, "function") &&
                   JSON_NODE_HOLDS_OBJECT (json_object_get_member (top, "function"))
                   ? json_object_get_object_member (top, "function") : NULL;
  g_autoptr (GHashTable) needed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  need_list (model, needed, fn, "inputs", NULL);
  need_list (model, needed, fn, "outputs", NULL);
  need_list (model, needed, fn, "updates", "shared");
  JsonArray *outs = fn && json_object_has_member (fn, "outputs") &&
                    JSON_NODE_HOLDS_ARRAY (json_object_get_member (fn, "outputs"))
                    ? json_object_get_array_member (fn, "outputs") : NULL;
  JsonArray *ups = fn && json_object_has_member (fn, "updates") &&
                   JSON_NODE_HOLDS_ARRAY (json_object_get_member (fn, "updates"))
                   ? json_object_get_array_member (fn, "updates") : NULL;
  if (fn && (!outs || json_array_get_length (outs) == 0) && (!ups || json_array_get_length (ups) == 0))
    *problem = g_strdup (_("The function has no output: mark a node as an output in the inspector"));
  JsonArray *nodes = json_object_has_member (top, "nodes") &&
                     JSON_NODE_HOLDS_ARRAY (json_object_get_member (top, "nodes"))
                     ? json_object_get_array_member (top, "nodes") : NULL;
  for (gint i = nodes ? (gint) json_array_get_length (nodes) - 1 : -1; i >= 0; i--) {
    JsonNode *e = json_array_get_element (nodes, i);
    JsonObject *o = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
    const char *id = o ? json_object_get_string_member_with_default (o, "id", NULL) : NULL;
    const char *err = id ? gradus_doc_model_node_error (model, id) : NULL;
    if (err && !g_hash_table_contains (needed, id))
      json_array_remove_element (nodes, i);
  }
  /* The first unfinished node the function uses, in file order. */
  for (guint i = 0; !*problem && nodes && i < json_array_get_length (nodes); i++) {
    JsonNode *e = json_array_get_element (nodes, i);
    JsonObject *o = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
    const char *id = o ? json_object_get_string_member_with_default (o, "id", NULL) : NULL;
    const char *err = id ? gradus_doc_model_node_error (model, id) : NULL;
    if (err)
      *problem = g_strdup_printf (_("Cannot run yet: %s"), err);
  }
  return root;
}

/* Hands the panel the model's document if it differs from the one it has.
 * `force`: a new model (another file), even if the text is the same. */
static void
sync_panel (GradusRunBinding *self, gboolean force)
{
  g_autoptr (GradusRunPanel) panel = g_weak_ref_get (&self->panel);
  if (!panel || !self->model)
    return;
  /* A running function keeps its document; the edit waits for the stop. */
  if (gradus_run_panel_is_running (panel))
    return;
  JsonNode *root = gradus_doc_model_get_root (self->model);
  g_autofree char *sig = gradus_run_binding_signature (root);
  gboolean edited = self->edited;
  self->edited = FALSE;
  if (!force && self->synced && g_strcmp0 (sig, self->synced) == 0)
    return;
  g_autofree char *shape = values_free_signature (root);
  /* A keep, its undo or redo, and nothing else: the run goes on (its plots,
   * calls and compiled function stay); the panel takes the JSON for Reset.
   * A panel without calls has nothing to keep and is simply rebuilt. */
  gboolean adopt = !force && !edited && gradus_run_panel_get_n_calls (panel) > 0
                   && g_strcmp0 (shape, self->synced_shape) == 0;
  g_free (self->synced);
  self->synced = g_steal_pointer (&sig);
  g_free (self->synced_shape);
  self->synced_shape = g_steal_pointer (&shape);
  g_autofree char *problem = NULL;
  g_autoptr (JsonNode) runnable = runnable_root (self->model, &problem);
  if (adopt) {
    self->n_adopted++;
    gradus_run_panel_adopt_document (panel, runnable, gradus_doc_model_get_path (self->model));
    return;
  }
  self->n_syncs++;
  gradus_run_panel_set_document (panel, runnable, gradus_doc_model_get_path (self->model));
  /* The editor's words over the engine's ("g: connect a scalar cost" rather
   * than '"cost" must be a reference (a string), not null'). */
  if (problem && gradus_run_panel_get_error (panel))
    gradus_run_panel_set_problem (panel, problem);
}

void
gradus_run_binding_follow_save (GradusRunBinding *self)
{
  g_return_if_fail (GRADUS_IS_RUN_BINDING (self));
  g_autoptr (GradusRunPanel) panel = g_weak_ref_get (&self->panel);
  /* a running function keeps its document; the usual sync follows its stop */
  if (!panel || !self->model || gradus_run_panel_is_running (panel))
    return;
  JsonNode *root = gradus_doc_model_get_root (self->model);
  g_free (self->synced);
  self->synced = gradus_run_binding_signature (root);
  g_free (self->synced_shape);
  self->synced_shape = values_free_signature (root);
  g_autofree char *problem = NULL;
  g_autoptr (JsonNode) runnable = runnable_root (self->model, &problem);
  if (runnable)
    gradus_run_panel_adopt_document (panel, runnable, gradus_doc_model_get_path (self->model));
}

static gboolean
debounce_done (gpointer data)
{
  GradusRunBinding *self = data;
  self->debounce_id = 0;
  sync_panel (self, FALSE);
  return G_SOURCE_REMOVE;
}

static void
model_changed (GradusRunBinding *self)
{
  if (!gradus_doc_model_last_change_keeps_run (self->model))
    self->edited = TRUE;
  g_clear_handle_id (&self->debounce_id, g_source_remove);
  self->debounce_id = g_timeout_add (DEBOUNCE_MS, debounce_done, self);
}

static void
running_changed (GradusRunPanel *panel, gboolean running, GradusRunBinding *self)
{
  /* Edits made during the run; none: the panel and its results stay. */
  if (!running && !self->debounce_id)
    sync_panel (self, FALSE);
}

gboolean
gradus_run_binding_is_pending (GradusRunBinding *self)
{
  if (self->debounce_id)
    return TRUE;
  if (!self->model)
    return FALSE;
  g_autofree char *sig = gradus_run_binding_signature (gradus_doc_model_get_root (self->model));
  return g_strcmp0 (sig, self->synced) != 0;
}

guint
gradus_run_binding_get_n_syncs (GradusRunBinding *self)
{
  return self->n_syncs;
}

void
gradus_run_binding_flush (GradusRunBinding *self)
{
  g_return_if_fail (GRADUS_IS_RUN_BINDING (self));
  if (!self->debounce_id)
    return;
  g_clear_handle_id (&self->debounce_id, g_source_remove);
  sync_panel (self, FALSE);
}

guint
gradus_run_binding_get_n_adopted (GradusRunBinding *self)
{
  return self->n_adopted;
}

gboolean
gradus_run_binding_is_current (GradusRunBinding *self)
{
  g_return_val_if_fail (GRADUS_IS_RUN_BINDING (self), FALSE);
  if (!self->model)
    return FALSE;
  JsonNode *root = gradus_doc_model_get_root (self->model);
  g_autofree char *sig = gradus_run_binding_signature (root);
  if (g_strcmp0 (sig, self->synced) == 0)
    return TRUE;
  /* what keeps (and their undo) changed since: still the same function */
  g_autofree char *shape = values_free_signature (root);
  return !self->edited && g_strcmp0 (shape, self->synced_shape) == 0;
}

static void
drop_model (GradusRunBinding *self)
{
  g_clear_handle_id (&self->debounce_id, g_source_remove);
  if (self->model) {
    g_clear_signal_handler (&self->changed_id, self->model);
    g_clear_object (&self->model);
  }
}

void
gradus_run_binding_set_model (GradusRunBinding *self, GradusDocModel *model)
{
  g_return_if_fail (GRADUS_IS_RUN_BINDING (self));
  drop_model (self);
  if (!model)
    return;
  self->model = g_object_ref (model);
  self->changed_id = g_signal_connect_swapped (model, "changed", G_CALLBACK (model_changed), self);
  sync_panel (self, TRUE);
}

static void
gradus_run_binding_dispose (GObject *object)
{
  GradusRunBinding *self = GRADUS_RUN_BINDING (object);
  drop_model (self);
  g_autoptr (GradusRunPanel) panel = g_weak_ref_get (&self->panel);
  if (panel)
    g_clear_signal_handler (&self->running_id, panel);
  g_weak_ref_set (&self->panel, NULL);
  G_OBJECT_CLASS (gradus_run_binding_parent_class)->dispose (object);
}

static void
gradus_run_binding_finalize (GObject *object)
{
  GradusRunBinding *self = GRADUS_RUN_BINDING (object);
  g_weak_ref_clear (&self->panel);
  g_free (self->synced);
  g_free (self->synced_shape);
  G_OBJECT_CLASS (gradus_run_binding_parent_class)->finalize (object);
}

static void
gradus_run_binding_class_init (GradusRunBindingClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = gradus_run_binding_dispose;
  G_OBJECT_CLASS (klass)->finalize = gradus_run_binding_finalize;
}

static void
gradus_run_binding_init (GradusRunBinding *self)
{
  g_weak_ref_init (&self->panel, NULL);
}

GradusRunBinding *
gradus_run_binding_new (GradusRunPanel *panel)
{
  g_return_val_if_fail (GRADUS_IS_RUN_PANEL (panel), NULL);
  GradusRunBinding *self = g_object_new (GRADUS_TYPE_RUN_BINDING, NULL);
  g_weak_ref_set (&self->panel, panel);
  self->running_id = g_signal_connect (panel, "running-changed", G_CALLBACK (running_changed), self);
  return self;
}
