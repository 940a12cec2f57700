/* test-ui-labels.c: every bundled example and lesson opened at 1280x800 and
 * zoomed to fit (normal and presenting): the labels the canvas draws (names,
 * or titles and ports when zoomed in) never overlap one another, and a label
 * that leaves its own box covers no other box. The chain-rule lesson's long
 * name "df/du · du/dx" stays inside its box or whole beside it. */
#include "gradus-window.h"
#include "gradus-canvas.h"
#include "gradus-render.h"
#include "gradus-run-binding.h"
#include "teach/gradus-name-hover.h"
#include "ui-test-util.h"
#include "ui-xtest.h"

#include <string.h>

static void
add_examples (GPtrArray *paths, const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  for (const char *n; (n = g_dir_read_name (d));)
    if (g_str_has_suffix (n, ".gradus"))
      g_ptr_array_add (paths, g_build_filename (dir, n, NULL));
}

static gboolean
overlap (const GradusLabelRect *a, double x, double y, double w, double h)
{
  /* Half a pixel of anti-aliasing either way is not an overlap. */
  const double e = 0.5;
  return a->x + e < x + w && x + e < a->x + a->w && a->y + e < y + h && y + e < a->y + a->h;
}

static gboolean
inside (const GradusLabelRect *r, const GradusSceneNode *n)
{
  return r->x >= n->x - 0.5 && r->y >= n->y - 0.5 && r->x + r->w <= n->x + n->w + 0.5 &&
         r->y + r->h <= n->y + n->h + 0.5;
}

/* The labels of the canvas as drawn now; returns how many. */
static guint
check_labels (GradusCanvas *canvas, const char *path)
{
  GradusScene *scene = gradus_canvas_get_scene (canvas);
  g_assert_nonnull (scene);
  GradusRenderOptions o = { .zoom = gradus_canvas_get_zoom (canvas),
                            .presentation = gradus_canvas_get_presentation (canvas) };
  gradus_canvas_get_visible_area (canvas, &o.clip_x, &o.clip_y, &o.clip_w, &o.clip_h);
  g_autoptr (GArray) rects = g_array_new (FALSE, FALSE, sizeof (GradusLabelRect));
  gradus_render_label_rects (scene, &o, rects);
  for (guint i = 0; i < rects->len; i++) {
    const GradusLabelRect *a = &g_array_index (rects, GradusLabelRect, i);
    const GradusSceneNode *na = scene->nodes->pdata[a->node];
    g_assert_cmpfloat (a->w, >, 0);
    for (guint j = i + 1; j < rects->len; j++) {
      const GradusLabelRect *b = &g_array_index (rects, GradusLabelRect, j);
      if (overlap (a, b->x, b->y, b->w, b->h))
        g_error ("%s at zoom %.3f: the labels of '%s' (%.0f,%.0f %.0fx%.0f) and '%s' (%.0f,%.0f %.0fx%.0f) overlap",
                 path, o.zoom, na->title, a->x, a->y, a->w, a->h,
                 ((GradusSceneNode *) scene->nodes->pdata[b->node])->title, b->x, b->y, b->w, b->h);
    }
    if (inside (a, na))
      continue;
    for (guint k = 0; k < scene->nodes->len; k++) {
      const GradusSceneNode *m = scene->nodes->pdata[k];
      if ((gint) k != a->node && overlap (a, m->x, m->y, m->w, m->h))
        g_error ("%s: the label of '%s' runs over the box of '%s'", path, na->title, m->title);
    }
  }
  return rects->len;
}

