/* gradus-organise-groups.c: making, opening, closing and reusing groups in the
 * document (see gradus-organise-groups.h). The engine expands group nodes
 * when it builds the file (engine/io/grd-document-groups.c), so everything
 * here is about the JSON tree: which nodes go in, which wires cross. */
#include "gradus-organise-groups.h"
#include "document/gradus-doc-private.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <string.h>

#define OPEN_KEY "open_group"

/* ------------------------------------------------------------ tree helpers */

static JsonObject *
group_defs (GradusDocModel *model, gboolean create)
{
  return gradus_json_object_member (gradus_doc_root (model), "groups", create);
}

static JsonObject *
node_object (JsonNode *e)
{
  return e && JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
}

static JsonObject *
definition_of (GradusDocModel *model, JsonObject *node)
{
  const char *key = gradus_json_get_string (node, "group");
  JsonObject *defs = group_defs (model, FALSE);
  JsonNode *d = defs && key ? json_object_get_member (defs, key) : NULL;
  return node_object (d);
}

static JsonObject *
group_node (GradusDocModel *model, const char *id, GError **error)
{
  JsonObject *o = gradus_doc_model_get_node (model, id);
  if (!o || g_strcmp0 (gradus_json_get_string (o, "kind"), "group") != 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("%s: not a group node"), id);
    return NULL;
  }
  if (!definition_of (model, o)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("%s: the file has no group named '%s'"), id,
                 gradus_json_get_string (o, "group"));
    return NULL;
  }
  return o;
}

static char *
make_ref (const char *id, gint k)
{
  return k > 0 ? g_strdup_printf ("%s:%d", id, k) : g_strdup (id);
}

/* A reference rewrite: TRUE to replace `ref` by *to (NULL: unwired). */
typedef gboolean (*RefRewrite) (const char *ref, gpointer data, char **to);

/* The rewritten references are new JSON nodes: json-glib's copies share
 * values, and its setters change a value in place, which would change the
 * undo history's snapshots too. */
static JsonNode *
rewritten (JsonNode *e, RefRewrite fn, gpointer data)
{
  const char *ref = gradus_json_ref_string (e);
  char *to = NULL;
  if (!ref || !fn (ref, data, &to))
    return NULL;
  JsonNode *n = json_node_new (to ? JSON_NODE_VALUE : JSON_NODE_NULL);
  if (to)
    json_node_set_string (n, to);
  g_free (to);
  return n;
}

static void
rewrite_list (JsonObject *o, const char *key, RefRewrite fn, gpointer data)
{
  JsonArray *a = gradus_json_get_array (o, key, FALSE);
  if (!a)
    return;
  JsonArray *b = json_array_new ();
  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonNode *e = json_array_get_element (a, i);
    JsonNode *n = rewritten (e, fn, data);
    json_array_add_element (b, n ? n : gradus_json_deep_copy (e));
  }
  json_object_set_array_member (o, key, b);
}

static void
rewrite_member (JsonObject *o, const char *key, RefRewrite fn, gpointer data)
{
  JsonNode *e = json_object_get_member (o, key);
  JsonNode *n = e ? rewritten (e, fn, data) : NULL;
  if (n)
    json_object_set_member (o, key, n);
}

/* Every reference of a node: op and group inputs, grad cost, wrt, consider_constant. */
static void
rewrite_node (JsonObject *o, RefRewrite fn, gpointer data)
{
  rewrite_list (o, "inputs", fn, data);
  rewrite_list (o, "wrt", fn, data);
  rewrite_list (o, "consider_constant", fn, data);
  rewrite_member (o, "cost", fn, data);
}

/* Every reference of the file's functions (outputs, update values). */
static void
rewrite_function (JsonObject *fn, RefRewrite func, gpointer data)
{
  if (!fn)
    return;
  rewrite_list (fn, "outputs", func, data);
  JsonArray *ups = gradus_json_get_array (fn, "updates", FALSE);
  for (guint i = 0; ups && i < json_array_get_length (ups); i++) {
    JsonObject *u = node_object (json_array_get_element (ups, i));
    if (u)
      rewrite_member (u, "value", func, data);
  }
}

static void
rewrite_functions (GradusDocModel *model, RefRewrite func, gpointer data)
{
  JsonObject *root = gradus_doc_root (model);
  rewrite_function (gradus_json_object_member (root, "function", FALSE), func, data);
  JsonObject *fns = gradus_json_object_member (root, "functions", FALSE);
  g_autoptr (GList) names = fns ? json_object_get_members (fns) : NULL;
  for (GList *l = names; l; l = l->next)
    rewrite_function (node_object (json_object_get_member (fns, l->data)), func, data);
}

static gboolean
groupable (JsonObject *o)
{
  const char *kind = gradus_json_get_string (o, "kind");
  return kind && (g_str_equal (kind, "op") || g_str_equal (kind, "constant")
                  || g_str_equal (kind, "group"));
}

/* ------------------------------------------------------------ making */

typedef struct {
  GHashTable *local;     /* member id -> its id inside the definition */
  GHashTable *taken;     /* names used inside: body ids and input names */
  GPtrArray  *in_refs;   /* outer references, one per input (NULL: unwired) */
  GPtrArray  *in_names;
  GHashTable *in_by_ref; /* outer reference -> input name */
  GPtrArray  *out_refs;  /* body references, one per output */
  const char *node_id;
} Make;

