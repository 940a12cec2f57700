/* grd-scalar-program.c: programs whose every value is a float scalar (the
 * primer's linear regression, hand-written update rules) run as one flat
 * list of register operations over an array of doubles: no tensors, no
 * buffers, no shapes, no dtype switch per call (the dtype's loop is chosen
 * when the program is built). A call reads the inputs and shared values into
 * registers, runs the list, and writes outputs and updates into last call's
 * tensors when nobody else holds them (so steady calls allocate nothing).
 *
 * Arithmetic is the reference kernels' own (grd_elementwise_apply_*), so
 * results are those of the reference executor to the last bit. */
#include "grd-scalar-program.h"
#include "grd-fuse.h"

#include <string.h>

typedef struct {
  guint8  code;
  guint16 dst, a, b, c;
} ScalarOp;

typedef struct {
  gint reg;
  gint index;   /* input index, or graph node of a shared variable */
} Load;

typedef void (*RunFunc) (GrdScalarProgram *sp);

struct _GrdScalarProgram {
  GrdGraph  *graph;
  GrdDType   dtype;
  double    *regs;
  ScalarOp  *ops;
  gint       n_ops;
  Load      *inputs, *shared;
  gint       n_inputs, n_shared;
  gint      *out_regs;
  GrdTensor **out_cache;    /* last call's output tensors */
  gint       n_out;
  gint      *upd_regs, *upd_nodes;
  gint       n_upd;
  RunFunc    run;
};

static void
run_f64 (GrdScalarProgram *sp)
{
  double *r = sp->regs;
  for (const ScalarOp *op = sp->ops, *end = sp->ops + sp->n_ops; op < end; op++) {
    double a = r[op->a], b = r[op->b];
    switch (op->code) {
    case GRD_ELEM_ADD: r[op->dst] = a + b; break;
    case GRD_ELEM_SUB: r[op->dst] = a - b; break;
    case GRD_ELEM_MUL: r[op->dst] = a * b; break;
    case GRD_ELEM_DIV: r[op->dst] = a / b; break;
    case GRD_ELEM_NEG: r[op->dst] = -a; break;
    case GRD_ELEM_SQUARE: r[op->dst] = a * a; break;
    default: r[op->dst] = grd_elementwise_apply_f64 (op->code, a, b, r[op->c]);
    }
  }
}

static void
run_f32 (GrdScalarProgram *sp)
{
  double *r = sp->regs;
  for (const ScalarOp *op = sp->ops, *end = sp->ops + sp->n_ops; op < end; op++)
    r[op->dst] = grd_elementwise_apply_f32 (op->code, (float) r[op->a], (float) r[op->b],
                                            (float) r[op->c]);
}

void
grd_scalar_program_free (GrdScalarProgram *sp)
{
  if (!sp)
    return;
  for (gint o = 0; o < sp->n_out; o++)
    grd_tensor_unref (sp->out_cache[o]);
  g_free (sp->out_cache);
  g_free (sp->regs);
  g_free (sp->ops);
  g_free (sp->inputs);
  g_free (sp->shared);
  g_free (sp->out_regs);
  g_free (sp->upd_regs);
  g_free (sp->upd_nodes);
  g_free (sp);
}

static gboolean
scalar_type (const GrdType *t, GrdDType dtype)
{
  return t->rank == 0 && t->dtype == dtype;
}

