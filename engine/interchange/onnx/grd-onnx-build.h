/* grd-onnx-build.h: building an ONNX graph node by node (grd-onnx-build.c),
 * shared by the export walk (grd-onnx-export.c) and the op table
 * (grd-onnx-ops.c). All memory of the messages is owned by the builder. */
#pragma once

#include "../../grd-internal.h"
#include "onnx-subset.pb-c.h"

G_BEGIN_DECLS

#define GRD_ONNX_OPSET 17

typedef GradusOnnx__NodeProto OnnxNode;

typedef struct {
  GrdGraph  *graph;
  GrdDocument *doc;        /* the file, where an emitter needs a node's JSON (random) */
  GPtrArray *nodes;        /* OnnxNode*, in execution order */
  GPtrArray *initializers; /* GradusOnnx__TensorProto* */
  GPtrArray *garbage;      /* everything the messages point to (g_free) */
  GHashTable *taken;       /* value names already used */
  gint       counter;
  gboolean   conv_float32;   /* float64 convolutions computed in float32 (Casts around) */
  const char *float64_conv;  /* the first float64 convolution node written as it is */
  const char **names;      /* per node of a subgraph (scan body, branch): the ONNX name of
                           * its output 0; NULL in the main graph (names are ids) */
} OnnxBuilder;

void        onnx_builder_init (OnnxBuilder *b, GrdGraph *graph);
void        onnx_builder_clear (OnnxBuilder *b);
/* A string that lives as long as the builder. */
gpointer    onnx_keep (OnnxBuilder *b, gpointer owned);
/* A fresh value name starting with `hint`. */
const char *onnx_fresh (OnnxBuilder *b, const char *hint);

/* ONNX's TensorProto.DataType of a Gradus dtype. */
gint        onnx_dtype (GrdDType dtype);

/* Appends a node: `out` names its output (NULL: a fresh name); inputs may be
 * "" for an absent optional input. Returns the node; onnx_out() is its output. */
OnnxNode   *onnx_node (OnnxBuilder *b, const char *op_type, const char *out, gint n_in, ...);
/* The same with the inputs in an array. */
OnnxNode   *onnx_node_v (OnnxBuilder *b, const char *op_type, const char *out, gint n_in,
                         const char *const *in);
#define onnx_out(node) ((const char *) (node)->output[0])
/* Appends a further output (a fresh name from `hint`) to n and returns it. */
const char *onnx_node_add_output (OnnxBuilder *b, OnnxNode *n, const char *hint);
void        onnx_attr_int (OnnxBuilder *b, OnnxNode *n, const char *name, gint64 v);
void        onnx_attr_ints (OnnxBuilder *b, OnnxNode *n, const char *name, const gint64 *v, gint count);
void        onnx_attr_string (OnnxBuilder *b, OnnxNode *n, const char *name, const char *v);
void        onnx_attr_graph (OnnxBuilder *b, OnnxNode *n, const char *name,
                             GradusOnnx__GraphProto *g);
void        onnx_attr_tensor (OnnxBuilder *b, OnnxNode *n, const char *name,
                              GradusOnnx__TensorProto *t);

/* A tensor message holding `value` (raw little-endian bytes). */
GradusOnnx__TensorProto *onnx_tensor (OnnxBuilder *b, const char *name, const GrdTensor *value);
/* Adds an initializer named `name` (NULL: fresh) and returns its name. */
const char *onnx_initializer (OnnxBuilder *b, const char *name, const GrdTensor *value);
/* Constants for the op table: a 0-d value of dtype, and a 1-d int64 list. */
const char *onnx_scalar (OnnxBuilder *b, GrdDType dtype, double value);
const char *onnx_int64s (OnnxBuilder *b, const gint64 *v, gint count);
/* x converted to dtype (x itself when it already is). */
const char *onnx_cast (OnnxBuilder *b, const char *x, GrdDType from, GrdDType to);

/* The op table (grd-onnx-ops.c). `in` are the ONNX names of the node's
 * inputs; the emitter must produce a value named `out` (the node's output). */
typedef gboolean (*OnnxEmitFunc) (OnnxBuilder *b, const GrdNode *node, const char *const *in,
                                  const char *out, const char *onnx_op, GError **error);
typedef struct {
  const char  *op;        /* Gradus op */
  OnnxEmitFunc emit;
  const char  *onnx_op;   /* the ONNX operator the emitter uses, where it is one */
} OnnxOpRow;

/* Emitters of the part-two ops (grd-onnx-ops-conv.c: conv2d, pool_2d and
 * their gradient ops; grd-onnx-ops-index.c: shape, arange, index,
 * set/inc_subtensor, mod, floor_div, _prod_others). */
#define ONNX_EMITTER(name) \
  gboolean name (OnnxBuilder *b, const GrdNode *node, const char *const *in, const char *out, \
                 const char *onnx_op, GError **error)
ONNX_EMITTER (onnx_emit_conv2d);
ONNX_EMITTER (onnx_emit_conv2d_grad_input);
ONNX_EMITTER (onnx_emit_conv2d_grad_filters);
ONNX_EMITTER (onnx_emit_pool_2d);
ONNX_EMITTER (onnx_emit_pool_2d_grad);
ONNX_EMITTER (onnx_emit_pool_2d_gather);
ONNX_EMITTER (onnx_emit_shape);
ONNX_EMITTER (onnx_emit_arange);
ONNX_EMITTER (onnx_emit_index);
ONNX_EMITTER (onnx_emit_subtensor);
ONNX_EMITTER (onnx_emit_divmod);
ONNX_EMITTER (onnx_emit_prod_others);
ONNX_EMITTER (onnx_emit_random);     /* grd-onnx-ops-random.c */

/* The export walk (grd-onnx-export.c), also used for the graphs of scan
 * bodies and ifelse branches: the ONNX name of a node output, a value info of
 * a type, the nodes `ref` depends on, and one node emitted. */
const char *onnx_ref_name (OnnxBuilder *b, GrdRef ref);
GradusOnnx__ValueInfoProto *onnx_value_info (OnnxBuilder *b, const char *name,
                                             const GrdType *type);
void        onnx_mark_needed (GrdGraph *graph, GrdRef ref, gboolean *needed);
gboolean    onnx_emit_node (OnnxBuilder *b, gint n, GError **error);

/* Loop and If (grd-onnx-control.c): a core scan, its taps' gather and
 * scatter, and ifelse. `outs` names each of the node's outputs. */
gboolean    onnx_emit_scan (OnnxBuilder *b, const GrdNode *node, const char *const *in,
                            const char *const *outs, GError **error);
gboolean    onnx_emit_ifelse (OnnxBuilder *b, const GrdNode *node, const char *const *in,
                              const char *const *outs, GError **error);
ONNX_EMITTER (onnx_emit_tap_gather);
ONNX_EMITTER (onnx_emit_tap_scatter);

/* The row of a Gradus op, or NULL when it has no ONNX form. */
const OnnxOpRow *onnx_op_row (const char *op);

/* Static type of input i of an op node. */
static inline const GrdType *
onnx_in_type (OnnxBuilder *b, const GrdNode *node, gint i)
{
  return grd_graph_ref_type (b->graph, node->inputs[i]);
}

G_END_DECLS
