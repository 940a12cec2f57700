/* rg-gen.c: grows a random well-typed graph from a few inputs.
 *
 * Inputs: one to three float64 tensors (ranks 0 to 4, some with dims unknown
 * until the call, some shared variables), sometimes an integer and a bool
 * input. Then `depth` op steps: a table row drawn at random picks its
 * operands from the pool, newest first so that chains grow deep; a row that
 * does not apply, or whose node the engine refuses, is simply redrawn. */
#include "randgraph.h"

#include <math.h>
#include <string.h>

double
rg_uniform (RgGen *gen, double lo, double hi)
{
  return lo + (hi - lo) * grd_random_uniform (&gen->rng);
}

gint
rg_int (RgGen *gen, gint lo, gint hi)
{
  return lo + (gint) (grd_random_next (&gen->rng) % (guint64) (hi - lo + 1));
}

gboolean
rg_chance (RgGen *gen, double p)
{
  return grd_random_uniform (&gen->rng) < p;
}

gint64
rg_size (gint rank, const gint64 *shape)
{
  gint64 n = 1;
  for (gint d = 0; d < rank; d++)
    n *= shape[d];
  return n;
}

static gboolean
kind_matches (char kind, GrdDType dt)
{
  switch (kind) {
  case 'f':
    return grd_dtype_is_float (dt);
  case 'i':
    return dt == GRD_DTYPE_INT32 || dt == GRD_DTYPE_INT64;
  case 'b':
    return dt == GRD_DTYPE_BOOL;
  default:
    return TRUE;
  }
}

const RgVal *
rg_pick (RgGen *gen, char kind, gint min_rank, gint max_rank)
{
  gint n = gen->pool->len;
  gint fits[n + 1], n_fits = 0;
  for (gint i = 0; i < n; i++) {
    const RgVal *v = &g_array_index (gen->pool, RgVal, i);
    if (kind_matches (kind, v->dtype) && v->rank >= min_rank && v->rank <= max_rank)
      fits[n_fits++] = i;
  }
  if (n_fits == 0)
    return NULL;
  /* the newest with probability 3/4 (chains grow deep), else any */
  gint i = rg_chance (gen, 0.75) ? fits[n_fits - 1] : fits[rg_int (gen, 0, n_fits - 1)];
  return &g_array_index (gen->pool, RgVal, i);
}

RgVal
rg_constant (RgGen *gen, GrdDType dtype, gint rank, const gint64 *shape, double lo, double hi)
{
  gint64 n = rg_size (rank, shape);
  g_autofree double *v = g_new (double, MAX (n, 1));
  for (gint64 i = 0; i < n; i++) {
    double x = rg_uniform (gen, lo, hi);
    v[i] = grd_dtype_is_float (dtype) ? x : floor (x);
  }
  g_autoptr (GrdTensor) t = grd_tensor_new_from_doubles (dtype, rank, shape, v);
  RgVal out = { .dtype = dtype, .rank = rank, .size = 1 };
  if (rank > 0)
    memcpy (out.shape, shape, sizeof (gint64) * rank);
  out.ref = grd_graph_constant (gen->graph, NULL, t, NULL);
  g_assert_false (grd_ref_is_none (out.ref));
  if (grd_dtype_is_float (dtype)) {
    if (lo >= 0.05)
      out.flags |= RG_POSITIVE;
    if (lo >= 0.05 && hi <= 0.95)
      out.flags |= RG_UNIT;
    if (lo >= -3 && hi <= 3)
      out.flags |= RG_SMALL;
  }
  return out;
}

gint
rg_broadcast_shape (RgGen *gen, const RgVal *v, gint64 *shape)
{
  switch (rg_int (gen, 0, 3)) {
  case 0:
    return 0;
  case 1: {
    /* a suffix */
    gint r = rg_int (gen, 0, v->rank);
    memcpy (shape, v->shape + (v->rank - r), sizeof (gint64) * r);
    return r;
  }
  case 2:
    /* 1s in places */
    for (gint d = 0; d < v->rank; d++)
      shape[d] = rg_chance (gen, 0.4) ? 1 : v->shape[d];
    return v->rank;
  default:
    memcpy (shape, v->shape, sizeof (gint64) * v->rank);
    return v->rank;
  }
}

