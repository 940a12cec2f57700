/* fuzz-csv.c: CSV text, with and without a header, every column in every
 * dtype. Errors must name the file and never quote a field that is not a
 * number (docs/format.md, "Limits"). */
#include "fuzz-common.h"
#include "grd-internal.h"

#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_setup ();
  for (gint header = 0; header < 2; header++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GrdCsv) csv = grd_csv_parse ((const char *) data, size, "fuzz.csv", header, &error);
    if (!csv) {
      g_assert_true (error != NULL && g_str_has_prefix (error->message, "fuzz.csv"));
      continue;
    }
    gint n = MIN (grd_csv_n_columns (csv), 16);
    gint cols[16];
    for (gint c = 0; c < n; c++)
      cols[c] = c;
    for (gint dt = 0; dt < GRD_N_DTYPES; dt++) {
      g_clear_error (&error);
      g_autoptr (GrdTensor) all = grd_csv_columns (csv, cols, n, FALSE, dt, &error);
      g_assert_true (all != NULL || error != NULL);
      if (all)
        g_assert_cmpint (all->size, ==, (gint64) grd_csv_n_rows (csv) * n);
      for (gint c = 0; c < MIN (n, 2); c++) {
        g_clear_error (&error);
        g_autoptr (GrdTensor) one = grd_csv_columns (csv, &cols[c], 1, TRUE, dt, &error);
        g_assert_true (one != NULL || error != NULL);
      }
    }
  }
  return 0;
}
