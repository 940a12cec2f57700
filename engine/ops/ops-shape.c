/* ops-shape.c: the shape ops (transpose, reshape, dimshuffle, flatten,
 * concatenate, stack, slice), take, and the internal ops their gradients build:
 *   _concat_part (g, x0, ..., xn)  attrs axis; attrs depth is the part index i:
 *                                  the block of g along axis that lines up with x_i
 *   _slice_grad (g, x)             slice attrs: zeros shaped like x with g written
 *                                  where slice(x) reads
 *   _take_grad (g, x, idx)         attrs axis: zeros shaped like x with g added
 *                                  where take(x, idx) reads
 * The internal ops take the shapes they need from inputs at run time, so the
 * gradients work when the static dims are unknown. Kernels move bytes, so
 * every dtype shares them. */
#include "../grd-internal.h"

#include <string.h>

/* ------------------------------------------------------------ helpers */

static void
contiguous_strides (gint rank, const gint64 *shape, gint64 *strides)
{
  gint64 s = 1;
  for (gint d = rank - 1; d >= 0; d--) {
    strides[d] = s;
    s = grd_dim_mul (s, shape[d]);
  }
}

static char *
shape_text (gint rank, const gint64 *dims)
{
  GString *s = g_string_new ("[");
  for (gint i = 0; i < rank; i++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? "," : "", dims[i]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

static inline void
move_row (char *dense, char *strided, gint64 n, gint64 stride, gsize es, gboolean gather)
{
  if (stride == 1) {
    if (gather)
      memcpy (dense, strided, (gsize) n * es);
    else
      memcpy (strided, dense, (gsize) n * es);
    return;
  }
#define MOVE(T)                                                   \
  for (gint64 i = 0; i < n; i++) {                                \
    if (gather)                                                   \
      ((T *) dense)[i] = ((const T *) strided)[i * stride];       \
    else                                                          \
      ((T *) strided)[i * stride] = ((const T *) dense)[i];       \
  }
  switch (es) {
  case 1: MOVE (guint8); break;
  case 4: MOVE (guint32); break;
  case 8: MOVE (guint64); break;
  default: g_assert_not_reached ();
  }
#undef MOVE
}

/* A rows x cols plane whose strided side is contiguous down the rows and
 * `col_stride` apart across them (a transpose): copied in square tiles so
 * that both sides stay in cache. */
static void
move_tiled (char *dense, char *strided, gint64 rows, gint64 cols, gint64 col_stride, gsize es,
            gboolean gather)
{
  enum { TILE = 32 };
  for (gint64 i0 = 0; i0 < rows; i0 += TILE)
    for (gint64 j0 = 0; j0 < cols; j0 += TILE) {
      gint64 i1 = MIN (i0 + TILE, rows), j1 = MIN (j0 + TILE, cols);
#define MOVE(T)                                                   \
  for (gint64 i = i0; i < i1; i++)                                \
    for (gint64 j = j0; j < j1; j++) {                            \
      T *d = (T *) dense + i * cols + j;                          \
      T *s = (T *) strided + i + j * col_stride;                  \
      if (gather)                                                 \
        *d = *s;                                                  \
      else                                                        \
        *s = *d;                                                  \
    }
      switch (es) {
      case 1: MOVE (guint8); break;
      case 4: MOVE (guint32); break;
      case 8: MOVE (guint64); break;
      default: g_assert_not_reached ();
      }
#undef MOVE
    }
}

/* Walks `dense` (row-major over its own shape) against `strided` read or
 * written at element offset + sum(idx[d] * strides[d]); gather copies from
 * strided into dense, scatter the other way. Strides may be 0 or negative. */
static void
move_strided (GrdTensor *strided, gint64 offset, const gint64 *strides, GrdTensor *dense,
              gboolean gather)
{
  gint rank = dense->rank;
  gsize es = grd_dtype_size (dense->dtype);
  char *sp = strided->data, *dp = dense->data;
  if (dense->size == 0)
    return;
  if (rank == 0) {
    move_row (dp, sp + offset * es, 1, 1, es, gather);
    return;
  }
  gint64 n = dense->shape[rank - 1], idx[GRD_MAX_RANK] = { 0 }, pos = offset;
  if (rank >= 2 && strides[rank - 2] == 1 && strides[rank - 1] != 1 && n >= 8
      && dense->shape[rank - 2] >= 8) {
    gint64 m = dense->shape[rank - 2], planes = dense->size / (m * n);
    for (gint64 p = 0; p < planes; p++) {
      move_tiled (dp + p * m * n * es, sp + pos * es, m, n, strides[rank - 1], es, gather);
      for (gint d = rank - 3; d >= 0; d--) {
        pos += strides[d];
        if (++idx[d] < dense->shape[d])
          break;
        pos -= strides[d] * dense->shape[d];
        idx[d] = 0;
      }
    }
    return;
  }
  gint64 rows = dense->size / n;
  for (gint64 r = 0; r < rows; r++) {
    move_row (dp + r * n * es, sp + pos * es, n, strides[rank - 1], es, gather);
    for (gint d = rank - 2; d >= 0; d--) {
      pos += strides[d];
      if (++idx[d] < dense->shape[d])
        break;
      pos -= strides[d] * dense->shape[d];
      idx[d] = 0;
    }
  }
}

static GrdTensor *
copy_reshaped (const GrdTensor *x, gint rank, const gint64 *shape, GError **error)
{
  GrdTensor *o = grd_tensor_try_new (x->dtype, rank, shape, error);
  if (!o)
    return NULL;
  memcpy (o->data, x->data, (gsize) x->size * grd_dtype_size (x->dtype));
  return o;
}

/* ------------------------------------------------------------ transpose */

static gboolean
transpose_perm (const GrdAttrs *attrs, gint rank, gint *perm, GError **error)
{
  if (attrs->n_perm == 0) {
    for (gint i = 0; i < rank; i++)
      perm[i] = rank - 1 - i;
    return TRUE;
  }
  if (attrs->n_perm != rank) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                 "perm has %d entries for an input of rank %d", attrs->n_perm, rank);
    return FALSE;
  }
  gboolean seen[GRD_MAX_RANK] = { FALSE };
  for (gint i = 0; i < rank; i++) {
    gint a = attrs->perm[i];
    if (a < -rank || a >= rank || seen[a < 0 ? a + rank : a]) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                   "perm is not a permutation of the %d axes (entry %d is %d)", rank, i, a);
      return FALSE;
    }
    perm[i] = a < 0 ? a + rank : a;
    seen[perm[i]] = TRUE;
  }
  return TRUE;
}

