/* conv-bench.c: times a graph file's function like `gradus bench` and says
 * how much of the time went to BLAS gemm: the dense products (the profile's
 * "gemm" steps) plus the gemms inside the convolution kernels (their
 * counter; the Winograd path's gemms run on the engine's workers and count
 * their thread time over the number of threads). GRADUS_CONV=gemm|winograd
 * forces the convolutions' path. For bench/conv.py.
 *
 * usage: gradus-conv-bench FILE [STEPS]
 * prints {"call_us_median", "call_us_min", "gemm_share", "conv_share", "steps"} */
#include "gradus.h"
#include "compile/grd-conv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

int
main (int argc, char **argv)
{
  if (argc < 2) {
    fprintf (stderr, "usage: %s FILE [STEPS]\n", argv[0]);
    return 2;
  }
  gint steps = argc > 2 ? atoi (argv[2]) : 20, warmup = 3;
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdDocument) doc = grd_document_load (argv[1], &error);
  g_autoptr (GrdFunction) fn = doc ? grd_document_function (doc, &error) : NULL;
  g_autoptr (GPtrArray) feeds = fn ? grd_document_feeds (doc, NULL, &error) : NULL;
  if (!feeds) {
    fprintf (stderr, "%s: %s\n", argv[1], error->message);
    return 1;
  }
  gint n_in = grd_function_n_inputs (fn), n_out = grd_function_n_outputs (fn);
  gint total = warmup + steps;
  /* every call's inputs made before the timing */
  GrdTensor **inputs = g_new0 (GrdTensor *, (gsize) total * MAX (n_in, 1));
  for (gint s = 0; s < total; s++)
    for (gint i = 0; i < n_in; i++)
      if (!(inputs[s * n_in + i] = grd_feed_next (feeds->pdata[i], s, &error))) {
        fprintf (stderr, "%s: %s\n", argv[1], error->message);
        return 1;
      }
  double *us = g_new (double, steps);
  GrdTensor **outs = g_new0 (GrdTensor *, MAX (n_out, 1));
  guint64 gemm0 = 0;
  double sum_us = 0;
  for (gint s = 0; s < total; s++) {
    if (s == warmup) {
      grd_function_set_profiling (fn, TRUE);
      gemm0 = grd_conv_gemm_us_total ();
    }
    gint64 t0 = g_get_monotonic_time ();
    if (!grd_function_call (fn, inputs + (gsize) s * n_in, outs, &error)) {
      fprintf (stderr, "%s: %s\n", argv[1], error->message);
      return 1;
    }
    double dt = (double) (g_get_monotonic_time () - t0);
    if (s >= warmup) {
      us[s - warmup] = dt;
      sum_us += dt;
    }
    for (gint k = 0; k < n_out; k++)
      g_clear_pointer (&outs[k], grd_tensor_unref);
  }
  double conv_gemm = (double) (grd_conv_gemm_us_total () - gemm0), dense_gemm = 0, conv_us = 0;
  GArray *prof = grd_function_profile (fn);
  for (guint k = 0; prof && k < prof->len; k++) {
    GrdProfileEntry *e = &g_array_index (prof, GrdProfileEntry, k);
    if (g_str_equal (e->kind, "gemm"))
      dense_gemm += e->total_us;
    else if (strstr (e->kind, "conv2d"))
      conv_us += e->total_us;
  }
  qsort (us, steps, sizeof (double), compare_double);
  printf ("{\"call_us_median\": %.1f, \"call_us_min\": %.1f, \"gemm_share\": %.3f, "
          "\"conv_share\": %.3f, \"steps\": %d}\n",
          us[steps / 2], us[0], (conv_gemm + dense_gemm) / sum_us, conv_us / sum_us, steps);
  for (gint s = 0; s < total * n_in; s++)
    grd_tensor_unref (inputs[s]);
  g_free (inputs);
  g_free (outs);
  g_free (us);
  return 0;
}
