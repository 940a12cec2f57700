/* gradus-teach-trace.c: one call of the function, node by node, with the
 * engine's numbers (see the header). */
#include "gradus-teach-trace.h"
#include "gradus-teach-rules.h"
#include "gradus-run-worker.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

struct _GradusTeachTrace {
  char       *cost;
  char       *source;
  JsonNode   *root;      /* the document as it was traced */
  GHashTable *values;    /* ref -> GrdTensor*, every value of the call */
  GHashTable *grads;     /* id -> GrdTensor*, d cost / d id on the way */
  GHashTable *users;     /* id -> number of uses by ops on the way */
  GHashTable *wrt_slot;  /* id -> "g:k": the output of the document's grad node */
  GHashTable *updates;   /* value ref -> shared id */
  GPtrArray  *steps;
};

/* ------------------------------------------------------------ numbers */

/* Six digits for a scalar, three for the elements of a tensor (a row of
 * them must still fit on a wire's label). */
static void
append_number (GString *out, double v, gboolean element)
{
  if (v == 0)
    v = 0;   /* no "-0" on the board */
  g_string_append_printf (out, element ? "%.3g" : "%.6g", v);
}

char *
gradus_teach_format (const GrdTensor *t)
{
  if (!t)
    return g_strdup ("?");
  GString *out = g_string_new (NULL);
  if (t->rank == 0)
    append_number (out, grd_tensor_get (t, 0), FALSE);
  else if (t->size <= GRADUS_TEACH_SMALL && t->rank <= 2) {
    gint64 rows = t->rank == 2 ? t->shape[0] : 1, cols = t->shape[t->rank - 1];
    if (t->rank == 2)
      g_string_append_c (out, '[');
    for (gint64 r = 0; r < rows; r++) {
      g_string_append (out, r ? ", [" : "[");
      for (gint64 c = 0; c < cols; c++) {
        if (c)
          g_string_append (out, ", ");
        append_number (out, grd_tensor_get (t, r * cols + c), TRUE);
      }
      g_string_append_c (out, ']');
    }
    if (t->rank == 2)
      g_string_append_c (out, ']');
  } else {
    g_autofree char *d = grd_tensor_describe (t);
    g_string_append (out, d);
  }
  return g_string_free (out, FALSE);
}

/* A number inside a product: "(-6)", so that "1 × (-6)" reads as meant. */
static char *
format_operand (const GrdTensor *t)
{
  char *s = gradus_teach_format (t);
  if (s[0] == '-') {
    char *p = g_strdup_printf ("(%s)", s);
    g_free (s);
    return p;
  }
  return s;
}

/* ------------------------------------------------------------ steps */

static void
step_free (GradusTeachStep *s)
{
  g_free (s->node);
  g_free (s->heading);
  g_free (s->text);
  g_clear_pointer (&s->value, grd_tensor_unref);
  g_clear_pointer (&s->sent_to, g_ptr_array_unref);
  g_clear_pointer (&s->sent, g_ptr_array_unref);
  g_clear_pointer (&s->local, g_ptr_array_unref);
  g_free (s);
}

void
gradus_teach_trace_free (GradusTeachTrace *t)
{
  if (!t)
    return;
  g_free (t->cost);
  g_free (t->source);
  g_clear_pointer (&t->root, json_node_unref);
  g_clear_pointer (&t->values, g_hash_table_unref);
  g_clear_pointer (&t->grads, g_hash_table_unref);
  g_clear_pointer (&t->users, g_hash_table_unref);
  g_clear_pointer (&t->wrt_slot, g_hash_table_unref);
  g_clear_pointer (&t->updates, g_hash_table_unref);
  g_clear_pointer (&t->steps, g_ptr_array_unref);
  g_free (t);
}

const char *
gradus_teach_trace_cost (GradusTeachTrace *t)
{
  return t->cost;
}

const char *
gradus_teach_trace_source (GradusTeachTrace *t)
{
  return t->source;
}

guint
gradus_teach_trace_n_steps (GradusTeachTrace *t)
{
  return t->steps->len;
}

