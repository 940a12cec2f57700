/* test-ui-lessons.c: the lessons of data/examples/lessons/ (a first class on
 * gradients). Each runs with `gradus run` and opens in the window with its
 * description shown above the canvas; Run there makes the file's calls with
 * no error. The chain-rule lesson gives the numbers its text promises. */
#include "gradus-window.h"
#include "gradus-lesson-bar.h"
#include "gradus-run-panel.h"
#include "gradus-run-binding.h"
#include "ui-test-util.h"
#include "ui-xtest.h"

#include <string.h>

static const char *const lessons[] = {
  "1-chain-rule.gradus", "2-primer-vector-add.gradus", "3-primer-gradient.gradus",
  "4-primer-linear-regression.gradus", "5-logistic-regression.gradus", "6-two-layer-net.gradus",
};

static char *
lesson_path (const char *name)
{
  return g_build_filename (g_getenv ("GRADUS_SOURCE_DIR"), "data", "examples", "lessons", name,
                           NULL);
}

/* `gradus run PATH --print last`: its one line, parsed (asserts success). */
static JsonNode *
gradus_run_last (const char *path)
{
  const char *argv[] = { g_getenv ("GRADUS_BINARY"), "run", path, "--print", "last", NULL };
  g_assert_nonnull (argv[0]);
  g_autofree char *out = NULL, *err = NULL;
  gint status = 0;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                               &err, &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("gradus run %s failed: %s", path, err);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, out, -1, NULL));
  return json_node_copy (json_parser_get_root (parser));
}

static JsonObject *
file_object (const char *path, JsonParser *parser)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (json_parser_load_from_file (parser, path, &error));
  return json_node_get_object (json_parser_get_root (parser));
}

static void
test_lessons_run (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (lessons); i++) {
    g_autofree char *path = lesson_path (lessons[i]);
    g_autoptr (JsonParser) parser = json_parser_new ();
    JsonObject *top = file_object (path, parser);
    /* A lesson has its text. */
    g_assert_true (json_object_has_member (top, "name"));
    g_assert_cmpuint (strlen (json_object_get_string_member (top, "description")), >, 100);
    g_autoptr (JsonNode) last = gradus_run_last (path);
    JsonObject *line = json_node_get_object (last);
    gint64 steps = json_object_get_int_member (json_object_get_object_member (top, "run"), "steps");
    g_assert_cmpint (json_object_get_int_member (line, "step"), ==, steps - 1);
    if (i == 0) {
      /* f = (2x + 1)^2 at x = 3: 49, and df/dx = 28 both by backpropagation
       * and as df/du * du/dx. */
      JsonArray *outputs = json_object_get_array_member (line, "outputs");
      g_assert_cmpfloat (json_array_get_double_element (outputs, 0), ==, 49);
      g_assert_cmpfloat (json_array_get_double_element (outputs, 1), ==, 28);
      g_assert_cmpfloat (json_array_get_double_element (outputs, 2), ==, 28);
    }
  }
}

static gboolean
any_progress_mapped (GtkWidget *root)
{
  if (GTK_IS_PROGRESS_BAR (root) && gtk_widget_get_mapped (root))
    return TRUE;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c))
    if (any_progress_mapped (c))
      return TRUE;
  return FALSE;
}

static void
test_lessons_open (void)
{
  GradusWindow *w = ui_open_window (NULL, 1280, 800);
  GradusLessonBar *bar = gradus_window_get_lesson_bar (w);
  /* An empty document has no text to show. */
  g_assert_null (gradus_lesson_bar_get_description (bar));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (bar)));
  GradusRunPanel *run = GRADUS_RUN_PANEL (gradus_window_get_run_panel (w));
  for (gsize i = 0; i < G_N_ELEMENTS (lessons); i++) {
    g_autofree char *path = lesson_path (lessons[i]);
    g_autoptr (JsonParser) parser = json_parser_new ();
    JsonObject *top = file_object (path, parser);
    g_autoptr (GError) error = NULL;
    g_assert_true (gradus_window_open_path (w, path, &error));
    g_assert_no_error (error);
    UI_TEST_SPIN_UNTIL (!gradus_run_binding_is_pending (gradus_window_get_run_binding (w)), 10);
    ui_xtest_spin (100);
    /* The text shown, on screen, above the canvas. */
    g_assert_cmpstr (gradus_lesson_bar_get_description (bar), ==,
                     json_object_get_string_member (top, "description"));
    g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (bar)));
    g_assert_cmpint (gtk_widget_get_height (GTK_WIDGET (bar)), >, 20);
    /* The whole text on screen, or as much as the scroller's cap (240 px)
     * with the rest reachable by scrolling: not three lines and cut. */
    int whole = gradus_lesson_bar_text_height (bar, gtk_widget_get_width (GTK_WIDGET (bar)));
    g_assert_cmpint (whole, >, 60);
    g_assert_cmpint (gradus_lesson_bar_visible_text_height (bar), >=, MIN (whole, 240) - 1);
    /* No empty progress bar (it looked like a stray scrollbar) before a run. */
    g_assert_false (any_progress_mapped (GTK_WIDGET (run)));
    /* Runs in the window as from the command line. */
    g_assert_null (gradus_run_panel_get_error (run));
    gint64 steps = json_object_get_int_member (json_object_get_object_member (top, "run"), "steps");
    g_assert_cmpint (gradus_run_panel_get_steps (run), ==, steps);
    gtk_widget_activate_action (GTK_WIDGET (w), "run.run", NULL);
    UI_TEST_SPIN_UNTIL (!gradus_run_panel_is_running (run), 60);
    g_assert_cmpint (gradus_run_panel_get_n_calls (run), ==, steps);
    g_assert_null (gradus_run_panel_get_error (run));
  }
  gtk_window_destroy (GTK_WINDOW (w));
  ui_xtest_spin (100);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  adw_init ();
  ui_xtest_init ();
  g_test_add_func ("/ui/lessons/run", test_lessons_run);
  g_test_add_func ("/ui/lessons/open", test_lessons_open);
  return g_test_run ();
}
