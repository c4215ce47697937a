"""python -m abigate [check [--mode MODE] FILE... | inspect FILE... | scan [OPTIONS] PATH...]

Without arguments: the gate's mode and what abigate knows about this
interpreter.  `check` judges files for this interpreter without loading
them (exit 1 when one is refused); `inspect` shows what a file is; `scan`
is the abigate command's scan (site-packages, directories, wheels), run in
this process, for this interpreter unless --python or --target says
otherwise (see `man abigate`)."""
import sys

import _abigate
import abigate


def main(argv):
    if not argv:
        print("mode: %s" % abigate.mode())
        for key, value in sorted(abigate.profile().items()):
            print("%s: %s" % (key, value))
        return 0
    cmd, args = argv[0], argv[1:]
    if cmd == "check":
        mode = "strict"
        if args[:1] == ["--mode"] and len(args) > 1:
            mode, args = args[1], args[2:]
        status = 0
        for path in args:
            v = abigate.check(path, mode)
            print("%s: %s: %s [%s]" % (path, "warn" if v.warning else v.kind, v.message, v.reason))
            status = max(status, 1 if v.kind == "refuse" else 0)
        return status if args else 2
    if cmd == "scan":
        if not any(a in ("--python", "--target") or a.startswith(("--python=", "--target="))
                   for a in args):
            args = ["--python", sys.executable] + args
        sys.stdout.flush()
        sys.stderr.flush()
        return _abigate.cli(["abigate", "scan"] + args)
    if cmd == "inspect" and args:
        for path in args:
            print("%s: %r" % (path, abigate.inspect(path)))
        return 0
    sys.stderr.write(__doc__.split("\n\n")[0] + "\n")
    return 2


def console():
    """The `abigate` command a pip install creates (pyproject.toml)."""
    sys.exit(main(sys.argv[1:]))


if __name__ == "__main__":
    console()
