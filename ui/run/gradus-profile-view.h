/* gradus-profile-view.h: the profile of the last run, a row per compiled step
 * (nodes, kind, µs per call, share of the time), slowest first. */
#pragma once

#include <gtk/gtk.h>
#include "gradus.h"

G_BEGIN_DECLS

typedef struct {
  char   *nodes;
  char   *kind;
  double  us_per_call;
  double  share;   /* of the total time, 0..1 */
} GradusProfileRow;

/* An array for GradusProfileRow that frees their strings. */
GArray *gradus_profile_rows_new (void);
/* `rows` becomes the function's profile since its compile, sorted by time. */
void    gradus_profile_rows_fill (GArray *rows, GrdFunction *fn);

#define GRADUS_TYPE_PROFILE_VIEW (gradus_profile_view_get_type ())
G_DECLARE_FINAL_TYPE (GradusProfileView, gradus_profile_view, GRADUS, PROFILE_VIEW, GtkWidget)

GtkWidget *gradus_profile_view_new (void);
void       gradus_profile_view_clear (GradusProfileView *self);
/* Shows `rows` (the first 40), or a line saying there is no profile. */
void       gradus_profile_view_show (GradusProfileView *self, GArray *rows);

G_END_DECLS
