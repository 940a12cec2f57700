/* grd-pytorch-private.h: what the PyTorch exporter's files share. */
#pragma once

#include "../../grd-internal.h"

G_BEGIN_DECLS

typedef struct {
  GrdDocument *doc;
  GrdGraph    *graph;
  GString     *out;
  GString     *defs;         /* functions of scan bodies and ifelse branches */
  char        *data_dir;     /* OUT.data, beside the script */
  char        *data_name;    /* its base name */
  GHashTable  *py_names;     /* "node:output" -> Python name */
  GHashTable  *used;         /* Python names taken */
  GHashTable  *grad_of;      /* "node:output" of an alias -> "grad:i" */
} Script;

/* A value as Python at the end of s->out: a literal for small values, else
 * load() of a .npy file written to the data folder as `file_stem`.npy. */
gboolean pytorch_append_value (Script *s, const char *file_stem, const GrdTensor *t,
                               GError **error);

/* Nodes with graphs of their own, and the taps of scan sequences
 * (grd-pytorch-control.c): _scan as a Python loop, ifelse as an if, each
 * graph a function added to s->defs; the expression calls it. */
gboolean pytorch_is_control (const GrdNode *node);
char    *pytorch_control_expr (Script *s, const GrdNode *node, char *const *in, GError **error);

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
