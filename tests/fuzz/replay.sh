#!/bin/sh
# Replays the fuzz target (tests/fuzz/replay.c) over its seed corpus:
# the named regressions in tests/fuzz/regressions/ (each crash a fuzzer
# ever found, kept as a file), tests/fuzz/seeds/ (real Windows and macOS
# modules, see its README) and real extension modules of this machine
# (Debian's 3.11 lib-dynload, capped at 60 files).  Hermetic; its second
# half, sid's 3.15 modules from the registry, is replay_native.sh.  Under
# ASan this is the `--enable-fuzzing` smoke test; in a normal build it
# still checks the target's invariants on every input.
set -u
regressions=$ABIGATE_SRCDIR/tests/fuzz/regressions
seeds=$(find "$regressions" "$ABIGATE_SRCDIR/tests/fuzz/seeds" -type f ! -name README 2>/dev/null)
real=$(find /usr/lib/python3.11/lib-dynload -name '*.so' -type f 2>/dev/null | sort | head -n 60)
if [ -z "$real" ]; then
    echo "Bail out! no real extension modules under /usr/lib/python3.11/lib-dynload (python3.11 missing?)"
    exit 99
fi
# shellcheck disable=SC2086
exec "$ABIGATE_BUILDDIR/tests/fuzz/replay" $seeds $real
