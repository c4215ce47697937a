/* backport.c -- the abi3t backport: load a PEP 793 slots-only module, built
 * against the 3.15 headers as abi3t (opaque PyObject), on 3.12-3.14.
 *
 * abigate_decide has already judged the file (ADAPT, ABIGATE_ADAPT_ABI3T_BACKPORT:
 * opaque PyObject, a PyModExport_<name> hook, and every symbol it imports
 * exported by this interpreter).  Here the module is made the way 3.15 makes
 * it, with this interpreter's own PyModuleDef:
 *   - dlopen the file and call PyModExport_<name>(), which returns a 3.15
 *     PySlot array (docs/GATE.md, "The abi3t backport");
 *   - translate it: Py_mod_name/doc/state_size/methods/state_traverse/
 *     state_clear/state_free become PyModuleDef fields; Py_mod_create/exec/
 *     multiple_interpreters/gil become the old PyModuleDef_Slot IDs (1-4);
 *     nested arrays (Py_mod_slots, Py_slot_subslots) are followed; Py_mod_abi
 *     is checked; Py_mod_token has no meaning before 3.15 and is dropped;
 *     an unknown slot is an ImportError unless flagged PySlot_OPTIONAL;
 *   - PyModule_FromDefAndSpec; the exec slots then run through _imp.exec_dynamic
 *     like any multi-phase module.
 * The PyModuleDef is kept for the life of the process (one per export
 * function), as CPython keeps the definitions of loaded extensions.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abigate.h"
#include "gate.h"

/* CPython 3.15's struct PySlot (Include/slots.h): 16 bytes. */
typedef struct pyslot_315 {
    uint16_t id;
    uint16_t flags;
    uint32_t reserved;
    union {
        void *ptr;
        void (*func)(void);
        Py_ssize_t size;
        int64_t i64;
    } v;
} pyslot_315;

#define PYSLOT_OPTIONAL 0x0001

/* 3.15 slot IDs (Include/slots_generated.h). */
enum {
    S315_END = 0,
    S315_MOD_CREATE = 84, S315_MOD_EXEC = 85, S315_MOD_MULTIPLE_INTERPRETERS = 86,
    S315_MOD_GIL = 87, S315_SUBSLOTS = 92, S315_MOD_SLOTS = 94,
    S315_MOD_NAME = 100, S315_MOD_DOC = 101, S315_MOD_STATE_SIZE = 102,
    S315_MOD_METHODS = 103, S315_MOD_STATE_TRAVERSE = 104, S315_MOD_STATE_CLEAR = 105,
    S315_MOD_STATE_FREE = 106, S315_MOD_ABI = 109, S315_MOD_TOKEN = 110
};

/* The old IDs, which 3.15 also accepts for the first four module slots. */
enum { OLD_CREATE = 1, OLD_EXEC = 2, OLD_MULTIPLE_INTERPRETERS = 3, OLD_GIL = 4 };

#define MAX_OLD_SLOTS 64
#define MAX_SLOTS_SEEN 4096 /* bounds a malformed (cyclic) array */
#define MAX_DEPTH 8

typedef struct backport_def {
    PyModuleDef def;
    PyModuleDef_Slot slots[MAX_OLD_SLOTS + 1];
    void (*export_fn)(void);
    struct backport_def *next;
} backport_def;

static backport_def *defs;
static pthread_mutex_t defs_lock = PTHREAD_MUTEX_INITIALIZER;

struct translation {
    backport_def *bd;
    unsigned n_old, seen;
    int have_abi;
    char error[256];
};

static int add_old(struct translation *t, int id, void *value)
{
    if (t->n_old >= MAX_OLD_SLOTS) {
        snprintf(t->error, sizeof t->error, "more than %d module slots", MAX_OLD_SLOTS);
        return -1;
    }
    t->bd->slots[t->n_old].slot = id;
    t->bd->slots[t->n_old].value = value;
    t->n_old++;
    return 0;
}

/* Py_mod_abi: the PyABIInfo the module hands over must be one the backport
 * can honour: what abigate_decide accepts here, or an abi3t floor up to
 * 3.15 (the only level the 3.15 headers give abi3t). */
static int check_abi(struct translation *t, const void *ptr, const abigate_profile *p)
{
    abigate_abiinfo ai;
    if (!ptr) {
        snprintf(t->error, sizeof t->error, "Py_mod_abi slot is NULL");
        return -1;
    }
    memcpy(&ai, ptr, sizeof ai);
    int reason = abigate_decide_abiinfo(&ai, p);
    int abi3t = (ai.flags & ABIGATE_ABIINFO_STABLE) &&
                (ai.flags & ABIGATE_ABIINFO_AGNOSTIC) == ABIGATE_ABIINFO_AGNOSTIC &&
                (ai.abi_version >> 16) <= 0x030f;
    if (reason && !(reason == ABIGATE_R_ABI3T_TOO_OLD && abi3t)) {
        snprintf(t->error, sizeof t->error, "its Py_mod_abi slot refuses this interpreter: %s",
                 abigate_reason_text(reason));
        return -1;
    }
    t->have_abi = 1;
    return 0;
}

