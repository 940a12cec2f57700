/* gradus-doc-file.c: the document and its file: load, serialise, save. */
#include "gradus-doc-private.h"

#include <glib/gi18n.h>
#include <string.h>

static gboolean
check_root (JsonNode *root, const char *path, GError **error)
{
  const char *name = path ? path : "graph";
  if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, _("%s: not a graph file (expected a JSON object)"), name);
    return FALSE;
  }
  JsonObject *o = json_node_get_object (root);
  const char *format = gradus_json_get_string (o, "format");
  if (!format || !g_str_equal (format, "gradus-graph")) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, _("%s: \"format\" must be \"gradus-graph\""), name);
    return FALSE;
  }
  gint64 version = json_object_get_int_member_with_default (o, "version", 0);
  if (version < 1 || version > 1) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                 _("%s: graph file version %lld is not supported (this Gradus reads version 1)"),
                 name, (long long) version);
    return FALSE;
  }
  return TRUE;
}

gboolean
gradus_doc_model_load_data (GradusDocModel *self, const char *data, gssize length,
                            const char *path, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;
  if (!json_parser_load_from_data (parser, data, length, &local)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "%s: %s", path ? path : "graph", local->message);
    return FALSE;
  }
  JsonNode *root = json_parser_get_root (parser);
  if (!check_root (root, path, error))
    return FALSE;
  json_node_unref (self->root);
  self->root = gradus_json_deep_copy (root);
  g_free (self->path);
  self->path = g_strdup (path);
  g_ptr_array_set_size (self->undo, 0);
  g_ptr_array_set_size (self->redo, 0);
  self->saved_serial = 0;
  self->last_run_values = FALSE;
  g_clear_pointer (&self->scope, g_free);
  gradus_doc_model_rebuild (self);
  gradus_doc_model_notify_path (self);
  gradus_doc_model_emit_changed (self);
  return TRUE;
}

gboolean
gradus_doc_model_load_file (GradusDocModel *self, const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;
  if (!g_file_get_contents (path, &data, &len, &local)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_IO, "%s", local->message);
    return FALSE;
  }
  return gradus_doc_model_load_data (self, data, len, path, error);
}

static char *
tree_data (JsonNode *root, gsize *length)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_indent (gen, 2);
  json_generator_set_root (gen, root);
  g_autofree char *text = json_generator_to_data (gen, NULL);
  char *out = g_strconcat (text, "\n", NULL);
  if (length)
    *length = strlen (out);
  return out;
}

char *
gradus_doc_model_to_data (GradusDocModel *self, gsize *length)
{
  return tree_data (self->root, length);
}

/* Every tree of the undo history names its data as the file now does: an
 * undo after Save As must not bring back paths of the old folder. */
static void
rebase_history (GPtrArray *commands, const char *old_dir, const char *new_dir)
{
  for (guint i = 0; i < commands->len; i++) {
    GradusDocCommand *c = g_ptr_array_index (commands, i);
    g_strfreev (grd_data_paths_rebase (c->before, old_dir, new_dir));
    g_strfreev (grd_data_paths_rebase (c->after, old_dir, new_dir));
  }
}

gboolean
gradus_doc_model_save (GradusDocModel *self, const char *path, GError **error)
{
  return gradus_doc_model_save_full (self, path, NULL, error);
}

gboolean
gradus_doc_model_save_full (GradusDocModel *self, const char *path, char ***outside,
                            GError **error)
{
  g_return_val_if_fail (GRADUS_IS_DOC_MODEL (self) && path != NULL, FALSE);
  /* an untitled document reads its data from the current folder (as the
   * engine does): the first save moves it too */
  g_autofree char *old_dir = self->path ? g_path_get_dirname (self->path) : g_strdup (".");
  g_autofree char *new_dir = g_path_get_dirname (path);
  gboolean moved = !grd_data_paths_same_folder (old_dir, new_dir);
  g_autoptr (JsonNode) moved_root = moved ? gradus_json_deep_copy (self->root) : NULL;
  g_auto (GStrv) out = moved ? grd_data_paths_rebase (moved_root, old_dir, new_dir) : NULL;
  gsize len;
  g_autofree char *data = tree_data (moved ? moved_root : self->root, &len);
  g_autoptr (GError) local = NULL;
  /* CONSISTENT: a temporary file renamed over the old one, so a crash leaves
   * either the old file or the new one, never half of one. */
  if (!g_file_set_contents_full (path, data, len, G_FILE_SET_CONTENTS_CONSISTENT, 0644, &local)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_IO, "%s", local->message);
    return FALSE;
  }
  if (moved) {
    json_node_unref (self->root);
    self->root = g_steal_pointer (&moved_root);
    rebase_history (self->undo, old_dir, new_dir);
    rebase_history (self->redo, old_dir, new_dir);
  }
  if (g_strcmp0 (path, self->path) != 0) {
    g_free (self->path);
    self->path = g_strdup (path);
    gradus_doc_model_notify_path (self);
  }
  /* the editor's build reads constants' data from the new folder now */
  if (moved)
    gradus_doc_model_rebuild (self);
  gradus_doc_model_set_modified (self, FALSE);
  if (outside)
    *outside = g_steal_pointer (&out);
  return TRUE;
}
