/* gradus-scene.c: from the document to boxes, ports and wires.
 *
 * Positions come from the file's "ui" object; nodes without one get the
 * layered layout. The gradient graph of an expanded grad node is the set of
 * engine nodes whose owner is that grad node: laid out on their own and put
 * in a frame to the right of the forward graph. */
#include "gradus-scene.h"
#include "gradus-catalog.h"
#include "gradus-layout.h"
#include "organise/gradus-organise.h"
#include "organise/gradus-organise-groups.h"
#include "gradient/gradus-grad-view.h"
#include "scan/gradus-scan-zone.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

static void
scene_node_free (gpointer data)
{
  GradusSceneNode *n = data;
  g_free (n->id);
  g_free (n->title);
  g_free (n->subtitle);
  g_free (n->op);
  g_free (n->error);
  g_ptr_array_unref (n->in_labels);
  g_ptr_array_unref (n->out_labels);
  gradus_scan_box_free (n->scan);
  g_free (n);
}

static void
scene_group_free (gpointer data)
{
  GradusSceneGroup *g = data;
  g_free (g->title);
  g_free (g->grad_id);
  g_free (g);
}

void
gradus_scene_free (GradusScene *scene)
{
  if (!scene)
    return;
  g_ptr_array_unref (scene->nodes);
  g_array_unref (scene->edges);
  g_ptr_array_unref (scene->groups);
  g_hash_table_unref (scene->by_id);
  g_free (scene->title);
  g_free (scene->banner);
  g_clear_pointer (&scene->frames, g_ptr_array_unref);
  g_clear_pointer (&scene->comments, g_ptr_array_unref);
  gradus_scan_zone_free (scene->scan_zone);
  g_free (scene);
}

gint
gradus_scene_find (GradusScene *scene, const char *id)
{
  return GPOINTER_TO_INT (g_hash_table_lookup (scene->by_id, id)) - 1;
}

