/* elf.c -- the bounded ELF reader.
 *
 * Input is untrusted and is never executed or mapped: every byte comes
 * through src_read(), which checks the (offset, size) pair against the
 * input size in subtraction form before any I/O.  The first bytes are read
 * once into `head` (a file up to 16 KiB whole, else its first 4 KiB, or
 * 16 KiB from a descriptor, see abigate_read_fd); for an extension built
 * with <abigate/slot.h> the ELF header, the program headers and the note
 * all lie there, so reading the record costs exactly one pread.  Whatever
 * lies in the head is used where it is, without a copy or an allocation;
 * so is whatever lies in the tail (read_tail: the section headers and the
 * dynamic segment of a linked file, read together).
 *
 * Order of work:
 *   1. ELF identification and header (class, encoding, version, sizes);
 *   2. the record: PT_NOTE segments, then SHT_NOTE sections if the
 *      segments did not hold it (a file stripped of section headers still
 *      works; an unallocated note added by objcopy is still found);
 *   3. with ABIGATE_READ_LEGACY: PT_DYNAMIC (DT_NEEDED, string and symbol
 *      tables), then the dynamic symbols, from SHT_DYNSYM when section
 *      headers exist, else from DT_SYMTAB sized by DT_HASH / DT_GNU_HASH.
 * Every loop is bounded by a cap from abigate.h, so work and memory do not
 * grow with the file.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WHOLE_MAX (1u << 20) /* a string table up to this size is read whole */
#define WINDOW_SIZE 16384u
#define TAIL_SPAN 16384u /* section headers and dynamic segment read together within this */
#define TAIL_SPAN_DATA 65536u /* ... and the writable data before them (the native record) */
#define STRING_MAX 1024u /* longest symbol or library name examined */
#define MAX_NEEDED_SEEN ABIGATE__SEARCH_NEEDED
#define PH_CACHE 32u /* program headers kept decoded (the passes read them in order) */

#define PT_LOAD_ 1u
#define PT_DYNAMIC_ 2u
#define PT_NOTE_ 4u
#define PF_W_ 2u /* p_flags: writable */
#define SHT_NOTE_ 7u
#define SHT_DYNSYM_ 11u
#define DT_NULL_ 0
#define DT_NEEDED_ 1
#define DT_HASH_ 4
#define DT_STRTAB_ 5
#define DT_SYMTAB_ 6
#define DT_STRSZ_ 10
#define DT_SYMENT_ 11
#define DT_GNU_HASH_ 0x6ffffef5
#define DT_RPATH_ 15
#define DT_RUNPATH_ 29
#define DT_FLAGS_1_ 0x6ffffffb
#define DT_RELA_ 7
#define DT_RELASZ_ 8
#define DT_RELAENT_ 9
#define DT_REL_ 17
#define DT_RELSZ_ 18
#define DT_RELENT_ 19
#define DT_RELRSZ_ 35
#define DT_RELR_ 36
#define DT_RELRENT_ 37

/* ------------------------------------------------------------------ input */


/* The bytes [off, off+len) when they are in memory (the head, or the
 * tail), else NULL. */
static inline const unsigned char *src_mem(const struct abigate__src *s, uint64_t off, uint64_t len)
{
    if (off < s->head_len && s->head_len - off >= len)
        return s->head + off;
    if (s->tail && off >= s->tail_off && off - s->tail_off <= s->tail_len &&
        s->tail_len - (off - s->tail_off) >= len)
        return s->tail + (off - s->tail_off);
    return NULL;
}

/* Learn the size of an input read from a descriptor whose first read
 * filled the head (read_fd): fstat, once, only when a range past the head
 * is checked or at the end of the parse.  A failure (not a regular file,
 * or one now shorter than the head) fails the parse; read_fd then reports
 * the reason. */
static int learn_size(struct abigate__src *s)
{
    struct stat st;
    if (fstat(s->stat_fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size < s->head_len)
        return abigate__fail(s->err, ABIGATE_E_IO, -1, "the file changed while being read");
    s->size = (uint64_t)st.st_size;
    s->size_known = 1;
    return ABIGATE_OK;
}

/* 1 when [off, off+len) is not all inside the input.  Bytes in the head are
 * inside; past it, a size not known yet is learned now (a failure to learn
 * it counts as outside). */
static int past_end(struct abigate__src *s, uint64_t off, uint64_t len)
{
    if (!s->size_known) {
        if (off <= s->head_len && s->head_len - off >= len)
            return 0;
        if (learn_size(s))
            return 1;
    }
    return abigate__out_of_bounds(off, len, s->size);
}

/* Read exactly `len` bytes at `off`.  `bounds_code` is the error reported
 * when the range lies outside the input, so each caller names what it was
 * reading.  src_read serves the head inline; src_read_io does the rest. */
static int src_read_io(struct abigate__src *s, uint64_t off, void *buf, size_t len, int bounds_code)
{
    if (past_end(s, off, len))
        return abigate__fail(s->err, bounds_code, (int64_t)off,
                             "%s: %zu bytes at offset %llu, file has %llu",
                             abigate_strerror(bounds_code), len, (unsigned long long)off,
                             (unsigned long long)s->size);
    unsigned char *p = buf;
    while (len > 0) {
        long r = s->io->read(s->io->ctx, p, len, off);
        if (r < 0 || (size_t)r > len)
            return abigate__fail(s->err, ABIGATE_E_IO, (int64_t)off,
                                 "read error at offset %llu", (unsigned long long)off);
        if (r == 0)
            return abigate__fail(s->err, ABIGATE_E_IO, (int64_t)off,
                                 "file ended at offset %llu (it shrank while being read?)",
                                 (unsigned long long)off);
        p += r;
        off += (uint64_t)r;
        len -= (size_t)r;
    }
    return ABIGATE_OK;
}

static inline int src_read(struct abigate__src *s, uint64_t off, void *buf, size_t len, int bounds_code)
{
    const unsigned char *mem = src_mem(s, off, len);
    if (mem) {
        memcpy(buf, mem, len);
        return ABIGATE_OK;
    }
    return src_read_io(s, off, buf, len, bounds_code);
}

/* A cached window over one region [lo, hi) of the input: WINDOW_SIZE bytes
 * at a time, or the whole region once window_whole has read it.  Both
 * buffers are allocated only when a read goes past the head.  A zeroed
 * window is empty; window_free releases it. */
struct window {
    uint64_t lo, hi;       /* region the window may cover */
    uint64_t base;         /* file offset of buf[0] */
    size_t len;            /* valid bytes in buf */
    unsigned char *whole;  /* the whole region (window_whole), or NULL */
    unsigned char *buf;    /* WINDOW_SIZE bytes, or NULL until needed */
};

static void window_free(struct window *w)
{
    free(w->whole);
    free(w->buf);
    w->whole = w->buf = NULL;
}

static void window_init(struct window *w, uint64_t lo, uint64_t hi)
{
    free(w->whole);
    w->whole = NULL;
    w->lo = lo;
    w->hi = hi;
    w->base = 0;
    w->len = 0;
}

/* Read the region [lo, hi) whole, when it is not already in the head and
 * is at most WHOLE_MAX bytes: random access into it (symbol names in a
 * string table, which symbols reach in no order) then costs one read
 * instead of one per window miss; a window that slides to each string
 * would read the table again and again.  Without memory the window works
 * as before. */
static int window_whole(struct abigate__src *s, struct window *w, int bounds_code)
{
    uint64_t n = w->hi - w->lo;
    if (n == 0 || n > WHOLE_MAX || w->whole || src_mem(s, w->lo, n))
        return ABIGATE_OK;
    unsigned char *b = malloc((size_t)n);
    if (!b)
        return ABIGATE_OK;
    int rc = src_read(s, w->lo, b, (size_t)n, bounds_code);
    if (rc) {
        free(b);
        return rc;
    }
    w->whole = b;
    return ABIGATE_OK;
}

/* Point *out at `len` (<= WINDOW_SIZE) bytes at `off`, refilling the
 * window from `off` when they are not cached.  The caller has checked that
 * the bytes lie inside [lo, hi).  window_get serves the head inline;
 * window_fill does the rest. */
static int window_fill(struct abigate__src *s, struct window *w, uint64_t off, size_t len,
                       int bounds_code, const unsigned char **out)
{
    if (off >= w->lo && off <= w->hi && w->hi - off >= len) {
        if (w->whole) {
            *out = w->whole + (off - w->lo);
            return ABIGATE_OK;
        }
    }
    if (off >= w->base && off - w->base <= w->len && w->len - (off - w->base) >= len) {
        *out = w->buf + (off - w->base);
        return ABIGATE_OK;
    }
    uint64_t avail = off < w->hi ? w->hi - off : 0;
    size_t n = avail < WINDOW_SIZE ? (size_t)avail : WINDOW_SIZE;
    if (n < len)
        return abigate__fail(s->err, bounds_code, (int64_t)off,
                             "%s: %zu bytes at offset %llu", abigate_strerror(bounds_code), len,
                             (unsigned long long)off);
    if (!w->buf && !(w->buf = malloc(WINDOW_SIZE)))
        return abigate__fail(s->err, ABIGATE_E_NOMEM, -1, NULL);
    int rc = src_read(s, off, w->buf, n, bounds_code);
    if (rc)
        return rc;
    w->base = off;
    w->len = n;
    *out = w->buf;
    return ABIGATE_OK;
}

static inline int window_get(struct abigate__src *s, struct window *w, uint64_t off, size_t len,
                             int bounds_code, const unsigned char **out)
{
    const unsigned char *mem;
    if (off >= w->lo && off <= w->hi && w->hi - off >= len && (mem = src_mem(s, off, len))) {
        *out = mem; /* already read: no copy */
        return ABIGATE_OK;
    }
    return window_fill(s, w, off, len, bounds_code, out);
}

/* The window's whole region in memory (read whole, or inside the head), or
 * NULL when it is read a window at a time. */
static inline const unsigned char *window_base(const struct abigate__src *s, const struct window *w)
{
    return w->whole ? w->whole : src_mem(s, w->lo, w->hi - w->lo);
}

/* Point *str at the NUL-terminated string at string-table offset `stroff`
 * and set *len.  Strings longer than STRING_MAX count as unterminated. */
static int window_string(struct abigate__src *s, struct window *w, uint64_t stroff, const char **str,
                         size_t *len)
{
    uint64_t size = w->hi - w->lo;
    if (stroff >= size)
        return abigate__fail(s->err, ABIGATE_E_STRING_BOUNDS, (int64_t)(w->lo + stroff),
                             "string offset %llu is past its string table (%llu bytes)",
                             (unsigned long long)stroff, (unsigned long long)size);
    uint64_t off = w->lo + stroff;
    uint64_t avail = w->hi - off;
    size_t want = avail < STRING_MAX ? (size_t)avail : STRING_MAX;
    const unsigned char *p = window_base(s, w); /* in memory: no window to consult */
    int rc;
    if (p)
        p += stroff;
    else if ((rc = window_get(s, w, off, want, ABIGATE_E_STRTAB_BOUNDS, &p)))
        return rc;
    const unsigned char *nul = memchr(p, 0, want);
    if (!nul)
        return abigate__fail(s->err, ABIGATE_E_STRING_BOUNDS, (int64_t)off,
                             "string at offset %llu is unterminated within %zu bytes",
                             (unsigned long long)off, want);
    *str = (const char *)p;
    *len = (size_t)(nul - p);
    return ABIGATE_OK;
}

/* ------------------------------------------------------------------ ELF header */

struct phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, filesz, align;
};

struct elf {
    struct abigate__src *src;
    struct window shwin;  /* section header table cache */
    int shwin_ready;      /* shwin covers the table */
    int tail_tried;       /* read_tail has run */
    int sh_unchecked;     /* the section header table's bounds are still to check */
    unsigned ph_cached;   /* ph[0..ph_cached) are decoded */
    int be, is64;
    int keep_exports; /* ABIGATE_READ_EXPORTS: keep defined Py symbols, not imports */
    unsigned type, machine;
    uint64_t phoff, shoff;
    unsigned phentsize, phnum, shentsize, shnum;
    struct phdr ph[PH_CACHE]; /* last: parse_src zeroes what comes before */
};

struct shdr {
    uint32_t type, link;
    uint64_t offset, size, entsize, addralign;
};

static int sh_table_fail(struct elf *e)
{
    return abigate__fail(e->src->err, ABIGATE_E_SH_BOUNDS, (int64_t)e->shoff,
                         "%u section headers at offset %llu run past the end of the file "
                         "(%llu bytes)",
                         e->shnum, (unsigned long long)e->shoff,
                         (unsigned long long)e->src->size);
}

static int check_sh_table(struct elf *e)
{
    if (!e->sh_unchecked)
        return ABIGATE_OK;
    e->sh_unchecked = 0;
    return past_end(e->src, e->shoff, (uint64_t)e->shnum * e->shentsize) ? sh_table_fail(e)
                                                                          : ABIGATE_OK;
}

