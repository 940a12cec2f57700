/* grd-save.c: writing a document so that it is never damaged.
 *
 * The text goes to a temporary file next to the target (".NAME.gradus-save-PID-
 * XXXXXX"), is flushed to the disk, takes the target's mode and owner, and is
 * renamed over it; then the folder is flushed so that the rename survives a
 * crash. A symbolic link is written through (its target is replaced, the link
 * stays). Temporary files of saves that died (their process is gone) are
 * removed by the next save or load of the same file. On any error the target
 * is left as it was and the temporary file is removed. */
#include "../grd-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEMP_INFIX ".gradus-save-"

/* ".NAME.gradus-save-" */
static char *
temp_prefix (const char *base)
{
  return g_strconcat (".", base, TEMP_INFIX, NULL);
}

void
grd_save_clean_stale (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *prefix = temp_prefix (base);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  if (!d)
    return;
  const char *name;
  while ((name = g_dir_read_name (d))) {
    if (!g_str_has_prefix (name, prefix))
      continue;
    /* the PID of the saving process follows the prefix */
    char *end = NULL;
    gint64 pid = g_ascii_strtoll (name + strlen (prefix), &end, 10);
    if (pid <= 0 || pid > G_MAXINT || !end || *end != '-')
      continue;
    if (kill ((pid_t) pid, 0) == 0 || errno != ESRCH)
      continue;   /* alive (or not ours to judge): its save may be under way */
    g_autofree char *stale = g_build_filename (dir, name, NULL);
    g_unlink (stale);
  }
}

static gboolean
write_all (int fd, const char *data, gsize len)
{
  while (len > 0) {
    ssize_t w = write (fd, data, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return FALSE;
    data += w;
    len -= (gsize) w;
  }
  return TRUE;
}

/* The file a save replaces: the final target of a symbolic link (which may
 * not exist yet), else the path itself. */
static char *
save_target (const char *path)
{
  char *target = g_strdup (path);
  for (gint hops = 0; hops < 40; hops++) {
    g_autofree char *link = g_file_read_link (target, NULL);
    if (!link)
      return target;
    char *next;
    if (g_path_is_absolute (link))
      next = g_strdup (link);
    else {
      g_autofree char *dir = g_path_get_dirname (target);
      next = g_build_filename (dir, link, NULL);
    }
    g_free (target);
    target = next;
  }
  return target;   /* a loop: the open below reports it */
}

gboolean
grd_save_file (const char *path, const char *text, gsize len, GError **error)
{
  g_autofree char *target = save_target (path);
  g_autofree char *dir = g_path_get_dirname (target);
  g_autofree char *base = g_path_get_basename (target);
  grd_save_clean_stale (target);

  /* the mode and owner to keep; a new file gets 0666 less the umask */
  struct stat st;
  gboolean exists = g_stat (target, &st) == 0;
  mode_t mask = umask (0);
  umask (mask);
  mode_t mode = exists ? (st.st_mode & 07777) : (0666 & ~mask);

  g_autofree char *prefix = temp_prefix (base);
  g_autofree char *templ = g_strdup_printf ("%s/%s%d-XXXXXX", dir, prefix, (int) getpid ());
  int fd = g_mkstemp_full (templ, O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    int e = errno;
    g_set_error (error, GRD_ERROR, GRD_ERROR_IO, "%s: could not save: cannot create a file in "
                 "%s: %s", path, dir, g_strerror (e));
    return FALSE;
  }
  const char *failed = NULL;
  int e = 0;
  if (!write_all (fd, text, len))
    failed = "cannot write", e = errno;
  else if (fsync (fd) != 0)
    failed = "cannot flush to the disk", e = errno;
  else if (fchmod (fd, mode) != 0)
    failed = "cannot set the mode", e = errno;
  /* the owner is kept where we may (root, or our own group); else it becomes ours */
  if (!failed && exists && (st.st_uid != geteuid () || st.st_gid != getegid ()))
    (void) !fchown (fd, st.st_uid, st.st_gid);
  if (close (fd) != 0 && !failed)
    failed = "cannot write", e = errno;
  if (!failed && g_rename (templ, target) != 0)
    failed = "cannot replace the file", e = errno;
  if (failed) {
    g_unlink (templ);
    g_set_error (error, GRD_ERROR, GRD_ERROR_IO, "%s: could not save: %s: %s", path, failed,
                 e ? g_strerror (e) : "error");
    return FALSE;
  }
  /* the rename lives in the folder: flush it too */
  int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void) fsync (dfd);
    close (dfd);
  }
  return TRUE;
}

