/* test-io.c: values in JSON, .npy files and CSV tables. */
#include "grad-check.h"
#include "grd-internal.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

/* ------------------------------------------------------------ helpers */

static char *
data_path (const char *name)
{
  const char *src = g_getenv ("GRADUS_SOURCE_DIR");
  g_assert_nonnull (src);
  return g_build_filename (src, "tests", "data", name, NULL);
}

static JsonNode *
parse (const char *text)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_assert_true (json_parser_load_from_data (p, text, -1, &error));
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (p));
}

/* Parses `text` as a value of dtype; NULL with *error set on failure. */
static GrdTensor *
value (const char *text, GrdDType dtype, GError **error)
{
  g_autoptr (JsonNode) n = parse (text);
  g_autofree char *dir = data_path ("");
  return grd_value_from_json (n, dtype, dir, error);
}

static GrdTensor *
value_ok (const char *text, GrdDType dtype)
{
  g_autoptr (GError) error = NULL;
  GrdTensor *t = value (text, dtype, &error);
  g_assert_no_error (error);
  g_assert_nonnull (t);
  return t;
}

static void
value_fails (const char *text, GrdDType dtype, const char *fragment)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdTensor) t = value (text, dtype, &error);
  if (t)
    g_error ("%s was accepted as %s", text, grd_dtype_name (dtype));
  g_assert_error (error, GRD_ERROR, GRD_ERROR_PARSE);
  if (fragment && !strstr (error->message, fragment))
    g_error ("error for %s: '%s' does not mention '%s'", text, error->message, fragment);
}

static void
assert_same_bytes (const GrdTensor *a, const GrdTensor *b)
{
  g_assert_cmpint (a->dtype, ==, b->dtype);
  g_assert_true (grd_tensor_same_shape (a, b));
  g_assert_cmpmem (a->data, a->size * grd_dtype_size (a->dtype), b->data,
                   b->size * grd_dtype_size (b->dtype));
}

static char *
text_of (const GrdTensor *t)
{
  GString *s = g_string_new (NULL);
  grd_value_append_json (s, t);
  return g_string_free (s, FALSE);
}

/* ------------------------------------------------------------ value forms */

static void
test_value_nested (void)
{
  g_autoptr (GrdTensor) t = value_ok ("[[1, 2.5, -3], [4, 5, 6e2]]", GRD_DTYPE_FLOAT64);
  double want[] = { 1, 2.5, -3, 4, 5, 600 };
  grd_test_assert_tensor (t, GRD_DTYPE_FLOAT64, 2, (gint64[]) { 2, 3 }, want, 0, 0);

  g_autoptr (GrdTensor) s = value_ok ("3.5", GRD_DTYPE_FLOAT32);
  grd_test_assert_tensor (s, GRD_DTYPE_FLOAT32, 0, NULL, (double[]) { 3.5 }, 0, 0);

  g_autoptr (GrdTensor) b = value_ok ("[true, false, true]", GRD_DTYPE_BOOL);
  grd_test_assert_tensor (b, GRD_DTYPE_BOOL, 1, (gint64[]) { 3 }, (double[]) { 1, 0, 1 }, 0, 0);

  g_autoptr (GrdTensor) e = value_ok ("[[], []]", GRD_DTYPE_INT32);
  g_assert_cmpint (e->rank, ==, 2);
  g_assert_cmpint (e->shape[0], ==, 2);
  g_assert_cmpint (e->shape[1], ==, 0);

  g_autoptr (GrdTensor) nf = value_ok ("[\"nan\", \"inf\", \"-inf\", 1]", GRD_DTYPE_FLOAT32);
  g_assert_true (isnan (grd_tensor_get (nf, 0)));
  g_assert_true (isinf (grd_tensor_get (nf, 1)) && grd_tensor_get (nf, 1) > 0);
  g_assert_true (isinf (grd_tensor_get (nf, 2)) && grd_tensor_get (nf, 2) < 0);

  /* integral floats are fine for integer dtypes */
  g_autoptr (GrdTensor) i = value_ok ("[1, 2.0, -3]", GRD_DTYPE_INT32);
  grd_test_assert_tensor (i, GRD_DTYPE_INT32, 1, (gint64[]) { 3 }, (double[]) { 1, 2, -3 }, 0, 0);
}

