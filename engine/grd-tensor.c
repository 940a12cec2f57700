/* grd-tensor.c: dense row-major arrays and their conversions. */
#include "grd-internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The number of elements; 0 when any dimension is 0 (checked first, so that
 * [2^62, 2^62, 0] is empty rather than an overflow), G_MAXINT64 when the
 * product does not fit (no tensor that large can be allocated). */
gint64
grd_shape_size (gint rank, const gint64 *shape)
{
  for (gint i = 0; i < rank; i++)
    if (shape[i] == 0)
      return 0;
  gint64 n = 1;
  for (gint i = 0; i < rank; i++)
    if (__builtin_mul_overflow (n, shape[i], &n))
      return G_MAXINT64;
  return n;
}

/* The one process-wide counter of the engine: live tensors, for leak tests. */
static gint64 live_tensors;

gint64
grd_tensor_live_count (void)
{
  return __atomic_load_n (&live_tensors, __ATOMIC_RELAXED);
}

/* The tensor, with its data allocated with the failing variant: NULL when
 * the size overflows or the memory is not there. */
static GrdTensor *
tensor_alloc (GrdDType dtype, gint rank, const gint64 *shape, gboolean zero)
{
  guint64 bytes;
  if (!grd_shape_bytes (rank, shape, dtype, &bytes) || bytes > G_MAXSIZE - 128)
    return NULL;
  gsize size = MAX ((gsize) bytes, 64);
  size = (size + 63) & ~(gsize) 63;
  gpointer data = NULL;
  if (posix_memalign (&data, 64, size) != 0)
    return NULL;
  if (zero)
    memset (data, 0, size);
  GrdTensor *t = g_new0 (GrdTensor, 1);
  t->ref_count = 1;
  t->dtype = dtype;
  t->rank = rank;
  for (gint i = 0; i < rank; i++)
    t->shape[i] = shape[i];
  t->size = grd_shape_size (rank, shape);
  t->data = data;
  __atomic_add_fetch (&live_tensors, 1, __ATOMIC_RELAXED);
  return t;
}

GrdTensor *
grd_tensor_new (GrdDType dtype, gint rank, const gint64 *shape)
{
  g_return_val_if_fail (rank >= 0 && rank <= GRD_MAX_RANK, NULL);
  for (gint i = 0; i < rank; i++)
    g_return_val_if_fail (shape[i] >= 0, NULL);
  GrdTensor *t = tensor_alloc (dtype, rank, shape, TRUE);
  if (!t) {
    g_autofree char *dims = grd_dims_describe (rank, shape);
    g_error ("out of memory allocating a %s%s tensor", grd_dtype_name (dtype), dims);
  }
  return t;
}

/* The failing allocation behind grd_tensor_try_new and _try_new_uninit. */
static GrdTensor *
tensor_try_alloc (GrdDType dtype, gint rank, const gint64 *shape, gboolean zero, GError **error)
{
  g_return_val_if_fail (rank >= 0 && rank <= GRD_MAX_RANK, NULL);
  for (gint i = 0; i < rank; i++)
    g_return_val_if_fail (shape[i] >= 0, NULL);
  GrdTensor *t = tensor_alloc (dtype, rank, shape, zero);
  if (!t) {
    g_autofree char *dims = grd_dims_describe (rank, shape);
    g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE, "out of memory for a %s%s value",
                 grd_dtype_name (dtype), dims);
  }
  return t;
}

GrdTensor *
grd_tensor_try_new (GrdDType dtype, gint rank, const gint64 *shape, GError **error)
{
  return tensor_try_alloc (dtype, rank, shape, TRUE, error);
}

GrdTensor *
grd_tensor_try_new_uninit (GrdDType dtype, gint rank, const gint64 *shape, GError **error)
{
  return tensor_try_alloc (dtype, rank, shape, FALSE, error);
}

gpointer
grd_scratch_try_new (gsize n_elems, gsize elem_size, GError **error)
{
  gpointer p = g_try_malloc0_n (MAX (n_elems, 1), elem_size);
  if (!p)
    g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE,
                 "out of memory for %" G_GSIZE_FORMAT " × %" G_GSIZE_FORMAT " bytes of working space",
                 n_elems, elem_size);
  return p;
}

/* The scratch cache: a few buffers of the sizes kernels asked for lately,
 * so that a function called in a loop reuses warm memory instead of mapping
 * fresh pages (large blocks come from mmap; every page of one faults on its
 * first touch, a third of a small conv net's step). Each buffer carries its
 * size in a 64-byte header. */
#define SCRATCH_SLOTS     8
#define SCRATCH_HEADER    64
#define SCRATCH_CAP_BYTES ((gsize) 64 << 20)

static gpointer scratch_slots[SCRATCH_SLOTS];   /* header addresses, oldest first */
static gsize    scratch_cached;                 /* bytes held by the slots */
G_LOCK_DEFINE_STATIC (scratch);

static gsize
scratch_size (gpointer block)
{
  return *(gsize *) block;
}

