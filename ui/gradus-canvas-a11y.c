/* gradus-canvas-a11y.c: one accessible child widget per node of the canvas
 * (see the header for why widgets). The children are kept by node id, so an
 * update (every edit and selection change) relabels them in place and the
 * focused one keeps its focus. */
#include "gradus-canvas-a11y.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

/* ------------------------------------------------------------ the node widget */

#define GRADUS_TYPE_CANVAS_NODE (gradus_canvas_node_get_type ())
G_DECLARE_FINAL_TYPE (GradusCanvasNode, gradus_canvas_node, GRADUS, CANVAS_NODE, GtkWidget)

struct _GradusCanvasNode {
  GtkWidget parent_instance;
  char     *id;
  char     *label;        /* as last given to assistive technologies */
  gboolean  selected;
  gboolean  state_set;    /* the selected state given once at least */
  double    x, y, w, h;   /* the node's box in graph coordinates */
};

G_DEFINE_FINAL_TYPE (GradusCanvasNode, gradus_canvas_node, GTK_TYPE_WIDGET)

static void
gradus_canvas_node_finalize (GObject *object)
{
  g_free (GRADUS_CANVAS_NODE (object)->id);
  g_free (GRADUS_CANVAS_NODE (object)->label);
  G_OBJECT_CLASS (gradus_canvas_node_parent_class)->finalize (object);
}

static void
gradus_canvas_node_class_init (GradusCanvasNodeClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = gradus_canvas_node_finalize;
  gtk_widget_class_set_accessible_role (GTK_WIDGET_CLASS (klass), GTK_ACCESSIBLE_ROLE_BUTTON);
  gtk_widget_class_set_css_name (GTK_WIDGET_CLASS (klass), "gradus-canvas-node");
}

static void
gradus_canvas_node_init (GradusCanvasNode *self)
{
  /* Seen by assistive technologies and the keyboard, not by the pointer:
   * the canvas hit-tests its own drawing. */
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_can_target (GTK_WIDGET (self), FALSE);
}

/* ------------------------------------------------------------ labels */

static const char *
kind_name (GrdNodeKind kind)
{
  switch (kind) {
  case GRD_NODE_VARIABLE: return "variable";
  case GRD_NODE_CONSTANT: return "constant";
  case GRD_NODE_SHARED: return "shared";
  case GRD_NODE_GRAD: return "grad";
  case GRD_NODE_OP: return "op";
  default: return "node";
  }
}

/* "a  float64[3]" -> the part before or after the two spaces. */
static char *
port_part (const char *label, gboolean type)
{
  const char *sep = label ? strstr (label, "  ") : NULL;
  if (!sep)
    return g_strdup (type ? "" : label ? label : "");
  if (type) {
    while (*sep == ' ')
      sep++;
    return g_strdup (sep);
  }
  return g_strndup (label, sep - label);
}

/* What feeds input slot `port` of node `node`: "x", "g:1", or NULL. */
static char *
slot_source (GradusScene *scene, gint node, gint port)
{
  for (guint e = 0; e < scene->edges->len; e++) {
    const GradusSceneEdge *ed = &g_array_index (scene->edges, GradusSceneEdge, e);
    if (ed->to == node && ed->to_port == port && !ed->to_output)
      return gradus_scene_edge_source_ref (scene, e);
  }
  return NULL;
}

