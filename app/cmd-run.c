/* cmd-run.c: `gradus run`: call the file's function, one JSON line per call. */
#include "commands.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

typedef enum {
  PRINT_EVERY,
  PRINT_LAST,
  PRINT_NONE,
} PrintMode;

static const char run_usage[] =
  N_("usage: gradus run FILE [--steps N] [--backend cpu|vulkan] [--feed ID=JSON]...\n"
  "                       [--print every|last|none] [--function NAME] [--save OUT]\n"
  "                       [--seed N] [--memory-limit SIZE] [--allow-data PATH]...\n"
  "\n"
  "Calls the function of FILE N times (default: the file's run.steps, else 1) and\n"
  "prints one JSON object per call: {\"step\": i, \"outputs\": [...], \"shared\": {...}}.\n"
  "  --steps N          number of calls\n"
  "  --backend B        cpu (default) or vulkan (falls back to the CPU with a warning)\n"
  "  --feed ID=JSON     feed input ID with this value or data set (any form of\n"
  "                     docs/format.md) instead of the file's run.feeds entry\n"
  "  --print MODE       every (default), last, or none\n"
  "  --function NAME    call that function (with run.feeds) instead of run.function,\n"
  "                     without the run.also entries\n"
  "  --save OUT         write the graph file with the shared values after the run to\n"
  "                     OUT (and where the run stopped: running OUT continues it)\n"
  "  --seed N           replace the seed of every random node\n"
  "  --memory-limit SIZE  the most memory any value or call may take (512M, 4G;\n"
  "                     default: a quarter of the machine's memory)\n"
  "  --allow-data PATH  also read data files from PATH (by default only from the\n"
  "                     file's folder and below)\n"
  "Ctrl-C stops the run after the current call. The file itself is never written.\n");

/* Set by SIGINT: the loop over calls stops after the current one. */
static volatile sig_atomic_t interrupted;

static void
on_interrupt (int signum)
{
  (void) signum;
  interrupted = 1;
}

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
  /* parsed as files are: nesting bounded, integers beyond int64 never wrapped */
  g_autofree char *label = g_strdup_printf ("--feed %s", id);
  JsonNode *root = grd_json_parse (eq + 1, -1, label, error);
  if (!root)
    return FALSE;
  g_hash_table_replace (overrides, g_steal_pointer (&id), root);
  return TRUE;
}

/* Every override must name an input of the function: a typo would otherwise
 * silently feed nothing. */
static gboolean
check_overrides (JsonObject *fn, GHashTable *overrides, GError **error)
{
  JsonNode *inputs = json_object_get_member (fn, "inputs");
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
append_line (GString *line, gint64 step, const char *function, GrdTensor **outputs,
             gint n_outputs, GrdGraph *graph, GPtrArray *shared_ids)
{
  g_string_append_printf (line, "{\"step\": %" G_GINT64_FORMAT ", ", step);
  if (function) {
    g_string_append (line, "\"function\": ");
    cli_append_json_string (line, function);
    g_string_append (line, ", ");
  }
  g_string_append (line, "\"outputs\": [");
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

/* A function the run calls, with its feeds and its own count of calls. */
typedef struct {
  char        *name;
  GrdFunction *fn;
  GPtrArray   *feeds;
  gint         every;     /* run.also: after every `every`-th main call */
  gint64       calls;
  GrdTensor  **inputs;
  GrdTensor  **outputs;
  gboolean     doubles;   /* straight-line scalar code: unshown calls take plain doubles */
} Caller;

static void
caller_free (gpointer p)
{
  Caller *c = p;
  g_free (c->name);
  grd_function_free (c->fn);
  if (c->feeds)
    g_ptr_array_unref (c->feeds);
  g_free (c->inputs);
  g_free (c->outputs);
  g_free (c);
}

static Caller *
caller_new (GrdDocument *doc, const char *name, GrdBackend backend, JsonNode *feeds,
            GHashTable *overrides, const char *file, GError **error)
{
  g_autofree char *warning = NULL;
  Caller *c = g_new0 (Caller, 1);
  c->name = g_strdup (name);
  c->every = 1;
  c->fn = cli_compile_named (doc, name, backend, &warning, error);
  if (c->fn && warning)
    cli_error ("run", file, "warning: %s", warning);
  if (c->fn)
    c->feeds = grd_document_feeds_named (doc, name, feeds, overrides, error);
  if (!c->fn || !c->feeds) {
    caller_free (c);
    return NULL;
  }
  if ((guint) grd_function_n_inputs (c->fn) != c->feeds->len) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "%u feeds for %d inputs", c->feeds->len,
                 grd_function_n_inputs (c->fn));
    caller_free (c);
    return NULL;
  }
  g_autofree char *program = grd_function_describe (c->fn);
  c->doubles = program && strstr (program, "straight-line scalar code") != NULL;
  c->inputs = g_new0 (GrdTensor *, MAX (grd_function_n_inputs (c->fn), 1));
  c->outputs = g_new0 (GrdTensor *, MAX (grd_function_n_outputs (c->fn), 1));
  return c;
}

