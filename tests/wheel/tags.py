#!/usr/bin/env python3
"""A wheel's tags against what its members really are (abigate_wheel_decide
through `abigate check`).

Each wheel is made by a real tool: `wheel pack` (Debian's python3-wheel)
from a directory holding a real extension (examples/demo.c built against
real headers, or Debian's record-less _yaml) and a WHEEL file with the
tags a packager wrote; a renamed copy makes the file name disagree with
WHEEL.  Each mistake of docs/POLICY.md's "Wheel tags against contents" is
refused in strict, named with its source, and accepted with a warning in
warn; the right wheels pass.
"""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
rows, by_id = testlib.registry(tap, required=("3.11", "3.13", "3.13t"))
cli = testlib.env("ABIGATE_CLI", tap)
work = testlib.workdir("wheel-tags")
PY = "/usr/bin/python3.11"
if testlib.run([PY, "-m", "wheel", "version"]).returncode != 0:
    tap.bail("%s -m wheel does not run: apt-get install python3-wheel (scripts/common.sh does)" % PY)

BUILDS = {  # name: (registry id of the headers, cflags, file name)
    "3.11": ("3.11", [], "demo.cpython-311-x86_64-linux-gnu.so"),
    "3.13": ("3.13", [], "demo.cpython-313-x86_64-linux-gnu.so"),
    "3.13t": ("3.13t", [], "demo.cpython-313t-x86_64-linux-gnu.so"),
    "abi3-3.8": ("3.11", ["-DPy_LIMITED_API=0x03080000"], "demo.abi3.so"),
    "abi3-3.11": ("3.11", ["-DPy_LIMITED_API=0x030b0000"], "demo.abi3.so"),
}
built = {}
for key, (rid, cflags, name) in BUILDS.items():
    d = testlib.workdir("wheel-tags")
    p, cmd = testlib.build_demo(tap, by_id[rid], cflags, os.path.join(d, name))
    if not tap.ok(p.returncode == 0, "build demo %s" % key, " ".join(cmd) + p.stderr):
        tap.bail("cannot build demo %s" % key)
    built[key] = os.path.join(d, name)
root, found = testlib.legacy_extensions(tap)
yaml = [f for f in found["python3-yaml"] if os.path.basename(f).startswith("_yaml.")][0]
built["yaml-3.11"] = yaml  # no record: what it is comes from its file name


