#!/usr/bin/env python3
"""The native record: CPython's own PyABIInfo (3.15's Py_mod_abi slot),
read from a file's data and relocations (docs/FORMAT.md, "The native
record"), and judged as a record (docs/POLICY.md).

1. Built here: tests/native/slots.c compiled by gcc for x86-64 (RELA) and
   i386 (-m32: REL), each also with -z pack-relative-relocs (RELR), each
   with the PyModuleDef_Slot form (PyInit_) and the PySlot form
   (PyModExport_), each with the PyABIInfo static (a RELATIVE relocation)
   or a default-visibility symbol (R_X86_64_64 / R_386_32 against it).
   readelf confirms each file holds the relocation kind it is built for;
   abigate inspect finds the record with the values compiled in.  Files
   that must not give a record: a slot ID of no numbering, no terminator,
   PyABIInfo major 2, a pointer relocated outside the file, a relocation
   table that claims 2^40 bytes (bounded: refused quickly).  Two modules
   whose PyABIInfo differ: ABIGATE_R_RECORD_CONFLICT.  Each threading and
   stable-ABI kind judged on 3.15, 3.15t, 3.14 and 3.13t (specs).
2. Debian sid's CPython 3.15 lib-dynload, release and debug modules: the
   reader agrees, module by module, with an oracle built on readelf's own
   relocation listing (R_X86_64_RELATIVE whose place follows a slot entry
   of ID 109, its addend read as a PyABIInfo); the modules without one are
   listed.  Each module with one is judged by it for the registry's 3.15,
   3.15d, 3.14, 3.13, 3.13t and 3.11, and on 3.15 and 3.15d the verdict
   agrees with the real import of the file copied under a bare name.
3. The gate everywhere: the import hook on 3.13t refuses sid's _queue copied
   as _queue.so by its PyABIInfo; a wheel holding it is judged in place.
4. The slot numbering: tests/native/numbering.c, a real multi-phase module
   without Py_mod_abi, built against sid's 3.15 headers (Py_mod_exec = 85)
   and as a limited-API 3.12 build (those headers keep the old 2): the
   first is refused below 3.15 by its numbering (ABIGATE_R_SLOT_NUMBERING)
   where the real import fails, and accepted and works on 3.15; the second
   gives no such evidence, and works on 3.13.
   The same for AArch64 (RELA from GNU ld; RELR from lld, which GNU ld
   does not write there) and s390x (64-bit big-endian), built by Debian's
   cross compilers and judged for their platform with a spec's platform
   part (3.15-manylinux_2_17_aarch64) and for this machine.
Not here: the PyModuleDef layout (tests/legacy/layout.py).
"""
import json
import os
import re
import shutil
import struct
import sys
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
REQUIRED = ("sid-3.15", "sid-3.15d", "sid-3.14", "3.13", "3.13t", "3.11")
rows, by_id = testlib.registry(tap, required=REQUIRED)
cli = testlib.env("ABIGATE_CLI", tap)
srcdir = testlib.env("ABIGATE_SRCDIR", tap)
work = testlib.workdir("native")
SOURCE = os.path.join(srcdir, "tests", "native", "slots.c")
CC = os.environ.get("CC") or "gcc"


def inspect(path):
    p = testlib.run([cli, "inspect", "--json", path])
    try:
        return json.loads(p.stdout)["files"][0]
    except (ValueError, KeyError, IndexError):
        return {"error": p.stdout + p.stderr}


def check(target, path):
    """(verdict, reason, message) of `abigate check` for a spec or a python."""
    opt = "--python" if os.path.isabs(target) else "--target"
    p = testlib.run([cli, "check", "--json", opt, target, path])
    try:
        f = json.loads(p.stdout)["files"][0]
        return f.get("verdict"), f.get("reason"), f.get("message", "")
    except (ValueError, KeyError, IndexError):
        return None, None, p.stdout + p.stderr


