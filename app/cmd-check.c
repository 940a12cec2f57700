/* cmd-check.c: `gradus check`: validate a file and list its nodes' types. */
#include "commands.h"

#include <string.h>

static const char check_usage[] =
  N_("usage: gradus check FILE [--all] [--memory-limit SIZE] [--allow-data PATH]...\n"
  "       gradus check --devices\n"
  "\n"
  "Loads FILE, infers every node's dtype and shape, compiles its function and\n"
  "prepares its feeds; prints one line per node (id, kind, op, dtype[shape]),\n"
  "grad nodes followed by their outputs. Exit status 1 and one error line when\n"
  "anything is wrong.\n"
  "  --all       also list the nodes that grad nodes generated\n"
  "  --devices   list the Vulkan devices instead\n"
  "  --memory-limit SIZE  the most memory any value or call may take (512M, 4G;\n"
  "                     default: a quarter of the machine's memory)\n"
  "  --allow-data PATH  also read data files from PATH (by default only from the\n"
  "                     file's folder and below)\n");

typedef struct {
  char *id;
  char *kind;
  char *op;
  char *type;
} Row;

static void
row_clear (gpointer p)
{
  Row *r = p;
  g_free (r->id);
  g_free (r->kind);
  g_free (r->op);
  g_free (r->type);
}

static const char *
kind_name (GrdNodeKind kind)
{
  switch (kind) {
  case GRD_NODE_VARIABLE: return "variable";
  case GRD_NODE_CONSTANT: return "constant";
  case GRD_NODE_SHARED: return "shared";
  case GRD_NODE_OP: return "op";
  case GRD_NODE_GRAD: return "grad";
  default: return "?";
  }
}

static void
add_row (GArray *rows, const char *id, const char *kind, const char *op, char *type)
{
  Row r = { g_strdup (id), g_strdup (kind), g_strdup (op ? op : "-"), type };
  g_array_append_val (rows, r);
}

/* The rows of node `index`: grad nodes give one row for the node and one per
 * output ("g:0 -> d cost/d wrt"). */
static void
add_node_rows (GArray *rows, GrdGraph *graph, gint index, const char *indent)
{
  GrdNodeKind kind = grd_graph_node_kind (graph, index);
  const char *id = grd_graph_node_id (graph, index);
  g_autofree char *shown = g_strconcat (indent, id, NULL);
  if (kind != GRD_NODE_GRAD) {
    add_row (rows, shown, kind_name (kind), grd_graph_node_op (graph, index),
             grd_type_describe (grd_graph_node_type (graph, index, 0)));
    return;
  }
  gint n = grd_graph_node_n_outputs (graph, index);
  add_row (rows, shown, "grad", NULL, g_strdup_printf ("%d output%s", n, n == 1 ? "" : "s"));
  for (gint k = 0; k < n; k++) {
    GrdRef target = grd_graph_grad_output (graph, index, k);
    g_autofree char *out_id = g_strdup_printf ("%s  %s:%d", indent, id, k);
    g_autofree char *where = NULL;
    if (grd_ref_is_none (target))
      where = g_strdup ("(zero)");
    else if (grd_graph_node_n_outputs (graph, target.node) > 1)
      where = g_strdup_printf ("-> %s:%d", grd_graph_node_id (graph, target.node), target.output);
    else
      where = g_strdup_printf ("-> %s", grd_graph_node_id (graph, target.node));
    add_row (rows, out_id, "output", where,
             grd_ref_is_none (target) ? g_strdup ("-")
                                      : grd_type_describe (grd_graph_ref_type (graph, target)));
  }
}

