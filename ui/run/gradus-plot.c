/* gradus-plot.c: GradusPlot, the Cairo plots of the run panel.
 *
 * Long runs stay smooth: every value is stored (by the owner), but a line is
 * drawn decimated, as the min and max of the calls that fall in each pixel
 * column, and redraws are queued, so GTK draws at most once per frame. */
#include "gradus-plot.h"

#include <cairo-svg.h>
#include <glib/gi18n.h>
#include <string.h>
#include <math.h>
#include <pango/pangocairo.h>

#define MARGIN_LEFT   58.0
#define MARGIN_RIGHT  12.0
#define MARGIN_TOP    10.0
#define MARGIN_BOTTOM 26.0

typedef struct {
  char    *name;
  GArray  *values;
  gboolean sparse;   /* NaN is "no value at that call": points joined over the gaps */
} Series;

struct _GradusPlot {
  GtkWidget      parent_instance;

  GradusPlotMode mode;
  char          *title;
  GPtrArray     *series;       /* Series*, LINES */
  double        *value;        /* VECTOR, HEATMAP: latest value */
  gint64         rows, cols;   /* its shape as a matrix (rows 1 for vectors) */

  gboolean       log_scale;
  gboolean       zoomed;
  double         x_lo, x_hi;

  gboolean       hover;
  double         hover_x, hover_y;
  gboolean       dragging;
  double         drag_x0, drag_x1;
  guint          n_draws;
  gboolean       dark;         /* the widget's text is light: the theme is dark */
  double         text_scale;   /* 1, or more when presenting */
  int            tick_h, legend_h;   /* measured at the last drawing */
  gboolean       has_legend;
  graphene_rect_t legend;      /* where the last drawing put the legend */
};

G_DEFINE_FINAL_TYPE (GradusPlot, gradus_plot, GTK_TYPE_WIDGET)

static const double palette[][3] = {
  { 0.11, 0.44, 0.85 }, { 0.90, 0.38, 0.00 }, { 0.18, 0.63, 0.17 }, { 0.84, 0.15, 0.16 },
  { 0.58, 0.40, 0.74 }, { 0.55, 0.34, 0.29 }, { 0.89, 0.47, 0.76 }, { 0.50, 0.50, 0.50 },
};

static void
series_free (gpointer data)
{
  Series *s = data;
  g_free (s->name);
  g_array_unref (s->values);
  g_free (s);
}

/* ---------------------------------------------------------------- scales */

typedef struct {
  double x0, x1;     /* data range shown */
  double y0, y1;     /* in scale units (log10 when log) */
  double px, py, pw, ph;
  gboolean log;
  double ink, paper;   /* grey levels of text and lines, and of the background */
  double text;         /* text size factor (presentation: larger) */
  int   *tick_h, *legend_h;   /* out: pixel height of the tallest tick label and legend line drawn */
} Frame;

static double
scale_y (const Frame *f, double v)
{
  return f->log ? log10 (v) : v;
}

static gboolean
usable (const Frame *f, double v)
{
  return isfinite (v) && (!f->log || v > 0);
}

static double
to_px (const Frame *f, double x)
{
  double span = f->x1 - f->x0;
  return f->px + (span > 0 ? (x - f->x0) / span : 0.5) * f->pw;
}

static double
to_py (const Frame *f, double y_scaled)
{
  double span = f->y1 - f->y0;
  return f->py + f->ph - (span > 0 ? (y_scaled - f->y0) / span : 0.5) * f->ph;
}

static double
from_px (const Frame *f, double px)
{
  return f->x0 + (px - f->px) / MAX (f->pw, 1) * (f->x1 - f->x0);
}

/* A step of 1, 2 or 5 times a power of ten giving about `target` ticks. */
static double
nice_step (double range, int target)
{
  double raw = range / MAX (target, 1);
  if (!(raw > 0) || !isfinite (raw))
    return 1;
  double mag = pow (10, floor (log10 (raw)));
  double r = raw / mag;
  return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
}

static void
format_number (char *buf, gsize size, double v)
{
  if (fabs (v) < 1e-12)
    v = 0;
  g_snprintf (buf, size, "%.4g", v);
}

/* ---------------------------------------------------------------- text */

static int
draw_text (cairo_t *cr, double x, double y, const char *text, double align_x, double align_y,
           double size)
{
  PangoLayout *layout = pango_cairo_create_layout (cr);
  PangoFontDescription *font = pango_font_description_from_string ("Sans");
  pango_font_description_set_absolute_size (font, size * PANGO_SCALE);
  pango_layout_set_font_description (layout, font);
  pango_layout_set_text (layout, text, -1);
  int w, h;
  pango_layout_get_pixel_size (layout, &w, &h);
  cairo_move_to (cr, x - align_x * w, y - align_y * h);
  pango_cairo_show_layout (cr, layout);
  pango_font_description_free (font);
  g_object_unref (layout);
  return h;
}

