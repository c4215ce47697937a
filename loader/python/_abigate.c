/* _abigate.c -- the import gate's C half: a CPython extension module built
 * for each interpreter (configure --with-python=PATH) and linked with
 * libabigate.  The `abigate` package (loader/gate/abigate/__init__.py) puts
 * it in the path-based finder; this module does the work that must not run
 * any of the judged file's code:
 *
 *   profile()              what this interpreter is (libabigate's profile of
 *                          this process, taken once, on first use)
 *   inspect(path)          what the file is, as a dict (the CLI's inspect)
 *   decide(path, mode, flags)
 *                          read the file (bounded preads, no dlopen) and judge
 *                          it: a Verdict (kind, reason, message, warning,
 *                          evidence, adapt, path), a struct sequence
 *   backport_create(spec, path, dlopenflags)
 *                          the abi3t backport (loader/gate/backport.c)
 *
 * The GIL is released while a file is read and judged, so that threads
 * importing different extensions are judged in parallel.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "abigate/abigate.h"
#include "hook.h"

/* ---------------------------------------------------------------- the gate */

/* The one gate of this process (libabigate's abigate_gate): the profile,
 * taken at the first judgement, and the symbol buffers live there.  This
 * module adds only what the library cannot know: the flags it was compiled
 * with (the interpreter's own) and the import system's suffixes (Debian
 * adds multiarch and debug fallbacks). */
static abigate_gate *process_gate;

static int gate_create(void)
{
    PyObject *imp = PyImport_ImportModule("_imp");
    if (!imp)
        return -1;
    PyObject *list = PyObject_CallMethod(imp, "extension_suffixes", NULL);
    Py_DECREF(imp);
    if (!list)
        return -1;
    const char *suffixes[ABIGATE_PROFILE_MAX_SUFFIXES + 1];
    Py_ssize_t n = PyList_Check(list) ? PyList_GET_SIZE(list) : 0;
    int k = 0;
    for (Py_ssize_t i = 0; i < n && k < ABIGATE_PROFILE_MAX_SUFFIXES; i++)
        if (!(suffixes[k++] = PyUnicode_AsUTF8(PyList_GET_ITEM(list, i)))) {
            Py_DECREF(list);
            return -1;
        }
    suffixes[k] = NULL;
    abigate_gate_config cfg;
    abigate_gate_config_init(&cfg);
    abigate_gate_config_python(&cfg); /* this module's flags are the interpreter's */
    cfg.suffixes = suffixes;
    abigate_error err;
    process_gate = abigate_gate_new(&cfg, &err); /* copies the suffixes */
    Py_DECREF(list);
    if (!process_gate) {
        PyErr_Format(PyExc_ImportError, "abigate: %s", err.message);
        return -1;
    }
    return 0;
}

abigate_gate *gate_get(void)
{
    return process_gate;
}

/* An exception for a failure of the gate itself (not a verdict). */
PyObject *gate_error(const abigate_error *err)
{
    if (err->code == ABIGATE_E_NOMEM)
        return PyErr_NoMemory();
    if (err->code == ABIGATE_E_NO_INTERPRETER)
        PyErr_Format(PyExc_ImportError, "abigate: cannot profile this interpreter: %s",
                     err->message);
    else
        PyErr_Format(PyExc_ImportError, "abigate: %s [%s]", err->message,
                     abigate_code_name(err->code));
    return NULL;
}

/* The process profile, taken on first use; NULL with ImportError set when
 * this process cannot be profiled. */
const abigate_profile *gate_profile(void)
{
    abigate_error err;
    const abigate_profile *p;
    Py_BEGIN_ALLOW_THREADS
    p = abigate_gate_profile(process_gate, &err);
    Py_END_ALLOW_THREADS
    if (!p)
        gate_error(&err);
    return p;
}

/* ---------------------------------------------------------------- conversions */

static int path_arg(PyObject *obj, void *out)
{
    return PyUnicode_FSConverter(obj, out);
}

static PyObject *os_error(const abigate_error *err, const char *path)
{
    PyObject *exc = PyObject_CallFunction(PyExc_OSError, "isz", 0, err->message, path);
    if (exc) {
        PyObject *code = PyUnicode_FromString(abigate_code_name(err->code));
        if (code) {
            PyObject_SetAttrString(exc, "abigate_code", code);
            Py_DECREF(code);
        }
        PyErr_SetObject(PyExc_OSError, exc);
        Py_DECREF(exc);
    }
    return NULL;
}

