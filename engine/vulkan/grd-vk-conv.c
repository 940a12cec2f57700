/* grd-vk-conv.c: conv2d, pool_2d and the ops of their gradients as Vulkan
 * compute kernels, deterministic (no float atomics):
 *   conv2d, _conv2d_grad_input, _conv2d_grad_filters: implicit gemms tiled
 *     in shared memory (grd-vk-conv-tiled.c) for every geometry and
 *     attribute. The simple kernels below (one invocation per output element
 *     gathering from global memory) remain for GRADUS_VULKAN_CONV=simple,
 *     which the tests and bench/vk-conv-bench.c compare against. conv2d and
 *     _conv2d_grad_input also run with an elementwise epilogue
 *     (grd-vk-epilogue.c).
 *   pool_2d, _pool_2d_grad, _pool_2d_gather: the windows of ops/ops-pool.c.
 *     A max pool writes each window's argmax (the first largest element,
 *     row-major, as on the CPU) to a temporary next to its output; the
 *     gradient and _pool_2d_gather of the same input and attributes in the
 *     same submission read it instead of comparing again (without one, they
 *     compute it first, once per window).
 * The geometry is written into the GLSL as literals (a kernel per layer
 * shape; the kernel cache keeps them). Sums run in the output's dtype. */
#include "grd-vk-function-private.h"
#include "grd-vk-conv-tiled.h"

#include <string.h>

static const char *const ext_ops[] = {
  "conv2d", "_conv2d_grad_input", "_conv2d_grad_filters",
  "pool_2d", "_pool_2d_grad", "_pool_2d_gather", NULL,
};

gboolean
grd_vk_ext_handles (const char *op)
{
  return g_strv_contains (ext_ops, op);
}

static guint32
groups_for (gint64 n)
{
  return (guint32) MAX (MIN ((n + GRD_VK_GROUP - 1) / GRD_VK_GROUP, 65535), 1);
}

/* The grid-stride loop over `n` output elements around `body` (uses e). */
static void
loop_main (GString *s, gint64 n, const char *body)
{
  g_string_append_printf (s,
                          "void main() {\n"
                          "  uint step = gl_NumWorkGroups.x * %uu;\n"
                          "  for (uint e = gl_GlobalInvocationID.x; e < %" G_GINT64_FORMAT "u; e += step) {\n"
                          "%s"
                          "  }\n}\n", GRD_VK_GROUP, n, body);
}

static gboolean
run (GrdVkExtCall *c, GString *s, gint n_bufs, GrdVkBuffer *const *bufs, GError **error)
{
  GrdVkKernel *k = c->kernel (c, s, n_bufs, error);
  if (!k)
    return FALSE;
  guint32 push[1] = { 0 };
  c->dispatch (c, k, bufs, n_bufs, push, 1, groups_for (c->out_size));
  return TRUE;
}

/* ------------------------------------------------------------ conv2d */

void
grd_vk_conv_defines (GString *s, const GrdConvGeom *g)
{
  g_string_append_printf (s,
    "#define N %" G_GINT64_FORMAT "u\n#define C %" G_GINT64_FORMAT "u\n"
    "#define H %" G_GINT64_FORMAT "\n#define W %" G_GINT64_FORMAT "\n"
    "#define O %" G_GINT64_FORMAT "u\n#define CG %" G_GINT64_FORMAT "u\n#define OG %" G_GINT64_FORMAT "u\n"
    "#define KH %" G_GINT64_FORMAT "u\n#define KW %" G_GINT64_FORMAT "u\n"
    "#define PH %" G_GINT64_FORMAT "\n#define PW %" G_GINT64_FORMAT "\n"
    "#define SH %" G_GINT64_FORMAT "\n#define SW %" G_GINT64_FORMAT "\n"
    "#define DH %" G_GINT64_FORMAT "\n#define DW %" G_GINT64_FORMAT "\n"
    "#define OH %" G_GINT64_FORMAT "\n#define OW %" G_GINT64_FORMAT "\n"
    "#define TAP(p, a, b) (((p) * KH + (%s)) * KW + (%s))\n",
    g->n, g->c, g->h, g->w, g->o, g->cg, g->og, g->kh, g->kw, g->ph, g->pw, g->sh, g->sw,
    g->dh, g->dw, g->oh, g->ow, g->flip ? "KH - 1u - (a)" : "(a)", g->flip ? "KW - 1u - (b)" : "(b)");
}

