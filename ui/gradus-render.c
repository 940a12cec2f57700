/* gradus-render.c: the look of a graph, in Cairo and Pango only, so that the
 * window and a headless export draw exactly the same picture. */
#include "gradus-render.h"
#include "gradus-layout.h"
#include "organise/gradus-organise.h"
#include "scan/gradus-scan-zone.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <glib/gi18n.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <string.h>

typedef struct {
  double r, g, b;
} Rgb;

static void
set_rgb (cairo_t *cr, Rgb c, double alpha)
{
  cairo_set_source_rgba (cr, c.r, c.g, c.b, alpha);
}

static Rgb
hex (guint32 v)
{
  return (Rgb) { ((v >> 16) & 0xff) / 255.0, ((v >> 8) & 0xff) / 255.0, (v & 0xff) / 255.0 };
}

static Rgb
kind_colour (const GradusSceneNode *n)
{
  if (n->readonly)
    return hex (0xa347ba);
  switch (n->kind) {
  case GRD_NODE_VARIABLE: return hex (0x1c71d8);
  case GRD_NODE_CONSTANT: return hex (0x5e5c64);
  case GRD_NODE_SHARED: return hex (0xc64600);
  case GRD_NODE_GRAD: return hex (0x813d9c);
  default: return hex (0x26a269);
  }
}

