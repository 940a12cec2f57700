/* gradus-run-worker.h: calls a compiled function on a worker thread.
 *
 * While it runs the worker owns the function, its graph and the feeds: the
 * main thread must not touch them until the done callback. Results reach the
 * main thread in batches, through idle callbacks of the default main context,
 * so that a fast function does not flood the UI. */
#pragma once

#include "gradus.h"

G_BEGIN_DECLS

typedef struct _GradusRunWorker GradusRunWorker;

/* run.also: another function called after every `every`-th call of the main
 * one (after calls every - 1, 2 every - 1, ...), with its own feeds. */
typedef struct {
  GrdFunction   *fn;
  GPtrArray     *feeds;        /* GrdFeed*, one per input of fn */
  gint           every;
} GradusRunAlso;

typedef struct {
  GrdGraph      *graph;
  GrdFunction   *fn;
  GPtrArray     *feeds;        /* GrdFeed*, one per input */
  const GrdRef  *inputs;       /* the function's inputs (for the NaN probe) */
  gint           n_inputs;
  const GrdRef  *roots;        /* its outputs and update values (for the NaN probe) */
  gint           n_roots;
  const GrdRef  *shared;       /* shared variables reported after each call */
  gint           n_shared;
  gint64         first_step;   /* call number of the first call (feeds use it) */
  gint64         n_steps;
  gboolean       nan_guard;
  const GradusRunAlso *also;   /* n_also of them, owned by the caller like fn */
  gint           n_also;
} GradusRunSetup;

/* What happened since the previous batch. Slots are the function's outputs,
 * then the shared variables of the setup, then the outputs of each also
 * function: one value per main call there too, NaN after the calls where it
 * was not called. */
typedef struct {
  gint64      first_step;
  gint64      n_calls;
  gint        n_slots;
  GArray    **scalars;  /* per slot: one double per call; empty for non-scalars */
  GrdTensor **latest;   /* per slot: the value after the batch's last call, or NULL */
} GradusRunBatch;

typedef enum {
  GRADUS_RUN_COMPLETED,
  GRADUS_RUN_PAUSED,
  GRADUS_RUN_FAILED,
  GRADUS_RUN_NON_FINITE,
} GradusRunEnd;

typedef struct {
  GradusRunEnd end;
  gint64       n_calls;     /* calls made by this run */
  double       seconds;
  GError      *error;       /* FAILED */
  gint         nan_slot;    /* NON_FINITE: the first slot with a non-finite value */
  gint64       nan_step;    /* ... at this call number */
  char        *nan_node;    /* ... first op node that produced one (NULL if none found) */
} GradusRunResult;

typedef void (*GradusRunBatchFunc) (const GradusRunBatch *batch, gpointer user_data);
typedef void (*GradusRunDoneFunc) (const GradusRunResult *result, gpointer user_data);

/* Starts the thread. The callbacks run on the main thread; the batch callback
 * always sees every call before the done callback runs. */
GradusRunWorker *gradus_run_worker_start (const GradusRunSetup *setup,
                                          GradusRunBatchFunc on_batch,
                                          GradusRunDoneFunc on_done, gpointer user_data);
/* Asks the thread to stop after the current call; returns at once. */
void             gradus_run_worker_pause (GradusRunWorker *worker);
/* After the done callback: the inputs and the shared values before the call
 * (arrays of n_inputs and n_shared new references, free both) of the last call
 * made, and its call number (-1 when none was made). */
gint64           gradus_run_worker_take_last_call (GradusRunWorker *worker, GrdTensor ***inputs,
                                                   GrdTensor ***shared);
/* Stops the thread, waits for it, and drops callbacks not yet run. After the
 * done callback this returns at once. */
void             gradus_run_worker_free (GradusRunWorker *worker);

/* The first op node (in graph order) among those the function computes that
 * gives a non-finite value for these inputs and shared values. Compiles every
 * such node as an output of a helper function on the CPU. The graph's shared
 * values are restored afterwards. NULL when none does (or on error). */
char *gradus_run_find_non_finite_node (GrdGraph *graph, const GrdRef *inputs, gint n_inputs,
                                       GrdTensor *const *input_values, const GrdRef *roots,
                                       gint n_roots, const GrdRef *shared, gint n_shared,
                                       GrdTensor *const *shared_values, GError **error);

/* The value of every node output that these inputs can compute, for these
 * shared values: keys "id" (output 0) and "id:k", grad outputs "g:k" too;
 * values are new references. The graph's shared values are restored. */
GHashTable *gradus_run_eval_nodes (GrdGraph *graph, const GrdRef *inputs, gint n_inputs,
                                   GrdTensor *const *input_values, const GrdRef *shared,
                                   gint n_shared, GrdTensor *const *shared_values, GError **error);

gboolean gradus_run_tensor_is_finite (const GrdTensor *t);

G_END_DECLS
