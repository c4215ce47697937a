"""loader/libabigate/stable-abi.c is what loader/libabigate/gen-stable-abi.py makes of the
Misc/stable_abi.toml of the CPython source that tests/interpreters/provision
unpacked (path in $ABIGATE_CACHE/stable_abi.toml.path): the committed table
and its generator are kept in step, and the PSF license travels with it."""

import filecmp
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
src = testlib.env("ABIGATE_SRCDIR", tap)
cache = os.environ.get("ABIGATE_CACHE", "/var/cache/abigate")
marker = os.path.join(cache, "stable_abi.toml.path")
if not os.path.exists(marker):
    tap.bail("%s is missing: run tests/interpreters/provision (scripts/test does)" % marker)
with open(marker) as f:
    toml = f.read().strip()
tap.ok(os.path.exists(toml), "CPython's stable_abi.toml is in the cache (%s)" % toml)
cpython = os.path.dirname(os.path.dirname(toml))
work = testlib.workdir("stable-abi")
out_c, out_license = os.path.join(work, "stable-abi.c"), os.path.join(work, "PSF-2.0.txt")
p = subprocess.run([sys.executable, os.path.join(src, "loader", "libabigate", "gen-stable-abi.py"), toml,
                    os.path.join(cpython, "LICENSE"), "3.13", out_c, out_license],
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
tap.eq(p.returncode, 0, "the generator runs")
tap.ok(filecmp.cmp(out_c, os.path.join(src, "loader", "libabigate", "stable-abi.c"), shallow=False),
       "loader/libabigate/stable-abi.c is the generator's output, byte for byte")
tap.ok(filecmp.cmp(out_license, os.path.join(src, "LICENSES", "PSF-2.0.txt"), shallow=False),
       "LICENSES/PSF-2.0.txt is the PSF License Agreement of that source")
with open(out_c) as f:
    table = f.read()
tap.ok("Python Software Foundation" in table and "LICENSES/PSF-2.0.txt" in table,
       "the generated table carries the PSF attribution")
tap.ok(table.count('\n    {"') > 700, "the table lists more than 700 stable-ABI symbols")
tap.done()
