/* grd-limits.c: what an untrusted graph file may make Gradus do.
 *
 * Graph files are shared between people, so the engine treats them as hostile
 * input (docs/format.md, "Limits"): every value, op result, feed batch and
 * data file must fit a memory budget, JSON may nest only so deep, and data
 * files are read only from the document's folder and below unless the user
 * allows more. This file holds the policy; the readers call it. */
#include "../grd-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------ memory */

gboolean
grd_parse_size (const char *text, guint64 *bytes, GError **error)
{
  const char *p = text ? text : "";
  char *end = NULL;
  errno = 0;
  guint64 v = g_ascii_strtoull (p, &end, 10);
  guint64 unit = 1;
  if (end != p && errno == 0) {
    switch (g_ascii_toupper (*end)) {
    case 'K': unit = G_GUINT64_CONSTANT (1) << 10; end++; break;
    case 'M': unit = G_GUINT64_CONSTANT (1) << 20; end++; break;
    case 'G': unit = G_GUINT64_CONSTANT (1) << 30; end++; break;
    case 'T': unit = G_GUINT64_CONSTANT (1) << 40; end++; break;
    default: break;
    }
    if (unit > 1 && (*end == 'B' || *end == 'b'))
      end++;
  }
  if (end == p || *end != '\0' || *p == '-' || errno != 0 || v == 0
      || v > G_MAXUINT64 / unit) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE,
                 "memory limit '%s': expected a positive size such as 512M or 4G", p);
    return FALSE;
  }
  *bytes = v * unit;
  return TRUE;
}

guint64
grd_memory_limit_default (void)
{
  /* GRADUS_MEMORY_LIMIT is configuration (tests and fuzzers set it), read each time */
  const char *env = g_getenv ("GRADUS_MEMORY_LIMIT");
  guint64 bytes;
  if (env && grd_parse_size (env, &bytes, NULL))
    return bytes;
  long pages = sysconf (_SC_PHYS_PAGES), page = sysconf (_SC_PAGESIZE);
  if (pages <= 0 || page <= 0)
    return G_GUINT64_CONSTANT (1) << 30;
  /* a quarter of the machine: a file cannot take the memory the desktop needs */
  return (guint64) pages / 4 * (guint64) page;
}

void
grd_limits_init (GrdLimits *limits)
{
  memset (limits, 0, sizeof *limits);
  limits->memory_limit = grd_memory_limit_default ();
}

guint64
grd_limits_memory (const GrdLimits *limits)
{
  return limits && limits->memory_limit ? limits->memory_limit : grd_memory_limit_default ();
}

char *
grd_size_describe (guint64 bytes)
{
  if (bytes >= G_GUINT64_CONSTANT (1) << 30)
    return g_strdup_printf ("%.1f GiB", (double) bytes / (double) (1 << 30));
  if (bytes >= 1 << 20)
    return g_strdup_printf ("%.1f MiB", (double) bytes / (double) (1 << 20));
  return g_strdup_printf ("%" G_GUINT64_FORMAT " bytes", bytes);
}

gboolean
grd_shape_bytes (gint rank, const gint64 *shape, GrdDType dtype, guint64 *bytes)
{
  /* a zero dimension makes the value empty, whatever the others say */
  for (gint i = 0; i < rank; i++)
    if (shape[i] == 0) {
      *bytes = 0;
      return TRUE;
    }
  guint64 n = grd_dtype_size (dtype);
  for (gint i = 0; i < rank; i++)
    if (shape[i] < 0 || __builtin_mul_overflow (n, (guint64) shape[i], &n))
      return FALSE;
  *bytes = n;
  return TRUE;
}

/* Bytes of a value as if each zero dimension were one: what loops over its
 * dimensions and its printed form walk even when the value is empty. */
gboolean
grd_shape_extent (gint rank, const gint64 *shape, GrdDType dtype, guint64 *bytes)
{
  guint64 n = grd_dtype_size (dtype);
  for (gint i = 0; i < rank; i++)
    if (shape[i] < 0 || (shape[i] > 0 && __builtin_mul_overflow (n, (guint64) shape[i], &n)))
      return FALSE;
  *bytes = n;
  return TRUE;
}

gboolean
grd_limits_check_value (const GrdLimits *limits, const char *what, GrdDType dtype, gint rank,
                        const gint64 *shape, GError **error)
{
  guint64 bytes = 0, budget = grd_limits_memory (limits);
  gboolean counted = grd_shape_bytes (rank, shape, dtype, &bytes);
  if (counted && bytes == 0 && rank > 0) {
    /* An empty value still has its outer dimensions: kernels loop over them and
     * `gradus run` prints their brackets, so they must fit the budget as if the
     * zero dimension were one ([2^62, 0] would otherwise loop for ever). */
    guint64 extent;
    if (grd_shape_extent (rank, shape, dtype, &extent) && extent <= budget)
      return TRUE;
    g_autofree char *dims = grd_dims_describe (rank, shape);
    g_autofree char *limit = grd_size_describe (budget);
    g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE,
                 "%s would be %s%s: empty, but its other dimensions are larger than the "
                 "memory limit of %s allows", what, grd_dtype_name (dtype), dims, limit);
    return FALSE;
  }
  if (counted && bytes <= budget)
    return TRUE;
  g_autofree char *dims = grd_dims_describe (rank, shape);
  g_autofree char *limit = grd_size_describe (budget);
  g_autofree char *size = counted ? grd_size_describe (bytes) : g_strdup ("more than 2^64 bytes");
  g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE,
               "%s would be %s%s (%s), more than the memory limit of %s", what,
               grd_dtype_name (dtype), dims, size, limit);
  return FALSE;
}

