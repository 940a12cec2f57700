/* test-vk-random.c: random nodes on Vulkan (lavapipe in CI, validation on)
 * draw exactly the CPU's numbers: the same bits for every distribution and
 * dtype, params broadcast from variables, shapes from `like`, and a new draw
 * at every call (the recorded dispatches are not replayed with an old count). */
#include "gradus.h"
#include "grd-internal.h"
#include "../grad-check.h"
#include "vulkan/grd-vk-private.h"

#include <math.h>
#include <string.h>

typedef struct {
  GrdDistribution dist;
  GrdDType        dtype;
  double          p0, p1;
} Case;

static void
assert_same_bits (const GrdTensor *a, const GrdTensor *b, const char *what)
{
  g_assert_true (grd_tensor_same_shape (a, b));
  g_assert_cmpint (a->dtype, ==, b->dtype);
  if (memcmp (a->data, b->data, (gsize) a->size * grd_dtype_size (a->dtype)) != 0) {
    for (gint64 i = 0; i < a->size; i++)
      if (grd_tensor_get (a, i) != grd_tensor_get (b, i))
        g_error ("%s: element %" G_GINT64_FORMAT ": CPU %.17g, Vulkan %.17g", what, i,
                 grd_tensor_get (a, i), grd_tensor_get (b, i));
    g_error ("%s: the bits differ", what);
  }
}

static void
check_case (const Case *c, GrdDType param_dtype)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  gint64 sl[] = { 57, 37 }, sp[] = { 37 };
  GrdRef like = grd_graph_variable (g, "like", GRD_DTYPE_FLOAT32, 2, NULL, &error);
  /* p0 a scalar constant, p1 a row vector variable: broadcast against the draw */
  GrdRef p0 = grd_scalar (g, param_dtype, c->p0, &error);
  GrdRef p1 = grd_graph_variable (g, "p1", param_dtype, 1, sp, &error);
  GrdRef r = grd_graph_random (g, "r", c->dist, c->dtype, 0, NULL, like, p0, p1, 77, &error);
  g_assert_no_error (error);
  GrdRef ins[] = { like, p1 };
  g_autoptr (GrdFunction) cpu = grd_function_new_on (g, ins, 2, &r, 1, NULL, 0, GRD_BACKEND_CPU,
                                                     NULL, &error);
  g_assert_no_error (error);
  g_autofree char *warning = NULL;
  g_autoptr (GrdFunction) vk = grd_function_new_on (g, ins, 2, &r, 1, NULL, 0, GRD_BACKEND_VULKAN,
                                                    &warning, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (warning, ==, NULL);
  g_assert_cmpint (grd_function_backend (vk), ==, GRD_BACKEND_VULKAN);
  g_autoptr (GrdTensor) lv = grd_test_random (GRD_DTYPE_FLOAT32, 2, sl, 0, 1, 1);
  g_autoptr (GrdTensor) pv = grd_test_random (param_dtype, 1, sp, c->p1, c->p1, 2);
  for (gint64 i = 0; i < pv->size; i++)  /* p1 varies along the row */
    grd_tensor_set (pv, i, c->dist == GRD_RANDOM_BINOMIAL ? 0.05 + 0.9 * i / pv->size
                                                          : c->p1 + 0.25 * i);
  GrdTensor *args[] = { lv, pv };
  GrdTensor *from_vk[3], *from_cpu[3];
  grd_graph_random_reset (g);
  for (gint k = 0; k < 3; k++) {
    grd_function_call (vk, args, &from_vk[k], &error);
    g_assert_no_error (error);
  }
  grd_graph_random_reset (g);
  for (gint k = 0; k < 3; k++)
    g_assert_true (grd_function_call (cpu, args, &from_cpu[k], &error));
  g_assert_no_error (error);
  g_autofree char *what = g_strdup_printf ("distribution %d, dtype %s, params %s", c->dist,
                                           grd_dtype_name (c->dtype), grd_dtype_name (param_dtype));
  for (gint k = 0; k < 3; k++)
    assert_same_bits (from_cpu[k], from_vk[k], what);
  /* each call drew anew */
  g_assert_true (memcmp (from_vk[0]->data, from_vk[1]->data,
                         (gsize) from_vk[0]->size * grd_dtype_size (c->dtype)) != 0);
  g_assert_true (memcmp (from_vk[1]->data, from_vk[2]->data,
                         (gsize) from_vk[0]->size * grd_dtype_size (c->dtype)) != 0);
  for (gint k = 0; k < 3; k++) {
    grd_tensor_unref (from_vk[k]);
    grd_tensor_unref (from_cpu[k]);
  }
}

