/* gradus-doc-json.c: small helpers over json-glib trees that the document
 * model uses everywhere: typed member access, deep copies, references. */
#include "gradus-doc-private.h"

#include <string.h>

JsonNode *
gradus_json_deep_copy (JsonNode *node)
{
  /* json_node_copy() shares objects and arrays; snapshots must not. */
  if (!node)
    return NULL;
  switch (json_node_get_node_type (node)) {
  case JSON_NODE_OBJECT: {
    JsonObject *src = json_node_get_object (node), *dst = json_object_new ();
    JsonObjectIter it;
    const char *key;
    JsonNode *member;
    json_object_iter_init_ordered (&it, src);
    while (json_object_iter_next_ordered (&it, &key, &member))
      json_object_set_member (dst, key, gradus_json_deep_copy (member));
    JsonNode *n = json_node_new (JSON_NODE_OBJECT);
    json_node_take_object (n, dst);
    return n;
  }
  case JSON_NODE_ARRAY: {
    JsonArray *src = json_node_get_array (node), *dst = json_array_sized_new (json_array_get_length (src));
    for (guint i = 0; i < json_array_get_length (src); i++)
      json_array_add_element (dst, gradus_json_deep_copy (json_array_get_element (src, i)));
    JsonNode *n = json_node_new (JSON_NODE_ARRAY);
    json_node_take_array (n, dst);
    return n;
  }
  case JSON_NODE_VALUE: {
    /* json_node_copy() shares the value too, and setting a string on one
     * node rewrote that shared value: the undo snapshot changed with the tree. */
    GValue v = G_VALUE_INIT;
    json_node_get_value (node, &v);
    JsonNode *n = json_node_new (JSON_NODE_VALUE);
    json_node_set_value (n, &v);
    g_value_unset (&v);
    return n;
  }
  default:
    return json_node_copy (node);
  }
}

void
gradus_json_array_replace (JsonArray *a, guint index, JsonNode *fresh)
{
  guint n = json_array_get_length (a);
  g_return_if_fail (index < n);
  g_autoptr (GPtrArray) keep = g_ptr_array_new ();
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (keep, json_node_ref (json_array_get_element (a, i)));
  while (json_array_get_length (a) > 0)
    json_array_remove_element (a, json_array_get_length (a) - 1);
  for (guint i = 0; i < n; i++) {
    if (i == index) {
      json_node_unref (keep->pdata[i]);
      json_array_add_element (a, fresh);
    } else
      json_array_add_element (a, keep->pdata[i]);   /* our reference goes to the array */
  }
}

JsonObject *
gradus_json_object_member (JsonObject *o, const char *key, gboolean create)
{
  JsonNode *n = json_object_get_member (o, key);
  if (n && JSON_NODE_HOLDS_OBJECT (n))
    return json_node_get_object (n);
  if (!create)
    return NULL;
  json_object_set_object_member (o, key, json_object_new ());
  return json_object_get_object_member (o, key);
}

const char *
gradus_json_get_string (JsonObject *node, const char *key)
{
  JsonNode *n = json_object_get_member (node, key);
  if (n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
    return json_node_get_string (n);
  return NULL;
}

JsonArray *
gradus_json_get_array (JsonObject *node, const char *key, gboolean create)
{
  JsonNode *n = json_object_get_member (node, key);
  if (n && JSON_NODE_HOLDS_ARRAY (n))
    return json_node_get_array (n);
  if (!create)
    return NULL;
  json_object_set_array_member (node, key, json_array_new ());
  return json_object_get_array_member (node, key);
}

char *
gradus_ref_parse (const char *ref, gint *output)
{
  const char *colon = ref ? strrchr (ref, ':') : NULL;
  if (output)
    *output = 0;
  if (!ref)
    return NULL;
  if (!colon)
    return g_strdup (ref);
  if (output)
    *output = atoi (colon + 1);
  return g_strndup (ref, colon - ref);
}

const char *
gradus_json_ref_string (JsonNode *n)
{
  if (n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING) {
    const char *s = json_node_get_string (n);
    return s && *s ? s : NULL;
  }
  return NULL;
}
