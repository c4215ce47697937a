"""abigate: judge CPython extension modules before they are loaded.

The import gate puts a finder in front of every extension module that the
path-based finder loads (top-level modules, submodules, relative imports,
importlib.import_module, importlib.reload, ``python -m``).  Before CPython
dlopen()s the file, its abigate record (or, for files without one, the
evidence in the file) is read and judged against this interpreter by
libabigate's abigate_decide (docs/POLICY.md).  Then:

- ACCEPT: the file loads as usual;
- ADAPT: a compatible sibling build is loaded instead, or a PEP 793
  slots-only abi3t module is loaded on 3.12-3.14 (the abi3t backport);
- REFUSE: ImportError, with ``name`` and ``path`` set and a message naming
  the module, the file, what it was built for, this interpreter, and the
  rule.

Switching it on: ``PYTHONABIGATE=MODE`` (ignored under -E and -I, like every
PYTHON* variable) or ``-X abigate=MODE`` (always counts, and wins), where
MODE is off, warn, strict or require, optionally followed by ",trace".  The
abigate.pth file installed next to this package does it at start-up; without
either setting it does nothing else.  ``install()`` does it from code.

docs/GATE.md is the user guide.
"""
import os as _os
import sys as _sys

import _abigate
import _imp
import _thread

try:  # the frozen importlib machinery is always loaded; importlib itself may not be
    import _frozen_importlib_external as _external
except ImportError:  # pragma: no cover - CPython always has it
    from importlib import _bootstrap_external as _external

__all__ = ["ABIWarning", "Verdict", "check", "inspect", "profile", "install", "uninstall",
           "get_pkgconfig_dir",
           "mode", "get_include", "with_record", "__version__"]
__version__ = _abigate.__version__

_FileFinder = _external.FileFinder
_ExtensionFileLoader = _external.ExtensionFileLoader


class ABIWarning(RuntimeWarning):
    """The warning the gate issues in ``warn`` mode for an extension that
    ``strict`` would refuse; the module is loaded anyway.  A RuntimeWarning
    (not an ImportWarning, which Python's default filters hide), so it is
    shown by default and can be turned into an error with
    ``-W error::abigate.ABIWarning``."""


# The gate's judgement of one file, a tuple with named fields (a struct
# sequence, made by _abigate.decide): kind ('accept', 'adapt', 'refuse'),
# reason (an ABIGATE_R_* name, or ABIGATE_E_* for a file that is not a
# readable ELF, PE or Mach-O object), message, warning (True when warn mode let a mismatch
# load), evidence ('record', 'inferred', 'none'), adapt ('abi3t-backport' or
# ''), path.
Verdict = _abigate.Verdict


def _noted(v, note):
    """`v` with `note` added to its message."""
    return Verdict(v[:2] + (v[2] + note,) + v[3:])


_MODE_OFF = _abigate.MODE_OFF
_MODES = {_abigate.MODE_OFF: "off", _abigate.MODE_WARN: "warn",
          _abigate.MODE_STRICT: "strict", _abigate.MODE_REQUIRE: "require"}
_TRACE = _abigate.POLICY_TRACE
_QUIET = _abigate.POLICY_QUIET
_FREE_THREADED = bool(_abigate.FREE_THREADED)
_ADAPT = _abigate.POLICY_ADAPT_ABI3T

# The active policy: (mode, flags, the flags the finder judges with: without
# trace, POLICY_QUIET, as a plain ACCEPT's message is never shown);
# MODE_OFF when the gate is not installed.
_policy = (_abigate.MODE_OFF, 0, 0)
_activated = False            # _activate() ran (abigate.pth)
_saved_hook = None            # the FileFinder path hook the gate replaced
_trace_lock = _thread.allocate_lock()
_native_suffixes = _imp.extension_suffixes()
_suffixes = _native_suffixes  # what the gate's finder looks for (see _gate_suffixes)
_extra_suffixes = ()


def _gate_suffixes():
    """This interpreter's extension suffixes, plus, below 3.15, the abi3t ones
    (placed as 3.15 places them, before '.so'), so that the abi3t backport
    finds PEP 793 slots-only modules named m.abi3t.so."""
    if _sys.hexversion >= 0x030f0000:
        return _native_suffixes, ()
    multiarch = _abigate.profile()["multiarch"]
    extra = tuple(s for s in (multiarch and ".abi3t-%s.so" % multiarch, ".abi3t.so") if s)
    suffixes = list(_native_suffixes)
    at = suffixes.index(".so") if ".so" in suffixes else len(suffixes)
    suffixes[at:at] = [s for s in extra if s not in suffixes]
    return suffixes, extra


