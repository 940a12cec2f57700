/* grd-onnx-control.c: the nodes that hold graphs of their own, as ONNX
 * operators with subgraphs.
 *
 * A core scan (`_scan`, forward or the backward scan of its gradient) is a
 * `Loop` run T times. Its body reads sequence row `pos` (the step, or T-1
 * minus it for a reverse scan) with `Gather` from the outer scope, the
 * non-sequences straight from the outer scope, and carries each fed-back
 * output: the value itself when its only lag is 1, else a buffer of its last L
 * values (tap k reads row L + k; each step drops the oldest row and appends
 * the new one). Every output that is not `last_only` is also a scan output,
 * which Loop stacks on axis 0 (turned over afterwards for a reverse scan);
 * a `last_only` output is the final carry with an axis 0 of one row.
 *
 * ifelse is an `If` whose branches are its two graphs; both read the node's
 * inputs from the outer scope.
 *
 * The subgraphs' values get fresh names (the builder's `taken` is shared),
 * so no name in a body shadows one outside, and their constants go to the
 * main graph's initializers, which subgraphs may read. */
#include "grd-onnx-build.h"

#include <string.h>

/* A builder for the graph `g` of a node, sharing the names, constants and
 * memory of `parent`; its own node list. */
static void
sub_builder_init (OnnxBuilder *sub, OnnxBuilder *parent, GrdGraph *g)
{
  *sub = *parent;
  sub->graph = g;
  sub->nodes = g_ptr_array_new ();
  sub->names = onnx_keep (parent, g_new0 (const char *, MAX (grd_graph_n_nodes (g), 1)));
}

/* Names the nodes of the subgraph not named yet, emits those that `roots`
 * need, and hands the subgraph's nodes to `g`. */
static gboolean
sub_builder_emit (OnnxBuilder *sub, OnnxBuilder *parent, const char *owner, const GrdRef *roots,
                  gint n_roots, GradusOnnx__GraphProto *g, GError **error)
{
  gint n = grd_graph_n_nodes (sub->graph);
  g_autofree gboolean *needed = g_new0 (gboolean, MAX (n, 1));
  for (gint i = 0; i < n_roots; i++)
    onnx_mark_needed (sub->graph, roots[i], needed);
  gboolean ok = TRUE;
  for (gint i = 0; i < n && ok; i++) {
    if (!needed[i])
      continue;
    GrdNode *node = grd_graph_node (sub->graph, i);
    if (!sub->names[i]) {
      if (node->kind == GRD_NODE_VARIABLE || node->kind == GRD_NODE_SHARED) {
        g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                     "node '%s': its graph reads '%s', which is none of its inputs", owner,
                     node->id ? node->id : "?");
        ok = FALSE;
        break;
      }
      g_autofree char *hint = g_strdup_printf ("%s/%s", owner, node->id ? node->id : "v");
      sub->names[i] = onnx_fresh (sub, hint);
    }
    ok = onnx_emit_node (sub, i, error);
  }
  parent->counter = sub->counter;
  if (!parent->float64_conv)
    parent->float64_conv = sub->float64_conv;
  g->n_node = sub->nodes->len;
  g->node = onnx_keep (parent, g_ptr_array_steal (sub->nodes, NULL));
  g_ptr_array_unref (sub->nodes);
  sub->nodes = NULL;
  return ok;
}

static GradusOnnx__ValueInfoProto **
value_infos (OnnxBuilder *b, GPtrArray *list, gsize *n)
{
  *n = list->len;
  return onnx_keep (b, g_ptr_array_steal (list, NULL));
}

static const char *
int64_scalar (OnnxBuilder *b, gint64 v)
{
  return onnx_scalar (b, GRD_DTYPE_INT64, (double) v);
}

/* x turned over along axis 0. */
static const char *
reverse_rows (OnnxBuilder *b, const char *x, const char *out)
{
  static const gint64 start = -1, end = G_MININT64, axis = 0, step = -1;
  return onnx_out (onnx_node (b, "Slice", out, 5, x, onnx_int64s (b, &start, 1),
                              onnx_int64s (b, &end, 1), onnx_int64s (b, &axis, 1),
                              onnx_int64s (b, &step, 1)));
}

