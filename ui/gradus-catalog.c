/* gradus-catalog.c: arities, port names and attribute names of the ops of the
 * file format's catalogue, as the editor needs them to draw empty ports and
 * offer attribute fields before the engine has seen a complete node. */
#include "gradus-catalog.h"

#include <glib/gi18n.h>

#include <string.h>

static const char *const binary_ops[] = {
  "add", "sub", "mul", "div", "pow", "maximum", "minimum", "eq", "neq", "lt", "le", "gt",
  "ge", "and", "or", "dot", "outer", "take", "categorical_crossentropy",
  "binary_crossentropy", "_broadcast_to", "_reduce_to", "_reshape_like", NULL,
};

static gboolean
in_list (const char *const *list, const char *s)
{
  for (; *list; list++)
    if (g_str_equal (*list, s))
      return TRUE;
  return FALSE;
}

gint
gradus_catalog_arity (const char *op)
{
  if (!op)
    return -2;
  if (in_list (binary_ops, op))
    return 2;
  if (g_str_equal (op, "switch") || g_str_equal (op, "clip"))
    return 3;
  if (g_str_equal (op, "concatenate") || g_str_equal (op, "stack"))
    return GRADUS_ARITY_VARIADIC;
  return 1;
}

const char *
gradus_catalog_input_name (const char *op, gint i)
{
  static const char *const abc[] = { "a", "b", "c" };
  if (op && g_str_equal (op, "switch"))
    return (const char *[]) { "cond", "a", "b" }[CLAMP (i, 0, 2)];
  if (op && g_str_equal (op, "clip"))
    return (const char *[]) { "x", "lo", "hi" }[CLAMP (i, 0, 2)];
  if (op && g_str_equal (op, "take"))
    return i == 0 ? "x" : "indices";
  if (op && g_str_equal (op, "categorical_crossentropy"))
    return i == 0 ? "probs" : "labels";
  if (op && g_str_equal (op, "binary_crossentropy"))
    return i == 0 ? "probs" : "targets";
  if (gradus_catalog_arity (op) == 1)
    return "x";
  if (i < 3)
    return abc[i];
  return "in";
}

const char *const *
gradus_catalog_attrs (const char *op)
{
  static const char *const none[] = { NULL };
  static const char *const reduce[] = { "axis", "keepdims", NULL };
  static const char *const axis[] = { "axis", NULL };
  static const char *const cast[] = { "dtype", NULL };
  static const char *const perm[] = { "perm", NULL };
  static const char *const shape[] = { "shape", NULL };
  static const char *const pattern[] = { "pattern", NULL };
  static const char *const ndim[] = { "ndim", NULL };
  static const char *const slice[] = { "begin", "end", "step", NULL };
  static const char *const one_hot[] = { "depth", "dtype", NULL };
  static const char *const reductions[] = { "sum", "mean", "prod", "max", "min", "argmax",
                                            "argmin", NULL };
  static const char *const axis_ops[] = { "concatenate", "stack", "take", "softmax",
                                          "log_softmax", "logsumexp", NULL };
  if (!op)
    return none;
  if (in_list (reductions, op))
    return reduce;
  if (in_list (axis_ops, op))
    return axis;
  if (g_str_equal (op, "cast"))
    return cast;
  if (g_str_equal (op, "transpose"))
    return perm;
  if (g_str_equal (op, "reshape"))
    return shape;
  if (g_str_equal (op, "dimshuffle"))
    return pattern;
  if (g_str_equal (op, "flatten"))
    return ndim;
  if (g_str_equal (op, "slice"))
    return slice;
  if (g_str_equal (op, "one_hot"))
    return one_hot;
  return none;
}

const char *
gradus_catalog_describe (const char *op)
{
  static const struct { const char *op, *text; } texts[] = {
    { "variable", N_("A symbolic input (T.scalar, T.vector, T.matrix ...)") },
    { "constant", N_("A fixed value (TensorConstant)") },
    { "shared", N_("Persistent state that function updates change (theano.shared)") },
    { "grad", N_("T.grad(cost, wrt): derivatives of a scalar cost") },
    { "add", N_("a + b, broadcasting") }, { "sub", "a - b" }, { "mul", "a * b" },
    { "div", N_("a / b (true division)") }, { "pow", "a ** b" },
    { "dot", N_("Matrix product (NumPy dot)") }, { "outer", N_("Outer product of two vectors") },
    { "sum", N_("Sum over axis (or all)") }, { "mean", N_("Mean over axis (or all)") },
    { "sigmoid", "1 / (1 + exp(-x))" }, { "softmax", N_("Softmax over the last axis") },
    { "switch", N_("cond ? a : b, elementwise") }, { "clip", N_("x clipped to [lo, hi]") },
    { "dimshuffle", N_("Theano dimshuffle: reorder axes, \"x\" inserts one") },
    { "categorical_crossentropy", N_("Per-row loss of probabilities against class indices") },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++)
    if (g_str_equal (texts[i].op, op))
      return _(texts[i].text);
  return NULL;
}

const char *const *
gradus_catalog_node_kinds (void)
{
  static const char *const kinds[] = { "variable", "constant", "shared", "grad", NULL };
  return kinds;
}
