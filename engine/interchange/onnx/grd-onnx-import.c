/* grd-onnx-import.c: an ONNX model as a Gradus graph file. Initializers
 * become shared variables (float ones; integer ones constants), graph inputs
 * variables, graph outputs the function's outputs; each ONNX node becomes
 * one or a few catalogue ops by a table (one row per operator). Values that
 * ONNX passes as inputs but Gradus keeps as attributes (Reshape's shape,
 * reduction axes) must be constants. Nodes are laid out in columns by depth
 * so the editor shows the model left to right. */
#include "grd-onnx-build.h"
#include "../grd-interchange.h"

#include <math.h>
#include <string.h>

typedef GradusOnnx__NodeProto OnnxIn;

typedef struct {
  GradusOnnx__GraphProto *graph;
  JsonArray  *nodes;
  GHashTable *refs;       /* ONNX value name -> Gradus reference (owned strings) */
  GHashTable *inits;      /* ONNX name -> TensorProto* (initializers, Constant outputs) */
  GHashTable *ids;        /* Gradus ids taken */
  GHashTable *depth;      /* Gradus id -> column + 1 */
  GPtrArray  *order;      /* Gradus ids in file order */
} Import;

/* ------------------------------------------------------------ tensors */

static gboolean
onnx_to_dtype (gint onnx, GrdDType *out)
{
  switch (onnx) {
  case GRADUS_ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: *out = GRD_DTYPE_FLOAT32; return TRUE;
  case GRADUS_ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: *out = GRD_DTYPE_FLOAT64; return TRUE;
  case GRADUS_ONNX__TENSOR_PROTO__DATA_TYPE__INT32: *out = GRD_DTYPE_INT32; return TRUE;
  case GRADUS_ONNX__TENSOR_PROTO__DATA_TYPE__INT64: *out = GRD_DTYPE_INT64; return TRUE;
  case GRADUS_ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: *out = GRD_DTYPE_BOOL; return TRUE;
  default: return FALSE;
  }
}

static GrdTensor *
tensor_from_proto (const GradusOnnx__TensorProto *t, GError **error)
{
  GrdDType dt;
  const char *name = t->name ? t->name : "(a tensor)";
  if (!onnx_to_dtype (t->data_type, &dt)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "tensor '%s': ONNX data type %d has no Gradus dtype", name, t->data_type);
    return NULL;
  }
  if (t->has_data_location && t->data_location == 1) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "tensor '%s': data in an external file is not read", name);
    return NULL;
  }
  if (t->n_dims > GRD_MAX_RANK) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "tensor '%s' has rank %zu (at most %d)",
                 name, t->n_dims, GRD_MAX_RANK);
    return NULL;
  }
  gint64 shape[GRD_MAX_RANK];
  for (gsize d = 0; d < t->n_dims; d++)
    shape[d] = t->dims[d];
  if (!grd_shape_check_size ((gint) t->n_dims, shape, dt, error))
    return NULL;
  g_autoptr (GrdTensor) out = grd_tensor_new (dt, (gint) t->n_dims, shape);
  gsize bytes = (gsize) out->size * grd_dtype_size (dt);
  gsize have;
  if (t->has_raw_data) {
    have = t->raw_data.len;
    if (have == bytes)
      memcpy (out->data, t->raw_data.data, bytes);
  } else if (dt == GRD_DTYPE_FLOAT32) {
    have = t->n_float_data * 4;
    if (have == bytes)
      memcpy (out->data, t->float_data, bytes);
  } else if (dt == GRD_DTYPE_FLOAT64) {
    have = t->n_double_data * 8;
    if (have == bytes)
      memcpy (out->data, t->double_data, bytes);
  } else if (dt == GRD_DTYPE_INT64) {
    have = t->n_int64_data * 8;
    if (have == bytes)
      memcpy (out->data, t->int64_data, bytes);
  } else { /* int32 and bool are kept in int32_data */
    have = t->n_int32_data * grd_dtype_size (dt);
    for (gsize i = 0; have == bytes && i < t->n_int32_data; i++)
      grd_tensor_set (out, (gint64) i, t->int32_data[i]);
  }
  if (have != bytes) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                 "tensor '%s': %zu bytes of data for %" G_GSIZE_FORMAT " expected", name, have,
                 bytes);
    return NULL;
  }
  return g_steal_pointer (&out);
}

static JsonNode *
value_json (const GrdTensor *t)
{
  JsonObject *o = json_object_new ();
  JsonArray *shape = json_array_new ();
  for (gint d = 0; d < t->rank; d++)
    json_array_add_int_element (shape, t->shape[d]);
  json_object_set_array_member (o, "shape", shape);
  g_autofree char *b64 = g_base64_encode (t->data, (gsize) t->size * grd_dtype_size (t->dtype));
  json_object_set_string_member (o, "base64", b64);
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (n, o);
  return n;
}

/* ------------------------------------------------------------ nodes */

/* A free Gradus id from an ONNX name: invalid characters become '_'. The
 * string belongs to im->ids. */
static const char *
make_id (Import *im, const char *onnx_name)
{
  GString *s = g_string_new (NULL);
  for (const char *p = onnx_name && *onnx_name ? onnx_name : "n"; *p; p++)
    g_string_append_c (s, g_ascii_isalnum (*p) || *p == '_' || *p == '.' || *p == '-' ? *p : '_');
  if (!g_ascii_isalpha (s->str[0]) && s->str[0] != '_')
    g_string_prepend_c (s, '_');
  g_autofree char *base = g_strdup (s->str);
  for (gint k = 2; g_hash_table_contains (im->ids, s->str); k++)
    g_string_printf (s, "%s_%d", base, k);
  char *id = g_string_free (s, FALSE);
  g_hash_table_add (im->ids, id);
  return id;
}

static gint
depth_of (Import *im, const char *ref)
{
  g_autofree char *id = g_strdup (ref);
  char *colon = strchr (id, ':');
  if (colon)
    *colon = '\0';
  return GPOINTER_TO_INT (g_hash_table_lookup (im->depth, id));
}

static JsonObject *
add_node (Import *im, const char *id, const char *kind, const char *display, gint depth)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "id", id);
  json_object_set_string_member (o, "kind", kind);
  if (display && strcmp (display, id) != 0)
    json_object_set_string_member (o, "name", display);
  json_array_add_object_element (im->nodes, o);
  g_hash_table_insert (im->depth, g_strdup (id), GINT_TO_POINTER (depth + 1));
  g_ptr_array_add (im->order, g_strdup (id));
  return o;
}

/* The Gradus reference of an ONNX value; initializers and Constant outputs
 * become nodes the first time an op reads them. */
