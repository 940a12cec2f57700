/* grd-vk-function.c: a GrdFunction compiled to Vulkan compute dispatches.
 *
 * At creation the schedule (the CPU's: needed op nodes in index order) is
 * cut into steps: chains of elementwise nodes whose intermediate values have
 * one reader become one fused kernel; shape ops that keep the element order
 * become aliases; every other node is one or two dispatches. At each call the
 * runtime shapes come from the ops' own type rules applied to the runtime
 * shapes, buffers come from a per-slot pool kept across calls, and all steps
 * are recorded into one command buffer with a barrier wherever a dispatch
 * reads what an earlier one wrote. Shared variables stay on the device;
 * updates swap buffers after the call. While the leaves keep their shapes, a
 * call replays the dispatches recorded by the last one.
 * GRADUS_VULKAN_PROFILE=1 prints how long each call took to record and to run. */
#include "grd-vk-private.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "gemm-f32.h"
#include "gemm-f64.h"

typedef enum {
  K_FUSED,       /* elementwise nodes as one kernel */
  K_ALIAS,       /* same buffer, new shape */
  K_VIEW,        /* transpose, dimshuffle, slice: a strided copy */
  K_CONCAT,      /* concatenate, stack */
  K_CONCAT_PART, /* _concat_part */
  K_SLICE_GRAD,  /* _slice_grad: zeros, then the slice written */
  K_REDUCE,      /* sum ... argmin, _reduce_to */
  K_UNREDUCE,    /* _unreduce */
  K_COUNT,       /* _reduce_count: a number known from shapes */
  K_DOT,         /* dot, _dot_nt, _dot_tn */
  K_OUTER,
  K_ROW,         /* softmax, log_softmax, logsumexp, categorical_crossentropy */
  K_TAKE,
  K_TAKE_GRAD,
  K_ONE_HOT,     /* one_hot, _onehot_like */
  K_PROD_OTHERS, /* _prod_others (the gradient of prod) */
  K_EXT,         /* a kernel of another file (grd_vk_ext_record) */
} Kind;

typedef struct {
  Kind    kind;
  gint    node;       /* the node whose output the step makes */
  GArray *members;    /* K_FUSED: node indices, schedule order, root last */
  GArray *leaves;     /* K_FUSED: GrdRef read from outside the group */
  char   *body;       /* K_FUSED: GLSL statements leaving the result in `res` */
} Step;

typedef struct {
  GrdVkBuffer *buf;
  GrdDType     dtype;
  gint         rank;
  gint64       shape[GRD_MAX_RANK];
  gint64       size;
  gboolean     borrowed;  /* another value's buffer, dropped after the call */
} Value;

struct _GrdVkFunction {
  GrdVkContext *ctx;
  GrdGraph     *graph;
  GArray       *inputs;    /* GrdRef */
  GArray       *outputs;   /* GrdRef, resolved */
  GArray       *updates;   /* GrdUpdate, resolved */
  GArray       *steps;     /* Step */
  GArray       *schedule;  /* gint: every needed op node */
  gint         *slot_base;
  gint          n_slots;
  Value        *values;    /* per slot */
  GrdTensor   **seen;      /* per node: the value tensor last uploaded (a ref) */
  gboolean     *dirty;     /* per node: the device copy is newer than node->value */
  gboolean     *needed;    /* per node */
  gboolean      int64, float64;
  /* The dispatches of the last call, replayed while the leaves keep their
   * shapes (then every shape, kernel and parameter is the same): a call then
   * costs no GLSL text, hashing or cache look-ups. */
  GArray       *replay;       /* Replay */
  GArray       *replay_temps; /* VkDeviceSize: sizes of the temporary buffers */
  GByteArray   *replay_key;   /* the leaves' shapes it was recorded for */
};

/* One recorded dispatch: bindings as slots (>= 0) or temporaries (-1 - i). */
typedef struct {
  GrdVkKernel *kernel;
  gint         n, n_out;
  gint         src[GRD_VK_MAX_BINDINGS];
  guint32      push[GRD_VK_PUSH_WORDS];
  guint32      gx, gy;
} Replay;

/* ------------------------------------------------------------ helpers */

static gsize
device_size (GrdDType dtype)
{
  return dtype == GRD_DTYPE_BOOL ? 4 : grd_dtype_size (dtype);
}

static Value *
slot (GrdVkFunction *fn, GrdRef r)
{
  return &fn->values[fn->slot_base[r.node] + r.output];
}

static GrdNode *
node_at (GrdVkFunction *fn, gint i)
{
  return grd_graph_node (fn->graph, i);
}

static void
contiguous (gint rank, const gint64 *shape, gint64 *strides)
{
  gint64 s = 1;
  for (gint d = rank - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
}

static void
value_set_shape (Value *v, GrdDType dtype, gint rank, const gint64 *shape)
{
  v->dtype = dtype;
  v->rank = rank;
  memcpy (v->shape, shape, sizeof (gint64) * rank);
  v->size = grd_shape_size (rank, shape);
}

static void
value_drop (Value *v)
{
  g_clear_pointer (&v->buf, grd_vk_buffer_unref);
  v->borrowed = FALSE;
}

/* A buffer of the value's own, reused when nobody else holds it and it is big enough. */
static gboolean
value_own (GrdVkFunction *fn, Value *v, GError **error)
{
  VkDeviceSize bytes = MAX ((VkDeviceSize) v->size * device_size (v->dtype), 16);
  if (v->buf && !v->borrowed && v->buf->ref_count == 1 && v->buf->size >= bytes)
    return TRUE;
  value_drop (v);
  if (bytes > fn->ctx->props.limits.maxStorageBufferRange) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "a value of %" G_GUINT64_FORMAT " bytes is more than the Vulkan device's largest"
                 " storage buffer (%u bytes)", (guint64) bytes,
                 fn->ctx->props.limits.maxStorageBufferRange);
    return FALSE;
  }
  v->buf = grd_vk_buffer_new (fn->ctx, bytes, error);
  return v->buf != NULL;
}

static void
write_host (guint8 *dst, const GrdTensor *t)
{
  if (t->dtype == GRD_DTYPE_BOOL) {
    const guint8 *s = t->data;
    guint32 *d = (guint32 *) dst;
    for (gint64 i = 0; i < t->size; i++)
      d[i] = s[i] != 0;
  } else
    memcpy (dst, t->data, t->size * grd_dtype_size (t->dtype));
}

static void
read_host (GrdTensor *t, const guint8 *src)
{
  if (t->dtype == GRD_DTYPE_BOOL) {
    const guint32 *s = (const guint32 *) src;
    guint8 *d = t->data;
    for (gint64 i = 0; i < t->size; i++)
      d[i] = s[i] != 0;
  } else
    memcpy (t->data, src, t->size * grd_dtype_size (t->dtype));
}

static const char *const reduce_ops[] = { "sum", "mean", "prod", "max", "min", "argmax",
                                          "argmin", "_reduce_to", NULL };
static const char *const row_ops[] = { "softmax", "log_softmax", "logsumexp",
                                       "categorical_crossentropy", NULL };

static gboolean
kind_of (const char *op, const GrdNode *node, Kind *kind)
{
  if (grd_vk_op_is_elementwise (op))
    *kind = K_FUSED;
  else if (!strcmp (op, "reshape") || !strcmp (op, "flatten") || !strcmp (op, "_reshape_like")
           || !strcmp (op, "_ravel"))
    *kind = K_ALIAS;
  else if (!strcmp (op, "dimshuffle")) {
    /* keeping the order of the kept axes is a reshape */
    gint last = -1;
    gboolean ordered = TRUE;
    for (gint i = 0; i < node->attrs.n_pattern; i++)
      if (node->attrs.pattern[i] >= 0) {
        ordered = ordered && node->attrs.pattern[i] > last;
        last = node->attrs.pattern[i];
      }
    *kind = ordered ? K_ALIAS : K_VIEW;
  } else if (!strcmp (op, "transpose") || !strcmp (op, "slice"))
    *kind = K_VIEW;
  else if (!strcmp (op, "concatenate") || !strcmp (op, "stack"))
    *kind = K_CONCAT;
  else if (!strcmp (op, "_concat_part"))
    *kind = K_CONCAT_PART;
  else if (!strcmp (op, "_slice_grad"))
    *kind = K_SLICE_GRAD;
  else if (g_strv_contains (reduce_ops, op))
    *kind = K_REDUCE;
  else if (!strcmp (op, "_unreduce"))
    *kind = K_UNREDUCE;
  else if (!strcmp (op, "_reduce_count"))
    *kind = K_COUNT;
  else if (!strcmp (op, "dot") || !strcmp (op, "_dot_nt") || !strcmp (op, "_dot_tn"))
    *kind = K_DOT;
  else if (!strcmp (op, "outer"))
    *kind = K_OUTER;
  else if (g_strv_contains (row_ops, op))
    *kind = K_ROW;
  else if (!strcmp (op, "take"))
    *kind = K_TAKE;
  else if (!strcmp (op, "_take_grad"))
    *kind = K_TAKE_GRAD;
  else if (!strcmp (op, "one_hot") || !strcmp (op, "_onehot_like"))
    *kind = K_ONE_HOT;
  else if (!strcmp (op, "_prod_others"))
    *kind = K_PROD_OTHERS;
  else if (grd_vk_ext_handles (op))
    *kind = K_EXT;
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
step_clear (Step *s)
{
  if (s->members)
    g_array_unref (s->members);
  if (s->leaves)
    g_array_unref (s->leaves);
  g_free (s->body);
}

/* The fused group rooted at `root`: members in schedule order, leaves, body. */
static gboolean
build_fused (GrdVkFunction *fn, Step *st, const gint *group_of, GError **error)
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
    GrdNode *node = node_at (fn, i);
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
                          grd_vk_glsl_type (node_at (fn, st->node)->types[0].dtype), st->node);
  st->body = g_string_free (body, FALSE);
  if (st->leaves->len + 1 > GRD_VK_MAX_BINDINGS) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "node '%s': too many inputs (%u)",
                 node_at (fn, st->node)->id, st->leaves->len);
    return FALSE;
  }
  return TRUE;
}

