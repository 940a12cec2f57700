#!/usr/bin/env python3
"""Tests of part two of the command line, speaking TAP: several functions
(run.function, run.also lines), --function, --save (save, reload, continue:
the same numbers as one uninterrupted run), --seed, and the scan, random and
ifelse examples. Expected values are facts computed here in plain Python.

usage: test-cli-functions.py --gradus PATH --source-dir DIR
"""
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import traceback

ARGS = sys.argv[1:]
GRADUS = ARGS[ARGS.index("--gradus") + 1]
SOURCE = os.path.abspath(ARGS[ARGS.index("--source-dir") + 1])
EXAMPLES = os.path.join(SOURCE, "data", "examples")
TMP = tempfile.mkdtemp(prefix="gradus-cli-functions-")
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def example(name):
    return os.path.join(EXAMPLES, name)


def gradus(*args, timeout=300):
    return subprocess.run([GRADUS, *args], capture_output=True, text=True, timeout=timeout)


def run_raw(*args):
    p = gradus("run", *args)
    assert p.returncode == 0, f"exit {p.returncode}: {p.stderr.strip()}"
    return [line for line in p.stdout.splitlines() if line.strip()]


def run_lines(*args):
    return [json.loads(line) for line in run_raw(*args)]


def write_tmp(name, doc):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


@test
def also_lines_follow_the_format():
    lines = run_lines(example("mlp-dropout-digits.gradus"), "--steps", "100")
    train = [l for l in lines if l["function"] == "train"]
    val = [l for l in lines if l["function"] == "validate"]
    assert len(train) == 100 and [l["step"] for l in train] == list(range(100))
    # after calls every - 1, 2 every - 1: steps 49 and 99, each right after its train line
    assert [l["step"] for l in val] == [49, 99], [l["step"] for l in val]
    i = lines.index(val[0])
    assert lines[i - 1]["function"] == "train" and lines[i - 1]["step"] == 49
    raw = run_raw(example("mlp-dropout-digits.gradus"), "--steps", "50")
    assert raw[-1].startswith('{"step": 49, "function": "validate", "outputs": ['), raw[-1][:80]
    assert raw[0].startswith('{"step": 0, "function": "train", "outputs": ['), raw[0][:80]
    # validation loss goes down, accuracy up, on the same shared variables
    assert val[1]["outputs"][0] < val[0]["outputs"][0], val
    assert val[1]["outputs"][1] > 0.85, val[1]["outputs"]
    assert val[1]["shared"] == train[-1]["shared"]


@test
def function_option_calls_that_function_only():
    lines = run_lines(example("mlp-dropout-digits.gradus"), "--function", "validate", "--steps", "3")
    assert len(lines) == 3 and all(l["function"] == "validate" for l in lines), lines
    # no updates: the shared variables stay as loaded
    assert lines[0]["shared"] == lines[2]["shared"]
    p = gradus("run", example("mlp-dropout-digits.gradus"), "--function", "nope")
    assert p.returncode != 0 and "nope" in p.stderr and "train" in p.stderr, p.stderr


@test
def one_function_lines_have_no_function_key():
    lines = run_lines(example("rnn-sine-bptt.gradus"), "--steps", "2")
    assert all("function" not in l for l in lines), lines[0].keys()


@test
def several_functions_need_run_function():
    doc = json.load(open(example("mlp-dropout-digits.gradus")))
    del doc["run"]["function"]
    for feed in list(doc["run"]["feeds"].values()) + list(doc["run"]["also"][0]["feeds"].values()):
        feed["csv"] = os.path.join(SOURCE, "data", "examples", "datasets", "digits.csv")
    path = write_tmp("two.gradus", doc)
    p = gradus("run", path)
    assert p.returncode != 0 and "run.function" in p.stderr, p.stderr
    doc["functions"]["main"] = doc["functions"].pop("train")
    path = write_tmp("main.gradus", doc)
    lines = run_lines(path, "--steps", "1", "--print", "last", "--allow-data",
                      os.path.join(SOURCE, "data", "examples", "datasets"))
    assert lines[0]["function"] == "main", lines[0].keys()


def continued(path, total, first, extra=()):
    """Lines of one run of `total` calls, and of `first` calls saved then continued."""
    whole = run_raw(path, "--steps", str(total), *extra)
    saved = os.path.join(TMP, "saved-" + os.path.basename(path))
    a = run_raw(path, "--steps", str(first), "--save", saved, *extra)
    # the saved file lives in another folder: its data sets are outside it
    # and must be allowed (docs/format.md, "Data access")
    datasets = os.path.join(SOURCE, "data", "examples", "datasets")
    b = run_raw(saved, "--steps", str(total - first), "--allow-data", datasets, *extra)
    return whole, a + b, saved


