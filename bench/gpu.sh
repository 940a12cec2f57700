#!/usr/bin/env bash
# bench/gpu.sh: Gradus's Vulkan back end on an NVIDIA GPU, against PyTorch on the same GPU.
#
#   bash bench/gpu.sh prepare
#       On the build machine (Debian 12 with Gradus's build dependencies):
#       builds Gradus in build-gpu (release), builds the driver below against it,
#       and packs the driver with the shared libraries it needs, the conformance
#       cases (../shared/conformance) and the digits data into .gpu/;
#       downloads the Vulkan loader and glvnd's packages into .gl/ (the NVIDIA
#       driver's Vulkan ICD, libGLX_nvidia, fails to load without glvnd's
#       libGLdispatch). Both folders are added to .git/info/exclude.
#   bash bench/gpu.sh run [--quick]
#       On the GPU machine. Builds Gradus there when its build dependencies are
#       found (pkg-config glib-2.0 json-glib-1.0 openblas vulkan, glslang's
#       headers), else uses the prepared .gpu/. Then:
#         1. parity: every conformance case on the CPU and on Vulkan, outputs and
#            shared variables compared call for call (float32 tolerances);
#         2. sgemm 4096x4096x4096 float32 (GFLOP/s) against torch.matmul with
#            TF32 off;
#         3. the CPU benchmark's fused chain tanh(x*y+3)*exp(-x)+sqrt(abs(y)) on
#            1e8 float32 (GB/s: x and y read, the result written) against a
#            device-to-device copy (bytes read + written);
#         4. the CPU benchmark's MLP step (784-512-512-10, tanh, softmax
#            crossentropy, batch 256, SGD) against the same step in PyTorch;
#         5. bench/conv.py's conv layer (batch 64, 32->64 channels, 3x3, 28x28,
#            forward and both gradients, row (f+)) and the digits CNN's SGD step
#            (row (g)) against PyTorch with cuDNN, TF32 off; both also join
#            the parity check (CPU against Vulkan);
#       and prints a table (also written to $OUT/gpu-table.md when OUT is set).
#       --quick: small sizes, for a dry run on lavapipe. GRADUS_GPU_PREBUILT=1
#       uses .gpu/ even where Gradus could be built.
#
# With the device tool: run `bash bench/gpu.sh prepare` here, then
#   run(command="GRADUS_GPU_PREBUILT=1 bash bench/gpu.sh run", carry=[".gl", ".gpu"],
#       timeout_s=400)
# (the whole run took 35 s of an H200 machine, docs/perf.md "GPU").
# Targets (issue 4): sgemm >= 1/2 of cuBLAS float32, the chain >= 70% of copy
# bandwidth, the MLP step faster than PyTorch.
set -euo pipefail
shopt -s inherit_errexit

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
GPU="$ROOT/.gpu"
MODE="${1:-run}"
QUICK=0
[ "${2:-}" = "--quick" ] && QUICK=1

driver_source() {
cat <<'EOF'
/* gpu-bench: parity of the CPU and Vulkan back ends on graph files, and call timings. */
#include "gradus.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  GrdDocument *doc;
  GrdFunction *fn;
  GPtrArray   *feeds;
  gint         n_in, n_out;
} Run;

