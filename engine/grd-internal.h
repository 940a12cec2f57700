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
  gint           grad_of;    /* forward node whose gradient rule made it, or -1 */
  gint           grad_total_of; /* forward node whose whole gradient it is, or -1 */
};

struct _GrdGraph {
  gint        ref_count;
  GPtrArray  *nodes;         /* GrdNode*, in creation order, which is topological */
  GHashTable *by_id;         /* id -> GINT_TO_POINTER (index + 1) */
  gint        next_auto_id;
  gint        building_grad; /* index of the grad node being expanded, or -1 */
  gint        grad_rule;     /* forward node whose gradient rule is running, or -1 */
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

/* grd_function_new with a chosen set of compiler passes (GrdPasses of
 * compile/grd-program.h); 0 runs the reference executor. For tests. */
GrdFunction *grd_function_new_with_passes (GrdGraph *graph, const GrdRef *inputs, gint n_inputs,
                                           const GrdRef *outputs, gint n_outputs,
                                           const GrdUpdate *updates, gint n_updates, guint passes,
                                           GError **error);

/* grd_function_new with a memory budget (0: the default); see grd-budget.c. */
GrdFunction *grd_function_new_with_limit (GrdGraph *graph, const GrdRef *inputs, gint n_inputs,
                                          const GrdRef *outputs, gint n_outputs,
                                          const GrdUpdate *updates, gint n_updates,
                                          guint64 memory_limit, GError **error);

/* What grd_budget_check needs of a function: its reference schedule. */
typedef struct {
  const GrdRef   *inputs;
  gint            n_inputs;
  const gint     *schedule;     /* op nodes in evaluation order */
  gint            n_schedule;
  gint            n_nodes;      /* the graph's nodes when the function was made */
  const gint     *slot_base;    /* per node: slot of its output 0 */
  gint            n_slots;
  const gint     *last_use;     /* per slot: schedule position of its last reader */
  const gboolean *keep;         /* per slot: an output or update value */
} GrdBudgetPlan;

/* Refuses, naming the node and the size, a function whose values do not fit
 * `limit` bytes: with args NULL from the static types (compile time), else
 * from the shapes of args, one per input (call time). */
gboolean grd_budget_check (GrdGraph *graph, const GrdBudgetPlan *plan, GrdTensor *const *args,
                           guint64 limit, GError **error);
/* The budget a kernel checks when its result's size depends on input values:
 * grd_function_call sets it for the call (begin returns what to restore). */
guint64    grd_budget_call_begin (guint64 limit);
void       grd_budget_call_end (guint64 outer);
/* A zero-filled tensor within that budget and the memory there is, or an
 * error "<what>: ... value takes ..., more than the memory limit" */
GrdTensor *grd_budget_new_tensor (const char *what, GrdDType dtype, gint rank, const gint64 *shape,
                                  GError **error);

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
void grd_ops_register_compiler (GrdOpRegisterFunc add);
void grd_ops_register_integer (GrdOpRegisterFunc add);
void grd_ops_register_index (GrdOpRegisterFunc add);
void grd_ops_register_conv (GrdOpRegisterFunc add);
void grd_ops_register_pool (GrdOpRegisterFunc add);

/* conv2d's and pool_2d's attrs (ops/ops-conv.c): equality for the compiler's
 * merge pass, and their JSON form for graph files (io/grd-conv-attrs.c; sets
 * *bad to the malformed key and *expected to what it should be). */
gboolean grd_conv_attrs_equal (const GrdAttrs *a, const GrdAttrs *b);
gboolean grd_conv_attrs_parse (JsonObject *o, GrdAttrs *attrs, const char **bad,
                               const char **expected);

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
/* a * b for dimensions (>= 0), G_MAXINT64 where it would overflow: static
 * shapes may be huge, and a zero dimension lets the others be anything. */
static inline gint64
grd_dim_mul (gint64 a, gint64 b)
{
  gint64 r;
  return __builtin_mul_overflow (a, b, &r) ? G_MAXINT64 : r;
}
/* "[3,?,4]" (unknown dims as '?') */
char    *grd_dims_describe (gint rank, const gint64 *dims);
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

/* ------------------------------------------------------------ io: values and JSON text */

/* Reads a JSON shape (a list of at most GRD_MAX_RANK non-negative integers). */
gboolean grd_json_shape (JsonNode *node, gint *rank, gint64 *shape, GError **error);
/* Refuses, before anything is allocated, a value of more than 2^31 elements. */
gboolean grd_shape_check_size (gint rank, const gint64 *shape, GrdDType dtype, GError **error);
/* The shortest decimal that reads back to the same float32 (single) or
 * float64, always with a '.' or an exponent; "nan", "inf", "-inf" unquoted. */
void     grd_format_float (char buf[G_ASCII_DTOSTR_BUF_SIZE], double value, gboolean single);

/* ------------------------------------------------------------ io: limits (grd-limits.c) */

/* limits->memory_limit, or the default when limits is NULL or says 0. */
guint64  grd_limits_memory (const GrdLimits *limits);
/* "1.5 GiB" */
char    *grd_size_describe (guint64 bytes);
/* Bytes of a value of this shape; FALSE when that overflows 64 bits (a zero
 * dimension gives 0 whatever the others are). */
gboolean grd_shape_bytes (gint rank, const gint64 *shape, GrdDType dtype, guint64 *bytes);
gboolean grd_shape_extent (gint rank, const gint64 *shape, GrdDType dtype, guint64 *bytes);
/* Refuses a value larger than the budget: "<what>: a float64[...] value takes ...". */
gboolean grd_limits_check_value (const GrdLimits *limits, const char *what, GrdDType dtype,
                                 gint rank, const gint64 *shape, GError **error);
/* Refuses JSON text nested deeper than max_depth, without recursion. */
gboolean grd_json_check_depth (const char *data, gsize length, gint max_depth, const char *label,
                               GError **error);
/* The path of data file `name` of a document in base_dir, refused when it
 * resolves (symbolic links followed) outside base_dir and the allowed paths. */
char    *grd_data_path (const char *base_dir, const char *name, const GrdLimits *limits,
                        GError **error);
/* Whether `path` (resolved) is `root` (resolved) or inside it: the rule of
 * grd_data_path for the document's folder. */
gboolean grd_path_within (const char *path, const char *root);
/* Reads a regular file no larger than the memory budget (NUL-terminated). */
gboolean grd_data_read (const char *path, const GrdLimits *limits, char **contents,
                        gsize *length, GError **error);
/* grd_value_from_json / grd_feed_new / grd_npy_load / grd_csv_load under limits. */
GrdTensor *grd_value_from_json_limited (JsonNode *node, GrdDType dtype, const char *base_dir,
                                        const GrdLimits *limits, GError **error);
GrdFeed   *grd_feed_new_limited (JsonNode *json, const GrdType *type, const char *base_dir,
                                 const GrdLimits *limits, GError **error);
GrdTensor *grd_npy_load_limited (const char *path, const GrdLimits *limits, GError **error);
/* The bytes of an .npy file (named `name` in messages), for the fuzzer. */
GrdTensor *grd_npy_from_data (const guint8 *data, gsize len, const char *name,
                              const GrdLimits *limits, GError **error);
/* grd-save.c: writes text over path whole or not at all (through symbolic
 * links, mode and owner kept, folder flushed); removes the temporary files of
 * saves of path that died. (Data paths for a new folder: grd_data_paths_rebase
 * in gradus.h.) */
gboolean grd_save_file (const char *path, const char *text, gsize len, GError **error);
void     grd_save_clean_stale (const char *path);
/* A zero-filled tensor, or an error instead of an abort when memory is short. */
GrdTensor *grd_tensor_try_new (GrdDType dtype, gint rank, const gint64 *shape, GError **error);
/* The same without the zero fill, for a kernel that writes every element
 * (a fresh 16 MB buffer's memset was 9% of x - max(x)). */
GrdTensor *grd_tensor_try_new_uninit (GrdDType dtype, gint rank, const gint64 *shape,
                                      GError **error);
/* Zeroed working space of n_elems × elem_size bytes for a kernel (sized by
 * the data, so it may not fit): NULL and an error instead of an abort. */
gpointer grd_scratch_try_new (gsize n_elems, gsize elem_size, GError **error);
/* Uninitialised, 64-byte aligned working space that a kernel overwrites
 * whole, from a small cache of buffers given back by earlier calls (fresh
 * pages cost page faults each call); release it with grd_scratch_give. */
gpointer grd_scratch_take (gsize n_elems, gsize elem_size, GError **error);
void     grd_scratch_give (gpointer p);
/* grd_tensor_cast (and a copy when dtype is t's), or an error when memory is short. */
GrdTensor *grd_tensor_try_cast (const GrdTensor *t, GrdDType dtype, GError **error);
/* A new reference to t when it has dtype, else a converted copy (or an error). */
GrdTensor *grd_tensor_try_convert (GrdTensor *t, GrdDType dtype, GError **error);

/* ------------------------------------------------------------ csv */

/* A CSV table of numbers, kept as text until columns are asked for: fields
 * separated by commas, "quoted" fields ("" inside is a quote), blank lines
 * ignored, an optional header row naming the columns. */
typedef struct _GrdCsv GrdCsv;

/* `name` names the file in messages. */
GrdCsv    *grd_csv_parse (const char *data, gsize length, const char *name, gboolean header,
                          GError **error);
GrdCsv    *grd_csv_load (const char *path, gboolean header, GError **error);
GrdCsv    *grd_csv_load_limited (const char *path, gboolean header, const GrdLimits *limits,
                                 GError **error);
void       grd_csv_free (GrdCsv *csv);
gint       grd_csv_n_rows (GrdCsv *csv);
gint       grd_csv_n_columns (GrdCsv *csv);
/* Index of the header column of that name, or -1. */
gint       grd_csv_find_column (GrdCsv *csv, const char *name);
/* The columns as a [rows, n_columns] array, or a [rows] array when one_d.
 * Errors name the file, line and column of a field that is not a number. */
GrdTensor *grd_csv_columns (GrdCsv *csv, const gint *columns, gint n_columns, gboolean one_d,
                            GrdDType dtype, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GrdCsv, grd_csv_free)

/* ------------------------------------------------------------ elementwise op codes */

/* One code per elementwise op of the catalogue, in catalogue order, for the
 * fused-loop compiler and the GLSL generator. */
typedef enum {
  GRD_ELEM_ADD, GRD_ELEM_SUB, GRD_ELEM_MUL, GRD_ELEM_DIV, GRD_ELEM_POW, GRD_ELEM_MAXIMUM,
  GRD_ELEM_MINIMUM, GRD_ELEM_NEG, GRD_ELEM_ABS, GRD_ELEM_SIGN, GRD_ELEM_SQUARE, GRD_ELEM_SQRT,
  GRD_ELEM_RECIPROCAL,
  GRD_ELEM_EXP, GRD_ELEM_LOG, GRD_ELEM_LOG1P, GRD_ELEM_EXPM1, GRD_ELEM_SIN, GRD_ELEM_COS,
  GRD_ELEM_TANH, GRD_ELEM_SIGMOID, GRD_ELEM_SOFTPLUS, GRD_ELEM_RELU, GRD_ELEM_ERF,
  GRD_ELEM_EQ, GRD_ELEM_NEQ, GRD_ELEM_LT, GRD_ELEM_LE, GRD_ELEM_GT, GRD_ELEM_GE, GRD_ELEM_AND,
  GRD_ELEM_OR, GRD_ELEM_NOT, GRD_ELEM_SWITCH, GRD_ELEM_CLIP,
  GRD_ELEM_FLOOR, GRD_ELEM_CEIL, GRD_ELEM_ROUND,
  GRD_ELEM_CAST,
  GRD_ELEM_N_CODES
} GrdElemCode;

/* The code of an elementwise op; -1 for every other op. */
gint   grd_elementwise_code (const GrdOpDef *op);
/* One element of op `code` computed in float64 (float32) arithmetic, exactly
 * as the reference kernels compute float inputs; a, b, c are the inputs in
 * order, unused ones are ignored. Comparisons and logic give 1 or 0, switch is
 * a != 0 ? b : c, cast gives a (the caller converts). Integer and bool dtypes
 * have rules of their own (wrap-around, integer pow, truncating casts). */
double grd_elementwise_apply_f64 (gint code, double a, double b, double c);
float  grd_elementwise_apply_f32 (gint code, float a, float b, float c);

/* ------------------------------------------------------------ nodes with data of their own */

/* What attrs.extra points to: private data of scan, random and ifelse nodes
 * (their body graphs, their stream). Nodes hold a reference; compiled
 * programs copy the pointer and rely on the graph they hold. */
typedef struct _GrdOpExtra GrdOpExtra;
struct _GrdOpExtra {
  gint     ref_count;
  gint     n_outputs;   /* > 0: the node's output count where it varies (scan) */
  gboolean impure;      /* draws random numbers: never folded, merged or hoisted */
  GrdGraph *sub[2];     /* graphs of its own (scan body, ifelse branches), borrowed */
  void   (*finalize) (GrdOpExtra *extra);
};

GrdOpExtra *grd_op_extra_ref (GrdOpExtra *extra);
void        grd_op_extra_unref (GrdOpExtra *extra);

/* A node whose outputs alias other values, as a grad node's do (jacobian,
 * hessian, rop, lop). */
GrdRef grd_graph_alias_node (GrdGraph *graph, const char *id, const GrdRef *targets, gint n,
                             GError **error);

/* Copies the nodes of `src` that `roots` need into `dst`. map[i] (one per src
 * node) gives the copy of node i; entries of variables must be set by the
 * caller (others GRD_REF_NONE). Constants are shared, ops rebuilt. */
gboolean grd_graph_copy_needed (GrdGraph *dst, GrdGraph *src, const GrdRef *roots, gint n_roots,
                                GrdRef *map, GError **error);

/* ifelse with lazy branches (ops-control.c): grd_graph_op builds "ifelse" here. */
GrdRef grd_graph_ifelse (GrdGraph *graph, const char *id, const GrdRef *inputs, gint n_inputs,
                         GError **error);

/* Read-only views of a core scan's and an ifelse's private data, for the
 * Vulkan back end (which runs them its own way) and the interchange export
 * (the loop written as ONNX Loop / If and Python). FALSE when the node is
 * not of that op. */
typedef struct {
  GrdGraph       *body;
  const GrdRef   *body_inputs;   /* sequence rows, state taps (output order), non-seqs */
  gint            n_body_inputs;
  const GrdRef   *body_outputs;
  gint            n_out;
  gint            n_seq;
  const gint     *out_ntaps;     /* per output, 0 when not fed back */
  const gint     *out_taps;      /* per output GRD_SCAN_MAX_TAPS entries */
  gint            n_state;
  gint            n_nonseq;
  gboolean        has_n_steps_input;
  gint64          n_steps;       /* fixed, or -1 */
  gboolean        reverse;
  const gboolean *last_only;     /* NULL or per output */
  gboolean        has_random;
} GrdScanView;
gboolean grd_scan_view (const GrdNode *node, GrdScanView *view);
/* How many steps back output o of a core scan reads (its deepest tap). */
gint grd_scan_max_lag (const gint *out_ntaps, const gint *out_taps, gint o);
typedef struct {
  GrdGraph     *branch[2];       /* then, else */
  const GrdRef *args[2];         /* per branch: the variable of each node input after the condition */
  gint          n_args;
  const GrdRef *outs[2];
  gint          n_out;
} GrdIfElseView;
gboolean grd_ifelse_view (const GrdNode *node, GrdIfElseView *view);

void grd_ops_register_scan (GrdOpRegisterFunc add);
void grd_ops_register_random (GrdOpRegisterFunc add);
void grd_ops_register_control (GrdOpRegisterFunc add);

/* Philox 4x32-10 (Salmon et al. 2011): four 32-bit words of counter-based
 * random bits for a 64-bit key and a 128-bit counter. */
void grd_philox4x32 (const guint32 counter[4], const guint32 key[2], guint32 out[4]);
/* The logarithm (x in (0, 1]) and cos (2 pi u) (u in [0, 1)) of the normal
 * draws, the same bits on the CPU and in the Vulkan kernel, which prints the
 * coefficients of grd_random_coefs. */
#define GRD_RANDOM_LOG_TERMS 13
#define GRD_RANDOM_TRIG_TERMS 11
void   grd_random_coefs (double *log_c, double *cos_c, double *sin_c);
double grd_random_log (double x);
double grd_random_cos2pi (double u);
/* What a back end needs to draw for a `_random` node: its distribution and
 * Philox key, and the number of this draw (taken: the node's count advances). */
void   grd_random_next_draw (const GrdNode *node, GrdDistribution *dist, GrdDType *dtype,
                             guint32 key[2], guint64 *draw);

/* Graph files: the node kinds of part two (io/grd-document-kinds.c). */
gboolean grd_document_kind_is_extra (const char *kind);
/* Appends the reference strings a node of such a kind makes (a scan's body's
 * references to outside included), and a description of each to `what`. */
gboolean grd_document_kind_refs (JsonObject *obj, const char *kind, GPtrArray *refs,
                                 GPtrArray *what);
gboolean grd_document_build_kind (GrdGraph *graph, JsonObject *obj, const char *id,
                                  const char *kind, const char *base_dir,
                                  const GrdLimits *limits, GError **error);
/* An op node's "attrs" object (io/grd-document.c). */
gboolean grd_document_parse_attrs (JsonObject *o, GrdAttrs *attrs, const char **bad,
                                   const char **expected);

/* Several functions (io/grd-document-functions.c). */
GrdFunction *grd_document_compile_object (GrdDocument *doc, JsonObject *f, GError **error);
/* Feeds for the inputs of function object `f` from `feeds` (input id -> feed). */
GPtrArray *grd_document_feeds_object (GrdDocument *doc, JsonObject *f, JsonObject *feeds,
                                      GHashTable *overrides, GError **error);

/* Groups (io/grd-document-groups.c): whether the file's node list holds group
 * nodes, and their expansion in place into the nodes of their definitions,
 * references to them included. */
gboolean grd_document_has_groups (JsonNode *root);
gboolean grd_document_expand_groups (JsonNode *root, const char *label, GError **error);

G_END_DECLS
