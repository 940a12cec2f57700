/* gradus-canvas-a11y.h: the canvas' nodes for assistive technologies.
 *
 * GTK 4.8 cannot give a widget accessible children that are not widgets
 * (GtkAccessible's child API came in 4.10), so each node of the scene gets a
 * small child widget of the canvas: it draws nothing and lets the pointer
 * through, but has the role of a button, a label that says what the node is
 * and where its inputs come from ("add node z, inputs a from x, b from y,
 * output float64[?]"), the selected state, and keyboard focus (Tab reaches
 * each node; focusing one selects it). The canvas' description names the
 * selected node and its wires. */
#pragma once

#include "gradus-canvas.h"

G_BEGIN_DECLS

/* Called once by the canvas (init): follows its scene from then on. */
void       gradus_canvas_a11y_attach (GradusCanvas *canvas);
/* The scene changed (nodes, wires, selection): the children follow, soon. */
void       gradus_canvas_a11y_queue_update (GradusCanvas *canvas);
/* Brings the children up to date now (tests; the idle does it otherwise). */
void       gradus_canvas_a11y_update (GradusCanvas *canvas);
/* Places the children over their nodes (from the canvas' size_allocate). */
void       gradus_canvas_a11y_allocate (GradusCanvas *canvas);
/* The accessible child of node `id`, or NULL. */
GtkWidget *gradus_canvas_a11y_get_node (GradusCanvas *canvas, const char *id);
/* What a node's accessible label says (a new string), from the scene. */
char      *gradus_canvas_a11y_node_label (GradusScene *scene, gint node);

G_END_DECLS
