#!/usr/bin/env python3
"""PyO3-style modules built here: pyo3-ffi's own example module (the
`string_sum` of its crate documentation), compiled by rustc against
pyo3-ffi 0.28.2, the version Debian sid ships (tests/interpreters/provision
unpacks the sources of librust-pyo3-ffi-dev and librust-libc-dev under
$ABIGATE_CACHE/sid/thirdparty).  The example is read from the crate, not
copied here.

pyo3-ffi's build script would ask an interpreter for its configuration and
set the cfgs Py_3_7 ... Py_3_X (and Py_GIL_DISABLED); they are given to
rustc directly, for 3.14, 3.15 and 3.13t.  Each is linked three ways:
rustc's default linker (rust-lld, which leaves RELA pointers zero in
place), GNU ld (-Clinker-features=-lld), and lld with
-z pack-relative-relocs (RELR).

1. What they are.  The 3.15 build exports PyModExport_string_sum, whose
   slot array gives Py_mod_abi as ID 5, the numbering of CPython 3.15's
   alphas that pyo3-ffi 0.28 keeps (3.15 final has 109): found by every
   linker's relocations (slot_id_old 5; its PyABIInfo is not a record).
   The others show their static PyModuleDef (3.14: GIL, ob_refcnt 1, any
   version, Py_mod_multiple_interpreters; 3.13t: free-threaded, 3.13t or
   later, Py_mod_gil), whether its pointers are in place (GNU ld, RELR) or
   zero there and found through their RELA relocations (rust-lld).
2. Judged and imported.  Each build, as a bare string_sum.so, is judged
   for sid's 3.15 and 3.14, 3.13, 3.13t and 3.11 (--python) and imported
   into each for real (string_sum.sum_as_string(2, 3) == "5").  No accept
   fails to import: the 3.13t build on a GIL interpreter fails ("module
   functions cannot set METH_CLASS or METH_STATIC": the GIL runtime reads
   its free-threaded objects), and its 9 imports are all exported there, so
   its PyModuleDef's header is the evidence, rust-lld's build included.  The 3.15 builds fail everywhere, on 3.15 with
   "invalid module slot 5 (Py_mp_subscript)": refused there by their slot
   (ABIGATE_R_SLOT_UNKNOWN), before any of their code runs.
"""
import glob
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
INTERPS = ("sid-3.15", "sid-3.14", "3.13", "3.13t", "3.11")
rows, by_id = testlib.registry(tap, required=INTERPS)
cli = testlib.env("ABIGATE_CLI", tap)
registry = os.path.join(testlib.sid_thirdparty(tap), "usr", "share", "cargo", "registry")
ffi = sorted(glob.glob(os.path.join(registry, "pyo3-ffi-*")))
libc = sorted(glob.glob(os.path.join(registry, "libc-0.2.*")))
if not ffi or not libc:
    tap.bail("pyo3-ffi or libc sources missing in %s: run tests/interpreters/provision" % registry)
ffi, libc = ffi[-1], libc[-1]
RUSTC = shutil.which("rustc") or next(
    (p for p in (os.path.expanduser("~/.cargo/bin/rustc"), "/root/.cargo/bin/rustc")
     if os.access(p, os.X_OK)), None)
if not RUSTC:
    tap.bail("no rustc (PATH, ~/.cargo/bin): pyo3-ffi %s needs a rustc of its rust-version"
             % os.path.basename(ffi))
work = testlib.workdir("pyo3")

# The example: the src/lib.rs block of pyo3-ffi's crate documentation.
doc = open(os.path.join(ffi, "src", "lib.rs")).read().splitlines()
start = next(i for i, l in enumerate(doc) if l.startswith("//! **`src/lib.rs`**"))
body = []
for line in doc[start + 2:]:
    if line.startswith("//! ```"):
        break
    body.append(re.sub(r"^//! ?", "", line))
example = os.path.join(work, "string_sum.rs")
with open(example, "w") as f:
    f.write("\n".join(body) + "\n")
tap.ok("PyModExport_string_sum" in "".join(body) and "Py_mod_abi" in "".join(body),
       "pyo3-ffi %s's example module read from its documentation (%d lines)" % (
           os.path.basename(ffi).split("-")[-1], len(body)))

ENV = dict(os.environ, CARGO_PKG_VERSION=os.path.basename(ffi).split("-")[-1])


def rustc(args):
    p = testlib.run([RUSTC, "--edition", "2021", "-O", "--cap-lints", "allow"] + args, env=ENV)
    return p


p = rustc(["--crate-type", "rlib", "--crate-name", "libc", os.path.join(libc, "src", "lib.rs"),
           "-o", os.path.join(work, "liblibc.rlib")])
if not tap.ok(p.returncode == 0, "rustc builds the libc crate", p.stderr[-2000:]):
    tap.bail("cannot build the libc crate")

CONFIGS = {"3.14": (14, False), "3.15": (15, False), "3.13t": (13, True)}
LINKERS = {"rust-lld": [], "bfd": ["-Clinker-features=-lld", "-Clink-self-contained=-linker"],
           "relr": ["-Clink-arg=-Wl,-z,pack-relative-relocs"]}