GrdVkFunction *
grd_vk_function_new (GrdGraph *graph, const GrdRef *inputs, gint n_inputs, const GrdRef *outputs,
                     gint n_outputs, const GrdUpdate *updates, gint n_updates, GError **error)
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
  fn->steps = g_array_new (FALSE, TRUE, sizeof (Step));
  g_array_set_clear_func (fn->steps, (GDestroyNotify) step_clear);
  fn->schedule = g_array_new (FALSE, FALSE, sizeof (gint));
  fn->slot_base = g_new0 (gint, MAX (n, 1));
  fn->seen = g_new0 (GrdTensor *, MAX (n, 1));
  fn->dirty = g_new0 (gboolean, MAX (n, 1));
  fn->needed = g_new0 (gboolean, MAX (n, 1));
  fn->replay_temps = g_array_new (FALSE, FALSE, sizeof (VkDeviceSize));

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
  fn->values = g_new0 (Value, MAX (fn->n_slots, 1));

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
  }

  /* Readers per slot and which slots must exist after the call. */
  g_autofree gint *readers = g_new0 (gint, MAX (fn->n_slots, 1));
  g_autofree gboolean *keep = g_new0 (gboolean, MAX (fn->n_slots, 1));
  for (guint p = 0; p < fn->schedule->len; p++) {
    GrdNode *node = node_at (fn, g_array_index (fn->schedule, gint, p));
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
    GrdNode *node = node_at (fn, i);
    for (gint j = 0; j < node->n_inputs; j++)
      reader_of[node->inputs[j].node] = i;
  }
  for (gint p = fn->schedule->len - 1; p >= 0; p--) {
    gint i = g_array_index (fn->schedule, gint, p);
    GrdNode *node = node_at (fn, i);
    Kind kind;
    if (!kind_of (node->op->name, node, &kind)) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                   "node '%s': op %s has no Vulkan kernel", node->id, node->op->name);
      grd_vk_function_free (fn);
      return NULL;
    }
    /* these kernels index with int64 whatever their dtypes */
    gboolean wants_int64 = kind == K_ONE_HOT || !strcmp (node->op->name, "argmax")
                           || !strcmp (node->op->name, "argmin")
                           || !strcmp (node->op->name, "categorical_crossentropy");
    if (wants_int64 && !ctx->has_int64) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                   "node '%s' (%s): the Vulkan device has no shaderInt64", node->id,
                   node->op->name);
      grd_vk_function_free (fn);
      return NULL;
    }
    if (kind != K_FUSED)
      continue;
    gint s = fn->slot_base[i];
    gint r = reader_of[i];
    if (readers[s] == 1 && !keep[s] && r >= 0 && node->n_outputs == 1
        && grd_vk_op_is_elementwise (node_at (fn, r)->op->name) && group_of[r] >= 0)
      group_of[i] = group_of[r];
    else
      group_of[i] = i;
  }
  /* A group reading more values than a kernel can bind runs unfused. */
  for (guint p = 0; p < fn->schedule->len; p++) {
    gint root = g_array_index (fn->schedule, gint, p);
    if (group_of[root] != root)
      continue;
    g_autoptr (GArray) leaves = g_array_new (FALSE, FALSE, sizeof (GrdRef));
    for (guint q = 0; q <= p; q++) {
      gint i = g_array_index (fn->schedule, gint, q);
      if (group_of[i] != root)
        continue;
      GrdNode *node = node_at (fn, i);
      for (gint j = 0; j < node->n_inputs; j++) {
        GrdRef r = node->inputs[j];
        if (group_of[r.node] == root && node_at (fn, r.node)->kind == GRD_NODE_OP)
          continue;
        guint k;
        for (k = 0; k < leaves->len && !grd_ref_equal (g_array_index (leaves, GrdRef, k), r); k++)
          ;
        if (k == leaves->len)
          g_array_append_val (leaves, r);
      }
    }
    if (leaves->len + 1 > GRD_VK_MAX_BINDINGS)
      for (guint q = 0; q <= p; q++) {
        gint i = g_array_index (fn->schedule, gint, q);
        if (group_of[i] == root)
          group_of[i] = i;
      }
  }
  for (guint p = 0; p < fn->schedule->len; p++) {
    gint i = g_array_index (fn->schedule, gint, p);
    GrdNode *node = node_at (fn, i);
    Kind kind;
    kind_of (node->op->name, node, &kind);
    if (kind == K_FUSED && group_of[i] != i)
      continue;
    Step st = { .kind = kind, .node = i };
    g_array_append_val (fn->steps, st);
    if (kind == K_FUSED
        && !build_fused (fn, &g_array_index (fn->steps, Step, fn->steps->len - 1), group_of,
                         error)) {
      grd_vk_function_free (fn);
      return NULL;
    }
  }
  return fn;
}

void
grd_vk_function_free (GrdVkFunction *fn)
{
  if (!fn)
    return;
  gint n = grd_graph_n_nodes (fn->graph);
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
    value_drop (&fn->values[s]);
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
  g_free (fn->slot_base);
  g_array_unref (fn->steps);
  g_array_unref (fn->schedule);
  g_array_unref (fn->inputs);
  g_array_unref (fn->outputs);
  g_array_unref (fn->updates);
  grd_graph_unref (fn->graph);
  g_free (fn);
}

/* ------------------------------------------------------------ recording */

typedef struct {
  GrdVkFunction  *fn;
  VkCommandBuffer cmd;
  GPtrArray      *written;  /* VkBuffer written since the last barrier */
  GPtrArray      *temps;    /* GrdVkBuffer* for this submission only */
  GArray         *record;   /* Replay, when recording; NULL otherwise */
  gboolean        record_ok;
  GrdRef          prefer[GRD_VK_MAX_BINDINGS * 2]; /* slots to match buffers against first */
  gint            n_prefer;
} Rec;

/* The slot (>= 0) or temporary (-1 - i) that holds `buf` in this call. */
static gint
buffer_source (Rec *r, GrdVkBuffer *buf)
{
  GrdVkFunction *fn = r->fn;
  for (gint i = 0; i < r->n_prefer; i++) {
    gint s = fn->slot_base[r->prefer[i].node] + r->prefer[i].output;
    if (fn->values[s].buf == buf)
      return s;
  }
  for (guint t = 0; t < r->temps->len; t++)
    if (r->temps->pdata[t] == buf)
      return -1 - (gint) t;
  for (gint s = 0; s < fn->n_slots; s++)
    if (fn->values[s].buf == buf)
      return s;
  return G_MININT;
}

static void
barrier (VkCommandBuffer cmd, VkPipelineStageFlags src, VkAccessFlags src_access,
         VkPipelineStageFlags dst, VkAccessFlags dst_access)
{
  VkMemoryBarrier mb = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
    .srcAccessMask = src_access,
    .dstAccessMask = dst_access,
  };
  vkCmdPipelineBarrier (cmd, src, dst, 0, 1, &mb, 0, NULL, 0, NULL);
}

/* Binds buffers 0..n-1 (the last one is written) and dispatches. */
static void
dispatch_n (Rec *r, GrdVkKernel *k, GrdVkBuffer *const *bufs, gint n, gint n_out,
            const guint32 *push, gint n_push, guint32 gx, guint32 gy)
{
  gboolean hazard = FALSE;
  for (gint i = 0; i < n && !hazard; i++)
    for (guint w = 0; w < r->written->len && !hazard; w++)
      hazard = r->written->pdata[w] == (gpointer) bufs[i]->buffer;
  if (hazard) {
    barrier (r->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
             VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
             VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
    g_ptr_array_set_size (r->written, 0);
  }
  VkDescriptorBufferInfo info[GRD_VK_MAX_BINDINGS];
  VkWriteDescriptorSet writes[GRD_VK_MAX_BINDINGS];
  for (gint i = 0; i < n; i++) {
    info[i] = (VkDescriptorBufferInfo) { bufs[i]->buffer, 0, VK_WHOLE_SIZE };
    writes[i] = (VkWriteDescriptorSet) {
      .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
      .dstBinding = i,
      .descriptorCount = 1,
      .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
      .pBufferInfo = &info[i],
    };
  }
  guint32 words[GRD_VK_PUSH_WORDS] = { 0 };
  memcpy (words, push, MIN (n_push, GRD_VK_PUSH_WORDS) * 4);
  vkCmdBindPipeline (r->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, k->pipeline);
  r->fn->ctx->push_descriptor (r->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, k->layout, 0, n, writes);
  vkCmdPushConstants (r->cmd, k->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof words, words);
  vkCmdDispatch (r->cmd, gx, gy, 1);
  for (gint i = n - n_out; i < n; i++)
    g_ptr_array_add (r->written, (gpointer) bufs[i]->buffer);
  if (r->record) {
    Replay rp = { .kernel = k, .n = n, .n_out = n_out, .gx = gx, .gy = gy };
    memcpy (rp.push, words, sizeof words);
    for (gint i = 0; i < n; i++) {
      rp.src[i] = buffer_source (r, bufs[i]);
      r->record_ok &= rp.src[i] != G_MININT;
    }
    g_array_append_val (r->record, rp);
  }
}

/* The usual case: the last binding is the one written. */
static void
dispatch (Rec *r, GrdVkKernel *k, GrdVkBuffer *const *bufs, gint n, const guint32 *push,
          gint n_push, guint32 gx, guint32 gy)
{
  dispatch_n (r, k, bufs, n, 1, push, n_push, gx, gy);
}

static guint32
groups_for (gint64 n)
{
  return (guint32) MAX (MIN ((n + GRD_VK_GROUP - 1) / GRD_VK_GROUP, 65535), 1);
}

/* Kernel parameters: the first GRD_VK_PUSH_WORDS go in push constants, the
 * rest are written into the source as literals (a kernel per shape then). */
typedef struct {
  guint32 v[256];
  gint    n;
  char    ring[8][24];  /* pexpr's answers, so that several fit in one printf */
  gint    next;
} Params;

static gint
param (Params *p, gint64 value)
{
  g_assert (p->n < (gint) G_N_ELEMENTS (p->v));
  p->v[p->n] = (guint32) value;
  return p->n++;
}

static const char *
pexpr (Params *p, gint k)
{
  char *buf = p->ring[p->next++ % 8];
  if (k < GRD_VK_PUSH_WORDS)
    g_snprintf (buf, 24, "pc.p[%d]", k);
  else
    g_snprintf (buf, 24, "%uu", p->v[k]);
  return buf;
}

static GrdVkKernel *
kernel (Rec *r, GString *body, gint n_buffers, GError **error)
{
  return grd_vk_kernel_glsl (r->fn->ctx, body->str, r->fn->int64, r->fn->float64, n_buffers,
                             error);
}

/* Appends "uint c0 = ..., c1 = ...;" decomposing `flat` over the dims shape[k0..k0+rank). */
static void
emit_coords (GString *s, Params *p, const char *prefix, const char *flat, gint rank,
             const gint *shape_param)
{
  g_string_append_printf (s, "    uint %s_r = %s;\n", prefix, flat);
  for (gint d = rank - 1; d >= 1; d--)
    g_string_append_printf (s, "    uint %s%d = %s_r %% %s; %s_r /= %s;\n", prefix, d, prefix,
                            pexpr (p, shape_param[d]), prefix, pexpr (p, shape_param[d]));
  if (rank > 0)
    g_string_append_printf (s, "    uint %s0 = %s_r;\n", prefix, prefix);
}

/* "off + c0*s0 + ..." */
static char *
offset_expr (Params *p, const char *prefix, gint rank, gint off_param,
             const gint *stride_param)
{
  GString *s = g_string_new (NULL);
  g_string_append_printf (s, "(%s", pexpr (p, off_param));
  for (gint d = 0; d < rank; d++)
    g_string_append_printf (s, " + %s%d * %s", prefix, d, pexpr (p, stride_param[d]));
  g_string_append_c (s, ')');
  return g_string_free (s, FALSE);
}

/* An elementwise program: leaves read through (offset, strides) over the
 * iteration shape, the result written through the output's. */
typedef struct {
  gint         rank;
  gint64       shape[GRD_MAX_RANK];
  gint         n;
  GrdVkBuffer *buf[GRD_VK_MAX_BINDINGS];
  GrdDType     dt[GRD_VK_MAX_BINDINGS];
  gint64       off[GRD_VK_MAX_BINDINGS];
  gint64       st[GRD_VK_MAX_BINDINGS][GRD_MAX_RANK];
  GrdVkBuffer *obuf;
  GrdDType     odt;
  gint64       ooff;
  gint64       ost[GRD_MAX_RANK];
  const char  *body;  /* statements leaving `res` (of odt's type) from l0.. */
} Ew;

/* Output contiguous over the iteration shape. */
static void
ew_out_contiguous (Ew *e, Value *out)
{
  e->obuf = out->buf;
  e->odt = out->dtype;
  e->ooff = 0;
  contiguous (e->rank, e->shape, e->ost);
}

/* Leaf k: value v broadcast against the iteration shape (NumPy rules). */
static void
ew_leaf_broadcast (Ew *e, gint k, Value *v)
{
  e->buf[k] = v->buf;
  e->dt[k] = v->dtype;
  e->off[k] = 0;
  gint64 cs[GRD_MAX_RANK];
  contiguous (v->rank, v->shape, cs);
  for (gint d = 0; d < e->rank; d++) {
    gint j = d - (e->rank - v->rank);
    e->st[k][d] = j < 0 || v->shape[j] == 1 ? 0 : cs[j];
  }
}

static gboolean
run_ew (Rec *r, Ew *e, GError **error)
{
  gint64 total = grd_shape_size (e->rank, e->shape);
  if (total == 0)
    return TRUE;
  if (total >= G_MAXINT32) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "%" G_GINT64_FORMAT " elements are more than the Vulkan kernels index", total);
    return FALSE;
  }
  /* Collapse: drop size-1 axes, merge neighbours that every operand walks alike. */
  gint rank = 0;
  gint64 shape[GRD_MAX_RANK], st[GRD_VK_MAX_BINDINGS + 1][GRD_MAX_RANK];
  gint np = e->n + 1;
  for (gint d = 0; d < e->rank; d++) {
    if (e->shape[d] == 1)
      continue;
    gboolean merge = rank > 0;
    for (gint k = 0; k < np && merge; k++) {
      gint64 sd = k < e->n ? e->st[k][d] : e->ost[d];
      merge = st[k][rank - 1] == sd * e->shape[d];
    }
    if (merge) {
      shape[rank - 1] *= e->shape[d];
      for (gint k = 0; k < np; k++)
        st[k][rank - 1] = k < e->n ? e->st[k][d] : e->ost[d];
    } else {
      shape[rank] = e->shape[d];
      for (gint k = 0; k < np; k++)
        st[k][rank] = k < e->n ? e->st[k][d] : e->ost[d];
      rank++;
    }
  }
  gint64 cs[GRD_MAX_RANK];
  contiguous (rank, shape, cs);
  /* Per operand: 'c' walks like the output index, 's' is one element, 'x' is strided. */
  char how[GRD_VK_MAX_BINDINGS + 1];
  gboolean any_x = FALSE;
  for (gint k = 0; k < np; k++) {
    gint64 off = k < e->n ? e->off[k] : e->ooff;
    gboolean c = off == 0, s = TRUE;
    for (gint d = 0; d < rank; d++) {
      c = c && st[k][d] == cs[d];
      s = s && st[k][d] == 0;
    }
    how[k] = c ? 'c' : (s && k < e->n) ? 's' : 'x';
    any_x |= how[k] == 'x';
  }
  Params p = { .n = 0 };
  param (&p, total);
  gint shape_p[GRD_MAX_RANK], off_p[GRD_VK_MAX_BINDINGS + 1];
  gint st_p[GRD_VK_MAX_BINDINGS + 1][GRD_MAX_RANK];
  if (any_x)
    for (gint d = 0; d < rank; d++)
      shape_p[d] = param (&p, shape[d]);
  for (gint k = 0; k < np; k++) {
    gint64 off = k < e->n ? e->off[k] : e->ooff;
    if (how[k] == 's')
      off_p[k] = param (&p, off);
    if (how[k] == 'x') {
      off_p[k] = param (&p, off);
      for (gint d = 0; d < rank; d++)
        st_p[k][d] = param (&p, st[k][d]);
    }
  }
  g_autoptr (GString) s = g_string_new (NULL);
  for (gint k = 0; k < e->n; k++)
    grd_vk_glsl_buffer (s, k, e->dt[k], TRUE);
  grd_vk_glsl_buffer (s, e->n, e->odt, FALSE);
  g_string_append_printf (s, "void main() {\n"
                          "  uint n = %s;\n"
                          "  uint step = gl_NumWorkGroups.x * %uu;\n"
                          "  for (uint i = gl_GlobalInvocationID.x; i < n; i += step) {\n",
                          pexpr (&p, 0), GRD_VK_GROUP);
  if (any_x)
    emit_coords (s, &p, "c", "i", rank, shape_p);
  for (gint k = 0; k <= e->n; k++) {
    g_autofree char *idx = how[k] == 'c' ? g_strdup ("i")
                           : how[k] == 's' ? g_strdup (pexpr (&p, off_p[k]))
                                           : offset_expr (&p, "c", rank, off_p[k], st_p[k]);
    if (k < e->n) {
      g_autofree char *load = grd_vk_glsl_load (k, e->dt[k], idx);
      g_string_append_printf (s, "    %s l%d = %s;\n", grd_vk_glsl_type (e->dt[k]), k, load);
    } else {
      g_string_append (s, e->body);
      g_autofree char *store = grd_vk_glsl_store (k, e->odt, idx, "res");
      g_string_append_printf (s, "    %s\n", store);
    }
  }
  g_string_append (s, "  }\n}\n");
  GrdVkKernel *k = kernel (r, s, e->n + 1, error);
  if (!k)
    return FALSE;
  GrdVkBuffer *bufs[GRD_VK_MAX_BINDINGS + 1];
  memcpy (bufs, e->buf, sizeof (GrdVkBuffer *) * e->n);
  bufs[e->n] = e->obuf;
  dispatch (r, k, bufs, e->n + 1, p.v, p.n, groups_for (total), 1);
  return TRUE;
}

