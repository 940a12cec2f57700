/* grd-graph.c: building graphs: nodes, ids, references and type inference. */
#include "grd-internal.h"

#include <stdarg.h>
#include <string.h>

void
grd_attrs_init (GrdAttrs *attrs)
{
  memset (attrs, 0, sizeof *attrs);
  attrs->ndim = 1;
  attrs->dtype = GRD_DTYPE_FLOAT32;
  for (gint i = 0; i < GRD_MAX_RANK; i++) {
    attrs->begin[i] = GRD_SLICE_NONE;
    attrs->end[i] = GRD_SLICE_NONE;
    attrs->step[i] = GRD_SLICE_NONE;
  }
  attrs->subsample[0] = attrs->subsample[1] = 1;
  attrs->filter_dilation[0] = attrs->filter_dilation[1] = 1;
  attrs->num_groups = 1;
  attrs->filter_flip = TRUE;
  attrs->ignore_border = TRUE;
}

GrdAttrs
grd_attrs_axis (gint axis, gboolean keepdims)
{
  GrdAttrs a;
  grd_attrs_init (&a);
  a.has_axis = TRUE;
  a.n_axes = 1;
  a.axes[0] = axis;
  a.keepdims = keepdims;
  return a;
}

static void
node_free (gpointer p)
{
  GrdNode *n = p;
  g_free (n->id);
  g_free (n->inputs);
  g_free (n->types);
  g_free (n->aliases);
  grd_tensor_unref (n->value);
  if (n->attrs.extra)
    grd_op_extra_unref (n->attrs.extra);
  g_free (n);
}

GrdGraph *
grd_graph_new (void)
{
  GrdGraph *g = g_new0 (GrdGraph, 1);
  g->ref_count = 1;
  g->nodes = g_ptr_array_new_with_free_func (node_free);
  g->by_id = g_hash_table_new (g_str_hash, g_str_equal);
  g->building_grad = -1;
  g->grad_rule = -1;
  return g;
}

GrdGraph *
grd_graph_ref (GrdGraph *g)
{
  g_atomic_int_inc (&g->ref_count);
  return g;
}

void
grd_graph_unref (GrdGraph *g)
{
  if (g && g_atomic_int_dec_and_test (&g->ref_count)) {
    g_hash_table_unref (g->by_id);
    g_ptr_array_unref (g->nodes);
    g_free (g);
  }
}

static gboolean
id_is_valid (const char *id)
{
  if (!id || !(g_ascii_isalpha (id[0]) || id[0] == '_'))
    return FALSE;
  for (const char *p = id + 1; *p; p++)
    if (!(g_ascii_isalnum (*p) || *p == '_' || *p == '.' || *p == '-'))
      return FALSE;
  return TRUE;
}

/* Adds a node with a checked or made-up id; NULL (error set) if the id is bad. */
static GrdNode *
add_node (GrdGraph *g, const char *id, GrdNodeKind kind, gint n_outputs, GError **error)
{
  g_autofree char *made = NULL;
  if (!id) {
    do
      made = (g_free (made), g_strdup_printf ("_%d", g->next_auto_id++));
    while (g_hash_table_contains (g->by_id, made));
    id = made;
  } else if (!id_is_valid (id)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH,
                 "node id '%s' is not valid (expected [A-Za-z_][A-Za-z0-9_.-]*)", id);
    return NULL;
  } else if (g_hash_table_contains (g->by_id, id)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node id '%s' is used twice", id);
    return NULL;
  }
  GrdNode *n = g_new0 (GrdNode, 1);
  n->id = g_strdup (id);
  n->kind = kind;
  n->n_outputs = n_outputs;
  n->types = g_new0 (GrdType, MAX (n_outputs, 1));
  n->owner = g->building_grad;
  n->grad_of = g->grad_rule;
  n->grad_total_of = -1;
  grd_attrs_init (&n->attrs);
  g_ptr_array_add (g->nodes, n);
  g_hash_table_insert (g->by_id, n->id, GINT_TO_POINTER (g->nodes->len));
  return n;
}

static GrdRef
last_ref (GrdGraph *g)
{
  return (GrdRef) { (gint) g->nodes->len - 1, 0 };
}

