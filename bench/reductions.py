#!/usr/bin/env python3
"""Reductions over axes and the per-call cost: Gradus, NumPy and PyTorch side by side.

usage: python3 bench/reductions.py [--build build] [--quick] [--only f|g|r|u|v] [--stat median|min]
                                  [--rounds N] [--help]

  (f) sum and max along axis 0 and along axis 1 of a 4096x1000 float32
      matrix: the four results of one call (Gradus: one function with four
      outputs; NumPy and PyTorch: four calls)
  (g) the primer's linear-regression step on scalars, per call: `gradus bench`
      (the call from C) and `gradus run --print none` (the whole command: the
      difference of two runs of different lengths, so start-up and compile
      cancel out) against the same step in plain Python floats
  (u) reductions fused with their elementwise producer, 4096x1000 float32:
      sum(x*x), mean((x-y)**2) and sum(x*y), none of which stores the
      elementwise values in Gradus (NumPy and PyTorch make the temporary)
  (v) reductions over one axis fused with their elementwise producer, or
      feeding an elementwise consumer, 4096x1000 float32: sum(x*x, axis=1),
      mean(tanh(x*y), axis=0), a bias gradient _reduce_to(g*h, b) (sum over
      axis 0), max(abs(x-y), axis=1) (a max fused with its producer) and
      x - max(x, axis=1, keepdims) (the reduction's consumer)
  (r) every reduction op in every layout of a 4096x1000 float32 matrix
      (rows: axis 1; columns: axis 0; all axes; keepdims: axis 0 kept; middle:
      axis 1 of 256x16x1000), and the gradient helpers _reduce_to (a bias
      gradient, 4096x1000 to 1000) and _unreduce (1000 broadcast to 4096x1000)

Each side is measured in ROUNDS rounds (--rounds N, default 3; --quick: one
round of 5 calls) and keeps its best median (the machine is shared and noisy;
--stat min keeps the fastest single call instead, which moves least when
other work takes the cores). PyTorch runs at its better thread count (1 or 2).
"""
import json, os, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROUNDS = 3
sys.path.insert(0, HERE)
import workloads as w  # noqa: E402

OPS = ["sum", "mean", "prod", "max", "min", "argmax", "argmin", "logsumexp"]
LAYOUTS = {  # name: (shape, attrs)
    "rows": ([4096, 1000], {"axis": 1}),
    "columns": ([4096, 1000], {"axis": 0}),
    "all": ([4096, 1000], {}),
    "keepdims": ([4096, 1000], {"axis": 0, "keepdims": True}),
    "middle": ([256, 16, 1000], {"axis": 1}),
}


STAT = "median"   # --stat min: the fastest call instead (a loaded machine's best estimate)


def timeit(fn, reps, warmup=3):
    for _ in range(warmup):
        fn()
    t = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        t.append((time.perf_counter() - t0) * 1e6)
    return min(t) if STAT == "min" else statistics.median(t)


def gradus_bench(gradus, path, steps):
    out = subprocess.run([gradus, "bench", path, "--steps", str(steps)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["call_us_min" if STAT == "min" else "call_us_median"]


def axis_graph():
    nodes = [w.var("x", "float32", [4096, 1000]), w.op("s0", "sum", ["x"], {"axis": 0}),
             w.op("s1", "sum", ["x"], {"axis": 1}), w.op("m0", "max", ["x"], {"axis": 0}),
             w.op("m1", "max", ["x"], {"axis": 1})]
    return w.graph("(f) sum and max along each axis", nodes, ["x"], ["s0", "s1", "m0", "m1"],
                   {"x": w.init([4096, 1000], "normal", seed=3, mean=0, std=1)})


def op_graph(op, layout):
    shape, attrs = LAYOUTS[layout]
    if op.startswith("arg") and layout == "keepdims":
        attrs = {"axis": 0, "keepdims": True}
    nodes = [w.var("x", "float32", shape), w.op("r", op, ["x"], attrs)]
    return w.graph(f"{op} {layout}", nodes, ["x"], ["r"],
                   {"x": w.init(shape, "uniform", seed=3, low=0.5, high=1.5)})


def helper_graph(name):
    if name == "_reduce_to":
        nodes = [w.var("g", "float32", [4096, 1000]), w.var("b", "float32", [1000]),
                 w.op("r", "_reduce_to", ["g", "b"])]
        feeds = {"g": w.init([4096, 1000], seed=4), "b": w.init([1000], seed=5)}
        return w.graph(name, nodes, ["g", "b"], ["r"], feeds)
    nodes = [w.var("g", "float32", [1000]), w.var("x", "float32", [4096, 1000]),
             w.op("r", "_unreduce", ["g", "x"], {"axis": 0})]
    feeds = {"g": w.init([1000], seed=4), "x": w.init([4096, 1000], seed=5)}
    return w.graph(name, nodes, ["g", "x"], ["r"], feeds)


def np_reduce(np, op, x, attrs):
    axis = attrs.get("axis")
    keep = attrs.get("keepdims", False)
    if op == "logsumexp":
        def f():
            m = x.max(axis=axis, keepdims=True)
            r = m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))
            return r if keep else np.squeeze(r, axis=axis)
        return f
    if op.startswith("arg"):
        fn = getattr(np, op)
        return lambda: fn(x, axis=axis, keepdims=keep) if keep else fn(x, axis=axis)
    fn = getattr(np, {"max": "amax", "min": "amin"}.get(op, op))
    return lambda: fn(x, axis=axis, keepdims=keep)