/* ------------------------------------------------------------ steps */

static gboolean
step_fused (Rec *r, Step *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  Value *out = slot (fn, (GrdRef) { st->node, 0 });
  Ew e = { .rank = out->rank, .n = st->leaves->len, .body = st->body };
  memcpy (e.shape, out->shape, sizeof e.shape);
  for (guint k = 0; k < st->leaves->len; k++)
    ew_leaf_broadcast (&e, k, slot (fn, g_array_index (st->leaves, GrdRef, k)));
  ew_out_contiguous (&e, out);
  return run_ew (r, &e, error);
}

static char *
copy_body (GrdDType from, GrdDType to)
{
  g_autofree char *c = grd_vk_glsl_convert ("l0", from, to);
  return g_strdup_printf ("    %s res = %s;\n", grd_vk_glsl_type (to), c);
}

/* Python's slice.indices: the first index and the step of axis d. */
static void
slice_start (const GrdAttrs *a, gint d, gint64 len, gint64 *start, gint64 *step)
{
  gint64 s = a->step[d] == GRD_SLICE_NONE ? 1 : a->step[d];
  gint64 b = a->begin[d];
  if (s > 0)
    *start = b == GRD_SLICE_NONE ? 0 : b < 0 ? MAX (b + len, 0) : MIN (b, len);
  else
    *start = b == GRD_SLICE_NONE ? len - 1 : b < 0 ? MAX (b + len, -1) : MIN (b, len - 1);
  *step = s;
}

/* The view of `in` that a transpose, dimshuffle or slice node reads: offset
 * and strides over the output's shape. */
static void
view_of (const GrdNode *node, const Value *in, const Value *out, gint64 *off, gint64 *st)
{
  gint64 cs[GRD_MAX_RANK];
  contiguous (in->rank, in->shape, cs);
  const GrdAttrs *a = &node->attrs;
  *off = 0;
  if (!strcmp (node->op->name, "transpose")) {
    for (gint d = 0; d < out->rank; d++)
      st[d] = cs[a->n_perm > 0 ? (a->perm[d] + in->rank) % in->rank : in->rank - 1 - d];
  } else if (!strcmp (node->op->name, "dimshuffle")) {
    for (gint d = 0; d < out->rank; d++)
      st[d] = a->pattern[d] >= 0 ? cs[a->pattern[d]] : 0;
  } else { /* slice */
    for (gint d = 0; d < in->rank; d++) {
      gint64 start = 0, step = 1;
      if (d < a->n_slice)
        slice_start (a, d, in->shape[d], &start, &step);
      if (out->shape[d] > 0)
        *off += start * cs[d];
      st[d] = step * cs[d];
    }
  }
}

static gboolean
step_view (Rec *r, Step *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = node_at (fn, st->node);
  Value *in = slot (fn, node->inputs[0]), *out = slot (fn, (GrdRef) { st->node, 0 });
  g_autofree char *body = copy_body (in->dtype, out->dtype);
  Ew e = { .rank = out->rank, .n = 1, .body = body };
  memcpy (e.shape, out->shape, sizeof e.shape);
  e.buf[0] = in->buf;
  e.dt[0] = in->dtype;
  view_of (node, in, out, &e.off[0], e.st[0]);
  ew_out_contiguous (&e, out);
  return run_ew (r, &e, error);
}

/* Copies `in` (contiguous) into out's block starting at index `at` along `axis`. */
static gboolean
copy_into (Rec *r, Value *in, Value *out, gint axis, gint64 at, gboolean new_axis,
           GError **error)
{
  g_autofree char *body = copy_body (in->dtype, out->dtype);
  Ew e = { .rank = in->rank, .n = 1, .body = body };
  memcpy (e.shape, in->shape, sizeof e.shape);
  e.buf[0] = in->buf;
  e.dt[0] = in->dtype;
  contiguous (in->rank, in->shape, e.st[0]);
  gint64 os[GRD_MAX_RANK];
  contiguous (out->rank, out->shape, os);
  e.obuf = out->buf;
  e.odt = out->dtype;
  e.ooff = at * os[axis];
  for (gint d = 0; d < in->rank; d++)
    e.ost[d] = new_axis && d >= axis ? os[d + 1] : os[d];
  return run_ew (r, &e, error);
}

static gboolean
step_concat (Rec *r, Step *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = node_at (fn, st->node);
  Value *out = slot (fn, (GrdRef) { st->node, 0 });
  gboolean stack = !strcmp (node->op->name, "stack");
  gint axis;
  if (!grd_axis_single (&node->attrs, out->rank, 0, &axis, error))
    return FALSE;
  gint64 at = 0;
  for (gint j = 0; j < node->n_inputs; j++) {
    Value *in = slot (fn, node->inputs[j]);
    if (!copy_into (r, in, out, axis, at, stack, error))
      return FALSE;
    at += stack ? 1 : in->shape[axis];
  }
  return TRUE;
}

static gboolean
step_concat_part (Rec *r, Step *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = node_at (fn, st->node);
  Value *g = slot (fn, node->inputs[0]), *out = slot (fn, (GrdRef) { st->node, 0 });
  gint axis;
  if (!grd_axis_single (&node->attrs, g->rank, 0, &axis, error))
    return FALSE;
  gint64 at = 0;
  for (gint j = 0; j < node->attrs.depth; j++)
    at += slot (fn, node->inputs[1 + j])->shape[axis];
  g_autofree char *body = copy_body (g->dtype, out->dtype);
  Ew e = { .rank = out->rank, .n = 1, .body = body };
  memcpy (e.shape, out->shape, sizeof e.shape);
  e.buf[0] = g->buf;
  e.dt[0] = g->dtype;
  contiguous (g->rank, g->shape, e.st[0]);
  e.off[0] = at * e.st[0][axis];
  ew_out_contiguous (&e, out);
  return run_ew (r, &e, error);
}

static gboolean
fill_zero (Rec *r, Value *out, GError **error)
{
  g_autofree char *body = g_strdup_printf ("    %s res = %s(0);\n", grd_vk_glsl_type (out->dtype),
                                           grd_vk_glsl_type (out->dtype));
  Ew e = { .rank = out->rank, .n = 0, .body = body };
  memcpy (e.shape, out->shape, sizeof e.shape);
  ew_out_contiguous (&e, out);
  return run_ew (r, &e, error);
}

static gboolean
step_slice_grad (Rec *r, Step *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = node_at (fn, st->node);
  Value *g = slot (fn, node->inputs[0]), *x = slot (fn, node->inputs[1]);
  Value *out = slot (fn, (GrdRef) { st->node, 0 });
  if (!fill_zero (r, out, error))
    return FALSE;
  /* g goes where slice(x) reads: the slice's view, on the output. */
  g_autofree char *body = copy_body (g->dtype, out->dtype);
  Ew e = { .rank = g->rank, .n = 1, .body = body };
  memcpy (e.shape, g->shape, sizeof e.shape);
  e.buf[0] = g->buf;
  e.dt[0] = g->dtype;
  contiguous (g->rank, g->shape, e.st[0]);
  GrdNode fake = *node;
  static const GrdOpDef slice_def = { .name = "slice" };
  fake.op = &slice_def;
  e.obuf = out->buf;
  e.odt = out->dtype;
  view_of (&fake, x, g, &e.ooff, e.ost);
  return run_ew (r, &e, error);
}

static gboolean
step_unreduce (Rec *r, Step *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = node_at (fn, st->node);
  Value *g = slot (fn, node->inputs[0]), *x = slot (fn, node->inputs[1]);
  Value *out = slot (fn, (GrdRef) { st->node, 0 });
  gboolean mask[GRD_MAX_RANK];
  if (!grd_axes_mask (&node->attrs, x->rank, mask, error))
    return FALSE;
  g_autofree char *body = copy_body (g->dtype, out->dtype);
  Ew e = { .rank = out->rank, .n = 1, .body = body };
  memcpy (e.shape, out->shape, sizeof e.shape);
  e.buf[0] = g->buf;
  e.dt[0] = g->dtype;
  gint64 gs[GRD_MAX_RANK];
  contiguous (g->rank, g->shape, gs);
  for (gint d = 0, k = 0; d < x->rank; d++) {
    if (mask[d]) {
      e.st[0][d] = 0;
      if (node->attrs.keepdims)
        k++;
    } else
      e.st[0][d] = gs[k++];
  }
  ew_out_contiguous (&e, out);
  return run_ew (r, &e, error);
}

/* _prod_others: per element, the product of the other elements of its
 * reduction group, multiplied out by one thread per element (no division, so
 * zeros are exact as on the CPU). A group longer than lavapipe lets one
 * invocation loop is refused. */
