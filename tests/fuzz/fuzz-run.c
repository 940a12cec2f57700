/* fuzz-run.c: load + compile + run. A graph file that loads is compiled and
 * called for up to three steps with its own feeds, under a 64 MiB budget;
 * any crash, sanitizer report or critical warning is a bug, errors are not. */
#include "fuzz-common.h"

#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_setup ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdDocument) doc = grd_document_load_from_data ((const char *) data, size,
                                                            "fuzz.gradus", &error);
  if (!doc)
    return 0;
  g_autoptr (GrdFunction) fn = grd_document_function (doc, &error);
  if (!fn)
    return 0;
  g_autoptr (GPtrArray) feeds = grd_document_feeds (doc, NULL, &error);
  if (!feeds || (gint) feeds->len != grd_function_n_inputs (fn))
    return 0;
  gint n_in = feeds->len, n_out = grd_function_n_outputs (fn);
  GrdTensor *inputs[n_in + 1], *outputs[n_out + 1];
  gint steps = MIN (grd_document_run_steps (doc, 1), 3);
  for (gint step = 0; step < steps; step++) {
    gboolean ok = TRUE;
    memset (inputs, 0, sizeof inputs);
    for (gint i = 0; i < n_in && ok; i++)
      ok = (inputs[i] = grd_feed_next (g_ptr_array_index (feeds, i), step, &error)) != NULL;
    if (ok && grd_function_call (fn, inputs, outputs, &error)) {
      for (gint o = 0; o < n_out; o++) {
        GString *s = g_string_new (NULL);
        grd_value_append_json (s, outputs[o]);
        g_string_free (s, TRUE);
        grd_tensor_unref (outputs[o]);
      }
    } else {
      ok = FALSE;
    }
    for (gint i = 0; i < n_in; i++)
      grd_tensor_unref (inputs[i]);
    if (!ok)
      break;
  }
  return 0;
}
