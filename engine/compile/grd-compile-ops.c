/* grd-compile-ops.c: ops that only the compiler's rewrites introduce.
 *   _crossentropy_logits (x, t)  categorical_crossentropy(softmax(x), t) for
 *                                integer classes t, as logsumexp(x) - x[t]:
 *                                finite for any finite logits. */
#include "grd-program.h"

#include <math.h>

static gboolean
ce_logits_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  if (!grd_dtype_is_float (in[0].dtype) || grd_dtype_is_float (in[1].dtype) || in[0].rank < 1
      || in[1].rank != in[0].rank - 1) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE,
                 "expected float logits of rank r >= 1 and integer classes of rank r-1");
    return FALSE;
  }
  grd_type_set (out, in[0].dtype, in[1].rank, in[0].dims);
  return TRUE;
}

static gboolean
ce_logits_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdTensor *x = in[0], *t = in[1];
  gint64 c = x->shape[x->rank - 1];
  for (gint d = 0; d < t->rank; d++)
    if (t->shape[d] != x->shape[d]) {
      g_autofree char *a = grd_tensor_describe (x), *b = grd_tensor_describe (t);
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "classes %s do not match logits %s", b, a);
      return FALSE;
    }
  GrdTensor *o = grd_tensor_try_new (x->dtype, t->rank, x->shape, error);
  if (!o)
    return FALSE;
  for (gint64 r = 0; r < o->size; r++) {
    gint64 k = (gint64) grd_tensor_get (t, r);
    if (k < 0 || k >= c) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE,
                   "class index %" G_GINT64_FORMAT " is out of range for %" G_GINT64_FORMAT " classes", k, c);
      grd_tensor_unref (o);
      return FALSE;
    }
    double m = -INFINITY;
    for (gint64 j = 0; j < c; j++)
      m = fmax (m, grd_tensor_get (x, r * c + j));
    double s = 0;
    for (gint64 j = 0; j < c; j++)
      s += exp (grd_tensor_get (x, r * c + j) - m);
    grd_tensor_set (o, r, m + log (s) - grd_tensor_get (x, r * c + k));
  }
  *out = o;
  return TRUE;
}

static const GrdOpDef compiler_ops[] = {
  { "_crossentropy_logits", "internal", 2, 2, 1, ce_logits_infer, ce_logits_eval, NULL },
};

void
grd_ops_register_compiler (GrdOpRegisterFunc add)
{
  for (gsize i = 0; i < G_N_ELEMENTS (compiler_ops); i++)
    add (&compiler_ops[i]);
}