static gboolean
step_prod_others (Rec *r, Step *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = node_at (fn, st->node);
  Value *x = slot (fn, node->inputs[0]), *out = slot (fn, (GrdRef) { st->node, 0 });
  gboolean mask[GRD_MAX_RANK];
  if (!grd_axes_mask (&node->attrs, x->rank, mask, error))
    return FALSE;
  if (x->size == 0)
    return TRUE;
  gint64 cs[GRD_MAX_RANK], group = 1;
  contiguous (x->rank, x->shape, cs);
  for (gint d = 0; d < x->rank; d++)
    if (mask[d])
      group *= x->shape[d];
  if (group > 60000 || x->size >= G_MAXINT32) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "a product of %" G_GINT64_FORMAT " others is more than a Vulkan thread loops over",
                 group);
    return FALSE;
  }
  Params p = { .n = 0 };
  param (&p, x->size);
  param (&p, group);
  gint shape_p[GRD_MAX_RANK], red_p[GRD_MAX_RANK], nr = 0;
  for (gint d = 0; d < x->rank; d++) {
    shape_p[d] = param (&p, x->shape[d]);
    if (mask[d])
      red_p[nr++] = shape_p[d];
  }
  const char *T = grd_vk_glsl_type (out->dtype);
  g_autoptr (GString) s = g_string_new (NULL);
  grd_vk_glsl_buffer (s, 0, x->dtype, TRUE);
  grd_vk_glsl_buffer (s, 1, out->dtype, FALSE);
  g_string_append_printf (s, "void main() {\n"
                          "  uint n = %s, ng = %s;\n"
                          "  uint step = gl_NumWorkGroups.x * %uu;\n"
                          "  for (uint i = gl_GlobalInvocationID.x; i < n; i += step) {\n",
                          pexpr (&p, 0), pexpr (&p, 1), GRD_VK_GROUP);
  emit_coords (s, &p, "c", "i", x->rank, shape_p);
  /* own: i's offset within its group; the group starts at i - own */
  g_string_append (s, "    uint own = 0u");
  for (gint d = 0; d < x->rank; d++)
    if (mask[d])
      g_string_append_printf (s, " + c%d * %" G_GINT64_FORMAT "u", d, cs[d]);
  g_string_append_printf (s, ";\n    %s prod = %s(1);\n    for (uint j = 0u; j < ng; j++) {\n",
                          T, T);
  emit_coords (s, &p, "q", "j", nr, red_p);
  g_string_append (s, "    uint off = 0u");
  for (gint d = 0, k = 0; d < x->rank; d++)
    if (mask[d])
      g_string_append_printf (s, " + q%d * %" G_GINT64_FORMAT "u", k++, cs[d]);
  g_autofree char *ld = grd_vk_glsl_load (0, x->dtype, "i - own + off");
  g_autofree char *store = grd_vk_glsl_store (1, out->dtype, "i", "prod");
  g_string_append_printf (s, ";\n    if (off != own) prod *= %s;\n    }\n    %s\n  }\n}\n", ld,
                          store);
  GrdVkKernel *k = kernel (r, s, 2, error);
  if (!k)
    return FALSE;
  GrdVkBuffer *bufs[2] = { x->buf, out->buf };
  dispatch (r, k, bufs, 2, p.v, p.n, groups_for (x->size), 1);
  return TRUE;
}

static gboolean
step_outer (Rec *r, Step *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = node_at (fn, st->node);
  Value *a = slot (fn, node->inputs[0]), *b = slot (fn, node->inputs[1]);
  Value *out = slot (fn, (GrdRef) { st->node, 0 });
  const char *T = grd_vk_glsl_type (out->dtype);
  g_autofree char *ca = grd_vk_glsl_convert ("l0", a->dtype, out->dtype);
  g_autofree char *cb = grd_vk_glsl_convert ("l1", b->dtype, out->dtype);
  g_autofree char *body = g_strdup_printf ("    %s res = %s %s %s;\n", T, ca,
                                           out->dtype == GRD_DTYPE_BOOL ? "&&" : "*", cb);
  Ew e = { .rank = 2, .shape = { a->size, b->size }, .n = 2, .body = body };
  e.buf[0] = a->buf;
  e.dt[0] = a->dtype;
  e.st[0][0] = 1;
  e.buf[1] = b->buf;
  e.dt[1] = b->dtype;
  e.st[1][1] = 1;
  ew_out_contiguous (&e, out);
  return run_ew (r, &e, error);
}

/* Reductions. Short ones (64 elements or fewer): one thread per output
 * element. Longer ones: workgroups of 256 threads each reduce a chunk of
 * 16384 elements through shared memory into partial results, and further
 * passes reduce the partials until one is left per output. Every thread loops
 * at most 64 times (lavapipe caps a shader invocation near 65535 loop
 * iterations), and long reductions spread over the whole device. */
#define RED_CHUNK (GRD_VK_GROUP * 64)

typedef struct {
  const char *op;
  gboolean    arg, is_max, extreme, mean;
  GrdDType    xd, od, ad;   /* input, output, accumulator */
  gint64      n_red_total;
} RedInfo;

/* One pass. first: read x through the kept (nk) and reduced (nr) axes;
 * otherwise read partials [n_out, n_red] (values in b0, indices in b1 for
 * arg). final: write the output; otherwise partials. */
static gboolean
reduce_pass (Rec *r, const RedInfo *ri, gboolean first, gboolean final, gint64 n_out,
             gint64 n_red, gint nk, const gint64 *ks, const gint64 *kst, gint nr,
             const gint64 *rs, const gint64 *rst, GrdVkBuffer *const *in, GrdVkBuffer **outb,
             GError **error)
{
  gboolean thread = n_red <= 64;
  gint64 n_chunks = thread ? 1 : (n_red + RED_CHUNK - 1) / RED_CHUNK;
  const char *A = grd_vk_glsl_type (ri->ad);
  gboolean fl = grd_dtype_is_float (ri->ad);
  GrdDType src_dt = first ? ri->xd : ri->ad;
  gint n_in = first || !ri->arg ? 1 : 2;
  gint n_outb = final || !ri->arg ? 1 : 2;
  Params p = { .n = 0 };
  param (&p, n_out);
  param (&p, n_red);
  param (&p, n_chunks);
  param (&p, ri->n_red_total);
  gint zero = param (&p, 0);
  gint ksp[GRD_MAX_RANK], kstp[GRD_MAX_RANK], rsp[GRD_MAX_RANK], rstp[GRD_MAX_RANK];
  for (gint d = 0; d < nk; d++) {
    ksp[d] = param (&p, ks[d]);
    kstp[d] = param (&p, kst[d]);
  }
  for (gint d = 0; d < nr; d++) {
    rsp[d] = param (&p, rs[d]);
    rstp[d] = param (&p, rst[d]);
  }
  g_autoptr (GString) s = g_string_new (NULL);
  grd_vk_glsl_buffer (s, 0, src_dt, TRUE);
  if (n_in == 2)
    grd_vk_glsl_buffer (s, 1, GRD_DTYPE_INT64, TRUE);
  if (final) {
    grd_vk_glsl_buffer (s, n_in, ri->od, FALSE);
  } else {
    grd_vk_glsl_buffer (s, n_in, ri->ad, FALSE);
    if (ri->arg)
      grd_vk_glsl_buffer (s, n_in + 1, GRD_DTYPE_INT64, FALSE);
  }
  if (!thread) {
    g_string_append_printf (s, "shared %s red[%d];\n", A, GRD_VK_GROUP);
    if (ri->arg)
      g_string_append_printf (s, "shared int64_t redi[%d];\n", GRD_VK_GROUP);
  }
  /* combine (and, for arg, whether (w, k) beats (v, i)) */
  if (ri->arg) {
    g_string_append_printf (s, "bool better(%s v, int64_t i, %s w, int64_t k) {\n", A, A);
    if (fl)
      g_string_append (s, "  if (isnan(v)) return isnan(w) && k < i;\n"
                       "  if (isnan(w)) return true;\n");
    g_string_append_printf (s, "  return w %s v || (w == v && k < i);\n}\n",
                            ri->is_max ? ">" : "<");
  } else {
    const char *c;
    if (!strcmp (ri->op, "prod"))
      c = "(a * v)";
    else if (!ri->extreme)
      c = "(a + v)";
    else if (fl)
      c = ri->is_max ? "gx_max(a, v)" : "gx_min(a, v)";
    else
      c = ri->is_max ? "(v > a ? v : a)" : "(v < a ? v : a)";
    g_string_append_printf (s, "%s combine(%s a, %s v) { return %s; }\n", A, A, A, c);
  }
  /* loading element j (of this output's reduction) as the accumulator type */
  g_autofree char *k_off = offset_expr (&p, "k", nk, zero, kstp);
  g_autofree char *r_off = offset_expr (&p, "q", nr, zero, rstp);
  g_string_append_printf (s, "%s load_v(uint base, uint j) {\n", A);
  if (first) {
    emit_coords (s, &p, "q", "j", nr, rsp);
    g_autofree char *ld = grd_vk_glsl_load (0, src_dt, "base + roff");
    g_autofree char *cv = grd_vk_glsl_convert (ld, src_dt, ri->ad);
    g_string_append_printf (s, "    uint roff = %s;\n    return %s;\n}\n", r_off, cv);
  } else
    g_string_append (s, "  return b0.d[base + j];\n}\n");
  if (ri->arg) {
    g_string_append (s, "int64_t load_i(uint base, uint j) {\n");
    g_string_append (s, n_in == 2 ? "  return b1.d[base + j];\n}\n" : "  return int64_t(j);\n}\n");
  }
  g_string_append_printf (s, "void main() {\n"
                          "  uint nout = %s, nred = %s, nch = %s;\n",
                          pexpr (&p, 0), pexpr (&p, 1), pexpr (&p, 2));
  /* the result statement(s) for output (or partial) index `w` */
  g_autoptr (GString) store = g_string_new (NULL);
  if (final) {
    g_autofree char *v = NULL;
    if (ri->arg)
      v = grd_vk_glsl_convert ("bi", GRD_DTYPE_INT64, ri->od);
    else if (ri->mean)
      v = g_strdup_printf ("%s(a / %s(%s))", grd_vk_glsl_type (ri->od), A, pexpr (&p, 3));
    else
      v = grd_vk_glsl_convert ("a", ri->ad, ri->od);
    g_autofree char *st = grd_vk_glsl_store (n_in, ri->od, "w", v);
    g_string_append (store, st);
  } else {
    g_string_append_printf (store, "b%d.d[w] = %s;", n_in, ri->arg ? "best" : "a");
    if (ri->arg)
      g_string_append_printf (store, " b%d.d[w] = bi;", n_in + 1);
  }
  if (thread) {
    g_string_append_printf (s, "  uint step = gl_NumWorkGroups.x * %uu;\n"
                            "  for (uint o = gl_GlobalInvocationID.x; o < nout; o += step) {\n",
                            GRD_VK_GROUP);
    if (first) {
      emit_coords (s, &p, "k", "o", nk, ksp);
      g_string_append_printf (s, "    uint base = %s;\n", k_off);
    } else
      g_string_append (s, "    uint base = o * nred;\n");
    g_string_append (s, "    uint w = o;\n");
    if (ri->arg)
      g_string_append_printf (s, "    %s best = load_v(base, 0u); int64_t bi = load_i(base, 0u);\n"
                              "    for (uint j = 1u; j < nred; j++) {\n"
                              "      %s v = load_v(base, j); int64_t i = load_i(base, j);\n"
                              "      if (better(best, bi, v, i)) { best = v; bi = i; }\n"
                              "    }\n", A, A);
    else
      g_string_append_printf (s, "    %s a = %s;\n"
                              "    for (uint j = %s; j < nred; j++) a = combine(a, load_v(base, j));\n",
                              A, ri->extreme ? "load_v(base, 0u)"
                                 : !strcmp (ri->op, "prod") ? "1" : "0",
                              ri->extreme ? "1u" : "0u");
    g_string_append_printf (s, "    %s\n  }\n}\n", store->str);
  } else {
    g_string_append (s, "  uint tid = gl_LocalInvocationID.x;\n"
                     "  uint ngroups = nout * nch;\n"
                     "  for (uint g = gl_WorkGroupID.x; g < ngroups; g += gl_NumWorkGroups.x) {\n"
                     "    uint o = g / nch, c = g % nch;\n");
    if (first) {
      emit_coords (s, &p, "k", "o", nk, ksp);
      g_string_append_printf (s, "    uint base = %s;\n", k_off);
    } else
      g_string_append (s, "    uint base = o * nred;\n");
    g_string_append_printf (s, "    uint j0 = c * %uu;\n", RED_CHUNK);
    if (ri->arg) {
      g_string_append_printf (s, "    %s best = load_v(base, j0); int64_t bi = load_i(base, j0);\n"
                              "    for (uint t = 0u; t < 64u; t++) {\n"
                              "      uint j = j0 + t * %uu + tid;\n"
                              "      if (j >= nred) break;\n"
                              "      %s v = load_v(base, j); int64_t i = load_i(base, j);\n"
                              "      if (better(best, bi, v, i)) { best = v; bi = i; }\n"
                              "    }\n"
                              "    red[tid] = best; redi[tid] = bi;\n    barrier();\n"
                              "    for (uint h = %uu; h > 0u; h >>= 1) {\n"
                              "      if (tid < h && better(red[tid], redi[tid], red[tid + h], redi[tid + h])) {\n"
                              "        red[tid] = red[tid + h]; redi[tid] = redi[tid + h];\n      }\n"
                              "      barrier();\n    }\n"
                              "    best = red[0]; bi = redi[0];\n",
                              A, GRD_VK_GROUP, A, GRD_VK_GROUP / 2);
    } else {
      g_string_append_printf (s, "    %s a = %s;\n"
                              "    for (uint t = 0u; t < 64u; t++) {\n"
                              "      uint j = j0 + t * %uu + tid;\n"
                              "      if (j >= nred) break;\n"
                              "      a = combine(a, load_v(base, j));\n"
                              "    }\n"
                              "    red[tid] = a;\n    barrier();\n"
                              "    for (uint h = %uu; h > 0u; h >>= 1) {\n"
                              "      if (tid < h) red[tid] = combine(red[tid], red[tid + h]);\n"
                              "      barrier();\n    }\n"
                              "    a = red[0];\n",
                              A, ri->extreme ? "load_v(base, j0)"
                                 : !strcmp (ri->op, "prod") ? "1" : "0",
                              GRD_VK_GROUP, GRD_VK_GROUP / 2);
    }
    g_string_append_printf (s, "    uint w = g;\n    if (tid == 0u) { %s }\n    barrier();\n  }\n}\n",
                            store->str);
  }
  GrdVkKernel *k = kernel (r, s, n_in + n_outb, error);
  if (!k)
    return FALSE;
  GrdVkBuffer *bufs[4];
  gint nb = 0;
  for (gint i = 0; i < n_in; i++)
    bufs[nb++] = in[i];
  for (gint i = 0; i < n_outb; i++)
    bufs[nb++] = outb[i];
  guint32 groups = thread ? groups_for (n_out) : (guint32) MIN (n_out * n_chunks, 65535);
  dispatch_n (r, k, bufs, nb, n_outb, p.v, p.n, groups, 1);
  return TRUE;
}

