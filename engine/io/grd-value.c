/* grd-value.c: values in JSON, both ways.
 *
 * Reading accepts every form of the file format (nested lists, shape+data,
 * shape+base64, npy, init) and checks sizes before it allocates, so that a
 * malformed or hostile file gives an error, never a huge allocation. Writing
 * gives nested lists with the shortest decimals that read back exactly. */
#include "../grd-internal.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define MAX_ELEMENTS (G_GINT64_CONSTANT (1) << 31)

/* ------------------------------------------------------------ shapes */

static char *
shape_text (gint rank, const gint64 *shape)
{
  GString *s = g_string_new ("[");
  for (gint i = 0; i < rank; i++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? ", " : "", shape[i]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

gboolean
grd_shape_check_size (gint rank, const gint64 *shape, GrdDType dtype, GError **error)
{
  gint64 n = 1;
  gboolean too_big = FALSE;
  for (gint i = 0; i < rank; i++) {
    if (shape[i] < 0) {
      g_autofree char *s = shape_text (rank, shape);
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "shape %s has a negative dimension", s);
      return FALSE;
    }
    /* n <= 2^31 here, so the product cannot overflow while we keep checking */
    if (shape[i] > MAX_ELEMENTS)
      too_big = TRUE;
    else if (!too_big)
      n *= shape[i];
    if (n > MAX_ELEMENTS)
      too_big = TRUE;
  }
  if (too_big) {
    /* a zero dimension makes any shape empty, which fits */
    for (gint i = 0; i < rank; i++)
      if (shape[i] == 0)
        return TRUE;
    g_autofree char *s = shape_text (rank, shape);
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                 "a value of shape %s has more than 2^31 elements, the most Gradus holds", s);
    return FALSE;
  }
  (void) dtype; /* 2^31 elements of 8 bytes fit in a gsize on the 64-bit targets */
  return TRUE;
}

static gboolean
json_integer (JsonNode *node, gint64 *out)
{
  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  GType t = json_node_get_value_type (node);
  if (t == G_TYPE_INT64) {
    *out = json_node_get_int (node);
    return TRUE;
  }
  if (t == G_TYPE_DOUBLE) {
    double d = json_node_get_double (node);
    if (d != floor (d) || !(d >= -9.2e18 && d <= 9.2e18))
      return FALSE;
    *out = (gint64) d;
    return TRUE;
  }
  return FALSE;
}

gboolean
grd_json_shape (JsonNode *node, gint *rank, gint64 *shape, GError **error)
{
  if (!node || !JSON_NODE_HOLDS_ARRAY (node)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "\"shape\" must be a list of integers");
    return FALSE;
  }
  JsonArray *a = json_node_get_array (node);
  guint n = json_array_get_length (a);
  if (n > GRD_MAX_RANK) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "\"shape\" has %u axes, at most %d are allowed",
                 n, GRD_MAX_RANK);
    return FALSE;
  }
  for (guint i = 0; i < n; i++) {
    gint64 v;
    if (!json_integer (json_array_get_element (a, i), &v)) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                   "\"shape\": entry %u is not an integer", i);
      return FALSE;
    }
    if (v < 0) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                   "\"shape\": entry %u is %" G_GINT64_FORMAT ", dimensions cannot be negative",
                   i, v);
      return FALSE;
    }
    shape[i] = v;
  }
  *rank = (gint) n;
  return TRUE;
}

/* ------------------------------------------------------------ scalars */

static const char *
kind_name (JsonNode *node)
{
  if (JSON_NODE_HOLDS_OBJECT (node))
    return "object";
  if (JSON_NODE_HOLDS_ARRAY (node))
    return "list";
  if (JSON_NODE_HOLDS_NULL (node))
    return "null";
  return "value";
}

