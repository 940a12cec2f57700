/* gradus-interchange-actions.h: File → Export as ONNX / PyTorch script and
 * File → Import ONNX in the editor (engine/interchange/ does the work). */
#pragma once

#include "gradus-window.h"

G_BEGIN_DECLS

/* Adds to the window:
 *   win.export-model ("onnx" | "pytorch")   asks for a file, then exports
 *   win.export-model-to ("FORMAT:PATH")     exports without asking (scripts, tests)
 *   win.import-onnx                         asks for a model, then imports it
 *   win.import-onnx-from (PATH)             imports without asking
 * An import opens as a new unsaved graph, in this window unless it holds
 * unsaved work (then in a new one). */
void     gradus_interchange_actions_install (GradusWindow *window);

/* The work of the actions; errors name the file and the node. */
gboolean gradus_interchange_export (GradusWindow *window, const char *format, const char *path,
                                    GError **error);
/* Returns the window that shows the imported graph (window itself or a new one). */
GradusWindow *gradus_interchange_import (GradusWindow *window, const char *model_path,
                                         GError **error);

G_END_DECLS