static gboolean
open_run (const char *path, GrdBackend backend, Run *r, double *compile_ms, GError **error)
{
  memset (r, 0, sizeof *r);
  r->doc = grd_document_load (path, error);
  if (!r->doc)
    return FALSE;
  GrdGraph *g = grd_document_graph (r->doc);
  JsonObject *f = json_object_get_object_member (json_node_get_object (grd_document_root (r->doc)),
                                                 "function");
  JsonArray *ins = json_object_get_array_member (f, "inputs");
  JsonArray *outs = json_object_get_array_member (f, "outputs");
  JsonArray *ups = json_object_has_member (f, "updates")
                     ? json_object_get_array_member (f, "updates") : NULL;
  gint ni = json_array_get_length (ins), no = json_array_get_length (outs);
  gint nu = ups ? json_array_get_length (ups) : 0;
  GrdRef in[ni + 1], out[no + 1];
  GrdUpdate up[nu + 1];
  for (gint i = 0; i < ni; i++)
    if (!grd_graph_lookup (g, json_array_get_string_element (ins, i), &in[i], error))
      return FALSE;
  for (gint i = 0; i < no; i++)
    if (!grd_graph_lookup (g, json_array_get_string_element (outs, i), &out[i], error))
      return FALSE;
  for (gint i = 0; i < nu; i++) {
    JsonObject *u = json_array_get_object_element (ups, i);
    if (!grd_graph_lookup (g, json_object_get_string_member (u, "shared"), &up[i].shared, error)
        || !grd_graph_lookup (g, json_object_get_string_member (u, "value"), &up[i].value, error))
      return FALSE;
  }
  char *warning = NULL;
  gint64 t0 = g_get_monotonic_time ();
  r->fn = grd_function_new_on (g, in, ni, out, no, up, nu, backend, &warning, error);
  if (compile_ms)
    *compile_ms = (g_get_monotonic_time () - t0) / 1000.0;
  if (!r->fn)
    return FALSE;
  if (warning) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_UNSUPPORTED, "%s", warning);
    g_free (warning);
    return FALSE;
  }
  r->feeds = grd_document_feeds (r->doc, NULL, error);
  r->n_in = ni;
  r->n_out = no;
  return r->feeds != NULL;
}

static gboolean
step (Run *r, gint64 s, GrdTensor **out, GError **error)
{
  GrdTensor *in[r->n_in + 1];
  for (gint i = 0; i < r->n_in; i++)
    if (!(in[i] = grd_feed_next (r->feeds->pdata[i], s, error)))
      return FALSE;
  gboolean ok = grd_function_call (r->fn, in, out, error);
  for (gint i = 0; i < r->n_in; i++)
    grd_tensor_unref (in[i]);
  return ok;
}

static void
close_run (Run *r)
{
  if (r->feeds)
    g_ptr_array_unref (r->feeds);
  grd_function_free (r->fn);
  grd_document_free (r->doc);
}

/* largest |a-b| / (atol + rtol |b|); <= 1 passes. atol is relative to the
 * tensor's largest value: an element that is a long sum with cancellation
 * (a filter gradient over a whole batch) carries the rounding of its terms,
 * not of its own size. */
static double
badness (const GrdTensor *a, const GrdTensor *b)
{
  if (a->dtype != b->dtype || !grd_tensor_same_shape (a, b))
    return INFINITY;
  double scale = 1;
  for (gint64 i = 0; i < b->size; i++)
    if (isfinite (grd_tensor_get (b, i)))
      scale = fmax (scale, fabs (grd_tensor_get (b, i)));
  double rtol = 1e-4, atol = 1e-5 * scale, worst = 0;
  for (gint64 i = 0; i < a->size; i++) {
    double x = grd_tensor_get (a, i), y = grd_tensor_get (b, i);
    if (isnan (x) && isnan (y))
      continue;
    if (isinf (x) || isinf (y)) {
      if (x != y)
        return INFINITY;
      continue;
    }
    worst = fmax (worst, fabs (x - y) / (atol + rtol * fabs (y)));
  }
  return worst;
}

