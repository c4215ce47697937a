/* macho.c -- the Mach-O reader: thin files and universal (fat) ones.
 *
 * A thin file is a header, `ncmds` load commands in `sizeofcmds` bytes,
 * then the data they point at.  The commands are read in one bounded read
 * and walked in memory; every offset they hold is checked against the
 * thin file's own bounds (a slice of a fat file: its offset and size),
 * never trusted.  A fat file is a big-endian table of slices, each a thin
 * file: the table is checked whole (inside the file, after the table, no
 * two overlapping, each slice thin), and the facts are those of the first
 * slice.  Nothing here recurses: a fat file inside a slice is an error.
 *
 * The record is abigate's ELF-format note in a section named __abigate
 * (docs/FORMAT.md, "PE and Mach-O"), found through the LC_SEGMENT(_64)
 * commands and read by elf.c's note scanner.  The legacy facts come from
 * LC_SYMTAB (nlist entries, names with the C underscore stripped), the
 * LC_*_DYLIB commands, and, for a file whose symbol table lists no import,
 * from the imports of LC_DYLD_CHAINED_FIXUPS or the bind streams of
 * LC_DYLD_INFO.  CPython's own PyABIInfo (3.15's Py_mod_abi slot) is found
 * in the data sections through the rebase opcodes or the chained fixups
 * ("the native record" below). */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define MH_MAGIC 0xfeedfaceu
#define MH_MAGIC_64 0xfeedfacfu
#define MH_CIGAM 0xcefaedfeu
#define MH_CIGAM_64 0xcffaedfeu
#define FAT_MAGIC 0xcafebabeu
#define FAT_MAGIC_64 0xcafebabfu
#define FAT_JAVA_MIN 31u /* nfat_arch above 30: a Java class file (Apple's tools agree) */

#define CPU_ARCH_ABI64 0x01000000u
#define CPU_ARCH_ABI64_32 0x02000000u
#define CPU_TYPE_X86 7u
#define CPU_TYPE_ARM 12u
#define CPU_TYPE_POWERPC 18u

#define MH_OBJECT 1u
#define MH_EXECUTE 2u
#define MH_DYLIB 6u
#define MH_BUNDLE 8u

#define LC_REQ_DYLD 0x80000000u
#define LC_SEGMENT 0x1u
#define LC_SYMTAB 0x2u
#define LC_LOAD_DYLIB 0xcu
#define LC_SEGMENT_64 0x19u
#define LC_LOAD_WEAK_DYLIB (0x18u | LC_REQ_DYLD)
#define LC_REEXPORT_DYLIB (0x1fu | LC_REQ_DYLD)
#define LC_LAZY_LOAD_DYLIB 0x20u
#define LC_DYLD_INFO 0x22u
#define LC_DYLD_INFO_ONLY (0x22u | LC_REQ_DYLD)
#define LC_LOAD_UPWARD_DYLIB (0x23u | LC_REQ_DYLD)
#define LC_VERSION_MIN_MACOSX 0x24u
#define LC_BUILD_VERSION 0x32u
#define LC_DYLD_CHAINED_FIXUPS (0x34u | LC_REQ_DYLD)
#define PLATFORM_MACOS 1u

#define SECTION_TYPE 0xffu
#define S_ZEROFILL 0x1u
#define S_GB_ZEROFILL 0xcu
#define S_THREAD_LOCAL_ZEROFILL 0x12u

#define N_STAB 0xe0u
#define N_PEXT 0x10u
#define N_TYPE 0x0eu
#define N_EXT 0x01u
#define N_UNDF 0x0u
#define N_SECT 0xeu
#define N_WEAK_REF 0x40u

#define MAX_NCMDS 65536u
#define MAX_SIZEOFCMDS (16u << 20)
#define STRING_MAX 1024u              /* longest symbol or library name examined */
#define WHOLE_MAX (16u << 20)         /* a string table up to this size is read whole */
#define BLOB_MAX (64u << 20)          /* chained fixups' imports, a bind stream */
#define SYM_CHUNK 4096u               /* nlist entries read at a time */
#define SEEN_SLOTS 65536u             /* Py names a bind stream's reader remembers */
#define MAX_SEGS 256u                 /* segments the native record's search indexes */

struct macho {
    struct abigate__src *s;
    abigate_error *err;
    uint64_t base, size;     /* the thin file: [base, base+size) of the input */
    int be, is64;
    unsigned hdr_size;       /* 28 or 32 */
    uint32_t ncmds, sizeofcmds;
    unsigned char *cmds;     /* the load commands, sizeofcmds bytes (heap) */
    unsigned nsegs;          /* LC_SEGMENT(_64) commands (their indices: command order) */
    const unsigned char *segcmd[MAX_SEGS]; /* the first ones, in cmds */
};

/* Offsets in messages are the input's (base + an offset in the thin file). */
#define BAD(m, rel, ...) \
    abigate__fail((m)->err, ABIGATE_E_MACHO, (int64_t)((m)->base + (uint64_t)(rel)), __VA_ARGS__)

/* Read `len` bytes at offset `rel` of the thin file, which must hold them. */
static int rd(struct macho *m, uint64_t rel, void *buf, size_t len, const char *what)
{
    if (abigate__out_of_bounds(rel, len, m->size))
        return BAD(m, rel, "%s (%zu bytes at offset %llu) runs past the end of the Mach-O "
                           "file (%llu bytes)",
                   what, len, (unsigned long long)rel, (unsigned long long)m->size);
    return abigate__src_read(m->s, m->base + rel, buf, len, ABIGATE_E_MACHO);
}

/* [off, off+len) of the thin file, checked; `at` is the command naming it. */
static int region(struct macho *m, uint64_t off, uint64_t len, uint64_t at, const char *what)
{
    if (abigate__out_of_bounds(off, len, m->size))
        return BAD(m, at, "%s (%llu bytes at offset %llu) runs past the end of the Mach-O "
                          "file (%llu bytes)",
                   what, (unsigned long long)len, (unsigned long long)off,
                   (unsigned long long)m->size);
    return ABIGATE_OK;
}

