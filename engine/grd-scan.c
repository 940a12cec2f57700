/* grd-scan.c: theano.scan: a loop whose step is a graph of its own (the body),
 * and its gradient, backpropagation through time, which is itself a scan.
 *
 * grd_graph_scan lowers what the user writes to a core loop, the `_scan` op:
 * every tap of every sequence becomes a plain sequence of length n_steps
 * (`_tap_gather`: the sequence shifted by the tap, reversed for go_backwards),
 * so the core reads sequence row t at step t. Fed-back outputs keep their
 * taps: step t reads the output of step t + k, or a row of the initial value
 * for the first steps. The body is compiled once (the CPU compiler: fusion,
 * gemm) into a function that every step calls; sequence rows and earlier
 * outputs are passed as views, without copies.
 *
 * The gradient of a core scan is a core scan that runs backwards (`reverse`):
 * its body is the gradient graph of the forward body, it reads the forward
 * inputs and outputs and the output gradients as sequences, and carries the
 * pending gradients of the fed-back outputs (one row per tap) and the sums of
 * the non-sequences' gradients. */
#include "grd-internal.h"

#include <string.h>

typedef struct {
  GrdOpExtra   base;
  GrdGraph    *body;
  GrdRef      *body_inputs;   /* seqs, then state taps (output order), then non-seqs */
  gint         n_body_inputs;
  GrdRef      *body_outputs;
  gint         n_out;
  gint         n_seq;
  gint        *out_ntaps;     /* per output: 0 when it is not fed back */
  gint        *out_taps;      /* per output GRD_SCAN_MAX_TAPS entries, all negative */
  gint         n_state;
  gint         n_nonseq;
  gboolean     has_n_steps_input;
  gint64       n_steps;       /* fixed, or -1 */
  gboolean     reverse;       /* step i computes position T - 1 - i (gradient scans) */
  gboolean    *last_only;     /* per output: keep the last step's value only, as a
                               * [1, ...] array (gradient scans' carries; tap -1) */
  gboolean     has_random;    /* the body draws random numbers */
  gint         n_draws;       /* the last n_draws outputs are the body's random nodes'
                               * draws, kept for the gradient (not user outputs) */
  GMutex       lock;          /* the compiled body is not reentrant */
  GrdFunction *fn;
} ScanInfo;

static void
scan_info_finalize (GrdOpExtra *e)
{
  ScanInfo *s = (ScanInfo *) e;
  grd_function_free (s->fn);
  grd_graph_unref (s->body);
  g_free (s->body_inputs);
  g_free (s->body_outputs);
  g_free (s->out_ntaps);
  g_free (s->out_taps);
  g_free (s->last_only);
  g_mutex_clear (&s->lock);
  g_free (s);
}

gint
grd_scan_max_lag (const gint *out_ntaps, const gint *out_taps, gint o)
{
  gint l = 0;
  for (gint k = 0; k < out_ntaps[o]; k++)
    l = MAX (l, -out_taps[o * GRD_SCAN_MAX_TAPS + k]);
  return l;
}

static gint
max_lag (const ScanInfo *s, gint o)
{
  return grd_scan_max_lag (s->out_ntaps, s->out_taps, o);
}

/* The first input of each group of the node's inputs. */
static gint first_seq (const ScanInfo *s) { return s->has_n_steps_input ? 1 : 0; }
static gint first_init (const ScanInfo *s) { return first_seq (s) + s->n_seq; }
static gint first_nonseq (const ScanInfo *s) { return first_init (s) + s->n_state; }

static gboolean
body_has_random (GrdGraph *body)
{
  for (gint i = 0; i < grd_graph_n_nodes (body); i++) {
    GrdNode *n = grd_graph_node (body, i);
    if (n->attrs.extra && (((GrdOpExtra *) n->attrs.extra)->impure
                           || (n->op && g_str_equal (n->op->name, "_scan")
                               && ((ScanInfo *) n->attrs.extra)->has_random)))
      return TRUE;
  }
  return FALSE;
}

/* A random node of the body (not inside a nested scan) that the outputs read:
 * appended to `found` (body node indices). */
static void
needed_draws (GrdGraph *body, const GrdRef *outs, gint n_outs, GArray *found)
{
  gint n = grd_graph_n_nodes (body);
  g_autofree gboolean *needed = g_new0 (gboolean, MAX (n, 1));
  for (gint i = 0; i < n_outs; i++)
    needed[outs[i].node] = TRUE;
  for (gint i = n - 1; i >= 0; i--) {
    GrdNode *node = grd_graph_node (body, i);
    if (!needed[i])
      continue;
    for (gint j = 0; j < node->n_inputs; j++)
      needed[node->inputs[j].node] = TRUE;
    if (node->kind == GRD_NODE_GRAD)
      for (gint k = 0; k < node->n_outputs; k++)
        needed[node->aliases[k].node] = TRUE;
  }
  for (gint i = 0; i < n; i++) {
    GrdNode *node = grd_graph_node (body, i);
    if (needed[i] && node->kind == GRD_NODE_OP && node->attrs.extra
        && ((GrdOpExtra *) node->attrs.extra)->impure)
      g_array_append_val (found, i);
  }
}

/* A scan inside the body draws random numbers: its draws are not kept. */
static gboolean
body_has_nested_random (GrdGraph *body)
{
  for (gint i = 0; i < grd_graph_n_nodes (body); i++) {
    GrdNode *n = grd_graph_node (body, i);
    if (n->op && g_str_equal (n->op->name, "_scan") && ((ScanInfo *) n->attrs.extra)->has_random)
      return TRUE;
  }
  return FALSE;
}

/* ------------------------------------------------------------ type rule */

static gboolean
type_fits (const GrdType *want, const GrdType *got, gint drop_leading)
{
  if (want->dtype != got->dtype || want->rank + drop_leading != got->rank)
    return FALSE;
  for (gint d = 0; d < want->rank; d++) {
    gint64 a = want->dims[d], b = got->dims[d + drop_leading];
    if (a >= 0 && b >= 0 && a != b)
      return FALSE;
  }
  return TRUE;
}

static gboolean
type_mismatch (GError **error, const char *what, const GrdType *want, const GrdType *got)
{
  g_autofree char *w = grd_type_describe (want);
  g_autofree char *h = grd_type_describe (got);
  g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE, "%s: expected %s, got %s", what, w, h);
  return FALSE;
}