/* The length of axis 0 of x, as a 1-d int64 of one element. */
static const char *
rows_of (OnnxBuilder *b, const char *x)
{
  OnnxNode *n = onnx_node (b, "Shape", NULL, 1, x);
  onnx_attr_int (b, n, "start", 0);
  onnx_attr_int (b, n, "end", 1);
  return onnx_out (n);
}

static gint
max_lag (const GrdScanView *s, gint o)
{
  gint l = 0;
  for (gint k = 0; k < s->out_ntaps[o]; k++)
    l = MAX (l, -s->out_taps[o * GRD_SCAN_MAX_TAPS + k]);
  return l;
}

/* The type of a fed-back output's carry: the value, or [L, ...] of it. */
static GrdType
carry_type (const GrdScanView *s, gint o)
{
  const GrdType *yt = grd_graph_ref_type (s->body, s->body_outputs[o]);
  gint lag = max_lag (s, o);
  if (lag <= 1)
    return *yt;
  GrdType t = *yt;
  t.rank = yt->rank + 1;
  t.dims[0] = lag;
  memcpy (t.dims + 1, yt->dims, sizeof (gint64) * yt->rank);
  return t;
}

gboolean
onnx_emit_scan (OnnxBuilder *b, const GrdNode *node, const char *const *in,
                const char *const *outs, GError **error)
{
  GrdScanView s;
  if (!grd_scan_view (node, &s)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "not a scan");
    return FALSE;
  }
  if (s.has_random) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "a scan body that draws random numbers has no ONNX form in the export");
    return FALSE;
  }
  gint first_seq = s.has_n_steps_input ? 1 : 0;
  gint first_init = first_seq + s.n_seq, first_nonseq = first_init + s.n_state;

  /* outside the loop: the step count T (int64 scalar), T - 1 for reverse */
  const char *T;
  if (s.has_n_steps_input) {
    T = onnx_cast (b, in[0], grd_graph_ref_type (b->graph, node->inputs[0])->dtype,
                   GRD_DTYPE_INT64);
  } else if (s.n_steps >= 0) {
    T = int64_scalar (b, s.n_steps);
  } else {
    g_autofree const char **lens = g_new0 (const char *, MAX (s.n_seq, 1));
    const char *zero = int64_scalar (b, 0);
    for (gint q = 0; q < s.n_seq; q++)
      lens[q] = onnx_out (onnx_node (b, "Gather", NULL, 2,
                                     onnx_out (onnx_node (b, "Shape", NULL, 1, in[first_seq + q])),
                                     zero));
    T = onnx_out (onnx_node_v (b, "Min", NULL, s.n_seq, lens));
  }
  const char *last = s.reverse ? onnx_out (onnx_node (b, "Sub", NULL, 2, T, int64_scalar (b, 1)))
                               : NULL;
  const char *yes = onnx_scalar (b, GRD_DTYPE_BOOL, 1);

  /* the body */
  OnnxBuilder sub;
  sub_builder_init (&sub, b, s.body);
  g_autoptr (GPtrArray) bin = g_ptr_array_new ();
  g_autoptr (GPtrArray) bout = g_ptr_array_new ();
  GrdType scalar_i64, scalar_bool;
  grd_type_set (&scalar_i64, GRD_DTYPE_INT64, 0, NULL);
  grd_type_set (&scalar_bool, GRD_DTYPE_BOOL, 0, NULL);
  const char *iter = onnx_fresh (b, "iter"), *cond = onnx_fresh (b, "cond");
  g_ptr_array_add (bin, onnx_value_info (b, iter, &scalar_i64));
  g_ptr_array_add (bin, onnx_value_info (b, cond, &scalar_bool));
  const char *pos = s.reverse ? onnx_out (onnx_node (&sub, "Sub", NULL, 2, last, iter)) : iter;
  gint bi = 0;
  for (gint q = 0; q < s.n_seq; q++, bi++) {
    OnnxNode *g = onnx_node (&sub, "Gather", NULL, 2, in[first_seq + q], pos);
    sub.names[s.body_inputs[bi].node] = onnx_out (g);
  }
  g_autofree const char **carry_in = g_new0 (const char *, MAX (s.n_out, 1));
  g_autofree const char **loop_init = g_new0 (const char *, MAX (s.n_state, 1));
  gint st = 0;
  for (gint o = 0; o < s.n_out; o++) {
    if (!s.out_ntaps[o])
      continue;
    gint lag = max_lag (&s, o);
    GrdType ct = carry_type (&s, o);
    carry_in[o] = onnx_fresh (b, "carry");
    g_ptr_array_add (bin, onnx_value_info (b, carry_in[o], &ct));
    loop_init[st] = in[first_init + st];
    st++;
    for (gint k = 0; k < s.out_ntaps[o]; k++, bi++) {
      if (lag <= 1) {
        sub.names[s.body_inputs[bi].node] = carry_in[o];
      } else {
        gint64 row = lag + s.out_taps[o * GRD_SCAN_MAX_TAPS + k];
        OnnxNode *g = onnx_node (&sub, "Gather", NULL, 2, carry_in[o], int64_scalar (b, row));
        sub.names[s.body_inputs[bi].node] = onnx_out (g);
      }
    }
  }
  for (gint m = 0; m < s.n_nonseq; m++, bi++)
    sub.names[s.body_inputs[bi].node] = in[first_nonseq + m];
  GradusOnnx__GraphProto *body = onnx_keep (b, g_malloc0 (sizeof *body));
  gradus_onnx__graph_proto__init (body);
  body->name = onnx_keep (b, g_strdup_printf ("%s/body", node->id));
  if (!sub_builder_emit (&sub, b, node->id, s.body_outputs, s.n_out, body, error))
    return FALSE;
  /* the body's outputs: the condition, the new carries, the scan outputs */
  sub.nodes = g_ptr_array_new ();
  const char *cond_out = onnx_out (onnx_node (&sub, "Identity", NULL, 1, cond));
  g_ptr_array_add (bout, onnx_value_info (b, cond_out, &scalar_bool));
  for (gint o = 0; o < s.n_out; o++) {
    if (!s.out_ntaps[o])
      continue;
    const char *y = onnx_ref_name (&sub, s.body_outputs[o]);
    gint lag = max_lag (&s, o);
    GrdType ct = carry_type (&s, o);
    const char *next;
    if (lag <= 1) {
      next = onnx_out (onnx_node (&sub, "Identity", NULL, 1, y));
    } else {
      static const gint64 one = 1, end = G_MAXINT64, axis = 0;
      const char *older = onnx_out (onnx_node (&sub, "Slice", NULL, 4, carry_in[o],
                                               onnx_int64s (b, &one, 1), onnx_int64s (b, &end, 1),
                                               onnx_int64s (b, &axis, 1)));
      const char *row = onnx_out (onnx_node (&sub, "Unsqueeze", NULL, 2, y,
                                             onnx_int64s (b, &axis, 1)));
      OnnxNode *c = onnx_node (&sub, "Concat", NULL, 2, older, row);
      onnx_attr_int (b, c, "axis", 0);
      next = onnx_out (c);
    }
    g_ptr_array_add (bout, onnx_value_info (b, next, &ct));
  }
  for (gint o = 0; o < s.n_out; o++) {
    if (s.last_only && s.last_only[o])
      continue;
    const char *y = onnx_ref_name (&sub, s.body_outputs[o]);
    const char *scanned = onnx_out (onnx_node (&sub, "Identity", NULL, 1, y));
    g_ptr_array_add (bout, onnx_value_info (b, scanned,
                                            grd_graph_ref_type (s.body, s.body_outputs[o])));
  }
  b->counter = sub.counter;
  /* the body's own nodes, then those of its outputs */
  gsize n_tail = sub.nodes->len;
  OnnxNode **nodes = onnx_keep (b, g_new (OnnxNode *, body->n_node + n_tail + 1));
  memcpy (nodes, body->node, sizeof (OnnxNode *) * body->n_node);
  memcpy (nodes + body->n_node, sub.nodes->pdata, sizeof (OnnxNode *) * n_tail);
  g_ptr_array_unref (sub.nodes);
  body->node = nodes;
  body->n_node += n_tail;
  body->input = value_infos (b, bin, &body->n_input);
  body->output = value_infos (b, bout, &body->n_output);

  /* the Loop and what its outputs become */
  g_autofree const char **lin = g_new0 (const char *, s.n_state + 2);
  lin[0] = T;
  lin[1] = yes;
  memcpy (lin + 2, loop_init, sizeof (const char *) * s.n_state);
  OnnxNode *loop = onnx_node_v (b, "Loop", NULL, s.n_state + 2, lin);
  onnx_attr_graph (b, loop, "body", body);
  g_autofree const char **final = g_new0 (const char *, MAX (s.n_out, 1));
  for (gint o = 0, first = 1; o < s.n_out; o++) {
    if (!s.out_ntaps[o])
      continue;
    final[o] = first ? onnx_out (loop) : onnx_node_add_output (b, loop, "final");
    first = 0;
  }
  if (s.n_state == 0) {
    /* Loop's first output is then the first scan output: drop the fresh
     * name made for it and count from there */
    loop->n_output = 0;
  }
  for (gint o = 0; o < s.n_out; o++) {
    static const gint64 axis = 0;
    if (s.last_only && s.last_only[o]) {
      gint lag = max_lag (&s, o);
      if (lag <= 1) {
        onnx_node (b, "Unsqueeze", outs[o], 2, final[o], onnx_int64s (b, &axis, 1));
      } else {
        gint64 from = lag - 1, to = lag;
        onnx_node (b, "Slice", outs[o], 4, final[o], onnx_int64s (b, &from, 1),
                   onnx_int64s (b, &to, 1), onnx_int64s (b, &axis, 1));
      }
      continue;
    }
    const char *scanned = onnx_node_add_output (b, loop, "scanned");
    if (s.reverse)
      reverse_rows (b, scanned, outs[o]);
    else
      onnx_node (b, "Identity", outs[o], 1, scanned);
  }
  return TRUE;
}

