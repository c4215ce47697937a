"""tests/load/layouts.py -- the gate's same-file load against a plain dlopen,
on the layouts wheels from PyPI use (issue 24).

Each layout is built here with the system compiler: an extension-like
object `_core.so` whose libraries are found through $ORIGIN, as auditwheel
repairs every manylinux wheel (RUNPATH or RPATH `$ORIGIN/../pkg.libs`,
hashed sonames), RPATH inheritance, a directory reached through a link, a
file reached through a link, LD_LIBRARY_PATH before and after, entries
without $ORIGIN around one with it, $LIB and $PLATFORM, glibc-hwcaps
subdirectories, an object already loaded, RTLD_GLOBAL, a relative path, a
missing library, a symbol that does not resolve.  tests/load/loadset loads
it in a fresh process plainly (dlopen(path)) and through
abigate_gate_dlopen: the objects the load added (by the file the kernel
mapped), the value a function returns through the vendored libraries, the
global visibility of a dependency's symbol, the error text, and the
descriptors open before and after must be the same (no descriptor may
stay open after a gate load either).  Then /proc is unmounted in a private
mount namespace: strict and require refuse to load by path and say why,
warn loads the path and says so, off is a plain dlopen (require shares
strict's code, and refuses these record-less files before any load).  Needs no
interpreter."""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testlib import Tap, env, lib_dir, lib_includes, run, workdir  # noqa: E402

tap = Tap()
srcdir, builddir = env("ABIGATE_SRCDIR", tap), env("ABIGATE_BUILDDIR", tap)
cc = os.environ.get("CC") or "gcc"
base = workdir("load-layouts")
libdir = lib_dir(tap)
loadset = os.path.join(base, "loadset")
p = run([cc, "-O1", "-Wall", "-Werror"] + lib_includes(tap) + [
         os.path.join(srcdir, "tests", "load", "loadset.c"), "-o", loadset,
         "-L" + libdir, "-labigate", "-Wl,-rpath," + libdir])
if p.returncode:
    tap.bail("cannot build loadset: %s" % p.stderr)