static void
test_value_int64_exact (void)
{
  /* 2^53 + 1 and the int64 extremes are not doubles */
  g_autoptr (GrdTensor) t = value_ok ("[9007199254740993, -9223372036854775808, 9223372036854775807]",
                                      GRD_DTYPE_INT64);
  const gint64 *d = t->data;
  g_assert_cmpint (d[0], ==, G_GINT64_CONSTANT (9007199254740993));
  g_assert_cmpint (d[1], ==, G_MININT64);
  g_assert_cmpint (d[2], ==, G_MAXINT64);
  g_autofree char *s = text_of (t);
  g_assert_cmpstr (s, ==, "[9007199254740993, -9223372036854775808, 9223372036854775807]");
}

static void
test_value_shape_data (void)
{
  g_autoptr (GrdTensor) t = value_ok ("{\"shape\": [2, 2], \"data\": [1, 2, 3, 4]}",
                                      GRD_DTYPE_INT64);
  grd_test_assert_tensor (t, GRD_DTYPE_INT64, 2, (gint64[]) { 2, 2 }, (double[]) { 1, 2, 3, 4 },
                          0, 0);
  g_autoptr (GrdTensor) z = value_ok ("{\"shape\": [], \"data\": [7]}", GRD_DTYPE_FLOAT64);
  grd_test_assert_tensor (z, GRD_DTYPE_FLOAT64, 0, NULL, (double[]) { 7 }, 0, 0);
}

static void
test_value_base64 (void)
{
  /* bytes made by hand: little-endian float32 1.0 (0x3f800000) and -2.0 (0xc0000000) */
  const guint8 bytes[] = { 0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0 };
  g_autofree char *b64 = g_base64_encode (bytes, sizeof bytes);
  g_autofree char *text = g_strdup_printf ("{\"shape\": [2], \"base64\": \"%s\"}", b64);
  g_autoptr (GrdTensor) t = value_ok (text, GRD_DTYPE_FLOAT32);
  grd_test_assert_tensor (t, GRD_DTYPE_FLOAT32, 1, (gint64[]) { 2 }, (double[]) { 1, -2 }, 0, 0);
  /* the same bytes are one float64 */
  g_autofree char *text2 = g_strdup_printf ("{\"shape\": [], \"base64\": \"%s\"}", b64);
  g_autoptr (GrdTensor) d = value_ok (text2, GRD_DTYPE_FLOAT64);
  double want;
  guint64 bits = 0;
  for (gint i = 7; i >= 0; i--)
    bits = bits << 8 | bytes[i];
  memcpy (&want, &bits, 8);
  g_assert_cmpmem (d->data, 8, &want, 8);
  value_fails (text, GRD_DTYPE_FLOAT64, "bytes");        /* 8 bytes, 16 needed */
  value_fails ("{\"shape\": [3], \"base64\": 5}", GRD_DTYPE_FLOAT32, "base64");
}

static void
test_value_npy (void)
{
  g_autoptr (GrdTensor) t = value_ok ("{\"npy\": \"f8.npy\"}", GRD_DTYPE_FLOAT64);
  g_assert_cmpint (t->rank, ==, 2);
  for (gint64 i = 0; i < 12; i++)
    g_assert_cmpfloat (grd_tensor_get (t, i), ==, i * 0.5 - 2.0);
  /* converted to the node's dtype */
  g_autoptr (GrdTensor) f = value_ok ("{\"npy\": \"f8.npy\", \"shape\": [3, 4]}", GRD_DTYPE_FLOAT32);
  g_assert_cmpint (f->dtype, ==, GRD_DTYPE_FLOAT32);
  g_assert_cmpfloat (grd_tensor_get (f, 11), ==, 3.5);
  value_fails ("{\"npy\": \"f8.npy\", \"shape\": [4, 3]}", GRD_DTYPE_FLOAT64, "shape");
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdTensor) m = value ("{\"npy\": \"missing.npy\"}", GRD_DTYPE_FLOAT64, &error);
  g_assert_null (m);
  g_assert_nonnull (strstr (error->message, "missing.npy"));
}

