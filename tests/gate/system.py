#!/usr/bin/env python3
"""The import hook against the distribution's own interpreter, with nothing
provisioned: the hermetic tier's test of the hook (make check in a build
root, offline, no registry).

The interpreter is configure's SYSTEM_PYTHON3 (python3 from /usr/bin or
/bin: Debian's 3.11 here); its headers come from python3-dev, its debug
headers from python3.X-dbg.  The hook is the one make check built for it
(gate-check/).  Modules are built here from examples/demo.c:
  - good: version-specific, with the record: loads and works;
  - abi3: Py_LIMITED_API 3.8, with the record: loads and works;
  - plain: no record at all (tests/slots/plain.c): judged by its symbols, loads;
  - dbg: built against the debug headers (Py_DEBUG): refused before dlopen,
    where without the gate CPython's dlopen fails on a debug-only symbol;
  - newer: good's record rewritten to say 3.13: refused (ABIGATE_R_VERSION);
  - notelf: text under an extension's name: refused in strict, cannot be judged.
Then the same through `python -m abigate check` and the build's program."""
import json
import os
import shutil
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
srcdir = testlib.env("ABIGATE_SRCDIR", tap)
cli = testlib.env("ABIGATE_CLI", tap)
python = os.environ.get("SYSTEM_PYTHON3") or tap.bail(
    "REQUIRED: SYSTEM_PYTHON3 is not set (configure finds python3 in /usr/bin or /bin; "
    "install python3-dev)")
interp = testlib.system_interpreter(tap, python)
dbg = testlib.system_interpreter(tap, python + "d" if os.path.exists(python + "d")
                                 else "/usr/bin/python3.%dd" % interp.minor)
if not dbg.debug:
    tap.bail("REQUIRED: %s is not a debug build (install python3.%d-dbg)" % (dbg.python, interp.minor))
work = testlib.workdir("gate-system")
cc = os.environ.get("CC") or "gcc"
MARKER = os.path.join(srcdir, "tests", "gate", "marker.c")


def build(name, headers, flags, sources, filename):
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    out = os.path.join(d, filename)
    p = testlib.run([cc, "-shared", "-fPIC", "-O1", "-Wall", "-I" + os.path.join(srcdir, "slots")]
                    + headers.system_includes() + flags + sources + ["-o", out])
    if not tap.ok(p.returncode == 0, "%s: builds against %s's headers" % (name, headers.python),
                  p.stderr):
        tap.bail("cannot build %s" % name)
    return out


def set_record_version(path, hexversion):
    """Rewrite the abigate record's PyABIInfo build and ABI versions in place
    (docs/FORMAT.md: magic "ABIG" at 0, PyABIInfo at 8: build_version at 12,
    abi_version at 16, little-endian here)."""
    with open(path, "r+b") as f:
        data = f.read()
        at = data.find(b"ABIG\x01")
        if at < 0:
            tap.bail("no abigate record in %s" % path)
        f.seek(at + 12)
        f.write(struct.pack("<II", hexversion, hexversion))


demo = os.path.join(srcdir, "examples", "demo.c")
suffix = interp.ext_suffix
files = {
    "good": build("good", interp, [], [demo], "demo" + suffix),
    "abi3": build("abi3", interp, ["-DPy_LIMITED_API=0x03080000"], [demo], "demo.abi3.so"),
    "plain": build("plain", interp, [], [os.path.join(srcdir, "tests", "slots", "plain.c")],
                   "plain" + suffix),
    "dbg": build("dbg", dbg, [], [demo, MARKER], "demo.so"),  # MARKER: told if dlopen ran it
}
newer = os.path.join(work, "newer", "demo.so")
os.makedirs(os.path.dirname(newer))
shutil.copy(files["good"], newer)
set_record_version(newer, 0x030d00f0)
files["newer"] = newer
notelf = os.path.join(work, "notelf", "demo.so")
os.makedirs(os.path.dirname(notelf))
with open(notelf, "w") as f:
    f.write("not an ELF file\n")
