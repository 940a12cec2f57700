/* test-shape.c: transpose, reshape, dimshuffle, flatten, concatenate, stack,
 * slice and take: values against naive loops or NumPy's results, static types
 * with unknown dims, gradients (verify_grad, and grad of grad), and errors
 * that name the node. */
#include "grad-check.h"
#include "grd-internal.h"

#include <math.h>
#include <string.h>

static GrdTensor *
arange (GrdDType dtype, gint rank, const gint64 *shape)
{
  GrdTensor *t = grd_tensor_new (dtype, rank, shape);
  for (gint64 i = 0; i < t->size; i++)
    grd_tensor_set (t, i, (double) i);
  return t;
}

static GrdTensor *
ints (GrdDType dtype, gint rank, const gint64 *shape, const double *v)
{
  return grd_test_tensor (dtype, rank, shape, v);
}

static GrdTensor *
eval1 (const char *op, const GrdAttrs *attrs, GrdTensor *x)
{
  return grd_test_eval_op (op, attrs, &x, 1);
}

/* Runs the op on variables whose dims are all unknown; gives the static type too. */
static GrdTensor *
eval_unknown (const char *op, const GrdAttrs *attrs, GrdTensor *const *inputs, gint n,
              GrdType *type, GError **error)
{
  g_autoptr (GrdGraph) g = grd_graph_new ();
  GrdRef vars[8];
  for (gint i = 0; i < n; i++)
    vars[i] = grd_graph_variable (g, NULL, inputs[i]->dtype, inputs[i]->rank, NULL, error);
  GrdRef out = grd_graph_op (g, "node_u", op, vars, n, attrs, error);
  if (grd_ref_is_none (out))
    return NULL;
  if (type)
    *type = *grd_graph_ref_type (g, out);
  g_autoptr (GrdFunction) fn = grd_function_new (g, vars, n, &out, 1, NULL, 0, error);
  GrdTensor *r = NULL;
  if (!fn || !grd_function_call (fn, inputs, &r, error))
    return NULL;
  return r;
}


/* ------------------------------------------------------------ transpose */

static void
test_transpose (void)
{
  gint64 s[] = { 2, 3, 4 };
  g_autoptr (GrdTensor) x = arange (GRD_DTYPE_INT32, 3, s);
  struct { gint n; gint perm[3]; gint want[3]; } cases[] = {
    { 3, { 2, 0, 1 }, { 2, 0, 1 } },
    { 3, { -1, 0, -2 }, { 2, 0, 1 } },
    { 3, { 1, 2, 0 }, { 1, 2, 0 } },
    { 0, { 0 }, { 2, 1, 0 } },  /* absent: reversed */
  };
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++) {
    GrdAttrs a;
    grd_attrs_init (&a);
    a.n_perm = cases[c].n;
    memcpy (a.perm, cases[c].perm, sizeof a.perm[0] * 3);
    g_autoptr (GrdTensor) y = eval1 ("transpose", &a, x);
    const gint *p = cases[c].want;
    gint64 shape[3] = { s[p[0]], s[p[1]], s[p[2]] };
    double want[24];
    gint64 i[3];
    /* y[i0,i1,i2] = x[j] with j[p[k]] = i[k] */
    for (i[0] = 0; i[0] < shape[0]; i[0]++)
      for (i[1] = 0; i[1] < shape[1]; i[1]++)
        for (i[2] = 0; i[2] < shape[2]; i[2]++) {
          gint64 j[3];
          for (gint k = 0; k < 3; k++)
            j[p[k]] = i[k];
          want[(i[0] * shape[1] + i[1]) * shape[2] + i[2]] = (j[0] * 3 + j[1]) * 4 + j[2];
        }
    grd_test_assert_tensor (y, GRD_DTYPE_INT32, 3, shape, want, 0, 0);
  }
  /* a perm that is not one */
  GrdAttrs bad;
  grd_attrs_init (&bad);
  bad.n_perm = 3;
  bad.perm[0] = 0, bad.perm[1] = 0, bad.perm[2] = 1;
  g_autoptr (GError) error = NULL;
  g_assert_null (grd_test_try_op ("transpose", &bad, &x, 1, &error));
  grd_test_assert_error_names (error, GRD_ERROR_SHAPE, "under_test", "perm");
}

/* Shapes big enough for the tiled copy (ragged tiles, stacked planes, 8-,
 * 4- and 1-byte elements), against a naive index computation. */
static void
test_transpose_large (void)
{
  struct { gint rank; gint64 shape[4]; gint perm[4]; GrdDType dt; } cases[] = {
    { 2, { 40, 33 }, { 1, 0 }, GRD_DTYPE_FLOAT64 },
    { 3, { 3, 9, 70 }, { 0, 2, 1 }, GRD_DTYPE_FLOAT32 },
    { 4, { 2, 3, 17, 12 }, { 0, 1, 3, 2 }, GRD_DTYPE_BOOL },
    { 4, { 2, 3, 17, 12 }, { 1, 0, 3, 2 }, GRD_DTYPE_INT64 },
  };
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++) {
    gint rank = cases[c].rank;
    const gint *p = cases[c].perm;
    g_autoptr (GrdTensor) x = grd_test_random (cases[c].dt, rank, cases[c].shape, -100, 100, c);
    GrdAttrs a;
    grd_attrs_init (&a);
    a.n_perm = rank;
    memcpy (a.perm, p, sizeof (gint) * rank);
    g_autoptr (GrdTensor) y = eval1 ("transpose", &a, x);
    gint64 oshape[4], xstride[4], s = 1;
    for (gint d = rank - 1; d >= 0; d--) {
      xstride[d] = s;
      s *= cases[c].shape[d];
    }
    for (gint d = 0; d < rank; d++)
      oshape[d] = cases[c].shape[p[d]];
    g_autofree double *want = g_new (double, x->size);
    for (gint64 i = 0; i < x->size; i++) {
      /* output coordinates of i, then the input element they name */
      gint64 rem = i, src = 0;
      for (gint d = rank - 1; d >= 0; d--) {
        src += (rem % oshape[d]) * xstride[p[d]];
        rem /= oshape[d];
      }
      want[i] = grd_tensor_get (x, src);
    }
    grd_test_assert_tensor (y, cases[c].dt, rank, oshape, want, 0, 0);
  }
}

