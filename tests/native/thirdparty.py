#!/usr/bin/env python3
"""Third-party extension modules built for 3.15 by a distribution: Debian
sid's own builds, which ship a cpython-314 and a cpython-315 module each
(tests/interpreters/provision unpacks them under
$ABIGATE_CACHE/sid/thirdparty): in C and Cython, markupsafe, msgpack, regex
and PyYAML; in Rust, bcrypt, fastbencode and rpds-py (PyO3 0.28) and orjson
(its own bindings).

1. What they are: none carries a PyABIInfo yet (their build tools do not
   emit Py_mod_abi; PyO3 0.28 defines it, in the numbering before PEP 820,
   but its #[pymodule] does not give it); the Cython-built ones (msgpack,
   yaml) use 3.15's slot numbering in their 3.15 builds, markupsafe's in its
   PyModuleDef's own slots; the C ones' PyModuleDef has the GIL object
   header with 3.14's immortal ob_refcnt; PyO3's has the GIL header with
   ob_refcnt 1 (what it writes for every version, so the value cannot say
   which headers) and Py_mod_gil in the old numbering; orjson builds its
   definition at run time (nothing static to read).
2. Each module, copied under a bare name (the tag that would refuse it
   gone, as a user who renames or vendors it does), is judged for the
   registry's sid 3.15 and 3.14, 3.13, 3.13t and 3.11 (--python: their
   exports) and imported into each for real.  Each is accepted on the
   interpreter it was built for (PyO3's ob_refcnt 1 once made every PyO3
   module refused on 3.14 and 3.15).  No accept may fail to import (the
   ground truth), except the one listed in KNOWN_NO_EVIDENCE, a bare copy
   in which nothing static says its version, which must then be accepted
   with "no evidence" and refused under its own (tagged) name; refusals of
   files that would have imported are listed.  PyYAML is judged, not
   imported (its libyaml is not unpacked).
"""
import glob
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
INTERPS = ("sid-3.15", "sid-3.14", "3.13", "3.13t", "3.11")
rows, by_id = testlib.registry(tap, required=INTERPS)
cli = testlib.env("ABIGATE_CLI", tap)
site = os.path.join(testlib.sid_thirdparty(tap), "usr", "lib", "python3", "dist-packages")
modules = sorted(glob.glob(os.path.join(site, "*", "*.cpython-31[45]-x86_64-linux-gnu.so")))
PYO3 = ("bcrypt", "fastbencode", "rpds")
tap.eq(sorted({os.path.basename(os.path.dirname(m)) for m in modules}),
       ["bcrypt", "fastbencode", "markupsafe", "msgpack", "orjson", "regex", "rpds", "yaml"],
       "eight packages, each with its modules")
# orjson's 3.15 build on 3.14: the same 63 imports as its 3.14 build, its
# PyModuleDef and slots made at run time: it crashes in its init code
# (SIGSEGV, reading 3.15's object layouts), and nothing static shows it.
KNOWN_NO_EVIDENCE = {("orjson.cpython-315-x86_64-linux-gnu.so", "sid-3.14")}
work = testlib.workdir("thirdparty")

# ---------------------------------------------------------------- 1. what they are
rc, doc = testlib.inspect_json(tap, *modules)
facts = {f["path"]: f for f in (doc or {}).get("files", [])}
for m in modules:
    f = facts.get(m, {})
    legacy = f.get("legacy") or {}
    pkg = os.path.basename(os.path.dirname(m))
    is315 = ".cpython-315-" in m
    # 3.15's numbering: found from Py_mod_exec (85) in an array of the data,
    # or in its PyModuleDef's slots (markupsafe's first: 86)
    numbering = {"msgpack": 85, "yaml": 85, "markupsafe": 86}.get(pkg, 0) if is315 else 0
    if pkg == "orjson":
        layout, minor, what = "none", None, "no static PyModuleDef"
    elif pkg in PYO3:
        layout, minor, what = "gil", [0, 255], "a GIL PyModuleDef, ob_refcnt 1 (any version)"
    else:
        layout, minor, what = "gil", [14, 255], "a GIL PyModuleDef of 3.14+ headers"
    tap.ok(f.get("ok") and f.get("record") is None and legacy.get("moddef_layout") == layout and
           legacy.get("moddef_minor") == minor and legacy.get("slot_id_315") == numbering and
           (pkg not in PYO3 or legacy.get("slot_id_old") == 4),
           "%s/%s: no PyABIInfo; %s%s%s" % (
               pkg, os.path.basename(m), what, "; 3.15's slot numbering" if numbering else "",
               "; Py_mod_gil" if pkg in PYO3 else ""),
           json.dumps(f)[:600])

