/* gradus-doc-edit.c: the typed edits of nodes and wires (add, delete,
 * connect, set members, rename, move, arrange); each is one undoable command. */
#include "gradus-doc-private.h"
#include "organise/gradus-organise-groups.h"
#include "gradus-catalog.h"
#include "gradus-layout.h"

#include <glib/gi18n.h>
#include <string.h>

char *
gradus_doc_model_add_node (GradusDocModel *self, const char *kind, const char *op, double x,
                           double y, GError **error)
{
  const char *base;
  if (g_str_equal (kind, "op")) {
    if (!op || !grd_op_exists (op)) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("no op named '%s'"), op ? op : _("(none)"));
      return NULL;
    }
    base = op[0] == '_' ? op + 1 : op;
  } else if (g_str_equal (kind, "variable"))
    base = "x";
  else if (g_str_equal (kind, "constant"))
    base = "c";
  else if (g_str_equal (kind, "shared"))
    base = "w";
  else if (g_str_equal (kind, "grad"))
    base = "g";
  else if (g_str_equal (kind, "group"))   /* a saved group of the palette */
    return gradus_group_add_from_library (self, op, x, y, error);
  else {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("unknown node kind '%s'"), kind);
    return NULL;
  }
  gradus_doc_model_begin_edit (self);
  char *id = gradus_doc_unique_id (self, base, NULL);
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "id", id);
  json_object_set_string_member (o, "kind", kind);
  if (g_str_equal (kind, "op")) {
    json_object_set_string_member (o, "op", op);
    json_object_set_array_member (o, "inputs", json_array_new ());
  } else if (g_str_equal (kind, "variable")) {
    /* float64 as in the Theano primer: exact numbers for a class on gradients. */
    json_object_set_string_member (o, "dtype", "float64");
    json_object_set_array_member (o, "shape", json_array_new ());
  } else if (g_str_equal (kind, "grad")) {
    json_object_set_array_member (o, "wrt", json_array_new ());
  } else {
    json_object_set_string_member (o, "dtype", "float64");
    json_object_set_double_member (o, "value", 0.0);
  }
  json_array_add_object_element (gradus_doc_nodes (self), o);
  gradus_doc_set_position (self, id, x, y);
  g_autofree char *label = g_strdup_printf (_("Add %s"), id);
  gradus_doc_model_commit_edit (self, label);
  return id;
}

typedef struct {
  GHashTable *gone;
} DropData;

static void
drop_ref (JsonNode *ref_node, gpointer data)
{
  DropData *d = data;
  const char *s = gradus_json_ref_string (ref_node);
  g_autofree char *id = s ? gradus_ref_parse (s, NULL) : NULL;
  if (id && g_hash_table_contains (d->gone, id))
    json_node_init_null (ref_node);
}

gboolean
gradus_doc_model_remove_nodes (GradusDocModel *self, const char *const *ids)
{
  if (!ids || !ids[0])
    return FALSE;
  gradus_doc_model_begin_edit (self);
  g_autoptr (GHashTable) gone = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  JsonArray *nodes = gradus_doc_nodes (self);
  for (const char *const *p = ids; *p; p++) {
    gint i = gradus_doc_find_index (nodes, *p);
    if (i < 0)
      continue;
    g_hash_table_add (gone, g_strdup (*p));
    json_array_remove_element (nodes, i);
    JsonObject *un = gradus_doc_ui_nodes (self, FALSE);
    if (un)
      json_object_remove_member (un, *p);
  }
  if (g_hash_table_size (gone) == 0) {
    gradus_doc_model_abort_edit (self);
    return FALSE;
  }
  DropData d = { gone };
  for (guint i = 0; i < json_array_get_length (nodes); i++) {
    JsonObject *o = gradus_doc_model_node_at (self, i);
    if (!o)
      continue;
    /* Variadic lists and wrt lose the element; fixed inputs keep an empty slot. */
    gradus_doc_filter_ref_list (o, "wrt", gone);
    gradus_doc_filter_ref_list (o, "consider_constant", gone);
    if (gradus_catalog_arity (gradus_json_get_string (o, "op")) == GRADUS_ARITY_VARIADIC)
      gradus_doc_filter_ref_list (o, "inputs", gone);
    gradus_doc_foreach_ref (o, drop_ref, &d);
  }
  /* Keep the function valid: forget inputs, outputs and updates of removed nodes. */
  JsonObject *fn = gradus_json_object_member (gradus_doc_root (self), "function", FALSE);
  if (fn) {
    gradus_doc_filter_ref_list (fn, "inputs", gone);
    gradus_doc_filter_ref_list (fn, "outputs", gone);
    JsonArray *up = gradus_json_get_array (fn, "updates", FALSE);
    for (gint i = up ? (gint) json_array_get_length (up) - 1 : -1; i >= 0; i--) {
      JsonNode *e = json_array_get_element (up, i);
      if (!JSON_NODE_HOLDS_OBJECT (e))
        continue;
      JsonObject *u = json_node_get_object (e);
      g_autofree char *s = gradus_ref_parse (gradus_json_get_string (u, "shared"), NULL);
      g_autofree char *v = gradus_ref_parse (gradus_json_get_string (u, "value"), NULL);
      if ((s && g_hash_table_contains (gone, s)) || (v && g_hash_table_contains (gone, v)))
        json_array_remove_element (up, i);
    }
  }
  g_autofree char *label = g_hash_table_size (gone) == 1
                             ? g_strdup_printf (_("Delete %s"), ids[0])
                             : g_strdup_printf (_("Delete %u nodes"), g_hash_table_size (gone));
  gradus_doc_model_commit_edit (self, label);
  return TRUE;
}