static void
rounded_rect (cairo_t *cr, double x, double y, double w, double h, double r)
{
  cairo_new_sub_path (cr);
  cairo_arc (cr, x + w - r, y + r, r, -G_PI / 2, 0);
  cairo_arc (cr, x + w - r, y + h - r, r, 0, G_PI / 2);
  cairo_arc (cr, x + r, y + h - r, r, G_PI / 2, G_PI);
  cairo_arc (cr, x + r, y + r, r, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
}

static void
text_at (cairo_t *cr, PangoLayout *layout, const char *text, const char *font, double x, double y,
         double max_w, gboolean right_align)
{
  PangoFontDescription *fd = pango_font_description_from_string (font);
  pango_layout_set_font_description (layout, fd);
  pango_font_description_free (fd);
  pango_layout_set_text (layout, text, -1);
  pango_layout_set_width (layout, max_w > 0 ? (int) (max_w * PANGO_SCALE) : -1);
  pango_layout_set_ellipsize (layout, max_w > 0 ? PANGO_ELLIPSIZE_END : PANGO_ELLIPSIZE_NONE);
  pango_layout_set_alignment (layout, right_align ? PANGO_ALIGN_RIGHT : PANGO_ALIGN_LEFT);
  int tw, th;
  pango_layout_get_pixel_size (layout, &tw, &th);
  cairo_move_to (cr, x, y - th / 2.0);
  pango_cairo_show_layout (cr, layout);
  /* move_to left a current point; the next arc would draw a line from it. */
  cairo_new_path (cr);
}

/* gradus_scene_edge_point() follows the same curve, for the wire hit test. */
static void
wire_path (cairo_t *cr, double x0, double y0, double x1, double y1)
{
  double dx = MAX (40.0, fabs (x1 - x0) / 2);
  cairo_move_to (cr, x0, y0);
  cairo_curve_to (cr, x0 + dx, y0, x1 - dx, y1, x1, y1);
}

static gboolean
visible (const GradusRenderOptions *o, double x, double y, double w, double h)
{
  if (o->clip_w <= 0)
    return TRUE;
  return x + w >= o->clip_x && y + h >= o->clip_y && x <= o->clip_x + o->clip_w &&
         y <= o->clip_y + o->clip_h;
}

/* "in" / "out" pills at the right of the header of the function's inputs and
 * outputs. Returns the width they take. */
static double
draw_function_marks (cairo_t *cr, PangoLayout *layout, GradusSceneNode *n)
{
  double x = n->x + n->w - 6;
  for (int k = 0; k < 2; k++) {
    gboolean on = k ? n->fn_input : n->fn_output;
    if (!on)
      continue;
    const char *text = k ? "in" : "out";
    double w = k ? 20 : 26;
    x -= w;
    rounded_rect (cr, x, n->y + 4, w, GRADUS_NODE_HEADER - 8, 5);
    cairo_set_source_rgba (cr, 1, 1, 1, 0.9);
    cairo_fill (cr);
    set_rgb (cr, kind_colour (n), 1);
    text_at (cr, layout, text, "Sans Bold 7", x + 4, n->y + GRADUS_NODE_HEADER / 2, 0, FALSE);
    x -= 4;
  }
  cairo_set_source_rgb (cr, 1, 1, 1);
  return n->x + n->w - 6 - x;
}

/* An update: from the output that computes the shared variable's next value
 * back to the variable, dashed, with an arrow head, over the top. */
static void
draw_update (cairo_t *cr, GradusScene *scene, GradusSceneNode *shared, gboolean dark)
{
  double x0, y0;
  gradus_scene_port_pos (scene, shared->update_from, TRUE, shared->update_port, &x0, &y0);
  double x1 = shared->x + shared->w / 2, y1 = shared->y - 2;
  double top = MIN (y0, y1) - 60;
  cairo_move_to (cr, x0, y0);
  cairo_curve_to (cr, x0 + 60, top, x1, top, x1, y1 - 8);
  Rgb c = dark ? hex (0xffa348) : hex (0xc64600);
  set_rgb (cr, c, 0.85);
  double dash[] = { 6, 4 };
  cairo_set_dash (cr, dash, 2, 0);
  cairo_set_line_width (cr, 2);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  cairo_move_to (cr, x1, y1);
  cairo_line_to (cr, x1 - 6, y1 - 10);
  cairo_line_to (cr, x1 + 6, y1 - 10);
  cairo_close_path (cr);
  cairo_fill (cr);
}

static void
draw_node (cairo_t *cr, PangoLayout *layout, GradusSceneNode *n, gboolean dark)
{
  Rgb fg = dark ? hex (0xeeeeee) : hex (0x241f31);
  Rgb card = dark ? hex (0x383838) : hex (0xffffff);
  Rgb head = kind_colour (n);
  Rgb red = hex (0xe01b24);
  Rgb accent = dark ? hex (0x78aeed) : hex (0x3584e4);
  const double r = 8;

  /* Shadow, card, header band. */
  rounded_rect (cr, n->x + 1.5, n->y + 2.5, n->w, n->h, r);
  cairo_set_source_rgba (cr, 0, 0, 0, dark ? 0.35 : 0.12);
  cairo_fill (cr);
  rounded_rect (cr, n->x, n->y, n->w, n->h, r);
  set_rgb (cr, card, 1);
  cairo_fill_preserve (cr);
  cairo_save (cr);
  cairo_clip (cr);
  cairo_rectangle (cr, n->x, n->y, n->w, GRADUS_NODE_HEADER);
  set_rgb (cr, n->error ? red : head, 1);
  cairo_fill (cr);
  cairo_restore (cr);

  rounded_rect (cr, n->x, n->y, n->w, n->h, r);
  if (n->selected) {
    set_rgb (cr, accent, 1);
    cairo_set_line_width (cr, 3);
  } else if (n->error) {
    set_rgb (cr, red, 1);
    cairo_set_line_width (cr, 2);
  } else {
    cairo_set_source_rgba (cr, fg.r, fg.g, fg.b, 0.25);
    cairo_set_line_width (cr, 1);
  }
  if (n->readonly) {
    double dash[] = { 5, 3 };
    cairo_set_dash (cr, dash, 2, 0);
  }
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);

  cairo_set_source_rgb (cr, 1, 1, 1);
  double marks = draw_function_marks (cr, layout, n);
  text_at (cr, layout, n->title, "Sans Bold 10", n->x + 10, n->y + GRADUS_NODE_HEADER / 2,
           n->w - 20 - marks, FALSE);
  set_rgb (cr, fg, 0.6);
  text_at (cr, layout, n->subtitle, "Sans Italic 8", n->x + 10, n->y + GRADUS_NODE_HEADER + 9,
           n->w - 20, FALSE);

  for (gint side = 0; side < 2; side++) {
    GPtrArray *labels = side ? n->out_labels : n->in_labels;
    for (guint k = 0; k < labels->len; k++) {
      double px, py;
      gradus_scene_port_pos_of (n, side, k, &px, &py);
      cairo_new_path (cr);
      cairo_arc (cr, px, py, GRADUS_PORT_RADIUS, 0, 2 * G_PI);
      set_rgb (cr, card, 1);
      cairo_fill_preserve (cr);
      set_rgb (cr, side ? head : fg, side ? 1 : 0.7);
      cairo_set_line_width (cr, 2);
      cairo_stroke (cr);
      set_rgb (cr, fg, 0.9);
      const char *label = labels->pdata[k];
      if (side)
        text_at (cr, layout, label, "Monospace 8", n->x + 10, py, n->w - 20, TRUE);
      else
        text_at (cr, layout, label, "Monospace 8", n->x + 10, py, n->w - 20, FALSE);
    }
  }
  if (n->error) {
    set_rgb (cr, red, 1);
    PangoFontDescription *fd = pango_font_description_from_string ("Sans 8");
    pango_layout_set_font_description (layout, fd);
    pango_font_description_free (fd);
    pango_layout_set_text (layout, n->error, -1);
    pango_layout_set_width (layout, (int) (MAX (n->w, 220) * PANGO_SCALE));
    pango_layout_set_alignment (layout, PANGO_ALIGN_LEFT);
    pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
    pango_layout_set_height (layout, -3);
    pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
    cairo_move_to (cr, n->x, n->y + n->h + 4);
    pango_cairo_show_layout (cr, layout);
    cairo_new_path (cr);
    pango_layout_set_height (layout, -1);
  }
}

