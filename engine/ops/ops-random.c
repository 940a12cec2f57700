/* ops-random.c: random nodes (Theano's RandomStreams): uniform, normal and
 * binomial draws from a counter-based stream.
 *
 * Element e of draw number d of a node is a function of (key, e, d) only
 * (Philox 4x32-10, grd-philox.c): key = the seed's two halves, the upper one
 * mixed with a hash of the node id, so nodes with one seed still draw
 * independent streams. d counts the node's evaluations since the graph was
 * loaded or reset (a function call, or a scan step), so a run is reproducible
 * and each scan step draws anew.
 *
 * Inputs: p0, p1 (the params), then `like` when the shape is taken from it.
 * The params get no gradient (disconnected, as in Theano). */
#include "../grd-internal.h"

#include <math.h>
#include <string.h>

typedef struct {
  GrdOpExtra      base;
  GrdDistribution dist;
  GrdDType        dtype;
  gint            rank;
  gint64          shape[GRD_MAX_RANK];
  gboolean        has_like;
  guint64         seed;
  guint32         id_hash;
  gssize          draws;   /* evaluations so far (atomic) */
} RandomInfo;

static void
random_finalize (GrdOpExtra *e)
{
  g_free (e);
}

static const char *dist_names[] = { "uniform", "normal", "binomial" };

static gboolean
random_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  const RandomInfo *r = attrs->extra;
  if (!r) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "_random is built by random nodes only");
    return FALSE;
  }
  if (n_in != 2 + (r->has_like ? 1 : 0)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "expected %d inputs, got %d",
                 2 + (r->has_like ? 1 : 0), n_in);
    return FALSE;
  }
  if (!grd_dtype_is_float (r->dtype) && r->dist != GRD_RANDOM_BINOMIAL) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE, "a %s draw must have a float dtype, not %s",
                 dist_names[r->dist], grd_dtype_name (r->dtype));
    return FALSE;
  }
  const GrdType *shape_from = r->has_like ? &in[2] : NULL;
  gint rank = shape_from ? shape_from->rank : r->rank;
  const gint64 *dims = shape_from ? shape_from->dims : r->shape;
  /* the params broadcast against the shape, they do not extend it */
  for (gint p = 0; p < 2; p++) {
    GrdType both[2] = { in[p], { 0 } };
    grd_type_set (&both[1], r->dtype, rank, dims);
    gint64 d[GRD_MAX_RANK];
    if (in[p].rank > rank) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "param %d has rank %d, more than the draw's %d",
                   p, in[p].rank, rank);
      return FALSE;
    }
    if (!grd_broadcast_types (both, 2, rank, d, error))
      return FALSE;
  }
  grd_type_set (out, r->dtype, rank, dims);
  return TRUE;
}

/* Uniform double in [0, 1) from two words (53 bits). */
static inline double
unit53 (guint32 a, guint32 b)
{
  return ((a >> 5) * 67108864.0 + (b >> 6)) * (1.0 / 9007199254740992.0);
}

static void
block (const RandomInfo *r, gint64 element, gint64 draw, guint32 extra, guint32 out[4])
{
  guint32 ctr[4] = { (guint32) element, (guint32) ((guint64) element >> 32) ^ extra,
                     (guint32) draw, (guint32) ((guint64) draw >> 32) };
  guint32 key[2] = { (guint32) r->seed, (guint32) (r->seed >> 32) ^ r->id_hash };
  grd_philox4x32 (ctr, key, out);
}

/* The value of element e of draw d with params a, b (exactly the same on
 * every back end: the Vulkan shader of ops-random follows this). */
