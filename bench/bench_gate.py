#!/usr/bin/env python3
"""bench/bench_gate.py -- what the import gate costs (make bench-gate).

1. Import of 200 small extension modules (tests/gate/tiny.c, each with an
   abigate record), and on 3.11 of 200 real record-less ones (copies of
   Debian's _yaml, lxml's etree and builder, numpy's _mt19937, _common,
   _pocketfft_internal and _simd, each from a directory of its own), gate on
   (PYTHONABIGATE=strict) against gate off
   (variable unset, gate installed), alternated round by round in one run,
   on 3.11 and 3.13t.  Each round is a fresh interpreter that times only
   the 200 imports (time.perf_counter around them).  A third side of each
   round measures the floor: no gate, but a finder that opens each
   extension, reads its first 16 KiB and closes it (in Python), which is
   the I/O the gate cannot do without.
2. Interpreter start-up (`python -c pass`) with abigate.pth installed and
   the variable unset, against the same user site without abigate.pth (the
   abigate package still installed there, so that the only difference is
   the .pth), alternated, wall time of the whole process.

Every process runs on one CPU (the last one this process may use), so
that the two sides of a round do not differ by a migration.  Reports
medians and the on/off ratio: the median of the per-round ratios (each
round runs both sides back to back), with the ratio of the medians
beside it (targets: imports <= 1.10, start-up <= 1.02).  With --pip (make
bench-pip): start-up of a venv with the gate pip-installed (pyproject.toml)
and the variable unset against a venv without it (target <= 1.02).  With --patched
(make bench-patched): the same 200 imports on the interpreters
patches/build-python builds, the built-in gate
in its default mode (strict) against PYTHONABIGATE=off (target <= 1.03),
and bench/bench_dlopen.c's floor: what loading through the descriptor
costs by itself.  Speed is measured here, never asserted by a test.
Needs the registry and a build (scripts/test or scripts/demo); runs as
`make bench-gate` or with ABIGATE_* set like make check.
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import testlib  # noqa: E402

N_MODULES = 200
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "21"))
STARTUP_RUNS = 20  # python -c pass per round and side

IMPORTS = r"""
import sys, time
if sys.argv[2:] == ["floor"]:
    # The floor: a FileFinder that, for each extension it finds, only opens
    # the file, reads its first 16 KiB and closes it, as the gate does before
    # it parses and judges anything.
    import os
    from importlib.machinery import ExtensionFileLoader, FileFinder
    from importlib._bootstrap_external import _get_supported_file_loaders

    class FloorFinder(FileFinder):
        def find_spec(self, fullname, target=None):
            spec = FileFinder.find_spec(self, fullname, target)
            if spec is not None and type(spec.loader) is ExtensionFileLoader:
                fd = os.open(spec.origin, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
                try:
                    os.pread(fd, 16384, 0)
                finally:
                    os.close(fd)
            return spec

    sys.path_hooks[:] = [FloorFinder.path_hook(*_get_supported_file_loaders())
                         if getattr(h, "__name__", "") == "path_hook_for_FileFinder" else h
                         for h in sys.path_hooks]
    sys.path_importer_cache.clear()
import json
plan = json.load(open(sys.argv[1]))  # {"path": [...], "setup": [...], "imports": [[dir, name]...]}
sys.path[len(sys.path):] = plan["path"]
for name in plan["setup"]:
    __import__(name)
t = time.perf_counter()
for d, name in plan["imports"]:
    if d:  # a real module under its own name, from a directory of its own
        sys.path.insert(0, d)
        __import__(name)
        del sys.path[0], sys.modules[name]
    else:
        __import__(name)
t = time.perf_counter() - t
assert all(sys.modules[name].ident() == 0 for d, name in plan["imports"] if not d)
print(t)
"""




def ratio(on, off):
    """(median of the per-round on/off ratios, ratio of the medians)."""
    return (statistics.median(a / b for a, b in zip(on, off)),
            statistics.median(on) / statistics.median(off))


def build_modules(interp, d):
    srcdir = testlib.env("ABIGATE_SRCDIR", tap)
    cc = os.environ.get("CC") or "gcc"
    obj = os.path.join(d, "tiny.o")
    subprocess.check_call([cc, "-c", "-fPIC", "-O2", "-I" + os.path.join(srcdir, "slots")] +
                          interp.system_includes() + [os.path.join(srcdir, "tests", "gate", "tiny.c"),
                                                      "-o", obj])
    mods = os.path.join(d, "mods")
    os.makedirs(mods)
    for i in range(N_MODULES):
        subprocess.check_call([cc, "-shared", obj, "-Wl,--defsym=PyInit_tiny%d=PyInit_tiny" % i,
                               "-o", os.path.join(mods, "tiny%d%s" % (i, interp.ext_suffix))])
    return write_plan(mods, [], [], [(None, "tiny%d" % i) for i in range(N_MODULES)])


def write_plan(mods, path, setup, imports):
    with open(os.path.join(mods, "plan.json"), "w") as f:
        json.dump({"path": path, "setup": setup, "imports": imports}, f)
    return mods


# Real extension modules without a record (Debian's 3.11 builds, from the
# trees tests/legacy/fetch unpacks) that import on their own, again and again
# from copies: 200 imports of them in turn, each copy in its own directory.
REAL = ("_yaml", "etree", "builder", "_mt19937", "_common", "_pocketfft_internal", "_simd")


def real_modules(interp, d):
    root, found = testlib.legacy_extensions(tap)
    by_name = {}
    for files in found.values():
        for f in files:
            base = os.path.basename(f)
            if base.endswith(interp.ext_suffix) and "/python3/dist-packages/" in f:
                by_name.setdefault(base[:-len(interp.ext_suffix)], f)
    mods = os.path.join(d, "real")
    imports = []
    for i in range(N_MODULES):
        name = REAL[i % len(REAL)]
        sub = os.path.join(mods, "d%d" % i)
        os.makedirs(sub)
        shutil.copy(by_name[name], sub)
        imports.append((sub, name))
    path = sorted(os.path.join(root, x, "usr", "lib", "python3", "dist-packages")
                  for x in os.listdir(root) if os.path.isdir(os.path.join(root, x, "usr")))
    return write_plan(mods, path, ["numpy", "yaml"], imports)


def imports(interp, work, patched=None, real=False):
    """The 200 imports, alternated between environments: the import gate
    installed with PYTHONABIGATE=strict against unset, and the floor (gate
    unset, a finder that only opens, reads and closes each extension; see
    IMPORTS); or, with `patched` (an interpreter built by
    patches/build-python for `interp`'s version), its built-in gate in the
    default mode against PYTHONABIGATE=off."""
    mods = real_modules(interp, work) if real else build_modules(interp, work)
    kind = "real record-less" if real else "small record-bearing"
    if patched:
        python, label = patched, "patched " + interp.id
        on, off = testlib.plain_env(), testlib.with_mode(testlib.plain_env(), "off")
        names = ("built-in gate off", "on (strict)")
        sides = [(off, []), (on, [])]
    else:
        python, label = interp.python, interp.id
        gate = testlib.gate_env(tap, interp, os.path.join(work, "userbase"))
        on, off = testlib.with_mode(gate, "strict"), testlib.with_mode(gate, None)
        names = ("gate off", "strict")
        sides = [(off, []), (on, []), (off, ["floor"])]
    times = [[] for _ in sides]
    for r in range(ROUNDS):
        for k in (range(len(sides)) if r % 2 else reversed(range(len(sides)))):
            e, extra = sides[k]
            p = testlib.run([python, "-c", IMPORTS, os.path.join(mods, "plan.json")] + extra,
                            cwd=mods, env=e)
            if p.returncode:
                sys.exit("bench_gate: %s failed: %s" % (label, p.stderr))
            times[k].append(float(p.stdout))
    t_off, t_on = times[0], times[1]
    m_on, m_off = statistics.median(t_on), statistics.median(t_off)
    print("%-14s import of %d %s extensions: %s %.2f ms, %s %.2f ms (%.1f / %.1f us per "
          "module), ratio %.3f (ratio of the medians %.3f)"
          % ((label, N_MODULES, kind, names[0], m_off * 1e3, names[1], m_on * 1e3,
              m_off / N_MODULES * 1e6, m_on / N_MODULES * 1e6) + ratio(t_on, t_off)))
    if len(times) > 2:
        m_floor = statistics.median(times[2])
        print("%-14s the floor, a finder that only opens, reads 16 KiB and closes each extension: "
              "%.2f ms (+%.1f us per module), ratio %.3f (ratio of the medians %.3f)"
              % ((label, m_floor * 1e3, (m_floor - m_off) / N_MODULES * 1e6)
                 + ratio(times[2], t_off)))
        print("%-14s the gate against its own I/O floor: ratio %.3f (ratio of the medians %.3f)"
              % ((label,) + ratio(t_on, times[2])))
    return mods, m_off / N_MODULES * 1e6, ratio(t_on, t_off)[0]


def descriptor_floor(label, python, mods, off_us, on_off=None):
    """bench_dlopen (bench/bench_dlopen.c) on the same 200 files, in C:
    dlopen(path) against the built-in gate's open + dlopen(/proc/self/fd/N)
    + close with nothing read, and with abigate_read_fd + abigate_decide
    added; alternated, a fresh process per mode and round.  The descriptor
    load alone, added to the import of one module with the gate off, is the
    lowest ratio the built-in gate can reach on this machine."""
    tool = testlib.env("ABIGATE_BENCH_DLOPEN", tap)
    libpython = testlib.run([python, "-c", "import sysconfig, os; print(os.path.join("
                             "sysconfig.get_config_var('LIBDIR'), "
                             "sysconfig.get_config_var('INSTSONAME')))"]).stdout.strip()
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(mods) for f in fs if f.endswith(".so"))
    times = {"path": [], "fd": [], "gate": [], "api": []}
    order = list(times)
    for r in range(ROUNDS):
        for mode in (order if r % 2 else order[::-1]):
            p = testlib.run([tool, mode, libpython] + files)
            if p.returncode:
                sys.exit("bench_gate: bench_dlopen %s failed: %s" % (mode, p.stderr))
            times[mode].append(float(p.stdout))
    m = {k: statistics.median(v) for k, v in times.items()}
    print("%-14s in C, per load: dlopen(path) %.1f us; open + dlopen(/proc/self/fd/N) + close "
          "%.1f us (+%.1f); with read + decide %.1f us (+%.1f); abigate_gate_dlopen %.1f us "
          "(ratio to dlopen(path) %.3f, to the descriptor floor %.3f). The descriptor alone on a "
          "%.1f us import: ratio %.3f" % (label, m["path"], m["fd"], m["fd"] - m["path"], m["gate"],
                                          m["gate"] - m["path"], m["api"], m["api"] / m["path"],
                                          m["api"] / m["fd"], off_us,
                                          (off_us + m["fd"] - m["path"]) / off_us))
    if on_off:
        floor = (off_us + m["fd"] - m["path"]) / off_us
        print("%-14s the built-in gate against its own I/O floor (the descriptor load): "
              "%.3f / %.3f = %.3f" % (label, on_off, floor, on_off / floor))


def compare_startup(label, sides):
    """`python -c pass`, wall time of the whole process, the sides
    (description, python, environment) in turns, round by round, the order
    rotating; each later side's ratio to the first."""
    times = [[] for _ in sides]
    for r in range(ROUNDS):
        for i in [(r + k) % len(sides) for k in range(len(sides))]:
            _, python, e = sides[i]
            t = time.perf_counter()
            for _ in range(STARTUP_RUNS):
                subprocess.run([python, "-c", "pass"], env=e, check=True)
            times[i].append((time.perf_counter() - t) / STARTUP_RUNS)
    print("%-6s start-up (python -c pass): %s %.2f ms" % (label, sides[0][0], statistics.median(times[0]) * 1e3))
    for (desc, _, _), t in zip(sides[1:], times[1:]):
        print("%-6s   %s %.2f ms, ratio %.3f (ratio of the medians %.3f)"
              % ((label, desc, statistics.median(t) * 1e3) + ratio(t, times[0])))


def startup(interp, work):
    with_pth = testlib.gate_env(tap, interp, os.path.join(work, "userbase-pth"))
    without = testlib.gate_env(tap, interp, os.path.join(work, "userbase-no-pth"))
    site = testlib.run([interp.python, "-c", "import site, sys; "
                        "sys.stdout.write(site.getusersitepackages())"], env=without).stdout
    os.unlink(os.path.join(site, "abigate.pth"))
    compare_startup(interp.id, [("without abigate.pth", interp.python, without),
                                ("abigate.pth installed and unset", interp.python, with_pth)])


def startup_pip(interp, work, src):
    """Fresh venvs with the same build tools, the gate pip-installed into
    one (tests/pip's way), the variable unset; a second venv without the
    gate, identical to the first, shows what the measurement cannot tell
    apart."""
    gated, e, p, _ = testlib.pip_install_gate(tap, interp, os.path.join(work, "venv-gate"), src)
    tap.ok(p.returncode == 0, "pip install of the gate into a %s venv" % interp.id, p.stdout + p.stderr)
    bare = testlib.make_venv(tap, interp, os.path.join(work, "venv-bare"), e)
    twin = testlib.make_venv(tap, interp, os.path.join(work, "venv-bare-twin"), e)
    compare_startup(interp.id, [("venv without the gate", bare.python, e),
                                ("venv with the gate pip-installed, unset", gated.python, e),
                                ("control: a second venv without the gate", twin.python, e)])
    # Instructions (valgrind's callgrind; deterministic where wall time is
    # not): the gate against no gate, and the floor of any .pth-based
    # switch: the twin with one .pth file holding `import sys`.
    with open(os.path.join(twin.site_packages(), "floor.pth"), "w") as f:
        f.write("import sys\n")
    n_bare, n_gate, n_floor = (instructions(v.python, e) for v in (bare, gated, twin))
    print("%-6s   instructions: without the gate %d, with it %d (ratio %.4f); a .pth holding "
          "`import sys` %d (ratio %.4f)" % (interp.id, n_bare, n_gate, n_gate / n_bare, n_floor,
                                            n_floor / n_bare))


def instructions(python, e):
    """Instructions `python -c pass` executes, counted by callgrind."""
    p = testlib.run([os.environ.get("VALGRIND") or "valgrind", "--tool=callgrind",
                     "--callgrind-out-file=/dev/null", python, "-c", "pass"], env=e)
    m = re.search(r"Collected : (\d+)", p.stderr)
    tap.ok(m is not None, "callgrind counts %s -c pass" % python, p.stderr[-2000:])
    return int(m.group(1))


tap = testlib.BenchTap("bench_gate")
rows, by_id = testlib.registry(tap, required=("3.11", "3.13", "3.13t"))
print("bench_gate: %d rounds, every process on CPU %d" % (ROUNDS, testlib.pin_to_one_cpu()))
if "--pip" in sys.argv[1:]:
    # make bench-pip: start-up with the pip-installed gate present, target <= 1.02
    src = testlib.pip_source(tap, os.path.join(testlib.workdir("bench-pip"), "abigate"))
    for rid in ("3.11", "3.13t"):
        startup_pip(by_id[rid], testlib.workdir("bench-pip"), src)
elif "--patched" in sys.argv[1:]:
    # make bench-patched: the gate built into CPython (patches/), target <= 1.03
    for rid in ("3.11", "3.13", "3.13t"):
        python = testlib.patched_python(tap, rid)
        mods, off_us, on_off = imports(by_id[rid], testlib.workdir("bench-patched"), python)
        descriptor_floor("patched " + rid, python, mods, off_us, on_off)
    # Debian's real record-less extensions exist for 3.11 only
    python = testlib.patched_python(tap, "3.11")
    mods, off_us, on_off = imports(by_id["3.11"], testlib.workdir("bench-patched"), python,
                                   real=True)
    descriptor_floor("patched 3.11", python, mods, off_us, on_off)
else:
    for rid in ("3.11", "3.13t"):
        imports(by_id[rid], testlib.workdir("bench-gate"))
    imports(by_id["3.11"], testlib.workdir("bench-gate"), real=True)
    for rid in ("3.11", "3.13t"):
        startup(by_id[rid], testlib.workdir("bench-gate"))
