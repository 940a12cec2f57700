/* grd-pytorch-ops.c: the Gradus ops as PyTorch expressions, one row each: a
 * template and how the inputs are cast first. Templates name the inputs {0},
 * {1}, ... ({*}: all, comma-separated) and the attributes {AXES} {KEEP}
 * {AXIS0} {AXISL} {AXISN} {PERM} {SHAPE} {PATTERN} {NDIM} {BEGIN} {END}
 * {STEP} {DTYPE} {DEPTH} {CONV} {POOL}; {+k}: the inputs from k on. The _helpers are the script's (preamble.py).
 * Gradients are not here: the script takes them with torch.autograd. */
#include "grd-pytorch-private.h"

#include <stdlib.h>
#include <string.h>

typedef enum {
  CAST_NONE,     /* inputs as they are */
  CAST_RESULT,   /* every input to the node's result dtype (NumPy promotion, explicit) */
  CAST_PROMOTED, /* every input to their promoted dtype (comparisons) */
} CastRule;

typedef struct {
  const char *op;
  const char *template;
  CastRule    cast;
} PytorchOpRow;

static const PytorchOpRow rows[] = {
  { "add", "torch.add({0}, {1})", CAST_RESULT },
  { "sub", "torch.sub({0}, {1})", CAST_RESULT },
  { "mul", "torch.mul({0}, {1})", CAST_RESULT },
  { "div", "torch.div({0}, {1})", CAST_RESULT },
  { "pow", "torch.pow({0}, {1})", CAST_RESULT },
  { "maximum", "torch.maximum({0}, {1})", CAST_RESULT },
  { "minimum", "torch.minimum({0}, {1})", CAST_RESULT },
  { "neg", "torch.neg({0})", CAST_RESULT },
  { "abs", "torch.abs({0})", CAST_RESULT },
  { "sign", "torch.sign({0})", CAST_RESULT },
  { "square", "torch.square({0})", CAST_RESULT },
  { "sqrt", "torch.sqrt({0})", CAST_RESULT },
  { "reciprocal", "torch.reciprocal({0})", CAST_RESULT },
  { "exp", "torch.exp({0})", CAST_RESULT },
  { "log", "torch.log({0})", CAST_RESULT },
  { "log1p", "torch.log1p({0})", CAST_RESULT },
  { "expm1", "torch.expm1({0})", CAST_RESULT },
  { "sin", "torch.sin({0})", CAST_RESULT },
  { "cos", "torch.cos({0})", CAST_RESULT },
  { "tanh", "torch.tanh({0})", CAST_RESULT },
  { "sigmoid", "torch.sigmoid({0})", CAST_RESULT },
  { "softplus", "torch.nn.functional.softplus({0})", CAST_RESULT },
  { "relu", "torch.relu({0})", CAST_RESULT },
  { "erf", "torch.erf({0})", CAST_RESULT },
  { "eq", "torch.eq({0}, {1})", CAST_PROMOTED },
  { "neq", "torch.ne({0}, {1})", CAST_PROMOTED },
  { "lt", "torch.lt({0}, {1})", CAST_PROMOTED },
  { "le", "torch.le({0}, {1})", CAST_PROMOTED },
  { "gt", "torch.gt({0}, {1})", CAST_PROMOTED },
  { "ge", "torch.ge({0}, {1})", CAST_PROMOTED },
  { "and", "torch.logical_and({0}, {1})", CAST_NONE },
  { "or", "torch.logical_or({0}, {1})", CAST_NONE },
  { "not", "torch.logical_not({0})", CAST_NONE },
  { "switch", "torch.where({0} != 0, {1}, {2})", CAST_RESULT },
  { "clip", "torch.minimum(torch.maximum({0}, {1}), {2})", CAST_RESULT },
  { "floor", "(torch.floor({0}) if {0}.is_floating_point() else {0})", CAST_RESULT },
  { "ceil", "(torch.ceil({0}) if {0}.is_floating_point() else {0})", CAST_RESULT },
  { "round", "(torch.round({0}) if {0}.is_floating_point() else {0})", CAST_RESULT },
  { "cast", "{0}.to({DTYPE})", CAST_NONE },
  { "sum", "_sum({0}, {AXES}, {KEEP})", CAST_RESULT },
  { "mean", "_mean({0}, {AXES}, {KEEP})", CAST_RESULT },
  { "prod", "_prod({0}, {AXES}, {KEEP})", CAST_RESULT },
  { "max", "_max({0}, {AXES}, {KEEP})", CAST_RESULT },
  { "min", "_min({0}, {AXES}, {KEEP})", CAST_RESULT },
  { "argmax", "_arg(torch.argmax, {0}, {AXISN}, {KEEP})", CAST_NONE },
  { "argmin", "_arg(torch.argmin, {0}, {AXISN}, {KEEP})", CAST_NONE },
  { "dot", "_dot({0}, {1})", CAST_RESULT },
  { "outer", "torch.outer({0}.reshape(-1), {1}.reshape(-1))", CAST_RESULT },
  { "transpose", "{0}.permute({PERM})", CAST_NONE },
  { "reshape", "{0}.reshape({SHAPE})", CAST_NONE },
  { "dimshuffle", "_dimshuffle({0}, {PATTERN})", CAST_NONE },
  { "flatten", "_flatten({0}, {NDIM})", CAST_NONE },
  { "concatenate", "torch.cat([{*}], {AXIS0})", CAST_RESULT },
  { "stack", "torch.stack([{*}], {AXIS0})", CAST_RESULT },
  { "slice", "_slice({0}, {BEGIN}, {END}, {STEP})", CAST_NONE },
  { "take", "_take({0}, {1}, {AXIS0})", CAST_NONE },
  { "softmax", "torch.softmax({0}, {AXISL})", CAST_RESULT },
  { "log_softmax", "torch.log_softmax({0}, {AXISL})", CAST_RESULT },
  { "logsumexp", "_logsumexp({0}, {AXES}, {KEEP})", CAST_RESULT },
  { "categorical_crossentropy", "_cce(_as({0}, {DTYPE}), {1})", CAST_NONE },
  { "binary_crossentropy", "_bce({0}, {1})", CAST_RESULT },
  { "one_hot", "_one_hot({0}, {DEPTH}, {DTYPE})", CAST_NONE },
  /* part two */
  { "conv2d", "_conv2d({0}, {1}, {CONV})", CAST_RESULT },
  { "pool_2d", "_pool_2d({0}, {POOL})", CAST_NONE },
  { "shape", "_shape({0}, {AXISN})", CAST_NONE },
  { "arange", "_arange({0}, {1}, {2}, {DTYPE})", CAST_NONE },
  { "index", "_index({0}, [{+1}])", CAST_NONE },
  { "set_subtensor", "_subtensor({0}, {1}, [{+2}], {BEGIN}, {END}, {STEP}, False)", CAST_NONE },
  { "inc_subtensor", "_subtensor({0}, {1}, [{+2}], {BEGIN}, {END}, {STEP}, True)", CAST_NONE },
  { "mod", "_mod({0}, {1})", CAST_RESULT },
  { "floor_div", "_floor_div({0}, {1})", CAST_RESULT },
};

