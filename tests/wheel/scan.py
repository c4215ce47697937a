#!/usr/bin/env python3
"""abigate scan: whole environments and directories of wheels.

A site-packages is made as pip makes one: wheels built by `wheel pack`
from real extensions (examples/demo.c for 3.11 and for 3.13t), installed by
Debian's pip (`pip install --target`, which writes each RECORD), plus a
copy of Debian's record-less _yaml in a directory of its own (no RECORD); a
directory of wheels holds the same wheels and a mistagged one.  Asserted:
per-distribution verdicts and their reasons on 3.11 and 3.13 (grouped by
RECORD, by wheel, by directory), the summary, JSON lines that each parse,
-j 2 giving exactly what -j 1 gives, the exit statuses, and the progress
line only when stderr is a terminal.
"""
import json
import os
import pty
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
rows, by_id = testlib.registry(tap, required=("3.11", "3.13", "3.13t"))
cli = testlib.env("ABIGATE_CLI", tap)
PY = "/usr/bin/python3.11"
for mod in ("wheel", "pip"):
    if testlib.run([PY, "-m", mod, "--version" if mod == "pip" else "version"]).returncode:
        tap.bail("%s -m %s does not run (scripts/common.sh installs python3-%s)" % (PY, mod, mod))
work = testlib.workdir("wheel-scan")
wheelhouse = os.path.join(work, "wheelhouse")
os.makedirs(wheelhouse)


