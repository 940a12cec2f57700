/* test-fused-axis.c: sums, maxima and minima over axes fused with their
 * elementwise producers (sum(x**2, axis=1), mean(tanh(x*w + b), axis=0), a
 * bias gradient _reduce_to(g * h), max(abs(x - y), axis=1)) against the
 * unfused reference, over random compositions: random chains of elementwise
 * ops on full-shape and broadcast inputs (NaNs now and then for max and
 * min), ending in a sum, mean, _reduce_to, max or min over a random run of
 * axes (keepdims or not), in float32 and float64, in shapes from one
 * element to rows and columns longer than one task. Each program must show
 * the fused sum in its description; results must not depend on the thread
 * count. */
#include "grad-check.h"
#include "grd-internal.h"
#include "compile/grd-program.h"

#include <math.h>
#include <string.h>

#define N_CASES 120

typedef struct {
  GrdDType dt;
  gint     rank;
  gint64   shape[4];
  gint     red0, red_len;   /* the reduced run of axes */
  gint     kind;            /* 0 sum, 1 mean, 2 _reduce_to, 3 max, 4 min */
  gboolean keepdims;
  gboolean extra_out;       /* an intermediate value is an output too */
  gint     n_ops;
  gint     op[5], a[5], b[5];
} Case;

static const char *const unary[] = { "square", "tanh", "neg", "abs", "sin", "sigmoid" };
static const char *const binary[] = { "add", "sub", "mul", "maximum" };

static void
make_case (GRand *rng, gint index, Case *c)
{
  static const gint64 dims[] = { 1, 2, 3, 5, 7, 17, 64, 130, 257, 600, 1000 };
  memset (c, 0, sizeof *c);
  c->dt = g_rand_boolean (rng) ? GRD_DTYPE_FLOAT32 : GRD_DTYPE_FLOAT64;
  if (index == 0) {   /* a row longer than one task */
    c->rank = 2;
    c->shape[0] = 3;
    c->shape[1] = 40001;
  } else if (index == 1) {   /* columns taller than one task */
    c->rank = 2;
    c->shape[0] = 5000;
    c->shape[1] = 37;
  } else if (index == 2) {   /* many short columns: several per task */
    c->rank = 3;
    c->shape[0] = 20000;
    c->shape[1] = 3;
    c->shape[2] = 2;
  } else {
    gint64 total;
    do {
      c->rank = g_rand_int_range (rng, 1, 5);
      total = 1;
      for (gint d = 0; d < c->rank; d++) {
        c->shape[d] = dims[g_rand_int_range (rng, 0, G_N_ELEMENTS (dims))];
        total *= c->shape[d];
      }
    } while (total > 300000);
  }
  if (index < 3) {
    c->red0 = index == 0 || index == 2 ? 1 : 0;
    c->red_len = 1;
  } else {
    c->red0 = g_rand_int_range (rng, 0, c->rank);
    c->red_len = g_rand_int_range (rng, 1, c->rank - c->red0 + 1);
  }
  c->kind = g_rand_int_range (rng, 0, 5);
  /* _reduce_to drops leading axes or keeps them as 1: reduced runs at the front */
  if (c->kind == 2 && c->red0 > 0)
    c->keepdims = TRUE;
  else
    c->keepdims = g_rand_boolean (rng);
  c->extra_out = g_rand_int_range (rng, 0, 4) == 0;
  c->n_ops = g_rand_int_range (rng, 1, 6);
  /* values: 0 x, 1 y, 2 b (broadcast), 3.. the ops' results */
  for (gint k = 0; k < c->n_ops; k++) {
    gint avail = 3 + k;
    gboolean bin = g_rand_boolean (rng);
    c->op[k] = bin ? 100 + g_rand_int_range (rng, 0, G_N_ELEMENTS (binary))
                   : g_rand_int_range (rng, 0, G_N_ELEMENTS (unary));
    /* the last op reads the previous one, so the chain stays one region */
    c->a[k] = k > 0 && (k == c->n_ops - 1 || g_rand_boolean (rng)) ? avail - 1 : g_rand_int_range (rng, 0, 2);
    c->b[k] = g_rand_int_range (rng, 0, avail);
  }
}

typedef struct {
  GrdTensor *out[2];
  char      *program;
} Result;