/* A region read whole onto the heap (*out; NULL for an empty one). */
static int rd_alloc(struct macho *m, uint64_t off, uint64_t len, uint64_t at, const char *what,
                    unsigned char **out)
{
    *out = NULL;
    int rc = region(m, off, len, at, what);
    if (rc || len == 0)
        return rc;
    if (len > BLOB_MAX)
        return BAD(m, at, "%s of %llu bytes, the cap is %u", what, (unsigned long long)len,
                   BLOB_MAX);
    if (!(*out = malloc((size_t)len)))
        return abigate__fail(m->err, ABIGATE_E_NOMEM, (int64_t)(m->base + off),
                             "no memory for %s (%llu bytes)", what, (unsigned long long)len);
    if ((rc = abigate__src_read(m->s, m->base + off, *out, (size_t)len, ABIGATE_E_MACHO))) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

static uint32_t be32(const unsigned char *p) { return abigate__get32(p, 1); }

/* A thin magic: 1 (and *be, *is64), else 0. */
static int thin_magic(const unsigned char *p, int *be, int *is64)
{
    switch (be32(p)) {
    case MH_MAGIC: *be = 1; *is64 = 0; return 1;
    case MH_MAGIC_64: *be = 1; *is64 = 1; return 1;
    case MH_CIGAM: *be = 0; *is64 = 0; return 1;
    case MH_CIGAM_64: *be = 0; *is64 = 1; return 1;
    default: return 0;
    }
}

int abigate__is_macho(const unsigned char *head, size_t len)
{
    int be, is64;
    if (len < 4)
        return 0;
    if (thin_magic(head, &be, &is64))
        return 1;
    uint32_t magic = be32(head);
    if (magic != FAT_MAGIC && magic != FAT_MAGIC_64)
        return 0;
    /* A Java class file starts with 0xcafebabe too, then its version
     * (45 and up) where a fat file counts its slices. */
    return len >= 8 && be32(head + 4) < FAT_JAVA_MIN;
}

/* CPU type to ELF e_machine (0: none). */
static unsigned elf_machine(uint32_t cputype)
{
    switch (cputype) {
    case CPU_TYPE_X86: return 3;
    case CPU_TYPE_X86 | CPU_ARCH_ABI64: return 62;
    case CPU_TYPE_ARM: return 40;
    case CPU_TYPE_ARM | CPU_ARCH_ABI64: return 183;
    case CPU_TYPE_ARM | CPU_ARCH_ABI64_32: return 183;
    case CPU_TYPE_POWERPC: return 20;
    case CPU_TYPE_POWERPC | CPU_ARCH_ABI64: return 21;
    default: return 0;
    }
}

static unsigned elf_type(uint32_t filetype)
{
    switch (filetype) {
    case MH_BUNDLE:
    case MH_DYLIB: return 3;
    case MH_EXECUTE: return 2;
    case MH_OBJECT: return 1;
    default: return 0;
    }
}

/* ------------------------------------------------------------------ names */

static int starts_with(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(s, prefix, n) == 0;
}

static int contains(const char *s, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (memcmp(s + i, needle, n) == 0)
            return 1;
    return 0;
}

/* Mach-O writes a C name with a leading underscore: strip one. */
static void strip_underscore(const char **s, size_t *len)
{
    if (*len > 0 && (*s)[0] == '_') {
        ++*s;
        --*len;
    }
}

/* 1 when the first bytes of a raw name (`n` of them, zero-filled to 4)
 * may start a Py name once stripped: "Py", "_Py", "__Py". */
static int may_matter(const unsigned char p[4])
{
    const unsigned char *q = p[0] == '_' ? p + 1 : p;
    return (q[0] == 'P' && q[1] == 'y') || (q[0] == '_' && q[1] == 'P' && q[2] == 'y');
}

/* A string table: a region of the thin file, read whole when it is at
 * most WHOLE_MAX bytes, else a name at a time into buf. */
struct strtab {
    uint64_t off, size;
    uint64_t at;             /* the command naming it, for messages */
    unsigned char *whole;
    char buf[STRING_MAX];
};

static int strtab_open(struct macho *m, struct strtab *t, uint64_t off, uint64_t size,
                       uint64_t at)
{
    t->off = off;
    t->size = size;
    t->at = at;
    t->whole = NULL;
    int rc = region(m, off, size, at, "string table");
    if (rc || size == 0 || size > WHOLE_MAX)
        return rc;
    return rd_alloc(m, off, size, at, "string table", &t->whole);
}

/* The first bytes of name `i` (zero-filled) into p[4]; `i` must be inside.
 * `ref` is the entry naming it, for messages. */
static int strtab_head(struct macho *m, struct strtab *t, uint64_t i, uint64_t ref,
                       unsigned char p[4])
{
    if (i >= t->size)
        return BAD(m, ref, "name at index %llu is outside the string table (%llu bytes at "
                           "offset %llu)",
                   (unsigned long long)i, (unsigned long long)t->size,
                   (unsigned long long)t->off);
    size_t n = t->size - i < 4 ? (size_t)(t->size - i) : 4;
    memset(p, 0, 4);
    if (t->whole) {
        memcpy(p, t->whole + i, n);
        return ABIGATE_OK;
    }
    return rd(m, t->off + i, p, n, "symbol name");
}

/* Name `i` (inside): *s and *len; a name without a NUL within the table
 * and STRING_MAX bytes is an error. */
static int strtab_name(struct macho *m, struct strtab *t, uint64_t i, uint64_t ref,
                       const char **s, size_t *len)
{
    size_t n = t->size - i < STRING_MAX ? (size_t)(t->size - i) : STRING_MAX;
    const char *p;
    if (t->whole) {
        p = (const char *)t->whole + i;
    } else {
        int rc = rd(m, t->off + i, t->buf, n, "symbol name");
        if (rc)
            return rc;
        p = t->buf;
    }
    const char *nul = memchr(p, 0, n);
    if (!nul)
        return BAD(m, ref, "name at index %llu of the string table (offset %llu) is "
                           "unterminated or longer than %u bytes",
                   (unsigned long long)i, (unsigned long long)(t->off + i), STRING_MAX);
    *s = p;
    *len = (size_t)(nul - p);
    return ABIGATE_OK;
}

/* The name at index `i` when it may be a Py name (PyInit_ and PyModExport_
 * included), read only then: 1 with *s and *len, 0 when it is not one (its
 * first bytes say so), or a negative code. */
static int strtab_py_name(struct macho *m, struct strtab *t, uint64_t i, uint64_t ref,
                          const char **s, size_t *len)
{
    unsigned char head[4];
    int rc = strtab_head(m, t, i, ref, head);
    if (rc || !may_matter(head))
        return rc;
    rc = strtab_name(m, t, i, ref, s, len);
    return rc ? rc : 1;
}

/* What the legacy pass counts, kept in locals then added to out. */
struct legacy {
    abigate_file_info *out;
    abigate_symbols *syms;
    int exports;
    uint64_t *seen;          /* hashes of Py names a bind stream gave (dedup), or NULL */
    unsigned n_seen;
};

/* A 64-bit FNV-1a hash, for the bind streams' duplicate names. */
static uint64_t fnv(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h | 1; /* never 0: 0 is an empty slot */
}

/* 1 when a bind stream gave this name before (the same symbol bound at
 * several places, or both bound and lazily bound); remembers it. */
static int seen_before(struct legacy *L, const char *s, size_t len)
{
    if (!L->seen || L->n_seen >= SEEN_SLOTS / 2)
        return 0; /* no memory, or full: count again rather than loop */
    uint64_t h = fnv(s, len);
    for (size_t j = (size_t)h & (SEEN_SLOTS - 1);; j = (j + 1) & (SEEN_SLOTS - 1)) {
        if (L->seen[j] == h)
            return 1;
        if (L->seen[j] == 0) {
            L->seen[j] = h;
            L->n_seen++;
            return 0;
        }
    }
}

/* An imported name (raw, with its underscore). */
static void take_import(struct legacy *L, const char *s, size_t len, int weak, int dedup)
{
    strip_underscore(&s, &len);
    if (!starts_with(s, len, "Py") && !starts_with(s, len, "_Py"))
        return;
    if (dedup && seen_before(L, s, len))
        return;
    L->out->n_pysyms++;
    L->out->n_pysyms_weak += weak != 0;
    if (!L->exports)
        abigate__keep_symbol(L->syms, s, len, weak);
}

/* A defined, external name (raw). */
static void take_export(struct legacy *L, const char *s, size_t len, int private_extern)
{
    abigate_file_info *out = L->out;
    strip_underscore(&s, &len);
    if (!private_extern && (starts_with(s, len, "Py") || starts_with(s, len, "_Py"))) {
        out->n_pyexports++;
        if (L->exports)
            abigate__keep_symbol(L->syms, s, len, 0);
    }
    if (starts_with(s, len, "PyInit_") || starts_with(s, len, "PyInitU_")) {
        if (out->n_pyinit++ == 0)
            abigate__copy_clamped(out->pyinit, sizeof out->pyinit, s, len);
    } else if (starts_with(s, len, "PyModExport_")) {
        if (out->n_modexport++ == 0)
            abigate__copy_clamped(out->modexport, sizeof out->modexport, s, len);
    }
}

/* ------------------------------------------------------------------ LC_SYMTAB */

/* Walk the nlist entries; *n_undef counts the undefined external ones. */
static int read_symtab(struct macho *m, struct legacy *L, const unsigned char *c, uint64_t at,
                       uint64_t *n_undef)
{
    uint32_t symoff = abigate__get32(c + 8, m->be), nsyms = abigate__get32(c + 12, m->be);
    uint32_t stroff = abigate__get32(c + 16, m->be), strsize = abigate__get32(c + 20, m->be);
    const unsigned entsize = m->is64 ? 16 : 12;
    if (nsyms > ABIGATE_MAX_SYMS)
        return BAD(m, at, "%u symbols, the cap is %u", nsyms, ABIGATE_MAX_SYMS);
    int rc = region(m, symoff, (uint64_t)nsyms * entsize, at, "symbol table");
    if (rc)
        return rc;
    struct strtab *t = malloc(sizeof *t);
    unsigned char *chunk = malloc((size_t)SYM_CHUNK * entsize);
    if (!t || !chunk) {
        free(t);
        free(chunk);
        return abigate__fail(m->err, ABIGATE_E_NOMEM, (int64_t)(m->base + at),
                             "no memory for the symbol table");
    }
    if ((rc = strtab_open(m, t, stroff, strsize, at)))
        goto out;
    for (uint32_t i = 0; i < nsyms; i++) {
        uint32_t k = i % SYM_CHUNK;
        if (k == 0) {
            uint32_t n = nsyms - i < SYM_CHUNK ? nsyms - i : SYM_CHUNK;
            if ((rc = rd(m, symoff + (uint64_t)i * entsize, chunk, (size_t)n * entsize,
                         "symbol table")))
                goto out;
        }
        const unsigned char *e = chunk + (size_t)k * entsize;
        uint32_t strx = abigate__get32(e, m->be);
        unsigned type = e[4];
        unsigned desc = abigate__get16(e + 6, m->be);
        if ((type & N_STAB) || !(type & N_EXT))
            continue;
        int undef = (type & N_TYPE) == N_UNDF, defined = (type & N_TYPE) == N_SECT;
        if (!undef && !defined)
            continue;
        *n_undef += (uint64_t)undef;
        if (strx == 0)
            continue; /* no name */
        const char *s;
        size_t len;
        int got = strtab_py_name(m, t, strx, symoff + (uint64_t)i * entsize, &s, &len);
        if (got < 0) {
            rc = got;
            goto out;
        }
        if (!got)
            continue;
        if (undef)
            take_import(L, s, len, (desc & N_WEAK_REF) != 0, 0);
        else
            take_export(L, s, len, (type & N_PEXT) != 0);
    }
out:
    free(t->whole);
    free(t);
    free(chunk);
    return rc;
}

/* ------------------------------------------------------------------ chained fixups */

/* The imports of LC_DYLD_CHAINED_FIXUPS (a dyld_chained_fixups_header at
 * dataoff, its import table and the names after symbols_offset). */
static int read_chained(struct macho *m, struct legacy *L, const unsigned char *c, uint64_t at)
{
    uint32_t dataoff = abigate__get32(c + 8, m->be), datasize = abigate__get32(c + 12, m->be);
    unsigned char h[28];
    int rc = region(m, dataoff, datasize, at, "chained fixups");
    if (rc)
        return rc;
    if (datasize < sizeof h)
        return BAD(m, at, "chained fixups of %u bytes, shorter than their header", datasize);
    if ((rc = rd(m, dataoff, h, sizeof h, "chained fixups header")))
        return rc;
    uint32_t version = abigate__get32(h, m->be), imports_offset = abigate__get32(h + 8, m->be);
    uint32_t symbols_offset = abigate__get32(h + 12, m->be);
    uint32_t count = abigate__get32(h + 16, m->be), format = abigate__get32(h + 20, m->be);
    uint32_t symbols_format = abigate__get32(h + 24, m->be);
    if (version != 0)
        return BAD(m, dataoff, "chained fixups version %u, only 0 is known", version);
    if (symbols_format != 0)
        return BAD(m, dataoff + 24, "chained fixups symbols_format %u (compressed names), only "
                                    "0 is read",
                   symbols_format);
    unsigned entsize = format == 1 ? 4 : format == 2 ? 8 : format == 3 ? 16 : 0;
    if (!entsize)
        return BAD(m, dataoff + 20, "chained fixups imports_format %u, not 1, 2 or 3", format);
    if (count > ABIGATE_MAX_SYMS)
        return BAD(m, dataoff + 16, "%u chained imports, the cap is %u", count,
                   ABIGATE_MAX_SYMS);
    if (abigate__out_of_bounds(imports_offset, (uint64_t)count * entsize, datasize) ||
        symbols_offset > datasize)
        return BAD(m, dataoff, "chained imports (%u at %u, names at %u) run past their %u "
                               "bytes",
                   count, imports_offset, symbols_offset, datasize);
    unsigned char *imports;
    if ((rc = rd_alloc(m, (uint64_t)dataoff + imports_offset, (uint64_t)count * entsize, at,
                       "chained imports", &imports)))
        return rc;
    struct strtab *t = malloc(sizeof *t);
    if (!t) {
        free(imports);
        return abigate__fail(m->err, ABIGATE_E_NOMEM, (int64_t)(m->base + at),
                             "no memory for the chained imports");
    }
    t->whole = NULL;
    if ((rc = strtab_open(m, t, (uint64_t)dataoff + symbols_offset,
                          datasize - symbols_offset, at)))
        goto out;
    for (uint32_t i = 0; i < count; i++) {
        const unsigned char *e = imports + (size_t)i * entsize;
        uint32_t w = abigate__get32(e, m->be), name;
        int weak;
        if (format == 3) {
            weak = (w >> 16) & 1;
            name = abigate__get32(e + 4, m->be);
        } else {
            weak = (w >> 8) & 1;
            name = w >> 9;
        }
        const char *s;
        size_t len;
        int got = strtab_py_name(m, t, name,
                                 (uint64_t)dataoff + imports_offset + (uint64_t)i * entsize, &s,
                                 &len);
        if (got < 0) {
            rc = got;
            goto out;
        }
        if (got)
            take_import(L, s, len, weak, 0);
    }
out:
    free(t->whole);
    free(t);
    free(imports);
    return rc;
}

/* ------------------------------------------------------------------ bind streams */

/* Skip a ULEB128 (sleb: SLEB128) at *pos of p[n]; -1 when it runs off the
 * stream or past 64 bits. */
static int skip_leb(const unsigned char *p, size_t n, size_t *pos, int sleb)
{
    for (unsigned shift = 0;; shift += 7) {
        if (*pos >= n || shift > 63)
            return -1;
        unsigned char b = p[(*pos)++];
        if (shift == 63) {
            unsigned rest = b & 0x7fu; /* bit 0 is bit 63 of the value */
            if ((b & 0x80u) || (sleb ? rest != 0 && rest != 0x7fu : rest > 1))
                return -1;
            return 0;
        }
        if (!(b & 0x80u))
            return 0;
    }
}

/* Walk one bind opcode stream (dyld's BIND_OPCODE_*); the names come from
 * SET_SYMBOL_TRAILING_FLAGS_IMM (flag 1: a weak import). */
static int read_bind(struct macho *m, struct legacy *L, uint32_t off, uint32_t size, uint64_t at,
                     const char *what)
{
    unsigned char *p;
    int rc = rd_alloc(m, off, size, at, what, &p);
    if (rc || !p)
        return rc;
    size_t pos = 0, n = size;
    while (pos < n) {
        size_t op_at = pos;
        unsigned char b = p[pos++];
        unsigned op = b & 0xf0u, imm = b & 0x0fu;
        const char *bad = NULL;
        switch (op) {
        case 0x00: /* DONE: lazy streams go on after it */
        case 0x10: /* SET_DYLIB_ORDINAL_IMM */
        case 0x30: /* SET_DYLIB_SPECIAL_IMM */
        case 0x50: /* SET_TYPE_IMM */
        case 0x90: /* DO_BIND */
        case 0xb0: /* DO_BIND_ADD_ADDR_IMM_SCALED */
            break;
        case 0x20: /* SET_DYLIB_ORDINAL_ULEB */
        case 0x70: /* SET_SEGMENT_AND_OFFSET_ULEB */
        case 0x80: /* ADD_ADDR_ULEB */
        case 0xa0: /* DO_BIND_ADD_ADDR_ULEB */
            if (skip_leb(p, n, &pos, 0))
                bad = "its ULEB128 operand runs off the stream or past 64 bits";
            break;
        case 0x60: /* SET_ADDEND_SLEB */
            if (skip_leb(p, n, &pos, 1))
                bad = "its SLEB128 operand runs off the stream or past 64 bits";
            break;
        case 0xc0: /* DO_BIND_ULEB_TIMES_SKIPPING_ULEB */
            if (skip_leb(p, n, &pos, 0) || skip_leb(p, n, &pos, 0))
                bad = "its ULEB128 operands run off the stream or past 64 bits";
            break;
        case 0xd0: /* THREADED: SET_BIND_ORDINAL_TABLE_SIZE_ULEB, APPLY */
            if (imm > 1)
                bad = "unknown threaded sub-opcode";
            else if (imm == 0 && skip_leb(p, n, &pos, 0))
                bad = "its ULEB128 operand runs off the stream or past 64 bits";
            break;
        case 0x40: { /* SET_SYMBOL_TRAILING_FLAGS_IMM, then a C string */
            const unsigned char *nul = memchr(p + pos, 0, n - pos);
            if (!nul) {
                bad = "its symbol name runs off the stream";
                break;
            }
            size_t len = (size_t)(nul - (p + pos));
            const char *s = (const char *)p + pos;
            pos += len + 1;
            unsigned char head[4] = {0, 0, 0, 0};
            memcpy(head, s, len < 4 ? len : 4);
            if (!may_matter(head))
                break;
            if (len >= STRING_MAX) {
                free(p);
                return BAD(m, off + op_at + 1, "name in the %s is longer than %u bytes", what,
                           STRING_MAX);
            }
            take_import(L, s, len, imm & 1, 1);
            break;
        }
        default:
            bad = "unknown opcode";
        }
        if (bad) {
            free(p);
            return BAD(m, off + op_at, "%s: opcode 0x%02x at byte %zu: %s", what, b, op_at, bad);
        }
    }
    free(p);
    return ABIGATE_OK;
}

/* The bind and lazy bind streams of LC_DYLD_INFO(_ONLY).  The weak bind
 * stream names the weak definitions a file coalesces, not its imports:
 * not read. */
static int read_dyld_info(struct macho *m, struct legacy *L, const unsigned char *c, uint64_t at)
{
    L->seen = calloc(SEEN_SLOTS, sizeof *L->seen);
    L->n_seen = 0;
    int rc = read_bind(m, L, abigate__get32(c + 16, m->be), abigate__get32(c + 20, m->be), at,
                       "bind stream");
    if (!rc)
        rc = read_bind(m, L, abigate__get32(c + 32, m->be), abigate__get32(c + 36, m->be), at,
                       "lazy bind stream");
    free(L->seen);
    L->seen = NULL;
    return rc;
}

/* ------------------------------------------------------------------ the native record
 *
 * CPython's own PyABIInfo (3.15's Py_mod_abi slot) in a Mach-O image: a
 * module slot array ({int slot; void *value}, or 3.15's 16-byte PySlot)
 * lies in an initialised data section of a segment that is not code, its
 * pointers fixed up by dyld from one of two sources:
 *
 *   - the rebase opcodes of LC_DYLD_INFO(_ONLY): the word in place is the
 *     target's unslid vmaddr, the stream lists the places (segment index
 *     and offset);
 *   - LC_DYLD_CHAINED_FIXUPS (newer ld64): the word in place is a chain
 *     entry; starts_in_image -> starts_in_segment -> page_start[] say where
 *     each page's chain starts, `next` (in 4-byte strides) moves forward
 *     inside the page.  DYLD_CHAINED_PTR_64 (2: the target a vmaddr) and
 *     _64_OFFSET (6: an offset from the mach header) are read; the arm64e
 *     formats (1, 9, 12) and the 32-bit ones are not (no evidence).
 *
 * Both are decoded into one sorted set of places, each with its target
 * (a rebase's: the word in place; a chained bind's: none), bounded
 * (MACHO_MAX_FIXUPS places or chain entries, every place inside its
 * segment).  A malformed stream or chain is no evidence, never wrong
 * evidence: the set is dropped, the read goes on.  An array is then taken
 * as in an ELF or PE file (docs/FORMAT.md, "The native record"): from an
 * aligned Py_mod_abi entry (or, in a file without a record, Py_mod_exec /
 * Py_mod_create of 3.15's numbering) forward to its {0, NULL} terminator,
 * every slot an ID of PEP 820's numbering, every pointer slot's place
 * rebased (not bound) to a target inside a segment of the image, no fixup
 * on an integer slot or the terminator.  Every module's must agree. */

#define MACHO_MAX_FIXUPS (1u << 20)  /* rebased places or chain entries */
#define MACHO_MAX_DATA (16u << 20)   /* bytes of one data section searched for slots */
#define VM_PROT_EXECUTE 0x4u
#define S_REGULAR 0x0u
#define REBASE_TYPE_POINTER 1u
#define CHAINED_PTR_64 2u
#define CHAINED_PTR_64_OFFSET 6u
#define CHAINED_PTR_START_NONE 0xffffu
#define CHAINED_PTR_START_MULTI 0x8000u
#define FIX_IN_PLACE UINT64_MAX      /* a rebase: the target is the word in place */
#define FIX_NOT_PLAIN (UINT64_MAX - 1) /* a chained bind or tagged pointer: no target */

struct seg {
    const unsigned char *cmd;    /* its command, in m->cmds */
    uint64_t vmaddr, vmsize, fileoff, filesize;
    uint32_t initprot, nsects;
};

struct fixup {
    uint64_t place;
    uint64_t target;         /* a vmaddr, FIX_IN_PLACE or FIX_NOT_PLAIN */
};

struct fixups {
    struct fixup *v;
    size_t n, cap;
    size_t walked;           /* places and chain entries decoded, in all */
};

struct native {
    struct macho *m;
    struct seg *seg;
    unsigned nseg;
    struct fixups f;
    struct abigate__native_found found;
};

/* The segments, in command order (their indices), each checked: the
 * file part inside the thin file, no range wrapping.  0 when there are
 * none, too many, or one is malformed (then no native record). */
static unsigned read_segs(struct macho *m, struct seg *seg)
{
    if (m->nsegs > MAX_SEGS)
        return 0;
    for (unsigned i = 0; i < m->nsegs; i++) {
        const unsigned char *c = m->segcmd[i];
        struct seg *s = &seg[i];
        s->cmd = c;
        if (m->is64) {
            s->vmaddr = abigate__get64(c + 24, m->be);
            s->vmsize = abigate__get64(c + 32, m->be);
            s->fileoff = abigate__get64(c + 40, m->be);
            s->filesize = abigate__get64(c + 48, m->be);
            s->initprot = abigate__get32(c + 60, m->be);
            s->nsects = abigate__get32(c + 64, m->be);
        } else {
            s->vmaddr = abigate__get32(c + 24, m->be);
            s->vmsize = abigate__get32(c + 28, m->be);
            s->fileoff = abigate__get32(c + 32, m->be);
            s->filesize = abigate__get32(c + 36, m->be);
            s->initprot = abigate__get32(c + 44, m->be);
            s->nsects = abigate__get32(c + 48, m->be);
        }
        if (s->vmsize > UINT64_MAX - s->vmaddr || s->filesize > s->vmsize ||
            abigate__out_of_bounds(s->fileoff, s->filesize, m->size))
            return 0;
    }
    return m->nsegs;
}

/* 1 and the file offset of [addr, addr+len) in *off when one segment's
 * file part holds it; 0 when none does. */
static int vm_to_file(const struct native *x, uint64_t addr, uint64_t len, uint64_t *off)
{
    for (unsigned i = 0; i < x->nseg; i++) {
        const struct seg *s = &x->seg[i];
        if (addr >= s->vmaddr && s->filesize >= len && addr - s->vmaddr <= s->filesize - len) {
            *off = s->fileoff + (addr - s->vmaddr);
            return 1;
        }
    }
    return 0;
}

/* 1 when `addr` is inside a mapped (not PROT_NONE) segment of the image. */
static int in_image(const struct native *x, uint64_t addr)
{
    for (unsigned i = 0; i < x->nseg; i++) {
        const struct seg *s = &x->seg[i];
        if (s->initprot && addr >= s->vmaddr && addr - s->vmaddr < s->vmsize)
            return 1;
    }
    return 0;
}

/* The image base, the vmaddr the mach header is mapped at: the segment
 * whose file part starts at offset 0 (__TEXT).  0 when there is none. */
static int image_base(const struct native *x, uint64_t *base)
{
    for (unsigned i = 0; i < x->nseg; i++)
        if (x->seg[i].fileoff == 0 && x->seg[i].filesize) {
            *base = x->seg[i].vmaddr;
            return 1;
        }
    return 0;
}

static int fix_add(struct fixups *f, uint64_t place, uint64_t target)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 256;
        struct fixup *v = cap <= MACHO_MAX_FIXUPS ? realloc(f->v, cap * sizeof *v) : NULL;
        if (!v)
            return -1;
        f->v = v;
        f->cap = cap;
    }
    f->v[f->n].place = place;
    f->v[f->n++].target = target;
    return 0;
}

