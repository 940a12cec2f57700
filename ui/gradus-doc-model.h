/* gradus-doc-model.h: the editor's document: the graph file's JSON tree, edited
 * through typed operations that each record an undoable command, and the
 * engine's lenient build of it (types, shapes, errors) after every edit. */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>
#include "gradus.h"

G_BEGIN_DECLS

#define GRADUS_TYPE_DOC_MODEL (gradus_doc_model_get_type ())
G_DECLARE_FINAL_TYPE (GradusDocModel, gradus_doc_model, GRADUS, DOC_MODEL, GObject)

/* An empty graph. */
GradusDocModel *gradus_doc_model_new (void);
gboolean     gradus_doc_model_load_file (GradusDocModel *self, const char *path, GError **error);
/* `path` may be NULL (a new, unsaved document). Clears the undo history. */
gboolean     gradus_doc_model_load_data (GradusDocModel *self, const char *data, gssize length,
                                         const char *path, GError **error);
/* Atomic: a temporary file renamed over `path`. Sets the path, clears "modified". */
gboolean     gradus_doc_model_save (GradusDocModel *self, const char *path, GError **error);
/* The same; into another folder, relative data paths are rewritten for it
 * (grd_data_paths_rebase: in the file, the model and its undo history), and
 * `outside` (optional) gets the data files left outside the new folder,
 * which running the saved file must be allowed to read (NULL: none). */
gboolean     gradus_doc_model_save_full (GradusDocModel *self, const char *path, char ***outside,
                                         GError **error);
char        *gradus_doc_model_to_data (GradusDocModel *self, gsize *length);

JsonNode    *gradus_doc_model_get_root (GradusDocModel *self);
const char  *gradus_doc_model_get_path (GradusDocModel *self);
gboolean     gradus_doc_model_get_modified (GradusDocModel *self);
void         gradus_doc_model_set_modified (GradusDocModel *self, gboolean modified);
/* The file's "name", or the base name of the path, or "Untitled". */
char        *gradus_doc_model_dup_title (GradusDocModel *self);
/* The engine's view of the current JSON; NULL when even a lenient build failed
 * (then gradus_doc_model_get_build_error() says why). */
GrdDocument *gradus_doc_model_get_document (GradusDocModel *self);
const char  *gradus_doc_model_get_build_error (GradusDocModel *self);

/* Nodes, in file order. */
guint        gradus_doc_model_n_nodes (GradusDocModel *self);
JsonObject  *gradus_doc_model_node_at (GradusDocModel *self, guint i);
JsonObject  *gradus_doc_model_get_node (GradusDocModel *self, const char *id);
/* The node's error: a missing input, or the engine's message; NULL when fine. */
const char  *gradus_doc_model_node_error (GradusDocModel *self, const char *id);
/* Number of input slots of the node as drawn (op arity, grad cost + wrt + a free one). */
gint         gradus_doc_model_node_n_slots (GradusDocModel *self, const char *id);
/* The reference connected to slot `slot`, or NULL. */
const char  *gradus_doc_model_node_slot_ref (GradusDocModel *self, const char *id, gint slot);
/* The references the node reads (ids only, without ":k"), for layout and cycles. */
GPtrArray   *gradus_doc_model_node_deps (GradusDocModel *self, const char *id);
gboolean     gradus_doc_model_get_position (GradusDocModel *self, const char *id, double *x,
                                            double *y);
gboolean     gradus_doc_model_get_view (GradusDocModel *self, double *x, double *y, double *zoom);
/* Not an undoable edit: where the user looked last. */
void         gradus_doc_model_set_view (GradusDocModel *self, double x, double y, double zoom);

/* ---- edits: each is one undoable command and emits "changed" */

/* `kind`: variable, constant, shared, grad or op (with `op`). Returns the new id. */
char        *gradus_doc_model_add_node (GradusDocModel *self, const char *kind, const char *op,
                                        double x, double y, GError **error);
gboolean     gradus_doc_model_remove_nodes (GradusDocModel *self, const char *const *ids);
/* Connects `source_ref` ("id" or "id:k") to input slot `slot` of `target`.
 * Refuses (FALSE, error says why) a wire that would make a cycle or that the
 * engine rejects for the target node's types. */
