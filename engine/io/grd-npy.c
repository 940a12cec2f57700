/* grd-npy.c: NumPy .npy files (format versions 1.0, 2.0 and 3.0).
 *
 * Read: float32, float64, int32, int64 and bool keep their dtype; the smaller
 * integers (int8, int16, uint8, uint16) become int32, uint32 becomes int64, and
 * uint64 becomes int64 when every value fits. Big-endian data is byte-swapped,
 * Fortran-ordered data is transposed to row-major. Anything else (structured,
 * complex, float16, object, strings) is refused with the file named.
 * Write: version 1.0, little-endian, C order, the dtype of the tensor. */
#include "../grd-internal.h"

#include <string.h>

static const char magic[] = "\x93NUMPY";

typedef struct {
  char   kind;       /* 'f', 'i', 'u', 'b' */
  gint   size;       /* bytes per element */
  gboolean big;      /* big-endian */
  gboolean fortran;
  gint   rank;
  gint64 shape[GRD_MAX_RANK];
} Header;

/* ------------------------------------------------------------ header dict */

/* The header is a Python dict literal: {'descr': '<f4', 'fortran_order': False,
 * 'shape': (3, 4), }. A small scanner over exactly that grammar. */
typedef struct {
  const char *p, *end;
} Scan;

static void
skip_space (Scan *s)
{
  while (s->p < s->end && g_ascii_isspace (*s->p))
    s->p++;
}

static gboolean
eat (Scan *s, char c)
{
  skip_space (s);
  if (s->p < s->end && *s->p == c) {
    s->p++;
    return TRUE;
  }
  return FALSE;
}

static char *
scan_string (Scan *s)
{
  skip_space (s);
  if (s->p >= s->end || (*s->p != '\'' && *s->p != '"'))
    return NULL;
  char q = *s->p++;
  const char *start = s->p;
  while (s->p < s->end && *s->p != q)
    s->p++;
  if (s->p >= s->end)
    return NULL;
  return g_strndup (start, s->p++ - start);
}

static gboolean
scan_word (Scan *s, const char *word)
{
  skip_space (s);
  gsize n = strlen (word);
  if ((gsize) (s->end - s->p) >= n && strncmp (s->p, word, n) == 0) {
    s->p += n;
    return TRUE;
  }
  return FALSE;
}

static gboolean
scan_shape (Scan *s, Header *h)
{
  if (!eat (s, '('))
    return FALSE;
  h->rank = 0;
  for (;;) {
    if (eat (s, ')'))
      return TRUE;
    skip_space (s);
    if (s->p >= s->end || !g_ascii_isdigit (*s->p))
      return FALSE;
    gint64 v = 0;
    while (s->p < s->end && g_ascii_isdigit (*s->p)) {
      if (v > G_MAXINT64 / 10 - 10)
        return FALSE;
      v = v * 10 + (*s->p++ - '0');
    }
    if (s->p < s->end && *s->p == 'L')  /* Python 2 longs */
      s->p++;
    if (h->rank == GRD_MAX_RANK)
      return FALSE;
    h->shape[h->rank++] = v;
    if (!eat (s, ',')) {
      return eat (s, ')');
    }
  }
}

static gboolean
parse_descr (const char *d, Header *h)
{
  if (strlen (d) < 3)
    return FALSE;
  char order = d[0], kind = d[1];
  char *end = NULL;
  gint64 size = g_ascii_strtoll (d + 2, &end, 10);
  if (*end != '\0')
    return FALSE;
  if (order != '<' && order != '>' && order != '|' && order != '=')
    return FALSE;
  h->big = order == '>' || (order == '=' && G_BYTE_ORDER == G_BIG_ENDIAN);
  h->kind = kind;
  h->size = (gint) size;
  switch (kind) {
  case 'f': return size == 4 || size == 8;
  case 'i': return size == 1 || size == 2 || size == 4 || size == 8;
  case 'u': return size == 1 || size == 2 || size == 4 || size == 8;
  case 'b': return size == 1;
  default: return FALSE;
  }
}

