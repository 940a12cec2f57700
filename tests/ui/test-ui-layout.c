/* test-ui-layout.c: every bundled example, run in the window at 1024x700,
 * 1280x800 and 1600x1000, light and dark: two seconds after the run the
 * results are still there, the run panel fits its column (no sideways
 * scrolling, controls wrapped), it has a usable height, the first row of
 * plots is whole on screen, and the plots follow the style. A PNG of each
 * window goes to $XDG_STATE_HOME/gradus-layout-shots/ for people to look at. */
#include "ui-run-util.h"

#include <string.h>

typedef struct {
  int width, height;
  gboolean dark;
} Config;

static const Config configs[] = {
  { 1024, 700, FALSE }, { 1024, 700, TRUE }, { 1280, 800, FALSE },
  { 1280, 800, TRUE }, { 1600, 1000, FALSE }, { 1600, 1000, TRUE },
};

static graphene_rect_t
bounds_in (GtkWidget *widget, GtkWidget *window)
{
  graphene_rect_t r;
  g_assert_true (gtk_widget_compute_bounds (widget, window, &r));
  return r;
}

/* The grey level (0..1) of pixel (x, y) of a PNG. */
static double
grey_at (const char *png, int x, int y)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkTexture) t = gdk_texture_new_from_filename (png, &error);
  g_assert_no_error (error);
  int w = gdk_texture_get_width (t), h = gdk_texture_get_height (t);
  g_assert_cmpint (x, <, w);
  g_assert_cmpint (y, <, h);
  g_autofree guchar *data = g_malloc ((gsize) w * h * 4);
  gdk_texture_download (t, data, (gsize) w * 4);
  const guchar *p = data + ((gsize) y * w + x) * 4; /* B G R A (cairo ARGB32, little endian) */
  return (0.114 * p[0] + 0.587 * p[1] + 0.299 * p[2]) / 255.0;
}

static void
check_window (GradusWindow *w, const char *name, const Config *cfg, gint64 steps,
              const char *status, const char *shots)
{
  GtkWidget *win = GTK_WIDGET (w);
  GradusRunPanel *run = ui_run_panel (w);
  /* Screenshot first, to look at when a check fails. */
  g_autofree char *file = g_strdup_printf ("%s/%s-%dx%d-%s.png", shots, name, cfg->width,
                                           cfg->height, cfg->dark ? "dark" : "light");
  g_autoptr (GError) error = NULL;
  g_assert_true (gradus_window_screenshot (w, file, &error));
  /* Results still there. */
  g_assert_cmpint (gradus_run_panel_get_n_calls (run), ==, steps);
  g_assert_cmpstr (gradus_run_panel_get_status (run), ==, status);
  GPtrArray *plots = gradus_run_panel_get_plots (run);
  g_assert_cmpuint (plots->len, >, 0);
  for (guint i = 0; i < plots->len; i++)
    if (gradus_plot_get_mode (plots->pdata[i]) == GRADUS_PLOT_LINES)
      g_assert_cmpuint (gradus_plot_get_n_points (plots->pdata[i]), ==, (guint) steps);

  /* The panel within the canvas column: nothing cut on the right. */
  GtkWidget *canvas = GTK_WIDGET (gradus_window_get_canvas (w));
  /* The plots' own scroller in the panel: what of them is on screen. */
  GtkWidget *scroll = gtk_widget_get_ancestor (GTK_WIDGET (plots->pdata[0]), GTK_TYPE_SCROLLED_WINDOW);
  graphene_rect_t col = bounds_in (canvas, win), sc = bounds_in (scroll, win);
  graphene_rect_t pr = bounds_in (GTK_WIDGET (run), win);
  g_assert_cmpfloat (pr.origin.x + pr.size.width, <=, col.origin.x + col.size.width + 1);
  /* Its height, set once from the window's (not a strip of 120 pixels). */
  g_assert_cmpfloat (pr.size.height, >=, 300);
  g_assert_cmpfloat (pr.origin.y + pr.size.height, <=, gtk_widget_get_height (win) + 1);
  g_assert_cmpfloat (sc.origin.x + sc.size.width, <=, col.origin.x + col.size.width + 1);
  /* Room for a row of plots. */
  g_assert_cmpfloat (sc.size.height, >=, 140);
  /* The first row of plots whole: inside the panel's scroller and the window. */
  graphene_rect_t first = bounds_in (plots->pdata[0], win);
  for (guint i = 0; i < plots->len; i++) {
    graphene_rect_t r = bounds_in (plots->pdata[i], win);
    if (fabs (r.origin.y - first.origin.y) > 1)
      continue;
    g_assert_cmpfloat (r.size.width, >=, 180);
    g_assert_cmpfloat (r.size.height, >=, 100);
    g_assert_cmpfloat (r.origin.x, >=, sc.origin.x - 1);
    g_assert_cmpfloat (r.origin.x + r.size.width, <=, sc.origin.x + sc.size.width + 1);
    g_assert_cmpfloat (r.origin.y, >=, sc.origin.y - 1);
    g_assert_cmpfloat (r.origin.y + r.size.height, <=, sc.origin.y + sc.size.height + 1);
    /* Its legend drawn, whole, inside the plot (so on screen with it). */
    GradusPlot *plot = plots->pdata[i];
    graphene_rect_t legend;
    if (gradus_plot_get_mode (plot) == GRADUS_PLOT_LINES) {
      g_assert_true (gradus_plot_get_legend_bounds (plot, &legend));
      g_assert_cmpfloat (legend.size.width, >, 20);
      g_assert_cmpfloat (legend.origin.x, >=, 0);
      g_assert_cmpfloat (legend.origin.y, >=, 0);
      g_assert_cmpfloat (legend.origin.x + legend.size.width, <=, r.size.width);
      g_assert_cmpfloat (legend.origin.y + legend.size.height, <=, r.size.height);
    }
  }
  /* The plot's ground follows the style. */
  double grey = grey_at (file, (int) first.origin.x + 3, (int) first.origin.y + 3);
  if (cfg->dark)
    g_assert_cmpfloat (grey, <, 0.35);
  else
    g_assert_cmpfloat (grey, >, 0.85);
}

