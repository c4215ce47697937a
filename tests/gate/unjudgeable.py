#!/usr/bin/env python3
"""Files that cannot be judged, in every mode, through every caller: one
table (docs/POLICY.md, "Files that cannot be judged").

Files: a text file, an empty file and a truncated ELF header, each named
m.so.  Modes: off, warn, strict, require.  Callers, all on CPython 3.13:
the import hook (registry 3.13 with abigate.pth), the patched interpreter
(patches/, built in), the embedder API (examples/embed/host.c through
abigate_gate_dlopen), and the CLI (abigate check --python).  Each row has
one expected outcome:

  off              the loader's own error (import: ImportError from dlopen;
                   embedder: the failed load); the CLI does not look (accept)
  warn             a warning naming the reader's code, then the loader's own
                   error; the CLI reports the unreadable file (exit 2)
  strict, require  refused before dlopen: ImportError "cannot load 'm' from
                   PATH: cannot be judged: ... [ABIGATE_E_...]" with
                   abigate_reason; the embedder prints the same refusal; the
                   CLI reports the unreadable file (exit 2)
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
rows, by_id = testlib.registry(tap, required=("3.13",))
cli = testlib.env("ABIGATE_CLI", tap)
work = testlib.workdir("unjudgeable")
interp = by_id["3.13"]
patched = testlib.patched_python(tap, "3.13")
hook_env = testlib.gate_env(tap, interp, os.path.join(work, "userbase"))
host = os.path.join(work, "host")
p, cmd = testlib.build_embed_host(tap, interp, host)
if p.returncode:
    tap.bail("cannot build the embedder host: %s\n%s" % (" ".join(cmd), p.stderr))

FILES = [
    ("a text file", b"not a shared object\n", "ABIGATE_E_NOT_ELF"),
    ("an empty file", b"", "ABIGATE_E_EMPTY"),
    ("a truncated ELF header", b"\x7fELF\x02\x01\x01", "ABIGATE_E_TRUNCATED_HEADER"),
]
MODES = ("off", "warn", "strict", "require")


def import_caller(python, base_env, d, mode):
    e = testlib.with_mode(base_env, mode)
    p = testlib.run([python, "-c", testlib.GATE_IMPORT, "m", ""], cwd=d, env=e)
    import json
    try:
        doc = json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        doc = None
    return p, doc


for title, data, code in FILES:
    d = os.path.join(work, code)
    os.makedirs(d)
    path = os.path.join(d, "m.so")
    with open(path, "wb") as f:
        f.write(data)
    refusal = "cannot load 'm' from %s: cannot be judged: " % path
    warning = "abigate: 'm' from %s: cannot be judged: " % path
    for mode in MODES:
        # --- import callers: the hook and the built-in gate
        for caller, python, base in (("hook", interp.python, hook_env),
                                     ("patched", patched, testlib.plain_env())):
            p, doc = import_caller(python, base, d, mode)
            what = "%s, %s, %s" % (title, mode, caller)
            if doc is None or doc["loaded"] or doc["type"] != "ImportError" or doc["path"] != path:
                tap.ok(False, "%s: an ImportError with the file's path" % what,
                       "%s\n%s" % (doc, p.stdout + p.stderr))
                continue
            if mode in ("strict", "require"):
                tap.ok(doc["message"].startswith(refusal) and doc["message"].endswith("[%s]" % code)
                       and doc["reason"] == code and doc["name"] == "m",
                       "%s: refused before dlopen, [%s], name, path, abigate_reason" % (what, code),
                       doc)
            else:
                warned = [l for l in p.stderr.splitlines() if warning in l and ("[%s]" % code) in l]
                tap.ok(not doc["message"].startswith("cannot load") and
                       "/proc/self/fd" not in doc["message"] and
                       len(warned) == (1 if mode == "warn" else 0),
                       "%s: the loader's own ImportError%s" % (
                           what, ", after one warning naming %s" % code if mode == "warn" else
                           ", no warning"), "%s\n%s" % (doc, p.stderr))
        # --- the embedder API
        p = testlib.run([host, "--mode", mode, d])
        lines = [l for l in p.stdout.splitlines() if "'m'" in l]
        what = "%s, %s, embedder" % (title, mode)
        if mode in ("strict", "require"):
            ok = lines == ["refused: " + refusal + lines[0][len("refused: " + refusal):]] and \
                lines[0].endswith("[%s]" % code) if lines else False
            tap.ok(p.returncode == 0 and ok, "%s: refused, the same text" % what, p.stdout)
        else:
            want = (["warning"] if mode == "warn" else []) + ["failed"]
            ok = [l.split(":")[0] for l in lines] == want and \
                lines[-1].endswith("[ABIGATE_E_DLOPEN]") and "/proc/self/fd" not in lines[-1] and \
                (mode != "warn" or ("[%s]" % code) in lines[0])
            tap.ok(p.returncode == 0 and ok, "%s: %sthe failed load (dlopen's text, the real path)"
                   % (what, "a warning naming %s, then " % code if mode == "warn" else ""),
                   p.stdout + p.stderr)
        # --- the CLI
        p = testlib.run([cli, "check", "--python", interp.python, "--mode", mode, path])
        what = "%s, %s, CLI" % (title, mode)
        if mode == "off":
            tap.ok(p.returncode == 0 and "accept" in p.stdout and "not checked" in p.stdout,
                   "%s: not checked, exit 0" % what, p.stdout + p.stderr)
        else:
            tap.ok(p.returncode == 2 and path in p.stderr and p.stdout == "",
                   "%s: the unreadable file reported, exit 2" % what, p.stdout + p.stderr)

tap.done()
