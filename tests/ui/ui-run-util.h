/* ui-run-util.h: finding a window's buttons by action, clicking them with
 * the pointer and checking the run panel's plots (the UI tests' shared part). */
#pragma once

#include "gradus-window.h"
#include "gradus-run-panel.h"
#include "gradus-plot.h"
#include "ui-test-util.h"
#include "ui-xtest.h"

/* The first button under `root` that activates `action` ("run.run"), or NULL
 * (menu entries, which are not buttons, are passed over). */
static inline GtkWidget *
ui_find_action_button (GtkWidget *root, const char *action)
{
  if (GTK_IS_BUTTON (root) && GTK_IS_ACTIONABLE (root) &&
      g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (root)), action) == 0)
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c)) {
    GtkWidget *found = ui_find_action_button (c, action);
    if (found)
      return found;
  }
  return NULL;
}

static inline GradusRunPanel *
ui_run_panel (GradusWindow *w)
{
  return GRADUS_RUN_PANEL (gradus_window_get_run_panel (w));
}

/* Presses the window's button for `action` with the pointer (it must be
 * there and sensitive) and waits for any run it starts to end. */
static inline void
ui_press_and_wait (GradusWindow *w, const char *action)
{
  GtkWidget *b = ui_find_action_button (GTK_WIDGET (w), action);
  g_assert_nonnull (b);
  g_assert_true (gtk_widget_get_sensitive (b));
  g_assert_true (ui_click_widget (GTK_WINDOW (w), b));
  UI_TEST_SPIN_UNTIL (!gradus_run_panel_is_running (ui_run_panel (w)), 30);
  g_assert_false (gradus_run_panel_is_running (ui_run_panel (w)));
}

/* Every line plot holds `n` calls, every other plot a value. */
static inline void
ui_assert_plots_hold (GradusWindow *w, gint64 n)
{
  GPtrArray *plots = gradus_run_panel_get_plots (ui_run_panel (w));
  g_assert_cmpuint (plots->len, >, 0);
  for (guint i = 0; i < plots->len; i++) {
    GradusPlot *p = plots->pdata[i];
    if (gradus_plot_get_mode (p) == GRADUS_PLOT_LINES)
      g_assert_cmpuint (gradus_plot_get_n_points (p), ==, (guint) n);
    else
      g_assert_cmpuint (gradus_plot_get_n_points (p), >, 0);
  }
}