gboolean
rg_broadcast (const RgVal *a, const RgVal *b, gint *rank, gint64 *shape)
{
  gint r = MAX (a->rank, b->rank);
  for (gint d = 0; d < r; d++) {
    gint da = d - (r - a->rank), db = d - (r - b->rank);
    gint64 x = da >= 0 ? a->shape[da] : 1, y = db >= 0 ? b->shape[db] : 1;
    if (x != y && x != 1 && y != 1)
      return FALSE;
    shape[d] = x == 1 ? y : x;
  }
  *rank = r;
  return TRUE;
}

gboolean
rg_add_op (RgGen *gen, const char *op, const RgVal *const *in, gint n_in, const GrdAttrs *attrs,
           gint rank, const gint64 *shape, guint flags, RgVal *out)
{
  GrdRef refs[n_in + 1];
  gint size = 1;
  for (gint i = 0; i < n_in; i++) {
    refs[i] = in[i]->ref;
    size += in[i]->size;
  }
  g_clear_error (&gen->error);
  GrdRef r = grd_graph_op (gen->graph, NULL, op, refs, n_in, attrs, &gen->error);
  if (grd_ref_is_none (r))
    return FALSE;
  const GrdType *t = grd_graph_ref_type (gen->graph, r);
  /* the static type must agree with the shape the generator worked out */
  g_assert_cmpint (t->rank, ==, rank);
  for (gint d = 0; d < rank; d++)
    g_assert_true (t->dims[d] == GRD_DIM_UNKNOWN || t->dims[d] == shape[d]);
  out->ref = r;
  out->dtype = t->dtype;
  out->rank = rank;
  if (rank > 0)
    memcpy (out->shape, shape, sizeof (gint64) * rank);
  out->flags = grd_dtype_is_float (t->dtype) ? flags : 0;
  out->size = size;
  return TRUE;
}

gboolean
rg_guard (RgGen *gen, const RgVal *v, gboolean unit, RgVal *out)
{
  guint want = unit ? RG_UNIT : RG_POSITIVE;
  if ((v->flags & want) && grd_dtype_is_float (v->dtype)) {
    *out = *v;
    return TRUE;
  }
  RgVal t = *v;
  if (!grd_dtype_is_float (v->dtype)) {
    GrdAttrs a;
    grd_attrs_init (&a);
    a.has_dtype = TRUE;
    a.dtype = GRD_DTYPE_FLOAT64;
    const RgVal *in[] = { v };
    if (!rg_add_op (gen, "cast", in, 1, &a, v->rank, v->shape, 0, &t))
      return FALSE;
  }
  const RgVal *in[] = { &t };
  if (unit)
    return rg_add_op (gen, "sigmoid", in, 1, NULL, t.rank, t.shape, RG_UNIT | RG_POSITIVE | RG_SMALL,
                      out);
  switch (rg_int (gen, 0, 2)) {
  case 0: {
    /* c + x^2 */
    RgVal sq, c = rg_constant (gen, GRD_DTYPE_FLOAT64, 0, NULL, 0.5, 1.5);
    if (!rg_add_op (gen, "square", in, 1, NULL, t.rank, t.shape, 0, &sq))
      return FALSE;
    const RgVal *in2[] = { &c, &sq };
    return rg_add_op (gen, "add", in2, 2, NULL, t.rank, t.shape, RG_POSITIVE, out);
  }
  case 1: {
    /* softplus(x) + c */
    RgVal sp, c = rg_constant (gen, GRD_DTYPE_FLOAT64, 0, NULL, 0.2, 1);
    if (!rg_add_op (gen, "softplus", in, 1, NULL, t.rank, t.shape, 0, &sp))
      return FALSE;
    const RgVal *in2[] = { &sp, &c };
    return rg_add_op (gen, "add", in2, 2, NULL, t.rank, t.shape, RG_POSITIVE, out);
  }
  default: {
    /* exp(tanh(x)) */
    RgVal th;
    if (!rg_add_op (gen, "tanh", in, 1, NULL, t.rank, t.shape, RG_SMALL, &th))
      return FALSE;
    const RgVal *in2[] = { &th };
    return rg_add_op (gen, "exp", in2, 1, NULL, t.rank, t.shape, RG_POSITIVE | RG_SMALL, out);
  }
  }
}