built = {}
for cfg, (top, ft) in CONFIGS.items():
    cfgs = sum((["--cfg", "Py_3_%d" % v] for v in range(7, top + 1)), [])
    if ft:
        cfgs += ["--cfg", "Py_GIL_DISABLED"]
    d = os.path.join(work, cfg)
    os.makedirs(d)
    p = rustc(["--crate-type", "rlib", "--crate-name", "pyo3_ffi"] + cfgs +
              ["--extern", "libc=" + os.path.join(work, "liblibc.rlib"), "-L", work,
               os.path.join(ffi, "src", "lib.rs"), "-o", os.path.join(d, "libpyo3_ffi.rlib")])
    if not tap.ok(p.returncode == 0, "%s: rustc builds pyo3-ffi" % cfg, p.stderr[-2000:]):
        continue
    for linker, flags in LINKERS.items():
        out = os.path.join(d, linker, "string_sum.so")
        os.makedirs(os.path.dirname(out))
        p = rustc(["--crate-type", "cdylib", "--crate-name", "string_sum"] + cfgs + flags +
                  ["--extern", "pyo3_ffi=" + os.path.join(d, "libpyo3_ffi.rlib"), "-L", d,
                   "-L", work, example, "-o", out])
        if tap.ok(p.returncode == 0, "%s, %s: rustc builds the module" % (cfg, linker),
                  p.stderr[-2000:]):
            built[cfg, linker] = out

# The linkers are what they are said to be.
for (cfg, linker), path in sorted(built.items()):
    sections = testlib.run(["readelf", "-SW", path]).stdout
    dynamic = testlib.run(["readelf", "-dW", path]).stdout
    lld = ".relro_padding" in sections
    relr = "(RELR)" in dynamic
    tap.ok(lld == (linker != "bfd") and relr == (linker == "relr"),
           "%s, %s: linked by %s%s" % (cfg, linker, "lld" if lld else "GNU ld",
                                       ", with DT_RELR" if relr else ""))

# ---------------------------------------------------------------- 1. what they are
rc, doc = testlib.inspect_json(tap, *sorted(built.values()))
facts = {f["path"]: f for f in (doc or {}).get("files", [])}
for (cfg, linker), path in sorted(built.items()):
    f = facts.get(path, {})
    legacy = f.get("legacy") or {}
    if cfg == "3.15":
        want = {"modexport": "PyModExport_string_sum", "slot_id_old": 5, "moddef_layout": "none"}
        what = "PyModExport_, Py_mod_abi as slot 5 (the alphas' numbering), not a record"
    elif cfg == "3.13t":
        want = {"moddef_layout": "free-threaded", "moddef_minor": [13, 255], "slot_id_old": 4}
        what = "a free-threaded PyModuleDef (3.13t or later), Py_mod_gil"
    else:
        want = {"moddef_layout": "gil", "moddef_minor": [0, 255], "slot_id_old": 3}
        what = "a GIL PyModuleDef, ob_refcnt 1 (any version), Py_mod_multiple_interpreters"
    if cfg != "3.15":
        what += " (pointers %s)" % ("zero in place, relocated by RELA" if linker == "rust-lld"
                                    else "in place")
    got = {k: legacy.get(k) for k in want}
    tap.ok(f.get("ok") and f.get("record") is None and got == want,
           "%s, %s: %s" % (cfg, linker, what), "%s\n%s" % (got, f))

# ---------------------------------------------------------------- 2. judged and imported
false_accepts, false_refusals, judged = [], [], 0
for (cfg, linker), path in sorted(built.items()):
    d = os.path.dirname(path)
    for rid in INTERPS:
        rc, doc = testlib.check_json(tap, [path], python=by_id[rid].python)
        v = (doc or {}).get("files", [{}])[0] if doc else {}
        judged += 1
        p = testlib.run([by_id[rid].python, "-s", "-c",
                         "import sys; sys.path.insert(0, %r); import string_sum; "
                         "assert string_sum.sum_as_string(2, 3) == '5'" % d], timeout=60)
        works = p.returncode == 0
        label = "%s, %s on %s" % (cfg, linker, rid)
        if v.get("verdict") != "refuse" and not works:
            false_accepts.append("%s: %s / %s" % (label, v.get("message"), testlib.outcome(p)))
        if v.get("verdict") == "refuse" and works:
            false_refusals.append("%s: %s" % (label, v.get("reason")))
        if cfg == "3.15" and rid == "sid-3.15":
            tap.ok(v.get("reason") == "ABIGATE_R_SLOT_UNKNOWN" and not works and
                   "invalid module slot 5" in p.stderr,
                   "%s: refused by its slot 5, where the import fails \"invalid module slot 5\""
                   % label, "%s / %s" % (v.get("message"), testlib.outcome(p)))
        if (cfg, rid) in (("3.14", "sid-3.14"), ("3.13t", "3.13t")):
            tap.ok(v.get("verdict") == "accept" and works,
                   "%s: accepted, and it imports and works" % label,
                   "%s / %s" % (v.get("message"), testlib.outcome(p)))
tap.ok(judged == len(built) * len(INTERPS) and len(built) == len(CONFIGS) * len(LINKERS),
       "%d judgements: %d builds, each on %s" % (judged, len(built), ", ".join(INTERPS)))
tap.ok(not false_accepts, "no build judged acceptable fails to import", "\n".join(false_accepts))
tap.diag("refused, though the import works: %d%s" % (
    len(false_refusals), "".join("\n  " + f for f in false_refusals)))
tap.done()
