/* gradus-grad-view.c: simplifying and naming the gradient graph for display.
 * The engine's graph is left as it is (the compiler simplifies its own copy);
 * this only decides what the canvas draws and how it labels it. */
#include "gradus-grad-view.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

struct _GradusGradView {
  GrdGraph       *graph;
  gint            grad;
  GradusDocModel *model;
  gint            n;          /* nodes of the graph */
  GrdRef         *alias;      /* per node: what output 0 stands for (itself when kept) */
  gboolean       *derived;    /* made by this grad node */
  gboolean       *shown;
  double         *known;      /* per node: the value of every element, or NAN */
  char          **sym;        /* per node: a name of its shape, equal names equal shapes */
  guint           n_shown, n_removed;
};

void
gradus_grad_view_free (GradusGradView *v)
{
  if (!v)
    return;
  for (gint i = 0; i < v->n; i++)
    g_free (v->sym[i]);
  g_free (v->sym);
  g_free (v->alias);
  g_free (v->derived);
  g_free (v->shown);
  g_free (v->known);
  g_free (v);
}

static gboolean
is_op (GrdGraph *g, gint i, const char *name)
{
  const char *op = grd_graph_node_op (g, i);
  return op && g_str_equal (op, name);
}

GrdRef
gradus_grad_view_resolve (GradusGradView *v, GrdRef r)
{
  for (gint hops = 0; hops < 64 && r.node >= 0 && r.node < v->n && r.output == 0
                      && (v->alias[r.node].node != r.node); hops++)
    r = v->alias[r.node];
  return r;
}

static double
known_of (GradusGradView *v, GrdRef r)
{
  r = gradus_grad_view_resolve (v, r);
  return r.node >= 0 && r.output == 0 ? v->known[r.node] : NAN;
}

static const char *
sym_of (GradusGradView *v, GrdRef r)
{
  r = gradus_grad_view_resolve (v, r);
  return r.node >= 0 && r.node < v->n && r.output == 0 ? v->sym[r.node] : "?";
}

static gboolean
elementwise (const char *op)
{
  const char *group = op ? grd_op_group (op) : NULL;
  return group && (g_str_equal (group, "arithmetic") || g_str_equal (group, "transcendental"));
}

/* A shape name: the dims when the type knows them all; else where the shape
 * comes from (an input, or the node itself). */
static char *
shape_symbol (GradusGradView *v, gint i)
{
  GrdGraph *g = v->graph;
  const GrdType *t = grd_graph_node_type (g, i, 0);
  gboolean all = TRUE;
  for (gint d = 0; t && d < t->rank; d++)
    all &= t->dims[d] >= 0;
  if (t && all) {
    GString *s = g_string_new ("[");
    for (gint d = 0; d < t->rank; d++)
      g_string_append_printf (s, "%s%" G_GINT64_FORMAT, d ? "," : "", t->dims[d]);
    g_string_append_c (s, ']');
    return g_string_free (s, FALSE);
  }
  const char *op = grd_graph_node_op (g, i);
  gint n_in = grd_graph_node_n_inputs (g, i);
  if (op && n_in == 2 && (g_str_equal (op, "_unreduce") || g_str_equal (op, "_broadcast_to")
                          || g_str_equal (op, "_reduce_to") || g_str_equal (op, "_reshape_like")))
    return g_strdup (sym_of (v, grd_graph_node_input (g, i, 1)));
  if (elementwise (op) && t) {
    const char *same = NULL;
    gboolean ok = TRUE;
    for (gint s = 0; s < n_in && ok; s++) {
      GrdRef r = grd_graph_node_input (g, i, s);
      const GrdType *it = grd_graph_ref_type (g, r);
      if (it && it->rank == 0)
        continue;   /* scalars broadcast */
      if (!it || it->rank != t->rank)
        ok = FALSE;
      else if (!same)
        same = sym_of (v, r);
      else
        ok = g_str_equal (same, sym_of (v, r));
    }
    if (ok && same)
      return g_strdup (same);
  }
  return g_strdup_printf ("#%d", i);
}

static gboolean
same_shape (GradusGradView *v, GrdRef a, gint out)
{
  const GrdType *ta = grd_graph_ref_type (v->graph, gradus_grad_view_resolve (v, a));
  const GrdType *to = grd_graph_node_type (v->graph, out, 0);
  return ta && to && ta->dtype == to->dtype && ta->rank == to->rank
         && g_str_equal (sym_of (v, a), v->sym[out]);
}