gboolean
onnx_emit_ifelse (OnnxBuilder *b, const GrdNode *node, const char *const *in,
                  const char *const *outs, GError **error)
{
  GrdIfElseView v;
  if (!grd_ifelse_view (node, &v)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "not an ifelse");
    return FALSE;
  }
  const char *cond = onnx_cast (b, in[0], grd_graph_ref_type (b->graph, node->inputs[0])->dtype,
                                GRD_DTYPE_BOOL);
  GradusOnnx__GraphProto *branch[2];
  for (gint k = 0; k < 2; k++) {
    OnnxBuilder sub;
    sub_builder_init (&sub, b, v.branch[k]);
    for (gint a = 0; a < v.n_args; a++)
      sub.names[v.args[k][a].node] = in[1 + a];
    branch[k] = onnx_keep (b, g_malloc0 (sizeof *branch[k]));
    gradus_onnx__graph_proto__init (branch[k]);
    branch[k]->name = onnx_keep (b, g_strdup_printf ("%s/%s", node->id, k ? "else" : "then"));
    if (!sub_builder_emit (&sub, b, node->id, v.outs[k], v.n_out, branch[k], error))
      return FALSE;
    /* each branch output a value of the branch's own (an outer value
     * cannot be a subgraph's output) */
    sub.nodes = g_ptr_array_new ();
    g_autoptr (GPtrArray) bout = g_ptr_array_new ();
    for (gint o = 0; o < v.n_out; o++) {
      const char *y = onnx_ref_name (&sub, v.outs[k][o]);
      const char *r = onnx_out (onnx_node (&sub, "Identity", NULL, 1, y));
      g_ptr_array_add (bout, onnx_value_info (b, r, grd_graph_ref_type (v.branch[k], v.outs[k][o])));
    }
    b->counter = sub.counter;
    gsize n_tail = sub.nodes->len;
    OnnxNode **nodes = onnx_keep (b, g_new (OnnxNode *, branch[k]->n_node + n_tail + 1));
    memcpy (nodes, branch[k]->node, sizeof (OnnxNode *) * branch[k]->n_node);
    memcpy (nodes + branch[k]->n_node, sub.nodes->pdata, sizeof (OnnxNode *) * n_tail);
    g_ptr_array_unref (sub.nodes);
    branch[k]->node = nodes;
    branch[k]->n_node += n_tail;
    branch[k]->output = value_infos (b, bout, &branch[k]->n_output);
  }
  OnnxNode *n = onnx_node (b, "If", outs[0], 1, cond);
  char **list = onnx_keep (b, g_new0 (char *, MAX (v.n_out, 1)));
  for (gint o = 0; o < v.n_out; o++)
    list[o] = (char *) outs[o];
  n->output = list;
  n->n_output = v.n_out;
  onnx_attr_graph (b, n, "then_branch", branch[0]);
  onnx_attr_graph (b, n, "else_branch", branch[1]);
  return TRUE;
}

