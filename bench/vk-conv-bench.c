/* vk-conv-bench.c: the Vulkan conv kernels, simple (one invocation per
 * output element, GRADUS_VULKAN_CONV=simple) against tiled (implicit gemm in
 * shared memory), on the layer of issue 12: x [B, 32, 28, 28], w [64, 32, 3, 3],
 * border "half". Times conv2d, _conv2d_grad_input and _conv2d_grad_filters
 * each as its own function, best of ROUNDS calls after one warm-up call (the
 * call includes uploading the inputs and reading the output back), in wall
 * time and in the process's CPU time (lavapipe's threads included).
 *
 * Then the layer relu(conv2d(x, w) + b) (b of [64] broadcast over the
 * channels) with the bias and relu as the tiled kernel's epilogue (one
 * dispatch) against the same with GRADUS_VULKAN_EPILOGUE=off (the conv,
 * then the elementwise kernel).
 *
 * usage: gradus-vk-conv-bench [BATCH [ROUNDS]]
 * prints one JSON line per op: {"op", "batch", "simple_ms", "tiled_ms", "ratio",
 * "simple_cpu_ms", "tiled_cpu_ms", "cpu_ratio"}, then for the layer {"op":
 * "conv2d+bias+relu", "batch", "unfused_ms", "fused_ms", "ratio", "unfused_cpu_ms",
 * "fused_cpu_ms", "cpu_ratio"} */
#include "gradus.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* the process's CPU time in ms: lavapipe's worker threads included, so a
 * shared machine's load counts less than in wall time */
static double
cpu_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static GrdTensor *
random_tensor (gint rank, const gint64 *shape, guint32 seed)
{
  GrdTensor *t = grd_tensor_new (GRD_DTYPE_FLOAT32, rank, shape);
  GRand *rng = g_rand_new_with_seed (seed);
  for (gint64 i = 0; i < t->size; i++)
    grd_tensor_set (t, i, g_rand_double_range (rng, -1, 1));
  g_rand_free (rng);
  return t;
}

/* best-of-rounds milliseconds of fn on vals, its kernels recorded with
 * GRADUS_VULKAN_CONV = variant; -1 on error */
static double
time_fn (GrdFunction *fn, GrdTensor **vals, const char *variant, gint rounds, double *cpu_best)
{
  g_autoptr (GError) error = NULL;
  double best = G_MAXDOUBLE;
  *cpu_best = G_MAXDOUBLE;
  for (gint r = 0; r <= rounds; r++) {
    GrdTensor *out = NULL;
    if (r == 0)
      g_setenv ("GRADUS_VULKAN_CONV", variant, TRUE);
    gint64 t0 = g_get_monotonic_time ();
    double c0 = cpu_ms ();
    gboolean ok = grd_function_call (fn, vals, &out, &error);
    double ms = (double) (g_get_monotonic_time () - t0) / 1000.0, cms = cpu_ms () - c0;
    g_unsetenv ("GRADUS_VULKAN_CONV");
    if (!ok) {
      fprintf (stderr, "%s\n", error->message);
      return -1;
    }
    grd_tensor_unref (out);
    if (r > 0) {  /* the first call compiles and records */
      best = MIN (best, ms);
      *cpu_best = MIN (*cpu_best, cms);
    }
  }
  return best;
}

/* relu(y + b) fused into the conv and not: one JSON line */
static int
bench_layer (GrdGraph *g, GrdRef x, GrdRef w, GrdRef y, GrdTensor **xw, gint64 batch, gint rounds)
{
  g_autoptr (GError) error = NULL;
  GrdRef b = grd_graph_variable (g, "b", GRD_DTYPE_FLOAT32, 1, NULL, &error);
  GrdAttrs da;
  grd_attrs_init (&da);
  da.n_pattern = 4;
  da.pattern[0] = -1, da.pattern[1] = 0, da.pattern[2] = -1, da.pattern[3] = -1;
  GrdRef bb = grd_graph_op (g, "b4", "dimshuffle", &b, 1, &da, &error);
  GrdRef z = grd_op1 (g, "relu", grd_op2 (g, "add", y, bb, &error), &error);
  if (error) {
    fprintf (stderr, "%s\n", error->message);
    return 1;
  }
  gint64 bs[] = { 64 };
  g_autoptr (GrdTensor) bv = random_tensor (1, bs, 4);
  GrdRef ins[] = { x, w, b };
  GrdTensor *vals[] = { xw[0], xw[1], bv };
  double ms[2], cms[2];
  for (gint v = 0; v < 2; v++) {
    g_autofree char *warning = NULL;
    /* read when the function is made */
    if (v == 0)
      g_setenv ("GRADUS_VULKAN_EPILOGUE", "off", TRUE);
    GrdFunction *fn = grd_function_new_on (g, ins, 3, &z, 1, NULL, 0, GRD_BACKEND_VULKAN,
                                           &warning, &error);
    g_unsetenv ("GRADUS_VULKAN_EPILOGUE");
    if (!fn || grd_function_backend (fn) != GRD_BACKEND_VULKAN) {
      fprintf (stderr, "no Vulkan function: %s\n", error ? error->message : warning);
      return 1;
    }
    ms[v] = time_fn (fn, vals, "tiled", rounds, &cms[v]);
    grd_function_free (fn);
    if (ms[v] < 0)
      return 1;
  }
  printf ("{\"op\": \"conv2d+bias+relu\", \"batch\": %" G_GINT64_FORMAT ", \"unfused_ms\": %.1f, "
          "\"fused_ms\": %.1f, \"ratio\": %.2f, \"unfused_cpu_ms\": %.1f, "
          "\"fused_cpu_ms\": %.1f, \"cpu_ratio\": %.2f}\n", batch, ms[0], ms[1], ms[0] / ms[1],
          cms[0], cms[1], cms[0] / cms[1]);
  fflush (stdout);
  return 0;
}

