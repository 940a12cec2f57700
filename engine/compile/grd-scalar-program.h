/* grd-scalar-program.h: straight-line code for programs of float scalars. */
#pragma once

#include "grd-program.h"

G_BEGIN_DECLS

typedef struct _GrdScalarProgram GrdScalarProgram;

/* NULL unless every value of the optimised program is a scalar of one float
 * dtype and every instruction is elementwise (or a fused loop of such). */
GrdScalarProgram *grd_scalar_program_new (GrdProgram *prog);
void              grd_scalar_program_free (GrdScalarProgram *sp);
/* One call; FALSE (nothing done) when an input or a shared value is not a
 * scalar of the program's dtype: the caller then takes the general path. */
gboolean          grd_scalar_program_call (GrdScalarProgram *sp, GrdTensor *const *inputs,
                                           GrdTensor **outputs);
/* The same with plain doubles: in[i] feeds input i (rounded to float32 for
 * float32 programs), out[o] receives output o. FALSE (nothing done) only
 * when a shared value is no longer a scalar of the program's dtype. */
gboolean          grd_scalar_program_call_doubles (GrdScalarProgram *sp, const double *in,
                                                   double *out);

G_END_DECLS