/* ------------------------------------------------------------ reshape, flatten */

static void
test_reshape (void)
{
  gint64 s[] = { 2, 3, 4 };
  g_autoptr (GrdTensor) x = arange (GRD_DTYPE_FLOAT32, 3, s);
  double want[24];
  for (gint i = 0; i < 24; i++)
    want[i] = i;
  struct { gint n; gint64 shape[3]; gint64 out[3]; } cases[] = {
    { 2, { 4, -1 }, { 4, 6 } },
    { 1, { -1 }, { 24 } },
    { 3, { -1, 2, 3 }, { 4, 2, 3 } },
    { 2, { 3, 8 }, { 3, 8 } },
  };
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++) {
    GrdAttrs a;
    grd_attrs_init (&a);
    a.n_shape = cases[c].n;
    memcpy (a.shape, cases[c].shape, sizeof (gint64) * 3);
    g_autoptr (GrdTensor) y = eval1 ("reshape", &a, x);
    grd_test_assert_tensor (y, GRD_DTYPE_FLOAT32, cases[c].n, cases[c].out, want, 0, 0);
  }
  /* unknown dims: the -1 entry stays unknown until the call */
  GrdAttrs a;
  grd_attrs_init (&a);
  a.n_shape = 2;
  a.shape[0] = -1, a.shape[1] = 2;
  GrdType t;
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdTensor) y = eval_unknown ("reshape", &a, &x, 1, &t, &error);
  g_assert_no_error (error);
  g_assert_cmpint (t.rank, ==, 2);
  g_assert_cmpint (t.dims[0], ==, GRD_DIM_UNKNOWN);
  g_assert_cmpint (t.dims[1], ==, 2);
  gint64 s12[] = { 12, 2 };
  grd_test_assert_tensor (y, GRD_DTYPE_FLOAT32, 2, s12, want, 0, 0);
}

static void
test_reshape_errors (void)
{
  /* 6 elements into [4,-1]: refused when the graph is built ... */
  gint64 s[] = { 2, 3 };
  g_autoptr (GrdTensor) x = arange (GRD_DTYPE_FLOAT64, 2, s);
  GrdAttrs a;
  grd_attrs_init (&a);
  a.n_shape = 2;
  a.shape[0] = 4, a.shape[1] = -1;
  g_autoptr (GError) error = NULL;
  g_assert_null (grd_test_try_op ("reshape", &a, &x, 1, &error));
  grd_test_assert_error_names (error, GRD_ERROR_SHAPE, "'under_test'", "6 elements");
  g_assert_nonnull (strstr (error->message, "[4,-1]"));
  g_clear_error (&error);
  /* ... and when the call shows it, with unknown dims */
  g_assert_null (eval_unknown ("reshape", &a, &x, 1, NULL, &error));
  grd_test_assert_error_names (error, GRD_ERROR_SHAPE, "'node_u'", "6 elements");
  g_clear_error (&error);
  /* two -1 */
  a.shape[0] = -1;
  g_assert_null (grd_test_try_op ("reshape", &a, &x, 1, &error));
  grd_test_assert_error_names (error, GRD_ERROR_SHAPE, "under_test", "-1");
  g_clear_error (&error);
  /* no -1, sizes differ, dims unknown: the call says so */
  a.shape[0] = 5, a.shape[1] = 1;
  g_assert_null (eval_unknown ("reshape", &a, &x, 1, NULL, &error));
  grd_test_assert_error_names (error, GRD_ERROR_SHAPE, "node_u", "[5,1]");
}

static void
test_flatten (void)
{
  gint64 s[] = { 2, 3, 4 };
  g_autoptr (GrdTensor) x = arange (GRD_DTYPE_INT64, 3, s);
  double want[24];
  for (gint i = 0; i < 24; i++)
    want[i] = i;
  struct { gint ndim, rank; gint64 out[3]; } cases[] = {
    { 1, 1, { 24 } }, { 2, 2, { 2, 12 } }, { 3, 3, { 2, 3, 4 } },
  };
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++) {
    GrdAttrs a;
    grd_attrs_init (&a);
    a.ndim = cases[c].ndim;
    g_autoptr (GrdTensor) y = eval1 ("flatten", &a, x);
    grd_test_assert_tensor (y, GRD_DTYPE_INT64, cases[c].rank, cases[c].out, want, 0, 0);
    /* unknown dims: the folded axis is unknown, the kept ones too */
    GrdType t;
    g_autoptr (GError) error = NULL;
    g_autoptr (GrdTensor) yu = eval_unknown ("flatten", &a, &x, 1, &t, &error);
    g_assert_no_error (error);
    g_assert_cmpint (t.rank, ==, cases[c].rank);
    grd_test_assert_tensor (yu, GRD_DTYPE_INT64, cases[c].rank, cases[c].out, want, 0, 0);
  }
  /* default ndim 1; a 0-d input gives [1] */
  g_autoptr (GrdTensor) sc = grd_tensor_new_scalar (GRD_DTYPE_FLOAT32, 7);
  g_autoptr (GrdTensor) f = eval1 ("flatten", NULL, sc);
  gint64 one[] = { 1 };
  double seven[] = { 7 };
  grd_test_assert_tensor (f, GRD_DTYPE_FLOAT32, 1, one, seven, 0, 0);
  GrdAttrs a;
  grd_attrs_init (&a);
  a.ndim = 4;
  g_autoptr (GError) error = NULL;
  g_assert_null (grd_test_try_op ("flatten", &a, &x, 1, &error));
  grd_test_assert_error_names (error, GRD_ERROR_SHAPE, "under_test", "ndim");
}