static void
run_case (const Case *c, GrdTensor *const *in, gint n_in, guint passes, Result *res)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef vars[4], v[16];
  for (gint i = 0; i < n_in; i++)
    vars[i] = grd_graph_variable (g, NULL, in[i]->dtype, in[i]->rank, in[i]->shape, &error);
  memcpy (v, vars, sizeof (GrdRef) * 3);
  for (gint k = 0; k < c->n_ops; k++) {
    GrdRef args[2] = { v[c->a[k]], v[c->b[k]] };
    if (c->op[k] >= 100)
      v[3 + k] = grd_graph_op (g, NULL, binary[c->op[k] - 100], args, 2, NULL, &error);
    else
      v[3 + k] = grd_graph_op (g, NULL, unary[c->op[k]], args, 1, NULL, &error);
  }
  GrdRef last = v[2 + c->n_ops];
  GrdRef outs[2];
  if (c->kind == 2) {
    GrdRef args[2] = { last, vars[3] };
    outs[0] = grd_graph_op (g, "r", "_reduce_to", args, 2, NULL, &error);
  } else {
    GrdAttrs attrs;
    grd_attrs_init (&attrs);
    gint axes[4];
    for (gint k = 0; k < c->red_len; k++)
      axes[k] = c->red0 + k;
    g_assert_true (grd_attrs_set_axes (&attrs, axes, c->red_len, NULL));
    attrs.keepdims = c->keepdims;
    static const char *const names[] = { "sum", "mean", NULL, "max", "min" };
    outs[0] = grd_graph_op (g, "r", names[c->kind], &last, 1, &attrs, &error);
  }
  /* an extra output: the first op's value when it is not the summed one */
  gint n_out = c->extra_out && c->n_ops > 1 ? 2 : 1;
  outs[1] = v[3];
  g_assert_no_error (error);
  g_autoptr (GrdFunction) fn = grd_function_new_with_passes (g, vars, n_in, outs, n_out, NULL, 0, passes,
                                                            &error);
  g_assert_no_error (error);
  res->program = grd_function_describe (fn);
  res->out[1] = NULL;
  g_assert_true (grd_function_call (fn, in, res->out, &error));
  g_assert_no_error (error);
}

/* the inputs: x and y of the full shape, b broadcast (1 where the coin
 * says, trailing axes only), and for _reduce_to the shape to reduce to */
static gint
make_inputs (const Case *c, guint64 seed, GrdTensor **in)
{
  gint64 bshape[4], like[4];
  gint brank = c->rank - (seed % 2 ? 1 : 0);
  for (gint d = 0; d < brank; d++) {
    gint64 full = c->shape[c->rank - brank + d];
    bshape[d] = (seed >> (d + 3)) % 2 ? 1 : full;
  }
  in[0] = grd_test_random (c->dt, c->rank, c->shape, -1, 1, seed);
  in[1] = grd_test_random (c->dt, c->rank, c->shape, -1, 1, seed + 1);
  in[2] = grd_test_random (c->dt, MAX (brank, 0), bshape, -1, 1, seed + 2);
  /* max and min: now and then NaNs in x, which win wherever they reach */
  if (c->kind >= 3 && seed % 3 == 0)
    for (gint64 i = (gint64) (seed % 11); i < in[0]->size; i += 997)
      grd_tensor_set (in[0], i, NAN);
  if (c->kind != 2)
    return 3;
  /* leading reduced axes dropped (no keepdims), else reduced axes kept as 1 */
  gint lr = 0;
  gboolean drop = c->red0 == 0 && !c->keepdims;
  for (gint d = 0; d < c->rank; d++) {
    gboolean red = d >= c->red0 && d < c->red0 + c->red_len;
    if (!(red && drop))
      like[lr++] = red ? 1 : c->shape[d];
  }
  in[3] = grd_test_random (c->dt, lr, like, -1, 1, seed + 3);
  return 4;
}

/* Whether the program sums (sum, mean, _reduce_to) a value that a fused
 * loop computes, outside that loop: a missed fusion. Passes may fold the
 * whole chain away (maximum(x, x), neg(neg(x))): then nothing is missed. */
