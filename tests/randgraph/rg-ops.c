/* rg-ops.c: the generator's op table, one row per op of the catalogue.
 *
 * A row picks its operands from the pool (or makes constants, on either side
 * of a binary op), chooses attrs, works out the run-time shape of the result
 * and says what is known of its values (positive, in (0, 1), small). Ops with
 * a restricted domain take their operand through a guard (rg_guard). A new op
 * of the catalogue is one more row here; test-randgraph reports ops without one. */
#include "randgraph.h"
#include "grd-internal.h"

#include <string.h>

/* ------------------------------------------------------------ helpers */

/* A second operand for `a`: another pool value that broadcasts with it, or a
 * constant of a shape that does. */
static gboolean
partner (RgGen *gen, const RgVal *a, char kind, double lo, double hi, RgVal *out)
{
  if (rg_chance (gen, 0.5)) {
    const RgVal *b = rg_pick (gen, kind, 0, 4);
    gint rank;
    gint64 shape[GRD_MAX_RANK];
    if (b && rg_broadcast (a, b, &rank, shape)) {
      *out = *b;
      return TRUE;
    }
  }
  gint64 shape[GRD_MAX_RANK];
  gint rank = rg_broadcast_shape (gen, a, shape);
  GrdDType dt = kind == 'b' ? GRD_DTYPE_BOOL : kind == 'i' ? GRD_DTYPE_INT32 : GRD_DTYPE_FLOAT64;
  /* the constant 1 of the cross-entropies written by hand, now and then */
  if (kind == 'f' && rank == 0 && lo <= 1 && hi > 1 && rg_chance (gen, 0.3)) {
    g_autoptr (GrdTensor) t = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 1);
    RgVal c = { .dtype = GRD_DTYPE_FLOAT64, .flags = RG_POSITIVE | RG_SMALL, .size = 1 };
    c.ref = grd_graph_constant (gen->graph, NULL, t, NULL);
    *out = c;
    return TRUE;
  }
  *out = rg_constant (gen, dt, rank, shape, lo, hi);
  return TRUE;
}

static gboolean
is_one_constant (RgGen *gen, const RgVal *v)
{
  if (grd_graph_node_kind (gen->graph, v->ref.node) != GRD_NODE_CONSTANT || v->rank != 0)
    return FALSE;
  return grd_tensor_get (grd_graph_get_value (gen->graph, v->ref), 0) == 1.0;
}

/* ------------------------------------------------------------ elementwise */

static gboolean
make_unary (RgGen *gen, const RgOp *row, RgVal *out)
{
  const char *op = row->name;
  gboolean takes_ints = g_str_equal (op, "neg") || g_str_equal (op, "abs")
                        || g_str_equal (op, "sign") || g_str_equal (op, "square")
                        || g_str_equal (op, "floor") || g_str_equal (op, "ceil")
                        || g_str_equal (op, "round");
  if (g_str_equal (op, "not")) {
    const RgVal *b = rg_pick (gen, 'b', 0, 4);
    if (!b)
      return FALSE;
    const RgVal *in[] = { b };
    return rg_add_op (gen, op, in, 1, NULL, b->rank, b->shape, 0, out);
  }
  const RgVal *v = rg_pick (gen, takes_ints && rg_chance (gen, 0.3) ? 'i' : 'f', 0, 4);
  if (!v)
    return FALSE;
  RgVal guarded;
  guint flags = 0;
  if (g_str_equal (op, "log") || g_str_equal (op, "sqrt") || g_str_equal (op, "reciprocal")
      || g_str_equal (op, "log1p")) {
    if (!rg_guard (gen, v, FALSE, &guarded))
      return FALSE;
    v = &guarded;
    if (!g_str_equal (op, "log") && !g_str_equal (op, "log1p"))
      flags = RG_POSITIVE;
  } else if (g_str_equal (op, "exp") || g_str_equal (op, "expm1")) {
    if (!(v->flags & RG_SMALL)) {
      const RgVal *in[] = { v };
      if (!rg_add_op (gen, "tanh", in, 1, NULL, v->rank, v->shape, RG_SMALL, &guarded))
        return FALSE;
      v = &guarded;
    }
    flags = g_str_equal (op, "exp") ? RG_POSITIVE : 0;
  } else if (g_str_equal (op, "sigmoid")) {
    flags = RG_POSITIVE | RG_UNIT | RG_SMALL;
  } else if (g_str_equal (op, "softplus")) {
    flags = RG_POSITIVE;
  } else if (g_str_equal (op, "tanh") || g_str_equal (op, "sin") || g_str_equal (op, "cos")
             || g_str_equal (op, "erf") || g_str_equal (op, "sign")) {
    flags = RG_SMALL;
  } else if (g_str_equal (op, "neg")) {
    flags = v->flags & RG_SMALL;
  }
  const RgVal *in[] = { v };
  return rg_add_op (gen, op, in, 1, NULL, v->rank, v->shape, flags, out);
}

static gboolean
make_binary (RgGen *gen, const RgOp *row, RgVal *out)
{
  const char *op = row->name;
  gboolean logic = g_str_equal (op, "and") || g_str_equal (op, "or");
  char kind = logic ? 'b' : rg_chance (gen, 0.2) ? 0 : 'f';
  const RgVal *a = rg_pick (gen, kind, 0, 4);
  if (!a)
    return FALSE;
  RgVal b, ga, gb, tmp;
  double lo = -2, hi = 2;
  gboolean div = g_str_equal (op, "div"), pow = g_str_equal (op, "pow");
  if (div)
    lo = 0.5;
  if (pow) {
    /* a positive base; a small exponent */
    if (!rg_guard (gen, a, FALSE, &ga))
      return FALSE;
    a = &ga;
    lo = -1.5, hi = 2.5;
  }
  if (!partner (gen, a, logic ? 'b' : 'f', lo, hi, &b))
    return FALSE;
  const RgVal *x = a, *y = &b;
  if (div && !(y->flags & RG_POSITIVE)) {
    if (!rg_guard (gen, y, FALSE, &gb))
      return FALSE;
    y = &gb;
  }
  if (pow && !(y->flags & RG_SMALL)) {
    const RgVal *in[] = { y };
    if (!rg_add_op (gen, "tanh", in, 1, NULL, y->rank, y->shape, RG_SMALL, &tmp))
      return FALSE;
    y = &tmp;
  }
  /* either side may be the constant, except where the domain fixes the order */
  if (!div && !pow && rg_chance (gen, 0.5)) {
    const RgVal *s = x;
    x = y;
    y = s;
  }
  gint rank;
  gint64 shape[GRD_MAX_RANK];
  if (!rg_broadcast (x, y, &rank, shape))
    return FALSE;
  guint flags = 0, both = x->flags & y->flags;
  if (g_str_equal (op, "add") || g_str_equal (op, "div") || g_str_equal (op, "maximum"))
    flags = both & RG_POSITIVE;
  else if (g_str_equal (op, "mul"))
    flags = both & (RG_POSITIVE | RG_UNIT | RG_SMALL);
  else if (g_str_equal (op, "minimum"))
    flags = both & (RG_POSITIVE | RG_SMALL);
  else if (g_str_equal (op, "sub") && is_one_constant (gen, x) && (y->flags & RG_UNIT))
    flags = RG_POSITIVE | RG_UNIT | RG_SMALL;   /* 1 - sigmoid(z) */
  else if (pow)
    flags = RG_POSITIVE;
  const RgVal *in[] = { x, y };
  return rg_add_op (gen, op, in, 2, NULL, rank, shape, flags, out);
}

