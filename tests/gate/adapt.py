#!/usr/bin/env python3
"""What the import gate adapts: sibling selection, the abi3t backport, and
the Py_mod_gil report on free-threaded 3.13t.  Real builds, real interpreters.
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
rows, by_id = testlib.registry(tap, required=("3.11", "3.13", "3.13t", "sid-3.14", "sid-3.15"))
srcdir = testlib.env("ABIGATE_SRCDIR", tap)
work = testlib.workdir("gate-adapt")
envs = {}


def gate_for(rid):
    if rid not in envs:
        envs[rid] = testlib.gate_env(tap, by_id[rid], os.path.join(work, "userbase-" + rid))
    return envs[rid]


def build(title, headers, cflags, out, source="examples/demo.c"):
    p, cmd = testlib.build_demo(tap, by_id[headers], cflags, out, source)
    return tap.ok(p.returncode == 0, "build %s" % title, " ".join(cmd) + "\n" + p.stderr)


def trace_lines(p, name):
    return [l for l in p.stderr.splitlines() if l.startswith("abigate: ") and " %r " % name in l]


# ---------------------------------------------------------------- sibling selection
# 3.13: a stale file named for 3.13 that is really a 3.13t build comes first
# in the suffix order; the real abi3 build must be chosen.
d = testlib.workdir("gate-adapt")
build("a 3.13t build mislabelled demo.cpython-313-x86_64-linux-gnu.so", "3.13t", [],
      os.path.join(d, "demo.cpython-313-x86_64-linux-gnu.so"))
build("an abi3 3.8 build demo.abi3.so", "3.13", ["-DPy_LIMITED_API=0x03080000"],
      os.path.join(d, "demo.abi3.so"))
build("a 3.11 build demo.so", "3.11", [], os.path.join(d, "demo.so"))
e = gate_for("3.13")
p, doc = testlib.gate_import(by_id["3.13"], "demo", d, e, use=testlib.DEMO_USE)
tap.ok(p.returncode != 0 or (doc and not doc["loaded"]),
       "siblings on 3.13 without the gate: CPython takes the mislabelled file and fails (%s)"
       % testlib.outcome(p) if p.returncode else doc and doc.get("message"))
p, doc = testlib.gate_import(by_id["3.13"], "demo", d, testlib.with_mode(e, "strict,trace"),
                             use=testlib.DEMO_USE)
ok = doc is not None and doc["loaded"]
tap.ok(ok and doc["file"] == os.path.join(d, "demo.abi3.so") and doc["use"] == "42",
       "siblings on 3.13 with the gate: demo.abi3.so is chosen, loaded and works", p.stdout + p.stderr)
lines = trace_lines(p, "demo")
tap.ok(len(lines) == 2 and lines[0].startswith("abigate: skip 'demo' %s/demo.cpython-313-x86_64-linux-gnu.so:" % d)
       and lines[0].endswith("[ABIGATE_R_FREETHREADED_ON_GIL]")
       and lines[1].startswith("abigate: accept 'demo' %s/demo.abi3.so:" % d)
       and "sibling chosen over demo.cpython-313-x86_64-linux-gnu.so" in lines[1],
       "siblings on 3.13: trace says which file was skipped and why, and which was chosen",
       p.stderr)

# 3.13t: the file named for 3.13t is a 3.11 build, demo.abi3.so is GIL-only;
# the bare demo.so is the real 3.13t build.
d = testlib.workdir("gate-adapt")
build("a 3.11 build mislabelled demo.cpython-313t-x86_64-linux-gnu.so", "3.11", [],
      os.path.join(d, "demo.cpython-313t-x86_64-linux-gnu.so"))
build("a GIL abi3 build demo.abi3.so", "3.11", ["-DPy_LIMITED_API=0x03080000"],
      os.path.join(d, "demo.abi3.so"))
build("a 3.13t build demo.so", "3.13t", [], os.path.join(d, "demo.so"))
e = gate_for("3.13t")
p, doc = testlib.gate_import(by_id["3.13t"], "demo", d, testlib.with_mode(e, "strict,trace"),
                             use=testlib.DEMO_USE)
tap.ok(doc is not None and doc["loaded"] and doc["file"] == os.path.join(d, "demo.so")
       and doc["use"] == "42",
       "siblings on 3.13t: two wrong candidates skipped, demo.so loaded and works", p.stdout + p.stderr)
lines = trace_lines(p, "demo")
tap.ok([l.split(" ")[1] for l in lines if not l.startswith("abigate: gil ")] == ["skip", "skip", "accept"]
       and "[ABIGATE_R_VERSION]" in lines[0] and "[ABIGATE_R_GIL_ON_FREETHREADED]" in lines[1],
       "siblings on 3.13t: trace lists both skips with their rules", p.stderr)

# All candidates refused: the first one's refusal is raised, the others listed.
os.remove(os.path.join(d, "demo.so"))
p, doc = testlib.gate_import(by_id["3.13t"], "demo", d, testlib.with_mode(e, "strict"))
tap.ok(doc is not None and not doc["loaded"] and doc["reason"] == "ABIGATE_R_VERSION"
       and doc["path"] == os.path.join(d, "demo.cpython-313t-x86_64-linux-gnu.so")
       and "also refused: demo.abi3.so [ABIGATE_R_GIL_ON_FREETHREADED]" in doc["message"],
       "no acceptable sibling: ImportError for the first candidate, naming the others",
       p.stdout + p.stderr)

# ---------------------------------------------------------------- the abi3t backport
d = testlib.workdir("gate-adapt")
build("slotsonly.abi3t.so (PEP 793, abi3t, 3.15 headers)", "sid-3.15",
      ["-DPy_TARGET_ABI3T=0x030f0000"], os.path.join(d, "slotsonly.abi3t.so"), "examples/slotsonly.c")
USE = "(m.add(2, 3), m.calls(), m.Box([7]).get(), m.__doc__.split()[:3], " \
      "getattr(sys, '_is_gil_enabled', lambda: None)())"
backport = ["3.13", "3.13t", "sid-3.14"] + [r.id for r in rows if r.id.startswith("pyenv-3.12")]
for rid in backport + ["sid-3.15"]:
    interp = by_id[rid]
    e = gate_for(rid)
    native = rid == "sid-3.15"
    gil = None if rid.startswith("pyenv-3.12") else rid != "3.13t"
    if not native:
        p, doc = testlib.gate_import(interp, "slotsonly", d, e)
        tap.ok(doc is not None and doc["type"] == "ModuleNotFoundError",
               "backport %s: without the gate CPython does not load it" % rid, p.stdout + p.stderr)
    p, doc = testlib.gate_import(interp, "slotsonly", d, testlib.with_mode(e, "strict,trace"), use=USE)
    want = repr((5, 1, [7], ["A", "PEP", "793"], gil))
    tap.ok(doc is not None and doc["loaded"] and doc["use"] == want,
           "backport %s: slotsonly.abi3t.so %s and works (state, type, doc%s)"
           % (rid, "loads natively" if native else "loads through the gate",
              ", the GIL stays off: Py_mod_gil honoured" if rid == "3.13t" else ""),
           "want %s\n%s%s" % (want, p.stdout, p.stderr))
    lines = trace_lines(p, "slotsonly")
    tap.ok(len(lines) == 1 and lines[0].startswith("abigate: %s 'slotsonly'" % ("accept" if native else "adapt"))
           and (native or "loaded through the abi3t backport" in lines[0]),
           "backport %s: trace says %s" % (rid, "accept" if native else "adapt (abi3t backport)"),
           p.stderr)

# The same module calling Py_TYPE() (a function only from 3.14): refused on
# 3.13 with the symbol named, never loaded; loaded on 3.14.
d14 = testlib.workdir("gate-adapt")
build("slotsonly.abi3t.so calling Py_TYPE()", "sid-3.15",
      ["-DPy_TARGET_ABI3T=0x030f0000", "-DSLOTSONLY_NEEDS_3_14",
       os.path.join(srcdir, "tests", "gate", "marker.c")],
      os.path.join(d14, "slotsonly.abi3t.so"), "examples/slotsonly.c")
for rid in ("3.13", "3.13t"):
    p, doc = testlib.gate_import(by_id[rid], "slotsonly", d14, testlib.with_mode(gate_for(rid), "strict"))
    tap.ok(doc is not None and doc["type"] == "ImportError" and doc["reason"] == "ABIGATE_R_MISSING_SYMBOLS"
           and "needs Py_TYPE" in doc["message"] and testlib.GATE_MARKER not in p.stderr,
           "backport %s: a module needing Py_TYPE is refused, the symbol named, never dlopen()ed" % rid,
           p.stdout + p.stderr)
p, doc = testlib.gate_import(by_id["sid-3.14"], "slotsonly", d14, testlib.with_mode(gate_for("sid-3.14"), "strict"),
                             use="m.Box(1).get()")
tap.ok(doc is not None and doc["loaded"] and doc["use"] == "1",
       "backport sid-3.14: the module needing Py_TYPE loads there (3.14 exports it)", p.stdout + p.stderr)

# A plain abi3 module built for 3.15 (opaque PyObject off) stays refused below 3.15.
d = testlib.workdir("gate-adapt")
build("a plain abi3 3.15 demo.abi3.so", "sid-3.15", ["-DPy_LIMITED_API=0x030f0000"],
      os.path.join(d, "demo.abi3.so"))
p, doc = testlib.gate_import(by_id["sid-3.14"], "demo", d, testlib.with_mode(gate_for("sid-3.14"), "strict"))
tap.ok(doc is not None and not doc["loaded"] and doc["reason"] == "ABIGATE_R_STABLE_TOO_NEW",
       "a plain abi3 3.15 module stays refused on 3.14", p.stdout + p.stderr)

# ---------------------------------------------------------------- Py_mod_gil on 3.13t
for label, flags, want in (("without Py_mod_gil", ["-DTINY_NO_GIL_SLOT"], True),
                           ("declaring Py_MOD_GIL_NOT_USED", [], False)):
    d = testlib.workdir("gate-adapt")
    t = by_id["3.13t"]
    build("tiny.so for 3.13t %s" % label, "3.13t", flags, os.path.join(d, "tiny.so"), "tests/gate/tiny.c")
    p, doc = testlib.gate_import(t, "tiny", d, testlib.with_mode(gate_for("3.13t"), "strict,trace"),
                                 use="sys._is_gil_enabled()")
    gil = [l for l in trace_lines(p, "tiny") if l.startswith("abigate: gil ")]
    tap.ok(doc is not None and doc["loaded"] and doc["use"] == repr(want) and bool(gil) == want
           and (not want or "re-enabled the GIL" in gil[0]),
           "3.13t, a module %s: GIL %s, %s in trace" % (label, "re-enabled" if want else "stays off",
                                                        "reported" if want else "nothing"),
           p.stdout + p.stderr)

tap.done()