static int set_item(PyObject *d, const char *key, PyObject *value)
{
    if (!value)
        return -1;
    int rc = PyDict_SetItemString(d, key, value);
    Py_DECREF(value);
    return rc;
}

static PyObject *version_text(uint32_t hex)
{
    char buf[32];
    return PyUnicode_FromString(abigate_format_version(hex, buf, sizeof buf));
}

/* ---------------------------------------------------------------- profile() */

static PyObject *gate_profile_dict(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    const abigate_profile *p = gate_profile();
    if (!p)
        return NULL;
    char name[64];
    PyObject *d = PyDict_New(), *suffixes = PyList_New(0);
    if (!d || !suffixes)
        goto fail;
    for (unsigned i = 0; i < p->n_suffixes; i++) {
        PyObject *s = PyUnicode_FromString(p->suffixes[i]);
        if (!s || PyList_Append(suffixes, s) < 0) {
            Py_XDECREF(s);
            goto fail;
        }
        Py_DECREF(s);
    }
    if (set_item(d, "name", PyUnicode_FromString(abigate_profile_name(p, name, sizeof name))) ||
        set_item(d, "version", version_text(p->hexversion)) ||
        set_item(d, "hexversion", PyLong_FromUnsignedLong(p->hexversion)) ||
        set_item(d, "free_threaded", PyBool_FromLong(p->flags & ABIGATE_PROFILE_FREETHREADED)) ||
        set_item(d, "debug", PyBool_FromLong(p->flags & ABIGATE_PROFILE_DEBUG)) ||
        set_item(d, "trace_refs", PyBool_FromLong(p->flags & ABIGATE_PROFILE_TRACE_REFS)) ||
        set_item(d, "pointer_size", PyLong_FromUnsignedLong(p->pointer_size)) ||
        set_item(d, "machine", PyUnicode_FromString(abigate_machine_name(p->machine)
                                                        ? abigate_machine_name(p->machine) : "")) ||
        set_item(d, "soabi", PyUnicode_FromString(p->soabi)) ||
        set_item(d, "multiarch", PyUnicode_FromString(p->multiarch)) ||
        set_item(d, "extension_suffixes", (Py_INCREF(suffixes), suffixes)) ||
        set_item(d, "exports_path", PyUnicode_DecodeFSDefault(p->exports_path)) ||
        set_item(d, "exports", PyLong_FromUnsignedLong(p->exports ? abigate_symbols_count(p->exports) : 0)))
        goto fail;
    Py_DECREF(suffixes);
    return d;
fail:
    Py_XDECREF(d);
    Py_XDECREF(suffixes);
    return NULL;
}

/* ---------------------------------------------------------------- inspect(path) */

static PyObject *record_dict(const abigate_record *r)
{
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    const abigate_abiinfo *a = &r->abiinfo;
    if (set_item(d, "version", PyUnicode_FromFormat("%u.%u", r->major, r->minor)) ||
        set_item(d, "abiinfo_flags", PyLong_FromUnsignedLong(a->flags)) ||
        set_item(d, "build_version", version_text(a->build_version)) ||
        set_item(d, "abi_version", (a->flags & ABIGATE_ABIINFO_STABLE)
                                       ? PyUnicode_FromFormat("%u.%u", (unsigned)(a->abi_version >> 24),
                                                              (unsigned)(a->abi_version >> 16 & 0xff))
                                       : version_text(a->abi_version)) ||
        set_item(d, "stable", PyBool_FromLong(a->flags & ABIGATE_ABIINFO_STABLE)) ||
        set_item(d, "gil", PyBool_FromLong(a->flags & ABIGATE_ABIINFO_GIL)) ||
        set_item(d, "free_threaded", PyBool_FromLong(a->flags & ABIGATE_ABIINFO_FREETHREADED)) ||
        set_item(d, "internal", PyBool_FromLong(a->flags & ABIGATE_ABIINFO_INTERNAL)) ||
        set_item(d, "opaque_pyobject", PyBool_FromLong(r->flags & ABIGATE_REC_OPAQUE_PYOBJECT)) ||
        set_item(d, "debug", PyBool_FromLong(r->flags & ABIGATE_REC_PY_DEBUG)) ||
        set_item(d, "trace_refs", PyBool_FromLong(r->flags & ABIGATE_REC_TRACE_REFS)) ||
        set_item(d, "limited_api", PyLong_FromUnsignedLong(r->limited_api)) ||
        set_item(d, "target_abi3t", PyLong_FromUnsignedLong(r->target_abi3t)) ||
        set_item(d, "pointer_size", PyLong_FromUnsignedLong(r->pointer_size))) {
        Py_DECREF(d);
        return NULL;
    }
    return d;
}

