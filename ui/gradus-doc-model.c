/* gradus-doc-model.c: the document the editor edits.
 *
 * The JSON tree is the truth: edits change it in place, so keys the editor
 * does not know survive every edit and every save. The model is split by
 * idea under document/: the node and wire store (gradus-doc-graph.c), the
 * edits (gradus-doc-edit.c), validation (gradus-doc-build.c), undo
 * (gradus-doc-undo.c), the file (gradus-doc-file.c), the clipboard and the
 * function. This file holds the object itself and its read accessors. */
#include "gradus-doc-model.h"
#include "document/gradus-doc-private.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

enum { PROP_0, PROP_PATH, PROP_MODIFIED, PROP_CAN_UNDO, PROP_CAN_REDO, N_PROPS };
enum { CHANGED, RENAMED, N_SIGNALS };
static GParamSpec *props[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (GradusDocModel, gradus_doc_model, G_TYPE_OBJECT)

static void
gradus_doc_model_finalize (GObject *object)
{
  GradusDocModel *self = GRADUS_DOC_MODEL (object);
  g_clear_pointer (&self->root, json_node_unref);
  g_clear_pointer (&self->pending, json_node_unref);
  g_clear_pointer (&self->doc, grd_document_free);
  g_free (self->path);
  g_free (self->scope);
  g_free (self->build_error);
  g_hash_table_unref (self->missing);
  g_ptr_array_unref (self->undo);
  g_ptr_array_unref (self->redo);
  G_OBJECT_CLASS (gradus_doc_model_parent_class)->finalize (object);
}

static void
gradus_doc_model_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  GradusDocModel *self = GRADUS_DOC_MODEL (object);
  switch (id) {
  case PROP_PATH:
    g_value_set_string (value, self->path);
    break;
  case PROP_MODIFIED:
    g_value_set_boolean (value, gradus_doc_model_get_modified (self));
    break;
  case PROP_CAN_UNDO:
    g_value_set_boolean (value, gradus_doc_model_can_undo (self));
    break;
  case PROP_CAN_REDO:
    g_value_set_boolean (value, gradus_doc_model_can_redo (self));
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
  }
}

static void
gradus_doc_model_class_init (GradusDocModelClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  oc->finalize = gradus_doc_model_finalize;
  oc->get_property = gradus_doc_model_get_property;
  props[PROP_PATH] = g_param_spec_string ("path", NULL, NULL, NULL,
                                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_MODIFIED] = g_param_spec_boolean ("modified", NULL, NULL, FALSE,
                                               G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_CAN_UNDO] = g_param_spec_boolean ("can-undo", NULL, NULL, FALSE,
                                               G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_CAN_REDO] = g_param_spec_boolean ("can-redo", NULL, NULL, FALSE,
                                               G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (oc, N_PROPS, props);
  /* Emitted after every change of the tree (edit, undo, redo, load). */
  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                   NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* Emitted when an edit renames a node (old id, new id), before "changed",
   * so that views can follow the node. */
  signals[RENAMED] = g_signal_new ("node-renamed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                   NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
}

static JsonNode *
empty_root (void)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "format", "gradus-graph");
  json_object_set_int_member (o, "version", 1);
  json_object_set_array_member (o, "nodes", json_array_new ());
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (n, o);
  return n;
}

static void
gradus_doc_model_init (GradusDocModel *self)
{
  self->missing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->undo = g_ptr_array_new_with_free_func (gradus_doc_command_free);
  self->redo = g_ptr_array_new_with_free_func (gradus_doc_command_free);
  self->root = empty_root ();
  self->next_serial = 1;
  gradus_doc_model_rebuild (self);
}

GradusDocModel *
gradus_doc_model_new (void)
{
  return g_object_new (GRADUS_TYPE_DOC_MODEL, NULL);
}

void
gradus_doc_model_emit_changed (GradusDocModel *self)
{
  g_signal_emit (self, signals[CHANGED], 0);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MODIFIED]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CAN_UNDO]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CAN_REDO]);
}

/* ------------------------------------------------------------ accessors */

JsonNode *
gradus_doc_model_get_root (GradusDocModel *self)
{
  return self->root;
}

const char *
gradus_doc_model_get_path (GradusDocModel *self)
{
  return self->path;
}

