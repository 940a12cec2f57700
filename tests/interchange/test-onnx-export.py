#!/usr/bin/python3
"""test-onnx-export.py GRADUS FILE_OR_DIR...: every graph file given is
exported with `gradus export --to onnx`; the model must pass onnx.checker
(full check, shape inference included), and ONNX Runtime (onnxruntime-node,
tests/interchange/ort-run.js), run for the file's steps (at most --steps),
feeding the update outputs back as the shared inputs, must print what
`gradus run` prints within float tolerance (a model with random draws, which
the runtime makes with its own generator: the same shapes). A file refused for an op with no
ONNX form is reported, not failed, when that op has no row in the op table
(engine/interchange/onnx/grd-onnx-ops.c): cases of ops added later pass
until their row is added, and then must agree. --expect-refused FILE=TEXT
requires a refusal that says TEXT. --conv-float32 FILE: a float64 graph with
convolutions must be noted when exported as it is, then is exported with
--conv-float32 and compared with float32's tolerance."""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402
import gradus_feeds  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OPS_TABLE = os.path.join(HERE, "..", "..", "engine", "interchange", "onnx", "grd-onnx-ops.c")


def table_ops():
    """The Gradus ops that have a row in the ONNX op table, and those the
    export walk writes itself (Loop and If: their graphs are subgraphs)."""
    rows = set(re.findall(r'\{ "([A-Za-z0-9_]+)", (?:onnx_)?emit_', open(OPS_TABLE).read()))
    return rows | {"_scan", "ifelse"}


def allowed_refusal(detail, rows):
    """A refusal that names a node and an op (or node kind) with no row."""
    m = re.search(r"node '[^']+': op '([^']+)' has no ONNX form", detail)
    if m:
        return m.group(1) not in rows
    return re.search(r"node '[^']+': this kind of node has no ONNX form", detail) is not None


def pick_function(doc, name):
    """The function object `gradus run` calls (FORMAT: run.function, main, the only one)."""
    funcs = dict(doc.get("functions", {}))
    if "function" in doc:
        funcs.setdefault("main", doc["function"])
    name = name or doc.get("run", {}).get("function") or ("main" if "main" in funcs else None)
    if name is None and len(funcs) == 1:
        name = next(iter(funcs))
    return name, funcs[name]


def tolerance(doc):
    dtypes = {n.get("dtype") for n in doc["nodes"]}
    # float32 state is updated in float32 by both engines; their sums and
    # matrix products round differently, and training steps carry that on
    if "float32" in dtypes:
        return 2e-4, 2e-5
    return 1e-7, 1e-10


def plain(arr):
    a = np.asarray(arr)
    return {"dtype": str(a.dtype) if a.dtype != np.bool_ else "bool", "shape": list(a.shape),
            "data": [x.item() if a.dtype != np.bool_ else int(x) for x in a.reshape(-1)]}


