#!/usr/bin/env python3
"""test-vk-scan-cli.py: `gradus run --backend vulkan` on every example with a
scan gives the CPU's printed values (float32 examples: within 1e-4 relative),
with nothing on stderr: no fallback message, no validation message."""
import argparse
import glob
import json
import math
import os
import subprocess
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--gradus", required=True)
ap.add_argument("--source-dir", required=True)
args = ap.parse_args()

examples = sorted(p for p in glob.glob(os.path.join(args.source_dir, "data", "examples", "*.gradus"))
                  if '"scan"' in open(p, encoding="utf-8").read())


def close(a, b, path):
    if isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{path}: {a!r} vs {b!r}"
        for i, (x, y) in enumerate(zip(a, b)):
            close(x, y, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert isinstance(b, dict) and sorted(a) == sorted(b), f"{path}: keys differ"
        for k in a:
            close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (int, float)) and not isinstance(a, bool):
        assert isinstance(b, (int, float)), f"{path}: {a!r} vs {b!r}"
        assert math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-6), f"{path}: CPU {a!r}, Vulkan {b!r}"
    else:
        assert a == b, f"{path}: {a!r} vs {b!r}"


def run(path, backend):
    p = subprocess.run([args.gradus, "run", path, "--backend", backend], capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    return p


print(f"1..{len(examples) + 1}")
print("ok 1 examples with a scan found" if examples else "not ok 1 no example with a scan")
failed = not examples
for n, path in enumerate(examples, 2):
    name = os.path.basename(path)
    try:
        cpu = run(path, "cpu")
        vk = run(path, "vulkan")
        assert vk.stderr == "", "stderr: " + vk.stderr
        a = [json.loads(line) for line in cpu.stdout.splitlines()]
        b = [json.loads(line) for line in vk.stdout.splitlines()]
        assert a, "no output"
        close(a, b, name)
        print(f"ok {n} {name}")
    except AssertionError as e:
        failed = True
        print(f"not ok {n} {name}")
        for line in str(e).splitlines():
            print("# " + line)
sys.exit(1 if failed else 0)
