/* cli-common.c: option parsing, error lines and compiling a file's function,
 * shared by the subcommands. */
#include "commands.h"

#include <stdarg.h>
#include <string.h>

void
cli_error (const char *command, const char *file, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);

  /* One line, whatever the engine's message holds. */
  g_strdelimit (message, "\r\n", ' ');
  if (file && g_str_has_prefix (message, file) && message[strlen (file)] == ':')
    g_printerr ("%s\n", message);
  else if (file)
    g_printerr ("%s: %s\n", file, message);
  else
    g_printerr ("gradus%s%s: %s\n", command ? " " : "", command ? command : "", message);
}

gboolean
cli_flag (char **argv, int i, const char *name)
{
  return strcmp (argv[i], name) == 0;
}

gboolean
cli_option (int argc, char **argv, int *i, const char *name, const char **value, GError **error)
{
  const char *arg = argv[*i];
  gsize len = strlen (name);
  if (strncmp (arg, name, len) != 0)
    return FALSE;
  if (arg[len] == '=') {
    *value = arg + len + 1;
    return TRUE;
  }
  if (arg[len] != '\0')
    return FALSE;
  if (*i + 1 >= argc) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, _("option %s needs a value"), name);
    *value = NULL;
    return TRUE;
  }
  *i += 1;
  *value = argv[*i];
  return TRUE;
}

gboolean
cli_parse_count (const char *option, const char *text, gint min, gint *out, GError **error)
{
  guint64 v;
  if (!g_ascii_string_to_unsigned (text, 10, min, G_MAXINT, &v, NULL)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                 _("%s wants a whole number from %d up, not '%s'"), option, min, text);
    return FALSE;
  }
  *out = (gint) v;
  return TRUE;
}

/* A string member, or NULL (never a critical on other JSON types). */
static const char *
member_string (JsonObject *obj, const char *key)
{
  JsonNode *node = obj ? json_object_get_member (obj, key) : NULL;
  if (!node || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static JsonObject *
function_object (GrdDocument *doc, GError **error)
{
  JsonNode *root = grd_document_root (doc);
  JsonObject *top = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  JsonNode *fn = top ? json_object_get_member (top, "function") : NULL;
  if (!fn && top && json_object_has_member (top, "functions"))
    return grd_document_function_object (doc, NULL, error);  /* run.function */
  if (!fn || !JSON_NODE_HOLDS_OBJECT (fn)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("the file has no \"function\" object"));
    return NULL;
  }
  return json_node_get_object (fn);
}

/* Reads an optional array of references under `key` into refs. */
static gboolean
read_refs (GrdGraph *graph, JsonObject *fn, const char *key, GArray *refs, GError **error)
{
  JsonNode *node = json_object_get_member (fn, key);
  if (!node)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, _("function: \"%s\" must be an array"), key);
    return FALSE;
  }
  JsonArray *array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++) {
    JsonNode *item = json_array_get_element (array, i);
    const char *text = JSON_NODE_HOLDS_VALUE (item)
                       && json_node_get_value_type (item) == G_TYPE_STRING
                       ? json_node_get_string (item) : NULL;
    GrdRef ref;
    if (!text) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                   _("function: %s[%u] must be a node reference (a string)"), key, i);
      return FALSE;
    }
    if (!grd_graph_lookup (graph, text, &ref, error))
      return FALSE;
    g_array_append_val (refs, ref);
  }
  return TRUE;
}

static gboolean
read_updates (GrdGraph *graph, JsonObject *fn, GArray *updates, GError **error)
{
  JsonNode *node = json_object_get_member (fn, "updates");
  if (!node)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, _("function: \"updates\" must be an array"));
    return FALSE;
  }
  JsonArray *array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++) {
    JsonNode *item = json_array_get_element (array, i);
    JsonObject *obj = JSON_NODE_HOLDS_OBJECT (item) ? json_node_get_object (item) : NULL;
    const char *shared = member_string (obj, "shared");
    const char *value = member_string (obj, "value");
    GrdUpdate u;
    if (!shared || !value) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                   _("function: updates[%u] must be {\"shared\": ID, \"value\": REF}"), i);
      return FALSE;
    }
    if (!grd_graph_lookup (graph, shared, &u.shared, error)
        || !grd_graph_lookup (graph, value, &u.value, error))
      return FALSE;
    g_array_append_val (updates, u);
  }
  return TRUE;
}

