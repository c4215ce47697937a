#!/usr/bin/env python3
"""bench/bench_wheelhouse.py -- a release's wheelhouse judged in place (make bench-wheelhouse).

The wheels of one release for Linux, Windows and macOS, built here for real
(gcc against Debian's 3.11 headers; MinGW-w64 against CPython 3.13's own
Windows headers, testlib.mingw_module; clang and ld64.lld for macOS,
tests/platforms/build-macho.sh) and packed by `wheel pack`, each module with and
without abigate's record.  Two wheelhouses: "small" (the modules as built,
tens of KiB) and "big" (the same, each module carrying 8 MiB of incompressible
bytes in its code, so that a reader which needs a section past them inflates
8 MiB per member).

Sides, in the same run, rounds alternated, every process on one CPU:
  - `abigate check --tags W...`: every wheel judged for the interpreters its
    tags claim, in place (record or import tables);
  - `abigate inspect W...`: the legacy evidence of every member;
  - `python3 -m zipfile -e W DIR` for each wheel (what abi3audit and
    auditwheel do first: extract), and the same extraction in one Python
    process (no interpreter start per wheel).
Then the peak RSS (/usr/bin/time %M) of check --tags on each wheelhouse:
it must not follow the wheels' size.

Speed is measured here, never asserted by a test.  BENCH_ROUNDS rounds (7).
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import testlib  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))
tap = testlib.BenchTap("bench_wheelhouse")
cli = testlib.bench_cli(tap)
srcdir = testlib.env("ABIGATE_SRCDIR", tap)
PY = "/usr/bin/python3.11"
work = testlib.workdir("bench-wheelhouse")
testlib.pin_to_one_cpu()

pad = os.path.join(work, "pad.bin")
with open(pad, "wb") as f:
    f.write(os.urandom(8 << 20))
padc = os.path.join(work, "pad.c")
with open(padc, "w") as f:
    f.write('#ifdef __APPLE__\n#define SECTION "__TEXT,__text"\n#else\n#define SECTION ".text"\n#endif\n'
            '__asm__(".section " SECTION "\\n.incbin \\"%s\\"\\n.text\\n");\n' % pad)
ext = os.path.join(srcdir, "tests", "platforms", "ext.c")


def linux_module(d, defines, name, big):
    os.makedirs(d)
    out = os.path.join(d, name)
    p = testlib.run(["gcc", "-shared", "-fPIC", "-O2", "-I/usr/include/python3.11",
                     "-I" + os.path.join(srcdir, "slots")] + defines + [ext] +
                    ([padc] if big else []) + ["-o", out])
    tap.ok(p.returncode == 0, "gcc builds %s" % name, p.stderr)
    return out


def macos_modules(d, big):
    """tests/platforms/build-macho.sh's modules, {(config, arch): path}."""
    inc = "/usr/include/python3.11:/usr/include/x86_64-linux-gnu/python3.11"
    e = dict(os.environ, PY311_INCLUDE=inc)
    if big:
        e["EXTRA_SOURCE"] = padc
    p = testlib.run(["sh", os.path.join(srcdir, "tests", "platforms", "build-macho.sh"), d], env=e)
    tap.ok(p.returncode == 0, "build-macho.sh builds the macOS modules", p.stdout + p.stderr)
    with open(os.path.join(d, "MANIFEST")) as f:
        return {tuple(ln.split()[:2]): ln.split()[2] for ln in f}


