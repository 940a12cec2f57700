/* ops-index.c: the indexing of Theano programs, `p[T.arange(y.shape[0]), y]`:
 *   shape (x)                      the int64 vector of x's shape (`axis`: one int64 scalar)
 *   arange (start, stop, step)     NumPy's arange of three scalars (`dtype`)
 *   index (x, i0, i1, ...)         NumPy advanced indexing of x's first axes
 *   set_subtensor (x, y, [i...])   x with a region set to y (broadcast)
 *   inc_subtensor (x, y, [i...])   x with y added to a region; repeated indices add up
 * The region of set/inc is the one of `slice`'s begin/end/step attrs when
 * there are no index inputs, else the elements `index` would select.
 * Gradients scatter back: index's is inc_subtensor of zeros; set's and
 * inc's take the region of the gradient back to y (summed over broadcasts). */
#include "../grd-internal.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------ shape */

static gboolean
shape_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  if (!attrs->has_axis) {
    gint64 n = in[0].rank;
    grd_type_set (out, GRD_DTYPE_INT64, 1, &n);
    return TRUE;
  }
  gint axis;
  if (attrs->n_axes != 1 || !grd_axis_single (attrs, in[0].rank, 0, &axis, error)) {
    if (error && !*error)
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "shape takes one axis, not %d",
                   attrs->n_axes);
    return FALSE;
  }
  grd_type_set (out, GRD_DTYPE_INT64, 0, NULL);
  return TRUE;
}

static gboolean
shape_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdTensor *x = in[0];
  if (node->attrs.has_axis) {
    gint axis;
    if (!grd_axis_single (&node->attrs, x->rank, 0, &axis, error))
      return FALSE;
    out[0] = grd_tensor_new_scalar (GRD_DTYPE_INT64, 0);
    ((gint64 *) out[0]->data)[0] = x->shape[axis];
    return TRUE;
  }
  gint64 n = x->rank;
  out[0] = grd_tensor_try_new (GRD_DTYPE_INT64, 1, &n, error);
  if (!out[0])
    return FALSE;
  memcpy (out[0]->data, x->shape, sizeof (gint64) * x->rank);
  return TRUE;
}

static gboolean
no_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
         GrdRef *ig, GError **error)
{
  return TRUE;  /* integer results, or values that only shapes decide: disconnected */
}

/* ------------------------------------------------------------ arange */

/* NumPy's choice for arange of 0-d arrays: their promoted dtype, where
 * integers become int64 (NumPy's default integer) and bools too. */
static GrdDType
arange_dtype (const GrdAttrs *attrs, const GrdType *in)
{
  if (attrs->has_dtype)
    return attrs->dtype;
  GrdDType dt = grd_dtype_promote (grd_dtype_promote (in[0].dtype, in[1].dtype), in[2].dtype);
  return grd_dtype_is_float (dt) ? dt : GRD_DTYPE_INT64;
}

static gboolean
arange_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  for (gint i = 0; i < 3; i++)
    if (in[i].rank != 0) {
      static const char *const names[] = { "start", "stop", "step" };
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "%s must be a scalar, not of rank %d",
                   names[i], in[i].rank);
      return FALSE;
    }
  gint64 unknown = GRD_DIM_UNKNOWN;
  grd_type_set (out, arange_dtype (attrs, in), 1, &unknown);
  return TRUE;
}

