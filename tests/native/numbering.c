/* numbering.c -- a real multi-phase module (PyModuleDef_Slot, Py_mod_exec)
 * that knows nothing of abigate: built by tests/native/native.py against
 * sid's 3.15 headers, where Py_mod_exec is 85 (PEP 820's numbering), and
 * with Py_LIMITED_API below 3.15, where those headers keep the old 2.  It
 * carries no Py_mod_abi slot (a PyInit_ module need not), so only its slot
 * numbering says which headers built it. */
#include <Python.h>

static int numbering_exec(PyObject *m)
{
    return PyModule_AddIntConstant(m, "answer", 42);
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, numbering_exec},
    {0, NULL}
};

static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "numbering", NULL, 0, NULL, slots,
                                 NULL, NULL, NULL};

PyMODINIT_FUNC PyInit_numbering(void);
PyMODINIT_FUNC PyInit_numbering(void)
{
    return PyModuleDef_Init(&def);
}