/* ------------------------------------------------------------ dimshuffle */

static GrdAttrs
pattern (gint n, const gint *p)
{
  GrdAttrs a;
  grd_attrs_init (&a);
  a.n_pattern = n;
  memcpy (a.pattern, p, sizeof (gint) * n);
  return a;
}

static void
test_dimshuffle (void)
{
  /* x[3,1,2] with ('x', 2, 0): drops the broadcastable axis 1 */
  gint64 s[] = { 3, 1, 2 };
  g_autoptr (GrdTensor) x = arange (GRD_DTYPE_FLOAT64, 3, s);
  gint p1[] = { -1, 2, 0 };
  GrdAttrs a = pattern (3, p1);
  g_autoptr (GrdTensor) y = eval1 ("dimshuffle", &a, x);
  gint64 ys[] = { 1, 2, 3 };
  double want[6];
  for (gint j = 0; j < 2; j++)
    for (gint i = 0; i < 3; i++)
      want[j * 3 + i] = i * 2 + j;  /* y[0,j,i] = x[i,0,j] */
  grd_test_assert_tensor (y, GRD_DTYPE_FLOAT64, 3, ys, want, 0, 0);

  /* (0, 'x', 1) on [2,3]: a new axis in the middle; ('x','x') on a 0-d value */
  gint64 s23[] = { 2, 3 };
  g_autoptr (GrdTensor) m = arange (GRD_DTYPE_INT32, 2, s23);
  gint p2[] = { 0, -1, 1 };
  GrdAttrs a2 = pattern (3, p2);
  g_autoptr (GrdTensor) y2 = eval1 ("dimshuffle", &a2, m);
  gint64 s213[] = { 2, 1, 3 };
  double w2[] = { 0, 1, 2, 3, 4, 5 };
  grd_test_assert_tensor (y2, GRD_DTYPE_INT32, 3, s213, w2, 0, 0);
  gint p3[] = { 1, 0 };
  GrdAttrs a3 = pattern (2, p3);
  g_autoptr (GrdTensor) y3 = eval1 ("dimshuffle", &a3, m);
  gint64 s32[] = { 3, 2 };
  double w3[] = { 0, 3, 1, 4, 2, 5 };
  grd_test_assert_tensor (y3, GRD_DTYPE_INT32, 2, s32, w3, 0, 0);
  g_autoptr (GrdTensor) sc = grd_tensor_new_scalar (GRD_DTYPE_FLOAT32, 2.5);
  gint p4[] = { -1, -1 };
  GrdAttrs a4 = pattern (2, p4);
  g_autoptr (GrdTensor) y4 = eval1 ("dimshuffle", &a4, sc);
  gint64 s11[] = { 1, 1 };
  double w4[] = { 2.5 };
  grd_test_assert_tensor (y4, GRD_DTYPE_FLOAT32, 2, s11, w4, 0, 0);

  /* unknown dims pass through; "x" axes are known to be 1 */
  GrdType t;
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdTensor) yu = eval_unknown ("dimshuffle", &a2, &m, 1, &t, &error);
  g_assert_no_error (error);
  g_assert_cmpint (t.dims[0], ==, GRD_DIM_UNKNOWN);
  g_assert_cmpint (t.dims[1], ==, 1);
  grd_test_assert_tensor (yu, GRD_DTYPE_INT32, 3, s213, w2, 0, 0);
}

static void
test_dimshuffle_errors (void)
{
  /* dropping axis 0 of size 2 is a type error naming the node */
  gint64 s[] = { 2, 3 };
  g_autoptr (GrdTensor) m = arange (GRD_DTYPE_FLOAT32, 2, s);
  gint p[] = { 1 };
  GrdAttrs a = pattern (1, p);
  g_autoptr (GError) error = NULL;
  g_assert_null (grd_test_try_op ("dimshuffle", &a, &m, 1, &error));
  grd_test_assert_error_names (error, GRD_ERROR_TYPE, "'under_test'", "axis 0");
  g_clear_error (&error);
  /* so is dropping an axis of unknown size */
  g_assert_null (eval_unknown ("dimshuffle", &a, &m, 1, NULL, &error));
  grd_test_assert_error_names (error, GRD_ERROR_TYPE, "'node_u'", "broadcastable");
  g_clear_error (&error);
  /* an axis used twice, an axis out of range */
  gint p2[] = { 0, 0 }, p3[] = { 0, 1, 2 };
  GrdAttrs a2 = pattern (2, p2), a3 = pattern (3, p3);
  g_assert_null (grd_test_try_op ("dimshuffle", &a2, &m, 1, &error));
  grd_test_assert_error_names (error, GRD_ERROR_SHAPE, "under_test", "pattern");
  g_clear_error (&error);
  g_assert_null (grd_test_try_op ("dimshuffle", &a3, &m, 1, &error));
  grd_test_assert_error_names (error, GRD_ERROR_SHAPE, "under_test", "pattern");
}

/* ------------------------------------------------------------ concatenate, stack */