/* Zoomed out, the name of a node, `name_px` pixels high on screen. Whole
 * (`whole`): on one line, centred on the box, possibly overhanging it. Else
 * inside the box (4 px margins): shrunk (down to 10 px, 15 px presenting),
 * then on two lines, then shortened with an ellipsis. Sets the layout; gives
 * its origin and the box of its text. */
static void
name_layout (PangoLayout *layout, const GradusSceneNode *n, double zoom, double name_px,
             gboolean whole, double *ox, double *oy, double *x, double *y, double *w, double *h)
{
  const double floor_px = name_px > 13.0 ? 15.0 : 10.0;
  double max_w = MAX (1.0, n->w - 8 / zoom);
  PangoFontDescription *fd = pango_font_description_from_string ("Sans Bold");
  pango_font_description_set_absolute_size (fd, name_px / zoom * PANGO_SCALE);
  pango_layout_set_font_description (layout, fd);
  pango_layout_set_text (layout, n->title, -1);
  pango_layout_set_height (layout, -1);
  pango_layout_set_width (layout, -1);
  pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_NONE);
  pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
  PangoRectangle ink, logical;
  pango_layout_get_pixel_extents (layout, &ink, &logical);
  if (!whole) {
    if (logical.width > max_w) {
      double px = MAX (floor_px, name_px * max_w / logical.width);
      pango_font_description_set_absolute_size (fd, px / zoom * PANGO_SCALE);
      pango_layout_set_font_description (layout, fd);
    }
    pango_layout_set_width (layout, (int) (max_w * PANGO_SCALE));
    pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
    /* Two lines at most, no taller than the box. */
    pango_layout_set_height (layout, -2);
    pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
    pango_layout_get_pixel_extents (layout, &ink, &logical);
    if (logical.height > n->h) {
      pango_layout_set_height (layout, -1);
      pango_layout_get_pixel_extents (layout, &ink, &logical);
    }
  }
  pango_font_description_free (fd);
  *ox = whole ? n->x + n->w / 2 - logical.width / 2.0 : n->x + n->w / 2 - max_w / 2;
  *oy = n->y + n->h / 2 - logical.height / 2.0;
  *x = *ox + logical.x;
  *y = *oy + logical.y;
  *w = logical.width;
  *h = logical.height;
}

