/* abigate-internal.h -- cross-file internals of libabigate.
 *
 * Not installed.  Names here are abigate__* and have hidden visibility
 * (the library is built with -fvisibility=hidden; only ABIGATE_API names
 * are exported, see loader/libabigate.sym).
 */
#ifndef ABIGATE_INTERNAL_H
#define ABIGATE_INTERNAL_H

#if !defined(ABIGATE_BUILDING_LIBRARY)
#error "abigate-internal.h is private to libabigate: include <abigate.h> instead"
#endif

#ifdef HAVE_CONFIG_H
#include <config.h> /* first: _GNU_SOURCE (AC_USE_SYSTEM_EXTENSIONS) */
#endif
#include "abigate/abigate.h"

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

/* The symbol buffer (abigate.h: opaque to callers). */
#define ABIGATE_SYMBOLS_INDEX (2 * ABIGATE_SYMBOLS_MAX) /* hash slots, a power of two */
struct abigate_symbols {
    unsigned count;
    unsigned truncated;
    unsigned indexed;     /* set by abigate_symbols_index and _sort; cleared by a read */
    unsigned sorted;      /* set by abigate_symbols_sort; cleared by a read */
    size_t pool_used;
    struct { uint32_t name; uint8_t weak; } sym[ABIGATE_SYMBOLS_MAX]; /* name: offset in pool */
    char pool[ABIGATE_SYMBOLS_POOL];
    /* The hash index (abigate_symbols_index), open addressing over its first
     * index_mask + 1 slots: a name's hash and pool offset + 1 (0: empty). */
    struct { uint32_t hash; uint32_t name; } index[ABIGATE_SYMBOLS_INDEX];
    unsigned index_mask;
    /* hash[i] is the hash of name i, for lookups that need not hash it
     * again: kept by the reader, which sets hashed to 1.  Code that fills
     * a buffer by hand (the unit tests) sets hashed (like indexed and
     * sorted) to 0. */
    unsigned hashed;
    uint32_t hash[ABIGATE_SYMBOLS_MAX];
};

#if defined(__GNUC__)
#define ABIGATE__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ABIGATE__PRINTF(f, a)
#endif

/* Fill `err` (may be NULL) with `code`, `offset` and a formatted message;
 * returns `code` so that callers can write `return abigate__fail(...)`. */
int abigate__fail(abigate_error *err, int code, int64_t offset, const char *fmt, ...)
    ABIGATE__PRINTF(4, 5);

/* Mark `err` (may be NULL) as success. */
void abigate__ok(abigate_error *err);

/* Byte-order helpers over unaligned bytes. */
/* Unaligned loads in a given byte order: one load, and a byte swap when
 * the file's order is not the host's (the compilers turn the memcpy into a
 * plain load; the shifts fallback elsewhere). */
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && defined(__ORDER_BIG_ENDIAN__) && \
    (defined(__GNUC__) || defined(__clang__))
#define ABIGATE__HOST_BE (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
static inline uint16_t abigate__get16(const unsigned char *p, int be)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return !be == !ABIGATE__HOST_BE ? v : __builtin_bswap16(v);
}

static inline uint32_t abigate__get32(const unsigned char *p, int be)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return !be == !ABIGATE__HOST_BE ? v : __builtin_bswap32(v);
}

