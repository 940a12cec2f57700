/* test-save.c: saves that keep the document whole (issue 15): kill -9 during
 * a save, symbolic links, modes, non-finite numbers, Save As into another
 * folder and stale temporary files. (A full disk and a read-only folder are
 * in test-document.c's atomic-save test.) Each leaves a file that opens and
 * equals what was saved. */
#include "gradus.h"

#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static GrdDocument *
load_text (const char *text, const char *path)
{
  g_autoptr (GError) error = NULL;
  GrdDocument *doc = grd_document_load_from_data (text, -1, path, &error);
  g_assert_no_error (error);
  return doc;
}

static GrdTensor *
value_of (GrdDocument *doc, const char *id)
{
  GrdRef r;
  g_assert_true (grd_graph_lookup (grd_document_graph (doc), id, &r, NULL));
  return grd_graph_get_value (grd_document_graph (doc), r);
}

static GrdDocument *
reload (const char *path)
{
  g_autoptr (GError) error = NULL;
  GrdDocument *doc = grd_document_load (path, &error);
  g_assert_no_error (error);
  return doc;
}

static guint
dir_count (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;
  while (g_dir_read_name (d))
    n++;
  return n;
}

static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK)) {
    g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name (d))) {
      g_autofree char *p = g_build_filename (path, name, NULL);
      remove_tree (p);
    }
    g_rmdir (path);
  } else {
    g_unlink (path);
  }
}

/* A document with one shared value of n float64s, all `fill`. */
static char *
doc_with_value (gint n, double fill)
{
  return g_strdup_printf ("{\"format\": \"gradus-graph\", \"version\": 1, \"nodes\": ["
                          "{\"id\": \"w\", \"kind\": \"shared\", \"dtype\": \"float64\","
                          " \"value\": {\"shape\": [%d], \"init\": \"uniform\", \"low\": %g,"
                          " \"high\": %g}}]}", n, fill, fill);
}

/* ------------------------------------------------------------ kill -9 */

