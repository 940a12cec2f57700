/* gradus-teach-picture.h: a tensor too large to write as numbers, drawn:
 * a sparkline for a vector, a heatmap (blue below zero, red above) for a
 * matrix or the first matrix of a larger tensor. */
#pragma once

#include <cairo.h>
#include "gradus.h"

G_BEGIN_DECLS

/* Draws `value` into the box (x, y, w, h) of the current user space. */
void gradus_teach_picture_draw (cairo_t *cr, const GrdTensor *value, double x, double y,
                                double w, double h, gboolean dark);

/* TRUE when the classroom reads it better as a picture than as numbers. */
gboolean gradus_teach_picture_wanted (const GrdTensor *value);

G_END_DECLS
