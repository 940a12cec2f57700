/* grd-conv-winograd.c: 3x3, stride-1, undilated convolutions by Winograd's
 * minimal filtering F(2x2, 3x3) (Lavin and Gray, "Fast Algorithms for
 * Convolutional Neural Networks", 2015).
 *
 * A 2x2 output tile of a cross-correlation with a 3x3 filter f reads a 4x4
 * input tile d, and
 *   Y = A^T [ (G f G^T) .* (B^T d B) ] A
 * with B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
 *      G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1],
 *      A^T = [1 1 1 0; 0 1 -1 -1]:
 * 16 multiplies instead of 36. Summed over channels, each of the 16
 * positions xi of the 4x4 product is a matrix product,
 *   M_xi [o, tile] = U_xi [o, c] V_xi [c, tile],
 * so a block of tiles costs an input transform, 16 gemms and an output
 * transform. The input's gradient of such a convolution is itself one (the
 * gradient of the output, padded by 2 - pad, against the filters turned by
 * 180 degrees with their channel axes swapped), and the filters' gradient
 * is the transpose of the identity above, summed over tiles:
 *   dF = G^T [ sum over tiles of (A dY A^T) .* (B^T d B) ] G,
 * 16 gemms [o, tile] x [tile, c] again.
 *
 * Blocks of tiles (whole images, or tile rows of one) bound the working
 * space of the transformed input and products; the engine's workers
 * take blocks while the products run on one thread inside each: float32 by
 * the AVX-512 kernels of grd-conv-wgemm.c where the CPU has them, otherwise
 * (and float64) OpenBLAS (its own threads would fight the workers for the
 * two cores). The transforms read the images in place and write the output
 * rows directly (no padded copies). The filters' gradient sums
 * blocks into a fixed number of chunks added in order, so results do not
 * depend on the number of threads. */
#include "grd-conv-winograd.h"
#include "grd-conv.h"
#include "grd-fuse.h"

#include <cblas.h>
#include <string.h>

/* what a block's V and M may take together: larger blocks make fewer, larger
 * gemms (OpenBLAS packs its operands anew each call), which paid more than
 * keeping them in L2 did (2 and 4 MiB against 0.25 and 1 MiB: 15% less CPU time) */
#define BLOCK_BYTES (4 << 20)
/* the filters' gradient is summed in at most this many chunks of blocks,
 * whose partial sums take at most PARTIAL_BYTES together: a chunk a block
 * where that fits, so that the workers share the blocks evenly */
#define WGRAD_CHUNKS 64
#define PARTIAL_BYTES (16 << 20)

typedef struct {
  gboolean f64;
  gboolean wgemm;             /* float32 products by grd-conv-wgemm.c */
  gint64   n, groups;
  gint64   ci, co;            /* channels per group read and written */
  gint64   ci_all, co_all;
  gint64   h, w, oh, ow;      /* image read, image written (tiled) */
  gint64   pt, pl;            /* input row of output row 0 is -pt */
  gint64   th, tw, tiles;     /* tiles per column and row, all images' tiles */
  gint64   tb, n_blocks;      /* tiles per block */
  const void *in;             /* [n, ci_all, h, w] */
  void       *out;            /* forward: [n, co_all, oh, ow] */
  const void *gy;             /* filters' gradient: [n, co_all, oh, ow] */
  const void *u;              /* forward: [groups, 16, co, ci] */
  void       *partial;        /* filters' gradient: [chunks, groups, 16, co, ci] */
  gint64   blocks_per_chunk;
  /* per-slot working space, a slot per running task */
  char    *scratch;
  gsize    slot_bytes;
  gint    *busy;
  gint     n_slots;
  gint64  *gemm_us;           /* per slot */
  /* blocks: `images` whole images from n0, or `rows` tile rows of one */
  gint64   images_per_block, rows_per_block, blocks_per_image;
} Wino;

typedef struct {
  gint64 n0, images, ti0, rows;
} Block;

static void
block_of (const Wino *wi, gint64 b, Block *bk)
{
  if (wi->blocks_per_image == 1) {
    bk->n0 = b * wi->images_per_block;
    bk->images = MIN (wi->images_per_block, wi->n - bk->n0);
    bk->ti0 = 0;
    bk->rows = wi->th;
  } else {
    bk->n0 = b / wi->blocks_per_image;
    bk->images = 1;
    bk->ti0 = (b % wi->blocks_per_image) * wi->rows_per_block;
    bk->rows = MIN (wi->rows_per_block, wi->th - bk->ti0);
  }
}

static gint
slot_take (Wino *wi)
{
  for (;;)
    for (gint s = 0; s < wi->n_slots; s++)
      if (g_atomic_int_compare_and_exchange (&wi->busy[s], 0, 1))
        return s;
}

