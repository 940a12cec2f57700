/* gradus-run-binding.h: keeps a run panel on the document model's function.
 *
 * Data flows one way: the binding observes the model's "changed" signal and
 * hands the panel a new document only when what the function computes has
 * changed (the file without its "ui" object and its path). Moving nodes,
 * panning, saving or a run that stops leave the panel, its results and its
 * fields alone. Edits made while a run goes on are taken when it stops. A
 * keep of the trained values (or its undo or redo) changes values only: the
 * panel takes the JSON for its next Reset and its run goes on. */
#pragma once

#include "gradus-doc-model.h"
#include "gradus-run-panel.h"

G_BEGIN_DECLS

#define GRADUS_TYPE_RUN_BINDING (gradus_run_binding_get_type ())
G_DECLARE_FINAL_TYPE (GradusRunBinding, gradus_run_binding, GRADUS, RUN_BINDING, GObject)

/* Holds weak references to both; neither keeps the other alive. */
GradusRunBinding *gradus_run_binding_new (GradusRunPanel *panel);
/* Observes `model` from now on (NULL: none); the panel gets its document at once. */
void              gradus_run_binding_set_model (GradusRunBinding *self, GradusDocModel *model);
/* How many documents the panel was handed (tests: a stopped run hands none). */
guint             gradus_run_binding_get_n_syncs (GradusRunBinding *self);
/* Hands the panel what waits for the debounce now (after a keep: Reset at
 * once takes the kept values). */
void              gradus_run_binding_flush (GradusRunBinding *self);
/* How many times the panel kept its run through a change of run values only
 * (a keep, its undo or redo) and just took the new JSON (tests). */
guint             gradus_run_binding_get_n_adopted (GradusRunBinding *self);
/* Whether the panel runs the model's function as it is now: no edit but keeps
 * (and their undo and redo) since the panel was last handed the document. */
gboolean          gradus_run_binding_is_current (GradusRunBinding *self);
/* The model was just saved, and the panel was current before: a save into
 * another folder rewrote the data paths (the same files, the same graph), so
 * the panel takes the saved JSON and path and its run goes on. */
void              gradus_run_binding_follow_save (GradusRunBinding *self);
/* Whether an edit waits for the panel (debounce or a run going on). */
gboolean          gradus_run_binding_is_pending (GradusRunBinding *self);

/* The document as the function sees it: every member but "ui", as JSON text. */
char             *gradus_run_binding_signature (JsonNode *root);

G_END_DECLS
