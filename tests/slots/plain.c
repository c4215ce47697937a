/* plain.c -- an extension module whose source knows nothing of abigate (no
 * slot.h, no ABIGATE_RECORD): tests/slots/record_tu.py gives it the record
 * by linking abigate/record.c, compiled with the same flags, or through
 * abigate.with_record (setuptools). */
#include <Python.h>

static PyObject *answer(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    return PyLong_FromLong(42);
}

static PyMethodDef methods[] = {
    {"answer", answer, METH_NOARGS, "42."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef def = {
    PyModuleDef_HEAD_INIT, "plain", NULL, -1, methods, NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit_plain(void);
PyMODINIT_FUNC PyInit_plain(void)
{
    return PyModule_Create(&def);
}