static gboolean
make_switch (RgGen *gen, const RgOp *row, RgVal *out)
{
  const RgVal *a = rg_pick (gen, 'f', 0, 4);
  if (!a)
    return FALSE;
  RgVal b, c;
  if (!partner (gen, a, 'f', -2, 2, &b) || !partner (gen, a, 'b', 0, 2, &c))
    return FALSE;
  gint rank, r2;
  gint64 shape[GRD_MAX_RANK], s2[GRD_MAX_RANK];
  if (!rg_broadcast (a, &b, &rank, shape))
    return FALSE;
  RgVal ab = *a;
  ab.rank = rank;
  memcpy (ab.shape, shape, sizeof shape);
  if (!rg_broadcast (&ab, &c, &r2, s2))
    return FALSE;
  gboolean swap = rg_chance (gen, 0.5);
  const RgVal *in[] = { &c, swap ? &b : a, swap ? a : &b };
  return rg_add_op (gen, "switch", in, 3, NULL, r2, s2, a->flags & b.flags & RG_SMALL, out);
}

static gboolean
make_clip (RgGen *gen, const RgOp *row, RgVal *out)
{
  const RgVal *x = rg_pick (gen, 'f', 0, 4);
  if (!x)
    return FALSE;
  RgVal lo = rg_constant (gen, GRD_DTYPE_FLOAT64, 0, NULL, -1.5, 0);
  RgVal hi = rg_constant (gen, GRD_DTYPE_FLOAT64, 0, NULL, 0.2, 1.5);
  const RgVal *in[] = { x, &lo, &hi };
  return rg_add_op (gen, "clip", in, 3, NULL, x->rank, x->shape, RG_SMALL, out);
}

static gboolean
make_cast (RgGen *gen, const RgOp *row, RgVal *out)
{
  const RgVal *x = rg_pick (gen, 0, 0, 4);
  if (!x)
    return FALSE;
  static const GrdDType to[] = { GRD_DTYPE_FLOAT64, GRD_DTYPE_INT32, GRD_DTYPE_INT64,
                                 GRD_DTYPE_BOOL, GRD_DTYPE_FLOAT32 };
  GrdAttrs a;
  grd_attrs_init (&a);
  a.has_dtype = TRUE;
  a.dtype = to[rg_int (gen, 0, G_N_ELEMENTS (to) - 1)];
  /* float32 only from exact integers: float64 maths with float32 steps in
   * the middle cannot be checked against finite differences */
  if (a.dtype == GRD_DTYPE_FLOAT32 && grd_dtype_is_float (x->dtype))
    a.dtype = GRD_DTYPE_FLOAT64;
  const RgVal *in[] = { x };
  return rg_add_op (gen, "cast", in, 1, &a, x->rank, x->shape,
                    grd_dtype_is_float (x->dtype) ? x->flags : 0, out);
}

/* ------------------------------------------------------------ reductions */

/* Random axes (none, one, maybe negative, or a list) and keepdims; the
 * reduced shape. `single`: at most one axis. */
static gint
reduce_attrs (RgGen *gen, const RgVal *x, gboolean single, GrdAttrs *a, gint64 *shape)
{
  grd_attrs_init (a);
  gboolean mask[GRD_MAX_RANK] = { 0 };
  gint choice = x->rank == 0 ? 0 : rg_int (gen, 0, single ? 1 : 2);
  if (choice == 0) {
    for (gint d = 0; d < x->rank; d++)
      mask[d] = TRUE;
  } else {
    a->has_axis = TRUE;
    gint n = choice == 1 ? 1 : rg_int (gen, 1, x->rank);
    gint perm[GRD_MAX_RANK];
    for (gint d = 0; d < x->rank; d++)
      perm[d] = d;
    for (gint d = x->rank - 1; d > 0; d--) {
      gint j = rg_int (gen, 0, d), t = perm[d];
      perm[d] = perm[j];
      perm[j] = t;
    }
    a->n_axes = n;
    for (gint i = 0; i < n; i++) {
      mask[perm[i]] = TRUE;
      a->axes[i] = rg_chance (gen, 0.3) ? perm[i] - x->rank : perm[i];
    }
  }
  a->keepdims = rg_chance (gen, 0.4);
  gint r = 0;
  for (gint d = 0; d < x->rank; d++) {
    if (!mask[d])
      shape[r++] = x->shape[d];
    else if (a->keepdims)
      shape[r++] = 1;
  }
  return r;
}

static gboolean
make_reduce (RgGen *gen, const RgOp *row, RgVal *out)
{
  const char *op = row->name;
  gboolean arg = g_str_has_prefix (op, "arg");
  const RgVal *x = rg_pick (gen, rg_chance (gen, 0.2) ? 0 : 'f', 0, 4);
  if (!x)
    return FALSE;
  GrdAttrs a;
  gint64 shape[GRD_MAX_RANK];
  gint rank = reduce_attrs (gen, x, arg, &a, shape);
  guint flags = 0;
  if (g_str_equal (op, "max") || g_str_equal (op, "min") || g_str_equal (op, "mean"))
    flags = x->flags;
  else if (g_str_equal (op, "prod"))
    flags = x->flags & (RG_POSITIVE | RG_UNIT);
  else if (g_str_equal (op, "sum"))
    flags = x->flags & RG_POSITIVE;
  const RgVal *in[] = { x };
  return rg_add_op (gen, op, in, 1, &a, rank, shape, flags, out);
}

