/* grd-vk-index.c: NumPy indexing on Vulkan.
 *   index (x, i0, ...)              a gather: one thread per output element
 *   set/inc_subtensor (x, y, ...)   x copied, then the region written: through
 *                                   the slice's strided view, or, for index
 *                                   arrays, by one owner per distinct element
 * Repeated indices are the hard part of inc_subtensor (the gradient of
 * index): without float atomics, the first occurrence of each element owns
 * it and follows a chain through the later occurrences, so each element is
 * written by one thread and the sum is in index order, as on the CPU.
 * Negative indices count from the end; out-of-range ones are clamped (the CPU
 * reports them; a kernel cannot stop). */
#include "grd-vk-function-private.h"

#include <string.h>

/* A thread walks at most this many positions (lavapipe stops a shader
 * invocation near 65535 loop iterations). */
#define CHAIN_MAX 60000

/* The positions index arrays select: the broadcast index shape, and `inner`
 * consecutive elements of x (its axes after the indexed ones) at each. */
typedef struct {
  gint        k;
  GrdVkValue *idx[GRD_MAX_RANK];
  gint        rb;
  gint64      bshape[GRD_MAX_RANK];
  gint64      n_pos, inner;
} Positions;

static gboolean
positions_of (GrdVkFunction *fn, const GrdNode *node, gint first, GrdVkValue *x, Positions *ps,
              GError **error)
{
  ps->k = node->n_inputs - first;
  ps->rb = 0;
  for (gint j = 0; j < ps->k; j++) {
    ps->idx[j] = grd_vk_slot (fn, node->inputs[first + j]);
    ps->rb = MAX (ps->rb, ps->idx[j]->rank);
  }
  for (gint d = 0; d < ps->rb; d++) {
    ps->bshape[d] = 1;
    for (gint j = 0; j < ps->k; j++) {
      gint e = d - (ps->rb - ps->idx[j]->rank);
      if (e >= 0 && ps->idx[j]->shape[e] != 1)
        ps->bshape[d] = ps->idx[j]->shape[e];
    }
  }
  ps->n_pos = grd_shape_size (ps->rb, ps->bshape);
  ps->inner = grd_shape_size (x->rank - ps->k, x->shape + ps->k);
  for (gint j = 0; j < ps->k; j++)
    if (x->shape[j] == 0 && ps->n_pos > 0) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE,
                   "node '%s': index %d selects from axis %d of size 0", node->id, j, j);
      return FALSE;
    }
  if (grd_shape_size (x->rank, x->shape) >= G_MAXINT32 || ps->n_pos * ps->inner >= G_MAXINT32) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "node '%s': more elements than the Vulkan kernels index", node->id);
    return FALSE;
  }
  return TRUE;
}

/* GLSL `uint base_of(uint p)`: the flat offset in x of position p, reading the
 * index arrays from bindings b0 .. b0+k-1. */
static void
emit_base_of (GString *s, GrdVkParams *p, const Positions *ps, GrdVkValue *x, gint b0)
{
  gboolean seen32 = FALSE, seen64 = FALSE;
  for (gint j = 0; j < ps->k; j++) {
    GrdDType dt = ps->idx[j]->dtype;
    gboolean *seen = dt == GRD_DTYPE_INT64 ? &seen64 : &seen32;
    if (*seen)
      continue;
    *seen = TRUE;
    const char *IT = grd_vk_glsl_type (dt);
    g_string_append_printf (s,
                            "uint fix_%s(%s v, uint n) {\n"
                            "  if (v < %s(0)) v += %s(n);\n"
                            "  return uint(clamp(v, %s(0), %s(n) - %s(1)));\n"
                            "}\n", IT, IT, IT, IT, IT, IT, IT);
  }
  gint bs_p[GRD_MAX_RANK], zero = grd_vk_param (p, 0);
  for (gint d = 0; d < ps->rb; d++)
    bs_p[d] = grd_vk_param (p, ps->bshape[d]);
  g_string_append (s, "uint base_of(uint p) {\n");
  grd_vk_emit_coords (s, p, "c", "p", ps->rb, bs_p);
  g_string_append (s, "    uint b = 0u;\n");
  gint64 xs[GRD_MAX_RANK];
  grd_vk_contiguous (x->rank, x->shape, xs);
  for (gint j = 0; j < ps->k; j++) {
    GrdVkValue *v = ps->idx[j];
    gint64 cs[GRD_MAX_RANK];
    gint st_p[GRD_MAX_RANK];
    grd_vk_contiguous (v->rank, v->shape, cs);
    for (gint d = 0; d < ps->rb; d++) {
      gint e = d - (ps->rb - v->rank);
      st_p[d] = grd_vk_param (p, e < 0 || v->shape[e] == 1 ? 0 : cs[e]);
    }
    gint n_p = grd_vk_param (p, x->shape[j]), xs_p = grd_vk_param (p, xs[j]);
    g_autofree char *off = grd_vk_offset_expr (p, "c", ps->rb, zero, st_p);
    g_autofree char *ld = grd_vk_glsl_load (b0 + j, v->dtype, off);
    g_string_append_printf (s, "    b += fix_%s(%s, %s) * %s;\n", grd_vk_glsl_type (v->dtype), ld,
                            grd_vk_pexpr (p, n_p), grd_vk_pexpr (p, xs_p));
  }
  g_string_append (s, "    return b;\n}\n");
}

