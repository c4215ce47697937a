#!/usr/bin/env python3
"""Extension authors: the record from build configuration alone.

With the gate pip-installed into fresh venvs (3.11, seeing Debian's meson
and meson-python; 3.13t):
1. examples/package-setuptools (abigate.with_record in its setup.py; its C
   source knows nothing of abigate), built by `pip wheel`: the wheel's tags,
   its module carries the record, `abigate check` accepts it for its own
   interpreter and refuses it for the other, it installs and works with the
   gate in strict mode.
2. The same helper on an unmodified copy of examples/demo.c with its
   ABIGATE_RECORD lines removed, for 3.11, abi3 3.8+ and 3.13t: the record
   is present and equals the one ABIGATE_RECORD gives for the same headers
   and flags; the module works under the gate.
3. examples/package-meson (dependency('abigate') through the package's
   abigate.pc, abigate.get_pkgconfig_dir(); record_source), built by
   meson-python for 3.11: the same checks as 1.
The venvs live in a temporary directory whose path lacks the word "build",
as a user's does: setuptools lets an absolute source through its package-data
check only when the path holds that word, which once hid a with_record that
broke every such user's `pip wheel`.
"""
import os
import re
import shutil
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
rows, by_id = testlib.registry(tap, required=("3.11", "3.13t"))
srcdir = testlib.env("ABIGATE_SRCDIR", tap)
cli = testlib.env("ABIGATE_CLI", tap)
for tool in ("meson", "ninja"):
    if not shutil.which(tool):
        tap.bail("%s is missing: apt-get install meson ninja-build python3-mesonpy "
                 "(scripts/common.sh installs them)" % tool)
work = testlib.workdir("pip-authors")
src = testlib.pip_source(tap, os.path.join(work, "abigate"))
venvs = {}
home = tempfile.mkdtemp(prefix="abigate-authors-")
if "build" in home:
    tap.bail("the temporary directory %s holds the word 'build' (set TMPDIR)" % home)
for rid, system_site in (("3.11", True), ("3.13t", False)):
    v, e, p, _ = testlib.pip_install_gate(tap, by_id[rid], os.path.join(home, "venv-" + rid), src,
                                          system_site=system_site)
    if p.returncode:
        tap.bail("pip install of the gate into a %s venv failed: %s" % (rid, p.stdout + p.stderr))
    venvs[rid] = (v, e)
OTHER = {"3.11": "3.13t", "3.13t": "3.11"}


def record_of(path):
    status, doc = testlib.cli_json(tap, "inspect", [path])
    return doc["files"][0].get("record") if status == 0 and doc and doc.get("files") else None


def build_wheel(title, v, e, project, want_tags):
    """pip wheel PROJECT in venv `v`; returns the wheel's extension module
    (extracted), or None."""
    wd = testlib.workdir("pip-authors")
    p = v.pip(e, "wheel", "--no-build-isolation", "--no-deps", "-w", wd, project)
    wheels = [f for f in os.listdir(wd) if f.endswith(".whl")]
    if not tap.ok(p.returncode == 0 and len(wheels) == 1, "%s: pip wheel" % title,
                  p.stdout[-3000:] + p.stderr[-3000:]):
        return None, None
    tap.ok(wheels[0].endswith("-%s-linux_x86_64.whl" % want_tags), "%s: the wheel is tagged %s"
           % (title, want_tags), wheels[0])
    with zipfile.ZipFile(os.path.join(wd, wheels[0])) as z:
        mods = [n for n in z.namelist() if n.endswith(".so")]
        if not tap.ok(len(mods) == 1, "%s: the wheel holds one extension module" % title, repr(mods)):
            return None, None
        z.extract(mods[0], wd)
    return os.path.join(wd, wheels[0]), os.path.join(wd, mods[0])


def judge_and_use(title, rid, whl, mod, code, want):
    v, e = venvs[rid]
    tap.ok(record_of(mod) is not None, "%s: its module carries the abigate record" % title)
    p = testlib.run([cli, "check", "--python", by_id[rid].python, mod])
    tap.ok(p.returncode == 0, "%s: abigate check accepts it for %s" % (title, rid), p.stdout + p.stderr)
    other = by_id[OTHER[rid]]
    p = testlib.run([cli, "check", "--python", other.python, mod])
    tap.ok(p.returncode == 1 and "ABIGATE_R_" in p.stdout, "%s: abigate check refuses it for %s"
           % (title, other.id), p.stdout + p.stderr)
    p = testlib.run([cli, "check", "--python", by_id[rid].python, whl])
    tap.ok(p.returncode == 0 and "WHEEL_" not in p.stdout,
           "%s: abigate check on the wheel read in place: its module fits its tags and %s"
           % (title, rid), p.stdout + p.stderr)
    p = v.pip(e, "install", "--no-deps", whl)
    if tap.ok(p.returncode == 0, "%s: pip install of the wheel" % title, p.stdout + p.stderr):
        p = testlib.run([v.python, "-c", code], env=testlib.with_mode(e, "strict"), cwd=work)
        tap.eq(p.stdout.strip(), want, "%s: it imports and works with PYTHONABIGATE=strict" % title)


