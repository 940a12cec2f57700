/* gradus-plot.h: a Cairo plot of run values: lines over the calls, the latest
 * value of a vector as a line, or the latest matrix as a heatmap. Axes with
 * ticks, a legend, hover readout, log scale, drag to zoom, PNG/SVG/CSV export. */
#pragma once

#include <gtk/gtk.h>
#include "gradus.h"

G_BEGIN_DECLS

typedef enum {
  GRADUS_PLOT_LINES,    /* scalar series over the calls */
  GRADUS_PLOT_VECTOR,   /* the latest value of a vector, over its index */
  GRADUS_PLOT_HEATMAP,  /* the latest value of a matrix (rank > 2: rows x the rest) */
} GradusPlotMode;

#define GRADUS_TYPE_PLOT (gradus_plot_get_type ())
G_DECLARE_FINAL_TYPE (GradusPlot, gradus_plot, GRADUS, PLOT, GtkWidget)

GtkWidget     *gradus_plot_new (GradusPlotMode mode, const char *title);
GradusPlotMode gradus_plot_get_mode (GradusPlot *self);
const char    *gradus_plot_get_title (GradusPlot *self);

/* LINES: the plot keeps a reference to `values` (doubles, one per call), which
 * the owner appends to; call gradus_plot_changed() after appending. */
void     gradus_plot_add_series (GradusPlot *self, const char *name, GArray *values);
/* LINES: a series with values at some calls only, NaN at the others (a
 * function called every N calls): drawn as dots joined across the gaps. */
void     gradus_plot_add_sparse_series (GradusPlot *self, const char *name, GArray *values);
guint    gradus_plot_get_n_series (GradusPlot *self);
/* What it shows: LINES the calls of its longest series, else the value's elements (0: none). */
guint    gradus_plot_get_n_points (GradusPlot *self);
/* VECTOR, HEATMAP: the latest value (copied as doubles); NULL clears. */
void     gradus_plot_set_value (GradusPlot *self, const GrdTensor *value);
/* New data: redraws at the next frame (at most once per frame however often
 * this is called). */
void     gradus_plot_changed (GradusPlot *self);
/* How many times the widget has drawn itself (tests: redraws follow frames, not calls). */
guint    gradus_plot_get_n_draws (GradusPlot *self);

void     gradus_plot_set_log_scale (GradusPlot *self, gboolean log_scale);
gboolean gradus_plot_get_log_scale (GradusPlot *self);
/* Text size factor of the axes, ticks and legend (presentation: larger). */
void     gradus_plot_set_text_scale (GradusPlot *self, double scale);
double   gradus_plot_get_text_scale (GradusPlot *self);
/* The pixel height of the tallest tick label and legend line as last drawn
 * (0 when none was): what a viewer sees, for tests. */
void     gradus_plot_get_text_heights (GradusPlot *self, int *tick_px, int *legend_px);
/* The box of the legend (all its lines) as last drawn, in the widget's
 * coordinates; FALSE when none was drawn. */
gboolean gradus_plot_get_legend_bounds (GradusPlot *self, graphene_rect_t *bounds);
/* LINES: shows calls lo..hi; lo >= hi shows every call. */
void     gradus_plot_set_x_range (GradusPlot *self, double lo, double hi);
gboolean gradus_plot_get_x_range (GradusPlot *self, double *lo, double *hi);

/* Draws the plot as the widget shows it, at any size (used by the widget and
 * the exports). */
void     gradus_plot_draw (GradusPlot *self, cairo_t *cr, int width, int height);

gboolean gradus_plot_export_png (GradusPlot *self, const char *path, int width, int height,
                                 GError **error);
gboolean gradus_plot_export_svg (GradusPlot *self, const char *path, int width, int height,
                                 GError **error);
/* LINES: "call,name..." then a row per call; VECTOR: "index,value";
 * HEATMAP: the matrix, a row per line. Numbers read back exactly. */
gboolean gradus_plot_export_csv (GradusPlot *self, const char *path, GError **error);

G_END_DECLS