static int translate(struct translation *t, const pyslot_315 *s, int depth,
                     const abigate_profile *p)
{
    PyModuleDef *def = &t->bd->def;
    if (depth > MAX_DEPTH) {
        snprintf(t->error, sizeof t->error, "slot arrays nested deeper than %d", MAX_DEPTH);
        return -1;
    }
    for (; s->id != S315_END; s++) {
        if (++t->seen > MAX_SLOTS_SEEN) {
            snprintf(t->error, sizeof t->error, "more than %d slots (unterminated array?)",
                     MAX_SLOTS_SEEN);
            return -1;
        }
        int rc = 0;
        switch (s->id) {
        case S315_SUBSLOTS:
        case S315_MOD_SLOTS:
            rc = s->v.ptr ? translate(t, s->v.ptr, depth + 1, p) : 0;
            break;
        case S315_MOD_NAME:
            def->m_name = s->v.ptr;
            break;
        case S315_MOD_DOC:
            def->m_doc = s->v.ptr;
            break;
        case S315_MOD_STATE_SIZE:
            def->m_size = s->v.size;
            break;
        case S315_MOD_METHODS:
            def->m_methods = s->v.ptr;
            break;
        case S315_MOD_STATE_TRAVERSE:
            def->m_traverse = (traverseproc)(void *)s->v.func;
            break;
        case S315_MOD_STATE_CLEAR:
            def->m_clear = (inquiry)(void *)s->v.func;
            break;
        case S315_MOD_STATE_FREE:
            def->m_free = (freefunc)(void *)s->v.func;
            break;
        case S315_MOD_ABI:
            rc = check_abi(t, s->v.ptr, p);
            break;
        case S315_MOD_TOKEN:
            break; /* no module tokens before 3.15; a user of them imports
                    * PyModule_GetToken & co, which decide refused */
        case S315_MOD_CREATE:
        case OLD_CREATE:
            rc = add_old(t, Py_mod_create, s->v.ptr);
            break;
        case S315_MOD_EXEC:
        case OLD_EXEC:
            rc = add_old(t, Py_mod_exec, s->v.ptr);
            break;
        case S315_MOD_MULTIPLE_INTERPRETERS:
        case OLD_MULTIPLE_INTERPRETERS:
#if PY_VERSION_HEX >= 0x030c0000
            rc = add_old(t, Py_mod_multiple_interpreters, s->v.ptr);
#endif
            break; /* before 3.12: one GIL for all interpreters, nothing to declare */
        case S315_MOD_GIL:
        case OLD_GIL:
#if PY_VERSION_HEX >= 0x030d0000
            rc = add_old(t, Py_mod_gil, s->v.ptr);
#endif
            break; /* before 3.13: there is always a GIL */
        default:
            if (s->flags & PYSLOT_OPTIONAL)
                break;
            snprintf(t->error, sizeof t->error,
                     "slot ID %u is not known to the abi3t backport and is not optional", s->id);
            return -1;
        }
        if (rc)
            return rc;
    }
    return 0;
}

static PyObject *import_error(PyObject *spec, PyObject *path, const char *fmt, const char *a,
                              const char *b)
{
    PyObject *name = PyObject_GetAttrString(spec, "name");
    if (!name)
        return NULL;
    PyObject *msg = PyUnicode_FromFormat(fmt, name, path, a, b);
    if (msg) {
        PyErr_SetImportError(msg, name, path);
        Py_DECREF(msg);
    }
    Py_DECREF(name);
    return NULL;
}

/* backport_create(spec, path, dlopenflags, mode, flags) -> module: the
 * file is loaded through the gate (abigate_gate_dlopen: judged on the
 * descriptor that is then loaded), so a file swapped in since the finder
 * judged it is judged again, and refused if it must be. */