GrdRef
grd_graph_variable (GrdGraph *g, const char *id, GrdDType dtype, gint rank, const gint64 *dims,
                    GError **error)
{
  if (error && *error)
    return GRD_REF_NONE;
  if (rank < 0 || rank > GRD_MAX_RANK) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "variable '%s': rank %d is not in 0..%d",
                 id ? id : "?", rank, GRD_MAX_RANK);
    return GRD_REF_NONE;
  }
  for (gint i = 0; dims && i < rank; i++)
    if (dims[i] < GRD_DIM_UNKNOWN) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                   "variable '%s': dimension %d is negative", id ? id : "?", i);
      return GRD_REF_NONE;
    }
  GrdNode *n = add_node (g, id, GRD_NODE_VARIABLE, 1, error);
  if (!n)
    return GRD_REF_NONE;
  grd_type_set (&n->types[0], dtype, rank, dims);
  return last_ref (g);
}

static GrdRef
add_valued (GrdGraph *g, const char *id, GrdNodeKind kind, GrdTensor *value, GError **error)
{
  g_return_val_if_fail (value != NULL, GRD_REF_NONE);
  if (error && *error)
    return GRD_REF_NONE;
  GrdNode *n = add_node (g, id, kind, 1, error);
  if (!n)
    return GRD_REF_NONE;
  n->value = grd_tensor_ref (value);
  grd_type_set (&n->types[0], value->dtype, value->rank, value->shape);
  return last_ref (g);
}

GrdRef
grd_graph_constant (GrdGraph *g, const char *id, GrdTensor *value, GError **error)
{
  return add_valued (g, id, GRD_NODE_CONSTANT, value, error);
}

GrdRef
grd_graph_shared (GrdGraph *g, const char *id, GrdTensor *value, GError **error)
{
  return add_valued (g, id, GRD_NODE_SHARED, value, error);
}

static gboolean
ref_is_valid (GrdGraph *g, GrdRef r)
{
  if (r.node < 0 || r.node >= (gint) g->nodes->len)
    return FALSE;
  GrdNode *n = grd_graph_node (g, r.node);
  return r.output >= 0 && r.output < n->n_outputs;
}

/* Follows grad-node outputs to the node that computes the value. */
static GrdRef
resolve (GrdGraph *g, GrdRef r)
{
  while (ref_is_valid (g, r)) {
    GrdNode *n = grd_graph_node (g, r.node);
    if (n->kind != GRD_NODE_GRAD)
      break;
    r = n->aliases[r.output];
  }
  return r;
}

GrdRef
grd_graph_op (GrdGraph *g, const char *id, const char *opname, const GrdRef *inputs, gint n_inputs,
              const GrdAttrs *attrs, GError **error)
{
  const char *shown = id ? id : opname;
  if (error && *error)
    return GRD_REF_NONE;  /* an earlier call of a nested expression failed */
  if (g_strcmp0 (opname, "ifelse") == 0 && !(attrs && attrs->extra))
    return grd_graph_ifelse (g, id, inputs, n_inputs, error);  /* lazy branches */
  const GrdOpDef *op = grd_op_lookup (opname);
  if (!op) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s': unknown op '%s'", shown,
                 opname ? opname : "(none)");
    return GRD_REF_NONE;
  }
  if (n_inputs < op->min_inputs || (op->max_inputs >= 0 && n_inputs > op->max_inputs)) {
    if (op->min_inputs == op->max_inputs)
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s' (%s): expected %d inputs, got %d",
                   shown, opname, op->min_inputs, n_inputs);
    else
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH,
                   "node '%s' (%s): expected at least %d inputs, got %d", shown, opname,
                   op->min_inputs, n_inputs);
    return GRD_REF_NONE;
  }
  GrdType in_types[n_inputs > 0 ? n_inputs : 1];
  g_autofree GrdRef *resolved = g_new0 (GrdRef, MAX (n_inputs, 1));
  for (gint i = 0; i < n_inputs; i++) {
    if (grd_ref_is_none (inputs[i])) {
      if (error && !*error)
        g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s' (%s): input %d is missing",
                     shown, opname, i);
      return GRD_REF_NONE;
    }
    resolved[i] = resolve (g, inputs[i]);
    if (!ref_is_valid (g, resolved[i])) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH,
                   "node '%s' (%s): input %d refers to no node output", shown, opname, i);
      return GRD_REF_NONE;
    }
    in_types[i] = grd_graph_node (g, resolved[i].node)->types[resolved[i].output];
  }
  GrdAttrs a;
  if (attrs)
    a = *attrs;
  else
    grd_attrs_init (&a);
  gint n_out = a.extra && ((GrdOpExtra *) a.extra)->n_outputs > 0
                  ? ((GrdOpExtra *) a.extra)->n_outputs : op->n_outputs;
  g_autofree GrdType *out_types = g_new0 (GrdType, MAX (n_out, 1));
  g_autoptr (GError) local = NULL;
  if (!op->infer (&a, in_types, n_inputs, out_types, &local)) {
    g_set_error (error, GRD_ERROR, local->code, "node '%s' (%s): %s", shown, opname,
                 local->message);
    return GRD_REF_NONE;
  }
  GrdNode *n = add_node (g, id, GRD_NODE_OP, n_out, error);
  if (!n)
    return GRD_REF_NONE;
  n->op = op;
  n->attrs = a;
  if (a.extra)
    grd_op_extra_ref (a.extra);
  n->n_inputs = n_inputs;
  n->inputs = g_steal_pointer (&resolved);
  memcpy (n->types, out_types, sizeof (GrdType) * n_out);
  return last_ref (g);
}

