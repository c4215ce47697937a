/* check_decide.c -- abigate_decide, table-tested: every rule of
 * docs/POLICY.md on both sides of its boundary, and every mode.
 *
 * The inputs are built directly (decide is pure): a file's facts, the
 * symbols it imports, a profile from a spec string (plus exports when a
 * row gives them) and a policy.
 */
#include "suites.h"

#include "libabigate/internal.h" /* the symbol buffers filled by hand */

#include <abigate/abigate.h>
#include <stdio.h>
#include <string.h>

#define V(maj, min, mic, lvl, ser) \
    ((uint32_t)(maj) << 24 | (uint32_t)(min) << 16 | (uint32_t)(mic) << 8 | (lvl) << 4 | (ser))
#define F 0xf /* final */

#define STABLE ABIGATE_ABIINFO_STABLE
#define GIL ABIGATE_ABIINFO_GIL
#define FT ABIGATE_ABIINFO_FREETHREADED
#define AGNOSTIC ABIGATE_ABIINFO_AGNOSTIC
#define INTERNAL ABIGATE_ABIINFO_INTERNAL

enum { ABSENT = ABIGATE_RECORD_ABSENT, PRESENT = ABIGATE_RECORD_PRESENT,
       UNSUPPORTED = ABIGATE_RECORD_UNSUPPORTED, CONFLICT = ABIGATE_RECORD_CONFLICT,
       NATIVE = 100, /* PRESENT through CPython's PyABIInfo (ABIGATE_VIA_PYABIINFO) */
       NATIVE_CONFLICT = 101 /* modules whose PyABIInfo disagree */ };
enum { OFF = ABIGATE_MODE_OFF, WARN = ABIGATE_MODE_WARN, STRICT = ABIGATE_MODE_STRICT,
       REQUIRE = ABIGATE_MODE_REQUIRE };
enum { ACCEPT = ABIGATE_ACCEPT, ADAPT = ABIGATE_ADAPT, REFUSE = ABIGATE_REFUSE };
enum { PE = ABIGATE_FORMAT_PE, MACHO = ABIGATE_FORMAT_MACHO };

struct row {
    const char *name;
    /* the file */
    int state;
    uint16_t abiflags;
    uint32_t build, abi, recflags;
    const char *file_name; /* for the tag; NULL: none */
    const char *libpython; /* DT_NEEDED; NULL: none */
    const char *imports;   /* comma-separated; "~name" is weak; NULL: not read */
    const char *modexport; /* PyModExport_ hook; NULL: PyInit_m; "": no hook at all */
    /* the interpreter */
    const char *spec;
    unsigned extra_flags;  /* ABIGATE_PROFILE_* added to the spec's */
    const char *exports;   /* comma-separated; NULL: unknown */
    /* the policy */
    int mode;
    unsigned policy_flags;
    /* expected */
    int kind, reason, warning;
    const char *says;      /* a substring of the message */
    /* ELF identity overrides (0: the profile's) */
    unsigned elf_class, machine, big_endian, pointer_size;
    unsigned slot_id_315;  /* a slot array of 3.15's numbering found by this ID */
    unsigned moddef;       /* the header of its PyModuleDef: ABIGATE_MODDEF_* */
    /* PE and Mach-O (0: ELF): the format, its minos, a universal file's
     * slices' machines (all 64-bit) */
    unsigned format;
    uint32_t min_os;
    unsigned n_slices, slice_machine[2];
    /* its PyModuleDef: the versions its HEAD_INIT belongs to (max 0: none),
     * the highest old-numbering ID of its slots */
    unsigned moddef_min, moddef_max, slot_id_old;
};

#define REC(fl, b, a) PRESENT, (fl), (b), (a)
#define NATIVE_REC(fl, b, a) NATIVE, (fl), (b), (a)
#define NOREC ABSENT, 0, 0, 0