gboolean     gradus_doc_model_connect (GradusDocModel *self, const char *target, gint slot,
                                       const char *source_ref, GError **error);
gboolean     gradus_doc_model_disconnect (GradusDocModel *self, const char *target, gint slot);
/* Sets (or with NULL removes) member `key` of the node; "attrs.NAME" for an op
 * attribute. Takes ownership of `value`. Refuses to change "id" (see rename). */
gboolean     gradus_doc_model_set_member (GradusDocModel *self, const char *id, const char *key,
                                          JsonNode *value, GError **error);
gboolean     gradus_doc_model_rename_node (GradusDocModel *self, const char *id,
                                           const char *new_id, GError **error);
void         gradus_doc_model_move_nodes (GradusDocModel *self, const char *const *ids,
                                          double dx, double dy);
/* Lays out every node (layered, left to right). */
void         gradus_doc_model_auto_layout (GradusDocModel *self);
/* Graph JSON text of these nodes and their positions, for the clipboard. */
char        *gradus_doc_model_copy_nodes (GradusDocModel *self, const char *const *ids);
/* Adds the nodes of clipboard text, renaming ids that clash and keeping
 * references inside the pasted set; positions offset by (dx, dy). Returns the new ids. */
GStrv        gradus_doc_model_paste (GradusDocModel *self, const char *text, double dx,
                                     double dy, GError **error);
GStrv        gradus_doc_model_duplicate (GradusDocModel *self, const char *const *ids);

/* The file's "function": whether `id` is one of its inputs or outputs. */
gboolean     gradus_doc_model_in_function (GradusDocModel *self, const char *list, const char *id);
/* Adds `id` to (or removes it from) function.inputs or function.outputs (`list`). */
gboolean     gradus_doc_model_set_in_function (GradusDocModel *self, const char *list,
                                               const char *id, gboolean on, GError **error);
/* The reference the function's update gives shared variable `id`, or NULL. */
const char  *gradus_doc_model_get_update (GradusDocModel *self, const char *id);
/* Sets (or with NULL removes) the update of shared variable `id`. */
gboolean     gradus_doc_model_set_update (GradusDocModel *self, const char *id, const char *value_ref,
                                          GError **error);

/* run.feeds.<id>: what the run panel and `gradus run` feed input `id` (borrowed), or NULL. */
JsonNode    *gradus_doc_model_get_feed (GradusDocModel *self, const char *id);
/* Sets (takes `feed`) or with NULL removes the feed of variable `id`. */
gboolean     gradus_doc_model_set_feed (GradusDocModel *self, const char *id, JsonNode *feed,
                                        GError **error);

/* Keeps a run's trained values (one undo step, "Keep Trained Values"): every
 * shared node of the file takes the "value" of the node with its id in
 * `saved` (the tree grd_document_dup_saved_tree gives), and run.resume is
 * taken from it too. */
gboolean     gradus_doc_model_keep_values (GradusDocModel *self, JsonNode *saved, GError **error);
/* Whether the last "changed" was such a keep, or the undo or redo of one: a
 * change of values only, which a view holding a run may let that run go on
 * through. */
gboolean     gradus_doc_model_last_change_keeps_run (GradusDocModel *self);

/* Several edits as one undo step: the mark before the first, then commit
 * (merged under `label`) or abort (every edit since the mark undone, no redo). */
guint        gradus_doc_model_batch_begin (GradusDocModel *self);
void         gradus_doc_model_batch_commit (GradusDocModel *self, guint mark, const char *label);
void         gradus_doc_model_batch_abort (GradusDocModel *self, guint mark);

gboolean     gradus_doc_model_can_undo (GradusDocModel *self);
gboolean     gradus_doc_model_can_redo (GradusDocModel *self);
gboolean     gradus_doc_model_undo (GradusDocModel *self);
gboolean     gradus_doc_model_redo (GradusDocModel *self);
/* Label of the command undo would revert ("Add node", ...), or NULL. */
const char  *gradus_doc_model_undo_label (GradusDocModel *self);

/* A copy that shares nothing with `node` (json_node_copy() shares containers). */
JsonNode    *gradus_json_deep_copy (JsonNode *node);

/* Splits "id:k" into id and k. */
char        *gradus_ref_parse (const char *ref, gint *output);

G_END_DECLS
