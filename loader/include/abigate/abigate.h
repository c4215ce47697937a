/* abigate.h -- the installed API of libabigate.
 *
 * libabigate reads the ABI record that <abigate/slot.h> bakes into a CPython
 * extension module (an ELF note, see docs/FORMAT.md), and the facts that can
 * be read from a file that carries no record, without ever executing the
 * file: every byte comes from bounded pread() calls (or from a caller's
 * buffer or read callback), and every offset and size is checked first.
 *
 * Conventions for every function here:
 *  - Returns ABIGATE_OK (0) or a negative enum abigate_code.
 *  - `err` is optional (may be NULL).  When given, it is always filled: with
 *    the code, a formatted message, and the file offset where parsing stopped
 *    (-1 when no offset applies).
 *  - Out-parameters are written only on success; on failure they keep the
 *    contents they had (except the scratch symbol buffer, see abigate_symbols).
 *  - The library keeps no global state, never prints and never exits; every
 *    function is safe to call from several threads on different objects.
 */
#ifndef ABIGATE_H
#define ABIGATE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABIGATE_API marks the exported names.  A build that links libabigate's
 * sources privately into one module (setup.py's _abigate) predefines it
 * empty, so that with -fvisibility=hidden the module exports only its own
 * init function. */
#ifndef ABIGATE_API
#if defined(__GNUC__) && defined(ABIGATE_BUILDING_LIBRARY)
#define ABIGATE_API __attribute__((visibility("default")))
#else
#define ABIGATE_API
#endif
#endif

#include "abigate/version.h" /* generated: ABIGATE_VERSION_STRING, ABIGATE_VERSION_NUMBER */

/* The version of the library actually loaded (ABIGATE_VERSION_STRING is
 * the headers' a program was compiled with): static, never NULL. */
ABIGATE_API const char *abigate_version(void);

/* ---------------------------------------------------------------- errors
 *
 * One convention throughout:
 *   - A function that can fail returns an int: ABIGATE_OK (0), or a
 *     negative code of the table below, and fills `err` (when not NULL)
 *     with that code, the file offset where reading stopped (-1: none) and
 *     a message.
 *   - A function that judges returns the verdict's kind (ABIGATE_ACCEPT,
 *     _ADAPT, _REFUSE: >= 0) where others return ABIGATE_OK; a refusal is a
 *     verdict, not an error.
 *   - A function that makes an object, or loads a file, returns it, or
 *     NULL with `err` filled: abigate_gate_dlopen's refusal is
 *     ABIGATE_E_REFUSED (its verdict says why).
 *   - A pure function whose only failure is a bad argument (a NULL, an
 *     index out of range) takes no `err`: it returns ABIGATE_E_INVALID_ARG.
 *   - Names, counts and texts cannot fail: static strings, never NULL,
 *     unless said otherwise.
 * `err` may always be NULL.
 *
 * Structures that grow.  abigate_file_info and abigate_verdict are read
 * field by field by every caller, so they stay visible; a later version may
 * append fields to them.  Every function that takes one is a macro over a
 * sized entry point (NAME_: zlib's inflateInit_ handshake) that passes the
 * caller's sizeof: the library fills only what the caller's structure
 * holds, zeroes what a newer caller's has beyond its own, and refuses one
 * smaller than the first published (ABIGATE_E_INVALID_ARG).  Objects whose
 * contents may change otherwise (the symbol buffer, the gate, an archive)
 * are opaque and made by the library.  Call the macros, never NAME_. */

enum abigate_code {
#define X(name, value, message) name = value,
#include "errors.h"
#undef X
    ABIGATE__CODE_END_ = -1000 /* not a code; keeps the enum well-formed */
};

/* Bytes reserved for a formatted error message, terminating NUL included. */
#define ABIGATE_ERROR_MESSAGE_MAX 256

typedef struct abigate_error {
    int code;            /* enum abigate_code */
    int64_t offset;      /* file offset where parsing stopped, -1 if none */
    char message[ABIGATE_ERROR_MESSAGE_MAX];
} abigate_error;

/* A static, never-NULL description of `code` ("unknown error code" for
 * values outside the table).  Valid for the life of the process. */
ABIGATE_API const char *abigate_strerror(int code);

/* The symbolic name of `code`, e.g. "ABIGATE_E_NOT_ELF"; static, never NULL. */
ABIGATE_API const char *abigate_code_name(int code);

/* ---------------------------------------------------------------- record */

/* Note owner and type (docs/FORMAT.md, "The note"). */
#define ABIGATE_NOTE_NAME "abigate"
#define ABIGATE_NOTE_TYPE_RECORD 0x41424931u /* "ABI1" read as a big-endian u32 */

/* Record version this library writes, and the highest major it reads. */
#define ABIGATE_RECORD_MAJOR 1
#define ABIGATE_RECORD_MINOR 0
/* Size of a version 1.0 descriptor; later minors may append fields. */
#define ABIGATE_RECORD_SIZE_1_0 40
/* Largest descriptor the reader accepts (any minor). */
#define ABIGATE_RECORD_MAX_SIZE 1024

/* PyABIInfo flags, identical to CPython 3.15's Include/modsupport.h. */
#define ABIGATE_ABIINFO_STABLE       0x0001u
#define ABIGATE_ABIINFO_GIL          0x0002u
#define ABIGATE_ABIINFO_FREETHREADED 0x0004u
#define ABIGATE_ABIINFO_INTERNAL     0x0008u
#define ABIGATE_ABIINFO_AGNOSTIC     (ABIGATE_ABIINFO_GIL | ABIGATE_ABIINFO_FREETHREADED)
#define ABIGATE_ABIINFO_KNOWN        0x000fu

/* abigate's own build flags (the record's `flags` word). */
#define ABIGATE_REC_LIMITED_API     0x0001u /* Py_LIMITED_API was defined */
#define ABIGATE_REC_GIL_DISABLED    0x0002u /* Py_GIL_DISABLED was defined */
#define ABIGATE_REC_OPAQUE_PYOBJECT 0x0004u /* _Py_OPAQUE_PYOBJECT was defined */
#define ABIGATE_REC_TARGET_ABI3T    0x0008u /* Py_TARGET_ABI3T was defined */
#define ABIGATE_REC_PY_DEBUG        0x0010u /* Py_DEBUG was defined */
#define ABIGATE_REC_TRACE_REFS      0x0020u /* Py_TRACE_REFS was defined */
#define ABIGATE_REC_BUILD_CORE      0x0040u /* Py_BUILD_CORE was defined */
#define ABIGATE_REC_HOOK_PYINIT     0x0100u /* author: exports PyInit_<name> */
#define ABIGATE_REC_HOOK_MODEXPORT  0x0200u /* author: exports PyModExport_<name> */
#define ABIGATE_REC_KNOWN_1_0       0x037fu
/* Record 1.1 (docs/FORMAT.md): */
#define ABIGATE_REC_UNIVERSAL       0x0400u /* <abigate/universal.h>: an abi3t module whose
                                             * PyInit_ serves 3.12 to 3.14 (GIL and
                                             * free-threaded) from its PyModExport_ */
#define ABIGATE_REC_KNOWN_1_1       0x077fu

/* The 12-byte block that is byte-compatible with CPython 3.15's PyABIInfo. */
typedef struct abigate_abiinfo {
    uint8_t major;          /* 1 */
    uint8_t minor;          /* 0 */
    uint16_t flags;         /* ABIGATE_ABIINFO_* */
    uint32_t build_version; /* PY_VERSION_HEX of the headers, release level included */
    uint32_t abi_version;   /* stable: the Py_LIMITED_API floor; else PY_VERSION_HEX */
} abigate_abiinfo;

/* A decoded record (docs/FORMAT.md, "Descriptor"). */
typedef struct abigate_record {
    uint8_t major, minor;   /* record version */
    uint16_t size;          /* descriptor size as written */
    abigate_abiinfo abiinfo;
    uint32_t limited_api;   /* raw Py_LIMITED_API value, 0 when undefined */
    uint32_t target_abi3t;  /* raw Py_TARGET_ABI3T value, 0 when undefined */
    uint32_t flags;         /* ABIGATE_REC_* */
    uint8_t pointer_size;   /* sizeof(void *) of the build, in bytes */
} abigate_record;

/* The words for a file's record (abigate_file_info): its state, "absent",
 * "present", "unsupported" or "conflict"; and where it was found, "none",
 * "PT_NOTE", "section" or "PyABIInfo" (the native record).  Static, never
 * NULL ("unknown" outside the enums). */
ABIGATE_API const char *abigate_record_state_name(int state);
ABIGATE_API const char *abigate_record_via_name(int via);

/* Decode a record descriptor (`desc`, `len` bytes, multi-byte fields in the
 * given byte order: big_endian 0 or 1).  Returns ABIGATE_OK, or
 * ABIGATE_E_RECORD_TRUNCATED / _TOO_BIG / _MAGIC / _MAJOR / _SIZE /
 * _RESERVED / _ABIINFO.  A higher minor version is accepted: the fields this
 * library does not know are ignored and `out->minor` tells what was read. */
ABIGATE_API int abigate_record_decode(const void *desc, size_t len, int big_endian,
                                      abigate_record *out, abigate_error *err);

/* Encode `rec` as a version 1.0 descriptor into `buf` (at least
 * ABIGATE_RECORD_SIZE_1_0 bytes).  rec->major/minor/size are ignored (1, 0
 * and 40 are written).  Returns ABIGATE_RECORD_SIZE_1_0, or
 * ABIGATE_E_INVALID_ARG when `buf` is too small or `rec` has bits set
 * outside the 1.0 masks. */
ABIGATE_API int abigate_record_encode(const abigate_record *rec, int big_endian,
                                      void *buf, size_t len);

/* ---------------------------------------------------------------- file-name tag */

enum abigate_tag_kind {
    ABIGATE_TAG_NONE = 0,    /* not an extension file name (no .so) */
    ABIGATE_TAG_BARE,        /* name.so: loads in any CPython 3 */
    ABIGATE_TAG_CPYTHON,     /* name.cpython-313t-x86_64-linux-gnu.so */
    ABIGATE_TAG_ABI3,        /* name.abi3.so, name.abi3-x86_64-linux-gnu.so */
    ABIGATE_TAG_ABI3T,       /* name.abi3t.so, name.abi3t-x86_64-linux-gnu.so */
    ABIGATE_TAG_OTHER        /* another implementation, e.g. pypy39-pp73-... */
};

#define ABIGATE_TAG_TEXT_MAX 96

typedef struct abigate_tag {
    int kind;                            /* enum abigate_tag_kind */
    char module[ABIGATE_TAG_TEXT_MAX];   /* text before the first '.' (clamped) */
    char tag[ABIGATE_TAG_TEXT_MAX];      /* text between module and ".so" */
    char platform[ABIGATE_TAG_TEXT_MAX]; /* multiarch triplet, "" if none */
    unsigned major, minor;               /* CPYTHON only */
    unsigned free_threaded, debug, pymalloc; /* 't', 'd', 'm' ABI flags */
} abigate_tag;

/* Parse the last path component of `path`.  Never fails for a non-NULL
 * path: an unrecognised name gives ABIGATE_TAG_NONE or _OTHER.  Returns
 * ABIGATE_OK or ABIGATE_E_INVALID_ARG. */
ABIGATE_API int abigate_tag_parse(const char *path, abigate_tag *out);

/* ---------------------------------------------------------------- reading a file */

/* Injectable input: read up to `len` bytes at `offset` into `buf`; return
 * the number of bytes read (0 only at end of file) or -1 on error.  `size`
 * is the total input size.  The reader never asks for bytes at or past
 * `size`. */
typedef struct abigate_io {
    long (*read)(void *ctx, void *buf, size_t len, uint64_t offset);
    void *ctx;
    uint64_t size;
} abigate_io;

/* What to read (flags argument). */
#define ABIGATE_READ_RECORD 0x0u /* ELF identity and the record: one pread */
#define ABIGATE_READ_LEGACY 0x1u /* also hooks, DT_NEEDED, undefined Py symbols */
#define ABIGATE_READ_EXPORTS 0x2u /* as LEGACY, but `syms` receives the *defined*,
                                   * default-visibility Py symbols: what an
                                   * interpreter (libpython or executable) exports */

enum abigate_record_state {
    ABIGATE_RECORD_ABSENT = 0,   /* no record */
    ABIGATE_RECORD_PRESENT,      /* decoded into `record` */
    ABIGATE_RECORD_UNSUPPORTED,  /* major version unknown; only record.major/minor/size valid */
    ABIGATE_RECORD_CONFLICT      /* records that disagree (docs/FORMAT.md, "The native
                                  * record"): `record` is abigate's own when the file has
                                  * one, else its first PyABIInfo */
};

/* Where the record was found: abigate's note (through PT_NOTE or its
 * section), or CPython's own PyABIInfo, the value of a module's Py_mod_abi
 * slot (3.15+ headers; docs/FORMAT.md, "The native record"): then `record`
 * holds that PyABIInfo, with the build flags it implies (STABLE: LIMITED_API
 * and limited_api; free-threaded: GIL_DISABLED; agnostic stable:
 * OPAQUE_PYOBJECT; INTERNAL: BUILD_CORE) and the file's pointer size; it
 * cannot say Py_DEBUG or Py_TRACE_REFS. */
enum abigate_found_via {
    ABIGATE_VIA_NONE = 0,
    ABIGATE_VIA_PT_NOTE,
    ABIGATE_VIA_SECTION,
    ABIGATE_VIA_PYABIINFO
};

/* abigate_file_info.moddef_layout: the object header of a PyModuleDef. */
#define ABIGATE_MODDEF_GIL 1u          /* ob_refcnt, ob_type (16 bytes; 8 on 32-bit) */
#define ABIGATE_MODDEF_FREETHREADED 2u /* ob_tid ... ob_ref_shared, ob_type (32; 20) */

#define ABIGATE_NAME_MAX 128     /* stored hook / library names, NUL included */
#define ABIGATE_MAX_LIBPYTHON 4  /* DT_NEEDED libpython entries kept */
#define ABIGATE_MAX_SLICES 8     /* slices of a universal Mach-O file kept */

/* abigate_file_info.format and abigate_profile.format */
enum abigate_format {
    ABIGATE_FORMAT_ELF = 0, /* Linux and the other ELF systems */
    ABIGATE_FORMAT_PE,      /* Windows: PE32 and PE32+ */
    ABIGATE_FORMAT_MACHO    /* macOS: Mach-O, thin or universal (fat) */
};

/* Hard caps that bound the reader's work and memory whatever the file size
 * (docs/FORMAT.md, "Reader limits"). */
#define ABIGATE_MAX_PHDRS      1024
#define ABIGATE_MAX_SHDRS      16384
#define ABIGATE_MAX_NOTE_BYTES (1u << 20)
#define ABIGATE_MAX_DYN        4096
#define ABIGATE_MAX_SYMS       (1u << 20)

typedef struct abigate_file_info {
    /* ELF identity */
    unsigned elf_class;       /* 32 or 64 */
    unsigned big_endian;      /* 0 little, 1 big */
    unsigned elf_type;        /* e_type: 2 EXEC, 3 DYN, ... */
    unsigned machine;         /* e_machine: 62 x86-64, 183 AArch64, ... */
    uint64_t file_size;

    /* the record */
    int record_state;         /* enum abigate_record_state */
    int record_via;           /* enum abigate_found_via */
    uint64_t record_offset;   /* file offset of the descriptor */
    abigate_record record;

    /* legacy facts, valid when legacy_read is 1 (ABIGATE_READ_LEGACY) */
    int legacy_read;
    unsigned n_pyinit, n_modexport;          /* defined PyInit_* (and PyInitU_*) / PyModExport_* */
    char pyinit[ABIGATE_NAME_MAX];           /* first PyInit_ name, "" if none */
    char modexport[ABIGATE_NAME_MAX];        /* first PyModExport_ name */
    unsigned n_needed;                       /* all DT_NEEDED entries */
    unsigned n_libpython;                    /* DT_NEEDED entries naming libpython */
    char libpython[ABIGATE_MAX_LIBPYTHON][ABIGATE_NAME_MAX];
    unsigned n_pysyms;                       /* undefined Py* and _Py* dynamic symbols */
    unsigned n_pysyms_weak;                  /* ... of which weak */
    unsigned n_pyexports;                    /* defined, exported Py* and _Py* symbols */

    /* from the file name given to the reader (kind NONE when none given) */
    abigate_tag tag;

    /* Appended after the first published size (a structure that grows: above). */
    /* A module slot array in CPython 3.15's numbering (PEP 820: Py_mod_create
     * 84, Py_mod_exec 85, ...), well formed, its pointers relocated, found in
     * the file's data when it has no record of its own (docs/FORMAT.md, "The
     * native record"): the ID it was found by, else 0.  Only 3.15+ headers
     * write these IDs (in a limited-API build below 3.15 they keep the old
     * ones); older interpreters reject them ("unknown slot ID 85"). */
    unsigned slot_id_315;
    /* The object header of its static PyModuleDef (PyModuleDef_HEAD_INIT,
     * its m_name the module's name: the file name's, which CPython's import
     * requires), the first found searching the data from its end:
     * ABIGATE_MODDEF_GIL or _FREETHREADED; 0 when none was found (a
     * slots-only module, no file name given, pointers not written in place,
     * or a file with a record of its own).  abigate_decide also takes both
     * bits (facts that disagree). */
    unsigned moddef_layout;
    /* The binary format: ABIGATE_FORMAT_ELF (0), _PE (Windows DLLs and
     * .pyd) or _MACHO (macOS, thin or universal).  The identity at the top
     * is given in ELF's terms whatever the format (docs/FORMAT.md, "PE and
     * Mach-O"): machine in e_machine numbering (a PE's AMD64 or a Mach-O's
     * CPU_TYPE_X86_64 is 62; 0 for one ELF has no number for), elf_class 32
     * or 64 (PE32 / PE32+, 32- / 64-bit Mach-O), elf_type 3 for a library
     * (a DLL, an MH_BUNDLE or MH_DYLIB) and 2 for a program.  For PE,
     * libpython[] holds the imported python*.dll names and n_needed counts
     * every imported DLL; for Mach-O, the LC_LOAD_DYLIB commands. */
    unsigned format;
    /* The oldest OS the file asks for: a Mach-O's minos (LC_BUILD_VERSION
     * or LC_VERSION_MIN_MACOSX, as Apple writes it: 0xXXXXYYZZ for X.Y.Z);
     * a PE's subsystem version (major << 16 | minor << 8); 0 when unknown. */
    uint32_t min_os;
    /* A universal (fat) Mach-O file: its slices, in file order, in ELF's
     * terms; the facts above are those of its first slice.  0 for a thin
     * file and the other formats. */
    unsigned n_slices;
    struct { unsigned machine, elf_class; } slice[ABIGATE_MAX_SLICES];
    /* Its static PyModuleDef (moddef_layout): the oldest CPython minor
     * version whose headers write its PyModuleDef_HEAD_INIT values,
     * moddef_minor_min (ob_refcnt 1: 0, any version; 0xffffffff: 12; 3.14's
     * immortal value: 14; free-threaded ob_flags 0: 13, 4: 14), and
     * moddef_minor_max, 255 (no newest: other producers keep older values
     * for newer versions, PyO3 writes ob_refcnt 1 for 3.15), 0 when none
     * was read.  And
     * its slots (m_slots, read in place): the highest ID of the numbering
     * before 3.15 there, slot_id_old (3 Py_mod_multiple_interpreters:
     * 3.12+; 4 Py_mod_gil: 3.13+; 0 none; 5: a slot array anywhere in the
     * data uses the numbering of 3.15's alphas, Py_mod_abi = 5, which no
     * release loads), and an ID of 3.15's numbering in
     * slot_id_315 (any of them, 86 Py_mod_multiple_interpreters say). */
    unsigned moddef_minor_min, moddef_minor_max;
    unsigned slot_id_old;
} abigate_file_info;

/* Optional scratch buffer receiving the names of the undefined Py symbols.
 * Bounded: at most ABIGATE_SYMBOLS_MAX names in ABIGATE_SYMBOLS_POOL bytes;
 * abigate_symbols_truncated is 1 when more existed (n_pysyms still counts
 * them all).  Contents are unspecified after a failed read.  Names stay
 * valid until the buffer is reused.  Opaque: made by abigate_symbols_new,
 * read through the functions below, so that it may change in a later
 * version without breaking a caller. */
#define ABIGATE_SYMBOLS_MAX  8192
#define ABIGATE_SYMBOLS_POOL (256u * 1024u)
typedef struct abigate_symbols abigate_symbols;

/* A symbol buffer on the heap (about 480 KiB), empty; NULL without memory.
 * abigate_symbols_free(NULL) does nothing.  The gate (below) keeps its own
 * buffers: its users need none. */
ABIGATE_API abigate_symbols *abigate_symbols_new(void);
ABIGATE_API void abigate_symbols_free(abigate_symbols *syms);

/* How many names it holds, whether more were met than it could hold, and
 * whether name `i` was a weak reference (0 out of range). */
ABIGATE_API unsigned abigate_symbols_count(const abigate_symbols *syms);
ABIGATE_API int abigate_symbols_truncated(const abigate_symbols *syms);
ABIGATE_API int abigate_symbols_weak(const abigate_symbols *syms, unsigned i);

/* Name of symbol `i` (< abigate_symbols_count); NULL when out of range. */
ABIGATE_API const char *abigate_symbols_name(const abigate_symbols *syms, unsigned i);

/* Build a hash index, so that lookups cost one hash and about one
 * comparison (abigate_decide looks up every import).  The order is kept. */
ABIGATE_API void abigate_symbols_index(abigate_symbols *syms);

/* Sort the names (byte order), then index them: for listings.  Lookups do
 * not need the order, and sorting an interpreter's exports costs several
 * times what indexing them does. */
ABIGATE_API void abigate_symbols_sort(abigate_symbols *syms);

/* 1 when `name` is in `syms`, else 0 (hashed once indexed, linear before). */
ABIGATE_API int abigate_symbols_contains(const abigate_symbols *syms, const char *name);

/* Read a file by path.  Opens with O_RDONLY|O_CLOEXEC|O_NONBLOCK (a FIFO
 * never blocks), refuses anything that is not a regular file
 * (ABIGATE_E_IS_DIRECTORY, ABIGATE_E_NOT_REGULAR), reads with pread only,
 * and closes before returning.  The tag is parsed from `path`.
 * `syms` may be NULL.  Returns ABIGATE_OK or a negative code. */
ABIGATE_API int abigate_read_path_(const char *path, unsigned flags, abigate_file_info *info,
                                   size_t info_size, abigate_symbols *syms, abigate_error *err);
#define abigate_read_path(path, flags, info, syms, err) \
    abigate_read_path_((path), (flags), (info), sizeof(abigate_file_info), (syms), (err))

/* Same, from an open descriptor (not closed, file position untouched).
 * `name` (may be NULL) is used only for the file-name tag.  The first read
 * asks for 16 KiB: a shorter answer is taken as the whole file and costs no
 * fstat.  When it fills the buffer, the file is read on without its size,
 * which fstat gives when a range past the head is first checked or at the
 * end, unless the read of the section headers ended the file (docs/FORMAT.md,
 * "Reader limits").  fstat is also asked when the first read fails or what
 * was read does not parse, and the file is then read again with its size
 * known (a device that answers a short read with a whole valid ELF image is
 * judged by that image). */
ABIGATE_API int abigate_read_fd_(int fd, const char *name, unsigned flags, abigate_file_info *info,
                                 size_t info_size, abigate_symbols *syms, abigate_error *err);
#define abigate_read_fd(fd, name, flags, info, syms, err) \
    abigate_read_fd_((fd), (name), (flags), (info), sizeof(abigate_file_info), (syms), (err))

/* Same, from memory.  The buffer is not retained. */
ABIGATE_API int abigate_read_buffer_(const void *buf, size_t len, const char *name, unsigned flags,
                                     abigate_file_info *info, size_t info_size,
                                     abigate_symbols *syms, abigate_error *err);
#define abigate_read_buffer(buf, len, name, flags, info, syms, err) \
    abigate_read_buffer_((buf), (len), (name), (flags), (info), sizeof(abigate_file_info), \
                         (syms), (err))

/* Same, from a caller-supplied reader (tests, archives). */
ABIGATE_API int abigate_read_io_(const abigate_io *io, const char *name, unsigned flags,
                                 abigate_file_info *info, size_t info_size, abigate_symbols *syms,
                                 abigate_error *err);
#define abigate_read_io(io, name, flags, info, syms, err) \
    abigate_read_io_((io), (name), (flags), (info), sizeof(abigate_file_info), (syms), (err))

/* Human name of an ELF e_machine value ("x86-64", "AArch64", ...), or NULL. */
ABIGATE_API const char *abigate_machine_name(unsigned machine);

/* Format `hex` (a PY_VERSION_HEX) as "3.13.1", "3.15.0b2", "3.14.0rc1"
 * into buf (at least 24 bytes).  Returns buf. */
ABIGATE_API char *abigate_format_version(uint32_t hex, char *buf, size_t len);

/* ---------------------------------------------------------------- zip archives (wheels)
 *
 * A wheel is judged in place: abigate_zip_open_* checks the whole archive
 * structure before any member is read, and abigate_zip_read_member reads
 * one member as abigate_read_io reads a file (the same ELF reader), STORED
 * members by pread, DEFLATE ones inflated on demand, only as far as the
 * reader asks: the record costs the first few KiB of output.
 *
 * What open checks (anything else is refused with its ABIGATE_E_ZIP_* code,
 * the member's name and the archive offset):
 *  - exactly one end-of-central-directory record, found by a backwards scan
 *    of at most 64 KiB + 22 bytes: the one whose comment ends the file;
 *  - ZIP64: the locator, and the record it points to ending where the
 *    locator starts, agreeing with every field the 32-bit record does not
 *    saturate; one disk only;
 *  - the central directory ends where the end records start, holds exactly
 *    the entries they count, and every header fits inside it;
 *  - names: not empty, not absolute, no "..", no backslash, no NUL, at most
 *    ABIGATE_ZIP_NAME_MAX bytes, no name twice;
 *  - methods STORED and DEFLATE only, nothing encrypted;
 *  - each local header agrees with its central entry (signature, method,
 *    name, and CRC and sizes unless a data descriptor follows);
 *  - no byte belongs to two members (local header to end of data), and no
 *    member's data runs into the central directory: the check that stops
 *    "overlapping entry" zip bombs.
 * Memory: the central directory (at most ABIGATE_ZIP_MAX_CENTRAL bytes) while
 * open; about 120 KiB per member read, whatever its size or compression
 * ratio.  Work: each member read inflates at most ABIGATE_ZIP_MAX_INFLATE
 * bytes, and all the reads of one open archive together (every member,
 * every thread) at most its budget: ABIGATE_ZIP_INFLATE_RATIO times the
 * archive's size, at least ABIGATE_ZIP_INFLATE_FLOOR and at most
 * ABIGATE_ZIP_MAX_INFLATE_ARCHIVE bytes.  A read past either fails with
 * ABIGATE_E_ZIP_TOO_BIG; what the archive's budget has refused stays
 * refused until it is opened again.  An abigate_zip may be read from
 * several threads at once (reads are preads; each member read has its own
 * state). */
#define ABIGATE_ZIP_MAX_ENTRIES 200000u
#define ABIGATE_ZIP_MAX_CENTRAL (64u << 20)
#define ABIGATE_ZIP_NAME_MAX 4096u
#define ABIGATE_ZIP_MAX_INFLATE ((uint64_t)8 << 30)
#define ABIGATE_ZIP_INFLATE_RATIO 64u
#define ABIGATE_ZIP_INFLATE_FLOOR ((uint64_t)1 << 30)
#define ABIGATE_ZIP_MAX_INFLATE_ARCHIVE ((uint64_t)16 << 30)

typedef struct abigate_zip abigate_zip;

typedef struct abigate_zip_entry {
    const char *name;         /* valid until abigate_zip_close */
    unsigned method;          /* 0 STORED, 8 DEFLATE */
    uint32_t crc32;
    uint64_t compressed_size;
    uint64_t size;            /* uncompressed, as the central directory declares */
    uint64_t offset;          /* of the local header */
} abigate_zip_entry;

/* Open and check an archive.  _path opens O_RDONLY|O_CLOEXEC|O_NONBLOCK and
 * closes at abigate_zip_close; _fd reads `fd` with pread only and leaves it
 * open.  On success *out is a new archive; on failure *out is untouched. */
ABIGATE_API int abigate_zip_open_path(const char *path, abigate_zip **out, abigate_error *err);
ABIGATE_API int abigate_zip_open_fd(int fd, abigate_zip **out, abigate_error *err);
ABIGATE_API void abigate_zip_close(abigate_zip *z); /* NULL: nothing */

/* The number of members, and member `i` (central directory order). */
ABIGATE_API size_t abigate_zip_count(const abigate_zip *z);
ABIGATE_API int abigate_zip_entry_get(const abigate_zip *z, size_t i, abigate_zip_entry *out);

/* 1 when member `i` is an extension candidate: its name ends in ".so" or
 * ".pyd", or its first bytes are the ELF or a Mach-O magic, or the "MZ" of
 * a ".dll" (a vendored library, in any format); else 0.  A member a wheel
 * installs outside the import path ("<dist>.data/scripts/", "headers/",
 * "data/": a native tool's program, say) is not one.  A negative code
 * (ABIGATE_E_NOMEM, ABIGATE_E_IO) when its first bytes could not be read:
 * a caller should judge it then, and the read says why. */
ABIGATE_API int abigate_zip_member_is_elf(const abigate_zip *z, size_t i);

/* Read member `i` as abigate_read_io reads a file (flags, info, syms as
 * there; the tag is parsed from the member's name). */
ABIGATE_API int abigate_zip_read_member_(const abigate_zip *z, size_t i, unsigned flags,
                                         abigate_file_info *info, size_t info_size,
                                         abigate_symbols *syms, abigate_error *err);
#define abigate_zip_read_member(z, i, flags, info, syms, err) \
    abigate_zip_read_member_((z), (i), (flags), (info), sizeof(abigate_file_info), (syms), (err))

/* Read member `i` whole into buf[cap] (a small member, e.g. a wheel's
 * .dist-info/WHEEL), checking its CRC-32; *len receives its size.
 * ABIGATE_E_ZIP_TOO_BIG when it declares more than `cap` bytes. */
ABIGATE_API int abigate_zip_read_small(const abigate_zip *z, size_t i, void *buf, size_t cap,
                                       size_t *len, abigate_error *err);

/* ---------------------------------------------------------------- interpreter profiles */

/* What a running (or targeted) interpreter is, for abigate_decide. */
#define ABIGATE_PROFILE_FREETHREADED 0x1u /* Py_GIL_DISABLED */
#define ABIGATE_PROFILE_DEBUG        0x2u /* Py_DEBUG */
#define ABIGATE_PROFILE_TRACE_REFS   0x4u /* Py_TRACE_REFS */
#define ABIGATE_PROFILE_KNOWN        0x7u

enum abigate_profile_source {
    ABIGATE_PROFILE_FROM_SPEC = 1, /* a spec string: "3.13t", "3.15.0b1" */
    ABIGATE_PROFILE_FROM_PYTHON,   /* an interpreter on disk, asked once */
    ABIGATE_PROFILE_FROM_PROCESS,  /* the interpreter this process runs */
    ABIGATE_PROFILE_FROM_BUILD     /* abigate_profile_init by a caller */
};

#define ABIGATE_PROFILE_MAX_SUFFIXES 8
#define ABIGATE_PROFILE_TEXT_MAX 96
#define ABIGATE_PROFILE_PATH_MAX 512

/* A structure that grows (the errors section): the functions taking one
 * pass the caller's sizeof.  `exports` is borrowed by the profile; a gate
 * made from it copies them. */
typedef struct abigate_profile {
    uint32_t hexversion;   /* full PY_VERSION_HEX, release level included */
    unsigned flags;        /* ABIGATE_PROFILE_* */
    unsigned pointer_size; /* sizeof(void *) in bytes */
    unsigned elf_class;    /* 32 or 64 */
    unsigned big_endian;
    unsigned machine;      /* ELF e_machine */
    char soabi[ABIGATE_PROFILE_TEXT_MAX];     /* "cpython-313t-x86_64-linux-gnu" */
    char multiarch[ABIGATE_PROFILE_TEXT_MAX]; /* "x86_64-linux-gnu", "" unknown */
    unsigned n_suffixes;   /* importlib.machinery.EXTENSION_SUFFIXES, in order */
    char suffixes[ABIGATE_PROFILE_MAX_SUFFIXES][ABIGATE_PROFILE_TEXT_MAX];
    int source;            /* enum abigate_profile_source */
    char origin[ABIGATE_PROFILE_PATH_MAX];       /* spec text or interpreter path */
    char exports_path[ABIGATE_PROFILE_PATH_MAX]; /* file the exports came from, "" */
    /* The Py symbols this interpreter exports (indexed), or NULL: unknown, in
     * which case no symbol evidence is used.  Not owned by the profile. */
    const abigate_symbols *exports;
    /* Appended after the first published size.  The binary format of the
     * interpreter's platform (enum abigate_format): ELF for the running
     * one; a spec's platform part may name another ("3.13t-win_amd64",
     * "3.15-macosx_11_0_arm64"); multiarch then holds that platform tag. */
    unsigned format;
    /* The oldest OS version its platform part names (macOS: major << 16 |
     * minor << 8, as a Mach-O's minos), 0 when none: a file asking for a
     * newer one is refused (ABIGATE_R_MIN_OS). */
    uint32_t min_os;
} abigate_profile;

/* Fill `p` for CPython `hexversion` with ABIGATE_PROFILE_* `flags` on the
 * machine libabigate was built for: pointer size, ELF class, byte order,
 * machine, multiarch, SOABI and the extension suffixes CPython of that
 * version uses.  exports = NULL, source = ABIGATE_PROFILE_FROM_BUILD.
 * Returns ABIGATE_OK or ABIGATE_E_INVALID_ARG. */
ABIGATE_API int abigate_profile_init_(abigate_profile *p, size_t p_size, uint32_t hexversion,
                                      unsigned flags);
#define abigate_profile_init(p, hexversion, flags) \
    abigate_profile_init_((p), sizeof(abigate_profile), (hexversion), (flags))

/* Parse a spec: MAJOR.MINOR[.MICRO[{a|b|rc}N]] followed by ABI letters
 * 't' (free-threaded) and/or 'd' (debug), e.g. "3.13", "3.13t", "3.15d",
 * "3.11.2", "3.15.0b1".  Without a micro version the profile is MAJOR.MINOR.0
 * final.  Returns ABIGATE_OK or ABIGATE_E_BAD_SPEC (`p` untouched). */
ABIGATE_API int abigate_profile_parse_(abigate_profile *p, size_t p_size, const char *spec,
                                       abigate_error *err);
#define abigate_profile_parse(p, spec, err) \
    abigate_profile_parse_((p), sizeof(abigate_profile), (spec), (err))

/* Profile the interpreter this process runs (code linked into or loaded by
 * CPython): the runtime version from Py_Version (3.11+) or Py_GetVersion(),
 * found with dlsym; the build flags and the exports from the ELF file that
 * defines them (libpython or the executable), read with the bounded reader.
 * `exports` receives the export list (indexed, in file order) and is
 * linked from the profile; when it is NULL only the version is learned
 * (flags stay 0).  Returns ABIGATE_OK, ABIGATE_E_NO_INTERPRETER when no
 * CPython is in the process, or a read error. */
ABIGATE_API int abigate_profile_from_process_(abigate_profile *p, size_t p_size,
                                              abigate_symbols *exports, abigate_error *err);
#define abigate_profile_from_process(p, exports, err) \
    abigate_profile_from_process_((p), sizeof(abigate_profile), (exports), (err))

/* Read the exports of an interpreter's libpython or executable `path` into
 * `exports` (indexed) and link them from `p` (exports_path is set).  When
 * `derive_flags` is 1, the free-threaded / debug / trace-refs flags are
 * set from symbols only such builds export.  Returns ABIGATE_OK or a read
 * error; ABIGATE_E_NOT_INTERPRETER when the file exports no Py_Initialize. */
ABIGATE_API int abigate_profile_load_exports_(abigate_profile *p, size_t p_size, const char *path,
                                              int derive_flags, abigate_symbols *exports,
                                              abigate_error *err);
#define abigate_profile_load_exports(p, path, derive_flags, exports, err) \
    abigate_profile_load_exports_((p), sizeof(abigate_profile), (path), (derive_flags), \
                                  (exports), (err))

/* Short name of the profile, like a spec: "3.13.15t", "3.15.2d". */
ABIGATE_API char *abigate_profile_name_(const abigate_profile *p, size_t p_size, char *buf,
                                        size_t len);
#define abigate_profile_name(p, buf, len) \
    abigate_profile_name_((p), sizeof(abigate_profile), (buf), (len))

/* ---------------------------------------------------------------- the decision */

enum abigate_mode {
    ABIGATE_MODE_OFF = 0, /* nothing is checked */
    ABIGATE_MODE_WARN,    /* everything loads; mismatches are reported */
    ABIGATE_MODE_STRICT,  /* proven mismatches are refused; unknown files load */
    ABIGATE_MODE_REQUIRE  /* as strict, and files without a record are refused */
};

#define ABIGATE_POLICY_TRACE        0x1u /* callers print every decision */
#define ABIGATE_POLICY_ADAPT_ABI3T  0x2u /* the caller can load an abi3t slots-only
                                          * module below 3.15 (import gate) */
#define ABIGATE_POLICY_QUIET        0x4u /* the caller reads the message only of a
                                          * refusal, a warning or an ADAPT: a plain
                                          * ACCEPT gets an empty one (no formatting) */

typedef struct abigate_policy {
    int mode;        /* enum abigate_mode */
    unsigned flags;  /* ABIGATE_POLICY_* */
} abigate_policy;

/* Parse "off", "warn", "strict", "require", each optionally followed by
 * ",trace" (also "trace" alone: strict with trace).  Returns ABIGATE_OK or
 * ABIGATE_E_BAD_MODE (`out` untouched). */
ABIGATE_API int abigate_policy_parse(const char *text, abigate_policy *out, abigate_error *err);

/* "off", "warn", "strict", "require"; "?" for other values. */
ABIGATE_API const char *abigate_mode_name(int mode);

enum abigate_verdict_kind {
    ABIGATE_ACCEPT = 0, /* load it */
    ABIGATE_ADAPT,      /* load it, the way `adapt` says */
    ABIGATE_REFUSE      /* do not load it: `reason` and `message` say why */
};

enum abigate_adapt_kind {
    ABIGATE_ADAPT_NONE = 0,
    ABIGATE_ADAPT_ABI3T_BACKPORT /* abi3t slots-only module below 3.15 */
};

/* Why: one table (abigate-reasons.h) gives the enum, abigate_reason_name
 * and the rows of docs/POLICY.md. */
enum abigate_reason {
#define X(name, value, text) name = value,
#include "reasons.h"
#undef X
    ABIGATE__REASON_END_
};

enum abigate_evidence {
    ABIGATE_EVIDENCE_NONE = 0, /* gate off */
    ABIGATE_EVIDENCE_RECORD,   /* the abigate record */
    ABIGATE_EVIDENCE_INFERRED  /* no record: file name, DT_NEEDED, symbols */
};

#define ABIGATE_VERDICT_MESSAGE_MAX 640

/* Filled by abigate_decide and the gate (never by the caller).  A structure
 * that grows (above: the functions taking it pass the caller's sizeof). */
typedef struct abigate_verdict {
    int kind;      /* enum abigate_verdict_kind */
    int adapt;     /* enum abigate_adapt_kind, when kind == ABIGATE_ADAPT */
    int reason;    /* enum abigate_reason: the rule that refused, or (warning) would have */
    int warning;   /* 1: a mismatch was found and the mode (warn) let it load */
    int evidence;  /* enum abigate_evidence */
    char message[ABIGATE_VERDICT_MESSAGE_MAX]; /* names the evidence; never empty
                                               * but for a plain ACCEPT under
                                               * ABIGATE_POLICY_QUIET */
    int error;     /* reason ABIGATE_R_UNREADABLE: the enum abigate_code that
                    * stopped the reader (ABIGATE_E_NOT_ELF, ...); else 0 */
    unsigned symbols_read; /* the gate: 1 when the file's symbol table was read */
    int reserved_[6];
} abigate_verdict;

/* The verdict for `file` (read with ABIGATE_READ_LEGACY for symbol
 * evidence; `file_syms` its imported symbols, may be NULL) on `profile`
 * under `policy`.  Pure: no I/O, no global state.  Returns the verdict kind,
 * or ABIGATE_E_INVALID_ARG (NULL arguments, unknown mode). */
ABIGATE_API int abigate_decide_(const abigate_file_info *file, size_t file_size,
                                const abigate_symbols *file_syms, const abigate_profile *profile,
                                size_t profile_size, const abigate_policy *policy,
                                abigate_verdict *out, size_t out_size);
#define abigate_decide(file, file_syms, profile, policy, out) \
    abigate_decide_((file), sizeof(abigate_file_info), (file_syms), (profile), \
                    sizeof(abigate_profile), (policy), (out), sizeof(abigate_verdict))

/* The PyABIInfo part alone, with CPython 3.15's PyABIInfo_Check semantics
 * plus abigate's stricter rules (docs/POLICY.md): ABIGATE_R_NONE when
 * compatible, else the reason. */
ABIGATE_API int abigate_decide_abiinfo_(const abigate_abiinfo *info, const abigate_profile *profile,
                                        size_t profile_size);
#define abigate_decide_abiinfo(info, profile) \
    abigate_decide_abiinfo_((info), (profile), sizeof(abigate_profile))

/* "ABIGATE_R_VERSION", ...; and a short text ("needs the same major.minor"). */
ABIGATE_API const char *abigate_reason_name(int reason);
ABIGATE_API const char *abigate_reason_text(int reason);
ABIGATE_API const char *abigate_verdict_name(int kind); /* "accept", "adapt", "refuse" */

/* ---------------------------------------------------------------- the gate
 *
 * The gate is what every caller of abigate uses to act on a file: the
 * patched interpreter, the import hook, the CLI and embedders (a program
 * that embeds CPython and loads plugin extension modules).  It owns the
 * interpreter profile and its exports, the symbol buffers and the policy;
 * it is opaque and safe to share between threads.
 *
 *   abigate_gate_config cfg;
 *   abigate_gate_config_init(&cfg);              // strict, this process
 *   abigate_gate *g = abigate_gate_new(&cfg, &err);
 *   abigate_verdict v;
 *   void *h = abigate_gate_dlopen(g, "plugins/spam.so", RTLD_NOW, NULL, &v, &err);
 *   if (!h) {   // refused (v.kind == ABIGATE_REFUSE), or the load failed
 *       char text[1024];
 *       abigate_gate_format(ABIGATE_TEXT_REFUSAL, NULL, "spam", path, &v, &err, text, sizeof text);
 *   }
 *   abigate_gate_free(g);
 *
 * abigate_gate_dlopen opens the file once, judges that descriptor, and
 * dlopen()s the same descriptor through a /proc/self/fd name no earlier
 * load used: renaming another file into place between the judgement and
 * the load changes nothing.  The process ends up with the libraries a
 * plain dlopen(path) loads, from the same directories: a file whose
 * DT_RPATH, DT_RUNPATH or DT_NEEDED use $ORIGIN (every wheel that
 * auditwheel repaired) has its libraries loaded first, by the dynamic
 * loader's own search with $ORIGIN taken from `path` (docs/PATCHED.md,
 * "The same-file load": how, and the limits).
 *
 * Files that cannot be judged (not ELF, truncated, a directory, a FIFO,
 * unopenable) get a verdict with reason ABIGATE_R_UNREADABLE and
 * verdict.error set to the reader's code: a refusal in strict and require,
 * a warning in warn (the load is then attempted, and fails with the
 * loader's own error), nothing in off (docs/POLICY.md, "Files that cannot
 * be judged").
 *
 * Record-first: a file whose record settles the verdict costs one pread;
 * its symbol table is read only when the record alone cannot rule out a
 * missing symbol (docs/POLICY.md, "Record first"). */

typedef struct abigate_gate abigate_gate;

#define ABIGATE_GATE_NO_SYMBOLS 0x1u /* never read symbol tables (no symbol evidence) */

typedef struct abigate_gate_config {
    size_t size;             /* sizeof(abigate_gate_config): abigate_gate_config_init sets it */
    abigate_policy policy;   /* the default policy of every judgement */
    unsigned flags;          /* ABIGATE_GATE_* */
    /* Interpreter facts the caller knows better than the exports tell
     * (the running interpreter's own build flags and import suffixes):
     * profile_flags is used when profile_flags_known is 1; suffixes, when
     * not NULL, is a NULL-terminated list (at most
     * ABIGATE_PROFILE_MAX_SUFFIXES are kept, copied at creation). */
    int profile_flags_known;
    unsigned profile_flags;  /* ABIGATE_PROFILE_* */
    const char *const *suffixes;
} abigate_gate_config;

/* Defaults: strict, no flags, profile from the exports, computed suffixes. */
ABIGATE_API void abigate_gate_config_init(abigate_gate_config *cfg);

#ifdef Py_PYTHON_H
/* With <Python.h> included first: the flags of those headers (the build the
 * caller is compiled for, which is the running interpreter's when the
 * caller is an extension module or an embedder) as known profile flags. */
static inline void abigate_gate_config_python(abigate_gate_config *cfg)
{
    cfg->profile_flags_known = 1;
    cfg->profile_flags = 0
#ifdef Py_GIL_DISABLED
                         | ABIGATE_PROFILE_FREETHREADED
#endif
#ifdef Py_DEBUG
                         | ABIGATE_PROFILE_DEBUG
#endif
#ifdef Py_TRACE_REFS
                         | ABIGATE_PROFILE_TRACE_REFS
#endif
        ;
}
#endif

/* A gate for the interpreter running in this process.  The profile (the
 * version, the exports) is taken at the first judgement, never when the
 * policy is off; its failure is then the judgement's error
 * (ABIGATE_E_NO_INTERPRETER when no CPython is in the process,
 * ABIGATE_E_NOMEM, which the next judgement retries).  When the
 * interpreter's exports cannot be read (its libpython replaced on disk
 * since it was mapped), the gate judges without symbol evidence.  Returns
 * NULL with `err` filled (ABIGATE_E_NOMEM, ABIGATE_E_INVALID_ARG). */
ABIGATE_API abigate_gate *abigate_gate_new(const abigate_gate_config *cfg, abigate_error *err);

/* A gate for another interpreter, for tools: `profile` is copied (from
 * abigate_profile_parse, abigate_profile_init, or a probe), and when
 * `exports_path` is not NULL the exports of that libpython or executable
 * are read now (heap-owned by the gate) and give symbol evidence; else the
 * profile's own exports, when it has them, are copied (the gate never keeps
 * the caller's buffer). */
ABIGATE_API abigate_gate *abigate_gate_new_for_(const abigate_profile *profile,
                                                size_t profile_size, const char *exports_path,
                                                const abigate_gate_config *cfg,
                                                abigate_error *err);
#define abigate_gate_new_for(profile, exports_path, cfg, err) \
    abigate_gate_new_for_((profile), sizeof(abigate_profile), (exports_path), (cfg), (err))

/* The gate's profile (taken now if not yet), or NULL with `err` filled. */
ABIGATE_API const abigate_profile *abigate_gate_profile(abigate_gate *gate, abigate_error *err);

/* Judge the file at `path` (or the open descriptor `fd`, which is neither
 * closed nor moved; `name` only gives the file-name tag) without loading
 * it, under `policy` (NULL: the gate's).  Returns the verdict kind, or a
 * negative code when the gate itself failed (the profile, memory, an
 * invalid argument): then `v` is zeroed.  A file that cannot be
 * judged is a verdict (see above), with `err` holding the reader's error. */
ABIGATE_API int abigate_gate_judge_(abigate_gate *gate, const char *path,
                                    const abigate_policy *policy, abigate_verdict *v, size_t v_size,
                                    abigate_error *err);
#define abigate_gate_judge(gate, path, policy, v, err) \
    abigate_gate_judge_((gate), (path), (policy), (v), sizeof(abigate_verdict), (err))
ABIGATE_API int abigate_gate_judge_fd_(abigate_gate *gate, int fd, const char *name,
                                       const abigate_policy *policy, abigate_verdict *v,
                                       size_t v_size, abigate_error *err);
#define abigate_gate_judge_fd(gate, fd, name, policy, v, err) \
    abigate_gate_judge_fd_((gate), (fd), (name), (policy), (v), sizeof(abigate_verdict), (err))

/* Judge member `i` of the zip archive `zip` (abigate_zip_open_*: a wheel
 * read in place) as abigate_gate_judge judges a file: the record first,
 * the member's symbols only when the record-first rule asks for them. */
ABIGATE_API int abigate_gate_judge_zip_member_(abigate_gate *gate, const abigate_zip *zip, size_t i,
                                               const abigate_policy *policy, abigate_verdict *v,
                                               size_t v_size, abigate_error *err);
#define abigate_gate_judge_zip_member(gate, zip, i, policy, v, err) \
    abigate_gate_judge_zip_member_((gate), (zip), (i), (policy), (v), sizeof(abigate_verdict), \
                                   (err))
/* The same judgement, and `facts` receives what the member was judged from:
 * its record, or, without one, its legacy facts (read in any mode but off,
 * even when the verdict needs no symbols), all through one inflation of
 * the member; what abigate_wheel_decide needs, without reading the member
 * again.  Zeroed when the member could not be read, and in mode off. */
ABIGATE_API int abigate_gate_judge_zip_member_facts_(abigate_gate *gate, const abigate_zip *zip,
                                                     size_t i, const abigate_policy *policy,
                                                     abigate_verdict *v, size_t v_size,
                                                     abigate_file_info *facts, size_t facts_size,
                                                     abigate_error *err);
#define abigate_gate_judge_zip_member_facts(gate, zip, i, policy, v, facts, err) \
    abigate_gate_judge_zip_member_facts_((gate), (zip), (i), (policy), (v), \
                                         sizeof(abigate_verdict), (facts), \
                                         sizeof(abigate_file_info), (err))

/* ---------------------------------------------------------------- wheel tags against contents
 *
 * A wheel's tags (PEP 425: python-abi-platform, from its file name and from
 * its .dist-info/WHEEL) say what its extension members are; these say
 * whether each member really is.  docs/POLICY.md, "Wheel tags against
 * contents", is the table of abigate_wheel_decide. */
#define ABIGATE_WHEEL_MAX_TAGS 64
/* A wheel's tag set (at most ABIGATE_WHEEL_MAX_TAGS tags): opaque, made by
 * the library, about 11 KiB (keep it off a thread's stack: it is on the
 * heap). */
typedef struct abigate_wheel_tags abigate_wheel_tags;
ABIGATE_API abigate_wheel_tags *abigate_wheel_tags_new(void); /* empty; NULL without memory */
ABIGATE_API void abigate_wheel_tags_free(abigate_wheel_tags *tags); /* NULL: nothing */
/* How many tags it holds; 1 when more than ABIGATE_WHEEL_MAX_TAGS were given. */
ABIGATE_API unsigned abigate_wheel_tags_count(const abigate_wheel_tags *tags);
ABIGATE_API int abigate_wheel_tags_truncated(const abigate_wheel_tags *tags);
/* Tag `i`'s parts ("cp313", "cp313t", "manylinux_2_17_x86_64"), valid while
 * the set lives; ABIGATE_E_INVALID_ARG out of range. */
ABIGATE_API int abigate_wheel_tags_get(const abigate_wheel_tags *tags, unsigned i,
                                       const char **python, const char **abi,
                                       const char **platform);

/* The name of a module slot ID of CPython 3.15's numbering (PEP 820:
 * 84 "Py_mod_create", 85 "Py_mod_exec", 86 "Py_mod_multiple_interpreters",
 * ..., 109 "Py_mod_abi"), or NULL for another number (since 0.3). */
ABIGATE_API const char *abigate_module_slot_name(unsigned id);

/* The interpreter tag `i` claims, as a spec for abigate_profile_parse:
 * cp313-cp313t-win_amd64 is "3.13t-win_amd64", cp311-abi3-macosx_11_0_arm64
 * "3.11-macosx_11_0_arm64" (the floor), cp315-abi3t-… "3.15t-…"; into buf
 * (at least 8 bytes; 64 hold any).  ABIGATE_E_BAD_SPEC when the tag claims
 * no CPython interpreter (py3-none-any, another implementation's ABI, a
 * platform abigate_profile_parse does not know); ABIGATE_E_INVALID_ARG out
 * of range.  For `abigate check --tags` (since 0.3). */
ABIGATE_API int abigate_wheel_tag_spec(const abigate_wheel_tags *tags, unsigned i, char *buf,
                                       size_t len);

/* The tags of a wheel's file name (name-version[-build]-python-abi-platform.whl,
 * compressed tag sets expanded), or of the text of its WHEEL file ("Tag:"
 * lines).  ABIGATE_E_WHEEL_NAME when malformed. */
ABIGATE_API int abigate_wheel_tags_from_filename(const char *path, abigate_wheel_tags *out,
                                                 abigate_error *err);
ABIGATE_API int abigate_wheel_tags_from_metadata(const char *text, size_t len,
                                                 abigate_wheel_tags *out, abigate_error *err);
/* The tags of the archive's *.dist-info/WHEEL (read whole, CRC-checked). */
ABIGATE_API int abigate_wheel_read_metadata(const abigate_zip *zip, abigate_wheel_tags *out,
                                            abigate_error *err);

/* What a wheel's tags say when they could not all be read: the WHEEL file
 * missing (read_rc ABIGATE_E_WHEEL_NAME with zero tags from a wheel whose
 * file name parsed, `problem` "no *.dist-info/WHEEL ..."), malformed
 * (`problem`: the reader's message), or a tag list cut at
 * ABIGATE_WHEEL_MAX_TAGS (tags->truncated).  `source` names the tag set
 * ("file name", "WHEEL").  ABIGATE_R_WHEEL_METADATA, refused in strict and
 * require (the wheel would escape its tags check), a warning in warn,
 * nothing in off; ABIGATE_R_NONE when every tag was read (read_rc
 * ABIGATE_OK, not truncated).  Pure.  Returns the verdict kind or
 * ABIGATE_E_INVALID_ARG.  docs/POLICY.md, "Wheel tags against contents". */
ABIGATE_API int abigate_wheel_tags_decide_(const abigate_wheel_tags *tags, int read_rc,
                                           const char *problem, const char *source,
                                           const abigate_policy *policy, abigate_verdict *out,
                                           size_t out_size);
#define abigate_wheel_tags_decide(tags, read_rc, problem, source, policy, out) \
    abigate_wheel_tags_decide_((tags), (read_rc), (problem), (source), (policy), (out), \
                               sizeof(abigate_verdict))

/* Does `member` (read with ABIGATE_READ_LEGACY) fit `tags`?  It does when
 * one of the tags accepts it; else the first tag's reason (ABIGATE_R_WHEEL_*)
 * and a message naming the tag (`source`: "file name", "WHEEL") and what the
 * member is.  Modes as abigate_decide's: warn accepts with a warning, off
 * checks nothing.  Pure.  Returns the verdict kind or ABIGATE_E_INVALID_ARG. */
ABIGATE_API int abigate_wheel_decide_(const abigate_wheel_tags *tags, const char *source,
                                      const abigate_file_info *member, size_t member_size,
                                      const abigate_policy *policy, abigate_verdict *out,
                                      size_t out_size);
#define abigate_wheel_decide(tags, source, member, policy, out) \
    abigate_wheel_decide_((tags), (source), (member), sizeof(abigate_file_info), (policy), (out), \
                          sizeof(abigate_verdict))

/* Open `path` (O_RDONLY|O_CLOEXEC|O_NONBLOCK), judge that descriptor under
 * `policy` (NULL: the gate's), and unless refused dlopen() that same
 * descriptor with `dlflags`, its dependencies resolved as for
 * dlopen(path, dlflags) (above); close it and return the handle.  `path`
 * should contain a '/': it is opened as open(2) opens it, never searched
 * for.  NULL with `err` filled when refused (err->code ABIGATE_E_REFUSED,
 * v->kind ABIGATE_REFUSE, v->message why), when the gate failed (any other
 * code), or when the load failed: err->code is
 * ABIGATE_E_OPEN or ABIGATE_E_DLOPEN and err->message the system's text
 * (dlerror() copied at once, the /proc/self/fd name replaced by `path`:
 * a missing library is named as a plain dlopen names it).
 *
 * Without /proc (not mounted: a chroot, a container, early boot) the
 * descriptor has no name to load it by.  In strict and require nothing is
 * loaded: NULL, ABIGATE_E_DLOPEN, a message that says so.  In warn `path`
 * is loaded if it still names the judged file, and the verdict says that
 * it was loaded by path (v->warning set).  With the policy off nothing is
 * opened or read: this is dlopen(path, dlflags). */
ABIGATE_API void *abigate_gate_dlopen_(abigate_gate *gate, const char *path, int dlflags,
                                       const abigate_policy *policy, abigate_verdict *v,
                                       size_t v_size, abigate_error *err);
#define abigate_gate_dlopen(gate, path, dlflags, policy, v, err) \
    abigate_gate_dlopen_((gate), (path), (dlflags), (policy), (v), sizeof(abigate_verdict), \
                         (err))

/* The verdict for an input that could not be read at all (`why`: the
 * reader's or the archive's error), by the table of docs/POLICY.md, "Files
 * that cannot be judged": refused in strict and require, a warning in
 * warn, "not checked (mode off)" in off; reason ABIGATE_R_UNREADABLE,
 * v->error = why->code.  What the gate gives such a file, for a caller that
 * met the failure itself (a wheel or directory it could not open).  Pure.
 * Returns the verdict kind or ABIGATE_E_INVALID_ARG. */
ABIGATE_API int abigate_verdict_unreadable_(const abigate_policy *policy, const abigate_error *why,
                                            abigate_verdict *v, size_t v_size);
#define abigate_verdict_unreadable(policy, why, v) \
    abigate_verdict_unreadable_((policy), (why), (v), sizeof(abigate_verdict))

/* Totals since the gate was made, for benchmarks and status displays: files
 * judged, symbol tables read, and the nanoseconds spent judging (reading
 * and deciding, CLOCK_MONOTONIC). */
typedef struct abigate_gate_stats {
    uint64_t judged, symbols_read, nanoseconds;
} abigate_gate_stats;
ABIGATE_API void abigate_gate_stats_get(const abigate_gate *gate, abigate_gate_stats *out);

ABIGATE_API void abigate_gate_free(abigate_gate *gate);

/* The mode in effect, resolved the way CPython resolves its options:
 * `-X abigate[=VALUE]` (xoption_given 1; xoption NULL or "" means strict)
 * wins; else the environment value `env` (PYTHONABIGATE) unless
 * ABIGATE_RESOLVE_IGNORE_ENV (-E, -I) or it is NULL or empty; else
 * `default_mode` (NULL: off).  An unknown value is replaced by strict and
 * `warning` gets the one text to print (else it is "").  Returns ABIGATE_OK,
 * or ABIGATE_E_BAD_MODE when `default_mode` itself is not a mode. */
#define ABIGATE_RESOLVE_IGNORE_ENV 0x1u
typedef struct abigate_mode_choice {
    abigate_policy policy;
    const char *source;   /* "-X abigate", "PYTHONABIGATE" or "default" */
    char invalid[64];     /* the value that was not a mode (clamped), "" */
    char warning[256];    /* "abigate: PYTHONABIGATE=bogus is not a mode (...); using strict" */
} abigate_mode_choice;
ABIGATE_API int abigate_mode_resolve(int xoption_given, const char *xoption, const char *env,
                                     unsigned flags, const char *default_mode,
                                     abigate_mode_choice *out, abigate_error *err);

/* The texts users read, the same from every caller:
 *   ABIGATE_TEXT_REFUSAL  cannot load 'M' from PATH: MESSAGE [RULE]
 *                         (the ImportError message; also a failed load:
 *                         cannot load 'M' from PATH: ERROR [ABIGATE_E_DLOPEN])
 *   ABIGATE_TEXT_WARNING  abigate: 'M' from PATH: MESSAGE [RULE]
 *   ABIGATE_TEXT_TRACE    abigate: ACTION 'M' PATH: MESSAGE [RULE]
 *                         (ACTION: `action`, or accept/adapt/refuse/warn
 *                         from the verdict when NULL; no [RULE] on a plain
 *                         accept)
 * RULE is the reason's name, or for ABIGATE_R_UNREADABLE the reader's code
 * (ABIGATE_E_NOT_ELF, ...).  `v` may be NULL when `err` reports a failed
 * open or load.  Writes at most `len` bytes, always terminated; returns
 * the length the whole text needs (as snprintf). */
enum abigate_text_kind { ABIGATE_TEXT_REFUSAL = 1, ABIGATE_TEXT_WARNING, ABIGATE_TEXT_TRACE };
ABIGATE_API size_t abigate_gate_format_(int kind, const char *action, const char *module,
                                        const char *path, const abigate_verdict *v, size_t v_size,
                                        const abigate_error *err, char *buf, size_t len);
#define abigate_gate_format(kind, action, module, path, v, err, buf, len) \
    abigate_gate_format_((kind), (action), (module), (path), (v), sizeof(abigate_verdict), (err), \
                         (buf), (len))

/* The same texts from their parts, for bindings that hold a verdict in
 * their own objects (the import hook): `rule` is the name in brackets,
 * `plain` 1 drops it from a trace line, `action` is used by TRACE only. */
ABIGATE_API size_t abigate_format_text(int kind, const char *action, const char *module,
                                       const char *path, const char *message, const char *rule,
                                       int plain, char *buf, size_t len);

/* The rule of a verdict as a name: the reason's, or the reader's code for
 * ABIGATE_R_UNREADABLE. */
ABIGATE_API const char *abigate_verdict_rule_(const abigate_verdict *v, size_t v_size);
#define abigate_verdict_rule(v) \
    abigate_verdict_rule_((v), sizeof(abigate_verdict))

/* ---------------------------------------------------------------- the walk over inputs
 *
 * What a path given to a tool stands for: a file; a wheel (any *.whl, by
 * name): each of its extension members, read in place; a directory, walked
 * in name order: its *.so files and wheels.  The walk opens nothing it does
 * not read (an extension's or a wheel's name only), opens files without
 * blocking (a FIFO under an extension's name is read, not waited on, and its
 * reader says what it is), and follows symbolic links as a store-backed tree
 * needs (a Nix or Guix profile, a venv of links): a file met again through a
 * link is given once, under the first path that reached it; each real
 * directory is walked once; a link back to a directory being walked is a
 * loop, reported; another file system is reported, not walked, unless
 * ABIGATE_WALK_CROSS_FILESYSTEMS; directories nest at most
 * ABIGATE_WALK_MAX_DEPTH deep.  Nothing is skipped without a word: what
 * cannot be opened or walked is given as an item with `rc` set.
 *
 * The items are made by the library and valid only during the call; the
 * struct grows only at its end (`size` says how much the library filled). */
#define ABIGATE_WALK_MAX_DEPTH 64
#define ABIGATE_WALK_CROSS_FILESYSTEMS 1u /* walk directories on other file systems too */
#define ABIGATE_WALK_WHEELS_UNOPENED 2u   /* give each wheel as itself (member NULL) */

typedef struct abigate_walk_item {
    size_t size;              /* sizeof what the library filled */
    const char *path;         /* the file, or the wheel, or the directory */
    const abigate_zip *zip;   /* the open wheel, for a member */
    const char *member;       /* the member's name in the wheel, or NULL */
    size_t index;             /* the member's index in zip */
    int rc;                   /* ABIGATE_OK, or why `path` could not be walked or opened */
    const abigate_error *err; /* with rc: the message (nothing then to read) */
    /* a wheel's tags, from its file name and its WHEEL file (count 0: none
     * could be read); NULL outside a wheel */
    const abigate_wheel_tags *name_tags, *wheel_tags;
    int via_link;             /* the file itself was reached through a link */
    /* how reading the WHEEL file went (ABIGATE_OK, or the code and the
     * reader's message): abigate_wheel_tags_decide's inputs */
    int wheel_tags_rc;
    const char *wheel_tags_problem;
} abigate_walk_item;

/* Called for each item; a nonzero return is kept (the walk goes on: every
 * input is given), and the largest is abigate_walk's result. */
typedef int (*abigate_walk_fn)(const abigate_walk_item *item, void *ctx);

/* Call fn for each input `path` stands for (above).  Returns the largest
 * value fn returned (0 if none).  A wheel whose WHEEL file cannot be read
 * is given once as member "*.dist-info/WHEEL" with rc set, then its
 * members with wheel_tags_rc set. */
ABIGATE_API int abigate_walk(const char *path, unsigned flags, abigate_walk_fn fn, void *ctx);

/* The extension members of one wheel, as abigate_walk gives them. */
ABIGATE_API int abigate_walk_wheel(const char *wheel_path, abigate_walk_fn fn, void *ctx);

/* Is `path` a wheel by its name (*.whl)? */
ABIGATE_API int abigate_walk_is_wheel(const char *path);

/* Judge an item with the gate under `policy` (NULL: the gate's): the
 * file, or the wheel member in place.  The verdict kind (>= 0) with *v;
 * for a member, *facts (or NULL) receives what it was judged from (one
 * read: abigate_gate_judge_zip_member_facts), for a file it is zeroed.
 * For an item with rc set, and for a file that is not a readable ELF
 * object, the verdict is the gate's for an input that cannot be read
 * (abigate_verdict_unreadable: refused in strict and require).  A negative
 * code when the gate itself failed, with *err. */
ABIGATE_API int abigate_walk_judge_(abigate_gate *gate, const abigate_walk_item *item,
                                    const abigate_policy *policy, abigate_verdict *v, size_t v_size,
                                    abigate_file_info *facts, size_t facts_size,
                                    abigate_error *err);
#define abigate_walk_judge(gate, item, policy, v, facts, err) \
    abigate_walk_judge_((gate), (item), (policy), (v), sizeof(abigate_verdict), (facts), \
                        sizeof(abigate_file_info), (err))

/* A wheel member judged into `facts`, against its wheel's tag sets: bit k
 * of the result is set, and v[k] filled, for each set k judged (0: the
 * file name's tags, 1: the WHEEL file's; abigate_walk_tag_source(k) names
 * them).  A set that could not all be read is a finding of its own
 * (abigate_wheel_tags_decide); else abigate_wheel_decide.  0 for a file,
 * for a member that could not be read, or for a wheel without tags. */
#define ABIGATE_WALK_TAG_SETS 2
ABIGATE_API unsigned abigate_walk_judge_tags_(const abigate_walk_item *item,
                                              const abigate_file_info *facts, size_t facts_size,
                                              const abigate_policy *policy,
                                              abigate_verdict v[ABIGATE_WALK_TAG_SETS],
                                              size_t v_size);
#define abigate_walk_judge_tags(item, facts, policy, v) \
    abigate_walk_judge_tags_((item), (facts), sizeof(abigate_file_info), (policy), (v), \
                             sizeof(abigate_verdict))
/* "file name", "WHEEL"; NULL past ABIGATE_WALK_TAG_SETS. */
ABIGATE_API const char *abigate_walk_tag_source(int k);

/* ---------------------------------------------------------------- stable ABI table */

/* CPython's Misc/stable_abi.toml as data: each stable-ABI symbol with the
 * version that added it.  `abi_only`: part of the ABI, not of the API. */
typedef struct abigate_stable_symbol {
    const char *name;
    uint32_t added;   /* PY_VERSION_HEX of the major.minor that added it */
    uint8_t kind;     /* 'f' function, 'd' data */
    uint8_t abi_only;
    uint8_t ref_debug_only; /* only in Py_REF_DEBUG (debug) builds */
} abigate_stable_symbol;

/* The entry for `name`, or NULL when it is not in the stable ABI list. */
ABIGATE_API const abigate_stable_symbol *abigate_stable_abi_lookup(const char *name);

/* The newest major.minor the table knows (its source version), as hex. */
ABIGATE_API uint32_t abigate_stable_abi_version(void);

#ifdef __cplusplus
}
#endif
#endif /* ABIGATE_H */