static void
test_layout (gconstpointer data)
{
  const Config *cfg = data;
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                      cfg->dark ? ADW_COLOR_SCHEME_FORCE_DARK
                                                : ADW_COLOR_SCHEME_FORCE_LIGHT);
  g_autofree char *shots = g_build_filename (g_get_user_state_dir (), "gradus-layout-shots", NULL);
  g_assert_cmpint (g_mkdir_with_parents (shots, 0755), ==, 0);
  g_autofree char *dir = g_build_filename (g_getenv ("GRADUS_SOURCE_DIR"), "data", "examples", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  for (const char *n; (n = g_dir_read_name (d));)
    if (g_str_has_suffix (n, ".gradus"))
      g_ptr_array_add (names, g_strndup (n, strlen (n) - strlen (".gradus")));
  g_assert_cmpuint (names->len, >=, 6);
  /* All the examples at once, so that one wait of two seconds serves them all. */
  GradusWindow *windows[names->len];
  gint64 steps[names->len];
  char *statuses[names->len];
  for (guint i = 0; i < names->len; i++) {
    g_autofree char *file = g_strconcat ((const char *) names->pdata[i], ".gradus", NULL);
    g_autofree char *path = g_build_filename (dir, file, NULL);
    GradusWindow *w = windows[i] = ui_open_window (path, cfg->width, cfg->height);
    GradusRunPanel *run = ui_run_panel (w);
    gradus_run_panel_set_steps (run, MIN (gradus_run_panel_get_steps (run), 50));
    steps[i] = gradus_run_panel_get_steps (run);
    GtkWidget *b = ui_find_action_button (GTK_WIDGET (run), "run.run");
    g_assert_nonnull (b);
    /* The run is started through the button's action, not a pointer click:
     * with twelve windows overlapping, XTest clicks were lost in the suite
     * (to be investigated). Real clicks on Run are tested in test-ui-session. */
    g_assert_true (gtk_widget_get_sensitive (b));
    g_assert_true (gtk_widget_activate_action (b, "run.run", NULL));
    UI_TEST_SPIN_UNTIL (!gradus_run_panel_is_running (run) && gradus_run_panel_get_n_calls (run) > 0, 60);
    statuses[i] = g_strdup (gradus_run_panel_get_status (run));
    if (!strstr (statuses[i], "calls in"))
      g_test_message ("%s: %s", (const char *) names->pdata[i], statuses[i]);
    g_assert_nonnull (strstr (statuses[i], "calls in"));
  }
  ui_xtest_spin (2000);
  for (guint i = 0; i < names->len; i++) {
    g_test_message ("%s at %dx%d %s", (const char *) names->pdata[i], cfg->width, cfg->height,
                    cfg->dark ? "dark" : "light");
    check_window (windows[i], names->pdata[i], cfg, steps[i], statuses[i], shots);
    gtk_window_destroy (GTK_WINDOW (windows[i]));
    g_free (statuses[i]);
  }
  ui_xtest_spin (50);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  adw_init ();
  ui_xtest_init ();
  for (gsize i = 0; i < G_N_ELEMENTS (configs); i++) {
    g_autofree char *path = g_strdup_printf ("/ui/layout/%dx%d-%s", configs[i].width,
                                             configs[i].height, configs[i].dark ? "dark" : "light");
    g_test_add_data_func (path, &configs[i], test_layout);
  }
  return g_test_run ();
}
