/* gradus-teach-trace.h: one call of the function, node by node, for the
 * classroom: the forward pass in topological order, then the backward pass
 * (the chain rule, node by node, from the cost back to what the grad node
 * differentiates), then the nodes that use the gradient (the update).
 *
 * Every number is the engine's: the forward values and every node's gradient
 * come from one evaluation of the document with an extra grad node (d cost /
 * d every node on the way); the local derivative of an op and the value it
 * sends back to each input come from the engine's gradient of that op alone
 * (a vector-Jacobian product). The UI only writes them down. */
#pragma once

#include "gradus-doc-model.h"

G_BEGIN_DECLS

typedef enum {
  GRADUS_TEACH_FORWARD,
  GRADUS_TEACH_BACKWARD,
  GRADUS_TEACH_AFTER,      /* nodes that use the gradient: the update */
} GradusTeachPhase;

typedef struct {
  GradusTeachPhase phase;
  char      *node;       /* the node highlighted */
  char      *heading;    /* "ax = a × x" */
  char      *text;       /* the lines shown, numbers put in (backward: built when first asked) */
  GrdTensor *value;      /* forward: the node's value; backward: its gradient */
  /* Backward steps: the inputs the node sends a gradient to, and what it sends
   * (d cost / d node times the local derivative), set with the text. */
  GPtrArray *sent_to;    /* char* input references */
  GPtrArray *sent;       /* GrdTensor* */
  GPtrArray *local;      /* GrdTensor*: the local derivatives (vector-Jacobian product with ones) */
} GradusTeachStep;

typedef struct _GradusTeachTrace GradusTeachTrace;

/* The trace of one call. `live` (may be NULL): the run panel's values of its
 * last call (gradus_canvas_get_live_values()), whose inputs and shared values
 * are used; without it, the call's inputs come from run.feeds (call 1) and
 * the shared variables have their values in the file. `grad_id`: the grad
 * node whose cost and wrt are followed (NULL: the only or first one; without
 * any, the function's first output is the cost and its shared variables the
 * wrt). */
/* `call`: the live values' call, counted from 0 as the run panel does. */
GradusTeachTrace *gradus_teach_trace_new (GradusDocModel *model, GHashTable *live,
                                          gint64 call, const char *grad_id, GError **error);
void              gradus_teach_trace_free (GradusTeachTrace *trace);

const char       *gradus_teach_trace_cost (GradusTeachTrace *trace);
/* Which call it is, in words: "call 1, inputs from run.feeds". */
const char       *gradus_teach_trace_source (GradusTeachTrace *trace);
guint             gradus_teach_trace_n_steps (GradusTeachTrace *trace);
/* The step, its text filled in (backward steps are computed when first
 * asked); NULL past the end. On an engine error the text says so. */
GradusTeachStep  *gradus_teach_trace_step (GradusTeachTrace *trace, guint i);
/* The index of the step of that phase at node `id`, or -1 (fills nothing in). */
gint              gradus_teach_trace_find (GradusTeachTrace *trace, const char *id,
                                           GradusTeachPhase phase);
/* The value a wire carries ("id", "id:k", "g:k"), or NULL. Borrowed. */
GrdTensor        *gradus_teach_trace_value (GradusTeachTrace *trace, const char *ref);
/* d cost / d node for a node on the way from the wrt to the cost, or NULL. Borrowed. */
GrdTensor        *gradus_teach_trace_grad (GradusTeachTrace *trace, const char *id);

/* A value as the classroom reads it: "-12" for a scalar (6 digits), "[1, 2, 3]"
 * (3 digits each) for up to
 * GRADUS_TEACH_SMALL elements, else "float64[28,28]". Free with g_free. */
#define GRADUS_TEACH_SMALL 6
char             *gradus_teach_format (const GrdTensor *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GradusTeachTrace, gradus_teach_trace_free)

G_END_DECLS
