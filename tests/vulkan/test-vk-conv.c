/* test-vk-conv.c: conv2d, pool_2d, mod and floor_div on Vulkan (lavapipe in CI, validation
 * on): outputs and gradients against the references of tests/data/conv-refs.json
 * (PyTorch float64 for conv2d, hand-written NumPy for pool_2d), in float32
 * and, where the device has it, float64; the tiled conv kernels against the
 * CPU's reference executor and the simple kernels on random geometries
 * covering every attribute combination; max pooling's stored argmax on
 * ties; the pooling gradients and the gradient of the max-pool gradient
 * against the CPU back end. */
#include "gradus.h"
#include "grd-internal.h"
#include "../grad-check.h"
#include "../conv-cases.h"
#include "vulkan/grd-vk-private.h"

#include <math.h>
#include <string.h>

/* A function on Vulkan that really runs there. */
static GrdFunction *
on_vulkan (GrdGraph *g, const GrdRef *ins, gint n_in, const GrdRef *outs, gint n_out)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *warning = NULL;
  GrdFunction *fn = grd_function_new_on (g, ins, n_in, outs, n_out, NULL, 0, GRD_BACKEND_VULKAN,
                                         &warning, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (warning, ==, NULL);
  g_assert_cmpint (grd_function_backend (fn), ==, GRD_BACKEND_VULKAN);
  return fn;
}

static GrdFunction *
on_vulkan_case (GrdGraph *g, const GrdRef *ins, gint n_in, const GrdRef *outs, gint n_out,
                gpointer data)
{
  (void) data;
  return on_vulkan (g, ins, n_in, outs, n_out);
}

static void
test_references (void)
{
  g_autoptr (GError) error = NULL;
  GrdVkContext *ctx = grd_vk_context_get (&error);
  g_assert_no_error (error);
  g_autoptr (JsonParser) parser = NULL;
  JsonArray *cases = grd_test_conv_cases (&parser);
  for (guint i = 0; i < json_array_get_length (cases); i++) {
    JsonObject *c = json_array_get_object_element (cases, i);
    grd_test_conv_check_case (c, GRD_DTYPE_FLOAT32, 2e-4, on_vulkan_case, NULL);
    if (ctx->has_float64 && i % 4 == 0)  /* float64 on a quarter: lavapipe is slow */
      grd_test_conv_check_case (c, GRD_DTYPE_FLOAT64, 1e-9, on_vulkan_case, NULL);
  }
  g_assert_cmpint (grd_vk_validation_messages (), ==, 0);
}

/* pool_2d's gradient and the gradient of that (max: _pool_2d_gather) against the CPU. */
static void
test_pool_grads (void)
{
  gint64 xs[] = { 2, 3, 7, 6 };
  g_autoptr (GrdTensor) xv = grd_test_random (GRD_DTYPE_FLOAT32, 4, xs, -1, 1, 9);
  for (gint mode = GRD_POOL_MAX; mode <= GRD_POOL_AVERAGE_EXC_PAD; mode++)
    for (gint k = 0; k < 2; k++) {
      GrdAttrs a;
      grd_attrs_init (&a);
      a.ws[0] = 3, a.ws[1] = 2;
      a.pool_stride[0] = k ? 2 : 1, a.pool_stride[1] = 2;
      a.pool_pad[0] = a.pool_pad[1] = k;
      a.pool_mode = mode;
      g_autoptr (GrdGraph) g = grd_graph_new ();
      g_autoptr (GError) error = NULL;
      GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT32, 4, NULL, &error);
      GrdRef y = grd_graph_op (g, "pool", "pool_2d", &x, 1, &a, &error);
      GrdRef cost = grd_op1 (g, "sum", grd_op1 (g, "square", y, &error), &error);
      GrdRef gx, ggx;
      grd_graph_grad (g, "g1", cost, &x, 1, NULL, 0, &gx, &error);
      GrdRef c2 = grd_op1 (g, "sum", grd_op1 (g, "sin", gx, &error), &error);
      grd_graph_grad (g, "g2", c2, &x, 1, NULL, 0, &ggx, &error);
      g_assert_no_error (error);
      GrdRef outs[] = { y, gx, ggx };
      g_autoptr (GrdFunction) cpu = grd_function_new_on (g, &x, 1, outs, 3, NULL, 0, GRD_BACKEND_CPU,
                                                         NULL, &error);
      g_autoptr (GrdFunction) vk = on_vulkan (g, &x, 1, outs, 3);
      GrdTensor *r[3] = { NULL }, *v[3] = { NULL };
      g_assert_true (grd_function_call (cpu, &xv, r, &error));
      g_assert_true (grd_function_call (vk, &xv, v, &error));
      g_assert_no_error (error);
      for (gint o = 0; o < 3; o++) {
        grd_test_assert_close (v[o], r[o], 1e-4, 1e-5);
        grd_tensor_unref (v[o]);
        grd_tensor_unref (r[o]);
      }
    }
  g_assert_cmpint (grd_vk_validation_messages (), ==, 0);
}

/* Runs `fn` on vals with GRADUS_VULKAN_<var> = value for its first call (when
 * its kernels are recorded) and returns its n outputs. */
