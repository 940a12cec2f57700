/* gradus-window.c: an editor window.
 *
 * The window owns one document model and wires the canvas, the palette and
 * the inspector to it. Every user action is a win.* GAction, so keyboard
 * shortcuts, menus, buttons and tests all go through the same code. */
#include "gradus-window.h"
#include "gradus-lesson-bar.h"
#include "gradus-keyboard.h"
#include "gradus-quick-add.h"
#include "organise/gradus-organise-group-canvas.h"

#include <glib/gi18n.h>
#include <errno.h>
#include "gradus-render.h"
#include "gradus-run-binding.h"
#include "gradus-run-panel.h"
#include "gradus-settings.h"
#include "gradus-ui-private.h"
#include "teach/gradus-teach.h"
#include "gradus-interchange-actions.h"
#include "gradus-keep-action.h"
#include "scan/gradus-scan-actions.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

struct _GradusWindow {
  AdwApplicationWindow parent_instance;
  GradusDocModel *model;
  GtkWidget      *canvas;
  GtkWidget      *palette;
  GtkWidget      *inspector;
  GtkWidget      *run_panel;
  GradusRunBinding *run_binding;
  GtkWidget      *run_paned;
  GtkWidget      *lesson_bar;   /* the document's description (a lesson's text) */
  gboolean        run_height_set;
  GtkWidget      *title;
  GtkWidget      *toasts;
  AdwToast       *toast;        /* the one shown, or NULL (a weak pointer) */
  GMenu          *recent_menu;
  char           *last_message;
  char           *autosave_id;
  char           *autosave_path;
  guint           autosave_source;
  guint           autosaved_hash;
  gboolean        autosave_failing;  /* told the user; a success clears it */
  GHashTable     *data_refused;  /* data paths the user refused for this document */
  GtkWidget      *data_dialog;   /* the question shown, or NULL (a weak pointer) */
  gboolean        close_confirmed;
};

G_DEFINE_FINAL_TYPE (GradusWindow, gradus_window, ADW_TYPE_APPLICATION_WINDOW)

/* ------------------------------------------------------------ helpers */

static void
toast_dismissed (AdwToast *toast, GradusWindow *self)
{
  if (self->toast == toast) {
    g_object_remove_weak_pointer (G_OBJECT (toast), (gpointer *) &self->toast);
    self->toast = NULL;
  }
}

void
gradus_window_message (GradusWindow *self, const char *text)
{
  g_free (self->last_message);
  self->last_message = g_strdup (text);
  /* One toast at a time, its text replaced: a burst of refusals must not
   * queue a burst of toasts and their animations (libadwaita 1.2 crashed on
   * toasts torn down in the middle of theirs). */
  if (self->toast) {
    adw_toast_set_title (self->toast, text);
    return;
  }
  AdwToast *toast = adw_toast_new (text);
  adw_toast_set_timeout (toast, 6);
  self->toast = toast;
  g_object_add_weak_pointer (G_OBJECT (toast), (gpointer *) &self->toast);
  g_signal_connect_object (toast, "dismissed", G_CALLBACK (toast_dismissed), self, 0);
  adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (self->toasts), toast);
}

const char *
gradus_window_get_last_message (GradusWindow *self)
{
  return self->last_message;
}

GradusDocModel *
gradus_window_get_model (GradusWindow *self)
{
  return self->model;
}

GradusCanvas *
gradus_window_get_canvas (GradusWindow *self)
{
  return GRADUS_CANVAS (self->canvas);
}

GradusPalette *
gradus_window_get_palette (GradusWindow *self)
{
  return GRADUS_PALETTE (self->palette);
}

GradusInspector *
gradus_window_get_inspector (GradusWindow *self)
{
  return GRADUS_INSPECTOR (self->inspector);
}

static void
update_title (GradusWindow *self)
{
  g_autofree char *title = gradus_doc_model_dup_title (self->model);
  gboolean modified = gradus_doc_model_get_modified (self->model);
  g_autofree char *shown = modified ? g_strdup_printf ("• %s", title) : g_strdup (title);
  adw_window_title_set_title (ADW_WINDOW_TITLE (self->title), shown);
  const char *path = gradus_doc_model_get_path (self->model);
  g_autofree char *nice = NULL;
  if (path && g_str_has_prefix (path, g_get_home_dir ()))
    nice = g_strconcat ("~", path + strlen (g_get_home_dir ()), NULL);
  adw_window_title_set_subtitle (ADW_WINDOW_TITLE (self->title),
                                 nice ? nice : path ? path : _("Not saved yet"));
  gtk_window_set_title (GTK_WINDOW (self), shown);
}

static void
update_actions (GradusWindow *self)
{
  GAction *a = g_action_map_lookup_action (G_ACTION_MAP (self), "undo");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (a), gradus_doc_model_can_undo (self->model));
  a = g_action_map_lookup_action (G_ACTION_MAP (self), "redo");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (a), gradus_doc_model_can_redo (self->model));
  update_title (self);
}

static void
selection_changed (GradusWindow *self)
{
  g_auto (GStrv) sel = gradus_canvas_dup_selection (GRADUS_CANVAS (self->canvas));
  guint n = g_strv_length (sel);
  gradus_inspector_set_node (GRADUS_INSPECTOR (self->inspector), n == 1 ? sel[0] : NULL, n);
}

static void
canvas_message (GradusWindow *self, const char *text)
{
  gradus_window_message (self, text);
}

static void
add_recent (const char *path)
{
  g_autofree char *uri = g_filename_to_uri (path, NULL, NULL);
  if (uri)
    gtk_recent_manager_add_item (gtk_recent_manager_get_default (), uri);
  gradus_settings_add_recent (path);
}

/* ------------------------------------------------------------ run panel */

static void
run_nan_found (GradusRunPanel *run, const char *node, gint64 call, GradusWindow *self)
{
  g_autofree char *msg = node && *node
    ? g_strdup_printf (_("Call %lld made a NaN or infinity: first in %s"), (long long) call, node)
    : g_strdup_printf (_("Call %lld made a NaN or infinity"), (long long) call);
  gradus_window_message (self, msg);
  if (node && *node && gradus_doc_model_get_node (self->model, node)) {
    const char *ids[] = { node, NULL };
    gradus_canvas_set_selection (GRADUS_CANVAS (self->canvas), ids);
    gradus_canvas_set_nan_badge (GRADUS_CANVAS (self->canvas), node, call);
  }
}

/* The values of the call that just ended go on the canvas's wires. */
static void
run_finished (GradusRunPanel *run, gint end, GradusWindow *self)
{
  GradusCanvas *canvas = GRADUS_CANVAS (self->canvas);
  gint64 call = 0;
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) values = gradus_run_panel_dup_node_values (run, &call, &error);
  if (!values)
    g_debug ("window: no live values: %s", error->message);
  gradus_canvas_set_live_values (canvas, values, call);
  /* A run that ended well has no NaN to point at any more. */
  if (end != GRADUS_RUN_NON_FINITE)
    gradus_canvas_set_nan_badge (canvas, NULL, 0);
}

