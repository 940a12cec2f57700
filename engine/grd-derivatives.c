/* grd-derivatives.c: jacobian, hessian, Rop and Lop (theano.gradient).
 *
 * - lop (f, wrt, v): one reverse pass, grad of sum(f * v).
 * - rop (f, wrt, v): the double reverse pass ("Rop through Lop"): with u a
 *   dummy shaped like f, g(u) = J^T u is linear in u, and d/du <g(u), v> = J v.
 *   Every op has a second derivative, so this holds for any graph.
 * - jacobian (f, wrt): for a scalar f, grad; otherwise vectorised as a scan
 *   over the rows e of the identity of size(f): row i is the grad of
 *   sum(flatten(f) * e_i), one reverse pass per element of f, compiled once
 *   (docs/scan.md). The expression is copied into the scan's body, its
 *   variables and shared variables becoming non-sequences.
 * - hessian (cost, wrt): the jacobian of grad(cost, wrt[k]) wrt wrt[k].
 * Each result is a node whose outputs alias the built graph, as grad's do. */
#include "grd-internal.h"

#include <string.h>

static GrdRef
resolve_ref (GrdGraph *g, GrdRef r)
{
  while (r.node >= 0 && r.node < grd_graph_n_nodes (g)
         && grd_graph_node (g, r.node)->kind == GRD_NODE_GRAD)
    r = grd_graph_node (g, r.node)->aliases[r.output];
  return r;
}

static gboolean
check_refs (GrdGraph *g, const char *shown, const char *kind, const GrdRef *refs, gint n,
            const char *what, GError **error)
{
  for (gint i = 0; i < n; i++)
    if (refs[i].node < 0 || refs[i].node >= grd_graph_n_nodes (g) || refs[i].output < 0
        || refs[i].output >= grd_graph_node_n_outputs (g, refs[i].node)) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s' (%s): %s %d refers to no node "
                   "output", shown, kind, what, i);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_float (GrdGraph *g, const char *shown, const char *kind, GrdRef r, const char *what,
             GError **error)
{
  const GrdType *t = grd_graph_ref_type (g, r);
  if (!grd_dtype_is_float (t->dtype)) {
    g_autofree char *d = grd_type_describe (t);
    g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE, "node '%s' (%s): %s must be of a float dtype, "
                 "it is %s", shown, kind, what, d);
    return FALSE;
  }
  return TRUE;
}

/* Wraps the built outputs in an alias node; `start` is where building began
 * (a failure removes nothing: the grad nodes it made stay, unused). */
static GrdRef
finish (GrdGraph *g, const char *id, const char *shown, const char *kind, GrdRef *outs, gint n,
        GrdRef *out, GError **error)
{
  if (*error) {
    if (!g_str_has_prefix ((*error)->message, "node '"))
      g_prefix_error (error, "node '%s' (%s): ", shown, kind);
    return GRD_REF_NONE;
  }
  GrdRef r = grd_graph_alias_node (g, id, outs, n, error);
  if (out && !grd_ref_is_none (r))
    memcpy (out, outs, sizeof (GrdRef) * n);
  return r;
}

GrdRef
grd_graph_lop (GrdGraph *g, const char *id, GrdRef f, const GrdRef *wrt, gint n_wrt, GrdRef v,
               GrdRef *out, GError **error)
{
  const char *shown = id ? id : "lop";
  if ((error && *error) || !check_refs (g, shown, "lop", &f, 1, "f", error)
      || !check_refs (g, shown, "lop", wrt, n_wrt, "wrt", error)
      || !check_refs (g, shown, "lop", &v, 1, "eval_points", error))
    return GRD_REF_NONE;
  if (!check_float (g, shown, "lop", f, "f", error))
    return GRD_REF_NONE;
  GrdRef cost = grd_build (g, error, "sum", NULL, 1,
                           grd_build (g, error, "mul", NULL, 2, f,
                                      grd_build_cast (g, error, v, grd_graph_ref_type (g, f)->dtype)));
  g_autofree GrdRef *grads = g_new (GrdRef, MAX (n_wrt, 1));
  if (!*error)
    grd_graph_grad (g, NULL, cost, wrt, n_wrt, NULL, 0, grads, error);
  return finish (g, id, shown, "lop", grads, n_wrt, out, error);
}

