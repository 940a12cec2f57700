/* grd-document.c: graph files: load, build, save, export.
 *
 * A document keeps the JSON tree it was read from, so that a save writes back
 * every key it does not know (the editor's "ui", comments, future keys) and
 * changes only the values of shared variables. Nodes may come in any order in
 * the file; they are built inputs first, with cycles and dangling references
 * reported by node. Every message starts with the file name (or "<data>"). */
#include "../grd-internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Shared values of more elements than this are saved as base64. */
#define INLINE_MAX 1000

struct _GrdDocument {
  char            *path;      /* NULL for data without a path */
  char            *label;     /* the path, or "<data>", for messages */
  char            *base_dir;  /* resolves relative npy and csv paths */
  GrdDocumentFlags flags;
  JsonNode        *root;
  JsonNode        *file_root; /* as written, when groups were expanded into root */
  GrdGraph        *graph;
  GHashTable      *errors;    /* id -> message (lenient documents) */
  GPtrArray       *error_ids;
  GHashTable      *loaded;    /* id -> GrdTensor*: shared values as the file gave them */
  GrdLimits        limits;    /* allowed_data points into allowed_data below */
  char           **allowed_data;
  gint             extra_refs; /* grd_document_ref()s not yet dropped by grd_document_free() */
};

/* ------------------------------------------------------------ small JSON helpers */

static const char *
json_kind (JsonNode *n)
{
  if (!n)
    return "nothing";
  switch (json_node_get_node_type (n)) {
  case JSON_NODE_OBJECT: return "an object";
  case JSON_NODE_ARRAY: return "a list";
  case JSON_NODE_NULL: return "null";
  default:
    switch (json_node_get_value_type (n)) {
    case G_TYPE_STRING: return "a string";
    case G_TYPE_BOOLEAN: return "a boolean";
    default: return "a number";
    }
  }
}

static gboolean
is_string (JsonNode *n)
{
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING;
}

static gboolean
is_integer (JsonNode *n, gint64 *out)
{
  if (!n || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (n);
  return TRUE;
}

static const char *
member_string (JsonObject *o, const char *key)
{
  JsonNode *n = json_object_get_member (o, key);
  return is_string (n) ? json_node_get_string (n) : NULL;
}

/* A mutable deep copy (json_node_copy shares the insides of sealed nodes). */
static JsonNode *
deep_copy (JsonNode *n)
{
  switch (json_node_get_node_type (n)) {
  case JSON_NODE_OBJECT: {
    JsonObject *src = json_node_get_object (n), *dst = json_object_new ();
    GList *members = json_object_get_members (src);
    for (GList *l = members; l; l = l->next)
      json_object_set_member (dst, l->data, deep_copy (json_object_get_member (src, l->data)));
    g_list_free (members);
    JsonNode *c = json_node_new (JSON_NODE_OBJECT);
    json_node_take_object (c, dst);
    return c;
  }
  case JSON_NODE_ARRAY: {
    JsonArray *src = json_node_get_array (n);
    JsonArray *dst = json_array_sized_new (json_array_get_length (src));
    for (guint i = 0; i < json_array_get_length (src); i++)
      json_array_add_element (dst, deep_copy (json_array_get_element (src, i)));
    JsonNode *c = json_node_new (JSON_NODE_ARRAY);
    json_node_take_array (c, dst);
    return c;
  }
  case JSON_NODE_NULL:
    return json_node_new (JSON_NODE_NULL);
  default: {
    JsonNode *c = json_node_new (JSON_NODE_VALUE);
    switch (json_node_get_value_type (n)) {
    case G_TYPE_STRING: json_node_set_string (c, json_node_get_string (n)); break;
    case G_TYPE_BOOLEAN: json_node_set_boolean (c, json_node_get_boolean (n)); break;
    case G_TYPE_INT64: json_node_set_int (c, json_node_get_int (n)); break;
    default: json_node_set_double (c, json_node_get_double (n)); break;
    }
    return c;
  }
  }
}

/* ------------------------------------------------------------ JSON text */

static void
append_string (GString *out, const char *s)
{
  g_string_append_c (out, '"');
  for (const guchar *p = (const guchar *) s; *p; p++) {
    switch (*p) {
    case '"': g_string_append (out, "\\\""); break;
    case '\\': g_string_append (out, "\\\\"); break;
    case '\n': g_string_append (out, "\\n"); break;
    case '\t': g_string_append (out, "\\t"); break;
    case '\r': g_string_append (out, "\\r"); break;
    default:
      if (*p < 0x20)
        g_string_append_printf (out, "\\u%04x", *p);
      else
        g_string_append_c (out, (char) *p);
    }
  }
  g_string_append_c (out, '"');
}

static gboolean
is_scalar (JsonNode *n)
{
  return !JSON_NODE_HOLDS_OBJECT (n) && !JSON_NODE_HOLDS_ARRAY (n);
}

static void
indent_to (GString *out, gint level)
{
  g_string_append_c (out, '\n');
  for (gint i = 0; i < level; i++)
    g_string_append (out, "  ");
}

/* Pretty JSON: objects one member a line, lists of plain values on one line
 * (values stay readable), floats as the shortest decimal that reads back. */
static void
append_json (GString *out, JsonNode *n, gint level)
{
  switch (json_node_get_node_type (n)) {
  case JSON_NODE_NULL:
    g_string_append (out, "null");
    return;
  case JSON_NODE_VALUE:
    switch (json_node_get_value_type (n)) {
    case G_TYPE_STRING: append_string (out, json_node_get_string (n)); return;
    case G_TYPE_BOOLEAN: g_string_append (out, json_node_get_boolean (n) ? "true" : "false"); return;
    case G_TYPE_INT64: g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (n)); return;
    default: {
      double v = json_node_get_double (n);
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      grd_format_float (buf, v, FALSE);
      if (isfinite (v))
        g_string_append (out, buf);
      else
        g_string_append_printf (out, "\"%s\"", buf);  /* JSON has no non-finite numbers */
      return;
    }
    }
  case JSON_NODE_ARRAY: {
    JsonArray *a = json_node_get_array (n);
    guint len = json_array_get_length (a);
    gboolean flat = TRUE;
    for (guint i = 0; i < len && flat; i++)
      flat = is_scalar (json_array_get_element (a, i));
    g_string_append_c (out, '[');
    for (guint i = 0; i < len; i++) {
      if (i)
        g_string_append (out, flat ? ", " : ",");
      if (!flat)
        indent_to (out, level + 1);
      append_json (out, json_array_get_element (a, i), level + 1);
    }
    if (!flat && len)
      indent_to (out, level);
    g_string_append_c (out, ']');
    return;
  }
  case JSON_NODE_OBJECT: {
    JsonObject *o = json_node_get_object (n);
    GList *members = json_object_get_members (o);
    g_string_append_c (out, '{');
    for (GList *l = members; l; l = l->next) {
      if (l != members)
        g_string_append_c (out, ',');
      indent_to (out, level + 1);
      append_string (out, l->data);
      g_string_append (out, ": ");
      append_json (out, json_object_get_member (o, l->data), level + 1);
    }
    if (members)
      indent_to (out, level);
    g_string_append_c (out, '}');
    g_list_free (members);
    return;
  }
  default:
    g_assert_not_reached ();
  }
}

/* ------------------------------------------------------------ errors */

static void
prefix_error (GrdDocument *doc, GError **error, GError *local)
{
  g_set_error (error, GRD_ERROR, local->code, "%s: %s", doc->label, local->message);
}

/* ------------------------------------------------------------ building */

typedef enum { UNSEEN, VISITING, DONE } State;

