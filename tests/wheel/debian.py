#!/usr/bin/env python3
"""Real wheels of real third-party extensions, and whole trees.

1. Wheels made by `wheel pack` from the unpacked Debian packages
   (tests/legacy/fetch: numpy, yaml, lxml, cryptography, whose two modules
   are abi3), tagged as upstream tags them, then checked read in place
   against 3.11, 3.13 and 3.13t: the verdicts and their evidence; a
   mistagged copy (numpy's renamed cp313) is caught by its file-name tags.
2. `abigate scan` over the Debian trees: yaml refused on 3.13 for
   _PyUnicode_Ready, cryptography's abi3 modules refused on 3.13t and
   accepted on 3.13, everything accepted on 3.11; and over this machine's
   /usr/lib/python3/dist-packages: nothing of Debian's own refused on its
   3.11.
"""
import glob
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
rows, by_id = testlib.registry(tap, required=("3.11", "3.13", "3.13t"))
cli = testlib.env("ABIGATE_CLI", tap)
PY = "/usr/bin/python3.11"
root, found = testlib.legacy_extensions(tap)
work = testlib.workdir("wheel-debian")
wheelhouse = os.path.join(work, "wheelhouse")
os.makedirs(wheelhouse)

# name, version, top-level entries of dist-packages, WHEEL tag (as upstream tags it)
PACKAGES = [
    ("python3-numpy", "numpy", "1.24.2", ["numpy"], "cp311-cp311-linux_x86_64"),
    ("python3-yaml", "PyYAML", "6.0", ["yaml", "_yaml"], "cp311-cp311-linux_x86_64"),
    ("python3-lxml", "lxml", "4.9.2", ["lxml"], "cp311-cp311-linux_x86_64"),
    ("python3-cryptography", "cryptography", "38.0.4", ["cryptography"], "cp37-abi3-linux_x86_64"),
]


def tree(pkg):
    d = glob.glob(os.path.join(root, pkg + "_*", "usr", "lib", "python3", "dist-packages"))
    if not d:
        tap.bail("%s is not unpacked under %s (tests/legacy/fetch)" % (pkg, root))
    return d[0]


