/* gradus-live.h: live values on the canvas: what a wire carried in the last
 * call of the run panel, as text (type, min, max, mean, non-finite counts)
 * and as a small card with a picture (a number, a sparkline or a heatmap). */
#pragma once

#include <cairo.h>
#include "gradus.h"

G_BEGIN_DECLS

typedef struct {
  gint64 n_nan, n_inf;
  gint64 n_finite;
  double min, max, mean;   /* over the finite elements; NAN when there are none */
} GradusLiveStats;

void  gradus_live_stats (const GrdTensor *value, GradusLiveStats *stats);

/* The card's text without its title: "float64[3,2]" (a scalar: "float64
 * scalar"), then "value V" for a scalar or "min A  max B  mean C", then "NaN n  Inf m" when there are any.
 * Numbers are printed with %.10g. Free with g_free. */
char *gradus_live_describe (const GrdTensor *value);

/* The whole card's text: the source reference, a newline, the description. */
char *gradus_live_card_text (const char *ref, const GrdTensor *value);

/* Draws the card with its top-left corner near (x, y) in the current user
 * space, moved so that it stays inside (0, 0, bound_w, bound_h) where those
 * are > 0. */
void  gradus_live_draw_card (cairo_t *cr, double x, double y, double bound_w, double bound_h,
                             const char *ref, const GrdTensor *value, gboolean dark);

/* A red badge ("NaN at call N") with its bottom-left corner at (x, y). */
void  gradus_live_draw_badge (cairo_t *cr, double x, double y, const char *text);

G_END_DECLS
