#!/usr/bin/env python3
"""Writes the examples in data/examples/ (nodes, function, run settings and a
left-to-right "ui" layout for the editor). Files saved
by the editor may since have moved nodes: rerunning this resets them.
Standard library only."""
import json
import os

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "examples")


def node(id, kind, name=None, **keys):
    """A node object; `name` (the editor's title) only where it differs from the id."""
    n = {"id": id, "kind": kind, **{k: v for k, v in keys.items() if v is not None}}
    if name:
        n["name"] = name
    return n


def V(id, dtype, shape, name=None):
    return node(id, "variable", name, dtype=dtype, shape=shape)


def C(id, dtype, value, name=None):
    return node(id, "constant", name, dtype=dtype, value=value)


def S(id, dtype, value, name=None):
    return node(id, "shared", name, dtype=dtype, value=value)


def O(id, op, inputs, attrs=None, name=None):
    return node(id, "op", name, op=op, inputs=inputs, attrs=attrs)


def G(id, cost, wrt, name=None):
    return node(id, "grad", name, cost=cost, wrt=wrt)


def deps(n):
    """Ids of the nodes that n reads."""
    if n["kind"] == "op":
        return [r.split(":")[0] for r in n["inputs"]]
    if n["kind"] == "grad":
        return [n["cost"].split(":")[0]] + [w.split(":")[0] for w in n["wrt"]]
    return []


def box(n):
    """The size of a node's box on the canvas, estimated generously from its
    title, its kind or op line and its port rows."""
    title = n.get("name", n["id"])
    sub = n.get("op", n["kind"])
    if n["kind"] == "op":
        rows = len(n["inputs"]) + 1
    elif n["kind"] == "grad":
        rows = 2 + 2 * len(n["wrt"])  # cost, wrt..., "+ wrt", one output per wrt
    else:
        rows = 1
    return max(170, 9 * len(title) + 50, 7 * len(sub) + 60), 68 + 24 * rows


def layout(nodes):
    """Columns by depth from the sources, left to right; constants sit just left
    of their first reader. In a column, nodes keep file order, each as high as
    its first input allows, so chains run straight."""
    by_id = {n["id"]: n for n in nodes}
    depth = {}
    for n in nodes:
        depth[n["id"]] = 1 + max([depth[d] for d in deps(n)], default=-1)
    for n in nodes:
        if n["kind"] == "constant":
            readers = [depth[m["id"]] for m in nodes if n["id"] in deps(m)]
            depth[n["id"]] = max(0, min(readers, default=1) - 1)
    columns = sorted(set(depth.values()))
    widths = {d: max(box(n)[0] for n in nodes if depth[n["id"]] == d) for d in columns}
    x_of, x = {}, 40
    for d in range(max(columns) + 1):
        x_of[d] = x
        x += widths.get(d, 0) + 70 if d in widths else 0
    pos, next_y = {}, {}
    order = sorted(nodes, key=lambda n: depth[n["id"]])  # stable: file order within a column
    for n in order:
        d = depth[n["id"]]
        y = next_y.get(d, 40)
        firsts = [pos[i]["y"] for i in deps(n)[:1] if i in pos]
        if firsts and by_id[deps(n)[0]]["kind"] != "constant":
            y = max(y, firsts[0])
        pos[n["id"]] = {"x": x_of[d], "y": y}
        next_y[d] = y + box(n)[1] + 30
    return {n["id"]: pos[n["id"]] for n in nodes}


def dump(v, ind):
    """JSON with objects one member a line, short arrays and small objects inline."""
    flat = json.dumps(v)
    if not isinstance(v, (dict, list)) or len(flat) + ind < 100:
        return flat
    pad = " " * (ind + 2)
    if isinstance(v, list):
        return "[\n" + ",\n".join(pad + dump(x, ind + 2) for x in v) + "\n" + " " * ind + "]"
    return "{\n" + ",\n".join(pad + json.dumps(k) + ": " + dump(x, ind + 2) for k, x in v.items()) + "\n" + " " * ind + "}"

def write(fname, name, description, nodes, function, run):
    doc = {"format": "gradus-graph", "version": 1, "name": name,
           "description": description, "nodes": nodes, "function": function, "run": run,
           "ui": {"nodes": layout(nodes)}}
    with open(os.path.join(OUT, fname), "w") as f:
        f.write(dump(doc, 0) + "\n")

write("primer-1-vector-add.gradus", "Theano primer, listing 1: adding two vectors",
      "x + y for two float64 vectors, as theano.function([x, y], x + y).",
      [V("x", "float64", [None]), V("y", "float64", [None]), O("z", "add", ["x", "y"], name="x + y")],
      {"inputs": ["x", "y"], "outputs": ["z"]},
      {"steps": 1, "feeds": {"x": [1, 2], "y": [3, 4]}})

