/* grd-document-kinds.c: the node kinds of part two of the format: scan,
 * random, jacobian, hessian, rop, lop (docs/format.md).
 *
 * A scan's body is built into a graph of its own. A reference that the body
 * does not define is looked up in the enclosing scopes (the file's graph, or
 * the body of an enclosing scan): the body gets a variable of that id, and
 * the scan reads the outer value as one more non-sequence, after the listed
 * ones. That is how a body reads shared variables and constants, and how
 * their gradients come back (backpropagation through time). */
#include "../grd-internal.h"

#include <string.h>

typedef struct _Scope Scope;
struct _Scope {
  GrdGraph   *graph;
  Scope      *parent;
  GArray     *outer;      /* GrdRef in the parent's graph, one per implicit input */
  GArray     *inner;      /* the body variable standing for it */
  GHashTable *implicit;   /* reference text -> index + 1 into outer/inner */
  const char *base_dir;
  const GrdLimits *limits;  /* the document's: a body's data files obey them too */
};

static gboolean build_kind (Scope *scope, JsonObject *obj, const char *id, const char *kind,
                            GError **error);

static gboolean
is_string (JsonNode *n)
{
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING;
}

static gboolean
is_number (JsonNode *n, double *out)
{
  if (!n || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  GType t = json_node_get_value_type (n);
  if (t != G_TYPE_INT64 && t != G_TYPE_DOUBLE)
    return FALSE;
  *out = json_node_get_double (n);
  return TRUE;
}

static const char *
json_kind (JsonNode *n)
{
  if (!n)
    return "missing";
  if (JSON_NODE_HOLDS_NULL (n))
    return "null";
  if (JSON_NODE_HOLDS_ARRAY (n))
    return "a list";
  if (JSON_NODE_HOLDS_OBJECT (n))
    return "an object";
  return is_string (n) ? "a string" : "a number";
}

gboolean
grd_document_kind_is_extra (const char *kind)
{
  static const char *const kinds[] = { "scan", "random", "jacobian", "hessian", "rop", "lop" };
  for (guint i = 0; kind && i < G_N_ELEMENTS (kinds); i++)
    if (g_str_equal (kind, kinds[i]))
      return TRUE;
  return FALSE;
}

/* ------------------------------------------------------------ references a node makes */

static void
add_ref (GPtrArray *refs, GPtrArray *what, JsonNode *n, const char *desc)
{
  if (is_string (n)) {
    g_ptr_array_add (refs, (gpointer) json_node_get_string (n));
    g_ptr_array_add (what, g_strdup (desc));
  }
}

static void
add_ref_list (GPtrArray *refs, GPtrArray *what, JsonNode *n, const char *key)
{
  if (is_string (n)) {
    add_ref (refs, what, n, key);
    return;
  }
  if (!n || !JSON_NODE_HOLDS_ARRAY (n))
    return;
  JsonArray *a = json_node_get_array (n);
  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonNode *e = json_array_get_element (a, i);
    g_autofree char *d = g_strdup_printf ("%s %u", key, i);
    if (JSON_NODE_HOLDS_OBJECT (e)) {
      JsonObject *o = json_node_get_object (e);
      add_ref (refs, what, json_object_get_member (o, "ref"), d);
      add_ref (refs, what, json_object_get_member (o, "init"), d);
    } else {
      add_ref (refs, what, e, d);
    }
  }
}

static char *
ref_id (const char *ref)
{
  const char *colon = strrchr (ref, ':');
  return colon ? g_strndup (ref, colon - ref) : g_strdup (ref);
}

static void node_refs (JsonObject *obj, const char *kind, GPtrArray *refs, GPtrArray *what);

