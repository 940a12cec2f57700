/* grd-budget.c: the memory budget of a function, checked before it allocates.
 *
 * The ops' type rules give the shape of every value a call computes: from the
 * static types when the function is compiled (dimensions known in the graph),
 * and again from the inputs' actual shapes before each call. Any one value
 * larger than the budget, or the values alive together along the reference
 * schedule (an upper bound for the optimised program, which fuses and frees
 * at least as early), is refused with the node and the size. */
#include "grd-internal.h"

#include <string.h>

/* Bytes of a value of this type; FALSE while a dimension is unknown. */
static gboolean
type_bytes (const GrdType *t, guint64 *bytes)
{
  for (gint d = 0; d < t->rank; d++)
    if (t->dims[d] < 0)
      return FALSE;
  if (!grd_shape_bytes (t->rank, t->dims, t->dtype, bytes))
    *bytes = G_MAXUINT64;
  else if (*bytes == 0) {
    /* an empty value is counted at its extent (zero dimensions as one): loops and
     * printing still walk its other dimensions (grd_limits_check_value says why) */
    if (!grd_shape_extent (t->rank, t->dims, t->dtype, bytes))
      *bytes = G_MAXUINT64;
  }
  return TRUE;
}

static void
refuse_value (GError **error, const GrdNode *node, const GrdType *t, guint64 limit)
{
  g_autofree char *what = node->kind == GRD_NODE_OP
                              ? g_strdup_printf ("node '%s' (%s): the result", node->id,
                                                 node->op->name)
                              : g_strdup_printf ("input '%s': the value", node->id);
  grd_limits_check_value (&(GrdLimits) { .memory_limit = limit }, what, t->dtype, t->rank, t->dims,
                          error);
}

gboolean
grd_budget_check (GrdGraph *g, const GrdBudgetPlan *plan, GrdTensor *const *args, guint64 limit,
                  GError **error)
{
  /* nodes added to the graph after the function was made are not its own */
  gint n = plan->n_nodes;
  g_autofree GrdType *types = g_new0 (GrdType, MAX (plan->n_slots, 1));
  g_autofree gboolean *known = g_new0 (gboolean, MAX (plan->n_slots, 1));
  for (gint i = 0; i < n; i++) {
    GrdNode *node = grd_graph_node (g, i);
    for (gint k = 0; k < node->n_outputs; k++) {
      types[plan->slot_base[i] + k] = node->types[k];
      known[plan->slot_base[i] + k] = !args || node->kind != GRD_NODE_OP;
    }
  }
  /* the inputs: their shapes at call time; counted as alive throughout */
  guint64 live = 0, peak = 0;
  for (gint i = 0; i < plan->n_inputs; i++) {
    GrdRef r = plan->inputs[i];
    GrdType *t = &types[plan->slot_base[r.node]];
    if (args)
      grd_type_set (t, t->dtype, args[i]->rank, args[i]->shape);
    guint64 b;
    if (type_bytes (t, &b)) {
      if (b > limit) {
        refuse_value (error, grd_graph_node (g, r.node), t, limit);
        return FALSE;
      }
      live += b;
    }
  }
  g_autofree guint64 *held = g_new0 (guint64, MAX (plan->n_slots, 1));
  for (gint p = 0; p < plan->n_schedule; p++) {
    GrdNode *node = grd_graph_node (g, plan->schedule[p]);
    gint base = plan->slot_base[plan->schedule[p]];
    if (args) {
      /* the type rule over the actual shapes; where it fails the call itself
       * reports the error, so the value is left uncounted */
      GrdType in[node->n_inputs + 1];
      gboolean all = TRUE;
      for (gint j = 0; j < node->n_inputs; j++) {
        gint s = plan->slot_base[node->inputs[j].node] + node->inputs[j].output;
        in[j] = types[s];
        all = all && known[s];
      }
      /* a scan has an output per body output (a gradient of a gradient scan: many) */
      GrdType out[MAX (node->n_outputs, 1)];
      memset (out, 0, sizeof out);
      if (all && node->op->infer (&node->attrs, in, node->n_inputs, out, NULL))
        for (gint k = 0; k < node->n_outputs; k++) {
          types[base + k] = out[k];
          known[base + k] = TRUE;
        }
    }
    for (gint k = 0; k < node->n_outputs; k++) {
      guint64 b;
      if (!known[base + k] || !type_bytes (&types[base + k], &b))
        continue;
      if (b > limit) {
        refuse_value (error, node, &types[base + k], limit);
        return FALSE;
      }
      held[base + k] = b;
      live = live > G_MAXUINT64 - b ? G_MAXUINT64 : live + b;
    }
    if (live > peak)
      peak = live;
    if (peak > limit) {
      g_autofree char *size = grd_size_describe (peak);
      g_autofree char *lim = grd_size_describe (limit);
      g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE,
                   "node '%s' (%s): the values alive at this node would take %s, more than the "
                   "memory limit of %s", node->id, node->op->name, size, lim);
      return FALSE;
    }
    /* what no later node reads is freed */
    for (gint j = 0; j < node->n_inputs; j++) {
      gint s = plan->slot_base[node->inputs[j].node] + node->inputs[j].output;
      if (plan->last_use[s] == p && !plan->keep[s]) {
        live -= MIN (live, held[s]);
        held[s] = 0;
      }
    }
  }
  return TRUE;
}

/* The budget of the function call running on this thread, for the kernels
 * whose result size comes from input values (arange), which the check above
 * cannot foresee. 0: the default budget. Per thread, so concurrent calls of
 * different functions do not see each other's; a nested call (scan bodies)
 * saves and restores the outer one. */
static _Thread_local guint64 call_limit;

guint64
grd_budget_call_begin (guint64 limit)
{
  guint64 outer = call_limit;
  call_limit = limit;
  return outer;
}

void
grd_budget_call_end (guint64 outer)
{
  call_limit = outer;
}

GrdTensor *
grd_budget_new_tensor (const char *what, GrdDType dtype, gint rank, const gint64 *shape,
                       GError **error)
{
  GrdLimits l = { 0 };
  l.memory_limit = call_limit ? call_limit : grd_memory_limit_default ();
  if (!grd_limits_check_value (&l, what, dtype, rank, shape, error))
    return NULL;
  return grd_tensor_try_new (dtype, rank, shape, error);
}
