/* demo.c -- the bundled example extension (scripts/demo) and the real
 * extension of the integration tests: a type holding a
 * reference (refcounting), a method, a module function, and the abigate
 * record.  It builds in every configuration the tests use:
 *   - classic multi-phase init (PyInit_demo + PyModuleDef slots, with the
 *     Py_mod_abi slot on 3.15 headers), version-specific or limited API;
 *   - abi3t (Py_TARGET_ABI3T, 3.15 headers): PyObject is opaque and
 *     PyModuleDef is hidden, so the module is PEP 793 slots-only
 *     (PyModExport_demo) and the instance data uses PEP 697;
 *   - limited API below 3.5 (Py_LIMITED_API=3 is 3.2): single-phase init
 *     (PyModule_Create) and no PyType_GetSlot, which those levels lack.
 */
#include <Python.h>
#include <abigate/slot.h>

#if defined(Py_LIMITED_API) && Py_LIMITED_API < 0x03050000
#define DEMO_SINGLE_PHASE 1 /* no PyModuleDef_Init (3.5), no PyType_GetSlot (3.4) */
#endif

#if defined(_Py_OPAQUE_PYOBJECT) && defined(DEMO_UNIVERSAL)
#include <abigate/universal.h> /* one binary from 3.12 on: the record 1.1, universal */
#elif defined(_Py_OPAQUE_PYOBJECT)
ABIGATE_RECORD(ABIGATE_HOOK_MODEXPORT);
#else
ABIGATE_RECORD(ABIGATE_HOOK_PYINIT);
#endif

struct box_data {
    PyObject *item;
};

#ifdef _Py_OPAQUE_PYOBJECT
static PyTypeObject *box_type; /* PEP 697: data is found through the defining type */
static struct box_data *box_of(PyObject *self)
{
    return (struct box_data *)PyObject_GetTypeData(self, box_type);
}
#define BOX_BASICSIZE (-(int)sizeof(struct box_data))
#else
typedef struct {
    PyObject_HEAD
    struct box_data data;
} BoxObject;
static struct box_data *box_of(PyObject *self)
{
    return &((BoxObject *)self)->data;
}
#define BOX_BASICSIZE ((int)sizeof(BoxObject))
#endif

static int box_init(PyObject *self, PyObject *args, PyObject *kwds)
{
    PyObject *item;
    (void)kwds;
    if (!PyArg_ParseTuple(args, "O", &item))
        return -1;
    Py_INCREF(item);
    Py_XDECREF(box_of(self)->item);
    box_of(self)->item = item;
    return 0;
}

static void box_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    Py_XDECREF(box_of(self)->item);
#ifdef DEMO_SINGLE_PHASE
    PyObject_Free(self); /* the default tp_free of a non-GC heap type */
#else
    freefunc f = (freefunc)PyType_GetSlot(tp, Py_tp_free);
    f(self);
#endif
    Py_DECREF(tp);
}

static PyObject *box_get(PyObject *self, PyObject *unused)
{
    (void)unused;
    PyObject *item = box_of(self)->item;
    if (!item)
        Py_RETURN_NONE;
    Py_INCREF(item);
    return item;
}

static PyMethodDef box_methods[] = {
    {"get", box_get, METH_NOARGS, "Return the boxed object."},
    {NULL, NULL, 0, NULL}
};

static PyType_Slot box_slots[] = {
    {Py_tp_init, (void *)box_init},
    {Py_tp_dealloc, (void *)box_dealloc},
    {Py_tp_methods, box_methods},
    {0, NULL}
};

static PyType_Spec box_spec = {
    "demo.Box", BOX_BASICSIZE, 0, Py_TPFLAGS_DEFAULT, box_slots
};

static PyObject *demo_add(PyObject *module, PyObject *args)
{
    long a, b;
    (void)module;
    if (!PyArg_ParseTuple(args, "ll", &a, &b))
        return NULL;
    return PyLong_FromLong(a + b);
}

#if ABIGATE_HAVE_PYABIINFO
/* The PyABIInfo this module hands CPython in its Py_mod_abi slot, as bytes:
 * the tests compare it with the record's PyABIInfo block. */
static PyObject *demo_abiinfo(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return PyBytes_FromStringAndSize((const char *)&abigate_abiinfo, sizeof abigate_abiinfo);
}
#endif

static PyMethodDef demo_methods[] = {
    {"add", demo_add, METH_VARARGS, "Add two integers."},
#if ABIGATE_HAVE_PYABIINFO
    {"abiinfo", demo_abiinfo, METH_NOARGS, "The PyABIInfo of the Py_mod_abi slot."},
#endif
    {NULL, NULL, 0, NULL}
};

static int demo_exec(PyObject *module)
{
    PyObject *type = PyType_FromSpec(&box_spec);
    if (!type)
        return -1;
#ifdef _Py_OPAQUE_PYOBJECT
    box_type = (PyTypeObject *)type;
    Py_INCREF(type);
#endif
    if (PyModule_AddObject(module, "Box", type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    return 0;
}

#ifdef _Py_OPAQUE_PYOBJECT
static PySlot demo_slots[] = {
    ABIGATE_ABIINFO_PYSLOT
    PySlot_PTR(Py_mod_name, "demo"),
    PySlot_PTR_STATIC(Py_mod_methods, demo_methods),
    PySlot_PTR(Py_mod_exec, demo_exec),
    PySlot_END
};

PyMODEXPORT_FUNC PyModExport_demo(void)
{
    return demo_slots;
}
#elif defined(DEMO_SINGLE_PHASE)
static struct PyModuleDef demo_def = {
    PyModuleDef_HEAD_INIT, "demo", "abigate integration-test module", -1, demo_methods,
    NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit_demo(void)
{
    PyObject *module = PyModule_Create(&demo_def);
    if (module && demo_exec(module) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
#else
static PyModuleDef_Slot demo_slots[] = {
    ABIGATE_ABIINFO_SLOT
    {Py_mod_exec, (void *)demo_exec},
    {0, NULL}
};

static struct PyModuleDef demo_def = {
    PyModuleDef_HEAD_INIT, "demo", "abigate integration-test module", 0, demo_methods,
    demo_slots, NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit_demo(void)
{
    return PyModuleDef_Init(&demo_def);
}
#endif

#if defined(_Py_OPAQUE_PYOBJECT) && defined(DEMO_UNIVERSAL)
ABIGATE_UNIVERSAL(demo)
#endif