GrdScalarProgram *
grd_scalar_program_new (GrdProgram *prog)
{
  if (prog->instrs->len == 0)
    return NULL;
  GrdDType dt = grd_program_value (prog, 0)->type.dtype;
  if (dt != GRD_DTYPE_FLOAT32 && dt != GRD_DTYPE_FLOAT64)
    return NULL;
  guint n_values = prog->values->len;
  for (guint v = 0; v < n_values; v++) {
    GrdPValue *pv = grd_program_value (prog, v);
    if (pv->kind == GRD_PVALUE_CONSTANT ? pv->constant->size != 1 : !scalar_type (&pv->type, dt))
      return NULL;
  }
  /* registers: one per value, then each fused loop's temporaries */
  gint n_regs = n_values;
  for (guint i = 0; i < prog->instrs->len; i++) {
    GrdInstr *ins = grd_program_instr (prog, i);
    if (ins->kind == GRD_INSTR_FUSED) {
      if (ins->fused->dtype != dt)
        return NULL;
      n_regs += ins->fused->n_regs;
    } else if (ins->kind != GRD_INSTR_OP || ins->n_out != 1 || ins->n_in > 3
               || grd_elementwise_code (ins->op) < 0 || grd_elementwise_code (ins->op) == GRD_ELEM_CAST) {
      return NULL;
    }
  }
  if (n_regs > G_MAXUINT16)
    return NULL;
  g_autofree gint *val_reg = g_new (gint, MAX (n_values, 1));
  for (guint v = 0; v < n_values; v++)
    val_reg[v] = v;
  GrdScalarProgram *sp = g_new0 (GrdScalarProgram, 1);
  sp->graph = prog->graph;
  sp->dtype = dt;
  sp->regs = g_new0 (double, n_regs);
  GArray *ops = g_array_new (FALSE, FALSE, sizeof (ScalarOp));
  gint next = n_values;
  for (guint i = 0; i < prog->instrs->len; i++) {
    GrdInstr *ins = grd_program_instr (prog, i);
    if (ins->kind == GRD_INSTR_OP) {
      ScalarOp op = { grd_elementwise_code (ins->op), val_reg[ins->out[0]], 0, 0, 0 };
      op.a = val_reg[ins->in[0]];
      op.b = ins->n_in > 1 ? val_reg[ins->in[1]] : op.a;
      op.c = ins->n_in > 2 ? val_reg[ins->in[2]] : op.a;
      g_array_append_val (ops, op);
      continue;
    }
    GrdFused *f = ins->fused;
    gint base = next;
    next += f->n_regs;
    /* register k of the loop: its input k, or a temporary of its own */
    for (guint k = 0; k < f->ops->len; k++) {
      GrdFusedOp *fo = &g_array_index (f->ops, GrdFusedOp, k);
      gint map[4] = { fo->dst, fo->a, fo->b, fo->c };
      for (gint m = 0; m < 4; m++)
        map[m] = map[m] < f->n_in ? val_reg[ins->in[map[m]]] : base + map[m];
      ScalarOp op = { fo->code, map[0], map[1], map[2], map[3] };
      g_array_append_val (ops, op);
    }
    for (gint k = 0; k < f->n_out; k++) {
      gint reg = f->out_regs[k];
      val_reg[ins->out[k]] = reg < f->n_in ? val_reg[ins->in[reg]] : base + reg;
    }
  }
  sp->n_ops = ops->len;
  sp->ops = (ScalarOp *) g_array_free (ops, FALSE);
  sp->inputs = g_new (Load, MAX (prog->n_inputs, 1));
  sp->shared = g_new (Load, MAX (n_values, 1));
  for (guint v = 0; v < n_values; v++) {
    GrdPValue *pv = grd_program_value (prog, v);
    if (pv->kind == GRD_PVALUE_CONSTANT)
      sp->regs[v] = grd_tensor_get (pv->constant, 0);
    else if (pv->kind == GRD_PVALUE_INPUT && pv->input_index >= 0)
      sp->inputs[sp->n_inputs++] = (Load) { v, pv->input_index };
    else if (pv->kind == GRD_PVALUE_SHARED)
      sp->shared[sp->n_shared++] = (Load) { v, pv->shared_node };
  }
  sp->n_out = prog->outputs->len;
  sp->out_regs = g_new (gint, MAX (sp->n_out, 1));
  sp->out_cache = g_new0 (GrdTensor *, MAX (sp->n_out, 1));
  for (gint o = 0; o < sp->n_out; o++)
    sp->out_regs[o] = val_reg[g_array_index (prog->outputs, gint, o)];
  sp->n_upd = prog->upd_values->len;
  sp->upd_regs = g_new (gint, MAX (sp->n_upd, 1));
  sp->upd_nodes = g_new (gint, MAX (sp->n_upd, 1));
  for (gint u = 0; u < sp->n_upd; u++) {
    sp->upd_regs[u] = val_reg[g_array_index (prog->upd_values, gint, u)];
    sp->upd_nodes[u] = g_array_index (prog->upd_shared, gint, u);
  }
  sp->run = dt == GRD_DTYPE_FLOAT64 ? run_f64 : run_f32;
  return sp;
}