static void
slot_give (Wino *wi, gint s)
{
  g_atomic_int_set (&wi->busy[s], 0);
}

static void
gemm_timed (Wino *wi, gint slot, gboolean tb, gint64 m, gint64 n, gint64 k, const void *a,
            gint64 lda, const void *b, gint64 ldb, double beta, void *c, gint64 ldc)
{
  gint64 t0 = g_get_monotonic_time ();
  if (!wi->f64 && wi->wgemm) {
    if (tb)
      grd_conv_wgemm_nt_f32 (m, n, k, a, lda, b, ldb, beta != 0.0, c, ldc);
    else
      grd_conv_wgemm_nn_f32 (m, n, k, a, lda, b, ldb, c, ldc);
  } else if (wi->f64)
    cblas_dgemm (CblasRowMajor, CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int) m, (int) n,
                 (int) k, 1.0, a, (int) lda, b, (int) ldb, beta, c, (int) ldc);
  else
    cblas_sgemm (CblasRowMajor, CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int) m, (int) n,
                 (int) k, 1.0f, a, (int) lda, b, (int) ldb, (float) beta, c, (int) ldc);
  wi->gemm_us[slot] += g_get_monotonic_time () - t0;
}

/* A block's tiles are numbered f = ti' tw1 + tj over its tile rows, with
 * tw1 = tw + 1: the extra tile of each row (tj = tw) lets the transforms run
 * as flat loops over f, which vectorise; its V is set to 0 and its outputs
 * are dropped. */
