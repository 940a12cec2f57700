/* fuzz-common.h: what every fuzz entry point shares: small budgets, so that
 * a fuzzer's memory limit catches real leaks and not legitimate big values. */
#pragma once

#include "gradus.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* 64 MiB per value and call: set once, before anything reads it. */
static inline void
fuzz_setup (void)
{
  static gsize done;
  if (g_once_init_enter (&done)) {
    g_setenv ("GRADUS_MEMORY_LIMIT", "64M", FALSE);
    g_once_init_leave (&done, 1);
  }
}