static int cmp_fixup(const void *a, const void *b)
{
    uint64_t x = ((const struct fixup *)a)->place, y = ((const struct fixup *)b)->place;
    return x < y ? -1 : x > y;
}

static const struct fixup *fix_find(const struct fixups *f, uint64_t place)
{
    struct fixup key = {place, 0};
    return f->v ? bsearch(&key, f->v, f->n, sizeof key, cmp_fixup) : NULL;
}

/* A ULEB128 at *pos of p[n] into *v; -1 when it runs off the stream or
 * past 64 bits. */
static int read_uleb(const unsigned char *p, size_t n, size_t *pos, uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0;; shift += 7) {
        if (*pos >= n || shift > 63)
            return -1;
        unsigned char b = p[(*pos)++];
        if (shift == 63 && (b & 0x7eu))
            return -1;
        *v |= (uint64_t)(b & 0x7fu) << shift;
        if (!(b & 0x80u))
            return 0;
    }
}

/* The places the rebase stream of LC_DYLD_INFO(_ONLY) at c lists as
 * pointers (REBASE_TYPE_POINTER) into f; -1 when it is malformed (an
 * unknown opcode, an operand off the stream, a place outside its
 * segment, more than MACHO_MAX_FIXUPS places). */
static int read_rebase(struct native *x, const unsigned char *c)
{
    struct macho *m = x->m;
    uint32_t off = abigate__get32(c + 8, m->be), size = abigate__get32(c + 12, m->be);
    unsigned char *p;
    if (size == 0)
        return 0;
    if (rd_alloc(m, off, size, off, "rebase stream", &p)) {
        abigate__ok(m->err); /* not a reason to refuse the file: no record found */
        return -1;
    }
    const unsigned w = m->is64 ? 8 : 4;
    unsigned type = 0, segi = 0;
    int have_seg = 0, rc = 0;
    uint64_t addr = 0;
    size_t pos = 0;
    while (!rc && pos < size) {
        unsigned char b = p[pos++];
        unsigned imm = b & 0x0fu;
        uint64_t times = 0, skip = 0, v;
        switch (b & 0xf0u) {
        case 0x00: /* DONE */
            pos = size;
            break;
        case 0x10: /* SET_TYPE_IMM */
            type = imm;
            break;
        case 0x20: /* SET_SEGMENT_AND_OFFSET_ULEB */
            segi = imm;
            have_seg = 1;
            rc = read_uleb(p, size, &pos, &addr);
            break;
        case 0x30: /* ADD_ADDR_ULEB */
            if (!(rc = read_uleb(p, size, &pos, &v)))
                addr += v;
            break;
        case 0x40: /* ADD_ADDR_IMM_SCALED */
            addr += (uint64_t)imm * w;
            break;
        case 0x50: /* DO_REBASE_IMM_TIMES */
            times = imm;
            break;
        case 0x60: /* DO_REBASE_ULEB_TIMES */
            rc = read_uleb(p, size, &pos, &times);
            break;
        case 0x70: /* DO_REBASE_ADD_ADDR_ULEB */
            times = 1;
            rc = read_uleb(p, size, &pos, &skip);
            break;
        case 0x80: /* DO_REBASE_ULEB_TIMES_SKIPPING_ULEB */
            rc = read_uleb(p, size, &pos, &times) || read_uleb(p, size, &pos, &skip);
            break;
        default:
            rc = -1;
        }
        /* each place is checked and counted: a count of 2^64 stops at the cap */
        for (uint64_t k = 0; !rc && k < times; k++) {
            const struct seg *s = &x->seg[segi];
            if (!have_seg || segi >= x->nseg || x->f.walked++ >= MACHO_MAX_FIXUPS ||
                addr > s->vmsize || s->vmsize - addr < w)
                rc = -1;
            else if (type == REBASE_TYPE_POINTER)
                rc = fix_add(&x->f, s->vmaddr + addr, FIX_IN_PLACE);
            addr += skip + w;
        }
    }
    free(p);
    return rc;
}

