/* grd-document-groups.c: groups (docs/format.md, "Groups").
 *
 * A file may define reusable groups under "groups" and use them as nodes of
 * kind "group". When a file is loaded, every group node is replaced by a copy
 * of its definition's nodes, with ids prefixed by the group node's id and a
 * dot ("layer1.xw"); the definition's inputs become the group node's input
 * references, and "layer1" / "layer1:k" become the definition's outputs
 * wherever the file refers to them. The engine then builds, differentiates,
 * compiles and runs the flat graph: nothing downstream knows about groups. */
#include "../grd-internal.h"

#include <string.h>

/* Nested groups deeper than this are refused (and so are cycles). */
#define GROUP_MAX_DEPTH 16

typedef struct {
  const char *label;      /* the file, for messages */
  JsonObject *defs;       /* "groups", or NULL */
  GHashTable *aliases;    /* "inst" or "inst:k" -> reference it stands for */
  JsonArray  *out;        /* the flat node list being built */
  GError    **error;
} Expander;

static const char *
string_of (JsonNode *n)
{
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
           ? json_node_get_string (n) : NULL;
}

static const char *
member_string (JsonObject *o, const char *key)
{
  return string_of (json_object_get_member (o, key));
}

static JsonArray *
member_array (JsonObject *o, const char *key)
{
  JsonNode *n = json_object_get_member (o, key);
  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static gboolean
is_group_node (JsonNode *n)
{
  return n && JSON_NODE_HOLDS_OBJECT (n)
         && g_strcmp0 (member_string (json_node_get_object (n), "kind"), "group") == 0;
}

/* Splits "id:k" (k = 0 without a colon). */
static char *
split_ref (const char *ref, gint64 *k)
{
  const char *colon = strrchr (ref, ':');
  *k = 0;
  if (!colon)
    return g_strdup (ref);
  *k = g_ascii_strtoll (colon + 1, NULL, 10);
  return g_strndup (ref, colon - ref);
}

/* The members of a node that hold references, and whether each is a list. */
static const struct { const char *key; gboolean list; } ref_keys[] = {
  { "inputs", TRUE }, { "wrt", TRUE }, { "consider_constant", TRUE }, { "eval_points", TRUE },
  { "cost", FALSE }, { "expression", FALSE }, { "f", FALSE }, { "like", FALSE },
};

/* Returns the reference that replaces `ref` (newly allocated), or NULL to
 * keep it; FALSE in *ok stops the walk. */
typedef char *(*RefRewrite) (const char *ref, gpointer data, gboolean *ok);

/* Rewrites every reference of node `o`. The rewritten members are new nodes:
 * value nodes copied by json-glib share their values with the original, so
 * changing them in place would change the group's definition too. */
static gboolean
foreach_ref (JsonObject *o, RefRewrite fn, gpointer data)
{
  gboolean ok = TRUE;
  for (gsize i = 0; i < G_N_ELEMENTS (ref_keys) && ok; i++) {
    JsonNode *n = json_object_get_member (o, ref_keys[i].key);
    if (!n)
      continue;
    if (ref_keys[i].list && JSON_NODE_HOLDS_ARRAY (n)) {
      JsonArray *a = json_node_get_array (n), *b = json_array_new ();
      for (guint k = 0; k < json_array_get_length (a); k++) {
        JsonNode *e = json_array_get_element (a, k);
        const char *ref = string_of (e);
        g_autofree char *to = ref && ok ? fn (ref, data, &ok) : NULL;
        if (to)
          json_array_add_string_element (b, to);
        else
          json_array_add_element (b, json_node_copy (e));
      }
      json_object_set_array_member (o, ref_keys[i].key, b);
    } else if (!ref_keys[i].list && string_of (n)) {
      g_autofree char *to = fn (string_of (n), data, &ok);
      if (to)
        json_object_set_string_member (o, ref_keys[i].key, to);
    }
  }
  return ok;
}

/* ------------------------------------------------------------ one instance */

typedef struct {
  Expander   *x;
  const char *instance;   /* the group node's id (the prefix) */
  const char *group;      /* the definition's name */
  const char *node;       /* the body node being rewritten */
  GHashTable *inputs;     /* input name -> outer reference */
  GHashTable *body;       /* body ids */
} Scope;

static char *
rewrite_body_ref (const char *ref, gpointer data, gboolean *ok)
{
  Scope *s = data;
  const char *outer = g_hash_table_lookup (s->inputs, ref);
  if (outer)
    return g_strdup (outer);
  gint64 k;
  g_autofree char *id = split_ref (ref, &k);
  if (!g_hash_table_contains (s->body, id)) {
    g_set_error (s->x->error, GRD_ERROR, GRD_ERROR_GRAPH,
                 "%s: node '%s' (group '%s', node '%s'): '%s' is neither an input of the group "
                 "nor one of its nodes", s->x->label, s->instance, s->group, s->node, ref);
    *ok = FALSE;
    return NULL;
  }
  return g_strdup_printf ("%s.%s", s->instance, ref);
}

static gboolean expand_list (Expander *x, JsonArray *nodes, const char *prefix, GHashTable *inputs,
                             const char *group, gint depth);

/* Expands group node `o` (id already prefixed) into x->out. `inputs` maps the
 * enclosing body's input names when the group node sits inside a group. */
static gboolean
expand_instance (Expander *x, JsonObject *o, const char *id, GHashTable *outer_inputs,
                 gint depth)
{
  const char *name = member_string (o, "group");
  JsonNode *dn = name && x->defs ? json_object_get_member (x->defs, name) : NULL;
  if (!name || !dn || !JSON_NODE_HOLDS_OBJECT (dn)) {
    g_set_error (x->error, GRD_ERROR, GRD_ERROR_GRAPH,
                 "%s: node '%s': \"group\" must name a definition of \"groups\"%s%s%s",
                 x->label, id, name ? " (there is none named '" : "", name ? name : "",
                 name ? "')" : "");
    return FALSE;
  }
  if (depth >= GROUP_MAX_DEPTH) {
    g_set_error (x->error, GRD_ERROR, GRD_ERROR_GRAPH,
                 "%s: node '%s': groups nested more than %d deep (a group that contains itself?)",
                 x->label, id, GROUP_MAX_DEPTH);
    return FALSE;
  }
  JsonObject *def = json_node_get_object (dn);
  JsonArray *names = member_array (def, "inputs");
  JsonArray *body = member_array (def, "nodes");
  JsonArray *outs = member_array (def, "outputs");
  if (!body || !outs || json_array_get_length (outs) == 0) {
    g_set_error (x->error, GRD_ERROR, GRD_ERROR_GRAPH,
                 "%s: group '%s' needs \"nodes\" and at least one \"outputs\" reference",
                 x->label, name);
    return FALSE;
  }
  JsonArray *given = member_array (o, "inputs");
  guint n_in = names ? json_array_get_length (names) : 0;
  guint n_given = given ? json_array_get_length (given) : 0;
  if (n_given != n_in) {
    g_set_error (x->error, GRD_ERROR, GRD_ERROR_GRAPH,
                 "%s: node '%s': group '%s' takes %u inputs, the node gives %u",
                 x->label, id, name, n_in, n_given);
    return FALSE;
  }
  g_autoptr (GHashTable) inputs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; i < n_in; i++) {
    const char *in_name = string_of (json_array_get_element (names, i));
    const char *ref = string_of (json_array_get_element (given, i));
    if (!in_name) {
      g_set_error (x->error, GRD_ERROR, GRD_ERROR_GRAPH,
                   "%s: group '%s': input %u must be a name (a string)", x->label, name, i);
      return FALSE;
    }
    if (!ref) {
      g_set_error (x->error, GRD_ERROR, GRD_ERROR_GRAPH,
                   "%s: node '%s': input %u (%s) of group '%s' is not connected", x->label, id,
                   i, in_name, name);
      return FALSE;
    }
    /* An input of an enclosing group's body resolves there first. */
    const char *outer = outer_inputs ? g_hash_table_lookup (outer_inputs, ref) : NULL;
    g_hash_table_insert (inputs, g_strdup (in_name), g_strdup (outer ? outer : ref));
  }
  if (!expand_list (x, body, id, inputs, name, depth + 1))
    return FALSE;
  /* "id:k" (and "id" for k = 0) now stand for the definition's outputs. */
  for (guint k = 0; k < json_array_get_length (outs); k++) {
    const char *r = string_of (json_array_get_element (outs, k));
    if (!r) {
      g_set_error (x->error, GRD_ERROR, GRD_ERROR_GRAPH,
                   "%s: group '%s': output %u must be a reference (a string)", x->label, name, k);
      return FALSE;
    }
    const char *in = g_hash_table_lookup (inputs, r);
    char *to = in ? g_strdup (in) : g_strdup_printf ("%s.%s", id, r);
    if (k == 0)
      g_hash_table_insert (x->aliases, g_strdup (id), g_strdup (to));
    g_hash_table_insert (x->aliases, g_strdup_printf ("%s:%u", id, k), to);
  }
  return TRUE;
}

