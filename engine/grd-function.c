/* grd-function.c: theano.function: a schedule of the nodes that the outputs and
 * updates need, and calls that run it with simultaneous updates.
 *
 * This is the reference executor: every op's own kernel, one after another,
 * freeing each intermediate value after its last use. */
#include "grd-internal.h"
#include "vulkan/grd-vulkan.h"
#include "compile/grd-exec.h"
#include "compile/grd-program-graph.h"

#include <math.h>
#include <string.h>

struct _GrdFunction {
  GrdGraph  *graph;
  GArray    *inputs;      /* GrdRef, variable nodes */
  GArray    *outputs;     /* GrdRef */
  GArray    *updates;     /* GrdUpdate */
  GArray    *schedule;    /* gint: op nodes in evaluation order */
  gint       n_nodes;     /* the graph's nodes when compiled: later ones are not ours */
  gint      *slot_base;   /* per node: index of its output 0 in the value array */
  gint       n_slots;
  gint      *last_use;    /* per slot: schedule position of its last reader */
  gboolean  *keep;        /* per slot: an output or update value */
  GrdBackend     backend;
  GrdVkFunction *vk;      /* the compiled Vulkan function, when backend is Vulkan */
  GrdExec       *exec;    /* the optimised CPU program; NULL runs the reference executor */
  char          *fallback_reason;
  gint64         n_vk_calls;
  guint64        memory_limit;   /* 0: the default (grd-budget.c) */
  GArray        *checked;        /* gint64 rank + dims per input of the last call checked */
  gint           extra_refs;  /* grd_function_ref()s not yet dropped by grd_function_free() */
};

const char *
grd_backend_name (GrdBackend backend)
{
  return backend == GRD_BACKEND_VULKAN ? "vulkan" : "cpu";
}

gboolean
grd_backend_from_name (const char *name, GrdBackend *out)
{
  if (g_strcmp0 (name, "cpu") == 0)
    *out = GRD_BACKEND_CPU;
  else if (g_strcmp0 (name, "vulkan") == 0)
    *out = GRD_BACKEND_VULKAN;
  else
    return FALSE;
  return TRUE;
}

static gboolean
check_ref (GrdGraph *g, GrdRef r, const char *what, gint i, GError **error)
{
  if (r.node < 0 || r.node >= grd_graph_n_nodes (g)
      || r.output >= grd_graph_node (g, r.node)->n_outputs || r.output < 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "function: %s %d refers to no node output",
                 what, i);
    return FALSE;
  }
  return TRUE;
}

static GrdRef
resolve (GrdGraph *g, GrdRef r)
{
  GrdNode *n = grd_graph_node (g, r.node);
  while (n->kind == GRD_NODE_GRAD) {
    r = n->aliases[r.output];
    n = grd_graph_node (g, r.node);
  }
  return r;
}

/* GRADUS_OPTIMIZER=none runs every function on the reference executor. */
static guint
default_passes (void)
{
  const char *env = g_getenv ("GRADUS_OPTIMIZER");
  return g_strcmp0 (env, "none") == 0 ? 0 : GRD_PASS_ALL;
}

GrdFunction *
grd_function_new (GrdGraph *g, const GrdRef *inputs, gint n_inputs, const GrdRef *outputs,
                  gint n_outputs, const GrdUpdate *updates, gint n_updates, GError **error)
{
  return grd_function_new_with_passes (g, inputs, n_inputs, outputs, n_outputs, updates, n_updates,
                                       default_passes (), error);
}

static GrdFunction *function_new (GrdGraph *g, const GrdRef *inputs, gint n_inputs,
                                  const GrdRef *outputs, gint n_outputs,
                                  const GrdUpdate *updates, gint n_updates, guint passes,
                                  guint64 memory_limit, GError **error);

GrdFunction *
grd_function_new_with_passes (GrdGraph *g, const GrdRef *inputs, gint n_inputs,
                              const GrdRef *outputs, gint n_outputs, const GrdUpdate *updates,
                              gint n_updates, guint passes, GError **error)
{
  return function_new (g, inputs, n_inputs, outputs, n_outputs, updates, n_updates, passes, 0,
                       error);
}

