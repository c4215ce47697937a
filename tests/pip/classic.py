#!/usr/bin/env python3
"""The classic refusals of tests/gate/classic.py, through the gate that
`pip install --no-build-isolation .` put into fresh venvs of 3.13 and 3.13t
(the cases' runtimes) instead of this build tree's gate."""
import os
import runpy
import sys

sys.argv[1:] = ["--pip"]
runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gate", "classic.py"),
               run_name="__main__")
