/* cmd-bench.c: `gradus bench`: time compiling the file's function and calling it. */
#include "commands.h"

#include <cblas.h>

#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DEFAULT_STEPS 100
#define DEFAULT_WARMUP 3
/* Compiles are repeated (each from the JSON again) up to this many times or
 * this long, and the median is reported: one compile is too noisy to compare. */
#define COMPILE_REPEATS 5
#define COMPILE_BUDGET_NS (2 * G_GINT64_CONSTANT (1000000000))

static const char bench_usage[] =
  N_("usage: gradus bench FILE [--steps N] [--warmup N] [--backend cpu|vulkan] [--profile]\n"
  "\n"
  "Prints one JSON object: compile_ms (the graph rebuilt from the file's JSON,\n"
  "gradients included, and compiled: median of up to 5 compiles; compile_ms_first\n"
  "is the first), call_us_median, call_us_min, call_us_mean over N calls\n"
  "(default 100) after the warm-up calls (default 3), steps and backend.\n"
  "Feeds are prepared outside the timed calls. --profile adds \"profile\": one\n"
  "entry per compiled step (fused loop, BLAS call or op) with the graph nodes it\n"
  "computes, calls, time and bytes written, slowest first.\n");

/* The same clock as g_get_monotonic_time(), with nanoseconds: small graphs
 * are called in about a microsecond. */
static gint64
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
compare_gint64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return (x > y) - (x < y);
}

static double
median_ns (gint64 *values, gint n)
{
  qsort (values, n, sizeof (gint64), compare_gint64);
  return n % 2 ? (double) values[n / 2] : 0.5 * ((double) values[n / 2 - 1] + values[n / 2]);
}

static void
append_number (GString *out, const char *key, double value)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];
  g_string_append_printf (out, ", \"%s\": %s", key,
                          g_ascii_formatd (buffer, sizeof buffer, "%.4f", value));
}

static gint
compare_profile (gconstpointer a, gconstpointer b)
{
  const GrdProfileEntry *x = *(GrdProfileEntry *const *) a, *y = *(GrdProfileEntry *const *) b;
  return (x->total_us < y->total_us) - (x->total_us > y->total_us);
}

/* "profile": [{"nodes", "kind", "calls", "us_per_call", "share", "bytes_per_call"}...],
 * slowest first. The reference executor has none: an empty list. */
static void
append_profile (GString *out, GrdFunction *fn)
{
  GArray *prof = grd_function_profile (fn);
  g_string_append (out, ", \"profile\": [");
  if (prof) {
    g_autoptr (GPtrArray) order = g_ptr_array_new ();
    double total = 0;
    for (guint i = 0; i < prof->len; i++) {
      g_ptr_array_add (order, &g_array_index (prof, GrdProfileEntry, i));
      total += g_array_index (prof, GrdProfileEntry, i).total_us;
    }
    g_ptr_array_sort (order, compare_profile);
    for (guint i = 0; i < order->len; i++) {
      GrdProfileEntry *p = g_ptr_array_index (order, i);
      double calls = MAX (p->calls, 1);
      g_string_append (out, i ? ", {\"nodes\": " : "{\"nodes\": ");
      cli_append_json_string (out, p->label);
      g_string_append (out, ", \"kind\": ");
      cli_append_json_string (out, p->kind);
      g_string_append_printf (out, ", \"calls\": %" G_GUINT64_FORMAT, p->calls);
      append_number (out, "us_per_call", p->total_us / calls);
      append_number (out, "share", total > 0 ? p->total_us / total : 0);
      g_string_append_printf (out, ", \"bytes_per_call\": %" G_GUINT64_FORMAT "}",
                              (guint64) (p->bytes / calls));
    }
  }
  g_string_append_c (out, ']');
}

/* One call with fresh feeds; returns the time of the call alone, or -1. */
static gint64
timed_call (GrdFunction *fn, GPtrArray *feeds, gint64 step, GrdTensor **inputs,
            GrdTensor **outputs, GError **error)
{
  gint n_inputs = feeds->len, n_outputs = grd_function_n_outputs (fn);
  gint64 elapsed = -1;
  gboolean ok = TRUE;
  for (gint i = 0; i < n_inputs && ok; i++)
    ok = (inputs[i] = grd_feed_next (g_ptr_array_index (feeds, i), step, error)) != NULL;
  if (ok) {
    gint64 t0 = now_ns ();
    ok = grd_function_call (fn, inputs, outputs, error);
    gint64 t1 = now_ns ();
    if (ok)
      elapsed = t1 - t0;
  }
  for (gint i = 0; i < n_inputs; i++)
    g_clear_pointer (&inputs[i], grd_tensor_unref);
  for (gint i = 0; ok && i < n_outputs; i++)
    g_clear_pointer (&outputs[i], grd_tensor_unref);
  return elapsed;
}

