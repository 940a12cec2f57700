/* grd-program-graph.h: a function's graph with the CPU's stabilising
 * rewrites applied, as a new graph (for the Vulkan back end). */
#pragma once

#include "grd-program.h"

G_BEGIN_DECLS

typedef struct {
  GrdGraph  *graph;      /* the rewritten graph (owned) */
  GrdRef    *inputs;     /* the function's inputs, outputs and updates in it */
  GrdRef    *outputs;
  GrdUpdate *updates;
  GArray    *origin_of;  /* gint per node of `graph`: the shared variable of the
                          * original graph it stands for, or -1 */
} GrdStableGraph;

/* NULL with no error when no rewrite applies (compile the original graph);
 * NULL with error set when the rewritten graph could not be built. The
 * arguments are those of a function that grd_function_new accepted, with
 * outputs and updates resolved past gradient aliases. */
GrdStableGraph *grd_stable_graph_new (GrdGraph *g, const GrdRef *inputs, gint n_inputs,
                                      const GrdRef *outputs, gint n_outputs,
                                      const GrdUpdate *updates, gint n_updates, GError **error);
void            grd_stable_graph_free (GrdStableGraph *sg);

G_END_DECLS
