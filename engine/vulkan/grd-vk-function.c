/* grd-vk-function.c: a GrdFunction compiled to Vulkan compute dispatches.
 *
 * At creation the schedule (the CPU's: needed op nodes in index order) is
 * cut into steps: chains of elementwise nodes whose intermediate values have
 * one reader become one fused kernel; shape ops that keep the element order
 * become aliases; a conv2d or _conv2d_grad_input read by one such chain
 * takes it as the epilogue of its tiled kernel (grd-vk-epilogue.c); every
 * other node is one or two dispatches. At each call the
 * runtime shapes come from the ops' own type rules applied to the runtime
 * shapes, buffers come from a per-slot pool kept across calls, and all steps
 * are recorded into one command buffer with a barrier wherever a dispatch
 * reads what an earlier one wrote. Shared variables stay on the device;
 * updates swap buffers after the call. While the leaves keep their shapes, a
 * call replays the dispatches recorded by the last one.
 * GRADUS_VULKAN_PROFILE=1 prints how long each call took to record and to run. */
#include "grd-vk-function-private.h"

#include <string.h>

static const char *const reduce_ops[] = { "sum", "mean", "prod", "max", "min", "argmax",
                                          "argmin", "_reduce_to", NULL };
static const char *const row_ops[] = { "softmax", "log_softmax", "logsumexp",
                                       "categorical_crossentropy", "_crossentropy_logits", NULL };

static gboolean
kind_of (const char *op, const GrdNode *node, GrdVkStepKind *kind)
{
  if (grd_vk_op_is_elementwise (op))
    *kind = GRD_VK_STEP_FUSED;
  else if (!strcmp (op, "reshape") || !strcmp (op, "flatten") || !strcmp (op, "_reshape_like")
           || !strcmp (op, "_ravel"))
    *kind = GRD_VK_STEP_ALIAS;
  else if (!strcmp (op, "dimshuffle")) {
    /* keeping the order of the kept axes is a reshape */
    gint last = -1;
    gboolean ordered = TRUE;
    for (gint i = 0; i < node->attrs.n_pattern; i++)
      if (node->attrs.pattern[i] >= 0) {
        ordered = ordered && node->attrs.pattern[i] > last;
        last = node->attrs.pattern[i];
      }
    *kind = ordered ? GRD_VK_STEP_ALIAS : GRD_VK_STEP_VIEW;
  } else if (!strcmp (op, "transpose") || !strcmp (op, "slice"))
    *kind = GRD_VK_STEP_VIEW;
  else if (!strcmp (op, "concatenate") || !strcmp (op, "stack"))
    *kind = GRD_VK_STEP_CONCAT;
  else if (!strcmp (op, "_concat_part"))
    *kind = GRD_VK_STEP_CONCAT_PART;
  else if (!strcmp (op, "_slice_grad"))
    *kind = GRD_VK_STEP_SLICE_GRAD;
  else if (g_strv_contains (reduce_ops, op))
    *kind = GRD_VK_STEP_REDUCE;
  else if (!strcmp (op, "_unreduce"))
    *kind = GRD_VK_STEP_UNREDUCE;
  else if (!strcmp (op, "_reduce_count"))
    *kind = GRD_VK_STEP_COUNT;
  else if (!strcmp (op, "dot") || !strcmp (op, "_dot_nt") || !strcmp (op, "_dot_tn"))
    *kind = GRD_VK_STEP_DOT;
  else if (!strcmp (op, "outer"))
    *kind = GRD_VK_STEP_OUTER;
  else if (g_strv_contains (row_ops, op))
    *kind = GRD_VK_STEP_ROW;
  else if (!strcmp (op, "take"))
    *kind = GRD_VK_STEP_TAKE;
  else if (!strcmp (op, "_take_grad"))
    *kind = GRD_VK_STEP_TAKE_GRAD;
  else if (!strcmp (op, "one_hot") || !strcmp (op, "_onehot_like"))
    *kind = GRD_VK_STEP_ONE_HOT;
  else if (!strcmp (op, "_prod_others"))
    *kind = GRD_VK_STEP_PROD_OTHERS;
  else if (!strcmp (op, "index"))
    *kind = GRD_VK_STEP_INDEX;
  else if (!strcmp (op, "set_subtensor") || !strcmp (op, "inc_subtensor"))
    *kind = GRD_VK_STEP_SUBTENSOR;
  else if (grd_vk_ext_handles (op) || grd_vk_random_handles (op))
    *kind = GRD_VK_STEP_EXT;
  else if (!strcmp (op, "_scan"))
    *kind = GRD_VK_STEP_SCAN;
  else if (!strcmp (op, "ifelse"))
    *kind = GRD_VK_STEP_IFELSE;
  else if (!strcmp (op, "_tap_gather"))
    *kind = GRD_VK_STEP_TAP_GATHER;
  else if (!strcmp (op, "_tap_scatter"))
    *kind = GRD_VK_STEP_TAP_SCATTER;
  else
    return FALSE;
  return TRUE;
}