# ---------------------------------------------------------------- 2. judged and imported
false_accepts, known, false_refusals, own_refused, judged = [], [], [], [], 0
OWN = {"314": "sid-3.14", "315": "sid-3.15"}
for m in modules:
    pkg = os.path.basename(os.path.dirname(m))
    mod = os.path.basename(m).split(".")[0]
    d = os.path.join(work, os.path.basename(m))
    shutil.copytree(os.path.dirname(m), os.path.join(d, pkg),
                    ignore=shutil.ignore_patterns("*.so"))
    bare = os.path.join(d, pkg, mod + ".so")
    shutil.copy(m, bare)
    for rid in INTERPS:
        interp = by_id[rid]
        rc, doc = testlib.check_json(tap, [bare], python=interp.python)
        v = (doc or {}).get("files", [{}])[0] if doc else {}
        judged += 1
        if rid == OWN[os.path.basename(m).split("-")[1]] and v.get("verdict") != "accept":
            own_refused.append("%s on %s: %s" % (os.path.basename(m), rid, v.get("message")))
        if pkg == "yaml":
            continue  # not imported: libyaml is not unpacked
        p = testlib.run([interp.python, "-s", "-c",
                         "import sys; sys.path.insert(0, %r); import %s.%s" % (d, pkg, mod)])
        works = p.returncode == 0
        if v.get("verdict") != "refuse" and not works:
            (known if (os.path.basename(m), rid) in KNOWN_NO_EVIDENCE else false_accepts).append(
                (m, rid, "%s on %s: %s / %s" % (os.path.basename(m), rid, v.get("message"),
                                                 testlib.outcome(p))))
        if v.get("verdict") == "refuse" and works:
            false_refusals.append("%s on %s: %s" % (os.path.basename(m), rid, v.get("reason")))
tap.ok(judged == len(modules) * len(INTERPS),
       "%d judgements: %d modules, each on %s" % (judged, len(modules), ", ".join(INTERPS)))
tap.ok(not own_refused, "each bare copy is accepted on the interpreter it was built for",
       "\n".join(own_refused))
tap.ok(not false_accepts, "no module judged acceptable fails to import (%d imported), but %s" % (
    judged - len([m for m in modules if "/yaml/" in m]) * len(INTERPS),
    ", ".join("%s on %s" % k for k in sorted(KNOWN_NO_EVIDENCE))),
    "\n".join(x[2] for x in false_accepts))
for m, rid, what in known:
    # nothing static tells its version: the bare copy is accepted as having
    # no evidence, and the file under its own name is refused by its tag
    tap.ok("no evidence of a mismatch" in what, "known: " + what)
    rc, doc = testlib.check_json(tap, [m], python=by_id[rid].python)
    v = (doc or {}).get("files", [{}])[0] if doc else {}
    tap.eq(v.get("reason"), "ABIGATE_R_TAG_VERSION",
           "%s under its own name on %s: refused by its tag" % (os.path.basename(m), rid))
tap.eq(sorted((os.path.basename(m), rid) for m, rid, _ in known), sorted(KNOWN_NO_EVIDENCE),
       "the known case still fails to import (else take it off the list)")
tap.diag("refused, though the import works (the evidence is stricter than the import): %d%s" % (
    len(false_refusals), "".join("\n  " + f for f in false_refusals)))
tap.done()