static void
call_with_env (GrdFunction *fn, const char *var, const char *value, GrdTensor **vals,
               GrdTensor **out)
{
  g_autoptr (GError) error = NULL;
  if (value)
    g_setenv (var, value, TRUE);
  gboolean ok = grd_function_call (fn, vals, out, &error);
  g_unsetenv (var);
  g_assert_no_error (error);
  g_assert_true (ok);
}

/* conv2d and both gradients (for sum(gy * y)) on a random geometry; attribute
 * choice `bits`: border mode (2 bits), flip, groups > 1, strides > 1,
 * dilation > 1. Tiled kernels against the reference executor and against
 * the simple kernels. */
static void
check_conv_geometry (guint bits, GrdDType dt, GRand *rng)
{
  GrdAttrs a;
  grd_attrs_init (&a);
  a.border_mode = GRD_BORDER_VALID + (bits & 3);
  a.filter_flip = (bits >> 2) & 1;
  gint64 groups = (bits >> 3) & 1 ? g_rand_int_range (rng, 2, 4) : 1;
  a.num_groups = groups;
  for (gint k = 0; k < 2; k++) {
    a.subsample[k] = (bits >> 4) & 1 ? g_rand_int_range (rng, 1, 4) : 1;
    a.filter_dilation[k] = (bits >> 5) & 1 ? g_rand_int_range (rng, 1, 3) : 1;
    a.border[k] = g_rand_int_range (rng, 0, 3);
  }
  if ((bits >> 4) & 1)  /* at least one stride above 1 */
    a.subsample[g_rand_int_range (rng, 0, 2)] = 2;
  if ((bits >> 5) & 1)
    a.filter_dilation[g_rand_int_range (rng, 0, 2)] = 2;
  /* channel counts not multiples of the tile (64 channels); some cases past one tile
   * of output channels (the forward's and the filters' rows) or of input channels
   * (the input gradient's rows) */
  gint64 cg = bits % 6 == 3 ? 66 : g_rand_int_range (rng, 1, 6);
  gint64 og = bits % 6 == 0 ? 67 : g_rand_int_range (rng, 1, 7);
  gint64 kh = g_rand_int_range (rng, 1, 4), kw = g_rand_int_range (rng, 1, 5);
  gint64 n = g_rand_int_range (rng, 1, 4);
  gint64 h = (kh - 1) * a.filter_dilation[0] + 1 + g_rand_int_range (rng, 0, 9);
  gint64 w = (kw - 1) * a.filter_dilation[1] + 1 + g_rand_int_range (rng, 0, 13);
  gint64 xs[] = { n, groups * cg, h, w }, wsh[] = { groups * og, cg, kh, kw };
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  GrdRef x = grd_graph_variable (g, "x", dt, 4, NULL, &error);
  GrdRef wr = grd_graph_variable (g, "w", dt, 4, NULL, &error);
  GrdRef gy = grd_graph_variable (g, "gy", dt, 4, NULL, &error);
  GrdRef in[] = { x, wr };
  GrdRef y = grd_graph_op (g, "conv", "conv2d", in, 2, &a, &error);
  GrdRef cost = grd_op1 (g, "sum", grd_op2 (g, "mul", gy, y, &error), &error);
  GrdRef outs[3] = { y };
  grd_graph_grad (g, "g", cost, in, 2, NULL, 0, outs + 1, &error);
  g_assert_no_error (error);
  g_autoptr (GrdTensor) xv = grd_test_random (dt, 4, xs, -1, 1, g_rand_int (rng));
  g_autoptr (GrdTensor) wv = grd_test_random (dt, 4, wsh, -1, 1, g_rand_int (rng));
  /* gy's shape is y's: from the reference's forward pass */
  g_autoptr (GrdFunction) fwd = grd_function_new_with_passes (g, in, 2, &y, 1, NULL, 0, 0, &error);
  g_assert_no_error (error);
  GrdTensor *xw[] = { xv, wv };
  g_autoptr (GrdTensor) yv = NULL;
  g_assert_true (grd_function_call (fwd, xw, &yv, &error));
  g_assert_no_error (error);
  g_autoptr (GrdTensor) gyv = grd_test_random (dt, 4, yv->shape, -1, 1, g_rand_int (rng));
  GrdRef ins[] = { x, wr, gy };
  GrdTensor *vals[] = { xv, wv, gyv };
  g_autoptr (GrdFunction) ref = grd_function_new_with_passes (g, ins, 3, outs, 3, NULL, 0, 0, &error);
  g_assert_no_error (error);
  g_autoptr (GrdFunction) tiled = on_vulkan (g, ins, 3, outs, 3);
  g_autoptr (GrdFunction) simple = on_vulkan (g, ins, 3, outs, 3);
  GrdTensor *r[3] = { NULL }, *t[3] = { NULL }, *sv[3] = { NULL };
  g_assert_true (grd_function_call (ref, vals, r, &error));
  g_assert_no_error (error);
  call_with_env (tiled, "GRADUS_VULKAN_CONV", NULL, vals, t);
  call_with_env (simple, "GRADUS_VULKAN_CONV", "simple", vals, sv);
  double tol = dt == GRD_DTYPE_FLOAT64 ? 1e-10 : 1e-4;
  for (gint o = 0; o < 3; o++) {
    if (g_test_verbose ())
      g_printerr ("bits %u n %ld c %ld o %ld h %ld w %ld k %ldx%ld output %d\n", bits, (long) n,
                  (long) (groups * cg), (long) (groups * og), (long) h, (long) w, (long) kh,
                  (long) kw, o);
    grd_test_assert_close (t[o], r[o], tol, tol);
    grd_test_assert_close (t[o], sv[o], tol, tol);
    grd_tensor_unref (r[o]);
    grd_tensor_unref (t[o]);
    grd_tensor_unref (sv[o]);
  }
  /* a second call replays the recorded dispatches (split-k temporaries included) */
  g_assert_true (grd_function_call (tiled, vals, t, &error));
  g_assert_true (grd_function_call (ref, vals, r, &error));
  g_assert_no_error (error);
  for (gint o = 0; o < 3; o++) {
    grd_test_assert_close (t[o], r[o], tol, tol);
    grd_tensor_unref (r[o]);
    grd_tensor_unref (t[o]);
  }
}