static gboolean
transpose_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  gint perm[GRD_MAX_RANK];
  if (!transpose_perm (attrs, in[0].rank, perm, error))
    return FALSE;
  gint64 dims[GRD_MAX_RANK];
  for (gint i = 0; i < in[0].rank; i++)
    dims[i] = in[0].dims[perm[i]];
  grd_type_set (out, in[0].dtype, in[0].rank, dims);
  return TRUE;
}

static gboolean
transpose_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdTensor *x = in[0];
  gint perm[GRD_MAX_RANK];
  if (!transpose_perm (&node->attrs, x->rank, perm, error))
    return FALSE;
  gint64 xs[GRD_MAX_RANK], shape[GRD_MAX_RANK], strides[GRD_MAX_RANK];
  contiguous_strides (x->rank, x->shape, xs);
  for (gint i = 0; i < x->rank; i++) {
    shape[i] = x->shape[perm[i]];
    strides[i] = xs[perm[i]];
  }
  out[0] = grd_tensor_try_new (x->dtype, x->rank, shape, error);
  if (!out[0])
    return FALSE;
  move_strided (x, 0, strides, out[0], TRUE);
  return TRUE;
}

static gboolean
transpose_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
                GrdRef *ig, GError **error)
{
  gint rank = grd_graph_ref_type (g, node->inputs[0])->rank;
  gint perm[GRD_MAX_RANK];
  if (!transpose_perm (&node->attrs, rank, perm, error))
    return FALSE;
  GrdAttrs a;
  grd_attrs_init (&a);
  a.n_perm = rank;
  for (gint i = 0; i < rank; i++)
    a.perm[perm[i]] = i;
  ig[0] = grd_build (g, error, "transpose", &a, 1, og[0]);
  return !*error;
}

/* ------------------------------------------------------------ reshape and flatten */

/* The shape of reshape with sizes known (size >= 0) or not (size < 0):
 * the -1 entry becomes the inferred size, or unknown. */
static gboolean
reshape_dims (const GrdAttrs *attrs, gint64 size, gint64 *dims, GError **error)
{
  gint neg = -1;
  gint64 prod = 1;
  if (attrs->n_shape < 0 || attrs->n_shape > GRD_MAX_RANK) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "shape has %d entries (at most %d)",
                 attrs->n_shape, GRD_MAX_RANK);
    return FALSE;
  }
  for (gint i = 0; i < attrs->n_shape; i++) {
    gint64 s = attrs->shape[i];
    dims[i] = s;
    if (s == -1 && neg < 0)
      neg = i;
    else if (s == -1) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "shape may have only one -1");
      return FALSE;
    } else if (s < 0) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                   "shape has the negative size %" G_GINT64_FORMAT, s);
      return FALSE;
    } else
      prod = grd_dim_mul (prod, s);
  }
  if (neg >= 0)
    dims[neg] = GRD_DIM_UNKNOWN;
  if (size < 0)
    return TRUE;
  gboolean ok;
  if (neg >= 0) {
    ok = prod != 0 && size % prod == 0;
    if (ok)
      dims[neg] = size / prod;
  } else
    ok = prod == size;
  if (!ok) {
    GString *s = g_string_new ("[");
    for (gint i = 0; i < attrs->n_shape; i++)
      g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? "," : "", attrs->shape[i]);
    g_string_append_c (s, ']');
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                 "cannot reshape an array of %" G_GINT64_FORMAT " elements into shape %s", size,
                 s->str);
    g_string_free (s, TRUE);
    return FALSE;
  }
  return TRUE;
}

static gint64
static_size (const GrdType *t)
{
  gint64 n = 1;
  for (gint i = 0; i < t->rank; i++) {
    if (t->dims[i] < 0)
      return -1;
    n = grd_dim_mul (n, t->dims[i]);
  }
  return n;
}

static gboolean
reshape_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  gint64 dims[GRD_MAX_RANK];
  if (!reshape_dims (attrs, static_size (&in[0]), dims, error))
    return FALSE;
  grd_type_set (out, in[0].dtype, attrs->n_shape, dims);
  return TRUE;
}

