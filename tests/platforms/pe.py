#!/usr/bin/env python3
"""Windows extension modules, built here for real and judged as abigate's
users meet them: MinGW-w64's GCC (PE32+ and PE32) compiles tests/platforms/ext.c
against CPython 3.13's own headers with its Windows configuration
(PC/pyconfig.h of the source that tests/interpreters/provision unpacked),
and links it with an import library that dlltool makes from a definition
file for the DLL each build imports from: python313.dll, python313t.dll
(Py_GIL_DISABLED), python313_d.dll (_DEBUG), python3.dll (Py_LIMITED_API),
two with abigate's record; and, against sid's 3.15 headers with the same
Windows configuration, multi-phase modules whose slots carry CPython's own
PyABIInfo (GIL, free-threaded, limited API 3.15, and one with both
records), found through the base relocation table, and an abi3t module
(PEP 793's PyModExport_ returning PySlot entries; python3t.dll).  (Not here: a delay-loaded DLL.  GNU ld links
dlltool's delay-load library but leaves the Delay Import Directory empty,
so nothing but the code finds the DLL; the reader of that directory is
tested on crafted images in tests/unit/check_pe.c.)  Each file is
read (inspect --json: format, machine, class, DLL, hook, record), judged
for Windows targets and for Linux, then packed by `wheel pack` into wheels
with true and with lying tags, and `check` judges each wheel in place.

Integration tier: the headers come from the provisioning cache."""

import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
PY = "/usr/bin/python3.11"  # Debian's, with python3-wheel
cli = testlib.env("ABIGATE_CLI", tap)

rows, by_id = testlib.registry(tap, required=("sid-3.15",))
work = testlib.workdir("pe")
SID315 = by_id["sid-3.15"].includes[0][2:]  # sid's 3.15 headers: CPython's own PyABIInfo

# id: (triplet, defines, DLL, file name)
BUILDS = {
    "313": ("x86_64", [], "python313", "ext.cp313-win_amd64.pyd"),
    "313t": ("x86_64", ["-DPy_GIL_DISABLED=1"], "python313t", "ext.cp313t-win_amd64.pyd"),
    "313d": ("x86_64", ["-D_DEBUG"], "python313_d", "ext_d.cp313-win_amd64.pyd"),
    "abi3": ("x86_64", ["-DPy_LIMITED_API=0x030b0000"], "python3", "ext.pyd"),
    "313-record": ("x86_64", ["-DWITH_RECORD"], "python313", "ext.pyd"),
    "313t-record": ("x86_64", ["-DPy_GIL_DISABLED=1", "-DWITH_RECORD"], "python313t", "ext.pyd"),
    "313-win32": ("i686", [], "python313", "ext.cp313-win32.pyd"),
    "315": ("x86_64", ["-DMULTI_PHASE"], "python315", "ext.cp315-win_amd64.pyd"),
    "315t": ("x86_64", ["-DMULTI_PHASE", "-DPy_GIL_DISABLED=1"], "python315t", "ext.pyd"),
    "abi3-315": ("x86_64", ["-DMULTI_PHASE", "-DPy_LIMITED_API=0x030f0000"], "python3", "ext.pyd"),
    "315-record": ("x86_64", ["-DMULTI_PHASE", "-DWITH_RECORD"], "python315", "ext.pyd"),
    "abi3t": ("x86_64", ["-DMODEXPORT", "-DPy_LIMITED_API=0x030f0000", "-DPy_TARGET_ABI3T=0x030f0000"],
              "python3t", "ext.pyd"),
}
files = {}
for bid, (arch, defs, dll, name) in sorted(BUILDS.items()):
    out = testlib.mingw_module(tap, os.path.join(work, bid), arch, defs, dll, name,
                               headers=SID315 if "-DMULTI_PHASE" in defs or "-DMODEXPORT" in defs
                               else None)
    if out:
        files[bid] = out

if len(files) != len(BUILDS):
    tap.bail("not every Windows build could be made")

