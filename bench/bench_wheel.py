#!/usr/bin/env python3
"""bench/bench_wheel.py -- wheels judged in place, and abigate scan (make bench-wheel).

1. Judging a wheel read in place against extracting it, in the same run,
   sides alternated round by round, every process on one CPU:
     - numpy.whl: `wheel pack` of Debian's numpy tree (record-less: legacy
       evidence, every member inflated to its section headers);
     - big.whl: numpy, lxml, cryptography and yaml packed together, plus
       three modules carrying the abigate record, each holding 8 MiB of
       real machine code (numpy's _multiarray_umath, .incbin) after it;
     - rec.whl: those three record modules alone (the record read: the
       first few KiB of each member).
   Sides: `abigate check --target 3.11.2 W` (record first: Debian's 3.11
   exactly; against an older 3.11.0 the record-first rule reads the
   symbols too, headers newer than the runtime), `abigate inspect W`
   (legacy evidence of every member), `unzip -q W -d DIR`, `python3 -m
   zipfile -e W DIR`, and the floor of any in-place reader that needs the
   end of each member: inflating every extension member in memory (zlib,
   nothing written).  Peak RSS (/usr/bin/time) of inspect on each wheel.
2. `abigate scan --target 3.11` of a tree of real extension modules (the
   registry's lib-dynload directories and the Debian trees), -j 1 and -j 2,
   against the floor of listing it and reading the first 4 KiB of each
   extension file (`find ... -name '*.so' -exec head -c 4096 {} +`).

Speed is measured here, never asserted by a test.  Runs as `make
bench-wheel` (ABIGATE_* set as for make check); BENCH_ROUNDS rounds (9).
"""
import glob
import os
import shutil
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import testlib  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "9"))
tap = testlib.BenchTap("bench_wheel")
rows, by_id = testlib.registry(tap, required=("3.11",))
cli = testlib.bench_cli(tap)
PY = "/usr/bin/python3.11"
TARGET = by_id["3.11"].version  # Debian's 3.11 exactly, whose headers built the record modules
for tool in ("unzip",):
    tap.ok(shutil.which(tool), "%s is installed (apt-get install unzip)" % tool)
root, found = testlib.legacy_extensions(tap)
work = testlib.workdir("bench-wheel")


def tree(pkg):
    return glob.glob(os.path.join(root, pkg + "_*", "usr", "lib", "python3", "dist-packages"))[0]


