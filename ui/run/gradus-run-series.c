/* gradus-run-series.c: a function of the file read and compiled for the run
 * panel, and the series it shows (see gradus-run-series.h). */
#include "gradus-run-series.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

GradusRunSeries *
gradus_run_series_new (const char *name, const char *ref, const char *label, gboolean scalar)
{
  GradusRunSeries *s = g_new0 (GradusRunSeries, 1);
  s->name = g_strdup (name);
  s->ref = g_strdup (ref);
  s->label = g_strdup (label);
  s->scalar = scalar;
  s->values = g_array_new (FALSE, FALSE, sizeof (double));
  return s;
}

void
gradus_run_series_free (gpointer data)
{
  GradusRunSeries *s = data;
  if (!s)
    return;
  g_free (s->name);
  g_free (s->ref);
  g_free (s->label);
  g_array_unref (s->values);
  if (s->latest)
    grd_tensor_unref (s->latest);
  g_free (s);
}

static JsonArray *
member_array (JsonObject *obj, const char *name)
{
  JsonNode *n = obj ? json_object_get_member (obj, name) : NULL;
  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static const char *
member_string (JsonObject *obj, const char *name)
{
  JsonNode *n = obj ? json_object_get_member (obj, name) : NULL;
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
         ? json_node_get_string (n) : NULL;
}

static const char *
element_string (JsonArray *array, guint i)
{
  JsonNode *n = json_array_get_element (array, i);
  return JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
         ? json_node_get_string (n) : NULL;
}

/* The node object of `id` in the file's nodes, or NULL. */
static JsonObject *
node_object (JsonObject *top, const char *id)
{
  JsonArray *nodes = member_array (top, "nodes");
  for (guint i = 0; nodes && id && i < json_array_get_length (nodes); i++) {
    JsonNode *n = json_array_get_element (nodes, i);
    JsonObject *o = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
    if (g_strcmp0 (member_string (o, "id"), id) == 0)
      return o;
  }
  return NULL;
}

char *
gradus_run_ref_label (JsonObject *top, const char *ref)
{
  if (!ref)
    return g_strdup ("?");
  const char *colon = strrchr (ref, ':');
  g_autofree char *id = colon ? g_strndup (ref, colon - ref) : g_strdup (ref);
  gint k = colon ? atoi (colon + 1) : 0;
  JsonObject *o = node_object (top, id);
  const char *name = member_string (o, "name");
  if (!name || !*name)
    name = id;
  JsonArray *wrt = member_array (o, "wrt");
  if (g_strcmp0 (member_string (o, "kind"), "grad") == 0 && wrt && json_array_get_length (wrt) > 1
      && k >= 0 && (guint) k < json_array_get_length (wrt)) {
    const char *v = element_string (wrt, k);
    JsonObject *vo = node_object (top, v);
    const char *vname = member_string (vo, "name");
    return g_strdup_printf ("%s: %s", name, vname && *vname ? vname : v ? v : "?");
  }
  if (k > 0 && g_strcmp0 (member_string (o, "kind"), "grad") != 0)
    return g_strdup_printf (_("%s (output %d)"), name, k);
  return g_strdup (name);
}

static gboolean
lookup (GrdGraph *graph, const char *fn_name, const char *what, const char *reference, GrdRef *out,
        GError **error)
{
  /* "function: ..." for the file's one function, as `gradus run` says it. */
  g_autofree char *where = g_strcmp0 (fn_name, "main") == 0
                           ? g_strdup ("function") : g_strdup_printf (_("function %s"), fn_name);
  if (!reference) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("%s: %s must be a node reference"),
                 where, what);
    return FALSE;
  }
  if (!grd_graph_lookup (graph, reference, out, error)) {
    g_prefix_error (error, "%s: %s '%s': ", where, what, reference);
    return FALSE;
  }
  return TRUE;
}

void
gradus_run_compiled_free (GradusRunCompiled *c)
{
  if (!c)
    return;
  g_clear_pointer (&c->fn, grd_function_free);
  g_array_unref (c->inputs);
  g_ptr_array_unref (c->input_ids);
  g_array_unref (c->roots);
  g_ptr_array_unref (c->outputs);
  g_free (c->warning);
  g_free (c);
}