typedef struct {
  JsonObject *obj;
  const char *id;
  const char *kind;
  GPtrArray  *deps;      /* Entry* this node's references name (resolved) */
  guint       cursor;    /* next dep to visit */
  State       state;
  gboolean    failed;
  gboolean    duplicate;
} Entry;

typedef struct {
  GrdDocument *doc;
  GArray      *entries;  /* Entry, in file order */
  GHashTable  *by_id;    /* id -> entry index + 1 (first occurrence) */
  GError     **error;    /* strict mode: the first error */
  gboolean     stop;
} Builder;

/* Records a node error: strict documents stop, lenient ones carry on. */
static void
node_fail (Builder *b, Entry *e, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static void
node_fail (Builder *b, Entry *e, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  e->failed = TRUE;
  if (!(b->doc->flags & GRD_DOCUMENT_LENIENT)) {
    if (!b->stop)
      g_set_error (b->error, GRD_ERROR, GRD_ERROR_GRAPH, "%s: %s", b->doc->label, msg);
    b->stop = TRUE;
    return;
  }
  if (!g_hash_table_contains (b->doc->errors, e->id))
    g_hash_table_insert (b->doc->errors, g_strdup (e->id), g_steal_pointer (&msg));
}

/* The same, keeping the engine's error code. */
static void
node_fail_error (Builder *b, Entry *e, GError *local)
{
  const char *m = local->message;
  gboolean named = g_str_has_prefix (m, "node '");
  if (!(b->doc->flags & GRD_DOCUMENT_LENIENT) && !b->stop) {
    if (named)
      g_set_error (b->error, GRD_ERROR, local->code, "%s: %s", b->doc->label, m);
    else
      g_set_error (b->error, GRD_ERROR, local->code, "%s: node '%s' (%s): %s", b->doc->label,
                   e->id, e->kind ? e->kind : "?", m);
    e->failed = TRUE;
    b->stop = TRUE;
    return;
  }
  if (named)
    node_fail (b, e, "%s", m);
  else
    node_fail (b, e, "node '%s' (%s): %s", e->id, e->kind ? e->kind : "?", m);
}

/* "id" or "id:k" -> the id part (k is checked when the graph resolves it). */
static char *
ref_id (const char *ref)
{
  const char *colon = strrchr (ref, ':');
  return colon ? g_strndup (ref, colon - ref) : g_strdup (ref);
}

/* The reference strings of a node, with a description of each for messages. */
static gboolean
node_refs (Builder *b, Entry *e, GPtrArray *refs, GPtrArray *what)
{
  const char *lists[3];
  gint n_lists = 0;
  if (g_strcmp0 (e->kind, "op") == 0) {
    lists[n_lists++] = "inputs";
  } else if (g_strcmp0 (e->kind, "grad") == 0) {
    JsonNode *c = json_object_get_member (e->obj, "cost");
    if (!is_string (c)) {
      node_fail (b, e, "node '%s' (grad): \"cost\" must be a reference (a string), not %s", e->id,
                 json_kind (c));
      return FALSE;
    }
    g_ptr_array_add (refs, (gpointer) json_node_get_string (c));
    g_ptr_array_add (what, g_strdup ("cost"));
    lists[n_lists++] = "wrt";
    lists[n_lists++] = "consider_constant";
  } else if (grd_document_kind_is_extra (e->kind)) {
    return grd_document_kind_refs (e->obj, e->kind, refs, what);  /* scan, random, ... */
  }
  for (gint l = 0; l < n_lists; l++) {
    JsonNode *n = json_object_get_member (e->obj, lists[l]);
    if (!n && g_str_equal (lists[l], "consider_constant"))
      continue;
    if (!n && g_str_equal (lists[l], "inputs"))
      continue;  /* ops without inputs: the op's own count check says what is missing */
    if (is_string (n) && !g_str_equal (lists[l], "inputs")) {
      g_ptr_array_add (refs, (gpointer) json_node_get_string (n));
      g_ptr_array_add (what, g_strdup_printf ("%s", lists[l]));
      continue;
    }
    if (!n || !JSON_NODE_HOLDS_ARRAY (n)) {
      node_fail (b, e, "node '%s' (%s): \"%s\" must be a list of references, not %s", e->id,
                 e->kind, lists[l], json_kind (n));
      return FALSE;
    }
    JsonArray *a = json_node_get_array (n);
    for (guint i = 0; i < json_array_get_length (a); i++) {
      JsonNode *r = json_array_get_element (a, i);
      if (!is_string (r)) {
        node_fail (b, e, "node '%s' (%s): %s %u must be a reference (a string), not %s", e->id,
                   e->kind, g_str_equal (lists[l], "inputs") ? "input" : lists[l], i,
                   json_kind (r));
        return FALSE;
      }
      g_ptr_array_add (refs, (gpointer) json_node_get_string (r));
      g_ptr_array_add (what, g_strdup_printf ("%s %u", g_str_equal (lists[l], "inputs")
                                                           ? "input" : lists[l], i));
    }
  }
  return TRUE;
}

static gboolean
attr_int (JsonNode *n, gint64 lo, gint64 hi, gint64 *out)
{
  return is_integer (n, out) && *out >= lo && *out <= hi;
}

/* A list of at most GRD_MAX_RANK integers (or nulls where allowed: -> none). */
static gboolean
attr_list (JsonNode *n, gboolean nulls, gint64 none, gint64 lo, gint64 hi, gint64 *vals, gint *count)
{
  if (!n || !JSON_NODE_HOLDS_ARRAY (n))
    return FALSE;
  JsonArray *a = json_node_get_array (n);
  if (json_array_get_length (a) > GRD_MAX_RANK)
    return FALSE;
  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonNode *e = json_array_get_element (a, i);
    if (nulls && JSON_NODE_HOLDS_NULL (e))
      vals[i] = none;
    else if (!attr_int (e, lo, hi, &vals[i]))
      return FALSE;
  }
  *count = (gint) json_array_get_length (a);
  return TRUE;
}

