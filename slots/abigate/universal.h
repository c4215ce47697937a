/* abigate/universal.h -- one binary for 3.13, 3.13t, 3.14, 3.14t and 3.15+:
 * the abi3.abi3t compatibility layer, header-only (docs/UNIVERSAL.md).
 *
 * (3.12 too, with the GIL.)  For a PEP 793 slots-only module built against
 * the 3.15 headers with
 * -DPy_TARGET_ABI3T=0x030f0000.  After <Python.h>, and after declaring
 * PyModExport_<name>, write once at file scope:
 *
 *     #include <abigate/universal.h>
 *     ABIGATE_UNIVERSAL(name)
 *
 * 3.15 and later load the module through PyModExport_<name> and never call
 * what this adds.  3.12, 3.13 and 3.14 (GIL or free-threaded) call PyInit_<name>,
 * which this defines: it asks the running interpreter its version
 * (Py_Version) and whether it is free-threaded ("t" in sys.abiflags), both
 * of which exist in every supported version and touch no object layout;
 * then it calls PyModExport_<name>, translates the 3.15 slots with
 * <abigate/slots315.h> (the table the import gate's own backport uses) and
 * builds the PyModuleDef in that interpreter's own layout, its object header
 * initialised as that version's PyModuleDef_HEAD_INIT is.  What it cannot
 * express is a clear ImportError, never a crash.  It also bakes the abigate
 * record, with the "universal from 3.13" flag (docs/FORMAT.md, record 1.1),
 * so the gate and `abigate check` accept the file there when every function
 * it imports is exported.
 *
 * Facts (x86-64 and other 64-bit Linux targets; 32-bit is refused at
 * compile time), from the installed headers of CPython 3.12.1, 3.13.15 and
 * 3.13.15t (Include/object.h, Include/moduleobject.h) and 3.14.10
 * (Include/object.h, Include/refcount.h, Include/moduleobject.h):
 *   - PyModuleDef = PyModuleDef_Base {PyObject ob_base; m_init; m_index;
 *     m_copy} then m_name, m_doc, m_size, m_methods, m_slots, m_traverse,
 *     m_clear, m_free: every field after the object header pointer-sized;
 *   - the GIL object header is 16 bytes {ob_refcnt (8), ob_type}; the
 *     free-threaded one is 32 bytes {ob_tid (8), ob_flags/_padding (2),
 *     ob_mutex (1), ob_gc_bits (1), ob_ref_local (4), ob_ref_shared (8),
 *     ob_type};
 *   - PyModuleDef_HEAD_INIT = PyObject_HEAD_INIT(NULL) then NULL, 0, NULL:
 *       3.12:  ob_refcnt = 1 (an extension's PyObject_HEAD_INIT, not
 *              Py_BUILD_CORE; no free-threaded 3.12 exists);
 *       3.13:  ob_refcnt = _Py_IMMORTAL_REFCNT = UINT_MAX;
 *       3.14:  ob_refcnt = _Py_STATIC_IMMORTAL_INITIAL_REFCNT
 *              = (3 << 30) | ((_Py_STATICALLY_ALLOCATED_FLAG 4 | _Py_IMMORTAL_FLAGS 1) << 48);
 *       3.13t: ob_ref_local = _Py_IMMORTAL_REFCNT_LOCAL = UINT32_MAX, all else 0;
 *       3.14t: the same, and ob_flags = _Py_STATICALLY_ALLOCATED_FLAG (4);
 *   - PyModuleDef_Init(def) (every version) sets ob_type and m_index and
 *     returns the definition as an object, as PyInit_* must.
 */
#ifndef ABIGATE_UNIVERSAL_H
#define ABIGATE_UNIVERSAL_H

#ifndef Py_PYTHON_H
#error "include <Python.h> before <abigate/universal.h>"
#endif
#if !defined(Py_TARGET_ABI3T) || PY_VERSION_HEX < 0x030f0000
#error "<abigate/universal.h> is for modules built with -DPy_TARGET_ABI3T=0x030f0000 against the 3.15 headers"
#endif
#if SIZEOF_VOID_P != 8
#error "<abigate/universal.h> knows the 64-bit object layouts only"
#endif

#include "slot.h"
#include "slots315.h"

#ifndef ABIGATE_RECORD_UNIVERSAL_DONE
#define ABIGATE_RECORD_UNIVERSAL_DONE
ABIGATE_RECORD_UNIVERSAL(ABIGATE_HOOK_MODEXPORT | ABIGATE_HOOK_PYINIT);
#endif

/* PyModuleDef after its object header, in every version from 3.13. */
struct abigate_universal_fields {
    void *m_init;
    intptr_t m_index;
    void *m_copy;
    const char *m_name, *m_doc;
    intptr_t m_size;
    void *m_methods, *m_slots;
    void (*m_traverse)(void), (*m_clear)(void), (*m_free)(void);
};

struct abigate_universal_state {
    int state; /* 0 not built, 1 being built, 2 built (atomic) */
    union {
        struct { uint64_t ob_refcnt; void *ob_type; struct abigate_universal_fields f; } gil;
        struct {
            uintptr_t ob_tid;
            uint16_t ob_flags;
            uint8_t ob_mutex, ob_gc_bits;
            uint32_t ob_ref_local;
            intptr_t ob_ref_shared;
            void *ob_type;
            struct abigate_universal_fields f;
        } ft;
    } def;
    abigate_moddef_fields t;
};

