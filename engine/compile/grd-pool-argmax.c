/* grd-pool-argmax.c: max pooling keeps its argmax for the gradient.
 *
 * A max pool_2d and the _pool_2d_grad of the same input and attributes in
 * one function both compare every window; this pass has the forward pass
 * compute the windows' argmax once (_pool_2d_argmax), read the pooled values
 * through it (_pool_2d_take) and the gradient scatter through it
 * (_pool_2d_scatter), as Theano's and PyTorch's max pools keep theirs. The
 * choice among ties is unchanged: the first largest element, row-major. */
#include "grd-program.h"
#include "../ops/ops-conv.h"

#include <string.h>

static gboolean
same_pooling (const GrdAttrs *a, const GrdAttrs *b)
{
  return memcmp (a->ws, b->ws, sizeof a->ws) == 0
         && memcmp (a->pool_stride, b->pool_stride, sizeof a->pool_stride) == 0
         && memcmp (a->pool_pad, b->pool_pad, sizeof a->pool_pad) == 0
         && a->ignore_border == b->ignore_border && a->pool_mode == b->pool_mode;
}

static gboolean
is_live_op (GrdInstr *ins, const char *name)
{
  return ins->kind == GRD_INSTR_OP && g_str_equal (ins->op->name, name);
}

/* A max pool of a float32/float64 value whose gradient reads the same dtype. */
static gboolean
pool_fits (GrdProgram *prog, GrdInstr *ins)
{
  if (!is_live_op (ins, "pool_2d") || ins->attrs.pool_mode != GRD_POOL_MAX)
    return FALSE;
  GrdDType dt = grd_program_value (prog, ins->in[0])->type.dtype;
  return dt == GRD_DTYPE_FLOAT32 || dt == GRD_DTYPE_FLOAT64;
}

static gboolean
grad_fits (GrdProgram *prog, GrdInstr *pool, GrdInstr *ins)
{
  if (!is_live_op (ins, "_pool_2d_grad") || ins->in[0] != pool->in[0]
      || !same_pooling (&ins->attrs, &pool->attrs))
    return FALSE;
  GrdDType dt = grd_program_value (prog, pool->in[0])->type.dtype;
  return grd_program_value (prog, ins->in[1])->type.dtype == dt
         && grd_program_value (prog, ins->out[0])->type.dtype == dt;
}

static gboolean
kernel_run (GrdInstr *ins, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  return grd_pool_argmax_kernel (&ins->attrs, ins->n_in, in, out, error);
}

/* the output's shape, so the executor's buffer pool can hand it over */
static gint
kernel_shape (GrdInstr *ins, GrdTensor *const *in, gint64 *shape)
{
  GrdPoolGeom g;
  if (!grd_pool_geom (&ins->attrs, in[0]->rank, in[0]->shape, &g, NULL))
    return -1;
  memcpy (shape, in[0]->shape, sizeof (gint64) * in[0]->rank);
  if (ins->n_in < 3) {
    shape[in[0]->rank - 2] = g.oh;
    shape[in[0]->rank - 1] = g.ow;
  }
  return in[0]->rank;
}

/* The op instruction that computes v becomes the compiler's kernel. */
static void
as_kernel (GrdProgram *prog, gint v)
{
  GrdInstr *ins = grd_program_instr (prog, grd_program_value (prog, v)->producer);
  ins->kind = GRD_INSTR_KERNEL;
  ins->kernel = kernel_run;
  ins->kernel_shape = kernel_shape;
}

gboolean
grd_pass_pool_argmax (GrdProgram *prog)
{
  gboolean changed = FALSE;
  guint n = prog->instrs->len;   /* the instructions added here are not revisited */
  for (guint i = 0; i < n; i++) {
    GrdInstr *pool = grd_program_instr (prog, i);
    if (!pool_fits (prog, pool))
      continue;
    gboolean has_grad = FALSE;
    for (guint k = 0; k < n && !has_grad; k++)
      has_grad = grad_fits (prog, pool, grd_program_instr (prog, k));
    if (!has_grad)
      continue;   /* the forward alone is cheaper without the index */
    GrdAttrs attrs = pool->attrs;
    gint x = pool->in[0], y = pool->out[0];
    g_autoptr (GError) e = NULL;
    gint idx = grd_program_add_op (prog, "_pool_2d_argmax", &attrs, &x, 1, &e);
    gint in2[2] = { x, idx };
    gint y2 = idx >= 0 ? grd_program_add_op (prog, "_pool_2d_take", &attrs, in2, 2, &e) : -1;
    if (y2 < 0)
      continue;   /* refused types: leave the pool as it is (the added ops are swept) */
    as_kernel (prog, idx);
    as_kernel (prog, y2);
    grd_program_replace (prog, y, y2);
    grd_program_instr (prog, i)->kind = GRD_INSTR_DEAD;
    for (guint k = 0; k < n; k++) {
      GrdInstr *grad = grd_program_instr (prog, k);
      pool = grd_program_instr (prog, i);
      if (!grad_fits (prog, pool, grad))
        continue;
      gint in3[3] = { x, idx, grad->in[1] }, gx = grad->out[0];
      gint gx2 = grd_program_add_op (prog, "_pool_2d_scatter", &attrs, in3, 3, &e);
      if (gx2 < 0) {
        g_clear_error (&e);
        continue;
      }
      as_kernel (prog, gx2);
      grd_program_replace (prog, gx, gx2);
      grd_program_instr (prog, k)->kind = GRD_INSTR_DEAD;
    }
    changed = TRUE;
  }
  return changed;
}
