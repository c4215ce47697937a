/* profprobe.c -- a test extension that links libabigate and profiles the
 * interpreter it is loaded into with abigate_profile_from_process: the
 * "current process" source of profiles, exercised inside real interpreters
 * by tests/integration/profile.py.
 *
 * profprobe.profile() -> (hexversion, flags, soabi, exports_path, n_exports,
 *                          [suffixes])  or raises RuntimeError. */
#include <Python.h>
#include <abigate/abigate.h>

static abigate_symbols *exports;

static PyObject *profile(PyObject *self, PyObject *noargs)
{
    abigate_profile p;
    abigate_error err;
    (void)self;
    (void)noargs;
    if (!exports && !(exports = abigate_symbols_new()))
        return PyErr_NoMemory();
    if (abigate_profile_from_process(&p, exports, &err) != ABIGATE_OK) {
        PyErr_Format(PyExc_RuntimeError, "%s: %s", abigate_code_name(err.code), err.message);
        return NULL;
    }
    PyObject *suffixes = PyList_New(0);
    if (!suffixes)
        return NULL;
    for (unsigned i = 0; i < p.n_suffixes; i++) {
        PyObject *s = PyUnicode_FromString(p.suffixes[i]);
        if (!s || PyList_Append(suffixes, s) < 0) {
            Py_XDECREF(s);
            Py_DECREF(suffixes);
            return NULL;
        }
        Py_DECREF(s);
    }
    return Py_BuildValue("(kIssIN)", (unsigned long)p.hexversion, p.flags, p.soabi,
                         p.exports_path, p.exports ? abigate_symbols_count(p.exports) : 0u, suffixes);
}

static PyMethodDef methods[] = {
    {"profile", profile, METH_NOARGS, "abigate_profile_from_process() as a tuple"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "profprobe", NULL, -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit_profprobe(void)
{
    return PyModule_Create(&module);
}