static const struct row rows[] = {
    /* version-specific ABI: same major.minor */
    {"same minor", REC(GIL, V(3,13,1,F,0), V(3,13,1,F,0)), 0, NULL, NULL, NULL, NULL,
     "3.13", 0, NULL, STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0, "compatible with this 3.13.0"},
    {"newer micro, same minor", REC(GIL, V(3,13,5,F,0), V(3,13,5,F,0)), 0, NULL, NULL, NULL,
     NULL, "3.13.0", 0, NULL, STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0, "built for 3.13 (GIL)"},
    {"older minor", REC(GIL, V(3,12,1,F,0), V(3,12,1,F,0)), 0, NULL, NULL, NULL, NULL,
     "3.13", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_VERSION, 0, "needs a 3.13 build"},
    {"newer minor", REC(GIL, V(3,14,0,F,0), V(3,14,0,F,0)), 0, NULL, NULL, NULL, NULL,
     "3.13", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_VERSION, 0, "built for 3.14 (GIL)"},
    /* internal ABI: exact version */
    {"internal exact", REC(GIL | INTERNAL, V(3,13,1,F,0), V(3,13,1,F,0)), ABIGATE_REC_BUILD_CORE,
     NULL, NULL, NULL, NULL, "3.13.1", 0, NULL, STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0, "exactly"},
    {"internal, newer micro runtime", REC(GIL | INTERNAL, V(3,13,1,F,0), V(3,13,1,F,0)), 0,
     NULL, NULL, NULL, NULL, "3.13.2", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_INTERNAL_VERSION,
     0, "exactly 3.13.1"},
    {"internal, older micro runtime", REC(GIL | INTERNAL, V(3,13,1,F,0), V(3,13,1,F,0)), 0,
     NULL, NULL, NULL, NULL, "3.13.0", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_INTERNAL_VERSION,
     0, "internal ABI"},
    /* pre-release: exact version until rc1 */
    {"beta on the same beta", REC(GIL, V(3,15,0,0xb,1), V(3,15,0,0xb,1)), 0, NULL, NULL, NULL,
     NULL, "3.15.0b1", 0, NULL, STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0, "compatible"},
    {"beta on final", REC(GIL, V(3,15,0,0xb,1), V(3,15,0,0xb,1)), 0, NULL, NULL, NULL, NULL,
     "3.15.0", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_PRERELEASE, 0, "3.15.0b1 headers"},
    {"alpha on beta", REC(GIL, V(3,15,0,0xa,7), V(3,15,0,0xa,7)), 0, NULL, NULL, NULL, NULL,
     "3.15.0b1", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_PRERELEASE, 0, "not frozen"},
    {"rc1 on final (frozen)", REC(GIL, V(3,15,0,0xc,1), V(3,15,0,0xc,1)), 0, NULL, NULL, NULL,
     NULL, "3.15.0", 0, NULL, STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0, "compatible"},
    {"final on a beta runtime", REC(GIL, V(3,15,2,F,0), V(3,15,2,F,0)), 0, NULL, NULL, NULL,
     NULL, "3.15.0b2", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_PRERELEASE, 0, "this interpreter is a"},
    {"stable 3.8 from beta headers", REC(STABLE | GIL, V(3,15,0,0xb,1), V(3,8,0,0,0)), 0, NULL,
     NULL, NULL, NULL, "3.14", 0, NULL, STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0, "abi3, 3.8+"},
    {"stable 3.15 from beta headers", REC(STABLE | GIL, V(3,15,0,0xb,1), V(3,15,0,0,0)), 0,
     NULL, NULL, NULL, NULL, "3.15", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_PRERELEASE, 0,
     "pre-release"},
    /* stable ABI: 3.2 <= floor <= runtime */
    {"abi3 3.8 on 3.13", REC(STABLE | GIL, V(3,13,1,F,0), V(3,8,0,0,0)), 0, NULL, NULL, NULL,
     NULL, "3.13", 0, NULL, STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0, "abi3, 3.8+"},
    {"abi3 floor = runtime", REC(STABLE | GIL, V(3,13,1,F,0), V(3,13,0,0,0)), 0, NULL, NULL,
     NULL, NULL, "3.13", 0, NULL, STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0, "3.13+"},
    {"abi3 floor = runtime + 1", REC(STABLE | GIL, V(3,14,1,F,0), V(3,14,0,0,0)), 0, NULL, NULL,
     NULL, NULL, "3.13", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_STABLE_TOO_NEW, 0,
     "older than the stable ABI floor 3.14"},
    {"abi3 floor 3.2", REC(STABLE | GIL, V(3,11,2,F,0), V(3,2,0,0,0)), 0, NULL, NULL, NULL, NULL,
     "3.11", 0, NULL, STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0, "3.2+"},
    {"abi3 floor below 3.2", REC(STABLE | GIL, V(3,11,2,F,0), 0x0301ffffu), 0, NULL, NULL,
     NULL, NULL, "3.11", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_STABLE_INVALID, 0, "below 3.2"},
    {"stable + internal", REC(STABLE | INTERNAL | GIL, V(3,11,2,F,0), V(3,11,2,F,0)), 0, NULL,
     NULL, NULL, NULL, "3.11.2", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_STABLE_INTERNAL, 0,
     "both the stable and the internal"},
    {"stable + internal, other version", REC(STABLE | INTERNAL | GIL, V(3,11,2,F,0),
     V(3,8,0,0,0)), 0, NULL, NULL, NULL, NULL, "3.11.2", 0, NULL, STRICT, 0, REFUSE,
     ABIGATE_R_INTERNAL_VERSION, 0, "internal ABI"},
    /* GIL / free-threaded / agnostic */
    {"abi3 (GIL) on 3.13t", REC(STABLE | GIL, V(3,13,1,F,0), V(3,8,0,0,0)), 0, NULL, NULL, NULL,
     NULL, "3.13t", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_GIL_ON_FREETHREADED, 0,
     "needs a free-threaded or abi3t build"},
    {"3.13 GIL build on 3.13t", REC(GIL, V(3,13,1,F,0), V(3,13,1,F,0)), 0, NULL, NULL, NULL,
     NULL, "3.13t", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_GIL_ON_FREETHREADED, 0,
     "free-threaded"},
    {"3.13t build on 3.13", REC(FT, V(3,13,1,F,0), V(3,13,1,F,0)), ABIGATE_REC_GIL_DISABLED,
     NULL, NULL, NULL, NULL, "3.13", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_FREETHREADED_ON_GIL,
     0, "built for 3.13t"},
    {"3.13t build on 3.13t", REC(FT, V(3,13,1,F,0), V(3,13,1,F,0)), ABIGATE_REC_GIL_DISABLED,
     NULL, NULL, NULL, NULL, "3.13t", 0, NULL, STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0,
     "free-threaded"},
    {"abi3t on 3.15", REC(STABLE | AGNOSTIC, V(3,15,2,F,0), V(3,15,0,0,0)),
     ABIGATE_REC_OPAQUE_PYOBJECT, NULL, NULL, NULL, NULL, "3.15", 0, NULL, STRICT, 0, ACCEPT,
     ABIGATE_R_NONE, 0, "abi3t, 3.15+"},
    {"abi3t on 3.15t", REC(STABLE | AGNOSTIC, V(3,15,2,F,0), V(3,15,0,0,0)),
     ABIGATE_REC_OPAQUE_PYOBJECT, NULL, NULL, NULL, NULL, "3.15t", 0, NULL, STRICT, 0, ACCEPT,
     ABIGATE_R_NONE, 0, "free-threaded"},
    {"abi3t on 3.14", REC(STABLE | AGNOSTIC, V(3,15,2,F,0), V(3,15,0,0,0)),
     ABIGATE_REC_OPAQUE_PYOBJECT, NULL, NULL, NULL, NULL, "3.14", 0, NULL, STRICT, 0, REFUSE,
     ABIGATE_R_ABI3T_TOO_OLD, 0, "from 3.15 on"},
    /* the abi3t backport decision (acted on by the import gate) */
    {"abi3t backport allowed", REC(STABLE | AGNOSTIC, V(3,15,2,F,0), V(3,15,0,0,0)),
     ABIGATE_REC_OPAQUE_PYOBJECT, NULL, NULL, "PyModule_FromSlotsAndSpec,Py_IncRef",
     "PyModExport_demo", "3.13t", 0, "PyModule_FromSlotsAndSpec,Py_IncRef,Py_Initialize",
     STRICT, ABIGATE_POLICY_ADAPT_ABI3T, ADAPT, ABIGATE_R_NONE, 0, "abi3t backport"},
    {"abi3t backport, symbol missing", REC(STABLE | AGNOSTIC, V(3,15,2,F,0), V(3,15,0,0,0)),
     ABIGATE_REC_OPAQUE_PYOBJECT, NULL, NULL, "PyModule_FromSlotsAndSpec,PyUnstable_New315",
     "PyModExport_demo", "3.13", 0, "PyModule_FromSlotsAndSpec,Py_Initialize", STRICT,
     ABIGATE_POLICY_ADAPT_ABI3T, REFUSE, ABIGATE_R_MISSING_SYMBOLS, 0, "PyUnstable_New315"},
    {"abi3t backport, no PyModExport", REC(STABLE | AGNOSTIC, V(3,15,2,F,0), V(3,15,0,0,0)),
     ABIGATE_REC_OPAQUE_PYOBJECT, NULL, NULL, "Py_IncRef", NULL, "3.13", 0,
     "Py_IncRef,Py_Initialize", STRICT, ABIGATE_POLICY_ADAPT_ABI3T, REFUSE,
     ABIGATE_R_ABI3T_TOO_OLD, 0, "from 3.15 on"},
    /* <abigate/universal.h>: record 1.1, its own PyInit_ on 3.13/3.14 */
    {"universal on 3.13", REC(STABLE | AGNOSTIC, V(3,15,2,F,0), V(3,15,0,0,0)),
     ABIGATE_REC_OPAQUE_PYOBJECT | ABIGATE_REC_UNIVERSAL, NULL, NULL, "PyModuleDef_Init,Py_IncRef",
     "PyModExport_demo", "3.13", 0, "PyModuleDef_Init,Py_IncRef,Py_Initialize", STRICT, 0, ACCEPT,
     ABIGATE_R_NONE, 0, "a universal module"},
    {"universal on 3.14t", REC(STABLE | AGNOSTIC, V(3,15,2,F,0), V(3,15,0,0,0)),
     ABIGATE_REC_OPAQUE_PYOBJECT | ABIGATE_REC_UNIVERSAL, NULL, NULL, "PyModuleDef_Init,Py_TYPE",
     "PyModExport_demo", "3.14t", 0, "PyModuleDef_Init,Py_TYPE,Py_Initialize", STRICT, 0, ACCEPT,
     ABIGATE_R_NONE, 0, "a universal module"},
    {"universal on 3.13, a 3.14 import", REC(STABLE | AGNOSTIC, V(3,15,2,F,0), V(3,15,0,0,0)),
     ABIGATE_REC_OPAQUE_PYOBJECT | ABIGATE_REC_UNIVERSAL, NULL, NULL, "PyModuleDef_Init,Py_TYPE",
     "PyModExport_demo", "3.13", 0, "PyModuleDef_Init,Py_Initialize", STRICT, 0, REFUSE,
     ABIGATE_R_MISSING_SYMBOLS, 0, "Py_TYPE"},
    {"universal on 3.13, exports unknown", REC(STABLE | AGNOSTIC, V(3,15,2,F,0), V(3,15,0,0,0)),
     ABIGATE_REC_OPAQUE_PYOBJECT | ABIGATE_REC_UNIVERSAL, NULL, NULL, "PyModuleDef_Init",
     "PyModExport_demo", "3.13", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_ABI3T_TOO_OLD, 0,
     "from 3.15 on"},
    {"universal on 3.12", REC(STABLE | AGNOSTIC, V(3,15,2,F,0), V(3,15,0,0,0)),
     ABIGATE_REC_OPAQUE_PYOBJECT | ABIGATE_REC_UNIVERSAL, NULL, NULL, "PyModuleDef_Init",
     "PyModExport_demo", "3.12", 0, "PyModuleDef_Init,Py_Initialize", STRICT, 0, ACCEPT,
     ABIGATE_R_NONE, 0, "3.12 to 3.14"},
    {"universal on 3.11, all imports there", REC(STABLE | AGNOSTIC, V(3,15,2,F,0), V(3,15,0,0,0)),
     ABIGATE_REC_OPAQUE_PYOBJECT | ABIGATE_REC_UNIVERSAL, NULL, NULL, "PyModuleDef_Init",
     "PyModExport_demo", "3.11", 0, "PyModuleDef_Init,Py_Initialize", STRICT, 0, REFUSE,
     ABIGATE_R_ABI3T_TOO_OLD, 0, "from 3.15 on"},
    {"universal on 3.10, imports missing", REC(STABLE | AGNOSTIC, V(3,15,2,F,0), V(3,15,0,0,0)),
     ABIGATE_REC_OPAQUE_PYOBJECT | ABIGATE_REC_UNIVERSAL, NULL, NULL, "PyModuleDef_Init,Py_Version",
     "PyModExport_demo", "3.10", 0, "PyModuleDef_Init,Py_Initialize", STRICT, 0, REFUSE,
     ABIGATE_R_MISSING_SYMBOLS, 0, "Py_Version"},
    {"plain abi3 3.15 never adapts", REC(STABLE | GIL, V(3,15,2,F,0), V(3,15,0,0,0)), 0, NULL,
     NULL, "Py_IncRef", "PyModExport_demo", "3.13", 0, "Py_IncRef,Py_Initialize", STRICT,
     ABIGATE_POLICY_ADAPT_ABI3T, REFUSE, ABIGATE_R_STABLE_TOO_NEW, 0, "3.15"},
    /* Py_TRACE_REFS below 3.13 */
    {"trace-refs build on 3.12", REC(GIL, V(3,12,1,F,0), V(3,12,1,F,0)), ABIGATE_REC_TRACE_REFS,
     NULL, NULL, NULL, NULL, "3.12", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_TRACE_REFS, 0,
     "Py_TRACE_REFS"},
    {"release build on trace-refs 3.12", REC(GIL, V(3,12,1,F,0), V(3,12,1,F,0)), 0, NULL, NULL,
     NULL, NULL, "3.12d", ABIGATE_PROFILE_TRACE_REFS, NULL, STRICT, 0, REFUSE,
     ABIGATE_R_TRACE_REFS, 0, "PyObject layout"},
    {"trace-refs build on 3.13", REC(GIL, V(3,13,1,F,0), V(3,13,1,F,0)), ABIGATE_REC_TRACE_REFS,
     NULL, NULL, NULL, NULL, "3.13", 0, NULL, STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0, "compatible"},
    /* debug builds on release runtimes: only debug-only imports refuse */
    {"debug build, debug-only import", REC(GIL, V(3,13,1,F,0), V(3,13,1,F,0)),
     ABIGATE_REC_PY_DEBUG, NULL, NULL, "Py_IncRef,_Py_NegativeRefcount", NULL, "3.13", 0, NULL,
     STRICT, 0, REFUSE, ABIGATE_R_DEBUG_SYMBOLS, 0, "_Py_NegativeRefcount"},
    {"debug build on debug runtime", REC(GIL, V(3,13,1,F,0), V(3,13,1,F,0)),
     ABIGATE_REC_PY_DEBUG, NULL, NULL, "Py_IncRef,_Py_NegativeRefcount", NULL, "3.13d", 0, NULL,
     STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0, "compatible"},
    {"debug build, no debug-only import", REC(GIL, V(3,13,1,F,0), V(3,13,1,F,0)),
     ABIGATE_REC_PY_DEBUG, NULL, NULL, "Py_IncRef", NULL, "3.13", 0, NULL, STRICT, 0, ACCEPT,
     ABIGATE_R_NONE, 0, "debug"},
    {"debug build, exports known", REC(GIL, V(3,11,2,F,0), V(3,11,2,F,0)),
     ABIGATE_REC_PY_DEBUG, NULL, NULL, "Py_IncRef,_Py_RefTotal", NULL, "3.11", 0,
     "Py_IncRef,Py_Initialize", STRICT, 0, REFUSE, ABIGATE_R_DEBUG_SYMBOLS, 0, "_Py_RefTotal"},
    /* imported symbols against the interpreter's exports */
    {"record, missing import", REC(GIL, V(3,13,1,F,0), V(3,13,1,F,0)), 0, NULL, NULL,
     "Py_IncRef,_PyUnicode_Ready", NULL, "3.13", 0, "Py_IncRef,Py_Initialize", STRICT, 0,
     REFUSE, ABIGATE_R_MISSING_SYMBOLS, 0, "_PyUnicode_Ready, which this 3.13.0"},
    {"record, weak missing import", REC(GIL, V(3,13,1,F,0), V(3,13,1,F,0)), 0, NULL, NULL,
     "Py_IncRef,~_PyUnicode_Ready", NULL, "3.13", 0, "Py_IncRef,Py_Initialize", STRICT, 0,
     ACCEPT, ABIGATE_R_NONE, 0, "compatible"},
    {"record, exports unknown", REC(GIL, V(3,13,1,F,0), V(3,13,1,F,0)), 0, NULL, NULL,
     "_PyUnicode_Ready", NULL, "3.13", 0, NULL, STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0,
     "compatible"},
    /* ELF identity and the record's pointer width */
    {"ELF32 file", REC(GIL, V(3,13,1,F,0), V(3,13,1,F,0)), 0, NULL, NULL, NULL, NULL, "3.13", 0,
     NULL, STRICT, 0, REFUSE, ABIGATE_R_ELF_CLASS, 0, "32-bit", 32, 0, 0, 0},
    {"AArch64 file", REC(GIL, V(3,13,1,F,0), V(3,13,1,F,0)), 0, NULL, NULL, NULL, NULL, "3.13",
     0, NULL, STRICT, 0, REFUSE, ABIGATE_R_MACHINE, 0, "AArch64", 0, 183, 0, 0},
    {"big-endian file", REC(GIL, V(3,13,1,F,0), V(3,13,1,F,0)), 0, NULL, NULL, NULL, NULL,
     "3.13", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_BYTE_ORDER, 0, "big-endian", 0, 0, 1, 0},
    {"4-byte pointers in the record", REC(GIL, V(3,13,1,F,0), V(3,13,1,F,0)), 0, NULL, NULL,
     NULL, NULL, "3.13", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_POINTER_SIZE, 0, "4-byte", 0, 0,
     0, 4},
    /* the native record: CPython's own PyABIInfo, judged as a record */
    {"native, same version", NATIVE_REC(GIL, V(3,15,2,F,0), V(3,15,2,F,0)), 0, NULL, NULL, "",
     NULL, "3.15", 0, NULL, STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0,
     "its PyABIInfo (Py_mod_abi): built for 3.15 (GIL); compatible"},
    {"native GIL on 3.13t", NATIVE_REC(GIL, V(3,15,2,F,0), V(3,15,2,F,0)), 0, NULL, NULL, "",
     NULL, "3.13t", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_VERSION, 0, "its PyABIInfo"},
    {"native GIL on 3.15t", NATIVE_REC(GIL, V(3,15,2,F,0), V(3,15,2,F,0)), 0, NULL, NULL, "",
     NULL, "3.15t", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_GIL_ON_FREETHREADED, 0, "its PyABIInfo"},
    {"native debug-only imports on release", NATIVE_REC(GIL, V(3,15,2,F,0), V(3,15,2,F,0)), 0,
     NULL, NULL, "_Py_NegativeRefcount", NULL, "3.15", 0, NULL, STRICT, 0, REFUSE,
     ABIGATE_R_DEBUG_SYMBOLS, 0, "_Py_NegativeRefcount"},
    /* records that disagree */
    {"abigate record and PyABIInfo disagree, strict", CONFLICT, GIL, V(3,15,2,F,0),
     V(3,15,2,F,0), 0, NULL, NULL, NULL, NULL, "3.15", 0, NULL, STRICT, 0, REFUSE,
     ABIGATE_R_RECORD_CONFLICT, 0, "its abigate record and its PyABIInfo (Py_mod_abi) disagree"},
    {"abigate record and PyABIInfo disagree, warn", CONFLICT, GIL, V(3,15,2,F,0),
     V(3,15,2,F,0), 0, NULL, NULL, NULL, NULL, "3.15", 0, NULL, WARN, 0, ACCEPT,
     ABIGATE_R_RECORD_CONFLICT, 1, "disagree"},
    {"modules' PyABIInfo disagree", NATIVE_CONFLICT, GIL, V(3,15,2,F,0), V(3,15,2,F,0), 0, NULL,
     NULL, NULL, NULL, "3.15", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_RECORD_CONFLICT, 0,
     "its modules' PyABIInfo (Py_mod_abi) disagree; one says it was built for 3.15 (GIL)"},
    /* record of an unknown major version */
    {"unsupported record, strict", UNSUPPORTED, 0, 0, 0, 0, NULL, NULL, NULL, NULL, "3.13", 0,
     NULL, STRICT, 0, REFUSE, ABIGATE_R_RECORD_UNSUPPORTED, 0, "cannot read"},
    {"unsupported record, warn", UNSUPPORTED, 0, 0, 0, 0, NULL, NULL, NULL, NULL, "3.13", 0,
     NULL, WARN, 0, ACCEPT, ABIGATE_R_RECORD_UNSUPPORTED, 1, "cannot read"},
    {"unsupported record, require", UNSUPPORTED, 0, 0, 0, 0, NULL, NULL, NULL, NULL, "3.13", 0,
     NULL, REQUIRE, 0, REFUSE, ABIGATE_R_RECORD_UNSUPPORTED, 0, "cannot read"},
    /* no record: inference from the file name */
    {"tag of another version", NOREC, 0, "m.cpython-311-x86_64-linux-gnu.so", NULL, NULL, NULL,
     "3.13", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_TAG_VERSION, 0, "CPython 3.11"},
    {"tag of this version", NOREC, 0, "m.cpython-313-x86_64-linux-gnu.so", NULL, NULL, NULL,
     "3.13", 0, NULL, STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0, "no evidence"},
    {"t tag on a GIL build", NOREC, 0, "m.cpython-313t-x86_64-linux-gnu.so", NULL, NULL, NULL,
     "3.13", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_TAG_ABI_FLAGS, 0, "free-threaded"},
    {"GIL tag on 3.13t", NOREC, 0, "m.cpython-313-x86_64-linux-gnu.so", NULL, NULL, NULL,
     "3.13t", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_TAG_ABI_FLAGS, 0, "GIL"},
    {"dm tag on 3.7 release", NOREC, 0, "m.cpython-37dm-x86_64-linux-gnu.so", NULL, NULL, NULL,
     "3.7", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_TAG_ABI_FLAGS, 0, "below 3.8"},
    {"d tag on 3.11 release", NOREC, 0, "m.cpython-311d-x86_64-linux-gnu.so", NULL, NULL, NULL,
     "3.11", 0, NULL, STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0, "no evidence"},
    {"tag of another platform", NOREC, 0, "m.cpython-313-aarch64-linux-gnu.so", NULL, NULL,
     NULL, "3.13", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_TAG_PLATFORM, 0, "aarch64-linux-gnu"},
    {"PyPy tag", NOREC, 0, "m.pypy39-pp73-x86_64-linux-gnu.so", NULL, NULL, NULL, "3.13", 0,
     NULL, STRICT, 0, REFUSE, ABIGATE_R_TAG_OTHER, 0, "pypy39"},
    {"abi3 tag on 3.13t", NOREC, 0, "m.abi3.so", NULL, NULL, NULL, "3.13t", 0, NULL, STRICT, 0,
     REFUSE, ABIGATE_R_ABI3_FREETHREADED, 0, "GIL stable ABI"},
    {"abi3 tag on 3.13", NOREC, 0, "m.abi3.so", NULL, NULL, NULL, "3.13", 0, NULL, STRICT, 0,
     ACCEPT, ABIGATE_R_NONE, 0, "tagged abi3"},
    {"abi3t tag on 3.14", NOREC, 0, "m.abi3t.so", NULL, NULL, NULL, "3.14", 0, NULL, STRICT, 0,
     REFUSE, ABIGATE_R_ABI3T_TOO_OLD, 0, "from 3.15 on"},
    {"abi3t tag on 3.15", NOREC, 0, "m.abi3t.so", NULL, NULL, NULL, "3.15", 0, NULL, STRICT, 0,
     ACCEPT, ABIGATE_R_NONE, 0, "tagged abi3t"},
    {"bare name, nothing else", NOREC, 0, "m.so", NULL, NULL, NULL, "3.13", 0, NULL, STRICT, 0,
     ACCEPT, ABIGATE_R_NONE, 0, "no ABI tag"},
    /* no record: DT_NEEDED libpython */
    {"libpython of another version", NOREC, 0, "m.so", "libpython3.11.so.1.0", NULL, NULL,
     "3.13", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_LIBPYTHON, 0, "libpython3.11.so.1.0"},
    {"libpython of this version", NOREC, 0, "m.so", "libpython3.13.so.1.0", NULL, NULL, "3.13",
     0, NULL, STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0, "no evidence"},
    {"free-threaded libpython", NOREC, 0, "m.so", "libpython3.13t.so.1.0", NULL, NULL, "3.13", 0,
     NULL, STRICT, 0, REFUSE, ABIGATE_R_LIBPYTHON, 0, "libpython3.13t"},
    {"libpython3.so (stable forwarder)", NOREC, 0, "m.so", "libpython3.so", NULL, NULL, "3.13",
     0, NULL, STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0, "no evidence"},
    /* no record: symbols */
    {"legacy, missing import", NOREC, 0, "m.cpython-311-x86_64-linux-gnu.so", NULL,
     "PyLong_FromLong,_PyUnicode_Ready", NULL, "3.13", 0, "PyLong_FromLong,Py_Initialize",
     STRICT, 0, REFUSE, ABIGATE_R_MISSING_SYMBOLS, 0,
     "needs _PyUnicode_Ready, which this 3.13.0 interpreter does not export; the file is "
     "tagged cpython-311"},
    {"legacy, all imports exported", NOREC, 0, "m.so", NULL, "PyLong_FromLong", NULL, "3.13", 0,
     "PyLong_FromLong,Py_Initialize", STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0,
     "all exported by this interpreter"},
    {"abi3 tag, non-stable import", NOREC, 0, "m.abi3.so", NULL, "PyLong_FromLong,_PyUnicode_Ready",
     NULL, "3.13", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_ABI3_NOT_STABLE, 0,
     "outside the stable ABI"},
    {"abi3 tag, non-stable import, runtime past the table", NOREC, 0, "m.abi3.so", NULL,
     "PyLong_FromLong,_PyUnicode_Ready", NULL, "3.15", 0, NULL, STRICT, 0, ACCEPT,
     ABIGATE_R_NONE, 0, "no evidence"},
    {"abi3 tag, 3.12 symbol on 3.11", NOREC, 0, "m.abi3.so", NULL, "PyType_FromMetaclass", NULL,
     "3.11", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_ABI3_SYMBOL_TOO_NEW, 0, "PyType_FromMetaclass"},
    {"abi3 tag, 3.12 symbol on 3.12", NOREC, 0, "m.abi3.so", NULL, "PyType_FromMetaclass", NULL,
     "3.12", 0, NULL, STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0, "no evidence"},
    /* no record: the object layout of its inline reference counting */
    {"layout: GIL refcounting on 3.13t", NOREC, 0, "m.so", NULL, "PyLong_FromLong,_Py_Dealloc",
     NULL, "3.13t", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_LAYOUT_GIL_ON_FREETHREADED, 0,
     "calls _Py_Dealloc and none of the free-threaded entry points"},
    {"layout: GIL refcounting on 3.13t, exports known", NOREC, 0, "m.so", NULL,
     "PyLong_FromLong,_Py_Dealloc", NULL, "3.13t", 0, "PyLong_FromLong,_Py_Dealloc,_Py_DecRefShared",
     STRICT, 0, REFUSE, ABIGATE_R_LAYOUT_GIL_ON_FREETHREADED, 0, "GIL object layout"},
    {"layout: GIL refcounting on 3.13 (GIL)", NOREC, 0, "m.so", NULL,
     "PyLong_FromLong,_Py_Dealloc", NULL, "3.13", 0, NULL, STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0,
     "layout: GIL (imports _Py_Dealloc)"},
    {"layout: free-threaded refcounting on 3.13", NOREC, 0, "m.so", NULL,
     "PyLong_FromLong,_Py_MergeZeroLocalRefcount,_Py_DecRefShared", NULL, "3.13", 0, NULL, STRICT,
     0, REFUSE, ABIGATE_R_LAYOUT_FREETHREADED_ON_GIL, 0,
     "calls _Py_MergeZeroLocalRefcount, _Py_DecRefShared, so it was compiled with the "
     "free-threaded object layout"},
    {"layout: free-threaded refcounting on 3.13, exports known: the missing symbol first", NOREC,
     0, "m.so", NULL, "PyLong_FromLong,_Py_DecRefShared", NULL, "3.13", 0,
     "PyLong_FromLong,_Py_Dealloc", STRICT, 0, REFUSE, ABIGATE_R_MISSING_SYMBOLS, 0,
     "needs _Py_DecRefShared"},
    {"layout: free-threaded refcounting on 3.13t", NOREC, 0, "m.so", NULL,
     "PyLong_FromLong,_Py_DecRefShared", NULL, "3.13t", 0, NULL, STRICT, 0, ACCEPT,
     ABIGATE_R_NONE, 0, "layout: free-threaded"},
    {"layout: neither (limited API 3.12+, _Py_DecRef) on 3.13t", NOREC, 0, "m.so", NULL,
     "PyLong_FromLong,_Py_DecRef", NULL, "3.13t", 0, NULL, STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0,
     "layout: not shown"},
    {"layout: both entry points (ambiguous) on 3.13t", NOREC, 0, "m.so", NULL,
     "_Py_Dealloc,_Py_DecRefShared", NULL, "3.13t", 0, NULL, STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0,
     "layout: not shown"},
    {"layout: both entry points (ambiguous) on 3.13", NOREC, 0, "m.so", NULL,
     "_Py_Dealloc,_Py_MergeZeroLocalRefcount", NULL, "3.13", 0, NULL, STRICT, 0, ACCEPT,
     ABIGATE_R_NONE, 0, "symbols not checked"},
    {"layout: weak _Py_Dealloc counts too", NOREC, 0, "m.so", NULL, "~_Py_Dealloc", NULL,
     "3.13t", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_LAYOUT_GIL_ON_FREETHREADED, 0, "_Py_Dealloc"},
    {"layout: warn lets it load", NOREC, 0, "m.so", NULL, "_Py_Dealloc", NULL, "3.13t", 0, NULL,
     WARN, 0, ACCEPT, ABIGATE_R_LAYOUT_GIL_ON_FREETHREADED, 1, "GIL object layout"},
    {"layout: a tag of another version is not reached first", NOREC, 0,
     "m.cpython-311-x86_64-linux-gnu.so", NULL, "_Py_Dealloc", NULL, "3.13t", 0, NULL, STRICT, 0,
     REFUSE, ABIGATE_R_LAYOUT_GIL_ON_FREETHREADED, 0, "the file is tagged cpython-311"},
    /* no record: the init hook */
    {"hook: slots-only (PyModExport_ only) on 3.14", NOREC, 0, "m.so", NULL, "PyLong_FromLong",
     "PyModExport_m", "3.14", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_MODEXPORT_ONLY, 0,
     "exports PyModExport_m and no PyInit_ function"},
    {"hook: slots-only on 3.15", NOREC, 0, "m.so", NULL, "PyLong_FromLong", "PyModExport_m",
     "3.15", 0, NULL, STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0, "no evidence"},
    /* no record: the object header of its PyModuleDef (the data's layout) */
    {"moddef: GIL header on 3.13t", NOREC, 0, "m.so", NULL, "PyLong_FromLong", NULL, "3.13t", 0,
     NULL, STRICT, 0, REFUSE, ABIGATE_R_LAYOUT_GIL_ON_FREETHREADED, 0,
     "its PyModuleDef starts with the GIL object header", .moddef = ABIGATE_MODDEF_GIL},
    {"moddef: free-threaded header on 3.13", NOREC, 0, "m.so", NULL, "PyLong_FromLong", NULL,
     "3.13", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_LAYOUT_FREETHREADED_ON_GIL, 0,
     "free-threaded object header", .moddef = ABIGATE_MODDEF_FREETHREADED},
    {"moddef: GIL header on 3.13", NOREC, 0, "m.so", NULL, "PyLong_FromLong", NULL, "3.13", 0,
     NULL, STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0, "layout: GIL (its PyModuleDef's header)",
     .moddef = ABIGATE_MODDEF_GIL},
    {"moddef: free-threaded header on 3.13t", NOREC, 0, "m.so", NULL, "PyLong_FromLong", NULL,
     "3.13t", 0, NULL, STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0, "(its PyModuleDef's header)",
     .moddef = ABIGATE_MODDEF_FREETHREADED},
    {"moddef: two headers", NOREC, 0, "m.so", NULL, "PyLong_FromLong", NULL, "3.13", 0, NULL,
     STRICT, 0, REFUSE, ABIGATE_R_LAYOUT_CONFLICT, 0, "structures disagree",
     .moddef = ABIGATE_MODDEF_GIL | ABIGATE_MODDEF_FREETHREADED},
    {"moddef: free-threaded header, _Py_Dealloc imported", NOREC, 0, "m.so", NULL,
     "PyLong_FromLong,_Py_Dealloc", NULL, "3.13t", 0, NULL, STRICT, 0, REFUSE,
     ABIGATE_R_LAYOUT_CONFLICT, 0, "its code and its data disagree",
     .moddef = ABIGATE_MODDEF_FREETHREADED},
    {"moddef: two headers, warn", NOREC, 0, "m.so", NULL, "PyLong_FromLong", NULL, "3.13", 0,
     NULL, WARN, 0, ACCEPT, ABIGATE_R_LAYOUT_CONFLICT, 1, "disagree",
     .moddef = ABIGATE_MODDEF_GIL | ABIGATE_MODDEF_FREETHREADED},
    /* no record: module slots in 3.15's numbering (3.15+ headers) */
    {"slots: Py_mod_exec = 85 on 3.14", NOREC, 0, "m.so", NULL, "PyLong_FromLong", NULL, "3.14", 0,
     NULL, STRICT, 0, REFUSE, ABIGATE_R_SLOT_NUMBERING, 0, "(\"unknown slot ID 85\")",
     .slot_id_315 = 85},
    {"slots: Py_mod_create = 84 on 3.11", NOREC, 0, "m.so", NULL, "PyLong_FromLong", NULL, "3.11",
     0, NULL, STRICT, 0, REFUSE, ABIGATE_R_SLOT_NUMBERING, 0, "Py_mod_create = 84",
     .slot_id_315 = 84},
    {"slots: 3.15 numbering on 3.13t", NOREC, 0, "m.so", NULL, "PyLong_FromLong", NULL, "3.13t", 0,
     NULL, STRICT, 0, REFUSE, ABIGATE_R_SLOT_NUMBERING, 0, "3.15 or later headers",
     .slot_id_315 = 85},
    {"slots: 3.15 numbering on 3.13, warn", NOREC, 0, "m.so", NULL, "PyLong_FromLong", NULL, "3.13",
     0, NULL, WARN, 0, ACCEPT, ABIGATE_R_SLOT_NUMBERING, 1, "Py_mod_exec = 85",
     .slot_id_315 = 85},
    {"slots: 3.15 numbering on 3.15", NOREC, 0, "m.so", NULL, "PyLong_FromLong", NULL, "3.15", 0,
     NULL, STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0, "no evidence", .slot_id_315 = 85},
    {"hook: none at all, named cpython-311", NOREC, 0, "m.cpython-311-x86_64-linux-gnu.so", NULL,
     "PyLong_FromLong", "", "3.11", 0, NULL, STRICT, 0, REFUSE, ABIGATE_R_NO_INIT_HOOK, 0,
     "does not define module export function (PyInit_m)"},
    {"hook: none at all, named abi3, warn", NOREC, 0, "m.abi3.so", NULL, "PyLong_FromLong", "",
     "3.13", 0, NULL, WARN, 0, ACCEPT, ABIGATE_R_NO_INIT_HOOK, 1, "exports no init hook"},
    {"hook: none, a bare name claims nothing (a vendored library)", NOREC, 0,
     "libfoo-1a2b3c4d.so", NULL, "", "", "3.11", 0, NULL, STRICT, 0, ACCEPT, ABIGATE_R_NONE, 0,
     "no evidence"},
    /* modes */
    {"off: nothing is checked", REC(GIL, V(3,12,1,F,0), V(3,12,1,F,0)), 0, NULL, NULL, NULL,
     NULL, "3.13", 0, NULL, OFF, 0, ACCEPT, ABIGATE_R_NONE, 0, "mode off"},
    {"warn: mismatch loads with a warning", REC(GIL, V(3,12,1,F,0), V(3,12,1,F,0)), 0, NULL,
     NULL, NULL, NULL, "3.13", 0, NULL, WARN, 0, ACCEPT, ABIGATE_R_VERSION, 1, "3.12"},
    {"warn: legacy evidence", NOREC, 0, "m.cpython-311-x86_64-linux-gnu.so", NULL, NULL, NULL,
     "3.13", 0, NULL, WARN, 0, ACCEPT, ABIGATE_R_TAG_VERSION, 1, "3.11"},
    {"require: no record", NOREC, 0, "m.cpython-313-x86_64-linux-gnu.so", NULL, NULL, NULL,
     "3.13", 0, NULL, REQUIRE, 0, REFUSE, ABIGATE_R_NO_RECORD, 0, "mode require"},
    {"require: good record", REC(GIL, V(3,13,1,F,0), V(3,13,1,F,0)), 0, NULL, NULL, NULL, NULL,
     "3.13", 0, NULL, REQUIRE, 0, ACCEPT, ABIGATE_R_NONE, 0, "compatible"},
    {"require: bad record", REC(GIL, V(3,12,1,F,0), V(3,12,1,F,0)), 0, NULL, NULL, NULL, NULL,
     "3.13", 0, NULL, REQUIRE, 0, REFUSE, ABIGATE_R_VERSION, 0, "3.12"},
    {"warn: no record", NOREC, 0, "m.so", NULL, NULL, NULL, "3.13", 0, NULL, WARN, 0, ACCEPT,
     ABIGATE_R_NONE, 0, "no evidence"},
    /* no record: its PyModuleDef's own slots and the version of its header
     * (Debian sid's markupsafe, msgpack and regex builds: tests/native/thirdparty.py) */
#define DEF_ROW(nm, imp, sp, k, rs, text, ...) \
    {.name = nm, .state = ABSENT, .file_name = "m.so", .imports = imp, .spec = sp, .mode = STRICT, \
     .kind = k, .reason = rs, .says = text, .moddef = ABIGATE_MODDEF_GIL, __VA_ARGS__}
    DEF_ROW("Py_mod_gil in its slots on 3.12", "PyLong_FromLong", "3.12", REFUSE,
            ABIGATE_R_SLOT_UNKNOWN, "Py_mod_gil (slot ID 4), which CPython knows from 3.13 on",
            .slot_id_old = 4),
    DEF_ROW("Py_mod_gil in its slots on 3.13", "PyLong_FromLong", "3.13", ACCEPT, ABIGATE_R_NONE,
            "no evidence", .slot_id_old = 4),
    DEF_ROW("the 3.15 alphas' Py_mod_abi (5, pyo3-ffi 0.28) on 3.15", "PyLong_FromLong", "3.15",
            REFUSE, ABIGATE_R_SLOT_UNKNOWN, "invalid module slot 5 (Py_mp_subscript)",
            .slot_id_old = 5),
    DEF_ROW("the 3.15 alphas' Py_mod_abi (5) on 3.16", "PyLong_FromLong", "3.16", REFUSE,
            ABIGATE_R_SLOT_UNKNOWN, "no release loads", .slot_id_old = 5),
    DEF_ROW("Py_mod_multiple_interpreters on 3.11", "PyLong_FromLong", "3.11", REFUSE,
            ABIGATE_R_SLOT_UNKNOWN, "(\"unknown slot ID 3\")", .slot_id_old = 3),
    DEF_ROW("Py_mod_multiple_interpreters on 3.12", "PyLong_FromLong", "3.12", ACCEPT,
            ABIGATE_R_NONE, "no evidence", .slot_id_old = 3),
    DEF_ROW("3.15's Py_mod_multiple_interpreters on 3.14", "PyLong_FromLong", "3.14", REFUSE,
            ABIGATE_R_SLOT_NUMBERING, "Py_mod_multiple_interpreters = 86", .slot_id_315 = 86),
    DEF_ROW("a 3.14+ header, a non-stable import, on 3.13", "PyLong_FromLong,PyUnicode_New", "3.13",
            REFUSE, ABIGATE_R_LAYOUT_VERSION,
            "only the headers of CPython 3.14 and later write, and it needs PyUnicode_New",
            .moddef_min = 14, .moddef_max = 255),
    DEF_ROW("a 3.14+ header, stable imports only (limited API), on 3.13", "PyLong_FromLong",
            "3.13", ACCEPT, ABIGATE_R_NONE, "no evidence", .moddef_min = 14, .moddef_max = 255),
    DEF_ROW("a 3.14+ header, a non-stable import, on 3.15", "PyUnicode_New", "3.15", ACCEPT,
            ABIGATE_R_NONE, "no evidence", .moddef_min = 14, .moddef_max = 255),
    DEF_ROW("an ob_refcnt 1 header (any version: PyO3 writes it for 3.15), a non-stable "
            "import, on 3.15", "PyUnicode_New", "3.15", ACCEPT, ABIGATE_R_NONE, "no evidence",
            .moddef_min = 0, .moddef_max = 255),
    DEF_ROW("an ob_refcnt 1 header, a non-stable import, on 3.8", "PyUnicode_New", "3.8",
            ACCEPT, ABIGATE_R_NONE, "no evidence", .moddef_min = 0, .moddef_max = 255),
    DEF_ROW("a 3.12+ header (UINT_MAX), a non-stable import, on 3.11", "PyUnicode_New", "3.11",
            REFUSE, ABIGATE_R_LAYOUT_VERSION,
            "values only the headers of CPython 3.12 and later write", .moddef_min = 12,
            .moddef_max = 255),
    DEF_ROW("a 3.12+ header (UINT_MAX), a non-stable import, on 3.15", "PyUnicode_New", "3.15",
            ACCEPT, ABIGATE_R_NONE, "no evidence", .moddef_min = 12, .moddef_max = 255),
#undef DEF_ROW
#define FT_DEF_ROW(nm, sp, k, rs, text, vmin) \
    {.name = nm, .state = ABSENT, .file_name = "m.so", .imports = "PyUnicode_New", .spec = sp, \
     .mode = STRICT, .kind = k, .reason = rs, .says = text, \
     .moddef = ABIGATE_MODDEF_FREETHREADED, .moddef_min = vmin, .moddef_max = 255}
    FT_DEF_ROW("a 3.14t+ header (ob_flags 4), a non-stable import, on 3.13t", "3.13t", REFUSE,
               ABIGATE_R_LAYOUT_VERSION, "values only the headers of CPython 3.14t and later", 14),
    FT_DEF_ROW("a 3.14t+ header (ob_flags 4), a non-stable import, on 3.15t", "3.15t", ACCEPT,
               ABIGATE_R_NONE, "no evidence", 14),
    FT_DEF_ROW("a 3.13t+ header (ob_flags 0: PyO3 writes it for 3.14t), on 3.14t", "3.14t",
               ACCEPT, ABIGATE_R_NONE, "no evidence", 13),
#undef FT_DEF_ROW
    /* PE (Windows) and Mach-O (macOS): the format, the DLL, the slices */
#define PE_ROW(nm, fname, dll, imp, sp, k, rs, text) \
    {.name = nm, .state = ABSENT, .file_name = fname, .libpython = dll, .imports = imp, \
     .spec = sp, .mode = STRICT, .kind = k, .reason = rs, .says = text, .format = PE}
    PE_ROW("a PE file on Linux", "m.pyd", "python313.dll", NULL, "3.13", REFUSE, ABIGATE_R_FORMAT,
           "a Windows PE file; this interpreter runs on an ELF system"),
    PE_ROW("python313.dll on 3.13 Windows", "m.cp313-win_amd64.pyd", "python313.dll",
           "PyLong_FromLong,_Py_Dealloc", "3.13-win_amd64", ACCEPT, ABIGATE_R_NONE, "no evidence"),
    PE_ROW("python313t.dll on 3.13 Windows", "m.pyd", "python313t.dll", NULL, "3.13-win_amd64",
           REFUSE, ABIGATE_R_PYTHON_DLL, "python313t.dll, the DLL of free-threaded CPython 3.13"),
    PE_ROW("python313.dll on 3.13t Windows (psutil#2442)", "m.cp313t-win_amd64.pyd",
           "python313.dll", NULL, "3.13t-win_amd64", REFUSE, ABIGATE_R_PYTHON_DLL,
           "whose DLL is python313t.dll"),
    PE_ROW("python312.dll on 3.13 Windows", "m.pyd", "PYTHON312.DLL", NULL, "3.13-win_amd64",
           REFUSE, ABIGATE_R_PYTHON_DLL, "the DLL of GIL CPython 3.12"),
    PE_ROW("python313_d.dll on a release 3.13", "m_d.pyd", "python313_d.dll", NULL,
           "3.13-win_amd64", REFUSE, ABIGATE_R_PYTHON_DLL, "GIL debug CPython 3.13"),
    PE_ROW("python313_d.dll on 3.13d", "m_d.pyd", "python313_d.dll", NULL, "3.13d-win_amd64",
           ACCEPT, ABIGATE_R_NONE, "no evidence"),
    PE_ROW("python313.dll on 3.13d", "m.pyd", "python313.dll", NULL, "3.13d-win_amd64", REFUSE,
           ABIGATE_R_PYTHON_DLL, "whose DLL is python313_d.dll"),
    PE_ROW("python3.dll on 3.13t Windows", "m.pyd", "python3.dll", NULL, "3.13t-win_amd64",
           REFUSE, ABIGATE_R_ABI3_FREETHREADED, "python3.dll, the GIL stable ABI"),
    PE_ROW("python3.dll on 3.12 Windows", "m.pyd", "python3.dll", "PyLong_FromLong",
           "3.12-win_amd64", ACCEPT, ABIGATE_R_NONE, "no evidence"),
    PE_ROW("python3_d.dll on a release build", "m_d.pyd", "python3_d.dll", NULL,
           "3.13-win_amd64", REFUSE, ABIGATE_R_PYTHON_DLL, "the stable ABI's DLL of debug builds"),
    PE_ROW("python3t.dll on 3.14 Windows", "m.pyd", "python3t.dll", NULL, "3.14t-win_amd64",
           REFUSE, ABIGATE_R_ABI3T_TOO_OLD, "python3t.dll, the free-threading agnostic"),
    PE_ROW("python3t.dll on 3.15t Windows", "m.pyd", "python3t.dll", NULL, "3.15t-win_amd64",
           ACCEPT, ABIGATE_R_NONE, "no evidence"),
    PE_ROW("python3.dll, a non-stable import", "m.pyd", "python3.dll",
           "PyLong_FromLong,_PyUnicode_Ready", "3.13-win_amd64", REFUSE,
           ABIGATE_R_ABI3_NOT_STABLE, "imports from python3.dll but needs _PyUnicode_Ready"),
    PE_ROW("python3.dll, a stable import newer than the runtime", "m.pyd", "python3.dll",
           "PyLong_AsInt", "3.12-win_amd64", REFUSE, ABIGATE_R_ABI3_SYMBOL_TOO_NEW,
           "needs PyLong_AsInt, added to the stable ABI after"),
    PE_ROW("a .pyd tagged for 3.12", "m.cp312-win_amd64.pyd", NULL, NULL, "3.13-win_amd64", REFUSE,
           ABIGATE_R_TAG_VERSION, "tagged cp312-win_amd64"),
    PE_ROW("a .pyd tagged for win32 on win_amd64", "m.cp313-win32.pyd", NULL, NULL,
           "3.13-win_amd64", REFUSE, ABIGATE_R_TAG_PLATFORM, "tagged for win32"),
    {.name = "a 64-bit PE file on win32", .state = ABSENT, .file_name = "m.pyd",
     .spec = "3.13-win32", .mode = STRICT, .kind = REFUSE, .reason = ABIGATE_R_ELF_CLASS,
     .says = "a 64-bit Windows PE file; this interpreter is 32-bit", .format = PE,
     .elf_class = 64, .machine = 62},
#undef PE_ROW
#define MACHO_ROW(nm, fname, lib, imp, sp, k, rs, text, ...) \
    {.name = nm, .state = ABSENT, .file_name = fname, .libpython = lib, .imports = imp, \
     .spec = sp, .mode = STRICT, .kind = k, .reason = rs, .says = text, .format = MACHO, \
     __VA_ARGS__}
    MACHO_ROW("a Mach-O file on Windows", "m.so", NULL, NULL, "3.13-win_amd64", REFUSE,
              ABIGATE_R_FORMAT, "a macOS Mach-O file; this interpreter runs on Windows", .elf_class = 0),
    MACHO_ROW("a Mach-O file on macOS", "m.cpython-313-darwin.so", NULL,
              "PyLong_FromLong,_Py_Dealloc", "3.13-macosx_11_0_arm64", ACCEPT, ABIGATE_R_NONE,
              "tagged cpython-313-darwin", .elf_class = 0),
    MACHO_ROW("a darwin tag on Linux", "m.cpython-313-darwin.so", NULL, NULL, "3.13", REFUSE,
              ABIGATE_R_FORMAT, "macOS Mach-O", .elf_class = 0),
    MACHO_ROW("libpython3.12.dylib on 3.13", "m.so", "@rpath/libpython3.12.dylib", NULL,
              "3.13-macosx_11_0_arm64", REFUSE, ABIGATE_R_LIBPYTHON,
              "linked against @rpath/libpython3.12.dylib (LC_LOAD_DYLIB)", .elf_class = 0),
    MACHO_ROW("a 3.12 framework on 3.13", "m.so",
              "/Library/Frameworks/Python.framework/Versions/3.12/Python", NULL,
              "3.13-macosx_11_0_x86_64", REFUSE, ABIGATE_R_LIBPYTHON, "Versions/3.12/Python",
              .elf_class = 0),
    MACHO_ROW("the 3.13 framework on 3.13", "m.so",
              "/Library/Frameworks/Python.framework/Versions/3.13/Python", NULL,
              "3.13-macosx_11_0_x86_64", ACCEPT, ABIGATE_R_NONE, "no evidence", .elf_class = 0),
    MACHO_ROW("minos 12.0 on a macOS 11.0 target", "m.so", NULL, NULL, "3.13-macosx_11_0_arm64",
              REFUSE, ABIGATE_R_MIN_OS, "needs macOS 12.0 or later", .min_os = 0x0c0000),
    MACHO_ROW("minos 10.13 on a macOS 11.0 target", "m.so", NULL, NULL, "3.13-macosx_11_0_arm64",
              ACCEPT, ABIGATE_R_NONE, "no evidence", .min_os = 0x0a0d00),
    MACHO_ROW("universal2 on arm64", "m.so", NULL, NULL, "3.13-macosx_11_0_arm64", ACCEPT,
              ABIGATE_R_NONE, "no evidence", .n_slices = 2, .slice_machine = {62, 183}),
    MACHO_ROW("an x86_64-only universal file on arm64", "m.so", NULL, NULL,
              "3.13-macosx_11_0_arm64", REFUSE, ABIGATE_R_MACHINE,
              "slices are x86-64 64-bit; none is for this interpreter's AArch64",
              .n_slices = 1, .slice_machine = {62}),
    MACHO_ROW("an arm64 file on an x86_64 target", "m.so", NULL, NULL, "3.13-macosx_11_0_x86_64",
              REFUSE, ABIGATE_R_MACHINE, "built for machine AArch64", .machine = 183),
#undef MACHO_ROW

};

