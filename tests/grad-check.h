/* grad-check.h: helpers shared by the engine tests. */
#pragma once

#include "gradus.h"

/* A tensor of uniform values in [lo, hi) (integers: floor of them). */
GrdTensor *grd_test_random (GrdDType dtype, gint rank, const gint64 *shape, double lo, double hi,
                            guint64 seed);
/* A tensor from literal doubles. */
GrdTensor *grd_test_tensor (GrdDType dtype, gint rank, const gint64 *shape, const double *values);

/* Evaluates one op on constant inputs through the reference executor (the
 * op's own kernel, no compiler passes); aborts the test on error. */
GrdTensor *grd_test_eval_op (const char *op, const GrdAttrs *attrs, GrdTensor *const *inputs,
                             gint n_inputs);
/* Same, but returns NULL and sets error when building or calling fails. */
GrdTensor *grd_test_try_op (const char *op, const GrdAttrs *attrs, GrdTensor *const *inputs,
                            gint n_inputs, GError **error);

/* Asserts dtype, shape and values (|got - want| <= atol + rtol |want|; NaN
 * equals NaN, infinities must match). */
void grd_test_assert_tensor (const GrdTensor *got, GrdDType dtype, gint rank, const gint64 *shape,
                             const double *want, double rtol, double atol);
void grd_test_assert_close (const GrdTensor *got, const GrdTensor *want, double rtol, double atol);

/* Asserts a GRD_ERROR of `code` whose message names `node` and, when not
 * NULL, contains `what`. */
void grd_test_assert_error_names (GError *error, gint code, const char *node, const char *what);

/* Builds the expression under test from variables for every input. */
typedef GrdRef (*GrdTestBuild) (GrdGraph *graph, const GrdRef *vars, gpointer data,
                                GError **error);

/* Theano's verify_grad: with a random projection P of the output, compares the
 * symbolic gradient of sum(P * f(inputs)) with central finite differences
 * (eps 1e-7) in float64, for every float input. Asserts within 1e-4 absolute
 * and relative. The inputs are converted to float64 (integer ones stay). */
void grd_test_verify_grad_build (GrdTestBuild build, gpointer data, GrdTensor *const *inputs,
                                 gint n_inputs, guint64 seed);
/* The same with every input's dims unknown when the graph is built (gradients
 * then depend on shapes known only at run time). */
void grd_test_verify_grad_full (GrdTestBuild build, gpointer data, GrdTensor *const *inputs,
                                gint n_inputs, guint64 seed, gboolean unknown_dims);
void grd_test_verify_grad_unknown_dims (const char *op, const GrdAttrs *attrs,
                                        GrdTensor *const *inputs, gint n_inputs);

/* The same for one op. */
void grd_test_verify_grad (const char *op, const GrdAttrs *attrs, GrdTensor *const *inputs,
                           gint n_inputs);
