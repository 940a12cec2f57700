/* gradus-teach-picture.c: sparklines and heatmaps of tensors (see the header). */
#include "gradus-teach-picture.h"
#include "gradus-teach-trace.h"

#include <math.h>

gboolean
gradus_teach_picture_wanted (const GrdTensor *v)
{
  return v && v->rank > 0 && (v->size > GRADUS_TEACH_SMALL || v->rank > 2);
}

/* The largest magnitude among the finite values drawn, for one colour scale. */
static double
extent (const GrdTensor *v, gint64 n)
{
  double m = 0;
  for (gint64 i = 0; i < n; i++) {
    double x = grd_tensor_get (v, i);
    if (isfinite (x))
      m = MAX (m, fabs (x));
  }
  return m > 0 ? m : 1;
}

/* How many cells or points the box can show: about one per two device pixels
 * (a chip on a zoomed-out canvas must not draw thousands). */
static gint64
resolution (cairo_t *cr, double len, gboolean horizontal)
{
  double dx = horizontal ? len : 0, dy = horizontal ? 0 : len;
  cairo_user_to_device_distance (cr, &dx, &dy);
  return MAX (2, (gint64) (fabs (horizontal ? dx : dy) / 2));
}

static void
sparkline (cairo_t *cr, const GrdTensor *v, double x, double y, double w, double h, gboolean dark)
{
  /* Every element when they fit, else evenly spaced ones. */
  gint64 n = MIN (v->size, resolution (cr, w, TRUE) * 2);
  double lo = INFINITY, hi = -INFINITY;
  for (gint64 i = 0; i < n; i++) {
    double a = grd_tensor_get (v, i * v->size / n);
    if (isfinite (a))
      lo = MIN (lo, a), hi = MAX (hi, a);
  }
  if (!isfinite (lo))
    return;
  if (hi - lo < 1e-300)
    lo -= 1, hi += 1;
  gboolean started = FALSE;
  for (gint64 i = 0; i < n; i++) {
    double a = grd_tensor_get (v, i * v->size / n);
    if (!isfinite (a))
      continue;
    double px = x + (n > 1 ? w * i / (double) (n - 1) : w / 2);
    double py = y + h - (a - lo) / (hi - lo) * h;
    if (started)
      cairo_line_to (cr, px, py);
    else
      cairo_move_to (cr, px, py);
    started = TRUE;
  }
  if (dark)
    cairo_set_source_rgb (cr, 0.6, 0.8, 1.0);
  else
    cairo_set_source_rgb (cr, 0.11, 0.44, 0.85);
  cairo_set_line_width (cr, MAX (w, h) / 60);
  cairo_stroke (cr);
}

static void
heatmap (cairo_t *cr, const GrdTensor *v, double x, double y, double w, double h)
{
  gint64 rows = v->shape[v->rank - 2], cols = v->shape[v->rank - 1];
  if (rows <= 0 || cols <= 0)
    return;
  /* At most a 64 x 64 grid of cells, fewer in a small box: the first rows
   * and columns. */
  gint64 rs = MIN (MIN (rows, 64), resolution (cr, h, FALSE));
  gint64 cs = MIN (MIN (cols, 64), resolution (cr, w, TRUE));
  double m = extent (v, MIN (v->size, rows * cols));
  double cw = w / cs, ch = h / rs;
  for (gint64 r = 0; r < rs; r++)
    for (gint64 c = 0; c < cs; c++) {
      double a = grd_tensor_get (v, r * cols + c);
      double s = isfinite (a) ? CLAMP (a / m, -1, 1) : 0;
      /* White at zero, red above, blue below. */
      if (s >= 0)
        cairo_set_source_rgb (cr, 1, 1 - 0.8 * s, 1 - 0.85 * s);
      else
        cairo_set_source_rgb (cr, 1 + 0.85 * s, 1 + 0.55 * s, 1);
      if (!isfinite (a))
        cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
      cairo_rectangle (cr, x + c * cw, y + r * ch, cw + 0.01, ch + 0.01);
      cairo_fill (cr);
    }
}

void
gradus_teach_picture_draw (cairo_t *cr, const GrdTensor *v, double x, double y, double w,
                           double h, gboolean dark)
{
  if (!v || v->size == 0)
    return;
  cairo_save (cr);
  if (v->rank >= 2)
    heatmap (cr, v, x, y, w, h);
  else
    sparkline (cr, v, x, y, w, h, dark);
  cairo_restore (cr);
}
