/* test-run-panel.c: the run panel, driven through its actions under Xvfb.
 *
 * The reference for every value is the `gradus` binary itself (GRADUS_BINARY):
 * `gradus run FILE --steps N --print every`, parsed here, must equal what the
 * panel stored for its plots, value for value. */
#include "gradus-run-panel.h"
#include "gradus-plot.h"

#include <math.h>
#include <string.h>

typedef struct {
  GtkWidget      *window;
  GradusRunPanel *panel;
  gboolean        finished;
  gint            end;
  char           *nan_node;
  gint64          nan_call;
  gint            n_finished;
} Fixture;

static char *
example_path (const char *name)
{
  const char *src = g_getenv ("GRADUS_SOURCE_DIR");
  g_assert_nonnull (src);
  return g_build_filename (src, "data", "examples", name, NULL);
}

static void
on_finished (GradusRunPanel *panel, gint end, Fixture *f)
{
  f->finished = TRUE;
  f->end = end;
  f->n_finished++;
}

static void
on_nan_found (GradusRunPanel *panel, const char *node, gint64 call, Fixture *f)
{
  g_free (f->nan_node);
  f->nan_node = g_strdup (node);
  f->nan_call = call;
}

static void
fixture_open (Fixture *f, JsonNode *root, const char *path)
{
  memset (f, 0, sizeof *f);
  f->window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (f->window), 900, 700);
  f->panel = GRADUS_RUN_PANEL (gradus_run_panel_new ());
  gtk_window_set_child (GTK_WINDOW (f->window), GTK_WIDGET (f->panel));
  g_signal_connect (f->panel, "finished", G_CALLBACK (on_finished), f);
  g_signal_connect (f->panel, "nan-found", G_CALLBACK (on_nan_found), f);
  gtk_window_present (GTK_WINDOW (f->window));
  gradus_run_panel_set_document (f->panel, root, path);
}

static void
fixture_open_file (Fixture *f, const char *path)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_assert_true (json_parser_load_from_file (parser, path, &error));
  g_assert_no_error (error);
  fixture_open (f, json_parser_get_root (parser), path);
  g_assert_null (gradus_run_panel_get_error (f->panel));
}

static void
fixture_close (Fixture *f)
{
  gtk_window_set_focus (GTK_WINDOW (f->window), NULL);
  gtk_window_destroy (GTK_WINDOW (f->window));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_free (f->nan_node);
}

/* Lets the main loop run until "finished" (and the window has drawn). */
static gint
wait_finished (Fixture *f)
{
  gint64 deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
  while (!f->finished && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (f->finished);
  f->finished = FALSE;
  g_assert_false (gradus_run_panel_is_running (f->panel));
  return f->end;
}

static void
activate (Fixture *f, const char *action)
{
  g_assert_true (g_action_group_get_action_enabled (
    gradus_run_panel_get_action_group (f->panel), action + strlen ("run.")));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->panel), action, NULL));
}

static gint
run_steps (Fixture *f, gint64 steps)
{
  gradus_run_panel_set_steps (f->panel, steps);
  activate (f, "run.run");
  g_assert_true (gradus_run_panel_is_running (f->panel));
  return wait_finished (f);
}

/* ---------------------------------------------------------------- the reference */

/* The lines of `gradus run FILE --steps N --print every [--function F]`,
 * parsed (every line, run.also ones too). */
static GPtrArray *
gradus_run_all_lines (const char *path, gint64 steps, const char *function)
{
  const char *binary = g_getenv ("GRADUS_BINARY");
  g_assert_nonnull (binary);
  g_autofree char *steps_text = g_strdup_printf ("%" G_GINT64_FORMAT, steps);
  const char *argv[] = { binary, "run", path, "--steps", steps_text, "--print", "every",
                         function ? "--function" : NULL, function, NULL };
  g_autofree char *out = NULL, *err = NULL;
  gint status = 0;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                               &err, &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("gradus run %s failed: %s", path, err);
  GPtrArray *lines = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_auto (GStrv) texts = g_strsplit (out, "\n", -1);
  for (gint i = 0; texts[i]; i++) {
    if (!texts[i][0])
      continue;
    g_autoptr (JsonParser) parser = json_parser_new ();
    g_assert_true (json_parser_load_from_data (parser, texts[i], -1, NULL));
    g_ptr_array_add (lines, json_node_copy (json_parser_get_root (parser)));
  }
  return lines;
}

/* The same, a line per call of a file with one function. */
static GPtrArray *
gradus_run_lines (const char *path, gint64 steps)
{
  GPtrArray *lines = gradus_run_all_lines (path, steps, NULL);
  g_assert_cmpint (lines->len, ==, steps);
  return lines;
}

static double
json_number (JsonNode *node)
{
  if (json_node_get_value_type (node) == G_TYPE_STRING) {
    const char *s = json_node_get_string (node);
    if (strcmp (s, "nan") == 0)
      return NAN;
    if (strcmp (s, "inf") == 0)
      return INFINITY;
    if (strcmp (s, "-inf") == 0)
      return -INFINITY;
    g_error ("unexpected string %s", s);
  }
  return json_node_get_double (node);
}

/* Exactly equal, in the value's dtype (a float32 printed as its shortest
 * decimal reads back as that float). */
static gboolean
same_value (double expected, double got, GrdDType dtype)
{
  if (isnan (expected) || isnan (got))
    return isnan (expected) && isnan (got);
  if (dtype == GRD_DTYPE_FLOAT32)
    return (float) expected == (float) got;
  return expected == got;
}

static void
flatten_json (JsonNode *node, GArray *out)
{
  if (JSON_NODE_HOLDS_ARRAY (node)) {
    JsonArray *a = json_node_get_array (node);
    for (guint i = 0; i < json_array_get_length (a); i++)
      flatten_json (json_array_get_element (a, i), out);
  } else {
    double v = json_number (node);
    g_array_append_val (out, v);
  }
}

