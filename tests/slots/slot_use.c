/* slot_use.c -- compile-only use of <abigate/slot.h>, built as C99, C11 and
 * C++ with -Wall -Wextra -Werror -pedantic against every header set of the
 * registry, with and without Py_LIMITED_API (tests/slots/compile.py). */
#include <Python.h>
#include <abigate/slot.h>

ABIGATE_RECORD(ABIGATE_HOOK_PYINIT);

/* PyModuleDef_Slot is in the limited API from 3.5 */
#if !defined(Py_LIMITED_API) || Py_LIMITED_API + 0 >= 0x03050000
static PyModuleDef_Slot slot_use_slots[] = {
    ABIGATE_ABIINFO_SLOT
    {0, NULL}
};

/* keep the slot array referenced, as a real module would */
void *slot_use_slots_address(void);
void *slot_use_slots_address(void)
{
    return slot_use_slots;
}
#endif