static void
test_concatenate (void)
{
  /* three inputs of mixed dtypes: numpy.result_type(int32, float32, bool) is float64 */
  gint64 s1[] = { 2, 1 }, s2[] = { 2, 2 }, s3[] = { 2, 3 };
  double v1[] = { 1, 2 }, v2[] = { 0.5, 1.5, 2.5, 3.5 }, v3[] = { 1, 0, 1, 0, 0, 1 };
  g_autoptr (GrdTensor) a = grd_test_tensor (GRD_DTYPE_INT32, 2, s1, v1);
  g_autoptr (GrdTensor) b = grd_test_tensor (GRD_DTYPE_FLOAT32, 2, s2, v2);
  g_autoptr (GrdTensor) c = grd_test_tensor (GRD_DTYPE_BOOL, 2, s3, v3);
  GrdTensor *in[] = { a, b, c };
  GrdAttrs ax = grd_attrs_axis (1, FALSE);
  g_autoptr (GrdTensor) y = grd_test_eval_op ("concatenate", &ax, in, 3);
  gint64 s26[] = { 2, 6 };
  double want[] = { 1, 0.5, 1.5, 1, 0, 1, 2, 2.5, 3.5, 0, 0, 1 };
  grd_test_assert_tensor (y, GRD_DTYPE_FLOAT64, 2, s26, want, 0, 0);
  GrdAttrs axn = grd_attrs_axis (-1, FALSE);
  g_autoptr (GrdTensor) yn = grd_test_eval_op ("concatenate", &axn, in, 3);
  grd_test_assert_tensor (yn, GRD_DTYPE_FLOAT64, 2, s26, want, 0, 0);
  /* default axis 0 */
  GrdTensor *in0[] = { b, b };
  g_autoptr (GrdTensor) y0 = grd_test_eval_op ("concatenate", NULL, in0, 2);
  gint64 s42[] = { 4, 2 };
  double w0[] = { 0.5, 1.5, 2.5, 3.5, 0.5, 1.5, 2.5, 3.5 };
  grd_test_assert_tensor (y0, GRD_DTYPE_FLOAT32, 2, s42, w0, 0, 0);
  /* one input */
  g_autoptr (GrdTensor) y1 = grd_test_eval_op ("concatenate", NULL, in0, 1);
  grd_test_assert_tensor (y1, GRD_DTYPE_FLOAT32, 2, s2, v2, 0, 0);
  /* unknown dims: the sum along the axis is known only at the call */
  GrdType t;
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdTensor) yu = eval_unknown ("concatenate", &ax, in, 3, &t, &error);
  g_assert_no_error (error);
  g_assert_cmpint (t.dtype, ==, GRD_DTYPE_FLOAT64);
  g_assert_cmpint (t.dims[1], ==, GRD_DIM_UNKNOWN);
  grd_test_assert_tensor (yu, GRD_DTYPE_FLOAT64, 2, s26, want, 0, 0);
  /* shapes that do not fit: at build time, and at the call */
  g_assert_null (grd_test_try_op ("concatenate", NULL, in, 3, &error));
  grd_test_assert_error_names (error, GRD_ERROR_SHAPE, "under_test", "axis 1");
  g_clear_error (&error);
  g_assert_null (eval_unknown ("concatenate", NULL, in, 3, NULL, &error));
  grd_test_assert_error_names (error, GRD_ERROR_SHAPE, "node_u", NULL);
}

static void
test_stack (void)
{
  gint64 s[] = { 2, 3 };
  g_autoptr (GrdTensor) a = arange (GRD_DTYPE_FLOAT32, 2, s);
  g_autoptr (GrdTensor) b = grd_test_random (GRD_DTYPE_INT32, 2, s, -5, 5, 3);
  GrdTensor *in[] = { a, b };
  /* at the last axis (2 and -1), the middle (1) and the front (default, -3) */
  gint axes[] = { 2, -1, 1, -2, 0, -3 };
  for (gsize k = 0; k < G_N_ELEMENTS (axes); k++) {
    GrdAttrs ax = grd_attrs_axis (axes[k], FALSE);
    g_autoptr (GrdTensor) y = grd_test_eval_op ("stack", &ax, in, 2);
    gint n = axes[k] < 0 ? axes[k] + 3 : axes[k];
    gint64 shape[3];
    for (gint d = 0, j = 0; d < 3; d++)
      shape[d] = d == n ? 2 : s[j++];
    double want[12];
    gint64 i[3];
    for (i[0] = 0; i[0] < shape[0]; i[0]++)
      for (i[1] = 0; i[1] < shape[1]; i[1]++)
        for (i[2] = 0; i[2] < shape[2]; i[2]++) {
          gint64 r[2], which = i[n];
          for (gint d = 0, j = 0; d < 3; d++)
            if (d != n)
              r[j++] = i[d];
          want[(i[0] * shape[1] + i[1]) * shape[2] + i[2]] =
              grd_tensor_get (in[which], r[0] * 3 + r[1]);
        }
    /* int32 with float32 promotes to float64 */
    grd_test_assert_tensor (y, GRD_DTYPE_FLOAT64, 3, shape, want, 0, 0);
  }
  g_autoptr (GrdTensor) y0 = grd_test_eval_op ("stack", NULL, in, 2);
  g_assert_cmpint (y0->shape[0], ==, 2);
  GrdAttrs bad = grd_attrs_axis (3, FALSE);
  g_autoptr (GError) error = NULL;
  g_assert_null (grd_test_try_op ("stack", &bad, in, 2, &error));
  grd_test_assert_error_names (error, GRD_ERROR_SHAPE, "under_test", "axis 3");
  g_clear_error (&error);
  gint64 s32[] = { 3, 2 };
  g_autoptr (GrdTensor) c = arange (GRD_DTYPE_FLOAT32, 2, s32);
  GrdTensor *in2[] = { a, c };
  g_assert_null (grd_test_try_op ("stack", NULL, in2, 2, &error));
  grd_test_assert_error_names (error, GRD_ERROR_SHAPE, "under_test", NULL);
  g_clear_error (&error);
  g_assert_null (eval_unknown ("stack", NULL, in2, 2, NULL, &error));
  grd_test_assert_error_names (error, GRD_ERROR_SHAPE, "node_u", NULL);
}

/* ------------------------------------------------------------ slice */

#define NONE GRD_SLICE_NONE

