/* slotsonly.c -- a PEP 793 slots-only module built as abi3t (opaque PyObject)
 * against the 3.15 headers, for the import gate's abi3t backport:
 *
 *   cc -shared -fPIC -DPy_TARGET_ABI3T=0x030f0000 -I<3.15 headers> -Islots \
 *      examples/slotsonly.c -o slotsonly.abi3t.so
 *
 * It loads natively on 3.15, and through the gate (PYTHONABIGATE=strict) on
 * 3.12, 3.13, 3.13t and 3.14: it exports only PyModExport_slotsonly, depends
 * on no object layout, and imports only functions those interpreters export
 * (no Py_TYPE() or Py_None, which became functions in 3.14 and 3.13).
 * It uses module state, a heap type with PEP 697 instance data, and the
 * Py_mod_gil, Py_mod_multiple_interpreters, Py_mod_doc and Py_mod_abi slots.
 * With -DSLOTSONLY_NEEDS_3_14 it calls Py_TYPE(), which 3.12/3.13 lack, and
 * the gate refuses it there, naming the symbol.  With -DSLOTSONLY_UNIVERSAL
 * it is universal (<abigate/universal.h>): named slotsonly.so, it loads on
 * 3.13, 3.13t, 3.14 and 3.15 with no gate at all.
 */
#include <Python.h>
#ifdef SLOTSONLY_UNIVERSAL
/* One binary for 3.13, 3.13t, 3.14, 3.14t and 3.15+ with no gate
 * (docs/UNIVERSAL.md): the header emits the record (1.1, universal), and
 * ABIGATE_UNIVERSAL(slotsonly) below adds PyInit_slotsonly. */
#include <abigate/universal.h>
#else
#include <abigate/slot.h>

ABIGATE_RECORD(ABIGATE_HOOK_MODEXPORT);
#endif

typedef struct {
    long calls;             /* module state: how often add() ran */
    PyTypeObject *box_type;
} module_state;

struct box_data {
    PyObject *item;
};

static struct box_data *box_of(PyObject *self, PyTypeObject *tp)
{
    return (struct box_data *)PyObject_GetTypeData(self, tp);
}

static int box_init(PyObject *self, PyObject *args, PyObject *kwds)
{
    PyObject *item, *tp = PyObject_Type(self);
    (void)kwds;
    if (!PyArg_ParseTuple(args, "O", &item)) {
        Py_DECREF(tp);
        return -1;
    }
    struct box_data *d = box_of(self, (PyTypeObject *)tp);
    Py_DECREF(tp);
    Py_INCREF(item);
    Py_XDECREF(d->item);
    d->item = item;
    return 0;
}

static void box_dealloc(PyObject *self)
{
#ifdef SLOTSONLY_NEEDS_3_14
    PyTypeObject *tp = Py_TYPE(self);
    Py_INCREF((PyObject *)tp);
#else
    PyTypeObject *tp = (PyTypeObject *)PyObject_Type(self); /* a new reference */
#endif
    Py_CLEAR(box_of(self, tp)->item);
    freefunc f = (freefunc)PyType_GetSlot(tp, Py_tp_free);
    f(self);
    Py_DECREF((PyObject *)tp); /* ours */
    Py_DECREF((PyObject *)tp); /* the instance's */
}

static PyObject *box_get(PyObject *self, PyObject *unused)
{
    (void)unused;
    PyObject *tp = PyObject_Type(self);
    PyObject *item = box_of(self, (PyTypeObject *)tp)->item;
    Py_DECREF(tp);
    if (!item)
        return PyLong_FromLong(0);
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
    "slotsonly.Box", -(int)sizeof(struct box_data), 0, Py_TPFLAGS_DEFAULT, box_slots
};

static PyObject *slotsonly_add(PyObject *module, PyObject *args)
{
    long a, b;
    if (!PyArg_ParseTuple(args, "ll", &a, &b))
        return NULL;
    /* atomic: the module declares Py_MOD_GIL_NOT_USED, so threads may race here */
    __atomic_add_fetch(&((module_state *)PyModule_GetState(module))->calls, 1, __ATOMIC_RELAXED);
    return PyLong_FromLong(a + b);
}

static PyObject *slotsonly_calls(PyObject *module, PyObject *unused)
{
    (void)unused;
    return PyLong_FromLong(
        __atomic_load_n(&((module_state *)PyModule_GetState(module))->calls, __ATOMIC_RELAXED));
}

static PyMethodDef slotsonly_methods[] = {
    {"add", slotsonly_add, METH_VARARGS, "Add two integers (and count the call)."},
    {"calls", slotsonly_calls, METH_NOARGS, "How often add() ran: module state."},
    {NULL, NULL, 0, NULL}
};

static int slotsonly_exec(PyObject *module)
{
    module_state *st = PyModule_GetState(module);
    PyObject *type = PyType_FromSpec(&box_spec);
    if (!type)
        return -1;
    st->box_type = (PyTypeObject *)type;
    return PyModule_AddObjectRef(module, "Box", type);
}

static int slotsonly_traverse(PyObject *module, visitproc visit, void *arg)
{
    module_state *st = PyModule_GetState(module);
    Py_VISIT(st->box_type);
    return 0;
}

static int slotsonly_clear(PyObject *module)
{
    module_state *st = PyModule_GetState(module);
    Py_CLEAR(st->box_type);
    return 0;
}

static PySlot slotsonly_slots[] = {
    ABIGATE_ABIINFO_PYSLOT
    PySlot_PTR(Py_mod_name, "slotsonly"),
    PySlot_PTR(Py_mod_doc, "A PEP 793 slots-only abi3t module (examples/slotsonly.c)."),
    PySlot_SIZE(Py_mod_state_size, sizeof(module_state)),
    PySlot_PTR_STATIC(Py_mod_methods, slotsonly_methods),
    PySlot_FUNC(Py_mod_state_traverse, slotsonly_traverse),
    PySlot_FUNC(Py_mod_state_clear, slotsonly_clear),
    PySlot_FUNC(Py_mod_exec, slotsonly_exec),
    PySlot_DATA(Py_mod_gil, Py_MOD_GIL_NOT_USED),
    PySlot_DATA(Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED),
    PySlot_END
};

PyMODEXPORT_FUNC PyModExport_slotsonly(void);
PyMODEXPORT_FUNC PyModExport_slotsonly(void)
{
    return slotsonly_slots;
}

#ifdef SLOTSONLY_UNIVERSAL
ABIGATE_UNIVERSAL(slotsonly)
#endif
