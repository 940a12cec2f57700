/* scan-test-helpers.c: building scan specs in tests. */
#include "scan-test-helpers.h"

GrdScanSlot
grd_test_scan_slot (GrdRef r, gint n_taps, const gint *taps)
{
  GrdScanSlot s = { r, n_taps, { 0 } };
  for (gint i = 0; i < n_taps; i++)
    s.taps[i] = taps[i];
  return s;
}

GrdScanSpec
grd_test_scan_spec (GrdGraph *body, const GrdRef *bin, gint n_bin, const GrdRef *bout, gint n_bout)
{
  GrdScanSpec s = { 0 };
  s.body = body;
  s.body_inputs = bin;
  s.n_body_inputs = n_bin;
  s.body_outputs = bout;
  s.n_body_outputs = n_bout;
  s.n_steps = -1;
  s.n_steps_ref = GRD_REF_NONE;
  return s;
}