static int
parity (int argc, char **argv)
{
  int failures = 0, cases = 0;
  for (int a = 2; a < argc; a++) {
    Run c, v;
    g_autoptr (GError) error = NULL;
    cases++;
    if (!open_run (argv[a], GRD_BACKEND_CPU, &c, NULL, &error)
        || !open_run (argv[a], GRD_BACKEND_VULKAN, &v, NULL, &error)) {
      printf ("FAIL %s: %s\n", argv[a], error->message);
      failures++;
      continue;
    }
    gint steps = grd_document_run_steps (c.doc, 1);
    double worst = 0;
    GrdGraph *gc = grd_document_graph (c.doc), *gv = grd_document_graph (v.doc);
    for (gint s = 0; s < steps && !error; s++) {
      GrdTensor *oc[c.n_out + 1], *ov[v.n_out + 1];
      if (!step (&c, s, oc, &error))
        break;
      if (!step (&v, s, ov, &error) || !grd_function_sync (v.fn, &error))
        break;
      for (gint o = 0; o < c.n_out; o++) {
        double b = badness (ov[o], oc[o]);
        if (b > 1)
          printf ("  %s: call %d, output %d: %.3g of tolerance\n", argv[a], s, o, b);
        worst = fmax (worst, b);
        grd_tensor_unref (oc[o]);
        grd_tensor_unref (ov[o]);
      }
      for (gint i = 0; i < grd_graph_n_nodes (gc); i++)
        if (grd_graph_node_kind (gc, i) == GRD_NODE_SHARED) {
          GrdRef r = { i, 0 };
          worst = fmax (worst, badness (grd_graph_get_value (gv, r), grd_graph_get_value (gc, r)));
        }
    }
    if (error || worst > 1) {
      printf ("FAIL %s: %s (worst %.3g of tolerance)\n", argv[a], error ? error->message : "values",
              worst);
      failures++;
    }
    close_run (&c);
    close_run (&v);
  }
  printf ("parity: %d cases, %d failed\n", cases, failures);
  return failures ? 1 : 0;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* gpu-bench time FILE BACKEND STEPS: JSON with compile_ms, call_us_median, call_us_min */
static int
timing (int argc, char **argv)
{
  GrdBackend backend;
  if (argc < 5 || !grd_backend_from_name (argv[3], &backend))
    return 2;
  gint steps = atoi (argv[4]);
  Run r;
  double compile_ms;
  g_autoptr (GError) error = NULL;
  if (!open_run (argv[2], backend, &r, &compile_ms, &error)) {
    fprintf (stderr, "%s: %s\n", argv[2], error->message);
    return 1;
  }
  double *us = g_new (double, steps);
  for (gint s = -3; s < steps; s++) {
    GrdTensor *out[r.n_out + 1];
    gint64 t0 = g_get_monotonic_time ();
    if (!step (&r, s < 0 ? 0 : s, out, &error)) {
      fprintf (stderr, "%s: %s\n", argv[2], error->message);
      return 1;
    }
    for (gint o = 0; o < r.n_out; o++)
      grd_tensor_unref (out[o]);
    if (s >= 0)
      us[s] = g_get_monotonic_time () - t0;
  }
  qsort (us, steps, sizeof (double), cmp_double);
  printf ("{\"compile_ms\": %.3f, \"call_us_median\": %.1f, \"call_us_min\": %.1f, \"steps\": %d, "
          "\"backend\": \"%s\"}\n", compile_ms, us[steps / 2], us[0], steps, argv[3]);
  g_free (us);
  close_run (&r);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc >= 2 && !strcmp (argv[1], "parity"))
    return parity (argc, argv);
  if (argc >= 2 && !strcmp (argv[1], "time"))
    return timing (argc, argv);
  if (argc >= 2 && !strcmp (argv[1], "devices")) {
    g_autoptr (GError) error = NULL;
    char *d = grd_vulkan_describe_devices (&error);
    printf ("%s", d ? d : error->message);
    g_free (d);
    return d ? 0 : 1;
  }
  fprintf (stderr, "usage: gpu-bench parity FILE... | time FILE BACKEND STEPS | devices\n");
  return 2;
}
EOF
}

# Compiles the driver against a built engine library ($1: build folder), into $2.
build_driver() {
  local build="$1" out="$2" src
  src="$(mktemp --suffix=.c)"
  driver_source >"$src"
  cc -O2 -std=gnu11 -I"$ROOT/engine" $(pkg-config --cflags glib-2.0 json-glib-1.0) "$src" -o "$out" \
    "$build/engine/libgradus-engine.a" \
    $(pkg-config --libs gio-2.0 glib-2.0 json-glib-1.0 openblas) -lvulkan \
    -lSPIRV -lSPIRV-Tools-opt -lSPIRV-Tools -lglslang -lMachineIndependent -lOSDependent \
    -lGenericCodeGen -lOGLCompiler -lglslang-default-resource-limits -lstdc++ -lm -lpthread
  rm -f "$src"
}

can_build() {
  command -v meson >/dev/null && command -v ninja >/dev/null && command -v cc >/dev/null \
    && pkg-config --exists glib-2.0 json-glib-1.0 openblas vulkan 2>/dev/null \
    && [ -f /usr/include/glslang/Include/glslang_c_interface.h ] \
    && command -v glslangValidator >/dev/null
}

