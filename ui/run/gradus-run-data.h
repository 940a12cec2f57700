/* gradus-run-data.h: the data files a document names ("csv" and "npy" paths
 * in its feeds and values) that the data access policy refuses: outside the
 * document's folder (symbolic links resolved) and not allowed by the user.
 * The editor asks about those instead of failing (issue 15). */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Resolved paths, each once, in the order the document names them. `allowed`
 * (NULL-terminated, may be NULL) are files or folders already allowed. A file
 * that does not exist is not listed (it fails on its own). */
GPtrArray *gradus_run_data_outside (JsonNode *root, const char *doc_path,
                                    const char *const *allowed);

G_END_DECLS
