/* grd-vk-codegen.c: GLSL pieces for generated kernels: types, loads and
 * stores, elementwise expressions and the math the GLSL library lacks.
 *
 * Bool tensors live on the device as one uint per element. GLSL has no
 * float64 transcendentals, so double versions of exp, log, sin and cos are
 * written here (range reduction and Taylor polynomials, about 1 ulp), and the
 * rest (log1p, expm1, tanh, erf, pow, ...) are built on them for both widths. */
#include "grd-vk-private.h"

#include <math.h>
#include <string.h>

const char *
grd_vk_glsl_type (GrdDType dtype)
{
  switch (dtype) {
  case GRD_DTYPE_BOOL: return "bool";
  case GRD_DTYPE_INT32: return "int";
  case GRD_DTYPE_INT64: return "int64_t";
  case GRD_DTYPE_FLOAT32: return "float";
  case GRD_DTYPE_FLOAT64: return "double";
  default: g_return_val_if_reached ("float");
  }
}

static const char *
storage_type (GrdDType dtype)
{
  return dtype == GRD_DTYPE_BOOL ? "uint" : grd_vk_glsl_type (dtype);
}

/* Helpers written once for "$T" with literals suffixed "$L". */
static const char generic_math[] =
  "$T gx_expm1($T x) {\n"
  "  precise $T u = gx_exp(x);\n"
  "  if (u == 1.0$L) return x;\n"
  "  precise $T um1 = u - 1.0$L;\n"
  "  if (um1 == -1.0$L) return -1.0$L;\n"
  "  if (isinf(u)) return u;\n"
  "  return um1 * x / gx_log(u);\n"
  "}\n"
  "$T gx_log1p($T x) {\n"
  "  precise $T u = 1.0$L + x;\n"
  "  if (u == 1.0$L) return x;\n"
  "  if (isinf(u)) return u;\n"
  "  precise $T d = u - 1.0$L;\n"
  "  return gx_log(u) * x / d;\n"
  "}\n"
  "$T gx_tanh($T x) {\n"
  "  if (isnan(x)) return x;\n"
  "  $T e = gx_expm1(-2.0$L * abs(x));\n"
  "  $T t = -e / (2.0$L + e);\n"
  "  return x < 0.0$L ? -t : t;\n"
  "}\n"
  "$T gx_sigmoid($T x) {\n"
  "  if (x >= 0.0$L) return 1.0$L / (1.0$L + gx_exp(-x));\n"
  "  $T e = gx_exp(x);\n"
  "  return e / (1.0$L + e);\n"
  "}\n"
  "$T gx_softplus($T x) {\n"
  "  return (x > 0.0$L ? x : 0.0$L) + gx_log1p(gx_exp(-abs(x)));\n"
  "}\n"
  /* erf(x) = 2/sqrt(pi) exp(-x^2) sum 2^n x^(2n+1) / (2n+1)!!: positive terms, no cancellation */
  "$T gx_erf($T x) {\n"
  "  $T a = abs(x);\n"
  "  if (a >= $ERFMAX) return x > 0.0$L ? 1.0$L : -1.0$L;\n"
  "  $T x2 = a * a, term = a, sum = a;\n"
  "  for (int n = 1; n < 300; n++) {\n"
  "    term *= 2.0$L * x2 / $T(2 * n + 1);\n"
  "    sum += term;\n"
  "    if (term < sum * $EPS) break;\n"
  "  }\n"
  "  $T r = 1.1283791670955125739$L * gx_exp(-x2) * sum;\n"
  "  return x < 0.0$L ? -r : r;\n"
  "}\n"
  "$T gx_pow($T a, $T b) {\n"
  "  if (b == 0.0$L || a == 1.0$L) return 1.0$L;\n"
  "  if (isnan(a) || isnan(b)) return a + b;\n"
  "  if (floor(b) == b && abs(b) <= 64.0$L) {\n"
  "    int n = int(abs(b));\n"
  "    $T r = 1.0$L, p = a;\n"
  "    while (n > 0) { if ((n & 1) != 0) r *= p; p *= p; n >>= 1; }\n"
  "    return b < 0.0$L ? 1.0$L / r : r;\n"
  "  }\n"
  "  $T r = gx_exp(b * gx_log(abs(a)));\n"
  "  if (a < 0.0$L) {\n"
  "    if (floor(b) != b) return $T(uintBitsToFloat(0x7fc00000u));\n"
  "    if (mod(b, 2.0$L) == 1.0$L) r = -r;\n"
  "  }\n"
  "  return r;\n"
  "}\n"
  /* half to even, by hand: some drivers get roundEven wrong for doubles */
  "$T gx_round($T x) {\n"
  "  if (!(abs(x) < $BIG)) return x;\n"
  "  $T r = floor(x + 0.5$L);\n"
  "  if (r - x == 0.5$L && mod(r, 2.0$L) != 0.0$L) r -= 1.0$L;\n"
  "  return r;\n"
  "}\n"
  "$T gx_max($T a, $T b) { return (isnan(a) || isnan(b)) ? a + b : (a > b ? a : b); }\n"
  "$T gx_min($T a, $T b) { return (isnan(a) || isnan(b)) ? a + b : (a < b ? a : b); }\n";

