"""tests/load/wheels.py -- packages laid out as PyPI's binary wheels are,
through every front end of the gate (issue 24).

1. Debian's numpy, repaired as auditwheel repairs a manylinux wheel: the
   libraries its extension modules need beyond the manylinux policy
   (BLAS, LAPACK, gfortran, quadmath) copied into numpy.libs/ under hashed
   sonames (patchelf --set-soname), the needs rewritten
   (--replace-needed), RUNPATH $ORIGIN/../../numpy.libs on the modules and
   $ORIGIN on the libraries; packed by `wheel pack` with manylinux tags and
   pip-installed into a venv of Debian's 3.11.  numpy is imported and used
   (LAPACK's det, FFT, random) with no gate, with the import hook (strict)
   in the venv, and by the patched 3.11 in its default mode: the same
   result, the same objects mapped (the vendored libraries, never the
   system's BLAS), and `abigate check` / `abigate scan` accept the wheel and
   the venv.
2. A small package for 3.11, 3.13 and 3.13t (tests/load/vend.c) whose
   vendored libvx finds libvy only through the extension's inherited
   DT_RPATH $ORIGIN/../vend.libs, imported from its site directory and from
   a profile whose package directory is a link into a store (as Nix,
   Guix and Spack lay them out): no gate, the hook (strict), the patched
   interpreters (default mode).  With a vendored library missing, the
   patched 3.11's ImportError is the unpatched one's; with /proc unmounted
   (a private mount namespace), strict refuses and says why, warn loads
   with a warning that says how, off loads.
3. The embedder host (examples/embed) loading such a module as a plugin,
   on 3.11 and 3.13.
4. The abi3t backport: examples/slotsonly.c built as abi3t against the 3.15
   headers with a vendored library, loaded on 3.13 by the hook."""

import glob
import hashlib
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402
from testlib import run  # noqa: E402

tap = testlib.Tap()
rows, by_id = testlib.registry(tap, required=("3.11", "3.13", "3.13t", "sid-3.15"))
cli = testlib.env("ABIGATE_CLI", tap)
srcdir = testlib.env("ABIGATE_SRCDIR", tap)
cc = os.environ.get("CC") or "gcc"
work = os.path.realpath(testlib.workdir("load-wheels"))

# Import the modules argv[1] (comma-separated), evaluate argv[2] with the
# top-level packages in scope, and list every file mapped into the process.
PROBE = r"""
import importlib, json, sys
names, use = sys.argv[1].split(","), sys.argv[2]
out = {}
try:
    for n in names:
        importlib.import_module(n)
    ns = {n.split(".")[0]: sys.modules[n.split(".")[0]] for n in names}
    ns["m"] = sys.modules[names[-1]]
    out["use"] = repr(eval(use, ns))
except Exception as e:
    out["error"] = "%s: %s" % (type(e).__name__, e)
files = set()
with open("/proc/self/maps") as f:
    for line in f:
        parts = line.split(None, 5)
        if len(parts) == 6 and parts[5].startswith("/"):
            files.add(parts[5].strip())
out["files"] = sorted(files)
try:
    import _imp
    out["gate"] = _imp.abigate_status()["mode"]
except AttributeError:
    out["gate"] = None
print(json.dumps(out))
"""


def probe(python, names, use, e, cwd=None):
    p = run([python, "-c", PROBE, names, use], env=e, cwd=cwd)
    try:
        return json.loads(p.stdout.strip().splitlines()[-1]), p
    except (ValueError, IndexError):
        return {"error": "no result: " + testlib.outcome(p), "files": []}, p


def mine(files, *roots):
    """The mapped files under `roots` (the test's own trees; the import
    hook's own module aside), and any BLAS, LAPACK or gfortran library of
    the system."""
    sysl = ("/libblas", "/liblapack", "/libgfortran", "/libquadmath", "/blas/", "/lapack/")
    return sorted(f for f in files if "/_abigate" not in f and (
        f.startswith(roots) or (f.startswith("/usr/lib") and any(s in f for s in sysl))))


# ------------------------------------------------------------ 1. numpy, repaired
src = os.path.join(work, "numpy-1.24.2")
exts, renamed = testlib.repaired_numpy(tap, src)
tap.ok(any(k.startswith("libblas") for k in renamed) and any(k.startswith("liblapack") for k in renamed),
       "numpy repaired: %s vendored into numpy.libs under hashed sonames" % ", ".join(sorted(renamed.values())),
       renamed)
