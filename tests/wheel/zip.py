#!/usr/bin/env python3
"""Wheels read in place (loader/zip.c) through the CLI.

Archives are written by Python's zipfile (STORED and DEFLATE members, a
ZIP64 archive of 65,600 members), then damaged byte by byte where a test
needs a malformed one.  Asserted:
1. a member read in place gives exactly what the extracted file gives
   (`abigate inspect --json`, symbols included; `abigate check` verdicts),
   for a real extension with the record and a real record-less one (Debian's
   numpy _mt19937), STORED and DEFLATE;
2. each structural defect is refused with its own error code: not a zip,
   two end records, ZIP64 records missing or disagreeing, a central
   directory that does not end at the end records, bad names (empty,
   absolute, "..", backslash, NUL), duplicates, a local header that
   disagrees, overlapping members, an unsupported method, encryption;
   corrupt DEFLATE data is an error of that member only;
3. memory stays bounded: a member that inflates to 256 MiB, whose section
   headers sit at its very end, is judged with a peak RSS far below its size.
4. directories: `abigate inspect DIR` finds the *.so files and the wheels in it.
"""
import io
import json
import os
import resource
import struct
import subprocess
import sys
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
rows, by_id = testlib.registry(tap, required=("3.11", "3.13"))
cli = testlib.env("ABIGATE_CLI", tap)
work = testlib.workdir("wheel-zip")

demo = os.path.join(work, "demo.cpython-311-x86_64-linux-gnu.so")
p, cmd = testlib.build_demo(tap, by_id["3.11"], [], demo)
if not tap.ok(p.returncode == 0, "build demo.so for 3.11", " ".join(cmd) + p.stderr):
    tap.bail("cannot build the demo extension")
root, found = testlib.legacy_extensions(tap)
mt = [f for f in found["python3-numpy"] if os.path.basename(f).startswith("_mt19937.")]
if not tap.ok(len(mt) == 1, "Debian's numpy _mt19937 is unpacked"):
    tap.bail("no _mt19937")
MEMBERS = [("demo/" + os.path.basename(demo), demo), ("numpy/random/" + os.path.basename(mt[0]), mt[0])]


def inspect(*paths):
    p = testlib.run([cli, "inspect", "--json", "--symbols"] + list(paths))
    try:
        return p.returncode, json.loads(p.stdout)["files"]
    except (ValueError, KeyError):
        return p.returncode, None


def write_zip(path, members, method=zipfile.ZIP_DEFLATED, comment=b""):
    with zipfile.ZipFile(path, "w", compression=method) as z:
        for name, data in members:
            z.writestr(name, data)
        z.comment = comment
    return path


def read(path):
    with open(path, "rb") as f:
        return f.read()


# 1. In place equals extracted.
for method, mname in ((zipfile.ZIP_STORED, "STORED"), (zipfile.ZIP_DEFLATED, "DEFLATE")):
    whl = write_zip(os.path.join(work, "pkg-1.0-cp311-cp311-linux_x86_64-%s.whl" % mname),
                    [(n, read(f)) for n, f in MEMBERS] + [("pkg-1.0.dist-info/WHEEL", b"Tag: x\n")])
    rc, doc = inspect(whl)
    got = {d.get("member"): d for d in doc or []}
    tap.ok(rc == 0 and sorted(got) == sorted(n for n, _ in MEMBERS),
           "%s: inspect lists exactly the extension members" % mname, repr(sorted(got)))
    for name, f in MEMBERS:
        _, ref = inspect(f)
        a = dict(got.get(name, {}))
        b = dict(ref[0]) if ref else {}
        for d in (a, b):
            d.pop("path", None)
            d.pop("member", None)
        tap.ok(a == b and a.get("ok"), "%s: %s read in place equals the extracted file" % (mname, name),
               "in place: %s\nextracted: %s" % (json.dumps(a)[:1500], json.dumps(b)[:1500]))
    for rid in ("3.11", "3.13"):
        p1 = testlib.run([cli, "check", "--json", "--python", by_id[rid].python, whl])
        p2 = testlib.run([cli, "check", "--json", "--python", by_id[rid].python] + [f for _, f in MEMBERS])
        v1 = [(d["verdict"], d["reason"]) for d in json.loads(p1.stdout)["files"]]
        v2 = [(d["verdict"], d["reason"]) for d in json.loads(p2.stdout)["files"]]
        tap.ok(v1 == v2 and p1.returncode == p2.returncode and len(v1) == 2,
               "%s: check --python %s: the same verdicts in place (%s)" % (mname, rid, v1),
               "in place: %r; extracted: %r" % (v1, v2))

