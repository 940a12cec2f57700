/* test-elementwise.c: the elementwise ops: values against independent
 * references (NumPy semantics: broadcasting, dtype promotion, NaN and inf),
 * type errors that name the node, gradients against finite differences,
 * second derivatives, and the op codes the fused-loop compilers use. */
#include "grad-check.h"
#include "grd-internal.h"

#include <math.h>
#include <string.h>

#define SHAPE(...) ((const gint64[]) { __VA_ARGS__ })
#define VALS(...) ((const double[]) { __VA_ARGS__ })

#define F32 GRD_DTYPE_FLOAT32
#define F64 GRD_DTYPE_FLOAT64
#define I32 GRD_DTYPE_INT32
#define I64 GRD_DTYPE_INT64
#define BOOL GRD_DTYPE_BOOL

/* The op's own reference kernel, called directly on a bare node. */
static GrdTensor *
eval_direct (const char *op, const GrdAttrs *attrs, GrdTensor *const *in, gint n)
{
  g_autoptr (GError) error = NULL;
  GrdNode node = { 0 };
  node.id = (char *) "direct";
  node.kind = GRD_NODE_OP;
  node.op = grd_op_lookup (op);
  node.n_inputs = n;
  if (attrs)
    node.attrs = *attrs;
  else
    grd_attrs_init (&node.attrs);
  g_assert_nonnull (node.op);
  GrdTensor *out = NULL;
  g_assert_true (node.op->eval (&node, in, &out, &error));
  g_assert_no_error (error);
  return out;
}

/* The reference kernel's result, after checking that a compiled function
 * (whatever executor it runs on) agrees with it in dtype, shape and value,
 * within float32 rounding (its maths may be vectorised differently). */
static GrdTensor *
eval_op (const char *op, const GrdAttrs *attrs, GrdTensor *const *in, gint n)
{
  GrdTensor *direct = eval_direct (op, attrs, in, n);
  g_autoptr (GrdTensor) via_function = grd_test_eval_op (op, attrs, in, n);
  grd_test_assert_close (via_function, direct, 2e-6, 1e-6);
  return direct;
}

static GrdTensor *
eval1 (const char *op, GrdTensor *a)
{
  return eval_op (op, NULL, &a, 1);
}

static GrdTensor *
eval2 (const char *op, GrdTensor *a, GrdTensor *b)
{
  GrdTensor *in[2] = { a, b };
  return eval_op (op, NULL, in, 2);
}

static GrdTensor *
eval3 (const char *op, GrdTensor *a, GrdTensor *b, GrdTensor *c)
{
  GrdTensor *in[3] = { a, b, c };
  return eval_op (op, NULL, in, 3);
}

static GrdTensor *
cast_to (GrdTensor *a, GrdDType dtype)
{
  GrdAttrs at;
  grd_attrs_init (&at);
  at.has_dtype = TRUE;
  at.dtype = dtype;
  return eval_op ("cast", &at, &a, 1);
}

static GrdTensor *
tensor_i64 (gint n, const gint64 *values)
{
  GrdTensor *t = grd_tensor_new (I64, 1, (gint64[]) { n });
  memcpy (t->data, values, sizeof (gint64) * n);
  return t;
}

/* ------------------------------------------------------------ references */

static double
round_half_even (double x)
{
  if (!isfinite (x))
    return x;
  double f = floor (x), d = x - f;
  if (d > 0.5)
    return f + 1;
  if (d < 0.5)
    return f;
  return fmod (f, 2) == 0 ? f : f + 1;
}

static double
ref_unary (const char *op, double x)
{
  if (!strcmp (op, "neg")) return -x;
  if (!strcmp (op, "abs")) return x < 0 ? -x : x;
  if (!strcmp (op, "sign")) return x > 0 ? 1 : x < 0 ? -1 : 0;
  if (!strcmp (op, "square")) return x * x;
  if (!strcmp (op, "sqrt")) return sqrt (x);
  if (!strcmp (op, "reciprocal")) return 1 / x;
  if (!strcmp (op, "exp")) return exp (x);
  if (!strcmp (op, "log")) return log (x);
  if (!strcmp (op, "log1p")) return log (1 + x) + (x - ((1 + x) - 1)) / (1 + x);
  if (!strcmp (op, "expm1")) return fabs (x) < 1e-5 ? x + x * x / 2 : exp (x) - 1;
  if (!strcmp (op, "sin")) return sin (x);
  if (!strcmp (op, "cos")) return cos (x);
  if (!strcmp (op, "tanh")) return (exp (2 * x) - 1) / (exp (2 * x) + 1);
  if (!strcmp (op, "sigmoid")) return 1 / (1 + exp (-x));
  if (!strcmp (op, "softplus")) return log1p (exp (x));
  if (!strcmp (op, "relu")) return x > 0 ? x : 0;
  if (!strcmp (op, "erf")) return erf (x);
  if (!strcmp (op, "floor")) return floor (x);
  if (!strcmp (op, "ceil")) return ceil (x);
  if (!strcmp (op, "round")) return round_half_even (x);
  g_assert_not_reached ();
}

static double
ref_binary (const char *op, double a, double b)
{
  if (!strcmp (op, "add")) return a + b;
  if (!strcmp (op, "sub")) return a - b;
  if (!strcmp (op, "mul")) return a * b;
  if (!strcmp (op, "div")) return a / b;
  if (!strcmp (op, "pow")) return pow (a, b);
  if (!strcmp (op, "maximum")) return a > b ? a : b;
  if (!strcmp (op, "minimum")) return a < b ? a : b;
  if (!strcmp (op, "eq")) return a == b;
  if (!strcmp (op, "neq")) return a != b;
  if (!strcmp (op, "lt")) return a < b;
  if (!strcmp (op, "le")) return a <= b;
  if (!strcmp (op, "gt")) return a > b;
  if (!strcmp (op, "ge")) return a >= b;
  if (!strcmp (op, "and")) return a != 0 && b != 0;
  if (!strcmp (op, "or")) return a != 0 || b != 0;
  g_assert_not_reached ();
}

static gboolean
is_compare (const char *op)
{
  static const char *const names[] = { "eq", "neq", "lt", "le", "gt", "ge", "and", "or", NULL };
  return g_strv_contains (names, op);
}

/* ------------------------------------------------------------ values */

typedef struct {
  const char *op;
  double      lo, hi;
  gboolean    float_valued;  /* ints give float64, bools float32 */
} UnaryCase;

static const UnaryCase unary_cases[] = {
  { "neg", -3, 3, FALSE },     { "abs", -3, 3, FALSE },       { "sign", -3, 3, FALSE },
  { "square", -3, 3, FALSE },  { "sqrt", 0, 4, TRUE },        { "reciprocal", 0.2, 3, TRUE },
  { "exp", -5, 5, TRUE },      { "log", 0.01, 10, TRUE },     { "log1p", -0.9, 5, TRUE },
  { "expm1", -3, 3, TRUE },    { "sin", -6, 6, TRUE },        { "cos", -6, 6, TRUE },
  { "tanh", -4, 4, TRUE },     { "sigmoid", -20, 20, TRUE },  { "softplus", -20, 20, TRUE },
  { "relu", -3, 3, FALSE },    { "erf", -3, 3, TRUE },        { "floor", -5, 5, FALSE },
  { "ceil", -5, 5, FALSE },    { "round", -5, 5, FALSE },
};

static void
test_unary_float (void)
{
  for (gsize c = 0; c < G_N_ELEMENTS (unary_cases); c++) {
    const UnaryCase *uc = &unary_cases[c];
    for (GrdDType dt = F32; dt <= F64; dt++) {
      g_autoptr (GrdTensor) x = grd_test_random (dt, 2, SHAPE (5, 7), uc->lo, uc->hi, 11 + c);
      g_autoptr (GrdTensor) y = eval1 (uc->op, x);
      double want[35];
      for (gint i = 0; i < 35; i++)
        want[i] = ref_unary (uc->op, grd_tensor_get (x, i));
      if (g_test_verbose ())
        g_test_message ("%s %s", uc->op, grd_dtype_name (dt));
      grd_test_assert_tensor (y, dt, 2, SHAPE (5, 7), want, dt == F32 ? 3e-6 : 1e-13,
                              dt == F32 ? 1e-6 : 1e-15);
    }
  }
}

/* Integer and bool inputs: float functions give float64 (float32 for bool),
 * the others keep the dtype. */
