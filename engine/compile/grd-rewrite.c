/* grd-rewrite.c: the graph rewrites of the CPU compiler: merge, constant
 * folding, algebraic clean-up of gradient graphs and stabilisation. Each pass
 * keeps values: tests compare the program's results before and after. */
#include "grd-program.h"

#include <math.h>
#include <string.h>

static gboolean
attrs_equal (const GrdAttrs *a, const GrdAttrs *b)
{
  if (a->has_axis != b->has_axis || a->n_axes != b->n_axes || a->keepdims != b->keepdims
      || a->n_perm != b->n_perm || a->n_shape != b->n_shape || a->n_pattern != b->n_pattern
      || a->ndim != b->ndim || a->n_slice != b->n_slice || a->has_dtype != b->has_dtype
      || (a->has_dtype && a->dtype != b->dtype) || a->depth != b->depth
      || !grd_conv_attrs_equal (a, b))
    return FALSE;
  /* a random node draws anew each time: two are never the same value */
  if (a->extra != b->extra || (a->extra && ((GrdOpExtra *) a->extra)->impure))
    return FALSE;
  for (gint i = 0; i < a->n_axes; i++)
    if (a->axes[i] != b->axes[i])
      return FALSE;
  for (gint i = 0; i < a->n_perm; i++)
    if (a->perm[i] != b->perm[i])
      return FALSE;
  for (gint i = 0; i < a->n_shape; i++)
    if (a->shape[i] != b->shape[i])
      return FALSE;
  for (gint i = 0; i < a->n_pattern; i++)
    if (a->pattern[i] != b->pattern[i])
      return FALSE;
  for (gint i = 0; i < a->n_slice; i++)
    if (a->begin[i] != b->begin[i] || a->end[i] != b->end[i] || a->step[i] != b->step[i])
      return FALSE;
  return TRUE;
}

static gboolean
tensors_equal (const GrdTensor *a, const GrdTensor *b)
{
  return a->dtype == b->dtype && grd_tensor_same_shape (a, b)
         && memcmp (a->data, b->data, (gsize) a->size * grd_dtype_size (a->dtype)) == 0;
}

static gboolean
is_op (GrdInstr *ins, const char *name)
{
  return ins->kind == GRD_INSTR_OP && g_str_equal (ins->op->name, name);
}

/* The instruction that computes value v, or NULL for inputs and constants. */
static GrdInstr *
producer (GrdProgram *prog, gint v)
{
  GrdPValue *pv = grd_program_value (prog, v);
  if (pv->kind != GRD_PVALUE_TEMP || pv->producer < 0)
    return NULL;
  GrdInstr *ins = grd_program_instr (prog, pv->producer);
  return ins->kind == GRD_INSTR_DEAD ? NULL : ins;
}

/* TRUE when v is a constant whose every element equals x. */
static gboolean
is_const_value (GrdProgram *prog, gint v, double x)
{
  GrdPValue *pv = grd_program_value (prog, v);
  if (pv->kind != GRD_PVALUE_CONSTANT || pv->constant->size == 0)
    return FALSE;
  for (gint64 i = 0; i < pv->constant->size; i++)
    if (grd_tensor_get (pv->constant, i) != x)
      return FALSE;
  return TRUE;
}

/* TRUE when the static types are the same, every dim equal (unknown equals
 * unknown only when both come from the same broadcast, so require known dims
 * or the identical pattern). */
static gboolean
same_type (const GrdType *a, const GrdType *b)
{
  if (a->dtype != b->dtype || a->rank != b->rank)
    return FALSE;
  for (gint i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i])
      return FALSE;
  return TRUE;
}

/* x op c where c is a constant of rank <= x's, all of whose dims are 1: the
 * result has x's shape exactly, whatever x's unknown dims are. */
