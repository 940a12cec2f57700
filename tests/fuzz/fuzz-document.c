/* fuzz-document.c: the fuzz entry point for graph files.
 *
 * Loads the bytes as a graph file, strictly and leniently; what loads is also
 * saved to text, exported to DOT and compiled, and the saved text must load
 * again. Any crash, sanitizer report or critical warning is a bug; errors are
 * expected. Built as a libFuzzer target with clang, and driven over the test
 * data by fuzz-driver.c with any compiler. */
#include "fuzz-common.h"

#include <string.h>

static void
exercise (GrdDocument *doc, gboolean strict)
{
  gsize len = 0;
  g_autofree char *text = grd_document_to_data (doc, &len);
  g_autofree char *dot = grd_document_to_dot (doc);
  g_assert_nonnull (dot);
  (void) grd_document_run_steps (doc, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdFunction) fn = grd_document_function (doc, &error);
  g_assert_true (fn != NULL || error != NULL);
  if (strict) {
    /* a document that loaded strictly saves to text that loads again */
    g_clear_error (&error);
    g_autoptr (GrdDocument) again = grd_document_load_from_data (text, len, "fuzz.gradus", &error);
    if (!again)
      g_error ("saved text does not load: %s\n%s", error->message, text);
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_setup ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdDocument) doc = grd_document_load_from_data ((const char *) data, size,
                                                            "fuzz.gradus", &error);
  if (doc)
    exercise (doc, TRUE);
  else
    g_assert_true (error != NULL && g_str_has_prefix (error->message, "fuzz.gradus: "));

  /* the editor's lenient mode takes the same JSON */
  g_autoptr (JsonNode) root = grd_json_parse ((const char *) data, size, "fuzz.gradus", NULL);
  if (root) {
    g_clear_error (&error);
    g_autoptr (GrdDocument) lenient = grd_document_new_from_json (root, NULL, GRD_DOCUMENT_LENIENT,
                                                                 &error);
    if (lenient) {
      GPtrArray *ids = grd_document_error_ids (lenient);
      for (guint i = 0; i < ids->len; i++)
        g_assert_nonnull (grd_document_node_error (lenient, ids->pdata[i]));
      exercise (lenient, FALSE);
    }
  }
  return 0;
}
