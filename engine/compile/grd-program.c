/* grd-program.c: building, editing and ordering the compiler's program. */
#include "grd-program.h"
#include "grd-fuse.h"

#include <string.h>

gint
grd_program_add_value (GrdProgram *prog, const GrdType *type, gint origin)
{
  GrdPValue v = { 0 };
  v.kind = GRD_PVALUE_TEMP;
  v.type = *type;
  v.producer = -1;
  v.origin = origin;
  v.input_index = -1;
  v.shared_node = -1;
  g_array_append_val (prog->values, v);
  return prog->values->len - 1;
}

gint
grd_program_add_constant (GrdProgram *prog, GrdTensor *value)
{
  GrdType t;
  grd_type_set (&t, value->dtype, value->rank, value->shape);
  gint id = grd_program_add_value (prog, &t, -1);
  GrdPValue *v = grd_program_value (prog, id);
  v->kind = GRD_PVALUE_CONSTANT;
  v->constant = grd_tensor_ref (value);
  return id;
}

static void readers_invalidate (GrdProgram *prog);

static gint
append_instr (GrdProgram *prog, const GrdOpDef *op, const GrdAttrs *attrs, const gint *in, gint n_in,
              const GrdType *out_types, gint n_out, gint origin, const char *label)
{
  GrdInstr ins = { 0 };
  ins.kind = GRD_INSTR_OP;
  ins.op = op;
  if (attrs)
    ins.attrs = *attrs;
  else
    grd_attrs_init (&ins.attrs);
  ins.in = g_memdup2 (in, sizeof (gint) * MAX (n_in, 1));
  ins.n_in = n_in;
  ins.out = g_new (gint, MAX (n_out, 1));
  ins.n_out = n_out;
  ins.label = g_strdup (label);
  gint index = prog->instrs->len;
  for (gint k = 0; k < n_out; k++) {
    ins.out[k] = grd_program_add_value (prog, &out_types[k], origin);
    grd_program_value (prog, ins.out[k])->producer = index;
  }
  g_array_append_val (prog->instrs, ins);
  return index;
}

gint
grd_program_add_op (GrdProgram *prog, const char *opname, const GrdAttrs *attrs, const gint *in,
                    gint n_in, GError **error)
{
  const GrdOpDef *op = grd_op_lookup (opname);
  g_assert (op != NULL && op->n_outputs == 1);
  GrdType in_types[n_in + 1], out[8];
  for (gint i = 0; i < n_in; i++)
    in_types[i] = grd_program_value (prog, in[i])->type;
  GrdAttrs a;
  if (attrs)
    a = *attrs;
  else
    grd_attrs_init (&a);
  if (!op->infer (&a, in_types, n_in, out, error))
    return -1;
  gint index = append_instr (prog, op, &a, in, n_in, out, 1, -1, opname);
  return grd_program_instr (prog, index)->out[0];
}