/* The dtype elementwise op input j is converted to before the op applies. */
static GrdDType
arg_type (const char *op, gint j, const GrdDType *in, gint n_in, GrdDType out)
{
  if (!strcmp (op, "switch"))
    return j == 0 ? GRD_DTYPE_BOOL : out;
  if (!strcmp (op, "and") || !strcmp (op, "or") || !strcmp (op, "not"))
    return out;
  return grd_vk_compute_type (op, in, n_in, out);
}

/* GLSL for one elementwise node whose inputs are the expressions `in`. */
static char *
node_expression (const GrdNode *node, char **in, const GrdDType *in_dt)
{
  const char *op = node->op->name;
  GrdDType out = node->types[0].dtype;
  gint n = node->n_inputs;
  char *args[4] = { NULL };
  for (gint j = 0; j < n && j < 3; j++)
    args[j] = grd_vk_glsl_convert (in[j], in_dt[j], arg_type (op, j, in_dt, n, out));
  GrdDType ct = !strcmp (op, "switch") ? out : arg_type (op, 0, in_dt, n, out);
  char *e = grd_vk_glsl_elementwise (op, ct, out, args);
  for (gint j = 0; j < 3; j++)
    g_free (args[j]);
  return e;
}

/* ------------------------------------------------------------ creation */

/* Values known on the host at each call: the function's inputs, constants,
 * shapes, and arange and scalar arithmetic on such values. shape is always
 * computed there (from the runtime shapes); arange must be, as its length is
 * its inputs' values, and so must the scalars it reads. */
static void
mark_host (GrdVkFunction *fn)
{
  gint n = fn->n_nodes;
  g_autofree gboolean *can = g_new0 (gboolean, MAX (n, 1));
  for (guint k = 0; !fn->nested && k < fn->inputs->len; k++)
    can[g_array_index (fn->inputs, GrdRef, k).node] = TRUE;
  for (gint i = 0; i < n; i++) {
    GrdNode *node = grd_vk_node_at (fn, i);
    if (node->kind == GRD_NODE_CONSTANT)
      can[i] = TRUE;
    if (node->kind != GRD_NODE_OP || !fn->needed[i])
      continue;
    const char *op = node->op->name;
    gboolean all = TRUE;
    for (gint j = 0; j < node->n_inputs; j++)
      all = all && can[node->inputs[j].node];
    if (!strcmp (op, "shape"))
      can[i] = fn->host[i] = TRUE;
    else if (!strcmp (op, "arange"))
      can[i] = all;
    else if (grd_vk_op_is_elementwise (op) && node->n_outputs == 1 && node->types[0].rank == 0)
      can[i] = all;
  }
  /* arange and the scalars it reads; a step count or condition is computed
   * on the host when it can be, else by the function `pre` */
  for (gint i = n - 1; i >= 0; i--) {
    GrdNode *node = grd_vk_node_at (fn, i);
    gint j = node->kind == GRD_NODE_OP && fn->needed[i] ? grd_vk_scalar_input (node) : -1;
    if (j >= 0) {
      GrdRef r = node->inputs[j];
      GrdNode *src = grd_vk_node_at (fn, r.node);
      if (can[r.node] && src->kind == GRD_NODE_OP)
        fn->host[r.node] = TRUE;
      else if (!can[r.node])
        g_array_append_val (fn->pre_refs, r);
    }
    if (node->kind != GRD_NODE_OP || !fn->needed[i] || !can[i])
      continue;
    if (!strcmp (node->op->name, "arange"))
      fn->host[i] = TRUE;
    /* shape reads only its input's runtime shape: that input stays on the
     * device (marking it would ask the host for a tensor it never has) */
    if (fn->host[i] && strcmp (node->op->name, "shape") != 0)
      for (gint j = 0; j < node->n_inputs; j++)
        if (grd_vk_node_at (fn, node->inputs[j].node)->kind == GRD_NODE_OP)
          fn->host[node->inputs[j].node] = TRUE;
  }
}

