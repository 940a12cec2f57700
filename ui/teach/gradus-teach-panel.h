/* gradus-teach-panel.h: the step-through card over the canvas: which pass
 * and step, the node's rule with the numbers, a picture of a large value,
 * and Previous / Next / Close (win.step-prev, win.step-next, win.step-through). */
#pragma once

#include <gtk/gtk.h>
#include "gradus-teach-trace.h"

G_BEGIN_DECLS

#define GRADUS_TYPE_TEACH_PANEL (gradus_teach_panel_get_type ())
G_DECLARE_FINAL_TYPE (GradusTeachPanel, gradus_teach_panel, GRADUS, TEACH_PANEL, GtkBox)

GtkWidget *gradus_teach_panel_new (void);
/* Shows step `index` of `trace`; with a NULL trace, `error` instead. The
 * panel keeps no reference: call it again when the trace changes. */
void       gradus_teach_panel_show (GradusTeachPanel *self, GradusTeachTrace *trace, guint index,
                                    const char *error);
/* What the panel shows now: the pass line, the heading and the text, one per line. */
char      *gradus_teach_panel_dup_text (GradusTeachPanel *self);

G_END_DECLS
