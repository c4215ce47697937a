"""Same-file guarantee of the patched interpreter (patches/ 0003).

A swapper process renames two files in turn onto slot/tiny.so, as fast as it
can: a compatible 3.13 build (accepted) and a 3.13t build (refused on 3.13)
whose constructor (tests/gate/marker.c) prints a marker when it is
dlopen()ed.  Meanwhile patched 3.13 imports `tiny` ROUNDS times (and on, up
to 50 times as many, until both files were met: on a loaded machine the
swapper may get no CPU for a while), each time
through a new path (a new symlink to slot/, so that CPython's caches never
answer for it).  The gate judges the descriptor it opened and dlopen()s that
descriptor, so whatever is renamed in between, a refused file is never
loaded: the marker never appears.  Asserted too: both outcomes happened (the
race was real), and /proc/self/fd is the same before and after.

The race is run twice: with the classic files, and with files laid out as
auditwheel repairs wheels (both NEED a vendored libv-HASH.so.1 found through
RUNPATH $ORIGIN/../libs, the layout the same-file load's search stand-in
serves): the stand-in's extra load never lets a refused file in, and the
vendored library is found for the accepted one.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
rows, by_id = testlib.registry(tap, required=("3.13", "3.13t"))
srcdir = testlib.env("ABIGATE_SRCDIR", tap)
work = testlib.workdir("race")
ROUNDS = 400
python = testlib.patched_python(tap, "3.13")
marker = os.path.join(srcdir, "tests", "gate", "marker.c")
tiny = os.path.join(srcdir, "tests", "gate", "tiny.c")
cc = os.environ.get("CC") or "gcc"



def build_layout(name, vendored):
    """good.so, bad.so and slot/tiny.so (a link to good.so) under work/NAME;
    with `vendored`, both NEED libs/libv-HASH.so.1 through RUNPATH
    $ORIGIN/../libs.  Returns (good, bad, target, the vendored library or None)."""
    top = os.path.join(work, name)
    os.makedirs(top)
    link, lib = [], None
    if vendored:
        libs = os.path.join(top, "libs")
        os.makedirs(libs)
        lib = os.path.join(libs, "libv-5e1f00d2.so.1")
        c = os.path.join(top, "libv.c")
        with open(c, "w") as f:
            f.write("int libv_value(void) { return 7; }\n")
        p = testlib.run([cc, "-shared", "-fPIC", "-o", lib, c, "-Wl,-soname,libv-5e1f00d2.so.1"])
        if p.returncode:
            tap.bail("cannot build %s: %s" % (lib, p.stderr))
        link = ["-Wl,--no-as-needed", "-L" + libs, "-l:libv-5e1f00d2.so.1",
                "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../libs"]
    good, bad = os.path.join(top, "good.so"), os.path.join(top, "bad.so")
    for out, interp, extra in ((good, by_id["3.13"], []), (bad, by_id["3.13t"], [marker])):
        p = testlib.run([cc, "-shared", "-fPIC", "-O1", "-I" + os.path.join(srcdir, "slots")] +
                        interp.system_includes() + [tiny] + extra + ["-o", out] + link)
        if not tap.ok(p.returncode == 0, "%s: builds %s (%s headers)" % (name, os.path.basename(out), interp.id),
                      p.stderr):
            tap.bail("cannot build the race files")
    slot = os.path.join(top, "slot")
    os.makedirs(slot)
    target = os.path.join(slot, "tiny.so")
    os.link(good, target)
    return good, bad, target, lib


SWAPPER = r"""
import os, sys
good, bad, target = sys.argv[1:4]
tmp = target + ".tmp"
sys.stdout.write("ready\n"); sys.stdout.flush()
n = 0
while True:
    src = bad if n & 1 else good
    if os.path.lexists(tmp):  # left by a swapper killed between link and rename
        os.unlink(tmp)
    os.link(src, tmp)
    os.rename(tmp, target)
    if os.path.lexists(tmp):  # rename() onto another link of the same inode does nothing
        os.unlink(tmp)
    n += 1