/* The step kind of op node i. */
static gboolean
step_kind (GrdVkFunction *fn, gint i, GrdVkStepKind *kind)
{
  GrdNode *node = grd_vk_node_at (fn, i);
  if (fn->host[i]) {
    *kind = GRD_VK_STEP_HOST;
    return TRUE;
  }
  return kind_of (node->op->name, node, kind);
}

static gboolean
dtype_ok (GrdVkFunction *fn, GrdDType dt, const GrdNode *node, GError **error)
{
  if (dt == GRD_DTYPE_INT64 && !fn->ctx->has_int64) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "node '%s': the Vulkan device has no shaderInt64 for int64 values", node->id);
    return FALSE;
  }
  if (dt == GRD_DTYPE_FLOAT64 && !fn->ctx->has_float64) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "node '%s': the Vulkan device has no shaderFloat64 for float64 values", node->id);
    return FALSE;
  }
  fn->int64 |= dt == GRD_DTYPE_INT64;
  fn->float64 |= dt == GRD_DTYPE_FLOAT64;
  return TRUE;
}

static void
step_clear (GrdVkStep *s)
{
  if (s->members)
    g_array_unref (s->members);
  if (s->leaves)
    g_array_unref (s->leaves);
  g_free (s->body);
  for (gint b = 0; b < 2; b++)
    g_clear_pointer (&s->sub[b], grd_vk_function_free);
}

/* The fused group rooted at `root`: members in schedule order, leaves, body. */
static gboolean
build_fused (GrdVkFunction *fn, GrdVkStep *st, const gint *group_of, GError **error)
{
  st->members = g_array_new (FALSE, FALSE, sizeof (gint));
  st->leaves = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  for (guint p = 0; p < fn->schedule->len; p++) {
    gint i = g_array_index (fn->schedule, gint, p);
    if (group_of[i] == st->node)
      g_array_append_val (st->members, i);
  }
  GString *body = g_string_new (NULL);
  for (guint m = 0; m < st->members->len; m++) {
    gint i = g_array_index (st->members, gint, m);
    GrdNode *node = grd_vk_node_at (fn, i);
    char *in[4] = { NULL };
    GrdDType in_dt[4];
    gint n_used = !strcmp (node->op->name, "_broadcast_to") ? 1 : node->n_inputs;
    for (gint j = 0; j < node->n_inputs && j < 3; j++) {
      GrdRef r = node->inputs[j];
      in_dt[j] = grd_graph_node (fn->graph, r.node)->types[r.output].dtype;
      if (j >= n_used) {
        in[j] = g_strdup ("0");
        continue;
      }
      if (group_of[r.node] == st->node && r.node != i
          && grd_graph_node (fn->graph, r.node)->kind == GRD_NODE_OP) {
        in[j] = g_strdup_printf ("v%d", r.node);
        continue;
      }
      guint k;
      for (k = 0; k < st->leaves->len; k++)
        if (grd_ref_equal (g_array_index (st->leaves, GrdRef, k), r))
          break;
      if (k == st->leaves->len)
        g_array_append_val (st->leaves, r);
      in[j] = g_strdup_printf ("l%u", k);
    }
    char *e = node->n_inputs <= 3 ? node_expression (node, in, in_dt) : NULL;
    for (gint j = 0; j < 4; j++)
      g_free (in[j]);
    if (!e) {
      g_autofree char *want = grd_type_describe (&node->types[0]);
      g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                   "node '%s' (%s): no Vulkan kernel for a result of %s", node->id,
                   node->op->name, want);
      g_string_free (body, TRUE);
      return FALSE;
    }
    g_string_append_printf (body, "    %s v%d = %s;\n", grd_vk_glsl_type (node->types[0].dtype),
                            i, e);
    g_free (e);
  }
  g_string_append_printf (body, "    %s res = v%d;\n",
                          grd_vk_glsl_type (grd_vk_node_at (fn, st->node)->types[0].dtype), st->node);
  st->body = g_string_free (body, FALSE);
  if (st->leaves->len + 1 > GRD_VK_MAX_BINDINGS) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "node '%s': too many inputs (%u)",
                 grd_vk_node_at (fn, st->node)->id, st->leaves->len);
    return FALSE;
  }
  return TRUE;
}

