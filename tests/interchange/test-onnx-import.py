#!/usr/bin/python3
"""test-onnx-import.py GRADUS: models defined in PyTorch (an MLP with a
softmax output, logistic regression, one through Squeeze and Unsqueeze, and
two CNNs: Conv with padding, strides and groups, MaxPool, AveragePool with padding,
GlobalAveragePool; one through Shape, Gather, Range and Mod; one through
Slice, GatherElements, Expand and ConstantOfShape) are exported with torch.onnx.export and
read with `gradus import`. `gradus run` of the imported file must give
PyTorch's outputs; then, with a cost, a grad node and updates added to the
file (as a user adds them on the canvas), a few training steps in Gradus must
leave the same weights as the same SGD steps in PyTorch."""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

STEPS, LR = 3, 0.5


class SqueezedLogistic(torch.nn.Module):
    """Logistic regression through a rank-1 score: Squeeze and Unsqueeze in ONNX."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 1)

    def forward(self, x):
        score = self.linear(x).squeeze(1)
        return torch.sigmoid(score).unsqueeze(1)


class Ramp(torch.nn.Module):
    """Shape, Gather, Range and Mod: each column scaled by its index mod 3."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 4)

    def forward(self, x):
        col = torch.remainder(torch.arange(x.shape[1]), 3).to(torch.float32)
        return torch.sigmoid(self.linear(x) * col).mean(1, keepdim=True)


