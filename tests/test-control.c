/* test-control.c: lazy ifelse (the untaken branch is not computed, on the
 * compiled and the reference executor), its gradient against finite
 * differences; jacobian, hessian, Rop and Lop against closed forms computed
 * here in plain C. */
#include "grad-check.h"
#include "grd-internal.h"

#include <math.h>
#include <string.h>

/* then = take(x, [idx]) fails when idx is out of range; else = 2 x[0] */
static void
test_ifelse_lazy (void)
{
  for (gint passes = 0; passes < 2; passes++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GrdGraph) g = grd_graph_new ();
    gint64 s3[] = { 3 }, s1[] = { 1 };
    GrdRef c = grd_graph_variable (g, "c", GRD_DTYPE_BOOL, 0, NULL, &error);
    GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 1, s3, &error);
    GrdRef idx = grd_graph_variable (g, "idx", GRD_DTYPE_INT64, 1, s1, &error);
    GrdRef then = grd_op2 (g, "take", x, idx, &error);
    GrdAttrs sl;
    grd_attrs_init (&sl);
    sl.n_slice = 1;
    sl.begin[0] = 0;
    sl.end[0] = 1;
    GrdRef first = grd_graph_op (g, NULL, "slice", &x, 1, &sl, &error);
    GrdRef els = grd_op2 (g, "mul", first, grd_scalar (g, GRD_DTYPE_FLOAT64, 2, &error), &error);
    GrdRef in3[] = { c, then, els };
    GrdRef r = grd_graph_op (g, "choice", "ifelse", in3, 3, NULL, &error);
    g_assert_no_error (error);
    GrdRef ins[] = { c, x, idx };
    g_autoptr (GrdFunction) f = grd_function_new_with_passes (g, ins, 3, &r, 1, NULL, 0,
                                                               passes ? 0x7f : 0, &error);
    g_assert_no_error (error);
    double xv[] = { 1.5, 2, 3 }, iv[] = { 100 };
    g_autoptr (GrdTensor) x_v = grd_test_tensor (GRD_DTYPE_FLOAT64, 1, s3, xv);
    g_autoptr (GrdTensor) i_v = grd_test_tensor (GRD_DTYPE_INT64, 1, s1, iv);
    g_autoptr (GrdTensor) no = grd_tensor_new_scalar (GRD_DTYPE_BOOL, 0);
    g_autoptr (GrdTensor) yes = grd_tensor_new_scalar (GRD_DTYPE_BOOL, 1);
    GrdTensor *args[] = { no, x_v, i_v };
    g_autoptr (GrdTensor) out = NULL;
    g_assert_true (grd_function_call (f, args, &out, &error));
    g_assert_no_error (error);
    double want[] = { 3 };
    grd_test_assert_tensor (out, GRD_DTYPE_FLOAT64, 1, s1, want, 0, 0);
    /* taken, the same branch does fail: it was really left out above */
    args[0] = yes;
    GrdTensor *bad = NULL;
    g_assert_false (grd_function_call (f, args, &bad, &error));
    g_assert_nonnull (error);
    g_assert_nonnull (strstr (error->message, "choice"));
  }
}

/* ifelse(c, sin(x) * w, w * w + x): d/dx, d/dw of the taken branch */
static GrdRef
build_ifelse (GrdGraph *g, const GrdRef *v, gpointer data, GError **error)
{
  GrdRef c = grd_scalar (g, GRD_DTYPE_BOOL, GPOINTER_TO_INT (data), error);
  GrdRef a = grd_op2 (g, "mul", grd_op1 (g, "sin", v[0], error), v[1], error);
  GrdRef b = grd_op2 (g, "add", grd_op2 (g, "mul", v[1], v[1], error), v[0], error);
  GrdRef in[] = { c, a, b };
  return grd_graph_op (g, NULL, "ifelse", in, 3, NULL, error);
}

static void
test_ifelse_grad (void)
{
  gint64 s[] = { 3 };
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 1, s, -1, 1, 1);
  g_autoptr (GrdTensor) w = grd_test_random (GRD_DTYPE_FLOAT64, 1, s, -1, 1, 2);
  GrdTensor *in[] = { x, w };
  grd_test_verify_grad_build (build_ifelse, GINT_TO_POINTER (1), in, 2, 3);
  grd_test_verify_grad_build (build_ifelse, GINT_TO_POINTER (0), in, 2, 4);
}

/* ------------------------------------------------------------ jacobian and friends */

typedef struct {
  GrdGraph *g;
  GrdRef    W, x, f;
  GrdTensor *Wv, *xv;
  double    fv[3];
} Tanh;

