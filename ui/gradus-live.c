/* gradus-live.c: the value card of a hovered wire and the NaN badge.
 *
 * Statistics skip non-finite elements and count them instead, so that one
 * NaN does not hide the range of the rest. The picture shows at most a few
 * hundred elements: a vector is strided down to the sparkline's width, a
 * matrix (the last two axes of the first slice) to a 48 x 96 grid of cells. */
#include "gradus-live.h"

#include <glib/gi18n.h>
#include <math.h>
#include <pango/pangocairo.h>

#define CARD_W     240.0
#define CARD_PAD   10.0
#define PICTURE_H  56.0

void
gradus_live_stats (const GrdTensor *value, GradusLiveStats *s)
{
  s->n_nan = s->n_inf = s->n_finite = 0;
  double lo = INFINITY, hi = -INFINITY, sum = 0;
  for (gint64 i = 0; i < value->size; i++) {
    double v = grd_tensor_get (value, i);
    if (isnan (v))
      s->n_nan++;
    else if (isinf (v))
      s->n_inf++;
    else {
      lo = MIN (lo, v);
      hi = MAX (hi, v);
      sum += v;
      s->n_finite++;
    }
  }
  s->min = s->n_finite ? lo : NAN;
  s->max = s->n_finite ? hi : NAN;
  s->mean = s->n_finite ? sum / s->n_finite : NAN;
}

static void
append_number (GString *out, double v)
{
  if (isnan (v))
    g_string_append (out, "nan");
  else if (isinf (v))
    g_string_append (out, v > 0 ? "inf" : "-inf");
  else {
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.10g", v));
  }
}

char *
gradus_live_describe (const GrdTensor *value)
{
  g_return_val_if_fail (value != NULL, NULL);
  GString *out = g_string_new (NULL);
  if (value->rank == 0)
    g_string_append_printf (out, _("%s scalar"), grd_dtype_name (value->dtype));
  else {
    g_autofree char *type = grd_tensor_describe (value);
    g_string_append (out, type);
  }
  g_string_append_c (out, '\n');
  GradusLiveStats s;
  gradus_live_stats (value, &s);
  if (value->rank == 0) {
    g_string_append (out, _("value "));
    append_number (out, grd_tensor_get (value, 0));
  } else if (value->size == 0) {
    g_string_append (out, _("empty"));
  } else {
    g_string_append (out, _("min "));
    append_number (out, s.min);
    g_string_append (out, _("  max "));
    append_number (out, s.max);
    g_string_append (out, _("  mean "));
    append_number (out, s.mean);
  }
  if (s.n_nan || s.n_inf)
    g_string_append_printf (out, "\nNaN %" G_GINT64_FORMAT "  Inf %" G_GINT64_FORMAT,
                            s.n_nan, s.n_inf);
  return g_string_free (out, FALSE);
}

char *
gradus_live_card_text (const char *ref, const GrdTensor *value)
{
  g_autofree char *body = gradus_live_describe (value);
  return g_strconcat (ref, "\n", body, NULL);
}

/* ------------------------------------------------------------ pictures */

static void
sparkline (cairo_t *cr, const GrdTensor *v, const GradusLiveStats *s, double x, double y,
           double w, double h, gboolean dark)
{
  gint64 n = v->size;
  double span = s->max - s->min;
  gint64 stride = MAX (1, n / (gint64) w);
  gboolean pen_down = FALSE;
  for (gint64 i = 0; i < n; i += stride) {
    double e = grd_tensor_get (v, i);
    double px = x + (n > 1 ? w * i / (double) (n - 1) : w / 2);
    if (!isfinite (e)) {
      /* A gap, and a red tick where the non-finite value is. */
      cairo_stroke (cr);
      cairo_set_source_rgb (cr, 0.88, 0.11, 0.14);
      cairo_move_to (cr, px, y);
      cairo_line_to (cr, px, y + h);
      cairo_stroke (cr);
      pen_down = FALSE;
      continue;
    }
    double py = y + h - (span > 0 ? (e - s->min) / span * h : h / 2);
    if (!pen_down) {
      cairo_set_source_rgb (cr, dark ? 0.47 : 0.21, dark ? 0.68 : 0.52, dark ? 0.93 : 0.89);
      cairo_move_to (cr, px, py);
      pen_down = TRUE;
    } else
      cairo_line_to (cr, px, py);
    if (n == 1 || stride == n)
      cairo_rectangle (cr, px - 1.5, py - 1.5, 3, 3);
  }
  cairo_stroke (cr);
}

