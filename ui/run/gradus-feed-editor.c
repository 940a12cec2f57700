/* gradus-feed-editor.c: GradusFeedEditor, a grid of the function's feeds. */
#include "gradus-feed-editor.h"

#include <glib/gi18n.h>
#include <string.h>

/* Feed values longer than this are described, not shown as editable text. */
#define MAX_FEED_TEXT 4000

struct _GradusFeedEditor {
  GtkWidget  parent_instance;
  GtkWidget *grid;
  guint      n_rows;
};

G_DEFINE_FINAL_TYPE (GradusFeedEditor, gradus_feed_editor, GTK_TYPE_WIDGET)

enum { SIGNAL_APPLY, N_SIGNALS };
static guint signals[N_SIGNALS];

/* A focused entry that goes away without losing the focus first makes GTK
 * warn; hand the focus back to the window. */
static void
drop_focus_within (GtkWidget *widget)
{
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkWidget *focus = root ? gtk_root_get_focus (root) : NULL;
  if (focus && (focus == widget || gtk_widget_is_ancestor (focus, widget)))
    gtk_root_set_focus (root, NULL);
}

void
gradus_feed_editor_clear (GradusFeedEditor *self)
{
  g_return_if_fail (GRADUS_IS_FEED_EDITOR (self));
  drop_focus_within (self->grid);
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (self->grid)))
    gtk_grid_remove (GTK_GRID (self->grid), child);
  self->n_rows = 0;
}

static void
on_activate (GtkEntry *entry, GradusFeedEditor *self)
{
  const char *input = g_object_get_data (G_OBJECT (entry), "input");
  gboolean ok = FALSE;
  g_signal_emit (self, signals[SIGNAL_APPLY], 0, input,
                 gtk_editable_get_text (GTK_EDITABLE (entry)), &ok);
  if (ok)
    gtk_widget_remove_css_class (GTK_WIDGET (entry), "error");
  else
    gtk_widget_add_css_class (GTK_WIDGET (entry), "error");
}

void
gradus_feed_editor_add_row (GradusFeedEditor *self, const char *input, const char *type_text,
                            const char *feed_json)
{
  g_return_if_fail (GRADUS_IS_FEED_EDITOR (self));
  g_autofree char *label_text = g_strdup_printf ("%s  %s", input, type_text);
  GtkWidget *label = gtk_label_new (label_text);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_grid_attach (GTK_GRID (self->grid), label, 0, self->n_rows, 1, 1);

  const char *text = feed_json ? feed_json : "";
  GtkWidget *entry = gtk_entry_new ();
  gtk_widget_set_hexpand (entry, TRUE);
  g_object_set_data_full (G_OBJECT (entry), "input", g_strdup (input), g_free);
  if (strlen (text) > MAX_FEED_TEXT) {
    g_autofree char *desc = g_strdup_printf (_("a value of %zu characters: edit it in the file"),
                                             strlen (text));
    gtk_editable_set_text (GTK_EDITABLE (entry), desc);
    gtk_editable_set_editable (GTK_EDITABLE (entry), FALSE);
  } else {
    gtk_editable_set_text (GTK_EDITABLE (entry), text);
    gtk_widget_set_tooltip_text (entry, _("A value or a data set as JSON "
                                          "({\"csv\": ..., \"batch\": ...}); Enter applies it"));
    g_signal_connect (entry, "activate", G_CALLBACK (on_activate), self);
  }
  gtk_grid_attach (GTK_GRID (self->grid), entry, 1, self->n_rows, 1, 1);
  self->n_rows++;
}

static void
gradus_feed_editor_dispose (GObject *object)
{
  GradusFeedEditor *self = GRADUS_FEED_EDITOR (object);
  g_clear_pointer (&self->grid, gtk_widget_unparent);
  G_OBJECT_CLASS (gradus_feed_editor_parent_class)->dispose (object);
}

static void
gradus_feed_editor_class_init (GradusFeedEditorClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = gradus_feed_editor_dispose;
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (GTK_WIDGET_CLASS (klass), "grdfeededitor");
  signals[SIGNAL_APPLY] =
    g_signal_new ("apply", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  g_signal_accumulator_first_wins, NULL, NULL, G_TYPE_BOOLEAN, 2, G_TYPE_STRING,
                  G_TYPE_STRING);
}

static void
gradus_feed_editor_init (GradusFeedEditor *self)
{
  self->grid = gtk_grid_new ();
  gtk_grid_set_column_spacing (GTK_GRID (self->grid), 8);
  gtk_grid_set_row_spacing (GTK_GRID (self->grid), 4);
  gtk_widget_set_parent (self->grid, GTK_WIDGET (self));
}

GtkWidget *
gradus_feed_editor_new (void)
{
  return g_object_new (GRADUS_TYPE_FEED_EDITOR, NULL);
}
