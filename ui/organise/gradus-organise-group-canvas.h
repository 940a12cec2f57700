/* gradus-organise-group-canvas.h: groups on the canvas. Ctrl+G (or the
 * context menu) groups the selection; Ctrl+Shift+G ungroups the selected
 * group nodes; double-click or Enter on a group node opens it: its inside is
 * edited in place, outlined, with a bar above the canvas to close it (or
 * Ctrl+Shift+G). "Save Group to Palette" (context menu) adds it to the
 * palette's "my groups" (gradus_group_library_dir()). */
#pragma once

#include <gtk/gtk.h>
#include "gradus-scene.h"

G_BEGIN_DECLS

/* Adds the "group" actions (group.make, group.ungroup, group.open,
 * group.close, group.save-to-palette) and their shortcuts to a GradusCanvas. */
void     gradus_group_canvas_attach (GtkWidget *canvas);
void     gradus_group_canvas_detach (GtkWidget *canvas);

/* Groups the selection when it holds nodes a group can take (two or more, or
 * one besides a grad node); FALSE (nothing done) otherwise: Ctrl+G then shows
 * the gradient graph as before. */
gboolean gradus_group_canvas_try_group (GtkWidget *canvas);
/* Opens node `id` when it is a group node (double-click, Enter). */
gboolean gradus_group_canvas_open (GtkWidget *canvas, const char *id);

/* Canvas hooks: the model changed (the bar follows the open group); the
 * outline of the open group, drawn in graph coordinates; the bar. */
void     gradus_group_canvas_sync (GtkWidget *canvas);
void     gradus_group_canvas_draw (GtkWidget *canvas, cairo_t *cr, GradusScene *scene,
                                   double zoom, gboolean dark);
void     gradus_group_canvas_allocate (GtkWidget *canvas, int width, int height);
void     gradus_group_canvas_snapshot (GtkWidget *canvas, GtkSnapshot *snapshot);

/* The context menu's entries for the selection, appended to `box`. */
void     gradus_group_canvas_menu_items (GtkWidget *canvas, GtkWidget *box);

G_END_DECLS
