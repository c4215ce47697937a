#!/bin/sh
# build-macho.sh OUTDIR -- real Mach-O CPython extension modules (macOS bundles,
# thin x86_64 and arm64, and universal2) built with this machine's LLVM as
# macOS extensions are: clang -target <arch>-apple-macos11, ld64.lld
# -bundle -undefined dynamic_lookup, llvm-lipo -create.
#
# There is no macOS SDK here: the interpreters' own Python headers and the
# host's glibc headers stand in for it (a shim of glibc's x86-only bits
# keyed on __LP64__ instead of __x86_64__, for arm64).  The files are read
# and judged by abigate, never run, so that is enough.
#
# Environment: PY311_INCLUDE (required), PY313T_INCLUDE, PY313D_INCLUDE, PY315_INCLUDE:
# "DIR[:PLATDIR]", an interpreter's include directory and, when its
# pyconfig.h is Debian's multiarch wrapper, the directory of the real one
# (tests/platforms/macho.py passes the registry's).  EXTRA_SOURCE: one more C
# or assembler file compiled into every module (bench/bench_wheelhouse.py:
# 8 MiB of padding).
#
# Configurations, each a directory of OUTDIR holding x86_64/, arm64/ and
# universal2/, one module each, named as CPython names it on macOS:
#   311            version-specific 3.11
#   311-libpython  the same, linked against a stub Python.framework dylib
#   311-record     the same with abigate's record (<abigate/slot.h>)
#   abi3           Py_LIMITED_API=0x030b0000
#   313t           free-threaded 3.13 (PY313T_INCLUDE)
#   313d           a debug build of 3.13 (PY313D_INCLUDE: Py_DEBUG)
#   315            3.15 (PY315_INCLUDE): CPython's own PyABIInfo comes with
#                  its headers' module slots
#   abi3t          3.15's abi3t (Py_TARGET_ABI3T): PEP 793's PyModExport_,
#                  its PySlot array carrying the PyABIInfo
# Writes OUTDIR/MANIFEST, one line per module: "config arch path".  Fails
# (exit 1, saying why) when a tool or the 3.11 headers are missing.
set -eu