/* Stores one JSON scalar into element i of t, refusing what does not fit. */
static gboolean
set_element (GrdTensor *t, gint64 i, JsonNode *node, GError **error)
{
  GrdDType dt = t->dtype;
  gboolean is_int = FALSE, is_bool = FALSE;
  gint64 iv = 0;
  double dv = 0;
  if (JSON_NODE_HOLDS_VALUE (node)) {
    GType vt = json_node_get_value_type (node);
    if (vt == G_TYPE_INT64) {
      is_int = TRUE;
      iv = json_node_get_int (node);
      dv = (double) iv;
    } else if (vt == G_TYPE_DOUBLE) {
      dv = json_node_get_double (node);
      /* JSON has no infinity: an infinite double is a literal that overflowed */
      if (!isfinite (dv) || (dt == GRD_DTYPE_FLOAT32 && fabs (dv) > FLT_MAX)) {
        g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                     "element %" G_GINT64_FORMAT " is too large for %s (it would be infinite; "
                     "write \"inf\" or \"-inf\" for infinity)", i,
                     grd_dtype_name (grd_dtype_is_float (dt) ? dt : GRD_DTYPE_FLOAT64));
        return FALSE;
      }
    } else if (vt == G_TYPE_BOOLEAN) {
      is_bool = TRUE;
      iv = json_node_get_boolean (node);
      dv = iv;
    } else if (vt == G_TYPE_STRING) {
      const char *s = json_node_get_string (node);
      if (g_strcmp0 (s, "nan") == 0)
        dv = NAN;
      else if (g_strcmp0 (s, "inf") == 0)
        dv = INFINITY;
      else if (g_strcmp0 (s, "-inf") == 0)
        dv = -INFINITY;
      else {
        g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                     "element %" G_GINT64_FORMAT " is the string \"%s\"; expected a number "
                     "(non-finite numbers are \"nan\", \"inf\", \"-inf\")", i, s);
        return FALSE;
      }
      if (!grd_dtype_is_float (dt)) {
        g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                     "element %" G_GINT64_FORMAT " is \"%s\", which a %s value cannot hold", i, s,
                     grd_dtype_name (dt));
        return FALSE;
      }
    } else {
      goto not_number;
    }
  } else {
    goto not_number;
  }

  switch (dt) {
  case GRD_DTYPE_FLOAT32:
    ((float *) t->data)[i] = (float) dv;
    return TRUE;
  case GRD_DTYPE_FLOAT64:
    ((double *) t->data)[i] = dv;
    return TRUE;
  case GRD_DTYPE_BOOL:
    if (!is_bool && !(is_int && (iv == 0 || iv == 1))) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                   "element %" G_GINT64_FORMAT ": a bool value takes true, false, 0 or 1", i);
      return FALSE;
    }
    ((guint8 *) t->data)[i] = iv != 0;
    return TRUE;
  case GRD_DTYPE_INT32:
  case GRD_DTYPE_INT64:
    if (!is_int && !is_bool) {
      if (dv != floor (dv) || !(dv >= -9223372036854775808.0 && dv < 9223372036854775808.0)) {
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        grd_format_float (buf, dv, FALSE);
        g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                     "element %" G_GINT64_FORMAT " is %s, not an integer as %s needs", i, buf,
                     grd_dtype_name (dt));
        return FALSE;
      }
      iv = (gint64) dv;
    }
    if (dt == GRD_DTYPE_INT32) {
      if (iv < G_MININT32 || iv > G_MAXINT32) {
        g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                     "element %" G_GINT64_FORMAT " is %" G_GINT64_FORMAT ", out of the int32 range",
                     i, iv);
        return FALSE;
      }
      ((gint32 *) t->data)[i] = (gint32) iv;
    } else {
      ((gint64 *) t->data)[i] = iv;
    }
    return TRUE;
  default:
    g_assert_not_reached ();
  }

not_number:
  g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
               "element %" G_GINT64_FORMAT " is a %s; expected a number%s", i,
               kind_name (node), dt == GRD_DTYPE_BOOL ? " or true/false" : "");
  return FALSE;
}

/* ------------------------------------------------------------ nested lists */

