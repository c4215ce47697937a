#!/usr/bin/env python3
"""Switching the import gate on and off, and where it intercepts.

- abigate.pth activates the gate only with PYTHONABIGATE or -X abigate;
  -E and -I ignore the variable, -X always counts and wins; an unknown value
  gives one warning, then strict.  (-E/-I are tested in a venv, whose
  site-packages is processed under -I, unlike the user site.)
- Every path-based extension import is judged: a submodule, a relative
  import, importlib.import_module, importlib.reload, python -m pkg.ext.
- warn loads with an abigate.ABIWarning (a RuntimeWarning).
- abigate.check/inspect/profile from Python; a symbol name that is not
  UTF-8 is refused with the name escaped, never a UnicodeDecodeError.
- The finder's specs: an accepted file keeps CPython's loader (python -v
  still reports it), a refused one gets GateLoader.
- Debian's numpy imports identically with the variable unset, off and strict.
"""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
rows, by_id = testlib.registry(tap, required=("3.11", "3.13", "3.13t"))
srcdir = testlib.env("ABIGATE_SRCDIR", tap)
work = testlib.workdir("gate-switch")
py313 = by_id["3.13"]
e313 = testlib.gate_env(tap, py313, os.path.join(work, "userbase-3.13"))
marker = os.path.join(srcdir, "tests", "gate", "marker.c")

# A wrong file (a 3.13t build) and a right one (abi3 3.8), both named demo.so.
bad_dir, good_dir = testlib.workdir("gate-switch"), testlib.workdir("gate-switch")
for interp, flags, d in ((by_id["3.13t"], [marker], bad_dir),
                         (py313, ["-DPy_LIMITED_API=0x03080000", marker], good_dir)):
    p, cmd = testlib.build_demo(tap, interp, flags, os.path.join(d, "demo.so"))
    if p.returncode:
        tap.bail("cannot build the demo: %s\n%s" % (" ".join(cmd), p.stderr))
BAD = os.path.join(bad_dir, "demo.so")


def refused(doc, name="demo"):
    return doc is not None and not doc["loaded"] and doc["type"] == "ImportError" and \
        doc["name"] == name and doc["reason"] == "ABIGATE_R_FREETHREADED_ON_GIL"


def cryptic(p, doc):
    """CPython's own failure for the 3.13t build: after dlopen, no abigate."""
    return (doc is not None and not doc["loaded"] and "undefined symbol" in doc["message"]
            and "ABIGATE_R_" not in p.stdout + p.stderr)


# ---------------------------------------------------------------- activation
p, doc = testlib.gate_import(py313, "demo", bad_dir, e313)
tap.ok(cryptic(p, doc), "variable unset: the gate does nothing (CPython's own failure)", p.stdout + p.stderr)
p, doc = testlib.gate_import(py313, "demo", bad_dir, testlib.with_mode(e313, "off"))
tap.ok(cryptic(p, doc), "PYTHONABIGATE=off: the gate does nothing", p.stdout + p.stderr)
p, doc = testlib.gate_import(py313, "demo", bad_dir, testlib.with_mode(e313, ""))
tap.ok(cryptic(p, doc), "PYTHONABIGATE='' counts as unset", p.stdout + p.stderr)
for mode in ("strict", "require", "strict,trace", "trace"):
    p, doc = testlib.gate_import(py313, "demo", bad_dir, testlib.with_mode(e313, mode))
    tap.ok(refused(doc) and testlib.GATE_MARKER not in p.stderr,
           "PYTHONABIGATE=%s refuses the 3.13t build before dlopen" % mode, p.stdout + p.stderr)
    tap.eq("abigate: " in p.stderr, "trace" in mode, "PYTHONABIGATE=%s: trace lines %s" % (
        mode, "printed" if "trace" in mode else "absent"))
p, doc = testlib.gate_import(py313, "demo", bad_dir, testlib.with_mode(e313, "stirct"))
warnings = [l for l in p.stderr.splitlines() if "is not a mode" in l]
tap.ok(refused(doc) and len(warnings) == 1 and "abigate: PYTHONABIGATE=stirct is not a mode" in warnings[0]
       and "using strict" in warnings[0],
       "an unknown value: exactly one warning on stderr, then strict", p.stderr)
p, doc = testlib.gate_import(py313, "demo", bad_dir, testlib.with_mode(e313, "off"),
                             extra_args=["-X", "abigate=strict"])
tap.ok(refused(doc), "-X abigate=strict wins over PYTHONABIGATE=off", p.stdout + p.stderr)
p, doc = testlib.gate_import(py313, "demo", bad_dir, testlib.with_mode(e313, "strict"),
                             extra_args=["-X", "abigate=off"])