def _parse(mode):
    """'strict,trace' -> (mode, flags); ValueError for an unknown mode."""
    m, f = _abigate.parse_mode(mode)
    return m, f | _ADAPT


def _judge(path, policy):
    return _abigate.decide(path, policy[0], policy[1])


def _trace(action, name, v):
    line = _abigate.text(_abigate.TEXT_TRACE, action, name, v) + "\n"
    with _trace_lock:
        _sys.stderr.write(line)
        _sys.stderr.flush()


def _refusal(name, v, others=()):
    msg = _abigate.text(_abigate.TEXT_REFUSAL, None, name, v)
    if others:
        msg += "; also refused: " + ", ".join(
            "%s [%s]" % (_os.path.basename(o.path), o.reason) for o in others)
    err = ImportError(msg, name=name, path=v.path)
    err.abigate_reason = v.reason
    return err


# ---------------------------------------------------------------- the loader

class GateLoader(_ExtensionFileLoader):
    """ExtensionFileLoader that acts on the verdict the finder stored in
    ``spec.loader_state`` (or judges the file itself when the spec was made
    elsewhere): raises the refusal, warns, or adapts, before CPython
    dlopen()s anything.  The finder gives it only to the specs that need it
    (see GateFinder); an accepted file keeps CPython's own loader."""

    def _verdict(self, spec):
        v = spec.loader_state
        if type(v) is not Verdict or v.path != spec.origin:
            v = _judge(spec.origin, _policy)
            spec.loader_state = v
            if _policy[1] & _TRACE:
                _trace(v.kind, spec.name, v)
        return v

    def create_module(self, spec):
        v = self._verdict(spec)
        if v.kind == "refuse":
            raise _refusal(spec.name, v, getattr(spec, "_abigate_others", ()))
        if v.warning:
            import warnings
            warnings.warn(_abigate.text(_abigate.TEXT_WARNING, None, spec.name, v), ABIWarning,
                          stacklevel=2)
        if v.adapt == "abi3t-backport":
            module = _abigate.backport_create(spec, v.path, _sys.getdlopenflags(), _policy[0],
                                              _policy[1])
        else:
            module = _imp.create_dynamic(spec)
        if _FREE_THREADED and _policy[1] & _TRACE and _sys._is_gil_enabled() and \
                _abigate.gil_not_used(module) is not True:
            _trace("gil", spec.name, Verdict((
                "accept", "ABIGATE_R_NONE",
                "compatible, but it does not declare Py_mod_gil = Py_MOD_GIL_NOT_USED, "
                "so CPython has re-enabled the GIL", False, v.evidence, v.adapt, v.path)))
        return module

    def get_code(self, fullname):
        """None, as for every extension, but a refused file says why
        (python -m pkg.ext asks for code before anything is loaded)."""
        spec = _external.spec_from_file_location(fullname, self.path, loader=self)
        v = self._verdict(spec) if _policy[0] != _MODE_OFF else None
        if v is not None and v.kind == "refuse":
            raise _refusal(fullname, v)
        return None

    def exec_module(self, module):
        spec = getattr(module, "__spec__", None)
        if spec is not None and spec.loader is self:  # importlib.reload: no create_module
            v = self._verdict(spec)
            if v.kind == "refuse":
                raise _refusal(spec.name, v)
        _imp.exec_dynamic(module)


# ---------------------------------------------------------------- the finder

