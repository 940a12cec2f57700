/* gradus-run-data.c: data files of a document outside its folder. */
#include "gradus-run-data.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Whether resolved `path` is resolved `root` or inside it. */
static gboolean
within (const char *path, const char *root)
{
  gsize n = strlen (root);
  if (strncmp (path, root, n) != 0)
    return FALSE;
  return path[n] == '\0' || path[n] == '/' || (n > 0 && root[n - 1] == '/');
}

typedef struct {
  const char        *base;      /* resolved folder of the document */
  const char *const *allowed;
  GPtrArray         *out;
} Scan;

static void
check_path (Scan *scan, const char *name)
{
  g_autofree char *joined = g_path_is_absolute (name)
                            ? g_strdup (name) : g_build_filename (scan->base, name, NULL);
  g_autofree char *real = realpath (joined, NULL);
  if (!real || within (real, scan->base))
    return;
  for (gint i = 0; scan->allowed && scan->allowed[i]; i++) {
    g_autofree char *extra = realpath (scan->allowed[i], NULL);
    if (extra && within (real, extra))
      return;
  }
  if (!g_ptr_array_find_with_equal_func (scan->out, real, g_str_equal, NULL))
    g_ptr_array_add (scan->out, g_steal_pointer (&real));
}

static void
scan_node (Scan *scan, JsonNode *node)
{
  if (JSON_NODE_HOLDS_ARRAY (node)) {
    JsonArray *a = json_node_get_array (node);
    for (guint i = 0; i < json_array_get_length (a); i++)
      scan_node (scan, json_array_get_element (a, i));
  } else if (JSON_NODE_HOLDS_OBJECT (node)) {
    JsonObjectIter iter;
    const char *key;
    JsonNode *member;
    json_object_iter_init (&iter, json_node_get_object (node));
    while (json_object_iter_next (&iter, &key, &member)) {
      gboolean data_key = strcmp (key, "csv") == 0 || strcmp (key, "npy") == 0;
      if (data_key && JSON_NODE_HOLDS_VALUE (member)
          && json_node_get_value_type (member) == G_TYPE_STRING)
        check_path (scan, json_node_get_string (member));
      else
        scan_node (scan, member);
    }
  }
}

GPtrArray *
gradus_run_data_outside (JsonNode *root, const char *doc_path, const char *const *allowed)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *dir = doc_path ? g_path_get_dirname (doc_path) : g_strdup (".");
  g_autofree char *base = realpath (dir, NULL);
  if (!root || !base)
    return out;
  Scan scan = { base, allowed, out };
  scan_node (&scan, root);
  return out;
}
