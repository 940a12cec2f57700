/* gradus.h: the public C API of the Gradus engine.
 *
 * The Theano workflow in C:
 *   1. make symbolic variables, constants and shared variables in a GrdGraph;
 *   2. build expressions with grd_graph_op() (the catalogue of docs/ops.md) and
 *      gradients with grd_graph_grad(), which adds the gradient subgraph;
 *   3. compile a GrdFunction from inputs to outputs, with updates of shared variables;
 *   4. call it with GrdTensor values.
 * Graph files (docs/format.md) are read and written by the GrdDocument functions.
 *
 * Every fallible call takes a GError ** last and names the node in the message.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define GRD_MAX_RANK 8

/* ---------------------------------------------------------------- errors */

#define GRD_ERROR (grd_error_quark ())
GQuark grd_error_quark (void);

typedef enum {
  GRD_ERROR_TYPE,        /* dtype mismatch or an op that does not take this dtype */
  GRD_ERROR_SHAPE,       /* shapes that do not broadcast, bad axis, ... */
  GRD_ERROR_GRAPH,       /* dangling reference, cycle, unknown op, bad function */
  GRD_ERROR_PARSE,       /* malformed graph file or value */
  GRD_ERROR_IO,          /* file could not be read or written */
  GRD_ERROR_VALUE,       /* a fed value that does not fit its variable */
  GRD_ERROR_UNSUPPORTED, /* a back end that cannot run this graph */
  GRD_ERROR_DEVICE,      /* a device that failed mid-run (Vulkan device lost) */
} GrdErrorCode;

/* ---------------------------------------------------------------- dtypes */

typedef enum {
  GRD_DTYPE_BOOL,
  GRD_DTYPE_INT32,
  GRD_DTYPE_INT64,
  GRD_DTYPE_FLOAT32,
  GRD_DTYPE_FLOAT64,
  GRD_N_DTYPES,
} GrdDType;

const char *grd_dtype_name (GrdDType dtype);
/* Returns FALSE for an unknown name. */
gboolean    grd_dtype_from_name (const char *name, GrdDType *out);
gsize       grd_dtype_size (GrdDType dtype);
gboolean    grd_dtype_is_float (GrdDType dtype);
/* numpy.result_type of two array dtypes. */
GrdDType    grd_dtype_promote (GrdDType a, GrdDType b);

/* ---------------------------------------------------------------- tensors */

/* A dense, contiguous, row-major array. Reference counted; the fields are
 * read-only for users except the bytes behind `data` of a tensor they own. */
typedef struct {
  gint     ref_count;
  GrdDType dtype;
  gint     rank;
  gint64   shape[GRD_MAX_RANK];
  gint64   size;       /* product of shape; 1 for rank 0 */
  gpointer data;       /* 64-byte aligned, size * dtype_size bytes */
} GrdTensor;

/* Zero-filled. */
GrdTensor *grd_tensor_new (GrdDType dtype, gint rank, const gint64 *shape);
GrdTensor *grd_tensor_new_scalar (GrdDType dtype, double value);
/* Copies n = product(shape) doubles, converting to dtype. */
GrdTensor *grd_tensor_new_from_doubles (GrdDType dtype, gint rank, const gint64 *shape,
                                        const double *values);
GrdTensor *grd_tensor_ref (GrdTensor *t);
void       grd_tensor_unref (GrdTensor *t);
GrdTensor *grd_tensor_copy (const GrdTensor *t);
/* NumPy astype semantics (float to int truncates, anything to bool is != 0). */
GrdTensor *grd_tensor_cast (const GrdTensor *t, GrdDType dtype);
double     grd_tensor_get (const GrdTensor *t, gint64 flat_index);
void       grd_tensor_set (GrdTensor *t, gint64 flat_index, double value);
gboolean   grd_tensor_same_shape (const GrdTensor *a, const GrdTensor *b);
/* "float32[3,4]" */
char      *grd_tensor_describe (const GrdTensor *t);
/* How many tensors are alive in the process: a debugging statistic (one
 * atomic counter) that tests use to show that long runs do not leak. */