/* The geometry of conv op `op` from its inputs' shapes. */
static gboolean
conv_geom (GrdVkExtCall *c, const char *op, GrdConvGeom *g, GError **error)
{
  gboolean forward = g_str_equal (op, "conv2d"), grad_in = g_str_equal (op, "_conv2d_grad_input");
  gint xi = forward ? 0 : grad_in ? 2 : 0, wi = forward ? 1 : grad_in ? 1 : 2;
  return grd_conv_geom (&c->node->attrs, c->in_shape[xi], c->in_shape[wi], g, error);
}

static gboolean
record_conv (GrdVkExtCall *c, const char *op, GError **error)
{
  gboolean forward = g_str_equal (op, "conv2d"), grad_in = g_str_equal (op, "_conv2d_grad_input");
  GrdConvGeom g;
  if (!conv_geom (c, op, &g, error))
    return FALSE;
  if (g_strcmp0 (g_getenv ("GRADUS_VULKAN_CONV"), "simple") != 0)
    return grd_vk_conv_tiled (c, op, &g, c->in_buf[0], c->in_buf[1], NULL, -1, error);
  const char *T = grd_vk_glsl_type (c->out_dtype);
  g_autoptr (GString) s = g_string_new (NULL);
  grd_vk_conv_defines (s, &g);
  g_autofree char *body = NULL;
  GrdVkBuffer *bufs[3];
  if (forward) {
    /* b0 x, b1 w, b2 y */
    body = g_strdup_printf (
      "    uint j = e %% uint(OW), t = e / uint(OW), i = t %% uint(OH); t /= uint(OH);\n"
      "    uint o = t %% O, n = t / O, grp = o / OG;\n"
      "    %s acc = %s(0);\n"
      "    for (uint c = 0u; c < CG; c++) {\n"
      "      uint ci = grp * CG + c;\n"
      "      for (uint a = 0u; a < KH; a++) {\n"
      "        int r = int(i) * SH + int(a) * DH - PH;\n"
      "        if (r < 0 || r >= H) continue;\n"
      "        for (uint b = 0u; b < KW; b++) {\n"
      "          int q = int(j) * SW + int(b) * DW - PW;\n"
      "          if (q < 0 || q >= W) continue;\n"
      "          acc += b0.d[((n * C + ci) * uint(H) + uint(r)) * uint(W) + uint(q)]"
      " * b1.d[TAP(o * CG + c, a, b)];\n"
      "        }\n      }\n    }\n"
      "    b2.d[e] = acc;\n", T, T);
    bufs[0] = c->in_buf[0], bufs[1] = c->in_buf[1];
  } else if (grad_in) {
    /* b0 gy, b1 w, b2 gx */
    body = g_strdup_printf (
      "    uint q = e %% uint(W), t = e / uint(W), r = t %% uint(H); t /= uint(H);\n"
      "    uint ci = t %% C, n = t / C, grp = ci / CG, c = ci %% CG;\n"
      "    %s acc = %s(0);\n"
      "    for (uint o = grp * OG; o < (grp + 1u) * OG; o++)\n"
      "      for (uint a = 0u; a < KH; a++) {\n"
      "        int ni = int(r) + PH - int(a) * DH;\n"
      "        if (ni < 0 || ni %% SH != 0 || ni / SH >= OH) continue;\n"
      "        uint i = uint(ni / SH);\n"
      "        for (uint b = 0u; b < KW; b++) {\n"
      "          int nj = int(q) + PW - int(b) * DW;\n"
      "          if (nj < 0 || nj %% SW != 0 || nj / SW >= OW) continue;\n"
      "          uint j = uint(nj / SW);\n"
      "          acc += b0.d[((n * O + o) * uint(OH) + i) * uint(OW) + j]"
      " * b1.d[TAP(o * CG + c, a, b)];\n"
      "        }\n      }\n"
      "    b2.d[e] = acc;\n", T, T);
    bufs[0] = c->in_buf[0], bufs[1] = c->in_buf[1];
  } else {
    /* b0 x, b1 gy, b2 gw; element e is the stored tap (fa, fb), used as tap (a, b) */
    body = g_strdup_printf (
      "    uint fb = e %% KW, t = e / KW, fa = t %% KH; t /= KH;\n"
      "    uint c = t %% CG, o = t / CG, ci = (o / OG) * CG + c;\n"
      "    uint a = %s, b = %s;\n"
      "    %s acc = %s(0);\n"
      "    for (uint n = 0u; n < N; n++)\n"
      "      for (uint i = 0u; i < uint(OH); i++) {\n"
      "        int r = int(i) * SH + int(a) * DH - PH;\n"
      "        if (r < 0 || r >= H) continue;\n"
      "        for (uint j = 0u; j < uint(OW); j++) {\n"
      "          int q = int(j) * SW + int(b) * DW - PW;\n"
      "          if (q < 0 || q >= W) continue;\n"
      "          acc += b1.d[((n * O + o) * uint(OH) + i) * uint(OW) + j]"
      " * b0.d[((n * C + ci) * uint(H) + uint(r)) * uint(W) + uint(q)];\n"
      "        }\n      }\n"
      "    b2.d[e] = acc;\n",
      g.flip ? "KH - 1u - fa" : "fa", g.flip ? "KW - 1u - fb" : "fb", T, T);
    bufs[0] = c->in_buf[0], bufs[1] = c->in_buf[1];
  }
  for (gint b = 0; b < 2; b++)
    grd_vk_glsl_buffer (s, b, c->out_dtype, TRUE);
  grd_vk_glsl_buffer (s, 2, c->out_dtype, FALSE);
  loop_main (s, c->out_size, body);
  bufs[2] = c->out_buf;
  return run (c, s, 3, bufs, error);
}

