/* grd-vk-host.c: values a Vulkan function knows on the host at each call:
 * shape (from the runtime shapes), arange and the scalar arithmetic that
 * feeds it (from inputs and constants, by the ops' reference kernels). They
 * are uploaded with the inputs; arange's length then fixes its shape before
 * anything is recorded. */
#include "grd-vk-function-private.h"

#include <string.h>

static GrdTensor *
shape_value (GrdVkFunction *fn, const GrdNode *node, GError **error)
{
  GrdVkValue *x = grd_vk_slot (fn, node->inputs[0]);
  if (node->attrs.has_axis) {
    gint axis;
    if (!grd_axis_single (&node->attrs, x->rank, 0, &axis, error))
      return NULL;
    GrdTensor *t = grd_tensor_new_scalar (GRD_DTYPE_INT64, 0);
    ((gint64 *) t->data)[0] = x->shape[axis];
    return t;
  }
  gint64 n = x->rank;
  GrdTensor *t = grd_tensor_new (GRD_DTYPE_INT64, 1, &n);
  memcpy (t->data, x->shape, sizeof (gint64) * x->rank);
  return t;
}

gboolean
grd_vk_host_value (GrdVkFunction *fn, gint i, GError **error)
{
  GrdNode *node = grd_vk_node_at (fn, i);
  g_autoptr (GError) local = NULL;
  GrdTensor *t = NULL;
  if (!strcmp (node->op->name, "shape")) {
    t = shape_value (fn, node, &local);
  } else {
    GrdTensor *in[GRD_VK_MAX_BINDINGS] = { NULL };
    for (gint j = 0; j < node->n_inputs && j < GRD_VK_MAX_BINDINGS; j++) {
      GrdNode *src = grd_vk_node_at (fn, node->inputs[j].node);
      in[j] = src->kind == GRD_NODE_CONSTANT ? src->value : fn->host_val[node->inputs[j].node];
      if (!in[j]) {
        g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                     "node '%s' (%s): input %d ('%s') is not known before the call", node->id,
                     node->op->name, j, src->id);
        return FALSE;
      }
    }
    GrdTensor *out[1] = { NULL };
    if (node->op->eval (node, in, out, &local))
      t = out[0];
  }
  if (!t) {
    g_set_error (error, GRD_ERROR, local ? local->code : GRD_ERROR_VALUE, "node '%s' (%s): %s",
                 node->id, node->op->name, local ? local->message : "no value");
    return FALSE;
  }
  if (t->dtype != node->types[0].dtype) {
    GrdTensor *c = grd_tensor_cast (t, node->types[0].dtype);
    grd_tensor_unref (t);
    t = c;
  }
  g_clear_pointer (&fn->host_val[i], grd_tensor_unref);
  fn->host_val[i] = t;
  return TRUE;
}
