/* gradus-layout.c: sizes of node boxes and a layered layout (longest path
 * from the sources, ordered within a layer by the mean row of the inputs). */
#include "gradus-layout.h"

#include <math.h>

void
gradus_layout_node_size (const char *title, const char *subtitle, gint n_in, gint n_out,
                         double *w, double *h)
{
  /* Sized from character counts so that layout needs no font machinery and
   * gives the same result in the window and in a headless export. */
  glong chars = MAX (title ? g_utf8_strlen (title, -1) : 0,
                     subtitle ? g_utf8_strlen (subtitle, -1) : 0);
  *w = CLAMP (chars * 8.0 + 40.0, 150.0, 320.0);
  *h = GRADUS_NODE_HEADER + 16.0 + MAX (n_in + n_out, 1) * GRADUS_PORT_STEP + 6.0;
}

double
gradus_layout_port_y (gint index)
{
  return GRADUS_NODE_HEADER + 16.0 + GRADUS_PORT_STEP * (index + 0.5);
}

typedef struct {
  guint  index;
  double key;
} Order;

static gint
order_cmp (gconstpointer a, gconstpointer b)
{
  const Order *oa = a, *ob = b;
  if (oa->key != ob->key)
    return oa->key < ob->key ? -1 : 1;
  return oa->index < ob->index ? -1 : oa->index > ob->index;
}

void
gradus_layout_layered (guint n, const double *w, const double *h, GPtrArray *deps,
                       double x0, double y0, double *x, double *y)
{
  if (n == 0)
    return;
  g_autofree gint *layer = g_new0 (gint, n);
  /* Longest path by relaxation; n rounds bound it even with cycles. */
  for (guint round = 0; round < n; round++) {
    gboolean changed = FALSE;
    for (guint i = 0; i < n; i++) {
      GArray *d = g_ptr_array_index (deps, i);
      for (guint k = 0; d && k < d->len; k++) {
        gint j = g_array_index (d, gint, k);
        if (j >= 0 && (guint) j < n && j != (gint) i && layer[j] + 1 > layer[i]) {
          layer[i] = layer[j] + 1;
          changed = TRUE;
        }
      }
    }
    if (!changed)
      break;
  }
  gint n_layers = 0;
  for (guint i = 0; i < n; i++)
    n_layers = MAX (n_layers, layer[i] + 1);

  double lx = x0;
  for (gint l = 0; l < n_layers; l++) {
    g_autoptr (GArray) order = g_array_new (FALSE, FALSE, sizeof (Order));
    double width = 0;
    for (guint i = 0; i < n; i++) {
      if (layer[i] != l)
        continue;
      GArray *d = g_ptr_array_index (deps, i);
      double sum = 0;
      gint cnt = 0;
      for (guint k = 0; d && k < d->len; k++) {
        gint j = g_array_index (d, gint, k);
        if (j >= 0 && (guint) j < n && layer[j] < l) {
          sum += y[j] + h[j] / 2;
          cnt++;
        }
      }
      Order o = { i, cnt ? sum / cnt : (double) i * 1e-3 - 1e9 };
      g_array_append_val (order, o);
      width = MAX (width, w[i]);
    }
    g_array_sort (order, order_cmp);
    double ly = y0;
    for (guint k = 0; k < order->len; k++) {
      Order *o = &g_array_index (order, Order, k);
      /* Keep a node level with its inputs when there is room. */
      double want = o->key > -1e8 ? o->key - h[o->index] / 2 : ly;
      y[o->index] = MAX (ly, want);
      x[o->index] = lx;
      ly = y[o->index] + h[o->index] + GRADUS_ROW_GAP;
    }
    lx += width + GRADUS_LAYER_GAP;
  }
}
