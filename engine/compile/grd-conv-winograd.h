/* grd-conv-winograd.h: 3x3 stride-1 convolutions and both their gradients
 * by Winograd's F(2x2, 3x3) and batched BLAS gemms (grd-conv-winograd.c). */
#pragma once

#include "../ops/ops-conv.h"

G_BEGIN_DECLS

typedef enum {
  GRD_CONV_PASS_FORWARD,
  GRD_CONV_PASS_GRAD_INPUT,
  GRD_CONV_PASS_GRAD_FILTERS,
} GrdConvPass;

/* 3x3 filters, stride 1, no dilation (any padding, groups, flip, batch). */
gboolean grd_conv_winograd_applies (const GrdConvGeom *g);
/* Whether the kernels take the Winograd path for this geometry: the rule of
 * docs/ops-conv-index.md, or GRADUS_CONV=gemm|winograd to force a path
 * (winograd only where it applies). */
gboolean grd_conv_winograd_chosen (const GrdConvGeom *g, GrdConvPass pass);
/* One pass into `out` (y, gx or gw, every element written); x, w, gy are the
 * float32 or float64 data of the op's tensors (gy NULL for the forward). */
gboolean grd_conv_winograd (GrdConvPass pass, const GrdConvGeom *g, gboolean f64, const void *x,
                            const void *w, const void *gy, void *out, double *gemm_us,
                            GError **error);

/* The float32 products of the Winograd path in AVX-512 (grd-conv-wgemm.c):
 * whether this CPU runs them (and GRADUS_CONV_GEMM is not "blas"), then
 * C [m, n] = A [m, k] B [k, n], and C [m, n] (+)= A [m, k] B [n, k]^T,
 * row-major with the given leading dimensions. Only where available. */
gboolean grd_conv_wgemm_available (void);
void grd_conv_wgemm_nn_f32 (gint64 m, gint64 n, gint64 k, const float *a, gint64 lda,
                            const float *b, gint64 ldb, float *c, gint64 ldc);
void grd_conv_wgemm_nt_f32 (gint64 m, gint64 n, gint64 k, const float *a, gint64 lda,
                            const float *b, gint64 ldb, gboolean accumulate, float *c,
                            gint64 ldc);

G_END_DECLS
