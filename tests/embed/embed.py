#!/usr/bin/env python3
"""The embedder API for real: examples/embed/host.c, a C program that embeds
CPython (3.11 from Debian through pkg-config python-3.11-embed, and the 3.13
build of the registry), loads a directory of real plugins through
abigate_gate_dlopen, and calls them.

For each host: the right plugins load and work; the wrong ones (another
version, a debug build, a renamed free-threaded build, a text file, and on
3.13 a stable-ABI build whose 3.15 headers call a 3.14 function under a 3.13
floor, nanobind#1183) are refused with the expected rule and never loaded;
the process never crashes; no descriptor leaks.  The same with one thread
per plugin through one gate (each judged once), under helgrind once; and a
rename race between the judgement and the load that never gets the refused
file loaded.  The README's embedder snippet is compiled and run too.
"""
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
rows, by_id = testlib.registry(tap, required=("3.11", "3.11d", "3.13", "3.13d", "3.13t",
                                              "sid-3.15"))
srcdir = testlib.env("ABIGATE_SRCDIR", tap)
cc = os.environ.get("CC") or "gcc"
work = testlib.workdir("embed")
plugin_c = os.path.join(srcdir, "examples", "embed", "plugin.c")


def build_host(rid, source=None, out=None):
    out = out or os.path.join(work, "host-" + rid)
    p, cmd = testlib.build_embed_host(tap, by_id[rid], out, source)
    tap.ok(p.returncode == 0, "%s builds against %s's embed flags" % (os.path.basename(out), rid),
           " ".join(cmd) + "\n" + p.stderr)
    return out


def build_plugin(rid, out, name, build="good", cflags=()):
    cmd = [cc, "-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-DPLUGIN_NAME=" + name,
           '-DPLUGIN_BUILD="%s"' % build, "-I" + os.path.join(srcdir, "slots")] + \
        list(cflags) + by_id[rid].system_includes() + [plugin_c, "-o", out]
    p = testlib.run(cmd)
    if p.returncode:
        tap.bail("cannot build plugin %s: %s\n%s" % (out, " ".join(cmd), p.stderr))
    return out


def run_host(host, args, tool=()):
    e = dict(os.environ)
    e.pop("PYTHONABIGATE", None)
    e.pop("PYTHONHOME", None)
    return testlib.run(list(tool) + [host] + list(args), env=e, timeout=600)


def results(out):
    """{name: ('loaded'|'refused'|'failed'|'warning', line)} and the summary."""
    got, summary = {}, None
    for line in out.splitlines():
        m = re.match(r"loaded (\w+): ", line)
        if m:
            got[m.group(1)] = ("loaded", line)
            continue
        m = re.match(r"(refused|failed|warning|error): cannot load '(\w+)'", line)
        if m:
            got.setdefault(m.group(2), (m.group(1), line))
            continue
        m = re.match(r"judged (\d+), symbols read (\d+), fds before (\d+) after (\d+)", line)
        if m:
            summary = tuple(int(x) for x in m.groups())
    return got, summary


# Each host: (plugin file, module, headers of, cflags, expected outcome, rule, words)
NAME311 = ".cpython-311-x86_64-linux-gnu.so"
PLUGINS = {
    "3.11": [
        ("good.so", "good", "3.11", [], "loaded", None, "3.11.2"),
        ("stable.abi3.so", "stable", "3.11", ["-DPy_LIMITED_API=0x03080000"], "loaded", None, ""),
        ("newer.so", "newer", "3.13", [], "refused", "ABIGATE_R_VERSION", "3.13"),
        ("dbg.so", "dbg", "3.11d", [], "refused", "ABIGATE_R_DEBUG_SYMBOLS", "_Py"),
        ("renamed" + NAME311, "renamed", "3.13t", [], "refused", "ABIGATE_R_VERSION",
         "free-threaded"),
        ("notes.so", "notes", None, [], "refused", "ABIGATE_E_NOT_ELF", "cannot be judged"),
    ],
    "3.13": [
        ("good.so", "good", "3.13", [], "loaded", None, "3.13.15"),
        ("stable.abi3.so", "stable", "3.11", ["-DPy_LIMITED_API=0x03080000"], "loaded", None, ""),
        ("older" + NAME311, "older", "3.11", [], "refused", "ABIGATE_R_VERSION", "3.11"),
        ("dbg.so", "dbg", "3.13d", [], "refused", "ABIGATE_R_DEBUG_SYMBOLS", "_Py"),
        ("renamed.so", "renamed", "3.13t", [], "refused", "ABIGATE_R_FREETHREADED_ON_GIL",
         "free-threaded"),
        ("notes.so", "notes", None, [], "refused", "ABIGATE_E_NOT_ELF", "cannot be judged"),
        # nanobind#1183: 3.15 headers, a 3.13 floor, a 3.14 function called
        ("nano.abi3.so", "nano", "sid-3.15", ["-DPy_LIMITED_API=0x030d0000", "-DPLUGIN_CALL_NEWER"],
         "refused", "ABIGATE_R_MISSING_SYMBOLS", "PyLong_FromInt32"),
    ],
}