static int parse_ehdr(struct elf *e)
{
    struct abigate__src *s = e->src;
    const unsigned char *h = s->head;
    static const unsigned char magic[4] = {0x7f, 'E', 'L', 'F'};

    if (s->size == 0)
        return abigate__fail(s->err, ABIGATE_E_EMPTY, 0, NULL);
    size_t cmp = s->head_len < 4 ? s->head_len : 4;
    if (memcmp(h, magic, cmp) != 0)
        return abigate__fail(s->err, ABIGATE_E_NOT_ELF, 0, NULL);
    if (s->head_len < 16)
        return abigate__fail(s->err, ABIGATE_E_TRUNCATED_HEADER, (int64_t)s->head_len,
                             "truncated ELF header: file is %zu bytes", s->head_len);
    if (h[4] != 1 && h[4] != 2)
        return abigate__fail(s->err, ABIGATE_E_BAD_CLASS, 4, "unknown ELF class %u", h[4]);
    if (h[5] != 1 && h[5] != 2)
        return abigate__fail(s->err, ABIGATE_E_BAD_DATA, 5, "unknown ELF data encoding %u",
                             h[5]);
    if (h[6] != 1)
        return abigate__fail(s->err, ABIGATE_E_BAD_VERSION, 6, "unknown ELF version %u", h[6]);
    e->is64 = h[4] == 2;
    e->be = h[5] == 2;
    size_t ehsize = e->is64 ? 64 : 52;
    if (s->head_len < ehsize)
        return abigate__fail(s->err, ABIGATE_E_TRUNCATED_HEADER, (int64_t)s->head_len,
                             "truncated ELF header: %zu of %zu bytes", s->head_len, ehsize);
    int be = e->be;
    e->type = abigate__get16(h + 16, be);
    e->machine = abigate__get16(h + 18, be);
    if (abigate__get32(h + 20, be) != 1)
        return abigate__fail(s->err, ABIGATE_E_BAD_VERSION, 20, "unknown e_version %u",
                             abigate__get32(h + 20, be));
    const unsigned char *r = h + (e->is64 ? 32 : 28); /* e_phoff */
    e->phoff = e->is64 ? abigate__get64(r, be) : abigate__get32(r, be);
    r += e->is64 ? 8 : 4;
    e->shoff = e->is64 ? abigate__get64(r, be) : abigate__get32(r, be);
    r += e->is64 ? 8 : 4;
    r += 4; /* e_flags */
    unsigned e_ehsize = abigate__get16(r, be);
    e->phentsize = abigate__get16(r + 2, be);
    e->phnum = abigate__get16(r + 4, be);
    e->shentsize = abigate__get16(r + 6, be);
    e->shnum = abigate__get16(r + 8, be);
    if (e_ehsize != ehsize)
        return abigate__fail(s->err, ABIGATE_E_BAD_EHSIZE, (int64_t)(r - h),
                             "e_ehsize is %u, ELF%d needs %zu", e_ehsize, e->is64 ? 64 : 32,
                             ehsize);

    if (e->phnum > 0) {
        unsigned want = e->is64 ? 56 : 32;
        if (e->phentsize != want)
            return abigate__fail(s->err, ABIGATE_E_BAD_PHENTSIZE, (int64_t)(r + 2 - h),
                                 "e_phentsize is %u, ELF%d needs %u", e->phentsize,
                                 e->is64 ? 64 : 32, want);
        if (e->phnum > ABIGATE_MAX_PHDRS) /* includes PN_XNUM (0xffff) */
            return abigate__fail(s->err, ABIGATE_E_TOO_MANY_PH, (int64_t)(r + 4 - h),
                                 "e_phnum is %u, the cap is %u", e->phnum, ABIGATE_MAX_PHDRS);
        if ((uint64_t)e->phnum > SIZE_MAX / e->phentsize ||
            past_end(s, e->phoff, (uint64_t)e->phnum * e->phentsize))
            return abigate__fail(s->err, ABIGATE_E_PH_BOUNDS, (int64_t)e->phoff,
                                 "%u program headers at offset %llu run past the end of the "
                                 "file (%llu bytes)",
                                 e->phnum, (unsigned long long)e->phoff,
                                 (unsigned long long)s->size);
    }
    if (e->shoff != 0) {
        unsigned want = e->is64 ? 64 : 40;
        if (e->shentsize != want)
            return abigate__fail(s->err, ABIGATE_E_BAD_SHENTSIZE, (int64_t)(r + 6 - h),
                                 "e_shentsize is %u, ELF%d needs %u", e->shentsize,
                                 e->is64 ? 64 : 32, want);
        if (e->shnum == 0) /* SHN_XNUM escape: more sections than e_shnum can say */
            return abigate__fail(s->err, ABIGATE_E_TOO_MANY_SH, (int64_t)(r + 8 - h),
                                 "e_shnum is 0 with a section table (extended numbering), "
                                 "the cap is %u", ABIGATE_MAX_SHDRS);
        if (e->shnum > ABIGATE_MAX_SHDRS)
            return abigate__fail(s->err, ABIGATE_E_TOO_MANY_SH, (int64_t)(r + 8 - h),
                                 "e_shnum is %u, the cap is %u", e->shnum, ABIGATE_MAX_SHDRS);
        if ((uint64_t)e->shnum > SIZE_MAX / e->shentsize)
            return sh_table_fail(e);
        /* With the size not known yet, checked when the table is first
         * read (after read_tail, which may learn the size) or at the end. */
        e->sh_unchecked = 1;
        if (s->size_known)
            return check_sh_table(e);
    } else {
        e->shnum = 0;
    }
    return ABIGATE_OK;
}

static int read_phdr(struct elf *e, unsigned i, struct phdr *p)
{
    if (i < e->ph_cached) {
        *p = e->ph[i];
        return ABIGATE_OK;
    }
    unsigned char copy[56];
    uint64_t at = e->phoff + (uint64_t)i * e->phentsize;
    const unsigned char *b = src_mem(e->src, at, e->phentsize); /* in the head: in place */
    if (!b) {
        int rc = src_read(e->src, at, copy, e->phentsize, ABIGATE_E_PH_BOUNDS);
        if (rc)
            return rc;
        b = copy;
    }
    int be = e->be;
    p->type = abigate__get32(b, be);
    p->flags = abigate__get32(b + (e->is64 ? 4 : 24), be);
    if (e->is64) {
        p->offset = abigate__get64(b + 8, be);
        p->vaddr = abigate__get64(b + 16, be);
        p->filesz = abigate__get64(b + 32, be);
        p->align = abigate__get64(b + 48, be);
    } else {
        p->offset = abigate__get32(b + 4, be);
        p->vaddr = abigate__get32(b + 8, be);
        p->filesz = abigate__get32(b + 16, be);
        p->align = abigate__get32(b + 28, be);
    }
    if (i == e->ph_cached && i < PH_CACHE)
        e->ph[e->ph_cached++] = *p;
    return ABIGATE_OK;
}

/* The `span` bytes at `lo` in a new buffer, or NULL (not all there, a read
 * error, no memory: left to the reads that need them).  With the size not
 * known (read_fd), one byte more is asked: a short count that ends with
 * the span ends the file, which gives the size without an fstat (the
 * section headers are usually the last thing in a linked file). */
static unsigned char *read_probing(struct abigate__src *s, uint64_t lo, size_t span)
{
    size_t want = span + !s->size_known, got = 0;
    unsigned char *buf = malloc(want);
    if (!buf)
        return NULL;
    long r;
    while (got < want && (r = s->io->read(s->io->ctx, buf + got, want - got, lo + got)) > 0 &&
           (size_t)r <= want - got) {
        got += (size_t)r;
        if (!s->size_known && got >= span)
            break; /* a descriptor's short count is the end of the file */
    }
    if (got < span) {
        free(buf);
        return NULL;
    }
    if (!s->size_known && got == span) {
        s->size = lo + span;
        s->size_known = 1;
    }
    return buf;
}

/* Past the head, a linked file's section header table and its dynamic
 * segment are usually the last things in it, a few KiB apart.  When both
 * lie past the head and within TAIL_SPAN bytes of each other, the first of
 * them to be read (by next_section or read_dynamic) reads both at once
 * into s->tail, one pread instead of two (a buffer in memory, whose reads
 * are copies, gains nothing).  Anything else, or a failed allocation,
 * leaves them to their own reads (and bounds errors to them). */
static int read_tail(struct elf *e)
{
    struct abigate__src *s = e->src;
    uint64_t table = (uint64_t)e->shnum * e->shentsize; /* its bounds: check_sh_table */
    if (e->tail_tried || !table || s->in_memory)
        return ABIGATE_OK;
    e->tail_tried = 1;
    for (unsigned i = 0; i < e->phnum; i++) {
        struct phdr p;
        if (read_phdr(e, i, &p) != ABIGATE_OK) {
            abigate__ok(s->err); /* read_dynamic reports it */
            return ABIGATE_OK;
        }
        if (p.type != PT_DYNAMIC_)
            continue;
        if (!p.filesz || p.offset > UINT64_MAX - p.filesz || e->shoff > UINT64_MAX - table ||
            (s->size_known && abigate__out_of_bounds(p.offset, p.filesz, s->size)) ||
            src_mem(s, p.offset, p.filesz) || src_mem(s, e->shoff, table))
            return ABIGATE_OK;
        uint64_t lo = p.offset < e->shoff ? p.offset : e->shoff;
        uint64_t hi = p.offset + p.filesz > e->shoff + table ? p.offset + p.filesz
                                                             : e->shoff + table;
        if (hi - lo > TAIL_SPAN)
            return ABIGATE_OK;
        /* the writable segments just before (where the native record's
         * slot arrays lie), when they end within the span: same pread */
        for (unsigned k = 0; k < e->phnum && k < PH_CACHE; k++) {
            struct phdr w;
            if (read_phdr(e, k, &w) == ABIGATE_OK && w.type == PT_LOAD_ && (w.flags & PF_W_) &&
                w.filesz && w.offset < lo && w.offset <= UINT64_MAX - w.filesz &&
                w.offset + w.filesz <= hi && hi - w.offset <= TAIL_SPAN_DATA &&
                !src_mem(s, w.offset, 1))
                lo = w.offset;
        }
        abigate__ok(s->err);
        unsigned char *buf = read_probing(s, lo, (size_t)(hi - lo));
        if (!buf)
            return ABIGATE_OK; /* left to the reads that need these bytes */
        s->tail = buf;
        s->tail_off = lo;
        s->tail_len = (size_t)(hi - lo);
        return ABIGATE_OK;
    }
    return ABIGATE_OK;
}

/* Section headers sit together at the end of the file, past the head: one
 * window over the table turns a pread per header into one per 16 KiB. */
static int read_shdr(struct elf *e, unsigned i, struct shdr *sh)
{
    struct abigate__src *s = e->src;
    uint64_t table = (uint64_t)e->shnum * e->shentsize; /* in bounds: parse_ehdr */
    if (!e->shwin_ready) {
        window_init(&e->shwin, e->shoff, e->shoff + table);
        e->shwin_ready = 1;
    }
    const unsigned char *b;
    int rc = window_get(s, &e->shwin, e->shoff + (uint64_t)i * e->shentsize, e->shentsize,
                        ABIGATE_E_SH_BOUNDS, &b);
    if (rc)
        return rc;
    int be = e->be;
    sh->type = abigate__get32(b + 4, be);
    if (e->is64) {
        sh->offset = abigate__get64(b + 24, be);
        sh->size = abigate__get64(b + 32, be);
        sh->link = abigate__get32(b + 40, be);
        sh->addralign = abigate__get64(b + 48, be);
        sh->entsize = abigate__get64(b + 56, be);
    } else {
        sh->offset = abigate__get32(b + 16, be);
        sh->size = abigate__get32(b + 20, be);
        sh->link = abigate__get32(b + 24, be);
        sh->addralign = abigate__get32(b + 32, be);
        sh->entsize = abigate__get32(b + 36, be);
    }
    return ABIGATE_OK;
}

/* ------------------------------------------------------------------ notes */

struct record_state {
    int found;                 /* 0, or ABIGATE_RECORD_PRESENT / _UNSUPPORTED */
    int via;
    uint64_t offset;
    size_t len;
    unsigned char raw[ABIGATE_RECORD_MAX_SIZE];
    abigate_record rec;
};

/* The first section from `*i` on whose type is `type`: its index in *i and
 * its header in *sh; *i = 0 when there is none.  The table is read whole
 * once (window_whole), and only the type of each entry is looked at; a
 * table too large for that is read an entry at a time. */
static int next_section(struct elf *e, unsigned *i, uint32_t type, struct shdr *sh)
{
    if (!e->shwin_ready) {
        window_init(&e->shwin, e->shoff, e->shoff + (uint64_t)e->shnum * e->shentsize);
        e->shwin_ready = 1;
        int rc = read_tail(e);
        if (rc)
            return rc;
        /* not in the tail either: with the size not known, read probing
         * for the end of the file (read_probing) */
        uint64_t n = (uint64_t)e->shnum * e->shentsize;
        if (!e->src->size_known && n <= WHOLE_MAX && !src_mem(e->src, e->shoff, n) &&
            e->shoff <= UINT64_MAX - n)
            e->shwin.whole = read_probing(e->src, e->shoff, (size_t)n);
        if ((rc = check_sh_table(e)) || (rc = window_whole(e->src, &e->shwin, ABIGATE_E_SH_BOUNDS)))
            return rc;
    }
    const unsigned char *table = window_base(e->src, &e->shwin);
    for (; *i < e->shnum; ++*i) {
        if (table && abigate__get32(table + (size_t)*i * e->shentsize + 4, e->be) != type)
            continue;
        int rc = read_shdr(e, *i, sh);
        if (rc || sh->type == type)
            return rc;
    }
    *i = 0;
    return ABIGATE_OK;
}

