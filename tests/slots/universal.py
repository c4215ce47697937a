#!/usr/bin/env python3
"""One binary for every interpreter: <abigate/universal.h>.

examples/slotsonly.c built once, -DSLOTSONLY_UNIVERSAL, as abi3t against
sid's 3.15 headers, named slotsonly.so, is imported with no gate at all on
3.13, 3.13t, 3.13d, sid's 3.14 and 3.15: it works (module state, a heap
type, reload), and on 3.13t the GIL stays disabled.  Its record is 1.1 with
the universal flag; `abigate check` accepts it on each of those (3.13 and
3.14 through the universal rule) and refuses the variant that calls
Py_TYPE (a function from 3.14) on 3.13 and 3.13t, naming it; the import
gate (PYTHONABIGATE=strict) loads it on 3.13 and 3.13t.  The edges
(tests/slots/universal_edge.c): an unknown non-optional slot is an
ImportError, an optional one is skipped, a GIL-only Py_mod_abi is refused
on 3.13t, an export hook that fails once loads on the retry.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

REQUIRED = ("3.13", "3.13t", "3.13d", "sid-3.14", "sid-3.15", "sid-3.15d")
tap = testlib.Tap()
rows, by_id = testlib.registry(tap, required=REQUIRED)
# and where present: sid's 3.14d, pyenv's 3.12 (served), below 3.12 (refused by abigate check)
RUNTIMES = list(REQUIRED[:4]) + [i for i in ("sid-3.14d",) if i in by_id] + list(REQUIRED[4:]) + \
    [r.id for r in rows if r.id.startswith("pyenv-3.12.")]
OLDER = [r.id for r in rows if r.id.startswith("pyenv-3.10.")] + ["3.11"]
srcdir = testlib.env("ABIGATE_SRCDIR", tap)
cli = testlib.env("ABIGATE_CLI", tap)
h315 = by_id["sid-3.15"]
ABI3T = ["-DPy_TARGET_ABI3T=0x030f0000"]


def build(source, flags, name):
    d = testlib.workdir("slots-universal")
    out = os.path.join(d, name)
    p, cmd = testlib.build_demo(tap, h315, ABI3T + flags, out, source=source)
    tap.ok(p.returncode == 0, "build %s %s" % (name, " ".join(flags)), " ".join(cmd) + "\n" + p.stderr)
    return d, out


d, so = build("examples/slotsonly.c", ["-DSLOTSONLY_UNIVERSAL"], "slotsonly.so")
d314, so314 = build("examples/slotsonly.c", ["-DSLOTSONLY_UNIVERSAL", "-DSLOTSONLY_NEEDS_3_14"], "slotsonly.so")
status, doc = testlib.cli_json(tap, "inspect", [so])
rec = doc["files"][0]["record"] if doc else None
tap.ok(rec and rec["version"] == "1.1" and rec["universal"] and rec["abi"] == "stable"
       and rec["threading"] == "agnostic" and sorted(rec["hooks"]) == ["PyInit", "PyModExport"],
       "the record: 1.1, universal, abi3t, both hooks", json.dumps(rec))

USE = r"""
import gc, importlib, sys, slotsonly as m
gil = getattr(sys, "_is_gil_enabled", lambda: True)()
b = m.Box([7])
item = object()
before = sys.getrefcount(item)
for _ in range(10000):          # churn references through the heap type
    assert m.Box(item).get() is item
