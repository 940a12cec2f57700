/* conv-cases.h: the conv2d/pool_2d reference cases, shared by the CPU and
 * Vulkan tests. */
#pragma once

#include "gradus.h"

/* A tensor of `dtype` from a case's {"shape": [...], "data": [...]}. */
GrdTensor *grd_test_conv_tensor (JsonObject *o, GrdDType dtype);
/* The "cases" of tests/data/conv-refs.json; *parser owns them. */
JsonArray *grd_test_conv_cases (JsonParser **parser);

/* Compiles the case's function where the caller wants it run. */
typedef GrdFunction *(*GrdTestConvCompile) (GrdGraph *g, const GrdRef *ins, gint n_in,
                                            const GrdRef *outs, gint n_out, gpointer data);
/* Runs one case in `dtype` on the function `compile` makes: the op's output,
 * and for conv2d the gradients of sum(gy * y) for input and filters, against
 * the references within `tol`. */
void grd_test_conv_check_case (JsonObject *c, GrdDType dtype, double tol,
                               GrdTestConvCompile compile, gpointer data);
