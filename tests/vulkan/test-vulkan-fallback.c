/* test-vulkan-fallback.c: a Vulkan device that fails mid-run. The function
 * moves to the CPU, redoes that call, and the run goes on with the same
 * numbers as a CPU run, every shared value kept. The failure is simulated at
 * call 3 (GRADUS_VULKAN_FAIL_AT_CALL), which is what a lost device reports. */
#include "../grad-check.h"

#include <string.h>

static GrdFunction *
linear_regression (GrdGraph *g, GrdBackend backend, GrdRef *a, GError **error)
{
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT32, 1, NULL, error);
  gint64 s[] = { 3 };
  g_autoptr (GrdTensor) w0 = grd_test_random (GRD_DTYPE_FLOAT32, 1, s, -1, 1, 3);
  *a = grd_graph_shared (g, "a", w0, error);
  GrdRef loss = grd_op1 (g, "sum", grd_op1 (g, "square", grd_op2 (g, "sub", grd_op2 (g, "mul", *a, x, error),
                                                                    grd_scalar (g, GRD_DTYPE_FLOAT32, 2, error), error), error), error);
  GrdRef ga;
  grd_graph_grad (g, "g", loss, a, 1, NULL, 0, &ga, error);
  GrdUpdate up = { *a, grd_op2 (g, "sub", *a, grd_op2 (g, "mul", grd_scalar (g, GRD_DTYPE_FLOAT32, 0.1, error), ga, error), error) };
  if (*error)
    return NULL;
  g_autofree char *warning = NULL;
  return grd_function_new_on (g, &x, 1, &loss, 1, &up, 1, backend, &warning, error);
}

static void
test_device_lost (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) gc = grd_graph_new ();
  g_autoptr (GrdGraph) gv = grd_graph_new ();
  GrdRef ac, av;
  g_autoptr (GrdFunction) cpu = linear_regression (gc, GRD_BACKEND_CPU, &ac, &error);
  g_assert_no_error (error);
  g_autoptr (GrdFunction) vk = linear_regression (gv, GRD_BACKEND_VULKAN, &av, &error);
  g_assert_no_error (error);
  /* lavapipe is installed wherever this test runs */
  g_assert_cmpint (grd_function_backend (vk), ==, GRD_BACKEND_VULKAN);
  g_assert_null (grd_function_fallback_reason (vk));
  gint64 s[] = { 3 };
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT32, 1, s, 0, 1, 4);
  for (gint step = 0; step < 8; step++) {
    g_autoptr (GrdTensor) lc = NULL;
    g_autoptr (GrdTensor) lv = NULL;
    g_assert_true (grd_function_call (cpu, &x, &lc, &error));
    g_assert_true (grd_function_call (vk, &x, &lv, &error));
    g_assert_no_error (error);
    grd_test_assert_close (lv, lc, 1e-5, 1e-6);
    g_assert_cmpint (grd_function_backend (vk), ==, step < 3 ? GRD_BACKEND_VULKAN : GRD_BACKEND_CPU);
  }
  g_assert_nonnull (strstr (grd_function_fallback_reason (vk), "device lost"));
  g_assert_true (grd_function_sync (vk, &error));
  grd_test_assert_close (grd_graph_get_value (gv, av), grd_graph_get_value (gc, ac), 1e-5, 1e-6);
}

int
main (int argc, char **argv)
{
  g_setenv ("GRADUS_VULKAN_FAIL_AT_CALL", "3", TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vulkan/fallback/device-lost", test_device_lost);
  return g_test_run ();
}