/* The values the fused group rooted at `root` reads from outside it. */
static GArray *
group_leaves (GrdVkFunction *fn, const gint *group_of, gint root)
{
  GArray *leaves = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  for (guint q = 0; q < fn->schedule->len; q++) {
    gint i = g_array_index (fn->schedule, gint, q);
    if (group_of[i] != root)
      continue;
    GrdNode *node = grd_vk_node_at (fn, i);
    for (gint j = 0; j < node->n_inputs; j++) {
      GrdRef r = node->inputs[j];
      if (group_of[r.node] == root && grd_vk_node_at (fn, r.node)->kind == GRD_NODE_OP)
        continue;
      guint k;
      for (k = 0; k < leaves->len && !grd_ref_equal (g_array_index (leaves, GrdRef, k), r); k++)
        ;
      if (k == leaves->len)
        g_array_append_val (leaves, r);
    }
  }
  return leaves;
}

/* Input j of `node` is read for its shape only, never bound to a kernel. */
static gboolean
shape_only_input (const GrdNode *node, gint j)
{
  const char *op = node->op->name;
  if (!strcmp (op, "_broadcast_to"))
    return j >= 1;
  if (!strcmp (op, "_reduce_to") || !strcmp (op, "_unreduce") || !strcmp (op, "_reshape_like"))
    return j == 1;
  if (!strcmp (op, "_conv2d_grad_input"))
    return j == 2;
  return !strcmp (op, "shape");
}

/* Conv epilogues (grd-vk-epilogue.c): a conv2d or _conv2d_grad_input whose
 * result has one reader, in an elementwise group of the same dtype and a
 * result shaped like the conv's (checked again per call), is recorded by that
 * group's step: the group runs on the conv's tiles in registers and the
 * conv's own buffer is never made. Per node: for a group's root, the conv it
 * absorbs (-1: none); -2 for that conv. GRADUS_VULKAN_EPILOGUE=off or
 * GRADUS_VULKAN_CONV=simple when the function is made turn it off. */
