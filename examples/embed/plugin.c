/* plugin.c -- a plugin for examples/embed/host.c: a CPython extension
 * module with the abigate record, whose hello() says what it was built for.
 *
 *   cc -shared -fPIC $(pkg-config --cflags abigate) $(python3-config --includes) \
 *      -DPLUGIN_NAME=spam -o plugins/spam.so plugin.c
 *
 * PLUGIN_NAME names the module (its init hook is PyInit_<PLUGIN_NAME>).
 * PLUGIN_BUILD (a string, default "good") is exported as plugin_build, so a
 * host can tell which file it loaded.  PLUGIN_CALL_NEWER makes it call
 * PyLong_FromInt32, a stable-ABI function of 3.14, even under a lower
 * Py_LIMITED_API floor, as a header bug made nanobind call Py_REFCNT
 * (nanobind#1183): its record then shows headers newer than the floor. */
#include <Python.h>
#include <abigate/slot.h>

#ifndef PLUGIN_NAME
#define PLUGIN_NAME plugin
#endif
#ifndef PLUGIN_BUILD
#define PLUGIN_BUILD "good"
#endif
#define STR_(x) #x
#define STR(x) STR_(x)
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

ABIGATE_RECORD(ABIGATE_HOOK_PYINIT);

__attribute__((visibility("default"))) const char plugin_build[] = PLUGIN_BUILD;

#ifdef PLUGIN_CALL_NEWER
PyAPI_FUNC(PyObject *) PyLong_FromInt32(int32_t value);
#endif

static PyObject *hello(PyObject *self, PyObject *unused)
{
    (void)unused;
    Py_INCREF(self); /* reference counting: inline code that differs by build */
    Py_DECREF(self);
#ifdef PLUGIN_CALL_NEWER
    PyObject *n = PyLong_FromInt32(42);
    if (!n)
        return NULL;
    Py_DECREF(n);
#endif
    return PyUnicode_FromFormat("hello from %s (%s), built against Python %s headers%s",
                                STR(PLUGIN_NAME), PLUGIN_BUILD, PY_VERSION,
#ifdef Py_DEBUG
                                " (debug)"
#else
                                ""
#endif
    );
}

static PyMethodDef methods[] = {
    {"hello", hello, METH_NOARGS, "What this plugin was built for."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef def = {
    PyModuleDef_HEAD_INIT, STR(PLUGIN_NAME), "an abigate embedding example plugin", -1, methods,
    NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC CAT(PyInit_, PLUGIN_NAME)(void);
PyMODINIT_FUNC CAT(PyInit_, PLUGIN_NAME)(void)
{
    return PyModule_Create(&def);
}