GrdRef
grd_op1 (GrdGraph *g, const char *op, GrdRef a, GError **error)
{
  return grd_graph_op (g, NULL, op, &a, 1, NULL, error);
}

GrdRef
grd_op2 (GrdGraph *g, const char *op, GrdRef a, GrdRef b, GError **error)
{
  GrdRef in[2] = { a, b };
  return grd_graph_op (g, NULL, op, in, 2, NULL, error);
}

GrdRef
grd_op3 (GrdGraph *g, const char *op, GrdRef a, GrdRef b, GrdRef c, GError **error)
{
  GrdRef in[3] = { a, b, c };
  return grd_graph_op (g, NULL, op, in, 3, NULL, error);
}

GrdRef
grd_scalar (GrdGraph *g, GrdDType dtype, double value, GError **error)
{
  g_autoptr (GrdTensor) t = grd_tensor_new_scalar (dtype, value);
  return grd_graph_constant (g, NULL, t, error);
}

/* ------------------------------------------------------------ builder for grad rules */

GrdRef
grd_build (GrdGraph *g, GError **error, const char *op, const GrdAttrs *attrs, gint n_inputs, ...)
{
  g_assert (error != NULL);
  GrdRef in[8];
  g_assert (n_inputs <= 8);
  va_list ap;
  va_start (ap, n_inputs);
  for (gint i = 0; i < n_inputs; i++)
    in[i] = va_arg (ap, GrdRef);
  va_end (ap);
  if (*error)
    return GRD_REF_NONE;
  for (gint i = 0; i < n_inputs; i++)
    if (grd_ref_is_none (in[i])) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "gradient of '%s': an input is missing", op);
      return GRD_REF_NONE;
    }
  return grd_graph_op (g, NULL, op, in, n_inputs, attrs, error);
}

GrdRef
grd_build_scalar (GrdGraph *g, GError **error, GrdDType dtype, double value)
{
  if (*error)
    return GRD_REF_NONE;
  return grd_scalar (g, dtype, value, error);
}

GrdRef
grd_build_zeros_like (GrdGraph *g, GError **error, GrdRef like)
{
  if (*error || grd_ref_is_none (like))
    return GRD_REF_NONE;
  GrdDType dt = grd_graph_ref_type (g, like)->dtype;
  return grd_build (g, error, "_broadcast_to", NULL, 2, grd_build_scalar (g, error, dt, 0.0), like);
}

GrdRef
grd_build_reduce_to (GrdGraph *g, GError **error, GrdRef grad, GrdRef x)
{
  if (*error || grd_ref_is_none (grad) || grd_ref_is_none (x))
    return GRD_REF_NONE;
  /* Skip the node when the static types already show nothing was broadcast. */
  const GrdType *tg = grd_graph_ref_type (g, grad), *tx = grd_graph_ref_type (g, x);
  gboolean same = tg->rank == tx->rank;
  for (gint i = 0; same && i < tg->rank; i++)
    same = tg->dims[i] >= 0 && tg->dims[i] == tx->dims[i];
  if (same)
    return grad;
  return grd_build (g, error, "_reduce_to", NULL, 2, grad, x);
}

