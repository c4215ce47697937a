#!/usr/bin/env python3
"""macOS extension modules built here for real, and a release's mixed
wheelhouse judged as a release pipeline gates on it.

1. tests/platforms/build-macho.sh compiles tests/platforms/ext.c with
   clang for x86_64 and arm64 macOS 11 against the registry's 3.11, 3.13t
   and sid's 3.15 headers, links each as macOS extensions are linked
   (ld64.lld -bundle -undefined dynamic_lookup), and makes universal2
   files with llvm-lipo: version-specific, abi3, free-threaded, linked
   against a Python.framework, with abigate's record (<abigate/slot.h>'s
   Mach-O section), a debug build, a 3.15 multi-phase module whose slots
   carry CPython's own PyABIInfo, and an abi3t one (PEP 793's
   PyModExport_), both found through the modules' rebase information.  Each is read (inspect --json: format, machine,
   slices, minos, record, framework, hook, imports) and judged for macOS
   targets (the spec's platform part) and for Linux.
2. Wheels with true and lying macOS tags (a universal2 tag on a thin file,
   a macOS 10.13 tag on a file whose minos is 11.0).
3. One wheelhouse of the same release for Linux (gcc), Windows (MinGW-w64)
   and macOS: `abigate check --tags` judges each wheel for the interpreters
   its tags claim and prints one verdict per wheel; the exit status gates.
4. The fuzz target's invariants on every module (tests/fuzz/replay).

Integration tier: the headers come from the registry."""

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
rows, by_id = testlib.registry(tap, required=("3.11", "3.13t", "3.13d", "sid-3.15"))
cli = testlib.env("ABIGATE_CLI", tap)
srcdir = testlib.env("ABIGATE_SRCDIR", tap)
builddir = testlib.env("ABIGATE_BUILDDIR", tap)
PY = "/usr/bin/python3.11"  # Debian's, with python3-wheel
work = testlib.workdir("macho")
MULTIARCH = testlib.run(["gcc", "-print-multiarch"]).stdout.strip() or "x86_64-linux-gnu"


def include(rid):
    """DIR:PLATDIR of an interpreter's headers (Debian's multiarch pyconfig.h wrapper)."""
    d = by_id[rid].includes[0][2:]
    plat = os.path.join(os.path.dirname(d), MULTIARCH, os.path.basename(d))
    return d + (":" + plat if os.path.isdir(plat) else "")


out = os.path.join(work, "modules")
e = dict(os.environ, PY311_INCLUDE=include("3.11"), PY313T_INCLUDE=include("3.13t"),
         PY313D_INCLUDE=include("3.13d"), PY315_INCLUDE=include("sid-3.15"))
p = testlib.run(["sh", os.path.join(srcdir, "tests", "platforms", "build-macho.sh"), out], env=e)
if not tap.ok(p.returncode == 0, "build-macho.sh builds the macOS modules", p.stdout + p.stderr):
    tap.bail("no macOS modules")
modules = {}
with open(os.path.join(out, "MANIFEST")) as f:
    for line in f:
        config, arch, path = line.split()
        modules[config, arch] = path
CONFIGS = ("311", "311-libpython", "311-record", "abi3", "313t", "313d", "315", "abi3t")
tap.eq(sorted(modules), sorted((c, a) for c in CONFIGS for a in ("x86_64", "arm64", "universal2")),
       "24 modules: 8 configurations, thin x86_64 and arm64, universal2")

