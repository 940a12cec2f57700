/* grd-document-functions.c: several functions on the same shared variables:
 * "function" (named main) and "functions", run.function and run.also
 * (docs/format.md). Every function of a document is compiled from the one
 * graph, so they read and update the same shared variables. */
#include "../grd-internal.h"

#include <string.h>

static const char *
label (GrdDocument *doc)
{
  return grd_document_path (doc) ? grd_document_path (doc) : "<data>";
}

static JsonObject *
member_object (JsonObject *o, const char *key)
{
  JsonNode *n = o ? json_object_get_member (o, key) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static JsonObject *
root (GrdDocument *doc)
{
  return json_node_get_object (grd_document_root (doc));
}

char **
grd_document_function_names (GrdDocument *doc)
{
  GPtrArray *names = g_ptr_array_new ();
  if (member_object (root (doc), "function"))
    g_ptr_array_add (names, g_strdup ("main"));
  JsonObject *fs = member_object (root (doc), "functions");
  if (fs) {
    g_autoptr (GList) members = json_object_get_members (fs);
    for (GList *l = members; l; l = l->next)
      if (!(g_str_equal (l->data, "main") && member_object (root (doc), "function")))
        g_ptr_array_add (names, g_strdup (l->data));
  }
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (names, FALSE);
}

char *
grd_document_run_function (GrdDocument *doc, GError **error)
{
  JsonObject *run = member_object (root (doc), "run");
  JsonNode *fn = run ? json_object_get_member (run, "function") : NULL;
  if (fn) {
    if (!JSON_NODE_HOLDS_VALUE (fn) || json_node_get_value_type (fn) != G_TYPE_STRING) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "%s: run: \"function\" must be a function "
                   "name", label (doc));
      return NULL;
    }
    return g_strdup (json_node_get_string (fn));
  }
  g_auto (GStrv) names = grd_document_function_names (doc);
  if (g_strv_contains ((const char *const *) names, "main"))
    return g_strdup ("main");
  if (names[0] && !names[1])
    return g_strdup (names[0]);
  if (!names[0])
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "%s: the file has no \"function\" object",
                 label (doc));
  else
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "%s: the file has %u functions and none is "
                 "\"main\": run.function must name the one to call", label (doc),
                 g_strv_length (names));
  return NULL;
}

JsonObject *
grd_document_function_object (GrdDocument *doc, const char *name, GError **error)
{
  g_autofree char *chosen = name ? g_strdup (name) : grd_document_run_function (doc, error);
  if (!chosen)
    return NULL;
  JsonObject *f = NULL;
  if (g_str_equal (chosen, "main"))
    f = member_object (root (doc), "function");
  if (!f)
    f = member_object (member_object (root (doc), "functions"), chosen);
  if (!f) {
    g_auto (GStrv) names = grd_document_function_names (doc);
    g_autofree char *list = g_strjoinv (", ", names);
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "%s: no function named '%s' (the file has: %s)",
                 label (doc), chosen, names[0] ? list : "none");
  }
  return f;
}

GrdFunction *
grd_document_function_named (GrdDocument *doc, const char *name, GError **error)
{
  JsonObject *f = grd_document_function_object (doc, name, error);
  return f ? grd_document_compile_object (doc, f, error) : NULL;
}

GPtrArray *
grd_document_feeds_named (GrdDocument *doc, const char *name, JsonNode *feeds,
                          GHashTable *overrides, GError **error)
{
  JsonObject *f = grd_document_function_object (doc, name, error);
  if (!f)
    return NULL;
  JsonObject *fo = NULL;
  if (feeds && JSON_NODE_HOLDS_OBJECT (feeds))
    fo = json_node_get_object (feeds);
  else if (!feeds)
    fo = member_object (member_object (root (doc), "run"), "feeds");
  return grd_document_feeds_object (doc, f, fo, overrides, error);
}

static void
also_free (gpointer p)
{
  GrdRunAlso *a = p;
  g_free (a->function);
  if (a->feeds)
    json_node_unref (a->feeds);
  g_free (a);
}

GPtrArray *
grd_document_run_also (GrdDocument *doc, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (also_free);
  JsonObject *run = member_object (root (doc), "run");
  JsonNode *an = run ? json_object_get_member (run, "also") : NULL;
  if (!an)
    return g_steal_pointer (&out);
  if (!JSON_NODE_HOLDS_ARRAY (an)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "%s: run: \"also\" must be a list of "
                 "{\"function\", \"every\", \"feeds\"}", label (doc));
    return NULL;
  }
  JsonArray *a = json_node_get_array (an);
  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonNode *e = json_array_get_element (a, i);
    JsonObject *o = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
    JsonNode *fn = o ? json_object_get_member (o, "function") : NULL;
    JsonNode *ev = o ? json_object_get_member (o, "every") : NULL;
    JsonNode *fe = o ? json_object_get_member (o, "feeds") : NULL;
    gboolean ok = fn && JSON_NODE_HOLDS_VALUE (fn) && json_node_get_value_type (fn) == G_TYPE_STRING
                  && (!ev || (JSON_NODE_HOLDS_VALUE (ev) && json_node_get_value_type (ev) == G_TYPE_INT64
                              && json_node_get_int (ev) >= 1 && json_node_get_int (ev) <= G_MAXINT))
                  && (!fe || JSON_NODE_HOLDS_OBJECT (fe));
    if (!ok) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "%s: run: also %u must be {\"function\": "
                   "name, \"every\": a positive integer, \"feeds\": {...}}", label (doc), i);
      return NULL;
    }
    if (!grd_document_function_object (doc, json_node_get_string (fn), error)) {
      g_prefix_error (error, "run: also %u: ", i);
      return NULL;
    }
    GrdRunAlso *r = g_new0 (GrdRunAlso, 1);
    r->function = g_strdup (json_node_get_string (fn));
    r->every = ev ? (gint) json_node_get_int (ev) : 1;
    r->feeds = fe ? json_node_copy (fe) : NULL;
    g_ptr_array_add (out, r);
  }
  return g_steal_pointer (&out);
}
