/* grd-vk-elementwise.c: elementwise programs: fused groups, strided copies, fills. */
#include "grd-vk-function-private.h"

#include <string.h>

/* Output contiguous over the iteration shape. */
void
grd_vk_ew_out_contiguous (GrdVkEw *e, GrdVkValue *out)
{
  e->obuf = out->buf;
  e->odt = out->dtype;
  e->ooff = 0;
  grd_vk_contiguous (e->rank, e->shape, e->ost);
}

/* Leaf k: value v broadcast against the iteration shape (NumPy rules). */
void
grd_vk_ew_leaf_broadcast (GrdVkEw *e, gint k, GrdVkValue *v)
{
  e->buf[k] = v->buf;
  e->dt[k] = v->dtype;
  e->off[k] = 0;
  gint64 cs[GRD_MAX_RANK];
  grd_vk_contiguous (v->rank, v->shape, cs);
  for (gint d = 0; d < e->rank; d++) {
    gint j = d - (e->rank - v->rank);
    e->st[k][d] = j < 0 || v->shape[j] == 1 ? 0 : cs[j];
  }
}

gboolean
grd_vk_ew_run (GrdVkRec *r, GrdVkEw *e, GError **error)
{
  gint64 total = grd_shape_size (e->rank, e->shape);
  if (total == 0)
    return TRUE;
  if (total >= G_MAXINT32) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "%" G_GINT64_FORMAT " elements are more than the Vulkan kernels index", total);
    return FALSE;
  }
  /* Collapse: drop size-1 axes, merge neighbours that every operand walks alike. */
  gint rank = 0;
  gint64 shape[GRD_MAX_RANK], st[GRD_VK_MAX_BINDINGS + 1][GRD_MAX_RANK];
  gint np = e->n + 1;
  for (gint d = 0; d < e->rank; d++) {
    if (e->shape[d] == 1)
      continue;
    gboolean merge = rank > 0;
    for (gint k = 0; k < np && merge; k++) {
      gint64 sd = k < e->n ? e->st[k][d] : e->ost[d];
      merge = st[k][rank - 1] == sd * e->shape[d];
    }
    if (merge) {
      shape[rank - 1] *= e->shape[d];
      for (gint k = 0; k < np; k++)
        st[k][rank - 1] = k < e->n ? e->st[k][d] : e->ost[d];
    } else {
      shape[rank] = e->shape[d];
      for (gint k = 0; k < np; k++)
        st[k][rank] = k < e->n ? e->st[k][d] : e->ost[d];
      rank++;
    }
  }
  gint64 cs[GRD_MAX_RANK];
  grd_vk_contiguous (rank, shape, cs);
  /* Per operand: 'c' walks like the output index, 's' is one element, 'x' is strided. */
  char how[GRD_VK_MAX_BINDINGS + 1];
  gboolean any_x = FALSE;
  for (gint k = 0; k < np; k++) {
    gint64 off = k < e->n ? e->off[k] : e->ooff;
    gboolean c = off == 0, s = TRUE;
    for (gint d = 0; d < rank; d++) {
      c = c && st[k][d] == cs[d];
      s = s && st[k][d] == 0;
    }
    how[k] = c ? 'c' : (s && k < e->n) ? 's' : 'x';
    any_x |= how[k] == 'x';
  }
  GrdVkParams p = { .n = 0 };
  grd_vk_param (&p, total);
  gint shape_p[GRD_MAX_RANK], off_p[GRD_VK_MAX_BINDINGS + 1];
  gint st_p[GRD_VK_MAX_BINDINGS + 1][GRD_MAX_RANK];
  if (any_x)
    for (gint d = 0; d < rank; d++)
      shape_p[d] = grd_vk_param (&p, shape[d]);
  for (gint k = 0; k < np; k++) {
    gint64 off = k < e->n ? e->off[k] : e->ooff;
    if (how[k] == 's')
      off_p[k] = grd_vk_param (&p, off);
    if (how[k] == 'x') {
      off_p[k] = grd_vk_param (&p, off);
      for (gint d = 0; d < rank; d++)
        st_p[k][d] = grd_vk_param (&p, st[k][d]);
    }
  }
  g_autoptr (GString) s = g_string_new (NULL);
  for (gint k = 0; k < e->n; k++)
    grd_vk_glsl_buffer (s, k, e->dt[k], TRUE);
  grd_vk_glsl_buffer (s, e->n, e->odt, FALSE);
  g_string_append_printf (s, "void main() {\n"
                          "  uint n = %s;\n"
                          "  uint step = gl_NumWorkGroups.x * %uu;\n"
                          "  for (uint i = gl_GlobalInvocationID.x; i < n; i += step) {\n",
                          grd_vk_pexpr (&p, 0), GRD_VK_GROUP);
  if (any_x)
    grd_vk_emit_coords (s, &p, "c", "i", rank, shape_p);
  for (gint k = 0; k <= e->n; k++) {
    g_autofree char *idx = how[k] == 'c' ? g_strdup ("i")
                           : how[k] == 's' ? g_strdup (grd_vk_pexpr (&p, off_p[k]))
                                           : grd_vk_offset_expr (&p, "c", rank, off_p[k], st_p[k]);
    if (k < e->n) {
      g_autofree char *load = grd_vk_glsl_load (k, e->dt[k], idx);
      g_string_append_printf (s, "    %s l%d = %s;\n", grd_vk_glsl_type (e->dt[k]), k, load);
    } else {
      g_string_append (s, e->body);
      g_autofree char *store = grd_vk_glsl_store (k, e->odt, idx, "res");
      g_string_append_printf (s, "    %s\n", store);
    }
  }
  g_string_append (s, "  }\n}\n");
  GrdVkKernel *k = grd_vk_rec_kernel (r, s, e->n + 1, error);
  if (!k)
    return FALSE;
  GrdVkBuffer *bufs[GRD_VK_MAX_BINDINGS + 1];
  memcpy (bufs, e->buf, sizeof (GrdVkBuffer *) * e->n);
  bufs[e->n] = e->obuf;
  grd_vk_dispatch (r, k, bufs, e->n + 1, p.v, p.n, grd_vk_groups_for (total), 1);
  return TRUE;
}

