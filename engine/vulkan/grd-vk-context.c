/* grd-vk-context.c: the Vulkan instance, the chosen device and its memory.
 *
 * One context per process, made on first use: devices are slow to open, and
 * the kernel caches live with it. Memory comes in a few large blocks that are
 * sub-allocated first-fit (each buffer its own VkBuffer bound into a block).
 *
 * Environment: GRADUS_VULKAN_DEVICE picks a device by index or name
 * substring; GRADUS_VULKAN_VALIDATION=1 enables the Khronos validation layer
 * with synchronisation validation and counts its messages (tests fail on any);
 * GRADUS_VULKAN_STAGING=1 takes the staging path of discrete GPUs even where
 * memory could be mapped. */
#include "grd-vk-private.h"

#include <string.h>

#define BLOCK_SIZE ((VkDeviceSize) 64 << 20)

struct _GrdVkBlock {
  VkDeviceMemory memory;
  VkDeviceSize   size;
  guint8        *mapped;
  GArray        *free;  /* Range, sorted by offset, coalesced */
};

typedef struct {
  VkDeviceSize offset, size;
} Range;

static GrdVkContext *context;     /* the documented process-wide device */
static GError       *context_error; /* why it could not be made (kept: no retries) */
static gint          n_validation_messages;
static gint          n_live_buffers;  /* a function left alive at exit keeps the device */
static GMutex        alloc_lock;      /* the blocks' free lists, for functions on several threads */

gboolean
grd_vk_check (VkResult r, const char *what, GError **error)
{
  if (r == VK_SUCCESS)
    return TRUE;
  g_set_error (error, GRD_ERROR, r == VK_ERROR_DEVICE_LOST ? GRD_ERROR_DEVICE : GRD_ERROR_UNSUPPORTED,
               "%s failed (VkResult %d%s)", what, r,
               r == VK_ERROR_DEVICE_LOST ? ", device lost"
               : r == VK_ERROR_OUT_OF_DEVICE_MEMORY ? ", out of device memory"
               : r == VK_ERROR_INCOMPATIBLE_DRIVER ? ", no Vulkan driver"
               : r == VK_ERROR_INITIALIZATION_FAILED ? ", initialisation failed" : "");
  return FALSE;
}

gint
grd_vk_validation_messages (void)
{
  return g_atomic_int_get (&n_validation_messages);
}

static VkBool32 VKAPI_PTR
on_message (VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT type,
            const VkDebugUtilsMessengerCallbackDataEXT *data, void *user_data)
{
  if (severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
    g_atomic_int_inc (&n_validation_messages);
    g_printerr ("Vulkan validation: %s\n", data->pMessage);
  }
  return VK_FALSE;
}

static gboolean
validation_wanted (void)
{
  return g_strcmp0 (g_getenv ("GRADUS_VULKAN_VALIDATION"), "1") == 0;
}

static gboolean
create_instance (VkInstance *instance, gboolean validation, GError **error)
{
  VkApplicationInfo app = {
    .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
    .pApplicationName = "gradus",
    .pEngineName = "gradus",
    .apiVersion = VK_API_VERSION_1_1,
  };
  const char *layers[] = { "VK_LAYER_KHRONOS_validation" };
  const char *extensions[] = { VK_EXT_DEBUG_UTILS_EXTENSION_NAME };
  VkValidationFeatureEnableEXT enables[] = {
    VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT,
  };
  VkValidationFeaturesEXT features = {
    .sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
    .enabledValidationFeatureCount = G_N_ELEMENTS (enables),
    .pEnabledValidationFeatures = enables,
  };
  VkInstanceCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
    .pApplicationInfo = &app,
  };
  if (validation) {
    info.pNext = &features;
    info.enabledLayerCount = 1;
    info.ppEnabledLayerNames = layers;
    info.enabledExtensionCount = 1;
    info.ppEnabledExtensionNames = extensions;
  }
  return grd_vk_check (vkCreateInstance (&info, NULL, instance), "vkCreateInstance", error);
}

/* The process-wide instance, with the validation messenger when asked for.
 * It is never destroyed: Mesa's loader path leaks a little on every instance
 * it unloads, which leak checkers then blame on an unknown module. */
static VkInstance process_instance;

