/* test-ui-soak.c: a long randomised editing session on the real window, with
 * real pointer and key input (XTest under Xvfb): add, wire (and have wires
 * refused), type values into the inspector (good and bad), undo, redo,
 * delete, drag, select, duplicate, copy and paste, show gradients, run, step,
 * reset. Under G_DEBUG=fatal-criticals any critical aborts the test; under
 * -Db_sanitize=address,undefined any use after free does.
 *
 * GRADUS_SOAK_ACTIONS (default 200) sets the length, GRADUS_SOAK_SEED the
 * seed (default 10; printed, so that a failure can be replayed). */
#include "gradus-window.h"
#include "gradus-run-panel.h"
#include "ui-test-util.h"
#include "ui-xtest.h"

#include <math.h>
#include <string.h>

typedef enum {
  ACT_ADD, ACT_WIRE, ACT_TYPE_VALUE, ACT_APPLY_VALUE, ACT_UNDO, ACT_REDO, ACT_DELETE,
  ACT_MOVE, ACT_SELECT, ACT_RUBBER, ACT_DUPLICATE, ACT_COPY_PASTE, ACT_GRADIENT, ACT_RUN,
  ACT_STEP, ACT_RESET, ACT_FIT, ACT_PAN, N_ACTS
} Act;

static const char *const act_names[N_ACTS] = {
  "add", "wire", "type-value", "apply-value", "undo", "redo", "delete", "move", "select",
  "rubber", "duplicate", "copy-paste", "gradient", "run", "step", "reset", "fit", "pan",
};
/* How often each comes, out of the sum. */
static const guint act_weights[N_ACTS] = {
  8, 14, 8, 8, 8, 5, 4, 8, 8, 3, 2, 2, 2, 5, 3, 2, 2, 2,
};

static const char *const add_payloads[] = {
  "variable", "constant", "shared", "grad", "op:add", "op:mul", "op:sub", "op:exp", "op:log",
  "op:sum", "op:tanh", "op:dot", "op:pow", "op:neg",
};

/* Field keys with good and bad texts; a key the node lacks is refused too. */
static const char *const field_texts[][2] = {
  { "name", "a name" }, { "name", "" }, { "dtype", "float64" }, { "dtype", "float16" },
  { "dtype", "int32" }, { "shape", "[3]" }, { "shape", "[]" }, { "shape", "[-1, x]" },
  { "value", "2.5" }, { "value", "[1, 2, 3]" }, { "value", "nan" }, { "value", "[[1], [2, 3]]" },
  { "id", "renamed" }, { "id", "" }, { "id", "x" }, { "init", "zeros" }, { "init", "bogus" },
  { "attrs.axis", "0" }, { "attrs.axis", "seven" }, { "update", "a_next" }, { "update", "nope" },
  { "function.inputs", "true" }, { "function.outputs", "true" }, { "feed", "1.0" },
  { "feed", "{not json" },
};

typedef struct {
  GradusWindow *w;
  GRand        *rand;
  guint         counts[N_ACTS];
  guint         refused;
  guint         max_nodes;   /* the largest graph of the session */
} Soak;

static GradusScene *
scene_of (Soak *s)
{
  return gradus_canvas_get_scene (gradus_window_get_canvas (s->w));
}

/* Whether graph point (gx, gy) is on the visible canvas (not under a panel). */
static gboolean
on_canvas (Soak *s, double gx, double gy)
{
  GradusCanvas *c = gradus_window_get_canvas (s->w);
  double ox, oy;
  gradus_canvas_widget_to_graph (c, 0, 0, &ox, &oy);
  double z = gradus_canvas_get_zoom (c);
  double wx = (gx - ox) * z, wy = (gy - oy) * z;
  /* Not on the very edge: the paned handles take presses there. */
  return wx > 8 && wy > 8 && wx < gtk_widget_get_width (GTK_WIDGET (c)) - 8 &&
         wy < gtk_widget_get_height (GTK_WIDGET (c)) - 8;
}

/* A random node of the scene that is on screen, or -1. */
static gint
pick_node (Soak *s, gboolean writable)
{
  GradusScene *scene = scene_of (s);
  if (!scene || scene->nodes->len == 0)
    return -1;
  for (int tries = 0; tries < 8; tries++) {
    gint i = g_rand_int_range (s->rand, 0, scene->nodes->len);
    GradusSceneNode *n = scene->nodes->pdata[i];
    if ((!writable || !n->readonly) && on_canvas (s, n->x + n->w / 2, n->y + 10))
      return i;
  }
  return -1;
}

static void
click_graph (Soak *s, double gx, double gy)
{
  int rx, ry;
  ui_graph_to_root (s->w, gx, gy, &rx, &ry);
  ui_click_root (1, rx, ry);
}

