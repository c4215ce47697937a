/* abigate/slot.h -- bake an abigate ABI record into a CPython extension.
 *
 * Header-only.  Include it after <Python.h>, then write once, at file scope,
 * in exactly one translation unit of the module:
 *
 *     #include <Python.h>
 *     #include <abigate/slot.h>
 *     ABIGATE_RECORD(ABIGATE_HOOK_PYINIT);      // module exports PyInit_<name>
 *  or ABIGATE_RECORD(ABIGATE_HOOK_MODEXPORT);   // PEP 793 PyModExport_<name>
 *
 * The record is an ELF note (owner "abigate", section .note.abigate; on
 * Windows the PE section .abigate, on macOS __TEXT,__abigate) that
 * describes the headers and macros in effect for this compilation: the full
 * PY_VERSION_HEX, Py_LIMITED_API, Py_GIL_DISABLED, Py_TARGET_ABI3T /
 * _Py_OPAQUE_PYOBJECT, Py_DEBUG, Py_TRACE_REFS, Py_BUILD_CORE and the pointer
 * width.  Its first block is byte-for-byte the PyABIInfo that CPython 3.15's
 * PyABIInfo_VAR() would produce.  docs/FORMAT.md is the byte-level contract.
 *
 * With 3.15+ headers, ABIGATE_RECORD also defines `abigate_abiinfo`, a real
 * PyABIInfo with the same values, and ABIGATE_ABIINFO_SLOT expands to the
 * slot entry `{Py_mod_abi, &abigate_abiinfo},` for the module's slot array:
 *
 *     static PyModuleDef_Slot slots[] = {
 *         ABIGATE_ABIINFO_SLOT
 *         {Py_mod_exec, my_exec},
 *         {0, NULL}
 *     };
 *
 * A PEP 793 module (PyModExport_<name> returning PySlot[]) uses
 * ABIGATE_ABIINFO_PYSLOT instead, which expands to
 * `PySlot_PTR(Py_mod_abi, &abigate_abiinfo),`.
 *
 * With older headers both expand to nothing.
 *
 * This header defines no Py* or _Py* names: those belong to CPython.
 */
#ifndef ABIGATE_SLOT_H
#define ABIGATE_SLOT_H

#ifndef PY_VERSION_HEX
#error "abigate/slot.h: include <Python.h> before <abigate/slot.h> (the record describes the Python headers in effect)"
#endif

/* Where the note goes (docs/FORMAT.md, "PE and Mach-O"): an ELF note
 * section; a PE section named ".abigate" (MinGW's GCC and clang with GNU
 * attributes, MSVC and clang-cl with __declspec(allocate), kept by an
 * /include of its name); the Mach-O section __TEXT,__abigate (used: not
 * dead-stripped).  The note's bytes are the same in all three. */
#if defined(__ELF__) && defined(__GNUC__)
#  define ABIGATE__SECTION __attribute__((section(".note.abigate"), used, aligned(4))) static
#elif defined(__APPLE__) && defined(__GNUC__)
#  define ABIGATE__SECTION __attribute__((section("__TEXT,__abigate"), used, aligned(4))) static
#elif defined(_WIN32) && defined(__GNUC__)
#  define ABIGATE__SECTION __attribute__((section(".abigate"), used, aligned(4))) static
#elif defined(_MSC_VER)
#  pragma section(".abigate", read)
#  if defined(_M_IX86)
#    pragma comment(linker, "/include:_abigate_note_record")
#  else
#    pragma comment(linker, "/include:abigate_note_record")
#  endif
#  ifdef __cplusplus /* a const object has external linkage only so there */
#    define ABIGATE__SECTION __declspec(allocate(".abigate")) extern "C"
#  else
#    define ABIGATE__SECTION __declspec(allocate(".abigate"))
#  endif
#else
#  error "abigate/slot.h: this compiler and target have no known way to place the record (ELF, PE or Mach-O)"
#endif