static const char float_math[] =
  "float gx_exp(float x) { return exp(x); }\n"
  "float gx_log(float x) { return log(x); }\n"
  "float gx_sin(float x) { return sin(x); }\n"
  "float gx_cos(float x) { return cos(x); }\n";

static void
append_poly (GString *s, const char *var, const double *c, gint n)
{
  /* Horner: c[0] + var*(c[1] + var*(...)) */
  for (gint i = 0; i < n - 1; i++)
    g_string_append_printf (s, "(%.17eLF + %s * ", c[i], var);
  g_string_append_printf (s, "%.17eLF", c[n - 1]);
  for (gint i = 0; i < n - 1; i++)
    g_string_append_c (s, ')');
}

static void
append_double_math (GString *s)
{
  double c[24];
  g_string_append (s,
                   "double gx_inf() { return double(uintBitsToFloat(0x7f800000u)); }\n"
                   "double gx_nan() { return double(uintBitsToFloat(0x7fc00000u)); }\n"
                   "double gx_exp(double x) {\n"
                   "  if (isnan(x)) return x;\n"
                   "  if (x > 709.782712893384LF) return gx_inf();\n"
                   "  if (x < -745.1332191019412LF) return 0.0LF;\n"
                   "  double k = floor(x * 1.4426950408889634LF + 0.5LF);\n"
                   "  double r = (x - k * 6.93147180369123816490e-01LF)"
                   " - k * 1.90821492927058770002e-10LF;\n"
                   "  double p = ");
  /* exp(r), |r| <= 0.35: Taylor to degree 14 */
  double f = 1;
  for (gint i = 0; i <= 14; i++) {
    c[i] = 1 / f;
    f *= i + 1;
  }
  append_poly (s, "r", c, 15);
  g_string_append (s,
                   ";\n"
                   "  int e = int(k);\n"
                   "  return ldexp(ldexp(p, e / 2), e - e / 2);\n"
                   "}\n"
                   "double gx_log(double x) {\n"
                   "  if (isnan(x)) return x;\n"
                   "  if (x < 0.0LF) return gx_nan();\n"
                   "  if (x == 0.0LF) return -gx_inf();\n"
                   "  if (isinf(x)) return x;\n"
                   "  int e;\n"
                   "  double m = frexp(x, e);\n"
                   "  if (m < 0.70710678118654752LF) { m *= 2.0LF; e -= 1; }\n"
                   "  double f = m - 1.0LF;\n"
                   "  double s = f / (2.0LF + f);\n"
                   "  double s2 = s * s;\n"
                   "  double t = ");
  /* log(1+f) = 2 atanh(s) = 2 (s + s^3/3 + ...), |s| <= 0.172 */
  for (gint i = 0; i < 12; i++)
    c[i] = 1.0 / (2 * i + 1);
  append_poly (s, "s2", c, 12);
  g_string_append (s,
                   ";\n"
                   "  return double(e) * 6.93147180369123816490e-01LF"
                   " + (double(e) * 1.90821492927058770002e-10LF + 2.0LF * s * t);\n"
                   "}\n"
                   "double gx_sin_poly(double r) {\n"
                   "  double r2 = r * r;\n"
                   "  return r * ");
  f = 1;
  for (gint i = 0; i < 12; i++) {
    /* (-1)^i / (2i+1)! */
    c[i] = (i % 2 ? -1 : 1) / f;
    f *= (2 * i + 2) * (2 * i + 3);
  }
  append_poly (s, "r2", c, 12);
  g_string_append (s, ";\n}\n"
                   "double gx_cos_poly(double r) {\n"
                   "  double r2 = r * r;\n"
                   "  return ");
  f = 1;
  for (gint i = 0; i < 12; i++) {
    c[i] = (i % 2 ? -1 : 1) / f;
    f *= (2 * i + 1) * (2 * i + 2);
  }
  append_poly (s, "r2", c, 12);
  g_string_append (s,
                   ";\n}\n"
                   /* Cody-Waite reduction by pi/2 in three parts */
                   "double gx_reduce(double x, out int q) {\n"
                   "  double k = floor(x * 0.63661977236758134LF + 0.5LF);\n"
                   "  q = int(mod(k, 4.0LF));\n"
                   "  return ((x - k * 1.57079632673412561417e+00LF)"
                   " - k * 6.07710050630396597660e-11LF) - k * 2.02226624879595063154e-21LF;\n"
                   "}\n"
                   "double gx_sin(double x) {\n"
                   "  if (isnan(x) || isinf(x)) return gx_nan();\n"
                   "  int q;\n"
                   "  double r = gx_reduce(x, q);\n"
                   "  double v = (q & 1) == 0 ? gx_sin_poly(r) : gx_cos_poly(r);\n"
                   "  return q >= 2 ? -v : v;\n"
                   "}\n"
                   "double gx_cos(double x) {\n"
                   "  if (isnan(x) || isinf(x)) return gx_nan();\n"
                   "  int q;\n"
                   "  double r = gx_reduce(x, q);\n"
                   "  double v = (q & 1) == 0 ? gx_cos_poly(r) : gx_sin_poly(r);\n"
                   "  return (q == 1 || q == 2) ? -v : v;\n"
                   "}\n");
}