static const GrdType *
body_type (const ScanInfo *s, GrdRef r)
{
  return grd_graph_ref_type (s->body, r);
}

static gboolean
scan_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  const ScanInfo *s = attrs->extra;
  if (!s) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "_scan is built by scan nodes only");
    return FALSE;
  }
  if (n_in != first_nonseq (s) + s->n_nonseq) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "expected %d inputs, got %d",
                 first_nonseq (s) + s->n_nonseq, n_in);
    return FALSE;
  }
  if (s->has_n_steps_input && (in[0].rank != 0 || grd_dtype_is_float (in[0].dtype)
                               || in[0].dtype == GRD_DTYPE_BOOL)) {
    g_autofree char *t = grd_type_describe (&in[0]);
    g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE, "n_steps must be an integer scalar, not %s", t);
    return FALSE;
  }
  gint bi = 0;
  for (gint i = 0; i < s->n_seq; i++, bi++) {
    const GrdType *t = &in[first_seq (s) + i];
    GrdType row = *t;
    if (t->rank < 1) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "sequence %d is 0-d (it needs an axis to "
                   "iterate over)", i);
      return FALSE;
    }
    row.rank = t->rank - 1;
    memmove (row.dims, t->dims + 1, sizeof (gint64) * row.rank);
    if (!type_fits (body_type (s, s->body_inputs[bi]), &row, 0)) {
      g_autofree char *what = g_strdup_printf ("body input '%s' (a row of sequence %d)",
                                               grd_graph_node_id (s->body, s->body_inputs[bi].node), i);
      return type_mismatch (error, what, body_type (s, s->body_inputs[bi]), &row);
    }
  }
  gint st = 0;
  for (gint o = 0; o < s->n_out; o++) {
    const GrdType *yt = body_type (s, s->body_outputs[o]);
    if (!s->out_ntaps[o])
      continue;
    const GrdType *it = &in[first_init (s) + st];
    gint lag = max_lag (s, o);
    gint stacked = lag > 1 ? 1 : 0;
    if (!type_fits (yt, it, stacked)) {
      g_autofree char *what = g_strdup_printf (
          "the initial value of output %d (body output '%s'%s)", o,
          grd_graph_node_id (s->body, s->body_outputs[o].node),
          stacked ? ", stacked on axis 0 for its taps" : "");
      return type_mismatch (error, what, yt, it);
    }
    for (gint k = 0; k < s->out_ntaps[o]; k++, bi++)
      if (!type_fits (body_type (s, s->body_inputs[bi]), yt, 0)) {
        g_autofree char *what = g_strdup_printf ("body input '%s' (output %d fed back)",
                                                 grd_graph_node_id (s->body, s->body_inputs[bi].node), o);
        return type_mismatch (error, what, body_type (s, s->body_inputs[bi]), yt);
      }
    st++;
  }
  for (gint m = 0; m < s->n_nonseq; m++, bi++) {
    const GrdType *t = &in[first_nonseq (s) + m];
    if (!type_fits (body_type (s, s->body_inputs[bi]), t, 0)) {
      g_autofree char *what = g_strdup_printf ("body input '%s' (non-sequence %d)",
                                               grd_graph_node_id (s->body, s->body_inputs[bi].node), m);
      return type_mismatch (error, what, body_type (s, s->body_inputs[bi]), t);
    }
  }
  for (gint o = 0; o < s->n_out; o++) {
    const GrdType *yt = body_type (s, s->body_outputs[o]);
    if (yt->rank + 1 > GRD_MAX_RANK) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "body output %d has rank %d: stacked it "
                   "would pass rank %d", o, yt->rank, GRD_MAX_RANK);
      return FALSE;
    }
    gint64 dims[GRD_MAX_RANK];
    dims[0] = s->last_only && s->last_only[o] ? 1 : s->n_steps;
    memcpy (dims + 1, yt->dims, sizeof (gint64) * yt->rank);
    grd_type_set (&out[o], yt->dtype, yt->rank + 1, dims);
  }
  return TRUE;
}

/* ------------------------------------------------------------ the loop */

/* A tensor header over row `row` of `t` (no copy, never freed by its readers:
 * the body function only keeps references during a call). */
static void
row_view (GrdTensor *view, const GrdTensor *t, gint64 row)
{
  memset (view, 0, sizeof *view);
  view->ref_count = 1;
  view->dtype = t->dtype;
  view->rank = t->rank - 1;
  memcpy (view->shape, t->shape + 1, sizeof (gint64) * view->rank);
  view->size = grd_shape_size (view->rank, view->shape);
  view->data = (char *) t->data + row * view->size * grd_dtype_size (t->dtype);
}

static gboolean
ensure_compiled (ScanInfo *s, GError **error)
{
  if (s->fn)
    return TRUE;
  s->fn = grd_function_new (s->body, s->body_inputs, s->n_body_inputs, s->body_outputs, s->n_out,
                            NULL, 0, error);
  if (!s->fn)
    g_prefix_error (error, "the body: ");
  return s->fn != NULL;
}

static gboolean
scan_steps (const ScanInfo *s, GrdTensor *const *in, gint64 *T, GError **error)
{
  gint64 t = s->n_steps;
  if (s->has_n_steps_input)
    t = (gint64) grd_tensor_get (in[0], 0);
  if (t < 0 && !s->has_n_steps_input && s->n_steps < 0) {
    for (gint i = 0; i < s->n_seq; i++) {
      gint64 len = in[first_seq (s) + i]->shape[0];
      t = t < 0 ? len : MIN (t, len);
    }
  }
  if (t < 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE, "n_steps is %" G_GINT64_FORMAT
                 " (it must be at least 0)", t);
    return FALSE;
  }
  for (gint i = 0; i < s->n_seq; i++)
    if (in[first_seq (s) + i]->shape[0] < t) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "sequence %d has %" G_GINT64_FORMAT
                   " rows for %" G_GINT64_FORMAT " steps", i, in[first_seq (s) + i]->shape[0], t);
      return FALSE;
    }
  *T = t;
  return TRUE;
}

/* Where step `i`'s value of output o is stored. */
static gint64
out_row (const ScanInfo *s, gint o, gint64 T, gint64 i)
{
  if (s->last_only && s->last_only[o])
    return 0;
  return s->reverse ? T - 1 - i : i;
}