static int take_record(struct elf *e, uint64_t off, uint32_t descsz, int via,
                       struct record_state *st)
{
    struct abigate__src *s = e->src;
    unsigned char raw[ABIGATE_RECORD_MAX_SIZE];
    if (descsz > ABIGATE_RECORD_MAX_SIZE)
        return abigate__fail(s->err, ABIGATE_E_RECORD_TOO_BIG, (int64_t)off,
                             "abigate record is %u bytes, the cap is %d", descsz,
                             ABIGATE_RECORD_MAX_SIZE);
    int rc = src_read(s, off, raw, descsz, ABIGATE_E_NOTE_BOUNDS);
    if (rc)
        return rc;
    if (st->found) { /* a second copy: fine if identical (two notes, one record) */
        if (st->len == descsz && memcmp(st->raw, raw, descsz) == 0)
            return ABIGATE_OK;
        return abigate__fail(s->err, ABIGATE_E_RECORD_CONFLICT, (int64_t)off,
                             "abigate records at offsets %llu and %llu differ",
                             (unsigned long long)st->offset, (unsigned long long)off);
    }
    abigate_record rec;
    abigate_error derr;
    rc = abigate_record_decode(raw, descsz, e->be, &rec, &derr);
    if (rc == ABIGATE_E_RECORD_MAJOR) {
        memset(&rec, 0, sizeof rec);
        rec.major = raw[4];
        rec.minor = raw[5];
        rec.size = abigate__get16(raw + 6, e->be);
        st->found = ABIGATE_RECORD_UNSUPPORTED;
    } else if (rc != ABIGATE_OK) {
        return abigate__fail(s->err, rc, (int64_t)off + derr.offset, "%s", derr.message);
    } else {
        st->found = ABIGATE_RECORD_PRESENT;
    }
    st->rec = rec;
    st->via = via;
    st->offset = off;
    st->len = descsz;
    memcpy(st->raw, raw, descsz);
    return ABIGATE_OK;
}

/* Walk the notes in [off, off+size).  Each note is a 12-byte header
 * {namesz, descsz, type}, the name padded to the alignment, the descriptor
 * padded likewise; the next note starts after the padded descriptor.
 * Alignment is 8 for segments/sections aligned to 8 (GNU property notes),
 * else 4.  Sizes are checked for wrap-around before padding, then against
 * what is left of the region. */
static int scan_notes(struct elf *e, uint64_t off, uint64_t size, uint64_t align, int via,
                      struct record_state *st)
{
    struct abigate__src *s = e->src;
    if (past_end(s, off, size))
        return abigate__fail(s->err, ABIGATE_E_NOTE_BOUNDS, (int64_t)off,
                             "note area of %llu bytes at offset %llu runs past the end of the "
                             "file (%llu bytes)",
                             (unsigned long long)size, (unsigned long long)off,
                             (unsigned long long)s->size);
    if (size > ABIGATE_MAX_NOTE_BYTES)
        return abigate__fail(s->err, ABIGATE_E_NOTE_TOO_BIG, (int64_t)off,
                             "note area of %llu bytes, the cap is %u", (unsigned long long)size,
                             ABIGATE_MAX_NOTE_BYTES);
    uint64_t a = align == 8 ? 8 : 4;
    uint64_t pos = 0;
    while (pos < size) {
        uint64_t left = size - pos;
        unsigned char h[12];
        if (left < 12) {
            unsigned char tail[12];
            int rc = src_read(s, off + pos, tail, (size_t)left, ABIGATE_E_NOTE_BOUNDS);
            if (rc)
                return rc;
            for (uint64_t i = 0; i < left; i++)
                if (tail[i] != 0)
                    return abigate__fail(s->err, ABIGATE_E_NOTE_TRUNCATED,
                                         (int64_t)(off + pos),
                                         "note header truncated: %llu bytes left",
                                         (unsigned long long)left);
            break; /* zero padding at the end of the area */
        }
        int rc = src_read(s, off + pos, h, 12, ABIGATE_E_NOTE_BOUNDS);
        if (rc)
            return rc;
        uint32_t namesz = abigate__get32(h, e->be);
        uint32_t descsz = abigate__get32(h + 4, e->be);
        uint32_t type = abigate__get32(h + 8, e->be);
        if (namesz > UINT32_MAX - (a - 1) || descsz > UINT32_MAX - (a - 1))
            return abigate__fail(s->err, ABIGATE_E_NOTE_WRAP, (int64_t)(off + pos),
                                 "note sizes namesz %u / descsz %u wrap when padded", namesz,
                                 descsz);
        uint64_t name_at = pos + 12;
        if (namesz > size - name_at)
            return abigate__fail(s->err, ABIGATE_E_NOTE_NAMESZ, (int64_t)(off + pos),
                                 "note namesz %u runs past its area (%llu bytes left)", namesz,
                                 (unsigned long long)(size - name_at));
        uint64_t desc_at = (name_at + namesz + a - 1) & ~(a - 1);
        if (desc_at > size || descsz > size - desc_at)
            return abigate__fail(s->err, ABIGATE_E_NOTE_DESCSZ, (int64_t)(off + pos + 4),
                                 "note descsz %u runs past its area (%llu bytes left)", descsz,
                                 (unsigned long long)(desc_at > size ? 0 : size - desc_at));
        if (namesz == sizeof ABIGATE_NOTE_NAME && type == ABIGATE_NOTE_TYPE_RECORD) {
            char name[sizeof ABIGATE_NOTE_NAME];
            rc = src_read(s, off + name_at, name, sizeof name, ABIGATE_E_NOTE_BOUNDS);
            if (rc)
                return rc;
            if (memcmp(name, ABIGATE_NOTE_NAME, sizeof name) == 0) {
                rc = take_record(e, off + desc_at, descsz, via, st);
                if (rc)
                    return rc;
            }
        }
        uint64_t next = (desc_at + descsz + a - 1) & ~(a - 1);
        pos = next; /* > pos: at least 12 bytes of progress */
    }
    return ABIGATE_OK;
}

static int find_record(struct elf *e, struct record_state *st)
{
    int rc;
    for (unsigned i = 0; i < e->phnum; i++) {
        struct phdr p;
        if ((rc = read_phdr(e, i, &p)))
            return rc;
        if (p.type == PT_NOTE_ && (rc = scan_notes(e, p.offset, p.filesz, p.align,
                                                   ABIGATE_VIA_PT_NOTE, st)))
            return rc;
    }
    if (st->found)
        return ABIGATE_OK;
    struct shdr sh;
    for (unsigned i = 1; !(rc = next_section(e, &i, SHT_NOTE_, &sh)) && i; i++)
        if ((rc = scan_notes(e, sh.offset, sh.size, sh.addralign, ABIGATE_VIA_SECTION, st)))
            return rc;
    return rc;
}

/* ------------------------------------------------------------------ legacy facts */

struct dyninfo {
    int have_dynamic, have_rpath, have_runpath;
    uint64_t strtab, strsz, symtab, syment, hash, gnu_hash, rpath, runpath, flags_1;
    uint64_t rela, relasz, relaent, rel, relsz, relent, relr, relrsz, relrent; /* the native record */
    unsigned n_needed, n_needed_kept;
    uint64_t needed[MAX_NEEDED_SEEN];
};

struct legacy {
    struct window win;     /* dynamic entries, symbols, hash tables */
    struct window strwin;  /* string table */
    int strwin_open;       /* strwin covers a table (strtab_open) */
};

/* File offset of virtual address `addr`, through the PT_LOAD segments. */
static int map_addr(struct elf *e, uint64_t addr, uint64_t *off)
{
    for (unsigned i = 0; i < e->ph_cached; i++) { /* the cached ones in place */
        const struct phdr *p = &e->ph[i];
        if (p->type == PT_LOAD_ && addr >= p->vaddr && addr - p->vaddr < p->filesz) {
            *off = p->offset + (addr - p->vaddr);
            return ABIGATE_OK;
        }
    }
    for (unsigned i = e->ph_cached; i < e->phnum; i++) {
        struct phdr p;
        int rc = read_phdr(e, i, &p);
        if (rc)
            return rc;
        if (p.type == PT_LOAD_ && addr >= p.vaddr && addr - p.vaddr < p.filesz) {
            *off = p.offset + (addr - p.vaddr);
            return ABIGATE_OK;
        }
    }
    return abigate__fail(e->src->err, ABIGATE_E_ADDR_UNMAPPED, -1,
                         "address 0x%llx is not in any PT_LOAD segment",
                         (unsigned long long)addr);
}

/* The first PT_DYNAMIC's entries.  With `tail` (the legacy read), the
 * section headers and the dynamic segment past the head are read together
 * first (read_tail); without it only the segment is read, and only when it
 * is not in memory already. */
static int read_dynamic(struct elf *e, struct legacy *L, struct dyninfo *d, int tail)
{
    struct abigate__src *s = e->src;
    memset(d, 0, offsetof(struct dyninfo, needed)); /* needed[] is filled in order */
    for (unsigned i = 0; i < e->phnum; i++) {
        struct phdr p;
        int rc = read_phdr(e, i, &p);
        if (rc)
            return rc;
        if (p.type != PT_DYNAMIC_)
            continue;
        size_t ent = e->is64 ? 16 : 8;
        if (past_end(s, p.offset, p.filesz))
            return abigate__fail(s->err, ABIGATE_E_DYNAMIC_BOUNDS, (int64_t)p.offset,
                                 "dynamic segment of %llu bytes at offset %llu runs past the "
                                 "end of the file",
                                 (unsigned long long)p.filesz, (unsigned long long)p.offset);
        if (p.filesz / ent > ABIGATE_MAX_DYN)
            return abigate__fail(s->err, ABIGATE_E_DYNAMIC_TOO_BIG, (int64_t)p.offset,
                                 "dynamic segment has %llu entries, the cap is %u",
                                 (unsigned long long)(p.filesz / ent), ABIGATE_MAX_DYN);
        d->have_dynamic = 1;
        window_init(&L->win, p.offset, p.offset + p.filesz);
        if ((tail && (rc = read_tail(e))) ||
            (rc = window_whole(s, &L->win, ABIGATE_E_DYNAMIC_BOUNDS)))
            return rc;
        const unsigned char *seg = window_base(s, &L->win); /* NULL: windowed */
        for (uint64_t j = 0; j < p.filesz / ent; j++) {
            const unsigned char *b = seg ? seg + j * ent : NULL;
            if (!b && (rc = window_get(s, &L->win, p.offset + j * ent, ent,
                                       ABIGATE_E_DYNAMIC_BOUNDS, &b)))
                return rc;
            int64_t tag = e->is64 ? (int64_t)abigate__get64(b, e->be)
                                  : (int32_t)abigate__get32(b, e->be);
            uint64_t val = e->is64 ? abigate__get64(b + 8, e->be) : abigate__get32(b + 4, e->be);
            if (tag == DT_NULL_)
                break;
            switch (tag) {
            case DT_NEEDED_:
                if (d->n_needed_kept < MAX_NEEDED_SEEN)
                    d->needed[d->n_needed_kept++] = val;
                d->n_needed++;
                break;
            case DT_STRTAB_: d->strtab = val; break;
            case DT_STRSZ_: d->strsz = val; break;
            case DT_SYMTAB_: d->symtab = val; break;
            case DT_SYMENT_: d->syment = val; break;
            case DT_HASH_: d->hash = val; break;
            case DT_GNU_HASH_: d->gnu_hash = val; break;
            case DT_RPATH_: d->rpath = val, d->have_rpath = 1; break;
            case DT_RUNPATH_: d->runpath = val, d->have_runpath = 1; break;
            case DT_FLAGS_1_: d->flags_1 = val; break;
            case DT_RELA_: d->rela = val; break;
            case DT_RELASZ_: d->relasz = val; break;
            case DT_RELAENT_: d->relaent = val; break;
            case DT_REL_: d->rel = val; break;
            case DT_RELSZ_: d->relsz = val; break;
            case DT_RELENT_: d->relent = val; break;
            case DT_RELR_: d->relr = val; break;
            case DT_RELRSZ_: d->relrsz = val; break;
            case DT_RELRENT_: d->relrent = val; break;
            default: break;
            }
        }
        break; /* only the first PT_DYNAMIC counts, as for ld.so */
    }
    return ABIGATE_OK;
}

/* Number of dynamic symbols from DT_HASH (nchain) or, failing that, from
 * DT_GNU_HASH: the highest symbol index any bucket reaches, then along its
 * chain to the end marker (low bit set). */
