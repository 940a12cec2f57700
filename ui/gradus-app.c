/* gradus-app.c: the application: windows, app.* actions, keyboard shortcuts
 * and their window, the offer to restore autosaved work, and the
 * --screenshot option that renders the window to a PNG and quits. */
#include "gradus-ui.h"
#include "gradus-window.h"
#include "gradus-ui-private.h"
#include "gradus-settings.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

typedef struct {
  const char *action;
  const char *accels[3];
  const char *title;
  const char *section;
} Accel;

/* Application-wide accelerators, and what the shortcuts window lists. */
static const Accel accels[] = {
  { "app.new", { "<Control>n" }, N_("New window"), "Files" },
  { "win.open", { "<Control>o" }, N_("Open a graph"), "Files" },
  { "win.save", { "<Control>s" }, N_("Save"), "Files" },
  { "win.save-as", { "<Control><Shift>s" }, N_("Save as"), "Files" },
  { "win.export::png", { "<Control>e" }, N_("Export a picture (PNG)"), "Files" },
  { "win.close", { "<Control>w" }, N_("Close the window"), "Files" },
  { "app.quit", { "<Control>q" }, N_("Quit"), "Files" },
  { "win.undo", { "<Control>z" }, N_("Undo"), "Editing" },
  { "win.redo", { "<Control><Shift>z", "<Control>y" }, N_("Redo"), "Editing" },
  { "win.focus-search", { "<Control>f" }, N_("Search the palette"), "Editing" },
  { "win.auto-layout", { "<Control>l" }, N_("Arrange the nodes"), "Editing" },
  { "win.toggle-gradient", { "<Control>g" }, N_("Show or hide the gradient graph"), "View" },
  { "win.scan-open", { "<Control>r" }, N_("Open or close the selected scan's body"), "View" },
  { "win.scan-expand", { "<Control><Shift>r" }, N_("Show or hide the body inside a scan's zone"), "View" },
  { "win.zoom-fit", { "<Control>0" }, N_("Zoom to fit"), "View" },
  { "win.zoom-reset", { "<Control>1" }, N_("Zoom to 100%"), "View" },
  { "win.zoom-in", { "<Control>plus", "<Control>equal" }, N_("Zoom in (or Ctrl and scroll, or pinch)"), "View" },
  { "win.zoom-out", { "<Control>minus" }, N_("Zoom out"), "View" },
  { "app.shortcuts", { "<Control>question" }, N_("Keyboard shortcuts"), "View" },
  { "win.backprop", { "<Control>b" }, N_("Backpropagation: values and gradients on the canvas"), "View" },
  { "win.step-next", { "Page_Down" }, N_("Step-through: the next step"), "View" },
  { "win.step-prev", { "Page_Up" }, N_("Step-through: the previous step"), "View" },
  { "win.presentation", { "<Shift>F5" }, N_("Presentation mode (large type)"), "View" },
  { "run.run", { "F5" }, N_("Run the function"), "Running" },
  { "run.pause", { "F6" }, N_("Pause the run"), "Running" },
  { "run.step", { "F7" }, N_("One call"), "Running" },
  { "run.reset", { "F8" }, N_("Reset the shared variables"), "Running" },
  { "win.keep-trained", { "<Control>k" }, N_("Keep the trained values in the document"), "Running" },
};

/* Keys that work on the canvas only (they keep their meaning in text fields). */
static const Accel canvas_keys[] = {
  { NULL, { "Delete" }, N_("Delete the selected nodes"), "Canvas" },
  { NULL, { "<Control>c" }, N_("Copy the selected nodes"), "Canvas" },
  { NULL, { "<Control>x" }, N_("Cut the selected nodes"), "Canvas" },
  { NULL, { "<Control>v" }, N_("Paste nodes"), "Canvas" },
  { NULL, { "<Control>d" }, N_("Duplicate the selected nodes"), "Canvas" },
  { NULL, { "<Control>a" }, N_("Select all nodes"), "Canvas" },
  { NULL, { "space" }, N_("Hold and drag to pan"), "Canvas" },
};

static const char *
screenshot_path (GApplication *app)
{
  return g_object_get_data (G_OBJECT (app), "gradus-screenshot");
}

static GradusWindow *
new_window (GtkApplication *app)
{
  GradusWindow *w = gradus_window_new (app);
  gtk_window_present (GTK_WINDOW (w));
  return w;
}

static void
app_new (GSimpleAction *a, GVariant *p, gpointer app)
{
  new_window (app);
}

static void
app_quit (GSimpleAction *a, GVariant *p, gpointer app)
{
  /* Closing each window asks about its unsaved work. */
  GList *windows = g_list_copy (gtk_application_get_windows (app));
  for (GList *l = windows; l; l = l->next)
    gtk_window_close (l->data);
  g_list_free (windows);
}

