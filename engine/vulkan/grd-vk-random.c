/* grd-vk-random.c: `_random` nodes on Vulkan, drawing the very numbers the
 * CPU draws (ops/ops-random.c): Philox 4x32-10 on the same key and counter
 * (element, draw number), then the same transform in float64 with
 * `precise` variables (no fused multiply-adds), the logarithm and cosine of
 * the normal draws being grd-philox.c's, whose coefficients are printed here.
 *
 * The kernel text does not depend on the call: the key and the draw number
 * are push constants, so it is compiled once. The recorder must not replay a
 * dispatch of this file (the draw number changes every call). */
#include "grd-vk-private.h"
#include "../grd-internal.h"

#include <string.h>

gboolean
grd_vk_random_handles (const char *op)
{
  return !strcmp (op, "_random");
}

/* push words */
enum { P_N, P_KEY0, P_KEY1, P_DRAW_LO, P_DRAW_HI, P_RANK, P_DIMS,
       P_S0 = P_DIMS + GRD_MAX_RANK, P_S1 = P_S0 + GRD_MAX_RANK };
G_STATIC_ASSERT (P_S1 + GRD_MAX_RANK <= GRD_VK_PUSH_WORDS);

static void
print_poly (GString *s, const char *name, const double *c, gint n)
{
  g_string_append_printf (s, "double %s(double z) {\n  precise double p = %.17eLF;\n", name,
                          c[n - 1]);
  for (gint i = n - 2; i >= 0; i--)
    g_string_append_printf (s, "  p = p * z + %.17eLF;\n", c[i]);
  g_string_append (s, "  return p;\n}\n");
}

/* grd-philox.c's functions, operation for operation */
static void
print_math (GString *s)
{
  double lc[GRD_RANDOM_LOG_TERMS], cc[GRD_RANDOM_TRIG_TERMS], sc[GRD_RANDOM_TRIG_TERMS];
  grd_random_coefs (lc, cc, sc);
  print_poly (s, "rnd_log_poly", lc, GRD_RANDOM_LOG_TERMS);
  print_poly (s, "rnd_cos_poly", cc, GRD_RANDOM_TRIG_TERMS);
  print_poly (s, "rnd_sin_poly", sc, GRD_RANDOM_TRIG_TERMS);
  g_string_append (
      s,
      "double rnd_log(double x) {\n"
      "  int k;\n"
      "  precise double m = frexp(x, k);\n"
      "  if (m < 0.70710678118654752440LF) { m = m * 2.0LF; k = k - 1; }\n"
      "  precise double f = m - 1.0LF;\n"
      "  precise double sv = f / (2.0LF + f);\n"
      "  precise double p = rnd_log_poly(sv * sv);\n"
      "  precise double dk = double(k);\n"
      "  precise double r = dk * 6.93147180369123816490e-01LF"
      " + (dk * 1.90821492927058770002e-10LF + sv * p);\n"
      "  return r;\n"
      "}\n"
      "double rnd_cos2pi(double u) {\n"
      "  precise double n = floor(u * 4.0LF + 0.5LF);\n"
      "  precise double x = (u - n * 0.25LF) * 6.28318530717958647692LF;\n"
      "  precise double z = x * x;\n"
      "  precise double cs = rnd_cos_poly(z);\n"
      "  precise double sn = x * rnd_sin_poly(z);\n"
      "  int q = int(n) & 3;\n"
      "  return q == 0 ? cs : q == 1 ? -sn : q == 2 ? -cs : sn;\n"
      "}\n"
      /* Philox 4x32-10 */
      "uvec4 philox(uvec4 c, uvec2 k) {\n"
      "  for (int i = 0; i < 10; i++) {\n"
      "    uint h0, l0, h1, l1;\n"
      "    umulExtended(0xD2511F53u, c.x, h0, l0);\n"
      "    umulExtended(0xCD9E8D57u, c.z, h1, l1);\n"
      "    c = uvec4(h1 ^ c.y ^ k.x, l1, h0 ^ c.w ^ k.y, l0);\n"
      "    k += uvec2(0x9E3779B9u, 0xBB67AE85u);\n"
      "  }\n"
      "  return c;\n"
      "}\n"
      "double unit53(uint a, uint b) {\n"
      "  precise double r = (double(a >> 5) * 67108864.0LF + double(b >> 6))"
      " * (1.0LF / 9007199254740992.0LF);\n"
      "  return r;\n"
      "}\n");
}

