/* grd-pytorch-private.h: what the PyTorch exporter's files share. */
#pragma once

#include "../../grd-internal.h"

G_BEGIN_DECLS

/* "torch.float32" and so on. */
const char *pytorch_dtype (GrdDType dtype);

/* The Python expression that computes op node `node` from the expressions
 * `in` of its inputs (of static types `in_types`); NULL with an error naming
 * the node when the op has no PyTorch form here. */
char *pytorch_op_expr (const GrdNode *node, char *const *in, const GrdType *const *in_types,
                       GError **error);

/* The Python helpers the scripts start with (preamble.py, embedded). */
extern const char grd_pytorch_preamble[];

G_END_DECLS
