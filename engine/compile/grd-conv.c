/* grd-conv.c: conv2d and its gradients on the CPU as BLAS gemm over im2col.
 *
 * For a chunk of samples and one group, im2col lays the input taps out as
 * cols [K = cg * kh * kw, L = samples * oh * ow]; then
 *   forward          Y [og, L]  = Wf [og, K] . cols            (gemm NN)
 *   grad of input    dcols      = Wf^T . gY, added back by col2im (gemm TN)
 *   grad of filters  gWf [og, K] += gY . cols^T               (gemm NT)
 * where Wf is the filters turned by 180 degrees when filter_flip is set.
 * Chunks keep cols near 1 MiB; a chunk of one sample reads and writes its
 * [og, L] block in place (no copy). im2col and col2im split the channels over
 * the engine's workers, which sleep while OpenBLAS's threads run the gemms,
 * so the two never compete for the cores. */
#include "grd-conv.h"
#include "grd-conv-winograd.h"
#include "grd-fuse.h"
#include "../ops/ops-conv.h"

#include <cblas.h>
#include <string.h>

/* cols of about 1 MiB of float32: one sample of a 32-channel 28x28 layer,
 * so that what im2col writes is still in cache when the gemm reads it */
#define CHUNK_ELEMENTS (1 << 18)

/* Microseconds spent in BLAS by these kernels since the process started: a
 * statistic for benchmarks (one atomic counter, like the live-tensor count). */
static gsize gemm_us_total;

guint64
grd_conv_gemm_us_total (void)
{
  return (guint64) g_atomic_pointer_get (&gemm_us_total);
}

void
grd_conv_gemm_add_us (gint64 us)
{
  g_atomic_pointer_add (&gemm_us_total, (gssize) us);
}

typedef struct {
  const GrdConvGeom *g;
  gboolean f64;
  gint64   n0, nb, grp;
  gint64   L;
  const void *x;   /* im2col: the input */
  void       *gx;  /* col2im: the input's gradient */
  void       *cols;
  gint64   channels_per_task;
  const gint32 *gidx;  /* small images: per tap and column, the offset read, or -1 */
  gint64   gidx_L;     /* gidx's length a tap: a full chunk's columns (the last
                        * chunk may be shorter, L < gidx_L) */
} ColsJob;

/* Rows shorter than this make im2col gather (col2im scatter) through an index table
 * instead: the per-row bookkeeping costs more than the copy (the digits
 * CNN's 8x8 and 2x2 outputs). */
#define SHORT_ROW 16

/* gidx [t, q] for tap t = a kw + b and column q = n oh ow + i ow + j of a
 * chunk of nb samples: the offset of the element it reads from the first
 * sample's plane of a channel, or -1 in the padding. */
static void
gather_index (const GrdConvGeom *g, gint64 nb, gint32 *gidx)
{
  gint64 ohw = g->oh * g->ow, L = nb * ohw, chw = g->c * g->h * g->w;
  for (gint64 a = 0; a < g->kh; a++)
    for (gint64 b = 0; b < g->kw; b++) {
      gint32 *t = gidx + (a * g->kw + b) * L;
      for (gint64 i = 0; i < g->oh; i++)
        for (gint64 jj = 0; jj < g->ow; jj++) {
          gint64 r = i * g->sh + a * g->dh - g->ph, s = jj * g->sw + b * g->dw - g->pw;
          t[i * g->ow + jj] = r < 0 || r >= g->h || s < 0 || s >= g->w ? -1 : (gint32) (r * g->w + s);
        }
      for (gint64 n = 1; n < nb; n++)
        for (gint64 p = 0; p < ohw; p++)
          t[n * ohw + p] = t[p] < 0 ? -1 : (gint32) (t[p] + n * chw);
    }
}

/* The output columns q in [*qa, *qb) whose tap q * sw + s0 falls inside the
 * image's width; the others read the zero border. */
