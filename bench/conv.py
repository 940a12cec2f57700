#!/usr/bin/env python3
"""Convolutions: Gradus against PyTorch, side by side in one run.

usage: python3 bench/conv.py [--build build] [--steps N] [--conv gemm|winograd]

Workloads (issue 12):
  (f) a conv layer: batch 64, 32 -> 64 channels, 3x3 filters, 28x28 images,
      border_mode "half"; forward plus the gradients for input and filters
      (the cost sum(conv2d(x, w) * gy)); Gradus's function outputs only the
      gradients, so its compiler drops the forward conv, which PyTorch's
      autograd cannot
  (f+) the same with the forward result y an output too: the same work on
      both sides
  (g) one SGD step of the digits CNN of data/examples/cnn-digits.gradus
      (conv 3x3 16 maps, relu, max pool 2x2, conv 3x3 32 maps, relu, dense,
      softmax crossentropy), minibatch 64 of the 8x8 digits, float32
Gradus's side is bench/conv-bench.c (the function called from C, feeds made
outside the timing), which also reports the share of time spent in BLAS
gemm (the Winograd path's gemms run on the engine's workers: their thread
time over the number of threads). --conv sets GRADUS_CONV for Gradus's side
(the path its convolutions take; by default the rule of
docs/ops-conv-index.md). Each side is measured in ROUNDS rounds and keeps its
best median;
PyTorch at its better thread count (1 or 2). Needs Debian's python3-torch.
"""
import json, os, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ROUNDS = 3
DIGITS = os.path.join(ROOT, "data", "examples", "datasets", "digits-train.csv")


def timeit(fn, reps, warmup=3):
    for _ in range(warmup):
        fn()
    t = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        t.append((time.perf_counter() - t0) * 1e6)
    return statistics.median(t)


def op(i, name, inputs, attrs=None):
    n = {"id": i, "kind": "op", "op": name, "inputs": inputs}
    if attrs:
        n["attrs"] = attrs
    return n


def conv_layer_graph(keep_forward=False):
    """keep_forward: the forward result y is an output too. Without it the
    compiled function computes only the two gradients (the cost is not an
    output, so the forward conv is dead), while PyTorch's autograd must run the
    forward; (f+) shows the layer with the forward computed, as PyTorch does."""
    nodes = [
        {"id": "x", "kind": "variable", "dtype": "float32", "shape": [64, 32, 28, 28]},
        {"id": "gy", "kind": "variable", "dtype": "float32", "shape": [64, 64, 28, 28]},
        {"id": "w", "kind": "shared", "dtype": "float32",
         "value": {"shape": [64, 32, 3, 3], "init": "glorot_uniform", "seed": 3}},
        op("y", "conv2d", ["x", "w"], {"border_mode": "half"}),
        op("yg", "mul", ["y", "gy"]),
        op("cost", "sum", ["yg"]),
        {"id": "g", "kind": "grad", "cost": "cost", "wrt": ["x", "w"]},
    ]
    feeds = {"x": {"shape": [64, 32, 28, 28], "init": "uniform", "seed": 1, "low": -1, "high": 1},
             "gy": {"shape": [64, 64, 28, 28], "init": "normal", "seed": 2}}
    return {"format": "gradus-graph", "version": 1, "name": "conv layer forward and backward",
            "nodes": nodes, "function": {"inputs": ["x", "gy"],
                                        "outputs": (["y"] if keep_forward else []) + ["g:0", "g:1"]},
            "run": {"steps": 1, "feeds": feeds}}


def cnn_step_graph():
    """The example's training function, without its held-out half."""
    with open(os.path.join(ROOT, "data", "examples", "cnn-digits.gradus")) as f:
        doc = json.load(f)
    doc["nodes"] = [n for n in doc["nodes"] if not n["id"].startswith("test_")]
    fn = doc["function"]
    fn["inputs"] = ["pixels", "y"]
    fn["outputs"] = ["loss"]
    for feed in doc["run"]["feeds"].values():
        if "csv" in feed:
            # beside the written document: data files outside its folder are refused
            feed["csv"] = os.path.basename(feed["csv"])
    doc["run"]["feeds"] = {k: v for k, v in doc["run"]["feeds"].items() if not k.startswith("test_")}
    return doc