static const char *
input_for (Make *m, const char *ref)
{
  const char *name = g_hash_table_lookup (m->in_by_ref, ref);
  if (name)
    return name;
  gint k = 0;
  g_autofree char *id = gradus_ref_parse (ref, &k);
  g_autofree char *base = k > 0 ? g_strdup_printf ("%s_%d", id, k) : g_strdup (id);
  g_strdelimit (base, ".:-", '_');
  char *unique = g_strdup (base);
  for (guint n = 2; g_hash_table_contains (m->taken, unique); n++) {
    g_free (unique);
    unique = g_strdup_printf ("%s%u", base, n);
  }
  g_hash_table_add (m->taken, unique);
  g_ptr_array_add (m->in_refs, g_strdup (ref));
  g_ptr_array_add (m->in_names, g_strdup (unique));
  g_hash_table_insert (m->in_by_ref, g_strdup (ref), g_strdup (unique));
  return unique;
}

static gboolean
rewrite_body_ref (const char *ref, gpointer data, char **to)
{
  Make *m = data;
  gint k = 0;
  g_autofree char *id = gradus_ref_parse (ref, &k);
  const char *local = g_hash_table_lookup (m->local, id);
  if (local) {
    *to = make_ref (local, k);
  } else {
    g_autofree char *norm = make_ref (id, k);
    *to = g_strdup (input_for (m, norm));
  }
  return TRUE;
}

static gint
output_for (Make *m, const char *body_ref)
{
  for (guint i = 0; i < m->out_refs->len; i++)
    if (g_str_equal (m->out_refs->pdata[i], body_ref))
      return i;
  g_ptr_array_add (m->out_refs, g_strdup (body_ref));
  return m->out_refs->len - 1;
}

static gboolean
rewrite_outer_ref (const char *ref, gpointer data, char **to)
{
  Make *m = data;
  gint k = 0;
  g_autofree char *id = gradus_ref_parse (ref, &k);
  const char *local = g_hash_table_lookup (m->local, id);
  if (!local)
    return FALSE;
  g_autofree char *body_ref = make_ref (local, k);
  *to = make_ref (m->node_id, output_for (m, body_ref));
  return TRUE;
}

static void
mark_used (JsonNode *n, gpointer data)
{
  const char *ref = gradus_json_ref_string (n);
  if (ref)
    g_hash_table_add (data, gradus_ref_parse (ref, NULL));
}

/* The edit itself (inside begin/commit): members are the groupable nodes of
 * `ids`; `seed` (may be NULL) is the ui.open_group record whose inputs and
 * outputs come first, in their order. */