class GateFinder(_FileFinder):
    """FileFinder that judges every extension module it finds, and picks
    among sibling builds (m.cpython-313t-....so, m.abi3.so, m.so) the first,
    in this interpreter's suffix order, that is not refused.

    Its specs for extensions carry the verdict in ``loader_state``.  A
    plainly accepted file keeps CPython's ExtensionFileLoader, so that
    loading it costs nothing more; a spec that must be refused, warned
    about, adapted or traced gets a GateLoader."""

    def find_spec(self, fullname, target=None):
        spec = _FileFinder.find_spec(self, fullname, target)
        policy = _policy
        if spec is None or type(spec.loader) is not _ExtensionFileLoader or \
                policy[0] == _MODE_OFF:
            return spec
        v = _abigate.decide(spec.origin, policy[0], policy[2])
        spec.loader_state = v
        trace = policy[1] & _TRACE
        if v.kind != "refuse" or spec.submodule_search_locations is not None:
            if trace:
                _trace("warn" if v.warning else v.kind, fullname, v)
            if v.kind != "accept" or v.warning or (trace and _FREE_THREADED):
                spec.loader = GateLoader(fullname, spec.origin)
            return spec
        # Sibling selection: the candidates after the one the finder chose.
        tail = fullname.rpartition(".")[2]
        refused = [v]
        chosen = None
        for suffix in _suffixes:
            path = _os.path.join(self.path, tail + suffix)
            if path == spec.origin or tail + suffix not in self._path_cache or \
                    not _os.path.isfile(path):
                continue
            w = _judge(path, policy)
            if w.kind == "refuse":
                refused.append(w)
                continue
            chosen = w
            break
        if trace:
            for r in refused:
                _trace("skip" if chosen or r.path.endswith(_extra_suffixes) else "refuse",
                       fullname, r)
            if chosen:
                _trace(chosen.kind, fullname, _noted(chosen, " (sibling chosen over %s)" % ", ".join(
                    _os.path.basename(r.path) for r in refused)))
        if chosen is not None:
            new = _external.spec_from_file_location(fullname, chosen.path,
                                                    loader=GateLoader(fullname, chosen.path))
            new.loader_state = chosen
            return new
        if all(r.path.endswith(_extra_suffixes) for r in refused):
            # Only abi3t files, which this interpreter would not have looked
            # at, and the backport cannot load them: a module of another kind
            # here (m.py) is found as CPython finds it; else the refusal is
            # raised, naming what the backport lacks.
            plain = self._without_extra().find_spec(fullname, target)
            if plain is not None:
                return plain
        spec.loader = GateLoader(fullname, spec.origin)
        spec.loader_state = v
        spec._abigate_others = refused[1:]
        return spec

    def _without_extra(self):
        """A plain FileFinder over this directory with the native suffixes;
        the extensions it finds are judged by GateLoader itself."""
        finder = self.__dict__.get("_abigate_plain")
        if finder is None:
            finder = self._abigate_plain = _FileFinder(
                self.path, *_loaders(_native_suffixes, GateLoader))
        return finder


def _loaders(ext_suffixes, ext_loader=_ExtensionFileLoader):
    loaders = []
    for loader, suffixes in _external._get_supported_file_loaders():
        if loader is _ExtensionFileLoader:
            loader, suffixes = ext_loader, list(ext_suffixes)
        loaders.append((loader, suffixes))
    return loaders


def _make_hook():
    return GateFinder.path_hook(*_loaders(_suffixes))


def _is_filefinder_hook(hook):
    return getattr(hook, "__name__", "") == "path_hook_for_FileFinder"


def _forget_finders(cls):
    for key, finder in list(_sys.path_importer_cache.items()):
        if type(finder) is cls:
            del _sys.path_importer_cache[key]


# ---------------------------------------------------------------- public API

def install(mode="strict"):
    """Switch the gate on for this interpreter with MODE ('warn', 'strict',
    'require', each optionally followed by ',trace'); 'off' uninstalls it.
    Extension modules imported from now on are judged.  Raises ValueError
    for an unknown mode.  On an interpreter with the gate built in
    (_imp.abigate_status) this does nothing: that gate already judges every
    extension, in the mode -X abigate / PYTHONABIGATE gave it."""
    _install(*_parse(mode))


def _install(m, f):
    """install() with the mode already parsed: MODE_*, POLICY_* flags."""
    global _policy, _saved_hook, _suffixes, _extra_suffixes
    if m == _abigate.MODE_OFF:
        uninstall()
        return
    if _builtin() is not None:
        return  # the interpreter's own gate judges every extension already
    # Profiling this process fails now, not at the first import, if it can.
    _suffixes, _extra_suffixes = _gate_suffixes()
    with _trace_lock:
        _policy = (m, f, f if f & _TRACE else f | _QUIET)
        if _saved_hook is None:
            for i, hook in enumerate(_sys.path_hooks):
                if _is_filefinder_hook(hook):
                    _saved_hook = hook
                    _sys.path_hooks[i] = _make_hook()
                    break
            else:
                raise ImportError("abigate: no FileFinder path hook in sys.path_hooks")
            _forget_finders(_FileFinder)


def uninstall():
    """Switch the gate off and restore CPython's own path hook."""
    global _policy, _saved_hook
    with _trace_lock:
        _policy = (_abigate.MODE_OFF, 0, 0)
        if _saved_hook is not None:
            for i, hook in enumerate(_sys.path_hooks):
                if _is_filefinder_hook(hook) and hook is not _saved_hook:
                    _sys.path_hooks[i] = _saved_hook
                    break
            _saved_hook = None
            _forget_finders(GateFinder)


def mode():
    """The active mode as text, e.g. 'strict,trace'; 'off' when the gate is
    off.  On an interpreter with the gate built in, that gate's mode."""
    builtin = _builtin()
    if builtin is not None:
        return builtin["mode"]
    m, f = _policy[:2]
    return _MODES[m] + (",trace" if f & _TRACE else "")


