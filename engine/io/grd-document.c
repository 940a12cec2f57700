/* grd-document.c: placeholder */
#include "../grd-internal.h"