static gboolean
step_reduce (Rec *r, Step *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = node_at (fn, st->node);
  const char *op = node->op->name;
  Value *x = slot (fn, node->inputs[0]), *out = slot (fn, (GrdRef) { st->node, 0 });
  gboolean mask[GRD_MAX_RANK];
  if (!strcmp (op, "_reduce_to")) {
    Value *like = slot (fn, node->inputs[1]);
    gint lead = x->rank - like->rank;
    for (gint d = 0; d < x->rank; d++)
      mask[d] = d < lead || (like->shape[d - lead] == 1 && x->shape[d] != 1);
  } else if (!grd_axes_mask (&node->attrs, x->rank, mask, error))
    return FALSE;
  RedInfo ri = { .op = op };
  ri.arg = !strcmp (op, "argmax") || !strcmp (op, "argmin");
  ri.is_max = !strcmp (op, "max") || !strcmp (op, "argmax");
  ri.extreme = ri.arg || ri.is_max || !strcmp (op, "min");
  ri.mean = !strcmp (op, "mean");
  gint64 cs[GRD_MAX_RANK];
  contiguous (x->rank, x->shape, cs);
  /* kept and reduced axes, each list collapsed where contiguous in x */
  gint nk = 0, nr = 0;
  gint64 ks[GRD_MAX_RANK], kst[GRD_MAX_RANK], rs[GRD_MAX_RANK], rst[GRD_MAX_RANK];
  gint64 n_red = 1;
  for (gint d = 0; d < x->rank; d++) {
    if (mask[d])
      n_red *= x->shape[d];
    if (x->shape[d] == 1)
      continue;
    gint64 *sh = mask[d] ? rs : ks, *sd = mask[d] ? rst : kst;
    gint *cnt = mask[d] ? &nr : &nk;
    if (*cnt > 0 && sd[*cnt - 1] == cs[d] * x->shape[d]) {
      sh[*cnt - 1] *= x->shape[d];
      sd[*cnt - 1] = cs[d];
    } else {
      sh[*cnt] = x->shape[d];
      sd[*cnt] = cs[d];
      (*cnt)++;
    }
  }
  if (out->size == 0)
    return TRUE;
  if (ri.extreme && n_red == 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                 "node '%s' (%s): zero-size reduction has no identity", node->id, op);
    return FALSE;
  }
  if (x->size >= G_MAXINT32) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "node '%s': too many elements",
                 node->id);
    return FALSE;
  }
  ri.xd = x->dtype;
  ri.od = out->dtype;
  ri.n_red_total = n_red;
  if (ri.extreme)
    ri.ad = ri.xd == GRD_DTYPE_BOOL ? GRD_DTYPE_INT32 : ri.xd;
  else if (grd_dtype_is_float (ri.od) && fn->ctx->has_float64)
    ri.ad = GRD_DTYPE_FLOAT64;  /* float32 sums accumulate in double where the device can */
  else
    ri.ad = ri.od;
  if (ri.ad == GRD_DTYPE_FLOAT64)
    fn->float64 = TRUE;
  if (ri.arg)
    fn->int64 = TRUE;
  GrdVkBuffer *in[2] = { x->buf, NULL };
  gint64 m = n_red;
  gboolean first = TRUE;
  for (;;) {
    gboolean thread = m <= 64;
    gint64 n_chunks = thread ? 1 : (m + RED_CHUNK - 1) / RED_CHUNK;
    gboolean final = n_chunks == 1;
    GrdVkBuffer *outb[2] = { out->buf, NULL };
    if (!final) {
      for (gint i = 0; i < (ri.arg ? 2 : 1); i++) {
        gsize es = i ? 8 : device_size (ri.ad);
        outb[i] = grd_vk_buffer_new (fn->ctx, out->size * n_chunks * es, error);
        if (!outb[i])
          return FALSE;
        g_ptr_array_add (r->temps, outb[i]);
      }
    }
    if (!reduce_pass (r, &ri, first, final, out->size, m, nk, ks, kst, nr, rs, rst, in, outb,
                      error))
      return FALSE;
    if (final)
      return TRUE;
    in[0] = outb[0];
    in[1] = outb[1];
    m = n_chunks;
    first = FALSE;
  }
}

static gboolean
step_count (Rec *r, Step *st, GrdTensor **host, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = node_at (fn, st->node);
  Value *x = slot (fn, node->inputs[0]), *out = slot (fn, (GrdRef) { st->node, 0 });
  gboolean mask[GRD_MAX_RANK];
  if (!grd_axes_mask (&node->attrs, x->rank, mask, error))
    return FALSE;
  double count = 1;
  for (gint d = 0; d < x->rank; d++)
    if (mask[d])
      count *= x->shape[d];
  *host = grd_tensor_new_scalar (out->dtype, count);
  return TRUE;
}

/* dot, _dot_nt, _dot_tn as C[M,N] = A[M,K] B[K,N] through strides. */
static gboolean
step_dot (Rec *r, Step *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = node_at (fn, st->node);
  const char *op = node->op->name;
  Value *a = slot (fn, node->inputs[0]), *b = slot (fn, node->inputs[1]);
  Value *out = slot (fn, (GrdRef) { st->node, 0 });
  GrdDType od = out->dtype;
  if (a->rank == 0 || b->rank == 0) {
    const char *T = grd_vk_glsl_type (od);
    g_autofree char *ca = grd_vk_glsl_convert ("l0", a->dtype, od);
    g_autofree char *cb = grd_vk_glsl_convert ("l1", b->dtype, od);
    g_autofree char *body = g_strdup_printf ("    %s res = %s %s %s;\n", T, ca,
                                             od == GRD_DTYPE_BOOL ? "&&" : "*", cb);
    Ew e = { .rank = out->rank, .n = 2, .body = body };
    memcpy (e.shape, out->shape, sizeof e.shape);
    ew_leaf_broadcast (&e, 0, a);
    ew_leaf_broadcast (&e, 1, b);
    ew_out_contiguous (&e, out);
    return run_ew (r, &e, error);
  }
  gint64 M, N, K, sam, sak, sbk, sbn;
  if (!strcmp (op, "_dot_nt")) {
    M = a->shape[0], K = a->shape[1], N = b->shape[0];
    sam = K, sak = 1, sbk = 1, sbn = K;
  } else if (!strcmp (op, "_dot_tn")) {
    K = a->shape[0], M = a->shape[1], N = b->shape[1];
    sam = 1, sak = M, sbk = N, sbn = 1;
  } else {
    M = a->rank == 2 ? a->shape[0] : 1;
    K = a->shape[a->rank - 1];
    N = b->rank == 2 ? b->shape[1] : 1;
    sam = a->rank == 2 ? K : 0, sak = 1;
    sbk = b->rank == 2 ? N : 1, sbn = b->rank == 2 ? 1 : 0;
  }
  if (M * N == 0)
    return TRUE;
  if (M * N >= G_MAXINT32 || M * K >= G_MAXINT32 || K * N >= G_MAXINT32) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "node '%s': matrices too large",
                 node->id);
    return FALSE;
  }
  guint32 push[8] = { M, N, K, sam, sak, sbk, sbn, 0 };
  GrdVkBuffer *bufs[3] = { a->buf, b->buf, out->buf };
  if (grd_dtype_is_float (od) && a->dtype == od && b->dtype == od) {
    gboolean dbl = od == GRD_DTYPE_FLOAT64;
    /* 8x8 per thread (128x128 tiles) for big float32 products, 4x4 otherwise */
    guint32 t = !dbl && M >= 512 && N >= 512 ? 8 : 4;
    guint32 spec[2] = { t, t };
    GrdVkKernel *k = dbl ? grd_vk_kernel_spirv (fn->ctx, "gemm-f64", gemm_f64, sizeof gemm_f64,
                                                3, spec, 2, error)
                         : grd_vk_kernel_spirv (fn->ctx, "gemm-f32", gemm_f32, sizeof gemm_f32,
                                                3, spec, 2, error);
    if (!k)
      return FALSE;
    guint32 tile = 16 * t;
    guint32 gx = (N + tile - 1) / tile, gy = (M + tile - 1) / tile;
    if (gx > 65535 || gy > 65535) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "node '%s': matrices too large",
                   node->id);
      return FALSE;
    }
    dispatch (r, k, bufs, 3, push, 8, gx, gy);
    return TRUE;
  }
  /* other dtypes: one thread per output element, in the output's type
   * (int64 wraps as NumPy's; bool is an or of ands) */
  const char *T = grd_vk_glsl_type (od);
  g_autofree char *la = grd_vk_glsl_load (0, a->dtype, "m * pc.p[3] + q * pc.p[4]");
  g_autofree char *lb = grd_vk_glsl_load (1, b->dtype, "q * pc.p[5] + c * pc.p[6]");
  g_autofree char *ca = grd_vk_glsl_convert (la, a->dtype, od);
  g_autofree char *cb = grd_vk_glsl_convert (lb, b->dtype, od);
  g_autofree char *store = grd_vk_glsl_store (2, od, "o", "acc");
  g_autofree char *term = g_strdup_printf (od == GRD_DTYPE_BOOL ? "acc || (%s && %s)"
                                                                : "acc + %s * %s", ca, cb);
  g_autoptr (GString) s = g_string_new (NULL);
  grd_vk_glsl_buffer (s, 0, a->dtype, TRUE);
  grd_vk_glsl_buffer (s, 1, b->dtype, TRUE);
  grd_vk_glsl_buffer (s, 2, od, FALSE);
  g_string_append_printf (s,
                          "void main() {\n"
                          "  uint n = pc.p[0] * pc.p[1];\n"
                          "  uint step = gl_NumWorkGroups.x * %uu;\n"
                          "  for (uint o = gl_GlobalInvocationID.x; o < n; o += step) {\n"
                          "    uint m = o / pc.p[1], c = o %% pc.p[1];\n"
                          "    %s acc = %s(0);\n"
                          "    for (uint q = 0u; q < pc.p[2]; q++)\n"
                          "      acc = %s;\n"
                          "    %s\n  }\n}\n",
                          GRD_VK_GROUP, T, T, term, store);
  GrdVkKernel *k = kernel (r, s, 3, error);
  if (!k)
    return FALSE;
  dispatch (r, k, bufs, 3, push, 8, groups_for (M * N), 1);
  return TRUE;
}