static void
append_generic (GString *s, const char *type, const char *suffix, const char *erfmax,
                const char *eps)
{
  g_autoptr (GString) t = g_string_new (generic_math);
  g_string_replace (t, "$T", type, 0);
  g_string_replace (t, "$L", suffix, 0);
  g_string_replace (t, "$ERFMAX", erfmax, 0);
  g_string_replace (t, "$EPS", eps, 0);
  g_string_replace (t, "$BIG", strcmp (type, "float") ? "4503599627370496.0LF" : "8388608.0", 0);
  g_string_append (s, t->str);
}

static void
append_ipow (GString *s, const char *type)
{
  g_string_append_printf (s,
                          "%s gx_ipow(%s a, %s b) {\n"
                          "  if (b < %s(0)) return a == %s(1) ? a : (a == %s(-1) ? ((b & %s(1))"
                          " != %s(0) ? a : -a) : %s(0));\n"
                          "  %s r = %s(1);\n"
                          "  while (b > %s(0)) { if ((b & %s(1)) != %s(0)) r *= a; a *= a;"
                          " b >>= 1; }\n"
                          "  return r;\n"
                          "}\n",
                          type, type, type, type, type, type, type, type, type, type, type, type,
                          type, type);
}

void
grd_vk_glsl_header (GString *s, gboolean int64, gboolean float64)
{
  g_string_append (s, "#version 450\n");
  if (int64)
    g_string_append (s, "#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require\n");
  g_string_append_printf (s, "layout(local_size_x = %d) in;\n"
                          "layout(push_constant) uniform Push { uint p[%d]; } pc;\n",
                          GRD_VK_GROUP, GRD_VK_PUSH_WORDS);
  g_string_append (s, float_math);
  append_generic (s, "float", "", "4.0", "1e-8");
  append_ipow (s, "int");
  if (float64) {
    append_double_math (s);
    append_generic (s, "double", "LF", "6.0LF", "1e-17LF");
  }
  if (int64)
    append_ipow (s, "int64_t");
}

void
grd_vk_glsl_buffer (GString *s, gint binding, GrdDType dtype, gboolean readonly)
{
  g_string_append_printf (s,
                          "layout(std430, set = 0, binding = %d) %s buffer Buf%d { %s d[]; } b%d;\n",
                          binding, readonly ? "readonly" : "", binding, storage_type (dtype),
                          binding);
}

char *
grd_vk_glsl_load (gint binding, GrdDType dtype, const char *index)
{
  if (dtype == GRD_DTYPE_BOOL)
    return g_strdup_printf ("(b%d.d[%s] != 0u)", binding, index);
  return g_strdup_printf ("b%d.d[%s]", binding, index);
}

char *
grd_vk_glsl_store (gint binding, GrdDType dtype, const char *index, const char *value)
{
  if (dtype == GRD_DTYPE_BOOL)
    return g_strdup_printf ("b%d.d[%s] = (%s) ? 1u : 0u;", binding, index, value);
  return g_strdup_printf ("b%d.d[%s] = %s;", binding, index, value);
}

