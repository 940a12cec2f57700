/* grd-conv.h: the CPU compiler's convolution kernels: conv2d and its two
 * gradient ops as BLAS gemm over an im2col layout (grd-conv.c). */
#pragma once

#include "grd-program.h"

G_BEGIN_DECLS

/* Whether the kernel pass gives this instruction a gemm kernel
 * (conv2d, _conv2d_grad_input, _conv2d_grad_filters of one float dtype). */
gboolean grd_conv_kernel_fits (GrdProgram *prog, GrdInstr *ins);
gint     grd_conv_kernel_shape (GrdInstr *ins, GrdTensor *const *in, gint64 *shape);
gboolean grd_conv_kernel_run (GrdInstr *ins, GrdTensor *const *in, GrdTensor **out,
                              GError **error);

/* The same kernels called directly, for benchmarks: `op` is one of the three
 * names; *out is reused when it fits; *gemm_us (when not NULL) receives the
 * microseconds spent in BLAS. */
gboolean grd_conv_gemm (const char *op, const GrdAttrs *attrs, GrdTensor *const *in,
                        GrdTensor **out, double *gemm_us, GError **error);

/* _reduce_to of float gradients for any broadcast pattern (conv biases). */
gboolean grd_conv_reduce_fits (GrdProgram *prog, GrdInstr *ins);
/* fits, and the reduce kernels would give it to the reference kernel */
gboolean grd_conv_reduce_wants (GrdProgram *prog, GrdInstr *ins);
gboolean grd_conv_reduce_run (GrdInstr *ins, GrdTensor *const *in, GrdTensor **out,
                              GError **error);

/* Microseconds all calls of these kernels spent in BLAS so far (for benchmarks). */
guint64  grd_conv_gemm_us_total (void);
void     grd_conv_gemm_add_us (gint64 us);

G_END_DECLS