static void
tap_columns (const GrdConvGeom *g, gint64 s0, gint64 *qa, gint64 *qb)
{
  gint64 a = s0 >= 0 ? 0 : (-s0 + g->sw - 1) / g->sw;
  gint64 b = g->w - s0 <= 0 ? 0 : (g->w - s0 + g->sw - 1) / g->sw;
  *qa = MIN (a, g->ow);
  *qb = CLAMP (b, *qa, g->ow);
}

#define DEFINE_COLS(T, SUFFIX)                                                               \
  static void                                                                                \
  im2col_##SUFFIX (ColsJob *j, gint64 c0, gint64 c1)                                         \
  {                                                                                          \
    const GrdConvGeom *g = j->g;                                                             \
    gint64 ohw = g->oh * g->ow;                                                              \
    if (j->gidx) {                                                                           \
      for (gint64 c = c0; c < c1; c++) {                                                     \
        const T *base = (const T *) j->x + (j->n0 * g->c + j->grp * g->cg + c) * g->h * g->w; \
        for (gint64 t = 0; t < g->kh * g->kw; t++) {                                         \
          T *restrict dst = (T *) j->cols + (c * g->kh * g->kw + t) * j->L;                  \
          const gint32 *restrict ix = j->gidx + t * j->gidx_L;                                    \
          for (gint64 q = 0; q < j->L; q++)                                                  \
            dst[q] = ix[q] >= 0 ? base[ix[q]] : (T) 0;                                       \
        }                                                                                    \
      }                                                                                      \
      return;                                                                                \
    }                                                                                        \
    for (gint64 c = c0; c < c1; c++)                                                         \
      for (gint64 a = 0; a < g->kh; a++)                                                     \
        for (gint64 b = 0; b < g->kw; b++) {                                                 \
          T *dst = (T *) j->cols + ((c * g->kh + a) * g->kw + b) * j->L;                     \
          gint64 s0 = b * g->dw - g->pw, qa, qb;                                             \
          tap_columns (g, s0, &qa, &qb);                                                     \
          for (gint64 n = 0; n < j->nb; n++) {                                               \
            const T *plane = (const T *) j->x                                                \
                             + ((j->n0 + n) * g->c + j->grp * g->cg + c) * g->h * g->w;      \
            T *d = dst + n * ohw;                                                            \
            for (gint64 i = 0; i < g->oh; i++, d += g->ow) {                                 \
              gint64 r = i * g->sh + a * g->dh - g->ph;                                      \
              if (r < 0 || r >= g->h) {                                                      \
                memset (d, 0, sizeof (T) * g->ow);                                           \
                continue;                                                                    \
              }                                                                              \
              const T *row = plane + r * g->w;                                               \
              for (gint64 q = 0; q < qa; q++)                                                \
                d[q] = (T) 0;                                                                \
              /* short rows (small images) by a loop: a memcpy call costs more */            \
              if (g->sw == 1 && qb - qa >= 16)                                               \
                memcpy (d + qa, row + qa + s0, sizeof (T) * (gsize) (qb - qa));              \
              else if (g->sw == 1)                                                           \
                for (gint64 q = qa; q < qb; q++)                                             \
                  d[q] = row[q + s0];                                                        \
              else                                                                           \
                for (gint64 q = qa; q < qb; q++)                                             \
                  d[q] = row[q * g->sw + s0];                                                \
              for (gint64 q = qb; q < g->ow; q++)                                            \
                d[q] = (T) 0;                                                                \
            }                                                                                \
          }                                                                                  \
        }                                                                                    \
  }                                                                                          \
                                                                                             \
  static void                                                                                \
  col2im_##SUFFIX (ColsJob *j, gint64 c0, gint64 c1)                                         \
  {                                                                                          \
    const GrdConvGeom *g = j->g;                                                             \
    gint64 ohw = g->oh * g->ow;                                                              \
    if (j->gidx) {                                                                           \
      /* within a tap no two columns read the same element: no conflicts */                  \
      for (gint64 c = c0; c < c1; c++) {                                                     \
        T *base = (T *) j->gx + (j->n0 * g->c + j->grp * g->cg + c) * g->h * g->w;          \
        for (gint64 t = 0; t < g->kh * g->kw; t++) {                                         \
          const T *src = (const T *) j->cols + (c * g->kh * g->kw + t) * j->L;               \
          const gint32 *ix = j->gidx + t * j->gidx_L;                                             \
          for (gint64 q = 0; q < j->L; q++)                                                  \
            if (ix[q] >= 0)                                                                  \
              base[ix[q]] += src[q];                                                         \
        }                                                                                    \
      }                                                                                      \
      return;                                                                                \
    }                                                                                        \
    for (gint64 c = c0; c < c1; c++)                                                         \
      for (gint64 a = 0; a < g->kh; a++)                                                     \
        for (gint64 b = 0; b < g->kw; b++) {                                                 \
          const T *src = (const T *) j->cols + ((c * g->kh + a) * g->kw + b) * j->L;        \
          gint64 s0 = b * g->dw - g->pw, qa, qb;                                             \
          tap_columns (g, s0, &qa, &qb);                                                     \
          for (gint64 n = 0; n < j->nb; n++) {                                               \
            T *plane = (T *) j->gx + ((j->n0 + n) * g->c + j->grp * g->cg + c) * g->h * g->w; \
            const T *d = src + n * ohw;                                                      \
            for (gint64 i = 0; i < g->oh; i++, d += g->ow) {                                 \
              gint64 r = i * g->sh + a * g->dh - g->ph;                                      \
              if (r < 0 || r >= g->h)                                                        \
                continue;                                                                    \
              T *row = plane + r * g->w;                                                     \
              for (gint64 q = qa; q < qb; q++)                                               \
                row[q * g->sw + s0] += d[q];                                                 \
            }                                                                                \
          }                                                                                  \
        }                                                                                    \
  }

