/* gradus-run-panel-private.h: the run panel's state, shared by its files:
 * gradus-run-panel.c (the widget, its actions and accessors),
 * gradus-run-panel-document.c (a document built, compiled and shown),
 * gradus-run-panel-run.c (runs on the worker and what they bring back). */
#pragma once

#include "gradus-run-panel.h"
#include "gradus-run-series.h"
#include "gradus-plot.h"

G_BEGIN_DECLS

struct _GradusRunPanel {
  GtkBox              parent_instance;

  JsonNode           *root;
  char               *path;
  GrdDocument        *doc;
  GrdFunction        *fn;
  GPtrArray          *feeds;
  GArray             *inputs;        /* GrdRef */
  GArray             *roots;         /* GrdRef: outputs and update values */
  GArray             *shared;        /* GrdRef: every shared variable, file order */
  GPtrArray          *input_ids;
  GHashTable         *overrides;     /* input id -> JsonNode */
  GPtrArray          *slots;         /* GradusRunSeries*: outputs, shared, also outputs */
  gint                n_outputs;
  GArray             *also;          /* GradusRunAlso: the run.also functions Run calls too */
  GPtrArray          *also_names;    /* their names */
  char               *function;      /* the function Run calls; NULL: the file's run.function */
  GPtrArray          *allowed_data;  /* data files allowed outside the folder, NULL-terminated */
  GrdBackend          backend;
  gboolean            nan_guard;
  gint64              n_calls;
  gint64              first_step;    /* run.resume's step: the step of the first call */
  JsonObject         *resume_calls;  /* run.resume's calls per function, or NULL */
  gint64              kept_calls;    /* n_calls at the last keep */
  char               *error;
  GArray             *profile;       /* GradusProfileRow */

  GradusRunWorker    *worker;
  GrdTensor         **last_inputs;   /* the last call's inputs (n inputs) */
  GrdTensor         **last_shared;   /* ... and shared values before it (n shared) */
  gint64              last_step;
  gint64              run_target;
  gint64              run_done;
  gint64              run_start_us;
  gint64              rate_shown_us;

  GSimpleActionGroup *actions;
  GPtrArray          *plots;         /* GradusPlot* */
  gboolean            updating_backend;
  gint                file_steps;    /* run.steps of the document last set */

  /* from the template */
  GtkWidget          *steps_spin;
  GtkWidget          *backend_drop;
  GtkWidget          *progress;
  double              text_scale;   /* of the plots' text (presentation) */
  GtkWidget          *rate_label;
  GtkWidget          *status_label;
  GtkWidget          *plots_box;
  GtkWidget          *feed_editor;
  GtkWidget          *profile_view;
  GtkWidget          *function_box;
  GtkWidget          *function_drop;
  gboolean            updating_function;
};

enum {
  GRADUS_RUN_PANEL_SIGNAL_FINISHED,
  GRADUS_RUN_PANEL_SIGNAL_NAN_FOUND,
  GRADUS_RUN_PANEL_SIGNAL_RUNNING_CHANGED,
  GRADUS_RUN_PANEL_SIGNAL_CLEARED,
  GRADUS_RUN_PANEL_SIGNAL_DATA_REFUSED,
  GRADUS_RUN_PANEL_N_SIGNALS
};
extern guint gradus_run_panel_signals[GRADUS_RUN_PANEL_N_SIGNALS];

/* gradus-run-panel.c */
void     gradus_run_panel_set_status (GradusRunPanel *self, gboolean is_error, const char *format,
                                      ...) G_GNUC_PRINTF (3, 4);
void     gradus_run_panel_update_actions (GradusRunPanel *self);
void     gradus_run_panel_drop_focus_within (GtkWidget *widget);

/* gradus-run-panel-document.c */
GArray  *gradus_run_panel_also_new (void);
gboolean gradus_run_panel_build_document (GradusRunPanel *self);
void     gradus_run_panel_clear_document (GradusRunPanel *self);
gboolean gradus_run_panel_on_feed_apply (GradusRunPanel *self, const char *input,
                                         const char *text);

/* gradus-run-panel-keep.c */
void     gradus_run_panel_read_resume (GradusRunPanel *self);

/* gradus-run-panel-run.c */
void     gradus_run_panel_stop_worker (GradusRunPanel *self);
void     gradus_run_panel_clear_last_call (GradusRunPanel *self);

G_END_DECLS