static GrdTensor *
new_stacked (const GrdType *type, gint64 T, const GrdTensor *row, GError **error)
{
  gint64 shape[GRD_MAX_RANK];
  shape[0] = T;
  for (gint d = 1; d < type->rank; d++)
    shape[d] = row ? row->shape[d - 1] : MAX (type->dims[d], 0);
  if (!grd_shape_check_size (type->rank, shape, type->dtype, error))
    return NULL;
  return grd_tensor_try_new (type->dtype, type->rank, shape, error);
}

static gboolean
scan_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  ScanInfo *s = node->attrs.extra;
  gint64 T;
  if (!scan_steps (s, in, &T, error))
    return FALSE;
  g_mutex_lock (&s->lock);
  gboolean ok = ensure_compiled (s, error);
  GrdTensor *views = g_new0 (GrdTensor, MAX (s->n_body_inputs, 1));
  GrdTensor **args = g_new0 (GrdTensor *, MAX (s->n_body_inputs, 1));
  GrdTensor **res = g_new0 (GrdTensor *, MAX (s->n_out, 1));
  /* non-sequences are the same at every step */
  gint nb0 = s->n_body_inputs - s->n_nonseq;
  for (gint m = 0; m < s->n_nonseq; m++)
    args[nb0 + m] = in[first_nonseq (s) + m];
  for (gint o = 0; o < s->n_out; o++)
    out[o] = NULL;
  for (gint64 i = 0; ok && i < T; i++) {
    gint64 pos = s->reverse ? T - 1 - i : i;
    gint bi = 0;
    for (gint q = 0; q < s->n_seq; q++, bi++) {
      row_view (&views[bi], in[first_seq (s) + q], pos);
      args[bi] = &views[bi];
    }
    gint st = 0;
    for (gint o = 0; o < s->n_out; o++) {
      if (!s->out_ntaps[o])
        continue;
      GrdTensor *init = in[first_init (s) + st++];
      gint lag = max_lag (s, o);
      for (gint k = 0; k < s->out_ntaps[o]; k++, bi++) {
        gint64 from = i + s->out_taps[o * GRD_SCAN_MAX_TAPS + k];
        if (from >= 0)
          row_view (&views[bi], out[o], out_row (s, o, T, from));
        else if (lag > 1)
          row_view (&views[bi], init, lag + from);
        else
          views[bi] = *init, views[bi].ref_count = 1;
        args[bi] = &views[bi];
      }
    }
    ok = grd_function_call (s->fn, args, res, error);
    for (gint o = 0; ok && o < s->n_out; o++) {
      if (!out[o]
          && !(out[o] = new_stacked (&node->types[o], s->last_only && s->last_only[o] ? 1 : T,
                                     res[o], error))) {
        ok = FALSE;
        break;
      }
      GrdTensor row;
      row_view (&row, out[o], out_row (s, o, T, i));
      if (!grd_tensor_same_shape (&row, res[o])) {
        g_autofree char *want = grd_tensor_describe (&row);
        g_autofree char *got = grd_tensor_describe (res[o]);
        g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "body output %d at step %" G_GINT64_FORMAT
                     " is %s; earlier steps (or the initial value) gave %s", o, i, got, want);
        ok = FALSE;
      } else {
        memcpy (row.data, res[o]->data, (gsize) row.size * grd_dtype_size (row.dtype));
      }
    }
    /* a fed-back output must keep the shape of its initial value */
    st = 0;
    for (gint o = 0; ok && i == 0 && o < s->n_out; o++) {
      if (!s->out_ntaps[o])
        continue;
      GrdTensor *init = in[first_init (s) + st++];
      GrdTensor irow;
      if (max_lag (s, o) > 1)
        row_view (&irow, init, 0);
      else
        irow = *init;
      if (!grd_tensor_same_shape (&irow, res[o])) {
        g_autofree char *want = grd_tensor_describe (&irow);
        g_autofree char *got = grd_tensor_describe (res[o]);
        g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "body output %d is %s but its initial "
                     "value gives %s (a fed-back output keeps its shape)", o, got, want);
        ok = FALSE;
      }
    }
    for (gint o = 0; o < s->n_out; o++)
      g_clear_pointer (&res[o], grd_tensor_unref);
  }
  g_mutex_unlock (&s->lock);
  for (gint o = 0, st = 0; ok && o < s->n_out; st += s->out_ntaps[o] ? 1 : 0, o++) {
    if (out[o])
      continue;
    if (s->last_only && s->last_only[o]) {
      /* no step ran: a carry keeps its initial value */
      GrdTensor *init = in[first_init (s) + st];
      gint64 shape[GRD_MAX_RANK];
      shape[0] = 1;
      memcpy (shape + 1, init->shape, sizeof (gint64) * init->rank);
      out[o] = grd_tensor_try_new (init->dtype, init->rank + 1, shape, error);
      if (out[o])
        memcpy (out[o]->data, init->data, (gsize) init->size * grd_dtype_size (init->dtype));
    } else if (s->out_ntaps[o]) {
      /* no step ran: a fed-back output still has its initial value's shape */
      GrdTensor *init = in[first_init (s) + st];
      GrdTensor irow;
      if (max_lag (s, o) > 1)
        row_view (&irow, init, 0);
      else
        irow = *init;
      out[o] = new_stacked (&node->types[o], 0, &irow, error);
    } else {
      out[o] = new_stacked (&node->types[o], 0, NULL, error);
    }
    ok = out[o] != NULL;
  }
  if (!ok)
    for (gint o = 0; o < s->n_out; o++)
      g_clear_pointer (&out[o], grd_tensor_unref);
  g_free (views);
  g_free (args);
  g_free (res);
  return ok;
}

/* ------------------------------------------------------------ building */

static GrdRef
add_core (GrdGraph *g, const char *id, ScanInfo *s, const GrdRef *inputs, gint n_inputs,
          GError **error)
{
  GrdAttrs a;
  grd_attrs_init (&a);
  s->base.ref_count = 1;
  s->base.n_outputs = s->n_out;
  s->base.finalize = scan_info_finalize;
  s->base.sub[0] = s->body;
  s->has_random = body_has_random (s->body);
  g_mutex_init (&s->lock);
  a.extra = s;
  GrdRef r = grd_graph_op (g, id, "_scan", inputs, n_inputs, &a, error);
  grd_op_extra_unref (&s->base);
  return r;
}

/* `_tap_gather` attrs: begin[0] the first row read (after reversing), end[0]
 * the fixed step count or GRD_SLICE_NONE, step[0] the rows a sequence has
 * beyond its step count (when the count comes from the sequence), keepdims:
 * read the sequence from its end. */