static gboolean
fill_nested (GrdTensor *t, JsonNode *node, gint depth, gint64 *pos, GError **error)
{
  if (depth == t->rank) {
    if (JSON_NODE_HOLDS_ARRAY (node)) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                   "ragged list: a list where a number was expected at depth %d", depth);
      return FALSE;
    }
    return set_element (t, (*pos)++, node, error);
  }
  if (!JSON_NODE_HOLDS_ARRAY (node)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                 "ragged list: a %s where a list of %" G_GINT64_FORMAT " was expected at depth %d",
                 kind_name (node), t->shape[depth], depth);
    return FALSE;
  }
  JsonArray *a = json_node_get_array (node);
  if ((gint64) json_array_get_length (a) != t->shape[depth]) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                 "ragged list: a list of %u where %" G_GINT64_FORMAT " were expected at depth %d",
                 json_array_get_length (a), t->shape[depth], depth);
    return FALSE;
  }
  for (guint i = 0; i < json_array_get_length (a); i++)
    if (!fill_nested (t, json_array_get_element (a, i), depth + 1, pos, error))
      return FALSE;
  return TRUE;
}

static GrdTensor *
from_nested (JsonNode *node, GrdDType dtype, const GrdLimits *limits, GError **error)
{
  gint rank = 0;
  gint64 shape[GRD_MAX_RANK];
  for (JsonNode *n = node; JSON_NODE_HOLDS_ARRAY (n);) {
    if (rank == GRD_MAX_RANK) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                   "nested lists deeper than %d axes", GRD_MAX_RANK);
      return NULL;
    }
    JsonArray *a = json_node_get_array (n);
    shape[rank++] = json_array_get_length (a);
    if (json_array_get_length (a) == 0)
      break;
    n = json_array_get_element (a, 0);
  }
  if (!grd_shape_check_size (rank, shape, dtype, error)
      || !grd_limits_check_value (limits, "the value", dtype, rank, shape, error))
    return NULL;
  g_autoptr (GrdTensor) t = grd_tensor_try_new (dtype, rank, shape, error);
  if (!t)
    return NULL;
  gint64 pos = 0;
  if (!fill_nested (t, node, 0, &pos, error))
    return NULL;
  return g_steal_pointer (&t);
}

/* ------------------------------------------------------------ object forms */

static gboolean
get_number (JsonObject *o, const char *key, double fallback, double *out, GError **error)
{
  JsonNode *n = json_object_get_member (o, key);
  if (!n) {
    *out = fallback;
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_VALUE (n)
      || (json_node_get_value_type (n) != G_TYPE_INT64
          && json_node_get_value_type (n) != G_TYPE_DOUBLE)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "\"%s\" must be a number", key);
    return FALSE;
  }
  *out = json_node_get_double (n);
  if (!isfinite (*out)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "\"%s\" must be finite", key);
    return FALSE;
  }
  return TRUE;
}

/* Fan-in and fan-out as Glorot and Bengio define them for a [in, out] matrix;
 * further axes (convolution kernels) multiply both by their receptive field. */
static void
fans (const GrdTensor *t, double *fan_in, double *fan_out)
{
  if (t->rank == 0) {
    *fan_in = *fan_out = 1;
  } else if (t->rank == 1) {
    *fan_in = *fan_out = (double) t->shape[0];
  } else {
    double field = 1;
    for (gint i = 2; i < t->rank; i++)
      field *= (double) t->shape[i];
    *fan_in = (double) t->shape[0] * field;
    *fan_out = (double) t->shape[1] * field;
  }
}

/* Drawn init values, by their parameters: the one documented cache of the
 * value code. The editor and `gradus bench` rebuild documents from JSON on
 * every edit or compile, and drawing a 784x512 glorot matrix again each time
 * would dwarf compiling. Values are immutable once made (nothing in the
 * engine writes into a tensor that another holds), so sharing them is safe.
 * At most INIT_CACHE_BYTES are kept; the oldest go first. */
#define INIT_CACHE_BYTES (256u << 20)

typedef struct {
  GMutex      lock;
  GHashTable *by_key;   /* key -> GrdTensor */
  GQueue      order;    /* keys, oldest first */
  gsize       bytes;
} InitCache;

