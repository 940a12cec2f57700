/* gradus-run-worker.c: the run panel's calls, on a thread of their own.
 *
 * The thread appends each call's values to a pending batch under a lock and
 * queues one idle callback while none is queued: however fast the calls, the
 * main thread gets at most one batch per main-loop turn. Tensors that are not
 * scalars are copied only every few tens of milliseconds (and after the last
 * call), as the plots show only their latest value. */
#include "gradus-run-worker.h"

#include <glib/gi18n.h>
#include <math.h>

/* How often the latest non-scalar values are copied for the main thread. */
#define LATEST_INTERVAL_US 30000

struct _GradusRunWorker {
  gint               ref_count;   /* atomic: owner, thread, queued idles */
  GradusRunSetup     setup;       /* arrays are our copies */
  GradusRunBatchFunc on_batch;
  GradusRunDoneFunc  on_done;
  gpointer           user_data;
  gboolean           detached;    /* main thread only: no more callbacks */
  gint               stop;        /* atomic */
  GThread           *thread;
  gint               n_slots;

  GMutex             lock;        /* guards what follows */
  GradusRunBatch    *pending;
  gboolean           batch_queued;
  GradusRunResult    result;
  /* The thread's until the done callback, the main thread's after. */
  GrdTensor        **last_inputs;
  GrdTensor        **last_shared;
  gint64             last_step;
};

static void
free_tensors (GrdTensor **tensors, gint n)
{
  for (gint i = 0; tensors && i < n; i++)
    g_clear_pointer (&tensors[i], grd_tensor_unref);
}

static GradusRunWorker *
worker_ref (GradusRunWorker *w)
{
  g_atomic_int_inc (&w->ref_count);
  return w;
}

static void
batch_free (GradusRunBatch *batch)
{
  if (!batch)
    return;
  for (gint i = 0; i < batch->n_slots; i++) {
    g_array_unref (batch->scalars[i]);
    if (batch->latest[i])
      grd_tensor_unref (batch->latest[i]);
  }
  g_free (batch->scalars);
  g_free (batch->latest);
  g_free (batch);
}

static GradusRunBatch *
batch_new (gint n_slots, gint64 first_step)
{
  GradusRunBatch *batch = g_new0 (GradusRunBatch, 1);
  batch->n_slots = n_slots;
  batch->first_step = first_step;
  batch->scalars = g_new0 (GArray *, MAX (n_slots, 1));
  batch->latest = g_new0 (GrdTensor *, MAX (n_slots, 1));
  for (gint i = 0; i < n_slots; i++)
    batch->scalars[i] = g_array_new (FALSE, FALSE, sizeof (double));
  return batch;
}

static void
worker_unref (gpointer data)
{
  GradusRunWorker *w = data;
  if (!g_atomic_int_dec_and_test (&w->ref_count))
    return;
  batch_free (w->pending);
  g_clear_error (&w->result.error);
  g_free (w->result.nan_node);
  free_tensors (w->last_inputs, w->setup.n_inputs);
  free_tensors (w->last_shared, w->setup.n_shared);
  g_free (w->last_inputs);
  g_free (w->last_shared);
  g_free ((gpointer) w->setup.inputs);
  g_free ((gpointer) w->setup.roots);
  g_free ((gpointer) w->setup.shared);
  g_free ((gpointer) w->setup.also);
  g_mutex_clear (&w->lock);
  g_free (w);
}

gboolean
gradus_run_tensor_is_finite (const GrdTensor *t)
{
  if (!t)
    return TRUE;
  if (t->dtype == GRD_DTYPE_FLOAT32) {
    const float *p = t->data;
    for (gint64 i = 0; i < t->size; i++)
      if (!isfinite (p[i]))
        return FALSE;
  } else if (t->dtype == GRD_DTYPE_FLOAT64) {
    const double *p = t->data;
    for (gint64 i = 0; i < t->size; i++)
      if (!isfinite (p[i]))
        return FALSE;
  }
  return TRUE;
}

/* ---------------------------------------------------------------- main thread side */