GrdTensor *
gradus_teach_trace_value (GradusTeachTrace *t, const char *ref)
{
  return ref ? g_hash_table_lookup (t->values, ref) : NULL;
}

GrdTensor *
gradus_teach_trace_grad (GradusTeachTrace *t, const char *id)
{
  return id ? g_hash_table_lookup (t->grads, id) : NULL;
}

/* ------------------------------------------------------------ the document */

static JsonObject *
node_json (JsonNode *root, const char *id)
{
  JsonArray *nodes = json_object_get_array_member (json_node_get_object (root), "nodes");
  for (guint i = 0; nodes && i < json_array_get_length (nodes); i++) {
    JsonObject *o = json_array_get_object_element (nodes, i);
    if (o && g_strcmp0 (json_object_get_string_member_with_default (o, "id", NULL), id) == 0)
      return o;
  }
  return NULL;
}

/* The node's input references as written in the file ("a", "g:0"). */
static GPtrArray *
input_refs (JsonObject *o)
{
  GPtrArray *refs = g_ptr_array_new_with_free_func (g_free);
  JsonArray *in = o && json_object_has_member (o, "inputs")
                  && JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "inputs"))
                  ? json_object_get_array_member (o, "inputs") : NULL;
  for (guint k = 0; in && k < json_array_get_length (in); k++) {
    JsonNode *e = json_array_get_element (in, k);
    g_ptr_array_add (refs, g_strdup (JSON_NODE_HOLDS_VALUE (e) ? json_node_get_string (e) : NULL));
  }
  return refs;
}

/* Picks the grad node followed: `grad_id`, else the first. */
static JsonObject *
find_grad (JsonNode *root, const char *grad_id)
{
  JsonArray *nodes = json_object_get_array_member (json_node_get_object (root), "nodes");
  for (guint i = 0; nodes && i < json_array_get_length (nodes); i++) {
    JsonObject *o = json_array_get_object_element (nodes, i);
    if (!o || g_strcmp0 (json_object_get_string_member_with_default (o, "kind", NULL), "grad"))
      continue;
    if (!grad_id || g_strcmp0 (json_object_get_string_member_with_default (o, "id", NULL), grad_id) == 0)
      return o;
  }
  return grad_id ? find_grad (root, NULL) : NULL;
}

static gboolean
is_float_ref (GrdGraph *g, GrdRef r)
{
  const GrdType *t = grd_graph_ref_type (g, r);
  return t && grd_dtype_is_float (t->dtype);
}

/* ------------------------------------------------------------ building */

static GradusTeachStep *
add_step (GradusTeachTrace *t, GradusTeachPhase phase, const char *node)
{
  GradusTeachStep *s = g_new0 (GradusTeachStep, 1);
  s->phase = phase;
  s->node = g_strdup (node);
  g_ptr_array_add (t->steps, s);
  return s;
}

/* "ax = a × x" and "ax = a × x = (-1) × 1 = -1". */
static void
forward_text (GradusTeachTrace *t, GradusTeachStep *s, GrdGraph *g, gint node)
{
  const char *id = s->node;
  GrdTensor *v = g_hash_table_lookup (t->values, id);
  g_autofree char *shown = gradus_teach_format (v);
  GrdNodeKind kind = grd_graph_node_kind (g, node);
  if (kind != GRD_NODE_OP) {
    s->heading = g_strdup_printf ("%s = %s", id, shown);
    s->text = kind == GRD_NODE_SHARED
      ? g_strdup_printf (_("%s is a shared variable: its value before this call is %s."), id, shown)
      : kind == GRD_NODE_CONSTANT
      ? g_strdup_printf (_("%s is a constant: %s."), id, shown)
      : g_strdup_printf (_("%s is an input of the function: this call feeds it %s."), id, shown);
    return;
  }
  g_autoptr (GPtrArray) refs = input_refs (node_json (t->root, id));
  g_autoptr (GPtrArray) nums = g_ptr_array_new_with_free_func (g_free);
  for (guint k = 0; k < refs->len; k++) {
    if (!refs->pdata[k])
      refs->pdata[k] = g_strdup ("?");
    g_ptr_array_add (nums, gradus_teach_format (g_hash_table_lookup (t->values, refs->pdata[k])));
  }
  const char *op = grd_graph_node_op (g, node);
  g_autofree char *expr = gradus_teach_rule_expression (op, (const char *const *) refs->pdata, refs->len);
  g_autofree char *with = gradus_teach_rule_expression (op, (const char *const *) nums->pdata, nums->len);
  s->heading = g_strdup_printf ("%s = %s", id, expr);
  GString *text = g_string_new (NULL);
  g_string_append_printf (text, "%s = %s = %s = %s", id, expr, with, shown);
  const char *shared = g_hash_table_lookup (t->updates, id);
  if (shared) {
    g_string_append_c (text, '\n');
    g_string_append_printf (text, _("After the call %s takes this value (an update)."), shared);
  }
  s->text = g_string_free (text, FALSE);
}