static gint *
plan_epilogues (GrdVkFunction *fn, const gint *group_of, const gboolean *keep)
{
  gint *producer_of = g_new (gint, MAX (fn->n_nodes, 1));
  for (gint i = 0; i < fn->n_nodes; i++)
    producer_of[i] = -1;
  if (g_strcmp0 (g_getenv ("GRADUS_VULKAN_EPILOGUE"), "off") == 0
      || g_strcmp0 (g_getenv ("GRADUS_VULKAN_CONV"), "simple") == 0)
    return producer_of;
  for (guint p = 0; p < fn->schedule->len; p++) {
    gint c = g_array_index (fn->schedule, gint, p);
    GrdNode *conv = grd_vk_node_at (fn, c);
    GrdVkStepKind kind;
    if (!step_kind (fn, c, &kind) || kind != GRD_VK_STEP_EXT
        || !grd_vk_epilogue_op (conv->op->name) || conv->n_outputs != 1)
      continue;
    /* the one reader of its values (others may read its shape) */
    gint q = -1, n_value_readers = 0;
    for (guint pp = p + 1; pp < fn->schedule->len; pp++) {
      gint i = g_array_index (fn->schedule, gint, pp);
      GrdNode *reader = grd_vk_node_at (fn, i);
      for (gint j = 0; j < reader->n_inputs; j++)
        if (reader->inputs[j].node == c && !shape_only_input (reader, j)) {
          q = i;
          n_value_readers++;
        }
    }
    GrdVkStepKind qkind;
    if (n_value_readers != 1 || keep[fn->slot_base[c]] || !step_kind (fn, q, &qkind)
        || qkind != GRD_VK_STEP_FUSED || group_of[q] < 0)
      continue;
    gint root = group_of[q];
    const GrdType *rt = &grd_vk_node_at (fn, root)->types[0], *ct = &conv->types[0];
    gboolean fits = producer_of[root] == -1 && rt->dtype == ct->dtype && rt->rank == ct->rank
                    && grd_vk_node_at (fn, root)->n_outputs == 1;
    for (gint d = 0; fits && d < rt->rank; d++)
      fits = rt->dims[d] < 0 || ct->dims[d] < 0 || rt->dims[d] == ct->dims[d];
    if (!fits)
      continue;
    /* the conv's three bindings and the group's leaves but the conv */
    g_autoptr (GArray) leaves = group_leaves (fn, group_of, root);
    if (leaves->len - 1 + 3 > GRD_VK_MAX_BINDINGS)
      continue;
    producer_of[root] = c;
    producer_of[c] = -2;
  }
  return producer_of;
}

/* A random node among the ancestors of `refs`: what `pre` would draw a second time. */
static const GrdNode *
random_ancestor (GrdVkFunction *fn, GArray *refs)
{
  gint n = fn->n_nodes;
  g_autofree gboolean *up = g_new0 (gboolean, MAX (n, 1));
  for (guint k = 0; k < refs->len; k++)
    up[g_array_index (refs, GrdRef, k).node] = TRUE;
  for (gint i = n - 1; i >= 0; i--) {
    GrdNode *node = grd_vk_node_at (fn, i);
    if (!up[i])
      continue;
    if (node->kind == GRD_NODE_GRAD)
      for (gint k = 0; k < node->n_outputs; k++)
        up[node->aliases[k].node] = TRUE;
    for (gint j = 0; j < node->n_inputs; j++)
      up[node->inputs[j].node] = TRUE;
    if (node->op && node->attrs.extra && ((GrdOpExtra *) node->attrs.extra)->impure)
      return node;
  }
  return NULL;
}

/* The functions of scan bodies and ifelse branches. */
static gboolean
make_subs (GrdVkFunction *fn, GrdVkStep *st, GError **error)
{
  GrdNode *node = grd_vk_node_at (fn, st->node);
  if (st->kind == GRD_VK_STEP_SCAN) {
    GrdScanView l;
    grd_scan_view (node, &l);
    st->sub[0] = grd_vk_function_new_nested (l.body, l.body_inputs, l.n_body_inputs,
                                             l.body_outputs, l.n_out, error);
    if (!st->sub[0])
      g_prefix_error (error, "node '%s' (scan), its body: ", node->id);
    return st->sub[0] != NULL;
  }
  if (st->kind == GRD_VK_STEP_IFELSE) {
    GrdIfElseView l;
    grd_ifelse_view (node, &l);
    for (gint b = 0; b < 2; b++) {
      st->sub[b] = grd_vk_function_new_nested (l.branch[b], l.args[b], l.n_args, l.outs[b],
                                               l.n_out, error);
      if (!st->sub[b]) {
        g_prefix_error (error, "node '%s' (ifelse), its %s branch: ", node->id,
                        b ? "else" : "then");
        return FALSE;
      }
    }
  }
  return TRUE;
}

