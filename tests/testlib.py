"""testlib -- shared helpers of abigate's script tests (TAP output, the
interpreter registry, running the CLI).  Tests print TAP on stdout; make
check reads it through Automake's TAP driver.

Registry: the TSV file that tests/interpreters/provision writes (path in
$ABIGATE_REGISTRY).  A test names the interpreters it requires; a missing
one stops the test with "Bail out!", which make check reports as an ERROR.
Nothing is skipped silently."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, desc, diag=None):
        self.n += 1
        if not cond:
            self.failed += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n, desc))
        if not cond and diag:
            for line in str(diag).splitlines()[:40]:
                print("# " + line)
        sys.stdout.flush()
        return cond

    def eq(self, got, want, desc):
        return self.ok(got == want, desc, "got:  %r\nwant: %r" % (got, want))

    def skip(self, desc, why):
        """A case that cannot run here, said so (TAP's SKIP: counted and
        shown by the driver, never silent)."""
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, desc, why))
        sys.stdout.flush()

    def diag(self, msg):
        for line in str(msg).splitlines():
            print("# " + line)

    def bail(self, msg):
        print("Bail out! " + msg)
        sys.stdout.flush()
        sys.exit(99)

    def done(self):
        print("1..%d" % self.n)
        sys.exit(1 if self.failed else 0)


def env(name, tap):
    value = os.environ.get(name)
    if not value:
        tap.bail("%s is not set: run the tests through 'make check'" % name)
    return value


class Interpreter:
    def __init__(self, row):
        (self.id, self.python, self.version, hexversion, includes, self.ext_suffix,
         flags, self.soabi) = row
        self.hexversion = int(hexversion, 16)
        self.includes = includes.split()
        self.flags = set(flags.split(","))
        self.debug = "debug" in self.flags
        self.free_threaded = "ft" in self.flags
        self.minor = self.hexversion >> 16 & 0xff

    def system_includes(self):
        """The include flags, as the interpreter's own build configuration
        gives them (-I: Debian's debug headers are symlinks whose pyconfig.h
        is found correctly only through -I)."""
        return list(self.includes)

    def __repr__(self):
        return "<%s %s>" % (self.id, self.version)


ASK_ROW = r"""
import sys, sysconfig
g = sysconfig.get_config_var
inc = sysconfig.get_paths()
flags = [f for f, on in (("debug", hasattr(sys, "gettotalrefcount")), ("ft", g("Py_GIL_DISABLED"))) if on]
print("\t".join(["system", sys.executable, "%d.%d.%d" % sys.version_info[:3], "%#x" % sys.hexversion,
                 " ".join(sorted({"-I" + inc["include"], "-I" + inc["platinclude"]})),
                 g("EXT_SUFFIX"), ",".join(flags), g("SOABI")]))