GrdProgram *
grd_program_new (GrdGraph *g, const GrdRef *inputs, gint n_inputs, const GrdRef *outputs,
                 gint n_outputs, const GrdUpdate *updates, gint n_updates)
{
  GrdProgram *prog = g_new0 (GrdProgram, 1);
  prog->graph = grd_graph_ref (g);
  prog->values = g_array_new (FALSE, FALSE, sizeof (GrdPValue));
  prog->instrs = g_array_new (FALSE, FALSE, sizeof (GrdInstr));
  prog->outputs = g_array_new (FALSE, FALSE, sizeof (gint));
  prog->upd_shared = g_array_new (FALSE, FALSE, sizeof (gint));
  prog->upd_values = g_array_new (FALSE, FALSE, sizeof (gint));
  prog->n_inputs = n_inputs;

  gint n = grd_graph_n_nodes (g);
  g_autofree gboolean *needed = g_new0 (gboolean, MAX (n, 1));
  g_autofree gint *first_value = g_new (gint, MAX (n, 1));
  for (gint i = 0; i < n_outputs; i++)
    needed[outputs[i].node] = TRUE;
  for (gint i = 0; i < n_updates; i++)
    needed[updates[i].value.node] = TRUE;
  for (gint i = n - 1; i >= 0; i--) {
    GrdNode *node = grd_graph_node (g, i);
    if (needed[i] && node->kind == GRD_NODE_OP)
      for (gint j = 0; j < node->n_inputs; j++)
        needed[node->inputs[j].node] = TRUE;
  }
  for (gint i = 0; i < n_inputs; i++)
    needed[inputs[i].node] = TRUE;
  /* room for every instruction and value at once: growing by doubling copied
   * large programs (100,000 nodes) several times over */
  guint n_ops = 0, n_vals = 0;
  for (gint i = 0; i < n; i++) {
    n_ops += needed[i] && grd_graph_node (g, i)->kind == GRD_NODE_OP;
    n_vals += needed[i] ? grd_graph_node (g, i)->n_outputs : 0;
  }
  g_array_set_size (prog->instrs, n_ops);
  g_array_set_size (prog->instrs, 0);
  g_array_set_size (prog->values, n_vals);
  g_array_set_size (prog->values, 0);
  for (gint i = 0; i < n; i++) {
    first_value[i] = -1;
    if (!needed[i])
      continue;
    GrdNode *node = grd_graph_node (g, i);
    switch (node->kind) {
    case GRD_NODE_VARIABLE:
    case GRD_NODE_SHARED: {
      gint id = grd_program_add_value (prog, &node->types[0], i);
      GrdPValue *v = grd_program_value (prog, id);
      if (node->kind == GRD_NODE_SHARED) {
        v->kind = GRD_PVALUE_SHARED;
        v->shared_node = i;
      } else {
        v->kind = GRD_PVALUE_INPUT;
        for (gint k = 0; k < n_inputs; k++)
          if (inputs[k].node == i)
            v->input_index = k;
      }
      first_value[i] = id;
      break;
    }
    case GRD_NODE_CONSTANT:
      first_value[i] = grd_program_add_constant (prog, node->value);
      grd_program_value (prog, first_value[i])->origin = i;
      break;
    case GRD_NODE_OP: {
      gint in[node->n_inputs + 1];
      for (gint j = 0; j < node->n_inputs; j++)
        in[j] = first_value[node->inputs[j].node] + node->inputs[j].output;
      gint index = append_instr (prog, node->op, &node->attrs, in, node->n_inputs, node->types,
                                 node->n_outputs, i, node->id);
      first_value[i] = grd_program_instr (prog, index)->out[0];
      break;
    }
    case GRD_NODE_GRAD:
      break;
    }
  }
  for (gint i = 0; i < n_outputs; i++) {
    gint id = first_value[outputs[i].node] + outputs[i].output;
    g_array_append_val (prog->outputs, id);
  }
  for (gint i = 0; i < n_updates; i++) {
    gint id = first_value[updates[i].value.node] + updates[i].value.output;
    g_array_append_val (prog->upd_shared, updates[i].shared.node);
    g_array_append_val (prog->upd_values, id);
  }
  grd_program_sweep (prog);
  return prog;
}

static void
instr_clear (GrdInstr *ins)
{
  g_free (ins->in);
  g_free (ins->out);
  g_free (ins->label);
  if (ins->fused)
    grd_fused_free (ins->fused);
  memset (ins, 0, sizeof *ins);
  ins->kind = GRD_INSTR_DEAD;
}

void
grd_program_free (GrdProgram *prog)
{
  if (!prog)
    return;
  for (guint i = 0; i < prog->instrs->len; i++)
    instr_clear (grd_program_instr (prog, i));
  for (guint i = 0; i < prog->values->len; i++)
    grd_tensor_unref (grd_program_value (prog, i)->constant);
  g_array_unref (prog->values);
  g_array_unref (prog->instrs);
  g_array_unref (prog->outputs);
  g_array_unref (prog->upd_shared);
  g_array_unref (prog->upd_values);
  readers_invalidate (prog);
  grd_graph_unref (prog->graph);
  g_free (prog);
}

/* One input slot that reads a value. */
typedef struct {
  gint instr;
  gint slot;
} GrdReader;

static void
readers_add (GrdProgram *prog, gint value, gint instr, gint slot)
{
  while (prog->readers->len <= (guint) value)
    g_ptr_array_add (prog->readers, NULL);
  GArray *list = g_ptr_array_index (prog->readers, value);
  if (!list) {
    list = g_array_new (FALSE, FALSE, sizeof (GrdReader));
    prog->readers->pdata[value] = list;
  }
  GrdReader r = { instr, slot };
  g_array_append_val (list, r);
}

static void
reader_list_free (gpointer list)
{
  if (list)
    g_array_unref (list);
}

static void
readers_invalidate (GrdProgram *prog)
{
  g_clear_pointer (&prog->readers, g_ptr_array_unref);
  prog->readers_n_instrs = 0;
}

/* Indexes the instructions appended since the index was made (all of them the
 * first time), so that a replacement visits only the readers of its value. */
static void
readers_update (GrdProgram *prog)
{
  if (!prog->readers)
    prog->readers = g_ptr_array_new_with_free_func (reader_list_free);
  for (guint i = prog->readers_n_instrs; i < prog->instrs->len; i++) {
    GrdInstr *ins = grd_program_instr (prog, i);
    for (gint j = 0; j < ins->n_in; j++)
      readers_add (prog, ins->in[j], i, j);
  }
  prog->readers_n_instrs = prog->instrs->len;
}