static gboolean
reshape_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  gint64 dims[GRD_MAX_RANK];
  if (!reshape_dims (&node->attrs, in[0]->size, dims, error))
    return FALSE;
  out[0] = copy_reshaped (in[0], node->attrs.n_shape, dims, error);
  return out[0] != NULL;
}

static gboolean
reshape_like_input_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og,
                         const gboolean *needed, GrdRef *ig, GError **error)
{
  ig[0] = grd_build (g, error, "_reshape_like", NULL, 2, og[0], node->inputs[0]);
  return !*error;
}

/* Theano's flatten: keep the first ndim-1 axes, fold the rest into the last. */
static gboolean
flatten_check (const GrdAttrs *attrs, gint rank, GError **error)
{
  if (attrs->ndim < 1 || (attrs->ndim > 1 && attrs->ndim > rank)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                 "ndim %d is not in 1..%d for an input of rank %d", attrs->ndim, MAX (rank, 1),
                 rank);
    return FALSE;
  }
  return TRUE;
}

static gboolean
flatten_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  if (!flatten_check (attrs, in[0].rank, error))
    return FALSE;
  gint nd = attrs->ndim;
  gint64 dims[GRD_MAX_RANK], last = 1;
  for (gint i = 0; i < nd - 1; i++)
    dims[i] = in[0].dims[i];
  for (gint i = nd - 1; i < in[0].rank; i++)
    last = (last < 0 || in[0].dims[i] < 0) ? GRD_DIM_UNKNOWN : last * in[0].dims[i];
  dims[nd - 1] = last;
  grd_type_set (out, in[0].dtype, nd, dims);
  return TRUE;
}

static gboolean
flatten_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdTensor *x = in[0];
  if (!flatten_check (&node->attrs, x->rank, error))
    return FALSE;
  gint nd = node->attrs.ndim;
  gint64 dims[GRD_MAX_RANK], last = 1;
  for (gint i = 0; i < nd - 1; i++)
    dims[i] = x->shape[i];
  for (gint i = nd - 1; i < x->rank; i++)
    last = grd_dim_mul (last, x->shape[i]);
  dims[nd - 1] = last;
  out[0] = copy_reshaped (x, nd, dims, error);
  return out[0] != NULL;
}

/* ------------------------------------------------------------ dimshuffle */

static gboolean
dimshuffle_check (const GrdAttrs *attrs, gint rank, gboolean *kept, GError **error)
{
  memset (kept, 0, sizeof (gboolean) * GRD_MAX_RANK);
  if (attrs->n_pattern < 0 || attrs->n_pattern > GRD_MAX_RANK) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "pattern has %d entries (at most %d)",
                 attrs->n_pattern, GRD_MAX_RANK);
    return FALSE;
  }
  for (gint i = 0; i < attrs->n_pattern; i++) {
    gint a = attrs->pattern[i];
    if (a == -1)
      continue;
    if (a < 0 || a >= rank || kept[a]) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                   "pattern entry %d (%d) is not an unused axis of an input of rank %d", i, a,
                   rank);
      return FALSE;
    }
    kept[a] = TRUE;
  }
  return TRUE;
}

static gboolean
dimshuffle_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  gboolean kept[GRD_MAX_RANK];
  if (!dimshuffle_check (attrs, in[0].rank, kept, error))
    return FALSE;
  for (gint a = 0; a < in[0].rank; a++)
    if (!kept[a] && in[0].dims[a] != 1) {
      g_autofree char *t = grd_type_describe (&in[0]);
      g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE,
                   "the pattern drops axis %d of %s, which is not broadcastable (size 1)", a, t);
      return FALSE;
    }
  gint64 dims[GRD_MAX_RANK];
  for (gint i = 0; i < attrs->n_pattern; i++)
    dims[i] = attrs->pattern[i] < 0 ? 1 : in[0].dims[attrs->pattern[i]];
  grd_type_set (out, in[0].dtype, attrs->n_pattern, dims);
  return TRUE;
}

static gboolean
dimshuffle_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdTensor *x = in[0];
  const GrdAttrs *attrs = &node->attrs;
  gboolean kept[GRD_MAX_RANK];
  if (!dimshuffle_check (attrs, x->rank, kept, error))
    return FALSE;
  for (gint a = 0; a < x->rank; a++)
    if (!kept[a] && x->shape[a] != 1) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "the pattern drops axis %d of size %"
                   G_GINT64_FORMAT, a, x->shape[a]);
      return FALSE;
    }
  gint64 xs[GRD_MAX_RANK], shape[GRD_MAX_RANK], strides[GRD_MAX_RANK];
  contiguous_strides (x->rank, x->shape, xs);
  for (gint i = 0; i < attrs->n_pattern; i++) {
    gint a = attrs->pattern[i];
    shape[i] = a < 0 ? 1 : x->shape[a];
    strides[i] = a < 0 ? 0 : xs[a];
  }
  out[0] = grd_tensor_try_new (x->dtype, attrs->n_pattern, shape, error);
  if (!out[0])
    return FALSE;
  move_strided (x, 0, strides, out[0], TRUE);
  return TRUE;
}