/* ------------------------------------------------------------ Save As
 *
 * A graph file names its data files relative to its folder. Saved into
 * another folder, each relative "npy" and "csv" path is rewritten so that it
 * names the same file from there (docs/format.md, "Saving into another
 * folder"). Where a path can sit is the format's business, so the walk
 * follows it rather than every key of the tree (the editor's "ui" is left
 * alone): the values of nodes (constants and shared variables), the nodes of
 * scan bodies and of group definitions, and the feeds of run.feeds and of
 * each run.also entry. */

/* `to` relative to folder `from` (both absolute and canonical). */
static char *
relative_to (const char *from, const char *to)
{
  g_auto (GStrv) a = g_strsplit (from, "/", -1);
  g_auto (GStrv) b = g_strsplit (to, "/", -1);
  guint i = 0;
  while (a[i] && b[i] && strcmp (a[i], b[i]) == 0)
    i++;
  GString *s = g_string_new (NULL);
  for (guint k = i; a[k]; k++)
    if (*a[k])
      g_string_append (s, "../");
  for (guint k = i; b[k]; k++) {
    if (!*b[k])
      continue;
    g_string_append (s, b[k]);
    g_string_append_c (s, '/');
  }
  /* no trailing slash; "." when `to` is `from` itself */
  if (s->len > 0)
    g_string_truncate (s, s->len - 1);
  else
    g_string_append_c (s, '.');
  return g_string_free (s, FALSE);
}

/* A folder as the loader sees it: resolved when it exists. */
static char *
resolved_dir (const char *dir)
{
  char *real = realpath (dir && *dir ? dir : ".", NULL);
  if (real)
    return real;
  return g_canonicalize_filename (dir && *dir ? dir : ".", NULL);
}

typedef struct {
  const char *old_dir;   /* resolved */
  const char *new_dir;   /* resolved; NULL: only collect */
  GPtrArray  *outside;   /* resolved data files outside new_dir (or old_dir) */
} Rebase;

static void
note_outside (Rebase *r, const char *real)
{
  const char *dir = r->new_dir ? r->new_dir : r->old_dir;
  if (real && !grd_path_within (real, dir)
      && !g_ptr_array_find_with_equal_func (r->outside, real, g_str_equal, NULL))
    g_ptr_array_add (r->outside, g_strdup (real));
}

/* The "npy" and "csv" members of a value or feed object. */
static void
rebase_object (Rebase *r, JsonNode *n)
{
  if (!n || !JSON_NODE_HOLDS_OBJECT (n))
    return;
  JsonObject *o = json_node_get_object (n);
  static const char *const keys[] = { "npy", "csv" };
  for (gsize k = 0; k < G_N_ELEMENTS (keys); k++) {
    JsonNode *p = json_object_get_member (o, keys[k]);
    if (!p || !JSON_NODE_HOLDS_VALUE (p) || json_node_get_value_type (p) != G_TYPE_STRING)
      continue;
    const char *name = json_node_get_string (p);
    if (!*name)
      continue;
    g_autofree char *joined = g_path_is_absolute (name) ? g_strdup (name)
                              : g_build_filename (r->old_dir, name, NULL);
    g_autofree char *real = realpath (joined, NULL);
    /* an absolute path names the same file from anywhere: kept as written */
    if (r->new_dir && !g_path_is_absolute (name)) {
      /* the same spelling where it leads to the same file (a link keeps its
       * name), else the path of the file itself; a missing file by its name */
      g_autofree char *lexical = g_canonicalize_filename (name, r->old_dir);
      g_autofree char *rel = relative_to (r->new_dir, lexical);
      if (real) {
        g_autofree char *again = g_build_filename (r->new_dir, rel, NULL);
        g_autofree char *check = realpath (again, NULL);
        if (g_strcmp0 (check, real) != 0) {
          g_free (rel);
          rel = relative_to (r->new_dir, real);
        }
      }
      json_object_set_string_member (o, keys[k], rel);
    }
    note_outside (r, real);
  }
}

static void rebase_nodes (Rebase *r, JsonNode *nodes, gint depth);