/* softmax, log_softmax, logsumexp and categorical_crossentropy: one thread per row. */
static gboolean
step_row (Rec *r, Step *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = node_at (fn, st->node);
  const char *op = node->op->name;
  Value *x = slot (fn, node->inputs[0]), *out = slot (fn, (GrdRef) { st->node, 0 });
  gboolean cce = !strcmp (op, "categorical_crossentropy");
  gint axis = x->rank - 1;
  if (x->rank == 0) {
    axis = 0;
  } else if (!cce && !grd_axis_single (&node->attrs, x->rank, x->rank - 1, &axis, error))
    return FALSE;
  gint64 L = x->rank ? x->shape[axis] : 1, inner = 1, outer = 1;
  for (gint d = 0; d < axis; d++)
    outer *= x->shape[d];
  for (gint d = axis + 1; d < x->rank; d++)
    inner *= x->shape[d];
  gint64 rows = outer * inner;
  if (rows == 0 || x->size >= G_MAXINT32)
    return rows == 0 ? TRUE : (g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                                            "node '%s': too many elements", node->id), FALSE);
  GrdDType od = out->dtype;
  GrdDType td = grd_dtype_is_float (od) ? od : GRD_DTYPE_FLOAT64;
  const char *T = grd_vk_glsl_type (td);
  g_autofree char *lx = grd_vk_glsl_load (0, x->dtype, "base + j * inner");
  g_autofree char *cx = grd_vk_glsl_convert (lx, x->dtype, td);
  g_autoptr (GString) s = g_string_new (NULL);
  gint n_buf = 2;
  grd_vk_glsl_buffer (s, 0, x->dtype, TRUE);
  Value *t = NULL;
  if (cce) {
    t = slot (fn, node->inputs[1]);
    grd_vk_glsl_buffer (s, 1, t->dtype, TRUE);
    n_buf = 3;
  }
  grd_vk_glsl_buffer (s, n_buf - 1, od, FALSE);
  /* long rows take a workgroup each (lavapipe caps an invocation's loops) */
  gboolean wide = !cce && L > GRD_VK_GROUP;
  const char *e = !strcmp (op, "softmax") ? "gx_exp(X(base, inner, j) - m) / sum"
                                          : "(X(base, inner, j) - m) - gx_log(sum)";
  if (wide)
    g_string_append_printf (s, "shared %s sm[%d];\n", T, GRD_VK_GROUP);
  g_string_append_printf (s,
                          "%s X(uint base, uint inner, uint j) { return %s; }\n"
                          "void main() {\n"
                          "  uint rows = pc.p[0], L = pc.p[1], inner = pc.p[2];\n",
                          T, cx);
  if (wide)
    g_string_append (s, "  for (uint row = gl_WorkGroupID.x; row < rows; row += gl_NumWorkGroups.x) {\n");
  else
    g_string_append_printf (s, "  uint step = gl_NumWorkGroups.x * %uu;\n"
                            "  for (uint row = gl_GlobalInvocationID.x; row < rows; row += step) {\n",
                            GRD_VK_GROUP);
  g_string_append (s, "    uint base = (row / inner) * L * inner + row % inner;\n");
  g_autofree char *res = NULL;
  if (cce) {
    if (grd_dtype_is_float (t->dtype)) {
      g_autofree char *lt = grd_vk_glsl_load (1, t->dtype, "base + j * inner");
      g_autofree char *ct = grd_vk_glsl_convert (lt, t->dtype, td);
      g_string_append_printf (s, "    %s acc = %s(0);\n"
                              "    for (uint j = 0u; j < L; j++) acc -= %s * gx_log(X(base, inner, j));\n",
                              T, T, ct);
    } else {
      g_autofree char *lt = grd_vk_glsl_load (1, t->dtype, "row");
      g_string_append_printf (s, "    int64_t c = int64_t(%s);\n"
                              "    if (c < 0) c += int64_t(L);\n"
                              "    c = clamp(c, int64_t(0), int64_t(L) - 1);\n"
                              "    %s acc = -gx_log(X(base, inner, uint(c)));\n", lt, T);
      fn->int64 = TRUE;
    }
    g_autofree char *cv = grd_vk_glsl_convert ("acc", td, od);
    g_autofree char *store = grd_vk_glsl_store (2, od, "row", cv);
    g_string_append_printf (s, "    %s\n  }\n}\n", store);
  } else if (!wide) {
    g_string_append_printf (s,
                            "    %s m = X(base, inner, 0u);\n"
                            "    for (uint j = 1u; j < L; j++) m = gx_max(m, X(base, inner, j));\n"
                            "    if (isinf(m)) m = %s(0);\n"
                            "    %s sum = %s(0);\n"
                            "    for (uint j = 0u; j < L; j++) sum += gx_exp(X(base, inner, j) - m);\n",
                            T, T, T, T);
    if (!strcmp (op, "logsumexp")) {
      g_autofree char *cv = grd_vk_glsl_convert ("(m + gx_log(sum))", td, od);
      g_autofree char *store = grd_vk_glsl_store (1, od, "row", cv);
      g_string_append_printf (s, "    %s\n  }\n}\n", store);
    } else {
      g_autofree char *cv = grd_vk_glsl_convert (e, td, od);
      g_autofree char *store = grd_vk_glsl_store (1, od, "base + j * inner", cv);
      g_string_append_printf (s, "    for (uint j = 0u; j < L; j++) %s\n  }\n}\n", store);
    }
  } else {
    /* one workgroup per row: maximum and sum through shared memory */
    g_string_append_printf (s,
                            "    uint tid = gl_LocalInvocationID.x;\n"
                            "    %s m = X(base, inner, 0u);\n"
                            "    for (uint j = tid; j < L; j += %uu) m = gx_max(m, X(base, inner, j));\n"
                            "    sm[tid] = m;\n    barrier();\n"
                            "    for (uint h = %uu; h > 0u; h >>= 1) {\n"
                            "      if (tid < h) sm[tid] = gx_max(sm[tid], sm[tid + h]);\n"
                            "      barrier();\n    }\n"
                            "    m = sm[0];\n    barrier();\n"
                            "    if (isinf(m)) m = %s(0);\n"
                            "    %s sum = %s(0);\n"
                            "    for (uint j = tid; j < L; j += %uu) sum += gx_exp(X(base, inner, j) - m);\n"
                            "    sm[tid] = sum;\n    barrier();\n"
                            "    for (uint h = %uu; h > 0u; h >>= 1) {\n"
                            "      if (tid < h) sm[tid] += sm[tid + h];\n"
                            "      barrier();\n    }\n"
                            "    sum = sm[0];\n    barrier();\n",
                            T, GRD_VK_GROUP, GRD_VK_GROUP / 2, T, T, T, GRD_VK_GROUP,
                            GRD_VK_GROUP / 2);
    if (!strcmp (op, "logsumexp")) {
      g_autofree char *cv = grd_vk_glsl_convert ("(m + gx_log(sum))", td, od);
      g_autofree char *store = grd_vk_glsl_store (1, od, "row", cv);
      g_string_append_printf (s, "    if (tid == 0u) %s\n  }\n}\n", store);
    } else {
      g_autofree char *cv = grd_vk_glsl_convert (e, td, od);
      g_autofree char *store = grd_vk_glsl_store (1, od, "base + j * inner", cv);
      g_string_append_printf (s, "    for (uint j = tid; j < L; j += %uu) %s\n  }\n}\n",
                              GRD_VK_GROUP, store);
    }
  }
  if (td == GRD_DTYPE_FLOAT64)
    fn->float64 = TRUE;
  GrdVkKernel *k = kernel (r, s, n_buf, error);
  if (!k)
    return FALSE;
  GrdVkBuffer *bufs[3] = { x->buf, cce ? t->buf : out->buf, out->buf };
  guint32 push[3] = { rows, L, inner };
  dispatch (r, k, bufs, n_buf, push, 3, wide ? (guint32) MIN (rows, 65535) : groups_for (rows), 1);
  return TRUE;
}

/* take (a, idx): out[o, k, i] = a[o, idx[k], i]; _take_grad (g, x, idx): the sum
 * of g over the k whose index is a (a gather, so no atomics). */
static gboolean
step_take (Rec *r, Step *st, gboolean grad, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = node_at (fn, st->node);
  Value *a = slot (fn, node->inputs[grad ? 1 : 0]), *idx = slot (fn, node->inputs[grad ? 2 : 1]);
  Value *g = grad ? slot (fn, node->inputs[0]) : NULL;
  Value *out = slot (fn, (GrdRef) { st->node, 0 });
  gint axis;
  if (!grd_axis_single (&node->attrs, a->rank, 0, &axis, error))
    return FALSE;
  gint64 inner = 1, A = a->rank ? a->shape[axis] : 1;
  for (gint d = axis + 1; d < a->rank; d++)
    inner *= a->shape[d];
  if (out->size == 0)
    return TRUE;
  if (out->size >= G_MAXINT32 || (g && g->size >= G_MAXINT32)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "node '%s': too many elements",
                 node->id);
    return FALSE;
  }
  const char *IT = grd_vk_glsl_type (idx->dtype);
  g_autofree char *li = grd_vk_glsl_load (1, idx->dtype, "k");
  g_autoptr (GString) s = g_string_new (NULL);
  GrdDType od = out->dtype;
  const char *T = grd_vk_glsl_type (od);
  grd_vk_glsl_buffer (s, 0, grad ? g->dtype : a->dtype, TRUE);
  grd_vk_glsl_buffer (s, 1, idx->dtype, TRUE);
  grd_vk_glsl_buffer (s, 2, od, FALSE);
  g_string_append_printf (s,
                          "uint index(uint k, uint A) {\n"
                          "  %s v = %s;\n"
                          "  if (v < %s(0)) v += %s(A);\n"
                          "  return uint(clamp(v, %s(0), %s(A) - %s(1)));\n"
                          "}\n"
                          "void main() {\n"
                          "  uint n = pc.p[0], nk = pc.p[1], inner = pc.p[2], A = pc.p[3];\n"
                          "  uint step = gl_NumWorkGroups.x * %uu;\n"
                          "  for (uint e = gl_GlobalInvocationID.x; e < n; e += step) {\n",
                          IT, li, IT, IT, IT, IT, IT, GRD_VK_GROUP);
  if (!grad) {
    g_autofree char *la = grd_vk_glsl_load (0, a->dtype, "(o * A + index(k, A)) * inner + i");
    g_autofree char *ca = grd_vk_glsl_convert (la, a->dtype, od);
    g_autofree char *store = grd_vk_glsl_store (2, od, "e", ca);
    g_string_append_printf (s,
                            "    uint i = e %% inner, t = e / inner, k = t %% nk, o = t / nk;\n"
                            "    %s\n  }\n}\n", store);
  } else {
    /* out is shaped like x: e = (o, a, i) */
    g_autofree char *lg = grd_vk_glsl_load (0, g->dtype, "(o * nk + k) * inner + i");
    g_autofree char *cg = grd_vk_glsl_convert (lg, g->dtype, od);
    g_autofree char *store = grd_vk_glsl_store (2, od, "e", "acc");
    g_string_append_printf (s,
                            "    uint i = e %% inner, t = e / inner, a = t %% A, o = t / A;\n"
                            "    %s acc = %s(0);\n"
                            "    for (uint k = 0u; k < nk; k++)\n"
                            "      if (index(k, A) == a) acc += %s;\n"
                            "    %s\n  }\n}\n", T, T, cg, store);
  }
  GrdVkKernel *k = kernel (r, s, 3, error);
  if (!k)
    return FALSE;
  GrdVkBuffer *bufs[3] = { grad ? g->buf : a->buf, idx->buf, out->buf };
  guint32 push[4] = { out->size, idx->size, inner, A };
  dispatch (r, k, bufs, 3, push, 4, groups_for (out->size), 1);
  return TRUE;
}

