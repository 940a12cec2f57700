/* cmd-run.c: `gradus run`: call the file's function, one JSON line per call. */
#include "commands.h"

#include <stdio.h>
#include <string.h>

typedef enum {
  PRINT_EVERY,
  PRINT_LAST,
  PRINT_NONE,
} PrintMode;

static const char run_usage[] =
  N_("usage: gradus run FILE [--steps N] [--backend cpu|vulkan] [--feed ID=JSON]...\n"
  "                       [--print every|last|none]\n"
  "\n"
  "Calls the function of FILE N times (default: the file's run.steps, else 1) and\n"
  "prints one JSON object per call: {\"step\": i, \"outputs\": [...], \"shared\": {...}}.\n"
  "  --steps N          number of calls\n"
  "  --backend B        cpu (default) or vulkan (falls back to the CPU with a warning)\n"
  "  --feed ID=JSON     feed input ID with this value or data set (any form of\n"
  "                     docs/format.md) instead of the file's run.feeds entry\n"
  "  --print MODE       every (default), last, or none\n"
  "The file is never written.\n");

static gboolean
print_mode_from_name (const char *name, PrintMode *out)
{
  static const char *const names[] = { "every", "last", "none" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (strcmp (name, names[i]) == 0) {
      *out = (PrintMode) i;
      return TRUE;
    }
  return FALSE;
}

/* Parses "ID=JSON" into overrides (id -> JsonNode). */
static gboolean
add_feed_override (GHashTable *overrides, const char *text, GError **error)
{
  const char *eq = strchr (text, '=');
  if (!eq || eq == text) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, _("--feed wants ID=JSON, not '%s'"), text);
    return FALSE;
  }
  g_autofree char *id = g_strndup (text, eq - text);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) json_error = NULL;
  if (!json_parser_load_from_data (parser, eq + 1, -1, &json_error)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, _("--feed %s: not JSON: %s"), id,
                 json_error->message);
    return FALSE;
  }
  JsonNode *root = json_parser_get_root (parser);
  if (!root) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, _("--feed %s: empty value"), id);
    return FALSE;
  }
  g_hash_table_replace (overrides, g_steal_pointer (&id), json_node_copy (root));
  return TRUE;
}

/* Every override must name an input of the function: a typo would otherwise
 * silently feed nothing. */
static gboolean
check_overrides (GrdDocument *doc, GHashTable *overrides, GError **error)
{
  JsonObject *top = json_node_get_object (grd_document_root (doc));
  JsonNode *fn = json_object_get_member (top, "function");
  JsonNode *inputs = fn && JSON_NODE_HOLDS_OBJECT (fn)
                     ? json_object_get_member (json_node_get_object (fn), "inputs") : NULL;
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init (&iter, overrides);
  while (g_hash_table_iter_next (&iter, &key, NULL)) {
    gboolean found = FALSE;
    if (inputs && JSON_NODE_HOLDS_ARRAY (inputs)) {
      JsonArray *array = json_node_get_array (inputs);
      for (guint i = 0; i < json_array_get_length (array) && !found; i++) {
        JsonNode *item = json_array_get_element (array, i);
        found = JSON_NODE_HOLDS_VALUE (item) && json_node_get_value_type (item) == G_TYPE_STRING
                && strcmp (json_node_get_string (item), key) == 0;
      }
    }
    if (!found) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH,
                   _("--feed %s: '%s' is not an input of the function"), (char *) key,
                   (char *) key);
      return FALSE;
    }
  }
  return TRUE;
}

static void
append_line (GString *line, gint step, GrdTensor **outputs, gint n_outputs, GrdGraph *graph,
             GPtrArray *shared_ids)
{
  g_string_append_printf (line, "{\"step\": %d, \"outputs\": [", step);
  for (gint i = 0; i < n_outputs; i++) {
    if (i)
      g_string_append (line, ", ");
    grd_value_append_json (line, outputs[i]);
  }
  g_string_append (line, "], \"shared\": {");
  for (guint i = 0; i < shared_ids->len; i++) {
    const char *id = g_ptr_array_index (shared_ids, i);
    GrdRef ref = { grd_graph_find (graph, id), 0 };
    if (i)
      g_string_append (line, ", ");
    cli_append_json_string (line, id);
    g_string_append (line, ": ");
    grd_value_append_json (line, grd_graph_get_value (graph, ref));
  }
  g_string_append (line, "}}\n");
}

