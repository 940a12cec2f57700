/* grd-vk-row.c: row-wise ops: softmax, log_softmax, logsumexp,
 * categorical_crossentropy, and _crossentropy_logits (what the stabilising
 * rewrite makes of crossentropy(softmax(x), t): logsumexp(x) - x[t]). */
#include "grd-vk-function-private.h"

#include <string.h>

/* softmax, log_softmax, logsumexp and categorical_crossentropy: one thread per row. */
gboolean
grd_vk_step_row (GrdVkRec *r, GrdVkStep *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = grd_vk_node_at (fn, st->node);
  const char *op = node->op->name;
  GrdVkValue *x = grd_vk_slot (fn, node->inputs[0]), *out = grd_vk_slot (fn, (GrdRef) { st->node, 0 });
  gboolean logits = !strcmp (op, "_crossentropy_logits");
  gboolean cce = logits || !strcmp (op, "categorical_crossentropy");
  gint axis = x->rank - 1;
  if (x->rank == 0) {
    axis = 0;
  } else if (!cce && !grd_axis_single (&node->attrs, x->rank, x->rank - 1, &axis, error))
    return FALSE;
  gint64 L = x->rank ? x->shape[axis] : 1, inner = 1, outer = 1;
  for (gint d = 0; d < axis; d++)
    outer *= x->shape[d];
  for (gint d = axis + 1; d < x->rank; d++)
    inner *= x->shape[d];
  gint64 rows = outer * inner;
  if (rows == 0 || x->size >= G_MAXINT32)
    return rows == 0 ? TRUE : (g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                                            "node '%s': too many elements", node->id), FALSE);
  GrdDType od = out->dtype;
  GrdDType td = grd_dtype_is_float (od) ? od : GRD_DTYPE_FLOAT64;
  const char *T = grd_vk_glsl_type (td);
  g_autofree char *lx = grd_vk_glsl_load (0, x->dtype, "base + j * inner");
  g_autofree char *cx = grd_vk_glsl_convert (lx, x->dtype, td);
  g_autoptr (GString) s = g_string_new (NULL);
  gint n_buf = 2;
  grd_vk_glsl_buffer (s, 0, x->dtype, TRUE);
  GrdVkValue *t = NULL;
  if (cce) {
    t = grd_vk_slot (fn, node->inputs[1]);
    grd_vk_glsl_buffer (s, 1, t->dtype, TRUE);
    n_buf = 3;
  }
  grd_vk_glsl_buffer (s, n_buf - 1, od, FALSE);
  /* long rows take a workgroup each (lavapipe caps an invocation's loops) */
  gboolean wide = !cce && L > GRD_VK_GROUP;
  const char *e = !strcmp (op, "softmax") ? "gx_exp(X(base, inner, j) - m) / sum"
                                          : "(X(base, inner, j) - m) - gx_log(sum)";
  if (wide)
    g_string_append_printf (s, "shared %s sm[%d];\n", T, GRD_VK_GROUP);
  g_string_append_printf (s,
                          "%s X(uint base, uint inner, uint j) { return %s; }\n"
                          "void main() {\n"
                          "  uint rows = pc.p[0], L = pc.p[1], inner = pc.p[2];\n",
                          T, cx);
  if (wide)
    g_string_append (s, "  for (uint row = gl_WorkGroupID.x; row < rows; row += gl_NumWorkGroups.x) {\n");
  else
    g_string_append_printf (s, "  uint step = gl_NumWorkGroups.x * %uu;\n"
                            "  for (uint row = gl_GlobalInvocationID.x; row < rows; row += step) {\n",
                            GRD_VK_GROUP);
  g_string_append (s, "    uint base = (row / inner) * L * inner + row % inner;\n");
  g_autofree char *res = NULL;
  if (cce) {
    if (logits) {
      g_autofree char *lt = grd_vk_glsl_load (1, t->dtype, "row");
      g_string_append_printf (s, "    int64_t c = int64_t(%s);\n"
                              "    if (c < 0) c += int64_t(L);\n"
                              "    c = clamp(c, int64_t(0), int64_t(L) - 1);\n"
                              "    %s m = X(base, inner, 0u);\n"
                              "    for (uint j = 1u; j < L; j++) m = gx_max(m, X(base, inner, j));\n"
                              "    if (isinf(m)) m = %s(0);\n"
                              "    %s sum = %s(0);\n"
                              "    for (uint j = 0u; j < L; j++) sum += gx_exp(X(base, inner, j) - m);\n"
                              "    %s acc = (m + gx_log(sum)) - X(base, inner, uint(c));\n",
                              lt, T, T, T, T, T);
      fn->int64 = TRUE;
    } else if (grd_dtype_is_float (t->dtype)) {
      g_autofree char *lt = grd_vk_glsl_load (1, t->dtype, "base + j * inner");
      g_autofree char *ct = grd_vk_glsl_convert (lt, t->dtype, td);
      g_string_append_printf (s, "    %s acc = %s(0);\n"
                              "    for (uint j = 0u; j < L; j++) acc -= %s * gx_log(X(base, inner, j));\n",
                              T, T, ct);
    } else {
      g_autofree char *lt = grd_vk_glsl_load (1, t->dtype, "row");
      g_string_append_printf (s, "    int64_t c = int64_t(%s);\n"
                              "    if (c < 0) c += int64_t(L);\n"
                              "    c = clamp(c, int64_t(0), int64_t(L) - 1);\n"
                              "    %s acc = -gx_log(X(base, inner, uint(c)));\n", lt, T);
      fn->int64 = TRUE;
    }
    g_autofree char *cv = grd_vk_glsl_convert ("acc", td, od);
    g_autofree char *store = grd_vk_glsl_store (2, od, "row", cv);
    g_string_append_printf (s, "    %s\n  }\n}\n", store);
  } else if (!wide) {
    g_string_append_printf (s,
                            "    %s m = X(base, inner, 0u);\n"
                            "    for (uint j = 1u; j < L; j++) m = gx_max(m, X(base, inner, j));\n"
                            "    if (isinf(m)) m = %s(0);\n"
                            "    %s sum = %s(0);\n"
                            "    for (uint j = 0u; j < L; j++) sum += gx_exp(X(base, inner, j) - m);\n",
                            T, T, T, T);
    if (!strcmp (op, "logsumexp")) {
      g_autofree char *cv = grd_vk_glsl_convert ("(m + gx_log(sum))", td, od);
      g_autofree char *store = grd_vk_glsl_store (1, od, "row", cv);
      g_string_append_printf (s, "    %s\n  }\n}\n", store);
    } else {
      g_autofree char *cv = grd_vk_glsl_convert (e, td, od);
      g_autofree char *store = grd_vk_glsl_store (1, od, "base + j * inner", cv);
      g_string_append_printf (s, "    for (uint j = 0u; j < L; j++) %s\n  }\n}\n", store);
    }
  } else {
    /* one workgroup per row: maximum and sum through shared memory */
    g_string_append_printf (s,
                            "    uint tid = gl_LocalInvocationID.x;\n"
                            "    %s m = X(base, inner, 0u);\n"
                            "    for (uint j = tid; j < L; j += %uu) m = gx_max(m, X(base, inner, j));\n"
                            "    sm[tid] = m;\n    barrier();\n"
                            "    for (uint h = %uu; h > 0u; h >>= 1) {\n"
                            "      if (tid < h) sm[tid] = gx_max(sm[tid], sm[tid + h]);\n"
                            "      barrier();\n    }\n"
                            "    m = sm[0];\n    barrier();\n"
                            "    if (isinf(m)) m = %s(0);\n"
                            "    %s sum = %s(0);\n"
                            "    for (uint j = tid; j < L; j += %uu) sum += gx_exp(X(base, inner, j) - m);\n"
                            "    sm[tid] = sum;\n    barrier();\n"
                            "    for (uint h = %uu; h > 0u; h >>= 1) {\n"
                            "      if (tid < h) sm[tid] += sm[tid + h];\n"
                            "      barrier();\n    }\n"
                            "    sum = sm[0];\n    barrier();\n",
                            T, GRD_VK_GROUP, GRD_VK_GROUP / 2, T, T, T, GRD_VK_GROUP,
                            GRD_VK_GROUP / 2);
    if (!strcmp (op, "logsumexp")) {
      g_autofree char *cv = grd_vk_glsl_convert ("(m + gx_log(sum))", td, od);
      g_autofree char *store = grd_vk_glsl_store (1, od, "row", cv);
      g_string_append_printf (s, "    if (tid == 0u) %s\n  }\n}\n", store);
    } else {
      g_autofree char *cv = grd_vk_glsl_convert (e, td, od);
      g_autofree char *store = grd_vk_glsl_store (1, od, "base + j * inner", cv);
      g_string_append_printf (s, "    for (uint j = tid; j < L; j += %uu) %s\n  }\n}\n",
                              GRD_VK_GROUP, store);
    }
  }
  if (td == GRD_DTYPE_FLOAT64)
    fn->float64 = TRUE;
  GrdVkKernel *k = grd_vk_rec_kernel (r, s, n_buf, error);
  if (!k)
    return FALSE;
  GrdVkBuffer *bufs[3] = { x->buf, cce ? t->buf : out->buf, out->buf };
  guint32 push[3] = { rows, L, inner };
  grd_vk_dispatch (r, k, bufs, n_buf, push, 3, wide ? (guint32) MIN (rows, 65535) : grd_vk_groups_for (rows), 1);
  return TRUE;
}
