/* grd-fuse.c: elementwise fusion (the pass) and the fused loop (its executor).
 *
 * The pass groups elementwise instructions of one float dtype and one static
 * shape into regions, with an optional full sum at the end, and replaces each
 * region by one GRD_INSTR_FUSED instruction. The executor runs a region's
 * register program over blocks of a few hundred elements that stay in L1:
 * contiguous inputs and outputs are read and written in place, broadcast
 * inputs are gathered per block, and large loops are split into a fixed
 * number of chunks (so results never depend on the thread count). */
#include "grd-fuse.h"

#include <math.h>
#include <string.h>

#define MAX_REGION_OPS 96
#define MAX_REGION_INPUTS 48

void
grd_fused_free (GrdFused *f)
{
  if (!f)
    return;
  g_array_unref (f->ops);
  g_free (f->out_regs);
  g_free (f->out_dtypes);
  g_free (f->out_deps);
  for (guint i = 0; i < f->originals->len; i++) {
    GrdInstr *ins = &g_array_index (f->originals, GrdInstr, i);
    g_free (ins->in);
    g_free (ins->out);
    g_free (ins->label);
  }
  g_array_unref (f->originals);
  g_free (f);
}

gboolean
grd_fused_in_place_ok (GrdFused *f, gint j, gint k)
{
  gint last_read = -1, writer = -1;
  for (guint i = 0; i < f->ops->len; i++) {
    GrdFusedOp *op = &g_array_index (f->ops, GrdFusedOp, i);
    if (op->a == j || op->b == j || op->c == j)
      last_read = i;
    if (op->dst == f->out_regs[k] && writer < 0)
      writer = i;
  }
  return writer >= 0 && last_read < writer;
}

char *
grd_fused_describe (GrdFused *f)
{
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < f->originals->len; i++) {
    GrdInstr *ins = &g_array_index (f->originals, GrdInstr, i);
    g_string_append_printf (s, "%s%s", i ? " " : "", ins->op->name);
  }
  const char *what = f->reduce_best > 0 ? "max" : f->reduce_best < 0 ? "min" : f->reduce_mean ? "mean" : "sum";
  if (f->reduce_sum && f->reduce_axis)
    g_string_append_printf (s, " (%s over axes fused)", what);
  else if (f->reduce_sum)
    g_string_append_printf (s, " (%s fused)", what);
  return g_string_free (s, FALSE);
}

/* ------------------------------------------------------------ the pass */

typedef struct {
  GrdDType dtype;
  GrdType  type;         /* static shape of the loop */
  gint     first_pos;
  GArray  *members;      /* instruction indices, in order */
  gint     reduce;       /* instruction index of the fused sum, or -1 */
} Region;

static gboolean
dims_equal (const GrdType *a, const GrdType *b)
{
  if (a->rank != b->rank)
    return FALSE;
  for (gint i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i])
      return FALSE;
  return TRUE;
}

/* The float dtype the instruction computes in, or -1 if it cannot be fused. */
static gint
fusable_dtype (GrdProgram *prog, GrdInstr *ins)
{
  if (ins->kind != GRD_INSTR_OP || ins->n_out != 1 || grd_elementwise_code (ins->op) < 0)
    return -1;
  GrdDType out = grd_program_value (prog, ins->out[0])->type.dtype;
  gint f = grd_dtype_is_float (out) ? (gint) out : -1;
  for (gint j = 0; j < ins->n_in; j++) {
    GrdDType d = grd_program_value (prog, ins->in[j])->type.dtype;
    if (d == GRD_DTYPE_BOOL)
      continue;
    if (!grd_dtype_is_float (d) || (f >= 0 && (gint) d != f))
      return -1;
    f = d;
  }
  if (out != GRD_DTYPE_BOOL && (gint) out != f)
    return -1;
  if (grd_elementwise_code (ins->op) == GRD_ELEM_CAST && out == GRD_DTYPE_BOOL)
    return -1;
  return f;
}

/* A sum or mean over some axes, or a _reduce_to, of a value whose static
 * shape is fully known and whose reduced axes (size-1 axes aside) form one
 * run: its layout [outer, n, inner] (n reduced) into lay. _reduce_to's
 * second operand must outlive the call (not a temporary): the fused loop
 * does not read it, but the originals do when they run instead. */
static gboolean
axis_reduce_layout (GrdProgram *prog, GrdInstr *ins, gint64 *lay)
{
  const GrdType *t = &grd_program_value (prog, ins->in[0])->type;
  const GrdType *ot = &grd_program_value (prog, ins->out[0])->type;
  gboolean mask[GRD_MAX_RANK] = { 0 };
  for (gint d = 0; d < t->rank; d++)
    if (t->dims[d] < 0)
      return FALSE;
  for (gint d = 0; d < ot->rank; d++)
    if (ot->dims[d] < 0)
      return FALSE;
  if (g_str_equal (ins->op->name, "_reduce_to")) {
    if (ins->n_in != 2 || grd_program_value (prog, ins->in[1])->kind == GRD_PVALUE_TEMP)
      return FALSE;
    const GrdType *lt = &grd_program_value (prog, ins->in[1])->type;
    gint lead = t->rank - lt->rank;
    if (lead < 0)
      return FALSE;
    for (gint d = 0; d < t->rank; d++) {
      gint k = d - lead;
      if (k >= 0 && (lt->dims[k] < 0 || (lt->dims[k] != 1 && lt->dims[k] != t->dims[d])))
        return FALSE;
      mask[d] = k < 0 || lt->dims[k] == 1;
    }
  } else if (!ins->attrs.has_axis || !grd_axes_mask (&ins->attrs, t->rank, mask, NULL)) {
    return FALSE;
  }
  lay[0] = lay[1] = lay[2] = 1;
  gint state = 0;   /* 0 before the reduced run, 1 in it, 2 after it */
  for (gint d = 0; d < t->rank; d++) {
    if (t->dims[d] == 1)
      continue;
    if (mask[d]) {
      if (state == 2)
        return FALSE;
      state = 1;
      lay[1] *= t->dims[d];
    } else if (state == 0) {
      lay[0] *= t->dims[d];
    } else {
      state = 2;
      lay[2] *= t->dims[d];
    }
  }
  return lay[0] * lay[1] * lay[2] > 0;
}