/* What derived op node i reduces to, or i itself. */
static GrdRef
identity_of (GradusGradView *v, gint i)
{
  GrdGraph *g = v->graph;
  GrdRef self = { i, 0 };
  if (grd_graph_node_n_outputs (g, i) != 1 || !grd_graph_node_op (g, i))
    return self;
  gint n_in = grd_graph_node_n_inputs (g, i);
  GrdRef a = n_in > 0 ? grd_graph_node_input (g, i, 0) : (GrdRef) { -1, 0 };
  GrdRef b = n_in > 1 ? grd_graph_node_input (g, i, 1) : (GrdRef) { -1, 0 };
  double ka = n_in > 0 ? known_of (v, a) : NAN, kb = n_in > 1 ? known_of (v, b) : NAN;
  if (is_op (g, i, "mul") && n_in == 2) {
    if (kb == 1 && same_shape (v, a, i))
      return gradus_grad_view_resolve (v, a);
    if (ka == 1 && same_shape (v, b, i))
      return gradus_grad_view_resolve (v, b);
  } else if (is_op (g, i, "add") && n_in == 2) {
    if (kb == 0 && same_shape (v, a, i))
      return gradus_grad_view_resolve (v, a);
    if (ka == 0 && same_shape (v, b, i))
      return gradus_grad_view_resolve (v, b);
  } else if ((is_op (g, i, "sub") && kb == 0) || (is_op (g, i, "div") && kb == 1)
             || (is_op (g, i, "pow") && kb == 1)) {
    if (same_shape (v, a, i))
      return gradus_grad_view_resolve (v, a);
  } else if (is_op (g, i, "neg")) {
    GrdRef p = gradus_grad_view_resolve (v, a);
    if (p.node >= 0 && p.output == 0 && is_op (g, p.node, "neg"))
      return gradus_grad_view_resolve (v, grd_graph_node_input (g, p.node, 0));
  } else if (is_op (g, i, "cast") || is_op (g, i, "reshape") || is_op (g, i, "_reshape_like")
             || is_op (g, i, "_reduce_to") || is_op (g, i, "_broadcast_to")
             || is_op (g, i, "_unreduce") || is_op (g, i, "flatten")) {
    if (n_in >= 1 && same_shape (v, a, i))
      return gradus_grad_view_resolve (v, a);
  }
  return self;
}

/* Constant folding of the few values the identities ask about. */
static double
fold (GradusGradView *v, gint i)
{
  GrdGraph *g = v->graph;
  if (grd_graph_node_kind (g, i) == GRD_NODE_CONSTANT) {
    GrdTensor *t = grd_graph_get_value (g, (GrdRef) { i, 0 });
    if (!t || t->size == 0 || t->size > 4096)
      return NAN;
    double x = grd_tensor_get (t, 0);
    for (gint64 k = 1; k < t->size; k++)
      if (grd_tensor_get (t, k) != x)
        return NAN;
    return x;
  }
  if (!grd_graph_node_op (g, i) || grd_graph_node_n_outputs (g, i) != 1)
    return NAN;
  gint n_in = grd_graph_node_n_inputs (g, i);
  double a = n_in > 0 ? known_of (v, grd_graph_node_input (g, i, 0)) : NAN;
  double b = n_in > 1 ? known_of (v, grd_graph_node_input (g, i, 1)) : NAN;
  if (is_op (g, i, "add")) return a + b;
  if (is_op (g, i, "sub")) return a - b;
  if (is_op (g, i, "mul")) return a * b;
  if (is_op (g, i, "div")) return b != 0 ? a / b : NAN;
  if (is_op (g, i, "neg")) return -a;
  if (is_op (g, i, "pow")) return pow (a, b);
  if (is_op (g, i, "cast") || is_op (g, i, "_unreduce") || is_op (g, i, "_broadcast_to")
      || is_op (g, i, "reshape") || is_op (g, i, "_reshape_like"))
    return a;
  return NAN;
}

static void
mark (GradusGradView *v, GrdRef r)
{
  r = gradus_grad_view_resolve (v, r);
  if (r.node < 0 || r.node >= v->n || !v->derived[r.node] || v->shown[r.node])
    return;
  v->shown[r.node] = TRUE;
  for (gint s = 0; s < grd_graph_node_n_inputs (v->graph, r.node); s++)
    mark (v, grd_graph_node_input (v->graph, r.node, s));
}