# ---------------------------------------------------------------- <abigate/slot.h> with MSVC's conventions
# clang in MSVC mode (the conventions of cl.exe: __declspec(allocate), #pragma section, the
# linker directive that keeps the record) and lld-link, for C, C++ and x86; the headers are
# CPython's (patchlevel.h: the version the record says).
MSVC_SRC = ('#include <patchlevel.h>\n#include <abigate/slot.h>\nABIGATE_RECORD(ABIGATE_HOOK_PYINIT);\n'
            '%s__declspec(dllexport) void *PyInit_msvc(void) { return 0; }\n')
for lang, target, machine in (("c", "x86_64", "/machine:x64"), ("cpp", "x86_64", "/machine:x64"),
                              ("c", "i686", "/machine:x86")):
    d = os.path.join(work, "msvc-%s-%s" % (lang, target))
    os.makedirs(d)
    src = os.path.join(d, "msvc." + lang)
    with open(src, "w") as f:
        f.write(MSVC_SRC % ('extern "C" ' if lang == "cpp" else ""))
    obj, dll = os.path.join(d, "msvc.obj"), os.path.join(d, "msvc.pyd")
    p = testlib.run(["clang", "--target=%s-pc-windows-msvc" % target, "-fms-extensions", "-Wall", "-Werror",
                     "-c", "-I" + os.path.join(testlib.cpython_source(tap), "Include"),
                     "-I" + os.path.join(testlib.env("ABIGATE_SRCDIR", tap), "slots"), src, "-o", obj])
    q = testlib.run(["lld-link", "/dll", "/noentry", machine, "/out:" + dll, obj]) if p.returncode == 0 else p
    r = testlib.run([cli, "inspect", dll])
    tap.ok(p.returncode == 0 and q.returncode == 0 and "built for CPython 3.13" in r.stdout and
           ("[PE32 i386]" if target == "i686" else "[PE32+ x86-64]") in r.stdout,
           "slot.h in MSVC mode (%s, %s, clang and lld-link): the record kept and found in .abigate"
           % ("C++" if lang == "cpp" else "C", target), p.stderr + q.stderr + r.stdout + r.stderr)

# ---------------------------------------------------------------- what the reader sees
rc, doc = testlib.inspect_json(tap, *[files[b] for b in sorted(files)])
by_path = {f["path"]: f for f in (doc or {}).get("files", [])}
for bid in sorted(files):
    arch, defs, dll, name = BUILDS[bid]
    delay = False
    f = by_path.get(files[bid], {})
    ok = f.get("ok") and f.get("format") == "pe"
    ok = ok and f["elf"]["class"] == (32 if arch == "i686" else 64)
    ok = ok and f["elf"]["machine"] == (3 if arch == "i686" else 62) and f["elf"]["type"] == 3
    legacy = f.get("legacy") or {}
    hook = "modexport" if "-DMODEXPORT" in defs else "pyinit"
    ok = ok and legacy.get("libpython") == [dll + ".dll"] and legacy.get(hook) == (
        "PyModExport_ext" if hook == "modexport" else "PyInit_ext")
    ok = ok and legacy.get("py_symbols_count", 0) >= 4
    rec = f.get("record")
    native = "-DMULTI_PHASE" in defs or "-DMODEXPORT" in defs
    ok = ok and (rec is not None) == ("-DWITH_RECORD" in defs or native)
    if rec is not None:
        ok = ok and rec.get("threading") == ("agnostic" if "-DMODEXPORT" in defs else
                                             "free-threaded" if "-DPy_GIL_DISABLED=1" in defs else "gil")
        ok = ok and rec.get("via") == ("section" if "-DWITH_RECORD" in defs else "PyABIInfo")
        if native:  # CPython's own PyABIInfo: 3.15.2, stable with the limited API
            ok = ok and rec["abiinfo"]["build_version"] == "0x030f02f0" and \
                rec.get("abi") == ("stable" if "-DPy_LIMITED_API=0x030f0000" in defs else "version-specific")
    tap.ok(ok, "%s: read as PE%s %s, imports from %s.dll%s, exports %s%s" % (
        bid, "32" if arch == "i686" else "32+", "i386" if arch == "i686" else "x86-64", dll,
        " (delay-load)" if delay else "", "PyModExport_ext" if hook == "modexport" else "PyInit_ext",
        (", its record in .abigate" if "-DWITH_RECORD" in defs else
         ", CPython's own PyABIInfo in its slots (base-relocated)") if rec is not None else ""), f)