static void
cell_colour (double t, gboolean diverging, double *r, double *g, double *b)
{
  if (diverging) {
    /* Blue below zero, white at zero, red above (t in -1..1). */
    if (t < 0)
      *r = 1 + t * 0.8, *g = 1 + t * 0.6, *b = 1;
    else
      *r = 1, *g = 1 - t * 0.75, *b = 1 - t * 0.8;
    return;
  }
  /* Dark blue to yellow, through green (t in 0..1). */
  *r = 0.27 + t * 0.72;
  *g = 0.0 + t * 0.9;
  *b = 0.33 + (t < 0.5 ? t * 0.3 : (1 - t) * 0.4);
}

static void
heatmap (cairo_t *cr, const GrdTensor *v, const GradusLiveStats *s, double x, double y,
         double w, double h)
{
  gint64 rows = v->shape[v->rank - 2], cols = v->shape[v->rank - 1];
  if (rows == 0 || cols == 0)
    return;
  gint64 show_r = MIN (rows, 48), show_c = MIN (cols, 96);
  double cell = MIN (w / show_c, h / show_r);
  gboolean diverging = s->min < 0 && s->max > 0;
  double scale = diverging ? MAX (-s->min, s->max) : s->max - s->min;
  for (gint64 i = 0; i < show_r; i++)
    for (gint64 j = 0; j < show_c; j++) {
      gint64 r = i * rows / show_r, c = j * cols / show_c;
      double e = grd_tensor_get (v, r * cols + c);
      double cr_, cg, cb;
      if (isnan (e))
        cr_ = 1, cg = 0, cb = 1;
      else if (isinf (e))
        cr_ = 0.88, cg = 0.11, cb = 0.14;
      else if (diverging)
        cell_colour (e / scale, TRUE, &cr_, &cg, &cb);
      else
        cell_colour (scale > 0 ? (e - s->min) / scale : 0.5, FALSE, &cr_, &cg, &cb);
      cairo_set_source_rgb (cr, cr_, cg, cb);
      cairo_rectangle (cr, x + j * cell, y + i * cell, cell + 0.3, cell + 0.3);
      cairo_fill (cr);
    }
  cairo_set_source_rgba (cr, 0.5, 0.5, 0.5, 0.6);
  cairo_set_line_width (cr, 1);
  cairo_rectangle (cr, x, y, show_c * cell, show_r * cell);
  cairo_stroke (cr);
}