static const char *
ref_of (Import *im, const char *name, GError **error)
{
  const char *ref = g_hash_table_lookup (im->refs, name);
  if (ref)
    return ref;
  const GradusOnnx__TensorProto *t = g_hash_table_lookup (im->inits, name);
  if (!t) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "value '%s' is read before it is defined",
                 name);
    return NULL;
  }
  g_autoptr (GrdTensor) value = tensor_from_proto (t, error);
  if (!value)
    return NULL;
  const char *id = make_id (im, name);
  /* float initializers are the model's weights: shared, so they can be trained */
  gboolean weight = grd_dtype_is_float (value->dtype);
  JsonObject *o = add_node (im, id, weight ? "shared" : "constant", name, 0);
  json_object_set_string_member (o, "dtype", grd_dtype_name (value->dtype));
  json_object_set_member (o, "value", value_json (value));
  g_hash_table_insert (im->refs, g_strdup (name), g_strdup (id));
  return g_hash_table_lookup (im->refs, name);
}

/* A constant input read as a tensor (Reshape's shape, axes, ...). */
static GrdTensor *
const_input (Import *im, const OnnxIn *n, gint i, GError **error)
{
  const GradusOnnx__TensorProto *t = (gsize) i < n->n_input
    ? g_hash_table_lookup (im->inits, n->input[i]) : NULL;
  if (!t) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "input %d must be a constant (an initializer or a Constant node)", i);
    return NULL;
  }
  return tensor_from_proto (t, error);
}

static gboolean
has_input (const OnnxIn *n, gint i)
{
  return (gsize) i < n->n_input && n->input[i][0] != '\0';
}

static const GradusOnnx__AttributeProto *
attr (const OnnxIn *n, const char *name)
{
  for (gsize i = 0; i < n->n_attribute; i++)
    if (g_strcmp0 (n->attribute[i]->name, name) == 0)
      return n->attribute[i];
  return NULL;
}

static gint64
attr_int (const OnnxIn *n, const char *name, gint64 fallback)
{
  const GradusOnnx__AttributeProto *a = attr (n, name);
  return a && a->has_i ? a->i : fallback;
}

static double
attr_float (const OnnxIn *n, const char *name, double fallback)
{
  const GradusOnnx__AttributeProto *a = attr (n, name);
  return a && a->has_f ? a->f : fallback;
}

/* An op node reading `inputs`; returns its id. attrs (may be NULL) is taken. */
static const char *
add_op (Import *im, const char *hint, const char *op, const char *const *inputs, gint n_in,
        JsonObject *attrs)
{
  const char *id = make_id (im, hint);
  gint depth = 0;
  for (gint i = 0; i < n_in; i++)
    depth = MAX (depth, depth_of (im, inputs[i]));
  JsonObject *o = add_node (im, id, "op", NULL, depth);
  json_object_set_string_member (o, "op", op);
  JsonArray *a = json_array_new ();
  for (gint i = 0; i < n_in; i++)
    json_array_add_string_element (a, inputs[i]);
  json_object_set_array_member (o, "inputs", a);
  if (attrs)
    json_object_set_object_member (o, "attrs", attrs);
  return id;
}

static const char *
add_scalar (Import *im, const char *hint, GrdDType dt, double v)
{
  const char *id = make_id (im, hint);
  JsonObject *o = add_node (im, id, "constant", NULL, 0);
  json_object_set_string_member (o, "dtype", grd_dtype_name (dt));
  if (isfinite (v))
    json_object_set_double_member (o, "value", v);
  else /* FORMAT's spelling of the infinities */
    json_object_set_string_member (o, "value", v > 0 ? "inf" : "-inf");
  return id;
}

static void
set_output (Import *im, const OnnxIn *n, const char *ref)
{
  g_hash_table_insert (im->refs, g_strdup (n->output[0]), g_strdup (ref));
}

static const char *
hint_of (const OnnxIn *n)
{
  return n->name && *n->name ? n->name : n->output[0];
}

/* Every input of the node as references (absent optional ones: NULL). */
static gboolean
data_inputs (Import *im, const OnnxIn *n, gint count, const char **out, GError **error)
{
  for (gint i = 0; i < count; i++) {
    out[i] = has_input (n, i) ? ref_of (im, n->input[i], error) : NULL;
    if (has_input (n, i) && !out[i])
      return FALSE;
  }
  return TRUE;
}

/* ------------------------------------------------------------ operators */

typedef gboolean (*ImportFunc) (Import *im, const OnnxIn *n, const char *op, GError **error);

/* One Gradus op on all the inputs, no attributes. */
static gboolean
imp_plain (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  g_autofree const char **in = g_new0 (const char *, n->n_input + 1);
  if (!data_inputs (im, n, (gint) n->n_input, in, error))
    return FALSE;
  set_output (im, n, add_op (im, hint_of (n), op, in, (gint) n->n_input, NULL));
  return TRUE;
}

static gboolean
imp_identity (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  const char *in = ref_of (im, n->input[0], error);
  if (!in)
    return FALSE;
  set_output (im, n, in);
  return TRUE;
}

/* Max/Min of two inputs (more are folded pairwise). */
static gboolean
imp_pairwise (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  g_autofree const char **in = g_new0 (const char *, n->n_input + 1);
  if (n->n_input < 1 || !data_inputs (im, n, (gint) n->n_input, in, error))
    return FALSE;
  const char *acc = in[0];
  for (gsize i = 1; i < n->n_input; i++) {
    const char *pair[2] = { acc, in[i] };
    acc = add_op (im, hint_of (n), op, pair, 2, NULL);
  }
  set_output (im, n, acc);
  return TRUE;
}

static gboolean
imp_matmul (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  return imp_plain (im, n, "dot", error);
}

static JsonObject *
axis_attrs (gint64 axis)
{
  JsonObject *a = json_object_new ();
  json_object_set_int_member (a, "axis", axis);
  return a;
}

/* Gemm: alpha op(A) op(B) + beta C. */
static gboolean
imp_gemm (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  const char *in[3];
  if (!data_inputs (im, n, MIN ((gint) n->n_input, 3), in, error))
    return FALSE;
  g_autofree char *hint_t = g_strconcat (hint_of (n), "_T", NULL);
  g_autofree char *hint_dot = g_strconcat (hint_of (n), "_dot", NULL);
  g_autofree char *hint_scale = g_strconcat (hint_of (n), "_scale", NULL);
  const char *a = in[0], *b = in[1];
  if (attr_int (n, "transA", 0))
    a = add_op (im, hint_t, "transpose", &a, 1, NULL);
  if (attr_int (n, "transB", 0))
    b = add_op (im, hint_t, "transpose", &b, 1, NULL);
  const char *ab[2] = { a, b };
  gboolean last = !has_input (n, 2) && attr_float (n, "alpha", 1) == 1;
  const char *y = add_op (im, last ? hint_of (n) : hint_dot, "dot", ab, 2, NULL);
  double alpha = attr_float (n, "alpha", 1), beta = attr_float (n, "beta", 1);
  /* the scalars take the weights' dtype */
  const GradusOnnx__TensorProto *bt = g_hash_table_lookup (im->inits, n->input[1]);
  GrdDType dt = GRD_DTYPE_FLOAT32;
  if (bt)
    onnx_to_dtype (bt->data_type, &dt);
  if (alpha != 1) {
    const char *m[2] = { y, add_scalar (im, "alpha", dt, alpha) };
    y = add_op (im, hint_scale, "mul", m, 2, NULL);
  }
  if (has_input (n, 2) && beta != 0) {
    const char *c = in[2];
    if (beta != 1) {
      const char *m[2] = { c, add_scalar (im, "beta", dt, beta) };
      c = add_op (im, hint_scale, "mul", m, 2, NULL);
    }
    const char *s[2] = { y, c };
    y = add_op (im, hint_of (n), "add", s, 2, NULL);
  }
  set_output (im, n, y);
  return TRUE;
}