static gboolean
regroup (GradusDocModel *model, const char *const *ids, const char *node_id, const char *key,
         const char *name, JsonObject *seed, GError **error)
{
  JsonArray *nodes = gradus_doc_nodes (model);
  JsonObject *seed_body = seed ? gradus_json_object_member (seed, "body", FALSE) : NULL;
  g_autoptr (GHashTable) local = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GHashTable) taken = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; ids && ids[i]; i++) {
    JsonObject *o = gradus_doc_model_get_node (model, ids[i]);
    if (!o || !groupable (o) || g_hash_table_contains (local, ids[i]))
      continue;
    const char *was = seed_body && json_object_has_member (seed_body, ids[i])
                        ? json_object_get_string_member (seed_body, ids[i]) : ids[i];
    char *in = g_strdup (was);
    for (guint n = 2; g_hash_table_contains (taken, in); n++) {
      g_free (in);
      in = g_strdup_printf ("%s%u", was, n);
    }
    g_hash_table_add (taken, in);
    g_hash_table_insert (local, g_strdup (ids[i]), g_strdup (in));
  }
  /* A wire that leaves the selection and comes back would make the group
   * node feed itself. */
  JsonArray *all = gradus_doc_nodes (model);
  g_autoptr (GHashTable) below = g_hash_table_new (g_str_hash, g_str_equal);
  for (gboolean grew = TRUE; grew;) {
    grew = FALSE;
    for (guint i = 0; i < json_array_get_length (all); i++) {
      JsonObject *o = node_object (json_array_get_element (all, i));
      const char *id = o ? gradus_json_get_string (o, "id") : NULL;
      if (!id || g_hash_table_contains (local, id) || g_hash_table_contains (below, id))
        continue;
      g_autoptr (GPtrArray) deps = gradus_doc_deps_of (o);
      for (guint k = 0; k < deps->len; k++)
        if (g_hash_table_contains (local, deps->pdata[k]) || g_hash_table_contains (below, deps->pdata[k])) {
          g_hash_table_add (below, (gpointer) id);
          grew = TRUE;
          break;
        }
    }
  }
  GHashTableIter it;
  gpointer member;
  g_hash_table_iter_init (&it, local);
  while (g_hash_table_iter_next (&it, &member, NULL)) {
    g_autoptr (GPtrArray) deps = gradus_doc_deps_of (gradus_doc_model_get_node (model, member));
    for (guint k = 0; k < deps->len; k++)
      if (g_hash_table_contains (below, deps->pdata[k])) {
        g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH,
                     _("%s reads '%s', which depends on the selection: grouping them would make "
                       "a cycle (select '%s' too, or leave %s out)"),
                     (const char *) member, (const char *) deps->pdata[k],
                     (const char *) deps->pdata[k], (const char *) member);
        return FALSE;
      }
  }
  if (g_hash_table_size (local) == 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH,
                 _("Select op or constant nodes to group (variables, shared variables and "
                   "gradients stay outside a group)"));
    return FALSE;
  }

  Make m = { local, taken, g_ptr_array_new_with_free_func (g_free),
             g_ptr_array_new_with_free_func (g_free),
             g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free),
             g_ptr_array_new_with_free_func (g_free), node_id };
  /* The inputs and outputs the group had before it was opened keep their
   * places, so other uses of the definition stay wired as they were. */
  JsonArray *seed_in = seed ? gradus_json_get_array (seed, "inputs", FALSE) : NULL;
  JsonArray *seed_names = seed ? gradus_json_get_array (seed, "input_names", FALSE) : NULL;
  for (guint i = 0; seed_in && seed_names && i < json_array_get_length (seed_in)
                    && i < json_array_get_length (seed_names); i++) {
    const char *ref = gradus_json_ref_string (json_array_get_element (seed_in, i));
    const char *nm = gradus_json_ref_string (json_array_get_element (seed_names, i));
    if (!nm || g_hash_table_contains (taken, nm))
      continue;
    g_autofree char *key_ref = ref ? g_strdup (ref) : g_strdup_printf ("\x01%u", i);
    g_hash_table_add (taken, g_strdup (nm));
    g_ptr_array_add (m.in_refs, ref ? g_strdup (ref) : NULL);
    g_ptr_array_add (m.in_names, g_strdup (nm));
    g_hash_table_insert (m.in_by_ref, g_steal_pointer (&key_ref), g_strdup (nm));
  }
  JsonArray *seed_out = seed ? gradus_json_get_array (seed, "outputs", FALSE) : NULL;
  for (guint i = 0; seed_out && i < json_array_get_length (seed_out); i++) {
    const char *ref = gradus_json_ref_string (json_array_get_element (seed_out, i));
    g_autofree char *id = ref ? gradus_ref_parse (ref, NULL) : NULL;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init (&it, local);
    while (id && g_hash_table_iter_next (&it, &k, &v))
      if (g_str_equal (v, id)) {
        output_for (&m, ref);
        break;
      }
  }

  /* The body, in file order, and where the group node goes: in place of the
   * last member, so what it reads is defined before it as before. */
  JsonArray *body = json_array_new ();
  JsonObject *ui_body = json_object_new ();
  JsonObject *ui_nodes = gradus_doc_ui_nodes (model, FALSE);
  double minx = G_MAXDOUBLE, miny = G_MAXDOUBLE;
  gint last = -1;
  for (guint i = 0; i < json_array_get_length (nodes); i++) {
    JsonObject *o = node_object (json_array_get_element (nodes, i));
    const char *id = o ? gradus_json_get_string (o, "id") : NULL;
    if (!id || !g_hash_table_contains (local, id))
      continue;
    last = i;
    double x, y;
    if (gradus_doc_model_get_position (model, id, &x, &y)) {
      minx = MIN (minx, x);
      miny = MIN (miny, y);
    }
  }
  if (minx == G_MAXDOUBLE)
    minx = miny = 40;
  for (guint i = 0; i < json_array_get_length (nodes); i++) {
    JsonObject *o = node_object (json_array_get_element (nodes, i));
    const char *id = o ? gradus_json_get_string (o, "id") : NULL;
    if (!id || !g_hash_table_contains (local, id))
      continue;
    g_autoptr (JsonNode) copy = gradus_json_deep_copy (json_array_get_element (nodes, i));
    JsonObject *c = json_node_get_object (copy);
    json_object_set_string_member (c, "id", g_hash_table_lookup (local, id));
    rewrite_node (c, rewrite_body_ref, &m);
    json_array_add_element (body, g_steal_pointer (&copy));
    double x, y;
    if (gradus_doc_model_get_position (model, id, &x, &y)) {
      JsonObject *p = json_object_new ();
      json_object_set_double_member (p, "x", x - minx + 40);
      json_object_set_double_member (p, "y", y - miny + 40);
      json_object_set_object_member (ui_body, g_hash_table_lookup (local, id), p);
    }
  }
  /* Wires leaving the selection become the group's outputs. */
  for (guint i = 0; i < json_array_get_length (nodes); i++) {
    JsonObject *o = node_object (json_array_get_element (nodes, i));
    const char *id = o ? gradus_json_get_string (o, "id") : NULL;
    if (id && !g_hash_table_contains (local, id))
      rewrite_node (o, rewrite_outer_ref, &m);
  }
  rewrite_functions (model, rewrite_outer_ref, &m);
  if (m.out_refs->len == 0) {
    /* Nothing reads it yet: its results are the members no member reads. */
    g_autoptr (GHashTable) used = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < json_array_get_length (body); i++)
      gradus_doc_foreach_ref (node_object (json_array_get_element (body, i)), mark_used, used);
    for (guint i = 0; i < json_array_get_length (body); i++) {
      const char *bid = gradus_json_get_string (node_object (json_array_get_element (body, i)), "id");
      if (!g_hash_table_contains (used, bid))
        output_for (&m, bid);
    }
  }

  JsonObject *def = json_object_new ();
  json_object_set_string_member (def, "name", name);
  JsonArray *in_names = json_array_new (), *in_refs = json_array_new (), *outs = json_array_new ();
  for (guint i = 0; i < m.in_names->len; i++) {
    json_array_add_string_element (in_names, m.in_names->pdata[i]);
    if (m.in_refs->pdata[i])
      json_array_add_string_element (in_refs, m.in_refs->pdata[i]);
    else
      json_array_add_null_element (in_refs);
  }
  for (guint i = 0; i < m.out_refs->len; i++)
    json_array_add_string_element (outs, m.out_refs->pdata[i]);
  json_object_set_array_member (def, "inputs", in_names);
  json_object_set_array_member (def, "nodes", body);
  json_object_set_array_member (def, "outputs", outs);
  JsonObject *def_ui = json_object_new ();
  json_object_set_object_member (def_ui, "nodes", ui_body);
  json_object_set_object_member (def, "ui", def_ui);
  json_object_set_object_member (group_defs (model, TRUE), key, def);

  JsonObject *g = json_object_new ();
  json_object_set_string_member (g, "id", node_id);
  json_object_set_string_member (g, "kind", "group");
  json_object_set_string_member (g, "group", key);
  json_object_set_string_member (g, "name", name);
  json_object_set_array_member (g, "inputs", in_refs);
  JsonNode *gn = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (gn, g);
  /* members out (from the end, so indices hold), the group node in */
  gint at = last;
  for (gint i = (gint) json_array_get_length (nodes) - 1; i >= 0; i--) {
    JsonObject *o = node_object (json_array_get_element (nodes, i));
    const char *id = o ? gradus_json_get_string (o, "id") : NULL;
    if (id && g_hash_table_contains (local, id)) {
      if (ui_nodes && json_object_has_member (ui_nodes, id))
        json_object_remove_member (ui_nodes, id);
      json_array_remove_element (nodes, i);
      if (i <= last)
        at--;
    }
  }
  /* json-glib has no insert: rebuild the array with the node in place */
  JsonArray *out = json_array_new ();
  if (at < 0)
    json_array_add_element (out, gn), gn = NULL;
  for (guint i = 0; i < json_array_get_length (nodes); i++) {
    json_array_add_element (out, json_node_copy (json_array_get_element (nodes, i)));
    if ((gint) i == at)
      json_array_add_element (out, gn), gn = NULL;
  }
  if (gn)
    json_array_add_element (out, gn);
  json_object_set_array_member (gradus_doc_root (model), "nodes", out);
  gradus_doc_set_position (model, node_id, minx, miny);

  g_ptr_array_unref (m.in_refs);
  g_ptr_array_unref (m.in_names);
  g_hash_table_unref (m.in_by_ref);
  g_ptr_array_unref (m.out_refs);
  return TRUE;
}