tap.ok(cryptic(p, doc), "-X abigate=off wins over PYTHONABIGATE=strict", p.stdout + p.stderr)
p, doc = testlib.gate_import(py313, "demo", bad_dir, e313, extra_args=["-X", "abigate"])
tap.ok(refused(doc), "-X abigate alone means strict", p.stdout + p.stderr)

# -E / -I, in a venv (its site-packages is read even under -I).
venv = os.path.join(work, "venv")
p = testlib.run([py313.python, "-m", "venv", "--without-pip", venv])
if p.returncode:
    tap.bail("python3.13 -m venv failed: %s" % p.stderr)
vpy = os.path.join(venv, "bin", "python")
vsite = testlib.run([vpy, "-c", "import sysconfig; print(sysconfig.get_path('platlib'))"]).stdout.strip()
p = testlib.install_gate(tap, py313, vsite)
tap.ok(p.returncode == 0, "the gate installs into a venv's site-packages", p.stderr)
venv_env = testlib.with_mode(dict(os.environ), "strict")
for flags, counts in ((["-E"], False), (["-I"], False), ([], True),
                      (["-E", "-X", "abigate=strict"], True), (["-I", "-X", "abigate=strict"], True)):
    # -I leaves the current directory off sys.path: the script adds bad_dir.
    p = testlib.run([vpy] + flags + ["-c", testlib.GATE_IMPORT.replace(
        "name, use = sys.argv[1], sys.argv[2]",
        "name, use = sys.argv[1], sys.argv[2]; sys.path.insert(0, %r)" % bad_dir), "demo", ""],
        env=venv_env)
    try:
        doc = json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        doc = None
    label = " ".join(flags) or "no flags"
    if counts:
        tap.ok(refused(doc), "venv, PYTHONABIGATE=strict, %s: the gate is on" % label, p.stdout + p.stderr)
    else:
        tap.ok(cryptic(p, doc), "venv, PYTHONABIGATE=strict, %s: the variable is ignored" % label,
               p.stdout + p.stderr)

# ---------------------------------------------------------------- where it intercepts
pkg_root = testlib.workdir("gate-switch")
pkg = os.path.join(pkg_root, "pkg")
os.makedirs(pkg)
with open(os.path.join(pkg, "__init__.py"), "w") as f:
    f.write("")
with open(os.path.join(pkg, "rel.py"), "w") as f:
    f.write("from . import demo\n")
shutil.copy(BAD, os.path.join(pkg, "demo.so"))
strict = testlib.with_mode(e313, "strict")
p, doc = testlib.gate_import(py313, "pkg.demo", pkg_root, strict)
tap.ok(refused(doc, "pkg.demo") and doc["path"] == os.path.join(pkg, "demo.so"),
       "a submodule of a package (importlib.import_module('pkg.demo')) is refused", p.stdout + p.stderr)
p, doc = testlib.gate_import(py313, "pkg.rel", pkg_root, strict)
tap.ok(refused(doc, "pkg.demo"), "a relative import (from . import demo) is refused", p.stdout + p.stderr)
p = testlib.run([py313.python, "-c", "import pkg.demo"], cwd=pkg_root, env=strict)
tap.ok("ImportError: cannot load 'pkg.demo' from %s/demo.so: " % pkg in p.stderr,
       "an import statement is refused", p.stderr)
# python -m: CPython finds pkg.demo and asks its loader for code, which an
# extension has none of; the gate answers with its refusal instead.  And a
# module run with -m that imports the extension is refused there.
with open(os.path.join(pkg, "runner.py"), "w") as f:
    f.write("from pkg import demo\n")
p = testlib.run([py313.python, "-m", "pkg.demo"], cwd=pkg_root, env=e313)
tap.ok(p.returncode != 0 and "No code object available for pkg.demo" in p.stderr,
       "python -m pkg.demo without the gate: CPython's own message", p.stderr)
p = testlib.run([py313.python, "-m", "pkg.demo"], cwd=pkg_root, env=strict)
tap.ok(p.returncode != 0 and "cannot load 'pkg.demo' from %s/demo.so" % pkg in p.stderr
       and "ABIGATE_R_FREETHREADED_ON_GIL" in p.stderr and testlib.GATE_MARKER not in p.stderr,
       "python -m pkg.demo with the gate: the refusal, before dlopen", p.stderr)
p = testlib.run([py313.python, "-m", "pkg.runner"], cwd=pkg_root, env=strict)
tap.ok(p.returncode != 0 and "ImportError: cannot load 'pkg.demo' from %s/demo.so" % pkg in p.stderr
       and testlib.GATE_MARKER not in p.stderr,
       "python -m pkg.runner importing the extension: refused before dlopen", p.stderr)

