"""python -m abigate ARGS: the abigate command (`man abigate`), the same C
program pip installs as `abigate`, run in this process for this
interpreter: check, profile and scan judge for it unless --python or
--target says otherwise.  Same options, output and exit status."""
import sys

import _abigate


def main(argv):
    sys.stdout.flush()
    sys.stderr.flush()
    return _abigate.cli(["abigate"] + list(argv), sys.executable or None)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
