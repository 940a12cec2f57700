/* ops-elementwise.c: the elementwise ops of the catalogue (arithmetic,
 * transcendental, comparison and logic, rounding, conversion).
 *
 * NumPy semantics: inputs broadcast against each other, the result dtype is
 * numpy.result_type of the inputs, and the inputs are converted to the dtype
 * the op computes in before the loop runs. Float-valued functions of integer
 * inputs compute in float64, of bool inputs in float32. Integers compute in
 * int64 with wrap-around (as NumPy's fixed-width integers do), then store.
 *
 * Every kernel is a loop per op and per dtype over a run of elements whose
 * operands step by 0 or 1 (or any stride, more slowly): the contiguous case
 * is a plain loop the compiler vectorises. Broadcasting runs the kernel over
 * the innermost run after merging the axes that can be merged. */
#include "../grd-internal.h"

#include <string.h>
#include <tgmath.h>

/* -O2 in GCC 12 vectorises only loops that need no epilogue; these loops
 * are the whole point of the file, so let it weigh them normally. */
#pragma GCC optimize ("vect-cost-model=dynamic")

/* ------------------------------------------------------------ scalar helpers */

/* Integer arithmetic wraps (through unsigned, so it is defined behaviour). */
static inline gint64
wadd (gint64 a, gint64 b)
{
  return (gint64) ((guint64) a + (guint64) b);
}

static inline gint64
wsub (gint64 a, gint64 b)
{
  return (gint64) ((guint64) a - (guint64) b);
}

static inline gint64
wmul (gint64 a, gint64 b)
{
  return (gint64) ((guint64) a * (guint64) b);
}

static inline gint64
wneg (gint64 a)
{
  return (gint64) (0 - (guint64) a);
}

/* b >= 0 (checked before the loop, as NumPy refuses negative powers). */
static inline gint64
ipow (gint64 a, gint64 b)
{
  guint64 r = 1, x = (guint64) a;
  while (b > 0) {
    if (b & 1)
      r *= x;
    x *= x;
    b >>= 1;
  }
  return (gint64) r;
}

/* NumPy's maximum and minimum: a NaN on either side gives NaN. */
static inline float
maxnan_f (float a, float b)
{
  return (a >= b || a != a) ? a : b;
}

static inline double
maxnan_d (double a, double b)
{
  return (a >= b || a != a) ? a : b;
}

static inline float
minnan_f (float a, float b)
{
  return (a <= b || a != a) ? a : b;
}

static inline double
minnan_d (double a, double b)
{
  return (a <= b || a != a) ? a : b;
}

/* exp of minus |x| only, so neither overflows for any x. */
static inline float
sigmoid_f (float x)
{
  float e = expf (-fabsf (x)), r = 1.0f / (1.0f + e);
  return x >= 0 ? r : e * r;
}

static inline double
sigmoid_d (double x)
{
  double e = exp (-fabs (x)), r = 1.0 / (1.0 + e);
  return x >= 0 ? r : e * r;
}

static inline float
softplus_f (float x)
{
  return (x > 0 ? x : 0.0f) + log1pf (expf (-fabsf (x)));
}

static inline double
softplus_d (double x)
{
  return (x > 0 ? x : 0.0) + log1p (exp (-fabs (x)));
}

#define MAXNAN(a, b)  _Generic ((a), float: maxnan_f, default: maxnan_d) (a, b)
#define MINNAN(a, b)  _Generic ((a), float: minnan_f, default: minnan_d) (a, b)
#define SIGMOID(a)    _Generic ((a), float: sigmoid_f, default: sigmoid_d) (a)
#define SOFTPLUS(a)   _Generic ((a), float: softplus_f, default: softplus_d) (a)

/* Float to integer: truncation in range; NaN and out of range give the
 * minimum integer, as x86 conversions (and so NumPy there) do. */
static inline gint32
f2i32 (double v)
{
  return (v >= -2147483648.0 && v < 2147483648.0) ? (gint32) v : G_MININT32;
}

static inline gint64
f2i64 (double v)
{
  return (v >= -9223372036854775808.0 && v < 9223372036854775808.0) ? (gint64) v : G_MININT64;
}

/* ------------------------------------------------------------ expressions
 *
 * One expression per op and dtype family, in terms of the inputs a, b, c and
 * their type T; the kernels and the scalar apply functions are made from
 * these lists. <tgmath.h> picks expf for float and exp for double. */

#define FLOAT_UNARY(X)                                  \
  X (NEG, -a)                                           \
  X (ABS, fabs (a))                                     \
  X (SIGN, a > 0 ? (T) 1 : a < 0 ? (T) -1 : a)          \
  X (SQUARE, a * a)                                     \
  X (SQRT, sqrt (a))                                    \
  X (RECIPROCAL, (T) 1 / a)                             \
  X (EXP, exp (a))                                      \
  X (LOG, log (a))                                      \
  X (LOG1P, log1p (a))                                  \
  X (EXPM1, expm1 (a))                                  \
  X (SIN, sin (a))                                      \
  X (COS, cos (a))                                      \
  X (TANH, tanh (a))                                    \
  X (SIGMOID, SIGMOID (a))                              \
  X (SOFTPLUS, SOFTPLUS (a))                            \
  X (RELU, a < 0 ? (T) 0 : a)                           \
  X (ERF, erf (a))                                      \
  X (FLOOR, floor (a))                                  \
  X (CEIL, ceil (a))                                    \
  X (ROUND, rint (a))  /* half to even in the default rounding mode */

