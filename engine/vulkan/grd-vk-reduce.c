/* grd-vk-reduce.c: reductions, their counts and gradients (_unreduce, _prod_others). */
#include "grd-vk-function-private.h"

#include <string.h>

/* Reductions. Short ones (64 elements or fewer): one thread per output
 * element. Longer ones: workgroups of 256 threads each reduce a chunk of
 * 16384 elements through shared memory into partial results, and further
 * passes reduce the partials until one is left per output. Every thread loops
 * at most 64 times (lavapipe caps a shader invocation near 65535 loop
 * iterations), and long reductions spread over the whole device. */
#define RED_CHUNK (GRD_VK_GROUP * 64)

typedef struct {
  const char *op;
  gboolean    arg, is_max, extreme, mean;
  GrdDType    xd, od, ad;   /* input, output, accumulator */
  gint64      n_red_total;
} RedInfo;

/* One pass. first: read x through the kept (nk) and reduced (nr) axes;
 * otherwise read partials [n_out, n_red] (values in b0, indices in b1 for
 * arg). final: write the output; otherwise partials. */
static gboolean
reduce_pass (GrdVkRec *r, const RedInfo *ri, gboolean first, gboolean final, gint64 n_out,
             gint64 n_red, gint nk, const gint64 *ks, const gint64 *kst, gint nr,
             const gint64 *rs, const gint64 *rst, GrdVkBuffer *const *in, GrdVkBuffer **outb,
             GError **error)
{
  gboolean thread = n_red <= 64;
  gint64 n_chunks = thread ? 1 : (n_red + RED_CHUNK - 1) / RED_CHUNK;
  const char *A = grd_vk_glsl_type (ri->ad);
  gboolean fl = grd_dtype_is_float (ri->ad);
  GrdDType src_dt = first ? ri->xd : ri->ad;
  gint n_in = first || !ri->arg ? 1 : 2;
  gint n_outb = final || !ri->arg ? 1 : 2;
  GrdVkParams p = { .n = 0 };
  grd_vk_param (&p, n_out);
  grd_vk_param (&p, n_red);
  grd_vk_param (&p, n_chunks);
  grd_vk_param (&p, ri->n_red_total);
  gint zero = grd_vk_param (&p, 0);
  gint ksp[GRD_MAX_RANK], kstp[GRD_MAX_RANK], rsp[GRD_MAX_RANK], rstp[GRD_MAX_RANK];
  for (gint d = 0; d < nk; d++) {
    ksp[d] = grd_vk_param (&p, ks[d]);
    kstp[d] = grd_vk_param (&p, kst[d]);
  }
  for (gint d = 0; d < nr; d++) {
    rsp[d] = grd_vk_param (&p, rs[d]);
    rstp[d] = grd_vk_param (&p, rst[d]);
  }
  g_autoptr (GString) s = g_string_new (NULL);
  grd_vk_glsl_buffer (s, 0, src_dt, TRUE);
  if (n_in == 2)
    grd_vk_glsl_buffer (s, 1, GRD_DTYPE_INT64, TRUE);
  if (final) {
    grd_vk_glsl_buffer (s, n_in, ri->od, FALSE);
  } else {
    grd_vk_glsl_buffer (s, n_in, ri->ad, FALSE);
    if (ri->arg)
      grd_vk_glsl_buffer (s, n_in + 1, GRD_DTYPE_INT64, FALSE);
  }
  if (!thread) {
    g_string_append_printf (s, "shared %s red[%d];\n", A, GRD_VK_GROUP);
    if (ri->arg)
      g_string_append_printf (s, "shared int64_t redi[%d];\n", GRD_VK_GROUP);
  }
  /* combine (and, for arg, whether (w, k) beats (v, i)) */
  if (ri->arg) {
    g_string_append_printf (s, "bool better(%s v, int64_t i, %s w, int64_t k) {\n", A, A);
    if (fl)
      g_string_append (s, "  if (isnan(v)) return isnan(w) && k < i;\n"
                       "  if (isnan(w)) return true;\n");
    g_string_append_printf (s, "  return w %s v || (w == v && k < i);\n}\n",
                            ri->is_max ? ">" : "<");
  } else {
    const char *c;
    if (!strcmp (ri->op, "prod"))
      c = "(a * v)";
    else if (!ri->extreme)
      c = "(a + v)";
    else if (fl)
      c = ri->is_max ? "gx_max(a, v)" : "gx_min(a, v)";
    else
      c = ri->is_max ? "(v > a ? v : a)" : "(v < a ? v : a)";
    g_string_append_printf (s, "%s combine(%s a, %s v) { return %s; }\n", A, A, A, c);
  }
  /* loading element j (of this output's reduction) as the accumulator type */
  g_autofree char *k_off = grd_vk_offset_expr (&p, "k", nk, zero, kstp);
  g_autofree char *r_off = grd_vk_offset_expr (&p, "q", nr, zero, rstp);
  g_string_append_printf (s, "%s load_v(uint base, uint j) {\n", A);
  if (first) {
    grd_vk_emit_coords (s, &p, "q", "j", nr, rsp);
    g_autofree char *ld = grd_vk_glsl_load (0, src_dt, "base + roff");
    g_autofree char *cv = grd_vk_glsl_convert (ld, src_dt, ri->ad);
    g_string_append_printf (s, "    uint roff = %s;\n    return %s;\n}\n", r_off, cv);
  } else
    g_string_append (s, "  return b0.d[base + j];\n}\n");
  if (ri->arg) {
    g_string_append (s, "int64_t load_i(uint base, uint j) {\n");
    g_string_append (s, n_in == 2 ? "  return b1.d[base + j];\n}\n" : "  return int64_t(j);\n}\n");
  }
  g_string_append_printf (s, "void main() {\n"
                          "  uint nout = %s, nred = %s, nch = %s;\n",
                          grd_vk_pexpr (&p, 0), grd_vk_pexpr (&p, 1), grd_vk_pexpr (&p, 2));
  /* the result statement(s) for output (or partial) index `w` */
  g_autoptr (GString) store = g_string_new (NULL);
  if (final) {
    g_autofree char *v = NULL;
    if (ri->arg)
      v = grd_vk_glsl_convert ("bi", GRD_DTYPE_INT64, ri->od);
    else if (ri->mean)
      v = g_strdup_printf ("%s(a / %s(%s))", grd_vk_glsl_type (ri->od), A, grd_vk_pexpr (&p, 3));
    else
      v = grd_vk_glsl_convert ("a", ri->ad, ri->od);
    g_autofree char *st = grd_vk_glsl_store (n_in, ri->od, "w", v);
    g_string_append (store, st);
  } else {
    g_string_append_printf (store, "b%d.d[w] = %s;", n_in, ri->arg ? "best" : "a");
    if (ri->arg)
      g_string_append_printf (store, " b%d.d[w] = bi;", n_in + 1);
  }
  if (thread) {
    g_string_append_printf (s, "  uint step = gl_NumWorkGroups.x * %uu;\n"
                            "  for (uint o = gl_GlobalInvocationID.x; o < nout; o += step) {\n",
                            GRD_VK_GROUP);
    if (first) {
      grd_vk_emit_coords (s, &p, "k", "o", nk, ksp);
      g_string_append_printf (s, "    uint base = %s;\n", k_off);
    } else
      g_string_append (s, "    uint base = o * nred;\n");
    g_string_append (s, "    uint w = o;\n");
    if (ri->arg)
      g_string_append_printf (s, "    %s best = load_v(base, 0u); int64_t bi = load_i(base, 0u);\n"
                              "    for (uint j = 1u; j < nred; j++) {\n"
                              "      %s v = load_v(base, j); int64_t i = load_i(base, j);\n"
                              "      if (better(best, bi, v, i)) { best = v; bi = i; }\n"
                              "    }\n", A, A);
    else
      g_string_append_printf (s, "    %s a = %s;\n"
                              "    for (uint j = %s; j < nred; j++) a = combine(a, load_v(base, j));\n",
                              A, ri->extreme ? "load_v(base, 0u)"
                                 : !strcmp (ri->op, "prod") ? "1" : "0",
                              ri->extreme ? "1u" : "0u");
    g_string_append_printf (s, "    %s\n  }\n}\n", store->str);
  } else {
    g_string_append (s, "  uint tid = gl_LocalInvocationID.x;\n"
                     "  uint ngroups = nout * nch;\n"
                     "  for (uint g = gl_WorkGroupID.x; g < ngroups; g += gl_NumWorkGroups.x) {\n"
                     "    uint o = g / nch, c = g % nch;\n");
    if (first) {
      grd_vk_emit_coords (s, &p, "k", "o", nk, ksp);
      g_string_append_printf (s, "    uint base = %s;\n", k_off);
    } else
      g_string_append (s, "    uint base = o * nred;\n");
    g_string_append_printf (s, "    uint j0 = c * %uu;\n", RED_CHUNK);
    if (ri->arg) {
      g_string_append_printf (s, "    %s best = load_v(base, j0); int64_t bi = load_i(base, j0);\n"
                              "    for (uint t = 0u; t < 64u; t++) {\n"
                              "      uint j = j0 + t * %uu + tid;\n"
                              "      if (j >= nred) break;\n"
                              "      %s v = load_v(base, j); int64_t i = load_i(base, j);\n"
                              "      if (better(best, bi, v, i)) { best = v; bi = i; }\n"
                              "    }\n"
                              "    red[tid] = best; redi[tid] = bi;\n    barrier();\n"
                              "    for (uint h = %uu; h > 0u; h >>= 1) {\n"
                              "      if (tid < h && better(red[tid], redi[tid], red[tid + h], redi[tid + h])) {\n"
                              "        red[tid] = red[tid + h]; redi[tid] = redi[tid + h];\n      }\n"
                              "      barrier();\n    }\n"
                              "    best = red[0]; bi = redi[0];\n",
                              A, GRD_VK_GROUP, A, GRD_VK_GROUP / 2);
    } else {
      g_string_append_printf (s, "    %s a = %s;\n"
                              "    for (uint t = 0u; t < 64u; t++) {\n"
                              "      uint j = j0 + t * %uu + tid;\n"
                              "      if (j >= nred) break;\n"
                              "      a = combine(a, load_v(base, j));\n"
                              "    }\n"
                              "    red[tid] = a;\n    barrier();\n"
                              "    for (uint h = %uu; h > 0u; h >>= 1) {\n"
                              "      if (tid < h) red[tid] = combine(red[tid], red[tid + h]);\n"
                              "      barrier();\n    }\n"
                              "    a = red[0];\n",
                              A, ri->extreme ? "load_v(base, j0)"
                                 : !strcmp (ri->op, "prod") ? "1" : "0",
                              GRD_VK_GROUP, GRD_VK_GROUP / 2);
    }
    g_string_append_printf (s, "    uint w = g;\n    if (tid == 0u) { %s }\n    barrier();\n  }\n}\n",
                            store->str);
  }
  GrdVkKernel *k = grd_vk_rec_kernel (r, s, n_in + n_outb, error);
  if (!k)
    return FALSE;
  GrdVkBuffer *bufs[4];
  gint nb = 0;
  for (gint i = 0; i < n_in; i++)
    bufs[nb++] = in[i];
  for (gint i = 0; i < n_outb; i++)
    bufs[nb++] = outb[i];
  guint32 groups = thread ? grd_vk_groups_for (n_out) : (guint32) MIN (n_out * n_chunks, 65535);
  grd_vk_dispatch_n (r, k, bufs, nb, n_outb, p.v, p.n, groups, 1);
  return TRUE;
}

