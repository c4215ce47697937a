#!/usr/bin/env python3
"""pip install of the gate (pyproject.toml) into fresh virtual environments.

For 3.11 (Debian), 3.13 and 3.13t (source builds), and each pyenv
interpreter from 3.8 on that the registry has: a fresh venv gets the build
tools from the provisioned wheels (no package index), then `pip install
--no-build-isolation` of a copy of the source tree.  Asserted: what is
installed (_abigate, the package, abigate.pth, the headers, the `abigate`
command); abigate.pth switches the gate on exactly as CPython's
conventions say (PYTHONABIGATE, -X abigate, -E); a wrong build named
demo.so is refused with an ImportError and the right one loads; the
`abigate` command is the C program (an ELF executable, not a Python
script), judges files for the venv's interpreter, and gives byte for byte
the output and exit status of `python -m abigate` and of this build's
program on the same arguments (files, a wheel, a directory, JSON, errors,
usage); on 3.13t the GIL stays disabled; `pip wheel`
gives a wheel with the interpreter's tags whose _abigate carries the
abigate record and passes `abigate check` for its interpreter; `pip
uninstall` leaves the venv's file list exactly as it was before the install.
"""
import os
import re
import sys
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

REQUIRED = ("3.11", "3.13", "3.13t")
tap = testlib.Tap()
rows, by_id = testlib.registry(tap, required=REQUIRED)
cli = testlib.env("ABIGATE_CLI", tap)
bases = [by_id[i] for i in REQUIRED] + \
    [r for r in rows if r.id.startswith("pyenv-") and r.hexversion >= 0x03080000]
src = testlib.pip_source(tap, os.path.join(testlib.workdir("pip-install"), "abigate"))


def built_versions():
    """The version each artefact of this build says it has: VERSION is the
    only place it is written; everything else is derived from it."""
    builddir = testlib.env("ABIGATE_BUILDDIR", tap)
    found = {}
    p = testlib.run([cli, "--version"])
    found["abigate --version"] = p.stdout.split()[-1] if p.stdout.split() else None
    with open(os.path.join(builddir, "loader", "include", "abigate", "version.h")) as f:
        m = re.search(r'#define ABIGATE_VERSION_STRING "([^"]+)"', f.read())
    found["abigate/version.h"] = m and m.group(1)
    p = testlib.run(["pkg-config", "--modversion", os.path.join(builddir, "abigate.pc")])
    found["abigate.pc"] = p.stdout.strip() or None
    with open(os.path.join(builddir, "docs", "abigate.1")) as f:
        m = re.search(r'"abigate ([^"]+)"', f.readline())
    found["abigate(1)"] = m and m.group(1)
    return found


with open(os.path.join(testlib.env("ABIGATE_SRCDIR", tap), "VERSION")) as f:
    VERSION = f.read().strip()
found = built_versions()
tap.ok(set(found.values()) == {VERSION}, "VERSION's %s is the version of the program, version.h, "
       "abigate.pc and abigate(1)" % VERSION, repr(found))
written = [path for path in ("configure.ac", "pyproject.toml",
                             "loader/include/abigate/abigate.h", "loader/python/abigate.pc.in")
           if VERSION in open(os.path.join(testlib.env("ABIGATE_SRCDIR", tap), path)).read()]
tap.ok(not written, "the version is written nowhere but VERSION", repr(written))


def tags(base):
    """(python tag, abi tag) of a CPython wheel for `base`: cp313, cp313t."""
    abi = base.soabi.split("-")[1]          # 313t, 36m
    return "cp" + "".join(c for c in abi if c.isdigit()), "cp" + abi


def same_program(t, v, e, demos, wheels, d):
    """pip's `abigate`, `python -m abigate` and this build's program, on the
    same arguments: the same stdout, stderr and exit status, byte for byte."""
    py = os.path.join(v.path, "bin", "python3")
    tree = os.path.join(d, "tree")
    os.makedirs(os.path.join(tree, "pkg"), exist_ok=True)
    for i, path in enumerate(demos):
        dst = os.path.join(tree, "pkg", "m%d.cpython-311-x86_64-linux-gnu.so" % i)
        if not os.path.exists(dst):
            os.symlink(path, dst)
    fifo = os.path.join(d, "fifo.so")
    if not os.path.exists(fifo):
        os.mkfifo(fifo)
    cases = [["check", "--python", py] + demos, ["check", "--json", "--python", py] + demos,
             ["check", "--mode", "warn", "--python", py] + demos,
             ["inspect", "--json", "--symbols"] + demos, ["inspect"] + demos + wheels,
             ["check", "--python", py] + wheels, ["check", "--json", "--target", "3.13t"] + wheels,
             ["scan", "--python", py, tree] + wheels, ["scan", "--json", "-j", "2", "--target", "3.13", tree],
             ["profile", "--json", "--python", py], ["profile", "--target", "3.15d"],
             ["check", "--python", py, os.path.join(d, "missing.so"), fifo],
             ["scan", "--target", "3.11", fifo, os.path.join(d, "missing")],
             ["check", "--bogus"], ["check", "--target", "4.x", demos[0]], ["scan"], [],
             ["--version"], ["--help"], ["frobnicate"]]
    differ = []
    for args in cases:
        runs = [testlib.run(how + args, env=e) for how in
                ([os.path.join(v.path, "bin", "abigate")], [v.python, "-m", "abigate"], [cli])]
        outs = [(r.returncode, r.stdout, r.stderr) for r in runs]
        if outs[1:] != outs[:-1]:
            differ.append((args, outs))
    tap.ok(not differ and len(demos) == 2 and wheels,
           "%s: pip's abigate, python -m abigate and this build's abigate: the same output and exit "
           "status, byte for byte, in %d cases (files, wheels, a directory, JSON, errors, usage)"
           % (t, len(cases)), "\n".join("%r:\n  %r" % (a, o) for a, o in differ[:3]))


