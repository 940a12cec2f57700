/* ops-conv.h: the geometry of conv2d and pool_2d, shared by the reference
 * kernels (ops/ops-conv.c, ops/ops-pool.c) and the compiler's gemm kernels
 * (compile/grd-conv.c). */
#pragma once

#include "../grd-internal.h"

G_BEGIN_DECLS

/* One 2-d convolution: input [n, c, h, w], filters [o, cg, kh, kw] with
 * cg = c / groups, output [n, o, oh, ow]. Output (i, j) reads input rows
 * i * sh + a * dh - ph for filter row a (columns likewise); with `flip` the
 * filter is used turned by 180 degrees (Theano's convolution). */
typedef struct {
  gint64   n, c, h, w;
  gint64   o, cg, kh, kw;
  gint64   groups, og;     /* og = o / groups: output channels per group */
  gint64   ph, pw, sh, sw, dh, dw;
  gint64   oh, ow;
  gboolean flip;
} GrdConvGeom;

/* The geometry of conv2d(x, w) for those shapes; an error says what does not fit. */
gboolean grd_conv_geom (const GrdAttrs *attrs, const gint64 *x_shape, const gint64 *w_shape,
                        GrdConvGeom *geom, GError **error);

/* The flat filter index of tap (a, b) of filter plane `plane` = o * cg + c. */
static inline gint64
grd_conv_tap (const GrdConvGeom *g, gint64 plane, gint64 a, gint64 b)
{
  if (g->flip) {
    a = g->kh - 1 - a;
    b = g->kw - 1 - b;
  }
  return (plane * g->kh + a) * g->kw + b;
}

/* One pooling over the last two axes of [..., h, w]: `planes` planes,
 * output [..., oh, ow]. */
typedef struct {
  gint64   planes, h, w;
  gint64   wh, ww, sh, sw, ph, pw;
  gint64   oh, ow;
  gint     mode;           /* GrdPoolMode */
} GrdPoolGeom;

gboolean grd_pool_geom (const GrdAttrs *attrs, gint rank, const gint64 *x_shape,
                        GrdPoolGeom *geom, GError **error);
/* The window of output (i, j), clipped as Theano's pool_2d clips it, in
 * input coordinates [r0, r1) x [c0, c1); `count` is the divisor of the
 * average modes. */
/* _pool_2d_argmax (x), _pool_2d_take (x, idx) or _pool_2d_scatter (x, idx, gy)
 * by n_in (ops-pool.c); *out is reused when nobody else holds it and it fits. */
gboolean grd_pool_argmax_kernel (const GrdAttrs *attrs, gint n_in, GrdTensor *const *in,
                                 GrdTensor **out, GError **error);
void     grd_pool_window (const GrdPoolGeom *g, gint64 i, gint64 j, gint64 *r0, gint64 *r1,
                          gint64 *c0, gint64 *c1, gint64 *count);

G_END_DECLS