gc.collect()
churn = sys.getrefcount(item) - before
print(m.add(2, 3), m.calls(), b.get(), importlib.reload(m).add(1, 1), gil, churn)
"""
e = {k: v for k, v in os.environ.items() if k != "PYTHONABIGATE"}
for rid in RUNTIMES:
    py = by_id[rid]
    p = testlib.run([py.python, "-W", "error::RuntimeWarning", "-c", USE], cwd=d, env=e)
    want_gil = "False" if "ft" in py.flags else "True"
    tap.eq(p.stdout.strip(), "5 1 [7] 2 %s 0" % want_gil,
           "%s: the one slotsonly.so imports and works with no gate, reference counts balanced%s" % (
               rid, " (the GIL stays disabled)" if want_gil == "False" else ""))
    p = testlib.run([cli, "check", "--python", py.python, so])
    tap.ok(p.returncode == 0 and ": accept: " in p.stdout and
           ("a universal module" in p.stdout) == (py.hexversion < 0x030f0000),
           "%s: abigate check accepts it%s" % (rid, " (the universal rule)" if py.hexversion < 0x030f0000 else ""),
           p.stdout + p.stderr)
    p = testlib.run([cli, "check", "--python", py.python, so314])
    new = py.hexversion >= 0x030e0000
    tap.ok(p.returncode == (0 if new else 1) and (new or ("Py_TYPE" in p.stdout and
                                                          "ABIGATE_R_MISSING_SYMBOLS" in p.stdout)),
           "%s: the variant calling Py_TYPE is %s" % (rid, "accepted" if new else "refused, naming Py_TYPE"),
           p.stdout + p.stderr)

# below 3.12: abigate check refuses it, naming what the interpreter lacks
for rid in OLDER:
    p = testlib.run([cli, "check", "--python", by_id[rid].python, so])
    tap.ok(p.returncode == 1 and "ABIGATE_R_MISSING_SYMBOLS" in p.stdout and "PyObject_GetTypeData" in p.stdout,
           "%s: abigate check refuses it, naming PyObject_GetTypeData" % rid, p.stdout + p.stderr)

# in a subinterpreter (its own GIL where the version has one), and from 8 threads on 3.13t
SUB = r"""
import sys
try:
    import _interpreters as I
except ImportError:
    import _xxsubinterpreters as I
i = I.create()
r = I.run_string(i, "import slotsonly as m; assert m.add(20, 22) == 42; assert m.Box([1]).get() == [1]")
I.destroy(i)
print("sub ok" if r is None else r)
"""
for rid in [r for r in RUNTIMES if r != "sid-3.15" and not r.endswith("d")]:
    p = testlib.run([by_id[rid].python, "-c", SUB], cwd=d, env=e)
    tap.eq(p.stdout.strip(), "sub ok", "%s: imported again in a subinterpreter" % rid)
THREADS = r"""
import sys, threading, slotsonly as m
def work():
    for i in range(2000):
        assert m.add(i, 1) == i + 1 and m.Box([i]).get() == [i]
