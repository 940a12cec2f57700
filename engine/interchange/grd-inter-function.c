/* grd-inter-function.c: a file's function as references, for the exporters.
 * The form is FORMAT's: "function" (named main) and/or "functions"; without a
 * name, run.function, else main, else the only one. */
#include "grd-interchange.h"

#include <string.h>

void
grd_inter_function_free (GrdInterFunction *fn)
{
  if (!fn)
    return;
  g_free (fn->name);
  g_free (fn->inputs);
  g_strfreev (fn->input_ids);
  g_free (fn->outputs);
  g_free (fn->updates);
  g_strfreev (fn->update_ids);
  g_free (fn);
}

static JsonObject *
object_member (JsonObject *o, const char *key)
{
  JsonNode *n = o ? json_object_get_member (o, key) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static const char *
string_member (JsonObject *o, const char *key)
{
  JsonNode *n = o ? json_object_get_member (o, key) : NULL;
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
    ? json_node_get_string (n) : NULL;
}

/* The function object called `name` (NULL: the run's). */
static JsonObject *
find_function (JsonObject *root, const char *name, char **found, GError **error)
{
  JsonObject *single = object_member (root, "function");
  JsonObject *many = object_member (root, "functions");
  if (!name)
    name = string_member (object_member (root, "run"), "function");
  if (!name && single)
    name = "main";
  if (!name && many && json_object_get_size (many) == 1) {
    g_autoptr (GList) keys = json_object_get_members (many);
    name = keys->data;
  }
  if (!name) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH,
                 "the file has no function to export (give --function NAME)");
    return NULL;
  }
  JsonObject *f = object_member (many, name);
  if (!f && strcmp (name, "main") == 0)
    f = single;
  if (!f) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "the file has no function named '%s'", name);
    return NULL;
  }
  *found = g_strdup (name);
  return f;
}

static JsonArray *
array_member (JsonObject *o, const char *key, gboolean *bad)
{
  JsonNode *n = json_object_get_member (o, key);
  if (!n)
    return NULL;
  if (!JSON_NODE_HOLDS_ARRAY (n)) {
    *bad = TRUE;
    return NULL;
  }
  return json_node_get_array (n);
}

static gboolean
lookup (GrdGraph *graph, const char *fname, const char *what, guint i, JsonNode *n, GrdRef *out,
        GError **error)
{
  if (!n || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "function '%s': %s %u must be a reference",
                 fname, what, i);
    return FALSE;
  }
  g_autoptr (GError) local = NULL;
  if (!grd_graph_lookup (graph, json_node_get_string (n), out, &local)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "function '%s': %s %u: %s", fname, what, i,
                 local->message);
    return FALSE;
  }
  return TRUE;
}

GrdInterFunction *
grd_inter_function_resolve (GrdDocument *doc, const char *name, GError **error)
{
  JsonNode *root = grd_document_root (doc);
  GrdGraph *graph = grd_document_graph (doc);
  g_autoptr (GrdInterFunction) fn = g_new0 (GrdInterFunction, 1);
  JsonObject *f = find_function (JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root)
                                                               : NULL, name, &fn->name, error);
  if (!f)
    return NULL;
  gboolean bad = FALSE;
  JsonArray *in = array_member (f, "inputs", &bad), *out = array_member (f, "outputs", &bad);
  JsonArray *up = array_member (f, "updates", &bad);
  if (bad) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                 "function '%s': inputs, outputs and updates must be lists", fn->name);
    return NULL;
  }
  fn->n_inputs = in ? json_array_get_length (in) : 0;
  fn->n_outputs = out ? json_array_get_length (out) : 0;
  fn->n_updates = up ? json_array_get_length (up) : 0;
  fn->inputs = g_new0 (GrdRef, fn->n_inputs + 1);
  fn->input_ids = g_new0 (char *, fn->n_inputs + 1);
  fn->outputs = g_new0 (GrdRef, fn->n_outputs + 1);
  fn->updates = g_new0 (GrdUpdate, fn->n_updates + 1);
  fn->update_ids = g_new0 (char *, fn->n_updates + 1);
  for (gint i = 0; i < fn->n_inputs; i++) {
    JsonNode *n = json_array_get_element (in, i);
    if (!lookup (graph, fn->name, "input", i, n, &fn->inputs[i], error))
      return NULL;
    if (grd_graph_node_kind (graph, fn->inputs[i].node) != GRD_NODE_VARIABLE) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH,
                   "function '%s': input '%s' is not a variable node", fn->name,
                   json_node_get_string (n));
      return NULL;
    }
    fn->input_ids[i] = g_strdup (grd_graph_node_id (graph, fn->inputs[i].node));
  }
  for (gint i = 0; i < fn->n_outputs; i++)
    if (!lookup (graph, fn->name, "output", i, json_array_get_element (out, i), &fn->outputs[i],
                 error))
      return NULL;
  for (gint i = 0; i < fn->n_updates; i++) {
    JsonNode *u = json_array_get_element (up, i);
    JsonObject *uo = JSON_NODE_HOLDS_OBJECT (u) ? json_node_get_object (u) : NULL;
    if (!uo || !lookup (graph, fn->name, "update shared", i,
                        json_object_get_member (uo, "shared"), &fn->updates[i].shared, error)
        || !lookup (graph, fn->name, "update value", i, json_object_get_member (uo, "value"),
                    &fn->updates[i].value, error)) {
      if (error && !*error)
        g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                     "function '%s': update %d must be {\"shared\": id, \"value\": reference}",
                     fn->name, i);
      return NULL;
    }
    if (grd_graph_node_kind (graph, fn->updates[i].shared.node) != GRD_NODE_SHARED) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH,
                   "function '%s': update %d: '%s' is not a shared variable", fn->name, i,
                   grd_graph_node_id (graph, fn->updates[i].shared.node));
      return NULL;
    }
    fn->update_ids[i] = g_strdup (grd_graph_node_id (graph, fn->updates[i].shared.node));
  }
  return g_steal_pointer (&fn);
}