static void
test_value_init (void)
{
  g_autoptr (GrdTensor) z = value_ok ("{\"shape\": [3, 2], \"init\": \"zeros\"}", GRD_DTYPE_FLOAT32);
  g_autoptr (GrdTensor) o = value_ok ("{\"shape\": [3, 2], \"init\": \"ones\"}", GRD_DTYPE_INT32);
  for (gint64 i = 0; i < 6; i++) {
    g_assert_cmpfloat (grd_tensor_get (z, i), ==, 0);
    g_assert_cmpfloat (grd_tensor_get (o, i), ==, 1);
  }
  const char *u = "{\"shape\": [100, 50], \"init\": \"uniform\", \"low\": -2, \"high\": 3, \"seed\": 7}";
  g_autoptr (GrdTensor) u1 = value_ok (u, GRD_DTYPE_FLOAT64);
  g_autoptr (GrdTensor) u2 = value_ok (u, GRD_DTYPE_FLOAT64);
  assert_same_bytes (u1, u2);  /* reproducible */
  /* the documented draw: low + (high - low) * grd_random_uniform, row-major */
  GrdRandom rng;
  grd_random_seed (&rng, 7);
  double lo = 1e9, hi = -1e9;
  for (gint64 i = 0; i < u1->size; i++) {
    double want = -2 + 5 * grd_random_uniform (&rng);
    g_assert_cmpfloat (grd_tensor_get (u1, i), ==, want);
    lo = MIN (lo, want);
    hi = MAX (hi, want);
  }
  g_assert_cmpfloat (lo, >=, -2);
  g_assert_cmpfloat (hi, <, 3);
  g_assert_cmpfloat (lo, <, -1.9);
  g_assert_cmpfloat (hi, >, 2.9);
  g_autoptr (GrdTensor) u3 = value_ok ("{\"shape\": [100, 50], \"init\": \"uniform\", \"seed\": 8}",
                                       GRD_DTYPE_FLOAT64);
  g_assert_cmpfloat (grd_tensor_get (u3, 0), !=, grd_tensor_get (u1, 0));

  g_autoptr (GrdTensor) n = value_ok ("{\"shape\": [20000], \"init\": \"normal\", \"mean\": 1.5, "
                                      "\"std\": 0.5, \"seed\": 3}", GRD_DTYPE_FLOAT64);
  double s = 0, s2 = 0;
  for (gint64 i = 0; i < n->size; i++) {
    s += grd_tensor_get (n, i);
    s2 += grd_tensor_get (n, i) * grd_tensor_get (n, i);
  }
  double mean = s / n->size, var = s2 / n->size - mean * mean;
  g_assert_cmpfloat (fabs (mean - 1.5), <, 0.02);
  g_assert_cmpfloat (fabs (sqrt (var) - 0.5), <, 0.02);

  /* Glorot and Bengio: U(-l, l), l = sqrt(6 / (fan_in + fan_out)) */
  g_autoptr (GrdTensor) gl = value_ok ("{\"shape\": [30, 20], \"init\": \"glorot_uniform\", "
                                       "\"seed\": 1}", GRD_DTYPE_FLOAT32);
  double limit = sqrt (6.0 / 50.0), m = 0;
  for (gint64 i = 0; i < gl->size; i++)
    m = MAX (m, fabs (grd_tensor_get (gl, i)));
  g_assert_cmpfloat (m, <=, limit);
  g_assert_cmpfloat (m, >, 0.9 * limit);

  value_fails ("{\"shape\": [2], \"init\": \"xavier\"}", GRD_DTYPE_FLOAT32, "init");
  value_fails ("{\"shape\": [2], \"init\": \"uniform\", \"seed\": \"a\"}", GRD_DTYPE_FLOAT32, "seed");
  value_fails ("{\"shape\": [2], \"init\": \"uniform\", \"low\": true}", GRD_DTYPE_FLOAT32, "low");
}

