# scripts/common.sh -- shared by scripts/demo and scripts/test (sourced).
# Installs what is missing on Debian 12 (as root), then builds abigate in
# $ABIGATE_BUILD (default: _build in the tree) with ./configure && make.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ABIGATE_BUILD:-$top/_build}
export ABIGATE_CACHE=${ABIGATE_CACHE:-/var/cache/abigate}

say() { printf '\n== %s\n' "$*"; }

# Debian packages the build and the tests need (libblas3/liblapack3: Debian's numpy, which
# the import-gate tests import; patchelf: the PyPI-shaped layouts of tests/load (hashed
# sonames, as auditwheel makes them); the third line: to build CPython 3.13 from source in
# tests/interpreters/provision, and the patched CPythons of patches/build-python; the last two
# lines: Windows and macOS extensions built for real (MinGW-w64's GCC and dlltool; clang with
# lld's ld64.lld and llvm-lipo), and cross compilers for the ELF reader's other machine and
# byte order (AArch64, s390x): about 30 s to install from Debian's mirror here).
# Not here: rustc, which tests/native/pyo3.py needs to build pyo3-ffi 0.28 (rust-version
# 1.83): Debian 12's is 1.63; the test takes the machine's own (PATH, then ~/.cargo/bin:
# rustup's 1.95 on these machines) and fails, saying so, when there is none.
DEPS=(gcc g++ make autoconf automake libtool pkg-config check zlib1g-dev binutils
      python3.11-dev python3.11-dbg python3-setuptools python3-wheel python3-pip valgrind dpkg-dev ca-certificates libblas3 liblapack3
      xz-utils libffi-dev libssl-dev libbz2-dev liblzma-dev libsqlite3-dev patch
      meson ninja-build python3-mesonpy time unzip patchelf
      gcc-mingw-w64-x86-64 gcc-mingw-w64-i686 clang lld llvm-14 gcc-aarch64-linux-gnu
      gcc-s390x-linux-gnu)

install_deps() {
    local missing=() p
    for p in "${DEPS[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing: ${missing[*]}"
    if [ "$(id -u)" != 0 ]; then
        echo "scripts: need root to apt-get install ${missing[*]}" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
        { apt-get update >/dev/null && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
}

build_abigate() {
    say "building abigate in $build"
    if [ ! -x "$top/configure" ] || [ "$top/configure.ac" -nt "$top/configure" ] ||
       [ "$top/Makefile.am" -nt "$top/Makefile.in" ]; then
        (cd "$top" && autoreconf -fi >/dev/null)
    fi
    mkdir -p "$build"
    # The import gate is built for every registered interpreter from 3.8 on.
    local args=(--with-interpreter-registry="$ABIGATE_CACHE/registry.tsv") id py hex
    if [ -f "$ABIGATE_CACHE/registry.tsv" ]; then
        while IFS=$'\t' read -r id py _ hex _; do
            case $id in '#'*) continue ;; esac
            [ $((hex)) -ge $((0x03080000)) ] && args+=(--with-python="$py")
        done <"$ABIGATE_CACHE/registry.tsv"
    fi
    ABIGATE_CONFIGURE_ARGS="${args[*]}" # for make distcheck (the paths have no blanks)
    if [ ! -f "$build/Makefile" ] || [ "$top/configure" -nt "$build/config.status" ] ||
       [ "$(cat "$build/.configure-args" 2>/dev/null)" != "${args[*]}" ]; then
        (cd "$build" && "$top/configure" "${args[@]}" >/dev/null)
        printf '%s' "${args[*]}" >"$build/.configure-args"
    fi
    make -C "$build" -j2 >/dev/null
}
