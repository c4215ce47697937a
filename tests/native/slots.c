/* slots.c -- a module's data as CPython 3.15's headers lay it out, without
 * Python.h (so that it builds for any target the compiler has, -m32 too):
 * a Py_mod_abi slot pointing at a PyABIInfo, in a PyModuleDef_Slot array
 * (a multi-phase PyInit_) or a PySlot array (a PyModExport_), with the
 * pointers filled by the dynamic loader.  tests/native/native.py builds it
 * with -D switches:
 *   FLAGS, BUILD, ABI   the PyABIInfo (default: 3.15.2, GIL, version-specific)
 *   MAJOR               its major version (default 1)
 *   PYSLOT              the PySlot form instead of PyModuleDef_Slot
 *   GLOBAL_INFO         the PyABIInfo a default-visibility symbol: the pointer
 *                       is then filled by a symbol-based relocation
 *   SECOND_FLAGS        a second module (PyInit_two) whose PyABIInfo has these flags
 *   BAD_ID              an array with a slot ID of no numbering: not well formed
 *   NO_TERMINATOR       an array that runs into other data: not well formed
 */
#include <stdint.h>

#ifndef FLAGS
#define FLAGS 0x0002 /* PyABIInfo_GIL */
#endif
#ifndef BUILD
#define BUILD 0x030f02f0
#endif
#ifndef ABI
#define ABI BUILD
#endif
#ifndef MAJOR
#define MAJOR 1
#endif

typedef struct PyABIInfo {
    uint8_t abiinfo_major_version, abiinfo_minor_version;
    uint16_t flags;
    uint32_t build_version, abi_version;
} PyABIInfo;

struct PyModuleDef_Slot {
    int slot;
    void *value;
};

struct PySlot {
    uint16_t sl_id, sl_flags;
    uint32_t sl_reserved;
    union {
        void *sl_ptr;
        int64_t sl_int64;
    };
};

static int module_exec(void *module)
{
    return module != 0;
}

#ifdef GLOBAL_INFO
__attribute__((visibility("default"))) PyABIInfo abi_info = {MAJOR, 0, FLAGS, BUILD, ABI};
#else
static PyABIInfo abi_info = {MAJOR, 0, FLAGS, BUILD, ABI};
#endif

#ifdef PYSLOT
static struct PySlot slots[] = {
    {109, 0, 0, {&abi_info}},             /* Py_mod_abi */
    {100, 0, 0, {(void *)"m"}},           /* Py_mod_name */
    {85, 0, 0, {(void *)module_exec}},    /* Py_mod_exec */
    {87, 0, 0, {(void *)1}},              /* Py_mod_gil: not used */
#ifdef BAD_ID
    {999, 0, 0, {(void *)module_exec}},
#endif
#ifndef NO_TERMINATOR
    {0, 0, 0, {0}},
#endif
};

__attribute__((visibility("default"))) void *PyModExport_m(void)
{
    return slots;
}
#else
static struct PyModuleDef_Slot slots[] = {
    {109, &abi_info},                     /* Py_mod_abi */
    {85, (void *)module_exec},            /* Py_mod_exec */
    {86, (void *)2},                      /* Py_mod_multiple_interpreters */
    {87, (void *)1},                      /* Py_mod_gil */
#ifdef BAD_ID
    {999, (void *)module_exec},
#endif
#ifndef NO_TERMINATOR
    {0, 0},
#endif
};

__attribute__((visibility("default"))) void *PyInit_m(void)
{
    return slots;
}
#endif

#ifdef NO_TERMINATOR
/* what follows the array instead of its terminator */
__attribute__((visibility("default"))) void *after[] = {(void *)module_exec, (void *)module_exec};
#endif

#ifdef SECOND_FLAGS
static PyABIInfo abi_info_two = {1, 0, SECOND_FLAGS, BUILD, ABI};
static struct PyModuleDef_Slot slots_two[] = {{109, &abi_info_two}, {0, 0}};

__attribute__((visibility("default"))) void *PyInit_two(void)
{
    return slots_two;
}
#endif