/* Copies `nodes` into x->out: prefixed ("prefix.id") and rewritten when they
 * are a group's body, group nodes expanded. */
static gboolean
expand_list (Expander *x, JsonArray *nodes, const char *prefix, GHashTable *inputs,
             const char *group, gint depth)
{
  g_autoptr (GHashTable) ids = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < json_array_get_length (nodes); i++) {
    JsonNode *n = json_array_get_element (nodes, i);
    const char *id = JSON_NODE_HOLDS_OBJECT (n) ? member_string (json_node_get_object (n), "id") : NULL;
    if (id)
      g_hash_table_add (ids, (gpointer) id);
  }
  for (guint i = 0; i < json_array_get_length (nodes); i++) {
    JsonNode *n = json_array_get_element (nodes, i);
    const char *id = JSON_NODE_HOLDS_OBJECT (n) ? member_string (json_node_get_object (n), "id") : NULL;
    if (!prefix) {
      /* the file's own list: the builder reports bad entries by node */
      if (!is_group_node (n)) {
        json_array_add_element (x->out, json_node_copy (n));
        continue;
      }
      if (!expand_instance (x, json_node_get_object (n), id ? id : "?", NULL, depth))
        return FALSE;
      continue;
    }
    if (!id) {
      g_set_error (x->error, GRD_ERROR, GRD_ERROR_GRAPH,
                   "%s: group '%s': node %u needs an \"id\" string", x->label, group, i);
      return FALSE;
    }
    const char *kind = member_string (json_node_get_object (n), "kind");
    if (g_strcmp0 (kind, "variable") == 0 || g_strcmp0 (kind, "shared") == 0) {
      g_set_error (x->error, GRD_ERROR, GRD_ERROR_GRAPH,
                   "%s: group '%s', node '%s': a group holds ops and constants; %s nodes stay "
                   "outside it and come in as inputs", x->label, group, id, kind);
      return FALSE;
    }
    g_autofree char *full = g_strdup_printf ("%s.%s", prefix, id);
    /* a new object, so that the rewrite leaves the definition alone; members
     * holding references are replaced, not changed, by foreach_ref */
    JsonObject *src = json_node_get_object (n), *dst = json_object_new ();
    JsonObjectIter it;
    const char *key;
    JsonNode *member;
    json_object_iter_init_ordered (&it, src);
    while (json_object_iter_next_ordered (&it, &key, &member))
      json_object_set_member (dst, key, json_node_copy (member));
    json_object_set_string_member (dst, "id", full);
    Scope s = { x, prefix, group, id, inputs, ids };
    if (!foreach_ref (dst, rewrite_body_ref, &s)) {
      json_object_unref (dst);
      return FALSE;
    }
    if (g_strcmp0 (kind, "group") == 0) {
      /* the inputs were rewritten to outer references already */
      gboolean ok = expand_instance (x, dst, full, NULL, depth);
      json_object_unref (dst);
      if (!ok)
        return FALSE;
      continue;
    }
    JsonNode *out = json_node_new (JSON_NODE_OBJECT);
    json_node_take_object (out, dst);
    json_array_add_element (x->out, out);
  }
  return TRUE;
}