static gboolean
step_one_hot (Rec *r, Step *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = node_at (fn, st->node);
  Value *idx = slot (fn, node->inputs[0]), *out = slot (fn, (GrdRef) { st->node, 0 });
  gint64 depth = out->rank ? out->shape[out->rank - 1] : 1;
  if (out->size == 0)
    return TRUE;
  const char *T = grd_vk_glsl_type (out->dtype);
  g_autofree char *li = grd_vk_glsl_load (0, idx->dtype, "e / d");
  g_autofree char *ci = grd_vk_glsl_convert (li, idx->dtype, GRD_DTYPE_INT64);
  g_autofree char *v = g_strdup_printf ("(%s == int64_t(e %% d) ? %s(1) : %s(0))", ci, T, T);
  g_autofree char *store = grd_vk_glsl_store (1, out->dtype, "e", v);
  g_autoptr (GString) s = g_string_new (NULL);
  grd_vk_glsl_buffer (s, 0, idx->dtype, TRUE);
  grd_vk_glsl_buffer (s, 1, out->dtype, FALSE);
  g_string_append_printf (s,
                          "void main() {\n"
                          "  uint n = pc.p[0], d = pc.p[1];\n"
                          "  uint step = gl_NumWorkGroups.x * %uu;\n"
                          "  for (uint e = gl_GlobalInvocationID.x; e < n; e += step) {\n"
                          "    %s\n  }\n}\n", GRD_VK_GROUP, store);
  fn->int64 = TRUE;
  GrdVkKernel *k = kernel (r, s, 2, error);
  if (!k)
    return FALSE;
  GrdVkBuffer *bufs[2] = { idx->buf, out->buf };
  guint32 push[2] = { out->size, depth };
  dispatch (r, k, bufs, 2, push, 2, groups_for (out->size), 1);
  return TRUE;
}

/* ------------------------------------------------------------ kernels of other files */

static GrdVkKernel *
ext_kernel (GrdVkExtCall *call, GString *body, gint n_buffers, GError **error)
{
  return kernel (call->priv, body, n_buffers, error);
}

static void
ext_dispatch (GrdVkExtCall *call, GrdVkKernel *k, GrdVkBuffer *const *bufs, gint n,
              const guint32 *push, gint n_push, guint32 gx)
{
  dispatch (call->priv, k, bufs, n, push, n_push, gx, 1);
}

static gboolean
step_ext (Rec *r, Step *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = node_at (fn, st->node);
  Value *out = slot (fn, (GrdRef) { st->node, 0 });
  GrdVkExtCall call = { .node = node, .n_in = MIN (node->n_inputs, GRD_VK_MAX_BINDINGS),
                        .out_buf = out->buf, .out_dtype = out->dtype, .out_rank = out->rank,
                        .out_size = out->size, .priv = r, .kernel = ext_kernel,
                        .dispatch = ext_dispatch };
  memcpy (call.out_shape, out->shape, sizeof call.out_shape);
  for (gint j = 0; j < call.n_in; j++) {
    Value *v = slot (fn, node->inputs[j]);
    call.in_buf[j] = v->buf;
    call.in_dtype[j] = v->dtype;
    call.in_rank[j] = v->rank;
    memcpy (call.in_shape[j], v->shape, sizeof call.in_shape[j]);
  }
  return grd_vk_ext_record (&call, error);
}

/* ------------------------------------------------------------ calls */

/* Lossless conversions only, as the CPU function. */
static gboolean
can_feed (GrdDType from, GrdDType to)
{
  if (from == to || from == GRD_DTYPE_BOOL || to == GRD_DTYPE_FLOAT64)
    return TRUE;
  if (to == GRD_DTYPE_INT64)
    return from == GRD_DTYPE_INT32;
  return FALSE;
}

typedef struct {
  GrdTensor   *t;     /* owned */
  GrdVkBuffer *dst;
} Upload;

static void
upload_clear (Upload *u)
{
  grd_tensor_unref (u->t);
}

/* Runtime shapes: each op's type rule applied to the runtime shapes. */
static gboolean
infer_shapes (GrdVkFunction *fn, GError **error)
{
  for (guint p = 0; p < fn->schedule->len; p++) {
    gint i = g_array_index (fn->schedule, gint, p);
    GrdNode *node = node_at (fn, i);
    GrdType in[node->n_inputs + 1], out[node->n_outputs + 1];
    for (gint j = 0; j < node->n_inputs; j++) {
      Value *v = slot (fn, node->inputs[j]);
      grd_type_set (&in[j], v->dtype, v->rank, v->shape);
    }
    g_autoptr (GError) local = NULL;
    if (!node->op->infer (&node->attrs, in, node->n_inputs, out, &local)) {
      g_set_error (error, GRD_ERROR, local->code, "node '%s' (%s): %s", node->id,
                   node->op->name, local->message);
      return FALSE;
    }
    for (gint k = 0; k < node->n_outputs; k++) {
      for (gint d = 0; d < out[k].rank; d++)
        if (out[k].dims[d] < 0) {
          g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                       "node '%s' (%s): the output shape is not known from the input shapes",
                       node->id, node->op->name);
          return FALSE;
        }
      value_set_shape (&fn->values[fn->slot_base[i] + k], node->types[k].dtype, out[k].rank,
                       out[k].dims);
    }
  }
  return TRUE;
}

static gboolean
submit (GrdVkContext *ctx, GError **error)
{
  VkSubmitInfo si = {
    .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
    .commandBufferCount = 1,
    .pCommandBuffers = &ctx->cmd,
  };
  if (!grd_vk_check (vkResetFences (ctx->device, 1, &ctx->fence), "vkResetFences", error)
      || !grd_vk_check (vkQueueSubmit (ctx->queue, 1, &si, ctx->fence), "vkQueueSubmit", error)
      || !grd_vk_check (vkWaitForFences (ctx->device, 1, &ctx->fence, VK_TRUE, UINT64_MAX),
                        "vkWaitForFences", error))
    return FALSE;
  return TRUE;
}

static gboolean
begin (GrdVkContext *ctx, GError **error)
{
  VkCommandBufferBeginInfo bi = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
    .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
  };
  if (!grd_vk_check (vkResetCommandBuffer (ctx->cmd, 0), "vkResetCommandBuffer", error)
      || !grd_vk_check (vkBeginCommandBuffer (ctx->cmd, &bi), "vkBeginCommandBuffer", error))
    return FALSE;
  /* Everything of the previous submission is done before anything of this one. */
  barrier (ctx->cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
           VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT,
           VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
           VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT);
  return TRUE;
}

/* Host data into device buffers (before any dispatch), values out of them
 * (after the last), in one submission with the work. */
typedef struct {
  GArray      *up;    /* Upload */
  GPtrArray   *down;  /* Value* to read back */
  GArray      *down_at; /* VkDeviceSize: staging offsets */
  GArray      *leaves;  /* gint: constant and shared nodes uploaded by this call */
} Transfers;

static VkDeviceSize
align_up (VkDeviceSize v)
{
  return (v + 255) / 256 * 256;
}

