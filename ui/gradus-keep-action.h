/* gradus-keep-action.h: Keep Trained Values (win.keep-trained, Ctrl+K): the
 * run panel's shared values after its last call, and run.resume, written into
 * the document as one undo step; the run goes on (docs/cli.md). */
#pragma once

#include "gradus-window.h"

G_BEGIN_DECLS

/* Adds win.keep-trained to the window (its run panel and model must exist)
 * and keeps it sensitive only while there is something to keep. */
void     gradus_keep_action_install (GradusWindow *window);

/* The action's work; FALSE with the reason (nothing changed then). */
gboolean gradus_keep_trained (GradusWindow *window, GError **error);

G_END_DECLS
