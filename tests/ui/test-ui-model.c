/* test-ui-model.c: the editor's document model without a window: typed edits,
 * refusals with reasons, undo and redo, copy and paste, layout, files. */
#include "gradus-doc-model.h"
#include "gradus-scene.h"
#include "gradus-render.h"
#include "gradus-ui-private.h"

#include <glib/gstdio.h>

static JsonNode *
parse (const char *text)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_assert_true (json_parser_load_from_data (p, text, -1, NULL));
  return json_node_copy (json_parser_get_root (p));
}

static JsonObject *
node (GradusDocModel *m, const char *id)
{
  JsonObject *o = gradus_doc_model_get_node (m, id);
  g_assert_nonnull (o);
  return o;
}

/* x (float64 scalar) * a (shared) -> mul; all through the typed edits. */
static GradusDocModel *
small_graph (void)
{
  GradusDocModel *m = gradus_doc_model_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *x = gradus_doc_model_add_node (m, "variable", NULL, 0, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (x, ==, "x");
  g_autofree char *a = gradus_doc_model_add_node (m, "shared", NULL, 0, 100, &error);
  g_assert_cmpstr (a, ==, "w");
  g_autofree char *mul = gradus_doc_model_add_node (m, "op", "mul", 200, 0, &error);
  g_assert_cmpstr (mul, ==, "mul");
  /* Both float64 by default (as in the primer): the wires type-check. */
  gboolean ok = gradus_doc_model_connect (m, "mul", 0, "x", &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  ok = gradus_doc_model_connect (m, "mul", 1, "w", &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  return m;
}

static void
test_add_connect (void)
{
  g_autoptr (GradusDocModel) m = small_graph ();
  g_assert_cmpuint (gradus_doc_model_n_nodes (m), ==, 3);
  g_assert_null (gradus_doc_model_node_error (m, "mul"));
  JsonArray *in = json_object_get_array_member (node (m, "mul"), "inputs");
  g_assert_cmpuint (json_array_get_length (in), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (in, 0), ==, "x");
  g_assert_cmpstr (json_array_get_string_element (in, 1), ==, "w");
  /* The engine inferred the op's type from its inputs. */
  GrdGraph *g = grd_document_graph (gradus_doc_model_get_document (m));
  gint i = grd_graph_find (g, "mul");
  g_assert_cmpint (i, >=, 0);
  g_autofree char *t = grd_type_describe (grd_graph_node_type (g, i, 0));
  g_assert_cmpstr (t, ==, "float64[]");
  double x, y;
  g_assert_true (gradus_doc_model_get_position (m, "mul", &x, &y));
  g_assert_cmpfloat (x, ==, 200);
  g_assert_true (gradus_doc_model_get_modified (m));
}

static void
test_missing_input_is_an_error (void)
{
  g_autoptr (GradusDocModel) m = gradus_doc_model_new ();
  g_autofree char *id = gradus_doc_model_add_node (m, "op", "add", 0, 0, NULL);
  const char *err = gradus_doc_model_node_error (m, id);
  g_assert_nonnull (err);
  g_assert_nonnull (strstr (err, "not connected"));
  /* An unfinished node does not stop the rest from building. */
  g_assert_nonnull (gradus_doc_model_get_document (m));
}

static void
test_refuse_cycle (void)
{
  g_autoptr (GradusDocModel) m = small_graph ();
  g_autofree char *neg = gradus_doc_model_add_node (m, "op", "neg", 300, 0, NULL);
  g_assert_true (gradus_doc_model_connect (m, "neg", 0, "mul", NULL));
  g_autofree char *before = gradus_doc_model_to_data (m, NULL);
  g_autoptr (GError) error = NULL;
  /* mul <- neg <- mul would be a cycle. */
  g_assert_false (gradus_doc_model_connect (m, "mul", 0, "neg", &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "cycle"));
  g_clear_error (&error);
  g_assert_false (gradus_doc_model_connect (m, "neg", 0, "neg", &error));
  g_assert_nonnull (strstr (error->message, "cycle"));
  g_autofree char *after = gradus_doc_model_to_data (m, NULL);
  g_assert_cmpstr (before, ==, after);
}

static void
test_refuse_type_error (void)
{
  g_autoptr (GradusDocModel) m = gradus_doc_model_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *a = gradus_doc_model_add_node (m, "variable", NULL, 0, 0, NULL);
  g_autofree char *b = gradus_doc_model_add_node (m, "variable", NULL, 0, 100, NULL);
  g_assert_true (gradus_doc_model_set_member (m, a, "shape", parse ("[3]"), NULL));
  g_assert_true (gradus_doc_model_set_member (m, b, "shape", parse ("[4]"), NULL));
  g_autofree char *add = gradus_doc_model_add_node (m, "op", "add", 200, 0, NULL);
  g_assert_true (gradus_doc_model_connect (m, add, 0, a, &error));
  g_assert_no_error (error);
  guint n_undo_label = 0;
  const char *label = gradus_doc_model_undo_label (m);
  g_assert_nonnull (label);
  n_undo_label = strlen (label);
  /* [3] + [4] do not broadcast: the engine's reason comes back. */
  g_assert_false (gradus_doc_model_connect (m, add, 1, b, &error));
  g_assert_error (error, GRD_ERROR, GRD_ERROR_TYPE);
  g_assert_nonnull (strstr (error->message, "cannot connect"));
  g_assert_nonnull (strstr (error->message, add));
  /* Nothing changed, no command was recorded. */
  g_assert_null (gradus_doc_model_node_slot_ref (m, add, 1));
  g_assert_cmpuint (strlen (gradus_doc_model_undo_label (m)), ==, n_undo_label);
  g_assert_nonnull (strstr (gradus_doc_model_undo_label (m), "Connect"));
}

static void
test_undo_redo (void)
{
  g_autoptr (GradusDocModel) m = gradus_doc_model_new ();
  g_autofree char *empty = gradus_doc_model_to_data (m, NULL);
  g_assert_false (gradus_doc_model_can_undo (m));
  g_autofree char *x = gradus_doc_model_add_node (m, "variable", NULL, 10, 10, NULL);
  g_autofree char *one = gradus_doc_model_to_data (m, NULL);
  const char *ids[] = { x, NULL };
  gradus_doc_model_move_nodes (m, ids, 5, 7);
  double px, py;
  g_assert_true (gradus_doc_model_get_position (m, x, &px, &py));
  g_assert_cmpfloat (px, ==, 15);
  g_assert_cmpfloat (py, ==, 17);
  g_assert_true (gradus_doc_model_undo (m));
  g_autofree char *undone = gradus_doc_model_to_data (m, NULL);
  g_assert_cmpstr (undone, ==, one);
  g_assert_true (gradus_doc_model_undo (m));
  g_autofree char *undone2 = gradus_doc_model_to_data (m, NULL);
  g_assert_cmpstr (undone2, ==, empty);
  g_assert_false (gradus_doc_model_get_modified (m));
  g_assert_false (gradus_doc_model_undo (m));
  g_assert_true (gradus_doc_model_can_redo (m));
  g_assert_true (gradus_doc_model_redo (m));
  g_assert_true (gradus_doc_model_redo (m));
  g_assert_true (gradus_doc_model_get_position (m, x, &px, &py));
  g_assert_cmpfloat (px, ==, 15);
  g_assert_false (gradus_doc_model_can_redo (m));
  /* A new edit clears the redo stack. */
  g_assert_true (gradus_doc_model_undo (m));
  g_autofree char *c = gradus_doc_model_add_node (m, "constant", NULL, 0, 0, NULL);
  g_assert_false (gradus_doc_model_can_redo (m));
}

static void
test_remove_clears_references (void)
{
  g_autoptr (GradusDocModel) m = small_graph ();
  const char *ids[] = { "x", NULL };
  g_assert_true (gradus_doc_model_remove_nodes (m, ids));
  g_assert_null (gradus_doc_model_get_node (m, "x"));
  g_assert_null (gradus_doc_model_node_slot_ref (m, "mul", 0));
  g_assert_cmpstr (gradus_doc_model_node_slot_ref (m, "mul", 1), ==, "w");
  g_assert_nonnull (gradus_doc_model_node_error (m, "mul"));
  g_assert_true (gradus_doc_model_undo (m));
  g_assert_cmpstr (gradus_doc_model_node_slot_ref (m, "mul", 0), ==, "x");
  g_assert_null (gradus_doc_model_node_error (m, "mul"));
}

static void
test_rename (void)
{
  g_autoptr (GradusDocModel) m = small_graph ();
  g_autoptr (GError) error = NULL;
  g_assert_false (gradus_doc_model_rename_node (m, "x", "w", &error));
  g_clear_error (&error);
  g_assert_false (gradus_doc_model_rename_node (m, "x", "9bad", &error));
  g_clear_error (&error);
  g_assert_true (gradus_doc_model_rename_node (m, "x", "input", &error));
  g_assert_cmpstr (gradus_doc_model_node_slot_ref (m, "mul", 0), ==, "input");
  double px, py;
  g_assert_true (gradus_doc_model_get_position (m, "input", &px, &py));
  g_assert_null (gradus_doc_model_node_error (m, "mul"));
}

static void
test_copy_paste (void)
{
  g_autoptr (GradusDocModel) m = small_graph ();
  const char *ids[] = { "x", "mul", NULL };
  g_autofree char *text = gradus_doc_model_copy_nodes (m, ids);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) added = gradus_doc_model_paste (m, text, 30, 30, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (added), ==, 2);
  g_assert_cmpstr (added[0], ==, "x1");
  g_assert_cmpstr (added[1], ==, "mul1");
  /* The wire inside the copied set follows the copy; the one from outside
   * it ("w") still points at the original in the same graph. */
  g_assert_cmpstr (gradus_doc_model_node_slot_ref (m, "mul1", 0), ==, "x1");
  g_assert_cmpstr (gradus_doc_model_node_slot_ref (m, "mul1", 1), ==, "w");
  double x0, y0, x1, y1;
  g_assert_true (gradus_doc_model_get_position (m, "mul", &x0, &y0));
  g_assert_true (gradus_doc_model_get_position (m, "mul1", &x1, &y1));
  g_assert_cmpfloat (x1 - x0, ==, 30);
  g_assert_cmpfloat (y1 - y0, ==, 30);

  /* Into another graph: references to nodes it lacks become empty ports. */
  g_autoptr (GradusDocModel) other = gradus_doc_model_new ();
  g_auto (GStrv) added2 = gradus_doc_model_paste (other, text, 0, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (gradus_doc_model_node_slot_ref (other, "mul", 0), ==, "x");
  g_assert_null (gradus_doc_model_node_slot_ref (other, "mul", 1));
  g_assert_false (gradus_doc_model_paste (other, "not json", 0, 0, &error) != NULL);
  g_assert_nonnull (error);
}

static void
test_roundtrip_unknown_keys (void)
{
  const char *text =
    "{\"format\": \"gradus-graph\", \"version\": 1, \"x-tool\": {\"keep\": [1, 2]},"
    " \"nodes\": ["
    "  {\"id\": \"x\", \"kind\": \"variable\", \"dtype\": \"float64\", \"shape\": [null], \"note\": \"hi\"},"
    "  {\"id\": \"s\", \"kind\": \"op\", \"op\": \"sum\", \"inputs\": [\"x\"], \"colour\": 3}],"
    " \"function\": {\"inputs\": [\"x\"], \"outputs\": [\"s\"], \"extra\": true},"
    " \"ui\": {\"comments\": [\"a note\"], \"nodes\": {\"x\": {\"x\": 1, \"y\": 2, \"pinned\": true}}}}";
  g_autoptr (GradusDocModel) m = gradus_doc_model_new ();
  g_autoptr (GError) error = NULL;
  g_assert_true (gradus_doc_model_load_data (m, text, -1, NULL, &error));
  g_assert_null (gradus_doc_model_node_error (m, "s"));
  /* Edits and their undo keep every key the editor does not know. */
  const char *ids[] = { "x", NULL };
  gradus_doc_model_move_nodes (m, ids, 10, 0);
  g_assert_true (gradus_doc_model_set_member (m, "s", "attrs.axis", parse ("0"), NULL));
  g_autofree char *path = g_build_filename (g_get_tmp_dir (), "gradus-ui-model-roundtrip.gradus", NULL);
  g_assert_true (gradus_doc_model_save (m, path, &error));
  g_assert_false (gradus_doc_model_get_modified (m));

  g_autoptr (GradusDocModel) back = gradus_doc_model_new ();
  g_assert_true (gradus_doc_model_load_file (back, path, &error));
  JsonObject *r = json_node_get_object (gradus_doc_model_get_root (back));
  g_assert_true (json_object_has_member (r, "x-tool"));
  g_assert_cmpstr (json_object_get_string_member (node (back, "x"), "note"), ==, "hi");
  g_assert_cmpint (json_object_get_int_member (node (back, "s"), "colour"), ==, 3);
  g_assert_true (json_object_get_boolean_member (json_object_get_object_member (r, "function"), "extra"));
  JsonObject *ui = json_object_get_object_member (r, "ui");
  g_assert_true (json_object_has_member (ui, "comments"));
  JsonObject *px = json_object_get_object_member (json_object_get_object_member (ui, "nodes"), "x");
  g_assert_true (json_object_get_boolean_member (px, "pinned"));
  g_assert_cmpfloat (json_object_get_double_member (px, "x"), ==, 11);
  /* Undoing both edits gives back exactly the file we read. */
  g_assert_true (gradus_doc_model_undo (m));
  g_assert_true (gradus_doc_model_undo (m));
  g_autoptr (JsonNode) original = parse (text);
  g_assert_true (json_node_equal (original, gradus_doc_model_get_root (m)));
  g_unlink (path);
}

static void
test_refuse_newer_version (void)
{
  g_autoptr (GradusDocModel) m = gradus_doc_model_new ();
  g_autoptr (GError) error = NULL;
  g_assert_false (gradus_doc_model_load_data (m, "{\"format\": \"gradus-graph\", \"version\": 7, \"nodes\": []}",
                                              -1, "new.gradus", &error));
  g_assert_nonnull (strstr (error->message, "7"));
  g_assert_nonnull (strstr (error->message, "1"));
  g_clear_error (&error);
  g_assert_false (gradus_doc_model_load_data (m, "{\"nodes\": [", -1, "broken.gradus", &error));
  g_assert_nonnull (error);
}

static void
test_auto_layout (void)
{
  g_autoptr (GradusDocModel) m = small_graph ();
  gradus_doc_model_auto_layout (m);
  double xx, xy, mx, my, wx, wy;
  g_assert_true (gradus_doc_model_get_position (m, "x", &xx, &xy));
  g_assert_true (gradus_doc_model_get_position (m, "w", &wx, &wy));
  g_assert_true (gradus_doc_model_get_position (m, "mul", &mx, &my));
  /* Layers from left to right: sources first, the op one layer on. */
  g_assert_cmpfloat (xx, ==, wx);
  g_assert_cmpfloat (mx, >, xx + 100);
  g_assert_cmpfloat (xy, !=, wy);
  g_assert_true (gradus_doc_model_can_undo (m));
}

static const char *
example_path (void)
{
  static char *path;
  if (!path) {
    const char *src = g_getenv ("GRADUS_SOURCE_DIR");
    g_assert_nonnull (src);
    path = g_build_filename (src, "data", "examples", "primer-3-linear-regression.gradus", NULL);
    if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
      g_free (path);
      path = g_build_filename (src, "tests", "ui", "data", "primer-3-linreg.gradus", NULL);
    }
  }
  return path;
}

static void
test_scene_gradient (void)
{
  g_autoptr (GradusDocModel) m = gradus_doc_model_new ();
  g_autoptr (GError) error = NULL;
  g_assert_true (gradus_doc_model_load_file (m, example_path (), &error));
  g_autoptr (GradusScene) plain = gradus_scene_new (m, NULL, NULL);
  g_assert_cmpuint (plain->nodes->len, ==, gradus_doc_model_n_nodes (m));
  g_assert_cmpuint (plain->groups->len, ==, 0);
  g_autoptr (GHashTable) expanded = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_add (expanded, (gpointer) "g");
  g_autoptr (GradusScene) scene = gradus_scene_new (m, expanded, NULL);
  g_assert_cmpuint (scene->groups->len, ==, 1);
  /* Nodes whose owner is the grad node, less the identities the display
   * removes (ui/gradient), read-only, beside the forward graph. */
  GrdGraph *graph = grd_document_graph (gradus_doc_model_get_document (m));
  gint gi = grd_graph_find (graph, "g"), owned = 0;
  for (gint i = 0; i < grd_graph_n_nodes (graph); i++)
    owned += grd_graph_node_owner (graph, i) == gi;
  g_assert_cmpint (owned, >, 0);
  g_assert_cmpuint (scene->nodes->len, >, plain->nodes->len);
  g_assert_cmpuint (scene->nodes->len, <, plain->nodes->len + owned);
  double bx, by, bw, bh;
  g_assert_true (gradus_scene_bounds (plain, &bx, &by, &bw, &bh));
  for (guint i = plain->nodes->len; i < scene->nodes->len; i++) {
    GradusSceneNode *n = scene->nodes->pdata[i];
    g_assert_true (n->readonly);
    g_assert_cmpint (n->group, ==, 0);
    /* Beside the forward graph: below it when it is wide, right of it when tall. */
    if (bw > bh)
      g_assert_cmpfloat (n->y, >=, by + bh);
    else
      g_assert_cmpfloat (n->x, >=, bx + bw);
  }
}

static void
test_scene_hit (void)
{
  g_autoptr (GradusDocModel) m = small_graph ();
  g_autoptr (GHashTable) sel = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_add (sel, (gpointer) "mul");
  g_autoptr (GradusScene) scene = gradus_scene_new (m, NULL, sel);
  gint mul = gradus_scene_find (scene, "mul");
  g_assert_cmpint (mul, >=, 0);
  GradusSceneNode *n = scene->nodes->pdata[mul];
  g_assert_true (n->selected);
  g_assert_cmpuint (n->in_labels->len, ==, 2);
  g_assert_cmpuint (n->out_labels->len, ==, 1);
  /* Port labels carry dtype and shape. */
  g_assert_nonnull (strstr (n->out_labels->pdata[0], "float64[]"));
  double px, py;
  gboolean output;
  gint port;
  gradus_scene_port_pos (scene, mul, FALSE, 1, &px, &py);
  g_assert_cmpfloat (px, ==, n->x);
  g_assert_cmpint (gradus_scene_hit_port (scene, px + 2, py - 2, &output, &port), ==, mul);
  g_assert_false (output);
  g_assert_cmpint (port, ==, 1);
  gradus_scene_port_pos (scene, mul, TRUE, 0, &px, &py);
  g_assert_cmpfloat (px, ==, n->x + n->w);
  g_assert_cmpint (gradus_scene_hit_port (scene, px, py, &output, &port), ==, mul);
  g_assert_true (output);
  g_assert_cmpint (gradus_scene_hit_node (scene, n->x + n->w / 2, n->y + 5), ==, mul);
  g_assert_cmpint (gradus_scene_hit_node (scene, n->x - 500, n->y), ==, -1);
  /* Two wires, x and w into mul. */
  g_assert_cmpuint (scene->edges->len, ==, 2);
}

/* The function drawn: inputs and outputs marked, each update linked from the
 * node that computes it to its shared variable, values on the nodes. */
static void
test_scene_function (void)
{
  g_autoptr (GradusDocModel) m = gradus_doc_model_new ();
  g_autofree char *path = g_build_filename (g_getenv ("GRADUS_SOURCE_DIR"), "data", "examples",
                                            "primer-3-linear-regression.gradus", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (gradus_doc_model_load_file (m, path, &error));
  g_autoptr (GradusScene) scene = gradus_scene_new (m, NULL, NULL);
  GradusSceneNode *x = scene->nodes->pdata[gradus_scene_find (scene, "x")];
  GradusSceneNode *mse = scene->nodes->pdata[gradus_scene_find (scene, "mse")];
  GradusSceneNode *a = scene->nodes->pdata[gradus_scene_find (scene, "a")];
  GradusSceneNode *ax = scene->nodes->pdata[gradus_scene_find (scene, "ax")];
  g_assert_true (x->fn_input && !x->fn_output);
  g_assert_true (mse->fn_output && !mse->fn_input);
  g_assert_false (ax->fn_input || ax->fn_output);
  g_assert_cmpint (a->update_from, ==, gradus_scene_find (scene, "a_next"));
  g_assert_cmpint (ax->update_from, ==, -1);
  g_assert_cmpstr (a->subtitle, ==, "shared = -1");
  /* And the drawing of it runs (marks, arrows) at both levels of detail. */
  cairo_surface_t *surf = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 200, 200);
  cairo_t *cr = cairo_create (surf);
  GradusRenderOptions o = { .zoom = 1 };
  gradus_render_scene (cr, scene, &o);
  o.zoom = 0.3;
  gradus_render_scene (cr, scene, &o);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  cairo_surface_destroy (surf);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ui/model/add-connect", test_add_connect);
  g_test_add_func ("/ui/model/missing-input", test_missing_input_is_an_error);
  g_test_add_func ("/ui/model/refuse-cycle", test_refuse_cycle);
  g_test_add_func ("/ui/model/refuse-type-error", test_refuse_type_error);
  g_test_add_func ("/ui/model/undo-redo", test_undo_redo);
  g_test_add_func ("/ui/model/remove", test_remove_clears_references);
  g_test_add_func ("/ui/model/rename", test_rename);
  g_test_add_func ("/ui/model/copy-paste", test_copy_paste);
  g_test_add_func ("/ui/model/roundtrip-unknown-keys", test_roundtrip_unknown_keys);
  g_test_add_func ("/ui/model/refuse-newer-version", test_refuse_newer_version);
  g_test_add_func ("/ui/model/auto-layout", test_auto_layout);
  g_test_add_func ("/ui/model/scene-gradient", test_scene_gradient);
  g_test_add_func ("/ui/model/scene-hit", test_scene_hit);
  g_test_add_func ("/ui/model/scene-function", test_scene_function);
  return g_test_run ();
}