static gboolean
imp_softmax (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  const char *x = ref_of (im, n->input[0], error);
  if (!x)
    return FALSE;
  set_output (im, n, add_op (im, hint_of (n), op, &x, 1, axis_attrs (attr_int (n, "axis", -1))));
  return TRUE;
}

static gboolean
imp_reshape (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  const char *x = ref_of (im, n->input[0], error);
  g_autoptr (GrdTensor) shape = x ? const_input (im, n, 1, error) : NULL;
  if (!shape)
    return FALSE;
  JsonObject *a = json_object_new ();
  JsonArray *s = json_array_new ();
  gboolean copies = FALSE;
  for (gint64 i = 0; i < shape->size; i++) {
    gint64 v = (gint64) grd_tensor_get (shape, i);
    copies |= v == 0 && !attr_int (n, "allowzero", 0);
    json_array_add_int_element (s, v);
  }
  json_object_set_array_member (a, "shape", s);
  if (copies && shape->size == 2 && grd_tensor_get (shape, 0) == 0 && grd_tensor_get (shape, 1) == -1) {
    /* [0, -1]: keep the first axis, fold the rest: Theano's flatten(2) */
    json_object_unref (a);
    a = json_object_new ();
    json_object_set_int_member (a, "ndim", 2);
    set_output (im, n, add_op (im, hint_of (n), "flatten", &x, 1, a));
    return TRUE;
  }
  if (copies) {
    json_object_unref (a);
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "a 0 in the shape (copy that dimension) is only read as [0, -1]");
    return FALSE;
  }
  set_output (im, n, add_op (im, hint_of (n), "reshape", &x, 1, a));
  return TRUE;
}

static gboolean
imp_flatten (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  const char *x = ref_of (im, n->input[0], error);
  if (!x)
    return FALSE;
  if (attr_int (n, "axis", 1) != 1) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "Flatten is read for axis 1 only");
    return FALSE;
  }
  JsonObject *a = json_object_new ();
  json_object_set_int_member (a, "ndim", 2);
  set_output (im, n, add_op (im, hint_of (n), "flatten", &x, 1, a));
  return TRUE;
}

static gboolean
imp_transpose (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  const char *x = ref_of (im, n->input[0], error);
  if (!x)
    return FALSE;
  JsonObject *a = NULL;
  const GradusOnnx__AttributeProto *perm = attr (n, "perm");
  if (perm) {
    a = json_object_new ();
    JsonArray *p = json_array_new ();
    for (gsize i = 0; i < perm->n_ints; i++)
      json_array_add_int_element (p, perm->ints[i]);
    json_object_set_array_member (a, "perm", p);
  }
  set_output (im, n, add_op (im, hint_of (n), "transpose", &x, 1, a));
  return TRUE;
}

static gboolean
imp_concat (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  g_autofree const char **in = g_new0 (const char *, n->n_input + 1);
  if (!data_inputs (im, n, (gint) n->n_input, in, error))
    return FALSE;
  set_output (im, n, add_op (im, hint_of (n), "concatenate", in, (gint) n->n_input,
                             axis_attrs (attr_int (n, "axis", 0))));
  return TRUE;
}

/* Reduce*: axes from the attribute (opset < 18, ReduceSum < 13) or input 1. */
static gboolean
imp_reduce (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  const char *x = ref_of (im, n->input[0], error);
  if (!x)
    return FALSE;
  JsonObject *a = json_object_new ();
  JsonArray *axes = NULL;
  const GradusOnnx__AttributeProto *at = attr (n, "axes");
  if (at) {
    axes = json_array_new ();
    for (gsize i = 0; i < at->n_ints; i++)
      json_array_add_int_element (axes, at->ints[i]);
  } else if (has_input (n, 1)) {
    g_autoptr (GrdTensor) t = const_input (im, n, 1, error);
    if (!t) {
      json_object_unref (a);
      return FALSE;
    }
    axes = json_array_new ();
    for (gint64 i = 0; i < t->size; i++)
      json_array_add_int_element (axes, (gint64) grd_tensor_get (t, i));
  }
  if (axes && json_array_get_length (axes) == 0 && attr_int (n, "noop_with_empty_axes", 0)) {
    json_array_unref (axes);
    json_object_unref (a);
    set_output (im, n, x);
    return TRUE;
  }
  if (axes && json_array_get_length (axes))
    json_object_set_array_member (a, "axis", axes);
  else if (axes)
    json_array_unref (axes);
  json_object_set_boolean_member (a, "keepdims", attr_int (n, "keepdims", 1) != 0);
  set_output (im, n, add_op (im, hint_of (n), op, &x, 1, a));
  return TRUE;
}

static gboolean
imp_arg (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  const char *x = ref_of (im, n->input[0], error);
  if (!x)
    return FALSE;
  JsonObject *a = axis_attrs (attr_int (n, "axis", 0));
  json_object_set_boolean_member (a, "keepdims", attr_int (n, "keepdims", 1) != 0);
  set_output (im, n, add_op (im, hint_of (n), op, &x, 1, a));
  return TRUE;
}

static gboolean
imp_cast (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  const char *x = ref_of (im, n->input[0], error);
  GrdDType dt;
  if (!x)
    return FALSE;
  if (!onnx_to_dtype ((gint) attr_int (n, "to", 0), &dt)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "Cast to ONNX data type %d",
                 (gint) attr_int (n, "to", 0));
    return FALSE;
  }
  JsonObject *a = json_object_new ();
  json_object_set_string_member (a, "dtype", grd_dtype_name (dt));
  set_output (im, n, add_op (im, hint_of (n), "cast", &x, 1, a));
  return TRUE;
}

static gboolean
imp_gather (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  const char *in[2];
  if (!data_inputs (im, n, 2, in, error))
    return FALSE;
  set_output (im, n, add_op (im, hint_of (n), "take", in, 2, axis_attrs (attr_int (n, "axis", 0))));
  return TRUE;
}

/* Clip (x, min, max): absent bounds are the infinities. */
static gboolean
imp_clip (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  const char *in[3];
  if (!data_inputs (im, n, MIN ((gint) n->n_input, 3), in, error))
    return FALSE;
  for (gint i = (gint) n->n_input; i < 3; i++)
    in[i] = NULL;
  if (!in[1])
    in[1] = add_scalar (im, "clip_min", GRD_DTYPE_FLOAT32, -INFINITY);
  if (!in[2])
    in[2] = add_scalar (im, "clip_max", GRD_DTYPE_FLOAT32, INFINITY);
  set_output (im, n, add_op (im, hint_of (n), "clip", in, 3, NULL));
  return TRUE;
}

/* The static type of a reference, from the graph imported so far (read
 * leniently: only the nodes before it matter). */
