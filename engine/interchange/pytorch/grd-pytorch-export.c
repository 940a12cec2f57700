/* grd-pytorch-export.c: a graph file as a standalone PyTorch script that
 * follows its run: one Python line per node in graph order, gradients by
 * torch.autograd at each grad node (the gradient subgraph Gradus built is not
 * needed), shared variables as parameters updated together after each call,
 * values and data sets in OUT.data/ as .npy. Under torchrun each process
 * takes its rows of every data-set minibatch, gradients are averaged with
 * torch.distributed, and rank 0 prints. */
#include "grd-pytorch-private.h"
#include "../grd-interchange.h"

#include <stdlib.h>
#include <string.h>

static char *
ref_key (GrdRef r)
{
  return g_strdup_printf ("%d:%d", r.node, r.output);
}

/* A Python identifier for a node output: v_ plus the id with other
 * characters as '_', made unique. */
static const char *
py_name (Script *s, GrdRef r)
{
  g_autofree char *key = ref_key (r);
  const char *grad = g_hash_table_lookup (s->grad_of, key);
  if (grad)
    return g_hash_table_lookup (s->py_names, grad);
  const char *known = g_hash_table_lookup (s->py_names, key);
  if (known)
    return known;
  GString *n = g_string_new ("v_");
  for (const char *p = grd_graph_node_id (s->graph, r.node); *p; p++)
    g_string_append_c (n, g_ascii_isalnum (*p) ? *p : '_');
  if (r.output)
    g_string_append_printf (n, "_%d", r.output);
  g_autofree char *base = g_strdup (n->str);
  for (gint k = 2; g_hash_table_contains (s->used, n->str); k++)
    g_string_printf (n, "%s_%d", base, k);
  char *name = g_string_free (n, FALSE);
  g_hash_table_add (s->used, name);
  g_hash_table_insert (s->py_names, g_steal_pointer (&key), name);
  return name;
}

static void
append_py_string (GString *out, const char *text)
{
  g_string_append_c (out, '"');
  for (const char *p = text; *p; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_c (out, '\\');
    if ((guchar) *p < 0x20)
      g_string_append_printf (out, "\\x%02x", (guchar) *p);
    else
      g_string_append_c (out, *p);
  }
  g_string_append_c (out, '"');
}

/* A value as Python: a literal for small finite numeric values, else a .npy
 * file in the data folder. */
gboolean
pytorch_append_value (Script *s, const char *file_stem, const GrdTensor *t, GError **error)
{
  gboolean small = t->size <= 16 && t->dtype != GRD_DTYPE_BOOL;
  for (gint64 i = 0; small && i < t->size; i++) {
    double v = grd_tensor_get (t, i);
    small = v == v && v - v == 0;
  }
  if (small) {
    g_string_append (s->out, "value(");
    grd_value_append_json (s->out, t);
    g_string_append_printf (s->out, ", %s)", pytorch_dtype (t->dtype));
    return TRUE;
  }
  g_autofree char *file = g_strdup_printf ("%s.npy", file_stem);
  g_autofree char *path = g_build_filename (s->data_dir, file, NULL);
  if (!grd_npy_save (path, t, error))
    return FALSE;
  g_string_append_printf (s->out, "load(\"%s\")", file_stem);
  return TRUE;
}

