/* gradus-quick-add.c: one typed line, one node, named, valued and wired
 * (see gradus-quick-add.h). Every part goes through the model's checked
 * edits; the parts are merged into one undo step, or all undone on error. */
#include "gradus-quick-add.h"
#include "gradus-catalog.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

gboolean
gradus_quick_add_is_line (const char *line)
{
  if (!line)
    return FALSE;
  g_autofree char *s = g_strstrip (g_strdup (line));
  return strchr (s, '=') || strpbrk (s, " \t");
}

/* The part after "NAME =", stripped (a new string). */
static char *
right_side (const char *line, char **name)
{
  const char *eq = strchr (line, '=');
  if (name)
    *name = eq ? g_strstrip (g_strndup (line, eq - line)) : NULL;
  return g_strstrip (g_strdup (eq ? eq + 1 : line));
}

char *
gradus_quick_add_dup_word (const char *line)
{
  if (!line)
    return NULL;
  g_autofree char *rhs = right_side (line, NULL);
  gsize n = strcspn (rhs, " \t");
  return n ? g_strndup (rhs, n) : NULL;
}

/* A reference to an existing node: "id", "id:k", or a node's "name". */
static char *
resolve (GradusDocModel *model, const char *word)
{
  gint k = 0;
  g_autofree char *id = gradus_ref_parse (word, &k);
  if (id && gradus_doc_model_get_node (model, id))
    return g_strdup (word);
  for (guint i = 0; i < gradus_doc_model_n_nodes (model); i++) {
    JsonObject *o = gradus_doc_model_node_at (model, i);
    const char *name = json_object_get_string_member_with_default (o, "name", NULL);
    if (g_strcmp0 (name, word) == 0)
      return g_strdup (json_object_get_string_member (o, "id"));
  }
  return NULL;
}

static JsonArray *
array_member (JsonObject *o, const char *key)
{
  JsonNode *n = json_object_get_member (o, key);
  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static gboolean
is_number (const char *word, double *value)
{
  char *end = NULL;
  *value = g_ascii_strtod (word, &end);
  return end != word && *end == '\0';
}

static JsonNode *
parse_value (const char *text, const char *what, GError **error)
{
  g_autoptr (GError) local = NULL;
  JsonNode *v = json_from_string (text, &local);
  if (!v) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("%s: '%s' is not a value (a number or a list)"),
                 what, text);
    return NULL;
  }
  return v;
}

/* The shape a feed gives its variable: the lengths of nested lists, or the
 * "shape" of the object forms; NULL for a scalar or a form without one. */
static JsonNode *
feed_shape (JsonNode *feed)
{
  JsonArray *shape = json_array_new ();
  if (JSON_NODE_HOLDS_OBJECT (feed)) {
    JsonArray *given = array_member (json_node_get_object (feed), "shape");
    for (guint i = 0; given && i < json_array_get_length (given); i++)
      json_array_add_element (shape, json_node_copy (json_array_get_element (given, i)));
  } else {
    for (JsonNode *n = feed; n && JSON_NODE_HOLDS_ARRAY (n);) {
      JsonArray *a = json_node_get_array (n);
      json_array_add_int_element (shape, json_array_get_length (a));
      n = json_array_get_length (a) ? json_array_get_element (a, 0) : NULL;
    }
  }
  if (json_array_get_length (shape) == 0) {
    json_array_unref (shape);
    return NULL;
  }
  return json_node_init_array (json_node_alloc (), shape);
}

/* Gives the new node its NAME: as the id when that is a free valid id,
 * else as its displayed name. */
static gboolean
apply_name (GradusDocModel *model, char **id, const char *name, GError **error)
{
  if (g_str_equal (*id, name))
    return TRUE;   /* the id it was given already */
  if (gradus_doc_model_get_node (model, name)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("there is already a node named '%s'"), name);
    return FALSE;
  }
  if (gradus_doc_model_rename_node (model, *id, name, NULL)) {
    g_free (*id);
    *id = g_strdup (name);
    return TRUE;
  }
  return gradus_doc_model_set_member (model, *id, "name", json_node_init_string (json_node_alloc (), name),
                                      error);
}