static int count_dynsyms(struct elf *e, struct legacy *L, const struct dyninfo *d,
                         uint64_t *count)
{
    struct abigate__src *s = e->src;
    uint64_t off;
    int rc;
    unsigned char b[16];
    *count = 0;
    if (d->hash) {
        if ((rc = map_addr(e, d->hash, &off)))
            return rc;
        if ((rc = src_read(s, off, b, 8, ABIGATE_E_HASH_BOUNDS)))
            return rc;
        *count = abigate__get32(b + 4, e->be);
        return ABIGATE_OK;
    }
    if (!d->gnu_hash)
        return ABIGATE_OK;
    if ((rc = map_addr(e, d->gnu_hash, &off)))
        return rc;
    if ((rc = src_read(s, off, b, 16, ABIGATE_E_HASH_BOUNDS)))
        return rc;
    uint32_t nbuckets = abigate__get32(b, e->be);
    uint32_t symoffset = abigate__get32(b + 4, e->be);
    uint32_t bloom = abigate__get32(b + 8, e->be);
    uint64_t word = e->is64 ? 8 : 4;
    if (nbuckets > ABIGATE_MAX_SYMS || bloom > ABIGATE_MAX_SYMS)
        return abigate__fail(s->err, ABIGATE_E_TOO_MANY_SYMS, (int64_t)off,
                             "GNU hash table with %u buckets / %u bloom words exceeds the cap",
                             nbuckets, bloom);
    uint64_t buckets = off + 16 + (uint64_t)bloom * word;
    if (past_end(s, buckets, (uint64_t)nbuckets * 4))
        return abigate__fail(s->err, ABIGATE_E_HASH_BOUNDS, (int64_t)buckets,
                             "GNU hash buckets run past the end of the file");
    window_init(&L->win, buckets, s->size);
    uint32_t maxsym = 0;
    for (uint32_t i = 0; i < nbuckets; i++) {
        const unsigned char *p;
        if ((rc = window_get(s, &L->win, buckets + (uint64_t)i * 4, 4, ABIGATE_E_HASH_BOUNDS,
                             &p)))
            return rc;
        uint32_t v = abigate__get32(p, e->be);
        if (v > maxsym)
            maxsym = v;
    }
    if (maxsym < symoffset) { /* no hashed symbols at all */
        *count = symoffset;
        return ABIGATE_OK;
    }
    uint64_t chains = buckets + (uint64_t)nbuckets * 4;
    for (uint64_t i = maxsym;; i++) {
        if (i - symoffset >= ABIGATE_MAX_SYMS)
            return abigate__fail(s->err, ABIGATE_E_TOO_MANY_SYMS, (int64_t)chains,
                                 "GNU hash chain longer than the cap of %u symbols",
                                 ABIGATE_MAX_SYMS);
        uint64_t at = chains + (i - symoffset) * 4;
        const unsigned char *p; /* the window ends at EOF: a chain past it fails here */
        if ((rc = window_get(s, &L->win, at, 4, ABIGATE_E_HASH_BOUNDS, &p)))
            return rc;
        if (abigate__get32(p, e->be) & 1) {
            *count = i + 1;
            return ABIGATE_OK;
        }
    }
}

static int starts_with(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(s, prefix, n) == 0;
}

/* The hash of a name, for the symbol index: eight bytes a step (a
 * multiply-xorshift mix), the last step's word zero-padded, then the
 * length, as a byte-at-a-time hash costs several times more on the
 * ~20-byte names of the C API, and the gate hashes every import of every
 * file.  Its values never leave the process (byte order does not matter).
 * name_hash_n hashes a name of known length; scan_name finds the length of
 * a name in a string table and hashes it in the same pass. */
#define NAME_HASH_SEED 0x9e3779b97f4a7c15ull

static inline uint64_t name_hash_step(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    return h ^ h >> 32;
}

static inline uint32_t name_hash_end(uint64_t h, size_t len)
{
    h = (h ^ len) * 0xc4ceb9fe1a85ec53ull;
    return (uint32_t)(h ^ h >> 29);
}

static uint32_t name_hash_n(const char *s, size_t len)
{
    uint64_t h = NAME_HASH_SEED, w;
    size_t n = len;
    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&w, s, 8);
        h = name_hash_step(h, w);
    }
    w = 0;
    memcpy(&w, s, n);
    return name_hash_end(name_hash_step(h, w), len);
}

/* The length (< max) of the NUL-terminated name at p, whose buffer holds
 * at least `room` bytes from p, and its name_hash_n in *hash; or `max`
 * when no NUL comes before min(room, max).  On little-endian hosts eight
 * bytes are read a step while eight remain in the buffer: the word that
 * holds the NUL is masked to the bytes before it, which is the
 * zero-padded last word of name_hash_n. */
static size_t scan_name(const unsigned char *p, size_t room, size_t max, uint32_t *hash)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__GNUC__)
    uint64_t h = NAME_HASH_SEED, w;
    size_t len = 0;
    while (len < max && room - len >= 8) {
        memcpy(&w, p + len, 8);
        uint64_t zero = (w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull;
        if (zero) { /* the lowest flagged byte is the first NUL */
            unsigned k = (unsigned)__builtin_ctzll(zero) >> 3;
            len += k;
            if (len >= max)
                return max;
            w = k ? w & (~0ull >> (64 - 8 * k)) : 0;
            *hash = name_hash_end(name_hash_step(h, w), len);
            return len;
        }
        h = name_hash_step(h, w);
        len += 8;
    }
#endif
    size_t want = room < max ? room : max;
    const unsigned char *nul = memchr(p, 0, want);
    if (!nul)
        return max;
    *hash = name_hash_n((const char *)p, (size_t)(nul - p));
    return (size_t)(nul - p);
}

static void keep_symbol(abigate_symbols *syms, const char *name, size_t len, int weak,
                        uint32_t hash)
{
    if (!syms)
        return;
    if (syms->count >= ABIGATE_SYMBOLS_MAX || ABIGATE_SYMBOLS_POOL - syms->pool_used < len + 1) {
        syms->truncated = 1;
        return;
    }
    memcpy(syms->pool + syms->pool_used, name, len);
    syms->pool[syms->pool_used + len] = '\0';
    syms->sym[syms->count].name = (uint32_t)syms->pool_used;
    syms->sym[syms->count].weak = (uint8_t)weak;
    syms->hash[syms->count] = hash;
    syms->count++;
    syms->pool_used += len + 1;
}

/* Point the string-table window at [off, off+size), read whole when it is
 * not in the head (window_whole).  The DT_NEEDED names and the symbol
 * names usually share one table (.dynstr): it is read once for both. */
static int strtab_open(struct abigate__src *s, struct legacy *L, uint64_t off, uint64_t size)
{
    if (L->strwin_open && L->strwin.lo == off && L->strwin.hi == off + size)
        return ABIGATE_OK;
    window_init(&L->strwin, off, off + size);
    L->strwin_open = 1;
    return window_whole(s, &L->strwin, ABIGATE_E_STRTAB_BOUNDS);
}

/* 0 when the name at offset `name` of the string table `strs` (strsz
 * bytes in memory: read whole, or in the head; NULL when windowed)
 * certainly starts with neither "Py" nor "_Py" (every name the reader keeps
 * or counts does), so that most of a large extension's names (libc's, its
 * own) are never scanned.  1 when it may (or the bytes are not at hand):
 * the name is then read and checked in full, bounds included. */
static inline int may_matter(const unsigned char *strs, uint64_t strsz, uint32_t name)
{
    if (!strs || strsz < 3 || name > strsz - 3)
        return 1;
    const unsigned char *p = strs + name;
    return p[0] == 'P' ? p[1] == 'y' : p[0] == '_' && p[1] == 'P' && p[2] == 'y';
}

/* Walk `count` symbols of `entsize` bytes at `symoff`, names in the string
 * table [stroff, stroff+strsz). */
static int walk_symbols(struct elf *e, struct legacy *L, uint64_t symoff, uint64_t count,
                        uint64_t entsize, uint64_t stroff, uint64_t strsz,
                        abigate_file_info *info, abigate_symbols *syms)
{
    struct abigate__src *s = e->src;
    uint64_t want = e->is64 ? 24 : 16;
    if (entsize != want)
        return abigate__fail(s->err, ABIGATE_E_BAD_SYMENT, (int64_t)symoff,
                             "symbol entry size %llu, ELF%d needs %llu",
                             (unsigned long long)entsize, e->is64 ? 64 : 32,
                             (unsigned long long)want);
    if (count > ABIGATE_MAX_SYMS)
        return abigate__fail(s->err, ABIGATE_E_TOO_MANY_SYMS, (int64_t)symoff,
                             "%llu dynamic symbols, the cap is %u", (unsigned long long)count,
                             ABIGATE_MAX_SYMS);
    if (past_end(s, symoff, count * entsize))
        return abigate__fail(s->err, ABIGATE_E_SYMTAB_BOUNDS, (int64_t)symoff,
                             "%llu symbols at offset %llu run past the end of the file",
                             (unsigned long long)count, (unsigned long long)symoff);
    if (past_end(s, stroff, strsz))
        return abigate__fail(s->err, ABIGATE_E_STRTAB_BOUNDS, (int64_t)stroff,
                             "string table of %llu bytes at offset %llu runs past the end of "
                             "the file",
                             (unsigned long long)strsz, (unsigned long long)stroff);
    window_init(&L->win, symoff, symoff + count * entsize);
    int rc = strtab_open(s, L, stroff, strsz);
    if (rc)
        return rc;
    /* The entries are walked in order: in place when the table is in the
     * head or read whole (one read, like the string table), else through
     * the window. */
    if ((rc = window_whole(s, &L->win, ABIGATE_E_SYMTAB_BOUNDS)))
        return rc;
    const unsigned char *table = window_base(s, &L->win);
    const unsigned char *strs = window_base(s, &L->strwin); /* NULL: windowed */
    /* in locals, not through e and info: a store to a counter could alias them */
    const int be = e->be, keep_exports = e->keep_exports;
    const unsigned info_at = e->is64 ? 4 : 12, other_at = e->is64 ? 5 : 13,
                   shndx_at = e->is64 ? 6 : 14;
    unsigned n_pysyms = 0, n_pysyms_weak = 0, n_pyexports = 0;
    for (uint64_t i = 1; i < count; i++) {
        const unsigned char *b;
        if (table)
            b = table + i * entsize;
        else if ((rc = window_get(s, &L->win, symoff + i * entsize, (size_t)entsize,
                                  ABIGATE_E_SYMTAB_BOUNDS, &b)))
            return rc;
        uint32_t name = abigate__get32(b, be);
        unsigned bind = b[info_at] >> 4;
        if (name == 0 || (bind != 1 && bind != 2)) /* GLOBAL or WEAK only */
            continue;
        size_t len;
        const char *str;
        uint32_t hash;
        if (!may_matter(strs, strsz, name))
            continue; /* neither Py* nor _Py*: nothing here reads it */
        if (strs && name < strsz &&
            (len = scan_name(strs + name, (size_t)(strsz - name), STRING_MAX, &hash)) < STRING_MAX) {
            str = (const char *)strs + name; /* looked at in place, length and hash in one pass */
        } else {
            if ((rc = window_string(s, &L->strwin, name, &str, &len)))
                return rc; /* past the table, or unterminated: its error */
            hash = name_hash_n(str, len);
        }
        int pyname = starts_with(str, len, "Py") || starts_with(str, len, "_Py");
        if (abigate__get16(b + shndx_at, be) == 0) { /* SHN_UNDEF: an import */
            if (pyname) {
                n_pysyms++;
                n_pysyms_weak += bind == 2;
                if (!keep_exports)
                    keep_symbol(syms, str, len, bind == 2, hash);
            }
            continue;
        }
        if (pyname && (b[other_at] & 3) == 0) { /* STV_DEFAULT: exported */
            n_pyexports++;
            if (keep_exports)
                keep_symbol(syms, str, len, bind == 2, hash);
        }
        abigate__take_hook(info, str, len);
    }
    info->n_pysyms += n_pysyms;
    info->n_pysyms_weak += n_pysyms_weak;
    info->n_pyexports += n_pyexports;
    return ABIGATE_OK;
}

void abigate__take_hook(abigate_file_info *info, const char *name, size_t len)
{
    if (starts_with(name, len, "PyInit_") || starts_with(name, len, "PyInitU_")) {
        /* PyInitU_: the hook of a module whose name is not ASCII */
        if (info->n_pyinit++ == 0)
            abigate__copy_clamped(info->pyinit, sizeof info->pyinit, name, len);
    } else if (starts_with(name, len, "PyModExport_")) {
        if (info->n_modexport++ == 0)
            abigate__copy_clamped(info->modexport, sizeof info->modexport, name, len);
    }
}

