/* gradus-organise-groups.h: groups made, opened and reused in the editor.
 * A group is stored as the file format defines it (docs/format.md, "Groups"):
 * one definition under "groups", used by nodes of kind "group". Every change
 * is one undoable command of the document model. */
#pragma once

#include "gradus-doc-model.h"

G_BEGIN_DECLS

/* One group node from the op, constant and group nodes among `ids`
 * (variables, shared variables and grad nodes stay outside: each use of a
 * group has its own). Its inputs are the wires that enter the selection, its
 * outputs the wires that leave it (or, when none leaves, the selection's last
 * results). Returns the new node's id. */
char    *gradus_group_make (GradusDocModel *model, const char *const *ids, const char *name,
                            GError **error);
/* Replaces group node `id` by its definition's nodes (ids "id.body"); the
 * definition goes when no other node uses it. Returns the new ids. */
GStrv    gradus_group_ungroup (GradusDocModel *model, const char *id, GError **error);

/* Opening: the group node's inside laid out in its place to be edited; the
 * file remembers it under ui.open_group, so it is saved, run and undone like
 * any graph. Closing makes the group again from the nodes that were not
 * outside it (with those added meanwhile), keeping its inputs' order. */
gboolean gradus_group_open (GradusDocModel *model, const char *id, GError **error);
gboolean gradus_group_close (GradusDocModel *model, GError **error);
/* The open group's node id and name (newly allocated), or NULL. */
char    *gradus_group_open_id (GradusDocModel *model, char **name);
/* Whether node `id` is inside the open group. */
gboolean gradus_group_is_inside (GradusDocModel *model, const char *id);

/* A group node's port names (its definition's inputs and outputs); for a
 * reference to a group node's output ("layer1:0"), the flat reference the
 * engine gives it ("layer1.h", for its type), else NULL. */
gboolean gradus_group_ports (GradusDocModel *model, const char *id, GPtrArray *in_names,
                             GPtrArray *out_names);
char    *gradus_group_flat_ref (GradusDocModel *model, const char *ref);
/* Names the definition of group node `id` and the node ("dense layer"). */
gboolean gradus_group_rename (GradusDocModel *model, const char *id, const char *name,
                              GError **error);
/* The definition's display name ("dense layer"), or NULL. */
char    *gradus_group_display_name (GradusDocModel *model, const char *id);

/* The user's groups (the palette's "My groups"): one JSON file per definition
 * in $XDG_DATA_HOME/gradus/groups/ (~/.local/share/gradus/groups/). */
char    *gradus_group_library_dir (void);
/* Writes the definition of group node `id`; returns the file's path. */
char    *gradus_group_save_to_library (GradusDocModel *model, const char *id, GError **error);
/* Display names of the saved groups, sorted. */
GStrv    gradus_group_library_names (void);
/* A group node using saved group `name` at (x, y), its inputs unwired; the
 * definition is copied into the file (once). Returns the new id. */
char    *gradus_group_add_from_library (GradusDocModel *model, const char *name, double x,
                                        double y, GError **error);

G_END_DECLS