def profile():
    """What abigate knows about this interpreter (a dict): version,
    free-threaded, debug, SOABI, extension suffixes, the file whose exports
    were read."""
    return _abigate.profile()


def _many(path):
    """A wheel or a directory: inspect() and check() give a list."""
    return path.endswith(".whl" if isinstance(path, str) else b".whl") or _os.path.isdir(path)


def inspect(path):
    """What the file at PATH is (a dict): the abigate record, or None, and the
    evidence read from the file.  The file is read, never loaded.  For a
    wheel (*.whl, read in place) or a directory (its *.so files and wheels,
    links not followed): a list of such dicts, one per extension file or
    member, each with its "path" ("wheel.whl/member" for a member) and
    "member", or "error" and "message" when it could not be read."""
    path = _os.fspath(path)
    return _abigate.inspect_all(path) if _many(path) else _abigate.inspect(path)


def check(path, mode="strict"):
    """The Verdict of the gate for the file at PATH on this interpreter under
    MODE, without loading it.  For a wheel or a directory: a list of
    Verdicts, one per extension file or member (path "wheel.whl/member"),
    each member's followed by one per tag set of its wheel that does not
    fit it (reason ABIGATE_R_WHEEL_*), as `abigate check` gives them."""
    path = _os.fspath(path)
    m, f = _parse(mode)
    if _many(path):
        return _abigate.check_all(path, m, f)
    return _judge(_os.fsdecode(path), (m, f))


def get_include():
    """The directory holding abigate/slot.h and abigate/universal.h, for
    extension authors (like numpy.get_include()): `#include <abigate/slot.h>`
    with this directory on the include path."""
    return _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "include")


def get_pkgconfig_dir():
    """The directory holding abigate.pc for this package's headers and
    record source (a pip install; like numpy-config --pkgconfigdir): put it on
    PKG_CONFIG_PATH for meson's dependency('abigate'), CMake's pkg_check_modules
    or `pkg-config --variable=record_source abigate`."""
    return _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "lib", "pkgconfig")


def with_record(ext, hooks=None):
    """setuptools: give the Extension `ext` the abigate record without
    touching its C sources -- the record's source (abigate-record.c, copied
    to build/abigate/ of the project: setuptools takes relative sources only)
    is compiled with the extension's own flags and linked into it.  `hooks`: the C expression of
    its init hooks ("ABIGATE_HOOK_PYINIT", the default, or
    "ABIGATE_HOOK_MODEXPORT").  Returns `ext`.

        from setuptools import Extension, setup
        import abigate
        setup(ext_modules=[abigate.with_record(Extension("spam", ["spam.c"]))])
    """
    # setuptools takes only sources relative to the project: an absolute one
    # fails `pip wheel` ("setup script specifies an absolute path") whenever
    # the package data is analysed and the path lacks the word "build".  The
    # record's source is copied into the project's build directory.
    here = _os.path.dirname(_os.path.abspath(__file__))
    with open(_os.path.join(here, "share", "abigate-record.c"), "rb") as f:
        text = f.read()
    local = _os.path.join("build", "abigate", "abigate-record.c")
    try:
        with open(local, "rb") as f:
            same = f.read() == text
    except OSError:
        same = False
    if not same:
        _os.makedirs(_os.path.dirname(local), exist_ok=True)
        with open(local, "wb") as f:
            f.write(text)
    ext.sources.append(local)
    ext.include_dirs.append(get_include())
    if hooks:
        ext.define_macros.append(("ABIGATE_RECORD_HOOKS", hooks))
    return ext


# ---------------------------------------------------------------- start-up

def _builtin():
    """The gate built into this interpreter (patches/), or None."""
    status = getattr(_imp, "abigate_status", None)
    return status() if status is not None else None


def _activate():
    """Called by abigate.pth at start-up: -X abigate=MODE, else
    PYTHONABIGATE (unless -E/-I), resolved by libabigate as the patched
    interpreter resolves it.  An unknown value gives one warning on stderr
    and then strict.  Runs once, however many site directories hold
    abigate.pth.  On an interpreter whose gate is built in, the hook steps
    aside: every extension is already judged, once."""
    global _activated
    if _activated:
        return
    _activated = True
    if _builtin() is not None:
        return
    x = _sys._xoptions.get("abigate")
    m, f, source, warning = _abigate.resolve_mode(
        x is not None, x if isinstance(x, str) else None,
        _os.environ.get("PYTHONABIGATE"), bool(_sys.flags.ignore_environment))
    if warning:
        _sys.stderr.write(warning + "\n")
    _install(m, f | _ADAPT)
