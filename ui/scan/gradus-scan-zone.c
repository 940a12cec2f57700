/* gradus-scan-zone.c: scans as zones in the scene, and their pictures.
 *
 * In the outer graph a scan is a box inside a teal zone (in the spirit of
 * Blender's repeat zone): sequences, initial states and non-sequences are its
 * input ports, its outputs (fed back or not) the output ports; under them a
 * strip per output shows the last call's values over the steps. Expanded
 * (ui.expanded holds its id, like a shown gradient graph) it also draws its
 * body in small. Opened (gradus_scan_open), the canvas shows the body
 * itself, framed: the body's inputs sit on the frame's left border with their
 * role (sequence [t], state [t-1], non-sequence), a box on the right border
 * takes the body's outputs. */
#include "gradus-scan-zone.h"
#include "gradus-layout.h"

#include <glib/gi18n.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <string.h>

#define STRIP_H 30.0
#define HISTOGRAM_H 48.0
#define MINI_SCALE 0.35

void
gradus_scan_box_free (gpointer data)
{
  GradusScanBox *b = data;
  if (!b)
    return;
  g_free (b->scan_id);
  g_clear_pointer (&b->minis, g_ptr_array_unref);
  g_clear_pointer (&b->mini_edges, g_array_unref);
  g_free (b->distribution);
  g_free (b);
}

void
gradus_scan_zone_free (gpointer data)
{
  GradusScanZone *z = data;
  if (!z)
    return;
  g_free (z->title);
  g_free (z);
}

static void
mini_free (gpointer data)
{
  GradusScanMini *m = data;
  g_free (m->title);
  g_free (m);
}

