#!/usr/bin/env python3
"""Counts the results of `meson test` from its testlog.json: every TAP subtest of
every test, and a test that does not speak TAP as one. Prints failing subtests
and one final line 'N passed, N failed'; exit status 1 when anything failed.
Standard library only."""
import json
import os
import re
import sys

TAP_LINE = re.compile(r"^(not ok|ok)\b(.*)$")
TAP_PLAN = re.compile(r"^1\.\.\d+")


def protocols(log_path):
    """Test name as testlog.json writes it ("project:suite / name") -> protocol,
    from meson-info/intro-tests.json beside meson-logs/."""
    info = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(log_path))),
                        "meson-info", "intro-tests.json")
    out = {}
    try:
        for t in json.load(open(info)):
            for suite in t.get("suite", []):
                out[f"{suite} / {t['name']}"] = t.get("protocol", "exitcode")
    except (OSError, ValueError):
        pass
    return out


def count(log_path):
    passed = failed = 0
    known = protocols(log_path)
    for line in open(log_path):
        line = line.strip()
        if not line:
            continue
        t = json.loads(line)
        result = t.get("result", "")
        subtests = []
        stdout = t.get("stdout") or ""
        protocol = known.get(t.get("name"))
        if protocol is None:  # not in the introspection: a TAP plan line tells
            protocol = "tap" if any(TAP_PLAN.match(l) for l in stdout.splitlines()) else "exitcode"
        if protocol == "tap":
            for out in stdout.splitlines():
                m = TAP_LINE.match(out.strip())
                if m:
                    ok = m.group(1) == "ok"
                    skipped = "# SKIP" in m.group(2).upper()
                    if skipped:
                        continue
                    subtests.append((ok or "# TODO" in m.group(2).upper(), m.group(2)))
        if subtests:
            p = sum(1 for ok, _ in subtests if ok)
            f = len(subtests) - p
            for ok, text in subtests:
                if not ok:
                    print(f"FAIL {t['name']}:{text}")
            # A test that crashed or timed out after its last subtest still failed.
            if f == 0 and result not in ("OK", "EXPECTEDFAIL"):
                f = 1
                print(f"FAIL {t['name']}: {result}")
        else:
            ok = result in ("OK", "EXPECTEDFAIL")
            p, f = (1, 0) if ok else (0, 1)
            if not ok:
                print(f"FAIL {t['name']}: {result}")
        passed += p
        failed += f
    return passed, failed


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "build/meson-logs/testlog.json"
    try:
        passed, failed = count(path)
    except OSError as e:
        print(f"count-tests: {e}", file=sys.stderr)
        passed, failed = 0, 1
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
