/* gradus-organise-group-canvas.c: the canvas side of groups (see
 * gradus-organise-group-canvas.h); the edits are in gradus-organise-groups.c. */
#include "gradus-organise-group-canvas.h"
#include "gradus-organise-groups.h"
#include "gradus-canvas.h"

#include <glib/gi18n.h>

typedef struct {
  GradusCanvas *canvas;   /* not a reference: this lives as the canvas's data */
  GtkWidget    *bar;      /* "Inside group ...  [Close Group]", a child of the canvas */
  GtkWidget    *bar_label;
  GtkWidget    *card;     /* the name card of "Save Group to Palette", or NULL */
  char         *card_id;  /* the group node it names */
} GroupUi;

static void
group_ui_free (gpointer data)
{
  GroupUi *g = data;
  g_clear_pointer (&g->bar, gtk_widget_unparent);
  g_clear_pointer (&g->card, gtk_widget_unparent);
  g_free (g->card_id);
  g_free (g);
}

static GroupUi *
group_ui_of (GtkWidget *canvas)
{
  return g_object_get_data (G_OBJECT (canvas), "gradus-group-ui");
}

static void
say (GtkWidget *canvas, const char *text)
{
  g_signal_emit_by_name (canvas, "message", text);
}

static GradusDocModel *
model_of (GtkWidget *canvas)
{
  return gradus_canvas_get_model (GRADUS_CANVAS (canvas));
}

/* The first selected group node, or NULL. */
static char *
selected_group (GtkWidget *canvas)
{
  GradusDocModel *model = model_of (canvas);
  g_auto (GStrv) sel = gradus_canvas_dup_selection (GRADUS_CANVAS (canvas));
  for (guint i = 0; model && sel && sel[i]; i++) {
    JsonObject *o = gradus_doc_model_get_node (model, sel[i]);
    if (o && g_strcmp0 (json_object_get_string_member_with_default (o, "kind", ""), "group") == 0)
      return g_strdup (sel[i]);
  }
  return NULL;
}

/* ------------------------------------------------------------ commands */

gboolean
gradus_group_canvas_try_group (GtkWidget *canvas)
{
  GradusDocModel *model = model_of (canvas);
  g_auto (GStrv) sel = gradus_canvas_dup_selection (GRADUS_CANVAS (canvas));
  if (!model || !sel)
    return FALSE;
  guint n = g_strv_length (sel), takes = 0;
  for (guint i = 0; i < n; i++) {
    JsonObject *o = gradus_doc_model_get_node (model, sel[i]);
    const char *kind = o ? json_object_get_string_member_with_default (o, "kind", "") : "";
    takes += g_str_equal (kind, "op") || g_str_equal (kind, "constant") || g_str_equal (kind, "group");
  }
  /* one node alone is not a group (Ctrl+G on a grad node shows its gradients) */
  if (takes == 0 || n < 2)
    return FALSE;
  g_autoptr (GError) error = NULL;
  g_autofree char *id = gradus_group_make (model, (const char *const *) sel, NULL, &error);
  if (!id) {
    say (canvas, error->message);
    return TRUE;
  }
  const char *ids[] = { id, NULL };
  gradus_canvas_set_selection (GRADUS_CANVAS (canvas), ids);
  g_autofree char *text = g_strdup_printf (
    _("Grouped %u nodes into %s: double-click it to open it, Ctrl+Shift+G to ungroup"), takes, id);
  say (canvas, text);
  return TRUE;
}

