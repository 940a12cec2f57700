/* grd-reduce-kernels.h: the compiler's kernels for reductions over axes
 * (sum, mean, prod, max, min, argmax, argmin, logsumexp) and for the
 * gradient helpers _reduce_to and _unreduce, on float32 and float64. */
#pragma once

#include "grd-program.h"

G_BEGIN_DECLS

/* Makes `ins` run the reduction kernel; FALSE (nothing changed) when it has
 * none (integer inputs, other ops). The kernel itself falls back to the op's own eval for the layouts it does
 * not handle (several separate reduced runs, empty inputs), so it always
 * gives the reference's result or error. */
gboolean grd_reduce_kernel_install (GrdProgram *prog, GrdInstr *ins);

G_END_DECLS