GrdFunction *
grd_function_new_with_limit (GrdGraph *g, const GrdRef *inputs, gint n_inputs,
                             const GrdRef *outputs, gint n_outputs, const GrdUpdate *updates,
                             gint n_updates, guint64 memory_limit, GError **error)
{
  return function_new (g, inputs, n_inputs, outputs, n_outputs, updates, n_updates,
                       default_passes (), memory_limit, error);
}

static GrdBudgetPlan
budget_plan (GrdFunction *fn)
{
  return (GrdBudgetPlan) {
    (const GrdRef *) fn->inputs->data, fn->inputs->len, (const gint *) fn->schedule->data,
    fn->schedule->len, fn->n_nodes, fn->slot_base, fn->n_slots, fn->last_use, fn->keep,
  };
}

void
grd_function_set_memory_limit (GrdFunction *fn, guint64 bytes)
{
  fn->memory_limit = bytes;
  g_array_set_size (fn->checked, 0);
}

guint64
grd_function_get_memory_limit (GrdFunction *fn)
{
  return fn->memory_limit ? fn->memory_limit : grd_memory_limit_default ();
}

/* The call-time budget check, skipped while the input shapes stay those of
 * the last call checked (a training loop pays for it once). */
static gboolean
check_call_budget (GrdFunction *fn, GrdTensor *const *inputs, GError **error)
{
  guint n_in = fn->inputs->len;
  gboolean same = fn->checked->len > 0;
  guint at = 0;
  for (guint i = 0; i < n_in; i++) {
    GrdNode *node = grd_graph_node (fn->graph, g_array_index (fn->inputs, GrdRef, i).node);
    /* a missing or misshapen input is the call's own error to report */
    if (!inputs[i] || !grd_type_accepts (&node->types[0], inputs[i]))
      return TRUE;
    for (gint d = -1; same && d < inputs[i]->rank; d++, at++)
      same = at < fn->checked->len
             && g_array_index (fn->checked, gint64, at) == (d < 0 ? inputs[i]->rank
                                                                   : inputs[i]->shape[d]);
  }
  if (same && at == fn->checked->len)
    return TRUE;
  GrdBudgetPlan plan = budget_plan (fn);
  if (!grd_budget_check (fn->graph, &plan, inputs, grd_function_get_memory_limit (fn), error))
    return FALSE;
  g_array_set_size (fn->checked, 0);
  for (guint i = 0; i < n_in; i++) {
    gint64 r = inputs[i]->rank;
    g_array_append_val (fn->checked, r);
    g_array_append_vals (fn->checked, inputs[i]->shape, inputs[i]->rank);
  }
  return TRUE;
}

