#!/usr/bin/env python3
"""check_doc.py -- docs/POLICY.md and the reason table are kept in step (TAP).

Every reason of loader/include/abigate/reasons.h has exactly one row in the rules table
of docs/POLICY.md, every row names a real reason, the stricter-than-CPython
section names the reasons the conformance test allows, and every mode has a row.
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testlib import Tap  # noqa: E402

SRC = os.environ.get("ABIGATE_SRCDIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def section(text, title):
    start = text.index(title)
    nxt = re.search(r"^#{2,3} ", text[start + len(title):], re.M)
    return text[start:start + len(title) + (nxt.start() if nxt else len(text))]


def main():
    tap = Tap()
    with open(os.path.join(SRC, "loader", "include", "abigate", "reasons.h")) as f:
        reasons = re.findall(r"^X\((ABIGATE_R_\w+),\s*(\d+),", f.read(), re.M)
    with open(os.path.join(SRC, "docs", "POLICY.md")) as f:
        doc = f.read()
    names = [n for n, _ in reasons]
    values = [int(v) for _, v in reasons]
    tap.ok(len(names) >= 20, "reason table parsed (%d reasons)" % len(names))
    tap.ok(values == sorted(set(values)), "reason values are unique and ascending")

    # abigate_decide's reasons in "Rules"; abigate_wheel_decide's (ABIGATE_R_WHEEL_*) in
    # "Wheel tags against contents"
    for title, mine in (("## Rules", lambda n: not n.startswith("ABIGATE_R_WHEEL_")),
                        ("## Wheel tags against contents", lambda n: n.startswith("ABIGATE_R_WHEEL_"))):
        rows = re.findall(r"^\| `(ABIGATE_R_\w+)` \|", section(doc, title), re.M)
        for name in filter(mine, names):
            tap.ok(rows.count(name) == 1, "%s has exactly one row in POLICY.md's %s table"
                   % (name, title[3:]))
        for row in rows:
            tap.ok(row in names and mine(row), "%s row %s is a real reason of that table"
                   % (title[3:], row))

    stricter = section(doc, "### Where abigate is stricter than CPython")
    for name in ("ABIGATE_R_PRERELEASE", "ABIGATE_R_ABI3T_TOO_OLD"):
        tap.ok("`%s`" % name in stricter, "%s is listed as stricter than CPython" % name)

    modes = section(doc, "## Modes")
    for mode in ("off", "warn", "strict", "require"):
        tap.ok(re.search(r"^\| `%s`" % mode, modes, re.M) is not None,
               "mode %s has a row in the modes table" % mode)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