typedef struct {
  gboolean shown, whole, cut;   /* cut: shortened with an ellipsis */
  double   x, y, w, h;
  double   dx;    /* a whole name slid sideways to stay within the graph's margin */
} NamePlace;

static gboolean
rects_overlap (double ax, double ay, double aw, double ah, double bx, double by, double bw, double bh)
{
  return ax < bx + bw && bx < ax + aw && ay < by + bh && by < ay + ah;
}

/* Which nodes' names are placed first: the function's inputs and outputs and
 * its parameters, then grad nodes, then the rest. */
static int
name_priority (const GradusSceneNode *n)
{
  if (n->fn_input || n->fn_output || n->kind == GRD_NODE_SHARED)
    return 0;
  if (n->kind == GRD_NODE_GRAD || n->kind == GRD_NODE_VARIABLE)
    return 1;
  return n->readonly ? 3 : 2;
}

/* Names at a zoomed-out view, placed so that none covers another: by
 * priority, each whole where it overlaps no other box and no name already
 * placed, else inside its own box (shrunk, wrapped, shortened), else (a box
 * too narrow for three letters) left out: the box's colour still tells its kind. */
static NamePlace *
place_names (PangoLayout *layout, GradusScene *scene, const GradusRenderOptions *o, double name_px)
{
  double zoom = o->zoom;
  guint n_nodes = scene->nodes->len;
  NamePlace *place = g_new0 (NamePlace, n_nodes);
  g_autofree guint *order = g_new (guint, n_nodes);
  guint k = 0;
  for (int p = 0; p <= 3; p++)
    for (guint i = 0; i < n_nodes; i++)
      if (name_priority (scene->nodes->pdata[i]) == p)
        order[k++] = i;
  /* Whole names stay on screen (4 px in), or in a picture within 30 px of
   * the boxes (its margin). */
  double bx, by, bw, bh, margin;
  if (o->clip_w > 0) {
    margin = -4 / zoom;
    bx = o->clip_x, by = o->clip_y, bw = o->clip_w, bh = o->clip_h;
  } else {
    margin = 30 / zoom;
    if (!gradus_scene_bounds (scene, &bx, &by, &bw, &bh))
      bx = by = bw = bh = 0;
  }
  for (k = 0; k < n_nodes; k++) {
    guint i = order[k];
    GradusSceneNode *n = scene->nodes->pdata[i];
    NamePlace *pl = &place[i];
    if (!n->title || !*n->title)
      continue;
    double ox, oy;
    name_layout (layout, n, zoom, name_px, TRUE, &ox, &oy, &pl->x, &pl->y, &pl->w, &pl->h);
    if (pl->x + pl->w > bx + bw + margin)
      pl->dx = bx + bw + margin - (pl->x + pl->w);
    if (pl->x + pl->dx < bx - margin)
      pl->dx = bx - margin - pl->x;
    pl->x += pl->dx;
    gboolean room = TRUE;
    for (guint j = 0; room && j < n_nodes; j++) {
      GradusSceneNode *m = scene->nodes->pdata[j];
      if (j != i && rects_overlap (pl->x, pl->y, pl->w, pl->h, m->x, m->y, m->w, m->h))
        room = FALSE;
      if (j != i && place[j].shown &&
          rects_overlap (pl->x, pl->y, pl->w, pl->h, place[j].x, place[j].y, place[j].w, place[j].h))
        room = FALSE;
    }
    if (room) {
      pl->shown = pl->whole = TRUE;
      continue;
    }
    pl->dx = 0;
    name_layout (layout, n, zoom, name_px, FALSE, &ox, &oy, &pl->x, &pl->y, &pl->w, &pl->h);
    /* Inside its own box, it can only meet a whole name overhanging into
     * it, which was checked against boxes: never. Three letters or nothing. */
    pl->shown = TRUE;
    pl->cut = pango_layout_is_ellipsized (layout);
    if (pl->cut) {
      /* The characters shown, the ellipsis not counted. */
      PangoLayoutIter *it = pango_layout_get_iter (layout);
      int shown = 0;
      do {
        PangoLayoutRun *run = pango_layout_iter_get_run_readonly (it);
        if (run)
          shown += run->glyphs->num_glyphs;
      } while (pango_layout_iter_next_run (it));
      pango_layout_iter_free (it);
      pl->shown = shown >= 4;
    }
  }
  return place;
}

