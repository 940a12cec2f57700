/* grd-feed.c: what an input receives on each call.
 *
 * A fixed value, or a data set cut into minibatches of rows. The rows form an
 * endless stream: pass p is a permutation of the rows (the identity without
 * shuffling, otherwise drawn from (number of rows, seed, p) alone), and call k
 * takes stream positions [k * batch, (k + 1) * batch). So the batches wrap
 * around at the end, and two feeds with the same rows, batch and seed stay
 * aligned row for row (inputs and their labels). */
#include "../grd-internal.h"

#include <string.h>

struct _GrdFeed {
  GrdType    type;
  GrdTensor *fixed;       /* a value feed */
  GrdTensor *data;        /* a data set: all its rows */
  gint64     n_rows;
  gint64     batch;
  gint64     row_bytes;
  gboolean   shuffle;
  guint64    seed;
  gint64     perm_pass;   /* the pass whose permutation `perm` holds, or -1 */
  gint64    *perm;
};

void
grd_feed_free (GrdFeed *feed)
{
  if (!feed)
    return;
  grd_tensor_unref (feed->fixed);
  grd_tensor_unref (feed->data);
  g_free (feed->perm);
  g_free (feed);
}

static gboolean
type_check (const GrdType *type, const GrdTensor *t, GError **error)
{
  if (grd_type_accepts (type, t))
    return TRUE;
  g_autofree char *want = grd_type_describe (type);
  g_autofree char *got = grd_tensor_describe (t);
  g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE, "expected %s, got %s", want, got);
  return FALSE;
}

static gboolean
get_int (JsonObject *o, const char *key, gint64 fallback, gint64 lo, gint64 *out, GError **error)
{
  JsonNode *n = json_object_get_member (o, key);
  if (!n) {
    *out = fallback;
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64
      || json_node_get_int (n) < lo) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "\"%s\" must be an integer of at least %"
                 G_GINT64_FORMAT, key, lo);
    return FALSE;
  }
  *out = json_node_get_int (n);
  return TRUE;
}

static gboolean
get_bool (JsonObject *o, const char *key, gboolean *out, GError **error)
{
  JsonNode *n = json_object_get_member (o, key);
  if (!n) {
    *out = FALSE;
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "\"%s\" must be true or false", key);
    return FALSE;
  }
  *out = json_node_get_boolean (n);
  return TRUE;
}

static char *
resolve_path (JsonObject *o, const char *key, const char *base_dir, const GrdLimits *limits,
              GError **error)
{
  JsonNode *n = json_object_get_member (o, key);
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "\"%s\" must be a file name", key);
    return NULL;
  }
  return grd_data_path (base_dir, json_node_get_string (n), limits, error);
}

/* One column reference: an index, or a header name. */
static gboolean
csv_column (GrdCsv *csv, JsonNode *n, const char *path, gint *out, GError **error)
{
  if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_INT64) {
    gint64 c = json_node_get_int (n);
    if (c < 0 || c >= grd_csv_n_columns (csv)) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE, "%s has %d columns, there is no column %"
                   G_GINT64_FORMAT, path, grd_csv_n_columns (csv), c);
      return FALSE;
    }
    *out = (gint) c;
    return TRUE;
  }
  if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING) {
    *out = grd_csv_find_column (csv, json_node_get_string (n));
    if (*out < 0) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE, "%s: no column is named '%s'%s", path,
                   json_node_get_string (n), " (names need \"header\": true)");
      return FALSE;
    }
    return TRUE;
  }
  g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "a column is an index or a header name");
  return FALSE;
}

static GrdTensor *
load_csv (JsonObject *o, GrdDType dtype, const char *base_dir, const GrdLimits *limits,
          GError **error)
{
  g_autofree char *path = resolve_path (o, "csv", base_dir, limits, error);
  gboolean header;
  if (!path || !get_bool (o, "header", &header, error))
    return NULL;
  g_autoptr (GrdCsv) csv = grd_csv_load_limited (path, header, limits, error);
  if (!csv)
    return NULL;
  JsonNode *one = json_object_get_member (o, "column");
  JsonNode *many = json_object_get_member (o, "columns");
  if (one && many) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "give \"column\" or \"columns\", not both");
    return NULL;
  }
  g_autoptr (GArray) cols = g_array_new (FALSE, FALSE, sizeof (gint));
  if (one) {
    gint c;
    if (!csv_column (csv, one, path, &c, error))
      return NULL;
    g_array_append_val (cols, c);
  } else if (many) {
    if (!JSON_NODE_HOLDS_ARRAY (many)) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                   "\"columns\" must be a list of column indices or names");
      return NULL;
    }
    JsonArray *a = json_node_get_array (many);
    for (guint i = 0; i < json_array_get_length (a); i++) {
      gint c;
      if (!csv_column (csv, json_array_get_element (a, i), path, &c, error))
        return NULL;
      g_array_append_val (cols, c);
    }
  } else {
    for (gint c = 0; c < grd_csv_n_columns (csv); c++)
      g_array_append_val (cols, c);
  }
  gint64 shape[2] = { grd_csv_n_rows (csv), cols->len };
  if (!grd_limits_check_value (limits, path, dtype, one ? 1 : 2, shape, error))
    return NULL;
  return grd_csv_columns (csv, (gint *) cols->data, cols->len, one != NULL, dtype, error);
}

GrdFeed *
grd_feed_new (JsonNode *json, const GrdType *type, const char *base_dir, GError **error)
{
  return grd_feed_new_limited (json, type, base_dir, NULL, error);
}