static VkInstance
instance_get (GError **error)
{
  static GMutex lock;
  g_mutex_lock (&lock);
  if (!process_instance) {
    gboolean validation = validation_wanted ();
    VkInstance instance = VK_NULL_HANDLE;
    if (validation && !create_instance (&instance, TRUE, NULL)) {
      g_printerr ("Gradus: GRADUS_VULKAN_VALIDATION=1 but the validation layer is missing\n");
      validation = FALSE;
    }
    if (instance || create_instance (&instance, FALSE, error)) {
      process_instance = instance;
      if (validation) {
        PFN_vkCreateDebugUtilsMessengerEXT create = (PFN_vkCreateDebugUtilsMessengerEXT)
          vkGetInstanceProcAddr (instance, "vkCreateDebugUtilsMessengerEXT");
        VkDebugUtilsMessengerCreateInfoEXT mi = {
          .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
          .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT
                             | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
          .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT
                         | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT
                         | VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
          .pfnUserCallback = on_message,
        };
        static VkDebugUtilsMessengerEXT messenger;
        if (create)
          create (instance, &mi, NULL, &messenger);
      }
    }
  }
  VkInstance instance = process_instance;
  g_mutex_unlock (&lock);
  return instance;
}

static const char *
type_name (VkPhysicalDeviceType t)
{
  switch (t) {
  case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
  case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
  case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
  case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU";
  default: return "other";
  }
}

static gint
type_rank (VkPhysicalDeviceType t)
{
  switch (t) {
  case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
  case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
  case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
  default: return 3;
  }
}

static gboolean
has_extension (VkPhysicalDevice pd, const char *name)
{
  guint32 n = 0;
  vkEnumerateDeviceExtensionProperties (pd, NULL, &n, NULL);
  g_autofree VkExtensionProperties *ext = g_new0 (VkExtensionProperties, MAX (n, 1));
  vkEnumerateDeviceExtensionProperties (pd, NULL, &n, ext);
  for (guint32 i = 0; i < n; i++)
    if (strcmp (ext[i].extensionName, name) == 0)
      return TRUE;
  return FALSE;
}

static gint
compute_family (VkPhysicalDevice pd)
{
  guint32 n = 0;
  vkGetPhysicalDeviceQueueFamilyProperties (pd, &n, NULL);
  g_autofree VkQueueFamilyProperties *q = g_new0 (VkQueueFamilyProperties, MAX (n, 1));
  vkGetPhysicalDeviceQueueFamilyProperties (pd, &n, q);
  for (guint32 i = 0; i < n; i++)
    if (q[i].queueFlags & VK_QUEUE_COMPUTE_BIT)
      return i;
  return -1;
}

/* Why a device cannot serve Gradus, or NULL. */
static const char *
unusable (VkPhysicalDevice pd)
{
  if (compute_family (pd) < 0)
    return "no compute queue";
  if (!has_extension (pd, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME))
    return "no VK_KHR_push_descriptor";
  return NULL;
}

static GPtrArray *
physical_devices (VkInstance instance, GError **error)
{
  guint32 n = 0;
  if (!grd_vk_check (vkEnumeratePhysicalDevices (instance, &n, NULL), "vkEnumeratePhysicalDevices",
                     error))
    return NULL;
  g_autofree VkPhysicalDevice *pds = g_new0 (VkPhysicalDevice, MAX (n, 1));
  if (!grd_vk_check (vkEnumeratePhysicalDevices (instance, &n, pds), "vkEnumeratePhysicalDevices",
                     error))
    return NULL;
  GPtrArray *out = g_ptr_array_new ();
  for (guint32 i = 0; i < n; i++)
    g_ptr_array_add (out, pds[i]);
  return out;
}

/* Discrete before integrated before the rest, in enumeration order within a
 * kind; GRADUS_VULKAN_DEVICE picks by index or by a substring of the name. */
static VkPhysicalDevice
choose_device (GPtrArray *pds, GError **error)
{
  const char *want = g_getenv ("GRADUS_VULKAN_DEVICE");
  if (want && *want) {
    char *end;
    gint64 index = g_ascii_strtoll (want, &end, 10);
    for (guint i = 0; i < pds->len; i++) {
      VkPhysicalDeviceProperties p;
      vkGetPhysicalDeviceProperties (pds->pdata[i], &p);
      gboolean match = *end == '\0' ? index == (gint64) i
                                    : g_strstr_len (p.deviceName, -1, want) != NULL;
      if (!match)
        continue;
      const char *why = unusable (pds->pdata[i]);
      if (why) {
        g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                     "Vulkan device %u (%s) chosen by GRADUS_VULKAN_DEVICE cannot be used: %s", i,
                     p.deviceName, why);
        return VK_NULL_HANDLE;
      }
      return pds->pdata[i];
    }
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "no Vulkan device matches GRADUS_VULKAN_DEVICE=%s", want);
    return VK_NULL_HANDLE;
  }
  VkPhysicalDevice best = VK_NULL_HANDLE;
  gint best_rank = G_MAXINT;
  for (guint i = 0; i < pds->len; i++) {
    VkPhysicalDeviceProperties p;
    vkGetPhysicalDeviceProperties (pds->pdata[i], &p);
    if (unusable (pds->pdata[i]))
      continue;
    if (type_rank (p.deviceType) < best_rank) {
      best_rank = type_rank (p.deviceType);
      best = pds->pdata[i];
    }
  }
  if (!best)
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "no usable Vulkan device (%u found)",
                 pds->len);
  return best;
}