/* The chains of one segment (its dyld_chained_starts_in_segment at s,
 * `len` bytes of the blob from there); -1 when malformed. */
static int read_seg_chains(struct native *x, unsigned i, const unsigned char *s, uint32_t len,
                           uint64_t base, unsigned char *page)
{
    struct macho *m = x->m;
    if (len < 22)
        return -1;
    uint32_t size = abigate__get32(s, m->be);
    unsigned page_size = abigate__get16(s + 4, m->be), format = abigate__get16(s + 6, m->be);
    uint64_t seg_offset = abigate__get64(s + 8, m->be);
    unsigned page_count = abigate__get16(s + 20, m->be);
    const struct seg *sg = &x->seg[i];
    if (size > len || size < 22 + 2u * page_count || sg->vmaddr < base ||
        seg_offset != sg->vmaddr - base)
        return -1; /* malformed, or a segment other than dyld's */
    if (format != CHAINED_PTR_64 && format != CHAINED_PTR_64_OFFSET)
        return 0; /* arm64e and 32-bit formats: not read, no evidence */
    if (page_size < 8)
        return -1;
    for (unsigned pg = 0; pg < page_count; pg++) {
        unsigned start = abigate__get16(s + 22 + 2 * pg, m->be);
        if (start == CHAINED_PTR_START_NONE)
            continue;
        if (start & CHAINED_PTR_START_MULTI)
            return -1; /* only the 32-bit formats have several starts a page */
        /* the page, as much of it as the segment's file part holds */
        uint64_t at = (uint64_t)pg * page_size, addr = sg->vmaddr + at;
        if (at >= sg->filesize)
            return -1;
        uint64_t have = sg->filesize - at;
        size_t plen = have < page_size ? (size_t)have : page_size;
        if (rd(m, sg->fileoff + at, page, plen, "a chained fixups page")) {
            abigate__ok(m->err);
            return -1;
        }
        for (size_t off = start;;) {
            if (x->f.walked++ >= MACHO_MAX_FIXUPS || plen < 8 || off > plen - 8)
                return -1;
            uint64_t v = abigate__get64(page + off, m->be);
            unsigned next = (unsigned)(v >> 51) & 0xfffu;
            uint64_t target = v & 0xfffffffffull;
            if ((v >> 63) || ((v >> 36) & 0xffu))
                target = FIX_NOT_PLAIN; /* a bind, or a rebase with its high8 set */
            else if (format == CHAINED_PTR_64_OFFSET)
                target += base;
            if (fix_add(&x->f, addr + off, target))
                return -1;
            if (!next)
                break;
            off += (size_t)next * 4;
        }
    }
    return 0;
}

