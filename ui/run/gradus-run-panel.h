/* gradus-run-panel.h: the run panel: feeds, steps, back end, Run / Pause /
 * Step / Reset, progress, plots of the outputs and shared variables, the NaN
 * guard and the profile of the last run.
 *
 * Actions (group "run", inserted on the panel): run.run, run.pause, run.step,
 * run.reset, and the stateful run.nan-guard.
 *
 * Signals:
 *   "finished" (GradusRunEnd end)         a run or step ended (and its values are
 *                                         in the series)
 *   "nan-found" (const char *node, gint64 call)  the NaN guard stopped a run; node
 *                                         is the first op node that produced a
 *                                         non-finite value ("" if none was found)
 *   "running-changed" (gboolean running)
 *   "cleared"                             the results are gone (new document, Reset)
 *   "data-refused" (const char *path)     the document reads a data file outside its
 *                                         folder that is not allowed (the build
 *                                         failed); gradus_run_panel_allow_data()
 *                                         allows it for this document
 */
#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>
#include "gradus.h"
#include "gradus-run-worker.h"
#include "gradus-profile-view.h"

G_BEGIN_DECLS

#define GRADUS_TYPE_RUN_PANEL (gradus_run_panel_get_type ())
G_DECLARE_FINAL_TYPE (GradusRunPanel, gradus_run_panel, GRADUS, RUN_PANEL, GtkBox)

GtkWidget  *gradus_run_panel_new (void);

/* Builds the document from `root` (copied) and compiles its function at once.
 * Errors show in the panel; returns FALSE then (the panel stays usable). A
 * running run is stopped first. `path` resolves data-set paths; may be NULL. */
gboolean    gradus_run_panel_set_document (GradusRunPanel *self, JsonNode *root,
                                           const char *path);
/* Which function Run calls, in a file with several: NULL (or the file's
 * run.function) is that one with its run.also functions; another name calls
 * that function alone, fed from run.feeds, as `gradus run --function NAME`.
 * Results are reset. The window shows a chooser for it. */
gboolean    gradus_run_panel_set_function (GradusRunPanel *self, const char *name);
/* The function chosen, or NULL for the file's run function. */
const char *gradus_run_panel_get_function (GradusRunPanel *self);
/* Allows the data file (or folder) `path` outside the document's folder for
 * this document (until another file is set) and builds the document again. */
void        gradus_run_panel_allow_data (GradusRunPanel *self, const char *path);
/* The status line as shown ("Ready: …", "10 calls in 0.1 ms …"). */
const char *gradus_run_panel_get_status (GradusRunPanel *self);
/* Shows `message` as the error of the document (the editor says it better
 * than the engine: which node is unfinished and what it lacks). */
void        gradus_run_panel_set_problem (GradusRunPanel *self, const char *message);
/* The message shown for the last compile or run error, or NULL. */
const char *gradus_run_panel_get_error (GradusRunPanel *self);

/* Starts n_steps calls (n_steps <= 0: the steps field). FALSE if it cannot
 * start (running already, nothing compiled). */
gboolean    gradus_run_panel_run (GradusRunPanel *self, gint64 n_steps);
/* Stops after the current call; returns at once ("finished" follows). */
void        gradus_run_panel_pause (GradusRunPanel *self);
/* One call. */
gboolean    gradus_run_panel_step (GradusRunPanel *self);
/* Shared variables back to the document's values, call count to 0, plots
 * cleared; a document with run.resume (kept or saved by --save) goes on from
 * there: its step numbers and random streams, as `gradus run` does. */
void        gradus_run_panel_reset (GradusRunPanel *self);
gboolean    gradus_run_panel_is_running (GradusRunPanel *self);

void        gradus_run_panel_set_steps (GradusRunPanel *self, gint64 steps);
gint64      gradus_run_panel_get_steps (GradusRunPanel *self);
gboolean    gradus_run_panel_set_backend (GradusRunPanel *self, GrdBackend backend);
GrdBackend  gradus_run_panel_get_backend (GradusRunPanel *self);
/* The back end the compiled function really runs on (Vulkan falls back to the
 * CPU where no device is found; the panel then says why). */
