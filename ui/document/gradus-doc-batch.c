/* gradus-doc-batch.c: several edits made as one (a line typed in the quick
 * add box adds a node, names it and wires it): one undo step, or none when a
 * later part fails. */
#include "gradus-doc-private.h"

guint
gradus_doc_model_batch_begin (GradusDocModel *self)
{
  g_return_val_if_fail (GRADUS_IS_DOC_MODEL (self), 0);
  return self->undo->len;
}

void
gradus_doc_model_batch_commit (GradusDocModel *self, guint mark, const char *label)
{
  g_return_if_fail (GRADUS_IS_DOC_MODEL (self));
  g_return_if_fail (mark <= self->undo->len);
  if (self->undo->len - mark < 2)
    return;
  GradusDocCommand *first = self->undo->pdata[mark];
  GradusDocCommand *last = self->undo->pdata[self->undo->len - 1];
  GradusDocCommand *c = g_new0 (GradusDocCommand, 1);
  c->label = g_strdup (label);
  c->before = json_node_ref (first->before);
  c->after = json_node_ref (last->after);
  /* The newest serial: "modified" compares it with the saved one. */
  c->serial = last->serial;
  g_ptr_array_remove_range (self->undo, mark, self->undo->len - mark);
  g_ptr_array_add (self->undo, c);
}

void
gradus_doc_model_batch_abort (GradusDocModel *self, guint mark)
{
  g_return_if_fail (GRADUS_IS_DOC_MODEL (self));
  while (self->undo->len > mark && gradus_doc_model_undo (self))
    ;
  /* What was undone here was never a whole command of the user's. */
  if (self->redo->len) {
    g_ptr_array_set_size (self->redo, 0);
    gradus_doc_model_emit_changed (self);
  }
}
