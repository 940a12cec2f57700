/* grd-vk-conv-tiled.h: the tiled conv kernels of grd-vk-conv-tiled.c. */
#pragma once

#include "grd-vk-function-private.h"
#include "../ops/ops-conv.h"

G_BEGIN_DECLS

/* "#define"s of the geometry (N, C, H, W, O, CG, OG, KH, KW, PH, PW, SH, SW,
 * DH, DW, OH, OW and TAP, which flips the taps when g->flip), for the simple
 * kernels of grd-vk-conv.c and the tiled ones. */
void     grd_vk_conv_defines (GString *s, const GrdConvGeom *g);

/* Records conv2d, _conv2d_grad_input or _conv2d_grad_filters (`op`) of
 * geometry g reading b0, b1 (the simple kernel's order) into c->out_buf.
 * With `epi` (conv2d and _conv2d_grad_input only): an elementwise program
 * over the 4-D output whose leaf `self` is the conv's result; its other
 * leaves are read, its body applied, and `res` stored instead. */
gboolean grd_vk_conv_tiled (GrdVkExtCall *c, const char *op, const GrdConvGeom *g,
                            GrdVkBuffer *b0, GrdVkBuffer *b1, const GrdVkEw *epi, gint self,
                            GError **error);

/* conv2d or _conv2d_grad_input of c->node with the epilogue `epi` (above),
 * the tiled kernel whatever GRADUS_VULKAN_CONV says. */
gboolean grd_vk_conv_record_epilogue (GrdVkExtCall *c, const GrdVkEw *epi, gint self,
                                      GError **error);

G_END_DECLS