static void
test_unary_int_bool (void)
{
  for (gsize c = 0; c < G_N_ELEMENTS (unary_cases); c++) {
    const UnaryCase *uc = &unary_cases[c];
    double lo = MAX (uc->lo, uc->op[0] == 'l' ? 1 : -3);  /* log, log1p: positive */
    for (GrdDType dt = I32; dt <= I64; dt++) {
      g_autoptr (GrdTensor) x = grd_test_random (dt, 1, SHAPE (9), ceil (lo), uc->hi, 5 + c);
      g_autoptr (GrdTensor) y = eval1 (uc->op, x);
      double want[9];
      for (gint i = 0; i < 9; i++)
        want[i] = ref_unary (uc->op, grd_tensor_get (x, i));
      grd_test_assert_tensor (y, uc->float_valued ? F64 : dt, 1, SHAPE (9), want, 1e-13, 1e-15);
    }
    if (!strcmp (uc->op, "neg"))
      continue;  /* a type error, tested below */
    g_autoptr (GrdTensor) b = grd_test_tensor (BOOL, 1, SHAPE (2), VALS (1, 0));
    g_autoptr (GrdTensor) y = eval1 (uc->op, b);
    double want[2] = { ref_unary (uc->op, 1), ref_unary (uc->op, 0) };
    if (!uc->float_valued)
      for (gint i = 0; i < 2; i++)
        want[i] = want[i] != 0;  /* bool results */
    grd_test_assert_tensor (y, uc->float_valued ? F32 : BOOL, 1, SHAPE (2), want, 1e-6, 1e-7);
  }
}

static const char *const binary_ops[] = {
  "add", "sub", "mul", "div", "pow", "maximum", "minimum",
  "eq", "neq", "lt", "le", "gt", "ge", "and", "or",
};

/* [3,1] with [4] gives [3,4]; values with ties and zeros. */
static void
test_binary_broadcast (void)
{
  for (gsize c = 0; c < G_N_ELEMENTS (binary_ops); c++) {
    const char *op = binary_ops[c];
    gboolean positive = !strcmp (op, "pow");
    for (GrdDType dt = F32; dt <= F64; dt++) {
      g_autoptr (GrdTensor) a = positive
          ? grd_test_tensor (dt, 2, SHAPE (3, 1), VALS (0.5, 1.5, 2))
          : grd_test_tensor (dt, 2, SHAPE (3, 1), VALS (-1.5, 0, 2));
      g_autoptr (GrdTensor) b = grd_test_tensor (dt, 1, SHAPE (4), VALS (2, -1.5, 0.5, 3));
      g_autoptr (GrdTensor) y = eval2 (op, a, b);
      g_autoptr (GrdTensor) y2 = eval2 (op, b, a);
      double want[12], want2[12];
      for (gint i = 0; i < 3; i++)
        for (gint j = 0; j < 4; j++) {
          want[i * 4 + j] = ref_binary (op, grd_tensor_get (a, i), grd_tensor_get (b, j));
          want2[i * 4 + j] = ref_binary (op, grd_tensor_get (b, j), grd_tensor_get (a, i));
        }
      GrdDType rd = is_compare (op) ? BOOL : dt;
      grd_test_assert_tensor (y, rd, 2, SHAPE (3, 4), want, 1e-6, 0);
      grd_test_assert_tensor (y2, rd, 2, SHAPE (3, 4), want2, 1e-6, 0);
    }
  }
}

/* A 0-d operand against [2,3], on either side. */
static void
test_scalar_broadcast (void)
{
  for (gsize c = 0; c < G_N_ELEMENTS (binary_ops); c++) {
    const char *op = binary_ops[c];
    g_autoptr (GrdTensor) s = grd_test_tensor (F64, 0, NULL, VALS (1.5));
    g_autoptr (GrdTensor) m = grd_test_tensor (F64, 2, SHAPE (2, 3), VALS (0.5, 1, 1.5, 2, 0, 3));
    g_autoptr (GrdTensor) y = eval2 (op, s, m);
    g_autoptr (GrdTensor) y2 = eval2 (op, m, s);
    double want[6], want2[6];
    for (gint i = 0; i < 6; i++) {
      want[i] = ref_binary (op, 1.5, grd_tensor_get (m, i));
      want2[i] = ref_binary (op, grd_tensor_get (m, i), 1.5);
    }
    GrdDType rd = is_compare (op) ? BOOL : F64;
    grd_test_assert_tensor (y, rd, 2, SHAPE (2, 3), want, 1e-15, 0);
    grd_test_assert_tensor (y2, rd, 2, SHAPE (2, 3), want2, 1e-15, 0);
  }
  /* 0-d with 0-d stays 0-d */
  g_autoptr (GrdTensor) a = grd_test_tensor (I32, 0, NULL, VALS (7));
  g_autoptr (GrdTensor) b = grd_test_tensor (I32, 0, NULL, VALS (2));
  g_autoptr (GrdTensor) q = eval2 ("div", a, b);
  grd_test_assert_tensor (q, F64, 0, NULL, VALS (3.5), 0, 0);
}

static void
test_empty (void)
{
  g_autoptr (GrdTensor) e = grd_tensor_new (F32, 2, SHAPE (0, 3));
  g_autoptr (GrdTensor) r = grd_test_tensor (F32, 1, SHAPE (3), VALS (1, 2, 3));
  g_autoptr (GrdTensor) s = grd_test_tensor (I64, 0, NULL, VALS (2));
  g_autoptr (GrdTensor) y1 = eval2 ("add", e, r);
  grd_test_assert_tensor (y1, F32, 2, SHAPE (0, 3), NULL, 0, 0);
  g_autoptr (GrdTensor) y2 = eval2 ("mul", s, e);
  grd_test_assert_tensor (y2, F64, 2, SHAPE (0, 3), NULL, 0, 0);
  g_autoptr (GrdTensor) y3 = eval1 ("exp", e);
  grd_test_assert_tensor (y3, F32, 2, SHAPE (0, 3), NULL, 0, 0);
  g_autoptr (GrdTensor) y4 = eval2 ("lt", e, r);
  grd_test_assert_tensor (y4, BOOL, 2, SHAPE (0, 3), NULL, 0, 0);
  g_autoptr (GrdTensor) y5 = eval3 ("switch", e, r, s);
  grd_test_assert_tensor (y5, F64, 2, SHAPE (0, 3), NULL, 0, 0);
  g_autoptr (GrdTensor) y6 = cast_to (e, I32);
  grd_test_assert_tensor (y6, I32, 2, SHAPE (0, 3), NULL, 0, 0);
  /* no element raises a negative power */
  g_autoptr (GrdTensor) ei = grd_tensor_new (I64, 1, SHAPE (0));
  g_autoptr (GrdTensor) neg = grd_test_tensor (I64, 0, NULL, VALS (-1));
  g_autoptr (GrdTensor) y7 = eval2 ("pow", ei, neg);
  grd_test_assert_tensor (y7, I64, 1, SHAPE (0), NULL, 0, 0);
  g_autoptr (GrdTensor) y8 = eval1 ("round", ei);
  grd_test_assert_tensor (y8, I64, 1, SHAPE (0), NULL, 0, 0);
}

/* numpy.result_type of the inputs; float functions of ints give float64. */
static void
test_dtypes (void)
{
  static const struct {
    const char *op;
    GrdDType    a, b, want;
  } cases[] = {
    { "add", I32, F32, F64 },     { "add", I64, F32, F64 },   { "add", I32, I64, I64 },
    { "add", BOOL, I32, I32 },    { "add", BOOL, F32, F32 },  { "sub", F32, F64, F64 },
    { "mul", BOOL, BOOL, BOOL },  { "add", BOOL, BOOL, BOOL }, { "mul", BOOL, I64, I64 },
    { "div", I64, I64, F64 },     { "div", I32, I32, F64 },   { "div", I32, F32, F64 },
    { "div", F32, F32, F32 },     { "div", BOOL, BOOL, F32 }, { "div", BOOL, I32, F64 },
    { "pow", I32, I32, I32 },     { "pow", I32, F32, F64 },   { "pow", F32, I64, F64 },
    { "maximum", I32, F64, F64 }, { "minimum", BOOL, BOOL, BOOL },
    { "lt", I32, F32, BOOL },     { "eq", BOOL, BOOL, BOOL }, { "ge", I64, F64, BOOL },
    { "and", F32, I32, BOOL },    { "or", BOOL, F64, BOOL },
  };
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++) {
    g_autoptr (GrdTensor) a = grd_test_tensor (cases[c].a, 1, SHAPE (2), VALS (1, 2));
    g_autoptr (GrdTensor) b = grd_test_tensor (cases[c].b, 1, SHAPE (2), VALS (1, 0));
    g_autoptr (GrdTensor) y = eval2 (cases[c].op, a, b);
    double want[2];
    for (gint i = 0; i < 2; i++) {
      want[i] = ref_binary (cases[c].op, grd_tensor_get (a, i), grd_tensor_get (b, i));
      if (cases[c].want == BOOL)
        want[i] = want[i] != 0;
    }
    if (g_test_verbose ())
      g_test_message ("%s %s %s", cases[c].op, grd_dtype_name (cases[c].a),
                      grd_dtype_name (cases[c].b));
    grd_test_assert_tensor (y, cases[c].want, 1, SHAPE (2), want, 1e-7, 0);
  }
  /* int32 + float32 is float64, so 2^24 + 1 survives */
  g_autoptr (GrdTensor) big = grd_test_tensor (I32, 0, NULL, VALS (16777217));
  g_autoptr (GrdTensor) zero = grd_test_tensor (F32, 0, NULL, VALS (0));
  g_autoptr (GrdTensor) sum = eval2 ("add", big, zero);
  grd_test_assert_tensor (sum, F64, 0, NULL, VALS (16777217), 0, 0);
  /* three operands promote together */
  g_autoptr (GrdTensor) cond = grd_test_tensor (BOOL, 1, SHAPE (2), VALS (1, 0));
  g_autoptr (GrdTensor) ia = grd_test_tensor (I32, 1, SHAPE (2), VALS (3, 4));
  g_autoptr (GrdTensor) fb = grd_test_tensor (F32, 1, SHAPE (2), VALS (0.5, 0.25));
  g_autoptr (GrdTensor) sw = eval3 ("switch", cond, ia, fb);
  grd_test_assert_tensor (sw, F64, 1, SHAPE (2), VALS (3, 0.25), 0, 0);
  g_autoptr (GrdTensor) lo = grd_test_tensor (F32, 0, NULL, VALS (3.5));
  g_autoptr (GrdTensor) hi = grd_test_tensor (I64, 0, NULL, VALS (10));
  g_autoptr (GrdTensor) cl = eval3 ("clip", ia, lo, hi);
  grd_test_assert_tensor (cl, F64, 1, SHAPE (2), VALS (3.5, 4), 0, 0);
}