static gboolean
const_does_not_broadcast (GrdProgram *prog, gint x, gint c, gint out)
{
  GrdPValue *pc = grd_program_value (prog, c);
  const GrdType *tx = &grd_program_value (prog, x)->type;
  if (pc->kind != GRD_PVALUE_CONSTANT || pc->type.rank > tx->rank)
    return FALSE;
  for (gint i = 0; i < pc->type.rank; i++)
    if (pc->type.dims[i] != 1)
      return FALSE;
  return same_type (tx, &grd_program_value (prog, out)->type);
}

static void
retire (GrdInstr *ins)
{
  /* storage is freed by the next sort */
  ins->kind = GRD_INSTR_DEAD;
}

/* ------------------------------------------------------------ merge */

gboolean
grd_pass_merge (GrdProgram *prog)
{
  gboolean changed = FALSE;
  /* equal constants */
  g_autoptr (GArray) consts = g_array_new (FALSE, FALSE, sizeof (gint));
  for (guint v = 0; v < prog->values->len; v++) {
    GrdPValue *pv = grd_program_value (prog, v);
    if (pv->kind != GRD_PVALUE_CONSTANT || pv->n_uses == 0)
      continue;
    gboolean merged = FALSE;
    for (guint k = 0; k < consts->len && !merged; k++) {
      gint w = g_array_index (consts, gint, k);
      if (tensors_equal (grd_program_value (prog, w)->constant, pv->constant)) {
        grd_program_replace (prog, v, w);
        pv->n_uses = 0;
        merged = changed = TRUE;
      }
    }
    if (!merged) {
      gint vv = v;
      g_array_append_val (consts, vv);
    }
  }
  /* common subexpressions: same op, attrs and inputs (instructions are sorted,
   * so an earlier twin is always computed first) */
  g_autoptr (GHashTable) seen = g_hash_table_new (g_direct_hash, g_direct_equal);
  for (guint i = 0; i < prog->instrs->len; i++) {
    GrdInstr *ins = grd_program_instr (prog, i);
    if (ins->kind != GRD_INSTR_OP)
      continue;
    guint h = g_str_hash (ins->op->name);
    for (gint j = 0; j < ins->n_in; j++)
      h = h * 31 + ins->in[j];
    GSList *bucket = g_hash_table_lookup (seen, GUINT_TO_POINTER (h));
    gboolean merged = FALSE;
    for (GSList *l = bucket; l && !merged; l = l->next) {
      GrdInstr *other = grd_program_instr (prog, GPOINTER_TO_INT (l->data));
      if (other->op != ins->op || other->n_in != ins->n_in || !attrs_equal (&other->attrs, &ins->attrs))
        continue;
      if (memcmp (other->in, ins->in, sizeof (gint) * ins->n_in) != 0)
        continue;
      for (gint k = 0; k < ins->n_out; k++)
        grd_program_replace (prog, ins->out[k], other->out[k]);
      retire (ins);
      merged = changed = TRUE;
    }
    if (!merged)
      g_hash_table_insert (seen, GUINT_TO_POINTER (h), g_slist_prepend (bucket, GINT_TO_POINTER (i)));
  }
  GHashTableIter it;
  gpointer key, val;
  g_hash_table_iter_init (&it, seen);
  while (g_hash_table_iter_next (&it, &key, &val))
    g_slist_free (val);
  return changed;
}

/* ------------------------------------------------------------ constant folding */

#define FOLD_MAX_ELEMENTS (1 << 20)