static PyObject *info_dict(const abigate_file_info *fi);

static PyObject *gate_inspect(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *path = NULL;
    if (!PyArg_ParseTuple(args, "O&:inspect", path_arg, &path))
        return NULL;
    abigate_file_info info;
    abigate_error err;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = abigate_read_path(PyBytes_AS_STRING(path), ABIGATE_READ_LEGACY, &info, NULL, &err);
    Py_END_ALLOW_THREADS
    if (rc) {
        os_error(&err, PyBytes_AS_STRING(path));
        Py_DECREF(path);
        return NULL;
    }
    Py_DECREF(path);
    return info_dict(&info);
}

/* inspect()'s dict of what was read. */
static PyObject *info_dict(const abigate_file_info *fi)
{
    const abigate_file_info info = *fi;
    PyObject *d = PyDict_New(), *libpython = PyList_New(0);
    if (!d || !libpython)
        goto fail;
    for (unsigned i = 0; i < info.n_libpython && i < ABIGATE_MAX_LIBPYTHON; i++) {
        PyObject *s = PyUnicode_FromString(info.libpython[i]);
        if (!s || PyList_Append(libpython, s) < 0) {
            Py_XDECREF(s);
            goto fail;
        }
        Py_DECREF(s);
    }
    const char *machine = abigate_machine_name(info.machine);
    PyObject *record = info.record_state == ABIGATE_RECORD_PRESENT ||
                               info.record_state == ABIGATE_RECORD_CONFLICT
                           ? record_dict(&info.record)
                           : (Py_INCREF(Py_None), Py_None);
    if (set_item(d, "elf_class", PyLong_FromUnsignedLong(info.elf_class)) ||
        set_item(d, "machine", PyUnicode_FromString(machine ? machine : "unknown")) ||
        set_item(d, "record", record) ||
        set_item(d, "record_state", PyUnicode_FromString(abigate_record_state_name(info.record_state))) ||
        set_item(d, "record_via", PyUnicode_FromString(abigate_record_via_name(info.record_via))) ||
        set_item(d, "tag", PyUnicode_FromString(info.tag.tag)) ||
        set_item(d, "pyinit", PyUnicode_FromString(info.pyinit)) ||
        set_item(d, "modexport", PyUnicode_FromString(info.modexport)) ||
        set_item(d, "slot_id_315", PyLong_FromUnsignedLong(info.slot_id_315)) ||
        set_item(d, "moddef_layout", PyLong_FromUnsignedLong(info.moddef_layout)) ||
        set_item(d, "format", PyUnicode_FromString(info.format == ABIGATE_FORMAT_PE ? "pe"
                                                   : info.format == ABIGATE_FORMAT_MACHO ? "macho"
                                                                                        : "elf")) ||
        set_item(d, "libpython", (Py_INCREF(libpython), libpython)) ||
        set_item(d, "py_imports", PyLong_FromUnsignedLong(info.n_pysyms)))
        goto fail;
    Py_DECREF(libpython);
    return d;
fail:
    Py_XDECREF(d);
    Py_XDECREF(libpython);
    return NULL;
}

/* ---------------------------------------------------------------- decide(path, mode, flags) */

/* The module's state: the Verdict type and the names a verdict is made of,
 * created once so that judging a file creates no string but its message. */
typedef struct {
    PyTypeObject *verdict_type;
    PyObject *kinds[3];                    /* enum abigate_verdict_kind */
    PyObject *reasons[ABIGATE__REASON_END_]; /* enum abigate_reason */
    PyObject *evidence[3];                 /* enum abigate_evidence */
    PyObject *adapts[2];                   /* enum abigate_adapt_kind */
} gate_state;

static PyStructSequence_Field verdict_fields[] = {
    {"kind", "'accept', 'adapt' or 'refuse'"},
    {"reason", "the rule: an ABIGATE_R_* name, or ABIGATE_E_* for a file that is not a "
               "readable ELF, PE or Mach-O object"},
    {"message", "what the file was built for, what this interpreter is, and the rule"},
    {"warning", "True when warn mode let a mismatch load"},
    {"evidence", "'record', 'inferred' or 'none'"},
    {"adapt", "'abi3t-backport' or ''"},
    {"path", "the file judged"},
    {NULL, NULL}
};

static PyStructSequence_Desc verdict_desc = {
    "abigate.Verdict",
    "The gate's judgement of one file (a tuple with named fields): kind, reason, message,\n"
    "warning, evidence, adapt, path.",
    verdict_fields, 7
};

