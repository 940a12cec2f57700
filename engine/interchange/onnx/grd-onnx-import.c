#include "../grd-interchange.h"
char *
grd_onnx_import (const char *model_path, GError **error)
{
  g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "the ONNX import is not part of this build yet");
  return NULL;
}