/* ------------------------------------------------------------ linear algebra */

static gboolean
make_dot (RgGen *gen, const RgOp *row, RgVal *out)
{
  const RgVal *x = rg_pick (gen, 'f', 1, 2);
  if (!x)
    return FALSE;
  gboolean x_left = rg_chance (gen, 0.5);
  /* the shared dimension: x's last axis on the left, its first on the right */
  gint64 k = x_left ? x->shape[x->rank - 1] : x->shape[0];
  gint y_rank = rg_int (gen, 1, 2);
  gint64 ys[2];
  if (x_left) {
    ys[0] = k;
    ys[1] = rg_int (gen, 1, 4);
  } else {
    ys[y_rank - 1] = k;
    ys[0] = y_rank == 2 ? rg_int (gen, 1, 4) : k;
  }
  /* a pool value of that shape, else a constant */
  const RgVal *y = NULL;
  for (guint i = 0; i < gen->pool->len && !y; i++) {
    const RgVal *c = &g_array_index (gen->pool, RgVal, i);
    if (c != x && grd_dtype_is_float (c->dtype) && c->rank == y_rank && c->shape[0] == ys[0]
        && (y_rank == 1 || c->shape[1] == ys[1]) && rg_chance (gen, 0.5))
      y = c;
  }
  RgVal cy;
  if (!y) {
    cy = rg_constant (gen, GRD_DTYPE_FLOAT64, y_rank, ys, -1, 1);
    y = &cy;
  }
  const RgVal *l = x_left ? x : y, *r = x_left ? y : x;
  gint64 shape[2];
  gint rank = 0;
  if (l->rank == 2)
    shape[rank++] = l->shape[0];
  if (r->rank == 2)
    shape[rank++] = r->shape[1];
  const RgVal *in[] = { l, r };
  return rg_add_op (gen, "dot", in, 2, NULL, rank, shape, 0, out);
}

static gboolean
make_outer (RgGen *gen, const RgOp *row, RgVal *out)
{
  const RgVal *x = rg_pick (gen, 'f', 1, 1);
  if (!x)
    return FALSE;
  const RgVal *y = rg_pick (gen, 'f', 1, 1);
  RgVal c;
  /* the product of two large vectors would be too large */
  if (!y || rg_chance (gen, 0.4) || x->shape[0] * y->shape[0] > 20000) {
    gint64 n = rg_int (gen, 1, 4);
    c = rg_constant (gen, GRD_DTYPE_FLOAT64, 1, &n, -1, 1);
    y = &c;
  }
  gboolean swap = rg_chance (gen, 0.5);
  const RgVal *in[] = { swap ? y : x, swap ? x : y };
  gint64 shape[] = { in[0]->shape[0], in[1]->shape[0] };
  return rg_add_op (gen, "outer", in, 2, NULL, 2, shape, 0, out);
}

/* ------------------------------------------------------------ shape */

static void
random_perm (RgGen *gen, gint n, gint *perm)
{
  for (gint d = 0; d < n; d++)
    perm[d] = d;
  for (gint d = n - 1; d > 0; d--) {
    gint j = rg_int (gen, 0, d), t = perm[d];
    perm[d] = perm[j];
    perm[j] = t;
  }
}

static gboolean
make_transpose (RgGen *gen, const RgOp *row, RgVal *out)
{
  const RgVal *x = rg_pick (gen, 0, 0, 4);
  if (!x)
    return FALSE;
  GrdAttrs a;
  grd_attrs_init (&a);
  gint64 shape[GRD_MAX_RANK];
  if (rg_chance (gen, 0.3)) {
    for (gint d = 0; d < x->rank; d++)
      shape[d] = x->shape[x->rank - 1 - d];
  } else {
    a.n_perm = x->rank;
    random_perm (gen, x->rank, a.perm);
    for (gint d = 0; d < x->rank; d++)
      shape[d] = x->shape[a.perm[d]];
  }
  const RgVal *in[] = { x };
  return rg_add_op (gen, "transpose", in, 1, &a, x->rank, shape, x->flags, out);
}

static gboolean
make_reshape (RgGen *gen, const RgOp *row, RgVal *out)
{
  const RgVal *x = rg_pick (gen, 0, 0, 4);
  if (!x)
    return FALSE;
  gint64 left = rg_size (x->rank, x->shape);
  GrdAttrs a;
  grd_attrs_init (&a);
  gint rank = rg_int (gen, left == 1 ? 0 : 1, 4);
  gint64 shape[GRD_MAX_RANK];
  for (gint d = 0; d < rank; d++) {
    /* a divisor of what is left; the last axis takes the rest */
    gint64 f = 1;
    if (d == rank - 1) {
      f = left;
    } else {
      for (gint t = 0; t < 4; t++) {
        gint64 c = rg_int (gen, 1, 4);
        if (left % c == 0) {
          f = c;
          break;
        }
      }
    }
    shape[d] = f;
    left /= f;
  }
  a.n_shape = rank;
  memcpy (a.shape, shape, sizeof (gint64) * rank);
  if (rank > 0 && rg_chance (gen, 0.4))
    a.shape[rg_int (gen, 0, rank - 1)] = -1;
  const RgVal *in[] = { x };
  return rg_add_op (gen, "reshape", in, 1, &a, rank, shape, x->flags, out);
}

static gboolean
make_dimshuffle (RgGen *gen, const RgOp *row, RgVal *out)
{
  const RgVal *x = rg_pick (gen, 0, 0, 3);
  if (!x)
    return FALSE;
  gint perm[GRD_MAX_RANK];
  random_perm (gen, x->rank, perm);
  GrdAttrs a;
  grd_attrs_init (&a);
  gint64 shape[GRD_MAX_RANK];
  gint n = 0, next = 0, extra = rg_int (gen, 0, MIN (2, 4 - x->rank));
  while (next < x->rank || extra > 0) {
    if (extra > 0 && (next == x->rank || rg_chance (gen, 0.3))) {
      a.pattern[n] = -1;
      shape[n++] = 1;
      extra--;
    } else {
      a.pattern[n] = perm[next];
      shape[n++] = x->shape[perm[next++]];
    }
  }
  a.n_pattern = n;
  const RgVal *in[] = { x };
  return rg_add_op (gen, "dimshuffle", in, 1, &a, n, shape, x->flags, out);
}