#define FLOAT_BINARY(X)                                 \
  X (ADD, a + b)                                        \
  X (SUB, a - b)                                        \
  X (MUL, a * b)                                        \
  X (DIV, a / b)                                        \
  X (POW, pow (a, b))                                   \
  X (MAXIMUM, MAXNAN (a, b))                            \
  X (MINIMUM, MINNAN (a, b))

/* Any dtype, bool result. */
#define COMPARE(X)                                      \
  X (EQ, a == b)                                        \
  X (NEQ, a != b)                                       \
  X (LT, a < b)                                         \
  X (LE, a <= b)                                        \
  X (GT, a > b)                                         \
  X (GE, a >= b)

#define FLOAT_CLIP MINNAN (MAXNAN (a, b), c)

#define INT_UNARY(X)                                    \
  X (NEG, wneg (a))                                     \
  X (ABS, a < 0 ? wneg (a) : a)                         \
  X (SIGN, (a > 0) - (a < 0))                           \
  X (SQUARE, wmul (a, a))                               \
  X (RELU, a < 0 ? 0 : a)

#define INT_BINARY(X)                                   \
  X (ADD, wadd (a, b))                                  \
  X (SUB, wsub (a, b))                                  \
  X (MUL, wmul (a, b))                                  \
  X (POW, ipow (a, b))                                  \
  X (MAXIMUM, a >= b ? a : b)                           \
  X (MINIMUM, a <= b ? a : b)

#define INT_CLIP (a >= b ? a : b) <= c ? (a >= b ? a : b) : c

/* Bools as NumPy treats them: add is or, mul is and (no sub, neg or pow). */
#define BOOL_UNARY(X)                                   \
  X (ABS, a)                                            \
  X (SIGN, a)                                           \
  X (SQUARE, a)                                         \
  X (RELU, a)                                           \
  X (NOT, !a)

#define BOOL_BINARY(X)                                  \
  X (ADD, a | b)                                        \
  X (MUL, a & b)                                        \
  X (MAXIMUM, a | b)                                    \
  X (MINIMUM, a & b)                                    \
  X (AND, a & b)                                        \
  X (OR, a | b)

#define BOOL_CLIP (a | b) & c

/* ------------------------------------------------------------ kernels */

/* Computes n outputs; in[i] steps by st[i] elements (0 for a broadcast
 * operand, 1 for a contiguous one). */
typedef void (*ElemKernel) (gint64 n, void *out, const void *const *in, const gint64 *st);

#define KERNEL1(name, TI, TO, EXPR)                                             \
  static void                                                                  \
  name (gint64 n, void *out, const void *const *in, const gint64 *st)          \
  {                                                                            \
    typedef TI T;                                                              \
    TO *restrict o = out;                                                      \
    const T *restrict pa = in[0];                                              \
    if (st[0] == 1)                                                            \
      for (gint64 i = 0; i < n; i++) {                                         \
        T a = pa[i];                                                           \
        o[i] = (TO) (EXPR);                                                    \
      }                                                                        \
    else                                                                       \
      for (gint64 i = 0; i < n; i++) {                                         \
        T a = pa[i * st[0]];                                                   \
        o[i] = (TO) (EXPR);                                                    \
      }                                                                        \
  }

#define KERNEL2(name, TI, TO, EXPR)                                             \
  static void                                                                  \
  name (gint64 n, void *out, const void *const *in, const gint64 *st)          \
  {                                                                            \
    typedef TI T;                                                              \
    TO *restrict o = out;                                                      \
    const T *restrict pa = in[0], *restrict pb = in[1];                        \
    gint64 sa = st[0], sb = st[1];                                             \
    if (sa == 1 && sb == 1)                                                    \
      for (gint64 i = 0; i < n; i++) {                                         \
        T a = pa[i], b = pb[i];                                                \
        o[i] = (TO) (EXPR);                                                    \
      }                                                                        \
    else if (sa == 1 && sb == 0) {                                             \
      const T b = pb[0];                                                       \
      for (gint64 i = 0; i < n; i++) {                                         \
        T a = pa[i];                                                           \
        o[i] = (TO) (EXPR);                                                    \
      }                                                                        \
    } else if (sa == 0 && sb == 1) {                                           \
      const T a = pa[0];                                                       \
      for (gint64 i = 0; i < n; i++) {                                         \
        T b = pb[i];                                                           \
        o[i] = (TO) (EXPR);                                                    \
      }                                                                        \
    } else                                                                     \
      for (gint64 i = 0; i < n; i++) {                                         \
        T a = pa[i * sa], b = pb[i * sb];                                      \
        o[i] = (TO) (EXPR);                                                    \
      }                                                                        \
  }

