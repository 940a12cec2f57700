/* gradus-keyboard.c: moving, wiring and renaming on the canvas with keys
 * (see gradus-keyboard.h). It uses the canvas's public API only: the scene
 * for positions and ports, the selection, gradus_canvas_connect for wires
 * (which checks and explains them as a drop would). */
#include "gradus-keyboard.h"
#include "organise/gradus-organise-group-canvas.h"

#include <glib/gi18n.h>
#include <math.h>

typedef struct {
  GradusCanvas *canvas;   /* not a reference: this lives as the canvas's data */
  char         *wire_from;
  gint          port;     /* output of the selected node, or input while wiring */
  char         *port_node; /* the node `port` belongs to */
  gboolean      port_picked; /* ] or [ chose `port`: it is marked on the canvas */
} Keyboard;

static void
keyboard_free (gpointer data)
{
  Keyboard *k = data;
  g_free (k->wire_from);
  g_free (k->port_node);
  g_free (k);
}

static Keyboard *
keyboard_of (GradusCanvas *canvas)
{
  return g_object_get_data (G_OBJECT (canvas), "gradus-keyboard");
}

static void
say (Keyboard *k, const char *text)
{
  g_signal_emit_by_name (k->canvas, "message", text);
}

/* The selected node's index in the scene (the first one when several), or -1. */
static gint
selected_index (GradusScene *scene)
{
  for (guint i = 0; scene && i < scene->nodes->len; i++)
    if (((GradusSceneNode *) scene->nodes->pdata[i])->selected)
      return i;
  return -1;
}

static void
select_index (Keyboard *k, GradusScene *scene, gint i)
{
  /* A new selection is a new scene: `scene` is not to be used after this. */
  g_autofree char *id = g_strdup (((GradusSceneNode *) scene->nodes->pdata[i])->id);
  const char *ids[] = { id, NULL };
  gradus_canvas_set_selection (k->canvas, ids);
  /* The port cursor starts again on each node. */
  k->port = 0;
  k->port_picked = FALSE;
  g_free (k->port_node);
  k->port_node = g_steal_pointer (&id);
}

static int
compare_reading (gconstpointer a, gconstpointer b, gpointer scene_data)
{
  GradusScene *scene = scene_data;
  const GradusSceneNode *x = scene->nodes->pdata[*(const gint *) a];
  const GradusSceneNode *y = scene->nodes->pdata[*(const gint *) b];
  /* Rows of about a node's height, then left to right. */
  double rx = floor (x->y / 60), ry = floor (y->y / 60);
  if (rx != ry)
    return rx < ry ? -1 : 1;
  return (x->x > y->x) - (x->x < y->x);
}

static void
cycle_node (Keyboard *k, GradusScene *scene, gint direction)
{
  guint n = scene->nodes->len;
  if (n == 0)
    return;
  g_autofree gint *order = g_new (gint, n);
  for (guint i = 0; i < n; i++)
    order[i] = i;
  g_qsort_with_data (order, n, sizeof (gint), compare_reading, scene);
  gint current = selected_index (scene), at = -1;
  for (guint i = 0; i < n; i++)
    if (order[i] == current)
      at = i;
  gint next = at < 0 ? (direction > 0 ? 0 : (gint) n - 1) : ((at + direction + (gint) n) % (gint) n);
  select_index (k, scene, order[next]);
}

/* The nearest node whose centre lies that way (within 60 degrees of it). */
static void
step_towards (Keyboard *k, GradusScene *scene, double dx, double dy)
{
  gint current = selected_index (scene);
  if (current < 0) {
    cycle_node (k, scene, 1);
    return;
  }
  GradusSceneNode *from = scene->nodes->pdata[current];
  double fx = from->x + from->w / 2, fy = from->y + from->h / 2;
  gint best = -1;
  double best_cost = INFINITY;
  for (guint i = 0; i < scene->nodes->len; i++) {
    if ((gint) i == current)
      continue;
    GradusSceneNode *n = scene->nodes->pdata[i];
    double ox = n->x + n->w / 2 - fx, oy = n->y + n->h / 2 - fy;
    double along = ox * dx + oy * dy, across = fabs (ox * dy - oy * dx);
    if (along <= 0 || across > along * 1.8)
      continue;
    double cost = along + 2 * across;
    if (cost < best_cost) {
      best_cost = cost;
      best = i;
    }
  }
  if (best >= 0)
    select_index (k, scene, best);
}

