#!/usr/bin/env python3
"""`meson install` into a temporary DESTDIR, then what a user or a packager of
that prefix would do: run the installed `gradus` on an installed example,
validate the desktop file, the metainfo and the schema, build the README's C
example with `pkg-config --cflags --libs gradus-1` against the installed
library, check its soname and exported symbols, and ask xdg-mime what a
.gradus file is and what opens it. TAP; standard library only.

usage: test-install.py --build-dir DIR --source-dir DIR
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

args = sys.argv[1:]
build_dir, source_dir = (args[args.index(k) + 1] for k in ("--build-dir", "--source-dir"))
results = []


def check(name, cond, detail=""):
    results.append((name, cond, detail))


# Under -Db_sanitize=address, programs that are not instrumented but load the
# instrumented library (the README example, Python) need the ASan runtime
# preloaded; meson passes its path here. Only those get it: preloaded into
# every tool, it makes some (appstreamcli) hang.
ASAN_PRELOAD = os.environ.pop("GRADUS_TEST_ASAN_PRELOAD", "")


def dso_env(**extra):
    env = dict(os.environ, **extra)
    if ASAN_PRELOAD:
        env.update(LD_PRELOAD=ASAN_PRELOAD, ASAN_OPTIONS="detect_leaks=0")
    return env


def run(cmd, **kw):
    kw.setdefault("timeout", 300)
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def finish():
    print(f"1..{len(results)}")
    for i, (name, cond, detail) in enumerate(results, 1):
        print(f"{'ok' if cond else 'not ok'} {i} - {name}")
        if not cond:
            for line in str(detail).splitlines()[-30:]:
                print(f"# {line}")
    sys.exit(0 if all(c for _, c, _ in results) else 1)


options = {o["name"]: o["value"]
           for o in json.loads(run(["meson", "introspect", build_dir, "--buildoptions"]).stdout)}
prefix = options["prefix"]


def under_prefix(option):
    value = options[option]
    return value if os.path.isabs(value) else os.path.join(prefix, value)


tmp = tempfile.mkdtemp(prefix="gradus-install-")
dest = os.path.join(tmp, "root")
p = run(["meson", "install", "-C", build_dir, "--no-rebuild", "--destdir", dest])
check("meson_install", p.returncode == 0, p.stdout + p.stderr)
if p.returncode != 0:
    finish()


def installed(option, *parts):
    return dest + os.path.join(under_prefix(option), *parts)


bindir, datadir, libdir = installed("bindir"), installed("datadir"), installed("libdir")
gradus = os.path.join(bindir, "gradus")
examples = os.path.join(datadir, "gradus", "examples")
example = os.path.join(examples, "primer-3-linear-regression.gradus")
desktop = os.path.join(datadir, "applications", "org.gradus.Gradus.desktop")
metainfo = os.path.join(datadir, "metainfo", "org.gradus.Gradus.metainfo.xml")
schemas = os.path.join(datadir, "glib-2.0", "schemas")
mime_xml = os.path.join(datadir, "mime", "packages", "org.gradus.Gradus.xml")
man_page = installed("mandir", "man1", "gradus.1")
for path in (gradus, example, desktop, metainfo, os.path.join(schemas, "org.gradus.Gradus.gschema.xml"),
             mime_xml, man_page, os.path.join(datadir, "icons", "hicolor", "scalable", "apps",
                                              "org.gradus.Gradus.svg"),
             installed("includedir", "gradus", "gradus.h"),
             os.path.join(libdir, "pkgconfig", "gradus-1.pc")):
    check("installed " + os.path.relpath(path, dest), os.path.exists(path), "missing")

# The installed binary on an installed example, from outside the source tree.
p = run([gradus, "run", example, "--steps", "2"], cwd=tmp)
check("installed_gradus_runs_installed_example",
      p.returncode == 0 and p.stdout.splitlines()[:1] ==
      ['{"step": 0, "outputs": [36.0], "shared": {"a": -0.88, "b": 0.12}}'],
      p.stdout + p.stderr)
p = run([gradus, "run", os.path.join(examples, "softmax-regression-iris.gradus"),
         "--steps", "1", "--print", "last"], cwd=tmp)
check("installed_example_finds_its_data_set", p.returncode == 0, p.stdout + p.stderr)

# The validators, on the installed files.
p = run(["desktop-file-validate", desktop])
check("desktop_file_validate", p.returncode == 0 and "error" not in p.stdout, p.stdout + p.stderr)
with open(desktop) as f:
    check("desktop_file_names_the_mime_type", "MimeType=application/x-gradus;" in f.read())
p = run(["appstreamcli", "validate", "--no-net", metainfo])
check("appstreamcli_validate", p.returncode == 0, p.stdout + p.stderr)
with open(metainfo) as f:
    text = f.read()
check("metainfo_has_releases", "<release version=" in text)
# No placeholder addresses: there is no homepage yet, and AppStream takes
# screenshots only as web URLs, so the ones shipped in the tree are not listed.
check("metainfo_has_no_placeholder_urls", "gradus.org" not in text and "://" not in text, text)
p = run(["appstreamcli", "validate", "--no-net", "--pedantic", metainfo])
check("appstreamcli_validate_pedantic", p.returncode == 0, p.stdout + p.stderr)
shots = glob.glob(os.path.join(source_dir, "data", "screenshots", "*.png"))
check("screenshots_shipped_in_tree",
      len(shots) >= 2 and all(open(f, "rb").read(8) == b"\x89PNG\r\n\x1a\n" for f in shots), shots)
p = run(["glib-compile-schemas", "--strict", "--dry-run", schemas])
check("glib_compile_schemas_strict", p.returncode == 0 and p.stderr == "", p.stderr)
p = run(["gsettings", "--schemadir", tmp, "list-keys", "org.gradus.Gradus"], cwd=tmp) \
    if run(["glib-compile-schemas", "--strict", "--targetdir", tmp, schemas]).returncode == 0 else None
keys = set(p.stdout.split()) if p else set()
check("schema_keys_for_the_editor_preferences",
      {"window-width", "window-height", "panel-height", "backend", "presentation-mode",
       "recent-files"} <= keys, f"keys: {sorted(keys)}")
p = run(["man", "--warnings", "-l", man_page], env=dict(os.environ, MANWIDTH="80", LANG="C.UTF-8"))
check("man_page_renders_without_warnings",
      p.returncode == 0 and "gradus run" in p.stdout and p.stderr == "", p.stderr)

# The shared library: soname, symbol set, pkg-config.
libs = glob.glob(os.path.join(libdir, "libgradus-1.so.*.*.*"))
check("one_versioned_shared_library", len(libs) == 1, f"found {libs}")
if libs:
    p = run(["readelf", "-d", libs[0]])
    check("soname", "Library soname: [libgradus-1.so.0]" in p.stdout, p.stdout)
    p = run(["nm", "-D", "--defined-only", libs[0]])
    symbols = [line.split()[-1].split("@")[0] for line in p.stdout.splitlines() if line.split()]
    exported = [s for s in symbols if not s.startswith("GRADUS_1")]
    check("exports_only_grd_symbols",
          len(exported) > 100 and all(s.startswith("grd_") for s in exported),
          " ".join(s for s in exported if not s.startswith("grd_"))[:2000])
    check("exports_the_public_api",
          {"grd_graph_new", "grd_function_call", "grd_document_load"} <= set(exported))

# The README's C example built against the installed prefix, as its users
# would; the .pc file moved with the DESTDIR, so its prefix says where it is now.
pc_dir = os.path.join(tmp, "pkgconfig")
os.mkdir(pc_dir)
with open(os.path.join(libdir, "pkgconfig", "gradus-1.pc")) as f:
    pc = f.read()
check("pc_file_paths_follow_the_prefix", pc.startswith(f"prefix={prefix}\n")
      and "libdir=${prefix}/" in pc and "includedir=${prefix}/" in pc, pc)
with open(os.path.join(pc_dir, "gradus-1.pc"), "w") as f:
    f.write(pc.replace(f"prefix={prefix}\n", f"prefix={dest + prefix}\n", 1))
env = dict(os.environ, PKG_CONFIG_PATH=pc_dir)
p = run(["pkg-config", "--cflags", "--libs", "gradus-1"], env=env)
flags = p.stdout.split()
check("pkg_config_gradus_1", p.returncode == 0 and "-lgradus-1" in flags
      and not any(source_dir in f or build_dir in f for f in flags), p.stdout + p.stderr)
exe = os.path.join(tmp, "linreg")
cc = os.environ.get("CC", "cc")
p = run([cc, os.path.join(source_dir, "tests", "cli", "readme-example.c"), "-o", exe] + flags)
check("readme_example_builds_with_pkg_config", p.returncode == 0, p.stdout + p.stderr)
if p.returncode == 0:
    p = run(["ldd", exe], env=dict(os.environ, LD_LIBRARY_PATH=libdir))
    check("readme_example_links_the_installed_library",
          os.path.join(libdir, "libgradus-1.so.0") in p.stdout, p.stdout)
    p = run([exe], env=dso_env(LD_LIBRARY_PATH=libdir))
    lines = p.stdout.splitlines()
    check("readme_example_prints_the_primer_numbers",
          p.returncode == 0 and lines[:1] == ["mse 36"]
          and lines[-2:] == ["a 0.0055020920254968131", "b 1.0055020920254969"],
          p.stdout + p.stderr)

# The French translation, as a user with LANGUAGE=fr sees the command: every
# help text and these errors differ from the English and read as French.
check("installed fr/LC_MESSAGES/gradus.mo",
      os.path.exists(installed("localedir", "fr", "LC_MESSAGES", "gradus.mo")))
for args, french in ((["--help"], "ouvre l’éditeur"), (["run", "--help"], "Appelle N fois"),
                     (["check", "--help"], "Charge FICHIER"), (["bench", "--help"], "Affiche un objet"),
                     (["export", "--help"], "le fichier à écrire"),
                     (["run"], "aucun fichier donné"), (["run", example, "--stepz"], "option inconnue"),
                     (["nope"], "n’est ni une commande ni un fichier")):
    en = run([gradus] + args, cwd=tmp, env=dict(os.environ, LANG="C.UTF-8", LANGUAGE="en"))
    fr = run([gradus] + args, cwd=tmp, env=dict(os.environ, LANG="C.UTF-8", LANGUAGE="fr"))
    check("french " + " ".join(a if a != example else "FILE" for a in args),
          fr.returncode == en.returncode and french in fr.stdout + fr.stderr
          and (fr.stdout + fr.stderr) != (en.stdout + en.stderr), fr.stdout + fr.stderr)

# Python through the installed typelib and library (when introspection is built).
if options.get("introspection") != "disabled":
    typelib_dir = os.path.join(libdir, "girepository-1.0")
    check("installed Gradus-1.0.typelib and .gir",
          os.path.exists(os.path.join(typelib_dir, "Gradus-1.0.typelib"))
          and os.path.exists(os.path.join(datadir, "gir-1.0", "Gradus-1.0.gir")))
    pythons = [py for py in (sys.executable, "/usr/bin/python3")
               if os.path.exists(py) and run([py, "-c", "import gi"]).returncode == 0]
    script = ("import gi; gi.require_version('Gradus', '1.0'); from gi.repository import Gradus\n"
              "d = Gradus.Document.load('%s'); f = d.function()\n"
              "r = d.graph().lookup('b'); f.call([Gradus.Tensor.new_scalar(Gradus.DType.FLOAT64, 1.0),"
              " Gradus.Tensor.new_scalar(Gradus.DType.FLOAT64, 5.0)])\n"
              "print(d.graph().get_value(r).get(0))\n" % example)
    p = run([pythons[0], "-c", script], cwd=tmp,
            env=dso_env(GI_TYPELIB_PATH=typelib_dir, LD_LIBRARY_PATH=libdir)) \
        if pythons else None
    check("python_uses_the_installed_typelib",
          p is not None and p.returncode == 0 and p.stdout == "0.12\n", (p.stdout + p.stderr) if p else "no python3 with gi")

# xdg-mime in that prefix: the caches a package's triggers would build, then
# the desktop's questions (gio answers them under XDG_CURRENT_DESKTOP=GNOME).
home = os.path.join(tmp, "home")
xdg_env = dict(os.environ, HOME=home, XDG_DATA_HOME=os.path.join(home, "data"),
               XDG_CONFIG_HOME=os.path.join(home, "config"), XDG_CONFIG_DIRS=os.path.join(home, "etc"),
               XDG_DATA_DIRS=datadir + ":/usr/share", XDG_CURRENT_DESKTOP="GNOME")
xdg_env.pop("DISPLAY", None)
for d in ("data", "config", "etc"):
    os.makedirs(os.path.join(home, d), exist_ok=True)
p = run(["update-mime-database", os.path.join(datadir, "mime")])
check("update_mime_database", p.returncode == 0, p.stderr)
p = run(["update-desktop-database", os.path.join(datadir, "applications")])
check("update_desktop_database", p.returncode == 0, p.stderr)
if shutil.which("xdg-mime"):
    p = run(["xdg-mime", "query", "filetype", example], env=xdg_env)
    check("xdg_mime_query_filetype", p.stdout.strip() == "application/x-gradus",
          p.stdout + p.stderr)
    p = run(["xdg-mime", "query", "default", "application/x-gradus"], env=xdg_env)
    check("xdg_mime_query_default", p.stdout.strip() == "org.gradus.Gradus.desktop",
          p.stdout + p.stderr)
else:
    check("xdg_mime_installed", False, "xdg-mime not found: tools/install-deps.sh installs xdg-utils")

shutil.rmtree(tmp, ignore_errors=True)
finish()