/* ------------------------------------------------------------ JSON depth */

gboolean
grd_json_check_depth (const char *data, gsize length, gint max_depth, const char *label,
                      GError **error)
{
  gint depth = 0;
  gint line = 1;
  for (gsize i = 0; i < length; i++) {
    char c = data[i];
    if (c == '"') {
      /* skip the string: brackets inside do not nest */
      for (i++; i < length && data[i] != '"'; i++)
        if (data[i] == '\\')
          i++;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                     "%s: line %d: JSON nested more than %d deep (the most Gradus reads)",
                     label, line, max_depth);
        return FALSE;
      }
    } else if (c == ']' || c == '}') {
      depth = MAX (depth - 1, 0);
    } else if (c == '\n') {
      line++;
    }
  }
  return TRUE;
}

/* ------------------------------------------------------------ data files */

/* Whether `path` (resolved) is `root` (resolved) or inside it. */
gboolean
grd_path_within (const char *path, const char *root)
{
  gsize n = strlen (root);
  if (strncmp (path, root, n) != 0)
    return FALSE;
  return path[n] == '\0' || path[n] == '/' || (n > 0 && root[n - 1] == '/');
}

char *
grd_data_path (const char *base_dir, const char *name, const GrdLimits *limits, GError **error)
{
  g_autofree char *joined = g_path_is_absolute (name) || !base_dir
                                ? g_strdup (name) : g_build_filename (base_dir, name, NULL);
  /* resolve symbolic links and '..' before deciding where the file is */
  g_autofree char *real = realpath (joined, NULL);
  if (!real) {
    int e = errno;
    g_set_error (error, GRD_ERROR, GRD_ERROR_IO, "%s: cannot open the data file: %s", joined,
                 g_strerror (e));
    return NULL;
  }
  gboolean allowed = limits && limits->allow_any_data;
  g_autofree char *root = realpath (base_dir ? base_dir : ".", NULL);
  if (!allowed && root)
    allowed = grd_path_within (real, root);
  for (gint i = 0; !allowed && limits && limits->allowed_data && limits->allowed_data[i]; i++) {
    g_autofree char *extra = realpath (limits->allowed_data[i], NULL);
    allowed = extra && grd_path_within (real, extra);
  }
  if (!allowed) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_IO,
                 "%s: the data file is outside the document's folder %s (allow it with "
                 "--allow-data %s)", joined, root ? root : ".", real);
    return NULL;
  }
  return g_steal_pointer (&joined);
}

gboolean
grd_data_read (const char *path, const GrdLimits *limits, char **contents, gsize *length,
               GError **error)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    int e = errno;
    g_set_error (error, GRD_ERROR, GRD_ERROR_IO, "%s: cannot open: %s", path, g_strerror (e));
    return FALSE;
  }
  struct stat st;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode)) {
    close (fd);
    g_set_error (error, GRD_ERROR, GRD_ERROR_IO, "%s: not a regular file (only files are read "
                 "as data)", path);
    return FALSE;
  }
  guint64 budget = grd_limits_memory (limits);
  if ((guint64) st.st_size > budget) {
    close (fd);
    g_autofree char *size = grd_size_describe ((guint64) st.st_size);
    g_autofree char *limit = grd_size_describe (budget);
    g_set_error (error, GRD_ERROR, GRD_ERROR_IO, "%s: the file takes %s, more than the memory "
                 "limit of %s", path, size, limit);
    return FALSE;
  }
  gsize cap = (gsize) st.st_size;
  char *buf = g_try_malloc (cap + 1);
  if (!buf) {
    close (fd);
    g_set_error (error, GRD_ERROR, GRD_ERROR_IO, "%s: out of memory reading the file", path);
    return FALSE;
  }
  gsize got = 0;
  while (got < cap) {
    ssize_t r = read (fd, buf + got, cap - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      int e = errno;
      close (fd);
      g_free (buf);
      g_set_error (error, GRD_ERROR, GRD_ERROR_IO, "%s: cannot read: %s", path, g_strerror (e));
      return FALSE;
    }
    if (r == 0)
      break;
    got += (gsize) r;
  }
  close (fd);
  /* a file that grew while read is taken as it was when measured */
  buf[got] = '\0';
  *contents = buf;
  *length = got;
  return TRUE;
}
