/* rg-check.c: the checks run on one random graph, all in float64.
 *
 * cost = sum(P * out) for a random P. Then:
 *   1. grad(cost) projected on a random direction d against central finite
 *      differences (theano's verify_grad); steps h1 = 1e-5 and h2 = 1e-6 must
 *      agree with each other first, or the point is too near a kink or a jump
 *      to be checked (the graph is rejected, not failed); the gradient fails
 *      when it is off both by more than 1e-6 relative plus twice their
 *      disagreement;
 *   2. the same for cost2 = sum(Q * grad(cost)): grad of grad;
 *   3. the optimised CPU program against the reference executor, on every
 *      output above: bit for bit where an output is made of exact ops only
 *      (graph_is_exact), within the tolerance below otherwise;
 *   4. Vulkan against the optimised CPU program.
 * Tolerances (stated, not tuned per case): finite differences 1e-6 relative
 * plus 1e-8 of sum|out| (the rounding of a difference of two costs over the
 * step); programs 1e-9 relative to the tensor's largest element (1e-5
 * for graphs with float32 steps, which a cast of an integer or bool path
 * gives). Where a discrete op reads computed floats, programs that differ
 * are counted as flips (RG_FLIP), not mismatches: a last-bit difference on a
 * near tie decides them. */
#include "randgraph.h"
#include "grd-internal.h"
#include "compile/grd-program.h"

#include <math.h>
#include <string.h>

#define FD_H1 1e-5
#define FD_H2 1e-6
#define FD_RTOL 1e-6
#define FD_KINK 1e-4
#define FD_ROUND 1e-8
#define PROGRAM_RTOL 1e-9
#define PROGRAM_RTOL_F32 1e-5

typedef struct {
  RgCase    *c;
  GArray    *wrt;        /* GrdRef: float64 inputs and shared variables */
  GrdRandom  rng;
} Ctx;