static void
build_fused (GrdProgram *prog, Region *r, const gint *region_of, guint n_marked)
{
  GrdFused *f = g_new0 (GrdFused, 1);
  f->dtype = r->dtype;
  f->ops = g_array_new (FALSE, FALSE, sizeof (GrdFusedOp));
  f->originals = g_array_new (FALSE, FALSE, sizeof (GrdInstr));
  g_autoptr (GHashTable) reg_of = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autoptr (GArray) inputs = g_array_new (FALSE, FALSE, sizeof (gint));
  /* inputs: values read by members and produced outside */
  for (guint m = 0; m < r->members->len; m++) {
    GrdInstr *ins = grd_program_instr (prog, g_array_index (r->members, gint, m));
    for (gint j = 0; j < ins->n_in; j++) {
      gint v = ins->in[j];
      GrdPValue *pv = grd_program_value (prog, v);
      /* producers past n_marked are fused instructions made just now */
      gboolean inside = pv->kind == GRD_PVALUE_TEMP && pv->producer >= 0
                        && (guint) pv->producer < n_marked
                        && region_of[pv->producer] == region_of[g_array_index (r->members, gint, 0)]
                        && pv->producer != r->reduce;
      if (!inside && !g_hash_table_contains (reg_of, GINT_TO_POINTER (v + 1))) {
        g_hash_table_insert (reg_of, GINT_TO_POINTER (v + 1), GINT_TO_POINTER (inputs->len));
        g_array_append_val (inputs, v);
      }
    }
  }
  f->n_in = inputs->len;
  gint next = f->n_in;
  g_autofree guint64 *deps = g_new0 (guint64, f->n_in + r->members->len + 1);
  for (gint i = 0; i < f->n_in; i++)
    deps[i] = G_GUINT64_CONSTANT (1) << i;
  /* in-region uses of each member output, to find what must be stored */
  g_autoptr (GHashTable) inner_uses = g_hash_table_new (g_direct_hash, g_direct_equal);
  for (guint m = 0; m < r->members->len; m++) {
    GrdInstr *ins = grd_program_instr (prog, g_array_index (r->members, gint, m));
    GrdFusedOp op = { 0 };
    op.code = grd_elementwise_code (ins->op);
    guint8 regs[3] = { 0, 0, 0 };
    guint64 d = 0;
    for (gint j = 0; j < ins->n_in && j < 3; j++) {
      regs[j] = GPOINTER_TO_INT (g_hash_table_lookup (reg_of, GINT_TO_POINTER (ins->in[j] + 1)));
      d |= deps[regs[j]];
      gpointer key = GINT_TO_POINTER (ins->in[j] + 1);
      g_hash_table_insert (inner_uses, key,
                           GINT_TO_POINTER (GPOINTER_TO_INT (g_hash_table_lookup (inner_uses, key)) + 1));
    }
    op.a = regs[0];
    op.b = regs[1];
    op.c = regs[2];
    op.dst = next++;
    deps[op.dst] = d;
    g_hash_table_insert (reg_of, GINT_TO_POINTER (ins->out[0] + 1), GINT_TO_POINTER (op.dst));
    g_array_append_val (f->ops, op);
  }
  f->n_regs = next;
  /* outputs: the fused sum first, then member values read outside the region */
  g_autoptr (GArray) outs = g_array_new (FALSE, FALSE, sizeof (gint));
  g_autoptr (GArray) out_regs = g_array_new (FALSE, FALSE, sizeof (gint));
  if (r->reduce >= 0) {
    GrdInstr *s = grd_program_instr (prog, r->reduce);
    gint reg = GPOINTER_TO_INT (g_hash_table_lookup (reg_of, GINT_TO_POINTER (s->in[0] + 1)));
    g_array_append_val (outs, s->out[0]);
    g_array_append_val (out_regs, reg);
    f->reduce_sum = TRUE;
    f->reduce_mean = g_str_equal (s->op->name, "mean");
    f->reduce_best = g_str_equal (s->op->name, "max") ? 1 : g_str_equal (s->op->name, "min") ? -1 : 0;
    const GrdType *ot = &grd_program_value (prog, s->out[0])->type;
    gint64 lay[3];
    if (ot->rank > 0 && axis_reduce_layout (prog, s, lay)) {
      const GrdType *lt = &grd_program_value (prog, s->in[0])->type;
      f->reduce_axis = TRUE;
      f->red_outer = lay[0];
      f->red_n = lay[1];
      f->red_inner = lay[2];
      f->loop_rank = lt->rank;
      memcpy (f->loop_dims, lt->dims, sizeof (gint64) * lt->rank);
      f->red_rank = ot->rank;
      memcpy (f->red_shape, ot->dims, sizeof (gint64) * ot->rank);
    }
    gpointer key = GINT_TO_POINTER (s->in[0] + 1);
    g_hash_table_insert (inner_uses, key,
                         GINT_TO_POINTER (GPOINTER_TO_INT (g_hash_table_lookup (inner_uses, key)) + 1));
  }
  for (guint m = 0; m < r->members->len; m++) {
    GrdInstr *ins = grd_program_instr (prog, g_array_index (r->members, gint, m));
    gint v = ins->out[0];
    gint inner = GPOINTER_TO_INT (g_hash_table_lookup (inner_uses, GINT_TO_POINTER (v + 1)));
    if (grd_program_value (prog, v)->n_uses > inner) {
      gint reg = GPOINTER_TO_INT (g_hash_table_lookup (reg_of, GINT_TO_POINTER (v + 1)));
      g_array_append_val (outs, v);
      g_array_append_val (out_regs, reg);
    }
  }
  f->n_out = outs->len;
  f->out_regs = g_new (gint, MAX (f->n_out, 1));
  f->out_dtypes = g_new (GrdDType, MAX (f->n_out, 1));
  f->out_deps = g_new (guint64, MAX (f->n_out, 1));
  for (gint k = 0; k < f->n_out; k++) {
    f->out_regs[k] = g_array_index (out_regs, gint, k);
    f->out_dtypes[k] = grd_program_value (prog, g_array_index (outs, gint, k))->type.dtype;
    f->out_deps[k] = deps[f->out_regs[k]];
  }
  /* keep the originals for the fallback path, then retire them */
  GString *label = g_string_new (NULL);
  for (guint m = 0; m <= r->members->len; m++) {
    gint idx = m < r->members->len ? g_array_index (r->members, gint, m) : r->reduce;
    if (idx < 0)
      continue;
    GrdInstr *ins = grd_program_instr (prog, idx);
    GrdInstr copy = *ins;
    copy.in = g_memdup2 (ins->in, sizeof (gint) * MAX (ins->n_in, 1));
    copy.out = g_memdup2 (ins->out, sizeof (gint) * MAX (ins->n_out, 1));
    copy.label = g_strdup (ins->label);
    g_array_append_val (f->originals, copy);
    g_string_append_printf (label, "%s%s", label->len ? "+" : "", ins->label ? ins->label : ins->op->name);
    ins->kind = GRD_INSTR_DEAD;
  }
  GrdInstr fused = { 0 };
  fused.kind = GRD_INSTR_FUSED;
  fused.fused = f;
  fused.n_in = inputs->len;
  fused.in = g_memdup2 (inputs->data, sizeof (gint) * MAX (inputs->len, 1));
  fused.n_out = outs->len;
  fused.out = g_memdup2 (outs->data, sizeof (gint) * MAX (outs->len, 1));
  fused.label = g_string_free (label, FALSE);
  grd_attrs_init (&fused.attrs);
  for (gint k = 0; k < fused.n_out; k++)
    grd_program_value (prog, fused.out[k])->producer = prog->instrs->len;
  g_array_append_val (prog->instrs, fused);
}

