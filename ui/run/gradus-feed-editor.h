/* gradus-feed-editor.h: the run panel's feeds, one row per input of the
 * function: its id and type, and its feed as JSON text. Enter in a row emits
 * "apply" (input id, text), whose handler returns whether the text was taken;
 * a refused row is marked with the "error" style. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define GRADUS_TYPE_FEED_EDITOR (gradus_feed_editor_get_type ())
G_DECLARE_FINAL_TYPE (GradusFeedEditor, gradus_feed_editor, GRADUS, FEED_EDITOR, GtkWidget)

GtkWidget *gradus_feed_editor_new (void);
void       gradus_feed_editor_clear (GradusFeedEditor *self);
/* A row: `type_text` describes the input's type; `feed_json` is its feed
 * (too long a text is described instead, and read-only). */
void       gradus_feed_editor_add_row (GradusFeedEditor *self, const char *input,
                                       const char *type_text, const char *feed_json);

G_END_DECLS