static JsonObject *
object_member (JsonObject *o, const char *key)
{
  JsonNode *n = o ? json_object_get_member (o, key) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

/* The feed of input i: a fixed value, or the whole data set with its
 * batch, shuffle and seed. */
static gboolean
append_feed (Script *s, GrdInterFunction *fn, gint i, GError **error)
{
  JsonObject *root = json_node_get_object (grd_document_root (s->doc));
  JsonObject *feeds = object_member (object_member (root, "run"), "feeds");
  JsonNode *feed = feeds ? json_object_get_member (feeds, fn->input_ids[i]) : NULL;
  if (!feed) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH, "input '%s' has no feed in run.feeds",
                 fn->input_ids[i]);
    return FALSE;
  }
  g_autofree char *base_dir = grd_document_path (s->doc)
    ? g_path_get_dirname (grd_document_path (s->doc)) : g_strdup (".");
  GrdType type = *grd_graph_ref_type (s->graph, fn->inputs[i]);
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (feed) ? json_node_get_object (feed) : NULL;
  gboolean data_set = o && (json_object_has_member (o, "csv") || json_object_has_member (o, "batch")
                            || json_object_has_member (o, "shuffle"));
  g_autoptr (JsonNode) whole = json_node_copy (feed);
  gint64 batch = 0, seed = 0;
  gboolean shuffle = FALSE;
  if (data_set) {
    /* every row, in order: the script draws the minibatches itself */
    JsonObject *w = json_node_get_object (whole);
    batch = json_object_get_int_member_with_default (o, "batch", 0);
    shuffle = json_object_get_boolean_member_with_default (o, "shuffle", FALSE);
    seed = json_object_get_int_member_with_default (o, "seed", 0);
    json_object_remove_member (w, "batch");
    json_object_remove_member (w, "shuffle");
    json_object_remove_member (w, "seed");
    if (type.rank > 0)
      type.dims[0] = GRD_DIM_UNKNOWN;
  }
  g_autoptr (GError) local = NULL;
  g_autoptr (GrdFeed) f = grd_feed_new (whole, &type, base_dir, &local);
  g_autoptr (GrdTensor) t = f ? grd_feed_next (f, 0, &local) : NULL;
  if (!t) {
    g_set_error (error, GRD_ERROR, local->code, "run.feeds: '%s': %s", fn->input_ids[i],
                 local->message);
    return FALSE;
  }
  g_autofree char *stem = g_strdup_printf ("feed-%s", fn->input_ids[i]);
  g_string_append (s->out, "Feed(");
  if (!data_set) {
    if (!pytorch_append_value (s, stem, t, error))
      return FALSE;
    g_string_append (s->out, ", fixed=True)");
    return TRUE;
  }
  g_autofree char *file = g_strdup_printf ("%s.npy", stem);
  g_autofree char *path = g_build_filename (s->data_dir, file, NULL);
  if (!grd_npy_save (path, t, error))
    return FALSE;
  g_string_append_printf (s->out, "load(\"%s\"), batch=%" G_GINT64_FORMAT ", shuffle=%s, seed=%"
                          G_GINT64_FORMAT ")", stem, batch > 0 ? batch : t->shape[0],
                          shuffle ? "True" : "False", seed);
  return TRUE;
}

/* Marks what the outputs and updates need; a gradient output needs its
 * grad node's cost and wrt, not the subgraph Gradus built for it. */
static void
mark_needed (Script *s, GrdRef ref, gboolean *needed)
{
  g_autoptr (GArray) stack = g_array_new (FALSE, FALSE, sizeof (GrdRef));
  g_array_append_val (stack, ref);
  while (stack->len) {
    GrdRef r = g_array_index (stack, GrdRef, stack->len - 1);
    g_array_set_size (stack, stack->len - 1);
    g_autofree char *key = ref_key (r);
    const char *grad = g_hash_table_lookup (s->grad_of, key);
    gint n = grad ? atoi (grad) : r.node;
    if (needed[n])
      continue;
    needed[n] = TRUE;
    GrdNode *node = grd_graph_node (s->graph, n);
    gint n_in = node->kind == GRD_NODE_GRAD ? 1 + node->n_outputs : node->n_inputs;
    for (gint i = 0; i < n_in; i++)
      g_array_append_val (stack, node->inputs[i]);
  }
}

/* The grad node's "consider_constant" in the file, which the script does not
 * carry over. */
static gboolean
has_consider_constant (Script *s, const char *id)
{
  JsonObject *root = json_node_get_object (grd_document_root (s->doc));
  JsonNode *nodes = json_object_get_member (root, "nodes");
  if (!nodes || !JSON_NODE_HOLDS_ARRAY (nodes))
    return FALSE;
  JsonArray *a = json_node_get_array (nodes);
  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonNode *e = json_array_get_element (a, i);
    JsonObject *o = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
    if (!o || g_strcmp0 (json_object_get_string_member_with_default (o, "id", ""), id) != 0)
      continue;
    JsonNode *cc = json_object_get_member (o, "consider_constant");
    return cc && JSON_NODE_HOLDS_ARRAY (cc) && json_array_get_length (json_node_get_array (cc));
  }
  return FALSE;
}

/* A random node (an op "_random" in the graph) as a _random() call of the
 * script, from its object in the file: distribution, dtype, seed, and its
 * fixed shape or the `like` input (the graph's input 2). */
