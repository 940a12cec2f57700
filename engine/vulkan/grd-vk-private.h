/* grd-vk-private.h: what the files of the Vulkan back end share. */
#pragma once

#include "grd-vulkan.h"

#include <vulkan/vulkan.h>

G_BEGIN_DECLS

/* Every kernel takes its shapes, strides and scalars as 32 uints of push
 * constants (128 bytes, the size every device guarantees). */
#define GRD_VK_PUSH_WORDS 32
#define GRD_VK_MAX_BINDINGS 16
#define GRD_VK_GROUP 256

typedef struct _GrdVkBlock  GrdVkBlock;
typedef struct _GrdVkBuffer GrdVkBuffer;
typedef struct _GrdVkKernel GrdVkKernel;

/* The process-wide device: one instance, one device, one compute queue. It is
 * made on first use and kept (with its kernel caches) until exit. */
typedef struct {
  VkInstance        instance;
  VkPhysicalDevice  physical;
  VkDevice          device;
  VkQueue           queue;
  guint32           queue_family;
  VkCommandPool     pool;
  VkCommandBuffer   cmd;
  VkFence           fence;
  PFN_vkCmdPushDescriptorSetKHR push_descriptor;
  VkPhysicalDeviceProperties props;
  gboolean          has_int64;
  gboolean          has_float64;
  guint32           memory_type;   /* device-local type of the buffers */
  gboolean          direct;        /* that type is host-visible: map, no staging */
  guint32           staging_type;  /* host-visible type of the staging buffer */
  GPtrArray        *blocks;        /* GrdVkBlock*, device memory */
  GHashTable       *kernels;       /* source text -> GrdVkKernel* */
  GMutex            lock;          /* one submission at a time */
  GrdVkBuffer      *staging;       /* grows as needed (non-direct devices) */
  /* statistics, for tests */
  gint              n_compiles;    /* glslang runs */
  gint              n_disk_hits;   /* kernels read from the disk cache */
  gint64            n_dispatches;  /* compute dispatches recorded (scan steps count each) */
  gint64            n_bytes;       /* device bytes given to buffers (grd_vk_buffer_new) */
} GrdVkContext;

struct _GrdVkBuffer {
  gint          ref_count;
  VkBuffer      buffer;
  VkDeviceSize  size;
  GrdVkBlock   *block;          /* NULL for staging (own memory) */
  VkDeviceMemory own_memory;
  VkDeviceSize  offset;         /* within the block */
  guint8       *mapped;         /* host pointer where the memory is host-visible */
};

struct _GrdVkKernel {
  VkShaderModule        module;
  VkDescriptorSetLayout set_layout;
  VkPipelineLayout      layout;
  VkPipeline            pipeline;
  gint                  n_buffers;
};

/* grd-vk-context.c */
GrdVkContext *grd_vk_context_get (GError **error);
GrdVkBuffer  *grd_vk_buffer_new (GrdVkContext *ctx, VkDeviceSize size, GError **error);
GrdVkBuffer  *grd_vk_buffer_ref (GrdVkBuffer *buf);
void          grd_vk_buffer_unref (GrdVkBuffer *buf);
/* A host-visible buffer of at least `size` bytes for uploads and downloads. */
GrdVkBuffer  *grd_vk_staging (GrdVkContext *ctx, VkDeviceSize size, GError **error);
gboolean      grd_vk_check (VkResult r, const char *what, GError **error);
/* Number of validation messages seen so far (GRADUS_VULKAN_VALIDATION=1). */
gint          grd_vk_validation_messages (void);

/* grd-vk-kernel.c: kernels from GLSL (compiled at run time, cached in memory
 * and on disk) or from SPIR-V built into the library. */
/* `body`: buffer declarations and main(); the header comes from grd_vk_glsl_header(). */
GrdVkKernel  *grd_vk_kernel_glsl (GrdVkContext *ctx, const char *body, gboolean int64,
                                  gboolean float64, gint n_buffers, GError **error);
GrdVkKernel  *grd_vk_kernel_spirv (GrdVkContext *ctx, const char *name, const guint32 *code,
                                   gsize n_bytes, gint n_buffers, const guint32 *spec,
                                   gint n_spec, GError **error);
void          grd_vk_kernel_free (GrdVkContext *ctx, GrdVkKernel *k);

/* grd-vk-codegen.c */
const char   *grd_vk_glsl_type (GrdDType dtype);
/* The header of every generated kernel: version, extensions, push constants,
 * math helpers for the dtypes used. */
void          grd_vk_glsl_header (GString *s, gboolean int64, gboolean float64);
void          grd_vk_glsl_buffer (GString *s, gint binding, GrdDType dtype, gboolean readonly);
/* Loading element `index` (GLSL expression) of binding b as its dtype's GLSL type. */
char         *grd_vk_glsl_load (gint binding, GrdDType dtype, const char *index);
/* The statement storing `value` to element `index` of binding b. */
char         *grd_vk_glsl_store (gint binding, GrdDType dtype, const char *index, const char *value);
char         *grd_vk_glsl_convert (const char *expr, GrdDType from, GrdDType to);
gboolean      grd_vk_op_is_elementwise (const char *op);
/* The GLSL expression of elementwise op `op` on already converted arguments.
 * `ct` is the type the arguments were converted to; in_dtypes the original
 * input dtypes; out the op's output dtype. Returns NULL for an unknown op. */
char         *grd_vk_glsl_elementwise (const char *op, GrdDType ct, GrdDType out, char **args);
/* The compute type of an elementwise op: what its arguments are converted to. */
GrdDType      grd_vk_compute_type (const char *op, const GrdDType *in, gint n_in, GrdDType out);

/* ------------------------------------------------------------ kernels of other files */

/* A step of grd-vk-function.c handed to a kernel file (grd-vk-conv.c): the
 * node, its inputs' and output's buffers and runtime shapes, and the
 * recorder's kernel and dispatch (barriers are the recorder's business). */
typedef struct _GrdVkExtCall GrdVkExtCall;
struct _GrdVkExtCall {
  const GrdNode *node;
  gint          n_in;
  GrdVkBuffer  *in_buf[GRD_VK_MAX_BINDINGS];
  GrdDType      in_dtype[GRD_VK_MAX_BINDINGS];
  gint          in_rank[GRD_VK_MAX_BINDINGS];
  gint64        in_shape[GRD_VK_MAX_BINDINGS][GRD_MAX_RANK];
  GrdVkBuffer  *out_buf;
  GrdDType      out_dtype;
  gint          out_rank;
  gint64        out_shape[GRD_MAX_RANK];
  gint64        out_size;
  gpointer      priv;
  /* `body`: buffer declarations and main() */
  GrdVkKernel *(*kernel)   (GrdVkExtCall *call, GString *body, gint n_buffers, GError **error);
  /* binds bufs[0..n-1], the last one written, and dispatches gx groups of GRD_VK_GROUP */
  void         (*dispatch) (GrdVkExtCall *call, GrdVkKernel *k, GrdVkBuffer *const *bufs, gint n,
                            const guint32 *push, gint n_push, guint32 gx);
};

/* grd-vk-conv.c: conv2d, pool_2d and their gradient ops. */
gboolean grd_vk_ext_handles (const char *op);
gboolean grd_vk_ext_record (GrdVkExtCall *call, GError **error);

/* grd-vk-random.c: `_random`, the CPU's draws. */
gboolean grd_vk_random_handles (const char *op);
gboolean grd_vk_random_record (GrdVkExtCall *call, gboolean has_float64, GError **error);

G_END_DECLS