const char *
pytorch_dtype (GrdDType dtype)
{
  switch (dtype) {
  case GRD_DTYPE_BOOL: return "torch.bool";
  case GRD_DTYPE_INT32: return "torch.int32";
  case GRD_DTYPE_INT64: return "torch.int64";
  case GRD_DTYPE_FLOAT32: return "torch.float32";
  case GRD_DTYPE_FLOAT64: return "torch.float64";
  default: g_return_val_if_reached ("None");
  }
}

static void
append_list (GString *s, const gint64 *v, gint n, gint64 none, const char *none_text)
{
  g_string_append_c (s, '[');
  for (gint i = 0; i < n; i++) {
    if (i)
      g_string_append (s, ", ");
    if (v[i] == none)
      g_string_append (s, none_text);
    else
      g_string_append_printf (s, "%" G_GINT64_FORMAT, v[i]);
  }
  g_string_append_c (s, ']');
}

/* The text of attribute placeholder `name` for this node. */
static void
append_attr (GString *s, const char *name, const GrdNode *node, const GrdType *const *in_types)
{
  const GrdAttrs *a = &node->attrs;
  gint64 v[GRD_MAX_RANK];
  if (strcmp (name, "AXES") == 0) {
    if (!a->has_axis) {
      g_string_append (s, "None");
      return;
    }
    for (gint i = 0; i < a->n_axes; i++)
      v[i] = a->axes[i];
    append_list (s, v, a->n_axes, G_MININT64, "");
  } else if (strcmp (name, "KEEP") == 0) {
    g_string_append (s, a->keepdims ? "True" : "False");
  } else if (strncmp (name, "AXIS", 4) == 0) {
    const char *fallback = name[4] == '0' ? "0" : name[4] == 'L' ? "-1" : "None";
    if (a->has_axis)
      g_string_append_printf (s, "%d", a->axes[0]);
    else
      g_string_append (s, fallback);
  } else if (strcmp (name, "PERM") == 0) {
    gint rank = in_types[0]->rank;
    for (gint i = 0; i < rank; i++)
      v[i] = a->n_perm ? a->perm[i] : rank - 1 - i;
    append_list (s, v, rank, G_MININT64, "");
  } else if (strcmp (name, "SHAPE") == 0) {
    append_list (s, a->shape, a->n_shape, G_MININT64, "");
  } else if (strcmp (name, "PATTERN") == 0) {
    for (gint i = 0; i < a->n_pattern; i++)
      v[i] = a->pattern[i];
    append_list (s, v, a->n_pattern, -1, "\"x\"");
  } else if (strcmp (name, "NDIM") == 0) {
    g_string_append_printf (s, "%d", a->ndim > 0 ? a->ndim : 1);
  } else if (strcmp (name, "BEGIN") == 0) {
    append_list (s, a->begin, a->n_slice, GRD_SLICE_NONE, "None");
  } else if (strcmp (name, "END") == 0) {
    append_list (s, a->end, a->n_slice, GRD_SLICE_NONE, "None");
  } else if (strcmp (name, "STEP") == 0) {
    append_list (s, a->step, a->n_slice, GRD_SLICE_NONE, "None");
  } else if (strcmp (name, "DTYPE") == 0) {
    g_string_append (s, pytorch_dtype (node->types[0].dtype));
  } else if (strcmp (name, "CONV") == 0) {
    /* _conv2d's border, stride, dilation, groups, flip */
    static const char *const borders[] = { "\"valid\"", "\"full\"", "\"half\"" };
    if (a->border_mode == GRD_BORDER_EXPLICIT)
      append_list (s, a->border, 2, G_MININT64, "");
    else
      g_string_append (s, borders[CLAMP (a->border_mode, 0, 2)]);
    g_string_append (s, ", ");
    append_list (s, a->subsample, 2, G_MININT64, "");
    g_string_append (s, ", ");
    append_list (s, a->filter_dilation, 2, G_MININT64, "");
    g_string_append_printf (s, ", %" G_GINT64_FORMAT ", %s", a->num_groups,
                            a->filter_flip ? "True" : "False");
  } else if (strcmp (name, "POOL") == 0) {
    /* _pool_2d's ws, stride, pad, ignore_border, mode */
    static const char *const modes[] = { "max", "sum", "average_inc_pad", "average_exc_pad" };
    append_list (s, a->ws, 2, G_MININT64, "");
    g_string_append (s, ", ");
    append_list (s, a->pool_stride, 2, G_MININT64, "");
    g_string_append (s, ", ");
    append_list (s, a->pool_pad, 2, G_MININT64, "");
    g_string_append_printf (s, ", %s, \"%s\"", a->ignore_border ? "True" : "False",
                            modes[CLAMP (a->pool_mode, 0, 3)]);
  } else if (strcmp (name, "DEPTH") == 0) {
    g_string_append_printf (s, "%" G_GINT64_FORMAT, a->depth);
  } else {
    g_return_if_reached ();
  }
}

