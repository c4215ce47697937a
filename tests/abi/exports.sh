#!/bin/sh
# libabigate exports exactly the names of loader/libabigate.sym: nothing
# leaks (internal abigate__* helpers, static functions), nothing is missing.
set -u
lib=$ABIGATE_LIB
sym=$ABIGATE_SRCDIR/loader/libabigate.sym
if [ ! -f "$lib" ]; then echo "Bail out! $lib not built"; exit 99; fi
want=$(sed -n 's/^ *\(abigate_[a-z_0-9]*\);$/\1/p' "$sym" | sort)
got=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDRB]$/ {print $3}' | sed 's/@.*//' | grep -v "^ABIGATE_[0-9]*$" | sort)
n=0; fail=0
check() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
extra=$(printf '%s\n' "$got" | grep -vxF "$want" || true)
missing=$(printf '%s\n' "$want" | grep -vxF "$got" || true)
[ -z "$extra" ]; check $? "no unexpected exported symbol"
[ -n "$extra" ] && printf '# leaked: %s\n' $extra
[ -z "$missing" ]; check $? "every listed symbol is exported"
[ -n "$missing" ] && printf '# missing: %s\n' $missing
count=$(printf '%s\n' "$got" | grep -c .)
[ "$count" -ge 10 ]; check $? "export list is not empty ($count symbols)"
echo "1..$n"
exit $fail