/* JSON attrs -> GrdAttrs; sets *bad to the key that is malformed. */
static gboolean
parse_attrs (JsonObject *o, GrdAttrs *attrs, const char **bad, const char **expected)
{
  gint64 v[GRD_MAX_RANK];
  gint n;
  JsonNode *m;
  grd_attrs_init (attrs);
#define BAD(key, exp) do { *bad = key; *expected = exp; return FALSE; } while (0)
  if ((m = json_object_get_member (o, "axis")) && !JSON_NODE_HOLDS_NULL (m)) {
    if (attr_int (m, -GRD_MAX_RANK, GRD_MAX_RANK, &v[0])) {
      attrs->n_axes = 1;
      attrs->axes[0] = (gint) v[0];
    } else if (attr_list (m, FALSE, 0, -GRD_MAX_RANK, GRD_MAX_RANK, v, &n)) {
      attrs->n_axes = n;
      for (gint i = 0; i < n; i++)
        attrs->axes[i] = (gint) v[i];
    } else {
      BAD ("axis", "an integer or a list of integers");
    }
    attrs->has_axis = TRUE;
  }
  if ((m = json_object_get_member (o, "keepdims"))) {
    if (!JSON_NODE_HOLDS_VALUE (m) || json_node_get_value_type (m) != G_TYPE_BOOLEAN)
      BAD ("keepdims", "true or false");
    attrs->keepdims = json_node_get_boolean (m);
  }
  if ((m = json_object_get_member (o, "perm"))) {
    if (!attr_list (m, FALSE, 0, -GRD_MAX_RANK, GRD_MAX_RANK, v, &n))
      BAD ("perm", "a list of axes");
    attrs->n_perm = n;
    for (gint i = 0; i < n; i++)
      attrs->perm[i] = (gint) v[i];
  }
  if ((m = json_object_get_member (o, "shape"))) {
    if (!attr_list (m, FALSE, 0, -1, G_MAXINT64, v, &n))
      BAD ("shape", "a list of dimensions (one may be -1)");
    attrs->n_shape = n;
    memcpy (attrs->shape, v, sizeof (gint64) * n);
  }
  if ((m = json_object_get_member (o, "pattern"))) {
    if (!JSON_NODE_HOLDS_ARRAY (m) || json_array_get_length (json_node_get_array (m)) > GRD_MAX_RANK)
      BAD ("pattern", "a list of axes and \"x\"");
    JsonArray *a = json_node_get_array (m);
    attrs->n_pattern = json_array_get_length (a);
    for (gint i = 0; i < attrs->n_pattern; i++) {
      JsonNode *e = json_array_get_element (a, i);
      if (is_string (e) && g_str_equal (json_node_get_string (e), "x"))
        attrs->pattern[i] = -1;
      else if (attr_int (e, 0, GRD_MAX_RANK - 1, &v[0]))
        attrs->pattern[i] = (gint) v[0];
      else
        BAD ("pattern", "a list of axes and \"x\"");
    }
  }
  if ((m = json_object_get_member (o, "ndim"))) {
    if (!attr_int (m, 1, GRD_MAX_RANK, &v[0]))
      BAD ("ndim", "an integer from 1 to 8");
    attrs->ndim = (gint) v[0];
  }
  static const char *const slice_keys[] = { "begin", "end", "step" };
  for (gint k = 0; k < 3; k++) {
    if (!(m = json_object_get_member (o, slice_keys[k])))
      continue;
    gint64 *dst = k == 0 ? attrs->begin : k == 1 ? attrs->end : attrs->step;
    if (!attr_list (m, TRUE, GRD_SLICE_NONE, G_MININT64 + 1, G_MAXINT64, dst, &n))
      BAD (slice_keys[k], "a list of integers or null");
    attrs->n_slice = MAX (attrs->n_slice, n);
  }
  if ((m = json_object_get_member (o, "dtype"))) {
    if (!is_string (m) || !grd_dtype_from_name (json_node_get_string (m), &attrs->dtype))
      BAD ("dtype", "one of \"float32\", \"float64\", \"int32\", \"int64\", \"bool\"");
    attrs->has_dtype = TRUE;
  }
  if ((m = json_object_get_member (o, "depth"))) {
    if (!attr_int (m, 0, G_MAXINT32, &attrs->depth))
      BAD ("depth", "a non-negative integer");
  }
  if (!grd_conv_attrs_parse (o, attrs, bad, expected))
    return FALSE;
#undef BAD
  return TRUE;
}

gboolean
grd_document_parse_attrs (JsonObject *o, GrdAttrs *attrs, const char **bad, const char **expected)
{
  return parse_attrs (o, attrs, bad, expected);
}

static gboolean
node_dtype (Builder *b, Entry *e, gboolean required, GrdDType *out)
{
  JsonNode *n = json_object_get_member (e->obj, "dtype");
  if (!n && !required) {
    *out = GRD_DTYPE_FLOAT32;  /* floatX */
    return TRUE;
  }
  if (!is_string (n) || !grd_dtype_from_name (json_node_get_string (n), out)) {
    node_fail (b, e, "node '%s' (%s): \"dtype\" must be one of \"float32\", \"float64\", "
               "\"int32\", \"int64\", \"bool\"", e->id, e->kind);
    return FALSE;
  }
  return TRUE;
}

/* Looks up each reference of a list key; fills refs. */
static gboolean
lookup_refs (Builder *b, Entry *e, const char *key, GArray *refs)
{
  JsonNode *n = json_object_get_member (e->obj, key);
  if (!n)
    return TRUE;
  g_autoptr (GPtrArray) strs = g_ptr_array_new ();
  if (is_string (n))
    g_ptr_array_add (strs, (gpointer) json_node_get_string (n));
  else
    for (guint i = 0; i < json_array_get_length (json_node_get_array (n)); i++)
      g_ptr_array_add (strs, (gpointer) json_array_get_string_element (json_node_get_array (n), i));
  for (guint i = 0; i < strs->len; i++) {
    GrdRef r;
    g_autoptr (GError) local = NULL;
    if (!grd_graph_lookup (b->doc->graph, strs->pdata[i], &r, &local)) {
      node_fail (b, e, "node '%s' (%s): %s", e->id, e->kind, local->message);
      return FALSE;
    }
    g_array_append_val (refs, r);
  }
  return TRUE;
}

static void
build_node (Builder *b, Entry *e)
{
  GrdDocument *doc = b->doc;
  g_autoptr (GError) local = NULL;
  JsonNode *name = json_object_get_member (e->obj, "name");
  if (name && !is_string (name)) {
    node_fail (b, e, "node '%s': \"name\" must be a string, not %s", e->id, json_kind (name));
    return;
  }
  if (g_strcmp0 (e->kind, "variable") == 0) {
    GrdDType dt;
    if (!node_dtype (b, e, TRUE, &dt))
      return;
    JsonNode *sn = json_object_get_member (e->obj, "shape");
    if (!sn || !JSON_NODE_HOLDS_ARRAY (sn)
        || json_array_get_length (json_node_get_array (sn)) > GRD_MAX_RANK) {
      node_fail (b, e, "node '%s' (variable): \"shape\" must be a list of at most %d dimensions "
                 "(integers, or null for any size)", e->id, GRD_MAX_RANK);
      return;
    }
    JsonArray *a = json_node_get_array (sn);
    gint rank = json_array_get_length (a);
    gint64 dims[GRD_MAX_RANK];
    for (gint i = 0; i < rank; i++) {
      JsonNode *d = json_array_get_element (a, i);
      if (JSON_NODE_HOLDS_NULL (d))
        dims[i] = GRD_DIM_UNKNOWN;
      else if (!is_integer (d, &dims[i]) || dims[i] < 0 || dims[i] > G_MAXINT32) {
        node_fail (b, e, "node '%s' (variable): \"shape\" entry %d must be a non-negative "
                   "integer or null", e->id, i);
        return;
      }
    }
    if (grd_ref_is_none (grd_graph_variable (doc->graph, e->id, dt, rank, dims, &local)))
      node_fail_error (b, e, local);
  } else if (g_strcmp0 (e->kind, "constant") == 0 || g_strcmp0 (e->kind, "shared") == 0) {
    GrdDType dt;
    if (!node_dtype (b, e, FALSE, &dt))
      return;
    JsonNode *vn = json_object_get_member (e->obj, "value");
    if (!vn) {
      node_fail (b, e, "node '%s' (%s): \"value\" is missing", e->id, e->kind);
      return;
    }
    g_autoptr (GrdTensor) v = grd_value_from_json_limited (vn, dt, doc->base_dir, &doc->limits,
                                                           &local);
    if (!v) {
      node_fail (b, e, "node '%s' (%s): value: %s", e->id, e->kind, local->message);
      return;
    }
    GrdRef r = e->kind[0] == 'c' ? grd_graph_constant (doc->graph, e->id, v, &local)
                                 : grd_graph_shared (doc->graph, e->id, v, &local);
    if (grd_ref_is_none (r)) {
      node_fail_error (b, e, local);
      return;
    }
    if (e->kind[0] == 's')
      g_hash_table_insert (doc->loaded, g_strdup (e->id), grd_tensor_ref (v));
  } else if (g_strcmp0 (e->kind, "op") == 0) {
    JsonNode *on = json_object_get_member (e->obj, "op");
    if (!is_string (on)) {
      node_fail (b, e, "node '%s' (op): \"op\" must be an op name, not %s", e->id, json_kind (on));
      return;
    }
    const char *op = json_node_get_string (on);
    GrdAttrs attrs;
    JsonNode *an = json_object_get_member (e->obj, "attrs");
    const char *bad = NULL, *expected = NULL;
    if (an && !JSON_NODE_HOLDS_NULL (an) && !JSON_NODE_HOLDS_OBJECT (an)) {
      node_fail (b, e, "node '%s' (%s): \"attrs\" must be an object, not %s", e->id, op,
                 json_kind (an));
      return;
    }
    if (an && JSON_NODE_HOLDS_OBJECT (an)) {
      if (!parse_attrs (json_node_get_object (an), &attrs, &bad, &expected)) {
        node_fail (b, e, "node '%s' (%s): attrs \"%s\" must be %s", e->id, op, bad, expected);
        return;
      }
    } else {
      grd_attrs_init (&attrs);
    }
    g_autoptr (GArray) refs = g_array_new (FALSE, FALSE, sizeof (GrdRef));
    if (!lookup_refs (b, e, "inputs", refs))
      return;
    if (grd_ref_is_none (grd_graph_op (doc->graph, e->id, op, (GrdRef *) refs->data, refs->len,
                                       &attrs, &local)))
      node_fail_error (b, e, local);
  } else if (g_strcmp0 (e->kind, "grad") == 0) {
    g_autoptr (GArray) cost = g_array_new (FALSE, FALSE, sizeof (GrdRef));
    g_autoptr (GArray) wrt = g_array_new (FALSE, FALSE, sizeof (GrdRef));
    g_autoptr (GArray) cc = g_array_new (FALSE, FALSE, sizeof (GrdRef));
    if (!lookup_refs (b, e, "cost", cost) || !lookup_refs (b, e, "wrt", wrt)
        || !lookup_refs (b, e, "consider_constant", cc))
      return;
    if (grd_ref_is_none (grd_graph_grad (doc->graph, e->id, g_array_index (cost, GrdRef, 0),
                                         (GrdRef *) wrt->data, wrt->len, (GrdRef *) cc->data,
                                         cc->len, NULL, &local)))
      node_fail_error (b, e, local);
  } else if (grd_document_kind_is_extra (e->kind)) {
    if (!grd_document_build_kind (doc->graph, e->obj, e->id, e->kind, doc->base_dir,
                                  &doc->limits, &local))
      node_fail_error (b, e, local);
  } else {
    node_fail (b, e, "node '%s': \"kind\" must be \"variable\", \"constant\", \"shared\", \"op\" "
               "or \"grad\"", e->id);
  }
}