/* ------------------------------------------------------------ taps */

/* The step count of a `_tap_gather` / `_tap_scatter` as a 1-d int64 of one
 * element: the n_steps input, the fixed count, or the sequence's rows less
 * the span of its taps. */
static const char *
tap_steps (OnnxBuilder *b, const GrdNode *node, const char *seq, const char *n_steps,
           gint n_steps_input)
{
  const GrdAttrs *a = &node->attrs;
  if (n_steps) {
    static const gint64 one = 1;
    const char *t = onnx_cast (b, n_steps, onnx_in_type (b, node, n_steps_input)->dtype,
                               GRD_DTYPE_INT64);
    return onnx_out (onnx_node (b, "Reshape", NULL, 2, t, onnx_int64s (b, &one, 1)));
  }
  if (a->end[0] != GRD_SLICE_NONE)
    return onnx_int64s (b, &a->end[0], 1);
  gint64 span = a->step[0];
  return onnx_out (onnx_node (b, "Sub", NULL, 2, rows_of (b, seq), onnx_int64s (b, &span, 1)));
}

/* Row t is row begin + t of the sequence, or of the sequence turned over
 * (go_backwards): two slices. */
ONNX_EMITTER (onnx_emit_tap_gather)
{
  const GrdAttrs *a = &node->attrs;
  const char *x = a->keepdims ? reverse_rows (b, in[0], NULL) : in[0];
  const char *T = tap_steps (b, node, in[0], node->n_inputs > 1 ? in[1] : NULL, 1);
  const char *begin = onnx_int64s (b, &a->begin[0], 1);
  static const gint64 axis = 0;
  const char *end = onnx_out (onnx_node (b, "Add", NULL, 2, T, begin));
  onnx_node (b, "Slice", out, 4, x, begin, end, onnx_int64s (b, &axis, 1));
  return TRUE;
}