int
main (int argc, char **argv)
{
  gint64 batch = argc > 1 ? atoi (argv[1]) : 8;
  gint rounds = argc > 2 ? atoi (argv[2]) : 3;
  if (batch < 1 || rounds < 1) {
    fprintf (stderr, "usage: %s [BATCH [ROUNDS]]\n", argv[0]);
    return 2;
  }
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdAttrs a;
  grd_attrs_init (&a);
  a.border_mode = GRD_BORDER_HALF;
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT32, 4, NULL, &error);
  GrdRef w = grd_graph_variable (g, "w", GRD_DTYPE_FLOAT32, 4, NULL, &error);
  GrdRef gy = grd_graph_variable (g, "gy", GRD_DTYPE_FLOAT32, 4, NULL, &error);
  GrdRef xw[] = { x, w };
  GrdRef y = grd_graph_op (g, "conv", "conv2d", xw, 2, &a, &error);
  GrdRef cost = grd_op1 (g, "sum", grd_op2 (g, "mul", gy, y, &error), &error);
  GrdRef grads[2];
  grd_graph_grad (g, "g", cost, xw, 2, NULL, 0, grads, &error);
  if (error) {
    fprintf (stderr, "%s\n", error->message);
    return 1;
  }
  gint64 xs[] = { batch, 32, 28, 28 }, ws[] = { 64, 32, 3, 3 }, ys[] = { batch, 64, 28, 28 };
  GrdTensor *vals[] = { random_tensor (4, xs, 1), random_tensor (4, ws, 2),
                        random_tensor (4, ys, 3) };
  GrdRef ins[] = { x, w, gy };
  const char *names[] = { "conv2d", "_conv2d_grad_input", "_conv2d_grad_filters" };
  GrdRef outs[] = { y, grads[0], grads[1] };
  int rc = 0;
  for (gint k = 0; k < 3 && rc == 0; k++) {
    double ms[2], cms[2];
    for (gint v = 0; v < 2 && rc == 0; v++) {
      g_autofree char *warning = NULL;
      /* the forward reads x and w only; the gradients x, w and gy */
      GrdFunction *fn = grd_function_new_on (g, ins, 3, &outs[k], 1, NULL, 0, GRD_BACKEND_VULKAN,
                                             &warning, &error);
      if (!fn || grd_function_backend (fn) != GRD_BACKEND_VULKAN) {
        fprintf (stderr, "no Vulkan function: %s\n", error ? error->message : warning);
        rc = 1;
        break;
      }
      ms[v] = time_fn (fn, vals, v ? "tiled" : "simple", rounds, &cms[v]);
      grd_function_free (fn);
      rc = ms[v] < 0;
    }
    if (rc == 0)
      printf ("{\"op\": \"%s\", \"batch\": %" G_GINT64_FORMAT ", \"simple_ms\": %.1f, "
              "\"tiled_ms\": %.1f, \"ratio\": %.2f, \"simple_cpu_ms\": %.1f, "
              "\"tiled_cpu_ms\": %.1f, \"cpu_ratio\": %.2f}\n", names[k], batch, ms[0], ms[1],
              ms[0] / ms[1], cms[0], cms[1], cms[0] / cms[1]);
    fflush (stdout);
  }
  if (rc == 0)
    rc = bench_layer (g, x, w, y, vals, batch, rounds);
  for (gint i = 0; i < 3; i++)
    grd_tensor_unref (vals[i]);
  return rc;
}
