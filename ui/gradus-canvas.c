/* gradus-canvas.c: the node canvas.
 *
 * One widget that draws the whole scene with Cairo in snapshot(), clipped to
 * what is visible, and turns pointer gestures into model edits: drag a node
 * to move it (and the selection), drag from a port to a port to wire, drag on
 * the background for a selection box; middle drag, space and drag, or scroll
 * to pan; ctrl and scroll, or pinch, to zoom about the pointer. */
#include "gradus-canvas.h"
#include "gradus-canvas-a11y.h"
#include "organise/gradus-organise-canvas.h"
#include "organise/gradus-organise-group-canvas.h"
#include "gradus-keyboard.h"
#include "gradus-live.h"
#include "gradus-palette.h"
#include "gradus-render.h"
#include "gradus-ui-private.h"
#include "scan/gradus-scan-zone.h"
#include "scan/gradus-scan-actions.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <math.h>

typedef enum {
  MODE_NONE,
  MODE_MOVE,
  MODE_WIRE,
  MODE_RUBBER,
  MODE_PAN,
  MODE_ORGANISE,   /* a frame or comment (ui/organise) */
} DragMode;

struct _GradusCanvas {
  GtkWidget       parent_instance;
  GradusDocModel *model;
  gulong          changed_id;
  GradusScene    *scene;
  GHashTable     *selection;    /* ids */
  GHashTable     *expanded;     /* grad ids whose gradient graph is shown */
  double          ox, oy, zoom; /* graph point at the top-left corner; pixels per unit */
  gboolean        need_fit;
  gboolean        fitted;       /* the view is a fit the user has not moved: refit on resize */
  int             fit_w, fit_h;

  DragMode        mode;
  double          start_wx, start_wy, drag_dx, drag_dy;
  double          pan_ox, pan_oy;
  char           *wire_ref;      /* output reference a wire starts from */
  char           *wire_target;   /* or the input it was dragged back from */
  gint            wire_slot;
  double          wire_x0, wire_y0;
  double          pointer_x, pointer_y;
  gboolean        space_held;
  double          zoom_begin;
  double          scroll_acc;

  /* Live values of the run panel's last call, and the graph they belong to. */
  GHashTable     *live;
  gint64          live_call;
  char           *live_signature;
  double          hover_gx, hover_gy;   /* NAN when the pointer is away */
  char           *hover_text;
  char           *nan_node;
  char           *nan_text;

  /* Classroom hooks (ui/teach/). */
  GradusCanvasOverlayFunc overlay;
  gpointer        overlay_data;
  gboolean        presentation;
};

enum { SIG_SELECTION_CHANGED, SIG_MESSAGE, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (GradusCanvas, gradus_canvas, GTK_TYPE_WIDGET)

#define MIN_ZOOM 0.1
#define MAX_ZOOM 4.0

/* ------------------------------------------------------------ scene */

static void
invalidate (GradusCanvas *self)
{
  g_clear_pointer (&self->scene, gradus_scene_free);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  gradus_canvas_a11y_queue_update (self);
}

GradusScene *
gradus_canvas_get_scene (GradusCanvas *self)
{
  if (!self->scene && self->model)
    self->scene = gradus_scene_new (self->model, self->expanded, self->selection);
  return self->scene;
}

static void
save_view (GradusCanvas *self)
{
  if (self->model)
    gradus_doc_model_set_view (self->model, self->ox, self->oy, self->zoom);
}

/* ------------------------------------------------------------ live values */

/* The document without its "ui" object: moving nodes or the view keeps the
 * values, any other edit makes them stale. */
static char *
graph_signature (GradusDocModel *model)
{
  JsonNode *root = model ? gradus_doc_model_get_root (model) : NULL;
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  JsonObject *o = json_node_get_object (root);
  GString *sig = g_string_new (NULL);
  g_autoptr (GList) members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next) {
    if (g_str_equal (l->data, "ui"))
      continue;
    g_autofree char *text = json_to_string (json_object_get_member (o, l->data), FALSE);
    g_string_append_printf (sig, "%s=%s;", (const char *) l->data, text);
  }
  return g_string_free (sig, FALSE);
}

static void
clear_live (GradusCanvas *self)
{
  g_clear_pointer (&self->live, g_hash_table_unref);
  g_clear_pointer (&self->live_signature, g_free);
  g_clear_pointer (&self->nan_node, g_free);
  g_clear_pointer (&self->nan_text, g_free);
}

/* The hovered wire and its value, or -1. */
static gint
hover_edge (GradusCanvas *self, char **ref, GrdTensor **value)
{
  if (!self->live || isnan (self->hover_gx) || self->mode != MODE_NONE)
    return -1;
  GradusScene *scene = gradus_canvas_get_scene (self);
  if (!scene)
    return -1;
  /* A few pixels on screen, whatever the zoom. */
  gint e = gradus_scene_hit_edge (scene, self->hover_gx, self->hover_gy, 6 / self->zoom);
  if (e < 0)
    return -1;
  g_autofree char *r = gradus_scene_edge_source_ref (scene, e);
  GrdTensor *v = g_hash_table_lookup (self->live, r);
  if (!v)
    return -1;
  if (ref)
    *ref = g_steal_pointer (&r);
  if (value)
    *value = v;
  return e;
}

