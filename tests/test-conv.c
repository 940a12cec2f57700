/* test-conv.c: conv2d and pool_2d against independent references
 * (tests/data/conv-refs.json, made by tests/conv/make-refs.py: PyTorch
 * float64 for conv2d and its gradients, hand-written NumPy for pooling), on
 * the reference executor and on the compiled CPU path (gemm over im2col) in
 * float64 and float32; gradients against finite differences, gradients of
 * gradients, symbolic shapes, and errors that name the node. */
#include "grad-check.h"
#include "conv-cases.h"
#include "grd-internal.h"
#include "compile/grd-program.h"
#include "compile/grd-conv-winograd.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------ references */

/* Compiles with the passes given by `data` (0: the reference executor). */
static GrdFunction *
with_passes (GrdGraph *g, const GrdRef *ins, gint n_in, const GrdRef *outs, gint n_out,
             gpointer data)
{
  g_autoptr (GError) error = NULL;
  GrdFunction *fn = grd_function_new_with_passes (g, ins, n_in, outs, n_out, NULL, 0,
                                                  GPOINTER_TO_UINT (data), &error);
  g_assert_no_error (error);
  return fn;
}

static void
test_references (gconstpointer data)
{
  guint mode = GPOINTER_TO_UINT (data);
  g_autoptr (JsonParser) parser = NULL;
  JsonArray *cases = grd_test_conv_cases (&parser);
  g_assert_cmpuint (json_array_get_length (cases), >=, 100);
  for (guint i = 0; i < json_array_get_length (cases); i++) {
    JsonObject *c = json_array_get_object_element (cases, i);
    switch (mode) {
    case 0: grd_test_conv_check_case (c, GRD_DTYPE_FLOAT64, 1e-9, with_passes, GUINT_TO_POINTER (0)); break;
    case 1:
      grd_test_conv_check_case (c, GRD_DTYPE_FLOAT64, 1e-9, with_passes,
                                GUINT_TO_POINTER (GRD_PASS_ALL));
      break;
    default:
      grd_test_conv_check_case (c, GRD_DTYPE_FLOAT32, 2e-4, with_passes,
                                GUINT_TO_POINTER (GRD_PASS_ALL));
      break;
    }
  }
}

/* ------------------------------------------------------------ finite differences */

static GrdAttrs
conv_attrs (gint border, gint64 ph, gint64 sh, gint64 dh, gint64 groups, gboolean flip)
{
  GrdAttrs a;
  grd_attrs_init (&a);
  a.border_mode = border;
  a.border[0] = ph;
  a.border[1] = 1;
  a.subsample[0] = sh;
  a.filter_dilation[0] = dh;
  a.num_groups = groups;
  a.filter_flip = flip;
  return a;
}

static void
test_conv_grad (void)
{
  gint64 xs[] = { 2, 4, 5, 4 };
  struct { GrdAttrs a; } cases[] = {
    { conv_attrs (GRD_BORDER_VALID, 0, 1, 1, 1, TRUE) },
    { conv_attrs (GRD_BORDER_FULL, 0, 2, 1, 2, TRUE) },
    { conv_attrs (GRD_BORDER_HALF, 0, 1, 2, 1, FALSE) },
    { conv_attrs (GRD_BORDER_EXPLICIT, 2, 2, 1, 4, TRUE) },
  };
  for (gsize k = 0; k < G_N_ELEMENTS (cases); k++) {
    gint64 ws[] = { 4, 4 / cases[k].a.num_groups, 3, 2 };
    g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 4, xs, -1, 1, 1 + k);
    g_autoptr (GrdTensor) w = grd_test_random (GRD_DTYPE_FLOAT64, 4, ws, -1, 1, 10 + k);
    GrdTensor *in[] = { x, w };
    grd_test_verify_grad ("conv2d", &cases[k].a, in, 2);
    grd_test_verify_grad_unknown_dims ("conv2d", &cases[k].a, in, 2);
    /* gradients of gradients: the gradient ops have gradients of their own */
    GrdTensor *y = grd_test_eval_op ("conv2d", &cases[k].a, in, 2);
    g_autoptr (GrdTensor) gy = grd_test_random (GRD_DTYPE_FLOAT64, 4, y->shape, -1, 1, 20 + k);
    grd_tensor_unref (y);
    GrdTensor *gi[] = { gy, w, x };
    grd_test_verify_grad ("_conv2d_grad_input", &cases[k].a, gi, 3);
    GrdTensor *gf[] = { x, gy, w };
    grd_test_verify_grad ("_conv2d_grad_filters", &cases[k].a, gf, 3);
  }
}

static GrdAttrs
pool_attrs (gint64 wh, gint64 ww, gint64 sh, gint64 sw, gint64 ph, gint64 pw, gboolean ib, gint mode)
{
  GrdAttrs a;
  grd_attrs_init (&a);
  a.ws[0] = wh, a.ws[1] = ww;
  a.pool_stride[0] = sh, a.pool_stride[1] = sw;
  a.pool_pad[0] = ph, a.pool_pad[1] = pw;
  a.ignore_border = ib;
  a.pool_mode = mode;
  return a;
}

static void
test_pool_grad (void)
{
  gint64 xs[] = { 2, 3, 5, 6 };
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 4, xs, -1, 1, 3);
  for (gint mode = GRD_POOL_MAX; mode <= GRD_POOL_AVERAGE_EXC_PAD; mode++) {
    GrdAttrs cases[] = {
      pool_attrs (2, 2, 0, 0, 0, 0, TRUE, mode),
      pool_attrs (3, 2, 1, 2, 1, 1, TRUE, mode),
      pool_attrs (2, 3, 2, 2, 0, 0, FALSE, mode),
    };
    for (gsize k = 0; k < G_N_ELEMENTS (cases); k++) {
      grd_test_verify_grad ("pool_2d", &cases[k], &x, 1);
      grd_test_verify_grad_unknown_dims ("pool_2d", &cases[k], &x, 1);
      g_autoptr (GrdTensor) y = grd_test_eval_op ("pool_2d", &cases[k], &x, 1);
      g_autoptr (GrdTensor) gy = grd_test_random (GRD_DTYPE_FLOAT64, 4, y->shape, -1, 1, 5);
      GrdTensor *in[] = { x, gy };
      grd_test_verify_grad ("_pool_2d_grad", &cases[k], in, 2);
    }
  }
}