/* The port cursor's node must be the selected one; otherwise it starts at 0. */
static void
sync_port (Keyboard *k, GradusSceneNode *n)
{
  if (g_strcmp0 (k->port_node, n->id) != 0) {
    g_free (k->port_node);
    k->port_node = g_strdup (n->id);
    k->port = 0;
    k->port_picked = FALSE;
  }
}

static const char *
port_label (GPtrArray *labels, gint port)
{
  return port >= 0 && (guint) port < labels->len ? labels->pdata[port] : "?";
}

static void
cycle_port (Keyboard *k, GradusScene *scene, gint direction)
{
  gint i = selected_index (scene);
  if (i < 0)
    return;
  GradusSceneNode *n = scene->nodes->pdata[i];
  sync_port (k, n);
  GPtrArray *labels = k->wire_from ? n->in_labels : n->out_labels;
  if (labels->len == 0) {
    say (k, k->wire_from ? _("This node has no inputs") : _("This node has no outputs"));
    return;
  }
  k->port = (k->port + direction + (gint) labels->len) % (gint) labels->len;
  k->port_picked = TRUE;
  gtk_widget_queue_draw (GTK_WIDGET (k->canvas));
  g_autofree char *text = g_strdup_printf (k->wire_from ? _("Input %s of %s") : _("Output %s of %s"),
                                           port_label (labels, k->port), n->title);
  say (k, text);
}

static void
enter (Keyboard *k, GradusScene *scene)
{
  gint i = selected_index (scene);
  if (i < 0) {
    say (k, _("Select a node first (Tab)"));
    return;
  }
  GradusSceneNode *n = scene->nodes->pdata[i];
  sync_port (k, n);
  /* Enter opens a group node, unless ] chose one of its outputs to wire from. */
  if (!k->wire_from && !k->port_picked) {
    g_autofree char *gid = g_strdup (n->id);
    if (gradus_group_canvas_open (GTK_WIDGET (k->canvas), gid))
      return;
  }
  if (!k->wire_from) {
    if (n->out_labels->len == 0) {
      say (k, _("This node has no outputs to wire from"));
      return;
    }
    k->wire_from = k->port == 0 ? g_strdup (n->id) : g_strdup_printf ("%s:%d", n->id, k->port);
    g_autofree char *text = g_strdup_printf (
      _("Wiring from %s: go to a node (Tab, arrows), pick its input with ] and press Enter"),
      n->title);
    /* The target's input cursor starts at its first input. */
    k->port = 0;
    g_free (k->port_node);
    k->port_node = g_strdup (n->id);
    say (k, text);
    return;
  }
  g_autofree char *from = g_steal_pointer (&k->wire_from);
  if (n->in_labels->len == 0) {
    say (k, _("This node has no inputs to wire to"));
    return;
  }
  /* The edit makes a new scene: what is said is made before it. */
  g_autofree char *id = g_strdup (n->id);
  g_autofree char *text = g_strdup_printf (_("Wired %s to input %s of %s"), from,
                                           port_label (n->in_labels, k->port), n->title);
  /* Refusals are told by the canvas, as for a dropped wire. */
  if (gradus_canvas_connect (k->canvas, from, id, k->port))
    say (k, text);
  k->port = 0;
}

static void
rename_activate (GtkEntry *entry, GtkWidget *popover)
{
  GradusCanvas *canvas = GRADUS_CANVAS (gtk_widget_get_parent (popover));
  const char *id = g_object_get_data (G_OBJECT (popover), "node");
  const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));
  g_autoptr (GError) error = NULL;
  JsonNode *value = *text ? json_node_init_string (json_node_alloc (), text) : NULL;
  if (!gradus_doc_model_set_member (gradus_canvas_get_model (canvas), id, "name", value, &error))
    g_signal_emit_by_name (canvas, "message", error->message);
  gtk_popover_popdown (GTK_POPOVER (popover));
}