write("primer-2-grad-sum-x2.gradus", "Theano primer, listing 2: the gradient of sum(x ** 2)",
      "T.grad(T.sum(x ** 2), x) is 2 x.",
      [V("x", "float64", [None]), C("two", "float64", 2.0, name="2"),
       O("sq", "pow", ["x", "two"], name="x ** 2"), O("z", "sum", ["sq"], name="sum"),
       G("g", "z", ["x"], name="d z / d x")],
      {"inputs": ["x"], "outputs": ["g:0"]},
      {"steps": 1, "feeds": {"x": [1, 2]}})

write("primer-3-linear-regression.gradus", "Theano primer, listing 3: linear regression",
      "Fits y = a x + b to the single point (x, t) = (1, 5) by gradient descent on the "
      "squared error, learning rate 0.01: each call returns the error before the step "
      "and moves a and b.",
      [V("x", "float64", []), V("t", "float64", [], name="target"),
       S("a", "float64", -1.0), S("b", "float64", 0.0),
       O("ax", "mul", ["a", "x"], name="a * x"), O("y", "add", ["ax", "b"], name="a * x + b"),
       O("err", "sub", ["y", "t"], name="y - target"), C("two", "float64", 2.0, name="2"),
       O("mse", "pow", ["err", "two"], name="squared error"),
       G("g", "mse", ["a", "b"], name="d mse / d (a, b)"),
       C("lr", "float64", 0.01, name="learning rate"),
       O("step_a", "mul", ["lr", "g:0"]), O("step_b", "mul", ["lr", "g:1"]),
       O("a_next", "sub", ["a", "step_a"]), O("b_next", "sub", ["b", "step_b"])],
      {"inputs": ["x", "t"], "outputs": ["mse"],
       "updates": [{"shared": "a", "value": "a_next"}, {"shared": "b", "value": "b_next"}]},
      {"steps": 10, "feeds": {"x": 1.0, "t": 5.0}})

IRIS = "datasets/iris.csv"
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
write("softmax-regression-iris.gradus", "Softmax regression on Fisher's iris data",
      "Multinomial logistic regression p = softmax(x W + b) on the 150 iris flowers "
      "(4 measurements, 3 species), full-batch gradient descent on the mean cross-entropy. "
      "Outputs: the loss and the accuracy on the data set before each step.",
      [V("x", "float32", [None, 4], name="measurements"),
       V("y", "int32", [None], name="species"),
       S("W", "float32", {"shape": [4, 3], "init": "zeros"}),
       S("b", "float32", {"shape": [3], "init": "zeros"}),
       O("xW", "dot", ["x", "W"], name="x W"),
       O("logits", "add", ["xW", "b"], name="x W + b"),
       O("p", "softmax", ["logits"]),
       O("nll", "categorical_crossentropy", ["p", "y"], name="cross-entropy"),
       O("loss", "mean", ["nll"]),
       O("pred", "argmax", ["p"], attrs={"axis": 1}, name="predicted species"),
       O("hit", "eq", ["pred", "y"]),
       O("hit_f", "cast", ["hit"], attrs={"dtype": "float32"}),
       O("accuracy", "mean", ["hit_f"]),
       G("g", "loss", ["W", "b"], name="d loss / d (W, b)"),
       C("lr", "float32", 0.05, name="learning rate"),
       O("step_W", "mul", ["lr", "g:0"]), O("step_b", "mul", ["lr", "g:1"]),
       O("W_next", "sub", ["W", "step_W"]), O("b_next", "sub", ["b", "step_b"])],
      {"inputs": ["x", "y"], "outputs": ["loss", "accuracy"],
       "updates": [{"shared": "W", "value": "W_next"}, {"shared": "b", "value": "b_next"}]},
      {"steps": 200, "feeds": {
          "x": {"csv": IRIS, "columns": FEATURES, "header": True, "batch": 150},
          "y": {"csv": IRIS, "column": "species", "header": True, "batch": 150}}})