/* ------------------------------------------------------------ references to groups */

static const char *
resolve (GHashTable *aliases, const char *ref)
{
  /* a group's output may be another group's output (or input): follow the chain */
  for (gint hops = 0; hops < 1000; hops++) {
    const char *to = g_hash_table_lookup (aliases, ref);
    if (!to)
      return ref;
    ref = to;
  }
  return ref;
}

static char *
resolve_ref (const char *ref, gpointer data, gboolean *ok)
{
  const char *to = resolve (data, ref);
  return to != ref ? g_strdup (to) : NULL;
}

static void
resolve_function (JsonObject *f, GHashTable *aliases)
{
  JsonArray *outs = member_array (f, "outputs");
  if (outs) {
    JsonArray *b = json_array_new ();
    for (guint i = 0; i < json_array_get_length (outs); i++) {
      JsonNode *e = json_array_get_element (outs, i);
      const char *ref = string_of (e);
      if (ref)
        json_array_add_string_element (b, resolve (aliases, ref));
      else
        json_array_add_element (b, json_node_copy (e));
    }
    json_object_set_array_member (f, "outputs", b);
  }
  JsonArray *ups = member_array (f, "updates");
  for (guint i = 0; ups && i < json_array_get_length (ups); i++) {
    JsonNode *u = json_array_get_element (ups, i);
    const char *ref = JSON_NODE_HOLDS_OBJECT (u)
                        ? member_string (json_node_get_object (u), "value") : NULL;
    if (ref)
      json_object_set_string_member (json_node_get_object (u), "value", resolve (aliases, ref));
  }
}

