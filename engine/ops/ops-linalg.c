/* ops-linalg.c: dot and outer, as NumPy's, on OpenBLAS for floats.
 *   dot (a, b)    0-d operand: multiply; 1-d·1-d: inner product; 2-d·1-d,
 *                 1-d·2-d: matrix-vector; 2-d·2-d: matrix product. Rank > 2 is
 *                 a type error (NumPy's N-d dot is not in the catalogue).
 *   outer (a, b)  both flattened to vectors, then a[i] * b[j].
 * The result dtype is the promoted one; integers are computed in int64 (and
 * wrap as NumPy's do), bool as logical or-of-ands.
 *
 * Internal ops for the gradient rules (matrix products with a transposed
 * operand, so gradients need no transpose copies and stay closed under grad):
 *   _dot_nt (a, b) = a · bᵀ     _dot_tn (a, b) = aᵀ · b     (both 2-d)
 *   _ravel (x)     x flattened to 1-d */
#include "../grd-internal.h"

#include <cblas.h>
#include <string.h>

/* The matrix-product view of two operands: a is m×k (or its transpose when
 * ta), b is k×n (or its transpose when tb); ka and kb the contracted lengths. */
typedef struct {
  gboolean ta, tb;
  gint64   m, n, ka, kb;
  gint     ia, ib;       /* which dims of a and b hold ka and kb */
} MatView;

/* Fills `v` for ranks 1-2 of a and b (vectors as a row on the left, a column
 * on the right) and the result shape. */
static void
mat_view (gboolean ta, gboolean tb, gint ra, const gint64 *a, gint rb, const gint64 *b,
          MatView *v, gint *r_out, gint64 *out)
{
  memset (v, 0, sizeof *v);
  v->ta = ta;
  v->tb = tb;
  *r_out = 0;
  if (ra == 2) {
    v->ia = ta ? 0 : 1;
    v->m = a[1 - v->ia];
    out[(*r_out)++] = v->m;
  } else {
    v->ia = 0;
    v->m = 1;
  }
  v->ka = a[v->ia];
  if (rb == 2) {
    v->ib = tb ? 1 : 0;
    v->n = b[1 - v->ib];
    out[(*r_out)++] = v->n;
  } else {
    v->ib = 0;
    v->n = 1;
  }
  v->kb = b[v->ib];
}

static void
set_not_aligned (GError **error, gint ra, const gint64 *a, gint rb, const gint64 *b,
                 const MatView *v)
{
  g_autofree char *sa = grd_dims_describe (ra, a), *sb = grd_dims_describe (rb, b);
  g_set_error (error, GRD_ERROR, GRD_ERROR_SHAPE,
               "shapes %s and %s not aligned: %" G_GINT64_FORMAT " (dim %d) != %"
               G_GINT64_FORMAT " (dim %d)", sa, sb, v->ka, v->ia, v->kb, v->ib);
}

/* ------------------------------------------------------------ kernels */

static gint64
get_i64 (const GrdTensor *t, gint64 i)
{
  switch (t->dtype) {
  case GRD_DTYPE_BOOL: return ((const guint8 *) t->data)[i];
  case GRD_DTYPE_INT32: return ((const gint32 *) t->data)[i];
  case GRD_DTYPE_INT64: return ((const gint64 *) t->data)[i];
  default: return (gint64) grd_tensor_get (t, i);
  }
}

static void
set_i64 (GrdTensor *t, gint64 i, guint64 v)
{
  switch (t->dtype) {
  case GRD_DTYPE_BOOL: ((guint8 *) t->data)[i] = v != 0; break;
  case GRD_DTYPE_INT32: ((gint32 *) t->data)[i] = (gint32) (guint32) v; break;
  case GRD_DTYPE_INT64: ((gint64 *) t->data)[i] = (gint64) v; break;
  default: g_assert_not_reached ();
  }
}

/* C (m×n) = op(A) · op(B) for a and b already of the result dtype, with the
 * view's layout; vectors count as 1×k and k×1. */