static Entry *
entry_at (Builder *b, guint i)
{
  return &g_array_index (b->entries, Entry, i);
}

/* Depth-first, inputs first, without recursion (files may hold long chains). */
static void
visit (Builder *b, Entry *start)
{
  if (start->state != UNSEEN)
    return;
  g_autoptr (GPtrArray) stack = g_ptr_array_new ();
  start->state = VISITING;
  g_ptr_array_add (stack, start);
  while (stack->len && !b->stop) {
    Entry *e = stack->pdata[stack->len - 1];
    if (e->deps && e->cursor < e->deps->len) {
      Entry *d = e->deps->pdata[e->cursor++];
      if (d->state == UNSEEN) {
        d->state = VISITING;
        g_ptr_array_add (stack, d);
      } else if (d->state == VISITING) {
        /* the stack from d up to e is a cycle */
        GString *path = g_string_new (NULL);
        guint from = stack->len - 1;
        while (stack->pdata[from] != d)
          from--;
        for (guint i = from; i < stack->len; i++)
          g_string_append_printf (path, "'%s' -> ", ((Entry *) stack->pdata[i])->id);
        g_string_append_printf (path, "'%s'", d->id);
        for (guint i = from; i < stack->len; i++) {
          Entry *c = stack->pdata[i];
          node_fail (b, c, "node '%s' is on a cycle: %s", c->id, path->str);
        }
        g_string_free (path, TRUE);
      }
      continue;
    }
    g_ptr_array_remove_index (stack, stack->len - 1);
    e->state = DONE;
    if (e->failed)
      continue;
    Entry *bad = NULL;
    for (guint i = 0; e->deps && i < e->deps->len && !bad; i++)
      if (((Entry *) e->deps->pdata[i])->failed)
        bad = e->deps->pdata[i];
    if (bad)
      node_fail (b, e, "node '%s': input '%s' has an error", e->id, bad->id);
    else
      build_node (b, e);
  }
}

static gboolean
check_header (GrdDocument *doc, JsonNode *root, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "%s: a graph file is a JSON object, not %s",
                 doc->label, json_kind (root));
    return FALSE;
  }
  JsonObject *o = json_node_get_object (root);
  const char *format = member_string (o, "format");
  if (g_strcmp0 (format, "gradus-graph") != 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                 "%s: not a Gradus graph (\"format\" must be \"gradus-graph\")", doc->label);
    return FALSE;
  }
  gint64 version;
  if (!is_integer (json_object_get_member (o, "version"), &version) || version < 1) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                 "%s: \"version\" must be a positive integer (this Gradus reads version 1)",
                 doc->label);
    return FALSE;
  }
  if (version > 1) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                 "%s: the file is format version %" G_GINT64_FORMAT
                 "; this Gradus reads version 1 only", doc->label, version);
    return FALSE;
  }
  JsonNode *nodes = json_object_get_member (o, "nodes");
  if (nodes && !JSON_NODE_HOLDS_ARRAY (nodes)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "%s: \"nodes\" must be a list, not %s",
                 doc->label, json_kind (nodes));
    return FALSE;
  }
  return TRUE;
}

static gboolean
id_is_valid (const char *id)
{
  if (!(g_ascii_isalpha (id[0]) || id[0] == '_'))
    return FALSE;
  for (const char *p = id + 1; *p; p++)
    if (!(g_ascii_isalnum (*p) || *p == '_' || *p == '.' || *p == '-'))
      return FALSE;
  return TRUE;
}

static gboolean
string_list_ok (JsonNode *n)
{
  if (!JSON_NODE_HOLDS_ARRAY (n))
    return FALSE;
  JsonArray *a = json_node_get_array (n);
  for (guint i = 0; i < json_array_get_length (a); i++)
    if (!is_string (json_array_get_element (a, i)))
      return FALSE;
  return TRUE;
}

/* The shape of "function" and "run" (their references are checked when the
 * function is compiled). */
