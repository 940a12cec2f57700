#!/usr/bin/python3
"""test-pytorch-export.py GRADUS FILE_OR_DIR... [--torchrun FILE...]: each graph
file is exported with `gradus export --to pytorch`; `python3 OUT.py --steps N`
must print what `gradus run --steps N` prints, within float tolerance. With
--torchrun, each such file's script run by `torchrun --nproc_per_node=2` (gloo)
must print what the single process prints (its batch splits evenly). A
refusal for an op with no row in engine/interchange/pytorch/grd-pytorch-ops.c
(or a node kind the export does not know) is reported, not failed."""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402

# Debian 12's torch 1.13 on Python 3.11 cannot parse torchrun's default
# --redirects/--tee "0" (enum iteration skips the 0 flag); a mapping that
# names no local rank means "none" for all of them.
TORCHRUN_FIX = ["--redirects", "9:1", "--tee", "9:1"]


OPS_TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "engine",
                         "interchange", "pytorch", "grd-pytorch-ops.c")


def allowed_refusal(detail):
    rows = set(re.findall(r'\{ "([A-Za-z0-9_]+)", "', open(OPS_TABLE).read()))
    # written as Python loops and ifs by grd-pytorch-control.c
    rows |= {"_scan", "ifelse", "_tap_gather"}
    m = re.search(r"node '[^']+': op '([^']+)' has no PyTorch form", detail)
    if m:
        return m.group(1) not in rows
    return re.search(r"node '[^']+': this kind of node has no PyTorch form", detail) is not None


def tolerance(doc):
    if "float32" in {n.get("dtype") for n in doc["nodes"]}:
        return 2e-4, 2e-5
    return 1e-7, 1e-10


def lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def export(gradus, path, tmp):
    script = os.path.join(tmp, os.path.basename(path).replace(".gradus", "") + ".py")
    r = subprocess.run([gradus, "export", path, "--to", "pytorch", "-o", script],
                       capture_output=True, text=True)
    return script if r.returncode == 0 else None, r.stderr.strip()


def check_file(gradus, path, steps_cap, tmp):
    doc = json.load(open(path))
    script, err = export(gradus, path, tmp)
    if not script:
        return "refused", err
    steps = min(doc.get("run", {}).get("steps", 1), steps_cap)
    r = subprocess.run([gradus, "run", path, "--steps", str(steps)], capture_output=True, text=True)
    if r.returncode != 0:
        return "fail", "gradus run failed: " + r.stderr.strip()
    expected = lines(r.stdout)
    # the run function's lines: the script does not make run.also calls
    main_function = expected[0].get("function") if expected else None
    expected = [e for e in expected if e.get("function") == main_function]
    r = subprocess.run([sys.executable, script, "--steps", str(steps)], capture_output=True,
                       text=True)
    if r.returncode != 0:
        return "fail", "the script failed: " + r.stderr.strip()[-1500:]
    rtol, atol = tolerance(doc)
    problems = compare.compare_lines(expected, lines(r.stdout), rtol, atol, os.path.basename(path))
    if problems:
        return "fail", "\n  ".join(problems[:5])
    return "ok", "%d steps" % steps


def check_torchrun(gradus, path, steps, tmp):
    script, err = export(gradus, path, tmp)
    if not script:
        return "fail", err
    single = subprocess.run([sys.executable, script, "--steps", str(steps)], capture_output=True,
                            text=True)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    multi = subprocess.run(["torchrun", "--standalone", "--nproc_per_node=2"] + TORCHRUN_FIX
                           + [script, "--steps", str(steps)], capture_output=True, text=True,
                           env=env)
    if single.returncode != 0 or multi.returncode != 0:
        return "fail", (single.stderr + multi.stderr)[-2000:]
    # the same sums split in two: float32 rounding apart, the same numbers
    problems = compare.compare_lines(lines(single.stdout), lines(multi.stdout), 1e-5, 1e-6,
                                     "torchrun " + os.path.basename(path))
    if problems:
        return "fail", "\n  ".join(problems[:5])
    return "ok", "torchrun --nproc_per_node=2 gives the single-process lines (%d steps)" % steps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gradus")
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--torchrun", nargs="*", default=[])
    ap.add_argument("--expect-refused", nargs="*", default=[],
                    help="FILE=TEXT: the export must fail with TEXT in its message")
    args = ap.parse_args()
    files = []
    for p in args.paths:
        files += sorted(glob.glob(os.path.join(p, "*.gradus"))) if os.path.isdir(p) else [p]
    counts = {"ok": 0, "refused": 0, "fail": 0}
    refusals = dict(e.split("=", 1) for e in args.expect_refused)
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            status, detail = check_file(args.gradus, f, args.steps, tmp)
            if f in refusals and (status != "refused" or refusals[f] not in detail):
                detail = "expected a refusal naming %r, got: %s" % (refusals[f], detail)
                status = "fail"
            elif f not in refusals and status == "refused" and not allowed_refusal(detail):
                status = "fail"
            counts[status] += 1
            print("%-8s %s: %s" % (status, os.path.basename(f), detail))
        for f in args.torchrun:
            status, detail = check_torchrun(args.gradus, f, 3, tmp)
            counts[status] += 1
            print("%-8s %s: %s" % (status, os.path.basename(f), detail))
    print("pytorch export: %(ok)d agree, %(refused)d refused (no PyTorch form), %(fail)d failed"
          % counts)
    return 1 if counts["fail"] or not counts["ok"] else 0


if __name__ == "__main__":
    sys.exit(main())
