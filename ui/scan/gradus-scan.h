/* gradus-scan.h: scans drawn as zones (ui/scan/README.md). A scan's body can
 * be opened in place: the model then edits the body's nodes (add, wire,
 * undo act on them) until it is closed; the file keeps one JSON tree. */
#pragma once

#include <cairo.h>
#include "gradus-doc-model.h"

G_BEGIN_DECLS

/* Opens the body of top-level scan `scan_id` for editing; emits "changed". */
gboolean    gradus_scan_open (GradusDocModel *model, const char *scan_id, GError **error);
void        gradus_scan_close (GradusDocModel *model);
/* The scan whose body is open, or NULL. */
const char *gradus_scan_get_open (GradusDocModel *model);
/* The top-level JSON node of the open scan, or NULL. */
JsonObject *gradus_scan_open_node (GradusDocModel *model);
/* Whether node `o` (any scope) is a scan. */
gboolean    gradus_scan_is_scan (JsonObject *o);

/* Input slots of a scan as drawn: its sequences, then the initial states
 * (outputs_info with an init), then its non-sequences. */
gint        gradus_scan_n_slots (JsonObject *scan);
/* The JSON node holding the reference of slot `slot` (a string), or NULL. */
JsonNode   *gradus_scan_slot_node (JsonObject *scan, gint slot);
/* "seq coefficients", "state power (t-1)", "non-seq x" (translated). */
char       *gradus_scan_slot_name (JsonObject *scan, gint slot);
/* Output k: "state next_power" (fed back) or "out term" (stacked only). */
char       *gradus_scan_output_name (JsonObject *scan, gint k);
/* The role of body input `i` ("sequence coefficients [t]", "state power
 * [t-1]", "non-sequence x"), or NULL when the body has no such input. */
char       *gradus_scan_body_input_role (JsonObject *scan, gint i);

G_END_DECLS
