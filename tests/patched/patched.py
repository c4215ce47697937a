"""Patched interpreters (patches/): the gate built into CPython 3.11.2, 3.13.15
and 3.13.15t by patches/build-python, with no .pth and no abigate package.

Asserted on each patched interpreter:
  - _imp.abigate_status(): built in, strict by default; PYTHONABIGATE and
    -X abigate switch it, -E/-I ignore the variable, -X wins, an unknown value
    warns once and means strict; the unpatched twin has no abigate_status;
  - a mismatched build is refused before dlopen (the constructor in
    tests/gate/marker.c never runs) with ImportError name, path, rule and the
    import gate's message; a compatible build loads and works; warn loads with
    one RuntimeWarning; off loads without looking;
  - a file dlopen() itself rejects (warn mode, a symbol the interpreter lacks)
    reports the real path, never /proc/self/fd;
  - 60 modules imported one after the other (descriptor numbers reused) all
    load, each its own file;
  - no descriptor stays open after accepted, refused and failed imports
    (/proc/self/fd before and after);
  - without WITH_ABIGATE the patched sources compile to the pristine objects.
"""
import filecmp
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
rows, by_id = testlib.registry(tap, required=("3.11", "3.13", "3.13t", "3.13d"))
srcdir = testlib.env("ABIGATE_SRCDIR", tap)
work = testlib.workdir("patched")
marker = os.path.join(srcdir, "tests", "gate", "marker.c")
needs311 = os.path.join(srcdir, "tests", "gate", "needs311.c")
tiny = os.path.join(srcdir, "tests", "gate", "tiny.c")

PATCHED = {pid: testlib.patched_python(tap, pid) for pid in ("3.11", "3.13", "3.13t")}
TWINS = {"3.11": testlib.patched_python(tap, "3.11", unpatched=True),
         "3.13": by_id["3.13"].python, "3.13t": by_id["3.13t"].python}
HEADERS = {"3.11": by_id["3.11"], "3.13": by_id["3.13"], "3.13t": by_id["3.13t"],
           "3.13d": by_id["3.13d"]}
SUFFIX = {"3.11": ".cpython-311-x86_64-linux-gnu.so", "3.13": ".cpython-313-x86_64-linux-gnu.so",
          "3.13t": ".cpython-313t-x86_64-linux-gnu.so"}


def run_py(python, code, *args, env=None, cwd=None, flags=()):
    e = testlib.plain_env()
    e.update(env or {})
    return testlib.run([python] + list(flags) + ["-c", code] + list(args), env=e, cwd=cwd or work)


def build(title, headers, out, cflags=(), source="examples/demo.c"):
    os.makedirs(os.path.dirname(out), exist_ok=True)
    p, cmd = testlib.build_demo(tap, headers, list(cflags), out, source=source)
    if not tap.ok(p.returncode == 0, "builds: %s" % title, " ".join(cmd) + "\n" + p.stderr):
        tap.bail("cannot build %s" % title)
    return out


STATUS = "import _imp, json; print(json.dumps(_imp.abigate_status()))"


def status(python, env=None, flags=()):
    p = run_py(python, STATUS, env=env, flags=flags)
    try:
        return json.loads(p.stdout), p
    except ValueError:
        return None, p


