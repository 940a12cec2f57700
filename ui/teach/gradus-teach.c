/* gradus-teach.c: the classroom side of an editor window (see the header):
 * its actions, the trace of the call shown, presentation mode, and the card
 * and minimap over the canvas. */
#include "gradus-teach.h"
#include "gradus-minimap.h"
#include "gradus-name-hover.h"
#include "gradus-teach-draw.h"
#include "gradus-teach-panel.h"
#include "gradus-run-panel.h"

#include <glib/gi18n.h>

struct _GradusTeach {
  GtkWindow      *window;     /* owns this (object data) */
  GradusCanvas   *canvas;
  GradusDocModel *model;
  GtkWidget      *header;
  GPtrArray      *hide;       /* widgets of the window hidden when presenting */
  GtkWidget      *panel, *minimap;
  GradusTeachTrace *trace;
  char           *error;
  GHashTable     *trace_live; /* the live values the trace was made from (a reference) */
  gboolean        backprop, stepping, presenting;
  gint            step;
  guint           rebuild_id;
  gboolean        gone;       /* the window is being destroyed: its widgets are going */
};

#define TEXT_PX 11.0
#define PRESENT_TEXT_PX 17.0
/* The run panel's plots: axis and legend text 10-11 px becomes 15-17 px. */
#define PRESENT_PLOT_TEXT 1.5

GradusTeach *
gradus_teach_get (GtkWindow *window)
{
  return g_object_get_data (G_OBJECT (window), "gradus-teach");
}

GradusTeachTrace *
gradus_teach_get_trace (GradusTeach *t)
{
  return t->trace;
}

gint
gradus_teach_get_step (GradusTeach *t)
{
  return t->stepping ? t->step : -1;
}

GtkWidget *
gradus_teach_get_panel (GradusTeach *t)
{
  return t->panel;
}

GtkWidget *
gradus_teach_get_minimap (GradusTeach *t)
{
  return t->minimap;
}

const char *
gradus_teach_get_error (GradusTeach *t)
{
  return t->error;
}

static void
teach_free (GradusTeach *t)
{
  g_clear_handle_id (&t->rebuild_id, g_source_remove);
  g_clear_pointer (&t->trace, gradus_teach_trace_free);
  g_clear_pointer (&t->trace_live, g_hash_table_unref);
  g_clear_pointer (&t->hide, g_ptr_array_unref);
  g_free (t->error);
  g_free (t);
}

static void
set_action_state (GradusTeach *t, const char *name, gboolean on)
{
  GAction *a = g_action_map_lookup_action (G_ACTION_MAP (t->window), name);
  g_simple_action_set_state (G_SIMPLE_ACTION (a), g_variant_new_boolean (on));
}

static void
set_action_enabled (GradusTeach *t, const char *name, gboolean on)
{
  GAction *a = g_action_map_lookup_action (G_ACTION_MAP (t->window), name);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (a), on);
}

/* ------------------------------------------------------------ the trace */

/* Presenting a step-through, the card takes the run panel's room (the end
 * child of the paned the canvas column sits in), so that the graph stays
 * large enough to read; it comes back when either ends. */
static void
place_run_panel (GradusTeach *t)
{
  GtkWidget *parent = gtk_widget_get_parent (gtk_widget_get_parent (t->panel));
  if (!GTK_IS_PANED (parent))
    return;
  GtkWidget *run = gtk_paned_get_end_child (GTK_PANED (parent));
  if (run)
    gtk_widget_set_visible (run, !(t->presenting && t->stepping));
}