static void
mat_product (const MatView *v, const GrdTensor *a, const GrdTensor *b, GrdTensor *c)
{
  gint64 m = v->m, n = v->n, k = v->ka;
  if (m == 0 || n == 0)
    return;
  if (k == 0)
    return;  /* zeros, as allocated */
  /* leading dimensions of the stored (row-major) operands */
  gint64 lda = a->rank == 2 ? a->shape[1] : k, ldb = b->rank == 2 ? b->shape[1] : n;
  gboolean vec_a = a->rank == 1, vec_b = b->rank == 1;
  enum CBLAS_TRANSPOSE ta = v->ta ? CblasTrans : CblasNoTrans;
  enum CBLAS_TRANSPOSE tb = v->tb ? CblasTrans : CblasNoTrans;
  switch (c->dtype) {
  case GRD_DTYPE_FLOAT32:
    if (vec_a && vec_b)
      *(float *) c->data = cblas_sdot (k, a->data, 1, b->data, 1);
    else if (vec_b)  /* op(A) x */
      cblas_sgemv (CblasRowMajor, ta, a->shape[0], a->shape[1], 1.0f, a->data, lda, b->data, 1,
                   0.0f, c->data, 1);
    else if (vec_a)  /* op(B)ᵀ x */
      cblas_sgemv (CblasRowMajor, v->tb ? CblasNoTrans : CblasTrans, b->shape[0], b->shape[1],
                   1.0f, b->data, ldb, a->data, 1, 0.0f, c->data, 1);
    else
      cblas_sgemm (CblasRowMajor, ta, tb, m, n, k, 1.0f, a->data, lda, b->data, ldb, 0.0f,
                   c->data, n);
    return;
  case GRD_DTYPE_FLOAT64:
    if (vec_a && vec_b)
      *(double *) c->data = cblas_ddot (k, a->data, 1, b->data, 1);
    else if (vec_b)
      cblas_dgemv (CblasRowMajor, ta, a->shape[0], a->shape[1], 1.0, a->data, lda, b->data, 1,
                   0.0, c->data, 1);
    else if (vec_a)
      cblas_dgemv (CblasRowMajor, v->tb ? CblasNoTrans : CblasTrans, b->shape[0], b->shape[1],
                   1.0, b->data, ldb, a->data, 1, 0.0, c->data, 1);
    else
      cblas_dgemm (CblasRowMajor, ta, tb, m, n, k, 1.0, a->data, lda, b->data, ldb, 0.0,
                   c->data, n);
    return;
  default:
    break;
  }
  /* integers and bool: int64 with wrap-around (unsigned, so no UB); a bool
   * result is "any product true", i.e. a nonzero count */
  gint64 sa_i = v->ta ? 1 : lda, sa_p = v->ta ? lda : 1;
  gint64 sb_p = v->tb ? 1 : ldb, sb_j = v->tb ? ldb : 1;
  if (vec_a)
    sa_i = 0, sa_p = 1;
  if (vec_b)
    sb_p = 1, sb_j = 0;
  for (gint64 i = 0; i < m; i++)
    for (gint64 j = 0; j < n; j++) {
      guint64 s = 0;
      for (gint64 p = 0; p < k; p++)
        s += (guint64) get_i64 (a, i * sa_i + p * sa_p) * (guint64) get_i64 (b, p * sb_p + j * sb_j);
      set_i64 (c, i * n + j, s);
    }
}

/* Result = scalar s times every element of t (all of the result dtype). */
static void
scale_by (const GrdTensor *s, const GrdTensor *t, GrdTensor *c)
{
  switch (c->dtype) {
  case GRD_DTYPE_FLOAT32: {
    float f = *(const float *) s->data;
    for (gint64 i = 0; i < c->size; i++)
      ((float *) c->data)[i] = f * ((const float *) t->data)[i];
    break;
  }
  case GRD_DTYPE_FLOAT64: {
    double f = *(const double *) s->data;
    for (gint64 i = 0; i < c->size; i++)
      ((double *) c->data)[i] = f * ((const double *) t->data)[i];
    break;
  }
  default: {
    guint64 f = (guint64) get_i64 (s, 0);
    for (gint64 i = 0; i < c->size; i++)
      set_i64 (c, i, f * (guint64) get_i64 (t, i));
  }
  }
}