static GrdVkFunction *
function_new (GrdGraph *graph, const GrdRef *inputs, gint n_inputs, const GrdRef *outputs,
              gint n_outputs, const GrdUpdate *updates, gint n_updates, gboolean nested,
              GError **error)
{
  GrdVkContext *ctx = grd_vk_context_get (error);
  if (!ctx)
    return NULL;
  gint n = grd_graph_n_nodes (graph);
  GrdVkFunction *fn = g_new0 (GrdVkFunction, 1);
  fn->ctx = ctx;
  fn->graph = grd_graph_ref (graph);
  fn->inputs = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  g_array_append_vals (fn->inputs, inputs, n_inputs);
  fn->outputs = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  fn->updates = g_array_new (FALSE, FALSE, sizeof (GrdUpdate));
  fn->steps = g_array_new (FALSE, TRUE, sizeof (GrdVkStep));
  g_array_set_clear_func (fn->steps, (GDestroyNotify) step_clear);
  fn->schedule = g_array_new (FALSE, FALSE, sizeof (gint));
  fn->n_nodes = n;
  fn->slot_base = g_new0 (gint, MAX (n, 1));
  fn->seen = g_new0 (GrdTensor *, MAX (n, 1));
  fn->dirty = g_new0 (gboolean, MAX (n, 1));
  fn->needed = g_new0 (gboolean, MAX (n, 1));
  fn->host = g_new0 (gboolean, MAX (n, 1));
  fn->host_val = g_new0 (GrdTensor *, MAX (n, 1));
  fn->replay_temps = g_array_new (FALSE, FALSE, sizeof (VkDeviceSize));
  fn->nested = nested;
  fn->pre_refs = g_array_new (FALSE, FALSE, sizeof (GrdRef));

  /* The same resolution and schedule as the CPU function (whose checks ran). */
  for (gint i = 0; i < n_outputs; i++) {
    GrdRef r = outputs[i];
    while (grd_graph_node (graph, r.node)->kind == GRD_NODE_GRAD)
      r = grd_graph_node (graph, r.node)->aliases[r.output];
    g_array_append_val (fn->outputs, r);
    fn->needed[r.node] = TRUE;
  }
  for (gint i = 0; i < n_updates; i++) {
    GrdUpdate u = updates[i];
    while (grd_graph_node (graph, u.value.node)->kind == GRD_NODE_GRAD)
      u.value = grd_graph_node (graph, u.value.node)->aliases[u.value.output];
    g_array_append_val (fn->updates, u);
    fn->needed[u.value.node] = TRUE;
    fn->needed[u.shared.node] = TRUE;
  }
  for (gint i = n - 1; i >= 0; i--)
    if (fn->needed[i]) {
      GrdNode *node = grd_graph_node (graph, i);
      for (gint j = 0; j < node->n_inputs; j++)
        fn->needed[node->inputs[j].node] = TRUE;
    }
  for (gint i = 0; i < n; i++) {
    GrdNode *node = grd_graph_node (graph, i);
    fn->slot_base[i] = fn->n_slots;
    fn->n_slots += node->n_outputs;
    if (fn->needed[i] && node->kind == GRD_NODE_OP)
      g_array_append_val (fn->schedule, i);
  }
  fn->values = g_new0 (GrdVkValue, MAX (fn->n_slots, 1));

  mark_host (fn);
  if (fn->pre_refs->len > 0) {
    GrdRef r0 = g_array_index (fn->pre_refs, GrdRef, 0);
    const GrdNode *rnd = random_ancestor (fn, fn->pre_refs);
    if (nested) {
      /* a submission of its own per loop step is not done */
      g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "node '%s': a scan's n_steps or an "
                   "ifelse condition computed on the device inside a scan body or ifelse branch "
                   "is not supported on Vulkan", grd_vk_node_at (fn, r0.node)->id);
      grd_vk_function_free (fn);
      return NULL;
    }
    if (rnd) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "node '%s': a scan's n_steps or an "
                   "ifelse condition that depends on random node '%s' is not supported on Vulkan",
                   grd_vk_node_at (fn, r0.node)->id, rnd->id);
      grd_vk_function_free (fn);
      return NULL;
    }
    fn->pre = function_new (graph, inputs, n_inputs, (GrdRef *) fn->pre_refs->data,
                            fn->pre_refs->len, NULL, 0, FALSE, error);
    if (!fn->pre) {
      grd_vk_function_free (fn);
      return NULL;
    }
  }

  /* Capabilities and kernels for every needed node. */
  for (gint i = 0; i < n; i++) {
    GrdNode *node = grd_graph_node (graph, i);
    if (!fn->needed[i] || node->kind == GRD_NODE_GRAD)
      continue;
    for (gint k = 0; k < node->n_outputs; k++)
      if (!dtype_ok (fn, node->types[k].dtype, node, error)) {
        grd_vk_function_free (fn);
        return NULL;
      }
    /* draws identical to the CPU's are computed in float64 (grd-vk-random.c) */
    if (node->op && grd_vk_random_handles (node->op->name) && !fn->ctx->has_float64) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "node '%s': the Vulkan device has no "
                   "shaderFloat64, which random draws need", node->id);
      grd_vk_function_free (fn);
      return NULL;
    }
  }

  /* Readers per slot and which slots must exist after the call. */
  g_autofree gint *readers = g_new0 (gint, MAX (fn->n_slots, 1));
  g_autofree gboolean *keep = g_new0 (gboolean, MAX (fn->n_slots, 1));
  for (guint p = 0; p < fn->schedule->len; p++) {
    GrdNode *node = grd_vk_node_at (fn, g_array_index (fn->schedule, gint, p));
    for (gint j = 0; j < node->n_inputs; j++)
      readers[fn->slot_base[node->inputs[j].node] + node->inputs[j].output]++;
  }
  for (guint o = 0; o < fn->outputs->len; o++) {
    GrdRef r = g_array_index (fn->outputs, GrdRef, o);
    keep[fn->slot_base[r.node] + r.output] = TRUE;
  }
  for (guint u = 0; u < fn->updates->len; u++) {
    GrdRef r = g_array_index (fn->updates, GrdUpdate, u).value;
    keep[fn->slot_base[r.node] + r.output] = TRUE;
  }

  /* Fusion: an elementwise node joins its only reader's group when that
   * reader is elementwise too. Walk backwards so groups grow from roots. */
  g_autofree gint *group_of = g_new (gint, MAX (n, 1));
  for (gint i = 0; i < n; i++)
    group_of[i] = -1;
  g_autofree gint *reader_of = g_new (gint, MAX (n, 1));
  for (gint i = 0; i < n; i++)
    reader_of[i] = -1;
  for (guint p = 0; p < fn->schedule->len; p++) {
    gint i = g_array_index (fn->schedule, gint, p);
    GrdNode *node = grd_vk_node_at (fn, i);
    for (gint j = 0; j < node->n_inputs; j++)
      reader_of[node->inputs[j].node] = i;
  }
  for (gint p = fn->schedule->len - 1; p >= 0; p--) {
    gint i = g_array_index (fn->schedule, gint, p);
    GrdNode *node = grd_vk_node_at (fn, i);
    GrdVkStepKind kind;
    if (!step_kind (fn, i, &kind)) {
      if (!strcmp (node->op->name, "arange"))
        g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                     "node '%s': arange on Vulkan needs start, stop and step known before the"
                     " call (inputs, constants, shapes and scalar arithmetic on them)", node->id);
      else
        g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                     "node '%s': op %s has no Vulkan kernel", node->id, node->op->name);
      grd_vk_function_free (fn);
      return NULL;
    }
    /* these kernels index with int64 whatever their dtypes */
    gboolean wants_int64 = kind == GRD_VK_STEP_ONE_HOT || !strcmp (node->op->name, "argmax")
                           || !strcmp (node->op->name, "argmin")
                           || !strcmp (node->op->name, "categorical_crossentropy")
                           || !strcmp (node->op->name, "_crossentropy_logits");
    if (wants_int64 && !ctx->has_int64) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                   "node '%s' (%s): the Vulkan device has no shaderInt64", node->id,
                   node->op->name);
      grd_vk_function_free (fn);
      return NULL;
    }
    if (kind != GRD_VK_STEP_FUSED)
      continue;
    gint s = fn->slot_base[i];
    gint r = reader_of[i];
    if (readers[s] == 1 && !keep[s] && r >= 0 && node->n_outputs == 1
        && grd_vk_op_is_elementwise (grd_vk_node_at (fn, r)->op->name) && group_of[r] >= 0)
      group_of[i] = group_of[r];
    else
      group_of[i] = i;
  }
  /* A group reading more values than a kernel can bind runs unfused. */
  for (guint p = 0; p < fn->schedule->len; p++) {
    gint root = g_array_index (fn->schedule, gint, p);
    if (group_of[root] != root)
      continue;
    g_autoptr (GArray) leaves = group_leaves (fn, group_of, root);
    if (leaves->len + 1 > GRD_VK_MAX_BINDINGS)
      for (guint q = 0; q <= p; q++) {
        gint i = g_array_index (fn->schedule, gint, q);
        if (group_of[i] == root)
          group_of[i] = i;
      }
  }
  g_autofree gint *producer_of = plan_epilogues (fn, group_of, keep);
  for (guint p = 0; p < fn->schedule->len; p++) {
    gint i = g_array_index (fn->schedule, gint, p);
    GrdVkStepKind kind;
    step_kind (fn, i, &kind);
    if (kind == GRD_VK_STEP_FUSED && group_of[i] != i)
      continue;
    if (producer_of[i] == -2)  /* recorded by its reader's step */
      continue;
    GrdVkStep st = { .kind = producer_of[i] >= 0 ? GRD_VK_STEP_CONV_FUSED : kind, .node = i,
                     .producer = producer_of[i] };
    g_array_append_val (fn->steps, st);
    if (kind == GRD_VK_STEP_FUSED
        && !build_fused (fn, &g_array_index (fn->steps, GrdVkStep, fn->steps->len - 1), group_of,
                         error)) {
      grd_vk_function_free (fn);
      return NULL;
    }
    if (!make_subs (fn, &g_array_index (fn->steps, GrdVkStep, fn->steps->len - 1), error)) {
      grd_vk_function_free (fn);
      return NULL;
    }
  }
  return fn;
}