static char *
slug (const char *name, char sep)
{
  GString *s = g_string_new (NULL);
  for (const char *p = name; p && *p; p++) {
    if (g_ascii_isalnum (*p))
      g_string_append_c (s, g_ascii_tolower (*p));
    else if (s->len && s->str[s->len - 1] != sep)
      g_string_append_c (s, sep);
  }
  while (s->len && s->str[s->len - 1] == sep)
    g_string_truncate (s, s->len - 1);
  if (s->len == 0 || g_ascii_isdigit (s->str[0]))
    g_string_prepend (s, "group");
  return g_string_free (s, FALSE);
}

static char *
unique_key (GradusDocModel *model, const char *base)
{
  JsonObject *defs = group_defs (model, FALSE);
  char *key = g_strdup (base);
  for (guint n = 2; defs && json_object_has_member (defs, key); n++) {
    g_free (key);
    key = g_strdup_printf ("%s%u", base, n);
  }
  return key;
}

char *
gradus_group_make (GradusDocModel *model, const char *const *ids, const char *name,
                   GError **error)
{
  g_return_val_if_fail (GRADUS_IS_DOC_MODEL (model), NULL);
  if (!name || !*name)
    name = _("group");
  g_autofree char *base = slug (name, '_');
  g_autofree char *key = unique_key (model, base);
  char *node_id = gradus_doc_unique_id (model, base, NULL);
  gradus_doc_model_begin_edit (model);
  if (!regroup (model, ids, node_id, key, name, NULL, error)) {
    gradus_doc_model_abort_edit (model);
    g_free (node_id);
    return NULL;
  }
  gradus_doc_model_commit_edit (model, _("Group"));
  return node_id;
}

/* ------------------------------------------------------------ expanding */

typedef struct {
  const char *group_id;
  GHashTable *outputs;   /* "k" -> flat reference, or absent when unwired */
} Outer;

static gboolean
rewrite_use (const char *ref, gpointer data, char **to)
{
  Outer *o = data;
  gint k = 0;
  g_autofree char *id = gradus_ref_parse (ref, &k);
  if (!g_str_equal (id, o->group_id))
    return FALSE;
  g_autofree char *key = g_strdup_printf ("%d", k);
  *to = g_strdup (g_hash_table_lookup (o->outputs, key));
  return TRUE;
}

typedef struct {
  GHashTable *inputs;   /* input name -> outer reference (absent: unwired) */
  GHashTable *flat;     /* body id -> its id in the file */
} Inner;

