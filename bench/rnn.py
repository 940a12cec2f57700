#!/usr/bin/python3
"""The RNN workload of issue 11: an Elman RNN (tanh) of 128 hidden units over
100 steps, batch 32, 32 inputs, float32: one training step (forward, BPTT,
SGD update of the five parameters) in Gradus (scan and its gradient) against
PyTorch's nn.RNN with autograd, in the same run.

usage: python3 bench/rnn.py [--build build] [--steps N]

Prints one JSON object: gradus_us and torch_us (median per training step,
best of 3 rounds each; PyTorch's best of one thread and all threads) and
their ratio. Needs python3-torch for the PyTorch
side (a missing one is reported, not fatal).
"""
import json, os, statistics, subprocess, sys, tempfile, time

T, B, I, H = 100, 32, 32, 128
ROUNDS = 3


def graph(path):
    def sh(i, shape, seed, lo=-0.088, hi=0.088):
        return {"id": i, "kind": "shared", "dtype": "float32",
                "value": {"shape": shape, "init": "uniform", "low": lo, "high": hi, "seed": seed}}
    params = ["Wx", "Wh", "bh", "Wo", "bo"]
    nodes = [
        {"id": "x", "kind": "variable", "dtype": "float32", "shape": [T, B, I]},
        {"id": "target", "kind": "variable", "dtype": "float32", "shape": [T, B, 1]},
        {"id": "h0", "kind": "constant", "dtype": "float32", "value": {"shape": [B, H], "init": "zeros"}},
        sh("Wx", [I, H], 1), sh("Wh", [H, H], 2), sh("bh", [H], 3), sh("Wo", [H, 1], 4), sh("bo", [1], 5),
        {"id": "rnn", "kind": "scan", "sequences": ["x"], "outputs_info": [{"init": "h0"}],
         "body": {"inputs": ["x_t", "h_prev"], "nodes": [
             {"id": "x_t", "kind": "variable", "dtype": "float32", "shape": [B, I]},
             {"id": "h_prev", "kind": "variable", "dtype": "float32", "shape": [B, H]},
             {"id": "a", "kind": "op", "op": "dot", "inputs": ["x_t", "Wx"]},
             {"id": "b", "kind": "op", "op": "dot", "inputs": ["h_prev", "Wh"]},
             {"id": "ab", "kind": "op", "op": "add", "inputs": ["a", "b"]},
             {"id": "pre", "kind": "op", "op": "add", "inputs": ["ab", "bh"]},
             {"id": "h_t", "kind": "op", "op": "tanh", "inputs": ["pre"]}],
             "outputs": ["h_t"]}},
        # the readout on every step, as one matrix product over [T * B, H]
        {"id": "hs", "kind": "op", "op": "reshape", "inputs": ["rnn"], "attrs": {"shape": [T * B, H]}},
        {"id": "y", "kind": "op", "op": "dot", "inputs": ["hs", "Wo"]},
        {"id": "yb", "kind": "op", "op": "add", "inputs": ["y", "bo"]},
        {"id": "t2", "kind": "op", "op": "reshape", "inputs": ["target"], "attrs": {"shape": [T * B, 1]}},
        {"id": "err", "kind": "op", "op": "sub", "inputs": ["yb", "t2"]},
        {"id": "err2", "kind": "op", "op": "square", "inputs": ["err"]},
        {"id": "loss", "kind": "op", "op": "mean", "inputs": ["err2"]},
        {"id": "g", "kind": "grad", "cost": "loss", "wrt": params},
        {"id": "lr", "kind": "constant", "dtype": "float32", "value": 0.01}]
    updates = []
    for k, p in enumerate(params):
        nodes.append({"id": f"s_{p}", "kind": "op", "op": "mul", "inputs": ["lr", f"g:{k}"]})
        nodes.append({"id": f"{p}_next", "kind": "op", "op": "sub", "inputs": [p, f"s_{p}"]})
        updates.append({"shared": p, "value": f"{p}_next"})
    feeds = {"x": {"shape": [T, B, I], "init": "uniform", "low": -1, "high": 1, "seed": 7},
             "target": {"shape": [T, B, 1], "init": "uniform", "low": -1, "high": 1, "seed": 8}}
    doc = {"format": "gradus-graph", "version": 1, "name": "RNN benchmark", "nodes": nodes,
           "function": {"inputs": ["x", "target"], "outputs": ["loss"], "updates": updates},
           "run": {"steps": 10, "feeds": feeds}}
    with open(path, "w") as f:
        json.dump(doc, f)


def torch_step_us(reps, threads):
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    torch.set_num_threads(threads)
    rnn = torch.nn.RNN(I, H, nonlinearity="tanh", batch_first=False)
    out = torch.nn.Linear(H, 1)
    opt = torch.optim.SGD(list(rnn.parameters()) + list(out.parameters()), lr=0.01)
    x = torch.rand(T, B, I) * 2 - 1
    t = torch.rand(T, B, 1) * 2 - 1
    h0 = torch.zeros(1, B, H)

    def step():
        opt.zero_grad()
        hs, _ = rnn(x, h0)
        loss = ((out(hs) - t) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    for _ in range(3):
        step()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        ts.append((time.perf_counter() - t0) * 1e6)
    return statistics.median(ts)


def main():
    args = sys.argv[1:]
    build = args[args.index("--build") + 1] if "--build" in args else "build"
    steps = int(args[args.index("--steps") + 1]) if "--steps" in args else 30
    gradus = os.path.join(build, "app", "gradus")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "rnn.gradus")
        graph(path)
        g, tt = [], []
        for _ in range(ROUNDS):
            out = subprocess.run([gradus, "bench", path, "--steps", str(steps)], capture_output=True,
                                 text=True, check=True)
            g.append(json.loads(out.stdout)["call_us_median"])
            # PyTorch's best: one thread, or as many as the machine has
            # (on a busy machine more threads can be much slower)
            for threads in sorted({1, os.cpu_count() or 1}):
                r = torch_step_us(steps, threads)
                if r is not None:
                    tt.append(r)
    res = {"workload": f"RNN tanh {H} hidden, {T} steps, batch {B}, {I} inputs: forward + BPTT + SGD",
           "gradus_us": min(g), "torch_us": min(tt) if tt else None}
    res["ratio"] = res["gradus_us"] / res["torch_us"] if tt else None
    if not tt:
        res["torch"] = "python3-torch is not installed"
    print(json.dumps(res))


if __name__ == "__main__":
    main()
