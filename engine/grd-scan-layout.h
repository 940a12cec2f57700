/* grd-scan-layout.h: read-only views of the sub-graphs of `_scan` and
 * `ifelse` nodes, for back ends that run them in their own way (the Vulkan
 * back end). The pointers belong to the node's attributes. */
#pragma once

#include "grd-internal.h"

G_BEGIN_DECLS

typedef struct {
  GrdGraph       *body;
  const GrdRef   *body_inputs;    /* seqs, state taps (output order), non-seqs */
  gint            n_body_inputs;
  const GrdRef   *body_outputs;
  gint            n_out;
  gint            n_seq, n_state, n_nonseq;
  const gint     *out_ntaps;      /* per output, 0 when not fed back */
  const gint     *out_taps;       /* per output GRD_SCAN_MAX_TAPS entries */
  gboolean        has_n_steps_input;
  gint64          n_steps;        /* fixed, or -1 */
  gboolean        reverse;
  const gboolean *last_only;      /* NULL or per output */
} GrdScanLayout;

/* FALSE when `node` is no `_scan` node. */
gboolean grd_scan_layout (const GrdNode *node, GrdScanLayout *out);

typedef struct {
  GrdGraph     *branch[2];  /* then, else */
  const GrdRef *args[2];    /* per branch: one variable per node input after the condition */
  gint          n_args;
  const GrdRef *outs[2];
  gint          n_out;
} GrdIfElseLayout;

/* FALSE when `node` is no `ifelse` node. */
gboolean grd_ifelse_layout (const GrdNode *node, GrdIfElseLayout *out);

G_END_DECLS
