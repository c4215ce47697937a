"""Integration: the ground-truth compatibility matrix, with and without the record.

examples/demo.c is built, with the abigate record, in every configuration
(version-specific against each registered interpreter's headers -- which
includes the free-threaded and debug builds --, the limited API at several
levels, abi3t).  Every file is named plain `demo.so`, in its own directory:
every interpreter finds a bare .so, so the file name protects nobody.

Then, for every (build, interpreter) pair:
  - the truth: a child interpreter, fresh environment, no gate, imports the
    module and exercises it (testlib.DEMO_EXERCISE); the outcome is `works`,
    ImportError, another exception, a signal or a timeout;
  - the verdict: `abigate check --python INTERP --json` (once per
    interpreter, over all builds).
Asserted, per pair: abigate never accepts (or adapts) a pair that does not
work, and never refuses a pair that CPython's documented rules call
compatible (documented_compatible() below) and that works.  Refusing a pair
that happens to work but is outside the documented rules is conservative,
allowed, and shown in the table.

Then every build again with its record removed (objcopy): no documented-
compatible working pair refused; a pair accepted that fails only in one of
the named classes whose file carries no evidence (NO_EVIDENCE), each still
seen, each pair refused when the file has its record.

The table goes to $ABIGATE_BUILDDIR/COMPATIBILITY.md; `make
update-compatibility` runs this test and copies it to docs/COMPATIBILITY.md."""

import concurrent.futures
import datetime
import json
import os
import re
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
REQUIRED = ("3.11", "3.11d", "3.13", "3.13t", "3.13d", "sid-3.14", "sid-3.15", "sid-3.15d")
rows, by_id = testlib.registry(tap, required=REQUIRED)
cli = testlib.env("ABIGATE_CLI", tap)
builddir = testlib.env("ABIGATE_BUILDDIR", tap)
work = testlib.workdir("matrix")
TIMEOUT = 20
JOBS = max(2, os.cpu_count() or 2)

# The interpreters: every registered one that runs Python 3 (pyenv-2.7 is
# not a target of anything built here).
INTERPS = sorted((i for i in rows if i.hexversion >= 0x03060000),
                 key=lambda i: (i.hexversion >> 16, i.free_threaded, i.debug, i.id))


def ver(hexversion):
    return "%d.%d" % (hexversion >> 24, hexversion >> 16 & 0xff)


class Build:
    def __init__(self, name, interp, cflags, kind, floor=None):
        self.name, self.interp, self.cflags, self.kind = name, interp, cflags, kind
        self.floor = floor          # stable ABI: the lowest major.minor, as 0xMMmm0000
        self.dir = os.path.join(work, re.sub(r"[^A-Za-z0-9.]+", "_", name).strip("_"))
        self.path = os.path.join(self.dir, "demo.so")

    @property
    def desc(self):
        return "%s (%s headers%s)" % (self.name, self.interp.id,
                                      ", " + " ".join(self.cflags) if self.cflags else "")


def kind_of(interp):
    return ("free-threaded" if interp.free_threaded else "debug" if interp.debug
            else "version-specific")


BUILDS = [Build("%s %s" % (i.id, kind_of(i)), i, [], "vs") for i in INTERPS]
for level, floor in (("3", 0x03020000), ("0x03080000", 0x03080000),
                     ("0x030b0000", 0x030b0000), ("0x030d0000", 0x030d0000)):
    BUILDS.append(Build("abi3 %s+" % ver(floor), by_id["3.13"],
                        ["-DPy_LIMITED_API=" + level], "abi3", floor))
BUILDS.append(Build("abi3 3.15+", by_id["sid-3.15"], ["-DPy_LIMITED_API=0x030f0000"],
                    "abi3", 0x030f0000))
BUILDS.append(Build("abi3t 3.15+", by_id["sid-3.15"], ["-DPy_TARGET_ABI3T=0x030f0000"],
                    "abi3t", 0x030f0000))
# <abigate/universal.h> serves 3.12 on; examples/demo.c's abi3t build calls
# Py_TYPE, a function from 3.14, so its universal build's floor is 3.14
# (tests/slots/universal.py runs one without it from 3.12).
BUILDS.append(Build("abi3t universal", by_id["sid-3.15"],
                    ["-DPy_TARGET_ABI3T=0x030f0000", "-DDEMO_UNIVERSAL"], "universal", 0x030e0000))


def prerelease(hexversion):
    return hexversion & 0xf0 != 0xf0


