/* hook.h -- shared by the two C files of the _abigate module. */
#ifndef ABIGATE_HOOK_H
#define ABIGATE_HOOK_H

#include "abigate/abigate.h"

/* The process's gate (libabigate's abigate_gate), made when the module is. */
abigate_gate *gate_get(void);

/* The gate's profile of this process (taken now if not yet, the GIL
 * released); NULL with ImportError set when it cannot be taken. */
const abigate_profile *gate_profile(void);

/* The exception for a failure of the gate itself; returns NULL. */
PyObject *gate_error(const abigate_error *err);

/* backport.c: the abi3t backport, PEP 793 slots-only modules below 3.15. */
PyObject *gate_backport_create(PyObject *self, PyObject *args);

#endif
