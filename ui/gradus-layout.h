/* gradus-layout.h: node geometry and the automatic layered layout, shared by
 * the canvas, the export and the model's "auto layout" edit. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define GRADUS_NODE_HEADER 30.0
#define GRADUS_PORT_STEP   22.0
#define GRADUS_PORT_RADIUS 5.0
#define GRADUS_LAYER_GAP   70.0
#define GRADUS_ROW_GAP     30.0

/* Size of a node box with this title and these port counts. */
void gradus_layout_node_size (const char *title, const char *subtitle, gint n_in, gint n_out,
                              double *w, double *h);
/* Port centres relative to the node's top-left corner. */
double gradus_layout_port_y (gint index);

/* Longest-path layers from left to right. deps[i] is a GArray of gint: the
 * items item i reads (indices < n; others ignored; cycles tolerated). Fills
 * x[i], y[i] for a layout whose top-left corner is (x0, y0). */
void gradus_layout_layered (guint n, const double *w, const double *h, GPtrArray *deps,
                            double x0, double y0, double *x, double *y);

G_END_DECLS