static void
check_against (Fixture *f, GPtrArray *lines, const char *what)
{
  gint64 n = lines->len;
  g_assert_cmpint (gradus_run_panel_get_n_calls (f->panel), ==, n);
  g_auto (GStrv) names = gradus_run_panel_list_series (f->panel);
  JsonObject *last = json_node_get_object (g_ptr_array_index (lines, n - 1));
  guint checked_scalars = 0, checked_tensors = 0;
  for (gint s = 0; names[s]; s++) {
    const char *name = names[s];
    gboolean is_output = g_str_has_prefix (name, "out:");
    gint index = is_output ? atoi (name + 4) : -1;
    GrdTensor *latest = gradus_run_panel_get_latest (f->panel, name);
    g_assert_nonnull (latest);
    GArray *series = gradus_run_panel_get_series (f->panel, name);
    if (series) {
      g_assert_cmpuint (series->len, ==, n);
      for (gint64 i = 0; i < n; i++) {
        JsonObject *line = json_node_get_object (g_ptr_array_index (lines, i));
        g_assert_cmpint (json_object_get_int_member (line, "step"), ==, i);
        JsonNode *value = is_output
          ? json_array_get_element (json_object_get_array_member (line, "outputs"), index)
          : json_object_get_member (json_object_get_object_member (line, "shared"), name);
        g_assert_nonnull (value);
        double expected = json_number (value), got = g_array_index (series, double, i);
        if (!same_value (expected, got, latest->dtype))
          g_error ("%s: series %s, call %" G_GINT64_FORMAT ": panel %.17g, gradus run %.17g",
                   what, name, i, got, expected);
      }
      checked_scalars++;
    }
    /* Every value, scalar or not, as of the last call. */
    JsonNode *value = is_output
      ? json_array_get_element (json_object_get_array_member (last, "outputs"), index)
      : json_object_get_member (json_object_get_object_member (last, "shared"), name);
    g_autoptr (GArray) flat = g_array_new (FALSE, FALSE, sizeof (double));
    flatten_json (value, flat);
    g_assert_cmpint (flat->len, ==, latest->size);
    for (guint i = 0; i < flat->len; i++)
      if (!same_value (g_array_index (flat, double, i), grd_tensor_get (latest, i), latest->dtype))
        g_error ("%s: latest %s[%u]: panel %.17g, gradus run %.17g", what, name, i,
                 grd_tensor_get (latest, i), g_array_index (flat, double, i));
    checked_tensors++;
  }
  g_assert_cmpuint (checked_tensors, >, 0);
  g_test_message ("%s: %" G_GINT64_FORMAT " calls, %u scalar series, %u values checked", what, n,
                  checked_scalars, checked_tensors);
}

/* ---------------------------------------------------------------- examples */

static void
test_example (gconstpointer data)
{
  g_autofree char *path = example_path (data);
  Fixture f;
  fixture_open_file (&f, path);
  /* The file's steps, at most 50 for speed. */
  gint64 steps = MIN (gradus_run_panel_get_steps (f.panel), 50);
  g_assert_cmpint (steps, >=, 1);
  g_assert_cmpint (run_steps (&f, steps), ==, GRADUS_RUN_COMPLETED);
  g_assert_null (gradus_run_panel_get_error (f.panel));
  g_autoptr (GPtrArray) lines = gradus_run_lines (path, steps);
  check_against (&f, lines, data);
  /* One plot per kind of value at least, and a profile of the run. */
  g_assert_cmpuint (gradus_run_panel_get_plots (f.panel)->len, >, 0);
  GArray *profile = gradus_run_panel_get_profile (f.panel);
  if (!g_getenv ("GRADUS_OPTIMIZER"))
    g_assert_cmpuint (profile->len, >, 0);
  double share = 0;
  for (guint i = 0; i < profile->len; i++) {
    GradusProfileRow *row = &g_array_index (profile, GradusProfileRow, i);
    g_assert_cmpfloat (row->us_per_call, >=, 0);
    /* Sorted by time per call, the slowest first. */
    if (i > 0)
      g_assert_cmpfloat (row->us_per_call, <=, g_array_index (profile, GradusProfileRow, i - 1).us_per_call);
    share += row->share;
  }
  if (profile->len > 0) {
    GradusProfileRow *top = &g_array_index (profile, GradusProfileRow, 0);
    g_test_message ("%s: %u profile rows; slowest: %s (%s) %.2f us per call, %.0f %%",
                    (const char *) data, profile->len, top->nodes, top->kind, top->us_per_call,
                    top->share * 100);
    g_assert_cmpfloat_with_epsilon (share, 1.0, 1e-9);
  }
  fixture_close (&f);
}

/* A file with several functions: Run calls run.function and, every 50
 * calls, the run.also function "validate" with its own feeds, whose outputs
 * are series of their own (a value after calls 49 and 99, NaN between), all
 * equal to what `gradus run` prints; the chooser then picks "validate" alone,
 * as `gradus run --function validate` calls it. */