for rid, plugins in PLUGINS.items():
    host = build_host(rid)
    pdir = os.path.join(work, "plugins-" + rid)
    os.makedirs(pdir)
    for fname, name, headers, cflags, _, _, _ in plugins:
        out = os.path.join(pdir, fname)
        if headers is None:
            with open(out, "w") as f:
                f.write("not a shared object\n")
        else:
            build_plugin(headers, out, name, cflags=cflags)
    n = len(plugins)

    for threads in (False, True):
        how = "one thread per plugin, one gate" if threads else "in turn"
        p = run_host(host, (["--threads"] if threads else []) + [pdir])
        got, summary = results(p.stdout)
        tap.ok(p.returncode == 0, "%s host (%s): exits 0, no crash" % (rid, how),
               "status %d\n%s\n%s" % (p.returncode, p.stdout, p.stderr))
        for fname, name, headers, cflags, want, rule, words in plugins:
            outcome, line = got.get(name, ("missing", ""))
            ok = outcome == want and (rule is None or line.endswith("[%s]" % rule)) and \
                words in line
            if want == "loaded":
                ok = ok and ("hello from %s" % name) in line
            else:
                ok = ok and line.startswith("refused: cannot load '%s' from %s: " % (
                    name, os.path.join(pdir, fname)))
            tap.ok(ok, "%s host (%s): %s %s%s" % (rid, how, fname, want,
                                                   " [%s]" % rule if rule else ""),
                   p.stdout + p.stderr)
        tap.ok(summary is not None and summary[0] == n,
               "%s host (%s): every plugin judged exactly once (%s of %d)" % (
                   rid, how, summary and summary[0], n), p.stdout)
        tap.ok(summary is not None and summary[2] == summary[3],
               "%s host (%s): no descriptor leaked (fds before/after %s)" % (
                   rid, how, summary and summary[2:]), p.stdout)

    # Record first: the records settle every plugin but dbg (a debug build on
    # a release runtime) and nano (3.15 headers on 3.13): only their symbol
    # tables are read (the text file cannot be read at all).
    p = run_host(host, [pdir])
    got, summary = results(p.stdout)
    want_syms = sum(1 for _, name, *_ in plugins if name in ("dbg", "nano"))
    tap.ok(summary is not None and summary[1] == want_syms,
           "%s host: the symbol table was read only where the record cannot settle it "
           "(%s of %d files: the debug build%s)" % (
               rid, summary and summary[1], n, " and the 3.15-headers build" if rid == "3.13" else ""),
           p.stdout)

    # Without the gate the same mistake fails late (mode off: the file is dlopen()ed).
    if rid == "3.13":
        alone = os.path.join(work, "nano-alone")
        os.makedirs(alone)
        shutil.copy(os.path.join(pdir, "nano.abi3.so"), alone)
        p = run_host(host, ["--mode", "off", alone])
        got, _ = results(p.stdout)
        outcome, line = got.get("nano", ("missing", ""))
        tap.ok(outcome == "failed" and "undefined symbol: PyLong_FromInt32" in line,
               "3.13 host, mode off: the nanobind-style plugin fails only in dlopen "
               "(undefined symbol), the gate refused it before", p.stdout)

    # The rename race: TARGET is GOOD (this host's build) or BAD (a 3.13t build,
    # refused on both hosts) in turn, swapped while the host loads it 300 times;
    # then the same with both NEEDing a library vendored through RUNPATH
    # $ORIGIN/vlibs-RID (the same-file load's search stand-in at work).
    vlibs = os.path.join(work, "vlibs-" + rid)
    os.makedirs(vlibs)
    vsrc = os.path.join(vlibs, "libv.c")
    with open(vsrc, "w") as f:
        f.write("int libv_value(void) { return 7; }\n")
    q = testlib.run([cc, "-shared", "-fPIC", "-o", os.path.join(vlibs, "libv-9c0ffee1.so.1"), vsrc,
                     "-Wl,-soname,libv-9c0ffee1.so.1"])
    if q.returncode:
        tap.bail("cannot build the vendored library: %s" % q.stderr)
    vendored = ["-Wl,--no-as-needed", "-L" + vlibs, "-l:libv-9c0ffee1.so.1",
                "-Wl,--enable-new-dtags,-rpath,$ORIGIN/vlibs-" + rid]
    for label, tag, cflags in (("", "", []), (", vendored through $ORIGIN", "-v", vendored)):
        good = build_plugin(rid, os.path.join(work, "good%s-%s.so" % (tag, rid)), "race", "good", cflags)
        bad = build_plugin("3.13t", os.path.join(work, "bad%s-%s.so" % (tag, rid)), "race", "bad", cflags)
        target = os.path.join(work, "race%s-%s.so" % (tag, rid))
        p = run_host(host, ["--race", target, good, bad, "300"])
        m = re.search(r"loaded good (\d+), loaded bad (\d+), refused (\d+), other (\d+), "
                      r"fds before (\d+) after (\d+)", p.stdout)
        vals = [int(x) for x in m.groups()] if m else None
        tap.ok(p.returncode == 0 and vals and vals[1] == 0 and vals[0] > 0 and vals[2] > 0
               and vals[3] == 0 and vals[4] == vals[5],
               "%s host, rename race between judgement and load%s, 300 rounds: the refused file is "
               "never loaded (good %s, bad %s, refused %s), no descriptor leaked" % (
                   rid, label, vals and vals[0], vals and vals[1], vals and vals[2]),
               p.stdout + p.stderr)

