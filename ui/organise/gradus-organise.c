/* gradus-organise.c: frames and comments in the document's "ui" object. */
#include "gradus-organise.h"
#include "gradus-scene.h"
#include "document/gradus-doc-private.h"

#include <glib/gi18n.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <string.h>

#define FRAME_MARGIN 24.0
#define FRAME_TITLE_H 30.0

const guint32 gradus_frame_palette[6] = { 0x3584e4, 0x33d17a, 0xf6d32d, 0xff7800, 0xe01b24, 0x9141ac };

void
gradus_frame_free (gpointer frame)
{
  GradusFrame *f = frame;
  g_free (f->id);
  g_free (f->title);
  g_free (f);
}

void
gradus_comment_free (gpointer comment)
{
  GradusComment *c = comment;
  g_free (c->id);
  g_free (c->text);
  g_free (c);
}

/* ------------------------------------------------------------ storage */

static JsonArray *
ui_list (GradusDocModel *model, const char *key, gboolean create)
{
  JsonObject *ui = gradus_json_object_member (gradus_doc_root (model), "ui", create);
  return ui ? gradus_json_get_array (ui, key, create) : NULL;
}

static JsonObject *
find_item (GradusDocModel *model, const char *key, const char *id, guint *index)
{
  JsonArray *a = ui_list (model, key, FALSE);
  for (guint i = 0; a && i < json_array_get_length (a); i++) {
    JsonNode *e = json_array_get_element (a, i);
    if (JSON_NODE_HOLDS_OBJECT (e)
        && g_strcmp0 (gradus_json_get_string (json_node_get_object (e), "id"), id) == 0) {
      if (index)
        *index = i;
      return json_node_get_object (e);
    }
  }
  return NULL;
}

static guint32
parse_colour (const char *s)
{
  if (s && s[0] == '#' && strlen (s) == 7)
    return (guint32) g_ascii_strtoull (s + 1, NULL, 16);
  return gradus_frame_palette[0];
}

static void
write_colour (JsonObject *o, guint32 colour)
{
  g_autofree char *s = g_strdup_printf ("#%06x", colour & 0xffffff);
  json_object_set_string_member (o, "colour", s);
}

GPtrArray *
gradus_organise_frames (GradusDocModel *model)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (gradus_frame_free);
  JsonArray *a = ui_list (model, "frames", FALSE);
  for (guint i = 0; a && i < json_array_get_length (a); i++) {
    JsonNode *e = json_array_get_element (a, i);
    if (!JSON_NODE_HOLDS_OBJECT (e))
      continue;
    JsonObject *o = json_node_get_object (e);
    GradusFrame *f = g_new0 (GradusFrame, 1);
    f->id = g_strdup (gradus_json_get_string (o, "id"));
    f->title = g_strdup (gradus_json_get_string (o, "title"));
    f->colour = parse_colour (gradus_json_get_string (o, "colour"));
    f->x = json_object_get_double_member_with_default (o, "x", 0);
    f->y = json_object_get_double_member_with_default (o, "y", 0);
    f->w = MAX (json_object_get_double_member_with_default (o, "w", 200), 40);
    f->h = MAX (json_object_get_double_member_with_default (o, "h", 120), FRAME_TITLE_H + 10);
    if (!f->id) {
      gradus_frame_free (f);
      continue;
    }
    g_ptr_array_add (out, f);
  }
  return out;
}

GPtrArray *
gradus_organise_comments (GradusDocModel *model)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (gradus_comment_free);
  JsonArray *a = ui_list (model, "comments", FALSE);
  for (guint i = 0; a && i < json_array_get_length (a); i++) {
    JsonNode *e = json_array_get_element (a, i);
    if (!JSON_NODE_HOLDS_OBJECT (e))
      continue;
    JsonObject *o = json_node_get_object (e);
    const char *id = gradus_json_get_string (o, "id");
    if (!id)
      continue;
    GradusComment *c = g_new0 (GradusComment, 1);
    c->id = g_strdup (id);
    c->text = g_strdup (gradus_json_get_string (o, "text") ? gradus_json_get_string (o, "text") : "");
    c->x = json_object_get_double_member_with_default (o, "x", 0);
    c->y = json_object_get_double_member_with_default (o, "y", 0);
    g_ptr_array_add (out, c);
  }
  return out;
}

