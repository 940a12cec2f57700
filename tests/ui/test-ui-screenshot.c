/* test-ui-screenshot.c: starts the real `gradus` binary on an example under
 * Xvfb, asks it for a screenshot of its window (GRADUS_SCREENSHOT) and checks
 * the PNG it wrote. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

static const char *gradus_path;

static const char *
example_path (void)
{
  static char *path;
  if (!path) {
    const char *src = g_getenv ("GRADUS_SOURCE_DIR");
    g_assert_nonnull (src);
    path = g_build_filename (src, "data", "examples", "primer-3-linear-regression.gradus", NULL);
    if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
      g_free (path);
      path = g_build_filename (src, "tests", "ui", "data", "primer-3-linreg.gradus", NULL);
    }
  }
  return path;
}

static guint32
be32 (const guchar *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

static void
test_screenshot (void)
{
  g_autofree char *dir = g_dir_make_tmp ("gradus-shot-XXXXXX", NULL);
  g_autofree char *out = g_build_filename (dir, "editor.png", NULL);
  g_auto (GStrv) env = g_get_environ ();
  env = g_environ_setenv (env, "GRADUS_SCREENSHOT", out, TRUE);
  const char *argv[] = { gradus_path, example_path (), NULL };
  g_autofree char *err = NULL;
  int status = -1;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, env, G_SPAWN_DEFAULT, NULL, NULL, NULL, &err,
                               &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, &error))
    g_error ("gradus failed: %s\n%s", error->message, err);
  g_autofree guchar *data = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (out, (char **) &data, &len, NULL));
  static const guchar sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  g_assert_cmpmem (data, 8, sig, 8);
  g_assert_cmpmem (data + 12, 4, "IHDR", 4);
  g_assert_cmpuint (be32 (data + 16), >=, 800);
  g_assert_cmpuint (be32 (data + 20), >=, 500);
  /* A drawn window with a graph compresses far less than a blank one. */
  g_assert_cmpuint (len, >, 30000);
  if (g_getenv ("GRADUS_KEEP_SCREENSHOT"))
    g_test_message ("screenshot kept at %s", out);
  else {
    g_unlink (out);
    g_rmdir (dir);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gradus_path = g_getenv ("GRADUS_BINARY");
  g_assert_nonnull (gradus_path);
  g_test_add_func ("/ui/binary/screenshot", test_screenshot);
  return g_test_run ();
}