GrdBackend  gradus_run_panel_get_active_backend (GradusRunPanel *self);
void        gradus_run_panel_set_nan_guard (GradusRunPanel *self, gboolean on);
/* Replaces the feed of `input` by this JSON (a value or a data set) and
 * rebuilds the feeds; NULL goes back to the file's feed. */
gboolean    gradus_run_panel_set_feed (GradusRunPanel *self, const char *input, const char *json,
                                       GError **error);

/* Calls made since the document was set or reset (a keep leaves them). */
gint64      gradus_run_panel_get_n_calls (GradusRunPanel *self);
/* The plots' axis, tick and legend text size factor (presentation: larger),
 * kept for plots made later. */
void        gradus_run_panel_set_text_scale (GradusRunPanel *self, double scale);
/* The stored values of a scalar series: "out:N", an output reference of the
 * file's function ("mse", "g:0") or a shared variable's id; "NAME/out:N" for
 * an output of the run.also function NAME (one value per call of the main
 * function, NaN after the calls where NAME was not called). NULL for unknown
 * names and for values that are not scalars. Owned by the panel. */
GArray     *gradus_run_panel_get_series (GradusRunPanel *self, const char *name);
/* The latest value of any output or shared variable (borrowed), or NULL. */
GrdTensor  *gradus_run_panel_get_latest (GradusRunPanel *self, const char *name);
/* Series names, outputs ("out:N") then shared ids, NULL-terminated (free with
 * g_strfreev). */
GStrv       gradus_run_panel_list_series (GradusRunPanel *self);
/* The plot widgets, in panel order (borrowed GradusPlot*). */
GPtrArray  *gradus_run_panel_get_plots (GradusRunPanel *self);
/* Profile rows of the last run: GradusProfileRow (gradus-profile-view.h),
 * sorted by time, owned. */
GArray     *gradus_run_panel_get_profile (GradusRunPanel *self);
/* Live values for the canvas: every node output of the last call, computed
 * again from that call's inputs and the shared values before it (so the
 * outputs equal the plotted values of that call). Keys: "id" (output 0),
 * "id:k", and grad outputs "g:k"; values GrdTensor* (the table owns them).
 * `call` receives the call number. NULL (with error) while running or before
 * the first call. */
GHashTable *gradus_run_panel_dup_node_values (GradusRunPanel *self, gint64 *call,
                                              GError **error);
/* Keeping the trained values (gradus-run-panel-keep.c). A window action
 * (win.keep-trained in the editor) writes them into its document; the panel
 * button of that name is insensitive where the window has no such action.
 * Whether calls were made since the last build (Reset, a new document) or
 * keep, and none is running. */
gboolean    gradus_run_panel_can_keep (GradusRunPanel *self);
/* The document as `gradus run --save` would write it now: the shared values
 * after the last call and run.resume (where the run stands: the next step,
 * each function's calls, each random stream's draws), the rest as the panel
 * was handed it. NULL with the reason when there is nothing to keep or the
 * device cannot give the values back. Unref it. */
JsonNode   *gradus_run_panel_dup_kept_tree (GradusRunPanel *self, GError **error);
/* The document took the values: nothing to keep until the next call. */
void        gradus_run_panel_mark_kept (GradusRunPanel *self);
/* The document's JSON changed in its shared values and run.resume only (a
 * keep, its undo or redo): taken (copied) for the next Reset without
 * touching the run, its plots or its compiled function. */
void        gradus_run_panel_adopt_document (GradusRunPanel *self, JsonNode *root,
                                             const char *path);

/* The "run" actions, for a window that wants them (shortcuts): insert it on
 * the window as "run" too. Borrowed. */
GActionGroup *gradus_run_panel_get_action_group (GradusRunPanel *self);

G_END_DECLS