gboolean
gradus_group_canvas_open (GtkWidget *canvas, const char *id)
{
  GradusDocModel *model = model_of (canvas);
  JsonObject *o = model ? gradus_doc_model_get_node (model, id) : NULL;
  if (!o || g_strcmp0 (json_object_get_string_member_with_default (o, "kind", ""), "group") != 0)
    return FALSE;
  g_autoptr (GError) error = NULL;
  g_autofree char *copy = g_strdup (id);
  if (!gradus_group_open (model, copy, &error)) {
    say (canvas, error->message);
    return TRUE;
  }
  /* the inside selected: it is what the user edits now */
  GPtrArray *inside = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < gradus_doc_model_n_nodes (model); i++) {
    const char *nid = json_object_get_string_member_with_default (gradus_doc_model_node_at (model, i), "id", "");
    if (gradus_group_is_inside (model, nid))
      g_ptr_array_add (inside, g_strdup (nid));
  }
  g_ptr_array_add (inside, NULL);
  gradus_canvas_set_selection (GRADUS_CANVAS (canvas), (const char *const *) inside->pdata);
  g_ptr_array_unref (inside);
  gradus_canvas_zoom_to_fit (GRADUS_CANVAS (canvas));
  say (canvas, _("Group opened: edit its inside, then Close Group (Ctrl+Shift+G)"));
  return TRUE;
}

static void
close_open_group (GtkWidget *canvas)
{
  GradusDocModel *model = model_of (canvas);
  g_autoptr (GError) error = NULL;
  g_autofree char *id = model ? gradus_group_open_id (model, NULL) : NULL;
  if (!id)
    return;
  if (!gradus_group_close (model, &error)) {
    say (canvas, error->message);
    return;
  }
  const char *ids[] = { id, NULL };
  gradus_canvas_set_selection (GRADUS_CANVAS (canvas), ids);
  gradus_canvas_zoom_to_fit (GRADUS_CANVAS (canvas));
}

static void
ungroup_selected (GtkWidget *canvas)
{
  GradusDocModel *model = model_of (canvas);
  if (!model)
    return;
  g_autofree char *open = gradus_group_open_id (model, NULL);
  if (open) {
    close_open_group (canvas);
    return;
  }
  g_auto (GStrv) sel = gradus_canvas_dup_selection (GRADUS_CANVAS (canvas));
  GPtrArray *all = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; sel && sel[i]; i++) {
    JsonObject *o = gradus_doc_model_get_node (model, sel[i]);
    if (!o || g_strcmp0 (json_object_get_string_member_with_default (o, "kind", ""), "group") != 0)
      continue;
    g_autoptr (GError) error = NULL;
    g_auto (GStrv) ids = gradus_group_ungroup (model, sel[i], &error);
    if (!ids)
      say (canvas, error->message);
    for (guint k = 0; ids && ids[k]; k++)
      g_ptr_array_add (all, g_strdup (ids[k]));
  }
  if (all->len == 0)
    say (canvas, _("Select a group node to ungroup"));
  g_ptr_array_add (all, NULL);
  if (all->len > 1)
    gradus_canvas_set_selection (GRADUS_CANVAS (canvas), (const char *const *) all->pdata);
  g_ptr_array_unref (all);
}

/* ------------------------------------------------------------ the name card */

static void
close_card (GroupUi *g)
{
  if (!g->card)
    return;
  gtk_widget_unparent (g_steal_pointer (&g->card));
  g_clear_pointer (&g->card_id, g_free);
  gtk_widget_grab_focus (GTK_WIDGET (g->canvas));
  gtk_widget_queue_allocate (GTK_WIDGET (g->canvas));
}

static void
card_save (GtkEntry *entry, GroupUi *g)
{
  GtkWidget *canvas = GTK_WIDGET (g->canvas);
  GradusDocModel *model = model_of (canvas);
  g_autofree char *name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (entry))));
  g_autofree char *id = g_strdup (g->card_id);
  close_card (g);
  if (!model || !id)
    return;
  g_autoptr (GError) error = NULL;
  if (*name && !gradus_group_rename (model, id, name, &error)) {
    say (canvas, error->message);
    return;
  }
  g_autofree char *path = gradus_group_save_to_library (model, id, &error);
  if (!path) {
    say (canvas, error->message);
    return;
  }
  g_autofree char *shown = gradus_group_display_name (model, id);
  g_autofree char *text = g_strdup_printf (_("Saved “%s” to the palette (%s)"), shown, path);
  say (canvas, text);
}