char *
grd_vulkan_describe_devices (GError **error)
{
  VkInstance instance = instance_get (error);
  if (!instance)
    return NULL;
  g_autoptr (GPtrArray) pds = physical_devices (instance, error);
  if (!pds)
    return NULL;
  g_autoptr (GError) local = NULL;
  VkPhysicalDevice chosen = choose_device (pds, &local);
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < pds->len; i++) {
    VkPhysicalDeviceProperties p;
    VkPhysicalDeviceFeatures f;
    vkGetPhysicalDeviceProperties (pds->pdata[i], &p);
    vkGetPhysicalDeviceFeatures (pds->pdata[i], &f);
    const char *why = unusable (pds->pdata[i]);
    g_string_append_printf (s, "%u: %s (%s, Vulkan %u.%u)%s%s%s%s%s\n", i, p.deviceName,
                            type_name (p.deviceType), VK_API_VERSION_MAJOR (p.apiVersion),
                            VK_API_VERSION_MINOR (p.apiVersion), f.shaderInt64 ? ", int64" : "",
                            f.shaderFloat64 ? ", float64" : "", why ? ", unusable: " : "",
                            why ? why : "", pds->pdata[i] == chosen ? " [selected]" : "");
  }
  if (pds->len == 0)
    g_string_append (s, "no Vulkan devices\n");
  if (local)
    g_string_append_printf (s, "%s\n", local->message);
  return g_string_free (s, FALSE);
}

static gint
find_memory_type (const VkPhysicalDeviceMemoryProperties *mp, VkMemoryPropertyFlags want,
                  gint heap_only)
{
  for (guint32 i = 0; i < mp->memoryTypeCount; i++)
    if ((mp->memoryTypes[i].propertyFlags & want) == want
        && (heap_only < 0 || (gint) mp->memoryTypes[i].heapIndex == heap_only))
      return i;
  return -1;
}

static gboolean
choose_memory (GrdVkContext *ctx, GError **error)
{
  VkPhysicalDeviceMemoryProperties mp;
  vkGetPhysicalDeviceMemoryProperties (ctx->physical, &mp);
  /* The largest device-local heap holds the buffers; map it directly when one
   * of its types is also host-visible and cached (lavapipe, unified memory).
   * A discrete GPU's uncached BAR window is slow to read back: staging there. */
  gint heap = -1;
  for (guint32 h = 0; h < mp.memoryHeapCount; h++)
    if ((mp.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
        && (heap < 0 || mp.memoryHeaps[h].size > mp.memoryHeaps[heap].size))
      heap = h;
  const VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT
                                     | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  gint t = find_memory_type (&mp, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | host
                                   | VK_MEMORY_PROPERTY_HOST_CACHED_BIT, heap);
  /* GRADUS_VULKAN_STAGING=1 takes the staging path even where memory could be
   * mapped, so that it is tested on lavapipe too */
  if (t >= 0 && g_strcmp0 (g_getenv ("GRADUS_VULKAN_STAGING"), "1") != 0) {
    ctx->memory_type = t;
    ctx->direct = TRUE;
    return TRUE;
  }
  t = find_memory_type (&mp, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, heap);
  gint s = find_memory_type (&mp, host | VK_MEMORY_PROPERTY_HOST_CACHED_BIT, -1);
  if (s < 0)
    s = find_memory_type (&mp, host, -1);
  if (t < 0 || s < 0) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "the Vulkan device has no suitable memory types");
    return FALSE;
  }
  ctx->memory_type = t;
  ctx->staging_type = s;
  return TRUE;
}