/* The first time the canvas column has a height: the run panel gets enough
 * of it for a row of plots with their legends; later the divider stays
 * where the user puts it. */
static void
run_paned_sized (GtkPaned *paned, GParamSpec *pspec, GradusWindow *self)
{
  int max = 0;
  g_object_get (paned, "max-position", &max, NULL);
  if (self->run_height_set || max < 300)
    return;
  self->run_height_set = TRUE;
  int panel = CLAMP (max * 9 / 20, 340, 460);
  gtk_paned_set_position (paned, max - panel);
}

/* A new document or Reset: the canvas's values and NaN badge were of results now gone. */
static void
run_cleared (GradusRunPanel *run, GradusWindow *self)
{
  GradusCanvas *canvas = GRADUS_CANVAS (self->canvas);
  gradus_canvas_set_live_values (canvas, NULL, 0);
  gradus_canvas_set_nan_badge (canvas, NULL, 0);
}

GradusRunBinding *
gradus_window_get_run_binding (GradusWindow *self)
{
  return self->run_binding;
}

GtkWidget *
gradus_window_get_run_panel (GradusWindow *self)
{
  return self->run_panel;
}

/* ------------------------------------------------------------ files */

char *
gradus_autosave_dir (void)
{
  return g_build_filename (g_get_user_state_dir (), "gradus", "autosave", NULL);
}

static void
remove_autosave (GradusWindow *self)
{
  if (!self->autosave_path)
    return;
  g_unlink (self->autosave_path);
  g_autofree char *meta = g_strconcat (self->autosave_path, ".source", NULL);
  g_unlink (meta);
  g_clear_pointer (&self->autosave_path, g_free);
}

/* Told once, not at every tick: the next failure after a success is told again. */
static void
autosave_failed (GradusWindow *self, const char *where, const char *why)
{
  g_debug ("window: autosave to %s failed: %s", where, why);
  if (self->autosave_failing)
    return;
  self->autosave_failing = TRUE;
  g_autofree char *text = g_strdup_printf (_("Autosave failed (%s): save your work to keep it"), why);
  gradus_window_message (self, text);
}

gboolean
gradus_window_get_autosave_failing (GradusWindow *self)
{
  return self->autosave_failing;
}

const char *
gradus_window_autosave_now (GradusWindow *self)
{
  if (!gradus_doc_model_get_modified (self->model))
    return NULL;
  g_autofree char *dir = gradus_autosave_dir ();
  if (g_mkdir_with_parents (dir, 0700) != 0) {
    int e = errno;
    autosave_failed (self, dir, g_strerror (e));
    return NULL;
  }
  if (!self->autosave_path)
    self->autosave_path = g_strdup_printf ("%s/%s.gradus", dir, self->autosave_id);
  gsize len;
  g_autofree char *data = gradus_doc_model_to_data (self->model, &len);
  /* Nothing new since the last autosave: leave the disk alone. */
  guint hash = g_str_hash (data);
  if (hash == self->autosaved_hash && g_file_test (self->autosave_path, G_FILE_TEST_EXISTS))
    return self->autosave_path;
  g_autoptr (GError) error = NULL;
  if (!g_file_set_contents_full (self->autosave_path, data, len, G_FILE_SET_CONTENTS_CONSISTENT,
                                 0600, &error)) {
    autosave_failed (self, self->autosave_path, error->message);
    return NULL;
  }
  self->autosaved_hash = hash;
  self->autosave_failing = FALSE;
  /* Which file the work belongs to, for the offer to restore it. */
  g_autofree char *meta = g_strconcat (self->autosave_path, ".source", NULL);
  const char *path = gradus_doc_model_get_path (self->model);
  g_file_set_contents (meta, path ? path : "", -1, NULL);
  return self->autosave_path;
}

static gboolean
autosave_tick (gpointer data)
{
  GradusWindow *self = data;
  if (gradus_doc_model_get_modified (self->model))
    gradus_window_autosave_now (self);
  return G_SOURCE_CONTINUE;
}

/* The document's name and description, above the canvas. */
static void
show_lesson (GradusWindow *self)
{
  JsonNode *root = gradus_doc_model_get_root (self->model);
  JsonObject *top = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  JsonNode *name = top ? json_object_get_member (top, "name") : NULL;
  JsonNode *desc = top ? json_object_get_member (top, "description") : NULL;
  gboolean name_ok = name && JSON_NODE_HOLDS_VALUE (name) && json_node_get_value_type (name) == G_TYPE_STRING;
  gboolean desc_ok = desc && JSON_NODE_HOLDS_VALUE (desc) && json_node_get_value_type (desc) == G_TYPE_STRING;
  gradus_lesson_bar_set_text (GRADUS_LESSON_BAR (self->lesson_bar),
                              name_ok ? json_node_get_string (name) : NULL,
                              desc_ok ? json_node_get_string (desc) : NULL);
}

/* A data file outside the document's folder: the user decides, once per
 * path and document (issue 15). Refused, the run panel says why. */
static void
data_dialog_response (AdwMessageDialog *dialog, const char *response, GradusWindow *self)
{
  const char *path = g_object_get_data (G_OBJECT (dialog), "path");
  /* Answered: another file may be asked about now. */
  if (self->data_dialog == GTK_WIDGET (dialog)) {
    g_object_remove_weak_pointer (G_OBJECT (dialog), (gpointer *) &self->data_dialog);
    self->data_dialog = NULL;
  }
  if (g_strcmp0 (response, "allow") == 0)
    gradus_run_panel_allow_data (GRADUS_RUN_PANEL (self->run_panel), path);
  else
    g_hash_table_add (self->data_refused, g_strdup (path));
}

static void
data_refused (GradusRunPanel *run, const char *path, GradusWindow *self)
{
  if (self->data_dialog || g_hash_table_contains (self->data_refused, path))
    return;
  g_autofree char *body = g_strdup_printf (
    _("This document reads the data file\n%s\nwhich is outside its folder. A shared graph file "
      "can read any file this way. Allow it for this document?"), path);
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Data outside the document's folder"),
                                              body);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "refuse", _("_Refuse"),
                                    "allow", _("_Allow for This Document"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "allow",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "refuse");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "refuse");
  g_object_set_data_full (G_OBJECT (dialog), "path", g_strdup (path), g_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (data_dialog_response), self, 0);
  self->data_dialog = dialog;
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &self->data_dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

GtkWindow *
gradus_window_get_data_dialog (GradusWindow *self)
{
  return self->data_dialog ? GTK_WINDOW (self->data_dialog) : NULL;
}

static void
load_model (GradusWindow *self)
{
  show_lesson (self);
  g_hash_table_remove_all (self->data_refused);
  gradus_canvas_set_model (GRADUS_CANVAS (self->canvas), self->model);
  gradus_inspector_set_model (GRADUS_INSPECTOR (self->inspector), self->model);
  update_actions (self);
  gradus_run_binding_set_model (self->run_binding, self->model);
}

