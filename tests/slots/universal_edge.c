/* universal_edge.c -- <abigate/universal.h> at its edges (tests/slots/universal.py):
 *   -DEDGE_UNKNOWN_SLOT   a slot no version before 3.15 knows, not optional: ImportError
 *   -DEDGE_OPTIONAL_SLOT  the same slot flagged PySlot_OPTIONAL: loads
 *   -DEDGE_GIL_ONLY       Py_mod_abi says GIL only: ImportError on a free-threaded 3.13/3.14
 *   -DEDGE_FAIL_ONCE      the export hook fails once with an exception: the retry loads
 *   -DEDGE_KINDS          every other kind it accepts: Py_mod_create, Py_mod_state_free,
 *                         Py_mod_token (dropped before 3.15), Py_mod_slots and
 *                         Py_slot_subslots (nested arrays), Py_mod_multiple_interpreters
 *   -DEDGE_DEEP           arrays nested deeper than 8: ImportError
 *   -DEDGE_MANY           more than 64 old slots: ImportError
 *   -DEDGE_VERSION_ABI    Py_mod_abi version-specific for 3.15: ImportError before 3.15
 *   -DEDGE_FLOOR_ABI      Py_mod_abi stable from 3.16: ImportError
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
#ifdef EDGE_VERSION_ABI
static PyABIInfo edge_abi = {1, 0, PyABIInfo_GIL, 0x030f02f0, 0x030f02f0};
#endif
#ifdef EDGE_FLOOR_ABI
static PyABIInfo edge_abi = {1, 0, PyABIInfo_STABLE | PyABIInfo_FREETHREADING_AGNOSTIC, 0, 0x03100000};
#endif

#ifdef EDGE_KINDS
static int freed;
static PyObject *edge_create(PyObject *spec, PyModuleDef *def)
{
    (void)def;
    PyObject *name = PyObject_GetAttrString(spec, "name");
    if (!name)
        return NULL;
    PyObject *m = PyModule_NewObject(name);
    Py_DECREF(name);
    return m;
}
static void edge_free(void *module)
{
    (void)module;
    freed++;
}
static int edge_exec(PyObject *module)
{
    return PyModule_AddIntConstant(module, "created_by_create", 1);
}
static PySlot edge_inner2[] = {
    PySlot_FUNC(Py_mod_exec, edge_exec),
    PySlot_END
};
static PySlot edge_inner[] = {
    PySlot_PTR(Py_mod_methods, edge_methods),
    PySlot_PTR(Py_slot_subslots, edge_inner2),
    PySlot_END
};
static char edge_token;
#endif
#ifdef EDGE_DEEP
static PySlot edge_deep[10][2];
#endif
#ifdef EDGE_MANY
static int edge_nop(PyObject *module)
{
    (void)module;
    return 0;
}
#define EDGE_EXEC5 PySlot_FUNC(Py_mod_exec, edge_nop), PySlot_FUNC(Py_mod_exec, edge_nop), \
    PySlot_FUNC(Py_mod_exec, edge_nop), PySlot_FUNC(Py_mod_exec, edge_nop), PySlot_FUNC(Py_mod_exec, edge_nop),
#endif

static PySlot edge_slots[] = {
    PySlot_PTR(Py_mod_name, "edge"),
#ifdef EDGE_KINDS
    PySlot_FUNC(Py_mod_create, edge_create),
    PySlot_FUNC(Py_mod_state_free, edge_free),
    PySlot_PTR(Py_mod_token, &edge_token),
    PySlot_PTR(Py_mod_slots, edge_inner),
    PySlot_DATA(Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED),
#else
    PySlot_PTR_STATIC(Py_mod_methods, edge_methods),
#endif
#ifdef EDGE_DEEP
    PySlot_PTR(Py_mod_slots, edge_deep[0]),
#endif
#ifdef EDGE_MANY
    EDGE_EXEC5 EDGE_EXEC5 EDGE_EXEC5 EDGE_EXEC5 EDGE_EXEC5 EDGE_EXEC5 EDGE_EXEC5
    EDGE_EXEC5 EDGE_EXEC5 EDGE_EXEC5 EDGE_EXEC5 EDGE_EXEC5 EDGE_EXEC5 EDGE_EXEC5
#endif
    PySlot_DATA(Py_mod_gil, Py_MOD_GIL_NOT_USED),
#ifdef EDGE_UNKNOWN_SLOT
    {.sl_id = 250, .sl_ptr = NULL},
#endif
#ifdef EDGE_OPTIONAL_SLOT
    {.sl_id = 250, .sl_flags = PySlot_OPTIONAL, .sl_ptr = NULL},
#endif
#if defined(EDGE_GIL_ONLY) || defined(EDGE_VERSION_ABI) || defined(EDGE_FLOOR_ABI)
    PySlot_PTR(Py_mod_abi, &edge_abi),
#endif
    PySlot_END
};

PyMODEXPORT_FUNC PyModExport_edge(void);
PyMODEXPORT_FUNC PyModExport_edge(void)
{
#ifdef EDGE_DEEP
    for (int i = 0; i < 9; i++) { /* edge_deep[0] -> [1] -> ... -> [9] */
        PySlot nest = PySlot_PTR(Py_mod_slots, edge_deep[i + 1]);
        edge_deep[i][0] = nest;
    }
#endif
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
