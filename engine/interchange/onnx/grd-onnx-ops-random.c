/* grd-onnx-ops-random.c: random nodes in ONNX. ONNX has no counter-based
 * generator, so the model draws from the runtime's own (RandomUniformLike,
 * RandomNormalLike, or RandomUniform / RandomNormal for a fixed shape): the
 * distributions are Gradus's, the numbers are not (docs/interchange.md).
 *   uniform (low, high)   low + (high - low) U
 *   normal (mean, std)    mean + std Z
 *   binomial (n, p)       the count of n uniforms below p; n must be a number
 *                         in the file (the trials are unrolled) */
#include "grd-onnx-build.h"

#include <string.h>

/* The node's object in the file (random nodes of a scan body are not there). */
static JsonObject *
node_json (OnnxBuilder *b, const char *id)
{
  if (!b->doc)
    return NULL;
  JsonNode *root = grd_document_root (b->doc);
  JsonObject *r = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  JsonNode *nodes = r ? json_object_get_member (r, "nodes") : NULL;
  if (!nodes || !JSON_NODE_HOLDS_ARRAY (nodes))
    return NULL;
  JsonArray *a = json_node_get_array (nodes);
  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonNode *e = json_array_get_element (a, i);
    JsonObject *o = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
    if (o && g_strcmp0 (json_object_get_string_member_with_default (o, "id", ""), id) == 0)
      return o;
  }
  return NULL;
}

/* One draw of standard values of `dt` (uniform in [0, 1) or normal), shaped
 * like input 2 or by the node's fixed shape. */
static const char *
standard_draw (OnnxBuilder *b, const GrdNode *node, const char *const *in, gboolean normal,
               GrdDType dt)
{
  OnnxNode *n;
  if (node->n_inputs > 2) {
    n = onnx_node (b, normal ? "RandomNormalLike" : "RandomUniformLike", NULL, 1, in[2]);
  } else {
    n = onnx_node (b, normal ? "RandomNormal" : "RandomUniform", NULL, 0);
    onnx_attr_ints (b, n, "shape", node->types[0].dims, node->types[0].rank);
  }
  onnx_attr_int (b, n, "dtype", onnx_dtype (dt));
  return onnx_out (n);
}

ONNX_EMITTER (onnx_emit_random)
{
  JsonObject *o = node_json (b, node->id);
  if (!o) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "a random node inside a scan body has no ONNX form in the export");
    return FALSE;
  }
  const char *dist = json_object_get_string_member_with_default (o, "distribution", "uniform");
  GrdDType out_dt = node->types[0].dtype;
  GrdDType dt = grd_dtype_is_float (out_dt) ? out_dt : GRD_DTYPE_FLOAT64;
  const char *a = onnx_cast (b, in[0], onnx_in_type (b, node, 0)->dtype, dt);
  const char *p = onnx_cast (b, in[1], onnx_in_type (b, node, 1)->dtype, dt);
  if (strcmp (dist, "binomial") != 0) {
    gboolean normal = strcmp (dist, "normal") == 0;
    const char *z = standard_draw (b, node, in, normal, dt);
    /* normal: mean + std z; uniform: low + (high - low) u */
    const char *scale = normal ? p : onnx_out (onnx_node (b, "Sub", NULL, 2, p, a));
    const char *scaled = onnx_out (onnx_node (b, "Mul", NULL, 2, z, scale));
    const char *v = onnx_out (onnx_node (b, "Add", NULL, 2, scaled, a));
    onnx_node (b, "Identity", out, 1, onnx_cast (b, v, dt, out_dt));
    return TRUE;
  }
  JsonObject *params = json_object_get_object_member (o, "params");
  JsonNode *nn = params ? json_object_get_member (params, "n") : NULL;
  gint64 trials = 1;
  if (nn && JSON_NODE_HOLDS_VALUE (nn) && json_node_get_value_type (nn) != G_TYPE_STRING)
    trials = (gint64) (json_node_get_double (nn) + 0.5);
  else if (nn) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "a binomial draw's \"n\" must be a number in the file for its ONNX form "
                 "(the trials are unrolled), not a reference");
    return FALSE;
  }
  if (trials < 0 || trials > 64) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "a binomial draw of %" G_GINT64_FORMAT " trials has no ONNX form in the export "
                 "(0 to 64 are unrolled)", trials);
    return FALSE;
  }
  const char *count = NULL;
  for (gint64 j = 0; j < trials; j++) {
    const char *u = standard_draw (b, node, in, FALSE, dt);
    OnnxNode *hit = onnx_node (b, "Cast", NULL, 1, onnx_out (onnx_node (b, "Less", NULL, 2, u, p)));
    onnx_attr_int (b, hit, "to", onnx_dtype (dt));
    count = count ? onnx_out (onnx_node (b, "Add", NULL, 2, count, onnx_out (hit))) : onnx_out (hit);
  }
  if (!count) /* no trials: zeros of the draw's shape */
    count = onnx_out (onnx_node (b, "Mul", NULL, 2, standard_draw (b, node, in, FALSE, dt),
                                 onnx_scalar (b, dt, 0)));
  onnx_node (b, "Identity", out, 1, onnx_cast (b, count, dt, out_dt));
  return TRUE;
}
