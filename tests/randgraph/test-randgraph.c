/* test-randgraph.c: the fast slice of the random-graph gradient checker, the
 * shrunk graphs of the bugs it found (tests/data/regress/, one .gradus file each), and the
 * checker's own plumbing (a case written as .gradus reads back the same). */
#include "randgraph.h"
#include "../grad-check.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

static gboolean
vulkan_wanted (void)
{
  return g_strcmp0 (g_getenv ("GRADUS_TEST_VULKAN"), "1") == 0;
}

static void
report (const RgStats *s)
{
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&text, &len);
  rg_stats_print (s, f);
  fclose (f);
  g_test_message ("%s", text);
  free (text);
}

/* A few hundred graphs on the CPU: no mismatch of any kind, and every row of
 * the table built at least once. */
static void
test_slice_cpu (void)
{
  RgStats s;
  rg_stats_init (&s);
  rg_run (1, 300, FALSE, NULL, TRUE, &s);
  report (&s);
  g_assert_cmpint (rg_stats_mismatches (&s), ==, 0);
  /* rejections are the exception, not the way graphs pass */
  g_assert_cmpint (s.graphs, >=, 240);
  /* outputs of exact ops only were compared bit for bit */
  g_assert_cmpint (s.exact_outputs, >, 100);
  gint n_ops;
  const RgOp *ops = rg_ops (&n_ops);
  for (gint k = 0; k < n_ops; k++) {
    g_test_message ("%s: %d nodes", ops[k].name, s.op_built[k]);
    g_assert_cmpint (s.op_built[k], >, 0);
  }
  rg_stats_clear (&s);
}

static void
test_slice_vulkan (void)
{
  if (!vulkan_wanted ()) {
    g_test_skip ("GRADUS_TEST_VULKAN is not 1 (a build without the Vulkan back end)");
    return;
  }
  RgStats s;
  rg_stats_init (&s);
  rg_run (100001, 20, TRUE, NULL, TRUE, &s);
  report (&s);
  g_assert_cmpint (rg_stats_mismatches (&s), ==, 0);
  g_assert_cmpint (s.vulkan_checked, >=, 15);
  rg_stats_clear (&s);
}

/* Ops of the catalogue the generator has no row for (ops being added by
 * other work land here until their row is written). */
static void
test_coverage (void)
{
  g_auto (GStrv) missing = rg_uncovered_ops ();
  if (missing[0]) {
    g_autofree char *list = g_strjoinv (", ", missing);
    g_autofree char *msg = g_strdup_printf ("ops without a generator row in rg-ops.c: %s", list);
    g_test_incomplete (msg);
  }
}

/* A generated case written as .gradus and read back computes the same. */
static void
test_roundtrip (void)
{
  for (guint64 seed = 1; seed <= 30; seed++) {
    RgParams p = { .seed = seed, .depth = 1 + seed % 8 };
    RgCase c = { 0 };
    GArray *pool = NULL;
    rg_generate (&p, &c, &pool, NULL);
    g_autofree char *text = rg_case_to_gradus (&c, "roundtrip");
    g_autofree char *path = g_strdup_printf ("%s/rg-roundtrip-%d.gradus", g_get_tmp_dir (),
                                             (gint) getpid ());
    g_assert_true (g_file_set_contents (path, text, -1, NULL));
    RgCase back = { 0 };
    g_autoptr (GError) error = NULL;
    g_assert_true (rg_case_from_file (path, &back, &error));
    g_assert_no_error (error);
    g_unlink (path);
    GrdTensor *a = NULL, *b = NULL;
    g_autoptr (GrdFunction) fa = grd_function_new (c.graph, (GrdRef *) c.vars->data, c.vars->len,
                                                   &c.out, 1, NULL, 0, &error);
    g_assert_no_error (error);
    g_autoptr (GrdFunction) fb = grd_function_new (back.graph, (GrdRef *) back.vars->data,
                                                   back.vars->len, &back.out, 1, NULL, 0, &error);
    g_assert_no_error (error);
    /* the file keeps only the inputs the output reads */
    g_autoptr (GPtrArray) used = g_ptr_array_new ();
    for (guint i = 0; i < back.vars->len; i++) {
      const char *id = grd_graph_node_id (back.graph, g_array_index (back.vars, GrdRef, i).node);
      for (guint k = 0; k < c.vars->len; k++)
        if (g_str_equal (id, grd_graph_node_id (c.graph, g_array_index (c.vars, GrdRef, k).node)))
          g_ptr_array_add (used, c.values->pdata[k]);
    }
    g_assert_cmpuint (used->len, ==, back.vars->len);
    if (c.vars->len == back.vars->len) {
      g_assert_true (grd_function_call (fa, (GrdTensor *const *) c.values->pdata, &a, &error));
      g_assert_true (grd_function_call (fb, (GrdTensor *const *) back.values->pdata, &b, &error));
      g_assert_no_error (error);
      grd_test_assert_close (b, a, 0, 0);
      grd_tensor_unref (a);
      grd_tensor_unref (b);
    }
    rg_case_clear (&back);
    rg_case_clear (&c);
    g_array_unref (pool);
  }
}