static GrdRef
tap_gather (GrdGraph *g, GError **error, GrdRef seq, GrdRef n_steps_ref, gint64 n_steps,
            gint64 offset, gint64 span, gboolean backwards)
{
  GrdAttrs a;
  grd_attrs_init (&a);
  a.n_slice = 1;
  a.begin[0] = offset;
  a.end[0] = n_steps >= 0 ? n_steps : GRD_SLICE_NONE;
  a.step[0] = span;
  a.keepdims = backwards;
  if (grd_ref_is_none (n_steps_ref))
    return grd_build (g, error, "_tap_gather", &a, 1, seq);
  return grd_build (g, error, "_tap_gather", &a, 2, seq, n_steps_ref);
}

GrdRef
grd_graph_scan (GrdGraph *g, const char *id, const GrdScanSpec *spec, GError **error)
{
  const char *shown = id ? id : "scan";
  if (error && *error)
    return GRD_REF_NONE;
  if (!spec->body || spec->n_body_outputs < 1) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s' (scan): the body has no outputs",
                 shown);
    return GRD_REF_NONE;
  }
  if (spec->n_outputs_info > spec->n_body_outputs) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s' (scan): %d outputs_info entries "
                 "for %d body outputs", shown, spec->n_outputs_info, spec->n_body_outputs);
    return GRD_REF_NONE;
  }
  if (spec->n_sequences == 0 && spec->n_steps < 0 && grd_ref_is_none (spec->n_steps_ref)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s' (scan): without sequences, "
                 "n_steps is required", shown);
    return GRD_REF_NONE;
  }
  /* count the body inputs the slots call for */
  gint want = spec->n_non_sequences;
  for (gint i = 0; i < spec->n_sequences; i++)
    want += MAX (spec->sequences[i].n_taps, 1);
  for (gint i = 0; i < spec->n_outputs_info; i++)
    if (!grd_ref_is_none (spec->outputs_info[i].ref))
      want += MAX (spec->outputs_info[i].n_taps, 1);
  if (want != spec->n_body_inputs) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s' (scan): the body has %d inputs; "
                 "its sequences' taps, fed-back outputs' taps and non-sequences call for %d",
                 shown, spec->n_body_inputs, want);
    return GRD_REF_NONE;
  }
  for (gint i = 0; i < spec->n_body_inputs; i++) {
    GrdRef r = spec->body_inputs[i];
    if (r.node < 0 || r.node >= grd_graph_n_nodes (spec->body)
        || grd_graph_node_kind (spec->body, r.node) != GRD_NODE_VARIABLE) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s' (scan): body input %d is not a "
                   "variable of the body", shown, i);
      return GRD_REF_NONE;
    }
  }
  ScanInfo *s = g_new0 (ScanInfo, 1);
  s->body = grd_graph_ref (spec->body);
  /* the draws of the body's random nodes are extra outputs after the body's
   * own, so that the gradient reads the numbers the forward steps drew */
  g_autoptr (GArray) draws = g_array_new (FALSE, FALSE, sizeof (gint));
  needed_draws (spec->body, spec->body_outputs, spec->n_body_outputs, draws);
  s->n_draws = draws->len;
  s->n_out = spec->n_body_outputs + s->n_draws;
  s->body_outputs = g_new (GrdRef, s->n_out);
  memcpy (s->body_outputs, spec->body_outputs, sizeof (GrdRef) * spec->n_body_outputs);
  for (gint k = 0; k < s->n_draws; k++)
    s->body_outputs[spec->n_body_outputs + k] = (GrdRef) { g_array_index (draws, gint, k), 0 };
  s->body_inputs = g_memdup2 (spec->body_inputs, sizeof (GrdRef) * spec->n_body_inputs);
  s->n_body_inputs = spec->n_body_inputs;
  s->out_ntaps = g_new0 (gint, s->n_out);
  s->out_taps = g_new0 (gint, s->n_out * GRD_SCAN_MAX_TAPS);
  s->n_nonseq = spec->n_non_sequences;
  s->n_steps = spec->n_steps;
  s->has_n_steps_input = !grd_ref_is_none (spec->n_steps_ref);
  g_autoptr (GArray) ins = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  if (s->has_n_steps_input)
    g_array_append_val (ins, spec->n_steps_ref);
  /* sequences: one gathered sequence per tap */
  for (gint i = 0; i < spec->n_sequences && !*error; i++) {
    const GrdScanSlot *sl = &spec->sequences[i];
    gint nt = MAX (sl->n_taps, 1);
    gint lo = 0, hi = 0;
    for (gint k = 0; k < sl->n_taps; k++) {
      lo = k ? MIN (lo, sl->taps[k]) : sl->taps[k];
      hi = k ? MAX (hi, sl->taps[k]) : sl->taps[k];
    }
    for (gint k = 0; k < nt; k++) {
      gint tap = sl->n_taps ? sl->taps[k] : 0;
      GrdRef r = sl->ref;
      if (!(sl->n_taps <= 1 && tap == 0 && !spec->go_backwards))
        r = tap_gather (g, error, sl->ref, spec->n_steps_ref, spec->n_steps, tap - lo, hi - lo,
                          spec->go_backwards);
      g_array_append_val (ins, r);
      s->n_seq++;
    }
  }
  for (gint o = 0; o < spec->n_outputs_info; o++) {
    const GrdScanSlot *sl = &spec->outputs_info[o];
    if (grd_ref_is_none (sl->ref))
      continue;
    if (sl->n_taps > GRD_SCAN_MAX_TAPS) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s' (scan): more than %d taps",
                   shown, GRD_SCAN_MAX_TAPS);
      break;
    }
    s->out_ntaps[o] = MAX (sl->n_taps, 1);
    for (gint k = 0; k < s->out_ntaps[o]; k++) {
      gint tap = sl->n_taps ? sl->taps[k] : -1;
      if (tap >= 0) {
        g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s' (scan): output %d has tap %d "
                     "(the taps of a fed-back output must be negative)", shown, o, tap);
        break;
      }
      s->out_taps[o * GRD_SCAN_MAX_TAPS + k] = tap;
    }
    s->n_state++;
    g_array_append_val (ins, sl->ref);
  }
  g_array_append_vals (ins, spec->non_sequences, spec->n_non_sequences);
  if (*error) {
    s->base.ref_count = 1;
    s->base.finalize = scan_info_finalize;
    g_mutex_init (&s->lock);
    grd_op_extra_unref (&s->base);
    return GRD_REF_NONE;
  }
  g_autoptr (GError) local = NULL;
  GrdRef r = add_core (g, id, s, (GrdRef *) ins->data, ins->len, &local);
  if (local) {
    if (g_str_has_prefix (local->message, "node '"))
      g_propagate_error (error, g_steal_pointer (&local));
    else
      g_set_error (error, GRD_ERROR, local->code, "node '%s' (scan): %s", shown, local->message);
  }
  return r;
}