char *
grd_vk_glsl_convert (const char *expr, GrdDType from, GrdDType to)
{
  if (from == to)
    return g_strdup (expr);
  if (to == GRD_DTYPE_BOOL)
    return g_strdup_printf ("((%s) != %s(0))", expr, grd_vk_glsl_type (from));
  return g_strdup_printf ("%s(%s)", grd_vk_glsl_type (to), expr);
}

static const char *const elementwise_ops[] = {
  "add", "sub", "mul", "div", "pow", "maximum", "minimum", "neg", "abs", "sign", "square",
  "sqrt", "reciprocal", "exp", "log", "log1p", "expm1", "sin", "cos", "tanh", "sigmoid",
  "softplus", "relu", "erf", "eq", "neq", "lt", "le", "gt", "ge", "and", "or", "not", "switch",
  "clip", "floor", "ceil", "round", "cast", "binary_crossentropy", "_broadcast_to", "mod",
  "floor_div", NULL,
};

gboolean
grd_vk_op_is_elementwise (const char *op)
{
  return g_strv_contains (elementwise_ops, op);
}

static gboolean
is_comparison (const char *op)
{
  static const char *const cmp[] = { "eq", "neq", "lt", "le", "gt", "ge", NULL };
  return g_strv_contains (cmp, op);
}

GrdDType
grd_vk_compute_type (const char *op, const GrdDType *in, gint n_in, GrdDType out)
{
  if (is_comparison (op))
    return grd_dtype_promote (in[0], in[1]);
  if (strcmp (op, "cast") == 0)
    return in[0];
  return out;
}

#define A args[0]
#define B args[1]
#define C args[2]