static void
test_pool_values (void)
{
  /* a 4x4 plane, 3x3 windows, stride 2, no ignore_border: the edge windows are clipped */
  gint64 xs[] = { 1, 4, 4 };
  double xv[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
  g_autoptr (GrdTensor) x = grd_test_tensor (GRD_DTYPE_FLOAT32, 3, xs, xv);
  GrdAttrs a = pool_attrs (3, 3, 2, 2, 0, 0, FALSE, GRD_POOL_MAX);
  g_autoptr (GrdTensor) y = grd_test_eval_op ("pool_2d", &a, &x, 1);
  gint64 ys[] = { 1, 2, 2 };
  grd_test_assert_tensor (y, GRD_DTYPE_FLOAT32, 3, ys, (double[]) { 11, 12, 15, 16 }, 0, 0);
  a.pool_mode = GRD_POOL_AVERAGE_EXC_PAD;
  g_autoptr (GrdTensor) m = grd_test_eval_op ("pool_2d", &a, &x, 1);
  grd_test_assert_tensor (m, GRD_DTYPE_FLOAT32, 3, ys, (double[]) { 6, 7.5, 12, 13.5 }, 1e-6, 0);
  /* ignore_border (the default) drops the partial windows */
  a.ignore_border = TRUE;
  a.pool_mode = GRD_POOL_SUM;
  g_autoptr (GrdTensor) s = grd_test_eval_op ("pool_2d", &a, &x, 1);
  gint64 ss[] = { 1, 1, 1 };
  grd_test_assert_tensor (s, GRD_DTYPE_FLOAT32, 3, ss, (double[]) { 54 }, 0, 0);
}

/* ------------------------------------------------------------ types and errors */

static void
test_types (void)
{
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  gint64 xd[] = { GRD_DIM_UNKNOWN, 3, 28, 28 }, wd[] = { 8, 3, 5, 5 };
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT32, 4, xd, &error);
  GrdRef w = grd_graph_variable (g, "w", GRD_DTYPE_FLOAT32, 4, wd, &error);
  GrdAttrs a = conv_attrs (GRD_BORDER_HALF, 0, 2, 1, 1, TRUE);
  a.subsample[1] = 2;
  GrdRef in[] = { x, w };
  GrdRef y = grd_graph_op (g, "conv", "conv2d", in, 2, &a, &error);
  g_assert_no_error (error);
  g_autofree char *t = grd_type_describe (grd_graph_ref_type (g, y));
  g_assert_cmpstr (t, ==, "float32[?,8,14,14]");
  GrdAttrs p = pool_attrs (2, 2, 0, 0, 0, 0, TRUE, GRD_POOL_MAX);
  GrdRef z = grd_graph_op (g, "pool", "pool_2d", &y, 1, &p, &error);
  g_autofree char *tz = grd_type_describe (grd_graph_ref_type (g, z));
  g_assert_cmpstr (tz, ==, "float32[?,8,7,7]");
  /* three input channels do not split into two groups */
  a.num_groups = 2;
  grd_graph_op (g, "bad_conv", "conv2d", in, 2, &a, &error);
  grd_test_assert_error_names (error, GRD_ERROR_SHAPE, "bad_conv", "groups");
  g_clear_error (&error);
  /* pool_2d needs ws */
  GrdAttrs none;
  grd_attrs_init (&none);
  grd_graph_op (g, "bad_pool", "pool_2d", &y, 1, &none, &error);
  grd_test_assert_error_names (error, GRD_ERROR_SHAPE, "bad_pool", "ws");
}

/* The compiled kernels run again with the buffers of the last call. */
static void
test_repeated_calls (void)
{
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  gint64 xs[] = { 3, 2, 6, 6 }, wsh[] = { 4, 2, 3, 3 };
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT32, 4, NULL, &error);
  g_autoptr (GrdTensor) wv = grd_test_random (GRD_DTYPE_FLOAT32, 4, wsh, -1, 1, 2);
  GrdRef w = grd_graph_shared (g, "w", wv, &error);
  GrdAttrs a = conv_attrs (GRD_BORDER_HALF, 0, 1, 1, 1, TRUE);
  GrdRef in[] = { x, w };
  GrdRef y = grd_graph_op (g, "conv", "conv2d", in, 2, &a, &error);
  GrdRef cost = grd_op1 (g, "sum", grd_op1 (g, "square", y, &error), &error);
  GrdRef gw;
  grd_graph_grad (g, "grads", cost, &w, 1, NULL, 0, &gw, &error);
  GrdRef next = grd_op2 (g, "sub", w, grd_op2 (g, "mul", gw, grd_scalar (g, GRD_DTYPE_FLOAT32, 1e-3, &error), &error), &error);
  GrdUpdate up = { w, next };
  g_autoptr (GrdFunction) fn = grd_function_new (g, &x, 1, &cost, 1, &up, 1, &error);
  g_autoptr (GrdFunction) ref = grd_function_new_with_passes (g, &x, 1, &cost, 1, NULL, 0, 0, &error);
  g_assert_no_error (error);
  g_autoptr (GrdTensor) xv = grd_test_random (GRD_DTYPE_FLOAT32, 4, xs, -1, 1, 4);
  double last = G_MAXDOUBLE;
  gint64 live = 0;
  for (gint step = 0; step < 20; step++) {
    g_autoptr (GrdTensor) c = NULL, r = NULL;
    g_assert_true (grd_function_call (ref, &xv, &r, &error));
    g_assert_true (grd_function_call (fn, &xv, &c, &error));
    g_assert_no_error (error);
    g_assert_cmpfloat_with_epsilon (grd_tensor_get (c, 0), grd_tensor_get (r, 0),
                                    1e-4 * fabs (grd_tensor_get (r, 0)));
    g_assert_cmpfloat (grd_tensor_get (c, 0), <, last);  /* gradient descent goes down */
    last = grd_tensor_get (c, 0);
    /* by call 5 every buffer pool (the compiler's, the reduce kernels') is full */
    if (step == 5)
      live = grd_tensor_live_count ();
    if (step > 5)
      g_assert_cmpint (grd_tensor_live_count (), <=, live);
  }
}

