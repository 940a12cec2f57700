/* grd-grad.c: reverse-mode differentiation that builds graphs, as theano.grad.
 *
 * The gradient of every node on a path from a `wrt` to the cost is built from
 * its op's gradient rule, in reverse creation order (creation order is
 * topological). The new nodes belong to the grad node, so the editor can show
 * or hide them, and since they are ordinary op nodes, grad of grad works. */
#include "grd-internal.h"

#include <string.h>

/* Removes the nodes from `len` on (a failed expansion leaves nothing behind). */
static void
graph_truncate (GrdGraph *g, guint len)
{
  for (guint i = len; i < g->nodes->len; i++)
    g_hash_table_remove (g->by_id, grd_graph_node (g, i)->id);
  g_ptr_array_set_size (g->nodes, len);
}

/* A constant whose every element is 1 (the `1` of `1 / (1 + exp(u))`). */
static gboolean
is_const_one (GrdGraph *g, GrdRef r)
{
  GrdNode *n = grd_graph_node (g, r.node);
  if (n->kind != GRD_NODE_CONSTANT || !n->value || n->value->size < 1)
    return FALSE;
  for (gint64 i = 0; i < n->value->size; i++)
    if (grd_tensor_get (n->value, i) != 1.0)
      return FALSE;
  return TRUE;
}

/* An op node the gradient may pass over: no wrt and not consider_constant. */
static GrdNode *
passable_op (GrdGraph *g, GrdRef r, const char *name, const gboolean *is_wrt,
             const gboolean *blocked)
{
  GrdNode *n = grd_graph_node (g, r.node);
  if (n->kind != GRD_NODE_OP || r.output != 0 || is_wrt[r.node] || blocked[r.node]
      || !g_str_equal (n->op->name, name) || n->n_inputs < 1)
    return NULL;
  return n;
}

/* Recognises the ways a sigmoid is written, as Theano's rewrites do:
 * sigmoid(x), 1 / (1 + exp(u)) = sigmoid(-u), and 1 - s = sigmoid(-a) where s
 * is one of them with argument a. Sets *x and *sign so that the value at p is
 * sigmoid(sign * x); the nodes in between are passed over. */
static gboolean
sigmoid_form (GrdGraph *g, GrdRef p, const gboolean *is_wrt, const gboolean *blocked,
              gint depth, GrdRef *x, gint *sign)
{
  GrdNode *n;
  if (depth > 8)
    return FALSE;
  if ((n = passable_op (g, p, "sigmoid", is_wrt, blocked))) {
    *x = n->inputs[0];
    *sign = 1;
  } else if ((n = passable_op (g, p, "sub", is_wrt, blocked)) && is_const_one (g, n->inputs[0])) {
    if (!sigmoid_form (g, n->inputs[1], is_wrt, blocked, depth + 1, x, sign))
      return FALSE;
    *sign = -*sign;
  } else if ((n = passable_op (g, p, "div", is_wrt, blocked)) && is_const_one (g, n->inputs[0])) {
    GrdNode *den = passable_op (g, n->inputs[1], "add", is_wrt, blocked);
    if (!den)
      return FALSE;
    GrdRef e = is_const_one (g, den->inputs[0]) ? den->inputs[1]
               : is_const_one (g, den->inputs[1]) ? den->inputs[0] : GRD_REF_NONE;
    GrdNode *exp_node = grd_ref_is_none (e) ? NULL : passable_op (g, e, "exp", is_wrt, blocked);
    if (!exp_node)
      return FALSE;
    *x = exp_node->inputs[0];
    *sign = -1;
  } else {
    return FALSE;
  }
  return grd_dtype_is_float (grd_graph_ref_type (g, *x)->dtype);
}

/* Adds gx, the gradient of a pair with respect to x, into x's accumulated
 * gradient: cast to x's dtype and summed down to x's shape first. */