static gboolean
card_key (GtkEventControllerKey *c, guint keyval, guint keycode, GdkModifierType state, GroupUi *g)
{
  if (keyval != GDK_KEY_Escape)
    return FALSE;
  close_card (g);
  return TRUE;
}

static void
save_to_palette (GtkWidget *canvas)
{
  GroupUi *g = group_ui_of (canvas);
  GradusDocModel *model = model_of (canvas);
  g_autofree char *id = selected_group (canvas);
  if (!g || !model)
    return;
  if (!id) {
    say (canvas, _("Select a group node to save it to the palette"));
    return;
  }
  close_card (g);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *label = gtk_label_new (_("Save to the palette as:"));
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  GtkWidget *entry = gtk_entry_new ();
  g_autofree char *name = gradus_group_display_name (model, id);
  gtk_editable_set_text (GTK_EDITABLE (entry), name ? name : "");
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Name of the group in the palette"), -1);
  g_signal_connect (entry, "activate", G_CALLBACK (card_save), g);
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), entry);
  GtkEventController *k = gtk_event_controller_key_new ();
  g_signal_connect (k, "key-pressed", G_CALLBACK (card_key), g);
  gtk_widget_add_controller (box, k);
  gtk_widget_add_css_class (box, "card");
  gtk_widget_add_css_class (box, "background");
  gtk_widget_set_margin_start (box, 0);
  g->card = box;
  g->card_id = g_steal_pointer (&id);
  gtk_widget_set_parent (box, canvas);
  gtk_widget_queue_allocate (canvas);
  gtk_widget_grab_focus (entry);
}

/* ------------------------------------------------------------ actions */

static void
activate_action (GSimpleAction *action, GVariant *param, gpointer canvas)
{
  const char *name = g_action_get_name (G_ACTION (action));
  if (g_str_equal (name, "make")) {
    if (!gradus_group_canvas_try_group (canvas))
      say (canvas, _("Select the nodes to group first (two or more)"));
  } else if (g_str_equal (name, "ungroup")) {
    ungroup_selected (canvas);
  } else if (g_str_equal (name, "open")) {
    g_autofree char *id = selected_group (canvas);
    if (!id || !gradus_group_canvas_open (canvas, id))
      say (canvas, _("Select a group node to open"));
  } else if (g_str_equal (name, "close")) {
    close_open_group (canvas);
  } else if (g_str_equal (name, "save-to-palette")) {
    save_to_palette (canvas);
  }
}

/* Ctrl+G: a group of the selection; else what Ctrl+G did before (the
 * gradient graph). */
static gboolean
shortcut_group (GtkWidget *canvas, GVariant *args, gpointer data)
{
  if (gradus_group_canvas_try_group (canvas))
    return TRUE;
  return gtk_widget_activate_action (canvas, "win.toggle-gradient", NULL);
}

static void
bar_close_clicked (GtkButton *button, GtkWidget *canvas)
{
  close_open_group (canvas);
}