static int read_legacy(struct elf *e, abigate_file_info *info, abigate_symbols *syms)
{
    struct abigate__src *s = e->src;
    struct dyninfo d;
    int rc;
    struct legacy legacy, *L = &legacy;
    memset(L, 0, sizeof *L);

    if ((rc = read_dynamic(e, L, &d, 1)))
        goto out;
    info->n_needed = d.n_needed;

    uint64_t stroff = 0;
    if (d.have_dynamic && d.strtab) {
        if ((rc = map_addr(e, d.strtab, &stroff)))
            goto out;
        if (past_end(s, stroff, d.strsz)) {
            rc = abigate__fail(s->err, ABIGATE_E_STRTAB_BOUNDS, (int64_t)stroff,
                               "dynamic string table of %llu bytes at offset %llu runs past "
                               "the end of the file",
                               (unsigned long long)d.strsz, (unsigned long long)stroff);
            goto out;
        }
        if (d.n_needed_kept && (rc = strtab_open(s, L, stroff, d.strsz)))
            goto out;
        for (unsigned i = 0; i < d.n_needed_kept; i++) {
            size_t len;
            const char *name;
            if ((rc = window_string(s, &L->strwin, d.needed[i], &name, &len)))
                goto out;
            if (starts_with(name, len, "libpython")) {
                if (info->n_libpython < ABIGATE_MAX_LIBPYTHON)
                    abigate__copy_clamped(info->libpython[info->n_libpython],
                                          ABIGATE_NAME_MAX, name, len);
                info->n_libpython++;
            }
        }
    }

    /* Symbols: the section table is exact when present; the dynamic
     * segment is what the loader itself uses, and survives sstrip. */
    unsigned dynsym = 1;
    struct shdr sh, str;
    if ((rc = next_section(e, &dynsym, SHT_DYNSYM_, &sh)))
        goto out;
    if (dynsym) {
        if (sh.link == 0 || sh.link >= e->shnum) {
            rc = abigate__fail(s->err, ABIGATE_E_BAD_SECTION_LINK, -1,
                               "dynamic symbol section links to section %u of %u", sh.link,
                               e->shnum);
            goto out;
        }
        if ((rc = read_shdr(e, sh.link, &str)))
            goto out;
        if (sh.entsize == 0) {
            rc = abigate__fail(s->err, ABIGATE_E_BAD_SYMENT, (int64_t)sh.offset,
                               "dynamic symbol section has entry size 0");
            goto out;
        }
        rc = walk_symbols(e, L, sh.offset, sh.size / sh.entsize, sh.entsize, str.offset,
                          str.size, info, syms);
        goto out;
    }
    if (d.have_dynamic && d.symtab && d.strtab) {
        uint64_t symoff, count;
        if ((rc = map_addr(e, d.symtab, &symoff)) || (rc = count_dynsyms(e, L, &d, &count)))
            goto out;
        rc = walk_symbols(e, L, symoff, count, d.syment ? d.syment : (e->is64 ? 24 : 16),
                          stroff, d.strsz, info, syms);
    }
out:
    window_free(&L->win);
    window_free(&L->strwin);
    return rc;
}

/* ------------------------------------------------------------------ the native record
 *
 * CPython's own PyABIInfo (3.15's Py_mod_abi slot, docs/FORMAT.md, "The
 * native record"), found without running anything: a module slot array
 * ({int slot; void *value}, PyModuleDef_Slot, or 3.15's 16-byte PySlot a
 * PyModExport_ function returns) lies in a writable PT_LOAD segment, and its
 * pointers are filled by the dynamic loader from the file's relocations.
 *  1. The writable segments (at most NATIVE_MAX_DATA bytes each) are
 *     searched for an aligned Py_mod_abi entry (slot 109) in either form;
 *     and, in a file without a record of its own, for an aligned
 *     Py_mod_exec or Py_mod_create entry of 3.15's numbering (85, 84): such
 *     an array, well formed, proves 3.15+ headers (info->slot_id_315);
 *     and for a Py_mod_abi entry of 3.15's alphas' numbering (5, which
 *     pyo3-ffi 0.28 has): such an array, well formed (abigate__alpha_slot_kind) with
 *     a PyABIInfo of major version 1 there, is loaded by no release
 *     (info->slot_id_old 5); its PyABIInfo is not taken as a record.
 *  2. From each, the array is walked forward to its {0, NULL} terminator
 *     (at most NATIVE_MAX_SLOTS entries), every slot an ID of PEP 820's
 *     numbering for modules; the places of its pointers are noted.
 *  3. The relocation tables (DT_RELA, DT_REL, DT_RELR; at most
 *     NATIVE_MAX_RELOCS entries in all) are read once: each noted place
 *     gets the value the loader would write there (RELATIVE: the addend;
 *     a word-sized absolute or GLOB_DAT relocation: a symbol defined in
 *     this file plus the addend).
 *  4. An array is well formed when every pointer slot was relocated to an
 *     address inside the file, the integer slots hold small values and the
 *     terminator is not relocated.  Its Py_mod_abi value is then read as a
 *     12-byte PyABIInfo; only major version 1 is taken.
 * Every module of the file is read; they must agree (native->conflict). */

#define SLOT_MOD_ABI 109u
#define SLOT_MOD_CREATE 84u           /* 3.15's numbering (Py_mod_create is 1 before) */
#define SLOT_MOD_EXEC 85u             /* 3.15's numbering (Py_mod_exec is 2 before) */
#define NATIVE_MAX_DATA (16u << 20)   /* bytes of one writable segment searched */
#define NATIVE_MAX_RELOCS (8u << 20)  /* relocation entries read, all tables */
#define NATIVE_MAX_ARRAYS 16u         /* arrays followed from their anchors */
#define NATIVE_MAX_SLOTS 64u          /* entries of one array */
#define NATIVE_CHUNK 65536u

/* PEP 820's module slot IDs (3.15 headers): 0 none, 1 a pointer the loader
 * relocates, 2 an integer (Py_mod_multiple_interpreters, Py_mod_gil,
 * Py_mod_state_size). */
int abigate__mod_slot_kind(unsigned id)
{
    switch (id) {
    case 84: case 85: case 94: case 100: case 101: case 103: case 104: case 105: case 106:
    case 109: case 110:
        return 1;
    case 86: case 87: case 102:
        return 2;
    default:
        return 0;
    }
}

/* The module slot IDs of CPython 3.15's alpha releases, before PEP 820
 * renumbered them (pyo3-ffi 0.28 still has them): 1 Py_mod_create, 2 _exec,
 * 3 _multiple_interpreters, 4 _gil, 5 _abi, 6 _name, 7 _doc,
 * 8 _state_size, 9 _methods, 10 _state_traverse, 11 _state_clear,
 * 12 _state_free, 13 _token.  3.15 reads 5 to 83 as type slots and refuses
 * them in a module ("invalid module slot 5 (Py_mp_subscript)"); older
 * versions know only 1 to 4.  Kinds as abigate__mod_slot_kind's. */
int abigate__alpha_slot_kind(unsigned id)
{
    return id == 3 || id == 4 || id == 8 ? 2 : id >= 1 && id <= 13 ? 1 : 0;
}

/* 1 when `a` reads as the PyABIInfo of such an array: 3.15's type slots
 * share the IDs (5 is Py_mp_subscript), so a type's slot array can look
 * like one, its "PyABIInfo" then being a function's code; a real one has
 * minor 0, only the four defined flags, one or both threading flags, and
 * versions of 3.15's alphas or 0 (pyo3-ffi 0.28 writes 0). */
int abigate__alpha_abiinfo_ok(const abigate_abiinfo *a)
{
    return a->major == 1 && a->minor == 0 && !(a->flags & ~0xfu) && (a->flags & 6u) &&
           (a->build_version == 0 || (a->build_version >> 16) == 0x030f) &&
           (a->abi_version == 0 || (a->abi_version >> 24) == 3);
}

/* The relocation types a slot's pointer may be filled by, per machine:
 * RELATIVE (base + addend), and a word-sized absolute or GLOB_DAT one
 * against a symbol. */
struct reloc_types { unsigned machine, relative, absolute, glob_dat; };
static const struct reloc_types reloc_table[] = {
    {62, 8, 1, 6},          /* x86-64: R_X86_64_RELATIVE, _64, _GLOB_DAT */
    {3, 8, 1, 6},           /* i386: R_386_RELATIVE, _32, _GLOB_DAT */
    {183, 1027, 257, 1025}, /* AArch64: RELATIVE, ABS64, GLOB_DAT */
    {40, 23, 2, 21},        /* ARM: RELATIVE, ABS32, GLOB_DAT */
    {21, 22, 38, 20},       /* PowerPC64: RELATIVE, ADDR64, GLOB_DAT */
    {20, 22, 1, 20},        /* PowerPC: RELATIVE, ADDR32, GLOB_DAT */
    {22, 12, 22, 10},       /* s390x: RELATIVE, 64, GLOB_DAT */
    {243, 3, 2, 0},         /* RISC-V (64-bit): RELATIVE, 64 */
    {258, 3, 2, 0},         /* LoongArch: RELATIVE, 64 */
    {43, 22, 54, 20},       /* SPARC V9: RELATIVE, 64, GLOB_DAT */
};

struct place {
    uint64_t addr;        /* where a pointer is written */
    uint64_t value;       /* what the loader writes there */
    int relocated;
};

struct native_array {
    size_t first, count;  /* its places: places[first .. first + count): its
                           * anchor's pointer first, the terminator's last */
    unsigned anchor;      /* the slot ID it was found by: Py_mod_abi, 85/84, or the
                           * alphas' Py_mod_abi (5) */
};

#define NATIVE_MAX_PENDING 32u        /* PyModuleDef headers read after the relocations */
#define NATIVE_MAX_PLACES (NATIVE_MAX_ARRAYS * (NATIVE_MAX_SLOTS + 1) + 2 * NATIVE_MAX_PENDING)

struct native {
    int be, is64;
    unsigned word;        /* pointer size */
    uint64_t lo, hi;      /* the noted places lie in [lo, hi] */
    uint64_t bloom;       /* bit (addr / word) % 64 of each noted place */
    size_t nplaces, narrays;
    /* the PyModuleDef search (a file without a record of its own): the
     * module name the file's name gives, and the headers found */
    const char *module;
    size_t module_len;
    unsigned moddef;
    unsigned def_min;     /* the oldest headers its HEAD_INIT's values come from */
    unsigned def_old, def_new; /* its m_slots: highest old-numbering ID, a 3.15 ID */
    /* headers whose m_name is zero in place (lld's RELA), to be read once
     * their pointers' relocations are known: places[name], places[name + 1]
     * (m_slots) */
    struct { size_t name; unsigned layout, vmin; } pending[NATIVE_MAX_PENDING];
    size_t npending;
    struct dyninfo d;     /* the relocation tables and the symbol table (read_dynamic) */
    /* filled as used (find_native zeroes only what comes before) */
    struct native_array arrays[NATIVE_MAX_ARRAYS];
    struct place places[NATIVE_MAX_PLACES];
    uint16_t order[NATIVE_MAX_PLACES]; /* places by address */
};

static inline uint64_t get_word(const unsigned char *p, const struct native *n)
{
    return n->is64 ? abigate__get64(p, n->be) : abigate__get32(p, n->be);
}

/* The slot ID of the entry at b (`form` 0: PyModuleDef_Slot, {int, void *};
 * 1: PySlot, {uint16 id, uint16 flags, uint32 0, 8-byte value}), or -1
 * when it is not one. */
static long entry_id(const unsigned char *b, int form, const struct native *n)
{
    if (form == 0) {
        uint32_t id = abigate__get32(b, n->be);
        if (n->is64 && abigate__get32(b + 4, n->be) != 0)
            return -1; /* padding */
        return id <= 0xffff ? (long)id : -1;
    }
    uint16_t flags = abigate__get16(b + 2, n->be);
    if (abigate__get32(b + 4, n->be) != 0 || (flags & ~7u))
        return -1;
    return abigate__get16(b, n->be);
}

static unsigned entry_size(int form, const struct native *n)
{
    return form == 0 ? 2 * n->word : 16;
}

/* Note the array whose `anchor` entry is at `at` (vaddr), if its IDs are
 * well formed up to the terminator, in the segment bytes seg[0..len) that
 * start at vaddr `base`. */
static void note_array(struct native *n, const unsigned char *seg, uint64_t len, uint64_t base,
                       uint64_t at, int form, unsigned anchor)
{
    unsigned size = entry_size(form, n), voff = form == 0 ? n->word : 8;
    if (n->narrays == NATIVE_MAX_ARRAYS)
        return;
    for (size_t a = 0; a < n->narrays; a++)
        if (n->places[n->arrays[a].first].addr == at + voff)
            return; /* the same entries read in the other form (64-bit little-endian) */
    size_t first = n->nplaces;
    for (unsigned k = 0; k < NATIVE_MAX_SLOTS; k++) {
        uint64_t e = at - base + (uint64_t)k * size;
        if (e + size > len) /* runs past the segment: not an array */
            break;
        long id = entry_id(seg + e, form, n);
        uint64_t value = get_word(seg + e + voff, n);
        if (id == 0) { /* the terminator: its value must be NULL and stay so */
            if (value != 0)
                break;
            n->places[n->nplaces++] = (struct place){base + e + voff, 0, 0};
            struct native_array *a = &n->arrays[n->narrays++];
            a->first = first;
            a->count = n->nplaces - first;
            a->anchor = anchor;
            return;
        }
        int alpha = anchor == ABIGATE__SLOT_ABI_ALPHA; /* PyModuleDef_Slot form only */
        int kind = id <= 0 || (alpha && form) ? 0
                   : alpha ? abigate__alpha_slot_kind((unsigned)id)
                           : abigate__mod_slot_kind((unsigned)id);
        if (kind == 0 ||
            (kind == 2 && id != (alpha ? 8 : 102) && value > 2)) /* a state's size */
            break;
        if (kind == 1)
            n->places[n->nplaces++] = (struct place){base + e + voff, value, 0};
    }
    n->nplaces = first; /* not well formed */
}