gboolean
gradus_window_open_path (GradusWindow *self, const char *path, GError **error)
{
  if (!gradus_doc_model_load_file (self->model, path, error))
    return FALSE;
  remove_autosave (self);
  add_recent (path);
  load_model (self);
  return TRUE;
}

gboolean
gradus_window_restore (GradusWindow *self, const char *autosave, const char *original,
                       GError **error)
{
  g_autofree char *data = NULL;
  gsize len;
  if (!g_file_get_contents (autosave, &data, &len, error))
    return FALSE;
  if (!gradus_doc_model_load_data (self->model, data, len, original && *original ? original : NULL, error))
    return FALSE;
  gradus_doc_model_set_modified (self->model, TRUE);
  load_model (self);
  return TRUE;
}

/* Saved into another folder, the graph still reads these data files where
 * they are (docs/format.md, "Saving into another folder"): say so, naming
 * them, until the user dismisses it. Nothing is copied behind their back. */
static void
saved_outside (GradusWindow *self, char **files)
{
  guint n = g_strv_length (files);
  g_autofree char *some = g_strjoinv (", ", files);
  g_autofree char *text = g_strdup_printf (
    ngettext ("Saved. %u data file is outside the graph's new folder (%s): running it will "
              "ask to allow it",
              "Saved. %u data files are outside the graph's new folder (%s): running it will "
              "ask to allow them", n), n, some);
  gradus_window_message (self, text);
  if (self->toast)
    adw_toast_set_timeout (self->toast, 0);
}

gboolean
gradus_window_save_to (GradusWindow *self, const char *path, GError **error)
{
  g_auto (GStrv) outside = NULL;
  /* whether the run panel holds the document's graph, before the save
   * rewrites its data paths for a new folder */
  gboolean current = self->run_binding && gradus_run_binding_is_current (self->run_binding);
  if (!gradus_doc_model_save_full (self->model, path, &outside, error))
    return FALSE;
  if (current)
    gradus_run_binding_follow_save (self->run_binding);
  remove_autosave (self);
  add_recent (path);
  update_title (self);
  if (outside)
    saved_outside (self, outside);
  return TRUE;
}

gboolean
gradus_window_export_to (GradusWindow *self, const char *path, const char *format, GError **error)
{
  if (g_str_equal (format, "dot")) {
    GrdDocument *doc = gradus_doc_model_get_document (self->model);
    if (!doc) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "%s", gradus_doc_model_get_build_error (self->model));
      return FALSE;
    }
    g_autofree char *dot = grd_document_to_dot (doc);
    return g_file_set_contents_full (path, dot, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
  }
  g_autoptr (GHashTable) expanded = gradus_ui_expanded_grads (self->model);
  g_autoptr (GradusScene) scene = gradus_scene_new (self->model, expanded, NULL);
  return gradus_render_to_file (scene, format, path, 2.0, FALSE, error);
}

gboolean
gradus_window_screenshot (GradusWindow *self, const char *path, GError **error)
{
  GtkWidget *w = GTK_WIDGET (self);
  int width = gtk_widget_get_width (w), height = gtk_widget_get_height (w);
  if (width <= 0 || height <= 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("the window is not shown yet"));
    return FALSE;
  }
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (w);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  g_autoptr (GskRenderNode) node = gtk_snapshot_free_to_node (snapshot);
  GskRenderer *renderer = gtk_native_get_renderer (GTK_NATIVE (self));
  if (!node || !renderer) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("nothing to render"));
    return FALSE;
  }
  g_autoptr (GdkTexture) texture = gsk_renderer_render_texture (renderer, node,
                                                                &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (!gdk_texture_save_to_png (texture, path)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("could not write %s"), path);
    return FALSE;
  }
  return TRUE;
}

/* ------------------------------------------------------------ dialogs */

static void
open_response (GtkNativeDialog *dialog, int response, GradusWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT) {
    g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
    g_autofree char *path = g_file_get_path (file);
    gtk_widget_activate_action (GTK_WIDGET (self), "win.open-path", "s", path);
  }
  g_object_unref (dialog);
}

static GtkFileFilter *
gradus_filter (void)
{
  GtkFileFilter *f = gtk_file_filter_new ();
  gtk_file_filter_set_name (f, _("Gradus graphs"));
  gtk_file_filter_add_pattern (f, "*.gradus");
  return f;
}

static void
action_open (GSimpleAction *a, GVariant *p, gpointer data)
{
  GradusWindow *self = data;
  GtkFileChooserNative *d = gtk_file_chooser_native_new (_("Open Graph"), GTK_WINDOW (self),
                                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (d), gradus_filter ());
  g_signal_connect (d, "response", G_CALLBACK (open_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (d));
}

static void
action_open_path (GSimpleAction *a, GVariant *p, gpointer data)
{
  GradusWindow *self = data;
  const char *path = g_variant_get_string (p, NULL);
  GradusWindow *target = self;
  /* A window with unsaved work keeps it: the file opens in a new window. An
   * empty window, or one whose file is saved, is reused. */
  if (gradus_doc_model_get_modified (self->model)) {
    target = gradus_window_new (gtk_window_get_application (GTK_WINDOW (self)));
    gtk_window_present (GTK_WINDOW (target));
  }
  g_autoptr (GError) error = NULL;
  if (!gradus_window_open_path (target, path, &error))
    gradus_window_message (target, error->message);
}

static void save_as_then (GradusWindow *self, gboolean close_after);

static void
save_response (GtkNativeDialog *dialog, int response, GradusWindow *self)
{
  gboolean close_after = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "close-after"));
  if (response == GTK_RESPONSE_ACCEPT) {
    g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
    g_autofree char *path = g_file_get_path (file);
    if (!g_str_has_suffix (path, ".gradus")) {
      char *p = g_strconcat (path, ".gradus", NULL);
      g_free (path);
      path = p;
    }
    g_autoptr (GError) error = NULL;
    if (!gradus_window_save_to (self, path, &error))
      gradus_window_message (self, error->message);
    else if (close_after) {
      self->close_confirmed = TRUE;
      gtk_window_close (GTK_WINDOW (self));
    }
  }
  g_object_unref (dialog);
}

static void
save_as_then (GradusWindow *self, gboolean close_after)
{
  GtkFileChooserNative *d = gtk_file_chooser_native_new (_("Save Graph"), GTK_WINDOW (self),
                                                         GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (d), gradus_filter ());
  g_autofree char *title = gradus_doc_model_dup_title (self->model);
  g_autofree char *name = g_strconcat (title, ".gradus", NULL);
  g_strdelimit (name, "/\\:", '-');
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (d), name);
  g_object_set_data (G_OBJECT (d), "close-after", GINT_TO_POINTER (close_after));
  g_signal_connect (d, "response", G_CALLBACK (save_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (d));
}