files["notelf"] = notelf
# a Windows build copied into a Linux tree under the bare name (tests/fuzz/seeds: MinGW-w64's)
winpe = os.path.join(work, "winpe", "demo.so")
os.makedirs(os.path.dirname(winpe))
shutil.copy(os.path.join(srcdir, "tests", "fuzz", "seeds", "ext.cp313t-win_amd64.pyd"), winpe)

e = testlib.gate_env(tap, interp, os.path.join(work, "userbase"))
strict = testlib.with_mode(e, "strict")
for case, module, use, want in (("good", "demo", testlib.DEMO_USE, "42"),
                                ("abi3", "demo", testlib.DEMO_USE, "42"),
                                ("plain", "plain", "m.answer()", "42")):
    p, doc = testlib.gate_import(interp, module, os.path.dirname(files[case]), strict, use=use)
    tap.ok(doc is not None and doc["loaded"] and doc["use"] == want,
           "%s, PYTHONABIGATE=strict: loads and works" % case, p.stdout + p.stderr)

files_and_pe = dict(files, winpe=winpe)
for case, reason in (("dbg", "ABIGATE_R_DEBUG_SYMBOLS"), ("newer", "ABIGATE_R_VERSION"),
                     ("notelf", "ABIGATE_E_NOT_ELF"), ("winpe", "ABIGATE_R_FORMAT")):
    d = os.path.dirname(files_and_pe[case])
    p, doc = testlib.gate_import(interp, "demo", d, strict)
    tap.ok(doc is not None and not doc["loaded"] and doc["type"] == "ImportError"
           and doc["name"] == "demo" and doc["path"] == files_and_pe[case]
           and doc["reason"] == reason and testlib.GATE_MARKER not in p.stderr,
           "%s, PYTHONABIGATE=strict: ImportError with name, path and %s, before dlopen"
           % (case, reason), p.stdout + p.stderr)
    q, plain = testlib.gate_import(interp, "demo", d, strict, extra_args=["-E"])
    if case == "dbg":
        tap.ok(plain is not None and not plain["loaded"] and plain["reason"] is None
               and "undefined symbol: _Py_RefTotal" in plain["message"],
               "dbg, -E (PYTHONABIGATE ignored): CPython's own dlopen fails after the fact "
               "(undefined symbol: _Py_RefTotal)", q.stdout + q.stderr)
    if case == "winpe":
        tap.ok(plain is not None and not plain["loaded"] and plain["reason"] is None
               and "ELF" in plain["message"],
               "winpe, -E: CPython's own dlopen says only that it is no ELF file",
               q.stdout + q.stderr)
p = testlib.run([python, "-c", "import abigate, sys; print(abigate.inspect(sys.argv[1])['format'])",
                 winpe], env=e)
tap.eq(p.stdout.strip(), "pe", "abigate.inspect() of the Windows build: its format")

# The command-line tools judge for the same interpreter.
p = testlib.run([python, "-m", "abigate", "check"] + [files[k] for k in sorted(files)], env=e)
lines = {l.split(":")[0]: l for l in p.stdout.splitlines()}
verdicts = {k: ("refuse" if ": refuse" in lines.get(files[k], "") else
                "accept" if ": accept" in lines.get(files[k], "") else "error")
            for k in files}
tap.eq(verdicts, {"good": "accept", "abi3": "accept", "plain": "accept", "dbg": "refuse",
                  "newer": "refuse", "notelf": "error"},
       "python -m abigate check (the hook's package runs the program for this interpreter)")
tap.ok(p.returncode == 2 and "not an ELF, PE or Mach-O file" in p.stderr,
       "python -m abigate check: exit 2 (a file that cannot be read), and why on stderr",
       p.stdout + p.stderr)
q = testlib.run([cli, "check", "--python", python] + [files[k] for k in sorted(files)])
tap.ok(q.stdout == p.stdout and q.stderr == p.stderr and q.returncode == p.returncode,
       "abigate check --python %s: the same output and status" % python, q.stdout + q.stderr)
r, doc = testlib.cli_json(tap, "check", ["--python", python, files["dbg"], files["newer"]])
tap.ok(doc is not None and [f.get("reason") for f in doc["files"]] ==
       ["ABIGATE_R_DEBUG_SYMBOLS", "ABIGATE_R_VERSION"],
       "abigate check --json: the rules", json.dumps(doc)[:1500])
tap.done()
