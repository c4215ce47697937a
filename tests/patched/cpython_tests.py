"""CPython's own import tests on the patched interpreters, against the
unpatched builds of the same source.

For 3.11 (patched 3.11.2 vs unpatched 3.11.2 from patches/build-python
--unpatched), 3.13 and 3.13t (patched 3.13.15 vs the registry's 3.13.15
builds): `python -m test test_importlib test_import --junit-xml F`, gate in
its default mode (strict).  Asserted: the patched run passes, and every test
case has the same outcome (passed, skipped, failed, error) on both.  The
counts are printed as diagnostics.
"""
import os
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402

tap = testlib.Tap()
rows, by_id = testlib.registry(tap, required=("3.13", "3.13t"))
work = testlib.workdir("cpython-tests")
TESTS = ["test_importlib", "test_import"]

PAIRS = [("3.11", testlib.patched_python(tap, "3.11"), testlib.patched_python(tap, "3.11", unpatched=True)),
         ("3.13", testlib.patched_python(tap, "3.13"), by_id["3.13"].python),
         ("3.13t", testlib.patched_python(tap, "3.13t"), by_id["3.13t"].python)]


def outcomes(python, tag):
    xml = os.path.join(work, tag + ".xml")
    p = testlib.run([python, "-m", "test", "-j2", "--junit-xml", xml] + TESTS,
                    env=testlib.plain_env(), cwd=work)
    result = {}
    if os.path.exists(xml):
        for case in ET.parse(xml).iter("testcase"):
            name = "%s.%s" % (case.get("classname"), case.get("name"))
            state = "passed"
            for child in case:
                if child.tag in ("failure", "error", "skipped"):
                    state = child.tag
            result[name] = state
    return p, result


def counts(result):
    c = {}
    for state in result.values():
        c[state] = c.get(state, 0) + 1
    return ", ".join("%s %d" % kv for kv in sorted(c.items()))


for pid, patched, twin in PAIRS:
    p_patched, r_patched = outcomes(patched, pid + "-patched")
    p_twin, r_twin = outcomes(twin, pid + "-unpatched")
    tap.diag("%s patched:   %d test cases: %s" % (pid, len(r_patched), counts(r_patched)))
    tap.diag("%s unpatched: %d test cases: %s" % (pid, len(r_twin), counts(r_twin)))
    tap.ok(p_patched.returncode == 0 and len(r_patched) > 1000,
           "%s patched: %s pass (%d test cases)" % (pid, " ".join(TESTS), len(r_patched)),
           p_patched.stdout[-3000:] + p_patched.stderr[-2000:])
    diff = sorted(k for k in set(r_patched) | set(r_twin) if r_patched.get(k) != r_twin.get(k))
    tap.ok(r_twin and not diff, "%s: every test case has the same outcome patched and unpatched" % pid,
           "\n".join("%s: patched %s, unpatched %s" % (k, r_patched.get(k), r_twin.get(k))
                     for k in diff[:30]) or p_twin.stdout[-2000:])
tap.done()