/* ------------------------------------------------------------ pool_2d */

static void
pool_defines (GString *s, const GrdPoolGeom *g)
{
  g_string_append_printf (s,
    "#define H %" G_GINT64_FORMAT "\n#define W %" G_GINT64_FORMAT "\n"
    "#define WH %" G_GINT64_FORMAT "\n#define WW %" G_GINT64_FORMAT "\n"
    "#define SH %" G_GINT64_FORMAT "\n#define SW %" G_GINT64_FORMAT "\n"
    "#define PH %" G_GINT64_FORMAT "\n#define PW %" G_GINT64_FORMAT "\n"
    "#define OH %" G_GINT64_FORMAT "\n#define OW %" G_GINT64_FORMAT "\n"
    "#define INC_PAD %d\n",
    g->h, g->w, g->wh, g->ww, g->sh, g->sw, g->ph, g->pw, g->oh, g->ow,
    g->mode == GRD_POOL_AVERAGE_INC_PAD);
  /* grd_pool_window in GLSL: the window of (i, j) in input coordinates */
  g_string_append (s,
    "void window(int i, int j, out int r0, out int r1, out int c0, out int c1, out int count) {\n"
    "  int rs = i * SH, re = min(rs + WH, H + 2 * PH), cs = j * SW, ce = min(cs + WW, W + 2 * PW);\n"
    "  int inc = max(re - rs, 0) * max(ce - cs, 0);\n"
    "  rs = max(rs, PH); re = min(re, H + PH); cs = max(cs, PW); ce = min(ce, W + PW);\n"
    "  count = INC_PAD != 0 ? inc : max(re - rs, 0) * max(ce - cs, 0);\n"
    "  r0 = rs - PH; r1 = max(re - PH, r0); c0 = cs - PW; c1 = max(ce - PW, c0);\n"
    "}\n");
}

/* "int argmax(uint base, ...)": the first largest element of a window of plane `base` of b0 */
static void
pool_argmax (GString *s, const char *T)
{
  g_string_append_printf (s,
    "int argmax(uint base, int r0, int r1, int c0, int c1) {\n"
    "  int best = -1; %s bv = %s(0);\n"
    "  for (int r = r0; r < r1; r++)\n"
    "    for (int c = c0; c < c1; c++) {\n"
    "      %s v = b0.d[base + uint(r * W + c)];\n"
    "      if (best < 0 || v > bv || (isnan(v) && !isnan(bv))) { best = r * W + c; bv = v; }\n"
    "    }\n"
    "  return best;\n}\n", T, T, T);
}

/* The key of a max pool's argmax among the submission's kept temporaries:
 * its input and pooling attributes. */