static void
test_kill_during_save (void)
{
  g_autofree char *dir = g_dir_make_tmp ("gradus-kill-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "model.gradus", NULL);
  g_autofree char *text = doc_with_value (300000, 1.0);
  g_autoptr (GrdDocument) doc = load_text (text, path);
  g_autoptr (GError) error = NULL;
  g_assert_true (grd_document_save (doc, path, &error));
  GrdRandom rng;
  grd_random_seed (&rng, 15);
  for (gint round = 0; round < 6; round++) {
    pid_t child = fork ();
    g_assert_cmpint (child, >=, 0);
    if (child == 0) {
      /* save for ever, alternating the values 1 and 2 */
      GrdTensor *w = value_of (doc, "w");
      for (gint k = 0;; k++) {
        for (gint64 i = 0; i < w->size; i++)
          ((double *) w->data)[i] = 1.0 + (k & 1);
        if (!grd_document_save (doc, path, NULL))
          _exit (3);
      }
    }
    g_usleep (20000 + grd_random_next (&rng) % 80000);
    kill (child, SIGKILL);
    int status = 0;
    waitpid (child, &status, 0);
    g_assert_true (WIFSIGNALED (status));
    /* the file opens and holds one whole save: all ones or all twos */
    g_autoptr (GrdDocument) back = reload (path);
    GrdTensor *w = value_of (back, "w");
    g_assert_cmpint (w->size, ==, 300000);
    double first = ((double *) w->data)[0];
    g_assert_true (first == 1.0 || first == 2.0);
    for (gint64 i = 0; i < w->size; i++)
      g_assert_cmpfloat (((double *) w->data)[i], ==, first);
    /* the load removed the dead save's temporary file */
    g_assert_cmpuint (dir_count (dir), ==, 1);
  }
  remove_tree (dir);
}

/* ------------------------------------------------------------ links, modes, stale files */

static void
test_symlink_and_mode (void)
{
  g_autofree char *dir = g_dir_make_tmp ("gradus-link-XXXXXX", NULL);
  g_autofree char *real_dir = g_build_filename (dir, "real", NULL);
  g_assert_cmpint (g_mkdir (real_dir, 0755), ==, 0);
  g_autofree char *real = g_build_filename (real_dir, "model.gradus", NULL);
  g_autofree char *link = g_build_filename (dir, "link.gradus", NULL);
  g_autofree char *text = doc_with_value (4, 1.0);
  g_assert_true (g_file_set_contents (real, text, -1, NULL));
  g_assert_cmpint (g_chmod (real, 0600), ==, 0);
  g_assert_cmpint (symlink ("real/model.gradus", link), ==, 0);

  g_autoptr (GrdDocument) doc = reload (link);
  ((double *) value_of (doc, "w")->data)[0] = 7.0;
  g_autoptr (GError) error = NULL;
  g_assert_true (grd_document_save (doc, link, &error));
  g_assert_no_error (error);
  /* the link is still a link, its target holds the save, the mode is kept */
  g_assert_true (g_file_test (link, G_FILE_TEST_IS_SYMLINK));
  struct stat st;
  g_assert_cmpint (g_stat (real, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_autoptr (GrdDocument) back = reload (real);
  g_assert_cmpfloat (((double *) value_of (back, "w")->data)[0], ==, 7.0);
  g_assert_cmpuint (dir_count (real_dir), ==, 1);

  /* another mode, and a new file made under the umask */
  g_assert_cmpint (g_chmod (real, 0640), ==, 0);
  g_assert_true (grd_document_save (doc, real, &error));
  g_assert_cmpint (g_stat (real, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0640);
  g_autofree char *fresh = g_build_filename (dir, "new.gradus", NULL);
  mode_t old_mask = umask (022);
  g_assert_true (grd_document_save (doc, fresh, &error));
  umask (old_mask);
  g_assert_cmpint (g_stat (fresh, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0644);

  /* temporary files of dead saves go; those of live ones (ours) stay */
  g_autofree char *dead = g_build_filename (real_dir, ".model.gradus.gradus-save-2147483000-abc",
                                            NULL);
  g_autofree char *live_name = g_strdup_printf (".model.gradus.gradus-save-%d-abc", (int) getpid ());
  g_autofree char *live = g_build_filename (real_dir, live_name, NULL);
  g_assert_true (g_file_set_contents (dead, "partial", -1, NULL));
  g_assert_true (g_file_set_contents (live, "partial", -1, NULL));
  g_assert_true (grd_document_save (doc, link, &error));
  g_assert_false (g_file_test (dead, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (live, G_FILE_TEST_EXISTS));
  remove_tree (dir);
}

/* ------------------------------------------------------------ non-finite numbers */

static void
test_non_finite (void)
{
  g_autofree char *dir = g_dir_make_tmp ("gradus-nonfinite-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "m.gradus", NULL);
  g_autofree char *text = doc_with_value (3, 0.0);
  g_autoptr (GrdDocument) doc = load_text (text, path);
  double *w = value_of (doc, "w")->data;
  w[0] = INFINITY;
  w[1] = -INFINITY;
  w[2] = NAN;
  /* a non-finite number where the editor keeps its own data */
  JsonObject *top = json_node_get_object (grd_document_root (doc));
  JsonObject *ui = json_object_new ();
  json_object_set_double_member (ui, "zoom", INFINITY);
  json_object_set_object_member (top, "ui", ui);
  g_autoptr (GError) error = NULL;
  g_assert_true (grd_document_save (doc, path, &error));
  g_autofree char *saved = NULL;
  g_assert_true (g_file_get_contents (path, &saved, NULL, NULL));
  g_assert_null (strstr (saved, "inf.0"));
  g_autoptr (GrdDocument) back = reload (path);
  double *b = value_of (back, "w")->data;
  g_assert_true (isinf (b[0]) && b[0] > 0);
  g_assert_true (isinf (b[1]) && b[1] < 0);
  g_assert_true (isnan (b[2]));
  remove_tree (dir);
}

/* ------------------------------------------------------------ Save As */

static void
test_save_as_other_folder (void)
{
  g_autofree char *root = g_dir_make_tmp ("gradus-saveas-XXXXXX", NULL);
  g_autofree char *a = g_build_filename (root, "a", NULL);
  g_autofree char *data = g_build_filename (root, "a", "data", NULL);
  g_autofree char *b = g_build_filename (root, "b", NULL);
  g_assert_cmpint (g_mkdir_with_parents (data, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (b, 0755), ==, 0);
  g_autofree char *csv = g_build_filename (data, "rows.csv", NULL);
  g_assert_true (g_file_set_contents (csv, "x\n1\n2\n3\n", -1, NULL));
  const char *text =
    "{\"format\": \"gradus-graph\", \"version\": 1, \"nodes\": ["
    "{\"id\": \"x\", \"kind\": \"variable\", \"dtype\": \"float64\", \"shape\": [null]},"
    "{\"id\": \"y\", \"kind\": \"op\", \"op\": \"neg\", \"inputs\": [\"x\"]}],"
    " \"function\": {\"inputs\": [\"x\"], \"outputs\": [\"y\"]},"
    " \"run\": {\"feeds\": {\"x\": {\"csv\": \"data/rows.csv\", \"header\": true,"
    " \"column\": 0}}}}";
  g_autofree char *src = g_build_filename (a, "m.gradus", NULL);
  g_assert_true (g_file_set_contents (src, text, -1, NULL));
  g_autoptr (GrdDocument) doc = reload (src);
  g_autofree char *dst = g_build_filename (b, "m.gradus", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (grd_document_save (doc, dst, &error));
  g_autofree char *saved = NULL;
  g_assert_true (g_file_get_contents (dst, &saved, NULL, NULL));
  g_assert_nonnull (strstr (saved, "\"csv\": \"../a/data/rows.csv\""));
  g_assert_cmpstr (grd_document_path (doc), ==, dst);

  /* it opens; its data, now outside its folder, is read once allowed */
  GrdLimits l;
  grd_limits_init (&l);
  const char *const allowed[] = { a, NULL };
  l.allowed_data = allowed;
  g_autoptr (GrdDocument) back = grd_document_load_with_limits (dst, &l, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) feeds = grd_document_feeds (back, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (GrdTensor) x = grd_feed_next (g_ptr_array_index (feeds, 0), 0, &error);
  g_assert_cmpint (x->size, ==, 3);
  g_assert_cmpfloat (grd_tensor_get (x, 2), ==, 3.0);
  /* and refused, naming the path and the flag, when not allowed */
  g_autoptr (GrdDocument) plain = reload (dst);
  g_autoptr (GPtrArray) none = grd_document_feeds (plain, NULL, &error);
  g_assert_null (none);
  g_assert_nonnull (strstr (error->message, "outside the document's folder"));
  g_clear_error (&error);

  /* saving it back next to its data makes the path plain again */
  g_autofree char *home = g_build_filename (a, "again.gradus", NULL);
  g_assert_true (grd_document_save (doc, home, &error));
  g_clear_pointer (&saved, g_free);
  g_assert_true (g_file_get_contents (home, &saved, NULL, NULL));
  g_assert_nonnull (strstr (saved, "\"csv\": \"data/rows.csv\""));
  remove_tree (root);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/save/kill-9", test_kill_during_save);
  g_test_add_func ("/save/symlink-and-mode", test_symlink_and_mode);
  g_test_add_func ("/save/non-finite", test_non_finite);
  g_test_add_func ("/save/save-as-other-folder", test_save_as_other_folder);
  return g_test_run ();
}