/* The first operand may have a type of its own (switch's condition). */
#define KERNEL3(name, TC, TI, EXPR)                                             \
  static void                                                                  \
  name (gint64 n, void *out, const void *const *in, const gint64 *st)          \
  {                                                                            \
    typedef TI T;                                                              \
    T *restrict o = out;                                                       \
    const TC *restrict pa = in[0];                                             \
    const T *restrict pb = in[1], *restrict pc = in[2];                        \
    gint64 sa = st[0], sb = st[1], sc = st[2];                                 \
    if (sa == 1 && sb == 1 && sc == 1)                                         \
      for (gint64 i = 0; i < n; i++) {                                         \
        TC a = pa[i];                                                          \
        T b = pb[i], c = pc[i];                                                \
        o[i] = (T) (EXPR);                                                     \
      }                                                                        \
    else if (sa == 1 && sb == 0 && sc == 0) {                                  \
      const T b = pb[0], c = pc[0];                                            \
      for (gint64 i = 0; i < n; i++) {                                         \
        TC a = pa[i];                                                          \
        o[i] = (T) (EXPR);                                                     \
      }                                                                        \
    } else                                                                     \
      for (gint64 i = 0; i < n; i++) {                                         \
        TC a = pa[i * sa];                                                     \
        T b = pb[i * sb], c = pc[i * sc];                                      \
        o[i] = (T) (EXPR);                                                     \
      }                                                                        \
  }

