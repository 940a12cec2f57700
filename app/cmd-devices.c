/* cmd-devices.c: `gradus check --devices`: the Vulkan devices Gradus can use. */
#include "commands.h"

#include <stdio.h>
#include <string.h>

int
gradus_cmd_devices (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = grd_vulkan_describe_devices (&error);
  if (!text) {
    cli_error ("check", NULL, _("--devices: %s"), error->message);
    return CLI_EXIT_ERROR;
  }
  fputs (text, stdout);
  if (text[0] && text[strlen (text) - 1] != '\n')
    fputc ('\n', stdout);
  return fflush (stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
}