ts = [threading.Thread(target=work) for _ in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
print(m.calls(), sys._is_gil_enabled())
"""
p = testlib.run([by_id["3.13t"].python, "-c", THREADS], cwd=d, env=e)
tap.eq(p.stdout.strip(), "16000 False", "3.13t: 8 threads call into it, free-threaded (module state counted)")

# a name some target will not load: abigate check says so
for name, says in (("slotsonly.abi3t.so", "does not look for files named slotsonly.abi3t.so"),
                   ("slotsonly.abi3.so", "3.15t does not look for files named slotsonly.abi3.so")):
    dn = testlib.workdir("slots-universal")
    renamed = os.path.join(dn, name)
    with open(so, "rb") as src, open(renamed, "wb") as dst:
        dst.write(src.read())
    p = testlib.run([cli, "check", "--python", by_id["3.13"].python, renamed])
    tap.ok(p.returncode == 0 and says in p.stdout and "name it slotsonly.so" in p.stdout,
           "abigate check on 3.13 says %s will not load everywhere" % name, p.stdout)

# through the import gate (installed and switched on): the universal rule accepts it
for rid in ("3.13", "3.13t"):
    ge = testlib.gate_env(tap, by_id[rid], os.path.join(testlib.workdir("slots-universal"), "ub"), "strict")
    p, res = testlib.gate_import(by_id[rid], "slotsonly", d, ge, use="m.add(40, 2)")
    tap.ok(res and res["loaded"] and res["use"] == "42", "%s: PYTHONABIGATE=strict loads it" % rid,
           p.stdout + p.stderr)
    p, res = testlib.gate_import(by_id[rid], "slotsonly", d314, ge)
    tap.ok(res and not res["loaded"] and res["reason"] == "ABIGATE_R_MISSING_SYMBOLS",
           "%s: the gate refuses the Py_TYPE variant before loading it" % rid, p.stdout + p.stderr)

# compile-only: C99, C11 and C++ pedantic; a clear #error when misused
I15 = h315.system_includes()
SRC = ('#include <Python.h>\n#include <abigate/universal.h>\n'
       'static PySlot s[] = {PySlot_PTR(Py_mod_name, "u"), PySlot_END};\n'
       'PyMODEXPORT_FUNC PyModExport_u(void);\nPyMODEXPORT_FUNC PyModExport_u(void) { return s; }\n'
       'ABIGATE_UNIVERSAL(u)\n')
cd = testlib.workdir("slots-universal")
for ext, comp in ((".c", ["gcc", "-std=c99"]), (".c", ["gcc", "-std=c11"]), (".cpp", ["g++", "-std=c++17"])):
    f = os.path.join(cd, "u" + ext)
    with open(f, "w") as out:
        out.write(SRC)
    p = testlib.run(comp + ["-pedantic", "-Wall", "-Wextra", "-Werror", "-fsyntax-only"] + ABI3T + I15 +
                    ["-I" + os.path.join(srcdir, "slots"), f])
    tap.ok(p.returncode == 0, "%s -pedantic -Wall -Wextra -Werror: compiles cleanly" % " ".join(comp), p.stderr)
for title, src, flags, incs, says in (
        ("before <Python.h>", "#include <abigate/universal.h>\n", ABI3T, I15, "include <Python.h> before"),
        ("without Py_TARGET_ABI3T", SRC, [], I15, "-DPy_TARGET_ABI3T=0x030f0000"),
        ("with the 3.13 headers", SRC, ABI3T, by_id["3.13"].system_includes(), "against the 3.15 headers")):
    f = os.path.join(cd, "bad.c")
    with open(f, "w") as out:
        out.write(src)
    p = testlib.run(["gcc", "-fsyntax-only"] + flags + incs + ["-I" + os.path.join(srcdir, "slots"), f])
    tap.ok(p.returncode != 0 and "#error" in p.stderr and says in p.stderr,
           "used %s: a clear #error" % title, p.stderr[-600:])

# the edges
EDGE = "tests/slots/universal_edge.c"
PROBE = r"""
for attempt in (1, 2):
    try:
        import edge
        print("loaded", edge.ping())
        break
    except Exception as e:
        print(type(e).__name__, e)
"""
PROBE = PROBE.replace('print("loaded", edge.ping())',
                      'print("loaded", edge.ping(), getattr(edge, "created_by_create", ""))')
for flag, rid, want in (("UNKNOWN_SLOT", "3.13", "ImportError edge: cannot run on 3.13: slot ID 250"),
                        ("KINDS", "3.13", "loaded pong 1"),
                        ("KINDS", "3.13t", "loaded pong 1"),
                        ("DEEP", "3.13", "ImportError edge: cannot run on 3.13: slot arrays nested deeper than 8"),
                        ("MANY", "sid-3.14", "ImportError edge: cannot run on 3.14: more than 64 module slots"),
                        ("VERSION_ABI", "3.13", "ImportError edge: cannot run on 3.13: its Py_mod_abi slot is "
                                                "version-specific, for 3.15"),
                        ("FLOOR_ABI", "sid-3.14", "ImportError edge: cannot run on 3.14: its Py_mod_abi slot "
                                                  "needs the stable ABI of 3.16"),
                        ("OPTIONAL_SLOT", "3.13t", "loaded pong "),
                        ("GIL_ONLY", "3.13t", "ImportError edge: cannot run on 3.13t: its Py_mod_abi slot "
                                              "says it runs only with the GIL"),
                        ("GIL_ONLY", "sid-3.14", "loaded pong "),
                        ("FAIL_ONCE", "3.13", "RuntimeError edge: the first call fails\nloaded pong ")):
    dd, _ = build(EDGE, ["-DEDGE_" + flag], "edge.so")
    p = testlib.run([by_id[rid].python, "-c", PROBE], cwd=dd, env=e)
    tap.ok(p.stdout.startswith(want) and p.returncode == 0,
           "edge %s on %s: %s" % (flag, rid, want.replace("\n", ", then ")), p.stdout + p.stderr)
tap.done()