/* Fill `syms` from "a,~b,c". */
static void fill_symbols(abigate_symbols *syms, const char *list)
{
    memset(syms, 0, offsetof(abigate_symbols, pool));
    syms->hashed = 0; /* filled by hand: no kept hashes */
    const char *s = list;
    while (*s) {
        size_t n = strcspn(s, ",");
        int weak = *s == '~';
        memcpy(syms->pool + syms->pool_used, s + weak, n - weak);
        syms->pool[syms->pool_used + n - weak] = '\0';
        syms->sym[syms->count].name = (uint32_t)syms->pool_used;
        syms->sym[syms->count].weak = (uint8_t)weak;
        syms->count++;
        syms->pool_used += n - weak + 1;
        s += n + (s[n] == ',');
    }
}

static abigate_symbols file_syms, exports;

static void build_inputs(const struct row *r, abigate_file_info *fi, abigate_profile *p)
{
    abigate_error err;
    ck_assert_int_eq(abigate_profile_parse(p, r->spec, &err), ABIGATE_OK);
    p->flags |= r->extra_flags;
    if (r->exports) {
        fill_symbols(&exports, r->exports);
        abigate_symbols_sort(&exports);
        p->exports = &exports;
    }
    memset(fi, 0, sizeof *fi);
    fi->elf_class = r->elf_class ? r->elf_class : p->elf_class;
    fi->machine = r->machine ? r->machine : p->machine;
    fi->big_endian = r->big_endian;
    fi->elf_type = 3;
    int native = r->state == NATIVE || r->state == NATIVE_CONFLICT;
    fi->record_state = r->state == NATIVE ? PRESENT : r->state == NATIVE_CONFLICT ? CONFLICT
                                                                                : r->state;
    fi->record_via = native ? ABIGATE_VIA_PYABIINFO : ABIGATE_VIA_PT_NOTE;
    if (r->state != ABSENT) {
        fi->record.major = r->state == UNSUPPORTED ? 2 : 1;
        fi->record.size = native ? 12 : 40;
    }
    if (r->state != ABSENT && r->state != UNSUPPORTED) {
        fi->record.abiinfo.major = 1;
        fi->record.abiinfo.flags = r->abiflags;
        fi->record.abiinfo.build_version = r->build;
        fi->record.abiinfo.abi_version = r->abi;
        fi->record.flags = r->recflags;
        if (r->recflags & ABIGATE_REC_UNIVERSAL)
            fi->record.minor = 1; /* record 1.1 */
        fi->record.pointer_size = (uint8_t)(r->pointer_size ? r->pointer_size : p->pointer_size);
    }
    if (r->file_name)
        ck_assert_int_eq(abigate_tag_parse(r->file_name, &fi->tag), ABIGATE_OK);
    if (r->libpython) {
        fi->n_needed = fi->n_libpython = 1;
        snprintf(fi->libpython[0], sizeof fi->libpython[0], "%s", r->libpython);
    }
    if (!r->modexport) { /* a classic module: PyInit_m */
        fi->n_pyinit = 1;
        snprintf(fi->pyinit, sizeof fi->pyinit, "PyInit_m");
    } else if (r->modexport[0]) {
        fi->n_modexport = 1;
        snprintf(fi->modexport, sizeof fi->modexport, "%s", r->modexport);
    }
    fi->legacy_read = 1;
    fi->slot_id_315 = r->slot_id_315;
    fi->moddef_layout = r->moddef;
    fi->format = r->format;
    fi->moddef_minor_min = r->moddef_min;
    fi->moddef_minor_max = r->moddef_max;
    fi->slot_id_old = r->slot_id_old;
    fi->min_os = r->min_os;
    fi->n_slices = r->n_slices;
    for (unsigned k = 0; k < r->n_slices; k++) {
        fi->slice[k].machine = r->slice_machine[k];
        fi->slice[k].elf_class = 64;
    }
    fill_symbols(&file_syms, r->imports ? r->imports : "");
    fi->n_pysyms = file_syms.count;
}