#define DEFINE_WINO(T, SUFFIX, VT, VI, VN, ILO, IHI)                                                                \
  /* the loops of the vertical passes, apart so that restrict holds (and they \
   * vectorise) */                                                            \
  static inline void                                                          \
  bt_rows_##SUFFIX (const T *restrict d0, const T *restrict d1, const T *restrict d2,         \
                    const T *restrict d3, T *restrict o0, T *restrict o1, T *restrict o2,     \
                    T *restrict o3, gint64 n)                                 \
  {                                                                           \
    for (gint64 q = 0; q < n; q++) {                                          \
      o0[q] = d0[q] - d2[q];                                                  \
      o1[q] = d1[q] + d2[q];                                                  \
      o2[q] = d2[q] - d1[q];                                                  \
      o3[q] = d1[q] - d3[q];                                                  \
    }                                                                         \
  }                                                                           \
                                                                              \
  static inline void                                                          \
  a_rows_##SUFFIX (const T *restrict g0, const T *restrict g1, T *restrict q0, T *restrict q1, \
                   T *restrict q2, T *restrict q3, gint64 n)                  \
  {                                                                           \
    for (gint64 q = 0; q < n; q++) {                                          \
      q0[q] = g0[q];                                                          \
      q1[q] = g0[q] + g1[q];                                                  \
      q2[q] = g0[q] - g1[q];                                                  \
      q3[q] = -g1[q];                                                         \
    }                                                                         \
  }                                                                           \
                                                                              \
  /* The vertical pass of B^T d B straight from the image (no padded copy):  \
   * t_k [r pw + q] for the R tile rows, from input rows r0 + 2 r + (0 to 3)  \
   * and columns c0 + q, zero outside the image (zrow: w zeros); t_k has       \
   * pitch R pw + 4 in tk. */                                                  \
  static void                                                                 \
  input_rows_##SUFFIX (const T *plane, gint64 r0, gint64 R, gint64 c0, gint64 pw, gint64 h,   \
                       gint64 w, const T *zrow, T *tk)                        \
  {                                                                           \
    gint64 len = R * pw, qa = CLAMP (-c0, 0, pw), qb = CLAMP (w - c0, qa, pw);               \
    for (gint64 r = 0; r < R; r++) {                                          \
      const T *d[4];                                                          \
      for (gint k = 0; k < 4; k++) {                                          \
        gint64 i = r0 + 2 * r + k;                                            \
        d[k] = i >= 0 && i < h ? plane + i * w : zrow;                        \
      }                                                                       \
      const T *restrict d0 = d[0], *restrict d1 = d[1], *restrict d2 = d[2],  \
        *restrict d3 = d[3];                                                  \
      T *restrict o0 = tk + r * pw, *restrict o1 = o0 + len + 4,             \
        *restrict o2 = o1 + len + 4, *restrict o3 = o2 + len + 4;            \
      for (gint64 q = 0; q < qa; q++)                                         \
        o0[q] = o1[q] = o2[q] = o3[q] = 0;                                    \
      if (qb > qa)                                                            \
        bt_rows_##SUFFIX (d0 + qa + c0, d1 + qa + c0, d2 + qa + c0, d3 + qa + c0, o0 + qa,    \
                          o1 + qa, o2 + qa, o3 + qa, qb - qa);                \
      for (gint64 q = qb; q < pw; q++)                                        \
        o0[q] = o1[q] = o2[q] = o3[q] = 0;                                    \
    }                                                                         \
  }                                                                           \
                                                                              \
  /* The rows of A g of the gradient's 2x2 tiles (g0, g0 + g1, g0 - g1, -g1)  \
   * straight from the gradient: rows r0 + 2 r + (0, 1), columns 0 to pw, zero \
   * outside; pitch R pw + 2 in tk. */                                        \
  static void                                                                 \
  grad_rows_##SUFFIX (const T *plane, gint64 r0, gint64 R, gint64 pw, gint64 h, gint64 w,     \
                      const T *zrow, T *tk)                                   \
  {                                                                           \
    gint64 len = R * pw, qb = MIN (w, pw);                                    \
    for (gint64 r = 0; r < R; r++) {                                          \
      gint64 i = r0 + 2 * r;                                                  \
      const T *restrict g0 = i < h ? plane + i * w : zrow;                    \
      const T *restrict g1 = i + 1 < h ? plane + (i + 1) * w : zrow;          \
      T *restrict q0 = tk + r * pw, *restrict q1 = q0 + len + 2,             \
        *restrict q2 = q1 + len + 2, *restrict q3 = q2 + len + 2;            \
      a_rows_##SUFFIX (g0, g1, q0, q1, q2, q3, qb);                           \
      for (gint64 q = qb; q < pw; q++)                                        \
        q0[q] = q1[q] = q2[q] = q3[q] = 0;                                    \
    }                                                                         \
  }                                                                           \
                                                                              \
  /* V_xi [f] = (B^T d B)_xi, xi = 4 k + l, for the nt = R tw1 tiles of R tile rows     \
   * from the vertical pass in tk (input_rows) */                                          \
  static void                                                                                 \
  input_tf_##SUFFIX (gint64 R, gint64 tw1, T *restrict tk, T *restrict v, gint64 xs)         \
  {                                                                                           \
    gint64 pw = 2 * tw1, len = R * pw, nt = R * tw1;                                         \
    T *t0 = tk, *t1 = tk + len + 4, *t2 = tk + 2 * (len + 4), *t3 = tk + 3 * (len + 4);      \
    T *ts[4] = { t0, t1, t2, t3 };                                                            \
    for (gint k = 0; k < 4; k++) {                                                            \
      T *t = ts[k];                                                                           \
      t[len] = t[len + 1] = t[len + 2] = t[len + 3] = 0;                                      \
      T *restrict v0 = v + (4 * k) * xs, *restrict v1 = v0 + xs, *restrict v2 = v1 + xs,      \
        *restrict v3 = v2 + xs;                                                               \
      for (gint64 f = 0; f < nt; f++) {                                                       \
        T a = t[2 * f], b = t[2 * f + 1], c = t[2 * f + 2], d = t[2 * f + 3];                 \
        v0[f] = a - c;                                                                        \
        v1[f] = b + c;                                                                        \
        v2[f] = c - b;                                                                        \
        v3[f] = b - d;                                                                        \
      }                                                                                       \
      for (gint64 r = 0; r < R; r++)                                                          \
        v0[r * tw1 + tw1 - 1] = v1[r * tw1 + tw1 - 1] = v2[r * tw1 + tw1 - 1]                \
          = v3[r * tw1 + tw1 - 1] = 0;                                                        \
    }                                                                                         \
  }                                                                                           \
                                                                                              \
  /* Y_xi [f] = (A g A^T)_xi of the 2x2 gradient tiles from the rows in tk (grad_rows) */ \
  static void                                                                                 \
  grad_tf_##SUFFIX (gint64 R, gint64 tw1, T *restrict tk, T *restrict y, gint64 xs)          \
  {                                                                                           \
    gint64 pw = 2 * tw1, len = R * pw, nt = R * tw1;                                         \
    T *q0 = tk, *q1 = tk + len + 2, *q2 = tk + 2 * (len + 2), *q3 = tk + 3 * (len + 2);      \
    T *qs[4] = { q0, q1, q2, q3 };                                                            \
    for (gint k = 0; k < 4; k++) {                                                            \
      const T *qk = qs[k];                                                                    \
      T *restrict y0 = y + (4 * k) * xs, *restrict y1 = y0 + xs, *restrict y2 = y1 + xs,      \
        *restrict y3 = y2 + xs;                                                               \
      /* the extra tile of a row reads the zero columns past the image */                    \
      for (gint64 f = 0; f < nt; f++) {                                                       \
        T a = qk[2 * f], b = qk[2 * f + 1];                                                   \
        y0[f] = a;                                                                            \
        y1[f] = a + b;                                                                        \
        y2[f] = a - b;                                                                        \
        y3[f] = -b;                                                                           \
      }                                                                                       \
    }                                                                                         \
  }                                                                                           \
                                                                                              \
  /* the 2x2 outputs A^T M A of tile f: z00, z01 (row 0), z10, z11 (row 1) */ \
  static inline void                                                          \
  output_tile_##SUFFIX (const T *restrict m, gint64 xs, gint64 f, T *z)       \
  {                                                                           \
    T p0[4], p1[4];                                                           \
    for (gint l = 0; l < 4; l++) {                                            \
      T m0 = m[l * xs + f], m1 = m[(4 + l) * xs + f], m2 = m[(8 + l) * xs + f],               \
        m3 = m[(12 + l) * xs + f];                                            \
      p0[l] = m0 + m1 + m2;                                                   \
      p1[l] = m1 - m2 - m3;                                                   \
    }                                                                         \
    z[0] = p0[0] + p0[1] + p0[2];                                             \
    z[1] = p0[1] - p0[2] - p0[3];                                             \
    z[2] = p1[0] + p1[1] + p1[2];                                             \
    z[3] = p1[1] - p1[2] - p1[3];                                             \
  }                                                                           \
                                                                              \
  /* the outputs of the tiles of a tile row into the output rows y0, y1:      \
   * full tiles, then the left column of one more where the width is odd */   \
  static void                                                                 \
  output_row_##SUFFIX (const T *restrict m, gint64 xs, gint64 full, gboolean odd,             \
                       T *restrict y0, T *restrict y1)                        \
  {                                                                           \
    gint64 f = 0;                                                             \
    /* GCC does not vectorise the interleaved stores itself: VN tiles at a    \
     * time in generic vectors, then one at a time */                         \
    for (; f + VN <= full; f += VN) {                                         \
      VT mv[16];                                                              \
      for (gint xi = 0; xi < 16; xi++)                                        \
        memcpy (&mv[xi], m + xi * xs + f, sizeof (VT));                       \
      VT p0[4], p1[4];                                                        \
      for (gint l = 0; l < 4; l++) {                                          \
        p0[l] = mv[l] + mv[4 + l] + mv[8 + l];                                \
        p1[l] = mv[4 + l] - mv[8 + l] - mv[12 + l];                           \
      }                                                                       \
      VT z00 = p0[0] + p0[1] + p0[2], z01 = p0[1] - p0[2] - p0[3];            \
      VT z10 = p1[0] + p1[1] + p1[2], z11 = p1[1] - p1[2] - p1[3];            \
      VT w[4] = { __builtin_shuffle (z00, z01, (VI) ILO), __builtin_shuffle (z00, z01, (VI) IHI), \
                  __builtin_shuffle (z10, z11, (VI) ILO), __builtin_shuffle (z10, z11, (VI) IHI) }; \
      memcpy (y0 + 2 * f, &w[0], 2 * sizeof (VT));                            \
      memcpy (y1 + 2 * f, &w[2], 2 * sizeof (VT));                            \
    }                                                                         \
    for (; f < full; f++) {                                                   \
      T z[4];                                                                 \
      output_tile_##SUFFIX (m, xs, f, z);                                     \
      y0[2 * f] = z[0];                                                       \
      y0[2 * f + 1] = z[1];                                                   \
      y1[2 * f] = z[2];                                                       \
      y1[2 * f + 1] = z[3];                                                   \
    }                                                                         \
    if (odd) {                                                                \
      T z[4];                                                                 \
      output_tile_##SUFFIX (m, xs, full, z);                                  \
      y0[2 * full] = z[0];                                                    \
      y1[2 * full] = z[2];                                                    \
    }                                                                         \
  }                                                                           \
                                                                              \
  /* The block's tiles of group grp: V into v [16, ci, tb]; with y, the gradient's      \
   * tiles into y [16, co, tb] too. */                                                        \
  static void                                                                                 \
  transform_in_##SUFFIX (const Wino *wi, const Block *bk, gint64 grp, T *v, T *y, T *buf)    \
  {                                                                                           \
    gint64 tw1 = wi->tw + 1, pw = 2 * tw1, R = bk->rows;                                      \
    T *tk = buf, *zrow = buf + 4 * (R * pw + 4);                                              \
    for (gint64 n = bk->n0; n < bk->n0 + bk->images; n++) {                                   \
      gint64 off = (n - bk->n0) * R * tw1;                                                    \
      for (gint64 c = 0; c < wi->ci; c++) {                                                   \
        const T *plane = (const T *) wi->in + ((n * wi->ci_all + grp * wi->ci + c) * wi->h * wi->w); \
        input_rows_##SUFFIX (plane, 2 * bk->ti0 - wi->pt, R, -wi->pl, pw, wi->h, wi->w, zrow, tk); \
        input_tf_##SUFFIX (R, tw1, tk, v + c * wi->tb + off, wi->ci * wi->tb);               \
      }                                                                                       \
      for (gint64 o = 0; y && o < wi->co; o++) {                                              \
        const T *plane = (const T *) wi->gy + ((n * wi->co_all + grp * wi->co + o) * wi->oh * wi->ow); \
        grad_rows_##SUFFIX (plane, 2 * bk->ti0, R, pw, wi->oh, wi->ow, zrow, tk);            \
        grad_tf_##SUFFIX (R, tw1, tk, y + o * wi->tb + off, wi->co * wi->tb);                \
      }                                                                                       \
    }                                                                                         \
  }                                                                                           \
                                                                                              \
  static void                                                                                 \
  transform_out_##SUFFIX (const Wino *wi, const Block *bk, gint64 grp, const T *m, T *buf)   \
  {                                                                                           \
    gint64 tw1 = wi->tw + 1, R = bk->rows, nt = R * tw1, full = wi->ow / 2;                   \
    for (gint64 n = bk->n0; n < bk->n0 + bk->images; n++) {                                   \
      gint64 off = (n - bk->n0) * nt;                                                         \
      for (gint64 o = 0; o < wi->co; o++) {                                                   \
        T *plane = (T *) wi->out + ((n * wi->co_all + grp * wi->co + o) * wi->oh * wi->ow);  \
        for (gint64 r = 0; r < R; r++) {                                                      \
          gint64 i = 2 * (bk->ti0 + r);                                                       \
          /* an output row past the image goes to buf */                                    \
          output_row_##SUFFIX (m + o * wi->tb + off + r * tw1, wi->co * wi->tb, full, wi->ow & 1, \
                               plane + i * wi->ow, i + 1 < wi->oh ? plane + (i + 1) * wi->ow : buf); \
        }                                                                                     \
      }                                                                                       \
    }                                                                                         \
  }

