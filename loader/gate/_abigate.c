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

#include "abigate.h"
#include "gate.h"

/* ---------------------------------------------------------------- the profile */

static abigate_profile process_profile;
static abigate_symbols *process_exports;
static abigate_error profile_error;
static int profile_rc = 1; /* 1: not taken yet */
static PyThread_type_lock profile_lock;

/* The interpreter's own EXTENSION_SUFFIXES (Debian adds multiarch and debug
 * fallbacks that libabigate's computed list does not know). */
static int set_suffixes(abigate_profile *p)
{
    PyObject *imp = PyImport_ImportModule("_imp");
    if (!imp)
        return -1;
    PyObject *list = PyObject_CallMethod(imp, "extension_suffixes", NULL);
    Py_DECREF(imp);
    if (!list)
        return -1;
    Py_ssize_t n = PyList_Check(list) ? PyList_GET_SIZE(list) : 0;
    unsigned k = 0;
    for (Py_ssize_t i = 0; i < n && k < ABIGATE_PROFILE_MAX_SUFFIXES; i++) {
        const char *s = PyUnicode_AsUTF8(PyList_GET_ITEM(list, i));
        if (!s) {
            Py_DECREF(list);
            return -1;
        }
        if (strlen(s) < ABIGATE_PROFILE_TEXT_MAX)
            memcpy(p->suffixes[k++], s, strlen(s) + 1);
    }
    if (k)
        p->n_suffixes = k;
    Py_DECREF(list);
    return 0;
}

/* The process profile, taken on first use; NULL with ImportError set when
 * this process cannot be profiled. */
const abigate_profile *gate_profile(void)
{
    if (profile_rc == 0)
        return &process_profile;
    Py_BEGIN_ALLOW_THREADS
    PyThread_acquire_lock(profile_lock, WAIT_LOCK);
    Py_END_ALLOW_THREADS
    if (profile_rc == 1) {
        abigate_symbols *ex = malloc(sizeof *ex);
        if (!ex) {
            PyThread_release_lock(profile_lock);
            PyErr_NoMemory();
            return NULL;
        }
        abigate_profile p;
        int rc = abigate_profile_from_process(&p, ex, &profile_error);
        if (rc == 0) {
            /* The flags this module was compiled with are the interpreter's own. */
            unsigned flags = 0;
#ifdef Py_GIL_DISABLED
            flags |= ABIGATE_PROFILE_FREETHREADED;
#endif
#ifdef Py_DEBUG
            flags |= ABIGATE_PROFILE_DEBUG;
#endif
#ifdef Py_TRACE_REFS
            flags |= ABIGATE_PROFILE_TRACE_REFS;
#endif
            p.flags = flags;
            if (set_suffixes(&p) < 0) {
                free(ex);
                PyThread_release_lock(profile_lock);
                return NULL;
            }
            process_profile = p;
            process_exports = ex;
        } else {
            free(ex);
        }
        profile_rc = rc;
    }
    PyThread_release_lock(profile_lock);
    if (profile_rc != 0) {
        PyErr_Format(PyExc_ImportError, "abigate: cannot profile this interpreter: %s",
                     profile_error.message);
        return NULL;
    }
    return &process_profile;
}

/* ---------------------------------------------------------------- per-thread scratch */

/* The imported-symbol buffer is large (ABIGATE_SYMBOLS_POOL); each thread
 * keeps one, freed when the thread ends. */
static pthread_key_t scratch_key;

static abigate_symbols *scratch_symbols(void)
{
    abigate_symbols *s = pthread_getspecific(scratch_key);
    if (!s) {
        s = malloc(sizeof *s);
        if (s && pthread_setspecific(scratch_key, s) != 0) {
            free(s);
            s = NULL;
        }
    }
    return s;
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
        set_item(d, "exports", PyLong_FromUnsignedLong(p->exports ? p->exports->count : 0)))
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
    PyObject *record = info.record_state == ABIGATE_RECORD_PRESENT ? record_dict(&info.record)
                                                                  : (Py_INCREF(Py_None), Py_None);
    if (set_item(d, "elf_class", PyLong_FromUnsignedLong(info.elf_class)) ||
        set_item(d, "machine", PyUnicode_FromString(machine ? machine : "unknown")) ||
        set_item(d, "record", record) ||
        set_item(d, "record_state", PyUnicode_FromString(
                     info.record_state == ABIGATE_RECORD_PRESENT ? "present"
                     : info.record_state == ABIGATE_RECORD_UNSUPPORTED ? "unsupported" : "absent")) ||
        set_item(d, "tag", PyUnicode_FromString(info.tag.tag)) ||
        set_item(d, "pyinit", PyUnicode_FromString(info.pyinit)) ||
        set_item(d, "modexport", PyUnicode_FromString(info.modexport)) ||
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
               "readable ELF object"},
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