static gboolean
check_function_and_run (GrdDocument *doc, GError **error)
{
  JsonObject *o = json_node_get_object (doc->root);
  JsonNode *f = json_object_get_member (o, "function");
  const char *bad = NULL;
  if (f) {
    if (!JSON_NODE_HOLDS_OBJECT (f))
      bad = "\"function\" must be an object";
    else {
      JsonObject *fo = json_node_get_object (f);
      JsonNode *u = json_object_get_member (fo, "updates");
      if (json_object_has_member (fo, "inputs")
          && !string_list_ok (json_object_get_member (fo, "inputs")))
        bad = "function: \"inputs\" must be a list of variable ids";
      else if (json_object_has_member (fo, "outputs")
               && !string_list_ok (json_object_get_member (fo, "outputs")))
        bad = "function: \"outputs\" must be a list of references";
      else if (u && !JSON_NODE_HOLDS_ARRAY (u))
        bad = "function: \"updates\" must be a list of {\"shared\": id, \"value\": reference}";
      for (guint i = 0; !bad && u && i < json_array_get_length (json_node_get_array (u)); i++) {
        JsonNode *e = json_array_get_element (json_node_get_array (u), i);
        if (!JSON_NODE_HOLDS_OBJECT (e) || !member_string (json_node_get_object (e), "shared")
            || !member_string (json_node_get_object (e), "value"))
          bad = "function: \"updates\" must be a list of {\"shared\": id, \"value\": reference}";
      }
    }
  }
  JsonNode *r = json_object_get_member (o, "run");
  if (!bad && r) {
    gint64 steps;
    if (!JSON_NODE_HOLDS_OBJECT (r))
      bad = "\"run\" must be an object";
    else {
      JsonObject *ro = json_node_get_object (r);
      JsonNode *s = json_object_get_member (ro, "steps");
      JsonNode *fe = json_object_get_member (ro, "feeds");
      if (s && (!is_integer (s, &steps) || steps < 0))
        bad = "run: \"steps\" must be a non-negative integer";
      else if (s && steps > G_MAXINT32)
        bad = "run: \"steps\" is more than 2147483647, the most one run makes";
      else if (fe && !JSON_NODE_HOLDS_OBJECT (fe))
        bad = "run: \"feeds\" must be an object (input id -> feed)";
    }
  }
  if (bad) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "%s: %s", doc->label, bad);
    return FALSE;
  }
  return TRUE;
}

static gboolean
build (GrdDocument *doc, GError **error)
{
  JsonNode *nodes = json_object_get_member (json_node_get_object (doc->root), "nodes");
  JsonArray *a = nodes ? json_node_get_array (nodes) : NULL;
  guint n = a ? json_array_get_length (a) : 0;
  Builder b = { doc, g_array_sized_new (FALSE, TRUE, sizeof (Entry), n),
                g_hash_table_new (g_str_hash, g_str_equal), error, FALSE };
  gboolean lenient = doc->flags & GRD_DOCUMENT_LENIENT;
  gboolean ok = TRUE;

  /* every node needs an object with a usable id, even for the editor */
  for (guint i = 0; i < n && ok; i++) {
    JsonNode *en = json_array_get_element (a, i);
    Entry e = { 0 };
    if (!JSON_NODE_HOLDS_OBJECT (en)) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "%s: node %u is %s, not an object",
                   doc->label, i, json_kind (en));
      ok = FALSE;
      break;
    }
    e.obj = json_node_get_object (en);
    e.id = member_string (e.obj, "id");
    if (!e.id) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "%s: node %u has no \"id\" string",
                   doc->label, i);
      ok = FALSE;
      break;
    }
    e.kind = member_string (e.obj, "kind");
    g_array_append_val (b.entries, e);
    if (g_hash_table_contains (b.by_id, e.id))
      entry_at (&b, i)->duplicate = TRUE;
    else
      g_hash_table_insert (b.by_id, (gpointer) e.id, GUINT_TO_POINTER (i + 1));
  }

  for (guint i = 0; ok && i < b.entries->len && !b.stop; i++) {
    Entry *e = entry_at (&b, i);
    if (!id_is_valid (e->id)) {
      node_fail (&b, e, "node id '%s' is not valid (expected [A-Za-z_][A-Za-z0-9_.-]*)", e->id);
      continue;
    }
    if (e->duplicate) {
      node_fail (&b, e, "node '%s': the id is used by more than one node", e->id);
      continue;
    }
    if (!e->kind) {
      node_fail (&b, e, "node '%s': \"kind\" must be \"variable\", \"constant\", \"shared\", "
                 "\"op\" or \"grad\"", e->id);
      continue;
    }
    g_autoptr (GPtrArray) refs = g_ptr_array_new ();
    g_autoptr (GPtrArray) what = g_ptr_array_new_with_free_func (g_free);
    if (!node_refs (&b, e, refs, what))
      continue;
    e->deps = g_ptr_array_new ();
    for (guint k = 0; k < refs->len; k++) {
      g_autofree char *id = ref_id (refs->pdata[k]);
      guint at = GPOINTER_TO_UINT (g_hash_table_lookup (b.by_id, id));
      if (!at) {
        node_fail (&b, e, "node '%s': %s refers to '%s', which is not a node", e->id,
                   (char *) what->pdata[k], id);
        break;
      }
      g_ptr_array_add (e->deps, entry_at (&b, at - 1));
    }
  }

  for (guint i = 0; ok && i < b.entries->len && !b.stop; i++) {
    Entry *e = entry_at (&b, i);
    if (e->duplicate) {
      e->state = DONE;  /* its id's first node is built; this one never is */
      continue;
    }
    visit (&b, e);
  }
  if (b.stop)
    ok = FALSE;

  if (ok && lenient)
    for (guint i = 0; i < b.entries->len; i++) {
      Entry *e = entry_at (&b, i);
      if (!e->failed)
        continue;
      gboolean seen = FALSE;
      for (guint k = 0; k < doc->error_ids->len && !seen; k++)
        seen = g_str_equal (doc->error_ids->pdata[k], e->id);
      if (!seen)
        g_ptr_array_add (doc->error_ids, g_strdup (e->id));
    }

  for (guint i = 0; i < b.entries->len; i++)
    if (entry_at (&b, i)->deps)
      g_ptr_array_unref (entry_at (&b, i)->deps);
  g_array_unref (b.entries);
  g_hash_table_unref (b.by_id);
  if (ok && !lenient && !check_function_and_run (doc, error))
    ok = FALSE;
  return ok;
}

/* ------------------------------------------------------------ life cycle */

static void
set_path (GrdDocument *doc, const char *path)
{
  g_free (doc->path);
  g_free (doc->label);
  g_free (doc->base_dir);
  doc->path = g_strdup (path);
  doc->label = g_strdup (path ? path : "<data>");
  doc->base_dir = path ? g_path_get_dirname (path) : g_strdup (".");
}

GrdDocument *
grd_document_new_from_json (JsonNode *root, const char *path, GrdDocumentFlags flags,
                            GError **error)
{
  return grd_document_new_from_json_with_limits (root, path, flags, NULL, error);
}

/* `adopt`: root is the caller's own fresh parse, held by nobody else, so it
 * is kept instead of copied (a copy was a fifth of loading a large file). */
static GrdDocument *
document_new (JsonNode *root, gboolean adopt, const char *path, GrdDocumentFlags flags,
              const GrdLimits *limits, GError **error);

GrdDocument *
grd_document_new_from_json_with_limits (JsonNode *root, const char *path, GrdDocumentFlags flags,
                                        const GrdLimits *limits, GError **error)
{
  return document_new (root, FALSE, path, flags, limits, error);
}

static GrdDocument *
document_new (JsonNode *root, gboolean adopt, const char *path, GrdDocumentFlags flags,
              const GrdLimits *limits, GError **error)
{
  g_return_val_if_fail (root != NULL, NULL);
  GrdDocument *doc = g_new0 (GrdDocument, 1);
  set_path (doc, path);
  doc->flags = flags;
  if (limits) {
    doc->limits = *limits;
    doc->allowed_data = g_strdupv ((char **) limits->allowed_data);
    doc->limits.allowed_data = (const char *const *) doc->allowed_data;
  } else {
    grd_limits_init (&doc->limits);
  }
  doc->errors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  doc->error_ids = g_ptr_array_new_with_free_func (g_free);
  doc->loaded = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) grd_tensor_unref);
  doc->graph = grd_graph_new ();
  if (!check_header (doc, root, error)) {
    grd_document_free (doc);
    return NULL;
  }
  doc->root = adopt ? json_node_ref (root) : deep_copy (root);
  if (grd_document_has_groups (doc->root)) {
    /* saves write groups as groups; everything else sees the flat graph */
    doc->file_root = deep_copy (root);
    if (!grd_document_expand_groups (doc->root, doc->label, error)) {
      grd_document_free (doc);
      return NULL;
    }
  }
  if (!build (doc, error)) {
    grd_document_free (doc);
    return NULL;
  }
  return doc;
}

