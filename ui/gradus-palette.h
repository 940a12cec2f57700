/* gradus-palette.h: the searchable list of node kinds and ops. Activating a
 * row (double-click, Enter) runs win.add-node with the row's payload; rows can
 * also be dragged onto the canvas. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define GRADUS_TYPE_PALETTE (gradus_palette_get_type ())
G_DECLARE_FINAL_TYPE (GradusPalette, gradus_palette, GRADUS, PALETTE, GtkWidget)

GtkWidget *gradus_palette_new (void);
void       gradus_palette_set_search (GradusPalette *self, const char *text);
/* Payloads of the rows the search lets through, in order (free with g_strfreev). */
GStrv      gradus_palette_dup_visible (GradusPalette *self);
GtkWidget *gradus_palette_get_search_entry (GradusPalette *self);

/* Rereads the user's saved groups (the "my groups" rows); the palette does
 * it itself when their folder changes. */
void       gradus_palette_reload_groups (GradusPalette *self);
/* Payloads are "variable", "constant", "shared", "grad", "op:NAME" or
 * "group:NAME" (a saved group, ui/organise). */
gboolean   gradus_palette_parse (const char *payload, char **kind, char **op);

G_END_DECLS