/* Does `from` (transitively) read `target`? */
static gboolean
depends_on (GradusDocModel *self, const char *from, const char *target, GHashTable *seen)
{
  if (g_str_equal (from, target))
    return TRUE;
  if (!g_hash_table_add (seen, g_strdup (from)))
    return FALSE;
  JsonObject *o = gradus_doc_model_get_node (self, from);
  if (!o)
    return FALSE;
  g_autoptr (GPtrArray) deps = gradus_doc_deps_of (o);
  for (guint i = 0; i < deps->len; i++)
    if (depends_on (self, deps->pdata[i], target, seen))
      return TRUE;
  return FALSE;
}

static void
write_slot (JsonObject *o, gint slot, const char *ref)
{
  const char *kind = gradus_json_get_string (o, "kind");
  JsonArray *a;
  gint index = slot;
  if (g_str_equal (kind, "grad")) {
    if (slot == 0) {
      if (ref)
        json_object_set_string_member (o, "cost", ref);
      else
        json_object_remove_member (o, "cost");
      return;
    }
    a = gradus_json_get_array (o, "wrt", TRUE);
    index = slot - 1;
    if (!ref) {
      if (index < (gint) json_array_get_length (a))
        json_array_remove_element (a, index);
      return;
    }
  } else {
    a = gradus_json_get_array (o, "inputs", TRUE);
    if (!ref && gradus_catalog_arity (gradus_json_get_string (o, "op")) == GRADUS_ARITY_VARIADIC) {
      if (index < (gint) json_array_get_length (a))
        json_array_remove_element (a, index);
      return;
    }
  }
  while ((gint) json_array_get_length (a) <= index)
    json_array_add_null_element (a);
  /* a new node: see gradus_json_array_replace() */
  gradus_json_array_replace (a, index, ref ? json_node_init_string (json_node_alloc (), ref)
                                           : json_node_init_null (json_node_alloc ()));
  /* Trailing empty slots are implied by the op's arity (a group's are not:
   * its slots are the length of its list). */
  while (!g_str_equal (kind, "group") && json_array_get_length (a) > 0 &&
         JSON_NODE_HOLDS_NULL (json_array_get_element (a, json_array_get_length (a) - 1)))
    json_array_remove_element (a, json_array_get_length (a) - 1);
}

gboolean
gradus_doc_model_connect (GradusDocModel *self, const char *target, gint slot,
                          const char *source_ref, GError **error)
{
  gint zone = gradus_doc_scope_connect_output (self, target, slot, source_ref, error);
  if (zone >= 0)   /* the open scan body's outputs (ui/scan) */
    return zone;
  JsonObject *t = gradus_doc_model_get_node (self, target);
  if (!t) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("no node named '%s'"), target);
    return FALSE;
  }
  gint n_slots = gradus_doc_n_slots (t);
  if (slot < 0 || slot >= n_slots) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("%s has no input %d"), target, slot + 1);
    return FALSE;
  }
  gint k;
  g_autofree char *source = gradus_ref_parse (source_ref, &k);
  JsonObject *s = source ? gradus_doc_model_get_node (self, source) : NULL;
  if (!s) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("no node named '%s'"), source_ref);
    return FALSE;
  }
  if (k < 0 || k >= MAX (gradus_doc_n_outputs (self, s), 1)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("%s has no output %d"), source, k);
    return FALSE;
  }
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (depends_on (self, source, target, seen)) {
    if (g_str_equal (source, target))
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("cannot connect %s to itself: that would create a cycle"), target);
    else
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH,
                   _("cannot connect %s to %s: that would create a cycle (%s already depends on %s)"),
                   source, target, source, target);
    return FALSE;
  }
  const char *kind = gradus_json_get_string (t, "kind");
  if (!kind || !(g_str_equal (kind, "op") || g_str_equal (kind, "grad")
                || g_str_equal (kind, "group"))) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("%s takes no inputs"), target);
    return FALSE;
  }
  gradus_doc_model_begin_edit (self);
  /* Re-read after the snapshot: the same tree, still ours to edit. */
  t = gradus_doc_model_get_node (self, target);
  /* Output 0 is written "id" except for grad nodes, whose outputs read best numbered. */
  gboolean numbered = k != 0 || g_strcmp0 (gradus_json_get_string (s, "kind"), "grad") == 0;
  g_autofree char *ref = numbered ? g_strdup_printf ("%s:%d", source, k) : g_strdup (source);
  write_slot (t, slot, ref);
  gradus_doc_model_rebuild (self);
  /* Refuse what the engine refuses for the target once all its inputs are in. */
  const char *err = NULL;
  if (!g_hash_table_contains (self->missing, target))
    err = self->doc ? grd_document_node_error (self->doc, target) : self->build_error;
  if (err) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE, _("cannot connect %s to %s: %s"), ref, target, err);
    gradus_doc_model_abort_edit (self);
    return FALSE;
  }
  g_autofree char *label = g_strdup_printf (_("Connect %s to %s"), ref, target);
  gradus_doc_model_commit_edit (self, label);
  return TRUE;
}

