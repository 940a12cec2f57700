/* grd-npy.c: placeholder */
#include "../grd-internal.h"