def tags(base, abi3=None):
    abi = base.soabi.split("-")[1]
    py = "cp" + "".join(c for c in abi if c.isdigit())
    return "%s-abi3" % abi3 if abi3 else "%s-cp%s" % (py, abi)


# 1. examples/package-setuptools
for rid in ("3.11", "3.13t"):
    v, e = venvs[rid]
    title = "package-setuptools on %s" % rid
    project = os.path.join(testlib.workdir("pip-authors"), "spam")
    shutil.copytree(os.path.join(srcdir, "examples", "package-setuptools"), project)
    whl, mod = build_wheel(title, v, e, project, tags(by_id[rid]))
    if mod:
        judge_and_use(title, rid, whl, mod, "import spam; print(spam.scale(6, 7))", "42")

# 2. demo.c without its ABIGATE_RECORD lines, the record from abigate.with_record
with open(os.path.join(srcdir, "examples", "demo.c")) as f:
    demo = f.read()
plain, n = re.subn(r"#if defined\(_Py_OPAQUE_PYOBJECT\) && defined\(DEMO_UNIVERSAL\)\n"
                   r"#include <abigate/universal.h>[^\n]*\n#elif defined\(_Py_OPAQUE_PYOBJECT\)\n"
                   r"ABIGATE_RECORD\([A-Z_]+\);\n#else\nABIGATE_RECORD\([A-Z_]+\);\n#endif\n", "", demo)
tap.ok(n == 1 and "ABIGATE_RECORD" not in plain, "examples/demo.c without its ABIGATE_RECORD lines")
SETUP = """import os
from setuptools import Extension, setup
import abigate
limited = os.environ.get("DEMO_LIMITED")
setup(name="demo", version="1.0", ext_modules=[abigate.with_record(Extension(
    "demo", ["demo.c"], define_macros=[("Py_LIMITED_API", limited)] if limited else [],
    py_limited_api=bool(limited)))])
"""
for rid, limited, abi3 in (("3.11", None, None), ("3.11", "0x03080000", "cp38"), ("3.13t", None, None)):
    v, e = venvs[rid]
    title = "demo.c with abigate.with_record, %s%s" % (rid, " abi3 3.8+" if limited else "")
    project = testlib.workdir("pip-authors")
    for name, text in (("demo.c", plain), ("setup.py", SETUP),
                       ("setup.cfg", "[bdist_wheel]\npy_limited_api = %s\n" % abi3 if abi3 else "")):
        with open(os.path.join(project, name), "w") as f:
            f.write(text)
    be = dict(e, DEMO_LIMITED=limited) if limited else e
    whl, mod = build_wheel(title, v, be, project, tags(by_id[rid], abi3))
    if not mod:
        continue
    # The same headers and flags with ABIGATE_RECORD in the source.
    ref = os.path.join(project, "reference.so")
    p, cmd = testlib.build_demo(tap, by_id[rid], ["-DPy_LIMITED_API=" + limited] if limited else [], ref)
    if tap.ok(p.returncode == 0, "%s: the reference build with ABIGATE_RECORD" % title, p.stderr):
        got, want = record_of(mod), record_of(ref)
        tap.ok(got is not None and got == want,
               "%s: the record equals ABIGATE_RECORD's for the same flags" % title,
               "with_record: %r\nABIGATE_RECORD: %r" % (got, want))
    judge_and_use(title, rid, whl, mod, "import demo; m = demo; print(%s)" % testlib.DEMO_USE, "42")

# 3. examples/package-meson (meson-python is Debian's, for its 3.11)
v, e = venvs["3.11"]
title = "package-meson on 3.11"
project = os.path.join(testlib.workdir("pip-authors"), "eggs")
shutil.copytree(os.path.join(srcdir, "examples", "package-meson"), project)
p = testlib.run([v.python, "-c", "import abigate; print(abigate.get_pkgconfig_dir())"], env=e)
me = dict(e, PKG_CONFIG_PATH=p.stdout.strip())
p = testlib.run(["pkg-config", "--variable=record_source", "abigate"], env=me)
tap.ok(p.returncode == 0 and os.path.isfile(p.stdout.strip()),
       "the package's abigate.pc names record.c (record_source)", p.stdout + p.stderr)
whl, mod = build_wheel(title, v, me, project, tags(by_id["3.11"]))
if mod:
    judge_and_use(title, "3.11", whl, mod, "import eggs; print(eggs.count('abc'))", "3")

shutil.rmtree(home, ignore_errors=True)
tap.done()
