#!/bin/sh
# libabigate exports exactly the names of loader/libabigate/libabigate.sym, each in
# the version node the script puts it in: nothing leaks (internal abigate__*
# helpers, static functions), nothing is missing, nothing moved between
# nodes (a binary linked against name@ABIGATE_2 would not find it in
# ABIGATE_3).  The comparison is first shown to catch a moved name.
set -u
lib=$ABIGATE_LIB
sym=$ABIGATE_SRCDIR/loader/libabigate/libabigate.sym
if [ ! -f "$lib" ]; then echo "Bail out! $lib not built"; exit 99; fi

# name@NODE for each name of a version script, sorted
script_names() {
    awk '/^[A-Z][A-Z_0-9]* *\{/ {node = $1}
         /^ *abigate_[a-z_0-9]*;/ {gsub(/[ ;]/, ""); print $0 "@" node}' "$1" | sort
}
want=$(script_names "$sym")
# name@NODE as the dynamic symbol table has them (default versions: @@)
got=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDRB]$/ {print $3}' |
      grep -v '^ABIGATE_[0-9]*@@ABIGATE_[0-9]*$' | sed 's/@@*/@/' | sort)
n=0; fail=0
check() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
differ() { # differ WANT GOT: the lines of each the other lacks
    printf '%s\n' "$1" | grep -vxF "$2" || true
    printf '%s\n' "$2" | grep -vxF "$1" || true
}
extra=$(printf '%s\n' "$got" | grep -vxF "$want" || true)
missing=$(printf '%s\n' "$want" | grep -vxF "$got" || true)
[ -z "$extra" ]; check $? "no unexpected exported symbol, none in another node than the script's"
[ -n "$extra" ] && printf '# exported: %s\n' $extra
[ -z "$missing" ]; check $? "every listed symbol is exported in its node"
[ -n "$missing" ] && printf '# missing: %s\n' $missing
unversioned=$(printf '%s\n' "$got" | grep -v '@' || true)
[ -z "$unversioned" ]; check $? "every exported symbol has a version node"
count=$(printf '%s\n' "$got" | grep -c .)
[ "$count" -ge 10 ]; check $? "export list is not empty ($count symbols)"
# the comparison catches a name moved between nodes: the script with its
# first ABIGATE_2 name moved into ABIGATE_1 differs from the library
moved=$(mktemp)
first=$(awk '/^ABIGATE_2 *\{/ {on = 1} on && /^ *abigate_/ {gsub(/[ ;]/, ""); print; exit}' "$sym")
awk -v name="$first" '
    /^ABIGATE_1 *\{/ {print; getline; print; print "    " name ";"; next}
    $0 ~ "^ *" name ";" {next}
    {print}' "$sym" >"$moved"
d=$(differ "$(script_names "$moved")" "$got")
[ -n "$first" ] && [ -n "$d" ]; check $? "a name moved between nodes ($first to ABIGATE_1) is caught"
rm -f "$moved"
echo "1..$n"
exit $fail
