/* ops-control.c: lazy ifelse, and the helper ops of jacobian.
 *
 * ifelse (cond, then, else) computes only the branch the condition takes. At
 * build time each branch's expression, back to the graph's variables, shared
 * variables and constants, is copied into a graph of its own; the node reads
 * the condition and those leaves, and a call runs the chosen branch's
 * compiled graph only. (An expression the two branches or the rest of the
 * graph share is computed again inside the branch: laziness costs that.)
 * Its gradient is an ifelse of the branches' gradients, lazy in turn.
 *
 *   _eye_like (f)                   the identity of size(f) x size(f), f's dtype
 *   _reshape_cat (j, f, w)          j reshaped to shape(f) + shape(w) */
#include "../grd-internal.h"

#include <string.h>

typedef struct {
  GrdOpExtra   base;
  GrdGraph    *branch[2];
  GrdRef      *args[2];     /* per branch: one variable per node input after the condition */
  gint         n_args;
  GrdRef      *outs[2];     /* per branch: n_out references */
  gint         n_out;
  GMutex       lock;
  GrdFunction *fn[2];
} IfElseInfo;

static void
ifelse_finalize (GrdOpExtra *e)
{
  IfElseInfo *s = (IfElseInfo *) e;
  for (gint b = 0; b < 2; b++) {
    grd_function_free (s->fn[b]);
    grd_graph_unref (s->branch[b]);
    g_free (s->args[b]);
    g_free (s->outs[b]);
  }
  g_mutex_clear (&s->lock);
  g_free (s);
}

static IfElseInfo *
ifelse_info_new (gint n_args, gint n_out)
{
  IfElseInfo *s = g_new0 (IfElseInfo, 1);
  s->base.ref_count = 1;
  s->base.n_outputs = n_out;
  s->base.finalize = ifelse_finalize;
  g_mutex_init (&s->lock);
  s->n_args = n_args;
  s->n_out = n_out;
  for (gint b = 0; b < 2; b++) {
    s->branch[b] = grd_graph_new ();
    s->base.sub[b] = s->branch[b];
    s->args[b] = g_new0 (GrdRef, MAX (n_args, 1));
    s->outs[b] = g_new0 (GrdRef, MAX (n_out, 1));
  }
  return s;
}

static gboolean
ifelse_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  const IfElseInfo *s = attrs->extra;
  if (!s || n_in != 1 + s->n_args) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "expected a condition, then, else");
    return FALSE;
  }
  if (in[0].rank != 0) {
    g_autofree char *t = grd_type_describe (&in[0]);
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "the condition must be a scalar, not %s", t);
    return FALSE;
  }
  for (gint o = 0; o < s->n_out; o++) {
    const GrdType *a = grd_graph_ref_type (s->branch[0], s->outs[0][o]);
    const GrdType *b = grd_graph_ref_type (s->branch[1], s->outs[1][o]);
    if (a->dtype != b->dtype || a->rank != b->rank) {
      g_autofree char *ta = grd_type_describe (a);
      g_autofree char *tb = grd_type_describe (b);
      g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE, "the branches differ: then is %s, else is %s "
                   "(they must have one dtype and rank)", ta, tb);
      return FALSE;
    }
    gint64 dims[GRD_MAX_RANK];
    for (gint d = 0; d < a->rank; d++)
      dims[d] = a->dims[d] == b->dims[d] ? a->dims[d] : GRD_DIM_UNKNOWN;
    grd_type_set (&out[o], a->dtype, a->rank, dims);
  }
  return TRUE;
}

static gboolean
ifelse_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  IfElseInfo *s = node->attrs.extra;
  gint b = grd_tensor_get (in[0], 0) != 0 ? 0 : 1;
  g_mutex_lock (&s->lock);
  gboolean ok = TRUE;
  if (!s->fn[b]) {
    s->fn[b] = grd_function_new (s->branch[b], s->args[b], s->n_args, s->outs[b], s->n_out, NULL,
                                 0, error);
    if (!s->fn[b]) {
      g_prefix_error (error, "the %s branch: ", b ? "else" : "then");
      ok = FALSE;
    }
  }
  if (ok)
    ok = grd_function_call (s->fn[b], in + 1, out, error);
  g_mutex_unlock (&s->lock);
  return ok;
}