/* The rebases of LC_DYLD_CHAINED_FIXUPS at c into f; -1 when malformed. */
static int read_chains(struct native *x, const unsigned char *c)
{
    struct macho *m = x->m;
    uint32_t dataoff = abigate__get32(c + 8, m->be), datasize = abigate__get32(c + 12, m->be);
    uint64_t base;
    unsigned char *d, *page;
    if (!m->is64 || !image_base(x, &base))
        return -1;
    if (rd_alloc(m, dataoff, datasize, dataoff, "chained fixups", &d)) {
        abigate__ok(m->err);
        return -1;
    }
    int rc = -1;
    if (!d || datasize < 28 || !(page = malloc(65536)))
        goto out;
    uint32_t starts = abigate__get32(d + 4, m->be);
    if (abigate__get32(d, m->be) != 0 || starts > datasize || datasize - starts < 4)
        goto done;
    uint32_t left = datasize - starts, nseg = abigate__get32(d + starts, m->be);
    if (nseg > (left - 4) / 4 || nseg > x->nseg)
        goto done;
    rc = 0;
    for (uint32_t i = 0; !rc && i < nseg; i++) {
        uint32_t so = abigate__get32(d + starts + 4 + 4 * (size_t)i, m->be);
        if (so == 0)
            continue;
        rc = so >= left ? -1 : read_seg_chains(x, i, d + starts + so, left - so, base, page);
    }
done:
    free(page);
out:
    free(d);
    return rc;
}