build_here() {
  local build="$ROOT/build-gpu"
  # not -march=native: the GPU machine's processor is not this one
  [ -d "$build" ] || meson setup "$build" "$ROOT" --buildtype=release -Dnative=false >/dev/null
  ninja -C "$build" engine/libgradus-engine.a >/dev/null
  build_driver "$build" "$build/gpu-bench"
  echo "$build/gpu-bench"
}

if [ "$MODE" = prepare ]; then
  exe="$(build_here)"
  rm -rf "$GPU"
  mkdir -p "$GPU/conformance"
  cp "$exe" "$GPU/gpu-bench"
  # every shared library but the C library's own (the GPU machine has a newer
  # one), packed small: the working tree that travels is limited to 64 MiB
  libs="$(mktemp -d)"
  ldd "$exe" | awk '/=> \//{print $3}' | while read -r lib; do
    case "$(basename "$lib")" in
      libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*|libvulkan.so*) ;;
      *) cp -L "$lib" "$libs/" ;;
    esac
  done
  tar -C "$libs" -cJf "$GPU/lib.tar.xz" .
  rm -rf "$libs"
  if [ -d "$ROOT/../shared/conformance" ]; then
    cp "$ROOT"/../shared/conformance/*.gradus "$GPU/conformance/" 2>/dev/null || true
    cp -r "$ROOT"/../shared/conformance/*.npy "$ROOT"/../shared/conformance/*.csv "$GPU/conformance/" 2>/dev/null || true
  fi
  # the CNN's data, for a GPU machine without the repository's data folder
  cp "$ROOT/data/examples/datasets/digits-train.csv" "$GPU/"
  grep -qx '/.gpu/' "$ROOT/.git/info/exclude" 2>/dev/null || echo '/.gpu/' >>"$ROOT/.git/info/exclude"
  grep -qx '/.gl/' "$ROOT/.git/info/exclude" 2>/dev/null || echo '/.gl/' >>"$ROOT/.git/info/exclude"
  # the NVIDIA driver's Vulkan library needs glvnd's dispatch libraries too
  if [ ! -d "$ROOT/.gl" ] || ! ls "$ROOT"/.gl/libglvnd0*.deb >/dev/null 2>&1; then
    mkdir -p "$ROOT/.gl" /tmp/amd64/partial
    o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
    apt-get $o update >/dev/null && (cd "$ROOT/.gl" && apt-get $o download libvulkan1 libglvnd0 libglx0 \
      libgl1 libegl1 libopengl0 libgles2 >/dev/null) \
      || echo "warning: could not download the Vulkan loader packages into .gl/" >&2
  fi
  du -sh "$GPU" "$ROOT/.gl"
  echo "prepared: carry .gpu and .gl"
  exit 0
fi

[ "$MODE" = run ] || { echo "usage: $0 prepare | run [--quick]" >&2; exit 2; }

# ---------------------------------------------------------------- the GPU machine
# the loader and glvnd's dispatch libraries, which the driver's ICD needs
if ls "$ROOT"/.gl/*.deb >/dev/null 2>&1; then
  for f in "$ROOT"/.gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
if [ -d /usr/local/nvidia/share/vulkan/icd.d ] && [ -z "${VK_DRIVER_FILES:-}" ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
if [ -z "${GRADUS_GPU_PREBUILT:-}" ] && can_build; then
  BENCH="$(build_here)"
  LIBS=""
else
  BENCH="$GPU/gpu-bench"
  [ -x "$BENCH" ] || { echo "no build tools here and no prepared .gpu/: run '$0 prepare' first" >&2; exit 1; }
  LIBS="$(mktemp -d)"
  trap 'rm -rf "$LIBS"' EXIT
  tar -C "$LIBS" -xJf "$GPU/lib.tar.xz"
fi
gb() { LD_LIBRARY_PATH="$LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$BENCH" "$@"; }
export XDG_CACHE_HOME="${XDG_CACHE_HOME:-/tmp/gradus-cache}"

echo "== devices"
gb devices

CONF="$ROOT/../shared/conformance"
[ -d "$CONF" ] || CONF="$GPU/conformance"
echo "== parity on the conformance cases ($CONF)"
PARITY="$(cd "$CONF" && gb parity ./*.gradus 2>&1 | tail -20)" || true
echo "$PARITY"

WORK="$(mktemp -d)"
if [ $QUICK = 1 ]; then N_MM=256; N_CHAIN=1000000; BATCH=64; STEPS=5; else N_MM=4096; N_CHAIN=100000000; BATCH=256; STEPS=30; fi
python3 - "$WORK" "$N_MM" "$N_CHAIN" "$BATCH" "$HERE" <<'EOF'
import json, os, sys
work, n_mm, n_chain, batch, here = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
sys.path.insert(0, here)
import workloads as w

def shared(i, shape, kind="uniform", seed=1, **kw):
    return {"id": i, "kind": "shared", "dtype": "float32", "value": w.init(shape, kind, seed, **kw)}

# operands and results stay on the device: the results are updates of shared
# variables, the only output is a constant
mm = [shared("a", [n_mm, n_mm], seed=4), shared("b", [n_mm, n_mm], seed=5),
      shared("c", [n_mm, n_mm], "zeros"), w.const("one", "float32", 1.0),
      w.op("ab", "dot", ["a", "b"])]
chain = [shared("x", [n_chain], seed=1, low=-1, high=1), shared("y", [n_chain], seed=2, low=-1, high=1),
         shared("z", [n_chain], "zeros"), w.const("three", "float32", 3.0),
         w.op("xy", "mul", ["x", "y"]), w.op("xy3", "add", ["xy", "three"]), w.op("t", "tanh", ["xy3"]),
         w.op("nx", "neg", ["x"]), w.op("e", "exp", ["nx"]), w.op("te", "mul", ["t", "e"]),
         w.op("ay", "abs", ["y"]), w.op("s", "sqrt", ["ay"]), w.op("zz", "add", ["te", "s"])]
# the chain's first two ops alone: memory-bound where the chain's accurate
# tanh and exp (grd-vk-codegen.c) may be bound by arithmetic
simple = chain[:5] + [w.op("xy3", "add", ["xy", "three"])]
graphs = {
    "sgemm": w.graph("sgemm", mm, [], ["one"], {}, [{"shared": "c", "value": "ab"}]),
    "simple": w.graph("simple", simple, [], ["three"], {}, [{"shared": "z", "value": "xy3"}]),
    "chain": w.graph("chain", chain, [], ["three"], {}, [{"shared": "z", "value": "zz"}]),
    "mlp": w.mlp(batch=batch),
}
import conv
graphs["conv"] = conv.conv_layer_graph(keep_forward=True)
# for the timing: the same layer with x and gy shared and y and both
# gradients written to shared variables, so that the call moves nothing
# between host and device (as PyTorch's tensors stay on the GPU); the feeds of
# the file above would be drawn on the CPU and uploaded at every call
layer = conv.conv_layer_graph(keep_forward=True)
nodes = [n for n in layer["nodes"] if n["id"] not in ("x", "gy")]
nodes = [shared("x", [64, 32, 28, 28], seed=1, low=-1, high=1),
         dict(shared("gy", [64, 64, 28, 28], seed=2), value=w.init([64, 64, 28, 28], "normal", 2)),
         shared("ys", [64, 64, 28, 28], "zeros"), shared("gxs", [64, 32, 28, 28], "zeros"),
         shared("gws", [64, 32, 3, 3], "zeros"), w.const("one", "float32", 1.0)] + nodes
graphs["conv-resident"] = w.graph("conv layer, resident", nodes, [], ["one"], {},
                                  [{"shared": "ys", "value": "y"}, {"shared": "gxs", "value": "g:0"},
                                   {"shared": "gws", "value": "g:1"}])
cnn = conv.cnn_step_graph()
cnn["run"]["steps"] = 20  # for the parity check: 20 SGD steps on both back ends
graphs["cnn"] = cnn
for name, g in graphs.items():
    with open(os.path.join(work, name + ".gradus"), "w") as f:
        json.dump(g, f)
EOF
if [ -f "$ROOT/data/examples/datasets/digits-train.csv" ]; then
  cp "$ROOT/data/examples/datasets/digits-train.csv" "$WORK/"
else
  cp "$GPU/digits-train.csv" "$WORK/"
fi
echo "== parity of the conv layer and 20 steps of the digits CNN"
PARITY_CNN="$(cd "$WORK" && gb parity conv.gradus cnn.gradus 2>&1 | tail -5)" || true
echo "$PARITY_CNN"

field() { python3 -c "import json,sys; print(json.loads(sys.stdin.read())['$1'])"; }
echo "== Gradus on Vulkan"
T_MM="$(gb time "$WORK/sgemm.gradus" vulkan "$STEPS" | field call_us_median)"
T_CHAIN="$(gb time "$WORK/chain.gradus" vulkan "$STEPS" | field call_us_median)"
T_MLP="$(gb time "$WORK/mlp.gradus" vulkan "$STEPS" | field call_us_median)"
T_SIMPLE="$(gb time "$WORK/simple.gradus" vulkan "$STEPS" | field call_us_median)"
echo "x*y+3 alone: $T_SIMPLE us"
CONV_STEPS=$STEPS; [ $QUICK = 1 ] && CONV_STEPS=2
T_CONV="$(gb time "$WORK/conv-resident.gradus" vulkan "$CONV_STEPS" | field call_us_median)"
T_CONV_FED="$(gb time "$WORK/conv.gradus" vulkan "$CONV_STEPS" | field call_us_median)"
T_CNN="$(gb time "$WORK/cnn.gradus" vulkan "$STEPS" | field call_us_median)"
T_CONV_CPU="$(gb time "$WORK/conv-resident.gradus" cpu "$CONV_STEPS" | field call_us_median)"
echo "sgemm $T_MM us, chain $T_CHAIN us, mlp $T_MLP us, conv layer $T_CONV us (CPU $T_CONV_CPU us; fed from the host at each call $T_CONV_FED us), cnn step $T_CNN us"

echo "== PyTorch on the same GPU"
TORCH="$(GRADUS_DIGITS="$WORK/digits-train.csv" python3 - "$N_MM" "$N_CHAIN" "$BATCH" <<'EOF' 2>&1 || echo '{}'
import json, sys, time
n_mm, n_chain, batch = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
try:
    import torch
except ImportError:
    print("{}"); sys.exit(0)
if not torch.cuda.is_available():
    print("{}"); sys.exit(0)
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
dev = "cuda"

def med(fn, reps=30, warm=5):
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); torch.cuda.synchronize()
        ts.append((time.perf_counter() - t0) * 1e6)
    ts.sort()
    return ts[len(ts) // 2]

a = torch.rand(n_mm, n_mm, device=dev); b = torch.rand(n_mm, n_mm, device=dev); c = torch.empty_like(a)
r = {"mm": med(lambda: torch.matmul(a, b, out=c))}
x = torch.rand(n_chain, device=dev) * 2 - 1; y = torch.rand(n_chain, device=dev) * 2 - 1
z = torch.empty_like(x)
r["copy"] = med(lambda: z.copy_(x))
r["chain_eager"] = med(lambda: torch.add(torch.tanh(x * y + 3) * torch.exp(-x), torch.sqrt(torch.abs(y)), out=z))
sizes = (784, 512, 512, 10)
Ws = [torch.nn.init.xavier_uniform_(torch.empty(sizes[k], sizes[k + 1], device=dev)).requires_grad_() for k in range(3)]
bs = [torch.zeros(sizes[k + 1], device=dev, requires_grad=True) for k in range(3)]
X = torch.rand(batch, 784, device=dev); Y = torch.arange(batch, device=dev) % 10
def step():
    h = X
    for k in range(3):
        h = h @ Ws[k] + bs[k]
        if k < 2:
            h = torch.tanh(h)
    loss = torch.nn.functional.cross_entropy(h, Y)
    gs = torch.autograd.grad(loss, Ws + bs)
    with torch.no_grad():
        for p, g in zip(Ws + bs, gs):
            p -= 0.01 * g
    return loss
r["mlp"] = med(step)
F = torch.nn.functional
torch.backends.cudnn.benchmark = True
xc = (torch.rand(64, 32, 28, 28, device=dev) * 2 - 1).requires_grad_()
wc = (torch.rand(64, 32, 3, 3, device=dev) * 0.2 - 0.1).requires_grad_()
gy = torch.randn(64, 64, 28, 28, device=dev)
def layer():
    xc.grad = None; wc.grad = None
    (F.conv2d(xc, wc, padding=1) * gy).sum().backward()
r["conv"] = med(layer)
import numpy as np, os
data = np.loadtxt(os.environ["GRADUS_DIGITS"], delimiter=",", skiprows=1, dtype=np.float32)
Xd = torch.tensor(data[:, :64] / 16, device=dev).reshape(-1, 1, 8, 8)
Yd = torch.tensor(data[:, 64], device=dev).long()
model = torch.nn.Sequential(
    torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(16, 32, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(128, 10)).to(dev)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
batches = [torch.randint(0, Xd.shape[0], (64,), device=dev) for _ in range(16)]
k = [0]
def cnn_step():
    idx = batches[k[0] % len(batches)]; k[0] += 1
    opt.zero_grad()
    F.cross_entropy(model(Xd[idx]), Yd[idx]).backward()
    opt.step()
r["cnn"] = med(cnn_step)
r["device"] = torch.cuda.get_device_name(0)
print(json.dumps(r))
EOF
)"
echo "$TORCH"

python3 - "$T_MM" "$T_CHAIN" "$T_MLP" "$N_MM" "$N_CHAIN" "$TORCH" "$PARITY" "$T_CONV" "$T_CNN" "$T_CONV_CPU" "$PARITY_CNN" "$T_SIMPLE" <<'EOF' | tee "$WORK/table.md"
import json, sys
t_mm, t_chain, t_mlp = map(float, sys.argv[1:4]); n_mm, n_chain = int(sys.argv[4]), int(sys.argv[5])
t_conv, t_cnn, t_conv_cpu = map(float, sys.argv[8:11])
try:
    tr = json.loads(sys.argv[6].strip().splitlines()[-1])
except Exception:
    tr = {}
parity = sys.argv[7].strip().splitlines()[-1] if sys.argv[7].strip() else "parity: not run"
flops = 2 * n_mm ** 3
chain_bytes = 12 * n_chain
print(f"| measure ({tr.get('device', 'GPU')}) | Gradus Vulkan | PyTorch | ratio | target |")
print("|---|---|---|---|---|")
g = flops / t_mm / 1e3
row = f"| sgemm {n_mm} float32 | {g:.4g} GFLOP/s | "
if "mm" in tr:
    p = flops / tr["mm"] / 1e3
    row += f"{p:.0f} GFLOP/s (torch.matmul, TF32 off) | {g / p:.2f} | >= 0.5 |"
else:
    row += "- | - | >= 0.5 |"
print(row)
def bandwidth_row(label, t_us, note, target):
    """a kernel reading x and y and writing one result, against the copy"""
    g = chain_bytes / t_us / 1e3
    row = f"| {label} | {g:.4g} GB/s | "
    if "copy" in tr:
        p = 8 * n_chain / tr["copy"] / 1e3
        row += f"{p:.0f} GB/s ({note}) | {g / p:.2f} | {target} |"
    else:
        row += f"- | - | {target} |"
    print(row)


def speedup_row(label, t_us, key, note, target):
    """a step timed on both sides: PyTorch's time over Gradus's"""
    row = f"| {label} | {t_us:.0f} us | "
    if key in tr:
        row += f"{tr[key]:.0f} us{note} | {tr[key] / t_us:.2f} (speed-up) | {target} |"
    else:
        row += f"- | - | {target} |"
    print(row)


bandwidth_row(f"fused chain {n_chain:.0e} float32", t_chain,
              f"device copy; eager chain {tr.get('chain_eager', 0):.0f} us", ">= 0.7")
bandwidth_row(f"x*y+3 alone, {n_chain:.0e} float32", float(sys.argv[12]), "device copy", "-")
speedup_row("MLP step 784-512-512-10, batch", t_mlp, "mlp", "", "> 1")
speedup_row(f"conv layer 64x32x28x28, 64 3x3, fwd+bwd (CPU here: {t_conv_cpu:.0f} us)", t_conv,
            "conv", " (cuDNN)", "-")
speedup_row("digits CNN SGD step, batch 64", t_cnn, "cnn", " (cuDNN)", "-")
print(f"\n{parity}")
last = sys.argv[11].strip().splitlines()
print(f"conv layer and CNN {last[-1] if last else 'parity: not run'}")
EOF
if [ -n "${OUT:-}" ]; then cp "$WORK/table.md" "$OUT/gpu-table.md"; fi
rm -rf "$WORK"
