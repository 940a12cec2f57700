/* gradus-name-hover.c: the full name of a node whose name the canvas could
 * not draw in full (see gradus_render_name_is_whole), as a tooltip. */
#include "gradus-name-hover.h"
#include "gradus-render.h"

char *
gradus_name_hover_text (GradusCanvas *canvas, double x, double y)
{
  g_return_val_if_fail (GRADUS_IS_CANVAS (canvas), NULL);
  GradusScene *scene = gradus_canvas_get_scene (canvas);
  if (!scene)
    return NULL;
  double gx, gy;
  gradus_canvas_widget_to_graph (canvas, x, y, &gx, &gy);
  gint n = gradus_scene_hit_node (scene, gx, gy);
  if (n < 0)
    return NULL;
  /* The options the canvas draws with: the placement depends on the view. */
  GradusRenderOptions o = { .zoom = gradus_canvas_get_zoom (canvas),
                            .presentation = gradus_canvas_get_presentation (canvas) };
  gradus_canvas_get_visible_area (canvas, &o.clip_x, &o.clip_y, &o.clip_w, &o.clip_h);
  if (gradus_render_name_is_whole (scene, &o, (guint) n))
    return NULL;
  return g_strdup (((GradusSceneNode *) scene->nodes->pdata[n])->title);
}

static gboolean
query_tooltip (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip,
               gpointer data)
{
  if (keyboard)
    return FALSE;
  g_autofree char *text = gradus_name_hover_text (GRADUS_CANVAS (widget), x, y);
  if (!text)
    return FALSE;
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

void
gradus_name_hover_attach (GradusCanvas *canvas)
{
  g_return_if_fail (GRADUS_IS_CANVAS (canvas));
  gtk_widget_set_has_tooltip (GTK_WIDGET (canvas), TRUE);
  g_signal_connect (canvas, "query-tooltip", G_CALLBACK (query_tooltip), NULL);
}
