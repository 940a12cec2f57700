/* cmd-export.c: `gradus export`: the graph as Graphviz DOT, or the editor's
 * drawing of it as PNG, SVG or PDF. */
#include "commands.h"
#include "gradus-ui.h"
#include "grd-interchange.h"

#include <stdio.h>
#include <string.h>

static const char export_usage[] =
  N_("usage: gradus export FILE --to dot|png|svg|pdf|onnx|pytorch -o OUT [--function NAME]\n"
  "\n"
  "  --to FORMAT      dot (Graphviz text), or png, svg, pdf (the editor's canvas),\n"
  "                   onnx (the whole call: outputs, gradients, updates), pytorch (a\n"
  "                   script that follows the file's run, torchrun included);\n"
  "                   when absent, taken from OUT's extension (.onnx, .py)\n"
  "  -o OUT           the file to write; for dot, '-' or no -o writes to stdout\n"
  "  --function NAME  onnx, pytorch: the function to export (default: the run's)\n");

static const char *const formats[] = { "dot", "png", "svg", "pdf", "onnx", "pytorch" };

static gboolean
known_format (const char *format)
{
  for (gsize i = 0; i < G_N_ELEMENTS (formats); i++)
    if (strcmp (format, formats[i]) == 0)
      return TRUE;
  return FALSE;
}

/* ONNX and PyTorch: the graph as something other engines run. */
static int
export_interchange (const char *file, const char *format, const char *out, const char *function,
                    GrdOnnxExportFlags flags)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdDocument) doc = grd_document_load (file, &error);
  gboolean ok = doc != NULL;
  g_autofree char *notice = NULL;
  if (ok && strcmp (format, "onnx") == 0)
    ok = grd_onnx_export_with_flags (doc, function, out, flags, &notice, &error);
  else if (ok)
    ok = grd_pytorch_export (doc, function, out, &error);
  if (!ok) {
    cli_error ("export", file, "%s", error->message);
    return CLI_EXIT_ERROR;
  }
  if (notice)
    g_printerr (_("gradus export: note: %s: %s\n"), file, notice);
  return CLI_EXIT_OK;
}

int
gradus_cmd_export (int argc, char **argv)
{
  const char *file = NULL, *format = NULL, *out = NULL, *function = NULL;
  GrdOnnxExportFlags flags = GRD_ONNX_EXPORT_DEFAULT;
  g_autoptr (GError) error = NULL;
  for (int i = 0; i < argc; i++) {
    const char *value = NULL;
    g_autoptr (GError) e = NULL;
    if (cli_flag (argv, i, "--help") || cli_flag (argv, i, "-h")) {
      g_print ("%s", _(export_usage));
      g_print ("%s", _("  --conv-float32   onnx: float64 convolutions computed in float32 (Casts\n"
                       "                   around Conv), as ONNX Runtime runs Conv in float32 only\n"));
      return CLI_EXIT_OK;
    } else if (cli_option (argc, argv, &i, "--to", &value, &e)) {
      format = value;
    } else if (cli_option (argc, argv, &i, "-o", &value, &e)
               || cli_option (argc, argv, &i, "--output", &value, &e)) {
      out = value;
    } else if (cli_option (argc, argv, &i, "--function", &value, &e)) {
      function = value;
    } else if (cli_flag (argv, i, "--conv-float32")) {
      flags |= GRD_ONNX_EXPORT_CONV_FLOAT32;
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      g_set_error (&e, GRD_ERROR, GRD_ERROR_PARSE,
                   _("unknown option '%s' (see gradus export --help)"), argv[i]);
    } else if (!file) {
      file = argv[i];
    } else {
      g_set_error (&e, GRD_ERROR, GRD_ERROR_PARSE, _("export takes one file; unexpected '%s'"),
                   argv[i]);
    }
    if (e && !error)
      error = g_steal_pointer (&e);
  }
  if (!error && !file)
    g_set_error (&error, GRD_ERROR, GRD_ERROR_PARSE, _("no file given (see gradus export --help)"));
  if (!error && !format && out) {
    const char *dot = strrchr (out, '.');
    format = dot && known_format (dot + 1) ? dot + 1 : NULL;
    if (dot && strcmp (dot, ".py") == 0)
      format = "pytorch";
  }
  if (!error && !format)
    g_set_error (&error, GRD_ERROR, GRD_ERROR_PARSE, _("--to FORMAT is needed (dot, png, svg, pdf, onnx, pytorch)"));
  if (!error && !known_format (format))
    g_set_error (&error, GRD_ERROR, GRD_ERROR_PARSE,
                 _("--to wants dot, png, svg, pdf, onnx or pytorch, not '%s'"), format);
  if (!error && strcmp (format, "dot") != 0 && (!out || strcmp (out, "-") == 0))
    g_set_error (&error, GRD_ERROR, GRD_ERROR_PARSE, _("-o OUT is needed for %s"), format);
  if (error) {
    cli_error ("export", file, "%s", error->message);
    return CLI_EXIT_USAGE;
  }

  if (strcmp (format, "onnx") == 0 || strcmp (format, "pytorch") == 0)
    return export_interchange (file, format, out, function, flags);

  if (strcmp (format, "dot") != 0) {
    if (!gradus_ui_export (file, format, out, &error)) {
      cli_error ("export", file, "%s", error->message);
      return CLI_EXIT_ERROR;
    }
    return CLI_EXIT_OK;
  }

  g_autoptr (GrdDocument) doc = grd_document_load (file, &error);
  if (!doc) {
    cli_error ("export", file, "%s", error->message);
    return CLI_EXIT_ERROR;
  }
  g_autofree char *text = grd_document_to_dot (doc);
  if (!out || strcmp (out, "-") == 0) {
    fputs (text, stdout);
    if (fflush (stdout) != 0) {
      cli_error ("export", file, _("could not write the output"));
      return CLI_EXIT_ERROR;
    }
  } else if (!g_file_set_contents (out, text, -1, &error)) {
    cli_error ("export", file, "%s", error->message);
    return CLI_EXIT_ERROR;
  }
  return CLI_EXIT_OK;
}