static void
rename_closed (GtkPopover *popover, GtkWidget *canvas)
{
  gtk_widget_grab_focus (canvas);
  /* Not while GTK is still in the popover's own handlers. */
  g_idle_add_once ((GSourceOnceFunc) gtk_widget_unparent, popover);
}

static void
start_rename (Keyboard *k, GradusScene *scene)
{
  gint i = selected_index (scene);
  if (i < 0)
    return;
  GradusSceneNode *n = scene->nodes->pdata[i];
  if (n->readonly) {
    say (k, _("A node of a gradient graph cannot be renamed"));
    return;
  }
  GtkWidget *popover = gtk_popover_new ();
  GtkWidget *entry = gtk_entry_new ();
  gtk_editable_set_text (GTK_EDITABLE (entry), n->title);
  gtk_popover_set_child (GTK_POPOVER (popover), entry);
  g_object_set_data_full (G_OBJECT (popover), "node", g_strdup (n->id), g_free);
  gtk_widget_set_parent (popover, GTK_WIDGET (k->canvas));
  double ox, oy;
  gradus_canvas_widget_to_graph (k->canvas, 0, 0, &ox, &oy);
  double z = gradus_canvas_get_zoom (k->canvas);
  GdkRectangle at = { (int) ((n->x - ox) * z), (int) ((n->y - oy) * z), (int) (n->w * z), 20 };
  gtk_popover_set_pointing_to (GTK_POPOVER (popover), &at);
  g_signal_connect (entry, "activate", G_CALLBACK (rename_activate), popover);
  g_signal_connect (popover, "closed", G_CALLBACK (rename_closed), k->canvas);
  gtk_popover_popup (GTK_POPOVER (popover));
  gtk_widget_grab_focus (entry);
}

static gboolean
key_pressed (GtkEventControllerKey *controller, guint keyval, guint keycode,
             GdkModifierType state, Keyboard *k)
{
  /* Keys typed into something on the canvas (the rename entry) are its own. */
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (k->canvas));
  if (!root || gtk_root_get_focus (root) != GTK_WIDGET (k->canvas))
    return FALSE;
  GradusScene *scene = gradus_canvas_get_scene (k->canvas);
  if (!scene)
    return FALSE;
  gboolean alt = state & GDK_ALT_MASK, ctrl = state & GDK_CONTROL_MASK;
  if (ctrl)
    return FALSE;   /* Ctrl+Tab leaves the canvas; Ctrl+... are the window's */
  switch (keyval) {
  case GDK_KEY_Tab:
  case GDK_KEY_KP_Tab:
    cycle_node (k, scene, state & GDK_SHIFT_MASK ? -1 : 1);
    return TRUE;
  case GDK_KEY_ISO_Left_Tab:
    cycle_node (k, scene, -1);
    return TRUE;
  case GDK_KEY_Left: case GDK_KEY_Right: case GDK_KEY_Up: case GDK_KEY_Down:
    if (alt)
      return FALSE;   /* the canvas moves the selection */
    step_towards (k, scene, keyval == GDK_KEY_Left ? -1 : keyval == GDK_KEY_Right ? 1 : 0,
                  keyval == GDK_KEY_Up ? -1 : keyval == GDK_KEY_Down ? 1 : 0);
    return TRUE;
  case GDK_KEY_bracketright:
    cycle_port (k, scene, 1);
    return TRUE;
  case GDK_KEY_bracketleft:
    cycle_port (k, scene, -1);
    return TRUE;
  case GDK_KEY_Return:
  case GDK_KEY_KP_Enter:
    enter (k, scene);
    return TRUE;
  case GDK_KEY_Escape:
    if (!k->wire_from)
      return FALSE;
    g_clear_pointer (&k->wire_from, g_free);
    say (k, _("Wire cancelled"));
    return TRUE;
  case GDK_KEY_F2:
    start_rename (k, scene);
    return TRUE;
  default:
    return FALSE;
  }
}

