/* ops-internal.c: helper ops that gradient rules build and users rarely do.
 * Their names start with '_'; they are not in the palette but files may use them.
 *   _broadcast_to (a, like)  a broadcast to the shape of broadcast(a, like)
 *   _reduce_to (g, x)        g summed back to the shape of x (undoes broadcasting)
 *   _reshape_like (a, like)  a reshaped to the shape of like (same size) */
#include "../grd-internal.h"

#include <string.h>

static gboolean
broadcast_to_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  gint rank = MAX (in[0].rank, in[1].rank);
  gint64 dims[GRD_MAX_RANK];
  if (!grd_broadcast_types (in, 2, rank, dims, error))
    return FALSE;
  grd_type_set (out, in[0].dtype, rank, dims);
  return TRUE;
}

static gboolean
broadcast_to_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  gint rank;
  gint64 shape[GRD_MAX_RANK], strides[GRD_MAX_RANK], idx[GRD_MAX_RANK] = { 0 };
  if (!grd_broadcast_shapes (in, 2, &rank, shape, error))
    return FALSE;
  GrdTensor *a = in[0];
  GrdTensor *o = grd_tensor_try_new (a->dtype, rank, shape, error);
  if (!o)
    return FALSE;
  grd_broadcast_strides (a, rank, shape, strides);
  gsize es = grd_dtype_size (a->dtype);
  gint64 src = 0;
  for (gint64 i = 0; i < o->size; i++) {
    memcpy ((char *) o->data + i * es, (char *) a->data + src * es, es);
    for (gint d = rank - 1; d >= 0; d--) {
      src += strides[d];
      if (++idx[d] < shape[d])
        break;
      src -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
  out[0] = o;
  return TRUE;
}

static gboolean
broadcast_to_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
                   GrdRef *ig, GError **error)
{
  if (needed[0])
    ig[0] = grd_build_reduce_to (g, error, og[0], node->inputs[0]);
  return !*error;
}

static gboolean
reduce_to_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  if (in[1].rank > in[0].rank) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "cannot sum rank %d down to rank %d",
                 in[0].rank, in[1].rank);
    return FALSE;
  }
  grd_type_set (out, in[0].dtype, in[1].rank, in[1].dims);
  return TRUE;
}

static gboolean
reduce_to_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdTensor *gr = in[0], *x = in[1];
  gint rank = gr->rank, lead = gr->rank - x->rank;
  if (lead < 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "cannot sum rank %d down to rank %d",
                 gr->rank, x->rank);
    return FALSE;
  }
  for (gint d = 0; d < x->rank; d++)
    if (x->shape[d] != 1 && x->shape[d] != gr->shape[d + lead]) {
      g_autofree char *a = grd_tensor_describe (gr), *b = grd_tensor_describe (x);
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "cannot sum %s down to the shape of %s", a, b);
      return FALSE;
    }
  /* Accumulate in double (float32 sums of broadcast gradients stay accurate). */
  g_autoptr (GrdTensor) o = grd_tensor_try_new (gr->dtype, x->rank, x->shape, error);
  if (!o)
    return FALSE;
  g_autofree double *acc = grd_scratch_try_new ((gsize) o->size, sizeof (double), error);
  if (!acc)
    return FALSE;
  gint64 ostride[GRD_MAX_RANK], idx[GRD_MAX_RANK] = { 0 };
  gint64 s = 1;
  for (gint d = rank - 1; d >= 0; d--) {
    gint k = d - lead;
    if (k < 0 || x->shape[k] == 1)
      ostride[d] = 0;
    else
      ostride[d] = s;
    if (k >= 0)
      s = grd_dim_mul (s, x->shape[k]);
  }
  gint64 dst = 0;
  for (gint64 i = 0; i < gr->size; i++) {
    acc[dst] += grd_tensor_get (gr, i);
    for (gint d = rank - 1; d >= 0; d--) {
      dst += ostride[d];
      if (++idx[d] < gr->shape[d])
        break;
      dst -= ostride[d] * gr->shape[d];
      idx[d] = 0;
    }
  }
  for (gint64 i = 0; i < o->size; i++)
    grd_tensor_set (o, i, acc[i]);
  out[0] = g_steal_pointer (&o);
  return TRUE;
}

static gboolean
reduce_to_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
                GrdRef *ig, GError **error)
{
  if (needed[0])
    ig[0] = grd_build (g, error, "_broadcast_to", NULL, 2, og[0], node->inputs[0]);
  return !*error;
}

static gboolean
reshape_like_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  grd_type_set (out, in[0].dtype, in[1].rank, in[1].dims);
  return TRUE;
}

static gboolean
reshape_like_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  if (in[0]->size != in[1]->size) {
    g_autofree char *a = grd_tensor_describe (in[0]), *b = grd_tensor_describe (in[1]);
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "cannot reshape %s to the shape of %s", a, b);
    return FALSE;
  }
  GrdTensor *o = grd_tensor_try_new (in[0]->dtype, in[1]->rank, in[1]->shape, error);
  if (!o)
    return FALSE;
  memcpy (o->data, in[0]->data, (gsize) o->size * grd_dtype_size (o->dtype));
  out[0] = o;
  return TRUE;
}

static gboolean
reshape_like_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
                   GrdRef *ig, GError **error)
{
  if (needed[0])
    ig[0] = grd_build (g, error, "_reshape_like", NULL, 2, og[0], node->inputs[0]);
  return !*error;
}

static const GrdOpDef internal_ops[] = {
  { "_broadcast_to", "internal", 2, 2, 1, broadcast_to_infer, broadcast_to_eval, broadcast_to_grad },
  { "_reduce_to", "internal", 2, 2, 1, reduce_to_infer, reduce_to_eval, reduce_to_grad },
  { "_reshape_like", "internal", 2, 2, 1, reshape_like_infer, reshape_like_eval, reshape_like_grad },
};

void
grd_ops_register_internal (GrdOpRegisterFunc add)
{
  for (gsize i = 0; i < G_N_ELEMENTS (internal_ops); i++)
    add (&internal_ops[i]);
}