def build(name, defines=(), flags=(), cc=None):
    out = os.path.join(work, name + ".so")
    cmd = [cc or CC, "-shared", "-fPIC", "-O1", "-nostdlib", "-Wall", "-Werror"] + list(flags) + \
        ["-D" + d for d in defines] + [SOURCE, "-o", out]
    p = testlib.run(cmd)
    if p.returncode:
        tap.bail("cannot build %s: %s\n%s" % (name, " ".join(cmd), p.stderr))
    return out


def readelf(*args):
    return testlib.run(["readelf", "-W"] + list(args)).stdout


# ------------------------------------------------------------ 1. built here
TARGETS = {"x86-64": [], "i386": ["-m32", "-ffreestanding"]}
# Other machines and the other byte order, from Debian's cross compilers
# (scripts/common.sh installs them): GNU ld there ignores
# -z pack-relative-relocs, so AArch64's RELR comes from lld.
CROSS = {"aarch64": ("aarch64-linux-gnu-gcc", [], "manylinux_2_17_aarch64"),
         "s390x": ("s390x-linux-gnu-gcc", [], "manylinux_2_17_s390x"),
         "aarch64-lld": ("clang", ["--target=aarch64-linux-gnu", "-fuse-ld=lld"],
                         "manylinux_2_17_aarch64")}
for target, (cc, _, _) in CROSS.items():
    if not shutil.which(cc):
        tap.bail("%s missing: scripts/common.sh installs the cross compilers" % cc)
RELR_FLAGS = {"aarch64-lld": ["-Wl,--pack-dyn-relocs=relr"]}
SYM_RELOC = r"R_(X86_64_64|386_32|AARCH64_ABS64|390_64)\s+\S+\s+abi_info"
for target in list(TARGETS) + list(CROSS):
    tflags = TARGETS[target] if target in TARGETS else CROSS[target][1]
    cc = CROSS[target][0] if target in CROSS else None
    relrs = (False, True) if target in TARGETS or target in RELR_FLAGS else (False,)
    for relr in relrs:
        for form in ("PyModuleDef_Slot", "PySlot"):
            for info in ("static", "symbol"):
                defines = (["PYSLOT"] if form == "PySlot" else []) + \
                    (["GLOBAL_INFO"] if info == "symbol" else [])
                flags = tflags + ((RELR_FLAGS.get(target) or ["-Wl,-z,pack-relative-relocs"])
                                  if relr else [])
                name = "m-%s-%s-%s-%s" % (target, "relr" if relr else "plain", form, info)
                path = build(name, defines, flags, cc)
                relocs, dyn = readelf("-r", path), readelf("-d", path)
                kinds = []
                if "(RELR)" in dyn:
                    kinds.append("RELR")
                if ".rela.dyn" in relocs:
                    kinds.append("RELA")
                if ".rel.dyn" in relocs:
                    kinds.append("REL")
                sym_reloc = re.search(SYM_RELOC, relocs)
                want_kinds = ("RELR" in kinds if relr else ("REL" if target == "i386" else "RELA") in kinds)
                f = inspect(path)
                rec = f.get("record") or {}
                ai = rec.get("abiinfo") or {}
                tap.ok(want_kinds and bool(sym_reloc) == (info == "symbol") and
                       rec.get("state") == "present" and rec.get("via") == "PyABIInfo" and
                       ai.get("flags") == 2 and ai.get("build_version") == "0x030f02f0" and
                       ai.get("abi_version") == "0x030f02f0",
                       "%s: %s; the PyABIInfo (%s) found through them" % (
                           name, "+".join(kinds) + (" with a symbol relocation" if sym_reloc else ""),
                           "global symbol" if info == "symbol" else "static"),
                       json.dumps(f)[:600] + "\n" + relocs[-600:])