GradusTeachTrace *
gradus_teach_trace_new (GradusDocModel *model, GHashTable *live, gint64 call,
                        const char *grad_id, GError **error)
{
  JsonNode *model_root = gradus_doc_model_get_root (model);
  if (!model_root || !JSON_NODE_HOLDS_OBJECT (model_root)
      || !json_object_has_member (json_node_get_object (model_root), "nodes")) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("The graph has no nodes to step through"));
    return NULL;
  }
  const char *path = gradus_doc_model_get_path (model);
  g_autoptr (GradusTeachTrace) t = g_new0 (GradusTeachTrace, 1);
  t->root = gradus_json_deep_copy (model_root);
  t->values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) grd_tensor_unref);
  t->grads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) grd_tensor_unref);
  t->users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  t->wrt_slot = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  t->updates = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  t->steps = g_ptr_array_new_with_free_func ((GDestroyNotify) step_free);

  /* The graph as the file builds it, to find the way from the wrt to the cost. */
  g_autoptr (GrdDocument) doc1 = grd_document_new_from_json (t->root, path, GRD_DOCUMENT_LENIENT, error);
  if (!doc1)
    return NULL;
  GrdGraph *g1 = grd_document_graph (doc1);
  g_autoptr (GPtrArray) wrt = g_ptr_array_new_with_free_func (g_free);
  JsonObject *grad = find_grad (t->root, grad_id);
  const char *grad_name = NULL;
  if (grad) {
    grad_name = json_object_get_string_member_with_default (grad, "id", NULL);
    t->cost = g_strdup (json_object_get_string_member_with_default (grad, "cost", NULL));
    JsonArray *wa = json_object_has_member (grad, "wrt") && JSON_NODE_HOLDS_ARRAY (json_object_get_member (grad, "wrt"))
                    ? json_object_get_array_member (grad, "wrt") : NULL;
    for (guint k = 0; wa && k < json_array_get_length (wa); k++) {
      const char *r = json_node_get_string (json_array_get_element (wa, k));
      if (!r)
        continue;
      g_ptr_array_add (wrt, g_strdup (r));
      g_hash_table_insert (t->wrt_slot, g_strdup (r), g_strdup_printf ("%s:%u", grad_name, k));
    }
  } else {
    g_autoptr (GError) local = NULL;
    JsonObject *fn = grd_document_function_object (doc1, NULL, &local);
    JsonArray *outs = fn && json_object_has_member (fn, "outputs") ? json_object_get_array_member (fn, "outputs") : NULL;
    if (outs && json_array_get_length (outs) > 0)
      t->cost = g_strdup (json_node_get_string (json_array_get_element (outs, 0)));
    for (gint i = 0; i < grd_graph_n_nodes (g1); i++)
      if (grd_graph_node_kind (g1, i) == GRD_NODE_SHARED && grd_graph_node_owner (g1, i) < 0)
        g_ptr_array_add (wrt, g_strdup (grd_graph_node_id (g1, i)));
  }
  GrdRef cost_ref;
  if (!t->cost || !grd_graph_lookup (g1, t->cost, &cost_ref, NULL)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH,
                 _("No cost to differentiate: add a grad node whose cost is a scalar, or make the function's first output one"));
    return NULL;
  }
  if (!is_float_ref (g1, cost_ref) || grd_graph_ref_type (g1, cost_ref)->rank != 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE, _("The cost '%s' must be a float scalar"), t->cost);
    return NULL;
  }

  /* On the way: depends on a wrt and the cost depends on it. */
  gint n1 = grd_graph_n_nodes (g1);
  g_autofree gboolean *from_wrt = g_new0 (gboolean, MAX (n1, 1));
  g_autofree gboolean *to_cost = g_new0 (gboolean, MAX (n1, 1));
  for (guint k = 0; k < wrt->len; k++) {
    GrdRef r;
    if (grd_graph_lookup (g1, wrt->pdata[k], &r, NULL))
      from_wrt[r.node] = TRUE;
  }
  for (gint i = 0; i < n1; i++)
    for (gint k = 0; !from_wrt[i] && k < grd_graph_node_n_inputs (g1, i); k++)
      from_wrt[i] = from_wrt[grd_graph_node_input (g1, i, k).node];
  to_cost[cost_ref.node] = TRUE;
  for (gint i = n1 - 1; i >= 0; i--)
    for (gint k = 0; to_cost[i] && k < grd_graph_node_n_inputs (g1, i); k++)
      to_cost[grd_graph_node_input (g1, i, k).node] = TRUE;
  g_autoptr (GPtrArray) way = g_ptr_array_new ();   /* ids, graph order */
  for (gint i = 0; i < n1; i++)
    if (from_wrt[i] && to_cost[i] && grd_graph_node_owner (g1, i) < 0
        && grd_graph_node_kind (g1, i) != GRD_NODE_GRAD && is_float_ref (g1, (GrdRef) { i, 0 }))
      g_ptr_array_add (way, (gpointer) grd_graph_node_id (g1, i));
  for (guint w = 0; w < way->len; w++) {
    gint i = grd_graph_find (g1, way->pdata[w]);
    for (gint k = 0; k < grd_graph_node_n_inputs (g1, i); k++) {
      const char *in = grd_graph_node_id (g1, grd_graph_node_input (g1, i, k).node);
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (t->users, in));
      g_hash_table_insert (t->users, g_strdup (in), GUINT_TO_POINTER (n + 1));
    }
  }
  if (way->len == 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("The cost '%s' does not depend on what is differentiated"), t->cost);
    return NULL;
  }

  /* The same file with one more grad node: d cost / d every node on the way. */
  g_autofree char *teach_id = g_strdup ("__teach_grad");
  while (grd_graph_find (g1, teach_id) >= 0) {
    char *longer = g_strconcat (teach_id, "_", NULL);
    g_free (teach_id);
    teach_id = longer;
  }
  g_autoptr (JsonNode) root2 = gradus_json_deep_copy (t->root);
  {
    JsonObject *extra = json_object_new ();
    json_object_set_string_member (extra, "id", teach_id);
    json_object_set_string_member (extra, "kind", "grad");
    json_object_set_string_member (extra, "cost", t->cost);
    JsonArray *wa = json_array_new ();
    for (guint w = 0; w < way->len; w++)
      json_array_add_string_element (wa, way->pdata[w]);
    json_object_set_array_member (extra, "wrt", wa);
    json_array_add_object_element (json_object_get_array_member (json_node_get_object (root2), "nodes"), extra);
  }
  g_autoptr (GrdDocument) doc2 = grd_document_new_from_json (root2, path, GRD_DOCUMENT_LENIENT, error);
  if (!doc2)
    return NULL;
  if (grd_document_node_error (doc2, teach_id)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "%s", grd_document_node_error (doc2, teach_id));
    return NULL;
  }
  GrdGraph *g2 = grd_document_graph (doc2);

  /* The call's inputs and shared values: the run's last call, or call 1. */
  g_autofree char *fn_name = grd_document_run_function (doc2, error);
  if (!fn_name)
    return NULL;
  JsonObject *fn = grd_document_function_object (doc2, fn_name, error);
  if (!fn)
    return NULL;
  JsonArray *ins = json_object_has_member (fn, "inputs") ? json_object_get_array_member (fn, "inputs") : NULL;
  guint n_in = ins ? json_array_get_length (ins) : 0;
  g_autofree GrdRef *in_refs = g_new0 (GrdRef, MAX (n_in, 1));
  g_autoptr (GPtrArray) in_values = g_ptr_array_new_with_free_func ((GDestroyNotify) grd_tensor_unref);
  gboolean from_live = live != NULL;
  for (guint k = 0; k < n_in; k++) {
    const char *id = json_node_get_string (json_array_get_element (ins, k));
    if (!id || !grd_graph_lookup (g2, id, &in_refs[k], error))
      return NULL;
    if (!live || !g_hash_table_lookup (live, id))
      from_live = FALSE;
  }
  if (from_live) {
    for (guint k = 0; k < n_in; k++)
      g_ptr_array_add (in_values, grd_tensor_ref (g_hash_table_lookup (live, json_node_get_string (json_array_get_element (ins, k)))));
  } else {
    g_autoptr (GPtrArray) feeds = grd_document_feeds_named (doc2, fn_name, NULL, NULL, error);
    if (!feeds)
      return NULL;
    for (guint k = 0; k < n_in && k < feeds->len; k++) {
      GrdTensor *v = grd_feed_next (feeds->pdata[k], 0, error);
      if (!v)
        return NULL;
      g_ptr_array_add (in_values, v);
    }
    if (in_values->len != n_in) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE, _("Not every input has a feed in run.feeds"));
      return NULL;
    }
  }
  g_autoptr (GArray) shared = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  g_autoptr (GPtrArray) shared_values = g_ptr_array_new ();
  for (gint i = 0; i < grd_graph_n_nodes (g2); i++)
    if (grd_graph_node_kind (g2, i) == GRD_NODE_SHARED) {
      GrdRef r = { i, 0 };
      g_array_append_val (shared, r);
      g_ptr_array_add (shared_values, from_live ? g_hash_table_lookup (live, grd_graph_node_id (g2, i)) : NULL);
    }
  g_autoptr (GHashTable) values = gradus_run_eval_nodes (g2, in_refs, n_in, (GrdTensor *const *) in_values->pdata,
                                                         (GrdRef *) shared->data, shared->len,
                                                         (GrdTensor *const *) shared_values->pdata, error);
  if (!values)
    return NULL;
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init (&it, values);
  while (g_hash_table_iter_next (&it, &key, &value))
    if (!g_str_has_prefix (key, teach_id))
      g_hash_table_insert (t->values, g_strdup (key), grd_tensor_ref (value));
  for (guint w = 0; w < way->len; w++) {
    g_autofree char *k = g_strdup_printf ("%s:%u", teach_id, w);
    GrdTensor *gv = g_hash_table_lookup (values, k);
    if (gv)
      g_hash_table_insert (t->grads, g_strdup (way->pdata[w]), grd_tensor_ref (gv));
  }
  t->source = from_live
    ? g_strdup_printf (_("call %lld of the last run"), (long long) call + 1)
    : g_strdup (_("call 1, inputs from run.feeds"));

  /* Updates: which value replaces which shared variable. */
  JsonArray *ups = json_object_has_member (fn, "updates") ? json_object_get_array_member (fn, "updates") : NULL;
  for (guint k = 0; ups && k < json_array_get_length (ups); k++) {
    JsonObject *u = json_array_get_object_element (ups, k);
    const char *sh = u ? json_object_get_string_member_with_default (u, "shared", NULL) : NULL;
    const char *val = u ? json_object_get_string_member_with_default (u, "value", NULL) : NULL;
    if (sh && val)
      g_hash_table_insert (t->updates, g_strdup (val), g_strdup (sh));
  }

  /* The steps: forward (what needs no gradient), backward (the way, from the
   * cost back), after (what uses the gradient). */
  gint n2 = grd_graph_n_nodes (g2);
  g_autofree gboolean *after = g_new0 (gboolean, MAX (n2, 1));
  for (gint i = 0; i < n2; i++) {
    after[i] = grd_graph_node_owner (g2, i) >= 0;
    for (gint k = 0; !after[i] && k < grd_graph_node_n_inputs (g2, i); k++)
      after[i] = after[grd_graph_node_input (g2, i, k).node];
  }
  for (int pass = 0; pass < 2; pass++) {
    if (pass == 1)
      for (guint w = way->len; w-- > 0;) {
        GradusTeachStep *b = add_step (t, GRADUS_TEACH_BACKWARD, way->pdata[w]);
        GrdTensor *gv = g_hash_table_lookup (t->grads, way->pdata[w]);
        b->value = gv ? grd_tensor_ref (gv) : NULL;
      }
    for (gint i = 0; i < n2; i++) {
      const char *id = grd_graph_node_id (g2, i);
      if (grd_graph_node_owner (g2, i) >= 0 || grd_graph_node_kind (g2, i) == GRD_NODE_GRAD
          || after[i] != (pass == 1) || !node_json (t->root, id) || !g_hash_table_lookup (t->values, id))
        continue;
      GradusTeachStep *s = add_step (t, pass ? GRADUS_TEACH_AFTER : GRADUS_TEACH_FORWARD, id);
      s->value = grd_tensor_ref (g_hash_table_lookup (t->values, id));
      forward_text (t, s, g2, i);
    }
  }
  return g_steal_pointer (&t);
}