static gboolean
rewrite_inner (const char *ref, gpointer data, char **to)
{
  Inner *in = data;
  if (g_hash_table_contains (in->inputs, ref)) {
    *to = g_strdup (g_hash_table_lookup (in->inputs, ref));
    return TRUE;
  }
  gint k = 0;
  g_autofree char *id = gradus_ref_parse (ref, &k);
  const char *flat = g_hash_table_lookup (in->flat, id);
  if (!flat)
    return FALSE;
  *to = make_ref (flat, k);
  return TRUE;
}

/* The edit (inside begin/commit): group node `id` replaced by its body.
 * Fills `body_map` (flat id -> body id) when not NULL. */
static GStrv
expand (GradusDocModel *model, const char *id, JsonObject *body_map, GError **error)
{
  JsonObject *g = group_node (model, id, error);
  if (!g)
    return NULL;
  JsonObject *def = definition_of (model, g);
  JsonArray *names = gradus_json_get_array (def, "inputs", FALSE);
  JsonArray *refs = gradus_json_get_array (g, "inputs", FALSE);
  JsonArray *body = gradus_json_get_array (def, "nodes", FALSE);
  JsonArray *outs = gradus_json_get_array (def, "outputs", FALSE);
  double gx = 40, gy = 40;
  gradus_doc_model_get_position (model, id, &gx, &gy);

  g_autoptr (GHashTable) inputs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; names && i < json_array_get_length (names); i++) {
    const char *nm = gradus_json_ref_string (json_array_get_element (names, i));
    const char *r = refs && i < json_array_get_length (refs)
                      ? gradus_json_ref_string (json_array_get_element (refs, i)) : NULL;
    if (nm)
      g_hash_table_insert (inputs, g_strdup (nm), g_strdup (r));
  }
  g_autoptr (GHashTable) flat = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GHashTable) extra = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; body && i < json_array_get_length (body); i++) {
    const char *bid = gradus_json_get_string (node_object (json_array_get_element (body, i)), "id");
    if (!bid)
      continue;
    g_autofree char *want = g_strdup_printf ("%s.%s", id, bid);
    char *f = gradus_doc_unique_id (model, want, extra);
    g_hash_table_add (extra, f);
    g_hash_table_insert (flat, g_strdup (bid), f);
    if (body_map)
      json_object_set_string_member (body_map, f, bid);
  }
  Inner inner = { inputs, flat };
  Outer outer = { id, g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free) };
  for (guint k = 0; outs && k < json_array_get_length (outs); k++) {
    const char *r = gradus_json_ref_string (json_array_get_element (outs, k));
    char *to = NULL;
    if (r && !rewrite_inner (r, &inner, &to))
      to = g_strdup (r);
    if (to)
      g_hash_table_insert (outer.outputs, g_strdup_printf ("%u", k), to);
  }

  JsonArray *nodes = gradus_doc_nodes (model);
  gint at = gradus_doc_find_index (nodes, id);
  JsonArray *out = json_array_new ();
  GPtrArray *new_ids = g_ptr_array_new ();
  JsonObject *def_ui = gradus_json_object_member (def, "ui", FALSE);
  JsonObject *pos = def_ui ? gradus_json_object_member (def_ui, "nodes", FALSE) : NULL;
  for (guint i = 0; i < json_array_get_length (nodes); i++) {
    if ((gint) i != at) {
      JsonNode *e = gradus_json_deep_copy (json_array_get_element (nodes, i));
      if (node_object (e))
        rewrite_node (node_object (e), rewrite_use, &outer);
      json_array_add_element (out, e);
      continue;
    }
    for (guint b = 0; body && b < json_array_get_length (body); b++) {
      JsonNode *e = gradus_json_deep_copy (json_array_get_element (body, b));
      JsonObject *o = node_object (e);
      const char *bid = o ? gradus_json_get_string (o, "id") : NULL;
      if (!bid) {
        json_node_unref (e);
        continue;
      }
      g_autofree char *bid_copy = g_strdup (bid);
      const char *f = g_hash_table_lookup (flat, bid_copy);
      json_object_set_string_member (o, "id", f);
      rewrite_node (o, rewrite_inner, &inner);
      json_array_add_element (out, e);
      g_ptr_array_add (new_ids, g_strdup (f));
      JsonObject *p = pos ? gradus_json_object_member (pos, bid_copy, FALSE) : NULL;
      double px = p && json_object_has_member (p, "x") ? json_object_get_double_member (p, "x") : 40 + 180.0 * b;
      double py = p && json_object_has_member (p, "y") ? json_object_get_double_member (p, "y") : 40;
      gradus_doc_set_position (model, f, gx + px - 40, gy + py - 40);
    }
  }
  json_object_set_array_member (gradus_doc_root (model), "nodes", out);
  rewrite_functions (model, rewrite_use, &outer);
  JsonObject *ui_nodes = gradus_doc_ui_nodes (model, FALSE);
  if (ui_nodes && json_object_has_member (ui_nodes, id))
    json_object_remove_member (ui_nodes, id);
  g_hash_table_unref (outer.outputs);
  g_ptr_array_add (new_ids, NULL);
  return (GStrv) g_ptr_array_free (new_ids, FALSE);
}

