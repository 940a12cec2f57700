#!/usr/bin/env python3
"""Gradus against NumPy, PyTorch and OpenBLAS/C, side by side in one run.

usage: python3 bench/run.py [--build build] [--quick]

Workloads (issue: CPU compiler):
  (a) the primer's linear-regression step on scalars (call overhead)
  (b) sum(tanh(x*y+3)*exp(-x)+sqrt(abs(y))) on 1e7 float32
  (c) softmax over the rows of a 4096x1000 float32 matrix
  (d) a 1024x1024 float32 dot
  (e) one SGD step of an MLP 784-512-512-10 (tanh, softmax crossentropy,
      batch 256, float32), and its compile time
Prints a table of median per-call times and ratios. Every side is measured in
ROUNDS rounds, one after the other, and keeps its best median: a 2-core
machine shared with other work has bursts of noise, and this way no side is
judged on a burst the others missed. Needs python3-numpy and python3-torch
(Debian packages); a missing one is reported, not fatal.
"""
import json, os, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROUNDS = 3
sys.path.insert(0, HERE)
import workloads  # noqa: E402


def timeit(fn, reps, warmup=3):
    for _ in range(warmup):
        fn()
    t = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        t.append((time.perf_counter() - t0) * 1e6)
    return statistics.median(t)


