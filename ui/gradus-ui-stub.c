/* gradus-ui-stub.c: placeholder until the editor lands. */
#include "gradus-ui.h"
#include "gradus.h"

int
gradus_ui_main (int argc, char **argv)
{
  g_printerr ("gradus: the editor is not built yet\n");
  return 1;
}

gboolean
gradus_ui_export (const char *in_path, const char *format, const char *out_path, GError **error)
{
  g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "export to %s is not built yet", format);
  return FALSE;
}