static void
test_value_errors (void)
{
  value_fails ("[[1, 2], [3]]", GRD_DTYPE_FLOAT32, "ragged");
  value_fails ("[[1, 2], 3]", GRD_DTYPE_FLOAT32, "ragged");
  value_fails ("[1, [2, 3]]", GRD_DTYPE_FLOAT32, "ragged");
  value_fails ("[1, \"a\"]", GRD_DTYPE_FLOAT32, "\"a\"");
  value_fails ("[1, null]", GRD_DTYPE_FLOAT32, "null");
  value_fails ("[1, {}]", GRD_DTYPE_FLOAT32, "object");
  value_fails ("null", GRD_DTYPE_FLOAT32, "missing");
  value_fails ("\"nan\"", GRD_DTYPE_INT32, "nan");
  value_fails ("1.5", GRD_DTYPE_INT64, "integer");
  value_fails ("3000000000", GRD_DTYPE_INT32, "int32");
  value_fails ("2", GRD_DTYPE_BOOL, "bool");
  value_fails ("{\"shape\": [2, 2], \"data\": [1, 2, 3]}", GRD_DTYPE_FLOAT32, "3 numbers");
  value_fails ("{\"shape\": [2], \"data\": [[1], [2]]}", GRD_DTYPE_FLOAT32, NULL);
  value_fails ("{\"shape\": [-1], \"data\": []}", GRD_DTYPE_FLOAT32, "negative");
  value_fails ("{\"shape\": [1.5], \"data\": [1]}", GRD_DTYPE_FLOAT32, "integer");
  value_fails ("{\"shape\": 3, \"data\": [1]}", GRD_DTYPE_FLOAT32, "shape");
  value_fails ("{\"shape\": [1,1,1,1,1,1,1,1,1], \"data\": [1]}", GRD_DTYPE_FLOAT32, "axes");
  value_fails ("[[[[[[[[[1]]]]]]]]]", GRD_DTYPE_FLOAT32, "deeper");
  value_fails ("{\"shape\": [1e12, 1e12], \"init\": \"zeros\"}", GRD_DTYPE_FLOAT32, "2^31");
  value_fails ("{\"shape\": [2147483649], \"init\": \"zeros\"}", GRD_DTYPE_BOOL, "2^31");
  value_fails ("{\"shape\": [65536, 65536, 65536, 65536], \"data\": []}", GRD_DTYPE_FLOAT64, "2^31");
  value_fails ("{\"shape\": [9223372036854775807, 9223372036854775807], \"base64\": \"\"}",
               GRD_DTYPE_FLOAT64, "2^31");
  value_fails ("{\"shape\": [2]}", GRD_DTYPE_FLOAT32, "needs");
  /* a zero dimension makes a shape empty; its other dimensions must still fit
   * the budget (tests/test-limits.c) */
  g_autoptr (GrdTensor) e = value_ok ("{\"shape\": [0, 4000000], \"data\": []}",
                                      GRD_DTYPE_FLOAT32);
  g_assert_cmpint (e->size, ==, 0);
}

/* ------------------------------------------------------------ output */

static void
assert_prints (double v, gboolean single, const char *want)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  grd_format_float (buf, v, single);
  g_assert_cmpstr (buf, ==, want);
}

/* The slow reference: the first printf precision that reads back. */
static void
plain_shortest (char *buf, double v, gboolean single)
{
  static const char *const fmt[] = { "%.6g", "%.7g", "%.8g", "%.9g", "%.15g", "%.16g", "%.17g" };
  for (gint i = single ? 0 : 4; i <= (single ? 3 : 6); i++) {
    g_ascii_formatd (buf, G_ASCII_DTOSTR_BUF_SIZE, fmt[i], v);
    double back = g_ascii_strtod (buf, NULL);
    if (single ? (float) back == (float) v : back == v)
      break;
  }
  if (!strpbrk (buf, ".eEn"))
    strcat (buf, ".0");
}