gboolean
grd_vk_random_record (GrdVkExtCall *c, gboolean has_float64, GError **error)
{
  GrdDistribution dist;
  GrdDType dtype;
  guint32 key[2];
  guint64 draw;
  if (!has_float64) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "the device has no float64 arithmetic, "
                 "which the draws need to be the CPU's");
    return FALSE;
  }
  if (c->out_size > G_MAXUINT32 / 2) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "%" G_GINT64_FORMAT " elements drawn "
                 "at once: the kernel counts them in 32 bits", c->out_size);
    return FALSE;
  }
  if (c->out_dtype != GRD_DTYPE_FLOAT32 && c->out_dtype != GRD_DTYPE_FLOAT64
      && c->out_dtype != GRD_DTYPE_INT32 && c->out_dtype != GRD_DTYPE_INT64) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "draws of dtype %s",
                 grd_dtype_name (c->out_dtype));
    return FALSE;
  }
  for (gint p = 0; p < 2; p++)
    if (c->in_dtype[p] == GRD_DTYPE_BOOL || c->in_rank[p] > c->out_rank) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "param %d of dtype %s, rank %d", p,
                   grd_dtype_name (c->in_dtype[p]), c->in_rank[p]);
      return FALSE;
    }
  /* every evaluation takes a draw number, empty ones too (as the CPU) */
  grd_random_next_draw (c->node, &dist, &dtype, key, &draw);
  if (c->out_size == 0)
    return TRUE;

  g_autoptr (GString) s = g_string_new (NULL);
  grd_vk_glsl_buffer (s, 0, c->in_dtype[0], TRUE);
  grd_vk_glsl_buffer (s, 1, c->in_dtype[1], TRUE);
  grd_vk_glsl_buffer (s, 2, c->out_dtype, FALSE);
  print_math (s);
  g_autofree char *la = grd_vk_glsl_load (0, c->in_dtype[0], "o0");
  g_autofree char *lb = grd_vk_glsl_load (1, c->in_dtype[1], "o1");
  g_string_append_printf (
      s,
      "void main() {\n"
      "  uint n = pc.p[%d];\n"
      "  uvec2 key = uvec2(pc.p[%d], pc.p[%d]);\n"
      "  uint rank = pc.p[%d];\n"
      "  for (uint e = gl_GlobalInvocationID.x; e < n; e += gl_NumWorkGroups.x * %du) {\n"
      "    uint o0 = 0u, o1 = 0u, rest = e;\n"
      "    for (uint k = rank; k > 0u; k--) {\n"
      "      uint dim = pc.p[%d + k - 1u], i = rest %% dim;\n"
      "      rest /= dim;\n"
      "      o0 += i * pc.p[%d + k - 1u];\n"
      "      o1 += i * pc.p[%d + k - 1u];\n"
      "    }\n"
      "    precise double a = double(%s), b = double(%s);\n"
      "    uvec4 ctr = uvec4(e, 0u, pc.p[%d], pc.p[%d]);\n"
      "    uvec4 w = philox(ctr, key);\n"
      "    precise double v;\n",
      P_N, P_KEY0, P_KEY1, P_RANK, GRD_VK_GROUP, P_DIMS, P_S0, P_S1, la, lb, P_DRAW_LO,
      P_DRAW_HI);
  switch (dist) {
  case GRD_RANDOM_UNIFORM:
    g_string_append (s, "    v = a + (b - a) * unit53(w.x, w.y);\n");
    break;
  case GRD_RANDOM_NORMAL:
    g_string_append (s,
                     "    precise double u1 = 1.0LF - unit53(w.x, w.y), u2 = unit53(w.z, w.w);\n"
                     "    precise double l = rnd_log(u1);\n"
                     "    precise double c2 = rnd_cos2pi(u2);\n"
                     "    v = a + ((b * sqrt(-2.0LF * l)) * c2);\n");
    break;
  case GRD_RANDOM_BINOMIAL:
    /* llround of the trial count; n Bernoulli trials, four per block */
    g_string_append (s,
                     "    double nt = a < 0.0LF ? -floor(-a + 0.5LF) : floor(a + 0.5LF);\n"
                     "    int k = 0;\n"
                     "    for (int j = 0; double(j) < nt; j++) {\n"
                     "      if (j > 0 && j % 4 == 0) w = philox(uvec4(e, uint(j / 4), ctr.z, ctr.w), key);\n"
                     "      uint word = (j % 4) == 0 ? w.x : (j % 4) == 1 ? w.y : (j % 4) == 2 ? w.z : w.w;\n"
                     "      precise double t = (double(word) + 0.5LF) * (1.0LF / 4294967296.0LF);\n"
                     "      if (t < b) k++;\n"
                     "    }\n"
                     "    v = double(k);\n");
    break;
  }
  if (c->out_dtype == GRD_DTYPE_FLOAT32 && dist == GRD_RANDOM_UNIFORM)
    /* as the CPU: a float that rounds up to `high` is moved one step towards `low` */
    g_string_append (s,
                     "    float fv = float(v), fb = float(b), fa = float(a);\n"
                     "    if (double(fv) >= b && b > a && fb == 0.0)\n"
                     "      fv = uintBitsToFloat(fa > 0.0 ? 1u : 0x80000001u);\n"
                     "    else if (double(fv) >= b && b > a && fb != fa)\n"
                     "      fv = uintBitsToFloat(floatBitsToUint(fb) + ((fa > fb) == (fb > 0.0) ? 1u : 0xffffffffu));\n"
                     "    v = double(fv);\n");
  g_autofree char *conv = g_strdup_printf ("%s(v)", grd_vk_glsl_type (c->out_dtype));
  g_autofree char *st = grd_vk_glsl_store (2, c->out_dtype, "e", conv);
  g_string_append_printf (s, "    %s\n  }\n}\n", st);

  GrdVkKernel *k = c->kernel (c, s, 3, error);
  if (!k)
    return FALSE;
  guint32 push[GRD_VK_PUSH_WORDS] = { 0 };
  push[P_N] = (guint32) c->out_size;
  push[P_KEY0] = key[0];
  push[P_KEY1] = key[1];
  push[P_DRAW_LO] = (guint32) draw;
  push[P_DRAW_HI] = (guint32) (draw >> 32);
  push[P_RANK] = (guint32) c->out_rank;
  for (gint d = 0; d < c->out_rank; d++)
    push[P_DIMS + d] = (guint32) c->out_shape[d];
  /* the params broadcast from the right: stride 0 along their size-1 and missing axes */
  for (gint p = 0; p < 2; p++) {
    gint r = c->in_rank[p];
    guint32 stride = 1;
    for (gint d = r - 1; d >= 0; d--) {
      gint od = c->out_rank - r + d;
      push[(p ? P_S1 : P_S0) + od] = c->in_shape[p][d] == 1 ? 0 : stride;
      stride *= (guint32) c->in_shape[p][d];
    }
  }
  GrdVkBuffer *bufs[3] = { c->in_buf[0], c->in_buf[1], c->out_buf };
  c->dispatch (c, k, bufs, 3, push, GRD_VK_PUSH_WORDS,
               (guint32) MAX (MIN ((c->out_size + GRD_VK_GROUP - 1) / GRD_VK_GROUP, 65535), 1));
  return TRUE;
}