"""


def system_interpreter(tap, python):
    """The interpreter `python` (the distribution's own, not the registry's)
    as an Interpreter, from what it says of itself; its headers must be
    installed.  Bails out, naming the package, when they are not."""
    p = run([python, "-S", "-c", ASK_ROW])
    if p.returncode:
        tap.bail("cannot run %s: %s" % (python, p.stderr.strip()))
    interp = Interpreter(p.stdout.rstrip("\n").split("\t"))
    h = interp.includes[0][2:]
    if not os.path.isfile(os.path.join(h, "Python.h")):
        tap.bail("REQUIRED: no Python.h in %s for %s (install python3-dev, and python3.%d-dbg "
                 "for its debug headers)" % (h, python, interp.minor))
    return interp


def registry(tap, required=()):
    path = env("ABIGATE_REGISTRY", tap)
    if not os.path.exists(path):
        tap.bail("interpreter registry %s is missing: run tests/interpreters/provision "
                 "(scripts/test does)" % path)
    rows = []
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 8:
                tap.bail("malformed registry line in %s: %r" % (path, line))
            rows.append(Interpreter(fields))
    by_id = {r.id: r for r in rows}
    for rid in required:
        if rid not in by_id:
            tap.bail("REQUIRED interpreter %s is not in %s: run tests/interpreters/provision"
                     % (rid, path))
    return rows, by_id


def run(cmd, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    kw.setdefault("universal_newlines", True)
    return subprocess.run(cmd, **kw)


def cli_json(tap, command, args):
    """Run `abigate COMMAND --json ARGS...`; returns (exit status, document or None)."""
    p = run([env("ABIGATE_CLI", tap), command, "--json"] + list(args))
    try:
        return p.returncode, json.loads(p.stdout)
    except ValueError as e:
        tap.ok(False, "abigate %s --json prints JSON" % command,
               "%s\n%s\n%s" % (e, p.stdout, p.stderr))
        return p.returncode, None


def inspect_json(tap, *files, symbols=False):
    return cli_json(tap, "inspect", (["--symbols"] if symbols else []) + list(files))


_swept = set()


def workdir(name):
    """A fresh directory under the build tree's tests/work/NAME, named after
    this process.  The first call for NAME in a process removes what earlier
    runs left there (directories of processes no longer alive), so that the
    work area holds one run's files, however many runs there were; a test
    running at the same time under the same NAME (tests/pip/classic.py runs
    tests/gate/classic.py) keeps its own."""
    base = os.path.join(os.environ.get("ABIGATE_BUILDDIR", "."), "tests", "work", name)
    os.makedirs(base, exist_ok=True)
    if name not in _swept:
        _swept.add(name)
        for entry in os.listdir(base):
            pid = entry.split("-", 1)[0]
            if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                shutil.rmtree(os.path.join(base, entry), ignore_errors=True)
            elif not pid.isdigit():   # left by the older naming
                shutil.rmtree(os.path.join(base, entry), ignore_errors=True)
    return tempfile.mkdtemp(dir=base, prefix="%d-" % os.getpid())


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_tree(root, files):
    """Write `files` ({relative path: str or bytes}) under `root`, making
    the directories; returns root."""
    for rel, data in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
    return root


# ------------------------------------------------------------ the demo extension
# What a test does with an imported examples/demo.c module: a Box holds one
# reference and releases it, get() returns it, add() adds.  Runs on every
# Python 3 the tests use (3.6 up); prints the Py_mod_abi PyABIInfo (hex) on
# 3.15+, "-" elsewhere.
DEMO_EXERCISE = r"""
import sys, demo
o = object()
before = sys.getrefcount(o)
box = demo.Box(o)
assert sys.getrefcount(o) == before + 1, "Box holds one reference"
assert box.get() is o
del box
assert sys.getrefcount(o) == before, "dealloc released it"
assert demo.add(40, 2) == 42
print(demo.abiinfo().hex() if hasattr(demo, "abiinfo") else "-")
"""


def build_demo(tap, interp, cflags, out, source="examples/demo.c"):
    """Compile `source` (relative to the source tree; examples/demo.c by
    default), with the abigate record, against the headers of registry entry
    `interp` (its own include flags: Debian's debug and sid's headers need
    exactly those) plus `cflags`, into `out`.  Returns (CompletedProcess,
    the command line)."""
    srcdir = env("ABIGATE_SRCDIR", tap)
    cmd = [os.environ.get("CC") or "gcc", "-shared", "-fPIC", "-O1", "-Wall", "-Werror"] + \
        list(cflags) + ["-I" + os.path.join(srcdir, "slots")] + interp.system_includes() + \
        [os.path.join(srcdir, source), "-o", out]
    return run(cmd), cmd


LEGACY_PACKAGES = ("python3-yaml", "python3-numpy", "python3-cryptography", "python3-lxml")


def legacy_extensions(tap):
    """(root, {package: [extension paths]}) of the Debian packages that
    tests/legacy/fetch unpacked; bails out when one is missing."""
    cache = os.environ.get("ABIGATE_CACHE", "/var/cache/abigate")
    root = os.path.join(cache, "legacy")
    found = {}
    for pkg in LEGACY_PACKAGES:
        dirs = [d for d in os.listdir(root) if d.startswith(pkg + "_")] if os.path.isdir(root) else []
        if not dirs:
            tap.bail("%s is not unpacked under %s: run tests/legacy/fetch (scripts/test does)"
                     % (pkg, root))
        for dirpath, _, files in os.walk(os.path.join(root, sorted(dirs)[-1])):
            for f in sorted(files):
                path = os.path.join(dirpath, f)
                if f.endswith(".so") and not os.path.islink(path):
                    found.setdefault(pkg, []).append(path)
    return root, found


def nm_py_imports(path):
    """{name: weak} of the undefined Py*/_Py* dynamic symbols, by binutils."""
    out = run(["nm", "-D", "--undefined-only", path]).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and re.match(r"_?Py", parts[-1]):
            syms[parts[-1].split("@")[0]] = parts[-2] in ("w", "v")
    return syms


def nm_py_exports(path):
    """The defined Py*/_Py* dynamic symbols of an interpreter file, by binutils."""
    out = run(["nm", "-D", "--defined-only", path]).stdout
    return {line.split()[-1].split("@")[0] for line in out.splitlines()
            if re.match(r"_?Py", line.split()[-1] if line.split() else "")}


def check_json(tap, files, python=None, target=None, mode=None):
    """Run abigate check --json; returns (exit status, document or None)."""
    opts = []
    for name, value in (("--python", python), ("--target", target), ("--mode", mode)):
        if value:
            opts += [name, value]
    return cli_json(tap, "check", opts + ["--"] + list(files))


# ------------------------------------------------------------ Windows and macOS files, built here

def sid_thirdparty(tap):
    """The tree into which tests/interpreters/provision unpacked Debian sid's
    third-party packages (extension modules built for 3.14 and 3.15, and the
    pyo3-ffi and libc crates' sources): its usr/ is under the path returned."""
    root = os.path.join(os.environ.get("ABIGATE_CACHE", "/var/cache/abigate"), "sid",
                        "thirdparty")
    if not os.path.exists(os.path.join(root, ".complete")):
        tap.bail("sid's third-party packages are not in %s: run tests/interpreters/provision"
                 % root)
    return os.path.join(root, "root")


def cpython_source(tap):
    """The CPython source tree that tests/interpreters/provision unpacked
    (its Misc/stable_abi.toml is in the cache's stable_abi.toml.path)."""
    marker = os.path.join(os.environ.get("ABIGATE_CACHE", "/var/cache/abigate"),
                          "stable_abi.toml.path")
    if not os.path.exists(marker):
        tap.bail("no CPython source in the cache (%s): run tests/interpreters/provision" % marker)
    return os.path.dirname(os.path.dirname(open(marker).read().strip()))


def mingw_module(tap, d, arch, defines, dll, name, source=None, extra=(), headers=None):
    """tests/platforms/ext.c (or `source`, plus `extra` sources) built by
    MinGW-w64's GCC for `arch` (x86_64, i686) against CPython's own headers
    with its Windows configuration (PC/pyconfig.h), linked with an import
    library that dlltool makes from a definition file of what the object
    imports from `dll` (python313, python313t, python3, ...): the path of
    d/`name`, or None (said).  `headers`: another version's Include
    directory (sid's 3.15), with the same Windows configuration."""
    for tool in ("gcc", "nm", "dlltool"):
        if not shutil.which("%s-w64-mingw32-%s" % (arch, tool)):
            tap.bail("%s-w64-mingw32-%s missing: scripts/common.sh installs gcc-mingw-w64" % (arch, tool))
    cpython = cpython_source(tap)
    srcdir = env("ABIGATE_SRCDIR", tap)
    os.makedirs(d)
    include = os.path.join(cpython, "Include")
    if headers:  # its own pyconfig.h is for Linux: the others beside the Windows one
        include = os.path.join(d, "include")
        os.makedirs(include)
        for f in os.listdir(headers):
            if f != "pyconfig.h":
                os.symlink(os.path.join(headers, f), os.path.join(include, f))
    shutil.copy(os.path.join(cpython, "PC", "pyconfig.h.in"), os.path.join(d, "pyconfig.h"))
    gcc, nm, dlltool = ("%s-w64-mingw32-%s" % (arch, t) for t in ("gcc", "nm", "dlltool"))
    obj = os.path.join(d, "ext.o")
    p = run([gcc, "-O2", "-c", "-I" + d, "-I" + include,
             "-I" + os.path.join(srcdir, "slots")] + list(defines) +
            [source or os.path.join(srcdir, "tests", "platforms", "ext.c"), "-o", obj])
    if not tap.ok(p.returncode == 0, "%s: MinGW-w64 (%s) compiles ext.c (%s)" % (
            name, arch, " ".join(defines) or "defaults"), p.stderr):
        return None
    names = set()  # what the object imports (i686 C names carry one more _)
    for ln in run([nm, "-u", obj]).stdout.splitlines():
        sym = ln.split()[-1]
        if sym.startswith("__imp_"):
            names.add(sym[7:] if arch == "i686" else sym[6:])
    deffile = os.path.join(d, dll + ".def")
    with open(deffile, "w") as f:
        f.write("LIBRARY %s.dll\nEXPORTS\n%s\n" % (
            dll, "\n".join(sorted(n for n in names if n.startswith(("Py", "_Py"))))))
    lib = os.path.join(d, "lib%s.a" % dll)
    p = run([dlltool, "--def", deffile, "--dllname", dll + ".dll", "--output-lib", lib])
    tap.ok(p.returncode == 0, "%s: dlltool makes the import library of %s.dll" % (name, dll), p.stderr)
    out = os.path.join(d, name)
    p = run([gcc, "-shared", "-o", out, obj] + list(extra) + ["-L" + d, "-l" + dll])
    return out if tap.ok(p.returncode == 0, "%s: links" % name, p.stderr) else None


# ------------------------------------------------------------ libabigate in the build tree

def lib_includes(tap):
    """The -I flags that find <abigate/abigate.h> in the build tree: the
    generated abigate/version.h (build tree) and the public headers
    (source tree)."""
    return ["-I" + os.path.join(env("ABIGATE_BUILDDIR", tap), "loader", "include"),
            "-I" + os.path.join(env("ABIGATE_SRCDIR", tap), "loader", "include")]


def lib_dir(tap):
    """The directory of the build tree's libabigate.so."""
    return os.path.join(env("ABIGATE_BUILDDIR", tap), "loader", "libabigate", ".libs")


# ------------------------------------------------------------ the import gate
GATE_MARKER = "ABIGATE-TEST-DLOPENED"   # printed by tests/gate/marker.c when a file is dlopen()ed


def install_gate(tap, interp, site):
    """Install the import gate built for `interp` into the directory `site`
    with the project's own installer (loader/python/gate-build): the build
    configure made (--with-python, gate/), or the one make check made for
    the registry's other interpreters (gate-check/).  Returns the
    CompletedProcess."""
    builddir, srcdir = env("ABIGATE_BUILDDIR", tap), env("ABIGATE_SRCDIR", tap)
    tsv, out = os.path.join(builddir, "gate-pythons.tsv"), os.path.join(builddir, "gate")
    with open(tsv) as f:
        if interp.python not in (line.split("\t")[0] for line in f):
            tsv, out = (os.path.join(builddir, "gate-check-pythons.tsv"),
                        os.path.join(builddir, "gate-check"))
    # the build's program: what python -m abigate runs (abigate/_program)
    return run(["sh", os.path.join(srcdir, "loader", "python", "gate-build"), "install",
                tsv, srcdir, out, "", site, interp.python, env("ABIGATE_CLI", tap)])


def gate_env(tap, interp, base, mode=None):
    """Install the import gate built for `interp` (configure --with-python)
    into a fresh user site under PYTHONUSERBASE=`base`, with the project's
    own installer (loader/python/gate-build), so that its abigate.pth runs at
    start-up exactly as in site-packages.  Returns the environment to run
    `interp` with: PYTHONABIGATE=`mode`, or unset when mode is None."""
    e = dict(os.environ)
    e.pop("PYTHONABIGATE", None)
    e["PYTHONUSERBASE"] = base
    e["PYTHONDONTWRITEBYTECODE"] = "1"
    site = run([interp.python, "-c", "import site, sys; sys.stdout.write(site.getusersitepackages())"],
               env=e).stdout
    if not site:
        tap.bail("%s has no user site directory" % interp.python)
    os.makedirs(site, exist_ok=True)
    p = install_gate(tap, interp, site)
    if p.returncode:
        tap.bail("the import gate is not built for %s (configure --with-python, or the "
                 "registry for make check): %s"
                 % (interp.python, p.stderr.strip()))
    if mode is not None:
        e["PYTHONABIGATE"] = mode
    return e


def with_mode(e, mode):
    """A copy of gate environment `e` with PYTHONABIGATE=mode (None: unset)."""
    e = dict(e)
    e.pop("PYTHONABIGATE", None)
    if mode is not None:
        e["PYTHONABIGATE"] = mode
    return e


# Import MODULE and report, as one JSON line on stdout, what happened:
# loaded (then the repr of USE evaluated with the module as `m`), or the
# exception's type, name, path, abigate_reason and message.
GATE_IMPORT = r"""
import json, sys, importlib
name, use = sys.argv[1], sys.argv[2]
try:
    m = importlib.import_module(name)
except ImportError as e:
    print(json.dumps({"loaded": False, "type": type(e).__name__, "name": e.name, "path": e.path,
                      "reason": getattr(e, "abigate_reason", None), "message": str(e)}))
else:
    print(json.dumps({"loaded": True, "file": getattr(m, "__file__", None),
                      "use": repr(eval(use)) if use else None}))
"""

# What the tests do with a loaded examples/demo.c module.
DEMO_USE = "m.Box(m.add(40, 2)).get()"


def gate_import(interp, name, cwd, e, extra_args=(), use=""):
    """Run GATE_IMPORT for `name` in `interp` (cwd first on sys.path).
    Returns (CompletedProcess, the JSON result or None)."""
    p = run([interp.python] + list(extra_args) + ["-c", GATE_IMPORT, name, use], cwd=cwd, env=e)
    try:
        doc = json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        doc = None
    return p, doc


def outcome(p):
    """A short description of how a child ended, for diagnostics."""
    if p.returncode < 0:
        return "killed by signal %d" % -p.returncode
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    return "exit %d: %s" % (p.returncode, lines[-1] if lines else "")


# ------------------------------------------------------------ wheels as auditwheel repairs them

# The libraries the manylinux policy lets a wheel take from the system.
MANYLINUX_POLICY = {"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1",
                    "libgcc_s.so.1", "libstdc++.so.6", "libutil.so.1", "libresolv.so.2",
                    "libnsl.so.1", "ld-linux-x86-64.so.2", "linux-vdso.so.1"}


def elf_needed(path):
    """The DT_NEEDED names of `path`, by binutils."""
    out = run(["readelf", "-d", path]).stdout
    return [l.split("[", 1)[1].rstrip("]").strip() for l in out.splitlines() if "(NEEDED)" in l]


def auditwheel_repair(tap, top, pkg, exts):
    """Vendor what the extension modules `exts` need beyond the manylinux
    policy into top/PKG.libs, as auditwheel repairs a wheel: each library
    copied under a hashed soname (patchelf --set-soname), every need of it
    rewritten (--replace-needed), RUNPATH $ORIGIN on the libraries and
    $ORIGIN/<relative path to PKG.libs> on the modules.  Returns
    {old soname: new file name}.  Bails out when patchelf fails."""
    import hashlib

    def patchelf(*args):
        p = run(["patchelf"] + list(args))
        if p.returncode:
            tap.bail("patchelf %s: %s" % (" ".join(args), p.stderr))

    libs = os.path.join(top, pkg + ".libs")
    os.makedirs(libs)
    found = {}
    for ext in exts:
        for line in run(["ldd", ext]).stdout.splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[1] == "=>" and parts[0] not in MANYLINUX_POLICY \
                    and not parts[0].startswith("libpython"):
                found.setdefault(parts[0], os.path.realpath(parts[2]))
    renamed = {}
    for old, path in sorted(found.items()):
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()[:8]
        stem, _, ver = old.partition(".so")
        renamed[old] = "%s-%s.so%s" % (stem, digest, ver)
        shutil.copy(path, os.path.join(libs, renamed[old]))
    for old, new in renamed.items():
        lib = os.path.join(libs, new)
        patchelf("--set-soname", new, lib)
        for n in elf_needed(lib):
            if n in renamed:
                patchelf("--replace-needed", n, renamed[n], lib)
        patchelf("--set-rpath", "$ORIGIN", lib)
    for ext in exts:
        changed = False
        for n in elf_needed(ext):
            if n in renamed:
                patchelf("--replace-needed", n, renamed[n], ext)
                changed = True
        if changed:
            patchelf("--set-rpath", "$ORIGIN/" + os.path.relpath(libs, os.path.dirname(ext)), ext)
    return renamed


def repaired_numpy(tap, dest):
    """Debian's numpy (tests/legacy/fetch) copied to dest/numpy and repaired
    as auditwheel repairs a manylinux wheel (auditwheel_repair): BLAS,
    LAPACK, gfortran and quadmath in dest/numpy.libs.  Returns (the
    extension modules, {old soname: new file name})."""
    import glob
    for tool in ("patchelf", "readelf", "ldd"):
        if not shutil.which(tool):
            tap.bail("REQUIRED: %s is not installed (scripts/test installs it)" % tool)
    root, _ = legacy_extensions(tap)
    dist = glob.glob(os.path.join(root, "python3-numpy_*", "usr", "lib", "python3", "dist-packages"))
    if not dist:
        tap.bail("Debian's numpy is not unpacked under %s (tests/legacy/fetch)" % root)
    shutil.copytree(os.path.join(dist[0], "numpy"), os.path.join(dest, "numpy"), symlinks=True)
    exts = sorted(glob.glob(os.path.join(dest, "numpy", "**", "*.so"), recursive=True))
    return exts, auditwheel_repair(tap, dest, "numpy", exts)


# ------------------------------------------------------------ the embedder host (examples/embed)

def build_embed_host(tap, interp, out, source=None):
    """Compile examples/embed/host.c (or `source`) against libabigate of the
    build tree and the embed flags pkg-config gives for registry entry
    `interp` (python-X.Y-embed; a registry build's own pkgconfig directory).
    Returns (CompletedProcess, the command line)."""
    srcdir, builddir = env("ABIGATE_SRCDIR", tap), env("ABIGATE_BUILDDIR", tap)
    e = dict(os.environ)
    if not interp.python.startswith("/usr/bin/"):
        prefix = os.path.dirname(os.path.dirname(interp.python))
        e["PKG_CONFIG_PATH"] = os.path.join(prefix, "lib", "pkgconfig")
    pc = "python-%d.%d-embed" % (interp.hexversion >> 24, interp.minor)
    p = run(["pkg-config", "--cflags", "--libs", pc], env=e)
    q = run(["pkg-config", "--variable=libdir", pc], env=e)
    if p.returncode or q.returncode:
        tap.bail("pkg-config %s failed: %s%s" % (pc, p.stderr, q.stderr))
    libdir = lib_dir(tap)
    cmd = [os.environ.get("CC") or "gcc", "-O1", "-Wall", "-Werror"] + lib_includes(tap) + [
           source or os.path.join(srcdir, "examples", "embed", "host.c"), "-o", out,
           "-L" + libdir, "-labigate", "-Wl,-rpath," + libdir,
           "-Wl,-rpath," + q.stdout.strip(), "-lpthread"] + p.stdout.split()
    return run(cmd), cmd


# ------------------------------------------------------------ patched interpreters (patches/)

# What tests/patched and bench/bench_patched.py use: (series, build-python flags).
PATCHED = {"3.11": ("3.11", []), "3.13": ("3.13", []), "3.13t": ("3.13", ["--disable-gil"])}


def patched_python(tap, pid, unpatched=False):
    """The interpreter patches/build-python builds for `pid` (a PATCHED key),
    built now if the cache has none (it is reused when it has); with
    `unpatched`, the same source built without the patches.  Bails out when
    it cannot be built: these interpreters are required."""
    series, flags = PATCHED[pid]
    script = os.path.join(env("ABIGATE_SRCDIR", tap), "patches", "build-python")
    p = run([script, series] + flags + (["--unpatched"] if unpatched else []))
    last = (p.stdout.strip().splitlines() or [""])[-1]
    if p.returncode != 0 or not os.access(last, os.X_OK):
        tap.bail("REQUIRED: patches/build-python %s %s failed (rc %d):\n%s"
                 % (series, " ".join(flags + (["--unpatched"] if unpatched else [])),
                    p.returncode, p.stderr[-3000:]))
    return last


def plain_env():
    """An environment with no PYTHON* variable and no user site: what a
    patched interpreter sees when nobody switched anything."""
    return {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "PYTHONNOUSERSITE": "1"}


# ------------------------------------------------------------ benchmarks (bench/)

def bench_json(name, cmd, env):
    """Run a benchmark's child `cmd`: the JSON of its last line; a failed
    child ends benchmark `name` with its stderr."""
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if p.returncode:
        sys.exit("%s: %s failed:\n%s" % (name, " ".join(cmd[:2]), p.stderr[-2000:]))
    return json.loads(p.stdout.strip().splitlines()[-1])


class BenchTap(Tap):
    """What bench/ scripts hand to testlib: a failed precondition ends the
    benchmark with its reason (a benchmark asserts nothing)."""

    def __init__(self, name):
        Tap.__init__(self)
        self.name = name

    def ok(self, cond, desc, diag=None):
        if not cond:
            sys.exit("%s: %s\n%s" % (self.name, desc, diag or ""))
        return cond


def bench_cli(tap):
    """The abigate program itself, not libtool's wrapper script (a shell
    start per run would be measured), with its library found."""
    cli = env("ABIGATE_CLI", tap)
    real = os.path.join(os.path.dirname(cli), ".libs", os.path.basename(cli))
    if os.path.exists(real):
        os.environ["LD_LIBRARY_PATH"] = os.path.dirname(env("ABIGATE_LIB", tap))
        return real
    return cli


def bench_alternate(cmds, rounds):
    """The median wall time of each (description, command, directory to
    clear or None) over `rounds` rounds, the sides alternated round by
    round so that no side always runs first."""
    import statistics
    import time
    times = [[] for _ in cmds]
    for r in range(rounds):
        for i in [(r + k) % len(cmds) for k in range(len(cmds))]:
            _, cmd, cleanup = cmds[i]
            if cleanup:
                shutil.rmtree(cleanup, ignore_errors=True)
            t = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times[i].append(time.perf_counter() - t)
            if cleanup:
                shutil.rmtree(cleanup, ignore_errors=True)
    return [statistics.median(t) for t in times]


def pin_to_one_cpu():
    """Run this process and its children on the last CPU it may use, so that
    the sides of a round do not differ by a migration."""
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[-1]})
    return cpus[-1]


