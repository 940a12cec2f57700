/* ops-neural.c: placeholder until the neural ops land. */
#include "../grd-internal.h"

void
grd_ops_register_neural (GrdOpRegisterFunc add)
{
}