/* Copies the expressions `roots` of `g` into branch b of `s`, its leaves
 * (variables, shared variables) becoming the branch's inputs: `leaves` lists
 * their outer references, shared by both branches, growing as found. */
static gboolean
copy_branch (GrdGraph *g, IfElseInfo *s, gint b, const GrdRef *roots, gint n_roots,
             GArray *leaves, GError **error)
{
  gint n = grd_graph_n_nodes (g);
  g_autofree GrdRef *map = g_new (GrdRef, MAX (n, 1));
  for (gint i = 0; i < n; i++)
    map[i] = GRD_REF_NONE;
  for (guint k = 0; k < leaves->len; k++) {
    GrdRef l = g_array_index (leaves, GrdRef, k);
    map[l.node] = s->args[b][k];
  }
  if (!grd_graph_copy_needed (s->branch[b], g, roots, n_roots, map, error))
    return FALSE;
  for (gint o = 0; o < n_roots; o++) {
    GrdRef m = map[roots[o].node];
    s->outs[b][o] = (GrdRef) { m.node, m.output + roots[o].output };
  }
  return TRUE;
}

/* The variables and shared variables that `roots` read. */
static void
find_leaves (GrdGraph *g, const GrdRef *roots, gint n_roots, GArray *leaves)
{
  gint n = grd_graph_n_nodes (g);
  g_autofree gboolean *needed = g_new0 (gboolean, MAX (n, 1));
  for (gint i = 0; i < n_roots; i++)
    needed[roots[i].node] = TRUE;
  for (gint i = n - 1; i >= 0; i--) {
    GrdNode *node = grd_graph_node (g, i);
    if (needed[i])
      for (gint j = 0; j < node->n_inputs; j++)
        needed[node->inputs[j].node] = TRUE;
  }
  for (gint i = 0; i < n; i++) {
    GrdNodeKind k = grd_graph_node (g, i)->kind;
    if (!needed[i] || !(k == GRD_NODE_VARIABLE || k == GRD_NODE_SHARED))
      continue;
    gboolean seen = FALSE;
    for (guint j = 0; j < leaves->len && !seen; j++)
      seen = g_array_index (leaves, GrdRef, j).node == i;
    if (!seen) {
      GrdRef r = { i, 0 };
      g_array_append_val (leaves, r);
    }
  }
}

static GrdRef
resolve_ref (GrdGraph *g, GrdRef r)
{
  while (r.node >= 0 && r.node < grd_graph_n_nodes (g)
         && grd_graph_node (g, r.node)->kind == GRD_NODE_GRAD)
    r = grd_graph_node (g, r.node)->aliases[r.output];
  return r;
}

GrdRef
grd_graph_ifelse (GrdGraph *g, const char *id, const GrdRef *inputs, gint n_inputs, GError **error)
{
  const char *shown = id ? id : "ifelse";
  if (error && *error)
    return GRD_REF_NONE;
  if (n_inputs != 3) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s' (ifelse): expected 3 inputs "
                 "(cond, then, else), got %d", shown, n_inputs);
    return GRD_REF_NONE;
  }
  GrdRef r[3];
  for (gint i = 0; i < 3; i++) {
    if (inputs[i].node < 0 || inputs[i].node >= grd_graph_n_nodes (g)
        || inputs[i].output < 0 || inputs[i].output >= grd_graph_node (g, inputs[i].node)->n_outputs) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s' (ifelse): input %d refers to no "
                   "node output", shown, i);
      return GRD_REF_NONE;
    }
    r[i] = resolve_ref (g, inputs[i]);
  }
  g_autoptr (GArray) leaves = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  find_leaves (g, &r[1], 2, leaves);
  IfElseInfo *s = ifelse_info_new (leaves->len, 1);
  for (gint b = 0; b < 2; b++)
    for (guint k = 0; k < leaves->len; k++) {
      GrdRef l = g_array_index (leaves, GrdRef, k);
      const GrdType *t = grd_graph_ref_type (g, l);
      s->args[b][k] = grd_graph_variable (s->branch[b], grd_graph_node_id (g, l.node), t->dtype,
                                          t->rank, t->dims, error);
    }
  gboolean ok = !*error && copy_branch (g, s, 0, &r[1], 1, leaves, error)
                && copy_branch (g, s, 1, &r[2], 1, leaves, error);
  GrdRef out = GRD_REF_NONE;
  if (ok) {
    g_autoptr (GArray) ins = g_array_new (FALSE, FALSE, sizeof (GrdRef));
    g_array_append_val (ins, r[0]);
    g_array_append_vals (ins, leaves->data, leaves->len);
    GrdAttrs a;
    grd_attrs_init (&a);
    a.extra = s;
    out = grd_graph_op (g, id, "ifelse", (GrdRef *) ins->data, ins->len, &a, error);
  } else if (error && *error && !g_str_has_prefix ((*error)->message, "node '")) {
    g_prefix_error (error, "node '%s' (ifelse): ", shown);
  }
  grd_op_extra_unref (&s->base);
  return out;
}