START_TEST(test_rule)
{
    const struct row *r = &rows[_i];
    abigate_file_info fi;
    abigate_profile p;
    abigate_policy pol = {r->mode, r->policy_flags};
    abigate_verdict v;
    build_inputs(r, &fi, &p);
    int kind = abigate_decide(&fi, r->imports ? &file_syms : NULL, &p, &pol, &v);
    ck_assert_msg(kind == r->kind && v.kind == r->kind && v.reason == r->reason &&
                      v.warning == r->warning,
                  "%s: got %s/%s warning %d, want %s/%s warning %d: %s", r->name,
                  abigate_verdict_name(v.kind), abigate_reason_name(v.reason), v.warning,
                  abigate_verdict_name(r->kind), abigate_reason_name(r->reason), r->warning,
                  v.message);
    ck_assert_msg(strstr(v.message, r->says), "%s: message lacks \"%s\": %s", r->name, r->says,
                  v.message);
    ck_assert_int_eq(v.adapt, r->kind == ADAPT ? ABIGATE_ADAPT_ABI3T_BACKPORT : 0);
    ck_assert_int_eq(v.evidence, r->mode == OFF ? ABIGATE_EVIDENCE_NONE
                                 : r->state == ABSENT ? ABIGATE_EVIDENCE_INFERRED
                                                      : ABIGATE_EVIDENCE_RECORD);
}
END_TEST

