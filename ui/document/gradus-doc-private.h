/* gradus-doc-private.h: what the pieces of the document model share (the
 * object's fields, the edit bracket, the tree helpers). Not for views: they
 * use gradus-doc-model.h. */
#pragma once

#include "gradus-doc-model.h"

G_BEGIN_DECLS

/* One undoable edit: the whole tree before and after. */
typedef struct {
  char     *label;
  JsonNode *before;
  JsonNode *after;
  guint     serial;
  gboolean  run_values;   /* changes shared values and run.resume only (a keep) */
} GradusDocCommand;

struct _GradusDocModel {
  GObject      parent_instance;
  JsonNode    *root;
  char        *path;
  GrdDocument *doc;
  char        *build_error;
  GHashTable  *missing;     /* id -> message of nodes the editor kept out of the build */
  GPtrArray   *undo;        /* GradusDocCommand* */
  GPtrArray   *redo;
  JsonNode    *pending;     /* the tree before the edit in progress */
  guint        next_serial;
  guint        saved_serial;
  char        *scope;       /* id of the scan whose body is open (ui/scan), or NULL */
  gboolean     last_run_values; /* the last change was a keep, or its undo or redo */
};

/* ---- gradus-doc-json.c: typed access to json-glib trees */
JsonObject  *gradus_json_object_member (JsonObject *o, const char *key, gboolean create);
const char  *gradus_json_get_string (JsonObject *node, const char *key);
JsonArray   *gradus_json_get_array (JsonObject *node, const char *key, gboolean create);
/* Puts `fresh` (taken) at `index` of `a`. json-glib 1.6 cannot re-initialise
 * a node in place safely (json_node_init_*() keeps a pointer to the value it
 * released), so slots get new nodes. */
void         gradus_json_array_replace (JsonArray *a, guint index, JsonNode *fresh);
/* The string of a reference node, NULL when null, empty or not a string. */
const char  *gradus_json_ref_string (JsonNode *n);

/* ---- gradus-doc-graph.c: the node and wire store */
JsonObject  *gradus_doc_root (GradusDocModel *self);
JsonArray   *gradus_doc_nodes (GradusDocModel *self);
JsonObject  *gradus_doc_ui_nodes (GradusDocModel *self, gboolean create);
gint         gradus_doc_find_index (JsonArray *nodes, const char *id);
gboolean     gradus_doc_valid_id (const char *id);
char        *gradus_doc_unique_id (GradusDocModel *self, const char *base, GHashTable *extra);
/* Calls fn on every reference-holding JSON node of a graph node: op inputs,
 * grad cost, wrt and consider_constant. */
typedef void (*GradusDocRefFunc) (JsonNode *ref_node, gpointer data);
void         gradus_doc_foreach_ref (JsonObject *node, GradusDocRefFunc fn, gpointer data);
GPtrArray   *gradus_doc_deps_of (JsonObject *node);
gint         gradus_doc_n_slots (JsonObject *node);
JsonNode    *gradus_doc_slot_node (JsonObject *node, gint slot);
gint         gradus_doc_n_outputs (GradusDocModel *self, JsonObject *o);
void         gradus_doc_set_position (GradusDocModel *self, const char *id, double x, double y);
/* Removes the elements of array `key` that name a node of `gone`. */
void         gradus_doc_filter_ref_list (JsonObject *o, const char *key, GHashTable *gone);

/* ---- ui/scan/gradus-scan-scope.c: the open scan body (NULL: none, or the scan is gone) */
JsonObject  *gradus_doc_scope_body (GradusDocModel *self);
/* While a body is open and `target` is the open scan's id: slot k is body
 * output k (the zone's right border). -1: not such a target; else the result. */
gint         gradus_doc_scope_connect_output (GradusDocModel *self, const char *target, gint slot,
                                              const char *source_ref, GError **error);
/* While a body is open: whether an outer node (or another body's) has this id. */
gboolean     gradus_doc_scope_id_taken (GradusDocModel *self, const char *id);
/* The body's lenient build: its nodes plus a variable for each outer node it reads. */
JsonNode    *gradus_doc_scope_build_root (GradusDocModel *self, GrdDocument *outer, JsonArray *kept);
/* The outer document's build while a body is open (free it), else NULL; adds
 * the ids it knows to `known` (references out of the body are fine). */
GrdDocument *gradus_doc_scope_outer_build (GradusDocModel *self, GHashTable *known);

/* ---- gradus-doc-build.c: the engine's lenient build after each change */
void         gradus_doc_model_rebuild (GradusDocModel *self);

/* ---- gradus-doc-undo.c: every edit is begin, change the tree, commit or abort */
void         gradus_doc_command_free (gpointer data);
void         gradus_doc_model_begin_edit (GradusDocModel *self);
void         gradus_doc_model_abort_edit (GradusDocModel *self);
void         gradus_doc_model_commit_edit (GradusDocModel *self, const char *label);
/* A commit of a change of run values only (gradus-doc-keep.c). */
void         gradus_doc_model_commit_run_values (GradusDocModel *self, const char *label);

/* ---- gradus-doc-model.c: signals and notifications */
void         gradus_doc_model_emit_changed (GradusDocModel *self);
void         gradus_doc_model_notify_path (GradusDocModel *self);
void         gradus_doc_model_notify_modified (GradusDocModel *self);
void         gradus_doc_model_emit_renamed (GradusDocModel *self, const char *from, const char *to);

G_END_DECLS
