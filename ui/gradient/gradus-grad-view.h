/* gradus-grad-view.h: the gradient graph as the editor shows it. Before it is
 * drawn, the identities the compiler removes are taken out (x * 1, x + 0,
 * x - 0, x / 1, x ** 1, --x, a cast or reshape or broadcast to what x already
 * is), with the constants that only fed them; each derived node is named after
 * the forward node it differentiates ("d cost / d w", "grad of tanh h1"). */
#pragma once

#include "gradus-doc-model.h"

G_BEGIN_DECLS

typedef struct _GradusGradView GradusGradView;

/* The view of grad node `grad` (an engine index) of `graph`. */
GradusGradView *gradus_grad_view_new (GrdGraph *graph, gint grad, GradusDocModel *model);
void            gradus_grad_view_free (GradusGradView *view);
/* Whether derived node `node` is drawn (not an identity, and something drawn
 * or a gradient output reads it). */
gboolean        gradus_grad_view_shown (GradusGradView *view, gint node);
/* What a reference stands for once the identities are gone. */
GrdRef          gradus_grad_view_resolve (GradusGradView *view, GrdRef ref);
/* The name of a derived node, and a line about what it computes (no engine ids). */
char           *gradus_grad_view_title (GradusGradView *view, gint node);
char           *gradus_grad_view_subtitle (GradusGradView *view, gint node);
/* Number of derived nodes drawn, and removed as identities. */
guint           gradus_grad_view_n_shown (GradusGradView *view);
guint           gradus_grad_view_n_removed (GradusGradView *view);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GradusGradView, gradus_grad_view_free)

G_END_DECLS