static gboolean
make_flatten (RgGen *gen, const RgOp *row, RgVal *out)
{
  const RgVal *x = rg_pick (gen, 0, 1, 4);
  if (!x)
    return FALSE;
  GrdAttrs a;
  grd_attrs_init (&a);
  a.ndim = rg_int (gen, 1, x->rank);
  gint64 shape[GRD_MAX_RANK];
  for (gint d = 0; d < a.ndim - 1; d++)
    shape[d] = x->shape[d];
  shape[a.ndim - 1] = rg_size (x->rank - (a.ndim - 1), x->shape + (a.ndim - 1));
  const RgVal *in[] = { x };
  return rg_add_op (gen, "flatten", in, 1, &a, a.ndim, shape, x->flags, out);
}

/* A value shaped like `x` except on `axis` (where any size is fine when
 * `free_axis`): from the pool when one fits, else a constant. */
static RgVal
same_shape_partner (RgGen *gen, const RgVal *x, gint axis, gboolean free_axis)
{
  for (guint i = 0; i < gen->pool->len; i++) {
    const RgVal *c = &g_array_index (gen->pool, RgVal, i);
    if (c->ref.node == x->ref.node || c->dtype != x->dtype || c->rank != x->rank)
      continue;
    gboolean fits = TRUE;
    for (gint d = 0; d < x->rank; d++)
      fits &= c->shape[d] == x->shape[d] || (free_axis && d == axis);
    if (fits && rg_chance (gen, 0.5))
      return *c;
  }
  gint64 shape[GRD_MAX_RANK];
  memcpy (shape, x->shape, sizeof (gint64) * x->rank);
  if (free_axis)
    shape[axis] = rg_int (gen, 1, 3);
  return rg_constant (gen, x->dtype, x->rank, shape, -2, 2);
}

static gboolean
make_concatenate (RgGen *gen, const RgOp *row, RgVal *out)
{
  const RgVal *x = rg_pick (gen, 0, 1, 4);
  if (!x)
    return FALSE;
  GrdAttrs a;
  grd_attrs_init (&a);
  gint axis = rg_int (gen, 0, x->rank - 1);
  a.has_axis = TRUE;
  a.n_axes = 1;
  a.axes[0] = rg_chance (gen, 0.3) ? axis - x->rank : axis;
  gint n = rg_int (gen, 2, 3);
  RgVal parts[3];
  const RgVal *in[3];
  gint at = rg_int (gen, 0, n - 1);
  gint64 shape[GRD_MAX_RANK];
  memcpy (shape, x->shape, sizeof shape);
  shape[axis] = 0;
  for (gint i = 0; i < n; i++) {
    parts[i] = i == at ? *x : same_shape_partner (gen, x, axis, TRUE);
    in[i] = &parts[i];
    shape[axis] += parts[i].shape[axis];
  }
  return rg_add_op (gen, "concatenate", in, n, &a, x->rank, shape, 0, out);
}

static gboolean
make_stack (RgGen *gen, const RgOp *row, RgVal *out)
{
  const RgVal *x = rg_pick (gen, 0, 0, 3);
  if (!x)
    return FALSE;
  GrdAttrs a;
  grd_attrs_init (&a);
  gint axis = rg_int (gen, 0, x->rank);
  if (rg_chance (gen, 0.7)) {
    a.has_axis = TRUE;
    a.n_axes = 1;
    a.axes[0] = axis;
  } else {
    axis = 0;
  }
  gint n = rg_int (gen, 1, 3);
  RgVal parts[3];
  const RgVal *in[3];
  for (gint i = 0; i < n; i++) {
    parts[i] = i == 0 ? *x : same_shape_partner (gen, x, 0, FALSE);
    in[i] = &parts[i];
  }
  gint64 shape[GRD_MAX_RANK];
  for (gint d = 0, s = 0; d <= x->rank; d++)
    shape[d] = d == axis ? n : x->shape[s++];
  return rg_add_op (gen, "stack", in, n, &a, x->rank + 1, shape, 0, out);
}

/* Python's slice length (a fact of the language, not of Gradus). */
static gint64
slice_len (gint64 b, gint64 e, gint64 step, gint64 n)
{
  if (step == GRD_SLICE_NONE)
    step = 1;
  gint64 lo = step > 0 ? 0 : -1, hi = step > 0 ? n : n - 1;
  if (b == GRD_SLICE_NONE)
    b = step > 0 ? lo : hi;
  else
    b = b < 0 ? MAX (b + n, lo) : MIN (b, hi);
  if (e == GRD_SLICE_NONE)
    e = step > 0 ? hi : lo;
  else
    e = e < 0 ? MAX (e + n, lo) : MIN (e, hi);
  if (step > 0)
    return e > b ? (e - b + step - 1) / step : 0;
  return b > e ? (b - e - step - 1) / -step : 0;
}

static gboolean
make_slice (RgGen *gen, const RgOp *row, RgVal *out)
{
  const RgVal *x = rg_pick (gen, 0, 1, 4);
  if (!x)
    return FALSE;
  GrdAttrs a;
  grd_attrs_init (&a);
  a.n_slice = rg_int (gen, 1, x->rank);
  gint64 shape[GRD_MAX_RANK];
  memcpy (shape, x->shape, sizeof shape);
  for (gint d = 0; d < a.n_slice; d++) {
    gint64 n = x->shape[d];
    for (gint t = 0; t < 8; t++) {
      static const gint64 steps[] = { GRD_SLICE_NONE, 1, 2, -1, -2 };
      a.step[d] = steps[rg_int (gen, 0, 4)];
      a.begin[d] = rg_chance (gen, 0.3) ? GRD_SLICE_NONE : rg_int (gen, -(gint) n, (gint) n);
      a.end[d] = rg_chance (gen, 0.3) ? GRD_SLICE_NONE : rg_int (gen, -(gint) n, (gint) n);
      shape[d] = slice_len (a.begin[d], a.end[d], a.step[d], n);
      if (shape[d] > 0)
        break;
    }
    if (shape[d] == 0)
      return FALSE;
  }
  const RgVal *in[] = { x };
  return rg_add_op (gen, "slice", in, 1, &a, x->rank, shape, x->flags, out);
}