def gradus_side(exe, path, steps):
    out = subprocess.run([exe, path, str(steps)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def torch_side(torch, steps, threads):
    torch.set_num_threads(threads)
    F = torch.nn.functional
    g = torch.Generator().manual_seed(0)
    r = {}
    x = (torch.rand(64, 32, 28, 28, generator=g) * 2 - 1).requires_grad_()
    w = (torch.rand(64, 32, 3, 3, generator=g) * 0.2 - 0.1).requires_grad_()
    gy = torch.randn(64, 64, 28, 28, generator=g)

    def layer():
        x.grad = None
        w.grad = None
        cost = (F.conv2d(x, w, padding=1) * gy).sum()
        cost.backward()
    r["f"] = timeit(layer, steps)
    r["f+"] = r["f"]  # the same PyTorch work: its backward needs the forward

    import numpy as np
    data = np.loadtxt(DIGITS, delimiter=",",
                      skiprows=1, dtype=np.float32)
    X = torch.tensor(data[:, :64] / 16).reshape(-1, 1, 8, 8)
    Y = torch.tensor(data[:, 64]).long()
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(128, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = [torch.randint(0, X.shape[0], (64,), generator=g) for _ in range(16)]
    k = [0]

    def step():
        idx = batches[k[0] % len(batches)]
        k[0] += 1
        opt.zero_grad()
        loss = F.cross_entropy(model(X[idx]), Y[idx])
        loss.backward()
        opt.step()
    r["g"] = timeit(step, steps)
    return r


def main():
    if "GRADUS_REEXEC" not in os.environ and os.path.exists("/usr/bin/python3") \
            and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
        os.environ["GRADUS_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    args = sys.argv[1:]
    build = args[args.index("--build") + 1] if "--build" in args else "build"
    steps = int(args[args.index("--steps") + 1]) if "--steps" in args else 20
    if "--conv" in args:
        os.environ["GRADUS_CONV"] = args[args.index("--conv") + 1]
    exe = os.path.join(build, "bench", "gradus-conv-bench")
    tmp = tempfile.mkdtemp(prefix="gradus-conv-bench-")
    shutil.copy(DIGITS, tmp)
    paths = {}
    for key, doc in (("f", conv_layer_graph()), ("f+", conv_layer_graph(True)),
                     ("g", cnn_step_graph())):
        paths[key] = os.path.join(tmp, key + ".gradus")
        with open(paths[key], "w") as f:
            json.dump(doc, f)
    try:
        import torch
    except ImportError:
        torch = None
        print("# PyTorch is not installed (Debian: python3-torch): Gradus only")
    gr, tr = {}, {}
    for _ in range(ROUNDS):
        for key in paths:
            res = gradus_side(exe, paths[key], steps)
            if key not in gr or res["call_us_median"] < gr[key]["call_us_median"]:
                gr[key] = res
        if torch is not None:
            for threads in (1, 2):
                for key, v in torch_side(torch, steps, threads).items():
                    tr[key] = min(v, tr.get(key, float("inf")))
    names = {"f": "(f) conv layer fwd+bwd, 64x32x28x28, 64 3x3",
             "f+": "(f+) the same, forward result an output too", "g": "(g) digits CNN SGD step, batch 64"}
    print(f"{'workload':46} {'gradus µs':>11} {'torch µs':>11} {'gradus/torch':>12} {'gemm share':>10}")
    for key in paths:
        g = gr[key]["call_us_median"]
        t = tr.get(key)
        ratio = f"{g / t:12.2f}" if t else f"{'–':>12}"
        tt = f"{t:11.0f}" if t else f"{'–':>11}"
        print(f"{names[key]:46} {g:11.0f} {tt} {ratio} {gr[key]['gemm_share']:10.2f}")
    print(json.dumps({"gradus": gr, "torch": tr}))


if __name__ == "__main__":
    main()