static char *
argmax_key (const GrdNode *node)
{
  const GrdAttrs *a = &node->attrs;
  return g_strdup_printf ("pool-argmax %d.%d %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                          " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                          " %" G_GINT64_FORMAT " %d", node->inputs[0].node,
                          node->inputs[0].output, (gint64) a->ws[0], (gint64) a->ws[1],
                          (gint64) a->pool_stride[0], (gint64) a->pool_stride[1],
                          (gint64) a->pool_pad[0], (gint64) a->pool_pad[1], (gint) a->ignore_border);
}

/* A temporary int32 buffer of the pooled shape, kept for the submission. */
static GrdVkBuffer *
argmax_buffer (GrdVkExtCall *c, gint64 n, GError **error)
{
  return grd_vk_rec_temp (c->priv, (VkDeviceSize) MAX (n, 1) * 4, error);
}

/* Max pooling through a stored argmax: pool_2d writes it with its output;
 * _pool_2d_grad scatters gy through it (each input element sums the windows
 * whose argmax it is), _pool_2d_gather reads gx at it. */
static gboolean
record_max_pool (GrdVkExtCall *c, const char *op, const GrdPoolGeom *g, GError **error)
{
  GrdVkRec *r = c->priv;
  const char *T = grd_vk_glsl_type (c->out_dtype);
  g_autofree char *key = argmax_key (c->node);
  gint64 pooled = g->planes * g->oh * g->ow;
  GrdVkBuffer *idx = r->kept ? g_hash_table_lookup (r->kept, key) : NULL;
  gboolean forward = g_str_equal (op, "pool_2d");
  guint32 push[1] = { 0 };
  if (!idx) {
    /* b0 x, b1 idx[, b2 y]: each window's argmax (and value) */
    if (!(idx = argmax_buffer (c, pooled, error)))
      return FALSE;
    g_autoptr (GString) s = g_string_new (NULL);
    pool_defines (s, g);
    grd_vk_glsl_buffer (s, 0, c->out_dtype, TRUE);
    grd_vk_glsl_buffer (s, 1, GRD_DTYPE_INT32, FALSE);
    if (forward)
      grd_vk_glsl_buffer (s, 2, c->out_dtype, FALSE);
    pool_argmax (s, T);
    g_autofree char *value = forward
      ? g_strdup_printf ("    b2.d[e] = m >= 0 ? b0.d[base + uint(m)] : %s(0);\n", T) : g_strdup ("");
    g_autofree char *body = g_strdup_printf (
      "    uint k = e %% uint(OH * OW), p = e / uint(OH * OW), base = p * uint(H * W);\n"
      "    int r0, r1, c0, c1, count;\n"
      "    window(int(k) / OW, int(k) %% OW, r0, r1, c0, c1, count);\n"
      "    int m = argmax(base, r0, r1, c0, c1);\n"
      "    b1.d[e] = m;\n%s", value);
    loop_main (s, pooled, body);
    GrdVkKernel *k = c->kernel (c, s, forward ? 3 : 2, error);
    if (!k)
      return FALSE;
    GrdVkBuffer *bufs[3] = { c->in_buf[0], idx, c->out_buf };
    grd_vk_dispatch_n (r, k, bufs, forward ? 3 : 2, forward ? 2 : 1, push, 1,
                       grd_vk_groups_for (pooled), 1);
    if (!r->kept)
      r->kept = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    g_hash_table_insert (r->kept, g_steal_pointer (&key), idx);
    if (forward)
      return TRUE;
  } else if (forward) {
    /* a second pool_2d of the same input: its values through the argmax */
    g_autoptr (GString) s = g_string_new (NULL);
    pool_defines (s, g);
    grd_vk_glsl_buffer (s, 0, c->out_dtype, TRUE);
    grd_vk_glsl_buffer (s, 1, GRD_DTYPE_INT32, TRUE);
    grd_vk_glsl_buffer (s, 2, c->out_dtype, FALSE);
    g_autofree char *body = g_strdup_printf (
      "    uint base = (e / uint(OH * OW)) * uint(H * W);\n"
      "    int m = b1.d[e];\n"
      "    b2.d[e] = m >= 0 ? b0.d[base + uint(m)] : %s(0);\n", T);
    loop_main (s, pooled, body);
    GrdVkKernel *k = c->kernel (c, s, 3, error);
    if (!k)
      return FALSE;
    GrdVkBuffer *bufs[3] = { c->in_buf[0], idx, c->out_buf };
    c->dispatch (c, k, bufs, 3, push, 1, grd_vk_groups_for (pooled));
    return TRUE;
  }
  g_autoptr (GString) s = g_string_new (NULL);
  pool_defines (s, g);
  grd_vk_glsl_buffer (s, 0, GRD_DTYPE_INT32, TRUE);
  grd_vk_glsl_buffer (s, 1, c->out_dtype, TRUE);
  grd_vk_glsl_buffer (s, 2, c->out_dtype, FALSE);
  g_autofree char *body = NULL;
  if (g_str_equal (op, "_pool_2d_grad"))
    /* b0 idx, b1 gy, b2 gx: the windows that can hold (r, q), in order */
    body = g_strdup_printf (
      "    int q = int(e %% uint(W)), r = int((e / uint(W)) %% uint(H));\n"
      "    uint gbase = (e / uint(H * W)) * uint(OH * OW);\n"
      "    %s acc = %s(0);\n"
      "    int ilo = max(0, (r + PH - WH + SH) / SH), jlo = max(0, (q + PW - WW + SW) / SW);\n"
      "    int ihi = min(OH - 1, (r + PH) / SH), jhi = min(OW - 1, (q + PW) / SW);\n"
      "    for (int i = ilo; i <= ihi; i++)\n"
      "      for (int j = jlo; j <= jhi; j++)\n"
      "        if (b0.d[gbase + uint(i * OW + j)] == r * W + q) acc += b1.d[gbase + uint(i * OW + j)];\n"
      "    b2.d[e] = acc;\n", T, T);
  else
    /* _pool_2d_gather: b0 idx, b1 gx, b2 out */
    body = g_strdup_printf (
      "    uint base = (e / uint(OH * OW)) * uint(H * W);\n"
      "    int m = b0.d[e];\n"
      "    b2.d[e] = m >= 0 ? b1.d[base + uint(m)] : %s(0);\n", T);
  loop_main (s, c->out_size, body);
  GrdVkKernel *k = c->kernel (c, s, 3, error);
  if (!k)
    return FALSE;
  GrdVkBuffer *bufs[3] = { idx, c->in_buf[1], c->out_buf };
  c->dispatch (c, k, bufs, 3, push, 1, grd_vk_groups_for (c->out_size));
  return TRUE;
}