static void
test_also_functions (void)
{
  g_autofree char *path = example_path ("mlp-dropout-digits.gradus");
  Fixture f;
  fixture_open_file (&f, path);
  g_assert_null (gradus_run_panel_get_function (f.panel));
  g_assert_cmpint (run_steps (&f, 100), ==, GRADUS_RUN_COMPLETED);
  g_assert_null (gradus_run_panel_get_error (f.panel));
  g_autoptr (GPtrArray) lines = gradus_run_all_lines (path, 100, NULL);
  GArray *train = gradus_run_panel_get_series (f.panel, "out:0");
  GArray *loss = gradus_run_panel_get_series (f.panel, "validate/out:0");
  GArray *accuracy = gradus_run_panel_get_series (f.panel, "validate/out:1");
  g_assert_nonnull (train);
  g_assert_nonnull (loss);
  g_assert_nonnull (accuracy);
  g_assert_cmpuint (loss->len, ==, 100);
  g_assert_cmpuint (accuracy->len, ==, 100);
  guint n_validate = 0, n_train = 0;
  for (guint i = 0; i < lines->len; i++) {
    JsonObject *line = json_node_get_object (lines->pdata[i]);
    gint64 step = json_object_get_int_member (line, "step");
    JsonArray *outputs = json_object_get_array_member (line, "outputs");
    if (g_strcmp0 (json_object_get_string_member (line, "function"), "validate") == 0) {
      g_assert_true (step == 49 || step == 99);
      g_assert_true (same_value (json_number (json_array_get_element (outputs, 0)),
                                 g_array_index (loss, double, step), GRD_DTYPE_FLOAT32));
      g_assert_true (same_value (json_number (json_array_get_element (outputs, 1)),
                                 g_array_index (accuracy, double, step), GRD_DTYPE_FLOAT32));
      n_validate++;
    } else {
      g_assert_true (same_value (json_number (json_array_get_element (outputs, 0)),
                                 g_array_index (train, double, step), GRD_DTYPE_FLOAT32));
      n_train++;
    }
  }
  g_assert_cmpuint (n_validate, ==, 2);
  g_assert_cmpuint (n_train, ==, 100);
  /* No value where validate was not called. */
  for (guint i = 0; i < 100; i++)
    if (i != 49 && i != 99)
      g_assert_true (isnan (g_array_index (loss, double, i)));
  /* Their plot: one, with both series. */
  guint n_also_plots = 0;
  GPtrArray *plots = gradus_run_panel_get_plots (f.panel);
  for (guint i = 0; i < plots->len; i++)
    if (g_str_has_prefix (gradus_plot_get_title (plots->pdata[i]), "validate")) {
      g_assert_cmpuint (gradus_plot_get_n_series (plots->pdata[i]), ==, 2);
      n_also_plots++;
    }
  g_assert_cmpuint (n_also_plots, ==, 1);

  /* The chooser: validate alone. */
  g_assert_true (gradus_run_panel_set_function (f.panel, "validate"));
  g_assert_cmpstr (gradus_run_panel_get_function (f.panel), ==, "validate");
  g_assert_cmpint (gradus_run_panel_get_n_calls (f.panel), ==, 0);
  g_assert_null (gradus_run_panel_get_series (f.panel, "validate/out:0"));
  g_assert_cmpint (run_steps (&f, 3), ==, GRADUS_RUN_COMPLETED);
  g_autoptr (GPtrArray) alone = gradus_run_all_lines (path, 3, "validate");
  g_assert_cmpuint (alone->len, ==, 3);
  check_against (&f, alone, "validate alone");
  /* Back to the file's run function, with its also function. */
  g_assert_true (gradus_run_panel_set_function (f.panel, "train"));
  g_assert_null (gradus_run_panel_get_function (f.panel));
  g_assert_nonnull (gradus_run_panel_get_series (f.panel, "validate/out:0"));
  fixture_close (&f);
}

/* Run 4, Step, Step, Run 4: the same ten calls as `gradus run --steps 10`;
 * Reset goes back to the file's values and runs the same again. */
static void
test_step_and_reset (void)
{
  g_autofree char *path = example_path ("primer-3-linear-regression.gradus");
  Fixture f;
  fixture_open_file (&f, path);
  g_assert_cmpint (run_steps (&f, 4), ==, GRADUS_RUN_COMPLETED);
  g_assert_cmpint (gradus_run_panel_get_n_calls (f.panel), ==, 4);
  for (int i = 0; i < 2; i++) {
    activate (&f, "run.step");
    g_assert_cmpint (wait_finished (&f), ==, GRADUS_RUN_COMPLETED);
    g_assert_cmpint (gradus_run_panel_get_n_calls (f.panel), ==, 5 + i);
    g_assert_cmpuint (gradus_run_panel_get_series (f.panel, "mse")->len, ==, 5 + i);
  }
  g_assert_cmpint (run_steps (&f, 4), ==, GRADUS_RUN_COMPLETED);
  g_autoptr (GPtrArray) lines = gradus_run_lines (path, 10);
  check_against (&f, lines, "run 4, step, step, run 4");

  activate (&f, "run.reset");
  g_assert_cmpint (gradus_run_panel_get_n_calls (f.panel), ==, 0);
  g_assert_cmpuint (gradus_run_panel_get_series (f.panel, "out:0")->len, ==, 0);
  g_assert_cmpfloat (grd_tensor_get (gradus_run_panel_get_latest (f.panel, "a"), 0), ==, -1.0);
  g_assert_cmpint (run_steps (&f, 10), ==, GRADUS_RUN_COMPLETED);
  check_against (&f, lines, "after reset");
  fixture_close (&f);
}

/* Pause answers at once and stops a long run early; the series hold exactly
 * the calls made; Step then adds exactly one. */
