/* cmd-import.c: `gradus import MODEL.onnx -o OUT.gradus`: an ONNX model as a
 * graph file (engine/interchange/onnx/grd-onnx-import.c does the mapping). */
#include "commands.h"
#include "grd-interchange.h"

#include <string.h>

static const char import_usage[] =
  "usage: gradus import MODEL.onnx -o OUT.gradus\n"
  "\n"
  "Reads an ONNX model: initializers become shared variables, graph inputs\n"
  "variables, graph outputs the function's outputs. Add a cost, a grad and\n"
  "updates to train it. docs/interchange.md lists the operators it maps.\n"
  "\n"
  "  -o OUT   the graph file to write ('-' writes to stdout)\n";

int
gradus_cmd_import (int argc, char **argv)
{
  const char *model = NULL, *out = NULL;
  g_autoptr (GError) error = NULL;
  for (int i = 0; i < argc; i++) {
    const char *value = NULL;
    g_autoptr (GError) e = NULL;
    if (cli_flag (argv, i, "--help") || cli_flag (argv, i, "-h")) {
      g_print ("%s", import_usage);
      return CLI_EXIT_OK;
    } else if (cli_option (argc, argv, &i, "-o", &value, &e)
               || cli_option (argc, argv, &i, "--output", &value, &e)) {
      out = value;
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      g_set_error (&e, GRD_ERROR, GRD_ERROR_PARSE,
                   "unknown option '%s' (see gradus import --help)", argv[i]);
    } else if (!model) {
      model = argv[i];
    } else {
      g_set_error (&e, GRD_ERROR, GRD_ERROR_PARSE, "import takes one model; unexpected '%s'",
                   argv[i]);
    }
    if (e && !error)
      error = g_steal_pointer (&e);
  }
  if (!error && !model)
    g_set_error (&error, GRD_ERROR, GRD_ERROR_PARSE, "no model given (see gradus import --help)");
  if (!error && !out)
    g_set_error (&error, GRD_ERROR, GRD_ERROR_PARSE, "-o OUT.gradus is needed");
  if (error) {
    cli_error ("import", model, "%s", error->message);
    return CLI_EXIT_USAGE;
  }
  g_autofree char *text = grd_onnx_import (model, &error);
  /* what it wrote must load: a mapping mistake shows here, not in the editor */
  g_autoptr (GrdDocument) doc = text ? grd_document_load_from_data (text, -1, out, &error) : NULL;
  if (!doc) {
    cli_error ("import", model, "%s", error->message);
    return CLI_EXIT_ERROR;
  }
  if (strcmp (out, "-") == 0) {
    g_print ("%s", text);
  } else if (!g_file_set_contents (out, text, -1, &error)) {
    cli_error ("import", model, "%s", error->message);
    return CLI_EXIT_ERROR;
  }
  return CLI_EXIT_OK;
}