def check_one(base):
    t = base.id
    d = testlib.workdir("pip-install")
    v, e, p, before = testlib.pip_install_gate(tap, base, os.path.join(d, "venv"), src)
    if not tap.ok(p.returncode == 0, "%s: pip install --no-build-isolation ." % t, p.stdout + p.stderr):
        return
    site = os.path.relpath(v.site_packages(), v.path)
    new = v.files() - before
    want = [os.path.join(site, f) for f in (
        "_abigate" + base.ext_suffix, "abigate.pth", "abigate/__init__.py", "abigate/__main__.py",
        "abigate/include/abigate/slot.h", "abigate/share/abigate-record.c",
        "abigate/lib/pkgconfig/abigate.pc")] + ["bin/abigate"]
    missing = [f for f in want if f not in new]
    p = testlib.run([v.python, "-c", "import abigate, importlib.metadata as m, sys; "
                     "print(abigate.__version__, m.version('abigate'), abigate.get_pkgconfig_dir())"], env=e)
    got = p.stdout.split()
    q = testlib.run(["pkg-config", "--modversion", "abigate"],
                    env=dict(e, PKG_CONFIG_PATH=got[2] if len(got) == 3 else ""))
    tap.eq(got[:2] + [q.stdout.strip()], [VERSION] * 3,
           "%s: the module's __version__, the distribution's metadata and the package's "
           "abigate.pc all say VERSION's %s" % (t, VERSION))
    if not tap.ok(not missing, "%s: installs _abigate, the package, abigate.pth, the headers and "
                  "the abigate command" % t, "missing: %r; new: %r" % (missing, sorted(new))):
        return

    # abigate.pth: the gate is imported only when asked for, as CPython's conventions say.
    probe = "import sys; m = sys.modules.get('abigate'); print(m.mode() if m else 'not imported')"
    for args, mode, want_mode in (([], None, "not imported"), ([], "strict", "strict"),
                                  (["-X", "abigate=warn"], None, "warn"),
                                  (["-E"], "strict", "not imported"),
                                  (["-X", "abigate"], None, "strict")):
        pe = testlib.with_mode(e, mode) if mode else e
        p = testlib.run([v.python] + args + ["-c", probe], env=pe)
        tap.eq(p.stdout.strip(), want_mode, "%s: %s%s: gate %s" % (
            t, " ".join(args) or "no option", ", PYTHONABIGATE=" + mode if mode else "", want_mode))

    # A wrong build named demo.so is refused; the right one loads.
    other = by_id["3.13" if base.hexversion < 0x030c0000 else "3.11"]
    demos = []
    command = os.path.join(v.path, "bin", "abigate")
    with open(command, "rb") as f:
        tap.ok(f.read(4) == b"\x7fELF", "%s: bin/abigate is the C program (ELF), not a Python script" % t)
    for headers, good in ((other, False), (base, True)):
        dd = testlib.workdir("pip-install")
        path = os.path.join(dd, "demo.so")
        p, cmd = testlib.build_demo(tap, headers, [], path)
        if not tap.ok(p.returncode == 0, "%s: build demo.so with the %s headers" % (t, headers.id),
                      " ".join(cmd) + "\n" + p.stderr):
            continue
        demos.append(path)
        p, doc = testlib.gate_import(v, "demo", dd, testlib.with_mode(e, "strict"), use=testlib.DEMO_USE)
        if good:
            tap.ok(doc is not None and doc["loaded"] and doc["use"] == "42",
                   "%s: PYTHONABIGATE=strict loads its own demo.so" % t, p.stdout + p.stderr)
        elif tap.ok(doc is not None and not doc["loaded"],
                    "%s: PYTHONABIGATE=strict refuses a %s demo.so" % (t, other.id), p.stdout + p.stderr):
            tap.ok(doc["type"] == "ImportError" and doc["name"] == "demo" and doc["path"] == path
                   and (doc["reason"] or "").startswith("ABIGATE_R_"),
                   "%s: ImportError with name, path and the rule" % t, repr(doc))
        # The command judges the same file for this venv's interpreter (the
        # python3 next to it), as does python -m abigate (sys.executable).
        for how in ([command], [v.python, "-m", "abigate"]):
            p = testlib.run(how + ["check", path], env=e)
            tap.ok(p.returncode == (0 if good else 1) and ("accept" if good else "refuse") in p.stdout,
                   "%s: %s check %s the %s demo.so, without --python" % (
                       t, os.path.basename(how[-1]), "accepts" if good else "refuses", headers.id),
                   "exit %d: %s%s" % (p.returncode, p.stdout, p.stderr))

    if "ft" in base.flags:
        p = testlib.run([v.python, "-c", "import sys; print(sys._is_gil_enabled())"],
                        env=testlib.with_mode(e, "strict"))
        tap.ok(p.stdout.strip() == "False" and "GIL" not in p.stderr,
               "%s: with the gate on, the GIL stays disabled (_abigate declares Py_mod_gil)" % t,
               p.stdout + p.stderr)

    # pip wheel: the interpreter's tags, the gate module carries the record.
    wd = os.path.join(d, "wheelhouse")
    p = v.pip(e, "wheel", "--no-build-isolation", "--no-deps", "-w", wd, src)
    wheels = [f for f in os.listdir(wd)] if os.path.isdir(wd) else []
    if tap.ok(p.returncode == 0 and len(wheels) == 1, "%s: pip wheel builds one wheel" % t,
              p.stdout + p.stderr):
        py, abi = tags(base)
        tap.eq(wheels[0], "abigate-%s-%s-%s-linux_x86_64.whl" % (VERSION, py, abi), "%s: the wheel's tags" % t)
        with zipfile.ZipFile(os.path.join(wd, wheels[0])) as z:
            names = z.namelist()
            mod = "_abigate" + base.ext_suffix
            tap.ok("abigate.pth" in names and mod in names, "%s: the wheel holds %s and abigate.pth"
                   % (t, mod), repr(names))
            z.extract(mod, d)
        status, doc = testlib.cli_json(tap, "inspect", [os.path.join(d, mod)])
        rec = doc["files"][0].get("record") if doc and doc.get("files") else None
        tap.ok(status == 0 and rec is not None,
               "%s: abigate inspect: the wheel's _abigate carries the abigate record" % t, repr(doc))
        p = testlib.run([cli, "check", "--python", base.python, os.path.join(d, mod)])
        tap.ok(p.returncode == 0, "%s: abigate check accepts the wheel's _abigate for %s" % (t, base.python),
               p.stdout + p.stderr)
        # the wheel itself, read in place: its member fits its tags and this interpreter
        p = testlib.run([cli, "check", "--python", base.python, os.path.join(wd, wheels[0])])
        tap.ok(p.returncode == 0 and p.stdout.count(": accept: ") == 1 and "WHEEL_" not in p.stdout,
               "%s: abigate check on the wheel itself is clean (member and tags)" % t,
               p.stdout + p.stderr)

    same_program(t, v, e, demos, [os.path.join(wd, w) for w in wheels], d)

    # pip uninstall leaves nothing behind.
    p = v.pip(e, "uninstall", "-y", "abigate")
    after = v.files()
    tap.ok(p.returncode == 0 and after == before,
           "%s: pip uninstall abigate leaves the venv as it was" % t,
           "left: %r; removed: %r; %s" % (sorted(after - before), sorted(before - after), p.stderr))