static void
test_pause (void)
{
  g_autofree char *path = example_path ("primer-3-linear-regression.gradus");
  Fixture f;
  fixture_open_file (&f, path);
  const gint64 many = 100000000;
  gradus_run_panel_set_steps (f.panel, many);
  activate (&f, "run.run");
  while (gradus_run_panel_get_n_calls (f.panel) < 2000)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (gradus_run_panel_is_running (f.panel));
  g_assert_false (g_action_group_get_action_enabled (gradus_run_panel_get_action_group (f.panel),
                                                     "run"));
  gint64 t0 = g_get_monotonic_time ();
  activate (&f, "run.pause");
  gint64 answered = g_get_monotonic_time () - t0;
  g_assert_cmpint (answered, <, 100000);
  g_assert_cmpint (wait_finished (&f), ==, GRADUS_RUN_PAUSED);
  gint64 stopped = g_get_monotonic_time () - t0;
  g_test_message ("pause answered in %" G_GINT64_FORMAT " us, run stopped after %" G_GINT64_FORMAT
                  " us", answered, stopped);
  gint64 n = gradus_run_panel_get_n_calls (f.panel);
  g_assert_cmpint (n, >=, 2000);
  g_assert_cmpint (n, <, many);
  g_assert_cmpuint (gradus_run_panel_get_series (f.panel, "mse")->len, ==, n);
  g_assert_cmpuint (gradus_run_panel_get_series (f.panel, "a")->len, ==, n);
  /* Nothing more arrives after "finished". */
  for (int i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpint (gradus_run_panel_get_n_calls (f.panel), ==, n);

  activate (&f, "run.step");
  g_assert_cmpint (wait_finished (&f), ==, GRADUS_RUN_COMPLETED);
  g_assert_cmpint (gradus_run_panel_get_n_calls (f.panel), ==, n + 1);
  g_assert_cmpuint (gradus_run_panel_get_series (f.panel, "mse")->len, ==, n + 1);
  g_assert_cmpuint (gradus_run_panel_get_series (f.panel, "b")->len, ==, n + 1);
  g_assert_cmpint (f.n_finished, ==, 2);
  fixture_close (&f);
}

/* A fast run redraws its plots per frame, not per call. */
static void
test_redraws (void)
{
  g_autofree char *path = example_path ("primer-3-linear-regression.gradus");
  Fixture f;
  fixture_open_file (&f, path);
  GradusPlot *plot = g_ptr_array_index (gradus_run_panel_get_plots (f.panel), 0);
  /* Let the window draw once first. */
  gint64 until = g_get_monotonic_time () + 300000;
  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE);
  guint draws0 = gradus_plot_get_n_draws (plot);
  gint64 t0 = g_get_monotonic_time ();
  const gint64 calls = 200000;
  g_assert_cmpint (run_steps (&f, calls), ==, GRADUS_RUN_COMPLETED);
  until = g_get_monotonic_time () + 100000;
  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE);
  double seconds = (g_get_monotonic_time () - t0) / 1e6;
  guint draws = gradus_plot_get_n_draws (plot) - draws0;
  g_test_message ("%" G_GINT64_FORMAT " calls in %.2f s: %u redraws of the plot", calls, seconds,
                  draws);
  g_assert_cmpuint (draws, >=, 1);
  /* At most one per frame (60 Hz, with room), far fewer than calls. */
  g_assert_cmpfloat (draws, <=, seconds * 75 + 5);
  g_assert_cmpuint (gradus_run_panel_get_series (f.panel, "mse")->len, ==, calls);
  fixture_close (&f);
}

/* ---------------------------------------------------------------- NaN guard */

/* w starts at 2.5 and loses 1 per call; the output is 3 * log(w * x) with
 * x = 1: log of a negative number at call 3 (w = -0.5). The first node that
 * gives NaN is `lw`, not the output node. */
static const char nan_graph[] =
  "{\"format\": \"gradus-graph\", \"version\": 1, \"nodes\": ["
  " {\"id\": \"x\", \"kind\": \"variable\", \"dtype\": \"float64\", \"shape\": []},"
  " {\"id\": \"w\", \"kind\": \"shared\", \"dtype\": \"float64\", \"value\": 2.5},"
  " {\"id\": \"one\", \"kind\": \"constant\", \"dtype\": \"float64\", \"value\": 1},"
  " {\"id\": \"three\", \"kind\": \"constant\", \"dtype\": \"float64\", \"value\": 3},"
  " {\"id\": \"wx\", \"kind\": \"op\", \"op\": \"mul\", \"inputs\": [\"w\", \"x\"]},"
  " {\"id\": \"lw\", \"kind\": \"op\", \"op\": \"log\", \"inputs\": [\"wx\"]},"
  " {\"id\": \"out\", \"kind\": \"op\", \"op\": \"mul\", \"inputs\": [\"lw\", \"three\"]},"
  " {\"id\": \"w_next\", \"kind\": \"op\", \"op\": \"sub\", \"inputs\": [\"w\", \"one\"]}],"
  " \"function\": {\"inputs\": [\"x\"], \"outputs\": [\"out\"],"
  "  \"updates\": [{\"shared\": \"w\", \"value\": \"w_next\"}]},"
  " \"run\": {\"steps\": 10, \"feeds\": {\"x\": 1.0}}}";

static void
open_nan_graph (Fixture *f)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, nan_graph, -1, NULL));
  fixture_open (f, json_parser_get_root (parser), NULL);
  g_assert_null (gradus_run_panel_get_error (f->panel));
  g_assert_cmpint (gradus_run_panel_get_steps (f->panel), ==, 10);
}