/* json-glib wraps integer literals beyond the int64 range around silently
 * (99999999999999999999 reads as -1). Such literals become floats, as in
 * Python's json: ".0" is appended to them outside strings. */
static char *
widen_big_integers (const char *data, gsize len)
{
  GString *out = NULL;
  gsize copied = 0;
  for (gsize i = 0; i < len; i++) {
    if (data[i] == '"') {
      for (i++; i < len && data[i] != '"'; i++)
        if (data[i] == '\\')
          i++;
      continue;
    }
    gboolean neg = data[i] == '-';
    if (!(neg || g_ascii_isdigit (data[i])) || (i > 0 && (g_ascii_isalnum (data[i - 1])
                                                         || data[i - 1] == '.')))
      continue;
    gsize start = neg ? i + 1 : i, end = start;
    while (end < len && g_ascii_isdigit (data[end]))
      end++;
    gsize digits = end - start;
    gboolean is_float = end < len && (data[end] == '.' || data[end] == 'e' || data[end] == 'E');
    const char *limit = neg ? "9223372036854775808" : "9223372036854775807";
    if (!is_float && (digits > 19 || (digits == 19 && strncmp (data + start, limit, 19) > 0))) {
      if (!out)
        out = g_string_sized_new (len + 16);
      g_string_append_len (out, data + copied, end - copied);
      g_string_append (out, ".0");
      copied = end;
    }
    i = end > i ? end - 1 : i;
  }
  if (!out)
    return NULL;
  g_string_append_len (out, data + copied, len - copied);
  return g_string_free (out, FALSE);
}

JsonNode *
grd_json_parse (const char *data, gssize length, const char *label, GError **error)
{
  if (!label)
    label = "<data>";
  if (length < 0)
    length = strlen (data);
  if (!g_utf8_validate (data, length, NULL)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "%s: the file is not valid UTF-8", label);
    return NULL;
  }
  /* json-glib's parser recurses once per level: refuse deep nesting first */
  if (!grd_json_check_depth (data, length, GRD_JSON_MAX_DEPTH, label, error))
    return NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;
  /* json-glib reads up to a NUL: copy so that `length` is honoured */
  g_autofree char *copy = widen_big_integers (data, length);
  if (!copy)
    copy = g_strndup (data, length);
  if (!json_parser_load_from_data (parser, copy, -1, &local)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "%s: not valid JSON: %s", label,
                 local->message);
    return NULL;
  }
  JsonNode *root = json_parser_get_root (parser);
  if (!root) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "%s: the file is empty", label);
    return NULL;
  }
  return json_node_copy (root);
}

static GrdDocument *
load_data (const char *data, gssize length, const char *path, GrdDocumentFlags flags,
           const GrdLimits *limits, GError **error)
{
  g_autoptr (JsonNode) root = grd_json_parse (data, length, path, error);
  if (!root)
    return NULL;
  return document_new (root, TRUE, path, flags, limits, error);
}

GrdDocument *
grd_document_load_from_data (const char *data, gssize length, const char *path, GError **error)
{
  return load_data (data, length, path, GRD_DOCUMENT_STRICT, NULL, error);
}

GrdDocument *
grd_document_load (const char *path, GError **error)
{
  return grd_document_load_with_limits (path, NULL, error);
}

GrdDocument *
grd_document_load_with_limits (const char *path, const GrdLimits *limits, GError **error)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;
  if (!g_file_get_contents (path, &contents, &len, &local)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_IO, "%s", local->message);
    return NULL;
  }
  grd_save_clean_stale (path);   /* what a save that crashed left behind */
  return load_data (contents, len, path, GRD_DOCUMENT_STRICT, limits, error);
}

void
grd_document_free (GrdDocument *doc)
{
  if (!doc)
    return;
  if (g_atomic_int_add (&doc->extra_refs, -1) > 0)
    return;
  g_free (doc->path);
  g_free (doc->label);
  g_free (doc->base_dir);
  if (doc->root)
    json_node_unref (doc->root);
  if (doc->file_root)
    json_node_unref (doc->file_root);
  grd_graph_unref (doc->graph);
  g_hash_table_unref (doc->errors);
  g_ptr_array_unref (doc->error_ids);
  g_hash_table_unref (doc->loaded);
  g_strfreev (doc->allowed_data);
  g_free (doc);
}

GrdDocument *
grd_document_ref (GrdDocument *doc)
{
  g_atomic_int_inc (&doc->extra_refs);
  return doc;
}

const char *
grd_document_node_error (GrdDocument *doc, const char *id)
{
  return g_hash_table_lookup (doc->errors, id);
}

GPtrArray *
grd_document_error_ids (GrdDocument *doc)
{
  return doc->error_ids;
}

const char *
grd_document_path (GrdDocument *doc)
{
  return doc->path;
}

GrdGraph *
grd_document_graph (GrdDocument *doc)
{
  return doc->graph;
}

JsonNode *
grd_document_root (GrdDocument *doc)
{
  return doc->root;
}

/* ------------------------------------------------------------ function and run */

static JsonObject *
root_member_object (GrdDocument *doc, const char *key)
{
  JsonNode *n = json_object_get_member (json_node_get_object (doc->root), key);
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static gboolean
function_ref (GrdDocument *doc, JsonNode *n, const char *what, guint i, GrdRef *out,
              GError **error)
{
  if (!is_string (n)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "%s: function: %s %u must be a string",
                 doc->label, what, i);
    return FALSE;
  }
  const char *ref = json_node_get_string (n);
  g_autofree char *id = ref_id (ref);
  if (g_hash_table_contains (doc->errors, id)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "%s: function: %s '%s' has an error",
                 doc->label, what, id);
    return FALSE;
  }
  g_autoptr (GError) local = NULL;
  if (!grd_graph_lookup (doc->graph, ref, out, &local)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "%s: function: %s %u: %s", doc->label, what,
                 i, local->message);
    return FALSE;
  }
  return TRUE;
}

static JsonArray *
function_list (JsonObject *f, const char *key)
{
  JsonNode *n = json_object_get_member (f, key);
  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

GrdFunction *
grd_document_function (GrdDocument *doc, GError **error)
{
  JsonObject *f = root_member_object (doc, "function");
  if (!f && root_member_object (doc, "functions"))
    f = grd_document_function_object (doc, NULL, error);  /* run.function of "functions" */
  else if (!f)
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "%s: the file has no \"function\" object",
                 doc->label);
  return f ? grd_document_compile_object (doc, f, error) : NULL;
}