out=${1:?usage: build.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
LLVM_BIN=${LLVM_BIN:-/usr/lib/llvm-14/bin}
CLANG=${CLANG:-clang}
LD64=${LD64:-$LLVM_BIN/ld64.lld}
LIPO=${LIPO:-$LLVM_BIN/llvm-lipo}
ARCHS="x86_64 arm64"
MACOS=11.0

for tool in "$CLANG" "$LD64" "$LIPO"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "build-macho.sh: $tool not found (scripts/common.sh installs clang, lld, llvm-14)" >&2
        exit 1
    fi
done
multiarch=$(cc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
: "${PY311_INCLUDE:?build-macho.sh: PY311_INCLUDE (the 3.11 headers) is required}"

mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$out/.work
rm -rf "$work"
mkdir -p "$work"
: >"$out/MANIFEST"

# glibc's headers that test __x86_64__, keyed on __LP64__ (and without
# the i386 regparm attribute): the arm64 target then sees 64-bit types.
sysinc=/usr/include/$multiarch
{ cd "$sysinc" && grep -rl '__x86_64__' bits gnu sys 2>/dev/null; } |
while read -r f; do
    mkdir -p "$work/shim/$(dirname "$f")"
    sed 's/\b__x86_64__\b/__LP64__/g; s/__regparm__ (1)//' "$sysinc/$f" >"$work/shim/$f"
done
mkdir -p "$work/shim/gnu"
printf '#include <gnu/stubs-64.h>\n' >"$work/shim/gnu/stubs.h"

# stage NAME DIR[:PLATDIR]: DIR's headers with the real pyconfig.h (Debian's
# multiarch wrapper keys on __linux__); echoes the staged directory.
stage() {
    d=$work/inc/$1 dir=${2%%:*} plat=${2#*:}
    [ "$plat" = "$2" ] && plat=$dir
    mkdir -p "$d"
    for f in "$dir"/*; do
        [ "$(basename "$f")" = pyconfig.h ] || ln -s "$f" "$d/"
    done
    real=$dir/pyconfig.h
    if grep -q '__linux__' "$real" && [ -f "$plat/pyconfig.h" ]; then
        real=$plat/pyconfig.h
    fi
    cp "$real" "$d/pyconfig.h"
    echo "$d"
}

CFLAGS_COMMON="-fPIC -O2 -U__nonnull -I$work/shim -isystem $sysinc -I$top/slots"

# stub Python.framework dylib, per arch, to link against
echo 'int abigate_macho_stub;' >"$work/stub.c"
for a in $ARCHS; do
    "$CLANG" -target "$a-apple-macos$MACOS" -fPIC -c "$work/stub.c" -o "$work/stub.$a.o"
    "$LD64" -arch "$a" -platform_version macos $MACOS $MACOS -dylib \
        -install_name /Library/Frameworks/Python.framework/Versions/3.11/Python \
        "$work/stub.$a.o" -o "$work/Python.$a"
done

# build CONFIG NAME INCLUDE EXTRA-CFLAGS EXTRA-LDFLAGS
build() {
    config=$1 name=$2 inc=$3 cflags=$4 ldflags=$5
    thin=""
    for a in $ARCHS; do
        mkdir -p "$out/$config/$a"
        obj=$work/$config.$a.o extra=""
        # shellcheck disable=SC2086
        "$CLANG" -target "$a-apple-macos$MACOS" $CFLAGS_COMMON -I"$inc" $cflags \
            -c "$here/ext.c" -o "$obj"
        if [ -n "${EXTRA_SOURCE:-}" ]; then
            extra=$work/$config.$a.extra.o
            "$CLANG" -target "$a-apple-macos$MACOS" -c "$EXTRA_SOURCE" -o "$extra"
        fi
        # shellcheck disable=SC2046,SC2086
        "$LD64" -arch "$a" -platform_version macos $MACOS $MACOS -bundle \
            -undefined dynamic_lookup "$obj" $extra $(echo "$ldflags" | sed "s/@ARCH@/$a/g") \
            -o "$out/$config/$a/$name"
        echo "$config $a $out/$config/$a/$name" >>"$out/MANIFEST"
        thin="$thin $out/$config/$a/$name"
    done
    mkdir -p "$out/$config/universal2"
    # shellcheck disable=SC2086
    "$LIPO" -create $thin -output "$out/$config/universal2/$name"
    echo "$config universal2 $out/$config/universal2/$name" >>"$out/MANIFEST"
}

inc311=$(stage 311 "$PY311_INCLUDE")
build 311 ext.cpython-311-darwin.so "$inc311" "" ""
build 311-libpython ext.cpython-311-darwin.so "$inc311" "" "$work/Python.@ARCH@"
build 311-record ext.cpython-311-darwin.so "$inc311" "-DWITH_RECORD" ""
build abi3 ext.abi3.so "$inc311" "-DPy_LIMITED_API=0x030b0000" ""
if [ -n "${PY313T_INCLUDE:-}" ]; then
    build 313t ext.cpython-313t-darwin.so "$(stage 313t "$PY313T_INCLUDE")" "" ""
fi
if [ -n "${PY313D_INCLUDE:-}" ]; then
    build 313d ext.cpython-313d-darwin.so "$(stage 313d "$PY313D_INCLUDE")" "" ""
fi
if [ -n "${PY315_INCLUDE:-}" ]; then
    inc315=$(stage 315 "$PY315_INCLUDE")
    build 315 ext.cpython-315-darwin.so "$inc315" "-DMULTI_PHASE" ""
    build abi3t ext.abi3t.so "$inc315" \
        "-DMODEXPORT -DPy_LIMITED_API=0x030f0000 -DPy_TARGET_ABI3T=0x030f0000" ""
fi
rm -rf "$work"
echo "build-macho.sh: $(wc -l <"$out/MANIFEST") modules in $out"