static char *
random_expr (Script *s, const GrdNode *node, char *const *in, GError **error)
{
  JsonObject *root = json_node_get_object (grd_document_root (s->doc));
  JsonNode *nodes = json_object_get_member (root, "nodes");
  JsonObject *o = NULL;
  for (guint i = 0; nodes && JSON_NODE_HOLDS_ARRAY (nodes)
                    && i < json_array_get_length (json_node_get_array (nodes)) && !o; i++) {
    JsonNode *e = json_array_get_element (json_node_get_array (nodes), i);
    JsonObject *c = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
    if (c && g_strcmp0 (json_object_get_string_member_with_default (c, "id", ""), node->id) == 0)
      o = c;
  }
  if (!o) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "node '%s': a random node inside a scan body has no PyTorch form in the export",
                 node->id);
    return NULL;
  }
  GString *e = g_string_new ("_random(");
  append_py_string (e, node->id);
  g_string_append_printf (e, ", \"%s\", %" G_GINT64_FORMAT ", ",
                          json_object_get_string_member_with_default (o, "distribution", "uniform"),
                          json_object_get_int_member_with_default (o, "seed", 0));
  if (node->n_inputs > 2) {
    g_string_append_printf (e, "%s.shape", in[2]);
  } else {
    const GrdType *t = &node->types[0];
    g_string_append_c (e, '[');
    for (gint d = 0; d < t->rank; d++)
      g_string_append_printf (e, "%s%" G_GINT64_FORMAT, d ? ", " : "", t->dims[d]);
    g_string_append_c (e, ']');
  }
  g_string_append_printf (e, ", %s, %s, %s)", in[0], in[1], pytorch_dtype (node->types[0].dtype));
  return g_string_free (e, FALSE);
}