/* A new reference to the cached name `i` of `table` (n entries), else a
 * new string for `name`. */
static PyObject *cached_name(PyObject *const *table, int n, int i, const char *name)
{
    if (i >= 0 && i < n && table[i]) {
        Py_INCREF(table[i]);
        return table[i];
    }
    return PyUnicode_FromString(name);
}

#define N_OF(a) ((int)(sizeof(a) / sizeof *(a)))

static int state_init(gate_state *st)
{
    st->verdict_type = PyStructSequence_NewType(&verdict_desc);
    if (!st->verdict_type)
        return -1;
    for (int i = 0; i < N_OF(st->kinds); i++)
        if (!(st->kinds[i] = PyUnicode_InternFromString(abigate_verdict_name(i))))
            return -1;
    for (int i = 0; i < N_OF(st->reasons); i++)
        if (!(st->reasons[i] = PyUnicode_InternFromString(abigate_reason_name(i))))
            return -1;
    static const char *const evidence[] = {"none", "record", "inferred"};
    static const char *const adapts[] = {"", "abi3t-backport"};
    for (int i = 0; i < N_OF(st->evidence); i++)
        if (!(st->evidence[i] = PyUnicode_InternFromString(evidence[i])))
            return -1;
    for (int i = 0; i < N_OF(st->adapts); i++)
        if (!(st->adapts[i] = PyUnicode_InternFromString(adapts[i])))
            return -1;
    return 0;
}

/* A Verdict for `path` (the object the caller passed); steals `reason`. */
static PyObject *new_verdict(gate_state *st, PyObject *path, int kind, PyObject *reason,
                             const char *message, int warning, int evidence, int adapt)
{
    if (!reason)
        return NULL;
    PyObject *v = PyStructSequence_New(st->verdict_type);
    PyObject *msg = PyUnicode_DecodeUTF8(message, (Py_ssize_t)strlen(message), "backslashreplace");
    if (!v || !msg) {
        Py_XDECREF(v);
        Py_XDECREF(msg);
        Py_DECREF(reason);
        return NULL;
    }
    Py_INCREF(path);
    PyStructSequence_SetItem(v, 0, cached_name(st->kinds, N_OF(st->kinds), kind, "?"));
    PyStructSequence_SetItem(v, 1, reason);
    PyStructSequence_SetItem(v, 2, msg);
    PyStructSequence_SetItem(v, 3, PyBool_FromLong(warning));
    PyStructSequence_SetItem(v, 4, cached_name(st->evidence, N_OF(st->evidence), evidence, "?"));
    PyStructSequence_SetItem(v, 5, cached_name(st->adapts, N_OF(st->adapts), adapt, "?"));
    PyStructSequence_SetItem(v, 6, path);
    for (int i = 0; i < 7; i++)
        if (!PyStructSequence_GetItem(v, i)) { /* a name could not be made */
            Py_DECREF(v);
            return NULL;
        }
    return v;
}

/* The Verdict of `v` for `path`: its reason's name, or for a file that
 * could not be judged the reader's code (abigate_verdict_rule). */
static PyObject *verdict_object(gate_state *st, PyObject *path, const abigate_verdict *v)
{
    PyObject *reason = v->reason == ABIGATE_R_UNREADABLE
                           ? PyUnicode_FromString(abigate_verdict_rule(v))
                           : cached_name(st->reasons, N_OF(st->reasons), v->reason,
                                         abigate_reason_name(v->reason));
    return new_verdict(st, path, v->kind, reason, v->message, v->warning, v->evidence, v->adapt);
}

/* The C string of a path argument: an ASCII str is used as it is (every
 * file-system encoding encodes it the same), anything else goes through
 * os.fsencode's converter.  *bytes holds what must be released. */
static const char *path_chars(PyObject *path, PyObject **bytes)
{
    *bytes = NULL;
#if PY_VERSION_HEX < 0x030c0000
    if (PyUnicode_Check(path) && PyUnicode_READY(path) < 0)
        return NULL;
#endif
    if (PyUnicode_Check(path) && PyUnicode_IS_ASCII(path)) {
        const char *s = (const char *)PyUnicode_DATA(path);
        if (strlen(s) == (size_t)PyUnicode_GET_LENGTH(path))
            return s;
    }
    if (!PyUnicode_FSConverter(path, bytes))
        return NULL;
    return PyBytes_AS_STRING(*bytes);
}

/* Judge `path` on this interpreter: a Verdict.  Never dlopens: the file is
 * read with bounded preads.  A file that cannot be judged (unopenable, not
 * ELF, truncated, a directory) is a verdict too, by the table of
 * docs/POLICY.md: its reason is the reader's code (ABIGATE_E_...). */