# ------------------------------------------------------------ pip installs (pyproject.toml)

PIP_SOURCE_IGNORE = (".git", "_build", "build", "autom4te.cache", "__pycache__", ".libs", ".deps")


def pip_environ(tap):
    """The environment for pip in fresh venvs: no package index (the build
    tools come from the wheels tests/interpreters/provision cached), no
    user or site pip configuration, no PYTHON* variable of the caller."""
    wheels = os.path.join(os.path.dirname(env("ABIGATE_REGISTRY", tap)), "wheels")
    if not any(f.startswith("setuptools-") for f in (os.listdir(wheels) if os.path.isdir(wheels) else ())):
        tap.bail("no setuptools wheel in %s: run tests/interpreters/provision (scripts/test does)" % wheels)
    e = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
    e.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_FIND_LINKS=wheels,
             PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_WARN_SCRIPT_LOCATION="1", PIP_NO_CACHE_DIR="1",
             PYTHONDONTWRITEBYTECODE="1")
    return e


def pip_source(tap, dest):
    """A copy of the source tree at `dest`, as a user's clone looks (no
    build trees): pip builds in the tree it is given, and the tests'
    source tree may be read-only (distcheck) or shared.  In an in-tree
    build (./configure && make check in the source directory) the tests'
    work area lies inside the tree being copied, and `dest` inside it: the
    work area is never copied, or the copy would copy itself until the
    disk is full."""
    srcdir = env("ABIGATE_SRCDIR", tap)
    builddir = os.environ.get("ABIGATE_BUILDDIR", ".")
    work = os.path.realpath(os.path.join(builddir, "tests", "work"))
    patterns = shutil.ignore_patterns(*PIP_SOURCE_IGNORE + ("*.egg-info", "*.o", "*.lo", "*.la"))

    def ignore(d, names):
        skip = set(patterns(d, names))
        return skip | {n for n in names if os.path.realpath(os.path.join(d, n)) == work}

    shutil.copytree(srcdir, dest, ignore=ignore, symlinks=True)
    return dest