static gboolean
record_pool (GrdVkExtCall *c, const char *op, GError **error)
{
  GrdPoolGeom g;
  if (!grd_pool_geom (&c->node->attrs, c->in_rank[0], c->in_shape[0], &g, error))
    return FALSE;
  if (g.mode == GRD_POOL_MAX && g_strcmp0 (g_getenv ("GRADUS_VULKAN_POOL"), "recompute") != 0)
    return record_max_pool (c, op, &g, error);
  const char *T = grd_vk_glsl_type (c->out_dtype);
  gboolean max = g.mode == GRD_POOL_MAX;
  g_autoptr (GString) s = g_string_new (NULL);
  pool_defines (s, &g);
  gint n_in = g_str_equal (op, "pool_2d") ? 1 : 2;
  for (gint b = 0; b < n_in; b++)
    grd_vk_glsl_buffer (s, b, c->out_dtype, TRUE);
  grd_vk_glsl_buffer (s, n_in, c->out_dtype, FALSE);
  pool_argmax (s, T);
  g_autofree char *body = NULL;
  if (g_str_equal (op, "pool_2d")) {
    /* b0 x, b1 y */
    body = g_strdup_printf (
      "    uint k = e %% uint(OH * OW), p = e / uint(OH * OW);\n"
      "    int r0, r1, c0, c1, count;\n"
      "    window(int(k) / OW, int(k) %% OW, r0, r1, c0, c1, count);\n"
      "    uint base = p * uint(H * W);\n"
      "    %s acc = %s(0);\n"
      "    if (%d != 0) {\n"
      "      int m = argmax(base, r0, r1, c0, c1);\n"
      "      if (m >= 0) acc = b0.d[base + uint(m)];\n"
      "    } else {\n"
      "      for (int r = r0; r < r1; r++)\n"
      "        for (int q = c0; q < c1; q++) acc += b0.d[base + uint(r * W + q)];\n"
      "      if (%d != 0) acc = count > 0 ? acc / %s(count) : %s(0);\n"
      "    }\n"
      "    b1.d[e] = acc;\n", T, T, max, g.mode != GRD_POOL_SUM, T, T);
  } else if (g_str_equal (op, "_pool_2d_grad")) {
    /* b0 x, b1 gy, b2 gx: every window that holds (r, q) */
    body = g_strdup_printf (
      "    int q = int(e %% uint(W)), r = int((e / uint(W)) %% uint(H));\n"
      "    uint p = e / uint(H * W), base = p * uint(H * W), gbase = p * uint(OH * OW);\n"
      "    %s acc = %s(0);\n"
      "    int ilo = max(0, (r + PH - WH + SH) / SH), jlo = max(0, (q + PW - WW + SW) / SW);\n"
      "    int ihi = min(OH - 1, (r + PH) / SH), jhi = min(OW - 1, (q + PW) / SW);\n"
      "    for (int i = ilo; i <= ihi; i++)\n"
      "      for (int j = jlo; j <= jhi; j++) {\n"
      "        int r0, r1, c0, c1, count;\n"
      "        window(i, j, r0, r1, c0, c1, count);\n"
      "        if (r < r0 || r >= r1 || q < c0 || q >= c1) continue;\n"
      "        %s gv = b1.d[gbase + uint(i * OW + j)];\n"
      "        if (%d != 0) {\n"
      "          if (argmax(base, r0, r1, c0, c1) == r * W + q) acc += gv;\n"
      "        } else {\n"
      "          acc += %d != 0 ? (count > 0 ? gv / %s(count) : %s(0)) : gv;\n"
      "        }\n"
      "      }\n"
      "    b2.d[e] = acc;\n", T, T, T, max, g.mode != GRD_POOL_SUM, T, T);
  } else {
    /* _pool_2d_gather: b0 x, b1 gx, b2 out */
    body = g_strdup_printf (
      "    uint k = e %% uint(OH * OW), p = e / uint(OH * OW), base = p * uint(H * W);\n"
      "    int r0, r1, c0, c1, count;\n"
      "    window(int(k) / OW, int(k) %% OW, r0, r1, c0, c1, count);\n"
      "    int m = argmax(base, r0, r1, c0, c1);\n"
      "    b2.d[e] = m >= 0 ? b1.d[base + uint(m)] : %s(0);\n", T);
  }
  loop_main (s, c->out_size, body);
  GrdVkBuffer *bufs[3] = { c->in_buf[0], c->in_buf[1], NULL };
  bufs[n_in] = c->out_buf;
  return run (c, s, n_in + 1, bufs, error);
}