/* One call: feeds for this function's call number, then the line. */
static gboolean
caller_call (Caller *c, gint64 step, gboolean show, const char *shown_name, GrdGraph *graph,
             GPtrArray *shared_ids, GString *line, const char *file, GError **error)
{
  gint n_in = grd_function_n_inputs (c->fn), n_out = grd_function_n_outputs (c->fn);
  GrdBackend running = grd_function_backend (c->fn);
  gboolean ok = TRUE;
  for (gint i = 0; i < n_in && ok; i++)
    ok = (c->inputs[i] = grd_feed_next (g_ptr_array_index (c->feeds, i), c->calls, error)) != NULL;
  /* a call whose outputs are not shown, of a program of scalars, passes
   * plain doubles: no tensor is made for its outputs (same numbers) */
  gboolean scalars = ok && !show && c->doubles;
  double din[n_in + 1], dout[n_out + 1];
  for (gint i = 0; i < n_in && scalars; i++) {
    scalars = c->inputs[i]->rank == 0;
    din[i] = scalars ? grd_tensor_get (c->inputs[i], 0) : 0;
  }
  if (scalars)
    ok = grd_function_call_doubles (c->fn, din, dout, error);
  else if (ok)
    ok = grd_function_call (c->fn, c->inputs, c->outputs, error);
  c->calls++;
  if (ok && grd_function_backend (c->fn) != running)
    /* the device failed during this call, which the CPU redid */
    cli_error ("run", file, "warning: step %" G_GINT64_FORMAT ": %s", step,
               grd_function_fallback_reason (c->fn));
  if (ok && show && grd_function_sync (c->fn, error)) {
    g_string_truncate (line, 0);
    append_line (line, step, shown_name, c->outputs, n_out, graph, shared_ids);
    /* A line at a time, so that a reader of a pipe sees training progress live. */
    fputs (line->str, stdout);
    fflush (stdout);
  }
  for (gint i = 0; ok && i < n_out; i++)
    g_clear_pointer (&c->outputs[i], grd_tensor_unref);
  for (gint i = 0; i < n_in; i++)
    g_clear_pointer (&c->inputs[i], grd_tensor_unref);
  return ok && !(error && *error);
}

/* --save: the shared values, and where the run stopped (run.resume: the next
 * step, each function's calls and each random stream's draws), so that
 * running OUT continues with the same numbers. Data paths follow OUT to its
 * folder (grd_data_paths_rebase, as the editor's Save As); those that end up
 * outside it are named, since running OUT needs --allow-data for them. */
