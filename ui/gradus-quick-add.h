/* gradus-quick-add.h: a node made from one typed line, named, valued and
 * wired at once (the palette's search box; see ui/README.md, "Quick add"):
 *
 *   [NAME =] variable [FEED]       an input of the function, fed FEED (JSON)
 *   [NAME =] constant|shared VALUE the node with that value (JSON)
 *   [NAME =] OP [INPUT ...]        inputs by id, "id:k" or name; a number
 *                                  makes a constant; none: the selection
 *   [NAME =] grad COST [WRT ...]
 *
 * NAME becomes the id when it is a valid free one, else the node's name. */
#pragma once

#include "gradus-doc-model.h"

G_BEGIN_DECLS

/* Whether `line` is a quick-add line rather than a search (it has '=' or
 * more than one word). */
gboolean gradus_quick_add_is_line (const char *line);
/* The kind or op word of a quick-add line (what the palette filters by), or NULL. */
char    *gradus_quick_add_dup_word (const char *line);
/* Makes the node at (x, y) as one undoable edit; `selected_ref` ("id" or
 * "id:k", may be NULL) feeds an op's first input when the line names none.
 * Returns the new node's id, or NULL with `error` (nothing changed then). */
char    *gradus_quick_add_run (GradusDocModel *model, const char *line, const char *selected_ref,
                               double x, double y, GError **error);

G_END_DECLS