static void
context_free (GrdVkContext *ctx)
{
  if (ctx->device) {
    vkDeviceWaitIdle (ctx->device);
    if (ctx->kernels) {
      GHashTableIter it;
      gpointer value;
      g_hash_table_iter_init (&it, ctx->kernels);
      while (g_hash_table_iter_next (&it, NULL, &value))
        grd_vk_kernel_free (ctx, value);
      g_hash_table_unref (ctx->kernels);
    }
    g_clear_pointer (&ctx->staging, grd_vk_buffer_unref);
    for (guint i = 0; ctx->blocks && i < ctx->blocks->len; i++) {
      GrdVkBlock *b = ctx->blocks->pdata[i];
      vkFreeMemory (ctx->device, b->memory, NULL);
      g_array_unref (b->free);
      g_free (b);
    }
    if (ctx->fence)
      vkDestroyFence (ctx->device, ctx->fence, NULL);
    if (ctx->pool)
      vkDestroyCommandPool (ctx->device, ctx->pool, NULL);
    vkDestroyDevice (ctx->device, NULL);
  }
  g_clear_pointer (&ctx->blocks, g_ptr_array_unref);
  g_mutex_clear (&ctx->lock);
  g_free (ctx);
}

static void
context_release (void)
{
  if (context && n_live_buffers == 0)
    context_free (context);
  context = NULL;
  g_clear_error (&context_error);
}

static GrdVkContext *
context_new (GError **error)
{
  GrdVkContext *ctx = g_new0 (GrdVkContext, 1);
  g_mutex_init (&ctx->lock);
  if (!(ctx->instance = instance_get (error))) {
    g_prefix_error (error, "no Vulkan instance: ");
    context_free (ctx);
    return NULL;
  }
  g_autoptr (GPtrArray) pds = physical_devices (ctx->instance, error);
  if (!pds || !(ctx->physical = choose_device (pds, error))) {
    context_free (ctx);
    return NULL;
  }
  vkGetPhysicalDeviceProperties (ctx->physical, &ctx->props);
  VkPhysicalDeviceFeatures have;
  vkGetPhysicalDeviceFeatures (ctx->physical, &have);
  ctx->has_int64 = have.shaderInt64;
  ctx->has_float64 = have.shaderFloat64;
  ctx->queue_family = compute_family (ctx->physical);
  if (!choose_memory (ctx, error)) {
    context_free (ctx);
    return NULL;
  }

  float priority = 1.0f;
  VkDeviceQueueCreateInfo qi = {
    .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
    .queueFamilyIndex = ctx->queue_family,
    .queueCount = 1,
    .pQueuePriorities = &priority,
  };
  VkPhysicalDeviceFeatures features = {
    .shaderInt64 = have.shaderInt64,
    .shaderFloat64 = have.shaderFloat64,
  };
  const char *extensions[] = { VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME };
  VkDeviceCreateInfo di = {
    .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
    .queueCreateInfoCount = 1,
    .pQueueCreateInfos = &qi,
    .enabledExtensionCount = G_N_ELEMENTS (extensions),
    .ppEnabledExtensionNames = extensions,
    .pEnabledFeatures = &features,
  };
  if (!grd_vk_check (vkCreateDevice (ctx->physical, &di, NULL, &ctx->device), "vkCreateDevice",
                     error)) {
    context_free (ctx);
    return NULL;
  }
  vkGetDeviceQueue (ctx->device, ctx->queue_family, 0, &ctx->queue);
  ctx->push_descriptor = (PFN_vkCmdPushDescriptorSetKHR)
    vkGetDeviceProcAddr (ctx->device, "vkCmdPushDescriptorSetKHR");
  VkCommandPoolCreateInfo pi = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
    .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
    .queueFamilyIndex = ctx->queue_family,
  };
  VkFenceCreateInfo fi = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
  if (!ctx->push_descriptor
      || !grd_vk_check (vkCreateCommandPool (ctx->device, &pi, NULL, &ctx->pool),
                        "vkCreateCommandPool", error)
      || !grd_vk_check (vkCreateFence (ctx->device, &fi, NULL, &ctx->fence), "vkCreateFence",
                        error)) {
    if (!ctx->push_descriptor)
      g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "no vkCmdPushDescriptorSetKHR");
    context_free (ctx);
    return NULL;
  }
  VkCommandBufferAllocateInfo ai = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
    .commandPool = ctx->pool,
    .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
    .commandBufferCount = 1,
  };
  if (!grd_vk_check (vkAllocateCommandBuffers (ctx->device, &ai, &ctx->cmd),
                     "vkAllocateCommandBuffers", error)) {
    context_free (ctx);
    return NULL;
  }
  ctx->blocks = g_ptr_array_new ();
  ctx->kernels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return ctx;
}