/* A random shape of rank 0 to 4 with at most ~48 elements; now and then a
 * large one (up to ~10^4 elements), so that the optimised program's blocked,
 * vectorised and threaded loops and Vulkan's work-group reductions run. */
static gint
random_shape (RgGen *gen, gint64 *shape)
{
  if (rg_chance (gen, 0.12)) {
    gint rank = rg_int (gen, 1, 3);
    if (rank == 1)
      shape[0] = rg_int (gen, 257, 9000);
    else if (rank == 2) {
      shape[0] = rg_int (gen, 2, 5);
      shape[1] = rg_int (gen, 100, 2500);
    } else {
      shape[0] = 2;
      shape[1] = rg_int (gen, 2, 4);
      shape[2] = rg_int (gen, 50, 1200);
    }
    return rank;
  }
  gint rank = rg_int (gen, 0, 4);
  for (gint d = 0; d < rank; d++)
    shape[d] = rg_int (gen, 1, rank <= 2 ? 4 : 3);
  return rank;
}

static void
add_input (RgGen *gen, GrdDType dtype, gboolean shared, double lo, double hi)
{
  gint64 shape[GRD_MAX_RANK], dims[GRD_MAX_RANK];
  gint rank = random_shape (gen, shape);
  gint64 n = rg_size (rank, shape);
  g_autofree double *v = g_new (double, MAX (n, 1));
  for (gint64 i = 0; i < n; i++) {
    double x = rg_uniform (gen, lo, hi);
    v[i] = grd_dtype_is_float (dtype) ? x : floor (x);
  }
  GrdTensor *t = grd_tensor_new_from_doubles (dtype, rank, shape, v);
  RgVal val = { .dtype = dtype, .rank = rank, .size = 1 };
  memcpy (val.shape, shape, sizeof (gint64) * rank);
  if (shared) {
    val.ref = grd_graph_shared (gen->graph, NULL, t, NULL);
    grd_tensor_unref (t);
  } else {
    /* some inputs leave their dims to the call */
    gboolean unknown = rg_chance (gen, 0.3);
    for (gint d = 0; d < rank; d++)
      dims[d] = unknown ? GRD_DIM_UNKNOWN : shape[d];
    val.ref = grd_graph_variable (gen->graph, NULL, dtype, rank, dims, NULL);
    g_array_append_val (gen->vars, val.ref);
    g_ptr_array_add (gen->var_values, t);
  }
  g_assert_false (grd_ref_is_none (val.ref));
  if (grd_dtype_is_float (dtype)) {
    if (lo >= 0.05)
      val.flags |= RG_POSITIVE;
    if (lo >= 0.05 && hi <= 0.95)
      val.flags |= RG_UNIT;
    val.flags |= RG_SMALL;
  }
  g_array_append_val (gen->pool, val);
}