static char *
unique_item_id (GradusDocModel *model, const char *key, const char *stem)
{
  for (guint k = 1;; k++) {
    char *id = g_strdup_printf ("%s%u", stem, k);
    if (!find_item (model, key, id, NULL))
      return id;
    g_free (id);
  }
}

/* ------------------------------------------------------------ frames */

char *
gradus_organise_add_frame (GradusDocModel *model, const char *const *ids, const char *title,
                           guint32 colour, double x, double y)
{
  double x0 = x, y0 = y, x1 = x + 240, y1 = y + 160;
  if (ids && ids[0]) {
    g_autoptr (GradusScene) scene = gradus_scene_new (model, NULL, NULL);
    x0 = y0 = G_MAXDOUBLE;
    x1 = y1 = -G_MAXDOUBLE;
    for (const char *const *p = ids; *p; p++) {
      gint i = gradus_scene_find (scene, *p);
      if (i < 0)
        continue;
      GradusSceneNode *n = scene->nodes->pdata[i];
      x0 = MIN (x0, n->x);
      y0 = MIN (y0, n->y);
      x1 = MAX (x1, n->x + n->w);
      y1 = MAX (y1, n->y + n->h);
    }
    if (x0 > x1)
      return NULL;
    x0 -= FRAME_MARGIN;
    y0 -= FRAME_MARGIN + FRAME_TITLE_H;
    x1 += FRAME_MARGIN;
    y1 += FRAME_MARGIN;
  }
  gradus_doc_model_begin_edit (model);
  char *id = unique_item_id (model, "frames", "frame");
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "id", id);
  json_object_set_string_member (o, "title", title && *title ? title : _("Frame"));
  write_colour (o, colour);
  json_object_set_double_member (o, "x", round (x0));
  json_object_set_double_member (o, "y", round (y0));
  json_object_set_double_member (o, "w", round (x1 - x0));
  json_object_set_double_member (o, "h", round (y1 - y0));
  json_array_add_object_element (ui_list (model, "frames", TRUE), o);
  gradus_doc_model_commit_edit (model, _("Add frame"));
  return id;
}

gboolean
gradus_organise_set_frame (GradusDocModel *model, const char *frame_id, const char *title,
                           guint32 colour, GError **error)
{
  if (!find_item (model, "frames", frame_id, NULL)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("no frame named '%s'"), frame_id);
    return FALSE;
  }
  gradus_doc_model_begin_edit (model);
  JsonObject *o = find_item (model, "frames", frame_id, NULL);
  if (title)
    json_object_set_string_member (o, "title", title);
  write_colour (o, colour);
  gradus_doc_model_commit_edit (model, _("Change frame"));
  return TRUE;
}

static gboolean
inside (const GradusFrame *f, double x, double y)
{
  return x >= f->x && x <= f->x + f->w && y >= f->y && y <= f->y + f->h;
}

static GradusFrame *
frame_by_id (GPtrArray *frames, const char *id)
{
  for (guint i = 0; i < frames->len; i++)
    if (g_str_equal (((GradusFrame *) frames->pdata[i])->id, id))
      return frames->pdata[i];
  return NULL;
}

GStrv
gradus_organise_frame_nodes (GradusDocModel *model, const char *frame_id)
{
  g_autoptr (GPtrArray) frames = gradus_organise_frames (model);
  GradusFrame *f = frame_by_id (frames, frame_id);
  GPtrArray *ids = g_ptr_array_new ();
  for (guint i = 0; f && i < gradus_doc_model_n_nodes (model); i++) {
    JsonObject *o = gradus_doc_model_node_at (model, i);
    const char *id = o ? gradus_json_get_string (o, "id") : NULL;
    double x, y;
    if (id && gradus_doc_model_get_position (model, id, &x, &y) && inside (f, x, y))
      g_ptr_array_add (ids, g_strdup (id));
  }
  g_ptr_array_add (ids, NULL);
  return (GStrv) g_ptr_array_free (ids, FALSE);
}

