#!/bin/sh
# Replays the zip fuzz target (tests/fuzz/fuzz_zip.c through replay.c) over
# seed archives made here by real tools: Python's zipfile (STORED, DEFLATE,
# a member forced to ZIP64, a data descriptor from an unseekable stream)
# and `wheel pack`, around a real extension module of this machine, plus
# the named regressions in tests/fuzz/regressions-zip/.
set -u
seeds=$ABIGATE_BUILDDIR/tests/work/fuzz-zip-seeds
so=$(find /usr/lib/python3.11/lib-dynload -name '_typing.cpython-311-*.so' -type f 2>/dev/null | head -n 1)
if [ -z "$so" ]; then
    echo "Bail out! no /usr/lib/python3.11/lib-dynload/_typing.cpython-311-*.so (python3.11 missing?)"
    exit 99
fi
rm -rf "$seeds"; mkdir -p "$seeds"
/usr/bin/python3.11 - "$seeds" "$so" <<'PY' || { echo "Bail out! cannot write the seed archives"; exit 99; }
import io, os, sys, zipfile
out, so = sys.argv[1], sys.argv[2]
data = open(so, "rb").read()
wheel = b"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n"
for name, method in (("stored.whl", zipfile.ZIP_STORED), ("deflate.whl", zipfile.ZIP_DEFLATED)):
    with zipfile.ZipFile(os.path.join(out, name), "w", compression=method) as z:
        z.writestr("pkg/_typing.cpython-311-x86_64-linux-gnu.so", data)
        z.writestr("pkg-1.0.dist-info/WHEEL", wheel)
with zipfile.ZipFile(os.path.join(out, "zip64.whl"), "w", compression=zipfile.ZIP_DEFLATED) as z:
    with z.open("pkg/_typing.so", "w", force_zip64=True) as f:
        f.write(data)
class Unseekable(io.RawIOBase):
    def __init__(self, f): self.f = f
    def writable(self): return True
    def write(self, b): return self.f.write(b)
with open(os.path.join(out, "descriptor.whl"), "wb") as raw:
    with zipfile.ZipFile(Unseekable(raw), "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("pkg/_typing.so", data)
        z.writestr("pkg-1.0.dist-info/WHEEL", wheel)
PY
d=$seeds/pack/pkg-1.0
mkdir -p "$d/pkg" "$d/pkg-1.0.dist-info"
cp "$so" "$d/pkg/"
printf 'Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n' >"$d/pkg-1.0.dist-info/METADATA"
printf 'Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n' >"$d/pkg-1.0.dist-info/WHEEL"
/usr/bin/python3.11 -m wheel pack -d "$seeds" "$d" >/dev/null ||
    { echo "Bail out! wheel pack failed (python3-wheel missing?)"; exit 99; }
regressions=$(find "$ABIGATE_SRCDIR/tests/fuzz/regressions-zip" -type f ! -name README 2>/dev/null)
# shellcheck disable=SC2086
exec "$ABIGATE_BUILDDIR/tests/fuzz/replay_zip" $regressions "$seeds"/*.whl