gboolean
grd_vk_step_index (GrdVkRec *r, GrdVkStep *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = grd_vk_node_at (fn, st->node);
  GrdVkValue *x = grd_vk_slot (fn, node->inputs[0]);
  GrdVkValue *out = grd_vk_slot (fn, (GrdRef) { st->node, 0 });
  Positions ps;
  if (!positions_of (fn, node, 1, x, &ps, error))
    return FALSE;
  if (out->size == 0)
    return TRUE;
  GrdVkParams p = { .n = 0 };
  gint n_p = grd_vk_param (&p, out->size), inner_p = grd_vk_param (&p, ps.inner);
  g_autoptr (GString) s = g_string_new (NULL);
  grd_vk_glsl_buffer (s, 0, x->dtype, TRUE);
  for (gint j = 0; j < ps.k; j++)
    grd_vk_glsl_buffer (s, 1 + j, ps.idx[j]->dtype, TRUE);
  grd_vk_glsl_buffer (s, 1 + ps.k, out->dtype, FALSE);
  emit_base_of (s, &p, &ps, x, 1);
  g_autofree char *ld = grd_vk_glsl_load (0, x->dtype, "base_of(e / inner) + e % inner");
  g_autofree char *cv = grd_vk_glsl_convert (ld, x->dtype, out->dtype);
  g_autofree char *store = grd_vk_glsl_store (1 + ps.k, out->dtype, "e", cv);
  g_string_append_printf (s,
                          "void main() {\n"
                          "  uint n = %s, inner = %s;\n"
                          "  uint step = gl_NumWorkGroups.x * %uu;\n"
                          "  for (uint e = gl_GlobalInvocationID.x; e < n; e += step) {\n"
                          "    %s\n  }\n}\n",
                          grd_vk_pexpr (&p, n_p), grd_vk_pexpr (&p, inner_p), GRD_VK_GROUP, store);
  GrdVkKernel *k = grd_vk_rec_kernel (r, s, ps.k + 2, error);
  if (!k)
    return FALSE;
  GrdVkBuffer *bufs[GRD_MAX_RANK + 2];
  bufs[0] = x->buf;
  for (gint j = 0; j < ps.k; j++)
    bufs[1 + j] = ps.idx[j]->buf;
  bufs[1 + ps.k] = out->buf;
  grd_vk_dispatch (r, k, bufs, ps.k + 2, p.v, p.n, grd_vk_groups_for (out->size), 1);
  return TRUE;
}

/* The region of a set/inc_subtensor without index arrays: the slice's view of x. */
static gboolean
write_slice (GrdVkRec *r, const GrdNode *node, GrdVkValue *x, GrdVkValue *y, GrdVkValue *out,
             gboolean inc, GError **error)
{
  const GrdOpDef *slice = grd_op_lookup ("slice");
  GrdType xt, rt;
  grd_type_set (&xt, x->dtype, x->rank, x->shape);
  if (!slice->infer (&node->attrs, &xt, 1, &rt, error))
    return FALSE;
  GrdVkValue region = { 0 };
  grd_vk_value_set_shape (&region, x->dtype, rt.rank, rt.dims);
  GrdNode fake = *node;
  fake.op = slice;
  gint64 off, vst[GRD_MAX_RANK];
  grd_vk_view_of (&fake, x, &region, &off, vst);
  const char *T = grd_vk_glsl_type (out->dtype);
  g_autofree char *cy = grd_vk_glsl_convert (inc ? "l1" : "l0", y->dtype, out->dtype);
  g_autofree char *body = inc ? g_strdup_printf ("    %s res = l0 %s %s;\n", T,
                                                 out->dtype == GRD_DTYPE_BOOL ? "||" : "+", cy)
                              : g_strdup_printf ("    %s res = %s;\n", T, cy);
  GrdVkEw e = { .rank = region.rank, .n = inc ? 2 : 1, .body = body };
  memcpy (e.shape, region.shape, sizeof e.shape);
  if (inc) {
    e.buf[0] = x->buf;
    e.dt[0] = x->dtype;
    e.off[0] = off;
    memcpy (e.st[0], vst, sizeof vst);
  }
  grd_vk_ew_leaf_broadcast (&e, inc ? 1 : 0, y);
  e.obuf = out->buf;
  e.odt = out->dtype;
  e.ooff = off;
  memcpy (e.ost, vst, sizeof vst);
  return grd_vk_ew_run (r, &e, error);
}