def build_lib(path, source, needs=(), runpath=None, rpath=None, soname=True):
    """Compile `source` into the shared object `path`, linked against the
    objects `needs` (by their soname), with DT_RUNPATH or DT_RPATH."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    c = path + ".c"
    with open(c, "w") as f:
        f.write(source)
    cmd = [cc, "-shared", "-fPIC", "-o", path, c]
    if soname:
        cmd.append("-Wl,-soname," + os.path.basename(path))
    for n in needs:
        cmd += ["-L" + os.path.dirname(n), "-l:" + os.path.basename(n)]
    if runpath is not None:
        cmd.append("-Wl,--enable-new-dtags,-rpath," + runpath)
    if rpath is not None:
        cmd.append("-Wl,--disable-new-dtags,-rpath," + rpath)
    q = run(cmd)
    if q.returncode:
        tap.bail("cannot build %s: %s" % (path, q.stderr))
    os.unlink(c)
    return path


def lib_returning(path, value, needs=(), call=None, **kw):
    """A library whose int NAME(void) returns `value` (+ call() when given)."""
    name = os.path.basename(path).split(".")[0].replace("-", "_")
    decl = "int %s(void);" % call if call else ""
    body = "return %d%s;" % (value, " + %s()" % call if call else "")
    return build_lib(path, "%s int %s(void) { %s }\n" % (decl, name, body), needs, **kw)


def core(path, needs, call, **kw):
    """The extension-like object: int core(void) returns call()."""
    return build_lib(path, "int %s(void); int core(void) { return %s(); }\n" % (call, call),
                     needs, soname=False, **kw)


def load(path, gate=None, extra=(), cwd=None, e=None, prefix=()):
    cmd = list(prefix) + [loadset] + (["--gate", gate] if gate else []) + list(extra) + [path]
    q = run(cmd, cwd=cwd, env=e)
    lines = q.stdout.splitlines()
    return {
        "rc": q.returncode,
        "new": sorted(l[5:] for l in lines if l.startswith("new: ")),
        "call": [l for l in lines if l.startswith("call: ")],
        "visible": [l for l in lines if l.startswith("visible: ")],
        "error": [l for l in lines if l.startswith("error: ")],
        "warning": [l for l in lines if l.startswith("warning: ")],
        "fds": [l for l in lines if l.startswith("fds: ")],
        "raw": q.stdout + q.stderr,
    }


def same(name, path, extra=("--call", "core"), cwd=None, e=None, expect_ok=True, want_call=None):
    """A plain load and a gate load (strict) of `path` do the same."""
    plain = load(path, None, extra, cwd, e)
    gated = load(path, "strict", extra, cwd, e)
    if expect_ok:
        tap.ok(plain["rc"] == 0 and plain["new"], "%s: a plain dlopen loads it" % name,
               plain["raw"])
    else:
        tap.ok(plain["rc"] == 1 and plain["error"], "%s: a plain dlopen fails" % name,
               plain["raw"])
    if want_call is not None:
        tap.eq(plain["call"], ["call: %d" % want_call], "%s: the plain load's libraries" % name)
    for key in ("rc", "new", "call", "visible", "error"):
        tap.eq(gated[key], plain[key], "%s: the gate's load: same %s" % (name, key))
    tap.ok(not any("memfd:" in n for n in gated["new"]),
           "%s: nothing of the search stand-in stays" % name, gated["new"])
    fds = gated["fds"][0].split() if gated["fds"] else []
    tap.ok(len(fds) == 3 and fds[1] == fds[2], "%s: no descriptor left open" % name, gated["raw"])
    return plain, gated


# ------------------------------------------------------------ (a) auditwheel, RUNPATH
a = os.path.join(base, "a", "site")
depb = lib_returning(os.path.join(a, "pkg.libs", "libdepb-4d5e6f.so.1"), 2)
depa = lib_returning(os.path.join(a, "pkg.libs", "libdepa-1a2b3c.so.1"), 40, [depb], "libdepb_4d5e6f",
                     runpath="$ORIGIN")
core_a = core(os.path.join(a, "pkg", "_core.so"), [depa], "libdepa_1a2b3c",
              runpath="$ORIGIN/../pkg.libs")
same("RUNPATH $ORIGIN/../pkg.libs", core_a, want_call=42)
same("RUNPATH, relative path", "pkg/_core.so", cwd=a, want_call=42)
same("RUNPATH, RTLD_GLOBAL", core_a, ("--call", "core", "--global", "--visible", "libdepb_4d5e6f"))
plain, _ = same("RUNPATH, RTLD_LOCAL", core_a, ("--call", "core", "--visible", "libdepb_4d5e6f"))
tap.eq(plain["visible"], ["visible: no"], "RTLD_LOCAL keeps the dependency out of the global scope")

# ------------------------------------------------------------ (b) RPATH and its inheritance
b = os.path.join(base, "b", "site")
yb = lib_returning(os.path.join(b, "pkg.libs", "liby-77aa.so.1"), 5)
xb = lib_returning(os.path.join(b, "pkg.libs", "libx-66bb.so.1"), 30, [yb], "liby_77aa")  # no paths
core_b = core(os.path.join(b, "pkg", "_core.so"), [xb], "libx_66bb",
              rpath="$ORIGIN/../pkg.libs")
same("RPATH $ORIGIN, inherited by the library it loads", core_b, want_call=35)

# ------------------------------------------------------------ (c) links
c = os.path.join(base, "c")
store = os.path.join(c, "store", "pkg-1.0")
shutil.copytree(a, store)
os.makedirs(os.path.join(c, "profile"))
os.symlink(os.path.join(store, "pkg"), os.path.join(c, "profile", "pkg"))
same("a directory reached through a link ($ORIGIN/.. resolved by the kernel)",
     os.path.join(c, "profile", "pkg", "_core.so"), want_call=42)
os.makedirs(os.path.join(c, "farm", "pkg"))
os.symlink(os.path.join(store, "pkg", "_core.so"), os.path.join(c, "farm", "pkg", "_core.so"))
same("a file reached through a link ($ORIGIN is the link's directory: not found)",
     os.path.join(c, "farm", "pkg", "_core.so"), expect_ok=False)

# ------------------------------------------------------------ LD_LIBRARY_PATH, RPATH, RUNPATH
d = os.path.join(base, "d")
lib_returning(os.path.join(d, "llp", "libz-1.so.1"), 100)
zd = lib_returning(os.path.join(d, "site", "libs", "libz-1.so.1"), 200)
core_rp = core(os.path.join(d, "site", "rp", "_core.so"), [zd], "libz_1", rpath="$ORIGIN/../libs")
core_ru = core(os.path.join(d, "site", "ru", "_core.so"), [zd], "libz_1",
               runpath="$ORIGIN/../libs")
e = dict(os.environ, LD_LIBRARY_PATH=os.path.join(d, "llp"))
same("RPATH $ORIGIN before LD_LIBRARY_PATH", core_rp, e=e, want_call=200)
same("LD_LIBRARY_PATH before RUNPATH $ORIGIN", core_ru, e=e, want_call=100)
same("RUNPATH $ORIGIN without LD_LIBRARY_PATH", core_ru, want_call=200)

# ------------------------------------------------------------ entries around $ORIGIN
m = os.path.join(base, "m")
lib_returning(os.path.join(m, "first", "libp-1.so.1"), 1000)
pm = lib_returning(os.path.join(m, "site", "libs", "libp-1.so.1"), 2000)
qm = lib_returning(os.path.join(m, "last", "libq-1.so.1"), 3)
core_m = build_lib(os.path.join(m, "site", "pkg", "_core.so"),
                   "int libp_1(void); int libq_1(void); int core(void) { return libp_1() + libq_1(); }\n",
                   [pm, qm], soname=False,
                   runpath="%s:$ORIGIN/../libs:%s" % (os.path.join(m, "first"), os.path.join(m, "last")))
same("an entry without $ORIGIN before and after it", core_m, want_call=1003)
core_m2 = build_lib(os.path.join(m, "site", "pkg2", "_core.so"),
                    "int libp_1(void); int libq_1(void); int core(void) { return libp_1() + libq_1(); }\n",
                    [pm, qm], soname=False,
                    runpath="${ORIGIN}/../libs:%s" % os.path.join(m, "last"))
same("${ORIGIN}, braced", core_m2, want_call=2003)

# ------------------------------------------------------------ $LIB, $PLATFORM, glibc-hwcaps
t = os.path.join(base, "t")
for i, sub in enumerate(["lib/x86_64-linux-gnu", "lib64", "lib", "lib/aarch64-linux-gnu"]):
    lib_returning(os.path.join(t, "site", "pkg", sub, "libl-1.so.1"), 10 + i)
for i, sub in enumerate(["haswell", "x86_64", "xeon_phi", "aarch64"]):
    lib_returning(os.path.join(t, "site", "plat", sub, "libk-1.so.1"), 20 + i)
hw = os.path.join(t, "site", "hw")
lib_returning(os.path.join(hw, "libh-1.so.1"), 30)
for i, sub in enumerate(["x86-64-v2", "x86-64-v3", "x86-64-v4"]):
    lib_returning(os.path.join(hw, "glibc-hwcaps", sub, "libh-1.so.1"), 31 + i)
core_t = build_lib(os.path.join(t, "site", "pkg", "_core.so"),
                   "int libl_1(void); int libk_1(void); int libh_1(void);\n"
                   "int core(void) { return libl_1() * 10000 + libk_1() * 100 + libh_1(); }\n",
                   [os.path.join(t, "site", "pkg", "lib", "libl-1.so.1"),
                    os.path.join(t, "site", "plat", "haswell", "libk-1.so.1"),
                    os.path.join(hw, "libh-1.so.1")], soname=False,
                   runpath="$ORIGIN/$LIB:$ORIGIN/../plat/$PLATFORM:$ORIGIN/../hw")
plain, _ = same("$LIB, $PLATFORM and glibc-hwcaps subdirectories, as the dynamic loader expands them",
                core_t)
tap.diag("the dynamic loader here chose: %s" % plain["call"])

# ------------------------------------------------------------ an object already loaded
o = os.path.join(base, "o")
other = lib_returning(os.path.join(o, "elsewhere", "libdepa-1a2b3c.so.1"), 7)
plain, _ = same("a library of that soname already loaded elsewhere", core_a,
                ("--call", "core", "--preload", other), want_call=7)

# ------------------------------------------------------------ failures
f = os.path.join(base, "f", "site")
shutil.copytree(a, f)
os.unlink(os.path.join(f, "pkg.libs", "libdepb-4d5e6f.so.1"))
plain, gated = same("a vendored library missing", os.path.join(f, "pkg", "_core.so"), expect_ok=False)
tap.ok(plain["error"] and "libdepb-4d5e6f.so.1" in plain["error"][0],
       "the error names the missing library", plain["error"])
u = os.path.join(base, "u", "site")
ud = lib_returning(os.path.join(u, "pkg.libs", "libdepa-1a2b3c.so.1"), 1)
build_lib(os.path.join(u, "pkg", "_core.so"),
          "int nowhere(void); int core(void) { return nowhere(); }\n", [ud], soname=False,
          runpath="$ORIGIN/../pkg.libs")
plain, gated = same("a symbol that does not resolve (the libraries loaded for it go again)",
                    os.path.join(u, "pkg", "_core.so"), expect_ok=False)
tap.ok(plain["error"] and "nowhere" in plain["error"][0], "the error names the symbol",
       plain["error"])
n = os.path.join(base, "n", "site")
nd = lib_returning(os.path.join(n, "pkg", "libnd.so"), 9)
core_n = core(os.path.join(n, "pkg", "_core.so"), [nd], "libnd")
q = run(["patchelf", "--replace-needed", "libnd.so", "$ORIGIN/libnd.so", core_n])
if q.returncode:
    tap.bail("patchelf failed: %s" % q.stderr)
plain = load(core_n, None, ("--call", "core"))
gated = load(core_n, "strict", ("--call", "core"))
tap.eq(plain["call"], ["call: 9"], "DT_NEEDED $ORIGIN/libnd.so: a plain dlopen loads it")
tap.ok(gated["rc"] == 1 and gated["error"] and "DT_NEEDED" in gated["error"][0]
       and "$ORIGIN" in gated["error"][0],
       "DT_NEEDED with $ORIGIN: the gate says it cannot load that from the judged descriptor",
       gated["raw"])

# ------------------------------------------------------------ no RUNPATH at all
plainlib = core(os.path.join(base, "p", "_core.so"), [depb], "libdepb_4d5e6f")
same("no $ORIGIN (one dlopen of the descriptor, as before)", plainlib,
     e=dict(os.environ, LD_LIBRARY_PATH=os.path.dirname(depb)), want_call=2)

# ------------------------------------------------------------ under valgrind
valgrind = os.environ.get("VALGRIND")
if not valgrind:
    tap.bail("VALGRIND is not set: run the tests through 'make check'")
for name, path in (("RUNPATH $ORIGIN", core_a), ("RPATH inherited", core_b),
                   ("a vendored library missing", os.path.join(f, "pkg", "_core.so"))):
    q = run([valgrind, "-q", "--error-exitcode=3", "--leak-check=full",
             "--errors-for-leak-kinds=definite,indirect",
             "--suppressions=" + os.path.join(srcdir, "tests", "load", "ld-so.supp"),
             loadset, "--gate", "strict", "--call", "core", path])
    tap.ok(q.returncode in (0, 1) and "==" not in q.stderr,
           "%s: the gate's load under valgrind: no memory error, no leak" % name, q.stderr[-2000:])

# ------------------------------------------------------------ without /proc
probe = run(["unshare", "-m", "sh", "-c", "umount -l /proc && test ! -e /proc/self"])
noproc = ["unshare", "-m", "sh", "-c", 'umount -l /proc && exec "$@"', "sh"]


def without_proc():
    for mode in ("strict",):  # require refuses these record-less files before any load
        r = load(core_a, mode, ("--call", "core"), prefix=noproc)
        tap.ok(r["rc"] == 1 and r["error"] and "/proc is not mounted" in r["error"][0]
               and not r["call"], "no /proc, %s: nothing is loaded, and the error says why" % mode,
               r["raw"])
        r = load(plainlib, mode, ("--call", "core"), prefix=noproc,
                 e=dict(os.environ, LD_LIBRARY_PATH=os.path.dirname(depb)))
        tap.ok(r["rc"] == 1 and r["error"] and "/proc is not mounted" in r["error"][0],
               "no /proc, %s, a file without $ORIGIN: the same" % mode, r["raw"])
    r = load(core_a, "warn", ("--call", "core"), prefix=noproc)
    tap.ok(r["rc"] == 0 and r["call"] == ["call: 42"] and r["warning"]
           and "loaded by path" in r["warning"][0] and "/proc is not mounted" in r["warning"][0],
           "no /proc, warn: the path is loaded, with a warning that says so", r["raw"])
    r = load(core_a, "off", ("--call", "core"), prefix=noproc)
    tap.ok(r["rc"] == 0 and r["call"] == ["call: 42"] and not r["warning"],
           "no /proc, off: a plain dlopen", r["raw"])


if probe.returncode == 0:
    without_proc()
elif os.geteuid() == 0:
    tap.bail("REQUIRED: cannot unmount /proc in a private mount namespace (unshare -m, as "
             "root): %s" % probe.stderr)
else:  # a build root's unprivileged user: said, not silent
    tap.skip("the load without /proc (strict, warn, off)",
             "unshare -m needs root here: %s" % probe.stderr.strip())

shutil.rmtree(base, ignore_errors=True)
tap.done()