/* The references of a body that its own nodes do not define. */
static void
body_free_refs (JsonObject *body, GPtrArray *refs, GPtrArray *what)
{
  g_autoptr (GHashTable) own = g_hash_table_new (g_str_hash, g_str_equal);
  JsonNode *nn = json_object_get_member (body, "nodes");
  JsonArray *nodes = nn && JSON_NODE_HOLDS_ARRAY (nn) ? json_node_get_array (nn) : NULL;
  for (guint i = 0; nodes && i < json_array_get_length (nodes); i++) {
    JsonNode *e = json_array_get_element (nodes, i);
    if (JSON_NODE_HOLDS_OBJECT (e) && is_string (json_object_get_member (json_node_get_object (e), "id")))
      g_hash_table_add (own, (gpointer) json_object_get_string_member (json_node_get_object (e), "id"));
  }
  g_autoptr (GPtrArray) all = g_ptr_array_new ();
  g_autoptr (GPtrArray) all_what = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; nodes && i < json_array_get_length (nodes); i++) {
    JsonNode *e = json_array_get_element (nodes, i);
    if (!JSON_NODE_HOLDS_OBJECT (e))
      continue;
    JsonObject *o = json_node_get_object (e);
    JsonNode *k = json_object_get_member (o, "kind");
    JsonNode *idn = json_object_get_member (o, "id");
    guint first = all->len;
    node_refs (o, is_string (k) ? json_node_get_string (k) : "", all, all_what);
    /* the body node that holds the reference is named, not only the scan */
    for (guint r = first; r < all->len; r++) {
      char *d = all_what->pdata[r];
      all_what->pdata[r] = g_strdup_printf ("%s of body node '%s'", d,
                                            is_string (idn) ? json_node_get_string (idn) : "?");
      g_free (d);
    }
  }
  add_ref_list (all, all_what, json_object_get_member (body, "outputs"), "body output");
  for (guint i = 0; i < all->len; i++) {
    g_autofree char *id = ref_id (all->pdata[i]);
    if (!g_hash_table_contains (own, id)) {
      g_ptr_array_add (refs, all->pdata[i]);
      const char *d = all_what->pdata[i];
      g_ptr_array_add (what, g_str_has_prefix (d, "the ") ? g_strdup (d)
                                                          : g_strdup_printf ("the %s", d));
    }
  }
}

static void
node_refs (JsonObject *obj, const char *kind, GPtrArray *refs, GPtrArray *what)
{
  if (g_str_equal (kind, "op")) {
    add_ref_list (refs, what, json_object_get_member (obj, "inputs"), "input");
  } else if (g_str_equal (kind, "grad")) {
    add_ref (refs, what, json_object_get_member (obj, "cost"), "cost");
    add_ref_list (refs, what, json_object_get_member (obj, "wrt"), "wrt");
    add_ref_list (refs, what, json_object_get_member (obj, "consider_constant"), "consider_constant");
  } else if (g_str_equal (kind, "scan")) {
    add_ref_list (refs, what, json_object_get_member (obj, "sequences"), "sequence");
    add_ref_list (refs, what, json_object_get_member (obj, "outputs_info"), "outputs_info");
    add_ref_list (refs, what, json_object_get_member (obj, "non_sequences"), "non_sequence");
    add_ref (refs, what, json_object_get_member (obj, "n_steps"), "n_steps");
    JsonNode *body = json_object_get_member (obj, "body");
    if (body && JSON_NODE_HOLDS_OBJECT (body))
      body_free_refs (json_node_get_object (body), refs, what);
  } else if (g_str_equal (kind, "random")) {
    add_ref (refs, what, json_object_get_member (obj, "like"), "like");
    JsonNode *p = json_object_get_member (obj, "params");
    if (p && JSON_NODE_HOLDS_OBJECT (p)) {
      g_autoptr (GList) members = json_object_get_members (json_node_get_object (p));
      for (GList *l = members; l; l = l->next)
        add_ref (refs, what, json_object_get_member (json_node_get_object (p), l->data), l->data);
    }
  } else if (g_str_equal (kind, "jacobian")) {
    add_ref (refs, what, json_object_get_member (obj, "expression"), "expression");
    add_ref_list (refs, what, json_object_get_member (obj, "wrt"), "wrt");
  } else if (g_str_equal (kind, "hessian")) {
    add_ref (refs, what, json_object_get_member (obj, "cost"), "cost");
    add_ref_list (refs, what, json_object_get_member (obj, "wrt"), "wrt");
  } else if (g_str_equal (kind, "rop") || g_str_equal (kind, "lop")) {
    add_ref (refs, what, json_object_get_member (obj, "f"), "f");
    add_ref_list (refs, what, json_object_get_member (obj, "wrt"), "wrt");
    add_ref_list (refs, what, json_object_get_member (obj, "eval_points"), "eval_points");
  }
}

gboolean
grd_document_kind_refs (JsonObject *obj, const char *kind, GPtrArray *refs, GPtrArray *what)
{
  node_refs (obj, kind, refs, what);
  return TRUE;
}

/* ------------------------------------------------------------ scopes */