/* Whether `ins` may join the union of regions `set` without making a cycle:
 * every value the union and `ins` read is computed inside the union (not as
 * its final sum) or before the union's first instruction. */
static gboolean
can_join (GrdProgram *prog, GPtrArray *regions, const gint *region_of, const gint *set, gint n_set,
          GrdInstr *ins)
{
  gint first = G_MAXINT, n_reduce = 0, size = 1;
  for (gint c = 0; c < n_set; c++) {
    Region *r = g_ptr_array_index (regions, set[c]);
    first = MIN (first, r->first_pos);
    n_reduce += r->reduce >= 0;
    size += r->members->len;
  }
  if (n_reduce > 1 || size > MAX_REGION_OPS)
    return FALSE;
  for (gint c = 0; c <= n_set; c++) {
    GArray *members = c < n_set ? ((Region *) g_ptr_array_index (regions, set[c]))->members : NULL;
    guint count = members ? members->len : 1;
    for (guint m = 0; m < count; m++) {
      GrdInstr *mi = members ? grd_program_instr (prog, g_array_index (members, gint, m)) : ins;
      for (gint j = 0; j < mi->n_in; j++) {
        GrdPValue *w = grd_program_value (prog, mi->in[j]);
        if (w->kind != GRD_PVALUE_TEMP || w->producer < first)
          continue;
        gint rw = w->producer < (gint) prog->instrs->len ? region_of[w->producer] : -1;
        gboolean inside = FALSE;
        for (gint k = 0; k < n_set; k++)
          inside |= rw == set[k] && w->producer != ((Region *) g_ptr_array_index (regions, set[k]))->reduce;
        if (!inside)
          return FALSE;
      }
    }
  }
  return TRUE;
}

static gint
compare_int (gconstpointer a, gconstpointer b)
{
  return *(const gint *) a - *(const gint *) b;
}

/* Moves every region of `set` into the one that starts first; returns it. */
static gint
merge_regions (GPtrArray *regions, gint *region_of, const gint *set, gint n_set)
{
  gint into = set[0];
  for (gint c = 1; c < n_set; c++)
    if (((Region *) g_ptr_array_index (regions, set[c]))->first_pos
        < ((Region *) g_ptr_array_index (regions, into))->first_pos)
      into = set[c];
  Region *dst = g_ptr_array_index (regions, into);
  for (gint c = 0; c < n_set; c++) {
    if (set[c] == into)
      continue;
    Region *src = g_ptr_array_index (regions, set[c]);
    for (guint m = 0; m < src->members->len; m++) {
      gint idx = g_array_index (src->members, gint, m);
      g_array_append_val (dst->members, idx);
      region_of[idx] = into;
    }
    if (src->reduce >= 0) {
      dst->reduce = src->reduce;
      region_of[src->reduce] = into;
    }
    g_array_set_size (src->members, 0);
    src->reduce = -1;
  }
  /* members in program order, which is an order of dependencies */
  g_array_sort (dst->members, compare_int);
  return into;
}

/* The region of the instruction that computes v, or -1; only instructions
 * before `i` have been placed yet. */
static gint
region_of_value (GrdProgram *prog, const gint *region_of, gint v, guint i)
{
  GrdPValue *pv = grd_program_value (prog, v);
  if (pv->kind != GRD_PVALUE_TEMP || pv->producer < 0 || (guint) pv->producer >= i)
    return -1;
  return region_of[pv->producer];
}