static gboolean
parse_header (const char *text, gsize len, Header *h, const char *path, GError **error)
{
  Scan s = { text, text + len };
  gboolean have_descr = FALSE, have_order = FALSE, have_shape = FALSE;
  if (!eat (&s, '{'))
    goto bad;
  for (;;) {
    if (eat (&s, '}'))
      break;
    g_autofree char *key = scan_string (&s);
    if (!key || !eat (&s, ':'))
      goto bad;
    if (g_str_equal (key, "descr")) {
      g_autofree char *d = scan_string (&s);
      if (!d) {
        g_set_error (error, GRD_ERROR, GRD_ERROR_IO,
                     "%s: structured NumPy dtypes are not supported (plain numbers only)", path);
        return FALSE;
      }
      if (!parse_descr (d, h)) {
        g_set_error (error, GRD_ERROR, GRD_ERROR_IO,
                     "%s: NumPy dtype '%s' is not supported (float32, float64, integers, bool)",
                     path, d);
        return FALSE;
      }
      have_descr = TRUE;
    } else if (g_str_equal (key, "fortran_order")) {
      if (scan_word (&s, "True"))
        h->fortran = TRUE;
      else if (scan_word (&s, "False"))
        h->fortran = FALSE;
      else
        goto bad;
      have_order = TRUE;
    } else if (g_str_equal (key, "shape")) {
      if (!scan_shape (&s, h))
        goto bad;
      have_shape = TRUE;
    } else {
      goto bad;
    }
    if (!eat (&s, ',')) {
      if (!eat (&s, '}'))
        goto bad;
      break;
    }
  }
  if (have_descr && have_order && have_shape)
    return TRUE;
bad:
  g_set_error (error, GRD_ERROR, GRD_ERROR_IO,
               "%s: the .npy header is not a dict with 'descr', 'fortran_order' and 'shape'", path);
  return FALSE;
}

/* ------------------------------------------------------------ load */

static GrdDType
target_dtype (const Header *h)
{
  switch (h->kind) {
  case 'f': return h->size == 4 ? GRD_DTYPE_FLOAT32 : GRD_DTYPE_FLOAT64;
  case 'b': return GRD_DTYPE_BOOL;
  case 'i': return h->size == 8 ? GRD_DTYPE_INT64 : GRD_DTYPE_INT32;
  case 'u': return h->size >= 4 ? GRD_DTYPE_INT64 : GRD_DTYPE_INT32;
  default: g_assert_not_reached ();
  }
}

/* Element i of the file's raw data, in host order, widened to the target. */
static gboolean
convert_element (const Header *h, const guint8 *src, guint8 *dst)
{
  guint8 b[8];
  for (gint k = 0; k < h->size; k++)
    b[k] = src[h->big ? h->size - 1 - k : k];   /* now little-endian */
  guint64 u = 0;
  for (gint k = h->size - 1; k >= 0; k--)
    u = (u << 8) | b[k];
  switch (h->kind) {
  case 'f':
    if (h->size == 4) {
      guint32 w = (guint32) u;
      memcpy (dst, &w, 4);
    } else {
      memcpy (dst, &u, 8);
    }
    return TRUE;
  case 'b':
    *dst = u != 0;
    return TRUE;
  case 'i': {
    gint64 v = h->size == 8 ? (gint64) u
             : h->size == 4 ? (gint64) (gint32) (guint32) u
             : h->size == 2 ? (gint64) (gint16) (guint16) u : (gint64) (gint8) (guint8) u;
    if (h->size == 8)
      memcpy (dst, &v, 8);
    else {
      gint32 w = (gint32) v;
      memcpy (dst, &w, 4);
    }
    return TRUE;
  }
  case 'u':
    if (h->size >= 4) {
      if (u > (guint64) G_MAXINT64)
        return FALSE;
      gint64 v = (gint64) u;
      memcpy (dst, &v, 8);
    } else {
      gint32 w = (gint32) u;
      memcpy (dst, &w, 4);
    }
    return TRUE;
  default:
    g_assert_not_reached ();
  }
}

