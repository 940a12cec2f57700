/* grd-vulkan.h: the Vulkan back end behind GrdFunction (engine-internal). */
#pragma once

#include "../grd-internal.h"

G_BEGIN_DECLS

typedef struct _GrdVkFunction GrdVkFunction;

/* Compiles the same function as grd_function_new() to compute pipelines.
 * Fails with GRD_ERROR_UNSUPPORTED when no Vulkan device can be used, or when
 * a node cannot run on the device (the message names the node and why); the
 * caller then falls back to the CPU. */
GrdVkFunction *grd_vk_function_new (GrdGraph *graph, const GrdRef *inputs, gint n_inputs,
                                    const GrdRef *outputs, gint n_outputs,
                                    const GrdUpdate *updates, gint n_updates, GError **error);
/* Same contract as grd_function_call(): outputs downloaded to new tensors;
 * shared variables stay on the device, updated together after the call. */
gboolean grd_vk_function_call (GrdVkFunction *fn, GrdTensor *const *inputs, GrdTensor **outputs,
                               GError **error);
/* Writes the device copies of shared variables back into the graph. */
gboolean grd_vk_function_sync (GrdVkFunction *fn, GError **error);
void     grd_vk_function_free (GrdVkFunction *fn);
/* fn compiled a rewritten copy of `origin` (grd-program-graph.c): its shared
 * node i stands for origin's node origin_of[i] (-1: none), whose value it
 * reads and writes back. */
void     grd_vk_function_set_origin (GrdVkFunction *fn, GrdGraph *origin, const gint *origin_of);

G_END_DECLS