/* 64-byte generic vectors, and the masks that interleave two of them */
typedef float  WinoVf __attribute__ ((vector_size (64)));
typedef gint32 WinoVfi __attribute__ ((vector_size (64)));
typedef double WinoVd __attribute__ ((vector_size (64)));
typedef gint64 WinoVdi __attribute__ ((vector_size (64)));
#define ILO_F { 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23 }
#define IHI_F { 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31 }
#define ILO_D { 0, 8, 1, 9, 2, 10, 3, 11 }
#define IHI_D { 4, 12, 5, 13, 6, 14, 7, 15 }

DEFINE_WINO (float, f32, WinoVf, WinoVfi, 16, ILO_F, IHI_F)
DEFINE_WINO (double, f64, WinoVd, WinoVdi, 8, ILO_D, IHI_D)

/* The slot's V, M (or Y) and row buffers. */
static void
slot_areas (Wino *wi, gint slot, void **v, void **m, void **buf)
{
  gsize es = wi->f64 ? sizeof (double) : sizeof (float);
  char *base = wi->scratch + (gsize) slot * wi->slot_bytes;
  *v = base;
  *m = base + (gsize) (16 * wi->ci * wi->tb) * es;
  *buf = (char *) *m + (gsize) (16 * wi->co * wi->tb) * es;
}

