/* test-ui-quick-add.c: nodes made from one typed line (gradus-quick-add.h):
 * named, valued, fed and wired at once, one undo step each, and nothing at
 * all changed by a line with a mistake in it. No display needed. */
#include "gradus-quick-add.h"

#include <math.h>
#include <string.h>

static char *
add (GradusDocModel *m, const char *line, const char *selected)
{
  g_autoptr (GError) error = NULL;
  char *id = gradus_quick_add_run (m, line, selected, 100, 100, &error);
  g_assert_no_error (error);
  g_assert_nonnull (id);
  return id;
}

static const char *
input (GradusDocModel *m, const char *id, gint slot)
{
  return gradus_doc_model_node_slot_ref (m, id, slot);
}

/* The model's text, to show that a refused line changed nothing. */
static char *
text (GradusDocModel *m)
{
  gsize n;
  return gradus_doc_model_to_data (m, &n);
}

static void
test_lines (void)
{
  g_assert_false (gradus_quick_add_is_line ("mul"));
  g_assert_false (gradus_quick_add_is_line ("  mul "));
  g_assert_true (gradus_quick_add_is_line ("mul a"));
  g_assert_true (gradus_quick_add_is_line ("y=add"));
  g_autofree char *w1 = gradus_quick_add_dup_word ("y = add a b");
  g_assert_cmpstr (w1, ==, "add");
  g_autofree char *w2 = gradus_quick_add_dup_word ("y =");
  g_assert_null (w2);
}

static void
test_build (void)
{
  g_autoptr (GradusDocModel) m = gradus_doc_model_new ();
  /* A variable: an input of the function, its value the feed. */
  g_autofree char *x = add (m, "x = variable 1.5", NULL);
  g_assert_cmpstr (x, ==, "x");
  g_assert_true (gradus_doc_model_in_function (m, "inputs", "x"));
  g_assert_cmpfloat (json_node_get_double (gradus_doc_model_get_feed (m, "x")), ==, 1.5);
  /* One undo step takes all of it back. */
  g_assert_true (gradus_doc_model_undo (m));
  g_assert_cmpuint (gradus_doc_model_n_nodes (m), ==, 0);
  g_assert_false (gradus_doc_model_in_function (m, "inputs", "x"));
  g_assert_null (gradus_doc_model_get_feed (m, "x"));
  g_assert_false (gradus_doc_model_can_undo (m));
  g_assert_true (gradus_doc_model_redo (m));
  g_assert_true (gradus_doc_model_in_function (m, "inputs", "x"));

  g_autofree char *w = add (m, "w = shared [1, 2]", NULL);
  JsonObject *wo = gradus_doc_model_get_node (m, "w");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (wo, "value")), ==, 2);
  g_assert_null (gradus_doc_model_node_error (m, "w"));
  /* A variable fed a matrix takes its shape. */
  g_autofree char *v = add (m, "v = variable [[1, 2, 3], [4, 5, 6]]", NULL);
  JsonArray *vs = json_object_get_array_member (gradus_doc_model_get_node (m, "v"), "shape");
  g_assert_cmpuint (json_array_get_length (vs), ==, 2);
  g_assert_cmpint (json_array_get_int_element (vs, 0), ==, 2);
  g_assert_cmpint (json_array_get_int_element (vs, 1), ==, 3);
  g_assert_null (gradus_doc_model_node_error (m, "v"));

  /* An op with no name: inputs by id, and a literal made a constant. */
  g_autofree char *mul = add (m, "mul x 3", NULL);
  g_assert_cmpstr (input (m, mul, 0), ==, "x");
  const char *c = input (m, mul, 1);
  g_assert_nonnull (c);
  JsonObject *co = gradus_doc_model_get_node (m, c);
  g_assert_cmpstr (json_object_get_string_member (co, "kind"), ==, "constant");
  g_assert_cmpfloat (json_object_get_double_member (co, "value"), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (co, "name"), ==, "3");
  /* Undone as one: the op and its constant. */
  guint before = gradus_doc_model_n_nodes (m);
  g_assert_true (gradus_doc_model_undo (m));
  g_assert_cmpuint (gradus_doc_model_n_nodes (m), ==, before - 2);
  g_assert_true (gradus_doc_model_redo (m));

  /* A name that is not an id is the node's name; inputs found by name too. */
  g_autofree char *z = add (m, "3x = neg", mul);
  g_assert_cmpstr (json_object_get_string_member (gradus_doc_model_get_node (m, z), "name"), ==, "3x");
  g_assert_cmpstr (input (m, z, 0), ==, mul);   /* the selection, wired in */
  g_autofree char *q = add (m, "q = mul 3x x", NULL);
  g_assert_cmpstr (input (m, "q", 0), ==, z);
  g_autofree char *big = add (m, "one and a half = constant 1.5", NULL);
  g_assert_cmpstr (json_object_get_string_member (gradus_doc_model_get_node (m, big), "name"), ==, "one and a half");
  g_autofree char *y = add (m, "y = add mul x", NULL);
  g_assert_cmpstr (input (m, "y", 0), ==, mul);
  g_assert_cmpstr (input (m, "y", 1), ==, "x");
  /* Placed one column right of its inputs, on no other node. */
  double yx, yy, mx, my;
  g_assert_true (gradus_doc_model_get_position (m, "y", &yx, &yy));
  g_assert_true (gradus_doc_model_get_position (m, mul, &mx, &my));
  g_assert_cmpfloat (yx, >=, mx + 200);
  for (guint i = 0; i < gradus_doc_model_n_nodes (m); i++) {
    const char *other = json_object_get_string_member (gradus_doc_model_node_at (m, i), "id");
    double ox, oy;
    if (g_strcmp0 (other, "y") != 0 && gradus_doc_model_get_position (m, other, &ox, &oy))
      g_assert_false (fabs (ox - yx) < 200 && fabs (oy - yy) < 100);
  }

  /* A grad node: the cost, then what it differentiates by. */
  g_autofree char *s = add (m, "s = sum y", NULL);
  g_autofree char *g = add (m, "g = grad s x", NULL);
  JsonObject *go = gradus_doc_model_get_node (m, "g");
  g_assert_cmpstr (json_object_get_string_member (go, "cost"), ==, "s");
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (go, "wrt"), 0), ==, "x");
  g_autofree char *gx = add (m, "gx = neg g:0", NULL);
  g_assert_cmpstr (input (m, "gx", 0), ==, "g:0");
  g_assert_null (gradus_doc_model_node_error (m, "gx"));
}