GrdRef
grd_graph_rop (GrdGraph *g, const char *id, GrdRef f, const GrdRef *wrt, gint n_wrt,
               const GrdRef *points, GrdRef *out, GError **error)
{
  const char *shown = id ? id : "rop";
  if ((error && *error) || !check_refs (g, shown, "rop", &f, 1, "f", error)
      || !check_refs (g, shown, "rop", wrt, n_wrt, "wrt", error)
      || !check_refs (g, shown, "rop", points, n_wrt, "eval_points", error))
    return GRD_REF_NONE;
  if (!check_float (g, shown, "rop", f, "f", error))
    return GRD_REF_NONE;
  /* u: zeros shaped like f; its value never matters, only its place */
  GrdRef u = grd_build_zeros_like (g, error, f);
  GrdRef c1 = grd_build (g, error, "sum", NULL, 1, grd_build (g, error, "mul", NULL, 2, f, u));
  g_autofree GrdRef *jt = g_new (GrdRef, MAX (n_wrt, 1));
  if (!*error)
    grd_graph_grad (g, NULL, c1, wrt, n_wrt, NULL, 0, jt, error);
  GrdRef c2 = GRD_REF_NONE;
  for (gint k = 0; k < n_wrt && !*error; k++) {
    GrdDType dt = grd_graph_ref_type (g, jt[k])->dtype;
    GrdRef term = grd_build (g, error, "sum", NULL, 1,
                             grd_build (g, error, "mul", NULL, 2, jt[k],
                                        grd_build_cast (g, error, points[k], dt)));
    term = grd_build_cast (g, error, term, GRD_DTYPE_FLOAT64);
    c2 = grd_ref_is_none (c2) ? term : grd_build (g, error, "add", NULL, 2, c2, term);
  }
  GrdRef jv = GRD_REF_NONE;
  if (!*error)
    grd_graph_grad (g, NULL, c2, &u, 1, NULL, 0, &jv, error);
  return finish (g, id, shown, "rop", &jv, 1, out, error);
}

/* The jacobian of f (not a scalar) with respect to one wrt, as a scan. */
static GrdRef
jacobian_scan (GrdGraph *g, GrdRef f, GrdRef w, GError **error)
{
  gint n = grd_graph_n_nodes (g);
  /* leaves of f: variables and shared variables become non-sequences */
  g_autofree gboolean *needed = g_new0 (gboolean, MAX (n, 1));
  needed[f.node] = TRUE;
  for (gint i = n - 1; i >= 0; i--)
    if (needed[i])
      for (gint j = 0; j < grd_graph_node_n_inputs (g, i); j++)
        needed[grd_graph_node_input (g, i, j).node] = TRUE;
  g_autoptr (GrdGraph) body = grd_graph_new ();
  g_autofree GrdRef *map = g_new (GrdRef, MAX (n, 1));
  for (gint i = 0; i < n; i++)
    map[i] = GRD_REF_NONE;
  const GrdType *ft = grd_graph_ref_type (g, f);
  GrdRef eye = grd_build (g, error, "_eye_like", NULL, 1, f);
  if (*error)
    return GRD_REF_NONE;
  const GrdType *et = grd_graph_ref_type (g, eye);
  GrdRef e = grd_graph_variable (body, "_e", et->dtype, 1, et->dims + 1, error);
  g_autoptr (GArray) bin = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  g_autoptr (GArray) nonseq = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  g_array_append_val (bin, e);
  for (gint i = 0; i < n && !*error; i++) {
    GrdNodeKind k = grd_graph_node_kind (g, i);
    if (!needed[i] || !(k == GRD_NODE_VARIABLE || k == GRD_NODE_SHARED))
      continue;
    const GrdType *t = grd_graph_node_type (g, i, 0);
    map[i] = grd_graph_variable (body, grd_graph_node_id (g, i), t->dtype, t->rank, t->dims, error);
    g_array_append_val (bin, map[i]);
    GrdRef outer = { i, 0 };
    g_array_append_val (nonseq, outer);
  }
  if (*error || !grd_graph_copy_needed (body, g, &f, 1, map, error))
    return GRD_REF_NONE;
  if (grd_ref_is_none (map[w.node])) {
    /* f does not depend on w: a zero jacobian */
    return grd_build (g, error, "_reshape_cat", NULL, 3,
                      grd_build_zeros_like (g, error, grd_build (g, error, "outer", NULL, 2,
                          grd_build (g, error, "flatten", NULL, 1, f),
                          grd_build (g, error, "flatten", NULL, 1, grd_build_cast (g, error, w, ft->dtype)))),
                      f, w);
  }
  GrdRef fb = { map[f.node].node, map[f.node].output + f.output };
  GrdRef wb = { map[w.node].node, map[w.node].output + w.output };
  GrdRef cost = grd_build (body, error, "sum", NULL, 1,
                           grd_build (body, error, "mul", NULL, 2,
                                      grd_build (body, error, "flatten", NULL, 1, fb),
                                      grd_build_cast (body, error, e, ft->dtype)));
  GrdRef gw = GRD_REF_NONE;
  if (!*error)
    grd_graph_grad (body, NULL, grd_build_cast (body, error, cost, GRD_DTYPE_FLOAT64), &wb, 1,
                    NULL, 0, &gw, error);
  if (*error)
    return GRD_REF_NONE;
  GrdScanSlot seq = { eye, 0, { 0 } };
  GrdScanSpec spec = { 0 };
  spec.body = body;
  spec.body_inputs = (GrdRef *) bin->data;
  spec.n_body_inputs = bin->len;
  spec.body_outputs = &gw;
  spec.n_body_outputs = 1;
  spec.sequences = &seq;
  spec.n_sequences = 1;
  spec.non_sequences = (GrdRef *) nonseq->data;
  spec.n_non_sequences = nonseq->len;
  spec.n_steps = -1;
  spec.n_steps_ref = GRD_REF_NONE;
  GrdRef rows = grd_graph_scan (g, NULL, &spec, error);
  return grd_build (g, error, "_reshape_cat", NULL, 3, rows, f, w);
}