PyObject *gate_backport_create(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *spec, *path;
    int dlflags, mode;
    unsigned int pflags;
    if (!PyArg_ParseTuple(args, "OUiiI:backport_create", &spec, &path, &dlflags, &mode, &pflags))
        return NULL;
    if (mode < ABIGATE_MODE_OFF || mode > ABIGATE_MODE_REQUIRE)
        return PyErr_Format(PyExc_ValueError, "abigate: invalid mode %d", mode);
    abigate_gate *gate = gate_get();
    abigate_error err;
    const abigate_profile *p = gate_profile();
    if (!p)
        return NULL;
    PyObject *name = PyObject_GetAttrString(spec, "name");
    if (!name)
        return NULL;
    const char *full = PyUnicode_AsUTF8(name);
    if (!full) {
        Py_DECREF(name);
        return NULL;
    }
    char full_name[256];
    snprintf(full_name, sizeof full_name, "%s", full);
    const char *dot = strrchr(full, '.');
    char tail[200], symbol[256];
    int ascii = 1;
    snprintf(tail, sizeof tail, "%s", dot ? dot + 1 : full);
    for (const char *c = tail; *c; c++)
        ascii &= (unsigned char)*c < 0x80;
    int too_long = strlen(dot ? dot + 1 : full) >= sizeof tail;
    Py_DECREF(name);
    if (!ascii || too_long) /* PEP 489's punycode names are not supported here */
        return import_error(spec, path, "cannot load %R from %R: the abi3t backport %s%s",
                            "supports only ASCII module names up to 199 bytes", "");
    snprintf(symbol, sizeof symbol, "PyModExport_%s", tail);
    PyObject *fs = PyUnicode_EncodeFSDefault(path);
    if (!fs)
        return NULL;
    abigate_policy policy = {mode, pflags};
    abigate_verdict v;
    void *handle;
    Py_BEGIN_ALLOW_THREADS
    handle = abigate_gate_dlopen(gate, PyBytes_AS_STRING(fs), dlflags, &policy, &v, &err);
    Py_END_ALLOW_THREADS
    Py_DECREF(fs);
    if (!handle) {
        if (err.code != ABIGATE_OK && err.code != ABIGATE_E_OPEN && err.code != ABIGATE_E_DLOPEN &&
            err.code != ABIGATE_E_IS_DIRECTORY)
            return gate_error(&err);
        /* refused, or the load failed: libabigate's refusal text */
        char text[ABIGATE_VERDICT_MESSAGE_MAX + 512];
        PyObject *fsb = PyUnicode_EncodeFSDefault(path);
        if (!fsb)
            return NULL;
        abigate_gate_format(ABIGATE_TEXT_REFUSAL, NULL, full_name, PyBytes_AS_STRING(fsb), &v,
                            &err, text, sizeof text);
        Py_DECREF(fsb);
        PyObject *msg = PyUnicode_DecodeFSDefault(text), *n = PyUnicode_FromString(full_name);
        if (msg && n)
            PyErr_SetImportError(msg, n, path);
        Py_XDECREF(msg);
        Py_XDECREF(n);
        return NULL;
    }
    void (*export_fn)(void);
    *(void **)&export_fn = dlsym(handle, symbol);
    if (!export_fn) {
        dlclose(handle);
        return import_error(spec, path, "cannot load %R from %R: no %s%s", symbol,
                            " (the abi3t backport loads PEP 793 slots-only modules)");
    }

    pthread_mutex_lock(&defs_lock);
    backport_def *bd = defs;
    while (bd && bd->export_fn != export_fn)
        bd = bd->next;
    pthread_mutex_unlock(&defs_lock);
    if (!bd) {
        /* From here on the module's code has run: its handle stays open on
         * every path (an exception it raised may point into it), as CPython
         * never unloads an extension whose code ran. */
        const pyslot_315 *slots = ((const pyslot_315 * (*)(void))(void *)export_fn)();
        if (!slots) {
            if (PyErr_Occurred())
                return NULL;
            return import_error(spec, path, "cannot load %R from %R: %s returned NULL%s", symbol,
                                " without an exception");
        }
        backport_def *nbd = PyMem_RawCalloc(1, sizeof *nbd);
        if (!nbd)
            return PyErr_NoMemory();
        PyModuleDef head = {PyModuleDef_HEAD_INIT, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL};
        nbd->def = head;
        nbd->export_fn = export_fn;
        struct translation t = {nbd, 0, 0, 0, ""};
        char *name_copy = NULL;
        if (translate(&t, slots, 0, p)) {
            PyMem_RawFree(nbd);
            return import_error(spec, path, "cannot load %R from %R: the abi3t backport "
                                "cannot translate its slots: %s%s", t.error, "");
        }
        if (!nbd->def.m_name) { /* 3.15 requires Py_mod_name; be lenient, as for PyInit */
            if (!(name_copy = PyMem_RawMalloc(strlen(tail) + 1))) {
                PyMem_RawFree(nbd);
                return PyErr_NoMemory();
            }
            nbd->def.m_name = strcpy(name_copy, tail);
        }
        nbd->def.m_slots = nbd->slots;
        pthread_mutex_lock(&defs_lock);
        for (bd = defs; bd && bd->export_fn != export_fn; bd = bd->next)
            ;
        if (!bd) {
            nbd->next = defs;
            defs = bd = nbd;
        }
        pthread_mutex_unlock(&defs_lock);
        if (bd != nbd) { /* another thread won the race: its definition is used */
            PyMem_RawFree(name_copy);
            PyMem_RawFree(nbd);
        }
    }
    /* The handle stays open for the life of the process, as CPython keeps
     * every extension module it loads. */
    return PyModule_FromDefAndSpec(&bd->def, spec);
}