# importlib.reload: the right file is loaded, then replaced on disk by the wrong one.
reload_root = testlib.workdir("gate-switch")
shutil.copy(os.path.join(good_dir, "demo.so"), os.path.join(reload_root, "demo.so"))
RELOAD = r"""
import importlib, json, os, shutil, sys
import demo
first = demo.add(1, 2)
os.replace(sys.argv[1], demo.__file__)
importlib.invalidate_caches()
try:
    importlib.reload(demo)
except ImportError as e:
    print(json.dumps([first, type(e).__name__, e.name, e.path, getattr(e, "abigate_reason", None)]))
else:
    print(json.dumps([first, "reloaded"]))
"""
shutil.copy(BAD, os.path.join(reload_root, "bad.so"))
p = testlib.run([py313.python, "-c", RELOAD, os.path.join(reload_root, "bad.so")], cwd=reload_root, env=strict)
tap.eq(p.stdout.strip(), json.dumps([3, "ImportError", "demo", os.path.join(reload_root, "demo.so"),
                                     "ABIGATE_R_FREETHREADED_ON_GIL"]),
       "importlib.reload of a module whose file was replaced by a wrong build is refused")

# ---------------------------------------------------------------- warn
WARN = r"""
import json, warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        import demo
        error = None
    except ImportError as e:
        error = str(e)
import abigate
print(json.dumps([[w.category.__name__, issubclass(w.category, RuntimeWarning),
                   w.category is abigate.ABIWarning, str(w.message)] for w in caught] + [error]))
"""
p = testlib.run([py313.python, "-c", WARN], cwd=bad_dir, env=testlib.with_mode(e313, "warn"))
try:
    out = json.loads(p.stdout)
except ValueError:
    out = []
tap.ok(len(out) == 2 and out[0][:3] == ["ABIWarning", True, True]
       and "ABIGATE_R_FREETHREADED_ON_GIL" in out[0][3] and out[1] and "undefined symbol" in out[1],
       "warn: one abigate.ABIWarning (a RuntimeWarning), then CPython loads the file (and fails its way)",
       p.stdout + p.stderr)

# ---------------------------------------------------------------- the Python API
API = r"""
import json, sys, abigate
bad, good = sys.argv[1], sys.argv[2]
vb, vg = abigate.check(bad), abigate.check(good)
vw = abigate.check(bad, "warn")
print(json.dumps({"mode": abigate.mode(), "bad": [vb.kind, vb.reason, vb.evidence, vb.path],
                  "good": [vg.kind, vg.reason], "warn": [vw.kind, vw.warning],
                  "inspect": abigate.inspect(bad)["record"]["free_threaded"],
                  "profile": [abigate.profile()["name"], abigate.profile()["free_threaded"]]}))
"""
p = testlib.run([py313.python, "-c", API, BAD, os.path.join(good_dir, "demo.so")], env=e313)
try:
    out = json.loads(p.stdout)
except ValueError:
    out = None
tap.eq(out, {"mode": "off", "bad": ["refuse", "ABIGATE_R_FREETHREADED_ON_GIL", "record", BAD],
             "good": ["accept", "ABIGATE_R_NONE"], "warn": ["accept", True], "inspect": True,
             "profile": [py313.version, False]},
       "abigate.check/inspect/profile from Python (gate off: nothing is installed by importing it)")
p = testlib.run([py313.python, "-m", "abigate", "check", BAD], env=e313)
tap.ok(p.returncode == 1 and "refuse" in p.stdout and "ABIGATE_R_FREETHREADED_ON_GIL" in p.stdout,
       "python -m abigate check: exit 1 and the refusal", p.stdout + p.stderr)

# ---------------------------------------------------------------- a symbol name that is not UTF-8
# A hostile file may name its imports with any bytes.  The refusal names the
# symbol backslash-escaped, in abigate.check and in the ImportError; it never
# turns into a UnicodeDecodeError.
odd_dir = testlib.workdir("gate-switch")
obj, ODD = os.path.join(odd_dir, "odd.o"), os.path.join(odd_dir, "odd" + py313.ext_suffix)
with open(os.path.join(odd_dir, "odd.c"), "w") as f:
    f.write("extern int _PyOdd(void);\nint PyInit_odd(void) { return _PyOdd(); }\n")
cc = os.environ.get("CC") or "gcc"
for cmd in ([cc, "-c", "-fPIC", os.path.join(odd_dir, "odd.c"), "-o", obj],
            ["objcopy", b"--redefine-sym=_PyOdd=_Py\xff\xfeOdd", obj],
            [cc, "-shared", obj, "-o", ODD]):
    p = testlib.run(cmd)
    if p.returncode:
        tap.bail("cannot build the odd-symbol file: %r\n%s" % (cmd, p.stderr))