static void
text_size (cairo_t *cr, const char *text, double size, int *w, int *h)
{
  PangoLayout *layout = pango_cairo_create_layout (cr);
  PangoFontDescription *font = pango_font_description_from_string ("Sans");
  pango_font_description_set_absolute_size (font, size * PANGO_SCALE);
  pango_layout_set_font_description (layout, font);
  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, w, h);
  pango_font_description_free (font);
  g_object_unref (layout);
}

/* A box of lines of text near (x, y), kept inside the plot area. */
static void
draw_readout (cairo_t *cr, const Frame *f, double x, double y, GPtrArray *lines)
{
  int w = 0, h = 0;
  for (guint i = 0; i < lines->len; i++) {
    int lw, lh;
    text_size (cr, g_ptr_array_index (lines, i), 11 * f->text, &lw, &lh);
    w = MAX (w, lw);
    h += lh;
  }
  double bx = x + 10, by = y + 10;
  if (bx + w + 8 > f->px + f->pw)
    bx = x - 10 - w - 8;
  if (by + h + 6 > f->py + f->ph)
    by = MAX (f->py, y - 10 - h - 6);
  cairo_set_source_rgba (cr, f->paper, f->paper, f->paper, 0.92);
  cairo_rectangle (cr, bx, by, w + 8, h + 6);
  cairo_fill_preserve (cr);
  cairo_set_source_rgba (cr, f->ink, f->ink, f->ink, 0.4);
  cairo_set_line_width (cr, 1);
  cairo_stroke (cr);
  double ty = by + 3;
  for (guint i = 0; i < lines->len; i++) {
    int lw, lh;
    const char *line = g_ptr_array_index (lines, i);
    text_size (cr, line, 11 * f->text, &lw, &lh);
    cairo_set_source_rgba (cr, f->ink, f->ink, f->ink, 0.9);
    draw_text (cr, bx + 4, ty, line, 0, 0, 11 * f->text);
    ty += lh;
  }
}

/* ---------------------------------------------------------------- axes */

static void
draw_axes (cairo_t *cr, const Frame *f, const char *x_label)
{
  char buf[64];
  cairo_set_line_width (cr, 1);

  /* y ticks: powers of ten on a log scale, nice steps otherwise. */
  double span = f->y1 - f->y0;
  /* As many ticks as fit their labels' height (five at most): large text on
   * a short plot gets fewer, not overlapping ones. */
  int n_ticks = CLAMP ((int) (f->ph / (14 * f->text)), 2, 5);
  double step = f->log ? MAX (1, ceil (nice_step (span, n_ticks))) : nice_step (span, n_ticks);
  for (double t = ceil (f->y0 / step) * step; t <= f->y1 + step * 1e-9; t += step) {
    double y = round (to_py (f, t)) + 0.5;
    cairo_set_source_rgba (cr, f->ink, f->ink, f->ink, 0.08);
    cairo_move_to (cr, f->px, y);
    cairo_line_to (cr, f->px + f->pw, y);
    cairo_stroke (cr);
    cairo_set_source_rgba (cr, f->ink, f->ink, f->ink, 0.6);
    cairo_move_to (cr, f->px - 4, y);
    cairo_line_to (cr, f->px, y);
    cairo_stroke (cr);
    if (f->log)
      g_snprintf (buf, sizeof buf, "1e%d", (int) round (t));
    else
      format_number (buf, sizeof buf, t);
    int th = draw_text (cr, f->px - 6, y, buf, 1, 0.5, 10 * f->text);
    if (f->tick_h)
      *f->tick_h = MAX (*f->tick_h, th);
  }

  /* x ticks */
  double xspan = f->x1 - f->x0;
  double xstep = MAX (nice_step (xspan, 6), x_label ? 1 : 0);
  for (double t = ceil (f->x0 / xstep) * xstep; t <= f->x1 + xstep * 1e-9; t += xstep) {
    double x = round (to_px (f, t)) + 0.5;
    cairo_set_source_rgba (cr, f->ink, f->ink, f->ink, 0.6);
    cairo_move_to (cr, x, f->py + f->ph);
    cairo_line_to (cr, x, f->py + f->ph + 4);
    cairo_stroke (cr);
    format_number (buf, sizeof buf, t);
    draw_text (cr, x, f->py + f->ph + 5, buf, 0.5, 0, 10 * f->text);
  }
  /* Under the y labels, where no x tick label can be. */
  if (x_label)
    draw_text (cr, f->px - 8, f->py + f->ph + 5, x_label, 1, 0, 10 * f->text);

  cairo_set_source_rgba (cr, f->ink, f->ink, f->ink, 0.6);
  cairo_rectangle (cr, f->px + 0.5, f->py + 0.5, f->pw - 1, f->ph - 1);
  cairo_stroke (cr);
}

/* ---------------------------------------------------------------- lines */

static guint
max_length (GradusPlot *self)
{
  guint n = 0;
  for (guint i = 0; i < self->series->len; i++)
    n = MAX (n, ((Series *) g_ptr_array_index (self->series, i))->values->len);
  return n;
}