p = testlib.run([cli, "inspect", files["313t"]])
tap.ok(p.returncode == 0 and "needs python313t.dll" in p.stdout and "[PE32+ x86-64]" in p.stdout,
       "inspect names the DLL and the format in words", p.stdout + p.stderr)

# ---------------------------------------------------------------- verdicts
A, R = "accept", "refuse"
EXPECT = [
    # build, target, verdict, reason, words
    ("313", "3.13-win_amd64", A, "ABIGATE_R_NONE", "no evidence of a mismatch"),
    ("313", "3.13t-win_amd64", R, "ABIGATE_R_PYTHON_DLL", "whose DLL is python313t.dll"),
    ("313", "3.12-win_amd64", R, "ABIGATE_R_PYTHON_DLL", "the DLL of GIL CPython 3.13"),
    ("313", "3.13d-win_amd64", R, "ABIGATE_R_PYTHON_DLL", "python313_d.dll"),
    ("313", "3.13-win32", R, "ABIGATE_R_ELF_CLASS", "64-bit Windows PE file"),
    ("313", "3.13", R, "ABIGATE_R_FORMAT", "a Windows PE file; this interpreter runs on an ELF"),
    ("313", "3.13-macosx_11_0_x86_64", R, "ABIGATE_R_FORMAT", "runs on macOS"),
    ("313t", "3.13t-win_amd64", A, "ABIGATE_R_NONE", "layout: free-threaded"),
    ("313t", "3.13-win_amd64", R, "ABIGATE_R_PYTHON_DLL", "python313t.dll, the DLL of free-threaded"),
    ("313d", "3.13d-win_amd64", A, "ABIGATE_R_NONE", ""),
    ("313d", "3.13-win_amd64", R, "ABIGATE_R_PYTHON_DLL", "GIL debug CPython 3.13"),
    ("abi3", "3.11-win_amd64", A, "ABIGATE_R_NONE", ""),
    ("abi3", "3.14-win_amd64", A, "ABIGATE_R_NONE", ""),
    ("abi3", "3.13t-win_amd64", R, "ABIGATE_R_ABI3_FREETHREADED", "python3.dll, the GIL stable ABI"),
    ("313-record", "3.13-win_amd64", A, "ABIGATE_R_NONE", "built for 3.13"),
    ("313-record", "3.13t-win_amd64", R, "ABIGATE_R_GIL_ON_FREETHREADED", ""),
    ("313t-record", "3.13t-win_amd64", A, "ABIGATE_R_NONE", ""),
    ("313t-record", "3.14t-win_amd64", R, "ABIGATE_R_VERSION", ""),
    ("313-win32", "3.13-win32", A, "ABIGATE_R_NONE", ""),
    ("315", "3.15-win_amd64", A, "ABIGATE_R_NONE", "its PyABIInfo (Py_mod_abi): built for 3.15"),
    ("315", "3.15t-win_amd64", R, "ABIGATE_R_GIL_ON_FREETHREADED", "its PyABIInfo"),
    ("315", "3.14-win_amd64", R, "ABIGATE_R_VERSION", "its PyABIInfo"),
    ("315t", "3.15t-win_amd64", A, "ABIGATE_R_NONE", "its PyABIInfo"),
    ("315t", "3.15-win_amd64", R, "ABIGATE_R_FREETHREADED_ON_GIL", "its PyABIInfo"),
    ("315t", "3.13t-win_amd64", R, "ABIGATE_R_VERSION", "its PyABIInfo"),
    ("abi3-315", "3.16-win_amd64", A, "ABIGATE_R_NONE", "its PyABIInfo"),
    ("abi3-315", "3.14-win_amd64", R, "ABIGATE_R_STABLE_TOO_NEW", "its PyABIInfo"),
    ("315-record", "3.15-win_amd64", A, "ABIGATE_R_NONE", "built for 3.15"),
    ("abi3t", "3.15-win_amd64", A, "ABIGATE_R_NONE", "free-threading agnostic stable ABI (abi3t"),
    ("abi3t", "3.15t-win_amd64", A, "ABIGATE_R_NONE", "its PyABIInfo"),
    ("abi3t", "3.14t-win_amd64", R, "ABIGATE_R_ABI3T_TOO_OLD", "its PyABIInfo"),
    ("313-win32", "3.13-win_amd64", R, "ABIGATE_R_ELF_CLASS", "32-bit Windows PE file"),
    ("313-win32", "3.13-win_arm64", R, "ABIGATE_R_ELF_CLASS", ""),
]
for bid, target, kind, reason, words in EXPECT:
    rc, doc = testlib.check_json(tap, [files[bid]], target=target)
    v = (doc or {}).get("files", [{}])[0] if doc else {}
    tap.ok(v.get("verdict") == kind and v.get("reason") == reason and words in v.get("message", ""),
           "%s on %s: %s (%s)" % (bid, target, kind, reason), v)