static gboolean
scope_lookup (Scope *s, const char *text, GrdRef *out, GError **error)
{
  g_autofree char *id = ref_id (text);
  if (grd_graph_find (s->graph, id) >= 0)
    return grd_graph_lookup (s->graph, text, out, error);
  if (!s->parent)
    return grd_graph_lookup (s->graph, text, out, error);  /* names no node: its message */
  guint at = GPOINTER_TO_UINT (g_hash_table_lookup (s->implicit, text));
  if (at) {
    *out = g_array_index (s->inner, GrdRef, at - 1);
    return TRUE;
  }
  GrdRef outer;
  if (!scope_lookup (s->parent, text, &outer, error))
    return FALSE;
  const GrdType *t = grd_graph_ref_type (s->parent->graph, outer);
  /* the body variable takes the outer id; another output of it gets a suffix */
  g_autofree char *vid = g_strcmp0 (id, text) == 0 ? g_strdup (id)
                                                    : g_strdelimit (g_strdup (text), ":", '.');
  GrdRef v = grd_graph_variable (s->graph, vid, t->dtype, t->rank, t->dims, error);
  if (grd_ref_is_none (v))
    return FALSE;
  g_array_append_val (s->outer, outer);
  g_array_append_val (s->inner, v);
  g_hash_table_insert (s->implicit, g_strdup (text), GUINT_TO_POINTER (s->outer->len));
  *out = v;
  return TRUE;
}

static gboolean
lookup_member (Scope *s, JsonObject *obj, const char *id, const char *kind, const char *key,
               gboolean required, GrdRef *out, GError **error)
{
  JsonNode *n = json_object_get_member (obj, key);
  if (!n && !required) {
    *out = GRD_REF_NONE;
    return TRUE;
  }
  if (!is_string (n)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "node '%s' (%s): \"%s\" must be a reference "
                 "(a string), not %s", id, kind, key, json_kind (n));
    return FALSE;
  }
  g_autoptr (GError) local = NULL;
  if (!scope_lookup (s, json_node_get_string (n), out, &local)) {
    g_set_error (error, GRD_ERROR, local->code, "node '%s' (%s): %s: %s", id, kind, key,
                 local->message);
    return FALSE;
  }
  return TRUE;
}

/* A list of references (a single string counts as a list of one). */
static gboolean
lookup_list (Scope *s, JsonObject *obj, const char *id, const char *kind, const char *key,
             gboolean required, GArray *out, GError **error)
{
  JsonNode *n = json_object_get_member (obj, key);
  if (!n && !required)
    return TRUE;
  if (is_string (n)) {
    GrdRef r;
    if (!lookup_member (s, obj, id, kind, key, TRUE, &r, error))
      return FALSE;
    g_array_append_val (out, r);
    return TRUE;
  }
  if (!n || !JSON_NODE_HOLDS_ARRAY (n)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "node '%s' (%s): \"%s\" must be a list of "
                 "references, not %s", id, kind, key, json_kind (n));
    return FALSE;
  }
  JsonArray *a = json_node_get_array (n);
  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonNode *e = json_array_get_element (a, i);
    GrdRef r;
    g_autoptr (GError) local = NULL;
    if (!is_string (e) || !scope_lookup (s, json_node_get_string (e), &r, &local)) {
      g_set_error (error, GRD_ERROR, local ? local->code : GRD_ERROR_PARSE,
                   "node '%s' (%s): %s %u: %s", id, kind, key, i,
                   local ? local->message : "expected a reference (a string)");
      return FALSE;
    }
    g_array_append_val (out, r);
  }
  return TRUE;
}

static gboolean
taps_of (JsonObject *o, const char *id, const char *what, GrdScanSlot *slot, GError **error)
{
  JsonNode *t = json_object_get_member (o, "taps");
  slot->n_taps = 0;
  if (!t)
    return TRUE;
  JsonArray *a = JSON_NODE_HOLDS_ARRAY (t) ? json_node_get_array (t) : NULL;
  if (!a || json_array_get_length (a) < 1 || json_array_get_length (a) > GRD_SCAN_MAX_TAPS) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "node '%s' (scan): %s: \"taps\" must be a list "
                 "of 1 to %d integers", id, what, GRD_SCAN_MAX_TAPS);
    return FALSE;
  }
  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonNode *e = json_array_get_element (a, i);
    double v;
    if (!is_number (e, &v) || v != (gint) v || v < -100000 || v > 100000) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "node '%s' (scan): %s: tap %u is not an "
                   "integer", id, what, i);
      return FALSE;
    }
    slot->taps[slot->n_taps++] = (gint) v;
  }
  return TRUE;
}

