/* rg-save.c: a failing case as a .gradus file, read back; and the shrinker.
 *
 * The file holds only the nodes the output needs, a function from the inputs
 * it reads to that output, and the inputs' values as run.feeds, so that
 * `gradus run` shows the case and test-randgraph re-checks it. The shrinker
 * tries every value of the generator's pool as the output, smallest first,
 * and keeps the first that fails the same way (the minimal sub-expression);
 * then it bypasses each op node that the failure does not need (the node read
 * as one of its inputs of the same type). */
#include "randgraph.h"
#include "grd-internal.h"

#include <string.h>

static void
append_ref (GString *s, GrdGraph *g, GrdRef r)
{
  if (r.output == 0)
    g_string_append_printf (s, "\"%s\"", grd_graph_node_id (g, r.node));
  else
    g_string_append_printf (s, "\"%s:%d\"", grd_graph_node_id (g, r.node), r.output);
}

static void
append_ints (GString *s, const char *key, const gint64 *v, gint n, gboolean none_is_null)
{
  g_string_append_printf (s, ", \"%s\": [", key);
  for (gint i = 0; i < n; i++) {
    if (none_is_null && v[i] == GRD_SLICE_NONE)
      g_string_append_printf (s, "%snull", i ? ", " : "");
    else
      g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? ", " : "", v[i]);
  }
  g_string_append (s, "]");
}

static void
append_attrs (GString *s, const GrdNode *node)
{
  const GrdAttrs *a = &node->attrs;
  GString *t = g_string_new (NULL);
  gint64 v[GRD_MAX_RANK];
  if (a->has_axis) {
    if (a->n_axes == 1) {
      g_string_append_printf (t, ", \"axis\": %d", a->axes[0]);
    } else {
      for (gint i = 0; i < a->n_axes; i++)
        v[i] = a->axes[i];
      append_ints (t, "axis", v, a->n_axes, FALSE);
    }
  }
  if (a->keepdims)
    g_string_append (t, ", \"keepdims\": true");
  if (a->n_perm > 0) {
    for (gint i = 0; i < a->n_perm; i++)
      v[i] = a->perm[i];
    append_ints (t, "perm", v, a->n_perm, FALSE);
  }
  if (g_str_equal (node->op->name, "reshape"))
    append_ints (t, "shape", a->shape, a->n_shape, FALSE);
  if (a->n_pattern > 0) {
    g_string_append (t, ", \"pattern\": [");
    for (gint i = 0; i < a->n_pattern; i++) {
      if (a->pattern[i] < 0)
        g_string_append_printf (t, "%s\"x\"", i ? ", " : "");
      else
        g_string_append_printf (t, "%s%d", i ? ", " : "", a->pattern[i]);
    }
    g_string_append (t, "]");
  }
  if (g_str_equal (node->op->name, "flatten"))
    g_string_append_printf (t, ", \"ndim\": %d", a->ndim);
  if (a->n_slice > 0) {
    append_ints (t, "begin", a->begin, a->n_slice, TRUE);
    append_ints (t, "end", a->end, a->n_slice, TRUE);
    append_ints (t, "step", a->step, a->n_slice, TRUE);
  }
  if (a->has_dtype)
    g_string_append_printf (t, ", \"dtype\": \"%s\"", grd_dtype_name (a->dtype));
  if (g_str_equal (node->op->name, "one_hot"))
    g_string_append_printf (t, ", \"depth\": %" G_GINT64_FORMAT, a->depth);
  if (g_str_equal (node->op->name, "conv2d")) {
    static const char *const borders[] = { "valid", "full", "half" };
    if (a->border_mode == GRD_BORDER_EXPLICIT)
      append_ints (t, "border_mode", a->border, 2, FALSE);
    else
      g_string_append_printf (t, ", \"border_mode\": \"%s\"", borders[a->border_mode]);
    append_ints (t, "subsample", a->subsample, 2, FALSE);
    append_ints (t, "filter_dilation", a->filter_dilation, 2, FALSE);
    g_string_append_printf (t, ", \"num_groups\": %" G_GINT64_FORMAT ", \"filter_flip\": %s",
                            a->num_groups, a->filter_flip ? "true" : "false");
  }
  if (g_str_equal (node->op->name, "pool_2d")) {
    static const char *const modes[] = { "max", "sum", "average_inc_pad", "average_exc_pad" };
    append_ints (t, "ws", a->ws, 2, FALSE);
    if (a->pool_stride[0] > 0)
      append_ints (t, "stride", a->pool_stride, 2, FALSE);
    append_ints (t, "pad", a->pool_pad, 2, FALSE);
    g_string_append_printf (t, ", \"ignore_border\": %s, \"mode\": \"%s\"",
                            a->ignore_border ? "true" : "false", modes[a->pool_mode]);
  }
  if (t->len > 0)
    g_string_append_printf (s, ", \"attrs\": {%s}", t->str + 2);
  g_string_free (t, TRUE);
}