static GrdFunction *
function_new (GrdGraph *g, const GrdRef *inputs, gint n_inputs, const GrdRef *outputs,
              gint n_outputs, const GrdUpdate *updates, gint n_updates, guint passes,
              guint64 memory_limit, GError **error)
{
  gint n = grd_graph_n_nodes (g);
  g_autofree gint *input_pos = g_new (gint, MAX (n, 1));
  for (gint i = 0; i < n; i++)
    input_pos[i] = -1;
  for (gint i = 0; i < n_inputs; i++) {
    if (!check_ref (g, inputs[i], "input", i, error))
      return NULL;
    GrdNode *node = grd_graph_node (g, inputs[i].node);
    if (node->kind != GRD_NODE_VARIABLE) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH,
                   "function: input '%s' is not a variable (inputs must be variable nodes)",
                   node->id);
      return NULL;
    }
    if (input_pos[inputs[i].node] >= 0) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "function: input '%s' is given twice",
                   node->id);
      return NULL;
    }
    input_pos[inputs[i].node] = i;
  }
  g_autofree gboolean *is_updated = g_new0 (gboolean, MAX (n, 1));
  g_autoptr (GArray) roots = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  for (gint i = 0; i < n_outputs; i++) {
    if (!check_ref (g, outputs[i], "output", i, error))
      return NULL;
    GrdRef r = resolve (g, outputs[i]);
    g_array_append_val (roots, r);
  }
  g_autoptr (GArray) upd = g_array_new (FALSE, FALSE, sizeof (GrdUpdate));
  for (gint i = 0; i < n_updates; i++) {
    if (!check_ref (g, updates[i].shared, "update", i, error)
        || !check_ref (g, updates[i].value, "update value", i, error))
      return NULL;
    GrdUpdate u = { updates[i].shared, resolve (g, updates[i].value) };
    GrdNode *sn = grd_graph_node (g, u.shared.node);
    if (sn->kind != GRD_NODE_SHARED) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH,
                   "function: update of '%s': it is not a shared variable", sn->id);
      return NULL;
    }
    if (is_updated[u.shared.node]) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH,
                   "function: shared variable '%s' is updated twice", sn->id);
      return NULL;
    }
    is_updated[u.shared.node] = TRUE;
    GrdNode *vn = grd_graph_node (g, u.value.node);
    const GrdType *st = &sn->types[0], *vt = &vn->types[u.value.output];
    gboolean shape_ok = st->rank == vt->rank;
    for (gint d = 0; shape_ok && d < st->rank; d++)
      shape_ok = vt->dims[d] < 0 || vt->dims[d] == st->dims[d];
    if (st->dtype != vt->dtype || !shape_ok) {
      g_autofree char *want = grd_type_describe (st);
      g_autofree char *got = grd_type_describe (vt);
      g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE,
                   "function: update of shared variable '%s' by node '%s': expected %s, got %s",
                   sn->id, vn->id, want, got);
      return NULL;
    }
    g_array_append_val (upd, u);
    g_array_append_val (roots, u.value);
  }

  /* Mark what the roots need; every variable among them must be an input. */
  g_autofree gboolean *needed = g_new0 (gboolean, MAX (n, 1));
  for (guint i = 0; i < roots->len; i++)
    needed[g_array_index (roots, GrdRef, i).node] = TRUE;
  for (gint i = n - 1; i >= 0; i--) {
    if (!needed[i])
      continue;
    GrdNode *node = grd_graph_node (g, i);
    for (gint j = 0; j < node->n_inputs; j++)
      needed[node->inputs[j].node] = TRUE;
  }
  for (gint i = 0; i < n; i++) {
    GrdNode *node = grd_graph_node (g, i);
    if (needed[i] && node->kind == GRD_NODE_VARIABLE && input_pos[i] < 0) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH,
                   "function: variable '%s' is needed by the outputs but is not an input",
                   node->id);
      return NULL;
    }
  }

  GrdFunction *fn = g_new0 (GrdFunction, 1);
  fn->graph = grd_graph_ref (g);
  fn->inputs = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  g_array_append_vals (fn->inputs, inputs, n_inputs);
  fn->outputs = g_array_copy (roots);
  g_array_set_size (fn->outputs, n_outputs);
  fn->updates = g_steal_pointer (&upd);
  fn->schedule = g_array_new (FALSE, FALSE, sizeof (gint));
  fn->n_nodes = n;
  fn->slot_base = g_new (gint, MAX (n, 1));
  for (gint i = 0; i < n; i++) {
    fn->slot_base[i] = fn->n_slots;
    fn->n_slots += grd_graph_node (g, i)->n_outputs;
    if (needed[i] && grd_graph_node (g, i)->kind == GRD_NODE_OP)
      g_array_append_val (fn->schedule, i);
  }
  fn->last_use = g_new0 (gint, MAX (fn->n_slots, 1));
  fn->keep = g_new0 (gboolean, MAX (fn->n_slots, 1));
  for (gint s = 0; s < fn->n_slots; s++)
    fn->last_use[s] = -1;
  for (guint p = 0; p < fn->schedule->len; p++) {
    GrdNode *node = grd_graph_node (g, g_array_index (fn->schedule, gint, p));
    for (gint j = 0; j < node->n_inputs; j++)
      fn->last_use[fn->slot_base[node->inputs[j].node] + node->inputs[j].output] = p;
  }
  for (guint i = 0; i < roots->len; i++) {
    GrdRef r = g_array_index (roots, GrdRef, i);
    fn->keep[fn->slot_base[r.node] + r.output] = TRUE;
  }
  fn->memory_limit = memory_limit;
  fn->checked = g_array_new (FALSE, FALSE, sizeof (gint64));
  GrdBudgetPlan plan = budget_plan (fn);
  if (!grd_budget_check (g, &plan, NULL, grd_function_get_memory_limit (fn), error)) {
    grd_function_free (fn);
    return NULL;
  }
  if (passes) {
    GrdProgram *prog = grd_program_new (g, inputs, n_inputs, (GrdRef *) fn->outputs->data,
                                        n_outputs, (GrdUpdate *) fn->updates->data, n_updates);
    grd_program_optimize (prog, passes);
    if (g_getenv ("GRADUS_DUMP_PROGRAM")) {
      g_autofree char *text = grd_program_describe (prog);
      g_printerr ("%s", text);
    }
    fn->exec = grd_exec_new (prog);
  }
  return fn;
}