/* ------------------------------------------------------------ bodies */

typedef struct {
  JsonObject *obj;
  const char *id;
  gint        state;   /* 0 unseen, 1 visiting, 2 built */
} BodyEntry;

static gboolean
build_plain (Scope *s, JsonObject *o, const char *id, const char *kind, GError **error)
{
  g_autoptr (GError) local = NULL;
  if (g_str_equal (kind, "variable") || g_str_equal (kind, "constant")) {
    JsonNode *dn = json_object_get_member (o, "dtype");
    GrdDType dt = GRD_DTYPE_FLOAT32;
    if ((dn || kind[0] == 'v')
        && (!is_string (dn) || !grd_dtype_from_name (json_node_get_string (dn), &dt))) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "node '%s' (%s): \"dtype\" must be one of "
                   "\"float32\", \"float64\", \"int32\", \"int64\", \"bool\"", id, kind);
      return FALSE;
    }
    if (kind[0] == 'c') {
      JsonNode *vn = json_object_get_member (o, "value");
      g_autoptr (GrdTensor) v = vn ? grd_value_from_json_limited (vn, dt, s->base_dir, s->limits,
                                                                  &local)
                                   : NULL;
      if (!v) {
        g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "node '%s' (constant): value: %s", id,
                     local ? local->message : "missing");
        return FALSE;
      }
      return !grd_ref_is_none (grd_graph_constant (s->graph, id, v, error));
    }
    JsonNode *sn = json_object_get_member (o, "shape");
    gint rank = 0;
    gint64 dims[GRD_MAX_RANK];
    JsonArray *a = sn && JSON_NODE_HOLDS_ARRAY (sn) ? json_node_get_array (sn) : NULL;
    if (!a || json_array_get_length (a) > GRD_MAX_RANK) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "node '%s' (variable): \"shape\" must be a "
                   "list of at most %d dimensions (integers, or null for any size)", id, GRD_MAX_RANK);
      return FALSE;
    }
    rank = json_array_get_length (a);
    for (gint i = 0; i < rank; i++) {
      JsonNode *d = json_array_get_element (a, i);
      double v;
      if (JSON_NODE_HOLDS_NULL (d))
        dims[i] = GRD_DIM_UNKNOWN;
      else if (is_number (d, &v) && v >= 0 && v <= G_MAXINT32 && v == (gint64) v)
        dims[i] = (gint64) v;
      else {
        g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "node '%s' (variable): \"shape\" entry %d "
                     "must be a non-negative integer or null", id, i);
        return FALSE;
      }
    }
    return !grd_ref_is_none (grd_graph_variable (s->graph, id, dt, rank, dims, error));
  }
  if (g_str_equal (kind, "op")) {
    JsonNode *on = json_object_get_member (o, "op");
    if (!is_string (on)) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "node '%s' (op): \"op\" must be an op name",
                   id);
      return FALSE;
    }
    GrdAttrs attrs;
    grd_attrs_init (&attrs);
    JsonNode *an = json_object_get_member (o, "attrs");
    const char *bad = NULL, *expected = NULL;
    if (an && JSON_NODE_HOLDS_OBJECT (an)
        && !grd_document_parse_attrs (json_node_get_object (an), &attrs, &bad, &expected)) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "node '%s' (%s): attrs \"%s\" must be %s", id,
                   json_node_get_string (on), bad, expected);
      return FALSE;
    }
    g_autoptr (GArray) in = g_array_new (FALSE, FALSE, sizeof (GrdRef));
    if (!lookup_list (s, o, id, json_node_get_string (on), "inputs", FALSE, in, error))
      return FALSE;
    return !grd_ref_is_none (grd_graph_op (s->graph, id, json_node_get_string (on),
                                           (GrdRef *) in->data, in->len, &attrs, error));
  }
  if (g_str_equal (kind, "grad")) {
    GrdRef cost;
    g_autoptr (GArray) wrt = g_array_new (FALSE, FALSE, sizeof (GrdRef));
    g_autoptr (GArray) cc = g_array_new (FALSE, FALSE, sizeof (GrdRef));
    if (!lookup_member (s, o, id, kind, "cost", TRUE, &cost, error)
        || !lookup_list (s, o, id, kind, "wrt", TRUE, wrt, error)
        || !lookup_list (s, o, id, kind, "consider_constant", FALSE, cc, error))
      return FALSE;
    return !grd_ref_is_none (grd_graph_grad (s->graph, id, cost, (GrdRef *) wrt->data, wrt->len,
                                             (GrdRef *) cc->data, cc->len, NULL, error));
  }
  if (grd_document_kind_is_extra (kind))
    return build_kind (s, o, id, kind, error);
  g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "node '%s': \"kind\" %s%s%s cannot be in a scan "
               "body (variable, constant, op, grad, scan, random, jacobian, hessian, rop or lop)",
               id, kind[0] ? "\"" : "", kind[0] ? kind : "(none)", kind[0] ? "\"" : "");
  return FALSE;
}