/* ------------------------------------------------------------ backpropagation through time */

static GrdRef
first_row (GrdGraph *g, GError **error, GrdRef stacked)
{
  GrdAttrs a;
  grd_attrs_init (&a);
  a.n_slice = 1;
  a.begin[0] = 0;
  a.end[0] = 1;
  GrdAttrs sum = grd_attrs_axis (0, FALSE);
  return grd_build (g, error, "sum", &sum, 1, grd_build (g, error, "slice", &a, 1, stacked));
}

static GrdRef
rows (GrdGraph *g, GError **error, GrdRef x, gint64 begin, gint64 end)
{
  GrdAttrs a;
  grd_attrs_init (&a);
  a.n_slice = 1;
  a.begin[0] = begin;
  a.end[0] = end;
  return grd_build (g, error, "slice", &a, 1, x);
}

static GrdRef
add_axis0 (GrdGraph *g, GError **error, GrdRef x)
{
  if (*error)
    return GRD_REF_NONE;
  GrdAttrs a;
  grd_attrs_init (&a);
  gint rank = grd_graph_ref_type (g, x)->rank;
  a.n_pattern = rank + 1;
  a.pattern[0] = -1;
  for (gint d = 0; d < rank; d++)
    a.pattern[d + 1] = d;
  return grd_build (g, error, "dimshuffle", &a, 1, x);
}

static GrdRef
body_var_like (GrdGraph *b, GError **error, const GrdType *t, const char *base, gint i)
{
  g_autofree char *id = g_strdup_printf ("_%s%d", base, i);
  while (grd_graph_find (b, id) >= 0) {
    char *more = g_strconcat (id, "_", NULL);
    g_free (id);
    id = more;
  }
  return grd_graph_variable (b, id, t->dtype, t->rank, t->dims, error);
}

/* The cost and gradient graph built from `start` on read the body's outputs
 * (tanh's gradient reads tanh's value): once the gradient is built, they
 * read the forward pass's stacked outputs instead, fed as sequences (the same
 * values), so that the backward body does not compute the forward step again
 * (what only fed those outputs is then never run). */
static void
reuse_outputs (GrdGraph *b, gint start, const ScanInfo *s, const GrdRef *map,
               const GrdRef *yv)
{
  for (gint o = 0; o < s->n_out; o++) {
    GrdRef y = s->body_outputs[o];
    GrdRef yb = { map[y.node].node, map[y.node].output + y.output };
    if (yb.node < 0 || grd_graph_node (b, yb.node)->kind != GRD_NODE_OP)
      continue;
    for (gint i = start; i < grd_graph_n_nodes (b); i++) {
      GrdNode *n = grd_graph_node (b, i);
      for (gint j = 0; j < n->n_inputs; j++)
        if (grd_ref_equal (n->inputs[j], yb))
          n->inputs[j] = yv[o];
    }
  }
}

/* The same loop keeping every step's value of every output: a gradient
 * scan keeps only its carries' last values, and its own gradient (grad of
 * grad) reads them all. */
static ScanInfo *
full_history_copy (const ScanInfo *s)
{
  ScanInfo *c = g_new0 (ScanInfo, 1);
  c->body = grd_graph_ref (s->body);
  c->n_body_inputs = s->n_body_inputs;
  c->body_inputs = g_memdup2 (s->body_inputs, sizeof (GrdRef) * MAX (s->n_body_inputs, 1));
  c->n_out = s->n_out;
  c->body_outputs = g_memdup2 (s->body_outputs, sizeof (GrdRef) * MAX (s->n_out, 1));
  c->n_seq = s->n_seq;
  c->out_ntaps = g_memdup2 (s->out_ntaps, sizeof (gint) * MAX (s->n_out, 1));
  c->out_taps = g_memdup2 (s->out_taps, sizeof (gint) * MAX (s->n_out, 1) * GRD_SCAN_MAX_TAPS);
  c->n_state = s->n_state;
  c->n_nonseq = s->n_nonseq;
  c->has_n_steps_input = s->has_n_steps_input;
  c->n_steps = s->n_steps;
  c->reverse = s->reverse;
  c->last_only = g_new0 (gboolean, MAX (s->n_out, 1));
  c->n_draws = s->n_draws;
  return c;
}

/* The rows of a fed-back output's taps, one per step, in the order the loop
 * stores its outputs. Forward: step t reads row lag + t + tap of [init; Y].
 * Reverse (step t at position T - 1 - t, Y in position order): position p
 * reads row p - tap of [Y; init with its rows reversed]. */
static GrdRef
tap_rows (GrdGraph *g, GError **error, const ScanInfo *s, GrdRef init, GrdRef y, gint lag,
          gint tap, GrdRef n_steps_ref)
{
  GrdRef stacked = lag > 1 ? rows (g, error, init, 0, lag) : add_axis0 (g, error, init);
  if (!s->reverse) {
    GrdRef buf = grd_build (g, error, "concatenate", NULL, 2, stacked, y);
    return tap_gather (g, error, buf, n_steps_ref, s->n_steps, lag + tap, lag, FALSE);
  }
  GrdRef flipped = lag > 1 ? tap_gather (g, error, stacked, GRD_REF_NONE, lag, 0, 0, TRUE)
                           : stacked;
  GrdRef buf = grd_build (g, error, "concatenate", NULL, 2, y, flipped);
  return tap_gather (g, error, buf, n_steps_ref, s->n_steps, -tap, lag, FALSE);
}