static void
test_integers (void)
{
  /* int64 wraps as NumPy's int64 does, and stays exact beyond 2^53 */
  g_autoptr (GrdTensor) a = tensor_i64 (3, (gint64[]) { G_MAXINT64, (1LL << 53) + 1, -7 });
  g_autoptr (GrdTensor) b = tensor_i64 (3, (gint64[]) { 1, 1LL << 53, 2 });
  g_autoptr (GrdTensor) s = eval2 ("add", a, b);
  const gint64 *sd = s->data;
  g_assert_cmpint (s->dtype, ==, I64);
  g_assert_cmpint (sd[0], ==, G_MININT64);
  g_assert_cmpint (sd[1], ==, (1LL << 54) + 1);
  g_assert_cmpint (sd[2], ==, -5);
  g_autoptr (GrdTensor) m = eval2 ("maximum", a, b);
  g_assert_cmpint (((gint64 *) m->data)[1], ==, (1LL << 53) + 1);
  g_autoptr (GrdTensor) e = eval2 ("eq", a, b);
  grd_test_assert_tensor (e, BOOL, 1, SHAPE (3), VALS (0, 0, 0), 0, 0);
  g_autoptr (GrdTensor) d = eval2 ("sub", a, b);
  g_assert_cmpint (((gint64 *) d->data)[1], ==, 1);
  g_autoptr (GrdTensor) n = eval1 ("neg", a);
  g_assert_cmpint (((gint64 *) n->data)[0], ==, -G_MAXINT64);

  /* int32 wraps in 32 bits: 65536 * 65536 = 0, 3^40 = 689956897 (NumPy) */
  g_autoptr (GrdTensor) x = grd_test_tensor (I32, 1, SHAPE (5), VALS (65536, 3, -3, 0, 2));
  g_autoptr (GrdTensor) p = grd_test_tensor (I32, 1, SHAPE (5), VALS (65536, 40, 3, 0, 10));
  g_autoptr (GrdTensor) prod = eval2 ("mul", x, x);
  grd_test_assert_tensor (prod, I32, 1, SHAPE (5), VALS (0, 9, 9, 0, 4), 0, 0);
  g_autoptr (GrdTensor) pw = eval2 ("pow", x, p);
  grd_test_assert_tensor (pw, I32, 1, SHAPE (5), VALS (0, 689956897, -27, 1, 1024), 0, 0);
  g_autoptr (GrdTensor) two = tensor_i64 (1, (gint64[]) { 2 });
  g_autoptr (GrdTensor) sixty3 = tensor_i64 (1, (gint64[]) { 63 });
  g_autoptr (GrdTensor) p63 = eval2 ("pow", two, sixty3);
  g_assert_cmpint (((gint64 *) p63->data)[0], ==, G_MININT64);

  /* abs of the minimum wraps to itself; sign and relu */
  g_autoptr (GrdTensor) v = grd_test_tensor (I32, 1, SHAPE (4), VALS (-2147483648.0, -2, 0, 3));
  g_autoptr (GrdTensor) ab = eval1 ("abs", v);
  grd_test_assert_tensor (ab, I32, 1, SHAPE (4), VALS (-2147483648.0, 2, 0, 3), 0, 0);
  g_autoptr (GrdTensor) sg = eval1 ("sign", v);
  grd_test_assert_tensor (sg, I32, 1, SHAPE (4), VALS (-1, -1, 0, 1), 0, 0);
  g_autoptr (GrdTensor) rl = eval1 ("relu", v);
  grd_test_assert_tensor (rl, I32, 1, SHAPE (4), VALS (0, 0, 0, 3), 0, 0);
  g_autoptr (GrdTensor) fl = eval1 ("floor", v);
  grd_test_assert_tensor (fl, I32, 1, SHAPE (4), VALS (-2147483648.0, -2, 0, 3), 0, 0);

  /* integer division is true division, so by zero is inf or nan */
  g_autoptr (GrdTensor) num = grd_test_tensor (I32, 1, SHAPE (3), VALS (1, -1, 0));
  g_autoptr (GrdTensor) den = grd_test_tensor (I32, 1, SHAPE (3), VALS (0, 0, 0));
  g_autoptr (GrdTensor) q = eval2 ("div", num, den);
  grd_test_assert_tensor (q, F64, 1, SHAPE (3), VALS (INFINITY, -INFINITY, NAN), 0, 0);
  g_autoptr (GrdTensor) rc = eval1 ("reciprocal", den);
  grd_test_assert_tensor (rc, F64, 1, SHAPE (3), VALS (INFINITY, INFINITY, INFINITY), 0, 0);
}

static void
test_nan_inf (void)
{
  g_autoptr (GrdTensor) a = grd_test_tensor (F64, 1, SHAPE (4), VALS (NAN, 1, NAN, -INFINITY));
  g_autoptr (GrdTensor) b = grd_test_tensor (F64, 1, SHAPE (4), VALS (1, NAN, NAN, 2));
  g_autoptr (GrdTensor) mx = eval2 ("maximum", a, b);
  grd_test_assert_tensor (mx, F64, 1, SHAPE (4), VALS (NAN, NAN, NAN, 2), 0, 0);
  g_autoptr (GrdTensor) mn = eval2 ("minimum", a, b);
  grd_test_assert_tensor (mn, F64, 1, SHAPE (4), VALS (NAN, NAN, NAN, -INFINITY), 0, 0);
  g_autoptr (GrdTensor) eq = eval2 ("eq", a, b);
  grd_test_assert_tensor (eq, BOOL, 1, SHAPE (4), VALS (0, 0, 0, 0), 0, 0);
  g_autoptr (GrdTensor) ne = eval2 ("neq", a, b);
  grd_test_assert_tensor (ne, BOOL, 1, SHAPE (4), VALS (1, 1, 1, 1), 0, 0);
  g_autoptr (GrdTensor) lt = eval2 ("lt", a, b);
  grd_test_assert_tensor (lt, BOOL, 1, SHAPE (4), VALS (0, 0, 0, 1), 0, 0);
  /* NaN is true, as bool(nan) is in NumPy */
  g_autoptr (GrdTensor) nt = eval1 ("not", a);
  grd_test_assert_tensor (nt, BOOL, 1, SHAPE (4), VALS (0, 0, 0, 0), 0, 0);
  g_autoptr (GrdTensor) bl = cast_to (a, BOOL);
  grd_test_assert_tensor (bl, BOOL, 1, SHAPE (4), VALS (1, 1, 1, 1), 0, 0);

  for (GrdDType dt = F32; dt <= F64; dt++) {
    g_autoptr (GrdTensor) x = grd_test_tensor (dt, 1, SHAPE (6), VALS (NAN, INFINITY, -INFINITY, 1000, -1000, 0));
    struct { const char *op; double want[6]; } cases[] = {
      { "exp", { NAN, INFINITY, 0, INFINITY, 0, 1 } },
      { "tanh", { NAN, 1, -1, 1, -1, 0 } },
      { "sigmoid", { NAN, 1, 0, 1, 0, 0.5 } },
      { "softplus", { NAN, INFINITY, 0, 1000, 0, log (2) } },
      { "sign", { NAN, 1, -1, 1, -1, 0 } },
      { "relu", { NAN, INFINITY, 0, 1000, 0, 0 } },
      { "abs", { NAN, INFINITY, INFINITY, 1000, 1000, 0 } },
      { "sqrt", { NAN, INFINITY, NAN, sqrt (1000), NAN, 0 } },
      { "log", { NAN, INFINITY, NAN, log (1000), NAN, -INFINITY } },
      { "reciprocal", { NAN, 0, 0, 0.001, -0.001, INFINITY } },
      { "erf", { NAN, 1, -1, 1, -1, 0 } },
      { "floor", { NAN, INFINITY, -INFINITY, 1000, -1000, 0 } },
      { "round", { NAN, INFINITY, -INFINITY, 1000, -1000, 0 } },
      { "expm1", { NAN, INFINITY, -1, INFINITY, -1, 0 } },
    };
    for (gsize c = 0; c < G_N_ELEMENTS (cases); c++) {
      g_autoptr (GrdTensor) y = eval1 (cases[c].op, x);
      if (g_test_verbose ())
        g_test_message ("%s %s", cases[c].op, grd_dtype_name (dt));
      grd_test_assert_tensor (y, dt, 1, SHAPE (6), cases[c].want, 1e-6, 0);
    }
    g_autoptr (GrdTensor) lo = grd_test_tensor (dt, 0, NULL, VALS (-1));
    g_autoptr (GrdTensor) hi = grd_test_tensor (dt, 0, NULL, VALS (1));
    g_autoptr (GrdTensor) cl = eval3 ("clip", x, lo, hi);
    grd_test_assert_tensor (cl, dt, 1, SHAPE (6), VALS (NAN, 1, -1, 1, -1, 0), 0, 0);
  }
}

