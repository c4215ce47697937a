#!/bin/sh
# libabigate exports exactly the names of loader/libabigate/libabigate.sym, each in
# the version node the script puts it in: nothing leaks (internal abigate__*
# helpers, static functions), nothing is missing, nothing moved between
# nodes (a binary linked against name@ABIGATE_0.2 would not find it in
# another).  The comparison is shown to catch a moved name.  Then the
# soname: a program of the previous release is refused by the loader.
set -u
lib=$ABIGATE_LIB
sym=$ABIGATE_SRCDIR/loader/libabigate/libabigate.sym
if [ ! -f "$lib" ]; then echo "Bail out! $lib not built"; exit 99; fi

# name@NODE for each name of a version script, sorted
script_names() {
    awk '/^[A-Z][A-Z_0-9.]* *\{/ {node = $1}
         /^ *abigate_[a-z_0-9]*;/ {gsub(/[ ;]/, ""); print $0 "@" node}' "$1" | sort
}
want=$(script_names "$sym")
# name@NODE as the dynamic symbol table has them (default versions: @@)
got=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDRB]$/ {print $3}' |
      grep -v '^ABIGATE_[0-9.]*@@ABIGATE_[0-9.]*$' | sed 's/@@*/@/' | sort)
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
# first name moved into a node of its own differs from the library
moved=$(mktemp)
first=$(awk '/^ *abigate_/ {gsub(/[ ;]/, ""); print; exit}' "$sym")
awk -v name="$first" '
    $0 ~ "^ *" name ";" {next}
    {print}
    END {print "ABIGATE_MOVED {"; print "  global:"; print "    " name ";"; print "};"}' "$sym" >"$moved"
d=$(differ "$(script_names "$moved")" "$got")
[ -n "$first" ] && [ -n "$d" ]; check $? "a name moved between nodes ($first to ABIGATE_MOVED) is caught"
rm -f "$moved"

# The soname, as the dynamic loader applies it: a program linked against the
# previous release (libabigate.so.1, abigate_version@ABIGATE_4; a stub built
# here with that soname and node) runs against it and is refused next to
# this library, by soname, and forced onto it, by version node.
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[ "$soname" = libabigate.so.6 ]; check $? "the soname is libabigate.so.6 ($soname)"
w=$(mktemp -d)
printf 'const char *abigate_version(void) { return "0.1.0"; }\n' >"$w/stub.c"
printf 'ABIGATE_4 { global: abigate_version; local: *; };\n' >"$w/old.sym"
printf '#include <stdio.h>\nconst char *abigate_version(void);\nint main(void) { return puts(abigate_version()) < 0; }\n' >"$w/old.c"
mkdir "$w/old" "$w/forced"
${CC:-cc} -shared -fPIC -Wl,-soname,libabigate.so.1 -Wl,--version-script="$w/old.sym" \
    "$w/stub.c" -o "$w/old/libabigate.so.1" &&
    ln -s libabigate.so.1 "$w/old/libabigate.so" &&
    ${CC:-cc} "$w/old.c" -L"$w/old" -labigate -o "$w/prog"
check $? "a program linked against the previous release (libabigate.so.1, abigate_version@ABIGATE_4)"
out=$(LD_LIBRARY_PATH="$w/old" "$w/prog" 2>&1)
[ "$out" = 0.1.0 ]; check $? "it runs against that release"
out=$(LD_LIBRARY_PATH="$(dirname "$lib")" "$w/prog" 2>&1)
case $out in *"libabigate.so.1: cannot open shared object file"*) r=0 ;; *) r=1 ;; esac
check $r "next to this library only, the loader refuses it by soname"
[ $r = 0 ] || echo "# $out"
ln -s "$(readlink -f "$lib")" "$w/forced/libabigate.so.1"
out=$(LD_LIBRARY_PATH="$w/forced" "$w/prog" 2>&1)
case $out in *"ABIGATE_4' not found"*) r=0 ;; *) r=1 ;; esac
check $r "forced onto this library under the old name, the loader refuses it by version node"
[ $r = 0 ] || echo "# $out"
rm -rf "$w"
echo "1..$n"
exit $fail
