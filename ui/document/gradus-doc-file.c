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

char *
gradus_doc_model_to_data (GradusDocModel *self, gsize *length)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_indent (gen, 2);
  json_generator_set_root (gen, self->root);
  g_autofree char *text = json_generator_to_data (gen, NULL);
  char *out = g_strconcat (text, "\n", NULL);
  if (length)
    *length = strlen (out);
  return out;
}

gboolean
gradus_doc_model_save (GradusDocModel *self, const char *path, GError **error)
{
  gsize len;
  g_autofree char *data = gradus_doc_model_to_data (self, &len);
  g_autoptr (GError) local = NULL;
  /* CONSISTENT: a temporary file renamed over the old one, so a crash leaves
   * either the old file or the new one, never half of one. */
  if (!g_file_set_contents_full (path, data, len, G_FILE_SET_CONTENTS_CONSISTENT, 0644, &local)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_IO, "%s", local->message);
    return FALSE;
  }
  if (g_strcmp0 (path, self->path) != 0) {
    g_free (self->path);
    self->path = g_strdup (path);
    gradus_doc_model_notify_path (self);
  }
  gradus_doc_model_set_modified (self, FALSE);
  return TRUE;
}