gboolean
gradus_doc_model_disconnect (GradusDocModel *self, const char *target, gint slot)
{
  JsonObject *t = gradus_doc_model_get_node (self, target);
  if (!t || !gradus_json_ref_string (gradus_doc_slot_node (t, slot)))
    return FALSE;
  gradus_doc_model_begin_edit (self);
  write_slot (gradus_doc_model_get_node (self, target), slot, NULL);
  g_autofree char *label = g_strdup_printf (_("Disconnect input %d of %s"), slot + 1, target);
  gradus_doc_model_commit_edit (self, label);
  return TRUE;
}

gboolean
gradus_doc_model_set_member (GradusDocModel *self, const char *id, const char *key,
                             JsonNode *value, GError **error)
{
  g_autoptr (JsonNode) owned = value;
  if (!gradus_doc_model_get_node (self, id)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("no node named '%s'"), id);
    return FALSE;
  }
  if (g_str_equal (key, "id") || g_str_equal (key, "kind")) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("'%s' cannot be set here"), key);
    return FALSE;
  }
  gradus_doc_model_begin_edit (self);
  JsonObject *o = gradus_doc_model_get_node (self, id);
  const char *name = key;
  if (g_str_has_prefix (key, "attrs.")) {
    name = key + 6;
    o = gradus_json_object_member (o, "attrs", TRUE);
  }
  if (owned)
    json_object_set_member (o, name, g_steal_pointer (&owned));
  else
    json_object_remove_member (o, name);
  if (name != key && json_object_get_size (o) == 0)
    json_object_remove_member (gradus_doc_model_get_node (self, id), "attrs");
  g_autofree char *label = g_strdup_printf (_("Change %s of %s"), name, id);
  gradus_doc_model_commit_edit (self, label);
  return TRUE;
}

typedef struct {
  const char *from, *to;
} RenameData;

static void
rename_ref (JsonNode *ref_node, gpointer data)
{
  RenameData *d = data;
  const char *s = gradus_json_ref_string (ref_node);
  gint k;
  g_autofree char *id = s ? gradus_ref_parse (s, &k) : NULL;
  if (!id || !g_str_equal (id, d->from))
    return;
  if (strchr (s, ':')) {
    g_autofree char *r = g_strdup_printf ("%s:%d", d->to, k);
    json_node_set_string (ref_node, r);
  } else
    json_node_set_string (ref_node, d->to);
}

static void
rename_list (JsonObject *o, const char *key, RenameData *d)
{
  JsonArray *a = o ? gradus_json_get_array (o, key, FALSE) : NULL;
  for (guint i = 0; a && i < json_array_get_length (a); i++)
    rename_ref (json_array_get_element (a, i), d);
}

static void
rename_member (JsonObject *o, const char *from, const char *to)
{
  JsonNode *n = o ? json_object_dup_member (o, from) : NULL;
  if (n) {
    json_object_remove_member (o, from);
    json_object_set_member (o, to, n);
  }
}