GrdRef
grd_build_cast (GrdGraph *g, GError **error, GrdRef x, GrdDType dtype)
{
  if (*error || grd_ref_is_none (x))
    return GRD_REF_NONE;
  if (grd_graph_ref_type (g, x)->dtype == dtype)
    return x;
  GrdAttrs a;
  grd_attrs_init (&a);
  a.has_dtype = TRUE;
  a.dtype = dtype;
  return grd_build (g, error, "cast", &a, 1, x);
}

/* ------------------------------------------------------------ queries */

gint
grd_graph_n_nodes (GrdGraph *g)
{
  return g->nodes->len;
}

gint
grd_graph_find (GrdGraph *g, const char *id)
{
  return GPOINTER_TO_INT (g_hash_table_lookup (g->by_id, id)) - 1;
}

gboolean
grd_graph_lookup (GrdGraph *g, const char *reference, GrdRef *out, GError **error)
{
  g_autofree char *id = g_strdup (reference);
  gint output = 0;
  char *colon = strrchr (id, ':');
  if (colon) {
    char *end = NULL;
    gint64 k = g_ascii_strtoll (colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || k < 0 || k > G_MAXINT) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH,
                   "reference '%s' is not of the form id or id:k", reference);
      return FALSE;
    }
    *colon = '\0';
    output = (gint) k;
  }
  gint index = grd_graph_find (g, id);
  if (index < 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "reference '%s' names no node", reference);
    return FALSE;
  }
  GrdNode *n = grd_graph_node (g, index);
  if (output >= n->n_outputs) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "reference '%s': node '%s' has %d output%s",
                 reference, id, n->n_outputs, n->n_outputs == 1 ? "" : "s");
    return FALSE;
  }
  *out = resolve (g, (GrdRef) { index, output });
  return TRUE;
}

const char *
grd_graph_node_id (GrdGraph *g, gint node)
{
  return grd_graph_node (g, node)->id;
}

GrdNodeKind
grd_graph_node_kind (GrdGraph *g, gint node)
{
  return grd_graph_node (g, node)->kind;
}

const char *
grd_graph_node_op (GrdGraph *g, gint node)
{
  GrdNode *n = grd_graph_node (g, node);
  return n->op ? n->op->name : NULL;
}

gint
grd_graph_node_n_inputs (GrdGraph *g, gint node)
{
  return grd_graph_node (g, node)->n_inputs;
}

GrdRef
grd_graph_node_input (GrdGraph *g, gint node, gint i)
{
  return grd_graph_node (g, node)->inputs[i];
}

gint
grd_graph_node_n_outputs (GrdGraph *g, gint node)
{
  return grd_graph_node (g, node)->n_outputs;
}

const GrdType *
grd_graph_node_type (GrdGraph *g, gint node, gint output)
{
  return &grd_graph_node (g, node)->types[output];
}

gint
grd_graph_node_owner (GrdGraph *g, gint node)
{
  return grd_graph_node (g, node)->owner;
}

gint
grd_graph_node_grad_of (GrdGraph *g, gint node)
{
  return grd_graph_node (g, node)->grad_of;
}

gint
grd_graph_node_grad_total_of (GrdGraph *g, gint node)
{
  return grd_graph_node (g, node)->grad_total_of;
}

GrdRef
grd_graph_grad_output (GrdGraph *g, gint node, gint output)
{
  GrdNode *n = grd_graph_node (g, node);
  g_return_val_if_fail (n->kind == GRD_NODE_GRAD && output < n->n_outputs, GRD_REF_NONE);
  return n->aliases[output];
}

const GrdType *
grd_graph_ref_type (GrdGraph *g, GrdRef ref)
{
  ref = resolve (g, ref);
  return &grd_graph_node (g, ref.node)->types[ref.output];
}

GrdTensor *
grd_graph_get_value (GrdGraph *g, GrdRef ref)
{
  if (!ref_is_valid (g, ref))
    return NULL;
  return grd_graph_node (g, ref.node)->value;
}