/* ABIGATE_POLICY_QUIET changes no decision: every row gives the same kind,
 * reason, warning, adapt and evidence; a plain ACCEPT gets an empty message
 * and everything else the same message as without the flag. */
START_TEST(test_quiet)
{
    const struct row *r = &rows[_i];
    abigate_file_info fi;
    abigate_profile p;
    abigate_policy loud = {r->mode, r->policy_flags};
    abigate_policy quiet = {r->mode, r->policy_flags | ABIGATE_POLICY_QUIET};
    abigate_verdict a, b;
    build_inputs(r, &fi, &p);
    const abigate_symbols *syms = r->imports ? &file_syms : NULL;
    memset(&b, 'x', sizeof b); /* what quiet leaves is NUL-terminated */
    int ka = abigate_decide(&fi, syms, &p, &loud, &a);
    int kb = abigate_decide(&fi, syms, &p, &quiet, &b);
    ck_assert_msg(ka == kb && a.kind == b.kind && a.reason == b.reason &&
                      a.warning == b.warning && a.adapt == b.adapt && a.evidence == b.evidence,
                  "%s: quiet gives %s/%s, loud %s/%s", r->name, abigate_verdict_name(b.kind),
                  abigate_reason_name(b.reason), abigate_verdict_name(a.kind),
                  abigate_reason_name(a.reason));
    if (a.kind == ABIGATE_ACCEPT && !a.warning)
        ck_assert_msg(b.message[0] == '\0', "%s: quiet ACCEPT has a message: %s", r->name,
                      b.message);
    else
        ck_assert_str_eq(b.message, a.message);
}
END_TEST

