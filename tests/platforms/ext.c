/* ext.c -- a small CPython extension for the Windows and macOS tests
 * (tests/platforms/pe.py and macho.py, bench/bench_wheelhouse.py):
 * single-phase init, a call that returns a new reference and one that
 * drops one (Py_DECREF: the object layout's entry points).  With
 * -DWITH_RECORD it carries abigate's record (<abigate/slot.h>); with
 * -DMULTI_PHASE (3.15 headers) CPython's own, in its module slots; with
 * -DMODEXPORT (3.15 headers, PEP 793) the same in a PySlot array that
 * PyModExport_ext returns, as an abi3t module must. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#ifdef WITH_RECORD
#include <abigate/slot.h>
ABIGATE_RECORD(ABIGATE_HOOK_PYINIT);
#endif

static PyObject *answer(PyObject *self, PyObject *args)
{
    (void)self;
    (void)args;
    PyObject *n = PyLong_FromLong(42);
    PyObject *t = Py_BuildValue("(O)", n);
    Py_DECREF(n);
    return t;
}

static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};

#if defined(MODEXPORT)
/* 3.15 headers, PEP 793: a PyModExport_ function returning its slots (the
 * only way an abi3t module is defined), CPython's own PyABIInfo among them */
PyABIInfo_VAR(abi_info);

static int exec_module(PyObject *m)
{
    return PyModule_AddIntConstant(m, "one", 1);
}

static PySlot slots[] = {
    PySlot_DATA(Py_mod_abi, &abi_info),
    PySlot_DATA(Py_mod_name, "ext"),
    PySlot_DATA(Py_mod_methods, methods),
    PySlot_FUNC(Py_mod_exec, exec_module),
    PySlot_END,
};

PyMODEXPORT_FUNC PyModExport_ext(void)
{
    return slots;
}
#elif defined(MULTI_PHASE)
/* 3.15 headers: multi-phase init whose slots carry CPython's own PyABIInfo
 * (Py_mod_abi), as CPython's and PyO3's modules built for 3.15 do */
PyABIInfo_VAR(abi_info);

static int exec_module(PyObject *m)
{
    return PyModule_AddIntConstant(m, "one", 1);
}

static PyModuleDef_Slot slots[] = {{Py_mod_abi, &abi_info}, {Py_mod_exec, exec_module}, {0, NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "ext", NULL, 0, methods, slots};

PyMODINIT_FUNC PyInit_ext(void)
{
    return PyModuleDef_Init(&def);
}
#else
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "ext", NULL, -1, methods};

PyMODINIT_FUNC PyInit_ext(void)
{
    return PyModule_Create(&def);
}
#endif