/* x = arange(20).reshape(5, 4); want = x[b0:e0:s0, b1:e1:s1] from NumPy. */
static const struct {
  gint64 bes[6];
  gint64 shape[2];
  double want[20];
} slice_cases[] = {
  { { NONE, NONE, -1, NONE, NONE, NONE }, { 5, 4 }, { 16, 17, 18, 19, 12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3 } },
  { { -2, 0, -1, 1, NONE, NONE }, { 3, 3 }, { 13, 14, 15, 9, 10, 11, 5, 6, 7 } },
  { { 10, -10, -2, NONE, NONE, 3 }, { 3, 2 }, { 16, 19, 8, 11, 0, 3 } },
  { { 1, 100, NONE, -3, -1, NONE }, { 4, 2 }, { 5, 6, 9, 10, 13, 14, 17, 18 } },
  { { 4, 1, NONE, NONE, NONE, NONE }, { 0, 4 }, { 0 } },
  { { -100, 100, 2, 3, NONE, -2 }, { 3, 2 }, { 3, 1, 11, 9, 19, 17 } },
  { { NONE, -6, -1, NONE, NONE, NONE }, { 5, 4 }, { 16, 17, 18, 19, 12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3 } },
  { { 3, NONE, -2, -1, -5, -1 }, { 2, 4 }, { 15, 14, 13, 12, 7, 6, 5, 4 } },
};

static GrdAttrs
slice_attrs (gint n, const gint64 *bes)
{
  GrdAttrs a;
  grd_attrs_init (&a);
  a.n_slice = n;
  for (gint d = 0; d < n; d++) {
    a.begin[d] = bes[3 * d];
    a.end[d] = bes[3 * d + 1];
    a.step[d] = bes[3 * d + 2];
  }
  return a;
}

static void
test_slice (void)
{
  gint64 s[] = { 5, 4 };
  g_autoptr (GrdTensor) x = arange (GRD_DTYPE_FLOAT64, 2, s);
  g_autoptr (GrdTensor) xi = arange (GRD_DTYPE_INT64, 2, s);
  for (gsize c = 0; c < G_N_ELEMENTS (slice_cases); c++) {
    GrdAttrs a = slice_attrs (2, slice_cases[c].bes);
    g_autoptr (GrdTensor) y = eval1 ("slice", &a, x);
    grd_test_assert_tensor (y, GRD_DTYPE_FLOAT64, 2, slice_cases[c].shape, slice_cases[c].want, 0, 0);
    g_autoptr (GrdTensor) yi = eval1 ("slice", &a, xi);
    grd_test_assert_tensor (yi, GRD_DTYPE_INT64, 2, slice_cases[c].shape, slice_cases[c].want, 0, 0);
    /* with unknown dims the sliced axes are unknown until the call */
    GrdType t;
    g_autoptr (GError) error = NULL;
    g_autoptr (GrdTensor) yu = eval_unknown ("slice", &a, &x, 1, &t, &error);
    g_assert_no_error (error);
    g_assert_cmpint (t.dims[0], ==, GRD_DIM_UNKNOWN);
    grd_test_assert_tensor (yu, GRD_DTYPE_FLOAT64, 2, slice_cases[c].shape, slice_cases[c].want, 0, 0);
  }
  /* only the leading axis of a 3-d bool tensor: y[::-1] */
  gint64 s3[] = { 2, 3, 4 };
  g_autoptr (GrdTensor) b = grd_test_random (GRD_DTYPE_BOOL, 3, s3, 0, 2, 5);
  gint64 rev[] = { NONE, NONE, -1 };
  GrdAttrs a = slice_attrs (1, rev);
  g_autoptr (GrdTensor) yb = eval1 ("slice", &a, b);
  double want[24];
  for (gint i = 0; i < 24; i++)
    want[i] = grd_tensor_get (b, (i + 12) % 24);
  grd_test_assert_tensor (yb, GRD_DTYPE_BOOL, 3, s3, want, 0, 0);
  /* a slice's static dims are known when the input's are */
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  GrdRef v = grd_graph_variable (g, "v", GRD_DTYPE_FLOAT32, 2, s, &error);
  GrdAttrs a2 = slice_attrs (2, slice_cases[2].bes);
  GrdRef r = grd_graph_op (g, "sl", "slice", &v, 1, &a2, &error);
  g_assert_no_error (error);
  g_assert_cmpint (grd_graph_ref_type (g, r)->dims[0], ==, 3);
  g_assert_cmpint (grd_graph_ref_type (g, r)->dims[1], ==, 2);
  /* step 0 is an error, as are more sliced axes than the input has */
  gint64 zero[] = { 0, 3, 0 };
  GrdAttrs az = slice_attrs (1, zero);
  g_assert_true (grd_ref_is_none (grd_graph_op (g, "bad", "slice", &v, 1, &az, &error)));
  grd_test_assert_error_names (error, GRD_ERROR_SHAPE, "'bad'", "step");
  g_clear_error (&error);
  GrdAttrs a3 = slice_attrs (3, slice_cases[0].bes);
  g_assert_true (grd_ref_is_none (grd_graph_op (g, "bad", "slice", &v, 1, &a3, &error)));
  grd_test_assert_error_names (error, GRD_ERROR_SHAPE, "'bad'", NULL);
}

/* ------------------------------------------------------------ take */