char *
gradus_canvas_a11y_node_label (GradusScene *scene, gint node)
{
  g_return_val_if_fail (scene && node >= 0 && (guint) node < scene->nodes->len, NULL);
  const GradusSceneNode *n = scene->nodes->pdata[node];
  const char *what = n->op ? n->op : kind_name (n->kind);
  GString *out = g_string_new (NULL);
  /* TRANSLATORS: an accessible label: "add node z", the op or kind, then the node's id. */
  g_string_append_printf (out, _("%s node %s"), what, n->id);
  if (n->title && !g_str_equal (n->title, n->id) && !g_str_equal (n->title, what))
    g_string_append_printf (out, " (%s)", n->title);

  guint n_in = n->in_labels->len;
  if (n_in) {
    GString *ins = g_string_new (NULL);
    for (guint p = 0; p < n_in; p++) {
      g_autofree char *slot = port_part (n->in_labels->pdata[p], FALSE);
      g_autofree char *src = slot_source (scene, node, (gint) p);
      if (ins->len)
        g_string_append (ins, ", ");
      if (src)
        /* TRANSLATORS: an input slot and the node output that feeds it: "a from x". */
        g_string_append_printf (ins, _("%s from %s"), slot, src);
      else
        g_string_append_printf (ins, _("%s not connected"), slot);
    }
    g_string_append (out, ", ");
    g_string_append_printf (out, ngettext ("input %s", "inputs %s", n_in), ins->str);
    g_string_free (ins, TRUE);
  }
  guint n_out = n->out_labels->len;
  if (n_out) {
    GString *outs = g_string_new (NULL);
    for (guint k = 0; k < n_out; k++) {
      g_autofree char *type = port_part (n->out_labels->pdata[k], TRUE);
      if (outs->len)
        g_string_append (outs, ", ");
      g_string_append (outs, *type ? type : "?");
    }
    g_string_append (out, ", ");
    g_string_append_printf (out, ngettext ("output %s", "outputs %s", n_out), outs->str);
    g_string_free (outs, TRUE);
  }
  if (n->readonly)
    g_string_append_printf (out, ", %s", _("derived by the engine"));
  if (n->error)
    g_string_append_printf (out, ", %s", n->error);
  return g_string_free (out, FALSE);
}

/* Where the outputs of node `node` go: "z.a, w.b" (a new string, maybe empty). */
static char *
node_targets (GradusScene *scene, gint node)
{
  GString *out = g_string_new (NULL);
  for (guint e = 0; e < scene->edges->len; e++) {
    const GradusSceneEdge *ed = &g_array_index (scene->edges, GradusSceneEdge, e);
    if (ed->from != node || ed->to_output || ed->to < 0)
      continue;
    const GradusSceneNode *t = scene->nodes->pdata[ed->to];
    g_autofree char *slot = (guint) ed->to_port < t->in_labels->len
                            ? port_part (t->in_labels->pdata[ed->to_port], FALSE) : g_strdup ("?");
    g_string_append_printf (out, "%s%s.%s", out->len ? ", " : "", t->id, slot);
  }
  return g_string_free (out, FALSE);
}

/* ------------------------------------------------------------ the children */

typedef struct {
  GradusCanvas *canvas;     /* owns this record */
  GHashTable   *children;   /* id -> GradusCanvasNode (the canvas' child) */
  char         *description;
  guint         idle;
} A11y;

static A11y *
get_a11y (GradusCanvas *canvas)
{
  return g_object_get_data (G_OBJECT (canvas), "gradus-canvas-a11y");
}

static void
a11y_free (A11y *a)
{
  g_clear_handle_id (&a->idle, g_source_remove);
  g_hash_table_unref (a->children);
  g_free (a->description);
  g_free (a);
}

/* The canvas goes: its children must go before it is finalised. */
static void
canvas_destroyed (GradusCanvas *canvas, A11y *a)
{
  g_clear_handle_id (&a->idle, g_source_remove);
  GHashTableIter it;
  gpointer child;
  g_hash_table_iter_init (&it, a->children);
  while (g_hash_table_iter_next (&it, NULL, &child)) {
    gtk_widget_unparent (child);
    g_hash_table_iter_remove (&it);
  }
}