static void
test_rounding (void)
{
  for (GrdDType dt = F32; dt <= F64; dt++) {
    g_autoptr (GrdTensor) x = grd_test_tensor (dt, 1, SHAPE (8),
                                               VALS (0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 3.5000001));
    g_autoptr (GrdTensor) r = eval1 ("round", x);
    /* numpy.round gives [0, 2, 2, -0, -2, -2, 2, 4] */
    grd_test_assert_tensor (r, dt, 1, SHAPE (8), VALS (0, 2, 2, -0.0, -2, -2, 2, 4), 0, 0);
    g_assert_true (signbit (grd_tensor_get (r, 3)));
    g_autoptr (GrdTensor) f = eval1 ("floor", x);
    grd_test_assert_tensor (f, dt, 1, SHAPE (8), VALS (0, 1, 2, -1, -2, -3, 2, 3), 0, 0);
    g_autoptr (GrdTensor) c = eval1 ("ceil", x);
    grd_test_assert_tensor (c, dt, 1, SHAPE (8), VALS (1, 2, 3, -0.0, -1, -2, 3, 4), 0, 0);
  }
  g_autoptr (GrdTensor) b = grd_test_tensor (BOOL, 1, SHAPE (2), VALS (1, 0));
  g_autoptr (GrdTensor) rb = eval1 ("round", b);
  grd_test_assert_tensor (rb, BOOL, 1, SHAPE (2), VALS (1, 0), 0, 0);
}

static void
test_logic (void)
{
  g_autoptr (GrdTensor) a = grd_test_tensor (F32, 2, SHAPE (2, 1), VALS (0, -0.5));
  g_autoptr (GrdTensor) b = grd_test_tensor (I64, 1, SHAPE (3), VALS (0, 2, -1));
  g_autoptr (GrdTensor) an = eval2 ("and", a, b);
  grd_test_assert_tensor (an, BOOL, 2, SHAPE (2, 3), VALS (0, 0, 0, 0, 1, 1), 0, 0);
  g_autoptr (GrdTensor) o = eval2 ("or", a, b);
  grd_test_assert_tensor (o, BOOL, 2, SHAPE (2, 3), VALS (0, 1, 1, 1, 1, 1), 0, 0);
  g_autoptr (GrdTensor) n = eval1 ("not", b);
  grd_test_assert_tensor (n, BOOL, 1, SHAPE (3), VALS (1, 0, 0), 0, 0);
  /* comparisons of bools order False < True */
  g_autoptr (GrdTensor) t = grd_test_tensor (BOOL, 1, SHAPE (2), VALS (1, 0));
  g_autoptr (GrdTensor) u = grd_test_tensor (BOOL, 2, SHAPE (2, 1), VALS (1, 0));
  g_autoptr (GrdTensor) gt = eval2 ("gt", t, u);
  grd_test_assert_tensor (gt, BOOL, 2, SHAPE (2, 2), VALS (0, 0, 1, 0), 0, 0);
  g_autoptr (GrdTensor) mx = eval2 ("maximum", t, u);
  grd_test_assert_tensor (mx, BOOL, 2, SHAPE (2, 2), VALS (1, 1, 1, 0), 0, 0);
  g_autoptr (GrdTensor) ad = eval2 ("add", t, u);
  grd_test_assert_tensor (ad, BOOL, 2, SHAPE (2, 2), VALS (1, 1, 1, 0), 0, 0);
  g_autoptr (GrdTensor) ml = eval2 ("mul", t, u);
  grd_test_assert_tensor (ml, BOOL, 2, SHAPE (2, 2), VALS (1, 0, 0, 0), 0, 0);
}

static void
test_switch_clip (void)
{
  /* switch: cond [3,1] (any dtype, NaN is true), a [4], b 0-d */
  g_autoptr (GrdTensor) cond = grd_test_tensor (F64, 2, SHAPE (3, 1), VALS (0, NAN, -2));
  g_autoptr (GrdTensor) a = grd_test_tensor (F32, 1, SHAPE (4), VALS (1, 2, 3, 4));
  g_autoptr (GrdTensor) b = grd_test_tensor (F32, 0, NULL, VALS (-9));
  g_autoptr (GrdTensor) sw = eval3 ("switch", cond, a, b);
  double want[12];
  for (gint i = 0; i < 3; i++)
    for (gint j = 0; j < 4; j++)
      want[i * 4 + j] = grd_tensor_get (cond, i) != 0 ? grd_tensor_get (a, j) : -9;
  grd_test_assert_tensor (sw, F32, 2, SHAPE (3, 4), want, 0, 0);

  /* clip: x [2,3], lo 0-d, hi [3]; inclusive; lo > hi gives hi (NumPy) */
  g_autoptr (GrdTensor) x = grd_test_tensor (F64, 2, SHAPE (2, 3), VALS (-5, 0.5, 5, 1, 2, -1));
  g_autoptr (GrdTensor) lo = grd_test_tensor (F64, 0, NULL, VALS (0));
  g_autoptr (GrdTensor) hi = grd_test_tensor (F64, 1, SHAPE (3), VALS (1, 3, -1));
  g_autoptr (GrdTensor) cl = eval3 ("clip", x, lo, hi);
  for (gint i = 0; i < 6; i++) {
    double v = grd_tensor_get (x, i), h = grd_tensor_get (hi, i % 3);
    v = v < 0 ? 0 : v;
    want[i] = v > h ? h : v;
  }
  grd_test_assert_tensor (cl, F64, 2, SHAPE (2, 3), want, 0, 0);
  g_autoptr (GrdTensor) xi = grd_test_tensor (I32, 1, SHAPE (4), VALS (-3, 0, 4, 9));
  g_autoptr (GrdTensor) li = grd_test_tensor (I32, 0, NULL, VALS (-1));
  g_autoptr (GrdTensor) hi2 = grd_test_tensor (I32, 0, NULL, VALS (5));
  g_autoptr (GrdTensor) ci = eval3 ("clip", xi, li, hi2);
  grd_test_assert_tensor (ci, I32, 1, SHAPE (4), VALS (-1, 0, 4, 5), 0, 0);
}

static void
test_cast (void)
{
  g_autoptr (GrdTensor) f = grd_test_tensor (F64, 1, SHAPE (6), VALS (NAN, 2.9, -2.9, 1e10, -0.0, 0.25));
  g_autoptr (GrdTensor) i32 = cast_to (f, I32);
  /* truncation; NaN and out of range give the minimum (NumPy on x86) */
  grd_test_assert_tensor (i32, I32, 1, SHAPE (6), VALS (-2147483648.0, 2, -2, -2147483648.0, 0, 0), 0, 0);
  g_autoptr (GrdTensor) i64 = cast_to (f, I64);
  g_assert_cmpint (((gint64 *) i64->data)[0], ==, G_MININT64);
  g_assert_cmpint (((gint64 *) i64->data)[3], ==, 10000000000LL);
  g_autoptr (GrdTensor) b = cast_to (f, BOOL);
  grd_test_assert_tensor (b, BOOL, 1, SHAPE (6), VALS (1, 1, 1, 1, 0, 1), 0, 0);
  g_autoptr (GrdTensor) f32 = cast_to (f, F32);
  grd_test_assert_tensor (f32, F32, 1, SHAPE (6), VALS (NAN, 2.9f, -2.9f, 1e10f, 0, 0.25), 0, 0);
  /* int64 to int32 wraps; int64 to float32 rounds once */
  g_autoptr (GrdTensor) big = tensor_i64 (3, (gint64[]) { 3000000000LL, -3000000000LL, (1 << 24) + 1 });
  g_autoptr (GrdTensor) w = cast_to (big, I32);
  grd_test_assert_tensor (w, I32, 1, SHAPE (3), VALS (-1294967296, 1294967296, 16777217), 0, 0);
  g_autoptr (GrdTensor) s = cast_to (big, F32);
  grd_test_assert_tensor (s, F32, 1, SHAPE (3), VALS (3e9, -3e9, 16777216), 0, 0);
  g_autoptr (GrdTensor) bb = grd_test_tensor (BOOL, 1, SHAPE (2), VALS (1, 0));
  g_autoptr (GrdTensor) bf = cast_to (bb, F64);
  grd_test_assert_tensor (bf, F64, 1, SHAPE (2), VALS (1, 0), 0, 0);
  /* to its own dtype: a copy, not the input itself */
  g_autoptr (GrdTensor) same = cast_to (f, F64);
  g_assert_true (same != f && same->data != f->data);
  grd_test_assert_close (same, f, 0, 0);
}