def pack(dist, rid, tags):
    """A wheel `dist`-1.0 made by `wheel pack`, holding demo built for `rid`."""
    d = testlib.workdir("wheel-scan")
    src = os.path.join(d, "%s-1.0" % dist)
    os.makedirs(os.path.join(src, dist))
    os.makedirs(os.path.join(src, "%s-1.0.dist-info" % dist))
    so = os.path.join(src, dist, "demo" + by_id[rid].ext_suffix)
    p, cmd = testlib.build_demo(tap, by_id[rid], [], so)
    if not tap.ok(p.returncode == 0, "build demo for %s" % rid, " ".join(cmd) + p.stderr):
        tap.bail("cannot build demo")
    with open(os.path.join(src, "%s-1.0.dist-info" % dist, "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n" % dist)
    with open(os.path.join(src, "%s-1.0.dist-info" % dist, "WHEEL"), "w") as f:
        f.write("Wheel-Version: 1.0\nGenerator: abigate-tests\nRoot-Is-Purelib: false\nTag: %s\n" % tags)
    p = testlib.run([PY, "-m", "wheel", "pack", "-d", wheelhouse, src])
    tap.ok(p.returncode == 0, "wheel pack %s (%s)" % (dist, tags), p.stdout + p.stderr)
    return os.path.join(wheelhouse, "%s-1.0-%s.whl" % (dist, tags))


good = pack("demo311", "3.11", "cp311-cp311-linux_x86_64")
ft = pack("demoft", "3.13t", "cp313-cp313t-linux_x86_64")
mistagged = pack("mistagged", "3.11", "cp313-cp313-linux_x86_64")

site = os.path.join(work, "site-packages")
e = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
e.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
p = testlib.run([PY, "-m", "pip", "install", "--no-deps", "--target", site, good], env=e)
# the 3.13t wheel as pip installs for another interpreter (--python-version, --abi)
p2 = testlib.run([PY, "-m", "pip", "install", "--no-deps", "--target", site, "--only-binary=:all:",
                  "--python-version", "3.13", "--abi", "cp313t", "--platform", "linux_x86_64", ft], env=e)
tap.ok(p.returncode == 0 and p2.returncode == 0 and
       all(os.path.exists(os.path.join(site, d, "RECORD")) for d in ("demo311-1.0.dist-info",
                                                                     "demoft-1.0.dist-info")),
       "Debian's pip installs the two wheels into a site-packages (with RECORD)",
       p.stdout + p.stderr + p2.stdout + p2.stderr)
root, found = testlib.legacy_extensions(tap)
yaml = [f for f in found["python3-yaml"] if os.path.basename(f).startswith("_yaml.")][0]
os.makedirs(os.path.join(site, "yaml"))
shutil.copy(yaml, os.path.join(site, "yaml", os.path.basename(yaml)))


def scan(*args):
    p = testlib.run([cli, "scan", "--json"] + list(args))
    docs = []
    for line in p.stdout.splitlines():
        try:
            docs.append(json.loads(line))
        except ValueError:
            docs.append(None)
    return p, docs


def dists(docs):
    return {d["distribution"]: d for d in docs if d and "works" in d}


def reasons(docs, dist):
    return sorted(d["reason"] for d in docs if d and d.get("distribution") == dist and "verdict" in d)


for rid, want in (("3.11", {"demo311 1.0": (True, ["ABIGATE_R_NONE"]),
                            "demoft 1.0": (False, ["ABIGATE_R_VERSION"]),
                            "yaml (directory)": (True, ["ABIGATE_R_NONE"])}),
                  ("3.13", {"demo311 1.0": (False, ["ABIGATE_R_VERSION"]),
                            "demoft 1.0": (False, ["ABIGATE_R_FREETHREADED_ON_GIL"]),
                            "yaml (directory)": (False, ["ABIGATE_R_MISSING_SYMBOLS"])})):
    p, docs = scan("--python", by_id[rid].python, site)
    tap.ok(docs and None not in docs, "scan --json %s: every line is one JSON object" % rid, p.stdout[:2000])
    got = dists(docs)
    tap.eq(sorted(got), sorted(want), "scan %s: the distributions, from RECORD and directories" % rid)
    for dist, (works, why) in want.items():
        tap.ok(dist in got and got[dist]["works"] == works and reasons(docs, dist) == why,
               "scan %s: %s %s (%s)" % (rid, dist, "works" if works else "breaks", ", ".join(why)),
               json.dumps(got.get(dist)) + " " + repr(reasons(docs, dist)))
    summary = [d["summary"] for d in docs if d and "summary" in d]
    broken = sorted(k for k, (w, _) in want.items() if not w)
    tap.ok(len(summary) == 1 and summary[0]["files"] == 3 and sorted(summary[0]["breaking"]) == broken
           and summary[0]["refuse"] == len(broken), "scan %s: one summary line naming what would break" % rid,
           repr(summary))
    tap.eq(p.returncode, 1, "scan %s: exit 1 (something refused)" % rid)
    # the text form says the same
    t = testlib.run([cli, "scan", "--python", by_id[rid].python, site])
    last = t.stdout.strip().splitlines()[-1] if t.stdout.strip() else ""
    tap.ok(last.startswith("scan: 3 extension modules on ") and "%d distribution" % len(broken) in last
           and all(b in last for b in broken), "scan %s: the summary line" % rid, t.stdout)
    # -j 2 gives exactly what -j 1 gives
    p2, docs2 = scan("-j", "2", "--python", by_id[rid].python, site)
    tap.ok(p2.stdout == p.stdout and p2.returncode == p.returncode, "scan %s: -j 2 prints what -j 1 does" % rid,
           p2.stdout[:1000])

# A directory of wheels: each wheel is a distribution; members against their tags too.
p, docs = scan("--python", by_id["3.11"].python, wheelhouse)
got = dists(docs)
tap.ok(got.get("demo311 1.0", {}).get("works") is True and got.get("mistagged 1.0", {}).get("works") is False,
       "scan of a wheelhouse: the right wheel works, the mistagged one breaks", json.dumps(got))
tags = [d["tags"]["reason"] for d in docs if d and d.get("distribution") == "mistagged 1.0" and "tags" in d]
tap.eq(tags, ["ABIGATE_R_WHEEL_VERSION"], "scan of a wheelhouse: the mistagged wheel's rule")
p = testlib.run([cli, "scan", "--python", by_id["3.11"].python, good])
tap.eq(p.returncode, 0, "scan of one right wheel: exit 0")

# Through a link to the site-packages: files are still matched to their
# RECORD (both sides resolved: the walk's directories once each).
link = os.path.join(testlib.workdir("wheel-scan"), "site-link")
os.symlink(site, link)
p, docs = scan("--target", "3.11", site)
p2, docs2 = scan("--target", "3.11", link)
tap.ok(sorted(dists(docs2)) == sorted(dists(docs)) and "demo311 1.0" in dists(docs2),
       "scan through a link to a site-packages: the same distributions, from RECORD",
       repr(sorted(dists(docs2))))

# From Python (the gate's module, installed for Debian's 3.11): check() and
# inspect() take wheels and directories; python -m abigate scan is the scan.
py = by_id["3.11"]
genv = testlib.gate_env(tap, py, os.path.join(testlib.workdir("wheel-scan"), "userbase"))
API = r"""
import abigate, json, sys
out = {}
for key, arg, mode in (("good", sys.argv[1], "strict"), ("mistagged", sys.argv[2], "strict"),
                       ("mistagged-warn", sys.argv[2], "warn"), ("site", sys.argv[3], "strict")):
    out[key] = [list(v) for v in abigate.check(arg, mode)]
out["inspect"] = abigate.inspect(sys.argv[1])
out["file"] = abigate.inspect(sys.argv[4])
for mode in ("off", "warn", "strict", "require"):  # a wheel that is not a zip archive
    out["broken-" + mode] = [list(v) for v in abigate.check(sys.argv[5], mode)]
print(json.dumps(out))
"""
broken_whl = os.path.join(testlib.workdir("wheel-scan"), "broken-1.0-cp311-cp311-linux_x86_64.whl")
with open(broken_whl, "w") as f:
    f.write("not a zip archive\n")
demo_so = os.path.join(site, "demo311", "demo" + py.ext_suffix)
p = testlib.run([py.python, "-c", API, good, mistagged, site, demo_so, broken_whl], env=genv)
api = json.loads(p.stdout) if p.returncode == 0 else {}
KIND, REASON, MSG, WARN, PATH = 0, 1, 2, 3, 6
member = "/demo311/demo" + py.ext_suffix
tap.ok([(v[KIND], v[REASON]) for v in api.get("good", [])] == [("accept", "ABIGATE_R_NONE")]
       and api["good"][0][PATH] == good + member,
       "abigate.check(wheel): one Verdict per member, named wheel.whl/member", p.stdout[:600] + p.stderr)
tap.eq([(v[KIND], v[REASON]) for v in api.get("mistagged", [])],
       [("accept", "ABIGATE_R_NONE"), ("refuse", "ABIGATE_R_WHEEL_VERSION"),
        ("refuse", "ABIGATE_R_WHEEL_VERSION")],
       "abigate.check(mistagged wheel): the member accepted, then its file name and WHEEL tags refused")
tap.eq([(v[KIND], v[WARN]) for v in api.get("mistagged-warn", [])],
       [("accept", False), ("accept", True), ("accept", True)],
       "abigate.check(mistagged wheel, 'warn'): the tag misfits are warnings")
tap.eq(sorted((os.path.basename(os.path.dirname(v[PATH])), v[KIND]) for v in api.get("site", [])),
       [("demo311", "accept"), ("demoft", "refuse"), ("yaml", "accept")],
       "abigate.check(directory): a Verdict per extension file")
# a wheel that cannot be opened: the gate's own table (POLICY.md, "Files that
# cannot be judged"), as for a file, the rule shown being the reader's code;
# off checks nothing
tap.eq([[(v[KIND], v[REASON], v[WARN], v[MSG].split(":")[0]) for v in api.get("broken-" + m, [])]
        for m in ("off", "warn", "strict", "require")],
       [[("accept", "ABIGATE_R_NONE", False, "not checked (mode off)")],
        [("accept", "ABIGATE_E_ZIP_NO_END", True, "cannot be judged")],
        [("refuse", "ABIGATE_E_ZIP_NO_END", False, "cannot be judged")],
        [("refuse", "ABIGATE_E_ZIP_NO_END", False, "cannot be judged")]],
       "abigate.check(a wheel that is not a zip), per mode: the gate's table for files that cannot be judged")
ins = api.get("inspect", [])
tap.ok(len(ins) == 1 and ins[0].get("member") == "demo311/demo" + py.ext_suffix
       and ins[0]["record_state"] == "present" and ins[0]["path"] == good + member,
       "abigate.inspect(wheel): a dict per member, its record read in place", json.dumps(ins)[:600])
tap.ok(isinstance(api.get("file"), dict) and api["file"].get("record_state") == "present",
       "abigate.inspect(file) is still one dict", json.dumps(api.get("file"))[:300])
c = testlib.run([cli, "scan", "--python", py.python, site])
for args in ([], ["--python", py.python]):
    m = testlib.run([py.python, "-m", "abigate", "scan"] + args + [site], env=genv)
    tap.ok(m.stdout == c.stdout and m.returncode == c.returncode and c.stdout,
           "python -m abigate scan %s: what the abigate command prints, exit %d"
           % (" ".join(args) or "(this interpreter)", c.returncode), m.stdout + m.stderr)

# Many distributions (the name index grows past its first 64 slots several
# times): 300 directories of one or two files and 300 lone files, links of
# the real _yaml; each distribution once, with its files, in name order.
many = testlib.workdir("wheel-scan")
want = {}
for i in range(300):
    d = os.path.join(many, "pkg%03d" % i)
    os.makedirs(d)
    for k in range(1 + i % 2):
        os.link(yaml, os.path.join(d, "m%d.cpython-311-x86_64-linux-gnu.so" % k))
    want["pkg%03d (directory)" % i] = 1 + i % 2
    os.link(yaml, os.path.join(many, "lone%03d.cpython-311-x86_64-linux-gnu.so" % i))
    want["lone%03d.cpython-311-x86_64-linux-gnu.so" % i] = 1
p, docs = scan("--target", "3.11", many)
order = [d["distribution"] for d in docs if d and "works" in d]
got = {d["distribution"]: d["files"] for d in docs if d and "works" in d}
tap.ok(order == sorted(want) and got == want,
       "scan of 600 distributions: each once, with its files, in name order",
       "%d distributions, first differences: %r" % (len(order), sorted(set(got.items()) ^ set(want.items()))[:5]))
summary = [d["summary"] for d in docs if d and "summary" in d]
tap.ok(len(summary) == 1 and summary[0]["distributions"] == 600 and summary[0]["files"] == sum(want.values()),
       "scan of 600 distributions: the summary counts them", repr(summary)[:300])
p2, _ = scan("-j", "2", "--target", "3.11", many)
tap.ok(p2.stdout == p.stdout, "scan of 600 distributions: -j 2 prints what -j 1 does", p2.stdout[:500])

# Errors: a .so that is not ELF is a read error (exit 2); usage errors are 2.
bad = testlib.workdir("wheel-scan")
with open(os.path.join(bad, "broken.so"), "w") as f:
    f.write("INPUT(libfoo.so.1)\n")
p, docs = scan("--target", "3.11", bad)
errs = [d for d in docs if d and "error" in d]
tap.ok(p.returncode == 2 and len(errs) == 1 and errs[0]["error"]["code"] == "ABIGATE_E_NOT_ELF",
       "scan: a .so that is not ELF is an error, exit 2", p.stdout + p.stderr)
for args in ([], ["-j", "0", site], ["--target", "3.11", "--python", PY, site], ["--bogus", site]):
    p = testlib.run([cli, "scan"] + args)
    tap.ok(p.returncode == 2 and p.stderr, "scan %s: usage error, exit 2" % " ".join(args), p.stderr)

# Progress on a terminal only.
p = testlib.run([cli, "scan", "-j", "2", "--target", "3.11", site])
tap.ok(p.stderr == "", "scan: no progress line when stderr is not a terminal", p.stderr)
master, slave = pty.openpty()
import subprocess  # noqa: E402
proc = subprocess.Popen([cli, "scan", "-j", "2", "--target", "3.11", site], stdout=subprocess.PIPE,
                        stderr=slave)
os.close(slave)
out, _ = proc.communicate()
chunks = []
while True:
    try:
        b = os.read(master, 4096)
    except OSError:
        break
    if not b:
        break
    chunks.append(b)
os.close(master)
err = b"".join(chunks).decode(errors="replace")
tap.ok("scan: " in err and "judged" in err and proc.returncode == 1,
       "scan: a progress line when stderr is a terminal", repr(err[:300]))

# Trees as disks hold them (issue 26): a FIFO named RECORD, each spelling of a
# PATH, a file name that is not UTF-8.
tree = os.path.join(testlib.workdir("wheel-scan"), "tree")
pkg = os.path.join(tree, "pkg")
os.makedirs(pkg)
json_ext = "/usr/lib/python3.11/lib-dynload/_json.cpython-311-x86_64-linux-gnu.so"
for n in ("a", "b"):
    shutil.copy(json_ext, os.path.join(pkg, n + ".cpython-311-x86_64-linux-gnu.so"))
lines = {}
for spelling in (tree, tree + "/", tree + "//", os.path.join(tree, ".") + "/"):
    p = testlib.run([cli, "scan", "--target", "3.13", spelling])
    lines[spelling] = [l.replace(spelling.rstrip("/."), tree).replace("//", "/") for l in p.stdout.splitlines()]
    tap.ok(p.returncode == 1 and lines[spelling][-1].endswith("1 distribution would break: pkg (directory)"),
           "scan of %r: the files of one top-level directory group as one distribution" % spelling, p.stdout)
tap.ok(len({tuple(v) for v in lines.values()}) == 1, "scan: every spelling of the PATH prints the same",
       lines)
info = os.path.join(tree, "x-1.0.dist-info")
os.makedirs(info)
os.mkfifo(os.path.join(info, "RECORD"))
for args in ([], ["--json"], ["-j", "2"]):
    try:
        p = testlib.run([cli, "scan", "--target", "3.11"] + args + [tree], timeout=60)
    except subprocess.TimeoutExpired:
        tap.ok(False, "scan %s with a FIFO named RECORD returns" % " ".join(args))
        continue
    tap.ok(p.returncode == 2 and "RECORD not read: not a regular file" in p.stdout and
           ("x 1.0" in p.stdout),
           "scan %s with a FIFO named RECORD: returns, names it as not read, under its distribution, exit 2"
           % " ".join(args), p.stdout + p.stderr)
os.unlink(os.path.join(info, "RECORD"))
odd = os.path.join(os.fsencode(pkg), b"bad\xffname\xc3.cpython-311-x86_64-linux-gnu.so")
shutil.copy(json_ext, odd)
p = subprocess.run([cli, "scan", "--json", "--target", "3.11", tree], stdout=subprocess.PIPE)
docs = []
for raw in p.stdout.splitlines():
    try:
        docs.append(json.loads(raw.decode("utf-8")))
    except ValueError as e:
        docs.append(None)
        tap.diag("not JSON: %r (%s)" % (raw, e))
tap.ok(docs and None not in docs, "scan --json: every line is UTF-8 JSON with a file name that is not UTF-8")
paths = [os.fsencode(d["path"]) for d in docs if d and "path" in d]
tap.ok(odd in paths, "scan --json: the name maps back to its bytes (os.fsencode, surrogateescape)", paths)

# Links: a Nix-style profile (directories and files that are links into a
# store) scans to the verdicts of the real tree; each real file once; a loop,
# a link to nothing, devices and FIFOs under extension and wheel names each
# reported, never waited on.
farm = os.path.join(testlib.workdir("wheel-scan"), "farm")
store_pkg = os.path.join(farm, "store", "0a1b2c-pkg-1.0", "site", "pkg")
os.makedirs(store_pkg)
for n in ("a", "b"):
    shutil.copy(json_ext, os.path.join(store_pkg, n + ".cpython-311-x86_64-linux-gnu.so"))
shutil.copy(json_ext, os.path.join(farm, "store", "0a1b2c-pkg-1.0", "site", "top.cpython-311-x86_64-linux-gnu.so"))
profile = os.path.join(farm, "profile", "site")
os.makedirs(profile)
os.symlink(store_pkg, os.path.join(profile, "pkg"))
os.symlink(os.path.join(farm, "store", "0a1b2c-pkg-1.0", "site", "top.cpython-311-x86_64-linux-gnu.so"),
           os.path.join(profile, "top.cpython-311-x86_64-linux-gnu.so"))
os.symlink(os.path.join(store_pkg, "a.cpython-311-x86_64-linux-gnu.so"),
           os.path.join(profile, "again.cpython-311-x86_64-linux-gnu.so"))  # a file met twice


def verdicts(path, *extra):
    p = testlib.run([cli, "scan", "--json", "--target", "3.13"] + list(extra) + [path])
    docs = [json.loads(l) for l in p.stdout.splitlines()]
    return p, sorted((os.path.basename(d["path"]), d.get("verdict"), d.get("reason"))
                     for d in docs if "path" in d), docs[-1]


p, real, _ = verdicts(os.path.join(farm, "store", "0a1b2c-pkg-1.0", "site"))
q, linked, summary = verdicts(profile)
tap.ok(p.returncode == 1 and len(real) == 3, "scan of the store's real tree: 3 modules refused on 3.13", real)
tap.eq(sorted(v[1:] for v in linked), sorted(v[1:] for v in real),
       "scan of a profile of links into the store: the real tree's verdicts")
tap.ok(q.returncode == 1 and [v[0] for v in linked] == ["again.cpython-311-x86_64-linux-gnu.so",
                                                        "b.cpython-311-x86_64-linux-gnu.so",
                                                        "top.cpython-311-x86_64-linux-gnu.so"],
       "scan of the profile: each real file judged once, named by the first path that meets it", linked)
os.symlink(os.path.join(farm, "profile"), os.path.join(profile, "loop"))
os.symlink(os.path.join(farm, "nowhere"), os.path.join(profile, "gone.cpython-311-x86_64-linux-gnu.so"))
os.symlink("/dev/zero", os.path.join(profile, "zero.so"))
os.symlink("/dev/urandom", os.path.join(profile, "random.whl"))
os.mkfifo(os.path.join(profile, "fifo.so"))
os.mkfifo(os.path.join(profile, "fifo.whl"))
outs = []
for jobs in ("1", "2"):
    try:
        p = testlib.run([cli, "scan", "-j", jobs, "--json", "--target", "3.13", profile], timeout=120)
    except subprocess.TimeoutExpired:
        tap.ok(False, "scan -j %s of a tree with FIFOs, devices and loops returns" % jobs)
        continue
    outs.append(p.stdout)
    docs = [json.loads(l) for l in p.stdout.splitlines()]
    errors = {os.path.basename(d["path"]): d["error"]["message"] for d in docs if "error" in d}
    tap.ok(p.returncode == 2 and any("a loop of links" in m for m in errors.values())
           and "a link to nothing" in errors.get("gone.cpython-311-x86_64-linux-gnu.so", "")
           and "not a regular file" in errors.get("zero.so", "")
           and "not a regular file" in errors.get("fifo.so", "")
           and "random.whl" in errors and "fifo.whl" in errors,
           "scan -j %s: the loop, the link to nothing, the devices and the FIFOs each reported, exit 2"
           % jobs, json.dumps(errors, indent=1))
tap.ok(len(outs) == 2 and outs[0] == outs[1], "scan of that tree: -j 2 prints what -j 1 prints")
valgrind = os.environ.get("VALGRIND")
if not valgrind:
    tap.bail("VALGRIND is not set: run the tests through 'make check'")
libtool = os.path.join(testlib.env("ABIGATE_BUILDDIR", tap), "libtool")
p = testlib.run([libtool, "--mode=execute", valgrind, "-q", "--error-exitcode=3", "--leak-check=full",
                 "--errors-for-leak-kinds=definite,indirect", cli, "scan", "-j", "2", "--json",
                 "--target", "3.13", profile, tree], timeout=600)
tap.ok(p.returncode == 2 and "==" not in p.stderr,
       "scan of that tree and the RECORD-less one under valgrind: no memory error, no leak", p.stderr[-3000:])

# Grouping in the trees people have: *.egg-info (Debian's and distutils'
# installs: no RECORD), and dpkg's file lists; --json says which named each.
eggs = os.path.join(testlib.workdir("wheel-scan"), "eggs")
for d in ("foo", "bar"):
    os.makedirs(os.path.join(eggs, d))
testlib.write_tree(eggs, {
    "Foo-2.1.egg-info/PKG-INFO": "Metadata-Version: 2.1\nName: Foo\nVersion: 2.1\n",
    "Foo-2.1.egg-info/top_level.txt": "foo\n_foomod\n",
    "Bar-1.0.egg-info/PKG-INFO": "Metadata-Version: 1.1\nName: Bar\nVersion: 1.0\n",
    "Bar-1.0.egg-info/installed-files.txt": "../bar/x.cpython-311-x86_64-linux-gnu.so\nPKG-INFO\n"})
for rel in ("foo/a.cpython-311-x86_64-linux-gnu.so", "_foomod.cpython-311-x86_64-linux-gnu.so",
            "bar/x.cpython-311-x86_64-linux-gnu.so", "lone.cpython-311-x86_64-linux-gnu.so"):
    shutil.copy(json_ext, os.path.join(eggs, rel))
p = testlib.run([cli, "scan", "--json", "--target", "3.11", eggs])
docs = [json.loads(l) for l in p.stdout.splitlines()]
by_file = {os.path.relpath(d["path"], eggs): d["distribution"] for d in docs if "path" in d}
groups = {d["distribution"]: d["grouped_by"] for d in docs if "grouped_by" in d}
tap.eq(by_file, {"foo/a.cpython-311-x86_64-linux-gnu.so": "Foo 2.1",
                 "_foomod.cpython-311-x86_64-linux-gnu.so": "Foo 2.1",
                 "bar/x.cpython-311-x86_64-linux-gnu.so": "Bar 1.0",
                 "lone.cpython-311-x86_64-linux-gnu.so": "lone.cpython-311-x86_64-linux-gnu.so"},
       "scan: files grouped by their *.egg-info (top_level.txt, installed-files.txt), else by themselves")
tap.eq(groups, {"Foo 2.1": "egg-info", "Bar 1.0": "egg-info", "lone.cpython-311-x86_64-linux-gnu.so": "file"},
       "scan --json: each distribution says what named it")

# This machine's dist-packages: every module that no RECORD lists is named
# by the Debian package that installed it, as dpkg -S and dpkg-query say.
dist = "/usr/lib/python3/dist-packages"
p = testlib.run([cli, "scan", "--json", "--target", "3.11", dist])
docs = [json.loads(l) for l in p.stdout.splitlines()]
groups = {d["distribution"]: d["grouped_by"] for d in docs if "grouped_by" in d}
want, got = {}, {}
for d in docs:
    if "path" not in d or groups.get(d["distribution"]) == "record":
        continue
    q = testlib.run(["dpkg", "-S", os.path.realpath(d["path"])])
    pkg = q.stdout.split(":")[0].strip() if q.returncode == 0 else None
    if pkg:
        ver = testlib.run(["dpkg-query", "-W", "-f", "${Version}", pkg]).stdout.strip()
        want[d["path"]] = "%s %s" % (pkg, ver)
    got[d["path"]] = d["distribution"]
tap.ok(want and all(got[k] == v and groups[v] == "dpkg" for k, v in want.items()),
       "scan of %s: the modules no RECORD lists are named by their Debian package and version "
       "(%d, as dpkg -S says)" % (dist, len(want)), json.dumps({"want": want, "got": got}, indent=1))

# Sizes and change: a tree 200 directories deep, 100,000 files (hard links
# of one module, each a file of its own), and files that grow, shrink and
# are replaced while the scan reads them: each finishes, with an outcome per
# file and JSON that parses.
big = os.path.join(testlib.workdir("wheel-scan"), "big")
deep = os.path.join(big, "deep")
os.makedirs(os.path.join(deep, *["d"] * 200))
shutil.copy(json_ext, os.path.join(deep, *["d"] * 200, "m.cpython-311-x86_64-linux-gnu.so"))
p = testlib.run([cli, "scan", "--json", "--target", "3.11", deep], timeout=120)
docs = [json.loads(l) for l in p.stdout.splitlines()]
tap.ok(p.returncode == 2 and any("nested too deep" in d.get("error", {}).get("message", "") for d in docs),
       "scan of a tree 200 directories deep: past 64 levels a clear error, exit 2", p.stdout[-1500:])
many = os.path.join(big, "many")
for i in range(100000):
    d = os.path.join(many, "d%03d" % (i // 1000))
    if i % 1000 == 0:
        os.makedirs(d)
    f = os.path.join(d, "m%05d.cpython-311-x86_64-linux-gnu.so" % i)
    if i % 50000 == 0:  # a file system allows so many links to one file (ext4: 65,000)
        shutil.copy(json_ext, f)
        first = f
    else:
        os.link(first, f)
p = testlib.run([cli, "scan", "-j", "2", "--target", "3.11", many], timeout=600)
tap.ok(p.returncode == 0 and p.stdout.splitlines()[-1].startswith("scan: 100000 extension modules on 3.11.0: "
                                                                   "100000 accept"),
       "scan of 100,000 files: each judged (-j 2)", p.stdout[-500:] + p.stderr[-500:])
shutil.rmtree(many)
moving = os.path.join(big, "moving")
os.makedirs(moving)
with open(json_ext, "rb") as f:
    image = f.read()
for i in range(50):
    with open(os.path.join(moving, "m%02d.cpython-311-x86_64-linux-gnu.so" % i), "wb") as f:
        f.write(image)
MUTATOR = r"""
import os, sys, random
d, image = sys.argv[1], open(sys.argv[2], "rb").read()
names = sorted(os.listdir(d))
sys.stdout.write("ready\n"); sys.stdout.flush()
rng = random.Random(7)
while True:
    n = os.path.join(d, rng.choice(names))
    what = rng.randrange(3)
    if what == 0:    # shrinks
        os.truncate(n, rng.randrange(len(image)))
    elif what == 1:  # grows
        with open(n, "ab") as f:
            f.write(b"x" * rng.randrange(1, 70000))
    else:            # replaced
        with open(n + ".new", "wb") as f:
            f.write(image[: rng.randrange(len(image) + 1)])
        os.rename(n + ".new", n)
"""
mut = subprocess.Popen([sys.executable, "-c", MUTATOR, moving, json_ext], stdout=subprocess.PIPE,
                       universal_newlines=True)
mut.stdout.readline()
try:
    ok = True
    for r in range(20):
        try:
            p = testlib.run([cli, "scan", "-j", "2", "--json", "--target", "3.11", moving], timeout=120)
        except subprocess.TimeoutExpired:
            ok = False
            tap.diag("round %d: the scan did not return" % r)
            break
        docs = [json.loads(l) for l in p.stdout.splitlines()]
        files = [d for d in docs if "path" in d]
        if p.returncode not in (0, 1, 2) or len(files) != 50 or not all(
                "verdict" in d or "error" in d for d in files):
            ok = False
            tap.diag("round %d: exit %d, %d files\n%s" % (r, p.returncode, len(files), p.stderr[-800:]))
            break
finally:
    mut.kill()
    mut.wait()
tap.ok(ok, "20 scans of 50 files that grow, shrink and are replaced meanwhile: each returns, every file "
           "judged or reported, JSON that parses")
tap.done()