/* Clicks a node's title: selects it (the inspector follows). */
static gboolean
select_node (Soak *s, gboolean writable, char **id)
{
  gint i = pick_node (s, writable);
  if (i < 0)
    return FALSE;
  GradusSceneNode *n = scene_of (s)->nodes->pdata[i];
  if (id)
    *id = g_strdup (n->id);
  click_graph (s, n->x + n->w / 2, n->y + 10);
  return TRUE;
}

static GtkWidget *
find_widget (GtkWidget *root, GType type, const char *action)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (root, type) && gtk_widget_get_mapped (root) &&
      (!action || (GTK_IS_ACTIONABLE (root) &&
                   g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (root)), action) == 0)))
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c)) {
    GtkWidget *f = find_widget (c, type, action);
    if (f)
      return f;
  }
  return NULL;
}

static void
act_wire (Soak *s)
{
  GradusScene *scene = scene_of (s);
  gint a = pick_node (s, FALSE), b = pick_node (s, TRUE);
  if (a < 0 || b < 0)
    return;
  GradusSceneNode *na = scene->nodes->pdata[a], *nb = scene->nodes->pdata[b];
  if (na->out_labels->len == 0 || nb->in_labels->len == 0)
    return;
  double x0, y0, x1, y1;
  gradus_scene_port_pos (scene, a, TRUE, g_rand_int_range (s->rand, 0, na->out_labels->len), &x0, &y0);
  gradus_scene_port_pos (scene, b, FALSE, g_rand_int_range (s->rand, 0, nb->in_labels->len), &x1, &y1);
  if (!on_canvas (s, x0, y0) || !on_canvas (s, x1, y1))
    return;
  GradusDocModel *m = gradus_window_get_model (s->w);
  gboolean could_undo = gradus_doc_model_can_undo (m);
  const char *label = could_undo ? gradus_doc_model_undo_label (m) : NULL;
  g_autofree char *before = g_strdup (label);
  /* Now and then from the input end, which picks a wire up first. */
  if (g_rand_boolean (s->rand))
    ui_drag_graph (s->w, 1, x0, y0, x1, y1, 5);
  else
    ui_drag_graph (s->w, 1, x1, y1, x0, y0, 5);
  if (g_strcmp0 (before, gradus_doc_model_undo_label (m)) == 0)
    s->refused++;
}

/* Types into the first entry of the inspector with the keyboard, then clicks
 * the canvas: focus leaves the entry, which applies the text in the middle of
 * the canvas's press (the crash of issue 10). */
static void
act_type_value (Soak *s)
{
  if (!select_node (s, TRUE, NULL))
    return;
  ui_xtest_spin (30);
  GtkWidget *inspector = GTK_WIDGET (gradus_window_get_inspector (s->w));
  GtkWidget *entry = find_widget (inspector, GTK_TYPE_TEXT, NULL);
  if (!entry || !ui_click_widget (GTK_WINDOW (s->w), entry))
    return;
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (s->w));
  g_debug ("soak: typing into %s in %s", focus ? G_OBJECT_TYPE_NAME (focus) : "nothing",
           focus && gtk_widget_get_parent (focus) ? G_OBJECT_TYPE_NAME (gtk_widget_get_parent (focus)) : "-");
  static const KeySym keys[] = { XK_1, XK_2, XK_period, XK_5, XK_x, XK_bracketleft,
                                 XK_bracketright, XK_comma, XK_minus, XK_BackSpace, XK_n };
  int n = g_rand_int_range (s->rand, 1, 5);
  for (int i = 0; i < n; i++)
    ui_tap (0, keys[g_rand_int_range (s->rand, 0, G_N_ELEMENTS (keys))]);
  if (g_rand_boolean (s->rand))
    ui_tap (0, XK_Return);
  /* Away from the entry: onto a node (selects another) or empty canvas. */
  gint i = pick_node (s, FALSE);
  if (i >= 0) {
    GradusSceneNode *nd = scene_of (s)->nodes->pdata[i];
    click_graph (s, nd->x + nd->w / 2, nd->y + 10);
  } else {
    GradusCanvas *c = gradus_window_get_canvas (s->w);
    int rx, ry;
    g_assert_true (ui_widget_to_root (GTK_WINDOW (s->w), GTK_WIDGET (c), 20, 20, &rx, &ry));
    ui_click_root (1, rx, ry);
  }
}

static void
act_apply_value (Soak *s)
{
  g_autofree char *id = NULL;
  if (!select_node (s, TRUE, &id))
    return;
  guint k = g_rand_int_range (s->rand, 0, G_N_ELEMENTS (field_texts));
  g_autoptr (GError) error = NULL;
  GradusInspector *insp = gradus_window_get_inspector (s->w);
  if (!gradus_inspector_get_node (insp))
    return;
  if (!gradus_inspector_apply (insp, field_texts[k][0], field_texts[k][1], &error))
    s->refused++;
}