gint64     grd_tensor_live_count (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GrdTensor, grd_tensor_unref)

/* ---------------------------------------------------------------- types */

#define GRD_DIM_UNKNOWN (-1)

/* The static type of a node output: dtype, rank and the dimensions known when
 * the graph is built (GRD_DIM_UNKNOWN where only the call decides). */
typedef struct {
  GrdDType dtype;
  gint     rank;
  gint64   dims[GRD_MAX_RANK];
} GrdType;

/* "float64[?,3]" */
char    *grd_type_describe (const GrdType *type);
gboolean grd_type_accepts (const GrdType *type, const GrdTensor *value);

/* ---------------------------------------------------------------- graphs */

typedef struct _GrdGraph GrdGraph;

/* A reference to output `output` of node `node` (an index into the graph). */
typedef struct {
  gint node;
  gint output;
} GrdRef;

#define GRD_REF_NONE ((GrdRef) { -1, 0 })
#define grd_ref_is_none(r) ((r).node < 0)
#define grd_ref_equal(a, b) ((a).node == (b).node && (a).output == (b).output)

typedef enum {
  GRD_NODE_VARIABLE,
  GRD_NODE_CONSTANT,
  GRD_NODE_SHARED,
  GRD_NODE_OP,
  GRD_NODE_GRAD,
} GrdNodeKind;

/* Slice bounds that are absent (Python's None). */
#define GRD_SLICE_NONE G_MININT64

/* Attributes of ops; only those the op reads matter. grd_attrs_init() sets defaults. */
typedef struct {
  gboolean has_axis;                /* FALSE: all axes (reductions) or the op's default */
  gint     n_axes;
  gint     axes[GRD_MAX_RANK];      /* may be negative, as in NumPy */
  gboolean keepdims;
  gint     n_perm;                  /* transpose; 0: reverse the axes */
  gint     perm[GRD_MAX_RANK];
  gint     n_shape;                 /* reshape; one entry may be -1 */
  gint64   shape[GRD_MAX_RANK];
  gint     n_pattern;               /* dimshuffle; -1 stands for "x" */
  gint     pattern[GRD_MAX_RANK];
  gint     ndim;                    /* flatten; default 1 */
  gint     n_slice;                 /* slice: begin/end/step per leading axis */
  gint64   begin[GRD_MAX_RANK];     /* GRD_SLICE_NONE for absent */
  gint64   end[GRD_MAX_RANK];
  gint64   step[GRD_MAX_RANK];      /* GRD_SLICE_NONE means 1 */
  gboolean has_dtype;               /* cast (required), one_hot (default float32) */
  GrdDType dtype;
  gint64   depth;                   /* one_hot */
  gpointer extra;                   /* scan, random, ifelse: the node's private data (its
                                     * nodes hold a reference; see grd-internal.h) */
  /* conv2d (Theano's conv2d; docs/ops.md) */
  gint     border_mode;             /* GrdBorderMode */
  gint64   border[2];               /* GRD_BORDER_EXPLICIT: [ph, pw] */
  gint64   subsample[2];            /* default [1, 1] */
  gint64   filter_dilation[2];      /* default [1, 1] */
  gint64   num_groups;              /* default 1 */
  gboolean filter_flip;             /* default TRUE: convolution; FALSE: cross-correlation */
  /* pool_2d */
  gint64   ws[2];                   /* required */
  gint64   pool_stride[2];          /* [0, 0]: ws */
  gint64   pool_pad[2];
  gboolean ignore_border;           /* default TRUE */
  gint     pool_mode;               /* GrdPoolMode */
} GrdAttrs;

typedef enum {
  GRD_BORDER_VALID,
  GRD_BORDER_FULL,
  GRD_BORDER_HALF,
  GRD_BORDER_EXPLICIT,
} GrdBorderMode;