/* Values of the hook argument (docs/FORMAT.md, record flags). */
#define ABIGATE_HOOK_PYINIT    0x0100u
#define ABIGATE_HOOK_MODEXPORT 0x0200u

/* ---- the PyABIInfo block, computed exactly as CPython 3.15 computes
 *      PyABIInfo_DEFAULT_FLAGS and PyABIInfo_DEFAULT_ABI_VERSION ---- */

#ifdef Py_LIMITED_API
#  define ABIGATE__STABLE 0x1u
#  if Py_LIMITED_API == 3
#    define ABIGATE__ABI_VERSION 0x03020000u
#  else
#    define ABIGATE__ABI_VERSION (Py_LIMITED_API)
#  endif
#  define ABIGATE__LIMITED_RAW (Py_LIMITED_API)
#  define ABIGATE__F_LIMITED 0x0001u
#else
#  define ABIGATE__STABLE 0x0u
#  define ABIGATE__ABI_VERSION (PY_VERSION_HEX)
#  define ABIGATE__LIMITED_RAW 0u
#  define ABIGATE__F_LIMITED 0x0u
#endif

#if defined(Py_LIMITED_API) && defined(_Py_OPAQUE_PYOBJECT)
#  define ABIGATE__FT 0x6u /* GIL | FREETHREADED: agnostic (abi3t) */
#elif defined(Py_GIL_DISABLED)
#  define ABIGATE__FT 0x4u /* FREETHREADED */
#else
#  define ABIGATE__FT 0x2u /* GIL */
#endif

#ifdef Py_BUILD_CORE
#  define ABIGATE__INTERNAL 0x8u
#  define ABIGATE__F_CORE 0x0040u
#else
#  define ABIGATE__INTERNAL 0x0u
#  define ABIGATE__F_CORE 0x0u
#endif

#define ABIGATE__ABIINFO_FLAGS (ABIGATE__STABLE | ABIGATE__FT | ABIGATE__INTERNAL)

/* Where the headers offer it, prove at compile time that we agree with them. */
#if defined(PyABIInfo_DEFAULT_FLAGS)
#  if (PyABIInfo_DEFAULT_FLAGS) != ABIGATE__ABIINFO_FLAGS
#    error "abigate/slot.h: PyABIInfo flags disagree with PyABIInfo_DEFAULT_FLAGS of these headers"
#  endif
#endif
#if defined(PyABIInfo_DEFAULT_ABI_VERSION)
#  if (PyABIInfo_DEFAULT_ABI_VERSION) != ABIGATE__ABI_VERSION
#    error "abigate/slot.h: abi_version disagrees with PyABIInfo_DEFAULT_ABI_VERSION of these headers"
#  endif
#endif

/* ---- abigate's own flags ---- */

#ifdef Py_GIL_DISABLED
#  define ABIGATE__F_FT 0x0002u
#else
#  define ABIGATE__F_FT 0x0u
#endif
#ifdef _Py_OPAQUE_PYOBJECT
#  define ABIGATE__F_OPAQUE 0x0004u
#else
#  define ABIGATE__F_OPAQUE 0x0u
#endif
#ifdef Py_TARGET_ABI3T
#  define ABIGATE__F_ABI3T 0x0008u
#  define ABIGATE__ABI3T_RAW (Py_TARGET_ABI3T)
#else
#  define ABIGATE__F_ABI3T 0x0u
#  define ABIGATE__ABI3T_RAW 0u
#endif
#ifdef Py_DEBUG
#  define ABIGATE__F_DEBUG 0x0010u
#else
#  define ABIGATE__F_DEBUG 0x0u
#endif
#ifdef Py_TRACE_REFS
#  define ABIGATE__F_TRACE 0x0020u
#else
#  define ABIGATE__F_TRACE 0x0u
#endif

#define ABIGATE__FLAGS(hooks) \
    (ABIGATE__F_LIMITED | ABIGATE__F_FT | ABIGATE__F_OPAQUE | ABIGATE__F_ABI3T | \
     ABIGATE__F_DEBUG | ABIGATE__F_TRACE | ABIGATE__F_CORE | ((hooks) & 0x0300u))

