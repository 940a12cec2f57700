/* test-ui-stepthrough.c: backpropagation on the canvas and the step-through
 * of one call (issue 10, the classroom), in a real window under Xvfb with real
 * clicks and keys (XTest). The numbers shown must be the engine's: they are
 * compared with a function compiled here from the primer's listing 3, whose
 * outputs are the same nodes and the grad node's outputs. */
#include "gradus-window.h"
#include "gradus-run-panel.h"
#include "teach/gradus-teach.h"
#include "teach/gradus-teach-panel.h"
#include "teach/gradus-teach-rules.h"
#include "ui-test-util.h"
#include "ui-xtest.h"

#include <X11/keysym.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static char *
example (const char *name)
{
  return g_build_filename (g_getenv ("GRADUS_SOURCE_DIR"), "data", "examples", name, NULL);
}

/* The engine's values of one call of listing 3 with x = 1, t = 5 and the
 * shared values a, b given: refs[i] -> out[i]. */
static const char *const refs[] = { "ax", "y", "err", "mse", "g:0", "g:1", "step_a", "a_next" };
#define N_REFS G_N_ELEMENTS (refs)

static void
engine_call (double a, double b, double out[N_REFS])
{
  g_autofree char *path = example ("primer-3-linear-regression.gradus");
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdDocument) doc = grd_document_load (path, &error);
  g_assert_no_error (error);
  GrdGraph *g = grd_document_graph (doc);
  GrdRef in[2], outs[N_REFS], sh[2];
  g_assert_true (grd_graph_lookup (g, "x", &in[0], NULL));
  g_assert_true (grd_graph_lookup (g, "t", &in[1], NULL));
  g_assert_true (grd_graph_lookup (g, "a", &sh[0], NULL));
  g_assert_true (grd_graph_lookup (g, "b", &sh[1], NULL));
  for (guint i = 0; i < N_REFS; i++)
    g_assert_true (grd_graph_lookup (g, refs[i], &outs[i], NULL));
  g_autoptr (GrdTensor) av = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, a);
  g_autoptr (GrdTensor) bv = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, b);
  g_assert_true (grd_graph_set_value (g, sh[0], av, NULL));
  g_assert_true (grd_graph_set_value (g, sh[1], bv, NULL));
  g_autoptr (GrdFunction) fn = grd_function_new (g, in, 2, outs, N_REFS, NULL, 0, &error);
  g_assert_no_error (error);
  g_autoptr (GrdTensor) x = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 1);
  g_autoptr (GrdTensor) t = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 5);
  GrdTensor *args[] = { x, t }, *res[N_REFS] = { NULL };
  g_assert_true (grd_function_call (fn, args, res, &error));
  for (guint i = 0; i < N_REFS; i++) {
    out[i] = grd_tensor_get (res[i], 0);
    grd_tensor_unref (res[i]);
  }
}

static double
scalar (GrdTensor *t)
{
  g_assert_nonnull (t);
  g_assert_cmpint (t->rank, ==, 0);
  return grd_tensor_get (t, 0);
}

/* The trace's values and gradients are the engine's (exactly: the same
 * compiled arithmetic). */
static void
assert_trace_is_engine (GradusTeachTrace *trace, double a, double b)
{
  double want[N_REFS];
  engine_call (a, b, want);
  for (guint i = 0; i < N_REFS; i++)
    g_assert_cmpfloat (scalar (gradus_teach_trace_value (trace, refs[i])), ==, want[i]);
  /* d mse / d a and d mse / d b are what the grad node returns. */
  g_assert_cmpfloat (scalar (gradus_teach_trace_grad (trace, "a")), ==, want[4]);
  g_assert_cmpfloat (scalar (gradus_teach_trace_grad (trace, "b")), ==, want[5]);
  g_assert_cmpfloat (scalar (gradus_teach_trace_grad (trace, "mse")), ==, 1.0);
}

static GtkWidget *
find_button (GtkWidget *root, const char *action, GType type)
{
  if (GTK_IS_ACTIONABLE (root) && G_TYPE_CHECK_INSTANCE_TYPE (root, type) &&
      g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (root)), action) == 0)
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c)) {
    GtkWidget *found = find_button (c, action, type);
    if (found)
      return found;
  }
  return NULL;
}

static char *
panel_text (GradusTeach *teach)
{
  return gradus_teach_panel_dup_text (GRADUS_TEACH_PANEL (gradus_teach_get_panel (teach)));
}