/* ------------------------------------------------------------ backward */

static JsonArray *
shape_json (const GrdTensor *v)
{
  JsonArray *a = json_array_new ();
  for (gint d = 0; d < v->rank; d++)
    json_array_add_int_element (a, v->shape[d]);
  return a;
}

static void
add_variable (JsonArray *nodes, const char *id, const GrdTensor *like)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "id", id);
  json_object_set_string_member (o, "kind", "variable");
  json_object_set_string_member (o, "dtype", grd_dtype_name (like->dtype));
  json_object_set_array_member (o, "shape", shape_json (like));
  json_array_add_object_element (nodes, o);
}

static void
add_op (JsonArray *nodes, const char *id, const char *op, const char *a, const char *b)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "id", id);
  json_object_set_string_member (o, "kind", "op");
  json_object_set_string_member (o, "op", op);
  JsonArray *in = json_array_new ();
  json_array_add_string_element (in, a);
  if (b)
    json_array_add_string_element (in, b);
  json_object_set_array_member (o, "inputs", in);
  json_array_add_object_element (nodes, o);
}

/* The engine's gradient of the op alone, its inputs fed with this call's
 * values: d sum(op(u) * gz) / d u_k for the wanted slots k. With gz = ones
 * that is the local derivative; with gz = d cost / d node, what the node
 * sends back to input k. An array of GrdTensor* (NULL where not wanted). */