/* A Verdict for `path` (the object the caller passed); steals nothing. */
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
 * read with bounded preads.  Unreadable files raise OSError; a file that is
 * not ELF is not an extension this interpreter could load either, so that
 * is a refusal the caller reports like any other (reason "ABIGATE_E_..."). */
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
    if (mode < INT_MIN || mode > INT_MAX || flags > UINT_MAX)
        return PyErr_Format(PyExc_ValueError, "abigate: invalid mode");
    PyObject *bytes;
    const char *cpath = path_chars(args[0], &bytes);
    if (!cpath)
        return NULL;
    const abigate_profile *p = gate_profile();
    abigate_symbols *syms = scratch_symbols();
    if (!p || !syms) {
        Py_XDECREF(bytes);
        return syms ? NULL : PyErr_NoMemory();
    }
    abigate_policy policy = {(int)mode, (unsigned)flags};
    abigate_file_info info;
    abigate_verdict v;
    abigate_error err;
    int rc, kind = -1;
    Py_BEGIN_ALLOW_THREADS
    rc = abigate_read_path(cpath, ABIGATE_READ_LEGACY, &info, syms, &err);
    if (rc == 0)
        kind = abigate_decide(&info, syms, p, &policy, &v);
    Py_END_ALLOW_THREADS
    if (rc) {
        PyObject *res = NULL;
        if (rc == ABIGATE_E_OPEN || rc == ABIGATE_E_IS_DIRECTORY || rc == ABIGATE_E_NOT_REGULAR)
            os_error(&err, cpath);
        else /* not an ELF file, or a damaged one: nothing to load */
            res = new_verdict(st, args[0], mode == ABIGATE_MODE_OFF ? ABIGATE_ACCEPT : ABIGATE_REFUSE,
                              PyUnicode_FromString(abigate_code_name(rc)), err.message, 0,
                              ABIGATE_EVIDENCE_NONE, ABIGATE_ADAPT_NONE);
        Py_XDECREF(bytes);
        return res;
    }
    Py_XDECREF(bytes);
    if (kind < 0) {
        PyErr_SetString(PyExc_ValueError, "abigate: invalid mode");
        return NULL;
    }
    return new_verdict(st, args[0], v.kind,
                       cached_name(st->reasons, N_OF(st->reasons), v.reason,
                                   abigate_reason_name(v.reason)),
                       v.message, v.warning, v.evidence,
                       v.adapt);
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
    if (!profile_lock) {
        profile_lock = PyThread_allocate_lock();
        if (!profile_lock || pthread_key_create(&scratch_key, free) != 0) {
            PyErr_NoMemory();
            return -1;
        }
    }
    if (PyModule_AddIntConstant(m, "MODE_OFF", ABIGATE_MODE_OFF) ||
        PyModule_AddIntConstant(m, "MODE_WARN", ABIGATE_MODE_WARN) ||
        PyModule_AddIntConstant(m, "MODE_STRICT", ABIGATE_MODE_STRICT) ||
        PyModule_AddIntConstant(m, "MODE_REQUIRE", ABIGATE_MODE_REQUIRE) ||
        PyModule_AddIntConstant(m, "POLICY_TRACE", ABIGATE_POLICY_TRACE) ||
        PyModule_AddIntConstant(m, "POLICY_ADAPT_ABI3T", ABIGATE_POLICY_ADAPT_ABI3T) ||
        PyModule_AddIntConstant(m, "POLICY_QUIET", ABIGATE_POLICY_QUIET) ||
        PyModule_AddIntConstant(m, "FREE_THREADED", GATE_FREE_THREADED) ||
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

PyMODINIT_FUNC PyInit__abigate(void); /* for -Wmissing-prototypes */
PyMODINIT_FUNC PyInit__abigate(void)
{
    return PyModuleDef_Init(&gate_module);
}
