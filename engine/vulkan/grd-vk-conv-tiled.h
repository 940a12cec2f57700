/* grd-vk-conv-tiled.h: the tiled conv kernels of grd-vk-conv-tiled.c. */
#pragma once

#include "grd-vk-private.h"
#include "../ops/ops-conv.h"

G_BEGIN_DECLS

/* Records conv2d, _conv2d_grad_input or _conv2d_grad_filters (`op`) of
 * geometry g reading b0, b1 (the simple kernel's order) into c->out_buf. */
gboolean grd_vk_conv_tiled (GrdVkExtCall *c, const char *op, const GrdConvGeom *g,
                            GrdVkBuffer *b0, GrdVkBuffer *b1, GError **error);

G_END_DECLS
