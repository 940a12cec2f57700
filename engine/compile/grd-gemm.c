/* grd-gemm.c: matrix products as single BLAS calls: dot of matrices becomes
 * gemm, transposes of its operands become BLAS flags (never copies), and a
 * bias added to the product becomes gemm's C with beta = 1. */
#include "grd-exec.h"

#include <cblas.h>
#include <string.h>

#define SMALL_GEMM_FLOPS 8e6

static GrdInstr *
producer_op (GrdProgram *prog, gint v, const char *name)
{
  GrdPValue *pv = grd_program_value (prog, v);
  if (pv->kind != GRD_PVALUE_TEMP || pv->producer < 0)
    return NULL;
  GrdInstr *ins = grd_program_instr (prog, pv->producer);
  if (ins->kind != GRD_INSTR_OP || !g_str_equal (ins->op->name, name))
    return NULL;
  return ins;
}

static gboolean
is_matrix_transpose (GrdInstr *t)
{
  return t->attrs.n_perm == 0 || (t->attrs.n_perm == 2 && t->attrs.perm[0] == 1 && t->attrs.perm[1] == 0);
}

/* The gemm at index `g` now computes what `consumer` (its only reader)
 * computed: it takes over the consumer's value, which retires. */
static void
absorb (GrdProgram *prog, gint g, GrdInstr *consumer)
{
  GrdInstr *gm = grd_program_instr (prog, g);
  gint old = gm->out[0];
  gm->out[0] = consumer->out[0];
  grd_program_value (prog, consumer->out[0])->producer = g;
  char *label = g_strdup_printf ("%s+%s", gm->label, consumer->label);
  g_free (gm->label);
  gm->label = label;
  consumer->kind = GRD_INSTR_DEAD;
  grd_program_value (prog, old)->n_uses = 0;
}

gboolean
grd_pass_gemm (GrdProgram *prog)
{
  gboolean changed = FALSE;
  for (guint i = 0; i < prog->instrs->len; i++) {
    GrdInstr *ins = grd_program_instr (prog, i);
    /* dot, and the transposed products that dot's gradient rules build */
    if (ins->kind != GRD_INSTR_OP)
      continue;
    gboolean ta = g_str_equal (ins->op->name, "_dot_tn"), tb = g_str_equal (ins->op->name, "_dot_nt");
    if (!ta && !tb && !g_str_equal (ins->op->name, "dot"))
      continue;
    GrdPValue *a = grd_program_value (prog, ins->in[0]), *b = grd_program_value (prog, ins->in[1]);
    GrdDType dt = grd_program_value (prog, ins->out[0])->type.dtype;
    if (a->type.rank != 2 || b->type.rank != 2 || a->type.dtype != dt || b->type.dtype != dt
        || !grd_dtype_is_float (dt))
      continue;
    ins->kind = GRD_INSTR_GEMM;
    ins->alpha = 1.0;
    ins->beta = 0.0;
    ins->trans_a = ta;
    ins->trans_b = tb;
    for (gint s = 0; s < 2; s++) {
      GrdInstr *t = producer_op (prog, ins->in[s], "transpose");
      if (t && grd_program_value (prog, t->in[0])->type.rank == 2 && is_matrix_transpose (t)) {
        ins->in[s] = t->in[0];
        if (s == 0)
          ins->trans_a = !ins->trans_a;
        else
          ins->trans_b = !ins->trans_b;
      }
    }
    changed = TRUE;
  }
  if (!changed)
    return FALSE;
  /* uses changed: recount before looking for scales and bias additions */
  grd_program_sweep (prog);
  /* c * (A B) with a scalar constant c: gemm's alpha */
  for (guint i = 0; i < prog->instrs->len; i++) {
    GrdInstr *mul = grd_program_instr (prog, i);
    if (mul->kind != GRD_INSTR_OP || !g_str_equal (mul->op->name, "mul"))
      continue;
    for (gint s = 0; s < 2; s++) {
      GrdPValue *pv = grd_program_value (prog, mul->in[s]);
      GrdPValue *cv = grd_program_value (prog, mul->in[1 - s]);
      if (pv->kind != GRD_PVALUE_TEMP || pv->n_uses != 1 || cv->kind != GRD_PVALUE_CONSTANT
          || cv->constant->size != 1 || cv->type.rank > 2 || cv->type.dtype != pv->type.dtype)
        continue;
      GrdInstr *gm = grd_program_instr (prog, pv->producer);
      const GrdType *ot = &grd_program_value (prog, mul->out[0])->type;
      if (gm->kind != GRD_INSTR_GEMM || gm->n_in != 2 || ot->rank != 2 || ot->dtype != pv->type.dtype)
        continue;
      gm->alpha *= grd_tensor_get (cv->constant, 0);
      absorb (prog, pv->producer, mul);
      break;
    }
  }
  grd_program_sweep (prog);
  for (guint i = 0; i < prog->instrs->len; i++) {
    GrdInstr *add = grd_program_instr (prog, i);
    if (add->kind != GRD_INSTR_OP || !g_str_equal (add->op->name, "add"))
      continue;
    for (gint s = 0; s < 2; s++) {
      GrdPValue *pv = grd_program_value (prog, add->in[s]);
      if (pv->kind != GRD_PVALUE_TEMP || pv->n_uses != 1)
        continue;
      GrdInstr *gm = grd_program_instr (prog, pv->producer);
      if (gm->kind != GRD_INSTR_GEMM || gm->n_in != 2)
        continue;
      gint c = add->in[1 - s];
      GrdPValue *cv = grd_program_value (prog, c);
      const GrdType *ot = &grd_program_value (prog, add->out[0])->type;
      const GrdType *gt = &pv->type;
      /* the sum must have the product's type: C only broadcasts into it */
      gboolean same = ot->dtype == gt->dtype && ot->rank == 2 && cv->type.dtype == gt->dtype
                      && cv->type.rank <= 2 && ot->dims[0] == gt->dims[0] && ot->dims[1] == gt->dims[1];
      if (!same)
        continue;
      gm->in = g_renew (gint, gm->in, 3);
      gm->in[2] = c;
      gm->n_in = 3;
      gm->beta = 1.0;
      absorb (prog, pv->producer, add);
      break;
    }
  }
  return TRUE;
}