/* Every fast path of the kernels (both contiguous, one side a scalar, the
 * other, strided runs after axis merging) against a naive index loop. */
static void
test_kernel_paths (void)
{
  static const struct {
    gint rank_a, rank_b;
    gint64 sa[3], sb[3];
  } shapes[] = {
    { 1, 1, { 1000 }, { 1000 } },
    { 1, 0, { 1000 }, { 0 } },
    { 0, 1, { 0 }, { 1000 } },
    { 2, 2, { 10, 100 }, { 10, 1 } },
    { 2, 2, { 10, 1 }, { 10, 100 } },
    { 3, 3, { 7, 1, 5 }, { 1, 6, 1 } },
    { 3, 2, { 2, 3, 4 }, { 3, 1 } },
    { 3, 1, { 4, 1, 3 }, { 1 } },
  };
  static const char *const ops[] = { "add", "sub", "mul", "div", "maximum", "lt" };
  for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++) {
    for (GrdDType dt = I32; dt <= F64; dt++) {
      g_autoptr (GrdTensor) a = grd_test_random (dt, shapes[s].rank_a, shapes[s].sa, -50, 50, s);
      g_autoptr (GrdTensor) b = grd_test_random (dt, shapes[s].rank_b, shapes[s].sb, 1, 9, s + 99);
      for (gsize o = 0; o < G_N_ELEMENTS (ops); o++) {
        g_autoptr (GrdTensor) y = eval2 (ops[o], a, b);
        /* the naive reference: unravel each output index */
        gint rank = MAX (a->rank, b->rank);
        gint64 want_shape[3];
        for (gint d = 0; d < rank; d++) {
          gint da = d - (rank - a->rank), db = d - (rank - b->rank);
          want_shape[d] = MAX (da >= 0 ? a->shape[da] : 1, db >= 0 ? b->shape[db] : 1);
        }
        g_autofree double *want = g_new (double, y->size);
        for (gint64 i = 0; i < y->size; i++) {
          gint64 rem = i, ia = 0, ib = 0, ma = 1, mb = 1;
          for (gint d = rank - 1; d >= 0; d--) {
            gint64 k = rem % y->shape[d];
            rem /= y->shape[d];
            gint da = d - (rank - a->rank), db = d - (rank - b->rank);
            if (da >= 0) {
              ia += (a->shape[da] == 1 ? 0 : k) * ma;
              ma *= a->shape[da];
            }
            if (db >= 0) {
              ib += (b->shape[db] == 1 ? 0 : k) * mb;
              mb *= b->shape[db];
            }
          }
          want[i] = ref_binary (ops[o], grd_tensor_get (a, ia), grd_tensor_get (b, ib));
        }
        GrdDType rd = !strcmp (ops[o], "lt") ? BOOL
                      : !strcmp (ops[o], "div") && !grd_dtype_is_float (dt) ? F64 : dt;
        grd_test_assert_tensor (y, rd, rank, want_shape, want, dt == F32 ? 1e-6 : 1e-15, 0);
      }
    }
  }
  /* three operands: clip of [5,1,4] by [3,1] and 0-d, and one all-contiguous */
  g_autoptr (GrdTensor) x = grd_test_random (F64, 3, SHAPE (5, 1, 4), -2, 2, 1);
  g_autoptr (GrdTensor) lo = grd_test_random (F64, 2, SHAPE (3, 1), -1, 0, 2);
  g_autoptr (GrdTensor) hi = grd_test_tensor (F64, 0, NULL, VALS (0.5));
  g_autoptr (GrdTensor) y = eval3 ("clip", x, lo, hi);
  double want[60];
  for (gint i = 0; i < 5; i++)
    for (gint j = 0; j < 3; j++)
      for (gint k = 0; k < 4; k++) {
        double v = grd_tensor_get (x, i * 4 + k), l = grd_tensor_get (lo, j);
        v = v < l ? l : v;
        want[(i * 3 + j) * 4 + k] = v > 0.5 ? 0.5 : v;
      }
  grd_test_assert_tensor (y, F64, 3, SHAPE (5, 3, 4), want, 0, 0);
  g_autoptr (GrdTensor) l2 = grd_test_random (F64, 3, SHAPE (5, 1, 4), -1, 0, 3);
  g_autoptr (GrdTensor) h2 = grd_test_random (F64, 3, SHAPE (5, 1, 4), 0, 1, 4);
  g_autoptr (GrdTensor) y2 = eval3 ("clip", x, l2, h2);
  for (gint i = 0; i < 20; i++) {
    double v = grd_tensor_get (x, i), l = grd_tensor_get (l2, i), h = grd_tensor_get (h2, i);
    v = v < l ? l : v;
    want[i] = v > h ? h : v;
  }
  grd_test_assert_tensor (y2, F64, 3, SHAPE (5, 1, 4), want, 0, 0);
}

/* ------------------------------------------------------------ errors */

static void
assert_error (GError *error, gint code, const char *const *parts)
{
  g_assert_error (error, GRD_ERROR, code);
  for (gint i = 0; parts[i]; i++)
    if (!strstr (error->message, parts[i]))
      g_error ("error message '%s' does not mention '%s'", error->message, parts[i]);
}

static void
test_type_errors (void)
{
  g_autoptr (GrdTensor) b = grd_test_tensor (BOOL, 1, SHAPE (2), VALS (1, 0));
  g_autoptr (GrdTensor) f = grd_test_tensor (F32, 1, SHAPE (3), VALS (1, 2, 3));
  g_autoptr (GrdTensor) f4 = grd_test_tensor (F32, 1, SHAPE (4), VALS (1, 2, 3, 4));
  static const char *const bool_ops[] = { "neg", "sub", "pow" };
  for (gsize i = 0; i < G_N_ELEMENTS (bool_ops); i++) {
    g_autoptr (GError) error = NULL;
    GrdTensor *in[2] = { b, b };
    g_autoptr (GrdTensor) y = grd_test_try_op (bool_ops[i], NULL, in, i == 0 ? 1 : 2, &error);
    g_assert_null (y);
    assert_error (error, GRD_ERROR_TYPE, (const char *[]) { "'under_test'", bool_ops[i], "bool", NULL });
  }
  {
    g_autoptr (GError) error = NULL;
    GrdTensor *in[1] = { f };
    g_autoptr (GrdTensor) y = grd_test_try_op ("cast", NULL, in, 1, &error);
    g_assert_null (y);
    assert_error (error, GRD_ERROR_TYPE, (const char *[]) { "'under_test'", "cast", "dtype", NULL });
  }
  {
    g_autoptr (GError) error = NULL;
    GrdTensor *in[2] = { f, f4 };
    g_autoptr (GrdTensor) y = grd_test_try_op ("add", NULL, in, 2, &error);
    g_assert_null (y);
    assert_error (error, GRD_ERROR_SHAPE, (const char *[]) { "'under_test'", "[3]", "[4]", NULL });
  }
  {
    g_autoptr (GError) error = NULL;
    GrdTensor *in[3] = { f, f, f4 };
    g_autoptr (GrdTensor) y = grd_test_try_op ("clip", NULL, in, 3, &error);
    g_assert_null (y);
    assert_error (error, GRD_ERROR_SHAPE, (const char *[]) { "'under_test'", "[4]", NULL });
  }
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GrdTensor) y = grd_test_try_op ("exp", NULL, (GrdTensor *[]) { f, f }, 2, &error);
    g_assert_null (y);
    assert_error (error, GRD_ERROR_GRAPH, (const char *[]) { "'under_test'", "exp", NULL });
  }
}

/* Shapes known only when called: the error comes from the call, and still
 * names the node; so does a negative integer power. */