typedef enum {
  GRD_POOL_MAX,
  GRD_POOL_SUM,
  GRD_POOL_AVERAGE_INC_PAD,
  GRD_POOL_AVERAGE_EXC_PAD,
} GrdPoolMode;

void grd_attrs_init (GrdAttrs *attrs);
/* Convenience: attrs with a single axis. */
GrdAttrs grd_attrs_axis (gint axis, gboolean keepdims);

GrdGraph   *grd_graph_new (void);
GrdGraph   *grd_graph_ref (GrdGraph *graph);
void        grd_graph_unref (GrdGraph *graph);

/* `id` may be NULL: a unique id is made up. Ids must be unique and match
 * [A-Za-z_][A-Za-z0-9_.-]*. Each returns GRD_REF_NONE and sets error on failure;
 * an input that is GRD_REF_NONE, or an error already set, makes the call fail
 * too (keeping the first error), so calls can be nested. */
GrdRef grd_graph_variable (GrdGraph *graph, const char *id, GrdDType dtype, gint rank,
                           const gint64 *dims, GError **error);
GrdRef grd_graph_constant (GrdGraph *graph, const char *id, GrdTensor *value, GError **error);
GrdRef grd_graph_shared (GrdGraph *graph, const char *id, GrdTensor *value, GError **error);
GrdRef grd_graph_op (GrdGraph *graph, const char *id, const char *op, const GrdRef *inputs,
                     gint n_inputs, const GrdAttrs *attrs, GError **error);
/* theano.grad: adds a grad node and the gradient subgraph behind it. Fills
 * grads_out[i] (may be NULL) with d cost / d wrt[i], of wrt[i]'s type. */
GrdRef grd_graph_grad (GrdGraph *graph, const char *id, GrdRef cost, const GrdRef *wrt, gint n_wrt,
                       const GrdRef *consider_constant, gint n_consider_constant,
                       GrdRef *grads_out, GError **error);

/* Shorthands for building expressions (id made up, no attrs). */
GrdRef grd_op1 (GrdGraph *graph, const char *op, GrdRef a, GError **error);
GrdRef grd_op2 (GrdGraph *graph, const char *op, GrdRef a, GrdRef b, GError **error);
GrdRef grd_op3 (GrdGraph *graph, const char *op, GrdRef a, GrdRef b, GrdRef c, GError **error);
GrdRef grd_scalar (GrdGraph *graph, GrdDType dtype, double value, GError **error);

gint         grd_graph_n_nodes (GrdGraph *graph);
/* Index of the node with this id, or -1. */
gint         grd_graph_find (GrdGraph *graph, const char *id);
/* Parses "id" or "id:k"; the result points through grad nodes to the node that
 * computes the value. */
gboolean     grd_graph_lookup (GrdGraph *graph, const char *reference, GrdRef *out, GError **error);
const char  *grd_graph_node_id (GrdGraph *graph, gint node);
GrdNodeKind  grd_graph_node_kind (GrdGraph *graph, gint node);
/* The op name of an op node, NULL otherwise. */
const char  *grd_graph_node_op (GrdGraph *graph, gint node);
gint         grd_graph_node_n_inputs (GrdGraph *graph, gint node);
GrdRef       grd_graph_node_input (GrdGraph *graph, gint node, gint i);
gint         grd_graph_node_n_outputs (GrdGraph *graph, gint node);
const GrdType *grd_graph_node_type (GrdGraph *graph, gint node, gint output);
/* For nodes added by grd_graph_grad: the index of the grad node; -1 otherwise. */
gint         grd_graph_node_owner (GrdGraph *graph, gint node);
/* For nodes a grad node derived, so that views can name them: the forward
 * node whose gradient rule made this node, and the forward node whose whole
 * gradient (d cost / d that node) this node holds; -1 when none. */
gint         grd_graph_node_grad_of (GrdGraph *graph, gint node);
gint         grd_graph_node_grad_total_of (GrdGraph *graph, gint node);
/* For grad nodes: where output `output` points. */
GrdRef       grd_graph_grad_output (GrdGraph *graph, gint node, gint output);
const GrdType *grd_graph_ref_type (GrdGraph *graph, GrdRef ref);