GrdRef
grd_graph_jacobian (GrdGraph *g, const char *id, GrdRef f, const GrdRef *wrt, gint n_wrt,
                    GrdRef *out, GError **error)
{
  const char *shown = id ? id : "jacobian";
  if ((error && *error) || !check_refs (g, shown, "jacobian", &f, 1, "expression", error)
      || !check_refs (g, shown, "jacobian", wrt, n_wrt, "wrt", error))
    return GRD_REF_NONE;
  if (!check_float (g, shown, "jacobian", f, "the expression", error))
    return GRD_REF_NONE;
  f = resolve_ref (g, f);
  g_autofree GrdRef *outs = g_new (GrdRef, MAX (n_wrt, 1));
  if (grd_graph_ref_type (g, f)->rank == 0) {
    grd_graph_grad (g, NULL, f, wrt, n_wrt, NULL, 0, outs, error);
  } else {
    for (gint k = 0; k < n_wrt && !*error; k++)
      outs[k] = jacobian_scan (g, f, resolve_ref (g, wrt[k]), error);
  }
  return finish (g, id, shown, "jacobian", outs, n_wrt, out, error);
}

GrdRef
grd_graph_hessian (GrdGraph *g, const char *id, GrdRef cost, const GrdRef *wrt, gint n_wrt,
                   GrdRef *out, GError **error)
{
  const char *shown = id ? id : "hessian";
  if ((error && *error) || !check_refs (g, shown, "hessian", &cost, 1, "cost", error)
      || !check_refs (g, shown, "hessian", wrt, n_wrt, "wrt", error))
    return GRD_REF_NONE;
  g_autofree GrdRef *outs = g_new (GrdRef, MAX (n_wrt, 1));
  for (gint k = 0; k < n_wrt && !*error; k++) {
    GrdRef gk = GRD_REF_NONE;
    grd_graph_grad (g, NULL, cost, &wrt[k], 1, NULL, 0, &gk, error);
    if (*error)
      break;
    GrdRef w = resolve_ref (g, wrt[k]);
    gk = resolve_ref (g, gk);
    if (grd_graph_ref_type (g, gk)->rank == 0)
      grd_graph_grad (g, NULL, gk, &w, 1, NULL, 0, &outs[k], error);
    else
      outs[k] = jacobian_scan (g, gk, w, error);
  }
  return finish (g, id, shown, "hessian", outs, n_wrt, out, error);
}