/* Wires each argument (an existing node, or a number made a constant) to
 * slots 0, 1, ... of `id`. */
static gboolean
wire_arguments (GradusDocModel *model, const char *id, char **args, double x, double y,
                GPtrArray *literals, GError **error)
{
  for (gint slot = 0; args[slot]; slot++) {
    g_autofree char *ref = resolve (model, args[slot]);
    double number;
    if (!ref && is_number (args[slot], &number)) {
      /* A literal: a constant beside the node, named after its value. */
      ref = gradus_doc_model_add_node (model, "constant", NULL, x - 200, y + 90 * (slot + 1), error);
      if (!ref ||
          !gradus_doc_model_set_member (model, ref, "value", json_node_init_double (json_node_alloc (), number), error) ||
          !gradus_doc_model_set_member (model, ref, "name", json_node_init_string (json_node_alloc (), args[slot]), error))
        return FALSE;
      g_ptr_array_add (literals, g_strdup (ref));
    }
    if (!ref) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH,
                   _("%s: input %d: no node named '%s' (an id, id:k, a name or a number)"), id,
                   slot + 1, args[slot]);
      return FALSE;
    }
    if (!gradus_doc_model_connect (model, id, slot, ref, error))
      return FALSE;
  }
  return TRUE;
}

/* Whether a node other than `id` has its corner within a node's size of (x, y). */
static gboolean
spot_taken (GradusDocModel *model, const char *id, double x, double y)
{
  for (guint i = 0; i < gradus_doc_model_n_nodes (model); i++) {
    const char *other = json_object_get_string_member (gradus_doc_model_node_at (model, i), "id");
    double ox, oy;
    if (g_strcmp0 (other, id) != 0 && gradus_doc_model_get_position (model, other, &ox, &oy) &&
        fabs (ox - x) < 200 && fabs (oy - y) < 120)
      return TRUE;
  }
  return FALSE;
}

static void
move_to_free (GradusDocModel *model, const char *id, double x, double y)
{
  double x0, y0;
  if (!gradus_doc_model_get_position (model, id, &x0, &y0))
    return;
  for (int tries = 0; tries < 30 && spot_taken (model, id, x, y); tries++)
    y += 130;
  const char *ids[] = { id, NULL };
  gradus_doc_model_move_nodes (model, ids, x - x0, y - y0);
}

/* An op or grad goes one column right of its inputs, level with them (as the
 * layered layout would put it), in the first free place down from there; the
 * constants its literals made go below and left of it. */
static void
place_after_inputs (GradusDocModel *model, const char *id, GPtrArray *literals)
{
  double right = -G_MAXDOUBLE, sum_y = 0;
  guint n = 0;
  for (gint slot = 0; slot < gradus_doc_model_node_n_slots (model, id); slot++) {
    const char *ref = gradus_doc_model_node_slot_ref (model, id, slot);
    g_autofree char *src = ref ? gradus_ref_parse (ref, NULL) : NULL;
    double x, y;
    if (src && !g_ptr_array_find_with_equal_func (literals, src, g_str_equal, NULL) &&
        gradus_doc_model_get_position (model, src, &x, &y)) {
      right = MAX (right, x);
      sum_y += y;
      n++;
    }
  }
  if (n > 0)
    move_to_free (model, id, right + 240, sum_y / n);
  double x, y;
  if (!gradus_doc_model_get_position (model, id, &x, &y))
    return;
  for (guint i = 0; i < literals->len; i++)
    move_to_free (model, literals->pdata[i], x - 120, y + 130 * (i + 1));
}

/* A variable, constant or shared node typed here goes under the first such
 * node (the sources' column, left, as the layered layout has it). */
static void
place_with_sources (GradusDocModel *model, const char *id)
{
  const char *first = NULL;
  double lowest = -G_MAXDOUBLE;
  for (guint i = 0; i < gradus_doc_model_n_nodes (model); i++) {
    JsonObject *o = gradus_doc_model_node_at (model, i);
    const char *other = json_object_get_string_member (o, "id");
    const char *kind = json_object_get_string_member_with_default (o, "kind", "");
    double ox, oy;
    if (g_str_equal (other, id) || json_object_has_member (o, "name") ||
        !(g_str_equal (kind, "variable") || g_str_equal (kind, "constant") || g_str_equal (kind, "shared")) ||
        !gradus_doc_model_get_position (model, other, &ox, &oy))
      continue;   /* literals (named after their value) stay by their op */
    if (!first)
      first = other;
    lowest = MAX (lowest, oy);
  }
  double fx, fy;
  if (first && gradus_doc_model_get_position (model, first, &fx, &fy))
    move_to_free (model, id, fx, lowest + 130);
}