/* The current value of a constant or shared node (borrowed). */
GrdTensor  *grd_graph_get_value (GrdGraph *graph, GrdRef node);
/* theano's set_value: dtype and shape must stay those of the shared variable. */
gboolean    grd_graph_set_value (GrdGraph *graph, GrdRef node, GrdTensor *value, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GrdGraph, grd_graph_unref)

/* ---------------------------------------------------------------- ops */

/* Names of the ops in the catalogue, NULL-terminated, in catalogue order. */
const char *const *grd_op_names (void);
/* "arithmetic", "transcendental", "comparison", "rounding", "conversion",
 * "reductions", "linear algebra", "shape", "indexing", "neural"; NULL if unknown. */
const char *grd_op_group (const char *op);
gboolean    grd_op_exists (const char *op);

/* ---------------------------------------------------------------- functions */

typedef struct _GrdFunction GrdFunction;

typedef struct {
  GrdRef shared;
  GrdRef value;
} GrdUpdate;

typedef enum {
  GRD_BACKEND_CPU,
  GRD_BACKEND_VULKAN,
} GrdBackend;

const char *grd_backend_name (GrdBackend backend);
gboolean    grd_backend_from_name (const char *name, GrdBackend *out);

GrdFunction *grd_function_new (GrdGraph *graph, const GrdRef *inputs, gint n_inputs,
                               const GrdRef *outputs, gint n_outputs,
                               const GrdUpdate *updates, gint n_updates, GError **error);
/* The same on a chosen back end. Where the back end is not available (no
 * Vulkan device) the function runs on the CPU and, if `warning` is not NULL,
 * *warning says why (free it). */
GrdFunction *grd_function_new_on (GrdGraph *graph, const GrdRef *inputs, gint n_inputs,
                                  const GrdRef *outputs, gint n_outputs,
                                  const GrdUpdate *updates, gint n_updates, GrdBackend backend,
                                  char **warning, GError **error);
GrdBackend   grd_function_backend (GrdFunction *fn);
/* Why a function created for Vulkan runs on the CPU: no device when it was
 * made, or a device lost during a call (the call is then redone on the CPU
 * from the shared values of the last sync). NULL while it runs where asked. */
const char  *grd_function_fallback_reason (GrdFunction *fn);
/* Back ends that keep shared variables on a device write them back into the
 * graph here; grd_graph_get_value() shows the values as of the last sync. The
 * CPU back end is always in sync. */
gboolean     grd_function_sync (GrdFunction *fn, GError **error);
void         grd_function_free (GrdFunction *fn);
gint         grd_function_n_inputs (GrdFunction *fn);
gint         grd_function_n_outputs (GrdFunction *fn);
/* Calls the function: inputs[i] feeds input i (cast to its dtype when that is
 * safe), outputs[i] receives a new reference. All outputs and updates see the
 * shared values from before the call; the updates then take effect together.
 * On error no shared variable changes. */
gboolean     grd_function_call (GrdFunction *fn, GrdTensor *const *inputs, GrdTensor **outputs,
                                GError **error);

/* Calls a function whose inputs and outputs are all scalars with plain
 * doubles: in[i] feeds input i (rounded to its dtype: float32, or an integer
 * dtype when the value is a whole number in its range), out[o] receives
 * output o. A program of float scalars on the CPU (grd_function_describe
 * ends "runs as straight-line scalar code") runs without allocating,
 * locking, hashing or choosing by dtype; any other scalar function takes
 * the grd_function_call path. Error when an input or output is not a
 * scalar. Same numbers, updates and errors as grd_function_call. */
gboolean     grd_function_call_doubles (GrdFunction *fn, const double *in, double *out,
                                        GError **error);

/* The compiled form as text: one line per step (fused loops, BLAS calls, ops). */
char        *grd_function_describe (GrdFunction *fn);