static void
test_tiled_geometries (void)
{
  g_autoptr (GError) error = NULL;
  GrdVkContext *ctx = grd_vk_context_get (&error);
  g_assert_no_error (error);
  g_autoptr (GRand) rng = g_rand_new_with_seed (1204);
  for (guint bits = 0; bits < 64; bits++) {
    check_conv_geometry (bits, GRD_DTYPE_FLOAT32, rng);
    if (ctx->has_float64 && bits % 4 == 1)  /* float64 on a quarter: lavapipe is slow */
      check_conv_geometry (bits, GRD_DTYPE_FLOAT64, rng);
  }
  g_assert_cmpint (grd_vk_validation_messages (), ==, 0);
}

/* The layer shape at a small batch: long k (the filters' gradient
 * splits it) and several tiles in every direction. */
static void
test_tiled_large (void)
{
  GrdAttrs a;
  grd_attrs_init (&a);
  a.border_mode = GRD_BORDER_HALF;
  gint64 xs[] = { 2, 32, 28, 28 }, wsh[] = { 64, 32, 3, 3 }, ys[] = { 2, 64, 28, 28 };
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT32, 4, NULL, &error);
  GrdRef wr = grd_graph_variable (g, "w", GRD_DTYPE_FLOAT32, 4, NULL, &error);
  GrdRef gy = grd_graph_variable (g, "gy", GRD_DTYPE_FLOAT32, 4, NULL, &error);
  GrdRef in[] = { x, wr };
  GrdRef y = grd_graph_op (g, "conv", "conv2d", in, 2, &a, &error);
  GrdRef cost = grd_op1 (g, "sum", grd_op2 (g, "mul", gy, y, &error), &error);
  GrdRef outs[3] = { y };
  grd_graph_grad (g, "g", cost, in, 2, NULL, 0, outs + 1, &error);
  g_assert_no_error (error);
  g_autoptr (GrdTensor) xv = grd_test_random (GRD_DTYPE_FLOAT32, 4, xs, -1, 1, 31);
  g_autoptr (GrdTensor) wv = grd_test_random (GRD_DTYPE_FLOAT32, 4, wsh, -1, 1, 32);
  g_autoptr (GrdTensor) gyv = grd_test_random (GRD_DTYPE_FLOAT32, 4, ys, -1, 1, 33);
  GrdRef ins[] = { x, wr, gy };
  GrdTensor *vals[] = { xv, wv, gyv };
  g_autoptr (GrdFunction) ref = grd_function_new_with_passes (g, ins, 3, outs, 3, NULL, 0, 0, &error);
  g_autoptr (GrdFunction) vk = on_vulkan (g, ins, 3, outs, 3);
  GrdTensor *r[3] = { NULL }, *v[3] = { NULL };
  g_assert_true (grd_function_call (ref, vals, r, &error));
  g_assert_no_error (error);
  call_with_env (vk, "GRADUS_VULKAN_CONV", NULL, vals, v);
  for (gint o = 0; o < 3; o++) {
    grd_test_assert_close (v[o], r[o], 1e-4, 1e-3);
    grd_tensor_unref (v[o]);
    grd_tensor_unref (r[o]);
  }
  g_assert_cmpint (grd_vk_validation_messages (), ==, 0);
}

/* Max pooling on values with many ties (small integers), overlapping and
 * padded windows: the stored argmax picks the first largest element like the
 * CPU, in the output, the gradient and the gradient's gradient; the same
 * with the argmax recomputed, and with only the gradient asked for (no
 * forward pass to keep it). */