char *
grd_function_describe (GrdFunction *fn)
{
  if (!fn->exec) {
    GString *s = g_string_new ("reference executor:\n");
    for (guint p = 0; p < fn->schedule->len; p++) {
      GrdNode *node = grd_graph_node (fn->graph, g_array_index (fn->schedule, gint, p));
      g_string_append_printf (s, "%s = %s\n", node->id, node->op->name);
    }
    return g_string_free (s, FALSE);
  }
  char *text = grd_program_describe (grd_exec_program (fn->exec));
  if (!grd_exec_is_scalar (fn->exec))
    return text;
  char *all = g_strconcat (text, "runs as straight-line scalar code\n", NULL);
  g_free (text);
  return all;
}

void
grd_function_set_profiling (GrdFunction *fn, gboolean on)
{
  if (fn->exec)
    grd_exec_set_profiling (fn->exec, on);
}

GArray *
grd_function_profile (GrdFunction *fn)
{
  return fn->exec ? grd_exec_profile (fn->exec) : NULL;
}

GrdFunction *
grd_function_new_on (GrdGraph *g, const GrdRef *inputs, gint n_inputs, const GrdRef *outputs,
                     gint n_outputs, const GrdUpdate *updates, gint n_updates, GrdBackend backend,
                     char **warning, GError **error)
{
  /* The CPU function checks the graph and the function first, for every back end;
   * it is also what runs if the Vulkan device is lost during a call. */
  GrdFunction *fn = grd_function_new (g, inputs, n_inputs, outputs, n_outputs, updates, n_updates,
                                      error);
  if (!fn || backend == GRD_BACKEND_CPU)
    return fn;
  /* scan and ifelse run on the device too (engine/vulkan/grd-vk-scan.c); what
   * it cannot run makes grd_vk_function_new fail, naming the node */
  g_autoptr (GError) vk_error = NULL;
  /* the CPU's stabilising rewrites apply on the device too (grd-program-graph.c) */
  GrdStableGraph *sg = grd_stable_graph_new (g, inputs, n_inputs, (GrdRef *) fn->outputs->data,
                                             n_outputs, (GrdUpdate *) fn->updates->data,
                                             n_updates, &vk_error);
  if (sg) {
    fn->vk = grd_vk_function_new (sg->graph, sg->inputs, n_inputs, sg->outputs, n_outputs,
                                  sg->updates, n_updates, &vk_error);
    if (fn->vk)
      grd_vk_function_set_origin (fn->vk, g, (gint *) sg->origin_of->data);
    grd_stable_graph_free (sg);
    /* an op the rewrites made that the device lacks: the graph as written */
    if (!fn->vk && g_error_matches (vk_error, GRD_ERROR, GRD_ERROR_UNSUPPORTED)) {
      g_clear_error (&vk_error);
      fn->vk = grd_vk_function_new (g, inputs, n_inputs, outputs, n_outputs, updates, n_updates,
                                    &vk_error);
    }
  } else if (!vk_error) {
    fn->vk = grd_vk_function_new (g, inputs, n_inputs, outputs, n_outputs, updates, n_updates,
                                  &vk_error);
  }
  if (fn->vk)
    fn->backend = GRD_BACKEND_VULKAN;
  else {
    /* a node the device cannot run is not a missing device: say which */
    if (g_error_matches (vk_error, GRD_ERROR, GRD_ERROR_UNSUPPORTED)
        && g_str_has_prefix (vk_error->message, "node '"))
      fn->fallback_reason = g_strdup_printf ("the Vulkan back end cannot run this function (%s); "
                                             "running on the CPU", vk_error->message);
    else
      fn->fallback_reason = g_strdup_printf ("Vulkan is not available (%s); running on the CPU",
                                             vk_error->message);
    if (warning)
      *warning = g_strdup (fn->fallback_reason);
  }
  return fn;
}