static char *
build (GradusDocModel *model, const char *line, const char *selected_ref, double x, double y,
       GError **error)
{
  g_autofree char *name = NULL;
  g_autofree char *rhs = right_side (line, &name);
  if (name && !*name) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("a name is expected before '='"));
    return NULL;
  }
  gsize n = strcspn (rhs, " \t");
  g_autofree char *word = g_strndup (rhs, n);
  const char *rest = rhs + n;
  while (*rest == ' ' || *rest == '\t')
    rest++;
  gboolean is_kind = g_strv_contains (gradus_catalog_node_kinds (), word);
  if (!is_kind && (word[0] == '_' || !grd_op_exists (word))) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH,
                 _("'%s' is not a node kind (variable, constant, shared, grad) or an op"), word);
    return NULL;
  }
  g_autofree char *id = gradus_doc_model_add_node (model, is_kind ? word : "op", is_kind ? NULL : word,
                                                   x, y, error);
  if (!id || (name && !apply_name (model, &id, name, error)))
    return NULL;

  if (g_str_equal (word, "variable")) {
    /* A variable typed here is an input of the function; a value is its feed. */
    if (!gradus_doc_model_set_in_function (model, "inputs", id, TRUE, error))
      return NULL;
    place_with_sources (model, id);
    if (*rest) {
      JsonNode *feed = parse_value (rest, id, error);
      if (!feed)
        return NULL;
      JsonNode *shape = feed_shape (feed);
      if (shape && !gradus_doc_model_set_member (model, id, "shape", shape, error)) {
        json_node_unref (feed);
        return NULL;
      }
      if (!gradus_doc_model_set_feed (model, id, feed, error))
        return NULL;
    }
  } else if (g_str_equal (word, "constant") || g_str_equal (word, "shared")) {
    if (*rest) {
      JsonNode *value = parse_value (rest, id, error);
      if (!value || !gradus_doc_model_set_member (model, id, "value", value, error))
        return NULL;
    }
    place_with_sources (model, id);
  } else {
    g_auto (GStrv) args = g_strsplit_set (rest, " \t", -1);
    /* Empty words from repeated spaces are dropped. */
    guint kept = 0;
    for (guint i = 0; args[i]; i++) {
      if (*args[i])
        args[kept++] = args[i];
      else
        g_free (args[i]);
    }
    args[kept] = NULL;
    g_autoptr (GPtrArray) literals = g_ptr_array_new_with_free_func (g_free);
    if (kept == 0 && selected_ref) {
      /* Nothing named: the step after the selection. */
      if (!gradus_doc_model_connect (model, id, 0, selected_ref, error))
        return NULL;
    } else if (!wire_arguments (model, id, args, x, y, literals, error))
      return NULL;
    place_after_inputs (model, id, literals);
  }
  return g_steal_pointer (&id);
}

char *
gradus_quick_add_run (GradusDocModel *model, const char *line, const char *selected_ref, double x,
                      double y, GError **error)
{
  g_return_val_if_fail (GRADUS_IS_DOC_MODEL (model), NULL);
  g_return_val_if_fail (line != NULL, NULL);
  g_autofree char *text = g_strstrip (g_strdup (line));
  if (!*text) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("type a node: NAME = KIND or OP, then its inputs"));
    return NULL;
  }
  guint mark = gradus_doc_model_batch_begin (model);
  char *id = build (model, text, selected_ref, x, y, error);
  if (!id) {
    gradus_doc_model_batch_abort (model, mark);
    return NULL;
  }
  g_autofree char *label = g_strdup_printf (_("Add %s"), text);
  gradus_doc_model_batch_commit (model, mark, label);
  return id;
}
