/* fuzz-feed.c: the text of `--feed ID=JSON` (everything after '='): parsed
 * as the command line parses it, made into a feed for inputs of several
 * types and called for a few steps. Data files are read only from the
 * current folder and below, under a 64 MiB budget. */
#include "fuzz-common.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_setup ();
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) json = grd_json_parse ((const char *) data, size, "--feed x", &error);
  if (!json)
    return 0;
  static const GrdType types[] = {
    { GRD_DTYPE_FLOAT64, 0, { 0 } },
    { GRD_DTYPE_FLOAT32, 1, { -1 } },
    { GRD_DTYPE_INT64, 2, { -1, -1 } },
    { GRD_DTYPE_INT32, 2, { -1, 3 } },
    { GRD_DTYPE_BOOL, 1, { 4 } },
  };
  for (gsize k = 0; k < G_N_ELEMENTS (types); k++) {
    g_clear_error (&error);
    g_autoptr (GrdFeed) feed = grd_feed_new (json, &types[k], ".", &error);
    if (!feed) {
      g_assert_nonnull (error);
      continue;
    }
    for (gint64 step = 0; step < 3; step++) {
      g_autoptr (GrdTensor) t = grd_feed_next (feed, step, &error);
      if (!t)
        break;
      g_assert_true (grd_type_accepts (&types[k], t));
    }
  }
  return 0;
}