GrdFeed *
grd_feed_new_limited (JsonNode *json, const GrdType *type, const char *base_dir,
                      const GrdLimits *limits, GError **error)
{
  g_return_val_if_fail (json != NULL && type != NULL, NULL);
  g_autoptr (GrdFeed) feed = g_new0 (GrdFeed, 1);
  feed->type = *type;
  feed->perm_pass = -1;
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (json) ? json_node_get_object (json) : NULL;
  gboolean data_set = o && (json_object_has_member (o, "csv") || json_object_has_member (o, "batch")
                            || json_object_has_member (o, "shuffle"));
  if (!data_set) {
    feed->fixed = grd_value_from_json_limited (json, type->dtype, base_dir, limits, error);
    if (!feed->fixed || !type_check (type, feed->fixed, error))
      return NULL;
    return g_steal_pointer (&feed);
  }

  if (json_object_has_member (o, "csv")) {
    feed->data = load_csv (o, type->dtype, base_dir, limits, error);
  } else if (json_object_has_member (o, "npy")) {
    g_autofree char *path = resolve_path (o, "npy", base_dir, limits, error);
    g_autoptr (GrdTensor) t = path ? grd_npy_load_limited (path, limits, error) : NULL;
    if (t)
      feed->data = t->dtype == type->dtype ? grd_tensor_ref (t) : grd_tensor_cast (t, type->dtype);
  } else {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                 "a data-set feed needs \"npy\" or \"csv\" (a file of rows)");
  }
  if (!feed->data)
    return NULL;
  if (feed->data->rank < 1 || feed->data->shape[0] < 1) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE, "the data set has no rows");
    return NULL;
  }
  feed->n_rows = feed->data->shape[0];
  gint64 seed;
  if (!get_int (o, "batch", feed->n_rows, 1, &feed->batch, error)
      || !get_bool (o, "shuffle", &feed->shuffle, error)
      || !get_int (o, "seed", 0, G_MININT64, &seed, error))
    return NULL;
  feed->seed = (guint64) seed;
  if (feed->batch > G_MAXINT32) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE, "\"batch\" is too large");
    return NULL;
  }
  /* a batch is made on every call: it must fit the budget like any value */
  gint64 batch_shape[GRD_MAX_RANK];
  memcpy (batch_shape, feed->data->shape, sizeof batch_shape);
  batch_shape[0] = feed->batch;
  if (!grd_limits_check_value (limits, "a batch", feed->data->dtype, feed->data->rank,
                               batch_shape, error))
    return NULL;
  /* the batch must fit the input: its row shape, and the batch size where fixed */
  GrdTensor *d = feed->data;
  gboolean fits = type->rank == d->rank && (type->dims[0] < 0 || type->dims[0] == feed->batch);
  for (gint i = 1; fits && i < d->rank; i++)
    fits = type->dims[i] < 0 || type->dims[i] == d->shape[i];
  if (!fits) {
    g_autofree char *want = grd_type_describe (type);
    GrdType got;
    grd_type_set (&got, d->dtype, d->rank, d->shape);
    got.dims[0] = feed->batch;
    g_autofree char *gs = grd_type_describe (&got);
    g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE,
                 "expected %s, the data set gives batches of %s (%" G_GINT64_FORMAT " rows)",
                 want, gs, feed->n_rows);
    return NULL;
  }
  feed->row_bytes = (d->size / feed->n_rows) * grd_dtype_size (d->dtype);
  return g_steal_pointer (&feed);
}

/* The permutation of pass p: Fisher-Yates from a generator seeded by (seed, p). */
static void
make_perm (GrdFeed *feed, gint64 pass)
{
  if (!feed->perm)
    feed->perm = g_new (gint64, feed->n_rows);   /* n_rows: rows of a value already held */
  for (gint64 i = 0; i < feed->n_rows; i++)
    feed->perm[i] = i;
  GrdRandom rng;
  grd_random_seed (&rng, feed->seed ^ ((guint64) pass * 0xd1b54a32d192ed03ull));
  for (gint64 i = feed->n_rows - 1; i > 0; i--) {
    gint64 j = (gint64) (grd_random_uniform (&rng) * (double) (i + 1));
    gint64 t = feed->perm[i];
    feed->perm[i] = feed->perm[j];
    feed->perm[j] = t;
  }
  feed->perm_pass = pass;
}

GrdTensor *
grd_feed_next (GrdFeed *feed, gint64 step, GError **error)
{
  if (feed->fixed)
    return grd_tensor_ref (feed->fixed);
  if (step < 0 || step > G_MAXINT64 / feed->batch - 1) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE, "call number %" G_GINT64_FORMAT
                 " is out of range", step);
    return NULL;
  }
  GrdTensor *d = feed->data;
  gint64 shape[GRD_MAX_RANK];
  memcpy (shape, d->shape, sizeof shape);
  shape[0] = feed->batch;
  GrdTensor *t = grd_tensor_try_new (d->dtype, d->rank, shape, error);
  if (!t)
    return NULL;
  for (gint64 j = 0; j < feed->batch; j++) {
    gint64 pos = step * feed->batch + j;
    gint64 pass = pos / feed->n_rows, row = pos % feed->n_rows;
    if (feed->shuffle) {
      if (feed->perm_pass != pass)
        make_perm (feed, pass);
      row = feed->perm[row];
    }
    memcpy ((char *) t->data + j * feed->row_bytes, (char *) d->data + row * feed->row_bytes,
            feed->row_bytes);
  }
  return t;
}
