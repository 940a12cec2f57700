#!/usr/bin/env python3
"""Writes the benchmark graphs of bench/run.py as .gradus files into a folder.

usage: workloads.py OUT_DIR
Inputs are drawn with "init" values, so the files stay small.
"""
import json, os, sys


def var(i, dtype, shape):
    return {"id": i, "kind": "variable", "dtype": dtype, "shape": shape}


def op(i, name, inputs, attrs=None):
    n = {"id": i, "kind": "op", "op": name, "inputs": inputs}
    if attrs:
        n["attrs"] = attrs
    return n


def const(i, dtype, value):
    return {"id": i, "kind": "constant", "dtype": dtype, "value": value}


def init(shape, kind="uniform", seed=1, **kw):
    d = {"shape": shape, "init": kind, "seed": seed}
    d.update(kw)
    return d


def graph(name, nodes, inputs, outputs, feeds, updates=None):
    f = {"inputs": inputs, "outputs": outputs}
    if updates:
        f["updates"] = updates
    return {"format": "gradus-graph", "version": 1, "name": name, "nodes": nodes,
            "function": f, "run": {"steps": 1, "feeds": feeds}}


def linreg():
    nodes = [var("x", "float64", []), var("t", "float64", []),
             {"id": "a", "kind": "shared", "dtype": "float64", "value": -1.0},
             {"id": "b", "kind": "shared", "dtype": "float64", "value": 0.0},
             op("ax", "mul", ["a", "x"]), op("y", "add", ["ax", "b"]), op("err", "sub", ["y", "t"]),
             const("two", "float64", 2.0), op("mse", "pow", ["err", "two"]),
             {"id": "g", "kind": "grad", "cost": "mse", "wrt": ["a", "b"]},
             const("lr", "float64", 0.01), op("sa", "mul", ["lr", "g:0"]), op("sb", "mul", ["lr", "g:1"]),
             op("a1", "sub", ["a", "sa"]), op("b1", "sub", ["b", "sb"])]
    return graph("(a) primer linear-regression step", nodes, ["x", "t"], ["mse"],
                 {"x": 1.0, "t": 5.0}, [{"shared": "a", "value": "a1"}, {"shared": "b", "value": "b1"}])


def chain(n):
    nodes = [var("x", "float32", [n]), var("y", "float32", [n]),
             const("three", "float32", 3.0),
             op("xy", "mul", ["x", "y"]), op("xy3", "add", ["xy", "three"]), op("t", "tanh", ["xy3"]),
             op("nx", "neg", ["x"]), op("e", "exp", ["nx"]), op("te", "mul", ["t", "e"]),
             op("ay", "abs", ["y"]), op("s", "sqrt", ["ay"]), op("z", "add", ["te", "s"]),
             op("total", "sum", ["z"])]
    return graph("(b) sum(tanh(x*y+3)*exp(-x)+sqrt(abs(y)))", nodes, ["x", "y"], ["total"],
                 {"x": init([n], seed=1, low=-1, high=1), "y": init([n], seed=2, low=-1, high=1)})


def softmax(rows, cols):
    nodes = [var("x", "float32", [rows, cols]), op("p", "softmax", ["x"])]
    return graph("(c) softmax over rows", nodes, ["x"], ["p"],
                 {"x": init([rows, cols], "normal", seed=3, mean=0, std=1)})


def matmul(n):
    nodes = [var("a", "float32", [n, n]), var("b", "float32", [n, n]), op("c", "dot", ["a", "b"])]
    return graph("(d) dot", nodes, ["a", "b"], ["c"],
                 {"a": init([n, n], seed=4), "b": init([n, n], seed=5)})


def mlp(batch=256, sizes=(784, 512, 512, 10)):
    nodes = [var("X", "float32", [None, sizes[0]]), var("y", "int64", [None])]
    h = "X"
    params = []
    for k in range(3):
        W, b = f"W{k+1}", f"b{k+1}"
        nodes.append({"id": W, "kind": "shared", "dtype": "float32",
                      "value": init([sizes[k], sizes[k + 1]], "glorot_uniform", seed=10 + k)})
        nodes.append({"id": b, "kind": "shared", "dtype": "float32", "value": init([sizes[k + 1]], "zeros")})
        params += [W, b]
        nodes.append(op(f"z{k+1}", "dot", [h, W]))
        nodes.append(op(f"a{k+1}", "add", [f"z{k+1}", b]))
        if k < 2:
            nodes.append(op(f"h{k+1}", "tanh", [f"a{k+1}"]))
            h = f"h{k+1}"
    nodes += [op("p", "softmax", ["a3"]), op("ce", "categorical_crossentropy", ["p", "y"]),
              op("loss", "mean", ["ce"]), {"id": "g", "kind": "grad", "cost": "loss", "wrt": params},
              const("lr", "float32", 0.01)]
    updates = []
    for i, pname in enumerate(params):
        nodes.append(op(f"s_{pname}", "mul", ["lr", f"g:{i}"]))
        nodes.append(op(f"new_{pname}", "sub", [pname, f"s_{pname}"]))
        updates.append({"shared": pname, "value": f"new_{pname}"})
    return graph("(e) MLP 784-512-512-10 SGD step", nodes, ["X", "y"], ["loss"],
                 {"X": init([batch, sizes[0]], seed=20), "y": {"shape": [batch], "data": [i % 10 for i in range(batch)]}},
                 updates)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, g in [("a-linreg", linreg()), ("b-chain", chain(10_000_000)), ("c-softmax", softmax(4096, 1000)),
                    ("d-dot", matmul(1024)), ("e-mlp", mlp())]:
        with open(os.path.join(out, name + ".gradus"), "w") as f:
            json.dump(g, f, indent=1)


if __name__ == "__main__":
    main()