for b in bases:
    check_one(b)

# What the README says a build without isolation needs: a venv as
# `python -m venv` makes it for pyenv's 3.11 (its bundled setuptools, no
# wheel) cannot build the package; with wheel installed it can.
if tap.ok("pyenv-3.11.7" in by_id, "the registry has pyenv's 3.11.7 (its venvs come without wheel)"):
    base = by_id["pyenv-3.11.7"]
    e = testlib.pip_environ(tap)
    path = os.path.join(testlib.workdir("pip-install"), "venv")
    p = testlib.run([base.python, "-m", "venv", path], env=e)
    v = testlib.Venv(base, path)
    q = v.pip(e, "list", "--format=freeze")
    have = dict(l.split("==") for l in q.stdout.split() if "==" in l)
    setuptools = tuple(int(x) for x in have.get("setuptools", "0").split(".")[:2])
    if tap.ok(p.returncode == 0 and "wheel" not in have and (61, 0) <= setuptools < (70, 1),
              "pyenv-3.11.7: a fresh venv has setuptools %s and no wheel" % have.get("setuptools"),
              q.stdout + p.stderr):
        p = v.pip(e, "install", "--no-build-isolation", src)
        tap.ok(p.returncode != 0 and "bdist_wheel" in p.stdout + p.stderr,
               "pyenv-3.11.7, setuptools %s without wheel: the build stops at bdist_wheel, as the "
               "README says" % have.get("setuptools"), (p.stdout + p.stderr)[-1500:])
        p = v.pip(e, "install", "-q", "wheel")
        p = p if p.returncode else v.pip(e, "install", "--no-build-isolation", src)
        tap.ok(p.returncode == 0, "pyenv-3.11.7, setuptools %s with wheel: the build works"
               % have.get("setuptools"), (p.stdout + p.stderr)[-1500:])
tap.done()