static void
deliver_pending (GradusRunWorker *w)
{
  g_mutex_lock (&w->lock);
  GradusRunBatch *batch = g_steal_pointer (&w->pending);
  w->batch_queued = FALSE;
  g_mutex_unlock (&w->lock);
  if (batch && !w->detached && w->on_batch)
    w->on_batch (batch, w->user_data);
  batch_free (batch);
}

static gboolean
deliver_batch_idle (gpointer data)
{
  deliver_pending (data);
  return G_SOURCE_REMOVE;
}

static gboolean
deliver_done_idle (gpointer data)
{
  GradusRunWorker *w = data;
  deliver_pending (w);
  if (!w->detached && w->on_done)
    w->on_done (&w->result, w->user_data);
  return G_SOURCE_REMOVE;
}

/* ---------------------------------------------------------------- node values */

/* Which nodes can be computed from these inputs: variables that are inputs,
 * constants, shared variables, and ops (and grad nodes) whose inputs can. */
static gboolean *
computable_nodes (GrdGraph *graph, const GrdRef *inputs, gint n_inputs)
{
  gint n = grd_graph_n_nodes (graph);
  gboolean *ok = g_new0 (gboolean, MAX (n, 1));
  /* Graph order is an order of evaluation: a node's inputs come before it. */
  for (gint node = 0; node < n; node++) {
    switch (grd_graph_node_kind (graph, node)) {
    case GRD_NODE_VARIABLE:
      for (gint i = 0; i < n_inputs; i++)
        ok[node] = ok[node] || inputs[i].node == node;
      break;
    case GRD_NODE_CONSTANT:
    case GRD_NODE_SHARED:
      ok[node] = TRUE;
      break;
    case GRD_NODE_OP:
      ok[node] = TRUE;
      for (gint i = 0; i < grd_graph_node_n_inputs (graph, node); i++) {
        GrdRef r = grd_graph_node_input (graph, node, i);
        ok[node] = ok[node] && r.node >= 0 && r.node < node && ok[r.node];
      }
      break;
    case GRD_NODE_GRAD:
      ok[node] = TRUE;
      for (gint k = 0; k < grd_graph_node_n_outputs (graph, node); k++) {
        GrdRef r = grd_graph_grad_output (graph, node, k);
        ok[node] = ok[node] && r.node >= 0 && r.node < n && (r.node < node ? ok[r.node] : TRUE);
      }
      break;
    }
  }
  return ok;
}

/* The nodes the function computes: everything its outputs and updates read. */
static gboolean *
needed_nodes (GrdGraph *graph, const GrdRef *roots, gint n_roots)
{
  gint n = grd_graph_n_nodes (graph);
  gboolean *needed = g_new0 (gboolean, MAX (n, 1));
  g_autoptr (GArray) stack = g_array_new (FALSE, FALSE, sizeof (gint));
  for (gint i = 0; i < n_roots; i++)
    if (!grd_ref_is_none (roots[i]))
      g_array_append_val (stack, roots[i].node);
  while (stack->len > 0) {
    gint node = g_array_index (stack, gint, stack->len - 1);
    g_array_set_size (stack, stack->len - 1);
    if (node < 0 || node >= n || needed[node])
      continue;
    needed[node] = TRUE;
    if (grd_graph_node_kind (graph, node) == GRD_NODE_GRAD) {
      for (gint k = 0; k < grd_graph_node_n_outputs (graph, node); k++) {
        GrdRef r = grd_graph_grad_output (graph, node, k);
        if (!grd_ref_is_none (r))
          g_array_append_val (stack, r.node);
      }
    } else {
      for (gint i = 0; i < grd_graph_node_n_inputs (graph, node); i++) {
        GrdRef r = grd_graph_node_input (graph, node, i);
        if (!grd_ref_is_none (r))
          g_array_append_val (stack, r.node);
      }
    }
  }
  return needed;
}

/* Computes the op node outputs `refs` with these inputs and the shared
 * values `shared_values` (the graph's own are put back afterwards, and so
 * are its random streams: a look at the values must not move the run's
 * draws, or the next call would differ from `gradus run`'s). */
