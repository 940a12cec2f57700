/* grd-onnx-export.c: a function of a graph file as one ONNX model: the
 * nodes its outputs and update values need (gradient subgraphs included, as
 * they are ordinary op nodes in the graph), in graph order, which is
 * topological. Names follow FORMAT: inputs by id, then the shared variables
 * read (by id), outputs "output:i", then "update:ID". Shared variables get
 * no initializer (ONNX's input defaults): ONNX Runtime's Node binding then
 * ignores the values fed to them, and feeding them back is the point. */
#include "grd-onnx-build.h"
#include "../grd-interchange.h"

#include <string.h>

/* The ONNX value name of a node output: its id, "id:k" for k > 0 (in a
 * subgraph, the name given to the node instead of its id). */
const char *
onnx_ref_name (OnnxBuilder *b, GrdRef ref)
{
  const char *id = b->names ? b->names[ref.node] : grd_graph_node_id (b->graph, ref.node);
  if (ref.output == 0)
    return id;
  return onnx_keep (b, g_strdup_printf ("%s:%d", id, ref.output));
}

GradusOnnx__ValueInfoProto *
onnx_value_info (OnnxBuilder *b, const char *name, const GrdType *type)
{
  GradusOnnx__ValueInfoProto *v = onnx_keep (b, g_malloc0 (sizeof *v));
  gradus_onnx__value_info_proto__init (v);
  v->name = (char *) name;
  GradusOnnx__TypeProto *t = onnx_keep (b, g_malloc0 (sizeof *t));
  gradus_onnx__type_proto__init (t);
  GradusOnnx__TypeProto__Tensor *tt = onnx_keep (b, g_malloc0 (sizeof *tt));
  gradus_onnx__type_proto__tensor__init (tt);
  tt->has_elem_type = TRUE;
  tt->elem_type = onnx_dtype (type->dtype);
  GradusOnnx__TensorShapeProto *shape = onnx_keep (b, g_malloc0 (sizeof *shape));
  gradus_onnx__tensor_shape_proto__init (shape);
  shape->n_dim = type->rank;
  shape->dim = onnx_keep (b, g_malloc0 (sizeof (gpointer) * MAX (type->rank, 1)));
  for (gint d = 0; d < type->rank; d++) {
    GradusOnnx__TensorShapeProto__Dimension *dim = onnx_keep (b, g_malloc0 (sizeof *dim));
    gradus_onnx__tensor_shape_proto__dimension__init (dim);
    if (type->dims[d] >= 0) { /* an unknown dim is left without a value */
      dim->value_case = GRADUS_ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      dim->dim_value = type->dims[d];
    }
    shape->dim[d] = dim;
  }
  tt->shape = shape;
  t->value_case = GRADUS_ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  t->tensor_type = tt;
  v->type = t;
  return v;
}

/* Marks every node that `ref` depends on. */
void
onnx_mark_needed (GrdGraph *graph, GrdRef ref, gboolean *needed)
{
  g_autoptr (GArray) stack = g_array_new (FALSE, FALSE, sizeof (gint));
  g_array_append_val (stack, ref.node);
  while (stack->len) {
    gint n = g_array_index (stack, gint, stack->len - 1);
    g_array_set_size (stack, stack->len - 1);
    if (needed[n])
      continue;
    needed[n] = TRUE;
    for (gint i = 0; i < grd_graph_node_n_inputs (graph, n); i++) {
      GrdRef in = grd_graph_node_input (graph, n, i);
      if (!needed[in.node])
        g_array_append_val (stack, in.node);
    }
  }
}

/* One node of b->graph: constants become initializers, op nodes their ONNX
 * nodes; variables, shared variables and grad nodes make no node (they are
 * inputs, or name other values). */