static gboolean
type_of (Import *im, const char *ref, GrdType *out, GError **error)
{
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "format", "gradus-graph");
  json_object_set_int_member (o, "version", 1);
  json_object_set_array_member (o, "nodes", json_array_ref (im->nodes));
  json_node_take_object (root, o);
  g_autoptr (GrdDocument) doc = grd_document_new_from_json (root, NULL, GRD_DOCUMENT_LENIENT,
                                                            error);
  GrdRef r;
  if (!doc || !grd_graph_lookup (grd_document_graph (doc), ref, &r, error))
    return FALSE;
  const GrdType *t = grd_graph_ref_type (grd_document_graph (doc), r);
  if (!t) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "the type of '%s' is not known", ref);
    return FALSE;
  }
  *out = *t;
  return TRUE;
}

/* Axes from the attribute (before opset 13) or the constant input 1. */
static gboolean
axes_of (Import *im, const OnnxIn *n, gint64 *axes, gint *n_axes, GError **error)
{
  const GradusOnnx__AttributeProto *at = attr (n, "axes");
  *n_axes = 0;
  if (at) {
    for (gsize i = 0; i < at->n_ints && i < GRD_MAX_RANK; i++)
      axes[(*n_axes)++] = at->ints[i];
    return TRUE;
  }
  if (!has_input (n, 1))
    return TRUE;
  g_autoptr (GrdTensor) t = const_input (im, n, 1, error);
  if (!t)
    return FALSE;
  for (gint64 i = 0; i < t->size && i < GRD_MAX_RANK; i++)
    axes[(*n_axes)++] = (gint64) grd_tensor_get (t, i);
  return TRUE;
}

/* Unsqueeze: a dimshuffle with "x" at the new axes. */
static gboolean
imp_unsqueeze (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  const char *x = ref_of (im, n->input[0], error);
  gint64 axes[GRD_MAX_RANK];
  gint n_axes;
  GrdType t;
  if (!x || !axes_of (im, n, axes, &n_axes, error) || !type_of (im, x, &t, error))
    return FALSE;
  gint rank = t.rank + n_axes;
  if (rank > GRD_MAX_RANK) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "rank %d is above %d", rank,
                 GRD_MAX_RANK);
    return FALSE;
  }
  gboolean new_axis[GRD_MAX_RANK] = { FALSE };
  for (gint i = 0; i < n_axes; i++)
    new_axis[axes[i] < 0 ? axes[i] + rank : axes[i]] = TRUE;
  JsonArray *pattern = json_array_new ();
  for (gint d = 0, k = 0; d < rank; d++) {
    if (new_axis[d])
      json_array_add_string_element (pattern, "x");
    else
      json_array_add_int_element (pattern, k++);
  }
  JsonObject *a = json_object_new ();
  json_object_set_array_member (a, "pattern", pattern);
  set_output (im, n, add_op (im, hint_of (n), "dimshuffle", &x, 1, a));
  return TRUE;
}

/* Squeeze: a dimshuffle that drops the axes when their static size is 1,
 * else a reshape (which needs all but one of the other dims known). */
static gboolean
imp_squeeze (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  const char *x = ref_of (im, n->input[0], error);
  gint64 axes[GRD_MAX_RANK];
  gint n_axes;
  GrdType t;
  if (!x || !axes_of (im, n, axes, &n_axes, error) || !type_of (im, x, &t, error))
    return FALSE;
  gboolean drop[GRD_MAX_RANK] = { FALSE }, static_ones = TRUE;
  for (gint i = 0; i < n_axes; i++)
    drop[axes[i] < 0 ? axes[i] + t.rank : axes[i]] = TRUE;
  if (n_axes == 0) /* no axes: every axis of size 1 */
    for (gint d = 0; d < t.rank; d++)
      drop[d] = t.dims[d] == 1;
  JsonArray *pattern = json_array_new (), *shape = json_array_new ();
  gint unknown = 0;
  for (gint d = 0; d < t.rank; d++) {
    if (drop[d]) {
      static_ones &= t.dims[d] == 1;
      continue;
    }
    json_array_add_int_element (pattern, d);
    json_array_add_int_element (shape, t.dims[d] >= 0 ? t.dims[d] : -1);
    unknown += t.dims[d] < 0;
  }
  JsonObject *a = json_object_new ();
  if (static_ones) {
    json_object_set_array_member (a, "pattern", pattern);
    json_array_unref (shape);
    set_output (im, n, add_op (im, hint_of (n), "dimshuffle", &x, 1, a));
    return TRUE;
  }
  json_array_unref (pattern);
  if (unknown > 1) {
    json_array_unref (shape);
    json_object_unref (a);
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "the squeezed axes are not known to be 1 and the other dims are not known");
    return FALSE;
  }
  json_object_set_array_member (a, "shape", shape);
  set_output (im, n, add_op (im, hint_of (n), "reshape", &x, 1, a));
  return TRUE;
}

/* Constant: its value becomes a node when something reads it. */
static gboolean
imp_constant (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  const GradusOnnx__AttributeProto *v = attr (n, "value");
  if (!v || !v->t) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "Constant is read from 'value' only");
    return FALSE;
  }
  if (!v->t->name)
    v->t->name = g_strdup (n->output[0]);
  g_hash_table_insert (im->inits, n->output[0], v->t);
  return TRUE;
}

typedef struct {
  const char *onnx_op;
  ImportFunc  import;
  const char *op;     /* the Gradus op, for the importers that take one */
} ImportRow;


/* ------------------------------------------------------------ convolution and pooling */

/* Two-dimensional pads [hb, wb, he, we] as Theano's [ph, pw]: only equal
 * begin and end pads have a Gradus form. */
static gboolean
symmetric_pads (const OnnxIn *n, gint64 *pad, GError **error)
{
  const GradusOnnx__AttributeProto *p = attr (n, "pads");
  const GradusOnnx__AttributeProto *ap = attr (n, "auto_pad");
  if (ap && ap->has_s && !(ap->s.len == 6 && memcmp (ap->s.data, "NOTSET", 6) == 0)
      && !(ap->s.len == 5 && memcmp (ap->s.data, "VALID", 5) == 0)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "auto_pad SAME_UPPER/SAME_LOWER has no Gradus form (give explicit pads)");
    return FALSE;
  }
  pad[0] = pad[1] = 0;
  if (!p || p->n_ints == 0)
    return TRUE;
  if (p->n_ints != 4 || p->ints[0] != p->ints[2] || p->ints[1] != p->ints[3]) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "expected 2-d pads equal at both ends ([ph, pw, ph, pw])");
    return FALSE;
  }
  pad[0] = p->ints[0], pad[1] = p->ints[1];
  return TRUE;
}

/* An INTS attribute of two values (default `fallback`), for 2-d operators. */
static gboolean
pair_attr (const OnnxIn *n, const char *name, gint64 fallback, gint64 *v, GError **error)
{
  const GradusOnnx__AttributeProto *a = attr (n, name);
  v[0] = v[1] = fallback;
  if (!a || a->n_ints == 0)
    return TRUE;
  if (a->n_ints != 2) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "%s has %zu values; only 2-d convolution and pooling have a Gradus form", name,
                 a->n_ints);
    return FALSE;
  }
  v[0] = a->ints[0], v[1] = a->ints[1];
  return TRUE;
}

