/* baselines.c: what Gradus is measured against in C, for bench/run.py:
 *   sgemm N         OpenBLAS alone on an N x N float32 product
 *   mlp-gemms       the six matrix products of one MLP 784-512-512-10 step
 *                   at batch 256 (forward and backward), OpenBLAS alone
 *   fused N         a hand-written fused loop for
 *                   sum(tanh(x*y+3)*exp(-x)+sqrt(abs(y))) with vector maths
 *                   (this file is built with -ffast-math so GCC calls glibc's
 *                   libmvec), one thread
 * Each prints one JSON object: the median and minimum time of a call in µs. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
now_us (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec * 1e-3;
}

static int
cmp (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static float *
filled (size_t n, unsigned seed)
{
  float *p = aligned_alloc (64, (n * sizeof (float) + 63) / 64 * 64);
  srand (seed);
  for (size_t i = 0; i < n; i++)
    p[i] = 2.0f * rand () / (float) RAND_MAX - 1.0f;
  return p;
}

static void
report (const char *what, double *t, int reps, double extra, const char *extra_name)
{
  qsort (t, reps, sizeof *t, cmp);
  printf ("{\"baseline\": \"%s\", \"call_us_median\": %.3f, \"call_us_min\": %.3f", what, t[reps / 2], t[0]);
  if (extra_name)
    printf (", \"%s\": %.4g", extra_name, extra);
  printf ("}\n");
}

static float
fused_chain (const float *restrict x, const float *restrict y, long n)
{
  float s = 0;
  for (long i = 0; i < n; i++)
    s += tanhf (x[i] * y[i] + 3.0f) * expf (-x[i]) + sqrtf (fabsf (y[i]));
  return s;
}

int
main (int argc, char **argv)
{
  if (argc < 2)
    return 2;
  int reps = argc > 3 ? atoi (argv[3]) : 20;
  double *t = calloc (reps, sizeof *t);
  if (!strcmp (argv[1], "sgemm")) {
    int n = argc > 2 ? atoi (argv[2]) : 1024;
    float *a = filled ((size_t) n * n, 1), *b = filled ((size_t) n * n, 2), *c = filled ((size_t) n * n, 3);
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    for (int r = 0; r < reps; r++) {
      double t0 = now_us ();
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
      t[r] = now_us () - t0;
    }
    report ("sgemm", t, reps, 2.0 * n * n * n / (t[reps / 2] * 1e3), "gflops");
  } else if (!strcmp (argv[1], "mlp-gemms")) {
    int B = 256, d[4] = { 784, 512, 512, 10 };
    float *x = filled ((size_t) B * 784, 1), *w[3], *h[3], *g[3], *gw[3], *gh[3];
    for (int k = 0; k < 3; k++) {
      w[k] = filled ((size_t) d[k] * d[k + 1], 2 + k);
      h[k] = filled ((size_t) B * d[k + 1], 5 + k);
      g[k] = filled ((size_t) B * d[k + 1], 8 + k);
      gw[k] = filled ((size_t) d[k] * d[k + 1], 11 + k);
      gh[k] = filled ((size_t) B * d[k], 14 + k);
    }
    double flops = 0;
    for (int k = 0; k < 3; k++)
      flops += 2.0 * B * d[k] * d[k + 1] * (k == 0 ? 2 : 3);
    for (int r = -2; r < reps; r++) {
      double t0 = now_us ();
      for (int k = 0; k < 3; k++)   /* forward: h = in . W */
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, B, d[k + 1], d[k], 1,
                     k ? h[k - 1] : x, d[k], w[k], d[k + 1], 0, h[k], d[k + 1]);
      for (int k = 2; k >= 0; k--) {  /* backward: gW = in^T g, g_in = g W^T */
        cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, d[k], d[k + 1], B, 1,
                     k ? h[k - 1] : x, d[k], g[k], d[k + 1], 0, gw[k], d[k + 1]);
        if (k)
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, B, d[k], d[k + 1], 1,
                       g[k], d[k + 1], w[k], d[k + 1], 0, gh[k], d[k]);
      }
      if (r >= 0)
        t[r] = now_us () - t0;
    }
    report ("mlp-gemms", t, reps, flops / (t[reps / 2] * 1e3), "gflops");
  } else if (!strcmp (argv[1], "fused")) {
    long n = argc > 2 ? atol (argv[2]) : 10000000;
    float *x = filled (n, 1), *y = filled (n, 2);
    volatile float sink = fused_chain (x, y, n);
    for (int r = 0; r < reps; r++) {
      double t0 = now_us ();
      sink = fused_chain (x, y, n);
      t[r] = now_us () - t0;
    }
    (void) sink;
    report ("fused", t, reps, t[0] * 1e3 / n, "ns_per_element_min");
  } else
    return 2;
  return 0;
}