/* Layers large enough that the gemm kernels cut the batch into chunks (one
 * sample at a time, in place; or two and a remainder of one), against the
 * reference kernels. */
static void
test_chunks (void)
{
  for (gint64 groups = 1; groups <= 2; groups++) {
    g_autoptr (GrdGraph) g = grd_graph_new ();
    g_autoptr (GError) error = NULL;
    gint64 xs[] = { 3, 16, 40, 40 }, ws[] = { 4, 16 / groups, 3, 3 }, ys[] = { 3, 4, 40, 40 };
    GrdRef vars[3];
    vars[0] = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 4, NULL, &error);
    vars[1] = grd_graph_variable (g, "w", GRD_DTYPE_FLOAT64, 4, NULL, &error);
    vars[2] = grd_graph_variable (g, "gy", GRD_DTYPE_FLOAT64, 4, NULL, &error);
    GrdAttrs a = conv_attrs (GRD_BORDER_HALF, 0, 1, 1, groups, TRUE);
    GrdRef outs[3];
    outs[0] = grd_graph_op (g, "conv", "conv2d", vars, 2, &a, &error);
    GrdRef cost = grd_op1 (g, "sum", grd_op2 (g, "mul", outs[0], vars[2], &error), &error);
    grd_graph_grad (g, "grads", cost, vars, 2, NULL, 0, outs + 1, &error);
    g_assert_no_error (error);
    g_autoptr (GrdFunction) ref = grd_function_new_with_passes (g, vars, 3, outs, 3, NULL, 0, 0, &error);
    g_autoptr (GrdFunction) fast = grd_function_new (g, vars, 3, outs, 3, NULL, 0, &error);
    g_assert_no_error (error);
    g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 4, xs, -1, 1, 1);
    g_autoptr (GrdTensor) w = grd_test_random (GRD_DTYPE_FLOAT64, 4, ws, -1, 1, 2);
    g_autoptr (GrdTensor) gy = grd_test_random (GRD_DTYPE_FLOAT64, 4, ys, -1, 1, 3);
    GrdTensor *in[] = { x, w, gy };
    GrdTensor *r[3] = { NULL }, *f[3] = { NULL };
    g_assert_true (grd_function_call (ref, in, r, &error));
    g_assert_true (grd_function_call (fast, in, f, &error));
    g_assert_no_error (error);
    for (gint k = 0; k < 3; k++) {
      grd_test_assert_close (f[k], r[k], 1e-10, 1e-10);
      grd_tensor_unref (f[k]);
      grd_tensor_unref (r[k]);
    }
  }
}

/* The attrs in a graph file, and a malformed one refused with the node named. */
static void
test_document (void)
{
  const char *good =
    "{\"format\": \"gradus-graph\", \"version\": 1, \"nodes\": ["
    "{\"id\": \"x\", \"kind\": \"variable\", \"dtype\": \"float32\", \"shape\": [2, 4, 9, 9]},"
    "{\"id\": \"w\", \"kind\": \"variable\", \"dtype\": \"float32\", \"shape\": [6, 2, 3, 3]},"
    "{\"id\": \"y\", \"kind\": \"op\", \"op\": \"conv2d\", \"inputs\": [\"x\", \"w\"],"
    " \"attrs\": {\"border_mode\": [1, 2], \"subsample\": [2, 1], \"filter_dilation\": [1, 2],"
    " \"num_groups\": 2, \"filter_flip\": false}},"
    "{\"id\": \"p\", \"kind\": \"op\", \"op\": \"pool_2d\", \"inputs\": [\"y\"],"
    " \"attrs\": {\"ws\": [2, 3], \"stride\": [1, 2], \"pad\": [1, 1], \"mode\": \"average_exc_pad\"}}"
    "]}";
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdDocument) doc = grd_document_load_from_data (good, -1, "good.gradus", &error);
  g_assert_no_error (error);
  GrdGraph *g = grd_document_graph (doc);
  GrdRef y, p;
  g_assert_true (grd_graph_lookup (g, "y", &y, &error));
  g_assert_true (grd_graph_lookup (g, "p", &p, &error));
  /* (9 + 2 - 3) // 2 + 1 = 5 rows; (9 + 4 - 5) // 1 + 1 = 9 columns */
  g_autofree char *ty = grd_type_describe (grd_graph_ref_type (g, y));
  g_assert_cmpstr (ty, ==, "float32[2,6,5,9]");
  /* (5 + 2 - 2) // 1 + 1 = 6; (9 + 2 - 3) // 2 + 1 = 5 */
  g_autofree char *tp = grd_type_describe (grd_graph_ref_type (g, p));
  g_assert_cmpstr (tp, ==, "float32[2,6,6,5]");
  const char *bad =
    "{\"format\": \"gradus-graph\", \"version\": 1, \"nodes\": ["
    "{\"id\": \"x\", \"kind\": \"variable\", \"dtype\": \"float32\", \"shape\": [2, 4, 9, 9]},"
    "{\"id\": \"q\", \"kind\": \"op\", \"op\": \"pool_2d\", \"inputs\": [\"x\"],"
    " \"attrs\": {\"ws\": [2, 2], \"mode\": \"median\"}}]}";
  g_autoptr (GrdDocument) d2 = grd_document_load_from_data (bad, -1, "bad.gradus", &error);
  g_assert_null (d2);
  grd_test_assert_error_names (error, GRD_ERROR_GRAPH, "q", "mode");
}

/* Max pooling's ties go to the first largest element (row-major), and a NaN
 * beats every number (the first NaN): forward and gradient, both dtypes. */