static gboolean
dimshuffle_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
                 GrdRef *ig, GError **error)
{
  const GrdAttrs *attrs = &node->attrs;
  gint rank = grd_graph_ref_type (g, node->inputs[0])->rank;
  const GrdType *tg = grd_graph_ref_type (g, og[0]);
  GrdRef gr = og[0];
  /* The "x" axes of g have size 1; sum them first only when the static type
   * does not show it (the dimshuffle below drops them). */
  GrdAttrs sa;
  grd_attrs_init (&sa);
  sa.has_axis = TRUE;
  sa.keepdims = TRUE;
  for (gint i = 0; i < attrs->n_pattern; i++)
    if (attrs->pattern[i] < 0 && tg->dims[i] != 1)
      sa.axes[sa.n_axes++] = i;
  if (sa.n_axes > 0)
    gr = grd_build (g, error, "sum", &sa, 1, gr);
  /* The inverse pattern: each input axis from where the pattern put it; the
   * dropped ones (size 1) come back as "x". */
  GrdAttrs inv;
  grd_attrs_init (&inv);
  inv.n_pattern = rank;
  for (gint a = 0; a < rank; a++)
    inv.pattern[a] = -1;
  for (gint i = 0; i < attrs->n_pattern; i++)
    if (attrs->pattern[i] >= 0)
      inv.pattern[attrs->pattern[i]] = i;
  ig[0] = grd_build (g, error, "dimshuffle", &inv, 1, gr);
  return !*error;
}

/* ------------------------------------------------------------ concatenate */

static gboolean
concatenate_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out,
                   GError **error)
{
  gint rank = in[0].rank, axis;
  if (rank == 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "cannot concatenate 0-d inputs");
    return FALSE;
  }
  if (!grd_axis_single (attrs, rank, 0, &axis, error))
    return FALSE;
  GrdDType dt = in[0].dtype;
  gint64 dims[GRD_MAX_RANK];
  memcpy (dims, in[0].dims, sizeof (gint64) * rank);
  for (gint i = 1; i < n_in; i++) {
    dt = grd_dtype_promote (dt, in[i].dtype);
    if (in[i].rank != rank) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                   "input %d has rank %d, input 0 has rank %d", i, in[i].rank, rank);
      return FALSE;
    }
    for (gint d = 0; d < rank; d++) {
      gint64 v = in[i].dims[d];
      if (d == axis)
        dims[d] = (dims[d] < 0 || v < 0) ? GRD_DIM_UNKNOWN : dims[d] + v;
      else if (dims[d] < 0)
        dims[d] = v;
      else if (v >= 0 && v != dims[d]) {
        g_autofree char *a = grd_type_describe (&in[0]), *b = grd_type_describe (&in[i]);
        g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                     "inputs 0 (%s) and %d (%s) differ on axis %d, which is not the axis %d "
                     "of concatenation", a, i, b, d, axis);
        return FALSE;
      }
    }
  }
  grd_type_set (out, dt, rank, dims);
  return TRUE;
}

/* Checks that the inputs agree except on `axis` (extra: -1 for none). */
static gboolean
same_except (GrdTensor *const *in, gint n_in, gint axis, GError **error)
{
  for (gint i = 1; i < n_in; i++) {
    gboolean ok = in[i]->rank == in[0]->rank;
    for (gint d = 0; ok && d < in[0]->rank; d++)
      ok = d == axis || in[i]->shape[d] == in[0]->shape[d];
    if (!ok) {
      g_autofree char *a = grd_tensor_describe (in[0]), *b = grd_tensor_describe (in[i]);
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "inputs 0 (%s) and %d (%s) do not fit "
                   "together", a, i, b);
      return FALSE;
    }
  }
  return TRUE;
}

/* Lays the inputs' blocks side by side: for each index of the axes before
 * `axis`, input i contributes inner[i] contiguous elements. */
static void
interleave_blocks (GrdTensor *const *in, gint n_in, gint64 outer, const gint64 *inner,
                   GrdTensor *o)
{
  gsize es = grd_dtype_size (o->dtype);
  char *dst = o->data;
  for (gint64 r = 0; r < outer; r++)
    for (gint i = 0; i < n_in; i++) {
      gsize bytes = (gsize) inner[i] * es;
      memcpy (dst, (const char *) in[i]->data + r * bytes, bytes);
      dst += bytes;
    }
}

/* The inputs converted to `dt` where they differ (kept in `owned`). */
static GrdTensor **
inputs_as (GrdTensor *const *in, gint n_in, GrdDType dt, GPtrArray *owned, GError **error)
{
  g_autofree GrdTensor **conv = g_new (GrdTensor *, n_in);
  for (gint i = 0; i < n_in; i++) {
    conv[i] = in[i];
    if (in[i]->dtype != dt) {
      if (!(conv[i] = grd_tensor_try_cast (in[i], dt, error)))
        return NULL;
      g_ptr_array_add (owned, conv[i]);
    }
  }
  return g_steal_pointer (&conv);
}

