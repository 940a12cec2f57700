/* grd-vk-conv-tiled.c: conv2d, _conv2d_grad_input and _conv2d_grad_filters
 * as implicit gemms tiled in shared memory.
 *
 * Per group g, each op is C[m, col] = sum_k A[m, k] * B[k, col], with A and B
 * gathered from the tensors on the fly (no im2col buffer):
 *   conv2d                m = output channel, col = (n, i, j), k = (c, a, b)
 *   _conv2d_grad_input    m = input channel,  col = (n, r, s), k = (o, a, b);
 *                         B is gy where r + PH - a*DH lands on an output row
 *                         (divisible by the stride, in range), else 0
 *   _conv2d_grad_filters  m = output channel, col = (c, a, b), k = (n, i, j)
 * A workgroup of 256 invocations computes a BM x BN tile (64 x 128, 4 x 8 per
 * invocation); each slice of 16 k (8 where shared memory is short) is staged
 * in shared memory between barriers. Bounds are tested while staging, so every size and every
 * attribute (border modes as padding, subsample, dilation, num_groups,
 * filter_flip) takes this path; the simple kernels of grd-vk-conv.c stay
 * for GRADUS_VULKAN_CONV=simple (tests and bench/vk-conv-bench.c compare).
 * _conv2d_grad_filters has a long k (batch x positions) and few tiles: k is
 * split into chunks written to a temporary, then summed in a fixed order by
 * a second kernel - deterministic, no float atomics. */
#include "grd-vk-function-private.h"
#include "grd-vk-conv-tiled.h"

/* 16 x 16 invocations, each RM x RN outputs (the best of those tried on
 * lavapipe, bench/vk-conv-bench.c: fewer barriers per product counted most) */
#define RM 4
#define RN 8
#define BM (16 * RM)
#define BN (16 * RN)

typedef enum { FWD, GRAD_IN, GRAD_W } Kind;

static void
defines (GString *s, const GrdConvGeom *g, gint bk)
{
  grd_vk_conv_defines (s, g);
  g_string_append_printf (s, "#define RM %du\n#define RN %du\n#define BM %du\n#define BN %du\n#define BK %du\n",
                          RM, RN, BM, BN, bk);
}