static gboolean
run_submission (GrdVkFunction *fn, Transfers *tr, GArray *steps, gboolean replay,
                GPtrArray *host_tensors, GError **error)
{
  GrdVkContext *ctx = fn->ctx;
  g_mutex_lock (&ctx->lock);
  gboolean ok = FALSE;
  g_autoptr (GPtrArray) temps = g_ptr_array_new_with_free_func ((GDestroyNotify) grd_vk_buffer_unref);
  GrdVkBuffer *staging = NULL;
  VkDeviceSize up_total = 0, total = 0;
  for (guint i = 0; i < tr->up->len; i++) {
    Upload *u = &g_array_index (tr->up, Upload, i);
    up_total = align_up (up_total + u->t->size * device_size (u->t->dtype));
  }
  total = up_total;
  g_array_set_size (tr->down_at, 0);
  for (guint i = 0; i < tr->down->len; i++) {
    Value *v = tr->down->pdata[i];
    g_array_append_val (tr->down_at, total);
    total = align_up (total + v->size * device_size (v->dtype));
  }
  if (!ctx->direct && total > 0 && !(staging = grd_vk_staging (ctx, total, error)))
    goto out;
  gint64 t_record = g_get_monotonic_time ();
  if (!begin (ctx, error))
    goto out;
  {
    VkDeviceSize at = 0;
    for (guint i = 0; i < tr->up->len; i++) {
      Upload *u = &g_array_index (tr->up, Upload, i);
      VkDeviceSize n = u->t->size * device_size (u->t->dtype);
      if (n == 0)
        continue;
      if (ctx->direct)
        write_host (u->dst->mapped, u->t);
      else {
        write_host (staging->mapped + at, u->t);
        VkBufferCopy c = { at, 0, n };
        vkCmdCopyBuffer (ctx->cmd, staging->buffer, u->dst->buffer, 1, &c);
        at = align_up (at + n);
      }
    }
    if (!ctx->direct && tr->up->len)
      barrier (ctx->cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
               VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT);
  }
  {
    Rec rec = { .fn = fn, .cmd = ctx->cmd, .written = g_ptr_array_new (), .temps = temps };
    gboolean good = TRUE;
    if (steps && replay) {
      for (guint t = 0; good && t < fn->replay_temps->len; t++) {
        GrdVkBuffer *b = grd_vk_buffer_new (ctx, g_array_index (fn->replay_temps, VkDeviceSize, t),
                                            error);
        good = b != NULL;
        if (b)
          g_ptr_array_add (temps, b);
      }
      for (guint d = 0; good && d < fn->replay->len; d++) {
        Replay *rp = &g_array_index (fn->replay, Replay, d);
        GrdVkBuffer *bufs[GRD_VK_MAX_BINDINGS];
        for (gint i = 0; i < rp->n; i++)
          bufs[i] = rp->src[i] >= 0 ? fn->values[rp->src[i]].buf : temps->pdata[-1 - rp->src[i]];
        dispatch_n (&rec, rp->kernel, bufs, rp->n, rp->n_out, rp->push, GRD_VK_PUSH_WORDS, rp->gx,
                    rp->gy);
      }
      steps = NULL;
    } else if (steps) {
      rec.record = g_array_new (FALSE, FALSE, sizeof (Replay));
      rec.record_ok = TRUE;
    }
    for (guint i = 0; good && steps && i < steps->len; i++) {
      Step *st = &g_array_index (steps, Step, i);
      GrdNode *node = node_at (fn, st->node);
      g_autoptr (GError) local = NULL;
      rec.n_prefer = 0;
      if (st->kind == K_FUSED)
        for (guint k = 0; k < st->leaves->len; k++)
          rec.prefer[rec.n_prefer++] = g_array_index (st->leaves, GrdRef, k);
      else
        for (gint k = 0; k < node->n_inputs && k < GRD_VK_MAX_BINDINGS; k++)
          rec.prefer[rec.n_prefer++] = node->inputs[k];
      rec.prefer[rec.n_prefer++] = (GrdRef) { st->node, 0 };
      switch (st->kind) {
      case K_FUSED: good = step_fused (&rec, st, &local); break;
      case K_ALIAS: break;
      case K_VIEW: good = step_view (&rec, st, &local); break;
      case K_CONCAT: good = step_concat (&rec, st, &local); break;
      case K_CONCAT_PART: good = step_concat_part (&rec, st, &local); break;
      case K_SLICE_GRAD: good = step_slice_grad (&rec, st, &local); break;
      case K_REDUCE: good = step_reduce (&rec, st, &local); break;
      case K_UNREDUCE: good = step_unreduce (&rec, st, &local); break;
      case K_COUNT: break;
      case K_DOT: good = step_dot (&rec, st, &local); break;
      case K_OUTER: good = step_outer (&rec, st, &local); break;
      case K_ROW: good = step_row (&rec, st, &local); break;
      case K_TAKE: good = step_take (&rec, st, FALSE, &local); break;
      case K_TAKE_GRAD: good = step_take (&rec, st, TRUE, &local); break;
      case K_ONE_HOT: good = step_one_hot (&rec, st, &local); break;
      case K_PROD_OTHERS: good = step_prod_others (&rec, st, &local); break;
      case K_EXT: good = step_ext (&rec, st, &local); break;
      }
      if (!good)
        g_set_error (error, GRD_ERROR, local ? local->code : GRD_ERROR_UNSUPPORTED,
                     "node '%s' (%s): %s", node->id, node->op->name,
                     local ? local->message : "failed");
    }
    g_ptr_array_unref (rec.written);
    if (rec.record) {
      /* kept for the next calls when every binding was recognised */
      g_clear_pointer (&fn->replay, g_array_unref);
      g_array_set_size (fn->replay_temps, 0);
      if (good && rec.record_ok) {
        fn->replay = g_steal_pointer (&rec.record);
        for (guint t = 0; t < temps->len; t++) {
          VkDeviceSize size = ((GrdVkBuffer *) temps->pdata[t])->size;
          g_array_append_val (fn->replay_temps, size);
        }
      }
      g_clear_pointer (&rec.record, g_array_unref);
    }
    if (!good) {
      vkEndCommandBuffer (ctx->cmd);
      goto out;
    }
  }
  if (ctx->direct)
    barrier (ctx->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
             VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
             VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
  else if (tr->down->len) {
    barrier (ctx->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
             VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
             VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
    for (guint i = 0; i < tr->down->len; i++) {
      Value *v = tr->down->pdata[i];
      VkDeviceSize n = v->size * device_size (v->dtype);
      if (n == 0)
        continue;
      VkBufferCopy c = { 0, g_array_index (tr->down_at, VkDeviceSize, i), n };
      vkCmdCopyBuffer (ctx->cmd, v->buf->buffer, staging->buffer, 1, &c);
    }
    barrier (ctx->cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
             VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
  }
  if (!grd_vk_check (vkEndCommandBuffer (ctx->cmd), "vkEndCommandBuffer", error))
    goto out;
  t_record = g_get_monotonic_time () - t_record;
  gint64 t_submit = g_get_monotonic_time ();
  if (!submit (ctx, error))
    goto out;
  if (g_getenv ("GRADUS_VULKAN_PROFILE"))
    g_printerr ("vulkan call: recorded in %" G_GINT64_FORMAT " us, ran in %" G_GINT64_FORMAT
                " us\n", t_record, g_get_monotonic_time () - t_submit);
  for (guint i = 0; i < tr->down->len; i++) {
    Value *v = tr->down->pdata[i];
    GrdTensor *t = grd_tensor_new (v->dtype, v->rank, v->shape);
    if (t->size > 0)
      read_host (t, ctx->direct ? v->buf->mapped
                                : staging->mapped + g_array_index (tr->down_at, VkDeviceSize, i));
    g_ptr_array_add (host_tensors, t);
  }
  ok = TRUE;
out:
  g_mutex_unlock (&ctx->lock);
  return ok;
}

/* Constants and shared variables: on the device from the first call, again
 * whenever the graph's value tensor is another than the one last uploaded. */
static gboolean
prepare_leaf (GrdVkFunction *fn, gint i, Transfers *tr, GError **error)
{
  GrdNode *node = node_at (fn, i);
  Value *v = &fn->values[fn->slot_base[i]];
  if (fn->seen[i] == node->value && v->buf)
    return TRUE;
  GrdTensor *t = node->value;
  value_drop (v);
  value_set_shape (v, t->dtype, t->rank, t->shape);
  if (!value_own (fn, v, error))
    return FALSE;
  Upload u = { grd_tensor_ref (t), v->buf };
  g_array_append_val (tr->up, u);
  if (fn->seen[i])
    grd_tensor_unref (fn->seen[i]);
  fn->seen[i] = grd_tensor_ref (t);
  fn->dirty[i] = FALSE;
  g_array_append_val (tr->leaves, i);
  return TRUE;
}

static void
transfers_init (Transfers *tr)
{
  tr->up = g_array_new (FALSE, FALSE, sizeof (Upload));
  g_array_set_clear_func (tr->up, (GDestroyNotify) upload_clear);
  tr->down = g_ptr_array_new ();
  tr->down_at = g_array_new (FALSE, FALSE, sizeof (VkDeviceSize));
  tr->leaves = g_array_new (FALSE, FALSE, sizeof (gint));
}

static void
transfers_clear (Transfers *tr)
{
  g_array_unref (tr->up);
  g_ptr_array_unref (tr->down);
  g_array_unref (tr->down_at);
  g_array_unref (tr->leaves);
}

static void
release_borrowed (GrdVkFunction *fn)
{
  for (gint s = 0; s < fn->n_slots; s++)
    if (fn->values[s].borrowed)
      value_drop (&fn->values[s]);
}

gboolean
grd_vk_function_call (GrdVkFunction *fn, GrdTensor *const *inputs, GrdTensor **outputs,
                      GError **error)
{
  Transfers tr;
  transfers_init (&tr);
  gboolean ok = FALSE;
  g_autoptr (GPtrArray) host = g_ptr_array_new_with_free_func ((GDestroyNotify) grd_tensor_unref);
  g_autoptr (GByteArray) key = NULL;
  gint n = grd_graph_n_nodes (fn->graph);

  for (guint i = 0; i < fn->inputs->len; i++) {
    GrdRef r = g_array_index (fn->inputs, GrdRef, i);
    GrdNode *node = node_at (fn, r.node);
    GrdTensor *in = inputs[i];
    if (!in) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE, "input '%s': no value given", node->id);
      goto out;
    }
    if (!can_feed (in->dtype, node->types[0].dtype) || !grd_type_accepts (&node->types[0], in)) {
      g_autofree char *want = grd_type_describe (&node->types[0]);
      g_autofree char *got = grd_tensor_describe (in);
      g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE, "input '%s': expected %s, got %s",
                   node->id, want, got);
      goto out;
    }
    if (!fn->needed[r.node])
      continue;
    Value *v = slot (fn, r);
    value_set_shape (v, node->types[0].dtype, in->rank, in->shape);
    if (!value_own (fn, v, error))
      goto out;
    Upload u = { in->dtype == node->types[0].dtype ? grd_tensor_ref (in)
                                                   : grd_tensor_cast (in, node->types[0].dtype),
                 v->buf };
    g_array_append_val (tr.up, u);
  }
  for (gint i = 0; i < n; i++) {
    GrdNode *node = node_at (fn, i);
    if (fn->needed[i] && (node->kind == GRD_NODE_CONSTANT || node->kind == GRD_NODE_SHARED)
        && !prepare_leaf (fn, i, &tr, error))
      goto out;
  }
  if (!infer_shapes (fn, error))
    goto out;
  for (guint u = 0; u < fn->updates->len; u++) {
    GrdUpdate *up = &g_array_index (fn->updates, GrdUpdate, u);
    Value *sv = slot (fn, up->shared), *vv = slot (fn, up->value);
    gboolean same = sv->rank == vv->rank;
    for (gint d = 0; same && d < sv->rank; d++)
      same = sv->shape[d] == vv->shape[d];
    if (!same) {
      g_autofree char *want = grd_tensor_describe (node_at (fn, up->shared.node)->value);
      GrdType t;
      grd_type_set (&t, vv->dtype, vv->rank, vv->shape);
      g_autofree char *got = grd_type_describe (&t);
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                   "update of shared variable '%s' by node '%s': expected %s, got %s",
                   node_at (fn, up->shared.node)->id, node_at (fn, up->value.node)->id, want,
                   got);
      goto out;
    }
  }
  /* Buffers for what the steps make; aliases share their input's. */
  for (guint s = 0; s < fn->steps->len; s++) {
    Step *st = &g_array_index (fn->steps, Step, s);
    GrdNode *node = node_at (fn, st->node);
    Value *v = slot (fn, (GrdRef) { st->node, 0 });
    if (st->kind == K_ALIAS) {
      Value *in = slot (fn, node->inputs[0]);
      value_drop (v);
      v->buf = grd_vk_buffer_ref (in->buf);
      v->borrowed = TRUE;
      continue;
    }
    if (!value_own (fn, v, error))
      goto out;
    if (st->kind == K_COUNT) {
      GrdTensor *t = NULL;
      Rec rec = { .fn = fn };
      if (!step_count (&rec, st, &t, error))
        goto out;
      Upload u = { t, v->buf };
      g_array_append_val (tr.up, u);
    }
  }
  for (guint o = 0; o < fn->outputs->len; o++)
    g_ptr_array_add (tr.down, slot (fn, g_array_index (fn->outputs, GrdRef, o)));
  /* the leaves' shapes decide every other shape: the same ones replay the last call */
  key = g_byte_array_new ();
  for (gint i = 0; i < n; i++) {
    GrdNode *node = node_at (fn, i);
    if (!fn->needed[i] || node->kind == GRD_NODE_OP || node->kind == GRD_NODE_GRAD)
      continue;
    Value *v = &fn->values[fn->slot_base[i]];
    g_byte_array_append (key, (const guint8 *) &v->rank, sizeof v->rank);
    g_byte_array_append (key, (const guint8 *) v->shape, sizeof (gint64) * v->rank);
  }
  gboolean replay = fn->replay && fn->replay_key && fn->replay_key->len == key->len
                    && memcmp (fn->replay_key->data, key->data, key->len) == 0;
  if (!run_submission (fn, &tr, fn->steps, replay, host, error))
    goto out;
  if (!replay) {
    g_clear_pointer (&fn->replay_key, g_byte_array_unref);
    fn->replay_key = g_steal_pointer (&key);
  }
  for (guint o = 0; o < fn->outputs->len; o++)
    outputs[o] = grd_tensor_ref (host->pdata[o]);
  /* Updates: every new buffer first, then the swap. */
  {
    guint nu = fn->updates->len;
    GrdVkBuffer *fresh[nu + 1];
    for (guint u = 0; u < nu; u++)
      fresh[u] = grd_vk_buffer_ref (slot (fn, g_array_index (fn->updates, GrdUpdate, u).value)->buf);
    for (guint u = 0; u < nu; u++) {
      GrdUpdate *up = &g_array_index (fn->updates, GrdUpdate, u);
      Value *sv = slot (fn, up->shared);
      Value *vv = slot (fn, up->value);
      GrdVkBuffer *old = sv->buf;
      sv->buf = fresh[u];
      fn->dirty[up->shared.node] = TRUE;
      /* double buffering: the value's slot takes the old buffer, if it is its own */
      if (!vv->borrowed && node_at (fn, up->value.node)->kind == GRD_NODE_OP && vv->buf == fresh[u]
          && old && old->ref_count == 1) {
        grd_vk_buffer_unref (vv->buf);
        vv->buf = old;
      } else {
        grd_vk_buffer_unref (old);
      }
    }
  }
  ok = TRUE;
out:
  /* a failed call uploaded nothing: those leaves go up again next time */
  for (guint k = 0; !ok && k < tr.leaves->len; k++) {
    gint i = g_array_index (tr.leaves, gint, k);
    g_clear_pointer (&fn->seen[i], grd_tensor_unref);
    value_drop (&fn->values[fn->slot_base[i]]);
  }
  release_borrowed (fn);
  transfers_clear (&tr);
  return ok;
}

gboolean
grd_vk_function_sync (GrdVkFunction *fn, GError **error)
{
  gint n = grd_graph_n_nodes (fn->graph);
  Transfers tr;
  transfers_init (&tr);
  g_autoptr (GArray) which = g_array_new (FALSE, FALSE, sizeof (gint));
  for (gint i = 0; i < n; i++)
    if (fn->dirty[i]) {
      g_ptr_array_add (tr.down, &fn->values[fn->slot_base[i]]);
      g_array_append_val (which, i);
    }
  gboolean ok = TRUE;
  if (which->len > 0) {
    g_autoptr (GPtrArray) host = g_ptr_array_new_with_free_func ((GDestroyNotify) grd_tensor_unref);
    ok = run_submission (fn, &tr, NULL, FALSE, host, error);
    for (guint k = 0; ok && k < which->len; k++) {
      gint i = g_array_index (which, gint, k);
      GrdNode *node = node_at (fn, i);
      grd_tensor_unref (node->value);
      node->value = grd_tensor_ref (host->pdata[k]);
      if (fn->seen[i])
        grd_tensor_unref (fn->seen[i]);
      fn->seen[i] = grd_tensor_ref (host->pdata[k]);
      fn->dirty[i] = FALSE;
    }
  }
  transfers_clear (&tr);
  return ok;
}
