/* abigate/record.c -- the abigate record for an extension module whose C
 * sources stay as they are: compile this file with the extension's own
 * flags (its Python include directory, Py_LIMITED_API, Py_GIL_DISABLED,
 * ...) and link it into the extension.  The record it emits describes the
 * Python headers and macros in effect for this compilation, exactly as
 * ABIGATE_RECORD in the extension's own source would (docs/AUTHORS.md).
 *
 *   cc -shared -fPIC $(python3-config --includes) $(pkg-config --cflags abigate) \
 *      spam.c $(pkg-config --variable=record_source abigate) -o spam.so
 *
 * ABIGATE_RECORD_HOOKS names the module's init hooks: ABIGATE_HOOK_PYINIT
 * (the default), ABIGATE_HOOK_MODEXPORT (a PEP 793 slots-only module), or
 * both or'ed.  Use this file or ABIGATE_RECORD, not both.
 */
#include <Python.h>
#include <abigate/slot.h>

#ifndef ABIGATE_RECORD_HOOKS
#define ABIGATE_RECORD_HOOKS ABIGATE_HOOK_PYINIT
#endif

ABIGATE_RECORD(ABIGATE_RECORD_HOOKS);