static void
test_value_shortest (void)
{
  /* references: Python's repr (shortest round-trip) of float and numpy.float32 */
  assert_prints (0.1, FALSE, "0.1");
  assert_prints (1e-300, FALSE, "1e-300");
  assert_prints (36.0, FALSE, "36.0");
  assert_prints (-0.0, FALSE, "-0.0");
  assert_prints (1.0 / 3.0, FALSE, "0.3333333333333333");
  assert_prints (0.1 + 0.2, FALSE, "0.30000000000000004");
  assert_prints (1e22, FALSE, "1e+22");
  assert_prints (123456789012.0, FALSE, "123456789012.0");
  assert_prints ((float) 0.1, TRUE, "0.1");
  assert_prints ((float) (1.0 / 3.0), TRUE, "0.33333334");
  assert_prints ((float) 16777217.0, TRUE, "16777216.0");
  assert_prints (3.4028234663852886e38, TRUE, "3.4028235e+38");
  assert_prints (NAN, FALSE, "nan");
  assert_prints (-INFINITY, TRUE, "-inf");

  assert_prints (1e6, FALSE, "1000000.0");
  assert_prints (1e15, FALSE, "1e+15");
  assert_prints (1e-5, FALSE, "1e-05");
  assert_prints (0.0001, FALSE, "0.0001");
  assert_prints (-2.5e-7, TRUE, "-2.5e-07");

  /* every printed number reads back to itself, and is what the plain method
   * gives: the first of %.{6..9}g (float32) or %.{15..17}g (float64) that
   * reads back */
  GrdRandom rng;
  grd_random_seed (&rng, 42);
  for (gint i = 0; i < 20000; i++) {
    guint64 bits = grd_random_next (&rng);
    double d;
    memcpy (&d, &bits, 8);
    float f;
    guint32 fb = (guint32) (bits >> 32);
    memcpy (&f, &fb, 4);
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    double round3 = round (grd_random_uniform (&rng) * 1e6) / 1e3;
    double values[4] = { d, f, round3, ldexp (1.0, (gint) (bits % 200) - 100) };
    for (gint k = 0; k < 4; k++)
      for (gint single = 0; single < 2; single++) {
        double v = single ? (double) (float) values[k] : values[k];
        if (!isfinite (v))
          continue;
        grd_format_float (buf, v, single);
        double back = g_ascii_strtod (buf, NULL);
        g_assert_true (single ? (float) back == (float) v : back == v);
        char ref[G_ASCII_DTOSTR_BUF_SIZE];
        plain_shortest (ref, v, single);
        g_assert_cmpstr (buf, ==, ref);
      }
  }

  g_autoptr (GrdTensor) t = value_ok ("[[0.1, 36, \"nan\"], [\"-inf\", 1e-300, 2.5]]",
                                      GRD_DTYPE_FLOAT64);
  g_autofree char *s = text_of (t);
  g_assert_cmpstr (s, ==, "[[0.1, 36.0, \"nan\"], [\"-inf\", 1e-300, 2.5]]");
  g_autoptr (GrdTensor) b = value_ok ("[true, false]", GRD_DTYPE_BOOL);
  g_autofree char *bs = text_of (b);
  g_assert_cmpstr (bs, ==, "[true, false]");
  g_autoptr (GrdTensor) z = value_ok ("36", GRD_DTYPE_FLOAT32);
  g_autofree char *zs = text_of (z);
  g_assert_cmpstr (zs, ==, "36.0");
  g_autoptr (GrdTensor) i = value_ok ("-7", GRD_DTYPE_INT32);
  g_autofree char *is = text_of (i);
  g_assert_cmpstr (is, ==, "-7");
}

/* Every dtype through text and through JsonNode, back to the same bytes. */
static void
test_value_round_trip (void)
{
  gint64 shape[3] = { 2, 3, 4 };
  for (GrdDType dt = 0; dt < GRD_N_DTYPES; dt++) {
    g_autoptr (GrdTensor) t = grd_test_random (dt, 3, shape, -1e6, 1e6, 11 + dt);
    if (dt == GRD_DTYPE_FLOAT64)
      grd_tensor_set (t, 1, NAN), grd_tensor_set (t, 2, -INFINITY), grd_tensor_set (t, 3, 1e-310);
    if (dt == GRD_DTYPE_FLOAT32)
      grd_tensor_set (t, 1, INFINITY), grd_tensor_set (t, 2, 1e-40);
    if (dt == GRD_DTYPE_INT64)
      ((gint64 *) t->data)[0] = G_MAXINT64 - 1;
    g_autofree char *s = text_of (t);
    g_autoptr (GrdTensor) back = value_ok (s, dt);
    if (dt == GRD_DTYPE_FLOAT64)
      {
        g_assert_true (isnan (grd_tensor_get (back, 1)));
        ((double *) back->data)[1] = ((double *) t->data)[1];
      }
    assert_same_bytes (t, back);

    g_autoptr (JsonNode) n = grd_value_to_json (t);
    g_autoptr (GrdTensor) back2 = grd_value_from_json (n, dt, NULL, NULL);
    g_assert_nonnull (back2);
    if (dt == GRD_DTYPE_FLOAT64)
      ((double *) back2->data)[1] = ((double *) t->data)[1];
    assert_same_bytes (t, back2);
  }
  /* 0-d values are plain numbers */
  g_autoptr (GrdTensor) s = grd_tensor_new_scalar (GRD_DTYPE_FLOAT32, 0.1);
  g_autoptr (JsonNode) n = grd_value_to_json (s);
  g_assert_true (JSON_NODE_HOLDS_VALUE (n));
  g_assert_cmpfloat (json_node_get_double (n), ==, 0.1);  /* the double of "0.1" */
}