/* Zoomed out: the box in its kind's colour and the node's name, at a size
 * that stays legible on screen (13 px bold) whatever the zoom. */
static void
draw_node_name_only (cairo_t *cr, PangoLayout *layout, GradusSceneNode *n, gboolean dark,
                     double zoom, double name_px, const NamePlace *place)
{
  Rgb head = kind_colour (n);
  Rgb accent = dark ? hex (0x78aeed) : hex (0x3584e4);
  rounded_rect (cr, n->x, n->y, n->w, n->h, 8);
  set_rgb (cr, n->error ? hex (0xe01b24) : head, 1);
  cairo_fill_preserve (cr);
  if (n->selected) {
    set_rgb (cr, accent, 1);
    cairo_set_line_width (cr, 4 / zoom);
    cairo_stroke (cr);
  }
  cairo_new_path (cr);
  if (!place->shown)
    return;
  double x, y, tx, ty, tw, th;
  name_layout (layout, n, zoom, name_px, place->whole, &x, &y, &tx, &ty, &tw, &th);
  x += place->dx;
  /* A halo of the page's colour keeps the name readable over wires. */
  cairo_move_to (cr, x, y);
  pango_cairo_layout_path (cr, layout);
  set_rgb (cr, dark ? hex (0x1e1e1e) : hex (0xffffff), 0.9);
  cairo_set_line_width (cr, 3 / zoom);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_stroke (cr);
  cairo_move_to (cr, x, y);
  set_rgb (cr, dark ? hex (0xffffff) : hex (0x241f31), 1);
  pango_cairo_show_layout (cr, layout);
  cairo_new_path (cr);
  pango_layout_set_alignment (layout, PANGO_ALIGN_LEFT);
  pango_layout_set_height (layout, -1);
  pango_layout_set_width (layout, -1);
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD);
  pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_NONE);
}

gboolean
gradus_render_name_is_whole (GradusScene *scene, const GradusRenderOptions *o, guint node)
{
  g_return_val_if_fail (scene && o && node < scene->nodes->len, TRUE);
  gboolean names_only = o->zoom > 0 && o->zoom < (o->presentation ? GRADUS_RENDER_PRESENT_NAME_ONLY_ZOOM
                                                                  : GRADUS_RENDER_NAME_ONLY_ZOOM);
  if (!names_only)
    return TRUE;
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (surface);
  PangoLayout *layout = pango_cairo_create_layout (cr);
  g_autofree NamePlace *place =
    place_names (layout, scene, o, o->presentation ? GRADUS_RENDER_PRESENT_NAME_PX : 13.0);
  gboolean whole = place[node].shown && !place[node].cut;
  g_object_unref (layout);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
  return whole;
}

/* The box `text_at` would draw `text` in. */
static void
text_rect (PangoLayout *layout, const char *text, const char *font, double x, double y,
           double max_w, gboolean right_align, GArray *out, gint node)
{
  if (!text || !*text)
    return;
  PangoFontDescription *fd = pango_font_description_from_string (font);
  pango_layout_set_font_description (layout, fd);
  pango_font_description_free (fd);
  pango_layout_set_text (layout, text, -1);
  pango_layout_set_width (layout, max_w > 0 ? (int) (max_w * PANGO_SCALE) : -1);
  pango_layout_set_ellipsize (layout, max_w > 0 ? PANGO_ELLIPSIZE_END : PANGO_ELLIPSIZE_NONE);
  pango_layout_set_alignment (layout, right_align ? PANGO_ALIGN_RIGHT : PANGO_ALIGN_LEFT);
  PangoRectangle ink, logical;
  pango_layout_get_pixel_extents (layout, &ink, &logical);
  int tw, th;
  pango_layout_get_pixel_size (layout, &tw, &th);
  GradusLabelRect r = { x + logical.x, y - th / 2.0, logical.width, th, node };
  g_array_append_val (out, r);
}