/* A per-step profile of the calls since profiling was turned on. */
typedef struct {
  const char *label;      /* the graph nodes the step computes ("n3+n4+n5") */
  const char *kind;       /* "fused", "gemm" or the op name */
  guint64     calls;
  double      total_us;
  guint64     bytes;      /* bytes written over all calls */
} GrdProfileEntry;

void         grd_function_set_profiling (GrdFunction *fn, gboolean on);
/* GrdProfileEntry per step, in schedule order; owned by fn; NULL for the
 * reference executor (GRADUS_OPTIMIZER=none). */
GArray      *grd_function_profile (GrdFunction *fn);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GrdFunction, grd_function_free)

/* ---------------------------------------------------------------- values */

/* A value in any JSON form of docs/format.md (nested lists, shape+data,
 * shape+base64, npy, init). `base_dir` resolves relative npy paths. */
GrdTensor *grd_value_from_json (JsonNode *node, GrdDType dtype, const char *base_dir,
                                GError **error);
/* Nested lists; 0-d as a plain number; non-finite numbers as strings. */
JsonNode  *grd_value_to_json (const GrdTensor *value);
/* Appends the same form as text, with the shortest decimals that read back exactly. */
void       grd_value_append_json (GString *out, const GrdTensor *value);

GrdTensor *grd_npy_load (const char *path, GError **error);
gboolean   grd_npy_save (const char *path, const GrdTensor *value, GError **error);

/* ---------------------------------------------------------------- documents */

/* A graph file: the JSON as read (so unknown keys survive a save), the graph
 * built from it, the function and the run settings. */
typedef struct _GrdDocument GrdDocument;

GrdDocument *grd_document_load (const char *path, GError **error);
/* `path` names the file in messages and resolves relative paths; may be NULL. */
GrdDocument *grd_document_load_from_data (const char *data, gssize length, const char *path,
                                          GError **error);

typedef enum {
  GRD_DOCUMENT_STRICT = 0,
  /* Build every node that can be built; record the others' errors by node id
   * instead of failing (the editor marks them red). Syntax errors still fail. */
  GRD_DOCUMENT_LENIENT = 1 << 0,
} GrdDocumentFlags;

/* Takes its own reference to a copy of `root`. */
GrdDocument *grd_document_new_from_json (JsonNode *root, const char *path, GrdDocumentFlags flags,
                                         GError **error);
/* Lenient documents: the message of the node's error, or NULL. */
const char  *grd_document_node_error (GrdDocument *doc, const char *id);
/* Ids of nodes in error (lenient documents), in file order; owned by the
 * document: do not free or unref it. */
GPtrArray   *grd_document_error_ids (GrdDocument *doc);
void         grd_document_free (GrdDocument *doc);
const char  *grd_document_path (GrdDocument *doc);
GrdGraph    *grd_document_graph (GrdDocument *doc);
JsonNode    *grd_document_root (GrdDocument *doc);
/* Compiles the file's "function" object. */
GrdFunction *grd_document_function (GrdDocument *doc, GError **error);
/* Writes the JSON with the shared variables' current values, atomically
 * (temporary file, then rename). Into another folder, relative data paths
 * are rewritten for it (grd_data_paths_rebase). */
gboolean     grd_document_save (GrdDocument *doc, const char *path, GError **error);
/* grd_document_save, and in `outside` (when not NULL; free it with
 * g_strfreev) the data files the saved file reads from outside its folder
 * when it went into another folder: loading it refuses them until allowed.
 * NULL when none, or the folder is the same. */
gboolean     grd_document_save_full (GrdDocument *doc, const char *path, char ***outside,
                                     GError **error);