gboolean
grd_pass_fuse (GrdProgram *prog)
{
  guint n = prog->instrs->len;
  if (n == 0)
    return FALSE;
  g_autofree gint *region_of = g_new (gint, n);
  for (guint i = 0; i < n; i++)
    region_of[i] = -1;
  g_autoptr (GPtrArray) regions = g_ptr_array_new ();
  for (guint i = 0; i < n; i++) {
    region_of[i] = -1;
    GrdInstr *ins = grd_program_instr (prog, i);
    /* a full sum or mean of a region value read nowhere else ends that
     * region: sum(x**2), mean((y - t)**2), sum(a*b) never store the values */
    /* and so does a sum or mean over one run of axes, or a _reduce_to (a
     * bias gradient), of a value of known shape: sum(x**2, axis=1) */
    gint64 lay[3];
    if (ins->kind == GRD_INSTR_OP
        && (g_str_equal (ins->op->name, "sum") || g_str_equal (ins->op->name, "mean")
            || g_str_equal (ins->op->name, "max") || g_str_equal (ins->op->name, "min")
            || g_str_equal (ins->op->name, "_reduce_to"))) {
      GrdPValue *u = grd_program_value (prog, ins->in[0]);
      gboolean reduce_to = g_str_equal (ins->op->name, "_reduce_to");
      gboolean all_axes = reduce_to ? ins->n_in == 2 && grd_program_value (prog, ins->out[0])->type.rank == 0
                                        && grd_program_value (prog, ins->in[1])->kind != GRD_PVALUE_TEMP
                                    : !ins->attrs.keepdims
                                        && (!ins->attrs.has_axis || ins->attrs.n_axes == u->type.rank);
      gboolean axes = !all_axes && grd_program_value (prog, ins->out[0])->type.rank > 0
                      && axis_reduce_layout (prog, ins, lay);
      gint ru = region_of_value (prog, region_of, ins->in[0], i);
      if ((all_axes || axes) && u->n_uses == 1 && ru >= 0
          && grd_program_value (prog, ins->out[0])->type.dtype == u->type.dtype) {
        Region *r = g_ptr_array_index (regions, ru);
        if (r->reduce < 0 && (GrdDType) r->dtype == u->type.dtype) {
          r->reduce = i;
          region_of[i] = ru;
          continue;
        }
      }
    }
    gint f = fusable_dtype (prog, ins);
    if (f < 0)
      continue;
    const GrdType *ot = &grd_program_value (prog, ins->out[0])->type;
    /* the compatible regions that compute an input of this instruction */
    gint cand[8], n_cand = 0;
    for (gint j = 0; j < ins->n_in && n_cand < 8; j++) {
      GrdPValue *u = grd_program_value (prog, ins->in[j]);
      gint ri = region_of_value (prog, region_of, ins->in[j], i);
      if (ri < 0)
        continue;
      Region *r = g_ptr_array_index (regions, ri);
      if (u->producer == r->reduce || (gint) r->dtype != f || !dims_equal (&r->type, ot)
          || r->members->len >= MAX_REGION_OPS)
        continue;
      gboolean dup = FALSE;
      for (gint c = 0; c < n_cand; c++)
        dup |= cand[c] == ri;
      if (!dup)
        cand[n_cand++] = ri;
    }
    /* first all of them merged with it, then each alone */
    gint chosen = -1;
    if (n_cand > 1 && can_join (prog, regions, region_of, cand, n_cand, ins))
      chosen = merge_regions (regions, region_of, cand, n_cand);
    for (gint c = 0; c < n_cand && chosen < 0; c++)
      if (can_join (prog, regions, region_of, &cand[c], 1, ins))
        chosen = cand[c];
    if (chosen < 0) {
      Region *r = g_new0 (Region, 1);
      r->dtype = f;
      r->type = *ot;
      r->first_pos = i;
      r->members = g_array_new (FALSE, FALSE, sizeof (gint));
      r->reduce = -1;
      g_ptr_array_add (regions, r);
      chosen = regions->len - 1;
    }
    Region *r = g_ptr_array_index (regions, chosen);
    gint ii = i;
    g_array_append_val (r->members, ii);
    region_of[i] = chosen;
  }
  for (guint k = 0; k < regions->len; k++) {
    Region *r = g_ptr_array_index (regions, k);
    /* a region with more inputs than the dependency masks hold stays unfused */
    g_autoptr (GHashTable) ins_set = g_hash_table_new (g_direct_hash, g_direct_equal);
    for (guint m = 0; m < r->members->len; m++) {
      GrdInstr *ins = grd_program_instr (prog, g_array_index (r->members, gint, m));
      for (gint j = 0; j < ins->n_in; j++)
        g_hash_table_add (ins_set, GINT_TO_POINTER (ins->in[j] + 1));
    }
    if (r->members->len > 0 && g_hash_table_size (ins_set) <= MAX_REGION_INPUTS)
      build_fused (prog, r, region_of, n);
    g_array_unref (r->members);
    g_free (r);
  }
  return regions->len > 0;
}

/* ------------------------------------------------------------ the executor */

#define BLOCK_F32 512
#define BLOCK_F64 256
#define BLOCKS_PER_CHUNK 32

typedef struct {
  GrdFused   *f;
  GrdTensor *const *in;
  GrdTensor **out;
  gint        rank;
  gint64      shape[GRD_MAX_RANK];
  gint64      total;
  gint64      strides[MAX_REGION_INPUTS][GRD_MAX_RANK];
  gboolean    direct[MAX_REGION_INPUTS];   /* contiguous, full shape, register dtype */
  gint        out_of_reg[256];             /* output index writing each register, -1 */
  gint        block;
  gint64      chunk;                       /* elements per task */
  double     *partial;                     /* per task, fused sum */
} Run;

/* Copies n elements of source type TS, `step` apart from `src`, into the
 * register block at e as TD: one tight loop per run, no per-element switch. */
#define GATHER_RUN(TS, TD)                                                    \
  do {                                                                        \
    const TS *s_ = (const TS *) t->data + src;                                \
    TD *d_ = (TD *) d + e;                                                    \
    if (step == 1)                                                            \
      for (gint64 q = 0; q < n; q++)                                          \
        d_[q] = (TD) s_[q];                                                   \
    else if (step == 0) {                                                     \
      TD v_ = (TD) s_[0];                                                     \
      for (gint64 q = 0; q < n; q++)                                          \
        d_[q] = v_;                                                           \
    } else                                                                    \
      for (gint64 q = 0; q < n; q++)                                          \
        d_[q] = (TD) s_[q * step];                                            \
  } while (0)

#define GATHER_FROM(TD)                                                       \
  do {                                                                        \
    switch (t->dtype) {                                                       \
    case GRD_DTYPE_BOOL: GATHER_RUN (guint8, TD); break;                      \
    case GRD_DTYPE_INT32: GATHER_RUN (gint32, TD); break;                     \
    case GRD_DTYPE_INT64: GATHER_RUN (gint64, TD); break;                     \
    case GRD_DTYPE_FLOAT32: GATHER_RUN (float, TD); break;                    \
    case GRD_DTYPE_FLOAT64: GATHER_RUN (double, TD); break;                   \
    default:                                                                  \
      for (gint64 q = 0; q < n; q++)                                          \
        ((TD *) d)[e + q] = (TD) grd_tensor_get (t, src + q * step);          \
      break;                                                                  \
    }                                                                         \
  } while (0)

/* Gathers elements [o, o+len) of a broadcast input (or one of another dtype,
 * such as a relu's bool mask) into d, as the register dtype. Adjacent axes
 * that step through memory as one (a bias's broadcast trailing axes) are
 * merged, so the copy runs along the longest possible rows. */
static void
gather (Run *run, gint i, gint64 o, gint len, void *d)
{
  GrdTensor *t = run->in[i];
  const gint64 *st = run->strides[i];
  gint64 shape[GRD_MAX_RANK], stride[GRD_MAX_RANK];
  gint rank = 0;
  for (gint k = 0; k < run->rank; k++) {
    if (rank > 0 && stride[rank - 1] == st[k] * run->shape[k]) {
      shape[rank - 1] *= run->shape[k];
      stride[rank - 1] = st[k];
    } else {
      shape[rank] = run->shape[k];
      stride[rank] = st[k];
      rank++;
    }
  }
  gint64 idx[GRD_MAX_RANK], src = 0, rem = o;
  for (gint k = rank - 1; k >= 0; k--) {
    idx[k] = rem % shape[k];
    rem /= shape[k];
    src += idx[k] * stride[k];
  }
  gboolean f32 = run->f->dtype == GRD_DTYPE_FLOAT32;
  gint last = rank - 1;
  for (gint64 e = 0; e < len;) {
    gint64 n = rank > 0 ? MIN ((gint64) len - e, shape[last] - idx[last]) : (gint64) len - e;
    gint64 step = rank > 0 ? stride[last] : 0;
    if (f32)
      GATHER_FROM (float);
    else
      GATHER_FROM (double);
    e += n;
    if (rank == 0)
      break;
    /* the odometer, advanced by the run just copied */
    idx[last] += n;
    src += n * step;
    for (gint k = last; k > 0 && idx[k] == shape[k]; k--) {
      src += stride[k - 1] - stride[k] * shape[k];
      idx[k] = 0;
      idx[k - 1]++;
    }
  }
}

