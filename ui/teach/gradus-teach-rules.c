/* gradus-teach-rules.c: the written form of ops and of their local
 * derivatives, as a teacher writes them on the board. Templates name the
 * inputs {0}, {1}, {2}; an op without a template is written op(a, b) and its
 * derivative ∂op/∂a. */
#include "gradus-teach-rules.h"

#include <glib/gi18n.h>
#include <string.h>

typedef struct {
  const char *op;
  const char *expression;
  const char *derivative[3];   /* per input slot; NULL: not written */
} Rule;

static const Rule rules[] = {
  { "add", "{0} + {1}", { "1", "1" } },
  { "sub", "{0} − {1}", { "1", "−1" } },
  { "mul", "{0} × {1}", { "{1}", "{0}" } },
  { "div", "{0} / {1}", { "1 / {1}", "−{0} / {1}²" } },
  { "pow", "{0}^{1}", { "{1} · {0}^({1} − 1)", "{0}^{1} · ln {0}" } },
  { "neg", "−{0}", { "−1" } },
  { "abs", "|{0}|", { "sign({0})" } },
  { "square", "{0}²", { "2 · {0}" } },
  { "sqrt", "√{0}", { "1 / (2 √{0})" } },
  { "reciprocal", "1 / {0}", { "−1 / {0}²" } },
  { "exp", "exp({0})", { "exp({0})" } },
  { "log", "ln {0}", { "1 / {0}" } },
  { "log1p", "ln(1 + {0})", { "1 / (1 + {0})" } },
  { "expm1", "exp({0}) − 1", { "exp({0})" } },
  { "sin", "sin {0}", { "cos {0}" } },
  { "cos", "cos {0}", { "−sin {0}" } },
  { "tanh", "tanh {0}", { "1 − tanh² {0}" } },
  { "sigmoid", "σ({0})", { "σ({0}) · (1 − σ({0}))" } },
  { "softplus", "ln(1 + exp({0}))", { "σ({0})" } },
  { "relu", "max(0, {0})", { N_("1 where {0} > 0, else 0") } },
  { "maximum", "max({0}, {1})", { N_("1 where {0} ≥ {1}"), N_("1 where {1} > {0}") } },
  { "minimum", "min({0}, {1})", { N_("1 where {0} ≤ {1}"), N_("1 where {1} < {0}") } },
  { "sum", "sum({0})", { N_("1 for every element") } },
  { "mean", "mean({0})", { N_("1 / n for every element") } },
  { "dot", "{0} · {1}", { "(·) {1}ᵀ", "{0}ᵀ (·)" } },
};

static const Rule *
find_rule (const char *op)
{
  for (gsize i = 0; op && i < G_N_ELEMENTS (rules); i++)
    if (g_str_equal (rules[i].op, op))
      return &rules[i];
  return NULL;
}

/* A name inside a longer expression keeps its meaning: "a * x" becomes "(a * x)". */
static char *
operand (const char *name)
{
  if (strpbrk (name, " +-*/^·×−"))
    return g_strdup_printf ("(%s)", name);
  return g_strdup (name);
}

static char *
fill (const char *template, const char *const *inputs, guint n)
{
  GString *out = g_string_new (NULL);
  for (const char *p = template; *p; p++) {
    if (p[0] == '{' && p[1] >= '0' && p[1] <= '9' && p[2] == '}') {
      guint k = (guint) (p[1] - '0');
      g_autofree char *o = operand (k < n ? inputs[k] : "?");
      g_string_append (out, o);
      p += 2;
    } else
      g_string_append_c (out, *p);
  }
  return g_string_free (out, FALSE);
}

char *
gradus_teach_rule_expression (const char *op, const char *const *inputs, guint n)
{
  const Rule *r = find_rule (op);
  if (r && r->expression)
    return fill (r->expression, inputs, n);
  GString *out = g_string_new (op ? op : "?");
  g_string_append_c (out, '(');
  for (guint k = 0; k < n; k++)
    g_string_append_printf (out, "%s%s", k ? ", " : "", inputs[k]);
  g_string_append_c (out, ')');
  return g_string_free (out, FALSE);
}

char *
gradus_teach_rule_derivative (const char *op, const char *const *inputs, guint n, guint slot)
{
  const Rule *r = find_rule (op);
  if (r && slot < G_N_ELEMENTS (r->derivative) && r->derivative[slot])
    return fill (_(r->derivative[slot]), inputs, n);
  return g_strdup_printf ("∂ %s / ∂ %s", op ? op : "?", slot < n ? inputs[slot] : "?");
}
