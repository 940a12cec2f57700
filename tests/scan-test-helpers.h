/* scan-test-helpers.h: building scan specs in tests (tests/test-scan.c,
 * tests/vulkan/test-vk-scan.c). */
#pragma once

#include "gradus.h"

/* A sequence or fed-back output `r` read at `n_taps` taps (0: the plain tap). */
GrdScanSlot grd_test_scan_slot (GrdRef r, gint n_taps, const gint *taps);
/* A spec of that body with nothing else set: no sequences, outputs_info or
 * non-sequences, n_steps from the sequences. */
GrdScanSpec grd_test_scan_spec (GrdGraph *body, const GrdRef *bin, gint n_bin, const GrdRef *bout,
                                gint n_bout);
