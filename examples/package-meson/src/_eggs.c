/* _eggs.c -- a C extension that knows nothing of abigate: the record comes
 * from meson.build (abigate.pc's record_source).  Single-phase init, as
 * many older extensions still are. */
#include <Python.h>

static PyObject *
count(PyObject *self, PyObject *arg)
{
    Py_ssize_t n = PyObject_Length(arg);
    (void)self;
    return n < 0 ? NULL : PyLong_FromSsize_t(n);
}

static PyMethodDef methods[] = {
    {"count", count, METH_O, "count(sized) -> len(sized), from C"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_eggs", NULL, -1, methods};

PyMODINIT_FUNC
PyInit__eggs(void)
{
    return PyModule_Create(&module);
}