static PyObject *gate_decide(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    gate_state *st = PyModule_GetState(self);
    if (nargs != 3)
        return PyErr_Format(PyExc_TypeError, "decide() takes 3 arguments (%zd given)", nargs);
    long mode = PyLong_AsLong(args[1]);
    if (mode == -1 && PyErr_Occurred())
        return NULL;
    unsigned long flags = PyLong_AsUnsignedLong(args[2]);
    if (flags == (unsigned long)-1 && PyErr_Occurred())
        return NULL;
    if (mode < ABIGATE_MODE_OFF || mode > ABIGATE_MODE_REQUIRE || flags > UINT_MAX)
        return PyErr_Format(PyExc_ValueError, "abigate: invalid mode");
    PyObject *bytes;
    const char *cpath = path_chars(args[0], &bytes);
    if (!cpath)
        return NULL;
    abigate_policy policy = {(int)mode, (unsigned)flags};
    abigate_verdict v;
    abigate_error err;
    int kind;
    Py_BEGIN_ALLOW_THREADS
    kind = abigate_gate_judge(process_gate, cpath, &policy, &v, &err);
    Py_END_ALLOW_THREADS
    Py_XDECREF(bytes);
    if (kind < 0)
        return gate_error(&err);
    return verdict_object(st, args[0], &v);
}

/* UTF-8 bytes of `obj` (str() of it when not a str); lone surrogates (a
 * file name that is not UTF-8) keep their bytes. */
static PyObject *utf8_bytes(PyObject *obj)
{
    PyObject *str = PyUnicode_Check(obj) ? (Py_INCREF(obj), obj) : PyObject_Str(obj);
    if (!str)
        return NULL;
    PyObject *b = PyUnicode_AsEncodedString(str, "utf-8", "surrogateescape");
    Py_DECREF(str);
    return b;
}

/* text(kind, action, name, verdict) -> str: the refusal (TEXT_REFUSAL),
 * the warning (TEXT_WARNING) or the trace line (TEXT_TRACE; `action`, or
 * None for the verdict's own), worded by libabigate as for every caller. */
static PyObject *gate_text(PyObject *self, PyObject *args)
{
    (void)self;
    int kind;
    PyObject *action, *name, *v;
    if (!PyArg_ParseTuple(args, "iOOO:text", &kind, &action, &name, &v))
        return NULL;
    if (!PyTuple_Check(v) || PyTuple_GET_SIZE(v) < 7)
        return PyErr_Format(PyExc_TypeError, "text(): a Verdict is required");
    if (action == Py_None) { /* the verdict's own: warn, or its kind */
        int warned = PyObject_IsTrue(PyTuple_GET_ITEM(v, 3));
        if (warned < 0)
            return NULL;
        action = warned ? NULL : PyTuple_GET_ITEM(v, 0);
    }
    PyObject *b[5] = {NULL, NULL, NULL, NULL, NULL}, *out = NULL;
    PyObject *src[5] = {action ? action : Py_None, name, PyTuple_GET_ITEM(v, 6),
                        PyTuple_GET_ITEM(v, 2), PyTuple_GET_ITEM(v, 1)};
    for (int i = 0; i < 5; i++)
        if (!(b[i] = (i == 0 && !action) ? PyBytes_FromString("warn") : utf8_bytes(src[i])))
            goto done;
    const char *reason = PyBytes_AS_STRING(b[4]);
    int plain = strcmp(reason, "ABIGATE_R_NONE") == 0;
    size_t need = abigate_format_text(kind, PyBytes_AS_STRING(b[0]), PyBytes_AS_STRING(b[1]),
                                       PyBytes_AS_STRING(b[2]), PyBytes_AS_STRING(b[3]), reason,
                                       plain, NULL, 0);
    char *buf = PyMem_Malloc(need + 1);
    if (!buf) {
        PyErr_NoMemory();
        goto done;
    }
    abigate_format_text(kind, PyBytes_AS_STRING(b[0]), PyBytes_AS_STRING(b[1]),
                         PyBytes_AS_STRING(b[2]), PyBytes_AS_STRING(b[3]), reason, plain, buf,
                         need + 1);
    out = PyUnicode_DecodeUTF8(buf, (Py_ssize_t)need, "surrogateescape");
    PyMem_Free(buf);
done:
    for (int i = 0; i < 5; i++)
        Py_XDECREF(b[i]);
    return out;
}