gboolean
grd_graph_set_value (GrdGraph *g, GrdRef ref, GrdTensor *value, GError **error)
{
  if (!ref_is_valid (g, ref) || grd_graph_node (g, ref.node)->kind != GRD_NODE_SHARED) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "set_value: not a shared variable");
    return FALSE;
  }
  GrdNode *n = grd_graph_node (g, ref.node);
  if (!grd_tensor_same_shape (n->value, value)) {
    g_autofree char *want = grd_tensor_describe (n->value);
    g_autofree char *got = grd_tensor_describe (value);
    g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE,
                 "shared variable '%s': expected a value of shape %s, got %s", n->id, want, got);
    return FALSE;
  }
  GrdTensor *v = value->dtype == n->value->dtype ? grd_tensor_ref (value)
                                                 : grd_tensor_cast (value, n->value->dtype);
  grd_tensor_unref (n->value);
  n->value = v;
  return TRUE;
}

/* ------------------------------------------------------------ nodes with data, aliases, copies */

GrdOpExtra *
grd_op_extra_ref (GrdOpExtra *extra)
{
  g_atomic_int_inc (&extra->ref_count);
  return extra;
}

void
grd_op_extra_unref (GrdOpExtra *extra)
{
  if (extra && g_atomic_int_dec_and_test (&extra->ref_count))
    extra->finalize (extra);
}

GrdRef
grd_graph_alias_node (GrdGraph *g, const char *id, const GrdRef *targets, gint n, GError **error)
{
  if (error && *error)
    return GRD_REF_NONE;
  for (gint i = 0; i < n; i++)
    if (!ref_is_valid (g, targets[i])) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s': output %d refers to no node",
                   id ? id : "?", i);
      return GRD_REF_NONE;
    }
  GrdNode *node = add_node (g, id, GRD_NODE_GRAD, MAX (n, 1), error);
  if (!node)
    return GRD_REF_NONE;
  node->n_outputs = n;
  node->aliases = g_new (GrdRef, MAX (n, 1));
  for (gint i = 0; i < n; i++) {
    node->aliases[i] = resolve (g, targets[i]);
    node->types[i] = grd_graph_node (g, node->aliases[i].node)->types[node->aliases[i].output];
  }
  return last_ref (g);
}

gboolean
grd_graph_copy_needed (GrdGraph *dst, GrdGraph *src, const GrdRef *roots, gint n_roots, GrdRef *map,
                       GError **error)
{
  gint n = src->nodes->len;
  g_autofree gboolean *needed = g_new0 (gboolean, MAX (n, 1));
  for (gint i = 0; i < n_roots; i++)
    needed[resolve (src, roots[i]).node] = TRUE;
  for (gint i = n - 1; i >= 0; i--) {
    GrdNode *node = grd_graph_node (src, i);
    if (needed[i])
      for (gint j = 0; j < node->n_inputs; j++)
        needed[node->inputs[j].node] = TRUE;
  }
  for (gint i = 0; i < n; i++) {
    GrdNode *node = grd_graph_node (src, i);
    if (!needed[i] || !grd_ref_is_none (map[i]))
      continue;
    /* keep the id where it is free, for messages */
    const char *id = g_hash_table_contains (dst->by_id, node->id) ? NULL : node->id;
    if (node->kind == GRD_NODE_CONSTANT || node->kind == GRD_NODE_SHARED) {
      map[i] = node->kind == GRD_NODE_CONSTANT ? grd_graph_constant (dst, id, node->value, error)
                                               : grd_graph_shared (dst, id, node->value, error);
    } else if (node->kind == GRD_NODE_OP) {
      g_autofree GrdRef *in = g_new (GrdRef, MAX (node->n_inputs, 1));
      for (gint j = 0; j < node->n_inputs; j++) {
        GrdRef m = map[node->inputs[j].node];
        in[j] = (GrdRef) { m.node, m.node < 0 ? 0 : m.output + node->inputs[j].output };
      }
      map[i] = grd_graph_op (dst, id, node->op->name, in, node->n_inputs, &node->attrs, error);
    } else if (node->kind == GRD_NODE_VARIABLE) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "variable '%s' is not an input here",
                   node->id);
    }
    if (error && *error)
      return FALSE;
  }
  return TRUE;
}
