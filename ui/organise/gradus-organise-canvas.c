/* gradus-organise-canvas.c: the canvas side of frames and comments. The
 * canvas asks gradus_organise_canvas_press() about a press where no node or
 * port is, so node moves, wires and rubber bands behave as before. */
#include "gradus-organise-canvas.h"
#include "gradus-organise.h"
#include "gradus-organise-group-canvas.h"
#include "gradus-canvas.h"

#include <glib/gi18n.h>

typedef struct {
  GradusCanvas *canvas;   /* not a reference: the state lives on the canvas */
  char         *dragging; /* frame or comment id */
  gboolean      is_frame;
  double        px, py;   /* last pointer position, widget coordinates */
  GtkWidget    *editor;   /* the card on the canvas (editor or menu), or NULL */
  double        ex, ey;   /* where it goes, widget coordinates */
  double        menu_x, menu_y; /* where the context menu was opened */
} Organise;

static void
organise_free (gpointer data)
{
  Organise *o = data;
  g_clear_pointer (&o->editor, gtk_widget_unparent);
  g_free (o->dragging);
  g_free (o);
}

static Organise *
organise_of (GtkWidget *canvas)
{
  return g_object_get_data (G_OBJECT (canvas), "gradus-organise");
}

gboolean
gradus_organise_canvas_press (GtkWidget *canvas, double gx, double gy)
{
  Organise *o = organise_of (canvas);
  GradusDocModel *model = gradus_canvas_get_model (GRADUS_CANVAS (canvas));
  if (!o || !model)
    return FALSE;
  g_clear_pointer (&o->dragging, g_free);
  char *id = gradus_organise_hit_comment (model, gx, gy);
  o->is_frame = id == NULL;
  if (!id)
    id = gradus_organise_hit_frame_title (model, gx, gy);
  if (!id)
    return FALSE;
  o->dragging = id;
  gtk_widget_set_cursor_from_name (canvas, "grabbing");
  return TRUE;
}

void
gradus_organise_canvas_release (GtkWidget *canvas, double dx, double dy)
{
  Organise *o = organise_of (canvas);
  GradusDocModel *model = gradus_canvas_get_model (GRADUS_CANVAS (canvas));
  g_autofree char *id = o ? g_steal_pointer (&o->dragging) : NULL;
  if (!id || !model || (dx == 0 && dy == 0))
    return;
  if (o->is_frame)
    gradus_organise_move_frame (model, id, dx, dy);
  else
    gradus_organise_move_comment (model, id, dx, dy);
}

/* ------------------------------------------------------------ editing
 *
 * The editor is a small card drawn on the canvas itself, a child of it: no
 * popover (a popup surface), which X servers without a window manager place
 * badly. Enter applies, Escape closes. */

typedef struct {
  GradusDocModel *model;
  char           *id;
  gboolean        is_frame;
  guint32         colour;
  GtkWidget      *entry;
  GtkWidget      *canvas;
} EditData;

static void
edit_data_free (gpointer data)
{
  EditData *d = data;
  g_object_unref (d->model);
  g_free (d->id);
  g_free (d);
}

static void
close_editor (Organise *o)
{
  if (!o->editor)
    return;
  GtkWidget *editor = g_steal_pointer (&o->editor);
  gtk_widget_unparent (editor);
  gtk_widget_grab_focus (GTK_WIDGET (o->canvas));
  gtk_widget_queue_allocate (GTK_WIDGET (o->canvas));
}

static void
show_editor (Organise *o, GtkWidget *card, double wx, double wy)
{
  if (o->editor)
    gtk_widget_unparent (o->editor);
  gtk_widget_add_css_class (card, "card");
  gtk_widget_add_css_class (card, "background");
  o->editor = card;
  o->ex = wx;
  o->ey = wy;
  gtk_widget_set_parent (card, GTK_WIDGET (o->canvas));
  gtk_widget_queue_allocate (GTK_WIDGET (o->canvas));
}

static void
edit_apply (EditData *d)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (d->entry));
  g_autofree char *copy = g_strdup (text);
  g_autoptr (GradusDocModel) model = g_object_ref (d->model);
  g_autofree char *id = g_strdup (d->id);
  gboolean is_frame = d->is_frame;
  guint32 colour = d->colour;
  /* close first: the edit rebuilds the scene, and d goes with the editor */
  close_editor (organise_of (d->canvas));
  if (is_frame)
    gradus_organise_set_frame (model, id, copy, colour, NULL);
  else
    gradus_organise_set_comment (model, id, copy, NULL);
}

