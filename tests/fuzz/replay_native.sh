#!/bin/sh
# The fuzz target (tests/fuzz/replay.c) over 20 of the registry's sid 3.15
# lib-dynload modules, which carry CPython's own PyABIInfo: the native
# record's reader on real files (the integration tier; replay.sh is the
# hermetic one).
set -u
sid=
[ -f "${ABIGATE_REGISTRY-}" ] && sid=$(awk -F'\t' '$1 == "sid-3.15" {print $2}' "$ABIGATE_REGISTRY")
if [ -z "$sid" ]; then
    echo "Bail out! REQUIRED: the registry ${ABIGATE_REGISTRY-} has no sid-3.15 (tests/interpreters/provision)"
    exit 99
fi
dynload=$(dirname "$(dirname "$sid")")/root/usr/lib/python3.15/lib-dynload
native=$(find "$dynload" -name '*.cpython-315-*.so' -type f 2>/dev/null | sort | head -n 20)
if [ -z "$native" ]; then
    echo "Bail out! no *.cpython-315-*.so under $dynload"
    exit 99
fi
# shellcheck disable=SC2086
exec "$ABIGATE_BUILDDIR/tests/fuzz/replay" $native
