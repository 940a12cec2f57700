/* grd-vk-dot.c: matrix products (the built-in SPIR-V gemm). */
#include "grd-vk-function-private.h"

#include <string.h>

#include "gemm-f32.h"
#include "gemm-f64.h"

/* dot, _dot_nt, _dot_tn as C[M,N] = A[M,K] B[K,N] through strides. */
gboolean
grd_vk_step_dot (GrdVkRec *r, GrdVkStep *st, GError **error)
{
  GrdVkFunction *fn = r->fn;
  GrdNode *node = grd_vk_node_at (fn, st->node);
  const char *op = node->op->name;
  GrdVkValue *a = grd_vk_slot (fn, node->inputs[0]), *b = grd_vk_slot (fn, node->inputs[1]);
  GrdVkValue *out = grd_vk_slot (fn, (GrdRef) { st->node, 0 });
  GrdDType od = out->dtype;
  if (a->rank == 0 || b->rank == 0) {
    const char *T = grd_vk_glsl_type (od);
    g_autofree char *ca = grd_vk_glsl_convert ("l0", a->dtype, od);
    g_autofree char *cb = grd_vk_glsl_convert ("l1", b->dtype, od);
    g_autofree char *body = g_strdup_printf ("    %s res = %s %s %s;\n", T, ca,
                                             od == GRD_DTYPE_BOOL ? "&&" : "*", cb);
    GrdVkEw e = { .rank = out->rank, .n = 2, .body = body };
    memcpy (e.shape, out->shape, sizeof e.shape);
    grd_vk_ew_leaf_broadcast (&e, 0, a);
    grd_vk_ew_leaf_broadcast (&e, 1, b);
    grd_vk_ew_out_contiguous (&e, out);
    return grd_vk_ew_run (r, &e, error);
  }
  gint64 M, N, K, sam, sak, sbk, sbn;
  if (!strcmp (op, "_dot_nt")) {
    M = a->shape[0], K = a->shape[1], N = b->shape[0];
    sam = K, sak = 1, sbk = 1, sbn = K;
  } else if (!strcmp (op, "_dot_tn")) {
    K = a->shape[0], M = a->shape[1], N = b->shape[1];
    sam = 1, sak = M, sbk = N, sbn = 1;
  } else {
    M = a->rank == 2 ? a->shape[0] : 1;
    K = a->shape[a->rank - 1];
    N = b->rank == 2 ? b->shape[1] : 1;
    sam = a->rank == 2 ? K : 0, sak = 1;
    sbk = b->rank == 2 ? N : 1, sbn = b->rank == 2 ? 1 : 0;
  }
  if (M * N == 0)
    return TRUE;
  if (M * N >= G_MAXINT32 || M * K >= G_MAXINT32 || K * N >= G_MAXINT32) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "node '%s': matrices too large",
                 node->id);
    return FALSE;
  }
  guint32 push[8] = { M, N, K, sam, sak, sbk, sbn, 0 };
  GrdVkBuffer *bufs[3] = { a->buf, b->buf, out->buf };
  if (grd_dtype_is_float (od) && a->dtype == od && b->dtype == od) {
    gboolean dbl = od == GRD_DTYPE_FLOAT64;
    /* 8x8 per thread (128x128 tiles) for big float32 products, 4x4 otherwise */
    guint32 t = !dbl && M >= 512 && N >= 512 ? 8 : 4;
    guint32 spec[2] = { t, t };
    GrdVkKernel *k = dbl ? grd_vk_kernel_spirv (fn->ctx, "gemm-f64", gemm_f64, sizeof gemm_f64,
                                                3, spec, 2, error)
                         : grd_vk_kernel_spirv (fn->ctx, "gemm-f32", gemm_f32, sizeof gemm_f32,
                                                3, spec, 2, error);
    if (!k)
      return FALSE;
    guint32 tile = 16 * t;
    guint32 gx = (N + tile - 1) / tile, gy = (M + tile - 1) / tile;
    if (gx > 65535 || gy > 65535) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "node '%s': matrices too large",
                   node->id);
      return FALSE;
    }
    grd_vk_dispatch (r, k, bufs, 3, push, 8, gx, gy);
    return TRUE;
  }
  /* other dtypes: one thread per output element, in the output's type
   * (int64 wraps as NumPy's; bool is an or of ands) */
  const char *T = grd_vk_glsl_type (od);
  g_autofree char *la = grd_vk_glsl_load (0, a->dtype, "m * pc.p[3] + q * pc.p[4]");
  g_autofree char *lb = grd_vk_glsl_load (1, b->dtype, "q * pc.p[5] + c * pc.p[6]");
  g_autofree char *ca = grd_vk_glsl_convert (la, a->dtype, od);
  g_autofree char *cb = grd_vk_glsl_convert (lb, b->dtype, od);
  g_autofree char *store = grd_vk_glsl_store (2, od, "o", "acc");
  g_autofree char *term = g_strdup_printf (od == GRD_DTYPE_BOOL ? "acc || (%s && %s)"
                                                                : "acc + %s * %s", ca, cb);
  g_autoptr (GString) s = g_string_new (NULL);
  grd_vk_glsl_buffer (s, 0, a->dtype, TRUE);
  grd_vk_glsl_buffer (s, 1, b->dtype, TRUE);
  grd_vk_glsl_buffer (s, 2, od, FALSE);
  g_string_append_printf (s,
                          "void main() {\n"
                          "  uint n = pc.p[0] * pc.p[1];\n"
                          "  uint step = gl_NumWorkGroups.x * %uu;\n"
                          "  for (uint o = gl_GlobalInvocationID.x; o < n; o += step) {\n"
                          "    uint m = o / pc.p[1], c = o %% pc.p[1];\n"
                          "    %s acc = %s(0);\n"
                          "    for (uint q = 0u; q < pc.p[2]; q++)\n"
                          "      acc = %s;\n"
                          "    %s\n  }\n}\n",
                          GRD_VK_GROUP, T, T, term, store);
  GrdVkKernel *k = grd_vk_rec_kernel (r, s, 3, error);
  if (!k)
    return FALSE;
  grd_vk_dispatch (r, k, bufs, 3, push, 8, grd_vk_groups_for (M * N), 1);
  return TRUE;
}