static double
draw_one (const RandomInfo *r, gint64 e, gint64 d, double a, double b)
{
  guint32 w[4];
  block (r, e, d, 0, w);
  switch (r->dist) {
  case GRD_RANDOM_UNIFORM: {
    double u = unit53 (w[0], w[1]);
    return a + (b - a) * u;
  }
  case GRD_RANDOM_NORMAL: {
    /* Box-Muller with 1 - u in (0, 1] so the log is finite */
    double u1 = 1.0 - unit53 (w[0], w[1]), u2 = unit53 (w[2], w[3]);
    return a + b * sqrt (-2.0 * grd_random_log (u1)) * grd_random_cos2pi (u2);
  }
  case GRD_RANDOM_BINOMIAL: {
    /* n Bernoulli trials of 32-bit uniforms, four per block */
    gint64 n = (gint64) llround (a), k = 0;
    for (gint64 j = 0; j < n; j++) {
      if (j > 0 && j % 4 == 0)
        block (r, e, d, (guint32) (j / 4), w);
      if ((w[j % 4] + 0.5) * (1.0 / 4294967296.0) < b)
        k++;
    }
    return (double) k;
  }
  }
  return 0.0;
}

static gboolean
random_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  RandomInfo *r = node->attrs.extra;
  gint rank = r->has_like ? in[2]->rank : r->rank;
  const gint64 *shape = r->has_like ? in[2]->shape : r->shape;
  for (gint p = 0; p < 2; p++) {
    if (in[p]->rank > rank) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "param %d has rank %d, more than the draw's %d",
                   p, in[p]->rank, rank);
      return FALSE;
    }
    for (gint k = 0; k < in[p]->rank; k++) {
      gint64 pd = in[p]->shape[k], sd = shape[rank - in[p]->rank + k];
      if (pd != 1 && pd != sd) {
        g_autofree char *t = grd_tensor_describe (in[p]);
        g_autofree char *s = grd_dims_describe (rank, shape);
        g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "param %d (%s) does not broadcast to the "
                     "draw's shape %s", p, t, s);
        return FALSE;
      }
    }
  }
  GrdTensor *o = grd_tensor_try_new (r->dtype, rank, shape, error);
  if (!o)
    return FALSE;
  gint64 pstrides[2][GRD_MAX_RANK], idx[GRD_MAX_RANK] = { 0 }, off[2] = { 0, 0 };
  for (gint p = 0; p < 2; p++)
    grd_broadcast_strides (in[p], rank, shape, pstrides[p]);
  gint64 d = g_atomic_pointer_add (&r->draws, 1);
  gboolean single = r->dtype == GRD_DTYPE_FLOAT32;
  for (gint64 e = 0; e < o->size; e++) {
    double a = grd_tensor_get (in[0], off[0]), b = grd_tensor_get (in[1], off[1]);
    double v = draw_one (r, e, d, a, b);
    if (single && r->dist == GRD_RANDOM_UNIFORM && (float) v >= b && b > a)
      v = nextafterf ((float) b, (float) a);  /* float rounding must not reach `high` */
    grd_tensor_set (o, e, v);
    for (gint k = rank - 1; k >= 0; k--) {
      off[0] += pstrides[0][k];
      off[1] += pstrides[1][k];
      if (++idx[k] < shape[k])
        break;
      off[0] -= pstrides[0][k] * shape[k];
      off[1] -= pstrides[1][k] * shape[k];
      idx[k] = 0;
    }
  }
  out[0] = o;
  return TRUE;
}

void
grd_random_next_draw (const GrdNode *node, GrdDistribution *dist, GrdDType *dtype, guint32 key[2],
                      guint64 *draw)
{
  RandomInfo *r = node->attrs.extra;
  *dist = r->dist;
  *dtype = r->dtype;
  key[0] = (guint32) r->seed;
  key[1] = (guint32) (r->seed >> 32) ^ r->id_hash;
  *draw = (guint64) g_atomic_pointer_add (&r->draws, 1);
}

static gboolean
random_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
             GrdRef *ig, GError **error)
{
  return TRUE;  /* disconnected from its params */
}

static guint32
hash_id (const char *id)
{
  guint32 h = 2166136261u;  /* FNV-1a */
  for (const char *p = id ? id : ""; *p; p++)
    h = (h ^ (guint8) *p) * 16777619u;
  return h;
}

