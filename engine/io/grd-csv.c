/* grd-csv.c: placeholder */
#include "../grd-internal.h"
