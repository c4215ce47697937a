/* needs311.c -- linked into the "3.11 build renamed to m.so" case of
 * tests/gate/classic.py: what countless 3.11 extensions (Cython's among them)
 * do, PyUnicode_READY, which the 3.11 headers expand to a call of
 * _PyUnicode_Ready, a function 3.12 removed. */
#include <Python.h>

int abigate_test_ready(PyObject *text);
int abigate_test_ready(PyObject *text)
{
    return PyUnicode_READY(text);
}
