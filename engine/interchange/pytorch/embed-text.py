#!/usr/bin/env python3
"""embed-text.py IN OUT NAME: writes a C file defining `const char NAME[]`
holding the text of IN, so the exporter carries preamble.py."""
import sys

src, out, name = sys.argv[1:4]
text = open(src, encoding="utf-8").read()
with open(out, "w", encoding="utf-8") as f:
    f.write("/* generated from %s by embed-text.py */\n" % src.split("/")[-1])
    f.write("const char %s[] =\n" % name)
    for line in text.splitlines(True):
        esc = line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        f.write('  "%s"\n' % esc)
    f.write("  ;\n")