void
gradus_render_label_rects (GradusScene *scene, const GradusRenderOptions *o, GArray *out)
{
  g_return_if_fail (scene && o && out);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (surface);
  PangoLayout *layout = pango_cairo_create_layout (cr);
  gboolean names_only = o->zoom > 0 && o->zoom < (o->presentation ? GRADUS_RENDER_PRESENT_NAME_ONLY_ZOOM
                                                                  : GRADUS_RENDER_NAME_ONLY_ZOOM);
  g_autofree NamePlace *place = names_only
    ? place_names (layout, scene, o, o->presentation ? GRADUS_RENDER_PRESENT_NAME_PX : 13.0)
    : NULL;
  for (guint i = 0; i < scene->nodes->len; i++) {
    GradusSceneNode *n = scene->nodes->pdata[i];
    if (names_only) {
      GradusLabelRect r = { place[i].x, place[i].y, place[i].w, place[i].h, (gint) i };
      if (place[i].shown)
        g_array_append_val (out, r);
      continue;
    }
    /* As draw_node places them; the marks' width as draw_function_marks takes. */
    double marks = (n->fn_input ? 24 : 0) + (n->fn_output ? 30 : 0);
    text_rect (layout, n->title, "Sans Bold 10", n->x + 10, n->y + GRADUS_NODE_HEADER / 2,
               n->w - 20 - marks, FALSE, out, (gint) i);
    text_rect (layout, n->subtitle, "Sans Italic 8", n->x + 10, n->y + GRADUS_NODE_HEADER + 9,
               n->w - 20, FALSE, out, (gint) i);
    for (gint side = 0; side < 2; side++) {
      GPtrArray *labels = side ? n->out_labels : n->in_labels;
      for (guint k = 0; k < labels->len; k++) {
        double px, py;
        gradus_scene_port_pos_of (n, side, k, &px, &py);
        text_rect (layout, labels->pdata[k], "Monospace 8", n->x + 10, py, n->w - 20, side, out,
                   (gint) i);
      }
    }
  }
  g_object_unref (layout);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

/* The colour of a wire: the dtype it carries (read from its output port's
 * label, "out  float32[3]"), so that a float32 wire into a float64 input shows. */
static Rgb
dtype_colour (const char *label, Rgb fallback)
{
  if (!label)
    return fallback;
  if (strstr (label, "float64"))
    return hex (0x1c71d8);
  if (strstr (label, "float32"))
    return hex (0x26a269);
  if (strstr (label, "int64"))
    return hex (0xc64600);
  if (strstr (label, "int32"))
    return hex (0xe5a50a);
  if (strstr (label, "bool"))
    return hex (0xe01b24);
  return fallback;
}

void
gradus_render_scene (cairo_t *cr, GradusScene *scene, const GradusRenderOptions *o)
{
  PangoLayout *layout = pango_cairo_create_layout (cr);
  Rgb fg = o->dark ? hex (0xeeeeee) : hex (0x241f31);
  Rgb purple = hex (0xa347ba);

  /* the user's frames first: below gradient frames, wires and nodes */
  gradus_organise_draw_frames (cr, scene->frames, o->dark);
  for (guint i = 0; i < scene->groups->len; i++) {
    GradusSceneGroup *g = scene->groups->pdata[i];
    if (!visible (o, g->x, g->y, g->w, g->h))
      continue;
    rounded_rect (cr, g->x, g->y, g->w, g->h, 12);
    set_rgb (cr, purple, o->dark ? 0.15 : 0.07);
    cairo_fill_preserve (cr);
    set_rgb (cr, purple, 0.7);
    cairo_set_line_width (cr, 1.5);
    double dash[] = { 8, 4 };
    cairo_set_dash (cr, dash, 2, 0);
    cairo_stroke (cr);
    cairo_set_dash (cr, NULL, 0, 0);
    set_rgb (cr, purple, 1);
    text_at (cr, layout, g->title, "Sans Bold 10", g->x + 14, g->y + 18, g->w - 28, FALSE);
  }
  gradus_scan_draw_under (cr, scene, o->dark);   /* scans' zones (ui/scan) */

  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  for (guint i = 0; i < scene->edges->len; i++) {
    GradusSceneEdge *e = &g_array_index (scene->edges, GradusSceneEdge, i);
    double x0, y0, x1, y1;
    gradus_scene_port_pos (scene, e->from, TRUE, e->from_port, &x0, &y0);
    gradus_scene_port_pos (scene, e->to, e->to_output, e->to_port, &x1, &y1);
    if (!visible (o, MIN (x0, x1) - 80, MIN (y0, y1) - 10, fabs (x1 - x0) + 160, fabs (y1 - y0) + 20))
      continue;
    if (e->to_output) {
      /* Derivative to the grad output it feeds: a dashed straight hint. */
      double dash[] = { 4, 4 };
      cairo_set_dash (cr, dash, 2, 0);
      cairo_move_to (cr, x0, y0);
      cairo_line_to (cr, x1, y1);
      set_rgb (cr, purple, 0.8);
      cairo_set_line_width (cr, 1.5);
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);
      continue;
    }
    wire_path (cr, x0, y0, x1, y1);
    GradusSceneNode *src = scene->nodes->pdata[e->from];
    const char *label = e->from_port >= 0 && (guint) e->from_port < src->out_labels->len
                        ? src->out_labels->pdata[e->from_port] : NULL;
    if (e->derived)
      set_rgb (cr, purple, 0.75);
    else
      set_rgb (cr, dtype_colour (label, fg), 0.8);
    cairo_set_line_width (cr, 2);
    cairo_stroke (cr);
  }
  for (guint i = 0; i < scene->nodes->len; i++) {
    GradusSceneNode *n = scene->nodes->pdata[i];
    if (n->update_from >= 0)
      draw_update (cr, scene, n, o->dark);
  }
  if (o->wire) {
    wire_path (cr, o->wire_x0, o->wire_y0, o->wire_x1, o->wire_y1);
    set_rgb (cr, o->dark ? hex (0x78aeed) : hex (0x3584e4), 1);
    cairo_set_line_width (cr, 2.5);
    cairo_stroke (cr);
  }

  gboolean names_only = o->zoom > 0 && o->zoom < (o->presentation ? GRADUS_RENDER_PRESENT_NAME_ONLY_ZOOM
                                                                  : GRADUS_RENDER_NAME_ONLY_ZOOM);
  double name_px = o->presentation ? GRADUS_RENDER_PRESENT_NAME_PX : 13.0;
  g_autofree NamePlace *place = names_only ? place_names (layout, scene, o, name_px) : NULL;
  for (guint i = 0; i < scene->nodes->len; i++) {
    GradusSceneNode *n = scene->nodes->pdata[i];
    if (!visible (o, n->x - 30, n->y - 10, MAX (n->w, 220) + 60, n->h + 60))
      continue;
    if (names_only)
      draw_node_name_only (cr, layout, n, o->dark, o->zoom, name_px, &place[i]);
    else
      draw_node (cr, layout, n, o->dark);
  }
  if (!(o->zoom > 0 && o->zoom < (o->presentation ? GRADUS_RENDER_PRESENT_NAME_ONLY_ZOOM
                                                   : GRADUS_RENDER_NAME_ONLY_ZOOM)))
    gradus_scan_draw_over (cr, scene, NULL, o->dark);   /* strips, histograms (ui/scan) */
  gradus_organise_draw_comments (cr, scene->comments, o->dark);
  g_object_unref (layout);
}

