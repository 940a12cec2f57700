/* gradus-organise.h: frames and comments, the editor's notes on a graph.
 * Both live in the file under "ui" (docs/format.md): the engine ignores them.
 * A frame is a titled, coloured rectangle drawn below the wires; the nodes
 * inside it move with it. A comment is free text at a point. Every change is
 * one undoable command of the document model. */
#pragma once

#include "gradus-doc-model.h"
#include <cairo.h>

G_BEGIN_DECLS

typedef struct {
  char    *id;
  char    *title;
  guint32  colour;   /* 0xRRGGBB */
  double   x, y, w, h;
} GradusFrame;

typedef struct {
  char   *id;
  char   *text;
  double  x, y;
} GradusComment;

/* The colours offered for frames (a light tint is drawn from each). */
extern const guint32 gradus_frame_palette[6];

/* Snapshots of the file's frames and comments (GradusFrame*, GradusComment*). */
GPtrArray *gradus_organise_frames (GradusDocModel *model);
GPtrArray *gradus_organise_comments (GradusDocModel *model);

/* A frame around these nodes (their boxes plus a margin and a title bar);
 * around (x, y) when `ids` is empty. Returns the new frame's id. */
char      *gradus_organise_add_frame (GradusDocModel *model, const char *const *ids,
                                      const char *title, guint32 colour, double x, double y);
gboolean   gradus_organise_set_frame (GradusDocModel *model, const char *frame_id,
                                      const char *title, guint32 colour, GError **error);
/* Moves the frame and every node whose top-left corner lies inside it. */
gboolean   gradus_organise_move_frame (GradusDocModel *model, const char *frame_id, double dx,
                                       double dy);
/* The ids of the nodes a frame encloses (their top-left corner inside it). */
GStrv      gradus_organise_frame_nodes (GradusDocModel *model, const char *frame_id);

char      *gradus_organise_add_comment (GradusDocModel *model, const char *text, double x,
                                        double y);
gboolean   gradus_organise_set_comment (GradusDocModel *model, const char *comment_id,
                                        const char *text, GError **error);
gboolean   gradus_organise_move_comment (GradusDocModel *model, const char *comment_id,
                                         double dx, double dy);
/* Removes a frame (its nodes stay) or a comment. */
gboolean   gradus_organise_remove (GradusDocModel *model, const char *id);

/* Hit tests in graph coordinates: the frame whose title bar holds the point,
 * the comment under it; NULL when none (the id is newly allocated). */
char      *gradus_organise_hit_frame_title (GradusDocModel *model, double x, double y);
char      *gradus_organise_hit_comment (GradusDocModel *model, double x, double y);

/* Drawing: frames below everything else, comments above the nodes. */
void       gradus_organise_draw_frames (cairo_t *cr, GPtrArray *frames, gboolean dark);
void       gradus_organise_draw_comments (cairo_t *cr, GPtrArray *comments, gboolean dark);
/* The box a comment takes when drawn. */
void       gradus_organise_comment_size (const GradusComment *c, double *w, double *h);

void       gradus_frame_free (gpointer frame);
void       gradus_comment_free (gpointer comment);

G_END_DECLS