def documented_compatible(b, i):
    """CPython's documented rules, written out independently of abigate:
    - version-specific X.Y: the same X.Y (a pre-release only its exact
      version) and the same free-threading; a debug extension needs a debug
      interpreter, a release extension runs on a debug interpreter of the
      same X.Y from 3.8 on (ABI-compatible debug builds, bpo-36465);
    - abi3, floor F: any GIL interpreter whose version is >= F;
    - abi3t (3.15): any 3.15+ interpreter, GIL or free-threaded;
    - universal (<abigate/universal.h>, docs/UNIVERSAL.md): abigate's own
      promise, any interpreter from 3.12 that exports every function the
      module calls (here the build's floor), GIL or free-threaded."""
    iv = i.hexversion >> 16
    if b.kind == "vs":
        h = b.interp
        if h.hexversion >> 16 != iv or h.free_threaded != i.free_threaded:
            return False
        if (prerelease(h.hexversion) or prerelease(i.hexversion)) and h.hexversion != i.hexversion:
            return False
        if h.debug and not i.debug:
            return False
        if i.debug and not h.debug:
            return iv >= 0x0308
        return True
    if b.kind == "abi3":
        return not i.free_threaded and iv >= b.floor >> 16
    if b.kind == "abi3t":
        return iv >= b.floor >> 16
    if b.kind == "universal":  # abigate's promise, not CPython's: docs/UNIVERSAL.md
        return iv >= b.floor >> 16
    raise ValueError(b.kind)


# ------------------------------------------------------------ 1. build
def build(b):
    os.makedirs(b.dir, exist_ok=True)
    return testlib.build_demo(tap, b.interp, b.cflags, b.path)


with concurrent.futures.ThreadPoolExecutor(JOBS) as pool:
    results = list(pool.map(build, BUILDS))
built = []
for b, (p, cmd) in zip(BUILDS, results):
    if tap.ok(p.returncode == 0, "builds: %s" % b.desc, " ".join(cmd) + "\n" + p.stderr):
        built.append(b)
BUILDS = built

# The record-less twin of every build: the same file with its .note.abigate
# section removed by binutils' objcopy, as every extension built today is.
BARE = []
for b in BUILDS:
    t = Build(b.name, b.interp, b.cflags, b.kind, b.floor)
    t.dir, t.path, t.twin = b.dir + "-norecord", os.path.join(b.dir + "-norecord", "demo.so"), b
    os.makedirs(t.dir, exist_ok=True)
    p = testlib.run(["objcopy", "--remove-section=.note.abigate", b.path, t.path])
    if tap.ok(p.returncode == 0, "record removed: %s" % b.name, p.stderr):
        BARE.append(t)

# ------------------------------------------------------------ 2. the truth
# The child prints one line: WORKS, or what went wrong.  Python 3.6 syntax.
CHILD = r"""
import sys
sys.path.insert(0, sys.argv[1])
def first(e):
    return "%s: %s" % (type(e).__name__, (str(e).splitlines() or [""])[0])
try:
    import demo
except ImportError as e:
    print("ImportError\t" + first(e))
    sys.exit(3)
except BaseException as e:
    print("exception\t" + first(e))
    sys.exit(4)
try:
    exec(EXERCISE, {})
except BaseException as e:
    print("exception\t" + first(e))
    sys.exit(4)
print("works\tok")
"""
CHILD_ENV = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}