static void
test_nan_guard (void)
{
  Fixture f;
  open_nan_graph (&f);
  activate (&f, "run.run");
  g_assert_cmpint (wait_finished (&f), ==, GRADUS_RUN_NON_FINITE);
  g_assert_cmpstr (f.nan_node, ==, "lw");
  g_assert_cmpint (f.nan_call, ==, 3);
  g_assert_cmpint (gradus_run_panel_get_n_calls (f.panel), ==, 4);
  GArray *out = gradus_run_panel_get_series (f.panel, "out");
  GArray *w = gradus_run_panel_get_series (f.panel, "w");
  g_assert_cmpuint (out->len, ==, 4);
  g_assert_cmpuint (w->len, ==, 4);
  const double before[] = { 2.5, 1.5, 0.5 };
  for (int i = 0; i < 3; i++) {
    g_assert_cmpfloat_with_epsilon (g_array_index (out, double, i), 3 * log (before[i]), 1e-12);
    g_assert_cmpfloat (g_array_index (w, double, i), ==, before[i] - 1);
  }
  g_assert_true (isnan (g_array_index (out, double, 3)));
  const char *message = gradus_run_panel_get_error (f.panel);
  g_assert_nonnull (message);
  g_assert_nonnull (strstr (message, "call 3"));
  g_assert_nonnull (strstr (message, "'out'"));
  g_assert_nonnull (strstr (message, "'lw'"));
  /* The probe leaves the shared variable as the call left it. */
  g_assert_cmpfloat (grd_tensor_get (gradus_run_panel_get_latest (f.panel, "w"), 0), ==, -1.5);

  /* Without the guard the run goes on through the NaNs. */
  activate (&f, "run.reset");
  g_action_group_change_action_state (gradus_run_panel_get_action_group (f.panel), "nan-guard",
                                      g_variant_new_boolean (FALSE));
  f.nan_node = (g_free (f.nan_node), NULL);
  activate (&f, "run.run");
  g_assert_cmpint (wait_finished (&f), ==, GRADUS_RUN_COMPLETED);
  g_assert_null (f.nan_node);
  g_assert_cmpint (gradus_run_panel_get_n_calls (f.panel), ==, 10);
  fixture_close (&f);
}

/* A NaN in a shared variable: w <- sqrt(w) - 1 from 2.5 goes 0.58, -0.24,
 * then sqrt of a negative number at call 2; the output 3 w stays finite. */
static const char nan_shared_graph[] =
  "{\"format\": \"gradus-graph\", \"version\": 1, \"nodes\": ["
  " {\"id\": \"w\", \"kind\": \"shared\", \"dtype\": \"float64\", \"value\": 2.5},"
  " {\"id\": \"one\", \"kind\": \"constant\", \"dtype\": \"float64\", \"value\": 1},"
  " {\"id\": \"three\", \"kind\": \"constant\", \"dtype\": \"float64\", \"value\": 3},"
  " {\"id\": \"out\", \"kind\": \"op\", \"op\": \"mul\", \"inputs\": [\"w\", \"three\"]},"
  " {\"id\": \"sq\", \"kind\": \"op\", \"op\": \"sqrt\", \"inputs\": [\"w\"]},"
  " {\"id\": \"w_next\", \"kind\": \"op\", \"op\": \"sub\", \"inputs\": [\"sq\", \"one\"]}],"
  " \"function\": {\"inputs\": [], \"outputs\": [\"out\"],"
  "  \"updates\": [{\"shared\": \"w\", \"value\": \"w_next\"}]},"
  " \"run\": {\"steps\": 10}}";

static void
test_nan_in_shared (void)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, nan_shared_graph, -1, NULL));
  Fixture f;
  fixture_open (&f, json_parser_get_root (parser), NULL);
  g_assert_null (gradus_run_panel_get_error (f.panel));
  activate (&f, "run.run");
  g_assert_cmpint (wait_finished (&f), ==, GRADUS_RUN_NON_FINITE);
  /* By hand: the first call whose update is not finite. */
  double wk = 2.5;
  gint64 expect_call = -1;
  for (int k = 0; k < 10 && expect_call < 0; k++) {
    wk = sqrt (wk) - 1;
    if (!isfinite (wk))
      expect_call = k;
  }
  g_assert_cmpint (expect_call, ==, 2);
  g_assert_cmpint (f.nan_call, ==, expect_call);
  g_assert_cmpstr (f.nan_node, ==, "sq");
  g_assert_cmpint (gradus_run_panel_get_n_calls (f.panel), ==, expect_call + 1);
  const char *message = gradus_run_panel_get_error (f.panel);
  g_assert_nonnull (strstr (message, "shared variable 'w'"));
  g_assert_true (isfinite (g_array_index (gradus_run_panel_get_series (f.panel, "out"), double, 2)));
  fixture_close (&f);
}

/* ---------------------------------------------------------------- live values */

static double
value_of (GHashTable *values, const char *key)
{
  GrdTensor *t = g_hash_table_lookup (values, key);
  if (!t)
    g_error ("no value for %s", key);
  g_assert_cmpint (t->size, ==, 1);
  return grd_tensor_get (t, 0);
}

/* Every node's value for the last call, for the canvas: consistent with the
 * plotted series and with the gradient worked out by hand. */