DEFINE_COLS (float, f32)
DEFINE_COLS (double, f64)

static void
im2col_task (gpointer data, gint task)
{
  ColsJob *j = data;
  gint64 c0 = task * j->channels_per_task, c1 = MIN (j->g->cg, c0 + j->channels_per_task);
  if (j->f64)
    im2col_f64 (j, c0, c1);
  else
    im2col_f32 (j, c0, c1);
}

static void
col2im_task (gpointer data, gint task)
{
  ColsJob *j = data;
  gint64 c0 = task * j->channels_per_task, c1 = MIN (j->g->cg, c0 + j->channels_per_task);
  if (j->f64)
    col2im_f64 (j, c0, c1);
  else
    col2im_f32 (j, c0, c1);
}

static void
run_cols (ColsJob *j, gboolean to_image)
{
  /* about 64k elements a task; small layers stay on this thread */
  gint64 per_channel = j->g->kh * j->g->kw * j->L;
  j->channels_per_task = MAX (1, 65536 / MAX (per_channel, 1));
  gint n_tasks = (gint) ((j->g->cg + j->channels_per_task - 1) / j->channels_per_task);
  grd_parallel_for (n_tasks, to_image ? col2im_task : im2col_task, j);
}

/* C [m, n] = alpha op(A) op(B) + beta C, row-major, timed into *us. */
static void
gemm (gboolean f64, gboolean ta, gboolean tb, gint64 m, gint64 n, gint64 k, const void *a,
      gint64 lda, const void *b, gint64 ldb, double beta, void *c, gint64 ldc, double *us)
{
  gint64 t0 = g_get_monotonic_time ();
  /* small products on one thread, as grd-gemm.c does: waking OpenBLAS's
   * threads costs more than they save below a few million flops */
  gboolean small = 2.0 * (double) m * (double) n * (double) k < 8e6;
  gint threads = small ? openblas_get_num_threads () : 1;
  if (small && threads > 1)
    openblas_set_num_threads (1);
  if (f64)
    cblas_dgemm (CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                 (int) m, (int) n, (int) k, 1.0, a, (int) lda, b, (int) ldb, beta, c, (int) ldc);
  else
    cblas_sgemm (CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                 (int) m, (int) n, (int) k, 1.0f, a, (int) lda, b, (int) ldb, (float) beta, c,
                 (int) ldc);
  if (small && threads > 1)
    openblas_set_num_threads (threads);
  gint64 dt = g_get_monotonic_time () - t0;
  g_atomic_pointer_add (&gemm_us_total, (gssize) dt);
  if (us)
    *us += (double) dt;
}

