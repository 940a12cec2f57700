/* grad-fuzz: the long run of the random-graph gradient checker.
 *
 *   grad-fuzz [--count N] [--seed S] [--vulkan] [--save DIR] [--verbose] [--dump S]
 *
 * Prints the counts (graphs, rejections, mismatches of each kind, coverage
 * per op); exits 1 when anything mismatched. tools/grad-fuzz.sh runs it. */
#include "randgraph.h"

#include <stdio.h>
#include <stdlib.h>

int
main (int argc, char **argv)
{
  gint count = 1000;
  gint64 seed = 1;
  gboolean vulkan = FALSE, verbose = FALSE;
  gint64 dump = -1;
  g_autofree char *save = NULL;
  GOptionEntry entries[] = {
    { "count", 'n', 0, G_OPTION_ARG_INT, &count, "graphs to check (1000)", "N" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "first seed (1)", "S" },
    { "vulkan", 0, 0, G_OPTION_ARG_NONE, &vulkan, "also compare Vulkan with the CPU", NULL },
    { "save", 0, 0, G_OPTION_ARG_FILENAME, &save, "write shrunk failures into DIR", "DIR" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "print each failure", NULL },
    { "dump", 0, 0, G_OPTION_ARG_INT64, &dump, "print the graph of seed S as .gradus and its check", "S" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- random-graph gradient checker");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    fprintf (stderr, "grad-fuzz: %s\n", error->message);
    return 2;
  }
  if (dump >= 0) {
    /* the depth as rg_run draws it */
    GrdRandom r;
    grd_random_seed (&r, (guint64) dump * 7919 + 1);
    RgParams p = { .seed = (guint64) dump, .depth = 1 + (gint) (grd_random_next (&r) % 8) };
    RgCase c = { 0 };
    GArray *pool = NULL;
    rg_generate (&p, &c, &pool, NULL);
    g_autofree char *text = rg_case_to_gradus (&c, NULL);
    RgResult res = { 0 };
    rg_check (&c, vulkan, (guint64) dump, &res);
    printf ("%s%s%s%s\n", text, rg_status_name (res.status), res.message ? ": " : "",
            res.message ? res.message : "");
    rg_result_clear (&res);
    rg_case_clear (&c);
    g_array_unref (pool);
    return 0;
  }
  RgStats stats;
  rg_stats_init (&stats);
  gint64 t0 = g_get_monotonic_time ();
  rg_run ((guint64) seed, count, vulkan, save, verbose, &stats);
  printf ("seeds %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT ", %s, %.1f s\n", seed,
          seed + count - 1, vulkan ? "CPU and Vulkan" : "CPU only",
          (g_get_monotonic_time () - t0) / 1e6);
  rg_stats_print (&stats, stdout);
  for (guint i = 0; i < stats.saved->len; i++)
    printf ("saved %s\n", (char *) stats.saved->pdata[i]);
  gint bad = rg_stats_mismatches (&stats);
  rg_stats_clear (&stats);
  return bad ? 1 : 0;
}