def gradus_bench(gradus, path, steps):
    out = subprocess.run([gradus, "bench", path, "--steps", str(steps)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def baseline(exe, *args):
    out = subprocess.run([exe, *map(str, args)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def numpy_suite(np, reps):
    r = {}
    x, t = 1.0, 5.0
    st = {"a": -1.0, "b": 0.0}

    def linreg():
        err = st["a"] * x + st["b"] - t
        ga, gb = 2 * err * x, 2 * err
        st["a"] -= 0.01 * ga
        st["b"] -= 0.01 * gb
        return err * err
    r["a"] = timeit(linreg, reps * 100)
    rng = np.random.default_rng(0)
    xs = rng.uniform(-1, 1, 10_000_000).astype(np.float32)
    ys = rng.uniform(-1, 1, 10_000_000).astype(np.float32)
    r["b"] = timeit(lambda: np.sum(np.tanh(xs * ys + 3) * np.exp(-xs) + np.sqrt(np.abs(ys))), reps)
    m = rng.standard_normal((4096, 1000)).astype(np.float32)

    def softmax():
        e = np.exp(m - m.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    r["c"] = timeit(softmax, reps)
    a = rng.uniform(0, 1, (1024, 1024)).astype(np.float32)
    b = rng.uniform(0, 1, (1024, 1024)).astype(np.float32)
    r["d"] = timeit(lambda: a @ b, reps)
    # (e) hand-written backpropagation
    X = rng.uniform(0, 1, (256, 784)).astype(np.float32)
    y = np.arange(256) % 10
    W = [rng.uniform(-0.05, 0.05, s).astype(np.float32) for s in [(784, 512), (512, 512), (512, 10)]]
    B = [np.zeros(s, np.float32) for s in (512, 512, 10)]

    def step():
        h1 = np.tanh(X @ W[0] + B[0])
        h2 = np.tanh(h1 @ W[1] + B[1])
        z = h2 @ W[2] + B[2]
        e = np.exp(z - z.max(1, keepdims=True))
        p = e / e.sum(1, keepdims=True)
        loss = -np.log(p[np.arange(256), y]).mean()
        g = p
        g[np.arange(256), y] -= 1
        g /= 256
        gW2, gB2 = h2.T @ g, g.sum(0)
        g2 = (g @ W[2].T) * (1 - h2 * h2)
        gW1, gB1 = h1.T @ g2, g2.sum(0)
        g1 = (g2 @ W[1].T) * (1 - h1 * h1)
        gW0, gB0 = X.T @ g1, g1.sum(0)
        for P, G in zip(W + B, [gW0, gW1, gW2, gB0, gB1, gB2]):
            P -= np.float32(0.01) * G
        return loss
    r["e"] = timeit(step, reps)
    return r


def torch_suite(torch, reps, threads):
    torch.set_num_threads(threads)
    r = {}
    a = torch.tensor(-1.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    x, t = torch.tensor(1.0, dtype=torch.float64), torch.tensor(5.0, dtype=torch.float64)

    def linreg():
        loss = (a * x + b - t) ** 2
        loss.backward()
        with torch.no_grad():
            a.sub_(0.01 * a.grad)
            b.sub_(0.01 * b.grad)
            a.grad = None
            b.grad = None
        return loss
    r["a"] = timeit(linreg, reps * 100)
    g = torch.Generator().manual_seed(0)
    xs = torch.rand(10_000_000, generator=g) * 2 - 1
    ys = torch.rand(10_000_000, generator=g) * 2 - 1
    with torch.no_grad():
        r["b"] = timeit(lambda: torch.sum(torch.tanh(xs * ys + 3) * torch.exp(-xs) + torch.sqrt(torch.abs(ys))), reps)
        m = torch.randn(4096, 1000, generator=g)
        r["c"] = timeit(lambda: torch.softmax(m, 1), reps)
        A, Bm = torch.rand(1024, 1024, generator=g), torch.rand(1024, 1024, generator=g)
        r["d"] = timeit(lambda: torch.mm(A, Bm), reps)
    X = torch.rand(256, 784, generator=g)
    y = torch.arange(256) % 10
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.Tanh(), torch.nn.Linear(512, 512),
                                torch.nn.Tanh(), torch.nn.Linear(512, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    lossf = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = lossf(model(X), y)
        loss.backward()
        opt.step()
        return loss
    r["e"] = timeit(step, reps)
    return r


def main():
    # Debian's python3-numpy and python3-torch live under /usr/bin/python3,
    # which may not be the python3 first on PATH.
    try:
        import numpy  # noqa: F401
    except ImportError:
        if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3":
            os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    args = sys.argv[1:]
    build = args[args.index("--build") + 1] if "--build" in args else "build"
    quick = "--quick" in args
    reps = 5 if quick else 20
    gradus = os.path.join(build, "app", "gradus")
    base = os.path.join(build, "bench", "gradus-baselines")
    tmp = tempfile.mkdtemp(prefix="gradus-bench-")
    for name, gr in [("a", workloads.linreg()), ("b", workloads.chain(10_000_000)), ("c", workloads.softmax(4096, 1000)),
                     ("d", workloads.matmul(1024)), ("e", workloads.mlp())]:
        with open(os.path.join(tmp, name + ".gradus"), "w") as f:
            json.dump(gr, f)
    def best(new, old):
        return {k: min(v, old.get(k, v)) for k, v in new.items()}
    gr, c, mg, npr, tr = {}, {}, None, {}, {}
    try:
        import numpy as np
    except ImportError:
        np = None
    try:
        import torch
    except ImportError:
        torch = None
    for _ in range(1 if quick else ROUNDS):
        for w in "abcde":
            r = gradus_bench(gradus, os.path.join(tmp, w + ".gradus"), reps * (100 if w == "a" else 1))
            if w not in gr or r["call_us_median"] < gr[w]["call_us_median"]:
                gr[w] = r
        c = best({"b": baseline(base, "fused", 10_000_000, reps)["call_us_median"],
                  "d": baseline(base, "sgemm", 1024, reps)["call_us_median"]}, c)
        m = baseline(base, "mlp-gemms", 0, reps)
        if mg is None or m["call_us_median"] < mg["call_us_median"]:
            mg = m
        if np is not None:
            npr = best(numpy_suite(np, reps), npr)
        if torch is not None:
            for threads in (1, 2):   # PyTorch at its best thread count
                tr = best(torch_suite(torch, reps, threads), tr)
    names = {"a": "(a) linreg step, scalars", "b": "(b) fused chain 1e7 f32", "c": "(c) softmax 4096x1000",
             "d": "(d) dot 1024 f32", "e": "(e) MLP SGD step"}
    print(f"{'workload':28} {'gradus µs':>11} {'numpy µs':>11} {'torch µs':>11} {'C/BLAS µs':>11}"
          f" {'np/gr':>7} {'torch/gr':>8} {'C/gr':>6}")
    for w in "abcde":
        g = gr[w]["call_us_median"]
        n, t, cc = npr.get(w), tr.get(w), c.get(w)
        fmt = lambda v: f"{v:11.1f}" if v is not None else f"{'-':>11}"
        ratio = lambda v, width: f"{v / g:{width}.2f}" if v is not None else f"{'-':>{width}}"
        print(f"{names[w]:28} {fmt(g)} {fmt(n)} {fmt(t)} {fmt(cc)} {ratio(n, 7)} {ratio(t, 8)} {ratio(cc, 6)}")
    print(f"\n(e) compile_ms {gr['e']['compile_ms']:.2f}; MLP matrix products alone (OpenBLAS) "
          f"{mg['call_us_median']:.0f} µs = {mg['call_us_median'] / gr['e']['call_us_median']:.2f} of the Gradus step")
    print(f"(a) Gradus call from C: {gr['a']['call_us_median']:.3f} µs median, {gr['a']['call_us_min']:.3f} µs min")


if __name__ == "__main__":
    main()