gboolean
grd_pass_constant_fold (GrdProgram *prog)
{
  gboolean changed = FALSE;
  for (guint i = 0; i < prog->instrs->len; i++) {
    GrdInstr *ins = grd_program_instr (prog, i);
    if (ins->kind != GRD_INSTR_OP || ins->n_out != 1)
      continue;
    if (ins->attrs.extra)
      continue;  /* scan, random, ifelse: run at call time (random draws anew) */
    gboolean all_const = TRUE;
    for (gint j = 0; j < ins->n_in && all_const; j++)
      all_const = grd_program_value (prog, ins->in[j])->kind == GRD_PVALUE_CONSTANT;
    if (!all_const)
      continue;
    GrdTensor *in[ins->n_in + 1];
    for (gint j = 0; j < ins->n_in; j++)
      in[j] = grd_program_value (prog, ins->in[j])->constant;
    GrdNode fake = { 0 };
    fake.id = ins->label;
    fake.op = ins->op;
    fake.attrs = ins->attrs;
    fake.n_inputs = ins->n_in;
    fake.n_outputs = 1;
    fake.types = &grd_program_value (prog, ins->out[0])->type;
    GrdTensor *out = NULL;
    /* A kernel error (an index out of range...) is left for the call to report. */
    if (!ins->op->eval (&fake, in, &out, NULL) || !out)
      continue;
    if (out->size > FOLD_MAX_ELEMENTS) {
      grd_tensor_unref (out);
      continue;
    }
    gint c = grd_program_add_constant (prog, out);
    grd_tensor_unref (out);
    ins = grd_program_instr (prog, i);  /* the values array may have moved, not instrs */
    grd_program_replace (prog, ins->out[0], c);
    retire (ins);
    changed = TRUE;
  }
  return changed;
}

/* ------------------------------------------------------------ symbolic shapes
 *
 * Dims unknown when the graph is built get symbols, and ops propagate them,
 * so that "this gradient already has x's shape" can be proved where the
 * static types only say [?,512] (Theano's ShapeFeature does the same).
 * A dim is its size when known, or a symbol: a value <= SYM_BASE. */

#define SYM_BASE (-2)

typedef struct {
  gint64 *dims;   /* GRD_MAX_RANK per value */
  gint64  next;   /* next fresh symbol */
  gint    n;      /* values known; those made later have no symbols */
} Shapes;

static gint64 *
sym_of (Shapes *sh, gint v)
{
  return sh->dims + (gsize) v * GRD_MAX_RANK;
}

static void
sym_fresh (Shapes *sh, GrdProgram *prog, gint v)
{
  const GrdType *t = &grd_program_value (prog, v)->type;
  gint64 *d = sym_of (sh, v);
  for (gint k = 0; k < t->rank; k++)
    d[k] = t->dims[k] >= 0 ? t->dims[k] : sh->next--;
}

static void
sym_copy (Shapes *sh, gint to, gint from)
{
  memcpy (sym_of (sh, to), sym_of (sh, from), sizeof (gint64) * GRD_MAX_RANK);
}

static gboolean
sym_equal (Shapes *sh, GrdProgram *prog, gint a, gint b)
{
  gint ra = grd_program_value (prog, a)->type.rank, rb = grd_program_value (prog, b)->type.rank;
  return ra == rb && memcmp (sym_of (sh, a), sym_of (sh, b), sizeof (gint64) * ra) == 0;
}

static void
sym_broadcast (Shapes *sh, GrdProgram *prog, GrdInstr *ins)
{
  gint rank = grd_program_value (prog, ins->out[0])->type.rank;
  gint64 *o = sym_of (sh, ins->out[0]);
  for (gint d = 0; d < rank; d++) {
    gint64 known = 1, sym = 0;
    gboolean mixed = FALSE;
    for (gint j = 0; j < ins->n_in; j++) {
      gint r = grd_program_value (prog, ins->in[j])->type.rank;
      gint k = d - (rank - r);
      if (k < 0)
        continue;
      gint64 v = sym_of (sh, ins->in[j])[k];
      if (v >= 0) {
        if (v != 1)
          known = v;
      } else if (sym == 0)
        sym = v;
      else if (sym != v)
        mixed = TRUE;
    }
    o[d] = known != 1 ? known : sym == 0 ? 1 : mixed ? sh->next-- : sym;
  }
}

