/* gradus-window.h: an editor window: header bar, palette, canvas, inspector,
 * and every user action as a win.* GAction. */
#pragma once

#include <adwaita.h>
#include "gradus-canvas.h"
#include "gradus-doc-model.h"
#include "gradus-inspector.h"
#include "gradus-palette.h"
#include "gradus-run-binding.h"

G_BEGIN_DECLS

#define GRADUS_TYPE_WINDOW (gradus_window_get_type ())
G_DECLARE_FINAL_TYPE (GradusWindow, gradus_window, GRADUS, WINDOW, AdwApplicationWindow)

GradusWindow    *gradus_window_new (GtkApplication *app);
GradusDocModel  *gradus_window_get_model (GradusWindow *self);
GradusCanvas    *gradus_window_get_canvas (GradusWindow *self);
GradusPalette   *gradus_window_get_palette (GradusWindow *self);
GradusInspector *gradus_window_get_inspector (GradusWindow *self);
/* The run panel under the canvas (a GradusRunPanel, ui/run/). */
GtkWidget       *gradus_window_get_run_panel (GradusWindow *self);
/* The document's description above the canvas (gradus-lesson-bar.h). */
typedef struct _GradusLessonBar GradusLessonBar;
GradusLessonBar *gradus_window_get_lesson_bar (GradusWindow *self);
/* What keeps the run panel on the model (gradus-run-binding.h). */
GradusRunBinding *gradus_window_get_run_binding (GradusWindow *self);

/* Where win.add-node puts a node (graph coordinates of its top left): next
 * to the selection, else the view's centre, on no other node. */
void     gradus_window_free_spot (GradusWindow *self, double *x, double *y);

/* The file name the export dialog proposes: "linreg.svg" for linreg.gradus. */
char    *gradus_window_export_name (GradusWindow *self, const char *format);

gboolean gradus_window_open_path (GradusWindow *self, const char *path, GError **error);
gboolean gradus_window_save_to (GradusWindow *self, const char *path, GError **error);
/* "png", "svg", "pdf" (the canvas, gradient graphs as shown) or "dot". */
gboolean gradus_window_export_to (GradusWindow *self, const char *path, const char *format,
                                  GError **error);
/* The whole window as a PNG, as it is drawn now. */
gboolean gradus_window_screenshot (GradusWindow *self, const char *path, GError **error);
/* Loads an autosaved copy of unsaved work: the document keeps its original
 * path (if any) and shows as modified. */
gboolean gradus_window_restore (GradusWindow *self, const char *autosave, const char *original,
                                GError **error);
/* Writes the autosave now if there is unsaved work; returns its path or NULL. */
const char *gradus_window_autosave_now (GradusWindow *self);
/* The question about a data file outside the document's folder, while it is
 * shown (responses "allow": for this document, "refuse"), or NULL. */
GtkWindow  *gradus_window_get_data_dialog (GradusWindow *self);
/* Whether the last autosave failed (the user was told once, in a toast). */
gboolean    gradus_window_get_autosave_failing (GradusWindow *self);
/* The last message shown to the user (a refused wire, an error), or NULL. */
const char *gradus_window_get_last_message (GradusWindow *self);
/* Shows a toast and remembers it as the last message. */
void     gradus_window_message (GradusWindow *self, const char *text);

/* Where autosaves go: $XDG_STATE_HOME/gradus/autosave. */
char    *gradus_autosave_dir (void);

G_END_DECLS