static gboolean
concatenate_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  gint n_in = node->n_inputs, rank = in[0]->rank, axis;
  if (!grd_axis_single (&node->attrs, rank, 0, &axis, error) || !same_except (in, n_in, axis, error))
    return FALSE;
  g_autoptr (GPtrArray) owned = g_ptr_array_new_with_free_func ((GDestroyNotify) grd_tensor_unref);
  g_autofree GrdTensor **conv = inputs_as (in, n_in, node->types[0].dtype, owned, error);
  if (!conv)
    return FALSE;
  g_autofree gint64 *inner = g_new (gint64, n_in);
  gint64 shape[GRD_MAX_RANK], outer = grd_shape_size (axis, in[0]->shape);
  memcpy (shape, in[0]->shape, sizeof (gint64) * rank);
  shape[axis] = 0;
  for (gint i = 0; i < n_in; i++) {
    shape[axis] += in[i]->shape[axis];
    inner[i] = grd_shape_size (rank - axis, in[i]->shape + axis);
  }
  out[0] = grd_tensor_try_new (node->types[0].dtype, rank, shape, error);
  if (!out[0])
    return FALSE;
  interleave_blocks (conv, n_in, outer, inner, out[0]);
  return TRUE;
}

static gboolean
concatenate_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
                  GrdRef *ig, GError **error)
{
  gint n = node->n_inputs;
  g_autofree GrdRef *in = g_new (GrdRef, n + 1);
  in[0] = og[0];
  memcpy (in + 1, node->inputs, sizeof (GrdRef) * n);
  for (gint i = 0; i < n && !*error; i++) {
    if (!needed[i])
      continue;
    GrdAttrs a = node->attrs;
    a.depth = i;
    ig[i] = grd_graph_op (g, NULL, "_concat_part", in, n + 1, &a, error);
  }
  return !*error;
}

static gboolean
concat_part_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out,
                   GError **error)
{
  gint rank = in[0].rank, axis;
  if (!grd_axis_single (attrs, rank, 0, &axis, error))
    return FALSE;
  if (attrs->depth < 0 || attrs->depth >= n_in - 1 || in[attrs->depth + 1].rank != rank) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "part %" G_GINT64_FORMAT
                 " is not one of the %d parts of rank %d", attrs->depth, n_in - 1, rank);
    return FALSE;
  }
  gint64 dims[GRD_MAX_RANK];
  memcpy (dims, in[0].dims, sizeof (gint64) * rank);
  dims[axis] = in[attrs->depth + 1].dims[axis];
  grd_type_set (out, in[0].dtype, rank, dims);
  return TRUE;
}

static gboolean
concat_part_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdTensor *gr = in[0];
  gint rank = gr->rank, axis, part = (gint) node->attrs.depth;
  if (!grd_axis_single (&node->attrs, rank, 0, &axis, error))
    return FALSE;
  gint64 offset = 0, total = 0;
  for (gint i = 1; i < node->n_inputs; i++) {
    if (i - 1 < part)
      offset += in[i]->shape[axis];
    total += in[i]->shape[axis];
  }
  if (total != gr->shape[axis]) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "the parts add up to %" G_GINT64_FORMAT
                 " along axis %d, the gradient has %" G_GINT64_FORMAT, total, axis,
                 gr->shape[axis]);
    return FALSE;
  }
  gint64 shape[GRD_MAX_RANK], strides[GRD_MAX_RANK];
  memcpy (shape, gr->shape, sizeof (gint64) * rank);
  shape[axis] = in[part + 1]->shape[axis];
  contiguous_strides (rank, gr->shape, strides);
  out[0] = grd_tensor_try_new (gr->dtype, rank, shape, error);
  if (!out[0])
    return FALSE;
  move_strided (gr, offset * strides[axis], strides, out[0], TRUE);
  return TRUE;
}

/* Its gradient wrt g: gg in its place along the axis, zeros elsewhere. */
static gboolean
concat_part_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
                  GrdRef *ig, GError **error)
{
  if (!needed[0])
    return TRUE;
  gint n = node->n_inputs - 1;
  GrdDType dt = grd_graph_ref_type (g, og[0])->dtype;
  g_autofree GrdRef *parts = g_new (GrdRef, n);
  GrdRef zero = grd_build_scalar (g, error, dt, 0.0);
  for (gint i = 0; i < n; i++)
    parts[i] = i == node->attrs.depth
                   ? og[0]
                   : grd_build (g, error, "_broadcast_to", NULL, 2, zero, node->inputs[i + 1]);
  if (*error)
    return FALSE;
  GrdAttrs a = node->attrs;
  a.depth = 0;
  ig[0] = grd_graph_op (g, NULL, "concatenate", parts, n, &a, error);
  return !*error;
}

/* ------------------------------------------------------------ stack */

static gboolean
stack_axis (const GrdAttrs *attrs, gint rank, gint *axis, GError **error)
{
  gint a = 0;
  if (attrs->has_axis) {
    if (attrs->n_axes != 1) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "expected a single axis, got %d",
                   attrs->n_axes);
      return FALSE;
    }
    a = attrs->axes[0];
  }
  if (a < -rank - 1 || a > rank || rank + 1 > GRD_MAX_RANK) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                 "axis %d is out of range for stacking inputs of rank %d", a, rank);
    return FALSE;
  }
  *axis = a < 0 ? a + rank + 1 : a;
  return TRUE;
}