ODD_CHECK = r"""
import json, sys, abigate
v = abigate.check(sys.argv[1])
try:
    import odd
    got = "loaded"
except ImportError as e:
    got = "ImportError: %s" % e
except Exception as e:
    got = "%s: %s" % (type(e).__name__, e)
print(json.dumps([v.kind, v.reason, "_Py\\xff\\xfeOdd" in v.message, got]))
"""
p = testlib.run([py313.python, "-c", ODD_CHECK, ODD], cwd=odd_dir,
                env=testlib.with_mode(e313, "strict"))
try:
    out = json.loads(p.stdout)
except ValueError:
    out = None
tap.ok(out is not None and out[:3] == ["refuse", "ABIGATE_R_MISSING_SYMBOLS", True]
       and out[3].startswith("ImportError: cannot load 'odd'") and "_Py\\xff\\xfeOdd" in out[3],
       "an import named with bytes that are not UTF-8: refused, the name backslash-escaped",
       p.stdout + p.stderr)

# ---------------------------------------------------------------- the specs the finder makes
# A plainly accepted file keeps CPython's own loader (so python -v still
# says it loaded it); a refused one gets the gate's.  Both carry the
# Verdict; without trace an ACCEPT's message is left empty (POLICY_QUIET),
# while abigate.check always words it.
SPEC = r"""
import importlib.util, json, abigate
spec = importlib.util.find_spec("demo")
v = spec.loader_state
print(json.dumps([type(spec.loader).__name__, type(v).__name__, v.kind, v.message != "",
                  abigate.check(spec.origin).message != ""]))
"""
for d, mode, want in ((good_dir, "strict", ["ExtensionFileLoader", "Verdict", "accept", False, True]),
                      (good_dir, "strict,trace", ["ExtensionFileLoader", "Verdict", "accept", True, True]),
                      (bad_dir, "strict", ["GateLoader", "Verdict", "refuse", True, True])):
    p = testlib.run([py313.python, "-c", SPEC], cwd=d, env=testlib.with_mode(e313, mode))
    try:
        out = json.loads(p.stdout.splitlines()[-1])
    except (ValueError, IndexError):
        out = None
    tap.eq(out, want, "%s demo.so, %s: the finder's spec has %s and verdict %s, its message %s"
           % ("the right" if d == good_dir else "the wrong", mode, want[0], want[2],
              "worded" if want[3] else "empty"))
p = testlib.run([py313.python, "-v", "-c", "import demo"], cwd=good_dir,
                env=testlib.with_mode(e313, "strict"))
tap.ok(p.returncode == 0 and "extension module 'demo' loaded from" in p.stderr,
       "strict, python -v: CPython's loader reports the accepted extension as without the gate",
       p.stderr[-2000:])

# ---------------------------------------------------------------- numpy, unset / off / strict
py311 = by_id["3.11"]
e311 = testlib.gate_env(tap, py311, os.path.join(work, "userbase-3.11"))
root, found = testlib.legacy_extensions(tap)
numpy_dirs = sorted({f.split("/numpy/")[0] for f in found["python3-numpy"]
                     if os.path.isfile(f.split("/numpy/")[0] + "/numpy/__init__.py")})
NUMPY = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import numpy, numpy.linalg, numpy.fft, numpy.random
a = numpy.arange(12.0).reshape(3, 4)
result = [float(a.sum()), float(numpy.linalg.norm(a)), float(abs(numpy.fft.fft(a[0])).sum()),
          int(numpy.random.default_rng(7).integers(1000))]
exts = sorted((n, m.__file__) for n, m in list(sys.modules.items())
              if (getattr(m, "__file__", None) or "").endswith(".so")
              and not n.startswith(("abigate", "_abigate")))
print(json.dumps({"result": result, "extensions": exts}))
"""
site = numpy_dirs[0] if numpy_dirs else ""
docs = {}
for mode in (None, "off", "strict,trace"):
    p = testlib.run([py311.python, "-c", NUMPY, site], env=testlib.with_mode(e311, mode))
    try:
        docs[mode] = json.loads(p.stdout)
    except ValueError:
        docs[mode] = None
        tap.diag(p.stderr)
    if mode == "strict,trace" and docs[mode]:
        judged = [l for l in p.stderr.splitlines() if l.startswith("abigate: accept ")]
        numpy_exts = [x for x in docs[mode]["extensions"] if "/numpy/" in x[1]]
        tap.ok(len(numpy_exts) >= 10 and all(any(" %r %s:" % (n, f) in l for l in judged)
                                              for n, f in numpy_exts),
               "numpy under strict: every one of its %d extensions was judged and accepted"
               % len(numpy_exts), p.stderr)
tap.ok(docs[None] is not None and docs[None] == docs["off"] == docs["strict,trace"],
       "Debian's numpy imports identically (same extensions, same results) unset, off and strict",
       json.dumps(docs, indent=1)[:3000])

tap.done()
