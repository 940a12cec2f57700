/* grd-vulkan-stub.c: the Vulkan back end when Gradus is built without Vulkan. */
#include "grd-vulkan.h"

GrdVkFunction *
grd_vk_function_new (GrdGraph *graph, const GrdRef *inputs, gint n_inputs, const GrdRef *outputs,
                     gint n_outputs, const GrdUpdate *updates, gint n_updates, GError **error)
{
  g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
               "this build of Gradus has no Vulkan back end");
  return NULL;
}

gboolean
grd_vk_function_call (GrdVkFunction *fn, GrdTensor *const *inputs, GrdTensor **outputs, GError **error)
{
  g_return_val_if_reached (FALSE);
}

gboolean
grd_vk_function_sync (GrdVkFunction *fn, GError **error)
{
  g_return_val_if_reached (FALSE);
}

void
grd_vk_function_free (GrdVkFunction *fn)
{
}

void
grd_vk_function_set_origin (GrdVkFunction *fn, GrdGraph *origin, const gint *origin_of)
{
  g_return_if_reached ();
}

char *
grd_vulkan_describe_devices (GError **error)
{
  g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
               "this build of Gradus has no Vulkan back end");
  return NULL;
}