static void
test_pool_ties (void)
{
  gint64 xs[] = { 1, 1, 2, 4 }, ys[] = { 1, 1, 1, 2 };
  double xv[] = { 1, 3, 3, 2, 3, 0, NAN, 5 };
  GrdAttrs a;
  grd_attrs_init (&a);
  a.ws[0] = a.ws[1] = 2;
  for (GrdDType dt = GRD_DTYPE_FLOAT32; dt <= GRD_DTYPE_FLOAT64; dt++) {
    g_autoptr (GrdTensor) x = grd_test_tensor (dt, 4, xs, xv);
    g_autoptr (GrdTensor) gy = grd_test_tensor (dt, 4, ys, (double[]) { 10, 20 });
    g_autoptr (GrdTensor) y = grd_test_eval_op ("pool_2d", &a, &x, 1);
    grd_test_assert_tensor (y, dt, 4, ys, (double[]) { 3, NAN }, 0, 0);
    GrdTensor *in[] = { x, gy };
    g_autoptr (GrdTensor) gx = grd_test_eval_op ("_pool_2d_grad", &a, in, 2);
    grd_test_assert_tensor (gx, dt, 4, xs, (double[]) { 0, 10, 0, 0, 0, 0, 20, 0 }, 0, 0);
  }
}

/* A compiled function that pools and differentiates keeps the forward's
 * argmax for the gradient (_pool_2d_argmax, _pool_2d_take, _pool_2d_scatter
 * instead of comparing the windows again in _pool_2d_grad): values and
 * gradients equal the reference executor's exactly, ties and NaN included,
 * for padded, strided, overlapping and border-keeping windows, both dtypes. */
static void
test_pool_stored_argmax (void)
{
  GrdAttrs cases[] = {
    pool_attrs (2, 2, 0, 0, 0, 0, TRUE, GRD_POOL_MAX),
    pool_attrs (3, 2, 1, 2, 1, 1, TRUE, GRD_POOL_MAX),
    pool_attrs (2, 3, 2, 2, 0, 0, FALSE, GRD_POOL_MAX),
    pool_attrs (3, 3, 2, 2, 0, 0, FALSE, GRD_POOL_MAX),
  };
  gint64 xs[] = { 2, 3, 7, 6 };
  for (GrdDType dt = GRD_DTYPE_FLOAT32; dt <= GRD_DTYPE_FLOAT64; dt++)
    for (gsize k = 0; k < G_N_ELEMENTS (cases); k++) {
      g_autoptr (GError) error = NULL;
      g_autoptr (GrdGraph) g = grd_graph_new ();
      GrdRef x = grd_graph_variable (g, "x", dt, 4, NULL, &error);
      GrdRef pv = grd_graph_variable (g, "p", dt, 4, NULL, &error);
      GrdRef y = grd_graph_op (g, "pool", "pool_2d", &x, 1, &cases[k], &error);
      GrdRef cost = grd_op1 (g, "sum", grd_op2 (g, "mul", y, pv, &error), &error);
      GrdRef gx;
      grd_graph_grad (g, "grads", cost, &x, 1, NULL, 0, &gx, &error);
      g_assert_no_error (error);
      GrdRef ins[] = { x, pv }, outs[] = { y, gx };
      g_autoptr (GrdFunction) fn = grd_function_new (g, ins, 2, outs, 2, NULL, 0, &error);
      g_autoptr (GrdFunction) ref = grd_function_new_with_passes (g, ins, 2, outs, 2, NULL, 0, 0, &error);
      g_assert_no_error (error);
      g_autofree char *program = grd_function_describe (fn);
      if (!strstr (program, "_pool_2d_argmax") || !strstr (program, "_pool_2d_scatter")
          || strstr (program, "_pool_2d_grad"))
        g_error ("the argmax is not kept:\n%s", program);
      /* values rounded to a few levels: many ties; and a NaN */
      g_autoptr (GrdTensor) xv = grd_test_random (dt, 4, xs, 0, 4, 10 + k);
      for (gint64 i = 0; i < xv->size; i++)
        grd_tensor_set (xv, i, floor (grd_tensor_get (xv, i)));
      grd_tensor_set (xv, 40, NAN);
      /* NaNs inside windows of the first plane's first rows, one in each
       * of a window's two rows (the 2x2 kernel redoes such rows) */
      grd_tensor_set (xv, 8, NAN);
      grd_tensor_set (xv, 6 * 2 + 1, -INFINITY);
      grd_tensor_set (xv, 6 * 3 + 4, NAN);
      g_autoptr (GrdTensor) y0 = grd_test_eval_op ("pool_2d", &cases[k], &xv, 1);
      g_autoptr (GrdTensor) pt = grd_test_random (dt, 4, y0->shape, -1, 1, 20 + k);
      GrdTensor *args[] = { xv, pt }, *r1[2], *r2[2];
      for (gint call = 0; call < 2; call++) {  /* the second call reuses the buffers */
        g_assert_true (grd_function_call (fn, args, r1, &error));
        g_assert_true (grd_function_call (ref, args, r2, &error));
        g_assert_no_error (error);
        for (gint o = 0; o < 2; o++) {
          grd_test_assert_close (r1[o], r2[o], 0, 0);
          grd_tensor_unref (r1[o]);
          grd_tensor_unref (r2[o]);
        }
      }
    }
}

/* The conv kernels' working space: aligned, reused after a give, sizes that
 * overflow refused with an error. */
