/* grd-internal.h: what the engine's own files share and users do not see. */
#pragma once

#include "gradus.h"

G_BEGIN_DECLS

typedef struct _GrdNode  GrdNode;
typedef struct _GrdOpDef GrdOpDef;

struct _GrdNode {
  char          *id;
  GrdNodeKind    kind;
  const GrdOpDef *op;        /* op nodes */
  GrdAttrs       attrs;
  GrdRef        *inputs;     /* op nodes: resolved refs (never to a grad node) */
  gint           n_inputs;
  GrdType       *types;      /* one per output */
  gint           n_outputs;
  GrdTensor     *value;      /* constants and shared variables */
  GrdRef        *aliases;    /* grad nodes: output i is aliases[i] */
  gint           owner;      /* grad node that made this node, or -1 */
};

struct _GrdGraph {
  gint        ref_count;
  GPtrArray  *nodes;         /* GrdNode*, in creation order, which is topological */
  GHashTable *by_id;         /* id -> GINT_TO_POINTER (index + 1) */
  gint        next_auto_id;
  gint        building_grad; /* index of the grad node being expanded, or -1 */
};

/* The catalogue entry of an op. `infer` checks the input types and gives the
 * output types; `eval` computes outputs (allocating them) from inputs; `grad`
 * builds the gradient graph: given the gradients of the outputs (GRD_REF_NONE
 * where an output has none) it sets in_grads[i] for every i with needed[i]
 * (GRD_REF_NONE for "disconnected / zero"). */
struct _GrdOpDef {
  const char *name;
  const char *group;
  gint        min_inputs;
  gint        max_inputs;    /* -1: any number */
  gint        n_outputs;
  gboolean  (*infer) (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out,
                      GError **error);
  gboolean  (*eval)  (const GrdNode *node, GrdTensor *const *in, GrdTensor **out,
                      GError **error);
  gboolean  (*grad)  (GrdGraph *graph, const GrdNode *node, const GrdRef *out_grads,
                      const gboolean *needed, GrdRef *in_grads, GError **error);
};

/* The op table: each ops/ file registers its ops in this order. */
const GrdOpDef *grd_op_lookup (const char *name);

/* Register functions of the ops/ files (called once from grd-op.c). */
typedef void (*GrdOpRegisterFunc) (const GrdOpDef *def);
void grd_ops_register_elementwise (GrdOpRegisterFunc add);
void grd_ops_register_reduce (GrdOpRegisterFunc add);
void grd_ops_register_linalg (GrdOpRegisterFunc add);
void grd_ops_register_shape (GrdOpRegisterFunc add);
void grd_ops_register_neural (GrdOpRegisterFunc add);
void grd_ops_register_internal (GrdOpRegisterFunc add);

static inline GrdNode *
grd_graph_node (GrdGraph *graph, gint index)
{
  return g_ptr_array_index (graph->nodes, index);
}

/* ------------------------------------------------------------ shape helpers */

/* NumPy broadcasting of static types (unknown dims stay unknown unless the
 * other side fixes them). Sets a GRD_ERROR_SHAPE error on a mismatch. */
gboolean grd_broadcast_types (const GrdType *in, gint n_in, gint rank_out, gint64 *dims_out,
                              GError **error);
/* Broadcast of runtime shapes. */
gboolean grd_broadcast_shapes (GrdTensor *const *in, gint n_in, gint *rank_out,
                               gint64 *shape_out, GError **error);
/* Row-major element strides of `t` seen with shape (rank, shape): 0 on broadcast axes. */
void     grd_broadcast_strides (const GrdTensor *t, gint rank, const gint64 *shape,
                                gint64 *strides_out);
/* Normalises attrs->axes against `rank` into a mask (all axes when !has_axis).
 * Errors on out-of-range or repeated axes. */
gboolean grd_axes_mask (const GrdAttrs *attrs, gint rank, gboolean *mask, GError **error);
/* One axis (attrs->axes[0], or `fallback` when absent) normalised to [0, rank). */
gboolean grd_axis_single (const GrdAttrs *attrs, gint rank, gint fallback, gint *axis,
                          GError **error);
gint64   grd_shape_size (gint rank, const gint64 *shape);
void     grd_type_set (GrdType *type, GrdDType dtype, gint rank, const gint64 *dims);

/* ------------------------------------------------------------ graph builder */

/* Builds an op node for gradient rules; any NONE input or an error already set
 * gives GRD_REF_NONE, so these nest. */
GrdRef grd_build (GrdGraph *graph, GError **error, const char *op, const GrdAttrs *attrs,
                  gint n_inputs, ...);
/* A 0-d constant of `dtype`. */
GrdRef grd_build_scalar (GrdGraph *graph, GError **error, GrdDType dtype, double value);
/* Zeros shaped like `like`, of its dtype. */
GrdRef grd_build_zeros_like (GrdGraph *graph, GError **error, GrdRef like);
/* Gradient g of a broadcast result summed back to the runtime shape of `x`. */
GrdRef grd_build_reduce_to (GrdGraph *graph, GError **error, GrdRef g, GrdRef x);
GrdRef grd_build_cast (GrdGraph *graph, GError **error, GrdRef x, GrdDType dtype);

G_END_DECLS
