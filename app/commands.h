/* commands.h: the subcommands of `gradus` and what they share (cli-common.c). */
#pragma once

#include "gradus.h"

#include <glib/gi18n.h>

G_BEGIN_DECLS

/* Exit statuses: 0 success, 1 an error in the file or while running it,
 * 2 a usage error (bad option or argument). */
enum {
  CLI_EXIT_OK = 0,
  CLI_EXIT_ERROR = 1,
  CLI_EXIT_USAGE = 2,
};

/* Each takes the arguments after the subcommand name and returns the exit status. */
int gradus_cmd_run (int argc, char **argv);
int gradus_cmd_check (int argc, char **argv);
int gradus_cmd_bench (int argc, char **argv);
int gradus_cmd_export (int argc, char **argv);
int gradus_cmd_import (int argc, char **argv);

/* `gradus check --devices`: the Vulkan devices (cmd-devices.c). */
int gradus_cmd_devices (void);

/* ------------------------------------------------------------ cli-common.c */

/* Prints one line on stderr: "PREFIX: message", where PREFIX is the file name
 * when there is one (and the message does not already start with it), else
 * "gradus COMMAND". Newlines in the message become spaces. */
void cli_error (const char *command, const char *file, const char *format, ...)
  G_GNUC_PRINTF (3, 4);

/* Walks the arguments: at argv[*i], matches `--name VALUE` or `--name=VALUE`.
 * Returns TRUE when argv[*i] is that option, with *value set and *i on the
 * last argument consumed; a missing value is reported through error. */
gboolean cli_option (int argc, char **argv, int *i, const char *name, const char **value,
                     GError **error);
/* Matches `--name` (a flag with no value). */
gboolean cli_flag (char **argv, int i, const char *name);
/* A count in [min, G_MAXINT]. */
gboolean cli_parse_count (const char *option, const char *text, gint min, gint *out,
                          GError **error);

/* --memory-limit SIZE (the budget of every value and call: it sets
 * GRADUS_MEMORY_LIMIT for the whole command) and --allow-data PATH (repeatable:
 * data files may also be read from PATH). Returns TRUE when argv[*i] is one of
 * them; `allowed` collects the paths (argv strings). */
gboolean cli_limits_option (int argc, char **argv, int *i, GPtrArray *allowed, GError **error);
/* Loads FILE under the limits of those options. */
GrdDocument *cli_load (const char *file, GPtrArray *allowed, GError **error);

/* The file's "function" compiled on a back end: the same function as
 * grd_document_function(), on `backend` (the CPU where it is not available,
 * with *warning saying why). */
GrdFunction *cli_compile (GrdDocument *doc, GrdBackend backend, char **warning, GError **error);
/* The same for the function of that name (NULL: the file's run function). */
GrdFunction *cli_compile_named (GrdDocument *doc, const char *name, GrdBackend backend,
                                char **warning, GError **error);

/* Ids of the file's nodes of `kind` ("shared", "op", or NULL for all), in file order. */
GPtrArray *cli_file_node_ids (GrdDocument *doc, const char *kind);

/* Appends a JSON string literal. */
void cli_append_json_string (GString *out, const char *text);

G_END_DECLS