write("xor-mlp.gradus", "A two-layer perceptron learns XOR",
      "2 inputs, 8 tanh hidden units, a sigmoid output; full-batch gradient descent on the "
      "binary cross-entropy of the four XOR cases. Outputs: the loss and the four predictions.",
      [V("x", "float32", [None, 2], name="inputs"), V("t", "float32", [None], name="targets"),
       S("W1", "float32", {"shape": [2, 8], "init": "glorot_uniform", "seed": 1}),
       S("b1", "float32", {"shape": [8], "init": "zeros"}),
       S("W2", "float32", {"shape": [8], "init": "glorot_uniform", "seed": 2}),
       S("b2", "float32", 0.0),
       O("xW1", "dot", ["x", "W1"]), O("z1", "add", ["xW1", "b1"]),
       O("h", "tanh", ["z1"], name="hidden"),
       O("hW2", "dot", ["h", "W2"]), O("z2", "add", ["hW2", "b2"]),
       O("p", "sigmoid", ["z2"], name="prediction"),
       O("bce", "binary_crossentropy", ["p", "t"]), O("loss", "mean", ["bce"]),
       G("g", "loss", ["W1", "b1", "W2", "b2"], name="d loss / d params"),
       C("lr", "float32", 0.5, name="learning rate"),
       O("step_W1", "mul", ["lr", "g:0"]), O("step_b1", "mul", ["lr", "g:1"]),
       O("step_W2", "mul", ["lr", "g:2"]), O("step_b2", "mul", ["lr", "g:3"]),
       O("W1_next", "sub", ["W1", "step_W1"]), O("b1_next", "sub", ["b1", "step_b1"]),
       O("W2_next", "sub", ["W2", "step_W2"]), O("b2_next", "sub", ["b2", "step_b2"])],
      {"inputs": ["x", "t"], "outputs": ["loss", "p"],
       "updates": [{"shared": "W1", "value": "W1_next"}, {"shared": "b1", "value": "b1_next"},
                   {"shared": "W2", "value": "W2_next"}, {"shared": "b2", "value": "b2_next"}]},
      {"steps": 1000, "feeds": {"x": [[0, 0], [0, 1], [1, 0], [1, 1]], "t": [0, 1, 1, 0]}})

DIGITS = "datasets/digits.csv"
write("mlp-digits.gradus", "A multilayer perceptron reads handwritten digits",
      "The 1797 8x8 digit images of the UCI optical digits set (pixels 0..16, scaled to 0..1), "
      "64 inputs, 32 tanh hidden units, softmax over 10 digits; minibatches of 64, shuffled "
      "each pass. Outputs: the loss and the accuracy on each minibatch before its step.",
      [V("pixels", "float32", [None, 64]), V("y", "int32", [None], name="digit"),
       C("scale", "float32", 0.0625, name="1/16"),
       O("x", "mul", ["pixels", "scale"], name="pixels / 16"),
       S("W1", "float32", {"shape": [64, 32], "init": "glorot_uniform", "seed": 1}),
       S("b1", "float32", {"shape": [32], "init": "zeros"}),
       S("W2", "float32", {"shape": [32, 10], "init": "glorot_uniform", "seed": 2}),
       S("b2", "float32", {"shape": [10], "init": "zeros"}),
       O("xW1", "dot", ["x", "W1"]), O("z1", "add", ["xW1", "b1"]),
       O("h", "tanh", ["z1"], name="hidden"),
       O("hW2", "dot", ["h", "W2"]), O("z2", "add", ["hW2", "b2"]),
       O("p", "softmax", ["z2"]),
       O("nll", "categorical_crossentropy", ["p", "y"], name="cross-entropy"),
       O("loss", "mean", ["nll"]),
       O("pred", "argmax", ["p"], attrs={"axis": 1}, name="predicted digit"),
       O("hit", "eq", ["pred", "y"]),
       O("hit_f", "cast", ["hit"], attrs={"dtype": "float32"}),
       O("accuracy", "mean", ["hit_f"]),
       G("g", "loss", ["W1", "b1", "W2", "b2"], name="d loss / d params"),
       C("lr", "float32", 0.5, name="learning rate"),
       O("step_W1", "mul", ["lr", "g:0"]), O("step_b1", "mul", ["lr", "g:1"]),
       O("step_W2", "mul", ["lr", "g:2"]), O("step_b2", "mul", ["lr", "g:3"]),
       O("W1_next", "sub", ["W1", "step_W1"]), O("b1_next", "sub", ["b1", "step_b1"]),
       O("W2_next", "sub", ["W2", "step_W2"]), O("b2_next", "sub", ["b2", "step_b2"])],
      {"inputs": ["pixels", "y"], "outputs": ["loss", "accuracy"],
       "updates": [{"shared": "W1", "value": "W1_next"}, {"shared": "b1", "value": "b1_next"},
                   {"shared": "W2", "value": "W2_next"}, {"shared": "b2", "value": "b2_next"}]},
      {"steps": 600, "feeds": {
          "pixels": {"csv": DIGITS, "columns": list(range(64)), "header": True, "batch": 64,
                     "shuffle": True, "seed": 0},
          "y": {"csv": DIGITS, "column": 64, "header": True, "batch": 64,
                "shuffle": True, "seed": 0}}})
