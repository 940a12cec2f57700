/* grd-vk-function-private.h: what the files of a Vulkan function share: its
 * steps, values, the recorder and the kernels' parameter helpers.
 * grd-vk-function.c makes the steps, grd-vk-call.c runs a call, and one file
 * per kind of step records its dispatches. */
#pragma once

#include "grd-vk-private.h"

G_BEGIN_DECLS

/* The most steps a scan records into one Vulkan call. The body's temporaries
 * are reused from step to step, so device memory does not grow with the
 * steps; the command buffer does (each step's copies, barriers and
 * dispatches stay recorded until the submission ends: about 2.4 KB per step
 * of a three-kernel body on lavapipe, more per kernel). */
#define GRD_VK_SCAN_MAX_STEPS 10000

typedef enum {
  GRD_VK_STEP_FUSED,       /* elementwise nodes as one kernel */
  GRD_VK_STEP_ALIAS,       /* same buffer, new shape */
  GRD_VK_STEP_VIEW,        /* transpose, dimshuffle, slice: a strided copy */
  GRD_VK_STEP_CONCAT,      /* concatenate, stack */
  GRD_VK_STEP_CONCAT_PART, /* _concat_part */
  GRD_VK_STEP_SLICE_GRAD,  /* _slice_grad: zeros, then the slice written */
  GRD_VK_STEP_REDUCE,      /* sum ... argmin, _reduce_to */
  GRD_VK_STEP_UNREDUCE,    /* _unreduce */
  GRD_VK_STEP_COUNT,       /* _reduce_count: a number known from shapes */
  GRD_VK_STEP_DOT,         /* dot, _dot_nt, _dot_tn */
  GRD_VK_STEP_OUTER,
  GRD_VK_STEP_ROW,         /* softmax, log_softmax, logsumexp, categorical_crossentropy */
  GRD_VK_STEP_TAKE,
  GRD_VK_STEP_TAKE_GRAD,
  GRD_VK_STEP_ONE_HOT,     /* one_hot, _onehot_like */
  GRD_VK_STEP_PROD_OTHERS, /* _prod_others (the gradient of prod) */
  GRD_VK_STEP_EXT,         /* a kernel of another file (grd_vk_ext_record) */
  GRD_VK_STEP_HOST,        /* shape, arange and scalar arithmetic on known values: computed
                            * on the host at each call and uploaded */
  GRD_VK_STEP_INDEX,       /* index */
  GRD_VK_STEP_SUBTENSOR,   /* set_subtensor, inc_subtensor */
  GRD_VK_STEP_SCAN,        /* _scan: the body a function of its own, recorded per step */
  GRD_VK_STEP_IFELSE,      /* ifelse: only the taken branch's function is recorded */
  GRD_VK_STEP_TAP_GATHER,  /* _tap_gather: row copies */
  GRD_VK_STEP_TAP_SCATTER, /* _tap_scatter: zeros, then row copies */
  GRD_VK_STEP_CONV_FUSED,  /* a conv whose only reader's elementwise group is applied to its
                            * tiles before the store (grd-vk-epilogue.c) */
} GrdVkStepKind;

typedef struct {
  GrdVkStepKind kind;
  gint    node;       /* the node whose output the step makes */
  GArray *members;    /* GRD_VK_STEP_FUSED: node indices, schedule order, root last */
  GArray *leaves;     /* GRD_VK_STEP_FUSED: GrdRef read from outside the group */
  char   *body;       /* GRD_VK_STEP_FUSED: GLSL statements leaving the result in `res` */
  gint    producer;   /* GRD_VK_STEP_CONV_FUSED: the conv node, one of the group's leaves */
  /* GRD_VK_STEP_SCAN: the body (sub[0]); GRD_VK_STEP_IFELSE: then, else */
  GrdVkFunction *sub[2];
  gint64  n_steps;    /* this call: GRD_VK_STEP_SCAN's step count, GRD_VK_STEP_TAP_*'s rows */
  gint    taken;      /* this call: GRD_VK_STEP_IFELSE's branch */
} GrdVkStep;

