/* gradus-organise-canvas.h: frames and comments on the canvas: drag a frame
 * by its title bar (its nodes move with it) or a comment anywhere; double-click
 * either to edit it; the canvas's context menu and two shortcuts create them. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Adds the controllers and the "organise" actions to a GradusCanvas:
 * organise.add-frame (Ctrl+Shift+F: a frame around the selection, or at the
 * pointer) and organise.add-comment (Ctrl+Shift+M). */
void gradus_organise_canvas_attach (GtkWidget *canvas);

/* The editor card of a frame or comment, as a double-click opens it. */
void gradus_organise_canvas_edit (GtkWidget *canvas, const char *id);

/* Hooks of the canvas widget: its editor card is a child of the canvas. */
void gradus_organise_canvas_allocate (GtkWidget *canvas, int width, int height);
void gradus_organise_canvas_snapshot (GtkWidget *canvas, GtkSnapshot *snapshot);
void gradus_organise_canvas_detach (GtkWidget *canvas);
/* A press at graph point (gx, gy) where no node or port is: TRUE when it
 * grabs a comment or a frame's title bar; the release then moves it by the
 * drag (dx, dy, graph units). */
gboolean gradus_organise_canvas_press (GtkWidget *canvas, double gx, double gy);
void gradus_organise_canvas_release (GtkWidget *canvas, double dx, double dy);

G_END_DECLS