static void
test_take (void)
{
  gint64 s[] = { 4, 3 };
  g_autoptr (GrdTensor) x = arange (GRD_DTYPE_FLOAT32, 2, s);
  /* 2-d indices with negative and repeated entries, along axis 0 */
  gint64 is[] = { 2, 2 };
  double iv[] = { 0, -1, 2, 2 };
  g_autoptr (GrdTensor) idx = ints (GRD_DTYPE_INT64, 2, is, iv);
  GrdTensor *in[] = { x, idx };
  g_autoptr (GrdTensor) y = grd_test_eval_op ("take", NULL, in, 2);
  gint64 ys[] = { 2, 2, 3 };
  double want[12];
  for (gint k = 0; k < 4; k++) {
    gint64 row = (gint64) iv[k] < 0 ? (gint64) iv[k] + 4 : (gint64) iv[k];
    for (gint j = 0; j < 3; j++)
      want[k * 3 + j] = row * 3 + j;
  }
  grd_test_assert_tensor (y, GRD_DTYPE_FLOAT32, 3, ys, want, 0, 0);
  /* along axis 1 (and -1) with int32 indices */
  gint64 i2s[] = { 3 };
  double i2v[] = { -1, 0, 1 };
  g_autoptr (GrdTensor) idx2 = ints (GRD_DTYPE_INT32, 1, i2s, i2v);
  GrdTensor *in2[] = { x, idx2 };
  for (gint ax = 1; ax >= -1; ax -= 2) {
    GrdAttrs a = grd_attrs_axis (ax, FALSE);
    g_autoptr (GrdTensor) y2 = grd_test_eval_op ("take", &a, in2, 2);
    gint64 y2s[] = { 4, 3 };
    double w2[12];
    for (gint r = 0; r < 4; r++)
      for (gint k = 0; k < 3; k++)
        w2[r * 3 + k] = r * 3 + (i2v[k] < 0 ? i2v[k] + 3 : i2v[k]);
    grd_test_assert_tensor (y2, GRD_DTYPE_FLOAT32, 2, y2s, w2, 0, 0);
  }
  /* a 0-d index removes the axis */
  g_autoptr (GrdTensor) i0 = grd_tensor_new_scalar (GRD_DTYPE_INT64, -2);
  GrdTensor *in0[] = { x, i0 };
  g_autoptr (GrdTensor) y0 = grd_test_eval_op ("take", NULL, in0, 2);
  gint64 y0s[] = { 3 };
  double w0[] = { 6, 7, 8 };
  grd_test_assert_tensor (y0, GRD_DTYPE_FLOAT32, 1, y0s, w0, 0, 0);
  /* unknown dims */
  GrdType t;
  g_autoptr (GError) error = NULL;
  g_autoptr (GrdTensor) yu = eval_unknown ("take", NULL, in, 2, &t, &error);
  g_assert_no_error (error);
  g_assert_cmpint (t.rank, ==, 3);
  grd_test_assert_tensor (yu, GRD_DTYPE_FLOAT32, 3, ys, want, 0, 0);
}

static void
test_take_errors (void)
{
  gint64 s[] = { 4, 3 };
  g_autoptr (GrdTensor) x = arange (GRD_DTYPE_FLOAT32, 2, s);
  gint64 is[] = { 3 };
  double iv[] = { 1, 4, 0 };
  g_autoptr (GrdTensor) idx = ints (GRD_DTYPE_INT32, 1, is, iv);
  GrdTensor *in[] = { x, idx };
  g_autoptr (GError) error = NULL;
  /* at run time, naming the node and the index */
  g_assert_null (grd_test_try_op ("take", NULL, in, 2, &error));
  grd_test_assert_error_names (error, GRD_ERROR_VALUE, "'under_test'", "index 4");
  g_clear_error (&error);
  iv[1] = -5;
  g_autoptr (GrdTensor) idx2 = ints (GRD_DTYPE_INT64, 1, is, iv);
  GrdTensor *in2[] = { x, idx2 };
  g_assert_null (grd_test_try_op ("take", NULL, in2, 2, &error));
  grd_test_assert_error_names (error, GRD_ERROR_VALUE, "'under_test'", "index -5");
  g_clear_error (&error);
  /* float indices are a type error */
  GrdTensor *in3[] = { x, x };
  g_assert_null (grd_test_try_op ("take", NULL, in3, 2, &error));
  grd_test_assert_error_names (error, GRD_ERROR_TYPE, "under_test", "int");
}

/* ------------------------------------------------------------ gradients */

static void
test_grad_shape_ops (void)
{
  gint64 s[] = { 2, 3, 4 };
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 3, s, -1, 1, 11);
  GrdAttrs tp;
  grd_attrs_init (&tp);
  tp.n_perm = 3;
  tp.perm[0] = 1, tp.perm[1] = 2, tp.perm[2] = 0;
  grd_test_verify_grad ("transpose", &tp, &x, 1);
  grd_test_verify_grad ("transpose", NULL, &x, 1);
  GrdAttrs rs;
  grd_attrs_init (&rs);
  rs.n_shape = 2;
  rs.shape[0] = -1, rs.shape[1] = 6;
  grd_test_verify_grad ("reshape", &rs, &x, 1);
  GrdAttrs fl;
  grd_attrs_init (&fl);
  fl.ndim = 2;
  grd_test_verify_grad ("flatten", &fl, &x, 1);
  grd_test_verify_grad ("flatten", NULL, &x, 1);
  /* dimshuffle with a dropped axis and "x" axes */
  gint64 s1[] = { 3, 1, 2 };
  g_autoptr (GrdTensor) x1 = grd_test_random (GRD_DTYPE_FLOAT64, 3, s1, -1, 1, 12);
  gint p[] = { -1, 2, -1, 0 };
  GrdAttrs ds = pattern (4, p);
  grd_test_verify_grad ("dimshuffle", &ds, &x1, 1);
  gint64 rsx[] = { 3 };
  g_autoptr (GrdTensor) xs = grd_test_random (GRD_DTYPE_FLOAT32, 1, rsx, -1, 1, 13);
  gint p2[] = { 0, -1 };
  GrdAttrs ds2 = pattern (2, p2);
  grd_test_verify_grad ("dimshuffle", &ds2, &xs, 1);
}

