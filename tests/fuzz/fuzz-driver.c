/* fuzz-driver.c: runs the fuzz entry point without libFuzzer, so that every
 * build (gcc included) exercises it as an ordinary test: over each file in a
 * folder, every prefix of it, and deterministic mutations (bytes replaced by
 * JSON punctuation, tokens such as huge numbers spliced in). */
#include "gradus.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const char *const tokens[] = {
  "{", "}", "[", "]", "\"", ",", ":", "null", "true", "-1", "0", "1e400", "-1e400",
  "9223372036854775808", "1e12", "\"nan\"", "\"x\"", "[]", "{}", "\"g:7\"", "\"_reduce_to\"",
  "[1e12, 1e12]", "\"grad\"", "\"op\"", "\\u0000", "\xff", "2",
};

int
main (int argc, char **argv)
{
  g_assert_cmpint (argc, ==, 2);
  g_autoptr (GDir) dir = g_dir_open (argv[1], 0, NULL);
  g_assert_nonnull (dir);
  GrdRandom rng;
  grd_random_seed (&rng, 2024);
  gint64 runs = 0;
  const char *name;
  while ((name = g_dir_read_name (dir))) {
    g_autofree char *path = g_build_filename (argv[1], name, NULL);
    g_autofree char *data = NULL;
    gsize len = 0;
    if (!g_file_get_contents (path, &data, &len, NULL) || len > 1 << 16)
      continue;
    gboolean graph = g_str_has_suffix (name, ".gradus");
    /* every prefix of graph files, a sample of the others */
    for (gsize cut = 0; cut <= len; cut += graph ? 1 : 7, runs++)
      LLVMFuzzerTestOneInput ((const uint8_t *) data, cut);
    gint mutations = graph ? 400 : 20;
    for (gint m = 0; m < mutations; m++, runs++) {
      GString *s = g_string_new_len (data, len);
      gint edits = 1 + (gint) (grd_random_next (&rng) % 3);
      for (gint e = 0; e < edits && s->len; e++) {
        gsize at = grd_random_next (&rng) % s->len;
        gsize cut = 1 + grd_random_next (&rng) % 8;
        const char *tok = tokens[grd_random_next (&rng) % G_N_ELEMENTS (tokens)];
        switch (grd_random_next (&rng) % 3) {
        case 0: g_string_erase (s, at, 1); g_string_insert (s, at, tok); break;
        case 1: g_string_insert (s, at, tok); break;
        default: g_string_erase (s, at, MIN (s->len - at, cut)); break;
        }
      }
      LLVMFuzzerTestOneInput ((const uint8_t *) s->str, s->len);
      g_string_free (s, TRUE);
    }
  }
  g_print ("ran %" G_GINT64_FORMAT " inputs\n", runs);
  return runs > 0 ? 0 : 1;
}