typedef struct {
  GrdVkBuffer *buf;
  GrdDType     dtype;
  gint         rank;
  gint64       shape[GRD_MAX_RANK];
  gint64       size;
  gboolean     borrowed;  /* another value's buffer, dropped after the call */
} GrdVkValue;

struct _GrdVkFunction {
  GrdVkContext *ctx;
  GrdGraph     *graph;
  GArray       *inputs;    /* GrdRef */
  GArray       *outputs;   /* GrdRef, resolved */
  GArray       *updates;   /* GrdUpdate, resolved */
  GArray       *steps;     /* GrdVkStep */
  GArray       *schedule;  /* gint: every needed op node */
  gint          n_nodes;   /* the graph's nodes when compiled: later ones are not ours */
  gint         *slot_base;
  gint          n_slots;
  GrdVkValue   *values;    /* per slot */
  GrdTensor   **seen;      /* per node: the value tensor last uploaded (a ref) */
  gboolean     *dirty;     /* per node: the device copy is newer than node->value */
  gboolean     *needed;    /* per node */
  gboolean     *host;      /* per node: its value is known on the host at each call */
  GrdTensor   **host_val;  /* per node: that value in this call (GRD_VK_STEP_HOST, inputs) */
  gboolean      int64, float64;
  /* The dispatches of the last call, replayed while the leaves keep their
   * shapes (then every shape, kernel and parameter is the same): a call then
   * costs no GLSL text, hashing or cache look-ups. */
  GArray       *replay;       /* GrdVkReplay */
  GArray       *replay_temps; /* VkDeviceSize: sizes of the temporary buffers */
  GByteArray   *replay_key;   /* the leaves' shapes it was recorded for */
  /* When `graph` is a rewritten copy (grd-program-graph.c): the user's graph
   * and, per node of `graph`, the shared variable there it stands for or -1.
   * Shared values are read from and written back to those. */
  GrdGraph     *origin;
  gint         *origin_of;
  /* A scan body or ifelse branch: its inputs are rows or values the outer
   * function copies in on the device, never known on the host. */
  gboolean      nested;
  /* Scalars a call must know before recording (ifelse's condition, a scan's
   * n_steps) that only the device computes: `pre` computes them first, in a
   * submission of their own, and they are read back. */
  GArray       *pre_refs;  /* GrdRef */
  GrdVkFunction *pre;
  /* Statistic (tests): device bytes the last call allocated, value buffers
   * made or grown and temporaries, its nested functions' included (the
   * context's count before and after the call: allocations of other threads
   * meanwhile count too). */
  gint64        call_bytes;
};

/* One recorded dispatch: bindings as slots (>= 0) or temporaries (-1 - i). */
typedef struct {
  GrdVkKernel *kernel;
  gint         n, n_out;
  gint         src[GRD_VK_MAX_BINDINGS];
  guint32      push[GRD_VK_PUSH_WORDS];
  guint32      gx, gy;
} GrdVkReplay;

/* Temporaries handed out again at each step of a scan (grd_vk_rec_temp):
 * the barriers between steps order their uses. */
typedef struct {
  GPtrArray *bufs;  /* GrdVkBuffer*, owned by the submission's temps */
  guint      next;
} GrdVkTempPool;

typedef struct {
  GrdVkFunction  *fn;
  VkCommandBuffer cmd;
  GPtrArray      *written;  /* VkBuffer written since the last barrier */
  GPtrArray      *temps;    /* GrdVkBuffer* for this submission only */
  GArray         *record;   /* GrdVkReplay, when recording; NULL otherwise */
  gboolean        record_ok;
  GrdRef          prefer[GRD_VK_MAX_BINDINGS * 2]; /* slots to match buffers against first */
  gint            n_prefer;
  GHashTable     *kept;     /* key -> GrdVkBuffer* among temps that later steps read
                             * (grd-vk-conv.c: max pooling's argmax) */
  GrdVkTempPool  *pool;     /* inside a scan's body: temporaries reused per step; else NULL */
} GrdVkRec;

/* Kernel parameters: the first GRD_VK_PUSH_WORDS go in push constants, the
 * rest are written into the source as literals (a kernel per shape then). */