void
gradus_keyboard_attach (GradusCanvas *canvas)
{
  g_return_if_fail (GRADUS_IS_CANVAS (canvas));
  Keyboard *k = g_new0 (Keyboard, 1);
  k->canvas = canvas;
  g_object_set_data_full (G_OBJECT (canvas), "gradus-keyboard", k, keyboard_free);
  GtkEventController *c = gtk_event_controller_key_new ();
  /* Ahead of the canvas's own keys (its arrows move nodes). */
  gtk_event_controller_set_propagation_phase (c, GTK_PHASE_CAPTURE);
  g_signal_connect (c, "key-pressed", G_CALLBACK (key_pressed), k);
  gtk_widget_add_controller (GTK_WIDGET (canvas), c);
}

const char *
gradus_keyboard_get_wire_source (GradusCanvas *canvas)
{
  Keyboard *k = keyboard_of (canvas);
  return k ? k->wire_from : NULL;
}

gint
gradus_keyboard_get_port (GradusCanvas *canvas)
{
  Keyboard *k = keyboard_of (canvas);
  return k ? k->port : -1;
}

char *
gradus_keyboard_dup_selected_output (GradusCanvas *canvas)
{
  Keyboard *k = keyboard_of (canvas);
  GradusScene *scene = gradus_canvas_get_scene (canvas);
  gint i = scene ? selected_index (scene) : -1;
  if (!k || i < 0)
    return NULL;
  GradusSceneNode *n = scene->nodes->pdata[i];
  if (n->readonly || n->out_labels->len == 0)
    return NULL;
  /* The port cursor counts outputs only while not wiring, on this node. */
  gint port = !k->wire_from && g_strcmp0 (k->port_node, n->id) == 0 ? k->port : 0;
  if (port < 0 || (guint) port >= n->out_labels->len)
    port = 0;
  if (n->kind == GRD_NODE_GRAD || port > 0)
    return g_strdup_printf ("%s:%d", n->id, port);
  return g_strdup (n->id);
}

void
gradus_keyboard_draw_mark (GradusCanvas *canvas, cairo_t *cr, GradusScene *scene, gboolean dark)
{
  Keyboard *k = keyboard_of (canvas);
  if (!k || !scene)
    return;
  /* The port ] and [ chose on the selected node; while wiring, the output
   * the wire starts from as well. */
  gint i = selected_index (scene);
  GradusSceneNode *n = i >= 0 ? scene->nodes->pdata[i] : NULL;
  gint from_k = 0;
  g_autofree char *from = k->wire_from ? gradus_ref_parse (k->wire_from, &from_k) : NULL;
  gint src = from ? gradus_scene_find (scene, from) : -1;
  typedef struct { gint node; gboolean output; gint port; } Mark;
  Mark marks[2];
  guint n_marks = 0;
  if (src >= 0)
    marks[n_marks++] = (Mark) { src, TRUE, from_k };
  if (n && g_strcmp0 (k->port_node, n->id) == 0 && (k->port_picked || k->wire_from)) {
    GPtrArray *labels = k->wire_from ? n->in_labels : n->out_labels;
    if (k->port >= 0 && (guint) k->port < labels->len)
      marks[n_marks++] = (Mark) { i, !k->wire_from, k->port };
  }
  for (guint m = 0; m < n_marks; m++) {
    double cx, cy;
    gradus_scene_port_pos (scene, marks[m].node, marks[m].output, marks[m].port, &cx, &cy);
    cairo_save (cr);
    cairo_new_path (cr);
    cairo_arc (cr, cx, cy, 11, 0, 2 * G_PI);
    cairo_set_source_rgba (cr, 0.96, 0.47, 0.0, dark ? 0.35 : 0.25);
    cairo_fill_preserve (cr);
    cairo_set_line_width (cr, 3);
    cairo_set_source_rgba (cr, 0.96, 0.47, 0.0, 1);
    cairo_stroke (cr);
    cairo_restore (cr);
  }
}

gboolean
gradus_keyboard_get_port_marked (GradusCanvas *canvas)
{
  Keyboard *k = keyboard_of (canvas);
  return k && (k->port_picked || k->wire_from);
}
