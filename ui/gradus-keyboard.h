/* gradus-keyboard.h: the canvas without a pointer (issue 10). On the focused
 * canvas:
 *   Tab, Shift+Tab     the next / previous node, in reading order
 *   arrow keys         the nearest node that way (Alt+arrows move the
 *                      selected nodes, as plain arrows did)
 *   ] and [            the next / previous port: an output of the selected
 *                      node, or while wiring an input of the target
 *   Enter              starts a wire at the selected output; on another node,
 *                      connects it to the input chosen (refusals are told)
 *   Escape             cancels a wire being made
 *   F2                 renames the selected node (its name, not its id)
 * What happens is said through the canvas's "message" signal (a toast). */
#pragma once

#include "gradus-canvas.h"

G_BEGIN_DECLS

/* Adds the keys to `canvas` (ahead of its own). */
void        gradus_keyboard_attach (GradusCanvas *canvas);
/* The wire being made ("id:k"), or NULL; the port chosen on the selected
 * node (an output, or while wiring an input). For tests and the status. */
const char *gradus_keyboard_get_wire_source (GradusCanvas *canvas);
gint        gradus_keyboard_get_port (GradusCanvas *canvas);
/* The reference of the selected node's chosen output ("id", "id:k"; a grad
 * node's "g:k"), what a node added next reads; NULL when none is selected. */
char       *gradus_keyboard_dup_selected_output (GradusCanvas *canvas);

/* The ring on the port ] and [ chose (and on the output a wire starts
 * from), drawn in graph coordinates; whether one is shown. */
void        gradus_keyboard_draw_mark (GradusCanvas *canvas, cairo_t *cr, GradusScene *scene,
                                       gboolean dark);
gboolean    gradus_keyboard_get_port_marked (GradusCanvas *canvas);

G_END_DECLS
