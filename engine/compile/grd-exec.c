/* grd-exec.c: the compiled function's calls.
 *
 * Every value has a slot that keeps its tensor from one call to the next, so
 * fused loops and BLAS calls write into the same memory every call (fresh
 * pages cost page faults: NOTES.md). A shared variable's old buffer, free
 * once its update has taken effect, is recycled for the next update: double
 * buffering, with no allocation in the steady state. */
#include "grd-exec.h"
#include "grd-fuse.h"

#include <string.h>
#include <time.h>

struct _GrdExec {
  GrdProgram *prog;
  GrdTensor **slots;      /* per value id */
  GPtrArray  *spare;      /* free buffers to recycle */
  gboolean    profiling;
  GArray     *profile;    /* GrdProfileEntry per instruction */
};

GrdExec *
grd_exec_new (GrdProgram *prog)
{
  GrdExec *e = g_new0 (GrdExec, 1);
  e->prog = prog;
  e->slots = g_new0 (GrdTensor *, MAX (prog->values->len, 1));
  for (guint v = 0; v < prog->values->len; v++) {
    GrdPValue *pv = grd_program_value (prog, v);
    if (pv->kind == GRD_PVALUE_CONSTANT)
      e->slots[v] = grd_tensor_ref (pv->constant);
  }
  e->spare = g_ptr_array_new_with_free_func ((GDestroyNotify) grd_tensor_unref);
  e->profile = g_array_new (FALSE, TRUE, sizeof (GrdProfileEntry));
  g_array_set_size (e->profile, prog->instrs->len);
  for (guint i = 0; i < prog->instrs->len; i++) {
    GrdInstr *ins = grd_program_instr (prog, i);
    GrdProfileEntry *p = &g_array_index (e->profile, GrdProfileEntry, i);
    p->label = ins->label ? ins->label : "";
    p->kind = ins->kind == GRD_INSTR_FUSED ? "fused" : ins->kind == GRD_INSTR_GEMM ? "gemm" : ins->op->name;
    /* label (node ids) may be NULL for instructions a pass made */
  }
  return e;
}

void
grd_exec_free (GrdExec *e)
{
  if (!e)
    return;
  for (guint v = 0; v < e->prog->values->len; v++)
    grd_tensor_unref (e->slots[v]);
  g_free (e->slots);
  g_ptr_array_unref (e->spare);
  g_array_unref (e->profile);
  grd_program_free (e->prog);
  g_free (e);
}

GrdProgram *
grd_exec_program (GrdExec *e)
{
  return e->prog;
}

void
grd_exec_set_profiling (GrdExec *e, gboolean on)
{
  e->profiling = on;
  for (guint i = 0; i < e->profile->len; i++) {
    GrdProfileEntry *p = &g_array_index (e->profile, GrdProfileEntry, i);
    p->calls = 0;
    p->total_us = 0;
    p->bytes = 0;
  }
}

GArray *
grd_exec_profile (GrdExec *e)
{
  return e->profile;
}

/* The slot's tensor if nobody else holds it, else a spare of that exact
 * dtype and shape, else NULL (the kernel allocates). */
static GrdTensor *
reusable (GrdExec *e, gint v)
{
  GrdTensor *t = e->slots[v];
  if (t && t->ref_count == 1)
    return g_steal_pointer (&e->slots[v]);
  g_clear_pointer (&e->slots[v], grd_tensor_unref);
  if (!t)
    return NULL;
  for (guint i = 0; i < e->spare->len; i++) {
    GrdTensor *s = g_ptr_array_index (e->spare, i);
    if (s->dtype == t->dtype && grd_tensor_same_shape (s, t))
      return g_ptr_array_steal_index_fast (e->spare, i);
  }
  return NULL;
}

static gboolean
run_originals (GrdExec *e, GrdFused *f, GError **error)
{
  for (guint k = 0; k < f->originals->len; k++) {
    GrdInstr *ins = &g_array_index (f->originals, GrdInstr, k);
    GrdTensor *in[ins->n_in + 1];
    for (gint j = 0; j < ins->n_in; j++)
      in[j] = e->slots[ins->in[j]];
    GrdNode fake = { 0 };
    fake.id = ins->label;
    fake.op = ins->op;
    fake.attrs = ins->attrs;
    fake.n_inputs = ins->n_in;
    fake.n_outputs = 1;
    fake.types = &grd_program_value (e->prog, ins->out[0])->type;
    GrdTensor *out = NULL;
    g_autoptr (GError) local = NULL;
    if (!ins->op->eval (&fake, in, &out, &local)) {
      g_set_error (error, GRD_ERROR, local ? local->code : GRD_ERROR_VALUE, "node '%s' (%s): %s",
                   ins->label, ins->op->name, local ? local->message : "failed");
      return FALSE;
    }
    grd_tensor_unref (e->slots[ins->out[0]]);
    e->slots[ins->out[0]] = out;
  }
  return TRUE;
}

/* *named is set when the error message already names the node (one of a
 * fused region's own instructions failed). */
