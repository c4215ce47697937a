#!/usr/bin/env python3
"""bench/bench_app.py -- what the gate costs a whole application (make bench-app).

1. A Python 3.11 process that imports Debian's numpy, yaml (with _yaml),
   lxml.etree and cryptography's Rust bindings, from the trees
   tests/legacy/fetch unpacks: about 20 extension modules of real packages,
   none with a record, plus the standard library's own.  Timed inside the
   process (perf_counter around the imports) and as the whole process's CPU
   time, gate on (strict) against off, alternated round by round:
     - the import hook on Debian's 3.11 (PYTHONABIGATE=strict against unset,
       abigate.pth installed in both);
     - the gate built into the patched 3.11 (default strict against
       PYTHONABIGATE=off).
   Each gated process also reports the gate's own time, summed by libabigate
   around every judgement (_abigate.stats(), _imp.abigate_status()), as a
   share of the import's wall time.
2. The legacy judgement of those real files in a warm loop: _abigate.decide
   (strict, quiet) on each file against the floor of open, pread of 16 KiB
   and close, and against the I/O any reader of a record-less file must do
   (that, and the reads of its section headers and dynamic segment when
   they lie past 16 KiB: one read for both when they lie within 16 KiB of
   each other, and an fstat unless a read ends the file), side by side in
   one process.

Every process runs on one CPU.  Reports medians and ratios; speed is
measured here, never asserted by a test.
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import testlib  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "21"))
LOOP = 200  # warm-loop judgements per file

APP = r"""
import glob, json, os, sys, time, resource
for d in sorted(glob.glob(os.path.join(sys.argv[1], "python3-*", "usr", "lib", "python3",
                                       "dist-packages"))):
    sys.path.insert(0, d)
t = time.perf_counter()
import numpy, yaml, yaml._yaml, lxml.etree, cryptography.hazmat.bindings._rust
wall = time.perf_counter() - t
exts = [m for m in list(sys.modules.values()) if (getattr(m, "__file__", "") or "").endswith(".so")]
ns = judged = syms = 0
if "_abigate" in sys.modules:
    judged, syms, ns = sys.modules["_abigate"].stats()
else:
    import _imp
    if hasattr(_imp, "abigate_status"):
        s = _imp.abigate_status()
        judged, syms, ns = s["judged"], s["symbols_read"], s["nanoseconds"]
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "gate_ns": ns,
                  "judged": judged, "symbols_read": syms, "extensions": len(exts)}))
"""

WARM = r"""
import json, os, struct, sys, time, _abigate
files = sys.argv[1:]
mode, flags = _abigate.MODE_STRICT, _abigate.POLICY_QUIET
def floor(path):
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    try:
        os.pread(fd, 16384, 0)
    finally:
        os.close(fd)
def extra_reads(path):
    # what any reader of a record-less ELF64 file must read past its first
    # 16 KiB: the section headers (FORMAT.md's fallback for the record) and
    # the dynamic segment (DT_NEEDED)
    with open(path, "rb") as fh:
        head = fh.read(16384)
    phoff, shoff = struct.unpack_from("<QQ", head, 32)
    phnum, shentsize, shnum = struct.unpack_from("<HHH", head, 56)
    reads = [(shoff, shnum * shentsize)]
    for i in range(phnum):
        ptype, _, off, _, _, filesz = struct.unpack_from("<IIQQQQ", head, phoff + 56 * i)
        if ptype == 2:
            reads.append((off, filesz))
    reads = [(o, n) for o, n in reads if o + n > 16384]
    if len(reads) == 2:  # within 16 KiB of each other: one read brings both
        lo, hi = min(o for o, _ in reads), max(o + n for o, n in reads)
        if hi - lo <= 16384:
            reads = [(lo, hi - lo)]
    # a read that ends the file gives the size: then no fstat
    return reads, all(o + n != os.path.getsize(path) for o, n in reads)
def io_floor(path, reads, stat):
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    try:
        os.pread(fd, 16384, 0)
        if stat:
            os.fstat(fd)
        for off, n in reads:
            os.pread(fd, n, off)
    finally:
        os.close(fd)