static GPtrArray *
vjp (JsonObject *node, GPtrArray *inputs, const gboolean *wanted, const GrdTensor *out,
     GrdTensor *gz_ones, GrdTensor *gz_grad, GPtrArray **sent, GError **error)
{
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  JsonObject *r = json_object_new ();
  json_node_take_object (root, r);
  json_object_set_string_member (r, "format", "gradus-graph");
  json_object_set_int_member (r, "version", 1);
  JsonArray *nodes = json_array_new ();
  json_object_set_array_member (r, "nodes", nodes);
  JsonArray *fn_in = json_array_new (), *fn_out = json_array_new (), *wrt = json_array_new ();
  JsonArray *ins = json_array_new ();
  for (guint k = 0; k < inputs->len; k++) {
    g_autofree char *u = g_strdup_printf ("u%u", k);
    add_variable (nodes, u, inputs->pdata[k]);
    json_array_add_string_element (fn_in, u);
    json_array_add_string_element (ins, u);
    if (wanted[k]) {
      g_autofree char *o = g_strdup_printf ("gr:%u", json_array_get_length (wrt));
      json_array_add_string_element (wrt, u);
      json_array_add_string_element (fn_out, o);
    }
  }
  add_variable (nodes, "gz", out);
  json_array_add_string_element (fn_in, "gz");
  g_autoptr (JsonNode) wrap = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (wrap, node);
  JsonNode *copy = gradus_json_deep_copy (wrap);
  JsonObject *n = json_node_get_object (copy);
  json_object_set_string_member (n, "id", "n");
  json_object_remove_member (n, "name");
  json_object_set_array_member (n, "inputs", ins);
  json_array_add_object_element (nodes, json_object_ref (n));
  json_node_unref (copy);
  add_op (nodes, "p", "mul", "n", "gz");
  add_op (nodes, "c", "sum", "p", NULL);
  JsonObject *gr = json_object_new ();
  json_object_set_string_member (gr, "id", "gr");
  json_object_set_string_member (gr, "kind", "grad");
  json_object_set_string_member (gr, "cost", "c");
  json_object_set_array_member (gr, "wrt", wrt);
  json_array_add_object_element (nodes, gr);
  JsonObject *fn = json_object_new ();
  json_object_set_array_member (fn, "inputs", fn_in);
  json_object_set_array_member (fn, "outputs", fn_out);
  json_object_set_object_member (r, "function", fn);

  g_autoptr (GrdDocument) doc = grd_document_new_from_json (root, NULL, GRD_DOCUMENT_STRICT, error);
  if (!doc)
    return NULL;
  GrdFunction *f = grd_document_function (doc, error);
  if (!f)
    return NULL;
  guint n_out = json_array_get_length (fn_out);
  g_autofree GrdTensor **feed = g_new0 (GrdTensor *, inputs->len + 1);
  for (guint k = 0; k < inputs->len; k++)
    feed[k] = inputs->pdata[k];
  GPtrArray *results[2] = { NULL, NULL };
  for (int pass = 0; pass < 2; pass++) {
    g_autofree GrdTensor **got = g_new0 (GrdTensor *, MAX (n_out, 1));
    feed[inputs->len] = pass ? gz_grad : gz_ones;
    if (!grd_function_call (f, feed, got, error)) {
      g_clear_pointer (&results[0], g_ptr_array_unref);
      grd_function_free (f);
      return NULL;
    }
    results[pass] = g_ptr_array_new_with_free_func ((GDestroyNotify) grd_tensor_unref);
    for (guint k = 0, j = 0; k < inputs->len; k++)
      g_ptr_array_add (results[pass], wanted[k] ? got[j++] : NULL);
  }
  grd_function_free (f);
  *sent = results[1];
  return results[0];
}