static void
update_hover (GradusCanvas *self)
{
  g_autofree char *ref = NULL;
  GrdTensor *value = NULL;
  gboolean had_card = self->hover_text != NULL;
  g_clear_pointer (&self->hover_text, g_free);
  if (hover_edge (self, &ref, &value) >= 0)
    self->hover_text = gradus_live_card_text (ref, value);
  /* The card follows the pointer; nothing to redraw while it is off the wires. */
  if (had_card || self->hover_text)
    gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
gradus_canvas_set_live_values (GradusCanvas *self, GHashTable *values, gint64 call)
{
  g_return_if_fail (GRADUS_IS_CANVAS (self));
  g_clear_pointer (&self->live, g_hash_table_unref);
  g_free (self->live_signature);
  self->live_signature = graph_signature (self->model);
  if (values) {
    self->live = g_hash_table_ref (values);
    self->live_call = call;
  }
  update_hover (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

GHashTable *
gradus_canvas_get_live_values (GradusCanvas *self)
{
  return self->live;
}

void
gradus_canvas_hover_at (GradusCanvas *self, double gx, double gy)
{
  self->hover_gx = gx;
  self->hover_gy = gy;
  update_hover (self);
}

const char *
gradus_canvas_get_hover_text (GradusCanvas *self)
{
  return self->hover_text;
}

void
gradus_canvas_set_nan_badge (GradusCanvas *self, const char *id, gint64 call)
{
  g_clear_pointer (&self->nan_node, g_free);
  g_clear_pointer (&self->nan_text, g_free);
  if (id && *id) {
    self->nan_node = g_strdup (id);
    self->nan_text = g_strdup_printf (_("NaN at call %lld"), (long long) call);
    if (!self->live) {
      g_free (self->live_signature);
      self->live_signature = graph_signature (self->model);
    }
  }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

const char *
gradus_canvas_get_nan_badge (GradusCanvas *self, const char **node)
{
  if (node)
    *node = self->nan_node;
  return self->nan_text;
}

static void
model_changed (GradusCanvas *self)
{
  /* Forget selected or expanded nodes that an edit or an undo removed. */
  GHashTableIter it;
  gpointer key;
  gboolean sel_changed = FALSE;
  g_hash_table_iter_init (&it, self->selection);
  while (g_hash_table_iter_next (&it, &key, NULL))
    if (!gradus_doc_model_get_node (self->model, key)) {
      g_hash_table_iter_remove (&it);
      sel_changed = TRUE;
    }
  g_clear_pointer (&self->expanded, g_hash_table_unref);
  self->expanded = gradus_ui_expanded_grads (self->model);
  if (self->live || self->nan_node) {
    g_autofree char *sig = graph_signature (self->model);
    if (g_strcmp0 (sig, self->live_signature) != 0)
      clear_live (self);
  }
  invalidate (self);
  update_hover (self);
  gradus_group_canvas_sync (GTK_WIDGET (self));
  if (sel_changed)
    g_signal_emit (self, signals[SIG_SELECTION_CHANGED], 0);
}

static void
node_renamed (GradusDocModel *model, const char *from, const char *to, GradusCanvas *self)
{
  if (g_hash_table_remove (self->selection, from))
    g_hash_table_add (self->selection, g_strdup (to));
}

void
gradus_canvas_set_model (GradusCanvas *self, GradusDocModel *model)
{
  if (self->model) {
    g_signal_handler_disconnect (self->model, self->changed_id);
    g_signal_handlers_disconnect_by_func (self->model, node_renamed, self);
    g_clear_object (&self->model);
  }
  clear_live (self);
  self->model = g_object_ref (model);
  self->changed_id = g_signal_connect_swapped (model, "changed", G_CALLBACK (model_changed), self);
  g_signal_connect (model, "node-renamed", G_CALLBACK (node_renamed), self);
  g_hash_table_remove_all (self->selection);
  double x, y, z;
  if (gradus_doc_model_get_view (model, &x, &y, &z) && z > 0) {
    self->ox = x;
    self->oy = y;
    self->zoom = CLAMP (z, MIN_ZOOM, MAX_ZOOM);
    self->need_fit = FALSE;
    self->fitted = FALSE;
  } else
    self->need_fit = TRUE;
  model_changed (self);
  g_signal_emit (self, signals[SIG_SELECTION_CHANGED], 0);
  gtk_widget_queue_allocate (GTK_WIDGET (self));
}

GradusDocModel *
gradus_canvas_get_model (GradusCanvas *self)
{
  return self->model;
}

/* ------------------------------------------------------------ selection */

GStrv
gradus_canvas_dup_selection (GradusCanvas *self)
{
  GradusScene *scene = gradus_canvas_get_scene (self);
  GPtrArray *ids = g_ptr_array_new ();
  for (guint i = 0; scene && i < scene->nodes->len; i++) {
    GradusSceneNode *n = scene->nodes->pdata[i];
    if (g_hash_table_contains (self->selection, n->id))
      g_ptr_array_add (ids, g_strdup (n->id));
  }
  g_ptr_array_add (ids, NULL);
  return (GStrv) g_ptr_array_free (ids, FALSE);
}

void
gradus_canvas_set_selection (GradusCanvas *self, const char *const *ids)
{
  g_hash_table_remove_all (self->selection);
  for (; ids && *ids; ids++)
    g_hash_table_add (self->selection, g_strdup (*ids));
  invalidate (self);
  g_signal_emit (self, signals[SIG_SELECTION_CHANGED], 0);
}

void
gradus_canvas_select_all (GradusCanvas *self)
{
  g_hash_table_remove_all (self->selection);
  for (guint i = 0; i < gradus_doc_model_n_nodes (self->model); i++) {
    JsonObject *o = gradus_doc_model_node_at (self->model, i);
    const char *id = o ? json_object_get_string_member_with_default (o, "id", NULL) : NULL;
    if (id)
      g_hash_table_add (self->selection, g_strdup (id));
  }
  invalidate (self);
  g_signal_emit (self, signals[SIG_SELECTION_CHANGED], 0);
}

static void
toggle_selected (GradusCanvas *self, const char *id, gboolean only)
{
  if (only) {
    g_hash_table_remove_all (self->selection);
    g_hash_table_add (self->selection, g_strdup (id));
  } else if (!g_hash_table_remove (self->selection, id))
    g_hash_table_add (self->selection, g_strdup (id));
  invalidate (self);
  g_signal_emit (self, signals[SIG_SELECTION_CHANGED], 0);
}

/* ------------------------------------------------------------ view */

void
gradus_canvas_widget_to_graph (GradusCanvas *self, double wx, double wy, double *gx, double *gy)
{
  *gx = self->ox + wx / self->zoom;
  *gy = self->oy + wy / self->zoom;
}

double
gradus_canvas_get_zoom (GradusCanvas *self)
{
  return self->zoom;
}

void
gradus_canvas_zoom_at (GradusCanvas *self, double factor, double wx, double wy)
{
  double gx, gy;
  gradus_canvas_widget_to_graph (self, wx, wy, &gx, &gy);
  self->zoom = CLAMP (self->zoom * factor, MIN_ZOOM, MAX_ZOOM);
  self->ox = gx - wx / self->zoom;
  self->oy = gy - wy / self->zoom;
  self->fitted = FALSE;
  save_view (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
gradus_canvas_zoom_to_fit (GradusCanvas *self)
{
  GradusScene *scene = gradus_canvas_get_scene (self);
  double w = gtk_widget_get_width (GTK_WIDGET (self)), h = gtk_widget_get_height (GTK_WIDGET (self));
  double bx, by, bw, bh;
  if (w <= 1 || h <= 1)
    w = 800, h = 600;
  if (!scene || !gradus_scene_bounds (scene, &bx, &by, &bw, &bh)) {
    self->zoom = 1;
    self->ox = self->oy = 0;
  } else {
    /* Presenting, names overhang their boxes: more room at the edges. */
    const double margin = self->presentation ? 110 : 40;
    self->zoom = CLAMP (MIN (w / (bw + 2 * margin), h / (bh + 2 * margin)), MIN_ZOOM, 1.5);
    self->ox = bx + bw / 2 - w / self->zoom / 2;
    self->oy = by + bh / 2 - h / self->zoom / 2;
  }
  self->fitted = TRUE;
  self->fit_w = (int) w;
  self->fit_h = (int) h;
  save_view (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
gradus_canvas_zoom_reset (GradusCanvas *self)
{
  gradus_canvas_zoom_at (self, 1.0 / self->zoom, gtk_widget_get_width (GTK_WIDGET (self)) / 2.0,
                         gtk_widget_get_height (GTK_WIDGET (self)) / 2.0);
}

void
gradus_canvas_get_view_centre (GradusCanvas *self, double *x, double *y)
{
  double w = gtk_widget_get_width (GTK_WIDGET (self)), h = gtk_widget_get_height (GTK_WIDGET (self));
  if (w <= 1 || h <= 1)
    w = 800, h = 600;
  gradus_canvas_widget_to_graph (self, w / 2, h / 2, x, y);
}

void
gradus_canvas_set_gradient_shown (GradusCanvas *self, const char *grad_id, gboolean shown)
{
  if (shown)
    g_hash_table_add (self->expanded, g_strdup (grad_id));
  else
    g_hash_table_remove (self->expanded, grad_id);
  gradus_ui_set_expanded_grads (self->model, self->expanded);
  invalidate (self);
}

gboolean
gradus_canvas_get_gradient_shown (GradusCanvas *self, const char *grad_id)
{
  return g_hash_table_contains (self->expanded, grad_id);
}

gboolean
gradus_canvas_connect (GradusCanvas *self, const char *source_ref, const char *target, gint slot)
{
  g_autoptr (GError) error = NULL;
  if (gradus_doc_model_connect (self->model, target, slot, source_ref, &error))
    return TRUE;
  g_signal_emit (self, signals[SIG_MESSAGE], 0, error->message);
  return FALSE;
}

/* ------------------------------------------------------------ classroom hooks */

void
gradus_canvas_set_overlay_func (GradusCanvas *self, GradusCanvasOverlayFunc func, gpointer data)
{
  self->overlay = func;
  self->overlay_data = data;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
gradus_canvas_set_presentation (GradusCanvas *self, gboolean on)
{
  self->presentation = on;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
gradus_canvas_get_presentation (GradusCanvas *self)
{
  return self->presentation;
}

void
gradus_canvas_get_visible_area (GradusCanvas *self, double *x, double *y, double *w, double *h)
{
  *x = self->ox;
  *y = self->oy;
  *w = gtk_widget_get_width (GTK_WIDGET (self)) / self->zoom;
  *h = gtk_widget_get_height (GTK_WIDGET (self)) / self->zoom;
}

void
gradus_canvas_center_on (GradusCanvas *self, double gx, double gy)
{
  double x, y, w, h;
  gradus_canvas_get_visible_area (self, &x, &y, &w, &h);
  self->ox = gx - w / 2;
  self->oy = gy - h / 2;
  self->fitted = FALSE;
  save_view (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gint64
gradus_canvas_get_live_call (GradusCanvas *self)
{
  return self->live ? self->live_call : 0;
}

/* ------------------------------------------------------------ drawing */

static void
gradus_canvas_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  GradusCanvas *self = GRADUS_CANVAS (widget);
  double w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  gboolean dark = adw_style_manager_get_dark (adw_style_manager_get_default ());
  GdkRGBA bg = dark ? (GdkRGBA) { 0.14, 0.14, 0.14, 1 } : (GdkRGBA) { 0.965, 0.961, 0.957, 1 };
  gtk_snapshot_append_color (snapshot, &bg, &GRAPHENE_RECT_INIT (0, 0, w, h));
  GradusScene *scene = gradus_canvas_get_scene (self);
  if (!scene)
    return;

  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  cairo_scale (cr, self->zoom, self->zoom);
  cairo_translate (cr, -self->ox, -self->oy);

  /* A light grid that moves with the graph shows panning and zoom. */
  if (self->zoom > 0.35) {
    double step = 40;
    cairo_set_source_rgba (cr, dark ? 1 : 0, dark ? 1 : 0, dark ? 1 : 0, 0.06);
    cairo_set_line_width (cr, 1 / self->zoom);
    for (double gx = floor (self->ox / step) * step; gx < self->ox + w / self->zoom; gx += step) {
      cairo_move_to (cr, gx, self->oy);
      cairo_line_to (cr, gx, self->oy + h / self->zoom);
    }
    for (double gy = floor (self->oy / step) * step; gy < self->oy + h / self->zoom; gy += step) {
      cairo_move_to (cr, self->ox, gy);
      cairo_line_to (cr, self->ox + w / self->zoom, gy);
    }
    cairo_stroke (cr);
  }

  GradusRenderOptions o = {
    .dark = dark,
    .zoom = self->zoom,
    .clip_x = self->ox, .clip_y = self->oy, .clip_w = w / self->zoom, .clip_h = h / self->zoom,
  };
  if (self->mode == MODE_WIRE) {
    double px, py;
    gradus_canvas_widget_to_graph (self, self->start_wx + self->drag_dx,
                                   self->start_wy + self->drag_dy, &px, &py);
    o.wire = TRUE;
    if (self->wire_ref) {
      o.wire_x0 = self->wire_x0, o.wire_y0 = self->wire_y0, o.wire_x1 = px, o.wire_y1 = py;
    } else {
      o.wire_x0 = px, o.wire_y0 = py, o.wire_x1 = self->wire_x0, o.wire_y1 = self->wire_y0;
    }
  }
  /* Nodes being dragged are drawn where the pointer has taken them; the
   * model hears of it once, when the drag ends. */
  double mdx = 0, mdy = 0;
  if (self->mode == MODE_MOVE) {
    mdx = self->drag_dx / self->zoom;
    mdy = self->drag_dy / self->zoom;
  }
  for (guint i = 0; mdx + mdy != 0 && i < scene->nodes->len; i++) {
    GradusSceneNode *n = scene->nodes->pdata[i];
    if (n->selected && !n->readonly)
      n->x += mdx, n->y += mdy;
  }
  o.presentation = self->presentation;
  gradus_render_scene (cr, scene, &o);
  /* the last call's steps and draws on zones and random nodes (ui/scan), names only when far */
  if (self->live && self->zoom >= (self->presentation ? GRADUS_RENDER_PRESENT_NAME_ONLY_ZOOM
                                                      : GRADUS_RENDER_NAME_ONLY_ZOOM))
    gradus_scan_draw_over (cr, scene, self->live, dark);
  for (guint i = 0; mdx + mdy != 0 && i < scene->nodes->len; i++) {
    GradusSceneNode *n = scene->nodes->pdata[i];
    if (n->selected && !n->readonly)
      n->x -= mdx, n->y -= mdy;
  }
  gradus_group_canvas_draw (GTK_WIDGET (self), cr, scene, self->zoom, dark);
  gradus_keyboard_draw_mark (self, cr, scene, dark);
  if (self->overlay) {
    cairo_save (cr);
    self->overlay (self, cr, scene, self->zoom, dark, self->overlay_data);
    cairo_restore (cr);
  }

  if (self->mode == MODE_WIRE) {
    /* Ring the port the wire would land on. */
    double px, py, cx, cy;
    gboolean output;
    gint port;
    gradus_canvas_widget_to_graph (self, self->start_wx + self->drag_dx,
                                   self->start_wy + self->drag_dy, &px, &py);
    gint n = gradus_scene_hit_port (scene, px, py, &output, &port);
    if (n >= 0 && output == (self->wire_ref == NULL)
        && !((GradusSceneNode *) scene->nodes->pdata[n])->readonly) {
      gradus_scene_port_pos (scene, n, output, port, &cx, &cy);
      cairo_new_path (cr);
      cairo_arc (cr, cx, cy, 10, 0, 2 * G_PI);
      cairo_set_source_rgba (cr, 0.21, 0.52, 0.89, 0.35);
      cairo_fill (cr);
    }
  }
  if (self->nan_node) {
    gint bn = gradus_scene_find (scene, self->nan_node);
    if (bn >= 0) {
      GradusSceneNode *sn = scene->nodes->pdata[bn];
      gradus_live_draw_badge (cr, sn->x + 6, sn->y - 4, self->nan_text);
    }
  }
  g_autofree char *hover_ref = NULL;
  GrdTensor *hover_value = NULL;
  gint he = hover_edge (self, &hover_ref, &hover_value);
  if (he >= 0) {
    /* The hovered wire, outlined, so that it is clear which one the card is about. */
    double px, py;
    gradus_scene_edge_point (scene, he, 0, &px, &py);
    cairo_move_to (cr, px, py);
    for (gint i = 1; i <= 24; i++) {
      gradus_scene_edge_point (scene, he, i / 24.0, &px, &py);
      cairo_line_to (cr, px, py);
    }
    cairo_set_source_rgba (cr, 0.21, 0.52, 0.89, 0.8);
    cairo_set_line_width (cr, 4);
    cairo_stroke (cr);
  }
  cairo_identity_matrix (cr);
  if (he >= 0)
    gradus_live_draw_card (cr, (self->hover_gx - self->ox) * self->zoom + 16,
                           (self->hover_gy - self->oy) * self->zoom + 16, w, h, hover_ref,
                           hover_value, dark);
  if (self->mode == MODE_RUBBER) {
    double x = MIN (self->start_wx, self->start_wx + self->drag_dx);
    double y = MIN (self->start_wy, self->start_wy + self->drag_dy);
    cairo_rectangle (cr, x + 0.5, y + 0.5, fabs (self->drag_dx), fabs (self->drag_dy));
    cairo_set_source_rgba (cr, 0.21, 0.52, 0.89, 0.15);
    cairo_fill_preserve (cr);
    cairo_set_source_rgba (cr, 0.21, 0.52, 0.89, 0.9);
    cairo_set_line_width (cr, 1);
    cairo_stroke (cr);
  }
  if (scene->nodes->len == 0 || scene->banner) {
    PangoLayout *layout = gtk_widget_create_pango_layout (widget, NULL);
    pango_layout_set_width (layout, (int) (MAX (w - 40, 100) * PANGO_SCALE));
    pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
    pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
    if (scene->banner) {
      g_autofree char *text = g_strdup_printf (_("The graph cannot be built: %s"), scene->banner);
      pango_layout_set_text (layout, text, -1);
      cairo_set_source_rgb (cr, 0.88, 0.11, 0.14);
      cairo_move_to (cr, 20, 12);
    } else {
      pango_layout_set_text (layout, _("Double-click an op in the palette, or drag it here, to start a graph"), -1);
      cairo_set_source_rgba (cr, dark ? 1 : 0, dark ? 1 : 0, dark ? 1 : 0, 0.45);
      cairo_move_to (cr, 20, h / 2 - 10);
    }
    pango_cairo_show_layout (cr, layout);
    g_object_unref (layout);
  }
  cairo_destroy (cr);
  gradus_organise_canvas_snapshot (widget, snapshot);
  gradus_group_canvas_snapshot (widget, snapshot);
}

static void
gradus_canvas_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  GradusCanvas *self = GRADUS_CANVAS (widget);
  if (self->need_fit && width > 1 && height > 1) {
    self->need_fit = FALSE;
    gradus_canvas_zoom_to_fit (self);
  } else if (self->fitted && width > 1 && height > 1 &&
             (width != self->fit_w || height != self->fit_h)) {
    /* The window grew (or shrank) under a fitted graph: fit it again. */
    gradus_canvas_zoom_to_fit (self);
  }
  gradus_canvas_a11y_allocate (self);
  gradus_organise_canvas_allocate (widget, width, height);
  gradus_group_canvas_allocate (widget, width, height);
}

static void
gradus_canvas_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *min,
                       int *nat, int *min_baseline, int *nat_baseline)
{
  *min = 200;
  *nat = orientation == GTK_ORIENTATION_HORIZONTAL ? 800 : 600;
}

static gboolean
gradus_canvas_query_tooltip (GtkWidget *widget, int x, int y, gboolean keyboard,
                             GtkTooltip *tooltip)
{
  GradusCanvas *self = GRADUS_CANVAS (widget);
  GradusScene *scene = gradus_canvas_get_scene (self);
  double gx, gy;
  if (!scene)
    return FALSE;
  gradus_canvas_widget_to_graph (self, x, y, &gx, &gy);
  gboolean output;
  gint port;
  gint n = gradus_scene_hit_port (scene, gx, gy, &output, &port);
  if (n >= 0) {
    GradusSceneNode *sn = scene->nodes->pdata[n];
    g_autofree char *text = g_strdup_printf (output ? _("Output port of %s: %s") : _("Input slot of %s: %s"),
                                             sn->id,
                                             (char *) (output ? sn->out_labels : sn->in_labels)->pdata[port]);
    gtk_tooltip_set_text (tooltip, text);
    return TRUE;
  }
  n = gradus_scene_hit_node (scene, gx, gy);
  if (n >= 0) {
    GradusSceneNode *sn = scene->nodes->pdata[n];
    g_autofree char *text = g_strdup_printf ("%s (%s)%s%s%s", sn->id, sn->subtitle,
                                             sn->readonly ? _("\nDerived by the engine (read-only)") : "",
                                             sn->error ? "\n" : "", sn->error ? sn->error : "");
    gtk_tooltip_set_text (tooltip, text);
    return TRUE;
  }
  return FALSE;
}

/* ------------------------------------------------------------ gestures */

static char *
output_ref (GradusSceneNode *n, gint port)
{
  if (n->kind == GRD_NODE_GRAD)
    return g_strdup_printf ("%s:%d", n->id, port);
  return port == 0 ? g_strdup (n->id) : g_strdup_printf ("%s:%d", n->id, port);
}

static void
drag_begin (GtkGestureDrag *gesture, double x, double y, GradusCanvas *self)
{
  guint button = gtk_gesture_single_get_current_button (GTK_GESTURE_SINGLE (gesture));
  GdkModifierType state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (gesture));
  self->start_wx = x;
  self->start_wy = y;
  self->drag_dx = self->drag_dy = 0;
  g_debug ("canvas: press %u at %.0f,%.0f", button, x, y);
  /* Focus first: a field of the inspector that loses it applies its text, an
   * edit that replaces the scene. Only then is the scene looked at. */
  gtk_widget_grab_focus (GTK_WIDGET (self));
  GradusScene *scene = gradus_canvas_get_scene (self);
  if (button == GDK_BUTTON_MIDDLE || (button == GDK_BUTTON_PRIMARY && self->space_held)) {
    self->mode = MODE_PAN;
    self->pan_ox = self->ox;
    self->pan_oy = self->oy;
    gtk_widget_set_cursor_from_name (GTK_WIDGET (self), "grabbing");
    return;
  }
  if (button != GDK_BUTTON_PRIMARY || !scene) {
    gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_DENIED);
    return;
  }
  double gx, gy;
  gradus_canvas_widget_to_graph (self, x, y, &gx, &gy);
  gboolean output;
  gint port;
  gint n = gradus_scene_hit_port (scene, gx, gy, &output, &port);
  if (n >= 0) {
    GradusSceneNode *sn = scene->nodes->pdata[n];
    g_clear_pointer (&self->wire_ref, g_free);
    g_clear_pointer (&self->wire_target, g_free);
    if (sn->readonly) {
      g_signal_emit (self, signals[SIG_MESSAGE], 0,
                     _("The gradient graph is derived by the engine and cannot be wired"));
      self->mode = MODE_NONE;
      return;
    }
    self->mode = MODE_WIRE;
    if (output) {
      self->wire_ref = output_ref (sn, port);
      gradus_scene_port_pos (scene, n, TRUE, port, &self->wire_x0, &self->wire_y0);
      return;
    }
    /* From an input: pick up its wire, or draw a new one backwards. */
    const char *ref = gradus_doc_model_node_slot_ref (self->model, sn->id, port);
    if (ref) {
      gint k;
      g_autofree char *src = gradus_ref_parse (ref, &k);
      gint si = gradus_scene_find (scene, src);
      self->wire_ref = g_strdup (ref);
      g_autofree char *target = g_strdup (sn->id);
      if (si >= 0)
        gradus_scene_port_pos (scene, si, TRUE, k, &self->wire_x0, &self->wire_y0);
      gradus_doc_model_disconnect (self->model, target, port);
      return;
    }
    self->wire_target = g_strdup (sn->id);
    self->wire_slot = port;
    gradus_scene_port_pos (scene, n, FALSE, port, &self->wire_x0, &self->wire_y0);
    return;
  }
  n = gradus_scene_hit_node (scene, gx, gy);
  gboolean extend = (state & (GDK_CONTROL_MASK | GDK_SHIFT_MASK)) != 0;
  if (n >= 0) {
    GradusSceneNode *sn = scene->nodes->pdata[n];
    if (extend) {
      toggle_selected (self, sn->id, FALSE);
      self->mode = MODE_NONE;
      return;
    }
    if (!g_hash_table_contains (self->selection, sn->id))
      toggle_selected (self, sn->id, TRUE);
    self->mode = MODE_MOVE;
    return;
  }
  if (!extend && gradus_organise_canvas_press (GTK_WIDGET (self), gx, gy)) {
    self->mode = MODE_ORGANISE;
    return;
  }
  if (!extend && g_hash_table_size (self->selection)) {
    g_hash_table_remove_all (self->selection);
    invalidate (self);
    g_signal_emit (self, signals[SIG_SELECTION_CHANGED], 0);
  }
  self->mode = MODE_RUBBER;
}

static void
drag_update (GtkGestureDrag *gesture, double dx, double dy, GradusCanvas *self)
{
  self->drag_dx = dx;
  self->drag_dy = dy;
  if (self->mode == MODE_PAN) {
    self->fitted = FALSE;
    self->ox = self->pan_ox - dx / self->zoom;
    self->oy = self->pan_oy - dy / self->zoom;
  }
  if (self->mode != MODE_NONE)
    gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
finish_wire (GradusCanvas *self, double gx, double gy)
{
  GradusScene *scene = gradus_canvas_get_scene (self);
  gboolean output;
  gint port;
  gint n = gradus_scene_hit_port (scene, gx, gy, &output, &port);
  if (self->wire_ref) {
    if (n < 0) {
      /* Dropped on a node's body: its first free input. */
      n = gradus_scene_hit_node (scene, gx, gy);
      if (n < 0)
        return;
      GradusSceneNode *sn = scene->nodes->pdata[n];
      if (sn->kind == GRD_NODE_SHARED && !sn->readonly) {
        /* On a shared variable: the value it takes after each call (an update). */
        g_autofree char *shared = g_strdup (sn->id);
        g_autofree char *ref = g_strdup (self->wire_ref);
        g_autoptr (GError) error = NULL;
        if (!gradus_doc_model_set_update (self->model, shared, ref, &error)) {
          g_signal_emit (self, signals[SIG_MESSAGE], 0, error->message);
          return;
        }
        g_autofree char *msg = g_strdup_printf (_("%s takes the value of %s after each call"), shared, ref);
        g_signal_emit (self, signals[SIG_MESSAGE], 0, msg);
        return;
      }
      for (port = 0; port < (gint) sn->in_labels->len; port++)
        if (!gradus_doc_model_node_slot_ref (self->model, sn->id, port))
          break;
      if (port >= (gint) sn->in_labels->len) {
        g_autofree char *msg = g_strdup_printf (_("%s has no free input: drop the wire on a port"), sn->id);
        g_signal_emit (self, signals[SIG_MESSAGE], 0, msg);
        return;
      }
      output = FALSE;
    }
    GradusSceneNode *sn = scene->nodes->pdata[n];
    if (output || sn->readonly) {
      g_signal_emit (self, signals[SIG_MESSAGE], 0,
                     sn->readonly ? _("The gradient graph is read-only")
                                  : _("Connect an output to an input"));
      return;
    }
    g_autofree char *target = g_strdup (sn->id);
    g_autofree char *ref = g_strdup (self->wire_ref);
    gradus_canvas_connect (self, ref, target, port);
    return;
  }
  if (n < 0)
    return;
  GradusSceneNode *sn = scene->nodes->pdata[n];
  if (!output || sn->readonly) {
    g_signal_emit (self, signals[SIG_MESSAGE], 0, _("Connect an input to an output"));
    return;
  }
  g_autofree char *ref = output_ref (sn, port);
  g_autofree char *target = g_strdup (self->wire_target);
  gradus_canvas_connect (self, ref, target, self->wire_slot);
}

static void
drag_end (GtkGestureDrag *gesture, double dx, double dy, GradusCanvas *self)
{
  DragMode mode = self->mode;
  self->mode = MODE_NONE;
  self->drag_dx = dx;
  self->drag_dy = dy;
  gtk_widget_set_cursor (GTK_WIDGET (self), NULL);
  double gx, gy;
  gradus_canvas_widget_to_graph (self, self->start_wx + dx, self->start_wy + dy, &gx, &gy);
  switch (mode) {
  case MODE_MOVE:
    if (dx != 0 || dy != 0) {
      g_auto (GStrv) ids = gradus_canvas_dup_selection (self);
      gradus_doc_model_move_nodes (self->model, (const char *const *) ids, dx / self->zoom,
                                   dy / self->zoom);
    }
    break;
  case MODE_WIRE:
    finish_wire (self, gx, gy);
    break;
  case MODE_RUBBER: {
    GradusScene *scene = gradus_canvas_get_scene (self);
    double x0, y0;
    gradus_canvas_widget_to_graph (self, self->start_wx, self->start_wy, &x0, &y0);
    double lx = MIN (x0, gx), ly = MIN (y0, gy), hx = MAX (x0, gx), hy = MAX (y0, gy);
    for (guint i = 0; scene && i < scene->nodes->len; i++) {
      GradusSceneNode *n = scene->nodes->pdata[i];
      if (n->x < hx && n->x + n->w > lx && n->y < hy && n->y + n->h > ly)
        g_hash_table_add (self->selection, g_strdup (n->id));
    }
    invalidate (self);
    g_signal_emit (self, signals[SIG_SELECTION_CHANGED], 0);
    break;
  }
  case MODE_PAN:
    save_view (self);
    break;
  case MODE_ORGANISE:
    gradus_organise_canvas_release (GTK_WIDGET (self), dx / self->zoom, dy / self->zoom);
    break;
  default:
    break;
  }
  g_clear_pointer (&self->wire_ref, g_free);
  g_clear_pointer (&self->wire_target, g_free);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
drag_cancel (GtkGesture *gesture, GdkEventSequence *sequence, GradusCanvas *self)
{
  self->mode = MODE_NONE;
  g_clear_pointer (&self->wire_ref, g_free);
  g_clear_pointer (&self->wire_target, g_free);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
click_pressed (GtkGestureClick *gesture, int n_press, double x, double y, GradusCanvas *self)
{
  if (n_press != 2)
    return;
  GradusScene *scene = gradus_canvas_get_scene (self);
  double gx, gy;
  gradus_canvas_widget_to_graph (self, x, y, &gx, &gy);
  gint n = scene ? gradus_scene_hit_node (scene, gx, gy) : -1;
  if (n < 0)
    return;
  GradusSceneNode *sn = scene->nodes->pdata[n];
  if (gradus_scan_canvas_activate (self, sn))   /* a scan's zone opens, its outputs box closes */
    return;
  /* Double-click on a grad node folds its gradient graph out or back in. */
  if (sn->kind == GRD_NODE_GRAD && !sn->readonly) {
    g_autofree char *id = g_strdup (sn->id);
    gradus_canvas_set_gradient_shown (self, id, !gradus_canvas_get_gradient_shown (self, id));
  } else if (!sn->readonly) {
    /* a group node opens (ui/organise) */
    g_autofree char *id = g_strdup (sn->id);
    gradus_group_canvas_open (GTK_WIDGET (self), id);
  }
}

static void
motion (GtkEventControllerMotion *c, double x, double y, GradusCanvas *self)
{
  self->pointer_x = x;
  self->pointer_y = y;
  if (self->live) {
    double gx, gy;
    gradus_canvas_widget_to_graph (self, x, y, &gx, &gy);
    gradus_canvas_hover_at (self, gx, gy);
  }
}

static void
motion_leave (GtkEventControllerMotion *c, GradusCanvas *self)
{
  if (!isnan (self->hover_gx))
    gradus_canvas_hover_at (self, NAN, NAN);
}

static gboolean
scroll (GtkEventControllerScroll *c, double dx, double dy, GradusCanvas *self)
{
  GdkModifierType state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (c));
  gboolean wheel = gtk_event_controller_scroll_get_unit (c) == GDK_SCROLL_UNIT_WHEEL;
  if (state & GDK_CONTROL_MASK) {
    /* Scroll events carry no position in GTK 4.8: zoom about the last pointer position. */
    double factor = exp (-dy * (wheel ? 0.15 : 0.01));
    gradus_canvas_zoom_at (self, factor, self->pointer_x, self->pointer_y);
    return TRUE;
  }
  if (state & GDK_SHIFT_MASK && dx == 0)
    dx = dy, dy = 0;
  double step = wheel ? 50 : 1;
  self->ox += dx * step / self->zoom;
  self->oy += dy * step / self->zoom;
  self->fitted = FALSE;
  save_view (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return TRUE;
}

static void
zoom_begin (GtkGesture *gesture, GdkEventSequence *seq, GradusCanvas *self)
{
  self->zoom_begin = self->zoom;
}

static void
zoom_scale_changed (GtkGestureZoom *gesture, double scale, GradusCanvas *self)
{
  double cx, cy;
  if (!gtk_gesture_get_bounding_box_center (GTK_GESTURE (gesture), &cx, &cy))
    cx = self->pointer_x, cy = self->pointer_y;
  gradus_canvas_zoom_at (self, self->zoom_begin * scale / self->zoom, cx, cy);
}

static gboolean
key_pressed (GtkEventControllerKey *c, guint keyval, guint keycode, GdkModifierType state,
             GradusCanvas *self)
{
  if (keyval == GDK_KEY_space) {
    self->space_held = TRUE;
    gtk_widget_set_cursor_from_name (GTK_WIDGET (self), "grab");
    return TRUE;
  }
  if (keyval == GDK_KEY_Escape && g_hash_table_size (self->selection)) {
    gradus_canvas_set_selection (self, NULL);
    return TRUE;
  }
  /* Arrow keys move the selection, for those who do not use a pointer. */
  double step = state & GDK_SHIFT_MASK ? 50 : 10, dx = 0, dy = 0;
  switch (keyval) {
  case GDK_KEY_Left: dx = -step; break;
  case GDK_KEY_Right: dx = step; break;
  case GDK_KEY_Up: dy = -step; break;
  case GDK_KEY_Down: dy = step; break;
  default: return FALSE;
  }
  g_auto (GStrv) ids = gradus_canvas_dup_selection (self);
  if (!ids[0])
    return FALSE;
  gradus_doc_model_move_nodes (self->model, (const char *const *) ids, dx, dy);
  return TRUE;
}

static void
key_released (GtkEventControllerKey *c, guint keyval, guint keycode, GdkModifierType state,
              GradusCanvas *self)
{
  if (keyval == GDK_KEY_space) {
    self->space_held = FALSE;
    if (self->mode != MODE_PAN)
      gtk_widget_set_cursor (GTK_WIDGET (self), NULL);
  }
}

static gboolean
drop (GtkDropTarget *target, const GValue *value, double x, double y, GradusCanvas *self)
{
  g_debug ("canvas: drop of a %s at %.0f,%.0f", G_VALUE_TYPE_NAME (value), x, y);
  if (G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST)) {
    /* Files dropped on the canvas open like files dropped on the window. */
    GSList *files = gdk_file_list_get_files (g_value_get_boxed (value));
    gboolean any = files != NULL;
    for (GSList *l = files; l; l = l->next) {
      g_autofree char *path = g_file_get_path (l->data);
      if (path)
        gtk_widget_activate_action (GTK_WIDGET (self), "win.open-path", "s", path);
    }
    g_slist_free (files);
    return any;
  }
  const char *payload = g_value_get_string (value);
  g_autofree char *kind = NULL, *op = NULL;
  if (!gradus_palette_parse (payload, &kind, &op))
    return FALSE;
  double gx, gy;
  gradus_canvas_widget_to_graph (self, x, y, &gx, &gy);
  g_autoptr (GError) error = NULL;
  g_autofree char *id = gradus_doc_model_add_node (self->model, kind, op, gx - 75, gy - 20, &error);
  if (!id) {
    g_signal_emit (self, signals[SIG_MESSAGE], 0, error->message);
    return FALSE;
  }
  const char *ids[] = { id, NULL };
  gradus_canvas_set_selection (self, ids);
  return TRUE;
}

/* ------------------------------------------------------------ type */

static void
gradus_canvas_dispose (GObject *object)
{
  GradusCanvas *self = GRADUS_CANVAS (object);
  if (self->model) {
    g_signal_handler_disconnect (self->model, self->changed_id);
    g_signal_handlers_disconnect_by_func (self->model, node_renamed, self);
    g_clear_object (&self->model);
  }
  g_clear_pointer (&self->scene, gradus_scene_free);
  gradus_organise_canvas_detach (GTK_WIDGET (object));
  gradus_group_canvas_detach (GTK_WIDGET (object));
  G_OBJECT_CLASS (gradus_canvas_parent_class)->dispose (object);
}

static void
gradus_canvas_finalize (GObject *object)
{
  GradusCanvas *self = GRADUS_CANVAS (object);
  g_hash_table_unref (self->selection);
  g_clear_pointer (&self->expanded, g_hash_table_unref);
  g_free (self->wire_ref);
  g_free (self->wire_target);
  clear_live (self);
  g_free (self->hover_text);
  G_OBJECT_CLASS (gradus_canvas_parent_class)->finalize (object);
}

static void
gradus_canvas_class_init (GradusCanvasClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
  oc->dispose = gradus_canvas_dispose;
  oc->finalize = gradus_canvas_finalize;
  wc->snapshot = gradus_canvas_snapshot;
  wc->size_allocate = gradus_canvas_size_allocate;
  wc->measure = gradus_canvas_measure;
  wc->query_tooltip = gradus_canvas_query_tooltip;
  gtk_widget_class_set_css_name (wc, "gradus-canvas");
  gtk_widget_class_set_accessible_role (wc, GTK_ACCESSIBLE_ROLE_GROUP);
  signals[SIG_SELECTION_CHANGED] = g_signal_new ("selection-changed", G_TYPE_FROM_CLASS (klass),
                                                 G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                 G_TYPE_NONE, 0);
  /* Something the user should read: a refused wire and its reason. */
  signals[SIG_MESSAGE] = g_signal_new ("message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                       0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
style_changed (GradusCanvas *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
gradus_canvas_init (GradusCanvas *self)
{
  GtkWidget *w = GTK_WIDGET (self);
  self->selection = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->expanded = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->zoom = 1;
  self->hover_gx = self->hover_gy = NAN;
  gtk_widget_set_focusable (w, TRUE);
  gtk_widget_set_has_tooltip (w, TRUE);
  gtk_widget_set_overflow (w, GTK_OVERFLOW_HIDDEN);
  gtk_widget_set_hexpand (w, TRUE);
  gtk_widget_set_vexpand (w, TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Graph canvas"), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  _("Nodes and wires of the graph; drag ports to connect"), -1);

  GtkGesture *drag = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), 0);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (drag_end), self);
  g_signal_connect (drag, "cancel", G_CALLBACK (drag_cancel), self);
  gtk_widget_add_controller (w, GTK_EVENT_CONTROLLER (drag));

  GtkGesture *click = gtk_gesture_click_new ();
  g_signal_connect (click, "pressed", G_CALLBACK (click_pressed), self);
  gtk_widget_add_controller (w, GTK_EVENT_CONTROLLER (click));

  GtkEventController *m = gtk_event_controller_motion_new ();
  g_signal_connect (m, "motion", G_CALLBACK (motion), self);
  g_signal_connect (m, "leave", G_CALLBACK (motion_leave), self);
  gtk_widget_add_controller (w, m);

  GtkEventController *s = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  g_signal_connect (s, "scroll", G_CALLBACK (scroll), self);
  gtk_widget_add_controller (w, s);

  GtkGesture *zoom = gtk_gesture_zoom_new ();
  g_signal_connect (zoom, "begin", G_CALLBACK (zoom_begin), self);
  g_signal_connect (zoom, "scale-changed", G_CALLBACK (zoom_scale_changed), self);
  gtk_widget_add_controller (w, GTK_EVENT_CONTROLLER (zoom));

  GtkEventController *k = gtk_event_controller_key_new ();
  g_signal_connect (k, "key-pressed", G_CALLBACK (key_pressed), self);
  g_signal_connect (k, "key-released", G_CALLBACK (key_released), self);
  gtk_widget_add_controller (w, k);

  GtkDropTarget *dt = gtk_drop_target_new (G_TYPE_INVALID, GDK_ACTION_COPY);
  gtk_drop_target_set_gtypes (dt, (GType[]) { GDK_TYPE_FILE_LIST, G_TYPE_STRING }, 2);
  g_signal_connect (dt, "drop", G_CALLBACK (drop), self);
  gtk_widget_add_controller (w, GTK_EVENT_CONTROLLER (dt));

  g_signal_connect_object (adw_style_manager_get_default (), "notify::dark",
                           G_CALLBACK (style_changed), self, G_CONNECT_SWAPPED);
  gradus_canvas_a11y_attach (self);
  /* frames and comments: their own controllers and actions (ui/organise) */
  gradus_organise_canvas_attach (w);
  /* groups: Ctrl+G, opening, the bar (ui/organise) */
  gradus_group_canvas_attach (w);
}

GtkWidget *
gradus_canvas_new (GradusDocModel *model)
{
  GradusCanvas *self = g_object_new (GRADUS_TYPE_CANVAS, NULL);
  if (model)
    gradus_canvas_set_model (self, model);
  return GTK_WIDGET (self);
}