static InitCache *
init_cache (void)
{
  static gsize once = 0;
  static InitCache cache;
  if (g_once_init_enter (&once)) {
    g_mutex_init (&cache.lock);
    cache.by_key = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) grd_tensor_unref);
    g_queue_init (&cache.order);
    g_once_init_leave (&once, 1);
  }
  return &cache;
}

static GrdTensor *
init_cache_lookup (const char *key)
{
  InitCache *c = init_cache ();
  g_mutex_lock (&c->lock);
  GrdTensor *t = g_hash_table_lookup (c->by_key, key);
  if (t)
    grd_tensor_ref (t);
  g_mutex_unlock (&c->lock);
  return t;
}

static void
init_cache_insert (const char *key, GrdTensor *t)
{
  gsize bytes = (gsize) t->size * grd_dtype_size (t->dtype);
  if (bytes > INIT_CACHE_BYTES / 4)
    return;
  InitCache *c = init_cache ();
  g_mutex_lock (&c->lock);
  if (!g_hash_table_contains (c->by_key, key)) {
    while (c->bytes + bytes > INIT_CACHE_BYTES && !g_queue_is_empty (&c->order)) {
      char *old = g_queue_pop_head (&c->order);
      GrdTensor *ot = g_hash_table_lookup (c->by_key, old);
      c->bytes -= (gsize) ot->size * grd_dtype_size (ot->dtype);
      g_hash_table_remove (c->by_key, old);   /* frees old */
    }
    char *k = g_strdup (key);
    g_hash_table_insert (c->by_key, k, grd_tensor_ref (t));
    g_queue_push_tail (&c->order, k);
    c->bytes += bytes;
  }
  g_mutex_unlock (&c->lock);
}

static const char *const init_kinds[] = {
  "zeros", "ones", "uniform", "normal", "glorot_uniform", NULL,
};

static GrdTensor *
from_init (JsonObject *o, GrdDType dtype, const GrdLimits *limits, GError **error)
{
  JsonNode *init = json_object_get_member (o, "init");
  const char *kind = JSON_NODE_HOLDS_VALUE (init) && json_node_get_value_type (init) == G_TYPE_STRING
                         ? json_node_get_string (init) : NULL;
  /* the name first: a wrong one must not cost an allocation */
  if (!kind || !g_strv_contains (init_kinds, kind)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                 "\"init\" must be \"zeros\", \"ones\", \"uniform\", \"normal\" or \"glorot_uniform\"");
    return NULL;
  }
  gint rank;
  gint64 shape[GRD_MAX_RANK];
  if (!grd_json_shape (json_object_get_member (o, "shape"), &rank, shape, error)
      || !grd_shape_check_size (rank, shape, dtype, error)
      || !grd_limits_check_value (limits, "the value", dtype, rank, shape, error))
    return NULL;
  gint64 seed = 0;
  JsonNode *sn = json_object_get_member (o, "seed");
  if (sn && !json_integer (sn, &seed)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "\"seed\" must be an integer");
    return NULL;
  }
  double low, high, mean, std;
  if (!get_number (o, "low", 0.0, &low, error) || !get_number (o, "high", 1.0, &high, error)
      || !get_number (o, "mean", 0.0, &mean, error) || !get_number (o, "std", 1.0, &std, error))
    return NULL;
  g_autoptr (GString) key = g_string_new (NULL);
  g_string_append_printf (key, "%s|%s|%" G_GINT64_FORMAT "|%.17g|%.17g|%.17g|%.17g|", kind ? kind : "",
                          grd_dtype_name (dtype), seed, low, high, mean, std);
  for (gint d = 0; d < rank; d++)
    g_string_append_printf (key, "%" G_GINT64_FORMAT ",", shape[d]);
  GrdTensor *cached = init_cache_lookup (key->str);
  if (cached)
    return cached;
  g_autoptr (GrdTensor) t = grd_tensor_try_new (dtype, rank, shape, error);
  if (!t)
    return NULL;
  GrdRandom rng;
  grd_random_seed (&rng, (guint64) seed);
  if (g_strcmp0 (kind, "zeros") == 0) {
    /* grd_tensor_new zero-fills */
  } else if (g_strcmp0 (kind, "ones") == 0) {
    for (gint64 i = 0; i < t->size; i++)
      grd_tensor_set (t, i, 1.0);
  } else if (g_strcmp0 (kind, "uniform") == 0 || g_strcmp0 (kind, "glorot_uniform") == 0) {
    if (kind[0] == 'g') {
      double fi, fo;
      fans (t, &fi, &fo);
      high = sqrt (6.0 / MAX (fi + fo, 1.0));
      low = -high;
    }
    for (gint64 i = 0; i < t->size; i++)
      grd_tensor_set (t, i, low + (high - low) * grd_random_uniform (&rng));
  } else if (g_strcmp0 (kind, "normal") == 0) {
    for (gint64 i = 0; i < t->size; i++)
      grd_tensor_set (t, i, mean + std * grd_random_normal (&rng));
  } else {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                 "\"init\" must be \"zeros\", \"ones\", \"uniform\", \"normal\" or \"glorot_uniform\"");
    return NULL;
  }
  init_cache_insert (key->str, t);
  return g_steal_pointer (&t);
}