static void
print_rows (GArray *rows)
{
  gsize w_id = 0, w_kind = 0, w_op = 0;
  for (guint i = 0; i < rows->len; i++) {
    Row *r = &g_array_index (rows, Row, i);
    w_id = MAX (w_id, (gsize) g_utf8_strlen (r->id, -1));
    w_kind = MAX (w_kind, strlen (r->kind));
    w_op = MAX (w_op, (gsize) g_utf8_strlen (r->op, -1));
  }
  for (guint i = 0; i < rows->len; i++) {
    Row *r = &g_array_index (rows, Row, i);
    g_print ("%-*s  %-*s  %-*s  %s\n", (int) w_id, r->id, (int) w_kind, r->kind, (int) w_op,
             r->op, r->type);
  }
}

int
gradus_cmd_check (int argc, char **argv)
{
  const char *file = NULL;
  gboolean all = FALSE, devices = FALSE;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) allowed = g_ptr_array_new ();
  for (int i = 0; i < argc; i++) {
    g_autoptr (GError) e = NULL;
    if (cli_flag (argv, i, "--help") || cli_flag (argv, i, "-h")) {
      g_print ("%s", _(check_usage));
      return CLI_EXIT_OK;
    } else if (cli_flag (argv, i, "--all")) {
      all = TRUE;
    } else if (cli_flag (argv, i, "--devices")) {
      devices = TRUE;
    } else if (cli_limits_option (argc, argv, &i, allowed, &e)) {
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      g_set_error (&e, GRD_ERROR, GRD_ERROR_PARSE, _("unknown option '%s' (see gradus check --help)"),
                   argv[i]);
    } else if (!file) {
      file = argv[i];
    } else {
      g_set_error (&e, GRD_ERROR, GRD_ERROR_PARSE, _("check takes one file; unexpected '%s'"),
                   argv[i]);
    }
    if (e && !error)
      error = g_steal_pointer (&e);
  }
  if (error) {
    cli_error ("check", file, "%s", error->message);
    return CLI_EXIT_USAGE;
  }
  if (devices && !file)
    return gradus_cmd_devices ();
  if (!file) {
    cli_error ("check", NULL, _("no file given (see gradus check --help)"));
    return CLI_EXIT_USAGE;
  }

  g_autoptr (GrdDocument) doc = cli_load (file, allowed, &error);
  g_autoptr (GrdFunction) fn = doc ? cli_compile (doc, GRD_BACKEND_CPU, NULL, &error) : NULL;
  g_autoptr (GPtrArray) feeds = fn ? grd_document_feeds (doc, NULL, &error) : NULL;
  if (!feeds) {
    cli_error ("check", file, "%s", error->message);
    return CLI_EXIT_ERROR;
  }

  GrdGraph *graph = grd_document_graph (doc);
  g_autoptr (GArray) rows = g_array_new (FALSE, TRUE, sizeof (Row));
  g_array_set_clear_func (rows, row_clear);
  g_autoptr (GPtrArray) ids = cli_file_node_ids (doc, NULL);
  for (guint i = 0; i < ids->len; i++) {
    gint index = grd_graph_find (graph, g_ptr_array_index (ids, i));
    if (index < 0)
      continue;
    add_node_rows (rows, graph, index, "");
    if (all && grd_graph_node_kind (graph, index) == GRD_NODE_GRAD)
      for (gint j = 0; j < grd_graph_n_nodes (graph); j++)
        if (grd_graph_node_owner (graph, j) == index)
          add_node_rows (rows, graph, j, "    ");
  }
  print_rows (rows);

  gint generated = 0;
  for (gint j = 0; j < grd_graph_n_nodes (graph); j++)
    generated += grd_graph_node_owner (graph, j) >= 0;
  gint n_in = grd_function_n_inputs (fn), n_out = grd_function_n_outputs (fn);
  g_print ("%s: ok: %u node%s (%d more generated by grad), function of %d input%s and %d "
           "output%s\n", file, ids->len, ids->len == 1 ? "" : "s", generated, n_in,
           n_in == 1 ? "" : "s", n_out, n_out == 1 ? "" : "s");
  return CLI_EXIT_OK;
}