static JsonArray *
pair_json (const gint64 *v)
{
  JsonArray *a = json_array_new ();
  json_array_add_int_element (a, v[0]);
  json_array_add_int_element (a, v[1]);
  return a;
}

/* Conv (x, w, [b]): conv2d as cross-correlation (filter_flip false), then
 * the bias added along the channel axis. */
static gboolean
imp_conv (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  const char *in[3] = { NULL, NULL, NULL };
  gint64 pad[2], strides[2], dilations[2];
  if (!data_inputs (im, n, MIN ((gint) n->n_input, 3), in, error)
      || !symmetric_pads (n, pad, error) || !pair_attr (n, "strides", 1, strides, error)
      || !pair_attr (n, "dilations", 1, dilations, error))
    return FALSE;
  JsonObject *a = json_object_new ();
  if (pad[0] || pad[1])
    json_object_set_array_member (a, "border_mode", pair_json (pad));
  else
    json_object_set_string_member (a, "border_mode", "valid");
  json_object_set_array_member (a, "subsample", pair_json (strides));
  json_object_set_array_member (a, "filter_dilation", pair_json (dilations));
  json_object_set_int_member (a, "num_groups", attr_int (n, "group", 1));
  json_object_set_boolean_member (a, "filter_flip", FALSE);
  const char *y = add_op (im, hint_of (n), "conv2d", in, 2, a);
  if (in[2]) {
    JsonObject *d = json_object_new ();
    JsonArray *pattern = json_array_new ();
    json_array_add_string_element (pattern, "x");
    json_array_add_int_element (pattern, 0);
    json_array_add_string_element (pattern, "x");
    json_array_add_string_element (pattern, "x");
    json_object_set_array_member (d, "pattern", pattern);
    g_autofree char *hint = g_strconcat (hint_of (n), "_bias", NULL);
    const char *bias = add_op (im, hint, "dimshuffle", &in[2], 1, d);
    const char *sum_in[2] = { y, bias };
    y = add_op (im, hint, "add", sum_in, 2, NULL);
  }
  set_output (im, n, y);
  return TRUE;
}

/* MaxPool, AveragePool: pool_2d with ignore_border (ceil_mode 0). */
static gboolean
imp_pool (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  const char *x = ref_of (im, n->input[0], error);
  gint64 pad[2], ws[2], strides[2], dilations[2];
  if (!x || !symmetric_pads (n, pad, error) || !pair_attr (n, "kernel_shape", 0, ws, error)
      || !pair_attr (n, "strides", 1, strides, error)
      || !pair_attr (n, "dilations", 1, dilations, error))
    return FALSE;
  if (ws[0] < 1 || ws[1] < 1 || attr_int (n, "ceil_mode", 0) || dilations[0] != 1
      || dilations[1] != 1 || attr_int (n, "storage_order", 0)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "expected a 2-d kernel_shape, ceil_mode 0, no dilations and storage_order 0");
    return FALSE;
  }
  JsonObject *a = json_object_new ();
  json_object_set_array_member (a, "ws", pair_json (ws));
  json_object_set_array_member (a, "stride", pair_json (strides));
  if (pad[0] || pad[1])
    json_object_set_array_member (a, "pad", pair_json (pad));
  const char *mode = strcmp (op, "max") == 0 ? "max"
                     : attr_int (n, "count_include_pad", 0) ? "average_inc_pad" : "average_exc_pad";
  json_object_set_string_member (a, "mode", mode);
  set_output (im, n, add_op (im, hint_of (n), "pool_2d", &x, 1, a));
  return TRUE;
}

/* GlobalAveragePool: the mean over the two spatial axes, kept. */
static gboolean
imp_global_average (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  const char *x = ref_of (im, n->input[0], error);
  if (!x)
    return FALSE;
  JsonObject *a = json_object_new ();
  JsonArray *axes = json_array_new ();
  json_array_add_int_element (axes, -2);
  json_array_add_int_element (axes, -1);
  json_object_set_array_member (a, "axis", axes);
  json_object_set_boolean_member (a, "keepdims", TRUE);
  set_output (im, n, add_op (im, hint_of (n), "mean", &x, 1, a));
  return TRUE;
}

/* ------------------------------------------------------------ shapes and integers */

static gboolean
imp_shape (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  const char *x = ref_of (im, n->input[0], error);
  if (!x)
    return FALSE;
  if (attr (n, "start") || attr (n, "end")) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "Shape with start or end has no Gradus form (shape gives every dim, or one)");
    return FALSE;
  }
  set_output (im, n, add_op (im, hint_of (n), "shape", &x, 1, NULL));
  return TRUE;
}

/* Range: arange in the inputs' dtype (ONNX keeps it; NumPy would widen ints). */
static gboolean
imp_range (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  const char *in[3];
  GrdType t;
  if (!data_inputs (im, n, 3, in, error) || !type_of (im, in[0], &t, error))
    return FALSE;
  JsonObject *a = json_object_new ();
  json_object_set_string_member (a, "dtype", grd_dtype_name (t.dtype));
  set_output (im, n, add_op (im, hint_of (n), "arange", in, 3, a));
  return TRUE;
}

/* Mod: fmod 0 (the divisor's sign) is NumPy's %; C's fmod has no Gradus op. */
static gboolean
imp_mod (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  if (attr_int (n, "fmod", 0)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "Mod with fmod 1 (the dividend's sign) has no Gradus form; mod follows the divisor");
    return FALSE;
  }
  return imp_plain (im, n, "mod", error);
}

/* ------------------------------------------------------------ what PyTorch writes around indexing */

/* Slice with constant starts, ends, axes and steps: slice's begin/end/step
 * lists over the leading axes (null where an axis is not sliced, and for
 * ONNX's "to the end" bounds, the huge values PyTorch writes). */