/* f = tanh(W x), W [3, 4], x [4] */
static void
tanh_init (Tanh *t)
{
  g_autoptr (GError) error = NULL;
  gint64 sw[] = { 3, 4 }, sx[] = { 4 };
  t->g = grd_graph_new ();
  t->W = grd_graph_variable (t->g, "W", GRD_DTYPE_FLOAT64, 2, sw, &error);
  t->x = grd_graph_variable (t->g, "x", GRD_DTYPE_FLOAT64, 1, sx, &error);
  t->f = grd_op1 (t->g, "tanh", grd_op2 (t->g, "dot", t->W, t->x, &error), &error);
  g_assert_no_error (error);
  t->Wv = grd_test_random (GRD_DTYPE_FLOAT64, 2, sw, -1, 1, 21);
  t->xv = grd_test_random (GRD_DTYPE_FLOAT64, 1, sx, -1, 1, 22);
  for (gint i = 0; i < 3; i++) {
    double z = 0;
    for (gint j = 0; j < 4; j++)
      z += grd_tensor_get (t->Wv, i * 4 + j) * grd_tensor_get (t->xv, j);
    t->fv[i] = tanh (z);
  }
}

static void
tanh_clear (Tanh *t)
{
  grd_graph_unref (t->g);
  grd_tensor_unref (t->Wv);
  grd_tensor_unref (t->xv);
}

static GrdTensor *
tanh_eval (Tanh *t, GrdRef out, const GrdRef *more, GrdTensor *const *more_v, gint n_more)
{
  g_autoptr (GError) error = NULL;
  GrdRef in[4] = { t->W, t->x };
  GrdTensor *args[4] = { t->Wv, t->xv };
  for (gint i = 0; i < n_more; i++)
    in[2 + i] = more[i], args[2 + i] = more_v[i];
  g_autoptr (GrdFunction) f = grd_function_new (t->g, in, 2 + n_more, &out, 1, NULL, 0, &error);
  g_assert_no_error (error);
  GrdTensor *r = NULL;
  g_assert_true (grd_function_call (f, args, &r, &error));
  g_assert_no_error (error);
  return r;
}

static void
test_jacobian (void)
{
  Tanh t;
  tanh_init (&t);
  g_autoptr (GError) error = NULL;
  GrdRef wrt[] = { t.x, t.W }, jac[2];
  grd_graph_jacobian (t.g, "J", t.f, wrt, 2, jac, &error);
  g_assert_no_error (error);
  const GrdType *tj = grd_graph_ref_type (t.g, jac[1]);
  g_assert_cmpint (tj->rank, ==, 3);
  g_autoptr (GrdTensor) jx = tanh_eval (&t, jac[0], NULL, NULL, 0);
  g_autoptr (GrdTensor) jw = tanh_eval (&t, jac[1], NULL, NULL, 0);
  double wx[12], ww[36];
  for (gint i = 0; i < 3; i++)
    for (gint j = 0; j < 4; j++)
      wx[i * 4 + j] = (1 - t.fv[i] * t.fv[i]) * grd_tensor_get (t.Wv, i * 4 + j);
  for (gint i = 0; i < 3; i++)
    for (gint a = 0; a < 3; a++)
      for (gint k = 0; k < 4; k++)
        ww[(i * 3 + a) * 4 + k] = i == a ? (1 - t.fv[i] * t.fv[i]) * grd_tensor_get (t.xv, k) : 0;
  grd_test_assert_tensor (jx, GRD_DTYPE_FLOAT64, 2, (gint64[]) { 3, 4 }, wx, 1e-12, 1e-14);
  grd_test_assert_tensor (jw, GRD_DTYPE_FLOAT64, 3, (gint64[]) { 3, 3, 4 }, ww, 1e-12, 1e-14);
  tanh_clear (&t);
}

static void
test_hessian (void)
{
  /* cost = sum(tanh(W x)): H_x[j, k] = sum_i -2 f_i (1 - f_i^2) W_ij W_ik */
  Tanh t;
  tanh_init (&t);
  g_autoptr (GError) error = NULL;
  GrdRef cost = grd_op1 (t.g, "sum", t.f, &error);
  GrdRef wrt[] = { t.x }, h;
  grd_graph_hessian (t.g, "H", cost, wrt, 1, &h, &error);
  g_assert_no_error (error);
  g_autoptr (GrdTensor) hx = tanh_eval (&t, h, NULL, NULL, 0);
  double want[16] = { 0 };
  for (gint i = 0; i < 3; i++)
    for (gint j = 0; j < 4; j++)
      for (gint k = 0; k < 4; k++)
        want[j * 4 + k] += -2 * t.fv[i] * (1 - t.fv[i] * t.fv[i])
                           * grd_tensor_get (t.Wv, i * 4 + j) * grd_tensor_get (t.Wv, i * 4 + k);
  grd_test_assert_tensor (hx, GRD_DTYPE_FLOAT64, 2, (gint64[]) { 4, 4 }, want, 1e-12, 1e-14);
  tanh_clear (&t);
}