def pack(member, tags, rename=None):
    """A wheel made by `wheel pack` holding `member` as pkg/<its name>,
    tagged `tags` ("cp313-cp313-linux_x86_64", ...) in WHEEL."""
    d = testlib.workdir("wheel-tags")
    src = os.path.join(d, "pkg-1.0")
    os.makedirs(os.path.join(src, "pkg"))
    os.makedirs(os.path.join(src, "pkg-1.0.dist-info"))
    shutil.copy(built[member], os.path.join(src, "pkg", os.path.basename(built[member])))
    with open(os.path.join(src, "pkg-1.0.dist-info", "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n")
    with open(os.path.join(src, "pkg-1.0.dist-info", "WHEEL"), "w") as f:
        f.write("Wheel-Version: 1.0\nGenerator: abigate-tests\nRoot-Is-Purelib: false\n")
        for t in tags.split():
            f.write("Tag: %s\n" % t)
    out = os.path.join(d, "dist")
    os.makedirs(out)
    p = testlib.run([PY, "-m", "wheel", "pack", "-d", out, src])
    whls = os.listdir(out) if os.path.isdir(out) else []
    if not tap.ok(p.returncode == 0 and len(whls) == 1, "wheel pack %s as %s" % (member, tags),
                  p.stdout + p.stderr):
        return None
    path = os.path.join(out, whls[0])
    if rename:
        os.rename(path, os.path.join(out, rename))
        path = os.path.join(out, rename)
    return path


def check(whl, mode="strict", target="3.11"):
    p = testlib.run([cli, "check", "--json", "--mode", mode, "--target", target, whl])
    try:
        files = json.loads(p.stdout)["files"]
    except (ValueError, KeyError):
        files = []
    tags = {t["source"]: t for f in files for t in f.get("tags", [])}
    return p, tags


# (title, member, WHEEL tags, file name or None, {source: reason})
CASES = [
    ("a cp313 wheel holding a 3.11 build", "3.11", "cp313-cp313-linux_x86_64", None,
     {"file name": "ABIGATE_R_WHEEL_VERSION", "WHEEL": "ABIGATE_R_WHEEL_VERSION"}),
    ("an abi3 wheel holding a version-specific build", "3.11", "cp38-abi3-linux_x86_64", None,
     {"file name": "ABIGATE_R_WHEEL_ABI3", "WHEEL": "ABIGATE_R_WHEEL_ABI3"}),
    ("an abi3 wheel holding a free-threaded build", "3.13t", "cp313-abi3-linux_x86_64", None,
     {"file name": "ABIGATE_R_WHEEL_ABI3", "WHEEL": "ABIGATE_R_WHEEL_ABI3"}),
    ("a cp313t wheel holding a GIL build", "3.13", "cp313-cp313t-linux_x86_64", None,
     {"file name": "ABIGATE_R_WHEEL_THREADING", "WHEEL": "ABIGATE_R_WHEEL_THREADING"}),
    ("a cp313 (GIL) wheel holding a free-threaded build", "3.13t", "cp313-cp313-linux_x86_64", None,
     {"file name": "ABIGATE_R_WHEEL_THREADING", "WHEEL": "ABIGATE_R_WHEEL_THREADING"}),
    ("a none-ABI wheel holding a CPython extension", "abi3-3.8", "py3-none-any", None,
     {"file name": "ABIGATE_R_WHEEL_NONE_ABI", "WHEEL": "ABIGATE_R_WHEEL_NONE_ABI"}),
    ("an aarch64 wheel holding an x86-64 build", "3.11", "cp311-cp311-manylinux_2_17_aarch64", None,
     {"file name": "ABIGATE_R_WHEEL_PLATFORM", "WHEEL": "ABIGATE_R_WHEEL_PLATFORM"}),
    ("a cp38-abi3 wheel holding an abi3 build for 3.11+", "abi3-3.11", "cp38-abi3-linux_x86_64", None,
     {"file name": "ABIGATE_R_WHEEL_VERSION", "WHEEL": "ABIGATE_R_WHEEL_VERSION"}),
    ("a cp313 wheel holding a record-less 3.11 module (Debian's _yaml)", "yaml-3.11",
     "cp313-cp313-linux_x86_64", None,
     {"file name": "ABIGATE_R_WHEEL_VERSION", "WHEEL": "ABIGATE_R_WHEEL_VERSION"}),
    ("a right cp311 wheel renamed cp313 (its WHEEL still right)", "3.11", "cp311-cp311-linux_x86_64",
     "pkg-1.0-cp313-cp313-linux_x86_64.whl",
     {"file name": "ABIGATE_R_WHEEL_VERSION", "WHEEL": "ABIGATE_R_NONE"}),
    # right ones
    ("a right cp311 wheel", "3.11", "cp311-cp311-linux_x86_64", None,
     {"file name": "ABIGATE_R_NONE", "WHEEL": "ABIGATE_R_NONE"}),
    ("a right cp38-abi3 manylinux wheel (two platform tags)", "abi3-3.8",
     "cp38-abi3-manylinux_2_17_x86_64 cp38-abi3-manylinux2014_x86_64", None,
     {"file name": "ABIGATE_R_NONE", "WHEEL": "ABIGATE_R_NONE"}),
    ("a right cp313t wheel", "3.13t", "cp313-cp313t-linux_x86_64", None,
     {"file name": "ABIGATE_R_NONE", "WHEEL": "ABIGATE_R_NONE"}),
    ("an abi3 3.8+ build in a cp311 wheel", "abi3-3.8", "cp311-cp311-linux_x86_64", None,
     {"file name": "ABIGATE_R_NONE", "WHEEL": "ABIGATE_R_NONE"}),
]

for title, member, tags, rename, want in CASES:
    whl = pack(member, tags, rename)
    if not whl:
        continue
    p, got = check(whl)
    reasons = {s: t["reason"] for s, t in got.items()}
    tap.eq(reasons, want, "%s: %s" % (title, ", ".join("%s %s" % kv for kv in sorted(want.items()))))
    wrong = [s for s, r in want.items() if r != "ABIGATE_R_NONE"]
    if wrong:
        msgs = [got[s]["message"] for s in wrong if s in got]
        tap.ok(p.returncode == 1 and all(got[s]["verdict"] == "refuse" for s in wrong if s in got)
               and all("does not fit" in m for m in msgs),
               "%s: strict refuses the wheel, naming the tag" % title, p.stdout[-1500:])
        p, got = check(whl, mode="warn")
        tap.ok(all(got[s]["verdict"] == "accept" and got[s]["warning"] for s in wrong if s in got)
               and all(got[s]["reason"] != "ABIGATE_R_NONE" for s in wrong),
               "%s: warn accepts it with a warning" % title, p.stdout[-1500:])
        # the human line names the member and the rule
        h = testlib.run([cli, "check", "--target", "3.11", whl])
        tap.ok(("%s/pkg/" % whl) in h.stdout and wrong and want[wrong[0]] in h.stdout,
               "%s: the text line names the member and the rule" % title, h.stdout)
    else:
        tap.ok(all(t["verdict"] == "accept" and not t["warning"] for t in got.values()),
               "%s: the tags fit" % title, p.stdout[-1500:])

# A WHEEL file that cannot give every tag (issue 26): missing, a malformed
# Tag line, 70 tags (64 are read).  The wheel would escape the check against
# its WHEEL tags: ABIGATE_R_WHEEL_METADATA, refused in strict, a warning in
# warn.  The archives are the right cp311 wheel, rewritten by zipfile.
import zipfile  # noqa: E402
good = pack("3.11", "cp311-cp311-linux_x86_64")
many = "".join("Tag: cp3%d-cp3%d-linux_x86_64\n" % (i, i) for i in (11,) + tuple(range(20, 89)))
for title, wheel_text, words in (("no WHEEL file", None, "no *.dist-info/WHEEL"),
                                 ("a malformed Tag line", "Wheel-Version: 1.0\nTag: x\n",
                                  "malformed Tag line"),
                                 ("70 tags", "Wheel-Version: 1.0\n" + many, "more than 64 tags")):
    d = testlib.workdir("wheel-tags")
    whl = os.path.join(d, os.path.basename(good))
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(whl, "w") as dst:
        for info in src.infolist():
            if info.filename.endswith(".dist-info/WHEEL"):
                if wheel_text is not None:
                    dst.writestr(info, wheel_text)
            else:
                dst.writestr(info, src.read(info))
    p, got = check(whl)
    t = got.get("WHEEL", {})
    tap.ok(p.returncode == 1 and t.get("reason") == "ABIGATE_R_WHEEL_METADATA" and t.get("verdict") == "refuse"
           and words in t.get("message", "") and got.get("file name", {}).get("reason") == "ABIGATE_R_NONE",
           "%s: strict refuses the wheel with ABIGATE_R_WHEEL_METADATA, saying why" % title,
           p.stdout[-1500:])
    p, got = check(whl, mode="warn")
    t = got.get("WHEEL", {})
    tap.ok(p.returncode == 0 and t.get("reason") == "ABIGATE_R_WHEEL_METADATA" and t.get("warning"),
           "%s: warn accepts it with a warning" % title, p.stdout[-1500:])
tap.done()