/* A node's value, and a scan's body (any depth, within the loader's). */
static void
rebase_node (Rebase *r, JsonNode *n, gint depth)
{
  if (!n || !JSON_NODE_HOLDS_OBJECT (n) || depth > GRD_JSON_MAX_DEPTH)
    return;
  JsonObject *o = json_node_get_object (n);
  rebase_object (r, json_object_get_member (o, "value"));
  JsonNode *body = json_object_get_member (o, "body");
  if (body && JSON_NODE_HOLDS_OBJECT (body))
    rebase_nodes (r, json_object_get_member (json_node_get_object (body), "nodes"), depth + 1);
}

static void
rebase_nodes (Rebase *r, JsonNode *nodes, gint depth)
{
  if (!nodes || !JSON_NODE_HOLDS_ARRAY (nodes))
    return;
  JsonArray *a = json_node_get_array (nodes);
  for (guint i = 0; i < json_array_get_length (a); i++)
    rebase_node (r, json_array_get_element (a, i), depth);
}

static void
rebase_feeds (Rebase *r, JsonNode *feeds)
{
  if (!feeds || !JSON_NODE_HOLDS_OBJECT (feeds))
    return;
  JsonObjectIter it;
  const char *id;
  JsonNode *feed;
  json_object_iter_init (&it, json_node_get_object (feeds));
  while (json_object_iter_next (&it, &id, &feed))
    rebase_object (r, feed);
}

static void
rebase_tree (Rebase *r, JsonNode *tree)
{
  if (!tree || !JSON_NODE_HOLDS_OBJECT (tree))
    return;
  JsonObject *top = json_node_get_object (tree);
  rebase_nodes (r, json_object_get_member (top, "nodes"), 0);
  JsonNode *groups = json_object_get_member (top, "groups");
  if (groups && JSON_NODE_HOLDS_OBJECT (groups)) {
    JsonObjectIter it;
    const char *name;
    JsonNode *def;
    json_object_iter_init (&it, json_node_get_object (groups));
    while (json_object_iter_next (&it, &name, &def))
      if (JSON_NODE_HOLDS_OBJECT (def))
        rebase_nodes (r, json_object_get_member (json_node_get_object (def), "nodes"), 0);
  }
  JsonNode *run = json_object_get_member (top, "run");
  if (!run || !JSON_NODE_HOLDS_OBJECT (run))
    return;
  rebase_feeds (r, json_object_get_member (json_node_get_object (run), "feeds"));
  JsonNode *also = json_object_get_member (json_node_get_object (run), "also");
  JsonArray *aa = also && JSON_NODE_HOLDS_ARRAY (also) ? json_node_get_array (also) : NULL;
  for (guint i = 0; aa && i < json_array_get_length (aa); i++) {
    JsonNode *e = json_array_get_element (aa, i);
    if (JSON_NODE_HOLDS_OBJECT (e))
      rebase_feeds (r, json_object_get_member (json_node_get_object (e), "feeds"));
  }
}

static char **
take_list (GPtrArray *list)
{
  if (list->len == 0) {
    g_ptr_array_unref (list);
    return NULL;
  }
  g_ptr_array_add (list, NULL);
  return (char **) g_ptr_array_free (list, FALSE);
}

gboolean
grd_data_paths_same_folder (const char *a, const char *b)
{
  g_autofree char *ra = resolved_dir (a);
  g_autofree char *rb = resolved_dir (b);
  return strcmp (ra, rb) == 0;
}

char **
grd_data_paths_rebase (JsonNode *tree, const char *old_dir, const char *new_dir)
{
  g_return_val_if_fail (new_dir != NULL, NULL);
  g_autofree char *from = resolved_dir (old_dir);
  g_autofree char *to = resolved_dir (new_dir);
  /* the same folder: not a byte changes */
  if (strcmp (from, to) == 0)
    return NULL;
  Rebase r = { from, to, g_ptr_array_new_with_free_func (g_free) };
  rebase_tree (&r, tree);
  return take_list (r.outside);
}

char **
grd_data_paths_outside (JsonNode *tree, const char *dir)
{
  g_autofree char *at = resolved_dir (dir);
  Rebase r = { at, NULL, g_ptr_array_new_with_free_func (g_free) };
  rebase_tree (&r, tree);
  return take_list (r.outside);
}