static GrdTensor *
ones_like (const GrdTensor *v)
{
  GrdTensor *t = grd_tensor_new (v->dtype, v->rank, v->shape);
  for (gint64 i = 0; i < t->size; i++)
    grd_tensor_set (t, i, 1);
  return t;
}

static void
backward_text (GradusTeachTrace *t, GradusTeachStep *s)
{
  const char *id = s->node, *cost = t->cost;
  g_autofree char *gshown = gradus_teach_format (s->value);
  s->heading = g_strdup_printf ("d %s / d %s = %s", cost, id, gshown);
  s->sent_to = g_ptr_array_new_with_free_func (g_free);
  s->sent = g_ptr_array_new_with_free_func ((GDestroyNotify) grd_tensor_unref);
  s->local = g_ptr_array_new_with_free_func ((GDestroyNotify) grd_tensor_unref);
  GString *text = g_string_new (NULL);
  if (g_str_equal (id, cost))
    g_string_append_printf (text, _("The backward pass starts at the cost: d %s / d %s = 1."), cost, cost);
  JsonObject *o = node_json (t->root, id);
  const char *kind = o ? json_object_get_string_member_with_default (o, "kind", "") : "";
  if (!g_str_equal (kind, "op")) {
    guint uses = GPOINTER_TO_UINT (g_hash_table_lookup (t->users, id));
    if (uses > 1)
      g_string_append_printf (text, _("%s adds up what its %u uses sent back: d %s / d %s = %s."),
                              id, uses, cost, id, gshown);
    else
      g_string_append_printf (text, _("What reaches %s is its gradient: d %s / d %s = %s."), id,
                              cost, id, gshown);
    const char *slot = g_hash_table_lookup (t->wrt_slot, id);
    if (slot) {
      g_string_append_c (text, '\n');
      g_string_append_printf (text, _("The grad node returns it as %s."), slot);
    }
    s->text = g_string_free (text, FALSE);
    return;
  }
  g_autoptr (GPtrArray) refs = input_refs (o);
  g_autoptr (GPtrArray) ins = g_ptr_array_new ();
  g_autofree gboolean *wanted = g_new0 (gboolean, MAX (refs->len, 1));
  g_autoptr (GPtrArray) idle = g_ptr_array_new ();
  gboolean any = FALSE;
  for (guint k = 0; k < refs->len; k++) {
    GrdTensor *v = g_hash_table_lookup (t->values, refs->pdata[k] ? refs->pdata[k] : "");
    if (!v) {
      g_string_append_printf (text, _("The value of input %u of %s is not known."), k, id);
      s->text = g_string_free (text, FALSE);
      return;
    }
    g_ptr_array_add (ins, v);
    wanted[k] = g_hash_table_contains (t->grads, refs->pdata[k]);
    any |= wanted[k];
    if (!wanted[k])
      g_ptr_array_add (idle, refs->pdata[k]);
  }
  if (!any || !s->value) {
    s->text = g_string_free (text, FALSE);
    return;
  }
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdTensor) ones = ones_like (s->value);
  g_autoptr (GPtrArray) sent = NULL;
  g_autoptr (GPtrArray) local = vjp (o, ins, wanted, s->value, ones, s->value, &sent, &error);
  if (!local) {
    if (text->len)
      g_string_append_c (text, '\n');
    g_string_append_printf (text, _("The engine could not differentiate %s alone: %s"), id, error->message);
    s->text = g_string_free (text, FALSE);
    return;
  }
  const char *op = json_object_get_string_member_with_default (o, "op", "?");
  g_autofree char *gz = format_operand (s->value);
  for (guint k = 0; k < refs->len; k++) {
    if (!wanted[k])
      continue;
    const char *in = refs->pdata[k];
    guint uses = GPOINTER_TO_UINT (g_hash_table_lookup (t->users, in));
    g_autofree char *rule = gradus_teach_rule_derivative (op, (const char *const *) refs->pdata, refs->len, k);
    g_autofree char *l = format_operand (local->pdata[k]);
    g_autofree char *v = gradus_teach_format (sent->pdata[k]);
    if (text->len)
      g_string_append_c (text, '\n');
    g_string_append_printf (text, "d %s / d %s %s d %s / d %s × %s = %s × %s = %s", cost, in,
                            uses > 1 ? "+=" : "=", cost, id, rule, gz, l, v);
    g_ptr_array_add (s->sent_to, g_strdup (in));
    g_ptr_array_add (s->sent, grd_tensor_ref (sent->pdata[k]));
    g_ptr_array_add (s->local, grd_tensor_ref (local->pdata[k]));
  }
  if (idle->len) {
    g_ptr_array_add (idle, NULL);
    g_autofree char *names = g_strjoinv (", ", (char **) idle->pdata);
    g_string_append_c (text, '\n');
    g_string_append_printf (text, _("%s: no gradient needed (not on the way to what is differentiated)."), names);
  }
  s->text = g_string_free (text, FALSE);
}

GradusTeachStep *
gradus_teach_trace_step (GradusTeachTrace *t, guint i)
{
  if (i >= t->steps->len)
    return NULL;
  GradusTeachStep *s = t->steps->pdata[i];
  if (s->phase == GRADUS_TEACH_BACKWARD && !s->text)
    backward_text (t, s);
  return s;
}

gint
gradus_teach_trace_find (GradusTeachTrace *t, const char *id, GradusTeachPhase phase)
{
  for (guint i = 0; i < t->steps->len; i++) {
    GradusTeachStep *s = t->steps->pdata[i];
    if (s->phase == phase && g_strcmp0 (s->node, id) == 0)
      return (gint) i;
  }
  return -1;
}