static void
test_scratch_cache (void)
{
  g_autoptr (GError) error = NULL;
  float *a = grd_scratch_take (300001, sizeof (float), &error);
  g_assert_no_error (error);
  g_assert_nonnull (a);
  g_assert_cmpuint ((guintptr) a % 64, ==, 0);
  for (gint i = 0; i < 300001; i++)   /* all of it is writable (ASan checks) */
    a[i] = (float) i;
  grd_scratch_give (a);
  /* the same request takes the cached buffer (the best fit: an odd size) */
  float *b = grd_scratch_take (300001, sizeof (float), &error);
  g_assert_true (b == a);
  /* while b is out, another request gets another buffer */
  float *c = grd_scratch_take (299000, sizeof (float), &error);
  g_assert_nonnull (c);
  g_assert_true (c != b);
  grd_scratch_give (b);
  grd_scratch_give (c);
  /* a much smaller one does not pin a large buffer */
  float *d = grd_scratch_take (1000, sizeof (float), &error);
  g_assert_true (d != a && d != c);
  grd_scratch_give (d);
  g_assert_null (grd_scratch_take (G_MAXSIZE / 4, 8, &error));
  g_assert_error (error, GRD_ERROR, GRD_ERROR_VALUE);
  grd_scratch_give (NULL);
}

/* ------------------------------------------------------------ Winograd */

typedef struct {
  gint64 n, groups, cg, og, h, w;
  GrdAttrs a;
} WinoCase;

/* y = conv2d (x, w), and the gradients of sum (y * gy) for x and w, of
 * dtype dt, compiled (passes) or on the reference executor (0). */
static GrdFunction *
wino_function (const WinoCase *c, GrdDType dt, guint passes)
{
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  GrdRef vars[3];
  vars[0] = grd_graph_variable (g, "x", dt, 4, NULL, &error);
  vars[1] = grd_graph_variable (g, "w", dt, 4, NULL, &error);
  vars[2] = grd_graph_variable (g, "gy", dt, 4, NULL, &error);
  GrdRef outs[3];
  outs[0] = grd_graph_op (g, "conv", "conv2d", vars, 2, &c->a, &error);
  GrdRef cost = grd_op1 (g, "sum", grd_op2 (g, "mul", outs[0], vars[2], &error), &error);
  grd_graph_grad (g, "grads", cost, vars, 2, NULL, 0, outs + 1, &error);
  g_assert_no_error (error);
  GrdFunction *fn = grd_function_new_with_passes (g, vars, 3, outs, 3, NULL, 0, passes, &error);
  g_assert_no_error (error);
  return fn;
}

/* The largest |got - want| over the largest |want|. */
static double
rel_error (const GrdTensor *got, const GrdTensor *want)
{
  g_assert_true (grd_tensor_same_shape (got, want));
  double err = 0, big = 0;
  for (gint64 i = 0; i < want->size; i++) {
    double a = grd_tensor_get (got, i), b = grd_tensor_get (want, i);
    err = MAX (err, fabs (a - b));
    big = MAX (big, fabs (b));
  }
  return big > 0 ? err / big : err;
}

/* One geometry: the Winograd path (forced) against the reference executor
 * in float64 on the same (rounded) values, in float64 and float32; returns
 * the float32 error, and the gemm path's in *gemm_err. */
static double
wino_check (const WinoCase *c, guint64 seed, double *gemm_err)
{
  GrdConvGeom geom;
  gint64 xs[4] = { c->n, c->groups * c->cg, c->h, c->w };
  gint64 ws[4] = { c->groups * c->og, c->cg, 3, 3 };
  g_autoptr (GError) error = NULL;
  g_assert_true (grd_conv_geom (&c->a, xs, ws, &geom, &error));
  g_assert_true (grd_conv_winograd_applies (&geom));
  gint64 ys[4] = { geom.n, geom.o, geom.oh, geom.ow };
  double f32_err = 0;
  for (gint d = 0; d < 2; d++) {
    GrdDType dt = d ? GRD_DTYPE_FLOAT32 : GRD_DTYPE_FLOAT64;
    GrdTensor *in[3], *in64[3];
    const gint64 *shapes[3] = { xs, ws, ys };
    for (gint k = 0; k < 3; k++) {
      in[k] = grd_test_random (dt, 4, shapes[k], -1, 1, seed + (guint64) k);
      in64[k] = grd_tensor_cast (in[k], GRD_DTYPE_FLOAT64);
    }
    g_autoptr (GrdFunction) ref = wino_function (c, GRD_DTYPE_FLOAT64, 0);
    GrdTensor *r[3] = { NULL }, *f[3] = { NULL };
    g_assert_true (grd_function_call (ref, in64, r, &error));
    for (gint path = 0; path < 2; path++) {
      g_setenv ("GRADUS_CONV", path ? "gemm" : "winograd", TRUE);
      g_autoptr (GrdFunction) fast = wino_function (c, dt, GRD_PASS_ALL);
      g_assert_true (grd_function_call (fast, in, f, &error));
      g_assert_no_error (error);
      for (gint k = 0; k < 3; k++) {
        if (dt == GRD_DTYPE_FLOAT64)
          grd_test_assert_close (f[k], r[k], 1e-10, 1e-12);
        else if (path == 0)
          f32_err = MAX (f32_err, rel_error (f[k], r[k]));
        else
          *gemm_err = MAX (*gemm_err, rel_error (f[k], r[k]));
        g_clear_pointer (&f[k], grd_tensor_unref);
      }
    }
    g_unsetenv ("GRADUS_CONV");
    for (gint k = 0; k < 3; k++) {
      grd_tensor_unref (r[k]);
      grd_tensor_unref (in[k]);
      grd_tensor_unref (in64[k]);
    }
  }
  return f32_err;
}

/* Random geometries (batch, groups, channels, odd sizes and sizes that are
 * not multiples of the 2x2 tile, every border mode, flip or not), then the
 * shapes that take the other block layouts: several images a block with a
 * remainder, tile rows of one image a block. float32 is held to 1e-5 of
 * the largest value. */