/* ------------------------------------------------------------ dot and friends */

static gboolean
check_ranks (const char *what, gint ra, gint rb, gint lo, GError **error)
{
  if (ra < lo || ra > 2 || rb < lo || rb > 2) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_TYPE,
                 "%s takes operands of rank %s2, got ranks %d and %d", what,
                 lo == 0 ? "0 to " : "", ra, rb);
    return FALSE;
  }
  return TRUE;
}

static gboolean
product_infer (gboolean ta, gboolean tb, const char *what, gint lo, const GrdType *in,
               GrdType *out, GError **error)
{
  if (!check_ranks (what, in[0].rank, in[1].rank, lo, error))
    return FALSE;
  GrdDType dt = grd_dtype_promote (in[0].dtype, in[1].dtype);
  if (in[0].rank == 0 || in[1].rank == 0) {
    const GrdType *other = in[0].rank == 0 ? &in[1] : &in[0];
    grd_type_set (out, dt, other->rank, other->dims);
    return TRUE;
  }
  MatView v;
  gint r;
  gint64 dims[2];
  mat_view (ta, tb, in[0].rank, in[0].dims, in[1].rank, in[1].dims, &v, &r, dims);
  if (v.ka >= 0 && v.kb >= 0 && v.ka != v.kb) {
    set_not_aligned (error, in[0].rank, in[0].dims, in[1].rank, in[1].dims, &v);
    return FALSE;
  }
  grd_type_set (out, dt, r, dims);
  return TRUE;
}

static gboolean
product_eval (gboolean ta, gboolean tb, const char *what, gint lo, const GrdNode *node,
              GrdTensor *const *in, GrdTensor **out, GError **error)
{
  if (!check_ranks (what, in[0]->rank, in[1]->rank, lo, error))
    return FALSE;
  GrdDType dt = node->types[0].dtype;
  g_autoptr (GrdTensor) a = grd_tensor_try_convert (in[0], dt, error);
  g_autoptr (GrdTensor) b = a ? grd_tensor_try_convert (in[1], dt, error) : NULL;
  if (!b)
    return FALSE;
  if (a->rank == 0 || b->rank == 0) {
    GrdTensor *s = a->rank == 0 ? a : b, *t = a->rank == 0 ? b : a;
    GrdTensor *c = grd_tensor_try_new (dt, t->rank, t->shape, error);
    if (!c)
      return FALSE;
    scale_by (s, t, c);
    out[0] = c;
    return TRUE;
  }
  MatView v;
  gint r;
  gint64 dims[2];
  mat_view (ta, tb, a->rank, a->shape, b->rank, b->shape, &v, &r, dims);
  if (v.ka != v.kb) {
    set_not_aligned (error, a->rank, a->shape, b->rank, b->shape, &v);
    return FALSE;
  }
  GrdTensor *c = grd_tensor_try_new (dt, r, dims, error);
  if (!c)
    return FALSE;
  mat_product (&v, a, b, c);
  out[0] = c;
  return TRUE;
}

static gboolean
dot_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  return product_infer (FALSE, FALSE, "dot", 0, in, out, error);
}

static gboolean
dot_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  return product_eval (FALSE, FALSE, "dot", 0, node, in, out, error);
}

static gboolean
dot_nt_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  return product_infer (FALSE, TRUE, "_dot_nt", 2, in, out, error);
}

static gboolean
dot_nt_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  return product_eval (FALSE, TRUE, "_dot_nt", 2, node, in, out, error);
}

static gboolean
dot_tn_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  return product_infer (TRUE, FALSE, "_dot_tn", 2, in, out, error);
}

static gboolean
dot_tn_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  return product_eval (TRUE, FALSE, "_dot_tn", 2, node, in, out, error);
}

#define BUILD2(op, x, y) grd_build (g, error, op, NULL, 2, x, y)