gpointer
grd_scratch_take (gsize n_elems, gsize elem_size, GError **error)
{
  gsize bytes;
  if (__builtin_mul_overflow (MAX (n_elems, 1), elem_size, &bytes) || bytes > G_MAXSIZE / 2) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE,
                 "out of memory for %" G_GSIZE_FORMAT " × %" G_GSIZE_FORMAT " bytes of working space",
                 n_elems, elem_size);
    return NULL;
  }
  bytes = (bytes + 63) & ~(gsize) 63;
  gpointer block = NULL;
  G_LOCK (scratch);
  /* the smallest cached buffer that holds it, if it wastes at most half */
  gint best = -1;
  for (gint i = 0; i < SCRATCH_SLOTS; i++) {
    gsize have = scratch_slots[i] ? scratch_size (scratch_slots[i]) : 0;
    if (have >= bytes && have / 2 <= bytes
        && (best < 0 || have < scratch_size (scratch_slots[best])))
      best = i;
  }
  if (best >= 0) {
    block = scratch_slots[best];
    scratch_cached -= scratch_size (block);
    memmove (&scratch_slots[best], &scratch_slots[best + 1],
             sizeof (gpointer) * (SCRATCH_SLOTS - 1 - best));
    scratch_slots[SCRATCH_SLOTS - 1] = NULL;
  }
  G_UNLOCK (scratch);
  if (!block) {
    if (posix_memalign (&block, 64, bytes + SCRATCH_HEADER) != 0) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE,
                   "out of memory for %" G_GSIZE_FORMAT " × %" G_GSIZE_FORMAT " bytes of working space",
                   n_elems, elem_size);
      return NULL;
    }
    *(gsize *) block = bytes;
  }
  return (char *) block + SCRATCH_HEADER;
}

void
grd_scratch_give (gpointer p)
{
  if (!p)
    return;
  gpointer block = (char *) p - SCRATCH_HEADER, drop = NULL;
  gsize bytes = scratch_size (block);
  G_LOCK (scratch);
  if (bytes > SCRATCH_CAP_BYTES / 2) {
    drop = block;   /* too large to keep */
  } else {
    /* the oldest buffers go until it fits */
    while (scratch_slots[SCRATCH_SLOTS - 1] || scratch_cached + bytes > SCRATCH_CAP_BYTES) {
      gint first = 0;
      while (!scratch_slots[first])
        first++;
      scratch_cached -= scratch_size (scratch_slots[first]);
      free (scratch_slots[first]);
      memmove (&scratch_slots[first], &scratch_slots[first + 1],
               sizeof (gpointer) * (SCRATCH_SLOTS - 1 - first));
      scratch_slots[SCRATCH_SLOTS - 1] = NULL;
    }
    gint i = 0;
    while (scratch_slots[i])
      i++;
    scratch_slots[i] = block;
    scratch_cached += bytes;
  }
  G_UNLOCK (scratch);
  free (drop);
}

GrdTensor *
grd_tensor_new_scalar (GrdDType dtype, double value)
{
  GrdTensor *t = grd_tensor_new (dtype, 0, NULL);
  grd_tensor_set (t, 0, value);
  return t;
}

GrdTensor *
grd_tensor_new_from_doubles (GrdDType dtype, gint rank, const gint64 *shape, const double *values)
{
  GrdTensor *t = grd_tensor_new (dtype, rank, shape);
  for (gint64 i = 0; i < t->size; i++)
    grd_tensor_set (t, i, values[i]);
  return t;
}

GrdTensor *
grd_tensor_ref (GrdTensor *t)
{
  g_return_val_if_fail (t != NULL, NULL);
  g_atomic_int_inc (&t->ref_count);
  return t;
}

void
grd_tensor_unref (GrdTensor *t)
{
  if (t && g_atomic_int_dec_and_test (&t->ref_count)) {
    free (t->data);
    g_free (t);
    __atomic_sub_fetch (&live_tensors, 1, __ATOMIC_RELAXED);
  }
}

GrdTensor *
grd_tensor_copy (const GrdTensor *t)
{
  GrdTensor *c = grd_tensor_new (t->dtype, t->rank, t->shape);
  memcpy (c->data, t->data, (gsize) t->size * grd_dtype_size (t->dtype));
  return c;
}

double
grd_tensor_get (const GrdTensor *t, gint64 i)
{
  switch (t->dtype) {
  case GRD_DTYPE_BOOL: return ((const guint8 *) t->data)[i] ? 1.0 : 0.0;
  case GRD_DTYPE_INT32: return ((const gint32 *) t->data)[i];
  case GRD_DTYPE_INT64: return (double) ((const gint64 *) t->data)[i];
  case GRD_DTYPE_FLOAT32: return ((const float *) t->data)[i];
  case GRD_DTYPE_FLOAT64: return ((const double *) t->data)[i];
  default: g_assert_not_reached ();
  }
}

/* Float to integer as NumPy does on x86 for values in range; out of range and
 * NaN give the minimum integer, as the hardware conversion does. */
