/* gradus-teach.h: what a teacher shows, attached to an editor window:
 * win.backprop (each wire's value and each forward node's gradient for one
 * call), win.step-through with win.step-next / win.step-prev (that call node
 * by node, forward then backward), win.presentation (large type for
 * projectors) and the minimap. The window calls gradus_teach_attach() once;
 * the logic lives here, the canvas only draws through its overlay hook. */
#pragma once

#include <adwaita.h>
#include "gradus-canvas.h"
#include "gradus-teach-trace.h"

G_BEGIN_DECLS

typedef struct _GradusTeach GradusTeach;

/* Adds the actions to `window` (a GActionMap), the overlay hook to `canvas`,
 * and returns the widget to pack where the canvas was: the canvas with the
 * step-through card and the minimap over it. `hide_when_presenting`: widgets
 * hidden in presentation mode (palette, inspector); `header`: made compact. */
GtkWidget   *gradus_teach_attach (GtkWindow *window, GradusCanvas *canvas, GradusDocModel *model,
                                  GtkWidget *header,
                                  GtkWidget *const *hide_when_presenting, guint n_hide);
/* The window's classroom state, or NULL. */
GradusTeach *gradus_teach_get (GtkWindow *window);

/* For tests and the docs tool. */
GradusTeachTrace *gradus_teach_get_trace (GradusTeach *teach);   /* NULL when none */
gint         gradus_teach_get_step (GradusTeach *teach);         /* -1 when not stepping */
GtkWidget   *gradus_teach_get_panel (GradusTeach *teach);
GtkWidget   *gradus_teach_get_minimap (GradusTeach *teach);
const char  *gradus_teach_get_error (GradusTeach *teach);

G_END_DECLS