/* The filters as [o, K] with the flip applied (a copy), or with it undone. */
static void
flip_filters (const GrdConvGeom *g, gboolean f64, const void *src, void *dst)
{
  gint64 planes = g->o * g->cg;
  for (gint64 p = 0; p < planes; p++)
    for (gint64 a = 0; a < g->kh; a++)
      for (gint64 b = 0; b < g->kw; b++) {
        gint64 s = grd_conv_tap (g, p, a, b), d = (p * g->kh + a) * g->kw + b;
        if (f64)
          ((double *) dst)[d] = ((const double *) src)[s];
        else
          ((float *) dst)[d] = ((const float *) src)[s];
      }
}

/* Moves [og, L] blocks between the temp (per group, per chunk) and y [n, o, ohw]. */
static void
move_blocks (const GrdConvGeom *g, gsize es, gint64 n0, gint64 nb, gint64 grp, void *tmp,
             void *y, gboolean to_y)
{
  gint64 ohw = g->oh * g->ow, L = nb * ohw;
  gsize row = (gsize) ohw * es;
  for (gint64 o = 0; o < g->og; o++)
    for (gint64 n = 0; n < nb; n++) {
      char *t = (char *) tmp + ((gsize) (o * L + n * ohw)) * es;
      char *yy = (char *) y + ((gsize) (((n0 + n) * g->o + grp * g->og + o) * ohw)) * es;
      if (to_y)
        memcpy (yy, t, row);
      else
        memcpy (t, yy, row);
    }
}

static GrdTensor *
output_like (GrdTensor **out, GrdDType dtype, const gint64 *shape, GError **error)
{
  GrdTensor *o = *out;
  if (!(o && o->ref_count == 1 && o->dtype == dtype && o->rank == 4
        && memcmp (o->shape, shape, sizeof (gint64) * 4) == 0)) {
    g_clear_pointer (out, grd_tensor_unref);
    /* uninitialised: both paths write every element (or clear it first) */
    if (!(o = grd_tensor_try_new_uninit (dtype, 4, shape, error)))
      return NULL;
  }
  *out = o;
  return o;
}