static void
test_winograd_geometries (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (12);
  double worst = 0, worst_gemm = 0;
  for (gint k = 0; k < 48; k++) {
    WinoCase c = { 0 };
    c.n = g_rand_int_range (rng, 1, 5);
    c.groups = g_rand_int_range (rng, 1, 4);
    c.cg = g_rand_int_range (rng, 1, 6);
    c.og = g_rand_int_range (rng, 1, 6);
    c.h = g_rand_int_range (rng, 3, 13);
    c.w = g_rand_int_range (rng, 3, 13);
    gint border = (gint[]) { GRD_BORDER_VALID, GRD_BORDER_HALF, GRD_BORDER_FULL, GRD_BORDER_EXPLICIT }[k % 4];
    c.a = conv_attrs (border, g_rand_int_range (rng, 0, 4), 1, 1, c.groups, (k / 4) % 2 == 0);
    c.a.border[1] = g_rand_int_range (rng, 0, 4);
    worst = MAX (worst, wino_check (&c, 100 + (guint64) k * 3, &worst_gemm));
  }
  WinoCase big[] = {
    { 9, 1, 64, 64, 16, 16, conv_attrs (GRD_BORDER_HALF, 0, 1, 1, 1, TRUE) },
    { 9, 1, 16, 16, 44, 100, conv_attrs (GRD_BORDER_HALF, 0, 1, 1, 1, FALSE) },
    { 2, 2, 8, 8, 45, 97, conv_attrs (GRD_BORDER_FULL, 0, 1, 1, 2, TRUE) },
    /* past the product kernels' blocks: 21 rows (8 x 8 + 5), 20 tiles a row */
    { 3, 1, 13, 21, 11, 37, conv_attrs (GRD_BORDER_VALID, 0, 1, 1, 1, FALSE) },
    /* the gemm path's gather table (rows under 16) with a shorter last chunk
     * of images (36 and 28) */
    { 64, 1, 8, 8, 10, 10, conv_attrs (GRD_BORDER_HALF, 0, 1, 1, 1, TRUE) },
  };
  for (gsize k = 0; k < G_N_ELEMENTS (big); k++)
    worst = MAX (worst, wino_check (&big[k], 500 + k * 3, &worst_gemm));
  g_test_message ("float32 error over the largest value: Winograd %.3g, gemm %.3g", worst, worst_gemm);
  g_assert_cmpfloat (worst, <=, 1e-5);
}

/* A layer whose filter gradient sums several blocks a chunk (34 blocks of
 * tile rows, 17 chunks), too large for the reference executor: against the
 * gemm path, float64. */
static void
test_winograd_large (void)
{
  WinoCase c = { 17, 1, 64, 64, 40, 40, conv_attrs (GRD_BORDER_HALF, 0, 1, 1, 1, TRUE) };
  gint64 xs[4] = { c.n, c.cg, c.h, c.w }, ws[4] = { c.og, c.cg, 3, 3 }, ys[4] = { c.n, c.og, c.h, c.w };
  const gint64 *shapes[3] = { xs, ws, ys };
  GrdTensor *in[3];
  for (gint k = 0; k < 3; k++)
    in[k] = grd_test_random (GRD_DTYPE_FLOAT64, 4, shapes[k], -1, 1, 700 + (guint64) k);
  GrdTensor *r[2][3] = { { NULL } };
  g_autoptr (GError) error = NULL;
  for (gint path = 0; path < 2; path++) {
    g_setenv ("GRADUS_CONV", path ? "gemm" : "winograd", TRUE);
    g_autoptr (GrdFunction) fn = wino_function (&c, GRD_DTYPE_FLOAT64, GRD_PASS_ALL);
    g_assert_true (grd_function_call (fn, in, r[path], &error));
    g_assert_no_error (error);
  }
  g_unsetenv ("GRADUS_CONV");
  for (gint k = 0; k < 3; k++) {
    grd_test_assert_close (r[0][k], r[1][k], 1e-10, 1e-10);
    grd_tensor_unref (r[0][k]);
    grd_tensor_unref (r[1][k]);
    grd_tensor_unref (in[k]);
  }
}

/* The gradients of 3x3 stride-1 convolutions on the Winograd path against
 * finite differences (float64). */
static void
test_winograd_grad (void)
{
  g_setenv ("GRADUS_CONV", "winograd", TRUE);
  gint64 xs[] = { 2, 4, 5, 6 };
  GrdAttrs cases[] = {
    conv_attrs (GRD_BORDER_VALID, 0, 1, 1, 1, TRUE),
    conv_attrs (GRD_BORDER_HALF, 0, 1, 1, 2, FALSE),
    conv_attrs (GRD_BORDER_FULL, 0, 1, 1, 1, TRUE),
    conv_attrs (GRD_BORDER_EXPLICIT, 3, 1, 1, 4, TRUE),
  };
  for (gsize k = 0; k < G_N_ELEMENTS (cases); k++) {
    gint64 ws[] = { 4, 4 / cases[k].num_groups, 3, 3 };
    g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 4, xs, -1, 1, 30 + k);
    g_autoptr (GrdTensor) w = grd_test_random (GRD_DTYPE_FLOAT64, 4, ws, -1, 1, 40 + k);
    GrdTensor *in[] = { x, w };
    grd_test_verify_grad ("conv2d", &cases[k], in, 2);
    grd_test_verify_grad_unknown_dims ("conv2d", &cases[k], in, 2);
  }
  g_unsetenv ("GRADUS_CONV");
}

/* The gradients of sum (conv2d (x, w) * gy) need neither the convolution
 * nor the product: the shape that _unreduce reads comes from gy, and
 * gy * _unreduce (1) is gy, so the function runs the two gradient ops only. */