static gboolean
save_or_ask (GradusWindow *self, gboolean close_after)
{
  const char *path = gradus_doc_model_get_path (self->model);
  if (!path) {
    save_as_then (self, close_after);
    return FALSE;
  }
  g_autoptr (GError) error = NULL;
  if (!gradus_window_save_to (self, path, &error)) {
    gradus_window_message (self, error->message);
    return FALSE;
  }
  return TRUE;
}

static void
action_save (GSimpleAction *a, GVariant *p, gpointer data)
{
  save_or_ask (data, FALSE);
}

static void
action_save_as (GSimpleAction *a, GVariant *p, gpointer data)
{
  save_as_then (data, FALSE);
}

static void
action_save_to (GSimpleAction *a, GVariant *p, gpointer data)
{
  g_autoptr (GError) error = NULL;
  if (!gradus_window_save_to (data, g_variant_get_string (p, NULL), &error))
    gradus_window_message (data, error->message);
}

static void
export_response (GtkNativeDialog *dialog, int response, GradusWindow *self)
{
  const char *format = g_object_get_data (G_OBJECT (dialog), "format");
  if (response == GTK_RESPONSE_ACCEPT) {
    g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
    g_autofree char *path = g_file_get_path (file);
    g_autoptr (GError) error = NULL;
    if (!gradus_window_export_to (self, path, format, &error))
      gradus_window_message (self, error->message);
    else {
      g_autofree char *msg = g_strdup_printf (_("Exported to %s"), path);
      gradus_window_message (self, msg);
    }
  }
  g_object_unref (dialog);
}

char *
gradus_window_export_name (GradusWindow *self, const char *format)
{
  /* linreg.gradus -> linreg.svg; an unsaved graph: its title. */
  const char *path = gradus_doc_model_get_path (self->model);
  g_autofree char *base = path ? g_path_get_basename (path) : gradus_doc_model_dup_title (self->model);
  if (g_str_has_suffix (base, ".gradus"))
    base[strlen (base) - strlen (".gradus")] = '\0';
  char *name = g_strdup_printf ("%s.%s", base, format);
  g_strdelimit (name, "/\\:", '-');
  return name;
}

static void
action_export (GSimpleAction *a, GVariant *p, gpointer data)
{
  GradusWindow *self = data;
  const char *format = g_variant_get_string (p, NULL);
  g_autofree char *up = g_ascii_strup (format, -1);
  g_autofree char *title = g_strdup_printf (_("Export as %s"), up);
  GtkFileChooserNative *d = gtk_file_chooser_native_new (title, GTK_WINDOW (self),
                                                         GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
  g_autofree char *name = gradus_window_export_name (self, format);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (d), name);
  g_object_set_data_full (G_OBJECT (d), "format", g_strdup (format), g_free);
  g_signal_connect (d, "response", G_CALLBACK (export_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (d));
}

static void
action_export_to (GSimpleAction *a, GVariant *p, gpointer data)
{
  /* "FORMAT:PATH", for scripts and tests. */
  const char *s = g_variant_get_string (p, NULL);
  const char *colon = strchr (s, ':');
  if (!colon)
    return;
  g_autofree char *format = g_strndup (s, colon - s);
  g_autoptr (GError) error = NULL;
  if (!gradus_window_export_to (data, colon + 1, format, &error))
    gradus_window_message (data, error->message);
}

/* ------------------------------------------------------------ edit actions */

static void
action_undo (GSimpleAction *a, GVariant *p, gpointer data)
{
  GradusWindow *self = data;
  g_autofree char *label = g_strdup (gradus_doc_model_undo_label (self->model));
  if (gradus_doc_model_undo (self->model) && label) {
    g_free (self->last_message);
    self->last_message = g_strdup_printf (_("Undone: %s"), label);
  }
  /* Kept values undone: the run panel's Reset takes the document's at once. */
  if (gradus_doc_model_last_change_keeps_run (self->model))
    gradus_run_binding_flush (self->run_binding);
}

static void
action_redo (GSimpleAction *a, GVariant *p, gpointer data)
{
  GradusWindow *self = data;
  gradus_doc_model_redo (self->model);
  if (gradus_doc_model_last_change_keeps_run (self->model))
    gradus_run_binding_flush (self->run_binding);
}

static gboolean
box_is_free (GradusScene *scene, double x, double y, double w, double h)
{
  const double gap = 20;
  for (guint i = 0; i < scene->nodes->len; i++) {
    GradusSceneNode *n = scene->nodes->pdata[i];
    if (x < n->x + n->w + gap && x + w + gap > n->x && y < n->y + n->h + gap && y + h + gap > n->y)
      return FALSE;
  }
  return TRUE;
}

void
gradus_window_free_spot (GradusWindow *self, double *x, double *y)
{
  /* Where a new node goes: right of the selection (the next step of the
   * computation), else at the centre of the view; then down, then further
   * right, until it covers no node. */
  GradusCanvas *canvas = GRADUS_CANVAS (self->canvas);
  GradusScene *scene = gradus_canvas_get_scene (canvas);
  const double w = 170, h = 90;
  double cx, cy;
  gradus_canvas_get_view_centre (canvas, &cx, &cy);
  double sx = cx - w / 2, sy = cy - h / 2;
  gboolean any = FALSE;
  for (guint i = 0; scene && i < scene->nodes->len; i++) {
    GradusSceneNode *n = scene->nodes->pdata[i];
    if (!n->selected || n->readonly)
      continue;
    if (!any || n->x + n->w + 60 > sx)
      sx = n->x + n->w + 60;
    if (!any || n->y < sy)
      sy = n->y;
    any = TRUE;
  }
  *x = sx;
  *y = sy;
  if (!scene)
    return;
  for (int col = 0; col < 12; col++)
    for (int row = 0; row < 12; row++) {
      double tx = sx + col * (w + 40), ty = sy + row * (h / 2 + 10);
      if (box_is_free (scene, tx, ty, w, h)) {
        *x = tx;
        *y = ty;
        return;
      }
    }
}

static void
action_add_node (GSimpleAction *a, GVariant *p, gpointer data)
{
  GradusWindow *self = data;
  g_autofree char *kind = NULL, *op = NULL;
  if (!gradus_palette_parse (g_variant_get_string (p, NULL), &kind, &op)) {
    g_autofree char *msg = g_strdup_printf (_("Unknown node kind or op '%s'"), g_variant_get_string (p, NULL));
    gradus_window_message (self, msg);
    return;
  }
  double x, y;
  gradus_window_free_spot (self, &x, &y);
  g_autoptr (GError) error = NULL;
  g_autofree char *id = gradus_doc_model_add_node (self->model, kind, op, x, y, &error);
  if (!id) {
    gradus_window_message (self, error->message);
    return;
  }
  const char *ids[] = { id, NULL };
  gradus_canvas_set_selection (GRADUS_CANVAS (self->canvas), ids);
  gtk_widget_grab_focus (self->canvas);
}

static void
action_quick_add (GSimpleAction *a, GVariant *p, gpointer data)
{
  /* A line typed in the palette's search box: the node made, named, valued
   * and wired; the box is emptied and keeps the focus for the next line. */
  GradusWindow *self = data;
  GradusCanvas *canvas = GRADUS_CANVAS (self->canvas);
  g_autofree char *from = gradus_keyboard_dup_selected_output (canvas);
  double x, y;
  gradus_window_free_spot (self, &x, &y);
  g_autoptr (GError) error = NULL;
  g_autofree char *id = gradus_quick_add_run (self->model, g_variant_get_string (p, NULL), from, x, y,
                                              &error);
  if (!id) {
    gradus_window_message (self, error->message);
    return;
  }
  const char *ids[] = { id, NULL };
  gradus_canvas_set_selection (canvas, ids);
  gradus_palette_set_search (GRADUS_PALETTE (self->palette), "");
}

static void
action_connect (GSimpleAction *a, GVariant *p, gpointer data)
{
  /* "SOURCE_REF TARGET SLOT": what dragging a wire does, from the keyboard or a test. */
  GradusWindow *self = data;
  g_auto (GStrv) parts = g_strsplit (g_variant_get_string (p, NULL), " ", 3);
  if (g_strv_length (parts) != 3) {
    gradus_window_message (self, _("connect takes \"SOURCE TARGET SLOT\""));
    return;
  }
  gradus_canvas_connect (GRADUS_CANVAS (self->canvas), parts[0], parts[1], atoi (parts[2]));
}

static void
action_delete (GSimpleAction *a, GVariant *p, gpointer data)
{
  GradusWindow *self = data;
  g_auto (GStrv) sel = gradus_canvas_dup_selection (GRADUS_CANVAS (self->canvas));
  gradus_doc_model_remove_nodes (self->model, (const char *const *) sel);
}

static void
action_select_all (GSimpleAction *a, GVariant *p, gpointer data)
{
  gradus_canvas_select_all (GRADUS_CANVAS (GRADUS_WINDOW (data)->canvas));
}

static void
action_duplicate (GSimpleAction *a, GVariant *p, gpointer data)
{
  GradusWindow *self = data;
  g_auto (GStrv) sel = gradus_canvas_dup_selection (GRADUS_CANVAS (self->canvas));
  g_auto (GStrv) added = gradus_doc_model_duplicate (self->model, (const char *const *) sel);
  if (added)
    gradus_canvas_set_selection (GRADUS_CANVAS (self->canvas), (const char *const *) added);
}

static gboolean
copy_selection (GradusWindow *self)
{
  g_auto (GStrv) sel = gradus_canvas_dup_selection (GRADUS_CANVAS (self->canvas));
  if (!sel[0])
    return FALSE;
  g_autofree char *text = gradus_doc_model_copy_nodes (self->model, (const char *const *) sel);
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), text);
  return TRUE;
}

