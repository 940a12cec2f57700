/* grd-onnx-build.c: appending nodes, attributes and initializers to an ONNX
 * graph under construction. */
#include "grd-onnx-build.h"

#include <stdarg.h>
#include <string.h>

void
onnx_builder_init (OnnxBuilder *b, GrdGraph *graph)
{
  memset (b, 0, sizeof *b);
  b->graph = graph;
  b->nodes = g_ptr_array_new ();
  b->initializers = g_ptr_array_new ();
  b->garbage = g_ptr_array_new_with_free_func (g_free);
  b->taken = g_hash_table_new (g_str_hash, g_str_equal);
}

void
onnx_builder_clear (OnnxBuilder *b)
{
  g_clear_pointer (&b->nodes, g_ptr_array_unref);
  g_clear_pointer (&b->initializers, g_ptr_array_unref);
  g_clear_pointer (&b->taken, g_hash_table_unref);
  g_clear_pointer (&b->garbage, g_ptr_array_unref);
}

gpointer
onnx_keep (OnnxBuilder *b, gpointer owned)
{
  g_ptr_array_add (b->garbage, owned);
  return owned;
}

static gpointer
keep_new0 (OnnxBuilder *b, gsize size)
{
  return onnx_keep (b, g_malloc0 (size));
}

const char *
onnx_fresh (OnnxBuilder *b, const char *hint)
{
  for (;;) {
    char *name = onnx_keep (b, g_strdup_printf ("%s/%d", hint, b->counter++));
    if (!g_hash_table_contains (b->taken, name)) {
      g_hash_table_add (b->taken, name);
      return name;
    }
  }
}

gint
onnx_dtype (GrdDType dtype)
{
  switch (dtype) {
  case GRD_DTYPE_BOOL: return GRADUS_ONNX__TENSOR_PROTO__DATA_TYPE__BOOL;
  case GRD_DTYPE_INT32: return GRADUS_ONNX__TENSOR_PROTO__DATA_TYPE__INT32;
  case GRD_DTYPE_INT64: return GRADUS_ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
  case GRD_DTYPE_FLOAT32: return GRADUS_ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  case GRD_DTYPE_FLOAT64: return GRADUS_ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;
  default: g_return_val_if_reached (0);
  }
}

OnnxNode *
onnx_node (OnnxBuilder *b, const char *op_type, const char *out, gint n_in, ...)
{
  const char *in[8];
  g_return_val_if_fail (n_in <= 8, NULL);
  va_list ap;
  va_start (ap, n_in);
  for (gint i = 0; i < n_in; i++)
    in[i] = va_arg (ap, const char *);
  va_end (ap);
  return onnx_node_v (b, op_type, out, n_in, in);
}

OnnxNode *
onnx_node_v (OnnxBuilder *b, const char *op_type, const char *out, gint n_in,
             const char *const *in)
{
  OnnxNode *n = keep_new0 (b, sizeof *n);
  gradus_onnx__node_proto__init (n);
  n->op_type = (char *) op_type;
  n->n_input = n_in;
  n->input = keep_new0 (b, sizeof (char *) * MAX (n_in, 1));
  for (gint i = 0; i < n_in; i++)
    n->input[i] = (char *) in[i];
  n->n_output = 1;
  n->output = keep_new0 (b, sizeof (char *));
  if (!out)
    out = onnx_fresh (b, op_type);
  else
    g_hash_table_add (b->taken, (gpointer) out);
  n->output[0] = (char *) out;
  n->name = onnx_keep (b, g_strdup_printf ("%s_%u", op_type, b->nodes->len));
  g_ptr_array_add (b->nodes, n);
  return n;
}

const char *
onnx_node_add_output (OnnxBuilder *b, OnnxNode *n, const char *hint)
{
  char **list = keep_new0 (b, sizeof (char *) * (n->n_output + 1));
  memcpy (list, n->output, sizeof (char *) * n->n_output);
  list[n->n_output++] = (char *) onnx_fresh (b, hint);
  n->output = list;
  return list[n->n_output - 1];
}

