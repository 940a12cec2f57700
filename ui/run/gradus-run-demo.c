/* gradus-run-demo.c: the run panel alone in a window on one graph file.
 *
 *   gradus-run-demo FILE [--steps N] [--run] [--size WxH] [--screenshot OUT.png]
 *
 * --run starts a run at once; --screenshot waits for the run (if any) to end,
 * writes the window as PNG and quits. */
#include "gradus-run-panel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  GtkWidget  *window;
  GtkWidget  *panel;
  const char *screenshot;
  gboolean    run;
  gboolean    quit;
  int         status;
} Demo;

static gboolean
save_png (gpointer data)
{
  Demo *demo = data;
  GtkWidget *widget = demo->window;
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  /* Not drawn yet (a slow start): try again a little later. */
  if (!gtk_widget_get_mapped (widget) || w <= 0 || h <= 0 || gradus_run_panel_is_running (GRADUS_RUN_PANEL (demo->panel)))
    return G_SOURCE_CONTINUE;
  GdkPaintable *paintable = gtk_widget_paintable_new (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, w, h);
  GskRenderNode *node = gtk_snapshot_free_to_node (snapshot);
  GskRenderer *renderer = gtk_native_get_renderer (GTK_NATIVE (widget));
  if (node && renderer) {
    GdkTexture *texture = gsk_renderer_render_texture (renderer, node,
                                                       &GRAPHENE_RECT_INIT (0, 0, w, h));
    if (!gdk_texture_save_to_png (texture, demo->screenshot)) {
      g_printerr ("could not write %s\n", demo->screenshot);
      demo->status = 1;
    }
    g_object_unref (texture);
  } else {
    g_printerr ("nothing to draw\n");
    demo->status = 1;
  }
  if (node)
    gsk_render_node_unref (node);
  g_object_unref (paintable);
  demo->quit = TRUE;
  return G_SOURCE_REMOVE;
}

static void
on_finished (GradusRunPanel *panel, int end, Demo *demo)
{
  if (demo->screenshot)
    g_timeout_add (300, save_png, demo);
}

static void
on_close (GtkWindow *window, Demo *demo)
{
  demo->quit = TRUE;
}

int
main (int argc, char **argv)
{
  Demo demo = { 0 };
  const char *file = NULL;
  gint64 steps = 0;
  int width = 1000, height = 800;
  for (int i = 1; i < argc; i++) {
    if (strcmp (argv[i], "--steps") == 0 && i + 1 < argc)
      steps = g_ascii_strtoll (argv[++i], NULL, 10);
    else if (strcmp (argv[i], "--screenshot") == 0 && i + 1 < argc)
      demo.screenshot = argv[++i];
    else if (strcmp (argv[i], "--size") == 0 && i + 1 < argc)
      sscanf (argv[++i], "%dx%d", &width, &height);
    else if (strcmp (argv[i], "--run") == 0)
      demo.run = TRUE;
    else
      file = argv[i];
  }
  if (!file) {
    g_printerr ("usage: gradus-run-demo FILE [--steps N] [--run] [--size WxH] "
                "[--screenshot OUT.png]\n");
    return 2;
  }
  gtk_init ();
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  if (!json_parser_load_from_file (parser, file, &error)) {
    g_printerr ("%s: %s\n", file, error->message);
    return 1;
  }
  demo.window = gtk_window_new ();
  gtk_window_set_title (GTK_WINDOW (demo.window), "Gradus run panel");
  gtk_window_set_default_size (GTK_WINDOW (demo.window), width, height);
  demo.panel = gradus_run_panel_new ();
  gtk_window_set_child (GTK_WINDOW (demo.window), demo.panel);
  g_signal_connect (demo.panel, "finished", G_CALLBACK (on_finished), &demo);
  g_signal_connect (demo.window, "destroy", G_CALLBACK (on_close), &demo);
  gradus_run_panel_set_document (GRADUS_RUN_PANEL (demo.panel), json_parser_get_root (parser),
                                 file);
  if (steps > 0)
    gradus_run_panel_set_steps (GRADUS_RUN_PANEL (demo.panel), steps);
  gtk_window_present (GTK_WINDOW (demo.window));
  if (demo.run)
    gradus_run_panel_run (GRADUS_RUN_PANEL (demo.panel), 0);
  else if (demo.screenshot)
    g_timeout_add (500, save_png, &demo);
  while (!demo.quit)
    g_main_context_iteration (NULL, TRUE);
  if (demo.window && !demo.quit)
    gtk_window_destroy (GTK_WINDOW (demo.window));
  return demo.status;
}