/* The reader's questions (slots.c), for a Mach-O image: a place and a
 * target are vmaddrs. */
static int macho_fixed(void *ctx, uint64_t place, uint64_t in_place, uint64_t *target)
{
    const struct fixup *fx = fix_find(&((const struct native *)ctx)->f, place);
    if (!fx)
        return 0;
    if (fx->target == FIX_NOT_PLAIN)
        return -1;
    *target = fx->target == FIX_IN_PLACE ? in_place : fx->target;
    return 1;
}

static int macho_inside(void *ctx, uint64_t addr)
{
    return in_image(ctx, addr);
}

static int macho_read_abi(void *ctx, uint64_t addr, unsigned char b[12], uint64_t *offset)
{
    const struct native *x = ctx;
    uint64_t off;
    if (!vm_to_file(x, addr, 12, &off))
        return -1;
    if (rd(x->m, off, b, 12, "a PyABIInfo")) {
        abigate__ok(x->m->err);
        return -1;
    }
    *offset = x->m->base + off;
    return 0;
}

static void find_native(struct native *x, int own_record)
{
    struct macho *m = x->m;
    struct abigate__slot_reader r = {m->be, m->is64, macho_fixed, macho_inside, macho_read_abi, x};
    const unsigned hsize = m->is64 ? 72 : 56, ssize = m->is64 ? 80 : 68;
    for (unsigned i = 0; i < x->nseg && x->found.arrays < ABIGATE__SLOT_ARRAYS_MAX; i++) {
        const struct seg *s = &x->seg[i];
        if (s->initprot & VM_PROT_EXECUTE)
            continue;
        for (uint32_t k = 0; k < s->nsects && x->found.arrays < ABIGATE__SLOT_ARRAYS_MAX; k++) {
            const unsigned char *sc = s->cmd + hsize + (size_t)k * ssize;
            uint64_t addr = m->is64 ? abigate__get64(sc + 32, m->be)
                                    : abigate__get32(sc + 32, m->be);
            uint64_t size = m->is64 ? abigate__get64(sc + 40, m->be)
                                    : abigate__get32(sc + 36, m->be);
            uint32_t flags = abigate__get32(sc + (m->is64 ? 64 : 56), m->be);
            uint64_t off;
            unsigned char *data;
            if ((flags & SECTION_TYPE) != S_REGULAR || size == 0 || size > MACHO_MAX_DATA ||
                addr < s->vmaddr || size > s->filesize || addr - s->vmaddr > s->filesize - size)
                continue;
            off = s->fileoff + (addr - s->vmaddr);
            if (rd_alloc(m, off, size, off, "a data section", &data)) {
                abigate__ok(m->err);
                continue;
            }
            abigate__slot_search(&r, data, size, addr, own_record, &x->found);
            free(data);
        }
    }
}

/* The native record joins abigate's as elf.c's parse does: the record
 * where there is none of abigate's; a conflict where both differ.
 * dyld_info and chained: the commands (NULL: none). */
static void take_native(struct macho *m, const unsigned char *dyld_info,
                        const unsigned char *chained, abigate_file_info *out)
{
    int own = out->record_state != ABIGATE_RECORD_ABSENT;
    if (!abigate__native_wanted(out))
        return;
    struct native x;
    memset(&x, 0, sizeof x);
    x.m = m;
    if (!(x.seg = calloc(MAX_SEGS, sizeof *x.seg)) || !(x.nseg = read_segs(m, x.seg)))
        goto out;
    if ((dyld_info && read_rebase(&x, dyld_info)) || (chained && read_chains(&x, chained)) ||
        !x.f.n)
        goto out; /* no evidence */
    qsort(x.f.v, x.f.n, sizeof *x.f.v, cmp_fixup);
    find_native(&x, own);
    abigate__native_join(&x.found, m->is64 ? 8 : 4, out);
out:
    free(x.f.v);
    free(x.seg);
}

