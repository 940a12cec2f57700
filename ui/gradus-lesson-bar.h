/* gradus-lesson-bar.h: the document's name and description (at the head of
 * the window's right column),
 * the text of a lesson (data/examples/lessons/) or of an example. Hidden when
 * the document has no description; the close button folds it away until the
 * next document. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define GRADUS_TYPE_LESSON_BAR (gradus_lesson_bar_get_type ())
G_DECLARE_FINAL_TYPE (GradusLessonBar, gradus_lesson_bar, GRADUS, LESSON_BAR, GtkWidget)

GtkWidget  *gradus_lesson_bar_new (void);
/* Shows `description` under `title` (either may be NULL); none: hidden. */
void        gradus_lesson_bar_set_text (GradusLessonBar *self, const char *title,
                                        const char *description);
/* The description shown, or NULL when the bar is hidden. */
const char *gradus_lesson_bar_get_description (GradusLessonBar *self);
/* The height of the whole description wrapped at a bar `width` wide, and the
 * height of the part on screen (tests: the text is whole up to a scroller's cap). */
int         gradus_lesson_bar_text_height (GradusLessonBar *self, int width);
int         gradus_lesson_bar_visible_text_height (GradusLessonBar *self);

G_END_DECLS