/* ------------------------------------------------------------ steps */

gboolean
grd_vk_step_fused (GrdVkRec *r, GrdVkStep *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdVkValue *out = grd_vk_slot (fn, (GrdRef) { st->node, 0 });
  GrdVkEw e = { .rank = out->rank, .n = st->leaves->len, .body = st->body };
  memcpy (e.shape, out->shape, sizeof e.shape);
  for (guint k = 0; k < st->leaves->len; k++)
    grd_vk_ew_leaf_broadcast (&e, k, grd_vk_slot (fn, g_array_index (st->leaves, GrdRef, k)));
  grd_vk_ew_out_contiguous (&e, out);
  return grd_vk_ew_run (r, &e, error);
}

char *
grd_vk_copy_body (GrdDType from, GrdDType to)
{
  g_autofree char *c = grd_vk_glsl_convert ("l0", from, to);
  return g_strdup_printf ("    %s res = %s;\n", grd_vk_glsl_type (to), c);
}

gboolean
grd_vk_fill_zero (GrdVkRec *r, GrdVkValue *out, GError **error)
{
  g_autofree char *body = g_strdup_printf ("    %s res = %s(0);\n", grd_vk_glsl_type (out->dtype),
                                           grd_vk_glsl_type (out->dtype));
  GrdVkEw e = { .rank = out->rank, .n = 0, .body = body };
  memcpy (e.shape, out->shape, sizeof e.shape);
  grd_vk_ew_out_contiguous (&e, out);
  return grd_vk_ew_run (r, &e, error);
}

gboolean
grd_vk_step_outer (GrdVkRec *r, GrdVkStep *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = grd_vk_node_at (fn, st->node);
  GrdVkValue *a = grd_vk_slot (fn, node->inputs[0]), *b = grd_vk_slot (fn, node->inputs[1]);
  GrdVkValue *out = grd_vk_slot (fn, (GrdRef) { st->node, 0 });
  const char *T = grd_vk_glsl_type (out->dtype);
  g_autofree char *ca = grd_vk_glsl_convert ("l0", a->dtype, out->dtype);
  g_autofree char *cb = grd_vk_glsl_convert ("l1", b->dtype, out->dtype);
  g_autofree char *body = g_strdup_printf ("    %s res = %s %s %s;\n", T, ca,
                                           out->dtype == GRD_DTYPE_BOOL ? "&&" : "*", cb);
  GrdVkEw e = { .rank = 2, .shape = { a->size, b->size }, .n = 2, .body = body };
  e.buf[0] = a->buf;
  e.dt[0] = a->dtype;
  e.st[0][0] = 1;
  e.buf[1] = b->buf;
  e.dt[1] = b->dtype;
  e.st[1][1] = 1;
  grd_vk_ew_out_contiguous (&e, out);
  return grd_vk_ew_run (r, &e, error);
}