/* ------------------------------------------------------------------ load commands */

/* The sections of an LC_SEGMENT(_64) at c (cmdsize bytes, checked): a
 * section named __abigate holds the record note. */
static int read_segment(struct macho *m, const unsigned char *c, uint32_t cmdsize, uint64_t at,
                        abigate_file_info *out)
{
    const unsigned hsize = m->is64 ? 72 : 56, ssize = m->is64 ? 80 : 68;
    if (cmdsize < hsize)
        return BAD(m, at, "segment command of %u bytes, shorter than its %u", cmdsize, hsize);
    uint32_t nsects = abigate__get32(c + (m->is64 ? 64 : 48), m->be);
    if (nsects > (cmdsize - hsize) / ssize)
        return BAD(m, at, "segment command of %u bytes cannot hold its %u sections", cmdsize,
                   nsects);
    for (uint32_t i = 0; i < nsects; i++) {
        const unsigned char *sc = c + hsize + (size_t)i * ssize;
        uint64_t sat = at + hsize + (uint64_t)i * ssize;
        if (memcmp(sc, "__abigate", 10) != 0)
            continue;
        uint64_t size = m->is64 ? abigate__get64(sc + 40, m->be) : abigate__get32(sc + 36, m->be);
        uint32_t offset = abigate__get32(sc + (m->is64 ? 48 : 40), m->be);
        uint32_t flags = abigate__get32(sc + (m->is64 ? 64 : 56), m->be);
        uint32_t type = flags & SECTION_TYPE;
        if (type == S_ZEROFILL || type == S_GB_ZEROFILL || type == S_THREAD_LOCAL_ZEROFILL ||
            size == 0)
            continue;
        int rc = region(m, offset, size, sat, "__abigate section");
        if (rc)
            return rc;
        abigate_file_info prev = *out;
        if ((rc = abigate__scan_record_notes(m->s, m->base + offset, size, m->be, out)))
            return rc;
        if (prev.record_state && out->record_offset != prev.record_offset) {
            const abigate_record *a = &prev.record, *b = &out->record;
            if (prev.record_state != out->record_state || a->major != b->major ||
                a->minor != b->minor || a->size != b->size ||
                memcmp(&a->abiinfo, &b->abiinfo, sizeof a->abiinfo) != 0 ||
                a->limited_api != b->limited_api || a->target_abi3t != b->target_abi3t ||
                a->flags != b->flags || a->pointer_size != b->pointer_size)
                return abigate__fail(m->err, ABIGATE_E_RECORD_CONFLICT,
                                     (int64_t)out->record_offset,
                                     "abigate records at offsets %llu and %llu differ",
                                     (unsigned long long)prev.record_offset,
                                     (unsigned long long)out->record_offset);
            out->record_via = prev.record_via; /* the same record: keep the first */
            out->record_offset = prev.record_offset;
        }
    }
    return ABIGATE_OK;
}

/* A dylib command's name (lc_str offset at c+8, inside the command). */
static int read_dylib(struct macho *m, const unsigned char *c, uint32_t cmdsize, uint64_t at,
                      abigate_file_info *out)
{
    if (cmdsize < 24)
        return BAD(m, at, "dylib command of %u bytes, shorter than its 24", cmdsize);
    uint32_t name = abigate__get32(c + 8, m->be);
    if (name < 24 || name >= cmdsize)
        return BAD(m, at, "dylib name at %u is outside its command (%u bytes)", name, cmdsize);
    const char *s = (const char *)c + name;
    const char *nul = memchr(s, 0, cmdsize - name);
    if (!nul)
        return BAD(m, at + name, "dylib name is not terminated inside its command");
    size_t len = (size_t)(nul - s);
    out->n_needed++;
    if (contains(s, len, "libpython") || contains(s, len, "Python.framework") ||
        (len >= 7 && memcmp(s + len - 7, "/Python", 7) == 0)) {
        if (out->n_libpython < ABIGATE_MAX_LIBPYTHON)
            abigate__copy_clamped(out->libpython[out->n_libpython], ABIGATE_NAME_MAX, s, len);
        out->n_libpython++;
    }
    return ABIGATE_OK;
}

/* Parse the thin file [base, base+size): its identity, its record (not
 * read again when `legacy`: the first call did), and with `legacy` its
 * legacy facts. */