static void
node_focused (GradusCanvasNode *node, GParamSpec *pspec, A11y *a)
{
  if (!gtk_widget_has_focus (GTK_WIDGET (node)))
    return;
  /* Keyboard focus on a node selects it: the inspector and the edit keys
   * follow, and the node's label is what a screen reader reads. */
  g_auto (GStrv) sel = gradus_canvas_dup_selection (a->canvas);
  if (sel[0] && !sel[1] && g_str_equal (sel[0], node->id))
    return;
  const char *ids[] = { node->id, NULL };
  gradus_canvas_set_selection (a->canvas, ids);
}

static void
describe_canvas (GradusCanvas *canvas, GradusScene *scene, char **last)
{
  g_autoptr (GString) d = g_string_new (NULL);
  guint n_nodes = scene ? scene->nodes->len : 0;
  guint n_wires = scene ? scene->edges->len : 0;
  g_string_append_printf (d, ngettext ("%u node", "%u nodes", n_nodes), n_nodes);
  g_string_append (d, ", ");
  g_string_append_printf (d, ngettext ("%u wire", "%u wires", n_wires), n_wires);
  gint selected = -1;
  guint n_selected = 0;
  for (guint i = 0; i < n_nodes; i++)
    if (((GradusSceneNode *) scene->nodes->pdata[i])->selected) {
      selected = (gint) i;
      n_selected++;
    }
  if (n_selected == 1) {
    g_autofree char *label = gradus_canvas_a11y_node_label (scene, selected);
    g_autofree char *targets = node_targets (scene, selected);
    g_string_append (d, ". ");
    g_string_append_printf (d, _("Selected: %s"), label);
    if (*targets) {
      g_string_append (d, "; ");
      g_string_append_printf (d, _("its output goes to %s"), targets);
    }
  } else if (n_selected > 1) {
    g_string_append (d, ". ");
    g_string_append_printf (d, ngettext ("%u node selected", "%u nodes selected", n_selected), n_selected);
  } else {
    g_string_append (d, ". ");
    g_string_append (d, _("Drag ports to connect; Tab moves between nodes"));
  }
  if (g_strcmp0 (*last, d->str) == 0)
    return;
  gtk_accessible_update_property (GTK_ACCESSIBLE (canvas), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  d->str, -1);
  g_free (*last);
  *last = g_strdup (d->str);
}