static void
test_same_draws (void)
{
  g_autoptr (GError) error = NULL;
  GrdVkContext *ctx = grd_vk_context_get (&error);
  g_assert_no_error (error);
  if (!ctx->has_float64) {
    g_test_skip ("the device has no float64: random nodes run on the CPU there");
    return;
  }
  const Case cases[] = {
    { GRD_RANDOM_UNIFORM, GRD_DTYPE_FLOAT32, -1.5, 0.5 },
    { GRD_RANDOM_UNIFORM, GRD_DTYPE_FLOAT64, -1.5, 0.5 },
    { GRD_RANDOM_NORMAL, GRD_DTYPE_FLOAT32, 0.5, 2.0 },
    { GRD_RANDOM_NORMAL, GRD_DTYPE_FLOAT64, 0.5, 2.0 },
    { GRD_RANDOM_BINOMIAL, GRD_DTYPE_FLOAT32, 1, 0.3 },
    { GRD_RANDOM_BINOMIAL, GRD_DTYPE_INT32, 7, 0.3 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    check_case (&cases[i], GRD_DTYPE_FLOAT32);
    check_case (&cases[i], GRD_DTYPE_FLOAT64);
  }
  g_assert_cmpint (grd_vk_validation_messages (), ==, 0);
}

/* dropout on Vulkan in a function with updates: the same masks, so the same
 * trained values, as the CPU */
static void
test_dropout_training (void)
{
  g_autoptr (GError) error = NULL;
  GrdVkContext *ctx = grd_vk_context_get (&error);
  g_assert_no_error (error);
  if (!ctx->has_float64) {
    g_test_skip ("the device has no float64");
    return;
  }
  GrdTensor *final[2];
  for (gint backend = 0; backend < 2; backend++) {
    g_autoptr (GrdGraph) g = grd_graph_new ();
    gint64 sx[] = { 16, 8 }, sw[] = { 8, 1 };
    g_autoptr (GrdTensor) w0 = grd_test_random (GRD_DTYPE_FLOAT32, 2, sw, -0.5, 0.5, 3);
    GrdRef w = grd_graph_shared (g, "w", w0, &error);
    GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT32, 2, sx, &error);
    GrdRef mask = grd_graph_random (g, "mask", GRD_RANDOM_BINOMIAL, GRD_DTYPE_FLOAT32, 0, NULL, x,
                                    grd_scalar (g, GRD_DTYPE_FLOAT32, 1, &error),
                                    grd_scalar (g, GRD_DTYPE_FLOAT32, 0.6, &error), 5, &error);
    GrdRef y = grd_op2 (g, "dot", grd_op2 (g, "mul", x, mask, &error), w, &error);
    GrdRef cost = grd_op1 (g, "mean", grd_op1 (g, "square", grd_op1 (g, "tanh", y, &error), &error),
                           &error);
    GrdRef gw;
    grd_graph_grad (g, "g", cost, &w, 1, NULL, 0, &gw, &error);
    GrdRef next = grd_op2 (g, "sub", w, grd_op2 (g, "mul", grd_scalar (g, GRD_DTYPE_FLOAT32, 0.5,
                                                                        &error), gw, &error), &error);
    g_assert_no_error (error);
    GrdUpdate up = { w, next };
    g_autoptr (GrdFunction) f = grd_function_new_on (g, &x, 1, &cost, 1, &up, 1,
                                                     backend ? GRD_BACKEND_VULKAN : GRD_BACKEND_CPU,
                                                     NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (grd_function_backend (f), ==, backend ? GRD_BACKEND_VULKAN : GRD_BACKEND_CPU);
    g_autoptr (GrdTensor) xv = grd_test_random (GRD_DTYPE_FLOAT32, 2, sx, -1, 1, 4);
    for (gint step = 0; step < 5; step++) {
      GrdTensor *c = NULL;
      g_assert_true (grd_function_call (f, &xv, &c, &error));
      grd_tensor_unref (c);
    }
    g_assert_true (grd_function_sync (f, &error));
    final[backend] = grd_tensor_ref (grd_graph_node (g, w.node)->value);
  }
  /* the masks are the same bits; the arithmetic differs in rounding only */
  for (gint64 i = 0; i < final[0]->size; i++)
    g_assert_cmpfloat (fabs (grd_tensor_get (final[0], i) - grd_tensor_get (final[1], i)), <, 1e-5);
  grd_tensor_unref (final[0]);
  grd_tensor_unref (final[1]);
  g_assert_cmpint (grd_vk_validation_messages (), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vk-random/same-draws", test_same_draws);
  g_test_add_func ("/vk-random/dropout-training", test_dropout_training);
  return g_test_run ();
}