def torch_reduce(torch, op, x, attrs):
    axis = attrs.get("axis")
    keep = attrs.get("keepdims", False)
    dims = list(range(x.dim())) if axis is None else [axis]
    if op in ("max", "min"):
        fn = torch.amax if op == "max" else torch.amin
        return lambda: fn(x, dim=dims, keepdim=keep)
    if op.startswith("arg"):
        fn = getattr(torch, op)
        return (lambda: fn(x)) if axis is None else (lambda: fn(x, dim=axis, keepdim=keep))
    fn = getattr(torch, op)
    if op in ("prod", "logsumexp"):   # one dim at a time: all axes flattened
        if axis is None:
            return (lambda: fn(x)) if op == "prod" else (lambda: fn(x.reshape(-1), 0))
        return lambda: fn(x, axis, keepdim=keep)
    return lambda: fn(x, dim=dims, keepdim=keep)


def python_linreg_us(reps):
    """(wall, CPU) µs per step of a loop of plain Python float steps"""
    x, t = 1.0, 5.0
    st = {"a": -1.0, "b": 0.0}

    def linreg():
        err = st["a"] * x + st["b"] - t
        ga, gb = 2 * err * x, 2 * err
        st["a"] -= 0.01 * ga
        st["b"] -= 0.01 * gb
        return err * err
    best = (float("inf"), float("inf"))
    for _ in range(reps):
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(200000):
            linreg()
        w, c = (time.perf_counter() - w0) / 2e5 * 1e6, (time.process_time() - c0) / 2e5 * 1e6
        best = (min(best[0], w), min(best[1], c))
    return best


def gradus_run_us(gradus, path):
    """(wall, CPU) µs per step of `gradus run --print none`: the difference of
    a long and a short run, so start-up and compile cancel out"""
    def run(n):
        t0 = time.perf_counter()
        before = os.times()
        subprocess.run([gradus, "run", path, "--steps", str(n), "--print", "none"], check=True,
                       capture_output=True)
        after = os.times()
        cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
        return time.perf_counter() - t0, cpu
    best = (float("inf"), float("inf"))
    for _ in range(3):
        (wl, cl), (ws, cs) = run(2_000_000), run(200_000)
        best = (min(best[0], (wl - ws) / 1.8e6 * 1e6), min(best[1], (cl - cs) / 1.8e6 * 1e6))
    return best


