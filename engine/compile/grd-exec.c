/* grd-exec.c: the compiled function's calls, and their memory plan.
 *
 * A value's buffer goes back to a pool right after its last reader, and the
 * fused loops, BLAS calls and kernels that come later take their outputs from
 * that pool (same dtype and number of elements), or write in place over an
 * input that dies with them. The pool lives from call to call, so in the
 * steady state nothing is allocated and no fresh page is touched (fresh pages
 * cost page faults: NOTES.md). A shared variable's old buffer, free once its
 * update has taken effect, joins the pool too: double buffering. */
#include "grd-exec.h"
#include "grd-fuse.h"
#include "grd-scalar-program.h"

#include <string.h>
#include <time.h>

struct _GrdExec {
  GrdProgram *prog;
  GrdTensor **slots;      /* per value id */
  GPtrArray  *spare;      /* the pool of free buffers */
  gint       *last_use;   /* per value: index of the last instruction reading it, -1 */
  gboolean   *keep;       /* per value: must survive the call (output, update, not a temp) */
  guint       pool_cap;   /* buffers the pool keeps: as many as the steps that can use them */
  gboolean    profiling;
  GArray     *profile;    /* GrdProfileEntry per instruction */
  GrdScalarProgram *scalar;  /* straight-line form, when every value is a float scalar */
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
  e->last_use = g_new (gint, MAX (prog->values->len, 1));
  e->keep = g_new0 (gboolean, MAX (prog->values->len, 1));
  for (guint v = 0; v < prog->values->len; v++) {
    e->last_use[v] = -1;
    e->keep[v] = grd_program_value (prog, v)->kind != GRD_PVALUE_TEMP;
  }
  for (guint i = 0; i < prog->instrs->len; i++) {
    GrdInstr *ins = grd_program_instr (prog, i);
    for (gint j = 0; j < ins->n_in; j++)
      e->last_use[ins->in[j]] = i;
  }
  for (guint i = 0; i < prog->instrs->len; i++) {
    GrdInstr *ins = grd_program_instr (prog, i);
    if (ins->kind != GRD_INSTR_OP)
      e->pool_cap += ins->n_out;
  }
  e->pool_cap += prog->upd_values->len;
  for (guint o = 0; o < prog->outputs->len; o++)
    e->keep[g_array_index (prog->outputs, gint, o)] = TRUE;
  for (guint u = 0; u < prog->upd_values->len; u++)
    e->keep[g_array_index (prog->upd_values, gint, u)] = TRUE;
  e->scalar = grd_scalar_program_new (prog);
  e->profile = g_array_new (FALSE, TRUE, sizeof (GrdProfileEntry));
  g_array_set_size (e->profile, prog->instrs->len);
  for (guint i = 0; i < prog->instrs->len; i++) {
    GrdInstr *ins = grd_program_instr (prog, i);
    GrdProfileEntry *p = &g_array_index (e->profile, GrdProfileEntry, i);
    p->label = ins->label ? ins->label : "";
    p->kind = ins->kind == GRD_INSTR_FUSED ? "fused" : ins->kind == GRD_INSTR_GEMM ? "gemm" : ins->op->name;
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
  g_free (e->last_use);
  g_free (e->keep);
  grd_scalar_program_free (e->scalar);
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

/* A buffer for value v of `dtype` and `shape`: the slot's own if nobody
 * else holds it, else one from the pool with as many elements (its shape is
 * rewritten: we hold the only reference), else NULL (the kernel allocates). */
static GrdTensor *
take_buffer (GrdExec *e, gint v, GrdDType dtype, gint rank, const gint64 *shape)
{
  GrdTensor *t = e->slots[v];
  if (t && t->ref_count == 1)
    return g_steal_pointer (&e->slots[v]);
  g_clear_pointer (&e->slots[v], grd_tensor_unref);
  if (rank < 0)
    return NULL;
  gint64 size = grd_shape_size (rank, shape);
  for (guint i = 0; i < e->spare->len; i++) {
    GrdTensor *s = g_ptr_array_index (e->spare, i);
    if (s->dtype == dtype && s->size == size) {
      s = g_ptr_array_steal_index (e->spare, i);
      s->rank = rank;
      memcpy (s->shape, shape, sizeof (gint64) * rank);
      return s;
    }
  }
  return NULL;
}

/* Into the pool; when it is full the oldest buffer goes, so buffers of the
 * sizes still asked for stay and the pool never grows past its cap. */
static void
give_back (GrdExec *e, GrdTensor *t)
{
  if (!t || t->ref_count != 1 || e->pool_cap == 0) {
    grd_tensor_unref (t);
    return;
  }
  if (e->spare->len >= e->pool_cap)
    g_ptr_array_remove_index (e->spare, 0);
  g_ptr_array_add (e->spare, t);
}

/* The shape a fused loop, gemm or kernel will give its output k; rank -1
 * when it cannot be told beforehand. */
static gint
predict_shape (GrdInstr *ins, GrdTensor *const *in, gint k, gint64 *shape)
{
  gint rank = -1;
  switch (ins->kind) {
  case GRD_INSTR_FUSED:
    if (ins->fused->reduce_sum && k == 0) {
      memcpy (shape, ins->fused->red_shape, sizeof (gint64) * ins->fused->red_rank);
      return ins->fused->red_rank;
    }
    if (!grd_broadcast_shapes (in, ins->n_in, &rank, shape, NULL))
      return -1;
    return rank;
  case GRD_INSTR_GEMM:
    if (in[0]->rank != 2 || in[1]->rank != 2)
      return -1;
    shape[0] = ins->trans_a ? in[0]->shape[1] : in[0]->shape[0];
    shape[1] = ins->trans_b ? in[1]->shape[0] : in[1]->shape[1];
    return 2;
  case GRD_INSTR_KERNEL: {
    if (ins->kernel_shape)
      return ins->kernel_shape (ins, in, shape);
    /* softmax keeps its input's shape; _reduce_to gives its second input's */
    const GrdTensor *like = g_str_equal (ins->op->name, "_reduce_to") ? in[1] : in[0];
    memcpy (shape, like->shape, sizeof (gint64) * like->rank);
    return like->rank;
  }
  default:
    return -1;
  }
}

/* Output k of a fused loop may overwrite input j when j dies here, is a
 * temporary nobody else holds, has the output's dtype and shape, and the
 * loop reads it only before the op that writes the output. */
static gint
in_place_input (GrdExec *e, GrdInstr *ins, gint index, GrdTensor *const *in, gint k, gint rank,
                const gint64 *shape)
{
  GrdFused *f = ins->fused;
  if (f->reduce_sum && k == 0)
    return -1;
  for (gint j = 0; j < ins->n_in; j++) {
    gint v = ins->in[j];
    GrdTensor *t = in[j];
    if (e->keep[v] || e->last_use[v] != index || !t || t->ref_count != 1 || t != e->slots[v]
        || t->dtype != f->out_dtypes[k] || t->rank != rank
        || memcmp (t->shape, shape, sizeof (gint64) * rank) != 0 || !grd_fused_in_place_ok (f, j, k))
      continue;
    /* the same value twice among the inputs cannot be overwritten */
    gboolean twice = FALSE;
    for (gint m = 0; m < ins->n_in; m++)
      twice |= m != j && ins->in[m] == v;
    if (!twice)
      return j;
  }
  return -1;
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
run_instr (GrdExec *e, GrdInstr *ins, gint index, gboolean *named, GError **error)
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
    gint stolen[ins->n_out + 1];
    for (gint k = 0; k < ins->n_out; k++) {
      stolen[k] = -1;
      gint64 shape[GRD_MAX_RANK];
      gint rank = predict_shape (ins, in, k, shape);
      gint j = rank >= 0 ? in_place_input (e, ins, index, in, k, rank, shape) : -1;
      if (j >= 0) {
        /* the input's slot hands its buffer to the output */
        stolen[k] = j;
        out[k] = g_steal_pointer (&e->slots[ins->in[j]]);
        grd_tensor_unref (e->slots[ins->out[k]]);
        e->slots[ins->out[k]] = NULL;
      } else {
        out[k] = take_buffer (e, ins->out[k], ins->fused->out_dtypes[k], rank, shape);
        /* allocated here, where a failure is an error of this node: the
         * original instructions would only fail the same way */
        if (!out[k] && rank >= 0
            && !(out[k] = grd_fused_new_output (ins->fused, k, rank, shape, error))) {
          for (gint m = 0; m < k; m++) {
            if (stolen[m] >= 0)
              e->slots[ins->in[stolen[m]]] = out[m];
            else
              grd_tensor_unref (out[m]);
          }
          return FALSE;
        }
      }
    }
    gboolean fallback = FALSE;
    g_autoptr (GError) local = NULL;
    if (!grd_fused_run (ins->fused, in, out, &fallback, &local)) {
      for (gint k = 0; k < ins->n_out; k++) {
        if (stolen[k] >= 0)
          e->slots[ins->in[stolen[k]]] = out[k];   /* the input again, for the originals */
        else
          grd_tensor_unref (out[k]);
      }
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
  case GRD_INSTR_GEMM: {
    gint64 shape[GRD_MAX_RANK];
    gint rank = predict_shape (ins, in, 0, shape);
    out[0] = take_buffer (e, ins->out[0], grd_program_value (e->prog, ins->out[0])->type.dtype, rank,
                          shape);
    gboolean ok = ins->kind == GRD_INSTR_GEMM ? grd_kernel_gemm (ins, in, out, error)
                                              : ins->kernel (ins, in, out, error);
    if (!ok) {
      grd_tensor_unref (out[0]);
      return FALSE;
    }
    break;
  }
  default:
    g_assert_not_reached ();
  }
  for (gint k = 0; k < ins->n_out; k++) {
    grd_tensor_unref (e->slots[ins->out[k]]);
    e->slots[ins->out[k]] = out[k];
  }
  /* values read for the last time go back to the pool */
  for (gint j = 0; j < ins->n_in; j++) {
    gint v = ins->in[j];
    if (!e->keep[v] && e->last_use[v] == index && e->slots[v])
      give_back (e, g_steal_pointer (&e->slots[v]));
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
grd_exec_is_scalar (GrdExec *e)
{
  return e->scalar != NULL;
}

gboolean
grd_exec_call_scalar (GrdExec *e, GrdTensor *const *inputs, GrdTensor **outputs)
{
  /* profiles count the general path's instructions */
  return e->scalar && !e->profiling && grd_scalar_program_call (e->scalar, inputs, outputs);
}

gboolean
grd_exec_call_doubles (GrdExec *e, const double *in, double *out)
{
  return e->scalar && !e->profiling && grd_scalar_program_call_doubles (e->scalar, in, out);
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
        give_back (e, old);
        e->slots[v] = grd_tensor_ref (now);
      }
    }
  }
  for (guint i = 0; i < prog->instrs->len; i++) {
    GrdInstr *ins = grd_program_instr (prog, i);
    gint64 t0 = e->profiling ? now_ns () : 0;
    g_autoptr (GError) local = NULL;
    gboolean named = FALSE;
    if (!run_instr (e, ins, i, &named, &local)) {
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