static void
assert_refused (GradusDocModel *m, const char *line, const char *part)
{
  g_autofree char *was = text (m);
  const char *undo_was = gradus_doc_model_undo_label (m);
  g_autofree char *undo_copy = g_strdup (undo_was);
  g_autoptr (GError) error = NULL;
  g_autofree char *id = gradus_quick_add_run (m, line, NULL, 0, 0, &error);
  g_assert_null (id);
  g_assert_nonnull (error);
  g_test_message ("%s: %s", line, error->message);
  g_assert_nonnull (strstr (error->message, part));
  g_autofree char *now = text (m);
  g_assert_cmpstr (now, ==, was);
  g_assert_cmpstr (gradus_doc_model_undo_label (m), ==, undo_copy);
  g_assert_false (gradus_doc_model_can_redo (m));
}

static void
test_refused (void)
{
  g_autoptr (GradusDocModel) m = gradus_doc_model_new ();
  g_autofree char *x = add (m, "x = variable", NULL);
  assert_refused (m, "y = add x nosuch", "nosuch");
  assert_refused (m, "y = frobnicate x", "frobnicate");
  assert_refused (m, "x = constant 2", "already");
  assert_refused (m, "c = constant [1,", "not a value");
  assert_refused (m, " = add x x", "name");
  assert_refused (m, "   ", "type a node");
  /* A wire the engine refuses: conv2d of scalars. */
  assert_refused (m, "p = conv2d x x", "conv2d");
  g_assert_cmpuint (gradus_doc_model_n_nodes (m), ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ui/quick-add/lines", test_lines);
  g_test_add_func ("/ui/quick-add/build", test_build);
  g_test_add_func ("/ui/quick-add/refused", test_refused);
  return g_test_run ();
}
