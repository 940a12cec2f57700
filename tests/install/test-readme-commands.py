#!/usr/bin/env python3
"""The README's two commands, run exactly as written, in a copy of tools/ where
apt-get, dpkg-query, id, sudo, meson and ninja are stand-ins that log their
arguments: as root on a machine with no sudo (Debian's container images), as a
user with sudo, and as a user with neither. TAP; standard library only.

usage: test-readme-commands.py --source-dir DIR
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

source_dir = sys.argv[sys.argv.index("--source-dir") + 1]
results = []


def check(name, cond, detail=""):
    results.append((name, cond, detail))


readme = open(os.path.join(source_dir, "README.md")).read()
section = readme.split("## Try it on a fresh Debian 12 machine", 1)[1].split("\n## ", 1)[0]
blocks = re.findall(r"```sh\n(.*?)\n```", section, re.S)
check("readme_has_two_commands", len(blocks) == 2, f"found {blocks}")
first, second = (blocks + ["", ""])[:2]
# The first command's build part: everything before it opens the editor.
parts = [p.strip() for p in first.split("&&")]
build_part = " && ".join(p for p in parts if not p.startswith("build/app/gradus"))
check("first_command_opens_the_editor_last",
      parts[-1].startswith("build/app/gradus ") and len(parts) == 4, first)

STUB = """#!/bin/sh
printf '%s\\n' "$(basename "$0") $*" >> "$STUB_LOG"
"""
STUBS = {
    # Every package reads as missing, or as installed when STUB_ALL_INSTALLED is set.
    "dpkg-query": STUB + '[ -n "${STUB_ALL_INSTALLED:-}" ] && printf "install ok installed"\nexit 0\n',
    "id": '#!/bin/sh\necho "$STUB_UID"\n',
    "apt-get": STUB,
    "ninja": STUB,
    "sudo": STUB + 'exec "$@"\n',
    # `meson test` leaves the log that count-tests.py reads: one passing test.
    "meson": STUB + """if [ "$1" = test ]; then
  mkdir -p build/meson-logs
  echo '{"name": "stand-in", "result": "OK", "stdout": ""}' > build/meson-logs/testlog.json
fi
""",
}
REAL = ["sh", "grep", "dirname", "basename", "python3", "mkdir", "env", "cat"]


def run(command, uid, sudo, all_installed=False):
    """Runs `command` with sh in a fresh copy of tools/; returns (status, output, log lines)."""
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(os.path.join(source_dir, "tools"), os.path.join(tmp, "tools"))
        bin_dir = os.path.join(tmp, "bin")
        os.mkdir(bin_dir)
        for name, text in STUBS.items():
            if name == "sudo" and not sudo:
                continue
            path = os.path.join(bin_dir, name)
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o755)
        for name in REAL:
            os.symlink(shutil.which(name), os.path.join(bin_dir, name))
        log = os.path.join(tmp, "log")
        open(log, "w").close()
        env = {"PATH": bin_dir, "STUB_LOG": log, "STUB_UID": str(uid), "HOME": tmp}
        if all_installed:
            env["STUB_ALL_INSTALLED"] = "1"
        p = subprocess.run(["sh", "-c", command], cwd=tmp, env=env,
                           capture_output=True, text=True, timeout=120)
        lines = [l for l in open(log).read().splitlines() if not l.startswith("dpkg-query")]
        return p.returncode, p.stdout + p.stderr, lines


def installs(lines):
    return [l for l in lines if "apt-get install" in l]


# Root without sudo: the README's first command, build part, exactly as written.
status, out, log = run(build_part, 0, sudo=False)
check("root_without_sudo_first_command", status == 0, out)
check("root_installs_with_apt_get_itself",
      len(installs(log)) == 1 and installs(log)[0].startswith("apt-get install -y -q ")
      and "libgtk-4-dev" in installs(log)[0], "\n".join(log))
check("root_then_builds", log[-2:] == ["meson setup build", "ninja -C build"], "\n".join(log))

# Root without sudo: the second command, exactly as written.
status, out, log = run(second, 0, sudo=False)
check("root_without_sudo_test_command", status == 0 and "1 passed, 0 failed" in out, out)
check("test_command_installs_builds_and_tests",
      len(installs(log)) == 1 and "meson setup build" in log and "ninja -C build" in log
      and any(l.startswith("meson test -C build") for l in log), "\n".join(log))

# A user with sudo: apt-get goes through sudo.
status, out, log = run(build_part, 1000, sudo=True)
check("user_with_sudo_first_command", status == 0, out)
check("user_installs_through_sudo",
      any(l.startswith("sudo env DEBIAN_FRONTEND=noninteractive apt-get install") for l in log),
      "\n".join(log))

# Neither root nor sudo: a failure that says what to install, and nothing run.
status, out, log = run(build_part, 1000, sudo=False)
check("user_without_sudo_fails_saying_what_to_install",
      status != 0 and "apt-get install -y" in out and "libjson-glib-dev" in out
      and installs(log) == [] and "meson setup build" not in log, out + "\n".join(log))

# Everything installed: nothing to install, no sudo needed.
status, out, log = run(build_part, 1000, sudo=False, all_installed=True)
check("nothing_missing_needs_no_root", status == 0 and installs(log) == [], out)

print(f"1..{len(results)}")
for i, (name, cond, detail) in enumerate(results, 1):
    print(f"{'ok' if cond else 'not ok'} {i} - {name}")
    if not cond:
        for line in str(detail).splitlines():
            print(f"# {line}")
sys.exit(0 if all(c for _, c, _ in results) else 1)