static void
set_result (RgResult *r, RgStatus status, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static void
set_result (RgResult *r, RgStatus status, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_free (r->message);
  r->message = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  r->status = status;
}

static GrdTensor *
random_like (GrdRandom *rng, const GrdTensor *t, gboolean normal)
{
  GrdTensor *r = grd_tensor_new (GRD_DTYPE_FLOAT64, t->rank, t->shape);
  for (gint64 i = 0; i < r->size; i++)
    grd_tensor_set (r, i, normal ? grd_random_normal (rng) : 2 * grd_random_uniform (rng) - 1);
  return r;
}

static gboolean
all_finite (const GrdTensor *t)
{
  for (gint64 i = 0; i < t->size; i++)
    if (!isfinite (grd_tensor_get (t, i)))
      return FALSE;
  return TRUE;
}

static double
max_abs (const GrdTensor *t)
{
  double m = 0;
  for (gint64 i = 0; i < t->size; i++)
    m = MAX (m, fabs (grd_tensor_get (t, i)));
  return m;
}

static double
sum_abs (const GrdTensor *t)
{
  double s = 0;
  for (gint64 i = 0; i < t->size; i++)
    s += fabs (grd_tensor_get (t, i));
  return s;
}

/* Calls fn with the case's inputs; outs must hold n_outputs slots. */
static gboolean
call (Ctx *x, GrdFunction *fn, GPtrArray *values, GrdTensor **outs, GError **error)
{
  return grd_function_call (fn, (GrdTensor *const *) values->pdata, outs, error);
}

static void
free_outs (GrdTensor **outs, gint n)
{
  for (gint i = 0; i < n; i++)
    g_clear_pointer (&outs[i], grd_tensor_unref);
}

/* The value of wrt[i] now: an input's value or a shared variable's. */
static GrdTensor *
wrt_value (Ctx *x, GPtrArray *values, gint i)
{
  GrdRef w = g_array_index (x->wrt, GrdRef, i);
  for (guint k = 0; k < x->c->vars->len; k++)
    if (grd_ref_equal (g_array_index (x->c->vars, GrdRef, k), w))
      return values->pdata[k];
  return grd_graph_get_value (x->c->graph, w);
}

/* Output `which` of fn at x + t d (for every wrt at once). */
static gboolean
eval_along (Ctx *x, GrdFunction *fn, gint n_out, gint which, GPtrArray *dirs, double t,
            double *value, GError **error)
{
  g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func ((GDestroyNotify) grd_tensor_unref);
  for (guint k = 0; k < x->c->values->len; k++)
    g_ptr_array_add (values, grd_tensor_ref (x->c->values->pdata[k]));
  g_autoptr (GPtrArray) saved = g_ptr_array_new_with_free_func ((GDestroyNotify) grd_tensor_unref);
  for (guint i = 0; i < x->wrt->len; i++) {
    GrdRef w = g_array_index (x->wrt, GrdRef, i);
    GrdTensor *v = grd_tensor_copy (wrt_value (x, values, i));
    const GrdTensor *d = dirs->pdata[i];
    for (gint64 e = 0; e < v->size; e++)
      grd_tensor_set (v, e, grd_tensor_get (v, e) + t * grd_tensor_get (d, e));
    gboolean is_input = FALSE;
    for (guint k = 0; k < x->c->vars->len; k++)
      if (grd_ref_equal (g_array_index (x->c->vars, GrdRef, k), w)) {
        grd_tensor_unref (values->pdata[k]);
        values->pdata[k] = v;
        is_input = TRUE;
      }
    if (!is_input) {
      g_ptr_array_add (saved, grd_tensor_ref (grd_graph_get_value (x->c->graph, w)));
      gboolean ok = grd_graph_set_value (x->c->graph, w, v, error);
      grd_tensor_unref (v);
      g_assert_true (ok);
    } else {
      g_ptr_array_add (saved, NULL);
    }
  }
  GrdTensor *outs[n_out];
  memset (outs, 0, sizeof outs);
  gboolean ok = call (x, fn, values, outs, error);
  if (ok)
    *value = grd_tensor_get (outs[which], 0);
  free_outs (outs, n_out);
  for (guint i = 0; i < x->wrt->len; i++)
    if (saved->pdata[i])
      g_assert_true (grd_graph_set_value (x->c->graph, g_array_index (x->wrt, GrdRef, i),
                                          saved->pdata[i], NULL));
  return ok;
}

/* Checks d/dt cost(x + t d) at t = 0 against <grads, d>. */
static RgStatus
check_fd (Ctx *x, GrdFunction *ref, gint n_out, gint cost_index, GrdTensor **grads,
          double scale, const char *what, RgResult *r)
{
  g_autoptr (GPtrArray) dirs = g_ptr_array_new_with_free_func ((GDestroyNotify) grd_tensor_unref);
  g_autoptr (GPtrArray) values = g_ptr_array_new ();
  for (guint k = 0; k < x->c->values->len; k++)
    g_ptr_array_add (values, x->c->values->pdata[k]);
  double an = 0;
  for (guint i = 0; i < x->wrt->len; i++) {
    GrdTensor *d = random_like (&x->rng, wrt_value (x, values, i), TRUE);
    for (gint64 e = 0; e < d->size; e++)
      an += grd_tensor_get (grads[i], e) * grd_tensor_get (d, e);
    g_ptr_array_add (dirs, d);
  }
  double c[4];
  const double ts[4] = { FD_H1, -FD_H1, FD_H2, -FD_H2 };
  for (gint k = 0; k < 4; k++) {
    g_autoptr (GError) error = NULL;
    if (!eval_along (x, ref, n_out, cost_index, dirs, ts[k], &c[k], &error)) {
      /* a perturbed input outside an op's domain */
      set_result (r, RG_REJECT, "%s: call at a perturbed point failed: %s", what, error->message);
      return RG_REJECT;
    }
  }
  double fd1 = (c[0] - c[1]) / (2 * FD_H1), fd2 = (c[2] - c[3]) / (2 * FD_H2);
  if (!isfinite (fd1) || !isfinite (fd2) || !isfinite (an)) {
    set_result (r, RG_REJECT, "%s: non-finite (fd %g, %g; grad %g)", what, fd1, fd2, an);
    return RG_REJECT;
  }
  double round = FD_ROUND * (1 + scale);
  if (fabs (fd1 - fd2) > FD_KINK * (1 + fabs (fd2)) + round) {
    set_result (r, RG_REJECT, "%s: finite differences disagree (h=%g: %.10g, h=%g: %.10g): a kink",
                what, FD_H1, fd1, FD_H2, fd2);
    return RG_REJECT;
  }
  /* a wrong gradient is off both differences by more than they are off each
   * other (their disagreement bounds the rounding and truncation) */
  double noise = fabs (fd1 - fd2);
  if (MIN (fabs (an - fd1), fabs (an - fd2)) > FD_RTOL * (1 + fabs (fd2)) + round + 2 * noise) {
    set_result (r, cost_index == 1 ? RG_FAIL_GRAD : RG_FAIL_GRAD2,
                "%s: directional derivative %.12g, finite differences %.12g (h=%g) and %.12g (h=%g)",
                what, an, fd2, FD_H2, fd1, FD_H1);
    return r->status;
  }
  return RG_PASS;
}

/* max |a - b| within rtol of the larger tensor's largest element; NaN and
 * infinities must be where they are. */
static gboolean
close_enough (const GrdTensor *got, const GrdTensor *want, double rtol, gboolean *bit_exact,
              double *err)
{
  *err = 0;
  if (got->dtype != want->dtype || !grd_tensor_same_shape (got, want)) {
    *bit_exact = FALSE;
    *err = INFINITY;
    return FALSE;
  }
  if (memcmp (got->data, want->data, got->size * grd_dtype_size (got->dtype)) != 0)
    *bit_exact = FALSE;
  double m = MAX (max_abs (got), max_abs (want));
  gboolean ok = TRUE;
  for (gint64 i = 0; i < got->size; i++) {
    double a = grd_tensor_get (got, i), b = grd_tensor_get (want, i);
    if (isnan (a) || isnan (b) || isinf (a) || isinf (b)) {
      if (!(isnan (a) && isnan (b)) && a != b) {
        *err = INFINITY;
        ok = FALSE;
      }
      continue;
    }
    double e = fabs (a - b);
    *err = MAX (*err, e);
    if (e > rtol * (1 + m))
      ok = FALSE;
  }
  return ok;
}

/* What loosens the comparison of two programs: float32 steps (a cast of an
 * integer path), and discrete ops reading computed floats, whose result a
 * last-bit difference can flip. Looks at the nodes behind the output. */
static void
graph_traits (GrdGraph *g, GrdRef out, gboolean *has_f32, gboolean *discrete)
{
  static const char *const discrete_ops[] = { "argmax", "argmin", "eq", "neq", "lt", "le", "gt",
                                              "ge", "sign", "floor", "ceil", "round", "cast",
                                              NULL };
  gint n = out.node + 1;
  g_autofree gboolean *needed = g_new0 (gboolean, n);
  needed[out.node] = TRUE;
  *has_f32 = *discrete = FALSE;
  for (gint i = n - 1; i >= 0; i--) {
    if (!needed[i])
      continue;
    GrdRef r = { i, 0 };
    if (grd_graph_ref_type (g, r)->dtype == GRD_DTYPE_FLOAT32)
      *has_f32 = TRUE;
    const char *op = grd_graph_node_op (g, i);
    for (gint j = 0; j < grd_graph_node_n_inputs (g, i); j++) {
      GrdRef in = grd_graph_node_input (g, i, j);
      needed[in.node] = TRUE;
      if (op && g_strv_contains (discrete_ops, op)
          && grd_graph_node_kind (g, in.node) == GRD_NODE_OP
          && grd_dtype_is_float (grd_graph_ref_type (g, in)->dtype)
          && !grd_dtype_is_float (grd_graph_ref_type (g, r)->dtype))
        *discrete = TRUE;
    }
  }
}

/* Ops whose reference kernel and optimised code give the very same bits:
 * IEEE-exact arithmetic (+ - * / sqrt, comparisons, rounding, casts), moves of
 * data, and max/min; not sums (their order), transcendentals (vector maths),
 * BLAS, or the row ops. A graph of these ops only must match bit for bit. */
static gboolean
graph_is_exact (GrdGraph *g, const GrdRef *outs, gint n_outs)
{
  static const char *const exact[] = {
    "add", "sub", "mul", "div", "maximum", "minimum", "neg", "abs", "sign", "square", "sqrt",
    "reciprocal", "relu", "eq", "neq", "lt", "le", "gt", "ge", "and", "or", "not", "switch",
    "clip", "floor", "ceil", "round", "cast", "max", "min", "argmax", "argmin", "outer",
    "transpose", "reshape", "dimshuffle", "flatten", "concatenate", "stack", "slice", "take",
    "one_hot", "_broadcast_to", "_reshape_like", "_ravel", "_slice_grad", "_concat_part",
    "_unreduce", "_onehot_like", "_reduce_count", NULL
  };
  gint n = grd_graph_n_nodes (g);
  g_autofree gboolean *needed = g_new0 (gboolean, n);
  for (gint k = 0; k < n_outs; k++)
    needed[outs[k].node] = TRUE;
  for (gint i = n - 1; i >= 0; i--) {
    if (!needed[i])
      continue;
    const char *op = grd_graph_node_op (g, i);
    if (op && !g_strv_contains (exact, op))
      return FALSE;
    for (gint j = 0; j < grd_graph_node_n_inputs (g, i); j++)
      needed[grd_graph_node_input (g, i, j).node] = TRUE;
  }
  return TRUE;
}

static const char *
output_name (gint i, gint n_wrt)
{
  static const char *const names[] = { "out", "cost", "grad", "cost2", "grad2" };
  if (i < 2)
    return names[i];
  if (i < 2 + n_wrt)
    return names[2];
  return i == 2 + n_wrt ? names[3] : names[4];
}

void
rg_check (RgCase *c, gboolean vulkan, guint64 seed, RgResult *r)
{
  Ctx x = { .c = c };
  grd_random_seed (&x.rng, seed ^ 0x9e3779b97f4a7c15ull);
  r->status = RG_PASS;
  r->opt_bit_exact = TRUE;
  r->exact_outputs = 0;
  g_clear_pointer (&r->message, g_free);
  g_clear_pointer (&r->vulkan_fallback, g_free);
  GrdGraph *g = c->graph;
  g_autoptr (GError) error = NULL;

  /* 0. the output's value, for its shape and to see it is finite */
  g_autoptr (GrdTensor) out0 = NULL;
  {
    g_autoptr (GrdFunction) f0 = grd_function_new_with_passes (
        g, (GrdRef *) c->vars->data, c->vars->len, &c->out, 1, NULL, 0, 0, &error);
    if (!f0 || !call (&x, f0, c->values, &out0, &error)) {
      set_result (r, RG_FAIL_ERROR, "reference executor: %s", error->message);
      return;
    }
  }
  if (!all_finite (out0) || max_abs (out0) > 1e8) {
    set_result (r, RG_REJECT, "the output is not finite or too large");
    return;
  }
  double scale = sum_abs (out0);

  x.wrt = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  for (gint i = 0; i < grd_graph_n_nodes (g); i++) {
    GrdNodeKind k = grd_graph_node_kind (g, i);
    GrdRef ref = { i, 0 };
    if ((k == GRD_NODE_VARIABLE || k == GRD_NODE_SHARED)
        && grd_graph_ref_type (g, ref)->dtype == GRD_DTYPE_FLOAT64)
      g_array_append_val (x.wrt, ref);
  }
  gint n_wrt = x.wrt->len;
  if (n_wrt == 0) {
    g_array_unref (x.wrt);
    set_result (r, RG_REJECT, "no float64 input");
    return;
  }

  /* 1. cost, grad, cost2, grad of grad */
  g_autoptr (GrdTensor) p = random_like (&x.rng, out0, FALSE);
  GrdRef pc = grd_graph_constant (g, NULL, p, &error);
  GrdRef cost = grd_op1 (g, "sum", grd_op2 (g, "mul", c->out, pc, &error), &error);
  gint n_out = 2 + n_wrt + 1 + n_wrt;
  GrdRef outs[n_out];
  outs[0] = c->out;
  outs[1] = cost;
  grd_graph_grad (g, NULL, cost, (GrdRef *) x.wrt->data, n_wrt, &c->blocked,
                  c->has_blocked ? 1 : 0, outs + 2, &error);
  if (error) {
    set_result (r, RG_FAIL_ERROR, "grad: %s", error->message);
    g_array_unref (x.wrt);
    return;
  }
  GrdRef cost2 = GRD_REF_NONE;
  for (gint i = 0; i < n_wrt; i++) {
    GrdTensor *w = grd_graph_get_value (g, g_array_index (x.wrt, GrdRef, i));
    const GrdTensor *like = w;
    if (!w) {
      for (guint k = 0; k < c->vars->len; k++)
        if (grd_ref_equal (g_array_index (c->vars, GrdRef, k), g_array_index (x.wrt, GrdRef, i)))
          like = c->values->pdata[k];
    }
    g_autoptr (GrdTensor) q = random_like (&x.rng, like, FALSE);
    GrdRef term = grd_op1 (g, "sum", grd_op2 (g, "mul", outs[2 + i], grd_graph_constant (g, NULL, q, &error),
                                              &error), &error);
    cost2 = i == 0 ? term : grd_op2 (g, "add", cost2, term, &error);
  }
  outs[2 + n_wrt] = cost2;
  if (!error)
    grd_graph_grad (g, NULL, cost2, (GrdRef *) x.wrt->data, n_wrt, NULL, 0, outs + 3 + n_wrt,
                    &error);
  if (error) {
    set_result (r, RG_FAIL_ERROR, "grad of grad: %s", error->message);
    g_array_unref (x.wrt);
    return;
  }

  GrdTensor *ref_v[n_out], *opt_v[n_out], *vk_v[n_out];
  memset (ref_v, 0, sizeof ref_v);
  memset (opt_v, 0, sizeof opt_v);
  memset (vk_v, 0, sizeof vk_v);
  GrdFunction *ref = grd_function_new_with_passes (g, (GrdRef *) c->vars->data, c->vars->len, outs,
                                                   n_out, NULL, 0, 0, &error);
  if (!ref || !call (&x, ref, c->values, ref_v, &error)) {
    set_result (r, RG_FAIL_ERROR, "reference executor with gradients: %s", error->message);
    goto done;
  }
  for (gint i = 0; i < n_out; i++)
    if (!all_finite (ref_v[i])) {
      set_result (r, RG_REJECT, "%s is not finite", output_name (i, n_wrt));
      goto done;
    }

  /* 2. gradients against finite differences */
  if (check_fd (&x, ref, n_out, 1, ref_v + 2, scale, "grad", r) != RG_PASS)
    goto done;
  double scale2 = 0;
  for (gint i = 0; i < n_wrt; i++)
    scale2 += sum_abs (ref_v[2 + i]);
  if (check_fd (&x, ref, n_out, 2 + n_wrt, ref_v + 3 + n_wrt, scale2, "grad of grad", r) != RG_PASS)
    goto done;

  /* 3. optimised against reference */
  gboolean has_f32, discrete;
  graph_traits (g, c->out, &has_f32, &discrete);
  double rtol = has_f32 ? PROGRAM_RTOL_F32 : PROGRAM_RTOL;
  RgStatus mismatch = discrete ? RG_FLIP : RG_FAIL_OPT;
  {
    g_autoptr (GrdFunction) opt = grd_function_new_with_passes (
        g, (GrdRef *) c->vars->data, c->vars->len, outs, n_out, NULL, 0, GRD_PASS_ALL, &error);
    if (!opt || !call (&x, opt, c->values, opt_v, &error)) {
      set_result (r, RG_FAIL_ERROR, "optimised CPU program: %s", error->message);
      goto done;
    }
    for (gint i = 0; i < n_out; i++) {
      double err;
      gboolean same_bits = TRUE;
      gboolean ok = close_enough (opt_v[i], ref_v[i], rtol, &same_bits, &err);
      r->opt_bit_exact &= same_bits;
      /* the costs are sums (rounded in another order): not held to bits */
      gboolean held = i != 1 && i != 2 + n_wrt && graph_is_exact (g, &outs[i], 1);
      r->exact_outputs += held && same_bits;
      if (ok && !same_bits && held) {
        set_result (r, RG_FAIL_OPT, "output %d (%s): only exact ops, yet the optimised bits "
                    "differ from the reference's (by %g)", i, output_name (i, n_wrt), err);
        goto done;
      }
      if (!ok) {
        g_autofree char *desc = grd_function_describe (opt);
        set_result (r, mismatch, "output %d (%s): optimised differs from reference by %g "
                    "(largest |value| %g)\n%s", i, output_name (i, n_wrt), err, max_abs (ref_v[i]),
                    desc);
        goto done;
      }
    }
  }

  /* 4. Vulkan against the CPU */
  if (vulkan) {
    g_autofree char *warning = NULL;
    g_autoptr (GrdFunction) vk = grd_function_new_on (g, (GrdRef *) c->vars->data, c->vars->len,
                                                      outs, n_out, NULL, 0, GRD_BACKEND_VULKAN,
                                                      &warning, &error);
    if (vk && warning) {
      /* an op without a Vulkan kernel: the function runs on the CPU, as
       * documented; counted, not compared */
      r->vulkan_fallback = g_strdup (warning);
      goto done;
    }
    if (!vk || !call (&x, vk, c->values, vk_v, &error)) {
      set_result (r, RG_FAIL_ERROR, "Vulkan: %s", error->message);
      goto done;
    }
    for (gint i = 0; i < n_out; i++) {
      double err;
      gboolean exact = TRUE;
      if (!close_enough (vk_v[i], opt_v[i], rtol, &exact, &err)) {
        set_result (r, discrete ? RG_FLIP : RG_FAIL_VULKAN, "output %d (%s): Vulkan differs from the CPU by %g "
                    "(largest |value| %g)", i, output_name (i, n_wrt), err, max_abs (opt_v[i]));
        goto done;
      }
    }
  }
done:
  free_outs (ref_v, n_out);
  free_outs (opt_v, n_out);
  free_outs (vk_v, n_out);
  if (ref)
    grd_function_free (ref);
  g_array_unref (x.wrt);
}
