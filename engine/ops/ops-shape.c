/* ops-shape.c: placeholder until the shape ops land. */
#include "../grd-internal.h"

void
grd_ops_register_shape (GrdOpRegisterFunc add)
{
}
