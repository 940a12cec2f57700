/* grd-parallel.c: the engine's worker threads for large loops.
 *
 * A process-wide pool made on first use (a documented cache). Workers block
 * on a condition variable between jobs instead of spinning: spinning workers
 * took the cores that OpenBLAS's own threads needed (NOTES.md). Jobs are
 * split into tasks taken from an atomic counter; the caller works too. */
#include "grd-fuse.h"

#include <stdlib.h>

typedef struct {
  GMutex          lock;
  GCond           wake, done;
  gint            n_workers;
  guint64         generation;   /* bumped for every job */
  GrdParallelFunc fn;
  gpointer        data;
  gint            n_tasks;
  gint            next_task;    /* atomic */
  gint            busy;         /* workers still inside the job */
  GMutex          job_lock;     /* one job at a time */
} Pool;

static Pool *pool;

static void
run_tasks (Pool *p, GrdParallelFunc fn, gpointer data, gint n_tasks)
{
  for (;;) {
    gint t = g_atomic_int_add (&p->next_task, 1);
    if (t >= n_tasks)
      break;
    fn (data, t);
  }
}

static gpointer
worker (gpointer arg)
{
  Pool *p = arg;
  guint64 seen = 0;
  for (;;) {
    g_mutex_lock (&p->lock);
    while (p->generation == seen)
      g_cond_wait (&p->wake, &p->lock);
    seen = p->generation;
    GrdParallelFunc fn = p->fn;
    gpointer data = p->data;
    gint n_tasks = p->n_tasks;
    g_mutex_unlock (&p->lock);
    run_tasks (p, fn, data, n_tasks);
    g_mutex_lock (&p->lock);
    if (--p->busy == 0)
      g_cond_signal (&p->done);
    g_mutex_unlock (&p->lock);
  }
  return NULL;
}

static Pool *
get_pool (void)
{
  static gsize once = 0;
  if (g_once_init_enter (&once)) {
    Pool *p = g_new0 (Pool, 1);
    g_mutex_init (&p->lock);
    g_mutex_init (&p->job_lock);
    g_cond_init (&p->wake);
    g_cond_init (&p->done);
    gint n = g_get_num_processors ();
    const char *env = g_getenv ("GRADUS_THREADS");
    if (env && atoi (env) > 0)
      n = atoi (env);
    p->n_workers = CLAMP (n, 1, 64) - 1;
    for (gint i = 0; i < p->n_workers; i++)
      g_thread_unref (g_thread_new ("gradus-worker", worker, p));
    pool = p;
    g_once_init_leave (&once, 1);
  }
  return pool;
}

gint
grd_parallel_n_threads (void)
{
  return get_pool ()->n_workers + 1;
}

void
grd_parallel_for (gint n_tasks, GrdParallelFunc fn, gpointer data)
{
  Pool *p = get_pool ();
  if (n_tasks <= 1 || p->n_workers == 0 || !g_mutex_trylock (&p->job_lock)) {
    /* one task, no workers, or a job already running (nested or from another
     * thread): do it here */
    for (gint t = 0; t < n_tasks; t++)
      fn (data, t);
    return;
  }
  g_mutex_lock (&p->lock);
  p->fn = fn;
  p->data = data;
  p->n_tasks = n_tasks;
  g_atomic_int_set (&p->next_task, 0);
  p->busy = p->n_workers;
  p->generation++;
  g_cond_broadcast (&p->wake);
  g_mutex_unlock (&p->lock);
  run_tasks (p, fn, data, n_tasks);
  g_mutex_lock (&p->lock);
  while (p->busy > 0)
    g_cond_wait (&p->done, &p->lock);
  g_mutex_unlock (&p->lock);
  g_mutex_unlock (&p->job_lock);
}