# One run of the threaded host under helgrind: no data race reported in the gate.
valgrind = os.environ.get("VALGRIND") or shutil.which("valgrind")
if not valgrind:
    tap.bail("valgrind is required (scripts/test installs it)")
host = os.path.join(work, "host-3.11")
p = run_host(host, ["--threads", os.path.join(work, "plugins-3.11")],
             tool=[valgrind, "--tool=helgrind", "--error-exitcode=3"])
errors = re.search(r"ERROR SUMMARY: (\d+) errors", p.stderr)
tap.ok(p.returncode == 0 and errors and errors.group(1) == "0",
       "3.11 host, one thread per plugin under helgrind: 0 errors",
       p.stderr[-3000:])

# The README's embedder snippet is real code: compiled and run against 3.11.
with open(os.path.join(srcdir, "README.md")) as f:
    readme = f.read()
m = re.search(r"### Embedders.*?```c\n(.*?)```", readme, re.S)
tap.ok(m is not None, "README has an embedder section with C code")
if m:
    snippet = os.path.join(work, "readme_embed.c")
    with open(snippet, "w") as f:
        f.write(m.group(1))
    exe = build_host("3.11", snippet, os.path.join(work, "readme-embed"))
    p = run_host(exe, [os.path.join(work, "plugins-3.11", "good.so"), "good"])
    tap.ok(p.returncode == 0 and "hello from good" in p.stdout,
           "the README's embedder snippet loads and calls a good plugin", p.stdout + p.stderr)
    p = run_host(exe, [os.path.join(work, "plugins-3.11", "newer.so"), "newer"])
    tap.ok(p.returncode == 1 and "cannot load 'newer'" in p.stderr and
           "[ABIGATE_R_VERSION]" in p.stderr,
           "the README's embedder snippet refuses a 3.13 build with abigate's text",
           p.stdout + p.stderr)

tap.done()
