/* gradus-render.h: draws a scene with Cairo and Pango; the canvas widget and
 * the PNG/SVG/PDF export share it. */
#pragma once

#include <cairo.h>
#include "gradus-scene.h"

G_BEGIN_DECLS

typedef struct {
  gboolean dark;
  /* Part of the graph to draw, in graph coordinates; w <= 0 draws everything. */
  double   clip_x, clip_y, clip_w, clip_h;
  /* A wire being dragged: from (x0, y0) to (x1, y1); `wire` FALSE when none. */
  gboolean wire;
  double   wire_x0, wire_y0, wire_x1, wire_y1;
  /* Screen pixels per graph unit (0: 1). Below GRADUS_RENDER_NAME_ONLY_ZOOM a
   * node shows its name only, large enough to read (semantic zoom). */
  double   zoom;
  /* Presentation (projectors): names only below GRADUS_RENDER_PRESENT_NAME_ONLY_ZOOM,
   * GRADUS_RENDER_PRESENT_NAME_PX pixels high. */
  gboolean presentation;
} GradusRenderOptions;

#define GRADUS_RENDER_NAME_ONLY_ZOOM 0.7
#define GRADUS_RENDER_PRESENT_NAME_ONLY_ZOOM 1.3
#define GRADUS_RENDER_PRESENT_NAME_PX 22.0

/* Where a node's text goes, in graph coordinates (`node`: its scene index). */
typedef struct {
  double x, y, w, h;
  gint   node;
} GradusLabelRect;

/* Appends the rectangle of every node label `gradus_render_scene` draws with
 * these options (names only when zoomed out; else title, kind and ports). */
void gradus_render_label_rects (GradusScene *scene, const GradusRenderOptions *options,
                                GArray *out);

/* Whether node `node`'s name is drawn in full with these options (FALSE:
 * shortened with an ellipsis or left out, zoomed out on a crowded graph). */
gboolean gradus_render_name_is_whole (GradusScene *scene, const GradusRenderOptions *options,
                                      guint node);

/* Draws in graph coordinates: the caller sets the transform. */
void gradus_render_scene (cairo_t *cr, GradusScene *scene, const GradusRenderOptions *options);

/* Renders a whole scene on a white (or dark) page to `format` ("png", "svg",
 * "pdf") at `path`. `scale` multiplies the PNG's pixels (HiDPI). */
gboolean gradus_render_to_file (GradusScene *scene, const char *format, const char *path,
                                double scale, gboolean dark, GError **error);

G_END_DECLS
