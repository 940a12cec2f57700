/* gradus-name-hover.h: zoomed out on a crowded graph, a node whose name is
 * shortened or left out shows it whole in a tooltip. */
#pragma once

#include "gradus-canvas.h"

G_BEGIN_DECLS

void  gradus_name_hover_attach (GradusCanvas *canvas);
/* The tooltip's text at widget point (x, y): the node's full name, or NULL
 * where there is no node or its name is drawn in full. */
char *gradus_name_hover_text (GradusCanvas *canvas, double x, double y);

G_END_DECLS