/* The calls in [lo, hi] of a series: clamped indices. */
static gboolean
index_range (GArray *values, double lo, double hi, guint *a, guint *b)
{
  if (values->len == 0 || hi < 0 || lo > values->len - 1)
    return FALSE;
  *a = (guint) MAX (0, floor (lo));
  *b = (guint) MIN ((double) values->len - 1, ceil (hi));
  return *a <= *b;
}

/* A series with values at some calls only (a function called every N
 * calls): each value a dot, joined by a line across the calls between. */
static void
draw_sparse_series (cairo_t *cr, const Frame *f, GArray *values)
{
  guint a, b;
  if (!index_range (values, f->x0, f->x1, &a, &b))
    return;
  const double *v = (const double *) values->data;
  gboolean pen = FALSE;
  for (guint i = a; i <= b; i++) {
    if (!usable (f, v[i]))
      continue;
    double x = to_px (f, i), y = to_py (f, scale_y (f, v[i]));
    if (pen)
      cairo_line_to (cr, x, y);
    else
      cairo_move_to (cr, x, y);
    pen = TRUE;
  }
  cairo_stroke (cr);
  for (guint i = a; i <= b; i++)
    if (usable (f, v[i])) {
      cairo_new_sub_path (cr);
      cairo_arc (cr, to_px (f, i), to_py (f, scale_y (f, v[i])), 2.5, 0, 2 * G_PI);
    }
  cairo_fill (cr);
}

static void
draw_series (cairo_t *cr, const Frame *f, GArray *values)
{
  guint a, b;
  if (!index_range (values, f->x0, f->x1, &a, &b))
    return;
  const double *v = (const double *) values->data;
  gboolean pen = FALSE;
  if ((double) (b - a + 1) <= 2 * f->pw) {
    for (guint i = a; i <= b; i++) {
      if (!usable (f, v[i])) {
        pen = FALSE;
        continue;
      }
      double x = to_px (f, i), y = to_py (f, scale_y (f, v[i]));
      if (pen)
        cairo_line_to (cr, x, y);
      else
        cairo_move_to (cr, x, y);
      pen = TRUE;
    }
    if (b == a && usable (f, v[a]))
      cairo_arc (cr, to_px (f, a), to_py (f, scale_y (f, v[a])), 2.5, 0, 2 * G_PI);
  } else {
    /* Min and max of the calls in each pixel column. */
    int columns = (int) ceil (f->pw);
    guint i = a;
    for (int c = 0; c < columns && i <= b; c++) {
      double end = from_px (f, f->px + c + 1);
      double lo = INFINITY, hi = -INFINITY;
      for (; i <= b && (double) i < end; i++)
        if (usable (f, v[i])) {
          double s = scale_y (f, v[i]);
          lo = MIN (lo, s);
          hi = MAX (hi, s);
        }
      if (lo > hi) {
        pen = FALSE;
        continue;
      }
      double x = f->px + c + 0.5;
      if (pen)
        cairo_line_to (cr, x, to_py (f, hi));
      else
        cairo_move_to (cr, x, to_py (f, hi));
      cairo_line_to (cr, x, to_py (f, lo));
      pen = TRUE;
    }
  }
  cairo_stroke (cr);
}

static void
finish_y_range (Frame *f, double lo, double hi)
{
  if (lo > hi) {
    lo = 0;
    hi = 1;
  }
  if (hi - lo < 1e-12 * MAX (1, fabs (hi))) {
    double pad = f->log ? 0.5 : MAX (fabs (hi) * 0.1, 1e-3);
    lo -= pad;
    hi += pad;
  } else {
    double pad = (hi - lo) * 0.05;
    lo -= pad;
    hi += pad;
  }
  f->y0 = lo;
  f->y1 = hi;
}