static void
action_copy (GSimpleAction *a, GVariant *p, gpointer data)
{
  copy_selection (data);
}

static void
action_cut (GSimpleAction *a, GVariant *p, gpointer data)
{
  if (copy_selection (data))
    action_delete (a, p, data);
}

static void
paste_done (GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr (GradusWindow) self = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (source), res, &error);
  /* The window closed while the clipboard was read: no document to paste into. */
  if (!self->model)
    return;
  if (!text) {
    gradus_window_message (self, error ? error->message : _("The clipboard is empty"));
    return;
  }
  g_auto (GStrv) added = gradus_doc_model_paste (self->model, text, 30, 30, &error);
  if (!added) {
    gradus_window_message (self, error->message);
    return;
  }
  gradus_canvas_set_selection (GRADUS_CANVAS (self->canvas), (const char *const *) added);
}

static void
action_paste (GSimpleAction *a, GVariant *p, gpointer data)
{
  GradusWindow *self = data;
  gdk_clipboard_read_text_async (gtk_widget_get_clipboard (GTK_WIDGET (self)), NULL, paste_done,
                                 g_object_ref (self));
}

static void
action_zoom_in (GSimpleAction *a, GVariant *p, gpointer data)
{
  GtkWidget *c = GRADUS_WINDOW (data)->canvas;
  gradus_canvas_zoom_at (GRADUS_CANVAS (c), 1.25, gtk_widget_get_width (c) / 2.0, gtk_widget_get_height (c) / 2.0);
}

static void
action_zoom_out (GSimpleAction *a, GVariant *p, gpointer data)
{
  GtkWidget *c = GRADUS_WINDOW (data)->canvas;
  gradus_canvas_zoom_at (GRADUS_CANVAS (c), 0.8, gtk_widget_get_width (c) / 2.0, gtk_widget_get_height (c) / 2.0);
}

static void
action_zoom_fit (GSimpleAction *a, GVariant *p, gpointer data)
{
  gradus_canvas_zoom_to_fit (GRADUS_CANVAS (GRADUS_WINDOW (data)->canvas));
}

static void
action_zoom_reset (GSimpleAction *a, GVariant *p, gpointer data)
{
  gradus_canvas_zoom_reset (GRADUS_CANVAS (GRADUS_WINDOW (data)->canvas));
}

static void
action_auto_layout (GSimpleAction *a, GVariant *p, gpointer data)
{
  GradusWindow *self = data;
  gradus_doc_model_auto_layout (self->model);
  gradus_canvas_zoom_to_fit (GRADUS_CANVAS (self->canvas));
}

/* The grad node the gradient actions apply to: the selected one, or the
 * only one in the graph. */
static char *
target_grad (GradusWindow *self)
{
  g_auto (GStrv) sel = gradus_canvas_dup_selection (GRADUS_CANVAS (self->canvas));
  char *only = NULL;
  guint n_grads = 0;
  for (guint i = 0; i < gradus_doc_model_n_nodes (self->model); i++) {
    JsonObject *o = gradus_doc_model_node_at (self->model, i);
    const char *kind = o ? json_object_get_string_member_with_default (o, "kind", "") : "";
    const char *id = o ? json_object_get_string_member_with_default (o, "id", NULL) : NULL;
    if (!id || !g_str_equal (kind, "grad"))
      continue;
    if (g_strv_contains ((const char *const *) sel, id)) {
      g_free (only);
      return g_strdup (id);
    }
    if (n_grads++ == 0)
      only = g_strdup (id);
  }
  if (n_grads == 1)
    return only;
  g_free (only);
  return NULL;
}

static void
set_gradient (GradusWindow *self, int how)   /* 1 show, 0 hide, -1 toggle */
{
  g_autofree char *id = target_grad (self);
  if (!id) {
    gradus_window_message (self, _("Select a grad node to show its gradient graph"));
    return;
  }
  GradusCanvas *c = GRADUS_CANVAS (self->canvas);
  gboolean show = how < 0 ? !gradus_canvas_get_gradient_shown (c, id) : how;
  const char *err = gradus_doc_model_node_error (self->model, id);
  if (show && err) {
    g_autofree char *msg = g_strdup_printf (_("No gradient graph yet: %s"), err);
    gradus_window_message (self, msg);
    return;
  }
  gradus_canvas_set_gradient_shown (c, id, show);
  if (show)
    gradus_canvas_zoom_to_fit (c);
}

