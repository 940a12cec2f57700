/* ops-linalg.c: placeholder until the linalg ops land. */
#include "../grd-internal.h"

void
grd_ops_register_linalg (GrdOpRegisterFunc add)
{
}