GrdVkContext *
grd_vk_context_get (GError **error)
{
  static GMutex init_lock;
  g_mutex_lock (&init_lock);
  if (!context && !context_error) {
    context = context_new (&context_error);
    /* Freed at exit so that leak checkers and validation see a clean end. */
    atexit (context_release);
  }
  if (!context && error)
    *error = g_error_copy (context_error);
  GrdVkContext *ctx = context;
  g_mutex_unlock (&init_lock);
  return ctx;
}

/* ------------------------------------------------------------ memory */

static gboolean
block_take (GrdVkBlock *b, VkDeviceSize size, VkDeviceSize align, VkDeviceSize *offset)
{
  for (guint i = 0; i < b->free->len; i++) {
    Range *r = &g_array_index (b->free, Range, i);
    VkDeviceSize start = (r->offset + align - 1) / align * align;
    if (start + size > r->offset + r->size)
      continue;
    Range after = { start + size, r->offset + r->size - (start + size) };
    VkDeviceSize before = start - r->offset;
    if (before > 0) {
      r->size = before;
      if (after.size > 0)
        g_array_insert_val (b->free, i + 1, after);
    } else if (after.size > 0)
      *r = after;
    else
      g_array_remove_index (b->free, i);
    *offset = start;
    return TRUE;
  }
  return FALSE;
}

static void
block_give (GrdVkBlock *b, VkDeviceSize offset, VkDeviceSize size)
{
  guint i = 0;
  while (i < b->free->len && g_array_index (b->free, Range, i).offset < offset)
    i++;
  Range r = { offset, size };
  g_array_insert_val (b->free, i, r);
  /* merge with the next, then with the previous */
  if (i + 1 < b->free->len) {
    Range *a = &g_array_index (b->free, Range, i), *n = &g_array_index (b->free, Range, i + 1);
    if (a->offset + a->size == n->offset) {
      a->size += n->size;
      g_array_remove_index (b->free, i + 1);
    }
  }
  if (i > 0) {
    Range *p = &g_array_index (b->free, Range, i - 1), *a = &g_array_index (b->free, Range, i);
    if (p->offset + p->size == a->offset) {
      p->size += a->size;
      g_array_remove_index (b->free, i);
    }
  }
}

static GrdVkBlock *
block_new (GrdVkContext *ctx, VkDeviceSize size, guint32 type, GError **error)
{
  VkMemoryAllocateInfo ai = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
    .allocationSize = size,
    .memoryTypeIndex = type,
  };
  VkDeviceMemory memory;
  if (!grd_vk_check (vkAllocateMemory (ctx->device, &ai, NULL, &memory), "vkAllocateMemory",
                     error))
    return NULL;
  GrdVkBlock *b = g_new0 (GrdVkBlock, 1);
  b->memory = memory;
  b->size = size;
  b->free = g_array_new (FALSE, FALSE, sizeof (Range));
  Range all = { 0, size };
  g_array_append_val (b->free, all);
  if (ctx->direct) {
    void *p;
    if (!grd_vk_check (vkMapMemory (ctx->device, memory, 0, VK_WHOLE_SIZE, 0, &p), "vkMapMemory",
                       error)) {
      vkFreeMemory (ctx->device, memory, NULL);
      g_array_unref (b->free);
      g_free (b);
      return NULL;
    }
    b->mapped = p;
  }
  g_ptr_array_add (ctx->blocks, b);
  return b;
}

static VkBuffer
make_buffer (GrdVkContext *ctx, VkDeviceSize size, VkMemoryRequirements *req, GError **error)
{
  VkBufferCreateInfo bi = {
    .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
    .size = size,
    .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT
             | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
    .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
  };
  VkBuffer buffer = VK_NULL_HANDLE;
  if (!grd_vk_check (vkCreateBuffer (ctx->device, &bi, NULL, &buffer), "vkCreateBuffer", error))
    return VK_NULL_HANDLE;
  vkGetBufferMemoryRequirements (ctx->device, buffer, req);
  return buffer;
}

