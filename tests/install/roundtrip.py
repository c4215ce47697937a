#!/usr/bin/env python3
"""A packager's round trip, hermetic: this source tree configured as a
distribution configures it (--prefix=/usr --libdir=/usr/lib/MULTIARCH), built,
installed into a staging tree with DESTDIR, then used through pkg-config
alone, as a dependent package in the same build root would:

  - what lands where: the headers only under $includedir/abigate/, no C
    source among them, the record's source in $datadir/abigate/, abigate.pc
    with Requires.private: zlib, the library, the program, the man page; no
    Python site-packages touched (no --with-python);
  - examples/embed (its own Makefile: pkg-config abigate and python3-embed)
    built against the staging tree, run: its plugin loads through
    abigate_gate_dlopen;
  - `pkg-config --static` gives what a static link needs (zlib).

The patched CPython is built against such a staging tree through pkg-config
alone by patches/build-python (make check-integration's tests/patched).
(`make check` is not run inside the round trip: it is the run this test is
part of.)"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
srcdir = testlib.env("ABIGATE_SRCDIR", tap)
work = testlib.workdir("install-roundtrip")
cc = os.environ.get("CC") or "gcc"
multiarch = subprocess.run([cc, "-print-multiarch"], capture_output=True, text=True).stdout.strip()
if not multiarch:
    tap.bail("%s -print-multiarch gave nothing" % cc)
libdir = "/usr/lib/" + multiarch
build, root = os.path.join(work, "build"), os.path.join(work, "root")
os.makedirs(build)
e = dict(os.environ, CC=cc)
for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):  # our own make's, not the round trip's
    e.pop(k, None)
# What a packager unpacks: this build's distribution tree (make distdir),
# so that a source tree configured in place can be built elsewhere too.
dist = os.path.join(work, "abigate-src")
p = testlib.run(["make", "-C", testlib.env("ABIGATE_BUILDDIR", tap), "distdir", "distdir=" + dist], env=e)
if not tap.ok(p.returncode == 0, "make distdir: the tree a packager unpacks", p.stdout[-1000:] + p.stderr):
    tap.bail("make distdir failed")
p = testlib.run([os.path.join(dist, "configure"), "--prefix=/usr", "--libdir=" + libdir,
                 "--without-python"], cwd=build, env=e)
if not tap.ok(p.returncode == 0, "configure --prefix=/usr --libdir=%s" % libdir, p.stdout[-2000:] + p.stderr):
    tap.bail("configure failed")
p = testlib.run(["make", "-j2"], cwd=build, env=e)
if not tap.ok(p.returncode == 0, "make", p.stdout[-2000:] + p.stderr[-2000:]):
    tap.bail("make failed")
p = testlib.run(["make", "install", "DESTDIR=" + root], cwd=build, env=e)
if not tap.ok(p.returncode == 0, "make install DESTDIR=...", p.stdout[-2000:] + p.stderr[-2000:]):
    tap.bail("make install failed")

installed = sorted(os.path.relpath(os.path.join(d, f), root)
                   for d, _, fs in os.walk(root) for f in fs)
include = [f for f in installed if f.startswith("usr/include/")]
tap.ok(include and all(f.startswith("usr/include/abigate/") and f.endswith(".h") for f in include),
       "every header under $includedir/abigate/, and nothing but headers", repr(include))
tap.eq(sorted(f[len("usr/include/abigate/"):] for f in include),
       ["abigate.h", "errors.h", "reasons.h", "slot.h", "slots315.h", "universal.h", "version.h"],
       "the library's headers and the authors' headers, together")
tap.ok("usr/share/abigate/abigate-record.c" in installed, "the record's source in $datadir/abigate",
       repr(installed))
want = ["usr/bin/abigate", "usr/share/man/man1/abigate.1", libdir[1:] + "/pkgconfig/abigate.pc",
        libdir[1:] + "/libabigate.so"]
tap.ok(all(f in installed for f in want), "the program, its manual, abigate.pc and the library "
       "in $libdir", repr(installed))
tap.ok(not [f for f in installed if "site-packages" in f or "dist-packages" in f or f.endswith(".pth")],
       "no Python's site-packages touched without --with-python", repr(installed))

pc = dict(e, PKG_CONFIG_SYSROOT_DIR=root, PKG_CONFIG_PATH=os.path.join(root, libdir[1:], "pkgconfig"))
with open(os.path.join(root, libdir[1:], "pkgconfig", "abigate.pc")) as f:
    text = f.read()
tap.ok("Requires.private: zlib" in text, "abigate.pc: Requires.private: zlib", text)
p = testlib.run(["pkg-config", "--static", "--libs", "abigate"], env=pc)
tap.ok(p.returncode == 0 and "-labigate" in p.stdout.split() and "-lz" in p.stdout.split(),
       "pkg-config --static --libs abigate: libabigate and zlib", p.stdout + p.stderr)
p = testlib.run(["pkg-config", "--variable=record_source", "abigate"], env=pc)
tap.eq(p.stdout.strip(), os.path.join(root, "usr/share/abigate/abigate-record.c"),
       "pkg-config --variable=record_source abigate: $datadir/abigate, in the staging tree")
p = testlib.run(["pkg-config", "--cflags", "abigate"], env=pc)
tap.eq(p.stdout.split(), ["-I" + os.path.join(root, "usr/include")],
       "pkg-config --cflags abigate: the staging tree's include directory (PKG_CONFIG_SYSROOT_DIR)")

# examples/embed, as its README says, against the staging tree only.
ex = os.path.join(work, "embed")
shutil.copytree(os.path.join(srcdir, "examples", "embed"), ex)
os.chmod(ex, 0o755)
for name in os.listdir(ex):
    os.chmod(os.path.join(ex, name), 0o644)
# pkg-config as a build root has it: abigate's abigate.pc from the staging
# tree (PKG_CONFIG_SYSROOT_DIR), Python's own from the system, whose paths
# the sysroot must not prefix.
wrapper = os.path.join(work, "pkg-config")
with open(wrapper, "w") as f:
    f.write('#!/bin/sh\ncase " $* " in\n*" abigate "*) exec env PKG_CONFIG_SYSROOT_DIR=%s '
            'PKG_CONFIG_PATH=%s pkg-config "$@" ;;\nesac\nexec pkg-config "$@"\n'
            % (root, pc["PKG_CONFIG_PATH"]))
os.chmod(wrapper, 0o755)
p = testlib.run(["make", "-C", ex, "PYTHON_PC=python3-embed", "PKG_CONFIG=" + wrapper], env=e)
if tap.ok(p.returncode == 0, "examples/embed builds with pkg-config abigate from the staging tree",
          p.stdout[-2000:] + p.stderr[-2000:]):
    p = testlib.run([os.path.join(ex, "host"), "--mode", "strict", os.path.join(ex, "plugins")],
                    env=dict(os.environ, LD_LIBRARY_PATH=os.path.join(root, libdir[1:])))
    tap.ok(p.returncode == 0 and "loaded spam" in p.stdout and "judged 1" in p.stdout,
           "the host, linked with the staged libabigate, judges and loads its plugin",
           p.stdout + p.stderr)
    p = testlib.run(["ldd", os.path.join(ex, "host")],
                    env=dict(os.environ, LD_LIBRARY_PATH=os.path.join(root, libdir[1:])))
    tap.ok(os.path.join(root, libdir[1:], "libabigate.so.6") in p.stdout,
           "the host runs with the staged libabigate.so.6", p.stdout)
shutil.rmtree(work, ignore_errors=True)
tap.done()