static gboolean
scan_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
           GrdRef *ig, GError **error)
{
  const ScanInfo *s = node->attrs.extra;
  if (s->has_random && body_has_nested_random (s->body)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "a scan inside the body draws random numbers: "
                 "the gradient would draw them anew (only random nodes directly in the body are "
                 "kept for it); feed that noise in as a sequence instead");
    return FALSE;
  }
  /* outputs [0, n_real) are the body's; the rest are draws (no gradient) */
  gint n_real = s->n_out - s->n_draws;
  GrdRef self = { grd_graph_find (g, node->id), 0 };
  GrdRef n_steps_ref = s->has_n_steps_input ? node->inputs[0] : GRD_REF_NONE;
  /* a gradient scan's carries keep their last value only: the backward pass
   * reads every step's, from the same loop run keeping them all */
  gboolean some_last_only = FALSE;
  for (gint o = 0; s->last_only && o < s->n_out; o++)
    some_last_only |= s->last_only[o];
  if (some_last_only) {
    GrdRef full = add_core (g, NULL, full_history_copy (s), node->inputs, node->n_inputs, error);
    if (*error)
      return FALSE;
    self.node = full.node;
  }

  /* outer: the output gradients and each fed-back output's tap values as sequences */
  g_autoptr (GArray) seqs = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  for (gint q = 0; q < s->n_seq; q++)
    g_array_append_val (seqs, node->inputs[first_seq (s) + q]);
  g_autoptr (GArray) inits = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  gint st = 0;
  for (gint o = 0; o < s->n_out; o++) {
    if (!s->out_ntaps[o])
      continue;
    gint lag = max_lag (s, o);
    GrdRef init = node->inputs[first_init (s) + st++];
    GrdRef stacked = lag > 1 ? init : add_axis0 (g, error, init);
    for (gint k = 0; k < s->out_ntaps[o]; k++) {
      GrdRef r = tap_rows (g, error, s, init, (GrdRef) { self.node, o }, lag,
                           s->out_taps[o * GRD_SCAN_MAX_TAPS + k], n_steps_ref);
      g_array_append_val (seqs, r);
    }
    GrdRef z = grd_build_zeros_like (g, error, stacked);
    g_array_append_val (inits, z);
  }
  for (gint o = 0; o < n_real; o++) {
    GrdRef gy = grd_ref_is_none (og[o]) ? grd_build_zeros_like (g, error, (GrdRef) { self.node, o })
                                        : og[o];
    if (!grd_ref_is_none (og[o]) && s->last_only && s->last_only[o]) {
      /* the gradient of the last step's value: the first row in a reverse
       * loop's position order, the last in a forward one; the other steps'
       * values are read by later steps only */
      GrdRef y = { self.node, o };
      if (s->reverse)
        gy = grd_build (g, error, "concatenate", NULL, 2, og[o],
                        grd_build_zeros_like (g, error, rows (g, error, y, 1, GRD_SLICE_NONE)));
      else
        gy = grd_build (g, error, "concatenate", NULL, 2,
                        grd_build_zeros_like (g, error, rows (g, error, y, 0, -1)), og[o]);
    }
    g_array_append_val (seqs, gy);
  }
  /* the forward outputs, so the backward body reads them instead of
   * computing them again (see reuse_outputs below) */
  for (gint o = 0; o < s->n_out; o++) {
    GrdRef y = { self.node, o };
    g_array_append_val (seqs, y);
  }
  for (gint m = 0; m < s->n_nonseq; m++) {
    GrdRef z = grd_build_zeros_like (g, error, node->inputs[first_nonseq (s) + m]);
    g_array_append_val (inits, z);
  }
  if (*error)
    return FALSE;

  /* the backward body */
  g_autoptr (GrdGraph) b = grd_graph_new ();
  gint nfb = grd_graph_n_nodes (s->body);
  g_autofree GrdRef *map = g_new (GrdRef, MAX (nfb, 1));
  for (gint i = 0; i < nfb; i++)
    map[i] = GRD_REF_NONE;
  g_autoptr (GArray) bin = g_array_new (FALSE, FALSE, sizeof (GrdRef));   /* backward body inputs */
  g_autoptr (GArray) wrt = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  gint n_state_taps = 0;
  for (gint o = 0; o < s->n_out; o++)
    n_state_taps += s->out_ntaps[o];
  /* forward sequence rows, then state taps: the same variables, copied */
  for (gint i = 0; i < s->n_seq + n_state_taps; i++) {
    GrdRef fv = s->body_inputs[i];
    GrdRef v = body_var_like (b, error, body_type (s, fv), "x", i);
    map[fv.node] = v;
    g_array_append_val (bin, v);
    g_array_append_val (wrt, v);
  }
  g_autofree GrdRef *gy = g_new (GrdRef, MAX (n_real, 1));
  for (gint o = 0; o < n_real; o++) {
    gy[o] = body_var_like (b, error, body_type (s, s->body_outputs[o]), "gy", o);
    g_array_append_val (bin, gy[o]);
  }
  g_autofree GrdRef *yv = g_new (GrdRef, MAX (s->n_out, 1));
  for (gint o = 0; o < s->n_out; o++) {
    yv[o] = body_var_like (b, error, body_type (s, s->body_outputs[o]), "y", o);
    g_array_append_val (bin, yv[o]);
    /* a random node reads its forward draw instead of drawing anew */
    if (o >= n_real)
      map[s->body_outputs[o].node] = yv[o];
  }
  /* carried: pending gradients of each fed-back output, sums for non-sequences */
  g_autofree GrdRef *carry = g_new (GrdRef, MAX (s->n_state + s->n_nonseq, 1));
  for (gint c = 0; c < s->n_state + s->n_nonseq; c++) {
    GrdRef init = g_array_index (inits, GrdRef, c);
    carry[c] = body_var_like (b, error, grd_graph_ref_type (g, init), "carry", c);
    g_array_append_val (bin, carry[c]);
  }
  g_autofree GrdRef *w = g_new (GrdRef, MAX (s->n_nonseq, 1));
  for (gint m = 0; m < s->n_nonseq; m++) {
    GrdRef fv = s->body_inputs[s->n_body_inputs - s->n_nonseq + m];
    w[m] = body_var_like (b, error, body_type (s, fv), "w", m);
    map[fv.node] = w[m];
    g_array_append_val (bin, w[m]);
    g_array_append_val (wrt, w[m]);
  }
  if (*error)
    return FALSE;
  if (!grd_graph_copy_needed (b, s->body, s->body_outputs, n_real, map, error))
    return FALSE;
  gint cost_start = grd_graph_n_nodes (b);
  /* cost = sum over outputs of <y, total gradient of y> */
  GrdRef cost = GRD_REF_NONE;
  st = 0;
  for (gint o = 0; o < n_real; o++) {
    GrdRef y = s->body_outputs[o];
    y = (GrdRef) { map[y.node].node, map[y.node].output + y.output };
    GrdRef gt = gy[o];
    if (s->out_ntaps[o]) {
      gint lag = max_lag (s, o);
      GrdRef pend = first_row (b, error, rows (b, error, carry[st], lag - 1, lag));
      gt = grd_build (b, error, "add", NULL, 2, gt, pend);
      st++;
    }
    if (!grd_dtype_is_float (grd_graph_ref_type (b, y)->dtype))
      continue;
    GrdRef term = grd_build (b, error, "sum", NULL, 1, grd_build (b, error, "mul", NULL, 2, y, gt));
    term = grd_build_cast (b, error, term, GRD_DTYPE_FLOAT64);
    cost = grd_ref_is_none (cost) ? term : grd_build (b, error, "add", NULL, 2, cost, term);
  }
  if (grd_ref_is_none (cost))
    cost = grd_build_scalar (b, error, GRD_DTYPE_FLOAT64, 0.0);
  g_autofree GrdRef *gr = g_new (GrdRef, MAX (wrt->len, 1));
  /* integer inputs get no gradient: differentiate the float ones only */
  g_autoptr (GArray) fw = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  g_autofree gint *fpos = g_new (gint, MAX (wrt->len, 1));
  for (guint i = 0; i < wrt->len; i++) {
    GrdRef v = g_array_index (wrt, GrdRef, i);
    fpos[i] = -1;
    if (grd_dtype_is_float (grd_graph_ref_type (b, v)->dtype)) {
      fpos[i] = fw->len;
      g_array_append_val (fw, v);
    }
  }
  g_autofree GrdRef *fgr = g_new (GrdRef, MAX (fw->len, 1));
  if (fw->len > 0)
    grd_graph_grad (b, NULL, cost, (GrdRef *) fw->data, fw->len, NULL, 0, fgr, error);
  reuse_outputs (b, cost_start, s, map, yv);
  for (guint i = 0; i < wrt->len; i++)
    gr[i] = fpos[i] >= 0 ? fgr[fpos[i]]
                         : grd_build_zeros_like (b, error, g_array_index (wrt, GrdRef, i));
  if (*error)
    return FALSE;
  /* backward body outputs: sequence gradients, new carries */
  g_autoptr (GArray) bout = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  g_autofree gint *seq_out = g_new (gint, MAX (s->n_seq, 1));
  for (gint q = 0; q < s->n_seq; q++) {
    /* only the sequence gradients asked for: the others are never computed */
    seq_out[q] = needed[first_seq (s) + q] ? (gint) bout->len : -1;
    if (seq_out[q] >= 0)
      g_array_append_val (bout, gr[q]);
  }
  gint n_seq_out = bout->len;
  gint tap_at = s->n_seq;
  st = 0;
  for (gint o = 0; o < s->n_out; o++) {
    if (!s->out_ntaps[o])
      continue;
    gint lag = max_lag (s, o);
    /* row i of the new carry: pending gradient of position t + i */
    g_autofree GrdRef *parts = g_new (GrdRef, lag);
    GrdRef zero_row = grd_build_zeros_like (b, error, first_row (b, error, carry[st]));
    for (gint i = 0; i < lag; i++) {
      GrdRef acc = GRD_REF_NONE;
      for (gint k = 0; k < s->out_ntaps[o]; k++)
        if (s->out_taps[o * GRD_SCAN_MAX_TAPS + k] == i - lag)
          acc = grd_ref_is_none (acc) ? gr[tap_at + k]
                                      : grd_build (b, error, "add", NULL, 2, acc, gr[tap_at + k]);
      if (i >= 1) {
        GrdRef older = first_row (b, error, rows (b, error, carry[st], i - 1, i));
        acc = grd_ref_is_none (acc) ? older : grd_build (b, error, "add", NULL, 2, acc, older);
      }
      parts[i] = grd_ref_is_none (acc) ? zero_row : acc;
    }
    GrdAttrs ax0 = grd_attrs_axis (0, FALSE);
    GrdRef next = grd_graph_op (b, NULL, "stack", parts, lag, &ax0, error);
    g_array_append_val (bout, next);
    tap_at += s->out_ntaps[o];
    st++;
  }
  for (gint m = 0; m < s->n_nonseq; m++) {
    GrdRef sum = grd_build (b, error, "add", NULL, 2, carry[s->n_state + m],
                            gr[s->n_seq + n_state_taps + m]);
    g_array_append_val (bout, sum);
  }
  if (*error)
    return FALSE;

  /* the backward scan */
  ScanInfo *bs = g_new0 (ScanInfo, 1);
  bs->body = grd_graph_ref (b);
  bs->n_out = bout->len;
  bs->body_outputs = g_memdup2 (bout->data, sizeof (GrdRef) * bout->len);
  bs->n_body_inputs = bin->len;
  bs->body_inputs = g_memdup2 (bin->data, sizeof (GrdRef) * bin->len);
  bs->n_seq = seqs->len;
  bs->out_ntaps = g_new0 (gint, bs->n_out);
  bs->out_taps = g_new0 (gint, bs->n_out * GRD_SCAN_MAX_TAPS);
  bs->last_only = g_new0 (gboolean, bs->n_out);
  for (gint c = n_seq_out; c < bs->n_out; c++) {
    bs->out_ntaps[c] = 1;
    bs->out_taps[c * GRD_SCAN_MAX_TAPS] = -1;
    bs->last_only[c] = TRUE;  /* only the final carry is read */
  }
  bs->n_state = s->n_state + s->n_nonseq;
  bs->n_nonseq = s->n_nonseq;
  bs->has_n_steps_input = s->has_n_steps_input;
  bs->n_steps = s->n_steps;
  bs->reverse = !s->reverse;
  g_autoptr (GArray) bins = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  if (s->has_n_steps_input)
    g_array_append_val (bins, n_steps_ref);
  g_array_append_vals (bins, seqs->data, seqs->len);
  g_array_append_vals (bins, inits->data, inits->len);
  for (gint m = 0; m < s->n_nonseq; m++)
    g_array_append_val (bins, node->inputs[first_nonseq (s) + m]);
  GrdRef back = add_core (g, NULL, bs, (GrdRef *) bins->data, bins->len, error);
  if (*error)
    return FALSE;
  for (gint q = 0; q < s->n_seq; q++)
    if (seq_out[q] >= 0)
      ig[first_seq (s) + q] = (GrdRef) { back.node, seq_out[q] };
  st = 0;
  for (gint o = 0; o < s->n_out; o++) {
    if (!s->out_ntaps[o])
      continue;
    gint in_i = first_init (s) + st;
    if (needed[in_i]) {
      GrdRef gfinal = first_row (g, error, (GrdRef) { back.node, n_seq_out + st });
      if (max_lag (s, o) <= 1)
        gfinal = first_row (g, error, gfinal);
      ig[in_i] = gfinal;
    }
    st++;
  }
  for (gint m = 0; m < s->n_nonseq; m++)
    if (needed[first_nonseq (s) + m])
      ig[first_nonseq (s) + m] = first_row (g, error, (GrdRef) { back.node, n_seq_out + s->n_state + m });
  return !*error;
}