void
grd_program_replace (GrdProgram *prog, gint from, gint to)
{
  if (from == to)
    return;
  /* Linear over a whole pass: each reader moves from list to list, instead of
   * every replacement scanning every instruction (quadratic on long chains). */
  readers_update (prog);
  GArray *list = (guint) from < prog->readers->len ? g_ptr_array_index (prog->readers, from) : NULL;
  if (list) {
    prog->readers->pdata[from] = NULL;
    for (guint k = 0; k < list->len; k++) {
      GrdReader r = g_array_index (list, GrdReader, k);
      GrdInstr *ins = grd_program_instr (prog, r.instr);
      /* entries are hints: a slot rewritten since then is left alone */
      if (ins->kind == GRD_INSTR_DEAD || r.slot >= ins->n_in || ins->in[r.slot] != from)
        continue;
      ins->in[r.slot] = to;
      readers_add (prog, to, r.instr, r.slot);
    }
    g_array_unref (list);
  }
  for (guint i = 0; i < prog->outputs->len; i++)
    if (g_array_index (prog->outputs, gint, i) == from)
      g_array_index (prog->outputs, gint, i) = to;
  for (guint i = 0; i < prog->upd_values->len; i++)
    if (g_array_index (prog->upd_values, gint, i) == from)
      g_array_index (prog->upd_values, gint, i) = to;
}

/* Whether every instruction is live and comes after the producers of its
 * inputs: then the depth-first order below is the present order. */
static gboolean
already_sorted (GrdProgram *prog)
{
  for (guint i = 0; i < prog->instrs->len; i++) {
    GrdInstr *ins = grd_program_instr (prog, i);
    if (ins->kind == GRD_INSTR_DEAD)
      return FALSE;
    for (gint k = 0; k < ins->n_out; k++)
      if (grd_program_value (prog, ins->out[k])->producer != (gint) i)
        return FALSE;
    for (gint j = 0; j < ins->n_in; j++) {
      GrdPValue *v = grd_program_value (prog, ins->in[j]);
      if (v->kind == GRD_PVALUE_TEMP && v->producer >= (gint) i)
        return FALSE;
    }
  }
  return TRUE;
}

void
grd_program_sort (GrdProgram *prog)
{
  readers_invalidate (prog);
  /* passes re-sort often; copying every (large) instruction each time made
   * long programs slow to compile */
  if (already_sorted (prog))
    return;
  /* Depth-first from each instruction: producers before readers. */
  guint n = prog->instrs->len;
  g_autofree guint8 *state = g_new0 (guint8, MAX (n, 1));
  g_autoptr (GArray) order = g_array_sized_new (FALSE, FALSE, sizeof (GrdInstr), n);
  g_autofree gint *new_index = g_new (gint, MAX (n, 1));
  g_autoptr (GArray) stack = g_array_new (FALSE, FALSE, sizeof (gint));
  for (guint root = 0; root < n; root++) {
    if (state[root] || grd_program_instr (prog, root)->kind == GRD_INSTR_DEAD)
      continue;
    gint r = root;
    g_array_append_val (stack, r);
    while (stack->len) {
      gint i = g_array_index (stack, gint, stack->len - 1);
      GrdInstr *ins = grd_program_instr (prog, i);
      if (state[i] == 2) {
        g_array_set_size (stack, stack->len - 1);
        continue;
      }
      state[i] = 1;
      gboolean pushed = FALSE;
      for (gint j = 0; j < ins->n_in; j++) {
        GrdPValue *v = grd_program_value (prog, ins->in[j]);
        if (v->kind == GRD_PVALUE_TEMP && v->producer >= 0 && state[v->producer] == 0
            && grd_program_instr (prog, v->producer)->kind != GRD_INSTR_DEAD) {
          g_array_append_val (stack, v->producer);
          pushed = TRUE;
        }
      }
      if (!pushed) {
        state[i] = 2;
        new_index[i] = order->len;
        g_array_append_val (order, *ins);
        g_array_set_size (stack, stack->len - 1);
      }
    }
  }
  /* Dead instructions are dropped; their storage is freed. */
  for (guint i = 0; i < n; i++)
    if (grd_program_instr (prog, i)->kind == GRD_INSTR_DEAD)
      instr_clear (grd_program_instr (prog, i));
  /* the new order replaces the old array (no copy back) */
  g_array_unref (prog->instrs);
  prog->instrs = g_steal_pointer (&order);
  for (guint i = 0; i < prog->instrs->len; i++) {
    GrdInstr *ins = grd_program_instr (prog, i);
    for (gint k = 0; k < ins->n_out; k++)
      grd_program_value (prog, ins->out[k])->producer = i;
  }
}

