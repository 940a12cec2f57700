/* grd-conv-attrs.c: the JSON attrs of conv2d and pool_2d in graph files
 * (docs/format.md): border_mode, subsample, filter_dilation, num_groups,
 * filter_flip; ws, stride, pad, ignore_border, mode. */
#include "../grd-internal.h"

static gboolean
json_int (JsonNode *n, gint64 lo, gint64 hi, gint64 *out)
{
  if (!n || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  GType t = json_node_get_value_type (n);
  if (t == G_TYPE_INT64)
    *out = json_node_get_int (n);
  else if (t == G_TYPE_DOUBLE) {
    double d = json_node_get_double (n);
    if (d != (double) (gint64) d)
      return FALSE;
    *out = (gint64) d;
  } else
    return FALSE;
  return *out >= lo && *out <= hi;
}

/* A list of exactly two integers in [lo, hi]. */
static gboolean
json_pair (JsonNode *n, gint64 lo, gint64 hi, gint64 *out)
{
  if (!n || !JSON_NODE_HOLDS_ARRAY (n) || json_array_get_length (json_node_get_array (n)) != 2)
    return FALSE;
  JsonArray *a = json_node_get_array (n);
  return json_int (json_array_get_element (a, 0), lo, hi, &out[0])
         && json_int (json_array_get_element (a, 1), lo, hi, &out[1]);
}

static gboolean
json_bool (JsonNode *n, gboolean *out)
{
  if (!n || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    return FALSE;
  *out = json_node_get_boolean (n);
  return TRUE;
}

static gboolean
json_choice (JsonNode *n, const char *const *names, gint *out)
{
  if (!n || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return FALSE;
  for (gint i = 0; names[i]; i++)
    if (g_str_equal (json_node_get_string (n), names[i])) {
      *out = i;
      return TRUE;
    }
  return FALSE;
}

#define BIG G_MAXINT32

gboolean
grd_conv_attrs_parse (JsonObject *o, GrdAttrs *attrs, const char **bad, const char **expected)
{
#define BAD(key, exp) do { *bad = key; *expected = exp; return FALSE; } while (0)
  JsonNode *m;
  if ((m = json_object_get_member (o, "border_mode"))) {
    static const char *const modes[] = { "valid", "full", "half", NULL };
    gint mode;
    if (json_choice (m, modes, &mode))
      attrs->border_mode = mode;
    else if (json_pair (m, 0, BIG, attrs->border))
      attrs->border_mode = GRD_BORDER_EXPLICIT;
    else
      BAD ("border_mode", "\"valid\", \"full\", \"half\" or [ph, pw]");
  }
  if ((m = json_object_get_member (o, "subsample")) && !json_pair (m, 1, BIG, attrs->subsample))
    BAD ("subsample", "two positive integers [sh, sw]");
  if ((m = json_object_get_member (o, "filter_dilation"))
      && !json_pair (m, 1, BIG, attrs->filter_dilation))
    BAD ("filter_dilation", "two positive integers [dh, dw]");
  if ((m = json_object_get_member (o, "num_groups")) && !json_int (m, 1, BIG, &attrs->num_groups))
    BAD ("num_groups", "a positive integer");
  if ((m = json_object_get_member (o, "filter_flip")) && !json_bool (m, &attrs->filter_flip))
    BAD ("filter_flip", "true or false");
  if ((m = json_object_get_member (o, "ws")) && !json_pair (m, 1, BIG, attrs->ws))
    BAD ("ws", "two positive integers [h, w]");
  if ((m = json_object_get_member (o, "stride")) && !json_pair (m, 1, BIG, attrs->pool_stride))
    BAD ("stride", "two positive integers [h, w]");
  if ((m = json_object_get_member (o, "pad")) && !json_pair (m, 0, BIG, attrs->pool_pad))
    BAD ("pad", "two non-negative integers [h, w]");
  if ((m = json_object_get_member (o, "ignore_border")) && !json_bool (m, &attrs->ignore_border))
    BAD ("ignore_border", "true or false");
  if ((m = json_object_get_member (o, "mode"))) {
    static const char *const modes[] = { "max", "sum", "average_inc_pad", "average_exc_pad", NULL };
    if (!json_choice (m, modes, &attrs->pool_mode))
      BAD ("mode", "\"max\", \"sum\", \"average_inc_pad\" or \"average_exc_pad\"");
  }
#undef BAD
  return TRUE;
}