static void
test_rop_lop (void)
{
  Tanh t;
  tanh_init (&t);
  g_autoptr (GError) error = NULL;
  gint64 sw[] = { 3, 4 }, sx[] = { 4 }, sf[] = { 3 };
  GrdRef V = grd_graph_variable (t.g, "V", GRD_DTYPE_FLOAT64, 2, sw, &error);
  GrdRef v = grd_graph_variable (t.g, "v", GRD_DTYPE_FLOAT64, 1, sx, &error);
  GrdRef u = grd_graph_variable (t.g, "u", GRD_DTYPE_FLOAT64, 1, sf, &error);
  GrdRef wrt[] = { t.W, t.x }, pts[] = { V, v }, rop, lop[2];
  grd_graph_rop (t.g, "R", t.f, wrt, 2, pts, &rop, &error);
  grd_graph_lop (t.g, "L", t.f, wrt, 2, u, lop, &error);
  g_assert_no_error (error);
  g_autoptr (GrdTensor) Vv = grd_test_random (GRD_DTYPE_FLOAT64, 2, sw, -1, 1, 31);
  g_autoptr (GrdTensor) vv = grd_test_random (GRD_DTYPE_FLOAT64, 1, sx, -1, 1, 32);
  g_autoptr (GrdTensor) uv = grd_test_random (GRD_DTYPE_FLOAT64, 1, sf, -1, 1, 33);
  GrdRef more[] = { V, v };
  GrdTensor *more_v[] = { Vv, vv };
  g_autoptr (GrdTensor) r = tanh_eval (&t, rop, more, more_v, 2);
  g_autoptr (GrdTensor) lw = tanh_eval (&t, lop[0], &u, &uv, 1);
  g_autoptr (GrdTensor) lx = tanh_eval (&t, lop[1], &u, &uv, 1);
  double wr[3], wlw[12], wlx[4] = { 0 };
  for (gint i = 0; i < 3; i++) {
    double d = 1 - t.fv[i] * t.fv[i], z = 0;
    for (gint j = 0; j < 4; j++)
      z += grd_tensor_get (Vv, i * 4 + j) * grd_tensor_get (t.xv, j)
           + grd_tensor_get (t.Wv, i * 4 + j) * grd_tensor_get (vv, j);
    wr[i] = d * z;
    for (gint j = 0; j < 4; j++) {
      wlw[i * 4 + j] = d * grd_tensor_get (uv, i) * grd_tensor_get (t.xv, j);
      wlx[j] += d * grd_tensor_get (uv, i) * grd_tensor_get (t.Wv, i * 4 + j);
    }
  }
  grd_test_assert_tensor (r, GRD_DTYPE_FLOAT64, 1, sf, wr, 1e-12, 1e-14);
  grd_test_assert_tensor (lw, GRD_DTYPE_FLOAT64, 2, sw, wlw, 1e-12, 1e-14);
  grd_test_assert_tensor (lx, GRD_DTYPE_FLOAT64, 1, sx, wlx, 1e-12, 1e-14);
  tanh_clear (&t);
}

/* the jacobian is itself differentiable (its rows are a scan): check the
 * gradient of a projection of J(tanh(W x), x) against finite differences */
static GrdRef
build_jac (GrdGraph *g, const GrdRef *v, gpointer data, GError **error)
{
  GrdRef f = grd_op1 (g, "tanh", grd_op2 (g, "dot", v[0], v[1], error), error);
  GrdRef j;
  grd_graph_jacobian (g, NULL, f, &v[1], 1, &j, error);
  return j;
}

static void
test_jacobian_grad (void)
{
  gint64 sw[] = { 3, 4 }, sx[] = { 4 };
  g_autoptr (GrdTensor) w = grd_test_random (GRD_DTYPE_FLOAT64, 2, sw, -1, 1, 41);
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 1, sx, -1, 1, 42);
  GrdTensor *in[] = { w, x };
  grd_test_verify_grad_build (build_jac, NULL, in, 2, 43);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/control/ifelse-lazy", test_ifelse_lazy);
  g_test_add_func ("/control/ifelse-grad", test_ifelse_grad);
  g_test_add_func ("/derivatives/jacobian", test_jacobian);
  g_test_add_func ("/derivatives/hessian", test_hessian);
  g_test_add_func ("/derivatives/rop-lop", test_rop_lop);
  g_test_add_func ("/derivatives/jacobian-grad", test_jacobian_grad);
  return g_test_run ();
}