/* Every reason in the table is exercised by some row. */
START_TEST(test_every_reason_covered)
{
    static const int reasons[] = {
#define X(name, value, text) name,
#include "abigate/reasons.h"
#undef X
    };
    for (size_t k = 0; k < sizeof reasons / sizeof reasons[0]; k++) {
        int seen = 0;
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
            seen |= rows[i].reason == reasons[k];
        if (reasons[k] == ABIGATE_R_ABIINFO_VERSION)
            continue; /* a record decodes only with PyABIInfo 1.x: see test_abiinfo_major */
        if (reasons[k] == ABIGATE_R_UNREADABLE)
            continue; /* the gate's, never abigate_decide's: check_gate.c test_unreadable */
        if (reasons[k] >= ABIGATE_R_WHEEL_VERSION && reasons[k] <= ABIGATE_R_WHEEL_METADATA)
            continue; /* abigate_wheel_decide's and _tags_decide's: check_wheel.c */
        ck_assert_msg(seen, "no row exercises %s", abigate_reason_name(reasons[k]));
    }
}
END_TEST

/* The four modes over the same five files: the mode table of POLICY.md. */
struct mode_case {
    const char *file;
    int state, bad;   /* bad: a proven mismatch */
    int expect[4];    /* kind for off, warn, strict, require */
    int warn_flag[4];
};

