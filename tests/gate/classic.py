#!/usr/bin/env python3
"""The classic failures, without and with the import gate.

Each mistake is made for real: an extension is built against real headers
(or taken from a Debian package) and imported into a real interpreter, once
with the gate installed but off, where it crashes or fails cryptically after
dlopen, and once with PYTHONABIGATE=strict, where it must be refused with an
ImportError (not ModuleNotFoundError) whose name, path, reason and message
are asserted, before the file is dlopen()ed (tests/gate/marker.c prints a
line when it is).
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
rows, by_id = testlib.registry(tap, required=("3.11", "3.13", "3.13t", "3.13d", "sid-3.15"))
srcdir = testlib.env("ABIGATE_SRCDIR", tap)
marker = os.path.join(srcdir, "tests", "gate", "marker.c")
needs311 = os.path.join(srcdir, "tests", "gate", "needs311.c")
work = testlib.workdir("gate-classic")

# (title, headers of, extra cflags, file name, runtime, reason, message parts)
CASES = [
    ("abi3 (GIL) module on free-threaded 3.13t", "3.11", ["-DPy_LIMITED_API=0x03080000"],
     "demo.abi3.so", "3.13t", "ABIGATE_R_GIL_ON_FREETHREADED",
     ["GIL stable ABI (abi3, 3.8+)", "3.13.15 free-threaded", "needs a free-threaded or abi3t build"]),
    ("3.11 build renamed to a bare demo.so on 3.13", "3.11", [needs311], "demo.so", "3.13",
     "ABIGATE_R_VERSION", ["built for 3.11", "3.13.15", "needs a 3.13 build"]),
    ("abi3 built against the 3.15 headers (not abi3t) on 3.13", "sid-3.15",
     ["-DPy_LIMITED_API=0x030f0000"], "demo.abi3.so", "3.13", "ABIGATE_R_STABLE_TOO_NEW",
     ["stable ABI (abi3, 3.15+)", "3.13.15"]),
    ("Py_DEBUG build on the release 3.13", "3.13d", [], "demo.cpython-313-x86_64-linux-gnu.so",
     "3.13", "ABIGATE_R_DEBUG_SYMBOLS", ["debug", "_Py"]),
    ("3.13t build on the GIL 3.13", "3.13t", [], "demo.so", "3.13",
     "ABIGATE_R_FREETHREADED_ON_GIL", ["free-threaded", "3.13.15 with the GIL"]),
]

# --pip (tests/pip/classic.py): the same cases through the gate pip-installed
# into fresh venvs (pyproject.toml) instead of this build tree's gate.
PIP = "--pip" in sys.argv[1:]
envs = {}
pip_src = []  # the source copy pip installs from, made once (--pip)


def gate_for(rid):
    """(the interpreter to run, its environment): the gate installed for
    registry entry `rid` and off -- this build tree's, in a fresh user site,
    or with --pip, pip-installed into a fresh venv of it."""
    if rid not in envs:
        if PIP:
            if not pip_src:
                pip_src.append(testlib.pip_source(tap, os.path.join(work, "abigate")))
            v, e, p, _ = testlib.pip_install_gate(tap, by_id[rid], os.path.join(work, "venv-" + rid),
                                                  pip_src[0])
            if p.returncode:
                tap.bail("pip install of the gate into a %s venv failed: %s" % (rid, p.stdout + p.stderr))
            envs[rid] = (v, e)
        else:
            envs[rid] = (by_id[rid], testlib.gate_env(tap, by_id[rid], os.path.join(work, "userbase-" + rid)))
    return envs[rid]


def judge(title, runtime, d, filename, reason, parts, built):
    interp, e = gate_for(runtime)
    path = os.path.join(d, filename)
    module = filename.split(".")[0]
    # Without the gate (installed, variable unset): a crash or a cryptic
    # failure after dlopen, when importing or when using the module.
    p, doc = testlib.gate_import(interp, module, d, e, use=testlib.DEMO_USE if built else "")
    failed = p.returncode != 0 or (doc and not doc["loaded"])
    tap.ok(failed and "ABIGATE_R_" not in p.stdout + p.stderr,
           "%s: without the gate it fails after loading (%s)" % (
               title, testlib.outcome(p) if p.returncode else doc and doc.get("message")),
           p.stdout + p.stderr)
    tap.ok(testlib.GATE_MARKER in p.stderr or "undefined symbol" in p.stdout + p.stderr,
           "%s: without the gate CPython dlopen()s it (its constructors run, or the dynamic "
           "loader fails on a symbol)" % title, p.stdout + p.stderr)
    # With the gate: refused before dlopen, with name, path, reason and message.
    p, doc = testlib.gate_import(interp, module, d, testlib.with_mode(e, "strict"))
    if not tap.ok(p.returncode == 0 and doc is not None and not doc["loaded"],
                  "%s: PYTHONABIGATE=strict refuses it" % title, p.stdout + p.stderr):
        return
    tap.eq(doc["type"], "ImportError", "%s: the exception is ImportError" % title)
    tap.eq(doc["name"], module, "%s: ImportError.name" % title)
    tap.eq(doc["path"], path, "%s: ImportError.path" % title)
    tap.eq(doc["reason"], reason, "%s: the rule" % title)
    msg = doc["message"]
    tap.ok(msg.startswith("cannot load %r from %s: " % (module, path)) and msg.endswith("[%s]" % reason),
           "%s: the message names the module, the file and the rule" % title, msg)
    missing = [x for x in parts if x not in msg]
    tap.ok(not missing, "%s: the message says %s" % (title, "; ".join(parts)),
           "missing %r in: %s" % (missing, msg))
    tap.ok(testlib.GATE_MARKER not in p.stderr, "%s: refused before dlopen (no constructor ran)" % title,
           p.stderr)


for title, headers, cflags, filename, runtime, reason, parts in CASES:
    d = testlib.workdir("gate-classic")
    p, cmd = testlib.build_demo(tap, by_id[headers], cflags + [marker], os.path.join(d, filename))
    if not tap.ok(p.returncode == 0, "%s: build" % title, " ".join(cmd) + "\n" + p.stderr):
        continue
    judge(title, runtime, d, filename, reason, parts, True)

# 6. A legacy file (no record): Debian's _yaml for 3.11 needs _PyUnicode_Ready,
# which 3.12 removed; renamed to a bare _yaml.so so that 3.13 picks it up.
root, found = testlib.legacy_extensions(tap)
yaml = [f for f in found["python3-yaml"] if os.path.basename(f).startswith("_yaml.")]
if tap.ok(len(yaml) == 1, "Debian's _yaml extension is unpacked"):
    d = testlib.workdir("gate-classic")
    shutil.copy(yaml[0], os.path.join(d, "_yaml.so"))
    judge("legacy _yaml (no record) needing _PyUnicode_Ready on 3.13", "3.13", d, "_yaml.so",
          "ABIGATE_R_MISSING_SYMBOLS", ["_PyUnicode_Ready", "does not export"], False)

# 7. A file named as a 3.11 extension that exports no init hook at all (a
# build that lost its module, a library renamed): CPython says so only after
# dlopen() ran its constructors; the gate says it before.
d = testlib.workdir("gate-classic")
p = testlib.run([os.environ.get("CC") or "gcc", "-shared", "-fPIC", marker, "-o",
                 os.path.join(d, "m.cpython-311-x86_64-linux-gnu.so")])
if tap.ok(p.returncode == 0, "no init hook: build", p.stderr):
    judge("a cpython-311 file with no init hook, on 3.11", "3.11", d, "m.cpython-311-x86_64-linux-gnu.so",
          "ABIGATE_R_NO_INIT_HOOK", ["no init hook", "does not define module export function (PyInit_m)"],
          False)

tap.done()
