/* scalar-call.c: the per-call cost of a function of scalars from C, through
 * grd_function_call (tensors) and grd_function_call_doubles (plain doubles).
 *
 *   build/bench/gradus-scalar-call FILE [CALLS] [IN0 IN1 ...]
 *
 * Compiles FILE's function (every input and output a scalar), feeds the
 * given values (1.0 for inputs not given) on every call, and prints one JSON
 * line: the best of 5 rounds of CALLS calls each way, in µs per call (wall
 * clock, and this thread's CPU time, which a shared machine disturbs less), and
 * the first output after the last call of each way (the same numbers: both
 * ways start from the file's shared values). */
#include "gradus.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ROUNDS 5

static gint64
cpu_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

/* best wall µs per call; *cpu_us the best CPU µs per call */
static double
best_round_us (GrdFunction *fn, gboolean doubles, const double *in, GrdTensor **tin, gint calls,
               double *first_out, double *cpu_us)
{
  gint n_out = grd_function_n_outputs (fn);
  double out[n_out + 1];
  GrdTensor *tout[n_out + 1];
  g_autoptr (GError) error = NULL;
  double best = G_MAXDOUBLE;
  *cpu_us = G_MAXDOUBLE;
  for (gint r = 0; r < ROUNDS; r++) {
    gint64 t0 = g_get_monotonic_time (), c0 = cpu_ns ();
    for (gint c = 0; c < calls; c++) {
      gboolean ok;
      if (doubles) {
        ok = grd_function_call_doubles (fn, in, out, &error);
      } else {
        ok = grd_function_call (fn, tin, tout, &error);
        if (ok) {
          out[0] = n_out ? grd_tensor_get (tout[0], 0) : 0;
          for (gint o = 0; o < n_out; o++)
            grd_tensor_unref (tout[o]);
        }
      }
      if (!ok) {
        fprintf (stderr, "scalar-call: %s\n", error->message);
        exit (1);
      }
    }
    best = MIN (best, (g_get_monotonic_time () - t0) / (double) calls);
    *cpu_us = MIN (*cpu_us, (cpu_ns () - c0) / 1e3 / calls);
  }
  *first_out = out[0];
  return best;
}

int
main (int argc, char **argv)
{
  if (argc < 2) {
    fprintf (stderr, "usage: %s FILE [CALLS] [INPUT VALUES...]\n", argv[0]);
    return 2;
  }
  gint calls = argc > 2 ? atoi (argv[2]) : 1000000;
  g_autoptr (GError) error = NULL;
  double out_t = 0, out_d = 0, us_t = 0, us_d = 0, cpu_t = 0, cpu_d = 0;
  for (gint way = 0; way < 2; way++) {
    /* a fresh document each way, so both start from the same shared values */
    g_autoptr (GrdDocument) doc = grd_document_load (argv[1], &error);
    g_autoptr (GrdFunction) fn = doc ? grd_document_function (doc, &error) : NULL;
    if (!fn) {
      fprintf (stderr, "scalar-call: %s\n", error->message);
      return 1;
    }
    gint n_in = grd_function_n_inputs (fn);
    double in[n_in + 1];
    GrdTensor *tin[n_in + 1];
    for (gint i = 0; i < n_in; i++) {
      in[i] = 3 + i < argc ? g_ascii_strtod (argv[3 + i], NULL) : 1.0;
      tin[i] = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, in[i]);
    }
    if (way == 0)
      us_t = best_round_us (fn, FALSE, in, tin, calls, &out_t, &cpu_t);
    else
      us_d = best_round_us (fn, TRUE, in, tin, calls, &out_d, &cpu_d);
    for (gint i = 0; i < n_in; i++)
      grd_tensor_unref (tin[i]);
  }
  printf ("{\"calls\": %d, \"tensor_us\": %.4f, \"doubles_us\": %.4f, \"tensor_cpu_us\": %.4f,"
          " \"doubles_cpu_us\": %.4f, \"tensor_out\": %.17g, \"doubles_out\": %.17g}\n", calls,
          us_t, us_d, cpu_t, cpu_d, out_t, out_d);
  return out_t == out_d ? 0 : 1;
}
