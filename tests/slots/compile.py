"""Compile-only tests of <abigate/slot.h> against every header set of the
registry: C99, C11 and C++ with -Wall -Wextra -Werror -pedantic, with and
without Py_LIMITED_API (and abi3t on 3.15+ headers); the object's record is
then read back with `abigate inspect` and compared with the configuration
the compiler was given."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
rows, by_id = testlib.registry(tap, required=("3.11", "sid-3.15"))
srcdir = testlib.env("ABIGATE_SRCDIR", tap)
cc = os.environ.get("CC") or "gcc"
cxx = os.environ.get("CXX_FOR_TESTS") or "g++"
src = os.path.join(srcdir, "tests", "slots", "slot_use.c")
slots_inc = os.path.join(srcdir, "slots")
work = testlib.workdir("slots")
STRICT = ["-Wall", "-Wextra", "-Werror", "-pedantic"]


LIMITED_ON_FT = "The limited API is not currently supported in the free-threaded build"


def configurations(interp):
    floor = 0x03000000 | interp.minor << 16
    yield "version-specific", [], dict(abi="version-specific", limited=None,
                                       threading="free-threaded" if interp.free_threaded
                                       else "gil")
    if interp.free_threaded and interp.minor < 15:
        return  # 3.13t/3.14t headers refuse the limited API: checked below
    if not interp.debug or interp.minor >= 10:
        yield "limited %#x" % floor, ["-DPy_LIMITED_API=%#010x" % floor], \
            dict(abi="stable", floor="3.%d" % interp.minor, limited=floor)
        yield "limited 3", ["-DPy_LIMITED_API=3"], dict(abi="stable", floor="3.2", limited=3)
    if interp.hexversion >= 0x030f0000:
        yield "abi3t", ["-DPy_TARGET_ABI3T=0x030f0000"], \
            dict(abi="stable", floor="3.15", limited=0x030f0000, threading="agnostic",
                 abi3t=0x030f0000)


def check_record(tap, obj, interp, what, want):
    rc, doc = testlib.inspect_json(tap, obj)
    if doc is None:
        return
    f = doc["files"][0]
    rec = f.get("record") or {}
    if not tap.ok(rc == 0 and rec.get("state") == "present",
                  "%s %s: record read back from the object" % (interp.id, what), f):
        return
    got = (rec["abi"], rec["stable_abi_floor"], rec["threading"], rec["py_debug"],
           rec["abiinfo"]["build_version"],
           int(rec["limited_api"], 16) if rec["limited_api"] else None,
           int(rec["target_abi3t"], 16) if rec["target_abi3t"] else None)
    expect = (want["abi"], want.get("floor"), want.get("threading", "gil"), interp.debug,
              "0x%08x" % interp.hexversion, want["limited"], want.get("abi3t"))
    tap.eq(got, expect, "%s %s: record says (abi, floor, threading, debug, build, "
           "limited, abi3t)" % (interp.id, what))


for interp in rows:
    for what, defs, want in configurations(interp):
        langs = [("c99", [cc, "-std=c99"]), ("c11", [cc, "-std=c11"]),
                 ("c++", [cxx, "-x", "c++", "-std=c++11"])]
        for lang, compiler in langs:
            obj = os.path.join(work, "%s-%s-%s.o" % (interp.id, what.replace(" ", "_"), lang))
            cmd = compiler + STRICT + defs + ["-I" + slots_inc] + interp.system_includes() + \
                ["-c", src, "-o", obj]
            p = testlib.run(cmd)
            if tap.ok(p.returncode == 0, "%s %s %s compiles cleanly" % (interp.id, what, lang),
                      " ".join(cmd) + "\n" + p.stderr) and lang == "c11":
                check_record(tap, obj, interp, what, want)

# Free-threaded 3.13 headers have no limited API: CPython's own #error, not ours.
for interp in [r for r in rows if r.free_threaded and r.minor < 15]:
    cmd = [cc, "-std=c11", "-DPy_LIMITED_API=0x030d0000", "-I" + slots_inc] + \
        interp.system_includes() + ["-c", src, "-o", os.path.join(work, "ft-limited.o")]
    p = testlib.run(cmd)
    tap.ok(p.returncode != 0 and LIMITED_ON_FT in p.stderr,
           "%s: the limited API on free-threaded headers is CPython's #error" % interp.id,
           p.stderr)

# Misuse: the header without <Python.h> first is a clear #error.
bad = os.path.join(work, "misuse.c")
with open(bad, "w") as f:
    f.write("#include <abigate/slot.h>\nint x;\n")
p = testlib.run([cc, "-I" + slots_inc, "-c", bad, "-o", bad + ".o"])
tap.ok(p.returncode != 0 and "include <Python.h> before <abigate/slot.h>" in p.stderr,
       "slot.h without Python.h fails with a clear #error", p.stderr)

# No Py*/_Py* name is defined by the header itself.
interp = by_id["3.11"]
bare = os.path.join(work, "names.c")
with open(bare, "w") as f:
    f.write("#include <Python.h>\n")
base = testlib.run([cc, "-E", "-dM"] + interp.system_includes() + [bare]).stdout.split("\n")
with open(bare, "w") as f:
    f.write("#include <Python.h>\n#include <abigate/slot.h>\n")
withh = testlib.run([cc, "-E", "-dM", "-I" + slots_inc] + interp.system_includes() +
                    [bare]).stdout.split("\n")
added = sorted(set(withh) - set(base))
names = [line.split()[1].split("(")[0] for line in added if line.startswith("#define ")]
tap.ok(names and all(n.startswith("ABIGATE_") for n in names),
       "slot.h defines only ABIGATE_* macros (%d of them)" % len(names),
       [n for n in names if not n.startswith("ABIGATE_")])
tap.done()