/* loadA(g, m, k), loadB(g, k, col) and store(g, sp, m, col, v) of one op */
static void
op_functions (GString *s, Kind kind, const char *T)
{
  switch (kind) {
  case FWD:  /* b0 x, b1 w, b2 y */
    g_string_append_printf (s,
      "%s loadA(uint g, uint m, uint k) {\n"
      "  uint c = k / (KH * KW), ab = k %% (KH * KW);\n"
      "  return b1.d[TAP((g * OG + m) * CG + c, ab / KW, ab %% KW)];\n}\n"
      "%s loadB(uint g, uint k, uint col) {\n"
      "  uint c = k / (KH * KW), ab = k %% (KH * KW), a = ab / KW, b = ab %% KW;\n"
      "  uint j = col %% uint(OW), t = col / uint(OW), i = t %% uint(OH), n = t / uint(OH);\n"
      "  int r = int(i) * SH + int(a) * DH - PH, q = int(j) * SW + int(b) * DW - PW;\n"
      "  if (r < 0 || r >= H || q < 0 || q >= W) return %s(0);\n"
      "  return b0.d[((n * C + g * CG + c) * uint(H) + uint(r)) * uint(W) + uint(q)];\n}\n"
      "void store(uint g, uint sp, uint m, uint col, %s v) {\n"
      "  uint j = col %% uint(OW), t = col / uint(OW), i = t %% uint(OH), n = t / uint(OH);\n"
      "  uint o = g * OG + m;\n"
      "  put(((n * O + o) * uint(OH) + i) * uint(OW) + j, n, o, i, j, v);\n}\n"
      "#define M OG\n#define NC (N * uint(OH * OW))\n#define K (CG * KH * KW)\n",
      T, T, T, T);
    break;
  case GRAD_IN:  /* b0 gy, b1 w, b2 gx */
    g_string_append_printf (s,
      "%s loadA(uint g, uint m, uint k) {\n"
      "  uint o = k / (KH * KW), ab = k %% (KH * KW);\n"
      "  return b1.d[TAP((g * OG + o) * CG + m, ab / KW, ab %% KW)];\n}\n"
      "%s loadB(uint g, uint k, uint col) {\n"
      "  uint o = k / (KH * KW), ab = k %% (KH * KW), a = ab / KW, b = ab %% KW;\n"
      "  uint s = col %% uint(W), t = col / uint(W), r = t %% uint(H), n = t / uint(H);\n"
      "  int ni = int(r) + PH - int(a) * DH, nj = int(s) + PW - int(b) * DW;\n"
      "  if (ni < 0 || nj < 0 || ni %% SH != 0 || nj %% SW != 0) return %s(0);\n"
      "  ni /= SH; nj /= SW;\n"
      "  if (ni >= OH || nj >= OW) return %s(0);\n"
      "  return b0.d[((n * O + g * OG + o) * uint(OH) + uint(ni)) * uint(OW) + uint(nj)];\n}\n"
      "void store(uint g, uint sp, uint m, uint col, %s v) {\n"
      "  uint s = col %% uint(W), t = col / uint(W), r = t %% uint(H), n = t / uint(H);\n"
      "  uint ci = g * CG + m;\n"
      "  put(((n * C + ci) * uint(H) + r) * uint(W) + s, n, ci, r, s, v);\n}\n"
      "#define M CG\n#define NC (N * uint(H * W))\n#define K (OG * KH * KW)\n",
      T, T, T, T, T);
    break;
  case GRAD_W:  /* b0 x, b1 gy, b2 partial sums [split][gw] */
    g_string_append_printf (s,
      "%s loadA(uint g, uint m, uint k) {\n"
      "  return b1.d[((k / uint(OH * OW)) * O + g * OG + m) * uint(OH * OW) + k %% uint(OH * OW)];\n}\n"
      "%s loadB(uint g, uint k, uint col) {\n"
      "  uint c = col / (KH * KW), ab = col %% (KH * KW), a = ab / KW, b = ab %% KW;\n"
      "  uint j = k %% uint(OW), t = k / uint(OW), i = t %% uint(OH), n = t / uint(OH);\n"
      "  int r = int(i) * SH + int(a) * DH - PH, q = int(j) * SW + int(b) * DW - PW;\n"
      "  if (r < 0 || r >= H || q < 0 || q >= W) return %s(0);\n"
      "  return b0.d[((n * C + g * CG + c) * uint(H) + uint(r)) * uint(W) + uint(q)];\n}\n"
      "void store(uint g, uint sp, uint m, uint col, %s v) {\n"
      "  uint c = col / (KH * KW), ab = col %% (KH * KW);\n"
      "  YB.d[sp * (O * CG * KH * KW) + TAP((g * OG + m) * CG + c, ab / KW, ab %% KW)] = v;\n}\n"
      "#define M OG\n#define NC (CG * KH * KW)\n#define K (N * uint(OH * OW))\n",
      T, T, T, T);
    break;
  }
}

/* put(e, c0, c1, c2, c3, v): the result v of flat output element e, at
 * coordinates (c0..c3) of the 4-D output, stored into YB; with an epilogue,
 * its group applied first: the other leaves read at their broadcast
 * positions (binding 2 + their rank among them), v as leaf `self`. */
static void
put_function (GString *s, const char *T, const GrdVkEw *epi, gint self)
{
  g_string_append_printf (s, "void put(uint e, uint c0, uint c1, uint c2, uint c3, %s v) {\n", T);
  if (!epi) {
    g_string_append (s, "  YB.d[e] = v;\n}\n");
    return;
  }
  for (gint k = 0, b = 2; k < epi->n; k++) {
    if (k == self) {
      g_string_append_printf (s, "    %s l%d = v;\n", T, k);
      continue;
    }
    g_autoptr (GString) idx = g_string_new ("0u");
    for (gint d = 0; d < 4; d++)
      if (epi->st[k][d])
        g_string_append_printf (idx, " + c%d * %" G_GINT64_FORMAT "u", d, epi->st[k][d]);
    g_autofree char *load = grd_vk_glsl_load (b++, epi->dt[k], idx->str);
    g_string_append_printf (s, "    %s l%d = %s;\n", grd_vk_glsl_type (epi->dt[k]), k, load);
  }
  g_string_append (s, epi->body);
  g_autofree char *store = grd_vk_glsl_store (2 + epi->n - 1, epi->odt, "e", "res");
  g_string_append_printf (s, "    %s\n}\n", store);
}