char *
gradus_doc_model_dup_title (GradusDocModel *self)
{
  const char *name = gradus_json_get_string (gradus_doc_root (self), "name");
  if (name && *name)
    return g_strdup (name);
  if (self->path)
    return g_path_get_basename (self->path);
  return g_strdup (_("Untitled"));
}

GrdDocument *
gradus_doc_model_get_document (GradusDocModel *self)
{
  return self->doc;
}

const char *
gradus_doc_model_get_build_error (GradusDocModel *self)
{
  return self->build_error;
}

guint
gradus_doc_model_n_nodes (GradusDocModel *self)
{
  return json_array_get_length (gradus_doc_nodes (self));
}

JsonObject *
gradus_doc_model_node_at (GradusDocModel *self, guint i)
{
  JsonArray *nodes = gradus_doc_nodes (self);
  if (i >= json_array_get_length (nodes))
    return NULL;
  JsonNode *n = json_array_get_element (nodes, i);
  return JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

JsonObject *
gradus_doc_model_get_node (GradusDocModel *self, const char *id)
{
  gint i = id ? gradus_doc_find_index (gradus_doc_nodes (self), id) : -1;
  return i < 0 ? NULL : gradus_doc_model_node_at (self, i);
}

const char *
gradus_doc_model_node_error (GradusDocModel *self, const char *id)
{
  const char *m = g_hash_table_lookup (self->missing, id);
  if (m)
    return m;
  return self->doc ? grd_document_node_error (self->doc, id) : NULL;
}

gint
gradus_doc_model_node_n_slots (GradusDocModel *self, const char *id)
{
  JsonObject *o = gradus_doc_model_get_node (self, id);
  return o ? gradus_doc_n_slots (o) : 0;
}

const char *
gradus_doc_model_node_slot_ref (GradusDocModel *self, const char *id, gint slot)
{
  JsonObject *o = gradus_doc_model_get_node (self, id);
  return o ? gradus_json_ref_string (gradus_doc_slot_node (o, slot)) : NULL;
}

GPtrArray *
gradus_doc_model_node_deps (GradusDocModel *self, const char *id)
{
  JsonObject *o = gradus_doc_model_get_node (self, id);
  return o ? gradus_doc_deps_of (o) : g_ptr_array_new_with_free_func (g_free);
}

gboolean
gradus_doc_model_get_position (GradusDocModel *self, const char *id, double *x, double *y)
{
  JsonObject *un = gradus_doc_ui_nodes (self, FALSE);
  JsonObject *p = un ? gradus_json_object_member (un, id, FALSE) : NULL;
  if (!p || !json_object_has_member (p, "x") || !json_object_has_member (p, "y"))
    return FALSE;
  *x = json_object_get_double_member (p, "x");
  *y = json_object_get_double_member (p, "y");
  return TRUE;
}

gboolean
gradus_doc_model_get_view (GradusDocModel *self, double *x, double *y, double *zoom)
{
  JsonObject *ui = gradus_json_object_member (gradus_doc_root (self), "ui", FALSE);
  JsonObject *v = ui ? gradus_json_object_member (ui, "view", FALSE) : NULL;
  if (!v)
    return FALSE;
  *x = json_object_get_double_member_with_default (v, "x", 0);
  *y = json_object_get_double_member_with_default (v, "y", 0);
  *zoom = json_object_get_double_member_with_default (v, "zoom", 1);
  return TRUE;
}

void
gradus_doc_model_set_view (GradusDocModel *self, double x, double y, double zoom)
{
  JsonObject *v = gradus_json_object_member (gradus_json_object_member (gradus_doc_root (self), "ui", TRUE), "view", TRUE);
  json_object_set_double_member (v, "x", round (x));
  json_object_set_double_member (v, "y", round (y));
  json_object_set_double_member (v, "zoom", round (zoom * 1000) / 1000);
}

/* ------------------------------------------------------------ notifications */

void
gradus_doc_model_notify_path (GradusDocModel *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_PATH]);
}

void
gradus_doc_model_notify_modified (GradusDocModel *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MODIFIED]);
}

void
gradus_doc_model_emit_renamed (GradusDocModel *self, const char *from, const char *to)
{
  g_signal_emit (self, signals[RENAMED], 0, from, to);
}