static void
test_dead_forward (void)
{
  WinoCase c = { 2, 1, 3, 4, 6, 6, conv_attrs (GRD_BORDER_HALF, 0, 1, 1, 1, TRUE) };
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  gint64 xs[] = { 2, 3, 6, 6 }, ws[] = { 4, 3, 3, 3 }, ys[] = { 2, 4, 6, 6 };
  GrdRef vars[3];
  vars[0] = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT32, 4, xs, &error);
  vars[1] = grd_graph_variable (g, "w", GRD_DTYPE_FLOAT32, 4, ws, &error);
  vars[2] = grd_graph_variable (g, "gy", GRD_DTYPE_FLOAT32, 4, ys, &error);
  GrdRef y = grd_graph_op (g, "conv", "conv2d", vars, 2, &c.a, &error);
  GrdRef cost = grd_op1 (g, "sum", grd_op2 (g, "mul", y, vars[2], &error), &error);
  GrdRef grads[2];
  grd_graph_grad (g, "grads", cost, vars, 2, NULL, 0, grads, &error);
  g_assert_no_error (error);
  g_autoptr (GrdFunction) fn = grd_function_new (g, vars, 3, grads, 2, NULL, 0, &error);
  g_autoptr (GrdFunction) ref = grd_function_new_with_passes (g, vars, 3, grads, 2, NULL, 0, 0, &error);
  g_assert_no_error (error);
  g_autofree char *text = grd_function_describe (fn);
  g_assert_nonnull (strstr (text, "_conv2d_grad_input"));
  g_assert_nonnull (strstr (text, "_conv2d_grad_filters"));
  g_assert_null (strstr (text, " conv2d("));
  g_assert_null (strstr (text, "fused"));
  g_assert_null (strstr (text, "_unreduce"));
  /* and the values are still the reference's */
  GrdTensor *in[3], *r[2] = { NULL }, *f[2] = { NULL };
  const gint64 *shapes[3] = { xs, ws, ys };
  for (gint k = 0; k < 3; k++)
    in[k] = grd_test_random (GRD_DTYPE_FLOAT32, 4, shapes[k], -1, 1, 900 + (guint64) k);
  g_assert_true (grd_function_call (ref, in, r, &error));
  g_assert_true (grd_function_call (fn, in, f, &error));
  g_assert_no_error (error);
  for (gint k = 0; k < 2; k++) {
    grd_test_assert_close (f[k], r[k], 1e-5, 1e-5);
    grd_tensor_unref (f[k]);
    grd_tensor_unref (r[k]);
  }
  for (gint k = 0; k < 3; k++)
    grd_tensor_unref (in[k]);
}

/* ------------------------------------------------- AVX-512 products */

/* |got - sum| within k float32 roundings of the sum of |terms| */
static void
assert_dot (float got, double sum, double abs_sum, gint64 k)
{
  double tol = (double) (k + 2) * 6e-8 * abs_sum + 1e-30;
  if (fabs (got - sum) > tol)
    g_error ("product %.9g, want %.9g (tolerance %.3g)", got, sum, tol);
}

/* The Winograd path's float32 products (grd-conv-wgemm.c) against double
 * sums: sizes around the 8 x 32 and 4 x 4 register blocks and the 1024-long
 * chunks of k, leading dimensions wider than the operands (the elements
 * between must stay untouched), accumulating or not. */
static void
test_winograd_wgemm (void)
{
  if (!grd_conv_wgemm_available ()) {
    g_test_skip ("this CPU lacks AVX-512; the Winograd path uses OpenBLAS");
    return;
  }
  g_autoptr (GRand) rng = g_rand_new_with_seed (31);
  const float sentinel = 12345.0f;
  for (gint t = 0; t < 60; t++) {
    gboolean nt = t % 2 == 1, accumulate = t % 4 == 3;
    gint64 m = g_rand_int_range (rng, 1, 20), n = g_rand_int_range (rng, 1, 70);
    gint64 k = t < 4 ? t / 2 * 1030 : g_rand_int_range (rng, 0, nt ? 2200 : 80);
    if (t == 6)
      m = 8, n = 32, k = 32;
    gint64 lda = (nt ? k : k) + g_rand_int_range (rng, 0, 3);
    gint64 ldb = (nt ? k : n) + g_rand_int_range (rng, 0, 3);
    gint64 ldc = n + g_rand_int_range (rng, 0, 3);
    gint64 brows = nt ? n : k;
    g_autofree float *a = g_new (float, MAX (1, m * lda));
    g_autofree float *b = g_new (float, MAX (1, brows * ldb));
    g_autofree float *c = g_new (float, m * ldc);
    g_autofree float *c0 = g_new (float, m * ldc);
    for (gint64 i = 0; i < m * lda; i++)
      a[i] = (float) g_rand_double_range (rng, -1, 1);
    for (gint64 i = 0; i < brows * ldb; i++)
      b[i] = (float) g_rand_double_range (rng, -1, 1);
    for (gint64 i = 0; i < m * ldc; i++)
      c[i] = c0[i] = i % ldc < n ? (float) g_rand_double_range (rng, -1, 1) : sentinel;
    if (nt)
      grd_conv_wgemm_nt_f32 (m, n, k, a, lda, b, ldb, accumulate, c, ldc);
    else
      grd_conv_wgemm_nn_f32 (m, n, k, a, lda, b, ldb, c, ldc);
    for (gint64 i = 0; i < m; i++)
      for (gint64 j = 0; j < ldc; j++) {
        if (j >= n) {
          g_assert_cmpfloat (c[i * ldc + j], ==, sentinel);
          continue;
        }
        double sum = accumulate ? c0[i * ldc + j] : 0, abs_sum = fabs (sum);
        for (gint64 l = 0; l < k; l++) {
          double p = (double) a[i * lda + l] * (nt ? b[j * ldb + l] : b[l * ldb + j]);
          sum += p;
          abs_sum += fabs (p);
        }
        assert_dot (c[i * ldc + j], sum, abs_sum, k);
      }
  }
  /* the OpenBLAS path gives the same convolutions to float32 rounding */
  WinoCase c = { 3, 1, 13, 21, 11, 37, conv_attrs (GRD_BORDER_FULL, 0, 1, 1, 1, TRUE) };
  gint64 xs[4] = { c.n, c.cg, c.h, c.w }, ws[4] = { c.og, c.cg, 3, 3 };
  gint64 ys[4] = { c.n, c.og, c.h + 2, c.w + 2 };
  const gint64 *shapes[3] = { xs, ws, ys };
  GrdTensor *in[3], *r[2][3] = { { NULL } };
  for (gint k = 0; k < 3; k++)
    in[k] = grd_test_random (GRD_DTYPE_FLOAT32, 4, shapes[k], -1, 1, 900 + (guint64) k);
  g_autoptr (GError) error = NULL;
  g_setenv ("GRADUS_CONV", "winograd", TRUE);
  for (gint path = 0; path < 2; path++) {
    if (path)
      g_setenv ("GRADUS_CONV_GEMM", "blas", TRUE);
    g_autoptr (GrdFunction) fn = wino_function (&c, GRD_DTYPE_FLOAT32, GRD_PASS_ALL);
    g_assert_true (grd_function_call (fn, in, r[path], &error));
    g_assert_no_error (error);
  }
  g_unsetenv ("GRADUS_CONV_GEMM");
  g_unsetenv ("GRADUS_CONV");
  for (gint k = 0; k < 3; k++) {
    g_assert_cmpfloat (rel_error (r[0][k], r[1][k]), <=, 2e-6);
    grd_tensor_unref (r[0][k]);
    grd_tensor_unref (r[1][k]);
    grd_tensor_unref (in[k]);
  }
}