void
gradus_group_canvas_attach (GtkWidget *canvas)
{
  GroupUi *g = g_new0 (GroupUi, 1);
  g->canvas = GRADUS_CANVAS (canvas);
  g_object_set_data_full (G_OBJECT (canvas), "gradus-group-ui", g, group_ui_free);

  GSimpleActionGroup *group = g_simple_action_group_new ();
  static const char *const names[] = { "make", "ungroup", "open", "close", "save-to-palette" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++) {
    GSimpleAction *a = g_simple_action_new (names[i], NULL);
    g_signal_connect (a, "activate", G_CALLBACK (activate_action), canvas);
    g_action_map_add_action (G_ACTION_MAP (group), G_ACTION (a));
    g_object_unref (a);
  }
  gtk_widget_insert_action_group (canvas, "group", G_ACTION_GROUP (group));
  g_object_unref (group);

  GtkEventController *sc = gtk_shortcut_controller_new ();
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (sc),
    gtk_shortcut_new (gtk_shortcut_trigger_parse_string ("<Control>g"),
                      gtk_callback_action_new (shortcut_group, NULL, NULL)));
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (sc),
    gtk_shortcut_new (gtk_shortcut_trigger_parse_string ("<Control><Shift>g"),
                      gtk_named_action_new ("group.ungroup")));
  gtk_widget_add_controller (canvas, sc);

  /* The bar shown while a group is open. */
  g->bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_add_css_class (g->bar, "card");
  gtk_widget_add_css_class (g->bar, "background");
  g->bar_label = gtk_label_new (NULL);
  gtk_widget_set_margin_start (g->bar_label, 12);
  GtkWidget *close = gtk_button_new_with_label (_("Close Group"));
  gtk_widget_add_css_class (close, "suggested-action");
  gtk_widget_set_tooltip_text (close, _("Make the group again from its inside (Ctrl+Shift+G)"));
  g_signal_connect (close, "clicked", G_CALLBACK (bar_close_clicked), canvas);
  gtk_box_append (GTK_BOX (g->bar), g->bar_label);
  gtk_box_append (GTK_BOX (g->bar), close);
  gtk_widget_set_parent (g->bar, canvas);
  gtk_widget_set_child_visible (g->bar, FALSE);
}

void
gradus_group_canvas_detach (GtkWidget *canvas)
{
  GroupUi *g = group_ui_of (canvas);
  if (!g)
    return;
  g_clear_pointer (&g->bar, gtk_widget_unparent);
  g_clear_pointer (&g->card, gtk_widget_unparent);
}

/* ------------------------------------------------------------ canvas hooks */

void
gradus_group_canvas_sync (GtkWidget *canvas)
{
  GroupUi *g = group_ui_of (canvas);
  GradusDocModel *model = model_of (canvas);
  if (!g || !g->bar)
    return;
  g_autofree char *name = NULL;
  g_autofree char *id = model ? gradus_group_open_id (model, &name) : NULL;
  if (id) {
    g_autofree char *text = g_strdup_printf (_("Inside group “%s” (%s)"), name ? name : id, id);
    gtk_label_set_text (GTK_LABEL (g->bar_label), text);
  }
  if (gtk_widget_get_child_visible (g->bar) != (id != NULL)) {
    gtk_widget_set_child_visible (g->bar, id != NULL);
    gtk_widget_queue_allocate (canvas);
  }
}

void
gradus_group_canvas_draw (GtkWidget *canvas, cairo_t *cr, GradusScene *scene, double zoom,
                          gboolean dark)
{
  GradusDocModel *model = model_of (canvas);
  if (!model || !scene)
    return;
  g_autofree char *open = gradus_group_open_id (model, NULL);
  if (!open)
    return;
  double x0 = G_MAXDOUBLE, y0 = G_MAXDOUBLE, x1 = -G_MAXDOUBLE, y1 = -G_MAXDOUBLE;
  for (guint i = 0; i < scene->nodes->len; i++) {
    GradusSceneNode *n = scene->nodes->pdata[i];
    if (n->group >= 0 || !gradus_group_is_inside (model, n->id))
      continue;
    x0 = MIN (x0, n->x);
    y0 = MIN (y0, n->y);
    x1 = MAX (x1, n->x + n->w);
    y1 = MAX (y1, n->y + n->h);
  }
  if (x0 > x1)
    return;
  /* A dashed outline: the inside, edited in place among its neighbours. */
  double m = 18;
  cairo_save (cr);
  cairo_new_path (cr);
  cairo_rectangle (cr, x0 - m, y0 - m, x1 - x0 + 2 * m, y1 - y0 + 2 * m);
  cairo_set_source_rgba (cr, 0.6, 0.33, 0.85, dark ? 0.12 : 0.07);
  cairo_fill_preserve (cr);
  double dash[] = { 8 / MAX (zoom, 0.1), 5 / MAX (zoom, 0.1) };
  cairo_set_dash (cr, dash, 2, 0);
  cairo_set_line_width (cr, 2 / MAX (zoom, 0.1));
  cairo_set_source_rgba (cr, 0.57, 0.25, 0.83, 0.9);
  cairo_stroke (cr);
  cairo_restore (cr);
}