static void
test_runtime_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef a = grd_graph_variable (g, "a", F64, 1, SHAPE (GRD_DIM_UNKNOWN), &error);
  GrdRef b = grd_graph_variable (g, "b", F64, 1, SHAPE (GRD_DIM_UNKNOWN), &error);
  GrdRef s = grd_graph_op (g, "bad_sum", "add", (GrdRef[]) { a, b }, 2, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (GrdFunction) fn = grd_function_new (g, (GrdRef[]) { a, b }, 2, &s, 1, NULL, 0, &error);
  g_assert_no_error (error);
  g_autoptr (GrdTensor) x3 = grd_test_tensor (F64, 1, SHAPE (3), VALS (1, 2, 3));
  g_autoptr (GrdTensor) x4 = grd_test_tensor (F64, 1, SHAPE (4), VALS (1, 2, 3, 4));
  GrdTensor *out = NULL;
  g_assert_false (grd_function_call (fn, (GrdTensor *[]) { x3, x4 }, &out, &error));
  assert_error (error, GRD_ERROR_SHAPE, (const char *[]) { "bad_sum", "[3]", "[4]", NULL });
  g_clear_error (&error);

  g_autoptr (GrdTensor) base = grd_test_tensor (I32, 1, SHAPE (2), VALS (2, 3));
  g_autoptr (GrdTensor) ex = grd_test_tensor (I32, 1, SHAPE (2), VALS (1, -1));
  g_autoptr (GrdTensor) y = grd_test_try_op ("pow", NULL, (GrdTensor *[]) { base, ex }, 2, &error);
  g_assert_null (y);
  assert_error (error, GRD_ERROR_VALUE, (const char *[]) { "'under_test'", "negative", NULL });
}

/* ------------------------------------------------------------ gradients */

/* A tensor of uniform values whose magnitude is at least `gap` (away from
 * the kinks at 0 of abs, relu, sign). */
static GrdTensor *
random_away_from_zero (gint rank, const gint64 *shape, double hi, double gap, guint64 seed)
{
  GrdTensor *t = grd_test_random (F64, rank, shape, -hi, hi, seed);
  for (gint64 i = 0; i < t->size; i++) {
    double v = grd_tensor_get (t, i);
    if (fabs (v) < gap)
      grd_tensor_set (t, i, v < 0 ? -gap : gap);
  }
  return t;
}

static void
test_grad_unary (void)
{
  static const struct {
    const char *op;
    double      lo, hi;
  } cases[] = {
    { "neg", -2, 2 },     { "square", -2, 2 },     { "sqrt", 0.5, 3 }, { "reciprocal", 0.5, 3 },
    { "exp", -2, 2 },     { "log", 0.5, 3 },       { "log1p", -0.5, 2 }, { "expm1", -2, 2 },
    { "sin", -3, 3 },     { "cos", -3, 3 },        { "tanh", -2, 2 },  { "sigmoid", -4, 4 },
    { "softplus", -4, 4 }, { "erf", -2, 2 },
  };
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++) {
    g_autoptr (GrdTensor) x = grd_test_random (F64, 2, SHAPE (2, 3), cases[c].lo, cases[c].hi, 40 + c);
    if (g_test_verbose ())
      g_test_message ("grad of %s", cases[c].op);
    grd_test_verify_grad (cases[c].op, NULL, &x, 1);
  }
  static const char *const kinked[] = { "abs", "relu" };
  for (gsize c = 0; c < G_N_ELEMENTS (kinked); c++) {
    g_autoptr (GrdTensor) x = random_away_from_zero (2, SHAPE (3, 4), 2, 0.05, 7 + c);
    grd_test_verify_grad (kinked[c], NULL, &x, 1);
  }
  GrdAttrs at;
  grd_attrs_init (&at);
  at.has_dtype = TRUE;
  at.dtype = F64;
  g_autoptr (GrdTensor) x = grd_test_random (F64, 1, SHAPE (4), -2, 2, 3);
  grd_test_verify_grad ("cast", &at, &x, 1);
}

static void
test_grad_binary (void)
{
  static const char *const ops[] = { "add", "sub", "mul", "div", "pow", "maximum", "minimum" };
  /* same shapes, [3,1] with [4], 0-d with [2,3], [2,3] with 0-d */
  static const struct {
    gint ra, rb;
    gint64 sa[2], sb[2];
  } shapes[] = {
    { 2, 2, { 2, 3 }, { 2, 3 } },
    { 2, 1, { 3, 1 }, { 4 } },
    { 0, 2, { 0 }, { 2, 3 } },
    { 2, 0, { 2, 3 }, { 0 } },
  };
  for (gsize o = 0; o < G_N_ELEMENTS (ops); o++)
    for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++) {
      /* a in [0.5, 2] (pow's base), b in [-2, -0.6] or [0.6, 2]: away from
       * zero (div) and from a (maximum, minimum) for the first half ... */
      g_autoptr (GrdTensor) a = grd_test_random (F64, shapes[s].ra, shapes[s].sa, 0.5, 2, o * 7 + s);
      g_autoptr (GrdTensor) b = random_away_from_zero (shapes[s].rb, shapes[s].sb, 2, 0.6, o * 11 + s);
      /* ... and from ties: every pair differs by 0.01 at least */
      for (gint64 j = 0; j < b->size; j++)
        for (gint64 i = 0; i < a->size; i++)
          if (fabs (grd_tensor_get (a, i) - grd_tensor_get (b, j)) < 0.01) {
            grd_tensor_set (b, j, grd_tensor_get (b, j) + 0.05);
            i = -1;  /* check the moved value against every a again */
          }
      if (g_test_verbose ())
        g_test_message ("grad of %s, shapes %zu", ops[o], s);
      grd_test_verify_grad (ops[o], NULL, (GrdTensor *[]) { a, b }, 2);
      if (strcmp (ops[o], "pow") != 0)  /* negative bases */
        grd_test_verify_grad (ops[o], NULL, (GrdTensor *[]) { b, a }, 2);
    }
  /* mixed dtypes: the gradient of the float operand of an int * float product */
  g_autoptr (GrdTensor) i = grd_test_tensor (I32, 1, SHAPE (3), VALS (1, -2, 3));
  g_autoptr (GrdTensor) f = random_away_from_zero (2, SHAPE (2, 3), 1.5, 0.4, 5);
  grd_test_verify_grad ("mul", NULL, (GrdTensor *[]) { i, f }, 2);
  grd_test_verify_grad ("div", NULL, (GrdTensor *[]) { i, f }, 2);
  grd_test_verify_grad ("pow", NULL, (GrdTensor *[]) { f, i }, 2);
}

static void
test_grad_ternary (void)
{
  /* switch: cond [3,1] bool, a [4], b 0-d; and all floats with cond float */
  g_autoptr (GrdTensor) cond = grd_test_tensor (BOOL, 2, SHAPE (3, 1), VALS (1, 0, 1));
  g_autoptr (GrdTensor) a = grd_test_random (F64, 1, SHAPE (4), -1, 1, 1);
  g_autoptr (GrdTensor) b = grd_test_random (F64, 0, NULL, -1, 1, 2);
  grd_test_verify_grad ("switch", NULL, (GrdTensor *[]) { cond, a, b }, 3);
  g_autoptr (GrdTensor) fc = grd_test_tensor (F64, 2, SHAPE (2, 2), VALS (0, 1, 2, 0));
  g_autoptr (GrdTensor) fa = grd_test_random (F64, 2, SHAPE (2, 2), -1, 1, 3);
  g_autoptr (GrdTensor) fb = grd_test_random (F64, 1, SHAPE (2), -1, 1, 4);
  grd_test_verify_grad ("switch", NULL, (GrdTensor *[]) { fc, fa, fb }, 3);

  /* clip: x [3,4] with some below, inside and above, lo 0-d, hi [4] */
  g_autoptr (GrdTensor) x = grd_test_tensor (F64, 2, SHAPE (3, 4),
                                             VALS (-2, -0.2, 0.3, 1.5, 0.9, -1.1, 0.05, 2.2, -0.7, 0.6, 1.2, -0.45));
  g_autoptr (GrdTensor) lo = grd_test_tensor (F64, 0, NULL, VALS (-0.5));
  g_autoptr (GrdTensor) hi = grd_test_tensor (F64, 1, SHAPE (4), VALS (0.4, 0.8, 1.0, 0.7));
  grd_test_verify_grad ("clip", NULL, (GrdTensor *[]) { x, lo, hi }, 3);
}

/* Gradient values at the kinks, by the rules: ties of maximum and minimum
 * split half and half, clip's bounds are inclusive for x, relu'(0) = 0,
 * abs'(0) = 0. */
typedef struct {
  const char *op;
  gint        n, wrt;
} GradOf;

static GrdTensor *
grad_of (const char *op, GrdTensor *const *in, gint n, gint wrt)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef vars[3];
  for (gint i = 0; i < n; i++)
    vars[i] = grd_graph_variable (g, NULL, in[i]->dtype, in[i]->rank, in[i]->shape, &error);
  GrdRef y = grd_graph_op (g, "y", op, vars, n, NULL, &error);
  GrdRef cost = grd_op1 (g, "sum", y, &error);
  GrdRef gr;
  grd_graph_grad (g, "grad", cost, &vars[wrt], 1, NULL, 0, &gr, &error);
  g_assert_no_error (error);
  g_autoptr (GrdFunction) fn = grd_function_new (g, vars, n, &gr, 1, NULL, 0, &error);
  g_assert_no_error (error);
  GrdTensor *out = NULL;
  g_assert_true (grd_function_call (fn, in, &out, &error));
  g_assert_no_error (error);
  return out;
}