int
gradus_cmd_run (int argc, char **argv)
{
  const char *file = NULL;
  gint steps = -1;
  GrdBackend backend = GRD_BACKEND_CPU;
  PrintMode print = PRINT_EVERY;
  g_autoptr (GHashTable) overrides = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                            (GDestroyNotify) json_node_unref);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) feed_texts = g_ptr_array_new ();

  /* The file may come anywhere among the options; every error names it. */
  for (int i = 0; i < argc; i++) {
    const char *value = NULL;
    g_autoptr (GError) e = NULL;
    if (cli_flag (argv, i, "--help") || cli_flag (argv, i, "-h")) {
      g_print ("%s", _(run_usage));
      return CLI_EXIT_OK;
    }
    if (cli_option (argc, argv, &i, "--steps", &value, &e)) {
      if (!e)
        cli_parse_count ("--steps", value, 0, &steps, &e);
    } else if (cli_option (argc, argv, &i, "--backend", &value, &e)) {
      if (!e && !grd_backend_from_name (value, &backend))
        g_set_error (&e, GRD_ERROR, GRD_ERROR_PARSE, _("--backend wants cpu or vulkan, not '%s'"),
                     value);
    } else if (cli_option (argc, argv, &i, "--feed", &value, &e)) {
      if (!e)
        g_ptr_array_add (feed_texts, (gpointer) value);
    } else if (cli_option (argc, argv, &i, "--print", &value, &e)) {
      if (!e && !print_mode_from_name (value, &print))
        g_set_error (&e, GRD_ERROR, GRD_ERROR_PARSE,
                     _("--print wants every, last or none, not '%s'"), value);
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      g_set_error (&e, GRD_ERROR, GRD_ERROR_PARSE, _("unknown option '%s' (see gradus run --help)"),
                   argv[i]);
    } else if (!file) {
      file = argv[i];
    } else {
      g_set_error (&e, GRD_ERROR, GRD_ERROR_PARSE, _("run takes one file; unexpected '%s'"),
                   argv[i]);
    }
    /* Keep the first error, but read on to find the file it belongs to. */
    if (e && !error)
      error = g_steal_pointer (&e);
  }
  if (!error && !file)
    g_set_error (&error, GRD_ERROR, GRD_ERROR_PARSE, _("no file given (see gradus run --help)"));
  for (guint i = 0; !error && i < feed_texts->len; i++)
    add_feed_override (overrides, g_ptr_array_index (feed_texts, i), &error);
  if (error) {
    cli_error ("run", file, "%s", error->message);
    return CLI_EXIT_USAGE;
  }

  g_autoptr (GrdDocument) doc = grd_document_load (file, &error);
  if (!doc || !check_overrides (doc, overrides, &error)) {
    cli_error ("run", file, "%s", error->message);
    return CLI_EXIT_ERROR;
  }
  g_autofree char *warning = NULL;
  g_autoptr (GrdFunction) fn = cli_compile (doc, backend, &warning, &error);
  if (!fn) {
    cli_error ("run", file, "%s", error->message);
    return CLI_EXIT_ERROR;
  }
  if (warning)
    cli_error ("run", file, _("warning: %s"), warning);
  g_autoptr (GPtrArray) feeds = grd_document_feeds (doc, overrides, &error);
  if (!feeds) {
    cli_error ("run", file, "%s", error->message);
    return CLI_EXIT_ERROR;
  }

  GrdGraph *graph = grd_document_graph (doc);
  g_autoptr (GPtrArray) shared_ids = cli_file_node_ids (doc, "shared");
  gint n_inputs = grd_function_n_inputs (fn);
  gint n_outputs = grd_function_n_outputs (fn);
  g_autofree GrdTensor **inputs = g_new0 (GrdTensor *, MAX (n_inputs, 1));
  g_autofree GrdTensor **outputs = g_new0 (GrdTensor *, MAX (n_outputs, 1));
  g_autoptr (GString) line = g_string_new (NULL);
  if (steps < 0)
    steps = grd_document_run_steps (doc, 1);
  if ((guint) n_inputs != feeds->len) {
    cli_error ("run", file, _("%u feeds for %d inputs"), feeds->len, n_inputs);
    return CLI_EXIT_ERROR;
  }

  int status = CLI_EXIT_OK;
  GrdBackend running = grd_function_backend (fn);
  for (gint step = 0; step < steps && status == CLI_EXIT_OK; step++) {
    for (gint i = 0; i < n_inputs && !error; i++)
      inputs[i] = grd_feed_next (g_ptr_array_index (feeds, i), step, &error);
    if (!error && grd_function_call (fn, inputs, outputs, &error)) {
      if (grd_function_backend (fn) != running) {
        /* the device failed during this call, which the CPU redid */
        running = grd_function_backend (fn);
        cli_error ("run", file, _("warning: step %d: %s"), step, grd_function_fallback_reason (fn));
      }
      gboolean show = print == PRINT_EVERY || (print == PRINT_LAST && step == steps - 1);
      if (show && grd_function_sync (fn, &error)) {
        g_string_truncate (line, 0);
        append_line (line, step, outputs, n_outputs, graph, shared_ids);
        /* A line at a time, so that a reader of a pipe sees training progress live. */
        fputs (line->str, stdout);
        fflush (stdout);
      }
      for (gint i = 0; i < n_outputs; i++)
        g_clear_pointer (&outputs[i], grd_tensor_unref);
    }
    for (gint i = 0; i < n_inputs; i++)
      g_clear_pointer (&inputs[i], grd_tensor_unref);
    if (error) {
      cli_error ("run", file, _("step %d: %s"), step, error->message);
      status = CLI_EXIT_ERROR;
    }
  }
  if ((fflush (stdout) != 0 || ferror (stdout)) && status == CLI_EXIT_OK) {
    cli_error ("run", file, _("could not write the output"));
    status = CLI_EXIT_ERROR;
  }
  return status;
}