# 2. Structural defects, each with its own code.
good = read(write_zip(os.path.join(work, "good.whl"), [(n, read(f)) for n, f in MEMBERS]))


def expect(title, data, code, member=None):
    path = os.path.join(work, "bad.whl")
    with open(path, "wb") as f:
        f.write(data)
    rc, doc = inspect(path)
    entries = [d for d in doc or [] if d.get("member") == member]
    err = entries[0].get("error", {}) if entries else {}
    tap.ok(rc == 1 and err.get("code") == code, "%s: %s" % (title, code),
           "exit %d: %s" % (rc, json.dumps(doc)[:1500]))


def eocd_at(data):
    return data.rindex(b"PK\x05\x06")


expect("not a zip archive", b"\x7fELF" + b"\0" * 4000, "ABIGATE_E_ZIP_NO_END")
expect("a truncated archive", good[:-10], "ABIGATE_E_ZIP_NO_END")
inner = good[eocd_at(good):eocd_at(good) + 22]
two = good[:eocd_at(good) + 20] + struct.pack("<H", 22) + inner
expect("two end records (the second in the first one's comment)", two, "ABIGATE_E_ZIP_END_AMBIGUOUS")
e = eocd_at(good)
expect("an end record asking for ZIP64 without a locator",
       good[:e + 10] + b"\xff\xff" + good[e + 12:], "ABIGATE_E_ZIP_ZIP64")
cd_off = struct.unpack("<I", good[e + 16:e + 20])[0]
expect("a central directory offset that is off by one",
       good[:e + 16] + struct.pack("<I", cd_off + 1) + good[e + 20:], "ABIGATE_E_ZIP_CENTRAL")
expect("entry counts that disagree", good[:e + 8] + struct.pack("<HH", 3, 3) + good[e + 12:],
       "ABIGATE_E_ZIP_CENTRAL")

PLACEHOLDER = "demo/x.so"
for bad, why in ((b"../x.so\0\0", "a '..' component"), (b"/demo/x.so"[:9], "an absolute name"),
                 (b"demo\\x.so", "a backslash"), (b"demo/x\0so", "a NUL")):
    data = read(write_zip(os.path.join(work, "n.whl"), [(PLACEHOLDER, read(demo))]))
    bad = bad[:len(PLACEHOLDER)].ljust(len(PLACEHOLDER), b"s")
    expect("a member name with %s" % why, data.replace(PLACEHOLDER.encode(), bad), "ABIGATE_E_ZIP_BAD_NAME")

buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        z.writestr("demo/x.so", read(demo))
        z.writestr("demo/x.so", read(demo))
expect("a name that appears twice", buf.getvalue(), "ABIGATE_E_ZIP_DUPLICATE")

data = read(write_zip(os.path.join(work, "l.whl"), [("demo/a.so", read(demo))]))
first = data.index(b"demo/a.so")  # the local header's copy comes first
expect("a local header whose name differs", data[:first] + b"demo/b.so" + data[first + 9:],
       "ABIGATE_E_ZIP_LOCAL")

# Overlap: the first member's compressed size, in both headers, grown so
# that its data runs over the second member's local header.
data = bytearray(read(write_zip(os.path.join(work, "o.whl"), [("a.so", read(demo)), ("b.so", read(demo))],
                                method=zipfile.ZIP_STORED)))
size = os.path.getsize(demo)
cd = data.index(b"PK\x01\x02")
struct.pack_into("<II", data, 18, size + 100, size + 100)         # local: csize, usize
struct.pack_into("<II", data, cd + 20, size + 100, size + 100)    # central: csize, usize
expect("overlapping members", bytes(data), "ABIGATE_E_ZIP_OVERLAP")