void
gradus_group_canvas_allocate (GtkWidget *canvas, int width, int height)
{
  GroupUi *g = group_ui_of (canvas);
  if (!g)
    return;
  if (g->bar && gtk_widget_get_child_visible (g->bar)) {
    int min, nat;
    gtk_widget_measure (g->bar, GTK_ORIENTATION_HORIZONTAL, -1, &min, &nat, NULL, NULL);
    int w = MIN (MAX (min, nat), MAX (width - 24, min));
    gtk_widget_measure (g->bar, GTK_ORIENTATION_VERTICAL, w, &min, &nat, NULL, NULL);
    gtk_widget_size_allocate (g->bar, &(GtkAllocation) { (width - w) / 2, 8, w, nat }, -1);
  }
  if (g->card) {
    int min, nat, hmin, hnat;
    gtk_widget_measure (g->card, GTK_ORIENTATION_HORIZONTAL, -1, &min, &nat, NULL, NULL);
    int w = MAX (min, 260);
    gtk_widget_measure (g->card, GTK_ORIENTATION_VERTICAL, w, &hmin, &hnat, NULL, NULL);
    gtk_widget_size_allocate (g->card, &(GtkAllocation) { (width - w) / 2, 56, w, hnat }, -1);
  }
}

void
gradus_group_canvas_snapshot (GtkWidget *canvas, GtkSnapshot *snapshot)
{
  GroupUi *g = group_ui_of (canvas);
  if (!g)
    return;
  if (g->bar && gtk_widget_get_child_visible (g->bar))
    gtk_widget_snapshot_child (canvas, g->bar, snapshot);
  if (g->card)
    gtk_widget_snapshot_child (canvas, g->card, snapshot);
}

/* ------------------------------------------------------------ context menu */

static void
menu_clicked (GtkButton *button, GtkWidget *canvas)
{
  const char *action = g_object_get_data (G_OBJECT (button), "action");
  /* the menu card goes first: the edit rebuilds the scene */
  GtkWidget *box = gtk_widget_get_parent (GTK_WIDGET (button));
  gtk_widget_activate_action (GTK_WIDGET (box), "organise.close-menu", NULL);
  gtk_widget_activate_action (canvas, action, NULL);
}

static void
menu_item (GtkWidget *canvas, GtkWidget *box, const char *label, const char *action)
{
  GtkWidget *b = gtk_button_new_with_mnemonic (label);
  gtk_widget_add_css_class (b, "flat");
  g_object_set_data_full (G_OBJECT (b), "action", g_strdup (action), g_free);
  g_signal_connect (b, "clicked", G_CALLBACK (menu_clicked), canvas);
  gtk_box_append (GTK_BOX (box), b);
}

void
gradus_group_canvas_menu_items (GtkWidget *canvas, GtkWidget *box)
{
  GradusDocModel *model = model_of (canvas);
  g_autofree char *open = model ? gradus_group_open_id (model, NULL) : NULL;
  g_autofree char *group = selected_group (canvas);
  g_auto (GStrv) sel = gradus_canvas_dup_selection (GRADUS_CANVAS (canvas));
  if (open) {
    menu_item (canvas, box, _("C_lose Group"), "group.close");
    return;
  }
  if (sel && g_strv_length (sel) >= 2)
    menu_item (canvas, box, _("_Group Selection"), "group.make");
  if (group) {
    menu_item (canvas, box, _("_Open Group"), "group.open");
    menu_item (canvas, box, _("_Ungroup"), "group.ungroup");
    menu_item (canvas, box, _("_Save Group to Palette…"), "group.save-to-palette");
  }
}