#define LOOP1(T, EXPR) do { const T *restrict A = a; T *restrict D = dst; \
    for (gint i = 0; i < n; i++) { T x = A[i]; D[i] = (EXPR); } } while (0)
#define LOOP2(T, EXPR) do { const T *restrict A = a, *restrict B = b; T *restrict D = dst; \
    for (gint i = 0; i < n; i++) { T x = A[i], y = B[i]; D[i] = (EXPR); } } while (0)
#define LOOP3(T, EXPR) do { const T *restrict A = a, *restrict B = b, *restrict C = c; T *restrict D = dst; \
    for (gint i = 0; i < n; i++) { T x = A[i], y = B[i], z = C[i]; D[i] = (EXPR); } } while (0)

static void
op_f32 (gint code, float *dst, const float *a, const float *b, const float *c, gint n)
{
  switch (code) {
  case GRD_ELEM_ADD: LOOP2 (float, x + y); break;
  case GRD_ELEM_SUB: LOOP2 (float, x - y); break;
  case GRD_ELEM_MUL: LOOP2 (float, x * y); break;
  case GRD_ELEM_DIV: LOOP2 (float, x / y); break;
  case GRD_ELEM_MAXIMUM: LOOP2 (float, (x >= y || x != x) ? x : y); break;
  case GRD_ELEM_MINIMUM: LOOP2 (float, (x <= y || x != x) ? x : y); break;
  case GRD_ELEM_NEG: LOOP1 (float, -x); break;
  case GRD_ELEM_ABS: LOOP1 (float, fabsf (x)); break;
  case GRD_ELEM_SIGN: LOOP1 (float, x > 0 ? 1.0f : x < 0 ? -1.0f : x); break;
  case GRD_ELEM_SQUARE: LOOP1 (float, x * x); break;
  case GRD_ELEM_SQRT: LOOP1 (float, sqrtf (x)); break;
  case GRD_ELEM_RECIPROCAL: LOOP1 (float, 1.0f / x); break;
  case GRD_ELEM_RELU: LOOP1 (float, x < 0 ? 0.0f : x); break;
  case GRD_ELEM_EXP: grd_vec_exp_f32 (dst, a, n); break;
  case GRD_ELEM_EXPM1: grd_vec_expm1_f32 (dst, a, n); break;
  case GRD_ELEM_LOG: grd_vec_log_f32 (dst, a, n); break;
  case GRD_ELEM_LOG1P: grd_vec_log1p_f32 (dst, a, n); break;
  case GRD_ELEM_TANH: grd_vec_tanh_f32 (dst, a, n); break;
  case GRD_ELEM_SIGMOID: grd_vec_sigmoid_f32 (dst, a, n); break;
  case GRD_ELEM_SOFTPLUS: grd_vec_softplus_f32 (dst, a, n); break;
  case GRD_ELEM_SIN: grd_vec_sin_f32 (dst, a, n); break;
  case GRD_ELEM_COS: grd_vec_cos_f32 (dst, a, n); break;
  case GRD_ELEM_EQ: LOOP2 (float, x == y); break;
  case GRD_ELEM_NEQ: LOOP2 (float, x != y); break;
  case GRD_ELEM_LT: LOOP2 (float, x < y); break;
  case GRD_ELEM_LE: LOOP2 (float, x <= y); break;
  case GRD_ELEM_GT: LOOP2 (float, x > y); break;
  case GRD_ELEM_GE: LOOP2 (float, x >= y); break;
  case GRD_ELEM_AND: LOOP2 (float, x != 0 && y != 0); break;
  case GRD_ELEM_OR: LOOP2 (float, x != 0 || y != 0); break;
  case GRD_ELEM_NOT: LOOP1 (float, x == 0); break;
  case GRD_ELEM_SWITCH: LOOP3 (float, x != 0 ? y : z); break;
  case GRD_ELEM_CAST: LOOP1 (float, x); break;
  case GRD_ELEM_FLOOR: LOOP1 (float, floorf (x)); break;
  case GRD_ELEM_CEIL: LOOP1 (float, ceilf (x)); break;
  case GRD_ELEM_ROUND: LOOP1 (float, rintf (x)); break;
  default:
    /* pow, erf, clip...: the reference's scalar code, so the results match */
    for (gint i = 0; i < n; i++)
      dst[i] = grd_elementwise_apply_f32 (code, a[i], b ? b[i] : 0, c ? c[i] : 0);
    break;
  }
}

static void
op_f64 (gint code, double *dst, const double *a, const double *b, const double *c, gint n)
{
  switch (code) {
  case GRD_ELEM_ADD: LOOP2 (double, x + y); break;
  case GRD_ELEM_SUB: LOOP2 (double, x - y); break;
  case GRD_ELEM_MUL: LOOP2 (double, x * y); break;
  case GRD_ELEM_DIV: LOOP2 (double, x / y); break;
  case GRD_ELEM_NEG: LOOP1 (double, -x); break;
  case GRD_ELEM_ABS: LOOP1 (double, fabs (x)); break;
  case GRD_ELEM_SQUARE: LOOP1 (double, x * x); break;
  case GRD_ELEM_SQRT: LOOP1 (double, sqrt (x)); break;
  case GRD_ELEM_RECIPROCAL: LOOP1 (double, 1.0 / x); break;
  case GRD_ELEM_RELU: LOOP1 (double, x < 0 ? 0.0 : x); break;
  case GRD_ELEM_EQ: LOOP2 (double, x == y); break;
  case GRD_ELEM_NEQ: LOOP2 (double, x != y); break;
  case GRD_ELEM_LT: LOOP2 (double, x < y); break;
  case GRD_ELEM_LE: LOOP2 (double, x <= y); break;
  case GRD_ELEM_GT: LOOP2 (double, x > y); break;
  case GRD_ELEM_GE: LOOP2 (double, x >= y); break;
  case GRD_ELEM_SWITCH: LOOP3 (double, x != 0 ? y : z); break;
  case GRD_ELEM_CAST: LOOP1 (double, x); break;
  default:
    /* float64 is the precise path: libm through the reference's own code */
    for (gint i = 0; i < n; i++)
      dst[i] = grd_elementwise_apply_f64 (code, a[i], b ? b[i] : 0, c ? c[i] : 0);
    break;
  }
}