/* ------------------------------------------------------------ taps and go_backwards */

static gboolean
gather_layout (const GrdAttrs *a, const GrdTensor *seq, const GrdTensor *n_steps, gint64 *T,
               GError **error)
{
  gint64 len = seq->shape[0];
  gint64 t = n_steps ? (gint64) grd_tensor_get (n_steps, 0)
                     : a->end[0] != GRD_SLICE_NONE ? a->end[0] : len - a->step[0];
  if (t < 0 || a->begin[0] + t > len) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "a sequence of %" G_GINT64_FORMAT " rows is too "
                 "short for %" G_GINT64_FORMAT " steps with its taps", len, MAX (t, 0));
    return FALSE;
  }
  *T = t;
  return TRUE;
}

static gboolean
gather_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  if (in[0].rank < 1) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "a sequence must have an axis to iterate over");
    return FALSE;
  }
  gint64 dims[GRD_MAX_RANK];
  memcpy (dims, in[0].dims, sizeof dims);
  dims[0] = attrs->end[0] != GRD_SLICE_NONE && n_in == 1 ? attrs->end[0]
            : n_in == 1 && in[0].dims[0] >= 0 ? in[0].dims[0] - attrs->step[0] : GRD_DIM_UNKNOWN;
  grd_type_set (out, in[0].dtype, in[0].rank, dims);
  return TRUE;
}