static gboolean
emit_call (Script *s, GrdInterFunction *fn, GError **error)
{
  GrdGraph *g = s->graph;
  gint n_nodes = grd_graph_n_nodes (g), n_grads = 0;
  /* gradient outputs by the refs they alias */
  for (gint n = 0; n < n_nodes; n++) {
    if (grd_graph_node_kind (g, n) != GRD_NODE_GRAD)
      continue;
    n_grads++;
    for (gint i = 0; i < grd_graph_node_n_outputs (g, n); i++) {
      GrdRef alias = grd_graph_grad_output (g, n, i);
      g_autofree char *gkey = g_strdup_printf ("%d:%d", n, i);
      char *name = g_strdup_printf ("v_%s_%d", grd_graph_node_id (g, n), i);
      for (char *p = name; *p; p++)
        if (!g_ascii_isalnum (*p))
          *p = '_';
      g_hash_table_add (s->used, name);
      g_hash_table_insert (s->py_names, g_strdup (gkey), name);
      /* only nodes of this gradient's own subgraph: an alias of a forward
       * node already has that node's value */
      if (!grd_ref_is_none (alias) && grd_graph_node_owner (g, alias.node) == n)
        g_hash_table_insert (s->grad_of, ref_key (alias), g_strdup (gkey));
    }
  }
  g_autofree gboolean *needed = g_new0 (gboolean, n_nodes);
  g_autofree gboolean *is_wrt = g_new0 (gboolean, n_nodes);
  for (gint i = 0; i < fn->n_outputs; i++)
    mark_needed (s, fn->outputs[i], needed);
  for (gint i = 0; i < fn->n_updates; i++)
    mark_needed (s, fn->updates[i].value, needed);
  for (gint n = 0; n < n_nodes; n++)
    if (needed[n] && grd_graph_node_kind (g, n) == GRD_NODE_GRAD)
      for (gint i = 0; i < grd_graph_node_n_outputs (g, n); i++)
        is_wrt[grd_graph_node (g, n)->inputs[1 + i].node] = TRUE;

  GString *o = s->out;
  gsize defs_at = o->len; /* the functions of scan bodies and branches go before call */
  g_string_append (o, "def call(inputs, S, C):\n"
                      "    \"\"\"One call of the function: its outputs and the new values of\n"
                      "    the shared variables it updates (computed from the old ones).\"\"\"\n");
  for (gint n = 0; n < n_nodes; n++) {
    if (!needed[n])
      continue;
    GrdNode *node = grd_graph_node (g, n);
    GrdRef self = { n, 0 };
    switch (node->kind) {
    case GRD_NODE_VARIABLE: {
      gboolean input = FALSE;
      for (gint i = 0; i < fn->n_inputs; i++)
        input |= fn->inputs[i].node == n;
      if (!input) {
        g_set_error (error, GRD_ERROR, GRD_ERROR_GRAPH,
                     "node '%s': the function needs this variable but it is not an input",
                     node->id);
        return FALSE;
      }
      g_string_append_printf (o, "    %s = %sinputs[", py_name (s, self), is_wrt[n] ? "_leaf(" : "");
      append_py_string (o, node->id);
      g_string_append_printf (o, "]%s\n", is_wrt[n] ? ")" : "");
      break;
    }
    case GRD_NODE_SHARED:
    case GRD_NODE_CONSTANT:
      g_string_append_printf (o, "    %s = %s%s[", py_name (s, self), is_wrt[n] ? "_leaf(" : "",
                              node->kind == GRD_NODE_SHARED ? "S" : "C");
      append_py_string (o, node->id);
      g_string_append_printf (o, "]%s\n", is_wrt[n] && node->kind == GRD_NODE_CONSTANT ? ")"
                              : is_wrt[n] ? ")" : "");
      break;
    case GRD_NODE_GRAD: {
      if (has_consider_constant (s, node->id)) {
        g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                     "node '%s': consider_constant has no PyTorch form in the export", node->id);
        return FALSE;
      }
      g_string_append (o, "    ");
      for (gint i = 0; i < node->n_outputs; i++) {
        g_autofree char *gkey = g_strdup_printf ("%d:%d", n, i);
        g_string_append_printf (o, "%s%s", i ? ", " : "",
                                (char *) g_hash_table_lookup (s->py_names, gkey));
      }
      g_string_append_printf (o, "%s = _grad(%s, [", node->n_outputs == 1 ? "," : "",
                              py_name (s, node->inputs[0]));
      for (gint i = 0; i < node->n_outputs; i++)
        g_string_append_printf (o, "%s%s", i ? ", " : "", py_name (s, node->inputs[1 + i]));
      g_string_append_printf (o, "]%s)  # grad '%s'\n", n_grads > 1 ? ", higher=True" : "",
                              node->id);
      break;
    }
    case GRD_NODE_OP: {
      if (node->owner >= 0) {
        /* a node of a gradient subgraph that an output reaches directly */
        g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                     "node '%s': a node of the gradient of '%s' cannot be exported alone",
                     node->id, grd_graph_node_id (g, node->owner));
        return FALSE;
      }
      g_autofree char **in = g_new0 (char *, node->n_inputs + 1);
      g_autofree const GrdType **types = g_new0 (const GrdType *, node->n_inputs + 1);
      for (gint i = 0; i < node->n_inputs; i++) {
        in[i] = (char *) py_name (s, node->inputs[i]);
        types[i] = grd_graph_ref_type (g, node->inputs[i]);
      }
      gboolean control = pytorch_is_control (node);
      g_autofree char *expr = control ? pytorch_control_expr (s, node, in, error)
                              : g_str_equal (node->op->name, "_random")
                              ? random_expr (s, node, in, error)
                              : pytorch_op_expr (node, in, types, error);
      if (!expr)
        return FALSE;
      g_string_append (o, "    ");
      for (gint k = 0; k < node->n_outputs; k++)
        g_string_append_printf (o, "%s%s", k ? ", " : "", py_name (s, (GrdRef) { n, k }));
      g_string_append_printf (o, "%s = %s\n", control && node->n_outputs == 1
                              && !g_str_equal (node->op->name, "_tap_gather") ? "," : "", expr);
      break;
    }
    default:
      /* node kinds this export does not know (yet) */
      g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                   "node '%s': this kind of node has no PyTorch form in the export", node->id);
      return FALSE;
    }
  }
  g_string_append (o, "    outputs = [");
  for (gint i = 0; i < fn->n_outputs; i++)
    g_string_append_printf (o, "%s%s", i ? ", " : "", py_name (s, fn->outputs[i]));
  g_string_append (o, "]\n    updates = {");
  for (gint i = 0; i < fn->n_updates; i++) {
    g_string_append (o, i ? ", " : "");
    append_py_string (o, fn->update_ids[i]);
    g_string_append_printf (o, ": %s", py_name (s, fn->updates[i].value));
  }
  g_string_append (o, "}\n    return outputs, updates\n\n\n");
  g_string_insert (o, defs_at, s->defs->str);
  return TRUE;
}