/* d/d args of the taken branch: an ifelse whose branches are the branches'
 * vector-Jacobian products, with the output gradients as extra inputs. */
static gboolean
ifelse_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
             GrdRef *ig, GError **error)
{
  const IfElseInfo *s = node->attrs.extra;
  g_autoptr (GArray) fargs = g_array_new (FALSE, FALSE, sizeof (gint));  /* float args */
  for (gint k = 0; k < s->n_args; k++)
    if (grd_dtype_is_float (grd_graph_ref_type (s->branch[0], s->args[0][k])->dtype))
      g_array_append_val (fargs, k);
  if (fargs->len == 0)
    return TRUE;
  IfElseInfo *v = ifelse_info_new (s->n_args + s->n_out, fargs->len);
  for (gint b = 0; b < 2 && !*error; b++) {
    GrdGraph *src = s->branch[b], *dst = v->branch[b];
    gint n = grd_graph_n_nodes (src);
    g_autofree GrdRef *map = g_new (GrdRef, MAX (n, 1));
    for (gint i = 0; i < n; i++)
      map[i] = GRD_REF_NONE;
    for (gint k = 0; k < s->n_args; k++) {
      const GrdType *t = grd_graph_ref_type (src, s->args[b][k]);
      v->args[b][k] = grd_graph_variable (dst, grd_graph_node_id (src, s->args[b][k].node),
                                          t->dtype, t->rank, t->dims, error);
      map[s->args[b][k].node] = v->args[b][k];
    }
    GrdRef cost = GRD_REF_NONE;
    if (!grd_graph_copy_needed (dst, src, s->outs[b], s->n_out, map, error))
      break;
    for (gint o = 0; o < s->n_out; o++) {
      GrdRef y = s->outs[b][o];
      y = (GrdRef) { map[y.node].node, map[y.node].output + y.output };
      const GrdType *t = grd_graph_ref_type (dst, y);
      GrdRef gy = grd_graph_variable (dst, NULL, t->dtype, t->rank, t->dims, error);
      v->args[b][s->n_args + o] = gy;
      if (!grd_dtype_is_float (t->dtype))
        continue;
      GrdRef term = grd_build (dst, error, "sum", NULL, 1, grd_build (dst, error, "mul", NULL, 2, y, gy));
      term = grd_build_cast (dst, error, term, GRD_DTYPE_FLOAT64);
      cost = grd_ref_is_none (cost) ? term : grd_build (dst, error, "add", NULL, 2, cost, term);
    }
    if (grd_ref_is_none (cost))
      cost = grd_build_scalar (dst, error, GRD_DTYPE_FLOAT64, 0.0);
    g_autofree GrdRef *wrt = g_new (GrdRef, fargs->len);
    for (guint i = 0; i < fargs->len; i++)
      wrt[i] = v->args[b][g_array_index (fargs, gint, i)];
    grd_graph_grad (dst, NULL, cost, wrt, fargs->len, NULL, 0, v->outs[b], error);
  }
  GrdRef grads = GRD_REF_NONE;
  if (!*error) {
    g_autoptr (GArray) ins = g_array_new (FALSE, FALSE, sizeof (GrdRef));
    g_array_append_vals (ins, node->inputs, node->n_inputs);
    for (gint o = 0; o < s->n_out; o++) {
      GrdRef self = { grd_graph_find (g, node->id), o };
      GrdRef gy = grd_ref_is_none (og[o]) ? grd_build_zeros_like (g, error, self) : og[o];
      g_array_append_val (ins, gy);
    }
    GrdAttrs a;
    grd_attrs_init (&a);
    a.extra = v;
    grads = grd_graph_op (g, NULL, "ifelse", (GrdRef *) ins->data, ins->len, &a, error);
  }
  grd_op_extra_unref (&v->base);
  if (*error)
    return FALSE;
  for (guint i = 0; i < fargs->len; i++) {
    gint k = g_array_index (fargs, gint, i);
    if (needed[1 + k])
      ig[1 + k] = (GrdRef) { grads.node, (gint) i };
  }
  return TRUE;
}