static void
forward_task (gpointer data, gint task)
{
  Wino *wi = data;
  gint slot = slot_take (wi);
  void *v, *m, *buf;
  slot_areas (wi, slot, &v, &m, &buf);
  gsize es = wi->f64 ? sizeof (double) : sizeof (float);
  Block bk;
  block_of (wi, task, &bk);
  gint64 nt = bk.images * bk.rows * (wi->tw + 1);
  for (gint64 grp = 0; grp < wi->groups; grp++) {
    if (wi->f64)
      transform_in_f64 (wi, &bk, grp, v, NULL, buf);
    else
      transform_in_f32 (wi, &bk, grp, v, NULL, buf);
    for (gint xi = 0; xi < 16; xi++) {
      const char *u = (const char *) wi->u + (gsize) ((grp * 16 + xi) * wi->co * wi->ci) * es;
      gemm_timed (wi, slot, FALSE, wi->co, nt, wi->ci, u, wi->ci,
                  (char *) v + (gsize) (xi * wi->ci * wi->tb) * es, wi->tb, 0.0,
                  (char *) m + (gsize) (xi * wi->co * wi->tb) * es, wi->tb);
    }
    if (wi->f64)
      transform_out_f64 (wi, &bk, grp, m, buf);
    else
      transform_out_f32 (wi, &bk, grp, m, buf);
  }
  slot_give (wi, slot);
}

