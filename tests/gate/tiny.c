/* tiny.c -- the smallest multi-phase extension with an abigate record, for
 * the gate's thread test and bench/bench_gate.py.  Compiled once per
 * interpreter; each copy is linked under its own name N with
 *   -Wl,--defsym=PyInit_N=PyInit_tiny
 * (the module's name comes from its spec).  ident() returns TINY_ID. */
#include <Python.h>
#include <abigate/slot.h>

ABIGATE_RECORD(ABIGATE_HOOK_PYINIT);

#ifndef TINY_ID
#define TINY_ID 0
#endif

static PyObject *tiny_ident(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return PyLong_FromLong(TINY_ID);
}

static PyMethodDef tiny_methods[] = {
    {"ident", tiny_ident, METH_NOARGS, "The TINY_ID this file was built with."},
    {NULL, NULL, 0, NULL}
};

static PyModuleDef_Slot tiny_slots[] = {
    ABIGATE_ABIINFO_SLOT
#if PY_VERSION_HEX >= 0x030d0000 && !defined(TINY_NO_GIL_SLOT)
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static PyModuleDef tiny_def = {
    PyModuleDef_HEAD_INIT, "tiny", NULL, 0, tiny_methods, tiny_slots, NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit_tiny(void);
PyMODINIT_FUNC PyInit_tiny(void)
{
    return PyModuleDef_Init(&tiny_def);
}
