/* grd-interchange.h: graphs that leave Gradus and come back: ONNX export and
 * import (onnx/), and the PyTorch script export (pytorch/). docs/interchange.md
 * says what maps to what. */
#pragma once

#include "gradus.h"

G_BEGIN_DECLS

/* One function of a graph file, as resolved references: `name` is NULL for
 * the file's run function (run.function, else "function", else the only entry
 * of "functions"). Errors name the file and the reference. */
typedef struct {
  char      *name;        /* the function's name ("main" for "function") */
  gint       n_inputs, n_outputs, n_updates;
  GrdRef    *inputs;
  char     **input_ids;
  GrdRef    *outputs;
  GrdUpdate *updates;
  char     **update_ids;  /* the shared variables' ids */
} GrdInterFunction;

GrdInterFunction *grd_inter_function_resolve (GrdDocument *doc, const char *name, GError **error);
void              grd_inter_function_free (GrdInterFunction *fn);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GrdInterFunction, grd_inter_function_free)

/* Writes the whole call of the function (outputs, gradients, update values)
 * as an ONNX model (opset 17): inputs then the shared variables it reads as
 * graph inputs, "output:i" and "update:ID" as graph outputs. An op with no
 * ONNX form is refused with its node named. */
gboolean grd_onnx_export (GrdDocument *doc, const char *function, const char *out_path,
                          GError **error);

/* Options of the ONNX export. CONV_FLOAT32: float64 conv2d (and its
 * gradient ops) computed in float32, with Casts around, since ONNX Runtime's
 * CPU Conv and ConvTranspose take float32 only. */
typedef enum {
  GRD_ONNX_EXPORT_DEFAULT = 0,
  GRD_ONNX_EXPORT_CONV_FLOAT32 = 1 << 0,
} GrdOnnxExportFlags;

/* grd_onnx_export with options; `notice` (may be NULL) receives a sentence
 * for the user when the model holds something a common runtime will not run
 * (a float64 convolution written as it is), else NULL. */
gboolean grd_onnx_export_with_flags (GrdDocument *doc, const char *function, const char *out_path,
                                     GrdOnnxExportFlags flags, char **notice, GError **error);

/* Reads an ONNX model and returns the text of a graph file: initializers as
 * shared variables, graph inputs as variables, graph outputs as the
 * function's outputs, laid out in columns for the editor. An operator with no
 * Gradus form is refused by name. */
char *grd_onnx_import (const char *model_path, GError **error);

/* Writes a standalone PyTorch script that follows the file's run (and runs
 * data-parallel under torchrun); data sets and values go into OUT.data/
 * beside the script. */
gboolean grd_pytorch_export (GrdDocument *doc, const char *function, const char *out_path,
                             GError **error);

G_END_DECLS