static GrdTensor *
from_data (JsonObject *o, GrdDType dtype, const GrdLimits *limits, GError **error)
{
  gint rank;
  gint64 shape[GRD_MAX_RANK];
  if (!grd_json_shape (json_object_get_member (o, "shape"), &rank, shape, error)
      || !grd_shape_check_size (rank, shape, dtype, error)
      || !grd_limits_check_value (limits, "the value", dtype, rank, shape, error))
    return NULL;
  JsonNode *data = json_object_get_member (o, "data");
  if (!JSON_NODE_HOLDS_ARRAY (data)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "\"data\" must be a flat list of numbers");
    return NULL;
  }
  JsonArray *a = json_node_get_array (data);
  gint64 n = grd_shape_size (rank, shape);
  if ((gint64) json_array_get_length (a) != n) {
    g_autofree char *s = shape_text (rank, shape);
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                 "\"data\" has %u numbers, shape %s needs %" G_GINT64_FORMAT,
                 json_array_get_length (a), s, n);
    return NULL;
  }
  g_autoptr (GrdTensor) t = grd_tensor_try_new (dtype, rank, shape, error);
  if (!t)
    return NULL;
  for (gint64 i = 0; i < n; i++)
    if (!set_element (t, i, json_array_get_element (a, (guint) i), error))
      return NULL;
  return g_steal_pointer (&t);
}

static void
swap_to_host (gpointer data, gsize n, gsize es)
{
#if G_BYTE_ORDER == G_BIG_ENDIAN
  guint8 *p = data;
  for (gsize i = 0; i < n; i++, p += es)
    for (gsize a = 0, b = es - 1; a < b; a++, b--) {
      guint8 tmp = p[a];
      p[a] = p[b];
      p[b] = tmp;
    }
#else
  (void) data, (void) n, (void) es;
#endif
}