@test
def save_reload_continue_is_one_run():
    # random noise, constant feeds
    whole, parts, saved = continued(example("rnn-sine-bptt.gradus"), 12, 5)
    assert whole == parts, "the continued run differs"
    # the saved file changed the shared values, and nothing else of the graph
    old = json.load(open(example("rnn-sine-bptt.gradus")))
    new = json.load(open(saved))
    for a, b in zip(old["nodes"], new["nodes"]):
        if a["kind"] != "shared":
            assert a == b, a["id"]
    assert new["function"] == old["function"]
    last = json.loads(whole[4])["shared"]
    for n in new["nodes"]:
        if n["kind"] == "shared":
            assert n["value"] == last[n["id"]], n["id"]
    # shuffled data sets, dropout and an also entry
    whole, parts, _ = continued(example("mlp-dropout-digits.gradus"), 60, 30)
    assert whole == parts, "the continued run differs"


def write_npy(path, values):
    """A float64 vector as a version 1 .npy file (no NumPy needed)."""
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (%d,), }" % len(values)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack("<%dd" % len(values), *values))


def data_paths(path):
    """The npy and csv strings of a graph file, where the format reads them."""
    doc = json.load(open(path))
    found = []

    def value(v):
        if isinstance(v, dict):
            found.extend(v[k] for k in ("npy", "csv") if isinstance(v.get(k), str))

    def nodes(ns):
        for n in ns:
            value(n.get("value"))
            nodes(n.get("body", {}).get("nodes", []))
    nodes(doc["nodes"])
    for d in doc.get("groups", {}).values():
        nodes(d["nodes"])
    run = doc.get("run", {})
    for feeds in [run.get("feeds", {})] + [a.get("feeds", {}) for a in run.get("also", [])]:
        for f in feeds.values():
            value(f)
    return found


@test
def save_into_another_folder_keeps_data():
    """--save OUT elsewhere: every relative data path (a group's constant,
    a constant, run.feeds, run.also) names the same file from OUT's folder;
    OUT runs from there and continues the run; files left outside are named
    on standard error with the --allow-data that OUT needs."""
    proj = os.path.join(TMP, "moved")
    a = os.path.join(proj, "a")
    os.makedirs(os.path.join(a, "w"))
    os.makedirs(os.path.join(a, "data"))
    os.makedirs(os.path.join(proj, "b"))
    write_npy(os.path.join(a, "w", "bias.npy"), [0.5, -0.25])
    write_npy(os.path.join(a, "w", "scale.npy"), [3.0, 7.0])
    write_npy(os.path.join(a, "w", "feed.npy"), [-2.0, 9.0])
    with open(os.path.join(a, "data", "rows.csv"), "w") as f:
        f.write("i,x\n0,1.5\n1,-4\n2,8\n3,0.25\n4,6\n5,-1\n")
    doc = {"format": "gradus-graph", "version": 1,
           "groups": {"aff": {"inputs": ["v"], "nodes": [
               {"id": "c", "kind": "constant", "dtype": "float64", "value": {"npy": "w/scale.npy"}},
               {"id": "m", "kind": "op", "op": "mul", "inputs": ["v", "c"]}], "outputs": ["m"]}},
           "nodes": [
               {"id": "x", "kind": "variable", "dtype": "float64", "shape": [2]},
               {"id": "k", "kind": "constant", "dtype": "float64", "value": {"npy": "./w//bias.npy"}},
               {"id": "acc", "kind": "shared", "dtype": "float64", "value": 0},
               {"id": "g1", "kind": "group", "group": "aff", "inputs": ["x"]},
               {"id": "y", "kind": "op", "op": "add", "inputs": ["g1", "k"]},
               {"id": "s", "kind": "op", "op": "sum", "inputs": ["y"]},
               {"id": "acc_n", "kind": "op", "op": "add", "inputs": ["acc", "s"]}],
           "function": {"inputs": ["x"], "outputs": ["y"],
                        "updates": [{"shared": "acc", "value": "acc_n"}]},
           "functions": {"other": {"inputs": ["x"], "outputs": ["s"]}},
           "run": {"steps": 3,
                   "feeds": {"x": {"csv": "data/rows.csv", "header": True, "column": 1, "batch": 2}},
                   "also": [{"function": "other", "every": 2,
                             "feeds": {"x": {"npy": "w/feed.npy"}}}]}}
    with open(os.path.join(a, "m.gradus"), "w") as f:
        json.dump(doc, f)
    original = data_paths(os.path.join(a, "m.gradus"))

    gradus_abs = os.path.abspath(GRADUS)   # these runs start in other folders

    def run_in(*args):
        return subprocess.run([gradus_abs, "run", *args], capture_output=True, text=True,
                              timeout=300, cwd=proj)

    whole = run_in("a/m.gradus", "--steps", "6")
    assert whole.returncode == 0, whole.stderr
    whole = whole.stdout.splitlines()
    assert len(whole) == 9, whole   # 6 calls of main, 3 of other

    # one folder up: every file still inside OUT's folder, no allowance needed
    p = run_in("a/m.gradus", "--steps", "3", "--save", "up.gradus")
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert data_paths(os.path.join(proj, "up.gradus")) == [
        "a/w/bias.npy", "a/w/scale.npy", "a/data/rows.csv", "a/w/feed.npy"], \
        data_paths(os.path.join(proj, "up.gradus"))
    q = run_in("up.gradus", "--steps", "3")
    assert q.returncode == 0, q.stderr
    assert p.stdout.splitlines() + q.stdout.splitlines() == whole

    # beside: every file outside OUT's folder, named with the flag to give
    p = run_in("a/m.gradus", "--steps", "3", "--save", "b/m.gradus")
    assert p.returncode == 0, p.stderr
    warned = p.stderr.splitlines()
    assert len(warned) == 4 and all("warning" in w and "--allow-data" in w for w in warned), warned
    for name in ("bias.npy", "scale.npy", "rows.csv", "feed.npy"):
        assert any(name in w for w in warned), (name, warned)
    assert data_paths(os.path.join(proj, "b", "m.gradus")) == [
        "../a/w/bias.npy", "../a/w/scale.npy", "../a/data/rows.csv", "../a/w/feed.npy"]
    refused = run_in("b/m.gradus", "--steps", "3")
    assert refused.returncode == 1 and "outside the document's folder" in refused.stderr, \
        refused.stderr
    q = run_in("b/m.gradus", "--steps", "3", "--allow-data", "a")
    assert q.returncode == 0, q.stderr
    assert p.stdout.splitlines() + q.stdout.splitlines() == whole
    # run from any folder, it still finds them
    elsewhere = subprocess.run([gradus_abs, "run", os.path.join(proj, "b", "m.gradus"), "--steps", "3",
                                "--allow-data", a], capture_output=True, text=True, timeout=300,
                               cwd=TMP)
    assert elsewhere.stdout == q.stdout, elsewhere.stderr

    # the same folder, by another spelling: every path keeps its bytes
    p = run_in("a/m.gradus", "--steps", "1", "--save", os.path.join(proj, "a", ".", "copy.gradus"))
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert data_paths(os.path.join(a, "copy.gradus")) == original, \
        (data_paths(os.path.join(a, "copy.gradus")), original)
    assert original == ["./w//bias.npy", "w/scale.npy", "data/rows.csv", "w/feed.npy"], original


