/* universal_edge.c -- <abigate/universal.h> at its edges (tests/slots/universal.py):
 *   -DEDGE_UNKNOWN_SLOT   a slot no version before 3.15 knows, not optional: ImportError
 *   -DEDGE_OPTIONAL_SLOT  the same slot flagged PySlot_OPTIONAL: loads
 *   -DEDGE_GIL_ONLY       Py_mod_abi says GIL only: ImportError on a free-threaded 3.13/3.14
 *   -DEDGE_FAIL_ONCE      the export hook fails once with an exception: the retry loads
 * Built as abi3t against the 3.15 headers; module name "edge". */
#include <Python.h>
#include <abigate/universal.h>

static PyObject *edge_ping(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return PyUnicode_FromString("pong");
}

static PyMethodDef edge_methods[] = {
    {"ping", edge_ping, METH_NOARGS, "pong"},
    {NULL, NULL, 0, NULL}
};

#ifdef EDGE_GIL_ONLY
static PyABIInfo edge_abi = {1, 0, PyABIInfo_STABLE | PyABIInfo_GIL, 0, 0x030f0000};
#endif

static PySlot edge_slots[] = {
    PySlot_PTR(Py_mod_name, "edge"),
    PySlot_PTR_STATIC(Py_mod_methods, edge_methods),
    PySlot_DATA(Py_mod_gil, Py_MOD_GIL_NOT_USED),
#ifdef EDGE_UNKNOWN_SLOT
    {.sl_id = 250, .sl_ptr = NULL},
#endif
#ifdef EDGE_OPTIONAL_SLOT
    {.sl_id = 250, .sl_flags = PySlot_OPTIONAL, .sl_ptr = NULL},
#endif
#ifdef EDGE_GIL_ONLY
    PySlot_PTR(Py_mod_abi, &edge_abi),
#endif
    PySlot_END
};

PyMODEXPORT_FUNC PyModExport_edge(void);
PyMODEXPORT_FUNC PyModExport_edge(void)
{
#ifdef EDGE_FAIL_ONCE
    static int calls;
    if (calls++ == 0) {
        PyErr_SetString(PyExc_RuntimeError, "edge: the first call fails");
        return NULL;
    }
#endif
    return edge_slots;
}

ABIGATE_UNIVERSAL(edge)