static void
test_node_values (void)
{
  g_autofree char *path = example_path ("primer-3-linear-regression.gradus");
  Fixture f;
  fixture_open_file (&f, path);
  g_autoptr (GError) error = NULL;
  g_assert_null (gradus_run_panel_dup_node_values (f.panel, NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_cmpint (run_steps (&f, 10), ==, GRADUS_RUN_COMPLETED);
  gint64 call = -1;
  g_autoptr (GHashTable) values = gradus_run_panel_dup_node_values (f.panel, &call, &error);
  g_assert_no_error (error);
  g_assert_nonnull (values);
  g_assert_cmpint (call, ==, 9);
  GArray *a = gradus_run_panel_get_series (f.panel, "a");
  GArray *b = gradus_run_panel_get_series (f.panel, "b");
  GArray *mse = gradus_run_panel_get_series (f.panel, "mse");
  /* Before call 9, a and b were the values after call 8. */
  double a8 = g_array_index (a, double, 8), b8 = g_array_index (b, double, 8);
  g_assert_cmpfloat (value_of (values, "a"), ==, a8);
  g_assert_cmpfloat (value_of (values, "b"), ==, b8);
  g_assert_cmpfloat (value_of (values, "x"), ==, 1.0);
  g_assert_cmpfloat (value_of (values, "two"), ==, 2.0);
  double err = a8 * 1.0 + b8 - 5.0;
  g_assert_cmpfloat_with_epsilon (value_of (values, "err"), err, 1e-12);
  g_assert_cmpfloat_with_epsilon (value_of (values, "mse"), g_array_index (mse, double, 9), 1e-12);
  g_assert_cmpfloat_with_epsilon (value_of (values, "g:0"), 2 * err * 1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (value_of (values, "g:1"), 2 * err, 1e-12);
  g_assert_cmpfloat_with_epsilon (value_of (values, "a_next"), g_array_index (a, double, 9), 1e-12);
  /* The panel's state is untouched: the next call goes on from a[9]. */
  g_assert_cmpfloat (grd_tensor_get (gradus_run_panel_get_latest (f.panel, "a"), 0), ==,
                     g_array_index (a, double, 9));
  g_assert_cmpint (run_steps (&f, 1), ==, GRADUS_RUN_COMPLETED);
  g_autoptr (GPtrArray) lines = gradus_run_lines (path, 11);
  check_against (&f, lines, "after reading node values");
  fixture_close (&f);
}

/* ---------------------------------------------------------------- memory */

/* Many calls leave as many live tensors as a few: nothing grows per call. */
static void
test_memory (gconstpointer data)
{
  g_autofree char *path = example_path (data);
  Fixture f;
  fixture_open_file (&f, path);
  g_assert_cmpint (run_steps (&f, 100), ==, GRADUS_RUN_COMPLETED);
  gint64 live0 = grd_tensor_live_count ();
  g_assert_cmpint (run_steps (&f, 3000), ==, GRADUS_RUN_COMPLETED);
  gint64 live1 = grd_tensor_live_count ();
  g_test_message ("%s: %" G_GINT64_FORMAT " live tensors after 100 calls, %" G_GINT64_FORMAT
                  " after 3100", (const char *) data, live0, live1);
  g_assert_cmpint (live1, ==, live0);
  g_assert_cmpint (gradus_run_panel_get_n_calls (f.panel), ==, 3100);
  fixture_close (&f);
}

/* ---------------------------------------------------------------- export */

static void
test_export (void)
{
  g_autofree char *path = example_path ("xor-mlp.gradus");
  Fixture f;
  fixture_open_file (&f, path);
  g_assert_cmpint (run_steps (&f, 30), ==, GRADUS_RUN_COMPLETED);
  g_autofree char *dir = g_dir_make_tmp ("gradus-run-XXXXXX", NULL);
  GPtrArray *plots = gradus_run_panel_get_plots (f.panel);
  gboolean seen[3] = { FALSE, FALSE, FALSE };
  for (guint p = 0; p < plots->len; p++) {
    GradusPlot *plot = g_ptr_array_index (plots, p);
    GradusPlotMode mode = gradus_plot_get_mode (plot);
    seen[mode] = TRUE;
    g_autofree char *png = g_strdup_printf ("%s/plot%u.png", dir, p);
    g_autofree char *svg = g_strdup_printf ("%s/plot%u.svg", dir, p);
    g_autofree char *csv = g_strdup_printf ("%s/plot%u.csv", dir, p);
    g_autoptr (GError) error = NULL;
    g_assert_true (gradus_plot_export_png (plot, png, 500, 260, &error));
    g_assert_true (gradus_plot_export_svg (plot, svg, 500, 260, &error));
    g_assert_true (gradus_plot_export_csv (plot, csv, &error));
    g_assert_no_error (error);

    cairo_surface_t *image = cairo_image_surface_create_from_png (png);
    g_assert_cmpint (cairo_surface_status (image), ==, CAIRO_STATUS_SUCCESS);
    g_assert_cmpint (cairo_image_surface_get_width (image), ==, 500);
    g_assert_cmpint (cairo_image_surface_get_height (image), ==, 260);
    /* Something was drawn: not every pixel is the background. */
    guint8 *px = cairo_image_surface_get_data (image);
    int stride = cairo_image_surface_get_stride (image);
    guint32 first = *(guint32 *) px;
    gboolean varied = FALSE;
    for (int y = 0; y < 260 && !varied; y++)
      for (int x = 0; x < 500 && !varied; x++)
        varied = *(guint32 *) (px + y * stride + x * 4) != first;
    g_assert_true (varied);
    cairo_surface_destroy (image);

    g_autofree char *svg_text = NULL;
    g_assert_true (g_file_get_contents (svg, &svg_text, NULL, NULL));
    g_assert_true (g_str_has_prefix (svg_text, "<?xml"));
    g_assert_nonnull (strstr (svg_text, "<svg"));
    g_assert_nonnull (strstr (svg_text, "</svg>"));

    g_autofree char *csv_text = NULL;
    g_assert_true (g_file_get_contents (csv, &csv_text, NULL, NULL));
    g_auto (GStrv) rows = g_strsplit (g_strchomp (csv_text), "\n", -1);
    if (mode == GRADUS_PLOT_LINES) {
      g_assert_true (g_str_has_prefix (rows[0], "call,"));
      g_assert_cmpuint (g_strv_length (rows), ==, 31);
      /* The first series' column holds exactly the stored values. */
      g_auto (GStrv) head = g_strsplit (rows[0], ",", -1);
      GArray *series = gradus_run_panel_get_series (f.panel, head[1]);
      g_assert_nonnull (series);
      for (guint i = 0; i < 30; i++) {
        g_auto (GStrv) cells = g_strsplit (rows[i + 1], ",", -1);
        g_assert_cmpint (atoi (cells[0]), ==, i);
        g_assert_cmpfloat (g_ascii_strtod (cells[1], NULL), ==, g_array_index (series, double, i));
      }
    } else {
      GrdTensor *latest = gradus_run_panel_get_latest (f.panel, gradus_plot_get_title (plot));
      g_assert_nonnull (latest);
      guint n = 0;
      for (guint r = mode == GRADUS_PLOT_VECTOR ? 1 : 0; rows[r]; r++) {
        g_auto (GStrv) cells = g_strsplit (rows[r], ",", -1);
        for (guint c = mode == GRADUS_PLOT_VECTOR ? 1 : 0; cells[c]; c++, n++)
          g_assert_cmpfloat (g_ascii_strtod (cells[c], NULL), ==, grd_tensor_get (latest, n));
      }
      g_assert_cmpint (n, ==, latest->size);
    }
  }
  /* xor-mlp has scalar outputs and shared biases/weights of every shape. */
  g_assert_true (seen[GRADUS_PLOT_LINES]);
  g_assert_true (seen[GRADUS_PLOT_HEATMAP]);
  g_assert_true (seen[GRADUS_PLOT_VECTOR]);

  /* Log scale and zoom change what is drawn, not the data. */
  GradusPlot *lines = g_ptr_array_index (plots, 0);
  gradus_plot_set_log_scale (lines, TRUE);
  gradus_plot_set_x_range (lines, 5, 10);
  double lo, hi;
  g_assert_true (gradus_plot_get_x_range (lines, &lo, &hi));
  g_assert_cmpfloat (lo, ==, 5);
  g_autofree char *zoomed = g_strdup_printf ("%s/zoomed.png", dir);
  g_assert_true (gradus_plot_export_png (lines, zoomed, 400, 200, NULL));
  gradus_plot_set_x_range (lines, 0, 0);
  g_assert_false (gradus_plot_get_x_range (lines, NULL, NULL));

  g_autoptr (GFile) d = g_file_new_for_path (dir);
  g_autoptr (GFileEnumerator) e = g_file_enumerate_children (d, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                                             0, NULL, NULL);
  GFileInfo *info;
  while ((info = g_file_enumerator_next_file (e, NULL, NULL))) {
    g_autoptr (GFile) child = g_file_get_child (d, g_file_info_get_name (info));
    g_file_delete (child, NULL, NULL);
    g_object_unref (info);
  }
  g_file_delete (d, NULL, NULL);
  fixture_close (&f);
}

/* A long series draws decimated: a million calls cost about as much as the
 * plot's width in pixel columns, and a lone spike still shows. */
static void
test_decimation (void)
{
  g_autoptr (GArray) values = g_array_new (FALSE, FALSE, sizeof (double));
  for (int i = 0; i < 1000000; i++) {
    double v = i == 654321 ? 100.0 : sin (i * 1e-4);
    g_array_append_val (values, v);
  }
  GtkWidget *plot = g_object_ref_sink (gradus_plot_new (GRADUS_PLOT_LINES, "long"));
  gradus_plot_add_series (GRADUS_PLOT (plot), "long", values);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 600, 300);
  cairo_t *cr = cairo_create (surface);
  gint64 t0 = g_get_monotonic_time ();
  gradus_plot_draw (GRADUS_PLOT (plot), cr, 600, 300);
  gint64 us = g_get_monotonic_time () - t0;
  g_test_message ("one frame of a 1e6-call series: %" G_GINT64_FORMAT " us", us);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  /* The spike at 100 sets the top of the y range (100 + 5 %), so some line
   * pixel lies in the top tenth of the plot area, near x of call 654321. */
  guint8 *px = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);
  double plot_w = 600 - 58 - 12;
  int spike_x = (int) (58 + 654321.0 / 999999.0 * plot_w);
  gboolean found = FALSE;
  for (int y = 12; y < 40 && !found; y++)
    for (int x = spike_x - 2; x <= spike_x + 2 && !found; x++) {
      guint32 p = *(guint32 *) (px + y * stride + x * 4);
      guint8 r = (p >> 16) & 0xff, b = p & 0xff;
      found = b > 150 && r < 120; /* the first series' blue */
    }
  g_assert_true (found);
  cairo_surface_destroy (surface);
  g_object_unref (plot);
}

/* ---------------------------------------------------------------- errors, feeds, back ends */

static void
test_errors (void)
{
  const char *broken =
    "{\"format\": \"gradus-graph\", \"version\": 1, \"nodes\": ["
    " {\"id\": \"x\", \"kind\": \"variable\", \"dtype\": \"float64\", \"shape\": []},"
    " {\"id\": \"y\", \"kind\": \"op\", \"op\": \"add\", \"inputs\": [\"x\", \"nowhere\"]}],"
    " \"function\": {\"inputs\": [\"x\"], \"outputs\": [\"y\"]}}";
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, broken, -1, NULL));
  Fixture f;
  fixture_open (&f, json_parser_get_root (parser), NULL);
  const char *message = gradus_run_panel_get_error (f.panel);
  g_assert_nonnull (message);
  g_assert_nonnull (strstr (message, "nowhere"));
  GActionGroup *group = gradus_run_panel_get_action_group (f.panel);
  g_assert_false (g_action_group_get_action_enabled (group, "run"));
  g_assert_false (g_action_group_get_action_enabled (group, "step"));
  g_assert_false (gradus_run_panel_run (f.panel, 3));

  /* The same panel takes a good document afterwards. */
  g_autofree char *path = example_path ("primer-3-linear-regression.gradus");
  g_autoptr (JsonParser) good = json_parser_new ();
  g_assert_true (json_parser_load_from_file (good, path, NULL));
  g_assert_true (gradus_run_panel_set_document (f.panel, json_parser_get_root (good), path));
  g_assert_null (gradus_run_panel_get_error (f.panel));
  g_assert_true (g_action_group_get_action_enabled (group, "run"));
  fixture_close (&f);
}

