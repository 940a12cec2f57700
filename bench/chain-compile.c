/* chain-compile.c: how long a long chain of nodes takes to check and compile
 * (issue 15: must be linear; 100,000 nodes in under 2 s and 500 MB).
 *
 *   build/bench/gradus-chain-compile [N]
 *
 * Writes a graph file of N op nodes (x -> tanh -> mul by a constant -> add
 * ... in turn, so that the passes have work), then times loading it (parse,
 * type checks) and compiling its function, and prints one JSON line with the
 * times and the peak resident memory of the process. */
#include "gradus.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

/* CPU seconds of this process so far (user + system): on a shared machine
 * the wall clock measures the neighbours too. */
static double
cpu_s (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int
main (int argc, char **argv)
{
  gint n = argc > 1 ? atoi (argv[1]) : 100000;
  if (n < 1) {
    fprintf (stderr, "usage: %s [N >= 1]\n", argv[0]);
    return 2;
  }
  GString *s = g_string_new ("{\"format\": \"gradus-graph\", \"version\": 1, \"nodes\": [\n"
                             "{\"id\": \"x\", \"kind\": \"variable\", \"dtype\": \"float64\","
                             " \"shape\": [null]},\n"
                             "{\"id\": \"c\", \"kind\": \"constant\", \"dtype\": \"float64\","
                             " \"value\": 0.5}");
  const char *prev = "x";
  g_autofree char *prev_buf = NULL;
  for (gint i = 0; i < n; i++) {
    static const char *const ops[] = { "tanh", "mul", "add" };
    const char *op = ops[i % 3];
    if (i % 3 == 0)
      g_string_append_printf (s, ",\n{\"id\": \"n%d\", \"kind\": \"op\", \"op\": \"%s\","
                              " \"inputs\": [\"%s\"]}", i, op, prev);
    else
      g_string_append_printf (s, ",\n{\"id\": \"n%d\", \"kind\": \"op\", \"op\": \"%s\","
                              " \"inputs\": [\"%s\", \"c\"]}", i, op, prev);
    g_free (prev_buf);
    prev = prev_buf = g_strdup_printf ("n%d", i);
  }
  g_string_append_printf (s, "],\n\"function\": {\"inputs\": [\"x\"], \"outputs\": [\"%s\"]}}\n",
                          prev);

  double c0 = cpu_s ();
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdDocument) doc = grd_document_load_from_data (s->str, s->len, "chain.gradus", &error);
  gint64 t1 = g_get_monotonic_time ();
  double c1 = cpu_s ();
  g_autoptr (GrdFunction) fn = doc ? grd_document_function (doc, &error) : NULL;
  gint64 t2 = g_get_monotonic_time ();
  double c2 = cpu_s ();
  if (!fn) {
    fprintf (stderr, "chain-compile: %s\n", error->message);
    return 1;
  }
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  printf ("{\"nodes\": %d, \"check_s\": %.3f, \"compile_s\": %.3f, \"total_s\": %.3f,"
          " \"check_cpu_s\": %.3f, \"compile_cpu_s\": %.3f, \"peak_rss_mb\": %.1f}\n", n,
          (t1 - t0) / 1e6, (t2 - t1) / 1e6, (t2 - t0) / 1e6, c1 - c0, c2 - c1,
          ru.ru_maxrss / 1024.0);
  g_string_free (s, TRUE);
  return 0;
}
