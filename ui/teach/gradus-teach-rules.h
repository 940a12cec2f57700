/* gradus-teach-rules.h: how a classroom writes an op: the expression it
 * computes ("a × x") and its local derivative with respect to one input
 * ("x"), with the inputs' names put in. Words only: every number the
 * step-through shows comes from the engine. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* "a × x" for mul(a, x); "op(a, b)" for an op without a written form.
 * `inputs` are the names of the inputs (n of them). Free with g_free. */
char *gradus_teach_rule_expression (const char *op, const char *const *inputs, guint n);

/* The local derivative of op(inputs) with respect to input `slot`: "x" for
 * d(a × x)/d a, "two · err^(two − 1)" for d(err^two)/d err. Free with g_free. */
char *gradus_teach_rule_derivative (const char *op, const char *const *inputs, guint n,
                                    guint slot);

G_END_DECLS