static void
action_toggle_gradient (GSimpleAction *a, GVariant *p, gpointer data)
{
  /* Ctrl+G groups a selection of nodes (ui/organise); else the gradients */
  if (gradus_group_canvas_try_group (GTK_WIDGET (gradus_window_get_canvas (data))))
    return;
  set_gradient (data, -1);
}

static void
action_show_gradient (GSimpleAction *a, GVariant *p, gpointer data)
{
  set_gradient (data, 1);
}

static void
action_hide_gradient (GSimpleAction *a, GVariant *p, gpointer data)
{
  set_gradient (data, 0);
}

static void
action_focus_search (GSimpleAction *a, GVariant *p, gpointer data)
{
  GradusWindow *self = data;
  gtk_widget_grab_focus (gradus_palette_get_search_entry (GRADUS_PALETTE (self->palette)));
}

static void
action_close (GSimpleAction *a, GVariant *p, gpointer data)
{
  gtk_window_close (GTK_WINDOW (data));
}

static const GActionEntry win_actions[] = {
  { "open", action_open },
  { "open-path", action_open_path, "s" },
  { "save", action_save },
  { "save-as", action_save_as },
  { "save-to", action_save_to, "s" },
  { "export", action_export, "s" },
  { "export-to", action_export_to, "s" },
  { "undo", action_undo },
  { "redo", action_redo },
  { "add-node", action_add_node, "s" },
  { "quick-add", action_quick_add, "s" },
  { "connect", action_connect, "s" },
  { "delete", action_delete },
  { "select-all", action_select_all },
  { "duplicate", action_duplicate },
  { "copy", action_copy },
  { "cut", action_cut },
  { "paste", action_paste },
  { "zoom-in", action_zoom_in },
  { "zoom-out", action_zoom_out },
  { "zoom-fit", action_zoom_fit },
  { "zoom-reset", action_zoom_reset },
  { "auto-layout", action_auto_layout },
  { "toggle-gradient", action_toggle_gradient },
  { "show-gradient", action_show_gradient },
  { "hide-gradient", action_hide_gradient },
  { "focus-search", action_focus_search },
  { "close", action_close },
};

/* ------------------------------------------------------------ closing */

static gboolean
close_later (gpointer data)
{
  gtk_window_close (data);
  g_object_unref (data);
  return G_SOURCE_REMOVE;
}

static void
close_response (AdwMessageDialog *dialog, const char *response, GradusWindow *self)
{
  /* Close after the dialog has finished its response: it is our transient
   * child and must not be destroyed with us while it still runs. */
  if (g_str_equal (response, "discard")) {
    self->close_confirmed = TRUE;
    remove_autosave (self);
    g_idle_add (close_later, g_object_ref (self));
  } else if (g_str_equal (response, "save")) {
    if (save_or_ask (self, TRUE)) {
      self->close_confirmed = TRUE;
      g_idle_add (close_later, g_object_ref (self));
    }
  }
}

static gboolean
close_request (GtkWindow *window)
{
  GradusWindow *self = GRADUS_WINDOW (window);
  if (self->close_confirmed || !gradus_doc_model_get_modified (self->model)) {
    remove_autosave (self);
    return GTK_WINDOW_CLASS (gradus_window_parent_class)->close_request (window);
  }
  g_autofree char *title = gradus_doc_model_dup_title (self->model);
  GtkWidget *d = adw_message_dialog_new (window, _("Save Changes?"), NULL);
  adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (d),
                                  _("“%s” has unsaved changes. Changes that are not saved are lost."), title);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (d), "cancel", _("_Cancel"), "discard",
                                    _("_Discard"), "save", _("_Save"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (d), "discard",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (d), "save", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (d), "save");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (d), "cancel");
  g_signal_connect (d, "response", G_CALLBACK (close_response), self);
  gtk_window_present (GTK_WINDOW (d));
  return TRUE;
}

/* ------------------------------------------------------------ building */

static gboolean
file_dropped (GtkDropTarget *target, const GValue *value, double x, double y, GradusWindow *self)
{
  GSList *files = gdk_file_list_get_files (g_value_get_boxed (value));
  gboolean any = FALSE;
  for (GSList *l = files; l; l = l->next) {
    g_autofree char *path = g_file_get_path (l->data);
    if (path) {
      gtk_widget_activate_action (GTK_WIDGET (self), "win.open-path", "s", path);
      any = TRUE;
    }
  }
  g_slist_free (files);
  return any;
}

static void
fill_recent (GradusWindow *self)
{
  g_menu_remove_all (self->recent_menu);
  g_auto (GStrv) paths = gradus_settings_recent_paths (8);
  for (char **p = paths; *p; p++) {
    const char *path = *p;
    g_autofree char *base = g_path_get_basename (path);
    g_autofree char *action = g_strdup_printf ("win.open-path");
    GMenuItem *item = g_menu_item_new (base, NULL);
    g_menu_item_set_action_and_target_value (item, action, g_variant_new_string (path));
    g_menu_append_item (self->recent_menu, item);
    g_object_unref (item);
  }
}

/* Examples: data/examples in the source tree while developing, the
 * installed data directory otherwise; GRADUS_EXAMPLES_DIR overrides both. */
static char *
examples_dir (void)
{
  const char *env = g_getenv ("GRADUS_EXAMPLES_DIR");
  if (env && g_file_test (env, G_FILE_TEST_IS_DIR))
    return g_strdup (env);
  g_autofree char *src = g_build_filename (GRADUS_SOURCE_DIR, "data", "examples", NULL);
  if (g_file_test (src, G_FILE_TEST_IS_DIR))
    return g_steal_pointer (&src);
  return g_build_filename (GRADUS_DATA_DIR, "examples", NULL);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return g_ascii_strcasecmp (*(const char *const *) a, *(const char *const *) b);
}