/* A feed edited in the panel is what the calls get (as `--feed` would). */
static void
test_feed_override (void)
{
  g_autofree char *path = example_path ("primer-3-linear-regression.gradus");
  Fixture f;
  fixture_open_file (&f, path);
  g_autoptr (GError) error = NULL;
  g_assert_false (gradus_run_panel_set_feed (f.panel, "t", "[1, 2", &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_true (gradus_run_panel_set_feed (f.panel, "t", "3.0", &error));
  g_assert_no_error (error);
  g_assert_cmpint (run_steps (&f, 5), ==, GRADUS_RUN_COMPLETED);
  /* By hand: y = a x + b with x = 1, t = 3; mse = (a + b - 3)^2, and both
   * gradients are 2 (a + b - 3). */
  double a = -1, b = 0;
  GArray *mse = gradus_run_panel_get_series (f.panel, "mse");
  for (int i = 0; i < 5; i++) {
    double e = a + b - 3;
    g_assert_cmpfloat_with_epsilon (g_array_index (mse, double, i), e * e, 1e-12);
    a -= 0.01 * 2 * e;
    b -= 0.01 * 2 * e;
  }
  g_assert_cmpfloat_with_epsilon (g_array_index (gradus_run_panel_get_series (f.panel, "a"),
                                                 double, 4), a, 1e-12);

  /* An edit of the same file (set_document again) keeps the edited feed and
   * the typed steps, and starts from the file's shared values. */
  gradus_run_panel_set_steps (f.panel, 7);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_file (parser, path, NULL));
  g_assert_true (gradus_run_panel_set_document (f.panel, json_parser_get_root (parser), path));
  g_assert_cmpint (gradus_run_panel_get_steps (f.panel), ==, 7);
  g_assert_cmpint (gradus_run_panel_get_n_calls (f.panel), ==, 0);
  activate (&f, "run.step");
  g_assert_cmpint (wait_finished (&f), ==, GRADUS_RUN_COMPLETED);
  g_assert_cmpfloat (g_array_index (gradus_run_panel_get_series (f.panel, "mse"), double, 0), ==,
                     16.0);
  /* Another file starts from its own feeds. */
  g_assert_true (gradus_run_panel_set_document (f.panel, json_parser_get_root (parser), NULL));
  g_assert_cmpint (gradus_run_panel_get_steps (f.panel), ==, 10);
  activate (&f, "run.step");
  g_assert_cmpint (wait_finished (&f), ==, GRADUS_RUN_COMPLETED);
  g_assert_cmpfloat (g_array_index (gradus_run_panel_get_series (f.panel, "mse"), double, 0), ==,
                     36.0);
  fixture_close (&f);
}

/* Vulkan (or the CPU where no device is found) gives the same curves. */
static void
test_backends (void)
{
  g_autofree char *path = example_path ("xor-mlp.gradus");
  Fixture f;
  fixture_open_file (&f, path);
  g_assert_cmpint (run_steps (&f, 20), ==, GRADUS_RUN_COMPLETED);
  g_autoptr (GArray) cpu = g_array_copy (gradus_run_panel_get_series (f.panel, "out:0"));
  activate (&f, "run.reset");
  g_assert_true (gradus_run_panel_set_backend (f.panel, GRD_BACKEND_VULKAN));
  g_autoptr (GError) no_device = NULL;
  g_autofree char *devices = grd_vulkan_describe_devices (&no_device);
  g_test_message ("Vulkan devices: %s", devices ? devices : no_device->message);
  /* Where a device exists the function must really run there. */
  g_assert_cmpint (gradus_run_panel_get_active_backend (f.panel), ==,
                   devices ? GRD_BACKEND_VULKAN : GRD_BACKEND_CPU);
  g_assert_cmpint (run_steps (&f, 20), ==, GRADUS_RUN_COMPLETED);
  GArray *other = gradus_run_panel_get_series (f.panel, "out:0");
  g_assert_cmpuint (other->len, ==, 20);
  for (guint i = 0; i < 20; i++) {
    double x = g_array_index (cpu, double, i), y = g_array_index (other, double, i);
    g_assert_cmpfloat (fabs (x - y), <=, 1e-4 * MAX (1, fabs (x)));
  }
  g_test_message ("status after the Vulkan run: %s",
                  gradus_run_panel_get_error (f.panel) ? gradus_run_panel_get_error (f.panel)
                                                       : "no error");
  fixture_close (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gtk_init ();
  static const char *const examples[] = {
    "primer-1-vector-add.gradus", "primer-2-grad-sum-x2.gradus",
    "primer-3-linear-regression.gradus", "softmax-regression-iris.gradus", "xor-mlp.gradus",
    "mlp-digits.gradus",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (examples); i++) {
    g_autofree char *name = g_strndup (examples[i], strlen (examples[i]) - strlen (".gradus"));
    g_autofree char *test_path = g_strdup_printf ("/ui/run/example/%s", name);
    g_test_add_data_func (test_path, examples[i], test_example);
  }
  g_test_add_func ("/ui/run/step-and-reset", test_step_and_reset);
  g_test_add_func ("/ui/run/pause", test_pause);
  g_test_add_func ("/ui/run/redraws", test_redraws);
  g_test_add_func ("/ui/run/nan-guard", test_nan_guard);
  g_test_add_func ("/ui/run/nan-in-shared", test_nan_in_shared);
  g_test_add_func ("/ui/run/node-values", test_node_values);
  g_test_add_data_func ("/ui/run/memory/primer-3", "primer-3-linear-regression.gradus",
                        test_memory);
  g_test_add_data_func ("/ui/run/memory/xor-mlp", "xor-mlp.gradus", test_memory);
  g_test_add_func ("/ui/run/export", test_export);
  g_test_add_func ("/ui/run/decimation", test_decimation);
  g_test_add_func ("/ui/run/errors", test_errors);
  g_test_add_func ("/ui/run/feed-override", test_feed_override);
  g_test_add_func ("/ui/run/backends", test_backends);
  g_test_add_func ("/ui/run/also-functions", test_also_functions);
  return g_test_run ();
}