/* Cairo writes text as glyph outlines; searchable, selectable node ids in the
 * SVG need real <text> elements, added invisibly over the boxes. */
static gboolean
add_svg_text (GradusScene *scene, const char *path, double ox, double oy, GError **error)
{
  g_autofree char *svg = NULL;
  if (!g_file_get_contents (path, &svg, NULL, error))
    return FALSE;
  char *end = g_strrstr (svg, "</svg>");
  if (!end) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("%s: cairo wrote no SVG"), path);
    return FALSE;
  }
  GString *out = g_string_new_len (svg, end - svg);
  g_autofree char *title = g_markup_escape_text (scene->title, -1);
  g_string_append_printf (out, "<title>%s</title>\n<g id=\"gradus-node-ids\" fill-opacity=\"0\" font-size=\"13\">\n", title);
  for (guint i = 0; i < scene->nodes->len; i++) {
    GradusSceneNode *n = scene->nodes->pdata[i];
    g_autofree char *id = g_markup_escape_text (n->id, -1);
    g_string_append_printf (out, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", n->x - ox + 10,
                            n->y - oy + 20, id);
  }
  g_string_append (out, "</g>\n");
  g_string_append (out, end);
  gboolean ok = g_file_set_contents (path, out->str, out->len, error);
  g_string_free (out, TRUE);
  return ok;
}

