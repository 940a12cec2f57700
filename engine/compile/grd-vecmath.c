/* grd-vecmath.c: float32 transcendental functions over blocks, written as
 * branch-free loops the compiler vectorises (glibc's scalar expf costs 5 ns an
 * element, tanhf 19; these a fraction of a nanosecond). Accuracy: a few ulp
 * over the whole range; NaN and infinities behave as in libm. */
#include "grd-fuse.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float
bits_to_float (gint32 i)
{
  float f;
  memcpy (&f, &i, 4);
  return f;
}

static inline gint32
float_to_bits (float f)
{
  gint32 i;
  memcpy (&i, &f, 4);
  return i;
}

/* e^x for x already known finite or not: range reduction x = n ln2 + r. */
static inline float
exp_core (float x)
{
  const float log2e = 1.44269504088896341f;
  const float ln2_hi = 0.693145751953125f, ln2_lo = 1.428606765330187e-06f;
  float xc = x > 88.7228f ? 88.7228f : (x < -87.3365f ? -87.3365f : x);
  xc = x != x ? 0.0f : xc;   /* keeps the integer conversion below defined */
  float n = rintf (xc * log2e);
  float r = xc - n * ln2_hi - n * ln2_lo;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  float scale = bits_to_float ((gint32) ((guint32) ((gint32) n + 127) << 23));
  float y = p * scale;
  y = x > 88.7228f ? INFINITY : y;
  y = x < -87.3365f ? 0.0f : y;
  return x != x ? x : y;
}

void
grd_vec_exp_f32 (float *restrict d, const float *restrict a, gint n)
{
  for (gint i = 0; i < n; i++)
    d[i] = exp_core (a[i]);
}

static inline float
expm1_core (float x)
{
  /* Taylor series near 0 where exp(x) - 1 would cancel */
  float p = 1.0f / 362880.0f;
  p = p * x + 1.0f / 40320.0f;
  p = p * x + 1.0f / 5040.0f;
  p = p * x + 1.0f / 720.0f;
  p = p * x + 1.0f / 120.0f;
  p = p * x + 1.0f / 24.0f;
  p = p * x + 1.0f / 6.0f;
  p = p * x + 0.5f;
  p = p * x * x + x;
  float big = exp_core (x) - 1.0f;
  return fabsf (x) < 0.5f ? p : big;
}

float
grd_vec_max_f32 (const float *restrict a, gint n)
{
  /* eight lanes, so the loop vectorises without reassociating floats; NaN
   * is not propagated here: callers that care check it */
  float lanes[8];
  for (gint l = 0; l < 8; l++)
    lanes[l] = -INFINITY;
  gint i = 0;
  for (; i + 8 <= n; i += 8)
    for (gint l = 0; l < 8; l++)
      lanes[l] = a[i + l] > lanes[l] ? a[i + l] : lanes[l];
  float m = -INFINITY;
  for (gint l = 0; l < 8; l++)
    m = lanes[l] > m ? lanes[l] : m;
  for (; i < n; i++)
    m = a[i] > m ? a[i] : m;
  return m;
}

double
grd_vec_exp_shift_sum_f32 (float *restrict d, const float *restrict a, float shift, gint n)
{
  float lanes[8] = { 0 };
  gint i = 0;
  for (; i + 8 <= n; i += 8)
    for (gint l = 0; l < 8; l++) {
      float e = exp_core (a[i + l] - shift);
      d[i + l] = e;
      lanes[l] += e;
    }
  double s = 0;
  for (gint l = 0; l < 8; l++)
    s += lanes[l];
  for (; i < n; i++) {
    d[i] = exp_core (a[i] - shift);
    s += d[i];
  }
  return s;
}

void
grd_vec_expm1_f32 (float *restrict d, const float *restrict a, gint n)
{
  for (gint i = 0; i < n; i++)
    d[i] = expm1_core (a[i]);
}

static inline float
log_core (float x)
{
  /* x = m 2^e with m in [sqrt(1/2), sqrt(2)); log(m) = 2 atanh(s), s = (m-1)/(m+1) */
  float xs = x < 1.17549435e-38f ? x * 8388608.0f : x;   /* lift subnormals */
  gint32 ebias = x < 1.17549435e-38f ? 23 : 0;
  gint32 bits = float_to_bits (xs);
  gint32 e = ((bits >> 23) & 0xff) - 127;
  float m = bits_to_float ((bits & 0x007fffff) | 0x3f800000);
  gint32 big = m > 1.41421356f;
  m = big ? m * 0.5f : m;
  e = e + big - ebias;
  float s = (m - 1.0f) / (m + 1.0f);
  float s2 = s * s;
  float p = 1.0f / 11.0f;
  p = p * s2 + 1.0f / 9.0f;
  p = p * s2 + 1.0f / 7.0f;
  p = p * s2 + 1.0f / 5.0f;
  p = p * s2 + 1.0f / 3.0f;
  p = p * s2 + 1.0f;
  float lm = 2.0f * s * p;
  float y = (float) e * 0.693145751953125f + (lm + (float) e * 1.428606765330187e-06f);
  y = x == 0.0f ? -INFINITY : y;
  y = x < 0.0f ? NAN : y;
  y = x == INFINITY ? INFINITY : y;
  return x != x ? x : y;
}