/* resolve_mode(xoption_given, xoption, env, ignore_env) -> (mode, flags,
 * source, warning): libabigate's abigate_mode_resolve, default off. */
static PyObject *gate_resolve_mode(PyObject *self, PyObject *args)
{
    (void)self;
    int given, ignore;
    const char *x, *env;
    if (!PyArg_ParseTuple(args, "pzzp:resolve_mode", &given, &x, &env, &ignore))
        return NULL;
    abigate_mode_choice c;
    abigate_error err;
    if (abigate_mode_resolve(given, x, env, ignore ? ABIGATE_RESOLVE_IGNORE_ENV : 0, NULL, &c,
                             &err)) {
        PyErr_SetString(PyExc_ValueError, err.message);
        return NULL;
    }
    return Py_BuildValue("(iIss)", c.policy.mode, c.policy.flags, c.source, c.warning);
}

/* stats() -> (judged, symbols_read, nanoseconds): the gate's own totals. */
static PyObject *gate_stats(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    abigate_gate_stats s;
    abigate_gate_stats_get(process_gate, &s);
    return Py_BuildValue("(KKK)", (unsigned long long)s.judged,
                         (unsigned long long)s.symbols_read, (unsigned long long)s.nanoseconds);
}

/* parse_mode(text) -> (mode, flags); ValueError with libabigate's message. */
static PyObject *gate_parse_mode(PyObject *self, PyObject *args)
{
    (void)self;
    const char *text;
    if (!PyArg_ParseTuple(args, "s:parse_mode", &text))
        return NULL;
    abigate_policy pol;
    abigate_error err;
    if (abigate_policy_parse(text, &pol, &err)) {
        PyErr_SetString(PyExc_ValueError, err.message);
        return NULL;
    }
    return Py_BuildValue("(iI)", pol.mode, pol.flags);
}

/* gil_not_used(module) -> True when the module's definition declares
 * Py_mod_gil = Py_MOD_GIL_NOT_USED, False when it does not, None when it
 * has no definition with slots (single-phase) or the interpreter has no
 * Py_mod_gil (before 3.13).  Read from the definition, not from the GIL
 * state, which other threads' imports change transiently. */
static PyObject *gate_gil_not_used(PyObject *self, PyObject *module)
{
    (void)self;
#if PY_VERSION_HEX >= 0x030d0000
    PyModuleDef *def = PyModule_Check(module) ? PyModule_GetDef(module) : NULL;
    if (!def) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    if (!def->m_slots)
        Py_RETURN_NONE;
    for (PyModuleDef_Slot *s = def->m_slots; s->slot; s++)
        if (s->slot == Py_mod_gil)
            return PyBool_FromLong(s->value == Py_MOD_GIL_NOT_USED);
    Py_RETURN_FALSE;
#else
    (void)module;
    Py_RETURN_NONE;
#endif
}

/* ---------------------------------------------------------------- wheels and directories */

/* What inspect_all and check_all walk: libabigate's walk over inputs
 * (abigate_walk): a file, each extension member of a wheel, each *.so and
 * wheel of a directory. */
struct walk {
    gate_state *st;
    abigate_policy policy;
    PyObject *list;
    int failed;               /* a Python error is set */
};

/* "path", or "wheel.whl/member" as zipimport spells it. */
static PyObject *input_name(const abigate_walk_item *it)
{
    PyObject *path = PyUnicode_DecodeFSDefault(it->path);
    if (!path || !it->member)
        return path;
    PyObject *name = PyUnicode_FromFormat("%U/%s", path, it->member);
    Py_DECREF(path);
    return name;
}

static int walk_append(struct walk *w, PyObject *item)
{
    if (!item || PyList_Append(w->list, item) < 0) {
        Py_XDECREF(item);
        w->failed = 1;
        return 1;
    }
    Py_DECREF(item);
    return 0;
}

static PyObject *utf8_text(const char *s)
{
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "backslashreplace");
}

static int inspect_one(const abigate_walk_item *it, void *ctx)
{
    struct walk *w = ctx;
    abigate_file_info info;
    abigate_error err;
    int rc = it->rc;
    if (!rc) {
        Py_BEGIN_ALLOW_THREADS
        rc = it->member ? abigate_zip_read_member(it->zip, it->index, ABIGATE_READ_LEGACY, &info,
                                                  NULL, &err)
                        : abigate_read_path(it->path, ABIGATE_READ_LEGACY, &info, NULL, &err);
        Py_END_ALLOW_THREADS
    } else {
        err = *it->err;
    }
    PyObject *d = rc ? PyDict_New() : info_dict(&info);
    if (!d || set_item(d, "path", input_name(it)) ||
        (it->member && set_item(d, "member", PyUnicode_FromString(it->member))) ||
        (rc && (set_item(d, "error", PyUnicode_FromString(abigate_code_name(rc))) ||
                set_item(d, "message", utf8_text(err.message))))) {
        Py_XDECREF(d);
        w->failed = 1;
        return 1;
    }
    return walk_append(w, d);
}

