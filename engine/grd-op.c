/* grd-op.c: the op table. Filled once, on first use, from the ops/ files; it
 * never changes afterwards, so it is the one piece of global state and is
 * safe to read from any thread. */
#include "grd-internal.h"

#define MAX_OPS 256

typedef struct {
  const GrdOpDef *defs[MAX_OPS];
  const char     *names[MAX_OPS + 1];   /* catalogue ops only (not "_internal") */
  gint            n_defs;
  gint            n_names;
  GHashTable     *by_name;
} OpTable;

static OpTable table;

static void
register_op (const GrdOpDef *def)
{
  g_assert (table.n_defs < MAX_OPS);
  g_assert (!g_hash_table_contains (table.by_name, def->name));
  table.defs[table.n_defs++] = def;
  g_hash_table_insert (table.by_name, (gpointer) def->name, (gpointer) def);
  if (def->name[0] != '_')
    table.names[table.n_names++] = def->name;
}

static const OpTable *
get_table (void)
{
  static gsize done = 0;
  if (g_once_init_enter (&done)) {
    table.by_name = g_hash_table_new (g_str_hash, g_str_equal);
    grd_ops_register_elementwise (register_op);
    grd_ops_register_reduce (register_op);
    grd_ops_register_linalg (register_op);
    grd_ops_register_shape (register_op);
    grd_ops_register_neural (register_op);
    grd_ops_register_integer (register_op);
    grd_ops_register_index (register_op);
    grd_ops_register_conv (register_op);
    grd_ops_register_pool (register_op);
    grd_ops_register_internal (register_op);
    grd_ops_register_compiler (register_op);
    grd_ops_register_scan (register_op);
    grd_ops_register_random (register_op);
    grd_ops_register_control (register_op);
    table.names[table.n_names] = NULL;
    g_once_init_leave (&done, 1);
  }
  return &table;
}

const GrdOpDef *
grd_op_lookup (const char *name)
{
  if (!name)
    return NULL;
  return g_hash_table_lookup (get_table ()->by_name, name);
}

const char *const *
grd_op_names (void)
{
  return get_table ()->names;
}

const char *
grd_op_group (const char *op)
{
  const GrdOpDef *def = grd_op_lookup (op);
  return def ? def->group : NULL;
}

gboolean
grd_op_exists (const char *op)
{
  return grd_op_lookup (op) != NULL;
}