static const struct mode_case mode_cases[] = {
    {"good record", PRESENT, 0, {ACCEPT, ACCEPT, ACCEPT, ACCEPT}, {0, 0, 0, 0}},
    {"mismatched record", PRESENT, 1, {ACCEPT, ACCEPT, REFUSE, REFUSE}, {0, 1, 0, 0}},
    {"no record, no evidence", ABSENT, 0, {ACCEPT, ACCEPT, ACCEPT, REFUSE}, {0, 0, 0, 0}},
    {"no record, evidence", ABSENT, 1, {ACCEPT, ACCEPT, REFUSE, REFUSE}, {0, 1, 0, 0}},
    {"unsupported record", UNSUPPORTED, 0, {ACCEPT, ACCEPT, REFUSE, REFUSE}, {0, 1, 0, 0}},
};

START_TEST(test_modes)
{
    const struct mode_case *c = &mode_cases[_i / 4];
    int mode = _i % 4;
    struct row r = {c->file, c->state, GIL, V(3,13,1,F,0), V(3,13,1,F,0), 0,
                    "m.cpython-313-x86_64-linux-gnu.so", NULL, NULL, NULL, "3.13", 0, NULL,
                    mode, 0, 0, 0, 0, "", 0, 0, 0, 0};
    if (c->bad && c->state == PRESENT)
        r.build = r.abi = V(3,12,1,F,0);
    if (c->bad && c->state == ABSENT)
        r.file_name = "m.cpython-312-x86_64-linux-gnu.so";
    abigate_file_info fi;
    abigate_profile p;
    abigate_policy pol = {mode, 0};
    abigate_verdict v;
    build_inputs(&r, &fi, &p);
    abigate_decide(&fi, NULL, &p, &pol, &v);
    ck_assert_msg(v.kind == c->expect[mode] && v.warning == c->warn_flag[mode],
                  "%s, mode %s: got %s warning %d", c->file, abigate_mode_name(mode),
                  abigate_verdict_name(v.kind), v.warning);
    ck_assert(v.message[0] != '\0');
}
END_TEST

START_TEST(test_abiinfo_major)
{
    abigate_profile p;
    abigate_profile_parse(&p, "3.15", NULL);
    abigate_abiinfo a = {2, 0, GIL, V(3,15,0,F,0), V(3,15,0,F,0)};
    ck_assert_int_eq(abigate_decide_abiinfo(&a, &p), ABIGATE_R_ABIINFO_VERSION);
    a.major = 0; /* "no information", as in CPython */
    a.abi_version = V(3,1,0,0,0);
    ck_assert_int_eq(abigate_decide_abiinfo(&a, &p), ABIGATE_R_NONE);
}
END_TEST

START_TEST(test_invalid_arguments)
{
    abigate_file_info fi;
    abigate_profile p;
    abigate_policy pol = {STRICT, 0};
    abigate_verdict v;
    memset(&fi, 0, sizeof fi);
    abigate_profile_parse(&p, "3.13", NULL);
    ck_assert_int_eq(abigate_decide(NULL, NULL, &p, &pol, &v), ABIGATE_E_INVALID_ARG);
    ck_assert_int_eq(abigate_decide(&fi, NULL, NULL, &pol, &v), ABIGATE_E_INVALID_ARG);
    ck_assert_int_eq(abigate_decide(&fi, NULL, &p, NULL, &v), ABIGATE_E_INVALID_ARG);
    ck_assert_int_eq(abigate_decide(&fi, NULL, &p, &pol, NULL), ABIGATE_E_INVALID_ARG);
    pol.mode = 7;
    ck_assert_int_eq(abigate_decide(&fi, NULL, &p, &pol, &v), ABIGATE_E_INVALID_ARG);
}
END_TEST

/* ---------------------------------------------------------------- profiles and policies */

static const struct spec_case {
    const char *spec;
    int rc;
    uint32_t hex;
    unsigned flags;
    const char *soabi, *first_suffix;
    unsigned n_suffixes;
} specs[] = {
    {"3.13", ABIGATE_OK, V(3,13,0,F,0), 0, "cpython-313-", ".cpython-313-", 3},
    {"3.13t", ABIGATE_OK, V(3,13,0,F,0), ABIGATE_PROFILE_FREETHREADED, "cpython-313t-",
     ".cpython-313t-", 3}, /* 3.13t loads .abi3.so */
    {"3.15d", ABIGATE_OK, V(3,15,0,F,0), ABIGATE_PROFILE_DEBUG, "cpython-315d-", ".cpython-315d-", 5},
    {"3.15td", ABIGATE_OK, V(3,15,0,F,0), ABIGATE_PROFILE_FREETHREADED | ABIGATE_PROFILE_DEBUG,
     "cpython-315td-", ".cpython-315td-", 4},
    {"3.11.2", ABIGATE_OK, V(3,11,2,F,0), 0, "cpython-311-", ".cpython-311-", 3},
    {"3.15.0b1", ABIGATE_OK, V(3,15,0,0xb,1), 0, "cpython-315-", ".cpython-315-", 4},
    {"3.14.0rc2", ABIGATE_OK, V(3,14,0,0xc,2), 0, "cpython-314-", ".cpython-314-", 3},
    {"3.15.0a7t", ABIGATE_OK, V(3,15,0,0xa,7), ABIGATE_PROFILE_FREETHREADED, "cpython-315t-",
     ".cpython-315t-", 3},
    {"3.7", ABIGATE_OK, V(3,7,0,F,0), 0, "cpython-37m-", ".cpython-37m-", 3},
    {"3.12t", ABIGATE_E_BAD_SPEC, 0, 0, NULL, NULL, 0},
    {"3", ABIGATE_E_BAD_SPEC, 0, 0, NULL, NULL, 0},
    {"2.7", ABIGATE_E_BAD_SPEC, 0, 0, NULL, NULL, 0},
    {"3.13tt", ABIGATE_E_BAD_SPEC, 0, 0, NULL, NULL, 0},
    {"3.13x", ABIGATE_E_BAD_SPEC, 0, 0, NULL, NULL, 0},
    {"3.13.", ABIGATE_E_BAD_SPEC, 0, 0, NULL, NULL, 0},
    {"3.15.0b", ABIGATE_E_BAD_SPEC, 0, 0, NULL, NULL, 0},
    {"3.15.0b16", ABIGATE_E_BAD_SPEC, 0, 0, NULL, NULL, 0},
    {"3.256", ABIGATE_E_BAD_SPEC, 0, 0, NULL, NULL, 0},
    {"", ABIGATE_E_BAD_SPEC, 0, 0, NULL, NULL, 0},
    {" 3.13", ABIGATE_E_BAD_SPEC, 0, 0, NULL, NULL, 0},
};

