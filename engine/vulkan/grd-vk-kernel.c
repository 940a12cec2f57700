/* grd-vk-kernel.c: compute pipelines from SPIR-V, and SPIR-V from GLSL.
 *
 * Generated GLSL is compiled with glslang's C interface. The SPIR-V is kept
 * under $XDG_CACHE_HOME/gradus/spirv/<sha256 of the source>.spv, so a graph
 * compiles once per machine; pipelines are kept in memory by source text.
 * GRADUS_VULKAN_DUMP=1 prints the body of every kernel met for the first time. */
#include "grd-vk-private.h"

#include <glslang/Include/glslang_c_interface.h>
#include <glslang/Public/resource_limits_c.h>
#include <string.h>

static gboolean
glslang_ready (void)
{
  static gsize once;
  if (g_once_init_enter (&once))
    g_once_init_leave (&once, glslang_initialize_process () ? 1 : 2);
  return once == 1;
}

static void
finalize_glslang (void)
{
  glslang_finalize_process ();
}

static GBytes *
compile_glsl (const char *source, GError **error)
{
  if (!glslang_ready ()) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "glslang did not initialise");
    return NULL;
  }
  static gsize registered;
  if (g_once_init_enter (&registered)) {
    atexit (finalize_glslang);
    g_once_init_leave (&registered, 1);
  }
  glslang_input_t input = {
    .language = GLSLANG_SOURCE_GLSL,
    .stage = GLSLANG_STAGE_COMPUTE,
    .client = GLSLANG_CLIENT_VULKAN,
    .client_version = GLSLANG_TARGET_VULKAN_1_1,
    .target_language = GLSLANG_TARGET_SPV,
    .target_language_version = GLSLANG_TARGET_SPV_1_3,
    .code = source,
    .default_version = 450,
    .default_profile = GLSLANG_NO_PROFILE,
    .messages = GLSLANG_MSG_DEFAULT_BIT | GLSLANG_MSG_SPV_RULES_BIT | GLSLANG_MSG_VULKAN_RULES_BIT,
    .resource = glslang_default_resource (),
  };
  glslang_shader_t *shader = glslang_shader_create (&input);
  if (!glslang_shader_preprocess (shader, &input) || !glslang_shader_parse (shader, &input)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "generated kernel does not compile: %s",
                 glslang_shader_get_info_log (shader));
    g_debug ("kernel source:\n%s", source);
    glslang_shader_delete (shader);
    return NULL;
  }
  glslang_program_t *program = glslang_program_create ();
  glslang_program_add_shader (program, shader);
  GBytes *out = NULL;
  if (!glslang_program_link (program, GLSLANG_MSG_SPV_RULES_BIT | GLSLANG_MSG_VULKAN_RULES_BIT)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "generated kernel does not link: %s",
                 glslang_program_get_info_log (program));
  } else {
    glslang_spv_options_t options = {
      .disable_optimizer = FALSE,
      .optimize_size = TRUE,  /* glslang runs spirv-opt only with both set */
    };
    glslang_program_SPIRV_generate_with_options (program, GLSLANG_STAGE_COMPUTE, &options);
    gsize n = glslang_program_SPIRV_get_size (program);
    out = g_bytes_new (glslang_program_SPIRV_get_ptr (program), n * sizeof (guint32));
  }
  glslang_program_delete (program);
  glslang_shader_delete (shader);
  return out;
}

static char *
cache_path (const char *source)
{
  g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, source, -1);
  g_autofree char *name = g_strconcat (hash, ".spv", NULL);
  const char *env = g_getenv ("XDG_CACHE_HOME");
  const char *base = env && g_path_is_absolute (env) ? env : g_get_user_cache_dir ();
  return g_build_filename (base, "gradus", "spirv", name, NULL);
}

/* SPIR-V for `source` from the disk cache, or compiled and stored there. */
static GBytes *
spirv_for (GrdVkContext *ctx, const char *source, GError **error)
{
  g_autofree char *path = cache_path (source);
  char *data = NULL;
  gsize len = 0;
  if (g_file_get_contents (path, &data, &len, NULL) && len >= 20 && len % 4 == 0
      && ((guint32 *) data)[0] == 0x07230203u) {
    ctx->n_disk_hits++;
    return g_bytes_new_take (data, len);
  }
  g_free (data);
  GBytes *spv = compile_glsl (source, error);
  if (!spv)
    return NULL;
  ctx->n_compiles++;
  /* Best effort: an unwritable cache only costs a compile next time. */
  g_autofree char *dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) == 0) {
    gsize n;
    const void *p = g_bytes_get_data (spv, &n);
    g_file_set_contents (path, p, n, NULL);
  }
  return spv;
}

