/* grd-program.h: the optimising CPU compiler's intermediate form.
 *
 * A GrdProgram is a private copy of the part of a graph that one function
 * needs: values (inputs, constants, shared variables, temporaries) and
 * instructions in a valid order. Rewrite passes change it freely; the user's
 * graph (which the editor shows) is never touched. */
#pragma once

#include "../grd-internal.h"

G_BEGIN_DECLS

typedef enum {
  GRD_PVALUE_INPUT,     /* fed by the caller: input_index */
  GRD_PVALUE_CONSTANT,  /* constant tensor */
  GRD_PVALUE_SHARED,    /* the value of graph node shared_node at call time */
  GRD_PVALUE_TEMP,      /* computed by instruction `producer` */
} GrdPValueKind;

typedef struct {
  GrdPValueKind kind;
  GrdType       type;
  GrdTensor    *constant;     /* GRD_PVALUE_CONSTANT */
  gint          input_index;  /* GRD_PVALUE_INPUT */
  gint          shared_node;  /* GRD_PVALUE_SHARED: graph node index */
  gint          producer;     /* GRD_PVALUE_TEMP: instruction index */
  gint          origin;       /* graph node it came from, -1 if made by a pass (for profiles) */
  gint          n_uses;       /* readers among live instructions, outputs and updates */
} GrdPValue;

typedef struct _GrdFused GrdFused;

typedef struct _GrdInstr GrdInstr;
/* A kernel of the compiler's own (grd-kernels.c): like an op's eval, but
 * *out may hold last call's tensor to reuse. */
typedef gboolean (*GrdKernelFunc) (GrdInstr *ins, GrdTensor *const *in, GrdTensor **out,
                                   GError **error);

typedef enum {
  GRD_INSTR_OP,       /* the op's own kernel */
  GRD_INSTR_KERNEL,   /* one of the compiler's kernels, for the op in `op` */
  GRD_INSTR_FUSED,    /* a fused elementwise program (grd-fuse.c) */
  GRD_INSTR_GEMM,     /* alpha * op(A) op(B) + beta * C through BLAS */
  GRD_INSTR_DEAD,     /* removed by a pass */
} GrdInstrKind;

struct _GrdInstr {
  GrdInstrKind    kind;
  const GrdOpDef *op;        /* GRD_INSTR_OP; also kept for profiles */
  GrdAttrs        attrs;
  gint           *in;        /* value ids */
  gint            n_in;
  gint           *out;       /* value ids */
  gint            n_out;
  GrdFused       *fused;     /* GRD_INSTR_FUSED */
  /* GRD_INSTR_GEMM: in = {A, B} or {A, B, C} */
  gboolean        trans_a, trans_b;
  double          alpha, beta;
  GrdKernelFunc   kernel;    /* GRD_INSTR_KERNEL */
  /* GRD_INSTR_KERNEL, optional: the output's shape for these inputs (rank,
   * or -1 when unknown), so the buffer pool can hand the kernel its output */
  gint          (*kernel_shape) (GrdInstr *ins, GrdTensor *const *in, gint64 *shape);
  gint            kernel_arg; /* GRD_INSTR_KERNEL: the kernel's own parameter */
  char           *label;     /* the graph node(s) it computes, for profiles */
};

typedef struct {
  GrdGraph *graph;
  GArray   *values;     /* GrdPValue */
  GArray   *instrs;     /* GrdInstr */
  GArray   *outputs;    /* gint value ids */
  GArray   *upd_shared; /* gint graph node of each updated shared variable */
  GArray   *upd_values; /* gint value ids */
  gint      n_inputs;
  /* grd_program_replace's index: per value, a GArray of GrdReader (hints,
   * checked before use) over the first readers_n_instrs instructions; NULL
   * until needed and again after a sort renumbers the instructions */
  GPtrArray *readers;
  guint      readers_n_instrs;
} GrdProgram;

/* The program of a function (the same checks as grd_function_new have passed). */
GrdProgram *grd_program_new (GrdGraph *graph, const GrdRef *inputs, gint n_inputs,
                             const GrdRef *outputs, gint n_outputs, const GrdUpdate *updates,
                             gint n_updates);
void        grd_program_free (GrdProgram *prog);

static inline GrdPValue *
grd_program_value (GrdProgram *prog, gint id)
{
  return &g_array_index (prog->values, GrdPValue, id);
}

static inline GrdInstr *
grd_program_instr (GrdProgram *prog, gint i)
{
  return &g_array_index (prog->instrs, GrdInstr, i);
}

/* A new temporary value of `type` (producer set by the caller). */
gint grd_program_add_value (GrdProgram *prog, const GrdType *type, gint origin);
gint grd_program_add_constant (GrdProgram *prog, GrdTensor *value);
/* Appends an op instruction computing a new temporary; returns the value id
 * or -1 (error set) when the op refuses the input types. Instructions are
 * re-sorted by grd_program_sort(), so passes may append freely. */
gint grd_program_add_op (GrdProgram *prog, const char *op, const GrdAttrs *attrs,
                         const gint *in, gint n_in, GError **error);
/* Every reader of `from` reads `to` instead (outputs and updates included). */
void grd_program_replace (GrdProgram *prog, gint from, gint to);
/* Drops instructions whose results nobody reads; recounts uses. */
void grd_program_sweep (GrdProgram *prog);
/* Puts instructions in dependency order. */
void grd_program_sort (GrdProgram *prog);
/* Text form, one instruction a line, for test failure messages. */
char *grd_program_describe (GrdProgram *prog);

/* ------------------------------------------------------------ passes */

/* Each returns TRUE when it changed the program. */
gboolean grd_pass_merge (GrdProgram *prog);
gboolean grd_pass_constant_fold (GrdProgram *prog);
gboolean grd_pass_simplify (GrdProgram *prog);
gboolean grd_pass_stabilize (GrdProgram *prog);
gboolean grd_pass_gemm (GrdProgram *prog);
gboolean grd_pass_fuse (GrdProgram *prog);
gboolean grd_pass_kernels (GrdProgram *prog);
/* max pools keep their argmax for their gradient (grd-pool-argmax.c) */
gboolean grd_pass_pool_argmax (GrdProgram *prog);

/* Which passes grd_program_optimize runs (all by default). */
typedef enum {
  GRD_PASS_MERGE = 1 << 0,
  GRD_PASS_CONSTANT_FOLD = 1 << 1,
  GRD_PASS_SIMPLIFY = 1 << 2,
  GRD_PASS_STABILIZE = 1 << 3,
  GRD_PASS_GEMM = 1 << 4,
  GRD_PASS_FUSE = 1 << 5,
  GRD_PASS_KERNELS = 1 << 6,
  GRD_PASS_ALL = 0x7f,
} GrdPasses;

void grd_program_optimize (GrdProgram *prog, GrdPasses passes);

G_END_DECLS