static gboolean
make_take (RgGen *gen, const RgOp *row, RgVal *out)
{
  const RgVal *x = rg_pick (gen, 0, 1, 3);
  if (!x)
    return FALSE;
  GrdAttrs a;
  grd_attrs_init (&a);
  gint axis = 0;
  if (rg_chance (gen, 0.5)) {
    axis = rg_int (gen, 0, x->rank - 1);
    a.has_axis = TRUE;
    a.n_axes = 1;
    a.axes[0] = axis;
  }
  gint64 ishape[2];
  gint irank = rg_int (gen, 0, 2);
  for (gint d = 0; d < irank; d++)
    ishape[d] = rg_int (gen, 1, 3);
  RgVal idx = rg_constant (gen, rg_chance (gen, 0.5) ? GRD_DTYPE_INT32 : GRD_DTYPE_INT64, irank,
                           ishape, 0, (double) x->shape[axis]);
  gint64 shape[GRD_MAX_RANK];
  gint rank = 0;
  for (gint d = 0; d < x->rank; d++) {
    if (d == axis)
      for (gint k = 0; k < irank; k++)
        shape[rank++] = ishape[k];
    else
      shape[rank++] = x->shape[d];
  }
  if (rank > 4)
    return FALSE;
  const RgVal *in[] = { x, &idx };
  return rg_add_op (gen, "take", in, 2, &a, rank, shape, x->flags, out);
}

/* ------------------------------------------------------------ conv, pooling, indexing */

/* The run-time type of `op` on values of these shapes (the op's own rule). */
static gboolean
infer_shape (const char *op, const GrdAttrs *a, const RgVal *const *in, gint n_in, gint *rank,
             gint64 *shape)
{
  GrdType t[GRD_MAX_RANK + 2], o;
  for (gint i = 0; i < n_in; i++)
    grd_type_set (&t[i], in[i]->dtype, in[i]->rank, in[i]->shape);
  if (!grd_op_lookup (op)->infer (a, t, n_in, &o, NULL))
    return FALSE;
  *rank = o.rank;
  for (gint d = 0; d < o.rank; d++) {
    if (o.dims[d] < 0)
      return FALSE;
    shape[d] = o.dims[d];
  }
  return TRUE;
}

/* mod and floor_div by a positive divisor (their gradients jump where a/b is
 * an integer: random values are not there) */
static gboolean
make_mod (RgGen *gen, const RgOp *row, RgVal *out)
{
  const RgVal *a = rg_pick (gen, 'f', 0, 4);
  if (!a)
    return FALSE;
  RgVal b, gb;
  if (!partner (gen, a, 'f', 0.7, 2, &b))
    return FALSE;
  const RgVal *y = &b;
  if (!(y->flags & RG_POSITIVE)) {
    if (!rg_guard (gen, y, FALSE, &gb))
      return FALSE;
    y = &gb;
  }
  gint rank;
  gint64 shape[GRD_MAX_RANK];
  if (!rg_broadcast (a, y, &rank, shape))
    return FALSE;
  const RgVal *in[] = { a, y };
  return rg_add_op (gen, row->name, in, 2, NULL, rank, shape, 0, out);
}

/* shape(x) or shape(x, axis): int64 */
static gboolean
make_shape (RgGen *gen, const RgOp *row, RgVal *out)
{
  const RgVal *x = rg_pick (gen, 0, 1, 4);
  if (!x)
    return FALSE;
  GrdAttrs a;
  grd_attrs_init (&a);
  const RgVal *in[] = { x };
  if (rg_chance (gen, 0.5)) {
    a.has_axis = TRUE;
    a.n_axes = 1;
    a.axes[0] = rg_int (gen, -x->rank, x->rank - 1);
    return rg_add_op (gen, "shape", in, 1, &a, 0, NULL, 0, out);
  }
  gint64 n = x->rank;
  return rg_add_op (gen, "shape", in, 1, &a, 1, &n, 0, out);
}

/* arange(start, x.shape[axis], step) in int64, or of float constants */
static gboolean
make_arange (RgGen *gen, const RgOp *row, RgVal *out)
{
  RgVal v[3];
  gint64 len;
  if (rg_chance (gen, 0.6)) {
    const RgVal *x = rg_pick (gen, 0, 1, 4);
    if (!x)
      return FALSE;
    GrdAttrs a = grd_attrs_axis (rg_int (gen, 0, x->rank - 1), FALSE);
    const RgVal *in[] = { x };
    if (!rg_add_op (gen, "shape", in, 1, &a, 0, NULL, 0, &v[1]))
      return FALSE;
    gint64 n = x->shape[a.axes[0]], start = rg_int (gen, 0, 1), step = rg_int (gen, 1, 2);
    v[0] = rg_constant (gen, GRD_DTYPE_INT64, 0, NULL, start, start);
    v[2] = rg_constant (gen, GRD_DTYPE_INT64, 0, NULL, step, step);
    len = n > start ? (n - start + step - 1) / step : 0;
  } else {
    /* exactly representable, so that the length is exact */
    double start = 0.25 * rg_int (gen, -4, 4), step = rg_chance (gen, 0.5) ? 0.5 : -0.5;
    len = rg_int (gen, 1, 5);
    double stop = start + step * (double) len - step * 0.5;
    v[0] = rg_constant (gen, GRD_DTYPE_FLOAT64, 0, NULL, start, start);
    v[1] = rg_constant (gen, GRD_DTYPE_FLOAT64, 0, NULL, stop, stop);
    v[2] = rg_constant (gen, GRD_DTYPE_FLOAT64, 0, NULL, step, step);
  }
  if (len < 1)
    return FALSE;
  const RgVal *in[] = { &v[0], &v[1], &v[2] };
  return rg_add_op (gen, "arange", in, 3, NULL, 1, &len, RG_SMALL, out);
}

/* Index arrays for the first k axes of x: constants of a common broadcast
 * shape (some axes 1), negative indices too; or p[arange(n), y]. */