gboolean
grd_conv_gemm (const char *op, const GrdAttrs *attrs, GrdTensor *const *in, GrdTensor **out,
               double *gemm_us, GError **error)
{
  gboolean forward = g_str_equal (op, "conv2d"), grad_in = g_str_equal (op, "_conv2d_grad_input");
  /* x, w, gy by role */
  GrdTensor *x = forward ? in[0] : grad_in ? in[2] : in[0];
  GrdTensor *w = forward ? in[1] : grad_in ? in[1] : in[2];
  GrdTensor *gy = forward ? NULL : grad_in ? in[0] : in[1];
  GrdConvGeom g;
  if (!grd_conv_geom (attrs, x->shape, w->shape, &g, error))
    return FALSE;
  gint64 yshape[4] = { g.n, g.o, g.oh, g.ow };
  if (gy && memcmp (gy->shape, yshape, sizeof yshape) != 0) {
    g_autofree char *a = grd_tensor_describe (gy), *b = grd_dims_describe (4, yshape);
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
                 "the gradient %s does not match conv2d's output %s", a, b);
    return FALSE;
  }
  gboolean f64 = x->dtype == GRD_DTYPE_FLOAT64;
  gsize es = f64 ? sizeof (double) : sizeof (float);
  GrdTensor *o = output_like (out, x->dtype, forward ? yshape : grad_in ? x->shape : w->shape, error);
  if (!o)
    return FALSE;
  if (o->size > 0 && x->size > 0 && w->size > 0) {
    GrdConvPass pass = forward ? GRD_CONV_PASS_FORWARD
                       : grad_in ? GRD_CONV_PASS_GRAD_INPUT : GRD_CONV_PASS_GRAD_FILTERS;
    if (grd_conv_winograd_chosen (&g, pass))
      return grd_conv_winograd (pass, &g, f64, x->data, w->data, gy ? gy->data : NULL, o->data,
                                gemm_us, error);
  }
  if (!forward || o->size == 0 || x->size == 0 || w->size == 0)
    memset (o->data, 0, (gsize) o->size * es);
  if (o->size == 0 || x->size == 0 || w->size == 0)
    return TRUE;
  gint64 K = g.cg * g.kh * g.kw, ohw = g.oh * g.ow;
  gint64 nb = CLAMP (CHUNK_ELEMENTS / MAX (K * ohw, 1), 1, g.n);
  /* working space: the flipped filters, a chunk's columns and its gemm block */
  /* every element of these is written before it is read (im2col writes the
   * border's zeros, the gemms have beta 0 or a cleared wf, move_blocks
   * fills tmp), so they come uninitialised from the scratch cache */
  void *wf = grd_scratch_take ((gsize) w->size, es, error);
  void *cols = wf ? grd_scratch_take ((gsize) (K * nb * ohw), es, error) : NULL;
  void *tmp = cols ? grd_scratch_take ((gsize) (g.og * nb * ohw), es, error) : NULL;
  if (!tmp) {
    grd_scratch_give (cols);
    grd_scratch_give (wf);
    return FALSE;
  }
  /* small images: the gather table, for im2col and col2im */
  gint32 *gidx = NULL;
  if (g.ow < SHORT_ROW && nb * g.c * g.h * g.w < G_MAXINT32) {
    gidx = grd_scratch_take ((gsize) (g.kh * g.kw * nb * ohw), sizeof (gint32), error);
    if (!gidx) {
      grd_scratch_give (tmp);
      grd_scratch_give (cols);
      grd_scratch_give (wf);
      return FALSE;
    }
    gather_index (&g, nb, gidx);
  }
  if (forward || grad_in)
    flip_filters (&g, f64, w->data, wf);
  else
    memset (wf, 0, (gsize) w->size * es);
  for (gint64 n0 = 0; n0 < g.n; n0 += nb) {
    gint64 cnt = MIN (nb, g.n - n0), L = cnt * ohw;
    for (gint64 grp = 0; grp < g.groups; grp++) {
      ColsJob j = { &g, f64, n0, cnt, grp, L, x->data, o->data, cols, 0, gidx, nb * ohw };
      char *wg = (char *) wf + (gsize) (grp * g.og * K) * es;
      /* the [og, L] block of this chunk and group: in place for one sample */
      char *ys = (char *) (forward ? o->data : gy->data)
                 + (gsize) ((n0 * g.o + grp * g.og) * ohw) * es;
      gboolean direct = cnt == 1;
      void *blk = direct ? (void *) ys : tmp;
      gint64 ld = direct ? ohw : L;
      if (forward) {
        run_cols (&j, FALSE);
        gemm (f64, FALSE, FALSE, g.og, L, K, wg, K, cols, L, 0.0, blk, ld, gemm_us);
        if (!direct)
          move_blocks (&g, es, n0, cnt, grp, tmp, o->data, TRUE);
      } else if (grad_in) {
        if (!direct)
          move_blocks (&g, es, n0, cnt, grp, tmp, gy->data, FALSE);
        gemm (f64, TRUE, FALSE, K, L, g.og, wg, K, blk, ld, 0.0, cols, L, gemm_us);
        run_cols (&j, TRUE);
      } else {
        run_cols (&j, FALSE);
        if (!direct)
          move_blocks (&g, es, n0, cnt, grp, tmp, gy->data, FALSE);
        gemm (f64, FALSE, TRUE, g.og, K, L, blk, ld, cols, L, 1.0, wg, K, gemm_us);
      }
    }
  }
  if (!forward && !grad_in) {
    /* gWf holds the gradient of the flipped filters: flipping is its own inverse */
    flip_filters (&g, f64, wf, o->data);
  }
  grd_scratch_give (gidx);
  grd_scratch_give (tmp);
  grd_scratch_give (cols);
  grd_scratch_give (wf);
  return TRUE;
}