/* Writes C broadcast to [m, n] into o. */
static void
fill_bias (GrdTensor *o, GrdTensor *c, gint64 m, gint64 n)
{
  gsize es = grd_dtype_size (o->dtype);
  if (c->size == m * n) {
    memcpy (o->data, c->data, (gsize) (m * n) * es);
    return;
  }
  if (c->size == n && (c->rank == 1 || c->shape[0] == 1)) {
    for (gint64 r = 0; r < m; r++)
      memcpy ((char *) o->data + (gsize) (r * n) * es, c->data, (gsize) n * es);
    return;
  }
  gint64 sr = (c->rank == 2 && c->shape[0] != 1) ? (c->shape[1] == 1 ? 1 : n) : 0;
  gint64 sc = (c->rank >= 1 && c->shape[c->rank - 1] != 1) ? 1 : 0;
  for (gint64 r = 0; r < m; r++)
    for (gint64 k = 0; k < n; k++)
      grd_tensor_set (o, r * n + k, grd_tensor_get (c, r * sr + k * sc));
}

gboolean
grd_kernel_gemm (GrdInstr *ins, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdTensor *a = in[0], *b = in[1];
  gint64 m = ins->trans_a ? a->shape[1] : a->shape[0];
  gint64 k = ins->trans_a ? a->shape[0] : a->shape[1];
  gint64 kb = ins->trans_b ? b->shape[1] : b->shape[0];
  gint64 n = ins->trans_b ? b->shape[0] : b->shape[1];
  if (k != kb) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                 "matrix product of [%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT "] and [%" G_GINT64_FORMAT
                 ",%" G_GINT64_FORMAT "]: inner dimensions differ", m, k, kb, n);
    return FALSE;
  }
  gint64 shape[2] = { m, n };
  GrdTensor *o = *out;
  if (!(o && o->ref_count == 1 && o->dtype == a->dtype && o->rank == 2 && o->shape[0] == m
        && o->shape[1] == n)) {
    grd_tensor_unref (o);
    o = grd_tensor_try_new (a->dtype, 2, shape, error);
  }
  *out = o;
  if (!o)
    return FALSE;
  double beta = 0.0;
  if (ins->n_in == 3) {
    GrdTensor *c = in[2];
    gboolean fits = c->rank <= 2;
    for (gint d = 0; fits && d < c->rank; d++)
      fits = c->shape[d] == 1 || c->shape[d] == shape[2 - c->rank + d];
    if (!fits) {
      g_autofree char *cs = grd_tensor_describe (c);
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "%s does not broadcast to [%" G_GINT64_FORMAT
                   ",%" G_GINT64_FORMAT "]", cs, m, n);
      return FALSE;
    }
    fill_bias (o, c, m, n);
    beta = ins->beta;
  }
  if (m == 0 || n == 0)
    return TRUE;
  if (k == 0) {
    if (beta == 0.0)
      memset (o->data, 0, (gsize) (m * n) * grd_dtype_size (o->dtype));
    return TRUE;
  }
  gint lda = (gint) a->shape[1], ldb = (gint) b->shape[1];
  /* Small products on one thread: waking OpenBLAS's threads costs more than
   * they save below a few million flops (a 256x512x10 product took 1 ms on
   * two threads and 0.1 ms on one). */
  gboolean small = 2.0 * m * n * k < SMALL_GEMM_FLOPS;
  gint threads = small ? openblas_get_num_threads () : 1;
  if (small && threads > 1)
    openblas_set_num_threads (1);
  if (a->dtype == GRD_DTYPE_FLOAT32)
    cblas_sgemm (CblasRowMajor, ins->trans_a ? CblasTrans : CblasNoTrans,
                 ins->trans_b ? CblasTrans : CblasNoTrans, (gint) m, (gint) n, (gint) k,
                 (float) ins->alpha, a->data, lda, b->data, ldb, (float) beta, o->data, (gint) n);
  else
    cblas_dgemm (CblasRowMajor, ins->trans_a ? CblasTrans : CblasNoTrans,
                 ins->trans_b ? CblasTrans : CblasNoTrans, (gint) m, (gint) n, (gint) k,
                 ins->alpha, a->data, lda, b->data, ldb, beta, o->data, (gint) n);
  if (small && threads > 1)
    openblas_set_num_threads (threads);
  return TRUE;
}