static gint
index_arrays (RgGen *gen, const RgVal *x, RgVal *idx, gint *rb, gint64 *bshape)
{
  if (x->rank >= 2 && rg_chance (gen, 0.3)) {
    RgVal n, zero, one;
    GrdAttrs a = grd_attrs_axis (0, FALSE);
    const RgVal *in[] = { x };
    if (!rg_add_op (gen, "shape", in, 1, &a, 0, NULL, 0, &n))
      return 0;
    zero = rg_constant (gen, GRD_DTYPE_INT64, 0, NULL, 0, 0);
    one = rg_constant (gen, GRD_DTYPE_INT64, 0, NULL, 1, 1);
    const RgVal *ar[] = { &zero, &n, &one };
    if (!rg_add_op (gen, "arange", ar, 3, NULL, 1, x->shape, 0, &idx[0]))
      return 0;
    idx[1] = rg_constant (gen, GRD_DTYPE_INT32, 1, x->shape, 0, (double) x->shape[1]);
    *rb = 1;
    bshape[0] = x->shape[0];
    return 2;
  }
  gint k = rg_int (gen, 1, MIN (2, x->rank));
  *rb = rg_int (gen, 0, 2);
  for (gint d = 0; d < *rb; d++)
    bshape[d] = rg_int (gen, 1, 3);
  for (gint j = 0; j < k; j++) {
    gint64 s[GRD_MAX_RANK];
    gint r = rg_int (gen, 0, *rb);
    for (gint d = 0; d < r; d++)
      s[d] = rg_chance (gen, 0.3) ? 1 : bshape[*rb - r + d];
    gint64 n = x->shape[j];
    idx[j] = rg_constant (gen, rg_chance (gen, 0.5) ? GRD_DTYPE_INT32 : GRD_DTYPE_INT64, r, s,
                          (double) -n, (double) n);
  }
  /* the broadcast shape of what was made (axes all 1 stay 1) */
  *rb = 0;
  for (gint j = 0; j < k; j++)
    *rb = MAX (*rb, idx[j].rank);
  for (gint d = 0; d < *rb; d++) {
    gint64 m = 1;
    for (gint j = 0; j < k; j++) {
      gint e = d - (*rb - idx[j].rank);
      if (e >= 0)
        m = MAX (m, idx[j].shape[e]);
    }
    bshape[d] = m;
  }
  return k;
}

static gboolean
make_index (RgGen *gen, const RgOp *row, RgVal *out)
{
  const RgVal *x = rg_pick (gen, 0, 1, 3);
  if (!x)
    return FALSE;
  RgVal idx[GRD_MAX_RANK];
  gint rb;
  gint64 shape[GRD_MAX_RANK];
  gint k = index_arrays (gen, x, idx, &rb, shape);
  if (k == 0 || rb + x->rank - k > 4)
    return FALSE;
  for (gint d = k; d < x->rank; d++)
    shape[rb + d - k] = x->shape[d];
  const RgVal *in[GRD_MAX_RANK + 1] = { x };
  for (gint j = 0; j < k; j++)
    in[1 + j] = &idx[j];
  return rg_add_op (gen, "index", in, k + 1, NULL, rb + x->rank - k, shape, x->flags, out);
}

/* set/inc_subtensor of a slice region or of index arrays (repeats add up),
 * the value a pool value or a constant that broadcasts to the region. */
static gboolean
make_subtensor (RgGen *gen, const RgOp *row, RgVal *out)
{
  const RgVal *x = rg_pick (gen, 'f', 1, 3);
  if (!x)
    return FALSE;
  GrdAttrs a;
  grd_attrs_init (&a);
  RgVal idx[GRD_MAX_RANK];
  gint k = 0, rrank;
  gint64 region[GRD_MAX_RANK];
  if (rg_chance (gen, 0.5)) {
    gint rb;
    k = index_arrays (gen, x, idx, &rb, region);
    if (k == 0)
      return FALSE;
    rrank = rb + x->rank - k;
    for (gint d = k; d < x->rank; d++)
      region[rb + d - k] = x->shape[d];
  } else {
    a.n_slice = rg_int (gen, 1, x->rank);
    rrank = x->rank;
    memcpy (region, x->shape, sizeof region);
    for (gint d = 0; d < a.n_slice; d++) {
      static const gint64 steps[] = { GRD_SLICE_NONE, 1, 2, -1, -2 };
      gint64 n = x->shape[d];
      a.step[d] = steps[rg_int (gen, 0, 4)];
      a.begin[d] = rg_chance (gen, 0.3) ? GRD_SLICE_NONE : rg_int (gen, -(gint) n, (gint) n);
      a.end[d] = rg_chance (gen, 0.3) ? GRD_SLICE_NONE : rg_int (gen, -(gint) n, (gint) n);
      region[d] = slice_len (a.begin[d], a.end[d], a.step[d], n);
    }
  }
  if (rrank > 4 || rg_size (rrank, region) == 0)
    return FALSE;
  /* the value: a pool value that fits the region's trailing axes, else a constant */
  RgVal yc;
  const RgVal *y = rg_pick (gen, 'f', 0, rrank);
  gboolean fits = y && y->ref.node != x->ref.node;
  for (gint d = 0; fits && d < y->rank; d++) {
    gint64 n = y->shape[y->rank - 1 - d];
    fits = n == 1 || n == region[rrank - 1 - d];
  }
  if (!fits || rg_chance (gen, 0.3)) {
    gint yr = rg_int (gen, 0, rrank);
    gint64 ys[GRD_MAX_RANK];
    for (gint d = 0; d < yr; d++)
      ys[d] = rg_chance (gen, 0.3) ? 1 : region[rrank - yr + d];
    yc = rg_constant (gen, GRD_DTYPE_FLOAT64, yr, ys, -2, 2);
    y = &yc;
  }
  const RgVal *in[GRD_MAX_RANK + 2] = { x, y };
  for (gint j = 0; j < k; j++)
    in[2 + j] = &idx[j];
  return rg_add_op (gen, row->name, in, k + 2, &a, x->rank, x->shape, 0, out);
}

/* x as a 4-d image batch: new leading axes of size 1 */
static gboolean
as_images (RgGen *gen, const RgVal *x, RgVal *out)
{
  if (x->rank == 4) {
    *out = *x;
    return TRUE;
  }
  GrdAttrs a;
  grd_attrs_init (&a);
  gint64 shape[4];
  gint lead = 4 - x->rank;
  for (gint d = 0; d < 4; d++) {
    a.pattern[d] = d < lead ? -1 : d - lead;
    shape[d] = d < lead ? 1 : x->shape[d - lead];
  }
  a.n_pattern = 4;
  const RgVal *in[] = { x };
  return rg_add_op (gen, "dimshuffle", in, 1, &a, 4, shape, x->flags, out);
}

/* conv2d over a pool value seen as images, with filters c * s (s a pool
 * scalar, so that the filters' gradient is checked too), every attr */