static void
test_labels (gconstpointer data)
{
  gboolean presenting = GPOINTER_TO_INT (data);
  g_autofree char *dir = g_build_filename (g_getenv ("GRADUS_SOURCE_DIR"), "data", "examples", NULL);
  g_autofree char *lessons = g_build_filename (dir, "lessons", NULL);
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  add_examples (paths, dir);
  add_examples (paths, lessons);
  g_assert_cmpuint (paths->len, >=, 12);
  GradusWindow *w = ui_open_window (NULL, 1280, 800);
  GradusCanvas *canvas = gradus_window_get_canvas (w);
  if (presenting) {
    gtk_widget_activate_action (GTK_WIDGET (w), "win.presentation", NULL);
    ui_xtest_spin (300);
    g_assert_true (gradus_canvas_get_presentation (canvas));
  }
  guint names_only = 0, tooltips = 0;
  for (guint i = 0; i < paths->len; i++) {
    const char *path = paths->pdata[i];
    g_autoptr (GError) error = NULL;
    g_assert_true (gradus_window_open_path (w, path, &error));
    g_assert_no_error (error);
    UI_TEST_SPIN_UNTIL (!gradus_run_binding_is_pending (gradus_window_get_run_binding (w)), 10);
    ui_xtest_spin (200);
    gradus_canvas_zoom_to_fit (canvas);
    ui_xtest_spin (50);
    double zoom = gradus_canvas_get_zoom (canvas);
    g_test_message ("%s: zoom %.3f", path, zoom);
    guint n = check_labels (canvas, path);
    GradusScene *scene = gradus_canvas_get_scene (canvas);
    /* Something is named on every graph. */
    g_assert_cmpuint (n, >, 0);
    if (zoom < (presenting ? GRADUS_RENDER_PRESENT_NAME_ONLY_ZOOM : GRADUS_RENDER_NAME_ONLY_ZOOM)) {
      names_only++;
      /* Hovering a node whose name is cut or left out tells it whole; one
       * drawn in full has no tooltip. */
      GradusRenderOptions o = { .zoom = zoom, .presentation = presenting };
      gradus_canvas_get_visible_area (canvas, &o.clip_x, &o.clip_y, &o.clip_w, &o.clip_h);
      for (guint k = 0; k < scene->nodes->len; k++) {
        GradusSceneNode *node = scene->nodes->pdata[k];
        double cx = node->x + node->w / 2, cy = node->y + node->h / 2;
        if (cx < o.clip_x || cy < o.clip_y || cx > o.clip_x + o.clip_w || cy > o.clip_y + o.clip_h ||
            gradus_scene_hit_node (scene, cx, cy) != (gint) k)
          continue;
        g_autofree char *tip = gradus_name_hover_text (canvas, (cx - o.clip_x) * zoom,
                                                       (cy - o.clip_y) * zoom);
        if (gradus_render_name_is_whole (scene, &o, k))
          g_assert_null (tip);
        else {
          g_assert_cmpstr (tip, ==, node->title);
          tooltips++;
        }
      }
    }
    if (strstr (path, "1-chain-rule")) {
      gint k = gradus_scene_find (scene, "chain");
      if (k < 0)
        for (guint j = 0; j < scene->nodes->len; j++)
          if (g_str_equal (((GradusSceneNode *) scene->nodes->pdata[j])->title, "df/du · du/dx"))
            k = (gint) j;
      g_assert_cmpint (k, >=, 0);
      GradusRenderOptions o = { .zoom = zoom, .presentation = presenting };
      gradus_canvas_get_visible_area (canvas, &o.clip_x, &o.clip_y, &o.clip_w, &o.clip_h);
      g_autoptr (GArray) rects = g_array_new (FALSE, FALSE, sizeof (GradusLabelRect));
      gradus_render_label_rects (scene, &o, rects);
      gboolean found = FALSE;
      for (guint j = 0; j < rects->len; j++) {
        GradusLabelRect *r = &g_array_index (rects, GradusLabelRect, j);
        if (r->node == k && !found) {
          found = TRUE;
          /* Its first label (the name) is shown, and fits. */
          GradusSceneNode *node = scene->nodes->pdata[k];
          g_assert_true (inside (r, node) || r->w > node->w);
        }
      }
      g_assert_true (found);
    }
  }
  /* The crowded examples are seen zoomed out (names only). */
  g_assert_cmpuint (names_only, >=, 2);
  /* cnn-digits at fit cannot name all its nodes: some are told on hover. */
  g_assert_cmpuint (tooltips, >, 0);
  gtk_window_destroy (GTK_WINDOW (w));
  ui_xtest_spin (100);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  adw_init ();
  ui_xtest_init ();
  g_test_add_data_func ("/ui/labels/fit", GINT_TO_POINTER (FALSE), test_labels);
  g_test_add_data_func ("/ui/labels/fit-presenting", GINT_TO_POINTER (TRUE), test_labels);
  return g_test_run ();
}
