/* grd-philox.c: Philox 4x32-10, the counter-based generator of Salmon,
 * Moraes, Dror and Shaw, "Parallel random numbers: as easy as 1, 2, 3"
 * (SC 2011). The bits of a draw depend only on (key, counter), so any device
 * and any order of evaluation gives the same numbers, and a draw inside a
 * scan step is addressed by its counter. Written from the paper's definition:
 * ten rounds of two 32x32->64 multiplications, with the Weyl key schedule. */
#include "grd-internal.h"

#include <math.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

void
grd_philox4x32 (const guint32 counter[4], const guint32 key[2], guint32 out[4])
{
  guint32 c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
  guint32 k0 = key[0], k1 = key[1];
  for (gint round = 0; round < 10; round++) {
    guint64 p0 = (guint64) PHILOX_M0 * c0;
    guint64 p1 = (guint64) PHILOX_M1 * c2;
    guint32 n0 = (guint32) (p1 >> 32) ^ c1 ^ k0;
    guint32 n1 = (guint32) p1;
    guint32 n2 = (guint32) (p0 >> 32) ^ c3 ^ k1;
    guint32 n3 = (guint32) p0;
    c0 = n0, c1 = n1, c2 = n2, c3 = n3;
    k0 += PHILOX_W0;
    k1 += PHILOX_W1;
  }
  out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

/* ------------------------------------------------------------ the transforms of the draws
 *
 * The normal draws need a logarithm and a cosine. libm's differ between
 * machines and GLSL has none for doubles, so these are written with +, -, *,
 * / and sqrt only (correctly rounded everywhere that matters: the CPU in ISO
 * C mode, which does not fuse multiply-adds, and the Vulkan kernel, whose
 * variables are `precise`): the CPU and the Vulkan kernel (vulkan/grd-vk-random.c
 * prints these very coefficients) then draw the same bits. */

#define LN2_HI 6.93147180369123816490e-01
#define LN2_LO 1.90821492927058770002e-10
#define TWO_PI 6.28318530717958647692

void
grd_random_coefs (double *log_c, double *cos_c, double *sin_c)
{
  /* log(m) = 2 atanh(s) = s (2 + 2/3 s^2 + 2/5 s^4 + ...), s = (m - 1) / (m + 1) */
  for (gint i = 0; i < GRD_RANDOM_LOG_TERMS; i++)
    log_c[i] = 2.0 / (2 * i + 1);
  double c = 1.0, s = 1.0;
  for (gint i = 0; i < GRD_RANDOM_TRIG_TERMS; i++) {
    cos_c[i] = c;
    sin_c[i] = s;
    c = -c / ((2.0 * i + 1) * (2.0 * i + 2));
    s = -s / ((2.0 * i + 2) * (2.0 * i + 3));
  }
}

static const double *
coefs (void)
{
  static double all[GRD_RANDOM_LOG_TERMS + 2 * GRD_RANDOM_TRIG_TERMS];
  static gsize done = 0;  /* a documented cache: computed once */
  if (g_once_init_enter (&done)) {
    grd_random_coefs (all, all + GRD_RANDOM_LOG_TERMS,
                      all + GRD_RANDOM_LOG_TERMS + GRD_RANDOM_TRIG_TERMS);
    g_once_init_leave (&done, 1);
  }
  return all;
}

static double
poly (const double *c, gint n, double z)
{
  double p = c[n - 1];
  for (gint i = n - 2; i >= 0; i--)
    p = p * z + c[i];
  return p;
}

double
grd_random_log (double x)
{
  int k;
  double m = frexp (x, &k);
  if (m < 0.70710678118654752440) {
    m = m * 2.0;
    k = k - 1;
  }
  double f = m - 1.0;
  double s = f / (2.0 + f);
  double p = poly (coefs (), GRD_RANDOM_LOG_TERMS, s * s);
  double dk = (double) k;
  return dk * LN2_HI + (dk * LN2_LO + s * p);
}

double
grd_random_cos2pi (double u)
{
  /* cos (2 pi (r + n / 4)) with |r| <= 1/8: a quarter turn is exact in u */
  double n = floor (u * 4.0 + 0.5);
  double x = (u - n * 0.25) * TWO_PI;
  double z = x * x;
  const double *c = coefs () + GRD_RANDOM_LOG_TERMS;
  double cs = poly (c, GRD_RANDOM_TRIG_TERMS, z);
  double sn = x * poly (c + GRD_RANDOM_TRIG_TERMS, GRD_RANDOM_TRIG_TERMS, z);
  switch ((gint) n & 3) {
  case 0: return cs;
  case 1: return -sn;
  case 2: return -cs;
  default: return sn;
  }
}