/* The note as it lies in the object file: ELF note header, padded owner
 * name, then the 40-byte version 1.0 descriptor.  All fields are naturally
 * aligned, so the compiler adds no padding; the values are in the target's
 * byte order, which is the ELF file's. */
struct abigate_note {
    unsigned int namesz, descsz, type;
    char name[8];
    unsigned char magic[4];
    unsigned char major, minor;
    unsigned short size;
    unsigned char abiinfo_major, abiinfo_minor;
    unsigned short abiinfo_flags;
    unsigned int build_version, abi_version;
    unsigned int limited_api, target_abi3t, flags;
    unsigned char pointer_size, reserved[7];
};

#define ABIGATE__NOTE_MINOR(hooks, minor, extra)                                      \
    ABIGATE__SECTION const struct abigate_note abigate_note_record = {                \
        8, 40, 0x41424931u, {'a', 'b', 'i', 'g', 'a', 't', 'e', '\0'},                \
        {'A', 'B', 'I', 'G'}, 1, (minor), 40,                                         \
        1, 0, (unsigned short)ABIGATE__ABIINFO_FLAGS,                                 \
        (unsigned int)(PY_VERSION_HEX), (unsigned int)ABIGATE__ABI_VERSION,           \
        (unsigned int)ABIGATE__LIMITED_RAW, (unsigned int)ABIGATE__ABI3T_RAW,         \
        (unsigned int)(ABIGATE__FLAGS(hooks) | (extra)), (unsigned char)sizeof(void *), \
        {0, 0, 0, 0, 0, 0, 0}}
#define ABIGATE__NOTE(hooks) ABIGATE__NOTE_MINOR(hooks, 0, 0u)

/* PyABIInfo and Py_mod_abi exist from 3.15 (0x030f0000) on, and the
 * headers hide PyABIInfo from a limited-API build that targets less. */
#if PY_VERSION_HEX >= 0x030f0000 && defined(Py_mod_abi) && \
    (!defined(Py_LIMITED_API) || Py_LIMITED_API + 0 >= 0x030f0000)
#  define ABIGATE_HAVE_PYABIINFO 1
#  define ABIGATE__ABIINFO_OBJECT                                                     \
    __attribute__((unused)) static PyABIInfo abigate_abiinfo = {                      \
        1, 0, (uint16_t)ABIGATE__ABIINFO_FLAGS, (uint32_t)(PY_VERSION_HEX),           \
        (uint32_t)ABIGATE__ABI_VERSION}
#  define ABIGATE_ABIINFO_SLOT {Py_mod_abi, &abigate_abiinfo},
#  define ABIGATE_ABIINFO_PYSLOT PySlot_PTR(Py_mod_abi, &abigate_abiinfo),
#else
#  define ABIGATE_HAVE_PYABIINFO 0
#  define ABIGATE__ABIINFO_OBJECT                                                     \
    typedef int abigate_no_abiinfo_object_before_3_15
#  define ABIGATE_ABIINFO_SLOT
#  define ABIGATE_ABIINFO_PYSLOT
#endif

/* Emit the record (and, on 3.15+, abigate_abiinfo).  Use once, at file
 * scope, followed by a semicolon.  `hooks`: ABIGATE_HOOK_PYINIT,
 * ABIGATE_HOOK_MODEXPORT, or both or'ed. */
#define ABIGATE_RECORD(hooks) \
    ABIGATE__NOTE(hooks);     \
    ABIGATE__ABIINFO_OBJECT

/* The record of a module built with <abigate/universal.h> (which emits it):
 * record 1.1, flag 0x0400 "universal: PyInit_ serves 3.12 to 3.14". */
#define ABIGATE_RECORD_UNIVERSAL(hooks)                  \
    ABIGATE__NOTE_MINOR(hooks, 1, 0x0400u);              \
    ABIGATE__ABIINFO_OBJECT

#endif /* ABIGATE_SLOT_H */