void
gradus_canvas_a11y_update (GradusCanvas *canvas)
{
  A11y *a = get_a11y (canvas);
  if (!a)
    return;
  g_clear_handle_id (&a->idle, g_source_remove);
  GradusScene *scene = gradus_canvas_get_scene (canvas);
  guint n = scene ? scene->nodes->len : 0;

  /* Gone nodes lose their child. */
  GHashTableIter it;
  gpointer key, child;
  g_hash_table_iter_init (&it, a->children);
  while (g_hash_table_iter_next (&it, &key, &child))
    if (!scene || gradus_scene_find (scene, key) < 0) {
      gtk_widget_unparent (child);
      g_hash_table_iter_remove (&it);
    }

  /* The others in the scene's order, which is Tab's order. */
  GtkWidget *prev = NULL;
  for (guint i = 0; i < n; i++) {
    const GradusSceneNode *sn = scene->nodes->pdata[i];
    GradusCanvasNode *node = g_hash_table_lookup (a->children, sn->id);
    if (!node) {
      node = g_object_new (GRADUS_TYPE_CANVAS_NODE, NULL);
      node->id = g_strdup (sn->id);
      g_signal_connect (node, "notify::has-focus", G_CALLBACK (node_focused), a);
      gtk_widget_insert_after (GTK_WIDGET (node), GTK_WIDGET (canvas), prev);
      g_hash_table_insert (a->children, g_strdup (sn->id), node);
    } else if (gtk_widget_get_prev_sibling (GTK_WIDGET (node)) != prev) {
      gtk_widget_insert_after (GTK_WIDGET (node), GTK_WIDGET (canvas), prev);
    }
    prev = GTK_WIDGET (node);
    node->x = sn->x;
    node->y = sn->y;
    node->w = sn->w;
    node->h = sn->h;
    /* Only what changed: a drag updates the scene at every step. */
    g_autofree char *label = gradus_canvas_a11y_node_label (scene, (gint) i);
    if (g_strcmp0 (label, node->label) != 0) {
      gtk_accessible_update_property (GTK_ACCESSIBLE (node), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
      g_free (node->label);
      node->label = g_steal_pointer (&label);
    }
    if (sn->selected != node->selected || !node->state_set) {
      gtk_accessible_update_state (GTK_ACCESSIBLE (node), GTK_ACCESSIBLE_STATE_SELECTED, sn->selected, -1);
      node->selected = sn->selected;
      node->state_set = TRUE;
    }
  }
  describe_canvas (canvas, scene, &a->description);
  gtk_widget_queue_allocate (GTK_WIDGET (canvas));
}

static gboolean
update_idle (gpointer data)
{
  A11y *a = data;
  a->idle = 0;
  gradus_canvas_a11y_update (a->canvas);
  return G_SOURCE_REMOVE;
}

void
gradus_canvas_a11y_queue_update (GradusCanvas *canvas)
{
  A11y *a = get_a11y (canvas);
  if (a && !a->idle)
    a->idle = g_idle_add (update_idle, a);
}

/* A coordinate as an int, far off-screen ones held in range. */
static int
to_pixels (double v)
{
  return isfinite (v) ? (int) CLAMP (v, -1e6, 1e6) : 0;
}

void
gradus_canvas_a11y_allocate (GradusCanvas *canvas)
{
  A11y *a = get_a11y (canvas);
  if (!a)
    return;
  /* Graph to widget coordinates, from the canvas' own inverse. */
  double gx0, gy0, gx1, gy1;
  gradus_canvas_widget_to_graph (canvas, 0, 0, &gx0, &gy0);
  gradus_canvas_widget_to_graph (canvas, 1, 1, &gx1, &gy1);
  double sx = gx1 != gx0 ? 1 / (gx1 - gx0) : 1, sy = gy1 != gy0 ? 1 / (gy1 - gy0) : 1;
  for (GtkWidget *c = gtk_widget_get_first_child (GTK_WIDGET (canvas)); c;
       c = gtk_widget_get_next_sibling (c)) {
    if (!GRADUS_IS_CANVAS_NODE (c))
      continue;
    GradusCanvasNode *node = GRADUS_CANVAS_NODE (c);
    int min, nat;
    gtk_widget_measure (c, GTK_ORIENTATION_HORIZONTAL, -1, &min, &nat, NULL, NULL);
    gtk_widget_measure (c, GTK_ORIENTATION_VERTICAL, -1, &min, &nat, NULL, NULL);
    GtkAllocation box = {
      .x = to_pixels (floor ((node->x - gx0) * sx)),
      .y = to_pixels (floor ((node->y - gy0) * sy)),
      .width = MAX (1, to_pixels (ceil (node->w * sx))),
      .height = MAX (1, to_pixels (ceil (node->h * sy))),
    };
    gtk_widget_size_allocate (c, &box, -1);
  }
}

GtkWidget *
gradus_canvas_a11y_get_node (GradusCanvas *canvas, const char *id)
{
  A11y *a = get_a11y (canvas);
  return a && id ? g_hash_table_lookup (a->children, id) : NULL;
}

void
gradus_canvas_a11y_attach (GradusCanvas *canvas)
{
  g_return_if_fail (GRADUS_IS_CANVAS (canvas));
  if (get_a11y (canvas))
    return;
  A11y *a = g_new0 (A11y, 1);
  a->canvas = canvas;
  a->children = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_object_set_data_full (G_OBJECT (canvas), "gradus-canvas-a11y", a, (GDestroyNotify) a11y_free);
  g_signal_connect (canvas, "destroy", G_CALLBACK (canvas_destroyed), a);
}