/* Row t of the result is row begin + t of the sequence (read from its end
 * when keepdims); scatter adds g's rows back there. */
static gint64
gather_row (const GrdAttrs *a, gint64 len, gint64 t)
{
  gint64 r = a->begin[0] + t;
  return a->keepdims ? len - 1 - r : r;
}

static gboolean
gather_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  gint64 T;
  if (!gather_layout (&node->attrs, in[0], node->n_inputs > 1 ? in[1] : NULL, &T, error))
    return FALSE;
  gint64 shape[GRD_MAX_RANK];
  memcpy (shape, in[0]->shape, sizeof shape);
  shape[0] = T;
  GrdTensor *o = grd_tensor_try_new (in[0]->dtype, in[0]->rank, shape, error);
  if (!o)
    return FALSE;
  gsize row = (gsize) (in[0]->shape[0] ? in[0]->size / in[0]->shape[0] : 0)
              * grd_dtype_size (in[0]->dtype);
  for (gint64 t = 0; t < T; t++)
    memcpy ((char *) o->data + t * row,
            (char *) in[0]->data + gather_row (&node->attrs, in[0]->shape[0], t) * row, row);
  out[0] = o;
  return TRUE;
}

static gboolean
gather_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
             GrdRef *ig, GError **error)
{
  if (needed[0]) {
    if (node->n_inputs > 1)
      ig[0] = grd_build (g, error, "_tap_scatter", &node->attrs, 3, og[0], node->inputs[0],
                         node->inputs[1]);
    else
      ig[0] = grd_build (g, error, "_tap_scatter", &node->attrs, 2, og[0], node->inputs[0]);
  }
  return !*error;
}

static gboolean
scatter_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  out[0] = in[1];
  out[0].dtype = in[0].dtype;
  return TRUE;
}

static gboolean
scatter_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  gint64 T;
  GrdTensor *g = in[0], *seq = in[1];
  if (!gather_layout (&node->attrs, seq, node->n_inputs > 2 ? in[2] : NULL, &T, error))
    return FALSE;
  if (g->rank != seq->rank || g->shape[0] != T) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "gradient of %" G_GINT64_FORMAT " rows for %"
                 G_GINT64_FORMAT " steps", g->rank ? g->shape[0] : 0, T);
    return FALSE;
  }
  GrdTensor *o = grd_tensor_try_new (g->dtype, seq->rank, seq->shape, error);
  if (!o)
    return FALSE;
  gint64 row = seq->shape[0] ? seq->size / seq->shape[0] : 0;
  for (gint64 t = 0; t < T; t++) {
    gint64 r = gather_row (&node->attrs, seq->shape[0], t);
    for (gint64 j = 0; j < row; j++)
      grd_tensor_set (o, r * row + j, grd_tensor_get (o, r * row + j) + grd_tensor_get (g, t * row + j));
  }
  out[0] = o;
  return TRUE;
}

static gboolean
scatter_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
              GrdRef *ig, GError **error)
{
  if (needed[0]) {
    if (node->n_inputs > 2)
      ig[0] = grd_build (g, error, "_tap_gather", &node->attrs, 2, og[0], node->inputs[2]);
    else
      ig[0] = grd_build (g, error, "_tap_gather", &node->attrs, 1, og[0]);
  }
  return !*error;
}

static const GrdOpDef scan_ops[] = {
  { "_scan", "internal", 0, -1, 1, scan_infer, scan_eval, scan_grad },
  { "_tap_gather", "internal", 1, 2, 1, gather_infer, gather_eval, gather_grad },
  { "_tap_scatter", "internal", 2, 3, 1, scatter_infer, scatter_eval, scatter_grad },
};

void
grd_ops_register_scan (GrdOpRegisterFunc add)
{
  for (guint i = 0; i < G_N_ELEMENTS (scan_ops); i++)
    add (&scan_ops[i]);
}

gboolean
grd_scan_view (const GrdNode *node, GrdScanView *v)
{
  if (!node->op || !g_str_equal (node->op->name, "_scan") || !node->attrs.extra)
    return FALSE;
  const ScanInfo *s = node->attrs.extra;
  *v = (GrdScanView) { s->body, s->body_inputs, s->n_body_inputs, s->body_outputs, s->n_out,
                       s->n_seq, s->out_ntaps, s->out_taps, s->n_state, s->n_nonseq,
                       s->has_n_steps_input, s->n_steps, s->reverse, s->last_only,
                       s->has_random };
  return TRUE;
}