static gboolean
arange_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdType t[3];
  for (gint i = 0; i < 3; i++)
    grd_type_set (&t[i], in[i]->dtype, 0, NULL);
  GrdDType dt = arange_dtype (&node->attrs, t);
  gboolean ints = !grd_dtype_is_float (in[0]->dtype) && !grd_dtype_is_float (in[1]->dtype)
                  && !grd_dtype_is_float (in[2]->dtype);
  gint64 n;
  if (ints) {
    gint64 a = (gint64) grd_tensor_get (in[0], 0), b = (gint64) grd_tensor_get (in[1], 0);
    gint64 s = (gint64) grd_tensor_get (in[2], 0);
    if (s == 0) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE, "arange's step is 0");
      return FALSE;
    }
    /* the span in unsigned arithmetic: b - a overflows gint64 for far ends */
    guint64 span = s > 0 ? (b > a ? (guint64) b - (guint64) a : 0) : (a > b ? (guint64) a - (guint64) b : 0);
    guint64 step = s > 0 ? (guint64) s : (guint64) 0 - (guint64) s;
    guint64 len = span / step + (span % step != 0);
    n = len > G_MAXINT64 ? G_MAXINT64 : (gint64) len;
  } else {
    double a = grd_tensor_get (in[0], 0), b = grd_tensor_get (in[1], 0);
    double s = grd_tensor_get (in[2], 0);
    double len = ceil ((b - a) / s);
    if (s == 0 || !isfinite (len)) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE, "arange of %g to %g by %g has no finite length",
                   a, b, s);
      return FALSE;
    }
    n = len > 0 ? (len < 0x1p62 ? (gint64) len : G_MAXINT64) : 0;
  }
  if (!grd_shape_check_size (1, &n, dt, error))
    return FALSE;
  /* the length comes from input values: the call's budget was not told */
  GrdTensor *o = grd_budget_new_tensor ("the result", dt, 1, &n, error);
  if (!o)
    return FALSE;
  if (ints && !grd_dtype_is_float (dt)) {
    gint64 a = (gint64) grd_tensor_get (in[0], 0), s = (gint64) grd_tensor_get (in[2], 0);
    for (gint64 i = 0; i < n; i++)
      grd_tensor_set (o, i, (double) (a + i * s));
  } else {
    double a = grd_tensor_get (in[0], 0), s = grd_tensor_get (in[2], 0);
    for (gint64 i = 0; i < n; i++)
      grd_tensor_set (o, i, a + (double) i * s);
  }
  out[0] = o;
  return TRUE;
}

/* ------------------------------------------------------------ regions */

/* The elements a region covers: for each of n_bases bases, `inner`
 * consecutive elements of x from that flat offset, in the region's
 * row-major order. */
typedef struct {
  gint    rank;
  gint64  shape[GRD_MAX_RANK];
  gint64  n_bases;
  gint64  inner;
  gint64 *bases;
} Region;

static void
region_clear (Region *r)
{
  g_clear_pointer (&r->bases, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Region, region_clear)

static gboolean
check_index_types (const GrdType *idx, gint n_idx, gint x_rank, GError **error)
{
  if (n_idx > x_rank) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "%d index arrays for an input of rank %d",
                 n_idx, x_rank);
    return FALSE;
  }
  for (gint i = 0; i < n_idx; i++)
    if (idx[i].dtype != GRD_DTYPE_INT32 && idx[i].dtype != GRD_DTYPE_INT64) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE, "index %d must be int32 or int64, not %s",
                   i, grd_dtype_name (idx[i].dtype));
      return FALSE;
    }
  return TRUE;
}

/* Static shape of x[i0, ..., ik-1]: the broadcast index shape, then x's other axes. */
static gboolean
index_region_type (const GrdType *x, const GrdType *idx, gint n_idx, GrdType *out, GError **error)
{
  if (!check_index_types (idx, n_idx, x->rank, error))
    return FALSE;
  gint rb = 0;
  for (gint i = 0; i < n_idx; i++)
    rb = MAX (rb, idx[i].rank);
  gint64 dims[GRD_MAX_RANK];
  if (!grd_broadcast_types (idx, n_idx, rb, dims, error))
    return FALSE;
  gint rank = rb + x->rank - n_idx;
  if (rank > GRD_MAX_RANK) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "the result would have rank %d (at most %d)",
                 rank, GRD_MAX_RANK);
    return FALSE;
  }
  for (gint d = n_idx; d < x->rank; d++)
    dims[rb + d - n_idx] = x->dims[d];
  grd_type_set (out, x->dtype, rank, dims);
  return TRUE;
}

static inline gint64
index_value (const GrdTensor *t, gint64 i)
{
  return t->dtype == GRD_DTYPE_INT32 ? ((const gint32 *) t->data)[i] : ((const gint64 *) t->data)[i];
}