static void
test_pool_ties (void)
{
  gint64 xs[] = { 2, 3, 9, 8 };
  for (gint dti = 0; dti < 2; dti++) {
    GrdDType dt = dti ? GRD_DTYPE_FLOAT64 : GRD_DTYPE_FLOAT32;
    g_autoptr (GError) error = NULL;
    if (dt == GRD_DTYPE_FLOAT64 && !grd_vk_context_get (&error)->has_float64)
      continue;
    g_autoptr (GrdTensor) xv = grd_test_random (dt, 4, xs, 0, 3, 77);
    for (gint64 i = 0; i < xv->size; i++)  /* 0, 1 or 2: most windows tie */
      grd_tensor_set (xv, i, floor (grd_tensor_get (xv, i)));
    for (gint k = 0; k < 4; k++) {
      GrdAttrs a;
      grd_attrs_init (&a);
      a.ws[0] = 3, a.ws[1] = 2 + k % 2;
      a.pool_stride[0] = 1 + k / 2, a.pool_stride[1] = 1;
      a.pool_pad[0] = a.pool_pad[1] = k % 2;
      a.ignore_border = k != 2;
      a.pool_mode = GRD_POOL_MAX;
      g_autoptr (GrdGraph) g = grd_graph_new ();
      GrdRef x = grd_graph_variable (g, "x", dt, 4, NULL, &error);
      GrdRef y = grd_graph_op (g, "pool", "pool_2d", &x, 1, &a, &error);
      /* weights per output position, so that a wrong argmax changes the gradient */
      GrdRef cost = grd_op1 (g, "sum", grd_op2 (g, "mul", y, grd_op1 (g, "sin", y, &error),
                                                &error), &error);
      GrdRef gx, ggx;
      grd_graph_grad (g, "g1", cost, &x, 1, NULL, 0, &gx, &error);
      GrdRef c2 = grd_op1 (g, "sum", grd_op2 (g, "mul", gx, grd_op1 (g, "cos", x, &error),
                                              &error), &error);
      grd_graph_grad (g, "g2", c2, &x, 1, NULL, 0, &ggx, &error);
      g_assert_no_error (error);
      GrdRef outs[] = { y, gx, ggx };
      g_autoptr (GrdFunction) ref = grd_function_new_with_passes (g, &x, 1, outs, 3, NULL, 0, 0,
                                                                  &error);
      g_assert_no_error (error);
      GrdTensor *r[3] = { NULL };
      g_assert_true (grd_function_call (ref, &xv, r, &error));
      g_assert_no_error (error);
      for (gint variant = 0; variant < 3; variant++) {
        /* 0: stored argmax, 1: recomputed, 2: only the gradient */
        gint first = variant == 2 ? 1 : 0;
        g_autoptr (GrdFunction) vk = on_vulkan (g, &x, 1, outs + first, 3 - first);
        GrdTensor *v[3] = { NULL };
        call_with_env (vk, "GRADUS_VULKAN_POOL", variant == 1 ? "recompute" : NULL, &xv, v);
        for (gint o = first; o < 3; o++) {
          grd_test_assert_close (v[o - first], r[o], 1e-6, 1e-6);
          grd_tensor_unref (v[o - first]);
        }
      }
      for (gint o = 0; o < 3; o++)
        grd_tensor_unref (r[o]);
    }
  }
  g_assert_cmpint (grd_vk_validation_messages (), ==, 0);
}

/* mod and floor_div run as fused elementwise kernels: against the CPU, with
 * broadcasting, negative operands, integer division by zero, and mod's
 * gradient. */
static void
test_mod (void)
{
  for (GrdDType dt = GRD_DTYPE_INT32; dt <= GRD_DTYPE_FLOAT32; dt++) {
    if (dt == GRD_DTYPE_INT64)
      continue;
    g_autoptr (GrdGraph) g = grd_graph_new ();
    g_autoptr (GError) error = NULL;
    gint64 as[] = { 5, 8 }, bs[] = { 8 };
    GrdRef a = grd_graph_variable (g, "a", dt, 2, NULL, &error);
    GrdRef b = grd_graph_variable (g, "b", dt, 1, NULL, &error);
    GrdRef outs[4];
    outs[0] = grd_op2 (g, "mod", a, b, &error);
    outs[1] = grd_op2 (g, "floor_div", a, b, &error);
    gint n_out = 2;
    if (dt == GRD_DTYPE_FLOAT32) {
      GrdRef cost = grd_op1 (g, "sum", grd_op1 (g, "sin", outs[0], &error), &error);
      GrdRef wrt[] = { a, b };
      grd_graph_grad (g, "gr", cost, wrt, 2, NULL, 0, outs + 2, &error);
      n_out = 4;
    }
    g_assert_no_error (error);
    g_autoptr (GrdTensor) av = grd_test_random (dt, 2, as, -20, 20, 1);
    g_autoptr (GrdTensor) bv = grd_test_random (dt, 1, bs, -6, 6, 2);
    if (dt == GRD_DTYPE_FLOAT32)  /* away from zero divisors: the gradient is smooth there */
      for (gint64 i = 0; i < bv->size; i++)
        grd_tensor_set (bv, i, grd_tensor_get (bv, i) < 0 ? grd_tensor_get (bv, i) - 0.5
                                                          : grd_tensor_get (bv, i) + 0.5);
    else
      grd_tensor_set (bv, 3, 0);  /* x // 0 == x % 0 == 0 */
    GrdRef ins[] = { a, b };
    GrdTensor *vals[] = { av, bv };
    g_autoptr (GrdFunction) cpu = grd_function_new_on (g, ins, 2, outs, n_out, NULL, 0,
                                                       GRD_BACKEND_CPU, NULL, &error);
    g_autoptr (GrdFunction) vk = on_vulkan (g, ins, 2, outs, n_out);
    GrdTensor *r[4] = { NULL }, *v[4] = { NULL };
    g_assert_true (grd_function_call (cpu, vals, r, &error));
    g_assert_true (grd_function_call (vk, vals, v, &error));
    g_assert_no_error (error);
    for (gint o = 0; o < n_out; o++) {
      grd_test_assert_close (v[o], r[o], 1e-5, 1e-5);
      grd_tensor_unref (v[o]);
      grd_tensor_unref (r[o]);
    }
  }
  g_assert_cmpint (grd_vk_validation_messages (), ==, 0);
}

