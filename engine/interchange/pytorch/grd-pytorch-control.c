/* grd-pytorch-control.c: scan and ifelse in the PyTorch script. Each graph
 * of such a node (a scan's body, an ifelse's branches) becomes a Python
 * function of its inputs, one line per node, written before `call`; the node
 * is a call of the preamble's `_scan` (a for loop over the steps) or
 * `_ifelse` (an if). The script takes gradients with torch.autograd through
 * the loop, so the backward scans Gradus builds are not needed here. */
#include "grd-pytorch-private.h"

#include <string.h>

gboolean
pytorch_is_control (const GrdNode *node)
{
  const char *op = node->op ? node->op->name : "";
  return g_str_equal (op, "_scan") || g_str_equal (op, "ifelse") || g_str_equal (op, "_tap_gather");
}

static char *
sanitized (const char *prefix, const char *id)
{
  GString *n = g_string_new (prefix);
  for (const char *p = id ? id : "v"; *p; p++)
    g_string_append_c (n, g_ascii_isalnum (*p) ? *p : '_');
  return g_string_free (n, FALSE);
}

/* A Python name for a function, not used before. */
static const char *
fresh_def_name (Script *s, const char *prefix, const char *id)
{
  g_autofree char *base = sanitized (prefix, id);
  char *name = g_strdup (base);
  for (gint k = 2; g_hash_table_contains (s->used, name); k++) {
    g_free (name);
    name = g_strdup_printf ("%s_%d", base, k);
  }
  g_hash_table_add (s->used, name);
  return name;
}

static char *
local_ref (char **names, GrdRef r)
{
  return r.output ? g_strdup_printf ("%s_%d", names[r.node], r.output) : g_strdup (names[r.node]);
}

/* def NAME(args): the nodes of `g` that `outs` need, returning them as a list. */
static gboolean
emit_def (Script *s, const char *name, GrdGraph *g, const GrdRef *args, gint n_args,
          const GrdRef *outs, gint n_outs, const char *owner, GError **error)
{
  gint n = grd_graph_n_nodes (g);
  g_autofree gboolean *needed = g_new0 (gboolean, MAX (n, 1));
  for (gint i = 0; i < n_outs; i++)
    needed[outs[i].node] = TRUE;
  for (gint i = n - 1; i >= 0; i--) {
    GrdNode *node = grd_graph_node (g, i);
    if (needed[i])
      for (gint j = 0; j < node->n_inputs; j++)
        needed[node->inputs[j].node] = TRUE;
  }
  char **names = g_new0 (char *, MAX (n, 1) + 1);
  GString *d = g_string_new (NULL);
  g_string_append_printf (d, "def %s(", name);
  for (gint a = 0; a < n_args; a++) {
    g_autofree char *p = g_strdup_printf ("a%d_", a);
    if (!names[args[a].node])
      names[args[a].node] = sanitized (p, grd_graph_node_id (g, args[a].node));
    g_string_append_printf (d, "%s%s", a ? ", " : "", names[args[a].node]);
  }
  g_string_append_printf (d, "):\n    \"\"\"A graph of node '%s'.\"\"\"\n", owner);
  gboolean ok = TRUE;
  for (gint i = 0; i < n && ok; i++) {
    if (!needed[i])
      continue;
    GrdNode *node = grd_graph_node (g, i);
    if (node->kind == GRD_NODE_VARIABLE || node->kind == GRD_NODE_SHARED) {
      if (!names[i]) {
        g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "node '%s': its graph reads '%s', "
                     "which is none of its inputs", owner, node->id);
        ok = FALSE;
      }
      continue;
    }
    g_autofree char *p = g_strdup_printf ("t%d_", i);
    names[i] = sanitized (p, node->id);
    if (node->kind == GRD_NODE_CONSTANT) {
      g_autofree char *stem = g_strdup_printf ("%s-%d", name, i);
      g_string_append_printf (d, "    %s = ", names[i]);
      GString *saved = s->out;
      s->out = d;
      ok = pytorch_append_value (s, stem, node->value, error);
      s->out = saved;
      g_string_append (d, "\n");
      continue;
    }
    if (node->kind != GRD_NODE_OP) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "node '%s': a node of this kind "
                   "inside the graph of '%s' has no PyTorch form in the export", node->id, owner);
      ok = FALSE;
      continue;
    }
    char **in = g_new0 (char *, node->n_inputs + 1);
    const GrdType **types = g_new0 (const GrdType *, node->n_inputs + 1);
    for (gint j = 0; j < node->n_inputs; j++) {
      in[j] = local_ref (names, node->inputs[j]);
      types[j] = grd_graph_ref_type (g, node->inputs[j]);
    }
    gboolean control = pytorch_is_control (node);
    char *expr = NULL;
    if (g_str_equal (node->op->name, "_random"))
      g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "node '%s': a random node inside the "
                   "graph of '%s' has no PyTorch form in the export", node->id, owner);
    else
      expr = control ? pytorch_control_expr (s, node, in, error)
                     : pytorch_op_expr (node, in, types, error);
    ok = expr != NULL;
    if (ok) {
      g_string_append (d, "    ");
      for (gint k = 0; k < node->n_outputs; k++) {
        g_autofree char *r = local_ref (names, (GrdRef) { i, k });
        g_string_append_printf (d, "%s%s", k ? ", " : "", r);
      }
      gboolean list = control && !g_str_equal (node->op->name, "_tap_gather");
      g_string_append_printf (d, "%s = %s\n", list && node->n_outputs == 1 ? "," : "", expr);
    }
    g_free (expr);
    g_strfreev (in);
    g_free (types);
  }
  if (ok) {
    g_string_append (d, "    return [");
    for (gint o = 0; o < n_outs; o++) {
      g_autofree char *r = local_ref (names, outs[o]);
      g_string_append_printf (d, "%s%s", o ? ", " : "", r);
    }
    g_string_append (d, "]\n\n\n");
    g_string_append (s->defs, d->str);
  }
  g_string_free (d, TRUE);
  for (gint i = 0; i < n; i++)
    g_free (names[i]);
  g_free (names);
  return ok;
}