/* sum plus the sum of a block of len register values: float32 adds in 32
 * float lanes (four independent vectors, so the adds do not wait on each
 * other), each lane at most len/32 values, then in double; float64 in
 * sixteen lanes added straight into sum */
static double
block_sum (GrdDType dt, const void *r, gint len, double sum)
{
  double s = 0;
  if (dt == GRD_DTYPE_FLOAT32) {
    typedef float Lanes __attribute__ ((vector_size (32)));
    Lanes acc[4] = { { 0 } };
    const float *p = r;
    gint e = 0;
    for (; e + 32 <= len; e += 32)
      for (gint v = 0; v < 4; v++) {
        Lanes x;
        memcpy (&x, p + e + 8 * v, sizeof x);
        acc[v] += x;
      }
    for (gint v = 0; v < 4; v++)
      for (gint l = 0; l < 8; l++)
        s += acc[v][l];
    for (; e < len; e++)
      s += p[e];
    return sum + s;
  } else {
    typedef double Lanes __attribute__ ((vector_size (32)));
    Lanes acc[4] = { { 0 } };
    const double *p = r;
    gint e = 0;
    for (; e + 16 <= len; e += 16)
      for (gint v = 0; v < 4; v++) {
        Lanes x;
        memcpy (&x, p + e + 4 * v, sizeof x);
        acc[v] += x;
      }
    for (gint v = 0; v < 4; v++)
      for (gint l = 0; l < 4; l++)
        sum += acc[v][l];
    for (; e < len; e++)
      sum += p[e];
  }
  return sum;
}

/* The max (best > 0) or min of acc and a block of len register values; a
 * NaN wins (and stays once in acc). Lanes keep the best ignoring NaN and
 * add v - v, NaN for a NaN or an infinity; only then is the block looked
 * at again for a NaN. */
#define DEF_BLOCK_BEST(NAME, T, OP)                                                       \
  static double NAME (const T *restrict p, gint len, double acc)                          \
  {                                                                                       \
    T m[32], t[32];                                                                       \
    for (gint l = 0; l < 32; l++) {                                                       \
      m[l] = (T) acc;                                                                     \
      t[l] = 0;                                                                           \
    }                                                                                     \
    gint e = 0;                                                                           \
    for (; e + 32 <= len; e += 32)                                                        \
      for (gint l = 0; l < 32; l++) {                                                     \
        T v = p[e + l];                                                                   \
        m[l] = v OP m[l] ? v : m[l];                                                      \
        t[l] += v - v;                                                                    \
      }                                                                                   \
    T r = m[0], special = 0;                                                              \
    for (gint l = 0; l < 32; l++) {                                                       \
      r = m[l] OP r ? m[l] : r;                                                           \
      special += t[l];                                                                    \
    }                                                                                     \
    for (; e < len; e++) {                                                                \
      r = p[e] OP r ? p[e] : r;                                                           \
      special += p[e] - p[e];                                                             \
    }                                                                                     \
    if (special != special)                                                               \
      for (e = 0; e < len; e++)                                                           \
        if (p[e] != p[e])                                                                 \
          return p[e];                                                                    \
    return r;                                                                             \
  }

DEF_BLOCK_BEST (block_max_f32, float, >)
DEF_BLOCK_BEST (block_min_f32, float, <)
DEF_BLOCK_BEST (block_max_f64, double, >)
DEF_BLOCK_BEST (block_min_f64, double, <)

/* acc reduced with a block of len register values: the region's sum, max or min */
static double
block_reduce (const GrdFused *f, const void *r, gint len, double acc)
{
  if (f->reduce_best == 0)
    return block_sum (f->dtype, r, len, acc);
  if (acc != acc)
    return acc;
  if (f->dtype == GRD_DTYPE_FLOAT32)
    return f->reduce_best > 0 ? block_max_f32 (r, len, acc) : block_min_f32 (r, len, acc);
  return f->reduce_best > 0 ? block_max_f64 (r, len, acc) : block_min_f64 (r, len, acc);
}

/* the identity of the region's reduction */
static double
reduce_identity (const GrdFused *f)
{
  return f->reduce_best > 0 ? -INFINITY : f->reduce_best < 0 ? INFINITY : 0;
}

/* later combined into acc (later follows acc in the reduction's order) */
static inline double
reduce_combine (const GrdFused *f, double acc, double later)
{
  if (f->reduce_best == 0)
    return acc + later;
  if (acc != acc)
    return acc;
  if (later != later)
    return later;
  return f->reduce_best > 0 ? (later > acc ? later : acc) : (later < acc ? later : acc);
}

/* One task's registers: a block of scratch per register, and which scalar
 * inputs have been spread over their block already. */
typedef struct {
  char     *mem;
  char     *base;
  void     *regs[256];
  gboolean  filled[MAX_REGION_INPUTS];
} Scratch;

static void
scratch_init (Run *run, Scratch *s)
{
  gsize es = grd_dtype_size (run->f->dtype);
  s->mem = g_malloc ((gsize) run->f->n_regs * run->block * es + 64);
  s->base = (char *) (((guintptr) s->mem + 63) & ~(guintptr) 63);
  memset (s->filled, 0, sizeof s->filled);
}

/* Runs the register program over elements [o, o + len) of the loop and
 * writes the stored outputs; the fused sum's register is left in s->regs. */
static void
run_block (Run *run, Scratch *s, gint64 o, gint len)
{
  GrdFused *f = run->f;
  gsize es = grd_dtype_size (f->dtype);
  gint bs = run->block;
  void **regs = s->regs;
  for (gint i = 0; i < f->n_in; i++) {
    GrdTensor *t = run->in[i];
    if (run->direct[i])
      regs[i] = (char *) t->data + o * es;
    else {
      regs[i] = s->base + (gsize) i * bs * es;
      if (t->size == 1) {
        /* a scalar: fill the block once per task */
        if (!s->filled[i]) {
          double v = grd_tensor_get (t, 0);
          for (gint e = 0; e < bs; e++) {
            if (f->dtype == GRD_DTYPE_FLOAT32)
              ((float *) regs[i])[e] = (float) v;
            else
              ((double *) regs[i])[e] = v;
          }
          s->filled[i] = TRUE;
        }
      } else
        gather (run, i, o, len, regs[i]);
    }
  }
  for (guint k = 0; k < f->ops->len; k++) {
    GrdFusedOp *op = &g_array_index (f->ops, GrdFusedOp, k);
    gint oi = run->out_of_reg[op->dst];
    if (oi >= 0 && !(f->reduce_sum && oi == 0) && f->out_dtypes[oi] == f->dtype)
      regs[op->dst] = (char *) run->out[oi]->data + o * es;
    else
      regs[op->dst] = s->base + (gsize) op->dst * bs * es;
    if (f->dtype == GRD_DTYPE_FLOAT32)
      op_f32 (op->code, regs[op->dst], regs[op->a], regs[op->b], regs[op->c], len);
    else
      op_f64 (op->code, regs[op->dst], regs[op->a], regs[op->b], regs[op->c], len);
  }
  for (gint k = f->reduce_sum ? 1 : 0; k < f->n_out; k++) {
    void *r = regs[f->out_regs[k]];
    if (f->out_dtypes[k] == GRD_DTYPE_BOOL) {
      guint8 *d = (guint8 *) run->out[k]->data + o;
      for (gint e = 0; e < len; e++)
        d[e] = f->dtype == GRD_DTYPE_FLOAT32 ? ((float *) r)[e] != 0 : ((double *) r)[e] != 0;
    } else if (r != (char *) run->out[k]->data + o * es) {
      /* an output register aliased to an input (cast of an input) */
      memcpy ((char *) run->out[k]->data + o * es, r, (gsize) len * es);
    }
  }
}