GrdRef
grd_graph_random (GrdGraph *g, const char *id, GrdDistribution dist, GrdDType dtype, gint rank,
                  const gint64 *shape, GrdRef like, GrdRef p0, GrdRef p1, guint64 seed,
                  GError **error)
{
  if (error && *error)
    return GRD_REF_NONE;
  const char *shown = id ? id : "random";
  if ((gint) dist < 0 || dist > GRD_RANDOM_BINOMIAL) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s' (random): unknown distribution",
                 shown);
    return GRD_REF_NONE;
  }
  if (grd_ref_is_none (like) && (rank < 0 || rank > GRD_MAX_RANK || (rank > 0 && !shape))) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "node '%s' (random): a fixed \"shape\" or "
                 "\"like\" is needed", shown);
    return GRD_REF_NONE;
  }
  for (gint i = 0; grd_ref_is_none (like) && i < rank; i++)
    if (shape[i] < 0) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE, "node '%s' (random): dimension %d of "
                   "\"shape\" is negative", shown, i);
      return GRD_REF_NONE;
    }
  RandomInfo *r = g_new0 (RandomInfo, 1);
  r->base.ref_count = 1;
  r->base.impure = TRUE;
  r->base.finalize = random_finalize;
  r->dist = dist;
  r->dtype = dtype;
  r->has_like = !grd_ref_is_none (like);
  r->rank = r->has_like ? 0 : rank;
  if (!r->has_like && rank > 0)
    memcpy (r->shape, shape, sizeof (gint64) * rank);
  r->seed = seed;
  r->id_hash = hash_id (id);
  GrdAttrs a;
  grd_attrs_init (&a);
  a.extra = r;
  GrdRef in[3] = { p0, p1, like };
  GrdRef out = grd_graph_op (g, id, "_random", in, r->has_like ? 3 : 2, &a, error);
  grd_op_extra_unref (&r->base);
  if (!grd_ref_is_none (out))
    r->id_hash = hash_id (grd_graph_node_id (g, out.node));
  return out;
}

typedef enum { WALK_RESET, WALK_RESEED, WALK_GET, WALK_SET } Walk;

static void
walk_random (GrdGraph *g, Walk what, guint64 seed, GHashTable *state)
{
  for (gint i = 0; i < grd_graph_n_nodes (g); i++) {
    GrdNode *n = grd_graph_node (g, i);
    GrdOpExtra *e = n->attrs.extra;
    if (!e)
      continue;
    if (n->op && g_str_equal (n->op->name, "_random")) {
      RandomInfo *r = (RandomInfo *) e;
      if (what == WALK_RESEED)
        r->seed = seed;
      if (what == WALK_RESET || what == WALK_RESEED)
        g_atomic_pointer_set (&r->draws, 0);
      if (what == WALK_GET) {
        gint64 *v = g_new (gint64, 1);
        *v = (gint64) g_atomic_pointer_get (&r->draws);
        g_hash_table_insert (state, n->id, v);
      }
      gint64 *v = what == WALK_SET ? g_hash_table_lookup (state, n->id) : NULL;
      if (v && *v >= 0)
        g_atomic_pointer_set (&r->draws, (gssize) *v);
    }
    for (gint s = 0; s < 2; s++)
      if (e->sub[s])
        walk_random (e->sub[s], what, seed, state);
  }
}

void
grd_graph_random_reset (GrdGraph *g)
{
  walk_random (g, WALK_RESET, 0, NULL);
}

void
grd_graph_random_reseed (GrdGraph *g, guint64 seed)
{
  walk_random (g, WALK_RESEED, seed, NULL);
}

GHashTable *
grd_graph_random_state (GrdGraph *g)
{
  GHashTable *state = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  walk_random (g, WALK_GET, 0, state);
  return state;
}

void
grd_graph_random_set_state (GrdGraph *g, GHashTable *state)
{
  walk_random (g, WALK_SET, 0, state);
}

static const GrdOpDef random_ops[] = {
  { "_random", "internal", 2, 3, 1, random_infer, random_eval, random_grad },
};

void
grd_ops_register_random (GrdOpRegisterFunc add)
{
  for (guint i = 0; i < G_N_ELEMENTS (random_ops); i++)
    add (&random_ops[i]);
}