/* Builds the body's nodes, inputs first (they may come in any order). */
static gboolean
build_body (Scope *s, JsonObject *body, const char *scan_id, GError **error)
{
  JsonNode *nn = json_object_get_member (body, "nodes");
  if (nn && !JSON_NODE_HOLDS_ARRAY (nn)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "node '%s' (scan): body \"nodes\" must be a list",
                 scan_id);
    return FALSE;
  }
  JsonArray *nodes = nn ? json_node_get_array (nn) : NULL;
  guint n = nodes ? json_array_get_length (nodes) : 0;
  g_autofree BodyEntry *entries = g_new0 (BodyEntry, MAX (n, 1));
  g_autoptr (GHashTable) by_id = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < n; i++) {
    JsonNode *e = json_array_get_element (nodes, i);
    JsonNode *idn = JSON_NODE_HOLDS_OBJECT (e) ? json_object_get_member (json_node_get_object (e), "id")
                                               : NULL;
    if (!is_string (idn)) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "node '%s' (scan): body node %u has no \"id\" "
                   "string", scan_id, i);
      return FALSE;
    }
    entries[i].obj = json_node_get_object (e);
    entries[i].id = json_node_get_string (idn);
    if (g_hash_table_contains (by_id, entries[i].id)) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s': the id is used by more than one "
                   "node", entries[i].id);
      return FALSE;
    }
    g_hash_table_insert (by_id, (gpointer) entries[i].id, &entries[i]);
  }
  /* depth first over the body's own references, with an explicit stack */
  g_autoptr (GPtrArray) stack = g_ptr_array_new ();
  for (guint i = 0; i < n; i++) {
    if (entries[i].state)
      continue;
    g_ptr_array_add (stack, &entries[i]);
    while (stack->len) {
      BodyEntry *e = stack->pdata[stack->len - 1];
      if (e->state == 2) {
        g_ptr_array_remove_index (stack, stack->len - 1);
        continue;
      }
      JsonNode *kn = json_object_get_member (e->obj, "kind");
      const char *kind = is_string (kn) ? json_node_get_string (kn) : "";
      gboolean pushed = FALSE;
      if (e->state == 0) {
        e->state = 1;
        g_autoptr (GPtrArray) refs = g_ptr_array_new ();
        g_autoptr (GPtrArray) what = g_ptr_array_new_with_free_func (g_free);
        node_refs (e->obj, kind, refs, what);
        for (guint k = 0; k < refs->len; k++) {
          g_autofree char *rid = ref_id (refs->pdata[k]);
          BodyEntry *d = g_hash_table_lookup (by_id, rid);
          if (d && d->state == 1) {
            g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s' is on a cycle (through '%s')",
                         e->id, d->id);
            return FALSE;
          }
          if (d && d->state == 0) {
            g_ptr_array_add (stack, d);
            pushed = TRUE;
          }
        }
      }
      if (pushed)
        continue;
      if (!build_plain (s, e->obj, e->id, kind, error))
        return FALSE;
      e->state = 2;
      g_ptr_array_remove_index (stack, stack->len - 1);
    }
  }
  return TRUE;
}

/* ------------------------------------------------------------ kinds */

