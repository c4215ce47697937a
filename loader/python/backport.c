/* backport.c -- the abi3t backport: load a PEP 793 slots-only module, built
 * against the 3.15 headers as abi3t (opaque PyObject), on 3.12-3.14.
 *
 * abigate_decide has already judged the file (ADAPT, ABIGATE_ADAPT_ABI3T_BACKPORT:
 * opaque PyObject, a PyModExport_<name> hook, and every symbol it imports
 * exported by this interpreter).  Here the module is made the way 3.15 makes
 * it, with this interpreter's own PyModuleDef:
 *   - dlopen the file and call PyModExport_<name>(), which returns a 3.15
 *     PySlot array (docs/GATE.md, "The abi3t backport");
 *   - translate it with <abigate/slots315.h>, the table <abigate/universal.h>
 *     uses too: Py_mod_name/doc/state_size/methods/state_traverse/
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

#include "abigate/abigate.h"
#include "abigate/slots315.h"
#include "hook.h"

typedef struct backport_def {
    PyModuleDef def;
    abigate_moddef_fields f; /* the translated slots: def.m_slots points at f.slots */
    void (*export_fn)(void);
    struct backport_def *next;
} backport_def;

static backport_def *defs;
static pthread_mutex_t defs_lock = PTHREAD_MUTEX_INITIALIZER;

/* Py_mod_abi: the PyABIInfo the module hands over must be one the backport
 * can honour: what abigate_decide accepts here, or an abi3t floor up to
 * 3.15 (the only level the 3.15 headers give abi3t). */
static int check_abi(abigate_moddef_fields *f, const abigate_profile *p)
{
    abigate_abiinfo ai;
    if (!f->abi)
        return 0;
    memcpy(&ai, f->abi, sizeof ai);
    int reason = abigate_decide_abiinfo(&ai, p);
    int abi3t = (ai.flags & ABIGATE_ABIINFO_STABLE) &&
                (ai.flags & ABIGATE_ABIINFO_AGNOSTIC) == ABIGATE_ABIINFO_AGNOSTIC &&
                (ai.abi_version >> 16) <= 0x030f;
    if (reason && !(reason == ABIGATE_R_ABI3T_TOO_OLD && abi3t)) {
        snprintf(f->error, sizeof f->error, "its Py_mod_abi slot refuses this interpreter: %s",
                 abigate_reason_text(reason));
        return -1;
    }
    return 0;
}

/* The module's PyModuleDef, from its 3.15 slots (<abigate/slots315.h>: the
 * same table <abigate/universal.h> uses). */
static int translate(backport_def *bd, const void *slots, const abigate_profile *p)
{
    if (abigate_translate315(slots, &bd->f, PY_VERSION_HEX) || check_abi(&bd->f, p))
        return -1;
    PyModuleDef *def = &bd->def;
    def->m_name = bd->f.name;
    def->m_doc = bd->f.doc;
    def->m_size = bd->f.size;
    def->m_methods = bd->f.methods;
    def->m_traverse = (traverseproc)(void *)bd->f.traverse;
    def->m_clear = (inquiry)(void *)bd->f.clear;
    def->m_free = (freefunc)(void *)bd->f.free;
    def->m_slots = (PyModuleDef_Slot *)(void *)bd->f.slots;
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
        if (err.code != ABIGATE_E_REFUSED && err.code != ABIGATE_E_OPEN &&
            err.code != ABIGATE_E_DLOPEN && err.code != ABIGATE_E_IS_DIRECTORY)
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
        const void *slots = ((const void *(*)(void))(void *)export_fn)();
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
        char *name_copy = NULL;
        if (translate(nbd, slots, p)) {
            char why[sizeof nbd->f.error];
            memcpy(why, nbd->f.error, sizeof why);
            PyMem_RawFree(nbd);
            return import_error(spec, path, "cannot load %R from %R: the abi3t backport "
                                "cannot translate its slots: %s%s", why, "");
        }
        if (!nbd->def.m_name) { /* 3.15 requires Py_mod_name; be lenient, as for PyInit */
            if (!(name_copy = PyMem_RawMalloc(strlen(tail) + 1))) {
                PyMem_RawFree(nbd);
                return PyErr_NoMemory();
            }
            nbd->def.m_name = strcpy(name_copy, tail);
        }
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