def pack(house, dist, module, member, tags):
    src = os.path.join(work, house + "-src", dist, "%s-1.0" % dist)
    os.makedirs(os.path.join(src, dist))
    info = os.path.join(src, "%s-1.0.dist-info" % dist)
    os.makedirs(info)
    shutil.copy(module, os.path.join(src, dist, member))
    with open(os.path.join(info, "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n" % dist)
    with open(os.path.join(info, "WHEEL"), "w") as f:
        f.write("Wheel-Version: 1.0\nGenerator: abigate-bench\nRoot-Is-Purelib: false\nTag: %s\n" % tags)
    dest = os.path.join(work, house)
    p = testlib.run([PY, "-m", "wheel", "pack", "-d", dest, src])
    tap.ok(p.returncode == 0, "wheel pack %s" % dist, p.stdout + p.stderr)
    return os.path.join(dest, "%s-1.0-%s.whl" % (dist, tags))


houses = {}
for house, big in (("small", False), ("big", True)):
    wheels = []
    mac = macos_modules(os.path.join(work, house, "mac"), big)
    for rec in (False, True):
        r = ["-DWITH_RECORD"] if rec else []
        sfx = "rec" if rec else "plain"
        d = os.path.join(work, house, "build-" + sfx)
        m = linux_module(os.path.join(d, "linux"), r, "ext.cpython-311-x86_64-linux-gnu.so", big)
        wheels.append(pack(house, "lin" + sfx, m, os.path.basename(m), "cp311-cp311-manylinux_2_17_x86_64"))
        m = testlib.mingw_module(tap, os.path.join(d, "win"), "x86_64", r, "python313",
                                 "ext.cp313-win_amd64.pyd", extra=[padc] if big else [])
        wheels.append(pack(house, "win" + sfx, m, os.path.basename(m), "cp313-cp313-win_amd64"))
        m = testlib.mingw_module(tap, os.path.join(d, "winft"), "x86_64",
                                 r + ["-DPy_GIL_DISABLED=1"], "python313t",
                                 "ext.cp313t-win_amd64.pyd", extra=[padc] if big else [])
        wheels.append(pack(house, "winft" + sfx, m, os.path.basename(m), "cp313-cp313t-win_amd64"))
        m = mac[("311-record" if rec else "311"), "universal2"]
        wheels.append(pack(house, "mac" + sfx, m, os.path.basename(m),
                           "cp311-cp311-macosx_11_0_universal2"))
    houses[house] = wheels

INFLATE_ALL = ("import sys, zipfile\n"
               "for w in sys.argv[1:]:\n"
               "    with zipfile.ZipFile(w) as z:\n"
               "        for i in z.infolist():\n"
               "            if i.filename.endswith(('.so', '.pyd')):\n"
               "                z.read(i)\n")
EXTRACT_ALL = ("import sys, zipfile\n"
               "for i, w in enumerate(sys.argv[2:]):\n"
               "    zipfile.ZipFile(w).extractall('%s/%d' % (sys.argv[1], i))\n")


def sides(wheels):
    d = os.path.join(work, "x")
    per_wheel = ["sh", "-c", 'd=$1; shift; for w; do "%s" -m zipfile -e "$w" "$d/$(basename "$w")"; done' % PY,
                 "sh", d] + wheels
    return [
        ("abigate check --tags (in place)", [cli, "check", "--tags"] + wheels, None),
        ("abigate inspect (legacy evidence)", [cli, "inspect"] + wheels, None),
        ("python3 -m zipfile -e, each wheel", per_wheel, d),
        ("zipfile extractall, one process", [PY, "-c", EXTRACT_ALL, d] + wheels, d),
        ("every module inflated in memory (zipfile.read)", [PY, "-c", INFLATE_ALL] + wheels, None),
    ]


def measure(cmds):
    return testlib.bench_alternate(cmds, ROUNDS)


print("bench_wheelhouse: %d rounds, every process on one CPU" % ROUNDS)
for house, wheels in houses.items():
    size = sum(os.path.getsize(w) for w in wheels)
    cmds = sides(wheels)
    med = measure(cmds)
    print("%s wheelhouse: %d wheels (Linux, Windows, macOS), %.1f MiB" % (house, len(wheels), size / 1048576))
    for (desc, _, _), m in zip(cmds, med):
        print("  %-45s %9.1f ms" % (desc, m * 1e3))
    print("  check --tags: %.1fx faster than python3 -m zipfile -e of each wheel, %.1fx faster than "
          "one process extracting them all; %.2fx the time of inflating every module in one "
          "process" % (med[2] / med[0], med[3] / med[0], med[0] / med[4]))
for house, wheels in houses.items():
    p = testlib.run(["/usr/bin/time", "-f", "%M", cli, "check", "--tags"] + wheels)
    print("peak RSS of abigate check --tags on the %s wheelhouse (%.1f MiB): %s KiB" % (
        house, sum(os.path.getsize(w) for w in wheels) / 1048576, p.stderr.strip().splitlines()[-1]))