/* Where the shrinker bypassed a node: node i reads as subst[i] (NULL, or
 * subst[i].node == i: itself), followed to the end of the chain. */
static GrdRef
resolve (const GrdRef *subst, GrdRef r)
{
  while (subst && r.output == 0 && subst[r.node].node != r.node)
    r = subst[r.node];
  return r;
}

static char *
case_to_gradus (const RgCase *c, const char *note, const GrdRef *subst)
{
  GrdGraph *g = c->graph;
  GrdRef out = resolve (subst, c->out);
  gint n = c->out.node + 1;
  g_autofree gboolean *needed = g_new0 (gboolean, n);
  needed[out.node] = TRUE;
  for (gint i = n - 1; i >= 0; i--)
    if (needed[i])
      for (gint j = 0; j < grd_graph_node_n_inputs (g, i); j++)
        needed[resolve (subst, grd_graph_node_input (g, i, j)).node] = TRUE;
  GString *s = g_string_new ("{\n  \"format\": \"gradus-graph\",\n  \"version\": 1,\n");
  g_string_append (s, "  \"name\": \"random-graph gradient check (tests/randgraph)\",\n");
  if (note) {
    g_autoptr (JsonNode) str = json_node_init_string (json_node_alloc (), note);
    g_autofree char *q = json_to_string (str, FALSE);
    g_string_append_printf (s, "  \"randgraph\": {\"failure\": %s},\n", q);
  }
  g_string_append (s, "  \"nodes\": [");
  gboolean first = TRUE;
  for (gint i = 0; i < n; i++) {
    if (!needed[i])
      continue;
    GrdNode *node = grd_graph_node (g, i);
    g_string_append_printf (s, "%s\n    {\"id\": \"%s\"", first ? "" : ",", node->id);
    first = FALSE;
    switch (node->kind) {
    case GRD_NODE_VARIABLE:
      g_string_append_printf (s, ", \"kind\": \"variable\", \"dtype\": \"%s\", \"shape\": [",
                              grd_dtype_name (node->types[0].dtype));
      for (gint d = 0; d < node->types[0].rank; d++) {
        gint64 dim = node->types[0].dims[d];
        if (dim == GRD_DIM_UNKNOWN)
          g_string_append_printf (s, "%snull", d ? ", " : "");
        else
          g_string_append_printf (s, "%s%" G_GINT64_FORMAT, d ? ", " : "", dim);
      }
      g_string_append (s, "]}");
      break;
    case GRD_NODE_CONSTANT:
    case GRD_NODE_SHARED:
      g_string_append_printf (s, ", \"kind\": \"%s\", \"dtype\": \"%s\", \"value\": ",
                              node->kind == GRD_NODE_SHARED ? "shared" : "constant",
                              grd_dtype_name (node->value->dtype));
      grd_value_append_json (s, node->value);
      g_string_append (s, "}");
      break;
    case GRD_NODE_OP:
      g_string_append_printf (s, ", \"kind\": \"op\", \"op\": \"%s\", \"inputs\": [",
                              node->op->name);
      for (gint j = 0; j < node->n_inputs; j++) {
        if (j)
          g_string_append (s, ", ");
        append_ref (s, g, resolve (subst, node->inputs[j]));
      }
      g_string_append (s, "]");
      append_attrs (s, node);
      g_string_append (s, "}");
      break;
    default:
      g_assert_not_reached ();
    }
  }
  g_string_append (s, "\n  ],\n  \"function\": {\"inputs\": [");
  first = TRUE;
  for (guint k = 0; k < c->vars->len; k++) {
    GrdRef v = g_array_index (c->vars, GrdRef, k);
    if (v.node < n && needed[v.node]) {
      g_string_append_printf (s, "%s\"%s\"", first ? "" : ", ", grd_graph_node_id (g, v.node));
      first = FALSE;
    }
  }
  g_string_append (s, "], \"outputs\": [");
  append_ref (s, g, out);
  g_string_append (s, "]},\n  \"run\": {\"steps\": 1, \"feeds\": {");
  first = TRUE;
  for (guint k = 0; k < c->vars->len; k++) {
    GrdRef v = g_array_index (c->vars, GrdRef, k);
    if (v.node < n && needed[v.node]) {
      g_string_append_printf (s, "%s\"%s\": ", first ? "" : ", ", grd_graph_node_id (g, v.node));
      grd_value_append_json (s, c->values->pdata[k]);
      first = FALSE;
    }
  }
  g_string_append (s, "}}\n}\n");
  return g_string_free (s, FALSE);
}