GradusRunCompiled *
gradus_run_compile (GrdDocument *doc, const char *name, GrdBackend backend, GError **error)
{
  GrdGraph *graph = grd_document_graph (doc);
  JsonObject *top = json_node_get_object (grd_document_root (doc));
  g_autofree char *main_name = NULL;
  JsonNode *plain = json_object_get_member (top, "function");
  JsonObject *fn = NULL;
  if (!name && plain && JSON_NODE_HOLDS_OBJECT (plain)) {
    fn = json_node_get_object (plain);
    name = "main";
  } else if (!name && !json_object_get_member (top, "functions")) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("the file has no function object"));
    return NULL;
  } else {
    /* several functions: run.function names the one Run calls */
    if (!name) {
      main_name = grd_document_run_function (doc, error);
      if (!main_name)
        return NULL;
      name = main_name;
    }
    fn = grd_document_function_object (doc, name, error);
    if (!fn)
      return NULL;
  }
  g_autoptr (GradusRunCompiled) c = g_new0 (GradusRunCompiled, 1);
  c->inputs = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  c->input_ids = g_ptr_array_new_with_free_func (g_free);
  c->roots = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  c->outputs = g_ptr_array_new_with_free_func (gradus_run_series_free);

  JsonArray *inputs = member_array (fn, "inputs");
  JsonArray *outputs = member_array (fn, "outputs");
  JsonArray *updates = member_array (fn, "updates");
  g_autoptr (GArray) out_refs = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  g_autoptr (GArray) up = g_array_new (FALSE, FALSE, sizeof (GrdUpdate));
  for (guint i = 0; inputs && i < json_array_get_length (inputs); i++) {
    GrdRef r;
    if (!lookup (graph, name, _("input"), element_string (inputs, i), &r, error))
      return NULL;
    g_array_append_val (c->inputs, r);
    g_ptr_array_add (c->input_ids, g_strdup (element_string (inputs, i)));
  }
  for (guint i = 0; outputs && i < json_array_get_length (outputs); i++) {
    GrdRef r;
    if (!lookup (graph, name, _("output"), element_string (outputs, i), &r, error))
      return NULL;
    g_array_append_val (out_refs, r);
    g_array_append_val (c->roots, r);
  }
  for (guint i = 0; updates && i < json_array_get_length (updates); i++) {
    JsonNode *n = json_array_get_element (updates, i);
    JsonObject *u = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
    GrdUpdate update;
    if (!lookup (graph, name, _("update of"), member_string (u, "shared"), &update.shared, error)
        || !lookup (graph, name, _("update value"), member_string (u, "value"), &update.value,
                    error))
      return NULL;
    g_array_append_val (up, update);
    g_array_append_val (c->roots, update.value);
  }

  c->fn = grd_function_new_on (graph, (GrdRef *) c->inputs->data, c->inputs->len,
                               (GrdRef *) out_refs->data, out_refs->len,
                               (GrdUpdate *) up->data, up->len, backend, &c->warning, error);
  if (!c->fn)
    return NULL;
  grd_function_set_profiling (c->fn, TRUE);

  for (guint i = 0; i < out_refs->len; i++) {
    GrdRef r = g_array_index (out_refs, GrdRef, i);
    const GrdType *type = grd_graph_ref_type (graph, r);
    g_autofree char *series_name = g_strdup_printf ("out:%u", i);
    const char *ref = element_string (outputs, i);
    g_autofree char *label = gradus_run_ref_label (top, ref);
    g_ptr_array_add (c->outputs,
                     gradus_run_series_new (series_name, ref, label, type && type->rank == 0));
  }
  return g_steal_pointer (&c);
}

void
gradus_run_collect_shared (GrdDocument *doc, GArray *shared, GPtrArray *series)
{
  GrdGraph *graph = grd_document_graph (doc);
  JsonObject *top = json_node_get_object (grd_document_root (doc));
  JsonArray *nodes = member_array (top, "nodes");
  for (guint i = 0; nodes && i < json_array_get_length (nodes); i++) {
    JsonNode *n = json_array_get_element (nodes, i);
    JsonObject *obj = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
    const char *id = member_string (obj, "id");
    if (!id || g_strcmp0 (member_string (obj, "kind"), "shared") != 0)
      continue;
    GrdRef r = { grd_graph_find (graph, id), 0 };
    if (r.node < 0)
      continue;
    GrdTensor *value = grd_graph_get_value (graph, r);
    g_array_append_val (shared, r);
    g_autofree char *label = gradus_run_ref_label (top, id);
    GradusRunSeries *s = gradus_run_series_new (id, id, label, value && value->rank == 0);
    if (value)
      s->latest = grd_tensor_copy (value);
    g_ptr_array_add (series, s);
  }
}