static GPtrArray *
eval_refs (GrdGraph *graph, const GrdRef *inputs, gint n_inputs, GrdTensor *const *input_values,
           const GrdRef *shared, gint n_shared, GrdTensor *const *shared_values, GArray *refs,
           GError **error)
{
  g_autoptr (GHashTable) streams = grd_graph_random_state (graph);
  g_autofree GrdTensor **after = g_new0 (GrdTensor *, MAX (n_shared, 1));
  gboolean ok = TRUE;
  for (gint i = 0; i < n_shared; i++) {
    after[i] = grd_tensor_ref (grd_graph_get_value (graph, shared[i]));
    if (ok && shared_values && shared_values[i])
      ok = grd_graph_set_value (graph, shared[i], shared_values[i], error);
  }
  GPtrArray *values = NULL;
  if (ok) {
    g_autoptr (GrdFunction) probe = grd_function_new (graph, inputs, n_inputs,
                                                      (GrdRef *) refs->data, refs->len,
                                                      NULL, 0, error);
    g_autofree GrdTensor **out = g_new0 (GrdTensor *, MAX (refs->len, 1));
    if (probe && grd_function_call (probe, input_values, out, error)) {
      values = g_ptr_array_new_with_free_func ((GDestroyNotify) grd_tensor_unref);
      for (guint i = 0; i < refs->len; i++)
        g_ptr_array_add (values, out[i]);
    }
  }
  for (gint i = 0; i < n_shared; i++) {
    grd_graph_set_value (graph, shared[i], after[i], NULL);
    grd_tensor_unref (after[i]);
  }
  grd_graph_random_set_state (graph, streams);
  return values;
}

char *
gradus_run_find_non_finite_node (GrdGraph *graph, const GrdRef *inputs, gint n_inputs,
                                 GrdTensor *const *input_values, const GrdRef *roots, gint n_roots,
                                 const GrdRef *shared, gint n_shared,
                                 GrdTensor *const *shared_values, GError **error)
{
  gint n = grd_graph_n_nodes (graph);
  g_autofree gboolean *needed = needed_nodes (graph, roots, n_roots);
  g_autoptr (GArray) refs = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  for (gint node = 0; node < n; node++) {
    if (!needed[node] || grd_graph_node_kind (graph, node) != GRD_NODE_OP)
      continue;
    for (gint k = 0; k < grd_graph_node_n_outputs (graph, node); k++) {
      const GrdType *type = grd_graph_node_type (graph, node, k);
      if (type && grd_dtype_is_float (type->dtype)) {
        GrdRef r = { node, k };
        g_array_append_val (refs, r);
      }
    }
  }
  if (refs->len == 0)
    return NULL;
  g_autoptr (GPtrArray) values = eval_refs (graph, inputs, n_inputs, input_values, shared,
                                            n_shared, shared_values, refs, error);
  /* In graph order, the first op whose value is not finite made it. */
  for (guint i = 0; values && i < values->len; i++)
    if (!gradus_run_tensor_is_finite (g_ptr_array_index (values, i)))
      return g_strdup (grd_graph_node_id (graph, g_array_index (refs, GrdRef, i).node));
  return NULL;
}

static char *
ref_key (GrdGraph *graph, gint node, gint output)
{
  const char *id = grd_graph_node_id (graph, node);
  return output == 0 ? g_strdup (id) : g_strdup_printf ("%s:%d", id, output);
}

