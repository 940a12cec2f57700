/* grd-value.c: placeholder */
#include "../grd-internal.h"
