/* fuzz-npy.c: .npy bytes; what loads must save and load again the same. */
#include "fuzz-common.h"
#include "grd-internal.h"

#include <glib/gstdio.h>
#include <unistd.h>
#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_setup ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdTensor) t = grd_npy_from_data (data, size, "fuzz.npy", NULL, &error);
  if (!t) {
    g_assert_true (error != NULL && g_str_has_prefix (error->message, "fuzz.npy"));
    return 0;
  }
  g_assert_true (t->size == grd_shape_size (t->rank, t->shape));
  /* a round trip through a file (small values only: the fuzzer runs fast) */
  if (t->size <= 4096) {
    g_autofree char *path = g_strdup_printf ("%s/gradus-fuzz-%d.npy", g_get_tmp_dir (),
                                             (int) getpid ());
    g_assert_true (grd_npy_save (path, t, &error));
    g_autoptr (GrdTensor) back = grd_npy_load (path, &error);
    g_unlink (path);
    g_assert_nonnull (back);
    g_assert_true (back->dtype == t->dtype && grd_tensor_same_shape (back, t));
    g_assert_true (memcmp (back->data, t->data, t->size * grd_dtype_size (t->dtype)) == 0);
  }
  return 0;
}
