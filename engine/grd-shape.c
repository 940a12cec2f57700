/* grd-shape.c: NumPy broadcasting and axis arguments, static and at run time. */
#include "grd-internal.h"

#include <string.h>

gboolean
grd_broadcast_types (const GrdType *in, gint n_in, gint rank_out, gint64 *dims_out, GError **error)
{
  for (gint d = 0; d < rank_out; d++)
    dims_out[d] = 1;
  /* Per output axis: a known size > 1 wins; unknown beats 1. */
  for (gint d = 0; d < rank_out; d++) {
    gboolean unknown = FALSE;
    gint64 known = 1;
    for (gint i = 0; i < n_in; i++) {
      gint k = d - (rank_out - in[i].rank);
      if (k < 0)
        continue;
      gint64 v = in[i].dims[k];
      if (v < 0)
        unknown = TRUE;
      else if (v != 1) {
        if (known != 1 && known != v) {
          g_autoptr (GString) msg = g_string_new ("shapes ");
          for (gint j = 0; j < n_in; j++) {
            g_autofree char *t = grd_dims_describe (in[j].rank, in[j].dims);
            g_string_append_printf (msg, "%s%s", j ? " and " : "", t);
          }
          g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "%s do not broadcast (axis %d: %"
                       G_GINT64_FORMAT " against %" G_GINT64_FORMAT ")", msg->str, d, known, v);
          return FALSE;
        }
        known = v;
      }
    }
    dims_out[d] = known != 1 ? known : (unknown ? GRD_DIM_UNKNOWN : 1);
  }
  return TRUE;
}

gboolean
grd_broadcast_shapes (GrdTensor *const *in, gint n_in, gint *rank_out, gint64 *shape_out,
                      GError **error)
{
  gint rank = 0;
  for (gint i = 0; i < n_in; i++)
    rank = MAX (rank, in[i]->rank);
  for (gint d = 0; d < rank; d++) {
    gint64 size = 1;
    for (gint i = 0; i < n_in; i++) {
      gint k = d - (rank - in[i]->rank);
      if (k < 0)
        continue;
      gint64 v = in[i]->shape[k];
      if (v == 1)
        continue;
      if (size != 1 && size != v) {
        g_autoptr (GString) msg = g_string_new ("shapes ");
        for (gint j = 0; j < n_in; j++) {
          g_autofree char *t = grd_dims_describe (in[j]->rank, in[j]->shape);
          g_string_append_printf (msg, "%s%s", j ? " and " : "", t);
        }
        g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "%s do not broadcast", msg->str);
        return FALSE;
      }
      size = v;
    }
    shape_out[d] = size;
  }
  *rank_out = rank;
  return TRUE;
}

void
grd_broadcast_strides (const GrdTensor *t, gint rank, const gint64 *shape, gint64 *strides_out)
{
  gint64 stride = 1;
  for (gint d = rank - 1; d >= 0; d--) {
    gint k = d - (rank - t->rank);
    if (k < 0) {
      strides_out[d] = 0;
      continue;
    }
    strides_out[d] = (t->shape[k] == 1 && shape[d] != 1) ? 0 : stride;
    stride = grd_dim_mul (stride, t->shape[k]);
  }
}

gboolean
grd_axes_mask (const GrdAttrs *attrs, gint rank, gboolean *mask, GError **error)
{
  memset (mask, 0, sizeof (gboolean) * GRD_MAX_RANK);
  if (!attrs || !attrs->has_axis) {
    for (gint d = 0; d < rank; d++)
      mask[d] = TRUE;
    return TRUE;
  }
  for (gint i = 0; i < attrs->n_axes; i++) {
    gint a = attrs->axes[i];
    if (a < -rank || a >= rank) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                   "axis %d is out of range for an input of rank %d", a, rank);
      return FALSE;
    }
    if (a < 0)
      a += rank;
    if (mask[a]) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "axis %d is repeated", attrs->axes[i]);
      return FALSE;
    }
    mask[a] = TRUE;
  }
  return TRUE;
}

gboolean
grd_axis_single (const GrdAttrs *attrs, gint rank, gint fallback, gint *axis, GError **error)
{
  gint a = fallback;
  if (attrs && attrs->has_axis) {
    if (attrs->n_axes != 1) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "expected a single axis, got %d",
                   attrs->n_axes);
      return FALSE;
    }
    a = attrs->axes[0];
  }
  if (a < -rank || a >= rank) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                 "axis %d is out of range for an input of rank %d", a, rank);
    return FALSE;
  }
  *axis = a < 0 ? a + rank : a;
  return TRUE;
}