class Venv:
    """A fresh virtual environment of registry interpreter `base` at `path`."""

    def __init__(self, base, path):
        self.base, self.path = base, path
        self.id = "venv-" + base.id
        self.python = os.path.join(path, "bin", "python")
        self.ext_suffix, self.hexversion, self.flags = base.ext_suffix, base.hexversion, base.flags

    def site_packages(self):
        return run([self.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()

    def files(self):
        """Every file, directory and link under the venv, relative."""
        out = set()
        for root, dirs, files in os.walk(self.path):
            for n in dirs + files:
                out.add(os.path.relpath(os.path.join(root, n), self.path))
        return out

    def pip(self, e, *args):
        return run([self.python, "-m", "pip"] + list(args), env=e)


def make_venv(tap, base, path, e, system_site=False):
    """A fresh venv of `base` at `path` (seeing the interpreter's own
    site-packages when `system_site`), with the build tools from the
    provisioned wheels (setuptools, and wheel where setuptools needs it).
    Bails out when that fails."""
    v = Venv(base, path)
    p = run([base.python, "-m", "venv", path] + (["--system-site-packages"] if system_site else []), env=e)
    if p.returncode:
        tap.bail("%s -m venv %s failed: %s" % (base.python, path, p.stderr.strip()))
    p = v.pip(e, "install", "-q", "--upgrade", "setuptools", "wheel")
    if p.returncode:
        tap.bail("%s: cannot install setuptools and wheel from the provisioned wheels: %s"
                 % (v.id, p.stdout + p.stderr))
    return v


def pip_install_gate(tap, base, path, src, system_site=False):
    """A fresh venv of registry interpreter `base` at `path` with the gate
    pip-installed from the source copy `src` (`pip install
    --no-build-isolation SRC`).  Returns (Venv, environment, the pip
    CompletedProcess, the venv's file list before the install)."""
    e = pip_environ(tap)
    v = make_venv(tap, base, path, e, system_site)
    before = v.files()
    return v, e, v.pip(e, "install", "--no-build-isolation", src), before