/* The tile loop: TILES tiles of (split, group, tile row, tile column). */
static void
gemm_main (GString *s, const char *T, gint64 tm, gint64 tn, gint64 groups, gint64 splits,
           gint64 kchunk)
{
  g_string_append_printf (s,
    "#define TM %" G_GINT64_FORMAT "u\n#define TN %" G_GINT64_FORMAT "u\n"
    "#define G %" G_GINT64_FORMAT "u\n#define TILES %" G_GINT64_FORMAT "u\n"
    "#define KCH %" G_GINT64_FORMAT "u\n"
    "shared %s As[BK][BM];\nshared %s Bs[BK][BN];\n"
    "void main() {\n"
    "  uint lid = gl_LocalInvocationID.x, tx = lid %% 16u, ty = lid / 16u;\n"
    "  for (uint tile = gl_WorkGroupID.x; tile < TILES; tile += gl_NumWorkGroups.x) {\n"
    "    uint cn = tile %% TN, t = tile / TN, cm = t %% TM; t /= TM;\n"
    "    uint g = t %% G, sp = t / G, m0 = cm * BM, n0 = cn * BN;\n"
    "    uint klo = sp * KCH, khi = min(K, klo + KCH);\n"
    "    %s acc[RM][RN];\n"
    "    for (uint v = 0u; v < RM; v++) for (uint u = 0u; u < RN; u++) acc[v][u] = %s(0);\n"
    "    for (uint k0 = klo; k0 < khi; k0 += BK) {\n"
    "      for (uint p = 0u; p < (BM * BK + 255u) / 256u; p++) {\n"
    "        uint id = lid + 256u * p, kk = id %% BK, mm = id / BK, k = k0 + kk, m = m0 + mm;\n"
    "        if (mm < BM) As[kk][mm] = (k < khi && m < M) ? loadA(g, m, k) : %s(0);\n"
    "      }\n"
    "      for (uint p = 0u; p < (BN * BK + 255u) / 256u; p++) {\n"
    "        uint id = lid + 256u * p, nn = id %% BN, kk = id / BN, k = k0 + kk, col = n0 + nn;\n"
    "        if (kk < BK) Bs[kk][nn] = (k < khi && col < NC) ? loadB(g, k, col) : %s(0);\n"
    "      }\n"
    "      barrier();\n"
    "      for (uint kk = 0u; kk < BK; kk++) {\n"
    "        %s av[RM];\n"
    "        for (uint v = 0u; v < RM; v++) av[v] = As[kk][ty + 16u * v];\n"
    "        for (uint u = 0u; u < RN; u++) {\n"
    "          %s bv = Bs[kk][tx + 16u * u];\n"
    "          for (uint v = 0u; v < RM; v++) acc[v][u] += av[v] * bv;\n"
    "        }\n"
    "      }\n"
    "      barrier();\n"
    "    }\n"
    "    for (uint v = 0u; v < RM; v++)\n"
    "      for (uint u = 0u; u < RN; u++) {\n"
    "        uint m = m0 + ty + 16u * v, col = n0 + tx + 16u * u;\n"
    "        if (m < M && col < NC) store(g, sp, m, col, acc[v][u]);\n"
    "      }\n"
    "  }\n}\n",
    tm, tn, groups, splits * groups * tm * tn, kchunk, T, T, T, T, T, T, T, T);
}

/* The split of _conv2d_grad_filters' k: enough tiles to keep the device's
 * invocations busy, each chunk at least 8 slices of bk long. Busy means 64
 * workgroups on a CPU device (lavapipe's threads), 1024 on a GPU: an H200
 * has 132 multiprocessors, and with 64 tiles the layer of issue 12 left
 * half of them idle in this pass (docs/perf.md, "GPU"). */
static gint64
split_for (gint64 tiles, gint64 k, gint bk, gboolean cpu_device)
{
  gint64 want = MAX (1, (cpu_device ? 64 : 1024) / MAX (tiles, 1));
  gint64 most = MAX (1, k / (8 * bk));
  return MIN (want, most);
}

