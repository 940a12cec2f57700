/* ui-test-util.h: main-loop helpers shared by the editor's window tests. */
#pragma once

#include <glib.h>

/* Iterates the default main context for `ms` milliseconds. */
static inline void
ui_test_spin (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;
  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
}

/* Iterates the main loop until `cond` holds or `seconds` pass. */
#define UI_TEST_SPIN_UNTIL(cond, seconds)                                \
  G_STMT_START {                                                         \
    gint64 _end = g_get_monotonic_time () + (seconds) * G_USEC_PER_SEC;  \
    while (!(cond) && g_get_monotonic_time () < _end)                    \
      g_main_context_iteration (NULL, FALSE);                            \
  } G_STMT_END