gboolean
onnx_emit_node (OnnxBuilder *b, gint n, GError **error)
{
  GrdGraph *graph = b->graph;
  GrdNode *node = grd_graph_node (graph, n);
  const char *name = onnx_ref_name (b, (GrdRef) { n, 0 });
  switch (node->kind) {
  case GRD_NODE_VARIABLE:
  case GRD_NODE_SHARED:
  case GRD_NODE_GRAD:
    break;
  case GRD_NODE_CONSTANT:
    onnx_initializer (b, name, node->value);
    break;
  case GRD_NODE_OP: {
    g_autofree const char **in = g_new0 (const char *, MAX (node->n_inputs, 1));
    for (gint i = 0; i < node->n_inputs; i++)
      in[i] = onnx_ref_name (b, node->inputs[i]);
    gboolean is_scan = g_str_equal (node->op->name, "_scan");
    if (is_scan || g_str_equal (node->op->name, "ifelse")) {
      g_autofree const char **outs = g_new0 (const char *, MAX (node->n_outputs, 1));
      for (gint k = 0; k < node->n_outputs; k++) {
        outs[k] = onnx_ref_name (b, (GrdRef) { n, k });
        g_hash_table_add (b->taken, (gpointer) outs[k]);
      }
      g_autoptr (GError) local = NULL;
      if (!(is_scan ? onnx_emit_scan (b, node, in, outs, &local)
                    : onnx_emit_ifelse (b, node, in, outs, &local))) {
        if (g_str_has_prefix (local->message, "node '"))
          g_propagate_error (error, g_steal_pointer (&local));
        else
          g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "node '%s': %s", node->id,
                       local->message);
        return FALSE;
      }
      break;
    }
    const OnnxOpRow *row = onnx_op_row (node->op->name);
    if (!row) {
      gint owner = node->owner;
      g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                   "node '%s': op '%s' has no ONNX form%s%s%s", node->id, node->op->name,
                   owner >= 0 ? " (in the gradient of '" : "",
                   owner >= 0 ? grd_graph_node_id (graph, owner) : "",
                   owner >= 0 ? "')" : "");
      return FALSE;
    }
    if (node->n_outputs != 1) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                   "node '%s': op '%s' has %d outputs; the ONNX export takes one", node->id,
                   node->op->name, node->n_outputs);
      return FALSE;
    }
    g_hash_table_add (b->taken, (gpointer) name);
    g_autoptr (GError) local = NULL;
    if (!row->emit (b, node, in, name, row->onnx_op, &local)) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "node '%s': %s", node->id,
                   local->message);
      return FALSE;
    }
    break;
  }
  default:
    /* node kinds this export does not know (yet) */
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "node '%s': this kind of node has no ONNX form in the export", node->id);
    return FALSE;
  }
  return TRUE;
}

static gboolean
emit_graph (OnnxBuilder *b, GrdInterFunction *fn, GradusOnnx__GraphProto *g, GError **error)
{
  GrdGraph *graph = b->graph;
  gint n_nodes = grd_graph_n_nodes (graph);
  g_autofree gboolean *needed = g_new0 (gboolean, n_nodes);
  g_autofree gboolean *is_input = g_new0 (gboolean, n_nodes);
  for (gint i = 0; i < fn->n_outputs; i++)
    onnx_mark_needed (graph, fn->outputs[i], needed);
  for (gint i = 0; i < fn->n_updates; i++)
    onnx_mark_needed (graph, fn->updates[i].value, needed);
  for (gint i = 0; i < fn->n_inputs; i++)
    is_input[fn->inputs[i].node] = TRUE;

  g_autoptr (GPtrArray) inputs = g_ptr_array_new ();
  for (gint i = 0; i < fn->n_inputs; i++) {
    g_hash_table_add (b->taken, fn->input_ids[i]);
    g_ptr_array_add (inputs, onnx_value_info (b, fn->input_ids[i],
                                         grd_graph_ref_type (graph, fn->inputs[i])));
  }
  /* The shared variables the call reads, in file order; an update of a
   * shared variable that nothing reads still makes it an input (its value is
   * needed to feed back). */
  for (gint i = 0; i < fn->n_updates; i++)
    needed[fn->updates[i].shared.node] = TRUE;
  for (gint n = 0; n < n_nodes; n++) {
    if (!needed[n] || grd_graph_node_kind (graph, n) != GRD_NODE_SHARED)
      continue;
    const char *id = grd_graph_node_id (graph, n);
    g_hash_table_add (b->taken, (gpointer) id);
    g_ptr_array_add (inputs, onnx_value_info (b, id, grd_graph_node_type (graph, n, 0)));
  }

  for (gint n = 0; n < n_nodes; n++) {
    if (!needed[n])
      continue;
    if (grd_graph_node_kind (graph, n) == GRD_NODE_VARIABLE && !is_input[n]) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH,
                   "node '%s': the function needs this variable but it is not an input",
                   grd_graph_node_id (graph, n));
      return FALSE;
    }
    if (!onnx_emit_node (b, n, error))
      return FALSE;
  }

  /* Graph outputs are fresh names, so one value may be several outputs. */
  g_autoptr (GPtrArray) outputs = g_ptr_array_new ();
  for (gint i = 0; i < fn->n_outputs + fn->n_updates; i++) {
    gboolean is_output = i < fn->n_outputs;
    GrdRef ref = is_output ? fn->outputs[i] : fn->updates[i - fn->n_outputs].value;
    char *name = is_output ? g_strdup_printf ("output:%d", i)
                           : g_strdup_printf ("update:%s", fn->update_ids[i - fn->n_outputs]);
    onnx_keep (b, name);
    const GrdType *type = grd_graph_ref_type (graph, ref);
    if (!is_output) { /* the update takes the shared variable's dtype and shape */
      GrdNode *shared = grd_graph_node (graph, fn->updates[i - fn->n_outputs].shared.node);
      const char *value = onnx_cast (b, onnx_ref_name (b, ref), type->dtype, shared->types[0].dtype);
      onnx_node (b, "Identity", name, 1, value);
      type = &shared->types[0];
    } else {
      onnx_node (b, "Identity", name, 1, onnx_ref_name (b, ref));
    }
    g_ptr_array_add (outputs, onnx_value_info (b, name, type));
  }

  g->n_node = b->nodes->len;
  g->node = (OnnxNode **) b->nodes->pdata;
  g->n_initializer = b->initializers->len;
  g->initializer = (GradusOnnx__TensorProto **) b->initializers->pdata;
  g->n_input = inputs->len;
  g->input = (GradusOnnx__ValueInfoProto **) onnx_keep (b, g_ptr_array_steal (inputs, NULL));
  g->n_output = outputs->len;
  g->output = (GradusOnnx__ValueInfoProto **) onnx_keep (b, g_ptr_array_steal (outputs, NULL));
  return TRUE;
}