char *
rg_case_to_gradus (const RgCase *c, const char *note)
{
  return case_to_gradus (c, note, NULL);
}

static gboolean
case_from_document (GrdDocument *doc, RgCase *out, GError **error)
{
  JsonObject *root = json_node_get_object (grd_document_root (doc));
  JsonObject *fn = json_object_get_object_member (root, "function");
  JsonObject *run = json_object_get_object_member (root, "run");
  JsonObject *feeds = run ? json_object_get_object_member (run, "feeds") : NULL;
  GrdGraph *g = grd_document_graph (doc);
  if (!fn || !feeds) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "%s: no function or no run.feeds",
                 grd_document_path (doc));
    return FALSE;
  }
  JsonArray *ins = json_object_get_array_member (fn, "inputs");
  JsonArray *outs = json_object_get_array_member (fn, "outputs");
  out->graph = grd_graph_ref (g);
  out->vars = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  out->values = g_ptr_array_new_with_free_func ((GDestroyNotify) grd_tensor_unref);
  for (guint i = 0; i < json_array_get_length (ins); i++) {
    const char *id = json_array_get_string_element (ins, i);
    GrdRef v;
    if (!grd_graph_lookup (g, id, &v, error))
      return FALSE;
    JsonNode *feed = json_object_get_member (feeds, id);
    GrdTensor *t = feed ? grd_value_from_json (feed, grd_graph_ref_type (g, v)->dtype, NULL, error)
                        : NULL;
    if (!t) {
      if (error && !*error)
        g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "no feed for input '%s'", id);
      return FALSE;
    }
    g_array_append_val (out->vars, v);
    g_ptr_array_add (out->values, t);
  }
  return grd_graph_lookup (g, json_array_get_string_element (outs, 0), &out->out, error);
}

gboolean
rg_case_from_file (const char *path, RgCase *out, GError **error)
{
  g_autoptr (GrdDocument) doc = grd_document_load (path, error);
  return doc && case_from_document (doc, out, error);
}

static gint
by_size (gconstpointer a, gconstpointer b)
{
  const RgVal *x = a, *y = b;
  return x->size - y->size;
}