static gint64
double_to_i64 (double v)
{
  if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0))
    return G_MININT64;
  return (gint64) v;
}

void
grd_tensor_set (GrdTensor *t, gint64 i, double v)
{
  switch (t->dtype) {
  case GRD_DTYPE_BOOL: ((guint8 *) t->data)[i] = v != 0.0; break;
  case GRD_DTYPE_INT32:
    ((gint32 *) t->data)[i] = (v >= -2147483648.0 && v < 2147483648.0) ? (gint32) v : G_MININT32;
    break;
  case GRD_DTYPE_INT64: ((gint64 *) t->data)[i] = double_to_i64 (v); break;
  case GRD_DTYPE_FLOAT32: ((float *) t->data)[i] = (float) v; break;
  case GRD_DTYPE_FLOAT64: ((double *) t->data)[i] = v; break;
  default: g_assert_not_reached ();
  }
}

static GrdTensor *cast_into (const GrdTensor *t, GrdTensor *c);

GrdTensor *
grd_tensor_cast (const GrdTensor *t, GrdDType dtype)
{
  return cast_into (t, grd_tensor_new (dtype, t->rank, t->shape));
}

GrdTensor *
grd_tensor_try_cast (const GrdTensor *t, GrdDType dtype, GError **error)
{
  GrdTensor *c = grd_tensor_try_new (dtype, t->rank, t->shape, error);
  return c ? cast_into (t, c) : NULL;
}

GrdTensor *
grd_tensor_try_convert (GrdTensor *t, GrdDType dtype, GError **error)
{
  return t->dtype == dtype ? grd_tensor_ref (t) : grd_tensor_try_cast (t, dtype, error);
}

/* Fills c (a new tensor of t's shape) with t's values in c's dtype; returns c. */
static GrdTensor *
cast_into (const GrdTensor *t, GrdTensor *c)
{
  GrdDType dtype = c->dtype;
  if (dtype == t->dtype) {
    memcpy (c->data, t->data, (gsize) t->size * grd_dtype_size (dtype));
    return c;
  }
  /* int64 to int32 wraps and int64 to int64 stays exact: go through integers
   * where doubles would round. */
  if (t->dtype == GRD_DTYPE_INT64 && dtype == GRD_DTYPE_INT32) {
    for (gint64 i = 0; i < t->size; i++)
      ((gint32 *) c->data)[i] = (gint32) (guint32) ((const gint64 *) t->data)[i];
    return c;
  }
  if (t->dtype == GRD_DTYPE_INT64 && dtype == GRD_DTYPE_BOOL) {
    for (gint64 i = 0; i < t->size; i++)
      ((guint8 *) c->data)[i] = ((const gint64 *) t->data)[i] != 0;
    return c;
  }
  if (t->dtype == GRD_DTYPE_INT64 && dtype == GRD_DTYPE_FLOAT32) {
    for (gint64 i = 0; i < t->size; i++)
      ((float *) c->data)[i] = (float) ((const gint64 *) t->data)[i];
    return c;
  }
  for (gint64 i = 0; i < t->size; i++)
    grd_tensor_set (c, i, grd_tensor_get (t, i));
  return c;
}

gboolean
grd_tensor_same_shape (const GrdTensor *a, const GrdTensor *b)
{
  if (a->rank != b->rank)
    return FALSE;
  for (gint i = 0; i < a->rank; i++)
    if (a->shape[i] != b->shape[i])
      return FALSE;
  return TRUE;
}

char *
grd_dims_describe (gint rank, const gint64 *dims)
{
  GString *s = g_string_new ("[");
  for (gint i = 0; i < rank; i++) {
    if (i)
      g_string_append_c (s, ',');
    if (dims[i] < 0)
      g_string_append_c (s, '?');
    else
      g_string_append_printf (s, "%" G_GINT64_FORMAT, dims[i]);
  }
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

static char *
describe (GrdDType dtype, gint rank, const gint64 *dims)
{
  g_autofree char *d = grd_dims_describe (rank, dims);
  return g_strconcat (grd_dtype_name (dtype), d, NULL);
}

char *
grd_tensor_describe (const GrdTensor *t)
{
  return describe (t->dtype, t->rank, t->shape);
}

char *
grd_type_describe (const GrdType *type)
{
  return describe (type->dtype, type->rank, type->dims);
}

void
grd_type_set (GrdType *type, GrdDType dtype, gint rank, const gint64 *dims)
{
  memset (type, 0, sizeof *type);
  type->dtype = dtype;
  type->rank = rank;
  for (gint i = 0; i < rank; i++)
    type->dims[i] = dims ? dims[i] : GRD_DIM_UNKNOWN;
}

gboolean
grd_type_accepts (const GrdType *type, const GrdTensor *value)
{
  if (type->rank != value->rank)
    return FALSE;
  for (gint i = 0; i < type->rank; i++)
    if (type->dims[i] >= 0 && type->dims[i] != value->shape[i])
      return FALSE;
  return TRUE;
}