static GradusOnnx__AttributeProto *
attr_add (OnnxBuilder *b, OnnxNode *n, const char *name, gint type)
{
  GradusOnnx__AttributeProto *a = keep_new0 (b, sizeof *a);
  gradus_onnx__attribute_proto__init (a);
  a->name = (char *) name;
  a->has_type = TRUE;
  a->type = type;
  GradusOnnx__AttributeProto **list = keep_new0 (b, sizeof (gpointer) * (n->n_attribute + 1));
  if (n->n_attribute)
    memcpy (list, n->attribute, sizeof (gpointer) * n->n_attribute);
  list[n->n_attribute++] = a;
  n->attribute = list;
  return a;
}

void
onnx_attr_int (OnnxBuilder *b, OnnxNode *n, const char *name, gint64 v)
{
  GradusOnnx__AttributeProto *a = attr_add (b, n, name,
                                            GRADUS_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
  a->has_i = TRUE;
  a->i = v;
}

void
onnx_attr_ints (OnnxBuilder *b, OnnxNode *n, const char *name, const gint64 *v, gint count)
{
  GradusOnnx__AttributeProto *a = attr_add (b, n, name,
                                            GRADUS_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
  a->n_ints = count;
  a->ints = onnx_keep (b, g_memdup2 (v, sizeof (gint64) * MAX (count, 1)));
}

void
onnx_attr_string (OnnxBuilder *b, OnnxNode *n, const char *name, const char *v)
{
  GradusOnnx__AttributeProto *a = attr_add (b, n, name,
                                            GRADUS_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
  a->has_s = TRUE;
  a->s.len = strlen (v);
  a->s.data = (guint8 *) onnx_keep (b, g_strdup (v));
}

void
onnx_attr_graph (OnnxBuilder *b, OnnxNode *n, const char *name, GradusOnnx__GraphProto *g)
{
  GradusOnnx__AttributeProto *a = attr_add (b, n, name,
                                            GRADUS_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
  a->g = g;
}

void
onnx_attr_tensor (OnnxBuilder *b, OnnxNode *n, const char *name, GradusOnnx__TensorProto *t)
{
  GradusOnnx__AttributeProto *a = attr_add (b, n, name,
                                            GRADUS_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
  a->t = t;
}

GradusOnnx__TensorProto *
onnx_tensor (OnnxBuilder *b, const char *name, const GrdTensor *value)
{
  GradusOnnx__TensorProto *t = keep_new0 (b, sizeof *t);
  gradus_onnx__tensor_proto__init (t);
  t->name = (char *) name;
  t->has_data_type = TRUE;
  t->data_type = onnx_dtype (value->dtype);
  t->n_dims = value->rank;
  t->dims = keep_new0 (b, sizeof (gint64) * MAX (value->rank, 1));
  memcpy (t->dims, value->shape, sizeof (gint64) * value->rank);
  /* raw_data is little-endian, as Gradus keeps tensors on the machines it runs on */
  gsize bytes = (gsize) value->size * grd_dtype_size (value->dtype);
  t->has_raw_data = TRUE;
  t->raw_data.len = bytes;
  t->raw_data.data = (guint8 *) onnx_keep (b, g_memdup2 (value->data, MAX (bytes, 1)));
  return t;
}

const char *
onnx_initializer (OnnxBuilder *b, const char *name, const GrdTensor *value)
{
  if (!name)
    name = onnx_fresh (b, "const");
  else
    g_hash_table_add (b->taken, (gpointer) name);
  g_ptr_array_add (b->initializers, onnx_tensor (b, name, value));
  return name;
}

const char *
onnx_scalar (OnnxBuilder *b, GrdDType dtype, double value)
{
  g_autoptr (GrdTensor) t = grd_tensor_new_scalar (dtype, value);
  return onnx_initializer (b, NULL, t);
}

const char *
onnx_int64s (OnnxBuilder *b, const gint64 *v, gint count)
{
  gint64 shape[1] = { count };
  g_autoptr (GrdTensor) t = grd_tensor_new (GRD_DTYPE_INT64, 1, shape);
  if (count)
    memcpy (t->data, v, sizeof (gint64) * count);
  return onnx_initializer (b, NULL, t);
}

const char *
onnx_cast (OnnxBuilder *b, const char *x, GrdDType from, GrdDType to)
{
  if (from == to)
    return x;
  OnnxNode *n = onnx_node (b, "Cast", NULL, 1, x);
  onnx_attr_int (b, n, "to", onnx_dtype (to));
  return onnx_out (n);
}
