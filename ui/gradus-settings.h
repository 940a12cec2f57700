/* gradus-settings.h: the preferences the editor keeps between sessions, in
 * GSettings (schema org.gradus.Gradus, data/org.gradus.Gradus.gschema.xml):
 * window size and maximised state, run panel height, back end, presentation
 * mode and recent files. Where the schema is not installed (a build tree
 * run without GSETTINGS_SCHEMA_DIR) nothing is kept and nothing fails. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define GRADUS_SETTINGS_SCHEMA_ID "org.gradus.Gradus"
/* How many paths recent-files keeps. */
#define GRADUS_SETTINGS_MAX_RECENT 10

/* The editor's settings (a new reference), or NULL without the schema. */
GSettings *gradus_settings_new (void);

/* Gives a new window the size, maximised state, run panel height, back end
 * and presentation mode of the last one closed, and keeps its own when it
 * goes. run_panel: the window's GradusRunPanel, in a GtkPaned under the
 * canvas. */
void       gradus_settings_attach_window (GtkWindow *window, GtkWidget *run_panel);

/* Puts path first in recent-files (once, at most GRADUS_SETTINGS_MAX_RECENT). */
void       gradus_settings_add_recent (const char *path);

/* recent-files, newest first; empty without the schema. */
char     **gradus_settings_dup_recent (void);

/* The Open Recent menu's files: recent-files, then GTK's recent files;
 * .gradus files that exist, each once, at most max. */
char     **gradus_settings_recent_paths (guint max);

/* Writes what is pending (before the program exits). */
void       gradus_settings_sync (void);

G_END_DECLS
