#!/usr/bin/env python3
"""jacobian, hessian, rop and lop nodes in graph files against
torch.autograd.functional (jacobian, hessian, jvp, vjp) computed here, in
float64, speaking TAP: on a small network and through a scan (an RNN).

usage: test-derivatives-torch.py --gradus PATH
"""
import json
import os
import subprocess
import sys
import tempfile
import traceback

try:
    import torch
except ImportError:
    # Debian's python3-torch lives in the system interpreter
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != "/usr/bin/python3" \
            and not os.environ.get("GRADUS_TORCH_REEXEC"):
        os.environ["GRADUS_TORCH_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    print("1..0 # SKIP python3-torch is not installed (tools/install-deps.sh installs it)")
    sys.exit(0)

torch.set_default_dtype(torch.float64)
ARGS = sys.argv[1:]
GRADUS = ARGS[ARGS.index("--gradus") + 1]
TMP = tempfile.mkdtemp(prefix="gradus-derivatives-")
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def run(nodes, inputs, outputs, feeds):
    doc = {"format": "gradus-graph", "version": 1, "nodes": nodes,
           "function": {"inputs": inputs, "outputs": outputs}, "run": {"steps": 1, "feeds": feeds}}
    path = os.path.join(TMP, "d.gradus")
    with open(path, "w") as f:
        json.dump(doc, f)
    p = subprocess.run([GRADUS, "run", path], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return [torch.tensor(v) for v in json.loads(p.stdout.splitlines()[0])["outputs"]]


def close(got, want, what):
    assert got.shape == want.shape, f"{what}: shape {tuple(got.shape)}, want {tuple(want.shape)}"
    err = (got - want).abs().max().item()
    assert err <= 1e-10 + 1e-10 * want.abs().max().item(), f"{what}: max error {err}"


def var(i, shape):
    return {"id": i, "kind": "variable", "dtype": "float64", "shape": shape}


def op(i, name, inputs, attrs=None):
    n = {"id": i, "kind": "op", "op": name, "inputs": inputs}
    if attrs:
        n["attrs"] = attrs
    return n


g = torch.Generator().manual_seed(0)
W = torch.rand(3, 4, generator=g) * 2 - 1
x = torch.rand(4, generator=g) * 2 - 1
b = torch.rand(3, generator=g) * 2 - 1
V = torch.rand(3, 4, generator=g) * 2 - 1
v = torch.rand(4, generator=g) * 2 - 1
u = torch.rand(3, generator=g) * 2 - 1
NET = [var("W", [3, 4]), var("x", [4]), var("b", [3]),
       op("Wx", "dot", ["W", "x"]), op("z", "add", ["Wx", "b"]), op("f", "tanh", ["z"]),
       op("f2", "square", ["f"]), op("cost", "sum", ["f2"])]
FEEDS = {"W": W.tolist(), "x": x.tolist(), "b": b.tolist()}


def f_of(W, x):
    return torch.tanh(W @ x + b)


@test
def jacobian_and_hessian():
    nodes = NET + [{"id": "J", "kind": "jacobian", "expression": "f", "wrt": ["W", "x"]},
                   {"id": "H", "kind": "hessian", "cost": "cost", "wrt": ["x", "W"]}]
    jw, jx, hx, hw = run(nodes, ["W", "x", "b"], ["J:0", "J:1", "H:0", "H:1"], FEEDS)
    want_w, want_x = torch.autograd.functional.jacobian(f_of, (W, x))
    close(jw, want_w, "jacobian wrt W")
    close(jx, want_x, "jacobian wrt x")
    close(hx, torch.autograd.functional.hessian(lambda x: (f_of(W, x) ** 2).sum(), x), "hessian x")
    close(hw, torch.autograd.functional.hessian(lambda W: (f_of(W, x) ** 2).sum(), W), "hessian W")


@test
def rop_and_lop():
    nodes = NET + [var("V", [3, 4]), var("v", [4]), var("u", [3]),
                   {"id": "R", "kind": "rop", "f": "f", "wrt": ["W", "x"], "eval_points": ["V", "v"]},
                   {"id": "L", "kind": "lop", "f": "f", "wrt": ["W", "x"], "eval_points": ["u"]}]
    feeds = dict(FEEDS, V=V.tolist(), v=v.tolist(), u=u.tolist())
    r, lw, lx = run(nodes, ["W", "x", "b", "V", "v", "u"], ["R", "L:0", "L:1"], feeds)
    _, jv = torch.autograd.functional.jvp(f_of, (W, x), (V, v))
    _, (vw, vx) = torch.autograd.functional.vjp(f_of, (W, x), u)
    close(r, jv, "rop")
    close(lw, vw, "lop wrt W")
    close(lx, vx, "lop wrt x")


@test
def jacobian_through_scan():
    # h_t = tanh(x_t Wh-free: h_{t-1} U + x_t), the last state's jacobian wrt U and x
    T, n = 4, 3
    U = (torch.rand(n, n, generator=g) * 2 - 1) * 0.8
    xs = torch.rand(T, n, generator=g) * 2 - 1
    h0 = torch.rand(n, generator=g) * 2 - 1
    nodes = [var("U", [n, n]), var("xs", [T, n]), var("h0", [n]),
             {"id": "rnn", "kind": "scan", "sequences": ["xs"], "outputs_info": [{"init": "h0"}],
              "body": {"inputs": ["x_t", "h_prev"], "nodes": [
                  var("x_t", [n]), var("h_prev", [n]),
                  op("hU", "dot", ["h_prev", "U"]), op("pre", "add", ["hU", "x_t"]),
                  op("h", "tanh", ["pre"])], "outputs": ["h"]}},
             op("states", "mul", ["rnn", "two"]), {"id": "two", "kind": "constant", "dtype": "float64", "value": 2},
             {"id": "J", "kind": "jacobian", "expression": "states", "wrt": ["U", "xs"]}]
    ju, jxs = run(nodes, ["U", "xs", "h0"], ["J:0", "J:1"],
                  {"U": U.tolist(), "xs": xs.tolist(), "h0": h0.tolist()})

    def states(U, xs):
        h, out = h0, []
        for t in range(T):
            h = torch.tanh(h @ U + xs[t])
            out.append(h)
        return 2 * torch.stack(out)
    want_u, want_x = torch.autograd.functional.jacobian(states, (U, xs))
    close(ju, want_u, "jacobian of the scan wrt U")
    close(jxs, want_x, "jacobian of the scan wrt its sequence")


@test
def hessian_through_scan():
    # grad of grad through a loop: the hessian of sum(sin(h_t)) over an RNN's
    # states, with respect to the recurrent weights, the initial state and
    # the sequence (its gradient scan differentiated in turn)
    T, n = 4, 3
    U = (torch.rand(n, n, generator=g) * 2 - 1) * 0.8
    xs = torch.rand(T, n, generator=g) * 2 - 1
    h0 = torch.rand(n, generator=g) * 2 - 1
    nodes = [var("U", [n, n]), var("xs", [T, n]), var("h0", [n]),
             {"id": "rnn", "kind": "scan", "sequences": ["xs"], "outputs_info": [{"init": "h0"}],
              "body": {"inputs": ["x_t", "h_prev"], "nodes": [
                  var("x_t", [n]), var("h_prev", [n]),
                  op("hU", "dot", ["h_prev", "U"]), op("pre", "add", ["hU", "x_t"]),
                  op("h", "tanh", ["pre"])], "outputs": ["h"]}},
             op("s", "sin", ["rnn"]), op("cost", "sum", ["s"]),
             {"id": "H", "kind": "hessian", "cost": "cost", "wrt": ["U", "h0", "xs"]}]
    hu, hh, hx = run(nodes, ["U", "xs", "h0"], ["H:0", "H:1", "H:2"],
                     {"U": U.tolist(), "xs": xs.tolist(), "h0": h0.tolist()})

    def cost(U, h0, xs):
        h, total = h0, 0
        for t in range(T):
            h = torch.tanh(h @ U + xs[t])
            total = total + torch.sin(h).sum()
        return total
    close(hu, torch.autograd.functional.hessian(lambda U: cost(U, h0, xs), U), "hessian wrt U")
    close(hh, torch.autograd.functional.hessian(lambda h: cost(U, h, xs), h0), "hessian wrt h0")
    close(hx, torch.autograd.functional.hessian(lambda x: cost(U, h0, x), xs), "hessian wrt xs")


def main():
    print(f"1..{len(TESTS)}")
    failed = 0
    for i, fn in enumerate(TESTS, 1):
        try:
            fn()
            print(f"ok {i} - {fn.__name__}")
        except Exception:
            failed += 1
            print(f"not ok {i} - {fn.__name__}")
            for line in traceback.format_exc().splitlines():
                print(f"# {line}")
        sys.stdout.flush()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
