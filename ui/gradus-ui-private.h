/* gradus-ui-private.h: helpers shared by the editor's files. */
#pragma once

#include <gtk/gtk.h>
#include "gradus-doc-model.h"

G_BEGIN_DECLS

/* ui.expanded: ids of grad nodes whose gradient graph is shown (a set of char*). */
GHashTable *gradus_ui_expanded_grads (GradusDocModel *model);
/* Writes the set back (not an undoable edit: a view setting, like zoom). */
void        gradus_ui_set_expanded_grads (GradusDocModel *model, GHashTable *set);

/* The keyboard shortcuts window (a new reference; the caller presents it). */
GtkWindow  *gradus_ui_shortcuts_window (void);

G_END_DECLS
