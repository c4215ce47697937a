"""Conformance: abigate_decide_abiinfo() against the real CPython 3.15
PyABIInfo_Check, through _testcapi.pyabiinfo_check.

Every combination that matters (PyABIInfo major and minor version, all 16
combinations of the four flag bits, build versions and ABI versions around
the runtime's own) is checked by the real 3.15 interpreters of the registry,
in one child process each, and by abigate, through the small driver
tests/conformance/abiinfo_decide ($ABIGATE_ABIINFO_DECIDE), in one process
each.  The verdicts are then compared:

 - CPython accepts: abigate must say ABIGATE_R_NONE, or one of the rules
   where abigate is deliberately stricter (docs/POLICY.md, "Where abigate
   is stricter"; STRICTER below);
 - CPython refuses: abigate must refuse, with the reason that corresponds to
   CPython's message (MESSAGES below).

Anything else is a disagreement and fails the test.

Not covered: the free-threaded side.  No free-threaded 3.15 interpreter
exists here, and running the driver with ABIGATE_PROFILE_FREETHREADED
would only compare abigate with itself -- that is not conformance, so it
is not done (the GIL_ON_FREETHREADED direction is covered by the unit tests
only)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
REQUIRED = ("sid-3.15", "sid-3.15d")
rows, by_id = testlib.registry(tap, required=REQUIRED)
driver = testlib.env("ABIGATE_ABIINFO_DECIDE", tap)
if not os.access(driver, os.X_OK):
    tap.bail("the driver %s is not built: run the tests through 'make check'" % driver)

# PyABIInfo flags (CPython 3.15 Include/modsupport.h == ABIGATE_ABIINFO_*).
STABLE, GIL, FREETHREADED, INTERNAL = 1, 2, 4, 8
FLAG_NAMES = ((STABLE, "STABLE"), (GIL, "GIL"), (FREETHREADED, "FREETHREADED"),
              (INTERNAL, "INTERNAL"))
PROFILE_DEBUG = 2  # ABIGATE_PROFILE_DEBUG (ABIGATE_PROFILE_FREETHREADED, 1: see above)

# CPython's ImportError message (after "modname: ") -> abigate's reason.
MESSAGES = (
    ("PyABIInfo version too high", "ABIGATE_R_ABIINFO_VERSION"),
    ("incompatible internal ABI", "ABIGATE_R_INTERNAL_VERSION"),
    ("incompatible future stable ABI", "ABIGATE_R_STABLE_TOO_NEW"),
    ("invalid stable ABI", "ABIGATE_R_STABLE_INVALID"),
    ("cannot use both internal and stable", "ABIGATE_R_STABLE_INTERNAL"),
    ("incompatible ABI version", "ABIGATE_R_VERSION"),
    ("incompatible with free-threaded", "ABIGATE_R_GIL_ON_FREETHREADED"),
    ("only compatible with free-threaded", "ABIGATE_R_FREETHREADED_ON_GIL"),
)

# The rules where abigate refuses what CPython accepts, as docs/POLICY.md
# ("Where abigate is stricter") lists them.  ABI3T_TOO_OLD (abi3t below
# 3.15) cannot fire on a 3.15 runtime; it is listed so that its appearance
# would still count as documented.
STRICTER = ("ABIGATE_R_PRERELEASE", "ABIGATE_R_ABI3T_TOO_OLD")

# The interpreter side: one child process runs every combination.
CHILD = r"""
import sys, _testcapi
print("hexversion %d" % sys.hexversion)
print("flags %d %d %d %d %d" % (_testcapi.PyABIInfo_STABLE, _testcapi.PyABIInfo_GIL,
      _testcapi.PyABIInfo_FREETHREADED, _testcapi.PyABIInfo_INTERNAL,
      _testcapi.PyABIInfo_FREETHREADING_AGNOSTIC))
out = []
for line in sys.stdin:
    major, minor, flags, build, abi = (int(x, 0) for x in line.split())
    try:
        _testcapi.pyabiinfo_check("m", major, minor, flags, build, abi)
    except ImportError as e:
        out.append("refuse " + str(e).replace("\n", " "))
    except Exception as e:
        out.append("error %s: %s" % (type(e).__name__, str(e).replace("\n", " ")))
    else:
        out.append("ok")