static gboolean
stack_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  gint rank = in[0].rank, axis;
  if (!stack_axis (attrs, rank, &axis, error))
    return FALSE;
  GrdDType dt = in[0].dtype;
  gint64 d[GRD_MAX_RANK];
  memcpy (d, in[0].dims, sizeof (gint64) * rank);
  for (gint i = 1; i < n_in; i++) {
    dt = grd_dtype_promote (dt, in[i].dtype);
    gboolean ok = in[i].rank == rank;
    for (gint k = 0; ok && k < rank; k++) {
      gint64 v = in[i].dims[k];
      ok = d[k] < 0 || v < 0 || v == d[k];
      if (d[k] < 0)
        d[k] = v;
    }
    if (!ok) {
      g_autofree char *a = grd_type_describe (&in[0]), *b = grd_type_describe (&in[i]);
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                   "stack needs inputs of one shape: input 0 is %s, input %d is %s", a, i, b);
      return FALSE;
    }
  }
  gint64 dims[GRD_MAX_RANK];
  for (gint k = 0, j = 0; k <= rank; k++)
    dims[k] = k == axis ? n_in : d[j++];
  grd_type_set (out, dt, rank + 1, dims);
  return TRUE;
}

static gboolean
stack_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  gint n_in = node->n_inputs, rank = in[0]->rank, axis;
  if (!stack_axis (&node->attrs, rank, &axis, error) || !same_except (in, n_in, -1, error))
    return FALSE;
  g_autoptr (GPtrArray) owned = g_ptr_array_new_with_free_func ((GDestroyNotify) grd_tensor_unref);
  g_autofree GrdTensor **conv = inputs_as (in, n_in, node->types[0].dtype, owned, error);
  if (!conv)
    return FALSE;
  g_autofree gint64 *inner = g_new (gint64, n_in);
  for (gint i = 0; i < n_in; i++)
    inner[i] = grd_shape_size (rank - axis, in[0]->shape + axis);
  gint64 shape[GRD_MAX_RANK];
  for (gint k = 0, j = 0; k <= rank; k++)
    shape[k] = k == axis ? n_in : in[0]->shape[j++];
  out[0] = grd_tensor_try_new (node->types[0].dtype, rank + 1, shape, error);
  if (!out[0])
    return FALSE;
  interleave_blocks (conv, n_in, grd_shape_size (axis, in[0]->shape), inner, out[0]);
  return TRUE;
}

/* Input i's gradient is g taken at index i along the new axis. */
static gboolean
stack_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
            GrdRef *ig, GError **error)
{
  gint rank = grd_graph_ref_type (g, node->inputs[0])->rank, axis;
  if (!stack_axis (&node->attrs, rank, &axis, error))
    return FALSE;
  GrdAttrs a = grd_attrs_axis (axis, FALSE);
  for (gint i = 0; i < node->n_inputs; i++)
    if (needed[i])
      ig[i] = grd_build (g, error, "take", &a, 2, og[0],
                         grd_build_scalar (g, error, GRD_DTYPE_INT64, i));
  return !*error;
}

/* ------------------------------------------------------------ slice */

typedef struct {
  gint64 start, len, step;
} SliceAxis;

/* Python's slice.indices(n) and the resulting length. */
static SliceAxis
slice_axis (gint64 begin, gint64 end, gint64 step, gint64 n)
{
  SliceAxis s = { 0, 0, step == GRD_SLICE_NONE ? 1 : step };
  gint64 lo = s.step > 0 ? 0 : -1, hi = s.step > 0 ? n : n - 1;
  gint64 b = begin, e = end;
  if (b == GRD_SLICE_NONE)
    b = s.step > 0 ? lo : hi;
  else {
    if (b < 0)
      b += n;
    b = CLAMP (b, lo, hi);
  }
  if (e == GRD_SLICE_NONE)
    e = s.step > 0 ? hi : lo;
  else {
    if (e < 0)
      e += n;
    e = CLAMP (e, lo, hi);
  }
  s.start = b;
  if (s.step > 0)
    s.len = e > b ? (e - b + s.step - 1) / s.step : 0;
  else
    s.len = b > e ? (b - e - s.step - 1) / -s.step : 0;
  return s;
}

static gboolean
slice_check (const GrdAttrs *attrs, gint rank, GError **error)
{
  if (attrs->n_slice < 0 || attrs->n_slice > rank) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "%d sliced axes for an input of rank %d",
                 attrs->n_slice, rank);
    return FALSE;
  }
  for (gint d = 0; d < attrs->n_slice; d++)
    if (attrs->step[d] == 0) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "slice step of axis %d is 0", d);
      return FALSE;
    }
  return TRUE;
}

static gboolean
slice_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  if (!slice_check (attrs, in[0].rank, error))
    return FALSE;
  gint64 dims[GRD_MAX_RANK];
  for (gint d = 0; d < in[0].rank; d++) {
    dims[d] = in[0].dims[d];
    if (d < attrs->n_slice && dims[d] >= 0)
      dims[d] = slice_axis (attrs->begin[d], attrs->end[d], attrs->step[d], dims[d]).len;
    else if (d < attrs->n_slice)
      dims[d] = GRD_DIM_UNKNOWN;
  }
  grd_type_set (out, in[0].dtype, in[0].rank, dims);
  return TRUE;
}

/* Shape, offset and strides of the slice of a tensor of `shape`. */
static void
slice_layout (const GrdAttrs *attrs, gint rank, const gint64 *shape, gint64 *out_shape,
              gint64 *offset, gint64 *strides)
{
  contiguous_strides (rank, shape, strides);
  *offset = 0;
  for (gint d = 0; d < rank; d++) {
    out_shape[d] = shape[d];
    if (d >= attrs->n_slice)
      continue;
    SliceAxis s = slice_axis (attrs->begin[d], attrs->end[d], attrs->step[d], shape[d]);
    out_shape[d] = s.len;
    if (s.len > 0)
      *offset += s.start * strides[d];
    strides[d] *= s.step;
  }
}