static char *
scan_expr (Script *s, const GrdNode *node, char *const *in, GError **error)
{
  GrdScanView v;
  if (!grd_scan_view (node, &v)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s': not a scan", node->id);
    return NULL;
  }
  if (v.reverse || v.last_only) {
    /* only gradient scans run backwards; the script differentiates the
     * forward loop itself */
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "node '%s': a backward scan has no "
                 "PyTorch form in the export (torch.autograd differentiates the loop)", node->id);
    return NULL;
  }
  const char *fname = fresh_def_name (s, "scan_body_", node->id);
  if (!emit_def (s, fname, v.body, v.body_inputs, v.n_body_inputs, v.body_outputs, v.n_out,
                 node->id, error))
    return NULL;
  gint first_seq = v.has_n_steps_input ? 1 : 0;
  gint first_init = first_seq + v.n_seq, first_nonseq = first_init + v.n_state;
  GString *e = g_string_new ("_scan(");
  g_string_append_printf (e, "%s, ", fname);
  if (v.has_n_steps_input)
    g_string_append (e, in[0]);
  else if (v.n_steps >= 0)
    g_string_append_printf (e, "%" G_GINT64_FORMAT, v.n_steps);
  else
    g_string_append (e, "None");
  g_string_append (e, ", [");
  for (gint q = 0; q < v.n_seq; q++)
    g_string_append_printf (e, "%s%s", q ? ", " : "", in[first_seq + q]);
  g_string_append (e, "], [");
  for (gint o = 0, st = 0; o < v.n_out; o++) {
    if (!v.out_ntaps[o])
      continue;
    gint lag = 0;
    g_string_append_printf (e, "%s(%d, %s, [", st ? ", " : "", o, in[first_init + st]);
    for (gint k = 0; k < v.out_ntaps[o]; k++) {
      gint tap = v.out_taps[o * GRD_SCAN_MAX_TAPS + k];
      lag = MAX (lag, -tap);
      g_string_append_printf (e, "%s%d", k ? ", " : "", tap);
    }
    g_string_append_printf (e, "], %d)", lag);
    st++;
  }
  g_string_append (e, "], [");
  for (gint m = 0; m < v.n_nonseq; m++)
    g_string_append_printf (e, "%s%s", m ? ", " : "", in[first_nonseq + m]);
  g_string_append_printf (e, "], %d)", v.n_out);
  return g_string_free (e, FALSE);
}

static char *
ifelse_expr (Script *s, const GrdNode *node, char *const *in, GError **error)
{
  GrdIfElseView v;
  if (!grd_ifelse_view (node, &v)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s': not an ifelse", node->id);
    return NULL;
  }
  const char *fn[2];
  for (gint b = 0; b < 2; b++) {
    fn[b] = fresh_def_name (s, b ? "else_" : "then_", node->id);
    if (!emit_def (s, fn[b], v.branch[b], v.args[b], v.n_args, v.outs[b], v.n_out, node->id,
                   error))
      return NULL;
  }
  GString *e = g_string_new (NULL);
  g_string_append_printf (e, "_ifelse(%s, %s, %s, [", in[0], fn[0], fn[1]);
  for (gint a = 0; a < v.n_args; a++)
    g_string_append_printf (e, "%s%s", a ? ", " : "", in[1 + a]);
  g_string_append (e, "])");
  return g_string_free (e, FALSE);
}

/* Row t is row begin + t of the sequence (turned over for go_backwards). */
static char *
tap_gather_expr (const GrdNode *node, char *const *in)
{
  const GrdAttrs *a = &node->attrs;
  GString *e = g_string_new (NULL);
  g_string_append_printf (e, "_tap_gather(%s, %" G_GINT64_FORMAT ", ", in[0], a->begin[0]);
  if (a->end[0] != GRD_SLICE_NONE)
    g_string_append_printf (e, "%" G_GINT64_FORMAT, a->end[0]);
  else
    g_string_append (e, "None");
  g_string_append_printf (e, ", %" G_GINT64_FORMAT ", %s, %s)", a->step[0],
                          a->keepdims ? "True" : "False", node->n_inputs > 1 ? in[1] : "None");
  return g_string_free (e, FALSE);
}

char *
pytorch_control_expr (Script *s, const GrdNode *node, char *const *in, GError **error)
{
  if (g_str_equal (node->op->name, "_scan"))
    return scan_expr (s, node, in, error);
  if (g_str_equal (node->op->name, "ifelse"))
    return ifelse_expr (s, node, in, error);
  return tap_gather_expr (node, in);
}
