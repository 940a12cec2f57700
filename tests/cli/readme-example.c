/* The Theano primer's listing 3, linear regression, with the Gradus C API. */
#include <gradus.h>
#include <stdio.h>

int
main (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdGraph) g = grd_graph_new ();

  /* x = T.scalar(); t = T.scalar(); a = theano.shared(-1.0); b = theano.shared(0.0) */
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 0, NULL, &error);
  GrdRef t = grd_graph_variable (g, "t", GRD_DTYPE_FLOAT64, 0, NULL, &error);
  g_autoptr (GrdTensor) a0 = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, -1.0);
  g_autoptr (GrdTensor) b0 = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 0.0);
  GrdRef a = grd_graph_shared (g, "a", a0, &error);
  GrdRef b = grd_graph_shared (g, "b", b0, &error);

  /* y = a * x + b; mse = (y - t) ** 2 */
  GrdRef y = grd_op2 (g, "add", grd_op2 (g, "mul", a, x, &error), b, &error);
  GrdRef two = grd_scalar (g, GRD_DTYPE_FLOAT64, 2.0, &error);
  GrdRef mse = grd_op2 (g, "pow", grd_op2 (g, "sub", y, t, &error), two, &error);

  /* ga, gb = T.grad(mse, [a, b]) */
  GrdRef wrt[2] = { a, b }, grads[2];
  grd_graph_grad (g, "g", mse, wrt, 2, NULL, 0, grads, &error);
  if (error) {  /* a failed call makes the later ones fail too: check once */
    fprintf (stderr, "%s\n", error->message);
    return 1;
  }

  /* train = theano.function([x, t], mse, updates=[(a, a - 0.01 * ga), (b, b - 0.01 * gb)]) */
  GrdRef lr = grd_scalar (g, GRD_DTYPE_FLOAT64, 0.01, &error);
  GrdUpdate updates[2] = {
    { a, grd_op2 (g, "sub", a, grd_op2 (g, "mul", lr, grads[0], &error), &error) },
    { b, grd_op2 (g, "sub", b, grd_op2 (g, "mul", lr, grads[1], &error), &error) },
  };
  GrdRef inputs[2] = { x, t };
  g_autoptr (GrdFunction) train = grd_function_new (g, inputs, 2, &mse, 1, updates, 2, &error);
  if (!train) {
    fprintf (stderr, "%s\n", error->message);
    return 1;
  }

  /* for i in range(10): print(train(1.0, 5.0)) */
  g_autoptr (GrdTensor) x1 = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 1.0);
  g_autoptr (GrdTensor) t5 = grd_tensor_new_scalar (GRD_DTYPE_FLOAT64, 5.0);
  GrdTensor *feed[2] = { x1, t5 };
  for (int i = 0; i < 10; i++) {
    g_autoptr (GrdTensor) out = NULL;
    if (!grd_function_call (train, feed, &out, &error)) {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
    printf ("mse %.17g\n", grd_tensor_get (out, 0));
  }
  printf ("a %.17g\nb %.17g\n", grd_tensor_get (grd_graph_get_value (g, a), 0),
          grd_tensor_get (grd_graph_get_value (g, b), 0));
  return 0;
}
