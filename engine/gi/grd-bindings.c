/* grd-bindings.c: the graph builders, calls and tensor views of gradus.h in a
 * shape GObject introspection can describe: GrdRef on the heap instead of by
 * value, outputs returned in a GPtrArray instead of a caller's array, tensor
 * data as GBytes. Each only forwards to the C API. */
#include "gradus.h"

#include <string.h>

static GrdRef *
ref_or_null (GrdRef ref)
{
  return grd_ref_is_none (ref) ? NULL : grd_ref_new (ref.node, ref.output);
}

GrdRef *
grd_graph_add_variable (GrdGraph *graph, const char *id, GrdDType dtype, const gint64 *dims,
                        gint rank, GError **error)
{
  return ref_or_null (grd_graph_variable (graph, id, dtype, rank, dims, error));
}

GrdRef *
grd_graph_add_constant (GrdGraph *graph, const char *id, GrdTensor *value, GError **error)
{
  return ref_or_null (grd_graph_constant (graph, id, value, error));
}

GrdRef *
grd_graph_add_shared (GrdGraph *graph, const char *id, GrdTensor *value, GError **error)
{
  return ref_or_null (grd_graph_shared (graph, id, value, error));
}

GrdRef *
grd_graph_add_op (GrdGraph *graph, const char *id, const char *op, const GrdRef *inputs,
                  gint n_inputs, const GrdAttrs *attrs, GError **error)
{
  return ref_or_null (grd_graph_op (graph, id, op, inputs, n_inputs, attrs, error));
}

GrdRef *
grd_graph_add_scalar (GrdGraph *graph, GrdDType dtype, double value, GError **error)
{
  return ref_or_null (grd_scalar (graph, dtype, value, error));
}

GPtrArray *
grd_graph_add_grad (GrdGraph *graph, const char *id, const GrdRef *cost, const GrdRef *wrt,
                    gint n_wrt, const GrdRef *consider_constant, gint n_consider_constant,
                    GError **error)
{
  g_return_val_if_fail (cost != NULL, NULL);
  g_return_val_if_fail (n_wrt >= 0, NULL);
  g_autofree GrdRef *grads = g_new (GrdRef, MAX (n_wrt, 1));
  GrdRef node = grd_graph_grad (graph, id, *cost, wrt, n_wrt, consider_constant,
                                n_consider_constant, grads, error);
  if (grd_ref_is_none (node))
    return NULL;
  GPtrArray *out = g_ptr_array_sized_new (n_wrt);
  for (gint i = 0; i < n_wrt; i++)
    g_ptr_array_add (out, grd_ref_new (grads[i].node, grads[i].output));
  return out;
}

GrdTensor *
grd_graph_value_of (GrdGraph *graph, const GrdRef *node)
{
  g_return_val_if_fail (node != NULL, NULL);
  return grd_graph_get_value (graph, *node);
}

gboolean
grd_graph_set_value_of (GrdGraph *graph, const GrdRef *node, GrdTensor *value, GError **error)
{
  g_return_val_if_fail (node != NULL, FALSE);
  return grd_graph_set_value (graph, *node, value, error);
}

GrdRef *
grd_graph_node_input_ref (GrdGraph *graph, gint node, gint i)
{
  return ref_or_null (grd_graph_node_input (graph, node, i));
}

static gboolean
attrs_fit (const char *what, gint n, GError **error)
{
  if (n >= 0 && n <= GRD_MAX_RANK)
    return TRUE;
  g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE,
               "attrs: %d %s given, expected 0 to %d", n, what, GRD_MAX_RANK);
  return FALSE;
}

gboolean
grd_attrs_set_axes (GrdAttrs *attrs, const gint *axes, gint n_axes, GError **error)
{
  if (!attrs_fit ("axes", n_axes, error))
    return FALSE;
  attrs->has_axis = TRUE;
  attrs->n_axes = n_axes;
  if (n_axes > 0)
    memcpy (attrs->axes, axes, sizeof (gint) * n_axes);
  return TRUE;
}