GHashTable *
gradus_run_eval_nodes (GrdGraph *graph, const GrdRef *inputs, gint n_inputs,
                       GrdTensor *const *input_values, const GrdRef *shared, gint n_shared,
                       GrdTensor *const *shared_values, GError **error)
{
  gint n = grd_graph_n_nodes (graph);
  g_autofree gboolean *ok = computable_nodes (graph, inputs, n_inputs);
  GHashTable *table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                             (GDestroyNotify) grd_tensor_unref);
  g_autoptr (GArray) refs = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  for (gint node = 0; node < n; node++)
    if (ok[node] && grd_graph_node_kind (graph, node) == GRD_NODE_OP)
      for (gint k = 0; k < grd_graph_node_n_outputs (graph, node); k++) {
        GrdRef r = { node, k };
        g_array_append_val (refs, r);
      }
  if (refs->len > 0) {
    g_autoptr (GPtrArray) values = eval_refs (graph, inputs, n_inputs, input_values, shared,
                                              n_shared, shared_values, refs, error);
    if (!values) {
      g_hash_table_unref (table);
      return NULL;
    }
    for (guint i = 0; i < refs->len; i++) {
      GrdRef r = g_array_index (refs, GrdRef, i);
      g_hash_table_insert (table, ref_key (graph, r.node, r.output),
                           grd_tensor_ref (g_ptr_array_index (values, i)));
    }
  }
  /* Inputs, constants and shared variables (as they were for this call). */
  for (gint i = 0; i < n_inputs; i++)
    if (input_values[i])
      g_hash_table_insert (table, ref_key (graph, inputs[i].node, 0),
                           grd_tensor_ref (input_values[i]));
  for (gint node = 0; node < n; node++) {
    GrdNodeKind kind = grd_graph_node_kind (graph, node);
    if (kind == GRD_NODE_CONSTANT || kind == GRD_NODE_SHARED) {
      GrdTensor *v = grd_graph_get_value (graph, (GrdRef) { node, 0 });
      for (gint i = 0; kind == GRD_NODE_SHARED && i < n_shared; i++)
        if (shared[i].node == node && shared_values && shared_values[i])
          v = shared_values[i];
      if (v)
        g_hash_table_insert (table, ref_key (graph, node, 0), grd_tensor_ref (v));
    }
  }
  /* Grad node outputs ("g:0") are the values of the nodes they point to. */
  for (gint node = 0; node < n; node++) {
    if (grd_graph_node_kind (graph, node) != GRD_NODE_GRAD)
      continue;
    for (gint k = 0; k < grd_graph_node_n_outputs (graph, node); k++) {
      GrdRef r = grd_graph_grad_output (graph, node, k);
      if (grd_ref_is_none (r))
        continue;
      g_autofree char *target = ref_key (graph, r.node, r.output);
      GrdTensor *v = g_hash_table_lookup (table, target);
      if (v)
        g_hash_table_insert (table, g_strdup_printf ("%s:%d", grd_graph_node_id (graph, node), k),
                             grd_tensor_ref (v));
    }
  }
  return table;
}

/* ---------------------------------------------------------------- the thread */

static void
queue_batch_locked (GradusRunWorker *w)
{
  if (!w->batch_queued) {
    w->batch_queued = TRUE;
    g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, deliver_batch_idle, worker_ref (w), worker_unref);
  }
}

/* run.also after main call `step`: each function whose turn it is is called
 * with its own feeds (call number: how many times it was called before);
 * its outputs go to `values` (new references; NULL where not called). */
static gboolean
call_also (GradusRunWorker *w, gint64 step, GrdTensor **values, GError **error)
{
  const GradusRunSetup *s = &w->setup;
  for (gint a = 0; a < s->n_also; a++) {
    const GradusRunAlso *also = &s->also[a];
    gint n_in = grd_function_n_inputs (also->fn), n_out = grd_function_n_outputs (also->fn);
    if ((step + 1) % also->every == 0) {
      gint64 call = (step + 1) / also->every - 1;
      g_autofree GrdTensor **inputs = g_new0 (GrdTensor *, MAX (n_in, 1));
      gboolean ok = TRUE;
      for (gint j = 0; j < n_in && ok; j++)
        ok = (inputs[j] = grd_feed_next (g_ptr_array_index (also->feeds, j), call, error)) != NULL;
      ok = ok && grd_function_call (also->fn, inputs, values, error)
           && grd_function_sync (also->fn, error);
      for (gint j = 0; j < n_in; j++)
        g_clear_pointer (&inputs[j], grd_tensor_unref);
      if (!ok) {
        g_prefix_error (error, _("call %lld, also function %d: "), (long long) step, a + 1);
        return FALSE;
      }
    }
    values += n_out;
  }
  return TRUE;
}

