/* _spam.c -- a C extension that knows nothing of abigate: the record comes
 * from setup.py (abigate.with_record). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *
scale(PyObject *self, PyObject *args)
{
    long value, factor;
    (void)self;
    if (!PyArg_ParseTuple(args, "ll", &value, &factor))
        return NULL;
    return PyLong_FromLong(value * factor);
}

static PyMethodDef spam_methods[] = {
    {"scale", scale, METH_VARARGS, "scale(value, factor) -> value * factor"},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot spam_slots[] = {
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef spam_module = {
    PyModuleDef_HEAD_INIT, "_spam", NULL, 0, spam_methods, spam_slots, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__spam(void)
{
    return PyModuleDef_Init(&spam_module);
}
