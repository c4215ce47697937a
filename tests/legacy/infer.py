"""Legacy inference on real third-party extensions (no record): Debian's
python3-yaml, numpy, lxml and cryptography (two abi3 modules), checked with
`abigate check --python` against the real 3.11, 3.13, 3.13t and 3.15
interpreters of the registry.

Verdicts and their evidence are asserted.  Every "missing symbol" the
verdict names is cross-checked with binutils: the file imports it
(nm -D --undefined-only) and the interpreter's C-API file does not define it
(nm -D --defined-only), so the evidence is real, not abigate agreeing with
itself."""

import os
import re
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
RUNTIMES = ("3.11", "3.13", "3.13t", "sid-3.15")
_, by_id = testlib.registry(tap, required=RUNTIMES)
root, found = testlib.legacy_extensions(tap)
everything = [p for pkg in testlib.LEGACY_PACKAGES for p in found.get(pkg, [])]
tap.ok(len(everything) >= 20, "at least 20 real extension files (%d)" % len(everything))


def named(pkg, suffix):
    hits = [p for p in found[pkg] if p.endswith(suffix)]
    tap.ok(len(hits) >= 1, "%s ships %s" % (pkg, suffix))
    return hits


YAML = named("python3-yaml", "/_yaml.cpython-311-x86_64-linux-gnu.so")
ETREE = named("python3-lxml", "/etree.cpython-311-x86_64-linux-gnu.so")
ABI3 = [p for p in found["python3-cryptography"] if p.endswith(".abi3.so")]
tap.ok(len(ABI3) == 2, "python3-cryptography ships two abi3 modules (%d)" % len(ABI3))

# A renamed copy: the name no longer says 3.11, the symbols still do.
work = testlib.workdir("infer")
BARE_YAML = os.path.join(work, "_yaml.so")
if YAML:
    shutil.copyfile(YAML[0], BARE_YAML)

MISSING_RE = re.compile(r"needs (.*?), which this \S+ interpreter does not export")


def missing_named(message):
    m = MISSING_RE.search(message)
    if not m:
        return []
    return [s.strip() for s in re.sub(r" and \d+ more$", "", m.group(1)).split(",")]


verdicts = {}
for rid in RUNTIMES:
    interp = by_id[rid]
    rc, doc = testlib.check_json(tap, everything + [BARE_YAML], python=interp.python)
    if not tap.ok(doc is not None and rc in (0, 1), "%s: abigate check ran (exit %d)" % (rid, rc)):
        continue
    prof = doc["profile"]
    tap.ok(prof["exports"] is not None and prof["exports"]["count"] > 1000,
           "%s: profile has the interpreter's exports (%s)" % (rid, prof["exports"]))
    tap.eq(prof["free_threaded"], rid == "3.13t", "%s: profile threading" % rid)
    exported = testlib.nm_py_exports(prof["exports"]["file"]) if prof["exports"] else set()
    for f in doc["files"]:
        verdicts[rid, f["path"]] = f
        if "error" in f:
            tap.ok(False, "%s: %s read" % (rid, f["path"]), f)
            continue
        for sym in missing_named(f["message"]):
            imports = testlib.nm_py_imports(f["path"])
            tap.ok(sym in imports and not imports[sym] and sym not in exported,
                   "%s: %s: %s is a non-weak import, and not exported (nm)" % (
                       rid, os.path.basename(f["path"]), sym))


def verdict(rid, path):
    return verdicts.get((rid, path), {"verdict": None, "reason": None, "message": ""})


def expect(rid, path, kind, reasons, says=()):
    v = verdict(rid, path)
    short = os.path.relpath(path, root) if path.startswith(root) else os.path.basename(path)
    ok = v["verdict"] == kind and v["reason"] in reasons and all(s in v["message"] for s in says)
    tap.ok(ok, "%s: %s -> %s %s" % (rid, short, kind, "/".join(r[10:] for r in reasons)), v)


