/* gradus-minimap.c: the overview in the canvas's corner (see the header). */
#include "gradus-minimap.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <math.h>

typedef struct {
  GradusCanvas *canvas;   /* not owned: the minimap lives in the canvas's overlay */
  double        vx, vy, vw, vh;
  gpointer      scene;    /* compared, never dereferenced */
  gboolean      shown;
  /* The mapping of the last drawing: widget = (graph - origin) * scale + pad. */
  double        gx, gy, scale, px, py;
} Minimap;

#define MINIMAP_PAD 6.0

static Minimap *
get (GtkWidget *w)
{
  return g_object_get_data (G_OBJECT (w), "gradus-minimap");
}

/* Graph bounds and view: TRUE when part of the graph is out of view. */
static gboolean
needed (Minimap *m, double *bx, double *by, double *bw, double *bh)
{
  GradusScene *scene = gradus_canvas_get_scene (m->canvas);
  if (!scene || !gradus_scene_bounds (scene, bx, by, bw, bh))
    return FALSE;
  double vx, vy, vw, vh;
  gradus_canvas_get_visible_area (m->canvas, &vx, &vy, &vw, &vh);
  const double slack = 2;
  return *bx < vx - slack || *by < vy - slack || *bx + *bw > vx + vw + slack
         || *by + *bh > vy + vh + slack;
}

static void
layout (Minimap *m, int w, int h, double bx, double by, double bw, double bh)
{
  double vx, vy, vw, vh;
  gradus_canvas_get_visible_area (m->canvas, &vx, &vy, &vw, &vh);
  /* The map covers the graph and the view, so that the rectangle is always on it. */
  double x0 = MIN (bx, vx), y0 = MIN (by, vy);
  double x1 = MAX (bx + bw, vx + vw), y1 = MAX (by + bh, vy + vh);
  double s = MIN ((w - 2 * MINIMAP_PAD) / MAX (x1 - x0, 1), (h - 2 * MINIMAP_PAD) / MAX (y1 - y0, 1));
  m->scale = s;
  m->gx = x0;
  m->gy = y0;
  m->px = MINIMAP_PAD + ((w - 2 * MINIMAP_PAD) - (x1 - x0) * s) / 2;
  m->py = MINIMAP_PAD + ((h - 2 * MINIMAP_PAD) - (y1 - y0) * s) / 2;
}

static void
draw (GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer data)
{
  Minimap *m = data;
  double bx, by, bw, bh;
  m->shown = needed (m, &bx, &by, &bw, &bh);
  gtk_widget_set_can_target (GTK_WIDGET (area), m->shown);
  if (!m->shown)
    return;
  gboolean dark = adw_style_manager_get_dark (adw_style_manager_get_default ());
  layout (m, w, h, bx, by, bw, bh);
  cairo_rectangle (cr, 0.5, 0.5, w - 1, h - 1);
  cairo_set_source_rgba (cr, dark ? 0.1 : 1, dark ? 0.1 : 1, dark ? 0.1 : 1, 0.88);
  cairo_fill_preserve (cr);
  cairo_set_source_rgba (cr, dark ? 1 : 0, dark ? 1 : 0, dark ? 1 : 0, 0.3);
  cairo_set_line_width (cr, 1);
  cairo_stroke (cr);
  GradusScene *scene = gradus_canvas_get_scene (m->canvas);
  for (guint i = 0; i < scene->nodes->len; i++) {
    GradusSceneNode *n = scene->nodes->pdata[i];
    cairo_rectangle (cr, m->px + (n->x - m->gx) * m->scale, m->py + (n->y - m->gy) * m->scale,
                     MAX (n->w * m->scale, 2), MAX (n->h * m->scale, 2));
    if (n->error)
      cairo_set_source_rgb (cr, 0.88, 0.11, 0.14);
    else if (n->readonly)
      cairo_set_source_rgb (cr, 0.64, 0.28, 0.73);
    else
      cairo_set_source_rgb (cr, 0.15, 0.64, 0.41);
    cairo_fill (cr);
  }
  double vx, vy, vw, vh;
  gradus_canvas_get_visible_area (m->canvas, &vx, &vy, &vw, &vh);
  cairo_rectangle (cr, m->px + (vx - m->gx) * m->scale, m->py + (vy - m->gy) * m->scale,
                   vw * m->scale, vh * m->scale);
  cairo_set_source_rgba (cr, 0.21, 0.52, 0.89, 0.18);
  cairo_fill_preserve (cr);
  cairo_set_source_rgba (cr, 0.21, 0.52, 0.89, 1);
  cairo_set_line_width (cr, 2);
  cairo_stroke (cr);
}

/* The graph point under minimap point (x, y) becomes the view's centre. */
static void
move_view (Minimap *m, double x, double y)
{
  if (!m->shown || m->scale <= 0)
    return;
  gradus_canvas_center_on (m->canvas, m->gx + (x - m->px) / m->scale, m->gy + (y - m->py) / m->scale);
}

static void
drag_begin (GtkGestureDrag *g, double x, double y, Minimap *m)
{
  move_view (m, x, y);
}

static void
drag_update (GtkGestureDrag *g, double dx, double dy, Minimap *m)
{
  double x, y;
  if (gtk_gesture_drag_get_start_point (g, &x, &y))
    move_view (m, x + dx, y + dy);
}

void
gradus_minimap_canvas_drawn (GtkWidget *minimap)
{
  Minimap *m = get (minimap);
  double vx, vy, vw, vh;
  gradus_canvas_get_visible_area (m->canvas, &vx, &vy, &vw, &vh);
  gpointer scene = gradus_canvas_get_scene (m->canvas);
  if (vx == m->vx && vy == m->vy && vw == m->vw && vh == m->vh && scene == m->scene)
    return;
  m->vx = vx, m->vy = vy, m->vw = vw, m->vh = vh, m->scene = scene;
  gtk_widget_queue_draw (minimap);
}

gboolean
gradus_minimap_get_shown (GtkWidget *minimap)
{
  Minimap *m = get (minimap);
  double bx, by, bw, bh;
  return needed (m, &bx, &by, &bw, &bh);
}

gboolean
gradus_minimap_graph_to_widget (GtkWidget *minimap, double gx, double gy, double *x, double *y)
{
  Minimap *m = get (minimap);
  double bx, by, bw, bh;
  if (!needed (m, &bx, &by, &bw, &bh))
    return FALSE;
  layout (m, gtk_widget_get_width (minimap), gtk_widget_get_height (minimap), bx, by, bw, bh);
  *x = m->px + (gx - m->gx) * m->scale;
  *y = m->py + (gy - m->gy) * m->scale;
  return TRUE;
}

GtkWidget *
gradus_minimap_new (GradusCanvas *canvas)
{
  GtkWidget *area = gtk_drawing_area_new ();
  Minimap *m = g_new0 (Minimap, 1);
  m->canvas = canvas;
  g_object_set_data_full (G_OBJECT (area), "gradus-minimap", m, g_free);
  gtk_widget_set_size_request (area, 220, 140);
  gtk_widget_set_halign (area, GTK_ALIGN_END);
  gtk_widget_set_valign (area, GTK_ALIGN_END);
  gtk_widget_set_margin_end (area, 12);
  gtk_widget_set_margin_bottom (area, 12);
  gtk_widget_add_css_class (area, "gradus-minimap");
  gtk_widget_set_tooltip_text (area, _("The whole graph: click or drag to move the view"));
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (area), draw, m, NULL);
  GtkGesture *drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin), m);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update), m);
  gtk_widget_add_controller (area, GTK_EVENT_CONTROLLER (drag));
  return area;
}
