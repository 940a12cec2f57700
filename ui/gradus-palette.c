/* gradus-palette.c: node kinds first, then every op of the engine's catalogue
 * grouped as the file format groups them; typing filters by name or group. */
#include "gradus-palette.h"
#include "organise/gradus-organise-groups.h"
#include "gradus-catalog.h"
#include "gradus-quick-add.h"
#include "gradus.h"

#include <glib/gi18n.h>

/* The op groups of the engine's catalogue (grd_op_group), for the
 * translations of the palette's headings. */
static const char *const group_names[] G_GNUC_UNUSED = {
  N_("arithmetic"), N_("transcendental"), N_("comparison"), N_("rounding"), N_("conversion"),
  N_("reductions"), N_("linear algebra"), N_("shape"), N_("indexing"), N_("neural"),
};

#include <string.h>

struct _GradusPalette {
  GtkWidget   parent_instance;
  GtkWidget  *box;
  GtkWidget  *search;
  GtkListBox *list;
  GFileMonitor *groups_monitor;   /* the user's saved groups (ui/organise) */
};

G_DEFINE_FINAL_TYPE (GradusPalette, gradus_palette, GTK_TYPE_WIDGET)

gboolean
gradus_palette_parse (const char *payload, char **kind, char **op)
{
  *kind = NULL;
  *op = NULL;
  if (!payload)
    return FALSE;
  if (g_str_has_prefix (payload, "op:") && grd_op_exists (payload + 3)) {
    *kind = g_strdup ("op");
    *op = g_strdup (payload + 3);
    return TRUE;
  }
  if (g_str_has_prefix (payload, "group:") && payload[6]) {
    /* a group the user saved (ui/organise) */
    *kind = g_strdup ("group");
    *op = g_strdup (payload + 6);
    return TRUE;
  }
  if (g_strv_contains (gradus_catalog_node_kinds (), payload)) {
    *kind = g_strdup (payload);
    return TRUE;
  }
  return FALSE;
}

static const char *
row_payload (GtkListBoxRow *row)
{
  return g_object_get_data (G_OBJECT (row), "payload");
}

static const char *
row_group (GtkListBoxRow *row)
{
  return g_object_get_data (G_OBJECT (row), "group");
}

static gboolean
filter (GtkListBoxRow *row, gpointer data)
{
  GradusPalette *self = data;
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search));
  if (!text || !*text)
    return TRUE;
  /* A quick-add line ("y = add ax b") filters by its kind or op. */
  g_autofree char *word = gradus_quick_add_is_line (text) ? gradus_quick_add_dup_word (text) : NULL;
  g_autofree char *needle = g_utf8_strdown (word ? word : text, -1);
  const char *payload = row_payload (row);
  const char *name = g_str_has_prefix (payload, "op:") ? payload + 3 : payload;
  return strstr (name, needle) || strstr (row_group (row), needle);
}

static void
header (GtkListBoxRow *row, GtkListBoxRow *before, gpointer data)
{
  const char *group = row_group (row);
  if (before && g_str_equal (row_group (before), group)) {
    gtk_list_box_row_set_header (row, NULL);
    return;
  }
  g_autofree char *title = g_strdup (_(group));
  title[0] = g_ascii_toupper (title[0]);
  GtkWidget *label = gtk_label_new (title);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "heading");
  gtk_widget_add_css_class (label, "dim-label");
  gtk_widget_set_margin_start (label, 8);
  gtk_widget_set_margin_top (label, 8);
  gtk_widget_set_margin_bottom (label, 2);
  gtk_list_box_row_set_header (row, label);
}

static void
row_activated (GtkListBox *list, GtkListBoxRow *row, GradusPalette *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "win.add-node", "s", row_payload (row));
}

static GdkContentProvider *
drag_prepare (GtkDragSource *source, double x, double y, GtkListBoxRow *row)
{
  g_debug ("palette: drag of %s", row_payload (row));
  return gdk_content_provider_new_typed (G_TYPE_STRING, row_payload (row));
}

static void
add_row (GradusPalette *self, const char *payload, const char *name, const char *group)
{
  GtkWidget *label = gtk_label_new (name);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_set_margin_start (label, 16);
  gtk_widget_set_margin_top (label, 3);
  gtk_widget_set_margin_bottom (label, 3);
  GtkWidget *row = gtk_list_box_row_new ();
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), label);
  g_object_set_data_full (G_OBJECT (row), "payload", g_strdup (payload), g_free);
  g_object_set_data_full (G_OBJECT (row), "group", g_strdup (group), g_free);
  const char *tip = gradus_catalog_describe (name);
  g_autofree char *text = g_strdup_printf ("%s%s%s\n%s", name,
                                           tip ? ": " : "", tip ? tip : "",
                                           _("Double-click or drag onto the canvas"));
  gtk_widget_set_tooltip_text (row, text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
  GtkDragSource *ds = gtk_drag_source_new ();
  gtk_drag_source_set_actions (ds, GDK_ACTION_COPY);
  g_signal_connect (ds, "prepare", G_CALLBACK (drag_prepare), row);
  gtk_widget_add_controller (row, GTK_EVENT_CONTROLLER (ds));
  gtk_list_box_append (self->list, row);
}