static void
sym_infer (Shapes *sh, GrdProgram *prog, GrdInstr *ins)
{
  if (ins->n_out != 1 || ins->kind != GRD_INSTR_OP) {
    for (gint k = 0; k < ins->n_out; k++)
      sym_fresh (sh, prog, ins->out[k]);
    return;
  }
  const char *name = ins->op->name;
  gint out = ins->out[0];
  gint ra = ins->n_in > 0 ? grd_program_value (prog, ins->in[0])->type.rank : 0;
  gint rb = ins->n_in > 1 ? grd_program_value (prog, ins->in[1])->type.rank : 0;
  gint64 *o = sym_of (sh, out), *a = ins->n_in > 0 ? sym_of (sh, ins->in[0]) : NULL;
  gint64 *b = ins->n_in > 1 ? sym_of (sh, ins->in[1]) : NULL;
  if (grd_elementwise_code (ins->op) >= 0 || g_str_equal (name, "_broadcast_to"))
    sym_broadcast (sh, prog, ins);
  else if (g_str_equal (name, "softmax") || g_str_equal (name, "log_softmax"))
    sym_copy (sh, out, ins->in[0]);
  else if (g_str_equal (name, "_reduce_to") || g_str_equal (name, "_unreduce")
           || g_str_equal (name, "_reshape_like") || g_str_equal (name, "_onehot_like"))
    sym_copy (sh, out, ins->in[1]);
  else if ((g_str_equal (name, "dot") || g_str_equal (name, "_dot_nt") || g_str_equal (name, "_dot_tn"))
           && ra == 2 && rb == 2) {
    gboolean ta = g_str_equal (name, "_dot_tn"), tb = g_str_equal (name, "_dot_nt");
    o[0] = ta ? a[1] : a[0];
    o[1] = tb ? b[0] : b[1];
  } else if (g_str_equal (name, "dimshuffle")) {
    for (gint d = 0; d < ins->attrs.n_pattern; d++)
      o[d] = ins->attrs.pattern[d] < 0 ? 1 : a[ins->attrs.pattern[d]];
  } else if (g_str_equal (name, "categorical_crossentropy") || g_str_equal (name, "_crossentropy_logits")) {
    for (gint d = 0; d < ra - 1; d++)
      o[d] = a[d];
  } else if (g_str_equal (name, "sum") || g_str_equal (name, "mean") || g_str_equal (name, "max")
             || g_str_equal (name, "min") || g_str_equal (name, "prod")) {
    gboolean mask[GRD_MAX_RANK];
    if (!grd_axes_mask (&ins->attrs, ra, mask, NULL)) {
      sym_fresh (sh, prog, out);
      return;
    }
    for (gint d = 0, k = 0; d < ra; d++)
      if (!mask[d])
        o[k++] = a[d];
      else if (ins->attrs.keepdims)
        o[k++] = 1;
  } else if (g_str_equal (name, "set_subtensor") || g_str_equal (name, "inc_subtensor")
             || g_str_equal (name, "_pool_2d_grad")) {
    sym_copy (sh, out, ins->in[0]);
  } else if (g_str_equal (name, "_conv2d_grad_input") || g_str_equal (name, "_conv2d_grad_filters")) {
    sym_copy (sh, out, ins->in[2]);
  } else if (g_str_equal (name, "conv2d") || g_str_equal (name, "pool_2d")
             || g_str_equal (name, "_pool_2d_gather")) {
    /* batch and channels carry over; the image size is a new symbol */
    sym_fresh (sh, prog, out);
    gboolean conv = g_str_equal (name, "conv2d");
    for (gint d = 0; d < (conv ? 1 : ra - 2); d++)
      o[d] = a[d];
    if (conv)
      o[1] = b[0];
  } else if (g_str_equal (name, "transpose") && ra == grd_program_value (prog, out)->type.rank) {
    for (gint d = 0; d < ra; d++)
      o[d] = a[ins->attrs.n_perm ? ins->attrs.perm[d] : ra - 1 - d];
  } else
    sym_fresh (sh, prog, out);
  /* a dim the static type knows is known, whatever the rule said */
  const GrdType *t = &grd_program_value (prog, out)->type;
  for (gint d = 0; d < t->rank; d++)
    if (t->dims[d] >= 0)
      o[d] = t->dims[d];
}

