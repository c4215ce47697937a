"""Legacy files: real third-party extensions from Debian's packages
(python3-yaml, python3-numpy, python3-cryptography, python3-lxml, fetched
by tests/legacy/fetch) carry no record.  `abigate inspect` must read every
one without error and report its tag, the libpython it needs and the Py
symbols it imports -- checked against binutils (nm -D, readelf -d), an
independent reader of the same files."""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
root, found = testlib.legacy_extensions(tap)
PACKAGES = testlib.LEGACY_PACKAGES
everything = [p for pkg in PACKAGES for p in found.get(pkg, [])]
tap.ok(len(everything) >= 20, "at least 20 real extension files (%d)" % len(everything))
rc, doc = testlib.inspect_json(tap, *everything, symbols=True)
tap.eq(rc, 0, "inspect reads every file (exit 0)")
files = {f["path"]: f for f in doc["files"]} if doc else {}


def needed_libpython(path):
    out = testlib.run(["readelf", "-d", path]).stdout
    return re.findall(r"\(NEEDED\).*\[(libpython[^\]]*)\]", out)


for path in everything:
    f = files.get(path)
    short = os.path.relpath(path, root)
    if not tap.ok(f is not None and f["ok"], "%s: read" % short, f):
        continue
    tap.ok(f["record"] is None, "%s: no record" % short)
    base = os.path.basename(path)
    module = base.split(".")[0]
    if ".abi3." in base:
        tap.eq((f["tag"]["kind"], f["tag"]["module"]), ("abi3", module), "%s: tag abi3" % short)
    else:
        tap.eq((f["tag"]["kind"], f["tag"]["python"], f["tag"]["platform"]),
               ("cpython", "3.11", "x86_64-linux-gnu"), "%s: tag cpython-311" % short)
    tap.eq(f["legacy"]["pyinit"], "PyInit_" + module, "%s: exports PyInit_%s" % (short, module))
    tap.eq(f["legacy"]["libpython"], needed_libpython(path), "%s: libpython as readelf -d" % short)
    want = testlib.nm_py_imports(path)
    tap.eq(sorted(f["legacy"]["py_symbols"]), sorted(want),
           "%s: %d imported Py symbols, as nm -D" % (short, len(want)))
    tap.eq(f["legacy"]["py_symbols_weak"], sum(want.values()), "%s: weak count" % short)

# Evidence later issues rely on, asserted on named files:
yaml = [p for p in found["python3-yaml"] if p.endswith("_yaml.cpython-311-x86_64-linux-gnu.so")]
tap.eq(len(yaml), 1, "python3-yaml ships _yaml.cpython-311-x86_64-linux-gnu.so")
if yaml:
    y = files[yaml[0]]["legacy"]
    tap.ok(y["py_symbols_count"] > 50 and "PyUnicode_FromString" in y["py_symbols"],
           "_yaml imports >50 Py symbols incl. PyUnicode_FromString (%d)" % y["py_symbols_count"])
abi3 = [p for p in found["python3-cryptography"] if p.endswith(".abi3.so")]
tap.ok(len(abi3) >= 1, "python3-cryptography ships abi3 modules (%d)" % len(abi3))
for p in abi3:
    tap.ok(files[p]["legacy"]["py_symbols_count"] > 0,
           "%s imports Py symbols (%d)" % (os.path.basename(p), files[p]["legacy"]["py_symbols_count"]))
umath = [p for p in found["python3-numpy"] if "_multiarray_umath" in p]
tap.ok(umath and all(files[p]["legacy"]["py_symbols_count"] > 250 for p in umath),
       "numpy's _multiarray_umath imports >250 Py symbols")
tap.done()