gboolean
grd_conv_kernel_fits (GrdProgram *prog, GrdInstr *ins)
{
  if (ins->kind != GRD_INSTR_OP
      || !(g_str_equal (ins->op->name, "conv2d") || g_str_equal (ins->op->name, "_conv2d_grad_input")
           || g_str_equal (ins->op->name, "_conv2d_grad_filters")))
    return FALSE;
  GrdDType dt = grd_program_value (prog, ins->out[0])->type.dtype;
  for (gint i = 0; i < ins->n_in; i++)
    if (grd_program_value (prog, ins->in[i])->type.dtype != dt)
      return FALSE;
  return grd_dtype_is_float (dt);
}

gboolean
grd_conv_kernel_run (GrdInstr *ins, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  return grd_conv_gemm (ins->op->name, &ins->attrs, in, out, NULL, error);
}

/* The output's shape, so that the executor's pool hands over last call's
 * buffer instead of a fresh one (whose pages fault): conv2d's output, or
 * the shape of x or w (in[2] of both gradients). */
gint
grd_conv_kernel_shape (GrdInstr *ins, GrdTensor *const *in, gint64 *shape)
{
  if (!g_str_equal (ins->op->name, "conv2d")) {
    memcpy (shape, in[2]->shape, sizeof (gint64) * in[2]->rank);
    return in[2]->rank;
  }
  GrdConvGeom g;
  if (in[0]->rank != 4 || in[1]->rank != 4
      || !grd_conv_geom (&ins->attrs, in[0]->shape, in[1]->shape, &g, NULL))
    return -1;
  shape[0] = g.n;
  shape[1] = g.o;
  shape[2] = g.oh;
  shape[3] = g.ow;
  return 4;
}

/* ------------------------------------------------------------ bias gradients */

/* _reduce_to (g, x) for float g of any broadcast pattern, such as the bias
 * of a convolution ([n, c, h, w] summed to [1, c, 1, 1]): the trailing axes
 * that are all summed (or all kept) form the inner loop, the others an
 * odometer; sums in double, as the reference does. */
gboolean
grd_conv_reduce_fits (GrdProgram *prog, GrdInstr *ins)
{
  if (ins->kind != GRD_INSTR_OP || !g_str_equal (ins->op->name, "_reduce_to"))
    return FALSE;
  GrdDType dt = grd_program_value (prog, ins->in[0])->type.dtype;
  return (dt == GRD_DTYPE_FLOAT32 || dt == GRD_DTYPE_FLOAT64)
         && grd_program_value (prog, ins->out[0])->type.dtype == dt;
}

/* Whether the static types show a broadcast pattern with summed axes on both
 * sides of a kept one (the bias of a convolution: [n, c, h, w] to [1, c, 1, 1]),
 * which the reduce kernels (one summed run) hand to the reference kernel. */
gboolean
grd_conv_reduce_wants (GrdProgram *prog, GrdInstr *ins)
{
  if (!grd_conv_reduce_fits (prog, ins))
    return FALSE;
  const GrdType *g = &grd_program_value (prog, ins->in[0])->type;
  const GrdType *x = &grd_program_value (prog, ins->in[1])->type;
  gint lead = g->rank - x->rank, runs = 0;
  gboolean in_run = FALSE;
  if (lead < 0)
    return FALSE;
  for (gint d = 0; d < g->rank; d++) {
    gint k = d - lead;
    if (k >= 0 && x->dims[k] < 0)
      return FALSE;   /* not known: the reduce kernels decide at run time */
    if (g->dims[d] == 1)
      continue;
    gboolean summed = k < 0 || x->dims[k] == 1;
    if (summed && !in_run)
      runs++;
    in_run = summed;
  }
  return runs > 1;
}