/* Presses Page Down (a real key) until the panel's heading is `heading`. */
static char *
next_until (GradusWindow *w, GradusTeach *teach, const char *heading)
{
  for (int i = 0; i < 40; i++) {
    g_autofree char *text = panel_text (teach);
    g_auto (GStrv) lines = g_strsplit (text, "\n", 3);
    g_test_message ("panel: %s", text);
    if (g_strcmp0 (lines[1], heading) == 0)
      return g_steal_pointer (&text);
    gint before = gradus_teach_get_step (teach);
    ui_tap (0, XK_Page_Down);
    UI_TEST_SPIN_UNTIL (gradus_teach_get_step (teach) != before, 10);
    g_assert_cmpint (gradus_teach_get_step (teach), ==, before + 1);
  }
  g_error ("no step with the heading \"%s\"", heading);
  return NULL;
}

/* Where pictures go: GRADUS_CLASSROOM_SHOTS (the docs tool), else a temporary folder. */
static char *shots;

/* The window as a PNG; the number of its pixels within 40 of colour (r, g, b). */
static guint
shot (GradusWindow *w, const char *name, guint8 r, guint8 g, guint8 b)
{
  ui_xtest_spin (300);
  g_autofree char *path = g_build_filename (shots, name, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (gradus_window_screenshot (w, path, &error));
  cairo_surface_t *s = cairo_image_surface_create_from_png (path);
  g_assert_cmpint (cairo_surface_status (s), ==, CAIRO_STATUS_SUCCESS);
  int width = cairo_image_surface_get_width (s), height = cairo_image_surface_get_height (s);
  int stride = cairo_image_surface_get_stride (s);
  const guint8 *px = cairo_image_surface_get_data (s);
  guint n = 0;
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++) {
      const guint8 *p = px + y * stride + 4 * x;   /* B G R A */
      if (abs (p[2] - r) < 40 && abs (p[1] - g) < 40 && abs (p[0] - b) < 40)
        n++;
    }
  cairo_surface_destroy (s);
  return n;
}

static void
test_rules (void)
{
  const char *in[] = { "err", "two" };
  g_autofree char *e = gradus_teach_rule_expression ("pow", in, 2);
  g_assert_cmpstr (e, ==, "err^two");
  g_autofree char *d = gradus_teach_rule_derivative ("pow", in, 2, 0);
  g_assert_cmpstr (d, ==, "two · err^(two − 1)");
  const char *in2[] = { "a * x", "b" };
  g_autofree char *e2 = gradus_teach_rule_expression ("add", in2, 2);
  g_assert_cmpstr (e2, ==, "(a * x) + b");
  g_autofree char *o = gradus_teach_rule_expression ("conv2d", in2, 2);
  g_assert_cmpstr (o, ==, "conv2d(a * x, b)");
}

