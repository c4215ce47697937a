#!/usr/bin/env python3
"""The record without a C source change (slots/abigate-record.c).

1. For every configuration (3.11, 3.13, 3.13t, 3.13d and 3.15 headers;
   version-specific, limited API, abi3t), record.c compiled with the same
   flags as examples/demo.c (which uses ABIGATE_RECORD) gives the same
   .note.abigate section, byte for byte (binutils' objcopy extracts it).
2. tests/slots/plain.c, a module whose source knows nothing of abigate,
   linked with record.c: abigate inspect reads the record, and the module
   imports and works.
3. setuptools, as an author uses it: abigate.with_record(Extension(...)) in a
   setup.py, built by Debian's setuptools for 3.11 with the gate installed
   (abigate.get_include() from the installed package): the built module
   carries the record, imports and works; the pkg-config file names
   record.c (record_source).
"""
import filecmp
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
rows, by_id = testlib.registry(tap, required=("3.11", "3.13", "3.13t", "3.13d", "sid-3.15"))
srcdir = testlib.env("ABIGATE_SRCDIR", tap)
builddir = testlib.env("ABIGATE_BUILDDIR", tap)
cli = testlib.env("ABIGATE_CLI", tap)
cc = os.environ.get("CC") or "gcc"
work = testlib.workdir("record-tu")
slots = os.path.join(srcdir, "slots")
record_c = os.path.join(slots, "abigate-record.c")
demo_c = os.path.join(srcdir, "examples", "demo.c")
plain_c = os.path.join(srcdir, "tests", "slots", "plain.c")

CONFIGS = [(rid, [], "") for rid in ("3.11", "3.13", "3.13t", "3.13d", "sid-3.15")] + [
    ("3.11", ["-DPy_LIMITED_API=0x03080000"], ""),
    ("3.13", ["-DPy_LIMITED_API=0x030b0000"], ""),
    ("sid-3.15", ["-DPy_LIMITED_API=0x030f0000"], ""),
    ("sid-3.15", ["-DPy_TARGET_ABI3T=0x030f0000"], "ABIGATE_HOOK_MODEXPORT"),
]


def note_of(obj, out):
    p = testlib.run(["objcopy", "-O", "binary", "--only-section=.note.abigate", obj, out])
    return p.returncode == 0 and os.path.getsize(out) > 0


for n, (rid, flags, hooks) in enumerate(CONFIGS):
    interp = by_id[rid]
    what = "%s headers%s" % (rid, " " + " ".join(flags) if flags else "")
    base = [cc, "-c", "-fPIC", "-O1", "-I" + slots] + interp.system_includes() + flags
    a, b = os.path.join(work, "demo%d.o" % n), os.path.join(work, "record%d.o" % n)
    p1 = testlib.run(base + [demo_c, "-o", a])
    p2 = testlib.run(base + (["-DABIGATE_RECORD_HOOKS=" + hooks] if hooks else []) +
                     [record_c, "-o", b])
    if not tap.ok(p1.returncode == 0 and p2.returncode == 0, "%s: demo.c and record.c compile"
                  % what, p1.stderr + p2.stderr):
        continue
    na, nb = a + ".note", b + ".note"
    tap.ok(note_of(a, na) and note_of(b, nb) and filecmp.cmp(na, nb, shallow=False),
           "%s: record.c's record is ABIGATE_RECORD's, byte for byte" % what)

# 2. a module that knows nothing of abigate, linked with record.c
interp = by_id["3.11"]
so = os.path.join(work, "plain", "plain" + interp.ext_suffix)
os.makedirs(os.path.dirname(so))
p = testlib.run([cc, "-shared", "-fPIC", "-O1", "-I" + slots] + interp.system_includes() +
                [plain_c, record_c, "-o", so])
tap.ok(p.returncode == 0, "plain.c + record.c link into an extension", p.stderr)
rc, doc = testlib.inspect_json(tap, so)
rec = doc and doc["files"][0].get("record")
tap.ok(rec is not None and rec.get("state") == "present" and
       rec.get("python_version") == interp.version and rec.get("hooks") == ["PyInit"],
       "abigate inspect reads the record of plain.c + record.c", json.dumps(doc)[:2000])
p = testlib.run([interp.python, "-c", "import plain; print(plain.answer())"],
                cwd=os.path.dirname(so))
tap.eq(p.stdout.strip(), "42", "the module imports and works")

# 3. setuptools, with the installed package's get_include() and with_record()
proj = os.path.join(work, "proj")
os.makedirs(proj)
with open(os.path.join(proj, "plain.c"), "w") as f, open(plain_c) as g:
    f.write(g.read())
with open(os.path.join(proj, "setup.py"), "w") as f:
    f.write("from setuptools import Extension, setup\n"
            "import abigate\n"
            "setup(name='plain', version='1', "
            "ext_modules=[abigate.with_record(Extension('plain', ['plain.c']))])\n")
e = testlib.gate_env(tap, interp, os.path.join(work, "userbase"))
p = testlib.run([interp.python, "-c", "import abigate, os; "
                 "print(os.path.isfile(os.path.join(abigate.get_include(), 'abigate', 'slot.h')))"],
                env=e)
tap.eq(p.stdout.strip(), "True", "abigate.get_include() holds abigate/slot.h (installed package)")
p = testlib.run([interp.python, "setup.py", "-q", "build_ext", "--inplace"], cwd=proj, env=e)
built = [f for f in os.listdir(proj) if f.startswith("plain.") and f.endswith(".so")]
tap.ok(p.returncode == 0 and len(built) == 1, "setuptools builds the extension with "
       "abigate.with_record", p.stdout[-1500:] + p.stderr[-1500:])
if built:
    rc, doc = testlib.inspect_json(tap, os.path.join(proj, built[0]))
    rec = doc and doc["files"][0].get("record")
    tap.ok(rec is not None and rec.get("state") == "present" and
           rec.get("python_version") == interp.version and rec.get("abi") == "version-specific",
           "the setuptools-built module carries the record", json.dumps(doc)[:2000])
    p = testlib.run([interp.python, "-c", "import plain; print(plain.answer())"], cwd=proj)
    tap.eq(p.stdout.strip(), "42", "the setuptools-built module imports and works")

p = testlib.run(["pkg-config", "--variable=record_source", "abigate"],
                env=dict(os.environ, PKG_CONFIG_PATH=builddir))
tap.ok(p.returncode == 0 and p.stdout.strip().endswith("/share/abigate/abigate-record.c"),
       "pkg-config --variable=record_source abigate names the record's source, installed in "
       "$datadir/abigate", p.stdout + p.stderr)
tap.done()