gboolean
grd_document_has_groups (JsonNode *root)
{
  JsonObject *o = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  JsonArray *nodes = o ? member_array (o, "nodes") : NULL;
  for (guint i = 0; nodes && i < json_array_get_length (nodes); i++)
    if (is_group_node (json_array_get_element (nodes, i)))
      return TRUE;
  return FALSE;
}

gboolean
grd_document_expand_groups (JsonNode *root, const char *label, GError **error)
{
  if (!grd_document_has_groups (root))
    return TRUE;
  JsonObject *o = json_node_get_object (root);
  JsonNode *defs = json_object_get_member (o, "groups");
  if (defs && !JSON_NODE_HOLDS_OBJECT (defs)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                 "%s: \"groups\" must be an object (group name -> definition)", label);
    return FALSE;
  }
  g_autoptr (GHashTable) aliases = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  Expander x = { label, defs ? json_node_get_object (defs) : NULL, aliases, json_array_new (),
                 error };
  if (!expand_list (&x, member_array (o, "nodes"), NULL, NULL, NULL, 0)) {
    json_array_unref (x.out);
    return FALSE;
  }
  for (guint i = 0; i < json_array_get_length (x.out); i++) {
    JsonNode *n = json_array_get_element (x.out, i);
    if (JSON_NODE_HOLDS_OBJECT (n))
      foreach_ref (json_node_get_object (n), resolve_ref, aliases);
  }
  json_object_set_array_member (o, "nodes", x.out);
  JsonNode *f = json_object_get_member (o, "function");
  if (f && JSON_NODE_HOLDS_OBJECT (f))
    resolve_function (json_node_get_object (f), aliases);
  JsonNode *fs = json_object_get_member (o, "functions");
  if (fs && JSON_NODE_HOLDS_OBJECT (fs)) {
    g_autoptr (GList) names = json_object_get_members (json_node_get_object (fs));
    for (GList *l = names; l; l = l->next) {
      JsonNode *fn = json_object_get_member (json_node_get_object (fs), l->data);
      if (JSON_NODE_HOLDS_OBJECT (fn))
        resolve_function (json_node_get_object (fn), aliases);
    }
  }
  return TRUE;
}