int
gradus_cmd_bench (int argc, char **argv)
{
  const char *file = NULL;
  gint steps = DEFAULT_STEPS, warmup = DEFAULT_WARMUP;
  GrdBackend backend = GRD_BACKEND_CPU;
  gboolean profile = FALSE;
  g_autoptr (GError) error = NULL;

  for (int i = 0; i < argc; i++) {
    const char *value = NULL;
    g_autoptr (GError) e = NULL;
    if (cli_flag (argv, i, "--help") || cli_flag (argv, i, "-h")) {
      g_print ("%s", _(bench_usage));
      return CLI_EXIT_OK;
    } else if (cli_flag (argv, i, "--profile")) {
      profile = TRUE;
    } else if (cli_option (argc, argv, &i, "--steps", &value, &e)) {
      if (!e)
        cli_parse_count ("--steps", value, 1, &steps, &e);
    } else if (cli_option (argc, argv, &i, "--warmup", &value, &e)) {
      if (!e)
        cli_parse_count ("--warmup", value, 0, &warmup, &e);
    } else if (cli_option (argc, argv, &i, "--backend", &value, &e)) {
      if (!e && !grd_backend_from_name (value, &backend))
        g_set_error (&e, GRD_ERROR, GRD_ERROR_PARSE,
                     _("--backend wants cpu or vulkan, not '%s'"), value);
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      g_set_error (&e, GRD_ERROR, GRD_ERROR_PARSE,
                   _("unknown option '%s' (see gradus bench --help)"), argv[i]);
    } else if (!file) {
      file = argv[i];
    } else {
      g_set_error (&e, GRD_ERROR, GRD_ERROR_PARSE, _("bench takes one file; unexpected '%s'"),
                   argv[i]);
    }
    if (e && !error)
      error = g_steal_pointer (&e);
  }
  if (!error && !file)
    g_set_error (&error, GRD_ERROR, GRD_ERROR_PARSE, _("no file given (see gradus bench --help)"));
  if (error) {
    cli_error ("bench", file, "%s", error->message);
    return CLI_EXIT_USAGE;
  }

  /* Reading and parsing the file is not compiling: done once, untimed. */
  g_autoptr (GrdDocument) source = grd_document_load (file, &error);
  if (!source) {
    cli_error ("bench", file, "%s", error->message);
    return CLI_EXIT_ERROR;
  }
  JsonNode *root = grd_document_root (source);

  g_autoptr (GrdDocument) doc = NULL;
  g_autoptr (GrdFunction) fn = NULL;
  g_autofree char *warning = NULL;
  gint64 compile_ns[COMPILE_REPEATS];
  gint n_compiles = 0;
  gint64 spent = 0;
  while (n_compiles < COMPILE_REPEATS && (n_compiles == 0 || spent < COMPILE_BUDGET_NS)) {
    g_clear_pointer (&fn, grd_function_free);
    g_clear_pointer (&doc, grd_document_free);
    g_clear_pointer (&warning, g_free);
    gint64 t0 = now_ns ();
    doc = grd_document_new_from_json (root, file, GRD_DOCUMENT_STRICT, &error);
    if (doc)
      fn = cli_compile (doc, backend, &warning, &error);
    gint64 t1 = now_ns ();
    if (!fn) {
      cli_error ("bench", file, "%s", error->message);
      return CLI_EXIT_ERROR;
    }
    compile_ns[n_compiles++] = t1 - t0;
    spent += t1 - t0;
  }
  double compile_first_ns = compile_ns[0];
  double compile_median_ns = median_ns (compile_ns, n_compiles);
  if (warning)
    cli_error ("bench", file, _("warning: %s"), warning);

  g_autoptr (GPtrArray) feeds = grd_document_feeds (doc, NULL, &error);
  if (!feeds) {
    cli_error ("bench", file, "%s", error->message);
    return CLI_EXIT_ERROR;
  }
  if ((gint) feeds->len != grd_function_n_inputs (fn)) {
    cli_error ("bench", file, _("%u feeds for %d inputs"), feeds->len, grd_function_n_inputs (fn));
    return CLI_EXIT_ERROR;
  }
  g_autofree GrdTensor **inputs = g_new0 (GrdTensor *, MAX (feeds->len, 1));
  g_autofree GrdTensor **outputs = g_new0 (GrdTensor *, MAX (grd_function_n_outputs (fn), 1));
  g_autofree gint64 *call_ns = g_new (gint64, steps);
  double total = 0;
  for (gint step = 0; step < warmup + steps; step++) {
    if (profile && step == warmup)
      grd_function_set_profiling (fn, TRUE);
    gint64 t = timed_call (fn, feeds, step, inputs, outputs, &error);
    if (t < 0) {
      cli_error ("bench", file, _("step %d: %s"), step, error->message);
      return CLI_EXIT_ERROR;
    }
    if (step >= warmup) {
      call_ns[step - warmup] = t;
      total += t;
    }
  }
  double call_median_ns = median_ns (call_ns, steps); /* sorts: min is first */

  g_autoptr (GString) out = g_string_new ("{\"file\": ");
  cli_append_json_string (out, file);
  g_string_append (out, ", \"backend\": ");
  cli_append_json_string (out, grd_backend_name (grd_function_backend (fn)));
  g_string_append (out, ", \"backend_requested\": ");
  cli_append_json_string (out, grd_backend_name (backend));
  g_string_append_printf (out, ", \"steps\": %d, \"warmup\": %d, \"compile_repeats\": %d", steps,
                          warmup, n_compiles);
  append_number (out, "compile_ms", compile_median_ns / 1e6);
  append_number (out, "compile_ms_first", compile_first_ns / 1e6);
  append_number (out, "call_us_median", call_median_ns / 1e3);
  append_number (out, "call_us_min", call_ns[0] / 1e3);
  append_number (out, "call_us_mean", total / steps / 1e3);
  append_number (out, "call_us_max", call_ns[steps - 1] / 1e3);
  /* which OpenBLAS kernels the CPU figures were measured with: the
   * environment's OPENBLAS_CORETYPE can pin them (docs/perf.md) */
  g_string_append (out, ", \"blas\": ");
  g_autofree char *config = g_strdup (openblas_get_config ());
  g_autofree char *blas = g_strdup_printf ("%s; kernels %s", g_strstrip (config),
                                           openblas_get_corename ());
  cli_append_json_string (out, blas);
  if (profile)
    append_profile (out, fn);
  g_string_append (out, "}\n");
  fputs (out->str, stdout);
  return fflush (stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
}