# The other machines, judged for their own platform (a spec's platform part)
# and for this machine's: the record settles it, the identity first.
for target, (cc, tflags, platform) in CROSS.items():
    path = build("kind-%s" % target, ["FLAGS=2"], tflags, cc)
    got = {}
    for spec in ("3.15-" + platform, "3.15t-" + platform, "3.14-" + platform, "3.15"):
        verdict, reason, message = check(spec, path)
        got[spec] = "accept" if verdict == "accept" else reason
    tap.eq(got, {"3.15-" + platform: "accept",
                 "3.15t-" + platform: "ABIGATE_R_GIL_ON_FREETHREADED",
                 "3.14-" + platform: "ABIGATE_R_VERSION",
                 "3.15": "ABIGATE_R_BYTE_ORDER" if target == "s390x" else "ABIGATE_R_MACHINE"},
           "%s: a GIL PyABIInfo judged for 3.15, 3.15t, 3.14 on %s, and for this machine" % (
               target, platform))

# What the record says, judged (specs: the record settles it, no symbols).
KINDS = [("GIL", ["FLAGS=2"], {"3.15": "accept", "3.15t": "ABIGATE_R_GIL_ON_FREETHREADED",
                               "3.14": "ABIGATE_R_VERSION", "3.13t": "ABIGATE_R_VERSION"}),
         ("free-threaded", ["FLAGS=4"], {"3.15": "ABIGATE_R_FREETHREADED_ON_GIL", "3.15t": "accept",
                                         "3.14": "ABIGATE_R_VERSION", "3.13t": "ABIGATE_R_VERSION"}),
         ("abi3 3.15", ["FLAGS=3", "ABI=0x030f0000"], {"3.15": "accept", "3.15t": "ABIGATE_R_GIL_ON_FREETHREADED",
                                                       "3.14": "ABIGATE_R_STABLE_TOO_NEW",
                                                       "3.13t": "ABIGATE_R_STABLE_TOO_NEW"}),
         ("abi3t 3.15", ["FLAGS=7", "ABI=0x030f0000"], {"3.15": "accept", "3.15t": "accept",
                                                        "3.14": "ABIGATE_R_ABI3T_TOO_OLD",
                                                        "3.13t": "ABIGATE_R_ABI3T_TOO_OLD"})]
for kind, defines, want in KINDS:
    path = build("kind-" + kind.replace(" ", "-"), defines)
    got = {}
    for spec in want:
        verdict, reason, message = check(spec, path)
        got[spec] = "accept" if verdict == "accept" else reason
        if verdict and not message.startswith("its PyABIInfo (Py_mod_abi): "):
            got[spec] = "message: " + message
    tap.eq(got, want, "a %s PyABIInfo judged as a record on 3.15, 3.15t, 3.14, 3.13t" % kind)

# Files that must not give a record, and a conflict.
for name, defines, why in (("bad-id", ["BAD_ID"], "a slot ID of no numbering (999)"),
                           ("no-terminator", ["NO_TERMINATOR"], "no {0, NULL} terminator"),
                           ("major-2", ["MAJOR=2"], "PyABIInfo major version 2")):
    for target, tflags in TARGETS.items():
        f = inspect(build("%s-%s" % (name, target), defines, tflags))
        tap.ok(f.get("ok") and f.get("record") is None, "%s (%s): no record" % (why, target),
               json.dumps(f)[:400])
conflict = build("conflict", ["SECOND_FLAGS=4"])
f = inspect(conflict)
verdict, reason, message = check("3.15", conflict)
tap.ok((f.get("record") or {}).get("state") == "conflict" and verdict == "refuse" and
       reason == "ABIGATE_R_RECORD_CONFLICT" and "disagree" in message,
       "two modules whose PyABIInfo differ (GIL, free-threaded): ABIGATE_R_RECORD_CONFLICT",
       json.dumps(f)[:300] + message)


def patched(src, name, fn):
    with open(src, "rb") as fh:
        data = bytearray(fh.read())
    fn(data)
    out = os.path.join(work, name + ".so")
    with open(out, "wb") as fh:
        fh.write(data)
    return out


def dynamic_entry(path, tag_name):
    """(file offset of the value of the dynamic entry `tag_name`)."""
    for line in readelf("-l", path).splitlines():
        if line.split()[:1] == ["DYNAMIC"]:
            dyn_off = int(line.split()[1], 16)
    for i, line in enumerate(l for l in readelf("-d", path).splitlines() if l.strip().startswith("0x")):
        if "(%s)" % tag_name in line:
            return dyn_off + 16 * i + 8
    return None