static gboolean
save_run (GrdDocument *doc, const char *file, const char *out, gint64 next_step,
          GPtrArray *callers, GError **error)
{
  g_autofree const char **names = g_new0 (const char *, callers->len + 1);
  g_autofree gint64 *calls = g_new0 (gint64, callers->len + 1);
  for (guint i = 0; i < callers->len; i++) {
    Caller *c = g_ptr_array_index (callers, i);
    names[i] = c->name;
    calls[i] = c->calls;
  }
  grd_document_set_resume (doc, next_step, callers->len, names, calls);
  g_auto (GStrv) outside = NULL;
  if (!grd_document_save_full (doc, out, &outside, error))
    return FALSE;
  for (guint i = 0; outside && outside[i]; i++)
    cli_error ("run", file, _("warning: --save: %s reads %s from outside its folder: run it "
                              "with --allow-data %s"), out, outside[i], outside[i]);
  return TRUE;
}

/* run.resume of a file saved by --save: where to start. */
static void
load_resume (GrdDocument *doc, gint64 *step, GPtrArray *callers)
{
  JsonObject *top = json_node_get_object (grd_document_root (doc));
  JsonNode *rn = json_object_get_member (top, "run");
  JsonNode *res = rn && JSON_NODE_HOLDS_OBJECT (rn)
                  ? json_object_get_member (json_node_get_object (rn), "resume") : NULL;
  if (!res || !JSON_NODE_HOLDS_OBJECT (res))
    return;
  JsonObject *r = json_node_get_object (res);
  if (json_object_has_member (r, "step"))
    *step = MAX (json_object_get_int_member (r, "step"), 0);
  JsonNode *cn = json_object_get_member (r, "calls");
  for (guint i = 0; cn && JSON_NODE_HOLDS_OBJECT (cn) && i < callers->len; i++) {
    Caller *c = g_ptr_array_index (callers, i);
    if (json_object_has_member (json_node_get_object (cn), c->name))
      c->calls = MAX (json_object_get_int_member (json_node_get_object (cn), c->name), 0);
  }
  JsonNode *dn = json_object_get_member (r, "draws");
  if (dn && JSON_NODE_HOLDS_OBJECT (dn)) {
    g_autoptr (GHashTable) state = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
    g_autoptr (GList) members = json_object_get_members (json_node_get_object (dn));
    for (GList *l = members; l; l = l->next) {
      gint64 *v = g_new (gint64, 1);
      *v = json_object_get_int_member (json_node_get_object (dn), l->data);
      g_hash_table_insert (state, l->data, v);
    }
    grd_graph_random_set_state (grd_document_graph (doc), state);
  }
}