gboolean
gradus_doc_model_rename_node (GradusDocModel *self, const char *id, const char *new_id,
                              GError **error)
{
  if (!gradus_doc_model_get_node (self, id)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("no node named '%s'"), id);
    return FALSE;
  }
  if (g_str_equal (id, new_id))
    return TRUE;
  if (!gradus_doc_valid_id (new_id)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH,
                 _("'%s' is not a valid id (a letter or _, then letters, digits, _ . -)"), new_id);
    return FALSE;
  }
  if (gradus_doc_model_get_node (self, new_id)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("there is already a node named '%s'"), new_id);
    return FALSE;
  }
  gradus_doc_model_begin_edit (self);
  g_autofree char *from = g_strdup (id);
  RenameData d = { from, new_id };
  json_object_set_string_member (gradus_doc_model_get_node (self, from), "id", new_id);
  for (guint i = 0; i < gradus_doc_model_n_nodes (self); i++) {
    JsonObject *o = gradus_doc_model_node_at (self, i);
    if (o)
      gradus_doc_foreach_ref (o, rename_ref, &d);
  }
  JsonObject *r = gradus_doc_root (self);
  JsonObject *fn = gradus_json_object_member (r, "function", FALSE);
  rename_list (fn, "inputs", &d);
  rename_list (fn, "outputs", &d);
  JsonArray *up = fn ? gradus_json_get_array (fn, "updates", FALSE) : NULL;
  for (guint i = 0; up && i < json_array_get_length (up); i++) {
    JsonNode *e = json_array_get_element (up, i);
    if (!JSON_NODE_HOLDS_OBJECT (e))
      continue;
    JsonObject *u = json_node_get_object (e);
    rename_ref (json_object_get_member (u, "shared"), &d);
    rename_ref (json_object_get_member (u, "value"), &d);
  }
  JsonObject *run = gradus_json_object_member (r, "run", FALSE);
  rename_member (run ? gradus_json_object_member (run, "feeds", FALSE) : NULL, from, new_id);
  rename_member (gradus_doc_ui_nodes (self, FALSE), from, new_id);
  rename_list (gradus_json_object_member (r, "ui", FALSE), "expanded", &d);
  gradus_doc_model_emit_renamed (self, from, new_id);
  g_autofree char *label = g_strdup_printf (_("Rename %s to %s"), from, new_id);
  gradus_doc_model_commit_edit (self, label);
  return TRUE;
}

void
gradus_doc_model_move_nodes (GradusDocModel *self, const char *const *ids, double dx, double dy)
{
  if (!ids || !ids[0] || (dx == 0 && dy == 0))
    return;
  gradus_doc_model_begin_edit (self);
  for (const char *const *p = ids; *p; p++) {
    double x, y;
    if (!gradus_doc_model_get_node (self, *p))
      continue;
    if (!gradus_doc_model_get_position (self, *p, &x, &y))
      x = y = 0;
    gradus_doc_set_position (self, *p, x + dx, y + dy);
  }
  gradus_doc_model_commit_edit (self, ids[1] ? _("Move nodes") : _("Move node"));
}

static void
node_box (GradusDocModel *self, JsonObject *o, double *w, double *h)
{
  const char *id = gradus_json_get_string (o, "id");
  const char *name = gradus_json_get_string (o, "name");
  gradus_layout_node_size (name ? name : id, gradus_json_get_string (o, "op") ? gradus_json_get_string (o, "op") : gradus_json_get_string (o, "kind"),
                           gradus_doc_n_slots (o), MAX (gradus_doc_n_outputs (self, o), 1), w, h);
}

void
gradus_doc_model_auto_layout (GradusDocModel *self)
{
  guint n = gradus_doc_model_n_nodes (self);
  if (n == 0)
    return;
  g_autofree double *w = g_new0 (double, n), *h = g_new0 (double, n);
  g_autofree double *x = g_new0 (double, n), *y = g_new0 (double, n);
  g_autoptr (GPtrArray) deps = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  for (guint i = 0; i < n; i++) {
    JsonObject *o = gradus_doc_model_node_at (self, i);
    GArray *d = g_array_new (FALSE, FALSE, sizeof (gint));
    if (o) {
      node_box (self, o, &w[i], &h[i]);
      g_autoptr (GPtrArray) ids = gradus_doc_deps_of (o);
      for (guint k = 0; k < ids->len; k++) {
        gint j = gradus_doc_find_index (gradus_doc_nodes (self), ids->pdata[k]);
        g_array_append_val (d, j);
      }
    }
    g_ptr_array_add (deps, d);
  }
  gradus_layout_layered (n, w, h, deps, 40, 40, x, y);
  gradus_doc_model_begin_edit (self);
  for (guint i = 0; i < n; i++) {
    JsonObject *o = gradus_doc_model_node_at (self, i);
    const char *id = o ? gradus_json_get_string (o, "id") : NULL;
    if (id)
      gradus_doc_set_position (self, id, x[i], y[i]);
  }
  gradus_doc_model_commit_edit (self, _("Arrange nodes"));
}
