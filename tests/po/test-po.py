#!/usr/bin/env python3
"""The translations are complete: the strings marked in the sources listed in
po/POTFILES.in, extracted afresh with xgettext, each have a translation in
every language of po/LINGUAS, none fuzzy, and msgfmt --check accepts each
file (format strings that match the English). TAP.

usage: test-po.py --source-dir DIR
"""
import os
import subprocess
import sys
import tempfile

source_dir = sys.argv[sys.argv.index("--source-dir") + 1]
po_dir = os.path.join(source_dir, "po")
results = []


def check(name, cond, detail=""):
    results.append((name, cond, detail))


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, cwd=source_dir, timeout=120)


sources = [l.strip() for l in open(os.path.join(po_dir, "POTFILES.in"))
           if l.strip() and not l.startswith("#")]
languages = [l.strip() for l in open(os.path.join(po_dir, "LINGUAS"))
             if l.strip() and not l.startswith("#")]
check("at_least_one_language", len(languages) >= 1, languages)

with tempfile.TemporaryDirectory() as tmp:
    pot = os.path.join(tmp, "gradus.pot")
    # The keywords of meson's glib preset.
    p = run(["xgettext", "--from-code=UTF-8", "--keyword=_", "--keyword=N_", "--keyword=C_:1c,2",
             "--keyword=NC_:1c,2", "--keyword=g_dngettext:2,3", "--keyword=g_dpgettext2:2c,3",
             "--flag=N_:1:pass-c-format", "--flag=C_:2:pass-c-format", "--flag=NC_:2:pass-c-format",
             "--flag=g_set_error:4:c-format", "--flag=g_strdup_printf:1:c-format",
             "-o", pot] + sources)
    check("xgettext", p.returncode == 0 and os.path.exists(pot), p.stderr)
    n_messages = open(pot).read().count("\nmsgid ") - 1 if os.path.exists(pot) else 0
    check("sources_mark_strings", n_messages >= 40, f"{n_messages} messages")
    for lang in languages:
        po = os.path.join(po_dir, lang + ".po")
        p = run(["msgfmt", "--check", "--statistics", "-o", os.devnull, po])
        stats = p.stderr.strip()
        check(f"{lang}_msgfmt_check", p.returncode == 0, stats)
        check(f"{lang}_nothing_fuzzy_or_untranslated",
              "fuzzy" not in stats and "untranslated" not in stats, stats)
        p = run(["msgcmp", po, pot])
        check(f"{lang}_translates_every_marked_string", p.returncode == 0, p.stderr)

print(f"1..{len(results)}")
for i, (name, cond, detail) in enumerate(results, 1):
    print(f"{'ok' if cond else 'not ok'} {i} - {name}")
    if not cond:
        for line in str(detail).splitlines()[-20:]:
            print(f"# {line}")
sys.exit(0 if all(c for _, c, _ in results) else 1)