static void
app_about (GSimpleAction *a, GVariant *p, gpointer app)
{
  GtkWidget *about = adw_about_window_new ();
  g_object_set (about, "application-name", "Gradus", "version", "0.1.0",
                "application-icon", "org.gradus.Gradus",
                "developer-name", _("The Gradus authors"), "license-type", GTK_LICENSE_MIT_X11,
                "comments", _("Theano, made visual: wire graphs of tensor operations, see their "
                              "gradients, and run them."),
                NULL);
  gtk_window_set_transient_for (GTK_WINDOW (about), gtk_application_get_active_window (app));
  gtk_window_present (GTK_WINDOW (about));
}

static void
append_shortcuts (GString *ui, const Accel *list, gsize n, const char *section)
{
  g_string_append_printf (ui, "<child><object class='GtkShortcutsGroup'><property name='title'>%s</property>\n", _(section));
  for (gsize i = 0; i < n; i++) {
    if (!g_str_equal (list[i].section, section))
      continue;
    g_autofree char *accel = g_markup_escape_text (list[i].accels[0], -1);
    g_string_append_printf (ui, "<child><object class='GtkShortcutsShortcut'>"
                                "<property name='accelerator'>%s</property>"
                                "<property name='title'>%s</property></object></child>\n",
                            accel, _(list[i].title));
  }
  g_string_append (ui, "</object></child>\n");
}

GtkWindow *
gradus_ui_shortcuts_window (void)
{
  GString *ui = g_string_new ("<interface><object class='GtkShortcutsWindow' id='w'>"
                              "<property name='modal'>1</property>"
                              "<child><object class='GtkShortcutsSection'>"
                              "<property name='section-name'>main</property>"
                              "<property name='max-height'>40</property>\n");
  append_shortcuts (ui, accels, G_N_ELEMENTS (accels), N_("Files"));
  append_shortcuts (ui, accels, G_N_ELEMENTS (accels), N_("Editing"));
  append_shortcuts (ui, canvas_keys, G_N_ELEMENTS (canvas_keys), N_("Canvas"));
  append_shortcuts (ui, accels, G_N_ELEMENTS (accels), N_("View"));
  append_shortcuts (ui, accels, G_N_ELEMENTS (accels), N_("Running"));
  g_string_append (ui, "</object></child></object></interface>");
  g_autoptr (GtkBuilder) b = gtk_builder_new_from_string (ui->str, ui->len);
  g_string_free (ui, TRUE);
  return GTK_WINDOW (g_object_ref (gtk_builder_get_object (b, "w")));
}

static void
app_shortcuts (GSimpleAction *a, GVariant *p, gpointer app)
{
  GtkWindow *w = gradus_ui_shortcuts_window ();
  gtk_window_set_transient_for (w, gtk_application_get_active_window (app));
  gtk_window_present (w);
  g_object_unref (w);
}

static void
app_open_example (GSimpleAction *a, GVariant *p, gpointer app)
{
  GtkWindow *w = gtk_application_get_active_window (app);
  if (!w)
    w = GTK_WINDOW (new_window (app));
  gtk_widget_activate_action (GTK_WIDGET (w), "win.open-path", "s", g_variant_get_string (p, NULL));
}

static const GActionEntry app_actions[] = {
  { "new", app_new },
  { "quit", app_quit },
  { "about", app_about },
  { "shortcuts", app_shortcuts },
  { "open-example", app_open_example, "s" },
};

static void
startup (GApplication *app)
{
  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions, G_N_ELEMENTS (app_actions), app);
  for (gsize i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (app), accels[i].action, accels[i].accels);
  g_set_application_name ("Gradus");
  /* The icon from the source tree while developing; installed ones are found anyway. */
  g_autofree char *icons = g_build_filename (GRADUS_SOURCE_DIR, "data", "icons", NULL);
  if (g_file_test (icons, G_FILE_TEST_IS_DIR))
    gtk_icon_theme_add_search_path (gtk_icon_theme_get_for_display (gdk_display_get_default ()), icons);
  gtk_window_set_default_icon_name ("org.gradus.Gradus");
}

/* ------------------------------------------------------------ screenshot */

/* Called every 500 ms until the window has been mapped and drawn once: on a
 * loaded machine the first frame can come seconds after the window maps, and
 * before it the window's snapshot is empty ("nothing to render"). */
static gboolean
take_screenshot (gpointer data)
{
  GApplication *app = data;
  GtkWindow *w = gtk_application_get_active_window (GTK_APPLICATION (app));
  guint tries = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (app), "gradus-screenshot-tries")) + 1;
  g_object_set_data (G_OBJECT (app), "gradus-screenshot-tries", GUINT_TO_POINTER (tries));
  gboolean last_try = tries >= 60;
  if (!w || !gtk_widget_get_mapped (GTK_WIDGET (w))) {
    if (!last_try)
      return G_SOURCE_CONTINUE;
    g_printerr ("gradus: --screenshot: the window never appeared\n");
    g_application_quit (app);
    return G_SOURCE_REMOVE;
  }
  g_autoptr (GError) error = NULL;
  if (gradus_window_screenshot (GRADUS_WINDOW (w), screenshot_path (app), &error)) {
    g_object_set_data (G_OBJECT (app), "gradus-screenshot-ok", GINT_TO_POINTER (1));
  } else if (!last_try) {
    return G_SOURCE_CONTINUE;  /* not drawn yet */
  } else {
    g_printerr ("gradus: --screenshot: %s\n", error->message);
  }
  /* Unsaved state does not matter to a screenshot. */
  gtk_window_destroy (w);
  g_application_quit (app);
  return G_SOURCE_REMOVE;
}