/* Save As, for every writer of graph files (the editor and `gradus run
 * --save`): rewrites in place the relative "npy" and "csv" paths of a graph
 * file's tree read from folder `old_dir` so that each names the same file
 * from `new_dir` ("../old/data.csv" where it must): the values of nodes,
 * scan bodies and group definitions, and the feeds of run.feeds and
 * run.also. Absolute paths stay. Nothing changes when both are the same
 * folder. Returns the data files (resolved) the tree reads from outside
 * `new_dir` afterwards, which the loader refuses unless allowed (free with
 * g_strfreev); NULL when none or the folder is the same. */
char       **grd_data_paths_rebase (JsonNode *tree, const char *old_dir, const char *new_dir);
/* The data files (resolved) a graph file's tree in folder `dir` reads from
 * outside it, in file order; NULL when none. */
char       **grd_data_paths_outside (JsonNode *tree, const char *dir);
/* Whether two folders are the same one (links and "." resolved). */
gboolean     grd_data_paths_same_folder (const char *a, const char *b);
char        *grd_document_to_data (GrdDocument *doc, gsize *length);
/* The JSON tree grd_document_save would write now (unref it): the file with
 * the shared variables' current values (nested lists, base64 when large),
 * unchanged ones in their form in the file, and run.resume if set. */
JsonNode    *grd_document_dup_saved_tree (GrdDocument *doc);
/* Sets run.resume (docs/scan.md), where a run stopped, so that running the
 * saved file continues it: `next_step`, how often each of `n` functions was
 * called (names and counts), and each random stream's draws as the graph
 * holds them now. */
void         grd_document_set_resume (GrdDocument *doc, gint64 next_step, guint n,
                                      const char *const *functions, const gint64 *calls);
/* Parses JSON text as documents are parsed: UTF-8 checked, nesting deeper than
 * GRD_JSON_MAX_DEPTH refused before parsing, integer literals beyond int64
 * read as floats. `label` names the text in messages. Unref the result. */
JsonNode    *grd_json_parse (const char *data, gssize length, const char *label, GError **error);

/* Graphviz DOT text of the graph (forward nodes; gradient nodes grouped in a
 * cluster per grad node). */
char        *grd_document_to_dot (GrdDocument *doc);

/* run.steps, or `fallback` when absent. */
gint         grd_document_run_steps (GrdDocument *doc, gint fallback);

/* Several functions on the same shared variables (docs/format.md): "main"
 * for "function", then the keys of "functions", in file order
 * (NULL-terminated; g_strfreev). */
char       **grd_document_function_names (GrdDocument *doc);
/* run.function, else "main", else the only function; an error when the file
 * has several and none is named. Free the name. */
char        *grd_document_run_function (GrdDocument *doc, GError **error);
/* Compiles the function of that name. */
GrdFunction *grd_document_function_named (GrdDocument *doc, const char *name, GError **error);
/* Its JSON object ("main" is "function"; NULL: the one run.function names). */
JsonObject  *grd_document_function_object (GrdDocument *doc, const char *name, GError **error);

/* One run.also entry: call `function` after every `every`-th call of the
 * main one, with its own feeds. */
typedef struct {
  char    *function;
  gint     every;
  JsonNode *feeds;   /* an object: input id -> feed (may be NULL) */
} GrdRunAlso;

/* run.also, checked (each function exists, every >= 1); GrdRunAlso* array
 * with its own free function. */
GPtrArray   *grd_document_run_also (GrdDocument *doc, GError **error);

/* ---------------------------------------------------------------- feeds */

/* What an input receives on each call: a fixed value or minibatches of a data set. */
typedef struct _GrdFeed GrdFeed;

/* `json` is a feed of docs/format.md; `type` is the input's type. */
GrdFeed   *grd_feed_new (JsonNode *json, const GrdType *type, const char *base_dir,
                         GError **error);
/* The value for call number `step` (a new reference). */
GrdTensor *grd_feed_next (GrdFeed *feed, gint64 step, GError **error);
void       grd_feed_free (GrdFeed *feed);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GrdFeed, grd_feed_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GrdDocument, grd_document_free)

/* Feeds for every input of the document's function from run.feeds, with
 * `overrides` (input id -> JsonNode) taking precedence. Returns an array of
 * GrdFeed*, one per function input, in order. */