static gboolean
run_instr (GrdExec *e, GrdInstr *ins, gboolean *named, GError **error)
{
  GrdTensor *in[ins->n_in + 1];
  for (gint j = 0; j < ins->n_in; j++)
    in[j] = e->slots[ins->in[j]];
  GrdTensor *out[ins->n_out + 1];
  switch (ins->kind) {
  case GRD_INSTR_OP: {
    GrdNode fake = { 0 };
    fake.id = ins->label;
    fake.op = ins->op;
    fake.attrs = ins->attrs;
    fake.n_inputs = ins->n_in;
    fake.n_outputs = ins->n_out;
    GrdType types[ins->n_out + 1];
    for (gint k = 0; k < ins->n_out; k++)
      types[k] = grd_program_value (e->prog, ins->out[k])->type;
    fake.types = types;
    memset (out, 0, sizeof (GrdTensor *) * ins->n_out);
    if (!ins->op->eval (&fake, in, out, error))
      return FALSE;
    break;
  }
  case GRD_INSTR_FUSED: {
    for (gint k = 0; k < ins->n_out; k++)
      out[k] = reusable (e, ins->out[k]);
    gboolean fallback = FALSE;
    g_autoptr (GError) local = NULL;
    if (!grd_fused_run (ins->fused, in, out, &fallback, &local)) {
      for (gint k = 0; k < ins->n_out; k++)
        grd_tensor_unref (out[k]);
      /* shapes that do not fit the loop, or an error: the original
       * instructions compute the values, or find which node fails */
      if (run_originals (e, ins->fused, error))
        return TRUE;
      *named = TRUE;
      return FALSE;
    }
    break;
  }
  case GRD_INSTR_KERNEL:
    out[0] = reusable (e, ins->out[0]);
    if (!ins->kernel (ins, in, out, error)) {
      grd_tensor_unref (out[0]);
      return FALSE;
    }
    break;
  case GRD_INSTR_GEMM:
    out[0] = reusable (e, ins->out[0]);
    if (!grd_kernel_gemm (ins, in, out, error)) {
      grd_tensor_unref (out[0]);
      return FALSE;
    }
    break;
  default:
    g_assert_not_reached ();
  }
  for (gint k = 0; k < ins->n_out; k++) {
    grd_tensor_unref (e->slots[ins->out[k]]);
    e->slots[ins->out[k]] = out[k];
  }
  return TRUE;
}

static gint64
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

gboolean
grd_exec_call (GrdExec *e, GrdTensor *const *inputs, GrdTensor **outputs, GError **error)
{
  GrdProgram *prog = e->prog;
  GrdGraph *g = prog->graph;
  for (guint v = 0; v < prog->values->len; v++) {
    GrdPValue *pv = grd_program_value (prog, v);
    if (pv->kind == GRD_PVALUE_INPUT) {
      grd_tensor_unref (e->slots[v]);
      e->slots[v] = grd_tensor_ref (inputs[pv->input_index]);
    } else if (pv->kind == GRD_PVALUE_SHARED) {
      GrdTensor *now = grd_graph_node (g, pv->shared_node)->value;
      GrdTensor *old = e->slots[v];
      if (old != now) {
        /* the buffer the last update replaced: recycle it */
        if (old && old->ref_count == 1 && e->spare->len < 64)
          g_ptr_array_add (e->spare, old);
        else
          grd_tensor_unref (old);
        e->slots[v] = grd_tensor_ref (now);
      }
    }
  }
  for (guint i = 0; i < prog->instrs->len; i++) {
    GrdInstr *ins = grd_program_instr (prog, i);
    gint64 t0 = e->profiling ? now_ns () : 0;
    g_autoptr (GError) local = NULL;
    gboolean named = FALSE;
    if (!run_instr (e, ins, &named, &local)) {
      if (named) {
        g_propagate_error (error, g_steal_pointer (&local));
        return FALSE;
      }
      g_set_error (error, GRD_ERROR, local ? local->code : GRD_ERROR_VALUE, "node '%s' (%s): %s",
                   ins->label ? ins->label : "?",
                   ins->op ? ins->op->name : ins->kind == GRD_INSTR_GEMM ? "dot" : "fused",
                   local ? local->message : "failed");
      return FALSE;
    }
    if (e->profiling) {
      GrdProfileEntry *p = &g_array_index (e->profile, GrdProfileEntry, i);
      p->calls++;
      p->total_us += (now_ns () - t0) / 1000.0;
      for (gint k = 0; k < ins->n_out; k++) {
        GrdTensor *t = e->slots[ins->out[k]];
        p->bytes += (guint64) t->size * grd_dtype_size (t->dtype);
      }
    }
  }
  /* every update is checked before any takes effect */
  for (guint u = 0; u < prog->upd_values->len; u++) {
    GrdNode *sn = grd_graph_node (g, g_array_index (prog->upd_shared, gint, u));
    GrdTensor *v = e->slots[g_array_index (prog->upd_values, gint, u)];
    if (!grd_tensor_same_shape (v, sn->value) || v->dtype != sn->value->dtype) {
      g_autofree char *want = grd_tensor_describe (sn->value);
      g_autofree char *got = grd_tensor_describe (v);
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                   "update of shared variable '%s': expected %s, got %s", sn->id, want, got);
      return FALSE;
    }
  }
  /* The caller owns its inputs and may write into them later: an output or
   * an update that is an input (after rewrites) gets a copy. */
  for (guint o = 0; o < prog->outputs->len; o++) {
    gint v = g_array_index (prog->outputs, gint, o);
    outputs[o] = grd_program_value (prog, v)->kind == GRD_PVALUE_INPUT ? grd_tensor_copy (e->slots[v])
                                                                       : grd_tensor_ref (e->slots[v]);
  }
  for (guint u = 0; u < prog->upd_values->len; u++) {
    GrdNode *sn = grd_graph_node (g, g_array_index (prog->upd_shared, gint, u));
    gint v = g_array_index (prog->upd_values, gint, u);
    grd_tensor_unref (sn->value);
    sn->value = grd_program_value (prog, v)->kind == GRD_PVALUE_INPUT ? grd_tensor_copy (e->slots[v])
                                                                      : grd_tensor_ref (e->slots[v]);
  }
  /* inputs are the caller's: do not hold them between calls */
  for (guint v = 0; v < prog->values->len; v++)
    if (grd_program_value (prog, v)->kind == GRD_PVALUE_INPUT)
      g_clear_pointer (&e->slots[v], grd_tensor_unref);
  return TRUE;
}
