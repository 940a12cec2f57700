/* grd-conv-wgemm.c: the float32 matrix products of the Winograd path
 * (grd-conv-winograd.c) in AVX-512, for CPUs that have it.
 *
 * The path's 16 products a block are small in one dimension (channels, 8 to
 * a few hundred) and long in the other (tiles): OpenBLAS packs both operands
 * anew at each call, and runs its AVX2 kernels where OPENBLAS_CORETYPE pins
 * them (this project's build machine, a Zen 5, does). These kernels read the
 * operands where they lie:
 *  - nn: C [m, n] = A [m, k] B [k, n] (forward and the input's gradient;
 *    k the input channels): 8 x 32 blocks of C held in 16 registers, a
 *    32-column panel of B (k rows) and A staying in L1 while the rows of C
 *    pass;
 *  - nt: C [m, n] (+)= A [m, k] B [n, k]^T (the filters' gradient; k the
 *    tiles): 4 x 4 blocks of C, each a 16-lane sum along k, over chunks of k
 *    whose 8 rows of A and B stay in L1.
 * Each element of C is summed in an order fixed by the shapes alone, so the
 * results do not depend on the number of threads. Rows past the end of A or
 * B in a block repeat the last row and are not stored; columns past the end
 * are masked. */
#include "grd-conv-winograd.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define WGEMM_X86 1
#include <immintrin.h>
#endif

#ifdef WGEMM_X86
#define WG_TARGET __attribute__ ((target ("avx512f,avx512dq,avx512vl,fma")))

/* 8 rows of C from row i (mr valid), 32 columns from j (masks m0, m1) */
WG_TARGET static inline void
nn_block (gint64 mr, gint64 k, const float *a, gint64 lda, const float *b, gint64 ldb, float *c,
          gint64 ldc, __mmask16 m0, __mmask16 m1)
{
  const float *ar[8];
  for (gint r = 0; r < 8; r++)
    ar[r] = a + MIN (r, mr - 1) * lda;
  __m512 c00 = _mm512_setzero_ps (), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
         c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00,
         c70 = c00, c71 = c00;
  for (gint64 l = 0; l < k; l++) {
    const float *bl = b + l * ldb;
    __m512 b0 = _mm512_maskz_loadu_ps (m0, bl), b1 = _mm512_maskz_loadu_ps (m1, bl + 16);
    __m512 x;
#define NN_ROW(r)                                \
    x = _mm512_set1_ps (ar[r][l]);               \
    c##r##0 = _mm512_fmadd_ps (x, b0, c##r##0);  \
    c##r##1 = _mm512_fmadd_ps (x, b1, c##r##1);
    NN_ROW (0) NN_ROW (1) NN_ROW (2) NN_ROW (3) NN_ROW (4) NN_ROW (5) NN_ROW (6) NN_ROW (7)
#undef NN_ROW
  }
  __m512 acc[8][2] = { { c00, c01 }, { c10, c11 }, { c20, c21 }, { c30, c31 },
                       { c40, c41 }, { c50, c51 }, { c60, c61 }, { c70, c71 } };
  for (gint r = 0; r < mr; r++) {
    _mm512_mask_storeu_ps (c + r * ldc, m0, acc[r][0]);
    _mm512_mask_storeu_ps (c + r * ldc + 16, m1, acc[r][1]);
  }
}

WG_TARGET static void
nn_f32 (gint64 m, gint64 n, gint64 k, const float *a, gint64 lda, const float *b, gint64 ldb,
        float *c, gint64 ldc)
{
  for (gint64 j = 0; j < n; j += 32) {
    gint64 w = MIN (32, n - j);
    __mmask16 m0 = (__mmask16) (w >= 16 ? 0xffff : (1u << w) - 1);
    __mmask16 m1 = (__mmask16) (w >= 32 ? 0xffff : w <= 16 ? 0 : (1u << (w - 16)) - 1);
    for (gint64 i = 0; i < m; i += 8)
      nn_block (MIN (8, m - i), k, a + i * lda, lda, b + j, ldb, c + i * ldc + j, ldc, m0, m1);
  }
}

#define NT_KC 1024

/* 16 vectors into one whose lane i is the sum of the lanes of v[i]: halves
 * added pairwise, in an order fixed by i alone */
WG_TARGET static inline __m512
sum16 (const __m512 *v)
{
  __m512 r1[8], r2[4], r3[2];
  for (gint i = 0; i < 8; i++)
    r1[i] = _mm512_add_ps (_mm512_shuffle_f32x4 (v[2 * i], v[2 * i + 1], 0x44),
                           _mm512_shuffle_f32x4 (v[2 * i], v[2 * i + 1], 0xee));
  for (gint i = 0; i < 4; i++)
    r2[i] = _mm512_add_ps (_mm512_shuffle_f32x4 (r1[2 * i], r1[2 * i + 1], 0x88),
                           _mm512_shuffle_f32x4 (r1[2 * i], r1[2 * i + 1], 0xdd));
  for (gint i = 0; i < 2; i++)
    r3[i] = _mm512_add_ps (_mm512_shuffle_ps (r2[2 * i], r2[2 * i + 1], 0x44),
                           _mm512_shuffle_ps (r2[2 * i], r2[2 * i + 1], 0xee));
  /* lane 4 (i % 4) + i / 4 now holds v[i] */
  return _mm512_add_ps (_mm512_shuffle_ps (r3[0], r3[1], 0x88),
                        _mm512_shuffle_ps (r3[0], r3[1], 0xdd));
}