/* ------------------------------------------------------------ epilogues */

/* The dispatches a call of fn records or replays, its outputs in out, and
 * the device bytes it allocated in *bytes. */
static gint64
dispatches (GrdFunction *fn, GrdTensor **vals, GrdTensor **out, gint64 *bytes)
{
  g_autoptr (GError) error = NULL;
  GrdVkContext *ctx = grd_vk_context_get (&error);
  g_assert_no_error (error);
  gint64 before = ctx->n_dispatches, bytes_before = ctx->n_bytes;
  g_assert_true (grd_function_call (fn, vals, out, &error));
  g_assert_no_error (error);
  *bytes = ctx->n_bytes - bytes_before;
  return ctx->n_dispatches - before;
}

/* A Vulkan function with conv epilogues turned off (GRADUS_VULKAN_EPILOGUE
 * is read when the function is made). */
static GrdFunction *
on_vulkan_unfused (GrdGraph *g, const GrdRef *ins, gint n_in, const GrdRef *outs, gint n_out)
{
  g_setenv ("GRADUS_VULKAN_EPILOGUE", "off", TRUE);
  GrdFunction *fn = on_vulkan (g, ins, n_in, outs, n_out);
  g_unsetenv ("GRADUS_VULKAN_EPILOGUE");
  return fn;
}

typedef struct {
  const char *act;   /* an elementwise op, "mix" (a chain reading a second operand) or "none" */
  gint        bias;  /* 0 [1,O,1,1], 1 [O] through dimshuffle, 2 a scalar constant, 3 [O,1,1] */
  gint        border;
  gint        groups, stride;
  GrdDType    dt;
  gboolean    second_reader;  /* the conv's result is an output too: no epilogue */
} EpiCase;

static GrdRef
activate (GrdGraph *g, const char *act, GrdRef z, GrdRef other, GError **error)
{
  if (g_str_equal (act, "none"))
    return z;
  if (!g_str_equal (act, "mix"))
    return grd_op1 (g, act, z, error);
  /* softplus(z / 2) - z * other, other of shape [1, 1, OH, OW] */
  GrdRef half = grd_op2 (g, "mul", z, grd_scalar (g, grd_graph_ref_type (g, z)->dtype, 0.5, error),
                         error);
  return grd_op2 (g, "sub", grd_op1 (g, "softplus", half, error), grd_op2 (g, "mul", z, other, error),
                  error);
}

/* act(conv(x, w) + bias [* other]) on the CPU, on Vulkan with the epilogue
 * and without: the values agree, the epilogue saves one dispatch and the
 * conv's buffer (a replayed call too); with a second reader of the conv's
 * result nothing is fused and the values still agree. */