/* ------------------------------------------------------------ npy */

static GrdTensor *
npy_ok (const char *name)
{
  g_autofree char *path = data_path (name);
  g_autoptr (GError) error = NULL;
  GrdTensor *t = grd_npy_load (path, &error);
  g_assert_no_error (error);
  return t;
}

static void
test_npy_read (void)
{
  /* the files hold arange(12).reshape(3, 4) * 0.5 - 2 in several encodings
   * (written by numpy 1.24, see tests/data/README) */
  const char *f8[] = { "f8.npy", "f8-fortran.npy", "f8-big.npy", "f8-v2.npy", "f8-v3.npy" };
  for (guint k = 0; k < G_N_ELEMENTS (f8); k++) {
    g_autoptr (GrdTensor) t = npy_ok (f8[k]);
    g_assert_cmpint (t->dtype, ==, GRD_DTYPE_FLOAT64);
    g_assert_cmpint (t->rank, ==, 2);
    g_assert_cmpint (t->shape[0], ==, 3);
    g_assert_cmpint (t->shape[1], ==, 4);
    for (gint64 i = 0; i < 12; i++)
      g_assert_cmpfloat (((double *) t->data)[i], ==, i * 0.5 - 2.0);
  }
  g_autoptr (GrdTensor) f4 = npy_ok ("f4.npy");
  g_assert_cmpint (f4->dtype, ==, GRD_DTYPE_FLOAT32);
  for (gint64 i = 0; i < 12; i++)
    g_assert_cmpfloat (((float *) f4->data)[i], ==, i * 0.5 - 2.0);
  const char *i4[] = { "i4.npy", "i4-big.npy" };
  for (guint k = 0; k < G_N_ELEMENTS (i4); k++) {
    g_autoptr (GrdTensor) t = npy_ok (i4[k]);
    g_assert_cmpint (t->dtype, ==, GRD_DTYPE_INT32);
    for (gint64 i = 0; i < 12; i++)
      g_assert_cmpint (((gint32 *) t->data)[i], ==, i - 5);
  }
  g_autoptr (GrdTensor) f3 = npy_ok ("i4-fortran3.npy");   /* arange(24).reshape(2, 3, 4) */
  g_assert_cmpint (f3->rank, ==, 3);
  for (gint64 i = 0; i < 24; i++)
    g_assert_cmpint (((gint32 *) f3->data)[i], ==, i);
  g_autoptr (GrdTensor) i8 = npy_ok ("i8.npy");
  g_assert_cmpint (((gint64 *) i8->data)[0], ==, -(G_GINT64_CONSTANT (1) << 62) - 1);
  g_assert_cmpint (((gint64 *) i8->data)[1], ==, (G_GINT64_CONSTANT (1) << 53) + 1);
  g_autoptr (GrdTensor) b1 = npy_ok ("b1.npy");
  grd_test_assert_tensor (b1, GRD_DTYPE_BOOL, 2, (gint64[]) { 2, 3 },
                          (double[]) { 1, 0, 1, 0, 0, 1 }, 0, 0);
  g_autoptr (GrdTensor) u1 = npy_ok ("u1.npy");   /* uint8 is read as int32 */
  grd_test_assert_tensor (u1, GRD_DTYPE_INT32, 1, (gint64[]) { 3 }, (double[]) { 0, 7, 255 }, 0, 0);
  g_autoptr (GrdTensor) sc = npy_ok ("f4-scalar.npy");
  grd_test_assert_tensor (sc, GRD_DTYPE_FLOAT32, 0, NULL, (double[]) { 2.5 }, 0, 0);
}

static void
npy_fails (const char *path, const guint8 *bytes, gsize len, const char *fragment)
{
  if (bytes)
    g_assert_true (g_file_set_contents (path, (const char *) bytes, len, NULL));
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdTensor) t = grd_npy_load (path, &error);
  g_assert_null (t);
  g_assert_nonnull (error);
  if (!strstr (error->message, path) && !strstr (error->message, "bad.npy"))
    g_error ("'%s' does not name the file", error->message);
  if (fragment && !strstr (error->message, fragment))
    g_error ("'%s' does not mention '%s'", error->message, fragment);
}