for title, patch in (("an unsupported method (bzip2)", lambda d, c: (struct.pack_into("<H", d, 8, 12),
                                                                      struct.pack_into("<H", d, c + 10, 12))),
                     ("an encrypted member", lambda d, c: (struct.pack_into("<H", d, 6, 1),
                                                           struct.pack_into("<H", d, c + 8, 1)))):
    data = bytearray(read(write_zip(os.path.join(work, "m.whl"), [("a.so", read(demo))])))
    patch(data, data.index(b"PK\x01\x02"))
    expect(title, bytes(data), "ABIGATE_E_ZIP_METHOD")

data = bytearray(read(write_zip(os.path.join(work, "c.whl"), [("a.so", read(demo))])))
for i in range(60, 200):
    data[i] ^= 0x5A
expect("corrupt DEFLATE data: an error of that member", bytes(data), "ABIGATE_E_ZIP_INFLATE", member="a.so")

# ZIP64: 65,600 members make zipfile write the ZIP64 end record and locator.
many = os.path.join(work, "many.whl")
with zipfile.ZipFile(many, "w", compression=zipfile.ZIP_STORED) as z:
    for i in range(65600):
        z.writestr("f/%05d.txt" % i, b"")
    z.writestr("demo/x.so", read(demo))
data = read(many)
tap.ok(b"PK\x06\x06" in data and b"PK\x06\x07" in data, "zipfile wrote ZIP64 end records")
rc, doc = inspect(many)
tap.ok(rc == 0 and doc and [d.get("member") for d in doc] == ["demo/x.so"] and doc[0]["ok"],
       "a ZIP64 archive of 65,601 members: its one extension read", json.dumps(doc)[:500])
z64 = data.rindex(b"PK\x06\x06")
expect("a ZIP64 end record whose entry count disagrees with the central directory",
       data[:z64 + 32] + struct.pack("<Q", 65600) + data[z64 + 40:], "ABIGATE_E_ZIP_ZIP64")

# 3. Bounded memory: 256 MiB of zeros between the code and the section
# headers, which move to the very end; the archive is a few hundred KiB.
elf = bytearray(read(demo))
shoff, = struct.unpack_from("<Q", elf, 0x28)
shentsize, shnum = struct.unpack_from("<HH", elf, 0x3A)
table = bytes(elf[shoff:shoff + shentsize * shnum])
pad = 256 << 20
struct.pack_into("<Q", elf, 0x28, len(elf) + pad)
big = os.path.join(work, "big.cpython-311-x86_64-linux-gnu.so")
with open(big, "wb") as f:
    f.write(elf)
    f.write(b"\0" * pad)
    f.write(table)
bigwhl = os.path.join(work, "big-1.0-cp311-cp311-linux_x86_64.whl")
with zipfile.ZipFile(bigwhl, "w", compression=zipfile.ZIP_DEFLATED) as z:
    z.write(big, "big.cpython-311-x86_64-linux-gnu.so")
os.unlink(big)
probe = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE); "
         "sys.stdout.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) + ' ' + "
         "p.stdout.decode())")
p = testlib.run([sys.executable, "-c", probe, cli, "inspect", "--json", bigwhl])
rss_kib, _, out = p.stdout.partition(" ")
doc = json.loads(out)["files"] if out.strip().startswith("{") else None
tap.ok(doc and doc[0]["ok"] and doc[0]["legacy"]["py_symbols_count"] > 0,
       "a member inflating to 256 MiB (section headers at its end) is read in place "
       "(archive %d KiB)" % (os.path.getsize(bigwhl) // 1024), p.stdout[:500] + p.stderr)
tap.ok(int(rss_kib) < 32 * 1024, "its peak RSS stays bounded: %s KiB (the member is 262,144 KiB)" % rss_kib)

# 4. Directories: the *.so files and the wheels in them.
d = testlib.workdir("wheel-zip")
os.makedirs(os.path.join(d, "sub"))
write_zip(os.path.join(d, "sub", "w-1.0-py3-none-any.whl"), [("m/x.so", read(demo))])
with open(os.path.join(d, "plain.so"), "wb") as f:
    f.write(read(demo))
with open(os.path.join(d, "notes.txt"), "w") as f:
    f.write("not an extension\n")
rc, doc = inspect(d)
names = [(os.path.relpath(x["path"], d), x.get("member")) for x in doc or []]
tap.eq(names, [("plain.so", None), ("sub/w-1.0-py3-none-any.whl", "m/x.so")],
       "inspect DIR: its *.so files and wheel members, in name order")
tap.done()
