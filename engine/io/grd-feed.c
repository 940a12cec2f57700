/* grd-feed.c: placeholder */
#include "../grd-internal.h"