static void
run_chunk (gpointer data, gint task)
{
  Run *run = data;
  GrdFused *f = run->f;
  Scratch s;
  scratch_init (run, &s);
  double sum = reduce_identity (f);
  gint64 start = task * run->chunk, end = MIN (run->total, start + run->chunk);
  for (gint64 o = start; o < end; o += run->block) {
    gint len = (gint) MIN ((gint64) run->block, end - o);
    run_block (run, &s, o, len);
    if (f->reduce_sum)
      sum = block_reduce (f, s.regs[f->out_regs[0]], len, sum);
  }
  if (run->partial)
    run->partial[task] = sum;
  g_free (s.mem);
}

/* ------------------------------------------------------------ sums over axes */

/* The loop is [outer, n, inner] with n summed. Rows (inner == 1): a line is
 * one output's n elements; columns: a line is `inner` elements, one for
 * each output. A task covers whole lines (or, for rows longer than a
 * chunk, a piece of one) in blocks that hold whole lines or lie within
 * one, and adds each line's segment of the summed register: rows into the
 * line's own partial, columns into a partial per output. Tasks, pieces and
 * blocks depend only on the shape, so the thread count never changes a bit;
 * partials are added in order at the end. */
typedef struct {
  Run    *run;
  double *parts;
  gint64  line, lines_per_task, pieces, piece, chunks, rows_per_chunk, outers_per_task;
} AxisJob;

static void
axis_span (Run *run, Scratch *s, gint64 start, gint64 end, gint64 line, gboolean rows, double *acc)
{
  GrdFused *f = run->f;
  gsize es = grd_dtype_size (f->dtype);
  gint64 bs = run->block;
  gint64 first_line = start / line;
  for (gint64 o = start; o < end;) {
    gint64 pos = o % line;
    gint64 len = pos == 0 && line <= bs ? MIN (end - o, (bs / line) * line) : MIN (MIN (end - o, bs), line - pos);
    run_block (run, s, o, (gint) len);
    const char *r = s->regs[f->out_regs[0]];
    for (gint64 e = 0; e < len;) {
      gint64 p = (o + e) % line, seg = MIN (len - e, line - p);
      if (rows) {
        double *a = &acc[(o + e) / line - first_line];
        *a = block_reduce (f, r + e * es, (gint) seg, *a);
      } else if (f->reduce_best) {
        /* max or min down columns: one element per column, a NaN stays */
        double *restrict a = acc + p;
        for (gint64 k = 0; k < seg; k++) {
          double v = f->dtype == GRD_DTYPE_FLOAT32 ? ((const float *) r)[e + k] : ((const double *) r)[e + k];
          a[k] = reduce_combine (f, a[k], v);
        }
      } else if (f->dtype == GRD_DTYPE_FLOAT32) {
        const float *restrict x = (const float *) r + e;
        double *restrict a = acc + p;
        for (gint64 k = 0; k < seg; k++)
          a[k] += x[k];
      } else {
        const double *restrict x = (const double *) r + e;
        double *restrict a = acc + p;
        for (gint64 k = 0; k < seg; k++)
          a[k] += x[k];
      }
      e += seg;
    }
    o += len;
  }
}

static void
axis_task (gpointer data, gint task)
{
  AxisJob *j = data;
  Run *run = j->run;
  GrdFused *f = run->f;
  Scratch s;
  scratch_init (run, &s);
  if (f->red_inner == 1 && j->pieces == 1) {
    gint64 l0 = task * j->lines_per_task, l1 = MIN (f->red_outer, l0 + j->lines_per_task);
    axis_span (run, &s, l0 * j->line, l1 * j->line, j->line, TRUE, j->parts + l0);
  } else if (f->red_inner == 1) {
    gint64 o = task / j->pieces, c = task % j->pieces;
    gint64 start = o * j->line + c * j->piece, end = MIN ((o + 1) * j->line, start + j->piece);
    axis_span (run, &s, start, end, j->line, TRUE, j->parts + task);
  } else if (j->chunks > 1) {
    gint64 o = task / j->chunks, c = task % j->chunks;
    gint64 r0 = c * j->rows_per_chunk, r1 = MIN (f->red_n, r0 + j->rows_per_chunk);
    if (r0 < r1)
      axis_span (run, &s, (o * f->red_n + r0) * j->line, (o * f->red_n + r1) * j->line, j->line, FALSE,
                 j->parts + task * f->red_inner);
  } else {
    /* small outer slices: several per task */
    gint64 o0 = task * j->outers_per_task, o1 = MIN (f->red_outer, o0 + j->outers_per_task);
    for (gint64 o = o0; o < o1; o++)
      axis_span (run, &s, o * f->red_n * j->line, (o + 1) * f->red_n * j->line, j->line, FALSE,
                 j->parts + o * f->red_inner);
  }
  g_free (s.mem);
}