wheels = {}
for pkg, name, version, tops, tag in PACKAGES:
    src = os.path.join(work, "%s-%s" % (name, version))
    info = os.path.join(src, "%s-%s.dist-info" % (name, version))
    os.makedirs(info)
    for t in tops:
        p = os.path.join(tree(pkg), t)
        if os.path.isdir(p):
            shutil.copytree(p, os.path.join(src, t))
    with open(os.path.join(info, "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version))
    with open(os.path.join(info, "WHEEL"), "w") as f:
        f.write("Wheel-Version: 1.0\nGenerator: abigate-tests\nRoot-Is-Purelib: false\nTag: %s\n" % tag)
    p = testlib.run([PY, "-m", "wheel", "pack", "-d", wheelhouse, src])
    path = os.path.join(wheelhouse, "%s-%s-%s.whl" % (name, version, tag))
    if tap.ok(p.returncode == 0 and os.path.exists(path), "wheel pack of Debian's %s (%s)" % (pkg, tag),
              p.stdout + p.stderr):
        wheels[name] = path


def check(whl, rid):
    p = testlib.run([cli, "check", "--json", "--python", by_id[rid].python, whl])
    try:
        return p, json.loads(p.stdout)["files"]
    except (ValueError, KeyError):
        return p, []


for name, whl in sorted(wheels.items()):
    p, files = check(whl, "3.11")
    tap.ok(p.returncode == 0 and files and all(f["verdict"] == "accept" and f["evidence"] == "inferred"
                                               for f in files),
           "%s wheel on 3.11: all %d extension members accepted, on evidence (no record)" % (name, len(files)),
           p.stdout[-1500:] + p.stderr)
    tap.ok(all(t["reason"] == "ABIGATE_R_NONE" for f in files for t in f.get("tags", [])) and
           all(len(f.get("tags", [])) == 2 for f in files),
           "%s wheel: every member fits its file-name and WHEEL tags" % name, p.stdout[-1500:])

if "PyYAML" in wheels:
    p, files = check(wheels["PyYAML"], "3.13")
    y = [f for f in files if "/_yaml." in "/" + f["member"]]
    tap.ok(p.returncode == 1 and y and y[0]["reason"] == "ABIGATE_R_MISSING_SYMBOLS"
           and "_PyUnicode_Ready" in y[0]["message"],
           "PyYAML wheel on 3.13: _yaml refused, naming _PyUnicode_Ready", json.dumps(y)[:800])
if "cryptography" in wheels:
    for rid, verdict in (("3.13", "accept"), ("3.13t", "refuse")):
        p, files = check(wheels["cryptography"], rid)
        abi3 = [f for f in files if f["member"].endswith(".abi3.so")]
        tap.ok(len(abi3) == 2 and all(f["verdict"] == verdict for f in abi3),
               "cryptography wheel on %s: its two abi3 modules %s (%s)" % (
                   rid, {"accept": "accepted", "refuse": "refused"}[verdict], ", ".join(sorted(set(f["reason"] for f in abi3)))), json.dumps(abi3)[:1500])
if "numpy" in wheels:
    p, files = check(wheels["numpy"], "3.13")
    tap.ok(p.returncode == 1 and files and all(f["verdict"] == "refuse" for f in files),
           "numpy wheel on 3.13: all %d members refused" % len(files), p.stdout[-800:])
    mistagged = os.path.join(work, "numpy-1.24.2-cp313-cp313-linux_x86_64.whl")
    shutil.copy(wheels["numpy"], mistagged)
    p, files = check(mistagged, "3.11")
    bad = [t for f in files for t in f.get("tags", []) if t["source"] == "file name"]
    tap.ok(p.returncode == 1 and bad and all(t["reason"] == "ABIGATE_R_WHEEL_VERSION" and t["verdict"] == "refuse"
                                             for t in bad),
           "numpy wheel renamed cp313: every member refused by its file-name tags (%d)" % len(bad),
           p.stdout[-800:])

# 2. abigate scan over the Debian trees
trees = [tree(pkg) for pkg, _, _, _, _ in PACKAGES]


def scan(rid, paths):
    p = testlib.run([cli, "scan", "--json", "-j", "2", "--python", by_id[rid].python] + paths)
    docs = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
    return p, docs


p, docs = scan("3.11", trees)
s = [d["summary"] for d in docs if "summary" in d]
tap.ok(p.returncode == 0 and s and s[0]["refuse"] == 0 and s[0]["files"] >= 25,
       "scan of the Debian trees on 3.11: nothing refused (%s files)" % (s[0]["files"] if s else "?"),
       p.stdout[-800:])
p, docs = scan("3.13", trees)
yaml = [d for d in docs if d.get("distribution") == "PyYAML 6.0" and "verdict" in d]
tap.ok(yaml and yaml[0]["verdict"] == "refuse" and "_PyUnicode_Ready" in yaml[0]["message"],
       "scan on 3.13: PyYAML 6.0 (grouped by its RECORD) breaks: _PyUnicode_Ready", json.dumps(yaml)[:600])
crypt = [d for d in docs if d.get("distribution") == "cryptography 38.0.4" and "verdict" in d]
tap.ok(len(crypt) == 2 and all(d["verdict"] == "accept" for d in crypt),
       "scan on 3.13: cryptography's two abi3 modules accepted", json.dumps(crypt)[:600])
p, docs = scan("3.13t", trees)
crypt = [d for d in docs if d.get("distribution") == "cryptography 38.0.4" and "verdict" in d]
tap.ok(len(crypt) == 2 and all(d["verdict"] == "refuse" for d in crypt),
       "scan on 3.13t: cryptography's two abi3 modules refused (%s)" % ", ".join(
           sorted(set(d["reason"] for d in crypt))), json.dumps(crypt)[:600])
tap.eq(p.returncode, 1, "scan on 3.13t: exit 1")

# this machine's own dist-packages: Debian built all of it for its 3.11
p, docs = scan("3.11", ["/usr/lib/python3/dist-packages"])
s = [d["summary"] for d in docs if "summary" in d]
tap.ok(p.returncode == 0 and s and s[0]["refuse"] == 0 and s[0]["errors"] == 0,
       "scan of /usr/lib/python3/dist-packages on Debian's 3.11: nothing refused (%s files in %s "
       "distributions)" % (s[0]["files"] if s else "?", s[0]["distributions"] if s else "?"), p.stdout[-800:])
tap.done()
