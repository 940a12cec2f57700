/* fuzz-replay.c: runs one fuzz entry point over every file of the folders
 * (or files) given: the seed corpus and the reproducers of past findings, so
 * that every build (gcc, the sanitizer build of tools/test.sh --sanitize)
 * replays them as a test. */
#include "fuzz-common.h"

static gint64
replay (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
    g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
    g_assert_nonnull (dir);
    gint64 n = 0;
    const char *name;
    while ((name = g_dir_read_name (dir))) {
      if (name[0] == '.')
        continue;
      g_autofree char *child = g_build_filename (path, name, NULL);
      n += replay (child);
    }
    return n;
  }
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  LLVMFuzzerTestOneInput ((const uint8_t *) data, len);
  return 1;
}

int
main (int argc, char **argv)
{
  gint64 n = 0;
  for (int i = 1; i < argc; i++)
    n += replay (argv[i]);
  g_print ("replayed %" G_GINT64_FORMAT " inputs\n", n);
  return n > 0 ? 0 : 1;
}