static gboolean
build_scan (Scope *s, JsonObject *o, const char *id, GError **error)
{
  JsonNode *bn = json_object_get_member (o, "body");
  if (!bn || !JSON_NODE_HOLDS_OBJECT (bn)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "node '%s' (scan): \"body\" must be an object "
                 "{\"inputs\", \"nodes\", \"outputs\"}, not %s", id, json_kind (bn));
    return FALSE;
  }
  JsonObject *body = json_node_get_object (bn);
  g_autoptr (GrdGraph) g = grd_graph_new ();
  Scope inner = { g, s, g_array_new (FALSE, FALSE, sizeof (GrdRef)),
                  g_array_new (FALSE, FALSE, sizeof (GrdRef)),
                  g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL), s->base_dir,
                  s->limits };
  gboolean ok = build_body (&inner, body, id, error);
  g_autoptr (GArray) bin = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  g_autoptr (GArray) bout = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  g_autoptr (GArray) seqs = g_array_new (FALSE, FALSE, sizeof (GrdScanSlot));
  g_autoptr (GArray) infos = g_array_new (FALSE, FALSE, sizeof (GrdScanSlot));
  g_autoptr (GArray) nonseq = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  /* body inputs: ids of body variables */
  JsonNode *bi = json_object_get_member (body, "inputs");
  if (ok && bi && !JSON_NODE_HOLDS_ARRAY (bi)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "node '%s' (scan): body \"inputs\" must be a "
                 "list of variable ids", id);
    ok = FALSE;
  }
  for (guint i = 0; ok && bi && i < json_array_get_length (json_node_get_array (bi)); i++) {
    JsonNode *e = json_array_get_element (json_node_get_array (bi), i);
    gint at = is_string (e) ? grd_graph_find (g, json_node_get_string (e)) : -1;
    if (at < 0 || grd_graph_node_kind (g, at) != GRD_NODE_VARIABLE) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s' (scan): body input %u must name "
                   "a variable node of the body", id, i);
      ok = FALSE;
      break;
    }
    GrdRef r = { at, 0 };
    g_array_append_val (bin, r);
  }
  if (ok)
    ok = lookup_list (&inner, body, id, "scan", "outputs", TRUE, bout, error);
  if (ok && bout->len == 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s' (scan): the body has no outputs", id);
    ok = FALSE;
  }
  /* the outer side */
  JsonNode *sq = json_object_get_member (o, "sequences");
  for (guint i = 0; ok && sq && JSON_NODE_HOLDS_ARRAY (sq)
                    && i < json_array_get_length (json_node_get_array (sq)); i++) {
    JsonNode *e = json_array_get_element (json_node_get_array (sq), i);
    GrdScanSlot sl = { GRD_REF_NONE, 0, { 0 } };
    JsonNode *rn = JSON_NODE_HOLDS_OBJECT (e) ? json_object_get_member (json_node_get_object (e), "ref") : e;
    g_autofree char *what = g_strdup_printf ("sequence %u", i);
    g_autoptr (GError) local = NULL;
    if (!is_string (rn) || !scope_lookup (s, json_node_get_string (rn), &sl.ref, &local)) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s' (scan): %s: %s", id, what,
                   local ? local->message : "expected a reference or {\"ref\", \"taps\"}");
      ok = FALSE;
      break;
    }
    if (JSON_NODE_HOLDS_OBJECT (e) && !taps_of (json_node_get_object (e), id, what, &sl, error)) {
      ok = FALSE;
      break;
    }
    g_array_append_val (seqs, sl);
  }
  if (ok && sq && !JSON_NODE_HOLDS_ARRAY (sq)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "node '%s' (scan): \"sequences\" must be a list",
                 id);
    ok = FALSE;
  }
  JsonNode *oi = json_object_get_member (o, "outputs_info");
  if (ok && oi && !JSON_NODE_HOLDS_ARRAY (oi)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "node '%s' (scan): \"outputs_info\" must be a "
                 "list of null or {\"init\", \"taps\"}", id);
    ok = FALSE;
  }
  for (guint i = 0; ok && oi && i < json_array_get_length (json_node_get_array (oi)); i++) {
    JsonNode *e = json_array_get_element (json_node_get_array (oi), i);
    GrdScanSlot sl = { GRD_REF_NONE, 0, { 0 } };
    g_autofree char *what = g_strdup_printf ("outputs_info %u", i);
    if (!JSON_NODE_HOLDS_NULL (e)) {
      JsonNode *rn = JSON_NODE_HOLDS_OBJECT (e) ? json_object_get_member (json_node_get_object (e), "init") : e;
      g_autoptr (GError) local = NULL;
      if (!is_string (rn) || !scope_lookup (s, json_node_get_string (rn), &sl.ref, &local)) {
        g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s' (scan): %s: %s", id, what,
                     local ? local->message : "expected null or {\"init\": reference, \"taps\"}");
        ok = FALSE;
        break;
      }
      if (JSON_NODE_HOLDS_OBJECT (e) && !taps_of (json_node_get_object (e), id, what, &sl, error)) {
        ok = FALSE;
        break;
      }
    }
    g_array_append_val (infos, sl);
  }
  if (ok)
    ok = lookup_list (s, o, id, "scan", "non_sequences", FALSE, nonseq, error);
  gint64 n_steps = -1;
  GrdRef n_steps_ref = GRD_REF_NONE;
  JsonNode *ns = json_object_get_member (o, "n_steps");
  double nv;
  if (ok && ns && !JSON_NODE_HOLDS_NULL (ns)) {
    if (is_string (ns))
      ok = lookup_member (s, o, id, "scan", "n_steps", TRUE, &n_steps_ref, error);
    else if (is_number (ns, &nv) && nv >= 0 && nv == (gint64) nv && nv <= G_MAXINT32)
      n_steps = (gint64) nv;
    else {
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "node '%s' (scan): \"n_steps\" must be a "
                   "non-negative integer or a reference to an integer scalar", id);
      ok = FALSE;
    }
  }
  JsonNode *gb = json_object_get_member (o, "go_backwards");
  gboolean backwards = FALSE;
  if (ok && gb) {
    if (!JSON_NODE_HOLDS_VALUE (gb) || json_node_get_value_type (gb) != G_TYPE_BOOLEAN) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "node '%s' (scan): \"go_backwards\" must be "
                   "true or false", id);
      ok = FALSE;
    } else {
      backwards = json_node_get_boolean (gb);
    }
  }
  /* what the body reads from outside: more non-sequences */
  if (ok) {
    g_array_append_vals (bin, inner.inner->data, inner.inner->len);
    g_array_append_vals (nonseq, inner.outer->data, inner.outer->len);
    GrdScanSpec spec = { 0 };
    spec.body = g;
    spec.body_inputs = (GrdRef *) bin->data;
    spec.n_body_inputs = bin->len;
    spec.body_outputs = (GrdRef *) bout->data;
    spec.n_body_outputs = bout->len;
    spec.sequences = (GrdScanSlot *) seqs->data;
    spec.n_sequences = seqs->len;
    spec.outputs_info = (GrdScanSlot *) infos->data;
    spec.n_outputs_info = infos->len;
    spec.non_sequences = (GrdRef *) nonseq->data;
    spec.n_non_sequences = nonseq->len;
    spec.n_steps = n_steps;
    spec.n_steps_ref = n_steps_ref;
    spec.go_backwards = backwards;
    ok = !grd_ref_is_none (grd_graph_scan (s->graph, id, &spec, error));
  }
  g_array_unref (inner.outer);
  g_array_unref (inner.inner);
  g_hash_table_unref (inner.implicit);
  return ok;
}