class Picker(torch.nn.Module):
    """What PyTorch writes around indexing: Slice (a column range and a flip,
    negative steps), GatherElements (torch.gather), and Expand to a shape
    computed at run time from the batch size (Shape, Gather, Concat,
    ConstantOfShape, Where) and to a fixed one."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 6)
        self.w = torch.nn.Parameter(torch.randn(1, 3))
        self.register_buffer("idx", torch.tensor([[2, 0, 3]]))

    def forward(self, x):
        h = torch.tanh(self.linear(x))
        part = h[:, 1:5]
        picked = torch.gather(part, 1, self.idx.expand(x.shape[0], 3))
        scale = self.w.expand(2, 3).sum(0, keepdim=True)
        z = (picked * scale).mean(1, keepdim=True) + part.flip(1)[:, :1]
        return torch.sigmoid(z)


class Cumulative(torch.nn.Module):
    """CumSum has no Gradus form: the import must refuse it by name."""

    def forward(self, x):
        return torch.cumsum(x, 1)


def models():
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3),
                              torch.nn.Softmax(dim=1))
    logreg = torch.nn.Sequential(torch.nn.Linear(4, 1), torch.nn.Sigmoid())
    x = torch.randn(6, 4)
    classes = torch.tensor([0, 2, 1, 1, 0, 2])
    labels = torch.tensor([[1.0], [0.0], [1.0], [0.0], [0.0], [1.0]])
    squeezed = SqueezedLogistic()
    nn = torch.nn
    cnn = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(4, 6, 3, groups=2, stride=1), nn.Tanh(),
                        nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False),
                        nn.Flatten(), nn.Linear(54, 3), nn.Softmax(dim=1))
    gap = nn.Sequential(nn.Conv2d(1, 5, 3, stride=2, dilation=1), nn.ReLU(),
                        nn.AvgPool2d(2, stride=1, count_include_pad=False),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(5, 3), nn.Softmax(dim=1))
    images = torch.randn(6, 1, 8, 8)
    return [("mlp", mlp, x, classes), ("logistic-regression", logreg, x, labels),
            ("squeezed-logistic", squeezed, x, labels), ("cnn", cnn, images, classes),
            ("cnn-global-average", gap, images, classes), ("ramp", Ramp(), x, labels),
            ("picker", Picker(), x, labels)]


def size_model(path):
    """Size has no torch.onnx.export form in Debian's torch 1.13 (numel is
    traced as a number): y = x * Size(x), written with onnx.helper."""
    import onnx
    from onnx import TensorProto, helper
    nodes = [helper.make_node("Size", ["x"], ["n"]),
             helper.make_node("Cast", ["n"], ["nf"], to=TensorProto.FLOAT),
             helper.make_node("Mul", ["x", "nf"], ["y"])]
    graph = helper.make_graph(nodes, "size", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, ["batch", 3])], [helper.make_tensor_value_info(
        "y", TensorProto.FLOAT, ["batch", 3])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def torch_cost(name, p, target):
    if not target.is_floating_point():
        return -torch.log(p[torch.arange(p.shape[0]), target]).mean()
    return -(target * torch.log(p) + (1 - target) * torch.log(1 - p)).mean()


def add_training(doc, name, target):
    """A cost, its gradient with respect to every shared variable, and SGD updates."""
    nodes = doc["nodes"]
    out = doc["function"]["outputs"][0]
    shared = [n["id"] for n in nodes if n["kind"] == "shared"]
    if not target.is_floating_point():
        nodes.append({"id": "t", "kind": "variable", "dtype": "int64", "shape": [None]})
        nodes.append({"id": "nll", "kind": "op", "op": "categorical_crossentropy",
                      "inputs": [out, "t"]})
    else:
        nodes.append({"id": "t", "kind": "variable", "dtype": "float32", "shape": [None, 1]})
        nodes.append({"id": "nll", "kind": "op", "op": "binary_crossentropy", "inputs": [out, "t"]})
    nodes.append({"id": "cost", "kind": "op", "op": "mean", "inputs": ["nll"]})
    nodes.append({"id": "g", "kind": "grad", "cost": "cost", "wrt": shared})
    nodes.append({"id": "lr", "kind": "constant", "dtype": "float32", "value": LR})
    updates = []
    for i, s in enumerate(shared):
        nodes.append({"id": "step_%d" % i, "kind": "op", "op": "mul", "inputs": ["lr", "g:%d" % i]})
        nodes.append({"id": "next_%d" % i, "kind": "op", "op": "sub", "inputs": [s, "step_%d" % i]})
        updates.append({"shared": s, "value": "next_%d" % i})
    doc["function"] = {"inputs": doc["function"]["inputs"] + ["t"], "outputs": ["cost"],
                       "updates": updates}
    doc["run"] = {"steps": STEPS, "feeds": {"t": target.tolist()}}
    return shared


def main():
    gradus = sys.argv[1]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, model, x, target in models():
            path = os.path.join(tmp, name + ".onnx")
            torch.onnx.export(model, x, path, input_names=["x"], output_names=["y"],
                              dynamic_axes={"x": {0: "batch"}})
            out = os.path.join(tmp, name + ".gradus")
            r = subprocess.run([gradus, "import", path, "-o", out], capture_output=True, text=True)
            if r.returncode != 0:
                print("fail %s: gradus import: %s" % (name, r.stderr.strip()))
                failures += 1
                continue
            doc = json.load(open(out))
            x_id = doc["function"]["inputs"][0]
            feed = "%s=%s" % (x_id, json.dumps(x.tolist()))
            r = subprocess.run([gradus, "run", out, "--feed", feed], capture_output=True, text=True)
            if r.returncode != 0:
                print("fail %s: gradus run: %s" % (name, r.stderr.strip()))
                failures += 1
                continue
            got = np.array(json.loads(r.stdout.splitlines()[0])["outputs"][0])
            want = model(x).detach().numpy()
            ok = got.shape == want.shape and np.allclose(got, want, rtol=1e-5, atol=1e-6)
            print("%s %s: imported model gives PyTorch's outputs (max diff %.2g)"
                  % ("ok  " if ok else "fail", name, np.abs(got - want).max()))
            failures += not ok

            # training: the same steps in both
            shared = add_training(doc, name, target)
            doc["run"]["feeds"][x_id] = x.tolist()
            train = os.path.join(tmp, name + "-train.gradus")
            json.dump(doc, open(train, "w"))
            r = subprocess.run([gradus, "run", train, "--print", "last"], capture_output=True,
                               text=True)
            if r.returncode != 0:
                print("fail %s: gradus run (training): %s" % (name, r.stderr.strip()))
                failures += 1
                continue
            last = json.loads(r.stdout.splitlines()[-1])
            opt = torch.optim.SGD(model.parameters(), lr=LR)
            for _ in range(STEPS):
                opt.zero_grad()
                torch_cost(name, model(x), target).backward()
                opt.step()
            params = dict(model.named_parameters())
            names = {n["id"]: n.get("name", n["id"]) for n in doc["nodes"]}
            worst = 0.0
            for s in shared:
                w = params[names[s]].detach().numpy()
                g = np.array(last["shared"][s])
                if g.shape != w.shape:
                    worst = float("inf")
                    break
                worst = max(worst, float(np.abs(g - w).max()))
            ok = worst < 1e-5
            print("%s %s: %d SGD steps in Gradus give PyTorch's weights (max diff %.2g)"
                  % ("ok  " if ok else "fail", name, STEPS, worst))
            failures += not ok

        # Size (a model made with onnx.helper)
        path = os.path.join(tmp, "size.onnx")
        size_model(path)
        out = os.path.join(tmp, "size.gradus")
        x = np.arange(6, dtype=np.float32).reshape(2, 3)
        r = subprocess.run([gradus, "import", path, "-o", out], capture_output=True, text=True)
        if r.returncode == 0:
            x_id = json.load(open(out))["function"]["inputs"][0]
            r = subprocess.run([gradus, "run", out, "--feed", "%s=%s" % (x_id, json.dumps(x.tolist()))],
                               capture_output=True, text=True)
        got = np.array(json.loads(r.stdout.splitlines()[0])["outputs"][0]) if r.returncode == 0 else None
        ok = got is not None and np.array_equal(got, x * 6)
        print("%s size: Size read back (%s)" % ("ok  " if ok else "fail",
                                               r.stderr.strip() or "x * 6 at batch 2"))
        failures += not ok

        # an operator with no Gradus form is refused by name
        path = os.path.join(tmp, "cumsum.onnx")
        torch.onnx.export(Cumulative(), torch.randn(2, 5), path)
        r = subprocess.run([gradus, "import", path, "-o", os.path.join(tmp, "cumsum.gradus")],
                           capture_output=True, text=True)
        ok = r.returncode != 0 and "operator CumSum has no Gradus form" in r.stderr
        print("%s cumsum: refused by name (%s)" % ("ok  " if ok else "fail", r.stderr.strip()))
        failures += not ok
    print("onnx import: %d failed" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