"""

IMPORTER = r"""
import importlib.util, os, sys
work, rounds = sys.argv[1], int(sys.argv[2])
before = sorted(os.listdir("/proc/self/fd"))
accepted = refused = other = 0
# ROUNDS imports at least, and on (up to 50 times as many) until both files
# were met: on a loaded machine the swapper may get no CPU for a while
for i in range(rounds * 50):
    if i >= rounds and accepted and refused:
        break
    link = os.path.join(work, "via%d" % i)
    os.symlink("slot", link)
    spec = importlib.util.spec_from_file_location("tiny", os.path.join(link, "tiny.so"))
    try:
        m = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(m)
        assert m.ident() == 0
        accepted += 1
    except ImportError as e:
        if "cannot load 'tiny'" in str(e) and "ABIGATE_R_FREETHREADED_ON_GIL" in str(e):
            refused += 1
        else:
            other += 1
            sys.stderr.write("unexpected: %s\n" % e)
after = sorted(os.listdir("/proc/self/fd"))
vendored = any("/libv-" in line for line in open("/proc/self/maps"))
print(accepted, refused, other, before == after, vendored)
"""

def race(layout, attempt):
    """ROUNDS racing imports; (CompletedProcess, [accepted, refused, other, fd-same, vendored])."""
    good, bad, target, _ = layout
    d = os.path.join(os.path.dirname(os.path.dirname(target)), "attempt%d" % attempt)
    os.makedirs(d)
    os.symlink(os.path.dirname(target), os.path.join(d, "slot"))
    sw = subprocess.Popen([sys.executable, "-c", SWAPPER, good, bad, target],
                          stdout=subprocess.PIPE, universal_newlines=True)
    try:
        sw.stdout.readline()
        p = testlib.run([python, "-c", IMPORTER, d, str(ROUNDS)],
                        env=dict(testlib.plain_env(), PYTHONABIGATE="strict"))
    finally:
        sw.kill()
        sw.wait()
    return p, p.stdout.split()


for name, vendored in (("classic", False), ("vendored through $ORIGIN", True)):
    layout = build_layout("vendored" if vendored else "classic", vendored)
    # On a loaded machine (make -j2) the swapper may not get a CPU while one
    # batch of imports runs: batches are repeated, up to 5, until both files
    # have been seen; every batch is checked the same way.
    stderr = ""  # of every batch: a refused file loaded in any of them shows here
    for attempt in range(5):
        p, fields = race(layout, attempt)
        stderr += p.stderr
        if len(fields) != 5 or p.returncode != 0 or (int(fields[0]) > 0 and int(fields[1]) > 0):
            break
        if fields[2] != "0" or fields[3] != "True":
            break  # reported below, as it is
        tap.diag("%s: batch %d saw one file only (accepted %s, refused %s): again"
                 % (name, attempt, fields[0], fields[1]))
    tap.ok(p.returncode == 0 and len(fields) == 5, "%s: patched 3.13 survives %d racing imports" % (name, ROUNDS),
           testlib.outcome(p) + "\n" + p.stdout)
    tap.ok(testlib.GATE_MARKER not in stderr,
           "%s: a refused file is never loaded (no constructor of the 3.13t build ran)" % name, stderr[-2000:])
    if len(fields) == 5:
        accepted, refused, other = int(fields[0]), int(fields[1]), int(fields[2])
        tap.diag("%s: accepted %d, refused %d, other %d in %d imports (at least %d)"
                 % (name, accepted, refused, other, accepted + refused + other, ROUNDS))
        tap.ok(accepted > 0 and refused > 0,
               "%s: the race was real: both files were judged (%d accepted, %d refused)" % (name, accepted, refused))
        tap.ok(other == 0, "%s: every import either loaded the good file or was refused by the gate" % name,
               p.stderr[-2000:])
        tap.ok(fields[3] == "True", "%s: /proc/self/fd is the same before and after" % name)
        tap.eq(fields[4], str(vendored), "%s: the vendored library is mapped exactly when it is used" % name)
tap.done()
