"""The parts of the abigate package that pyproject.toml cannot declare.

- _abigate, compiled from the import hook's C files (loader/python) and
  libabigate's own sources.  The lists are read from the sources.am files
  Makefile.am includes (LIBABIGATE_SOURCES, PYTHON_HOOK_FILES, CLI_SOURCES),
  so the autotools build and this one compile the same files.
- the `abigate` command: the C program itself (CLI_SOURCES with libabigate's
  sources linked in), built by build_scripts and installed as the wheel's
  script (<name>.data/scripts/abigate), as wheels of native tools install
  theirs: one program, whichever way abigate was installed; `python -m
  abigate` runs it.
- abigate/version.h, abigate.pc: written from their templates with the
  version of the one VERSION file (configure does the same).
- abigate.pth at the top of site-packages (it switches the gate on at
  start-up when PYTHONABIGATE or -X abigate asks), and the extension
  authors' headers under abigate/include (abigate.get_include()), the
  record's source under abigate/share.  All are in the wheel's RECORD, so
  `pip uninstall abigate` removes them.
"""
import os
import sysconfig

from setuptools import Command, Extension, setup
from setuptools.command.build_py import build_py
from setuptools.command.install import install
from setuptools.command.install_scripts import install_scripts

HERE = os.path.dirname(os.path.abspath(__file__))


def sources(am, name, suffix=".c"):
    """The files of the variable `name` in the sources.am file `am` (one
    assignment, a file per line; see loader/libabigate/sources.am) ending
    in `suffix` (all of them for ""), relative to HERE."""
    with open(os.path.join(HERE, am)) as f:
        lines = [line.strip().rstrip("\\").strip() for line in f]
    words = [w for line in lines if line and not line.startswith("#") for w in line.split()]
    if words[:2] != [name, "="]:
        raise SystemExit("setup.py: %s does not start with %s =" % (am, name))
    return [w for w in words[2:] if w.endswith(suffix)]


LIB = sources("loader/libabigate/sources.am", "LIBABIGATE_SOURCES")
CLI = sources("loader/cli/sources.am", "CLI_SOURCES")
HOOK = sources("loader/python/sources.am", "PYTHON_HOOK_FILES")
with open(os.path.join(HERE, "VERSION")) as f:
    VERSION = f.read().strip()
MAJOR, MINOR, PATCH = VERSION.split(".")
GENERATED = os.path.join("build", "generated")  # holds include/abigate/version.h


def from_template(template, out, **values):
    """Write `out` from `template`, each @NAME@ replaced by values[NAME]."""
    with open(os.path.join(HERE, template)) as f:
        text = f.read()
    for k, v in values.items():
        text = text.replace("@%s@" % k, v)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        f.write(text)


from_template("loader/include/abigate/version.h.in",
              os.path.join(GENERATED, "include", "abigate", "version.h"),
              PACKAGE_VERSION=VERSION, ABIGATE_VERSION_MAJOR=MAJOR,
              ABIGATE_VERSION_MINOR=MINOR, ABIGATE_VERSION_PATCH=PATCH)
INCLUDE_DIRS = [os.path.join(GENERATED, "include"), "loader/include", "slots"]


class build_py_extras(build_py):
    """build_py, plus abigate.pth and the headers."""

    def run(self):
        super().run()
        self.copy_file(os.path.join("loader", "python", "abigate.pth"),
                       os.path.join(self.build_lib, "abigate.pth"), preserve_mode=False)
        inc = os.path.join(self.build_lib, "abigate", "include", "abigate")
        self.mkpath(inc)
        for name in sorted(os.listdir(os.path.join("slots", "abigate"))):  # the authors' headers
            if name.endswith(".h"):
                self.copy_file(os.path.join("slots", "abigate", name), inc, preserve_mode=False)
        share = os.path.join(self.build_lib, "abigate", "share")
        self.mkpath(share)
        self.copy_file(os.path.join("slots", "abigate-record.c"), share, preserve_mode=False)
        from_template(os.path.join("loader", "python", "abigate.pc.in"),
                      os.path.join(self.build_lib, "abigate", "lib", "pkgconfig", "abigate.pc"),
                      PACKAGE_VERSION=VERSION)


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
        return sources("loader/cli/sources.am", "CLI_SOURCES", "") + \
            sources("loader/libabigate/sources.am", "LIBABIGATE_SOURCES", "")

    def get_outputs(self):
        return [os.path.join(self.build_dir, "abigate")]

    def run(self):
        from distutils.ccompiler import new_compiler  # setuptools' own distutils
        from distutils.sysconfig import customize_compiler
        cc = new_compiler(force=self.force)
        customize_compiler(cc)
        objects = cc.compile(CLI + LIB, output_dir=os.path.join(self.build_temp, "cli"),
                             macros=MACROS, include_dirs=INCLUDE_DIRS, extra_postargs=CFLAGS)
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
    # slots/abigate-record.c: the gate module carries the abigate record,
    # baked as any author's module is (docs/AUTHORS.md).
    sources=HOOK + LIB + ["slots/abigate-record.c"],
    include_dirs=INCLUDE_DIRS,
    libraries=["z"],  # zlib: loader/zip.c
    define_macros=MACROS,
    extra_compile_args=CFLAGS,
)

setup(version=VERSION, ext_modules=[gate], cmdclass={"build_py": build_py_extras, "install": install_any_layout,
                                    "build_scripts": build_cli, "install_scripts": install_cli})