def truth(b, i):
    """(outcome, detail): outcome is works, ImportError, exception, SIGxxx,
    exit N or timeout."""
    code = "EXERCISE = %r\n%s" % (testlib.DEMO_EXERCISE, CHILD)
    try:
        p = subprocess.run([i.python, "-s", "-c", code, b.dir], cwd=work, env=CHILD_ENV,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return "timeout", "no answer in %d s" % TIMEOUT
    last = (p.stdout.strip().splitlines() or [""])[-1]
    err = [ln for ln in p.stderr.splitlines() if ln.strip()]
    if p.returncode < 0:
        try:
            name = signal.Signals(-p.returncode).name
        except ValueError:
            name = "signal %d" % -p.returncode
        return name, err[0] if err else ""
    if "\t" in last and last.split("\t")[0] in ("works", "ImportError", "exception"):
        outcome, detail = last.split("\t", 1)
        if outcome == "works" and p.returncode == 0:
            return "works", ""
        return outcome, detail
    return "exit %d" % p.returncode, err[-1] if err else last


# ------------------------------------------------------------ 3. the verdicts
def check(i):
    p = testlib.run([cli, "check", "--python", i.python, "--json"] +
                    [b.path for b in BUILDS + BARE])
    try:
        doc = json.loads(p.stdout)
    except ValueError as e:
        return None, "rc %d: %s\n%s%s" % (p.returncode, e, p.stdout, p.stderr)
    return doc, p


with concurrent.futures.ThreadPoolExecutor(JOBS) as pool:
    checks = {i.id: pool.submit(check, i) for i in INTERPS}
    truths = {(b.path, i.id): pool.submit(truth, b, i) for b in BUILDS + BARE for i in INTERPS}
    checks = {k: f.result() for k, f in checks.items()}
    truths = {k: f.result() for k, f in truths.items()}

verdicts = {}
profiles = {}
abigate_version = "?"
for i in INTERPS:
    doc, p = checks[i.id]
    if not tap.ok(doc is not None and p.returncode in (0, 1),
                  "abigate check --python %s --json answers" % i.id,
                  p if doc is None else "rc %d\n%s" % (p.returncode, p.stderr)):
        continue
    abigate_version = doc.get("abigate", abigate_version)
    profiles[i.id] = doc.get("profile", {})
    for f in doc["files"]:
        verdicts[(f["path"], i.id)] = f

# ------------------------------------------------------------ 4. assert
# The classes of pairs whose record-less file carries no evidence of the
# mismatch outside its code and data (docs/COMPATIBILITY.md lists them, with
# why): baking the record closes every one.  A false accept outside them
# fails the test, and so does a class that no pair falls in any more (its
# evidence was found: remove it here and from the docs).
# Closed so far: "3.6 or 3.7 build on a free-threaded interpreter" and
# "limited API 3.12+ on a free-threaded interpreter", whose object layout
# shows in neither's inline reference counting: their static PyModuleDef's
# object header shows it (docs/FORMAT.md, "The native record", 7).
NO_EVIDENCE = {}


def no_evidence_class(b, i):
    """Why a record-less build `b` can be accepted on `i` although it fails
    there: the name of its NO_EVIDENCE class, or None (none is left)."""
    return None


def assert_pairs(builds, label, classify):
    """Per pair of `builds` x interpreters: (verdict, outcome, detail,
    documented, entry), asserted: never a refusal of a documented-compatible
    pair that works, and never an accept of a pair that fails, but where
    classify(build, interp) names a class of files without evidence (those
    go to `classes`)."""
    cells, classes = {}, {}
    for b in builds:
        for i in INTERPS:
            if i.id not in profiles:
                continue
            outcome, detail = truths[(b.path, i.id)]
            f = verdicts.get((b.path, i.id))
            verdict = f["verdict"] if f and "verdict" in f else "error"
            doc_ok = documented_compatible(b, i)
            cells[(b.name, i.id)] = (verdict, outcome, detail, doc_ok, f)
            works = outcome == "works"
            false_accept = verdict in ("accept", "adapt") and not works
            wrong_refuse = verdict not in ("accept", "adapt") and doc_ok and works
            cls = classify(b, i) if false_accept else None
            if cls:
                classes.setdefault(cls, []).append((b.name, i.id, outcome, detail))
            tap.ok(not wrong_refuse and (not false_accept or cls is not None),
                   "%s%s on %s: %s / %s%s" % (label, b.name, i.id, verdict, outcome,
                                              " (%s)" % cls if cls else
                                              " (documented compatible)" if doc_ok else ""),
                   "%s\nverdict: %s\nreal outcome: %s %s\ndocumented compatible: %s"
                   % ("FALSE ACCEPT: abigate lets through a pair that does not work"
                      if false_accept else
                      "WRONG REFUSE: a documented-compatible pair that works is refused",
                      json.dumps(f), outcome, detail, doc_ok))
    return cells, classes


cells, _ = assert_pairs(BUILDS, "", lambda b, i: None)
# ------------------------------------------------------------ 4b. the same files without the record
bare_cells, classes = assert_pairs(BARE, "no record: ", no_evidence_class)
for name in NO_EVIDENCE:
    tap.ok(name in classes, "no-evidence class still seen: %s (%d pairs)" % (
        name, len(classes.get(name, []))))
    closed = [(bn, iid) for bn, iid, _, _ in classes.get(name, [])
              if cells.get((bn, iid), ("accept",))[0] in ("accept", "adapt")]
    tap.ok(not closed, "%s: with the record, every pair is refused" % name, closed)

# ------------------------------------------------------------ 5. the table
MARK = {"accept": "✓", "adapt": "✓"}


def cell(v, outcome):
    return "%s %s / %s" % (MARK.get(v, "✗"), v, outcome)


def table(builds, cells):
    w("| build \\ interpreter | %s |" % " | ".join("`%s`" % i.id for i in INTERPS))
    w("|---|" + "---|" * len(INTERPS))
    for b in builds:
        w("| %s | %s |" % (b.name, " | ".join(
            cell(*cells[(b.name, i.id)][:2]) if (b.name, i.id) in cells else "n/a"
            for i in INTERPS)))
    w("")


def short(path_msg):
    return path_msg.replace(work + "/", "<build>/")


n = len(cells)
acc_works = sum(1 for v, o, _, _, _ in cells.values() if v in MARK and o == "works")
ref_fails = sum(1 for v, o, _, _, _ in cells.values() if v not in MARK and o != "works")
ref_works = sum(1 for v, o, _, _, _ in cells.values() if v not in MARK and o == "works")
false_acc = sum(1 for v, o, _, _, _ in cells.values() if v in MARK and o != "works")
doc_fails = sorted(k for k, (v, o, _, d, _) in cells.items() if d and o != "works")

out = []
w = out.append
w("# abigate compatibility matrix")
w("")
w("<!-- Generated file: do not edit.  Regenerate with `make update-compatibility`. -->")
w("")
w("Generated by `make update-compatibility` (runs `tests/integration/matrix.py`, then copies "
  "its output here) on %s with abigate %s." % (datetime.date.today().isoformat(),
                                              abigate_version))
w("Interpreters (details below): %s." % ", ".join(
    "`%s` %s" % (i.id, i.version) for i in INTERPS))
w("")
w("How to read it: every row is one build of `examples/demo.c` (a type holding a reference, "
  "a method, a module function, and the abigate record), compiled against the headers named "
  "in the row and installed as a plain `demo.so` -- a bare suffix that every interpreter "
  "finds, so the file name protects nobody.  Every column is a real interpreter.  Each cell "
  "gives abigate's verdict (`abigate check --python INTERP`, which reads the file and never "
  "runs it) and then what really happened when that interpreter, without any gate, imported "
  "the module in a fresh process and used it: `works`, `ImportError`, another `exception`, "
  "the signal that killed it (`SIGSEGV`, `SIGABRT`, ...), or `timeout`.  `✓` means abigate "
  "lets the import happen, `✗` that it refuses it with an `ImportError` of its own.  A `✗ "
  "refuse / works` cell is a conservative refusal: the pair happens to work but is outside "
  "CPython's documented compatibility rules.  A `✓` over anything but `works` would be a "
  "false accept; the test fails on any, and on any refusal of a working pair the documented "
  "rules allow.")
w("")
summary = ("**Summary:** %d pairs; %d accepted and work; %d refused and fail; %d refused but "
           "work (conservative); %d false accepts." % (n, acc_works, ref_fails, ref_works,
                                                      false_acc))
w(summary)
w("")
table(BUILDS, cells)
w("## The same files without the record")
w("")
w("Every build above again, with its `.note.abigate` section removed by binutils' `objcopy` "
  "(the same bytes otherwise), as every extension built without `slot.h` is: abigate judges "
  "it on evidence alone (the symbols it imports against those the interpreter exports, the "
  "object layout its inline reference counting shows, its init hook; its name is a bare "
  "`demo.so`, no evidence).")
w("")
bn_ = len(bare_cells)
b_acc_works = sum(1 for v, o, _, _, _ in bare_cells.values() if v in MARK and o == "works")
b_ref_fails = sum(1 for v, o, _, _, _ in bare_cells.values() if v not in MARK and o != "works")
b_ref_works = sum(1 for v, o, _, _, _ in bare_cells.values() if v not in MARK and o == "works")
b_false_acc = sum(1 for v, o, _, _, _ in bare_cells.values() if v in MARK and o != "works")
bare_summary = ("**Summary without the record:** %d pairs; %d accepted and work; %d refused and "
                "fail; %d refused but work (conservative); %d accepted but fail, every one in a "
                "class below whose file carries no evidence." % (
                    bn_, b_acc_works, b_ref_fails, b_ref_works, b_false_acc))
w(bare_summary)
w("")
table(BARE, bare_cells)
w("### Accepted but fails: what no file shows without its record")
w("")
w("Each class, why the file carries no evidence, and its pairs. With the record every one of "
  "these pairs is refused (the table above): baking the record closes them.")
w("")
if not NO_EVIDENCE:
    w("None: every record-less file above carries the evidence of its mismatch. The last two "
      "classes, 3.6 or 3.7 builds and limited-API 3.12+ builds on a free-threaded interpreter, "
      "show it only in their static `PyModuleDef`'s object header (docs/FORMAT.md, \"The "
      "native record\", 7).")
for name, why in NO_EVIDENCE.items():
    pairs = classes.get(name, [])
    w("- **%s** (%d pair%s) -- %s. E.g. %s." % (
        name, len(pairs), "" if len(pairs) == 1 else "s", why,
        "; ".join("%s on %s: %s" % (bn, iid, o) for bn, iid, o, _ in pairs[:3])))
w("")
w("## Legend")
w("")
w("- `✓ accept` -- abigate accepts; `✓ adapt` -- abigate accepts with an adaptation; "
  "`✗ refuse` -- abigate refuses; `✗ error` -- abigate could not read the file.")
w("- After the slash, the real outcome of an ungated import plus a call of each function: "
  "`works`; `ImportError` (message below); `exception` (another exception, or a wrong "
  "result or reference count); `SIGxxx` (killed by that signal); `exit N`; `timeout` "
  "(no answer in %d s)." % TIMEOUT)
w("- Rows: `ID version-specific` / `ID debug` / `ID free-threaded` are built against the "
  "headers of registry interpreter ID with no extra flags; `abi3 X.Y+` with "
  "`-DPy_LIMITED_API` of that level (3.2 is `Py_LIMITED_API=3`) against the 3.13 headers, "
  "3.15 against the 3.15 headers; `abi3t 3.15+` with `-DPy_TARGET_ABI3T=0x030f0000` against "
  "the 3.15 headers (PEP 793 slots-only module, opaque `PyObject`).")
w("- Documented rules used to judge refusals: a version-specific build needs the same "
  "major.minor and the same free-threading; a debug build needs a debug interpreter, a "
  "release build runs on a debug interpreter of the same version from 3.8 on; abi3 with "
  "floor F needs a GIL interpreter of version F or later; abi3t needs 3.15 or later.")
w("")
w("## Builds")
w("")
for b in BUILDS:
    w("- **%s**: `%s` headers (%s)%s" % (b.name, b.interp.id, b.interp.version,
                                        ", `" + " ".join(b.cflags) + "`" if b.cflags else ""))
w("")
w("## Interpreters")
w("")
for i in INTERPS:
    w("- `%s`: CPython %s (%s), `%s`" % (i.id, i.version, ", ".join(sorted(i.flags)), i.python))
w("")
w("## What the failures were")
w("")
fails = {}
for (bn, iid), (v, o, d, _, _) in sorted(cells.items()):
    if o != "works":
        msg = short(d) if d.startswith(o) else ("%s: %s" % (o, short(d))).rstrip(": ")
        fails.setdefault(msg, []).append("%s on %s" % (bn, iid))
for msg, pairs in sorted(fails.items(), key=lambda kv: (-len(kv[1]), kv[0])):
    w("- `%s` -- %d pair%s, e.g. %s" % (msg.replace("`", "'"), len(pairs),
                                        "" if len(pairs) == 1 else "s",
                                        "; ".join(pairs[:3])))
if doc_fails:
    w("")
    w("## Documented compatible, yet failing for real")
    w("")
    for bn, iid in doc_fails:
        v, o, d, _, _ = cells[(bn, iid)]
        w("- %s on %s: %s, `%s` (abigate: %s)" % (bn, iid, o, short(d).replace("`", "'"), v))
refused_working = {}
for b in BUILDS:
    for i in INTERPS:
        c = cells.get((b.name, i.id))
        if c and c[0] not in MARK and c[1] == "works":
            refused_working.setdefault(b.name, []).append((i.id, c[4]))
if refused_working:
    w("")
    w("## Refused, but it works (conservative)")
    w("")
    w("Per build: the interpreters that refuse it although the import happens to work, and "
      "abigate's message for the first of them.")
    w("")
    for bn, pairs in refused_working.items():
        f = pairs[0][1] or {}
        msg = f.get("message") or json.dumps(f.get("error"))
        w("- **%s** on %s -- \"%s\"" % (bn, ", ".join("`%s`" % iid for iid, _ in pairs),
                                        msg.replace("`", "'")))
w("")

target = os.path.join(builddir, "COMPATIBILITY.md")
with open(target, "w") as fh:
    fh.write("\n".join(out))
tap.diag("matrix: %d builds x %d interpreters; written to %s" % (len(BUILDS), len(INTERPS), target))
tap.diag(summary)
tap.diag(bare_summary)
for (bn, iid) in doc_fails:
    tap.diag("documented compatible but fails for real: %s on %s: %s" % (
        bn, iid, " ".join(cells[(bn, iid)][1:3])))
tap.done()