info = os.path.join(src, "numpy-1.24.2.dist-info")
os.makedirs(info)
with open(os.path.join(info, "METADATA"), "w") as f:
    f.write("Metadata-Version: 2.1\nName: numpy\nVersion: 1.24.2\n")
with open(os.path.join(info, "WHEEL"), "w") as f:
    f.write("Wheel-Version: 1.0\nGenerator: abigate-tests\nRoot-Is-Purelib: false\n"
            "Tag: cp311-cp311-manylinux_2_17_x86_64\nTag: cp311-cp311-manylinux2014_x86_64\n")
wheelhouse = os.path.join(work, "wheelhouse")
os.makedirs(wheelhouse)
p = run(["/usr/bin/python3.11", "-m", "wheel", "pack", "-d", wheelhouse, src])
made = glob.glob(os.path.join(wheelhouse, "numpy-1.24.2-cp311-cp311-manylinux*_x86_64.manylinux*.whl"))
whl = made[0] if made else ""
if not tap.ok(p.returncode == 0 and len(made) == 1, "wheel pack: %s" % os.path.basename(whl),
              p.stdout + p.stderr):
    tap.bail("no numpy wheel")

e = testlib.pip_environ(tap)
venv = testlib.make_venv(tap, by_id["3.11"], os.path.join(work, "venv-3.11"), e)
p = venv.pip(e, "install", "--no-deps", whl)
tap.ok(p.returncode == 0, "pip install of the manylinux numpy wheel into a venv of 3.11", p.stdout + p.stderr)
site = os.path.realpath(venv.site_packages())
NUMPY = "numpy,numpy.linalg,numpy.fft,numpy.random"
NUMPY_USE = ("(round(float(numpy.linalg.det(numpy.array([[2.0, 1.0], [1.0, 3.0]]))), 9), "
             "float(numpy.linalg.norm(numpy.arange(12.0).reshape(3, 4))), "
             "round(float(abs(numpy.fft.fft(numpy.arange(4.0))).sum()), 9), "
             "int(numpy.random.default_rng(7).integers(1000)))")
clean = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
base, _ = probe(venv.python, NUMPY, NUMPY_USE, clean)
libs = os.path.join(site, "numpy.libs")
vendored = sorted(os.path.join(libs, n) for n in renamed.values())
tap.ok("use" in base and mine(base["files"], libs) == vendored,
       "numpy from the venv, no gate: works, with every vendored library mapped and none of the system's",
       json.dumps({k: (v if k != "files" else mine(v, libs)) for k, v in base.items()}))


def same(title, got, want, roots):
    tap.ok("use" in got and got["use"] == want["use"] and mine(got["files"], *roots) == mine(want["files"], *roots),
           title, "got:  %s\nwant: %s\nfiles got:  %s\nfiles want: %s"
           % (got.get("use", got.get("error")), want.get("use"), mine(got["files"], *roots),
              mine(want["files"], *roots)))


p = testlib.install_gate(tap, by_id["3.11"], site)
if p.returncode:
    tap.bail("cannot install the import gate into the venv: %s" % p.stderr)
got, _ = probe(venv.python, NUMPY, NUMPY_USE, dict(clean, PYTHONABIGATE="strict"))
same("numpy in the venv with the import hook (strict): the same result and objects", got, base, (site,))
patched311 = testlib.patched_python(tap, "3.11")
pe = dict(testlib.plain_env(), PYTHONPATH=site)
got, p = probe(patched311, NUMPY, NUMPY_USE, pe)
tap.eq(got.get("gate"), "strict", "the patched 3.11 judges in its default mode")
same("numpy through the patched 3.11, default mode: the same result and objects", got, base, (site,))
got, _ = probe(patched311, NUMPY, NUMPY_USE, dict(pe, PYTHONABIGATE="off"))
same("numpy through the patched 3.11, off: the same", got, base, (site,))

p = run([cli, "check", "--json", "--python", "/usr/bin/python3.11", whl])
try:
    files = json.loads(p.stdout)["files"]
except (ValueError, KeyError):
    files = []
tap.ok(p.returncode == 0 and len(files) >= len(exts) and all(f["verdict"] == "accept" for f in files),
       "abigate check --python 3.11 accepts the manylinux numpy wheel (%d members)" % len(files),
       p.stdout[-2000:] + p.stderr)
p = run([cli, "scan", "--python", "/usr/bin/python3.11", site])
tap.ok(p.returncode == 0 and "0 refuse" in p.stdout, "abigate scan --python 3.11 accepts the venv",
       p.stdout[-2000:] + p.stderr)

# ------------------------------------------------------------ 2. a small package, RPATH inherited


