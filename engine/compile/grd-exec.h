/* grd-exec.h: running a compiled program: buffers reused across and within
 * calls, BLAS calls, fused loops, and a per-instruction profile. */
#pragma once

#include "grd-program.h"

G_BEGIN_DECLS

typedef struct _GrdExec GrdExec;

GrdExec *grd_exec_new (GrdProgram *prog);   /* takes ownership of prog */
void     grd_exec_free (GrdExec *exec);
/* inputs already checked and converted by the caller; outputs get new
 * references; shared variables are updated together at the end. */
gboolean grd_exec_call (GrdExec *exec, GrdTensor *const *inputs, GrdTensor **outputs,
                        GError **error);
/* The straight-line path of programs of float scalars: TRUE when it made the
 * call (inputs unchecked, as the caller gave them), FALSE when the general
 * path must (other programs, inputs that need checks, profiling on). */
gboolean grd_exec_is_scalar (GrdExec *exec);
gboolean grd_exec_call_scalar (GrdExec *exec, GrdTensor *const *inputs, GrdTensor **outputs);
/* The same path with plain doubles (grd_function_call_doubles). */
gboolean grd_exec_call_doubles (GrdExec *exec, const double *in, double *out);
void     grd_exec_set_profiling (GrdExec *exec, gboolean on);
GArray  *grd_exec_profile (GrdExec *exec);  /* GrdProfileEntry, owned by exec */
GrdProgram *grd_exec_program (GrdExec *exec);

/* BLAS-backed kernels (grd-kernels.c) */
gboolean grd_kernel_gemm (GrdInstr *ins, GrdTensor *const *in, GrdTensor **out, GError **error);

G_END_DECLS
