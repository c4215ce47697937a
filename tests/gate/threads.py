#!/usr/bin/env python3
"""The gate under free-threading: on 3.13t, 8 threads import the same 50
distinct extension modules at once (each thread in its own order) with
PYTHONABIGATE=strict,trace.  No crash; exactly one trace line per module
(none lost, none duplicated); libabigate's one gate object counted as many
judgements as there are trace lines; every module imported once and working.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

N_MODULES, N_THREADS = 50, 8
tap = testlib.Tap()
rows, by_id = testlib.registry(tap, required=("3.13t",))
srcdir = testlib.env("ABIGATE_SRCDIR", tap)
t = by_id["3.13t"]
work = testlib.workdir("gate-threads")
e = testlib.gate_env(tap, t, os.path.join(work, "userbase"), mode="strict,trace")
mods = os.path.join(work, "mods")
os.makedirs(mods)
cc = os.environ.get("CC") or "gcc"
obj = os.path.join(work, "tiny.o")
p = testlib.run([cc, "-c", "-fPIC", "-O1", "-I" + os.path.join(srcdir, "slots")] + t.system_includes() +
                [os.path.join(srcdir, "tests", "gate", "tiny.c"), "-o", obj])
if p.returncode:
    tap.bail("cannot compile tiny.c: " + p.stderr)
for i in range(N_MODULES):
    p = testlib.run([cc, "-shared", obj, "-Wl,--defsym=PyInit_tiny%d=PyInit_tiny" % i,
                     "-o", os.path.join(mods, "tiny%d%s" % (i, t.ext_suffix))])
    if p.returncode:
        tap.bail("cannot link tiny%d: %s" % (i, p.stderr))

SCRIPT = r"""
import importlib, json, random, sys, threading
n, k = int(sys.argv[1]), int(sys.argv[2])
barrier = threading.Barrier(k)
got = [None] * k
def work(slot):
    order = list(range(n))
    random.Random(slot).shuffle(order)
    barrier.wait()
    got[slot] = {i: id(importlib.import_module("tiny%d" % i)) for i in order}
threads = [threading.Thread(target=work, args=(s,)) for s in range(k)]
for th in threads: th.start()
for th in threads: th.join()
same = all(g == got[0] for g in got)
import _abigate
print(json.dumps({"same": same, "idents": [sys.modules["tiny%d" % i].ident() for i in range(n)],
                  "gil": sys._is_gil_enabled(), "judged": _abigate.stats()[0]}))
"""
p = testlib.run([t.python, "-c", SCRIPT, str(N_MODULES), str(N_THREADS)], cwd=mods, env=e)
tap.ok(p.returncode == 0, "%d threads x %d modules on 3.13t with strict,trace: no crash (%s)"
       % (N_THREADS, N_MODULES, testlib.outcome(p)), p.stderr[-2000:])
try:
    doc = json.loads(p.stdout)
except ValueError:
    doc = None
tap.ok(doc is not None and doc["same"], "every thread got the same module objects: each imported once",
       p.stdout)
tap.ok(doc is not None and doc["idents"] == [0] * N_MODULES and doc["gil"] is False,
       "every module works, and the GIL stayed off", p.stdout)
lines = [l for l in p.stderr.splitlines() if l.startswith("abigate: ") and " 'tiny" in l]
names = sorted(l.split(" ")[2] for l in lines)
tap.eq(names, sorted("'tiny%d'" % i for i in range(N_MODULES)),
       "exactly one trace line per module: none lost, none duplicated")
accepts = [l for l in p.stderr.splitlines() if l.startswith("abigate: accept ")]
tap.ok(doc is not None and doc["judged"] == len(accepts) >= N_MODULES,
       "the one gate object judged each extension once (libabigate counted %s judgements, "
       "%d trace lines)" % (doc and doc["judged"], len(accepts)), p.stderr[-2000:])
tap.ok(all(l.startswith("abigate: accept 'tiny") and l.endswith("interpreter") for l in lines),
       "each line is a whole accept line (no interleaving)",
       "\n".join([l for l in lines if not (l.startswith("abigate: accept 'tiny") and l.endswith("interpreter"))][:10]))
tap.done()