static inline uint64_t abigate__get64(const unsigned char *p, int be)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return !be == !ABIGATE__HOST_BE ? v : __builtin_bswap64(v);
}
#else
static inline uint16_t abigate__get16(const unsigned char *p, int be)
{
    return be ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

static inline uint32_t abigate__get32(const unsigned char *p, int be)
{
    return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
              : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static inline uint64_t abigate__get64(const unsigned char *p, int be)
{
    uint64_t hi = abigate__get32(p + (be ? 0 : 4), be);
    uint64_t lo = abigate__get32(p + (be ? 4 : 0), be);
    return hi << 32 | lo;
}
#endif

static inline void abigate__put16(unsigned char *p, uint16_t v, int be)
{
    p[be ? 0 : 1] = (unsigned char)(v >> 8);
    p[be ? 1 : 0] = (unsigned char)v;
}

static inline void abigate__put32(unsigned char *p, uint32_t v, int be)
{
    abigate__put16(p + (be ? 0 : 2), (uint16_t)(v >> 16), be);
    abigate__put16(p + (be ? 2 : 0), (uint16_t)v, be);
}

/* True when [off, off+len) does not fit in `size` (subtraction form, no
 * overflow possible). */
static inline int abigate__out_of_bounds(uint64_t off, uint64_t len, uint64_t size)
{
    return off > size || size - off < len;
}

/* Copy `src` (up to `srclen` bytes, stops at NUL) into dst[cap], always
 * terminating; returns 1 when it had to clamp. */
int abigate__copy_clamped(char *dst, size_t cap, const char *src, size_t srclen);

/* Name of symbol `i` (< count), without the checks of abigate_symbols_name:
 * for loops over a buffer's own entries. */
static inline const char *abigate__symbol_name(const abigate_symbols *syms, unsigned i)
{
    return syms->pool + syms->sym[i].name;
}

/* elf.c: 1 when name `i` of `syms` is in `set` (indexed), as
 * abigate_symbols_contains, without hashing the name again when the reader
 * kept its hash. */
int abigate__symbols_has(const abigate_symbols *set, const abigate_symbols *syms, unsigned i);

/* elf.c: read `fd` in one pass that stops after the record unless
 * need(the facts read so far, ctx) returns a buffer for the symbols; then
 * the legacy facts are read too (as ABIGATE_READ_LEGACY), into it.  The
 * head read once serves both stages. */
struct abigate__search;
struct abigate__stage {
    abigate_symbols *(*need)(const abigate_file_info *info, void *ctx);
    void *ctx;
    struct abigate__search *search; /* also read these (elf.c), or NULL */
    int legacy; /* a reader that can (zip.c): read the legacy facts of a file
                 * without a record even when `need` gives no symbol table */
};

/* ---------------------------------------------------------------- PE and Mach-O
 *
 * read.c makes the input and reads its head, then hands it to the reader
 * of the format the head names: elf.c, pe.c or macho.c.  All three read on
 * through the same bounded input (elf.c's abigate__src_read), keep symbols
 * in the same buffer and find abigate's record as the same note
 * (docs/FORMAT.md, "PE and Mach-O"). */
#define ABIGATE__HEAD_SIZE 4096u   /* first read of a file: ELF header, program headers, notes */
#define ABIGATE__SMALL_FILE 16384u /* a file up to this size is read whole by the first read */
struct abigate__src {
    const abigate_io *io;
    uint64_t size;         /* UINT64_MAX until known (size_known) */
    int size_known;        /* 0 only from read_fd: stat_fd is asked when needed */
    int stat_fd;
    abigate_error *err;
    int in_memory;         /* a buffer (abigate_read_buffer): reads are copies */
    unsigned char *tail;   /* read_tail's read, or NULL (parse_src frees it) */
    uint64_t tail_off;
    size_t tail_len;
    size_t head_len;
    unsigned char head[ABIGATE__SMALL_FILE];
};

/* elf.c: an ELF file, the head read (read.c gives the others to pe.c and
 * macho.c): the record, and with ABIGATE_READ_LEGACY (stage: when its
 * question gives a symbol buffer) the legacy facts; `s->tail` freed. */
int abigate__parse_elf(struct abigate__src *s, const char *name, unsigned flags,
                       abigate_file_info *info, abigate_symbols *syms,
                       const struct abigate__stage *stage);
/* elf.c: empty `syms` (may be NULL) before a read fills it. */
void abigate__symbols_reset(abigate_symbols *syms);

/* elf.c: read exactly `len` bytes at `off`; a range outside the input fails
 * with `bounds_code` and a message naming it. */
int abigate__src_read(struct abigate__src *s, uint64_t off, void *buf, size_t len,
                      int bounds_code);
/* elf.c: the input's size in *size (asked with fstat when not yet known). */
int abigate__src_size(struct abigate__src *s, uint64_t *size);
/* elf.c: where the readers report their errors (may be NULL). */
abigate_error *abigate__src_err(struct abigate__src *s);
/* elf.c: add a name to `syms` (may be NULL), hashed as the ELF reader
 * hashes; a full buffer sets truncated. */
void abigate__keep_symbol(abigate_symbols *syms, const char *name, size_t len, int weak);
/* elf.c: count a defined name that is a module's init hook (PyInit_,
 * PyInitU_, PyModExport_) in n_pyinit / n_modexport, the first kept. */
void abigate__take_hook(abigate_file_info *info, const char *name, size_t len);
/* elf.c: abigate's record among the notes in [off, off+size) (the ELF note
 * format, byte order `be`), into out->record_* (record_via SECTION). */
int abigate__scan_record_notes(struct abigate__src *s, uint64_t off, uint64_t size, int be,
                               abigate_file_info *out);

/* elf.c: the kind of a module slot ID of 3.15's numbering (PEP 820): 0 none,
 * 1 a pointer, 2 a small integer (docs/FORMAT.md, "The native record"). */
int abigate__mod_slot_kind(unsigned id);
/* elf.c: the same for the module slot IDs of CPython 3.15's alphas (before
 * PEP 820; pyo3-ffi 0.28 has them), whose Py_mod_abi is
 * ABIGATE__SLOT_ABI_ALPHA: no release loads an array of them. */
#define ABIGATE__SLOT_ABI_ALPHA 5u
int abigate__alpha_slot_kind(unsigned id);
/* elf.c: 1 when a PyABIInfo found at such an array's Py_mod_abi reads as
 * one (a type's slot array shares the IDs). */
int abigate__alpha_abiinfo_ok(const abigate_abiinfo *a);
/* elf.c: the record a PyABIInfo found in a module's slots stands for. */
void abigate__native_record(const abigate_abiinfo *a, unsigned pointer_size, abigate_record *r);

/* decide.c: what a linked CPython library names (docs/POLICY.md, "Linked
 * libraries"): ELF's "libpython3.11d.so.1.0"; Windows' "python313t.dll",
 * "python313_d.dll", "python3.dll" (abi3), "python3t.dll" (abi3t); macOS'
 * "@rpath/libpython3.13.dylib" or ".../Python.framework/Versions/3.13/
 * Python".  0 when the name is none of these (libpython3.so, ELF's
 * stable-ABI forwarder, says nothing). */
struct abigate__pylink {
    unsigned minor; /* 0: the stable ABI's DLL */
    int ft, debug;
};
int abigate__parse_libpython(const abigate_file_info *f, const char *name,
                             struct abigate__pylink *l);

/* slots.c: CPython's own PyABIInfo in the slot arrays of a PE or Mach-O
 * file's data (docs/FORMAT.md, "The native record"), the format's
 * loader fixups asked through the reader. */
#define ABIGATE__SLOTS_MAX 64u       /* entries of one slot array */
#define ABIGATE__SLOT_ARRAYS_MAX 16u /* slot arrays followed from their anchors */
struct abigate__slot_reader {
    int be, is64;
    /* What the loader writes at address `place`, whose bytes hold
     * `in_place`: 1 with *target (a pointer fixed up), 0 nothing (not
     * fixed up), -1 something else (a bind: no target this file gives). */
    int (*fixed)(void *ctx, uint64_t place, uint64_t in_place, uint64_t *target);
    int (*inside)(void *ctx, uint64_t addr); /* 1 when inside the image */
    /* the 12 bytes at address `addr` and their input offset: 0, else no record */
    int (*read_abi)(void *ctx, uint64_t addr, unsigned char b[12], uint64_t *offset);
    void *ctx;
};
struct abigate__native_found {
    int found, conflict;
    abigate_abiinfo info;
    uint64_t at;            /* input offset of the first PyABIInfo */
    unsigned slot_id_315;
    unsigned arrays;
    int alpha;              /* an array of the alphas' numbering with a PyABIInfo */
};
/* The arrays of one data section `data` (`len` bytes at address `addr`). */
void abigate__slot_search(const struct abigate__slot_reader *r, const unsigned char *data,
                          uint64_t len, uint64_t addr, int own_record,
                          struct abigate__native_found *nat);
/* 1 when the file's PyABIInfo is to be looked for (no record of its own,
 * or one that says 3.15+ headers: both must then agree). */
int abigate__native_wanted(const abigate_file_info *out);
/* What was found joins abigate's record as elf.c's parse does: the record
 * where there is none of abigate's, a conflict where both differ. */
void abigate__native_join(const struct abigate__native_found *nat, unsigned pointer_size,
                          abigate_file_info *out);

/* pe.c, macho.c: 1 when the first `len` bytes of the input start such a
 * file (PE: "MZ"; Mach-O: a thin or fat magic, either byte order). */
int abigate__is_pe(const unsigned char *head, size_t len);
int abigate__is_macho(const unsigned char *head, size_t len);
/* pe.c, macho.c: read the input as such a file into `out`, which the
 * caller zeroed and gave its tag.  With `legacy` 0: the identity (format,
 * machine, elf_class, elf_type, big_endian, min_os, the slices) and the
 * record only.  With `legacy` 1 (read again, after a first call): the
 * legacy facts too (legacy_read, n_pyinit/pyinit, n_modexport/modexport,
 * n_needed, n_libpython/libpython, n_pysyms, n_pysyms_weak) and the Py
 * names into `syms` (may be NULL): the imported ones, or with
 * `exports` 1 the exported ones (n_pyexports).  ABIGATE_OK or
 * ABIGATE_E_PE / ABIGATE_E_MACHO (or a read error) with a message in
 * abigate__src_err(s). */
int abigate__parse_pe(struct abigate__src *s, int legacy, int exports, abigate_file_info *out,
                      abigate_symbols *syms);
int abigate__parse_macho(struct abigate__src *s, int legacy, int exports, abigate_file_info *out,
                         abigate_symbols *syms);

/* What the dynamic loader's search for a file's dependencies depends on
 * (elf.c: read with the record, from the same head; load.c: used to load
 * the judged descriptor as a plain dlopen of its path would).  `state` is
 * 0 when not read (not ELF, no dynamic segment, a malformed one: the load
 * then leaves everything to the dynamic loader), 1 when read, -1 when the
 * names of a file that mentions ORIGIN could not be kept (too many, too
 * long, no memory: has_origin is set and the load refuses to guess).  The
 * names are kept (on the heap, `names`) only for a file that mentions
 * ORIGIN: abigate__search_release frees them.  The caller sets `names` to
 * NULL before the read. */
#define ABIGATE__SEARCH_POOL 16384
#define ABIGATE__SEARCH_NEEDED 256 /* also the DT_NEEDED names the reader keeps */
struct abigate__search_names {
    unsigned n_needed;
    uint32_t needed[ABIGATE__SEARCH_NEEDED]; /* offsets into pool */
    uint32_t rpath, runpath;                 /* offsets into pool */
    size_t pool_used;
    char pool[ABIGATE__SEARCH_POOL];
};
struct abigate__search {
    int state;
    int has_origin;      /* "$ORIGIN" or "${ORIGIN}" in DT_NEEDED, DT_RPATH or DT_RUNPATH */
    int needed_origin;   /* ... in a DT_NEEDED name */
    int has_rpath, has_runpath;
    uint64_t flags_1;    /* DT_FLAGS_1 */
    unsigned char elf_class, big_endian, osabi, abiversion; /* the file's ELF header */
    unsigned machine;
    uint32_t e_flags;
    struct abigate__search_names *names; /* state 1 and has_origin: owned */
};
void abigate__search_release(struct abigate__search *search);

/* elf.c: the length of the dynamic string token ORIGIN at p (`room`
 * bytes there) as the dynamic loader reads it (glibc's is_dst): 9 for
 * "${ORIGIN}", 7 for "$ORIGIN" not followed by a name character, else 0. */
size_t abigate__origin_token(const char *p, size_t room);

/* load.c: dlopen(path, dlflags) itself, dlerror() copied at once into err
 * (ABIGATE_E_DLOPEN); the handle or NULL. */
void *abigate__dlopen_path(const char *path, int dlflags, abigate_error *err);

/* profile.c: the ELF e_machine libabigate was built for (0: unknown). */
unsigned abigate__host_machine(void);

/* load.c: dlopen() the judged descriptor `fd` of `path` with `dlflags` so
 * that its dependencies are those a plain dlopen(path, dlflags) loads
 * (docs/PATCHED.md, "The same-file load").  `fd_name` writes a fresh
 * /proc/self/fd spelling of a descriptor.  The handle, or NULL with err
 * ABIGATE_E_DLOPEN: dlerror()'s text naming `path`, or, when /proc is not
 * mounted, a text that says so (*no_proc is then set to 1). */
void *abigate__load_judged(int fd, const char *path, int dlflags,
                           const struct abigate__search *search,
                           void (*fd_name)(void *ctx, char *buf, size_t size, int fd),
                           void *fd_name_ctx, int *no_proc, abigate_error *err);
int abigate__read_fd_staged(int fd, const char *name, const struct abigate__stage *stage,
                            abigate_file_info *info, abigate_error *err);

/* gate.c: judge what `reader` reads, as the gate judges a file (the
 * profile, the policy, the record-first staging through `stage`, the
 * unreadable-file table, the counters).  `name` names it in messages.
 * `facts` (or NULL) receives what was read, legacy facts included when
 * there is no record (stage->legacy); zeroed when nothing could be. */
typedef int (*abigate__stage_reader)(void *ctx, const struct abigate__stage *stage,
                                     abigate_file_info *info, abigate_error *err);
/* A wheel's tag set (abigate.h: opaque to callers). */
struct abigate_wheel_tags {
    unsigned count;
    unsigned truncated; /* more than ABIGATE_WHEEL_MAX_TAGS were given */
    struct abigate_wheel_tag {
        char python[24], abi[24], platform[80];
    } tag[ABIGATE_WHEEL_MAX_TAGS];
};

/* The structures that grow (abigate.h): the library's functions on whole
 * structures of this version; sized.c gives them to callers of any size.
 * The first published sizes (0.2.0): later versions only append fields. */
#define ABIGATE__FILE_INFO_MIN (offsetof(abigate_file_info, tag) + sizeof(abigate_tag))
#define ABIGATE__VERDICT_MIN (offsetof(abigate_verdict, reserved_) + 6 * sizeof(int))
#define ABIGATE__PROFILE_MIN (offsetof(abigate_profile, exports) + sizeof(void *))
void *abigate__sized_out(void *p, size_t size, void *whole, size_t whole_size, size_t min,
                         size_t n);
const void *abigate__sized_in(const void *p, size_t size, void *whole, size_t whole_size,
                              size_t min, size_t n);
void abigate__sized_give(void *p, size_t size, const void *w, size_t whole_size, size_t n);
int abigate__read_path(const char *path, unsigned flags, abigate_file_info *info,
                       abigate_symbols *syms, abigate_error *err);
int abigate__read_fd(int fd, const char *name, unsigned flags, abigate_file_info *info,
                     abigate_symbols *syms, abigate_error *err);
int abigate__read_buffer(const void *buf, size_t len, const char *name, unsigned flags,
                         abigate_file_info *info, abigate_symbols *syms, abigate_error *err);
int abigate__read_io(const abigate_io *io, const char *name, unsigned flags,
                     abigate_file_info *info, abigate_symbols *syms, abigate_error *err);
int abigate__zip_read_member(const abigate_zip *z, size_t i, unsigned flags,
                             abigate_file_info *info, abigate_symbols *syms, abigate_error *err);
int abigate__profile_init(abigate_profile *p, uint32_t hexversion, unsigned flags);
int abigate__profile_parse(abigate_profile *p, const char *spec, abigate_error *err);
int abigate__profile_from_process(abigate_profile *p, abigate_symbols *exports,
                                  abigate_error *err);
int abigate__profile_load_exports(abigate_profile *p, const char *path, int derive_flags,
                                  abigate_symbols *exports, abigate_error *err);
char *abigate__profile_name(const abigate_profile *p, char *buf, size_t len);
int abigate__decide_abiinfo(const abigate_abiinfo *info, const abigate_profile *profile);
abigate_gate *abigate__gate_new_for(const abigate_profile *profile, const char *exports_path,
                                    const abigate_gate_config *cfg, abigate_error *err);
int abigate__decide(const abigate_file_info *file, const abigate_symbols *file_syms,
                    const abigate_profile *profile, const abigate_policy *policy,
                    abigate_verdict *out);
int abigate__gate_judge(abigate_gate *gate, const char *path, const abigate_policy *policy,
                        abigate_verdict *v, abigate_error *err);
int abigate__gate_judge_fd(abigate_gate *gate, int fd, const char *name,
                           const abigate_policy *policy, abigate_verdict *v, abigate_error *err);
int abigate__gate_judge_zip_member(abigate_gate *gate, const abigate_zip *zip, size_t i,
                                   const abigate_policy *policy, abigate_verdict *v,
                                   abigate_error *err);
int abigate__gate_judge_zip_member_facts(abigate_gate *gate, const abigate_zip *zip, size_t i,
                                         const abigate_policy *policy, abigate_verdict *v,
                                         abigate_file_info *facts, abigate_error *err);
int abigate__wheel_tags_decide(const abigate_wheel_tags *tags, int read_rc, const char *problem,
                               const char *source, const abigate_policy *policy,
                               abigate_verdict *out);
int abigate__wheel_decide(const abigate_wheel_tags *tags, const char *source,
                          const abigate_file_info *member, const abigate_policy *policy,
                          abigate_verdict *out);
void *abigate__gate_dlopen(abigate_gate *gate, const char *path, int dlflags,
                           const abigate_policy *policy, abigate_verdict *v, abigate_error *err);
int abigate__verdict_unreadable(const abigate_policy *policy, const abigate_error *why,
                                abigate_verdict *v);
size_t abigate__gate_format(int kind, const char *action, const char *module, const char *path,
                            const abigate_verdict *v, const abigate_error *err, char *buf,
                            size_t len);
const char *abigate__verdict_rule(const abigate_verdict *v);
int abigate__walk_judge(abigate_gate *gate, const abigate_walk_item *item,
                        const abigate_policy *policy, abigate_verdict *v, abigate_file_info *facts,
                        abigate_error *err);
unsigned abigate__walk_judge_tags(const abigate_walk_item *item, const abigate_file_info *facts,
                                  const abigate_policy *policy,
                                  abigate_verdict v[ABIGATE_WALK_TAG_SETS]);

/* The gate's own policy (gate.c). */
const abigate_policy *abigate__gate_policy(const abigate_gate *g);

int abigate__gate_judge_reader(abigate_gate *g, const char *name, abigate__stage_reader reader,
                               void *ctx, const abigate_policy *policy, abigate_verdict *v,
                               abigate_file_info *facts, abigate_error *err);

/* zip.c: the inflated bytes all reads of an archive of `size` bytes may
 * produce (abigate.h, ABIGATE_ZIP_INFLATE_RATIO). */
uint64_t abigate__zip_budget(uint64_t size);
/* The inflated bytes the reads of `z` have produced so far. */
uint64_t abigate__zip_spent(const abigate_zip *z);

/* decide.c: 1 when the verdict for `f` (read with ABIGATE_READ_RECORD)
 * needs its symbol table (the record-first rule), else 0.  Pure. */
int abigate__needs_symbols(const abigate_file_info *f, const abigate_profile *p,
                           const abigate_policy *pol);

#endif /* ABIGATE_INTERNAL_H */