# ---------------------------------------------------------------- wheels, in place
wheelhouse = os.path.join(work, "wheelhouse")
os.makedirs(wheelhouse)


def pack(dist, bid, member, tags):
    src = os.path.join(work, "wheel-" + dist, "%s-1.0" % dist)
    os.makedirs(os.path.join(src, dist))
    os.makedirs(os.path.join(src, "%s-1.0.dist-info" % dist))
    shutil.copy(files[bid], os.path.join(src, dist, member))
    with open(os.path.join(src, "%s-1.0.dist-info" % dist, "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n" % dist)
    with open(os.path.join(src, "%s-1.0.dist-info" % dist, "WHEEL"), "w") as f:
        f.write("Wheel-Version: 1.0\nGenerator: abigate-tests\nRoot-Is-Purelib: false\nTag: %s\n"
                % tags)
    p = testlib.run([PY, "-m", "wheel", "pack", "-d", wheelhouse, src])
    path = os.path.join(wheelhouse, "%s-1.0-%s.whl" % (dist, tags))
    tap.ok(p.returncode == 0 and os.path.exists(path), "wheel pack %s (%s)" % (dist, tags),
           p.stdout + p.stderr)
    return path


WHEELS = [
    # dist, build, member, tags, target, expected wheel-tag reasons (empty: fits)
    ("good", "313", "ext.cp313-win_amd64.pyd", "cp313-cp313-win_amd64", "3.13-win_amd64", []),
    ("goodft", "313t", "ext.cp313t-win_amd64.pyd", "cp313-cp313t-win_amd64", "3.13t-win_amd64", []),
    ("goodabi3", "abi3", "ext.pyd", "cp311-abi3-win_amd64", "3.12-win_amd64", []),
    ("good32", "313-win32", "ext.cp313-win32.pyd", "cp313-cp313-win32", "3.13-win32", []),
    ("liethreading", "313", "ext.pyd", "cp313-cp313t-win_amd64", "3.13t-win_amd64",
     ["ABIGATE_R_WHEEL_THREADING"]),
    ("lieversion", "313t", "ext.pyd", "cp314-cp314t-win_amd64", "3.14t-win_amd64",
     ["ABIGATE_R_WHEEL_VERSION"]),
    ("liearch", "313", "ext.pyd", "cp313-cp313-win32", "3.13-win32", ["ABIGATE_R_WHEEL_PLATFORM"]),
    ("lieos", "313", "ext.pyd", "cp313-cp313-manylinux_2_17_x86_64", "3.13",
     ["ABIGATE_R_WHEEL_PLATFORM"]),
    ("lieabi3", "313", "ext.pyd", "cp313-abi3-win_amd64", "3.13-win_amd64", ["ABIGATE_R_WHEEL_ABI3"]),
    ("goodabi3t", "abi3t", "ext.pyd", "cp315-abi3t-win_amd64", "3.15t-win_amd64", []),
    ("lieabi3t", "abi3", "ext.pyd", "cp315-abi3t-win_amd64", "3.15t-win_amd64", ["ABIGATE_R_WHEEL_ABI3"]),
]
for dist, bid, member, tags, target, reasons in WHEELS:
    whl = pack(dist, bid, member, tags)
    rc, doc = testlib.check_json(tap, [whl], target=target)
    items = (doc or {}).get("files", [])
    members = [i for i in items if i.get("member") == "%s/%s" % (dist, member)]
    got = sorted({t.get("reason") for i in members for t in i.get("tags", [])
                  if t.get("verdict") == "refuse"})
    tap.ok(members and got == sorted(reasons) and rc == (1 if reasons or any(
        i.get("verdict") == "refuse" for i in members) else 0),
           "wheel %s holding the %s build, judged for %s: %s" % (
               tags, bid, target, ", ".join(reasons) or "fits its tags and the target"),
           items)

# ---------------------------------------------------------------- the wheelhouse, as a release pipeline gates on it
# check --tags: each wheel for the interpreters its file name claims; one summary per wheel
rc, doc = testlib.cli_json(tap, "check", ["--tags", "--"] + sorted(
    os.path.join(wheelhouse, w) for w in os.listdir(wheelhouse)))
wheels = {os.path.basename(w["path"]).split("-")[0]: w for w in (doc or {}).get("wheels", [])}
want = {dist: ("refuse" if reasons else "accept") for dist, _, _, _, _, reasons in WHEELS}
want["lieabi3"] = "refuse"  # judged fine for 3.13, but its abi3 tag lies
tap.eq({d: w["verdict"] for d, w in wheels.items()}, want,
       "check --tags: one verdict per wheel, for the interpreters its tags claim")
tap.eq({d: w["targets"] for d, w in wheels.items() if d in ("good", "goodabi3", "good32", "lieos")},
       {"good": ["3.13-win_amd64"], "goodabi3": ["3.11-win_amd64"], "good32": ["3.13-win32"],
        "lieos": ["3.13-manylinux_2_17_x86_64"]},
       "check --tags: the interpreter each wheel's tag claims (abi3: its floor)")
tap.ok(rc == 1, "check --tags exits 1 when a wheel does not fit", rc)
good = [os.path.join(wheelhouse, w) for w in os.listdir(wheelhouse) if w.startswith("good")]
p = testlib.run([cli, "check", "--tags"] + sorted(good))
tap.ok(p.returncode == 0 and p.stdout.count(": fits: ") == len(good),
       "check --tags on the wheels that fit: exit 0, one 'fits' line each", p.stdout + p.stderr)
# a compressed tag set claims each interpreter more than once: judged once each
multi = os.path.join(work, "multi-1.0-cp312.cp313-cp312.cp313-win_amd64.whl")
shutil.copy(os.path.join(wheelhouse, "good-1.0-cp313-cp313-win_amd64.whl"), multi)
rc, doc = testlib.cli_json(tap, "check", ["--tags", multi])
items = [(i.get("target"), i.get("verdict")) for i in (doc or {}).get("files", [])]
tap.ok(sorted(items) == [("3.12-win_amd64", "refuse"), ("3.13-win_amd64", "accept")] and rc == 1 and
       (doc or {}).get("wheels", [{}])[0].get("targets") == ["3.12-win_amd64", "3.13-win_amd64"],
       "check --tags, a cp312.cp313 wheel of a 3.13 build: judged once for each interpreter, "
       "and the 3.12 it claims refused", doc)
p = testlib.run([cli, "check", "--tags", "--target", "3.13", good[0]])
tap.ok(p.returncode == 2 and "--tags" in p.stderr, "--tags with --target: a usage error", p.stderr)
p = testlib.run([cli, "check", "--tags", files["313"]])
tap.ok(p.returncode == 2 and "not a wheel" in p.stderr, "--tags on a file outside a wheel: said, exit 2",
       p.stdout + p.stderr)

tap.done()