/* The gradient's rows added back where the gather read them: the rows read
 * are distinct, so this is g padded with zero rows (then turned over). */
ONNX_EMITTER (onnx_emit_tap_scatter)
{
  const GrdAttrs *a = &node->attrs;
  gint rank = onnx_in_type (b, node, 1)->rank;
  const char *T = tap_steps (b, node, in[1], node->n_inputs > 2 ? in[2] : NULL, 2);
  const char *begin = onnx_int64s (b, &a->begin[0], 1);
  /* after = rows - begin - T */
  const char *after = onnx_out (onnx_node (b, "Sub", NULL, 2,
                                           onnx_out (onnx_node (b, "Sub", NULL, 2,
                                                                rows_of (b, in[1]), begin)),
                                           T));
  g_autofree gint64 *zeros = g_new0 (gint64, MAX (rank, 1));
  const char *rest = rank > 1 ? onnx_int64s (b, zeros, rank - 1) : NULL;
  const char *parts[4] = { begin, rest, after, rest };
  g_autofree const char **list = g_new0 (const char *, 4);
  gint np = 0;
  for (gint i = 0; i < 4; i++)
    if (parts[i])
      list[np++] = parts[i];
  OnnxNode *c = onnx_node_v (b, "Concat", NULL, np, list);
  onnx_attr_int (b, c, "axis", 0);
  const char *padded = onnx_out (onnx_node (b, "Pad", a->keepdims ? NULL : out, 2, in[0],
                                            onnx_out (c)));
  if (a->keepdims)
    reverse_rows (b, padded, out);
  return TRUE;
}