static gboolean
build_random (Scope *s, JsonObject *o, const char *id, GError **error)
{
  static const char *const names[] = { "uniform", "normal", "binomial" };
  static const char *const params[][2] = { { "low", "high" }, { "mean", "std" }, { "n", "p" } };
  static const double defaults[][2] = { { 0, 1 }, { 0, 1 }, { 1, 0.5 } };
  JsonNode *dn = json_object_get_member (o, "distribution");
  gint dist = -1;
  for (gint i = 0; i < 3 && is_string (dn); i++)
    if (g_str_equal (json_node_get_string (dn), names[i]))
      dist = i;
  if (dist < 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "node '%s' (random): \"distribution\" must be "
                 "\"uniform\", \"normal\" or \"binomial\"", id);
    return FALSE;
  }
  JsonNode *tn = json_object_get_member (o, "dtype");
  GrdDType dt = GRD_DTYPE_FLOAT32;
  if (tn && (!is_string (tn) || !grd_dtype_from_name (json_node_get_string (tn), &dt))) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "node '%s' (random): \"dtype\" must be one of "
                 "\"float32\", \"float64\", \"int32\", \"int64\", \"bool\"", id);
    return FALSE;
  }
  GrdRef like = GRD_REF_NONE;
  gint rank = 0;
  gint64 shape[GRD_MAX_RANK];
  JsonNode *sn = json_object_get_member (o, "shape");
  if (json_object_has_member (o, "like")) {
    if (!lookup_member (s, o, id, "random", "like", TRUE, &like, error))
      return FALSE;
  } else if (sn && JSON_NODE_HOLDS_ARRAY (sn)) {
    if (!grd_json_shape (sn, &rank, shape, error)) {
      g_prefix_error (error, "node '%s' (random): \"shape\": ", id);
      return FALSE;
    }
  } else {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "node '%s' (random): \"shape\" (a list of "
                 "integers) or \"like\" (a reference) is required", id);
    return FALSE;
  }
  JsonNode *pn = json_object_get_member (o, "params");
  if (pn && !JSON_NODE_HOLDS_OBJECT (pn)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "node '%s' (random): \"params\" must be an "
                 "object", id);
    return FALSE;
  }
  JsonObject *po = pn ? json_node_get_object (pn) : NULL;
  GrdRef p[2];
  for (gint k = 0; k < 2; k++) {
    JsonNode *v = po ? json_object_get_member (po, params[dist][k]) : NULL;
    double x = defaults[dist][k];
    if (is_string (v)) {
      g_autoptr (GError) local = NULL;
      if (!scope_lookup (s, json_node_get_string (v), &p[k], &local)) {
        g_set_error (error, GRD_ERROR, local->code, "node '%s' (random): param \"%s\": %s", id,
                     params[dist][k], local->message);
        return FALSE;
      }
      continue;
    }
    if (v && !is_number (v, &x)) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "node '%s' (random): param \"%s\" must be a "
                   "number or a reference", id, params[dist][k]);
      return FALSE;
    }
    p[k] = grd_scalar (s->graph, GRD_DTYPE_FLOAT64, x, error);
  }
  JsonNode *seedn = json_object_get_member (o, "seed");
  double seed = 0;
  if (seedn && (!is_number (seedn, &seed) || seed < 0 || seed != (gint64) seed)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "node '%s' (random): \"seed\" must be a "
                 "non-negative integer", id);
    return FALSE;
  }
  return !grd_ref_is_none (grd_graph_random (s->graph, id, (GrdDistribution) dist, dt, rank, shape,
                                             like, p[0], p[1], (guint64) seed, error));
}

