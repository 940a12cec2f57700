#include "../grd-interchange.h"
gboolean
grd_pytorch_export (GrdDocument *doc, const char *function, const char *out_path, GError **error)
{
  g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "the PyTorch export is not part of this build yet");
  return FALSE;
}