void
grd_program_sweep (GrdProgram *prog)
{
  grd_program_sort (prog);
  for (guint i = 0; i < prog->values->len; i++)
    grd_program_value (prog, i)->n_uses = 0;
  for (guint i = 0; i < prog->outputs->len; i++)
    grd_program_value (prog, g_array_index (prog->outputs, gint, i))->n_uses++;
  for (guint i = 0; i < prog->upd_values->len; i++)
    grd_program_value (prog, g_array_index (prog->upd_values, gint, i))->n_uses++;
  for (gint i = prog->instrs->len - 1; i >= 0; i--) {
    GrdInstr *ins = grd_program_instr (prog, i);
    gboolean live = FALSE;
    for (gint k = 0; k < ins->n_out; k++)
      live |= grd_program_value (prog, ins->out[k])->n_uses > 0;
    if (!live) {
      instr_clear (ins);
      continue;
    }
    for (gint j = 0; j < ins->n_in; j++)
      grd_program_value (prog, ins->in[j])->n_uses++;
  }
  grd_program_sort (prog);
}

char *
grd_program_describe (GrdProgram *prog)
{
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < prog->instrs->len; i++) {
    GrdInstr *ins = grd_program_instr (prog, i);
    for (gint k = 0; k < ins->n_out; k++)
      g_string_append_printf (s, "%sv%d", k ? ", " : "", ins->out[k]);
    const char *name = ins->kind == GRD_INSTR_FUSED ? "fused"
                       : ins->kind == GRD_INSTR_GEMM ? "gemm" : ins->op->name;
    if (ins->kind == GRD_INSTR_KERNEL)
      g_string_append (s, "[fast] ");
    g_string_append_printf (s, " = %s(", name);
    for (gint j = 0; j < ins->n_in; j++) {
      GrdPValue *v = grd_program_value (prog, ins->in[j]);
      g_string_append_printf (s, "%sv%d", j ? ", " : "", ins->in[j]);
      if (v->kind == GRD_PVALUE_CONSTANT && v->constant->size == 1)
        g_string_append_printf (s, "=%g", grd_tensor_get (v->constant, 0));
    }
    g_autofree char *t = grd_type_describe (&grd_program_value (prog, ins->out[0])->type);
    g_string_append_printf (s, ")  %s", t);
    if (ins->kind == GRD_INSTR_FUSED) {
      g_autofree char *f = grd_fused_describe (ins->fused);
      g_string_append_printf (s, "  { %s }", f);
    }
    if (ins->kind == GRD_INSTR_GEMM)
      g_string_append_printf (s, "  trans_a=%d trans_b=%d alpha=%g beta=%g", ins->trans_a,
                              ins->trans_b, ins->alpha, ins->beta);
    g_string_append_c (s, '\n');
  }
  g_string_append (s, "outputs:");
  for (guint i = 0; i < prog->outputs->len; i++)
    g_string_append_printf (s, " v%d", g_array_index (prog->outputs, gint, i));
  g_string_append (s, "\nupdates:");
  for (guint i = 0; i < prog->upd_values->len; i++)
    g_string_append_printf (s, " %s<-v%d",
                            grd_graph_node_id (prog->graph, g_array_index (prog->upd_shared, gint, i)),
                            g_array_index (prog->upd_values, gint, i));
  g_string_append_c (s, '\n');
  return g_string_free (s, FALSE);
}

void
grd_program_optimize (GrdProgram *prog, GrdPasses passes)
{
  /* Clean-up passes feed each other: repeat until nothing changes (bounded). */
  for (gint round = 0; round < 8; round++) {
    gboolean changed = FALSE;
    /* each pass starts with a fresh replacement index (passes may edit inputs) */
    readers_invalidate (prog);
    if (passes & GRD_PASS_MERGE)
      changed |= grd_pass_merge (prog);
    readers_invalidate (prog);
    if (passes & GRD_PASS_CONSTANT_FOLD)
      changed |= grd_pass_constant_fold (prog);
    readers_invalidate (prog);
    if (passes & GRD_PASS_SIMPLIFY)
      changed |= grd_pass_simplify (prog);
    readers_invalidate (prog);
    if (passes & GRD_PASS_STABILIZE)
      changed |= grd_pass_stabilize (prog);
    grd_program_sweep (prog);
    if (!changed)
      break;
  }
  if (passes & GRD_PASS_KERNELS) {
    grd_pass_pool_argmax (prog);
    grd_program_sweep (prog);
  }
  if (passes & GRD_PASS_GEMM) {
    grd_pass_gemm (prog);
    grd_program_sweep (prog);
  }
  if (passes & GRD_PASS_FUSE) {
    grd_pass_fuse (prog);
    grd_program_sweep (prog);
  }
  if (passes & GRD_PASS_KERNELS)
    grd_pass_kernels (prog);
}