static gboolean
build_kind (Scope *s, JsonObject *o, const char *id, const char *kind, GError **error)
{
  if (g_str_equal (kind, "scan"))
    return build_scan (s, o, id, error);
  if (g_str_equal (kind, "random"))
    return build_random (s, o, id, error);
  GrdRef f;
  g_autoptr (GArray) wrt = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  g_autoptr (GArray) pts = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  const char *fkey = g_str_equal (kind, "jacobian") ? "expression"
                     : g_str_equal (kind, "hessian") ? "cost" : "f";
  if (!lookup_member (s, o, id, kind, fkey, TRUE, &f, error)
      || !lookup_list (s, o, id, kind, "wrt", TRUE, wrt, error))
    return FALSE;
  if (wrt->len == 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s' (%s): \"wrt\" is empty", id, kind);
    return FALSE;
  }
  if (g_str_equal (kind, "jacobian"))
    return !grd_ref_is_none (grd_graph_jacobian (s->graph, id, f, (GrdRef *) wrt->data, wrt->len,
                                                 NULL, error));
  if (g_str_equal (kind, "hessian"))
    return !grd_ref_is_none (grd_graph_hessian (s->graph, id, f, (GrdRef *) wrt->data, wrt->len,
                                                NULL, error));
  if (!lookup_list (s, o, id, kind, "eval_points", TRUE, pts, error))
    return FALSE;
  if (g_str_equal (kind, "rop")) {
    if (pts->len != wrt->len) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s' (rop): %u eval_points for %u wrt "
                   "(one each)", id, pts->len, wrt->len);
      return FALSE;
    }
    return !grd_ref_is_none (grd_graph_rop (s->graph, id, f, (GrdRef *) wrt->data, wrt->len,
                                            (GrdRef *) pts->data, NULL, error));
  }
  if (pts->len != 1) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "node '%s' (lop): \"eval_points\" must be a "
                 "list of one reference, shaped like f", id);
    return FALSE;
  }
  return !grd_ref_is_none (grd_graph_lop (s->graph, id, f, (GrdRef *) wrt->data, wrt->len,
                                          g_array_index (pts, GrdRef, 0), NULL, error));
}

gboolean
grd_document_build_kind (GrdGraph *graph, JsonObject *obj, const char *id, const char *kind,
                         const char *base_dir, const GrdLimits *limits, GError **error)
{
  Scope top = { graph, NULL, NULL, NULL, NULL, base_dir, limits };
  return build_kind (&top, obj, id, kind, error);
}
