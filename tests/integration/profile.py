"""Interpreter profiles against the real interpreters of the registry.

1. `abigate profile --python X --json` must say what X itself says
   (sys.hexversion, sysconfig's Py_GIL_DISABLED / Py_DEBUG, SOABI,
   importlib.machinery.EXTENSION_SUFFIXES), and its export count must equal
   binutils' count of the defined Py symbols of the file it names.
2. abigate_profile_from_process, inside X: tests/integration/profprobe.c
   links libabigate and is imported into X.  The version (Py_Version, or
   Py_GetVersion() before 3.11) and the build flags it derives from the
   exports (free-threaded, debug, trace-refs symbols) must match X's own."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
REQUIRED = ("3.11", "3.11d", "3.13", "3.13t", "3.13d", "sid-3.14", "sid-3.15", "sid-3.15d")
rows, by_id = testlib.registry(tap, required=REQUIRED)
rows = [r for r in rows if r.hexversion >> 24 == 3]
srcdir = testlib.env("ABIGATE_SRCDIR", tap)
builddir = testlib.env("ABIGATE_BUILDDIR", tap)
cli = testlib.env("ABIGATE_CLI", tap)
libdir = testlib.lib_dir(tap)

ASK = r"""
import json, sys, sysconfig, importlib.machinery as m
g = sysconfig.get_config_var
print(json.dumps({"hexversion": sys.hexversion, "ft": bool(g("Py_GIL_DISABLED")),
                  "debug": hasattr(sys, "gettotalrefcount"),
                  "trace_refs": hasattr(sys, "getobjects"),
                  "soabi": g("SOABI"), "suffixes": m.EXTENSION_SUFFIXES}))
"""

PROBE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import profprobe
hexversion, flags, soabi, path, n, suffixes = profprobe.profile()
print(json.dumps({"hexversion": hexversion, "flags": flags, "soabi": soabi,
                  "exports_path": path, "n_exports": n, "suffixes": suffixes}))
"""


def ask(interp, code, *args):
    p = testlib.run([interp.python, "-c", code] + list(args), timeout=60)
    try:
        return json.loads(p.stdout)
    except ValueError:
        tap.ok(False, "%s: ran the script" % interp.id, p.stdout + p.stderr)
        return None


work = testlib.workdir("profile")
for interp in rows:
    truth = ask(interp, ASK)
    if truth is None:
        continue
    p = testlib.run([cli, "profile", "--python", interp.python, "--json"])
    try:
        prof = json.loads(p.stdout)["profile"]
    except ValueError:
        tap.ok(False, "%s: abigate profile --json" % interp.id, p.stdout + p.stderr)
        continue
    got = (int(prof["hexversion"], 16), prof["free_threaded"], prof["debug"], prof["soabi"],
           prof["suffixes"])
    want = (truth["hexversion"], truth["ft"], truth["debug"], truth["soabi"], truth["suffixes"])
    tap.eq(got, want, "%s: profile --python: version, threading, debug, SOABI, suffixes"
           % interp.id)
    if interp.id.startswith(("3.13", "pyenv-")):  # upstream builds (Debian patches suffixes)
        spec = "%d.%d%s%s" % (truth["hexversion"] >> 24, truth["hexversion"] >> 16 & 0xff,
                              "t" if truth["ft"] else "", "d" if truth["debug"] else "")
        p = testlib.run([cli, "profile", "--target", spec, "--json"])
        guess = json.loads(p.stdout)["profile"] if p.returncode == 0 else {}
        tap.eq((guess.get("soabi"), guess.get("suffixes")), (truth["soabi"], truth["suffixes"]),
               "%s: --target %s gives the real SOABI and suffixes" % (interp.id, spec))
    exports = prof["exports"] or {"file": "", "count": -1}
    nm_count = len(testlib.nm_py_exports(exports["file"])) if exports["file"] else 0
    tap.ok(exports["count"] == nm_count and nm_count > 1000,
           "%s: %d exports read from %s (nm -D: %d)" % (interp.id, exports["count"],
                                                       exports["file"], nm_count))

    # abigate_profile_from_process inside the interpreter
    d = os.path.join(work, interp.id)
    os.makedirs(d, exist_ok=True)
    so = os.path.join(d, "profprobe" + interp.ext_suffix)
    cmd = [os.environ.get("CC") or "gcc", "-shared", "-fPIC", "-O1"] + \
        testlib.lib_includes(tap) + interp.system_includes() + \
        [os.path.join(srcdir, "tests", "integration", "profprobe.c"), "-o", so,
         "-L" + libdir, "-Wl,-rpath," + libdir, "-labigate"]
    c = testlib.run(cmd)
    if not tap.ok(c.returncode == 0, "%s: profprobe builds" % interp.id, c.stderr):
        continue
    inproc = ask(interp, PROBE, d)
    if inproc is None:
        continue
    flags = (bool(inproc["flags"] & 1), bool(inproc["flags"] & 2), bool(inproc["flags"] & 4))
    tap.eq((inproc["hexversion"], flags),
           (truth["hexversion"], (truth["ft"], truth["debug"], truth["trace_refs"])),
           "%s: profile_from_process: version and flags derived from the exports" % interp.id)
    tap.ok(inproc["n_exports"] == exports["count"] and
           os.path.realpath(inproc["exports_path"]) == os.path.realpath(exports["file"]),
           "%s: profile_from_process reads the same C-API file (%s, %d symbols)"
           % (interp.id, inproc["exports_path"], inproc["n_exports"]),
           "%r vs %r" % (inproc, exports))
tap.ok(len(rows) >= len(REQUIRED), "profiled %d interpreters" % len(rows))
tap.done()