static void
check_epilogue (const EpiCase *ec, GRand *rng)
{
  GrdAttrs a;
  grd_attrs_init (&a);
  a.border_mode = ec->border;
  a.num_groups = ec->groups;
  a.subsample[0] = a.subsample[1] = ec->stride;
  gint64 n = 2, cg = 3, og = 2, h = 7, w = 6, kh = 3, kw = 2, o = ec->groups * og;
  gint64 xs[] = { n, ec->groups * cg, h, w }, wsh[] = { o, cg, kh, kw };
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  GrdDType dt = ec->dt;
  GrdRef x = grd_graph_variable (g, "x", dt, 4, NULL, &error);
  GrdRef wr = grd_graph_variable (g, "w", dt, 4, NULL, &error);
  gint64 bshape[4] = { 1, o, 1, 1 };
  GrdRef b = ec->bias == 0 ? grd_graph_variable (g, "b", dt, 4, bshape, &error)
             : ec->bias == 1 ? grd_graph_variable (g, "b", dt, 1, &o, &error)
             : ec->bias == 3 ? grd_graph_variable (g, "b", dt, 3, bshape + 1, &error)
                             : grd_scalar (g, dt, 0.25, &error);
  GrdRef bb = b;
  if (ec->bias == 1) {
    GrdAttrs da;
    grd_attrs_init (&da);
    da.n_pattern = 4;
    da.pattern[0] = -1, da.pattern[1] = 0, da.pattern[2] = -1, da.pattern[3] = -1;
    bb = grd_graph_op (g, "b4", "dimshuffle", &b, 1, &da, &error);
  }
  GrdRef other = grd_graph_variable (g, "other", dt, 4, NULL, &error);
  GrdRef in[] = { x, wr };
  GrdRef y = grd_graph_op (g, "conv", "conv2d", in, 2, &a, &error);
  GrdRef z = activate (g, ec->act, grd_op2 (g, "add", y, bb, &error), other, &error);
  g_assert_no_error (error);
  g_autoptr (GrdTensor) xv = grd_test_random (dt, 4, xs, -1, 1, g_rand_int (rng));
  g_autoptr (GrdTensor) wv = grd_test_random (dt, 4, wsh, -1, 1, g_rand_int (rng));
  g_autoptr (GrdTensor) bv = ec->bias == 2 ? NULL
                             : grd_test_random (dt, ec->bias == 1 ? 1 : 4 - (ec->bias == 3),
                                                ec->bias == 1 ? &o : ec->bias == 3 ? bshape + 1 : bshape,
                                                -1, 1, g_rand_int (rng));
  /* y's shape from the reference executor */
  g_autoptr (GrdFunction) fwd = grd_function_new_with_passes (g, in, 2, &y, 1, NULL, 0, 0, &error);
  g_assert_no_error (error);
  g_autoptr (GrdTensor) yv = NULL;
  GrdTensor *xw[] = { xv, wv };
  g_assert_true (grd_function_call (fwd, xw, &yv, &error));
  gint64 os[] = { 1, 1, yv->shape[2], yv->shape[3] };
  g_autoptr (GrdTensor) ov = grd_test_random (dt, 4, os, -1, 1, g_rand_int (rng));
  gboolean mix = g_str_equal (ec->act, "mix");
  GrdRef ins[4] = { x, wr, other, b };
  GrdTensor *vals[4] = { xv, wv, ov, bv };
  gint n_in = 3 + (ec->bias != 2);
  if (!mix) {  /* `other` is not read */
    ins[2] = ins[3];
    vals[2] = vals[3];
    n_in--;
  }
  GrdRef outs[] = { z, y };
  gint n_out = ec->second_reader ? 2 : 1;
  g_autoptr (GrdFunction) cpu = grd_function_new_on (g, ins, n_in, outs, n_out, NULL, 0,
                                                     GRD_BACKEND_CPU, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (GrdFunction) fused = on_vulkan (g, ins, n_in, outs, n_out);
  g_autoptr (GrdFunction) plain = on_vulkan_unfused (g, ins, n_in, outs, n_out);
  g_autoptr (GrdFunction) simple = on_vulkan (g, ins, n_in, outs, n_out);
  GrdTensor *r[2] = { NULL }, *f[2] = { NULL }, *u[2] = { NULL };
  g_assert_true (grd_function_call (cpu, vals, r, &error));
  g_assert_no_error (error);
  /* planned with the epilogue, recorded with the simple conv kernel: unfused per call */
  call_with_env (simple, "GRADUS_VULKAN_CONV", "simple", vals, u);
  for (gint k = 0; k < n_out; k++) {
    grd_test_assert_close (u[k], r[k], dt == GRD_DTYPE_FLOAT64 ? 1e-10 : 2e-5, 1e-5);
    g_clear_pointer (&u[k], grd_tensor_unref);
  }
  gint64 bytes_f, bytes_u, bytes_f2;
  gint64 df = dispatches (fused, vals, f, &bytes_f), du = dispatches (plain, vals, u, &bytes_u);
  double tol = dt == GRD_DTYPE_FLOAT64 ? 1e-10 : 2e-5;
  for (gint k = 0; k < n_out; k++) {
    grd_test_assert_close (f[k], r[k], tol, tol);
    grd_test_assert_close (f[k], u[k], tol, tol);
    g_clear_pointer (&f[k], grd_tensor_unref);
    g_clear_pointer (&u[k], grd_tensor_unref);
  }
  gint64 y_bytes = yv->size * grd_dtype_size (dt);
  if (ec->second_reader) {
    g_assert_cmpint (df, ==, du);
  } else {
    g_assert_cmpint (df, ==, du - 1);
    /* no buffer for the conv's result */
    g_assert_cmpint (bytes_f + y_bytes, <=, bytes_u);
  }
  /* the second call replays what the first recorded */
  gint64 df2 = dispatches (fused, vals, f, &bytes_f2);
  g_assert_cmpint (df2, ==, df);
  g_assert_cmpint (bytes_f2, ==, 0);
  for (gint k = 0; k < n_out; k++) {
    grd_test_assert_close (f[k], r[k], tol, tol);
    grd_tensor_unref (f[k]);
    grd_tensor_unref (r[k]);
  }
}

/* A training step's graph: h = relu(conv(x, w1) + b1), y = conv(h, w2),
 * cost = sum(gy * y), and the gradients for w1, b1 and x: the forward conv
 * takes the bias as its epilogue, and the input gradient of the second conv
 * takes relu's gradient (a switch on pre > 0) as its own. */
static void
test_epilogue_grad (void)
{
  g_autoptr (GError) error = NULL;
  GrdVkContext *ctx = grd_vk_context_get (&error);
  g_assert_no_error (error);
  for (gint dti = 0; dti < 2; dti++) {
    GrdDType dt = dti ? GRD_DTYPE_FLOAT64 : GRD_DTYPE_FLOAT32;
    if (dti && !ctx->has_float64)
      continue;
    GrdAttrs a;
    grd_attrs_init (&a);
    a.border_mode = dti ? GRD_BORDER_VALID : GRD_BORDER_HALF;
    a.num_groups = dti ? 1 : 2;
    g_autoptr (GrdGraph) g = grd_graph_new ();
    GrdRef x = grd_graph_variable (g, "x", dt, 4, NULL, &error);
    GrdRef w1 = grd_graph_variable (g, "w1", dt, 4, NULL, &error);
    GrdRef w2 = grd_graph_variable (g, "w2", dt, 4, NULL, &error);
    gint64 bs[] = { 1, 4, 1, 1 };
    GrdRef b1 = grd_graph_variable (g, "b1", dt, 4, bs, &error);
    GrdRef gy = grd_graph_variable (g, "gy", dt, 4, NULL, &error);
    GrdRef in1[] = { x, w1 };
    GrdRef pre = grd_op2 (g, "add", grd_graph_op (g, "conv1", "conv2d", in1, 2, &a, &error), b1,
                          &error);
    GrdRef in2[] = { grd_op1 (g, "relu", pre, &error), w2 };
    GrdRef y = grd_graph_op (g, "conv2", "conv2d", in2, 2, &a, &error);
    GrdRef cost = grd_op1 (g, "sum", grd_op2 (g, "mul", gy, y, &error), &error);
    GrdRef wrt[] = { w1, b1, x }, outs[4] = { cost };
    grd_graph_grad (g, "g", cost, wrt, 3, NULL, 0, outs + 1, &error);
    g_assert_no_error (error);
    gint64 xs[] = { 2, 4, 6, 7 }, w1s[] = { 4, 4 / a.num_groups, 3, 3 };
    gint64 w2s[] = { 4, 4 / a.num_groups, 2, 3 };
    g_autoptr (GrdTensor) xv = grd_test_random (dt, 4, xs, -1, 1, 41);
    g_autoptr (GrdTensor) w1v = grd_test_random (dt, 4, w1s, -1, 1, 42);
    g_autoptr (GrdTensor) w2v = grd_test_random (dt, 4, w2s, -1, 1, 43);
    g_autoptr (GrdTensor) bv = grd_test_random (dt, 4, bs, -1, 1, 44);
    /* gy's shape is y's: from the reference executor */
    GrdRef fin[] = { x, w1, w2, b1 };
    GrdTensor *fvals[] = { xv, w1v, w2v, bv };
    g_autoptr (GrdFunction) fwd = grd_function_new_with_passes (g, fin, 4, &y, 1, NULL, 0, 0, &error);
    g_autoptr (GrdTensor) yv = NULL;
    g_assert_true (grd_function_call (fwd, fvals, &yv, &error));
    g_assert_no_error (error);
    g_autoptr (GrdTensor) gyv = grd_test_random (dt, 4, yv->shape, -1, 1, 45);
    GrdRef ins[] = { x, w1, w2, b1, gy };
    GrdTensor *vals[] = { xv, w1v, w2v, bv, gyv };
    g_autoptr (GrdFunction) cpu = grd_function_new_on (g, ins, 5, outs, 4, NULL, 0,
                                                       GRD_BACKEND_CPU, NULL, &error);
    g_assert_no_error (error);
    g_autoptr (GrdFunction) fused = on_vulkan (g, ins, 5, outs, 4);
    g_autoptr (GrdFunction) plain = on_vulkan_unfused (g, ins, 5, outs, 4);
    GrdTensor *r[4] = { NULL }, *f[4] = { NULL }, *u[4] = { NULL };
    g_assert_true (grd_function_call (cpu, vals, r, &error));
    g_assert_no_error (error);
    gint64 bytes_f, bytes_u;
    gint64 df = dispatches (fused, vals, f, &bytes_f), du = dispatches (plain, vals, u, &bytes_u);
    if (g_test_verbose ())
      g_printerr ("%s: %" G_GINT64_FORMAT " dispatches fused, %" G_GINT64_FORMAT " unfused\n",
                  grd_dtype_name (dt), df, du);
    /* the forward's bias and the input gradient's mask */
    g_assert_cmpint (df, <=, du - 2);
    g_assert_cmpint (bytes_f, <, bytes_u);
    double tol = dti ? 1e-10 : 1e-4;
    for (gint k = 0; k < 4; k++) {
      grd_test_assert_close (f[k], r[k], tol, tol);
      grd_test_assert_close (f[k], u[k], tol, tol);
      grd_tensor_unref (f[k]);
      grd_tensor_unref (u[k]);
      grd_tensor_unref (r[k]);
    }
  }
  g_assert_cmpint (grd_vk_validation_messages (), ==, 0);
}

/* Planned as an epilogue, but this call's shapes do not allow it: the conv
 * of one image plus `other` of three (the group's result has three) records
 * the conv into a temporary and the group after it, with the CPU's values. */
static void
test_epilogue_shapes (void)
{
  g_autoptr (GError) error = NULL;
  GrdAttrs a;
  grd_attrs_init (&a);
  a.border_mode = GRD_BORDER_HALF;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT32, 4, NULL, &error);
  GrdRef wr = grd_graph_variable (g, "w", GRD_DTYPE_FLOAT32, 4, NULL, &error);
  GrdRef other = grd_graph_variable (g, "other", GRD_DTYPE_FLOAT32, 4, NULL, &error);
  GrdRef in[] = { x, wr };
  GrdRef z = grd_op1 (g, "tanh", grd_op2 (g, "add", grd_graph_op (g, "conv", "conv2d", in, 2, &a,
                                                                  &error), other, &error), &error);
  g_assert_no_error (error);
  gint64 xs[] = { 1, 2, 5, 4 }, wsh[] = { 3, 2, 3, 3 }, os[] = { 3, 3, 5, 4 };
  g_autoptr (GrdTensor) xv = grd_test_random (GRD_DTYPE_FLOAT32, 4, xs, -1, 1, 51);
  g_autoptr (GrdTensor) wv = grd_test_random (GRD_DTYPE_FLOAT32, 4, wsh, -1, 1, 52);
  g_autoptr (GrdTensor) ov = grd_test_random (GRD_DTYPE_FLOAT32, 4, os, -1, 1, 53);
  GrdRef ins[] = { x, wr, other };
  GrdTensor *vals[] = { xv, wv, ov };
  g_autoptr (GrdFunction) cpu = grd_function_new_on (g, ins, 3, &z, 1, NULL, 0, GRD_BACKEND_CPU,
                                                     NULL, &error);
  g_assert_no_error (error);
  g_autoptr (GrdFunction) fused = on_vulkan (g, ins, 3, &z, 1);
  g_autoptr (GrdFunction) plain = on_vulkan_unfused (g, ins, 3, &z, 1);
  g_autoptr (GrdTensor) r = NULL;
  g_autoptr (GrdTensor) f = NULL;
  g_autoptr (GrdTensor) u = NULL;
  g_assert_true (grd_function_call (cpu, vals, &r, &error));
  g_assert_no_error (error);
  gint64 bytes_f, bytes_u;
  g_assert_cmpint (dispatches (fused, vals, &f, &bytes_f), ==, dispatches (plain, vals, &u, &bytes_u));
  g_assert_cmpint (f->shape[0], ==, 3);
  grd_test_assert_close (f, r, 2e-5, 2e-5);
  grd_test_assert_close (f, u, 2e-5, 2e-5);
  g_assert_cmpint (grd_vk_validation_messages (), ==, 0);
}

