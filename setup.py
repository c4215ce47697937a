"""The parts of the abigate package that pyproject.toml cannot declare.

- _abigate, compiled from loader/gate's glue and libabigate's own sources.
  Both lists are read from Makefile.am (LIBABIGATE_SOURCES, GATE_FILES), so
  the autotools build and this one compile the same files.
- the `abigate` command: the C program itself (Makefile.am's abigate_SOURCES
  with libabigate's sources linked in), built by build_scripts and installed
  as the wheel's script (<name>.data/scripts/abigate), as wheels of native
  tools install theirs: one program, whichever way abigate was installed.
- abigate.pth at the top of site-packages (it switches the gate on at
  start-up when PYTHONABIGATE or -X abigate asks), and the extension
  authors' headers under abigate/include (abigate.get_include()).  Both are in the
  wheel's RECORD, so `pip uninstall abigate` removes them.
"""
import os
import re

import sysconfig

from setuptools import Command, Extension, setup
from setuptools.command.build_py import build_py
from setuptools.command.install import install
from setuptools.command.install_scripts import install_scripts

HERE = os.path.dirname(os.path.abspath(__file__))


def makefile_list(name, suffix=".c"):
    """The files of the Makefile.am variable `name` ending in `suffix`
    (all of them for ""), relative to HERE; $(VAR) references expanded."""
    with open(os.path.join(HERE, "Makefile.am")) as f:
        text = f.read().replace("\\\n", " ")
    m = re.search(r"^%s\s*=(.*)$" % re.escape(name), text, re.M)
    if not m:
        raise SystemExit("setup.py: no %s in Makefile.am" % name)
    words = []
    for w in m.group(1).split():
        ref = re.fullmatch(r"\$\((\w+)\)", w)
        words += makefile_list(ref.group(1), suffix) if ref else [w] if w.endswith(suffix) else []
    return words


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


# What both the module and the program are compiled with: _GNU_SOURCE is what
# configure's AC_USE_SYSTEM_EXTENSIONS gives the autotools build; ABIGATE_API
# empty: libabigate's names stay hidden.
MACROS = [("ABIGATE_BUILDING_LIBRARY", None), ("_GNU_SOURCE", None), ("ABIGATE_API", "")]
CFLAGS = ["-std=gnu11", "-fvisibility=hidden"]


class build_cli(Command):
    """build_scripts: the abigate program, compiled and linked here (no
    script to copy: the command is C)."""

    description = "build the abigate command-line program"
    user_options = []

    def initialize_options(self):
        self.build_dir = self.build_temp = self.force = None

    def finalize_options(self):
        self.set_undefined_options("build", ("build_scripts", "build_dir"),
                                   ("build_temp", "build_temp"), ("force", "force"))

    def get_source_files(self):
        return makefile_list("abigate_SOURCES", "") + makefile_list("LIBABIGATE_SOURCES", "")

    def get_outputs(self):
        return [os.path.join(self.build_dir, "abigate")]

    def run(self):
        from distutils.ccompiler import new_compiler  # setuptools' own distutils
        from distutils.sysconfig import customize_compiler
        cc = new_compiler(force=self.force)
        customize_compiler(cc)
        sources = makefile_list("abigate_SOURCES") + makefile_list("LIBABIGATE_SOURCES")
        objects = cc.compile(sources, output_dir=os.path.join(self.build_temp, "cli"), macros=MACROS,
                             include_dirs=["loader", "slots"], extra_postargs=CFLAGS)
        self.mkpath(self.build_dir)
        cc.link_executable(objects, "abigate", output_dir=self.build_dir, libraries=["z"],
                           extra_preargs=(sysconfig.get_config_var("LDFLAGS") or "").split())


class install_cli(install_scripts):
    """install_scripts: the program build_cli made, mode 0755; in a wheel,
    <name>.data/scripts/abigate (pip copies it to the environment's bin)."""

    def run(self):
        self.run_command("build_scripts")
        self.outfiles = self.copy_tree(self.build_dir, self.install_dir)
        for path in self.outfiles:
            os.chmod(path, 0o755)


gate = Extension(
    "_abigate",
    # slots/abigate/record.c: the gate module carries the abigate record,
    # baked as any author's module is (docs/AUTHORS.md).
    sources=makefile_list("GATE_FILES") + makefile_list("LIBABIGATE_SOURCES")
    + makefile_list("CLI_SOURCES") + ["slots/abigate/record.c"],
    include_dirs=["loader", "slots"],
    libraries=["z"],  # zlib: loader/zip.c
    define_macros=MACROS,
    extra_compile_args=CFLAGS,
)

setup(ext_modules=[gate], cmdclass={"build_py": build_py_extras, "install": install_any_layout,
                                    "build_scripts": build_cli, "install_scripts": install_cli})