@test
def seed_option():
    path = example("rnn-sine-bptt.gradus")
    base = run_raw(path, "--steps", "3")
    again = run_raw(path, "--steps", "3")
    s5 = run_raw(path, "--steps", "3", "--seed", "5")
    s5b = run_raw(path, "--steps", "3", "--seed", "5")
    s6 = run_raw(path, "--steps", "3", "--seed", "6")
    assert base == again and s5 == s5b
    assert s5 != s6 and s5 != base
    p = gradus("run", path, "--seed", "minus")
    assert p.returncode == 2 and "--seed" in p.stderr, p.stderr


@test
def scan_examples():
    out = run_lines(example("scan-polynomial.gradus"))[0]["outputs"]
    # 1 + 0 x + 2 x^2 at 3, its derivative 4 x, and the powers of x
    assert out == [19.0, 12.0, [1.0, 3.0, 9.0]], out
    out = run_lines(example("scan-power-iteration.gradus"))[0]["outputs"]
    assert abs(out[0] - 3) < 1e-9, out
    r = 1 / math.sqrt(2)
    assert all(abs(a - b) < 1e-6 for a, b in zip(out[1], [r, r, 0])), out
    loss = [l["outputs"][0] for l in run_lines(example("rnn-sine-bptt.gradus"), "--steps", "150")]
    assert sum(loss[-20:]) / 20 < sum(loss[:5]) / 5 / 5, (loss[:5], loss[-20:])
    cost = [l["outputs"][0] for l in run_lines(example("denoising-autoencoder-digits.gradus"), "--steps", "100")]
    assert sum(cost[-10:]) < 0.85 * sum(cost[:10]), (cost[:10], cost[-10:])


@test
def ifelse_in_a_file_is_lazy():
    # the else branch takes a row that does not exist: only an error if computed
    doc = {"format": "gradus-graph", "version": 1, "nodes": [
        {"id": "c", "kind": "variable", "dtype": "bool", "shape": []},
        {"id": "x", "kind": "variable", "dtype": "float64", "shape": [3]},
        {"id": "bad", "kind": "constant", "dtype": "int64", "value": [7]},
        {"id": "two", "kind": "constant", "dtype": "float64", "value": 2},
        {"id": "then", "kind": "op", "op": "mul", "inputs": ["x", "two"]},
        {"id": "else", "kind": "op", "op": "take", "inputs": ["x", "bad"]},
        {"id": "y", "kind": "op", "op": "ifelse", "inputs": ["c", "then", "else"]},
        {"id": "s", "kind": "op", "op": "sum", "inputs": ["y"]},
        {"id": "g", "kind": "grad", "cost": "s", "wrt": ["x"]}],
        "function": {"inputs": ["c", "x"], "outputs": ["y", "g:0"]},
        "run": {"steps": 1, "feeds": {"c": True, "x": [1, 2, 3]}}}
    path = write_tmp("ifelse.gradus", doc)
    out = run_lines(path)[0]["outputs"]
    assert out == [[2.0, 4.0, 6.0], [2.0, 2.0, 2.0]], out
    p = gradus("run", path, "--feed", "c=false")
    assert p.returncode == 1 and "'else'" in p.stderr, p.stderr


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
