/* grd-gtypes.h: the public types as GTypes, and the few calls that language
 * bindings need where the C API passes GrdRef by value or fills caller
 * arrays. GObject introspection (engine/gi/) turns them into the Gradus-1.0
 * typelib that Python reaches with `from gi.repository import Gradus`; see
 * docs/python.md. Included by gradus.h; C programs can ignore it. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* ---------------------------------------------------------------- boxed types */

#define GRD_TYPE_TENSOR   (grd_tensor_get_type ())
#define GRD_TYPE_GRAPH    (grd_graph_get_type ())
#define GRD_TYPE_FUNCTION (grd_function_get_type ())
#define GRD_TYPE_DOCUMENT (grd_document_get_type ())
#define GRD_TYPE_REF      (grd_ref_get_type ())
#define GRD_TYPE_UPDATE   (grd_update_get_type ())
#define GRD_TYPE_TYPE     (grd_type_get_type ())
#define GRD_TYPE_ATTRS    (grd_attrs_get_type ())

GType grd_tensor_get_type (void);
GType grd_graph_get_type (void);
GType grd_function_get_type (void);
GType grd_document_get_type (void);
GType grd_ref_get_type (void);
GType grd_update_get_type (void);
GType grd_type_get_type (void);
GType grd_attrs_get_type (void);

#define GRD_TYPE_DTYPE          (grd_dtype_get_type ())
#define GRD_TYPE_BACKEND        (grd_backend_get_type ())
#define GRD_TYPE_NODE_KIND      (grd_node_kind_get_type ())
#define GRD_TYPE_ERROR_CODE     (grd_error_code_get_type ())
#define GRD_TYPE_DOCUMENT_FLAGS (grd_document_flags_get_type ())

GType grd_dtype_get_type (void);
GType grd_backend_get_type (void);
GType grd_node_kind_get_type (void);
GType grd_error_code_get_type (void);
GType grd_document_flags_get_type (void);

/* Functions and documents are freed by their owner as before; each ref adds
 * one more grd_function_free() / grd_document_free() that is needed. */
GrdFunction *grd_function_ref (GrdFunction *fn);
GrdDocument *grd_document_ref (GrdDocument *doc);

/* Heap copies of the small value structs (free with g_free or the _free call). */
GrdRef    *grd_ref_new (gint node, gint output);
GrdRef    *grd_ref_copy (const GrdRef *ref);
void       grd_ref_free (GrdRef *ref);
GrdUpdate *grd_update_new (const GrdRef *shared, const GrdRef *value);
GrdUpdate *grd_update_copy (const GrdUpdate *update);
void       grd_update_free (GrdUpdate *update);
GrdType   *grd_type_copy (const GrdType *type);
void       grd_type_free (GrdType *type);
GrdAttrs  *grd_attrs_new (void);
GrdAttrs  *grd_attrs_copy (const GrdAttrs *attrs);
void       grd_attrs_free (GrdAttrs *attrs);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GrdRef, grd_ref_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GrdUpdate, grd_update_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GrdType, grd_type_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GrdAttrs, grd_attrs_free)

/* ---------------------------------------------------------------- for bindings */

/* The graph builders of gradus.h with heap GrdRefs (bindings see them under
 * the gradus.h names: graph.variable(), graph.op(), graph.grad(), ...). */
GrdRef    *grd_graph_add_variable (GrdGraph *graph, const char *id, GrdDType dtype,
                                   const gint64 *dims, gint rank, GError **error);
GrdRef    *grd_graph_add_constant (GrdGraph *graph, const char *id, GrdTensor *value,
                                   GError **error);
GrdRef    *grd_graph_add_shared (GrdGraph *graph, const char *id, GrdTensor *value,
                                 GError **error);
GrdRef    *grd_graph_add_op (GrdGraph *graph, const char *id, const char *op,
                             const GrdRef *inputs, gint n_inputs, const GrdAttrs *attrs,
                             GError **error);
GrdRef    *grd_graph_add_scalar (GrdGraph *graph, GrdDType dtype, double value, GError **error);
/* d cost / d wrt[i] for each i, as GrdRef*. */
GPtrArray *grd_graph_add_grad (GrdGraph *graph, const char *id, const GrdRef *cost,
                               const GrdRef *wrt, gint n_wrt, const GrdRef *consider_constant,
                               gint n_consider_constant, GError **error);
GrdTensor *grd_graph_value_of (GrdGraph *graph, const GrdRef *node);
gboolean   grd_graph_set_value_of (GrdGraph *graph, const GrdRef *node, GrdTensor *value,
                                   GError **error);
GrdRef    *grd_graph_node_input_ref (GrdGraph *graph, gint node, gint i);

/* The array attributes, which bindings cannot set field by field. Each fails
 * (FALSE, error set) for more than GRD_MAX_RANK entries. */
gboolean grd_attrs_set_axes (GrdAttrs *attrs, const gint *axes, gint n_axes, GError **error);
gboolean grd_attrs_set_perm (GrdAttrs *attrs, const gint *perm, gint n_perm, GError **error);
gboolean grd_attrs_set_shape (GrdAttrs *attrs, const gint64 *shape, gint n_shape,
                              GError **error);
gboolean grd_attrs_set_pattern (GrdAttrs *attrs, const gint *pattern, gint n_pattern,
                                GError **error);

/* grd_function_call with the outputs returned as GrdTensor*. */
GPtrArray *grd_function_call_list (GrdFunction *fn, GrdTensor **inputs, gint n_inputs,
                                   GError **error);

/* Tensors from and to raw bytes in the dtype's native layout (NumPy's
 * tobytes() / frombuffer()); `data` must hold exactly product(shape) elements. */
GrdTensor    *grd_tensor_new_from_bytes (GrdDType dtype, const gint64 *shape, gint rank,
                                         GBytes *data, GError **error);
GBytes       *grd_tensor_get_bytes (const GrdTensor *t);
const gint64 *grd_tensor_get_shape (const GrdTensor *t, gint *rank);

G_END_DECLS
