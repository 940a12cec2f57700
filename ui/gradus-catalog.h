/* gradus-catalog.h: what the editor knows about ops beyond the engine's public
 * API: how many inputs each takes, what its ports and attributes are called. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define GRADUS_ARITY_VARIADIC (-1)

/* Number of inputs of `op`, GRADUS_ARITY_VARIADIC for concatenate/stack, or
 * -2 when the editor does not know the op. */
gint         gradus_catalog_arity (const char *op);
/* Label of input port `i` of an op ("a", "b", "cond", "x", "lo", ...). */
const char  *gradus_catalog_input_name (const char *op, gint i);
/* Names of the attributes `op` reads (NULL-terminated, may be empty). */
const char *const *gradus_catalog_attrs (const char *op);
/* One-line description for tooltips. */
const char  *gradus_catalog_describe (const char *op);
/* The node kinds the palette offers before the ops. */
const char *const *gradus_catalog_node_kinds (void);

G_END_DECLS