static gboolean
make_conv2d (RgGen *gen, const RgOp *row, RgVal *out)
{
  const RgVal *v = rg_pick (gen, 'f', 1, 4);
  if (!v)
    return FALSE;
  RgVal x;
  if (!as_images (gen, v, &x))
    return FALSE;
  GrdAttrs a;
  grd_attrs_init (&a);
  a.border_mode = rg_int (gen, GRD_BORDER_VALID, GRD_BORDER_EXPLICIT);
  if (a.border_mode == GRD_BORDER_EXPLICIT)
    a.border[0] = rg_int (gen, 0, 1), a.border[1] = rg_int (gen, 0, 2);
  for (gint d = 0; d < 2; d++) {
    a.subsample[d] = rg_int (gen, 1, 2);
    a.filter_dilation[d] = rg_chance (gen, 0.8) ? 1 : 2;
  }
  a.filter_flip = rg_chance (gen, 0.5);
  gint64 c = x.shape[1];
  a.num_groups = c % 2 == 0 && rg_chance (gen, 0.3) ? 2 : 1;
  gint64 ws[4] = { rg_int (gen, 1, 2) * a.num_groups, c / a.num_groups, rg_int (gen, 1, 3),
                   rg_int (gen, 1, 3) };
  RgVal w = rg_constant (gen, GRD_DTYPE_FLOAT64, 4, ws, -1, 1), scaled;
  const RgVal *s = rg_pick (gen, 'f', 0, 0);
  if (s) {
    const RgVal *in[] = { &w, s };
    if (!rg_add_op (gen, "mul", in, 2, NULL, 4, ws, 0, &scaled))
      return FALSE;
    w = scaled;
  }
  const RgVal *in[] = { &x, &w };
  gint rank;
  gint64 shape[GRD_MAX_RANK];
  if (!infer_shape ("conv2d", &a, in, 2, &rank, shape) || rg_size (rank, shape) == 0)
    return FALSE;
  return rg_add_op (gen, "conv2d", in, 2, &a, rank, shape, 0, out);
}

/* pool_2d in every mode, with strides, padding and partial windows */
static gboolean
make_pool (RgGen *gen, const RgOp *row, RgVal *out)
{
  const RgVal *x = rg_pick (gen, 'f', 2, 4);
  if (!x)
    return FALSE;
  GrdAttrs a;
  grd_attrs_init (&a);
  a.pool_mode = rg_int (gen, GRD_POOL_MAX, GRD_POOL_AVERAGE_EXC_PAD);
  a.ignore_border = rg_chance (gen, 0.7);
  gboolean strided = rg_chance (gen, 0.5);  /* else the stride is ws */
  for (gint d = 0; d < 2; d++) {
    a.ws[d] = rg_int (gen, 1, 3);
    a.pool_stride[d] = strided ? rg_int (gen, 1, 2) : 0;
    a.pool_pad[d] = a.ignore_border && a.ws[d] > 1 && rg_chance (gen, 0.3) ? 1 : 0;
  }
  const RgVal *in[] = { x };
  gint rank;
  gint64 shape[GRD_MAX_RANK];
  if (!infer_shape ("pool_2d", &a, in, 1, &rank, shape) || rg_size (rank, shape) == 0)
    return FALSE;
  return rg_add_op (gen, "pool_2d", in, 1, &a, rank, shape, 0, out);
}

/* ------------------------------------------------------------ neural */

static gboolean
make_softmax (RgGen *gen, const RgOp *row, RgVal *out)
{
  const char *op = row->name;
  const RgVal *x = rg_pick (gen, 'f', 1, 4);
  if (!x)
    return FALSE;
  GrdAttrs a;
  grd_attrs_init (&a);
  gint64 shape[GRD_MAX_RANK];
  memcpy (shape, x->shape, sizeof shape);
  gint rank = x->rank;
  if (g_str_equal (op, "logsumexp")) {
    rank = reduce_attrs (gen, x, TRUE, &a, shape);
    if (!a.has_axis && x->rank > 0) {
      /* absent axis: the last one */
      rank = 0;
      for (gint d = 0; d < x->rank; d++)
        if (d < x->rank - 1)
          shape[rank++] = x->shape[d];
        else if (a.keepdims)
          shape[rank++] = 1;
    }
  } else if (rg_chance (gen, 0.4)) {
    a.has_axis = TRUE;
    a.n_axes = 1;
    a.axes[0] = rg_int (gen, -x->rank, x->rank - 1);
  }
  guint flags = g_str_equal (op, "softmax") ? RG_POSITIVE | RG_UNIT | RG_SMALL : 0;
  const RgVal *in[] = { x };
  return rg_add_op (gen, op, in, 1, &a, rank, shape, flags, out);
}

static gboolean
make_cce (RgGen *gen, const RgOp *row, RgVal *out)
{
  const RgVal *x = rg_pick (gen, 'f', 1, 3);
  if (!x)
    return FALSE;
  RgVal p;
  if (rg_chance (gen, 0.6)) {
    /* the stable pair itself */
    const RgVal *in[] = { x };
    if (!rg_add_op (gen, "softmax", in, 1, NULL, x->rank, x->shape, RG_UNIT | RG_POSITIVE, &p))
      return FALSE;
  } else if (!rg_guard (gen, x, TRUE, &p)) {
    return FALSE;
  }
  RgVal t;
  gint64 classes = p.shape[p.rank - 1];
  if (rg_chance (gen, 0.6))
    t = rg_constant (gen, rg_chance (gen, 0.5) ? GRD_DTYPE_INT32 : GRD_DTYPE_INT64, p.rank - 1,
                     p.shape, 0, (double) classes);
  else
    t = rg_constant (gen, GRD_DTYPE_FLOAT64, p.rank, p.shape, 0, 1);
  const RgVal *in[] = { &p, &t };
  return rg_add_op (gen, "categorical_crossentropy", in, 2, NULL, p.rank - 1, p.shape,
                    RG_POSITIVE, out);
}

static gboolean
make_bce (RgGen *gen, const RgOp *row, RgVal *out)
{
  const RgVal *x = rg_pick (gen, 'f', 0, 4);
  if (!x)
    return FALSE;
  RgVal p, t, gt;
  if (!rg_guard (gen, x, TRUE, &p))
    return FALSE;
  const RgVal *tv = rg_pick (gen, 'f', 0, 4);
  gint rank;
  gint64 shape[GRD_MAX_RANK];
  if (tv && tv->ref.node != x->ref.node && rg_broadcast (&p, tv, &rank, shape)
      && rg_chance (gen, 0.4)) {
    if (!rg_guard (gen, tv, TRUE, &gt))
      return FALSE;
    t = gt;
  } else {
    gint64 ts[GRD_MAX_RANK];
    gint tr = rg_broadcast_shape (gen, &p, ts);
    t = rg_constant (gen, GRD_DTYPE_FLOAT64, tr, ts, 0, 1);
  }
  if (!rg_broadcast (&p, &t, &rank, shape))
    return FALSE;
  const RgVal *in[] = { &p, &t };
  return rg_add_op (gen, "binary_crossentropy", in, 2, NULL, rank, shape, 0, out);
}

