/* gradus-plot-card.h: one plot of the run panel with its header: the title,
 * a log-scale toggle, "show every call" and an export menu (PNG, SVG, CSV).
 * The header's actions live in a group "plot" on the card. */
#pragma once

#include <gtk/gtk.h>
#include "gradus-plot.h"

G_BEGIN_DECLS

#define GRADUS_TYPE_PLOT_CARD (gradus_plot_card_get_type ())
G_DECLARE_FINAL_TYPE (GradusPlotCard, gradus_plot_card, GRADUS, PLOT_CARD, GtkBox)

GtkWidget  *gradus_plot_card_new (GradusPlotMode mode, const char *title);
/* The plot inside (borrowed). */
GradusPlot *gradus_plot_card_get_plot (GradusPlotCard *self);

G_END_DECLS