static gboolean
index_region (const GrdTensor *x, GrdTensor *const *idx, gint n_idx, Region *r, GError **error)
{
  gint rb;
  gint64 bshape[GRD_MAX_RANK];
  if (n_idx == 0) {
    rb = 0;
  } else if (!grd_broadcast_shapes (idx, n_idx, &rb, bshape, error)) {
    return FALSE;
  }
  r->rank = rb + x->rank - n_idx;
  if (r->rank > GRD_MAX_RANK) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "the result would have rank %d (at most %d)",
                 r->rank, GRD_MAX_RANK);
    return FALSE;
  }
  memcpy (r->shape, bshape, sizeof (gint64) * rb);
  memcpy (r->shape + rb, x->shape + n_idx, sizeof (gint64) * (x->rank - n_idx));
  r->inner = grd_shape_size (x->rank - n_idx, x->shape + n_idx);
  r->n_bases = grd_shape_size (rb, bshape);
  r->bases = grd_scratch_try_new ((gsize) r->n_bases, sizeof (gint64), error);
  if (!r->bases)
    return FALSE;
  for (gint i = 0; i < n_idx; i++) {
    gint64 st[GRD_MAX_RANK], pos[GRD_MAX_RANK] = { 0 }, src = 0;
    gint64 n = x->shape[i], xstride = grd_shape_size (x->rank - i - 1, x->shape + i + 1);
    grd_broadcast_strides (idx[i], rb, bshape, st);
    for (gint64 p = 0; p < r->n_bases; p++) {
      gint64 v = index_value (idx[i], src);
      if (v < -n || v >= n) {
        g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE,
                     "index %" G_GINT64_FORMAT " is out of bounds for axis %d with size %"
                     G_GINT64_FORMAT, v, i, n);
        return FALSE;
      }
      r->bases[p] += (v < 0 ? v + n : v) * xstride;
      for (gint d = rb - 1; d >= 0; d--) {
        src += st[d];
        if (++pos[d] < bshape[d])
          break;
        src -= st[d] * bshape[d];
        pos[d] = 0;
      }
    }
  }
  return TRUE;
}

/* Python's slice.indices(n): start, step and length of one sliced axis. */
static void
slice_axis (gint64 begin, gint64 end, gint64 step, gint64 n, gint64 *start, gint64 *len,
            gint64 *stp)
{
  gint64 s = step == GRD_SLICE_NONE ? 1 : step;
  gint64 lo = s > 0 ? 0 : -1, hi = s > 0 ? n : n - 1;
  gint64 b = begin, e = end;
  if (b == GRD_SLICE_NONE)
    b = s > 0 ? lo : hi;
  else
    b = CLAMP (b < 0 ? b + n : b, lo, hi);
  if (e == GRD_SLICE_NONE)
    e = s > 0 ? hi : lo;
  else
    e = CLAMP (e < 0 ? e + n : e, lo, hi);
  *start = b;
  *stp = s;
  if (s > 0)
    *len = e > b ? (e - b + s - 1) / s : 0;
  else
    *len = b > e ? (b - e - s - 1) / -s : 0;
}

static gboolean
slice_attrs_check (const GrdAttrs *attrs, gint rank, GError **error)
{
  if (attrs->n_slice > rank) {
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
slice_region_type (const GrdAttrs *attrs, const GrdType *x, GrdType *out, GError **error)
{
  if (!slice_attrs_check (attrs, x->rank, error))
    return FALSE;
  gint64 dims[GRD_MAX_RANK];
  for (gint d = 0; d < x->rank; d++) {
    dims[d] = x->dims[d];
    if (d < attrs->n_slice && dims[d] >= 0) {
      gint64 start, step;
      slice_axis (attrs->begin[d], attrs->end[d], attrs->step[d], x->dims[d], &start, &dims[d], &step);
    } else if (d < attrs->n_slice) {
      dims[d] = GRD_DIM_UNKNOWN;
    }
  }
  grd_type_set (out, x->dtype, x->rank, dims);
  return TRUE;
}

static gboolean
slice_region (const GrdAttrs *attrs, const GrdTensor *x, Region *r, GError **error)
{
  if (!slice_attrs_check (attrs, x->rank, error))
    return FALSE;
  gint64 start[GRD_MAX_RANK], step[GRD_MAX_RANK], xstride[GRD_MAX_RANK];
  r->rank = x->rank;
  gint64 s = 1;
  for (gint d = x->rank - 1; d >= 0; d--) {
    xstride[d] = s;
    s *= x->shape[d];
  }
  for (gint d = 0; d < x->rank; d++) {
    if (d < attrs->n_slice) {
      slice_axis (attrs->begin[d], attrs->end[d], attrs->step[d], x->shape[d], &start[d],
                  &r->shape[d], &step[d]);
    } else {
      start[d] = 0;
      step[d] = 1;
      r->shape[d] = x->shape[d];
    }
  }
  r->inner = 1;
  r->n_bases = grd_shape_size (r->rank, r->shape);
  r->bases = grd_scratch_try_new ((gsize) r->n_bases, sizeof (gint64), error);
  if (!r->bases)
    return FALSE;
  gint64 pos[GRD_MAX_RANK] = { 0 }, off = 0;
  for (gint d = 0; d < x->rank; d++)
    off += start[d] * xstride[d];
  for (gint64 p = 0; p < r->n_bases; p++) {
    r->bases[p] = off;
    for (gint d = r->rank - 1; d >= 0; d--) {
      off += step[d] * xstride[d];
      if (++pos[d] < r->shape[d])
        break;
      off -= step[d] * xstride[d] * r->shape[d];
      pos[d] = 0;
    }
  }
  return TRUE;
}

/* ------------------------------------------------------------ index */

static gboolean
index_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  return index_region_type (&in[0], in + 1, n_in - 1, out, error);
}

static gboolean
index_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  g_auto (Region) r = { 0 };
  GrdTensor *x = in[0];
  if (!index_region (x, in + 1, node->n_inputs - 1, &r, error))
    return FALSE;
  GrdTensor *o = grd_tensor_try_new (x->dtype, r.rank, r.shape, error);
  if (!o)
    return FALSE;
  gsize es = grd_dtype_size (x->dtype), row = (gsize) r.inner * es;
  for (gint64 p = 0; p < r.n_bases; p++)
    memcpy ((char *) o->data + p * row, (const char *) x->data + r.bases[p] * es, row);
  out[0] = o;
  return TRUE;
}