static void
draw_lines (GradusPlot *self, cairo_t *cr, Frame *f)
{
  guint n = max_length (self);
  if (self->zoomed) {
    f->x0 = self->x_lo;
    f->x1 = self->x_hi;
  } else {
    f->x0 = 0;
    f->x1 = MAX ((double) n - 1, 1);
  }
  double lo = INFINITY, hi = -INFINITY;
  for (guint s = 0; s < self->series->len; s++) {
    GArray *values = ((Series *) g_ptr_array_index (self->series, s))->values;
    guint a, b;
    if (!index_range (values, f->x0, f->x1, &a, &b))
      continue;
    for (guint i = a; i <= b; i++) {
      double v = g_array_index (values, double, i);
      if (usable (f, v)) {
        lo = MIN (lo, scale_y (f, v));
        hi = MAX (hi, scale_y (f, v));
      }
    }
  }
  finish_y_range (f, lo, hi);
  draw_axes (cr, f, _("call"));

  cairo_save (cr);
  cairo_rectangle (cr, f->px, f->py, f->pw, f->ph);
  cairo_clip (cr);
  cairo_set_line_width (cr, 1.5);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  for (guint s = 0; s < self->series->len; s++) {
    const double *c = palette[s % G_N_ELEMENTS (palette)];
    cairo_set_source_rgb (cr, c[0], c[1], c[2]);
    Series *series = g_ptr_array_index (self->series, s);
    if (series->sparse)
      draw_sparse_series (cr, f, series->values);
    else
      draw_series (cr, f, series->values);
  }
  cairo_restore (cr);

  /* Legend, top right. */
  double ly = f->py + 6;
  for (guint s = 0; s < self->series->len; s++) {
    Series *series = g_ptr_array_index (self->series, s);
    const double *c = palette[s % G_N_ELEMENTS (palette)];
    int w, h;
    text_size (cr, series->name, 11 * f->text, &w, &h);
    if (f->legend_h)
      *f->legend_h = MAX (*f->legend_h, h);
    double lx = f->px + f->pw - 8 - w;
    cairo_set_source_rgba (cr, f->paper, f->paper, f->paper, 0.8);
    cairo_rectangle (cr, lx - 22, ly - 1, w + 26, h + 2);
    cairo_fill (cr);
    graphene_rect_t line = GRAPHENE_RECT_INIT (lx - 22, ly - 1, w + 26, h + 2);
    if (self->has_legend)
      graphene_rect_union (&self->legend, &line, &self->legend);
    else
      self->legend = line;
    self->has_legend = TRUE;
    cairo_set_source_rgb (cr, c[0], c[1], c[2]);
    cairo_set_line_width (cr, 2);
    cairo_move_to (cr, lx - 20, ly + h / 2.0);
    cairo_line_to (cr, lx - 4, ly + h / 2.0);
    cairo_stroke (cr);
    cairo_set_source_rgba (cr, f->ink, f->ink, f->ink, 0.9);
    draw_text (cr, lx, ly, series->name, 0, 0, 11 * f->text);
    ly += h + 2;
  }

  if (n == 0) {
    cairo_set_source_rgba (cr, f->ink, f->ink, f->ink, 0.6);
    /* Below the legend when the plot is short (large text). */
    double cy = MIN (MAX (f->py + f->ph / 2, ly + 10 * f->text), f->py + f->ph - 8 * f->text);
    draw_text (cr, f->px + f->pw / 2, cy, _("no calls yet"), 0.5, 0.5, 12 * f->text);
  }

  if (self->dragging) {
    double a = MIN (self->drag_x0, self->drag_x1), b = MAX (self->drag_x0, self->drag_x1);
    cairo_set_source_rgba (cr, 0.2, 0.4, 0.9, 0.15);
    cairo_rectangle (cr, a, f->py, b - a, f->ph);
    cairo_fill (cr);
  } else if (self->hover && n > 0 && self->hover_x >= f->px && self->hover_x <= f->px + f->pw) {
    double call = round (from_px (f, self->hover_x));
    call = CLAMP (call, 0, (double) n - 1);
    double x = round (to_px (f, call)) + 0.5;
    cairo_set_source_rgba (cr, f->ink, f->ink, f->ink, 0.35);
    cairo_set_line_width (cr, 1);
    cairo_move_to (cr, x, f->py);
    cairo_line_to (cr, x, f->py + f->ph);
    cairo_stroke (cr);
    g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
    g_ptr_array_add (lines, g_strdup_printf (_("call %.0f"), call));
    for (guint s = 0; s < self->series->len; s++) {
      Series *series = g_ptr_array_index (self->series, s);
      if (call < series->values->len) {
        double v = g_array_index (series->values, double, (guint) call);
        g_ptr_array_add (lines, g_strdup_printf ("%s: %.6g", series->name, v));
        if (usable (f, v)) {
          const double *c = palette[s % G_N_ELEMENTS (palette)];
          cairo_set_source_rgb (cr, c[0], c[1], c[2]);
          cairo_arc (cr, x, to_py (f, scale_y (f, v)), 3, 0, 2 * G_PI);
          cairo_fill (cr);
        }
      }
    }
    draw_readout (cr, f, self->hover_x, self->hover_y, lines);
  }
}

/* ---------------------------------------------------------------- vector */

static void
draw_vector (GradusPlot *self, cairo_t *cr, Frame *f)
{
  gint64 n = self->value ? self->cols : 0;
  f->x0 = 0;
  f->x1 = MAX ((double) n - 1, 1);
  double lo = INFINITY, hi = -INFINITY;
  for (gint64 i = 0; i < n; i++)
    if (usable (f, self->value[i])) {
      lo = MIN (lo, scale_y (f, self->value[i]));
      hi = MAX (hi, scale_y (f, self->value[i]));
    }
  finish_y_range (f, lo, hi);
  draw_axes (cr, f, _("index"));
  if (n == 0)
    return;

  GArray view = { .data = (gchar *) self->value, .len = (guint) n };
  cairo_save (cr);
  cairo_rectangle (cr, f->px, f->py, f->pw, f->ph);
  cairo_clip (cr);
  cairo_set_source_rgb (cr, palette[0][0], palette[0][1], palette[0][2]);
  cairo_set_line_width (cr, 1.5);
  draw_series (cr, f, &view);
  cairo_restore (cr);

  if (self->hover && self->hover_x >= f->px && self->hover_x <= f->px + f->pw) {
    gint64 i = (gint64) CLAMP (round (from_px (f, self->hover_x)), 0, (double) n - 1);
    g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
    g_ptr_array_add (lines, g_strdup_printf ("[%" G_GINT64_FORMAT "] %.6g", i, self->value[i]));
    draw_readout (cr, f, self->hover_x, self->hover_y, lines);
  }
}

