"""Integration: the real demo extension (examples/demo.c) is
built with the record in several configurations against real headers;
`abigate inspect --json` must report exactly the configuration used, and
each module must still import and work in its own interpreter (on 3.15
with the Py_mod_abi slot in use: the PyABIInfo the module hands CPython
must equal the record's block)."""

import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
REQUIRED = ("3.11", "3.11d", "sid-3.14", "sid-3.15", "sid-3.15d")
rows, by_id = testlib.registry(tap, required=REQUIRED)
work = testlib.workdir("integration")

# (name, interpreter id, extra cflags, expected record fields, import it?)
# Expected: abi, floor, threading, debug, trace_refs, build_core, hook, limited, abi3t.
BASE = dict(abi="version-specific", floor=None, threading="gil", py_debug=False,
            trace_refs=False, build_core=False, hooks=["PyInit"], limited=None, abi3t=None)


def want(**kw):
    d = dict(BASE)
    d.update(kw)
    return d


CONFIGS = [
    ("version-specific 3.11", "3.11", [], want(), True),
    ("abi3 3.8+ on 3.11 headers", "3.11", ["-DPy_LIMITED_API=0x03080000"],
     want(abi="stable", floor="3.8", limited=0x03080000), True),
    ("debug 3.11d", "3.11d", [], want(py_debug=True), True),
    ("internal API (Py_BUILD_CORE_MODULE) 3.11", "3.11", ["-DPy_BUILD_CORE_MODULE"],
     want(build_core=True), True),
    # Py_TRACE_REFS: no trace-refs header set exists here (Debian's headers
    # #error on it), so the flag is covered by the unit tests only.
    ("version-specific 3.14", "sid-3.14", [], want(), True),
    ("version-specific 3.15", "sid-3.15", [], want(), True),
    ("abi3 3.15+ on 3.15 headers", "sid-3.15", ["-DPy_LIMITED_API=0x030f0000"],
     want(abi="stable", floor="3.15", limited=0x030f0000), True),
    ("abi3t on 3.15 headers (PEP 793 slots-only)", "sid-3.15", ["-DPy_TARGET_ABI3T=0x030f0000"],
     want(abi="stable", floor="3.15", threading="agnostic", hooks=["PyModExport"],
          limited=0x030f0000, abi3t=0x030f0000), True),
    ("debug 3.15d", "sid-3.15d", [], want(py_debug=True), True),
    # No free-threaded 3.15 runtime exists: a free-threaded build against the
    # 3.15 headers is checked for its record only.
    ("free-threaded build on 3.15 headers", "sid-3.15", ["-DPy_GIL_DISABLED=1"],
     want(threading="free-threaded"), False),
]
# The pre-installed builds add coverage where present (not required).
for interp in rows:
    if interp.id.startswith("pyenv-") and interp.hexversion >= 0x03050000:
        CONFIGS.append(("version-specific %s" % interp.id, interp.id, [], want(), True))

def abiinfo_bytes(rec):
    a = rec["abiinfo"]
    return struct.pack("<BBHII", a["major"], a["minor"], a["flags"],
                       int(a["build_version"], 16), int(a["abi_version"], 16)).hex()


for name, iid, cflags, expect, do_import in CONFIGS:
    interp = by_id[iid]
    d = os.path.join(work, name.replace(" ", "_").replace("/", "_").replace("(", "").replace(")", ""))
    os.makedirs(d, exist_ok=True)
    suffix = ".abi3.so" if expect["abi"] == "stable" else interp.ext_suffix
    so = os.path.join(d, "demo" + suffix)
    p, cmd = testlib.build_demo(tap, interp, cflags, so)
    if not tap.ok(p.returncode == 0, "%s: builds" % name, " ".join(cmd) + "\n" + p.stderr):
        continue
    rc, doc = testlib.inspect_json(tap, so)
    if doc is None:
        continue
    f = doc["files"][0]
    rec = f.get("record")
    if not tap.ok(rc == 0 and rec and rec["state"] == "present" and rec["via"] == "PT_NOTE",
                  "%s: record found through PT_NOTE" % name, f):
        continue
    got = dict(abi=rec["abi"], floor=rec["stable_abi_floor"], threading=rec["threading"],
               py_debug=rec["py_debug"], trace_refs=rec["trace_refs"],
               build_core=rec["build_core"], hooks=rec["hooks"],
               limited=int(rec["limited_api"], 16) if rec["limited_api"] else None,
               abi3t=int(rec["target_abi3t"], 16) if rec["target_abi3t"] else None)
    tap.eq(got, expect, "%s: inspect reports the configuration used" % name)
    tap.eq((rec["python_version"], rec["abiinfo"]["build_version"], rec["pointer_size"]),
           (interp.version, "0x%08x" % interp.hexversion, 8),
           "%s: headers' full version and pointer width" % name)
    tap.eq(rec["internal"], expect["build_core"], "%s: PyABIInfo INTERNAL flag" % name)
    hook = f["legacy"]["modexport"] if "PyModExport" in expect["hooks"] else f["legacy"]["pyinit"]
    tap.eq(hook, ("PyModExport_demo" if "PyModExport" in expect["hooks"] else "PyInit_demo"),
           "%s: the exported hook matches the record" % name)
    if not do_import:
        continue
    p = testlib.run([interp.python, "-c", testlib.DEMO_EXERCISE], cwd=d)
    if not tap.ok(p.returncode == 0, "%s: imports and works in %s" % (name, interp.id),
                  p.stdout + p.stderr):
        continue
    out = p.stdout.strip().splitlines()[-1]
    if interp.hexversion >= 0x030f0000:
        tap.eq(out, abiinfo_bytes(rec),
               "%s: the Py_mod_abi PyABIInfo CPython accepted equals the record's block" % name)
tap.done()