/* ------------------------------------------------------------ jacobian helpers */

static gboolean
eye_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  gint64 n = 1;
  for (gint d = 0; d < in[0].rank && n >= 0; d++)
    n = in[0].dims[d] < 0 ? GRD_DIM_UNKNOWN : n * in[0].dims[d];
  gint64 dims[2] = { n, n };
  grd_type_set (out, grd_dtype_is_float (in[0].dtype) ? in[0].dtype : GRD_DTYPE_FLOAT64, 2, dims);
  return TRUE;
}

static gboolean
eye_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  gint64 n = in[0]->size;
  if (!grd_shape_check_size (2, (gint64[]) { n, n }, node->types[0].dtype, error))
    return FALSE;
  GrdTensor *o = grd_tensor_try_new (node->types[0].dtype, 2, (gint64[]) { n, n }, error);
  if (!o)
    return FALSE;
  for (gint64 i = 0; i < n; i++)
    grd_tensor_set (o, i * n + i, 1.0);
  out[0] = o;
  return TRUE;
}

static gboolean
eye_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed, GrdRef *ig,
          GError **error)
{
  return TRUE;  /* depends on f's shape only */
}

static gboolean
reshape_cat_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out,
                   GError **error)
{
  gint rank = in[1].rank + in[2].rank;
  if (rank > GRD_MAX_RANK) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "the result would have rank %d (at most %d)",
                 rank, GRD_MAX_RANK);
    return FALSE;
  }
  gint64 dims[GRD_MAX_RANK];
  memcpy (dims, in[1].dims, sizeof (gint64) * in[1].rank);
  memcpy (dims + in[1].rank, in[2].dims, sizeof (gint64) * in[2].rank);
  grd_type_set (out, in[0].dtype, rank, dims);
  return TRUE;
}

static gboolean
reshape_cat_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  gint64 shape[GRD_MAX_RANK];
  memcpy (shape, in[1]->shape, sizeof (gint64) * in[1]->rank);
  memcpy (shape + in[1]->rank, in[2]->shape, sizeof (gint64) * in[2]->rank);
  gint rank = in[1]->rank + in[2]->rank;
  if (grd_shape_size (rank, shape) != in[0]->size) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "%" G_GINT64_FORMAT " elements do not fill a "
                 "jacobian of %" G_GINT64_FORMAT, in[0]->size, grd_shape_size (rank, shape));
    return FALSE;
  }
  GrdTensor *o = grd_tensor_try_new (in[0]->dtype, rank, shape, error);
  if (!o)
    return FALSE;
  memcpy (o->data, in[0]->data, (gsize) o->size * grd_dtype_size (o->dtype));
  out[0] = o;
  return TRUE;
}

static gboolean
reshape_cat_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
                  GrdRef *ig, GError **error)
{
  if (needed[0])
    ig[0] = grd_build (g, error, "_reshape_like", NULL, 2, og[0], node->inputs[0]);
  return !*error;
}

static const GrdOpDef control_ops[] = {
  { "ifelse", "comparison", 1, -1, 1, ifelse_infer, ifelse_eval, ifelse_grad },
  { "_eye_like", "internal", 1, 1, 1, eye_infer, eye_eval, eye_grad },
  { "_reshape_cat", "internal", 3, 3, 1, reshape_cat_infer, reshape_cat_eval, reshape_cat_grad },
};

void
grd_ops_register_control (GrdOpRegisterFunc add)
{
  for (guint i = 0; i < G_N_ELEMENTS (control_ops); i++)
    add (&control_ops[i]);
}

gboolean
grd_ifelse_view (const GrdNode *node, GrdIfElseView *v)
{
  if (!node->op || !g_str_equal (node->op->name, "ifelse") || !node->attrs.extra)
    return FALSE;
  const IfElseInfo *s = node->attrs.extra;
  for (gint b = 0; b < 2; b++) {
    v->branch[b] = s->branch[b];
    v->args[b] = s->args[b];
    v->outs[b] = s->outs[b];
  }
  v->n_args = s->n_args;
  v->n_out = s->n_out;
  return TRUE;
}