static void
act_move (Soak *s)
{
  gint i = pick_node (s, FALSE);
  if (i < 0)
    return;
  GradusSceneNode *n = scene_of (s)->nodes->pdata[i];
  double x = n->x + n->w / 2, y = n->y + 10;
  double dx = g_rand_double_range (s->rand, -120, 120), dy = g_rand_double_range (s->rand, -80, 80);
  if (on_canvas (s, x + dx, y + dy))
    ui_drag_graph (s->w, 1, x, y, x + dx, y + dy, 4);
}

static void
act_rubber (Soak *s)
{
  GradusCanvas *c = gradus_window_get_canvas (s->w);
  double w = gtk_widget_get_width (GTK_WIDGET (c)), h = gtk_widget_get_height (GTK_WIDGET (c));
  double x0, y0, x1, y1;
  gradus_canvas_widget_to_graph (c, g_rand_double_range (s->rand, 12, w / 2),
                                 g_rand_double_range (s->rand, 12, h / 2), &x0, &y0);
  gradus_canvas_widget_to_graph (c, g_rand_double_range (s->rand, w / 2, w - 12),
                                 g_rand_double_range (s->rand, h / 2, h - 12), &x1, &y1);
  ui_drag_graph (s->w, 1, x0, y0, x1, y1, 4);
}

static void
press_panel (Soak *s, const char *action)
{
  GtkWidget *b = find_widget (gradus_window_get_run_panel (s->w), GTK_TYPE_BUTTON, action);
  if (b && gtk_widget_get_sensitive (b))
    ui_click_widget (GTK_WINDOW (s->w), b);
}

static void
do_action (Soak *s, Act a)
{
  GtkWidget *win = GTK_WIDGET (s->w);
  GradusCanvas *c = gradus_window_get_canvas (s->w);
  switch (a) {
  case ACT_ADD: {
    const char *p = add_payloads[g_rand_int_range (s->rand, 0, G_N_ELEMENTS (add_payloads))];
    gtk_widget_activate_action (win, "win.add-node", "s", p);
    break;
  }
  case ACT_WIRE: act_wire (s); break;
  case ACT_TYPE_VALUE: act_type_value (s); break;
  case ACT_APPLY_VALUE: act_apply_value (s); break;
  case ACT_UNDO: gtk_widget_activate_action (win, "win.undo", NULL); break;
  case ACT_REDO: gtk_widget_activate_action (win, "win.redo", NULL); break;
  case ACT_DELETE:
    if (select_node (s, TRUE, NULL))
      ui_tap (0, XK_Delete);
    break;
  case ACT_MOVE: act_move (s); break;
  case ACT_SELECT:
    if (g_rand_int_range (s->rand, 0, 4) == 0)
      ui_tap (0, XK_Escape);
    else
      select_node (s, FALSE, NULL);
    break;
  case ACT_RUBBER: act_rubber (s); break;
  case ACT_DUPLICATE:
    if (select_node (s, TRUE, NULL))
      ui_tap (XK_Control_L, XK_d);
    break;
  case ACT_COPY_PASTE:
    if (select_node (s, TRUE, NULL)) {
      ui_tap (XK_Control_L, XK_c);
      ui_tap (XK_Control_L, XK_v);
      ui_xtest_spin (50);
    }
    break;
  case ACT_GRADIENT: {
    gint i = pick_node (s, TRUE);
    GradusSceneNode *n = i >= 0 ? scene_of (s)->nodes->pdata[i] : NULL;
    if (n && n->kind == GRD_NODE_GRAD) {
      /* A double click folds the gradient graph out or back in. */
      int rx, ry;
      ui_graph_to_root (s->w, n->x + n->w / 2, n->y + 10, &rx, &ry);
      ui_click_root (1, rx, ry);
      ui_click_root (1, rx, ry);
    }
    break;
  }
  case ACT_RUN:
    gradus_run_panel_set_steps (GRADUS_RUN_PANEL (gradus_window_get_run_panel (s->w)),
                                g_rand_int_range (s->rand, 1, 20));
    press_panel (s, "run.run");
    break;
  case ACT_STEP: press_panel (s, "run.step"); break;
  case ACT_RESET: press_panel (s, "run.reset"); break;
  case ACT_FIT: gradus_canvas_zoom_to_fit (c); break;
  case ACT_PAN: {
    double cx, cy;
    gradus_canvas_get_view_centre (c, &cx, &cy);
    double dx = g_rand_double_range (s->rand, -60, 60), dy = g_rand_double_range (s->rand, -40, 40);
    ui_drag_graph (s->w, 2, cx, cy, cx + dx, cy + dy, 3);
    break;
  }
  default:
    g_assert_not_reached ();
  }
  s->counts[a]++;
}

