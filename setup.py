"""The parts of the abigate package that pyproject.toml cannot declare.

- _abigate, compiled from loader/gate's glue and libabigate's own sources.
  Both lists are read from Makefile.am (LIBABIGATE_SOURCES, GATE_FILES), so
  the autotools build and this one compile the same files.
- abigate.pth at the top of site-packages (it switches the gate on at
  start-up when PYTHONABIGATE or -X abigate asks), and the extension
  authors' headers under abigate/include (abigate.get_include()).  Both are in the
  wheel's RECORD, so `pip uninstall abigate` removes them.
"""
import os
import re

from setuptools import Extension, setup
from setuptools.command.build_py import build_py
from setuptools.command.install import install

HERE = os.path.dirname(os.path.abspath(__file__))


def makefile_list(name, suffix=".c"):
    """The files of the Makefile.am variable `name` ending in `suffix`
    (all of them for ""), relative to HERE."""
    with open(os.path.join(HERE, "Makefile.am")) as f:
        text = f.read().replace("\\\n", " ")
    m = re.search(r"^%s\s*=(.*)$" % re.escape(name), text, re.M)
    if not m:
        raise SystemExit("setup.py: no %s in Makefile.am" % name)
    return [w for w in m.group(1).split() if w.endswith(suffix)]


class build_py_extras(build_py):
    """build_py, plus abigate.pth and the headers."""

    def run(self):
        super().run()
        self.copy_file(os.path.join("loader", "gate", "abigate.pth"),
                       os.path.join(self.build_lib, "abigate.pth"), preserve_mode=False)
        inc = os.path.join(self.build_lib, "abigate", "include", "abigate")
        self.mkpath(inc)
        for path in makefile_list("abigateslots_HEADERS", ""):  # what make install installs
            self.copy_file(path, inc, preserve_mode=False)


class install_any_layout(install):
    """install, with the two attributes (`install_layout`, `prefix_option`)
    that Debian's setuptools wheels (python3-setuptools-whl, the only
    setuptools a machine without a package index has for a venv) ask of
    Debian's own distutils: without them they fail in any other interpreter
    with "'install' object has no attribute 'install_layout'"."""

    install_layout = None
    prefix_option = None


gate = Extension(
    "_abigate",
    # slots/abigate/record.c: the gate module carries the abigate record,
    # baked as any author's module is (docs/AUTHORS.md).
    sources=makefile_list("GATE_FILES") + makefile_list("LIBABIGATE_SOURCES")
    + makefile_list("CLI_SOURCES") + ["slots/abigate/record.c"],
    include_dirs=["loader", "slots"],
    libraries=["z"],  # zlib: loader/zip.c
    # _GNU_SOURCE: what configure's AC_USE_SYSTEM_EXTENSIONS gives the
    # autotools build; ABIGATE_API empty: libabigate's names stay hidden.
    define_macros=[("ABIGATE_BUILDING_LIBRARY", None), ("_GNU_SOURCE", None),
                   ("ABIGATE_API", "")],
    extra_compile_args=["-std=gnu11", "-fvisibility=hidden"],
)

setup(ext_modules=[gate], cmdclass={"build_py": build_py_extras, "install": install_any_layout})
