/* gradus-run-binding.c: the run panel follows the document model.
 *
 * The window used to push the document into the panel after every edit and
 * again whenever a run stopped, which rebuilt the panel and wiped the
 * results of the run that had just ended. Here the panel is handed a
 * document only when the function's side of the file really changed. */
#include "gradus-run-binding.h"

struct _GradusRunBinding {
  GObject         parent_instance;
  GWeakRef        panel;
  GradusDocModel *model;       /* strong: the binding lives no longer than the window */
  gulong          changed_id;
  gulong          running_id;
  guint           debounce_id;
  char           *synced;      /* signature the panel was last handed */
  guint           n_syncs;
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
  if (!force && self->synced && g_strcmp0 (sig, self->synced) == 0)
    return;
  g_free (self->synced);
  self->synced = g_steal_pointer (&sig);
  self->n_syncs++;
  gradus_run_panel_set_document (panel, root, gradus_doc_model_get_path (self->model));
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