GrdFunction *
grd_document_compile_object (GrdDocument *doc, JsonObject *f, GError **error)
{
  JsonArray *in = function_list (f, "inputs"), *out = function_list (f, "outputs");
  JsonArray *up = function_list (f, "updates");
  guint n_in = in ? json_array_get_length (in) : 0, n_out = out ? json_array_get_length (out) : 0;
  guint n_up = up ? json_array_get_length (up) : 0;
  g_autofree GrdRef *inputs = g_new (GrdRef, MAX (n_in, 1));
  g_autofree GrdRef *outputs = g_new (GrdRef, MAX (n_out, 1));
  g_autofree GrdUpdate *updates = g_new (GrdUpdate, MAX (n_up, 1));
  for (guint i = 0; i < n_in; i++)
    if (!function_ref (doc, json_array_get_element (in, i), "input", i, &inputs[i], error))
      return NULL;
  for (guint i = 0; i < n_out; i++)
    if (!function_ref (doc, json_array_get_element (out, i), "output", i, &outputs[i], error))
      return NULL;
  for (guint i = 0; i < n_up; i++) {
    JsonNode *u = json_array_get_element (up, i);
    if (!JSON_NODE_HOLDS_OBJECT (u)) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                   "%s: function: update %u must be {\"shared\": id, \"value\": reference}",
                   doc->label, i);
      return NULL;
    }
    JsonObject *uo = json_node_get_object (u);
    if (!function_ref (doc, json_object_get_member (uo, "shared"), "update shared", i,
                       &updates[i].shared, error)
        || !function_ref (doc, json_object_get_member (uo, "value"), "update value", i,
                          &updates[i].value, error))
      return NULL;
  }
  g_autoptr (GError) local = NULL;
  GrdFunction *fn = grd_function_new_with_limit (doc->graph, inputs, n_in, outputs, n_out,
                                                 updates, n_up, grd_limits_memory (&doc->limits),
                                                 &local);
  if (!fn)
    prefix_error (doc, error, local);
  return fn;
}

gint
grd_document_run_steps (GrdDocument *doc, gint fallback)
{
  JsonObject *run = root_member_object (doc, "run");
  gint64 steps;
  if (!run || !is_integer (json_object_get_member (run, "steps"), &steps) || steps < 0)
    return fallback;
  return (gint) MIN (steps, G_MAXINT);
}

GPtrArray *
grd_document_feeds (GrdDocument *doc, GHashTable *overrides, GError **error)
{
  JsonObject *f = root_member_object (doc, "function");
  if (!f && root_member_object (doc, "functions"))
    f = grd_document_function_object (doc, NULL, error);  /* run.function of "functions" */
  else if (!f)
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "%s: the file has no \"function\" object",
                 doc->label);
  if (!f)
    return NULL;
  JsonObject *run = root_member_object (doc, "run");
  JsonNode *fn = run ? json_object_get_member (run, "feeds") : NULL;
  JsonObject *feeds = fn && JSON_NODE_HOLDS_OBJECT (fn) ? json_node_get_object (fn) : NULL;
  return grd_document_feeds_object (doc, f, feeds, overrides, error);
}

GPtrArray *
grd_document_feeds_object (GrdDocument *doc, JsonObject *f, JsonObject *feeds,
                           GHashTable *overrides, GError **error)
{
  JsonArray *in = function_list (f, "inputs");
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) grd_feed_free);
  for (guint i = 0; in && i < json_array_get_length (in); i++) {
    JsonNode *idn = json_array_get_element (in, i);
    const char *id = is_string (idn) ? json_node_get_string (idn) : NULL;
    gint node = id ? grd_graph_find (doc->graph, id) : -1;
    if (node < 0 || grd_graph_node_kind (doc->graph, node) != GRD_NODE_VARIABLE) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH,
                   "%s: function: input %u is not a variable node", doc->label, i);
      return NULL;
    }
    JsonNode *feed = overrides ? g_hash_table_lookup (overrides, id) : NULL;
    if (!feed && feeds)
      feed = json_object_get_member (feeds, id);
    if (!feed) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE,
                   "%s: input '%s' has no feed (add it to run.feeds)", doc->label, id);
      return NULL;
    }
    g_autoptr (GError) local = NULL;
    GrdFeed *fd = grd_feed_new_limited (feed, grd_graph_node_type (doc->graph, node, 0),
                                        doc->base_dir, &doc->limits, &local);
    if (!fd) {
      g_set_error (error, GRD_ERROR, local->code, "%s: input '%s': %s", doc->label, id,
                   local->message);
      return NULL;
    }
    g_ptr_array_add (out, fd);
  }
  return g_steal_pointer (&out);
}

/* ------------------------------------------------------------ saving */

static gboolean
same_tensor (const GrdTensor *a, const GrdTensor *b)
{
  return a->dtype == b->dtype && grd_tensor_same_shape (a, b)
         && memcmp (a->data, b->data, (gsize) a->size * grd_dtype_size (a->dtype)) == 0;
}

static JsonNode *
saved_value (const GrdTensor *v)
{
  if (v->size <= INLINE_MAX)
    return grd_value_to_json (v);
  JsonObject *o = json_object_new ();
  JsonArray *shape = json_array_new ();
  for (gint i = 0; i < v->rank; i++)
    json_array_add_int_element (shape, v->shape[i]);
  json_object_set_array_member (o, "shape", shape);
  gsize es = grd_dtype_size (v->dtype), bytes = (gsize) v->size * es;
  g_autofree guint8 *le = g_memdup2 (v->data, bytes);
#if G_BYTE_ORDER == G_BIG_ENDIAN
  for (gsize i = 0; i < (gsize) v->size; i++)
    for (gsize a = 0, b = es - 1; a < b; a++, b--) {
      guint8 t = le[i * es + a];
      le[i * es + a] = le[i * es + b];
      le[i * es + b] = t;
    }
#endif
  g_autofree char *text = g_base64_encode (le, bytes);
  json_object_set_string_member (o, "base64", text);
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (n, o);
  return n;
}

/* The tree to write: the file as read, with shared values brought up to date.
 * A value keeps its form in the file (init, npy, ...) while it is unchanged,
 * except npy paths that would no longer resolve from the new folder. (Shared
 * nodes are never inside a group's definition: each is a node of the file.) */
static JsonNode *
tree_to_save (GrdDocument *doc, const char *new_dir)
{
  JsonNode *copy = deep_copy (doc->file_root ? doc->file_root : doc->root);
  JsonObject *o = json_node_get_object (copy);
  JsonNode *nodes = json_object_get_member (o, "nodes");
  JsonArray *a = nodes && JSON_NODE_HOLDS_ARRAY (nodes) ? json_node_get_array (nodes) : NULL;
  for (guint i = 0; a && i < json_array_get_length (a); i++) {
    JsonNode *en = json_array_get_element (a, i);
    if (!JSON_NODE_HOLDS_OBJECT (en))
      continue;
    JsonObject *eo = json_node_get_object (en);
    const char *id = member_string (eo, "id");
    if (!id || g_strcmp0 (member_string (eo, "kind"), "shared") != 0
        || g_hash_table_contains (doc->errors, id))
      continue;
    gint index = grd_graph_find (doc->graph, id);
    if (index < 0 || grd_graph_node_kind (doc->graph, index) != GRD_NODE_SHARED)
      continue;
    GrdTensor *now = grd_graph_get_value (doc->graph, (GrdRef) { index, 0 });
    GrdTensor *then = g_hash_table_lookup (doc->loaded, id);
    JsonNode *old = json_object_get_member (eo, "value");
    /* the same folder by another spelling ("a" and "/home/me/a") is no move */
    gboolean moved = new_dir && old && JSON_NODE_HOLDS_OBJECT (old)
                     && json_object_has_member (json_node_get_object (old), "npy")
                     && !grd_data_paths_same_folder (new_dir, doc->base_dir);
    if (then && same_tensor (now, then) && !moved)
      continue;
    json_object_set_member (eo, "value", saved_value (now));
  }
  return copy;
}

static char *
tree_text (JsonNode *tree, gsize *length)
{
  GString *s = g_string_new (NULL);
  append_json (s, tree, 0);
  g_string_append_c (s, '\n');
  if (length)
    *length = s->len;
  return g_string_free (s, FALSE);
}

char *
grd_document_to_data (GrdDocument *doc, gsize *length)
{
  JsonNode *tree = tree_to_save (doc, NULL);
  char *text = tree_text (tree, length);
  json_node_unref (tree);
  return text;
}