static void
wgrad_task (gpointer data, gint task)
{
  Wino *wi = data;
  gint slot = slot_take (wi);
  void *v, *y, *buf;
  slot_areas (wi, slot, &v, &y, &buf);
  gsize es = wi->f64 ? sizeof (double) : sizeof (float);
  gsize part = (gsize) (wi->groups * 16 * wi->co * wi->ci);
  char *p = (char *) wi->partial + (gsize) task * part * es;
  gint64 b0 = task * wi->blocks_per_chunk, b1 = MIN (wi->n_blocks, b0 + wi->blocks_per_chunk);
  for (gint64 b = b0; b < b1; b++) {
    Block bk;
    block_of (wi, b, &bk);
    gint64 nt = bk.images * bk.rows * (wi->tw + 1);
    for (gint64 grp = 0; grp < wi->groups; grp++) {
      if (wi->f64)
        transform_in_f64 (wi, &bk, grp, v, y, buf);
      else
        transform_in_f32 (wi, &bk, grp, v, y, buf);
      for (gint xi = 0; xi < 16; xi++)
        gemm_timed (wi, slot, TRUE, wi->co, wi->ci, nt,
                    (char *) y + (gsize) (xi * wi->co * wi->tb) * es, wi->tb,
                    (char *) v + (gsize) (xi * wi->ci * wi->tb) * es, wi->tb, b == b0 ? 0.0 : 1.0,
                    p + (gsize) ((grp * 16 + xi) * wi->co * wi->ci) * es, wi->ci);
    }
  }
  slot_give (wi, slot);
}

gboolean
grd_conv_winograd_applies (const GrdConvGeom *g)
{
  return g->kh == 3 && g->kw == 3 && g->sh == 1 && g->sw == 1 && g->dh == 1 && g->dw == 1;
}

gboolean
grd_conv_winograd_chosen (const GrdConvGeom *g, GrdConvPass pass)
{
  if (!grd_conv_winograd_applies (g))
    return FALSE;
  const char *env = g_getenv ("GRADUS_CONV");
  if (env && g_str_equal (env, "gemm"))
    return FALSE;
  if (env && g_str_equal (env, "winograd"))
    return TRUE;
  (void) pass;
  /* The transforms cost about 16 (ci + co) additions a tile against the
   * gemms' 32 ci co multiply-adds, and small images waste a larger part of
   * their tiles (a 7x7 output takes 20 tiles of 4 outputs, padded rows
   * included): measured (docs/perf.md), Winograd took 0.5 to 0.85 of the
   * gemm path's time from 8 channels and 10x10 images up, and up to 1.8
   * times it below (3 or 16 channels in, 8x8; 64 channels, 7x7). */
  return g->cg >= 8 && g->og >= 8 && MIN (g->oh, g->ow) >= 10 && MIN (g->h, g->w) >= 10;
}

/* Sets the tiling of wi for an output of oh x ow and the channel counts:
 * blocks of whole images, or of tile rows of one image, whose V and M take
 * at most about BLOCK_BYTES (at least one tile row). */
static gboolean
tiling (Wino *wi, GError **error)
{
  gsize es = wi->f64 ? sizeof (double) : sizeof (float);
  wi->th = (wi->oh + 1) / 2;
  wi->tw = (wi->ow + 1) / 2;
  wi->tiles = wi->n * wi->th * wi->tw;
  if (wi->tiles == 0)
    return TRUE;
  gint64 tw1 = wi->tw + 1;
  gint64 most = MAX (tw1, BLOCK_BYTES / (gint64) (16 * (wi->ci + wi->co) * (gint64) es));
  if (wi->th * tw1 <= most) {
    wi->blocks_per_image = 1;
    wi->images_per_block = MIN (wi->n, most / (wi->th * tw1));
    wi->rows_per_block = wi->th;
    wi->n_blocks = (wi->n + wi->images_per_block - 1) / wi->images_per_block;
    wi->tb = wi->images_per_block * wi->th * tw1;
  } else {
    /* rows evened out over the image's blocks */
    wi->blocks_per_image = (wi->th + most / tw1 - 1) / (most / tw1);
    wi->rows_per_block = (wi->th + wi->blocks_per_image - 1) / wi->blocks_per_image;
    wi->blocks_per_image = (wi->th + wi->rows_per_block - 1) / wi->rows_per_block;
    wi->images_per_block = 1;
    wi->tb = wi->rows_per_block * tw1;
    if (__builtin_mul_overflow (wi->n, wi->blocks_per_image, &wi->n_blocks))
      wi->n_blocks = G_MAXINT64;
  }
  if (wi->n_blocks > G_MAXINT / 2 || wi->tb > G_MAXINT / 16) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE, "convolution too large for the Winograd path");
    return FALSE;
  }
  return TRUE;
}