/* The region of index arrays: positions' bases and chains into a temporary
 * [base | next | first] of n_pos each, then one owner per distinct element. */
static gboolean
write_positions (GrdVkRec *r, const GrdNode *node, GrdVkValue *x, GrdVkValue *y,
                 GrdVkValue *out, gboolean inc, GError **error)
{
  GrdVkFunction *fn = r->fn;
  Positions ps;
  if (!positions_of (fn, node, 2, x, &ps, error))
    return FALSE;
  gint64 nb = ps.n_pos;
  if (nb * ps.inner == 0)
    return TRUE;
  if (nb > CHAIN_MAX) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "node '%s': %" G_GINT64_FORMAT " index positions are more than a Vulkan thread"
                 " walks (%d)", node->id, nb, CHAIN_MAX);
    return FALSE;
  }
  GrdVkBuffer *tmp = grd_vk_rec_temp (r, MAX (3 * nb * 4, 16), error);
  if (!tmp)
    return FALSE;
  GrdVkBuffer *bufs[GRD_MAX_RANK + 3];

  /* bases */
  {
    GrdVkParams p = { .n = 0 };
    gint nb_p = grd_vk_param (&p, nb);
    g_autoptr (GString) s = g_string_new (NULL);
    for (gint j = 0; j < ps.k; j++)
      grd_vk_glsl_buffer (s, j, ps.idx[j]->dtype, TRUE);
    g_string_append_printf (s, "layout(std430, set = 0, binding = %d) buffer BT { uint t[]; };\n", ps.k);
    emit_base_of (s, &p, &ps, x, 0);
    g_string_append_printf (s,
                            "void main() {\n"
                            "  uint n = %s;\n"
                            "  uint step = gl_NumWorkGroups.x * %uu;\n"
                            "  for (uint q = gl_GlobalInvocationID.x; q < n; q += step)\n"
                            "    t[q] = base_of(q);\n}\n",
                            grd_vk_pexpr (&p, nb_p), GRD_VK_GROUP);
    GrdVkKernel *k = grd_vk_rec_kernel (r, s, ps.k + 1, error);
    if (!k)
      return FALSE;
    for (gint j = 0; j < ps.k; j++)
      bufs[j] = ps.idx[j]->buf;
    bufs[ps.k] = tmp;
    grd_vk_dispatch (r, k, bufs, ps.k + 1, p.v, p.n, grd_vk_groups_for (nb), 1);
  }
  /* chains: the next position with the same base, and whether none came before */
  {
    g_autoptr (GString) s = g_string_new (NULL);
    g_string_append (s, "layout(std430, set = 0, binding = 0) buffer BT { uint t[]; };\n");
    g_string_append_printf (s,
                            "void main() {\n"
                            "  uint n = pc.p[0];\n"
                            "  uint step = gl_NumWorkGroups.x * %uu;\n"
                            "  for (uint q = gl_GlobalInvocationID.x; q < n; q += step) {\n"
                            "    uint b = t[q], next = n, first = 1u;\n"
                            "    for (uint o = q + 1u; o < n; o++)\n"
                            "      if (t[o] == b) { next = o; break; }\n"
                            "    for (uint o = 0u; o < q; o++)\n"
                            "      if (t[o] == b) { first = 0u; break; }\n"
                            "    t[n + q] = next;\n"
                            "    t[2u * n + q] = first;\n"
                            "  }\n}\n", GRD_VK_GROUP);
    GrdVkKernel *k = grd_vk_rec_kernel (r, s, 1, error);
    if (!k)
      return FALSE;
    guint32 push[1] = { nb };
    grd_vk_dispatch (r, k, &tmp, 1, push, 1, grd_vk_groups_for (nb), 1);
  }
  /* owners: the first occurrence of each element writes it */
  {
    GrdVkParams p = { .n = 0 };
    gint nb_p = grd_vk_param (&p, nb), inner_p = grd_vk_param (&p, ps.inner);
    gint zero = grd_vk_param (&p, 0);
    gint region_rank = ps.rb + x->rank - ps.k;
    gint64 rshape[GRD_MAX_RANK], ycs[GRD_MAX_RANK];
    memcpy (rshape, ps.bshape, sizeof (gint64) * ps.rb);
    memcpy (rshape + ps.rb, x->shape + ps.k, sizeof (gint64) * (x->rank - ps.k));
    grd_vk_contiguous (y->rank, y->shape, ycs);
    gint rs_p[GRD_MAX_RANK], ys_p[GRD_MAX_RANK];
    for (gint d = 0; d < region_rank; d++) {
      rs_p[d] = grd_vk_param (&p, rshape[d]);
      gint e = d - (region_rank - y->rank);
      ys_p[d] = grd_vk_param (&p, e < 0 || y->shape[e] == 1 ? 0 : ycs[e]);
    }
    const char *T = grd_vk_glsl_type (out->dtype);
    g_autoptr (GString) s = g_string_new (NULL);
    grd_vk_glsl_buffer (s, 0, y->dtype, TRUE);
    g_string_append (s, "layout(std430, set = 0, binding = 1) readonly buffer BT { uint t[]; };\n");
    grd_vk_glsl_buffer (s, 2, out->dtype, FALSE);
    g_string_append (s, "uint ysrc(uint f) {\n");
    grd_vk_emit_coords (s, &p, "c", "f", region_rank, rs_p);
    g_autofree char *yoff = grd_vk_offset_expr (&p, "c", region_rank, zero, ys_p);
    g_string_append_printf (s, "    return %s;\n}\n", yoff);
    g_autofree char *ly = grd_vk_glsl_load (0, y->dtype, "ysrc(o * inner + i)");
    g_autofree char *cy = grd_vk_glsl_convert (ly, y->dtype, out->dtype);
    g_autofree char *lo = grd_vk_glsl_load (2, out->dtype, "t[q] + i");
    g_autofree char *store = grd_vk_glsl_store (2, out->dtype, "t[q] + i", "acc");
    g_string_append_printf (s,
                            "void main() {\n"
                            "  uint n = %s, inner = %s;\n"
                            "  uint step = gl_NumWorkGroups.x * %uu;\n"
                            "  for (uint e = gl_GlobalInvocationID.x; e < n * inner; e += step) {\n"
                            "    uint q = e / inner, i = e %% inner;\n"
                            "    if (t[2u * n + q] == 0u) continue;\n",
                            grd_vk_pexpr (&p, nb_p), grd_vk_pexpr (&p, inner_p), GRD_VK_GROUP);
    if (inc)
      g_string_append_printf (s,
                              "    %s acc = %s;\n"
                              "    for (uint o = q; o < n; o = t[n + o]) acc = acc %s %s;\n",
                              T, lo, out->dtype == GRD_DTYPE_BOOL ? "||" : "+", cy);
    else  /* the last write wins, as on the CPU */
      g_string_append_printf (s,
                              "    uint o = q;\n"
                              "    while (t[n + o] < n) o = t[n + o];\n"
                              "    %s acc = %s;\n", T, cy);
    g_string_append_printf (s, "    %s\n  }\n}\n", store);
    GrdVkKernel *k = grd_vk_rec_kernel (r, s, 3, error);
    if (!k)
      return FALSE;
    bufs[0] = y->buf;
    bufs[1] = tmp;
    bufs[2] = out->buf;
    grd_vk_dispatch (r, k, bufs, 3, p.v, p.n, grd_vk_groups_for (nb * ps.inner), 1);
  }
  return TRUE;
}

gboolean
grd_vk_step_subtensor (GrdVkRec *r, GrdVkStep *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = grd_vk_node_at (fn, st->node);
  gboolean inc = !strcmp (node->op->name, "inc_subtensor");
  GrdVkValue *x = grd_vk_slot (fn, node->inputs[0]), *y = grd_vk_slot (fn, node->inputs[1]);
  GrdVkValue *out = grd_vk_slot (fn, (GrdRef) { st->node, 0 });
  if (out->size == 0)
    return TRUE;
  /* out = x, then the region */
  g_autofree char *body = grd_vk_copy_body (x->dtype, out->dtype);
  GrdVkEw e = { .rank = out->rank, .n = 1, .body = body };
  memcpy (e.shape, out->shape, sizeof e.shape);
  grd_vk_ew_leaf_broadcast (&e, 0, x);
  grd_vk_ew_out_contiguous (&e, out);
  if (!grd_vk_ew_run (r, &e, error))
    return FALSE;
  if (node->n_inputs > 2)
    return write_positions (r, node, x, y, out, inc, error);
  return write_slice (r, node, x, y, out, inc, error);
}