static gboolean
emit_script (Script *s, GrdInterFunction *fn, const char *out_path, GError **error)
{
  GrdGraph *g = s->graph;
  GString *o = s->out;
  JsonObject *root = json_node_get_object (grd_document_root (s->doc));
  const char *title = json_object_get_string_member_with_default (root, "name", NULL);
  g_autofree char *script_name = g_path_get_basename (out_path);
  g_autofree char *source = grd_document_path (s->doc)
    ? g_path_get_basename (grd_document_path (s->doc)) : g_strdup ("a graph file");
  g_string_append (o, "#!/usr/bin/env python3\n\"\"\"");
  g_autofree char *safe_title = g_strdup (title ? title : source);
  g_strdelimit (safe_title, "\"\\", '\'');
  g_string_append_printf (o, "%s: exported by `gradus export --to pytorch` from %s\n"
                             "(function '%s').\n\n", safe_title, source, fn->name);
  g_string_append_printf (o,
    "  python3 %s [--steps N]                  the file's run, one JSON line per call,\n"
    "                                             as `gradus run` prints them\n"
    "  torchrun --nproc_per_node=K %s [--steps N]  the same on K processes: data-set\n"
    "                                             rows split, gradients averaged, rank 0 prints\n"
    "\nValues and data sets are in %s/ beside this script.\n\"\"\"\n",
    script_name, script_name, s->data_name);
  g_string_append (o, "DATA_DIR = ");
  append_py_string (o, s->data_name);
  g_string_append (o, "\n");
  g_string_append (o, grd_pytorch_preamble);
  g_string_append (o, "\n\n# ---------------------------------------------------------------- "
                      "the graph\n\n");

  /* shared variables, constants, feeds */
  gint n_nodes = grd_graph_n_nodes (g);
  g_string_append (o, "SHARED_IDS = [");
  for (gint n = 0, k = 0; n < n_nodes; n++)
    if (grd_graph_node_kind (g, n) == GRD_NODE_SHARED) {
      g_string_append (o, k++ ? ", " : "");
      append_py_string (o, grd_graph_node_id (g, n));
    }
  g_string_append (o, "]\n\n\ndef make_shared():\n"
                      "    \"\"\"The shared variables, as parameters (float ones take gradients).\"\"\"\n"
                      "    S = torch.nn.ParameterDict()\n");
  for (gint n = 0; n < n_nodes; n++) {
    GrdNode *node = grd_graph_node (g, n);
    if (node->kind != GRD_NODE_SHARED)
      continue;
    g_autofree char *stem = g_strdup_printf ("shared-%s", node->id);
    g_string_append (o, "    S[");
    append_py_string (o, node->id);
    g_string_append (o, "] = torch.nn.Parameter(");
    if (!pytorch_append_value (s, stem, node->value, error))
      return FALSE;
    g_string_append_printf (o, ", requires_grad=%s)\n",
                            grd_dtype_is_float (node->value->dtype) ? "True" : "False");
  }
  g_string_append (o, "    return S\n\n\ndef make_constants():\n    C = {}\n");
  for (gint n = 0; n < n_nodes; n++) {
    GrdNode *node = grd_graph_node (g, n);
    if (node->kind != GRD_NODE_CONSTANT || node->owner >= 0)
      continue;
    g_autofree char *stem = g_strdup_printf ("const-%s", node->id);
    g_string_append (o, "    C[");
    append_py_string (o, node->id);
    g_string_append (o, "] = ");
    if (!pytorch_append_value (s, stem, node->value, error))
      return FALSE;
    g_string_append (o, "\n");
  }
  g_string_append (o, "    return C\n\n\ndef make_feeds():\n    F = {}\n");
  for (gint i = 0; i < fn->n_inputs; i++) {
    g_string_append (o, "    F[");
    append_py_string (o, fn->input_ids[i]);
    g_string_append (o, "] = ");
    if (!append_feed (s, fn, i, error))
      return FALSE;
    g_string_append (o, "\n");
  }
  g_string_append (o, "    return F\n\n\n");
  if (!emit_call (s, fn, error))
    return FALSE;

  /* how each output is put together under torchrun */
  g_string_append (o, "# under torchrun: \"rows\" outputs are gathered, float scalars averaged\n"
                      "OUTPUT_COMBINE = [");
  for (gint i = 0; i < fn->n_outputs; i++) {
    const GrdType *t = grd_graph_ref_type (g, fn->outputs[i]);
    const char *how = t->rank > 0 && t->dims[0] < 0 ? "rows"
                    : t->rank == 0 && grd_dtype_is_float (t->dtype) ? "mean" : "keep";
    g_string_append_printf (o, "%s\"%s\"", i ? ", " : "", how);
  }
  JsonObject *fns = object_member (root, "functions");
  gint n_functions = (fns ? json_object_get_size (fns) : 0)
                     + (object_member (root, "function") ? 1 : 0);
  g_string_append (o, "]\nFUNCTION = ");
  if (n_functions > 1)
    append_py_string (o, fn->name);
  else
    g_string_append (o, "None");
  g_string_append_printf (o, "\nSTEPS = %d\n", grd_document_run_steps (s->doc, 1));
  g_string_append (o,
    "\n\ndef main():\n"
    "    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])\n"
    "    ap.add_argument(\"--steps\", type=int, default=STEPS)\n"
    "    args = ap.parse_args()\n"
    "    if WORLD > 1:\n"
    "        dist.init_process_group(\"nccl\" if DEVICE.type == \"cuda\" else \"gloo\")\n"
    "    S, C, F = make_shared(), make_constants(), make_feeds()\n"
    "    split = any(not f.fixed for f in F.values())  # fixed values are not split\n"
    "    for step in range(args.steps):\n"
    "        outputs, updates = call({k: f.next(step) for k, f in F.items()}, S, C)\n"
    "        outputs = [_combine(v, how, split).detach().clone()\n"
    "                   for v, how in zip(outputs, OUTPUT_COMBINE)]\n"
    "        with torch.no_grad():  # every update was computed from the old values\n"
    "            for k, v in updates.items():\n"
    "                S[k].copy_(v)\n"
    "        if RANK == 0:\n"
    "            line = {\"step\": step}\n"
    "            if FUNCTION:\n"
    "                line[\"function\"] = FUNCTION\n"
    "            line[\"outputs\"] = [_plain(v) for v in outputs]\n"
    "            line[\"shared\"] = {k: _plain(S[k]) for k in SHARED_IDS}\n"
    "            print(json.dumps(line), flush=True)\n"
    "    if WORLD > 1:\n"
    "        dist.destroy_process_group()\n"
    "\n\nif __name__ == \"__main__\":\n"
    "    main()\n");
  return TRUE;
}