static gboolean
definition_used (GradusDocModel *model, const char *key)
{
  JsonArray *nodes = gradus_doc_nodes (model);
  for (guint i = 0; i < json_array_get_length (nodes); i++) {
    JsonObject *o = node_object (json_array_get_element (nodes, i));
    if (o && g_strcmp0 (gradus_json_get_string (o, "kind"), "group") == 0
        && g_strcmp0 (gradus_json_get_string (o, "group"), key) == 0)
      return TRUE;
  }
  /* other definitions may use it too */
  JsonObject *defs = group_defs (model, FALSE);
  g_autoptr (GList) names = defs ? json_object_get_members (defs) : NULL;
  for (GList *l = names; l; l = l->next) {
    JsonArray *body = gradus_json_get_array (node_object (json_object_get_member (defs, l->data)),
                                             "nodes", FALSE);
    for (guint i = 0; body && i < json_array_get_length (body); i++)
      if (g_strcmp0 (gradus_json_get_string (node_object (json_array_get_element (body, i)), "group"),
                     key) == 0)
        return TRUE;
  }
  return FALSE;
}

GStrv
gradus_group_ungroup (GradusDocModel *model, const char *id, GError **error)
{
  g_return_val_if_fail (GRADUS_IS_DOC_MODEL (model), NULL);
  JsonObject *g = group_node (model, id, error);
  if (!g)
    return NULL;
  g_autofree char *key = g_strdup (gradus_json_get_string (g, "group"));
  gradus_doc_model_begin_edit (model);
  GStrv ids = expand (model, id, NULL, error);
  if (!ids) {
    gradus_doc_model_abort_edit (model);
    return NULL;
  }
  if (!definition_used (model, key))
    json_object_remove_member (group_defs (model, FALSE), key);
  gradus_doc_model_commit_edit (model, _("Ungroup"));
  return ids;
}

/* ------------------------------------------------------------ open, close */

static JsonObject *
open_record (GradusDocModel *model)
{
  JsonObject *ui = gradus_json_object_member (gradus_doc_root (model), "ui", FALSE);
  return ui ? gradus_json_object_member (ui, OPEN_KEY, FALSE) : NULL;
}

char *
gradus_group_open_id (GradusDocModel *model, char **name)
{
  JsonObject *r = open_record (model);
  if (name)
    *name = r ? g_strdup (gradus_json_get_string (r, "name")) : NULL;
  return r ? g_strdup (gradus_json_get_string (r, "node")) : NULL;
}

gboolean
gradus_group_is_inside (GradusDocModel *model, const char *id)
{
  JsonObject *r = open_record (model);
  JsonArray *outside = r ? gradus_json_get_array (r, "outside", FALSE) : NULL;
  if (!outside || !gradus_doc_model_get_node (model, id))
    return FALSE;
  for (guint i = 0; i < json_array_get_length (outside); i++)
    if (g_strcmp0 (gradus_json_ref_string (json_array_get_element (outside, i)), id) == 0)
      return FALSE;
  return TRUE;
}

gboolean
gradus_group_open (GradusDocModel *model, const char *id, GError **error)
{
  g_return_val_if_fail (GRADUS_IS_DOC_MODEL (model), FALSE);
  if (open_record (model)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("Close the open group first"));
    return FALSE;
  }
  JsonObject *g = group_node (model, id, error);
  if (!g)
    return FALSE;
  JsonObject *def = definition_of (model, g);
  JsonObject *rec = json_object_new ();
  json_object_set_string_member (rec, "node", id);
  json_object_set_string_member (rec, "group", gradus_json_get_string (g, "group"));
  const char *name = gradus_json_get_string (def, "name");
  json_object_set_string_member (rec, "name", name ? name : gradus_json_get_string (g, "group"));
  JsonArray *in = gradus_json_get_array (g, "inputs", FALSE);
  JsonArray *names = gradus_json_get_array (def, "inputs", FALSE);
  JsonArray *outs = gradus_json_get_array (def, "outputs", FALSE);
  json_object_set_array_member (rec, "inputs", in ? json_array_ref (in) : json_array_new ());
  json_object_set_array_member (rec, "input_names", names ? json_array_ref (names) : json_array_new ());
  json_object_set_array_member (rec, "outputs", outs ? json_array_ref (outs) : json_array_new ());
  JsonArray *outside = json_array_new ();
  JsonArray *nodes = gradus_doc_nodes (model);
  for (guint i = 0; i < json_array_get_length (nodes); i++) {
    const char *nid = gradus_json_get_string (node_object (json_array_get_element (nodes, i)), "id");
    if (nid && !g_str_equal (nid, id))
      json_array_add_string_element (outside, nid);
  }
  json_object_set_array_member (rec, "outside", outside);
  JsonObject *body_map = json_object_new ();
  json_object_set_object_member (rec, "body", body_map);

  gradus_doc_model_begin_edit (model);
  /* copies of what the record holds, before expand() replaces them */
  JsonNode *rec_node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (rec_node, rec);
  g_autoptr (JsonNode) rec_copy = gradus_json_deep_copy (rec_node);
  json_node_unref (rec_node);
  JsonObject *r = json_node_get_object (rec_copy);
  g_auto (GStrv) ids = expand (model, id, gradus_json_object_member (r, "body", TRUE), error);
  if (!ids) {
    gradus_doc_model_abort_edit (model);
    return FALSE;
  }
  JsonObject *ui = gradus_json_object_member (gradus_doc_root (model), "ui", TRUE);
  json_object_set_member (ui, OPEN_KEY, gradus_json_deep_copy (rec_copy));
  g_autofree char *label = g_strdup_printf (_("Open group %s"), id);
  gradus_doc_model_commit_edit (model, label);
  return TRUE;
}

