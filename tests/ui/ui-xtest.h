/* ui-xtest.h: real input for the window tests. GTK 4 cannot synthesise
 * events, so the X server's XTest extension (libXtst.so.6, loaded at run
 * time: no headers needed) moves the pointer, presses buttons and keys. */
#pragma once

#include "gradus-window.h"

#include <dlfcn.h>
#include <gdk/x11/gdkx.h>

typedef struct {
  int (*motion) (Display *, int, int, int, unsigned long);
  int (*button) (Display *, unsigned int, int, unsigned long);
  int (*key) (Display *, unsigned int, int, unsigned long);
} UiXTest;

static UiXTest ui_xtest;

static inline void
ui_xtest_init (void)
{
  g_assert_true (GDK_IS_X11_DISPLAY (gdk_display_get_default ()));
  void *lib = dlopen ("libXtst.so.6", RTLD_NOW);
  if (!lib)
    g_error ("libXtst.so.6 is needed to send input to Xvfb: %s", dlerror ());
  ui_xtest.motion = (int (*) (Display *, int, int, int, unsigned long)) dlsym (lib, "XTestFakeMotionEvent");
  ui_xtest.button = (int (*) (Display *, unsigned int, int, unsigned long)) dlsym (lib, "XTestFakeButtonEvent");
  ui_xtest.key = (int (*) (Display *, unsigned int, int, unsigned long)) dlsym (lib, "XTestFakeKeyEvent");
  g_assert_true (ui_xtest.motion && ui_xtest.button && ui_xtest.key);
  /* A key held past the server's repeat delay (a slow handler, a sanitizer
   * build) would otherwise repeat: one Ctrl+V became dozens of pastes. */
  Display *dpy = gdk_x11_display_get_xdisplay (gdk_display_get_default ());
  XAutoRepeatOff (dpy);
  XSync (dpy, False);
}

static inline Display *
ui_xdisplay (void)
{
  return gdk_x11_display_get_xdisplay (gdk_display_get_default ());
}

/* Iterates the main loop for `ms`, then handles whatever is still queued. */
static inline void
ui_xtest_spin (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;
  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  for (int i = 0; i < 1000 && g_main_context_pending (NULL); i++)
    g_main_context_iteration (NULL, FALSE);
}

/* Root-window position of point (x, y) of `widget` in window `w`. */
static inline gboolean
ui_widget_to_root (GtkWindow *w, GtkWidget *widget, double x, double y, int *rx, int *ry)
{
  graphene_point_t p = GRAPHENE_POINT_INIT (x, y), q;
  if (!gtk_widget_compute_point (widget, GTK_WIDGET (w), &p, &q))
    return FALSE;
  double sx, sy;
  gtk_native_get_surface_transform (GTK_NATIVE (w), &sx, &sy);
  Window child;
  int wx, wy;
  XTranslateCoordinates (ui_xdisplay (), gdk_x11_surface_get_xid (gtk_native_get_surface (GTK_NATIVE (w))),
                         DefaultRootWindow (ui_xdisplay ()), 0, 0, &wx, &wy, &child);
  *rx = wx + (int) (sx + q.x + 0.5);
  *ry = wy + (int) (sy + q.y + 0.5);
  return TRUE;
}

/* Root-window position of a graph point on the window's canvas. */
static inline void
ui_graph_to_root (GradusWindow *w, double gx, double gy, int *rx, int *ry)
{
  GradusCanvas *c = gradus_window_get_canvas (w);
  double ox, oy;
  gradus_canvas_widget_to_graph (c, 0, 0, &ox, &oy);
  double z = gradus_canvas_get_zoom (c);
  g_assert_true (ui_widget_to_root (GTK_WINDOW (w), GTK_WIDGET (c), (gx - ox) * z, (gy - oy) * z, rx, ry));
}

static inline void
ui_move_to (int x, int y)
{
  ui_xtest.motion (ui_xdisplay (), -1, x, y, 0);
  XSync (ui_xdisplay (), False);
  ui_xtest_spin (20);
}

static inline void
ui_button (unsigned int b, gboolean press)
{
  ui_xtest.button (ui_xdisplay (), b, press, 0);
  XSync (ui_xdisplay (), False);
  ui_xtest_spin (20);
}

static inline void
ui_key (KeySym sym, gboolean press)
{
  ui_xtest.key (ui_xdisplay (), XKeysymToKeycode (ui_xdisplay (), sym), press, 0);
  XSync (ui_xdisplay (), False);
  ui_xtest_spin (15);
}

/* Presses and releases `sym`, with `mod` (a modifier keysym, or 0) held. */
static inline void
ui_tap (KeySym mod, KeySym sym)
{
  if (mod)
    ui_key (mod, TRUE);
  ui_key (sym, TRUE);
  ui_key (sym, FALSE);
  if (mod)
    ui_key (mod, FALSE);
}

/* A click of button `b` at root position (x, y). */
static inline void
ui_click_root (unsigned int b, int x, int y)
{
  ui_move_to (x, y);
  ui_button (b, TRUE);
  ui_button (b, FALSE);
}

/* A click at the centre of `widget`. FALSE when it is not on screen. */
static inline gboolean
ui_click_widget (GtkWindow *w, GtkWidget *widget)
{
  int rx, ry;
  if (!gtk_widget_get_mapped (widget) ||
      !ui_widget_to_root (w, widget, gtk_widget_get_width (widget) / 2.0,
                          gtk_widget_get_height (widget) / 2.0, &rx, &ry))
    return FALSE;
  ui_click_root (1, rx, ry);
  return TRUE;
}

/* Presses `b` at graph point (x0, y0) and releases at (x1, y1), in `steps` moves. */
static inline void
ui_drag_graph (GradusWindow *w, unsigned int b, double x0, double y0, double x1, double y1,
               int steps)
{
  int ax, ay, bx, by;
  ui_graph_to_root (w, x0, y0, &ax, &ay);
  ui_graph_to_root (w, x1, y1, &bx, &by);
  ui_move_to (ax, ay);
  ui_button (b, TRUE);
  for (int i = 1; i <= steps; i++)
    ui_move_to (ax + (bx - ax) * i / steps, ay + (by - ay) * i / steps);
  ui_button (b, FALSE);
  ui_xtest_spin (30);
}

/* A window of this size, shown and mapped, with `path` open (NULL: empty). */
static inline GradusWindow *
ui_open_window (const char *path, int width, int height)
{
  GradusWindow *w = gradus_window_new (NULL);
  gtk_window_set_default_size (GTK_WINDOW (w), width, height);
  gtk_window_present (GTK_WINDOW (w));
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (!gtk_widget_get_mapped (GTK_WIDGET (w)) && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  if (path) {
    g_autoptr (GError) error = NULL;
    g_assert_true (gradus_window_open_path (w, path, &error));
  }
  ui_xtest_spin (300);
  return w;
}