/* Free-threaded: "t" among the interpreter's ABI flags. */
static int abigate_universal_free_threaded(void)
{
    PyObject *flags = PySys_GetObject("abiflags"); /* borrowed */
    Py_ssize_t n = 0;
    const char *s = flags ? PyUnicode_AsUTF8AndSize(flags, &n) : NULL;
    if (!s) {
        PyErr_Clear();
        return 0;
    }
    return memchr(s, 't', (size_t)n) != NULL;
}

/* The PyABIInfo of Py_mod_abi, checked here as the interpreter would: it
 * must not claim a version above the running one, nor a threading the
 * running interpreter lacks.  (PyABIInfo: uint8 major, minor; uint16 flags;
 * uint32 build_version, abi_version; flags 1 STABLE, 2 GIL, 4 FREETHREADED.) */
static int abigate_universal_check_abi(const void *abi, unsigned long hex, int ft, char *why,
                                       size_t len)
{
    struct { uint8_t major, minor; uint16_t flags; uint32_t build_version, abi_version; } ai;
    if (!abi)
        return 0;
    memcpy(&ai, abi, sizeof ai);
    if (ai.major == 0)
        return 0;
    if (ai.major != 1) {
        snprintf(why, len, "its Py_mod_abi slot has PyABIInfo version %u", ai.major);
        return -1;
    }
    unsigned threads = ai.flags & 6u;
    if (threads && !(threads & (ft ? 4u : 2u))) {
        snprintf(why, len, "its Py_mod_abi slot says it runs only %s",
                 ft ? "with the GIL" : "free-threaded");
        return -1;
    }
    if (!(ai.flags & 1u) && (ai.abi_version >> 16) != (hex >> 16)) {
        snprintf(why, len, "its Py_mod_abi slot is version-specific, for %u.%u",
                 ai.abi_version >> 24, ai.abi_version >> 16 & 0xff);
        return -1;
    }
    if ((ai.flags & 1u) && (ai.abi_version >> 16) > 0x030f) {
        snprintf(why, len, "its Py_mod_abi slot needs the stable ABI of %u.%u",
                 ai.abi_version >> 24, ai.abi_version >> 16 & 0xff);
        return -1;
    }
    return 0;
}

static PyObject *abigate_universal_init(PySlot *(*export_fn)(void),
                                        struct abigate_universal_state *st, const char *name)
{
    unsigned long hex = Py_Version;
    int expected = 0;
    if (hex < 0x030c0000UL || hex >= 0x030f0000UL) {
        PyErr_Format(PyExc_ImportError,
                     "%s: <abigate/universal.h> serves CPython 3.12 to 3.14 through PyInit_%s "
                     "(3.15 and later use PyModExport_%s); this is %lu.%lu",
                     name, name, name, hex >> 24, hex >> 16 & 0xff);
        return NULL;
    }
    /* Built once per process (a retry after a failure builds again); other
     * threads and interpreters wait for the first and share its definition,
     * as CPython shares the definitions of loaded extensions. */
    while (!__atomic_compare_exchange_n(&st->state, &expected, 1, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
        if (expected == 2)
            goto built;
        expected = 0;
        Py_BEGIN_ALLOW_THREADS
        Py_END_ALLOW_THREADS
    }
    {
        int ft = abigate_universal_free_threaded();
        PySlot *slots = export_fn();
        if (!slots) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_ImportError, "%s: PyModExport_%s returned NULL", name, name);
            __atomic_store_n(&st->state, 0, __ATOMIC_RELEASE);
            return NULL;
        }
        char why[200];
        if (abigate_translate315(slots, &st->t, hex) ||
            abigate_universal_check_abi(st->t.abi, hex, ft, st->t.error, sizeof st->t.error)) {
            snprintf(why, sizeof why, "%s", st->t.error);
            __atomic_store_n(&st->state, 0, __ATOMIC_RELEASE);
            PyErr_Format(PyExc_ImportError, "%s: cannot run on %lu.%lu%s: %s", name, hex >> 24,
                         hex >> 16 & 0xff, ft ? "t" : "", why);
            return NULL;
        }
        struct abigate_universal_fields *f;
        memset(&st->def, 0, sizeof st->def);
        if (ft) {
            st->def.ft.ob_ref_local = UINT32_MAX;                      /* immortal */
            st->def.ft.ob_flags = hex >= 0x030e0000UL ? 4 : 0;          /* statically allocated */
            f = &st->def.ft.f;
        } else {
            st->def.gil.ob_refcnt = hex >= 0x030e0000UL   ? (3ULL << 30) | ((uint64_t)(4 | 1) << 48)
                                    : hex >= 0x030d0000UL ? 0xFFFFFFFFULL
                                                          : 1;
            f = &st->def.gil.f;
        }
        f->m_name = st->t.name ? st->t.name : name;
        f->m_doc = st->t.doc;
        f->m_size = st->t.size;
        f->m_methods = st->t.methods;
        f->m_slots = st->t.slots;
        f->m_traverse = st->t.traverse;
        f->m_clear = st->t.clear;
        f->m_free = st->t.free;
        __atomic_store_n(&st->state, 2, __ATOMIC_RELEASE);
    }
built:
    return PyModuleDef_Init((PyModuleDef *)(void *)&st->def);
}

#define ABIGATE_UNIVERSAL(name)                                                    \
    static struct abigate_universal_state abigate_universal_##name;               \
    PyMODINIT_FUNC PyInit_##name(void);                                           \
    PyMODINIT_FUNC PyInit_##name(void)                                            \
    {                                                                             \
        return abigate_universal_init(PyModExport_##name, &abigate_universal_##name, #name); \
    }

#endif /* ABIGATE_UNIVERSAL_H */