static void
test_grad_concat_stack (void)
{
  gint64 s1[] = { 2, 1 }, s2[] = { 2, 2 }, s3[] = { 2, 3 };
  g_autoptr (GrdTensor) a = grd_test_random (GRD_DTYPE_FLOAT64, 2, s1, -1, 1, 21);
  g_autoptr (GrdTensor) b = grd_test_random (GRD_DTYPE_FLOAT32, 2, s2, -1, 1, 22);
  g_autoptr (GrdTensor) c = grd_test_random (GRD_DTYPE_INT32, 2, s3, -3, 3, 23);
  GrdTensor *in[] = { a, b, c, a };
  GrdAttrs ax = grd_attrs_axis (-1, FALSE);
  grd_test_verify_grad ("concatenate", &ax, in, 4);
  GrdTensor *in0[] = { b, b, a };
  GrdAttrs ax1 = grd_attrs_axis (1, FALSE);
  grd_test_verify_grad ("concatenate", &ax1, in0, 3);
  GrdTensor *sin[] = { b, b, b };
  for (gint k = -3; k <= 2; k++) {
    GrdAttrs sa = grd_attrs_axis (k, FALSE);
    grd_test_verify_grad ("stack", &sa, sin, 3);
  }
}

static void
test_grad_slice_take (void)
{
  gint64 s[] = { 5, 4 };
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 2, s, -1, 1, 31);
  for (gsize c = 0; c < G_N_ELEMENTS (slice_cases); c++) {
    GrdAttrs a = slice_attrs (2, slice_cases[c].bes);
    grd_test_verify_grad ("slice", &a, &x, 1);
  }
  /* take with repeated and negative indices, 2-d, both axes */
  gint64 is[] = { 2, 3 };
  double iv[] = { 1, 1, -1, 0, 1, -4 };
  g_autoptr (GrdTensor) idx = ints (GRD_DTYPE_INT64, 2, is, iv);
  GrdTensor *in[] = { x, idx };
  grd_test_verify_grad ("take", NULL, in, 2);
  GrdAttrs a1 = grd_attrs_axis (-1, FALSE);
  grd_test_verify_grad ("take", &a1, in, 2);
}

/* Gradients with every static dim unknown. */
static void
test_grad_unknown_dims (void)
{
  gint64 s[] = { 2, 3, 4 };
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 3, s, -1, 1, 41);
  GrdAttrs rs;
  grd_attrs_init (&rs);
  rs.n_shape = 2;
  rs.shape[0] = 4, rs.shape[1] = -1;
  grd_test_verify_grad_unknown_dims ("reshape", &rs, &x, 1);
  grd_test_verify_grad_unknown_dims ("flatten", NULL, &x, 1);
  grd_test_verify_grad_unknown_dims ("transpose", NULL, &x, 1);
  GrdAttrs ax = grd_attrs_axis (1, FALSE);
  GrdTensor *cin[] = { x, x, x };
  grd_test_verify_grad_unknown_dims ("concatenate", &ax, cin, 3);
  grd_test_verify_grad_unknown_dims ("stack", &ax, cin, 2);
  gint64 bes[] = { NONE, NONE, -1, 2, 0, -1 };
  GrdAttrs sl = slice_attrs (2, bes);
  grd_test_verify_grad_unknown_dims ("slice", &sl, &x, 1);
  gint64 is[] = { 4 };
  double iv[] = { 2, 0, 2, -1 };
  g_autoptr (GrdTensor) idx = ints (GRD_DTYPE_INT32, 1, is, iv);
  GrdTensor *tin[] = { x, idx };
  grd_test_verify_grad_unknown_dims ("take", &ax, tin, 2);
  gint p[] = { 2, -1, 0, 1 };
  GrdAttrs ds = pattern (4, p);
  grd_test_verify_grad_unknown_dims ("dimshuffle", &ds, &x, 1);
}

/* The dimshuffle rule when the incoming gradient's "x" axes are not known to
 * be 1 (it sums them first): called directly with such a gradient. */
static void
test_grad_dimshuffle_unknown_x (void)
{
  g_autoptr (GrdGraph) g = grd_graph_new ();
  g_autoptr (GError) error = NULL;
  gint64 s[] = { 3, 1, 2 };
  GrdRef x = grd_graph_variable (g, "x", GRD_DTYPE_FLOAT64, 3, s, &error);
  gint p[] = { -1, 2, 0 };
  GrdAttrs a = pattern (3, p);
  GrdRef y = grd_graph_op (g, "y", "dimshuffle", &x, 1, &a, &error);
  GrdRef gy = grd_graph_variable (g, "gy", GRD_DTYPE_FLOAT64, 3, NULL, &error);
  g_assert_no_error (error);
  gboolean needed[] = { TRUE };
  GrdRef gx = GRD_REF_NONE;
  const GrdOpDef *def = grd_op_lookup ("dimshuffle");
  g_assert_true (def->grad (g, grd_graph_node (g, y.node), &gy, needed, &gx, &error));
  g_assert_no_error (error);
  const GrdType *t = grd_graph_ref_type (g, gx);
  g_assert_cmpint (t->rank, ==, 3);
  g_assert_cmpint (t->dims[1], ==, 1);
  GrdRef in[] = { x, gy };
  g_autoptr (GrdFunction) fn = grd_function_new (g, in, 2, &gx, 1, NULL, 0, &error);
  g_assert_no_error (error);
  gint64 gs[] = { 1, 2, 3 };
  g_autoptr (GrdTensor) xv = grd_tensor_new (GRD_DTYPE_FLOAT64, 3, s);
  g_autoptr (GrdTensor) gv = arange (GRD_DTYPE_FLOAT64, 3, gs);
  GrdTensor *args[] = { xv, gv };
  g_autoptr (GrdTensor) r = NULL;
  g_assert_true (grd_function_call (fn, args, &r, &error));
  double want[6];
  for (gint i = 0; i < 3; i++)
    for (gint j = 0; j < 2; j++)
      want[i * 2 + j] = j * 3 + i;  /* gx[i,0,j] = gy[0,j,i] */
  grd_test_assert_tensor (r, GRD_DTYPE_FLOAT64, 3, s, want, 0, 0);
}

