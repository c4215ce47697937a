/* vend.c -- an extension module whose work is done by a vendored library,
 * laid out as auditwheel repairs wheels (tests/load/wheels.py):
 *
 *   PKG/NAME<suffix>          DT_RPATH or DT_RUNPATH $ORIGIN/../PKG.libs
 *   PKG.libs/libvx-HASH.so.1  vend_x(): 30 + vend_y(); no search path of its own
 *   PKG.libs/libvy-HASH.so.1  vend_y(): 5, found for libvx only through the
 *                             extension's inherited DT_RPATH
 *
 * Built with -DVEND_NAME=name (the module name).  value() returns
 * vend_x(); hello() says it, for the embedder host (examples/embed). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#ifndef VEND_NAME
#error "build with -DVEND_NAME=module_name"
#endif
#define VEND_STR2(n) #n
#define VEND_STR(n) VEND_STR2(n)
#define VEND_INIT2(n) PyInit_##n
#define VEND_INIT(n) VEND_INIT2(n)

int vend_x(void);

static PyObject *value(PyObject *self, PyObject *unused)
{
    (void)self, (void)unused;
    return PyLong_FromLong(vend_x());
}

static PyObject *hello(PyObject *self, PyObject *unused)
{
    (void)self, (void)unused;
    return PyUnicode_FromFormat("vendored %d", vend_x());
}

static PyMethodDef methods[] = {
    {"value", value, METH_NOARGS, "vend_x() of the vendored library."},
    {"hello", hello, METH_NOARGS, "The same, as text."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef def = {
    PyModuleDef_HEAD_INIT, VEND_STR(VEND_NAME), NULL, -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC VEND_INIT(VEND_NAME)(void)
{
    return PyModule_Create(&def);
}
