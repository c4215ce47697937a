"""The ground-truth matrix with the patched interpreters as runtimes.

examples/demo.c is built (with the record) version-specific against every
registered 3.11-3.15 interpreter's headers, and as abi3 (3.2, 3.8, 3.11,
3.13, 3.15 floors) and abi3t (3.15).  Each file is a bare demo.so in its own
directory.  For every build and every patched runtime (3.11, 3.13, 3.13t,
with no .pth and no abigate package):
  - the truth: the unpatched twin (same source, no gate) imports and
    exercises it: works, or not;
  - the built-in gate: the patched interpreter imports and exercises it;
  - the verdict: `abigate check --python PATCHED --json`.
Asserted per pair: a pair that does not work on the twin is refused by the
built-in gate with ImportError (the gate's message, the rule of the CLI's
verdict); a pair the verdict accepts loads and works on the patched
interpreter; the outcome on the patched interpreter is the CLI's verdict.
"""
import concurrent.futures
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
rows, by_id = testlib.registry(tap, required=("3.11", "3.11d", "3.13", "3.13t", "3.13d",
                                              "sid-3.14", "sid-3.15"))
cli = testlib.env("ABIGATE_CLI", tap)
work = testlib.workdir("patched-matrix")

RUNTIMES = [("3.11", testlib.patched_python(tap, "3.11"), testlib.patched_python(tap, "3.11", unpatched=True)),
            ("3.13", testlib.patched_python(tap, "3.13"), by_id["3.13"].python),
            ("3.13t", testlib.patched_python(tap, "3.13t"), by_id["3.13t"].python)]

BUILDS = [(i.id, i, []) for i in rows if 0x030b0000 <= i.hexversion < 0x03100000]
for level in ("3", "0x03080000", "0x030b0000", "0x030d0000"):
    BUILDS.append(("abi3 " + level, by_id["3.13"], ["-DPy_LIMITED_API=" + level]))
BUILDS.append(("abi3 0x030f0000", by_id["sid-3.15"], ["-DPy_LIMITED_API=0x030f0000"]))
BUILDS.append(("abi3t 0x030f0000", by_id["sid-3.15"], ["-DPy_TARGET_ABI3T=0x030f0000"]))

CHILD = r"""
import sys
sys.path.insert(0, sys.argv[1])
try:
    exec(sys.argv[2], {})
except ImportError as e:
    print("ImportError\t%s\t%s" % (getattr(e, "abigate_reason", ""), str(e).replace("\n", " ")))
    sys.exit(3)
except BaseException as e:
    print("exception\t\t%s: %s" % (type(e).__name__, str(e).replace("\n", " ")))
    sys.exit(4)
print("works\t-\t-")
"""
EXERCISE = "\n".join(l for l in testlib.DEMO_EXERCISE.splitlines() if "abiinfo" not in l)


def attempt(python, d):
    """(outcome, reason, message): works, ImportError, exception, or how it died."""
    try:
        p = testlib.run([python, "-c", CHILD, d, EXERCISE], env=testlib.plain_env(), cwd=work,
                        timeout=30)
    except Exception as e:  # timeout
        return "timeout", "", str(e)
    line = (p.stdout.strip().splitlines() or [""])[-1].split("\t")
    if p.returncode < 0:
        return "signal %d" % -p.returncode, "", ""
    if len(line) == 3 and line[0] in ("works", "ImportError", "exception"):
        return tuple(line)
    return "exit %d" % p.returncode, "", p.stderr[-300:]


dirs = {}
for name, interp, cflags in BUILDS:
    d = os.path.join(work, re.sub(r"[^A-Za-z0-9.]+", "_", name))
    os.makedirs(d)
    p, cmd = testlib.build_demo(tap, interp, cflags, os.path.join(d, "demo.so"))
    if tap.ok(p.returncode == 0, "builds: %s" % name, " ".join(cmd) + "\n" + p.stderr):
        dirs[name] = d

verdicts = {}
for rid, patched, twin in RUNTIMES:
    p = testlib.run([cli, "check", "--python", patched, "--json"] +
                    [os.path.join(d, "demo.so") for d in dirs.values()])
    try:
        for f in json.loads(p.stdout)["files"]:
            verdicts[(f["path"], rid)] = f
    except (ValueError, KeyError):
        tap.ok(False, "abigate check --python patched %s answers" % rid, p.stdout + p.stderr)

with concurrent.futures.ThreadPoolExecutor(2) as pool:
    jobs = {(name, rid): (pool.submit(attempt, twin, d), pool.submit(attempt, patched, d))
            for name, d in dirs.items() for rid, patched, twin in RUNTIMES}
    results = {k: (a.result(), b.result()) for k, (a, b) in jobs.items()}

refused = accepted = 0
for (name, rid), (truth, gated) in sorted(results.items()):
    path = os.path.join(dirs[name], "demo.so")
    f = verdicts.get((path, rid), {})
    verdict, rule = f.get("verdict"), f.get("reason")
    what = "%s on patched %s: twin %s, patched %s, verdict %s" % (name, rid, truth[0], gated[0], verdict)
    diag = "twin: %s\npatched: %s\nverdict: %s" % (truth, gated, json.dumps(f))
    if truth[0] != "works":
        ok = (gated[0] == "ImportError" and gated[1] == rule and
              gated[2].startswith("cannot load 'demo' from %s: " % path))
        tap.ok(ok, what + ": refused by the built-in gate [%s]" % rule, diag)
        refused += ok
    elif verdict == "accept":
        ok = gated[0] == "works"
        tap.ok(ok, what + ": loads and works", diag)
        accepted += ok
    else:
        tap.ok(gated[0] == "ImportError" and gated[1] == rule,
               what + ": refused as the verdict says (conservative) [%s]" % rule, diag)
tap.diag("%d mismatched pairs refused by the built-in gate, %d accepted pairs work" % (refused, accepted))
tap.done()