typedef struct {
  guint32 v[256];
  gint    n;
  char    ring[8][24];  /* pexpr's answers, so that several fit in one printf */
  gint    next;
} GrdVkParams;

/* An elementwise program: leaves read through (offset, strides) over the
 * iteration shape, the result written through the output's. */
typedef struct {
  gint         rank;
  gint64       shape[GRD_MAX_RANK];
  gint         n;
  GrdVkBuffer *buf[GRD_VK_MAX_BINDINGS];
  GrdDType     dt[GRD_VK_MAX_BINDINGS];
  gint64       off[GRD_VK_MAX_BINDINGS];
  gint64       st[GRD_VK_MAX_BINDINGS][GRD_MAX_RANK];
  GrdVkBuffer *obuf;
  GrdDType     odt;
  gint64       ooff;
  gint64       ost[GRD_MAX_RANK];
  const char  *body;  /* statements leaving `res` (of odt's type) from l0.. */
} GrdVkEw;

/* grd-vk-value.c */
gsize         grd_vk_device_size (GrdDType dtype);
GrdVkValue   *grd_vk_slot (GrdVkFunction *fn, GrdRef r);
GrdNode      *grd_vk_node_at (GrdVkFunction *fn, gint i);
GrdNode      *grd_vk_leaf_node (GrdVkFunction *fn, gint i);
void          grd_vk_contiguous (gint rank, const gint64 *shape, gint64 *strides);
void          grd_vk_value_set_shape (GrdVkValue *v, GrdDType dtype, gint rank, const gint64 *shape);
void          grd_vk_value_drop (GrdVkValue *v);
gboolean      grd_vk_value_own (GrdVkFunction *fn, GrdVkValue *v, GError **error);

/* grd-vk-record.c */
void          grd_vk_barrier (VkCommandBuffer cmd, VkPipelineStageFlags src, VkAccessFlags src_access,
                              VkPipelineStageFlags dst, VkAccessFlags dst_access);
void          grd_vk_dispatch_n (GrdVkRec *r, GrdVkKernel *k, GrdVkBuffer *const *bufs, gint n,
                                 gint n_out, const guint32 *push, gint n_push, guint32 gx, guint32 gy);
void          grd_vk_dispatch (GrdVkRec *r, GrdVkKernel *k, GrdVkBuffer *const *bufs, gint n,
                               const guint32 *push, gint n_push, guint32 gx, guint32 gy);
guint32       grd_vk_groups_for (gint64 n);
gint          grd_vk_param (GrdVkParams *p, gint64 value);
const char   *grd_vk_pexpr (GrdVkParams *p, gint k);
GrdVkKernel  *grd_vk_rec_kernel (GrdVkRec *r, GString *body, gint n_buffers, GError **error);
void          grd_vk_emit_coords (GString *s, GrdVkParams *p, const char *prefix, const char *flat,
                                  gint rank, const gint *shape_param);
char         *grd_vk_offset_expr (GrdVkParams *p, const char *prefix, gint rank, gint off_param,
                                  const gint *stride_param);
gboolean      grd_vk_step_ext (GrdVkRec *r, GrdVkStep *st, GError **error);
/* The kernel-file call of op node `node` writing `out` (its inputs from their slots). */
void          grd_vk_ext_call_init (GrdVkRec *r, const GrdNode *node, GrdVkBuffer *out_buf,
                                    const GrdVkValue *out, GrdVkExtCall *call);
/* A temporary buffer of at least `size` bytes for this submission (from
 * r->pool inside a scan's body). */
GrdVkBuffer  *grd_vk_rec_temp (GrdVkRec *r, VkDeviceSize size, GError **error);

/* grd-vk-elementwise.c */
void          grd_vk_ew_out_contiguous (GrdVkEw *e, GrdVkValue *out);
void          grd_vk_ew_leaf_broadcast (GrdVkEw *e, gint k, GrdVkValue *v);
gboolean      grd_vk_ew_run (GrdVkRec *r, GrdVkEw *e, GError **error);
char         *grd_vk_copy_body (GrdDType from, GrdDType to);
gboolean      grd_vk_fill_zero (GrdVkRec *r, GrdVkValue *out, GError **error);
gboolean      grd_vk_step_fused (GrdVkRec *r, GrdVkStep *st, GError **error);
gboolean      grd_vk_step_outer (GrdVkRec *r, GrdVkStep *st, GError **error);