START_TEST(test_spec)
{
    const struct spec_case *c = &specs[_i];
    abigate_profile p;
    abigate_error err;
    memset(&p, 0x5a, sizeof p);
    int rc = abigate_profile_parse(&p, c->spec, &err);
    ck_assert_msg(rc == c->rc, "'%s': rc %d, want %d", c->spec, rc, c->rc);
    ck_assert_int_eq(err.code, c->rc);
    if (rc != ABIGATE_OK) {
        ck_assert_int_eq(((unsigned char *)&p)[0], 0x5a); /* untouched */
        ck_assert(strstr(err.message, "3.13t") || strstr(err.message, "from 3.13"));
        return;
    }
    ck_assert_uint_eq(p.hexversion, c->hex);
    ck_assert_uint_eq(p.flags, c->flags);
    ck_assert_int_eq(p.source, ABIGATE_PROFILE_FROM_SPEC);
    ck_assert_str_eq(p.origin, c->spec);
    ck_assert_ptr_null(p.exports);
    ck_assert_msg(!strncmp(p.soabi, c->soabi, strlen(c->soabi)), "soabi %s", p.soabi);
    ck_assert_uint_eq(p.n_suffixes, c->n_suffixes);
    ck_assert(!strncmp(p.suffixes[0], c->first_suffix, strlen(c->first_suffix)));
    ck_assert_str_eq(p.suffixes[p.n_suffixes - 1], ".so");
    ck_assert_uint_eq(p.pointer_size, sizeof(void *));
}
END_TEST

/* A spec's platform part: a wheel's platform tag. */
static const struct platform_case {
    const char *spec;
    unsigned format, machine, elf_class;
    const char *multiarch, *first_suffix, *name;
    uint32_t min_os;
} platform_specs[] = {
    {"3.13t-win_amd64", ABIGATE_FORMAT_PE, 62, 64, "win_amd64", ".cp313t-win_amd64.pyd",
     "3.13.0t-win_amd64", 0},
    {"3.13d-win32", ABIGATE_FORMAT_PE, 3, 32, "win32", "_d.cp313-win32.pyd", "3.13.0d-win32", 0},
    {"3.15-win_arm64", ABIGATE_FORMAT_PE, 183, 64, "win_arm64", ".cp315-win_arm64.pyd",
     "3.15.0-win_arm64", 0},
    {"3.15-macosx_11_0_arm64", ABIGATE_FORMAT_MACHO, 183, 64, "darwin", ".cpython-315-darwin.so",
     "3.15.0-macos", 0x0b0000},
    {"3.12-macosx_10_13_x86_64", ABIGATE_FORMAT_MACHO, 62, 64, "darwin",
     ".cpython-312-darwin.so", "3.12.0-macos", 0x0a0d00},
    {"3.13-macosx_11_0_universal2", ABIGATE_FORMAT_MACHO, 0, 64, "darwin",
     ".cpython-313-darwin.so", "3.13.0-macos", 0x0b0000},
    {"3.13-manylinux_2_17_aarch64", ABIGATE_FORMAT_ELF, 183, 64, "aarch64-linux-gnu",
     ".cpython-313-aarch64-linux-gnu.so", "3.13.0", 0},
    {"3.11-linux_i686", ABIGATE_FORMAT_ELF, 3, 32, "i386-linux-gnu",
     ".cpython-311-i386-linux-gnu.so", "3.11.0", 0},
    {"3.12-musllinux_1_2_x86_64", ABIGATE_FORMAT_ELF, 62, 64, "x86_64-linux-musl",
     ".cpython-312-x86_64-linux-musl.so", "3.12.0", 0},
    {"3.13-win_amd65", 0, 0, 0, NULL, NULL, NULL, 0},
    {"3.13-macosx_11_0_ppc", 0, 0, 0, NULL, NULL, NULL, 0},
    {"3.13-", 0, 0, 0, NULL, NULL, NULL, 0},
    {"3.13-linux_mips", 0, 0, 0, NULL, NULL, NULL, 0},
};

START_TEST(test_platform_spec)
{
    const struct platform_case *c = &platform_specs[_i];
    abigate_profile p;
    abigate_error err;
    char name[64];
    int rc = abigate_profile_parse(&p, c->spec, &err);
    if (!c->multiarch) {
        ck_assert_int_eq(rc, ABIGATE_E_BAD_SPEC);
        ck_assert_msg(strstr(err.message, "unknown platform") && strstr(err.message, "win_amd64"),
                      "%s", err.message);
        return;
    }
    ck_assert_int_eq(rc, ABIGATE_OK);
    ck_assert_uint_eq(p.format, c->format);
    ck_assert_uint_eq(p.machine, c->machine);
    ck_assert_uint_eq(p.elf_class, c->elf_class);
    ck_assert_uint_eq(p.pointer_size, c->elf_class / 8);
    ck_assert_uint_eq(p.min_os, c->min_os);
    ck_assert_str_eq(p.multiarch, c->multiarch);
    ck_assert_str_eq(p.suffixes[0], c->first_suffix);
    ck_assert_str_eq(abigate_profile_name(&p, name, sizeof name), c->name);
}
END_TEST

static const struct policy_case {
    const char *text;
    int rc, mode;
    unsigned flags;
} policies[] = {
    {"off", ABIGATE_OK, OFF, 0},
    {"warn", ABIGATE_OK, WARN, 0},
    {"strict", ABIGATE_OK, STRICT, 0},
    {"require", ABIGATE_OK, REQUIRE, 0},
    {"warn,trace", ABIGATE_OK, WARN, ABIGATE_POLICY_TRACE},
    {"trace", ABIGATE_OK, STRICT, ABIGATE_POLICY_TRACE},
    {"trace,require", ABIGATE_OK, REQUIRE, ABIGATE_POLICY_TRACE},
    {"", ABIGATE_E_BAD_MODE, 0, 0},
    {"strict,", ABIGATE_E_BAD_MODE, 0, 0},
    {"strict,warn", ABIGATE_E_BAD_MODE, 0, 0},
    {"trace,trace", ABIGATE_E_BAD_MODE, 0, 0},
    {"STRICT", ABIGATE_E_BAD_MODE, 0, 0},
    {"on", ABIGATE_E_BAD_MODE, 0, 0},
};

START_TEST(test_policy_parse)
{
    const struct policy_case *c = &policies[_i];
    abigate_policy pol = {99, 99};
    abigate_error err;
    ck_assert_int_eq(abigate_policy_parse(c->text, &pol, &err), c->rc);
    if (c->rc) {
        ck_assert_int_eq(pol.mode, 99);
        ck_assert(strstr(err.message, "want off, warn, strict or require"));
    } else {
        ck_assert_int_eq(pol.mode, c->mode);
        ck_assert_uint_eq(pol.flags, c->flags);
    }
}
END_TEST

START_TEST(test_stable_abi_table)
{
    const abigate_stable_symbol *e = abigate_stable_abi_lookup("PyType_FromMetaclass");
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->added, V(3,12,0,0,0));
    ck_assert_int_eq(e->kind, 'f');
    ck_assert_ptr_nonnull(e = abigate_stable_abi_lookup("PyLong_FromLong"));
    ck_assert_uint_eq(e->added, V(3,2,0,0,0));
    ck_assert_ptr_nonnull(e = abigate_stable_abi_lookup("_Py_NegativeRefcount"));
    ck_assert_int_eq(e->ref_debug_only, 1);
    ck_assert_ptr_nonnull(e = abigate_stable_abi_lookup("PyExc_TypeError"));
    ck_assert_int_eq(e->kind, 'd');
    ck_assert_ptr_null(abigate_stable_abi_lookup("_PyUnicode_Ready"));
    ck_assert_ptr_null(abigate_stable_abi_lookup("PyErr_SetFromWindowsErr")); /* MS_WINDOWS */
    ck_assert_ptr_null(abigate_stable_abi_lookup(""));
    ck_assert_ptr_null(abigate_stable_abi_lookup(NULL));
    ck_assert_uint_eq(abigate_stable_abi_version() >> 16, 0x030d);
}
END_TEST

START_TEST(test_symbols_lookup)
{
    fill_symbols(&exports, "Py_c,Py_a,_Py_b,Py_d");
    ck_assert_int_eq(abigate_symbols_contains(&exports, "_Py_b"), 1); /* linear */
    abigate_symbols_index(&exports); /* hashed, order kept */
    ck_assert_uint_eq(exports.indexed, 1);
    ck_assert_uint_eq(exports.sorted, 0);
    ck_assert_str_eq(abigate_symbols_name(&exports, 0), "Py_c");
    ck_assert_str_eq(abigate_symbols_name(&exports, 3), "Py_d");
    for (unsigned i = 0; i < exports.count; i++)
        ck_assert_int_eq(abigate_symbols_contains(&exports, abigate_symbols_name(&exports, i)), 1);
    ck_assert_int_eq(abigate_symbols_contains(&exports, "Py_e"), 0);
    abigate_symbols_sort(&exports); /* reordered: the index keeps pool offsets, still valid */
    ck_assert_str_eq(abigate_symbols_name(&exports, 0), "Py_a");
    ck_assert_str_eq(abigate_symbols_name(&exports, 3), "_Py_b");
    for (unsigned i = 0; i < exports.count; i++)
        ck_assert_int_eq(abigate_symbols_contains(&exports, abigate_symbols_name(&exports, i)), 1);
    ck_assert_int_eq(abigate_symbols_contains(&exports, "Py_"), 0);
    ck_assert_int_eq(abigate_symbols_contains(&exports, "Py_e"), 0);
    ck_assert_int_eq(abigate_symbols_contains(&exports, NULL), 0);
}
END_TEST

Suite *make_decide_suite(void)
{
    Suite *s = suite_create("decide");
    TCase *tc = tcase_create("rules");
    tcase_add_loop_test(tc, test_rule, 0, (int)(sizeof rows / sizeof rows[0]));
    tcase_add_loop_test(tc, test_quiet, 0, (int)(sizeof rows / sizeof rows[0]));
    tcase_add_test(tc, test_every_reason_covered);
    tcase_add_loop_test(tc, test_modes, 0, (int)(sizeof mode_cases / sizeof mode_cases[0]) * 4);
    tcase_add_test(tc, test_abiinfo_major);
    tcase_add_test(tc, test_invalid_arguments);
    suite_add_tcase(s, tc);
    TCase *tp = tcase_create("profiles");
    tcase_add_loop_test(tp, test_spec, 0, (int)(sizeof specs / sizeof specs[0]));
    tcase_add_loop_test(tp, test_platform_spec, 0,
                        (int)(sizeof platform_specs / sizeof platform_specs[0]));
    tcase_add_loop_test(tp, test_policy_parse, 0, (int)(sizeof policies / sizeof policies[0]));
    tcase_add_test(tp, test_stable_abi_table);
    tcase_add_test(tp, test_symbols_lookup);
    suite_add_tcase(s, tp);
    return s;
}
