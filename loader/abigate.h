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

#if defined(__GNUC__) && defined(ABIGATE_BUILDING_LIBRARY)
#define ABIGATE_API __attribute__((visibility("default")))
#else
#define ABIGATE_API
#endif

#define ABIGATE_VERSION_STRING "0.1.0"

/* ---------------------------------------------------------------- errors */

enum abigate_code {
#define X(name, value, message) name = value,
#include "abigate-errors.h"
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

enum abigate_record_state {
    ABIGATE_RECORD_ABSENT = 0,   /* no abigate note */
    ABIGATE_RECORD_PRESENT,      /* decoded into `record` */
    ABIGATE_RECORD_UNSUPPORTED   /* major version unknown; only record.major/minor/size valid */
};

enum abigate_found_via { ABIGATE_VIA_NONE = 0, ABIGATE_VIA_PT_NOTE, ABIGATE_VIA_SECTION };

#define ABIGATE_NAME_MAX 128     /* stored hook / library names, NUL included */
#define ABIGATE_MAX_LIBPYTHON 4  /* DT_NEEDED libpython entries kept */

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
    unsigned n_pyinit, n_modexport;          /* defined PyInit_* / PyModExport_* */
    char pyinit[ABIGATE_NAME_MAX];           /* first PyInit_ name, "" if none */
    char modexport[ABIGATE_NAME_MAX];        /* first PyModExport_ name */
    unsigned n_needed;                       /* all DT_NEEDED entries */
    unsigned n_libpython;                    /* DT_NEEDED entries naming libpython */
    char libpython[ABIGATE_MAX_LIBPYTHON][ABIGATE_NAME_MAX];
    unsigned n_pysyms;                       /* undefined Py* and _Py* dynamic symbols */
    unsigned n_pysyms_weak;                  /* ... of which weak */

    /* from the file name given to the reader (kind NONE when none given) */
    abigate_tag tag;
} abigate_file_info;

/* Optional scratch buffer receiving the names of the undefined Py symbols.
 * Bounded: at most ABIGATE_SYMBOLS_MAX names in ABIGATE_SYMBOLS_POOL bytes;
 * `truncated` is set when more existed (n_pysyms still counts them all).
 * Contents are unspecified after a failed read.  Names stay valid until
 * the buffer is reused. */
#define ABIGATE_SYMBOLS_MAX  8192
#define ABIGATE_SYMBOLS_POOL (256u * 1024u)
typedef struct abigate_symbols {
    unsigned count;
    unsigned truncated;
    size_t pool_used;
    struct { uint32_t name; uint8_t weak; } sym[ABIGATE_SYMBOLS_MAX]; /* name: offset in pool */
    char pool[ABIGATE_SYMBOLS_POOL];
} abigate_symbols;

/* Name of symbol `i` (< syms->count); NULL when out of range. */
ABIGATE_API const char *abigate_symbols_name(const abigate_symbols *syms, unsigned i);

/* Read a file by path.  Opens with O_RDONLY|O_CLOEXEC|O_NONBLOCK (a FIFO
 * never blocks), refuses anything that is not a regular file
 * (ABIGATE_E_IS_DIRECTORY, ABIGATE_E_NOT_REGULAR), reads with pread only,
 * and closes before returning.  The tag is parsed from `path`.
 * `syms` may be NULL.  Returns ABIGATE_OK or a negative code. */
ABIGATE_API int abigate_read_path(const char *path, unsigned flags, abigate_file_info *info,
                                  abigate_symbols *syms, abigate_error *err);

/* Same, from an open descriptor (not closed, file position untouched).
 * `name` (may be NULL) is used only for the file-name tag. */
ABIGATE_API int abigate_read_fd(int fd, const char *name, unsigned flags, abigate_file_info *info,
                                abigate_symbols *syms, abigate_error *err);

/* Same, from memory.  The buffer is not retained. */
ABIGATE_API int abigate_read_buffer(const void *buf, size_t len, const char *name,
                                    unsigned flags, abigate_file_info *info,
                                    abigate_symbols *syms, abigate_error *err);

/* Same, from a caller-supplied reader (tests, archives). */
ABIGATE_API int abigate_read_io(const abigate_io *io, const char *name, unsigned flags,
                                abigate_file_info *info, abigate_symbols *syms,
                                abigate_error *err);

/* Human name of an ELF e_machine value ("x86-64", "AArch64", ...), or NULL. */
ABIGATE_API const char *abigate_machine_name(unsigned machine);

/* Format `hex` (a PY_VERSION_HEX) as "3.13.1", "3.15.0b2", "3.14.0rc1"
 * into buf (at least 24 bytes).  Returns buf. */
ABIGATE_API char *abigate_format_version(uint32_t hex, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* ABIGATE_H */
