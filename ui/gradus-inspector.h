/* gradus-inspector.h: the panel that edits the selected node: id and name,
 * dtype and shape of variables, values of constants and shared variables
 * (a table for small ones, an init choice for large ones), op attributes. */
#pragma once

#include <gtk/gtk.h>
#include "gradus-doc-model.h"

G_BEGIN_DECLS

#define GRADUS_TYPE_INSPECTOR (gradus_inspector_get_type ())
G_DECLARE_FINAL_TYPE (GradusInspector, gradus_inspector, GRADUS, INSPECTOR, GtkWidget)

GtkWidget  *gradus_inspector_new (void);
void        gradus_inspector_set_model (GradusInspector *self, GradusDocModel *model);
/* The node shown, or NULL for none (or several selected: `n_selected`). */
void        gradus_inspector_set_node (GradusInspector *self, const char *id, guint n_selected);
const char *gradus_inspector_get_node (GradusInspector *self);
/* Applies `text` to field `key` as the user typing it and pressing Enter would
 * ("id", "name", "dtype", "shape", "value", "init", "attrs.axis", ...). */
gboolean    gradus_inspector_apply (GradusInspector *self, const char *key, const char *text,
                                    GError **error);

G_END_DECLS