/* The rows of "my groups": one per saved group, reread when the folder changes. */
void
gradus_palette_reload_groups (GradusPalette *self)
{
  /* rows first: removing one also removes its header, a sibling */
  g_autoptr (GPtrArray) old = g_ptr_array_new ();
  GtkListBoxRow *row;
  for (gint r = 0; (row = gtk_list_box_get_row_at_index (self->list, r)); r++)
    if (g_object_get_data (G_OBJECT (row), "user-group"))
      g_ptr_array_add (old, row);
  for (guint i = 0; i < old->len; i++)
    gtk_list_box_remove (self->list, old->pdata[i]);
  g_auto (GStrv) names = gradus_group_library_names ();
  for (guint i = 0; names && names[i]; i++) {
    g_autofree char *payload = g_strconcat ("group:", names[i], NULL);
    add_row (self, payload, names[i], N_("my groups"));
    GtkListBoxRow *last = NULL;
    for (gint r = 0; gtk_list_box_get_row_at_index (self->list, r); r++)
      last = gtk_list_box_get_row_at_index (self->list, r);
    if (last)
      g_object_set_data (G_OBJECT (last), "user-group", GINT_TO_POINTER (1));
  }
}

static void
search_changed (GradusPalette *self)
{
  gtk_list_box_invalidate_filter (self->list);
  gtk_list_box_invalidate_headers (self->list);
}

static void
search_activate (GradusPalette *self)
{
  /* Enter in the search box adds the first match; a quick-add line makes
   * its node (gradus-quick-add.h). */
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search));
  if (gradus_quick_add_is_line (text)) {
    gtk_widget_activate_action (GTK_WIDGET (self), "win.quick-add", "s", text);
    return;
  }
  for (GtkWidget *c = gtk_widget_get_first_child (GTK_WIDGET (self->list)); c;
       c = gtk_widget_get_next_sibling (c))
    if (GTK_IS_LIST_BOX_ROW (c) && gtk_widget_get_child_visible (c)) {
      row_activated (self->list, GTK_LIST_BOX_ROW (c), self);
      return;
    }
}

void
gradus_palette_set_search (GradusPalette *self, const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (self->search), text);
  search_changed (self);
}

GtkWidget *
gradus_palette_get_search_entry (GradusPalette *self)
{
  return self->search;
}

GStrv
gradus_palette_dup_visible (GradusPalette *self)
{
  GPtrArray *out = g_ptr_array_new ();
  for (gint i = 0;; i++) {
    GtkListBoxRow *row = gtk_list_box_get_row_at_index (self->list, i);
    if (!row)
      break;
    if (filter (row, self))
      g_ptr_array_add (out, g_strdup (row_payload (row)));
  }
  g_ptr_array_add (out, NULL);
  return (GStrv) g_ptr_array_free (out, FALSE);
}

static void
gradus_palette_dispose (GObject *object)
{
  GradusPalette *self = GRADUS_PALETTE (object);
  if (self->groups_monitor)
    g_signal_handlers_disconnect_by_data (self->groups_monitor, self);
  g_clear_object (&self->groups_monitor);
  g_clear_pointer (&self->box, gtk_widget_unparent);
  G_OBJECT_CLASS (gradus_palette_parent_class)->dispose (object);
}

static void
gradus_palette_class_init (GradusPaletteClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = gradus_palette_dispose;
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (GTK_WIDGET_CLASS (klass), "gradus-palette");
}

static void
gradus_palette_init (GradusPalette *self)
{
  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));
  self->search = gtk_search_entry_new ();
  g_object_set (self->search, "placeholder-text", _("Search ops"), NULL);
  gtk_widget_set_tooltip_text (self->search,
                               _("Search by name, or type a node as one line and press Enter: "
                                 "y = add a x, w = shared 0.5, x = variable 1"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->search), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Search node kinds and ops"), -1);
  gtk_widget_set_margin_start (self->search, 6);
  gtk_widget_set_margin_end (self->search, 6);
  gtk_widget_set_margin_top (self->search, 6);
  g_signal_connect_swapped (self->search, "search-changed", G_CALLBACK (search_changed), self);
  g_signal_connect_swapped (self->search, "activate", G_CALLBACK (search_activate), self);
  gtk_box_append (GTK_BOX (self->box), self->search);

  self->list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_activate_on_single_click (self->list, FALSE);
  gtk_list_box_set_filter_func (self->list, filter, self, NULL);
  gtk_list_box_set_header_func (self->list, header, NULL, NULL);
  gtk_widget_add_css_class (GTK_WIDGET (self->list), "navigation-sidebar");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->list), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Palette of node kinds and ops"), -1);
  g_signal_connect (self->list, "row-activated", G_CALLBACK (row_activated), self);
  for (const char *const *k = gradus_catalog_node_kinds (); *k; k++)
    add_row (self, *k, *k, N_("nodes"));
  for (const char *const *op = grd_op_names (); op && *op; op++) {
    if ((*op)[0] == '_')
      continue;   /* helpers that gradient rules use */
    g_autofree char *payload = g_strconcat ("op:", *op, NULL);
    const char *group = grd_op_group (*op);
    add_row (self, payload, *op, group ? group : N_("other"));
  }
  gradus_palette_reload_groups (self);
  g_autofree char *groups_dir = gradus_group_library_dir ();
  g_autoptr (GFile) groups_file = g_file_new_for_path (groups_dir);
  self->groups_monitor = g_file_monitor_directory (groups_file, G_FILE_MONITOR_NONE, NULL, NULL);
  if (self->groups_monitor)
    g_signal_connect_swapped (self->groups_monitor, "changed",
                              G_CALLBACK (gradus_palette_reload_groups), self);
  GtkWidget *sw = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (sw), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (sw), GTK_WIDGET (self->list));
  gtk_widget_set_vexpand (sw, TRUE);
  gtk_box_append (GTK_BOX (self->box), sw);
}

GtkWidget *
gradus_palette_new (void)
{
  return g_object_new (GRADUS_TYPE_PALETTE, NULL);
}