static void
accumulate_into (GrdGraph *g, GrdRef **acc, GrdRef x, GrdRef gx, GError **error)
{
  GrdDType dt = grd_graph_node (g, x.node)->types[x.output].dtype;
  gx = grd_build_reduce_to (g, error, grd_build_cast (g, error, gx, dt), x);
  GrdRef *slot = &acc[x.node][x.output];
  *slot = grd_ref_is_none (*slot) ? gx : grd_build (g, error, "add", NULL, 2, *slot, gx);
}

/* d/dx log(sigmoid(sign * x)) = sign * sigmoid(-sign * x), added to x's
 * gradient straight from the log's: finite for any x, where the chain rule
 * through 1 / (1 + exp(u)) overflows. The nodes between get nothing from this
 * reader, so other readers of them keep their own gradients. */
static void
log_sigmoid_gradient (GrdGraph *g, GrdRef gz, GrdRef x, gint sign, GrdRef **acc, GError **error)
{
  GrdRef gx;
  if (sign > 0) {
    GrdRef s = grd_build (g, error, "sigmoid", NULL, 1, grd_build (g, error, "neg", NULL, 1, x));
    gx = grd_build (g, error, "mul", NULL, 2, gz, s);
  } else {
    GrdRef s = grd_build (g, error, "sigmoid", NULL, 1, x);
    gx = grd_build (g, error, "neg", NULL, 1, grd_build (g, error, "mul", NULL, 2, gz, s));
  }
  if (!*error)
    accumulate_into (g, acc, x, gx, error);
}

/* Gradients of pairs whose naive chain rule overflows (softmax then
 * crossentropy or log, log of any form of sigmoid) are built in one step,
 * straight to the inner node's input, as Theano's stabilising rewrites give
 * them: they stay finite for logits of 1000. The softmax pairs apply when the
 * inner node's only reader on the path is the outer one. Returns TRUE when it
 * handled `outer`. */
static gboolean
stable_pair (GrdGraph *g, gint outer_index, GrdRef **acc, const gint *readers,
             const gboolean *is_wrt, const gboolean *blocked, GError **error)
{
  GrdNode *outer = grd_graph_node (g, outer_index);
  const char *name = outer->op->name;
  gboolean cce = g_str_equal (name, "categorical_crossentropy"), is_log = g_str_equal (name, "log");
  if (!(cce || is_log) || grd_ref_is_none (acc[outer_index][0]))
    return FALSE;
  GrdRef p = outer->inputs[0];
  GrdRef sx;
  gint sign;
  if (is_log && acc[p.node] && sigmoid_form (g, p, is_wrt, blocked, 0, &sx, &sign)) {
    if (acc[sx.node])
      log_sigmoid_gradient (g, acc[outer_index][0], sx, sign, acc, error);
    return TRUE;
  }
  GrdNode *inner = grd_graph_node (g, p.node);
  if (inner->kind != GRD_NODE_OP || readers[p.node] != 1 || !acc[p.node] || is_wrt[p.node])
    return FALSE;
  GrdRef x = inner->inputs[0];
  const char *iname = inner->op->name;
  gint rank = inner->types[0].rank;
  gint axis = rank - 1;
  if (g_str_equal (iname, "softmax") && inner->attrs.has_axis) {
    axis = inner->attrs.axes[0] < 0 ? inner->attrs.axes[0] + rank : inner->attrs.axes[0];
  }
  gboolean cce_softmax = cce && g_str_equal (iname, "softmax") && axis == rank - 1
                         && !grd_dtype_is_float (grd_graph_ref_type (g, outer->inputs[1])->dtype);
  gboolean log_softmax = is_log && g_str_equal (iname, "softmax");
  /* Decide that the pair is ours only once the inner op is known to be one of
   * the two: claiming any other pair would drop its gradient (issue 9). */
  if (!(cce_softmax || log_softmax))
    return FALSE;
  if (!acc[x.node]) {
    /* nothing upstream needs a gradient: the inner node has one input */
    acc[p.node][p.output] = GRD_REF_NONE;
    return TRUE;
  }
  GrdRef gz = acc[outer_index][0], gx = GRD_REF_NONE;
  if (cce_softmax) {
    /* d/dx crossentropy(softmax(x), t) = g * (softmax(x) - onehot(t)) */
    GrdAttrs pat;
    grd_attrs_init (&pat);
    pat.n_pattern = rank;
    for (gint d = 0; d < rank - 1; d++)
      pat.pattern[d] = d;
    pat.pattern[rank - 1] = -1;
    GrdRef onehot = grd_build (g, error, "_onehot_like", NULL, 2, outer->inputs[1], p);
    GrdRef diff = grd_build (g, error, "sub", NULL, 2, p, onehot);
    gx = grd_build (g, error, "mul", NULL, 2, grd_build (g, error, "dimshuffle", &pat, 1, gz), diff);
  } else {
    /* d/dx log(softmax(x)) = g - softmax(x) * sum(g, axis) */
    GrdAttrs at = grd_attrs_axis (axis, TRUE);
    GrdRef sg = grd_build (g, error, "sum", &at, 1, gz);
    gx = grd_build (g, error, "sub", NULL, 2, gz, grd_build (g, error, "mul", NULL, 2, p, sg));
  }
  if (*error)
    return TRUE;
  accumulate_into (g, acc, x, gx, error);
  /* the inner node is done: its only reader fed x directly */
  acc[p.node][p.output] = GRD_REF_NONE;
  return TRUE;
}