static void
run_axis (Run *run, GrdTensor *out)
{
  GrdFused *f = run->f;
  AxisJob j = { run, NULL, 0, 0, 1, 0, 1, 0, 1 };
  gint64 outer = f->red_outer, n = f->red_n, inner = f->red_inner, n_out = outer * inner;
  gint n_tasks;
  if (inner == 1) {
    j.line = n;
    j.pieces = (n + run->chunk - 1) / run->chunk;
    j.piece = run->chunk;
    j.lines_per_task = MAX (1, run->chunk / n);
    n_tasks = (gint) (j.pieces > 1 ? outer * j.pieces : (outer + j.lines_per_task - 1) / j.lines_per_task);
  } else {
    j.line = inner;
    /* columns cut into at most 16 chunks of rows, fewer when the partials
     * (a line of doubles per chunk) would pass 32 MiB */
    j.chunks = CLAMP ((n * inner + run->chunk - 1) / run->chunk, 1, 16);
    while (j.chunks > 1 && outer * j.chunks * inner > (1 << 22))
      j.chunks--;
    j.rows_per_chunk = (n + j.chunks - 1) / j.chunks;
    j.outers_per_task = j.chunks > 1 ? 1 : MAX (1, run->chunk / (n * inner));
    n_tasks = (gint) (j.chunks > 1 ? outer * j.chunks : (outer + j.outers_per_task - 1) / j.outers_per_task);
  }
  gint64 n_parts = inner == 1 ? outer * j.pieces : outer * j.chunks * inner;
  g_autofree double *parts = g_new0 (double, n_parts);
  if (f->reduce_best)
    for (gint64 i = 0; i < n_parts; i++)
      parts[i] = reduce_identity (f);
  j.parts = parts;
  if (n_tasks > 1)
    grd_parallel_for (n_tasks, axis_task, &j);
  else
    axis_task (&j, 0);
  gint64 per = inner == 1 ? j.pieces : j.chunks;
  for (gint64 oi = 0; oi < n_out; oi++) {
    gint64 o = oi / inner, k = oi % inner;
    double v = reduce_identity (f);
    for (gint64 c = 0; c < per; c++)
      v = reduce_combine (f, v, inner == 1 ? parts[o * per + c] : parts[(o * per + c) * inner + k]);
    if (f->reduce_mean)
      v /= (double) n;
    if (f->dtype == GRD_DTYPE_FLOAT32)
      ((float *) out->data)[oi] = (float) v;
    else
      ((double *) out->data)[oi] = v;
  }
}

static gboolean
shape_of_deps (Run *run, GrdTensor *const *in, guint64 deps, gint *rank, gint64 *shape)
{
  GrdTensor *sel[MAX_REGION_INPUTS];
  gint n = 0;
  for (gint i = 0; i < run->f->n_in; i++)
    if (deps & (G_GUINT64_CONSTANT (1) << i))
      sel[n++] = in[i];
  return grd_broadcast_shapes (sel, n, rank, shape, NULL);
}

/* Output k's buffer: a loop without reductions writes every element of its
 * outputs, so they skip the zero fill; sums and axis reductions accumulate. */
GrdTensor *
grd_fused_new_output (GrdFused *f, gint k, gint rank, const gint64 *shape, GError **error)
{
  if (f->reduce_sum || f->reduce_axis)
    return grd_tensor_try_new (f->out_dtypes[k], rank, shape, error);
  return grd_tensor_try_new_uninit (f->out_dtypes[k], rank, shape, error);
}

gboolean
grd_fused_run (GrdFused *f, GrdTensor *const *in, GrdTensor **out, gboolean *fallback, GError **error)
{
  *fallback = FALSE;
  Run run = { 0 };
  run.f = f;
  run.in = in;
  run.out = out;
  if (!grd_broadcast_shapes (in, f->n_in, &run.rank, run.shape, error))
    return FALSE;
  run.total = grd_shape_size (run.rank, run.shape);
  if (f->reduce_best && run.total == 0) {
    /* the max of nothing: the reference's error */
    *fallback = TRUE;
    return FALSE;
  }
  /* a sum over axes was planned for the static shape only */
  if (f->reduce_axis && (run.rank != f->loop_rank
                         || memcmp (run.shape, f->loop_dims, sizeof (gint64) * run.rank) != 0)) {
    *fallback = TRUE;
    return FALSE;
  }
  /* every output must span the whole loop, else run the originals */
  for (gint k = 0; k < f->n_out; k++) {
    gint r;
    gint64 s[GRD_MAX_RANK];
    if (!shape_of_deps (&run, in, f->out_deps[k], &r, s) || r != run.rank
        || memcmp (s, run.shape, sizeof (gint64) * r) != 0) {
      *fallback = TRUE;
      return FALSE;
    }
  }
  for (gint i = 0; i < f->n_in; i++) {
    run.direct[i] = in[i]->dtype == f->dtype && in[i]->size == run.total && in[i]->rank == run.rank
                    && run.total > 0;
    grd_broadcast_strides (in[i], run.rank, run.shape, run.strides[i]);
  }
  for (gint r = 0; r < 256; r++)
    run.out_of_reg[r] = -1;
  for (gint k = f->n_out - 1; k >= 0; k--) {
    gboolean scalar = f->reduce_sum && k == 0;
    GrdDType dt = f->out_dtypes[k];
    gint rank = scalar ? f->red_rank : run.rank;
    const gint64 *shape = scalar ? f->red_shape : run.shape;
    GrdTensor *o = out[k];
    if (!(o && o->ref_count == 1 && o->dtype == dt && o->rank == rank
          && memcmp (o->shape, shape, sizeof (gint64) * rank) == 0)) {
      grd_tensor_unref (o);
      out[k] = grd_fused_new_output (f, k, rank, shape, error);
      if (!out[k])
        return FALSE;
    }
    /* the first output wins a register read twice (a value that is both
     * an output and summed) */
    run.out_of_reg[f->out_regs[k]] = k;
  }
  if (f->reduce_sum)
    for (gint k = 1; k < f->n_out; k++)
      if (f->out_regs[k] == f->out_regs[0])
        run.out_of_reg[f->out_regs[0]] = k;
  run.block = f->dtype == GRD_DTYPE_FLOAT32 ? BLOCK_F32 : BLOCK_F64;
  if (run.total < run.block)
    run.block = MAX (8, (gint) ((run.total + 7) & ~7));
  run.chunk = (gint64) run.block * BLOCKS_PER_CHUNK;
  if (f->reduce_axis) {
    run_axis (&run, out[0]);
    return TRUE;
  }

  gint n_tasks = (gint) ((run.total + run.chunk - 1) / run.chunk);
  double partial_small[16];
  if (f->reduce_sum)
    run.partial = n_tasks <= 16 ? partial_small : g_new0 (double, n_tasks);
  if (n_tasks > 1)
    grd_parallel_for (n_tasks, run_chunk, &run);
  else if (n_tasks == 1)
    run_chunk (&run, 0);
  if (f->reduce_sum) {
    double s = reduce_identity (f);
    for (gint t = 0; t < n_tasks; t++)
      s = reduce_combine (f, s, run.partial[t]);
    /* an empty mean is 0/0, NaN, as the reference's */
    grd_tensor_set (out[0], 0, f->reduce_mean ? s / (double) run.total : s);
    if (run.partial != partial_small)
      g_free (run.partial);
  }
  return TRUE;
}
