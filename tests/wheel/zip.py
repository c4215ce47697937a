#!/usr/bin/env python3
"""Wheels read in place (loader/libabigate/zip.c) through the CLI.

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
3. deflate bombs, written by hand from a deflate block repeated: a member
   that inflates to 768 MiB, whose section headers sit at its very end, is
   read with a peak RSS far below its size; one of 2.5 GiB in an archive of
   2.5 MiB is refused by the archive's inflate budget; a wheel of 16 members
   of 8 GiB each (the per-member cap) costs no more than the archive's
   budget, for check and for scan -j 2, in bounded memory and time.
4. directories: `abigate inspect DIR` finds the *.so files and the wheels in it.
5. members a wheel installs outside the import path (<dist>.data/scripts,
   headers, data) are not extension members.
"""
import ctypes
import ctypes.util
import io
import json
import os
import struct
import sys
import zipfile
import zlib

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
                    [(n, read(f)) for n, f in MEMBERS] +
                    [("pkg-1.0.dist-info/WHEEL", b"Tag: cp311-cp311-linux_x86_64\n")])
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

# 2. Structural defects, each with its own code: archives written by zipfile,
# then damaged where each case says.
DEMO = read(demo)
WHEEL = b"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n"


def archive(members=(("pkg/a.so", DEMO), ("pkg-1.0.dist-info/WHEEL", WHEEL)), method=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as z:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # duplicates, on purpose
            for name, data in members:
                z.writestr(name, data)
    return bytearray(buf.getvalue())


def layout(d):
    """(EOCD offset, central directory offset, [(central header, local header, name)])"""
    e = bytes(d).rindex(b"PK\x05\x06")
    n, size, cd = struct.unpack_from("<HII", d, e + 10)
    out, pos = [], cd
    for _ in range(n):
        nlen, xlen, clen = struct.unpack_from("<HHH", d, pos + 28)
        out.append((pos, struct.unpack_from("<I", d, pos + 42)[0], bytes(d[pos + 46:pos + 46 + nlen])))
        pos += 46 + nlen + xlen + clen
    return e, cd, out


def expect(title, data, code, member=None, path=None):
    if path is None:
        path = os.path.join(work, "bad.whl")
        with open(path, "wb") as f:
            f.write(bytes(data))
    rc, doc = inspect(path)
    entries = [d for d in doc or [] if d.get("member") == member]
    err = entries[0].get("error", {}) if entries else {}
    tap.ok(rc == 1 and err.get("code") == code, "%s: %s" % (title, code),
           "exit %d: %s" % (rc, json.dumps(doc)[:1500]))


def patched(fn, members=None, method=zipfile.ZIP_DEFLATED):
    d = archive(members, method) if members else archive(method=method)
    fn(d, *layout(d))
    return d


def p16(d, at, v):
    struct.pack_into("<H", d, at, v)


def p32(d, at, v):
    struct.pack_into("<I", d, at, v)


good = archive()
e0, cd0, ents0 = layout(good)
CASES = [
    ("not a zip archive (an ELF file)", DEMO, "ABIGATE_E_ZIP_NO_END"),
    ("an empty file", b"", "ABIGATE_E_ZIP_NO_END"),
    ("truncated in its end record", good[:-10], "ABIGATE_E_ZIP_NO_END"),
    ("truncated in its central directory", good[:cd0 + 30], "ABIGATE_E_ZIP_NO_END"),
    ("truncated in a member's data", good[:ents0[0][1] + 200], "ABIGATE_E_ZIP_NO_END"),
    ("truncated in a local header", good[:ents0[0][1] + 10], "ABIGATE_E_ZIP_NO_END"),
    ("two end records (the second in the first one's comment)",
     good[:e0 + 20] + struct.pack("<H", 22) + good[e0:e0 + 22], "ABIGATE_E_ZIP_END_AMBIGUOUS"),
    ("an end record asking for ZIP64 without a locator",
     patched(lambda d, e, cd, ents: p16(d, e + 10, 0xffff)), "ABIGATE_E_ZIP_ZIP64"),
    ("an end record on disk 1", patched(lambda d, e, cd, ents: p16(d, e + 4, 1)), "ABIGATE_E_ZIP_MULTIDISK"),
    ("a central directory offset that lies (off by one)",
     patched(lambda d, e, cd, ents: p32(d, e + 16, cd + 1)), "ABIGATE_E_ZIP_CENTRAL"),
    ("a central directory size that lies (too large)",
     patched(lambda d, e, cd, ents: p32(d, e + 12, e - cd + 100)), "ABIGATE_E_ZIP_CENTRAL"),
    ("a central directory offset past the end of the file",
     patched(lambda d, e, cd, ents: p32(d, e + 16, 0x7fffffff)), "ABIGATE_E_ZIP_CENTRAL"),
    ("an entry count that is too small", patched(lambda d, e, cd, ents: (p16(d, e + 8, 1), p16(d, e + 10, 1))),
     "ABIGATE_E_ZIP_CENTRAL"),
    ("an entry count that is too large", patched(lambda d, e, cd, ents: (p16(d, e + 8, 9), p16(d, e + 10, 9))),
     "ABIGATE_E_ZIP_CENTRAL"),
    ("a central header with a broken signature", patched(lambda d, e, cd, ents: p32(d, ents[1][0], 0)),
     "ABIGATE_E_ZIP_CENTRAL"),
    ("a central header whose name runs past the directory",
     patched(lambda d, e, cd, ents: p16(d, ents[1][0] + 28, 5000)), "ABIGATE_E_ZIP_CENTRAL"),
    ("a stored member whose two sizes differ",
     patched(lambda d, e, cd, ents: p32(d, ents[0][0] + 20, 7), method=zipfile.ZIP_STORED),
     "ABIGATE_E_ZIP_CENTRAL"),
    ("a member on another disk", patched(lambda d, e, cd, ents: p16(d, ents[0][0] + 34, 1)),
     "ABIGATE_E_ZIP_MULTIDISK"),
    ("a local header offset past the end of the file",
     patched(lambda d, e, cd, ents: p32(d, ents[1][0] + 42, len(d) + 100)), "ABIGATE_E_ZIP_LOCAL"),
    ("a local header with a broken signature", patched(lambda d, e, cd, ents: p32(d, ents[0][1], 0)),
     "ABIGATE_E_ZIP_LOCAL"),
    ("a local header whose method differs", patched(lambda d, e, cd, ents: p16(d, ents[0][1] + 8, 0)),
     "ABIGATE_E_ZIP_LOCAL"),
    ("a local header whose CRC differs", patched(lambda d, e, cd, ents: p32(d, ents[0][1] + 14, 1)),
     "ABIGATE_E_ZIP_LOCAL"),
    ("a local header whose name differs", patched(lambda d, e, cd, ents: d.__setitem__(
        slice(ents[0][1] + 30, ents[0][1] + 31), b"q")), "ABIGATE_E_ZIP_LOCAL"),
    ("a name that appears twice", archive((("a.so", DEMO), ("a.so", DEMO))), "ABIGATE_E_ZIP_DUPLICATE"),
    ("an empty member name", patched(lambda d, e, cd, ents: p16(d, ents[0][0] + 28, 0)),
     "ABIGATE_E_ZIP_BAD_NAME"),
]
for bad, why in ((b"../x.so", "a '..' component"), (b"/x/x.so", "an absolute name"),
                 (b"x\\x.so", "a backslash"), (b"x/x\0so", "a NUL"), (b"a/../b", "'..' inside")):
    d = archive(((("p" * len(bad)), DEMO),))
    CASES.append(("a member name with %s" % why, bytes(d).replace(b"p" * len(bad), bad), "ABIGATE_E_ZIP_BAD_NAME"))


def overlap(d, e, cd, ents):
    """The first member's compressed size, in both headers, grown so that
    its data runs over the second member's local header."""
    grow = ents[1][1] - ents[0][1]
    for at in (ents[0][1] + 18, ents[0][0] + 20):
        p32(d, at, grow)
        p32(d, at + 4, grow)


CASES.append(("overlapping members", patched(overlap, (("a.so", DEMO), ("b.so", DEMO)), zipfile.ZIP_STORED),
              "ABIGATE_E_ZIP_OVERLAP"))


def quoted(d, e, cd, ents):
    """Fifield's "quoted overlap": the second member's central entry points
    at a copy of its local header inside the first member's (stored) data."""
    inner = archive((("b.so", b"x" * 64),), zipfile.ZIP_STORED)
    _, _, ients = layout(inner)
    lh = bytes(inner[ients[0][1]:ients[0][1] + 30 + 4 + 64])
    a_data = ents[0][1] + 30 + len(ents[0][2])
    d[a_data:a_data + len(lh)] = lh
    p32(d, ents[1][0] + 42, a_data)
    # the central entry of b.so must now agree with the quoted local header
    d[ents[1][0] + 16:ents[1][0] + 28] = lh[14:26]


CASES.append(("a quoted overlap (a member's local header inside another's data)",
              patched(quoted, (("a.so", DEMO), ("b.so", b"y" * 64)), zipfile.ZIP_STORED), "ABIGATE_E_ZIP_OVERLAP"))
CASES.append(("a member whose data runs into the central directory",
              patched(lambda d, e, cd, ents: [p32(d, at, cd - ents[1][1]) for at in
                                              (ents[1][1] + 18, ents[1][1] + 22, ents[1][0] + 20, ents[1][0] + 24)],
                      (("a.so", DEMO), ("b.so", DEMO)), zipfile.ZIP_STORED), "ABIGATE_E_ZIP_OVERLAP"))
for title, flagat, value in (("an unsupported method (bzip2)", 10, 12), ("an encrypted member", 8, 1)):
    CASES.append((title, patched(lambda d, e, cd, ents, f=flagat, v=value: (
        p16(d, ents[0][1] + f - 2, v), p16(d, ents[0][0] + f, v))), "ABIGATE_E_ZIP_METHOD"))
for title, data, code in CASES:
    expect(title, data, code)

# errors of one member, the archive itself being sound
d = archive()
_, _, ents = layout(d)
for i in range(ents[0][1] + 60, ents[0][1] + 200):
    d[i] ^= 0x5A
expect("corrupt DEFLATE data: an error of that member", d, "ABIGATE_E_ZIP_INFLATE", member="pkg/a.so")
d = archive()
_, _, ents = layout(d)
for at in (ents[1][1] + 22, ents[1][0] + 24):
    p32(d, at, len(WHEEL) + 50)
expect("a WHEEL file declaring more bytes than its data inflates to", d, "ABIGATE_E_ZIP_INFLATE",
       member="*.dist-info/WHEEL")
d = archive()
_, _, ents = layout(d)
for at in (ents[1][1] + 22, ents[1][0] + 24):
    p32(d, at, 20)
expect("a WHEEL file that inflates past its declared size", d, "ABIGATE_E_ZIP_INFLATE",
       member="*.dist-info/WHEEL")
fifo = os.path.join(work, "fifo.whl")
os.mkfifo(fifo)
expect("a FIFO named .whl", None, "ABIGATE_E_NOT_REGULAR", path=fifo)
tap.ok(len(CASES) + 4 >= 30, "%d malformed archives, each with its own expected code" % (len(CASES) + 4))
with open(os.path.join(work, "good.whl"), "wb") as f:
    f.write(bytes(good))
rc, doc = inspect(os.path.join(work, "good.whl"))
tap.ok(rc == 0 and doc and doc[0].get("ok"), "the undamaged archive of these cases reads", json.dumps(doc)[:500])

# ZIP64: 65,600 members make zipfile write the ZIP64 end record and locator.
many = os.path.join(work, "many.whl")
with zipfile.ZipFile(many, "w", compression=zipfile.ZIP_STORED) as z:
    for i in range(65600):
        z.writestr("f/%05d.txt" % i, b"")
    z.writestr("demo/x.so", DEMO)
data = bytearray(read(many))
tap.ok(b"PK\x06\x06" in data and b"PK\x06\x07" in data, "zipfile wrote ZIP64 end records")
rc, doc = inspect(many)
tap.ok(rc == 0 and doc and [d.get("member") for d in doc] == ["demo/x.so"] and doc[0]["ok"],
       "a ZIP64 archive of 65,601 members: its one extension read", json.dumps(doc)[:500])
z64 = bytes(data).rindex(b"PK\x06\x06")
loc = bytes(data).rindex(b"PK\x06\x07")
e = bytes(data).rindex(b"PK\x05\x06")
for title, at, fmt, value in (
        ("a ZIP64 end record whose entry count disagrees with the central directory", z64 + 32, "<Q", 65600),
        ("a ZIP64 end record whose directory offset disagrees with the end record's", z64 + 48, "<Q", 12),
        ("a ZIP64 end record whose size field lies", z64 + 4, "<Q", 99),
        ("a ZIP64 locator pointing past the file", loc + 8, "<Q", len(data) * 2),
        ("a ZIP64 locator with a broken signature", loc, "<I", 0)):
    d = bytearray(data)
    struct.pack_into(fmt, d, at, value)
    expect(title, d, "ABIGATE_E_ZIP_ZIP64")
# a count wrapped at 16 bits with no ZIP64 records: 65,601 entries claimed as 65
wrapped = bytearray(data[:z64]) + bytearray(data[e:])
ne = len(wrapped) - 22
struct.pack_into("<HH", wrapped, ne + 8, 65601 % 65536, 65601 % 65536)
expect("an entry count wrapped at 16 bits (no ZIP64 record)", wrapped, "ABIGATE_E_ZIP_CENTRAL")

# 3. Deflate bombs.  A member of DEMO's code, then zeros, then its section
# headers, moved to its very end, so that reading its symbols inflates all
# of it; judged under `ulimit -v` (256 MiB of address space), with its peak
# RSS and time measured.
CHUNK = 1 << 24
libz = ctypes.CDLL(ctypes.util.find_library("z"))
libz.crc32_combine64.restype = ctypes.c_ulong
libz.crc32_combine64.argtypes = (ctypes.c_ulong, ctypes.c_ulong, ctypes.c_int64)


def bomb_member(pad, elf=DEMO):
    """(data, crc, compressed) of a member: `elf`, then `pad` zeros (a
    multiple of CHUNK), then its section headers, moved there: the zeros
    deflated once, their compressed block repeated (a full flush makes
    each block independent), the CRC-32 combined (zlib's crc32_combine64)."""
    head = bytearray(elf)
    shoff, = struct.unpack_from("<Q", head, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", head, 0x3A)
    TABLE = bytes(head[shoff:shoff + shentsize * shnum])
    struct.pack_into("<Q", head, 0x28, len(head) + pad)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(bytes(head)) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(bytes(CHUNK)) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(bytes(CHUNK)) + c.flush(zlib.Z_FULL_FLUSH)
    assert block == again, "a full flush leaves no history"
    last = c.compress(TABLE) + c.flush(zlib.Z_FINISH)
    crc = zlib.crc32(bytes(head))
    zeros, n = zlib.crc32(bytes(CHUNK)), CHUNK
    count = pad // CHUNK
    while count:  # crc of count * CHUNK zeros, by doubling
        if count & 1:
            crc = libz.crc32_combine64(crc, zeros, n)
        zeros, n, count = libz.crc32_combine64(zeros, zeros, n), 2 * n, count >> 1
    crc = zlib.crc32(TABLE, crc)
    size = len(head) + pad + len(TABLE)
    return (first, block, pad // CHUNK, last), crc, size


def write_bomb(path, names, member):
    """A ZIP64 archive of `names`, each holding `member` (bomb_member), its
    compressed data written once per name: no byte shared, as open checks."""
    (first, block, repeat, last), crc, usize = member
    csize = len(first) + len(block) * repeat + len(last)
    central = b""
    with open(path, "wb") as f:
        for name in names:
            off = f.tell()
            raw = name.encode()
            extra = struct.pack("<HHQQ", 1, 16, usize, csize)
            f.write(struct.pack("<IHHHHHIIIHH", 0x04034b50, 45, 0, 8, 0, 0x21, crc,
                                0xFFFFFFFF, 0xFFFFFFFF, len(raw), len(extra)) + raw + extra)
            f.write(first)
            for _ in range(repeat):
                f.write(block)
            f.write(last)
            cextra = struct.pack("<HHQQQ", 1, 24, usize, csize, off)
            central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 45, 45, 0, 8, 0, 0x21, crc,
                                   0xFFFFFFFF, 0xFFFFFFFF, len(raw), len(cextra), 0, 0, 0, 0,
                                   0xFFFFFFFF) + raw + cextra
        cd_off = f.tell()
        f.write(central)
        e64 = f.tell()
        n = len(names)
        f.write(struct.pack("<IQHHIIQQQQ", 0x06064b50, 44, 45, 45, 0, 0, n, n, len(central), cd_off))
        f.write(struct.pack("<IIQI", 0x07064b50, 0, e64, 1))
        f.write(struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0))
    return path


def measured(args):
    """Run the CLI under ulimit -v 256 MiB: (process, peak RSS KiB, seconds)."""
    probe = "ulimit -v 262144 && exec /usr/bin/time -f '%M %e' \"$@\""
    p = testlib.run(["sh", "-c", probe, "sh", cli] + args)
    stats = p.stderr.strip().splitlines()[-1].split() if p.stderr.strip() else ["0", "0"]
    try:
        return p, int(stats[0]), float(stats[1])
    except ValueError:
        return p, 0, 0.0


# a. 768 MiB in one member: within the archive's budget (its floor, 1 GiB), read in place
NAME = "bomb.cpython-311-x86_64-linux-gnu.so"
bomb = write_bomb(os.path.join(work, "bomb-1.0-cp311-cp311-linux_x86_64.whl"), [NAME],
                  bomb_member(768 << 20))
p, rss, secs = measured(["inspect", "--json", bomb])
doc = json.loads(p.stdout)["files"] if p.stdout.strip().startswith("{") else None
tap.ok(doc and doc[0]["ok"] and doc[0]["legacy"]["py_symbols_count"] > 0 and doc[0]["elf"]["size"] > 768 << 20,
       "a member inflating to 768 MiB (section headers at its end) is read in place under ulimit -v "
       "256 MiB (archive %d KiB)" % (os.path.getsize(bomb) // 1024), p.stdout[:500] + p.stderr)
tap.ok(0 < rss < 32 * 1024, "its peak RSS stays bounded: %d KiB (the member is 786,432 KiB); %.1f s"
       % (rss, secs))
p = testlib.run(["unzip", "-tq", bomb])
tap.ok(p.returncode == 0, "the crafted archive is a valid zip (unzip -t: CRCs and sizes)",
       p.stdout + p.stderr)

with open(MEMBERS[1][1], "rb") as f:
    MT = f.read()

# b. 2.5 GiB in an archive of 2.5 MiB: past the archive's budget, refused
bomb = write_bomb(bomb, [NAME], bomb_member(5 << 29))
p, rss, secs = measured(["inspect", "--json", bomb])
doc = json.loads(p.stdout)["files"] if p.stdout.strip().startswith("{") else None
err = doc[0].get("error", {}) if doc else {}
tap.ok(p.returncode == 1 and err.get("code") == "ABIGATE_E_ZIP_TOO_BIG" and "budget" in err.get("message", ""),
       "a member inflating to 2.5 GiB in an archive of %d KiB: ABIGATE_E_ZIP_TOO_BIG, the archive's "
       "budget (1 GiB) spent" % (os.path.getsize(bomb) // 1024), p.stdout[:800] + p.stderr)
tap.ok(0 < rss < 32 * 1024 and secs < 30, "refused in bounded memory and time: %d KiB, %.1f s "
       "(bounds 32 MiB, 30 s)" % (rss, secs))

# c. Many members, each inflating to just under the per-member cap (8 GiB):
# together they may inflate no more than the archive's budget (64 times the
# archive's size), whatever check or scan reads and on however many threads.
# Record-less (numpy's _mt19937), so that judging each needs its symbols.
names = ["pkg/m%02d.cpython-311-x86_64-linux-gnu.so" % i for i in range(16)]
bomb = write_bomb(bomb, names, bomb_member((8 << 30) - CHUNK, MT))
size = os.path.getsize(bomb)
budget = min(16 << 30, max(1 << 30, 64 * size))
for args in (["check", "--json", "--target", "3.11"], ["scan", "--json", "-j", "2", "--target", "3.11"]):
    p, rss, secs = measured(args + [bomb])
    rows = []
    for line in p.stdout.splitlines() if args[0] == "scan" else []:
        d = json.loads(line)
        if "member" in d:
            rows.append(d)
    if args[0] == "check" and p.stdout.strip().startswith("{"):
        rows = json.loads(p.stdout)["files"]
    spent = [r for r in rows if "budget" in r.get("error", {}).get("message", "")]
    judged = [r for r in rows if "verdict" in r]
    tap.ok(len(rows) == len(names) and len(spent) >= len(names) - budget // (8 << 30) - 1
           and all(r.get("error", {}).get("code") == "ABIGATE_E_ZIP_TOO_BIG" for r in rows if r not in judged),
           "%s: a wheel of %d members of 8 GiB each (archive %d MiB, budget %.1f GiB): %d judged, %d "
           "refused once the budget was spent" % (" ".join(args[:1] + args[2:3]), len(names),
                                                  size >> 20, budget / (1 << 30), len(judged), len(spent)),
           p.stdout[:1500] + p.stderr[-500:])
    tap.ok(p.returncode == 2 and 0 < rss < 64 * 1024 and secs < 60,
           "%s: exit 2 (members that cannot be judged), peak RSS %d KiB, %.1f s (bounds 64 MiB, 60 s)"
           % (args[0], rss, secs), "exit %d" % p.returncode)
os.unlink(bomb)

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

# 5. What a wheel installs outside the import path (PEP 427's <dist>.data/
# scripts, headers and data: a native tool's program) is not an extension
# member; what it installs into platlib or purelib is.
tool = write_zip(os.path.join(d, "tool-1.0-py3-none-linux_x86_64.whl"), [
    ("tool-1.0.data/scripts/tool", read(demo)), ("tool-1.0.data/headers/x.so", read(demo)),
    ("tool-1.0.data/data/lib/libx.so", read(demo)), ("tool-1.0.data/platlib/m.so", read(demo)),
    ("tool/bin/helper", read(demo)), ("tool-1.0.data/scriptsx/y.so", read(demo))])
rc, doc = inspect(tool)
tap.eq(sorted(x.get("member") for x in doc or []),
       ["tool-1.0.data/platlib/m.so", "tool-1.0.data/scriptsx/y.so", "tool/bin/helper"],
       "a wheel's scripts, headers and data members are not extension members; platlib's are")
tap.done()