static Shapes
shapes_new (GrdProgram *prog)
{
  Shapes sh = { g_new0 (gint64, (gsize) MAX (prog->values->len, 1) * GRD_MAX_RANK), SYM_BASE,
                (gint) prog->values->len };
  for (guint v = 0; v < prog->values->len; v++)
    if (grd_program_value (prog, v)->kind != GRD_PVALUE_TEMP)
      sym_fresh (&sh, prog, v);
  for (guint i = 0; i < prog->instrs->len; i++) {
    GrdInstr *ins = grd_program_instr (prog, i);
    if (ins->kind != GRD_INSTR_DEAD)
      sym_infer (&sh, prog, ins);
  }
  return sh;
}

/* ------------------------------------------------------------ algebraic clean-up */

/* Whether `ones` is _unreduce of a constant 1 to a shape that x and the
 * product `out` provably have (the gradient of a sum, times x: just x). */
static gboolean
ones_like (GrdProgram *prog, Shapes *sh, gint ones, gint x, gint out)
{
  GrdInstr *p = producer (prog, ones);
  return p && is_op (p, "_unreduce") && is_const_value (prog, p->in[0], 1.0)
         && ones < sh->n && x < sh->n && out < sh->n
         && same_type (&grd_program_value (prog, x)->type, &grd_program_value (prog, out)->type)
         && sym_equal (sh, prog, ones, x) && sym_equal (sh, prog, x, out);
}

/* An input that an op reads only for its shape (the gradient helpers' and
 * conv gradients' last input) reads a function input, shared variable or
 * constant of provably the same type and shape instead, so that what
 * computed it can die: d sum(conv2d(x, w) * gy) / dw then no longer computes
 * the convolution to learn its shape (Theano's ShapeFeature does the same). */
/* At most this many candidates of the right type are compared per op: the
 * candidates are the program's inputs, shared values and constants, which a
 * large graph can have by the ten thousand (the pass must stay linear). */
#define SHAPE_FROM_INPUT_CANDIDATES 64

static gboolean
shape_from_input (GrdProgram *prog, Shapes *sh, const GArray *fixed, GrdInstr *ins)
{
  const char *name = ins->op->name;
  gint k = g_str_equal (name, "_unreduce") || g_str_equal (name, "_reduce_to")
           || g_str_equal (name, "_broadcast_to") || g_str_equal (name, "_reshape_like") ? 1
           : g_str_equal (name, "_conv2d_grad_input") || g_str_equal (name, "_conv2d_grad_filters") ? 2
           : -1;
  if (k < 0 || k >= ins->n_in || ins->in[k] >= sh->n
      || grd_program_value (prog, ins->in[k])->kind != GRD_PVALUE_TEMP)
    return FALSE;
  const GrdType *t = &grd_program_value (prog, ins->in[k])->type;
  guint tried = 0;
  for (guint j = 0; j < fixed->len && tried < SHAPE_FROM_INPUT_CANDIDATES; j++) {
    gint v = g_array_index (fixed, gint, j);
    if (!same_type (&grd_program_value (prog, v)->type, t))
      continue;
    tried++;
    if (sym_equal (sh, prog, v, ins->in[k])) {
      ins->in[k] = v;
      return TRUE;
    }
  }
  return FALSE;
}