static GrdTensor *
from_base64 (JsonObject *o, GrdDType dtype, const GrdLimits *limits, GError **error)
{
  gint rank;
  gint64 shape[GRD_MAX_RANK];
  if (!grd_json_shape (json_object_get_member (o, "shape"), &rank, shape, error)
      || !grd_shape_check_size (rank, shape, dtype, error)
      || !grd_limits_check_value (limits, "the value", dtype, rank, shape, error))
    return NULL;
  JsonNode *b = json_object_get_member (o, "base64");
  if (!JSON_NODE_HOLDS_VALUE (b) || json_node_get_value_type (b) != G_TYPE_STRING) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "\"base64\" must be a string");
    return NULL;
  }
  const char *text = json_node_get_string (b);
  gsize es = grd_dtype_size (dtype), want = (gsize) grd_shape_size (rank, shape) * es;
  /* decoded length is at most 3/4 of the text: check before decoding */
  gsize text_len = strlen (text);
  if (text_len / 4 * 3 > want + 3 || (text_len + 3) / 4 * 3 < want) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                 "\"base64\" holds about %" G_GSIZE_FORMAT " bytes, %s values of this shape take %"
                 G_GSIZE_FORMAT, text_len / 4 * 3, grd_dtype_name (dtype), want);
    return NULL;
  }
  gsize got = 0;
  g_autofree guchar *bytes = g_base64_decode (text, &got);
  if (got != want) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                 "\"base64\" holds %" G_GSIZE_FORMAT " bytes, %s values of this shape take %"
                 G_GSIZE_FORMAT, got, grd_dtype_name (dtype), want);
    return NULL;
  }
  GrdTensor *t = grd_tensor_try_new (dtype, rank, shape, error);
  if (!t)
    return NULL;
  if (want)
    memcpy (t->data, bytes, want);
  swap_to_host (t->data, (gsize) t->size, es);
  if (dtype == GRD_DTYPE_BOOL)
    for (gint64 i = 0; i < t->size; i++)
      ((guint8 *) t->data)[i] = ((guint8 *) t->data)[i] != 0;
  return t;
}

static GrdTensor *
from_npy (JsonObject *o, GrdDType dtype, const char *base_dir, const GrdLimits *limits,
          GError **error)
{
  JsonNode *pn = json_object_get_member (o, "npy");
  if (!JSON_NODE_HOLDS_VALUE (pn) || json_node_get_value_type (pn) != G_TYPE_STRING) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "\"npy\" must be a file name");
    return NULL;
  }
  const char *name = json_node_get_string (pn);
  g_autofree char *path = grd_data_path (base_dir, name, limits, error);
  if (!path)
    return NULL;
  g_autoptr (GrdTensor) t = grd_npy_load_limited (path, limits, error);
  if (!t)
    return NULL;
  JsonNode *sn = json_object_get_member (o, "shape");
  if (sn) {
    gint rank;
    gint64 shape[GRD_MAX_RANK];
    if (!grd_json_shape (sn, &rank, shape, error))
      return NULL;
    gboolean same = rank == t->rank;
    for (gint i = 0; same && i < rank; i++)
      same = shape[i] == t->shape[i];
    if (!same) {
      g_autofree char *want = shape_text (rank, shape), *got = shape_text (t->rank, t->shape);
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "%s holds shape %s, \"shape\" says %s",
                   path, got, want);
      return NULL;
    }
  }
  if (t->dtype == dtype)
    return g_steal_pointer (&t);
  return grd_tensor_cast (t, dtype);
}

GrdTensor *
grd_value_from_json (JsonNode *node, GrdDType dtype, const char *base_dir, GError **error)
{
  return grd_value_from_json_limited (node, dtype, base_dir, NULL, error);
}

GrdTensor *
grd_value_from_json_limited (JsonNode *node, GrdDType dtype, const char *base_dir,
                             const GrdLimits *limits, GError **error)
{
  g_return_val_if_fail (dtype < GRD_N_DTYPES, NULL);
  if (!node || JSON_NODE_HOLDS_NULL (node)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "the value is missing (null)");
    return NULL;
  }
  if (JSON_NODE_HOLDS_OBJECT (node)) {
    JsonObject *o = json_node_get_object (node);
    if (json_object_has_member (o, "npy"))
      return from_npy (o, dtype, base_dir, limits, error);
    if (json_object_has_member (o, "init"))
      return from_init (o, dtype, limits, error);
    if (json_object_has_member (o, "base64"))
      return from_base64 (o, dtype, limits, error);
    if (json_object_has_member (o, "data"))
      return from_data (o, dtype, limits, error);
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                 "a value object needs \"data\", \"base64\", \"npy\" or \"init\"");
    return NULL;
  }
  return from_nested (node, dtype, limits, error);
}

/* ------------------------------------------------------------ output */