/* A static PyModuleDef at `o` of the segment bytes seg[0..len) (vaddr
 * base + o): PyModuleDef_HEAD_INIT's object header, GIL or free-threaded,
 * with the values CPython's headers write there, then m_init NULL,
 * m_index 0, m_copy NULL, a plausible m_size, and m_name pointing at the
 * module's name.  Read as the file holds them, before any relocation: the
 * linkers that write a pointer's value in place too (GNU ld's RELA, every
 * REL and RELR) show a relocated word as non-zero and m_name's target; a
 * file whose RELA pointers are zero in place (lld's default) shows no
 * m_name, so nothing is found there: no evidence, never wrong evidence.
 *   GIL:            ob_refcnt: 1 (any version), UINT_MAX (3.12's core,
 *                   3.12+; 32-bit: UINT_MAX >> 2), (3 << 30) | (5 << 48)
 *                   (3.14+; 32-bit: 7 << 28); ob_type NULL; m_name at 5 words
 *   free-threaded:  ob_tid 0, ob_flags 0 (3.13t+) or 4 (3.14t+), ob_mutex 0,
 *                   ob_gc_bits 0, ob_ref_local 0xffffffff, ob_ref_shared 0,
 *                   ob_type NULL; m_name at 56 bytes (32 on 32-bit)
 * The values give the oldest headers that write them, never the newest:
 * other producers keep older values for newer versions (PyO3 0.28 writes
 * ob_refcnt 1 for 3.15, and ob_flags 0 for 3.14t). */
static void def_read(struct elf *e, struct native *n, uint64_t at, uint64_t slots,
                     unsigned layout, unsigned vmin);
static void note_def(struct elf *e, struct native *n, const unsigned char *seg, uint64_t len,
                     uint64_t base, uint64_t o)
{
    unsigned w = n->word, name, type, layout = 0, vmin;
    if (o + 8 * w > len)
        return; /* a PyModuleDef's first 8 words are read below; the segment may end sooner */
    uint64_t first = get_word(seg + o, n);
    if (first == 0 && o + (n->is64 ? 56u : 32u) + 3 * w <= len) {
        const unsigned char *h = seg + o + w; /* ob_flags, ob_mutex, ob_gc_bits */
        unsigned flags = abigate__get16(h, n->be);
        name = n->is64 ? 56 : 32;
        type = name - 4 * w;
        if ((flags == 0 || flags == 4) && h[2] == 0 && h[3] == 0 &&
            abigate__get32(h + 4, n->be) == 0xffffffffu && get_word(seg + o + type - w, n) == 0)
            layout = ABIGATE_MODDEF_FREETHREADED;
        vmin = flags ? 14 : 13; /* 3.14 marks it statically allocated */
    } else if (first == 1 || (n->is64 ? first == 0xffffffffu || first == 0x00050000c0000000u
                                      : first == 0x3fffffffu || first == 0x70000000u)) {
        name = 5 * w;
        type = w;
        layout = ABIGATE_MODDEF_GIL;
        vmin = first == 1 ? 0 : first == 0xffffffffu || first == 0x3fffffffu ? 12 : 14;
    }
    if (!layout)
        return; /* not a header */
    for (unsigned k = type; k < name; k += w) /* ob_type, m_init, m_index, m_copy */
        if (get_word(seg + o + k, n) != 0)
            return;
    uint64_t size = get_word(seg + o + name + 2 * w, n), at = get_word(seg + o + name, n);
    if (size != (n->is64 ? UINT64_MAX : UINT32_MAX) && size >= (1u << 24))
        return; /* m_size: -1, or a state's size */
    uint64_t slots = o + name + 5 * w <= len ? get_word(seg + o + name + 4 * w, n) : 0;
    if (at == 0) { /* zero in place (lld's RELA): read once relocated */
        if (n->npending < NATIVE_MAX_PENDING && n->nplaces + 2 <= NATIVE_MAX_PLACES &&
            o + name + 5 * w <= len) {
            n->pending[n->npending].name = n->nplaces;
            n->pending[n->npending].layout = layout;
            n->pending[n->npending++].vmin = vmin;
            n->places[n->nplaces++] = (struct place){base + o + name, 0, 0};
            n->places[n->nplaces++] = (struct place){base + o + name + 4 * w, slots, 0};
        }
        return;
    }
    def_read(e, n, at, slots, layout, vmin);
}

/* The PyModuleDef whose header note_def() found (`layout`, `vmin`): its
 * m_name at vaddr `at` must name the file's module; then its m_slots at
 * vaddr `slots` (0 none) name its slots. */
static void def_read(struct elf *e, struct native *n, uint64_t at, uint64_t slots,
                     unsigned layout, unsigned vmin)
{
    unsigned w = n->word;
    uint64_t off;
    /* m_name: the module's name, its last dotted part the file name's
     * module (what CPython's import requires of PyInit_<module>) */
    unsigned char b[64];
    uint64_t room = sizeof b;
    if (!at || map_addr(e, at, &off))
        return;
    if (past_end(e->src, off, room)) {
        if (!e->src->size_known || e->src->size <= off)
            return;
        room = e->src->size - off;
    }
    if (room < 2 || src_read(e->src, off, b, (size_t)room, ABIGATE_E_IO))
        return;
    size_t slen = strnlen((const char *)b, (size_t)room), m = n->module_len;
    if (slen == room || slen < m || memcmp(b + slen - m, n->module, m) ||
        (slen > m && b[slen - m - 1] != '.'))
        return;
    n->moddef |= layout;
    n->def_min = vmin;
    /* its slots (m_slots, after m_name, m_doc, m_size, m_methods): the IDs
     * of one numbering or the other, to a {0, NULL} terminator (a pointer
     * zero in place reads as NULL: the IDs are what counts); anything else
     * gives no evidence */
    unsigned char t[NATIVE_MAX_SLOTS * 16];
    uint64_t want = (uint64_t)NATIVE_MAX_SLOTS * 2 * w;
    if (!slots || map_addr(e, slots, &off))
        return;
    if (past_end(e->src, off, want)) {
        if (!e->src->size_known || e->src->size <= off)
            return;
        want = (e->src->size - off) / (2 * w) * (2 * w);
    }
    if (!want || src_read(e->src, off, t, (size_t)want, ABIGATE_E_IO))
        return;
    unsigned old_max = 0, new_id = 0;
    for (uint64_t k = 0; k + 2 * w <= want; k += 2 * w) {
        long id = entry_id(t + k, 0, n);
        uint64_t value = get_word(t + k + w, n);
        if (id == 0) {
            if (value == 0) {
                n->def_old = old_max;
                n->def_new = new_id;
            }
            return;
        }
        if (id >= 1 && id <= 4)
            old_max = (unsigned)id > old_max ? (unsigned)id : old_max;
        else if (id >= 84 && abigate__mod_slot_kind((unsigned)id))
            new_id = new_id ? new_id : (unsigned)id;
        else
            return; /* not a slot array */
    }
}

/* Sort n->order by address (insertion sort: at most a few hundred places). */
static void sort_places(struct native *n)
{
    n->lo = UINT64_MAX;
    n->hi = 0;
    n->bloom = 0;
    for (size_t i = 0; i < n->nplaces; i++) {
        n->bloom |= 1ull << (n->places[i].addr / n->word % 64);
        n->lo = n->places[i].addr < n->lo ? n->places[i].addr : n->lo;
        n->hi = n->places[i].addr > n->hi ? n->places[i].addr : n->hi;
        size_t j = i;
        for (; j > 0 && n->places[n->order[j - 1]].addr > n->places[i].addr; j--)
            n->order[j] = n->order[j - 1];
        n->order[j] = (uint16_t)i;
    }
}

/* The anchors of one segment's bytes seg[0..len) at vaddr `base`: each
 * fits in one byte, so an entry's ID starts with it (little-endian), or has
 * it second (a big-endian PySlot) or fourth (a big-endian
 * PyModuleDef_Slot); memchr finds the candidates. */
static void find_anchors(struct native *n, const unsigned char *seg, uint64_t len, uint64_t base,
                         const unsigned *anchors, unsigned nanchors)
{
    static const unsigned at_le[] = {0}, at_be[] = {1, 3};
    const unsigned *at = n->be ? at_be : at_le;
    unsigned nat = n->be ? 2 : 1;
    for (unsigned a = 0; a < nanchors; a++) {
        const unsigned char *q = seg, *end = seg + len;
        while ((q = memchr(q, (int)anchors[a], (size_t)(end - q)))) {
            for (unsigned k = 0; k < nat; k++) {
                uint64_t o = (uint64_t)(q - seg);
                if (o < at[k] || ((base + o - at[k]) % n->word) || o - at[k] + 16 > len)
                    continue; /* not at an entry's aligned start */
                o -= at[k];
                for (int form = 0; form < 2; form++)
                    if (entry_id(seg + o, form, n) == (long)anchors[a])
                        note_array(n, seg, len, base, base + o, form, anchors[a]);
            }
            q++;
        }
    }
}

/* The static PyModuleDef of one segment's bytes (note_def): a word is
 * looked at only when it may start a header (the free-threaded one's
 * ob_ref_local 0xffffffff one word on; the GIL one's ob_refcnt, never zero,
 * its ob_type zero), backwards from the segment's end, where .data lies
 * (after .data.rel.ro, .dynamic and .got), up to the first found. */
static void find_def(struct elf *e, struct native *n, const unsigned char *seg, uint64_t len,
                     uint64_t base)
{
    unsigned w = n->word;
    uint64_t start = (w - base % w) % w;
    if (len < start + 8 * w)
        return; /* no room for a header's first 8 words (and len - start would wrap) */
    uint64_t d = start + (len - start) / w * w;
    while (!n->moddef && d >= start + w) {
        d -= w;
        if (d + 8 * w > len)
            continue;
        const unsigned char *q = seg + d;
        uint32_t next[2], here[2]; /* zero tests need no byte order */
        memcpy(next, q + w, 8);
        memcpy(here, q, 8);
        if (next[1] == 0xffffffffu || (w == 8 ? (next[0] | next[1]) == 0 && (here[0] | here[1]) != 0
                                              : next[0] == 0 && here[0] != 0))
            note_def(e, n, seg, len, base, d);
    }
}

#define NATIVE_MAX_SEGS 4u /* writable PT_LOAD segments searched */

/* Step 1 and 2 over the writable segments: their Py_mod_abi entries; and,
 * with `numbering` (a file without a record of its own) and none of those
 * found, the entries of 3.15's numbering (Py_mod_exec, Py_mod_create), of
 * the alphas' (their Py_mod_abi), and the static PyModuleDef.  A file
 * whose Py_mod_abi array is taken is judged by that record, which the rest
 * would only repeat (docs/POLICY.md: the data rules are for files without
 * one), so it is not searched for them: a module settled by its record
 * costs one scan of its data. */
static void find_slot_arrays(struct elf *e, struct native *n, int numbering)
{
    struct abigate__src *s = e->src;
    /* the segments' bytes: in memory when the head or read_tail holds
     * them; else read, and kept for the second pass while the copies kept
     * stay within NATIVE_MAX_DATA in all (a segment past that is read
     * again there) */
    struct seg_bytes { const unsigned char *seg; unsigned char *copy; uint64_t off, len, base; }
        segs[NATIVE_MAX_SEGS];
    unsigned nsegs = 0;
    uint64_t kept = 0;
    static const unsigned abi[] = {SLOT_MOD_ABI},
                          others[] = {SLOT_MOD_EXEC, SLOT_MOD_CREATE, ABIGATE__SLOT_ABI_ALPHA};
    for (unsigned i = 0; i < e->phnum && i < PH_CACHE && nsegs < NATIVE_MAX_SEGS; i++) {
        struct phdr p;
        if (read_phdr(e, i, &p) || p.type != PT_LOAD_ || !(p.flags & PF_W_) || p.filesz == 0 ||
            p.filesz > NATIVE_MAX_DATA || past_end(s, p.offset, p.filesz))
            continue;
        const unsigned char *mem = src_mem(s, p.offset, p.filesz);
        unsigned char *copy = mem ? NULL : malloc((size_t)p.filesz);
        if (!mem && (!copy || src_read(s, p.offset, copy, (size_t)p.filesz, ABIGATE_E_IO))) {
            free(copy);
            abigate__ok(s->err);
            continue;
        }
        find_anchors(n, mem ? mem : copy, p.filesz, p.vaddr, abi, 1);
        if (copy && kept + p.filesz > NATIVE_MAX_DATA) {
            free(copy); /* read again if the second pass wants it */
            copy = NULL;
        } else if (copy) {
            kept += p.filesz;
        }
        segs[nsegs++] = (struct seg_bytes){mem ? mem : copy, copy, p.offset, p.filesz, p.vaddr};
    }
    if (numbering && !n->narrays)
        for (unsigned k = 0; k < nsegs; k++) {
            const unsigned char *seg = segs[k].seg;
            unsigned char *again = NULL;
            if (!seg && (!(again = malloc((size_t)segs[k].len)) ||
                         src_read(s, segs[k].off, again, (size_t)segs[k].len, ABIGATE_E_IO))) {
                free(again);
                abigate__ok(s->err);
                continue;
            }
            seg = seg ? seg : again;
            if (n->module_len)
                find_def(e, n, seg, segs[k].len, segs[k].base);
            find_anchors(n, seg, segs[k].len, segs[k].base, others, 3);
            free(again);
        }
    for (unsigned k = 0; k < nsegs; k++)
        free(segs[k].copy);
    abigate__ok(s->err);
}

