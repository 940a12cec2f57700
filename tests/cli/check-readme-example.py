#!/usr/bin/env python3
"""The README's C example: it is the file tests/cli/readme-example.c, and it prints
the Theano primer's numbers. TAP; standard library only.

usage: check-readme-example.py --example EXE --readme README.md --source readme-example.c
"""
import re
import subprocess
import sys

args = sys.argv[1:]
exe, readme, source = (args[args.index(k) + 1] for k in ("--example", "--readme", "--source"))
results = []


def check(name, cond, detail=""):
    results.append((name, cond, detail))


# 1. The README shows exactly this program (the first ```c block).
blocks = re.findall(r"```c\n(.*?)```", open(readme).read(), re.S)
check("readme_shows_the_tested_program", bool(blocks) and blocks[0] == open(source).read(),
      "the first ```c block of README.md differs from tests/cli/readme-example.c")

# 2. It prints the primer's numbers: the same arithmetic in Python floats.
p = subprocess.run([exe], capture_output=True, text=True, timeout=60)
check("example_runs", p.returncode == 0, p.stderr)
got = dict()
mse = []
for line in p.stdout.splitlines():
    key, value = line.split()
    if key == "mse":
        mse.append(float(value))
    else:
        got[key] = float(value)
a, b, want = -1.0, 0.0, []
for _ in range(10):
    err = a * 1.0 + b - 5.0
    want.append(err ** 2)
    a, b = a - 0.01 * (2.0 * err * 1.0), b - 0.01 * (2.0 * err)
check("mse_per_call", mse == want, f"got {mse}, want {want}")
check("final_a_b", got == {"a": a, "b": b} and a == 0.005502092025496813 and b == 1.005502092025497,
      f"got {got}, want a={a!r} b={b!r}")

print(f"1..{len(results)}")
for i, (name, cond, detail) in enumerate(results, 1):
    print(f"{'ok' if cond else 'not ok'} {i} - {name}")
    if not cond:
        print(f"# {detail}")
sys.exit(0 if all(c for _, c, _ in results) else 1)