static GMenu *
examples_menu_of (const char *dir)
{
  GMenu *menu = g_menu_new ();
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while (d && (name = g_dir_read_name (d)))
    if (g_str_has_suffix (name, ".gradus"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++) {
    g_autofree char *path = g_build_filename (dir, names->pdata[i], NULL);
    g_autofree char *label = g_strndup (names->pdata[i], strlen (names->pdata[i]) - 7);
    GMenuItem *item = g_menu_item_new (label, NULL);
    g_menu_item_set_action_and_target_value (item, "win.open-path", g_variant_new_string (path));
    g_menu_append_item (menu, item);
    g_object_unref (item);
  }
  if (names->len == 0)
    g_menu_append (menu, _("No examples found"), "win.none");
  return menu;
}

static GMenu *
examples_menu (void)
{
  g_autofree char *dir = examples_dir ();
  return examples_menu_of (dir);
}

/* The lessons of a first class on gradients, in their order. */
static GMenu *
lessons_menu (void)
{
  g_autofree char *dir = examples_dir ();
  g_autofree char *lessons = g_build_filename (dir, "lessons", NULL);
  return examples_menu_of (lessons);
}

static GMenuModel *
primary_menu (GradusWindow *self)
{
  GMenu *menu = g_menu_new ();
  GMenu *files = g_menu_new ();
  g_menu_append (files, _("_New Window"), "app.new");
  g_menu_append (files, _("_Open…"), "win.open");
  g_menu_append_submenu (files, _("Open _Recent"), G_MENU_MODEL (self->recent_menu));
  g_autoptr (GMenu) examples = examples_menu ();
  g_menu_append_submenu (files, _("_Examples"), G_MENU_MODEL (examples));
  g_autoptr (GMenu) lessons = lessons_menu ();
  g_menu_append_submenu (files, _("_Lessons"), G_MENU_MODEL (lessons));
  g_menu_append (files, _("Save _As…"), "win.save-as");
  g_menu_append (files, _("_Keep Trained Values"), "win.keep-trained");
  g_menu_append (files, _("_Import ONNX Model…"), "win.import-onnx");
  g_menu_append (files, _("Export as O_NNX…"), "win.export-model::onnx");
  g_menu_append (files, _("Export as P_yTorch Script…"), "win.export-model::pytorch");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (files));
  g_object_unref (files);
  GMenu *view = g_menu_new ();
  g_menu_append (view, _("Show or Hide _Gradient Graph"), "win.toggle-gradient");
  g_menu_append (view, _("Open or Close Scan _Body"), "win.scan-open");
  g_menu_append (view, _("Show or Hide Body in Scan _Zone"), "win.scan-expand");
  g_menu_append (view, _("_Arrange Nodes"), "win.auto-layout");
  g_menu_append (view, _("Zoom to _Fit"), "win.zoom-fit");
  g_menu_append (view, _("_Backpropagation"), "win.backprop");
  g_menu_append (view, _("_Step Through a Call"), "win.step-through");
  g_menu_append (view, _("_Presentation Mode"), "win.presentation");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (view));
  g_object_unref (view);
  GMenu *help = g_menu_new ();
  g_menu_append (help, _("_Keyboard Shortcuts"), "app.shortcuts");
  g_menu_append (help, _("_About Gradus"), "app.about");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (help));
  g_object_unref (help);
  return G_MENU_MODEL (menu);
}

static GMenuModel *
export_menu (void)
{
  GMenu *menu = g_menu_new ();
  g_menu_append (menu, _("Picture (_PNG)…"), "win.export::png");
  g_menu_append (menu, _("Vector (_SVG)…"), "win.export::svg");
  g_menu_append (menu, _("_Document (PDF)…"), "win.export::pdf");
  g_menu_append (menu, _("Graphviz (_DOT)…"), "win.export::dot");
  g_menu_append (menu, _("Model as _ONNX (training step)…"), "win.export-model::onnx");
  g_menu_append (menu, _("_PyTorch Script…"), "win.export-model::pytorch");
  return G_MENU_MODEL (menu);
}

static GtkWidget *
icon_button (const char *icon, const char *action, const char *tooltip)
{
  GtkWidget *b = gtk_button_new_from_icon_name (icon);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (b), action);
  gtk_widget_set_tooltip_text (b, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (b), GTK_ACCESSIBLE_PROPERTY_LABEL, tooltip, -1);
  return b;
}

static void
add_canvas_shortcut (GtkShortcutController *sc, const char *accel, const char *action)
{
  gtk_shortcut_controller_add_shortcut (sc, gtk_shortcut_new (gtk_shortcut_trigger_parse_string (accel),
                                                              gtk_named_action_new (action)));
}

static void
gradus_window_dispose (GObject *object)
{
  GradusWindow *self = GRADUS_WINDOW (object);
  g_clear_handle_id (&self->autosave_source, g_source_remove);
  g_clear_object (&self->run_binding);
  if (self->toast) {
    g_object_remove_weak_pointer (G_OBJECT (self->toast), (gpointer *) &self->toast);
    self->toast = NULL;
  }
  g_clear_object (&self->model);
  g_clear_object (&self->recent_menu);
  if (self->data_dialog) {
    g_object_remove_weak_pointer (G_OBJECT (self->data_dialog), (gpointer *) &self->data_dialog);
    gtk_window_destroy (GTK_WINDOW (g_steal_pointer (&self->data_dialog)));
  }
  G_OBJECT_CLASS (gradus_window_parent_class)->dispose (object);
}

static void
gradus_window_finalize (GObject *object)
{
  GradusWindow *self = GRADUS_WINDOW (object);
  g_free (self->last_message);
  g_free (self->autosave_id);
  g_free (self->autosave_path);
  g_hash_table_unref (self->data_refused);
  G_OBJECT_CLASS (gradus_window_parent_class)->finalize (object);
}

static void
gradus_window_class_init (GradusWindowClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = gradus_window_dispose;
  G_OBJECT_CLASS (klass)->finalize = gradus_window_finalize;
  GTK_WINDOW_CLASS (klass)->close_request = close_request;
}