GPtrArray *grd_document_feeds (GrdDocument *doc, GHashTable *overrides, GError **error);
/* The same for the function of that name, its feeds taken from `feeds` (an
 * object input id -> feed; NULL: run.feeds). */
GPtrArray *grd_document_feeds_named (GrdDocument *doc, const char *name, JsonNode *feeds,
                                     GHashTable *overrides, GError **error);

/* ---------------------------------------------------------------- limits */

/* What an untrusted graph file may make Gradus do (docs/format.md, "Limits").
 * grd_limits_init() gives the defaults: a memory budget of a quarter of the
 * machine's memory (GRADUS_MEMORY_LIMIT overrides it) and data files read only
 * from the document's folder and below. */
typedef struct {
  guint64            memory_limit;   /* bytes for any one value and for one call; 0: default */
  gboolean           allow_any_data; /* read data files from anywhere */
  const char *const *allowed_data;   /* NULL-terminated extra files or folders, or NULL */
} GrdLimits;

/* JSON nested deeper than this is refused before it is parsed. */
#define GRD_JSON_MAX_DEPTH 512

void     grd_limits_init (GrdLimits *limits);
guint64  grd_memory_limit_default (void);
/* "1048576", "512K", "64M", "4G", "1T" (powers of 1024), > 0. */
gboolean grd_parse_size (const char *text, guint64 *bytes, GError **error);
/* The budget of one call: every value and the values alive together; 0 restores
 * the default. Checked at compile time from static shapes, at call time from
 * the inputs' shapes, before anything is allocated. */
void     grd_function_set_memory_limit (GrdFunction *fn, guint64 bytes);
guint64  grd_function_get_memory_limit (GrdFunction *fn);
/* grd_document_load and grd_document_new_from_json under `limits` (copied;
 * NULL: the defaults); the document's functions and feeds inherit them. */
GrdDocument *grd_document_load_with_limits (const char *path, const GrdLimits *limits,
                                            GError **error);
GrdDocument *grd_document_new_from_json_with_limits (JsonNode *root, const char *path,
                                                     GrdDocumentFlags flags,
                                                     const GrdLimits *limits, GError **error);

/* ---------------------------------------------------------------- random */

/* The project's reproducible generator (xoshiro256**), for init and shuffles. */
typedef struct {
  guint64 s[4];
} GrdRandom;

void    grd_random_seed (GrdRandom *rng, guint64 seed);
guint64 grd_random_next (GrdRandom *rng);
double  grd_random_uniform (GrdRandom *rng);      /* [0, 1) */
double  grd_random_normal (GrdRandom *rng);       /* mean 0, std 1 */

/* ---------------------------------------------------------------- Vulkan devices */

/* One line per Vulkan device (index, name, kind, capabilities), the one
 * Gradus would use marked "[selected]"; GRADUS_VULKAN_DEVICE (an index or a
 * substring of the name) overrides the choice. Fails when there is no Vulkan
 * loader or driver, or Gradus was built without Vulkan. Free the text. */
char *grd_vulkan_describe_devices (GError **error);

/* ---------------------------------------------------------------- scan (grd-scan.c) */

#define GRD_SCAN_MAX_TAPS 8

/* A sequence or an initial state of a scan with its taps (n_taps 0: the
 * default, [0] for a sequence, [-1] for a state). An outputs_info slot whose
 * ref is GRD_REF_NONE is an output that is not fed back. */
typedef struct {
  GrdRef ref;
  gint   n_taps;
  gint   taps[GRD_SCAN_MAX_TAPS];
} GrdScanSlot;

/* theano.scan. `body` is a graph of its own whose variables `body_inputs`
 * are, in order, one per tap of each sequence, one per tap of each fed-back
 * output, one per non-sequence (docs/scan.md). Outputs_info may be shorter
 * than the body outputs: the rest are not fed back. */