/* The verdict of an input; for a wheel member, then one per tag set of the
 * wheel that does not fit it (docs/POLICY.md, "Wheel tags against
 * contents"), as `abigate check` gives them. */
static int check_one(const abigate_walk_item *it, void *ctx)
{
    struct walk *w = ctx;
    abigate_verdict v;
    abigate_file_info facts;
    abigate_error err;
    int kind;
    Py_BEGIN_ALLOW_THREADS
    kind = abigate_walk_judge(process_gate, it, &w->policy, &v, &facts, &err);
    Py_END_ALLOW_THREADS
    if (kind < 0) {
        gate_error(&err);
        w->failed = 1;
        return 1;
    }
    abigate_verdict tags[ABIGATE_WALK_TAG_SETS];
    unsigned judged = abigate_walk_judge_tags(it, &facts, &w->policy, tags);
    PyObject *name = input_name(it);
    if (!name) {
        w->failed = 1;
        return 1;
    }
    for (int k = -1; k < ABIGATE_WALK_TAG_SETS; k++) {
        const abigate_verdict *x = k < 0 ? &v : &tags[k];
        if (k >= 0 && (!(judged & 1u << k) || (x->kind == ABIGATE_ACCEPT && !x->warning)))
            continue; /* a tag set that fits */
        if (walk_append(w, verdict_object(w->st, name, x))) {
            Py_DECREF(name);
            return 1;
        }
    }
    Py_DECREF(name);
    return 0;
}

static PyObject *walk_inputs(PyObject *self, PyObject *args, const char *fmt, abigate_walk_fn fn)
{
    struct walk w = {PyModule_GetState(self), {ABIGATE_MODE_STRICT, 0}, NULL, 0};
    PyObject *path = NULL;
    if (!PyArg_ParseTuple(args, fmt, path_arg, &path, &w.policy.mode, &w.policy.flags))
        return NULL;
    if (w.policy.mode < ABIGATE_MODE_OFF || w.policy.mode > ABIGATE_MODE_REQUIRE) {
        Py_DECREF(path);
        return PyErr_Format(PyExc_ValueError, "abigate: invalid mode");
    }
    if ((w.list = PyList_New(0)))
        abigate_walk(PyBytes_AS_STRING(path), 0, fn, &w);
    Py_DECREF(path);
    if (w.failed)
        Py_CLEAR(w.list);
    return w.list;
}

/* inspect_all(path) -> [dict]: inspect() of each file a wheel or a
 * directory stands for ("path", "member"; "error" and "message" when it
 * could not be read). */
static PyObject *gate_inspect_all(PyObject *self, PyObject *args)
{
    return walk_inputs(self, args, "O&:inspect_all", inspect_one);
}

/* check_all(path, mode, flags) -> [Verdict]: the verdict of each file a
 * wheel or a directory stands for, and of each wheel tag set a member does
 * not fit. */
static PyObject *gate_check_all(PyObject *self, PyObject *args)
{
    return walk_inputs(self, args, "O&iI:check_all", check_one);
}

/* ---------------------------------------------------------------- the module */

static PyMethodDef gate_methods[] = {
    {"profile", gate_profile_dict, METH_NOARGS,
     "profile() -> dict: what abigate knows about this interpreter."},
    {"inspect", gate_inspect, METH_VARARGS,
     "inspect(path) -> dict: the file's abigate record and evidence (no code is run)."},
    {"decide", (PyCFunction)(void (*)(void))gate_decide, METH_FASTCALL,
     "decide(path, mode, flags) -> Verdict: judge the file at path (no code is run)."},
    {"gil_not_used", gate_gil_not_used, METH_O,
     "gil_not_used(module) -> True/False: its Py_mod_gil declaration; None: unknown."},
    {"parse_mode", gate_parse_mode, METH_VARARGS,
     "parse_mode(text) -> (mode, flags), e.g. 'strict,trace'."},
    {"resolve_mode", gate_resolve_mode, METH_VARARGS,
     "resolve_mode(xoption_given, xoption, env, ignore_env) -> (mode, flags, source, warning)."},
    {"text", gate_text, METH_VARARGS,
     "text(kind, action, name, verdict) -> str: the refusal, warning or trace line."},
    {"stats", gate_stats, METH_NOARGS,
     "stats() -> (judged, symbols_read, nanoseconds): what the gate has done."},
    {"inspect_all", gate_inspect_all, METH_VARARGS,
     "inspect_all(path) -> [dict]: inspect() of each file a wheel or directory stands for."},
    {"check_all", gate_check_all, METH_VARARGS,
     "check_all(path, mode, flags) -> [Verdict]: each file's verdict, and tag misfits."},
    {"backport_create", gate_backport_create, METH_VARARGS,
     "backport_create(spec, path, dlopenflags) -> module: the abi3t backport."},
    {NULL, NULL, 0, NULL}
};