/* The word at vaddr `addr` (an implicit addend), or 0 when unmapped. */
static uint64_t word_at(struct elf *e, const struct native *n, uint64_t addr)
{
    uint64_t off;
    unsigned char b[8];
    if (map_addr(e, addr, &off) || past_end(e->src, off, n->word) ||
        src_read(e->src, off, b, n->word, ABIGATE_E_IO))
        return 0;
    return get_word(b, n);
}

/* A symbol defined in this file: its value; else 0 with *ok 0. */
static uint64_t symbol_value(struct elf *e, const struct native *n, uint64_t sym, int *ok)
{
    uint64_t off, ent = n->d.syment ? n->d.syment : (n->is64 ? 24 : 16);
    unsigned char b[24];
    *ok = 0;
    if (!n->d.symtab || sym == 0 || sym > ABIGATE_MAX_SYMS ||
        map_addr(e, n->d.symtab + sym * ent, &off) || past_end(e->src, off, n->is64 ? 24 : 16) ||
        src_read(e->src, off, b, n->is64 ? 24 : 16, ABIGATE_E_IO))
        return 0;
    uint16_t shndx = abigate__get16(b + (n->is64 ? 6 : 14), n->be);
    *ok = shndx != 0;
    return n->is64 ? abigate__get64(b + 8, n->be) : abigate__get32(b + 4, n->be);
}

/* The first of the noted places at `addr` in n->order (two arrays may
 * share places), or n->nplaces when there is none: a binary search. */