/* ------------------------------------------------------------ autosave */

static void
restore_response (AdwMessageDialog *dialog, const char *response, GtkWindow *first)
{
  GPtrArray *files = g_object_get_data (G_OBJECT (dialog), "files");
  GtkApplication *app = gtk_window_get_application (first);
  for (guint i = 0; i < files->len; i++) {
    const char *path = files->pdata[i];
    g_autofree char *meta = g_strconcat (path, ".source", NULL);
    if (g_str_equal (response, "restore")) {
      g_autofree char *source = NULL;
      g_file_get_contents (meta, &source, NULL, NULL);
      GradusWindow *w = i == 0 ? GRADUS_WINDOW (first) : new_window (app);
      g_autoptr (GError) error = NULL;
      if (!gradus_window_restore (w, path, source, &error))
        gradus_window_message (w, error->message);
      else
        gradus_window_autosave_now (w);
    }
    g_unlink (path);
    g_unlink (meta);
  }
}

static void
offer_restore (GradusWindow *window)
{
  g_autofree char *dir = gradus_autosave_dir ();
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  if (!d)
    return;
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (d)))
    if (g_str_has_suffix (name, ".gradus"))
      g_ptr_array_add (files, g_build_filename (dir, name, NULL));
  if (files->len == 0) {
    g_ptr_array_unref (files);
    return;
  }
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (window), _("Restore Unsaved Work?"), NULL);
  adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog),
                                  ngettext ("Gradus stopped without saving %u graph. Restore it?",
                                            "Gradus stopped without saving %u graphs. Restore them?",
                                            files->len), files->len);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "discard", _("_Discard"), "restore",
                                    _("_Restore"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "discard", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "restore", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "restore");
  g_object_set_data_full (G_OBJECT (dialog), "files", files, (GDestroyNotify) g_ptr_array_unref);
  g_signal_connect (dialog, "response", G_CALLBACK (restore_response), window);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
activate (GApplication *app)
{
  GradusWindow *w = new_window (GTK_APPLICATION (app));
  if (screenshot_path (app))
    g_timeout_add (500, take_screenshot, app);
  else
    offer_restore (w);
}

static void
open_files (GApplication *app, GFile **files, gint n_files, const char *hint)
{
  for (gint i = 0; i < n_files; i++) {
    GradusWindow *w = new_window (GTK_APPLICATION (app));
    g_autofree char *path = g_file_get_path (files[i]);
    g_autoptr (GError) error = NULL;
    if (!path || !gradus_window_open_path (w, path, &error)) {
      g_autofree char *msg = g_strdup_printf (_("Could not open %s: %s"), path ? path : _("file"),
                                              error ? error->message : _("not a local file"));
      gradus_window_message (w, msg);
      if (screenshot_path (app))
        g_printerr ("gradus: %s\n", msg);
    }
  }
  if (screenshot_path (app))
    g_timeout_add (500, take_screenshot, app);
}

int
gradus_ui_main (int argc, char **argv)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autofree char *screenshot = NULL;
  gboolean separate = FALSE;
  for (int i = 0; i < argc; i++) {
    if (g_str_equal (argv[i], "--screenshot") && i + 1 < argc)
      screenshot = g_strdup (argv[++i]);
    else if (g_str_has_prefix (argv[i], "--screenshot="))
      screenshot = g_strdup (argv[i] + 13);
    else if (g_str_equal (argv[i], "--new-instance"))
      separate = TRUE;
    else
      g_ptr_array_add (args, argv[i]);
  }
  g_ptr_array_add (args, NULL);
  /* The command line takes no editor options; the environment can ask too. */
  if (!screenshot && g_getenv ("GRADUS_SCREENSHOT") && *g_getenv ("GRADUS_SCREENSHOT"))
    screenshot = g_strdup (g_getenv ("GRADUS_SCREENSHOT"));
  GApplicationFlags flags = G_APPLICATION_HANDLES_OPEN;
  /* A screenshot run must not hand its work to an editor that is already open. */
  if (screenshot || separate)
    flags |= G_APPLICATION_NON_UNIQUE;
  g_autoptr (AdwApplication) app = adw_application_new ("org.gradus.Gradus", flags);
  if (screenshot)
    g_object_set_data_full (G_OBJECT (app), "gradus-screenshot", g_strdup (screenshot), g_free);
  g_signal_connect (app, "startup", G_CALLBACK (startup), NULL);
  g_signal_connect (app, "activate", G_CALLBACK (activate), NULL);
  g_signal_connect (app, "open", G_CALLBACK (open_files), NULL);
  int status = g_application_run (G_APPLICATION (app), args->len - 1, (char **) args->pdata);
  gradus_settings_sync ();
  if (screenshot && !g_object_get_data (G_OBJECT (app), "gradus-screenshot-ok"))
    return 1;
  return status;
}
