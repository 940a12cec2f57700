/* grd-fuse.h: fused elementwise programs: a chain or tree of elementwise ops
 * (with broadcast operands and an optional sum at the end) run as one loop
 * over blocks that stay in L1, as NumExpr does. */
#pragma once

#include "grd-program.h"

G_BEGIN_DECLS

typedef struct {
  guint8 code;          /* GrdElemCode */
  guint8 dst, a, b, c;  /* registers; inputs are registers 0..n_in-1 */
} GrdFusedOp;

struct _GrdFused {
  GrdDType  dtype;      /* float32 or float64: the registers' type */
  gint      n_in;
  gint      n_regs;
  GArray   *ops;        /* GrdFusedOp */
  gint      n_out;
  gint     *out_regs;
  GrdDType *out_dtypes; /* the register's type, or bool for comparison results */
  guint64  *out_deps;   /* bit i: output depends on input i (for run-time shape checks) */
  gboolean  reduce_sum; /* output 0 is the sum over every element of its register */
  gboolean  reduce_mean; /* with reduce_sum: that sum divided by the element count */
  gint      reduce_best; /* with reduce_sum: instead of the sum, the max (1) or min (-1);
                          * a NaN wins, as in the reference */
  /* with reduce_sum: the sum runs over one run of axes only (sum or mean
   * with an axis, _reduce_to): the loop's shape seen as [outer, n, inner]
   * with n reduced, fixed when compiled (other shapes run the originals) */
  gboolean  reduce_axis;
  gint64    red_outer, red_n, red_inner;
  gint      loop_rank;  /* reduce_axis: the loop's static shape */
  gint64    loop_dims[GRD_MAX_RANK];
  gint      red_rank;   /* output 0's shape: rank 0 for a full sum */
  gint64    red_shape[GRD_MAX_RANK];
  /* the original instructions, run one by one when run-time shapes make the
   * fused loop invalid (an output smaller than the loop) */
  GArray   *originals;  /* GrdInstr copies (op, attrs, in, out) */
};

void  grd_fused_free (GrdFused *fused);
/* Whether output k may be written over input j: every op that reads j comes
 * before the op that writes k (so no block reads j after k's write). */
gboolean grd_fused_in_place_ok (GrdFused *fused, gint j, gint k);
char *grd_fused_describe (GrdFused *fused);

/* Runs the fused loop over the broadcast shape of `in`; fills out[] (new
 * tensors, or reuses out[k] when it already has the right dtype/shape and a
 * single reference). Returns FALSE with *fallback TRUE when the shapes need
 * the original instructions instead. */
GrdTensor *grd_fused_new_output (GrdFused *f, gint k, gint rank, const gint64 *shape, GError **error);
gboolean grd_fused_run (GrdFused *fused, GrdTensor *const *in, GrdTensor **out, gboolean *fallback,
                        GError **error);

/* Block functions of vector maths (grd-vecmath.c): n elements, float32. */
void grd_vec_exp_f32 (float *d, const float *a, gint n);
void grd_vec_expm1_f32 (float *d, const float *a, gint n);
void grd_vec_log_f32 (float *d, const float *a, gint n);
void grd_vec_log1p_f32 (float *d, const float *a, gint n);
void grd_vec_tanh_f32 (float *d, const float *a, gint n);
void grd_vec_sigmoid_f32 (float *d, const float *a, gint n);
void grd_vec_softplus_f32 (float *d, const float *a, gint n);
void grd_vec_sin_f32 (float *d, const float *a, gint n);
void grd_vec_cos_f32 (float *d, const float *a, gint n);
/* max of a[0..n) (-inf when empty; NaN elements are skipped) */
float  grd_vec_max_f32 (const float *a, gint n);
/* d = exp(a - shift); returns the sum of d */
double grd_vec_exp_shift_sum_f32 (float *d, const float *a, float shift, gint n);

/* ------------------------------------------------------------ threads */

/* Runs fn(data, i) for i in [0, n_tasks) on the engine's worker threads and
 * the calling thread. Workers sleep (never spin) between jobs so they do not
 * take cores from OpenBLAS. The pool is a process-wide cache made on first
 * use; GRADUS_THREADS sets its size (default: the number of cores). */
typedef void (*GrdParallelFunc) (gpointer data, gint task);
void grd_parallel_for (gint n_tasks, GrdParallelFunc fn, gpointer data);
gint grd_parallel_n_threads (void);

G_END_DECLS
