#!/usr/bin/env python3
"""Layout evidence, proven on real files (docs/POLICY.md, "Layout evidence").

For every registered interpreter (3.6 up: GIL, free-threaded and debug), its
own lib-dynload extension modules, and for Debian's 3.11 the third-party
extensions of numpy, yaml, lxml and cryptography:

  - binutils' nm (not abigate's reader) lists what each file imports; no
    GIL module imports a free-threaded reference-counting entry point
    (_Py_DecRefShared, _Py_DecRefSharedDebug, _Py_MergeZeroLocalRefcount),
    and no free-threaded module imports _Py_Dealloc without one: the rule
    never misjudges them;
  - `abigate check --python INTERP` accepts every one of them on its own
    interpreter (no false refusal, from the layout rule or any other);
  - and the rule is not vacuous: most GIL modules do import _Py_Dealloc, and
    most free-threaded ones a free-threaded entry point (at least half of
    each interpreter's modules from 3.8 on, where Py_DECREF calls it);
  - the data's evidence (docs/FORMAT.md, "The native record", 7): the object
    header abigate's reader finds in each module's static PyModuleDef is
    its build's, never the other, and is found in most modules (at least
    nine in ten of each interpreter's lib-dynload, the 3.6 pyenv build
    included, where the inline reference counting shows nothing; of 3.15's,
    those without CPython's own PyABIInfo, whose data is not searched
    further once it is found).
"""
import glob
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

FT_ENTRY = {"_Py_DecRefShared", "_Py_DecRefSharedDebug", "_Py_MergeZeroLocalRefcount"}

tap = testlib.Tap()
rows, by_id = testlib.registry(tap, required=("3.11", "3.11d", "3.13", "3.13t", "3.13d",
                                              "sid-3.14", "sid-3.14d", "sid-3.15", "sid-3.15d"))
cli = testlib.env("ABIGATE_CLI", tap)


def lib_dynload(interp):
    p = testlib.run([interp.python, "-c", "import os, _struct; "
                     "print(os.path.dirname(_struct.__file__))"])
    d = p.stdout.strip()
    if p.returncode or not os.path.isdir(d):
        # _struct is built in on some interpreters: ask sysconfig
        p = testlib.run([interp.python, "-c", "import sysconfig, os; print(os.path.join("
                         "sysconfig.get_path('platstdlib'), 'lib-dynload'))"])
        d = p.stdout.strip()
    return d


def layout(path):
    imports = set(testlib.nm_py_imports(path))
    gil, ft = "_Py_Dealloc" in imports, bool(FT_ENTRY & imports)
    return "gil" if gil and not ft else "ft" if ft and not gil else "both" if gil else "neither"


def check_all(interp, files, what):
    counts = {"gil": 0, "ft": 0, "both": 0, "neither": 0}
    wrong = []
    for f in files:
        k = layout(f)
        counts[k] += 1
        if (interp.free_threaded and k == "gil") or (not interp.free_threaded and k == "ft"):
            wrong.append(os.path.basename(f))
    tap.ok(not wrong, "%s, %s: %d files, layout by nm: GIL %d, free-threaded %d, neither %d, both "
           "%d; none contradicts the interpreter's build" % (
               interp.id, what, len(files), counts["gil"], counts["ft"], counts["neither"],
               counts["both"]), wrong[:20])
    if interp.hexversion >= 0x03080000 and what == "lib-dynload":
        shown = counts["ft"] if interp.free_threaded else counts["gil"]
        tap.ok(shown * 2 >= len(files), "%s: the rule has evidence for most modules (%d of %d)"
               % (interp.id, shown, len(files)))
    p = testlib.run([cli, "check", "--json", "--python", interp.python] + files)
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        doc = None
    refused = [(os.path.basename(x["path"]), x.get("reason"), x.get("message"))
               for x in (doc or {}).get("files", []) if x.get("verdict") != "accept"]
    tap.ok(doc is not None and len(doc["files"]) == len(files) and not refused,
           "%s, %s: abigate check accepts all %d on their own interpreter" % (
               interp.id, what, len(files)), refused[:10] or p.stderr[-2000:])
    p = testlib.run([cli, "inspect", "--json"] + files)
    try:
        docs = json.loads(p.stdout)["files"]
        found = [x.get("legacy", {}).get("moddef_layout") for x in docs]
        recorded = [x.get("record") is not None for x in docs]
    except (ValueError, KeyError):
        found, recorded = [], []
    own = "free-threaded" if interp.free_threaded else "gil"
    other = [os.path.basename(f) for f, m in zip(files, found) if m not in (own, "none")]
    # a module with CPython's own PyABIInfo (3.15's lib-dynload) is judged by
    # it, and its data is not searched further (docs/FORMAT.md)
    searched = [m for m, r in zip(found, recorded) if not r]
    n_own = searched.count(own)
    tap.ok(len(found) == len(files) and not other and
           (what != "lib-dynload" or n_own * 10 >= len(searched) * 9) and
           all(m == "none" for m, r in zip(found, recorded) if r),
           "%s, %s: the PyModuleDef header read from the data is its build's (%s) in %d of the "
           "%d files without a PyABIInfo, the other in none" % (
               interp.id, what, own, n_own, len(searched)),
           other[:20] or p.stderr[-1000:])


for interp in sorted((i for i in rows if i.hexversion >= 0x03060000),
                     key=lambda i: (i.hexversion, i.id)):
    d = lib_dynload(interp)
    files = sorted(f for f in glob.glob(os.path.join(d, "*" + interp.ext_suffix)))
    if not files:
        tap.bail("%s: no extension modules (*%s) in %s" % (interp.id, interp.ext_suffix, d))
    check_all(interp, files, "lib-dynload")

root, found = testlib.legacy_extensions(tap)
third = sorted(f for fs in found.values() for f in fs
               if f.endswith(by_id["3.11"].ext_suffix) or f.endswith(".abi3.so"))
check_all(by_id["3.11"], third, "Debian's numpy, yaml, lxml, cryptography")
tap.done()