int
gradus_cmd_run (int argc, char **argv)
{
  const char *file = NULL, *function = NULL, *save = NULL;
  gint steps = -1;
  gint64 seed = -1;
  GrdBackend backend = GRD_BACKEND_CPU;
  PrintMode print = PRINT_EVERY;
  g_autoptr (GHashTable) overrides = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                            (GDestroyNotify) json_node_unref);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) feed_texts = g_ptr_array_new ();
  g_autoptr (GPtrArray) allowed = g_ptr_array_new ();

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
    } else if (cli_limits_option (argc, argv, &i, allowed, &e)) {
    } else if (cli_option (argc, argv, &i, "--print", &value, &e)) {
      if (!e && !print_mode_from_name (value, &print))
        g_set_error (&e, GRD_ERROR, GRD_ERROR_PARSE,
                     _("--print wants every, last or none, not '%s'"), value);
    } else if (cli_option (argc, argv, &i, "--function", &value, &e)) {
      if (!e)
        function = value;
    } else if (cli_option (argc, argv, &i, "--save", &value, &e)) {
      if (!e)
        save = value;
    } else if (cli_option (argc, argv, &i, "--seed", &value, &e)) {
      guint64 v = 0;
      if (!e && !g_ascii_string_to_unsigned (value, 10, 0, G_MAXINT64, &v, NULL))
        g_set_error (&e, GRD_ERROR, GRD_ERROR_PARSE, _("--seed wants a non-negative integer, not "
                       "'%s'"), value);
      seed = (gint64) v;
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

  g_autoptr (GrdDocument) doc = cli_load (file, allowed, &error);
  g_autofree char *main_name = doc ? (function ? g_strdup (function)
                                               : grd_document_run_function (doc, &error)) : NULL;
  JsonObject *main_obj = main_name ? grd_document_function_object (doc, main_name, &error) : NULL;
  if (!main_obj || !check_overrides (main_obj, overrides, &error)) {
    cli_error ("run", file, "%s", error->message);
    return CLI_EXIT_ERROR;
  }
  g_auto (GStrv) names = grd_document_function_names (doc);
  gboolean several = g_strv_length (names) > 1;
  g_autoptr (GPtrArray) callers = g_ptr_array_new_with_free_func (caller_free);
  Caller *main_caller = caller_new (doc, main_name, backend, NULL, overrides, file, &error);
  if (main_caller)
    g_ptr_array_add (callers, main_caller);
  g_autoptr (GPtrArray) also = function || !main_caller ? NULL : grd_document_run_also (doc, &error);
  for (guint i = 0; also && i < also->len && !error; i++) {
    GrdRunAlso *a = g_ptr_array_index (also, i);
    Caller *c = caller_new (doc, a->function, backend, a->feeds, NULL, file, &error);
    if (c) {
      c->every = a->every;
      g_ptr_array_add (callers, c);
    }
  }
  if (error) {
    cli_error ("run", file, "%s", error->message);
    return CLI_EXIT_ERROR;
  }
  gint64 first = 0;
  load_resume (doc, &first, callers);
  if (seed >= 0)
    grd_graph_random_reseed (grd_document_graph (doc), (guint64) seed);

  GrdGraph *graph = grd_document_graph (doc);
  g_autoptr (GPtrArray) shared_ids = cli_file_node_ids (doc, "shared");
  g_autoptr (GString) line = g_string_new (NULL);
  if (steps < 0)
    steps = grd_document_run_steps (doc, 1);

  int status = CLI_EXIT_OK;
  struct sigaction sa = { 0 }, old_sa;
  sa.sa_handler = on_interrupt;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, &old_sa);
  gint64 step = first;
  for (; step < first + steps && status == CLI_EXIT_OK; step++) {
    if (interrupted) {
      cli_error ("run", file, "interrupted after %" G_GINT64_FORMAT " of %d steps", step - first,
                 steps);
      status = CLI_EXIT_ERROR;
      break;
    }
    gboolean last = step == first + steps - 1;
    gboolean show = print == PRINT_EVERY || (print == PRINT_LAST && last);
    gboolean ok = caller_call (main_caller, step, show, several ? main_name : NULL, graph,
                               shared_ids, line, file, &error);
    /* run.also: after calls every - 1, 2 every - 1, ... of the main function */
    for (guint i = 1; ok && i < callers->len; i++) {
      Caller *c = g_ptr_array_index (callers, i);
      if ((step + 1) % c->every == 0)
        ok = caller_call (c, step, print == PRINT_EVERY, c->name, graph, shared_ids, line, file,
                          &error);
    }
    if (!ok) {
      cli_error ("run", file, "step %" G_GINT64_FORMAT ": %s", step,
                 error ? error->message : "failed");
      status = CLI_EXIT_ERROR;
    }
  }
  sigaction (SIGINT, &old_sa, NULL);
  if ((fflush (stdout) != 0 || ferror (stdout)) && status == CLI_EXIT_OK) {
    cli_error ("run", file, _("could not write the output"));
    status = CLI_EXIT_ERROR;
  }
  if (save && status == CLI_EXIT_OK) {
    for (guint i = 0; i < callers->len && !error; i++)
      grd_function_sync (((Caller *) g_ptr_array_index (callers, i))->fn, &error);
    if (error || !save_run (doc, file, save, step, callers, &error)) {
      cli_error ("run", file, _("--save: %s"), error->message);
      status = CLI_EXIT_ERROR;
    }
  }
  return status;
}
