/* gradus-teach-draw.h: backpropagation drawn on the canvas: the value each
 * wire carries in the traced call, each forward node's gradient, and the step
 * of the step-through (its node ringed, the wires it reads or sends back on
 * drawn thick, what it sends back written on them). */
#pragma once

#include <cairo.h>
#include "gradus-scene.h"
#include "gradus-teach-trace.h"

G_BEGIN_DECLS

typedef struct {
  double   zoom;       /* screen pixels per graph unit */
  gboolean dark;
  double   text_px;    /* size of the numbers on screen (11; larger when presenting) */
  gint     step;       /* the step shown, or -1: the whole call */
} GradusTeachDrawOptions;

/* Draws in graph coordinates over a rendered scene. */
void gradus_teach_draw (cairo_t *cr, GradusScene *scene, GradusTeachTrace *trace,
                        const GradusTeachDrawOptions *options);

G_END_DECLS