def check_file(gradus, path, steps_cap, tmp, function=None, conv_float32=False):
    doc = json.load(open(path))
    name = os.path.basename(path) + (":" + function if function else "")
    model = os.path.join(tmp, name + ".onnx")
    chosen = ["--function", function] if function else []
    if conv_float32:
        # written as it is, the float64 Conv is noted (ONNX Runtime has no
        # float64 Conv); then exported with its convolutions in float32
        r = subprocess.run([gradus, "export", path, "--to", "onnx", "-o", model] + chosen,
                           capture_output=True, text=True)
        if r.returncode != 0 or "a float64 convolution" not in r.stderr:
            return "fail", "no note of the float64 convolution: " + r.stderr.strip()
        chosen.append("--conv-float32")
    r = subprocess.run([gradus, "export", path, "--to", "onnx", "-o", model] + chosen,
                       capture_output=True, text=True)
    if r.returncode != 0:
        return "refused", r.stderr.strip()
    m = onnx.load(model)
    onnx.checker.check_model(m, full_check=True)
    fname, fn = pick_function(doc, function)
    steps = min(doc.get("run", {}).get("steps", 1), steps_cap)
    run_path = path
    if function:
        # `gradus run` of the same file with that function as its only one
        single = dict(doc, function=fn)
        single.pop("functions", None)
        single["run"] = {k: v for k, v in doc["run"].items() if k in ("steps", "feeds")}
        run_path = os.path.join(tmp, name.replace(":", "-") + ".gradus")
        json.dump(single, open(run_path, "w"))
    r = subprocess.run([gradus, "run", run_path, "--steps", str(steps)], capture_output=True,
                       text=True)
    if r.returncode != 0:
        return "fail", "gradus run failed: " + r.stderr.strip()
    # lines of the function itself (not of run.also entries)
    expected = [e for e in (json.loads(line) for line in r.stdout.splitlines())
                if e.get("function", fname) == fname]
    dtypes = {n["id"]: n.get("dtype") for n in doc["nodes"]}
    base = os.path.dirname(os.path.abspath(path))
    feeds = {i: gradus_feeds.Feed(doc["run"]["feeds"][i], dtypes[i], base) for i in fn["inputs"]}
    inputs = [{i: plain(f.next(s)) for i, f in feeds.items()} for s in range(steps)]
    nodes = {n["id"]: n for n in doc["nodes"]}
    shared = {v.name: plain(gradus_feeds.value(nodes[v.name]["value"], dtypes[v.name], base))
              for v in m.graph.input if v.name not in fn["inputs"]}
    plan = {"model": model, "inputs": inputs, "shared": shared, "n_outputs": len(fn["outputs"])}
    plan_path = os.path.join(tmp, name + ".plan.json")
    with open(plan_path, "w") as f:
        json.dump(plan, f)
    r = subprocess.run(["node", os.path.join(HERE, "ort-run.js"), plan_path],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return "fail", "ONNX Runtime: " + r.stderr.strip()[-2000:]
    got = [json.loads(line) for line in r.stdout.splitlines()]
    # Gradus prints every shared variable; the model holds those the call reads
    for e in expected:
        e["shared"] = {k: v for k, v in e.get("shared", {}).items() if k in shared}
        e.pop("function", None)
    for g in got:
        g["outputs"] = [unflatten(o) for o in g["outputs"]]
        g["shared"] = {k: unflatten(v) for k, v in g["shared"].items()}
    if any(n.op_type.startswith("Random") for n in m.graph.node):
        # the runtime's generator draws other numbers than Gradus's: the
        # steps must run and give values of Gradus's shapes
        problems = shape_problems(expected, got, name)
        if problems:
            return "fail", "\n  ".join(problems[:5])
        return "ok", "%d steps, %d ONNX nodes (random draws: shapes compared, numbers differ)" % (
            steps, len(m.graph.node))
    # convolutions computed in float32: float32's tolerance
    rtol, atol = (2e-4, 2e-5) if conv_float32 else tolerance(doc)
    problems = compare.compare_lines(expected, got, rtol, atol, name)
    if problems:
        return "fail", "\n  ".join(problems[:5])
    return "ok", "%d steps, %d ONNX nodes" % (steps, len(m.graph.node))


def shape_problems(expected, got, label):
    """Lines of values of the same shapes, where the numbers cannot agree."""
    if len(expected) != len(got):
        return ["%s: %d lines, expected %d" % (label, len(got), len(expected))]
    problems = []
    for step, (e, g) in enumerate(zip(expected, got)):
        pairs = list(zip(e["outputs"], g["outputs"]))
        pairs += [(v, g["shared"].get(k)) for k, v in e.get("shared", {}).items()]
        for i, (a, b) in enumerate(pairs):
            if b is None or np.shape(np.array(a, dtype=object)) != np.shape(np.array(b, dtype=object)):
                problems.append("%s step %d value %d: shape %s, expected %s" % (
                    label, step, i, np.shape(np.array(b, dtype=object)),
                    np.shape(np.array(a, dtype=object))))
    return problems


def unflatten(v):
    a = np.array(v["data"], dtype=np.float64 if v["dtype"].startswith("float") else np.int64)
    if v["dtype"] == "bool":
        a = a.astype(bool)
    return a.reshape(v["shape"]).tolist()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gradus")
    ap.add_argument("paths", nargs="*")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--expect-refused", nargs="*", default=[],
                    help="FILE=TEXT: the export must fail with TEXT in its message")
    ap.add_argument("--conv-float32", nargs="*", default=[],
                    help="FILE: a float64 graph with convolutions, exported with --conv-float32")
    ap.add_argument("--function", nargs="*", default=[],
                    help="FILE=NAME: also export function NAME of FILE and run it")
    args = ap.parse_args()
    if not os.path.isdir(os.path.join(HERE, "node_modules", "onnxruntime-node")):
        print("onnxruntime-node is not installed in tests/interchange: run tools/install-deps.sh")
        return 1
    files = []
    for p in args.paths:
        files += sorted(glob.glob(os.path.join(p, "*.gradus"))) if os.path.isdir(p) else [p]
    counts = {"ok": 0, "refused": 0, "fail": 0}
    failed = False
    refusals = dict(e.split("=", 1) for e in args.expect_refused)
    rows = table_ops()
    with tempfile.TemporaryDirectory() as tmp:
        jobs = [(f, None) for f in files + args.conv_float32]
        jobs += [(e.split("=", 1)[0], e.split("=", 1)[1]) for e in args.function]
        for f, function in jobs:
            status, detail = check_file(args.gradus, f, args.steps, tmp, function,
                                        f in args.conv_float32 and function is None)
            name = os.path.basename(f) + (":" + function if function else "")
            if function is None and f in refusals:
                # refused with the node named, or it is a failure
                if status != "refused" or refusals[f] not in detail:
                    detail = "expected a refusal naming %r, got: %s" % (refusals[f], detail)
                    status = "fail"
            elif status == "refused" and not allowed_refusal(detail, rows):
                status = "fail"
            counts[status] += 1
            failed |= status == "fail"
            print("%-8s %s: %s" % (status, name, detail.splitlines()[0] if status != "fail" else detail))
    print("onnx export: %(ok)d agree with gradus run, %(refused)d refused (no ONNX form), "
          "%(fail)d failed" % counts)
    return 1 if failed or counts["ok"] == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