# ------------------------------------------------------------ 1. status and switching
for pid, python in sorted(PATCHED.items()):
    st, p = status(python)
    tap.ok(st is not None and st["built_in"] is True and st["mode"] == "strict" and
           st["source"] == "default" and st["default_mode"] == "strict",
           "%s: _imp.abigate_status(): built in, strict by default" % pid, p.stdout + p.stderr)
    tap.ok(st is not None and st["profile"].startswith(pid[:4]) and
           st["profile"].endswith("t") == pid.endswith("t") and st["exports"],
           "%s: the profile is this interpreter's (%s, exports from %s)"
           % (pid, st and st["profile"], st and st["exports"]), p.stdout + p.stderr)
    cases = [({"PYTHONABIGATE": "warn,trace"}, (), "warn,trace", "PYTHONABIGATE"),
             ({"PYTHONABIGATE": "off"}, (), "off", "PYTHONABIGATE"),
             ({"PYTHONABIGATE": ""}, (), "strict", "default"),
             ({"PYTHONABIGATE": "off"}, ("-E",), "strict", "default"),
             ({"PYTHONABIGATE": "off"}, ("-I",), "strict", "default"),
             ({"PYTHONABIGATE": "off"}, ("-X", "abigate=require"), "require", "-X abigate"),
             ({}, ("-X", "abigate"), "strict", "-X abigate"),
             ({}, ("-I", "-X", "abigate=off"), "off", "-X abigate")]
    for env, flags, mode, source in cases:
        st, p = status(python, env=env, flags=flags)
        tap.ok(st is not None and st["mode"] == mode and st["source"] == source,
               "%s: %s %s -> %s from %s" % (pid, " ".join("%s=%r" % kv for kv in env.items()),
                                            " ".join(flags), mode, source),
               p.stdout + p.stderr)
    st, p = status(python, env={"PYTHONABIGATE": "bogus"})
    tap.ok(st is not None and st["mode"] == "strict" and st["invalid_value"] == "bogus" and
           p.stderr.count("abigate: PYTHONABIGATE=bogus is not a mode") == 1,
           "%s: PYTHONABIGATE=bogus: one warning, then strict" % pid, p.stdout + p.stderr)
    p = run_py(TWINS[pid], "import _imp; print(hasattr(_imp, 'abigate_status'))")
    tap.ok(p.stdout.strip() == "False", "%s: the unpatched twin has no _imp.abigate_status" % pid,
           p.stdout + p.stderr)
    p = run_py(python, "import sys; print('abigate' in sys.modules, '_abigate' in sys.modules)")
    tap.ok(p.stdout.strip() == "False False", "%s: no abigate module is involved" % pid,
           p.stdout + p.stderr)

