/* ops-integer.c: NumPy's `%` and `//` (mod, floor_div), broadcasting, of the
 * promoted dtype. The sign of `%` follows the divisor; floats follow NumPy's
 * npy_divmod to the bit (float32 in float32 arithmetic); integers divide by
 * zero to 0, as NumPy does (it only warns).
 * Gradients (Theano's): d(a % b) = g da - g (a // b) db; floor_div's is zero
 * almost everywhere (disconnected); integer results have none. */
#include "../grd-internal.h"

#include <math.h>

/* npy_divmod: the floor quotient and the modulus with the divisor's sign. */
static void
divmod_f64 (double a, double b, double *floordiv, double *mod)
{
  double m = fmod (a, b);
  if (b == 0) {
    *mod = m;
    *floordiv = a / b;
    return;
  }
  double div = (a - m) / b;
  if (m != 0) {
    if ((b < 0) != (m < 0)) {
      m += b;
      div -= 1.0;
    }
  } else {
    m = copysign (0.0, b);
  }
  double fd;
  if (div != 0) {
    fd = floor (div);
    if (div - fd > 0.5)
      fd += 1.0;
  } else {
    fd = copysign (0.0, a / b);
  }
  *mod = m;
  *floordiv = fd;
}

static void
divmod_f32 (float a, float b, float *floordiv, float *mod)
{
  float m = fmodf (a, b);
  if (b == 0) {
    *mod = m;
    *floordiv = a / b;
    return;
  }
  float div = (a - m) / b;
  if (m != 0) {
    if ((b < 0) != (m < 0)) {
      m += b;
      div -= 1.0f;
    }
  } else {
    m = copysignf (0.0f, b);
  }
  float fd;
  if (div != 0) {
    fd = floorf (div);
    if (div - fd > 0.5f)
      fd += 1.0f;
  } else {
    fd = copysignf (0.0f, a / b);
  }
  *mod = m;
  *floordiv = fd;
}

/* Python's floor division of integers; x // 0 and x % 0 are 0 (NumPy). */
static void
divmod_i64 (gint64 a, gint64 b, gint64 *floordiv, gint64 *mod)
{
  if (b == 0) {
    *floordiv = 0;
    *mod = 0;
    return;
  }
  if (b == -1) {  /* G_MININT64 / -1 overflows in C; NumPy wraps to G_MININT64 */
    *floordiv = (gint64) (0 - (guint64) a);
    *mod = 0;
    return;
  }
  gint64 q = a / b, r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) {
    q -= 1;
    r += b;
  }
  *floordiv = q;
  *mod = r;
}

static gboolean
divmod_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  GrdDType dt = grd_dtype_promote (in[0].dtype, in[1].dtype);
  if (dt == GRD_DTYPE_BOOL) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE,
                 "expected numbers, not two bool inputs (cast one of them first)");
    return FALSE;
  }
  gint rank = MAX (in[0].rank, in[1].rank);
  gint64 dims[GRD_MAX_RANK];
  if (!grd_broadcast_types (in, 2, rank, dims, error))
    return FALSE;
  grd_type_set (out, dt, rank, dims);
  return TRUE;
}

static gboolean
divmod_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error,
             gboolean want_mod)
{
  gint rank;
  gint64 shape[GRD_MAX_RANK], sa[GRD_MAX_RANK], sb[GRD_MAX_RANK], idx[GRD_MAX_RANK] = { 0 };
  if (!grd_broadcast_shapes (in, 2, &rank, shape, error))
    return FALSE;
  GrdDType dt = grd_dtype_promote (in[0]->dtype, in[1]->dtype);
  g_autoptr (GrdTensor) a = grd_tensor_try_cast (in[0], dt, error);
  g_autoptr (GrdTensor) b = a ? grd_tensor_try_cast (in[1], dt, error) : NULL;
  if (!b)
    return FALSE;
  GrdTensor *o = grd_tensor_try_new (dt, rank, shape, error);
  if (!o)
    return FALSE;
  grd_broadcast_strides (a, rank, shape, sa);
  grd_broadcast_strides (b, rank, shape, sb);
  gint64 ia = 0, ib = 0;
  for (gint64 i = 0; i < o->size; i++) {
    switch (dt) {
    case GRD_DTYPE_FLOAT32: {
      float q, m;
      divmod_f32 (((const float *) a->data)[ia], ((const float *) b->data)[ib], &q, &m);
      ((float *) o->data)[i] = want_mod ? m : q;
      break;
    }
    case GRD_DTYPE_FLOAT64: {
      double q, m;
      divmod_f64 (((const double *) a->data)[ia], ((const double *) b->data)[ib], &q, &m);
      ((double *) o->data)[i] = want_mod ? m : q;
      break;
    }
    case GRD_DTYPE_INT32: {
      gint64 q, m;
      divmod_i64 (((const gint32 *) a->data)[ia], ((const gint32 *) b->data)[ib], &q, &m);
      /* G_MININT32 // -1 wraps, as in NumPy */
      ((gint32 *) o->data)[i] = (gint32) (guint32) (want_mod ? m : q);
      break;
    }
    default: {
      gint64 q, m;
      divmod_i64 (((const gint64 *) a->data)[ia], ((const gint64 *) b->data)[ib], &q, &m);
      ((gint64 *) o->data)[i] = want_mod ? m : q;
      break;
    }
    }
    for (gint d = rank - 1; d >= 0; d--) {
      ia += sa[d];
      ib += sb[d];
      if (++idx[d] < shape[d])
        break;
      ia -= sa[d] * shape[d];
      ib -= sb[d] * shape[d];
      idx[d] = 0;
    }
  }
  out[0] = o;
  return TRUE;
}

static gboolean
mod_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  return divmod_eval (node, in, out, error, TRUE);
}

static gboolean
floor_div_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  return divmod_eval (node, in, out, error, FALSE);
}

static gboolean
mod_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
          GrdRef *ig, GError **error)
{
  if (!grd_dtype_is_float (node->types[0].dtype))
    return TRUE;
  GrdRef a = node->inputs[0], b = node->inputs[1];
  if (needed[0] && grd_dtype_is_float (grd_graph_ref_type (g, a)->dtype))
    ig[0] = grd_build_reduce_to (g, error, og[0], a);
  if (needed[1] && grd_dtype_is_float (grd_graph_ref_type (g, b)->dtype)) {
    GrdRef q = grd_build (g, error, "floor_div", NULL, 2, a, b);
    GrdRef t = grd_build (g, error, "neg", NULL, 1, grd_build (g, error, "mul", NULL, 2, og[0], q));
    ig[1] = grd_build_reduce_to (g, error, t, b);
  }
  return !*error;
}

static gboolean
floor_div_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
                GrdRef *ig, GError **error)
{
  /* a step function: zero almost everywhere */
  return TRUE;
}

static const GrdOpDef integer_ops[] = {
  { "mod", "arithmetic", 2, 2, 1, divmod_infer, mod_eval, mod_grad },
  { "floor_div", "arithmetic", 2, 2, 1, divmod_infer, floor_div_eval, floor_div_grad },
};

void
grd_ops_register_integer (GrdOpRegisterFunc add)
{
  for (gsize i = 0; i < G_N_ELEMENTS (integer_ops); i++)
    add (&integer_ops[i]);
}