GrdBackend
grd_function_backend (GrdFunction *fn)
{
  return fn->backend;
}

const char *
grd_function_fallback_reason (GrdFunction *fn)
{
  return fn->fallback_reason;
}

/* A Vulkan call; when the device fails (or GRADUS_VULKAN_FAIL_AT_CALL=N
 * simulates that at call N, for tests), the function moves to the CPU for
 * good and returns FALSE with *moved set, for the caller to redo the call. */
static gboolean
call_vulkan (GrdFunction *fn, GrdTensor *const *inputs, GrdTensor **outputs, gboolean *moved,
             GError **error)
{
  g_autoptr (GError) local = NULL;
  const char *fail_at = g_getenv ("GRADUS_VULKAN_FAIL_AT_CALL");
  if (fail_at && g_ascii_strtoll (fail_at, NULL, 10) == fn->n_vk_calls++)
    g_set_error (&local, GRD_ERROR, GRD_ERROR_DEVICE, "vkQueueSubmit failed (device lost, simulated)");
  else if (grd_vk_function_call (fn->vk, inputs, outputs, &local))
    return TRUE;
  if (local->code != GRD_ERROR_DEVICE) {
    g_propagate_error (error, g_steal_pointer (&local));
    return FALSE;
  }
  /* whatever the device still gives back is kept; the rest is as last synced */
  grd_vk_function_sync (fn->vk, NULL);
  g_clear_pointer (&fn->vk, grd_vk_function_free);
  fn->backend = GRD_BACKEND_CPU;
  g_free (fn->fallback_reason);
  fn->fallback_reason = g_strdup_printf ("the Vulkan device failed (%s); running on the CPU from "
                                         "the shared values of the last sync", local->message);
  *moved = TRUE;
  return FALSE;
}

gboolean
grd_function_sync (GrdFunction *fn, GError **error)
{
  return fn->vk ? grd_vk_function_sync (fn->vk, error) : TRUE;
}

void
grd_function_free (GrdFunction *fn)
{
  if (!fn)
    return;
  if (g_atomic_int_add (&fn->extra_refs, -1) > 0)
    return;
  if (fn->vk)
    grd_vk_function_free (fn->vk);
  grd_exec_free (fn->exec);
  g_free (fn->fallback_reason);
  grd_graph_unref (fn->graph);
  g_array_unref (fn->inputs);
  g_array_unref (fn->outputs);
  g_array_unref (fn->updates);
  g_array_unref (fn->schedule);
  g_free (fn->slot_base);
  g_free (fn->last_use);
  g_free (fn->keep);
  if (fn->checked)
    g_array_unref (fn->checked);
  g_free (fn);
}

GrdFunction *
grd_function_ref (GrdFunction *fn)
{
  g_atomic_int_inc (&fn->extra_refs);
  return fn;
}

gint
grd_function_n_inputs (GrdFunction *fn)
{
  return fn->inputs->len;
}

gint
grd_function_n_outputs (GrdFunction *fn)
{
  return fn->outputs->len;
}

/* Lossless conversions only, as Theano refuses to downcast inputs silently. */
static gboolean
can_feed (GrdDType from, GrdDType to)
{
  if (from == to || from == GRD_DTYPE_BOOL)
    return TRUE;
  if (to == GRD_DTYPE_FLOAT64)
    return TRUE;
  if (to == GRD_DTYPE_INT64)
    return from == GRD_DTYPE_INT32;
  if (to == GRD_DTYPE_FLOAT32)
    return FALSE;
  return FALSE;
}

static void
free_values (GrdTensor **values, gint n)
{
  for (gint i = 0; i < n; i++)
    grd_tensor_unref (values[i]);
  g_free (values);
}

static gboolean call_cpu (GrdFunction *fn, GrdTensor *const *inputs, GrdTensor **outputs,
                          GError **error);