static gpointer
worker_main (gpointer data)
{
  GradusRunWorker *w = data;
  const GradusRunSetup *s = &w->setup;
  gint n_in = s->n_inputs, n_out = grd_function_n_outputs (s->fn), n_sh = s->n_shared;
  g_autofree GrdTensor **inputs = g_new0 (GrdTensor *, MAX (n_in, 1));
  g_autofree GrdTensor **outputs = g_new0 (GrdTensor *, MAX (n_out, 1));
  g_autofree GrdTensor **before = g_new0 (GrdTensor *, MAX (n_sh, 1));
  g_autofree GrdTensor **values = g_new0 (GrdTensor *, MAX (w->n_slots, 1));
  GradusRunResult result = { .end = GRADUS_RUN_COMPLETED, .nan_slot = -1, .nan_step = -1 };
  gint64 t0 = g_get_monotonic_time (), last_latest = G_MININT64 / 2;

  for (gint64 i = 0; i < s->n_steps; i++) {
    if (g_atomic_int_get (&w->stop)) {
      result.end = GRADUS_RUN_PAUSED;
      break;
    }
    gint64 step = s->first_step + i;
    GError *error = NULL;
    for (gint j = 0; j < n_in && !error; j++)
      inputs[j] = grd_feed_next (g_ptr_array_index (s->feeds, j), step, &error);
    /* The shared values before the call: for the NaN probe and for the
     * values of every node of the last call (the canvas's live values). */
    for (gint j = 0; j < n_sh && !error; j++)
      before[j] = grd_tensor_copy (grd_graph_get_value (s->graph, s->shared[j]));
    if (!error && grd_function_call (s->fn, inputs, outputs, &error))
      grd_function_sync (s->fn, &error);
    if (error) {
      g_prefix_error (&error, _("call %lld: "), (long long) step);
      result.end = GRADUS_RUN_FAILED;
      result.error = error;
    } else {
      result.n_calls++;
      for (gint j = 0; j < n_out; j++)
        values[j] = outputs[j];
      for (gint j = 0; j < n_sh; j++)
        values[n_out + j] = grd_graph_get_value (s->graph, s->shared[j]);
      for (gint j = n_out + n_sh; j < w->n_slots; j++)
        values[j] = NULL;
      if (!call_also (w, step, values + n_out + n_sh, &error)) {
        result.end = GRADUS_RUN_FAILED;
        result.error = error;
      }
      /* The guard watches the main function (its probe knows only that one). */
      if (s->nan_guard)
        for (gint j = 0; j < n_out + n_sh && result.nan_slot < 0; j++)
          if (!gradus_run_tensor_is_finite (values[j])) {
            result.nan_slot = j;
            result.nan_step = step;
          }
      gint64 now = g_get_monotonic_time ();
      gboolean copy_latest = i == s->n_steps - 1 || result.nan_slot >= 0
                             || g_atomic_int_get (&w->stop) || now - last_latest >= LATEST_INTERVAL_US;
      if (copy_latest)
        last_latest = now;

      g_mutex_lock (&w->lock);
      if (!w->pending)
        w->pending = batch_new (w->n_slots, step);
      w->pending->n_calls++;
      for (gint j = 0; j < w->n_slots; j++) {
        GrdTensor *v = values[j];
        if (v && v->size == 1) {
          double x = grd_tensor_get (v, 0);
          g_array_append_val (w->pending->scalars[j], x);
        } else if (!v && j >= n_out + n_sh) {
          /* an also function not called after this call */
          double gap = NAN;
          g_array_append_val (w->pending->scalars[j], gap);
        }
        if (copy_latest && v) {
          if (w->pending->latest[j])
            grd_tensor_unref (w->pending->latest[j]);
          w->pending->latest[j] = j < n_out || j >= n_out + n_sh ? grd_tensor_ref (v)
                                                                 : grd_tensor_copy (v);
        }
      }
      for (gint j = n_out + n_sh; j < w->n_slots; j++)
        g_clear_pointer (&values[j], grd_tensor_unref);
      queue_batch_locked (w);
      g_mutex_unlock (&w->lock);

      if (result.nan_slot >= 0) {
        result.end = GRADUS_RUN_NON_FINITE;
        result.nan_node = gradus_run_find_non_finite_node (s->graph, s->inputs, s->n_inputs,
                                                           inputs, s->roots, s->n_roots, s->shared,
                                                           n_sh, before, NULL);
      }
    }
    if (!result.error) {
      /* Keep this call's inputs and shared values as the last call's. */
      free_tensors (w->last_inputs, n_in);
      free_tensors (w->last_shared, n_sh);
      for (gint j = 0; j < n_in; j++)
        w->last_inputs[j] = g_steal_pointer (&inputs[j]);
      for (gint j = 0; j < n_sh; j++)
        w->last_shared[j] = g_steal_pointer (&before[j]);
      w->last_step = step;
    }
    for (gint j = 0; j < n_in; j++)
      g_clear_pointer (&inputs[j], grd_tensor_unref);
    for (gint j = 0; j < n_out; j++)
      g_clear_pointer (&outputs[j], grd_tensor_unref);
    for (gint j = 0; j < n_sh; j++)
      g_clear_pointer (&before[j], grd_tensor_unref);
    if (result.end != GRADUS_RUN_COMPLETED)
      break;
  }
  result.seconds = (g_get_monotonic_time () - t0) / 1e6;

  g_mutex_lock (&w->lock);
  w->result = result;
  g_mutex_unlock (&w->lock);
  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, deliver_done_idle, worker_ref (w), worker_unref);
  worker_unref (w);
  return NULL;
}