static gboolean
dot_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
          GrdRef *ig, GError **error)
{
  GrdRef a = node->inputs[0], b = node->inputs[1], gz = og[0];
  gint ra = grd_graph_ref_type (g, a)->rank, rb = grd_graph_ref_type (g, b)->rank;
  if (ra == 0 || rb == 0) {
    /* z = a * b with one scalar: the scalar's gradient sums g times the other */
    GrdRef s = ra == 0 ? a : b, t = ra == 0 ? b : a;
    gboolean need_s = needed[ra == 0 ? 0 : 1], need_t = needed[ra == 0 ? 1 : 0];
    GrdRef gs = GRD_REF_NONE, gt = GRD_REF_NONE;
    if (need_t)
      gt = BUILD2 ("dot", gz, s);
    if (need_s) {
      gint rt = grd_graph_ref_type (g, t)->rank;
      if (rt <= 1)
        gs = BUILD2 ("dot", gz, t);
      else
        gs = grd_build (g, error, "sum", NULL, 1, BUILD2 ("mul", gz, t));
    }
    ig[ra == 0 ? 0 : 1] = gs;
    ig[ra == 0 ? 1 : 0] = gt;
    return !*error;
  }
  if (ra == 1 && rb == 1) {        /* z = Σ a_k b_k */
    if (needed[0])
      ig[0] = BUILD2 ("dot", gz, b);
    if (needed[1])
      ig[1] = BUILD2 ("dot", gz, a);
  } else if (ra == 2 && rb == 1) { /* z_i = Σ A_ik b_k */
    if (needed[0])
      ig[0] = BUILD2 ("outer", gz, b);
    if (needed[1])
      ig[1] = BUILD2 ("dot", gz, a);
  } else if (ra == 1 && rb == 2) { /* z_j = Σ a_k B_kj */
    if (needed[0])
      ig[0] = BUILD2 ("dot", b, gz);
    if (needed[1])
      ig[1] = BUILD2 ("outer", a, gz);
  } else {                         /* Z = A B */
    if (needed[0])
      ig[0] = BUILD2 ("_dot_nt", gz, b);
    if (needed[1])
      ig[1] = BUILD2 ("_dot_tn", a, gz);
  }
  return !*error;
}

static gboolean
dot_nt_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
             GrdRef *ig, GError **error)
{
  /* Z = A Bᵀ: dA = G B, dB = Gᵀ A */
  GrdRef a = node->inputs[0], b = node->inputs[1];
  if (needed[0])
    ig[0] = BUILD2 ("dot", og[0], b);
  if (needed[1])
    ig[1] = BUILD2 ("_dot_tn", og[0], a);
  return !*error;
}

static gboolean
dot_tn_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
             GrdRef *ig, GError **error)
{
  /* Z = Aᵀ B: dA = B Gᵀ, dB = A G */
  GrdRef a = node->inputs[0], b = node->inputs[1];
  if (needed[0])
    ig[0] = BUILD2 ("_dot_nt", b, og[0]);
  if (needed[1])
    ig[1] = BUILD2 ("dot", a, og[0]);
  return !*error;
}

/* ------------------------------------------------------------ outer and _ravel */

static gint64
flat_dim (const GrdType *t)
{
  gint64 n = 1;
  for (gint d = 0; d < t->rank; d++) {
    if (t->dims[d] < 0)
      return GRD_DIM_UNKNOWN;
    n = grd_dim_mul (n, t->dims[d]);
  }
  return n;
}

static gboolean
outer_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  gint64 dims[2] = { flat_dim (&in[0]), flat_dim (&in[1]) };
  grd_type_set (out, grd_dtype_promote (in[0].dtype, in[1].dtype), 2, dims);
  return TRUE;
}

