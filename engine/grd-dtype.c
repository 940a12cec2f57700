/* grd-dtype.c: dtype names, sizes and NumPy's promotion of array dtypes. */
#include "grd-internal.h"

G_DEFINE_QUARK (grd-error-quark, grd_error)

static const struct {
  const char *name;
  gsize       size;
} dtype_info[GRD_N_DTYPES] = {
  [GRD_DTYPE_BOOL] = { "bool", 1 },
  [GRD_DTYPE_INT32] = { "int32", 4 },
  [GRD_DTYPE_INT64] = { "int64", 8 },
  [GRD_DTYPE_FLOAT32] = { "float32", 4 },
  [GRD_DTYPE_FLOAT64] = { "float64", 8 },
};

const char *
grd_dtype_name (GrdDType dtype)
{
  g_return_val_if_fail (dtype < GRD_N_DTYPES, "?");
  return dtype_info[dtype].name;
}

gboolean
grd_dtype_from_name (const char *name, GrdDType *out)
{
  for (gint i = 0; i < GRD_N_DTYPES; i++)
    if (name && g_str_equal (name, dtype_info[i].name)) {
      *out = i;
      return TRUE;
    }
  return FALSE;
}

gsize
grd_dtype_size (GrdDType dtype)
{
  return dtype_info[dtype].size;
}

gboolean
grd_dtype_is_float (GrdDType dtype)
{
  return dtype == GRD_DTYPE_FLOAT32 || dtype == GRD_DTYPE_FLOAT64;
}

GrdDType
grd_dtype_promote (GrdDType a, GrdDType b)
{
  /* numpy.result_type for arrays: int32 with float32 needs float64 to hold
   * every int32 exactly, and so does int64 with float32. */
  if (a == b)
    return a;
  if (a > b) {
    GrdDType t = a;
    a = b;
    b = t;
  }
  if (b == GRD_DTYPE_FLOAT32 && (a == GRD_DTYPE_INT32 || a == GRD_DTYPE_INT64))
    return GRD_DTYPE_FLOAT64;
  return b;
}
