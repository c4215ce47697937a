#!/usr/bin/env python3
"""Out of memory: the abigate program, with each allocation made to fail.

The CLI's code also runs inside a user's Python process (python -m
abigate), so it may never exit() or crash on a failed allocation, and
neither may libabigate.  failmalloc.c, preloaded into the program, makes
allocation N fail (N = 0, 1, 2, ... up to the number the command makes,
counted first), then every allocation from N on, for `scan` (RECORD,
*.egg-info, a wheel, plain files, -j 2), `check` (files and a wheel) and
`inspect --json --symbols`.  Asserted for every N: the program ends (no
signal, no hang) with exit status 0, 1 or 2; with the status of the run
without a failure it prints exactly what that run printed (a failure
absorbed silently would be a wrong answer); with another, it is the
status of an error (2; inspect: 1) and says why (stderr, or the JSON's
error code).
"""
import difflib
import os
import sys
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
rows, by_id = testlib.registry(tap, required=("3.11", "3.13"))
cli = testlib.env("ABIGATE_CLI", tap)
srcdir = testlib.env("ABIGATE_SRCDIR", tap)
libtool = os.path.join(testlib.env("ABIGATE_BUILDDIR", tap), "libtool")
work = testlib.workdir("nomem")

shim = os.path.join(work, "failmalloc.so")
p = testlib.run([os.environ.get("CC") or "gcc", "-shared", "-fPIC", "-O1", "-Wall", "-Werror",
                 os.path.join(srcdir, "tests", "nomem", "failmalloc.c"), "-o", shim])
if not tap.ok(p.returncode == 0, "build the allocation-failure shim", p.stderr):
    tap.bail("no shim")

# A small tree of what scan groups: a RECORD, an *.egg-info, a wheel, plain files.
site = os.path.join(work, "site")
good, bad = os.path.join(work, "good.so"), os.path.join(work, "bad.so")
for interp, path in ((by_id["3.11"], good), (by_id["3.13"], bad)):
    p, cmd = testlib.build_demo(tap, interp, [], path)
    if p.returncode:
        tap.bail("cannot build demo.so: %s" % p.stderr)
with open(good, "rb") as f:
    GOOD = f.read()
with open(bad, "rb") as f:
    BAD = f.read()
testlib.write_tree(site, {
    "x/m.cpython-311-x86_64-linux-gnu.so": GOOD, "y/n.cpython-311-x86_64-linux-gnu.so": BAD,
    "z.cpython-311-x86_64-linux-gnu.so": GOOD,
    "x-1.0.dist-info/RECORD": "x/m.cpython-311-x86_64-linux-gnu.so,,\nx-1.0.dist-info/RECORD,,\n",
    "y-2.0.egg-info/PKG-INFO": "Metadata-Version: 1.1\nName: y\nVersion: 2.0\n",
    "y-2.0.egg-info/top_level.txt": "y\n"})
wheel = os.path.join(site, "w-1.0-cp311-cp311-linux_x86_64.whl")
with zipfile.ZipFile(wheel, "w", compression=zipfile.ZIP_DEFLATED) as z:
    z.writestr("w/a.cpython-311-x86_64-linux-gnu.so", GOOD)
    z.writestr("w/b.cpython-311-x86_64-linux-gnu.so", BAD)
    z.writestr("w-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nTag: cp311-cp311-linux_x86_64\n")

COMMANDS = [
    ["scan", "--json", "-j", "2", "--target", "3.11", site],
    ["check", "--target", "3.11", os.path.join(site, "x", "m.cpython-311-x86_64-linux-gnu.so"),
     os.path.join(site, "y", "n.cpython-311-x86_64-linux-gnu.so"), wheel],
    ["inspect", "--json", "--symbols", good, wheel],
]


def run(args, **fail):
    """The program under the shim (libtool runs the real binary)."""
    e = dict(os.environ, LD_PRELOAD=shim)
    e.update(fail)
    return testlib.run([libtool, "--mode=execute", cli] + args, env=e, timeout=120)


MAX_RUNS = 400  # per command and kind; a command making more allocations is sampled evenly
for args in COMMANDS:
    name = args[0]
    countfile = os.path.join(work, "count")
    base = run(args, ABIGATE_FAIL_COUNT=countfile)
    with open(countfile) as f:
        total = int(f.read())
    tap.ok(base.returncode in (0, 1) and total > 10,
           "%s: runs under the shim, %d allocations, exit %d" % (name, total, base.returncode),
           base.stderr[-800:])
    points = list(range(total)) if total <= MAX_RUNS else \
        sorted({i * total // MAX_RUNS for i in range(MAX_RUNS)} | set(range(50)))
    for kind in ("ABIGATE_FAIL_AT", "ABIGATE_FAIL_FROM"):
        bad_runs = []
        said = 0
        for n in points:
            fail = {"ABIGATE_FAIL_AT": str(n)}
            if kind == "ABIGATE_FAIL_FROM":
                fail["ABIGATE_FAIL_FROM"] = "1"
            try:
                p = run(args, **fail)
            except Exception as ex:  # a hang: the timeout
                bad_runs.append((n, "no end: %s" % ex))
                continue
            if p.returncode < 0 or p.returncode not in (0, 1, 2):
                bad_runs.append((n, "exit %d: %s" % (p.returncode, p.stderr[-300:])))
            elif p.returncode == base.returncode and p.stdout != base.stdout:
                bad_runs.append((n, "exit %d as without a failure, other output:\n%s" % (
                    p.returncode, "".join(difflib.unified_diff(base.stdout.splitlines(True),
                                                               p.stdout.splitlines(True), n=0))[:600])))
            elif p.returncode != base.returncode and not (p.stderr.strip() or "ABIGATE_E_" in p.stdout):
                bad_runs.append((n, "exit %d without a word" % p.returncode))
            elif p.returncode != base.returncode and p.returncode < (1 if name == "inspect" else 2):
                bad_runs.append((n, "exit %d: a failure must not look like a verdict" % p.returncode))
            elif "memory" in p.stderr or "ABIGATE_E_NOMEM" in p.stdout:
                said += 1
        tap.ok(not bad_runs,
               "%s, %s: %d runs (allocation 0 to %d failing%s): each ends, with the output of the run "
               "without a failure or an error's status and its reason (%d said 'memory')"
               % (name, kind, len(points), total - 1, " and every one after it" if kind == "ABIGATE_FAIL_FROM"
                  else ", one at a time", said),
               "\n".join("allocation %d: %s" % b for b in bad_runs[:10]))
tap.done()