/* Does the case written with `subst` still fail with `status`? */
static gboolean
still_fails (const RgCase *c, const GrdRef *subst, gboolean vulkan, guint64 seed, RgStatus status)
{
  g_autofree char *text = case_to_gradus (c, NULL, subst);
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdDocument) doc = grd_document_load_from_data (text, -1, NULL, &error);
  if (!doc)
    return FALSE;   /* a bypass that does not type-check */
  RgCase small = { 0 };
  gboolean same = FALSE;
  if (case_from_document (doc, &small, &error)) {
    RgResult r = { 0 };
    rg_check (&small, vulkan, seed, &r);
    same = r.status == status;
    rg_result_clear (&r);
  }
  rg_case_clear (&small);
  return same;
}

/* Bypasses op nodes (each read as one of its inputs of the same type) while
 * the case keeps failing the same way; writes the result into *out. */
static void
bypass_nodes (const RgCase *c, gboolean vulkan, guint64 seed, RgStatus status, RgCase *out)
{
  GrdGraph *g = c->graph;
  gint n = c->out.node + 1;
  g_autofree GrdRef *subst = g_new (GrdRef, n);
  for (gint i = 0; i < n; i++)
    subst[i] = (GrdRef) { i, 0 };
  for (gboolean changed = TRUE; changed;) {
    changed = FALSE;
    for (gint i = n - 1; i >= 0; i--) {
      if (grd_graph_node_kind (g, i) != GRD_NODE_OP || subst[i].node != i)
        continue;
      GrdRef self = { i, 0 };
      const GrdType *t = grd_graph_ref_type (g, self);
      for (gint j = 0; j < grd_graph_node_n_inputs (g, i); j++) {
        GrdRef in = resolve (subst, grd_graph_node_input (g, i, j));
        const GrdType *u = grd_graph_ref_type (g, in);
        if (u->dtype != t->dtype || u->rank != t->rank
            || memcmp (u->dims, t->dims, sizeof (gint64) * t->rank) != 0)
          continue;
        subst[i] = in;
        if (still_fails (c, subst, vulkan, seed, status)) {
          changed = TRUE;
          break;
        }
        subst[i] = self;
      }
    }
  }
  g_autofree char *text = case_to_gradus (c, NULL, subst);
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdDocument) doc = grd_document_load_from_data (text, -1, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (case_from_document (doc, out, &error));
}

void
rg_shrink (const RgCase *c, GArray *pool, gboolean vulkan, guint64 seed, RgStatus status,
           RgCase *out)
{
  g_autoptr (GArray) order = g_array_copy (pool);
  g_array_sort (order, by_size);
  RgCase cand = *c;
  for (guint i = 0; i <= order->len; i++) {
    /* the last candidate is the whole graph */
    cand.out = i < order->len ? g_array_index (order, RgVal, i).ref : c->out;
    if (grd_graph_node_kind (c->graph, cand.out.node) != GRD_NODE_OP)
      continue;
    g_autofree char *text = rg_case_to_gradus (&cand, NULL);
    g_autoptr (GError) error = NULL;
    g_autoptr (GrdDocument) doc = grd_document_load_from_data (text, -1, NULL, &error);
    g_assert_no_error (error);
    RgCase small = { 0 };
    g_assert_true (case_from_document (doc, &small, &error));
    RgResult r = { 0 };
    rg_check (&small, vulkan, seed, &r);
    gboolean same = r.status == status;
    rg_result_clear (&r);
    rg_case_clear (&small);
    if (same || i == order->len) {
      /* a fresh copy (the check added its gradient nodes to that one), then
       * the nodes that the failure does not need bypassed */
      g_autoptr (GrdDocument) again = grd_document_load_from_data (text, -1, NULL, &error);
      RgCase sub = { 0 };
      g_assert_true (case_from_document (again, &sub, &error));
      if (same)
        bypass_nodes (&sub, vulkan, seed, status, out);
      else
        *out = sub, sub = (RgCase) { 0 };
      rg_case_clear (&sub);
      return;
    }
  }
}