gboolean
grd_vk_step_reduce (GrdVkRec *r, GrdVkStep *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = grd_vk_node_at (fn, st->node);
  const char *op = node->op->name;
  GrdVkValue *x = grd_vk_slot (fn, node->inputs[0]), *out = grd_vk_slot (fn, (GrdRef) { st->node, 0 });
  gboolean mask[GRD_MAX_RANK];
  if (!strcmp (op, "_reduce_to")) {
    GrdVkValue *like = grd_vk_slot (fn, node->inputs[1]);
    gint lead = x->rank - like->rank;
    for (gint d = 0; d < x->rank; d++)
      mask[d] = d < lead || (like->shape[d - lead] == 1 && x->shape[d] != 1);
  } else if (!grd_axes_mask (&node->attrs, x->rank, mask, error))
    return FALSE;
  RedInfo ri = { .op = op };
  ri.arg = !strcmp (op, "argmax") || !strcmp (op, "argmin");
  ri.is_max = !strcmp (op, "max") || !strcmp (op, "argmax");
  ri.extreme = ri.arg || ri.is_max || !strcmp (op, "min");
  ri.mean = !strcmp (op, "mean");
  gint64 cs[GRD_MAX_RANK];
  grd_vk_contiguous (x->rank, x->shape, cs);
  /* kept and reduced axes, each list collapsed where contiguous in x */
  gint nk = 0, nr = 0;
  gint64 ks[GRD_MAX_RANK], kst[GRD_MAX_RANK], rs[GRD_MAX_RANK], rst[GRD_MAX_RANK];
  gint64 n_red = 1;
  for (gint d = 0; d < x->rank; d++) {
    if (mask[d])
      n_red *= x->shape[d];
    if (x->shape[d] == 1)
      continue;
    gint64 *sh = mask[d] ? rs : ks, *sd = mask[d] ? rst : kst;
    gint *cnt = mask[d] ? &nr : &nk;
    if (*cnt > 0 && sd[*cnt - 1] == cs[d] * x->shape[d]) {
      sh[*cnt - 1] *= x->shape[d];
      sd[*cnt - 1] = cs[d];
    } else {
      sh[*cnt] = x->shape[d];
      sd[*cnt] = cs[d];
      (*cnt)++;
    }
  }
  if (out->size == 0)
    return TRUE;
  if (ri.extreme && n_red == 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                 "node '%s' (%s): zero-size reduction has no identity", node->id, op);
    return FALSE;
  }
  if (x->size >= G_MAXINT32) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "node '%s': too many elements",
                 node->id);
    return FALSE;
  }
  ri.xd = x->dtype;
  ri.od = out->dtype;
  ri.n_red_total = n_red;
  if (ri.extreme)
    ri.ad = ri.xd == GRD_DTYPE_BOOL ? GRD_DTYPE_INT32 : ri.xd;
  else if (grd_dtype_is_float (ri.od) && fn->ctx->has_float64)
    ri.ad = GRD_DTYPE_FLOAT64;  /* float32 sums accumulate in double where the device can */
  else
    ri.ad = ri.od;
  if (ri.ad == GRD_DTYPE_FLOAT64)
    fn->float64 = TRUE;
  if (ri.arg)
    fn->int64 = TRUE;
  GrdVkBuffer *in[2] = { x->buf, NULL };
  gint64 m = n_red;
  gboolean first = TRUE;
  for (;;) {
    gboolean thread = m <= 64;
    gint64 n_chunks = thread ? 1 : (m + RED_CHUNK - 1) / RED_CHUNK;
    gboolean final = n_chunks == 1;
    GrdVkBuffer *outb[2] = { out->buf, NULL };
    if (!final) {
      for (gint i = 0; i < (ri.arg ? 2 : 1); i++) {
        gsize es = i ? 8 : grd_vk_device_size (ri.ad);
        outb[i] = grd_vk_rec_temp (r, out->size * n_chunks * es, error);
        if (!outb[i])
          return FALSE;
      }
    }
    if (!reduce_pass (r, &ri, first, final, out->size, m, nk, ks, kst, nr, rs, rst, in, outb,
                      error))
      return FALSE;
    if (final)
      return TRUE;
    in[0] = outb[0];
    in[1] = outb[1];
    m = n_chunks;
    first = FALSE;
  }
}