/* ---------------------------------------------------------------- heatmap */

/* Blue (low) to white to red (high). */
static void
heat_colour (double t, guint8 *r, guint8 *g, guint8 *b)
{
  t = CLAMP (t, 0, 1);
  double rr, gg, bb;
  if (t < 0.5) {
    double u = t / 0.5;
    rr = 0.15 + 0.85 * u;
    gg = 0.30 + 0.70 * u;
    bb = 0.75 + 0.25 * u;
  } else {
    double u = (t - 0.5) / 0.5;
    rr = 1.0 - 0.20 * u;
    gg = 1.0 - 0.80 * u;
    bb = 1.0 - 0.85 * u;
  }
  *r = (guint8) (rr * 255);
  *g = (guint8) (gg * 255);
  *b = (guint8) (bb * 255);
}

static void
draw_heatmap (GradusPlot *self, cairo_t *cr, Frame *f)
{
  char buf[64];
  if (!self->value || self->rows == 0 || self->cols == 0) {
    draw_text (cr, f->px + f->pw / 2, f->py + f->ph / 2, _("no value yet"), 0.5, 0.5, 12 * f->text);
    return;
  }
  /* Leave room for the colour bar. */
  f->pw -= 50 * f->text;
  double lo = INFINITY, hi = -INFINITY;
  gint64 n = self->rows * self->cols;
  for (gint64 i = 0; i < n; i++)
    if (isfinite (self->value[i])) {
      lo = MIN (lo, self->value[i]);
      hi = MAX (hi, self->value[i]);
    }
  if (lo > hi)
    lo = hi = 0;

  cairo_surface_t *img = cairo_image_surface_create (CAIRO_FORMAT_RGB24, (int) self->cols,
                                                     (int) self->rows);
  guint8 *pixels = cairo_image_surface_get_data (img);
  int stride = cairo_image_surface_get_stride (img);
  cairo_surface_flush (img);
  for (gint64 r = 0; r < self->rows; r++)
    for (gint64 c = 0; c < self->cols; c++) {
      double v = self->value[r * self->cols + c];
      guint8 R = 0, G = 0, B = 0;
      if (isfinite (v))
        heat_colour (hi > lo ? (v - lo) / (hi - lo) : 0.5, &R, &G, &B);
      else
        G = 200; /* non-finite: green stands out on the blue-red scale */
      guint32 *p = (guint32 *) (pixels + r * stride) + c;
      *p = ((guint32) R << 16) | ((guint32) G << 8) | B;
    }
  cairo_surface_mark_dirty (img);

  cairo_save (cr);
  cairo_translate (cr, f->px, f->py);
  cairo_scale (cr, f->pw / self->cols, f->ph / self->rows);
  cairo_set_source_surface (cr, img, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
  cairo_paint (cr);
  cairo_restore (cr);
  cairo_surface_destroy (img);

  cairo_set_source_rgba (cr, f->ink, f->ink, f->ink, 0.6);
  cairo_set_line_width (cr, 1);
  cairo_rectangle (cr, f->px + 0.5, f->py + 0.5, f->pw - 1, f->ph - 1);
  cairo_stroke (cr);
  g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT " x %" G_GINT64_FORMAT, self->rows, self->cols);
  draw_text (cr, f->px, f->py + f->ph + 5, buf, 0, 0, 10 * f->text);
  draw_text (cr, f->px - 4, f->py, "0", 1, 0, 10 * f->text);
  g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, self->rows - 1);
  draw_text (cr, f->px - 4, f->py + f->ph, buf, 1, 1, 10 * f->text);

  /* Colour bar with min and max. */
  double bx = f->px + f->pw + 10;
  for (int y = 0; y < (int) f->ph; y++) {
    guint8 R, G, B;
    heat_colour (1.0 - y / MAX (f->ph - 1, 1), &R, &G, &B);
    cairo_set_source_rgb (cr, R / 255.0, G / 255.0, B / 255.0);
    cairo_rectangle (cr, bx, f->py + y, 10, 1);
    cairo_fill (cr);
  }
  cairo_set_source_rgba (cr, f->ink, f->ink, f->ink, 0.9);
  format_number (buf, sizeof buf, hi);
  draw_text (cr, bx + 13, f->py, buf, 0, 0, 10 * f->text);
  format_number (buf, sizeof buf, lo);
  draw_text (cr, bx + 13, f->py + f->ph, buf, 0, 1, 10 * f->text);

  if (self->hover && self->hover_x >= f->px && self->hover_x < f->px + f->pw
      && self->hover_y >= f->py && self->hover_y < f->py + f->ph) {
    gint64 c = (gint64) ((self->hover_x - f->px) / f->pw * self->cols);
    gint64 r = (gint64) ((self->hover_y - f->py) / f->ph * self->rows);
    c = CLAMP (c, 0, self->cols - 1);
    r = CLAMP (r, 0, self->rows - 1);
    g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
    g_ptr_array_add (lines, g_strdup_printf ("[%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "] %.6g",
                                             r, c, self->value[r * self->cols + c]));
    draw_readout (cr, f, self->hover_x, self->hover_y, lines);
  }
}