void
grd_vec_log_f32 (float *restrict d, const float *restrict a, gint n)
{
  for (gint i = 0; i < n; i++)
    d[i] = log_core (a[i]);
}

static inline float
log1p_core (float x)
{
  /* log(u) corrected for the rounding of u = 1 + x */
  float u = 1.0f + x;
  float corr = u == 1.0f ? 0.0f : (x - (u - 1.0f)) / u;
  float y = u == 1.0f ? x : log_core (u) + corr;
  return x == INFINITY ? INFINITY : y;
}

void
grd_vec_log1p_f32 (float *restrict d, const float *restrict a, gint n)
{
  for (gint i = 0; i < n; i++)
    d[i] = log1p_core (a[i]);
}

/* tanh(x) = x P(x^2) / Q(x^2) on [-9, 9] (+-1 beyond): a rational fit made
 * for Gradus by iteratively reweighted least squares on the relative error;
 * 2e-8 in exact arithmetic, under 3e-7 evaluated in float. One division and
 * nine multiply-adds, where exp-based forms need the exponential too. */
void
grd_vec_tanh_f32 (float *restrict d, const float *restrict a, gint n)
{
  for (gint i = 0; i < n; i++) {
    float x = a[i];
    float xc = x > 9.0f ? 9.0f : (x < -9.0f ? -9.0f : x);
    float z = xc * xc;
    float p = 1.3353533223625647e-08f;
    p = p * z + 2.0608306484391336e-05f;
    p = p * z + 0.0034955427629011554f;
    p = p * z + 0.13380988009541225f;
    p = p * z + 0.9999999794585134f;
    float q = 7.77610754554986e-07f;
    q = q * z + 0.000328555937240028f;
    q = q * z + 0.025876811412982696f;
    q = q * z + 0.4671430360304341f;
    q = q * z + 1.0f;
    float t = xc * p / q;
    t = t > 1.0f ? 1.0f : (t < -1.0f ? -1.0f : t);
    d[i] = x != x ? x : t;
  }
}

void
grd_vec_sigmoid_f32 (float *restrict d, const float *restrict a, gint n)
{
  for (gint i = 0; i < n; i++) {
    float x = a[i];
    float e = exp_core (-fabsf (x));       /* never overflows */
    float s = 1.0f / (1.0f + e);
    d[i] = x >= 0.0f ? s : e * s;
    d[i] = x != x ? x : d[i];
  }
}

void
grd_vec_softplus_f32 (float *restrict d, const float *restrict a, gint n)
{
  for (gint i = 0; i < n; i++) {
    float x = a[i];
    float y = (x > 0.0f ? x : 0.0f) + log1p_core (exp_core (-fabsf (x)));
    d[i] = x != x ? x : y;
  }
}

/* sin and cos: reduction by pi/2 in three parts, exact for |x| < 2^13; past
 * that the block falls back to libm. */
static inline void
sincos_reduce (float x, float *r, gint32 *q)
{
  const float two_over_pi = 0.636619772367581f;
  const float p1 = 1.5703125f, p2 = 4.837512969970703125e-4f, p3 = 7.54978995489188216e-8f;
  float k = rintf (x * two_over_pi);
  *r = ((x - k * p1) - k * p2) - k * p3;
  *q = (gint32) k;
}

static inline float
sin_poly (float r)
{
  float r2 = r * r;
  float p = -1.0f / 39916800.0f;
  p = p * r2 + 1.0f / 362880.0f;
  p = p * r2 - 1.0f / 5040.0f;
  p = p * r2 + 1.0f / 120.0f;
  p = p * r2 - 1.0f / 6.0f;
  return r + r * r2 * p;
}

static inline float
cos_poly (float r)
{
  float r2 = r * r;
  float p = 1.0f / 3628800.0f;
  p = p * r2 - 1.0f / 40320.0f;
  p = p * r2 + 1.0f / 720.0f;
  p = p * r2 - 1.0f / 24.0f;
  p = p * r2 + 0.5f;
  return 1.0f - r2 * p;
}

static gboolean
all_small (const float *a, gint n)
{
  gint ok = 1;
  for (gint i = 0; i < n; i++)
    ok &= fabsf (a[i]) < 8192.0f;
  return ok;
}

static void
sincos_block (float *restrict d, const float *restrict a, gint n, gint shift)
{
  for (gint i = 0; i < n; i++) {
    float r;
    gint32 q;
    sincos_reduce (a[i], &r, &q);
    q += shift;
    float s = sin_poly (r), c = cos_poly (r);
    float v = (q & 1) ? c : s;
    d[i] = (q & 2) ? -v : v;
  }
}

void
grd_vec_sin_f32 (float *restrict d, const float *restrict a, gint n)
{
  if (all_small (a, n))
    sincos_block (d, a, n, 0);
  else
    for (gint i = 0; i < n; i++)
      d[i] = sinf (a[i]);
}

void
grd_vec_cos_f32 (float *restrict d, const float *restrict a, gint n)
{
  if (all_small (a, n))
    sincos_block (d, a, n, 1);
  else
    for (gint i = 0; i < n; i++)
      d[i] = cosf (a[i]);
}