static gboolean
outer_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdDType dt = node->types[0].dtype;
  g_autoptr (GrdTensor) a = grd_tensor_try_convert (in[0], dt, error);
  g_autoptr (GrdTensor) b = a ? grd_tensor_try_convert (in[1], dt, error) : NULL;
  if (!b)
    return FALSE;
  gint64 m = a->size, n = b->size, dims[2] = { m, n };
  GrdTensor *c = grd_tensor_try_new (dt, 2, dims, error);
  if (!c)
    return FALSE;
  switch (dt) {
  case GRD_DTYPE_FLOAT32:
    for (gint64 i = 0; i < m; i++)
      for (gint64 j = 0; j < n; j++)
        ((float *) c->data)[i * n + j] = ((float *) a->data)[i] * ((float *) b->data)[j];
    break;
  case GRD_DTYPE_FLOAT64:
    for (gint64 i = 0; i < m; i++)
      for (gint64 j = 0; j < n; j++)
        ((double *) c->data)[i * n + j] = ((double *) a->data)[i] * ((double *) b->data)[j];
    break;
  default:
    for (gint64 i = 0; i < m; i++)
      for (gint64 j = 0; j < n; j++)
        set_i64 (c, i * n + j, (guint64) get_i64 (a, i) * (guint64) get_i64 (b, j));
  }
  out[0] = c;
  return TRUE;
}

/* x as a vector: itself when it already is one. */
static GrdRef
build_ravel (GrdGraph *g, GError **error, GrdRef x)
{
  if (*error)
    return GRD_REF_NONE;
  if (grd_graph_ref_type (g, x)->rank == 1)
    return x;
  return grd_build (g, error, "_ravel", NULL, 1, x);
}

/* g (a vector) back to the shape of x. */
static GrdRef
build_unravel (GrdGraph *g, GError **error, GrdRef v, GrdRef x)
{
  if (*error)
    return GRD_REF_NONE;
  if (grd_graph_ref_type (g, x)->rank == 1)
    return v;
  return BUILD2 ("_reshape_like", v, x);
}

static gboolean
outer_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
            GrdRef *ig, GError **error)
{
  /* Z = a bᵀ: da = Z-gradient · b, db = a · Z-gradient */
  GrdRef a = node->inputs[0], b = node->inputs[1];
  if (needed[0])
    ig[0] = build_unravel (g, error, BUILD2 ("dot", og[0], build_ravel (g, error, b)), a);
  if (needed[1])
    ig[1] = build_unravel (g, error, BUILD2 ("dot", build_ravel (g, error, a), og[0]), b);
  return !*error;
}

static gboolean
ravel_infer (const GrdAttrs *attrs, const GrdType *in, gint n_in, GrdType *out, GError **error)
{
  gint64 n = flat_dim (&in[0]);
  grd_type_set (out, in[0].dtype, 1, &n);
  return TRUE;
}

static gboolean
ravel_eval (const GrdNode *node, GrdTensor *const *in, GrdTensor **out, GError **error)
{
  GrdTensor *o = grd_tensor_try_new (in[0]->dtype, 1, &in[0]->size, error);
  if (!o)
    return FALSE;
  memcpy (o->data, in[0]->data, (gsize) in[0]->size * grd_dtype_size (in[0]->dtype));
  out[0] = o;
  return TRUE;
}

static gboolean
ravel_grad (GrdGraph *g, const GrdNode *node, const GrdRef *og, const gboolean *needed,
            GrdRef *ig, GError **error)
{
  if (needed[0])
    ig[0] = BUILD2 ("_reshape_like", og[0], node->inputs[0]);
  return !*error;
}

static const GrdOpDef linalg_ops[] = {
  { "dot", "linear algebra", 2, 2, 1, dot_infer, dot_eval, dot_grad },
  { "outer", "linear algebra", 2, 2, 1, outer_infer, outer_eval, outer_grad },
  { "_dot_nt", "internal", 2, 2, 1, dot_nt_infer, dot_nt_eval, dot_nt_grad },
  { "_dot_tn", "internal", 2, 2, 1, dot_tn_infer, dot_tn_eval, dot_tn_grad },
  { "_ravel", "internal", 1, 1, 1, ravel_infer, ravel_eval, ravel_grad },
};

void
grd_ops_register_linalg (GrdOpRegisterFunc add)
{
  for (gsize i = 0; i < G_N_ELEMENTS (linalg_ops); i++)
    add (&linalg_ops[i]);
}