gboolean
grd_attrs_set_perm (GrdAttrs *attrs, const gint *perm, gint n_perm, GError **error)
{
  if (!attrs_fit ("axes in perm", n_perm, error))
    return FALSE;
  attrs->n_perm = n_perm;
  if (n_perm > 0)
    memcpy (attrs->perm, perm, sizeof (gint) * n_perm);
  return TRUE;
}

gboolean
grd_attrs_set_shape (GrdAttrs *attrs, const gint64 *shape, gint n_shape, GError **error)
{
  if (!attrs_fit ("dimensions in shape", n_shape, error))
    return FALSE;
  attrs->n_shape = n_shape;
  if (n_shape > 0)
    memcpy (attrs->shape, shape, sizeof (gint64) * n_shape);
  return TRUE;
}

gboolean
grd_attrs_set_pattern (GrdAttrs *attrs, const gint *pattern, gint n_pattern, GError **error)
{
  if (!attrs_fit ("entries in pattern", n_pattern, error))
    return FALSE;
  attrs->n_pattern = n_pattern;
  if (n_pattern > 0)
    memcpy (attrs->pattern, pattern, sizeof (gint) * n_pattern);
  return TRUE;
}

GPtrArray *
grd_function_call_list (GrdFunction *fn, GrdTensor **inputs, gint n_inputs, GError **error)
{
  gint want = grd_function_n_inputs (fn), n_out = grd_function_n_outputs (fn);
  if (n_inputs != want) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE,
                 "function call: %d input values given, the function takes %d", n_inputs, want);
    return NULL;
  }
  g_autofree GrdTensor **outputs = g_new0 (GrdTensor *, MAX (n_out, 1));
  if (!grd_function_call (fn, inputs, outputs, error))
    return NULL;
  GPtrArray *out = g_ptr_array_sized_new (n_out);
  for (gint i = 0; i < n_out; i++)
    g_ptr_array_add (out, outputs[i]);
  return out;
}

GrdTensor *
grd_tensor_new_from_bytes (GrdDType dtype, const gint64 *shape, gint rank, GBytes *data,
                           GError **error)
{
  g_return_val_if_fail (data != NULL, NULL);
  if ((guint) dtype >= GRD_N_DTYPES || rank < 0 || rank > GRD_MAX_RANK) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE,
                 "tensor from bytes: expected a dtype and a rank of 0 to %d, got dtype %d "
                 "and rank %d", GRD_MAX_RANK, (int) dtype, rank);
    return NULL;
  }
  guint64 n = 1;
  for (gint i = 0; i < rank; i++) {
    if (shape[i] < 0 || (shape[i] > 0 && n > G_MAXINT64 / (guint64) shape[i])) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE,
                   "tensor from bytes: dimension %d is %" G_GINT64_FORMAT
                   ", expected a size that is not negative and does not overflow",
                   i, shape[i]);
      return NULL;
    }
    n *= (guint64) shape[i];
  }
  gsize have = 0;
  const guint8 *bytes = g_bytes_get_data (data, &have);
  gsize elem = grd_dtype_size (dtype);
  if (n > G_MAXSIZE / elem || have != n * elem) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE,
                 "tensor from bytes: %" G_GSIZE_FORMAT " bytes given, a %s tensor of %"
                 G_GUINT64_FORMAT " elements needs %" G_GUINT64_FORMAT,
                 have, grd_dtype_name (dtype), n, n * (guint64) elem);
    return NULL;
  }
  GrdTensor *t = grd_tensor_new (dtype, rank, shape);
  if (have > 0)
    memcpy (t->data, bytes, have);
  return t;
}

GBytes *
grd_tensor_get_bytes (const GrdTensor *t)
{
  return g_bytes_new (t->data, (gsize) t->size * grd_dtype_size (t->dtype));
}

const gint64 *
grd_tensor_get_shape (const GrdTensor *t, gint *rank)
{
  *rank = t->rank;
  return t->shape;
}