GrdVkBuffer *
grd_vk_buffer_new (GrdVkContext *ctx, VkDeviceSize size, GError **error)
{
  size = MAX ((size + 15) / 16 * 16, 16);
  VkMemoryRequirements req;
  VkBuffer buffer = make_buffer (ctx, size, &req, error);
  if (!buffer)
    return NULL;
  if (!(req.memoryTypeBits & (1u << ctx->memory_type))) {
    vkDestroyBuffer (ctx->device, buffer, NULL);
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED,
                 "storage buffers cannot live in the chosen memory type");
    return NULL;
  }
  VkDeviceSize align = MAX (req.alignment, 256);
  g_mutex_lock (&alloc_lock);
  GrdVkBlock *block = NULL;
  VkDeviceSize offset = 0;
  for (guint i = 0; i < ctx->blocks->len && !block; i++)
    if (block_take (ctx->blocks->pdata[i], req.size, align, &offset))
      block = ctx->blocks->pdata[i];
  if (!block) {
    block = block_new (ctx, MAX (BLOCK_SIZE, (req.size + align) / BLOCK_SIZE * BLOCK_SIZE
                                                 + BLOCK_SIZE), ctx->memory_type, error);
    if (!block || !block_take (block, req.size, align, &offset)) {
      g_mutex_unlock (&alloc_lock);
      vkDestroyBuffer (ctx->device, buffer, NULL);
      if (block)
        g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "device memory exhausted");
      return NULL;
    }
  }
  n_live_buffers++;
  ctx->n_bytes += (gint64) req.size;
  g_mutex_unlock (&alloc_lock);
  if (!grd_vk_check (vkBindBufferMemory (ctx->device, buffer, block->memory, offset),
                     "vkBindBufferMemory", error)) {
    g_mutex_lock (&alloc_lock);
    block_give (block, offset, req.size);
    n_live_buffers--;
    g_mutex_unlock (&alloc_lock);
    vkDestroyBuffer (ctx->device, buffer, NULL);
    return NULL;
  }
  GrdVkBuffer *b = g_new0 (GrdVkBuffer, 1);
  b->ref_count = 1;
  b->buffer = buffer;
  b->size = req.size;
  b->block = block;
  b->offset = offset;
  b->mapped = block->mapped ? block->mapped + offset : NULL;
  return b;
}

GrdVkBuffer *
grd_vk_buffer_ref (GrdVkBuffer *buf)
{
  buf->ref_count++;
  return buf;
}

void
grd_vk_buffer_unref (GrdVkBuffer *buf)
{
  if (!buf || --buf->ref_count > 0)
    return;
  GrdVkContext *ctx = context;
  vkDestroyBuffer (ctx->device, buf->buffer, NULL);
  if (buf->block) {
    g_mutex_lock (&alloc_lock);
    block_give (buf->block, buf->offset, buf->size);
    n_live_buffers--;
    g_mutex_unlock (&alloc_lock);
  }
  if (buf->own_memory) {
    vkUnmapMemory (ctx->device, buf->own_memory);
    vkFreeMemory (ctx->device, buf->own_memory, NULL);
  }
  g_free (buf);
}

GrdVkBuffer *
grd_vk_staging (GrdVkContext *ctx, VkDeviceSize size, GError **error)
{
  if (ctx->staging && ctx->staging->size >= size)
    return ctx->staging;
  g_clear_pointer (&ctx->staging, grd_vk_buffer_unref);
  size = MAX (size + size / 2, (VkDeviceSize) 1 << 20);
  VkMemoryRequirements req;
  VkBuffer buffer = make_buffer (ctx, size, &req, error);
  if (!buffer)
    return NULL;
  VkMemoryAllocateInfo ai = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
    .allocationSize = req.size,
    .memoryTypeIndex = ctx->staging_type,
  };
  VkDeviceMemory memory;
  void *p = NULL;
  if (!grd_vk_check (vkAllocateMemory (ctx->device, &ai, NULL, &memory), "vkAllocateMemory",
                     error)) {
    vkDestroyBuffer (ctx->device, buffer, NULL);
    return NULL;
  }
  if (!grd_vk_check (vkBindBufferMemory (ctx->device, buffer, memory, 0), "vkBindBufferMemory",
                     error)
      || !grd_vk_check (vkMapMemory (ctx->device, memory, 0, VK_WHOLE_SIZE, 0, &p), "vkMapMemory",
                        error)) {
    vkDestroyBuffer (ctx->device, buffer, NULL);
    vkFreeMemory (ctx->device, memory, NULL);
    return NULL;
  }
  GrdVkBuffer *b = g_new0 (GrdVkBuffer, 1);
  b->ref_count = 1;
  b->buffer = buffer;
  b->size = size;
  b->own_memory = memory;
  b->mapped = p;
  ctx->staging = b;
  return b;
}