static gboolean
reduce_of_fused_loop (const char *program)
{
  g_auto (GStrv) lines = g_strsplit (program, "\n", -1);
  for (gint i = 0; lines[i]; i++) {
    const char *at = NULL;
    static const char *const ops[] = { "= sum(", "= mean(", "= _reduce_to(", "= max(", "= min(" };
    for (gsize k = 0; k < G_N_ELEMENTS (ops) && !at; k++)
      if ((at = strstr (lines[i], ops[k])))
        at = strchr (at, '(') + 1;
    if (!at)
      continue;
    g_autofree char *arg = g_strndup (at, strcspn (at, ",)"));
    for (gint k = 0; lines[k]; k++) {
      const char *eq = strstr (lines[k], " = fused(");
      if (!eq)
        continue;
      g_autofree char *lhs = g_strndup (lines[k], eq - lines[k]);
      g_auto (GStrv) names = g_strsplit_set (lhs, ", ", -1);
      for (gint m = 0; names[m]; m++)
        if (g_str_equal (names[m], arg))
          return TRUE;
    }
  }
  return FALSE;
}

static void
test_random_compositions (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (1603);
  gint fused = 0, axes = 0;
  for (gint i = 0; i < N_CASES; i++) {
    Case c;
    make_case (rng, i, &c);
    GrdTensor *in[4];
    gint n_in = make_inputs (&c, 1000 + 7 * i, in);
    Result want = { 0 }, got = { 0 };
    run_case (&c, in, n_in, 0, &want);
    run_case (&c, in, n_in, GRD_PASS_ALL, &got);
    g_autofree char *shape = grd_tensor_describe (in[0]);
    g_test_message ("case %d: %s kind %d axes %d+%d keepdims %d ops %d\n%s", i, shape, c.kind, c.red0,
                    c.red_len, c.keepdims, c.n_ops, got.program);
    gint64 n = 1;
    for (gint k = 0; k < c.red_len; k++)
      n *= c.shape[c.red0 + k];
    gboolean f32 = c.dt == GRD_DTYPE_FLOAT32;
    /* float32 ops (the vector exp/tanh) differ from libm's by an ulp or
     * two per element; sums of n of them by up to n such errors */
    double atol = (f32 ? 4e-6 : 1e-13) * (double) (c.kind >= 3 ? 1 : n);
    grd_test_assert_close (got.out[0], want.out[0], f32 ? 1e-5 : 1e-12, atol);
    if (got.out[1])
      grd_test_assert_close (got.out[1], want.out[1], f32 ? 1e-5 : 1e-12, f32 ? 1e-6 : 1e-14);
    /* the reduced axes are a run of the loop's shape, so every case fuses
     * (a size-1 loop may be folded as a reshape first: only then not) */
    axes += strstr (got.program, "over axes fused") != NULL;
    if (strstr (got.program, " fused)"))
      fused++;
    else if (n > 1 && reduce_of_fused_loop (got.program))
      g_error ("case %d: the sum over axes was not fused:\n%s", i, got.program);
    for (gint k = 0; k < 2; k++) {
      g_clear_pointer (&want.out[k], grd_tensor_unref);
      g_clear_pointer (&got.out[k], grd_tensor_unref);
    }
    g_free (want.program);
    g_free (got.program);
    for (gint k = 0; k < n_in; k++)
      grd_tensor_unref (in[k]);
  }
  g_test_message ("%d of %d cases fused, %d of them over some axes only", fused, N_CASES, axes);
  g_assert_cmpint (fused, >=, N_CASES * 3 / 4);
  g_assert_cmpint (axes, >=, N_CASES / 2);
}

/* The bias gradient of a layer, d sum(tanh(x W + b)) / d b, is a
 * _reduce_to of an elementwise product: compiled, it is one fused loop. */
