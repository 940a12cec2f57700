/* gradus-scan-zone.h: the scene side of ui/scan: a scan drawn as a zone
 * (collapsed: its ports and per-step strips; expanded: its body in small),
 * an open body framed with its inputs and outputs on the frame's border, and
 * random nodes with a histogram of their distribution. */
#pragma once

#include <cairo.h>
#include "gradus-scene.h"
#include "gradus-scan.h"

G_BEGIN_DECLS

typedef enum {
  GRADUS_SCAN_BOX_ZONE = 1,    /* a scan in the outer graph */
  GRADUS_SCAN_BOX_BORDER_IN,   /* a body input, on the open zone's left border */
  GRADUS_SCAN_BOX_OUTPUTS,     /* the body's outputs, on the open zone's right border */
  GRADUS_SCAN_BOX_RANDOM,      /* a random node: its histogram */
} GradusScanBoxRole;

typedef struct {
  char  *title;
  double x, y, w, h;           /* relative to the zone's box */
} GradusScanMini;

typedef struct {
  GradusScanBoxRole role;
  double     extra_y;          /* where the pictures start, from the box's top */
  char      *scan_id;          /* zone, outputs: the scan whose outputs the strips show */
  gint       n_strips;
  GPtrArray *minis;            /* GradusScanMini*: an expanded zone's body */
  GArray    *mini_edges;       /* gint pairs (from, to) into minis */
  /* random: the distribution and its params when they are numbers */
  char      *distribution;
  double     p0, p1;
  gboolean   params_known;
} GradusScanBox;

typedef struct {
  char  *title;
  double x, y, w, h;
} GradusScanZone;

void     gradus_scan_box_free (gpointer box);
void     gradus_scan_zone_free (gpointer zone);

/* Scene building (gradus-scene.c): the box of node `o` gets its role and room. */
void     gradus_scan_scene_node (GradusSceneNode *sn, JsonObject *o, GradusDocModel *model,
                                 GHashTable *expanded);
/* An open body: its frame, inputs placed on the left border, a box of its outputs on the right. */
void     gradus_scan_scene_zone (GradusScene *scene, GradusDocModel *model);
gboolean gradus_scan_zone_rect (GradusScene *scene, double *x, double *y, double *w, double *h);

/* Port names of a scan node the engine derived (op "_scan"): "in 3", "out 1";
 * NULL for other ops. */
char    *gradus_scan_derived_port_name (const char *op, gboolean output, gint k, gint n);

/* Per-step values of output `k` of scan `scan_id` in a call's values (refs
 * "id" or "id:k"): element e of step t is values[t * per_step + e]. NULL
 * when the call has none. */
GrdTensor *gradus_scan_strip_tensor (GHashTable *live, const char *scan_id, gint k);
/* The strip's numbers: each step's mean (its value for a scalar per step). */
GArray   *gradus_scan_strip_means (const GrdTensor *t);

/* Drawing (gradus-render.c, gradus-canvas.c): under the wires, the zones'
 * frames; over the nodes, strips, small bodies and histograms (`live` the
 * last call's values, or NULL). */
void     gradus_scan_draw_under (cairo_t *cr, GradusScene *scene, gboolean dark);
void     gradus_scan_draw_over (cairo_t *cr, GradusScene *scene, GHashTable *live, gboolean dark);

G_END_DECLS
