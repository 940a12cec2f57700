/* gradus-scan-actions.h: the window's scan actions (ui/scan/README.md):
 * win.scan-open opens the selected scan's body in place, or closes the open
 * one (Ctrl+R, or a double-click on the zone); win.scan-expand shows the
 * body in small inside the zone, or folds it back. */
#pragma once

#include "gradus-window.h"
#include "gradus-canvas.h"
#include "gradus-scene.h"

G_BEGIN_DECLS

void     gradus_scan_actions_install (GradusWindow *window);
/* A double-click on `sn`: TRUE when it opened or closed a scan body. */
gboolean gradus_scan_canvas_activate (GradusCanvas *canvas, GradusSceneNode *sn);

G_END_DECLS