#define F_UN(NAME, EXPR)                                \
  KERNEL1 (k_##NAME##_f32, float, float, EXPR)          \
  KERNEL1 (k_##NAME##_f64, double, double, EXPR)
#define F_BIN(NAME, EXPR)                               \
  KERNEL2 (k_##NAME##_f32, float, float, EXPR)          \
  KERNEL2 (k_##NAME##_f64, double, double, EXPR)
#define I_UN(NAME, EXPR)                                \
  KERNEL1 (k_##NAME##_i32, gint32, gint32, EXPR)        \
  KERNEL1 (k_##NAME##_i64, gint64, gint64, EXPR)
#define I_BIN(NAME, EXPR)                               \
  KERNEL2 (k_##NAME##_i32, gint32, gint32, EXPR)        \
  KERNEL2 (k_##NAME##_i64, gint64, gint64, EXPR)
#define B_UN(NAME, EXPR) KERNEL1 (k_##NAME##_b, guint8, guint8, EXPR)
#define B_BIN(NAME, EXPR) KERNEL2 (k_##NAME##_b, guint8, guint8, EXPR)
#define CMP(NAME, EXPR)                                 \
  KERNEL2 (k_##NAME##_b, guint8, guint8, EXPR)          \
  KERNEL2 (k_##NAME##_i32, gint32, guint8, EXPR)        \
  KERNEL2 (k_##NAME##_i64, gint64, guint8, EXPR)        \
  KERNEL2 (k_##NAME##_f32, float, guint8, EXPR)         \
  KERNEL2 (k_##NAME##_f64, double, guint8, EXPR)

FLOAT_UNARY (F_UN)
FLOAT_BINARY (F_BIN)
INT_UNARY (I_UN)
INT_BINARY (I_BIN)
BOOL_UNARY (B_UN)
BOOL_BINARY (B_BIN)
COMPARE (CMP)

KERNEL3 (k_CLIP_f32, float, float, FLOAT_CLIP)
KERNEL3 (k_CLIP_f64, double, double, FLOAT_CLIP)
KERNEL3 (k_CLIP_i32, gint32, gint32, INT_CLIP)
KERNEL3 (k_CLIP_i64, gint64, gint64, INT_CLIP)
KERNEL3 (k_CLIP_b, guint8, guint8, BOOL_CLIP)
KERNEL3 (k_SWITCH_b, guint8, guint8, a ? b : c)
KERNEL3 (k_SWITCH_i32, guint8, gint32, a ? b : c)
KERNEL3 (k_SWITCH_i64, guint8, gint64, a ? b : c)
KERNEL3 (k_SWITCH_f32, guint8, float, a ? b : c)
KERNEL3 (k_SWITCH_f64, guint8, double, a ? b : c)

/* kernels[code][compute dtype]; NULL where the op does not take that dtype. */
#define T_F(NAME, EXPR)                                                         \
  [GRD_ELEM_##NAME][GRD_DTYPE_FLOAT32] = k_##NAME##_f32,                        \
  [GRD_ELEM_##NAME][GRD_DTYPE_FLOAT64] = k_##NAME##_f64,
#define T_I(NAME, EXPR)                                                         \
  [GRD_ELEM_##NAME][GRD_DTYPE_INT32] = k_##NAME##_i32,                          \
  [GRD_ELEM_##NAME][GRD_DTYPE_INT64] = k_##NAME##_i64,
#define T_B(NAME, EXPR) [GRD_ELEM_##NAME][GRD_DTYPE_BOOL] = k_##NAME##_b,
#define T_ALL(NAME, EXPR) T_F (NAME, EXPR) T_I (NAME, EXPR) T_B (NAME, EXPR)

static const ElemKernel kernels[GRD_ELEM_N_CODES][GRD_N_DTYPES] = {
  FLOAT_UNARY (T_F)
  FLOAT_BINARY (T_F)
  INT_UNARY (T_I)
  INT_BINARY (T_I)
  BOOL_UNARY (T_B)
  BOOL_BINARY (T_B)
  COMPARE (T_ALL)
  T_ALL (CLIP, _)
  T_ALL (SWITCH, _)
};

/* ------------------------------------------------------------ casts */

#define CASTS_FROM(S, TS)                                                       \
  KERNEL1 (cast_##S##_b, TS, guint8, a != 0)                                    \
  KERNEL1 (cast_##S##_f32, TS, float, a)                                        \
  KERNEL1 (cast_##S##_f64, TS, double, a)
CASTS_FROM (b, guint8)
CASTS_FROM (i32, gint32)
CASTS_FROM (i64, gint64)
CASTS_FROM (f32, float)
CASTS_FROM (f64, double)
KERNEL1 (cast_b_i32, guint8, gint32, a)
KERNEL1 (cast_b_i64, guint8, gint64, a)
KERNEL1 (cast_i32_i32, gint32, gint32, a)
KERNEL1 (cast_i32_i64, gint32, gint64, a)
KERNEL1 (cast_i64_i32, gint64, gint32, (guint32) a)  /* wraps, as astype does */
KERNEL1 (cast_i64_i64, gint64, gint64, a)
KERNEL1 (cast_f32_i32, float, gint32, f2i32 (a))
KERNEL1 (cast_f32_i64, float, gint64, f2i64 (a))
KERNEL1 (cast_f64_i32, double, gint32, f2i32 (a))
KERNEL1 (cast_f64_i64, double, gint64, f2i64 (a))

#define CAST_ROW(S)                                                             \
  { cast_##S##_b, cast_##S##_i32, cast_##S##_i64, cast_##S##_f32, cast_##S##_f64 }

/* cast_kernels[from][to], in GrdDType order. */
static const ElemKernel cast_kernels[GRD_N_DTYPES][GRD_N_DTYPES] = {
  CAST_ROW (b), CAST_ROW (i32), CAST_ROW (i64), CAST_ROW (f32), CAST_ROW (f64),
};

/* A new reference to t converted to `dtype` (t itself when it has it), or
 * NULL and an error when memory is short. */
static GrdTensor *
convert (GrdTensor *t, GrdDType dtype, GError **error)
{
  if (t->dtype == dtype)
    return grd_tensor_ref (t);
  GrdTensor *c = grd_tensor_try_new (dtype, t->rank, t->shape, error);
  if (!c)
    return NULL;
  const void *src = t->data;
  const gint64 one = 1;
  if (t->size > 0)
    cast_kernels[t->dtype][dtype] (t->size, c->data, &src, &one);
  return c;
}

/* ------------------------------------------------------------ scalar apply */

/* One scalar apply function per float type, from the same expression lists. */
#define DEFINE_APPLY(NAME, TYPE)                                                \
  TYPE                                                                          \
  NAME (gint code, TYPE a, TYPE b, TYPE c)                                      \
  {                                                                             \
    typedef TYPE T;                                                             \
    switch (code) {                                                             \
    FLOAT_UNARY (APPLY_CASE)                                                    \
    FLOAT_BINARY (APPLY_CASE)                                                   \
    COMPARE (APPLY_CASE)                                                        \
    APPLY_CASE (CLIP, FLOAT_CLIP)                                               \
    case GRD_ELEM_AND: return a != 0 && b != 0;                                 \
    case GRD_ELEM_OR: return a != 0 || b != 0;                                  \
    case GRD_ELEM_NOT: return a == 0;                                           \
    case GRD_ELEM_SWITCH: return a != 0 ? b : c;                                \
    case GRD_ELEM_CAST: return a;                                               \
    default: g_return_val_if_reached (NAN);                                     \
    }                                                                           \
  }
#define APPLY_CASE(NAME, EXPR) case GRD_ELEM_##NAME: return (T) (EXPR);

DEFINE_APPLY (grd_elementwise_apply_f64, double)
DEFINE_APPLY (grd_elementwise_apply_f32, float)

#undef APPLY_CASE
#undef DEFINE_APPLY

/* ------------------------------------------------------------ broadcasting loop */

/* Runs `kernel` over the output shape: axes of size 1 are dropped and
 * neighbouring axes merged wherever every operand steps evenly across them,
 * so [N,M] op [M] and x op scalar become long runs. */
static void
run_kernel (ElemKernel kernel, GrdTensor *o, GrdTensor *const *in, gint n_in)
{
  gint64 full[3][GRD_MAX_RANK];
  gint64 shape[GRD_MAX_RANK], st[3][GRD_MAX_RANK];
  gint rank = 0;
  if (o->size == 0)
    return;
  for (gint i = 0; i < n_in; i++)
    grd_broadcast_strides (in[i], o->rank, o->shape, full[i]);
  for (gint d = 0; d < o->rank; d++) {
    if (o->shape[d] == 1)
      continue;
    gboolean merge = rank > 0;
    for (gint i = 0; merge && i < n_in; i++)
      merge = st[i][rank - 1] == full[i][d] * o->shape[d];
    if (merge) {
      shape[rank - 1] = grd_dim_mul (shape[rank - 1], o->shape[d]);
      for (gint i = 0; i < n_in; i++)
        st[i][rank - 1] = full[i][d];
    } else {
      shape[rank] = o->shape[d];
      for (gint i = 0; i < n_in; i++)
        st[i][rank] = full[i][d];
      rank++;
    }
  }
  if (rank == 0) {
    shape[0] = 1;
    for (gint i = 0; i < n_in; i++)
      st[i][0] = 1;
    rank = 1;
  }
  gint last = rank - 1;
  gint64 inner = shape[last], inner_st[3], idx[GRD_MAX_RANK] = { 0 }, off[3] = { 0 };
  gsize es[3], oes = grd_dtype_size (o->dtype);
  for (gint i = 0; i < n_in; i++) {
    inner_st[i] = st[i][last];
    es[i] = grd_dtype_size (in[i]->dtype);
  }
  const void *ptr[3];
  for (gint64 done = 0; done < o->size; done += inner) {
    for (gint i = 0; i < n_in; i++)
      ptr[i] = (const char *) in[i]->data + off[i] * es[i];
    kernel (inner, (char *) o->data + done * oes, ptr, inner_st);
    for (gint d = last - 1; d >= 0; d--) {
      for (gint i = 0; i < n_in; i++)
        off[i] += st[i][d];
      if (++idx[d] < shape[d])
        break;
      for (gint i = 0; i < n_in; i++)
        off[i] -= st[i][d] * shape[d];
      idx[d] = 0;
    }
  }
}

/* ------------------------------------------------------------ type rules */

typedef enum {
  RULE_SAME,     /* result_type of the inputs, computed in it */
  RULE_FLOAT,    /* a float function: ints give float64, bools float32 */
  RULE_COMPARE,  /* computed in result_type, bool result */
  RULE_LOGIC,    /* inputs tested for != 0, bool result */
  RULE_SWITCH,   /* condition tested for != 0, result_type of the branches */
  RULE_ROUND,    /* floats rounded; integers and bools unchanged */
  RULE_CAST,     /* the dtype attribute */
} ElemRule;

static const struct {
  ElemRule rule;
  const char *hint;   /* why a dtype without a kernel is refused */
} elem_rules[GRD_ELEM_N_CODES] = {
  [GRD_ELEM_ADD] = { RULE_SAME }, [GRD_ELEM_SUB] = { RULE_SAME, "use 'neq' for exclusive or" },
  [GRD_ELEM_MUL] = { RULE_SAME }, [GRD_ELEM_DIV] = { RULE_FLOAT },
  [GRD_ELEM_POW] = { RULE_SAME, "cast them to a number dtype first" },
  [GRD_ELEM_MAXIMUM] = { RULE_SAME }, [GRD_ELEM_MINIMUM] = { RULE_SAME },
  [GRD_ELEM_NEG] = { RULE_SAME, "use 'not' for logical negation" }, [GRD_ELEM_ABS] = { RULE_SAME },
  [GRD_ELEM_SIGN] = { RULE_SAME }, [GRD_ELEM_SQUARE] = { RULE_SAME },
  [GRD_ELEM_SQRT] = { RULE_FLOAT }, [GRD_ELEM_RECIPROCAL] = { RULE_FLOAT },
  [GRD_ELEM_EXP] = { RULE_FLOAT }, [GRD_ELEM_LOG] = { RULE_FLOAT }, [GRD_ELEM_LOG1P] = { RULE_FLOAT },
  [GRD_ELEM_EXPM1] = { RULE_FLOAT }, [GRD_ELEM_SIN] = { RULE_FLOAT }, [GRD_ELEM_COS] = { RULE_FLOAT },
  [GRD_ELEM_TANH] = { RULE_FLOAT }, [GRD_ELEM_SIGMOID] = { RULE_FLOAT },
  [GRD_ELEM_SOFTPLUS] = { RULE_FLOAT }, [GRD_ELEM_RELU] = { RULE_SAME },
  [GRD_ELEM_ERF] = { RULE_FLOAT },
  [GRD_ELEM_EQ] = { RULE_COMPARE }, [GRD_ELEM_NEQ] = { RULE_COMPARE },
  [GRD_ELEM_LT] = { RULE_COMPARE }, [GRD_ELEM_LE] = { RULE_COMPARE },
  [GRD_ELEM_GT] = { RULE_COMPARE }, [GRD_ELEM_GE] = { RULE_COMPARE },
  [GRD_ELEM_AND] = { RULE_LOGIC }, [GRD_ELEM_OR] = { RULE_LOGIC }, [GRD_ELEM_NOT] = { RULE_LOGIC },
  [GRD_ELEM_SWITCH] = { RULE_SWITCH }, [GRD_ELEM_CLIP] = { RULE_SAME },
  [GRD_ELEM_FLOOR] = { RULE_ROUND }, [GRD_ELEM_CEIL] = { RULE_ROUND },
  [GRD_ELEM_ROUND] = { RULE_ROUND },
  [GRD_ELEM_CAST] = { RULE_CAST },
};

static const char *elem_name (gint code);

/* The dtype the inputs are converted to (`compute`; switch's condition and
 * logic inputs become bool instead) and the result dtype. */
static gboolean
elem_dtypes (gint code, const GrdAttrs *attrs, const GrdDType *in, gint n_in, GrdDType *compute,
             GrdDType *result, GError **error)
{
  GrdDType p = in[0];
  for (gint i = 1; i < n_in; i++)
    p = grd_dtype_promote (p, in[i]);
  switch (elem_rules[code].rule) {
  case RULE_SAME:
    if (!kernels[code][p]) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE, "%s does not take %s inputs%s%s",
                   elem_name (code), grd_dtype_name (p), elem_rules[code].hint ? "; " : "",
                   elem_rules[code].hint ? elem_rules[code].hint : "");
      return FALSE;
    }
    *compute = *result = p;
    break;
  case RULE_FLOAT:
    *compute = *result = p == GRD_DTYPE_BOOL ? GRD_DTYPE_FLOAT32
                         : grd_dtype_is_float (p) ? p : GRD_DTYPE_FLOAT64;
    break;
  case RULE_COMPARE:
    *compute = p;
    *result = GRD_DTYPE_BOOL;
    break;
  case RULE_LOGIC:
    *compute = *result = GRD_DTYPE_BOOL;
    break;
  case RULE_SWITCH:
    *compute = *result = grd_dtype_promote (in[1], in[2]);
    break;
  case RULE_ROUND:
    *compute = *result = p;
    break;
  case RULE_CAST:
    if (!attrs->has_dtype) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE,
                   "cast needs a 'dtype' attribute (float32, float64, int32, int64 or bool)");
      return FALSE;
    }
    if ((guint) attrs->dtype >= GRD_N_DTYPES) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE, "cast: dtype %d is not a dtype", attrs->dtype);
      return FALSE;
    }
    *compute = p;
    *result = attrs->dtype;
    break;
  }
  return TRUE;
}

static gboolean
elem_infer (gint code, const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out,
            GError **error)
{
  GrdDType dts[3], compute, result;
  gint rank = 0;
  gint64 dims[GRD_MAX_RANK];
  for (gint i = 0; i < n_in; i++) {
    dts[i] = in[i].dtype;
    rank = MAX (rank, in[i].rank);
  }
  if (!grd_broadcast_types (in, n_in, rank, dims, error)
      || !elem_dtypes (code, attrs, dts, n_in, &compute, &result, error))
    return FALSE;
  grd_type_set (out, result, rank, dims);
  return TRUE;
}

/* ------------------------------------------------------------ reference kernels */

static gboolean
elem_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  gint code = grd_elementwise_code (node->op);
  gint n_in = node->n_inputs;
  GrdDType dts[3], compute, result;
  for (gint i = 0; i < n_in; i++)
    dts[i] = in[i]->dtype;
  if (!elem_dtypes (code, &node->attrs, dts, n_in, &compute, &result, error))
    return FALSE;
  if (code == GRD_ELEM_CAST
      || (elem_rules[code].rule == RULE_ROUND && !grd_dtype_is_float (compute))) {
    /* a fresh tensor even when nothing changes: outputs are never aliases */
    out[0] = in[0]->dtype == result ? grd_tensor_try_cast (in[0], result, error)
                                    : convert (in[0], result, error);
    return out[0] != NULL;
  }
  gint rank;
  gint64 shape[GRD_MAX_RANK];
  if (!grd_broadcast_shapes (in, n_in, &rank, shape, error))
    return FALSE;
  GrdTensor *args[3] = { NULL, NULL, NULL };
  gboolean ok = TRUE;
  for (gint i = 0; ok && i < n_in; i++) {
    gboolean to_bool = elem_rules[code].rule == RULE_LOGIC || (code == GRD_ELEM_SWITCH && i == 0);
    ok = (args[i] = convert (in[i], to_bool ? GRD_DTYPE_BOOL : compute, error)) != NULL;
  }
  GrdTensor *o = ok ? grd_tensor_try_new (result, rank, shape, error) : NULL;
  ok = o != NULL;
  if (ok && code == GRD_ELEM_POW && !grd_dtype_is_float (compute) && o->size > 0) {
    /* NumPy refuses these rather than give a truncated 0 */
    GrdTensor *e = args[1];
    for (gint64 i = 0; ok && i < e->size; i++)
      ok = (compute == GRD_DTYPE_INT32 ? ((gint32 *) e->data)[i] : ((gint64 *) e->data)[i]) >= 0;
    if (!ok)
      g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE,
                   "integers to negative integer powers are not allowed (cast to a float dtype)");
  }
  if (ok)
    run_kernel (kernels[code][compute], o, args, n_in);
  for (gint i = 0; i < n_in; i++)
    g_clear_pointer (&args[i], grd_tensor_unref);
  if (!ok) {
    if (o)
      grd_tensor_unref (o);
    return FALSE;
  }
  out[0] = o;
  return TRUE;
}

/* ------------------------------------------------------------ gradient rules */

static gboolean
elem_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
           GrdRef *ig, GError **error)
{
  gint code = grd_elementwise_code (node->op);
  GrdDType dt = node->types[0].dtype;
  GrdRef gz = og[0];
  /* int and bool results carry no gradient (Theano's disconnected) */
  if (!grd_dtype_is_float (dt) || grd_ref_is_none (gz))
    return TRUE;
  GrdRef x = node->inputs[0];
  GrdRef y = node->n_inputs > 1 ? node->inputs[1] : GRD_REF_NONE;
  GrdRef w = node->n_inputs > 2 ? node->inputs[2] : GRD_REF_NONE;
  /* this node's own output, for rules that reuse it (exp, tanh, ...) */
  GrdRef z = { grd_graph_find (g, node->id), 0 };

#define K(v) grd_build_scalar (g, error, dt, (v))
#define B1(op, p) grd_build (g, error, op, NULL, 1, p)
#define B2(op, p, q) grd_build (g, error, op, NULL, 2, p, q)
#define B3(op, p, q, r) grd_build (g, error, op, NULL, 3, p, q, r)
  /* unary ops: the gradient already has the input's shape */
#define UN(v) if (needed[0]) ig[0] = (v)
  /* broadcasting ops: sum the gradient back to the operand's shape */
#define TO(i, v) if (needed[i]) ig[i] = grd_build_reduce_to (g, error, (v), node->inputs[i])

  switch (code) {
  case GRD_ELEM_ADD:
    TO (0, gz);
    TO (1, gz);
    break;
  case GRD_ELEM_SUB:
    TO (0, gz);
    TO (1, B1 ("neg", gz));
    break;
  case GRD_ELEM_MUL:
    TO (0, B2 ("mul", gz, y));
    TO (1, B2 ("mul", gz, x));
    break;
  case GRD_ELEM_DIV:
    TO (0, B2 ("div", gz, y));
    TO (1, B1 ("neg", B2 ("div", B2 ("mul", gz, z), y)));
    break;
  case GRD_ELEM_POW:
    TO (0, B2 ("mul", gz, B2 ("mul", y, B2 ("pow", x, B2 ("sub", y, K (1))))));
    TO (1, B2 ("mul", gz, B2 ("mul", z, B1 ("log", x))));
    break;
  case GRD_ELEM_MAXIMUM:
  case GRD_ELEM_MINIMUM: {
    /* ties split the gradient half and half, as PyTorch does */
    const char *wins = code == GRD_ELEM_MAXIMUM ? "gt" : "lt";
    const char *loses = code == GRD_ELEM_MAXIMUM ? "lt" : "gt";
    GrdRef tie = needed[0] || needed[1]
                 ? B3 ("switch", B2 ("eq", x, y), B2 ("mul", gz, K (0.5)), K (0))
                 : GRD_REF_NONE;
    TO (0, B3 ("switch", B2 (wins, x, y), gz, tie));
    TO (1, B3 ("switch", B2 (loses, x, y), gz, tie));
    break;
  }
  case GRD_ELEM_NEG:
    UN (B1 ("neg", gz));
    break;
  case GRD_ELEM_ABS:
    UN (B2 ("mul", gz, B1 ("sign", x)));
    break;
  case GRD_ELEM_SQUARE:
    UN (B2 ("mul", gz, B2 ("mul", x, K (2))));
    break;
  case GRD_ELEM_SQRT:
    UN (B2 ("div", gz, B2 ("mul", z, K (2))));
    break;
  case GRD_ELEM_RECIPROCAL:
    UN (B1 ("neg", B2 ("mul", gz, B1 ("square", z))));
    break;
  case GRD_ELEM_EXP:
    UN (B2 ("mul", gz, z));
    break;
  case GRD_ELEM_LOG:
    UN (B2 ("div", gz, x));
    break;
  case GRD_ELEM_LOG1P:
    UN (B2 ("div", gz, B2 ("add", x, K (1))));
    break;
  case GRD_ELEM_EXPM1:
    UN (B2 ("mul", gz, B2 ("add", z, K (1))));
    break;
  case GRD_ELEM_SIN:
    UN (B2 ("mul", gz, B1 ("cos", x)));
    break;
  case GRD_ELEM_COS:
    UN (B1 ("neg", B2 ("mul", gz, B1 ("sin", x))));
    break;
  case GRD_ELEM_TANH:
    UN (B2 ("mul", gz, B2 ("sub", K (1), B1 ("square", z))));
    break;
  case GRD_ELEM_SIGMOID:
    UN (B2 ("mul", gz, B2 ("mul", z, B2 ("sub", K (1), z))));
    break;
  case GRD_ELEM_SOFTPLUS:
    UN (B2 ("mul", gz, B1 ("sigmoid", x)));
    break;
  case GRD_ELEM_RELU:
    UN (B3 ("switch", B2 ("gt", x, K (0)), gz, K (0)));
    break;
  case GRD_ELEM_ERF:
    UN (B2 ("mul", gz, B2 ("mul", K (2 / sqrt (G_PI)), B1 ("exp", B1 ("neg", B1 ("square", x))))));
    break;
  case GRD_ELEM_SWITCH:
    TO (1, B3 ("switch", x, gz, K (0)));
    TO (2, B3 ("switch", x, K (0), gz));
    break;
  case GRD_ELEM_CLIP:
    /* exact for lo > hi too, where NumPy's clip gives hi everywhere */
    TO (0, B3 ("switch", B2 ("and", B2 ("ge", x, y), B2 ("le", x, w)), gz, K (0)));
    TO (1, B3 ("switch", B2 ("and", B2 ("lt", x, y), B2 ("le", y, w)), gz, K (0)));
    TO (2, B3 ("switch", B2 ("or", B2 ("gt", x, w), B2 ("gt", y, w)), gz, K (0)));
    break;
  case GRD_ELEM_CAST:
    UN (grd_build_cast (g, error, gz, grd_graph_ref_type (g, x)->dtype));
    break;
  default:
    /* sign, comparisons, logic, rounding: zero almost everywhere */
    break;
  }
#undef K
#undef B1
#undef B2
#undef B3
#undef UN
#undef TO
  return *error == NULL;
}

/* ------------------------------------------------------------ the op table */

#define INFER(CODE)                                                             \
  static gboolean                                                              \
  infer_##CODE (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, \
                GError **error)                                                \
  {                                                                            \
    return elem_infer (GRD_ELEM_##CODE, attrs, in, n_in, out, error);          \
  }

#define ELEM_OPS(X)                                                             \
  X (ADD, "add", "arithmetic", 2)                                              \
  X (SUB, "sub", "arithmetic", 2)                                              \
  X (MUL, "mul", "arithmetic", 2)                                              \
  X (DIV, "div", "arithmetic", 2)                                              \
  X (POW, "pow", "arithmetic", 2)                                              \
  X (MAXIMUM, "maximum", "arithmetic", 2)                                      \
  X (MINIMUM, "minimum", "arithmetic", 2)                                      \
  X (NEG, "neg", "arithmetic", 1)                                              \
  X (ABS, "abs", "arithmetic", 1)                                              \
  X (SIGN, "sign", "arithmetic", 1)                                            \
  X (SQUARE, "square", "arithmetic", 1)                                        \
  X (SQRT, "sqrt", "arithmetic", 1)                                            \
  X (RECIPROCAL, "reciprocal", "arithmetic", 1)                                \
  X (EXP, "exp", "transcendental", 1)                                          \
  X (LOG, "log", "transcendental", 1)                                          \
  X (LOG1P, "log1p", "transcendental", 1)                                      \
  X (EXPM1, "expm1", "transcendental", 1)                                      \
  X (SIN, "sin", "transcendental", 1)                                          \
  X (COS, "cos", "transcendental", 1)                                          \
  X (TANH, "tanh", "transcendental", 1)                                        \
  X (SIGMOID, "sigmoid", "transcendental", 1)                                  \
  X (SOFTPLUS, "softplus", "transcendental", 1)                                \
  X (RELU, "relu", "transcendental", 1)                                        \
  X (ERF, "erf", "transcendental", 1)                                          \
  X (EQ, "eq", "comparison", 2)                                                \
  X (NEQ, "neq", "comparison", 2)                                              \
  X (LT, "lt", "comparison", 2)                                                \
  X (LE, "le", "comparison", 2)                                                \
  X (GT, "gt", "comparison", 2)                                                \
  X (GE, "ge", "comparison", 2)                                                \
  X (AND, "and", "comparison", 2)                                              \
  X (OR, "or", "comparison", 2)                                                \
  X (NOT, "not", "comparison", 1)                                              \
  X (SWITCH, "switch", "comparison", 3)                                        \
  X (CLIP, "clip", "comparison", 3)                                            \
  X (FLOOR, "floor", "rounding", 1)                                            \
  X (CEIL, "ceil", "rounding", 1)                                              \
  X (ROUND, "round", "rounding", 1)                                            \
  X (CAST, "cast", "conversion", 1)

#define DEFINE_INFER(CODE, NAME, GROUP, N) INFER (CODE)
ELEM_OPS (DEFINE_INFER)

#define OP_DEF(CODE, NAME, GROUP, N)                                            \
  [GRD_ELEM_##CODE] = { NAME, GROUP, N, N, 1, infer_##CODE, elem_eval, elem_grad },

static const GrdOpDef elem_ops[] = { ELEM_OPS (OP_DEF) };

G_STATIC_ASSERT (G_N_ELEMENTS (elem_ops) == GRD_ELEM_N_CODES);

static const char *
elem_name (gint code)
{
  return elem_ops[code].name;
}

gint
grd_elementwise_code (const GrdOpDef *op)
{
  /* by address: the op table hands out pointers into elem_ops */
  guintptr p = (guintptr) op, base = (guintptr) elem_ops;
  if (p < base || p >= base + sizeof elem_ops || (p - base) % sizeof (GrdOpDef) != 0)
    return -1;
  return (gint) ((p - base) / sizeof (GrdOpDef));
}

void
grd_ops_register_elementwise (GrdOpRegisterFunc add)
{
  for (gint i = 0; i < GRD_ELEM_N_CODES; i++)
    add (&elem_ops[i]);
}