gboolean
grd_vk_conv_tiled (GrdVkExtCall *c, const char *op, const GrdConvGeom *g,
                   GrdVkBuffer *b0, GrdVkBuffer *b1, const GrdVkEw *epi, gint self,
                   GError **error)
{
  GrdVkRec *r = c->priv;
  Kind kind = g_str_equal (op, "conv2d") ? FWD
              : g_str_equal (op, "_conv2d_grad_input") ? GRAD_IN : GRAD_W;
  gint64 m = kind == GRAD_IN ? g->cg : g->og;
  gint64 nc = kind == FWD ? g->n * g->oh * g->ow
              : kind == GRAD_IN ? g->n * g->h * g->w : g->cg * g->kh * g->kw;
  gint64 k = kind == FWD ? g->cg * g->kh * g->kw
             : kind == GRAD_IN ? g->og * g->kh * g->kw : g->n * g->oh * g->ow;
  /* slices of 16, or 8 where the device's shared memory is short (float64
   * on a device with the minimum 16 KiB) */
  gsize esize = grd_vk_device_size (c->out_dtype);
  guint32 shared_max = r->fn->ctx->props.limits.maxComputeSharedMemorySize;
  gint bk = (BM + BN) * 16 * esize <= shared_max ? 16 : 8;
  if ((BM + BN) * bk * esize > shared_max) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "too little shared memory for the tiles");
    return FALSE;
  }
  gint64 tm = (m + BM - 1) / BM, tn = (nc + BN - 1) / BN;
  gboolean cpu_device = r->fn->ctx->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
  gint64 splits = kind == GRAD_W ? split_for (tm * tn * g->groups, k, bk, cpu_device) : 1;
  gint64 kchunk = (k + splits - 1) / splits;
  kchunk = (kchunk + bk - 1) / bk * bk;
  splits = MAX (1, (k + kchunk - 1) / kchunk);
  gint64 tiles = grd_dim_mul (grd_dim_mul (grd_dim_mul (tm, tn), g->groups), splits);
  if (tiles >= G_MAXINT32) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "too many tiles for 32-bit indices");
    return FALSE;
  }
  g_return_val_if_fail (!epi || (kind != GRAD_W && epi->rank == 4 && epi->n >= 1
                                  && epi->n + 2 <= GRD_VK_MAX_BINDINGS), FALSE);
  const char *T = grd_vk_glsl_type (c->out_dtype);
  /* bindings: b0, b1, the epilogue's other leaves, the output last */
  gint n_bufs = epi ? 2 + epi->n : 3;
  g_autoptr (GString) s = g_string_new (NULL);
  defines (s, g, bk);
  grd_vk_glsl_buffer (s, 0, c->out_dtype, TRUE);
  grd_vk_glsl_buffer (s, 1, c->out_dtype, TRUE);
  for (gint k = 0, b = 2; epi && k < epi->n; k++)
    if (k != self)
      grd_vk_glsl_buffer (s, b++, epi->dt[k], TRUE);
  grd_vk_glsl_buffer (s, n_bufs - 1, epi ? epi->odt : c->out_dtype, FALSE);
  g_string_append_printf (s, "#define YB b%d\n", n_bufs - 1);
  put_function (s, T, epi, self);
  op_functions (s, kind, T);
  gemm_main (s, T, tm, tn, g->groups, splits, kchunk);
  GrdVkKernel *kern = c->kernel (c, s, n_bufs, error);
  if (!kern)
    return FALSE;
  guint32 push[1] = { 0 };
  guint32 groups = (guint32) MIN (tiles, 65535);
  if (kind != GRAD_W || splits == 1) {
    GrdVkBuffer *bufs[GRD_VK_MAX_BINDINGS] = { b0, b1 };
    for (gint k = 0, b = 2; epi && k < epi->n; k++)
      if (k != self)
        bufs[b++] = epi->buf[k];
    bufs[n_bufs - 1] = c->out_buf;
    c->dispatch (c, kern, bufs, n_bufs, push, 1, groups);
    return TRUE;
  }
  /* partial sums of each chunk of k, then their sum in chunk order */
  gint64 parts = grd_dim_mul (c->out_size, splits), bytes = grd_dim_mul (parts, (gint64) esize);
  if (parts >= G_MAXINT32) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "too many partial sums");
    return FALSE;
  }
  GrdVkBuffer *part = grd_vk_rec_temp (r, (VkDeviceSize) bytes, error);
  if (!part)
    return FALSE;
  GrdVkBuffer *bufs[3] = { b0, b1, part };
  c->dispatch (c, kern, bufs, 3, push, 1, groups);
  g_autoptr (GString) sum = g_string_new (NULL);
  grd_vk_glsl_buffer (sum, 0, c->out_dtype, TRUE);
  grd_vk_glsl_buffer (sum, 1, c->out_dtype, FALSE);
  g_string_append_printf (sum,
    "void main() {\n"
    "  uint step = gl_NumWorkGroups.x * %uu;\n"
    "  for (uint e = gl_GlobalInvocationID.x; e < %" G_GINT64_FORMAT "u; e += step) {\n"
    "    %s acc = %s(0);\n"
    "    for (uint p = 0u; p < %" G_GINT64_FORMAT "u; p++) acc += b0.d[p * %" G_GINT64_FORMAT "u + e];\n"
    "    b1.d[e] = acc;\n"
    "  }\n}\n", GRD_VK_GROUP, c->out_size, T, T, splits, c->out_size);
  GrdVkKernel *ksum = c->kernel (c, sum, 2, error);
  if (!ksum)
    return FALSE;
  GrdVkBuffer *sbufs[2] = { part, c->out_buf };
  c->dispatch (c, ksum, sbufs, 2, push, 1, grd_vk_groups_for (c->out_size));
  return TRUE;
}