gboolean
cli_limits_option (int argc, char **argv, int *i, GPtrArray *allowed, GError **error)
{
  const char *value = NULL;
  if (cli_option (argc, argv, i, "--memory-limit", &value, error)) {
    guint64 bytes;
    if (value && grd_parse_size (value, &bytes, error))
      g_setenv ("GRADUS_MEMORY_LIMIT", value, TRUE);   /* options are read before any thread */
    return TRUE;
  }
  if (cli_option (argc, argv, i, "--allow-data", &value, error)) {
    if (value)
      g_ptr_array_add (allowed, (gpointer) value);
    return TRUE;
  }
  return FALSE;
}

GrdDocument *
cli_load (const char *file, GPtrArray *allowed, GError **error)
{
  GrdLimits limits;
  grd_limits_init (&limits);
  g_autoptr (GPtrArray) paths = g_ptr_array_copy (allowed, NULL, NULL);
  g_ptr_array_add (paths, NULL);
  limits.allowed_data = (const char *const *) paths->pdata;
  return grd_document_load_with_limits (file, &limits, error);
}

GrdFunction *
cli_compile (GrdDocument *doc, GrdBackend backend, char **warning, GError **error)
{
  return cli_compile_named (doc, NULL, backend, warning, error);
}

GrdFunction *
cli_compile_named (GrdDocument *doc, const char *name, GrdBackend backend, char **warning,
                   GError **error)
{
  /* grd_document_function() compiles for the CPU; the file's function is
   * read here so that any back end can be asked for. */
  GrdGraph *graph = grd_document_graph (doc);
  JsonObject *fn = name ? grd_document_function_object (doc, name, error)
                        : function_object (doc, error);
  if (!fn)
    return NULL;
  g_autoptr (GArray) inputs = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  g_autoptr (GArray) outputs = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  g_autoptr (GArray) updates = g_array_new (FALSE, FALSE, sizeof (GrdUpdate));
  if (!read_refs (graph, fn, "inputs", inputs, error)
      || !read_refs (graph, fn, "outputs", outputs, error)
      || !read_updates (graph, fn, updates, error))
    return NULL;
  return grd_function_new_on (graph, (GrdRef *) inputs->data, inputs->len,
                              (GrdRef *) outputs->data, outputs->len,
                              (GrdUpdate *) updates->data, updates->len, backend, warning, error);
}

GPtrArray *
cli_file_node_ids (GrdDocument *doc, const char *kind)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  JsonNode *root = grd_document_root (doc);
  JsonObject *top = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  JsonNode *nodes = top ? json_object_get_member (top, "nodes") : NULL;
  if (!nodes || !JSON_NODE_HOLDS_ARRAY (nodes))
    return ids;
  JsonArray *array = json_node_get_array (nodes);
  for (guint i = 0; i < json_array_get_length (array); i++) {
    JsonNode *item = json_array_get_element (array, i);
    if (!JSON_NODE_HOLDS_OBJECT (item))
      continue;
    JsonObject *obj = json_node_get_object (item);
    const char *id = member_string (obj, "id");
    const char *k = member_string (obj, "kind");
    if (id && (!kind || g_strcmp0 (k, kind) == 0))
      g_ptr_array_add (ids, g_strdup (id));
  }
  return ids;
}

void
cli_append_json_string (GString *out, const char *text)
{
  g_string_append_c (out, '"');
  for (const char *p = text; *p; p++) {
    guchar c = (guchar) *p;
    if (c == '"' || c == '\\')
      g_string_append_printf (out, "\\%c", c);
    else if (c < 0x20)
      g_string_append_printf (out, "\\u%04x", c);
    else
      g_string_append_c (out, c);
  }
  g_string_append_c (out, '"');
}