char *
pytorch_op_expr (const GrdNode *node, char *const *in, const GrdType *const *in_types,
                 GError **error)
{
  const PytorchOpRow *row = NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (rows) && !row; i++)
    if (strcmp (rows[i].op, node->op->name) == 0)
      row = &rows[i];
  if (!row) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "node '%s': op '%s' has no PyTorch form in the export", node->id,
                 node->op->name);
    return NULL;
  }
  GrdDType target = node->types[0].dtype;
  if (row->cast == CAST_PROMOTED) {
    target = in_types[0]->dtype;
    for (gint i = 1; i < node->n_inputs; i++)
      target = grd_dtype_promote (target, in_types[i]->dtype);
  }
  g_autoptr (GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  for (gint i = 0; i < node->n_inputs; i++)
    g_ptr_array_add (args, row->cast == CAST_NONE || in_types[i]->dtype == target
                     ? g_strdup (in[i])
                     : g_strdup_printf ("_as(%s, %s)", in[i], pytorch_dtype (target)));
  GString *s = g_string_new (NULL);
  for (const char *p = row->template; *p; p++) {
    const char *close = *p == '{' ? strchr (p, '}') : NULL;
    if (!close) {
      g_string_append_c (s, *p);
      continue;
    }
    g_autofree char *name = g_strndup (p + 1, close - p - 1);
    if (g_ascii_isdigit (name[0])) {
      gint k = atoi (name);
      g_string_append (s, k < (gint) args->len ? (char *) args->pdata[k] : "None");
    } else if (strcmp (name, "*") == 0 || name[0] == '+') {
      guint first = name[0] == '+' ? (guint) atoi (name + 1) : 0;
      for (guint k = first; k < args->len; k++)
        g_string_append_printf (s, "%s%s", k > first ? ", " : "", (char *) args->pdata[k]);
    } else {
      append_attr (s, name, node, in_types);
    }
    p = close;
  }
  return g_string_free (s, FALSE);
}
