/* grd-vk-gather.c: gathers: take, its gradient, one_hot. */
#include "grd-vk-function-private.h"

#include <string.h>

/* take (a, idx): out[o, k, i] = a[o, idx[k], i]; _take_grad (g, x, idx): the sum
 * of g over the k whose index is a (a gather, so no atomics). */
gboolean
grd_vk_step_take (GrdVkRec *r, GrdVkStep *st, gboolean grad, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = grd_vk_node_at (fn, st->node);
  GrdVkValue *a = grd_vk_slot (fn, node->inputs[grad ? 1 : 0]), *idx = grd_vk_slot (fn, node->inputs[grad ? 2 : 1]);
  GrdVkValue *g = grad ? grd_vk_slot (fn, node->inputs[0]) : NULL;
  GrdVkValue *out = grd_vk_slot (fn, (GrdRef) { st->node, 0 });
  gint axis;
  if (!grd_axis_single (&node->attrs, a->rank, 0, &axis, error))
    return FALSE;
  gint64 inner = 1, A = a->rank ? a->shape[axis] : 1;
  for (gint d = axis + 1; d < a->rank; d++)
    inner *= a->shape[d];
  if (out->size == 0)
    return TRUE;
  if (out->size >= G_MAXINT32 || (g && g->size >= G_MAXINT32)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "node '%s': too many elements",
                 node->id);
    return FALSE;
  }
  const char *IT = grd_vk_glsl_type (idx->dtype);
  g_autofree char *li = grd_vk_glsl_load (1, idx->dtype, "k");
  g_autoptr (GString) s = g_string_new (NULL);
  GrdDType od = out->dtype;
  const char *T = grd_vk_glsl_type (od);
  grd_vk_glsl_buffer (s, 0, grad ? g->dtype : a->dtype, TRUE);
  grd_vk_glsl_buffer (s, 1, idx->dtype, TRUE);
  grd_vk_glsl_buffer (s, 2, od, FALSE);
  g_string_append_printf (s,
                          "uint index(uint k, uint A) {\n"
                          "  %s v = %s;\n"
                          "  if (v < %s(0)) v += %s(A);\n"
                          "  return uint(clamp(v, %s(0), %s(A) - %s(1)));\n"
                          "}\n"
                          "void main() {\n"
                          "  uint n = pc.p[0], nk = pc.p[1], inner = pc.p[2], A = pc.p[3];\n"
                          "  uint step = gl_NumWorkGroups.x * %uu;\n"
                          "  for (uint e = gl_GlobalInvocationID.x; e < n; e += step) {\n",
                          IT, li, IT, IT, IT, IT, IT, GRD_VK_GROUP);
  if (!grad) {
    g_autofree char *la = grd_vk_glsl_load (0, a->dtype, "(o * A + index(k, A)) * inner + i");
    g_autofree char *ca = grd_vk_glsl_convert (la, a->dtype, od);
    g_autofree char *store = grd_vk_glsl_store (2, od, "e", ca);
    g_string_append_printf (s,
                            "    uint i = e %% inner, t = e / inner, k = t %% nk, o = t / nk;\n"
                            "    %s\n  }\n}\n", store);
  } else {
    /* out is shaped like x: e = (o, a, i) */
    g_autofree char *lg = grd_vk_glsl_load (0, g->dtype, "(o * nk + k) * inner + i");
    g_autofree char *cg = grd_vk_glsl_convert (lg, g->dtype, od);
    g_autofree char *store = grd_vk_glsl_store (2, od, "e", "acc");
    g_string_append_printf (s,
                            "    uint i = e %% inner, t = e / inner, a = t %% A, o = t / A;\n"
                            "    %s acc = %s(0);\n"
                            "    for (uint k = 0u; k < nk; k++)\n"
                            "      if (index(k, A) == a) acc += %s;\n"
                            "    %s\n  }\n}\n", T, T, cg, store);
  }
  GrdVkKernel *k = grd_vk_rec_kernel (r, s, 3, error);
  if (!k)
    return FALSE;
  GrdVkBuffer *bufs[3] = { grad ? g->buf : a->buf, idx->buf, out->buf };
  guint32 push[4] = { out->size, idx->size, inner, A };
  grd_vk_dispatch (r, k, bufs, 3, push, 4, grd_vk_groups_for (out->size), 1);
  return TRUE;
}

gboolean
grd_vk_step_one_hot (GrdVkRec *r, GrdVkStep *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = grd_vk_node_at (fn, st->node);
  GrdVkValue *idx = grd_vk_slot (fn, node->inputs[0]), *out = grd_vk_slot (fn, (GrdRef) { st->node, 0 });
  gint64 depth = out->rank ? out->shape[out->rank - 1] : 1;
  if (out->size == 0)
    return TRUE;
  const char *T = grd_vk_glsl_type (out->dtype);
  g_autofree char *li = grd_vk_glsl_load (0, idx->dtype, "e / d");
  g_autofree char *ci = grd_vk_glsl_convert (li, idx->dtype, GRD_DTYPE_INT64);
  g_autofree char *v = g_strdup_printf ("(%s == int64_t(e %% d) ? %s(1) : %s(0))", ci, T, T);
  g_autofree char *store = grd_vk_glsl_store (1, out->dtype, "e", v);
  g_autoptr (GString) s = g_string_new (NULL);
  grd_vk_glsl_buffer (s, 0, idx->dtype, TRUE);
  grd_vk_glsl_buffer (s, 1, out->dtype, FALSE);
  g_string_append_printf (s,
                          "void main() {\n"
                          "  uint n = pc.p[0], d = pc.p[1];\n"
                          "  uint step = gl_NumWorkGroups.x * %uu;\n"
                          "  for (uint e = gl_GlobalInvocationID.x; e < n; e += step) {\n"
                          "    %s\n  }\n}\n", GRD_VK_GROUP, store);
  fn->int64 = TRUE;
  GrdVkKernel *k = grd_vk_rec_kernel (r, s, 2, error);
  if (!k)
    return FALSE;
  GrdVkBuffer *bufs[2] = { idx->buf, out->buf };
  guint32 push[2] = { out->size, depth };
  grd_vk_dispatch (r, k, bufs, 2, push, 2, grd_vk_groups_for (out->size), 1);
  return TRUE;
}