def vend_layout(top, interp, name="vend", module="_core", runpath=False):
    """top/NAME/MODULE<suffix> and top/NAME.libs/{libvx,libvy}-HASH.so.1:
    DT_RPATH on the module (libvx finds libvy through it), or with
    `runpath` DT_RUNPATH on the module and on libvx."""
    libs = os.path.join(top, name + ".libs")
    os.makedirs(libs, exist_ok=True)
    os.makedirs(os.path.join(top, name), exist_ok=True)
    made = {}
    for lib, body, needs in (("libvy", "int vend_y(void) { return 5; }", []),
                             ("libvx", "int vend_y(void); int vend_x(void) { return 30 + vend_y(); }",
                              ["libvy"])):
        digest = hashlib.sha256(("%s %s" % (lib, interp.id)).encode()).hexdigest()[:8]
        made[lib] = "%s-%s.so.1" % (lib, digest)
        c = os.path.join(libs, lib + ".c")
        with open(c, "w") as f:
            f.write(body + "\n")
        cmd = [cc, "-shared", "-fPIC", "-o", os.path.join(libs, made[lib]), c,
               "-Wl,-soname," + made[lib], "-L" + libs] + ["-l:" + made[n] for n in needs]
        if runpath and needs:  # DT_RUNPATH is not inherited: libvx needs its own, as auditwheel gives
            cmd.append("-Wl,--enable-new-dtags,-rpath,$ORIGIN")
        q = run(cmd)
        os.unlink(c)
        if q.returncode:
            tap.bail("cannot build %s: %s" % (made[lib], q.stderr))
    out = os.path.join(top, name, module + interp.ext_suffix)
    q = run([cc, "-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-DVEND_NAME=" + module]
            + interp.system_includes() + [os.path.join(srcdir, "tests", "load", "vend.c"), "-o", out,
                                          "-L" + libs, "-l:" + made["libvx"],
                                          "-Wl,--%s-new-dtags,-rpath,$ORIGIN/../%s.libs"
                                          % ("enable" if runpath else "disable", name)])
    if q.returncode:
        tap.bail("cannot build %s: %s" % (out, q.stderr))
    return out, [os.path.join(libs, made[n]) for n in ("libvx", "libvy")]


VEND_USE = "m.value()"
for rid in ("3.11", "3.13", "3.13t"):
    interp = by_id[rid]
    top = os.path.join(work, "small-" + rid)
    site_dir = os.path.join(top, "site")
    ext, vlibs = vend_layout(site_dir, interp)
    store = os.path.join(top, "store", "vend-1.0")
    shutil.copytree(site_dir, store, symlinks=True)
    profile = os.path.join(top, "profile")
    os.makedirs(profile)
    os.symlink(os.path.join(store, "vend"), os.path.join(profile, "vend"))
    os.symlink(os.path.join(store, "vend.libs"), os.path.join(profile, "vend.libs"))
    ge = testlib.gate_env(tap, interp, os.path.join(work, "userbase-" + rid), "strict")
    pid = rid
    patched = testlib.patched_python(tap, pid)
    for where, path in (("site-packages", site_dir), ("a profile of links into a store", profile)):
        plain, _ = probe(interp.python, "vend._core", VEND_USE, dict(clean, PYTHONPATH=path))
        tap.ok(plain.get("use") == "35" and len(mine(plain["files"], top)) == 3,
               "%s, %s, no gate: vend._core works through libvx and the inherited RPATH" % (rid, where),
               json.dumps(plain)[:1500])
        got, _ = probe(interp.python, "vend._core", VEND_USE, dict(ge, PYTHONPATH=path))
        same("%s, %s, the import hook (strict): the same" % (rid, where), got, plain, (top,))
        got, _ = probe(patched, "vend._core", VEND_USE, dict(testlib.plain_env(), PYTHONPATH=path))
        tap.eq(got.get("gate"), "strict", "the patched %s judges in its default mode" % rid)
        same("%s, %s, the patched interpreter (default mode): the same" % (rid, where), got, plain, (top,))

# A vendored library missing: the patched interpreter's ImportError is
# the unpatched one's (the dynamic loader's words, naming the library),
# with name and path; and without /proc, per mode (docs/PATCHED.md).
top = os.path.join(work, "small-3.11")
broken = os.path.join(work, "broken-3.11")
shutil.copytree(os.path.join(top, "site"), broken, symlinks=True)
gone = [f for f in os.listdir(os.path.join(broken, "vend.libs")) if f.startswith("libvy-")][0]
os.unlink(os.path.join(broken, "vend.libs", gone))
ERR = "m.__name__"
plain, _ = probe(by_id["3.11"].python, "vend._core", ERR, dict(clean, PYTHONPATH=broken))
patched311 = testlib.patched_python(tap, "3.11")
got, _ = probe(patched311, "vend._core", ERR, dict(testlib.plain_env(), PYTHONPATH=broken))
tap.ok("error" in plain and gone in plain["error"] and got.get("error") == plain["error"],
       "a vendored library missing: the patched 3.11 says what the unpatched one says (%s)"
       % plain.get("error"), "%s\n%s" % (plain.get("error"), got.get("error")))