GradusGradView *
gradus_grad_view_new (GrdGraph *graph, gint grad, GradusDocModel *model)
{
  GradusGradView *v = g_new0 (GradusGradView, 1);
  v->graph = graph;
  v->grad = grad;
  v->model = model;
  v->n = grd_graph_n_nodes (graph);
  v->alias = g_new (GrdRef, v->n);
  v->derived = g_new0 (gboolean, v->n);
  v->shown = g_new0 (gboolean, v->n);
  v->known = g_new (double, v->n);
  v->sym = g_new0 (char *, v->n);
  /* nodes are in creation order, which is topological: one pass suffices */
  for (gint i = 0; i < v->n; i++) {
    v->alias[i] = (GrdRef) { i, 0 };
    v->derived[i] = grd_graph_node_owner (graph, i) == grad;
    v->known[i] = NAN;
    if (grd_graph_node_kind (graph, i) == GRD_NODE_GRAD) {
      v->sym[i] = g_strdup_printf ("#%d", i);
      continue;
    }
    v->sym[i] = shape_symbol (v, i);
    v->known[i] = fold (v, i);
    if (v->derived[i])
      v->alias[i] = identity_of (v, i);
    if (v->alias[i].node != i) {
      /* keep the kept node's knowledge */
      g_free (v->sym[i]);
      v->sym[i] = g_strdup (sym_of (v, v->alias[i]));
      v->n_removed++;
    }
  }
  for (gint k = 0; k < grd_graph_node_n_outputs (graph, grad); k++) {
    GrdRef r = grd_graph_grad_output (graph, grad, k);
    if (!grd_ref_is_none (r))
      mark (v, r);
  }
  for (gint i = 0; i < v->n; i++)
    v->n_shown += v->shown[i];
  return v;
}

gboolean
gradus_grad_view_shown (GradusGradView *v, gint node)
{
  return node >= 0 && node < v->n && v->shown[node];
}

guint
gradus_grad_view_n_shown (GradusGradView *v)
{
  return v->n_shown;
}

guint
gradus_grad_view_n_removed (GradusGradView *v)
{
  return v->n_removed;
}

/* The name the user gave forward node i, or its id. */
static const char *
forward_name (GradusGradView *v, gint i)
{
  const char *id = grd_graph_node_id (v->graph, i);
  JsonObject *o = v->model ? gradus_doc_model_get_node (v->model, id) : NULL;
  JsonNode *n = o ? json_object_get_member (o, "name") : NULL;
  if (n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
    return json_node_get_string (n);
  return id;
}

static char *
cost_name (GradusGradView *v)
{
  const char *gid = grd_graph_node_id (v->graph, v->grad);
  const char *ref = v->model ? gradus_doc_model_node_slot_ref (v->model, gid, 0) : NULL;
  if (!ref)
    return g_strdup ("cost");
  g_autofree char *id = gradus_ref_parse (ref, NULL);
  gint i = grd_graph_find (v->graph, id);
  return g_strdup (i >= 0 ? forward_name (v, i) : id);
}

char *
gradus_grad_view_title (GradusGradView *v, gint node)
{
  GrdGraph *g = v->graph;
  gint total = grd_graph_node_grad_total_of (g, node);
  /* an identity's total names the node it became */
  for (gint i = 0; total < 0 && i < v->n; i++)
    if (v->alias[i].node == node && i != node && grd_graph_node_grad_total_of (g, i) >= 0)
      total = grd_graph_node_grad_total_of (g, i);
  if (total >= 0) {
    g_autofree char *cost = cost_name (v);
    return g_strdup_printf ("d %s / d %s", cost, forward_name (v, total));
  }
  gint of = grd_graph_node_grad_of (g, node);
  if (of >= 0) {
    const char *op = grd_graph_node_op (g, of);
    return g_strdup_printf (_("grad of %s %s"), op ? (op[0] == '_' ? op + 1 : op) : _("node"),
                            forward_name (v, of));
  }
  if (grd_graph_node_kind (g, node) == GRD_NODE_CONSTANT && !isnan (v->known[node]))
    return g_strdup_printf ("%g", v->known[node]);
  const char *op = grd_graph_node_op (g, node);
  return g_strdup (op ? (op[0] == '_' ? op + 1 : op) : "constant");
}

char *
gradus_grad_view_subtitle (GradusGradView *v, gint node)
{
  const char *op = grd_graph_node_op (v->graph, node);
  if (!op)
    return g_strdup (grd_graph_node_kind (v->graph, node) == GRD_NODE_CONSTANT ? "constant" : "value");
  return g_strdup_printf ("op \u00b7 %s", op[0] == '_' ? op + 1 : op);
}
