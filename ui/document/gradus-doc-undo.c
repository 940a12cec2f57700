/* gradus-doc-undo.c: undo and redo. Each edit snapshots the tree before and
 * after (one command on the undo stack); "modified" compares the serial of
 * the newest command with the one saved last. */
#include "gradus-doc-private.h"

void
gradus_doc_command_free (gpointer data)
{
  GradusDocCommand *c = data;
  g_free (c->label);
  json_node_unref (c->before);
  json_node_unref (c->after);
  g_free (c);
}

void
gradus_doc_model_begin_edit (GradusDocModel *self)
{
  g_return_if_fail (self->pending == NULL);
  self->pending = gradus_json_deep_copy (self->root);
}

void
gradus_doc_model_abort_edit (GradusDocModel *self)
{
  json_node_unref (self->root);
  self->root = g_steal_pointer (&self->pending);
  gradus_doc_model_rebuild (self);
}

static void
commit (GradusDocModel *self, const char *label, gboolean run_values)
{
  GradusDocCommand *c = g_new0 (GradusDocCommand, 1);
  c->label = g_strdup (label);
  c->before = g_steal_pointer (&self->pending);
  c->after = gradus_json_deep_copy (self->root);
  c->serial = self->next_serial++;
  c->run_values = run_values;
  g_ptr_array_add (self->undo, c);
  g_ptr_array_set_size (self->redo, 0);
  self->last_run_values = run_values;
  gradus_doc_model_rebuild (self);
  gradus_doc_model_emit_changed (self);
}

void
gradus_doc_model_commit_edit (GradusDocModel *self, const char *label)
{
  commit (self, label, FALSE);
}

void
gradus_doc_model_commit_run_values (GradusDocModel *self, const char *label)
{
  commit (self, label, TRUE);
}

gboolean
gradus_doc_model_last_change_keeps_run (GradusDocModel *self)
{
  g_return_val_if_fail (GRADUS_IS_DOC_MODEL (self), FALSE);
  return self->last_run_values;
}

static guint
current_serial (GradusDocModel *self)
{
  return self->undo->len ? ((GradusDocCommand *) self->undo->pdata[self->undo->len - 1])->serial : 0;
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
  gradus_doc_model_notify_modified (self);
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
  return self->undo->len ? ((GradusDocCommand *) self->undo->pdata[self->undo->len - 1])->label : NULL;
}

static void
restore (GradusDocModel *self, JsonNode *tree)
{
  /* The view is where the user looks now, not part of the history. */
  g_autoptr (JsonNode) view = NULL;
  JsonObject *ui = gradus_json_object_member (gradus_doc_root (self), "ui", FALSE);
  if (ui && json_object_has_member (ui, "view"))
    view = json_object_dup_member (ui, "view");
  json_node_unref (self->root);
  self->root = gradus_json_deep_copy (tree);
  if (view)
    json_object_set_member (gradus_json_object_member (gradus_doc_root (self), "ui", TRUE), "view",
                            g_steal_pointer (&view));
  gradus_doc_model_rebuild (self);
  gradus_doc_model_emit_changed (self);
}

gboolean
gradus_doc_model_undo (GradusDocModel *self)
{
  if (!self->undo->len)
    return FALSE;
  GradusDocCommand *c = g_ptr_array_steal_index (self->undo, self->undo->len - 1);
  g_ptr_array_add (self->redo, c);
  self->last_run_values = c->run_values;
  restore (self, c->before);
  return TRUE;
}

gboolean
gradus_doc_model_redo (GradusDocModel *self)
{
  if (!self->redo->len)
    return FALSE;
  GradusDocCommand *c = g_ptr_array_steal_index (self->redo, self->redo->len - 1);
  g_ptr_array_add (self->undo, c);
  self->last_run_values = c->run_values;
  restore (self, c->after);
  return TRUE;
}