gboolean
rg_generate (const RgParams *params, RgCase *out, GArray **pool_out, gint *op_built)
{
  gint n_ops;
  const RgOp *ops = rg_ops (&n_ops);
  RgGen gen = { 0 };
  grd_random_seed (&gen.rng, params->seed);
  gen.graph = grd_graph_new ();
  gen.pool = g_array_new (FALSE, FALSE, sizeof (RgVal));
  gen.vars = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  gen.var_values = g_ptr_array_new_with_free_func ((GDestroyNotify) grd_tensor_unref);
  gen.op_built = op_built;

  gint n_float = rg_int (&gen, 1, 3);
  for (gint i = 0; i < n_float; i++) {
    gboolean positive = rg_chance (&gen, 0.4);
    add_input (&gen, GRD_DTYPE_FLOAT64, i > 0 && rg_chance (&gen, 0.3), positive ? 0.3 : -2,
               positive ? 2 : 2);
  }
  if (rg_chance (&gen, 0.25))
    add_input (&gen, rg_chance (&gen, 0.5) ? GRD_DTYPE_INT32 : GRD_DTYPE_INT64, FALSE, -3, 4);
  if (rg_chance (&gen, 0.15))
    add_input (&gen, GRD_DTYPE_BOOL, FALSE, 0, 2);

  gint built = 0, tries = 0;
  while (built < params->depth && tries < 200) {
    tries++;
    gint k = rg_int (&gen, 0, n_ops - 1);
    RgVal v = { 0 };
    if (!ops[k].make (&gen, &ops[k], &v)) {
      g_clear_error (&gen.error);
      continue;
    }
    g_array_append_val (gen.pool, v);
    if (op_built)
      op_built[k]++;
    built++;
  }
  /* the output: the newest float value, or the newest value cast to float64 */
  const RgVal *last = &g_array_index (gen.pool, RgVal, gen.pool->len - 1);
  RgVal o = *last;
  if (o.dtype != GRD_DTYPE_FLOAT64) {
    GrdAttrs a;
    grd_attrs_init (&a);
    a.has_dtype = TRUE;
    a.dtype = GRD_DTYPE_FLOAT64;
    const RgVal *in[] = { last };
    if (!rg_add_op (&gen, "cast", in, 1, &a, last->rank, last->shape, 0, &o))
      g_error ("cast to float64 refused: %s", gen.error->message);
    g_array_append_val (gen.pool, o);
  }
  /* values that nothing reads join the output, so that every node counts:
   * out + sum(v) for each */
  gint n_nodes = grd_graph_n_nodes (gen.graph);
  g_autofree gboolean *read = g_new0 (gboolean, n_nodes);
  for (gint i = 0; i < n_nodes; i++)
    for (gint j = 0; j < grd_graph_node_n_inputs (gen.graph, i); j++)
      read[grd_graph_node_input (gen.graph, i, j).node] = TRUE;
  guint n_pool = gen.pool->len;
  for (guint i = 0; i < n_pool; i++) {
    RgVal v = g_array_index (gen.pool, RgVal, i);
    if (read[v.ref.node] || v.ref.node == o.ref.node || !grd_dtype_is_float (v.dtype)
        || grd_graph_node_kind (gen.graph, v.ref.node) != GRD_NODE_OP)
      continue;
    RgVal s, sum;
    const RgVal *in[] = { &v };
    if (!rg_add_op (&gen, "sum", in, 1, NULL, 0, NULL, 0, &s))
      g_error ("sum refused: %s", gen.error->message);
    const RgVal *in2[] = { &o, &s };
    if (!rg_add_op (&gen, "add", in2, 2, NULL, o.rank, o.shape, 0, &sum))
      g_error ("add refused: %s", gen.error->message);
    o = sum;
    g_array_append_val (gen.pool, s);
    g_array_append_val (gen.pool, o);
  }
  g_clear_error (&gen.error);
  out->graph = gen.graph;
  out->vars = gen.vars;
  out->values = gen.var_values;
  out->out = o.ref;
  if (pool_out)
    *pool_out = gen.pool;
  else
    g_array_unref (gen.pool);
  return built > 0;
}

void
rg_case_clear (RgCase *c)
{
  g_clear_pointer (&c->graph, grd_graph_unref);
  g_clear_pointer (&c->vars, g_array_unref);
  g_clear_pointer (&c->values, g_ptr_array_unref);
}

void
rg_result_clear (RgResult *r)
{
  g_clear_pointer (&r->message, g_free);
  g_clear_pointer (&r->vulkan_fallback, g_free);
}

const char *
rg_status_name (RgStatus status)
{
  static const char *const names[] = { "pass", "reject", "discrete-flip", "gradient", "gradient-of-gradient",
                                       "optimised-vs-reference", "vulkan-vs-cpu", "error" };
  return status < RG_N_STATUS ? names[status] : "?";
}