static GrdTensor *
load_data (const char *path, const guint8 *data, gsize len, const GrdLimits *limits,
           GError **error)
{
  if (len < 10 || memcmp (data, magic, 6) != 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_IO, "%s: not a NumPy .npy file", path);
    return NULL;
  }
  guint major = data[6];
  gsize header_len, start;
  if (major == 1) {
    header_len = data[8] | (gsize) data[9] << 8;
    start = 10;
  } else if (major == 2 || major == 3) {
    if (len < 12) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_IO, "%s: the .npy header is truncated", path);
      return NULL;
    }
    header_len = data[8] | (gsize) data[9] << 8 | (gsize) data[10] << 16 | (gsize) data[11] << 24;
    start = 12;
  } else {
    g_set_error (error, GRD_ERROR, GRD_ERROR_IO,
                 "%s: .npy format version %u.%u is not supported (1.0, 2.0 and 3.0 are)", path,
                 major, data[7]);
    return NULL;
  }
  if (header_len > len - start) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_IO, "%s: the .npy header is truncated", path);
    return NULL;
  }
  Header h = { 0 };
  if (!parse_header ((const char *) data + start, header_len, &h, path, error))
    return NULL;
  GrdDType dtype = target_dtype (&h);
  g_autoptr (GError) local = NULL;
  if (!grd_shape_check_size (h.rank, h.shape, dtype, &local)
      || !grd_limits_check_value (limits, "the array", dtype, h.rank, h.shape, &local)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_IO, "%s: %s", path, local->message);
    return NULL;
  }
  gint64 n = grd_shape_size (h.rank, h.shape);
  gsize body = len - start - header_len;
  if (body != (gsize) n * h.size) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_IO,
                 "%s: the data holds %" G_GSIZE_FORMAT " bytes, the header promises %"
                 G_GINT64_FORMAT, path, body, n * h.size);
    return NULL;
  }
  const guint8 *src = data + start + header_len;
  g_autoptr (GrdTensor) t = grd_tensor_try_new (dtype, h.rank, h.shape, error);
  if (!t)
    return NULL;
  if (n == 0)
    return g_steal_pointer (&t);   /* empty: the strides below could overflow */
  gsize es = grd_dtype_size (dtype);
  /* row-major strides of the destination; a Fortran file walks its first axis fastest */
  gint64 strides[GRD_MAX_RANK], idx[GRD_MAX_RANK] = { 0 };
  gint64 stride = 1;
  for (gint d = h.rank - 1; d >= 0; d--) {
    strides[d] = stride;
    stride *= MAX (h.shape[d], 1);
  }
  gint64 dst = 0;
  for (gint64 i = 0; i < n; i++) {
    gint64 at = h.fortran ? dst : i;
    if (!convert_element (&h, src + i * h.size, (guint8 *) t->data + at * es)) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_IO,
                   "%s: uint64 element %" G_GINT64_FORMAT " does not fit in int64", path, i);
      return NULL;
    }
    if (h.fortran)
      for (gint d = 0; d < h.rank; d++) {
        dst += strides[d];
        if (++idx[d] < h.shape[d])
          break;
        dst -= strides[d] * h.shape[d];
        idx[d] = 0;
      }
  }
  return g_steal_pointer (&t);
}

GrdTensor *
grd_npy_from_data (const guint8 *data, gsize len, const char *name, const GrdLimits *limits,
                   GError **error)
{
  return load_data (name, data, len, limits, error);
}

GrdTensor *
grd_npy_load (const char *path, GError **error)
{
  return grd_npy_load_limited (path, NULL, error);
}

GrdTensor *
grd_npy_load_limited (const char *path, const GrdLimits *limits, GError **error)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  if (!grd_data_read (path, limits, &contents, &len, error))
    return NULL;
  return load_data (path, (const guint8 *) contents, len, limits, error);
}

/* ------------------------------------------------------------ save */

gboolean
grd_npy_save (const char *path, const GrdTensor *value, GError **error)
{
  static const char *const descr[GRD_N_DTYPES] = {
    [GRD_DTYPE_BOOL] = "|b1", [GRD_DTYPE_INT32] = "<i4", [GRD_DTYPE_INT64] = "<i8",
    [GRD_DTYPE_FLOAT32] = "<f4", [GRD_DTYPE_FLOAT64] = "<f8",
  };
  GString *h = g_string_new (NULL);
  g_string_append_printf (h, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                          descr[value->dtype]);
  for (gint i = 0; i < value->rank; i++)
    g_string_append_printf (h, "%" G_GINT64_FORMAT ",%s", value->shape[i],
                            i + 1 < value->rank ? " " : "");
  if (value->rank > 1)
    g_string_truncate (h, h->len - 1);  /* (3, 4) but (3,) */
  g_string_append (h, "), }");
  /* pad with spaces so the data starts on a 64-byte boundary; end with \n */
  while ((10 + h->len + 1) % 64 != 0)
    g_string_append_c (h, ' ');
  g_string_append_c (h, '\n');
  gsize es = grd_dtype_size (value->dtype), bytes = (gsize) value->size * es;
  GByteArray *out = g_byte_array_sized_new (10 + h->len + bytes);
  guint8 pre[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, h->len & 0xff, h->len >> 8 };
  g_byte_array_append (out, pre, 10);
  g_byte_array_append (out, (const guint8 *) h->str, h->len);
  g_string_free (h, TRUE);
  gsize at = out->len;
  g_byte_array_append (out, value->data, bytes);
#if G_BYTE_ORDER == G_BIG_ENDIAN
  for (gsize i = 0; i < (gsize) value->size; i++)
    for (gsize a = 0, b = es - 1; a < b; a++, b--) {
      guint8 tmp = out->data[at + i * es + a];
      out->data[at + i * es + a] = out->data[at + i * es + b];
      out->data[at + i * es + b] = tmp;
    }
#else
  (void) at;
#endif
  g_autoptr (GError) local = NULL;
  gboolean ok = g_file_set_contents_full (path, (const char *) out->data, out->len,
                                          G_FILE_SET_CONTENTS_CONSISTENT, 0666, &local);
  g_byte_array_unref (out);
  if (!ok)
    g_set_error (error, GRD_ERROR, GRD_ERROR_IO, "%s: could not write: %s", path, local->message);
  return ok;
}
