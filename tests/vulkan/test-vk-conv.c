/* test-vk-conv.c: conv2d, pool_2d, mod and floor_div on Vulkan (lavapipe in CI, validation
 * on): outputs and gradients against the references of tests/data/conv-refs.json
 * (PyTorch float64 for conv2d, hand-written NumPy for pool_2d), in float32
 * and, where the device has it, float64; the pooling gradients and the
 * gradient of the max-pool gradient against the CPU back end. */
#include "gradus.h"
#include "grd-internal.h"
#include "../grad-check.h"
#include "../conv-cases.h"
#include "vulkan/grd-vk-private.h"

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
  g_test_add_func ("/vk-conv/mod", test_mod);
  return g_test_run ();
}
