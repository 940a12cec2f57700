/* grd-vk-value.c: values of a Vulkan function: runtime shapes and device buffers per slot. */
#include "grd-vk-function-private.h"

#include <string.h>

gsize
grd_vk_device_size (GrdDType dtype)
{
  return dtype == GRD_DTYPE_BOOL ? 4 : grd_dtype_size (dtype);
}

GrdVkValue *
grd_vk_slot (GrdVkFunction *fn, GrdRef r)
{
  return &fn->values[fn->slot_base[r.node] + r.output];
}

GrdNode *
grd_vk_node_at (GrdVkFunction *fn, gint i)
{
  return grd_graph_node (fn->graph, i);
}

/* The node whose value tensor constant or shared node i reads and writes:
 * the user's shared variable when fn->graph is a rewritten copy. */
GrdNode *
grd_vk_leaf_node (GrdVkFunction *fn, gint i)
{
  if (fn->origin && fn->origin_of[i] >= 0)
    return grd_graph_node (fn->origin, fn->origin_of[i]);
  return grd_graph_node (fn->graph, i);
}

void
grd_vk_function_set_origin (GrdVkFunction *fn, GrdGraph *origin, const gint *origin_of)
{
  gint n = grd_graph_n_nodes (fn->graph);
  fn->origin = grd_graph_ref (origin);
  fn->origin_of = g_new (gint, MAX (n, 1));
  memcpy (fn->origin_of, origin_of, sizeof (gint) * (gsize) n);
  /* the function computing step counts and conditions first reads the same leaves */
  if (fn->pre)
    grd_vk_function_set_origin (fn->pre, origin, origin_of);
}

void
grd_vk_contiguous (gint rank, const gint64 *shape, gint64 *strides)
{
  gint64 s = 1;
  for (gint d = rank - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
}

void
grd_vk_value_set_shape (GrdVkValue *v, GrdDType dtype, gint rank, const gint64 *shape)
{
  v->dtype = dtype;
  v->rank = rank;
  memcpy (v->shape, shape, sizeof (gint64) * rank);
  v->size = grd_shape_size (rank, shape);
}

void
grd_vk_value_drop (GrdVkValue *v)
{
  g_clear_pointer (&v->buf, grd_vk_buffer_unref);
  v->borrowed = FALSE;
}

/* A buffer of the value's own, reused when nobody else holds it and it is big enough. */
gboolean
grd_vk_value_own (GrdVkFunction *fn, GrdVkValue *v, GError **error)
{
  VkDeviceSize bytes = MAX ((VkDeviceSize) v->size * grd_vk_device_size (v->dtype), 16);
  if (v->buf && !v->borrowed && v->buf->ref_count == 1 && v->buf->size >= bytes)
    return TRUE;
  grd_vk_value_drop (v);
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
