/* gradus-teach-draw.c: the traced call drawn on the canvas (see the header).
 * Sizes are in screen pixels, divided by the zoom, so that numbers stay
 * legible when the graph is zoomed out. */
#include "gradus-teach-draw.h"
#include "gradus-teach-picture.h"

#include <math.h>
#include <pango/pangocairo.h>

typedef struct {
  cairo_t     *cr;
  PangoLayout *layout;
  const GradusTeachDrawOptions *o;
  double       u;          /* one screen pixel in graph units */
} Ctx;

/* A rounded label centred on (x, y): the text, or a picture of the value. */
static void
chip (Ctx *c, double x, double y, const GrdTensor *v, const char *prefix, double r, double g,
      double b)
{
  cairo_t *cr = c->cr;
  double u = c->u, pad = 4 * u;
  gboolean picture = gradus_teach_picture_wanted (v);
  g_autofree char *num = picture ? NULL : gradus_teach_format (v);
  g_autofree char *text = picture ? g_strdup (prefix ? prefix : "")
                                  : g_strdup_printf ("%s%s", prefix ? prefix : "", num);
  PangoFontDescription *fd = pango_font_description_from_string ("Sans Bold");
  pango_font_description_set_absolute_size (fd, c->o->text_px * u * PANGO_SCALE);
  pango_layout_set_font_description (c->layout, fd);
  pango_font_description_free (fd);
  pango_layout_set_text (c->layout, text, -1);
  int tw = 0, th = 0;
  /* An empty layout measures the height of whatever font Pango falls back to. */
  if (*text)
    pango_layout_get_pixel_size (c->layout, &tw, &th);
  double pw = picture ? 4 * c->o->text_px * u : 0, ph = picture ? 1.4 * c->o->text_px * u : 0;
  double w = tw + pw + 2 * pad + (picture && tw ? pad : 0), h = MAX (th, ph) + 2 * pad / 2;
  double x0 = x - w / 2, y0 = y - h / 2, rad = MIN (h / 2, 6 * u);
  cairo_new_sub_path (cr);
  cairo_arc (cr, x0 + w - rad, y0 + rad, rad, -G_PI / 2, 0);
  cairo_arc (cr, x0 + w - rad, y0 + h - rad, rad, 0, G_PI / 2);
  cairo_arc (cr, x0 + rad, y0 + h - rad, rad, G_PI / 2, G_PI);
  cairo_arc (cr, x0 + rad, y0 + rad, rad, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
  if (c->o->dark)
    cairo_set_source_rgba (cr, 0.12, 0.12, 0.12, 0.92);
  else
    cairo_set_source_rgba (cr, 1, 1, 1, 0.95);
  cairo_fill_preserve (cr);
  cairo_set_source_rgb (cr, r, g, b);
  cairo_set_line_width (cr, 1.5 * u);
  cairo_stroke (cr);
  cairo_move_to (cr, x0 + pad, y - th / 2.0);
  pango_cairo_show_layout (cr, c->layout);
  cairo_new_path (cr);
  if (picture)
    gradus_teach_picture_draw (cr, v, x0 + pad + tw + (tw ? pad : 0), y - ph / 2, pw, ph, c->o->dark);
}

static void
thick_wire (Ctx *c, GradusScene *scene, guint e, double r, double g, double b, gboolean arrow_back)
{
  cairo_t *cr = c->cr;
  double px, py;
  gradus_scene_edge_point (scene, e, 0, &px, &py);
  cairo_move_to (cr, px, py);
  for (gint i = 1; i <= 32; i++) {
    gradus_scene_edge_point (scene, e, i / 32.0, &px, &py);
    cairo_line_to (cr, px, py);
  }
  cairo_set_source_rgba (cr, r, g, b, 0.9);
  cairo_set_line_width (cr, 5 * c->u);
  cairo_stroke (cr);
  if (arrow_back) {
    /* The head at the source end: the gradient flows from the node back. */
    double x0, y0, x1, y1;
    gradus_scene_edge_point (scene, e, 0.0, &x0, &y0);
    gradus_scene_edge_point (scene, e, 0.08, &x1, &y1);
    double a = atan2 (y0 - y1, x0 - x1), s = 14 * c->u;
    cairo_move_to (cr, x0, y0);
    cairo_line_to (cr, x0 - s * cos (a - 0.45), y0 - s * sin (a - 0.45));
    cairo_line_to (cr, x0 - s * cos (a + 0.45), y0 - s * sin (a + 0.45));
    cairo_close_path (cr);
    cairo_fill (cr);
  }
}

void
gradus_teach_draw (cairo_t *cr, GradusScene *scene, GradusTeachTrace *trace,
                   const GradusTeachDrawOptions *o)
{
  Ctx c = { cr, pango_cairo_create_layout (cr), o, 1.0 / MAX (o->zoom, 0.05) };
  GradusTeachStep *cur = o->step >= 0 ? gradus_teach_trace_step (trace, (guint) o->step) : NULL;
  const double blue[3] = { 0.11, 0.44, 0.85 }, orange[3] = { 0.90, 0.38, 0.0 };
  const double purple[3] = { 0.51, 0.24, 0.61 }, gold[3] = { 0.96, 0.76, 0.07 };

  /* The wires the current step reads (forward) or sends back on (backward). */
  for (guint e = 0; cur && e < scene->edges->len; e++) {
    GradusSceneEdge *ed = &g_array_index (scene->edges, GradusSceneEdge, e);
    if (ed->derived || ed->to_output)
      continue;
    GradusSceneNode *to = scene->nodes->pdata[ed->to];
    if (g_strcmp0 (to->id, cur->node) != 0)
      continue;
    g_autofree char *ref = gradus_scene_edge_source_ref (scene, e);
    if (cur->phase == GRADUS_TEACH_BACKWARD) {
      for (guint k = 0; cur->sent_to && k < cur->sent_to->len; k++)
        if (g_strcmp0 (cur->sent_to->pdata[k], ref) == 0)
          thick_wire (&c, scene, e, orange[0], orange[1], orange[2], TRUE);
    } else
      thick_wire (&c, scene, e, blue[0], blue[1], blue[2], FALSE);
  }

  /* The ring around the node of the step. */
  gint hi = cur ? gradus_scene_find (scene, cur->node) : -1;
  if (hi >= 0) {
    GradusSceneNode *n = scene->nodes->pdata[hi];
    double m = 6 * c.u;
    cairo_rectangle (cr, n->x - m, n->y - m, n->w + 2 * m, n->h + 2 * m);
    cairo_set_source_rgba (cr, gold[0], gold[1], gold[2], 0.95);
    cairo_set_line_width (cr, 5 * c.u);
    cairo_stroke (cr);
  }

  /* Each wire's value, once the step-through has computed it: once per
   * output, on its first wire (the wires of one output carry one value, and
   * a label on each would cover the graph). */
  g_autoptr (GHashTable) labelled = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint e = 0; e < scene->edges->len; e++) {
    GradusSceneEdge *ed = &g_array_index (scene->edges, GradusSceneEdge, e);
    if (ed->derived || ed->to_output)
      continue;
    g_autofree char *ref = gradus_scene_edge_source_ref (scene, e);
    GrdTensor *v = gradus_teach_trace_value (trace, ref);
    if (!v || g_hash_table_contains (labelled, ref))
      continue;
    GradusSceneNode *from = scene->nodes->pdata[ed->from];
    if (o->step >= 0) {
      gint at = gradus_teach_trace_find (trace, from->id, GRADUS_TEACH_FORWARD);
      if (at < 0)
        at = gradus_teach_trace_find (trace, from->id, GRADUS_TEACH_AFTER);
      if (at < 0 || at > o->step)
        continue;
    }
    g_hash_table_add (labelled, g_strdup (ref));
    double x, y;
    gradus_scene_edge_point (scene, e, 0.5, &x, &y);
    chip (&c, x, y, v, NULL, blue[0], blue[1], blue[2]);
  }

  /* What the backward step sends back, near the input's end of its wire. */
  for (guint e = 0; cur && cur->phase == GRADUS_TEACH_BACKWARD && e < scene->edges->len; e++) {
    GradusSceneEdge *ed = &g_array_index (scene->edges, GradusSceneEdge, e);
    GradusSceneNode *to = scene->nodes->pdata[ed->to];
    if (ed->derived || ed->to_output || g_strcmp0 (to->id, cur->node) != 0)
      continue;
    g_autofree char *ref = gradus_scene_edge_source_ref (scene, e);
    for (guint k = 0; cur->sent_to && k < cur->sent_to->len; k++)
      if (g_strcmp0 (cur->sent_to->pdata[k], ref) == 0) {
        double x, y;
        gradus_scene_edge_point (scene, e, 0.22, &x, &y);
        chip (&c, x, y - 2.2 * o->text_px * c.u, cur->sent->pdata[k], "← ", orange[0], orange[1],
              orange[2]);
      }
  }

  /* Each forward node's gradient, once the backward pass has reached it. */
  for (guint i = 0; i < scene->nodes->len; i++) {
    GradusSceneNode *n = scene->nodes->pdata[i];
    GrdTensor *g = gradus_teach_trace_grad (trace, n->id);
    if (!g || n->readonly)
      continue;
    if (o->step >= 0) {
      gint at = gradus_teach_trace_find (trace, n->id, GRADUS_TEACH_BACKWARD);
      if (at < 0 || at > o->step)
        continue;
    }
    g_autofree char *prefix = g_strdup_printf ("∇ ");
    chip (&c, n->x + n->w / 2, n->y + n->h + 1.4 * o->text_px * c.u, g, prefix, purple[0],
          purple[1], purple[2]);
  }
  g_object_unref (c.layout);
}
