/* gradus-run-series.h: what a function of the file gives the run panel to
 * show: its inputs, the values a call computes (outputs, then the update
 * values) and one series per output and shared variable, titled with node
 * names (ids are internal). No widgets here. */
#pragma once

#include <json-glib/json-glib.h>
#include "gradus.h"

G_BEGIN_DECLS

typedef struct _GradusPlot GradusPlot;

/* One output or shared variable as the panel keeps it. */
typedef struct {
  char       *name;     /* "out:N" or the shared id */
  char       *ref;      /* the output reference or the shared id */
  char       *label;    /* what the user reads: the node's name */
  gboolean    scalar;   /* rank 0 */
  GArray     *values;   /* doubles, one per call, scalars only */
  GrdTensor  *latest;
  GradusPlot *plot;     /* vector or heatmap plot of a non-scalar (borrowed) */
} GradusRunSeries;

GradusRunSeries *gradus_run_series_new (const char *name, const char *ref, const char *label,
                                        gboolean scalar);
void             gradus_run_series_free (gpointer series);

/* A function of the file, read as `gradus run` reads it and compiled. */
typedef struct {
  GrdFunction *fn;
  GArray      *inputs;      /* GrdRef */
  GPtrArray   *input_ids;   /* char* */
  GArray      *roots;       /* GrdRef: outputs, then update values */
  GPtrArray   *outputs;     /* GradusRunSeries*, one per output ("out:N") */
  char        *warning;     /* the compiler's note (a back-end fallback), or NULL */
} GradusRunCompiled;

/* Compiles the function `name` of the document (NULL: the one run.function
 * names, else "function"). Errors name the function and the reference. */
GradusRunCompiled *gradus_run_compile (GrdDocument *doc, const char *name, GrdBackend backend,
                                       GError **error);
void               gradus_run_compiled_free (GradusRunCompiled *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GradusRunCompiled, gradus_run_compiled_free)

/* Every shared node of the file, in file order (what `gradus run` prints):
 * appends its GrdRef to `shared` and a series to `series`. */
void  gradus_run_collect_shared (GrdDocument *doc, GArray *shared, GPtrArray *series);

/* A title for an output reference: "squared error" for "mse", "d z / d x"
 * for "g:0" (with the variable when the grad node has several). */
char *gradus_run_ref_label (JsonObject *top, const char *ref);

G_END_DECLS