static void
test_grad_kinks (void)
{
  g_autoptr (GrdTensor) x = grd_test_tensor (F64, 1, SHAPE (3), VALS (1, 2, -1));
  g_autoptr (GrdTensor) y = grd_test_tensor (F64, 1, SHAPE (3), VALS (1, 0, 3));
  GrdTensor *xy[2] = { x, y };
  g_autoptr (GrdTensor) mx0 = grad_of ("maximum", xy, 2, 0);
  grd_test_assert_tensor (mx0, F64, 1, SHAPE (3), VALS (0.5, 1, 0), 0, 0);
  g_autoptr (GrdTensor) mx1 = grad_of ("maximum", xy, 2, 1);
  grd_test_assert_tensor (mx1, F64, 1, SHAPE (3), VALS (0.5, 0, 1), 0, 0);
  g_autoptr (GrdTensor) mn0 = grad_of ("minimum", xy, 2, 0);
  grd_test_assert_tensor (mn0, F64, 1, SHAPE (3), VALS (0.5, 0, 1), 0, 0);
  /* a broadcast scalar sums what it wins */
  g_autoptr (GrdTensor) s = grd_test_tensor (F64, 0, NULL, VALS (1));
  g_autoptr (GrdTensor) mxs = grad_of ("maximum", (GrdTensor *[]) { x, s }, 2, 1);
  grd_test_assert_tensor (mxs, F64, 0, NULL, VALS (1.5), 0, 0);

  g_autoptr (GrdTensor) cx = grd_test_tensor (F64, 1, SHAPE (5), VALS (-1, 0, 0.5, 1, 2));
  g_autoptr (GrdTensor) lo = grd_test_tensor (F64, 0, NULL, VALS (0));
  g_autoptr (GrdTensor) hi = grd_test_tensor (F64, 0, NULL, VALS (1));
  GrdTensor *cl[3] = { cx, lo, hi };
  g_autoptr (GrdTensor) c0 = grad_of ("clip", cl, 3, 0);
  grd_test_assert_tensor (c0, F64, 1, SHAPE (5), VALS (0, 1, 1, 1, 0), 0, 0);
  g_autoptr (GrdTensor) c1 = grad_of ("clip", cl, 3, 1);
  grd_test_assert_tensor (c1, F64, 0, NULL, VALS (1), 0, 0);
  g_autoptr (GrdTensor) c2 = grad_of ("clip", cl, 3, 2);
  grd_test_assert_tensor (c2, F64, 0, NULL, VALS (1), 0, 0);
  /* lo > hi: the result is hi everywhere, so hi gets it all */
  GrdTensor *rev[3] = { cx, hi, lo };
  g_autoptr (GrdTensor) r0 = grad_of ("clip", rev, 3, 0);
  grd_test_assert_tensor (r0, F64, 1, SHAPE (5), VALS (0, 0, 0, 0, 0), 0, 0);
  g_autoptr (GrdTensor) r1 = grad_of ("clip", rev, 3, 1);
  grd_test_assert_tensor (r1, F64, 0, NULL, VALS (0), 0, 0);
  g_autoptr (GrdTensor) r2 = grad_of ("clip", rev, 3, 2);
  grd_test_assert_tensor (r2, F64, 0, NULL, VALS (5), 0, 0);

  g_autoptr (GrdTensor) z = grd_test_tensor (F64, 1, SHAPE (3), VALS (-1, 0, 2));
  g_autoptr (GrdTensor) rl = grad_of ("relu", &z, 1, 0);
  grd_test_assert_tensor (rl, F64, 1, SHAPE (3), VALS (0, 0, 1), 0, 0);
  g_autoptr (GrdTensor) ab = grad_of ("abs", &z, 1, 0);
  grd_test_assert_tensor (ab, F64, 1, SHAPE (3), VALS (-1, 0, 1), 0, 0);
}

/* Ops without a gradient give zeros (the grad driver's disconnected). */
static void
test_grad_zero (void)
{
  static const char *const ops[] = { "sign", "floor", "ceil", "round" };
  g_autoptr (GrdTensor) x = grd_test_tensor (F64, 1, SHAPE (3), VALS (-1.3, 0.2, 2.7));
  for (gsize o = 0; o < G_N_ELEMENTS (ops); o++) {
    g_autoptr (GrdTensor) gr = grad_of (ops[o], &x, 1, 0);
    grd_test_assert_tensor (gr, F64, 1, SHAPE (3), VALS (0, 0, 0), 0, 0);
  }
  /* comparisons give bools, so a cast of them back to float has no gradient */
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef v = grd_graph_variable (g, "x", F64, 1, SHAPE (3), &error);
  GrdAttrs at;
  grd_attrs_init (&at);
  at.has_dtype = TRUE;
  at.dtype = F64;
  GrdRef c = grd_op2 (g, "gt", v, grd_scalar (g, F64, 0, &error), &error);
  GrdRef cf = grd_graph_op (g, NULL, "cast", &c, 1, &at, &error);
  GrdRef cost = grd_op1 (g, "sum", grd_op2 (g, "add", cf, v, &error), &error);
  GrdRef gr;
  grd_graph_grad (g, NULL, cost, &v, 1, NULL, 0, &gr, &error);
  g_assert_no_error (error);
  g_autoptr (GrdFunction) fn = grd_function_new (g, &v, 1, &gr, 1, NULL, 0, &error);
  g_assert_no_error (error);
  g_autoptr (GrdTensor) out = NULL;
  g_assert_true (grd_function_call (fn, &x, &out, &error));
  grd_test_assert_tensor (out, F64, 1, SHAPE (3), VALS (1, 1, 1), 0, 0);
}

/* float32 through a cast to float64: the gradient comes back as float32. */
static void
test_grad_cast (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef v = grd_graph_variable (g, "x", F32, 1, SHAPE (3), &error);
  GrdAttrs at;
  grd_attrs_init (&at);
  at.has_dtype = TRUE;
  at.dtype = F64;
  GrdRef c = grd_graph_op (g, NULL, "cast", &v, 1, &at, &error);
  GrdRef cost = grd_op1 (g, "sum", grd_op1 (g, "square", c, &error), &error);
  GrdRef gr;
  grd_graph_grad (g, NULL, cost, &v, 1, NULL, 0, &gr, &error);
  g_assert_no_error (error);
  g_assert_cmpint (grd_graph_ref_type (g, gr)->dtype, ==, F32);
  g_autoptr (GrdFunction) fn = grd_function_new (g, &v, 1, &gr, 1, NULL, 0, &error);
  g_assert_no_error (error);
  g_autoptr (GrdTensor) x = grd_test_tensor (F32, 1, SHAPE (3), VALS (1.5, -2, 0.25));
  g_autoptr (GrdTensor) out = NULL;
  g_assert_true (grd_function_call (fn, &x, &out, &error));
  grd_test_assert_tensor (out, F32, 1, SHAPE (3), VALS (3, -4, 0.5), 0, 0);
}

/* The gradients of softplus and sigmoid stay finite far out. */
static void
test_grad_extremes (void)
{
  for (GrdDType dt = F32; dt <= F64; dt++) {
    g_autoptr (GrdTensor) x = grd_test_tensor (dt, 1, SHAPE (4), VALS (1000, -1000, 50, -50));
    g_autoptr (GrdTensor) sp = grad_of ("softplus", &x, 1, 0);
    g_autoptr (GrdTensor) sg = grad_of ("sigmoid", &x, 1, 0);
    for (gint i = 0; i < 4; i++) {
      g_assert_true (isfinite (grd_tensor_get (sp, i)));
      g_assert_true (isfinite (grd_tensor_get (sg, i)));
    }
    double e50 = exp (-50);
    grd_test_assert_tensor (sp, dt, 1, SHAPE (4), VALS (1, 0, 1 / (1 + e50), e50 / (1 + e50)), 1e-6, 0);
    /* z (1 - z) rounds to 0 at 50: 1 - z is 0 in float64 already */
    grd_test_assert_tensor (sg, dt, 1, SHAPE (4), VALS (0, 0, e50, e50), 1e-5, 1e-20);
    g_autoptr (GrdTensor) y = eval1 ("softplus", x);
    grd_test_assert_tensor (y, dt, 1, SHAPE (4), VALS (1000, 0, 50, e50), 1e-6, 0);
  }
}

/* Second derivatives: the gradient of sum(f(x)^2) is itself differentiated
 * by verify_grad, so every rule's own nodes need gradient rules. */
static GrdRef
build_grad_of_square (GrdGraph *g, const GrdRef *vars, gpointer data, GError **error)
{
  const GradOf *s = data;
  GrdRef y = grd_graph_op (g, NULL, s->op, vars, s->n, NULL, error);
  GrdRef cost = grd_op1 (g, "sum", grd_op2 (g, "mul", y, y, error), error);
  GrdRef gr = GRD_REF_NONE;
  if (grd_ref_is_none (cost))
    return GRD_REF_NONE;
  grd_graph_grad (g, NULL, cost, &vars[s->wrt], 1, NULL, 0, &gr, error);
  return gr;
}