gboolean
grd_pass_simplify (GrdProgram *prog)
{
  gboolean changed = FALSE;
  Shapes sh = shapes_new (prog);
  /* The values shape_from_input may read instead of a temporary. */
  g_autoptr (GArray) fixed = g_array_new (FALSE, FALSE, sizeof (gint));
  for (gint v = 0; v < sh.n; v++)
    if (grd_program_value (prog, v)->kind != GRD_PVALUE_TEMP)
      g_array_append_val (fixed, v);
  guint n = prog->instrs->len;
  for (guint i = 0; i < n; i++) {
    GrdInstr *ins = grd_program_instr (prog, i);
    if (ins->kind != GRD_INSTR_OP || ins->n_out != 1)
      continue;
    gint out = ins->out[0];
    gint a = ins->n_in > 0 ? ins->in[0] : -1, b = ins->n_in > 1 ? ins->in[1] : -1;
    gint replacement = -1;
    const char *name = ins->op->name;
    if (g_str_equal (name, "mul")) {
      if (is_const_value (prog, b, 1.0) && const_does_not_broadcast (prog, a, b, out))
        replacement = a;
      else if (is_const_value (prog, a, 1.0) && const_does_not_broadcast (prog, b, a, out))
        replacement = b;
      else if (ones_like (prog, &sh, a, b, out))
        replacement = b;
      else if (ones_like (prog, &sh, b, a, out))
        replacement = a;
    } else if (g_str_equal (name, "add")) {
      if (is_const_value (prog, b, 0.0) && const_does_not_broadcast (prog, a, b, out))
        replacement = a;
      else if (is_const_value (prog, a, 0.0) && const_does_not_broadcast (prog, b, a, out))
        replacement = b;
    } else if (g_str_equal (name, "sub") || g_str_equal (name, "div")) {
      double unit = g_str_equal (name, "sub") ? 0.0 : 1.0;
      if (is_const_value (prog, b, unit) && const_does_not_broadcast (prog, a, b, out))
        replacement = a;
    } else if (g_str_equal (name, "pow") && const_does_not_broadcast (prog, a, b, out)) {
      /* x**1 is x; x**2 is x*x, which pow rounds the same way (correctly) */
      if (is_const_value (prog, b, 1.0))
        replacement = a;
      else if (is_const_value (prog, b, 2.0) && grd_dtype_is_float (grd_program_value (prog, out)->type.dtype)) {
        g_autoptr (GError) e = NULL;
        replacement = grd_program_add_op (prog, "square", NULL, &a, 1, &e);
      }
    } else if (g_str_equal (name, "neg")) {
      GrdInstr *p = producer (prog, a);
      if (p && is_op (p, "neg"))
        replacement = p->in[0];
    } else if (g_str_equal (name, "cast")) {
      if (grd_program_value (prog, a)->type.dtype == grd_program_value (prog, out)->type.dtype)
        replacement = a;
    } else if (g_str_equal (name, "transpose")) {
      GrdInstr *p = producer (prog, a);
      gint rank = grd_program_value (prog, a)->type.rank;
      if (p && is_op (p, "transpose") && rank == grd_program_value (prog, p->in[0])->type.rank) {
        /* out[i] = a[perm2[i]] = x[perm1[perm2[i]]] */
        gint p1[GRD_MAX_RANK], p2[GRD_MAX_RANK], comp[GRD_MAX_RANK];
        for (gint d = 0; d < rank; d++) {
          p1[d] = p->attrs.n_perm ? p->attrs.perm[d] : rank - 1 - d;
          p2[d] = ins->attrs.n_perm ? ins->attrs.perm[d] : rank - 1 - d;
        }
        gboolean identity = TRUE;
        for (gint d = 0; d < rank; d++) {
          comp[d] = p1[p2[d]];
          identity &= comp[d] == d;
        }
        if (identity)
          replacement = p->in[0];
        else {
          GrdAttrs at;
          grd_attrs_init (&at);
          at.n_perm = rank;
          memcpy (at.perm, comp, sizeof comp);
          g_autoptr (GError) e = NULL;
          replacement = grd_program_add_op (prog, "transpose", &at, &p->in[0], 1, &e);
        }
      }
    } else if (g_str_equal (name, "reshape") || g_str_equal (name, "_reshape_like")
               || g_str_equal (name, "flatten")) {
      /* a reshape of a reshape reshapes the original; not a flatten that
       * keeps leading axes: those are its input's, not the original's */
      GrdInstr *p = producer (prog, a);
      gboolean by_size = !g_str_equal (name, "flatten") || ins->attrs.ndim == 1;
      if (by_size && p
          && (is_op (p, "reshape") || is_op (p, "_reshape_like") || is_op (p, "flatten"))) {
        gint in2[2] = { p->in[0], b };
        g_autoptr (GError) e = NULL;
        replacement = grd_program_add_op (prog, name, &ins->attrs, in2, ins->n_in, &e);
      } else if (same_type (&grd_program_value (prog, a)->type, &grd_program_value (prog, out)->type)) {
        gboolean known = TRUE;
        for (gint d = 0; d < grd_program_value (prog, out)->type.rank; d++)
          known &= grd_program_value (prog, out)->type.dims[d] >= 0;
        if (known)
          replacement = a;
      }
    } else if (g_str_equal (name, "_reduce_to") || g_str_equal (name, "_broadcast_to")) {
      /* nothing to sum or broadcast when both inputs provably have the
       * result's shape (so the op could not fail at run time either) */
      if (out < sh.n && a < sh.n && b < sh.n
          && grd_program_value (prog, a)->type.dtype == grd_program_value (prog, out)->type.dtype
          && sym_equal (&sh, prog, a, b) && sym_equal (&sh, prog, a, out))
        replacement = a;
    }
    if (replacement >= 0 && replacement != out) {
      ins = grd_program_instr (prog, i);
      grd_program_replace (prog, out, replacement);
      retire (ins);
      changed = TRUE;
    } else
      changed |= shape_from_input (prog, &sh, fixed, grd_program_instr (prog, i));
  }
  g_free (sh.dims);
  return changed;
}

