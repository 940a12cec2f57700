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

/* ------------------------------------------------------------ Save As */

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
    if (b[k + 1])
      g_string_append_c (s, '/');
  }
  return g_string_free (s, FALSE);
}

static void
rebase_walk (JsonNode *n, const char *old_dir, const char *new_dir)
{
  if (JSON_NODE_HOLDS_ARRAY (n)) {
    JsonArray *a = json_node_get_array (n);
    for (guint i = 0; i < json_array_get_length (a); i++)
      rebase_walk (json_array_get_element (a, i), old_dir, new_dir);
    return;
  }
  if (!JSON_NODE_HOLDS_OBJECT (n))
    return;
  JsonObject *o = json_node_get_object (n);
  static const char *const keys[] = { "npy", "csv" };
  for (gsize k = 0; k < G_N_ELEMENTS (keys); k++) {
    JsonNode *p = json_object_get_member (o, keys[k]);
    if (!p || !JSON_NODE_HOLDS_VALUE (p) || json_node_get_value_type (p) != G_TYPE_STRING)
      continue;
    const char *name = json_node_get_string (p);
    if (g_path_is_absolute (name))
      continue;
    g_autofree char *joined = g_build_filename (old_dir, name, NULL);
    g_autofree char *real = realpath (joined, NULL);
    if (!real)
      continue;   /* a missing file stays as written: nothing to point at */
    g_autofree char *rel = relative_to (new_dir, real);
    json_object_set_string_member (o, keys[k], rel);
  }
  GList *members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next)
    rebase_walk (json_object_get_member (o, l->data), old_dir, new_dir);
  g_list_free (members);
}

void
grd_save_rebase_paths (JsonNode *tree, const char *old_dir, const char *new_dir)
{
  g_autofree char *old_real = realpath (old_dir, NULL);
  g_autofree char *new_real = realpath (new_dir, NULL);
  if (!old_real || !new_real || strcmp (old_real, new_real) == 0)
    return;
  rebase_walk (tree, old_real, new_real);
}