/* What every kernel here assumes of its inputs and sizes. */
static gboolean
ext_check (GrdVkExtCall *c, GError **error)
{
  for (gint j = 0; j < c->n_in; j++)
    if (c->in_dtype[j] != c->out_dtype) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                   "the Vulkan kernel takes inputs of the output's dtype (%s), not %s",
                   grd_dtype_name (c->out_dtype), grd_dtype_name (c->in_dtype[j]));
      return FALSE;
    }
  gint64 biggest = c->out_size;
  for (gint j = 0; j < c->n_in; j++)
    biggest = MAX (biggest, grd_shape_size (c->in_rank[j], c->in_shape[j]));
  if (biggest >= G_MAXINT32) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "too many elements for 32-bit indices");
    return FALSE;
  }
  return TRUE;
}

gboolean
grd_vk_ext_record (GrdVkExtCall *c, GError **error)
{
  const char *op = c->node->op->name;
  if (!ext_check (c, error))
    return FALSE;
  if (c->out_size == 0)
    return TRUE;
  if (g_str_has_prefix (op, "_conv2d") || g_str_equal (op, "conv2d"))
    return record_conv (c, op, error);
  return record_pool (c, op, error);
}

gboolean
grd_vk_conv_record_epilogue (GrdVkExtCall *c, const GrdVkEw *epi, gint self, GError **error)
{
  const char *op = c->node->op->name;
  GrdConvGeom g;
  if (!ext_check (c, error))
    return FALSE;
  if (c->out_size == 0)
    return TRUE;
  if (!conv_geom (c, op, &g, error))
    return FALSE;
  return grd_vk_conv_tiled (c, op, &g, c->in_buf[0], c->in_buf[1], epi, self, error);
}
