/* gradus-lesson-bar.c: GradusLessonBar, the document's description shown. */
#include "gradus-lesson-bar.h"

#include <glib/gi18n.h>

/* A long lesson scrolls rather than pushing the inspector away. */
#define MAX_TEXT_HEIGHT 240

struct _GradusLessonBar {
  GtkWidget  parent_instance;
  GtkWidget *box;
  GtkWidget *title;
  GtkWidget *text;
  GtkWidget *scroller;
  char      *description;
};

G_DEFINE_FINAL_TYPE (GradusLessonBar, gradus_lesson_bar, GTK_TYPE_WIDGET)

void
gradus_lesson_bar_set_text (GradusLessonBar *self, const char *title, const char *description)
{
  g_return_if_fail (GRADUS_IS_LESSON_BAR (self));
  g_free (self->description);
  self->description = description && *description ? g_strdup (description) : NULL;
  gtk_label_set_text (GTK_LABEL (self->title), title ? title : "");
  gtk_widget_set_visible (self->title, title && *title);
  gtk_label_set_text (GTK_LABEL (self->text), self->description ? self->description : "");
  gtk_widget_set_visible (GTK_WIDGET (self), self->description != NULL);
}

const char *
gradus_lesson_bar_get_description (GradusLessonBar *self)
{
  g_return_val_if_fail (GRADUS_IS_LESSON_BAR (self), NULL);
  return gtk_widget_get_visible (GTK_WIDGET (self)) ? self->description : NULL;
}

/* The width the text gets when the bar is `width` wide: less the margins,
 * the close button and the spacing. */
static int
gradus_lesson_bar_text_width (GradusLessonBar *self, int width)
{
  GtkWidget *close = gtk_widget_get_last_child (self->box);
  int close_w = 0, unused;
  gtk_widget_measure (close, GTK_ORIENTATION_HORIZONTAL, -1, &unused, &close_w, NULL, NULL);
  return MAX (1, width - gtk_widget_get_margin_start (self->box) -
                 gtk_widget_get_margin_end (self->box) - close_w - 8);
}

int
gradus_lesson_bar_text_height (GradusLessonBar *self, int width)
{
  g_return_val_if_fail (GRADUS_IS_LESSON_BAR (self), 0);
  int min_h = 0, nat_h = 0;
  gtk_widget_measure (self->text, GTK_ORIENTATION_VERTICAL, gradus_lesson_bar_text_width (self, width),
                      &min_h, &nat_h, NULL, NULL);
  return nat_h;
}

int
gradus_lesson_bar_visible_text_height (GradusLessonBar *self)
{
  g_return_val_if_fail (GRADUS_IS_LESSON_BAR (self), 0);
  return gtk_widget_get_height (self->scroller);
}

static void
close_clicked (GtkButton *button, GradusLessonBar *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
}

/* The scroller alone asks for a few lines whatever the text (its natural
 * height is not the wrapped label's height for the width it gets): the bar
 * asks for the whole text at its width, up to MAX_TEXT_HEIGHT, and scrolls
 * beyond. */
static void
gradus_lesson_bar_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                           int *minimum, int *natural, int *minimum_baseline, int *natural_baseline)
{
  GradusLessonBar *self = GRADUS_LESSON_BAR (widget);
  gtk_widget_measure (self->box, orientation, for_size, minimum, natural, NULL, NULL);
  *minimum_baseline = *natural_baseline = -1;
  if (orientation != GTK_ORIENTATION_VERTICAL || for_size <= 0)
    return;
  int text_h = gradus_lesson_bar_text_height (self, for_size);
  int other = 0, unused;
  if (gtk_widget_get_visible (self->title))
    gtk_widget_measure (self->title, GTK_ORIENTATION_VERTICAL, gradus_lesson_bar_text_width (self, for_size),
                        &unused, &other, NULL, NULL);
  int want = MIN (text_h, MAX_TEXT_HEIGHT) + other + 2 + gtk_widget_get_margin_top (self->box) +
             gtk_widget_get_margin_bottom (self->box);
  *minimum = MAX (*minimum, want);
  *natural = MAX (*natural, want);
}

static void
gradus_lesson_bar_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  gtk_widget_allocate (GRADUS_LESSON_BAR (widget)->box, width, height, baseline, NULL);
}

static GtkSizeRequestMode
gradus_lesson_bar_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;
}

static void
gradus_lesson_bar_dispose (GObject *object)
{
  GradusLessonBar *self = GRADUS_LESSON_BAR (object);
  g_clear_pointer (&self->box, gtk_widget_unparent);
  G_OBJECT_CLASS (gradus_lesson_bar_parent_class)->dispose (object);
}

static void
gradus_lesson_bar_finalize (GObject *object)
{
  g_free (GRADUS_LESSON_BAR (object)->description);
  G_OBJECT_CLASS (gradus_lesson_bar_parent_class)->finalize (object);
}

static void
gradus_lesson_bar_class_init (GradusLessonBarClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = gradus_lesson_bar_dispose;
  G_OBJECT_CLASS (klass)->finalize = gradus_lesson_bar_finalize;
  GTK_WIDGET_CLASS (klass)->measure = gradus_lesson_bar_measure;
  GTK_WIDGET_CLASS (klass)->size_allocate = gradus_lesson_bar_size_allocate;
  GTK_WIDGET_CLASS (klass)->get_request_mode = gradus_lesson_bar_get_request_mode;
  gtk_widget_class_set_css_name (GTK_WIDGET_CLASS (klass), "gradus-lesson");
  gtk_widget_class_set_accessible_role (GTK_WIDGET_CLASS (klass), GTK_ACCESSIBLE_ROLE_NOTE);
}

static void
gradus_lesson_bar_init (GradusLessonBar *self)
{
  self->box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  gtk_widget_set_margin_start (self->box, 12);
  gtk_widget_set_margin_end (self->box, 6);
  gtk_widget_set_margin_top (self->box, 3);
  gtk_widget_set_margin_bottom (self->box, 3);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));
  gtk_widget_add_css_class (GTK_WIDGET (self), "view");

  GtkWidget *column = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  gtk_widget_set_hexpand (column, TRUE);
  self->title = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->title, "heading");
  gtk_label_set_xalign (GTK_LABEL (self->title), 0);
  gtk_label_set_wrap (GTK_LABEL (self->title), TRUE);
  gtk_box_append (GTK_BOX (column), self->title);
  self->text = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->text), 0);
  gtk_label_set_wrap (GTK_LABEL (self->text), TRUE);
  gtk_label_set_selectable (GTK_LABEL (self->text), TRUE);
  GtkWidget *scroller = self->scroller = gtk_scrolled_window_new ();
  gtk_widget_set_vexpand (scroller, TRUE);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scroller), TRUE);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scroller), MAX_TEXT_HEIGHT);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), self->text);
  gtk_box_append (GTK_BOX (column), scroller);
  gtk_box_append (GTK_BOX (self->box), column);

  GtkWidget *close = gtk_button_new_from_icon_name ("window-close-symbolic");
  gtk_widget_add_css_class (close, "flat");
  gtk_widget_set_valign (close, GTK_ALIGN_START);
  gtk_widget_set_tooltip_text (close, _("Hide the description"));
  g_signal_connect (close, "clicked", G_CALLBACK (close_clicked), self);
  gtk_box_append (GTK_BOX (self->box), close);
  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
}

GtkWidget *
gradus_lesson_bar_new (void)
{
  return g_object_new (GRADUS_TYPE_LESSON_BAR, NULL);
}
