/* gradus-ui.h: what the command line needs from the editor. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Runs the editor (GtkApplication); argv may name a graph file to open.
 * Returns the process exit status. */
int      gradus_ui_main (int argc, char **argv);

/* Renders the graph file's canvas (positions from its "ui" object, laid out
 * automatically where missing) to `out_path` as "png", "svg" or "pdf",
 * without a display. */
gboolean gradus_ui_export (const char *in_path, const char *format, const char *out_path,
                           GError **error);

G_END_DECLS