plain = os.path.join(work, "m-x86-64-plain-PyModuleDef_Slot-static.so")
relocs = readelf("-r", plain)
rela_off = int(re.search(r"'\.rela\.dyn' at offset (0x[0-9a-f]+)", relocs).group(1), 16)
n_relative = sum("R_X86_64_RELATIVE" in l for l in relocs.splitlines())


def outside(data):
    """Every RELATIVE addend (the first entries of .rela.dyn) far past the file."""
    for i in range(n_relative):
        struct.pack_into("<Q", data, rela_off + 24 * i + 16, 1 << 40)


f = inspect(patched(plain, "outside", outside))
tap.ok(f.get("ok") and f.get("record") is None, "pointers relocated outside the file: no record",
       json.dumps(f)[:300])
at = dynamic_entry(plain, "RELASZ")
huge = patched(plain, "huge-relocs", lambda d: struct.pack_into("<Q", d, at, 1 << 40))
p = testlib.run(["sh", "-c", "ulimit -v 262144 && exec /usr/bin/time -f '%M %e' \"$@\"", "sh", cli,
                 "inspect", "--json", huge])
stats = p.stderr.strip().splitlines()[-1].split() if p.stderr.strip() else ["0", "0"]
tap.ok(p.returncode in (0, 1) and float(stats[1]) < 5 and int(stats[0]) < 32 * 1024,
       "a relocation table claiming 2^40 bytes: read within bounds (%s KiB, %s s), no crash"
       % (stats[0], stats[1]), p.stdout[-300:] + p.stderr[-300:])

# ------------------------------------------------------------ 2. Debian sid's 3.15
sid = by_id["sid-3.15"]
dynload = os.path.join(os.path.dirname(sid.includes[0].replace("-I", "")).replace("/include", "/lib"),
                       "python3.15", "lib-dynload")
if not os.path.isdir(dynload):
    tap.bail("no lib-dynload at %s" % dynload)
modules = sorted(os.path.join(dynload, m) for m in os.listdir(dynload) if m.endswith(".so"))


def oracle(path):
    """The PyABIInfo values readelf's relocation listing leads to: each
    R_X86_64_RELATIVE whose place follows a slot ID 109 (a PyModuleDef_Slot:
    int 109, 4 bytes of padding; or a PySlot: uint16 109, uint16 flags up
    to 7, uint32 0), its addend read at that address."""
    segs = []
    for line in readelf("-l", path).splitlines():
        w = line.split()
        if w[:1] == ["LOAD"]:
            segs.append((int(w[2], 16), int(w[1], 16), int(w[4], 16)))  # vaddr, offset, filesz
    with open(path, "rb") as fh:
        data = fh.read()

    def at(vaddr, n):
        for va, off, size in segs:
            if va <= vaddr and vaddr + n <= va + size:
                return data[off + vaddr - va: off + vaddr - va + n]
        return None
    found = set()
    for line in readelf("-r", path).splitlines():
        w = line.split()
        if len(w) >= 4 and w[2] == "R_X86_64_RELATIVE":
            place, addend = int(w[0], 16), int(w[3], 16)
            entry = at(place - 8, 8)
            if entry and struct.unpack("<HHI", entry)[0::2] == (109, 0) and \
                    struct.unpack("<HHI", entry)[1] <= 7:
                info = at(addend, 12)
                if info and info[0] == 1:
                    found.add(struct.unpack("<BBHII", info))
    return found


disagree, without, with_record = [], [], []
for path in modules:
    want = oracle(path)
    f = inspect(path)
    rec = f.get("record") or {}
    ai = rec.get("abiinfo") or {}
    got = {(ai["major"], ai["minor"], ai["flags"], int(ai["build_version"], 16), int(ai["abi_version"], 16))} \
        if rec.get("via") == "PyABIInfo" else set()
    if got != want:
        disagree.append((os.path.basename(path), sorted(want), sorted(got)))
    if got:
        with_record.append((path, ai["flags"]))
    else:
        without.append(path)