# ------------------------------------------------------------ 2. refusals and loads
# (runtime, title, build headers, cflags, source, file suffix, expected rule or None)
CASES = [
    ("3.13", "a 3.13t build", "3.13t", [marker], "examples/demo.c", ".so", "ABIGATE_R_FREETHREADED_ON_GIL"),
    ("3.13", "a 3.11 build renamed demo.so", "3.11", [marker], "examples/demo.c", ".so",
     "ABIGATE_R_VERSION"),
    ("3.13t", "a GIL abi3 build", "3.13", [marker, "-DPy_LIMITED_API=0x03080000"],
     "examples/demo.c", ".abi3.so", "ABIGATE_R_GIL_ON_FREETHREADED"),
    ("3.11", "a 3.13 build", "3.13", [marker], "examples/demo.c", ".so", "ABIGATE_R_VERSION"),
    ("3.13", "a Py_DEBUG build", "3.13d", [marker], "examples/demo.c", ".so",
     "ABIGATE_R_DEBUG_SYMBOLS"),
    ("3.11", "a 3.11 build", "3.11", [], "examples/demo.c", SUFFIX["3.11"], None),
    ("3.13", "a 3.13 build", "3.13", [], "examples/demo.c", SUFFIX["3.13"], None),
    ("3.13t", "a 3.13t build", "3.13t", [], "examples/demo.c", SUFFIX["3.13t"], None),
    ("3.13", "an abi3 3.8+ build", "3.13", ["-DPy_LIMITED_API=0x03080000"], "examples/demo.c",
     ".abi3.so", None),
]
for n, (pid, title, headers, cflags, source, suffix, rule) in enumerate(CASES):
    d = os.path.join(work, "case%d" % n)
    path = build(title, HEADERS[headers], os.path.join(d, "demo" + suffix), cflags, source)
    for mode in ("strict", "warn", "off") if rule else ("strict",):
        e = dict(testlib.plain_env(), PYTHONABIGATE=mode)
        p = testlib.run([PATCHED[pid], "-c", testlib.GATE_IMPORT, "demo", testlib.DEMO_USE],
                        cwd=d, env=e)
        try:
            doc = json.loads(p.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            doc = None
        what = "%s on patched %s, %s" % (title, pid, mode)
        if rule and mode == "strict":
            ok = (doc is not None and not doc["loaded"] and doc["type"] == "ImportError" and
                  doc["name"] == "demo" and doc["path"] == path and doc["reason"] == rule and
                  doc["message"].startswith("cannot load 'demo' from %s: built for " % path) and
                  doc["message"].endswith("[%s]" % rule))
            tap.ok(ok, "%s: ImportError [%s], name, path, the gate's message" % (what, rule),
                   "%s\n%s" % (doc, testlib.outcome(p)))
            tap.ok(testlib.GATE_MARKER not in p.stderr, "%s: refused before dlopen" % what,
                   p.stderr)
        elif rule:
            # warn and off let it through to dlopen: the constructor runs, or
            # dlopen (RTLD_NOW) fails on a symbol first; then the mismatched
            # build fails or crashes on its own.
            tap.ok(testlib.GATE_MARKER in p.stderr or "undefined symbol" in p.stdout + p.stderr,
                   "%s: left to dlopen" % what, testlib.outcome(p) + "\n" + p.stdout)
            if mode == "warn":
                tap.ok("RuntimeWarning: abigate: 'demo' from %s" % path in p.stderr and
                       "[%s]" % rule in p.stderr, "%s: one RuntimeWarning naming the rule" % what,
                       p.stderr)
        else:
            tap.ok(doc is not None and doc["loaded"] and doc["use"] == "42",
                   "%s: loads and works" % what, "%s\n%s" % (doc, testlib.outcome(p)))

# A legacy file (no record) that needs _PyUnicode_Ready, named demo.so, on 3.13.
d = os.path.join(work, "legacy")
path = build("needs311.c for 3.11 (no record)", HEADERS["3.11"], os.path.join(d, "needs311.so"),
             source="tests/gate/needs311.c")
e = dict(testlib.plain_env(), PYTHONABIGATE="strict")
p = testlib.run([PATCHED["3.13"], "-c", testlib.GATE_IMPORT, "needs311", ""], cwd=d, env=e)
tap.ok("ABIGATE_R_MISSING_SYMBOLS" in p.stdout and "_PyUnicode_Ready" in p.stdout and
       "cannot load 'needs311' from %s" % path in p.stdout,
       "legacy file needing _PyUnicode_Ready on patched 3.13: refused, the symbol named",
       p.stdout + p.stderr)
# warn: dlopen itself fails; its ImportError names the real file, not /proc/self/fd/N.
e["PYTHONABIGATE"] = "warn"
p = testlib.run([PATCHED["3.13"], "-c", testlib.GATE_IMPORT, "needs311", ""], cwd=d, env=e)
try:
    doc = json.loads(p.stdout.strip().splitlines()[-1])
except (ValueError, IndexError):
    doc = None
tap.ok(doc is not None and not doc["loaded"] and doc["path"] == path and
       "undefined symbol: _PyUnicode_Ready" in doc["message"] and path in doc["message"] and
       "/proc/self/fd" not in doc["message"],
       "warn on patched 3.13: dlopen's own ImportError carries the real path", "%s\n%s" % (doc, p.stderr))

# ------------------------------------------------------------ 3. many loads, no leaks
SEQ = r"""
import importlib.util, os, sys, warnings
d, n = sys.argv[1], int(sys.argv[2])
warnings.simplefilter("ignore")
def fds():
    return sorted(os.listdir("/proc/self/fd"))
def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m
before = fds()
ids = [load("tiny%d" % i, os.path.join(d, "tiny%d.so" % i)).ident() for i in range(n)]
refused = 0
for i in range(5 if sys.argv[3] == "bad" else 0):
    try:
        load("demo", os.path.join(d, "bad.so"))
    except ImportError as e:
        refused += "cannot load" in str(e)
    try:
        load("demo", os.path.join(d, "missing.so"))
    except ImportError:
        pass
after = fds()
print(ids == list(range(n)), refused, before == after, before, after)
"""
for pid in ("3.11", "3.13", "3.13t"):
    d = os.path.join(work, "seq-" + pid)
    os.makedirs(d)
    h = HEADERS[pid]
    built = []
    cc = os.environ.get("CC") or "gcc"
    for i in range(60):
        o = os.path.join(d, "tiny%d.o" % i)
        q = testlib.run([cc, "-c", "-fPIC", "-O1", "-DTINY_ID=%d" % i, "-I" + os.path.join(srcdir, "slots")] +
                        h.system_includes() + [tiny, "-o", o])
        q2 = testlib.run([cc, "-shared", o, "-Wl,--defsym=PyInit_tiny%d=PyInit_tiny" % i,
                          "-o", os.path.join(d, "tiny%d.so" % i)])
        built.append(q.returncode == 0 and q2.returncode == 0)
    tap.ok(all(built), "%s: 60 tiny modules built" % pid)
    other = {"3.11": "3.13", "3.13": "3.13t", "3.13t": "3.13"}[pid]
    build("a mismatched demo for %s" % pid, HEADERS[other], os.path.join(d, "bad.so"))
    for mode in ("strict", "off"):
        p = testlib.run([PATCHED[pid], "-c", SEQ, d, "60", "bad" if mode == "strict" else "-"],
                        env=dict(testlib.plain_env(), PYTHONABIGATE=mode))
        out = p.stdout.split(" ", 3)
        if mode == "strict":
            tap.ok(p.returncode == 0 and out[:3] == ["True", "5", "True"],
                   "patched %s, strict: 60 modules each load their own file; 5 refusals; "
                   "/proc/self/fd the same before and after" % pid, p.stdout + testlib.outcome(p))
        else:
            tap.ok(p.returncode == 0 and out[0] == "True" and out[2] == "True",
                   "patched %s, off: 60 modules load; no descriptor left open" % pid,
                   p.stdout + testlib.outcome(p))

# ------------------------------------------------------------ 3b. the import hook steps aside
# abigate.pth installed (the registry 3.13's _abigate, the same ABI) on the
# patched 3.13: each extension is judged once, by the built-in gate; the
# hook installs no finder and reports the built-in mode.
d = os.path.join(work, "hook-aside")
build("a 3.13 build (hook aside)", HEADERS["3.13"], os.path.join(d, "demo" + SUFFIX["3.13"]))
e = testlib.gate_env(tap, by_id["3.13"], os.path.join(work, "userbase-hook"), "strict,trace")
p = testlib.run([PATCHED["3.13"], "-c", "import sys, demo, abigate; print(abigate.mode()); "
                 "print(abigate._saved_hook is not None or any(type(f).__name__ == 'GateFinder' "
                 "for f in sys.path_importer_cache.values()))"], cwd=d, env=e)
lines = [l for l in p.stderr.splitlines() if l.startswith("abigate: ") and "'demo'" in l]
tap.ok(p.returncode == 0 and len(lines) == 1 and lines[0].startswith("abigate: accept 'demo' ")
       and p.stdout.split() == ["strict,trace", "False"],
       "3.13 with abigate.pth and PYTHONABIGATE=strict,trace: demo judged once (by the built-in "
       "gate), the hook installs nothing and reports the built-in mode",
       p.stdout + p.stderr)

# ------------------------------------------------------------ 4. without --with-abigate
# The patched sources, compiled without WITH_ABIGATE (pyconfig.h without the
# two lines configure adds with the option), give the same objects as the
# pristine sources: byte for byte (the source path mapped away).
for pid in ("3.11", "3.13"):
    build_dir = os.path.dirname(os.path.dirname(os.path.dirname(PATCHED[pid])))
    tree = os.path.join(build_dir, "src")
    version = {"3.11": "3.11.2", "3.13": "3.13.15"}[pid]
    pristine = os.path.join(os.path.dirname(build_dir), "src", "cpython-" + version)
    cfg = os.path.join(work, "unchanged-" + pid)
    os.makedirs(cfg)
    with open(os.path.join(tree, "pyconfig.h")) as f, open(os.path.join(cfg, "pyconfig.h"), "w") as g:
        g.writelines(l for l in f if "ABIGATE" not in l)
    same = []
    for name in ("Python/importdl.c", "Python/import.c"):
        objs = []
        for t in (pristine, tree):
            o = os.path.join(cfg, "%s-%d.o" % (os.path.basename(name), len(objs)))
            q = testlib.run([os.environ.get("CC") or "gcc", "-c", "-O2", "-g0", "-fPIC", "-std=c11",
                             "-DNDEBUG", "-DPy_BUILD_CORE", "-ffile-prefix-map=%s=." % t, "-I" + cfg,
                             "-I" + os.path.join(t, "Include"), "-I" + os.path.join(t, "Include", "internal"),
                             "-I" + os.path.join(t, "Python"), os.path.join(t, name), "-o", o])
            objs.append(o if q.returncode == 0 else None)
        same.append(None not in objs and filecmp.cmp(objs[0], objs[1], shallow=False))
    tap.ok(all(same), "%s: without WITH_ABIGATE, patched importdl.c and import.c compile to the "
           "pristine objects, byte for byte" % pid, same)
    tap.ok("ABIGATE_OBJS=\tPython/abigate.o" in open(os.path.join(tree, "Makefile")).read(),
           "%s: with --with-abigate the Makefile builds Python/abigate.o" % pid)

tap.done()