noproc = ["unshare", "-m", "sh", "-c", 'umount -l /proc && exec "$@"', "sh"]
site311 = os.path.join(top, "site")
for mode, want in (("strict", "refused"), ("warn", "loaded"), ("off", "loaded")):
    q = run(noproc + [patched311, "-c", testlib.GATE_IMPORT, "vend._core", VEND_USE],
            env=dict(testlib.plain_env(), PYTHONPATH=site311, PYTHONABIGATE=mode))
    try:
        doc = json.loads(q.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        doc = None
    if want == "refused":
        tap.ok(doc is not None and not doc["loaded"] and "/proc is not mounted" in doc["message"]
               and doc["name"] == "vend._core" and doc["path"] and doc["path"].endswith(".so"),
               "patched 3.11 without /proc, strict: ImportError (name, path) that says /proc is not mounted",
               q.stdout + q.stderr)
    else:
        tap.ok(doc is not None and doc["loaded"] and doc["use"] == "35"
               and (("loaded by path" in q.stderr and "/proc is not mounted" in q.stderr) == (mode == "warn")),
               "patched 3.11 without /proc, %s: loaded%s" % (mode, ", with a warning that says how"
                                                             if mode == "warn" else ""),
               q.stdout + q.stderr)

# ------------------------------------------------------------ 3. the embedder host
for rid in ("3.11", "3.13"):
    interp = by_id[rid]
    top = os.path.join(work, "embed-" + rid)
    host = os.path.join(top, "host")
    os.makedirs(top)
    p, cmd = testlib.build_embed_host(tap, interp, host)
    if p.returncode:
        tap.bail("cannot build the embedder host: %s\n%s" % (" ".join(cmd), p.stderr))
    plugins = os.path.join(top, "plugins")
    ext, vlibs = vend_layout(top, interp, name="plugins", module="vendplug", runpath=True)
    os.rename(ext, os.path.join(plugins, "vendplug.so"))
    p = run([host, "--mode", "strict", plugins], env=clean)
    tap.ok(p.returncode == 0 and "loaded vendplug: vendored 35" in p.stdout,
           "the embedder host on %s loads a plugin whose library is vendored through $ORIGIN" % rid,
           p.stdout + p.stderr)
    fds = [l for l in p.stdout.splitlines() if "fds before" in l]
    tap.ok(fds and fds[0].split("fds before ")[1].split(" after ")[0] == fds[0].split(" after ")[1].strip(),
           "the embedder host on %s: no descriptor left open" % rid, p.stdout)

# ------------------------------------------------------------ 4. the abi3t backport
top = os.path.join(work, "backport")
os.makedirs(top)
_, vlibs = vend_layout(top, by_id["3.13"], name="sl", runpath=True)
libs = os.path.dirname(vlibs[0])
out = os.path.join(top, "sl", "slotsonly.abi3t.so")
p, cmd = testlib.build_demo(tap, by_id["sid-3.15"],
                            ["-DPy_TARGET_ABI3T=0x030f0000", "-Wl,--no-as-needed", "-L" + libs,
                             "-l:" + os.path.basename(vlibs[0]),
                             "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../sl.libs"],
                            out, "examples/slotsonly.c")
if p.returncode:
    tap.bail("cannot build slotsonly.abi3t.so: %s\n%s" % (" ".join(cmd), p.stderr))
ge = testlib.gate_env(tap, by_id["3.13"], os.path.join(top, "userbase"), "strict,trace")
got, p = probe(by_id["3.13"].python, "slotsonly", "m.add(40, 2)", ge, cwd=os.path.join(top, "sl"))
tap.ok(got.get("use") == "42" and "loaded through the abi3t backport" in p.stderr
       and sorted(f for f in got["files"] if f.startswith(libs)) == sorted(vlibs),
       "the abi3t backport on 3.13 loads a slots-only module whose library is vendored through $ORIGIN",
       json.dumps(got)[:1500] + p.stderr[-1500:])

shutil.rmtree(work, ignore_errors=True)
tap.done()