static gboolean
slots_new (Wino *wi, GError **error)
{
  gsize es = wi->f64 ? sizeof (double) : sizeof (float);
  gint64 pw = 2 * (wi->tw + 1), R = wi->rows_per_block;
  /* V, M (or Y), the transforms' rows and a row of zeros (the rows above and
   * below the image) */
  gint64 zw = MAX (wi->w, wi->ow);
  gsize zoff = (gsize) (16 * (wi->ci + wi->co) * wi->tb + 4 * (R * pw + 4));
  gsize elems = zoff + (gsize) zw;
  wi->slot_bytes = (elems * es + 63) & ~(gsize) 63;
  wi->n_slots = grd_parallel_n_threads ();
  wi->scratch = grd_scratch_take (wi->slot_bytes * (gsize) wi->n_slots, 1, error);
  if (!wi->scratch)
    return FALSE;
  for (gint s = 0; s < wi->n_slots; s++)
    memset (wi->scratch + (gsize) s * wi->slot_bytes + zoff * es, 0, (gsize) zw * es);
  wi->busy = g_new0 (gint, wi->n_slots);
  wi->gemm_us = g_new0 (gint64, wi->n_slots);
  return TRUE;
}

static void
run (Wino *wi, gint n_tasks, GrdParallelFunc fn, double *gemm_us)
{
  /* OpenBLAS on one thread inside each task: the workers already use the cores */
  gint threads = openblas_get_num_threads ();
  if (threads > 1)
    openblas_set_num_threads (1);
  grd_parallel_for (n_tasks, fn, wi);
  if (threads > 1)
    openblas_set_num_threads (threads);
  /* the share of wall time in BLAS: thread time over the threads that ran */
  gint64 sum = 0;
  for (gint s = 0; s < wi->n_slots; s++)
    sum += wi->gemm_us[s];
  gint64 us = sum / MAX (1, MIN (wi->n_slots, n_tasks));
  grd_conv_gemm_add_us (us);
  if (gemm_us)
    *gemm_us += (double) us;
}

static void
slots_free (Wino *wi)
{
  grd_scratch_give (wi->scratch);
  g_free (wi->busy);
  g_free (wi->gemm_us);
}

/* U [groups, 16, rows, cols] = G f G^T of the 3x3 cross-correlation filters;
 * with `swap`, rows are the input channels and the filter is turned by 180
 * degrees (the input's gradient). */
static void
filter_tf (const GrdConvGeom *g, gboolean f64, const void *w, gboolean swap, void *u)
{
  gint64 rows = swap ? g->cg : g->og, cols = swap ? g->og : g->cg;
  for (gint64 grp = 0; grp < g->groups; grp++)
    for (gint64 r = 0; r < rows; r++)
      for (gint64 c = 0; c < cols; c++) {
        gint64 o = swap ? c : r, ch = swap ? r : c;
        gint64 plane = (grp * g->og + o) * g->cg + ch;
        double f[3][3], t[4][3];
        for (gint a = 0; a < 3; a++)
          for (gint b = 0; b < 3; b++) {
            gint64 k = grd_conv_tap (g, plane, swap ? 2 - a : a, swap ? 2 - b : b);
            f[a][b] = f64 ? ((const double *) w)[k] : ((const float *) w)[k];
          }
        for (gint b = 0; b < 3; b++) {
          t[0][b] = f[0][b];
          t[1][b] = 0.5 * (f[0][b] + f[1][b] + f[2][b]);
          t[2][b] = 0.5 * (f[0][b] - f[1][b] + f[2][b]);
          t[3][b] = f[2][b];
        }
        for (gint k = 0; k < 4; k++) {
          double uk[4] = { t[k][0], 0.5 * (t[k][0] + t[k][1] + t[k][2]),
                           0.5 * (t[k][0] - t[k][1] + t[k][2]), t[k][2] };
          for (gint l = 0; l < 4; l++) {
            gsize at = (gsize) (((grp * 16 + 4 * k + l) * rows + r) * cols + c);
            if (f64)
              ((double *) u)[at] = uk[l];
            else
              ((float *) u)[at] = (float) uk[l];
          }
        }
      }
}