tap.ok(not disagree and len(with_record) > len(modules) // 2,
       "sid 3.15 lib-dynload: %d of %d modules carry a PyABIInfo, each found with readelf's values; "
       "without one: %s" % (len(with_record), len(modules),
                            ", ".join(sorted({os.path.basename(m).split(".")[0] for m in without}))),
       repr(disagree[:5]))

# Judged by it, on each interpreter; and on 3.15 / 3.15d, the real import agrees.
INTERPS = ["sid-3.15", "sid-3.15d", "sid-3.14", "3.13", "3.13t", "3.11"]
wrong, outcomes = [], {"agree": 0, "library": 0}
for path, flags in with_record:
    debug = ".cpython-315d-" in path
    name = os.path.basename(path).split(".")[0]
    for iid in INTERPS:
        interp = by_id[iid]
        verdict, reason, message = check(interp.python, path)
        if iid == "sid-3.15":
            # a debug build imports debug-only symbols, unless it keeps to the limited API
            want = ("refuse", "ABIGATE_R_DEBUG_SYMBOLS") if debug and not flags & 1 else \
                ("accept", "ABIGATE_R_NONE")
        elif iid == "sid-3.15d":
            want = ("accept", "ABIGATE_R_NONE")
        else:  # what the PyABIInfo rules give below 3.15 (docs/POLICY.md)
            want = ("refuse", "ABIGATE_R_INTERNAL_VERSION" if flags & 8 else
                    "ABIGATE_R_ABI3T_TOO_OLD" if flags & 7 == 7 else
                    "ABIGATE_R_STABLE_TOO_NEW" if flags & 1 else "ABIGATE_R_VERSION")
        if (verdict, reason) != want or not message.startswith("its PyABIInfo (Py_mod_abi): "):
            wrong.append((name, debug, iid, verdict, reason, message[:120]))
        if iid in ("sid-3.15", "sid-3.15d"):
            d = testlib.workdir("native")
            shutil.copy(path, os.path.join(d, name + ".so"))
            p = testlib.run([interp.python, "-s", "-c", "import sys; sys.path.insert(0, %r); import %s; "
                             "print(%s.__file__)" % (d, name, name)])
            imported = p.returncode == 0 and p.stdout.strip().startswith(d)
            if "cannot open shared object file" in p.stderr:
                outcomes["library"] += 1  # a library sid's root lacks: no answer either way
            elif imported == (verdict == "accept"):
                outcomes["agree"] += 1
            else:
                wrong.append((name, debug, iid, verdict, "real import: %s" % imported, p.stderr[-200:]))
tap.ok(not wrong,
       "%d modules judged by their PyABIInfo on %s; on 3.15 and 3.15d the real import of the bare "
       "copy agrees %d times (%d could not load a library sid's root lacks)"
       % (len(with_record), ", ".join(INTERPS), outcomes["agree"], outcomes["library"]),
       "\n".join(repr(w) for w in wrong[:10]))

# The gate everywhere: the import hook on 3.13t refuses a 3.15 GIL module
# copied as a bare .so, by its native record, before loading it; a wheel
# holding it is judged in place by the same record.
queue = [p for p, f in with_record if os.path.basename(p).startswith("_queue.cpython-315-")][0]
t313 = by_id["3.13t"]
e = testlib.gate_env(tap, t313, testlib.workdir("native"), "strict")
d = testlib.workdir("native")
shutil.copy(queue, os.path.join(d, "_queue.so"))
p, doc = testlib.gate_import(t313, "_queue", d, e)
tap.ok(doc is not None and not doc["loaded"] and doc["type"] == "ImportError" and
       "its PyABIInfo (Py_mod_abi)" in (doc.get("message") or "") and
       doc["path"] == os.path.join(d, "_queue.so"),
       "the import gate on 3.13t refuses sid's 3.15 _queue copied as _queue.so, by its PyABIInfo",
       p.stdout + p.stderr)
