/* gradus-scene.h: what the canvas shows, computed from the document: node
 * boxes with their ports and labels, wires and the frames of gradient graphs.
 * The canvas widget and the headless export both draw a scene. */
#pragma once

#include "gradus-doc-model.h"

G_BEGIN_DECLS

typedef struct {
  char       *id;
  char       *title;        /* name or id */
  char       *subtitle;     /* "variable", "op · add", ... */
  GrdNodeKind kind;
  char       *op;           /* op nodes */
  double      x, y, w, h;
  GPtrArray  *in_labels;    /* char*: "a  float32[3]" */
  GPtrArray  *out_labels;
  char       *error;        /* NULL when fine */
  gint        group;        /* index of the gradient frame, or -1 for the forward graph */
  gboolean    readonly;     /* derived by the engine */
  gboolean    selected;
  /* The function drawn: an input or an output of it; for a shared variable,
   * the node (scene index, -1 none) and output whose value replaces it after
   * each call (its update, drawn as an arrow back to it). */
  gboolean    fn_input, fn_output;
  gint        update_from, update_port;
  gpointer    scan;         /* GradusScanBox* (ui/scan): a zone, a border port, a random node; or NULL */
} GradusSceneNode;

typedef struct {
  gint     from, from_port;   /* scene node indices */
  gint     to, to_port;
  gboolean to_output;         /* ends at output to_port of `to`: where a grad node's result comes from */
  gboolean derived;           /* inside a gradient graph */
} GradusSceneEdge;

typedef struct {
  char  *title;
  char  *grad_id;
  double x, y, w, h;
} GradusSceneGroup;

typedef struct {
  GPtrArray  *nodes;    /* GradusSceneNode* */
  GArray     *edges;    /* GradusSceneEdge */
  GPtrArray  *groups;   /* GradusSceneGroup* */
  GHashTable *by_id;    /* id -> index + 1 */
  char       *title;
  char       *banner;   /* a whole-document error, or NULL */
  GPtrArray  *frames;   /* GradusFrame* (ui/organise): drawn below the wires */
  GPtrArray  *comments; /* GradusComment* */
  gpointer    scan_zone; /* GradusScanZone* (ui/scan): the frame of an open scan body, or NULL */
} GradusScene;

/* `expanded`: ids of grad nodes whose gradient graph is shown (may be NULL);
 * `selection`: selected ids (may be NULL). */
GradusScene *gradus_scene_new (GradusDocModel *model, GHashTable *expanded, GHashTable *selection);
void         gradus_scene_free (GradusScene *scene);
gint         gradus_scene_find (GradusScene *scene, const char *id);
/* Bounding box of all nodes and frames; FALSE when empty. */
gboolean     gradus_scene_bounds (GradusScene *scene, double *x, double *y, double *w, double *h);
/* Port centre in graph coordinates; input ports on the left, outputs on the right. */
void         gradus_scene_port_pos (GradusScene *scene, gint node, gboolean output, gint port,
                                    double *x, double *y);
void         gradus_scene_port_pos_of (const GradusSceneNode *n, gboolean output, gint port,
                                       double *x, double *y);
/* Hit tests in graph coordinates: node index or -1; port index or -1. */
gint         gradus_scene_hit_node (GradusScene *scene, double x, double y);
gint         gradus_scene_hit_port (GradusScene *scene, double x, double y, gboolean *output,
                                    gint *port);

/* Wires: the point at t (0..1) along edge `edge`, on the curve the renderer
 * draws; the edge whose wire passes within `tolerance` of (x, y) (the nearest),
 * or -1; the output reference the wire carries ("id", "id:k", grad "g:k"). */
void         gradus_scene_edge_point (GradusScene *scene, guint edge, double t, double *x,
                                      double *y);
gint         gradus_scene_hit_edge (GradusScene *scene, double x, double y, double tolerance);
char        *gradus_scene_edge_source_ref (GradusScene *scene, guint edge);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GradusScene, gradus_scene_free)

G_END_DECLS
