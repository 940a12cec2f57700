/* grd-gtypes.c: the public types registered as boxed GTypes, so that GObject
 * introspection and GValue can hold them. Tensors and graphs are reference
 * counted; functions and documents gain a reference on top of their free;
 * the small value structs are copied. */
#include "gradus.h"

G_DEFINE_BOXED_TYPE (GrdTensor, grd_tensor, grd_tensor_ref, grd_tensor_unref)
G_DEFINE_BOXED_TYPE (GrdGraph, grd_graph, grd_graph_ref, grd_graph_unref)
G_DEFINE_BOXED_TYPE (GrdFunction, grd_function, grd_function_ref, grd_function_free)
G_DEFINE_BOXED_TYPE (GrdDocument, grd_document, grd_document_ref, grd_document_free)
G_DEFINE_BOXED_TYPE (GrdRef, grd_ref, grd_ref_copy, grd_ref_free)
G_DEFINE_BOXED_TYPE (GrdUpdate, grd_update, grd_update_copy, grd_update_free)
G_DEFINE_BOXED_TYPE (GrdType, grd_type, grd_type_copy, grd_type_free)
G_DEFINE_BOXED_TYPE (GrdAttrs, grd_attrs, grd_attrs_copy, grd_attrs_free)

/* The nicks are the names the files and the command line use. */
G_DEFINE_ENUM_TYPE (GrdDType, grd_dtype,
  G_DEFINE_ENUM_VALUE (GRD_DTYPE_BOOL, "bool"),
  G_DEFINE_ENUM_VALUE (GRD_DTYPE_INT32, "int32"),
  G_DEFINE_ENUM_VALUE (GRD_DTYPE_INT64, "int64"),
  G_DEFINE_ENUM_VALUE (GRD_DTYPE_FLOAT32, "float32"),
  G_DEFINE_ENUM_VALUE (GRD_DTYPE_FLOAT64, "float64"),
  G_DEFINE_ENUM_VALUE (GRD_N_DTYPES, "n-dtypes"))
G_DEFINE_ENUM_TYPE (GrdBackend, grd_backend,
  G_DEFINE_ENUM_VALUE (GRD_BACKEND_CPU, "cpu"),
  G_DEFINE_ENUM_VALUE (GRD_BACKEND_VULKAN, "vulkan"))
G_DEFINE_ENUM_TYPE (GrdNodeKind, grd_node_kind,
  G_DEFINE_ENUM_VALUE (GRD_NODE_VARIABLE, "variable"),
  G_DEFINE_ENUM_VALUE (GRD_NODE_CONSTANT, "constant"),
  G_DEFINE_ENUM_VALUE (GRD_NODE_SHARED, "shared"),
  G_DEFINE_ENUM_VALUE (GRD_NODE_OP, "op"),
  G_DEFINE_ENUM_VALUE (GRD_NODE_GRAD, "grad"))
G_DEFINE_ENUM_TYPE (GrdErrorCode, grd_error_code,
  G_DEFINE_ENUM_VALUE (GRD_ERROR_TYPE, "type"),
  G_DEFINE_ENUM_VALUE (GRD_ERROR_SHAPE, "shape"),
  G_DEFINE_ENUM_VALUE (GRD_ERROR_GRAPH, "graph"),
  G_DEFINE_ENUM_VALUE (GRD_ERROR_PARSE, "parse"),
  G_DEFINE_ENUM_VALUE (GRD_ERROR_IO, "io"),
  G_DEFINE_ENUM_VALUE (GRD_ERROR_VALUE, "value"),
  G_DEFINE_ENUM_VALUE (GRD_ERROR_UNSUPPORTED, "unsupported"),
  G_DEFINE_ENUM_VALUE (GRD_ERROR_DEVICE, "device"))
G_DEFINE_FLAGS_TYPE (GrdDocumentFlags, grd_document_flags,
  G_DEFINE_ENUM_VALUE (GRD_DOCUMENT_STRICT, "strict"),
  G_DEFINE_ENUM_VALUE (GRD_DOCUMENT_LENIENT, "lenient"))

GrdRef *
grd_ref_new (gint node, gint output)
{
  GrdRef *ref = g_new (GrdRef, 1);
  ref->node = node;
  ref->output = output;
  return ref;
}

GrdRef *
grd_ref_copy (const GrdRef *ref)
{
  return g_memdup2 (ref, sizeof *ref);
}

void
grd_ref_free (GrdRef *ref)
{
  g_free (ref);
}

GrdUpdate *
grd_update_new (const GrdRef *shared, const GrdRef *value)
{
  GrdUpdate *update = g_new (GrdUpdate, 1);
  update->shared = *shared;
  update->value = *value;
  return update;
}

GrdUpdate *
grd_update_copy (const GrdUpdate *update)
{
  return g_memdup2 (update, sizeof *update);
}

void
grd_update_free (GrdUpdate *update)
{
  g_free (update);
}

GrdType *
grd_type_copy (const GrdType *type)
{
  return g_memdup2 (type, sizeof *type);
}

void
grd_type_free (GrdType *type)
{
  g_free (type);
}

GrdAttrs *
grd_attrs_new (void)
{
  GrdAttrs *attrs = g_new (GrdAttrs, 1);
  grd_attrs_init (attrs);
  return attrs;
}

GrdAttrs *
grd_attrs_copy (const GrdAttrs *attrs)
{
  return g_memdup2 (attrs, sizeof *attrs);
}

void
grd_attrs_free (GrdAttrs *attrs)
{
  g_free (attrs);
}
