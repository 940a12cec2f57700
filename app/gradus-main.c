/* gradus-main.c: the `gradus` command: the editor, or one of the headless
 * subcommands (run, check, bench, export). */
#include "commands.h"
#include "gradus-ui.h"

#include <locale.h>
#include <string.h>

#ifndef GRADUS_VERSION
#define GRADUS_VERSION "unknown"
#endif

static const char usage_text[] =
  N_("usage:\n"
  "  gradus                                 open the editor\n"
  "  gradus FILE.gradus                     open the editor with FILE\n"
  "  gradus run FILE [--steps N] [--backend cpu|vulkan] [--feed ID=JSON]...\n"
  "                  [--print every|last|none]\n"
  "                                         call the file's function, one JSON line per call\n"
  "  gradus check FILE [--all]              validate; list every node's dtype and shape\n"
  "  gradus check --devices                 list the Vulkan devices\n"
  "  gradus bench FILE [--steps N] [--warmup N] [--backend cpu|vulkan]\n"
  "                                         time compiling and calling; one JSON object\n"
  "  gradus export FILE --to dot|png|svg|pdf -o OUT\n"
  "                                         draw the graph\n"
  "  gradus export FILE --to onnx|pytorch -o OUT [--function NAME]\n"
  "                                         the training step as ONNX, or a PyTorch script\n"
  "  gradus import MODEL.onnx -o OUT.gradus  an ONNX model as a graph file\n"
  "  gradus --help | --version\n"
  "\n"
  "`gradus COMMAND --help` describes a command's options; docs/cli.md has the details.\n");

typedef struct {
  const char *name;
  int       (*func) (int argc, char **argv);
} Command;

static const Command commands[] = {
  { "run", gradus_cmd_run },
  { "check", gradus_cmd_check },
  { "bench", gradus_cmd_bench },
  { "export", gradus_cmd_export },
  { "import", gradus_cmd_import },
};

/* Where the translations are: beside the binary when an installed tree was
 * moved (a DESTDIR, a relocated prefix), else where meson installed them. */
static char *
locale_dir (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  if (exe && GRADUS_LOCALEDIR_FROM_BINDIR[0] != '\0') {
    g_autofree char *bindir = g_path_get_dirname (exe);
    g_autofree char *dir = g_build_filename (bindir, GRADUS_LOCALEDIR_FROM_BINDIR, NULL);
    if (g_file_test (dir, G_FILE_TEST_IS_DIR))
      return g_steal_pointer (&dir);
  }
  return g_strdup (GRADUS_LOCALEDIR);
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_autofree char *locales = locale_dir ();
  bindtextdomain (GETTEXT_PACKAGE, locales);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  /* JSON numbers are written with a '.', whatever the user's locale. */
  setlocale (LC_NUMERIC, "C");

  if (argc < 2)
    return gradus_ui_main (argc, argv);

  const char *first = argv[1];
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (first, commands[i].name) == 0)
      return commands[i].func (argc - 2, argv + 2);

  if (strcmp (first, "--help") == 0 || strcmp (first, "-h") == 0 || strcmp (first, "help") == 0) {
    g_print ("%s", _(usage_text));
    return CLI_EXIT_OK;
  }
  if (strcmp (first, "--version") == 0) {
    g_print ("gradus %s\n", GRADUS_VERSION);
    return CLI_EXIT_OK;
  }
  if (first[0] == '-') {
    cli_error (NULL, NULL, _("unknown option '%s' (see gradus --help)"), first);
    return CLI_EXIT_USAGE;
  }
  if (argc > 2) {
    cli_error (NULL, NULL, _("the editor opens one file; unexpected '%s' (see gradus --help)"),
               argv[2]);
    return CLI_EXIT_USAGE;
  }
  /* Neither a command nor a file: most likely a misspelt command. */
  if (!g_str_has_suffix (first, ".gradus") && !g_file_test (first, G_FILE_TEST_EXISTS)) {
    cli_error (NULL, NULL, _("'%s' is neither a command nor a file (see gradus --help)"), first);
    return CLI_EXIT_USAGE;
  }
  return gradus_ui_main (argc, argv);
}