GradusRunWorker *
gradus_run_worker_start (const GradusRunSetup *setup, GradusRunBatchFunc on_batch,
                         GradusRunDoneFunc on_done, gpointer user_data)
{
  GradusRunWorker *w = g_new0 (GradusRunWorker, 1);
  w->ref_count = 1;
  w->setup = *setup;
  w->setup.inputs = g_memdup2 (setup->inputs, sizeof (GrdRef) * MAX (setup->n_inputs, 0));
  w->setup.roots = g_memdup2 (setup->roots, sizeof (GrdRef) * MAX (setup->n_roots, 0));
  w->setup.shared = g_memdup2 (setup->shared, sizeof (GrdRef) * MAX (setup->n_shared, 0));
  w->on_batch = on_batch;
  w->on_done = on_done;
  w->user_data = user_data;
  w->n_slots = grd_function_n_outputs (setup->fn) + setup->n_shared;
  w->setup.also = g_memdup2 (setup->also, sizeof (GradusRunAlso) * MAX (setup->n_also, 0));
  for (gint i = 0; i < setup->n_also; i++)
    w->n_slots += grd_function_n_outputs (setup->also[i].fn);
  w->result.nan_slot = -1;
  w->last_inputs = g_new0 (GrdTensor *, MAX (setup->n_inputs, 1));
  w->last_shared = g_new0 (GrdTensor *, MAX (setup->n_shared, 1));
  w->last_step = -1;
  g_mutex_init (&w->lock);
  w->thread = g_thread_new ("gradus-run", worker_main, worker_ref (w));
  return w;
}

void
gradus_run_worker_pause (GradusRunWorker *worker)
{
  g_atomic_int_set (&worker->stop, 1);
}

gint64
gradus_run_worker_take_last_call (GradusRunWorker *worker, GrdTensor ***inputs,
                                  GrdTensor ***shared)
{
  *inputs = g_steal_pointer (&worker->last_inputs);
  *shared = g_steal_pointer (&worker->last_shared);
  worker->last_inputs = g_new0 (GrdTensor *, MAX (worker->setup.n_inputs, 1));
  worker->last_shared = g_new0 (GrdTensor *, MAX (worker->setup.n_shared, 1));
  return worker->last_step;
}

void
gradus_run_worker_free (GradusRunWorker *worker)
{
  if (!worker)
    return;
  worker->detached = TRUE;
  g_atomic_int_set (&worker->stop, 1);
  g_thread_join (g_steal_pointer (&worker->thread));
  worker_unref (worker);
}
