#!/usr/bin/env python3
"""bench/bench_vendored.py -- the same-file load on a wheel whose libraries
are vendored through $ORIGIN (make bench-vendored).

Debian's numpy repaired as auditwheel repairs a manylinux wheel
(testlib.repaired_numpy: BLAS, LAPACK, gfortran, quadmath in numpy.libs,
RUNPATH $ORIGIN/../../numpy.libs), and Debian's own numpy (no $ORIGIN, the
system's libraries), each imported (numpy, numpy.linalg, numpy.fft,
numpy.random) by the patched 3.11: its default mode (strict) against
PYTHONABIGATE=off, alternated round by round, every process on one CPU.
Timed inside the process (perf_counter around the imports).  Reports, for
each tree, the median wall time on and off and their ratio (the repaired
tree's ratio includes the search stand-in of every module that mentions
$ORIGIN), and the gate's own judgement time (_imp.abigate_status()) as a
share of the import's wall time.  Speed is measured here, never asserted.
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import testlib  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "21"))

APP = r"""
import json, sys, time, _imp
sys.path.insert(0, sys.argv[1])
t = time.perf_counter()
import numpy, numpy.linalg, numpy.fft, numpy.random
wall = time.perf_counter() - t
assert round(float(numpy.linalg.det(numpy.array([[2.0, 1.0], [1.0, 3.0]]))), 9) == 5.0
s = _imp.abigate_status()
vendored = sum("numpy.libs" in l for l in open("/proc/self/maps"))
print(json.dumps({"wall": wall, "gate_ns": s["nanoseconds"], "judged": s["judged"],
                  "vendored_maps": vendored}))
"""


def run_json(cmd, env):
    return testlib.bench_json("bench_vendored", cmd, env)


def main():
    tap = testlib.BenchTap("bench_vendored")
    testlib.registry(tap, required=("3.11",))
    cpu = testlib.pin_to_one_cpu()
    work = testlib.workdir("bench-vendored")
    repaired = os.path.join(work, "repaired")
    exts, renamed = testlib.repaired_numpy(tap, repaired)
    root, _ = testlib.legacy_extensions(tap)
    debian = [d for d in (os.path.join(root, x, "usr", "lib", "python3", "dist-packages")
                          for x in sorted(os.listdir(root)) if x.startswith("python3-numpy_"))]
    python = testlib.patched_python(tap, "3.11")
    on = testlib.plain_env()
    off = dict(on, PYTHONABIGATE="off")
    print("bench_vendored: patched 3.11, numpy (4 modules imported, %d extension modules in the "
          "tree), %d rounds, CPU %d" % (len(exts), ROUNDS, cpu))
    print("  repaired: %s in numpy.libs" % ", ".join(sorted(renamed.values())))
    for label, tree in (("repaired ($ORIGIN, stand-in)", repaired), ("Debian's (no $ORIGIN)", debian[0])):
        res = {"on": [], "off": []}
        for r in range(ROUNDS):
            sides = (("on", on), ("off", off))
            for side, e in (sides if r % 2 else sides[::-1]):
                res[side].append(run_json([python, "-c", APP, tree], e))
        w_on = statistics.median(x["wall"] for x in res["on"])
        w_off = statistics.median(x["wall"] for x in res["off"])
        per_round = statistics.median(a["wall"] / b["wall"] for a, b in zip(res["on"], res["off"]))
        share = statistics.median(x["gate_ns"] / 1e9 / x["wall"] for x in res["on"])
        print("  %-30s on %.2f ms, off %.2f ms: on/off %.3f (per round %.3f); judged %d files, "
              "the gate's own time %.2f%% of the import; numpy.libs mappings %d"
              % (label, w_on * 1e3, w_off * 1e3, w_on / w_off, per_round, res["on"][0]["judged"],
                 share * 100, res["on"][0]["vendored_maps"]))


if __name__ == "__main__":
    main()
