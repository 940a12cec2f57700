#!/usr/bin/env python3
"""Tests of the `gradus` command line, speaking TAP.

usage: test-cli.py --gradus PATH --source-dir DIR

Runs the built binary on the bundled examples and on small files made here.
Reference numbers are computed in this script (plain Python floats, the same
arithmetic as the Theano primer) or are facts of the data, never copied from
Gradus's own output. Standard library only.
"""
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback

ARGS = sys.argv[1:]
GRADUS = ARGS[ARGS.index("--gradus") + 1]
SOURCE = ARGS[ARGS.index("--source-dir") + 1]
EXAMPLES = os.path.join(SOURCE, "data", "examples")
DATASETS = os.path.join(SOURCE, "data", "examples", "datasets")
TMP = tempfile.mkdtemp(prefix="gradus-cli-test-")

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def example(name):
    return os.path.join(EXAMPLES, name)


def gradus(*args, timeout=120):
    return subprocess.run([GRADUS, *args], capture_output=True, text=True, timeout=timeout)


def run_lines(*args):
    p = gradus("run", *args)
    assert p.returncode == 0, f"exit {p.returncode}: {p.stderr.strip()}"
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def write_tmp(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def assert_one_error_line(p, starts_with):
    assert p.returncode != 0, f"exit status 0 for an error (stdout {p.stdout[:200]!r})"
    lines = p.stderr.splitlines()
    assert len(lines) == 1, f"want one line on stderr, got {len(lines)}: {p.stderr!r}"
    assert lines[0].startswith(starts_with), f"stderr {lines[0]!r} does not start with {starts_with!r}"
    assert len(lines[0]) > len(starts_with) + 5, f"no message: {lines[0]!r}"


def primer3_reference(steps=10, x=1.0, t=5.0, a=-1.0, b=0.0, lr=0.01):
    """The primer's listing 3 in plain floats: (mse, a, b) after each call."""
    out = []
    for _ in range(steps):
        err = a * x + b - t
        mse = err ** 2
        ga, gb = 2.0 * err * x, 2.0 * err
        a, b = a - lr * ga, b - lr * gb
        out.append((mse, a, b))
    return out


def close(got, want, rel=1e-12):
    return abs(got - want) <= rel * max(1.0, abs(want))


# ------------------------------------------------------------------ run


@test
def primer3_numbers_exact():
    lines = run_lines(example("primer-3-linear-regression.gradus"))
    assert len(lines) == 10, f"{len(lines)} lines"
    # The primer's own printout and the values PyTorch gives in float64.
    assert [l["outputs"][0] for l in lines[:3]] == [36.0, 33.1776, 30.576476160000002], lines[:3]
    assert lines[-1]["shared"] == {"a": 0.005502092025496813, "b": 1.005502092025497}, lines[-1]
    for i, (line, (mse, a, b)) in enumerate(zip(lines, primer3_reference())):
        assert line["step"] == i
        # Every number exactly: IEEE double arithmetic in the primer's order.
        assert line["outputs"] == [mse] and line["shared"] == {"a": a, "b": b}, (i, line, mse, a, b)
        assert list(line.keys()) == ["step", "outputs", "shared"], line.keys()


@test
def primer1_vector_add():
    lines = run_lines(example("primer-1-vector-add.gradus"))
    assert lines == [{"step": 0, "outputs": [[4.0, 6.0]], "shared": {}}], lines


@test
def primer2_gradient_is_2x():
    lines = run_lines(example("primer-2-grad-sum-x2.gradus"))
    assert lines == [{"step": 0, "outputs": [[2.0, 4.0]], "shared": {}}], lines
    lines = run_lines(example("primer-2-grad-sum-x2.gradus"), "--feed", "x=[-1.5, 0, 3]")
    assert lines[0]["outputs"] == [[-3.0, 0.0, 6.0]], lines


@test
def print_last_and_none():
    path = example("primer-3-linear-regression.gradus")
    every = run_lines(path, "--print", "every")
    last = run_lines(path, "--print", "last")
    assert len(last) == 1 and last[0] == every[-1] and last[0]["step"] == 9, last
    p = gradus("run", path, "--print=none")
    assert p.returncode == 0 and p.stdout == "", (p.returncode, p.stdout)


@test
def steps_option():
    path = example("primer-3-linear-regression.gradus")
    lines = run_lines(path, "--steps", "3")
    assert [l["step"] for l in lines] == [0, 1, 2]
    ref = primer3_reference(3)
    assert close(lines[2]["shared"]["a"], ref[2][1])
    lines = run_lines("--steps=25", path, "--print", "last")
    assert lines[0]["step"] == 24 and close(lines[0]["shared"]["a"], primer3_reference(25)[-1][1])
    assert run_lines(path, "--steps", "0") == []
    # Files without run.steps are called once.
    doc = json.load(open(path))
    del doc["run"]["steps"]
    assert len(run_lines(write_tmp("nosteps.gradus", json.dumps(doc)))) == 1


@test
def feed_overrides():
    p1 = example("primer-1-vector-add.gradus")
    lines = run_lines(p1, "--feed", "x=[10, 20, 30]", "--feed", "y=[1, 2, 3]")
    assert lines[0]["outputs"] == [[11.0, 22.0, 33.0]], lines
    lines = run_lines(p1, "--feed", 'y={"shape": [2], "data": [0.5, -1]}')
    assert lines[0]["outputs"] == [[1.5, 1.0]], lines
    # The last --feed of an input wins.
    lines = run_lines(p1, "--feed", "x=[0, 0]", "--feed", "x=[5, 5]")
    assert lines[0]["outputs"] == [[8.0, 9.0]], lines
    p3 = example("primer-3-linear-regression.gradus")
    lines = run_lines(p3, "--feed", "t=3.0", "--feed=x=2", "--steps", "2")
    ref = primer3_reference(2, x=2.0, t=3.0)
    assert [l["outputs"][0] for l in lines] == [r[0] for r in ref], (lines, ref)
    assert close(lines[1]["shared"]["b"], ref[1][2])
    # A data set as an override: paths are relative to the graph file, batches wrap.
    csv = [float(r.split(",")[0]) for r in open(os.path.join(DATASETS, "iris.csv")).read().split()[1:]]
    feed = 'x={"csv": "datasets/iris.csv", "header": true, "column": "sepal_length", "batch": 100}'
    lines = run_lines(p1, "--feed", feed, "--feed", "y=[1]", "--steps", "2")
    assert lines[0]["outputs"] == [[v + 1.0 for v in csv[:100]]], lines[0]
    assert lines[1]["outputs"] == [[v + 1.0 for v in csv[100:] + csv[:50]]], lines[1]


@test
def nonfinite_values_are_strings():
    p1 = example("primer-1-vector-add.gradus")
    lines = run_lines(p1, "--feed", 'x=["inf", "nan"]', "--feed", "y=[1, 2]")
    assert lines[0]["outputs"] == [["inf", "nan"]], lines


@test
def run_never_writes_the_file():
    path = os.path.join(TMP, "linreg.gradus")
    shutil.copy(example("primer-3-linear-regression.gradus"), path)
    before = open(path, "rb").read()
    stat = os.stat(path)
    run_lines(path, "--steps", "50")
    gradus("run", path, "--feed", "x=[1, 2]")  # a failing run too
    assert open(path, "rb").read() == before
    assert os.stat(path).st_mtime_ns == stat.st_mtime_ns
    assert sorted(os.listdir(TMP)).count("linreg.gradus") == 1
    assert not [f for f in os.listdir(TMP) if f.startswith("linreg.gradus") and f != "linreg.gradus"]


@test
def vulkan_backend_or_fallback():
    path = example("primer-3-linear-regression.gradus")
    p = gradus("run", path, "--backend", "vulkan", "--print", "last")
    assert p.returncode == 0, p.stderr
    for line in p.stderr.splitlines():  # a fallback warning names the file
        assert line.startswith(path), line
    got = json.loads(p.stdout)["shared"]
    ref = primer3_reference()[-1]
    assert abs(got["a"] - ref[1]) < 1e-5 and abs(got["b"] - ref[2]) < 1e-5, got


@test
def vulkan_device_lost_mid_run():
    # a device failing at call 4 (simulated): a warning naming the file and the
    # step, and the run goes on on the CPU with the same numbers
    path = example("primer-3-linear-regression.gradus")
    env = dict(os.environ, GRADUS_VULKAN_FAIL_AT_CALL="4")
    p = subprocess.run([GRADUS, "run", path, "--backend", "vulkan"], capture_output=True, text=True,
                       timeout=120, env=env)
    assert p.returncode == 0, p.stderr
    lines = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(lines) == 10, p.stdout
    for got, ref in zip(lines, primer3_reference()):
        assert abs(got["outputs"][0] - ref[0]) < 1e-9 and abs(got["shared"]["a"] - ref[1]) < 1e-9, got
    if "Vulkan is not available" not in p.stderr:
        warnings = [line for line in p.stderr.splitlines() if "device failed" in line]
        assert len(warnings) == 1 and warnings[0].startswith(path) and "step 4" in warnings[0], p.stderr


# ------------------------------------------------------------------ errors


@test
def error_malformed_file():
    path = write_tmp("broken.gradus", '{"format": "gradus-graph", "version": 1, "nodes": [')
    p = gradus("run", path)
    assert_one_error_line(p, path)
    assert p.stdout == ""


@test
def error_missing_file():
    path = os.path.join(TMP, "no-such-file.gradus")
    for cmd in ("run", "check", "bench"):
        p = gradus(cmd, path)
        assert_one_error_line(p, path)


@test
def error_bad_options():
    path = example("primer-1-vector-add.gradus")
    for args in (["run", path, "--bogus"], ["run", "--bogus", path], ["run", path, "--steps", "x"],
                 ["run", path, "--steps", "-1"], ["run", path, "--print", "sometimes"],
                 ["run", path, "--backend", "tpu"], ["run", path, "--feed", "x"],
                 ["run", path, "--feed", "x=[1,"], ["run", path, "--feed", "nope=[1]"],
                 ["bench", path, "--warmup", "many"], ["export", path, "--to", "gif", "-o", "x.gif"],
                 ["check", path, "--bogus"], ["run", path, "--steps"]):
        p = gradus(*args)
        assert_one_error_line(p, path)
    for args in (["--bogus"], ["frobnicate"], ["run"]):
        p = gradus(*args)
        assert p.returncode != 0 and p.stderr.strip(), (args, p.returncode, p.stderr)


@test
def error_shape_mismatch_feed():
    p1 = example("primer-1-vector-add.gradus")
    p3 = example("primer-3-linear-regression.gradus")
    for path, feed in ((p1, "x=[[1, 2], [3, 4]]"), (p3, "x=[1, 2]"), (p1, "x=[1, 2, 3]")):
        p = gradus("run", path, "--feed", feed)
        assert_one_error_line(p, path)
        assert p.stdout == "", p.stdout


@test
def error_in_graph_names_the_node():
    doc = json.load(open(example("primer-1-vector-add.gradus")))
    doc["nodes"].append({"id": "bad", "kind": "op", "op": "dot", "inputs": ["x", "nowhere"]})
    path = write_tmp("dangling.gradus", json.dumps(doc))
    p = gradus("check", path)
    assert_one_error_line(p, path)
    assert "nowhere" in p.stderr, p.stderr
    doc = json.load(open(example("primer-1-vector-add.gradus")))
    doc["nodes"][0]["shape"] = [3]
    doc["nodes"][1]["shape"] = [4]
    path = write_tmp("shapes.gradus", json.dumps(doc))
    for cmd in ("check", "run"):
        p = gradus(cmd, path)
        assert_one_error_line(p, path)
        assert "'z'" in p.stderr or '"z"' in p.stderr or " z " in p.stderr, p.stderr


@test
def error_newer_version():
    doc = json.load(open(example("primer-1-vector-add.gradus")))
    doc["version"] = 99
    path = write_tmp("future.gradus", json.dumps(doc))
    p = gradus("run", path)
    assert_one_error_line(p, path)
    assert "99" in p.stderr, p.stderr


# ------------------------------------------------------------------ limits (issue 15)


@test
def limits_of_untrusted_files():
    # a broadcast that would take 74.5 GiB: one line naming the node and the size
    big = write_tmp("limits-big.gradus", json.dumps({
        "format": "gradus-graph", "version": 1, "nodes": [
            {"id": "a", "kind": "constant", "dtype": "float64", "value": {"shape": [100000, 1], "init": "ones"}},
            {"id": "b", "kind": "constant", "dtype": "float64", "value": {"shape": [1, 100000], "init": "ones"}},
            {"id": "z", "kind": "op", "op": "add", "inputs": ["a", "b"]}],
        "function": {"inputs": [], "outputs": ["z"]}}))
    p = gradus("run", big, "--memory-limit", "1G")
    assert_one_error_line(p, big)
    assert "node 'z' (add)" in p.stderr and "memory limit of 1.0 GiB" in p.stderr, p.stderr
    p = gradus("run", big, "--memory-limit", "lots")
    assert_one_error_line(p, big)
    # --feed: integers beyond int64 are never wrapped; nesting is bounded
    p1 = example("primer-1-vector-add.gradus")
    p = gradus("run", p1, "--feed", "x=[99999999999999999999, 0]")
    assert p.returncode == 0 and "1e+20" in p.stdout, (p.stdout, p.stderr)
    p = gradus("run", p1, "--feed", "x=" + "[" * 60000 + "]" * 60000)
    assert_one_error_line(p, p1)
    assert "nested more than 512 deep" in p.stderr, p.stderr
    # data outside the file's folder: refused, allowed with --allow-data, never echoed
    secret = write_tmp("limits-secret.csv", "hunter2\n")
    sub = os.path.join(TMP, "limits-sub")
    os.makedirs(sub, exist_ok=True)
    g = os.path.join(sub, "g.gradus")
    with open(g, "w") as f:
        json.dump({"format": "gradus-graph", "version": 1, "nodes": [
            {"id": "x", "kind": "variable", "dtype": "float64", "shape": [None]}],
            "function": {"inputs": ["x"], "outputs": ["x"]},
            "run": {"feeds": {"x": {"csv": "../limits-secret.csv", "column": 0}}}}, f)
    p = gradus("run", g)
    assert_one_error_line(p, g)
    assert "outside the document's folder" in p.stderr and "hunter2" not in p.stderr, p.stderr
    p = gradus("run", g, "--allow-data", TMP)
    assert_one_error_line(p, g)
    assert "line 1, column 0" in p.stderr and "hunter2" not in p.stderr, p.stderr
    p = gradus("check", g, "--allow-data", secret)
    assert p.returncode == 1 and "hunter2" not in p.stderr, p.stderr


@test
def run_stops_on_ctrl_c():
    path = write_tmp("limits-forever.gradus", json.dumps({
        "format": "gradus-graph", "version": 1, "nodes": [
            {"id": "x", "kind": "variable", "dtype": "float64", "shape": []},
            {"id": "y", "kind": "op", "op": "neg", "inputs": ["x"]}],
        "function": {"inputs": ["x"], "outputs": ["y"]},
        "run": {"steps": 2147483647, "feeds": {"x": 1.0}}}))
    proc = subprocess.Popen([GRADUS, "run", path], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().startswith('{"step": 0'), "no first step"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1, (proc.returncode, err)
    assert "interrupted after" in err and "of 2147483647 steps" in err, err


# ------------------------------------------------------------------ check


def check_rows(path):
    p = gradus("check", path)
    assert p.returncode == 0, p.stderr
    rows = {}
    lines = p.stdout.splitlines()
    for line in lines[:-1]:
        fields = line.split()
        rows[fields[0]] = fields
    return rows, lines


@test
def check_lists_every_node():
    path = example("primer-3-linear-regression.gradus")
    rows, lines = check_rows(path)
    doc = json.load(open(path))
    for node in doc["nodes"]:
        assert node["id"] in rows, f"{node['id']} not listed: {lines}"
        assert rows[node["id"]][1] == node["kind"], rows[node["id"]]
        if node["kind"] != "grad":
            assert rows[node["id"]][-1] == "float64[]", rows[node["id"]]
    assert rows["mse"][2] == "pow" and rows["a"][2] == "-", rows
    # The grad node's outputs, with their types.
    assert rows["g:0"][-1] == "float64[]" and rows["g:1"][-1] == "float64[]", rows
    # Aligned columns: the kind column starts at the same place on every node line.
    starts = {line.index(line.split()[1], len(line.split()[0])) for line in lines[:-1]}
    assert len(starts) == 1, lines
    assert lines[-1].startswith(path) and "ok" in lines[-1], lines[-1]


@test
def check_shapes_of_softmax_regression():
    rows, lines = check_rows(example("softmax-regression-iris.gradus"))
    want = {"x": "float32[?,4]", "y": "int32[?]", "W": "float32[4,3]", "b": "float32[3]",
            "xW": "float32[?,3]", "p": "float32[?,3]", "nll": "float32[?]", "loss": "float32[]",
            "pred": "int64[?]", "hit": "bool[?]", "accuracy": "float32[]", "g:0": "float32[4,3]",
            "g:1": "float32[3]"}
    for node, t in want.items():
        assert rows[node][-1] == t, (node, rows[node], t)
    p = gradus("check", "--all", example("softmax-regression-iris.gradus"))
    assert p.returncode == 0 and len(p.stdout.splitlines()) > len(lines), p.stderr


@test
def check_every_example():
    for name in sorted(os.listdir(EXAMPLES)):
        if name.endswith(".gradus"):
            p = gradus("check", example(name))
            assert p.returncode == 0, (name, p.stderr)
            doc = json.load(open(example(name)))
            ui = doc["ui"]["nodes"]
            for node in doc["nodes"]:  # the editor's layout covers every node
                assert set(ui[node["id"]]) >= {"x", "y"}, (name, node["id"])


@test
def check_devices():
    p = gradus("check", "--devices")
    if p.returncode == 0:  # a device (lavapipe in CI): one line each, one selected
        assert p.stdout.strip() and p.stdout.count("[selected]") == 1, p.stdout
    else:
        assert_one_error_line(p, "gradus check: --devices")
    env = dict(os.environ, VK_ICD_FILENAMES=os.path.join(TMP, "no-driver.json"))
    p = subprocess.run([GRADUS, "check", "--devices"], capture_output=True, text=True, env=env,
                       timeout=60)
    assert_one_error_line(p, "gradus check: --devices")


# ------------------------------------------------------------------ bench, export


@test
def bench_json():
    path = example("primer-3-linear-regression.gradus")
    p = gradus("bench", path, "--steps", "20", "--warmup", "2")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 1, lines
    r = json.loads(lines[0])
    for key in ("compile_ms", "call_us_median", "call_us_min"):
        assert isinstance(r[key], (int, float)) and r[key] > 0, (key, r)
    assert r["call_us_min"] <= r["call_us_median"], r
    assert r["steps"] == 20 and r["backend"] == "cpu", r
    assert "OpenBLAS" in r["blas"] and "kernels" in r["blas"], r


@test
def bench_blas_kernels():
    """bench names the OpenBLAS kernels its CPU figures were measured with; the
    environment's OPENBLAS_CORETYPE chooses them (this project's build machine
    sets Haswell; OpenBLAS's own choice there is Cooperlake, docs/perf.md)."""
    path = example("primer-3-linear-regression.gradus")
    with open("/proc/cpuinfo") as f:
        flags = next((set(l.split(":", 1)[1].split()) for l in f if l.startswith("flags")), set())

    def kernels(coretype):
        env = dict(os.environ, OPENBLAS_CORETYPE=coretype)
        p = subprocess.run([GRADUS, "bench", path, "--steps", "2", "--warmup", "0"],
                           capture_output=True, text=True, env=env, timeout=60)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)["blas"].rsplit("kernels ", 1)[1].lower()

    if {"avx2", "fma"} <= flags:
        assert kernels("Haswell") == "haswell"
    if {"avx512f", "avx512dq", "avx512bw", "avx512vl"} <= flags:
        assert kernels("SkylakeX") == "skylakex"


@test
def export_dot():
    path = example("primer-3-linear-regression.gradus")
    p = gradus("export", path, "--to", "dot")
    assert p.returncode == 0, p.stderr
    text = p.stdout
    assert text.lstrip().startswith("digraph") and text.rstrip().endswith("}"), text[:200]
    for node in json.load(open(path))["nodes"]:
        assert node["id"] in text, f"{node['id']} missing from the DOT text"
    out = os.path.join(TMP, "linreg.dot")
    p = gradus("export", path, "--to", "dot", "-o", out)
    assert p.returncode == 0 and open(out).read() == text, p.stderr


@test
def export_pictures():
    path = example("softmax-regression-iris.gradus")
    magic = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF", "svg": b"<"}
    for fmt, head in magic.items():
        out = os.path.join(TMP, "iris." + fmt)
        p = gradus("export", path, "--to", fmt, "-o", out)
        assert p.returncode == 0, (fmt, p.stderr)
        data = open(out, "rb").read()
        assert data.startswith(head) and len(data) > 1000, (fmt, data[:40])
        if fmt == "svg":
            assert b"<svg" in data[:400], data[:400]
    # Without --to, the extension says which.
    out = os.path.join(TMP, "by-extension.png")
    p = gradus("export", path, "-o", out)
    assert p.returncode == 0 and open(out, "rb").read().startswith(magic["png"]), p.stderr


@test
def help_and_version():
    for args in (["--help"], ["run", "--help"], ["check", "--help"], ["bench", "--help"],
                 ["export", "--help"]):
        p = gradus(*args)
        assert p.returncode == 0 and "usage" in p.stdout, (args, p.stdout)
    p = gradus("--version")
    assert p.returncode == 0 and p.stdout.startswith("gradus "), p.stdout


# ------------------------------------------------------------------ learning examples


def series(path, *args):
    lines = run_lines(path, *args)
    return [l["outputs"] for l in lines]


@test
def softmax_regression_learns_iris():
    out = series(example("softmax-regression-iris.gradus"))
    loss = [o[0] for o in out]
    acc = [o[1] for o in out]
    assert len(out) == 200
    # Zero weights: uniform probabilities, loss ln 3, argmax picks class 0 (a third).
    assert abs(loss[0] - math.log(3)) < 1e-5 and abs(acc[0] - 1 / 3) < 1e-6, (loss[0], acc[0])
    # Full-batch gradient descent with a small step: the loss never goes up.
    assert all(b <= a + 1e-6 for a, b in zip(loss, loss[1:])), loss
    assert loss[-1] < 0.5 * loss[0], (loss[0], loss[-1])
    assert acc[-1] >= 0.9 and sum(acc[-20:]) > sum(acc[:20]), (acc[:20], acc[-20:])


@test
def xor_mlp_learns_xor():
    out = series(example("xor-mlp.gradus"), "--print", "last")
    loss, p = out[-1]
    assert loss < 0.1, loss
    assert [round(v) for v in p] == [0, 1, 1, 0], p


@test
def mlp_digits_learns():
    out = series(example("mlp-digits.gradus"))
    loss = [o[0] for o in out]
    acc = [o[1] for o in out]
    first, last = sum(loss[:10]) / 10, sum(loss[-50:]) / 50
    assert first > 1.5 and last < first / 4, (first, last)
    assert sum(acc[-50:]) / 50 > 0.85, acc[-50:]


@test
def cnn_digits_learns():
    p = gradus("run", example("cnn-digits.gradus"), "--print", "last", timeout=600)
    assert p.returncode == 0, p.stderr
    loss, train_acc, test_acc = json.loads(p.stdout)["outputs"]
    assert loss < 0.2 and train_acc >= 0.9, (loss, train_acc)
    # the held-out fifth of the digits, never trained on
    assert test_acc >= 0.97, test_acc


@test
def datasets_are_whole():
    rows = open(os.path.join(DATASETS, "iris.csv")).read().splitlines()
    assert rows[0] == "sepal_length,sepal_width,petal_length,petal_width,species", rows[0]
    labels = [int(r.split(",")[4]) for r in rows[1:]]
    assert len(labels) == 150 and all(labels.count(k) == 50 for k in range(3))
    rows = open(os.path.join(DATASETS, "digits.csv")).read().splitlines()
    assert len(rows) == 1798 and all(len(r.split(",")) == 65 for r in rows)
    digits = [int(r.split(",")[64]) for r in rows[1:]]
    assert set(digits) == set(range(10))
    assert all(0 <= int(v) <= 16 for r in rows[1:] for v in r.split(",")[:64])


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
    shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