typedef struct {
  GrdGraph          *body;
  const GrdRef      *body_inputs;
  gint               n_body_inputs;
  const GrdRef      *body_outputs;
  gint               n_body_outputs;
  const GrdScanSlot *sequences;
  gint               n_sequences;
  const GrdScanSlot *outputs_info;
  gint               n_outputs_info;
  const GrdRef      *non_sequences;
  gint               n_non_sequences;
  gint64             n_steps;       /* -1: n_steps_ref, or the sequences' length */
  GrdRef             n_steps_ref;   /* an integer scalar, or GRD_REF_NONE */
  gboolean           go_backwards;
} GrdScanSpec;

/* Adds a scan; output k (body output k at every step, stacked on a new axis
 * 0) is { node, k } of the returned reference. */
GrdRef grd_graph_scan (GrdGraph *graph, const char *id, const GrdScanSpec *spec, GError **error);

/* ---------------------------------------------------------------- random streams (ops-random.c) */

typedef enum {
  GRD_RANDOM_UNIFORM,   /* params low, high */
  GRD_RANDOM_NORMAL,    /* params mean, std */
  GRD_RANDOM_BINOMIAL,  /* params n, p */
} GrdDistribution;

/* RandomStreams(seed).uniform/normal/binomial: `shape` (rank dims) fixed, or
 * `like` (not GRD_REF_NONE) gives the run-time shape. p0 and p1 are the two
 * params (any float or int node, broadcast against the shape). Every call
 * draws anew from a counter-based stream (Philox 4x32-10) keyed by the seed
 * and the node id, so draws do not depend on the back end. */
GrdRef grd_graph_random (GrdGraph *graph, const char *id, GrdDistribution distribution,
                         GrdDType dtype, gint rank, const gint64 *shape, GrdRef like, GrdRef p0,
                         GrdRef p1, guint64 seed, GError **error);
/* Restarts every stream of the graph (scan bodies included) from its seed. */
void   grd_graph_random_reset (GrdGraph *graph);
/* Replaces every random node's seed by `seed` (each keeps a stream of its
 * own, keyed by its id) and restarts the streams. */
void   grd_graph_random_reseed (GrdGraph *graph, guint64 seed);
/* Where each stream is (scan bodies included): node id -> gint64 * draws so
 * far. Keys belong to the graph; unref the table. */
GHashTable *grd_graph_random_state (GrdGraph *graph);
/* Puts the streams named in `state` (id -> gint64 *) back there. */
void   grd_graph_random_set_state (GrdGraph *graph, GHashTable *state);

/* ---------------------------------------------------------------- derivatives (grd-derivatives.c) */

/* Each adds a node whose outputs alias the built graph (like grad's), and
 * fills out[k] (may be NULL) with output k.
 * jacobian: out[k] has shape expression.shape + wrt[k].shape;
 * hessian: out[k] has shape wrt[k].shape + wrt[k].shape (cost a scalar);
 * rop: one output, J(f, wrt) . eval_points, shaped like f;
 * lop: out[k] = eval_point . J(f, wrt[k]), shaped like wrt[k]. */
GrdRef grd_graph_jacobian (GrdGraph *graph, const char *id, GrdRef expression, const GrdRef *wrt,
                           gint n_wrt, GrdRef *out, GError **error);
GrdRef grd_graph_hessian (GrdGraph *graph, const char *id, GrdRef cost, const GrdRef *wrt,
                          gint n_wrt, GrdRef *out, GError **error);
GrdRef grd_graph_rop (GrdGraph *graph, const char *id, GrdRef f, const GrdRef *wrt, gint n_wrt,
                      const GrdRef *eval_points, GrdRef *out, GError **error);
GrdRef grd_graph_lop (GrdGraph *graph, const char *id, GrdRef f, const GrdRef *wrt, gint n_wrt,
                      GrdRef eval_point, GrdRef *out, GError **error);

G_END_DECLS

/* GTypes of the public types, and the calls language bindings use. */
#include "grd-gtypes.h"