def main():
    try:
        import numpy  # noqa: F401
    except ImportError:
        if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3":
            os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    args = sys.argv[1:]
    if "--help" in args or "-h" in args:
        print(__doc__.strip())
        return
    build = args[args.index("--build") + 1] if "--build" in args else "build"
    only = args[args.index("--only") + 1] if "--only" in args else "fguvr"
    quick = "--quick" in args
    global STAT
    STAT = args[args.index("--stat") + 1] if "--stat" in args else "median"
    reps = 5 if quick else 20
    rounds = 1 if quick else ROUNDS
    if "--rounds" in args:
        rounds = max(1, int(args[args.index("--rounds") + 1]))
    gradus = os.path.join(build, "app", "gradus")
    tmp = tempfile.mkdtemp(prefix="gradus-bench-red-")
    try:
        import numpy as np
    except ImportError:
        np = None
    try:
        import torch
    except ImportError:
        torch = None

    def write(name, g):
        p = os.path.join(tmp, name + ".gradus")
        with open(p, "w") as f:
            json.dump(g, f)
        return p

    if "f" in only:
        path = write("f", axis_graph())
        gr = min(gradus_bench(gradus, path, reps) for _ in range(rounds))
        nres, tres = None, None
        if np is not None:
            x = np.random.default_rng(0).standard_normal((4096, 1000)).astype(np.float32)
            f = lambda: (x.sum(0), x.sum(1), x.max(0), x.max(1))
            nres = min(timeit(f, reps) for _ in range(rounds))
        if torch is not None:
            xt = torch.randn(4096, 1000)
            f = lambda: (xt.sum(0), xt.sum(1), torch.amax(xt, 0), torch.amax(xt, 1))
            res = []
            for th in (1, 2):
                torch.set_num_threads(th)
                res.append(min(timeit(f, reps) for _ in range(rounds)))
            tres = min(res)
        print(f"(f) sum+max along axis 0 and 1, 4096x1000 f32: gradus {gr:.1f} µs, numpy "
              f"{nres or float('nan'):.1f} µs, torch {tres or float('nan'):.1f} µs; "
              f"gradus/torch {gr / tres if tres else float('nan'):.2f}, gradus/numpy {gr / nres if nres else float('nan'):.2f}")

    if "g" in only:
        path = write("g", w.linreg())
        c = min(gradus_bench(gradus, path, 200000) for _ in range(rounds))
        r = gradus_run_us(gradus, path)
        p = python_linreg_us(3 * rounds)
        print(f"(g) linreg step: gradus bench (from C) {c:.3f} µs; gradus run --print none {r[0]:.3f} µs wall, "
              f"{r[1]:.3f} µs CPU; plain Python floats {p[0]:.3f} µs wall, {p[1]:.3f} µs CPU; "
              f"run/python {r[0] / p[0]:.2f} wall, {r[1] / p[1]:.2f} CPU")

    if "u" in only:
        fused = {  # name: (nodes after x and y, NumPy, PyTorch)
            "sum(x*x)": ([w.op("q", "mul", ["x", "x"]), w.op("r", "sum", ["q"])],
                         lambda x, y: (x * x).sum(), lambda x, y: (x * x).sum()),
            "mean((x-y)**2)": ([w.op("d", "sub", ["x", "y"]), w.op("q", "square", ["d"]), w.op("r", "mean", ["q"])],
                               lambda x, y: np.mean((x - y) ** 2), lambda x, y: ((x - y) ** 2).mean()),
            "sum(x*y)": ([w.op("q", "mul", ["x", "y"]), w.op("r", "sum", ["q"])],
                         lambda x, y: (x * y).sum(), lambda x, y: (x * y).sum()),
        }
        for name, (nodes, nf, tf) in fused.items():
            g = w.graph(name, [w.var("x", "float32", [4096, 1000]), w.var("y", "float32", [4096, 1000])] + nodes,
                        ["x", "y"], ["r"], {"x": w.init([4096, 1000], seed=1), "y": w.init([4096, 1000], seed=2)})
            gr = min(gradus_bench(gradus, write("u", g), reps) for _ in range(rounds))
            nres = tres = None
            if np is not None:
                rng = np.random.default_rng(0)
                x, y = (rng.uniform(-1, 1, (4096, 1000)).astype(np.float32) for _ in range(2))
                nres = min(timeit(lambda: nf(x, y), reps) for _ in range(rounds))
            if torch is not None:
                xt, yt = torch.rand(4096, 1000), torch.rand(4096, 1000)
                res = []
                for th in (1, 2):
                    torch.set_num_threads(th)
                    res.append(min(timeit(lambda: tf(xt, yt), reps) for _ in range(rounds)))
                tres = min(res)
            print(f"(u) {name:16} gradus {gr:8.1f} µs, numpy {nres or float('nan'):8.1f} µs, torch "
                  f"{tres or float('nan'):8.1f} µs; gradus/numpy {gr / nres if nres else float('nan'):.2f}, "
                  f"gradus/torch {gr / tres if tres else float('nan'):.2f}", flush=True)

    if "v" in only:
        axis = {  # name: (nodes after x, y and b, NumPy, PyTorch)
            "sum(x*x, axis=1)": ([w.op("q", "mul", ["x", "x"]), w.op("r", "sum", ["q"], {"axis": 1})],
                                 lambda x, y: (x * x).sum(axis=1), lambda x, y: (x * x).sum(1)),
            "mean(tanh(x*y), axis=0)": ([w.op("p", "mul", ["x", "y"]), w.op("q", "tanh", ["p"]),
                                         w.op("r", "mean", ["q"], {"axis": 0})],
                                        lambda x, y: np.tanh(x * y).mean(axis=0), lambda x, y: torch.tanh(x * y).mean(0)),
            "_reduce_to(g*h, b)": ([w.op("q", "mul", ["x", "y"]), w.op("r", "_reduce_to", ["q", "b"])],
                                   lambda x, y: (x * y).sum(axis=0), lambda x, y: (x * y).sum(0)),
            "max(abs(x-y), axis=1)": ([w.op("d", "sub", ["x", "y"]), w.op("q", "abs", ["d"]),
                                       w.op("r", "max", ["q"], {"axis": 1})],
                                      lambda x, y: np.abs(x - y).max(axis=1),
                                      lambda x, y: torch.amax(torch.abs(x - y), 1)),
            "x - max(x, 1, keep)": ([w.op("m", "max", ["x"], {"axis": 1, "keepdims": True}),
                                     w.op("r", "sub", ["x", "m"])],
                                    lambda x, y: x - x.max(axis=1, keepdims=True),
                                    lambda x, y: x - torch.amax(x, 1, keepdim=True)),
        }
        for name, (nodes, nf, tf) in axis.items():
            g = w.graph(name, [w.var("x", "float32", [4096, 1000]), w.var("y", "float32", [4096, 1000]),
                               w.var("b", "float32", [1000])] + nodes,
                        ["x", "y", "b"], ["r"], {"x": w.init([4096, 1000], seed=1), "y": w.init([4096, 1000], seed=2),
                                                 "b": w.init([1000], seed=3)})
            gr = min(gradus_bench(gradus, write("v", g), reps) for _ in range(rounds))
            nres = tres = None
            if np is not None:
                rng = np.random.default_rng(0)
                x, y = (rng.uniform(-1, 1, (4096, 1000)).astype(np.float32) for _ in range(2))
                nres = min(timeit(lambda: nf(x, y), reps) for _ in range(rounds))
            if torch is not None:
                xt, yt = torch.rand(4096, 1000), torch.rand(4096, 1000)
                res = []
                for th in (1, 2):
                    torch.set_num_threads(th)
                    res.append(min(timeit(lambda: tf(xt, yt), reps) for _ in range(rounds)))
                tres = min(res)
            print(f"(v) {name:24} gradus {gr:8.1f} µs, numpy {nres or float('nan'):8.1f} µs, torch "
                  f"{tres or float('nan'):8.1f} µs; gradus/numpy {gr / nres if nres else float('nan'):.2f}, "
                  f"gradus/torch {gr / tres if tres else float('nan'):.2f}", flush=True)

    if "r" in only:
        print(f"\n{'op':10} {'layout':9} {'gradus µs':>10} {'numpy µs':>10} {'torch µs':>10} {'gr/np':>6} {'gr/torch':>8}")
        cases = [(op, lay) for op in OPS for lay in LAYOUTS] + [("_reduce_to", "bias"), ("_unreduce", "axis 0")]
        worst = 0
        for op, lay in cases:
            if op.startswith("_"):
                path = write(op, helper_graph(op))
            else:
                path = write(f"{op}-{lay}", op_graph(op, lay))
            gr = min(gradus_bench(gradus, path, reps) for _ in range(rounds))
            nres = tres = None
            if np is not None:
                rng = np.random.default_rng(0)
                if op == "_reduce_to":
                    g = rng.uniform(0, 1, (4096, 1000)).astype(np.float32)
                    f = lambda: g.sum(axis=0)
                elif op == "_unreduce":
                    v = rng.uniform(0, 1, 1000).astype(np.float32)
                    f = lambda: np.broadcast_to(v, (4096, 1000)).copy()
                else:
                    shape, attrs = LAYOUTS[lay]
                    x = rng.uniform(0.5, 1.5, shape).astype(np.float32)
                    f = np_reduce(np, op, x, attrs)
                nres = min(timeit(f, reps) for _ in range(rounds))
            if torch is not None:
                if op == "_reduce_to":
                    gt = torch.rand(4096, 1000)
                    f = lambda: gt.sum(0)
                elif op == "_unreduce":
                    vt = torch.rand(1000)
                    f = lambda: vt.expand(4096, 1000).contiguous()
                else:
                    shape, attrs = LAYOUTS[lay]
                    xt = torch.rand(*shape) + 0.5
                    f = torch_reduce(torch, op, xt, attrs)
                res = []
                for th in (1, 2):
                    torch.set_num_threads(th)
                    res.append(min(timeit(f, reps) for _ in range(rounds)))
                tres = min(res)
            rn = gr / nres if nres else float("nan")
            rt = gr / tres if tres else float("nan")
            worst = max(worst, rn)
            print(f"{op:10} {lay:9} {gr:10.1f} {nres or float('nan'):10.1f} {tres or float('nan'):10.1f} {rn:6.2f} {rt:8.2f}",
                  flush=True)
        print(f"worst gradus/numpy ratio: {worst:.2f}")


if __name__ == "__main__":
    main()