/* grd-vk-layout.c */
gboolean      grd_vk_step_view (GrdVkRec *r, GrdVkStep *st, GError **error);
gboolean      grd_vk_step_concat (GrdVkRec *r, GrdVkStep *st, GError **error);
gboolean      grd_vk_step_concat_part (GrdVkRec *r, GrdVkStep *st, GError **error);
gboolean      grd_vk_step_slice_grad (GrdVkRec *r, GrdVkStep *st, GError **error);

/* grd-vk-reduce.c */
gboolean      grd_vk_step_reduce (GrdVkRec *r, GrdVkStep *st, GError **error);
gboolean      grd_vk_step_count (GrdVkRec *r, GrdVkStep *st, GrdTensor **host, GError **error);
gboolean      grd_vk_step_unreduce (GrdVkRec *r, GrdVkStep *st, GError **error);
gboolean      grd_vk_step_prod_others (GrdVkRec *r, GrdVkStep *st, GError **error);

/* grd-vk-dot.c */
gboolean      grd_vk_step_dot (GrdVkRec *r, GrdVkStep *st, GError **error);

/* grd-vk-row.c */
gboolean      grd_vk_step_row (GrdVkRec *r, GrdVkStep *st, GError **error);

/* grd-vk-layout.c: the view a transpose, dimshuffle or slice node reads */
void          grd_vk_view_of (const GrdNode *node, const GrdVkValue *in, const GrdVkValue *out,
                              gint64 *off, gint64 *st);

/* grd-vk-index.c */
gboolean      grd_vk_step_index (GrdVkRec *r, GrdVkStep *st, GError **error);
gboolean      grd_vk_step_subtensor (GrdVkRec *r, GrdVkStep *st, GError **error);

/* grd-vk-host.c: fn->host_val[i] of a GRD_VK_STEP_HOST node, from its inputs'
 * host values and runtime shapes */
gboolean      grd_vk_host_value (GrdVkFunction *fn, gint i, GError **error);

/* grd-vk-call.c: the steps of r->fn recorded in order */
gboolean      grd_vk_record_steps (GrdVkRec *r, GArray *steps, GError **error);

/* grd-vk-scan.c */
void          grd_vk_full_barrier (GrdVkRec *r);
gboolean      grd_vk_step_scan (GrdVkRec *r, GrdVkStep *st, GError **error);
gboolean      grd_vk_step_ifelse (GrdVkRec *r, GrdVkStep *st, GError **error);
gboolean      grd_vk_step_tap (GrdVkRec *r, GrdVkStep *st, gboolean scatter, GError **error);
/* The input of op node `node` that must be known on the host (a step count
 * or a condition), or -1 */
gint          grd_vk_scalar_input (const GrdNode *node);
/* That value in this call: a constant's, or fn->host_val's */
gboolean      grd_vk_known_scalar (GrdVkFunction *fn, const GrdNode *node, gint j, gint64 *value,
                                   GError **error);
GrdVkFunction *grd_vk_function_new_nested (GrdGraph *graph, const GrdRef *inputs, gint n_inputs,
                                           const GrdRef *outputs, gint n_outputs, GError **error);

/* grd-vk-epilogue.c: conv2d or _conv2d_grad_input with the elementwise group
 * that reads it applied before the store */
gboolean      grd_vk_epilogue_op (const char *op);
gboolean      grd_vk_step_conv_fused (GrdVkRec *r, GrdVkStep *st, GError **error);

/* grd-vk-gather.c */
gboolean      grd_vk_step_take (GrdVkRec *r, GrdVkStep *st, gboolean grad, GError **error);
gboolean      grd_vk_step_one_hot (GrdVkRec *r, GrdVkStep *st, GError **error);

G_END_DECLS