static gboolean
index_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
            GrdRef *ig, GError **error)
{
  if (!needed[0])
    return TRUE;
  GrdRef x = node->inputs[0];
  GrdRef ins[GRD_MAX_RANK + 2];
  ins[0] = grd_build_zeros_like (g, error, x);
  ins[1] = og[0];
  for (gint i = 1; i < node->n_inputs; i++)
    ins[i + 1] = node->inputs[i];
  if (*error)
    return FALSE;
  GrdAttrs a;
  grd_attrs_init (&a);
  ig[0] = grd_graph_op (g, NULL, "inc_subtensor", ins, node->n_inputs + 1, &a, error);
  return !*error;
}

/* ------------------------------------------------------------ set_subtensor, inc_subtensor */

static gboolean
subtensor_region_type (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *region,
                       GError **error)
{
  if (n_in > 2) {
    if (attrs->n_slice > 0) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH,
                   "give either index inputs or begin/end/step attrs, not both");
      return FALSE;
    }
    return index_region_type (&in[0], in + 2, n_in - 2, region, error);
  }
  return slice_region_type (attrs, &in[0], region, error);
}

static gboolean
subtensor_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  GrdType region;
  if (!subtensor_region_type (attrs, in, n_in, &region, error))
    return FALSE;
  if (in[1].rank > region.rank) {
    g_autofree char *r = grd_type_describe (&region), *y = grd_type_describe (&in[1]);
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                 "the value %s has more axes than the region %s it is written to", y, r);
    return FALSE;
  }
  GrdType pair[2] = { region, in[1] };
  gint64 dims[GRD_MAX_RANK];
  if (!grd_broadcast_types (pair, 2, region.rank, dims, error))
    return FALSE;
  for (gint d = 0; d < region.rank; d++)
    if (region.dims[d] >= 0 && dims[d] != region.dims[d]) {
      g_autofree char *r = grd_type_describe (&region), *y = grd_type_describe (&in[1]);
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "the value %s does not broadcast to the region %s",
                   y, r);
      return FALSE;
    }
  if (grd_dtype_promote (in[0].dtype, in[1].dtype) != in[0].dtype) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE, "a %s value cannot be written into %s without a"
                 " loss (cast it first)", grd_dtype_name (in[1].dtype), grd_dtype_name (in[0].dtype));
    return FALSE;
  }
  *out = in[0];
  return TRUE;
}

