/* gradus-profile-view.c: GradusProfileView and the rows it shows. */
#include "gradus-profile-view.h"

#include <glib/gi18n.h>

#define MAX_ROWS_SHOWN 40

static void
row_clear (gpointer data)
{
  GradusProfileRow *row = data;
  g_free (row->nodes);
  g_free (row->kind);
}

GArray *
gradus_profile_rows_new (void)
{
  GArray *rows = g_array_new (FALSE, TRUE, sizeof (GradusProfileRow));
  g_array_set_clear_func (rows, row_clear);
  return rows;
}

static int
compare_rows (gconstpointer a, gconstpointer b)
{
  const GradusProfileRow *x = a, *y = b;
  return (x->us_per_call < y->us_per_call) - (x->us_per_call > y->us_per_call);
}

void
gradus_profile_rows_fill (GArray *rows, GrdFunction *fn)
{
  g_array_set_size (rows, 0);
  GArray *entries = fn ? grd_function_profile (fn) : NULL;
  if (!entries)
    return;
  double total = 0;
  for (guint i = 0; i < entries->len; i++)
    total += g_array_index (entries, GrdProfileEntry, i).total_us;
  for (guint i = 0; i < entries->len; i++) {
    const GrdProfileEntry *e = &g_array_index (entries, GrdProfileEntry, i);
    GradusProfileRow row = {
      .nodes = g_strdup (e->label ? e->label : ""),
      .kind = g_strdup (e->kind ? e->kind : ""),
      .us_per_call = e->calls ? e->total_us / e->calls : 0,
      .share = total > 0 ? e->total_us / total : 0,
    };
    g_array_append_val (rows, row);
  }
  g_array_sort (rows, compare_rows);
}

struct _GradusProfileView {
  GtkWidget  parent_instance;
  GtkWidget *grid;
};

G_DEFINE_FINAL_TYPE (GradusProfileView, gradus_profile_view, GTK_TYPE_WIDGET)

void
gradus_profile_view_clear (GradusProfileView *self)
{
  g_return_if_fail (GRADUS_IS_PROFILE_VIEW (self));
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (self->grid)))
    gtk_grid_remove (GTK_GRID (self->grid), child);
}

void
gradus_profile_view_show (GradusProfileView *self, GArray *rows)
{
  g_return_if_fail (GRADUS_IS_PROFILE_VIEW (self));
  gradus_profile_view_clear (self);
  GtkGrid *grid = GTK_GRID (self->grid);
  if (!rows || rows->len == 0) {
    gtk_grid_attach (grid, gtk_label_new (_("No profile for this function (reference executor)")),
                     0, 0, 4, 1);
    return;
  }
  const char *heads[] = { _("nodes"), _("kind"), _("µs per call"), _("share") };
  for (int c = 0; c < 4; c++) {
    GtkWidget *l = gtk_label_new (heads[c]);
    gtk_widget_add_css_class (l, "heading");
    gtk_label_set_xalign (GTK_LABEL (l), c < 2 ? 0 : 1);
    gtk_grid_attach (grid, l, c, 0, 1, 1);
  }
  for (guint i = 0; i < rows->len && i < MAX_ROWS_SHOWN; i++) {
    GradusProfileRow *row = &g_array_index (rows, GradusProfileRow, i);
    g_autofree char *us = g_strdup_printf ("%.2f", row->us_per_call);
    g_autofree char *share = g_strdup_printf ("%.1f %%", row->share * 100);
    const char *cells[] = { row->nodes, row->kind, us, share };
    for (int c = 0; c < 4; c++) {
      GtkWidget *l = gtk_label_new (cells[c]);
      gtk_label_set_xalign (GTK_LABEL (l), c < 2 ? 0 : 1);
      if (c == 0) {
        gtk_label_set_ellipsize (GTK_LABEL (l), PANGO_ELLIPSIZE_END);
        gtk_label_set_max_width_chars (GTK_LABEL (l), 40);
        gtk_widget_set_tooltip_text (l, row->nodes);
        gtk_widget_set_hexpand (l, TRUE);
      }
      gtk_grid_attach (grid, l, c, i + 1, 1, 1);
    }
  }
}

static void
gradus_profile_view_dispose (GObject *object)
{
  GradusProfileView *self = GRADUS_PROFILE_VIEW (object);
  g_clear_pointer (&self->grid, gtk_widget_unparent);
  G_OBJECT_CLASS (gradus_profile_view_parent_class)->dispose (object);
}

static void
gradus_profile_view_class_init (GradusProfileViewClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = gradus_profile_view_dispose;
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (GTK_WIDGET_CLASS (klass), "grdprofileview");
}

static void
gradus_profile_view_init (GradusProfileView *self)
{
  self->grid = gtk_grid_new ();
  gtk_grid_set_column_spacing (GTK_GRID (self->grid), 12);
  gtk_widget_set_parent (self->grid, GTK_WIDGET (self));
}

GtkWidget *
gradus_profile_view_new (void)
{
  return g_object_new (GRADUS_TYPE_PROFILE_VIEW, NULL);
}
