/* gate.h -- shared by the two C files of the _abigate module. */
#ifndef ABIGATE_GATE_H
#define ABIGATE_GATE_H

#include "abigate.h"

/* The profile of this process (taken once); NULL with an exception set. */
const abigate_profile *gate_profile(void);

/* backport.c: the abi3t backport, PEP 793 slots-only modules below 3.15. */
PyObject *gate_backport_create(PyObject *self, PyObject *args);

#endif
