/* gradus-plot-card.c: GradusPlotCard, a plot with its header (title, log
 * scale, show every call, export). */
#include "gradus-plot-card.h"

#include <glib/gi18n.h>
#include <string.h>

struct _GradusPlotCard {
  GtkBox      parent_instance;
  GradusPlot *plot;
};

G_DEFINE_FINAL_TYPE (GradusPlotCard, gradus_plot_card, GTK_TYPE_BOX)

static void
export_response (GtkNativeDialog *dialog, int response, GradusPlot *plot)
{
  const char *format = g_object_get_data (G_OBJECT (dialog), "format");
  if (response == GTK_RESPONSE_ACCEPT) {
    g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
    g_autofree char *path = file ? g_file_get_path (file) : NULL;
    g_autoptr (GError) error = NULL;
    int w = MAX (gtk_widget_get_width (GTK_WIDGET (plot)), 640);
    int h = MAX (gtk_widget_get_height (GTK_WIDGET (plot)), 320);
    gboolean ok = TRUE;
    if (!path)
      ok = FALSE;
    else if (strcmp (format, "png") == 0)
      ok = gradus_plot_export_png (plot, path, w, h, &error);
    else if (strcmp (format, "svg") == 0)
      ok = gradus_plot_export_svg (plot, path, w, h, &error);
    else
      ok = gradus_plot_export_csv (plot, path, &error);
    if (!ok && error)
      g_warning ("%s", error->message);
  }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
  g_object_unref (plot);
}

static void
export_activate (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  GradusPlotCard *self = user_data;
  GradusPlot *plot = self->plot;
  const char *format = g_variant_get_string (parameter, NULL);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (plot));
  GtkFileChooserNative *dialog =
    gtk_file_chooser_native_new (_("Export plot"), GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                 GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
  g_autofree char *name = g_strdup_printf ("%s.%s", gradus_plot_get_title (plot), format);
  g_strdelimit (name, "/: ", '-');
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), name);
  g_object_set_data_full (G_OBJECT (dialog), "format", g_strdup (format), g_free);
  g_signal_connect (dialog, "response", G_CALLBACK (export_response), g_object_ref (plot));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
log_change (GSimpleAction *action, GVariant *value, gpointer user_data)
{
  GradusPlotCard *self = user_data;
  gradus_plot_set_log_scale (self->plot, g_variant_get_boolean (value));
  g_simple_action_set_state (action, value);
}

static void
show_all (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  GradusPlotCard *self = user_data;
  gradus_plot_set_x_range (self->plot, 0, 0);
}

static void
gradus_plot_card_class_init (GradusPlotCardClass *klass)
{
  gtk_widget_class_set_css_name (GTK_WIDGET_CLASS (klass), "gradusplotcard");
}

static void
gradus_plot_card_init (GradusPlotCard *self)
{
  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing (GTK_BOX (self), 2);
}

GtkWidget *
gradus_plot_card_new (GradusPlotMode mode, const char *title)
{
  GradusPlotCard *self = g_object_new (GRADUS_TYPE_PLOT_CARD, NULL);
  GtkWidget *plot = gradus_plot_new (mode, title);
  self->plot = GRADUS_PLOT (plot);
  GtkWidget *header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  GtkWidget *label = gtk_label_new (title);
  gtk_widget_add_css_class (label, "heading");
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_box_append (GTK_BOX (header), label);

  g_autoptr (GSimpleActionGroup) group = g_simple_action_group_new ();
  const GActionEntry entries[] = {
    { .name = "export", .activate = export_activate, .parameter_type = "s" },
    { .name = "log", .state = "false", .change_state = log_change },
    { .name = "show-all", .activate = show_all },
  };
  g_action_map_add_action_entries (G_ACTION_MAP (group), entries, G_N_ELEMENTS (entries), self);
  gtk_widget_insert_action_group (GTK_WIDGET (self), "plot", G_ACTION_GROUP (group));

  if (mode != GRADUS_PLOT_HEATMAP) {
    GtkWidget *log = gtk_toggle_button_new_with_label (_("log"));
    gtk_actionable_set_action_name (GTK_ACTIONABLE (log), "plot.log");
    gtk_widget_set_tooltip_text (log, _("Logarithmic y axis"));
    gtk_box_append (GTK_BOX (header), log);
  }
  if (mode == GRADUS_PLOT_LINES) {
    GtkWidget *all = gtk_button_new_from_icon_name ("zoom-fit-best-symbolic");
    gtk_actionable_set_action_name (GTK_ACTIONABLE (all), "plot.show-all");
    gtk_widget_set_tooltip_text (all, _("Show every call (drag on the plot to zoom)"));
    gtk_box_append (GTK_BOX (header), all);
  }
  g_autoptr (GMenu) menu = g_menu_new ();
  g_menu_append (menu, _("Export as PNG…"), "plot.export::png");
  g_menu_append (menu, _("Export as SVG…"), "plot.export::svg");
  g_menu_append (menu, _("Export as CSV…"), "plot.export::csv");
  GtkWidget *export = gtk_menu_button_new ();
  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (export), "document-save-symbolic");
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (export), G_MENU_MODEL (menu));
  gtk_widget_set_tooltip_text (export, _("Export this plot"));
  gtk_box_append (GTK_BOX (header), export);

  for (GtkWidget *c = gtk_widget_get_first_child (header); c; c = gtk_widget_get_next_sibling (c))
    if (c != label)
      gtk_widget_add_css_class (c, "flat");
  gtk_box_append (GTK_BOX (self), header);
  /* Plots share the height the panel has; the scroller takes over below their minimum. */
  gtk_widget_set_vexpand (plot, TRUE);
  gtk_box_append (GTK_BOX (self), plot);
  return GTK_WIDGET (self);
}

GradusPlot *
gradus_plot_card_get_plot (GradusPlotCard *self)
{
  g_return_val_if_fail (GRADUS_IS_PLOT_CARD (self), NULL);
  return self->plot;
}
