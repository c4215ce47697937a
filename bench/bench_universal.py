#!/usr/bin/env python3
"""bench/bench_universal.py -- what <abigate/universal.h> costs at import (make bench-universal).

The universal slotsonly module (examples/slotsonly.c -DSLOTSONLY_UNIVERSAL,
built once against the 3.15 headers) is imported, with no gate, on 3.13
and 3.14 (its PyInit_ building the PyModuleDef) and on 3.15 (natively,
through PyModExport_), and compared on 3.13 with an equivalent classic
module: examples/demo.c built for 3.13 (PyInit_, multi-phase, a heap type
and module state).  Each round is a fresh interpreter timing only the
import (time.perf_counter around it); sides alternated round by round,
every process on one CPU.  Target: the universal import on 3.13 within 5%
of the classic one.  Speed is measured here, never asserted by a test.
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import testlib  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "41"))
tap = testlib.BenchTap("bench_universal")
rows, by_id = testlib.registry(tap, required=("3.13", "sid-3.14", "sid-3.15"))
ud = testlib.workdir("bench-universal")
p, cmd = testlib.build_demo(tap, by_id["sid-3.15"], ["-O2", "-DPy_TARGET_ABI3T=0x030f0000", "-DSLOTSONLY_UNIVERSAL"],
                            os.path.join(ud, "slotsonly.so"), source="examples/slotsonly.c")
tap.ok(p.returncode == 0, "build the universal module", " ".join(cmd) + p.stderr)
cd = testlib.workdir("bench-universal")
p, cmd = testlib.build_demo(tap, by_id["3.13"], ["-O2"], os.path.join(cd, "demo.so"))
tap.ok(p.returncode == 0, "build the classic module", " ".join(cmd) + p.stderr)
TIMED = ("import sys, time\nt = time.perf_counter()\nimport %s\n"
         "sys.stdout.write('%%.1f' %% ((time.perf_counter() - t) * 1e6))\n")
SIDES = [("3.13 universal (PyInit_ from the 3.15 slots)", "3.13", ud, "slotsonly"),
         ("3.13 classic PyInit_ module (examples/demo.c)", "3.13", cd, "demo"),
         ("3.14 universal", "sid-3.14", ud, "slotsonly"),
         ("3.15 the same file, natively (PyModExport_)", "sid-3.15", ud, "slotsonly")]
e = {k: v for k, v in os.environ.items() if k != "PYTHONABIGATE"}
print("bench_universal: %d rounds, every process on CPU %d" % (ROUNDS, testlib.pin_to_one_cpu()))
times = [[] for _ in SIDES]
for r in range(ROUNDS):
    for i in [(r + k) % len(SIDES) for k in range(len(SIDES))]:
        _, rid, d, mod = SIDES[i]
        p = testlib.run([by_id[rid].python, "-S", "-c", TIMED % mod], cwd=d, env=e)
        tap.ok(p.returncode == 0, "import %s on %s" % (mod, rid), p.stderr)
        times[i].append(float(p.stdout))
med = [statistics.median(t) for t in times]
for (desc, _, _, _), m in zip(SIDES, med):
    print("  %-50s %8.1f us" % (desc, m))
ratios = [a / b for a, b in zip(times[0], times[1])]
print("  3.13 universal / classic: %.3f (median of per-round ratios; ratio of the medians %.3f)"
      % (statistics.median(ratios), med[0] / med[1]))