/* The checker can fail: a gradient made wrong on purpose (a node held
 * constant) is caught, as is a gradient of gradient made wrong the same way. */
static void
test_checker_catches (void)
{
  RgCase c = { 0 };
  c.graph = grd_graph_new ();
  c.vars = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  c.values = g_ptr_array_new_with_free_func ((GDestroyNotify) grd_tensor_unref);
  g_autoptr (GError) error = NULL;
  gint64 n = 3;
  GrdRef x = grd_graph_variable (c.graph, "x", GRD_DTYPE_FLOAT64, 1, &n, &error);
  GrdRef s = grd_op1 (c.graph, "sin", x, &error);
  c.out = grd_op2 (c.graph, "mul", s, x, &error);
  g_assert_no_error (error);
  g_array_append_val (c.vars, x);
  const double xs[] = { 0.3, -0.7, 1.1 };
  g_ptr_array_add (c.values, grd_tensor_new_from_doubles (GRD_DTYPE_FLOAT64, 1, &n, xs));
  RgResult r = { 0 };
  rg_check (&c, FALSE, 1, &r);
  g_assert_cmpstr (rg_status_name (r.status), ==, "pass");
  c.has_blocked = TRUE;
  c.blocked = s;
  rg_check (&c, FALSE, 1, &r);
  g_test_message ("%s", r.message);
  g_assert_cmpstr (rg_status_name (r.status), ==, "gradient");
  rg_result_clear (&r);
  rg_case_clear (&c);
}

/* Each shrunk graph of a fixed bug passes every check now. */
static void
test_regress_file (gconstpointer data)
{
  const char *path = data;
  RgCase c = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_true (rg_case_from_file (path, &c, &error));
  g_assert_no_error (error);
  RgResult r = { 0 };
  rg_check (&c, vulkan_wanted (), 1, &r);
  if (r.status != RG_PASS)
    g_test_message ("%s: %s: %s", path, rg_status_name (r.status), r.message);
  g_assert_cmpstr (rg_status_name (r.status), ==, rg_status_name (RG_PASS));
  /* and Vulkan ran it: no op without a kernel */
  g_assert_cmpstr (r.vulkan_fallback, ==, NULL);
  rg_result_clear (&r);
  rg_case_clear (&c);
}

static gint
by_name (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/randgraph/coverage", test_coverage);
  g_test_add_func ("/randgraph/roundtrip", test_roundtrip);
  g_test_add_func ("/randgraph/checker-catches", test_checker_catches);
  g_test_add_func ("/randgraph/slice/cpu", test_slice_cpu);
  g_test_add_func ("/randgraph/slice/vulkan", test_slice_vulkan);
  const char *src = g_getenv ("GRADUS_SOURCE_DIR");
  g_autofree char *dir = g_build_filename (src ? src : ".", "tests", "data", "regress", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  for (const char *n; d && (n = g_dir_read_name (d));)
    if (g_str_has_suffix (n, ".gradus"))
      g_ptr_array_add (names, g_strdup (n));
  g_ptr_array_sort (names, by_name);
  for (guint i = 0; i < names->len; i++) {
    g_autofree char *tp = g_strdup_printf ("/randgraph/regress/%s", (char *) names->pdata[i]);
    g_test_add_data_func_full (tp, g_build_filename (dir, names->pdata[i], NULL),
                               test_regress_file, g_free);
  }
  return g_test_run ();
}