static gboolean
subtensor_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error,
                gboolean inc)
{
  GrdTensor *x = in[0];
  g_auto (Region) r = { 0 };
  gboolean ok = node->n_inputs > 2 ? index_region (x, in + 2, node->n_inputs - 2, &r, error)
                                   : slice_region (&node->attrs, x, &r, error);
  if (!ok)
    return FALSE;
  g_autoptr (GrdTensor) y = grd_tensor_try_cast (in[1], x->dtype, error);
  if (!y)
    return FALSE;
  gboolean fits = y->rank <= r.rank;
  for (gint d = 0; fits && d < y->rank; d++) {
    gint64 n = y->shape[y->rank - 1 - d];
    fits = n == 1 || n == r.shape[r.rank - 1 - d];
  }
  if (!fits) {
    g_autofree char *ys = grd_tensor_describe (y), *rs = grd_dims_describe (r.rank, r.shape);
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "the value %s does not broadcast to the region %s",
                 ys, rs);
    return FALSE;
  }
  gint64 st[GRD_MAX_RANK], pos[GRD_MAX_RANK] = { 0 }, src = 0;
  grd_broadcast_strides (y, r.rank, r.shape, st);
  GrdTensor *o = grd_tensor_try_cast (x, x->dtype, error);
  if (!o)
    return FALSE;
  gsize es = grd_dtype_size (x->dtype);
  gint64 total = r.n_bases * r.inner;
  for (gint64 p = 0; p < total; p++) {
    gint64 dst = r.bases[p / r.inner] + p % r.inner;
    if (!inc) {
      memcpy ((char *) o->data + dst * es, (const char *) y->data + src * es, es);
    } else {
      switch (x->dtype) {
      case GRD_DTYPE_FLOAT32: ((float *) o->data)[dst] += ((const float *) y->data)[src]; break;
      case GRD_DTYPE_FLOAT64: ((double *) o->data)[dst] += ((const double *) y->data)[src]; break;
      case GRD_DTYPE_INT32:
        ((gint32 *) o->data)[dst] = (gint32) ((guint32) ((gint32 *) o->data)[dst]
                                              + (guint32) ((const gint32 *) y->data)[src]);
        break;
      case GRD_DTYPE_INT64:
        ((gint64 *) o->data)[dst] = (gint64) ((guint64) ((gint64 *) o->data)[dst]
                                              + (guint64) ((const gint64 *) y->data)[src]);
        break;
      default:
        ((guint8 *) o->data)[dst] |= ((const guint8 *) y->data)[src];
        break;
      }
    }
    for (gint d = r.rank - 1; d >= 0; d--) {
      src += st[d];
      if (++pos[d] < r.shape[d])
        break;
      src -= st[d] * r.shape[d];
      pos[d] = 0;
    }
  }
  out[0] = o;
  return TRUE;
}

static gboolean
set_subtensor_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  return subtensor_eval (node, in, out, error, FALSE);
}

static gboolean
inc_subtensor_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  return subtensor_eval (node, in, out, error, TRUE);
}

static gboolean
subtensor_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
                GrdRef *ig, GError **error, gboolean inc)
{
  if (!grd_dtype_is_float (node->types[0].dtype))
    return TRUE;
  gint n_idx = node->n_inputs - 2;
  GrdRef ins[GRD_MAX_RANK + 2];
  if (needed[0]) {
    if (inc) {
      ig[0] = og[0];
    } else {
      /* the region was overwritten: it gets no gradient */
      ins[0] = og[0];
      ins[1] = grd_build_scalar (g, error, node->types[0].dtype, 0);
      for (gint i = 0; i < n_idx; i++)
        ins[i + 2] = node->inputs[i + 2];
      if (*error)
        return FALSE;
      ig[0] = grd_graph_op (g, NULL, "set_subtensor", ins, node->n_inputs, &node->attrs, error);
    }
  }
  if (needed[1] && grd_dtype_is_float (grd_graph_ref_type (g, node->inputs[1])->dtype)) {
    GrdRef part;
    if (n_idx > 0) {
      ins[0] = og[0];
      for (gint i = 0; i < n_idx; i++)
        ins[i + 1] = node->inputs[i + 2];
      GrdAttrs a;
      grd_attrs_init (&a);
      part = grd_graph_op (g, NULL, "index", ins, n_idx + 1, &a, error);
    } else {
      part = grd_build (g, error, "slice", &node->attrs, 1, og[0]);
    }
    ig[1] = grd_build_reduce_to (g, error, part, node->inputs[1]);
  }
  return !*error;
}

static gboolean
set_subtensor_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
                    GrdRef *ig, GError **error)
{
  return subtensor_grad (g, node, og, needed, ig, error, FALSE);
}

static gboolean
inc_subtensor_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
                    GrdRef *ig, GError **error)
{
  return subtensor_grad (g, node, og, needed, ig, error, TRUE);
}

static const GrdOpDef index_ops[] = {
  { "shape", "shape", 1, 1, 1, shape_infer, shape_eval, no_grad },
  { "arange", "shape", 3, 3, 1, arange_infer, arange_eval, no_grad },
  { "index", "indexing", 1, GRD_MAX_RANK + 1, 1, index_infer, index_eval, index_grad },
  { "set_subtensor", "indexing", 2, GRD_MAX_RANK + 2, 1, subtensor_infer, set_subtensor_eval,
    set_subtensor_grad },
  { "inc_subtensor", "indexing", 2, GRD_MAX_RANK + 2, 1, subtensor_infer, inc_subtensor_eval,
    inc_subtensor_grad },
};

void
grd_ops_register_index (GrdOpRegisterFunc add)
{
  for (gsize i = 0; i < G_N_ELEMENTS (index_ops); i++)
    add (&index_ops[i]);
}