/* ---------------------------------------------------------------- drawing */

static void
frame_for (GradusPlot *self, Frame *f, int width, int height)
{
  /* Larger text needs wider margins for the tick labels. */
  double k = self->text_scale;
  f->text = k;
  f->tick_h = &self->tick_h;
  f->legend_h = &self->legend_h;
  f->px = MARGIN_LEFT * k;
  f->py = MARGIN_TOP;
  f->pw = MAX (10, width - MARGIN_LEFT * k - MARGIN_RIGHT);
  f->ph = MAX (10, height - MARGIN_TOP - MARGIN_BOTTOM * k);
  f->log = self->log_scale && self->mode != GRADUS_PLOT_HEATMAP;
  f->x0 = 0;
  f->x1 = 1;
  f->y0 = 0;
  f->y1 = 1;
}

void
gradus_plot_draw (GradusPlot *self, cairo_t *cr, int width, int height)
{
  g_return_if_fail (GRADUS_IS_PLOT (self));
  Frame f;
  self->tick_h = self->legend_h = 0;
  self->has_legend = FALSE;
  frame_for (self, &f, width, height);
  /* Dark style: light lines and text on a dark ground (exports stay light). */
  f.ink = self->dark ? 0.92 : 0.0;
  f.paper = self->dark ? 0.16 : 1.0;
  cairo_save (cr);
  cairo_set_source_rgb (cr, f.paper, f.paper, f.paper);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_fill (cr);
  cairo_set_source_rgba (cr, f.ink, f.ink, f.ink, 0.9);
  switch (self->mode) {
  case GRADUS_PLOT_LINES:
    draw_lines (self, cr, &f);
    break;
  case GRADUS_PLOT_VECTOR:
    draw_vector (self, cr, &f);
    break;
  case GRADUS_PLOT_HEATMAP:
    draw_heatmap (self, cr, &f);
    break;
  }
  cairo_restore (cr);
}

static void
gradus_plot_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  GradusPlot *self = GRADUS_PLOT (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  if (w <= 0 || h <= 0)
    return;
  /* Follow the theme: its text colour says whether it is dark. */
  GdkRGBA fg;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  G_GNUC_END_IGNORE_DEPRECATIONS
  self->dark = 0.299 * fg.red + 0.587 * fg.green + 0.114 * fg.blue > 0.5;
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  self->n_draws++;
  gradus_plot_draw (self, cr, w, h);
  cairo_destroy (cr);
}

static void
gradus_plot_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                     int *natural, int *minimum_baseline, int *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL) {
    *minimum = 200;
    *natural = 300;
  } else {
    *minimum = 110;
    *natural = 170;
  }
}

/* ---------------------------------------------------------------- input */