static gboolean
imp_slice (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  const char *x = ref_of (im, n->input[0], error);
  if (!x)
    return FALSE;
  g_autoptr (GrdTensor) starts = const_input (im, n, 1, error);
  g_autoptr (GrdTensor) ends = starts ? const_input (im, n, 2, error) : NULL;
  if (!ends)
    return FALSE;
  g_autoptr (GrdTensor) axes = has_input (n, 3) ? const_input (im, n, 3, error) : NULL;
  g_autoptr (GrdTensor) steps = has_input (n, 4) ? const_input (im, n, 4, error) : NULL;
  if ((has_input (n, 3) && !axes) || (has_input (n, 4) && !steps))
    return FALSE;
  gint64 k = starts->size;
  if (ends->size != k || (axes && axes->size != k) || (steps && steps->size != k)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "starts, ends, axes and steps of different lengths");
    return FALSE;
  }
  GrdType t = { 0 };
  gboolean negative_axis = FALSE;
  for (gint64 i = 0; axes && i < k; i++)
    negative_axis |= grd_tensor_get (axes, i) < 0;
  if (negative_axis && !type_of (im, x, &t, error))
    return FALSE;
  const gint64 huge = G_GINT64_CONSTANT (1) << 62;
  gint64 begin[GRD_MAX_RANK], end[GRD_MAX_RANK], step[GRD_MAX_RANK];
  gboolean set[GRD_MAX_RANK] = { FALSE };
  gint n_axes = 0;
  for (gint64 i = 0; i < k; i++) {
    gint64 axis = axes ? (gint64) grd_tensor_get (axes, i) : i;
    if (axis < 0)
      axis += t.rank;
    gint64 st = steps ? (gint64) grd_tensor_get (steps, i) : 1;
    /* int64 read as it is: INT64_MAX does not survive a double */
    gint64 b = starts->dtype == GRD_DTYPE_INT64 ? ((gint64 *) starts->data)[i]
                                                : (gint64) grd_tensor_get (starts, i);
    gint64 e = ends->dtype == GRD_DTYPE_INT64 ? ((gint64 *) ends->data)[i]
                                              : (gint64) grd_tensor_get (ends, i);
    if (axis < 0 || axis >= GRD_MAX_RANK || st == 0 || set[axis]) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                   "axis %" G_GINT64_FORMAT " with step %" G_GINT64_FORMAT " has no slice form",
                   axis, st);
      return FALSE;
    }
    set[axis] = TRUE;
    begin[axis] = (b >= huge || b <= -huge) ? GRD_SLICE_NONE : b;
    end[axis] = (e >= huge || e <= -huge) ? GRD_SLICE_NONE : e;
    step[axis] = st;
    n_axes = MAX (n_axes, (gint) axis + 1);
  }
  JsonObject *a = json_object_new ();
  JsonArray *lists[3] = { json_array_new (), json_array_new (), json_array_new () };
  for (gint d = 0; d < n_axes; d++) {
    gint64 v[3] = { set[d] ? begin[d] : GRD_SLICE_NONE, set[d] ? end[d] : GRD_SLICE_NONE,
                    set[d] && step[d] != 1 ? step[d] : GRD_SLICE_NONE };
    for (gint j = 0; j < 3; j++) {
      if (v[j] == GRD_SLICE_NONE)
        json_array_add_null_element (lists[j]);
      else
        json_array_add_int_element (lists[j], v[j]);
    }
  }
  json_object_set_array_member (a, "begin", lists[0]);
  json_object_set_array_member (a, "end", lists[1]);
  json_object_set_array_member (a, "step", lists[2]);
  set_output (im, n, add_op (im, hint_of (n), "slice", &x, 1, a));
  return TRUE;
}

/* Size: the product of the shape (an int64 scalar, as ONNX gives it). */
static gboolean
imp_size (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  const char *x = ref_of (im, n->input[0], error);
  if (!x)
    return FALSE;
  g_autofree char *hint = g_strdup_printf ("%s_shape", hint_of (n));
  const char *shape = add_op (im, hint, "shape", &x, 1, NULL);
  set_output (im, n, add_op (im, hint_of (n), "prod", &shape, 1, NULL));
  return TRUE;
}

/* arange(0, dim d of x): the positions along one axis, at run time. */
static const char *
positions (Import *im, const char *hint, const char *x, gint d)
{
  g_autofree char *h = g_strdup_printf ("%s_dim%d", hint, d);
  JsonObject *axis = json_object_new ();
  json_object_set_int_member (axis, "axis", d);
  const char *in[3];
  in[0] = add_scalar (im, "zero", GRD_DTYPE_INT64, 0);
  in[1] = add_op (im, h, "shape", &x, 1, axis);
  in[2] = add_scalar (im, "one", GRD_DTYPE_INT64, 1);
  JsonObject *a = json_object_new ();
  json_object_set_string_member (a, "dtype", "int64");
  g_autofree char *h2 = g_strdup_printf ("%s_range%d", hint, d);
  return add_op (im, h2, "arange", in, 3, a);
}

/* v (1-d) laid along axis d of rank dims: dimshuffle with "x" elsewhere. */
static const char *
along_axis (Import *im, const char *hint, const char *v, gint d, gint rank)
{
  JsonArray *pattern = json_array_new ();
  for (gint i = 0; i < rank; i++) {
    if (i == d)
      json_array_add_int_element (pattern, 0);
    else
      json_array_add_string_element (pattern, "x");
  }
  JsonObject *a = json_object_new ();
  json_object_set_array_member (a, "pattern", pattern);
  g_autofree char *h = g_strdup_printf ("%s_along%d", hint, d);
  return add_op (im, h, "dimshuffle", &v, 1, a);
}

/* GatherElements (data, indices, axis): index with the indices on `axis`
 * and, on every other axis, the positions along it (arange of the indices'
 * dim there), broadcast together to the indices' shape. */
static gboolean
imp_gather_elements (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  const char *in[2];
  GrdType t;
  if (!data_inputs (im, n, 2, in, error) || !type_of (im, in[1], &t, error))
    return FALSE;
  gint64 axis = attr_int (n, "axis", 0);
  if (axis < 0)
    axis += t.rank;
  if (axis < 0 || axis >= t.rank) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "axis %" G_GINT64_FORMAT
                 " of indices of rank %d", attr_int (n, "axis", 0), t.rank);
    return FALSE;
  }
  const char *args[GRD_MAX_RANK + 1];
  args[0] = in[0];
  for (gint d = 0; d < t.rank; d++)
    args[1 + d] = d == axis ? in[1]
                            : along_axis (im, hint_of (n), positions (im, hint_of (n), in[1], d),
                                          d, t.rank);
  set_output (im, n, add_op (im, hint_of (n), "index", args, t.rank + 1, NULL));
  return TRUE;
}

/* Zeros (int64) of the shape that the 1-d `shape` holds at run time (its
 * length must be static): a sum of aranges times 0, each laid along its axis
 * (a dim of 1 stays 1, so the sum broadcasts as ONNX's Expand does). */
static const char *
zeros_of_shape (Import *im, const char *hint, const char *shape, GError **error)
{
  GrdType t;
  if (!type_of (im, shape, &t, error))
    return NULL;
  if (t.rank != 1 || t.dims[0] < 0 || t.dims[0] > GRD_MAX_RANK) {
    g_autofree char *desc = grd_type_describe (&t);
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "the shape input is %s; its length must be known (at most %d)", desc,
                 GRD_MAX_RANK);
    return NULL;
  }
  gint rank = (gint) t.dims[0];
  const char *sum = NULL;
  const char *zero = add_scalar (im, "zero", GRD_DTYPE_INT64, 0);
  for (gint d = 0; d < rank; d++) {
    g_autofree char *h = g_strdup_printf ("%s_dim%d", hint, d);
    const char *idx = add_scalar (im, "axis", GRD_DTYPE_INT64, d);
    const char *take_in[2] = { shape, idx };
    const char *dim = add_op (im, h, "take", take_in, 2, axis_attrs (0));
    const char *range_in[3] = { zero, dim, add_scalar (im, "one", GRD_DTYPE_INT64, 1) };
    JsonObject *a = json_object_new ();
    json_object_set_string_member (a, "dtype", "int64");
    const char *r = add_op (im, h, "arange", range_in, 3, a);
    const char *mul_in[2] = { r, zero };
    const char *z = along_axis (im, hint, add_op (im, h, "mul", mul_in, 2, NULL), d, rank);
    const char *add_in[2] = { sum, z };
    sum = sum ? add_op (im, hint, "add", add_in, 2, NULL) : z;
  }
  if (!sum) /* an empty shape: a 0-d zero */
    sum = zero;
  return sum;
}