gboolean
grd_function_call (GrdFunction *fn, GrdTensor *const *inputs, GrdTensor **outputs, GError **error)
{
  if (!check_call_budget (fn, inputs, error))
    return FALSE;
  if (fn->vk) {
    gboolean moved = FALSE;
    if (call_vulkan (fn, inputs, outputs, &moved, error))
      return TRUE;
    if (!moved)
      return FALSE;
  }
  /* programs of float scalars: straight-line code, no checks needed when
   * every input is already a scalar of the program's dtype */
  if (fn->exec && grd_exec_call_scalar (fn->exec, inputs, outputs))
    return TRUE;
  /* kernels whose result size comes from input values check this budget */
  guint64 outer = grd_budget_call_begin (fn->memory_limit);
  gboolean ok = call_cpu (fn, inputs, outputs, error);
  grd_budget_call_end (outer);
  return ok;
}

static gboolean
call_cpu (GrdFunction *fn, GrdTensor *const *inputs, GrdTensor **outputs, GError **error)
{
  GrdGraph *g = fn->graph;
  /* check and convert the inputs (references: no copy unless converted) */
  guint n_in = fn->inputs->len;
  GrdTensor *args[n_in + 1];
  args[n_in] = NULL;
  for (guint i = 0; i < n_in; i++) {
    GrdRef r = g_array_index (fn->inputs, GrdRef, i);
    GrdNode *node = grd_graph_node (g, r.node);
    GrdTensor *in = inputs[i];
    gboolean ok = in && can_feed (in->dtype, node->types[0].dtype)
                  && grd_type_accepts (&node->types[0], in);
    if (!ok) {
      if (!in)
        g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE, "input '%s': no value given", node->id);
      else {
        g_autofree char *want = grd_type_describe (&node->types[0]);
        g_autofree char *got = grd_tensor_describe (in);
        g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE, "input '%s': expected %s, got %s",
                     node->id, want, got);
      }
      for (guint k = 0; k < i; k++)
        grd_tensor_unref (args[k]);
      return FALSE;
    }
    args[i] = in->dtype == node->types[0].dtype ? grd_tensor_ref (in)
                                                : grd_tensor_cast (in, node->types[0].dtype);
  }
  if (fn->exec) {
    gboolean ok = grd_exec_call (fn->exec, args, outputs, error);
    for (guint i = 0; i < n_in; i++)
      grd_tensor_unref (args[i]);
    return ok;
  }
  GrdTensor **values = g_new0 (GrdTensor *, MAX (fn->n_slots, 1));
  for (guint i = 0; i < n_in; i++)
    values[fn->slot_base[g_array_index (fn->inputs, GrdRef, i).node]] = args[i];
  for (gint i = 0; i < fn->n_nodes; i++) {
    GrdNode *node = grd_graph_node (g, i);
    if (node->value)
      values[fn->slot_base[i]] = grd_tensor_ref (node->value);
  }
  for (guint p = 0; p < fn->schedule->len; p++) {
    gint i = g_array_index (fn->schedule, gint, p);
    GrdNode *node = grd_graph_node (g, i);
    GrdTensor *in[node->n_inputs + 1];
    for (gint j = 0; j < node->n_inputs; j++)
      in[j] = values[fn->slot_base[node->inputs[j].node] + node->inputs[j].output];
    GrdTensor **out = values + fn->slot_base[i];
    g_autoptr (GError) local = NULL;
    if (!node->op->eval (node, in, out, &local)) {
      g_set_error (error, GRD_ERROR, local ? local->code : GRD_ERROR_VALUE,
                   "node '%s' (%s): %s", node->id, node->op->name,
                   local ? local->message : "failed");
      free_values (values, fn->n_slots);
      return FALSE;
    }
    /* release what no later node reads */
    for (gint j = 0; j < node->n_inputs; j++) {
      gint s = fn->slot_base[node->inputs[j].node] + node->inputs[j].output;
      if (fn->last_use[s] == (gint) p && !fn->keep[s] && grd_graph_node (g, node->inputs[j].node)->kind == GRD_NODE_OP)
        g_clear_pointer (&values[s], grd_tensor_unref);
    }
  }
  /* Updates: check every new value first so that a failure changes nothing. */
  for (guint u = 0; u < fn->updates->len; u++) {
    GrdUpdate *up = &g_array_index (fn->updates, GrdUpdate, u);
    GrdNode *sn = grd_graph_node (g, up->shared.node);
    GrdTensor *v = values[fn->slot_base[up->value.node] + up->value.output];
    if (!grd_tensor_same_shape (v, sn->value)) {
      g_autofree char *want = grd_tensor_describe (sn->value);
      g_autofree char *got = grd_tensor_describe (v);
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                   "update of shared variable '%s' by node '%s': expected %s, got %s", sn->id,
                   grd_graph_node (g, up->value.node)->id, want, got);
      free_values (values, fn->n_slots);
      return FALSE;
    }
  }
  for (guint o = 0; o < fn->outputs->len; o++) {
    GrdRef r = g_array_index (fn->outputs, GrdRef, o);
    outputs[o] = grd_tensor_ref (values[fn->slot_base[r.node] + r.output]);
  }
  for (guint u = 0; u < fn->updates->len; u++) {
    GrdUpdate *up = &g_array_index (fn->updates, GrdUpdate, u);
    GrdNode *sn = grd_graph_node (g, up->shared.node);
    GrdTensor *v = values[fn->slot_base[up->value.node] + up->value.output];
    grd_tensor_unref (sn->value);
    sn->value = grd_tensor_ref (v);
  }
  free_values (values, fn->n_slots);
  return TRUE;
}