/* Powers of ten that are exact doubles. */
static const double exact_pow10[] = {
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* Writes m * 10^k (m of p digits) as printf's %.{precision}g would. */
static void
write_g (char *buf, guint64 m, gint k, gint p, gint precision, gboolean negative)
{
  char digits[24];
  gint n = 0;
  for (guint64 x = m; n < p; x /= 10)
    digits[p - 1 - n++] = (char) ('0' + x % 10);
  while (n > 1 && digits[n - 1] == '0')
    n--;  /* %g drops trailing zeros */
  gint e = k + p - 1;  /* exponent of the first digit */
  char *o = buf;
  if (negative)
    *o++ = '-';
  if (e < -4 || e >= precision) {
    *o++ = digits[0];
    if (n > 1) {
      *o++ = '.';
      memcpy (o, digits + 1, n - 1);
      o += n - 1;
    }
    o += g_snprintf (o, 8, "e%c%02d", e < 0 ? '-' : '+', ABS (e));
  } else if (e >= 0) {
    for (gint i = 0; i <= e; i++)
      *o++ = i < n ? digits[i] : '0';
    if (n > e + 1) {
      *o++ = '.';
      memcpy (o, digits + e + 1, n - e - 1);
      o += n - e - 1;
    }
    *o = '\0';
  } else {
    *o++ = '0';
    *o++ = '.';
    for (gint i = 0; i < -e - 1; i++)
      *o++ = '0';
    memcpy (o, digits, n);
    o += n;
  }
  *o = '\0';
}

/* The shortest form by exact arithmetic: a candidate m * 10^k with m below
 * 2^53 and |k| <= 22 reads back through one correctly rounded multiplication
 * or division, which is what a correct strtod gives (Clinger's fast path).
 * FALSE where those bounds do not hold; the caller then uses printf. */
static gboolean
format_fast (char buf[G_ASCII_DTOSTR_BUF_SIZE], double v, gboolean single)
{
  double a = fabs (v);
  gint first = 6, last = single ? 9 : 15;
  gint x = (gint) floor (log10 (a));
  for (gint p = first; p <= last; p++) {
    for (gint attempt = 0; attempt < 2; attempt++) {
      gint k = x - (p - 1);
      if (k < -22 || k > 22)
        return FALSE;
      double scaled = k >= 0 ? a / exact_pow10[k] : a * exact_pow10[-k];
      double m = nearbyint (scaled);
      double lo = exact_pow10[p - 1], hi = exact_pow10[p];
      if (m < lo && attempt == 0) {
        x--;  /* log10 rounded up across a power of ten */
        continue;
      }
      if (m >= hi && attempt == 0) {
        x++;
        continue;
      }
      if (m < lo || m >= hi)
        return FALSE;
      double back = k >= 0 ? m * exact_pow10[k] : m / exact_pow10[-k];
      if (single ? (float) back == (float) a : back == a) {
        /* printf decides between 1e+06 and 1000000 by the precision asked
         * for: the shortest that the slow path would try first */
        write_g (buf, (guint64) m, k, p, MAX (p, single ? 6 : 15), v < 0);
        return TRUE;
      }
      break;
    }
  }
  return FALSE;
}

void
grd_format_float (char buf[G_ASCII_DTOSTR_BUF_SIZE], double v, gboolean single)
{
  if (isnan (v)) {
    strcpy (buf, "nan");
    return;
  }
  if (isinf (v)) {
    strcpy (buf, v > 0 ? "inf" : "-inf");
    return;
  }
  if (v == 0) {
    strcpy (buf, signbit (v) ? "-0.0" : "0.0");
    return;
  }
  if (!format_fast (buf, v, single)) {
    /* Reading back is monotonic in the precision (more correctly rounded
     * digits are never further away), so search the shortest precision that
     * round trips: 6 to 9 digits for float32, 15 to 17 for float64. */
    static const char *const fmt[] = { "%.6g", "%.7g", "%.8g", "%.9g",
                                       "%.15g", "%.16g", "%.17g" };
    gint lo = single ? 0 : 4, hi = single ? 3 : 6;
    while (lo < hi) {
      gint mid = (lo + hi) / 2;
      g_ascii_formatd (buf, G_ASCII_DTOSTR_BUF_SIZE, fmt[mid], v);
      double back = g_ascii_strtod (buf, NULL);
      /* readers of float32 output go through a double, as JSON parsers do */
      if (single ? (float) back == (float) v : back == v)
        hi = mid;
      else
        lo = mid + 1;
    }
    g_ascii_formatd (buf, G_ASCII_DTOSTR_BUF_SIZE, fmt[lo], v);
  }
  if (!strpbrk (buf, ".eEn"))
    strcat (buf, ".0");
}

static void
append_element (GString *out, const GrdTensor *t, gint64 i)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  switch (t->dtype) {
  case GRD_DTYPE_BOOL:
    g_string_append (out, ((const guint8 *) t->data)[i] ? "true" : "false");
    return;
  case GRD_DTYPE_INT32:
    g_string_append_printf (out, "%d", ((const gint32 *) t->data)[i]);
    return;
  case GRD_DTYPE_INT64:
    g_string_append_printf (out, "%" G_GINT64_FORMAT, ((const gint64 *) t->data)[i]);
    return;
  case GRD_DTYPE_FLOAT32:
  case GRD_DTYPE_FLOAT64: {
    gboolean single = t->dtype == GRD_DTYPE_FLOAT32;
    double v = single ? ((const float *) t->data)[i] : ((const double *) t->data)[i];
    grd_format_float (buf, v, single);
    if (isfinite (v))
      g_string_append (out, buf);
    else
      g_string_append_printf (out, "\"%s\"", buf);
    return;
  }
  default:
    g_assert_not_reached ();
  }
}

