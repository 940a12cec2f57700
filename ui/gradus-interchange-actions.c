/* gradus-interchange-actions.c: the editor's side of interchange: export the
 * open graph as an ONNX model (the whole training step) or a PyTorch script,
 * and import an ONNX model as a new graph laid out on the canvas. The
 * engine's interchange library (engine/interchange/) does the work; this
 * file adds the actions, the file dialogs and the messages. */
#include "gradus-interchange-actions.h"
#include "grd-interchange.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

/* The file's extension for an export format. */
static const char *
extension_of (const char *format)
{
  return g_str_equal (format, "onnx") ? "onnx" : "py";
}

gboolean
gradus_interchange_export (GradusWindow *window, const char *format, const char *path,
                           GError **error)
{
  if (!g_str_equal (format, "onnx") && !g_str_equal (format, "pytorch")) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 _("export as '%s': expected onnx or pytorch"), format);
    return FALSE;
  }
  /* the graph as it is on the canvas, read as strictly as `gradus export`
   * reads a file (data-set paths relative to where the file is saved) */
  GradusDocModel *model = gradus_window_get_model (window);
  gsize len = 0;
  g_autofree char *data = gradus_doc_model_to_data (model, &len);
  g_autoptr (GrdDocument) doc = grd_document_load_from_data (data, (gssize) len,
                                                             gradus_doc_model_get_path (model),
                                                             error);
  if (!doc)
    return FALSE;
  if (g_str_equal (format, "onnx"))
    return grd_onnx_export (doc, NULL, path, error);
  return grd_pytorch_export (doc, NULL, path, error);
}

GradusWindow *
gradus_interchange_import (GradusWindow *window, const char *model_path, GError **error)
{
  g_autofree char *text = grd_onnx_import (model_path, error);
  if (!text)
    return NULL;
  /* a new unsaved graph, loaded as unsaved work is restored (it shows as
   * modified and has no path until it is saved) */
  g_autofree char *tmp = NULL;
  gint fd = g_file_open_tmp ("gradus-import-XXXXXX.gradus", &tmp, error);
  if (fd < 0)
    return NULL;
  close (fd);
  if (!g_file_set_contents (tmp, text, -1, error)) {
    g_unlink (tmp);
    return NULL;
  }
  GradusWindow *target = window;
  if (gradus_doc_model_get_modified (gradus_window_get_model (window))) {
    target = gradus_window_new (gtk_window_get_application (GTK_WINDOW (window)));
    gtk_window_present (GTK_WINDOW (target));
  }
  gboolean ok = gradus_window_restore (target, tmp, NULL, error);
  g_unlink (tmp);
  if (!ok)
    return NULL;
  gtk_widget_activate_action (GTK_WIDGET (target), "win.zoom-fit", NULL);
  return target;
}

/* ------------------------------------------------------------ actions */

static void
export_done (GradusWindow *window, const char *format, const char *path)
{
  g_autoptr (GError) error = NULL;
  if (!gradus_interchange_export (window, format, path, &error)) {
    gradus_window_message (window, error->message);
    return;
  }
  g_autofree char *msg = g_str_equal (format, "onnx")
    ? g_strdup_printf (_("Exported the training step as ONNX to %s"), path)
    : g_strdup_printf (_("Exported a PyTorch script to %s (values in its .data folder)"), path);
  gradus_window_message (window, msg);
}

static void
export_response (GtkNativeDialog *dialog, int response, GradusWindow *window)
{
  if (response == GTK_RESPONSE_ACCEPT) {
    g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
    g_autofree char *path = g_file_get_path (file);
    export_done (window, g_object_get_data (G_OBJECT (dialog), "format"), path);
  }
  g_object_unref (dialog);
}

static void
action_export_model (GSimpleAction *a, GVariant *p, gpointer data)
{
  GradusWindow *window = data;
  const char *format = g_variant_get_string (p, NULL);
  gboolean onnx = g_str_equal (format, "onnx");
  GtkFileChooserNative *d = gtk_file_chooser_native_new (
    onnx ? _("Export as ONNX") : _("Export as PyTorch Script"), GTK_WINDOW (window),
    GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
  g_autofree char *name = gradus_window_export_name (window, extension_of (format));
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (d), name);
  g_object_set_data_full (G_OBJECT (d), "format", g_strdup (format), g_free);
  g_signal_connect (d, "response", G_CALLBACK (export_response), window);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (d));
}

/* "FORMAT:PATH", for scripts and tests. */
static void
action_export_model_to (GSimpleAction *a, GVariant *p, gpointer data)
{
  const char *s = g_variant_get_string (p, NULL);
  const char *colon = strchr (s, ':');
  if (!colon) {
    gradus_window_message (data, _("export-model-to wants FORMAT:PATH"));
    return;
  }
  g_autofree char *format = g_strndup (s, colon - s);
  export_done (data, format, colon + 1);
}

static void
import_from (GradusWindow *window, const char *path)
{
  g_autoptr (GError) error = NULL;
  GradusWindow *target = gradus_interchange_import (window, path, &error);
  if (!target) {
    gradus_window_message (window, error->message);
    return;
  }
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *msg = g_strdup_printf (_("Imported %s: add a cost, a gradient and updates to train it"),
                                          base);
  gradus_window_message (target, msg);
}

static void
import_response (GtkNativeDialog *dialog, int response, GradusWindow *window)
{
  if (response == GTK_RESPONSE_ACCEPT) {
    g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
    g_autofree char *path = g_file_get_path (file);
    import_from (window, path);
  }
  g_object_unref (dialog);
}

static void
action_import_onnx (GSimpleAction *a, GVariant *p, gpointer data)
{
  GradusWindow *window = data;
  GtkFileChooserNative *d = gtk_file_chooser_native_new (_("Import ONNX Model"), GTK_WINDOW (window),
                                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Import"),
                                                         _("_Cancel"));
  GtkFileFilter *f = gtk_file_filter_new ();
  gtk_file_filter_set_name (f, _("ONNX models"));
  gtk_file_filter_add_pattern (f, "*.onnx");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (d), f);
  g_object_unref (f);
  g_signal_connect (d, "response", G_CALLBACK (import_response), window);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (d));
}

static void
action_import_onnx_from (GSimpleAction *a, GVariant *p, gpointer data)
{
  import_from (data, g_variant_get_string (p, NULL));
}

static const GActionEntry interchange_actions[] = {
  { "export-model", action_export_model, "s" },
  { "export-model-to", action_export_model_to, "s" },
  { "import-onnx", action_import_onnx },
  { "import-onnx-from", action_import_onnx_from, "s" },
};

void
gradus_interchange_actions_install (GradusWindow *window)
{
  g_action_map_add_action_entries (G_ACTION_MAP (window), interchange_actions,
                                   G_N_ELEMENTS (interchange_actions), window);
}