static void
show_step (GradusTeach *t)
{
  place_run_panel (t);
  gtk_widget_set_visible (t->panel, t->stepping);
  set_action_enabled (t, "step-next", t->stepping);
  set_action_enabled (t, "step-prev", t->stepping);
  if (t->stepping) {
    guint n = t->trace ? gradus_teach_trace_n_steps (t->trace) : 0;
    t->step = n ? CLAMP (t->step, 0, (gint) n - 1) : 0;
    gradus_teach_panel_show (GRADUS_TEACH_PANEL (t->panel), t->trace, (guint) t->step, t->error);
    /* The node of the step is kept in view. */
    GradusTeachStep *s = t->trace ? gradus_teach_trace_step (t->trace, (guint) t->step) : NULL;
    GradusScene *scene = gradus_canvas_get_scene (t->canvas);
    gint i = s && scene ? gradus_scene_find (scene, s->node) : -1;
    if (i >= 0) {
      GradusSceneNode *n = scene->nodes->pdata[i];
      double x, y, w, h;
      gradus_canvas_get_visible_area (t->canvas, &x, &y, &w, &h);
      if (n->x < x || n->y < y || n->x + n->w > x + w || n->y + n->h > y + h)
        gradus_canvas_center_on (t->canvas, n->x + n->w / 2, n->y + n->h / 2);
    }
  }
  gtk_widget_queue_draw (GTK_WIDGET (t->canvas));
}

static void
rebuild (GradusTeach *t)
{
  g_clear_handle_id (&t->rebuild_id, g_source_remove);
  if (t->gone)
    return;
  g_clear_pointer (&t->trace, gradus_teach_trace_free);
  g_clear_pointer (&t->error, g_free);
  g_clear_pointer (&t->trace_live, g_hash_table_unref);
  if (!t->backprop && !t->stepping)
    return;
  GHashTable *live = gradus_canvas_get_live_values (t->canvas);
  if (live)
    t->trace_live = g_hash_table_ref (live);
  g_autoptr (GError) error = NULL;
  t->trace = gradus_teach_trace_new (t->model, live, gradus_canvas_get_live_call (t->canvas), NULL,
                                     &error);
  if (!t->trace)
    t->error = g_strdup (error->message);
  show_step (t);
}

static gboolean
rebuild_later (gpointer data)
{
  GradusTeach *t = data;
  t->rebuild_id = 0;
  rebuild (t);
  return G_SOURCE_REMOVE;
}

static void
schedule_rebuild (GradusTeach *t)
{
  if (!t->gone && !t->rebuild_id && (t->backprop || t->stepping))
    t->rebuild_id = g_timeout_add (200, rebuild_later, t);
}

static void
model_changed (GtkWindow *window)
{
  GradusTeach *t = gradus_teach_get (window);
  if (!t)
    return;
  /* Only edits of the function's side change the numbers; moving a node does not. */
  if (t->trace)
    schedule_rebuild (t);
}

/* Called by the canvas after it drew the scene. */
static void
overlay (GradusCanvas *canvas, cairo_t *cr, GradusScene *scene, double zoom, gboolean dark,
         gpointer data)
{
  GradusTeach *t = data;
  if (t->gone)
    return;
  gradus_minimap_canvas_drawn (t->minimap);
  if (!t->backprop && !t->stepping)
    return;
  /* A run ended (or its values were cleared): trace the new call. */
  if (gradus_canvas_get_live_values (canvas) != t->trace_live)
    schedule_rebuild (t);
  if (!t->trace)
    return;
  GradusTeachDrawOptions o = {
    .zoom = zoom,
    .dark = dark,
    .text_px = t->presenting ? PRESENT_TEXT_PX : TEXT_PX,
    .step = t->stepping ? t->step : -1,
  };
  gradus_teach_draw (cr, scene, t->trace, &o);
}

/* ------------------------------------------------------------ actions */

static void
action_backprop (GSimpleAction *a, GVariant *value, gpointer data)
{
  GradusTeach *t = gradus_teach_get (data);
  t->backprop = g_variant_get_boolean (value);
  g_simple_action_set_state (a, value);
  if (!t->backprop && t->stepping) {
    t->stepping = FALSE;
    set_action_state (t, "step-through", FALSE);
  }
  rebuild (t);
}

static void
action_step_through (GSimpleAction *a, GVariant *value, gpointer data)
{
  GradusTeach *t = gradus_teach_get (data);
  t->stepping = g_variant_get_boolean (value);
  g_simple_action_set_state (a, value);
  t->step = 0;
  if (t->stepping && !t->backprop) {
    t->backprop = TRUE;
    set_action_state (t, "backprop", TRUE);
  }
  rebuild (t);
}