static int parse_thin(struct macho *m, int legacy, int exports, abigate_file_info *out,
                      abigate_symbols *syms)
{
    unsigned char h[32];
    int rc;
    if (m->size < 4)
        return BAD(m, 0, "Mach-O header truncated: %llu bytes", (unsigned long long)m->size);
    if ((rc = rd(m, 0, h, 4, "Mach-O magic")))
        return rc;
    if (!thin_magic(h, &m->be, &m->is64))
        return BAD(m, 0, "not a thin Mach-O file (magic 0x%08x)", be32(h));
    m->hdr_size = m->is64 ? 32 : 28;
    if (m->size < m->hdr_size)
        return BAD(m, 0, "Mach-O header truncated: %llu bytes of %u", (unsigned long long)m->size,
                   m->hdr_size);
    if ((rc = rd(m, 0, h, m->hdr_size, "Mach-O header")))
        return rc;
    uint32_t cputype = abigate__get32(h + 4, m->be), filetype = abigate__get32(h + 12, m->be);
    m->ncmds = abigate__get32(h + 16, m->be);
    m->sizeofcmds = abigate__get32(h + 20, m->be);
    out->format = ABIGATE_FORMAT_MACHO;
    out->machine = elf_machine(cputype);
    out->elf_class = m->is64 ? 64 : 32;
    out->big_endian = (unsigned)m->be;
    out->elf_type = elf_type(filetype);
    if (m->ncmds > MAX_NCMDS)
        return BAD(m, 16, "%u load commands, the cap is %u", m->ncmds, MAX_NCMDS);
    if (m->sizeofcmds > MAX_SIZEOFCMDS)
        return BAD(m, 20, "%u bytes of load commands, the cap is %u", m->sizeofcmds,
                   MAX_SIZEOFCMDS);
    if ((uint64_t)m->ncmds * 8 > m->sizeofcmds)
        return BAD(m, 16, "%u load commands cannot fit in %u bytes", m->ncmds, m->sizeofcmds);
    if ((rc = rd_alloc(m, m->hdr_size, m->sizeofcmds, 20, "load commands", &m->cmds)))
        return rc;

    struct legacy L = {out, syms, exports, NULL, 0};
    const unsigned char *symtab = NULL, *chained = NULL, *dyld_info = NULL;
    uint64_t symtab_at = 0, chained_at = 0, dyld_info_at = 0;
    int have_build = 0;
    uint32_t pos = 0;
    for (uint32_t i = 0; i < m->ncmds; i++) {
        const unsigned char *c = m->cmds + pos;
        uint64_t at = m->hdr_size + (uint64_t)pos;
        if (m->sizeofcmds - pos < 8)
            return BAD(m, at, "load command %u of %u runs past sizeofcmds (%u)", i, m->ncmds,
                       m->sizeofcmds);
        uint32_t cmd = abigate__get32(c, m->be), cmdsize = abigate__get32(c + 4, m->be);
        if (cmdsize < 8 || cmdsize % 4 != 0 || cmdsize > m->sizeofcmds - pos)
            return BAD(m, at, "load command %u (0x%x) has cmdsize %u (%u bytes of commands "
                              "left)",
                       i, cmd, cmdsize, m->sizeofcmds - pos);
        pos += cmdsize;
        switch (cmd) {
        case LC_SEGMENT:
        case LC_SEGMENT_64:
            if ((cmd == LC_SEGMENT_64) != m->is64)
                return BAD(m, at, "%s segment command in a %d-bit file",
                           m->is64 ? "32-bit" : "64-bit", m->is64 ? 64 : 32);
            if (!legacy && (rc = read_segment(m, c, cmdsize, at, out)))
                return rc;
            if (m->nsegs < MAX_SEGS)
                m->segcmd[m->nsegs] = c;
            m->nsegs += m->nsegs <= MAX_SEGS; /* MAX_SEGS + 1: too many */
            break;
        case LC_BUILD_VERSION:
            if (cmdsize < 24)
                return BAD(m, at, "LC_BUILD_VERSION of %u bytes, shorter than its 24", cmdsize);
            if (abigate__get32(c + 8, m->be) == PLATFORM_MACOS) {
                out->min_os = abigate__get32(c + 12, m->be);
                have_build = 1;
            }
            break;
        case LC_VERSION_MIN_MACOSX:
            if (cmdsize < 16)
                return BAD(m, at, "LC_VERSION_MIN_MACOSX of %u bytes, shorter than its 16",
                           cmdsize);
            if (!have_build)
                out->min_os = abigate__get32(c + 8, m->be);
            break;
        case LC_SYMTAB:
            if (cmdsize < 24)
                return BAD(m, at, "LC_SYMTAB of %u bytes, shorter than its 24", cmdsize);
            if (symtab)
                return BAD(m, at, "a second LC_SYMTAB");
            symtab = c;
            symtab_at = at;
            break;
        case LC_DYLD_CHAINED_FIXUPS:
            if (cmdsize < 16)
                return BAD(m, at, "LC_DYLD_CHAINED_FIXUPS of %u bytes, shorter than its 16",
                           cmdsize);
            if (!chained) {
                chained = c;
                chained_at = at;
            }
            break;
        case LC_DYLD_INFO:
        case LC_DYLD_INFO_ONLY:
            if (cmdsize < 48)
                return BAD(m, at, "LC_DYLD_INFO of %u bytes, shorter than its 48", cmdsize);
            if (!dyld_info) {
                dyld_info = c;
                dyld_info_at = at;
            }
            break;
        case LC_LOAD_DYLIB:
        case LC_LOAD_WEAK_DYLIB:
        case LC_REEXPORT_DYLIB:
        case LC_LAZY_LOAD_DYLIB:
        case LC_LOAD_UPWARD_DYLIB:
            if (legacy && (rc = read_dylib(m, c, cmdsize, at, out)))
                return rc;
            break;
        default:
            break;
        }
    }
    if (!legacy) {
        if (!exports)
            take_native(m, dyld_info, chained, out);
        return ABIGATE_OK;
    }
    uint64_t n_undef = 0;
    if (symtab && (rc = read_symtab(m, &L, symtab, symtab_at, &n_undef)))
        return rc;
    if (n_undef == 0 && chained)
        return read_chained(m, &L, chained, chained_at);
    if (n_undef == 0 && dyld_info)
        return read_dyld_info(m, &L, dyld_info, dyld_info_at);
    return ABIGATE_OK;
}

/* ------------------------------------------------------------------ fat files */

struct slice {
    uint64_t off, size;
};

/* Check the fat header at offset 0 and its slices: n_slices and slice[]
 * into out, the first slice into *first. */
static int read_fat(struct macho *m, abigate_file_info *out, struct slice *first)
{
    unsigned char h[8], e[32];
    uint64_t file_size;
    int rc = abigate__src_size(m->s, &file_size);
    if (rc)
        return rc;
    m->size = file_size;
    if ((rc = rd(m, 0, h, 8, "fat header")))
        return rc;
    int is64 = be32(h) == FAT_MAGIC_64;
    uint32_t nfat = be32(h + 4);
    unsigned entsize = is64 ? 32 : 20;
    if (nfat == 0)
        return BAD(m, 4, "universal file with no slices");
    if (nfat > ABIGATE_MAX_SLICES)
        return BAD(m, 4, "universal file with %u slices, the cap is %u", nfat,
                   ABIGATE_MAX_SLICES);
    uint64_t table_end = 8 + (uint64_t)nfat * entsize;
    if (table_end > file_size)
        return BAD(m, 8, "fat_arch table of %u entries runs past the end of the file (%llu "
                         "bytes)",
                   nfat, (unsigned long long)file_size);
    struct slice sl[ABIGATE_MAX_SLICES];
    for (uint32_t i = 0; i < nfat; i++) {
        uint64_t at = 8 + (uint64_t)i * entsize;
        if ((rc = rd(m, at, e, entsize, "fat_arch entry")))
            return rc;
        sl[i].off = is64 ? abigate__get64(e + 8, 1) : be32(e + 8);
        sl[i].size = is64 ? abigate__get64(e + 16, 1) : be32(e + 12);
        if (sl[i].off < table_end)
            return BAD(m, at, "slice %u at offset %llu overlaps the fat header (%llu bytes)", i,
                       (unsigned long long)sl[i].off, (unsigned long long)table_end);
        if (abigate__out_of_bounds(sl[i].off, sl[i].size, file_size))
            return BAD(m, at, "slice %u (%llu bytes at offset %llu) runs past the end of the "
                              "file (%llu bytes)",
                       i, (unsigned long long)sl[i].size, (unsigned long long)sl[i].off,
                       (unsigned long long)file_size);
        if (sl[i].size < 28)
            return BAD(m, at, "slice %u of %llu bytes cannot hold a Mach-O header", i,
                       (unsigned long long)sl[i].size);
        for (uint32_t j = 0; j < i; j++)
            if (sl[i].off < sl[j].off + sl[j].size && sl[j].off < sl[i].off + sl[i].size)
                return BAD(m, at, "slices %u and %u overlap", j, i);
        unsigned char sh[8];
        int be, thin64;
        if ((rc = rd(m, sl[i].off, sh, 8, "slice header")))
            return rc;
        if (!thin_magic(sh, &be, &thin64))
            return BAD(m, sl[i].off, "slice %u is not a thin Mach-O file (magic 0x%08x)", i,
                       be32(sh));
        out->slice[i].machine = elf_machine(abigate__get32(sh + 4, be));
        out->slice[i].elf_class = thin64 ? 64 : 32;
    }
    out->n_slices = nfat;
    *first = sl[0];
    return ABIGATE_OK;
}

int abigate__parse_macho(struct abigate__src *s, int legacy, int exports, abigate_file_info *out,
                         abigate_symbols *syms)
{
    struct macho m;
    unsigned char magic[4];
    memset(&m, 0, sizeof m);
    m.s = s;
    m.err = abigate__src_err(s);
    int rc = abigate__src_read(s, 0, magic, 4, ABIGATE_E_MACHO);
    if (rc)
        return rc;
    uint32_t mg = be32(magic);
    if (mg == FAT_MAGIC || mg == FAT_MAGIC_64) {
        struct slice first = {0, 0};
        if ((rc = read_fat(&m, out, &first)))
            return rc;
        m.base = first.off;
        m.size = first.size;
    } else if ((rc = abigate__src_size(s, &m.size))) {
        return rc;
    }
    rc = parse_thin(&m, legacy, exports, out, syms);
    free(m.cmds);
    return rc;
}