static gboolean
expand (GrdGraph *g, GrdRef cost, const GrdRef *wrt, gint n_wrt, const GrdRef *consider_constant,
        gint n_cc, GrdRef *grads, GError **error)
{
  gint n = cost.node + 1;  /* nodes past the cost cannot influence it */
  g_autofree gboolean *from_wrt = g_new0 (gboolean, n);
  g_autofree gboolean *to_cost = g_new0 (gboolean, n);
  g_autofree gboolean *blocked = g_new0 (gboolean, n);
  for (gint i = 0; i < n_cc; i++)
    if (consider_constant[i].node < n)
      blocked[consider_constant[i].node] = TRUE;
  for (gint i = 0; i < n_wrt; i++)
    if (wrt[i].node < n)
      from_wrt[wrt[i].node] = TRUE;
  for (gint i = 0; i < n; i++) {
    GrdNode *node = grd_graph_node (g, i);
    if (blocked[i]) {
      from_wrt[i] = FALSE;
      continue;
    }
    for (gint j = 0; j < node->n_inputs && !from_wrt[i]; j++)
      from_wrt[i] = from_wrt[node->inputs[j].node];
  }
  to_cost[cost.node] = TRUE;
  for (gint i = n - 1; i >= 0; i--) {
    GrdNode *node = grd_graph_node (g, i);
    if (!to_cost[i] || blocked[i])
      continue;
    for (gint j = 0; j < node->n_inputs; j++)
      to_cost[node->inputs[j].node] = TRUE;
  }

  /* acc[i][k]: the gradient accumulated so far for output k of node i. */
  g_autofree GrdRef **acc = g_new0 (GrdRef *, n);
  g_autoptr (GPtrArray) owned = g_ptr_array_new_with_free_func (g_free);
  for (gint i = 0; i < n; i++) {
    if (!(from_wrt[i] && to_cost[i]))
      continue;
    GrdNode *node = grd_graph_node (g, i);
    acc[i] = g_new (GrdRef, node->n_outputs);
    for (gint k = 0; k < node->n_outputs; k++)
      acc[i][k] = GRD_REF_NONE;
    g_ptr_array_add (owned, acc[i]);
  }
  if (acc[cost.node])
    acc[cost.node][cost.output] =
        grd_build_scalar (g, error, grd_graph_node (g, cost.node)->types[cost.output].dtype, 1.0);

  /* on-path readers of each node, for the stable pairs below */
  g_autofree gint *readers = g_new0 (gint, n);
  g_autofree gboolean *is_wrt = g_new0 (gboolean, n);
  for (gint i = 0; i < n_wrt; i++)
    if (wrt[i].node < n)
      is_wrt[wrt[i].node] = TRUE;
  for (gint i = 0; i < n; i++) {
    GrdNode *node = grd_graph_node (g, i);
    if (acc[i] && !blocked[i])
      for (gint j = 0; j < node->n_inputs; j++)
        readers[node->inputs[j].node]++;
  }

  for (gint i = cost.node; i >= 0 && !*error; i--) {
    GrdNode *node = grd_graph_node (g, i);
    if (!acc[i] || node->kind != GRD_NODE_OP || blocked[i])
      continue;
    if (stable_pair (g, i, acc, readers, is_wrt, blocked, error))
      continue;
    gboolean any = FALSE;
    for (gint k = 0; k < node->n_outputs; k++)
      any |= !grd_ref_is_none (acc[i][k]);
    if (!any)
      continue;
    gboolean needed[node->n_inputs + 1];
    GrdRef in_grads[node->n_inputs + 1];
    gboolean any_needed = FALSE;
    for (gint j = 0; j < node->n_inputs; j++) {
      GrdNode *in = grd_graph_node (g, node->inputs[j].node);
      needed[j] = acc[node->inputs[j].node] != NULL
                  && grd_dtype_is_float (in->types[node->inputs[j].output].dtype);
      any_needed |= needed[j];
      in_grads[j] = GRD_REF_NONE;
    }
    if (!any_needed || !node->op->grad)
      continue;
    gint saved_rule = g->grad_rule;
    g->grad_rule = i;
    gboolean ruled = node->op->grad (g, node, acc[i], needed, in_grads, error);
    g->grad_rule = saved_rule;
    if (!ruled) {
      if (!*error)
        g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "gradient rule failed");
      g_prefix_error (error, "gradient of node '%s' (%s): ", node->id, node->op->name);
      return FALSE;
    }
    for (gint j = 0; j < node->n_inputs; j++) {
      if (!needed[j] || grd_ref_is_none (in_grads[j]))
        continue;
      GrdRef in = node->inputs[j];
      GrdDType dt = grd_graph_node (g, in.node)->types[in.output].dtype;
      GrdRef gj = grd_build_cast (g, error, in_grads[j], dt);
      GrdRef *slot = &acc[in.node][in.output];
      *slot = grd_ref_is_none (*slot) ? gj : grd_build (g, error, "add", NULL, 2, *slot, gj);
    }
  }
  if (*error)
    return FALSE;
  /* name the whole gradients for views ("d cost / d h"); the first wins */
  for (gint i = 0; i < n; i++)
    for (gint k = 0; acc[i] && k < grd_graph_node (g, i)->n_outputs; k++)
      if (!grd_ref_is_none (acc[i][k])
          && grd_graph_node (g, acc[i][k].node)->owner == g->building_grad
          && grd_graph_node (g, acc[i][k].node)->grad_total_of < 0)
        grd_graph_node (g, acc[i][k].node)->grad_total_of = i;
  for (gint i = 0; i < n_wrt; i++) {
    GrdRef w = wrt[i];
    GrdRef gr = (w.node < n && acc[w.node]) ? acc[w.node][w.output] : GRD_REF_NONE;
    grads[i] = grd_ref_is_none (gr) ? grd_build_zeros_like (g, error, w) : gr;
  }
  return *error == NULL;
}

