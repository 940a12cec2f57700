/* rg-run.c: many random graphs, counted; failures shrunk and saved. */
#include "randgraph.h"

#include <stdio.h>
#include <string.h>

void
rg_stats_init (RgStats *s)
{
  gint n_ops;
  rg_ops (&n_ops);
  *s = (RgStats) { 0 };
  s->op_built = g_new0 (gint, n_ops);
  s->saved = g_ptr_array_new_with_free_func (g_free);
  s->fallback_reasons = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

void
rg_stats_clear (RgStats *s)
{
  g_clear_pointer (&s->op_built, g_free);
  g_clear_pointer (&s->saved, g_ptr_array_unref);
  g_clear_pointer (&s->fallback_reasons, g_hash_table_unref);
}

gint
rg_stats_mismatches (const RgStats *s)
{
  gint n = 0;
  for (gint k = RG_FAIL_GRAD; k < RG_N_STATUS; k++)
    n += s->failures[k];
  return n;
}

void
rg_run (guint64 seed, gint count, gboolean vulkan, const char *save_dir, gboolean verbose,
        RgStats *stats)
{
  for (gint i = 0; i < count; i++) {
    guint64 s = seed + (guint64) i;
    RgParams params = { .seed = s, .vulkan = vulkan };
    GrdRandom r;
    grd_random_seed (&r, s * 7919 + 1);
    params.depth = 1 + (gint) (grd_random_next (&r) % 8);
    RgCase c = { 0 };
    GArray *pool = NULL;
    rg_generate (&params, &c, &pool, stats->op_built);
    RgResult res = { 0 };
    rg_check (&c, vulkan, s, &res);
    if (res.status == RG_REJECT) {
      stats->rejected++;
    } else if (res.status == RG_FLIP) {
      stats->flips++;
      if (verbose)
        fprintf (stderr, "flip %" G_GUINT64_FORMAT ": %s\n", s, res.message);
    } else {
      stats->graphs++;
      stats->failures[res.status]++;
      if (res.status == RG_PASS && res.opt_bit_exact)
        stats->opt_bit_exact++;
      if (res.status == RG_PASS)
        stats->exact_outputs += res.exact_outputs;
      if (res.status == RG_PASS && vulkan && !res.vulkan_fallback)
        stats->vulkan_checked++;
      if (res.vulkan_fallback) {
        /* the reason without the node id: "op X has no Vulkan kernel" */
        const char *op = strstr (res.vulkan_fallback, "op ");
        char *key = g_strdup (op ? op : res.vulkan_fallback);
        char *end = strchr (key, ')');
        if (end)
          *end = 0;
        stats->vulkan_fallbacks++;
        g_hash_table_insert (stats->fallback_reasons, key,
                             GINT_TO_POINTER (GPOINTER_TO_INT (g_hash_table_lookup (
                                                stats->fallback_reasons, key)) + 1));
      }
    }
    if (res.status >= RG_FAIL_GRAD) {
      /* the check added nodes to c.graph: shrink from a fresh copy */
      RgCase fresh = { 0 };
      GArray *pool2 = NULL;
      rg_generate (&params, &fresh, &pool2, NULL);
      RgCase small = { 0 };
      rg_shrink (&fresh, pool2, vulkan, s, res.status, &small);
      g_autofree char *note = g_strdup_printf ("seed %" G_GUINT64_FORMAT ": %s: %s", s,
                                               rg_status_name (res.status), res.message);
      g_autofree char *text = rg_case_to_gradus (&small, note);
      if (verbose)
        fprintf (stderr, "FAIL %s\n%s\n", note, text);
      if (save_dir) {
        g_mkdir_with_parents (save_dir, 0755);
        g_autofree char *name = g_strdup_printf ("rg-%" G_GUINT64_FORMAT ".gradus", s);
        char *path = g_build_filename (save_dir, name, NULL);
        g_autoptr (GError) error = NULL;
        if (!g_file_set_contents (path, text, -1, &error))
          fprintf (stderr, "%s\n", error->message);
        g_ptr_array_add (stats->saved, path);
      }
      rg_case_clear (&small);
      rg_case_clear (&fresh);
      g_array_unref (pool2);
    } else if (verbose && res.status == RG_REJECT && g_getenv ("RG_SHOW_REJECTS")) {
      fprintf (stderr, "reject %" G_GUINT64_FORMAT ": %s\n", s, res.message);
    }
    rg_result_clear (&res);
    rg_case_clear (&c);
    g_array_unref (pool);
    if (verbose && (i + 1) % 100 == 0)
      fprintf (stderr, "progress: %d of %d seeds, %d checked, %d mismatches\n", i + 1, count,
               stats->graphs, rg_stats_mismatches (stats));
  }
}

char **
rg_uncovered_ops (void)
{
  gint n_ops;
  const RgOp *ops = rg_ops (&n_ops);
  GPtrArray *missing = g_ptr_array_new ();
  for (const char *const *name = grd_op_names (); *name; name++) {
    gboolean found = FALSE;
    for (gint k = 0; k < n_ops && !found; k++)
      found = g_str_equal (ops[k].name, *name);
    if (!found)
      g_ptr_array_add (missing, g_strdup (*name));
  }
  g_ptr_array_add (missing, NULL);
  return (char **) g_ptr_array_free (missing, FALSE);
}

void
rg_stats_print (const RgStats *s, FILE *f)
{
  fprintf (f, "graphs checked: %d\n", s->graphs);
  fprintf (f, "graphs rejected (a kink or a non-finite value at the drawn point): %d\n",
           s->rejected);
  fprintf (f, "discrete ops flipped by rounding on near ties (not mismatches): %d\n", s->flips);
  fprintf (f, "gradient mismatches: %d\n", s->failures[RG_FAIL_GRAD]);
  fprintf (f, "gradient-of-gradient mismatches: %d\n", s->failures[RG_FAIL_GRAD2]);
  fprintf (f, "optimised-vs-reference mismatches: %d\n", s->failures[RG_FAIL_OPT]);
  fprintf (f, "vulkan-vs-cpu mismatches: %d\n", s->failures[RG_FAIL_VULKAN]);
  fprintf (f, "errors (grad, compile or call refused): %d\n", s->failures[RG_FAIL_ERROR]);
  fprintf (f, "compared on Vulkan: %d; Vulkan function fell back to the CPU: %d\n",
           s->vulkan_checked, s->vulkan_fallbacks);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, s->fallback_reasons);
  while (g_hash_table_iter_next (&it, &k, &v))
    fprintf (f, "  fallback: %s: %d graphs\n", (char *) k, GPOINTER_TO_INT (v));
  fprintf (f, "optimised bit-exact with the reference: %d of %d passing graphs (all outputs); "
           "outputs of exact ops only, held to the bit and equal: %d\n", s->opt_bit_exact,
           s->failures[RG_PASS], s->exact_outputs);
  gint n_ops;
  const RgOp *ops = rg_ops (&n_ops);
  fprintf (f, "nodes built per row:");
  for (gint k = 0; k < n_ops; k++)
    fprintf (f, " %s=%d", ops[k].name, s->op_built[k]);
  fprintf (f, "\n");
  g_auto (GStrv) missing = rg_uncovered_ops ();
  g_autofree char *list = g_strjoinv (" ", missing);
  fprintf (f, "catalogue ops without a row: %s\n", missing[0] ? list : "none");
}