gboolean
gradus_render_to_file (GradusScene *scene, const char *format, const char *path, double scale,
                       gboolean dark, GError **error)
{
  double bx, by, bw, bh;
  if (!gradus_scene_bounds (scene, &bx, &by, &bw, &bh))
    bx = by = 0, bw = bh = 100;
  const double margin = 30;
  double ox = bx - margin, oy = by - margin - 10;   /* room for the shadow and title */
  double w = bw + 2 * margin, h = bh + 2 * margin + 10;
  /* A graph the engine cannot build says why above the picture. */
  double banner_h = scene->banner ? 40 : 0;
  oy -= banner_h;
  h += banner_h;
  if (scene->banner)
    w = MAX (w, 700);
  cairo_surface_t *surface;
  /* Big graphs: keep pictures under about 24 megapixels. */
  if (w * h * scale * scale > 24e6)
    scale = MAX (0.25, sqrt (24e6 / (w * h)));
  if (g_str_equal (format, "png"))
    surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, (int) ceil (w * scale),
                                          (int) ceil (h * scale));
  else if (g_str_equal (format, "svg"))
    surface = cairo_svg_surface_create (path, w, h);
  else if (g_str_equal (format, "pdf"))
    surface = cairo_pdf_surface_create (path, w, h);
  else {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                 _("cannot export to '%s' (png, svg, pdf or dot)"), format);
    return FALSE;
  }
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", path,
                 cairo_status_to_string (cairo_surface_status (surface)));
    cairo_surface_destroy (surface);
    return FALSE;
  }
  if (g_str_equal (format, "pdf"))
    cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_TITLE, scene->title);
  cairo_t *cr = cairo_create (surface);
  if (g_str_equal (format, "png"))
    cairo_scale (cr, scale, scale);
  cairo_set_source_rgb (cr, dark ? 0.14 : 1, dark ? 0.14 : 1, dark ? 0.14 : 1);
  cairo_paint (cr);
  cairo_translate (cr, -ox, -oy);
  GradusRenderOptions o = { .dark = dark };
  gradus_render_scene (cr, scene, &o);
  if (scene->banner) {
    PangoLayout *layout = pango_cairo_create_layout (cr);
    g_autofree char *text = g_strdup_printf (_("The graph cannot be built: %s"), scene->banner);
    cairo_set_source_rgb (cr, 0.88, 0.11, 0.14);
    text_at (cr, layout, text, "Sans 10", ox + margin, oy + 20, w - 2 * margin, FALSE);
    g_object_unref (layout);
  }
  cairo_destroy (cr);

  cairo_status_t st = CAIRO_STATUS_SUCCESS;
  if (g_str_equal (format, "png"))
    st = cairo_surface_write_to_png (surface, path);
  cairo_surface_finish (surface);
  if (st == CAIRO_STATUS_SUCCESS)
    st = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  if (st != CAIRO_STATUS_SUCCESS) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", path, cairo_status_to_string (st));
    return FALSE;
  }
  if (g_str_equal (format, "svg"))
    return add_svg_text (scene, path, ox, oy, error);
  return TRUE;
}
