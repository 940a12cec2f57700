/* grd-program-graph.c: a function's graph with the CPU compiler's
 * stabilising rewrites (grd_pass_stabilize) applied, rebuilt as a new graph
 * for back ends that compile graphs (Vulkan): log(sigmoid(x)) at x = -800
 * must be -800 there too, not -inf. The same pass runs, not a copy of it. */
#include "grd-program-graph.h"

/* The id the rebuilt node takes: its origin's where that is free, for messages. */
static const char *
origin_id (GrdGraph *src, GrdGraph *dst, gint origin)
{
  if (origin < 0)
    return NULL;
  const char *id = grd_graph_node (src, origin)->id;
  return grd_graph_find (dst, id) < 0 ? id : NULL;
}

static GrdRef
shared_in (GrdStableGraph *sg, GrdGraph *src, gint shared_node, GError **error)
{
  for (guint k = 0; k < sg->origin_of->len; k++)
    if (g_array_index (sg->origin_of, gint, k) == shared_node)
      return (GrdRef) { (gint) k, 0 };
  GrdNode *node = grd_graph_node (src, shared_node);
  GrdRef r = grd_graph_shared (sg->graph, origin_id (src, sg->graph, shared_node), node->value,
                               error);
  if (!grd_ref_is_none (r)) {
    g_array_set_size (sg->origin_of, grd_graph_n_nodes (sg->graph));
    g_array_index (sg->origin_of, gint, r.node) = shared_node;
  }
  return r;
}

/* Every node of the new graph not made for a shared variable maps to -1. */
static void
grow_origins (GrdStableGraph *sg)
{
  guint old = sg->origin_of->len;
  g_array_set_size (sg->origin_of, grd_graph_n_nodes (sg->graph));
  for (guint k = old; k < sg->origin_of->len; k++)
    g_array_index (sg->origin_of, gint, k) = -1;
}

static gboolean
rebuild (GrdStableGraph *sg, GrdProgram *prog, GrdGraph *src, GError **error)
{
  guint nv = prog->values->len;
  g_autofree GrdRef *map = g_new (GrdRef, MAX (nv, 1));
  for (guint v = 0; v < nv; v++)
    map[v] = GRD_REF_NONE;
  for (guint v = 0; v < nv; v++) {
    GrdPValue *pv = grd_program_value (prog, v);
    if (pv->kind == GRD_PVALUE_INPUT) {
      map[v] = grd_graph_variable (sg->graph, origin_id (src, sg->graph, pv->origin),
                                   pv->type.dtype, pv->type.rank, pv->type.dims, error);
      if (!grd_ref_is_none (map[v]))
        sg->inputs[pv->input_index] = map[v];
    } else if (pv->kind == GRD_PVALUE_CONSTANT && pv->n_uses > 0) {
      map[v] = grd_graph_constant (sg->graph, origin_id (src, sg->graph, pv->origin),
                                   pv->constant, error);
    } else if (pv->kind == GRD_PVALUE_SHARED) {
      map[v] = shared_in (sg, src, pv->shared_node, error);
    }
    grow_origins (sg);
    if (error && *error)
      return FALSE;
  }
  for (guint i = 0; i < prog->instrs->len; i++) {
    GrdInstr *ins = grd_program_instr (prog, i);
    if (ins->kind == GRD_INSTR_DEAD)
      continue;
    if (ins->kind != GRD_INSTR_OP) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                   "node '%s': only op instructions can be rebuilt as a graph",
                   ins->label ? ins->label : "?");
      return FALSE;
    }
    g_autofree GrdRef *in = g_new (GrdRef, MAX (ins->n_in, 1));
    for (gint j = 0; j < ins->n_in; j++)
      in[j] = map[ins->in[j]];
    gint origin = grd_program_value (prog, ins->out[0])->origin;
    GrdRef r = grd_graph_op (sg->graph, origin_id (src, sg->graph, origin), ins->op->name, in,
                             ins->n_in, &ins->attrs, error);
    grow_origins (sg);
    if (grd_ref_is_none (r))
      return FALSE;
    for (gint k = 0; k < ins->n_out; k++)
      map[ins->out[k]] = (GrdRef) { r.node, k };
  }
  for (guint o = 0; o < prog->outputs->len; o++)
    sg->outputs[o] = map[g_array_index (prog->outputs, gint, o)];
  for (guint u = 0; u < prog->upd_values->len; u++) {
    GrdRef s = shared_in (sg, src, g_array_index (prog->upd_shared, gint, u), error);
    grow_origins (sg);
    if (grd_ref_is_none (s))
      return FALSE;
    sg->updates[u] = (GrdUpdate) { s, map[g_array_index (prog->upd_values, gint, u)] };
  }
  return TRUE;
}

GrdStableGraph *
grd_stable_graph_new (GrdGraph *g, const GrdRef *inputs, gint n_inputs, const GrdRef *outputs,
                      gint n_outputs, const GrdUpdate *updates, gint n_updates, GError **error)
{
  GrdProgram *prog = grd_program_new (g, inputs, n_inputs, outputs, n_outputs, updates, n_updates);
  /* as in grd_program_optimize: one rewrite exposes the next (1 - sigmoid(x)
   * becomes sigmoid(-x), whose log then becomes -softplus(x)) */
  gboolean changed = FALSE;
  for (gint round = 0; round < 8; round++) {
    gboolean more = grd_pass_stabilize (prog);
    grd_program_sweep (prog);
    changed |= more;
    if (!more)
      break;
  }
  if (!changed) {
    grd_program_free (prog);
    return NULL;
  }
  GrdStableGraph *sg = g_new0 (GrdStableGraph, 1);
  sg->graph = grd_graph_new ();
  sg->inputs = g_new0 (GrdRef, MAX (n_inputs, 1));
  sg->outputs = g_new0 (GrdRef, MAX (n_outputs, 1));
  sg->updates = g_new0 (GrdUpdate, MAX (n_updates, 1));
  sg->origin_of = g_array_new (FALSE, FALSE, sizeof (gint));
  gboolean ok = rebuild (sg, prog, g, error);
  grd_program_free (prog);
  if (!ok) {
    grd_stable_graph_free (sg);
    return NULL;
  }
  return sg;
}

void
grd_stable_graph_free (GrdStableGraph *sg)
{
  if (!sg)
    return;
  grd_graph_unref (sg->graph);
  g_free (sg->inputs);
  g_free (sg->outputs);
  g_free (sg->updates);
  g_array_unref (sg->origin_of);
  g_free (sg);
}
