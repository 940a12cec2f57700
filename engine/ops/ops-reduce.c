/* ops-reduce.c: placeholder until the reduce ops land. */
#include "../grd-internal.h"

void
grd_ops_register_reduce (GrdOpRegisterFunc add)
{
}
