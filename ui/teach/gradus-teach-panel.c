/* gradus-teach-panel.c: the step-through card (see the header). */
#include "gradus-teach-panel.h"
#include "gradus-teach-picture.h"

#include <adwaita.h>
#include <glib/gi18n.h>

struct _GradusTeachPanel {
  GtkBox     parent_instance;
  GtkWidget *pass;
  GtkWidget *heading;
  GtkWidget *text;
  GtkWidget *picture;
  GrdTensor *value;      /* drawn in `picture` */
};

G_DEFINE_FINAL_TYPE (GradusTeachPanel, gradus_teach_panel, GTK_TYPE_BOX)

static void
draw_picture (GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer data)
{
  GradusTeachPanel *self = data;
  if (self->value)
    gradus_teach_picture_draw (cr, self->value, 2, 2, w - 4, h - 4,
                               adw_style_manager_get_dark (adw_style_manager_get_default ()));
}

static const char *
phase_name (GradusTeachPhase phase)
{
  switch (phase) {
  case GRADUS_TEACH_FORWARD: return _("Forward pass");
  case GRADUS_TEACH_BACKWARD: return _("Backward pass");
  default: return _("Using the gradient");
  }
}

void
gradus_teach_panel_show (GradusTeachPanel *self, GradusTeachTrace *trace, guint index,
                         const char *error)
{
  g_clear_pointer (&self->value, grd_tensor_unref);
  GradusTeachStep *s = trace ? gradus_teach_trace_step (trace, index) : NULL;
  if (!s) {
    gtk_label_set_text (GTK_LABEL (self->pass), _("Step-through"));
    gtk_label_set_text (GTK_LABEL (self->heading), _("Nothing to step through"));
    gtk_label_set_text (GTK_LABEL (self->text), error ? error : "");
    gtk_widget_set_visible (self->picture, FALSE);
    return;
  }
  g_autofree char *pass = g_strdup_printf (_("%s · step %u of %u · %s"), phase_name (s->phase),
                                           index + 1, gradus_teach_trace_n_steps (trace),
                                           gradus_teach_trace_source (trace));
  gtk_label_set_text (GTK_LABEL (self->pass), pass);
  gtk_label_set_text (GTK_LABEL (self->heading), s->heading ? s->heading : s->node);
  gtk_label_set_text (GTK_LABEL (self->text), s->text ? s->text : "");
  gboolean picture = gradus_teach_picture_wanted (s->value);
  if (picture)
    self->value = grd_tensor_ref (s->value);
  gtk_widget_set_visible (self->picture, picture);
  gtk_widget_queue_draw (self->picture);
}

char *
gradus_teach_panel_dup_text (GradusTeachPanel *self)
{
  return g_strdup_printf ("%s\n%s\n%s", gtk_label_get_text (GTK_LABEL (self->pass)),
                          gtk_label_get_text (GTK_LABEL (self->heading)),
                          gtk_label_get_text (GTK_LABEL (self->text)));
}

static void
gradus_teach_panel_finalize (GObject *object)
{
  GradusTeachPanel *self = GRADUS_TEACH_PANEL (object);
  g_clear_pointer (&self->value, grd_tensor_unref);
  G_OBJECT_CLASS (gradus_teach_panel_parent_class)->finalize (object);
}

static void
gradus_teach_panel_class_init (GradusTeachPanelClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = gradus_teach_panel_finalize;
}

static GtkWidget *
label (const char *css)
{
  GtkWidget *l = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (l), 0);
  gtk_label_set_wrap (GTK_LABEL (l), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (l), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (l), FALSE);
  if (css)
    gtk_widget_add_css_class (l, css);
  return l;
}

static GtkWidget *
button (const char *text, const char *action, const char *tooltip)
{
  GtkWidget *b = gtk_button_new_with_mnemonic (text);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (b), action);
  gtk_widget_set_tooltip_text (b, tooltip);
  return b;
}

static void
gradus_teach_panel_init (GradusTeachPanel *self)
{
  GtkBox *box = GTK_BOX (self);
  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing (box, 6);
  gtk_widget_add_css_class (GTK_WIDGET (self), "card");
  gtk_widget_add_css_class (GTK_WIDGET (self), "gradus-teach-panel");
  self->pass = label ("dim-label");
  self->heading = label ("heading");
  self->text = label ("gradus-teach-text");
  self->picture = gtk_drawing_area_new ();
  gtk_widget_set_size_request (self->picture, 240, 90);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->picture), draw_picture, self, NULL);
  gtk_widget_set_visible (self->picture, FALSE);
  gtk_box_append (box, self->pass);
  gtk_box_append (box, self->heading);
  gtk_box_append (box, self->text);
  gtk_box_append (box, self->picture);
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_append (GTK_BOX (row), button (_("_Previous"), "win.step-prev", _("The previous step (Page Up)")));
  GtkWidget *next = button (_("_Next"), "win.step-next", _("The next step (Page Down)"));
  gtk_widget_add_css_class (next, "suggested-action");
  gtk_box_append (GTK_BOX (row), next);
  GtkWidget *close = button (_("_Close"), "win.step-through", _("Close the step-through"));
  gtk_widget_set_hexpand (close, TRUE);
  gtk_widget_set_halign (close, GTK_ALIGN_END);
  gtk_box_append (GTK_BOX (row), close);
  gtk_box_append (box, row);
}

GtkWidget *
gradus_teach_panel_new (void)
{
  return g_object_new (GRADUS_TYPE_TEACH_PANEL, NULL);
}