JsonNode *
grd_document_dup_saved_tree (GrdDocument *doc)
{
  g_return_val_if_fail (doc != NULL, NULL);
  return tree_to_save (doc, NULL);
}

static int
compare_ids (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* run.resume in one tree: its "run" object made if need be. */
static void
put_resume (JsonNode *root, JsonObject *resume)
{
  JsonObject *top = json_node_get_object (root);
  JsonNode *rn = json_object_get_member (top, "run");
  if (!rn || !JSON_NODE_HOLDS_OBJECT (rn)) {
    json_object_set_object_member (top, "run", json_object_new ());
    rn = json_object_get_member (top, "run");
  }
  json_object_set_object_member (json_node_get_object (rn), "resume", json_object_ref (resume));
}

void
grd_document_set_resume (GrdDocument *doc, gint64 next_step, guint n,
                         const char *const *functions, const gint64 *calls)
{
  g_return_if_fail (doc != NULL && (n == 0 || (functions && calls)));
  JsonObject *resume = json_object_new ();
  json_object_set_int_member (resume, "step", next_step);
  JsonObject *co = json_object_new ();
  for (guint i = 0; i < n; i++)
    json_object_set_int_member (co, functions[i], calls[i]);
  json_object_set_object_member (resume, "calls", co);
  JsonObject *draws = json_object_new ();
  g_autoptr (GHashTable) state = grd_graph_random_state (doc->graph);
  /* in id order: the same run writes the same text */
  g_autofree gpointer *ids = g_hash_table_get_keys_as_array (state, NULL);
  guint n_ids = g_hash_table_size (state);
  qsort (ids, n_ids, sizeof (gpointer), compare_ids);
  for (guint i = 0; i < n_ids; i++)
    json_object_set_int_member (draws, ids[i], *(gint64 *) g_hash_table_lookup (state, ids[i]));
  json_object_set_object_member (resume, "draws", draws);
  /* saves write the file's own form (groups kept) when there is one */
  put_resume (doc->root, resume);
  if (doc->file_root)
    put_resume (doc->file_root, resume);
  json_object_unref (resume);
}

gboolean
grd_document_save (GrdDocument *doc, const char *path, GError **error)
{
  return grd_document_save_full (doc, path, NULL, error);
}

gboolean
grd_document_save_full (GrdDocument *doc, const char *path, char ***outside, GError **error)
{
  g_return_val_if_fail (doc != NULL && path != NULL, FALSE);
  g_autofree char *dir = g_path_get_dirname (path);
  JsonNode *tree = tree_to_save (doc, dir);
  /* Save As: relative data paths follow the file to its new folder */
  g_auto (GStrv) out = grd_data_paths_rebase (tree, doc->base_dir, dir);
  gsize len = 0;
  g_autofree char *text = tree_text (tree, &len);
  if (!grd_save_file (path, text, len, error)) {
    json_node_unref (tree);
    return FALSE;
  }
  if (outside)
    *outside = g_steal_pointer (&out);
  /* the file now holds the current values: the tree and the baseline follow it */
  json_node_unref (doc->root);
  doc->root = tree;
  /* and the next save starts from the paths as written now, for this folder */
  if (doc->file_root) {
    json_node_unref (doc->file_root);
    doc->file_root = deep_copy (tree);
  }
  GHashTableIter it;
  gpointer key, val;
  g_hash_table_iter_init (&it, doc->loaded);
  while (g_hash_table_iter_next (&it, &key, &val)) {
    gint index = grd_graph_find (doc->graph, key);
    GrdTensor *now = grd_graph_get_value (doc->graph, (GrdRef) { index, 0 });
    if (!same_tensor (now, val))
      g_hash_table_iter_replace (&it, grd_tensor_copy (now));
  }
  if (g_strcmp0 (path, doc->path) != 0)
    set_path (doc, path);
  return TRUE;
}

/* ------------------------------------------------------------ DOT */

static void
dot_label (GString *out, GrdGraph *g, gint i)
{
  GrdNodeKind kind = grd_graph_node_kind (g, i);
  const char *what = kind == GRD_NODE_OP ? grd_graph_node_op (g, i)
                     : kind == GRD_NODE_VARIABLE ? "variable"
                     : kind == GRD_NODE_CONSTANT ? "constant"
                     : kind == GRD_NODE_SHARED ? "shared" : "grad";
  GString *types = g_string_new (NULL);
  for (gint k = 0; k < grd_graph_node_n_outputs (g, i); k++) {
    g_autofree char *t = grd_type_describe (grd_graph_node_type (g, i, k));
    g_string_append_printf (types, "%s%s", k ? ", " : "", t);
  }
  g_string_append_printf (out, "  \"%s\" [label=\"%s\\n%s\\n%s\"%s];\n", grd_graph_node_id (g, i),
                          grd_graph_node_id (g, i), what, types->str,
                          kind == GRD_NODE_VARIABLE ? ", shape=ellipse"
                          : kind == GRD_NODE_SHARED ? ", shape=box3d"
                          : kind == GRD_NODE_CONSTANT ? ", shape=note"
                          : kind == GRD_NODE_GRAD ? ", shape=hexagon" : "");
  g_string_free (types, TRUE);
}

char *
grd_document_to_dot (GrdDocument *doc)
{
  GrdGraph *g = doc->graph;
  gint n = grd_graph_n_nodes (g);
  GString *out = g_string_new ("digraph gradus {\n");
  const char *name = member_string (json_node_get_object (doc->root), "name");
  if (name) {
    g_string_append (out, "  label=");
    GString *q = g_string_new (NULL);
    append_string (q, name);  /* JSON escapes are valid in DOT strings for what matters */
    g_string_append_printf (out, "%s;\n", q->str);
    g_string_free (q, TRUE);
  }
  g_string_append (out, "  node [shape=box, style=rounded, fontname=\"Sans\"];\n");
  for (gint i = 0; i < n; i++)
    if (grd_graph_node_owner (g, i) < 0 && grd_graph_node_kind (g, i) != GRD_NODE_GRAD)
      dot_label (out, g, i);
  for (gint i = 0; i < n; i++) {
    if (grd_graph_node_kind (g, i) != GRD_NODE_GRAD)
      continue;
    g_string_append_printf (out, "  subgraph \"cluster_%s\" {\n  label=\"gradient %s\";\n"
                            "  style=dashed;\n", grd_graph_node_id (g, i), grd_graph_node_id (g, i));
    dot_label (out, g, i);
    for (gint j = i + 1; j < n; j++)
      if (grd_graph_node_owner (g, j) == i)
        dot_label (out, g, j);
    g_string_append (out, "  }\n");
  }
  for (gint i = 0; i < n; i++) {
    for (gint k = 0; k < grd_graph_node_n_inputs (g, i); k++) {
      GrdRef r = grd_graph_node_input (g, i, k);
      g_string_append_printf (out, "  \"%s\" -> \"%s\"", grd_graph_node_id (g, r.node),
                              grd_graph_node_id (g, i));
      if (r.output > 0)
        g_string_append_printf (out, " [taillabel=\"%d\"]", r.output);
      g_string_append (out, ";\n");
    }
    if (grd_graph_node_kind (g, i) == GRD_NODE_GRAD)
      for (gint k = 0; k < grd_graph_node_n_outputs (g, i); k++) {
        GrdRef r = grd_graph_grad_output (g, i, k);
        g_string_append_printf (out, "  \"%s\" -> \"%s\" [style=dashed, headlabel=\"%d\"];\n",
                                grd_graph_node_id (g, r.node), grd_graph_node_id (g, i), k);
      }
  }
  g_string_append (out, "}\n");
  return g_string_free (out, FALSE);
}