static const char *
str_member (JsonObject *o, const char *key)
{
  JsonNode *n = json_object_get_member (o, key);
  if (n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
    return json_node_get_string (n);
  return NULL;
}

static GrdNodeKind
kind_from_name (const char *kind)
{
  if (!kind)
    return GRD_NODE_OP;
  if (g_str_equal (kind, "variable"))
    return GRD_NODE_VARIABLE;
  if (g_str_equal (kind, "constant"))
    return GRD_NODE_CONSTANT;
  if (g_str_equal (kind, "shared"))
    return GRD_NODE_SHARED;
  if (g_str_equal (kind, "grad"))
    return GRD_NODE_GRAD;
  return GRD_NODE_OP;
}

static char *
ref_type_text (GrdGraph *graph, const char *ref)
{
  GrdRef r;
  if (!graph || !ref || !grd_graph_lookup (graph, ref, &r, NULL))
    return NULL;
  const GrdType *t = grd_graph_ref_type (graph, r);
  return t ? grd_type_describe (t) : NULL;
}

/* "float32[?,3]" from a variable's own JSON, for when the engine has no type. */
static char *
declared_type (JsonObject *o)
{
  const char *dtype = str_member (o, "dtype");
  JsonNode *shape = json_object_get_member (o, "shape");
  if (!dtype)
    return NULL;
  if (!shape || !JSON_NODE_HOLDS_ARRAY (shape))
    return g_strdup (dtype);
  GString *s = g_string_new (dtype);
  g_string_append_c (s, '[');
  JsonArray *a = json_node_get_array (shape);
  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonNode *d = json_array_get_element (a, i);
    if (i)
      g_string_append_c (s, ',');
    if (JSON_NODE_HOLDS_VALUE (d))
      g_string_append_printf (s, "%" G_GINT64_FORMAT, json_node_get_int (d));
    else
      g_string_append_c (s, '?');
  }
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

static char *
port_label (const char *name, const char *type)
{
  return type ? g_strdup_printf ("%s  %s", name, type) : g_strdup (name);
}

static gint
add_node (GradusScene *scene, GradusSceneNode *n)
{
  g_ptr_array_add (scene->nodes, n);
  g_hash_table_insert (scene->by_id, n->id, GINT_TO_POINTER (scene->nodes->len));
  return scene->nodes->len - 1;
}

static GradusSceneNode *
node_new (const char *id)
{
  GradusSceneNode *n = g_new0 (GradusSceneNode, 1);
  n->id = g_strdup (id);
  n->in_labels = g_ptr_array_new_with_free_func (g_free);
  n->out_labels = g_ptr_array_new_with_free_func (g_free);
  n->group = -1;
  n->update_from = -1;
  return n;
}

static void
size_node (GradusSceneNode *n)
{
  gradus_layout_node_size (n->title, n->subtitle, n->in_labels->len, n->out_labels->len, &n->w, &n->h);
  /* Port labels with long types need room too. */
  guint longest = 0;
  for (guint i = 0; i < n->in_labels->len; i++)
    longest = MAX (longest, strlen (n->in_labels->pdata[i]));
  for (guint i = 0; i < n->out_labels->len; i++)
    longest = MAX (longest, strlen (n->out_labels->pdata[i]));
  n->w = MAX (n->w, MIN (longest * 7.0 + 50.0, 360.0));
}

static void
add_edge (GradusScene *scene, gint from, gint from_port, gint to, gint to_port, gboolean to_output,
          gboolean derived)
{
  GradusSceneEdge e = { from, from_port, to, to_port, to_output, derived };
  g_array_append_val (scene->edges, e);
}

/* A value short enough to show on its node ("-1", "[1, 2, 3]", "4x3
 * values"), or NULL. */
static char *
value_text (JsonNode *v)
{
  if (!v)
    return NULL;
  if (JSON_NODE_HOLDS_VALUE (v)) {
    GType t = json_node_get_value_type (v);
    if (t == G_TYPE_DOUBLE || t == G_TYPE_INT64)
      return g_strdup_printf ("%.4g", json_node_get_double (v));
    if (t == G_TYPE_BOOLEAN)
      return g_strdup (json_node_get_boolean (v) ? "true" : "false");
    return NULL;
  }
  if (!JSON_NODE_HOLDS_ARRAY (v))
    return NULL;
  g_autofree char *text = json_to_string (v, FALSE);
  if (strlen (text) <= 24)
    return g_strdup (text);
  JsonArray *a = json_node_get_array (v);
  guint rows = json_array_get_length (a);
  JsonNode *first = rows ? json_array_get_element (a, 0) : NULL;
  if (first && JSON_NODE_HOLDS_ARRAY (first))
    return g_strdup_printf (_("%ux%u values"), rows, json_array_get_length (json_node_get_array (first)));
  return g_strdup_printf (_("%u values"), rows);
}

/* Updates of the function: shared node <- the node computing its next value. */
static void
link_updates (GradusScene *scene, GradusDocModel *model)
{
  for (guint i = 0; i < scene->nodes->len; i++) {
    GradusSceneNode *sn = scene->nodes->pdata[i];
    if (sn->kind != GRD_NODE_SHARED || sn->readonly)
      continue;
    const char *ref = gradus_doc_model_get_update (model, sn->id);
    gint k = 0;
    g_autofree char *src = ref ? gradus_ref_parse (ref, &k) : NULL;
    gint from = src ? gradus_scene_find (scene, src) : -1;
    if (from >= 0) {
      sn->update_from = from;
      sn->update_port = k;
    }
  }
}

/* The forward graph: one box per node of the file. */
static void
build_forward (GradusScene *scene, GradusDocModel *model, GHashTable *selection, GHashTable *expanded)
{
  GrdDocument *doc = gradus_doc_model_get_document (model);
  GrdGraph *graph = doc ? grd_document_graph (doc) : NULL;
  guint n = gradus_doc_model_n_nodes (model);
  for (guint i = 0; i < n; i++) {
    JsonObject *o = gradus_doc_model_node_at (model, i);
    const char *id = o ? str_member (o, "id") : NULL;
    if (!id || gradus_scene_find (scene, id) >= 0)
      continue;
    GradusSceneNode *sn = node_new (id);
    const char *kind = str_member (o, "kind"), *name = str_member (o, "name");
    sn->kind = kind_from_name (kind);
    sn->op = g_strdup (str_member (o, "op"));
    sn->title = g_strdup (name && *name ? name : id);
    g_autofree char *value = value_text (json_object_get_member (o, "value"));
    if (value)
      sn->subtitle = g_strdup_printf ("%s = %s", kind ? kind : "?", value);
    else
      sn->subtitle = g_strdup (sn->op ? sn->op : kind ? kind : "?");
    sn->selected = selection && g_hash_table_contains (selection, id);
    sn->fn_input = gradus_doc_model_in_function (model, "inputs", id);
    sn->fn_output = gradus_doc_model_in_function (model, "outputs", id);
    const char *err = gradus_doc_model_node_error (model, id);
    sn->error = g_strdup (err);

    gint slots = gradus_doc_model_node_n_slots (model, id);
    /* group nodes: their definition's port names (ui/organise) */
    g_autoptr (GPtrArray) gin = g_ptr_array_new_with_free_func (g_free);
    g_autoptr (GPtrArray) gout = g_ptr_array_new_with_free_func (g_free);
    gboolean is_group = g_strcmp0 (kind, "group") == 0 && gradus_group_ports (model, id, gin, gout);
    for (gint s = 0; s < slots; s++) {
      const char *ref = gradus_doc_model_node_slot_ref (model, id, s);
      g_autofree char *flat = gradus_group_flat_ref (model, ref);
      g_autofree char *type = ref_type_text (graph, flat ? flat : ref);
      g_autofree char *pname = NULL;
      if (is_group)
        pname = g_strdup ((guint) s < gin->len ? (const char *) gin->pdata[s] : "?");
      else if (gradus_scan_is_scan (o))
        pname = gradus_scan_slot_name (o, s);
      else if (sn->kind == GRD_NODE_GRAD)
        pname = s == 0 ? g_strdup ("cost") : s == slots - 1 ? g_strdup ("+ wrt") : g_strdup_printf ("wrt %d", s - 1);
      else if (gradus_catalog_arity (sn->op) == GRADUS_ARITY_VARIADIC && s == slots - 1)
        pname = g_strdup ("+");
      else
        pname = g_strdup (gradus_catalog_input_name (sn->op, s));
      g_ptr_array_add (sn->in_labels, port_label (pname, type));
    }
    gint idx = graph ? grd_graph_find (graph, id) : -1;
    gint n_out = sn->kind == GRD_NODE_GRAD ? MAX (slots - 2, 0)
                 : is_group ? (gint) gout->len
                 : idx >= 0 ? grd_graph_node_n_outputs (graph, idx) : 1;
    for (gint k = 0; k < n_out; k++) {
      g_autofree char *ref = g_strdup_printf ("%s:%d", id, k);
      g_autofree char *flat = gradus_group_flat_ref (model, ref);
      g_autofree char *type = ref_type_text (graph, flat ? flat : ref);
      if (!type && k == 0)
        type = declared_type (o);
      const char *wrt = sn->kind == GRD_NODE_GRAD ? gradus_doc_model_node_slot_ref (model, id, k + 1) : NULL;
      g_autofree char *pname = sn->kind == GRD_NODE_GRAD ? g_strdup_printf ("d/d %s", wrt ? wrt : "?")
                               : is_group ? g_strdup (gout->pdata[k])
                               : gradus_scan_is_scan (o) ? gradus_scan_output_name (o, k)
                               : n_out > 1 ? g_strdup_printf ("out %d", k) : g_strdup ("out");
      g_ptr_array_add (sn->out_labels, port_label (pname, type ? type : "?"));
    }
    size_node (sn);
    gradus_scan_scene_node (sn, o, model, expanded);   /* zones, histograms: their room */
    add_node (scene, sn);
  }

  /* Wires, now that every box has an index. */
  for (guint t = 0; t < scene->nodes->len; t++) {
    GradusSceneNode *sn = scene->nodes->pdata[t];
    for (guint s = 0; s < sn->in_labels->len; s++) {
      const char *ref = gradus_doc_model_node_slot_ref (model, sn->id, s);
      gint k;
      g_autofree char *src = ref ? gradus_ref_parse (ref, &k) : NULL;
      gint from = src ? gradus_scene_find (scene, src) : -1;
      if (from >= 0)
        add_edge (scene, from, k, t, s, FALSE, FALSE);
    }
  }

  /* Positions: the file's, else the layered layout (below what has one). */
  guint m = scene->nodes->len;
  g_autofree double *w = g_new0 (double, m + 1), *h = g_new0 (double, m + 1);
  g_autofree double *x = g_new0 (double, m + 1), *y = g_new0 (double, m + 1);
  g_autoptr (GPtrArray) deps = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  for (guint i = 0; i < m; i++) {
    GradusSceneNode *sn = scene->nodes->pdata[i];
    w[i] = sn->w;
    h[i] = sn->h;
    g_ptr_array_add (deps, g_array_new (FALSE, FALSE, sizeof (gint)));
  }
  for (guint e = 0; e < scene->edges->len; e++) {
    GradusSceneEdge *ed = &g_array_index (scene->edges, GradusSceneEdge, e);
    g_array_append_val ((GArray *) deps->pdata[ed->to], ed->from);
  }
  gradus_layout_layered (m, w, h, deps, 40, 40, x, y);
  double bottom = -G_MAXDOUBLE, left = G_MAXDOUBLE;
  gboolean any = FALSE;
  for (guint i = 0; i < m; i++) {
    GradusSceneNode *sn = scene->nodes->pdata[i];
    if (gradus_doc_model_get_position (model, sn->id, &sn->x, &sn->y)) {
      bottom = MAX (bottom, sn->y + sn->h);
      left = MIN (left, sn->x);
      any = TRUE;
    }
  }
  for (guint i = 0; i < m; i++) {
    GradusSceneNode *sn = scene->nodes->pdata[i];
    double px, py;
    if (gradus_doc_model_get_position (model, sn->id, &px, &py))
      continue;
    sn->x = any ? x[i] - 40 + left : x[i];
    sn->y = any ? y[i] - 40 + bottom + 60 : y[i];
  }
}

/* The gradient graph that the engine derived for grad node `grad_id`. */
/* Frames go below the forward graph when it is wide, to its right when it is
 * tall; `*gx`, `*gy` is where the next frame goes. */
static void
build_gradient (GradusScene *scene, GrdGraph *graph, GradusDocModel *model, const char *grad_id,
                gboolean below, double *gx, double *gy)
{
  gint gidx = grd_graph_find (graph, grad_id);
  gint gscene = gradus_scene_find (scene, grad_id);
  if (gidx < 0 || gscene < 0)
    return;
  /* simplified and named as the user reads it (ui/gradient) */
  g_autoptr (GradusGradView) view = gradus_grad_view_new (graph, gidx, model);
  gint group = scene->groups->len;
  guint first = scene->nodes->len;
  g_autoptr (GHashTable) local = g_hash_table_new (NULL, NULL);   /* engine index -> scene index + 1 */
  gint n_nodes = grd_graph_n_nodes (graph);
  for (gint i = 0; i < n_nodes; i++) {
    if (grd_graph_node_owner (graph, i) != gidx)
      continue;
    const char *id = grd_graph_node_id (graph, i);
    if (gradus_scene_find (scene, id) >= 0 || !gradus_grad_view_shown (view, i))
      continue;
    GradusSceneNode *sn = node_new (id);
    sn->kind = grd_graph_node_kind (graph, i);
    sn->op = g_strdup (grd_graph_node_op (graph, i));
    /* Engine ids of derived nodes say nothing: named after what they differentiate. */
    sn->title = gradus_grad_view_title (view, i);
    sn->subtitle = gradus_grad_view_subtitle (view, i);
    sn->group = group;
    sn->readonly = TRUE;
    for (gint s = 0; s < grd_graph_node_n_inputs (graph, i); s++) {
      GrdRef r = grd_graph_node_input (graph, i, s);
      const GrdType *t = grd_graph_ref_type (graph, r);
      g_autofree char *type = t ? grd_type_describe (t) : NULL;
      /* a derived scan (backpropagation through time) has many inputs: numbered */
      g_autofree char *pname = gradus_scan_derived_port_name (sn->op, FALSE, s, grd_graph_node_n_inputs (graph, i));
      g_ptr_array_add (sn->in_labels, port_label (pname ? pname : gradus_catalog_input_name (sn->op, s), type));
    }
    for (gint k = 0; k < grd_graph_node_n_outputs (graph, i); k++) {
      g_autofree char *type = grd_type_describe (grd_graph_node_type (graph, i, k));
      g_autofree char *pname = gradus_scan_derived_port_name (sn->op, TRUE, k, grd_graph_node_n_outputs (graph, i));
      g_ptr_array_add (sn->out_labels, port_label (pname ? pname : "out", type));
    }
    size_node (sn);
    gint si = add_node (scene, sn);
    g_hash_table_insert (local, GINT_TO_POINTER (i), GINT_TO_POINTER (si + 1));
  }
  guint m = scene->nodes->len - first;
  if (m == 0)
    return;

  g_autofree double *w = g_new0 (double, m), *h = g_new0 (double, m);
  g_autofree double *x = g_new0 (double, m), *y = g_new0 (double, m);
  g_autoptr (GPtrArray) deps = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  for (guint j = 0; j < m; j++) {
    GradusSceneNode *sn = scene->nodes->pdata[first + j];
    gint i = grd_graph_find (graph, sn->id);
    w[j] = sn->w;
    h[j] = sn->h;
    GArray *d = g_array_new (FALSE, FALSE, sizeof (gint));
    for (gint s = 0; s < grd_graph_node_n_inputs (graph, i); s++) {
      GrdRef r = gradus_grad_view_resolve (view, grd_graph_node_input (graph, i, s));
      gint from = GPOINTER_TO_INT (g_hash_table_lookup (local, GINT_TO_POINTER (r.node))) - 1;
      if (from < 0 && r.node >= 0)
        from = gradus_scene_find (scene, grd_graph_node_id (graph, r.node));
      if (from < 0)
        continue;
      add_edge (scene, from, r.output, first + j, s, FALSE, TRUE);
      gint lj = from - (gint) first;
      if (lj >= 0)
        g_array_append_val (d, lj);
    }
    g_ptr_array_add (deps, d);
  }
  const double pad = 24, title_h = 28;
  gradus_layout_layered (m, w, h, deps, *gx + pad, *gy + pad + title_h, x, y);
  double right = *gx, bottom = *gy;
  for (guint j = 0; j < m; j++) {
    GradusSceneNode *sn = scene->nodes->pdata[first + j];
    sn->x = x[j];
    sn->y = y[j];
    right = MAX (right, sn->x + sn->w);
    bottom = MAX (bottom, sn->y + sn->h);
  }
  /* Dashed links from each derivative to the grad node's output it becomes. */
  gint n_out = ((GradusSceneNode *) scene->nodes->pdata[gscene])->out_labels->len;
  for (gint k = 0; k < n_out; k++) {
    GrdRef r = grd_graph_grad_output (graph, gidx, k);
    if (grd_ref_is_none (r))
      continue;
    r = gradus_grad_view_resolve (view, r);
    gint from = GPOINTER_TO_INT (g_hash_table_lookup (local, GINT_TO_POINTER (r.node))) - 1;
    if (from >= 0)
      add_edge (scene, from, r.output, gscene, k, TRUE, TRUE);
  }
  GradusSceneGroup *g = g_new0 (GradusSceneGroup, 1);
  g->grad_id = g_strdup (grad_id);
  GradusSceneNode *gn = scene->nodes->pdata[gscene];
  g->title = g_strdup_printf (ngettext ("Gradient graph of %s (%u node, derived by the engine)", "Gradient graph of %s (%u nodes, derived by the engine)", m), gn->title, m);
  g->x = *gx;
  g->y = *gy;
  g->w = MAX (right + pad - *gx, strlen (g->title) * 7.5 + 2 * pad);
  g->h = bottom + pad - *gy;
  g_ptr_array_add (scene->groups, g);
  if (below)
    *gy = bottom + pad + 40;
  else
    *gx = g->x + g->w + 40;
}

GradusScene *
gradus_scene_new (GradusDocModel *model, GHashTable *expanded, GHashTable *selection)
{
  GradusScene *scene = g_new0 (GradusScene, 1);
  scene->nodes = g_ptr_array_new_with_free_func (scene_node_free);
  scene->edges = g_array_new (FALSE, FALSE, sizeof (GradusSceneEdge));
  scene->groups = g_ptr_array_new_with_free_func (scene_group_free);
  scene->by_id = g_hash_table_new (g_str_hash, g_str_equal);
  scene->title = gradus_doc_model_dup_title (model);
  if (gradus_doc_model_get_build_error (model))
    scene->banner = g_strdup (gradus_doc_model_get_build_error (model));

  build_forward (scene, model, selection, expanded);
  gradus_scan_scene_zone (scene, model);   /* an open scan body: its frame and border */
  link_updates (scene, model);
  scene->frames = gradus_organise_frames (model);
  scene->comments = gradus_organise_comments (model);

  GrdDocument *doc = gradus_doc_model_get_document (model);
  if (expanded && doc && g_hash_table_size (expanded) > 0) {
    double bx, by, bw, bh;
    if (!gradus_scene_bounds (scene, &bx, &by, &bw, &bh))
      bx = by = bw = bh = 0;
    gboolean below = bw > bh;
    double gx = below ? bx : bx + bw + 100, gy = below ? by + bh + 80 : by;
    /* In file order, so the frames do not jump around between rebuilds. */
    guint n_forward = scene->nodes->len;
    for (guint i = 0; i < n_forward; i++) {
      GradusSceneNode *sn = scene->nodes->pdata[i];
      if (sn->kind == GRD_NODE_GRAD && !sn->error && g_hash_table_contains (expanded, sn->id))
        build_gradient (scene, grd_document_graph (doc), model, sn->id, below, &gx, &gy);
    }
  }
  return scene;
}

gboolean
gradus_scene_bounds (GradusScene *scene, double *x, double *y, double *w, double *h)
{
  double x0 = G_MAXDOUBLE, y0 = G_MAXDOUBLE, x1 = -G_MAXDOUBLE, y1 = -G_MAXDOUBLE;
  for (guint i = 0; i < scene->nodes->len; i++) {
    GradusSceneNode *n = scene->nodes->pdata[i];
    x0 = MIN (x0, n->x);
    y0 = MIN (y0, n->y);
    x1 = MAX (x1, n->x + n->w);
    /* Room for an error message under the box. */
    y1 = MAX (y1, n->y + n->h + (n->error ? 40 : 0));
  }
  for (guint i = 0; i < scene->groups->len; i++) {
    GradusSceneGroup *g = scene->groups->pdata[i];
    x0 = MIN (x0, g->x);
    y0 = MIN (y0, g->y);
    x1 = MAX (x1, g->x + g->w);
    y1 = MAX (y1, g->y + g->h);
  }
  double zx, zy, zw, zh;
  if (gradus_scan_zone_rect (scene, &zx, &zy, &zw, &zh)) {
    x0 = MIN (x0, zx), y0 = MIN (y0, zy);
    x1 = MAX (x1, zx + zw), y1 = MAX (y1, zy + zh);
  }
  for (guint i = 0; scene->frames && i < scene->frames->len; i++) {
    GradusFrame *f = scene->frames->pdata[i];
    x0 = MIN (x0, f->x);
    y0 = MIN (y0, f->y);
    x1 = MAX (x1, f->x + f->w);
    y1 = MAX (y1, f->y + f->h);
  }
  for (guint i = 0; scene->comments && i < scene->comments->len; i++) {
    GradusComment *c = scene->comments->pdata[i];
    double cw, ch;
    gradus_organise_comment_size (c, &cw, &ch);
    x0 = MIN (x0, c->x);
    y0 = MIN (y0, c->y);
    x1 = MAX (x1, c->x + cw);
    y1 = MAX (y1, c->y + ch);
  }
  if (x0 > x1)
    return FALSE;
  *x = x0;
  *y = y0;
  *w = x1 - x0;
  *h = y1 - y0;
  return TRUE;
}

void
gradus_scene_port_pos_of (const GradusSceneNode *n, gboolean output, gint port, double *x,
                          double *y)
{
  /* Outputs sit in the rows below the inputs, so labels never collide. */
  *x = output ? n->x + n->w : n->x;
  *y = n->y + gradus_layout_port_y (output ? (gint) n->in_labels->len + port : port);
}

void
gradus_scene_port_pos (GradusScene *scene, gint node, gboolean output, gint port, double *x,
                       double *y)
{
  gradus_scene_port_pos_of (scene->nodes->pdata[node], output, port, x, y);
}

gint
gradus_scene_hit_node (GradusScene *scene, double x, double y)
{
  for (gint i = scene->nodes->len - 1; i >= 0; i--) {
    GradusSceneNode *n = scene->nodes->pdata[i];
    if (x >= n->x && x <= n->x + n->w && y >= n->y && y <= n->y + n->h)
      return i;
  }
  return -1;
}

gint
gradus_scene_hit_port (GradusScene *scene, double x, double y, gboolean *output, gint *port)
{
  const double r2 = 10.0 * 10.0;
  for (gint i = scene->nodes->len - 1; i >= 0; i--) {
    GradusSceneNode *n = scene->nodes->pdata[i];
    for (gint side = 0; side < 2; side++) {
      GPtrArray *labels = side ? n->out_labels : n->in_labels;
      for (guint k = 0; k < labels->len; k++) {
        double px, py;
        gradus_scene_port_pos (scene, i, side, k, &px, &py);
        if ((x - px) * (x - px) + (y - py) * (y - py) <= r2) {
          *output = side;
          *port = k;
          return i;
        }
      }
    }
  }
  return -1;
}

/* ------------------------------------------------------------ wires */

void
gradus_scene_edge_point (GradusScene *scene, guint edge, double t, double *x, double *y)
{
  const GradusSceneEdge *e = &g_array_index (scene->edges, GradusSceneEdge, edge);
  double x0, y0, x1, y1;
  gradus_scene_port_pos (scene, e->from, TRUE, e->from_port, &x0, &y0);
  gradus_scene_port_pos (scene, e->to, e->to_output, e->to_port, &x1, &y1);
  if (e->to_output) {
    /* Drawn as a straight dashed hint. */
    *x = x0 + t * (x1 - x0);
    *y = y0 + t * (y1 - y0);
    return;
  }
  /* The cubic Bezier of gradus-render.c's wire_path(). */
  double dx = MAX (40.0, fabs (x1 - x0) / 2);
  double cx0 = x0 + dx, cy0 = y0, cx1 = x1 - dx, cy1 = y1;
  double u = 1 - t;
  double b0 = u * u * u, b1 = 3 * u * u * t, b2 = 3 * u * t * t, b3 = t * t * t;
  *x = b0 * x0 + b1 * cx0 + b2 * cx1 + b3 * x1;
  *y = b0 * y0 + b1 * cy0 + b2 * cy1 + b3 * y1;
}

static double
segment_distance (double px, double py, double ax, double ay, double bx, double by)
{
  double vx = bx - ax, vy = by - ay;
  double len2 = vx * vx + vy * vy;
  double t = len2 > 0 ? CLAMP (((px - ax) * vx + (py - ay) * vy) / len2, 0, 1) : 0;
  double qx = ax + t * vx - px, qy = ay + t * vy - py;
  return sqrt (qx * qx + qy * qy);
}

gint
gradus_scene_hit_edge (GradusScene *scene, double x, double y, double tolerance)
{
  /* The curve as 24 segments: close enough to the drawn wire for a pointer. */
  const gint n_seg = 24;
  gint best = -1;
  double best_d = tolerance;
  for (guint e = 0; e < scene->edges->len; e++) {
    double ax, ay;
    gradus_scene_edge_point (scene, e, 0, &ax, &ay);
    for (gint i = 1; i <= n_seg; i++) {
      double bx, by;
      gradus_scene_edge_point (scene, e, (double) i / n_seg, &bx, &by);
      double d = segment_distance (x, y, ax, ay, bx, by);
      if (d <= best_d) {
        best_d = d;
        best = e;
      }
      ax = bx, ay = by;
    }
  }
  return best;
}

char *
gradus_scene_edge_source_ref (GradusScene *scene, guint edge)
{
  const GradusSceneEdge *e = &g_array_index (scene->edges, GradusSceneEdge, edge);
  const GradusSceneNode *n = scene->nodes->pdata[e->from];
  if (n->kind == GRD_NODE_GRAD || e->from_port > 0)
    return g_strdup_printf ("%s:%d", n->id, e->from_port);
  return g_strdup (n->id);
}