static void
test_second_derivatives (void)
{
  static const GradOf unary[] = {
    { "tanh", 1, 0 },  { "sigmoid", 1, 0 }, { "exp", 1, 0 },  { "softplus", 1, 0 },
    { "log", 1, 0 },   { "sqrt", 1, 0 },    { "erf", 1, 0 },  { "sin", 1, 0 },
    { "cos", 1, 0 },   { "reciprocal", 1, 0 }, { "expm1", 1, 0 }, { "log1p", 1, 0 },
    { "square", 1, 0 }, { "neg", 1, 0 },
  };
  for (gsize c = 0; c < G_N_ELEMENTS (unary); c++) {
    g_autoptr (GrdTensor) x = grd_test_random (F64, 2, SHAPE (2, 3), 0.3, 1.5, 60 + c);
    if (g_test_verbose ())
      g_test_message ("second derivative of %s", unary[c].op);
    grd_test_verify_grad_build (build_grad_of_square, (gpointer) &unary[c], &x, 1, 70 + c);
  }
  static const GradOf binary[] = {
    { "mul", 2, 0 }, { "mul", 2, 1 }, { "pow", 2, 0 }, { "pow", 2, 1 },
    { "div", 2, 0 }, { "div", 2, 1 }, { "add", 2, 1 }, { "sub", 2, 1 },
    { "maximum", 2, 0 },
  };
  for (gsize c = 0; c < G_N_ELEMENTS (binary); c++) {
    /* broadcast: [3,1] with [4]; a in [0.5, 1.5], b in [1.6, 2.5] */
    g_autoptr (GrdTensor) a = grd_test_random (F64, 2, SHAPE (3, 1), 0.5, 1.5, 80 + c);
    g_autoptr (GrdTensor) b = grd_test_random (F64, 1, SHAPE (4), 1.6, 2.5, 90 + c);
    if (g_test_verbose ())
      g_test_message ("second derivative of %s wrt %d", binary[c].op, binary[c].wrt);
    grd_test_verify_grad_build (build_grad_of_square, (gpointer) &binary[c],
                                (GrdTensor *[]) { a, b }, 2, 100 + c);
  }
  static const GradOf clip = { "clip", 3, 0 };
  g_autoptr (GrdTensor) x = grd_test_tensor (F64, 1, SHAPE (4), VALS (-1, 0.2, 0.7, 2));
  g_autoptr (GrdTensor) lo = grd_test_tensor (F64, 0, NULL, VALS (0));
  g_autoptr (GrdTensor) hi = grd_test_tensor (F64, 0, NULL, VALS (1));
  grd_test_verify_grad_build (build_grad_of_square, (gpointer) &clip,
                              (GrdTensor *[]) { x, lo, hi }, 3, 7);
}

/* ------------------------------------------------------------ op codes */

static void
test_codes (void)
{
  static const char *const names[] = {
    "add", "sub", "mul", "div", "pow", "maximum", "minimum", "neg", "abs", "sign", "square",
    "sqrt", "reciprocal", "exp", "log", "log1p", "expm1", "sin", "cos", "tanh", "sigmoid",
    "softplus", "relu", "erf", "eq", "neq", "lt", "le", "gt", "ge", "and", "or", "not",
    "switch", "clip", "floor", "ceil", "round", "cast",
  };
  G_STATIC_ASSERT (G_N_ELEMENTS (names) == GRD_ELEM_N_CODES);
  static const char *const groups[] = {
    "arithmetic", "transcendental", "comparison", "rounding", "conversion",
  };
  /* the catalogue starts with these, in this order */
  const char *const *all = grd_op_names ();
  for (gint i = 0; i < GRD_ELEM_N_CODES; i++) {
    g_assert_cmpstr (all[i], ==, names[i]);
    g_assert_cmpint (grd_elementwise_code (grd_op_lookup (names[i])), ==, i);
    const char *group = grd_op_group (names[i]);
    gint k = i < GRD_ELEM_EXP ? 0 : i < GRD_ELEM_EQ ? 1 : i < GRD_ELEM_FLOOR ? 2
             : i < GRD_ELEM_CAST ? 3 : 4;
    g_assert_cmpstr (group, ==, groups[k]);
  }
  g_assert_cmpint (grd_elementwise_code (grd_op_lookup ("_reduce_to")), ==, -1);
  g_assert_cmpint (grd_elementwise_code (NULL), ==, -1);
  if (grd_op_exists ("sum"))
    g_assert_cmpint (grd_elementwise_code (grd_op_lookup ("sum")), ==, -1);

  /* a few values by hand */
  g_assert_cmpfloat (grd_elementwise_apply_f64 (GRD_ELEM_ADD, 2, 3, 0), ==, 5);
  g_assert_cmpfloat (grd_elementwise_apply_f64 (GRD_ELEM_SIGMOID, 0, 0, 0), ==, 0.5);
  g_assert_cmpfloat (grd_elementwise_apply_f64 (GRD_ELEM_SWITCH, 0, 1, 2), ==, 2);
  g_assert_cmpfloat (grd_elementwise_apply_f64 (GRD_ELEM_CLIP, 5, 0, 1), ==, 1);
  g_assert_cmpfloat (grd_elementwise_apply_f64 (GRD_ELEM_ROUND, 2.5, 0, 0), ==, 2);
  g_assert_cmpfloat (grd_elementwise_apply_f32 (GRD_ELEM_LT, 1, 2, 0), ==, 1);
  g_assert_cmpfloat (grd_elementwise_apply_f32 (GRD_ELEM_SOFTPLUS, -1000, 0, 0), ==, 0);

  /* and the scalar functions agree with the kernels, for float32 and float64 */
  static const double as[] = { -1.7, -0.5, 0, 0.5, 2.5, 3 };
  static const double bs[] = { 0.5, 2, -1, 0.5, 2.5, -2 };
  static const double cs[] = { 1, 0, 2, -1, 3, 0.5 };
  for (gint code = 0; code < GRD_ELEM_N_CODES; code++) {
    if (code == GRD_ELEM_CAST)
      continue;
    gint n = grd_op_lookup (names[code])->min_inputs;
    for (GrdDType dt = F32; dt <= F64; dt++) {
      g_autoptr (GrdTensor) a = grd_test_tensor (dt, 1, SHAPE (6), as);
      g_autoptr (GrdTensor) b = grd_test_tensor (dt, 1, SHAPE (6), bs);
      g_autoptr (GrdTensor) c = grd_test_tensor (dt, 1, SHAPE (6), cs);
      g_autoptr (GrdTensor) y = eval_direct (names[code], NULL, (GrdTensor *[]) { a, b, c }, n);
      for (gint i = 0; i < 6; i++) {
        double want = dt == F32 ? grd_elementwise_apply_f32 (code, (float) as[i], (float) bs[i], (float) cs[i])
                                : grd_elementwise_apply_f64 (code, as[i], bs[i], cs[i]);
        double got = grd_tensor_get (y, i);
        if (!(got == want || (isnan (got) && isnan (want))))
          g_error ("%s %s element %d: kernel %.17g, apply %.17g", names[code],
                   grd_dtype_name (dt), i, got, want);
      }
    }
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/elementwise/unary-float", test_unary_float);
  g_test_add_func ("/engine/elementwise/unary-int-bool", test_unary_int_bool);
  g_test_add_func ("/engine/elementwise/binary-broadcast", test_binary_broadcast);
  g_test_add_func ("/engine/elementwise/scalar-broadcast", test_scalar_broadcast);
  g_test_add_func ("/engine/elementwise/empty", test_empty);
  g_test_add_func ("/engine/elementwise/dtypes", test_dtypes);
  g_test_add_func ("/engine/elementwise/integers", test_integers);
  g_test_add_func ("/engine/elementwise/nan-inf", test_nan_inf);
  g_test_add_func ("/engine/elementwise/rounding", test_rounding);
  g_test_add_func ("/engine/elementwise/logic", test_logic);
  g_test_add_func ("/engine/elementwise/switch-clip", test_switch_clip);
  g_test_add_func ("/engine/elementwise/cast", test_cast);
  g_test_add_func ("/engine/elementwise/kernel-paths", test_kernel_paths);
  g_test_add_func ("/engine/elementwise/type-errors", test_type_errors);
  g_test_add_func ("/engine/elementwise/runtime-errors", test_runtime_errors);
  g_test_add_func ("/engine/elementwise/grad-unary", test_grad_unary);
  g_test_add_func ("/engine/elementwise/grad-binary", test_grad_binary);
  g_test_add_func ("/engine/elementwise/grad-ternary", test_grad_ternary);
  g_test_add_func ("/engine/elementwise/grad-kinks", test_grad_kinks);
  g_test_add_func ("/engine/elementwise/grad-zero", test_grad_zero);
  g_test_add_func ("/engine/elementwise/grad-cast", test_grad_cast);
  g_test_add_func ("/engine/elementwise/grad-extremes", test_grad_extremes);
  g_test_add_func ("/engine/elementwise/second-derivatives", test_second_derivatives);
  g_test_add_func ("/engine/elementwise/codes", test_codes);
  return g_test_run ();
}