static gboolean
slice_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdTensor *x = in[0];
  if (!slice_check (&node->attrs, x->rank, error))
    return FALSE;
  gint64 shape[GRD_MAX_RANK], strides[GRD_MAX_RANK], offset;
  slice_layout (&node->attrs, x->rank, x->shape, shape, &offset, strides);
  out[0] = grd_tensor_try_new (x->dtype, x->rank, shape, error);
  if (!out[0])
    return FALSE;
  move_strided (x, offset, strides, out[0], TRUE);
  return TRUE;
}

static gboolean
slice_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
            GrdRef *ig, GError **error)
{
  ig[0] = grd_build (g, error, "_slice_grad", &node->attrs, 2, og[0], node->inputs[0]);
  return !*error;
}

static gboolean
slice_grad_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out,
                  GError **error)
{
  if (in[0].rank != in[1].rank || !slice_check (attrs, in[1].rank, error)) {
    if (error && !*error)
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "ranks %d and %d differ", in[0].rank,
                   in[1].rank);
    return FALSE;
  }
  grd_type_set (out, in[0].dtype, in[1].rank, in[1].dims);
  return TRUE;
}

static gboolean
slice_grad_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdTensor *gr = in[0], *x = in[1];
  gint64 shape[GRD_MAX_RANK], strides[GRD_MAX_RANK], offset;
  slice_layout (&node->attrs, x->rank, x->shape, shape, &offset, strides);
  gboolean ok = gr->rank == x->rank;
  for (gint d = 0; ok && d < x->rank; d++)
    ok = gr->shape[d] == shape[d];
  if (!ok) {
    g_autofree char *a = grd_tensor_describe (gr), *b = shape_text (x->rank, shape);
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "gradient %s does not match the slice %s", a,
                 b);
    return FALSE;
  }
  out[0] = grd_tensor_try_new (gr->dtype, x->rank, x->shape, error);
  if (!out[0])
    return FALSE;
  move_strided (out[0], offset, strides, gr, FALSE);
  return TRUE;
}

static gboolean
slice_grad_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
                 GrdRef *ig, GError **error)
{
  if (needed[0])
    ig[0] = grd_build (g, error, "slice", &node->attrs, 1, og[0]);
  return !*error;
}

/* ------------------------------------------------------------ take */

static gboolean
take_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  gint axis;
  if (in[1].dtype != GRD_DTYPE_INT32 && in[1].dtype != GRD_DTYPE_INT64) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE, "indices must be int32 or int64, not %s",
                 grd_dtype_name (in[1].dtype));
    return FALSE;
  }
  if (!grd_axis_single (attrs, in[0].rank, 0, &axis, error))
    return FALSE;
  gint rank = in[0].rank - 1 + in[1].rank;
  if (rank > GRD_MAX_RANK) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "the result would have rank %d (at most %d)",
                 rank, GRD_MAX_RANK);
    return FALSE;
  }
  gint64 dims[GRD_MAX_RANK];
  gint k = 0;
  for (gint d = 0; d < axis; d++)
    dims[k++] = in[0].dims[d];
  for (gint d = 0; d < in[1].rank; d++)
    dims[k++] = in[1].dims[d];
  for (gint d = axis + 1; d < in[0].rank; d++)
    dims[k++] = in[0].dims[d];
  grd_type_set (out, in[0].dtype, rank, dims);
  return TRUE;
}

static inline gint64
index_at (const GrdTensor *idx, gint64 i)
{
  return idx->dtype == GRD_DTYPE_INT32 ? ((const gint32 *) idx->data)[i]
                                       : ((const gint64 *) idx->data)[i];
}

/* Indices normalised to [0, n); an error names the first one out of range. */
static gint64 *
take_indices (const GrdTensor *idx, gint axis, gint64 n, GError **error)
{
  gint64 *out = grd_scratch_try_new ((gsize) idx->size, sizeof (gint64), error);
  if (!out)
    return NULL;
  for (gint64 i = 0; i < idx->size; i++) {
    gint64 v = index_at (idx, i);
    if (v < -n || v >= n) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE,
                   "index %" G_GINT64_FORMAT " is out of bounds for axis %d with size %"
                   G_GINT64_FORMAT, v, axis, n);
      g_free (out);
      return NULL;
    }
    out[i] = v < 0 ? v + n : v;
  }
  return out;
}

/* The run-time layout of take: outer blocks, axis length and inner size. */
static gboolean
take_layout (const GrdAttrs *attrs, const GrdTensor *x, const GrdTensor *idx, gint *axis,
             gint64 *outer, gint64 *inner, gint64 *shape, GError **error)
{
  if (!grd_axis_single (attrs, x->rank, 0, axis, error))
    return FALSE;
  *outer = grd_shape_size (*axis, x->shape);
  *inner = grd_shape_size (x->rank - *axis - 1, x->shape + *axis + 1);
  gint k = 0;
  for (gint d = 0; d < *axis; d++)
    shape[k++] = x->shape[d];
  for (gint d = 0; d < idx->rank; d++)
    shape[k++] = idx->shape[d];
  for (gint d = *axis + 1; d < x->rank; d++)
    shape[k++] = x->shape[d];
  return TRUE;
}

