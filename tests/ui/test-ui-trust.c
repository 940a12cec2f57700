/* test-ui-trust.c: the editor's side of issue 15. An autosave that fails is
 * told to the user once (a toast), not dropped in silence, and told again
 * after one that worked failed anew. */
#include "gradus-window.h"
#include "ui-test-util.h"
#include "ui-xtest.h"

#include <glib/gstdio.h>
#include <string.h>

static char *
example (const char *name)
{
  return g_build_filename (g_getenv ("GRADUS_SOURCE_DIR"), "data", "examples", name, NULL);
}

/* An edit that makes the document modified again. */
static void
edit (GradusWindow *w)
{
  gtk_widget_activate_action (GTK_WIDGET (w), "win.add-node", "s", "constant");
  ui_xtest_spin (50);
}

static void
test_autosave_failure (void)
{
  g_autofree char *path = example ("primer-3-linear-regression.gradus");
  GradusWindow *w = ui_open_window (path, 1280, 800);
  edit (w);
  g_autofree char *saved = g_strdup (gradus_window_autosave_now (w));
  g_assert_nonnull (saved);
  g_assert_false (gradus_window_get_autosave_failing (w));
  /* A folder where the autosave goes: it cannot be written any more. */
  g_assert_cmpint (g_unlink (saved), ==, 0);
  g_assert_cmpint (g_mkdir (saved, 0700), ==, 0);
  edit (w);
  g_assert_null (gradus_window_autosave_now (w));
  g_assert_true (gradus_window_get_autosave_failing (w));
  const char *told = gradus_window_get_last_message (w);
  g_assert_nonnull (told);
  g_assert_true (g_str_has_prefix (told, "Autosave failed"));
  /* Once: the next failing autosave (the timer's) says nothing new. */
  gradus_window_message (w, "something else");
  edit (w);
  g_assert_null (gradus_window_autosave_now (w));
  g_assert_cmpstr (gradus_window_get_last_message (w), ==, "something else");
  /* It works again, then fails again: told again. */
  g_assert_cmpint (g_rmdir (saved), ==, 0);
  edit (w);
  g_assert_cmpstr (gradus_window_autosave_now (w), ==, saved);
  g_assert_false (gradus_window_get_autosave_failing (w));
  g_assert_cmpint (g_unlink (saved), ==, 0);
  g_assert_cmpint (g_mkdir (saved, 0700), ==, 0);
  edit (w);
  g_assert_null (gradus_window_autosave_now (w));
  g_assert_true (g_str_has_prefix (gradus_window_get_last_message (w), "Autosave failed"));
  g_assert_cmpint (g_rmdir (saved), ==, 0);
  gradus_doc_model_set_modified (gradus_window_get_model (w), FALSE);
  gtk_window_destroy (GTK_WINDOW (w));
  ui_xtest_spin (100);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  adw_init ();
  ui_xtest_init ();
  g_test_add_func ("/ui/trust/autosave-failure", test_autosave_failure);
  return g_test_run ();
}