/* Second derivatives: the gradient of sum(P * slice(x)^3) is itself checked
 * with verify_grad, which differentiates it again. */
typedef struct {
  const char     *op;
  const GrdAttrs *attrs;
} GradOfGrad;

static GrdRef
build_grad_of_cube (GrdGraph *g, const GrdRef *vars, gpointer data, GError **error)
{
  GradOfGrad *gg = data;
  GrdRef y = grd_graph_op (g, NULL, gg->op, vars, 1, gg->attrs, error);
  GrdRef cost = grd_op1 (g, "sum", grd_op2 (g, "mul", grd_op2 (g, "mul", y, y, error), y, error),
                         error);
  GrdRef gx = GRD_REF_NONE;
  grd_graph_grad (g, NULL, cost, vars, 1, NULL, 0, &gx, error);
  return gx;
}

static void
test_grad_of_grad (void)
{
  gint64 s[] = { 5, 4 };
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 2, s, -1, 1, 51);
  GrdAttrs a = slice_attrs (2, slice_cases[1].bes);
  GradOfGrad gs = { "slice", &a };
  grd_test_verify_grad_build (build_grad_of_cube, &gs, &x, 1, 52);
  gint p[] = { 1, -1, 0 };
  GrdAttrs ds = pattern (3, p);
  GradOfGrad gd = { "dimshuffle", &ds };
  grd_test_verify_grad_build (build_grad_of_cube, &gd, &x, 1, 53);
}

typedef struct {
  const char     *op;
  const GrdAttrs *attrs;
  GrdTensor      *extra;
} GradOfGradTake;

static GrdRef
build_grad_of_cube_take (GrdGraph *g, const GrdRef *vars, gpointer data, GError **error)
{
  GradOfGradTake *t = data;
  GrdRef in[] = { vars[0], grd_graph_constant (g, NULL, t->extra, error) };
  GrdRef y = grd_graph_op (g, NULL, t->op, in, 2, t->attrs, error);
  GrdRef cost = grd_op1 (g, "sum", grd_op2 (g, "mul", grd_op2 (g, "mul", y, y, error), y, error),
                         error);
  GrdRef gx = GRD_REF_NONE;
  grd_graph_grad (g, NULL, cost, vars, 1, NULL, 0, &gx, error);
  return gx;
}

static void
test_grad_of_grad_multi (void)
{
  gint64 s[] = { 4, 3 };
  g_autoptr (GrdTensor) x = grd_test_random (GRD_DTYPE_FLOAT64, 2, s, -1, 1, 61);
  gint64 is[] = { 3 };
  double iv[] = { 1, -1, 1 };
  g_autoptr (GrdTensor) idx = ints (GRD_DTYPE_INT64, 1, is, iv);
  GradOfGradTake t = { "take", NULL, idx };
  grd_test_verify_grad_build (build_grad_of_cube_take, &t, &x, 1, 62);
  /* concatenate with a constant part, and stack */
  GrdAttrs ax = grd_attrs_axis (1, FALSE);
  GradOfGradTake c = { "concatenate", &ax, x };
  grd_test_verify_grad_build (build_grad_of_cube_take, &c, &x, 1, 63);
  GradOfGradTake st = { "stack", &ax, x };
  grd_test_verify_grad_build (build_grad_of_cube_take, &st, &x, 1, 64);
}

static void
test_groups (void)
{
  const char *shape_ops[] = { "transpose", "reshape", "dimshuffle", "flatten", "concatenate",
                              "stack", "slice" };
  for (gsize i = 0; i < G_N_ELEMENTS (shape_ops); i++)
    g_assert_cmpstr (grd_op_group (shape_ops[i]), ==, "shape");
  g_assert_cmpstr (grd_op_group ("take"), ==, "indexing");
  g_assert_cmpstr (grd_op_group ("_slice_grad"), ==, "internal");
  /* internal ops are not in the catalogue list */
  for (const char *const *n = grd_op_names (); *n; n++)
    g_assert_true ((*n)[0] != '_');
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/shape/transpose", test_transpose);
  g_test_add_func ("/engine/shape/transpose-large", test_transpose_large);
  g_test_add_func ("/engine/shape/reshape", test_reshape);
  g_test_add_func ("/engine/shape/reshape-errors", test_reshape_errors);
  g_test_add_func ("/engine/shape/flatten", test_flatten);
  g_test_add_func ("/engine/shape/dimshuffle", test_dimshuffle);
  g_test_add_func ("/engine/shape/dimshuffle-errors", test_dimshuffle_errors);
  g_test_add_func ("/engine/shape/concatenate", test_concatenate);
  g_test_add_func ("/engine/shape/stack", test_stack);
  g_test_add_func ("/engine/shape/slice", test_slice);
  g_test_add_func ("/engine/shape/take", test_take);
  g_test_add_func ("/engine/shape/take-errors", test_take_errors);
  g_test_add_func ("/engine/shape/groups", test_groups);
  g_test_add_func ("/engine/shape/grad-shape-ops", test_grad_shape_ops);
  g_test_add_func ("/engine/shape/grad-concatenate-stack", test_grad_concat_stack);
  g_test_add_func ("/engine/shape/grad-slice-take", test_grad_slice_take);
  g_test_add_func ("/engine/shape/grad-unknown-dims", test_grad_unknown_dims);
  g_test_add_func ("/engine/shape/grad-dimshuffle-unknown-x", test_grad_dimshuffle_unknown_x);
  g_test_add_func ("/engine/shape/grad-of-grad", test_grad_of_grad);
  g_test_add_func ("/engine/shape/grad-of-grad-take-concat-stack", test_grad_of_grad_multi);
  return g_test_run ();
}