static gboolean
take_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdTensor *x = in[0], *idx = in[1];
  gint axis;
  gint64 outer, inner, shape[GRD_MAX_RANK];
  if (!take_layout (&node->attrs, x, idx, &axis, &outer, &inner, shape, error))
    return FALSE;
  gint64 n = x->shape[axis];
  g_autofree gint64 *ix = take_indices (idx, axis, n, error);
  if (!ix)
    return FALSE;
  GrdTensor *o = grd_tensor_try_new (x->dtype, x->rank - 1 + idx->rank, shape, error);
  if (!o)
    return FALSE;
  gsize bytes = (gsize) inner * grd_dtype_size (x->dtype);
  char *dst = o->data;
  for (gint64 r = 0; r < outer; r++)
    for (gint64 k = 0; k < idx->size; k++) {
      memcpy (dst, (const char *) x->data + (r * n + ix[k]) * bytes, bytes);
      dst += bytes;
    }
  out[0] = o;
  return TRUE;
}

static gboolean
take_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
           GrdRef *ig, GError **error)
{
  if (needed[0])
    ig[0] = grd_build (g, error, "_take_grad", &node->attrs, 3, og[0], node->inputs[0],
                       node->inputs[1]);
  return !*error;
}

static gboolean
take_grad_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out,
                 GError **error)
{
  GrdType t;
  if (!take_infer (attrs, in + 1, 2, &t, error))
    return FALSE;
  if (t.rank != in[0].rank) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "the gradient has rank %d, take gives rank %d",
                 in[0].rank, t.rank);
    return FALSE;
  }
  grd_type_set (out, in[0].dtype, in[1].rank, in[1].dims);
  return TRUE;
}

static gboolean
take_grad_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdTensor *gr = in[0], *x = in[1], *idx = in[2];
  gint axis;
  gint64 outer, inner, shape[GRD_MAX_RANK];
  if (!take_layout (&node->attrs, x, idx, &axis, &outer, &inner, shape, error))
    return FALSE;
  gboolean ok = gr->rank == x->rank - 1 + idx->rank;
  for (gint d = 0; ok && d < gr->rank; d++)
    ok = gr->shape[d] == shape[d];
  if (!ok) {
    g_autofree char *a = grd_tensor_describe (gr), *b = shape_text (x->rank - 1 + idx->rank, shape);
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "gradient %s does not match take's %s", a, b);
    return FALSE;
  }
  gint64 n = x->shape[axis];
  g_autofree gint64 *ix = take_indices (idx, axis, n, error);
  if (!ix)
    return FALSE;
  GrdTensor *o = grd_tensor_try_new (gr->dtype, x->rank, x->shape, error);
  if (!o)
    return FALSE;
  /* Repeated indices add up. */
  gint64 src = 0;
  for (gint64 r = 0; r < outer; r++)
    for (gint64 k = 0; k < idx->size; k++, src += inner) {
      gint64 dst = (r * n + ix[k]) * inner;
      switch (o->dtype) {
      case GRD_DTYPE_FLOAT32:
        for (gint64 j = 0; j < inner; j++)
          ((float *) o->data)[dst + j] += ((const float *) gr->data)[src + j];
        break;
      case GRD_DTYPE_FLOAT64:
        for (gint64 j = 0; j < inner; j++)
          ((double *) o->data)[dst + j] += ((const double *) gr->data)[src + j];
        break;
      default:
        for (gint64 j = 0; j < inner; j++)
          grd_tensor_set (o, dst + j, grd_tensor_get (o, dst + j) + grd_tensor_get (gr, src + j));
        break;
      }
    }
  out[0] = o;
  return TRUE;
}

static gboolean
take_grad_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
                GrdRef *ig, GError **error)
{
  if (needed[0])
    ig[0] = grd_build (g, error, "take", &node->attrs, 2, og[0], node->inputs[2]);
  return !*error;
}

/* ------------------------------------------------------------ table */

static const GrdOpDef shape_ops[] = {
  { "transpose", "shape", 1, 1, 1, transpose_infer, transpose_eval, transpose_grad },
  { "reshape", "shape", 1, 1, 1, reshape_infer, reshape_eval, reshape_like_input_grad },
  { "dimshuffle", "shape", 1, 1, 1, dimshuffle_infer, dimshuffle_eval, dimshuffle_grad },
  { "flatten", "shape", 1, 1, 1, flatten_infer, flatten_eval, reshape_like_input_grad },
  { "concatenate", "shape", 1, -1, 1, concatenate_infer, concatenate_eval, concatenate_grad },
  { "stack", "shape", 1, -1, 1, stack_infer, stack_eval, stack_grad },
  { "slice", "shape", 1, 1, 1, slice_infer, slice_eval, slice_grad },
  { "take", "indexing", 2, 2, 1, take_infer, take_eval, take_grad },
  { "_concat_part", "internal", 2, -1, 1, concat_part_infer, concat_part_eval, concat_part_grad },
  { "_slice_grad", "internal", 2, 2, 1, slice_grad_infer, slice_grad_eval, slice_grad_grad },
  { "_take_grad", "internal", 3, 3, 1, take_grad_infer, take_grad_eval, take_grad_grad },
};

void
grd_ops_register_shape (GrdOpRegisterFunc add)
{
  for (gsize i = 0; i < G_N_ELEMENTS (shape_ops); i++)
    add (&shape_ops[i]);
}