static void
test_epilogue (void)
{
  g_autoptr (GError) error = NULL;
  GrdVkContext *ctx = grd_vk_context_get (&error);
  g_assert_no_error (error);
  const GrdDType f32 = GRD_DTYPE_FLOAT32, f64 = GRD_DTYPE_FLOAT64;
  const EpiCase cases[] = {
    { "relu", 0, GRD_BORDER_VALID, 1, 1, f32, FALSE },
    { "tanh", 1, GRD_BORDER_HALF, 1, 1, f32, FALSE },
    { "sigmoid", 2, GRD_BORDER_FULL, 2, 1, f32, FALSE },
    { "mix", 3, GRD_BORDER_HALF, 2, 2, f32, FALSE },
    { "none", 1, GRD_BORDER_VALID, 1, 2, f32, FALSE },
    { "erf", 0, GRD_BORDER_FULL, 1, 1, f32, FALSE },
    { "relu", 0, GRD_BORDER_HALF, 1, 1, f64, FALSE },
    { "mix", 1, GRD_BORDER_VALID, 2, 1, f64, FALSE },
    { "tanh", 3, GRD_BORDER_FULL, 1, 2, f64, FALSE },
    { "relu", 0, GRD_BORDER_HALF, 1, 1, f32, TRUE },
    { "mix", 1, GRD_BORDER_VALID, 2, 1, f64, TRUE },
  };
  g_autoptr (GRand) rng = g_rand_new_with_seed (1212);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    if (cases[i].dt == f64 && !ctx->has_float64)
      continue;
    if (g_test_verbose ())
      g_printerr ("case %zu: %s\n", i, cases[i].act);
    check_epilogue (&cases[i], rng);
  }
  g_assert_cmpint (grd_vk_validation_messages (), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autoptr (GError) error = NULL;
  if (!grd_vk_context_get (&error)) {
    /* the suite's other tests say why; nothing here can run */
    g_print ("1..0 # SKIP no Vulkan device: %s\n", error->message);
    return 0;
  }
  g_test_add_func ("/vk-conv/references", test_references);
  g_test_add_func ("/vk-conv/pool-grads", test_pool_grads);
  g_test_add_func ("/vk-conv/tiled-geometries", test_tiled_geometries);
  g_test_add_func ("/vk-conv/tiled-large", test_tiled_large);
  g_test_add_func ("/vk-conv/pool-ties", test_pool_ties);
  g_test_add_func ("/vk-conv/mod", test_mod);
  g_test_add_func ("/vk-conv/epilogue", test_epilogue);
  g_test_add_func ("/vk-conv/epilogue-grad", test_epilogue_grad);
  g_test_add_func ("/vk-conv/epilogue-shapes", test_epilogue_shapes);
  return g_test_run ();
}