gboolean
grd_vk_step_count (GrdVkRec *r, GrdVkStep *st, GrdTensor **host, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = grd_vk_node_at (fn, st->node);
  GrdVkValue *x = grd_vk_slot (fn, node->inputs[0]), *out = grd_vk_slot (fn, (GrdRef) { st->node, 0 });
  gboolean mask[GRD_MAX_RANK];
  if (!grd_axes_mask (&node->attrs, x->rank, mask, error))
    return FALSE;
  double count = 1;
  for (gint d = 0; d < x->rank; d++)
    if (mask[d])
      count *= x->shape[d];
  *host = grd_tensor_new_scalar (out->dtype, count);
  return TRUE;
}

gboolean
grd_vk_step_unreduce (GrdVkRec *r, GrdVkStep *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = grd_vk_node_at (fn, st->node);
  GrdVkValue *g = grd_vk_slot (fn, node->inputs[0]), *x = grd_vk_slot (fn, node->inputs[1]);
  GrdVkValue *out = grd_vk_slot (fn, (GrdRef) { st->node, 0 });
  gboolean mask[GRD_MAX_RANK];
  if (!grd_axes_mask (&node->attrs, x->rank, mask, error))
    return FALSE;
  g_autofree char *body = grd_vk_copy_body (g->dtype, out->dtype);
  GrdVkEw e = { .rank = out->rank, .n = 1, .body = body };
  memcpy (e.shape, out->shape, sizeof e.shape);
  e.buf[0] = g->buf;
  e.dt[0] = g->dtype;
  gint64 gs[GRD_MAX_RANK];
  grd_vk_contiguous (g->rank, g->shape, gs);
  for (gint d = 0, k = 0; d < x->rank; d++) {
    if (mask[d]) {
      e.st[0][d] = 0;
      if (node->attrs.keepdims)
        k++;
    } else
      e.st[0][d] = gs[k++];
  }
  grd_vk_ew_out_contiguous (&e, out);
  return grd_vk_ew_run (r, &e, error);
}

