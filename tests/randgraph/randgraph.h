/* randgraph.h: random well-typed graphs and the checks run on each of them.
 *
 * The generator (rg-gen.c) grows a graph from a few inputs by applying ops
 * drawn from a table (rg-ops.c, one row per catalogue op: an op added later
 * is one more row). The checker (rg-check.c) differentiates a projection of
 * the graph's output and compares, in float64:
 *   - grad with central finite differences along a random direction (and the
 *     same for grad of grad);
 *   - the optimised CPU program with the reference executor;
 *   - Vulkan with the CPU.
 * A failing graph is shrunk to its smallest failing sub-expression and
 * written as a .gradus file (rg-save.c) that test-randgraph then loads. */
#pragma once

#include "gradus.h"

#include <stdio.h>

G_BEGIN_DECLS

/* What the generator knows of a value in its pool. */
enum {
  RG_POSITIVE = 1 << 0,  /* every element > 0, well away from 0 */
  RG_UNIT     = 1 << 1,  /* every element in (0, 1), away from both ends */
  RG_SMALL    = 1 << 2,  /* |x| <= ~3: safe under exp */
};

typedef struct {
  GrdRef   ref;
  GrdDType dtype;
  gint     rank;
  gint64   shape[GRD_MAX_RANK];   /* the run-time shape */
  guint    flags;
  gint     size;                  /* nodes behind it (for the shrinker's order) */
} RgVal;

typedef struct _RgGen RgGen;

/* One row per op. `make` picks operands from the pool (or makes constants),
 * adds the op node and fills *out; FALSE when this op does not apply now. */
typedef struct _RgOp RgOp;
struct _RgOp {
  const char *name;
  gboolean  (*make) (RgGen *gen, const RgOp *row, RgVal *out);
};

const RgOp *rg_ops (gint *n_ops);

struct _RgGen {
  GrdGraph  *graph;
  GrdRandom  rng;
  GArray    *pool;         /* RgVal */
  GArray    *vars;         /* GrdRef: the function's inputs */
  GPtrArray *var_values;   /* GrdTensor*: their values */
  GError    *error;        /* the last failed attempt's error (cleared by the generator) */
  gint      *op_built;     /* per table row: how many nodes of it were built */
};

/* ---- generator helpers for the rows (rg-gen.c) */
double   rg_uniform (RgGen *gen, double lo, double hi);
gint     rg_int (RgGen *gen, gint lo, gint hi);            /* [lo, hi] */
gboolean rg_chance (RgGen *gen, double p);
/* A pool value, preferring the newest (so graphs grow deep); NULL if none
 * passes the filter (dtype class: 'f' float, 'i' integer, 'b' bool, 0 any). */
const RgVal *rg_pick (RgGen *gen, char kind, gint min_rank, gint max_rank);
/* A constant of this shape with values in [lo, hi) (integers: floor). */
RgVal    rg_constant (RgGen *gen, GrdDType dtype, gint rank, const gint64 *shape, double lo,
                      double hi);
/* A shape that broadcasts against `v`: the same, a suffix, 1s in places, or rank 0. */
gint     rg_broadcast_shape (RgGen *gen, const RgVal *v, gint64 *shape);
/* NumPy broadcast of two run-time shapes; FALSE if they do not. */
gboolean rg_broadcast (const RgVal *a, const RgVal *b, gint *rank, gint64 *shape);
/* Adds an op node; on failure keeps the error in gen->error and returns FALSE. */
gboolean rg_add_op (RgGen *gen, const char *op, const RgVal *const *in, gint n_in,
                    const GrdAttrs *attrs, gint rank, const gint64 *shape, guint flags,
                    RgVal *out);
/* `v` made positive (or into (0, 1) with `unit`) by a guard op when its flags
 * do not say so already; the guard is drawn at random. */
gboolean rg_guard (RgGen *gen, const RgVal *v, gboolean unit, RgVal *out);
gint64   rg_size (gint rank, const gint64 *shape);

/* ---- one graph */
typedef struct {
  guint64  seed;
  gint     depth;          /* op steps asked for, 1 to 8 */
  gboolean vulkan;         /* also compare Vulkan with the CPU */
} RgParams;