gboolean
gradus_group_close (GradusDocModel *model, GError **error)
{
  g_return_val_if_fail (GRADUS_IS_DOC_MODEL (model), FALSE);
  JsonObject *r = open_record (model);
  if (!r) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("No group is open"));
    return FALSE;
  }
  g_autoptr (JsonNode) seed_node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (seed_node, r);
  g_autoptr (JsonNode) seed_copy = gradus_json_deep_copy (seed_node);
  JsonObject *seed = json_node_get_object (seed_copy);
  const char *node_id = gradus_json_get_string (seed, "node");
  const char *key = gradus_json_get_string (seed, "group");
  const char *name = gradus_json_get_string (seed, "name");
  if (!node_id || !key || gradus_doc_model_get_node (model, node_id)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("The open group's record is damaged"));
    return FALSE;
  }
  GPtrArray *inside = g_ptr_array_new ();
  JsonArray *nodes = gradus_doc_nodes (model);
  for (guint i = 0; i < json_array_get_length (nodes); i++) {
    const char *nid = gradus_json_get_string (node_object (json_array_get_element (nodes, i)), "id");
    if (nid && gradus_group_is_inside (model, nid))
      g_ptr_array_add (inside, (gpointer) nid);
  }
  g_ptr_array_add (inside, NULL);
  g_autofree const char **ids = (const char **) g_ptr_array_free (inside, FALSE);
  gradus_doc_model_begin_edit (model);
  /* `ids` point into the tree: regroup() replaces the nodes array last */
  g_auto (GStrv) ids_copy = g_strdupv ((char **) ids);
  json_object_remove_member (gradus_json_object_member (gradus_doc_root (model), "ui", FALSE), OPEN_KEY);
  if (!regroup (model, (const char *const *) ids_copy, node_id, key, name ? name : key, seed, error)) {
    gradus_doc_model_abort_edit (model);
    return FALSE;
  }
  g_autofree char *label = g_strdup_printf (_("Close group %s"), node_id);
  gradus_doc_model_commit_edit (model, label);
  return TRUE;
}

/* ------------------------------------------------------------ ports */

gboolean
gradus_group_ports (GradusDocModel *model, const char *id, GPtrArray *in_names,
                    GPtrArray *out_names)
{
  JsonObject *g = gradus_doc_model_get_node (model, id);
  JsonObject *def = g ? definition_of (model, g) : NULL;
  if (!def)
    return FALSE;
  JsonArray *in = gradus_json_get_array (def, "inputs", FALSE);
  JsonArray *out = gradus_json_get_array (def, "outputs", FALSE);
  for (guint i = 0; in_names && in && i < json_array_get_length (in); i++) {
    const char *s = gradus_json_ref_string (json_array_get_element (in, i));
    g_ptr_array_add (in_names, g_strdup (s ? s : "?"));
  }
  for (guint i = 0; out_names && out && i < json_array_get_length (out); i++) {
    const char *s = gradus_json_ref_string (json_array_get_element (out, i));
    g_ptr_array_add (out_names, g_strdup (s ? s : "?"));
  }
  return TRUE;
}

char *
gradus_group_flat_ref (GradusDocModel *model, const char *ref)
{
  gint k = 0;
  g_autofree char *id = ref ? gradus_ref_parse (ref, &k) : NULL;
  JsonObject *g = id ? gradus_doc_model_get_node (model, id) : NULL;
  if (!g || g_strcmp0 (gradus_json_get_string (g, "kind"), "group") != 0)
    return NULL;
  JsonObject *def = definition_of (model, g);
  JsonArray *out = def ? gradus_json_get_array (def, "outputs", FALSE) : NULL;
  if (!out || k < 0 || (guint) k >= json_array_get_length (out))
    return NULL;
  const char *r = gradus_json_ref_string (json_array_get_element (out, k));
  return r ? g_strdup_printf ("%s.%s", id, r) : NULL;
}

gboolean
gradus_group_rename (GradusDocModel *model, const char *id, const char *name, GError **error)
{
  JsonObject *g = group_node (model, id, error);
  if (!g)
    return FALSE;
  if (g_strcmp0 (gradus_json_get_string (definition_of (model, g), "name"), name) == 0)
    return TRUE;
  gradus_doc_model_begin_edit (model);
  g = gradus_doc_model_get_node (model, id);
  json_object_set_string_member (definition_of (model, g), "name", name);
  json_object_set_string_member (g, "name", name);
  gradus_doc_model_commit_edit (model, _("Rename group"));
  return TRUE;
}

char *
gradus_group_display_name (GradusDocModel *model, const char *id)
{
  JsonObject *g = gradus_doc_model_get_node (model, id);
  JsonObject *def = g ? definition_of (model, g) : NULL;
  const char *name = def ? gradus_json_get_string (def, "name") : NULL;
  return g_strdup (name ? name : def ? gradus_json_get_string (g, "group") : NULL);
}

/* ------------------------------------------------------------ the user's library */

char *
gradus_group_library_dir (void)
{
  return g_build_filename (g_get_user_data_dir (), "gradus", "groups", NULL);
}