static void
test_bias_gradient (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  gint64 xs[2] = { 300, 40 }, ws[2] = { 40, 70 }, bs[1] = { 70 };
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 2, xs, &error);
  GrdRef w = grd_graph_variable (g, "w", GRD_DTYPE_FLOAT64, 2, ws, &error);
  GrdRef b = grd_graph_variable (g, "b", GRD_DTYPE_FLOAT64, 1, bs, &error);
  GrdRef xw[2] = { x, w };
  GrdRef h = grd_graph_op (g, "h", "dot", xw, 2, NULL, &error);
  GrdRef hb[2] = { h, b };
  GrdRef a = grd_graph_op (g, "a", "add", hb, 2, NULL, &error);
  GrdRef t = grd_graph_op (g, "t", "tanh", &a, 1, NULL, &error);
  GrdRef cost = grd_graph_op (g, "cost", "sum", &t, 1, NULL, &error);
  GrdRef gb;
  grd_graph_grad (g, "g", cost, &b, 1, NULL, 0, &gb, &error);
  g_assert_no_error (error);
  GrdRef vars[3] = { x, w, b };
  GrdTensor *in[3] = { grd_test_random (GRD_DTYPE_FLOAT64, 2, xs, -1, 1, 1),
                       grd_test_random (GRD_DTYPE_FLOAT64, 2, ws, -0.3, 0.3, 2),
                       grd_test_random (GRD_DTYPE_FLOAT64, 1, bs, -1, 1, 3) };
  g_autoptr (GrdTensor) want = NULL;
  g_autoptr (GrdTensor) got = NULL;
  g_autoptr (GrdFunction) ref = grd_function_new_with_passes (g, vars, 3, &gb, 1, NULL, 0, 0, &error);
  g_autoptr (GrdFunction) fn = grd_function_new_with_passes (g, vars, 3, &gb, 1, NULL, 0, GRD_PASS_ALL,
                                                             &error);
  g_assert_no_error (error);
  g_assert_true (grd_function_call (ref, in, &want, &error));
  g_assert_true (grd_function_call (fn, in, &got, &error));
  g_autofree char *program = grd_function_describe (fn);
  g_test_message ("%s", program);
  g_assert_nonnull (strstr (program, "over axes fused"));
  grd_test_assert_close (got, want, 1e-12, 1e-12);
  for (gint k = 0; k < 3; k++)
    grd_tensor_unref (in[k]);
}

/* bits of the fused sums of big rows, pieces of rows and columns */
static char *
big_results (void)
{
  static const gint64 shapes[][2] = { { 4096, 1000 }, { 3, 70001 }, { 9000, 33 } };
  guint32 h = 2166136261u;
  for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++)
    for (gint axis = 0; axis < 4; axis++) {
      Case c = { 0 };
      c.kind = axis < 2 ? 0 : 3;   /* sums, then maxima */
      c.dt = GRD_DTYPE_FLOAT32;
      c.rank = 2;
      memcpy (c.shape, shapes[s], sizeof shapes[s]);
      c.red0 = axis % 2;
      c.red_len = 1;
      c.n_ops = 2;
      c.op[0] = 100 + 2;   /* mul x y */
      c.a[0] = 0;
      c.b[0] = 1;
      c.op[1] = 1;         /* tanh */
      c.a[1] = 3;
      GrdTensor *in[4];
      gint n_in = make_inputs (&c, 77 + s, in);
      Result r = { 0 };
      run_case (&c, in, n_in, GRD_PASS_ALL, &r);
      const guint8 *bytes = r.out[0]->data;
      for (gint64 i = 0; i < r.out[0]->size * 4; i++)
        h = (h ^ bytes[i]) * 16777619u;
      grd_tensor_unref (r.out[0]);
      g_free (r.program);
      for (gint k = 0; k < n_in; k++)
        grd_tensor_unref (in[k]);
    }
  return g_strdup_printf ("%08x", h);
}

static void
test_thread_count_independence (void)
{
  const char *self = g_getenv ("GRADUS_TEST_SELF");
  g_assert_nonnull (self);
  char *got[2];
  for (gint k = 0; k < 2; k++) {
    g_auto (GStrv) env = g_environ_setenv (g_get_environ (), "GRADUS_THREADS", k ? "3" : "1", TRUE);
    char *argv[] = { (char *) self, "--print-big-results", NULL };
    g_autoptr (GError) error = NULL;
    gint status;
    g_assert_true (g_spawn_sync (NULL, argv, env, G_SPAWN_DEFAULT, NULL, NULL, &got[k], NULL, &status,
                                 &error));
    g_assert_no_error (error);
    g_assert_cmpint (status, ==, 0);
  }
  g_assert_cmpstr (got[0], ==, got[1]);
  g_assert_cmpuint (strlen (got[0]), ==, 9);
  g_free (got[0]);
  g_free (got[1]);
}

int
main (int argc, char **argv)
{
  if (argc > 1 && g_str_equal (argv[1], "--print-big-results")) {
    g_autofree char *r = big_results ();
    g_print ("%s\n", r);
    return 0;
  }
  g_setenv ("GRADUS_TEST_SELF", argv[0], TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/fused-axis/random-compositions", test_random_compositions);
  g_test_add_func ("/engine/fused-axis/bias-gradient", test_bias_gradient);
  g_test_add_func ("/engine/fused-axis/thread-count-independence", test_thread_count_independence);
  return g_test_run ();
}