out.append("end")
sys.stdout.write("\n".join(out) + "\n")
"""


def hexv(major, minor, micro=0, level=0xf, serial=0):
    return major << 24 | minor << 16 | micro << 8 | level << 4 | serial


def vtext(v):
    """0x030f00b2 -> 3.15.0b2 (for the diagnostics)."""
    level = {0xa: "a", 0xb: "b", 0xc: "rc", 0xf: ""}.get(v >> 4 & 0xf)
    if v < 0x01000000 or level is None:
        return "%#010x" % v
    serial = v & 0xf if level else ""
    return "%d.%d.%d%s%s (%#010x)" % (v >> 24, v >> 16 & 0xff, v >> 8 & 0xff, level, serial, v)


def flag_text(flags):
    return "|".join(n for bit, n in FLAG_NAMES if flags & bit) or "0"


def combos(rt):
    micro = rt >> 8 & 0xff
    builds = [0, rt, (rt & ~0xff00) | (micro + 1) << 8, hexv(3, 15, 0, 0xa, 1),
              hexv(3, 15, 0, 0xb, 2), hexv(3, 15, 0, 0xc, 1), hexv(3, 14, 0),
              hexv(3, 16, 0, 0xa, 1)]
    abis = [0, 1, 3, 0x0301ffff, 0x03020000, 0x03080000, 0x030e0000, rt, rt & 0xffff0000,
            rt | 0xffff, rt - 1, 0x03100000, 0x04000000, rt + 1]
    for major in (0, 1, 2):
        for minor in (0, 1, 9):
            for flags in range(16):
                for build in builds:
                    for abi in abis:
                        yield (major, minor, flags, build, abi)


def reason_for(message):
    hits = [reason for text, reason in MESSAGES if text in message]
    return hits[0] if len(hits) == 1 else None


total = agreed_total = stricter_total = 0
stricter_reasons = {}
all_disagreements = []
for rid in REQUIRED:
    interp = by_id[rid]
    rt = interp.hexversion
    if not tap.ok(rt >> 16 == 0x030f, "%s: the registry says it is a 3.15 runtime (%s)"
                  % (rid, vtext(rt)), interp.version):
        continue
    cases = list(combos(rt))
    stdin = "".join("%d %d %d %#x %#x\n" % c for c in cases)

    # CPython's verdicts.
    p = testlib.run([interp.python, "-c", CHILD], input=stdin)
    lines = p.stdout.splitlines()
    head_ok = (p.returncode == 0 and len(lines) == len(cases) + 3 and lines[-1] == "end"
               and lines[0] == "hexversion %d" % rt and lines[1] == "flags 1 2 4 8 6")
    if not tap.ok(head_ok, "%s: _testcapi.pyabiinfo_check ran all %d combinations in one "
                  "process of %s" % (rid, len(cases), interp.python),
                  "exit %s, %d lines, head %r\n%s" % (p.returncode, len(lines), lines[:2],
                                                       p.stderr[-2000:])):
        continue
    cpython = lines[2:-1]

    # abigate's verdicts.
    pflags = PROFILE_DEBUG if interp.debug else 0
    d = testlib.run([driver, "%#x" % rt, str(pflags)], input=stdin)
    ours = d.stdout.splitlines()
    if not tap.ok(d.returncode == 0 and len(ours) == len(cases) and
                  all(r.startswith("ABIGATE_R_") and r != "ABIGATE_R_UNKNOWN" for r in ours),
                  "%s: abigate_decide_abiinfo decided all %d combinations in one process"
                  % (rid, len(cases)),
                  "exit %s, %d lines\n%s" % (d.returncode, len(ours), d.stderr[-2000:])):
        continue

    per_flags = {f: [0, 0, 0, []] for f in range(16)}  # agree, stricter, cases, disagreements
    unknown_messages = set()
    cpython_verdicts = {}  # "ok" or the reason CPython's message maps to -> count
    for case, cp, ag in zip(cases, cpython, ours):
        major, minor, flags, build, abi = case
        slot = per_flags[flags]
        slot[2] += 1
        problem = None
        verdict = cp if cp == "ok" else reason_for(cp[len("refuse m: "):])
        cpython_verdicts[verdict] = cpython_verdicts.get(verdict, 0) + 1
        if cp == "ok":
            if ag == "ABIGATE_R_NONE":
                slot[0] += 1
            elif ag in STRICTER:
                slot[1] += 1
                stricter_reasons.setdefault(ag, []).append((rid, case))
            else:
                problem = "CPython accepts, abigate refuses with %s" % ag
        elif cp.startswith("refuse "):
            message = cp[len("refuse "):]
            if message.startswith("m: "):
                message = message[3:]
            want = reason_for(message)
            if want is None:
                unknown_messages.add(message)
                problem = "CPython's message %r maps to no reason; abigate says %s" % (message, ag)
            elif ag == want:
                slot[0] += 1
            elif ag == "ABIGATE_R_NONE":
                problem = "CPython refuses (%s), abigate accepts" % message
            else:
                problem = "CPython refuses (%s = %s), abigate refuses with %s" % (
                    message, want, ag)
        else:
            problem = "the child failed: %s" % cp
        if problem:
            text = "%s: major %d minor %d flags %s build %s abi %s: %s" % (
                rid, major, minor, flag_text(flags), vtext(build), vtext(abi), problem)
            slot[3].append(text)
            all_disagreements.append(text)

    for flags in range(16):
        agree, stricter, n, bad = per_flags[flags]
        total += n
        agreed_total += agree
        stricter_total += stricter
        diag = None
        if bad:
            diag = "%d disagreement(s); the first ones:\n%s" % (len(bad), "\n".join(bad[:8]))
        tap.ok(not bad and agree + stricter == n,
               "%s: flags %#x (%s): %d combinations, %d agree, %d documented-stricter"
               % (rid, flags, flag_text(flags), n, agree, stricter), diag)
    # The comparison is only as good as its coverage: CPython must have both
    # accepted and given every refusal a GIL runtime can give (all but
    # "incompatible with free-threaded", which needs a free-threaded one).
    kinds = {"ok"} | {r for _, r in MESSAGES if r != "ABIGATE_R_GIL_ON_FREETHREADED"}
    tap.ok(kinds <= set(cpython_verdicts),
           "%s: CPython's verdicts cover acceptance and every GIL-runtime refusal (%s)"
           % (rid, ", ".join("%s %d" % (k.replace("ABIGATE_R_", ""), v)
                             for k, v in sorted(cpython_verdicts.items(), key=str))),
           "never seen: %s" % sorted(kinds - set(cpython_verdicts)))
    if unknown_messages:
        tap.diag("%s: CPython messages with no mapping: %s" % (rid, sorted(unknown_messages)))

# It cannot pass vacuously: both runtimes, every combination.
FLOOR = 2 * 3 * 3 * 16 * 8 * 14
tap.ok(total >= FLOOR and agreed_total + stricter_total == total and not all_disagreements,
       "%d combinations compared (floor %d): %d agree, %d documented-stricter, %d disagree"
       % (total, FLOOR, agreed_total, stricter_total, len(all_disagreements)),
       "\n".join(all_disagreements[:20]))

# The stricter rules do show up (PRERELEASE: alpha/beta builds of 3.15 on
# 3.15.2), and each one that shows up is a documented one.
examples = []
for reason, hits in sorted(stricter_reasons.items()):
    for rid, (major, minor, flags, build, abi) in hits[:2]:
        examples.append("%s on %s: major %d minor %d flags %s build %s abi %s" % (
            reason, rid, major, minor, flag_text(flags), vtext(build), vtext(abi)))
tap.diag("documented-stricter cases by reason: %s" % ", ".join(
    "%s %d" % (r, len(h)) for r, h in sorted(stricter_reasons.items())))
for line in examples:
    tap.diag("  e.g. " + line)
tap.ok(stricter_total > 0 and "ABIGATE_R_PRERELEASE" in stricter_reasons,
       "the documented stricter rules are exercised (%d cases)" % stricter_total)
tap.ok(set(stricter_reasons) <= set(STRICTER),
       "every stricter case is a documented rule (%s)" % ", ".join(sorted(stricter_reasons)),
       sorted(set(stricter_reasons) - set(STRICTER)))

# The list above must be the one docs/POLICY.md gives.
srcdir = testlib.env("ABIGATE_SRCDIR", tap)
policy = os.path.join(srcdir, "docs", "POLICY.md")
if os.path.exists(policy):
    with open(policy) as f:
        text = f.read()
    missing = [r for r in sorted(stricter_reasons) if r not in text and
               r[len("ABIGATE_"):] not in text]
    tap.ok(not missing, "docs/POLICY.md names every stricter rule seen (%s)"
           % ", ".join(sorted(stricter_reasons)), "not named: %s" % missing)
else:
    print("ok %d - docs/POLICY.md names every stricter rule seen # SKIP docs/POLICY.md "
          "is not written yet" % (tap.n + 1))
    tap.n += 1
tap.done()