static void
test_step_through_listing3 (void)
{
  g_autofree char *path = example ("primer-3-linear-regression.gradus");
  GradusWindow *w = ui_open_window (path, 1280, 800);
  GradusTeach *teach = gradus_teach_get (GTK_WINDOW (w));
  g_assert_nonnull (teach);
  g_assert_cmpint (gradus_teach_get_step (teach), ==, -1);

  /* The header's Step Through button, clicked. */
  GtkWidget *st = find_button (GTK_WIDGET (w), "win.step-through", GTK_TYPE_TOGGLE_BUTTON);
  g_assert_nonnull (st);
  g_assert_true (ui_click_widget (GTK_WINDOW (w), st));
  UI_TEST_SPIN_UNTIL (gradus_teach_get_step (teach) == 0, 10);
  g_assert_cmpint (gradus_teach_get_step (teach), ==, 0);
  g_assert_true (gtk_widget_get_mapped (gradus_teach_get_panel (teach)));
  GradusTeachTrace *trace = gradus_teach_get_trace (teach);
  g_assert_nonnull (trace);
  g_assert_cmpstr (gradus_teach_trace_cost (trace), ==, "mse");
  /* Call 1: a = -1, b = 0 as in the file; x = 1, t = 5 from run.feeds. */
  assert_trace_is_engine (trace, -1, 0);

  g_autofree char *first = panel_text (teach);
  g_assert_nonnull (strstr (first, "Forward pass · step 1 of"));
  g_assert_nonnull (strstr (first, "x = 1"));

  /* Forward, node by node: the cost. */
  g_autofree char *fwd = next_until (w, teach, "mse = err^two");
  g_assert_nonnull (strstr (fwd, "Forward pass"));
  g_assert_nonnull (strstr (fwd, "mse = err^two = (-6)^2 = 36"));
  /* The step's node ringed in gold, the wires it reads drawn thick in blue. */
  g_assert_cmpuint (shot (w, "stepthrough-forward.png", 245, 194, 18), >, 400);

  /* Backward: the chain rule with the numbers, from the cost back. */
  g_autofree char *b0 = next_until (w, teach, "d mse / d mse = 1");
  g_assert_nonnull (strstr (b0, "Backward pass"));
  g_assert_nonnull (strstr (b0, "d mse / d err = d mse / d mse × two · err^(two − 1) = 1 × (-12) = -12"));
  /* The Next button, clicked, goes on as Page Down does. */
  GtkWidget *next = find_button (gradus_teach_get_panel (teach), "win.step-next", GTK_TYPE_BUTTON);
  g_assert_nonnull (next);
  gint before = gradus_teach_get_step (teach);
  g_assert_true (ui_click_widget (GTK_WINDOW (w), next));
  UI_TEST_SPIN_UNTIL (gradus_teach_get_step (teach) == before + 1, 10);
  g_assert_cmpint (gradus_teach_get_step (teach), ==, before + 1);

  g_autofree char *bx = next_until (w, teach, "d mse / d ax = -12");
  g_assert_nonnull (strstr (bx, "d mse / d a = d mse / d ax × x = (-12) × 1 = -12"));
  /* The gradient sent back to a: an orange wire with its value. */
  g_assert_cmpuint (shot (w, "stepthrough-backward.png", 230, 97, 0), >, 300);
  GradusTeachStep *s = gradus_teach_trace_step (trace, (guint) gradus_teach_get_step (teach));
  g_assert_cmpstr (s->node, ==, "ax");
  g_assert_cmpuint (s->sent->len, ==, 1);
  g_assert_cmpstr (s->sent_to->pdata[0], ==, "a");
  double want[N_REFS];
  engine_call (-1, 0, want);
  g_assert_cmpfloat (scalar (s->sent->pdata[0]), ==, want[4]);

  g_autofree char *ba = next_until (w, teach, "d mse / d a = -12");
  g_assert_nonnull (strstr (ba, "The grad node returns it as g:0."));
  g_autofree char *up = next_until (w, teach, "a_next = a − step_a");
  g_assert_nonnull (strstr (up, "Using the gradient"));
  g_assert_nonnull (strstr (up, "a_next = a − step_a = (-1) − (-0.12) = -0.88"));

  /* Page Up goes back one step. */
  before = gradus_teach_get_step (teach);
  ui_tap (0, XK_Page_Up);
  UI_TEST_SPIN_UNTIL (gradus_teach_get_step (teach) == before - 1, 10);
  g_assert_cmpint (gradus_teach_get_step (teach), ==, before - 1);

  /* After a run of 10 calls, the trace is of the last call (a and b as
   * they were before it), still the engine's numbers. */
  GradusRunPanel *run = GRADUS_RUN_PANEL (gradus_window_get_run_panel (w));
  gradus_run_panel_run (run, 0);
  UI_TEST_SPIN_UNTIL (!gradus_run_panel_is_running (run), 20);
  UI_TEST_SPIN_UNTIL (gradus_teach_get_trace (teach)
                      && strstr (gradus_teach_trace_source (gradus_teach_get_trace (teach)), "call 10"), 5);
  trace = gradus_teach_get_trace (teach);
  g_test_message ("after the run: %s (%s)", trace ? gradus_teach_trace_source (trace) : "no trace",
                  gradus_teach_get_error (teach));
  g_assert_nonnull (strstr (gradus_teach_trace_source (trace), "call 10 of the last run"));
  GHashTable *live = gradus_canvas_get_live_values (gradus_window_get_canvas (w));
  double a9 = scalar (g_hash_table_lookup (live, "a")), b9 = scalar (g_hash_table_lookup (live, "b"));
  assert_trace_is_engine (trace, a9, b9);

  /* Close, then backprop mode alone (Ctrl+B): no card, the whole call drawn. */
  GtkWidget *close = find_button (gradus_teach_get_panel (teach), "win.step-through", GTK_TYPE_BUTTON);
  g_assert_true (ui_click_widget (GTK_WINDOW (w), close));
  UI_TEST_SPIN_UNTIL (gradus_teach_get_step (teach) == -1, 10);
  g_assert_false (gtk_widget_get_visible (gradus_teach_get_panel (teach)));
  gtk_window_destroy (GTK_WINDOW (w));
  ui_xtest_spin (100);
}