gboolean
grd_onnx_export (GrdDocument *doc, const char *function, const char *out_path, GError **error)
{
  return grd_onnx_export_with_flags (doc, function, out_path, GRD_ONNX_EXPORT_DEFAULT, NULL, error);
}

gboolean
grd_onnx_export_with_flags (GrdDocument *doc, const char *function, const char *out_path,
                            GrdOnnxExportFlags flags, char **notice, GError **error)
{
  if (notice)
    *notice = NULL;
  g_autoptr (GrdInterFunction) fn = grd_inter_function_resolve (doc, function, error);
  if (!fn)
    return FALSE;
  OnnxBuilder b;
  onnx_builder_init (&b, grd_document_graph (doc));
  b.doc = doc;
  b.conv_float32 = (flags & GRD_ONNX_EXPORT_CONV_FLOAT32) != 0;
  GradusOnnx__GraphProto graph = GRADUS_ONNX__GRAPH_PROTO__INIT;
  gboolean ok = emit_graph (&b, fn, &graph, error);
  if (ok) {
    JsonNode *root = grd_document_root (doc);
    JsonObject *o = JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
    const char *name = o && json_object_has_member (o, "name")
      ? json_object_get_string_member_with_default (o, "name", NULL) : NULL;
    g_autofree char *graph_name = g_strdup (name ? name : fn->name);
    graph.name = graph_name;
    GradusOnnx__OperatorSetIdProto opset = GRADUS_ONNX__OPERATOR_SET_ID_PROTO__INIT;
    opset.domain = (char *) "";
    opset.has_version = TRUE;
    opset.version = GRD_ONNX_OPSET;
    GradusOnnx__OperatorSetIdProto *opsets[1] = { &opset };
    GradusOnnx__ModelProto model = GRADUS_ONNX__MODEL_PROTO__INIT;
    model.has_ir_version = TRUE;
    model.ir_version = 8; /* the IR version of opset 17 */
    model.producer_name = (char *) "gradus";
    model.producer_version = (char *) GRADUS_VERSION_STRING;
    model.graph = &graph;
    model.n_opset_import = 1;
    model.opset_import = opsets;
    gsize size = gradus_onnx__model_proto__get_packed_size (&model);
    g_autofree guint8 *bytes = g_malloc (MAX (size, 1));
    gradus_onnx__model_proto__pack (&model, bytes);
    ok = g_file_set_contents (out_path, (const char *) bytes, size, error);
  }
  if (ok && notice && b.float64_conv)
    *notice = g_strdup_printf ("node '%s': a float64 convolution; ONNX Runtime's Conv runs "
                               "float32 only (export with --conv-float32 to compute the "
                               "convolutions in float32 there)", b.float64_conv);
  onnx_builder_clear (&b);
  return ok;
}