gboolean
gradus_organise_move_frame (GradusDocModel *model, const char *frame_id, double dx, double dy)
{
  if (!find_item (model, "frames", frame_id, NULL) || (dx == 0 && dy == 0))
    return FALSE;
  g_auto (GStrv) ids = gradus_organise_frame_nodes (model, frame_id);
  gradus_doc_model_begin_edit (model);
  JsonObject *o = find_item (model, "frames", frame_id, NULL);
  json_object_set_double_member (o, "x", round (json_object_get_double_member_with_default (o, "x", 0) + dx));
  json_object_set_double_member (o, "y", round (json_object_get_double_member_with_default (o, "y", 0) + dy));
  for (char **p = ids; *p; p++) {
    double x, y;
    if (gradus_doc_model_get_position (model, *p, &x, &y))
      gradus_doc_set_position (model, *p, x + dx, y + dy);
  }
  gradus_doc_model_commit_edit (model, _("Move frame"));
  return TRUE;
}

/* ------------------------------------------------------------ comments */

char *
gradus_organise_add_comment (GradusDocModel *model, const char *text, double x, double y)
{
  gradus_doc_model_begin_edit (model);
  char *id = unique_item_id (model, "comments", "note");
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "id", id);
  json_object_set_string_member (o, "text", text && *text ? text : _("Note"));
  json_object_set_double_member (o, "x", round (x));
  json_object_set_double_member (o, "y", round (y));
  json_array_add_object_element (ui_list (model, "comments", TRUE), o);
  gradus_doc_model_commit_edit (model, _("Add comment"));
  return id;
}

gboolean
gradus_organise_set_comment (GradusDocModel *model, const char *comment_id, const char *text,
                             GError **error)
{
  if (!find_item (model, "comments", comment_id, NULL)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("no comment named '%s'"), comment_id);
    return FALSE;
  }
  gradus_doc_model_begin_edit (model);
  json_object_set_string_member (find_item (model, "comments", comment_id, NULL), "text",
                                 text ? text : "");
  gradus_doc_model_commit_edit (model, _("Edit comment"));
  return TRUE;
}

gboolean
gradus_organise_move_comment (GradusDocModel *model, const char *comment_id, double dx, double dy)
{
  if (!find_item (model, "comments", comment_id, NULL) || (dx == 0 && dy == 0))
    return FALSE;
  gradus_doc_model_begin_edit (model);
  JsonObject *o = find_item (model, "comments", comment_id, NULL);
  json_object_set_double_member (o, "x", round (json_object_get_double_member_with_default (o, "x", 0) + dx));
  json_object_set_double_member (o, "y", round (json_object_get_double_member_with_default (o, "y", 0) + dy));
  gradus_doc_model_commit_edit (model, _("Move comment"));
  return TRUE;
}

gboolean
gradus_organise_remove (GradusDocModel *model, const char *id)
{
  static const char *const keys[] = { "frames", "comments" };
  for (gsize k = 0; k < G_N_ELEMENTS (keys); k++) {
    guint index;
    if (!find_item (model, keys[k], id, &index))
      continue;
    gradus_doc_model_begin_edit (model);
    json_array_remove_element (ui_list (model, keys[k], FALSE), index);
    gradus_doc_model_commit_edit (model, k == 0 ? _("Delete frame") : _("Delete comment"));
    return TRUE;
  }
  return FALSE;
}

/* ------------------------------------------------------------ hit tests */

char *
gradus_organise_hit_frame_title (GradusDocModel *model, double x, double y)
{
  g_autoptr (GPtrArray) frames = gradus_organise_frames (model);
  /* the last drawn is on top */
  for (guint i = frames->len; i-- > 0;) {
    GradusFrame *f = frames->pdata[i];
    if (x >= f->x && x <= f->x + f->w && y >= f->y && y <= f->y + FRAME_TITLE_H)
      return g_strdup (f->id);
  }
  return NULL;
}

void
gradus_organise_comment_size (const GradusComment *c, double *w, double *h)
{
  /* a fixed-width estimate keeps hit tests free of Pango */
  g_auto (GStrv) lines = g_strsplit (c->text, "\n", -1);
  glong longest = 4;
  for (char **l = lines; *l; l++)
    longest = MAX (longest, g_utf8_strlen (*l, -1));
  *w = MIN (longest, 60) * 7.5 + 20;
  *h = g_strv_length (lines) * 17 + 16;
}