static void
test_npy_write (void)
{
  g_autofree char *dir = g_dir_make_tmp ("gradus-npy-XXXXXX", NULL);
  gint64 shapes[][3] = { { 0 }, { 5 }, { 3, 7 }, { 2, 3, 4 } };
  gint ranks[] = { 0, 1, 2, 3 };
  for (GrdDType dt = 0; dt < GRD_N_DTYPES; dt++)
    for (guint s = 0; s < G_N_ELEMENTS (ranks); s++) {
      g_autoptr (GrdTensor) t = grd_test_random (dt, ranks[s], shapes[s], -100, 100, dt * 10 + s);
      g_autofree char *path = g_strdup_printf ("%s/t-%d-%u.npy", dir, dt, s);
      g_autoptr (GError) error = NULL;
      g_assert_true (grd_npy_save (path, t, &error));
      g_assert_no_error (error);
      g_autoptr (GrdTensor) back = grd_npy_load (path, &error);
      g_assert_no_error (error);
      assert_same_bytes (t, back);
      /* the data starts on a 64-byte boundary, the header ends in a newline */
      g_autofree char *raw = NULL;
      gsize len;
      g_assert_true (g_file_get_contents (path, &raw, &len, NULL));
      gsize hlen = (guint8) raw[8] | (gsize) (guint8) raw[9] << 8;
      g_assert_cmpint ((10 + hlen) % 64, ==, 0);
      g_assert_cmpint (raw[10 + hlen - 1], ==, '\n');
      g_assert_cmpint (len, ==, 10 + hlen + t->size * grd_dtype_size (dt));
      g_unlink (path);
    }

  /* malformed files: errors that name the file, never crashes */
  g_autofree char *bad = g_build_filename (dir, "bad.npy", NULL);
  npy_fails (bad, (const guint8 *) "hello world, not numpy", 22, "not a NumPy");
  g_autofree char *c16 = data_path ("c16.npy");
  npy_fails (c16, NULL, 0, "<c16");
  g_autofree char *f8 = data_path ("f8.npy");
  g_autofree char *raw = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (f8, &raw, &len, NULL));
  for (gsize cut = 0; cut < len; cut++)
    npy_fails (bad, (const guint8 *) raw, cut, NULL);   /* every truncation */
  /* a header promising more than 2^31 elements */
  const char *header = "{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000, 100), }\n";
  g_autoptr (GByteArray) huge = g_byte_array_new ();
  guint8 pre[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, strlen (header), 0 };
  g_byte_array_append (huge, pre, 10);
  g_byte_array_append (huge, (const guint8 *) header, strlen (header));
  npy_fails (bad, huge->data, huge->len, "2^31");
  static const char v9[] = "\x93NUMPY\x09\x00\x10\x00{}             \n";
  npy_fails (bad, (const guint8 *) v9, sizeof v9 - 1, "version 9");
  g_autofree char *missing = g_build_filename (dir, "missing.npy", NULL);
  npy_fails (missing, NULL, 0, NULL);
  g_unlink (bad);
  g_rmdir (dir);
}

/* ------------------------------------------------------------ csv */

static GrdCsv *
csv_ok (const char *text, gboolean header)
{
  g_autoptr (GError) error = NULL;
  GrdCsv *csv = grd_csv_parse (text, strlen (text), "t.csv", header, &error);
  g_assert_no_error (error);
  return csv;
}