#ifdef Py_GIL_DISABLED
#define GATE_FREE_THREADED 1
#else
#define GATE_FREE_THREADED 0
#endif

static int gate_traverse(PyObject *m, visitproc visit, void *arg)
{
    gate_state *st = PyModule_GetState(m);
    if (st)
        Py_VISIT(st->verdict_type);
    return 0;
}

static int gate_clear(PyObject *m)
{
    gate_state *st = PyModule_GetState(m);
    if (!st) /* before 3.9, called before the state exists if creation failed */
        return 0;
    Py_CLEAR(st->verdict_type);
    for (int i = 0; i < N_OF(st->kinds); i++)
        Py_CLEAR(st->kinds[i]);
    for (int i = 0; i < N_OF(st->reasons); i++)
        Py_CLEAR(st->reasons[i]);
    for (int i = 0; i < N_OF(st->evidence); i++)
        Py_CLEAR(st->evidence[i]);
    for (int i = 0; i < N_OF(st->adapts); i++)
        Py_CLEAR(st->adapts[i]);
    return 0;
}

static void gate_free(void *m)
{
    gate_clear(m);
}

static int gate_exec(PyObject *m)
{
    if (!process_gate && gate_create() < 0)
        return -1;
    if (PyModule_AddIntConstant(m, "MODE_OFF", ABIGATE_MODE_OFF) ||
        PyModule_AddIntConstant(m, "MODE_WARN", ABIGATE_MODE_WARN) ||
        PyModule_AddIntConstant(m, "MODE_STRICT", ABIGATE_MODE_STRICT) ||
        PyModule_AddIntConstant(m, "MODE_REQUIRE", ABIGATE_MODE_REQUIRE) ||
        PyModule_AddIntConstant(m, "POLICY_TRACE", ABIGATE_POLICY_TRACE) ||
        PyModule_AddIntConstant(m, "POLICY_ADAPT_ABI3T", ABIGATE_POLICY_ADAPT_ABI3T) ||
        PyModule_AddIntConstant(m, "POLICY_QUIET", ABIGATE_POLICY_QUIET) ||
        PyModule_AddIntConstant(m, "FREE_THREADED", GATE_FREE_THREADED) ||
        PyModule_AddIntConstant(m, "TEXT_REFUSAL", ABIGATE_TEXT_REFUSAL) ||
        PyModule_AddIntConstant(m, "TEXT_WARNING", ABIGATE_TEXT_WARNING) ||
        PyModule_AddIntConstant(m, "TEXT_TRACE", ABIGATE_TEXT_TRACE) ||
        PyModule_AddStringConstant(m, "__version__", ABIGATE_VERSION_STRING))
        return -1;
    gate_state *st = PyModule_GetState(m);
    if (state_init(st) < 0)
        return -1;
    Py_INCREF(st->verdict_type);
    if (PyModule_AddObject(m, "Verdict", (PyObject *)st->verdict_type) < 0) {
        Py_DECREF(st->verdict_type);
        return -1;
    }
    return 0;
}

static PyModuleDef_Slot gate_slots[] = {
    {Py_mod_exec, (void *)gate_exec},
#if PY_VERSION_HEX >= 0x030c0000
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
#if PY_VERSION_HEX >= 0x030d0000
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static PyModuleDef gate_module = {
    PyModuleDef_HEAD_INIT, "_abigate",
    "abigate's import gate (C half): judge extension files before they are loaded.",
    sizeof(gate_state), gate_methods, gate_slots, gate_traverse, gate_clear, gate_free
};

/* The one exported name (gate-build compiles with -fvisibility=hidden). */
__attribute__((visibility("default"))) PyMODINIT_FUNC PyInit__abigate(void);
__attribute__((visibility("default"))) PyMODINIT_FUNC PyInit__abigate(void)
{
    return PyModuleDef_Init(&gate_module);
}