/* C [0..mr, 0..nr] (+)= the sums over k of 4 rows of A and 4 of B */
WG_TARGET static inline void
nt_block (gint64 mr, gint64 nr, gint64 k, const float *a, gint64 lda, const float *b, gint64 ldb,
          gboolean add, float *c, gint64 ldc)
{
  const float *a0 = a, *a1 = a + MIN (1, mr - 1) * lda, *a2 = a + MIN (2, mr - 1) * lda,
              *a3 = a + MIN (3, mr - 1) * lda;
  const float *b0 = b, *b1 = b + MIN (1, nr - 1) * ldb, *b2 = b + MIN (2, nr - 1) * ldb,
              *b3 = b + MIN (3, nr - 1) * ldb;
  /* sqr: row r of A against row q of B, in registers (an array would live on
   * the stack) */
  __m512 s00 = _mm512_setzero_ps (), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00,
         s12 = s00, s13 = s00, s20 = s00, s21 = s00, s22 = s00, s23 = s00, s30 = s00, s31 = s00,
         s32 = s00, s33 = s00;
  for (gint64 l = 0; l < k; l += 16) {
    __mmask16 mk = (__mmask16) (k - l >= 16 ? 0xffff : (1u << (k - l)) - 1);
    __m512 x0 = _mm512_maskz_loadu_ps (mk, a0 + l), x1 = _mm512_maskz_loadu_ps (mk, a1 + l),
           x2 = _mm512_maskz_loadu_ps (mk, a2 + l), x3 = _mm512_maskz_loadu_ps (mk, a3 + l);
    __m512 y;
#define NT_COL(q)                                    \
    y = _mm512_maskz_loadu_ps (mk, b##q + l);        \
    s0##q = _mm512_fmadd_ps (x0, y, s0##q);          \
    s1##q = _mm512_fmadd_ps (x1, y, s1##q);          \
    s2##q = _mm512_fmadd_ps (x2, y, s2##q);          \
    s3##q = _mm512_fmadd_ps (x3, y, s3##q);
    NT_COL (0) NT_COL (1) NT_COL (2) NT_COL (3)
#undef NT_COL
  }
  /* v [4 q + r] = sqr */
  __m512 s[16] = { s00, s10, s20, s30, s01, s11, s21, s31, s02, s12, s22, s32, s03, s13, s23, s33 };
  /* lane 4 r + q: C [r, q] */
  float t[16];
  _mm512_storeu_ps (t, sum16 (s));
  for (gint r = 0; r < mr; r++)
    for (gint q = 0; q < nr; q++)
      c[r * ldc + q] = add ? c[r * ldc + q] + t[4 * r + q] : t[4 * r + q];
}

WG_TARGET static void
nt_f32 (gint64 m, gint64 n, gint64 k, const float *a, gint64 lda, const float *b, gint64 ldb,
        gboolean accumulate, float *c, gint64 ldc)
{
  if (k == 0) {
    for (gint64 i = 0; i < m && !accumulate; i++)
      for (gint64 j = 0; j < n; j++)
        c[i * ldc + j] = 0;
    return;
  }
  /* chunks of k (measured, 64 x 32 x 2000: 256 to 2048 within 10%, 1024 best) */
  gint64 kc = NT_KC;
  for (gint64 l = 0; l < k; l += kc) {
    gint64 w = MIN (kc, k - l);
    gboolean add = accumulate || l > 0;
    for (gint64 i = 0; i < m; i += 4)
      for (gint64 j = 0; j < n; j += 4)
        nt_block (MIN (4, m - i), MIN (4, n - j), w, a + i * lda + l, lda, b + j * ldb + l, ldb,
                  add, c + i * ldc + j, ldc);
  }
}
#endif

gboolean
grd_conv_wgemm_available (void)
{
#ifdef WGEMM_X86
  /* GRADUS_CONV_GEMM=blas keeps OpenBLAS (to compare the two) */
  const char *env = g_getenv ("GRADUS_CONV_GEMM");
  if (env && g_str_equal (env, "blas"))
    return FALSE;
  __builtin_cpu_init ();
  return __builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("avx512dq")
         && __builtin_cpu_supports ("avx512vl") && __builtin_cpu_supports ("fma");
#else
  return FALSE;
#endif
}

void
grd_conv_wgemm_nn_f32 (gint64 m, gint64 n, gint64 k, const float *a, gint64 lda, const float *b,
                       gint64 ldb, float *c, gint64 ldc)
{
#ifdef WGEMM_X86
  nn_f32 (m, n, k, a, lda, b, ldb, c, ldc);
#else
  (void) m, (void) n, (void) k, (void) a, (void) lda, (void) b, (void) ldb, (void) c, (void) ldc;
  g_assert_not_reached ();
#endif
}

void
grd_conv_wgemm_nt_f32 (gint64 m, gint64 n, gint64 k, const float *a, gint64 lda, const float *b,
                       gint64 ldb, gboolean accumulate, float *c, gint64 ldc)
{
#ifdef WGEMM_X86
  nt_f32 (m, n, k, a, lda, b, ldb, accumulate, c, ldc);
#else
  (void) m, (void) n, (void) k, (void) a, (void) lda, (void) b, (void) ldb, (void) accumulate;
  (void) c, (void) ldc;
  g_assert_not_reached ();
#endif
}