/* ------------------------------------------------------------ stabilisation */

static gboolean
softmax_on_last_axis (GrdProgram *prog, GrdInstr *sm)
{
  gint rank = grd_program_value (prog, sm->in[0])->type.rank;
  if (!sm->attrs.has_axis)
    return TRUE;
  gint ax = sm->attrs.axes[0];
  return sm->attrs.n_axes == 1 && (ax == -1 || ax == rank - 1);
}

gboolean
grd_pass_stabilize (GrdProgram *prog)
{
  gboolean changed = FALSE;
  guint n = prog->instrs->len;
  for (guint i = 0; i < n; i++) {
    GrdInstr *ins = grd_program_instr (prog, i);
    if (ins->kind != GRD_INSTR_OP || ins->n_out != 1)
      continue;
    gint out = ins->out[0], replacement = -1;
    g_autoptr (GError) e = NULL;
    const char *name = ins->op->name;
    GrdInstr *p = ins->n_in > 0 ? producer (prog, ins->in[0]) : NULL;
    if (g_str_equal (name, "log") && p) {
      if (is_op (p, "softmax")) {
        /* log(softmax(x)) = log_softmax(x) */
        replacement = grd_program_add_op (prog, "log_softmax", &p->attrs, p->in, 1, &e);
      } else if (is_op (p, "sigmoid")) {
        /* log(sigmoid(x)) = -softplus(-x) */
        gint nx = grd_program_add_op (prog, "neg", NULL, p->in, 1, &e);
        gint sp = nx >= 0 ? grd_program_add_op (prog, "softplus", NULL, &nx, 1, &e) : -1;
        replacement = sp >= 0 ? grd_program_add_op (prog, "neg", NULL, &sp, 1, &e) : -1;
      } else if (is_op (p, "add")) {
        /* log(1 + x) = log1p(x) */
        gint x = -1;
        if (is_const_value (prog, p->in[0], 1.0) && const_does_not_broadcast (prog, p->in[1], p->in[0], p->out[0]))
          x = p->in[1];
        else if (is_const_value (prog, p->in[1], 1.0) && const_does_not_broadcast (prog, p->in[0], p->in[1], p->out[0]))
          x = p->in[0];
        if (x >= 0 && grd_dtype_is_float (grd_program_value (prog, x)->type.dtype))
          replacement = grd_program_add_op (prog, "log1p", NULL, &x, 1, &e);
      } else if (is_op (p, "sum")) {
        /* log(sum(exp(x))) = logsumexp(x) over the same axes */
        GrdInstr *q = producer (prog, p->in[0]);
        if (q && is_op (q, "exp")) {
          GrdAttrs at = p->attrs;
          if (!at.has_axis) {
            gint rank = grd_program_value (prog, q->in[0])->type.rank;
            at.has_axis = TRUE;
            at.n_axes = rank;
            for (gint d = 0; d < rank; d++)
              at.axes[d] = d;
          }
          if (at.n_axes > 0)
            replacement = grd_program_add_op (prog, "logsumexp", &at, q->in, 1, &e);
        }
      }
    } else if (g_str_equal (name, "div") && ins->n_in == 2 && is_const_value (prog, ins->in[0], 1.0)
               && const_does_not_broadcast (prog, ins->in[1], ins->in[0], out)
               && (p = producer (prog, ins->in[1])) && is_op (p, "add")) {
      /* 1 / (1 + exp(u)) = sigmoid(-u): the tutorials write the sigmoid out,
       * and the log rules above then see it (as Theano's rewrites do) */
      gint e_value = is_const_value (prog, p->in[0], 1.0) ? p->in[1]
                     : is_const_value (prog, p->in[1], 1.0) ? p->in[0] : -1;
      gint c_value = e_value == p->in[1] ? p->in[0] : p->in[1];
      GrdInstr *q = e_value >= 0 ? producer (prog, e_value) : NULL;
      if (q && is_op (q, "exp") && const_does_not_broadcast (prog, e_value, c_value, p->out[0])) {
        gint nu = grd_program_add_op (prog, "neg", NULL, q->in, 1, &e);
        replacement = nu >= 0 ? grd_program_add_op (prog, "sigmoid", NULL, &nu, 1, &e) : -1;
      }
    } else if (g_str_equal (name, "sub") && ins->n_in == 2 && is_const_value (prog, ins->in[0], 1.0)
               && (p = producer (prog, ins->in[1])) && is_op (p, "sigmoid")
               && const_does_not_broadcast (prog, ins->in[1], ins->in[0], out)) {
      /* 1 - sigmoid(x) = sigmoid(-x), exact where 1 - sigmoid(x) rounds to 0 */
      gint nx = grd_program_add_op (prog, "neg", NULL, p->in, 1, &e);
      replacement = nx >= 0 ? grd_program_add_op (prog, "sigmoid", NULL, &nx, 1, &e) : -1;
    } else if (g_str_equal (name, "sub") && p && is_op (p, "exp")
               && is_const_value (prog, ins->in[1], 1.0)
               && const_does_not_broadcast (prog, ins->in[0], ins->in[1], out)) {
      /* exp(x) - 1 = expm1(x) */
      replacement = grd_program_add_op (prog, "expm1", NULL, p->in, 1, &e);
    } else if (g_str_equal (name, "categorical_crossentropy") && p && is_op (p, "softmax")
               && softmax_on_last_axis (prog, p)
               && !grd_dtype_is_float (grd_program_value (prog, ins->in[1])->type.dtype)) {
      /* crossentropy(softmax(x), t) = logsumexp(x) - x[t], one stable op */
      gint in2[2] = { p->in[0], ins->in[1] };
      replacement = grd_program_add_op (prog, "_crossentropy_logits", NULL, in2, 2, &e);
    }
    if (replacement >= 0) {
      const GrdType *want = &grd_program_value (prog, out)->type;
      const GrdType *got = &grd_program_value (prog, replacement)->type;
      if (want->dtype != got->dtype || want->rank != got->rank)
        continue;  /* never change a type */
      ins = grd_program_instr (prog, i);
      grd_program_replace (prog, out, replacement);
      retire (ins);
      changed = TRUE;
    }
  }
  return changed;
}