static void
step_by (GradusTeach *t, gint delta)
{
  if (!t->stepping || t->gone)
    return;
  if (t->rebuild_id)
    rebuild (t);
  t->step += delta;
  show_step (t);
}

static void
action_step_next (GSimpleAction *a, GVariant *p, gpointer data)
{
  step_by (gradus_teach_get (data), 1);
}

static void
action_step_prev (GSimpleAction *a, GVariant *p, gpointer data)
{
  step_by (gradus_teach_get (data), -1);
}

/* Large type for projectors: one style sheet per display (kept on it). */
static void
ensure_css (GtkWidget *w)
{
  GdkDisplay *display = gtk_widget_get_display (w);
  if (g_object_get_data (G_OBJECT (display), "gradus-teach-css"))
    return;
  GtkCssProvider *css = gtk_css_provider_new ();
  gtk_css_provider_load_from_data (css,
    "window.gradus-presentation { font-size: 15pt; }\n"
    "window.gradus-presentation .gradus-teach-panel { font-size: 19pt; }\n"
    "window.gradus-presentation .gradus-teach-panel .heading { font-size: 22pt; }\n"
    "headerbar.gradus-compact { min-height: 30px; font-size: 11pt; }\n"
    "headerbar.gradus-compact button { min-height: 24px; min-width: 24px; padding: 0 6px;"
    " margin-top: 2px; margin-bottom: 2px; }\n"
    ".gradus-teach-panel { padding: 12px; }\n", -1);
  gtk_style_context_add_provider_for_display (display, GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  g_object_set_data_full (G_OBJECT (display), "gradus-teach-css", css, g_object_unref);
}

static gboolean
refit (gpointer data)
{
  GradusTeach *t = gradus_teach_get (data);
  if (t)
    gradus_canvas_zoom_to_fit (t->canvas);
  return G_SOURCE_REMOVE;
}

static void
action_presentation (GSimpleAction *a, GVariant *value, gpointer data)
{
  GradusTeach *t = gradus_teach_get (data);
  t->presenting = g_variant_get_boolean (value);
  g_simple_action_set_state (a, value);
  ensure_css (GTK_WIDGET (t->window));
  if (t->presenting) {
    gtk_widget_add_css_class (GTK_WIDGET (t->window), "gradus-presentation");
    gtk_widget_add_css_class (t->header, "gradus-compact");
  } else {
    gtk_widget_remove_css_class (GTK_WIDGET (t->window), "gradus-presentation");
    gtk_widget_remove_css_class (t->header, "gradus-compact");
  }
  for (guint i = 0; i < t->hide->len; i++)
    gtk_widget_set_visible (t->hide->pdata[i], !t->presenting);
  place_run_panel (t);
  /* The plots' own text grows with the rest (axes, ticks, legends). */
  GtkWidget *paned = gtk_widget_get_parent (gtk_widget_get_parent (t->panel));
  GtkWidget *run = GTK_IS_PANED (paned) ? gtk_paned_get_end_child (GTK_PANED (paned)) : NULL;
  if (run && GRADUS_IS_RUN_PANEL (run))
    gradus_run_panel_set_text_scale (GRADUS_RUN_PANEL (run), t->presenting ? PRESENT_PLOT_TEXT : 1.0);
  gradus_canvas_set_presentation (t->canvas, t->presenting);
  /* Fit the graph to the canvas's new size once the window is laid out again. */
  g_timeout_add_full (G_PRIORITY_DEFAULT, 100, refit, g_object_ref (t->window), g_object_unref);
}

static void
window_destroyed (GtkWidget *window, GradusTeach *t)
{
  t->gone = TRUE;
  g_clear_handle_id (&t->rebuild_id, g_source_remove);
}

static const GActionEntry entries[] = {
  { "backprop", NULL, NULL, "false", action_backprop },
  { "step-through", NULL, NULL, "false", action_step_through },
  { "step-next", action_step_next },
  { "step-prev", action_step_prev },
  { "presentation", NULL, NULL, "false", action_presentation },
};

/* ------------------------------------------------------------ attaching */

GtkWidget *
gradus_teach_attach (GtkWindow *window, GradusCanvas *canvas, GradusDocModel *model,
                     GtkWidget *header, GtkWidget *const *hide, guint n_hide)
{
  GradusTeach *t = g_new0 (GradusTeach, 1);
  t->window = window;
  t->canvas = canvas;
  t->model = model;
  t->header = header;
  t->hide = g_ptr_array_new ();
  for (guint i = 0; i < n_hide; i++)
    g_ptr_array_add (t->hide, hide[i]);
  g_object_set_data_full (G_OBJECT (window), "gradus-teach", t, (GDestroyNotify) teach_free);
  g_action_map_add_action_entries (G_ACTION_MAP (window), entries, G_N_ELEMENTS (entries), window);
  set_action_enabled (t, "step-next", FALSE);
  set_action_enabled (t, "step-prev", FALSE);
  g_signal_connect_object (model, "changed", G_CALLBACK (model_changed), window, G_CONNECT_SWAPPED);
  g_signal_connect (window, "destroy", G_CALLBACK (window_destroyed), t);

  /* The card above the canvas, not over it: it must not hide the nodes it
   * talks about (the canvas refits to the room left). The minimap floats in
   * the canvas's corner. */
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  t->panel = gradus_teach_panel_new ();
  gtk_widget_set_margin_start (t->panel, 8);
  gtk_widget_set_margin_end (t->panel, 8);
  gtk_widget_set_margin_top (t->panel, 8);
  gtk_widget_set_margin_bottom (t->panel, 4);
  gtk_widget_set_visible (t->panel, FALSE);
  gtk_box_append (GTK_BOX (box), t->panel);
  GtkWidget *overlay_w = gtk_overlay_new ();
  gtk_widget_set_vexpand (overlay_w, TRUE);
  gtk_overlay_set_child (GTK_OVERLAY (overlay_w), GTK_WIDGET (canvas));
  t->minimap = gradus_minimap_new (canvas);
  gtk_overlay_add_overlay (GTK_OVERLAY (overlay_w), t->minimap);
  gtk_box_append (GTK_BOX (box), overlay_w);
  gradus_canvas_set_overlay_func (canvas, overlay, t);
  /* Zoomed out, a shortened or hidden name shows whole on hover. */
  gradus_name_hover_attach (canvas);

  /* The keys work in a window without an application too (tests); the
   * application lists them in its shortcuts window. Page Down and Page Up
   * are what a presenter's clicker sends. */
  GtkEventController *sc = gtk_shortcut_controller_new ();
  const char *keys[][2] = {
    { "Page_Down", "win.step-next" },
    { "Page_Up", "win.step-prev" },
    { "<Control>b", "win.backprop" },
    { "<Shift>F5", "win.presentation" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (sc),
                                          gtk_shortcut_new (gtk_shortcut_trigger_parse_string (keys[i][0]),
                                                            gtk_named_action_new (keys[i][1])));
  gtk_widget_add_controller (GTK_WIDGET (window), sc);

  if (ADW_IS_HEADER_BAR (header)) {
    GtkWidget *bp = gtk_toggle_button_new_with_label (_("Backprop"));
    gtk_actionable_set_action_name (GTK_ACTIONABLE (bp), "win.backprop");
    gtk_widget_set_tooltip_text (bp, _("Show each wire's value and each node's gradient for one call (Ctrl+B)"));
    adw_header_bar_pack_start (ADW_HEADER_BAR (header), bp);
    GtkWidget *st = gtk_toggle_button_new_with_label (_("Step Through"));
    gtk_actionable_set_action_name (GTK_ACTIONABLE (st), "win.step-through");
    gtk_widget_set_tooltip_text (st, _("One call node by node, forward then backward (Page Down, Page Up)"));
    adw_header_bar_pack_start (ADW_HEADER_BAR (header), st);
  }
  return box;
}