# ---------------------------------------------------------------- 1. what the reader sees
MACHINE = {"x86_64": 62, "arm64": 183}
rc, doc = testlib.inspect_json(tap, *[modules[k] for k in sorted(modules)])
by_path = {f["path"]: f for f in (doc or {}).get("files", [])}
for (config, arch), path in sorted(modules.items()):
    f = by_path.get(path, {})
    legacy = f.get("legacy") or {}
    slices = [s["machine"] for s in f.get("slices", [])]
    ok = f.get("ok") and f.get("format") == "macho" and f.get("min_os") == "11.0"
    ok = ok and f["elf"]["class"] == 64 and f["elf"]["type"] == 3
    ok = ok and (slices == [62, 183] if arch == "universal2" else
                 (slices == [] and f["elf"]["machine"] == MACHINE[arch]))
    hook = "modexport" if config == "abi3t" else "pyinit"
    ok = ok and legacy.get(hook) == ("PyModExport_ext" if config == "abi3t" else "PyInit_ext")
    ok = ok and legacy.get("py_symbols_count", 0) >= 3
    rec = f.get("record") or {}
    native = config in ("315", "abi3t")
    ok = ok and bool(rec) == (config == "311-record" or native)
    ok = ok and rec.get("via", None if native else "section") == ("PyABIInfo" if native else "section")
    if config == "abi3t":
        ok = ok and rec.get("threading") == "agnostic" and rec.get("abi") == "stable"
    ok = ok and legacy.get("libpython") == (
        ["/Library/Frameworks/Python.framework/Versions/3.11/Python"] if config == "311-libpython" else [])
    tap.ok(ok, "%s %s: read as Mach-O%s, minos 11.0, %s and its Py imports%s" % (
        config, arch, " universal (x86-64, AArch64)" if arch == "universal2" else "",
        "PyModExport_ext" if config == "abi3t" else "PyInit_ext",
        ", its record in __TEXT,__abigate" if config == "311-record" else
        ", CPython's own PyABIInfo in its slots" if native else ""), json.dumps(f)[:800])

p = testlib.run([cli, "inspect", modules["311", "universal2"]])
tap.ok("[Mach-O universal: x86-64, AArch64; macOS 11.0]" in p.stdout,
       "inspect names the slices and the minos in words", p.stdout)

# ---------------------------------------------------------------- verdicts
A, R = "accept", "refuse"
EXPECT = [
    ("311", "universal2", "3.11-macosx_11_0_arm64", A, "ABIGATE_R_NONE"),
    ("311", "universal2", "3.11-macosx_11_0_x86_64", A, "ABIGATE_R_NONE"),
    ("311", "universal2", "3.11-macosx_10_13_x86_64", R, "ABIGATE_R_MIN_OS"),
    ("311", "arm64", "3.11-macosx_11_0_x86_64", R, "ABIGATE_R_MACHINE"),
    ("311", "x86_64", "3.11", R, "ABIGATE_R_FORMAT"),
    ("311", "x86_64", "3.11-win_amd64", R, "ABIGATE_R_FORMAT"),
    ("311", "arm64", "3.12-macosx_11_0_arm64", R, "ABIGATE_R_TAG_VERSION"),
    ("311", "arm64", "3.13t-macosx_11_0_arm64", R, "ABIGATE_R_LAYOUT_GIL_ON_FREETHREADED"),
    ("311-libpython", "arm64", "3.12-macosx_11_0_arm64", R, "ABIGATE_R_LIBPYTHON"),
    ("311-record", "arm64", "3.11-macosx_11_0_arm64", A, "ABIGATE_R_NONE"),
    ("311-record", "arm64", "3.13t-macosx_11_0_arm64", R, "ABIGATE_R_VERSION"),
    ("abi3", "universal2", "3.14-macosx_11_0_arm64", A, "ABIGATE_R_NONE"),
    ("abi3", "universal2", "3.13t-macosx_11_0_arm64", R, "ABIGATE_R_LAYOUT_GIL_ON_FREETHREADED"),
    ("313t", "arm64", "3.13t-macosx_11_0_arm64", A, "ABIGATE_R_NONE"),
    ("313t", "arm64", "3.13-macosx_11_0_arm64", R, "ABIGATE_R_LAYOUT_FREETHREADED_ON_GIL"),
    ("315", "universal2", "3.15-macosx_11_0_universal2", A, "ABIGATE_R_NONE"),
    ("315", "universal2", "3.14-macosx_11_0_universal2", R, "ABIGATE_R_VERSION"),
    ("315", "arm64", "3.15t-macosx_11_0_arm64", R, "ABIGATE_R_GIL_ON_FREETHREADED"),
    ("abi3t", "universal2", "3.15t-macosx_11_0_arm64", A, "ABIGATE_R_NONE"),
    ("abi3t", "universal2", "3.15-macosx_11_0_x86_64", A, "ABIGATE_R_NONE"),
    ("abi3t", "arm64", "3.14t-macosx_11_0_arm64", R, "ABIGATE_R_ABI3T_TOO_OLD"),
    ("313d", "arm64", "3.13-macosx_11_0_arm64", R, "ABIGATE_R_DEBUG_SYMBOLS"),
    ("313d", "arm64", "3.13d-macosx_11_0_arm64", A, "ABIGATE_R_NONE"),
]
for config, arch, target, kind, reason in EXPECT:
    rc, doc = testlib.check_json(tap, [modules[config, arch]], target=target)
    v = (doc or {}).get("files", [{}])[0] if doc else {}
    tap.ok(v.get("verdict") == kind and v.get("reason") == reason,
           "%s %s on %s: %s (%s)" % (config, arch, target, kind, reason), v)