static JsonObject *
object_member (JsonObject *o, const char *key)
{
  JsonNode *n = o ? json_object_get_member (o, key) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static JsonArray *
array_member (JsonObject *o, const char *key)
{
  JsonNode *n = o ? json_object_get_member (o, key) : NULL;
  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static const char *
string_member (JsonObject *o, const char *key)
{
  JsonNode *n = o ? json_object_get_member (o, key) : NULL;
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
         ? json_node_get_string (n) : NULL;
}

/* Element i as a string / an object, NULL when it is something else (a file
 * being edited may be malformed: no critical for that). */
static const char *
elem_string (JsonArray *a, guint i)
{
  JsonNode *e = a && i < json_array_get_length (a) ? json_array_get_element (a, i) : NULL;
  return e && JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_STRING
         ? json_node_get_string (e) : NULL;
}

static JsonObject *
elem_object (JsonArray *a, guint i)
{
  JsonNode *e = a && i < json_array_get_length (a) ? json_array_get_element (a, i) : NULL;
  return e && JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
}

/* A number param, or FALSE when it is a reference (known only at run time). */
static gboolean
number_member (JsonObject *o, const char *key, double fallback, double *out)
{
  JsonNode *n = o ? json_object_get_member (o, key) : NULL;
  if (!n) {
    *out = fallback;
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  GType t = json_node_get_value_type (n);
  if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_double (n);
  return TRUE;
}

/* The body in small: a layered layout of its nodes' names. */
static void
layout_minis (GradusScanBox *box, JsonObject *body)
{
  JsonArray *nodes = array_member (body, "nodes");
  guint n = nodes ? json_array_get_length (nodes) : 0;
  box->minis = g_ptr_array_new_with_free_func (mini_free);
  box->mini_edges = g_array_new (FALSE, FALSE, sizeof (gint));
  if (n == 0)
    return;
  g_autoptr (GHashTable) index = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < n; i++) {
    JsonObject *o = elem_object (nodes, i);
    const char *id = string_member (o, "id");
    GradusScanMini *m = g_new0 (GradusScanMini, 1);
    m->title = g_strdup (id ? id : "?");
    m->w = MAX (60.0, strlen (m->title) * 7.0 + 16);
    m->h = 24;
    g_ptr_array_add (box->minis, m);
    if (id)
      g_hash_table_insert (index, (gpointer) id, GINT_TO_POINTER (i + 1));
  }
  g_autoptr (GPtrArray) deps = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  g_autofree double *w = g_new0 (double, n), *h = g_new0 (double, n);
  g_autofree double *x = g_new0 (double, n), *y = g_new0 (double, n);
  for (guint i = 0; i < n; i++) {
    GradusScanMini *m = box->minis->pdata[i];
    w[i] = m->w, h[i] = m->h;
    GArray *d = g_array_new (FALSE, FALSE, sizeof (gint));
    JsonArray *in = array_member (elem_object (nodes, i), "inputs");
    for (guint k = 0; in && k < json_array_get_length (in); k++) {
      JsonNode *e = json_array_get_element (in, k);
      if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
        continue;
      g_autofree char *id = g_strdup (json_node_get_string (e));
      char *colon = strchr (id, ':');
      if (colon)
        *colon = '\0';
      gint from = GPOINTER_TO_INT (g_hash_table_lookup (index, id)) - 1;
      if (from < 0)
        continue;
      g_array_append_val (d, from);
      gint pair[2] = { from, (gint) i };
      g_array_append_vals (box->mini_edges, pair, 2);
    }
    g_ptr_array_add (deps, d);
  }
  gradus_layout_layered (n, w, h, deps, 0, 0, x, y);
  for (guint i = 0; i < n; i++) {
    GradusScanMini *m = box->minis->pdata[i];
    m->x = x[i], m->y = y[i];
  }
}

static void
minis_extent (GradusScanBox *box, double *w, double *h)
{
  *w = *h = 0;
  for (guint i = 0; box->minis && i < box->minis->len; i++) {
    GradusScanMini *m = box->minis->pdata[i];
    *w = MAX (*w, m->x + m->w);
    *h = MAX (*h, m->y + m->h);
  }
  *w *= MINI_SCALE, *h *= MINI_SCALE;
}

void
gradus_scan_scene_node (GradusSceneNode *sn, JsonObject *o, GradusDocModel *model,
                        GHashTable *expanded)
{
  const char *kind = string_member (o, "kind");
  if (gradus_scan_is_scan (o)) {
    GradusScanBox *b = g_new0 (GradusScanBox, 1);
    b->role = GRADUS_SCAN_BOX_ZONE;
    b->scan_id = g_strdup (sn->id);
    b->n_strips = sn->out_labels->len;
    b->extra_y = sn->h;
    g_free (sn->subtitle);
    JsonNode *steps = json_object_get_member (o, "n_steps");
    if (steps && JSON_NODE_HOLDS_VALUE (steps) && json_node_get_value_type (steps) == G_TYPE_INT64)
      sn->subtitle = g_strdup_printf (_("scan · %d steps · Ctrl+R opens"), (gint) json_node_get_int (steps));
    else
      sn->subtitle = g_strdup (_("scan · one step per element · Ctrl+R opens"));
    double mw = 0, mh = 0;
    if (expanded && g_hash_table_contains (expanded, sn->id)) {
      layout_minis (b, object_member (o, "body"));
      minis_extent (b, &mw, &mh);
      mh += 24;
    }
    sn->w = MAX (sn->w, mw + 24);
    sn->h += mh + b->n_strips * STRIP_H + 8;
    sn->scan = b;
    return;
  }
  if (g_strcmp0 (kind, "random") == 0) {
    GradusScanBox *b = g_new0 (GradusScanBox, 1);
    b->role = GRADUS_SCAN_BOX_RANDOM;
    b->extra_y = sn->h;
    const char *dist = string_member (o, "distribution");
    b->distribution = g_strdup (dist ? dist : "uniform");
    JsonObject *params = object_member (o, "params");
    gboolean uni = g_str_equal (b->distribution, "uniform"), norm = g_str_equal (b->distribution, "normal");
    b->params_known = number_member (params, uni ? "low" : norm ? "mean" : "n", uni ? 0 : norm ? 0 : 1, &b->p0)
                      && number_member (params, uni ? "high" : norm ? "std" : "p", uni ? 1 : norm ? 1 : 0.5, &b->p1);
    g_free (sn->subtitle);
    sn->subtitle = g_strdup_printf (_("random · %s"), b->distribution);
    sn->w = MAX (sn->w, 170);
    sn->h += HISTOGRAM_H;
    sn->scan = b;
  }
  (void) model;
}

char *
gradus_scan_derived_port_name (const char *op, gboolean output, gint k, gint n)
{
  if (g_strcmp0 (op, "_scan") != 0 && g_strcmp0 (op, "scan") != 0)   /* the engine's name is "_scan" */
    return NULL;
  if (output)
    return n > 1 ? g_strdup_printf ("out %d", k) : g_strdup ("out");
  return g_strdup_printf ("in %d", k);
}

/* ------------------------------------------------------------ an open body */

static GradusSceneNode *
outputs_box (JsonObject *scan, GrdGraph *body_graph)
{
  JsonArray *outs = array_member (object_member (scan, "body"), "outputs");
  const char *id = string_member (scan, "id");
  GradusSceneNode *n = g_new0 (GradusSceneNode, 1);
  n->id = g_strdup (id);
  n->title = g_strdup_printf (_("%s: each step's outputs"), id);
  n->subtitle = g_strdup (_("states go to the next step"));
  n->in_labels = g_ptr_array_new_with_free_func (g_free);
  n->out_labels = g_ptr_array_new_with_free_func (g_free);
  n->group = -1;
  n->update_from = -1;
  n->kind = GRD_NODE_OP;   /* wires dropped on it set the body's outputs */
  guint n_out = outs ? json_array_get_length (outs) : 0;
  for (guint k = 0; k < n_out; k++) {
    g_autofree char *name = gradus_scan_output_name (scan, k);
    /* each step's type: the body output's */
    const char *ref = elem_string (outs, k);
    GrdRef r;
    const GrdType *t = body_graph && ref && grd_graph_lookup (body_graph, ref, &r, NULL)
                       ? grd_graph_ref_type (body_graph, r) : NULL;
    g_autofree char *type = t ? grd_type_describe (t) : NULL;
    g_ptr_array_add (n->in_labels, type ? g_strdup_printf ("%s  → %s", name, type) : g_strdup (name));
  }
  gradus_layout_node_size (n->title, n->subtitle, n->in_labels->len, 0, &n->w, &n->h);
  n->w = MAX (n->w, 240);
  GradusScanBox *b = g_new0 (GradusScanBox, 1);
  b->role = GRADUS_SCAN_BOX_OUTPUTS;
  b->scan_id = g_strdup (id);
  b->n_strips = n_out;
  b->extra_y = n->h;
  n->h += n_out * STRIP_H + 8;
  n->scan = b;
  return n;
}

void
gradus_scan_scene_zone (GradusScene *scene, GradusDocModel *model)
{
  JsonObject *scan = gradus_scan_open_node (model);
  if (!scan)
    return;
  JsonObject *body = object_member (scan, "body");
  JsonArray *inputs = array_member (body, "inputs");
  g_autoptr (GHashTable) is_input = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; inputs && i < json_array_get_length (inputs); i++) {
    const char *id = elem_string (inputs, i);
    if (id)
      g_hash_table_add (is_input, (gpointer) id);
  }
  /* The frame around the body's own nodes. */
  double x0 = G_MAXDOUBLE, y0 = G_MAXDOUBLE, x1 = -G_MAXDOUBLE, y1 = -G_MAXDOUBLE;
  for (guint i = 0; i < scene->nodes->len; i++) {
    GradusSceneNode *n = scene->nodes->pdata[i];
    if (g_hash_table_contains (is_input, n->id))
      continue;
    x0 = MIN (x0, n->x), y0 = MIN (y0, n->y);
    x1 = MAX (x1, n->x + n->w), y1 = MAX (y1, n->y + n->h + (n->error ? 40 : 0));
  }
  if (x0 > x1)
    x0 = 300, y0 = 80, x1 = 500, y1 = 200;
  GradusScanZone *z = g_new0 (GradusScanZone, 1);
  z->title = g_strdup_printf (_("Body of scan %s: one step (Ctrl+R closes)"), string_member (scan, "id"));
  z->x = x0 - 160;
  z->y = y0 - 70;
  z->w = x1 - z->x + 160;
  /* Inputs on the left border, in the body's order, each with its role. */
  double iy = z->y + 50;
  for (guint i = 0; inputs && i < json_array_get_length (inputs); i++) {
    const char *in_id = elem_string (inputs, i);
    gint idx = in_id ? gradus_scene_find (scene, in_id) : -1;
    if (idx < 0)
      continue;
    GradusSceneNode *n = scene->nodes->pdata[idx];
    g_autofree char *role = gradus_scan_body_input_role (scan, i);
    if (role) {
      g_free (n->subtitle);
      n->subtitle = g_steal_pointer (&role);
      n->w = MAX (n->w, strlen (n->subtitle) * 6.5 + 24);
    }
    n->x = z->x - n->w / 2;
    n->y = iy;
    iy += n->h + 24;
    GradusScanBox *b = g_new0 (GradusScanBox, 1);
    b->role = GRADUS_SCAN_BOX_BORDER_IN;
    gradus_scan_box_free (n->scan);
    n->scan = b;
  }
  /* The outputs on the right border, wired from the body's output nodes. */
  GrdDocument *doc = gradus_doc_model_get_document (model);
  GradusSceneNode *out = outputs_box (scan, doc ? grd_document_graph (doc) : NULL);
  out->x = z->x + z->w - out->w / 2;
  out->y = z->y + 50;
  g_ptr_array_add (scene->nodes, out);
  gint out_idx = scene->nodes->len - 1;
  g_hash_table_insert (scene->by_id, out->id, GINT_TO_POINTER (out_idx + 1));
  JsonArray *outs = array_member (body, "outputs");
  for (guint k = 0; outs && k < json_array_get_length (outs); k++) {
    const char *ref = elem_string (outs, k);
    gint port = 0;
    g_autofree char *src = ref ? gradus_ref_parse (ref, &port) : NULL;
    gint from = src ? gradus_scene_find (scene, src) : -1;
    if (from < 0 || from == out_idx)
      continue;
    GradusSceneEdge e = { from, port, out_idx, (gint) k, FALSE, FALSE };
    g_array_append_val (scene->edges, e);
  }
  z->h = MAX (MAX (y1, iy), out->y + out->h) - z->y + 40;
  scene->scan_zone = z;
}

gboolean
gradus_scan_zone_rect (GradusScene *scene, double *x, double *y, double *w, double *h)
{
  GradusScanZone *z = scene->scan_zone;
  if (!z)
    return FALSE;
  *x = z->x, *y = z->y, *w = z->w, *h = z->h;
  return TRUE;
}

/* ------------------------------------------------------------ values */

GrdTensor *
gradus_scan_strip_tensor (GHashTable *live, const char *scan_id, gint k)
{
  if (!live || !scan_id)
    return NULL;
  g_autofree char *ref = k == 0 ? g_strdup (scan_id) : g_strdup_printf ("%s:%d", scan_id, k);
  GrdTensor *t = g_hash_table_lookup (live, ref);
  if (!t && k == 0) {
    g_autofree char *ref0 = g_strdup_printf ("%s:0", scan_id);
    t = g_hash_table_lookup (live, ref0);
  }
  return t && t->rank >= 1 && t->shape[0] > 0 ? t : NULL;
}

GArray *
gradus_scan_strip_means (const GrdTensor *t)
{
  GArray *means = g_array_new (FALSE, FALSE, sizeof (double));
  if (!t || t->rank < 1 || t->shape[0] <= 0)
    return means;
  gint64 steps = t->shape[0], per = t->size / steps;
  for (gint64 s = 0; s < steps; s++) {
    double sum = 0;
    for (gint64 e = 0; e < per; e++)
      sum += grd_tensor_get (t, s * per + e);
    double m = per > 0 ? sum / per : NAN;
    g_array_append_val (means, m);
  }
  return means;
}

/* ------------------------------------------------------------ drawing */

static void
rounded (cairo_t *cr, double x, double y, double w, double h, double r)
{
  cairo_new_sub_path (cr);
  cairo_arc (cr, x + w - r, y + r, r, -G_PI / 2, 0);
  cairo_arc (cr, x + w - r, y + h - r, r, 0, G_PI / 2);
  cairo_arc (cr, x + r, y + h - r, r, G_PI / 2, G_PI);
  cairo_arc (cr, x + r, y + r, r, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
}

static void
zone_colour (cairo_t *cr, double alpha)
{
  cairo_set_source_rgba (cr, 0.13, 0.55, 0.55, alpha);   /* teal: loops */
}

static void
text (cairo_t *cr, const char *s, const char *font, double x, double y, double width)
{
  PangoLayout *layout = pango_cairo_create_layout (cr);
  PangoFontDescription *fd = pango_font_description_from_string (font);
  pango_layout_set_font_description (layout, fd);
  pango_font_description_free (fd);
  pango_layout_set_text (layout, s, -1);
  pango_layout_set_width (layout, (int) (MAX (width, 1) * PANGO_SCALE));
  pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, layout);
  cairo_new_path (cr);
  g_object_unref (layout);
}

void
gradus_scan_draw_under (cairo_t *cr, GradusScene *scene, gboolean dark)
{
  GradusScanZone *z = scene->scan_zone;
  if (z) {
    rounded (cr, z->x, z->y, z->w, z->h, 14);
    zone_colour (cr, dark ? 0.16 : 0.08);
    cairo_fill_preserve (cr);
    zone_colour (cr, 0.9);
    cairo_set_line_width (cr, 3);
    cairo_stroke (cr);
    zone_colour (cr, 1);
    text (cr, z->title, "Sans Bold 11", z->x + 18, z->y + 10, z->w - 36);
    /* the loop back: outputs fed to the next step's state inputs */
    double dash[] = { 6, 4 };
    cairo_set_dash (cr, dash, 2, 0);
    cairo_move_to (cr, z->x + z->w - 30, z->y + z->h);
    cairo_curve_to (cr, z->x + z->w - 30, z->y + z->h + 36, z->x + 30, z->y + z->h + 36, z->x + 30,
                    z->y + z->h);
    cairo_set_line_width (cr, 2);
    cairo_stroke (cr);
    cairo_set_dash (cr, NULL, 0, 0);
    text (cr, _("next step"), "Sans Italic 9", z->x + z->w / 2 - 30, z->y + z->h + 20, 120);
  }
  for (guint i = 0; i < scene->nodes->len; i++) {
    GradusSceneNode *n = scene->nodes->pdata[i];
    GradusScanBox *b = n->scan;
    if (!b || b->role != GRADUS_SCAN_BOX_ZONE)
      continue;
    /* The zone: a band around the box, open at the ports, as a repeat zone is. */
    rounded (cr, n->x - 10, n->y - 22, n->w + 20, n->h + 32, 12);
    zone_colour (cr, dark ? 0.35 : 0.22);
    cairo_fill (cr);
    zone_colour (cr, 1);
    text (cr, _("⟳ repeat for each step"), "Sans Bold 8", n->x - 2, n->y - 19, n->w);
  }
}

static void
draw_strip (cairo_t *cr, const GrdTensor *t, const char *label, double x, double y, double w,
            gboolean dark)
{
  double fg = dark ? 0.93 : 0.14;
  cairo_set_source_rgba (cr, fg, fg, fg, 0.7);
  if (!t) {
    g_autofree char *s = g_strdup_printf (_("%s: run to see each step"), label);
    text (cr, s, "Sans 7", x, y, w);
    return;
  }
  g_autoptr (GArray) m = gradus_scan_strip_means (t);
  gint64 steps = t->shape[0], per = t->size / MAX (steps, 1);
  double lo = G_MAXDOUBLE, hi = -G_MAXDOUBLE;
  for (guint i = 0; i < m->len; i++) {
    double v = g_array_index (m, double, i);
    if (isfinite (v))
      lo = MIN (lo, v), hi = MAX (hi, v);
  }
  g_autofree char *s = per == 1
    ? g_strdup_printf (_("%s: %d steps, %.4g … %.4g"), label, (gint) steps, lo, hi)
    : g_strdup_printf (_("%s: %d steps × %d values (heatmap)"), label, (gint) steps, (gint) per);
  text (cr, s, "Sans 7", x, y - 1, w);
  double cy = y + 11, ch = STRIP_H - 14;
  cairo_set_source_rgba (cr, fg, fg, fg, 0.06);
  cairo_rectangle (cr, x, cy, w, ch);
  cairo_fill (cr);
  if (per == 1) {
    /* a sparkline of the steps */
    cairo_set_source_rgb (cr, 0.13, 0.55, 0.55);
    cairo_set_line_width (cr, 1.5);
    for (guint i = 0; i < m->len; i++) {
      double v = g_array_index (m, double, i);
      double px = x + (m->len > 1 ? w * i / (m->len - 1.0) : w / 2);
      double py = cy + ch - (hi > lo ? (v - lo) / (hi - lo) * ch : ch / 2);
      if (i == 0 || !isfinite (v))
        cairo_move_to (cr, px, py);
      else
        cairo_line_to (cr, px, py);
      if (m->len <= 40)
        cairo_rectangle (cr, px - 1, py - 1, 2, 2);
    }
    cairo_stroke (cr);
    return;
  }
  /* a heatmap: steps across, the first values of each step down */
  gint64 rows = MIN (per, 8);
  double vlo = G_MAXDOUBLE, vhi = -G_MAXDOUBLE;
  for (gint64 s2 = 0; s2 < steps; s2++)
    for (gint64 r = 0; r < rows; r++) {
      double v = grd_tensor_get (t, s2 * per + r);
      if (isfinite (v))
        vlo = MIN (vlo, v), vhi = MAX (vhi, v);
    }
  double cw = w / steps, rh = ch / rows;
  for (gint64 s2 = 0; s2 < steps; s2++)
    for (gint64 r = 0; r < rows; r++) {
      double v = grd_tensor_get (t, s2 * per + r);
      double u = vhi > vlo ? (v - vlo) / (vhi - vlo) : 0.5;
      if (!isfinite (v))
        cairo_set_source_rgb (cr, 0.88, 0.11, 0.14);
      else
        cairo_set_source_rgb (cr, 0.27 + u * 0.72, u * 0.9, 0.33 + (u < 0.5 ? u * 0.3 : (1 - u) * 0.4));
      cairo_rectangle (cr, x + s2 * cw, cy + r * rh, cw + 0.3, rh + 0.3);
      cairo_fill (cr);
    }
}

/* The normal density, for the histogram drawn before any draw. */
static double
density (const GradusScanBox *b, double x)
{
  if (g_str_equal (b->distribution, "normal")) {
    double s = b->p1 > 0 ? b->p1 : 1, z = (x - b->p0) / s;
    return exp (-0.5 * z * z);
  }
  return 1;
}

static void
draw_histogram (cairo_t *cr, const GradusScanBox *b, const GrdTensor *t, double x, double y,
                double w, gboolean dark)
{
  const gint bins = 24;
  double counts[24] = { 0 };
  double lo, hi;
  double fg = dark ? 0.93 : 0.14;
  g_autofree char *caption = NULL;
  gboolean binomial = g_str_equal (b->distribution, "binomial");
  if (t && t->size > 0) {
    lo = G_MAXDOUBLE, hi = -G_MAXDOUBLE;
    for (gint64 i = 0; i < t->size; i++) {
      double v = grd_tensor_get (t, i);
      if (isfinite (v))
        lo = MIN (lo, v), hi = MAX (hi, v);
    }
    if (lo > hi)
      lo = 0, hi = 1;
    if (hi == lo)
      hi = lo + 1;
    for (gint64 i = 0; i < t->size; i++) {
      double v = grd_tensor_get (t, i);
      if (isfinite (v))
        counts[CLAMP ((gint) ((v - lo) / (hi - lo) * bins), 0, bins - 1)] += 1;
    }
    caption = g_strdup_printf (_("last call: %d draws, %.3g … %.3g"), (gint) t->size, lo, hi);
  } else if (b->params_known) {
    if (g_str_equal (b->distribution, "normal"))
      lo = b->p0 - 3 * b->p1, hi = b->p0 + 3 * b->p1;
    else if (binomial)
      lo = 0, hi = MAX (b->p0, 1);
    else
      lo = b->p0, hi = b->p1;
    if (hi <= lo)
      hi = lo + 1;
    for (gint i = 0; i < bins; i++) {
      double c = lo + (i + 0.5) * (hi - lo) / bins;
      counts[i] = density (b, c);
    }
    if (binomial) {
      /* n trials of p: the weights of 0..n (n small) */
      memset (counts, 0, sizeof counts);
      gint n = CLAMP ((gint) b->p0, 1, bins - 1);
      double p = CLAMP (b->p1, 0, 1), comb = 1;
      for (gint k = 0; k <= n; k++) {
        counts[k * (bins - 1) / n] = comb * pow (p, k) * pow (1 - p, n - k);
        comb = comb * (n - k) / (k + 1);
      }
    }
    caption = g_strdup_printf (_("%s(%.3g, %.3g): before a run"), b->distribution, b->p0, b->p1);
  } else {
    cairo_set_source_rgba (cr, fg, fg, fg, 0.7);
    text (cr, _("params from the graph: run to see the draws"), "Sans 7", x, y + 4, w);
    return;
  }
  double top = 0;
  for (gint i = 0; i < bins; i++)
    top = MAX (top, counts[i]);
  double hy = y + 2, hh = HISTOGRAM_H - 16, bw = w / bins;
  cairo_set_source_rgba (cr, 0.57, 0.25, 0.67, 0.8);   /* random: purple-ish */
  for (gint i = 0; i < bins; i++) {
    double bh = top > 0 ? counts[i] / top * hh : 0;
    cairo_rectangle (cr, x + i * bw + 0.5, hy + hh - bh, bw - 1, bh);
  }
  cairo_fill (cr);
  cairo_set_source_rgba (cr, fg, fg, fg, 0.7);
  text (cr, caption, "Sans 7", x, hy + hh + 1, w);
}

static void
draw_minis (cairo_t *cr, GradusSceneNode *n, GradusScanBox *b, gboolean dark)
{
  double ox = n->x + 12, oy = n->y + b->extra_y + 18;
  double fg = dark ? 0.93 : 0.14;
  cairo_set_source_rgba (cr, fg, fg, fg, 0.7);
  text (cr, _("body (one step):"), "Sans Italic 7", ox, oy - 14, n->w - 24);
  cairo_set_line_width (cr, 1);
  for (guint e = 0; e + 1 < b->mini_edges->len; e += 2) {
    GradusScanMini *a = b->minis->pdata[g_array_index (b->mini_edges, gint, e)];
    GradusScanMini *c = b->minis->pdata[g_array_index (b->mini_edges, gint, e + 1)];
    cairo_move_to (cr, ox + (a->x + a->w) * MINI_SCALE, oy + (a->y + a->h / 2) * MINI_SCALE);
    cairo_line_to (cr, ox + c->x * MINI_SCALE, oy + (c->y + c->h / 2) * MINI_SCALE);
  }
  zone_colour (cr, 0.8);
  cairo_stroke (cr);
  for (guint i = 0; i < b->minis->len; i++) {
    GradusScanMini *m = b->minis->pdata[i];
    rounded (cr, ox + m->x * MINI_SCALE, oy + m->y * MINI_SCALE, m->w * MINI_SCALE, m->h * MINI_SCALE, 2);
    zone_colour (cr, 0.25);
    cairo_fill_preserve (cr);
    zone_colour (cr, 0.9);
    cairo_stroke (cr);
    cairo_set_source_rgba (cr, fg, fg, fg, 0.9);
    text (cr, m->title, "Sans 5", ox + m->x * MINI_SCALE + 2, oy + m->y * MINI_SCALE + 1, m->w * MINI_SCALE - 3);
  }
}

void
gradus_scan_draw_over (cairo_t *cr, GradusScene *scene, GHashTable *live, gboolean dark)
{
  for (guint i = 0; i < scene->nodes->len; i++) {
    GradusSceneNode *n = scene->nodes->pdata[i];
    GradusScanBox *b = n->scan;
    if (!b || b->role == GRADUS_SCAN_BOX_BORDER_IN)
      continue;
    cairo_save (cr);
    double x = n->x + 10, w = n->w - 20, y = n->y + b->extra_y;
    /* cover what an earlier pass drew here (the canvas draws again with values) */
    cairo_rectangle (cr, n->x + 2, y, n->w - 4, n->h - b->extra_y - 4);
    if (dark)
      cairo_set_source_rgb (cr, 0.22, 0.22, 0.22);
    else
      cairo_set_source_rgb (cr, 1, 1, 1);
    cairo_fill (cr);
    if (b->role == GRADUS_SCAN_BOX_RANDOM) {
      draw_histogram (cr, b, live ? g_hash_table_lookup (live, n->id) : NULL, x, y, w, dark);
      cairo_restore (cr);
      continue;
    }
    if (b->minis && b->minis->len > 0) {
      draw_minis (cr, n, b, dark);
      double mw, mh;
      minis_extent (b, &mw, &mh);
      y += mh + 24;
    }
    for (gint k = 0; k < b->n_strips; k++) {
      GPtrArray *labels = b->role == GRADUS_SCAN_BOX_ZONE ? n->out_labels : n->in_labels;
      g_autofree char *label = g_strdup ((guint) k < labels->len ? labels->pdata[k] : "?");
      char *gap = strstr (label, "  ");
      if (gap)
        *gap = '\0';
      draw_strip (cr, gradus_scan_strip_tensor (live, b->scan_id, k), label, x, y + 4 + k * STRIP_H, w, dark);
    }
    cairo_restore (cr);
  }
}