/* A run summed in double in 8 independent lanes (one add after another
 * waits for the last: the bias gradients' runs of h w were latency bound),
 * added pairwise at the end. */
#define DEFINE_SUM_RUN(T, SUFFIX)                                                            \
  static double                                                                              \
  sum_run_##SUFFIX (const T *p, gint64 run)                                                  \
  {                                                                                          \
    double lane[8] = { 0 };                                                                  \
    gint64 k = 0;                                                                            \
    for (; k + 8 <= run; k += 8)                                                             \
      for (gint l = 0; l < 8; l++)                                                           \
        lane[l] += p[k + l];                                                                 \
    for (; k < run; k++)                                                                     \
      lane[k & 7] += p[k];                                                                   \
    return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7])); \
  }

DEFINE_SUM_RUN (float, f32)
DEFINE_SUM_RUN (double, f64)

gboolean
grd_conv_reduce_run (GrdInstr *ins, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdTensor *g = in[0], *x = in[1];
  gint rank = g->rank, lead = g->rank - x->rank;
  gint64 ost[GRD_MAX_RANK];
  gboolean ok = lead >= 0;
  gint64 s = 1;
  for (gint d = rank - 1; ok && d >= 0; d--) {
    gint k = d - lead;
    if (k >= 0 && x->shape[k] != 1 && x->shape[k] != g->shape[d])
      ok = FALSE;
    ost[d] = (k < 0 || x->shape[k] == 1) ? 0 : s;
    if (k >= 0)
      s *= x->shape[k];
  }
  if (!ok) {  /* the op's own kernel says what does not fit */
    GrdNode fake = { 0 };
    fake.op = ins->op;
    fake.n_inputs = 2;
    fake.n_outputs = 1;
    GrdTensor *o = NULL;
    if (!ins->op->eval (&fake, in, &o, error))
      return FALSE;
    if (*out)
      grd_tensor_unref (*out);
    *out = o;
    return TRUE;
  }
  GrdTensor *o = *out;
  if (!(o && o->ref_count == 1 && o->dtype == g->dtype && grd_tensor_same_shape (o, x))) {
    g_clear_pointer (out, grd_tensor_unref);
    if (!(o = grd_tensor_try_new (g->dtype, x->rank, x->shape, error)))
      return FALSE;
  }
  *out = o;
  g_autofree double *acc = grd_scratch_try_new ((gsize) o->size, sizeof (double), error);
  if (!acc)
    return FALSE;
  /* the inner run: trailing axes all summed or all kept (then contiguous) */
  gint d0 = rank;
  gboolean summed = rank > 0 && ost[rank - 1] == 0;
  gint64 run = 1;
  while (d0 > 0 && (ost[d0 - 1] == 0) == summed) {
    d0--;
    run *= g->shape[d0];
  }
  gint64 outer = run ? g->size / MAX (run, 1) : 0, idx[GRD_MAX_RANK] = { 0 }, dst = 0;
  gboolean f64 = g->dtype == GRD_DTYPE_FLOAT64;
  for (gint64 r = 0; r < outer; r++) {
    if (f64) {
      const double *p = (const double *) g->data + r * run;
      if (summed) {
        acc[dst] += sum_run_f64 (p, run);
      } else {
        for (gint64 k = 0; k < run; k++)
          acc[dst + k] += p[k];
      }
    } else {
      const float *p = (const float *) g->data + r * run;
      if (summed) {
        acc[dst] += sum_run_f32 (p, run);
      } else {
        for (gint64 k = 0; k < run; k++)
          acc[dst + k] += p[k];
      }
    }
    for (gint d = d0 - 1; d >= 0; d--) {
      dst += ost[d];
      if (++idx[d] < g->shape[d])
        break;
      dst -= ost[d] * g->shape[d];
      idx[d] = 0;
    }
  }
  if (f64)
    memcpy (o->data, acc, (gsize) o->size * sizeof (double));
  else
    for (gint64 k = 0; k < o->size; k++)
      ((float *) o->data)[k] = (float) acc[k];
  return TRUE;
}