static void
on_motion (GtkEventControllerMotion *motion, double x, double y, GradusPlot *self)
{
  self->hover = TRUE;
  self->hover_x = x;
  self->hover_y = y;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_leave (GtkEventControllerMotion *motion, GradusPlot *self)
{
  self->hover = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_drag_begin (GtkGestureDrag *drag, double x, double y, GradusPlot *self)
{
  if (self->mode != GRADUS_PLOT_LINES) {
    gtk_gesture_set_state (GTK_GESTURE (drag), GTK_EVENT_SEQUENCE_DENIED);
    return;
  }
  self->dragging = TRUE;
  self->drag_x0 = self->drag_x1 = x;
}

static void
on_drag_update (GtkGestureDrag *drag, double dx, double dy, GradusPlot *self)
{
  self->drag_x1 = self->drag_x0 + dx;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_drag_end (GtkGestureDrag *drag, double dx, double dy, GradusPlot *self)
{
  if (!self->dragging)
    return;
  self->dragging = FALSE;
  if (fabs (dx) >= 4) {
    Frame f;
    frame_for (self, &f, gtk_widget_get_width (GTK_WIDGET (self)),
               gtk_widget_get_height (GTK_WIDGET (self)));
    if (self->zoomed) {
      f.x0 = self->x_lo;
      f.x1 = self->x_hi;
    } else {
      f.x0 = 0;
      f.x1 = MAX ((double) max_length (self) - 1, 1);
    }
    double a = from_px (&f, MIN (self->drag_x0, self->drag_x1));
    double b = from_px (&f, MAX (self->drag_x0, self->drag_x1));
    gradus_plot_set_x_range (self, a, b);
  }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_drag_cancel (GtkGesture *gesture, GdkEventSequence *sequence, GradusPlot *self)
{
  self->dragging = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* A double click shows every call again. */
static void
on_click (GtkGestureClick *click, int n_press, double x, double y, GradusPlot *self)
{
  if (n_press == 2)
    gradus_plot_set_x_range (self, 0, 0);
}

/* ---------------------------------------------------------------- object */

static void
gradus_plot_finalize (GObject *object)
{
  GradusPlot *self = GRADUS_PLOT (object);
  g_free (self->title);
  g_ptr_array_unref (self->series);
  g_free (self->value);
  G_OBJECT_CLASS (gradus_plot_parent_class)->finalize (object);
}

static void
gradus_plot_class_init (GradusPlotClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = gradus_plot_finalize;
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
  wc->snapshot = gradus_plot_snapshot;
  wc->measure = gradus_plot_measure;
  gtk_widget_class_set_css_name (wc, "gradusplot");
}

static void
gradus_plot_init (GradusPlot *self)
{
  self->series = g_ptr_array_new_with_free_func (series_free);
  self->text_scale = 1.0;

  GtkEventController *motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "enter", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);

  GtkGesture *drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (on_drag_end), self);
  g_signal_connect (drag, "cancel", G_CALLBACK (on_drag_cancel), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));

  GtkGesture *click = gtk_gesture_click_new ();
  g_signal_connect (click, "pressed", G_CALLBACK (on_click), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
}

GtkWidget *
gradus_plot_new (GradusPlotMode mode, const char *title)
{
  GradusPlot *self = g_object_new (GRADUS_TYPE_PLOT, NULL);
  self->mode = mode;
  self->title = g_strdup (title ? title : "");
  return GTK_WIDGET (self);
}

GradusPlotMode
gradus_plot_get_mode (GradusPlot *self)
{
  return self->mode;
}

const char *
gradus_plot_get_title (GradusPlot *self)
{
  return self->title;
}

void
gradus_plot_add_series (GradusPlot *self, const char *name, GArray *values)
{
  g_return_if_fail (GRADUS_IS_PLOT (self) && self->mode == GRADUS_PLOT_LINES);
  Series *s = g_new0 (Series, 1);
  s->name = g_strdup (name);
  s->values = g_array_ref (values);
  g_ptr_array_add (self->series, s);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
gradus_plot_add_sparse_series (GradusPlot *self, const char *name, GArray *values)
{
  g_return_if_fail (GRADUS_IS_PLOT (self) && self->mode == GRADUS_PLOT_LINES);
  gradus_plot_add_series (self, name, values);
  ((Series *) g_ptr_array_index (self->series, self->series->len - 1))->sparse = TRUE;
}

guint
gradus_plot_get_n_draws (GradusPlot *self)
{
  return self->n_draws;
}

guint
gradus_plot_get_n_series (GradusPlot *self)
{
  return self->series->len;
}

guint
gradus_plot_get_n_points (GradusPlot *self)
{
  g_return_val_if_fail (GRADUS_IS_PLOT (self), 0);
  if (self->mode != GRADUS_PLOT_LINES)
    return self->value ? (guint) MIN (self->rows * self->cols, G_MAXUINT) : 0;
  guint n = 0;
  for (guint i = 0; i < self->series->len; i++) {
    Series *s = g_ptr_array_index (self->series, i);
    n = MAX (n, s->values->len);
  }
  return n;
}

void
gradus_plot_set_value (GradusPlot *self, const GrdTensor *value)
{
  g_return_if_fail (GRADUS_IS_PLOT (self));
  g_clear_pointer (&self->value, g_free);
  self->rows = self->cols = 0;
  if (value) {
    self->value = g_new (double, MAX (value->size, 1));
    for (gint64 i = 0; i < value->size; i++)
      self->value[i] = grd_tensor_get (value, i);
    if (value->rank >= 2 && value->shape[0] > 0) {
      self->rows = value->shape[0];
      self->cols = value->size / value->shape[0];
    } else {
      self->rows = 1;
      self->cols = value->size;
    }
  }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
gradus_plot_changed (GradusPlot *self)
{
  g_return_if_fail (GRADUS_IS_PLOT (self));
  /* queue_draw only marks the widget: the frame clock draws once per frame. */
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
gradus_plot_set_log_scale (GradusPlot *self, gboolean log_scale)
{
  self->log_scale = log_scale;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
gradus_plot_get_log_scale (GradusPlot *self)
{
  return self->log_scale;
}

void
gradus_plot_set_text_scale (GradusPlot *self, double scale)
{
  g_return_if_fail (GRADUS_IS_PLOT (self));
  scale = CLAMP (scale, 0.5, 4.0);
  if (scale == self->text_scale)
    return;
  self->text_scale = scale;
  gtk_widget_queue_resize (GTK_WIDGET (self));
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

double
gradus_plot_get_text_scale (GradusPlot *self)
{
  g_return_val_if_fail (GRADUS_IS_PLOT (self), 1.0);
  return self->text_scale;
}

gboolean
gradus_plot_get_legend_bounds (GradusPlot *self, graphene_rect_t *bounds)
{
  g_return_val_if_fail (GRADUS_IS_PLOT (self), FALSE);
  if (self->has_legend && bounds)
    *bounds = self->legend;
  return self->has_legend;
}

void
gradus_plot_get_text_heights (GradusPlot *self, int *tick_px, int *legend_px)
{
  g_return_if_fail (GRADUS_IS_PLOT (self));
  if (tick_px)
    *tick_px = self->tick_h;
  if (legend_px)
    *legend_px = self->legend_h;
}

void
gradus_plot_set_x_range (GradusPlot *self, double lo, double hi)
{
  self->zoomed = lo < hi;
  self->x_lo = lo;
  self->x_hi = hi;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
gradus_plot_get_x_range (GradusPlot *self, double *lo, double *hi)
{
  if (lo)
    *lo = self->zoomed ? self->x_lo : 0;
  if (hi)
    *hi = self->zoomed ? self->x_hi : MAX ((double) max_length (self) - 1, 1);
  return self->zoomed;
}

/* ---------------------------------------------------------------- export */

/* Exports draw without the hover readout or a drag in progress. */
static void
draw_for_export (GradusPlot *self, cairo_t *cr, int width, int height)
{
  gboolean hover = self->hover, dragging = self->dragging, dark = self->dark;
  self->hover = self->dragging = self->dark = FALSE;
  gradus_plot_draw (self, cr, width, height);
  self->hover = hover;
  self->dragging = dragging;
  self->dark = dark;
}

gboolean
gradus_plot_export_png (GradusPlot *self, const char *path, int width, int height, GError **error)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cairo_t *cr = cairo_create (surface);
  draw_for_export (self, cr, width, height);
  cairo_destroy (cr);
  cairo_status_t status = cairo_surface_write_to_png (surface, path);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("could not write %s: %s"), path,
                 cairo_status_to_string (status));
    return FALSE;
  }
  return TRUE;
}

gboolean
gradus_plot_export_svg (GradusPlot *self, const char *path, int width, int height, GError **error)
{
  cairo_surface_t *surface = cairo_svg_surface_create (path, width, height);
  cairo_t *cr = cairo_create (surface);
  draw_for_export (self, cr, width, height);
  cairo_destroy (cr);
  cairo_surface_finish (surface);
  cairo_status_t status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("could not write %s: %s"), path,
                 cairo_status_to_string (status));
    return FALSE;
  }
  return TRUE;
}

static void
append_number (GString *out, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  if (isnan (v))
    g_string_append (out, "nan");
  else if (isinf (v))
    g_string_append (out, v > 0 ? "inf" : "-inf");
  else
    g_string_append (out, g_ascii_dtostr (buf, sizeof buf, v));
}

static void
append_csv_name (GString *out, const char *name)
{
  if (strpbrk (name, ",\"\n")) {
    g_string_append_c (out, '"');
    for (const char *p = name; *p; p++) {
      if (*p == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *p);
    }
    g_string_append_c (out, '"');
  } else {
    g_string_append (out, name);
  }
}

gboolean
gradus_plot_export_csv (GradusPlot *self, const char *path, GError **error)
{
  g_autoptr (GString) out = g_string_new (NULL);
  if (self->mode == GRADUS_PLOT_LINES) {
    g_string_append (out, "call");
    for (guint s = 0; s < self->series->len; s++) {
      g_string_append_c (out, ',');
      append_csv_name (out, ((Series *) g_ptr_array_index (self->series, s))->name);
    }
    g_string_append_c (out, '\n');
    guint n = max_length (self);
    for (guint i = 0; i < n; i++) {
      g_string_append_printf (out, "%u", i);
      for (guint s = 0; s < self->series->len; s++) {
        GArray *values = ((Series *) g_ptr_array_index (self->series, s))->values;
        g_string_append_c (out, ',');
        if (i < values->len)
          append_number (out, g_array_index (values, double, i));
      }
      g_string_append_c (out, '\n');
    }
  } else if (self->mode == GRADUS_PLOT_VECTOR) {
    g_string_append (out, "index,value\n");
    for (gint64 i = 0; self->value && i < self->cols; i++) {
      g_string_append_printf (out, "%" G_GINT64_FORMAT ",", i);
      append_number (out, self->value[i]);
      g_string_append_c (out, '\n');
    }
  } else {
    for (gint64 r = 0; self->value && r < self->rows; r++) {
      for (gint64 c = 0; c < self->cols; c++) {
        if (c)
          g_string_append_c (out, ',');
        append_number (out, self->value[r * self->cols + c]);
      }
      g_string_append_c (out, '\n');
    }
  }
  return g_file_set_contents (path, out->str, out->len, error);
}