static void
gradus_window_init (GradusWindow *self)
{
  self->model = gradus_doc_model_new ();
  self->data_refused = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->autosave_id = g_uuid_string_random ();
  self->recent_menu = g_menu_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (self), win_actions, G_N_ELEMENTS (win_actions), self);
  gradus_scan_actions_install (self);   /* win.scan-open, win.scan-expand (ui/scan) */
  gradus_interchange_actions_install (self);
  gtk_window_set_default_size (GTK_WINDOW (self), 1280, 800);

  GtkWidget *header = adw_header_bar_new ();
  self->title = adw_window_title_new ("Gradus", NULL);
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), self->title);
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), icon_button ("document-new-symbolic", "app.new", _("New graph (Ctrl+N)")));
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), icon_button ("document-open-symbolic", "win.open", _("Open a graph (Ctrl+O)")));
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), icon_button ("document-save-symbolic", "win.save", _("Save (Ctrl+S)")));
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), icon_button ("document-save-as-symbolic", "win.save-as", _("Save as (Ctrl+Shift+S)")));

  GtkWidget *menu = gtk_menu_button_new ();
  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (menu), "open-menu-symbolic");
  g_autoptr (GMenuModel) pm = primary_menu (self);
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (menu), pm);
  gtk_menu_button_set_primary (GTK_MENU_BUTTON (menu), TRUE);
  gtk_widget_set_tooltip_text (menu, _("Main menu (F10)"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (menu), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Main menu"), -1);
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), menu);
  GtkWidget *export = gtk_menu_button_new ();
  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (export), "document-send-symbolic");
  g_autoptr (GMenuModel) em = export_menu ();
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (export), em);
  gtk_widget_set_tooltip_text (export, _("Export the canvas (Ctrl+E: PNG)"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (export), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Export"), -1);
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), export);
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), icon_button ("zoom-fit-best-symbolic", "win.zoom-fit", _("Zoom to fit (Ctrl+0)")));
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), icon_button ("edit-redo-symbolic", "win.redo", _("Redo (Ctrl+Shift+Z)")));
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), icon_button ("edit-undo-symbolic", "win.undo", _("Undo (Ctrl+Z)")));

  self->palette = gradus_palette_new ();
  gtk_widget_set_size_request (self->palette, 200, -1);
  self->canvas = gradus_canvas_new (NULL);
  gradus_keyboard_attach (GRADUS_CANVAS (self->canvas));
  self->inspector = gradus_inspector_new ();
  gtk_widget_set_size_request (self->inspector, 280, -1);

  /* The canvas above the run panel. */
  self->run_panel = gradus_run_panel_new ();
  GtkWidget *vpaned = gtk_paned_new (GTK_ORIENTATION_VERTICAL);
  /* The canvas with the classroom's step-through card and minimap over it. */
  GtkWidget *hide_when_presenting[] = { self->palette, self->inspector };
  gtk_paned_set_start_child (GTK_PANED (vpaned),
                             gradus_teach_attach (GTK_WINDOW (self), GRADUS_CANVAS (self->canvas),
                                                  self->model, header, hide_when_presenting, 2));
  /* Never wider than the canvas column: its controls wrap, its plots shrink
   * and scroll inside it. */
  gtk_paned_set_end_child (GTK_PANED (vpaned), self->run_panel);
  /* The panel's height is the user's: set once from the window's, then kept. */
  self->run_paned = vpaned;
  g_signal_connect (vpaned, "notify::max-position", G_CALLBACK (run_paned_sized), self);
  gtk_paned_set_resize_end_child (GTK_PANED (vpaned), FALSE);
  gtk_paned_set_shrink_end_child (GTK_PANED (vpaned), TRUE);
  gtk_widget_insert_action_group (GTK_WIDGET (self), "run",
                                  gradus_run_panel_get_action_group (GRADUS_RUN_PANEL (self->run_panel)));
  /* The panel follows the model; the window never rebuilds it (results stay). */
  self->run_binding = gradus_run_binding_new (GRADUS_RUN_PANEL (self->run_panel));
  g_signal_connect (self->run_panel, "nan-found", G_CALLBACK (run_nan_found), self);
  g_signal_connect (self->run_panel, "finished", G_CALLBACK (run_finished), self);
  g_signal_connect (self->run_panel, "cleared", G_CALLBACK (run_cleared), self);
  g_signal_connect (self->run_panel, "data-refused", G_CALLBACK (data_refused), self);
  gradus_keep_action_install (self);   /* win.keep-trained */

  GtkWidget *inner = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
  gtk_paned_set_start_child (GTK_PANED (inner), vpaned);
  /* The document's description heads the inspector's column: the canvas
   * column keeps its height for the graph and the run panel. */
  GtkWidget *side = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  self->lesson_bar = gradus_lesson_bar_new ();
  gtk_box_append (GTK_BOX (side), self->lesson_bar);
  gtk_widget_set_vexpand (self->inspector, TRUE);
  gtk_box_append (GTK_BOX (side), self->inspector);
  gtk_paned_set_end_child (GTK_PANED (inner), side);
  gtk_paned_set_resize_end_child (GTK_PANED (inner), FALSE);
  gtk_paned_set_shrink_end_child (GTK_PANED (inner), FALSE);
  GtkWidget *outer = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
  gtk_paned_set_start_child (GTK_PANED (outer), self->palette);
  gtk_paned_set_end_child (GTK_PANED (outer), inner);
  gtk_paned_set_resize_start_child (GTK_PANED (outer), FALSE);
  gtk_paned_set_shrink_start_child (GTK_PANED (outer), FALSE);
  gtk_widget_set_vexpand (outer, TRUE);

  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_box_append (GTK_BOX (box), header);
  gtk_box_append (GTK_BOX (box), outer);
  self->toasts = adw_toast_overlay_new ();
  adw_toast_overlay_set_child (ADW_TOAST_OVERLAY (self->toasts), box);
  adw_application_window_set_content (ADW_APPLICATION_WINDOW (self), self->toasts);

  /* Edit keys act on the canvas only, so that they keep their meaning in text fields. */
  GtkEventController *sc = gtk_shortcut_controller_new ();
  add_canvas_shortcut (GTK_SHORTCUT_CONTROLLER (sc), "Delete|BackSpace", "win.delete");
  add_canvas_shortcut (GTK_SHORTCUT_CONTROLLER (sc), "<Control>c", "win.copy");
  add_canvas_shortcut (GTK_SHORTCUT_CONTROLLER (sc), "<Control>x", "win.cut");
  add_canvas_shortcut (GTK_SHORTCUT_CONTROLLER (sc), "<Control>v", "win.paste");
  add_canvas_shortcut (GTK_SHORTCUT_CONTROLLER (sc), "<Control>a", "win.select-all");
  add_canvas_shortcut (GTK_SHORTCUT_CONTROLLER (sc), "<Control>d", "win.duplicate");
  add_canvas_shortcut (GTK_SHORTCUT_CONTROLLER (sc), "plus|equal", "win.zoom-in");
  add_canvas_shortcut (GTK_SHORTCUT_CONTROLLER (sc), "minus", "win.zoom-out");
  gtk_widget_add_controller (self->canvas, sc);

  g_signal_connect_swapped (self->canvas, "selection-changed", G_CALLBACK (selection_changed), self);
  g_signal_connect_swapped (self->canvas, "message", G_CALLBACK (canvas_message), self);
  g_signal_connect_swapped (self->model, "changed", G_CALLBACK (update_actions), self);
  g_signal_connect_swapped (self->model, "notify::modified", G_CALLBACK (update_title), self);
  g_signal_connect_swapped (self->model, "notify::path", G_CALLBACK (update_title), self);

  GtkDropTarget *dt = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (dt, "drop", G_CALLBACK (file_dropped), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (dt));

  fill_recent (self);
  g_signal_connect_object (gtk_recent_manager_get_default (), "changed", G_CALLBACK (fill_recent),
                           self, G_CONNECT_SWAPPED);
  self->autosave_source = g_timeout_add_seconds (5, autosave_tick, self);
  load_model (self);
  gradus_settings_attach_window (GTK_WINDOW (self), self->run_panel);
}

GradusLessonBar *
gradus_window_get_lesson_bar (GradusWindow *self)
{
  return GRADUS_LESSON_BAR (self->lesson_bar);
}

GradusWindow *
gradus_window_new (GtkApplication *app)
{
  return g_object_new (GRADUS_TYPE_WINDOW, "application", app, NULL);
}