static void
append_nested (GString *out, const GrdTensor *t, gint depth, gint64 *pos)
{
  if (depth == t->rank) {
    append_element (out, t, (*pos)++);
    return;
  }
  g_string_append_c (out, '[');
  for (gint64 i = 0; i < t->shape[depth]; i++) {
    if (i)
      g_string_append (out, ", ");
    append_nested (out, t, depth + 1, pos);
  }
  g_string_append_c (out, ']');
}

void
grd_value_append_json (GString *out, const GrdTensor *value)
{
  gint64 pos = 0;
  append_nested (out, value, 0, &pos);
}

static JsonNode *
element_node (const GrdTensor *t, gint64 i)
{
  JsonNode *n = json_node_alloc ();
  switch (t->dtype) {
  case GRD_DTYPE_BOOL:
    return json_node_init_boolean (n, ((const guint8 *) t->data)[i] != 0);
  case GRD_DTYPE_INT32:
    return json_node_init_int (n, ((const gint32 *) t->data)[i]);
  case GRD_DTYPE_INT64:
    return json_node_init_int (n, ((const gint64 *) t->data)[i]);
  case GRD_DTYPE_FLOAT32:
  case GRD_DTYPE_FLOAT64: {
    gboolean single = t->dtype == GRD_DTYPE_FLOAT32;
    double v = single ? ((const float *) t->data)[i] : ((const double *) t->data)[i];
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    grd_format_float (buf, v, single);
    if (!isfinite (v))
      return json_node_init_string (n, buf);
    /* a float32 becomes the double of its shortest decimal, so that writers
     * printing doubles shortest print "0.1" and not 0.10000000149011612 */
    return json_node_init_double (n, single ? g_ascii_strtod (buf, NULL) : v);
  }
  default:
    g_assert_not_reached ();
  }
}

static JsonNode *
nested_node (const GrdTensor *t, gint depth, gint64 *pos)
{
  if (depth == t->rank)
    return element_node (t, (*pos)++);
  JsonArray *a = json_array_sized_new ((guint) t->shape[depth]);
  for (gint64 i = 0; i < t->shape[depth]; i++)
    json_array_add_element (a, nested_node (t, depth + 1, pos));
  JsonNode *n = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (n, a);
  return n;
}

JsonNode *
grd_value_to_json (const GrdTensor *value)
{
  gint64 pos = 0;
  return nested_node (value, 0, &pos);
}