static gboolean
make_one_hot (RgGen *gen, const RgOp *row, RgVal *out)
{
  gint64 shape[GRD_MAX_RANK];
  gint rank = rg_int (gen, 0, 2);
  for (gint d = 0; d < rank; d++)
    shape[d] = rg_int (gen, 1, 3);
  GrdAttrs a;
  grd_attrs_init (&a);
  a.depth = rg_int (gen, 1, 4);
  if (rg_chance (gen, 0.5)) {
    a.has_dtype = TRUE;
    a.dtype = GRD_DTYPE_FLOAT64;
  }
  RgVal idx = rg_constant (gen, GRD_DTYPE_INT64, rank, shape, 0, (double) a.depth);
  shape[rank] = a.depth;
  const RgVal *in[] = { &idx };
  return rg_add_op (gen, "one_hot", in, 1, &a, rank + 1, shape, 0, out);
}

/* The stable pairs of grd-grad.c, exact and near-misses: log(sigmoid(x)),
 * log(softmax(x)) on any axis, log(c op x), and an inner node with a second
 * reader. */
static gboolean
make_stable_pattern (RgGen *gen, const RgOp *row, RgVal *out)
{
  const RgVal *x = rg_pick (gen, 'f', 0, 4);
  if (!x)
    return FALSE;
  RgVal inner, logv;
  const RgVal *in[] = { x };
  switch (rg_int (gen, 0, 3)) {
  case 0:
    if (!rg_add_op (gen, "sigmoid", in, 1, NULL, x->rank, x->shape, RG_UNIT | RG_POSITIVE, &inner))
      return FALSE;
    break;
  case 1: {
    if (x->rank == 0)
      return FALSE;
    GrdAttrs a;
    grd_attrs_init (&a);
    if (rg_chance (gen, 0.5)) {
      a.has_axis = TRUE;
      a.n_axes = 1;
      a.axes[0] = rg_int (gen, 0, x->rank - 1);
    }
    if (!rg_add_op (gen, "softmax", in, 1, &a, x->rank, x->shape, RG_UNIT | RG_POSITIVE, &inner))
      return FALSE;
    break;
  }
  case 2: {
    /* log(1 - sigmoid(x)) */
    RgVal s, one = rg_constant (gen, GRD_DTYPE_FLOAT64, 0, NULL, 1, 1);
    if (!rg_add_op (gen, "sigmoid", in, 1, NULL, x->rank, x->shape, RG_UNIT, &s))
      return FALSE;
    const RgVal *in2[] = { &one, &s };
    if (!rg_add_op (gen, "sub", in2, 2, NULL, x->rank, x->shape, RG_UNIT | RG_POSITIVE, &inner))
      return FALSE;
    break;
  }
  default: {
    /* log(c + x), log(c / x), c first */
    RgVal gx, c = rg_constant (gen, GRD_DTYPE_FLOAT64, 0, NULL, 1, 2);
    if (!rg_guard (gen, x, FALSE, &gx))
      return FALSE;
    const RgVal *in2[] = { &c, &gx };
    if (!rg_add_op (gen, rg_chance (gen, 0.5) ? "add" : "div", in2, 2, NULL, x->rank, x->shape,
                    RG_POSITIVE, &inner))
      return FALSE;
    break;
  }
  }
  const RgVal *in3[] = { &inner };
  if (!rg_add_op (gen, "log", in3, 1, NULL, inner.rank, inner.shape, 0, &logv))
    return FALSE;
  if (!rg_chance (gen, 0.4)) {
    *out = logv;
    return TRUE;
  }
  /* near-miss: the inner node read a second time */
  const RgVal *in4[] = { &logv, &inner };
  return rg_add_op (gen, "add", in4, 2, NULL, inner.rank, inner.shape, 0, out);
}

/* ------------------------------------------------------------ the table */

static const RgOp table[] = {
  { "add", make_binary }, { "sub", make_binary }, { "mul", make_binary },
  { "div", make_binary }, { "pow", make_binary }, { "maximum", make_binary },
  { "minimum", make_binary }, { "neg", make_unary }, { "abs", make_unary },
  { "sign", make_unary }, { "square", make_unary }, { "sqrt", make_unary },
  { "reciprocal", make_unary },
  { "exp", make_unary }, { "log", make_unary }, { "log1p", make_unary },
  { "expm1", make_unary }, { "sin", make_unary }, { "cos", make_unary },
  { "tanh", make_unary }, { "sigmoid", make_unary }, { "softplus", make_unary },
  { "relu", make_unary }, { "erf", make_unary },
  { "eq", make_binary }, { "neq", make_binary }, { "lt", make_binary }, { "le", make_binary },
  { "gt", make_binary }, { "ge", make_binary }, { "and", make_binary }, { "or", make_binary },
  { "not", make_unary }, { "switch", make_switch }, { "clip", make_clip },
  { "floor", make_unary }, { "ceil", make_unary }, { "round", make_unary },
  { "cast", make_cast },
  { "sum", make_reduce }, { "mean", make_reduce }, { "prod", make_reduce },
  { "max", make_reduce }, { "min", make_reduce }, { "argmax", make_reduce },
  { "argmin", make_reduce },
  { "dot", make_dot }, { "outer", make_outer },
  { "transpose", make_transpose }, { "reshape", make_reshape },
  { "dimshuffle", make_dimshuffle }, { "flatten", make_flatten },
  { "concatenate", make_concatenate }, { "stack", make_stack }, { "slice", make_slice },
  { "take", make_take },
  { "softmax", make_softmax }, { "log_softmax", make_softmax }, { "logsumexp", make_softmax },
  { "categorical_crossentropy", make_cce }, { "binary_crossentropy", make_bce },
  { "one_hot", make_one_hot },
  { "mod", make_mod }, { "floor_div", make_mod }, { "shape", make_shape },
  { "arange", make_arange }, { "index", make_index }, { "set_subtensor", make_subtensor },
  { "inc_subtensor", make_subtensor }, { "conv2d", make_conv2d }, { "pool_2d", make_pool },
  /* not an op: the stable-pair patterns, exact and near-misses */
  { "pattern:stable-pairs", make_stable_pattern },
};

const RgOp *
rg_ops (gint *n_ops)
{
  *n_ops = G_N_ELEMENTS (table);
  return table;
}