static Act
draw_weighted (Soak *s)
{
  guint total = 0;
  for (int i = 0; i < N_ACTS; i++)
    total += act_weights[i];
  guint r = g_rand_int_range (s->rand, 0, total);
  for (int i = 0; i < N_ACTS; i++) {
    if (r < act_weights[i])
      return i;
    r -= act_weights[i];
  }
  return ACT_SELECT;
}

/* Bounded: past this many nodes whatever adds nodes becomes a delete, so that
 * a long session edits a graph of a classroom's size rather than an ever
 * bigger one. Duplicate and paste count: clicking a node of a rubber-band
 * selection keeps the whole selection, so each of them can double the graph
 * (unbounded, a 2000-action session reached thousands of nodes and crawled). */
#define MAX_NODES 40

static Act
draw_action (Soak *s)
{
  Act a = draw_weighted (s);
  gboolean adds = a == ACT_ADD || a == ACT_DUPLICATE || a == ACT_COPY_PASTE;
  if (adds && gradus_doc_model_n_nodes (gradus_window_get_model (s->w)) > MAX_NODES)
    return ACT_DELETE;
  return a;
}

static void
test_soak (void)
{
  const char *n_env = g_getenv ("GRADUS_SOAK_ACTIONS");
  const char *seed_env = g_getenv ("GRADUS_SOAK_SEED");
  guint n = n_env ? (guint) g_ascii_strtoull (n_env, NULL, 10) : 200;
  guint32 seed = seed_env ? (guint32) g_ascii_strtoull (seed_env, NULL, 10) : 10;
  g_test_message ("soak: %u actions, seed %u", n, seed);
  g_autofree char *path = g_build_filename (g_getenv ("GRADUS_SOURCE_DIR"), "data", "examples",
                                            "primer-3-linear-regression.gradus", NULL);
  Soak s = { .w = ui_open_window (path, 1280, 800), .rand = g_rand_new_with_seed (seed) };
  gradus_canvas_zoom_to_fit (gradus_window_get_canvas (s.w));
  ui_xtest_spin (100);
  gint64 t0 = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++) {
    Act a = draw_action (&s);
    g_debug ("soak %u: %s", i, act_names[a]);
    do_action (&s, a);
    s.max_nodes = MAX (s.max_nodes, gradus_doc_model_n_nodes (gradus_window_get_model (s.w)));
    /* Let idles and timeouts (the inspector, the run panel's debounce) run between actions. */
    ui_xtest_spin (g_rand_int_range (s.rand, 5, 60));
    if (i % 25 == 24)
      gradus_canvas_zoom_to_fit (gradus_window_get_canvas (s.w));
  }
  /* Let a last run finish, then everything still answers. */
  UI_TEST_SPIN_UNTIL (!gradus_run_panel_is_running (GRADUS_RUN_PANEL (gradus_window_get_run_panel (s.w))), 20);
  ui_xtest_spin (400);
  double secs = (g_get_monotonic_time () - t0) / 1e6;
  GString *summary = g_string_new (NULL);
  for (int i = 0; i < N_ACTS; i++)
    g_string_append_printf (summary, " %s=%u", act_names[i], s.counts[i]);
  g_test_message ("soak done: %u actions in %.1f s, %u refused; nodes now %u;%s", n, secs,
                  s.refused, gradus_doc_model_n_nodes (gradus_window_get_model (s.w)), summary->str);
  g_print ("# soak: %u actions (seed %u) in %.1f s, %u refused, at most %u nodes, 0 crashes, "
           "0 criticals\n", n, seed, secs, s.refused, s.max_nodes);
  g_string_free (summary, TRUE);
  guint done = 0;
  for (int i = 0; i < N_ACTS; i++)
    done += s.counts[i];
  g_assert_cmpuint (done, ==, n);
  /* A paste of a whole selection adds at most as many nodes as there are. */
  g_assert_cmpuint (s.max_nodes, <=, 2 * MAX_NODES + 2);
  /* Every kind of action came up at least once in a session this long. */
  for (int i = 0; n >= 200 && i < N_ACTS; i++)
    g_assert_cmpuint (s.counts[i], >, 0);
  gradus_doc_model_set_modified (gradus_window_get_model (s.w), FALSE);
  gtk_window_destroy (GTK_WINDOW (s.w));
  ui_xtest_spin (100);
  g_rand_free (s.rand);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  adw_init ();
  ui_xtest_init ();
  g_test_add_func ("/ui/soak/random-editing", test_soak);
  return g_test_run ();
}
