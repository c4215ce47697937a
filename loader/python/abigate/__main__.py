"""python -m abigate ARGS: the abigate command (`man abigate`), the C
program installed with this package, run for this interpreter: check,
profile and scan judge for it unless --python or --target says otherwise
(the program's $ABIGATE_PYTHON).  Same options, output and exit status: the
process becomes the program, as `python -m` runs the programs of other
native tools' wheels."""
import os
import shutil
import sys
import sysconfig


def program():
    """The abigate program installed with this package: the one `make
    install` recorded (_program, next to this file), else the scripts
    directory of the install scheme whose site-packages holds this package
    (pip's <name>.data/scripts), else next to this interpreter, else PATH;
    None if there is none."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        with open(os.path.join(here, "_program")) as f:
            recorded = f.read().strip()
        if os.access(recorded, os.X_OK):
            return recorded
    except OSError:
        pass
    site = os.path.realpath(os.path.dirname(here))
    dirs = []
    for scheme in sysconfig.get_scheme_names():
        try:
            paths = sysconfig.get_paths(scheme)
        except KeyError:
            continue
        libs = [os.path.realpath(paths[k]) for k in ("purelib", "platlib") if paths.get(k)]
        if site in libs and paths.get("scripts"):
            dirs.append(paths["scripts"])
    dirs.append(os.path.dirname(sys.executable or ""))
    for d in dirs:
        p = os.path.join(d, "abigate")
        if d and os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return shutil.which("abigate")


def main(argv):
    prog = program()
    if prog is None:
        sys.stderr.write("python -m abigate: the abigate program is not installed with this "
                         "package (pip installs it as a script; `make install` in $bindir)\n")
        return 2
    sys.stdout.flush()
    sys.stderr.flush()
    env = dict(os.environ)
    if sys.executable:
        env["ABIGATE_PYTHON"] = sys.executable
    os.execve(prog, ["abigate"] + list(argv), env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