char *
grd_vk_glsl_elementwise (const char *op, GrdDType ct, GrdDType out, char **args)
{
  gboolean fl = grd_dtype_is_float (ct);
  const char *T = grd_vk_glsl_type (ct);
  if (strcmp (op, "cast") == 0)
    return grd_vk_glsl_convert (A, ct, out);
  if (strcmp (op, "_broadcast_to") == 0)
    return g_strdup (A);
  if (is_comparison (op)) {
    static const char *const sym[] = { "==", "!=", "<", "<=", ">", ">=" };
    static const char *const cmp[] = { "eq", "neq", "lt", "le", "gt", "ge" };
    for (gint i = 0; i < 6; i++)
      if (strcmp (op, cmp[i]) == 0) {
        if (i == 1) /* NaN != anything */
          return g_strdup_printf ("(!(%s == %s))", A, B);
        return g_strdup_printf ("(%s %s %s)", A, sym[i], B);
      }
  }
  if (strcmp (op, "and") == 0 || strcmp (op, "or") == 0 || strcmp (op, "not") == 0) {
    gboolean logical = ct == GRD_DTYPE_BOOL;
    if (op[0] == 'n')
      return g_strdup_printf (logical ? "(!%s)" : "(~%s)", A);
    return g_strdup_printf ("(%s %s %s)", A,
                            op[0] == 'a' ? (logical ? "&&" : "&") : (logical ? "||" : "|"), B);
  }
  if (strcmp (op, "switch") == 0)
    return g_strdup_printf ("(%s ? %s : %s)", A, B, C);
  if (ct == GRD_DTYPE_BOOL) {
    if (strcmp (op, "add") == 0 || strcmp (op, "maximum") == 0)
      return g_strdup_printf ("(%s || %s)", A, B);
    if (strcmp (op, "mul") == 0 || strcmp (op, "minimum") == 0)
      return g_strdup_printf ("(%s && %s)", A, B);
    if (strcmp (op, "abs") == 0 || strcmp (op, "square") == 0 || strcmp (op, "sign") == 0
        || strcmp (op, "floor") == 0 || strcmp (op, "ceil") == 0 || strcmp (op, "round") == 0)
      return g_strdup (A);
    if (strcmp (op, "clip") == 0)
      return g_strdup_printf ("((%s || %s) && %s)", A, B, C);
    return NULL;
  }
  if (strcmp (op, "mod") == 0 || strcmp (op, "floor_div") == 0) {
    gboolean m = op[0] == 'm';
    if (fl) {
      /* NumPy's divmod: fmod moved to the divisor's sign; floor of the quotient */
      if (!m)
        return g_strdup_printf ("floor(%s / %s)", A, B);
      g_autofree char *fm = g_strdup_printf ("(%s - %s * trunc(%s / %s))", A, B, A, B);
      return g_strdup_printf ("((%s != %s(0) && ((%s < %s(0)) != (%s < %s(0)))) ? %s + %s : %s)",
                              fm, T, fm, T, B, T, fm, B, fm);
    }
    /* integers: floor division; x // 0 and x % 0 are 0, as in NumPy */
    g_autofree char *q = g_strdup_printf ("(%s / %s)", A, B);
    g_autofree char *r = g_strdup_printf ("(%s - %s * %s)", A, q, B);
    g_autofree char *adj = g_strdup_printf ("(%s != %s(0) && ((%s < %s(0)) != (%s < %s(0))))", r, T,
                                            r, T, B, T);
    if (m)
      return g_strdup_printf ("(%s == %s(0) ? %s(0) : (%s ? %s + %s : %s))", B, T, T, adj, r, B, r);
    return g_strdup_printf ("(%s == %s(0) ? %s(0) : (%s ? %s - %s(1) : %s))", B, T, T, adj, q, T, q);
  }
  if (strcmp (op, "add") == 0)
    return g_strdup_printf ("(%s + %s)", A, B);
  if (strcmp (op, "sub") == 0)
    return g_strdup_printf ("(%s - %s)", A, B);
  if (strcmp (op, "mul") == 0)
    return g_strdup_printf ("(%s * %s)", A, B);
  if (strcmp (op, "div") == 0)
    return g_strdup_printf ("(%s / %s)", A, B);
  if (strcmp (op, "neg") == 0)
    return g_strdup_printf ("(-%s)", A);
  if (strcmp (op, "square") == 0)
    return g_strdup_printf ("(%s * %s)", A, A);
  if (strcmp (op, "reciprocal") == 0)
    return g_strdup_printf ("(%s(1) / %s)", T, A);
  if (strcmp (op, "pow") == 0)
    return g_strdup_printf (fl ? "gx_pow(%s, %s)" : "gx_ipow(%s, %s)", A, B);
  if (strcmp (op, "maximum") == 0)
    return fl ? g_strdup_printf ("gx_max(%s, %s)", A, B)
              : g_strdup_printf ("(%s > %s ? %s : %s)", A, B, A, B);
  if (strcmp (op, "minimum") == 0)
    return fl ? g_strdup_printf ("gx_min(%s, %s)", A, B)
              : g_strdup_printf ("(%s < %s ? %s : %s)", A, B, A, B);
  if (strcmp (op, "clip") == 0)
    return fl ? g_strdup_printf ("gx_min(gx_max(%s, %s), %s)", A, B, C)
              : g_strdup_printf ("((%s > %s ? %s : %s) < %s ? (%s > %s ? %s : %s) : %s)", A, B, A, B,
                                 C, A, B, A, B, C);
  if (strcmp (op, "abs") == 0)
    return fl ? g_strdup_printf ("abs(%s)", A)
              : g_strdup_printf ("(%s < %s(0) ? -%s : %s)", A, T, A, A);
  if (strcmp (op, "sign") == 0)
    return g_strdup_printf ("(%s > %s(0) ? %s(1) : (%s < %s(0) ? %s(-1) : %s))", A, T, T, A, T, T,
                            A);
  if (strcmp (op, "relu") == 0)
    return fl ? g_strdup_printf ("(%s > %s(0) || isnan(%s) ? %s : %s(0))", A, T, A, A, T)
              : g_strdup_printf ("(%s > %s(0) ? %s : %s(0))", A, T, A, T);
  if (strcmp (op, "floor") == 0 || strcmp (op, "ceil") == 0 || strcmp (op, "round") == 0) {
    if (!fl)
      return g_strdup (A);
    return g_strdup_printf ("%s(%s)", op[0] == 'r' ? "gx_round" : op, A);
  }
  if (!fl)
    return NULL;
  if (strcmp (op, "sqrt") == 0)
    return g_strdup_printf ("sqrt(%s)", A);
  static const char *const unary[] = { "exp", "log", "log1p", "expm1", "sin", "cos", "tanh",
                                       "sigmoid", "softplus", "erf" };
  for (gsize i = 0; i < G_N_ELEMENTS (unary); i++)
    if (strcmp (op, unary[i]) == 0)
      return g_strdup_printf ("gx_%s(%s)", op, A);
  if (strcmp (op, "binary_crossentropy") == 0)
    return g_strdup_printf ("(-(%s * gx_log(%s) + (%s(1) - %s) * gx_log(%s(1) - %s)))", B, A, T,
                            B, T, A);
  return NULL;
}