/* Backprop mode alone (Ctrl+B, a real key): no card; every wire's value and
 * every gradient on the way drawn, tensors as pictures. */
static void
test_backprop_mode (void)
{
  g_autofree char *path = example ("xor-mlp.gradus");
  GradusWindow *w = ui_open_window (path, 1280, 800);
  GradusTeach *teach = gradus_teach_get (GTK_WINDOW (w));
  GtkWidget *canvas = GTK_WIDGET (gradus_window_get_canvas (w));
  int rx, ry;
  g_assert_true (ui_widget_to_root (GTK_WINDOW (w), canvas, 40, 40, &rx, &ry));
  ui_move_to (rx, ry);
  UI_TEST_SPIN_UNTIL (gtk_window_is_active (GTK_WINDOW (w)), 5);
  ui_xtest_spin (300);
  guint purple_before = shot (w, "backprop-off.png", 130, 61, 156);
  ui_tap (XK_Control_L, XK_b);
  UI_TEST_SPIN_UNTIL (gradus_teach_get_trace (teach) != NULL, 10);
  GradusTeachTrace *trace = gradus_teach_get_trace (teach);
  g_assert_nonnull (trace);
  g_assert_cmpint (gradus_teach_get_step (teach), ==, -1);
  g_assert_false (gtk_widget_get_visible (gradus_teach_get_panel (teach)));
  /* The gradients written under the nodes, in purple. */
  guint purple = shot (w, "backprop.png", 130, 61, 156);
  g_test_message ("purple pixels: %u before, %u in backprop mode", purple_before, purple);
  g_assert_cmpuint (purple, >, purple_before + 300);
  ui_tap (XK_Control_L, XK_b);
  UI_TEST_SPIN_UNTIL (gradus_teach_get_trace (teach) == NULL, 10);
  g_assert_null (gradus_teach_get_trace (teach));
  gtk_window_destroy (GTK_WINDOW (w));
  ui_xtest_spin (100);
}

/* Every bundled example is traced, each step written out, or the reason it
 * cannot be is said; nothing crashes. */
static void
test_every_example (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("GRADUS_SOURCE_DIR"), "data", "examples", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  const char *name;
  guint traced = 0;
  while ((name = g_dir_read_name (d))) {
    if (!g_str_has_suffix (name, ".gradus"))
      continue;
    g_autofree char *path = g_build_filename (dir, name, NULL);
    g_autoptr (GradusDocModel) model = gradus_doc_model_new ();
    g_autoptr (GError) error = NULL;
    g_assert_true (gradus_doc_model_load_file (model, path, &error));
    gint64 t0 = g_get_monotonic_time ();
    g_autoptr (GradusTeachTrace) trace = gradus_teach_trace_new (model, NULL, 0, NULL, &error);
    if (!trace) {
      g_test_message ("%s: %s", name, error->message);
      g_assert_cmpuint (strlen (error->message), >, 10);
      continue;
    }
    guint n = gradus_teach_trace_n_steps (trace), backward = 0;
    g_assert_cmpuint (n, >, 0);
    for (guint i = 0; i < n; i++) {
      GradusTeachStep *s = gradus_teach_trace_step (trace, i);
      g_assert_nonnull (s->heading);
      g_assert_nonnull (s->text);
      g_assert_nonnull (s->value);
      if (s->phase == GRADUS_TEACH_BACKWARD) {
        backward++;
        g_assert_false (strstr (s->text, "could not"));
      }
    }
    g_assert_cmpuint (backward, >, 0);
    g_test_message ("%s: %u steps, %u backward, %.1f s", name, n, backward,
                    (g_get_monotonic_time () - t0) / 1e6);
    traced++;
  }
  g_assert_cmpuint (traced, >=, 8);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  adw_init ();
  ui_xtest_init ();
  shots = g_strdup (g_getenv ("GRADUS_CLASSROOM_SHOTS"));
  if (!shots)
    shots = g_dir_make_tmp ("gradus-stepthrough-XXXXXX", NULL);
  g_test_add_func ("/ui/stepthrough/rules", test_rules);
  g_test_add_func ("/ui/stepthrough/listing3", test_step_through_listing3);
  g_test_add_func ("/ui/stepthrough/backprop-mode", test_backprop_mode);
  g_test_add_func ("/ui/stepthrough/every-example", test_every_example);
  return g_test_run ();
}
