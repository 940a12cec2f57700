/* grd-kernels.c: the compiler's own kernels for hot ops, which write into
 * reused buffers, use the vector maths and split rows across threads:
 * softmax and log-softmax over the last axis here; reductions and the
 * gradient helpers _reduce_to and _unreduce in grd-reduce-kernels.c. Each
 * has a `match` that says whether an instruction fits it; the pass swaps the
 * op's kernel for it. */
#include "grd-exec.h"
#include "grd-fuse.h"
#include "grd-conv.h"
#include "grd-reduce-kernels.h"

#include <math.h>
#include <string.h>

/* A tensor of dtype/shape, reusing *out when nobody else holds it; NULL
 * with an error when memory is short. */
static GrdTensor *
output_like (GrdTensor **out, GrdDType dtype, gint rank, const gint64 *shape, GError **error)
{
  GrdTensor *o = *out;
  if (!(o && o->ref_count == 1 && o->dtype == dtype && o->rank == rank
        && memcmp (o->shape, shape, sizeof (gint64) * rank) == 0)) {
    grd_tensor_unref (o);
    o = grd_tensor_try_new (dtype, rank, shape, error);
  }
  *out = o;
  return o;
}

/* ------------------------------------------------------------ softmax rows */

typedef struct {
  const GrdTensor *x;
  GrdTensor       *y;
  gint64           rows, cols, rows_per_task;
  gboolean         log;
} SoftmaxJob;

static void
softmax_rows_f32 (gpointer data, gint task)
{
  SoftmaxJob *j = data;
  gint64 r0 = task * j->rows_per_task, r1 = MIN (j->rows, r0 + j->rows_per_task);
  gint64 c = j->cols;
  for (gint64 r = r0; r < r1; r++) {
    const float *x = (const float *) j->x->data + r * c;
    float *y = (float *) j->y->data + r * c;
    float m = grd_vec_max_f32 (x, (gint) c);
    if (isinf (m))
      m = 0;  /* all -inf or an inf: the formula's own nan/inf (a NaN spreads by itself) */
    /* one pass for exp(x - max) and its sum, one to scale */
    double s = grd_vec_exp_shift_sum_f32 (y, x, m, (gint) c);
    if (j->log) {
      float ls = (float) log (s);
      for (gint64 k = 0; k < c; k++)
        y[k] = (x[k] - m) - ls;
    } else {
      float inv = (float) (1.0 / s);
      for (gint64 k = 0; k < c; k++)
        y[k] *= inv;
    }
  }
}

static gboolean
softmax_fits (GrdProgram *prog, GrdInstr *ins)
{
  if (ins->kind != GRD_INSTR_OP
      || !(g_str_equal (ins->op->name, "softmax") || g_str_equal (ins->op->name, "log_softmax")))
    return FALSE;
  const GrdType *t = &grd_program_value (prog, ins->in[0])->type;
  if (t->dtype != GRD_DTYPE_FLOAT32 || t->rank < 1)
    return FALSE;
  if (!ins->attrs.has_axis)
    return TRUE;
  return ins->attrs.n_axes == 1 && (ins->attrs.axes[0] == -1 || ins->attrs.axes[0] == t->rank - 1);
}

static gboolean
softmax_run (GrdInstr *ins, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  const GrdTensor *x = in[0];
  GrdTensor *y = output_like (out, x->dtype, x->rank, x->shape, error);
  if (!y)
    return FALSE;
  SoftmaxJob j = { x, y, 0, x->shape[x->rank - 1], 0, g_str_equal (ins->op->name, "log_softmax") };
  if (x->size == 0)
    return TRUE;
  j.rows = x->size / j.cols;
  /* about 64k elements a task: small inputs stay on this thread */
  j.rows_per_task = MAX (1, 65536 / MAX (j.cols, 1));
  gint n_tasks = (gint) ((j.rows + j.rows_per_task - 1) / j.rows_per_task);
  grd_parallel_for (n_tasks, softmax_rows_f32, &j);
  return TRUE;
}

/* ------------------------------------------------------------ the pass */

typedef struct {
  gboolean (*fits) (GrdProgram *prog, GrdInstr *ins);
  GrdKernelFunc run;
  gint (*shape) (GrdInstr *ins, GrdTensor *const *in, gint64 *shape);   /* NULL: the executor's guess */
} KernelEntry;

static const KernelEntry kernels[] = {
  { softmax_fits, softmax_run, NULL },
  { grd_conv_reduce_fits, grd_conv_reduce_run, NULL },  /* patterns the reduce kernels decline */
  { grd_conv_kernel_fits, grd_conv_kernel_run, grd_conv_kernel_shape },
};

gboolean
grd_pass_kernels (GrdProgram *prog)
{
  gboolean changed = FALSE;
  for (guint i = 0; i < prog->instrs->len; i++) {
    GrdInstr *ins = grd_program_instr (prog, i);
    if (grd_conv_reduce_wants (prog, ins)) {  /* bias gradients: summed runs on both sides */
      ins->kind = GRD_INSTR_KERNEL;
      ins->kernel = grd_conv_reduce_run;
      changed = TRUE;
      continue;
    }
    if (grd_reduce_kernel_install (prog, ins)) {
      changed = TRUE;
      continue;
    }
    for (gsize k = 0; k < G_N_ELEMENTS (kernels); k++)
      if (kernels[k].fits (prog, ins)) {
        ins->kind = GRD_INSTR_KERNEL;
        ins->kernel = kernels[k].run;
        ins->kernel_shape = kernels[k].shape;
        changed = TRUE;
        break;
      }
  }
  return changed;
}