def pack(name, parts, extra=()):
    src = os.path.join(work, name + "-1.0")
    info = os.path.join(src, name + "-1.0.dist-info")
    os.makedirs(info)
    for pkg, tops in parts:
        for t in tops:
            shutil.copytree(os.path.join(tree(pkg), t), os.path.join(src, t))
    for path in extra:
        os.makedirs(os.path.join(src, "rec"), exist_ok=True)
        shutil.copy(path, os.path.join(src, "rec"))
    with open(os.path.join(info, "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n" % name)
    with open(os.path.join(info, "WHEEL"), "w") as f:
        f.write("Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n")
    p = testlib.run([PY, "-m", "wheel", "pack", "-d", work, src])
    tap.ok(p.returncode == 0, "wheel pack " + name, p.stderr)
    shutil.rmtree(src)
    return os.path.join(work, name + "-1.0-cp311-cp311-linux_x86_64.whl")


# Three big modules with the record: demo.c plus 8 MiB of real code after it.
umath = [f for f in found["python3-numpy"] if "_multiarray_umath." in f][0]
blob = os.path.join(work, "blob.bin")
with open(umath, "rb") as f:
    data = f.read()
with open(blob, "wb") as f:
    while f.tell() < (8 << 20):
        f.write(data)
asm = os.path.join(work, "blob.S")
with open(asm, "w") as f:
    f.write('.section .rodata\n.globl demo_blob\ndemo_blob:\n.incbin "%s"\n.section .note.GNU-stack,"",@progbits\n'
            % blob)
records = []
for i, (flags, suffix) in enumerate((([], ".cpython-311-x86_64-linux-gnu.so"),
                                     (["-DPy_LIMITED_API=0x03080000"], ".abi3.so"),
                                     ([], ".cpython-311-x86_64-linux-gnu.so"))):
    out = os.path.join(work, "big%d%s" % (i, suffix))
    p, cmd = testlib.build_demo(tap, by_id["3.11"], flags + [asm], out)
    tap.ok(p.returncode == 0, "build " + out, " ".join(cmd) + p.stderr)
    records.append(out)
NUMPY = [("python3-numpy", ["numpy"])]
ALL = NUMPY + [("python3-lxml", ["lxml"]), ("python3-cryptography", ["cryptography"]),
               ("python3-yaml", ["yaml", "_yaml"])]
wheels = {"numpy.whl": pack("numpy", NUMPY), "big.whl": pack("big", ALL, records),
          "rec.whl": pack("rec", [], records)}
testlib.pin_to_one_cpu()

INFLATE = r"""
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for i in z.infolist():
        if i.filename.endswith(".so"):
            z.read(i)
"""


def sides(whl):
    d = os.path.join(work, "x")
    return [
        ("abigate check --target %s (record first)" % TARGET, [cli, "check", "--target", TARGET, whl], None),
        ("abigate inspect (legacy evidence, every member)", [cli, "inspect", whl], None),
        ("unzip -q -d DIR", ["unzip", "-q", "-o", whl, "-d", d], d),
        ("python3 -m zipfile -e", [PY, "-m", "zipfile", "-e", whl, d], d),
        ("floor: inflate every .so member in memory", [PY, "-c", INFLATE, whl], None),
    ]


def measure(cmds):
    return testlib.bench_alternate(cmds, ROUNDS)


print("bench_wheel: %d rounds, every process on one CPU" % ROUNDS)
for name, whl in wheels.items():
    cmds = sides(whl)
    med = measure(cmds)
    print("%s: %.1f MiB" % (name, os.path.getsize(whl) / 1048576))
    for (desc, _, _), m in zip(cmds, med):
        print("  %-50s %8.1f ms" % (desc, m * 1e3))
    for k, desc in ((0, "record read"), (1, "legacy evidence")):
        print("  %s: %.1fx faster than unzip, %.1fx faster than python -m zipfile -e, "
              "%.2fx the in-memory inflate floor" % (desc, med[2] / med[k], med[3] / med[k], med[k] / med[4]))
for name, whl in wheels.items():
    p = testlib.run(["/usr/bin/time", "-f", "%M", cli, "inspect", whl])
    print("peak RSS of abigate inspect %s (%.1f MiB): %s KiB"
          % (name, os.path.getsize(whl) / 1048576, p.stderr.strip().splitlines()[-1]))

# 2. scan against the floor of listing and reading 4 KiB of each file
dirs = sorted(set(os.path.dirname(f) for r in rows for f in
                  glob.glob(os.path.join(os.path.dirname(os.path.dirname(r.python)), "lib", "python3*",
                                         "lib-dynload", "*.so"))))
dirs += [tree(pkg) for pkg, _ in ALL]
nfiles = int(testlib.run(["sh", "-c", 'find "$@" -name "*.so" -type f | wc -l', "sh"] + dirs).stdout)
cmds = [("abigate scan --target 3.11 -j 1", [cli, "scan", "--target", "3.11", "-j", "1"] + dirs, None),
        ("abigate scan --target 3.11 -j 2", [cli, "scan", "--target", "3.11", "-j", "2"] + dirs, None),
        ("floor: find -name '*.so' -exec head -c 4096 {} +",
         ["sh", "-c", 'find "$@" -name "*.so" -type f -exec head -c 4096 {} + >/dev/null', "sh"] + dirs, None)]
# scan -j 2 needs both CPUs: unpinned for this part
os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
med = measure(cmds)
print("scan of %d extension files in %d directories:" % (nfiles, len(dirs)))
for (desc, _, _), m in zip(cmds, med):
    print("  %-50s %8.1f ms" % (desc, m * 1e3))
print("  scan -j 1 / floor %.2f; scan -j 2 / floor %.2f; -j 2 speed-up %.2fx"
      % (med[0] / med[2], med[1] / med[2], med[0] / med[1]))


def needed_reads(path):
    """The reads judging `path` with symbol evidence needs at least: its
    first 4 KiB (ELF header, program headers, the record's note), its
    dynamic symbol and string tables, its dynamic segment (DT_NEEDED) and
    its section headers (FORMAT.md's fallback for the record), where they
    lie past what is read already, ranges less than a page apart read
    together; no fstat (the read of the section headers ends the file)."""
    size = os.path.getsize(path)
    ranges = [(0, min(4096, size))]
    with open(path, "rb") as fh:
        h = fh.read(64)
        if len(h) == 64 and h[:4] == b"\x7fELF" and h[4] == 2 and h[5] == 1:
            phoff, shoff = struct.unpack_from("<QQ", h, 32)
            phentsize, phnum, shentsize, shnum = struct.unpack_from("<HHHH", h, 54)
            fh.seek(phoff)
            ph = fh.read(phnum * phentsize)
            fh.seek(shoff)
            sh = fh.read(shnum * shentsize)
            for i in range(phnum):
                ptype, _, off, _, _, filesz = struct.unpack_from("<IIQQQQ", ph, i * phentsize)
                if ptype in (2, 4):  # PT_DYNAMIC, PT_NOTE
                    ranges.append((off, filesz))
            secs = [struct.unpack_from("<IIQQQQII", sh, i * shentsize) for i in range(shnum)]
            for _, stype, _, _, off, ssize, link, _ in secs:
                if stype == 11 and link < shnum:  # SHT_DYNSYM and its string table
                    ranges += [(off, ssize), (secs[link][4], secs[link][5])]
            ranges.append((shoff, shnum * shentsize))
    merged = []
    for off, n in sorted((o, n) for o, n in ranges if n):
        if merged and off <= merged[-1][0] + merged[-1][1] + 4096:
            lo = merged[-1][0]
            merged[-1] = (lo, max(merged[-1][1], off + n - lo))
        else:
            merged.append((off, n))
    return merged


replay = testlib.env("ABIGATE_BENCH_REPLAY", tap)
plan = os.path.join(work, "plan.tsv")
files = testlib.run(["sh", "-c", 'find "$@" -name "*.so" -type f', "sh"] + dirs).stdout.split()
with open(plan, "w") as f:
    for path in files:
        f.write("\t".join([path] + ["%d\t%d" % r for r in needed_reads(path)]) + "\n")
testlib.pin_to_one_cpu()
out = testlib.run([replay, str(max(ROUNDS, 21)), plan])
if out.returncode:
    sys.exit("bench_wheel: bench_replay failed: %s" % out.stderr)
n, floor_us, plan_us = out.stdout.split()
print("  the reads alone, in C, per file (%s files): open + pread 4 KiB + close %.1f us; the reads "
      "judging needs at least (4 KiB, symbol tables, dynamic segment, section headers) %.1f us: %.2fx"
      % (n, float(floor_us), float(plan_us), float(plan_us) / float(floor_us)))
print("  scan -j 1 per file, whole process: %.1f us" % (med[0] * 1e6 / nfiles))