/* _prod_others: per element, the product of the other elements of its
 * reduction group, multiplied out by one thread per element (no division, so
 * zeros are exact as on the CPU). A group longer than lavapipe lets one
 * invocation loop is refused. */
gboolean
grd_vk_step_prod_others (GrdVkRec *r, GrdVkStep *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = grd_vk_node_at (fn, st->node);
  GrdVkValue *x = grd_vk_slot (fn, node->inputs[0]), *out = grd_vk_slot (fn, (GrdRef) { st->node, 0 });
  gboolean mask[GRD_MAX_RANK];
  if (!grd_axes_mask (&node->attrs, x->rank, mask, error))
    return FALSE;
  if (x->size == 0)
    return TRUE;
  gint64 cs[GRD_MAX_RANK], group = 1;
  grd_vk_contiguous (x->rank, x->shape, cs);
  for (gint d = 0; d < x->rank; d++)
    if (mask[d])
      group *= x->shape[d];
  if (group > 60000 || x->size >= G_MAXINT32) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "a product of %" G_GINT64_FORMAT " others is more than a Vulkan thread loops over",
                 group);
    return FALSE;
  }
  GrdVkParams p = { .n = 0 };
  grd_vk_param (&p, x->size);
  grd_vk_param (&p, group);
  gint shape_p[GRD_MAX_RANK], red_p[GRD_MAX_RANK], nr = 0;
  for (gint d = 0; d < x->rank; d++) {
    shape_p[d] = grd_vk_param (&p, x->shape[d]);
    if (mask[d])
      red_p[nr++] = shape_p[d];
  }
  const char *T = grd_vk_glsl_type (out->dtype);
  g_autoptr (GString) s = g_string_new (NULL);
  grd_vk_glsl_buffer (s, 0, x->dtype, TRUE);
  grd_vk_glsl_buffer (s, 1, out->dtype, FALSE);
  g_string_append_printf (s, "void main() {\n"
                          "  uint n = %s, ng = %s;\n"
                          "  uint step = gl_NumWorkGroups.x * %uu;\n"
                          "  for (uint i = gl_GlobalInvocationID.x; i < n; i += step) {\n",
                          grd_vk_pexpr (&p, 0), grd_vk_pexpr (&p, 1), GRD_VK_GROUP);
  grd_vk_emit_coords (s, &p, "c", "i", x->rank, shape_p);
  /* own: i's offset within its group; the group starts at i - own */
  g_string_append (s, "    uint own = 0u");
  for (gint d = 0; d < x->rank; d++)
    if (mask[d])
      g_string_append_printf (s, " + c%d * %" G_GINT64_FORMAT "u", d, cs[d]);
  g_string_append_printf (s, ";\n    %s prod = %s(1);\n    for (uint j = 0u; j < ng; j++) {\n",
                          T, T);
  grd_vk_emit_coords (s, &p, "q", "j", nr, red_p);
  g_string_append (s, "    uint off = 0u");
  for (gint d = 0, k = 0; d < x->rank; d++)
    if (mask[d])
      g_string_append_printf (s, " + q%d * %" G_GINT64_FORMAT "u", k++, cs[d]);
  g_autofree char *ld = grd_vk_glsl_load (0, x->dtype, "i - own + off");
  g_autofree char *store = grd_vk_glsl_store (1, out->dtype, "i", "prod");
  g_string_append_printf (s, ";\n    if (off != own) prod *= %s;\n    }\n    %s\n  }\n}\n", ld,
                          store);
  GrdVkKernel *k = grd_vk_rec_kernel (r, s, 2, error);
  if (!k)
    return FALSE;
  GrdVkBuffer *bufs[2] = { x->buf, out->buf };
  grd_vk_dispatch (r, k, bufs, 2, p.v, p.n, grd_vk_groups_for (x->size), 1);
  return TRUE;
}