static size_t place_at(const struct native *n, uint64_t addr)
{
    size_t lo = 0, hi = n->nplaces;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (n->places[n->order[mid]].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n->nplaces && n->places[n->order[lo]].addr == addr ? lo : n->nplaces;
}

/* One relocation: the value it writes at `where`, when that is a noted place. */
static void relocate(struct elf *e, struct native *n, const struct reloc_types *t, uint64_t where,
                     uint64_t info, int has_addend, uint64_t addend)
{
    if (where < n->lo || where > n->hi)
        return; /* no noted place there */
    size_t first = place_at(n, where);
    if (first == n->nplaces)
        return;
    uint64_t type = n->is64 ? (info & 0xffffffffu) : (info & 0xffu);
    uint64_t sym = n->is64 ? info >> 32 : info >> 8;
    if (!has_addend)
        addend = word_at(e, n, where);
    uint64_t value = addend;
    int relocated = 1;
    if (type == t->relative) {
    } else if (type == t->absolute || (t->glob_dat && type == t->glob_dat)) {
        int ok;
        value += symbol_value(e, n, sym, &ok);
        relocated = ok ? 1 : -1; /* a symbol of another file: not the module's data */
    } else {
        relocated = -1; /* relocated, but not to a value read here */
    }
    for (size_t i = first; i < n->nplaces && n->places[n->order[i]].addr == where; i++) {
        n->places[n->order[i]].value = value;
        n->places[n->order[i]].relocated = relocated;
    }
}

/* Step 3: the relocation tables, once, in chunks. */
static void apply_relocations(struct elf *e, struct native *n)
{
    const struct reloc_types *t = NULL;
    for (size_t i = 0; i < sizeof reloc_table / sizeof reloc_table[0]; i++)
        if (reloc_table[i].machine == e->machine)
            t = &reloc_table[i];
    if (!t || (e->machine == 243 && !n->is64))
        return; /* a machine whose relocations this reader does not know */
    unsigned char *buf = malloc(NATIVE_CHUNK);
    if (!buf)
        return;
    uint64_t budget = NATIVE_MAX_RELOCS;
    struct { uint64_t at, size, ent; int kind; } tabs[3] = {
        {n->d.rela, n->d.relasz, n->d.relaent ? n->d.relaent : (n->is64 ? 24u : 12u), 0},
        {n->d.rel, n->d.relsz, n->d.relent ? n->d.relent : (n->is64 ? 16u : 8u), 1},
        {n->d.relr, n->d.relrsz, n->d.relrent ? n->d.relrent : n->word, 2}};
    for (int k = 0; k < 3; k++) {
        uint64_t off, ent = tabs[k].ent, count = ent ? tabs[k].size / ent : 0;
        unsigned need = tabs[k].kind == 0 ? 3 * n->word : tabs[k].kind == 1 ? 2 * n->word : n->word;
        if (!tabs[k].at || !count || ent < need || ent > 64 || count > budget ||
            map_addr(e, tabs[k].at, &off) || past_end(e->src, off, count * ent))
            continue;
        budget -= count;
        uint64_t next = 0; /* RELR: the address the next bitmap starts at */
        for (uint64_t i = 0; i < count;) {
            uint64_t m = (NATIVE_CHUNK / ent < count - i) ? NATIVE_CHUNK / ent : count - i;
            if (src_read(e->src, off + i * ent, buf, (size_t)(m * ent), ABIGATE_E_IO))
                break;
            for (uint64_t j = 0; j < m; j++) {
                const unsigned char *r = buf + j * ent;
                uint64_t w = get_word(r, n);
                if (tabs[k].kind < 2) {
                    if (w < n->lo || w > n->hi || !(n->bloom >> (w / n->word % 64) & 1))
                        continue; /* no noted place there: its info and addend unread */
                    relocate(e, n, t, w, get_word(r + n->word, n), tabs[k].kind == 0,
                             tabs[k].kind == 0 ? get_word(r + 2 * n->word, n) : 0);
                } else if (!(w & 1)) { /* RELR: an address */
                    relocate(e, n, t, w, t->relative, 0, 0);
                    next = w + n->word;
                } else { /* RELR: a bitmap of the next 8*word - 1 words */
                    for (unsigned b = 1; b < 8 * n->word; b++)
                        if (w >> b & 1)
                            relocate(e, n, t, next + (uint64_t)(b - 1) * n->word, t->relative, 0,
                                     0);
                    next += (uint64_t)(8 * n->word - 1) * n->word;
                }
            }
            i += m;
        }
    }
    free(buf);
    abigate__ok(e->src->err);
}

/* A native PyABIInfo as a record (abigate.h, ABIGATE_VIA_PYABIINFO). */
void abigate__native_record(const abigate_abiinfo *a, unsigned pointer_size, abigate_record *r)
{
    memset(r, 0, sizeof *r);
    r->major = 1;
    r->size = 12;
    r->abiinfo = *a;
    r->pointer_size = (uint8_t)pointer_size;
    unsigned gil = a->flags & ABIGATE_ABIINFO_AGNOSTIC;
    if (a->flags & ABIGATE_ABIINFO_STABLE) {
        r->flags |= ABIGATE_REC_LIMITED_API;
        r->limited_api = a->abi_version;
        if (gil == ABIGATE_ABIINFO_AGNOSTIC)
            r->flags |= ABIGATE_REC_OPAQUE_PYOBJECT;
    }
    if (gil == ABIGATE_ABIINFO_FREETHREADED)
        r->flags |= ABIGATE_REC_GIL_DISABLED;
    if (a->flags & ABIGATE_ABIINFO_INTERNAL)
        r->flags |= ABIGATE_REC_BUILD_CORE;
}

/* 1 when vaddr `addr` holds `len` bytes of the file (a PT_LOAD's file part). */
static int in_file(struct elf *e, uint64_t addr, uint64_t len, uint64_t *off)
{
    return map_addr(e, addr, off) == ABIGATE_OK && map_addr(e, addr + len - 1, &(uint64_t){0}) ==
           ABIGATE_OK && !past_end(e->src, *off, len);
}

/* The dynamic entries the relocations need (read_dynamic's; none when it fails). */
static void read_reloc_dynamic(struct elf *e, struct native *n)
{
    struct legacy L;
    memset(&L, 0, sizeof L);
    if (read_dynamic(e, &L, &n->d, 0) != ABIGATE_OK)
        memset(&n->d, 0, offsetof(struct dyninfo, needed));
    window_free(&L.win);
}

/* The native record(s) of the file: *found 0 none, 1 one (or several that
 * agree: *out), -1 several that disagree (*out the first).  With
 * `slot_id_315` (a file without a record of its own), also the ID of a well
 * formed array of 3.15's numbering found without its Py_mod_abi, else 0. */
static void find_native(struct elf *e, abigate_abiinfo *out, uint64_t *offset, int *found,
                        unsigned *slot_id_315, unsigned *moddef, const char *module,
                        abigate_file_info *def)
{
    struct abigate__src *s = e->src;
    struct native *n = malloc(sizeof *n); /* places[] and order[] are filled as used */
    int alpha = 0;
    *found = 0;
    if (!n)
        return;
    memset(n, 0, offsetof(struct native, arrays));
    n->be = e->be;
    n->is64 = e->is64;
    n->word = e->is64 ? 8 : 4;
    if (slot_id_315 && module)
        n->module_len = strlen(n->module = module);
    find_slot_arrays(e, n, slot_id_315 != NULL);
    if (n->narrays || n->npending) {
        sort_places(n);
        read_reloc_dynamic(e, n);
        apply_relocations(e, n);
    }
    /* headers whose m_name was zero in place, nearest the segment's end first */
    for (size_t k = 0; k < n->npending && !n->moddef; k++) {
        const struct place *nm = &n->places[n->pending[k].name], *sl = nm + 1;
        if (nm->relocated == 1)
            def_read(e, n, nm->value, sl->relocated == 1 ? sl->value : 0,
                     n->pending[k].layout, n->pending[k].vmin);
    }
    for (size_t a = 0; a < n->narrays; a++) {
        /* step 4: every pointer relocated into the file, the terminator not */
        const struct native_array *arr = &n->arrays[a];
        uint64_t off;
        int good = 1;
        for (size_t k = 0; good && k < arr->count; k++) {
            const struct place *pl = &n->places[arr->first + k];
            good = k + 1 == arr->count ? pl->relocated == 0
                                       : pl->relocated == 1 && in_file(e, pl->value, 1, &off);
        }
        if (good && arr->anchor != SLOT_MOD_ABI && arr->anchor != ABIGATE__SLOT_ABI_ALPHA) {
            if (slot_id_315 && !*slot_id_315)
                *slot_id_315 = arr->anchor; /* 3.15's numbering: its headers */
            continue;
        }
        unsigned char b[12];
        const struct place *abi = &n->places[arr->first];
        if (!good || !in_file(e, abi->value, sizeof b, &off) ||
            src_read(s, off, b, sizeof b, ABIGATE_E_IO) || b[0] != 1)
            continue; /* only PyABIInfo version 1 */
        abigate_abiinfo info = {b[0], b[1], abigate__get16(b + 2, e->be),
                                abigate__get32(b + 4, e->be), abigate__get32(b + 8, e->be)};
        if (arr->anchor == ABIGATE__SLOT_ABI_ALPHA) {
            /* the alphas' numbering: no release loads it; not a record */
            alpha |= abigate__alpha_abiinfo_ok(&info);
            continue;
        }
        if (slot_id_315 && !*slot_id_315)
            *slot_id_315 = SLOT_MOD_EXEC; /* 3.15's numbering, as slots.c says it */
        if (*found == 0) {
            *out = info;
            *offset = off;
            *found = 1;
        } else if (*found == 1 && memcmp(&info, out, sizeof info)) {
            *found = -1;
        }
    }
    if (moddef)
        *moddef = n->moddef;
    if (def && n->moddef) { /* the PyModuleDef's own versions and slots */
        def->moddef_minor_min = n->def_min;
        def->moddef_minor_max = 255; /* no newest: abigate.h */
        def->slot_id_old = n->def_old;
        if (slot_id_315 && !*slot_id_315 && n->def_new)
            *slot_id_315 = n->def_new;
    }
    if (def && alpha)
        def->slot_id_old = ABIGATE__SLOT_ABI_ALPHA;
    free(n);
    abigate__ok(s->err);
}

/* ------------------------------------------------------------------ search facts */

size_t abigate__origin_token(const char *p, size_t room)
{
    if (room >= 9 && !memcmp(p, "${ORIGIN}", 9))
        return 9;
    if (room >= 7 && !memcmp(p, "$ORIGIN", 7)) {
        char c = room > 7 ? p[7] : '\0';
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return 7;
    }
    return 0;
}

/* 1 when the `len` bytes at `str` hold the dynamic string token ORIGIN
 * (abigate__origin_token). */
static int mentions_origin(const char *str, size_t len)
{
    for (const char *p = memchr(str, '$', len); p; p = memchr(p + 1, '$', len - (size_t)(p + 1 - str)))
        if (abigate__origin_token(p, len - (size_t)(p - str)))
            return 1;
    return 0;
}

/* The string at string-table offset `stroff`: mentions ORIGIN (*origin
 * set), and, with `names`, copied into its pool (offset in *at).  0, or
 * -1 when it cannot be read or does not fit. */
static int search_string(struct abigate__src *s, struct legacy *L, uint64_t stroff,
                         struct abigate__search_names *names, uint32_t *at, int *origin)
{
    const char *str;
    size_t len;
    if (window_string(s, &L->strwin, stroff, &str, &len))
        return -1;
    *origin |= mentions_origin(str, len);
    if (!names)
        return 0;
    if (len + 1 > sizeof names->pool - names->pool_used)
        return -1;
    memcpy(names->pool + names->pool_used, str, len + 1);
    *at = (uint32_t)names->pool_used;
    names->pool_used += len + 1;
    return 0;
}

/* The strings the search uses: DT_NEEDED, DT_RPATH, DT_RUNPATH; whether
 * they mention ORIGIN (*origin, *needed_origin), and with `names` copied
 * into it.  0, or -1 when one cannot be read or kept. */
static int search_strings(struct abigate__src *s, struct legacy *L, const struct dyninfo *d,
                          struct abigate__search_names *names, int *origin, int *needed_origin)
{
    uint32_t scratch;
    for (unsigned i = 0; i < d->n_needed; i++)
        if (search_string(s, L, d->needed[i], names, names ? &names->needed[i] : &scratch,
                          needed_origin))
            return -1;
    *origin |= *needed_origin;
    if ((d->have_rpath &&
         search_string(s, L, d->rpath, names, names ? &names->rpath : &scratch, origin)) ||
        (d->have_runpath &&
         search_string(s, L, d->runpath, names, names ? &names->runpath : &scratch, origin)))
        return -1;
    if (names)
        names->n_needed = d->n_needed;
    return 0;
}

/* The facts the dynamic loader's search for the file's dependencies
 * depends on (struct abigate__search), for the same-file load (load.c).
 * Read from the same head and windows as the rest, after them; the names
 * are kept only when one mentions ORIGIN (most files: none, nothing
 * copied).  An error here is not the read's error: it leaves state 0 (no
 * dynamic part that can be read: the load adds nothing), or -1 with
 * has_origin set when the names cannot be kept (the load then refuses to
 * guess). */
static void read_search(struct elf *e, struct abigate__search *out)
{
    struct abigate__src *s = e->src;
    abigate_error *saved = s->err, scratch;
    struct legacy legacy, *L = &legacy;
    struct dyninfo d;
    uint64_t stroff;
    int origin = 0, needed_origin = 0;
    abigate__search_release(out); /* a read done again (read_fd) drops the first one's names */
    memset(out, 0, sizeof *out);
    memset(L, 0, sizeof *L);
    s->err = &scratch;
    const unsigned char *h = s->head;
    out->elf_class = e->is64 ? 64 : 32;
    out->big_endian = (unsigned char)e->be;
    out->machine = e->machine;
    out->osabi = h[7];
    out->abiversion = h[8];
    out->e_flags = abigate__get32(h + (e->is64 ? 48 : 36), e->be);
    if (read_dynamic(e, L, &d, 0) || !d.have_dynamic)
        goto out;
    out->has_rpath = d.have_rpath;
    out->has_runpath = d.have_runpath;
    out->flags_1 = d.flags_1;
    if (!d.n_needed && !d.have_rpath && !d.have_runpath) {
        out->state = 1;
        goto out;
    }
    out->state = -1;
    out->has_origin = 1; /* until every string has been seen */
    if (!d.strtab || map_addr(e, d.strtab, &stroff) || past_end(s, stroff, d.strsz) ||
        strtab_open(s, L, stroff, d.strsz) || d.n_needed > d.n_needed_kept ||
        search_strings(s, L, &d, NULL, &origin, &needed_origin))
        goto out;
    if (origin) { /* n_needed <= n_needed_kept <= ABIGATE__SEARCH_NEEDED */
        if (!(out->names = calloc(1, sizeof *out->names)) ||
            search_strings(s, L, &d, out->names, &origin, &needed_origin)) {
            abigate__search_release(out);
            out->state = -1;
            goto out;
        }
    }
    out->needed_origin = needed_origin;
    out->has_origin = origin;
    out->state = 1;
out:
    window_free(&L->win);
    window_free(&L->strwin);
    s->err = saved;
}

void abigate__search_release(struct abigate__search *search)
{
    if (search) {
        free(search->names);
        search->names = NULL;
    }
}

/* ------------------------------------------------------------------ for the other formats
 *
 * pe.c and macho.c read through the same input and the same bounds, keep
 * symbols in the same buffer, and find abigate's record as the same note
 * (internal.h). */

int abigate__src_read(struct abigate__src *s, uint64_t off, void *buf, size_t len,
                      int bounds_code)
{
    return src_read(s, off, buf, len, bounds_code);
}

int abigate__src_size(struct abigate__src *s, uint64_t *size)
{
    int rc = s->size_known ? ABIGATE_OK : learn_size(s);
    *size = s->size;
    return rc;
}

abigate_error *abigate__src_err(struct abigate__src *s)
{
    return s->err;
}

void abigate__keep_symbol(abigate_symbols *syms, const char *name, size_t len, int weak)
{
    keep_symbol(syms, name, len, weak, name_hash_n(name, len));
}

int abigate__scan_record_notes(struct abigate__src *s, uint64_t off, uint64_t size, int be,
                               abigate_file_info *out)
{
    struct elf e;
    struct record_state st;
    memset(&e, 0, offsetof(struct elf, ph));
    e.src = s;
    e.be = be;
    st.found = 0;
    int rc = scan_notes(&e, off, size, 4, ABIGATE_VIA_SECTION, &st);
    if (rc == ABIGATE_OK && st.found) {
        out->record_state = st.found;
        out->record_via = st.via;
        out->record_offset = st.offset;
        out->record = st.rec;
    }
    return rc;
}

/* ------------------------------------------------------------------ the ELF parse */

/* Empty `syms` (may be NULL) before a read fills it. */
void abigate__symbols_reset(abigate_symbols *syms)
{
    if (!syms)
        return;
    syms->count = 0;
    syms->truncated = 0;
    syms->indexed = 0;
    syms->sorted = 0;
    syms->hashed = 1; /* keep_symbol hashes each name */
    syms->pool_used = 0;
}

/* An ELF file, after the first read (read.c): `s` holds the input, its
 * size and its first head_len bytes.  With `stage` (ABIGATE_READ_LEGACY asked), the
 * legacy facts are read only when stage(what was read so far) gives a
 * buffer for the symbols (abigate__read_fd_staged). */
int abigate__parse_elf(struct abigate__src *s, const char *name, unsigned flags,
                       abigate_file_info *info, abigate_symbols *syms,
                       const struct abigate__stage *stage)
{
    struct elf e;
    struct record_state st;
    abigate_file_info out;
    int rc;

    memset(&e, 0, offsetof(struct elf, ph)); /* ph[] is valid up to ph_cached only */
    e.src = s;
    e.keep_exports = (flags & ABIGATE_READ_EXPORTS) != 0;
    if ((rc = parse_ehdr(&e)))
        return rc;

    memset(&out, 0, sizeof out);
    out.elf_class = e.is64 ? 64 : 32;
    out.big_endian = (unsigned)e.be;
    out.elf_type = e.type;
    out.machine = e.machine;
    if (name)
        abigate_tag_parse(name, &out.tag); /* the stage's question may need it */

    st.found = 0;
    if ((rc = find_record(&e, &st)))
        goto out;
    if (st.found) {
        out.record_state = st.found;
        out.record_via = st.via;
        out.record_offset = st.offset;
        out.record = st.rec;
    }
    /* CPython's own PyABIInfo: where there is no abigate record, and, to
     * check they agree, where abigate's record says 3.15+ headers (none
     * older carry one); not in an interpreter read for its exports */
    if (!e.keep_exports &&
        (!st.found || (st.found == ABIGATE_RECORD_PRESENT &&
                       st.rec.abiinfo.build_version >= 0x030f0000u))) {
        abigate_abiinfo native;
        uint64_t at = 0;
        int native_found;
        find_native(&e, &native, &at, &native_found, st.found ? NULL : &out.slot_id_315,
                    &out.moddef_layout, out.tag.module, st.found ? NULL : &out);
        if (native_found && !st.found) {
            out.record_state = native_found > 0 ? ABIGATE_RECORD_PRESENT : ABIGATE_RECORD_CONFLICT;
            out.record_via = ABIGATE_VIA_PYABIINFO;
            out.record_offset = at;
            abigate__native_record(&native, e.is64 ? 8 : 4, &out.record);
        } else if (native_found &&
                   (native_found < 0 || memcmp(&native, &st.rec.abiinfo, sizeof native))) {
            out.record_state = ABIGATE_RECORD_CONFLICT; /* abigate's own record is kept */
        }
    }

    if (stage && (flags & ABIGATE_READ_LEGACY)) {
        if (!(syms = stage->need(&out, stage->ctx)))
            flags &= ~ABIGATE_READ_LEGACY; /* the record settles it: stop here */
    }
    if (flags & (ABIGATE_READ_LEGACY | ABIGATE_READ_EXPORTS)) {
        abigate__symbols_reset(syms);
        if ((rc = read_legacy(&e, &out, syms)))
            goto out;
        out.legacy_read = 1;
    }
    /* After the legacy facts, whose read left the dynamic segment in
     * memory when it lies past the head; a file settled by its record
     * costs no read here when its dynamic part is in the head. */
    if (stage && stage->search)
        read_search(&e, stage->search);
    /* the size, when no read has needed it yet (read_fd), and the section
     * table's bounds when nothing has read the table */
    if ((rc = check_sh_table(&e)) || (!s->size_known && (rc = learn_size(s))))
        goto out;
    out.file_size = s->size;
    *info = out;
out:
    window_free(&e.shwin);
    free(s->tail);
    s->tail = NULL;
    return rc;
}

ABIGATE_API abigate_symbols *abigate_symbols_new(void)
{
    return calloc(1, sizeof(abigate_symbols));
}

ABIGATE_API void abigate_symbols_free(abigate_symbols *syms)
{
    free(syms);
}

ABIGATE_API unsigned abigate_symbols_count(const abigate_symbols *syms)
{
    return syms ? syms->count : 0;
}

ABIGATE_API int abigate_symbols_truncated(const abigate_symbols *syms)
{
    return syms && syms->truncated;
}

ABIGATE_API int abigate_symbols_weak(const abigate_symbols *syms, unsigned i)
{
    return syms && i < syms->count && syms->sym[i].weak;
}

ABIGATE_API const char *abigate_symbols_name(const abigate_symbols *syms, unsigned i)
{
    if (!syms || i >= syms->count)
        return NULL;
    return syms->pool + syms->sym[i].name;
}

static int compare_names(const void *a, const void *b, void *pool)
{
    const char *p = pool;
    const uint32_t na = *(const uint32_t *)a, nb = *(const uint32_t *)b;
    return strcmp(p + na, p + nb);
}

static uint32_t name_hash(const char *s)
{
    return name_hash_n(s, strlen(s));
}

static uint32_t symbol_hash(const abigate_symbols *syms, unsigned i)
{
    return syms->hashed ? syms->hash[i] : name_hash(syms->pool + syms->sym[i].name);
}

ABIGATE_API void abigate_symbols_index(abigate_symbols *syms)
{
    if (!syms || syms->indexed)
        return;
    /* At most half full, and no larger: the slots of an interpreter's
     * ~1,700 exports stay within 32 KiB, near the cache. */
    unsigned slots = 16;
    while (slots < 2 * syms->count)
        slots *= 2;
    syms->index_mask = slots - 1;
    memset(syms->index, 0, slots * sizeof syms->index[0]);
    for (unsigned i = 0; i < syms->count; i++) {
        uint32_t name = syms->sym[i].name, hash = symbol_hash(syms, i);
        uint32_t h = hash & syms->index_mask;
        while (syms->index[h].name)
            h = (h + 1) & syms->index_mask;
        syms->index[h].hash = hash;
        syms->index[h].name = name + 1;
    }
    syms->indexed = 1;
}

ABIGATE_API void abigate_symbols_sort(abigate_symbols *syms)
{
    if (!syms || syms->sorted)
        return;
    /* The name offset is the first member of each entry.  The index holds
     * pool offsets and whole-name hashes, so the reorder leaves it valid;
     * hash[i] follows entry i, so the kept hashes are taken again in the
     * new order (the reader's hash equals name_hash, test_symbol_index). */
    qsort_r(syms->sym, syms->count, sizeof syms->sym[0], compare_names, syms->pool);
    if (syms->hashed)
        for (unsigned i = 0; i < syms->count; i++)
            syms->hash[i] = name_hash(syms->pool + syms->sym[i].name);
    abigate_symbols_index(syms);
    syms->sorted = 1;
}

/* count <= ABIGATE_SYMBOLS_MAX, slots >= 2 * count: an empty slot exists.
 * The whole hash is compared first: a probe past another name costs no
 * look at the pool. */
static int lookup(const abigate_symbols *syms, const char *name, uint32_t hash)
{
    for (uint32_t h = hash & syms->index_mask; syms->index[h].name; h = (h + 1) & syms->index_mask)
        if (syms->index[h].hash == hash && strcmp(syms->pool + syms->index[h].name - 1, name) == 0)
            return 1;
    return 0;
}

ABIGATE_API int abigate_symbols_contains(const abigate_symbols *syms, const char *name)
{
    if (!syms || !name)
        return 0;
    if (!syms->indexed) {
        for (unsigned i = 0; i < syms->count; i++)
            if (strcmp(syms->pool + syms->sym[i].name, name) == 0)
                return 1;
        return 0;
    }
    return lookup(syms, name, name_hash(name));
}

int abigate__symbols_has(const abigate_symbols *set, const abigate_symbols *syms, unsigned i)
{
    return set->indexed ? lookup(set, abigate__symbol_name(syms, i), symbol_hash(syms, i))
                        : abigate_symbols_contains(set, abigate__symbol_name(syms, i));
}