/* Expand (x, shape): x + zeros of that shape (NumPy's broadcasting is
 * ONNX's two-way broadcasting), the zeros in x's dtype. */
static gboolean
imp_expand (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  const char *in[2];
  GrdType t;
  if (!data_inputs (im, n, 2, in, error) || !type_of (im, in[0], &t, error))
    return FALSE;
  if (t.dtype == GRD_DTYPE_BOOL) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "Expand of bool values has no Gradus form");
    return FALSE;
  }
  const char *zeros = zeros_of_shape (im, hint_of (n), in[1], error);
  if (!zeros)
    return FALSE;
  JsonObject *a = json_object_new ();
  json_object_set_string_member (a, "dtype", grd_dtype_name (t.dtype));
  const char *add_in[2] = { in[0], add_op (im, hint_of (n), "cast", &zeros, 1, a) };
  set_output (im, n, add_op (im, hint_of (n), "add", add_in, 2, NULL));
  return TRUE;
}

/* ConstantOfShape (shape): zeros of that shape plus the value (a one-element
 * tensor, float32 0 by default), in the value's dtype. */
static gboolean
imp_constant_of_shape (Import *im, const OnnxIn *n, const char *op, GError **error)
{
  const char *shape = ref_of (im, n->input[0], error);
  if (!shape)
    return FALSE;
  const GradusOnnx__AttributeProto *v = attr (n, "value");
  g_autoptr (GrdTensor) value = v && v->t ? tensor_from_proto (v->t, error)
                                          : grd_tensor_new_scalar (GRD_DTYPE_FLOAT32, 0);
  if (!value)
    return FALSE;
  if (value->size != 1 || value->dtype == GRD_DTYPE_BOOL) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "ConstantOfShape's value must be one number");
    return FALSE;
  }
  const char *zeros = zeros_of_shape (im, hint_of (n), shape, error);
  if (!zeros)
    return FALSE;
  const char *add_in[2] = { zeros, add_scalar (im, "fill", value->dtype, grd_tensor_get (value, 0)) };
  const char *sum = add_op (im, hint_of (n), "add", add_in, 2, NULL);
  JsonObject *a = json_object_new ();
  json_object_set_string_member (a, "dtype", grd_dtype_name (value->dtype));
  set_output (im, n, add_op (im, hint_of (n), "cast", &sum, 1, a));
  return TRUE;
}

static const ImportRow import_rows[] = {
  { "Add", imp_plain, "add" },
  { "Sub", imp_plain, "sub" },
  { "Mul", imp_plain, "mul" },
  { "Div", imp_plain, "div" },
  { "Pow", imp_plain, "pow" },
  { "Neg", imp_plain, "neg" },
  { "Abs", imp_plain, "abs" },
  { "Sign", imp_plain, "sign" },
  { "Sqrt", imp_plain, "sqrt" },
  { "Reciprocal", imp_plain, "reciprocal" },
  { "Exp", imp_plain, "exp" },
  { "Log", imp_plain, "log" },
  { "Sin", imp_plain, "sin" },
  { "Cos", imp_plain, "cos" },
  { "Tanh", imp_plain, "tanh" },
  { "Sigmoid", imp_plain, "sigmoid" },
  { "Softplus", imp_plain, "softplus" },
  { "Relu", imp_plain, "relu" },
  { "Erf", imp_plain, "erf" },
  { "Floor", imp_plain, "floor" },
  { "Ceil", imp_plain, "ceil" },
  { "Round", imp_plain, "round" },
  { "Equal", imp_plain, "eq" },
  { "Less", imp_plain, "lt" },
  { "LessOrEqual", imp_plain, "le" },
  { "Greater", imp_plain, "gt" },
  { "GreaterOrEqual", imp_plain, "ge" },
  { "And", imp_plain, "and" },
  { "Or", imp_plain, "or" },
  { "Not", imp_plain, "not" },
  { "Where", imp_plain, "switch" },
  { "Max", imp_pairwise, "maximum" },
  { "Min", imp_pairwise, "minimum" },
  { "Clip", imp_clip, "clip" },
  { "Identity", imp_identity, NULL },
  { "Constant", imp_constant, NULL },
  { "MatMul", imp_matmul, "dot" },
  { "Gemm", imp_gemm, "dot" },
  { "Softmax", imp_softmax, "softmax" },
  { "LogSoftmax", imp_softmax, "log_softmax" },
  { "Reshape", imp_reshape, "reshape" },
  { "Flatten", imp_flatten, "flatten" },
  { "Transpose", imp_transpose, "transpose" },
  { "Concat", imp_concat, "concatenate" },
  { "ReduceSum", imp_reduce, "sum" },
  { "ReduceMean", imp_reduce, "mean" },
  { "ReduceProd", imp_reduce, "prod" },
  { "ReduceMax", imp_reduce, "max" },
  { "ReduceMin", imp_reduce, "min" },
  { "ReduceLogSumExp", imp_reduce, "logsumexp" },
  { "ArgMax", imp_arg, "argmax" },
  { "ArgMin", imp_arg, "argmin" },
  { "Cast", imp_cast, "cast" },
  { "Gather", imp_gather, "take" },
  { "Unsqueeze", imp_unsqueeze, "dimshuffle" },
  { "Squeeze", imp_squeeze, "dimshuffle" },
  { "Conv", imp_conv, "conv2d" },
  { "MaxPool", imp_pool, "max" },
  { "AveragePool", imp_pool, "average" },
  { "GlobalAveragePool", imp_global_average, "mean" },
  { "Shape", imp_shape, "shape" },
  { "Range", imp_range, "arange" },
  { "Mod", imp_mod, "mod" },
  { "Slice", imp_slice, "slice" },
  { "Size", imp_size, "prod" },
  { "GatherElements", imp_gather_elements, "index" },
  { "Expand", imp_expand, "add" },
  { "ConstantOfShape", imp_constant_of_shape, "add" },
};

/* ------------------------------------------------------------ the model */

/* Inputs get zeros (unknown dims 1) in run.feeds, so that the file runs and
 * checks as soon as it is imported; the user replaces them with data. */