static void
colour_clicked (GtkButton *button, EditData *d)
{
  d->colour = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "colour"));
  edit_apply (d);
}

static void
delete_clicked (GtkButton *button, EditData *d)
{
  g_autoptr (GradusDocModel) model = g_object_ref (d->model);
  g_autofree char *id = g_strdup (d->id);
  close_editor (organise_of (d->canvas));
  gradus_organise_remove (model, id);
}

static gboolean
editor_key (GtkEventControllerKey *c, guint keyval, guint keycode, GdkModifierType state,
            EditData *d)
{
  if (keyval != GDK_KEY_Escape)
    return FALSE;
  close_editor (organise_of (d->canvas));
  return TRUE;
}

static void
graph_to_widget (GradusCanvas *canvas, double gx, double gy, double *wx, double *wy)
{
  double zoom = gradus_canvas_get_zoom (canvas), ox, oy;
  gradus_canvas_widget_to_graph (canvas, 0, 0, &ox, &oy);
  *wx = (gx - ox) * zoom;
  *wy = (gy - oy) * zoom;
}

void
gradus_organise_canvas_edit (GtkWidget *canvas, const char *id)
{
  GradusDocModel *model = gradus_canvas_get_model (GRADUS_CANVAS (canvas));
  Organise *o = organise_of (canvas);
  if (!model || !id || !o)
    return;
  g_autoptr (GPtrArray) frames = gradus_organise_frames (model);
  g_autoptr (GPtrArray) comments = gradus_organise_comments (model);
  EditData *d = g_new0 (EditData, 1);
  d->model = g_object_ref (model);
  d->id = g_strdup (id);
  d->canvas = canvas;
  const char *text = NULL;
  double gx = 0, gy = 0;
  for (guint i = 0; i < frames->len; i++) {
    GradusFrame *f = frames->pdata[i];
    if (g_str_equal (f->id, id)) {
      d->is_frame = TRUE;
      d->colour = f->colour;
      text = f->title;
      gx = f->x;
      gy = f->y + 32;
    }
  }
  for (guint i = 0; !text && i < comments->len; i++) {
    GradusComment *c = comments->pdata[i];
    if (g_str_equal (c->id, id)) {
      text = c->text;
      gx = c->x;
      gy = c->y;
    }
  }
  if (!text) {
    edit_data_free (d);
    return;
  }
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_margin_start (box, 8);
  gtk_widget_set_margin_end (box, 8);
  gtk_widget_set_margin_top (box, 8);
  gtk_widget_set_margin_bottom (box, 8);
  d->entry = gtk_entry_new ();
  gtk_editable_set_text (GTK_EDITABLE (d->entry), text);
  gtk_editable_set_width_chars (GTK_EDITABLE (d->entry), 24);
  gtk_accessible_update_property (GTK_ACCESSIBLE (d->entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  d->is_frame ? _("Frame title") : _("Comment text"), -1);
  gtk_box_append (GTK_BOX (box), d->entry);
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  for (gsize i = 0; d->is_frame && i < G_N_ELEMENTS (gradus_frame_palette); i++) {
    GtkWidget *b = gtk_button_new ();
    g_autofree char *css = g_strdup_printf ("#%06x", gradus_frame_palette[i]);
    gtk_widget_set_tooltip_text (b, css);
    GtkWidget *swatch = gtk_label_new (NULL);
    g_autofree char *markup = g_strdup_printf ("<span foreground=\"%s\">\u25a0</span>", css);
    gtk_label_set_markup (GTK_LABEL (swatch), markup);
    gtk_button_set_child (GTK_BUTTON (b), swatch);
    g_object_set_data (G_OBJECT (b), "colour", GUINT_TO_POINTER (gradus_frame_palette[i]));
    g_signal_connect (b, "clicked", G_CALLBACK (colour_clicked), d);
    gtk_box_append (GTK_BOX (row), b);
  }
  GtkWidget *del = gtk_button_new_from_icon_name ("user-trash-symbolic");
  gtk_widget_set_tooltip_text (del, d->is_frame ? _("Delete the frame (its nodes stay)")
                                                : _("Delete the comment"));
  gtk_widget_add_css_class (del, "destructive-action");
  g_signal_connect (del, "clicked", G_CALLBACK (delete_clicked), d);
  gtk_box_append (GTK_BOX (row), del);
  gtk_box_append (GTK_BOX (box), row);
  g_object_set_data_full (G_OBJECT (box), "edit-data", d, edit_data_free);
  g_signal_connect_swapped (d->entry, "activate", G_CALLBACK (edit_apply), d);
  GtkEventController *k = gtk_event_controller_key_new ();
  g_signal_connect (k, "key-pressed", G_CALLBACK (editor_key), d);
  gtk_widget_add_controller (box, k);
  double wx, wy;
  graph_to_widget (GRADUS_CANVAS (canvas), gx, gy, &wx, &wy);
  show_editor (o, box, wx, wy);
  gtk_widget_grab_focus (d->entry);
}

void
gradus_organise_canvas_allocate (GtkWidget *canvas, int width, int height)
{
  Organise *o = organise_of (canvas);
  if (!o || !o->editor)
    return;
  int w, h;
  gtk_widget_measure (o->editor, GTK_ORIENTATION_HORIZONTAL, -1, NULL, &w, NULL, NULL);
  gtk_widget_measure (o->editor, GTK_ORIENTATION_VERTICAL, w, NULL, &h, NULL, NULL);
  /* kept inside the canvas, wherever the item is */
  int x = (int) CLAMP (o->ex, 0, MAX (width - w, 0));
  int y = (int) CLAMP (o->ey, 0, MAX (height - h, 0));
  gtk_widget_size_allocate (o->editor, &(GtkAllocation) { x, y, w, h }, -1);
}

void
gradus_organise_canvas_snapshot (GtkWidget *canvas, GtkSnapshot *snapshot)
{
  Organise *o = organise_of (canvas);
  if (o && o->editor)
    gtk_widget_snapshot_child (canvas, o->editor, snapshot);
}

void
gradus_organise_canvas_detach (GtkWidget *canvas)
{
  Organise *o = organise_of (canvas);
  if (o && o->editor)
    gtk_widget_unparent (g_steal_pointer (&o->editor));
}

/* The context menu: a card with the two commands, at the pointer. */
static void
menu_add_frame (GtkButton *b, GtkWidget *canvas)
{
  close_editor (organise_of (canvas));
  gtk_widget_activate_action (canvas, "organise.add-frame", NULL);
}

static void
menu_add_comment (GtkButton *b, GtkWidget *canvas)
{
  close_editor (organise_of (canvas));
  gtk_widget_activate_action (canvas, "organise.add-comment", NULL);
}

static gboolean
menu_key (GtkEventControllerKey *c, guint keyval, guint keycode, GdkModifierType state,
          Organise *o)
{
  if (keyval != GDK_KEY_Escape)
    return FALSE;
  close_editor (o);
  return TRUE;
}

static void
click_pressed (GtkGestureClick *gesture, int n_press, double x, double y, Organise *o)
{
  o->px = x;
  o->py = y;
  guint button = gtk_gesture_single_get_current_button (GTK_GESTURE_SINGLE (gesture));
  GradusDocModel *model = gradus_canvas_get_model (o->canvas);
  GradusScene *scene = gradus_canvas_get_scene (o->canvas);
  if (!model || !scene)
    return;
  double gx, gy;
  gradus_canvas_widget_to_graph (o->canvas, x, y, &gx, &gy);
  if (button == GDK_BUTTON_SECONDARY) {
    o->menu_x = x;
    o->menu_y = y;
    GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
    GtkWidget *f = gtk_button_new_with_mnemonic (_("Add _Frame Around Selection"));
    GtkWidget *c = gtk_button_new_with_mnemonic (_("Add _Comment Here"));
    gtk_widget_add_css_class (f, "flat");
    gtk_widget_add_css_class (c, "flat");
    g_signal_connect (f, "clicked", G_CALLBACK (menu_add_frame), o->canvas);
    g_signal_connect (c, "clicked", G_CALLBACK (menu_add_comment), o->canvas);
    gtk_box_append (GTK_BOX (box), f);
    gtk_box_append (GTK_BOX (box), c);
    gradus_group_canvas_menu_items (GTK_WIDGET (o->canvas), box);
    GtkEventController *k = gtk_event_controller_key_new ();
    g_signal_connect (k, "key-pressed", G_CALLBACK (menu_key), o);
    gtk_widget_add_controller (box, k);
    show_editor (o, box, x, y);
    gtk_widget_grab_focus (f);
    return;
  }
  if (n_press != 2 || gradus_scene_hit_node (scene, gx, gy) >= 0)
    return;
  g_autofree char *id = gradus_organise_hit_comment (model, gx, gy);
  if (!id)
    id = gradus_organise_hit_frame_title (model, gx, gy);
  if (id)
    gradus_organise_canvas_edit (GTK_WIDGET (o->canvas), id);
}

static void
motion (GtkEventControllerMotion *c, double x, double y, Organise *o)
{
  o->px = x;
  o->py = y;
}

/* ------------------------------------------------------------ actions */

static void
pointer_graph (Organise *o, double *gx, double *gy)
{
  if (o->px >= 0 && o->py >= 0)
    gradus_canvas_widget_to_graph (o->canvas, o->px, o->py, gx, gy);
  else
    gradus_canvas_get_view_centre (o->canvas, gx, gy);
}

static void
add_frame (GtkWidget *canvas, const char *name, GVariant *param)
{
  Organise *o = organise_of (canvas);
  GradusDocModel *model = gradus_canvas_get_model (o->canvas);
  if (!model)
    return;
  g_auto (GStrv) ids = gradus_canvas_dup_selection (o->canvas);
  double gx, gy;
  pointer_graph (o, &gx, &gy);
  g_autoptr (GPtrArray) frames = gradus_organise_frames (model);
  guint32 colour = gradus_frame_palette[frames->len % G_N_ELEMENTS (gradus_frame_palette)];
  g_autofree char *id = gradus_organise_add_frame (model, (const char *const *) ids, NULL, colour,
                                                   gx, gy);
  if (id)
    gradus_organise_canvas_edit (canvas, id);
}

static void
add_comment (GtkWidget *canvas, const char *name, GVariant *param)
{
  Organise *o = organise_of (canvas);
  GradusDocModel *model = gradus_canvas_get_model (o->canvas);
  if (!model)
    return;
  double gx, gy;
  pointer_graph (o, &gx, &gy);
  g_autofree char *id = gradus_organise_add_comment (model, NULL, gx, gy);
  gradus_organise_canvas_edit (canvas, id);
}

static void
activate_action (GSimpleAction *action, GVariant *param, gpointer canvas)
{
  if (g_str_equal (g_action_get_name (G_ACTION (action)), "close-menu"))
    close_editor (organise_of (canvas));
  else if (g_str_equal (g_action_get_name (G_ACTION (action)), "add-frame"))
    add_frame (canvas, NULL, param);
  else
    add_comment (canvas, NULL, param);
}

void
gradus_organise_canvas_attach (GtkWidget *canvas)
{
  Organise *o = g_new0 (Organise, 1);
  o->canvas = GRADUS_CANVAS (canvas);
  o->px = o->py = -1;
  g_object_set_data_full (G_OBJECT (canvas), "gradus-organise", o, organise_free);

  GtkGesture *click = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), 0);
  g_signal_connect (click, "pressed", G_CALLBACK (click_pressed), o);
  gtk_widget_add_controller (canvas, GTK_EVENT_CONTROLLER (click));

  GtkEventController *m = gtk_event_controller_motion_new ();
  g_signal_connect (m, "motion", G_CALLBACK (motion), o);
  gtk_widget_add_controller (canvas, m);

  GSimpleActionGroup *group = g_simple_action_group_new ();
  static const char *const names[] = { "add-frame", "add-comment", "close-menu" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++) {
    GSimpleAction *a = g_simple_action_new (names[i], NULL);
    g_signal_connect (a, "activate", G_CALLBACK (activate_action), canvas);
    g_action_map_add_action (G_ACTION_MAP (group), G_ACTION (a));
    g_object_unref (a);
  }
  gtk_widget_insert_action_group (canvas, "organise", G_ACTION_GROUP (group));
  g_object_unref (group);

  /* window-wide: they work while the palette or inspector has the focus */
  GtkEventController *sc = gtk_shortcut_controller_new ();
  gtk_shortcut_controller_set_scope (GTK_SHORTCUT_CONTROLLER (sc), GTK_SHORTCUT_SCOPE_MANAGED);
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (sc),
    gtk_shortcut_new (gtk_shortcut_trigger_parse_string ("<Control><Shift>f"),
                      gtk_named_action_new ("organise.add-frame")));
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (sc),
    gtk_shortcut_new (gtk_shortcut_trigger_parse_string ("<Control><Shift>m"),
                      gtk_named_action_new ("organise.add-comment")));
  gtk_widget_add_controller (canvas, sc);
}