GrdVkFunction *
grd_vk_function_new (GrdGraph *graph, const GrdRef *inputs, gint n_inputs, const GrdRef *outputs,
                     gint n_outputs, const GrdUpdate *updates, gint n_updates, GError **error)
{
  return function_new (graph, inputs, n_inputs, outputs, n_outputs, updates, n_updates, FALSE,
                       error);
}

GrdVkFunction *
grd_vk_function_new_nested (GrdGraph *graph, const GrdRef *inputs, gint n_inputs,
                            const GrdRef *outputs, gint n_outputs, GError **error)
{
  return function_new (graph, inputs, n_inputs, outputs, n_outputs, NULL, 0, TRUE, error);
}

void
grd_vk_function_free (GrdVkFunction *fn)
{
  if (!fn)
    return;
  gint n = fn->n_nodes;
  /* the graph outlives the function: updates not yet synced go back now */
  for (gint i = 0; i < n; i++)
    if (fn->dirty[i]) {
      g_autoptr (GError) error = NULL;
      if (!grd_vk_function_sync (fn, &error))
        g_warning ("shared variables could not be read back from the Vulkan device: %s",
                   error->message);
      break;
    }
  for (gint s = 0; s < fn->n_slots; s++)
    grd_vk_value_drop (&fn->values[s]);
  for (gint i = 0; i < n; i++)
    if (fn->seen[i])
      grd_tensor_unref (fn->seen[i]);
  g_free (fn->values);
  g_clear_pointer (&fn->replay, g_array_unref);
  g_array_unref (fn->replay_temps);
  g_clear_pointer (&fn->replay_key, g_byte_array_unref);
  g_free (fn->seen);
  g_free (fn->dirty);
  g_free (fn->needed);
  g_free (fn->host);
  for (gint i = 0; i < n; i++)
    g_clear_pointer (&fn->host_val[i], grd_tensor_unref);
  g_free (fn->host_val);
  g_free (fn->slot_base);
  g_array_unref (fn->steps);
  g_array_unref (fn->schedule);
  g_array_unref (fn->inputs);
  g_array_unref (fn->outputs);
  g_array_unref (fn->updates);
  grd_graph_unref (fn->graph);
  g_clear_pointer (&fn->origin, grd_graph_unref);
  g_free (fn->origin_of);
  g_clear_pointer (&fn->pre, grd_vk_function_free);
  g_clear_pointer (&fn->pre_refs, g_array_unref);
  g_free (fn);
}