# ---------------------------------------------------------------- 2, 3. wheels and a wheelhouse
wheelhouse = os.path.join(work, "wheelhouse")
os.makedirs(wheelhouse)


def pack(dist, module, tags, member=None):
    src = os.path.join(work, "wheel-" + dist, "%s-1.0" % dist)
    os.makedirs(os.path.join(src, dist))
    info = os.path.join(src, "%s-1.0.dist-info" % dist)
    os.makedirs(info)
    shutil.copy(module, os.path.join(src, dist, member or os.path.basename(module)))
    with open(os.path.join(info, "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n" % dist)
    with open(os.path.join(info, "WHEEL"), "w") as f:
        f.write("Wheel-Version: 1.0\nGenerator: abigate-tests\nRoot-Is-Purelib: false\nTag: %s\n" % tags)
    p = testlib.run([PY, "-m", "wheel", "pack", "-d", wheelhouse, src])
    path = os.path.join(wheelhouse, "%s-1.0-%s.whl" % (dist, tags))
    tap.ok(p.returncode == 0 and os.path.exists(path), "wheel pack %s (%s)" % (dist, tags),
           p.stdout + p.stderr)
    return path


linux = os.path.join(work, "linux", "ext.cpython-311-x86_64-linux-gnu.so")
os.makedirs(os.path.dirname(linux))
p = testlib.run(["gcc", "-shared", "-fPIC", "-O2"] + by_id["3.11"].system_includes() +
                [os.path.join(srcdir, "tests", "platforms", "ext.c"), "-o", linux])
tap.ok(p.returncode == 0, "gcc builds the same module for Linux", p.stderr)
windows = testlib.mingw_module(tap, os.path.join(work, "windows"), "x86_64",
                               ["-DPy_GIL_DISABLED=1"], "python313t", "ext.cp313t-win_amd64.pyd")
# dist, module, tags, wheel verdict under --tags, the tag refusals expected
WHEELS = [
    ("relmac", modules["311", "universal2"], "cp311-cp311-macosx_11_0_universal2", A, []),
    ("relmacft", modules["313t", "arm64"], "cp313-cp313t-macosx_11_0_arm64", A, []),
    ("relmacabi3", modules["abi3", "universal2"], "cp311-abi3-macosx_11_0_universal2", A, []),
    ("rellinux", linux, "cp311-cp311-manylinux_2_17_x86_64", A, []),
    ("relwin", windows, "cp313-cp313t-win_amd64", A, []),
    ("thinuniversal", modules["311", "arm64"], "cp311-cp311-macosx_11_0_universal2", R,
     ["ABIGATE_R_WHEEL_PLATFORM"]),
    ("oldmacos", modules["311", "x86_64"], "cp311-cp311-macosx_10_13_x86_64", R,
     ["ABIGATE_R_WHEEL_PLATFORM"]),
    ("macftlie", modules["311", "arm64"], "cp311-cp311t-macosx_11_0_arm64", R,
     ["ABIGATE_R_WHEEL_THREADING"]),
    ("maconlinux", modules["311", "x86_64"], "cp311-cp311-manylinux_2_17_x86_64", R,
     ["ABIGATE_R_WHEEL_PLATFORM"]),
]
paths = {dist: pack(dist, module, tags) for dist, module, tags, _, _ in WHEELS}
rc, doc = testlib.cli_json(tap, "check", ["--tags", "--"] + sorted(paths.values()))
wheels = {os.path.basename(w["path"]).split("-")[0]: w for w in (doc or {}).get("wheels", [])}
items = (doc or {}).get("files", [])
for dist, module, tags, kind, reasons in WHEELS:
    w = wheels.get(dist, {})
    got = sorted({t["reason"] for i in items if i.get("path") == paths[dist]
                  for t in i.get("tags", []) if t.get("verdict") == "refuse"})
    tap.ok(w.get("verdict") == kind and got == sorted(reasons),
           "check --tags, %s (%s): %s%s" % (dist, tags, kind, (" by " + ", ".join(reasons)) if reasons else ""),
           json.dumps(w) + "\n" + json.dumps([i for i in items if i.get("path") == paths[dist]])[:1200])
tap.ok(rc == 1, "check --tags on the wheelhouse exits 1: some wheels do not fit", rc)
release = [paths[d] for d, _, _, kind, _ in WHEELS if kind == A]
p = testlib.run([cli, "check", "--tags"] + release)
lines = [ln for ln in p.stdout.splitlines() if ln.endswith(")") and ": fits: " in ln]
tap.ok(p.returncode == 0 and len(lines) == len(release),
       "the release's wheels for Linux, Windows and macOS: exit 0, one 'fits' line each",
       p.stdout + p.stderr)
p = testlib.run([cli, "scan", "--target", "3.11-macosx_11_0_arm64", paths["relmac"]])
tap.ok(p.returncode == 0, "scan judges a macOS wheel for a macOS target", p.stdout + p.stderr)
# scan --tags: the wheelhouse as distributions, each for the interpreters its tags claim
outs = [testlib.run([cli, "scan", "--tags", "--json", "-j", j, wheelhouse]) for j in ("1", "2")]
docs = [json.loads(ln) for ln in outs[0].stdout.splitlines() if ln.startswith("{")]
summary = next((d["summary"] for d in docs if "summary" in d), {})
want_broken = sorted("%s 1.0" % d for d, _, _, kind, _ in WHEELS if kind == R)
tap.ok(outs[0].returncode == 1 and sorted(summary.get("breaking", [])) == want_broken and
       summary.get("files") == len(WHEELS) and outs[0].stdout == outs[1].stdout,
       "scan --tags of the wheelhouse: the wheels that do not fit break, the others work; -j 2 "
       "gives the same output", outs[0].stdout[-1500:] + outs[0].stderr)
targets = {d["path"].split("/")[-1].split("-")[0]: d.get("target") for d in docs if "member" in d}
tap.eq({k: targets.get(k) for k in ("relwin", "relmac", "rellinux")},
       {"relwin": "3.13t-win_amd64", "relmac": "3.11-macosx_11_0_universal2",
        "rellinux": "3.11-manylinux_2_17_x86_64"},
       "scan --tags --json: each member names the interpreter it was judged for")

# ---------------------------------------------------------------- 4. the fuzz target's invariants
p = testlib.run([os.path.join(builddir, "tests", "fuzz", "replay")] + sorted(modules.values()))
tap.ok(p.returncode == 0, "the fuzz target's invariants hold on every module", p.stdout + p.stderr)

tap.done()
