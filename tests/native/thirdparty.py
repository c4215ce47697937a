#!/usr/bin/env python3
"""Third-party extension modules built for 3.15 by a distribution: Debian
sid's own builds of markupsafe, msgpack, regex and PyYAML, which ship a
cpython-314 and a cpython-315 module each (tests/interpreters/provision
unpacks them under $ABIGATE_CACHE/sid/thirdparty).

1. What they are: none carries a PyABIInfo yet (their build tools do not
   emit Py_mod_abi); the Cython-built ones (msgpack, yaml) use 3.15's slot
   numbering in their 3.15 builds, markupsafe's in its PyModuleDef's own
   slots; every one has a static PyModuleDef with the GIL object header.
2. Each module, copied under a bare name (the tag that would refuse it
   gone, as a user who renames or vendors it does), is judged for the
   registry's sid 3.15 and 3.14, 3.13, 3.13t and 3.11 (--python: their
   exports) and imported into each for real.  No accept may fail to import
   (the ground truth); refusals of files that would have imported are
   listed.  PyYAML is judged, not imported (its libyaml is not unpacked).
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
root = os.path.join(os.environ.get("ABIGATE_CACHE", "/var/cache/abigate"), "sid", "thirdparty")
if not os.path.exists(os.path.join(root, ".complete")):
    tap.bail("sid's third-party extensions are not in %s: run tests/interpreters/provision" % root)
site = os.path.join(root, "root", "usr", "lib", "python3", "dist-packages")
modules = sorted(glob.glob(os.path.join(site, "*", "*.cpython-31[45]-x86_64-linux-gnu.so")))
tap.eq(sorted({os.path.basename(os.path.dirname(m)) for m in modules}),
       ["markupsafe", "msgpack", "regex", "yaml"], "four packages, each with its modules")
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
    tap.ok(f.get("ok") and f.get("record") is None and legacy.get("moddef_layout") == "gil" and
           legacy.get("slot_id_315") == numbering,
           "%s/%s: no PyABIInfo; a GIL PyModuleDef%s" % (
               pkg, os.path.basename(m), "; 3.15's slot numbering" if numbering else ""),
           json.dumps(f)[:600])

# ---------------------------------------------------------------- 2. judged and imported
false_accepts, false_refusals, judged = [], [], 0
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
        if pkg == "yaml":
            continue  # not imported: libyaml is not unpacked
        p = testlib.run([interp.python, "-s", "-c",
                         "import sys; sys.path.insert(0, %r); import %s.%s" % (d, pkg, mod)])
        works = p.returncode == 0
        if v.get("verdict") != "refuse" and not works:
            false_accepts.append("%s on %s: %s / %s" % (os.path.basename(m), rid, v.get("message"),
                                                         testlib.outcome(p)))
        if v.get("verdict") == "refuse" and works:
            false_refusals.append("%s on %s: %s" % (os.path.basename(m), rid, v.get("reason")))
tap.ok(judged == len(modules) * len(INTERPS),
       "%d judgements: %d modules, each on %s" % (judged, len(modules), ", ".join(INTERPS)))
tap.ok(not false_accepts, "no module judged acceptable fails to import (%d imported)" % (
    judged - len([m for m in modules if "/yaml/" in m]) * len(INTERPS)), "\n".join(false_accepts))
tap.diag("refused, though the import works (the evidence is stricter than the import): %d%s" % (
    len(false_refusals), "".join("\n  " + f for f in false_refusals)))
tap.done()
