/* gradus-minimap.h: the whole graph in a corner of the canvas, with the part
 * in view as a rectangle; a click or a drag there moves the view. It draws
 * nothing and lets clicks through while the whole graph is in view. */
#pragma once

#include <gtk/gtk.h>
#include "gradus-canvas.h"

G_BEGIN_DECLS

GtkWidget *gradus_minimap_new (GradusCanvas *canvas);
/* Redraws when the canvas's view or scene has changed since the last call
 * (the canvas calls it from its drawing, through the classroom overlay). */
void       gradus_minimap_canvas_drawn (GtkWidget *minimap);
/* Whether it is shown: part of the graph is out of view. */
gboolean   gradus_minimap_get_shown (GtkWidget *minimap);
/* Where graph point (gx, gy) is on the minimap, in its own coordinates. */
gboolean   gradus_minimap_graph_to_widget (GtkWidget *minimap, double gx, double gy, double *x,
                                           double *y);

G_END_DECLS