whl = os.path.join(work, "q-1.0-py3-none-linux_x86_64.whl")
with zipfile.ZipFile(whl, "w", compression=zipfile.ZIP_DEFLATED) as z:
    z.write(queue, "q/_queue.so")
    z.writestr("q-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nTag: py3-none-linux_x86_64\n")
p = testlib.run([cli, "check", "--json", "--target", "3.13t", whl])
try:
    member = json.loads(p.stdout)["files"][0]
except (ValueError, KeyError, IndexError):
    member = {}
tap.ok(member.get("reason") == "ABIGATE_R_INTERNAL_VERSION" and member.get("evidence") == "record" and
       member.get("message", "").startswith("its PyABIInfo (Py_mod_abi): ") and
       [t.get("reason") for t in member.get("tags", [])] == ["ABIGATE_R_WHEEL_NONE_ABI"] * 2,
       "a wheel holding it, judged in place for 3.13t: refused by its PyABIInfo; its none-ABI tags "
       "do not fit a CPython extension (record)", p.stdout[-800:])

# ------------------------------------------------------------ 4. the slot numbering
NUMBERING = os.path.join(srcdir, "tests", "native", "numbering.c")
sid = by_id["sid-3.15"]
for title, flags, want_id in (("3.15 headers", [], 85),
                              ("limited API 3.12 from 3.15 headers", ["-DPy_LIMITED_API=0x030c0000"], 0)):
    d = testlib.workdir("native")
    so = os.path.join(d, "numbering.so")
    p = testlib.run([CC, "-shared", "-fPIC", "-O1", "-Wall", "-Werror"] + sid.system_includes() +
                    flags + [NUMBERING, "-o", so])
    if not tap.ok(p.returncode == 0, "numbering.c builds: %s" % title, p.stderr):
        continue
    doc = inspect(so)
    tap.ok(doc.get("record") is None and doc.get("legacy", {}).get("slot_id_315") == want_id,
           "%s: no record; abigate inspect: slot_id_315 %d" % (title, want_id), json.dumps(doc)[:800])
    seen = []
    for iid in ("3.11", "3.13", "3.13t", "sid-3.14", "sid-3.15"):
        interp = by_id[iid]
        verdict, reason, message = check(interp.python, so)
        p = testlib.run([interp.python, "-s", "-c", "import sys; sys.path.insert(0, %r); import numbering; "
                         "print(numbering.answer)" % d])
        works = p.returncode == 0 and p.stdout.strip() == "42"
        seen.append((iid, verdict, reason, works, (p.stderr.strip().splitlines() or [""])[-1][:90]))
    if want_id:
        tap.ok(all((v, r, w) == ("refuse", "ABIGATE_R_LAYOUT_GIL_ON_FREETHREADED" if i == "3.13t"
                                 else "ABIGATE_R_SLOT_NUMBERING", False)
                   for i, v, r, w, _ in seen[:4]) and
               all("unknown slot ID 85" in e for i, v, r, w, e in seen if i in ("3.11", "3.13", "sid-3.14")),
               "%s, no Py_mod_abi: refused on 3.11, 3.13 and 3.14 by its slot numbering, on 3.13t by "
               "its PyModuleDef's GIL header, where the real import fails (\"unknown slot ID 85\"; "
               "3.13t: its object layout)" % title,
               repr(seen))
        tap.ok(seen[4][1:4] == ("accept", "ABIGATE_R_NONE", True),
               "%s: accepted on 3.15, and it works" % title, repr(seen))
        verdict, reason, message = check(by_id["3.13"].python, so)
        tap.ok("Py_mod_exec = 85" in message and "unknown slot ID 85" in message,
               "%s: the refusal names the slot and what CPython says" % title, message)
    else:
        tap.ok(not [s_ for s_ in seen if s_[2] == "ABIGATE_R_SLOT_NUMBERING"] and
               seen[1][1] == "accept" and seen[1][3],
               "%s: the old numbering is no such evidence; accepted on 3.13, where it works" % title,
               repr(seen))
tap.done()