/* The slow way for scalar functions the straight-line path does not take:
 * tensors of one element each way. */
static gboolean
call_doubles_tensors (GrdFunction *fn, const double *in, double *out, GError **error)
{
  guint n_in = fn->inputs->len, n_out = fn->outputs->len;
  GrdTensor *args[n_in + 1], *res[n_out + 1];
  for (guint i = 0; i < n_in; i++) {
    GrdNode *node = grd_graph_node (fn->graph, g_array_index (fn->inputs, GrdRef, i).node);
    GrdDType dt = node->types[0].dtype;
    /* an integer or bool input takes whole numbers in its range only */
    double v = in[i];
    gboolean exact = grd_dtype_is_float (dt)
                     || (dt == GRD_DTYPE_BOOL && (v == 0 || v == 1))
                     || (dt == GRD_DTYPE_INT32 && v == floor (v) && v >= -0x1p31 && v < 0x1p31)
                     || (dt == GRD_DTYPE_INT64 && v == floor (v) && v >= -0x1p63 && v < 0x1p63);
    if (!exact) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE, "input '%s': %.17g is not a %s value",
                   node->id, in[i], grd_dtype_name (dt));
      for (guint k = 0; k < i; k++)
        grd_tensor_unref (args[k]);
      return FALSE;
    }
    args[i] = grd_tensor_new_scalar (dt, in[i]);
  }
  gboolean ok = grd_function_call (fn, args, res, error);
  for (guint i = 0; i < n_in; i++)
    grd_tensor_unref (args[i]);
  if (!ok)
    return FALSE;
  for (guint o = 0; o < n_out; o++) {
    out[o] = grd_tensor_get (res[o], 0);
    grd_tensor_unref (res[o]);
  }
  return TRUE;
}

gboolean
grd_function_call_doubles (GrdFunction *fn, const double *in, double *out, GError **error)
{
  if (fn->exec && !fn->vk && grd_exec_call_doubles (fn->exec, in, out))
    return TRUE;
  for (guint i = 0; i < fn->inputs->len; i++) {
    GrdNode *node = grd_graph_node (fn->graph, g_array_index (fn->inputs, GrdRef, i).node);
    if (node->types[0].rank != 0) {
      g_autofree char *t = grd_type_describe (&node->types[0]);
      g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE,
                   "input '%s' is %s, not a scalar: call the function with tensors", node->id, t);
      return FALSE;
    }
  }
  for (guint o = 0; o < fn->outputs->len; o++) {
    GrdRef r = g_array_index (fn->outputs, GrdRef, o);
    GrdNode *node = grd_graph_node (fn->graph, r.node);
    if (node->types[r.output].rank != 0) {
      g_autofree char *t = grd_type_describe (&node->types[r.output]);
      g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE,
                   "output %u ('%s') is %s, not a scalar: call the function with tensors", o,
                   node->id, t);
      return FALSE;
    }
  }
  return call_doubles_tensors (fn, in, out, error);
}