out = {}
for f in files:
    reads, stat = extra_reads(f)
    _abigate.decide(f, mode, flags); floor(f)          # warm
    best = {}
    for side, fn in (("decide", lambda: _abigate.decide(f, mode, flags)), ("floor", lambda: floor(f)),
                     ("io", lambda: io_floor(f, reads, stat))):
        runs = []
        for _ in range(5):
            t = time.perf_counter()
            for _ in range(%d):
                fn()
            runs.append((time.perf_counter() - t) / %d)
        best[side] = statistics_median = sorted(runs)[2]
    out[f] = best
print(json.dumps(out))
""" % (LOOP, LOOP)



def run_json(cmd, env):
    return testlib.bench_json("bench_app", cmd, env)


def med_ratio(on, off, key):
    per_round = statistics.median(a[key] / b[key] for a, b in zip(on, off))
    return per_round, statistics.median(a[key] for a in on) / statistics.median(b[key] for b in off)


def app(label, python, env_on, env_off, legacy):
    on, off = [], []
    for r in range(ROUNDS):
        sides = ((env_on, on), (env_off, off))
        for e, out in (sides if r % 2 else sides[::-1]):
            out.append(run_json([python, "-c", APP, legacy], e))
    last = on[-1]
    share = statistics.median(x["gate_ns"] / 1e9 / x["wall"] for x in on)
    print("%-12s %d extension modules (%d judged, %d symbol tables read): import wall "
          "%.1f ms on / %.1f ms off, ratio %.3f (ratio of the medians %.3f); process CPU ratio "
          "%.3f (%.3f); the gate's own time %.2f ms = %.2f%% of the import's wall time"
          % ((label, last["extensions"], last["judged"], last["symbols_read"],
              statistics.median(x["wall"] for x in on) * 1e3,
              statistics.median(x["wall"] for x in off) * 1e3) + med_ratio(on, off, "wall")
             + med_ratio(on, off, "cpu")
             + (statistics.median(x["gate_ns"] for x in on) / 1e6, share * 100)))



tap = testlib.BenchTap("bench_app")
rows, by_id = testlib.registry(tap, required=("3.11",))
root, found = testlib.legacy_extensions(tap)
print("bench_app: %d rounds, every process on CPU %d" % (ROUNDS, testlib.pin_to_one_cpu()))
work = testlib.workdir("bench-app")
interp = by_id["3.11"]
hook = testlib.gate_env(tap, interp, os.path.join(work, "userbase"))
app("hook 3.11", interp.python, testlib.with_mode(hook, "strict"), hook, root)
patched = testlib.patched_python(tap, "3.11")
plain = testlib.plain_env()
app("patched 3.11", patched, plain, dict(plain, PYTHONABIGATE="off"), root)

# 2. the warm loop on the real files (as the gate reads them: no record, so
# the symbol table is read) against the I/O floor
files = sorted(f for fs in found.values() for f in fs if ".cpython-311-" in f or f.endswith(".abi3.so"))
res = run_json([interp.python, "-c", WARM] + files, hook)
ratios = sorted(v["decide"] / v["floor"] for v in res.values())
worst = max(res, key=lambda f: res[f]["decide"] / res[f]["floor"])
print("warm loop    %d real record-less files: _abigate.decide / (open + pread 16 KiB + close): "
      "median %.2f, best %.2f, worst %.2f (%s: %.1f us against %.1f us)"
      % (len(files), statistics.median(ratios), ratios[0], ratios[-1], os.path.basename(worst),
         res[worst]["decide"] * 1e6, res[worst]["floor"] * 1e6))
print("warm loop    the I/O alone that a reader of these files cannot skip (that open and pread, "
      "the section headers and dynamic segment when past 16 KiB, in one read within 16 KiB of "
      "each other, and an fstat unless a read ends the file) / the same floor: median "
      "%.2f; _abigate.decide / that I/O: median %.2f"
      % (statistics.median(v["io"] / v["floor"] for v in res.values()),
         statistics.median(v["decide"] / v["io"] for v in res.values())))