typedef enum {
  RG_PASS,
  RG_REJECT,         /* not checkable here: non-finite, a kink within the step, ... */
  RG_FLIP,           /* programs differ only where a discrete op (argmax, a comparison,
                      * rounding, a cast to an integer) reads computed floats: the
                      * rounding of a near tie decided it; counted, not a mismatch */
  RG_FAIL_GRAD,      /* grad against finite differences */
  RG_FAIL_GRAD2,     /* grad of grad against finite differences */
  RG_FAIL_OPT,       /* optimised CPU against the reference executor */
  RG_FAIL_VULKAN,    /* Vulkan against the CPU */
  RG_FAIL_ERROR,     /* building the gradient, compiling or calling failed */
  RG_N_STATUS
} RgStatus;

const char *rg_status_name (RgStatus status);

typedef struct {
  RgStatus status;
  char    *message;        /* what differed, by how much */
  gboolean opt_bit_exact;  /* the optimised program gave the very same bits */
  gint     exact_outputs;  /* outputs of exact ops only, held to the same bits */
  char    *vulkan_fallback; /* why the Vulkan function ran on the CPU (an op
                             * without a kernel), or NULL */
} RgResult;

void rg_result_clear (RgResult *r);

/* A graph ready to check: the inputs with their values and the output. */
typedef struct {
  GrdGraph  *graph;
  GArray    *vars;         /* GrdRef */
  GPtrArray *values;       /* GrdTensor* */
  GrdRef     out;
  /* for the checker's own test: a node the first grad holds constant, which
   * makes that gradient wrong on purpose (has_blocked FALSE: none) */
  gboolean   has_blocked;
  GrdRef     blocked;
} RgCase;

void rg_case_clear (RgCase *c);

/* Builds a random graph; also returns its pool (RgVal) for the shrinker.
 * `op_built` (may be NULL) counts the nodes built per table row. */
gboolean rg_generate (const RgParams *params, RgCase *out, GArray **pool, gint *op_built);

/* Runs every check on a copy-free case (the checks add nodes to c->graph). */
void     rg_check (RgCase *c, gboolean vulkan, guint64 seed, RgResult *result);

/* The smallest sub-expression of the pool that fails with the same status,
 * as a new case holding only the nodes it needs. */
void     rg_shrink (const RgCase *c, GArray *pool, gboolean vulkan, guint64 seed,
                    RgStatus status, RgCase *out);

/* The case as a .gradus document: the nodes behind c->out, a function from
 * the inputs to the output, and the inputs' values as run.feeds. */
char    *rg_case_to_gradus (const RgCase *c, const char *note);
/* Reads one back (the function's inputs and first output, the feeds). */
gboolean rg_case_from_file (const char *path, RgCase *out, GError **error);

G_END_DECLS

/* ---- many graphs (rg-run.c) */
typedef struct {
  gint  graphs;                 /* checked (not rejected) */
  gint  rejected;
  gint  flips;                  /* RG_FLIP */
  gint  failures[RG_N_STATUS];  /* by status; [RG_PASS] unused */
  gint  opt_bit_exact;          /* checked graphs whose optimised outputs were the same bits */
  gint  exact_outputs;          /* outputs of exact ops only, found bit-exact */
  gint  vulkan_checked;         /* graphs compared on Vulkan */
  gint  vulkan_fallbacks;       /* graphs whose Vulkan function fell back to the CPU */
  GHashTable *fallback_reasons; /* reason -> count */
  gint *op_built;               /* per table row */
  GPtrArray *saved;             /* paths of the shrunk failures written */
} RgStats;

void rg_stats_init (RgStats *s);
void rg_stats_clear (RgStats *s);
gint rg_stats_mismatches (const RgStats *s);
/* Checks `count` graphs from seed `seed` on; a failure is shrunk and, with a
 * `save_dir`, written there as rg-SEED.gradus. `verbose` prints each failure. */
void rg_run (guint64 seed, gint count, gboolean vulkan, const char *save_dir, gboolean verbose,
             RgStats *stats);
/* One line per count, and the ops of the catalogue that have no table row. */
void rg_stats_print (const RgStats *s, FILE *f);
/* Catalogue ops without a row in rg-ops.c (NULL-terminated; free with g_strfreev). */
char **rg_uncovered_ops (void);