static void
rounded (cairo_t *cr, double x, double y, double w, double h, double r)
{
  cairo_new_sub_path (cr);
  cairo_arc (cr, x + w - r, y + r, r, -G_PI / 2, 0);
  cairo_arc (cr, x + w - r, y + h - r, r, 0, G_PI / 2);
  cairo_arc (cr, x + r, y + h - r, r, G_PI / 2, G_PI);
  cairo_arc (cr, x + r, y + r, r, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
}

void
gradus_live_draw_card (cairo_t *cr, double x, double y, double bound_w, double bound_h,
                       const char *ref, const GrdTensor *value, gboolean dark)
{
  g_autofree char *body = gradus_live_describe (value);
  GradusLiveStats s;
  gradus_live_stats (value, &s);

  cairo_save (cr);
  PangoLayout *title = pango_cairo_create_layout (cr);
  PangoFontDescription *fd = pango_font_description_from_string ("Sans Bold 9");
  pango_layout_set_font_description (title, fd);
  pango_font_description_free (fd);
  pango_layout_set_text (title, ref, -1);
  pango_layout_set_width (title, (int) ((CARD_W - 2 * CARD_PAD) * PANGO_SCALE));
  pango_layout_set_ellipsize (title, PANGO_ELLIPSIZE_MIDDLE);
  PangoLayout *text = pango_cairo_create_layout (cr);
  fd = pango_font_description_from_string ("Monospace 8");
  pango_layout_set_font_description (text, fd);
  pango_font_description_free (fd);
  pango_layout_set_text (text, body, -1);
  pango_layout_set_width (text, (int) ((CARD_W - 2 * CARD_PAD) * PANGO_SCALE));
  pango_layout_set_wrap (text, PANGO_WRAP_WORD_CHAR);
  int tw, th, bw, bh;
  pango_layout_get_pixel_size (title, &tw, &th);
  pango_layout_get_pixel_size (text, &bw, &bh);
  double pic_h = value->size > 0 ? PICTURE_H : 0;
  double h = CARD_PAD + th + 4 + bh + (pic_h > 0 ? 8 + pic_h : 0) + CARD_PAD;
  if (bound_w > 0 && x + CARD_W > bound_w)
    x = MAX (0, bound_w - CARD_W - 2);
  if (bound_h > 0 && y + h > bound_h)
    y = MAX (0, bound_h - h - 2);

  rounded (cr, x + 1, y + 2, CARD_W, h, 8);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.18);
  cairo_fill (cr);
  rounded (cr, x, y, CARD_W, h, 8);
  if (dark)
    cairo_set_source_rgba (cr, 0.2, 0.2, 0.2, 0.97);
  else
    cairo_set_source_rgba (cr, 1, 1, 1, 0.97);
  cairo_fill_preserve (cr);
  gboolean bad = s.n_nan || s.n_inf;
  if (bad)
    cairo_set_source_rgb (cr, 0.88, 0.11, 0.14);
  else
    cairo_set_source_rgba (cr, 0.5, 0.5, 0.5, 0.6);
  cairo_set_line_width (cr, bad ? 2 : 1);
  cairo_stroke (cr);

  double fg = dark ? 0.93 : 0.14;
  cairo_set_source_rgb (cr, fg, fg, fg);
  cairo_move_to (cr, x + CARD_PAD, y + CARD_PAD);
  pango_cairo_show_layout (cr, title);
  cairo_move_to (cr, x + CARD_PAD, y + CARD_PAD + th + 4);
  pango_cairo_show_layout (cr, text);
  cairo_new_path (cr);

  double px = x + CARD_PAD, py = y + CARD_PAD + th + 4 + bh + 8, pw = CARD_W - 2 * CARD_PAD;
  cairo_set_line_width (cr, 1.5);
  if (pic_h <= 0) {
  } else if (value->rank == 0) {
    /* A scalar: the number itself, large. */
    GString *num = g_string_new (NULL);
    append_number (num, grd_tensor_get (value, 0));
    fd = pango_font_description_from_string ("Sans Bold 20");
    pango_layout_set_font_description (title, fd);
    pango_font_description_free (fd);
    pango_layout_set_text (title, num->str, -1);
    g_string_free (num, TRUE);
    int nw, nh;
    pango_layout_get_pixel_size (title, &nw, &nh);
    if (bad)
      cairo_set_source_rgb (cr, 0.88, 0.11, 0.14);
    else
      cairo_set_source_rgb (cr, dark ? 0.47 : 0.21, dark ? 0.68 : 0.52, dark ? 0.93 : 0.89);
    cairo_move_to (cr, px, py + (pic_h - nh) / 2);
    pango_cairo_show_layout (cr, title);
    cairo_new_path (cr);
  } else if (value->rank == 1) {
    cairo_set_source_rgba (cr, 0.5, 0.5, 0.5, 0.25);
    cairo_rectangle (cr, px, py, pw, pic_h);
    cairo_fill (cr);
    sparkline (cr, value, &s, px + 3, py + 3, pw - 6, pic_h - 6, dark);
  } else
    heatmap (cr, value, &s, px, py, pw, pic_h);

  g_object_unref (title);
  g_object_unref (text);
  cairo_restore (cr);
}

void
gradus_live_draw_badge (cairo_t *cr, double x, double y, const char *text)
{
  cairo_save (cr);
  PangoLayout *layout = pango_cairo_create_layout (cr);
  PangoFontDescription *fd = pango_font_description_from_string ("Sans Bold 9");
  pango_layout_set_font_description (layout, fd);
  pango_font_description_free (fd);
  pango_layout_set_text (layout, text, -1);
  int w, h;
  pango_layout_get_pixel_size (layout, &w, &h);
  rounded (cr, x, y - h - 8, w + 16, h + 8, (h + 8) / 2.0);
  cairo_set_source_rgb (cr, 0.88, 0.11, 0.14);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_move_to (cr, x + 8, y - h - 4);
  pango_cairo_show_layout (cr, layout);
  cairo_new_path (cr);
  g_object_unref (layout);
  cairo_restore (cr);
}
