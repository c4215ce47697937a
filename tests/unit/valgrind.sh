#!/bin/sh
# The unit suites once more, under valgrind's memcheck, in one process
# (CK_FORK=no) so that valgrind sees every test.  Any memory error or leak
# fails the run; the TAP from Check passes through.
set -u
if [ -z "${VALGRIND:-}" ] || ! command -v "$VALGRIND" >/dev/null 2>&1; then
    echo "Bail out! valgrind is required (apt-get install valgrind; scripts/test installs it)"
    exit 99
fi
CK_FORK=no exec "$VALGRIND" -q --error-exitcode=3 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --log-fd=2 "$ABIGATE_UNIT"