static void
test_csv_read (void)
{
  const char *text = "\xef\xbb\xbf" "a, \"b, with comma\",\"c \"\"q\"\"\"\r\n"
                     "1, 2.5 ,\"3\"\r\n"
                     "\n"
                     "   \n"
                     "-4,5e1,nan\n"
                     "7,8,9";
  g_autoptr (GrdCsv) csv = csv_ok (text, TRUE);
  g_assert_cmpint (grd_csv_n_rows (csv), ==, 3);
  g_assert_cmpint (grd_csv_n_columns (csv), ==, 3);
  g_assert_cmpint (grd_csv_find_column (csv, "a"), ==, 0);
  g_assert_cmpint (grd_csv_find_column (csv, "b, with comma"), ==, 1);
  g_assert_cmpint (grd_csv_find_column (csv, "c \"q\""), ==, 2);
  g_assert_cmpint (grd_csv_find_column (csv, "d"), ==, -1);
  g_autoptr (GError) error = NULL;
  gint cols[] = { 1, 0 };
  g_autoptr (GrdTensor) t = grd_csv_columns (csv, cols, 2, FALSE, GRD_DTYPE_FLOAT64, &error);
  g_assert_no_error (error);
  grd_test_assert_tensor (t, GRD_DTYPE_FLOAT64, 2, (gint64[]) { 3, 2 },
                          (double[]) { 2.5, 1, 50, -4, 8, 7 }, 0, 0);
  gint c2 = 2;
  g_autoptr (GrdTensor) v = grd_csv_columns (csv, &c2, 1, TRUE, GRD_DTYPE_FLOAT32, &error);
  g_assert_no_error (error);
  g_assert_cmpint (v->rank, ==, 1);
  g_assert_true (isnan (grd_tensor_get (v, 1)));
  g_assert_cmpfloat (grd_tensor_get (v, 2), ==, 9);
  gint c0 = 0;
  g_autoptr (GrdTensor) i = grd_csv_columns (csv, &c0, 1, TRUE, GRD_DTYPE_INT64, &error);
  g_assert_no_error (error);
  grd_test_assert_tensor (i, GRD_DTYPE_INT64, 1, (gint64[]) { 3 }, (double[]) { 1, -4, 7 }, 0, 0);
  /* without a header the first line is data (and not numbers here) */
  g_autoptr (GrdCsv) nh = csv_ok (text, FALSE);
  g_assert_cmpint (grd_csv_n_rows (nh), ==, 4);
  g_autoptr (GrdTensor) bad = grd_csv_columns (nh, &c0, 1, TRUE, GRD_DTYPE_FLOAT64, &error);
  g_assert_null (bad);
  g_assert_nonnull (strstr (error->message, "t.csv: line 1, column 0"));
}

static void
csv_fails (const char *text, gint column, GrdDType dtype, const char *fragment)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdCsv) csv = grd_csv_parse (text, strlen (text), "t.csv", TRUE, &error);
  g_autoptr (GrdTensor) t = NULL;
  if (csv)
    t = grd_csv_columns (csv, &column, 1, TRUE, dtype, &error);
  g_assert_null (t);
  g_assert_nonnull (error);
  if (!strstr (error->message, fragment))
    g_error ("'%s' does not mention '%s'", error->message, fragment);
}

static void
test_csv_errors (void)
{
  csv_fails ("x,y\n1,2\n3,oops\n", 1, GRD_DTYPE_FLOAT32, "t.csv: line 3, column 1 ('y'): the field is not a number");
  csv_fails ("x,y\n1,2\n\n3\n", 0, GRD_DTYPE_FLOAT32, "t.csv: line 4 has 1 columns");
  csv_fails ("x,y\n1,\"2\n", 0, GRD_DTYPE_FLOAT32, "t.csv: line 2: a quoted field is not closed");
  csv_fails ("x,y\n1,\"2\"3\n", 0, GRD_DTYPE_FLOAT32, "line 2, column 1: text after");
  csv_fails ("x,y\n1.5,2\n", 0, GRD_DTYPE_INT32, "not an integer");
  csv_fails ("x,y\n1,\n", 1, GRD_DTYPE_FLOAT64, "line 2, column 1");
  csv_fails ("x,y\n1,2\n", 5, GRD_DTYPE_FLOAT64, "column 5 does not exist");
  csv_fails ("x,y\n3000000000,2\n", 0, GRD_DTYPE_INT32, "int32");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/io/value/nested", test_value_nested);
  g_test_add_func ("/engine/io/value/int64-exact", test_value_int64_exact);
  g_test_add_func ("/engine/io/value/shape-data", test_value_shape_data);
  g_test_add_func ("/engine/io/value/base64", test_value_base64);
  g_test_add_func ("/engine/io/value/npy", test_value_npy);
  g_test_add_func ("/engine/io/value/init", test_value_init);
  g_test_add_func ("/engine/io/value/errors", test_value_errors);
  g_test_add_func ("/engine/io/value/shortest", test_value_shortest);
  g_test_add_func ("/engine/io/value/round-trip", test_value_round_trip);
  g_test_add_func ("/engine/io/npy/read", test_npy_read);
  g_test_add_func ("/engine/io/npy/write", test_npy_write);
  g_test_add_func ("/engine/io/csv/read", test_csv_read);
  g_test_add_func ("/engine/io/csv/errors", test_csv_errors);
  return g_test_run ();
}