NONE = ("ABIGATE_R_NONE",)
# 3.11: everything was built for it.
for p in everything:
    expect("3.11", p, "accept", NONE, ("no evidence",))
expect("3.11", BARE_YAML, "accept", NONE, ("all exported by this interpreter",))

# 3.13 and 3.15: the classic failure, named by the symbol.
for rid in ("3.13", "sid-3.15"):
    for p in YAML + [BARE_YAML]:
        expect(rid, p, "refuse", ("ABIGATE_R_MISSING_SYMBOLS",), ("_PyUnicode_Ready",))
    for p in ETREE:  # 6 missing on 3.15: the message names 4 and counts the rest
        expect(rid, p, "refuse", ("ABIGATE_R_MISSING_SYMBOLS",),
               ("_PyUnicode_FastCopyCharacters", "interpreter does not export"))
    for p in everything:
        if ".abi3." not in p:
            expect(rid, p, "refuse", ("ABIGATE_R_MISSING_SYMBOLS", "ABIGATE_R_TAG_VERSION"),
                   ("cpython-311",))
    for p in ABI3:
        expect(rid, p, "accept", NONE, ("tagged abi3", "all exported by this interpreter"))

# 3.13t: version-specific files are refused; abi3 is the GIL stable ABI; and
# every one of them shows the GIL object layout (its inline Py_DECREF calls
# _Py_Dealloc), which a bare copy shows too.
for p in everything:
    if ".abi3." in p:
        expect("3.13t", p, "refuse", ("ABIGATE_R_ABI3_FREETHREADED",
                                      "ABIGATE_R_LAYOUT_GIL_ON_FREETHREADED"), ("free-threaded",))
    else:
        expect("3.13t", p, "refuse", ("ABIGATE_R_MISSING_SYMBOLS", "ABIGATE_R_TAG_VERSION",
                                      "ABIGATE_R_LAYOUT_GIL_ON_FREETHREADED"))
expect("3.13t", BARE_YAML, "refuse", ("ABIGATE_R_MISSING_SYMBOLS",), ("_PyUnicode_Ready",))

# Without symbol evidence (a spec), a bare name is not evidence, and neither
# is its PyModuleDef's header: ob_refcnt 1 is what 3.11's headers write, but
# PyO3 writes it for 3.15 too (tests/native/thirdparty.py), so it bounds no
# version from above.  The bare copy is accepted, and the message says that
# nothing was checked against an interpreter's exports; with them (above) it
# is refused by the symbols 3.13 lacks.
rc, doc = testlib.check_json(tap, [BARE_YAML] + YAML, target="3.13")
if doc:
    by_path = {f["path"]: f for f in doc["files"]}
    tap.ok(by_path[BARE_YAML]["verdict"] == "accept" and
           "no evidence of a mismatch" in by_path[BARE_YAML]["message"] and
           "symbols not checked" in by_path[BARE_YAML]["message"],
           "--target 3.13: the bare copy has no evidence against it without the exports",
           by_path[BARE_YAML])
    tap.eq(by_path[YAML[0]]["reason"], "ABIGATE_R_TAG_VERSION",
           "--target 3.13: the cpython-311 tag is evidence")
    tap.eq(rc, 1, "--target 3.13: exit 1 when a file is refused")
# --mode warn loads everything and exits 0; --mode require refuses every legacy file.
rc, doc = testlib.check_json(tap, YAML + ABI3, python=by_id["3.13"].python, mode="warn")
tap.ok(doc and rc == 0 and all(f["verdict"] == "accept" for f in doc["files"]) and
       any(f["warning"] for f in doc["files"]), "--mode warn: exit 0, all accepted, warnings set")
rc, doc = testlib.check_json(tap, ABI3, python=by_id["3.11"].python, mode="require")
tap.ok(doc and rc == 1 and all(f["reason"] == "ABIGATE_R_NO_RECORD" for f in doc["files"]),
       "--mode require: files without a record are refused")
tap.done()