gboolean
grd_conv_winograd (GrdConvPass pass, const GrdConvGeom *g, gboolean f64, const void *x,
                   const void *w, const void *gy, void *out, double *gemm_us, GError **error)
{
  gsize es = f64 ? sizeof (double) : sizeof (float);
  Wino wi = { 0 };
  wi.f64 = f64;
  wi.wgemm = !f64 && grd_conv_wgemm_available ();
  wi.n = g->n;
  wi.groups = g->groups;
  if (pass == GRD_CONV_PASS_GRAD_INPUT) {
    /* gx = conv (gy, filters turned and swapped), padded by 2 - pad */
    wi.ci = g->og, wi.co = g->cg, wi.ci_all = g->o, wi.co_all = g->c;
    wi.h = g->oh, wi.w = g->ow, wi.oh = g->h, wi.ow = g->w;
    wi.pt = 2 - g->ph, wi.pl = 2 - g->pw;
    wi.in = gy;
  } else {
    wi.ci = g->cg, wi.co = g->og, wi.ci_all = g->c, wi.co_all = g->o;
    wi.h = g->h, wi.w = g->w, wi.oh = g->oh, wi.ow = g->ow;
    wi.pt = g->ph, wi.pl = g->pw;
    wi.in = x;
    wi.gy = gy;
  }
  if (!tiling (&wi, error))
    return FALSE;
  if (wi.tiles == 0) {
    if (pass == GRD_CONV_PASS_GRAD_FILTERS)
      memset (out, 0, (gsize) (g->o * g->cg * 9) * es);
    return TRUE;
  }
  if (!slots_new (&wi, error))
    return FALSE;
  if (pass != GRD_CONV_PASS_GRAD_FILTERS) {
    void *u = grd_scratch_take ((gsize) (g->groups * 16 * wi.co * wi.ci), es, error);
    if (!u) {
      slots_free (&wi);
      return FALSE;
    }
    filter_tf (g, f64, w, pass == GRD_CONV_PASS_GRAD_INPUT, u);
    wi.u = u;
    wi.out = out;
    run (&wi, (gint) wi.n_blocks, forward_task, gemm_us);
    grd_scratch_give (u);
    slots_free (&wi);
    return TRUE;
  }
  gsize part = (gsize) (g->groups * 16 * wi.co * wi.ci);
  gint64 chunks = MIN (wi.n_blocks, WGRAD_CHUNKS);
  chunks = MAX (1, MIN (chunks, (gint64) (PARTIAL_BYTES / (part * es))));
  wi.blocks_per_chunk = (wi.n_blocks + chunks - 1) / chunks;
  chunks = (wi.n_blocks + wi.blocks_per_chunk - 1) / wi.blocks_per_chunk;
  wi.partial = grd_scratch_take (part * (gsize) chunks, es, error);
  if (!wi.partial) {
    slots_free (&wi);
    return FALSE;
  }
  run (&wi, (gint) chunks, wgrad_task, gemm_us);
  /* chunks added in order, then dF = G^T P G, in double */
  for (gint64 grp = 0; grp < g->groups; grp++)
    for (gint64 o = 0; o < g->og; o++)
      for (gint64 c = 0; c < g->cg; c++) {
        double p[4][4], t[3][4];
        for (gint xi = 0; xi < 16; xi++) {
          double s = 0;
          gsize at = (gsize) (((grp * 16 + xi) * g->og + o) * g->cg + c);
          for (gint64 k = 0; k < chunks; k++)
            s += f64 ? ((const double *) wi.partial)[k * part + at]
                     : ((const float *) wi.partial)[k * part + at];
          p[xi / 4][xi % 4] = s;
        }
        for (gint l = 0; l < 4; l++) {
          t[0][l] = p[0][l] + 0.5 * (p[1][l] + p[2][l]);
          t[1][l] = 0.5 * (p[1][l] - p[2][l]);
          t[2][l] = 0.5 * (p[1][l] + p[2][l]) + p[3][l];
        }
        gint64 plane = (grp * g->og + o) * g->cg + c;
        for (gint a = 0; a < 3; a++) {
          double f[3] = { t[a][0] + 0.5 * (t[a][1] + t[a][2]), 0.5 * (t[a][1] - t[a][2]),
                          0.5 * (t[a][1] + t[a][2]) + t[a][3] };
          for (gint b = 0; b < 3; b++) {
            gint64 k = grd_conv_tap (g, plane, a, b);
            if (f64)
              ((double *) out)[k] = f[b];
            else
              ((float *) out)[k] = (float) f[b];
          }
        }
      }
  grd_scratch_give (wi.partial);
  slots_free (&wi);
  return TRUE;
}