char *
gradus_organise_hit_comment (GradusDocModel *model, double x, double y)
{
  g_autoptr (GPtrArray) comments = gradus_organise_comments (model);
  for (guint i = comments->len; i-- > 0;) {
    GradusComment *c = comments->pdata[i];
    double w, h;
    gradus_organise_comment_size (c, &w, &h);
    if (x >= c->x && x <= c->x + w && y >= c->y && y <= c->y + h)
      return g_strdup (c->id);
  }
  return NULL;
}

/* ------------------------------------------------------------ drawing */

static void
set_colour (cairo_t *cr, guint32 c, double alpha)
{
  cairo_set_source_rgba (cr, ((c >> 16) & 0xff) / 255.0, ((c >> 8) & 0xff) / 255.0,
                         (c & 0xff) / 255.0, alpha);
}

static void
round_rect (cairo_t *cr, double x, double y, double w, double h, double r)
{
  cairo_new_sub_path (cr);
  cairo_arc (cr, x + w - r, y + r, r, -G_PI / 2, 0);
  cairo_arc (cr, x + w - r, y + h - r, r, 0, G_PI / 2);
  cairo_arc (cr, x + r, y + h - r, r, G_PI / 2, G_PI);
  cairo_arc (cr, x + r, y + r, r, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
}

static void
draw_text (cairo_t *cr, const char *text, const char *font, double x, double y, double width)
{
  PangoLayout *layout = pango_cairo_create_layout (cr);
  PangoFontDescription *desc = pango_font_description_from_string (font);
  pango_layout_set_font_description (layout, desc);
  pango_font_description_free (desc);
  pango_layout_set_text (layout, text, -1);
  if (width > 0) {
    pango_layout_set_width (layout, (int) (width * PANGO_SCALE));
    pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
  }
  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, layout);
  g_object_unref (layout);
}

void
gradus_organise_draw_frames (cairo_t *cr, GPtrArray *frames, gboolean dark)
{
  for (guint i = 0; frames && i < frames->len; i++) {
    GradusFrame *f = frames->pdata[i];
    cairo_save (cr);
    round_rect (cr, f->x, f->y, f->w, f->h, 10);
    set_colour (cr, f->colour, dark ? 0.16 : 0.10);
    cairo_fill_preserve (cr);
    set_colour (cr, f->colour, 0.8);
    cairo_set_line_width (cr, 2);
    cairo_stroke (cr);
    /* the title bar: where a frame is grabbed to move it with its nodes */
    round_rect (cr, f->x, f->y, f->w, FRAME_TITLE_H, 10);
    set_colour (cr, f->colour, dark ? 0.45 : 0.30);
    cairo_fill (cr);
    cairo_set_source_rgb (cr, dark ? 0.95 : 0.1, dark ? 0.95 : 0.1, dark ? 0.95 : 0.12);
    draw_text (cr, f->title ? f->title : "", "Sans Bold 12", f->x + 12, f->y + 6, f->w - 24);
    cairo_restore (cr);
  }
}

void
gradus_organise_draw_comments (cairo_t *cr, GPtrArray *comments, gboolean dark)
{
  for (guint i = 0; comments && i < comments->len; i++) {
    GradusComment *c = comments->pdata[i];
    double w, h;
    gradus_organise_comment_size (c, &w, &h);
    cairo_save (cr);
    round_rect (cr, c->x, c->y, w, h, 4);
    /* a sticky note: pale yellow, dimmer in dark style */
    if (dark)
      cairo_set_source_rgba (cr, 0.45, 0.40, 0.15, 0.95);
    else
      cairo_set_source_rgba (cr, 1.0, 0.96, 0.70, 0.95);
    cairo_fill_preserve (cr);
    cairo_set_source_rgba (cr, 0.6, 0.5, 0.1, 0.8);
    cairo_set_line_width (cr, 1);
    cairo_stroke (cr);
    cairo_set_source_rgb (cr, dark ? 0.95 : 0.15, dark ? 0.95 : 0.13, dark ? 0.9 : 0.05);
    draw_text (cr, c->text, "Sans 11", c->x + 10, c->y + 8, 0);
    cairo_restore (cr);
  }
}