static gboolean
import_inputs (Import *im, JsonArray *fn_inputs, JsonObject *feeds, GError **error)
{
  GradusOnnx__GraphProto *g = im->graph;
  for (gsize i = 0; i < g->n_input; i++) {
    GradusOnnx__ValueInfoProto *v = g->input[i];
    if (g_hash_table_contains (im->inits, v->name))
      continue; /* an initializer's default: a weight, not an input */
    GradusOnnx__TypeProto__Tensor *t = v->type && v->type->value_case
      == GRADUS_ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ? v->type->tensor_type : NULL;
    GrdDType dt;
    if (!t || !onnx_to_dtype (t->elem_type, &dt)) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                   "graph input '%s' is not a tensor of a Gradus dtype", v->name);
      return FALSE;
    }
    const char *id = make_id (im, v->name);
    JsonObject *o = add_node (im, id, "variable", v->name, 0);
    json_object_set_string_member (o, "dtype", grd_dtype_name (dt));
    JsonArray *shape = json_array_new (), *zeros_shape = json_array_new ();
    for (gsize d = 0; t->shape && d < t->shape->n_dim; d++) {
      GradusOnnx__TensorShapeProto__Dimension *dim = t->shape->dim[d];
      gboolean known = dim->value_case
        == GRADUS_ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      if (known)
        json_array_add_int_element (shape, dim->dim_value);
      else
        json_array_add_null_element (shape);
      json_array_add_int_element (zeros_shape, known ? dim->dim_value : 1);
    }
    json_object_set_array_member (o, "shape", shape);
    JsonObject *zeros = json_object_new ();
    json_object_set_array_member (zeros, "shape", zeros_shape);
    json_object_set_string_member (zeros, "init", "zeros");
    json_object_set_object_member (feeds, id, zeros);
    g_hash_table_insert (im->refs, g_strdup (v->name), g_strdup (id));
    json_array_add_string_element (fn_inputs, id);
  }
  return TRUE;
}

static gboolean
import_node (Import *im, OnnxIn *n, GError **error)
{
  const char *type = n->op_type ? n->op_type : "";
  const char *label = n->name && *n->name ? n->name : n->n_output ? n->output[0] : "?";
  if (n->domain && *n->domain && strcmp (n->domain, "ai.onnx") != 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "ONNX node '%s': operator %s of domain '%s' has no Gradus form", label, type,
                 n->domain);
    return FALSE;
  }
  const ImportRow *row = NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (import_rows) && !row; i++)
    if (strcmp (import_rows[i].onnx_op, type) == 0)
      row = &import_rows[i];
  if (!row) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "ONNX node '%s': operator %s has no Gradus form", label, type);
    return FALSE;
  }
  if (n->n_output != 1 || (n->n_input < 1 && strcmp (type, "Constant") != 0)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "ONNX node '%s' (%s): only single-output nodes are read", label, type);
    return FALSE;
  }
  g_autoptr (GError) local = NULL;
  if (!row->import (im, n, row->op, &local)) {
    g_set_error (error, GRD_ERROR, local->code, "ONNX node '%s' (%s): %s", label, type,
                 local->message);
    return FALSE;
  }
  return TRUE;
}

static JsonObject *
layout (Import *im)
{
  JsonObject *ui = json_object_new (), *pos = json_object_new ();
  g_autoptr (GHashTable) rows = g_hash_table_new (NULL, NULL);
  for (guint i = 0; i < im->order->len; i++) {
    const char *id = im->order->pdata[i];
    gint col = depth_of (im, id) - 1;
    gint row = GPOINTER_TO_INT (g_hash_table_lookup (rows, GINT_TO_POINTER (col)));
    g_hash_table_insert (rows, GINT_TO_POINTER (col), GINT_TO_POINTER (row + 1));
    JsonObject *p = json_object_new ();
    json_object_set_int_member (p, "x", 40 + 240 * col);
    json_object_set_int_member (p, "y", 40 + 120 * row);
    json_object_set_object_member (pos, id, p);
  }
  json_object_set_object_member (ui, "nodes", pos);
  return ui;
}

char *
grd_onnx_import (const char *model_path, GError **error)
{
  g_autofree char *bytes = NULL;
  gsize len;
  if (!g_file_get_contents (model_path, &bytes, &len, error))
    return NULL;
  GradusOnnx__ModelProto *model = gradus_onnx__model_proto__unpack (NULL, len, (guint8 *) bytes);
  if (!model || !model->graph) {
    if (model)
      gradus_onnx__model_proto__free_unpacked (model, NULL);
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "%s is not an ONNX model", model_path);
    return NULL;
  }
  Import im = { 0 };
  im.graph = model->graph;
  im.nodes = json_array_new ();
  im.refs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  im.inits = g_hash_table_new (g_str_hash, g_str_equal);
  im.ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  im.depth = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  im.order = g_ptr_array_new_with_free_func (g_free);
  for (gsize i = 0; i < im.graph->n_initializer; i++)
    if (im.graph->initializer[i]->name)
      g_hash_table_insert (im.inits, im.graph->initializer[i]->name, im.graph->initializer[i]);

  JsonArray *fn_inputs = json_array_new (), *fn_outputs = json_array_new ();
  JsonObject *feeds = json_object_new ();
  gboolean ok = import_inputs (&im, fn_inputs, feeds, error);
  for (gsize i = 0; ok && i < im.graph->n_node; i++)
    ok = import_node (&im, im.graph->node[i], error);
  for (gsize i = 0; ok && i < im.graph->n_output; i++) {
    const char *ref = ref_of (&im, im.graph->output[i]->name, error);
    ok = ref != NULL;
    if (ok)
      json_array_add_string_element (fn_outputs, ref);
  }
  char *text = NULL;
  if (ok) {
    JsonObject *root = json_object_new ();
    json_object_set_string_member (root, "format", "gradus-graph");
    json_object_set_int_member (root, "version", 1);
    g_autofree char *base = g_path_get_basename (model_path);
    const char *name = im.graph->name && *im.graph->name ? im.graph->name : base;
    json_object_set_string_member (root, "name", name);
    g_autofree char *about = g_strdup_printf ("imported from %s by gradus import", base);
    json_object_set_string_member (root, "description", about);
    json_object_set_array_member (root, "nodes", json_array_ref (im.nodes));
    JsonObject *fn = json_object_new ();
    json_object_set_array_member (fn, "inputs", json_array_ref (fn_inputs));
    json_object_set_array_member (fn, "outputs", json_array_ref (fn_outputs));
    json_object_set_object_member (root, "function", fn);
    JsonObject *run = json_object_new ();
    json_object_set_int_member (run, "steps", 1);
    json_object_set_object_member (run, "feeds", json_object_ref (feeds));
    json_object_set_object_member (root, "run", run);
    json_object_set_object_member (root, "ui", layout (&im));
    g_autoptr (JsonNode) rn = json_node_new (JSON_NODE_OBJECT);
    json_node_take_object (rn, root);
    g_autoptr (JsonGenerator) gen = json_generator_new ();
    json_generator_set_root (gen, rn);
    json_generator_set_pretty (gen, TRUE);
    json_generator_set_indent (gen, 1);
    char *json = json_generator_to_data (gen, NULL);
    text = g_strconcat (json, "\n", NULL);
    g_free (json);
  } else if (error && *error) {
    g_prefix_error (error, "%s: ", model_path);
  }
  json_array_unref (fn_inputs);
  json_array_unref (fn_outputs);
  json_object_unref (feeds);
  json_array_unref (im.nodes);
  g_hash_table_unref (im.refs);
  g_hash_table_unref (im.inits);
  g_hash_table_unref (im.ids);
  g_hash_table_unref (im.depth);
  g_ptr_array_unref (im.order);
  gradus_onnx__model_proto__free_unpacked (model, NULL);
  return text;
}
