/* gradus-canvas.h: the node canvas: draws the document's scene, pans, zooms,
 * selects, moves and wires nodes. Every edit goes through the model. */
#pragma once

#include <gtk/gtk.h>
#include "gradus-doc-model.h"
#include "gradus-scene.h"

G_BEGIN_DECLS

#define GRADUS_TYPE_CANVAS (gradus_canvas_get_type ())
G_DECLARE_FINAL_TYPE (GradusCanvas, gradus_canvas, GRADUS, CANVAS, GtkWidget)

GtkWidget      *gradus_canvas_new (GradusDocModel *model);
void            gradus_canvas_set_model (GradusCanvas *self, GradusDocModel *model);
GradusDocModel *gradus_canvas_get_model (GradusCanvas *self);
GradusScene    *gradus_canvas_get_scene (GradusCanvas *self);

/* Selected ids in file order (NULL-terminated; free with g_strfreev). */
GStrv           gradus_canvas_dup_selection (GradusCanvas *self);
void            gradus_canvas_set_selection (GradusCanvas *self, const char *const *ids);
void            gradus_canvas_select_all (GradusCanvas *self);

double          gradus_canvas_get_zoom (GradusCanvas *self);
/* Zooms keeping graph point under widget point (wx, wy) fixed. */
void            gradus_canvas_zoom_at (GradusCanvas *self, double factor, double wx, double wy);
void            gradus_canvas_zoom_to_fit (GradusCanvas *self);
void            gradus_canvas_zoom_reset (GradusCanvas *self);
/* The graph point at the centre of the view. */
void            gradus_canvas_get_view_centre (GradusCanvas *self, double *x, double *y);
void            gradus_canvas_widget_to_graph (GradusCanvas *self, double wx, double wy,
                                               double *gx, double *gy);

/* Gradient graphs of grad nodes, shown beside the forward graph. */
void            gradus_canvas_set_gradient_shown (GradusCanvas *self, const char *grad_id,
                                                  gboolean shown);
gboolean        gradus_canvas_get_gradient_shown (GradusCanvas *self, const char *grad_id);

/* Connects as a wire dropped on a port would; on refusal emits "message" with
 * the reason and returns FALSE. */
gboolean        gradus_canvas_connect (GradusCanvas *self, const char *source_ref,
                                       const char *target, gint slot);

/* Live values of the last call (gradus_run_panel_dup_node_values()): keys
 * "id", "id:k", grad outputs "g:k", values GrdTensor*. The canvas keeps a
 * reference to the table; NULL clears. An edit of the graph (not of positions
 * or the view) clears them, as it does the NaN badge. */
void            gradus_canvas_set_live_values (GradusCanvas *self, GHashTable *values,
                                               gint64 call);
/* Borrowed; NULL when none. */
GHashTable     *gradus_canvas_get_live_values (GradusCanvas *self);
/* Hovers the pointer at graph point (gx, gy), as a motion event would; a NAN
 * coordinate leaves. */
void            gradus_canvas_hover_at (GradusCanvas *self, double gx, double gy);
/* What the hover card shows now (the wire's reference, then
 * gradus_live_describe()), or NULL when no card is shown. Borrowed. */
const char     *gradus_canvas_get_hover_text (GradusCanvas *self);
/* The red "NaN at call N" badge on node `id`; NULL removes it. */
void            gradus_canvas_set_nan_badge (GradusCanvas *self, const char *id, gint64 call);
/* The badge's text and node, or NULL when none. Borrowed. */
const char     *gradus_canvas_get_nan_badge (GradusCanvas *self, const char **node);

/* Classroom hooks (ui/teach/): a function called after the scene is drawn, in
 * graph coordinates, to draw over it (NULL removes it); presentation mode
 * (names large, ports shown only when zoomed in further); the part of the
 * graph in view; centring the view on a graph point (the minimap); the call
 * number of the live values. */
typedef void  (*GradusCanvasOverlayFunc) (GradusCanvas *canvas, cairo_t *cr, GradusScene *scene,
                                          double zoom, gboolean dark, gpointer data);
void            gradus_canvas_set_overlay_func (GradusCanvas *self, GradusCanvasOverlayFunc func,
                                                gpointer data);
void            gradus_canvas_set_presentation (GradusCanvas *self, gboolean on);
gboolean        gradus_canvas_get_presentation (GradusCanvas *self);
void            gradus_canvas_get_visible_area (GradusCanvas *self, double *x, double *y,
                                                double *w, double *h);
void            gradus_canvas_center_on (GradusCanvas *self, double gx, double gy);
gint64          gradus_canvas_get_live_call (GradusCanvas *self);

G_END_DECLS