static GrdVkKernel *
make_kernel (GrdVkContext *ctx, const guint32 *code, gsize n_bytes, gint n_buffers,
             const guint32 *spec, gint n_spec, GError **error)
{
  GrdVkKernel *k = g_new0 (GrdVkKernel, 1);
  k->n_buffers = n_buffers;
  VkShaderModuleCreateInfo si = {
    .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
    .codeSize = n_bytes,
    .pCode = code,
  };
  VkDescriptorSetLayoutBinding bindings[GRD_VK_MAX_BINDINGS];
  for (gint i = 0; i < n_buffers; i++)
    bindings[i] = (VkDescriptorSetLayoutBinding) {
      .binding = i,
      .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
      .descriptorCount = 1,
      .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
    };
  VkDescriptorSetLayoutCreateInfo dli = {
    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
    .flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR,
    .bindingCount = n_buffers,
    .pBindings = bindings,
  };
  VkPushConstantRange range = {
    .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
    .size = GRD_VK_PUSH_WORDS * 4,
  };
  if (!grd_vk_check (vkCreateShaderModule (ctx->device, &si, NULL, &k->module),
                     "vkCreateShaderModule", error)
      || !grd_vk_check (vkCreateDescriptorSetLayout (ctx->device, &dli, NULL, &k->set_layout),
                        "vkCreateDescriptorSetLayout", error)) {
    grd_vk_kernel_free (ctx, k);
    return NULL;
  }
  VkPipelineLayoutCreateInfo pli = {
    .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
    .setLayoutCount = 1,
    .pSetLayouts = &k->set_layout,
    .pushConstantRangeCount = 1,
    .pPushConstantRanges = &range,
  };
  VkSpecializationMapEntry entries[8];
  for (gint i = 0; i < n_spec && i < 8; i++)
    entries[i] = (VkSpecializationMapEntry) { .constantID = i, .offset = i * 4, .size = 4 };
  VkSpecializationInfo spi = {
    .mapEntryCount = MIN (n_spec, 8),
    .pMapEntries = entries,
    .dataSize = MIN (n_spec, 8) * 4,
    .pData = spec,
  };
  if (!grd_vk_check (vkCreatePipelineLayout (ctx->device, &pli, NULL, &k->layout),
                     "vkCreatePipelineLayout", error)) {
    grd_vk_kernel_free (ctx, k);
    return NULL;
  }
  VkComputePipelineCreateInfo ci = {
    .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
    .stage = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
      .stage = VK_SHADER_STAGE_COMPUTE_BIT,
      .module = k->module,
      .pName = "main",
      .pSpecializationInfo = n_spec > 0 ? &spi : NULL,
    },
    .layout = k->layout,
  };
  if (!grd_vk_check (vkCreateComputePipelines (ctx->device, VK_NULL_HANDLE, 1, &ci, NULL,
                                               &k->pipeline),
                     "vkCreateComputePipelines", error)) {
    grd_vk_kernel_free (ctx, k);
    return NULL;
  }
  return k;
}

GrdVkKernel *
grd_vk_kernel_glsl (GrdVkContext *ctx, const char *body, gboolean int64, gboolean float64,
                    gint n_buffers, GError **error)
{
  /* Keyed by the body and the header's flags: the header (math helpers) is
   * the same for all and only joins the body on a miss. */
  g_autofree char *key = g_strdup_printf ("%d%d%d\n%s", int64, float64, n_buffers, body);
  GrdVkKernel *k = g_hash_table_lookup (ctx->kernels, key);
  if (k)
    return k;
  g_autoptr (GString) source = g_string_new (NULL);
  grd_vk_glsl_header (source, int64, float64);
  g_string_append (source, body);
  if (g_getenv ("GRADUS_VULKAN_DUMP"))
    g_printerr ("---- kernel\n%s", body);
  g_autoptr (GBytes) spv = spirv_for (ctx, source->str, error);
  if (!spv)
    return NULL;
  gsize n;
  const guint32 *code = g_bytes_get_data (spv, &n);
  k = make_kernel (ctx, code, n, n_buffers, NULL, 0, error);
  if (k)
    g_hash_table_insert (ctx->kernels, g_steal_pointer (&key), k);
  return k;
}

GrdVkKernel *
grd_vk_kernel_spirv (GrdVkContext *ctx, const char *name, const guint32 *code, gsize n_bytes,
                     gint n_buffers, const guint32 *spec, gint n_spec, GError **error)
{
  /* Built-in kernels share the table under a key no GLSL source can have. */
  g_autoptr (GString) key = g_string_new ("\x01");
  g_string_append (key, name);
  for (gint i = 0; i < n_spec; i++)
    g_string_append_printf (key, ":%u", spec[i]);
  GrdVkKernel *k = g_hash_table_lookup (ctx->kernels, key->str);
  if (k)
    return k;
  k = make_kernel (ctx, code, n_bytes, n_buffers, spec, n_spec, error);
  if (k)
    g_hash_table_insert (ctx->kernels, g_string_free (g_steal_pointer (&key), FALSE), k);
  return k;
}

void
grd_vk_kernel_free (GrdVkContext *ctx, GrdVkKernel *k)
{
  if (k->pipeline)
    vkDestroyPipeline (ctx->device, k->pipeline, NULL);
  if (k->layout)
    vkDestroyPipelineLayout (ctx->device, k->layout, NULL);
  if (k->set_layout)
    vkDestroyDescriptorSetLayout (ctx->device, k->set_layout, NULL);
  if (k->module)
    vkDestroyShaderModule (ctx->device, k->module, NULL);
  g_free (k);
}