static inline double
load (const GrdTensor *t)
{
  return t->dtype == GRD_DTYPE_FLOAT64 ? *(const double *) t->data : *(const float *) t->data;
}

static inline void
store (GrdTensor *t, double v)
{
  if (t->dtype == GRD_DTYPE_FLOAT64)
    *(double *) t->data = v;
  else
    *(float *) t->data = (float) v;
}

/* A scalar tensor of the program's dtype holding v: `old` itself when
 * nobody else holds it, else a new one. */
static GrdTensor *
fill (GrdTensor *old, GrdDType dt, double v)
{
  if (old && old->ref_count == 1) {
    store (old, v);
    return old;
  }
  grd_tensor_unref (old);
  return grd_tensor_new_scalar (dt, v);
}

gboolean
grd_scalar_program_call (GrdScalarProgram *sp, GrdTensor *const *inputs, GrdTensor **outputs)
{
  /* anything unusual (a wrong dtype or rank, a shared value replaced by one
   * of another shape) goes the general way, which checks and reports it */
  for (gint i = 0; i < sp->n_inputs; i++) {
    const GrdTensor *t = inputs[sp->inputs[i].index];
    if (!t || t->rank != 0 || t->dtype != sp->dtype)
      return FALSE;
  }
  GrdNode *shared[sp->n_shared + 1];
  for (gint s = 0; s < sp->n_shared; s++) {
    shared[s] = grd_graph_node (sp->graph, sp->shared[s].index);
    const GrdTensor *t = shared[s]->value;
    if (t->rank != 0 || t->dtype != sp->dtype)
      return FALSE;
  }
  double *r = sp->regs;
  for (gint i = 0; i < sp->n_inputs; i++)
    r[sp->inputs[i].reg] = load (inputs[sp->inputs[i].index]);
  for (gint s = 0; s < sp->n_shared; s++)
    r[sp->shared[s].reg] = load (shared[s]->value);
  sp->run (sp);
  for (gint o = 0; o < sp->n_out; o++) {
    sp->out_cache[o] = fill (sp->out_cache[o], sp->dtype, r[sp->out_regs[o]]);
    outputs[o] = grd_tensor_ref (sp->out_cache[o]);
  }
  /* updates take effect together: every new value is in a register already */
  for (gint u = 0; u < sp->n_upd; u++) {
    GrdNode *sn = grd_graph_node (sp->graph, sp->upd_nodes[u]);
    sn->value = fill (sn->value, sp->dtype, r[sp->upd_regs[u]]);
  }
  return TRUE;
}

gboolean
grd_scalar_program_call_doubles (GrdScalarProgram *sp, const double *in, double *out)
{
  GrdNode *shared[sp->n_shared + 1];
  for (gint s = 0; s < sp->n_shared; s++) {
    shared[s] = grd_graph_node (sp->graph, sp->shared[s].index);
    const GrdTensor *t = shared[s]->value;
    if (t->rank != 0 || t->dtype != sp->dtype)
      return FALSE;
  }
  double *r = sp->regs;
  /* a float32 input holds what a float32 tensor of the value would */
  if (sp->dtype == GRD_DTYPE_FLOAT32) {
    for (gint i = 0; i < sp->n_inputs; i++)
      r[sp->inputs[i].reg] = (float) in[sp->inputs[i].index];
    for (gint s = 0; s < sp->n_shared; s++)
      r[sp->shared[s].reg] = *(const float *) shared[s]->value->data;
  } else {
    for (gint i = 0; i < sp->n_inputs; i++)
      r[sp->inputs[i].reg] = in[sp->inputs[i].index];
    for (gint s = 0; s < sp->n_shared; s++)
      r[sp->shared[s].reg] = *(const double *) shared[s]->value->data;
  }
  sp->run (sp);
  for (gint o = 0; o < sp->n_out; o++)
    out[o] = r[sp->out_regs[o]];
  for (gint u = 0; u < sp->n_upd; u++) {
    GrdNode *sn = grd_graph_node (sp->graph, sp->upd_nodes[u]);
    sn->value = fill (sn->value, sp->dtype, r[sp->upd_regs[u]]);
  }
  return TRUE;
}