/* The rule: Winograd for 3x3 stride-1 undilated filters with enough channels
 * and output; GRADUS_CONV forces either path where it applies. */
static void
test_winograd_rule (void)
{
  gint64 xs[] = { 64, 32, 28, 28 }, ws[] = { 64, 32, 3, 3 }, small_ws[] = { 16, 1, 3, 3 };
  gint64 tiny_xs[] = { 64, 16, 4, 4 }, tiny_ws[] = { 32, 16, 3, 3 }, small_xs[] = { 64, 1, 8, 8 };
  GrdAttrs half = conv_attrs (GRD_BORDER_HALF, 0, 1, 1, 1, TRUE);
  GrdAttrs valid = conv_attrs (GRD_BORDER_VALID, 0, 1, 1, 1, TRUE);
  GrdAttrs strided = conv_attrs (GRD_BORDER_HALF, 0, 2, 1, 1, TRUE);
  GrdAttrs dilated = conv_attrs (GRD_BORDER_HALF, 0, 1, 2, 1, TRUE);
  GrdConvGeom g;
  g_unsetenv ("GRADUS_CONV");
  g_assert_true (grd_conv_geom (&half, xs, ws, &g, NULL));
  g_assert_true (grd_conv_winograd_chosen (&g, GRD_CONV_PASS_GRAD_INPUT));
  g_setenv ("GRADUS_CONV", "gemm", TRUE);
  g_assert_false (grd_conv_winograd_chosen (&g, GRD_CONV_PASS_GRAD_INPUT));
  g_unsetenv ("GRADUS_CONV");
  /* the digits CNN's layers: one channel in; a 2x2 output */
  g_assert_true (grd_conv_geom (&half, small_xs, small_ws, &g, NULL));
  g_assert_false (grd_conv_winograd_chosen (&g, GRD_CONV_PASS_FORWARD));
  g_setenv ("GRADUS_CONV", "winograd", TRUE);
  g_assert_true (grd_conv_winograd_chosen (&g, GRD_CONV_PASS_FORWARD));
  g_unsetenv ("GRADUS_CONV");
  g_assert_true (grd_conv_geom (&valid, tiny_xs, tiny_ws, &g, NULL));
  g_assert_false (grd_conv_winograd_chosen (&g, GRD_CONV_PASS_FORWARD));
  /* 8 channels at 28x28 yes; 64 at 7x7 no */
  gint64 x8[] = { 64, 8, 28, 28 }, w8[] = { 8, 8, 3, 3 }, x7[] = { 64, 64, 7, 7 }, w7[] = { 64, 64, 3, 3 };
  g_assert_true (grd_conv_geom (&half, x8, w8, &g, NULL));
  g_assert_true (grd_conv_winograd_chosen (&g, GRD_CONV_PASS_GRAD_FILTERS));
  g_assert_true (grd_conv_geom (&half, x7, w7, &g, NULL));
  g_assert_false (grd_conv_winograd_chosen (&g, GRD_CONV_PASS_GRAD_FILTERS));
  /* strides and dilation never, even forced */
  g_setenv ("GRADUS_CONV", "winograd", TRUE);
  g_assert_true (grd_conv_geom (&strided, xs, ws, &g, NULL));
  g_assert_false (grd_conv_winograd_chosen (&g, GRD_CONV_PASS_FORWARD));
  g_assert_true (grd_conv_geom (&dilated, xs, ws, &g, NULL));
  g_assert_false (grd_conv_winograd_chosen (&g, GRD_CONV_PASS_FORWARD));
  g_unsetenv ("GRADUS_CONV");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/conv/references/reference-executor", GUINT_TO_POINTER (0), test_references);
  g_test_add_data_func ("/conv/references/compiled-float64", GUINT_TO_POINTER (1), test_references);
  g_test_add_data_func ("/conv/references/compiled-float32", GUINT_TO_POINTER (2), test_references);
  g_test_add_func ("/conv/conv2d/grad", test_conv_grad);
  g_test_add_func ("/conv/pool_2d/values", test_pool_values);
  g_test_add_func ("/conv/pool_2d/grad", test_pool_grad);
  g_test_add_func ("/conv/pool_2d/ties", test_pool_ties);
  g_test_add_func ("/conv/pool_2d/stored-argmax", test_pool_stored_argmax);
  g_test_add_func ("/conv/types", test_types);
  g_test_add_func ("/conv/repeated-calls", test_repeated_calls);
  g_test_add_func ("/conv/chunks", test_chunks);
  g_test_add_func ("/conv/document", test_document);
  g_test_add_func ("/conv/scratch-cache", test_scratch_cache);
  g_test_add_func ("/conv/winograd/geometries", test_winograd_geometries);
  g_test_add_func ("/conv/winograd/large", test_winograd_large);
  g_test_add_func ("/conv/winograd/grad", test_winograd_grad);
  g_test_add_func ("/conv/winograd/rule", test_winograd_rule);
  g_test_add_func ("/conv/winograd/wgemm", test_winograd_wgemm);
  g_test_add_func ("/conv/dead-forward", test_dead_forward);
  return g_test_run ();
}