gboolean
grd_pytorch_export (GrdDocument *doc, const char *function, const char *out_path, GError **error)
{
  g_autoptr (GrdInterFunction) fn = grd_inter_function_resolve (doc, function, error);
  if (!fn)
    return FALSE;
  g_autofree char *dir = g_path_get_dirname (out_path);
  g_autofree char *base = g_path_get_basename (out_path);
  if (g_str_has_suffix (base, ".py"))
    base[strlen (base) - 3] = '\0';
  Script s = { 0 };
  s.doc = doc;
  s.graph = grd_document_graph (doc);
  s.data_name = g_strdup_printf ("%s.data", base);
  s.data_dir = g_build_filename (dir, s.data_name, NULL);
  s.out = g_string_new (NULL);
  s.defs = g_string_new (NULL);
  s.py_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  s.used = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  s.grad_of = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  gboolean ok = TRUE;
  if (g_mkdir_with_parents (s.data_dir, 0755) != 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_IO, "could not make the folder %s", s.data_dir);
    ok = FALSE;
  }
  ok = ok && emit_script (&s, fn, out_path, error);
  ok = ok && g_file_set_contents (out_path, s.out->str, s.out->len, error);
  g_string_free (s.out, TRUE);
  g_string_free (s.defs, TRUE);
  g_hash_table_unref (s.py_names);
  g_hash_table_unref (s.used);
  g_hash_table_unref (s.grad_of);
  g_free (s.data_dir);
  g_free (s.data_name);
  return ok;
}