GrdRef
grd_graph_grad (GrdGraph *g, const char *id, GrdRef cost, const GrdRef *wrt, gint n_wrt,
                const GrdRef *consider_constant, gint n_cc, GrdRef *grads_out, GError **error)
{
  const char *shown = id ? id : "grad";
  if (error && *error)
    return GRD_REF_NONE;
  if (n_wrt < 1 || n_wrt > 1024) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s' (grad): expected 1 to 1024 wrt, got %d",
                 shown, n_wrt);
    return GRD_REF_NONE;
  }
  GrdRef c;
  g_autofree GrdRef *w = g_new (GrdRef, n_wrt);
  g_autofree GrdRef *cc = g_new (GrdRef, MAX (n_cc, 1));
  /* Resolve through grad nodes, and check every reference. */
  for (gint i = -1; i < n_wrt + n_cc; i++) {
    GrdRef r = i < 0 ? cost : i < n_wrt ? wrt[i] : consider_constant[i - n_wrt];
    const char *what = i < 0 ? "cost" : i < n_wrt ? "wrt" : "consider_constant";
    if (r.node < 0 || r.node >= (gint) g->nodes->len
        || r.output >= grd_graph_node (g, r.node)->n_outputs) {
      if (error && !*error)
        g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s' (grad): %s refers to no node",
                     shown, what);
      return GRD_REF_NONE;
    }
    GrdNode *rn = grd_graph_node (g, r.node);
    if (rn->kind == GRD_NODE_GRAD)
      r = rn->aliases[r.output];
    if (i < 0)
      c = r;
    else if (i < n_wrt)
      w[i] = r;
    else
      cc[i - n_wrt] = r;
  }
  const GrdType *ct = &grd_graph_node (g, c.node)->types[c.output];
  if (ct->rank != 0 || !grd_dtype_is_float (ct->dtype)) {
    g_autofree char *d = grd_type_describe (ct);
    g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE,
                 "node '%s' (grad): the cost '%s' must be a float scalar, it is %s", shown,
                 grd_graph_node (g, c.node)->id, d);
    return GRD_REF_NONE;
  }
  guint start = g->nodes->len;
  GrdNode *gn;
  {
    /* add the grad node first so the nodes of the expansion can name it */
    GrdRef self = grd_graph_variable (g, id, GRD_DTYPE_FLOAT64, 0, NULL, error);
    if (grd_ref_is_none (self))
      return GRD_REF_NONE;
    gn = grd_graph_node (g, self.node);
    gn->kind = GRD_NODE_GRAD;
    g_free (gn->types);
    gn->n_outputs = n_wrt;
    gn->types = g_new0 (GrdType, n_wrt);
    gn->aliases = g_new (GrdRef, n_wrt);
    for (gint i = 0; i < n_wrt; i++) {
      gn->types[i] = grd_graph_node (g, w[i].node)->types[w[i].output];
      gn->aliases[i] = w[i];
    }
    gn->inputs = g_new (GrdRef, n_wrt + 1 + n_cc);
    gn->inputs[0] = c;
    memcpy (gn->inputs + 1, w, sizeof (GrdRef) * n_wrt);
    memcpy (gn->inputs + 1 + n_wrt, cc, sizeof (GrdRef) * n_cc);
    /* n_inputs stays 0: grad nodes are never evaluated, their aliases are. */
  }
  gint saved = g->building_grad;
  g->building_grad = start;
  g_autoptr (GError) local = NULL;
  g_autofree GrdRef *grads = g_new0 (GrdRef, n_wrt);
  gboolean ok = expand (g, c, w, n_wrt, cc, n_cc, grads, &local);
  g->building_grad = saved;
  if (!ok) {
    graph_truncate (g, start);
    g_set_error (error, GRD_ERROR, local->code, "node '%s' (grad): %s", shown, local->message);
    return GRD_REF_NONE;
  }
  gn = grd_graph_node (g, start);
  memcpy (gn->aliases, grads, sizeof (GrdRef) * n_wrt);
  if (grads_out)
    memcpy (grads_out, grads, sizeof (GrdRef) * n_wrt);
  return (GrdRef) { (gint) start, 0 };
}
