#!/bin/sh
# bench/run.sh BUILDDIR SRCDIR [REGISTRY] -- the record-read benchmark (make bench).
# 1. 240 extension files that carry a record: examples/demo.c built against
#    the system's 3.11 headers in 4 configurations, 60 copies each (distinct
#    inodes and names, identical content to the byte: the reader's work per
#    file is what is measured).
# 2. The extension modules installed on this machine (no record: the reader
#    also walks the section headers, a second pread) for comparison.
# 3. Debian sid's CPython 3.15 lib-dynload (REGISTRY's sid-3.15), release
#    modules: most carry CPython's own PyABIInfo (the native record), so
#    "check: read(RECORD) + decide" is their judgement by that record and
#    "check: read(LEGACY) + decide+syms" the judgement by legacy evidence,
#    side by side in one run.
set -eu
build=$1
src=$2
registry=${3-}
work=$build/bench/files
rm -rf "$work"
mkdir -p "$work"
i=0
for flags in "" "-DPy_LIMITED_API=0x03080000" "-DPy_BUILD_CORE_MODULE" "-O0"; do
    # shellcheck disable=SC2086
    gcc -shared -fPIC -O2 $flags -I"$src/slots" -I/usr/include/python3.11 \
        "$src/examples/demo.c" -o "$work/proto$i.so"
    for j in $(seq 1 60); do cp "$work/proto$i.so" "$work/demo$i-$j.cpython-311-x86_64-linux-gnu.so"; done
    rm "$work/proto$i.so"
    i=$((i + 1))
done
echo "== extensions with a record"
"$build/bench/bench_read" -x /usr/bin/python3.11 "$work"/*.so
installed=$(find /usr/lib/python3* -name '*.so' -type f 2>/dev/null | head -n 400)
if [ -n "$installed" ]; then
    echo "== installed extensions (no record)"
    # shellcheck disable=SC2086
    "$build/bench/bench_read" -x /usr/bin/python3.11 $installed
fi
if [ -n "$registry" ] && [ -f "$registry" ]; then
    sid=$(awk -F'\t' '$1 == "sid-3.15" {print $2}' "$registry")
    dynload=$(dirname "$(dirname "$sid")")/root/usr/lib/python3.15/lib-dynload
    if [ -d "$dynload" ]; then
        echo "== sid's 3.15 lib-dynload, release modules (CPython's PyABIInfo)"
        "$build/bench/bench_read" -x /usr/bin/python3.11 "$dynload"/*.cpython-315-x86_64-linux-gnu.so
    fi
fi