char *
gradus_group_save_to_library (GradusDocModel *model, const char *id, GError **error)
{
  JsonObject *g = group_node (model, id, error);
  if (!g)
    return NULL;
  JsonObject *def = definition_of (model, g);
  JsonArray *body = gradus_json_get_array (def, "nodes", FALSE);
  for (guint i = 0; body && i < json_array_get_length (body); i++)
    if (g_strcmp0 (gradus_json_get_string (node_object (json_array_get_element (body, i)), "kind"),
                   "group") == 0) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH,
                   _("%s: a group that uses other groups cannot be saved to the palette; "
                     "ungroup the inner ones first"), id);
      return NULL;
    }
  g_autofree char *dir = gradus_group_library_dir ();
  if (g_mkdir_with_parents (dir, 0755) != 0) {
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                 _("Could not create %s: %s"), dir, g_strerror (errno));
    return NULL;
  }
  const char *name = gradus_json_get_string (def, "name");
  if (!name)
    name = gradus_json_get_string (g, "group");
  g_autofree char *file = slug (name, '-');
  g_autofree char *base = g_strconcat (file, ".json", NULL);
  char *path = g_build_filename (dir, base, NULL);
  g_autoptr (JsonNode) copy = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (copy, def);
  g_autoptr (JsonNode) saved = gradus_json_deep_copy (copy);
  json_object_set_string_member (json_node_get_object (saved), "name", name);
  g_autofree char *text = json_to_string (saved, TRUE);
  if (!g_file_set_contents (path, text, -1, error)) {
    g_free (path);
    return NULL;
  }
  return path;
}

static JsonNode *
library_load (const char *path, char **name)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  if (!json_parser_load_from_file (p, path, NULL))
    return NULL;
  JsonNode *root = json_parser_get_root (p);
  JsonObject *o = node_object (root);
  if (!o || !gradus_json_get_array (o, "nodes", FALSE) || !gradus_json_get_string (o, "name"))
    return NULL;
  *name = g_strdup (gradus_json_get_string (o, "name"));
  return gradus_json_deep_copy (root);
}

/* name -> path of every saved group */
static GHashTable *
library_index (void)
{
  GHashTable *index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *dir = gradus_group_library_dir ();
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *f;
  while (d && (f = g_dir_read_name (d))) {
    if (!g_str_has_suffix (f, ".json"))
      continue;
    char *path = g_build_filename (dir, f, NULL);
    g_autofree char *name = NULL;
    g_autoptr (JsonNode) def = library_load (path, &name);
    if (def)
      g_hash_table_insert (index, g_steal_pointer (&name), path);
    else
      g_free (path);
  }
  return index;
}

GStrv
gradus_group_library_names (void)
{
  g_autoptr (GHashTable) index = library_index ();
  guint n;
  g_autofree gpointer *keys = g_hash_table_get_keys_as_array (index, &n);
  GStrv names = g_new0 (char *, n + 1);
  for (guint i = 0; i < n; i++)
    names[i] = g_strdup (keys[i]);
  qsort (names, n, sizeof (char *), (int (*) (const void *, const void *)) g_strcmp0);
  return names;
}

char *
gradus_group_add_from_library (GradusDocModel *model, const char *name, double x, double y,
                               GError **error)
{
  g_autoptr (GHashTable) index = library_index ();
  const char *path = g_hash_table_lookup (index, name);
  g_autofree char *loaded_name = NULL;
  g_autoptr (JsonNode) def = path ? library_load (path, &loaded_name) : NULL;
  if (!def) {
    g_autofree char *dir = gradus_group_library_dir ();
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, _("No saved group named '%s' in %s"), name, dir);
    return NULL;
  }
  /* The same definition already in the file is used again, not copied. */
  g_autofree char *base = slug (name, '_');
  g_autofree char *text = json_to_string (def, FALSE);
  JsonObject *defs = group_defs (model, FALSE);
  char *key = NULL;
  for (guint n = 1; !key; n++) {
    g_autofree char *k = n == 1 ? g_strdup (base) : g_strdup_printf ("%s%u", base, n);
    JsonNode *have = defs ? json_object_get_member (defs, k) : NULL;
    g_autofree char *have_text = have ? json_to_string (have, FALSE) : NULL;
    if (!have || g_str_equal (have_text, text))
      key = g_steal_pointer (&k);
  }
  g_autofree char *key_owned = key;
  JsonArray *inputs = gradus_json_get_array (json_node_get_object (def), "inputs", FALSE);
  gradus_doc_model_begin_edit (model);
  JsonObject *d = group_defs (model, TRUE);
  if (!json_object_has_member (d, key))
    json_object_set_member (d, key, gradus_json_deep_copy (def));
  char *id = gradus_doc_unique_id (model, base, NULL);
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "id", id);
  json_object_set_string_member (o, "kind", "group");
  json_object_set_string_member (o, "group", key);
  json_object_set_string_member (o, "name", name);
  JsonArray *in = json_array_new ();
  for (guint i = 0; inputs && i < json_array_get_length (inputs); i++)
    json_array_add_null_element (in);
  json_object_set_array_member (o, "inputs", in);
  json_array_add_object_element (gradus_doc_nodes (model), o);
  gradus_doc_set_position (model, id, x, y);
  g_autofree char *label = g_strdup_printf (_("Add group %s"), name);
  gradus_doc_model_commit_edit (model, label);
  return id;
}
