/* pe.c -- the Windows reader: PE32 and PE32+ images (.pyd, .dll).
 *
 * What a Windows extension module says about the interpreter it was built
 * for lies in its import tables: the DLL it links (python313.dll,
 * python313t.dll, python313_d.dll; python3.dll for abi3, python3t.dll
 * for abi3t) and the names it imports from it; its init hook is in its
 * export table; abigate's record, where its author put one, is the same
 * note as on ELF, in a section named ".abigate" (docs/FORMAT.md, "PE and
 * Mach-O").
 *
 * Read through the ELF reader's input (internal.h): nothing is trusted.
 * e_lfanew, the section table, every RVA, every count and every name is
 * checked against the file before it is used; the tables are read in
 * order, never followed in a loop that data could close, and bounded
 * (PE_MAX_* below).  The section that holds the import and export tables
 * is read once, whole when it fits the cap, so that a wheel's member is
 * not inflated again for each name.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define PE_MAX_LFANEW (1u << 20)     /* where the PE header may start */
#define PE_MAX_SECTIONS 96u          /* the Windows loader's own limit */
#define PE_MAX_DLLS 4096u            /* import descriptors, each table */
#define PE_MAX_NAMES ABIGATE_MAX_SYMS /* names imported or exported, in all */
#define PE_NAME_MAX 1024u            /* longest DLL or symbol name examined */
#define PE_CACHE_MAX (4u << 20)      /* bytes of one section kept in memory */

#define PE_MAX_RELOCS (1u << 20)     /* base relocation entries kept */
#define PE_MAX_DATA (16u << 20)      /* bytes of one data section searched for slots */

/* Data directories */
enum { DIR_EXPORT = 0, DIR_IMPORT = 1, DIR_BASERELOC = 5, DIR_DELAY = 13 };

struct section {
    char name[9];
    uint32_t va, vsize, raw_size, raw_off, flags;
};

struct pe {
    struct abigate__src *src;
    abigate_error *err;
    uint64_t size;
    int plus;                 /* PE32+ */
    uint64_t image_base;
    unsigned nsec;
    struct section sec[PE_MAX_SECTIONS];
    uint32_t size_of_headers, size_of_image;
    struct { uint32_t rva, size; } dir[16];
    /* the cache: one section's raw bytes */
    int cached;               /* index + 1 of the cached section, 0 none */
    unsigned char *cache;
    size_t cache_len;
};

static int fail(struct pe *p, uint64_t off, const char *what)
{
    return abigate__fail(p->err, ABIGATE_E_PE, (int64_t)off, "malformed PE file: %s", what);
}

int abigate__is_pe(const unsigned char *head, size_t len)
{
    if (len < 2 || head[0] != 'M' || head[1] != 'Z')
        return 0;
    if (len < 0x40)
        return 1; /* too short to be anything else: read as a truncated PE */
    uint32_t lfanew = abigate__get32(head + 0x3c, 0);
    if (lfanew <= len - 4 && len >= 4)
        return memcmp(head + lfanew, "PE\0\0", 4) == 0;
    return lfanew < PE_MAX_LFANEW; /* the header lies past the head: read it */
}

/* COFF machine -> ELF e_machine */
static unsigned machine_of(unsigned m)
{
    switch (m) {
    case 0x14c: return 3;                /* i386 */
    case 0x8664: return 62;              /* AMD64 */
    case 0xaa64: return 183;             /* ARM64 */
    case 0x1c0: case 0x1c2: case 0x1c4: return 40; /* ARM, Thumb, ARMNT */
    default: return 0;                   /* ARM64EC, IA-64, ...: no ELF number here */
    }
}

static int read_headers(struct pe *p, abigate_file_info *out)
{
    unsigned char h[24 + 240];
    int rc;
    if ((rc = abigate__src_size(p->src, &p->size)))
        return rc;
    if (p->size < 0x40)
        return fail(p, 0, "the DOS header is truncated");
    if ((rc = abigate__src_read(p->src, 0x3c, h, 4, ABIGATE_E_PE)))
        return rc;
    uint32_t lfanew = abigate__get32(h, 0);
    if (lfanew < 0x40 || lfanew > PE_MAX_LFANEW || abigate__out_of_bounds(lfanew, 24, p->size))
        return fail(p, 0x3c, "e_lfanew does not point at a PE header inside the file");
    if ((rc = abigate__src_read(p->src, lfanew, h, 24, ABIGATE_E_PE)))
        return rc;
    if (memcmp(h, "PE\0\0", 4) != 0)
        return fail(p, lfanew, "no PE signature where e_lfanew points (an MS-DOS program?)");
    unsigned machine = abigate__get16(h + 4, 0);
    p->nsec = abigate__get16(h + 6, 0);
    unsigned opt_size = abigate__get16(h + 20, 0);
    unsigned characteristics = abigate__get16(h + 22, 0);
    if (p->nsec > PE_MAX_SECTIONS)
        return fail(p, lfanew + 6, "more sections than the Windows loader takes (96)");
    uint64_t opt = (uint64_t)lfanew + 24;
    if (opt_size < 2)
        return fail(p, lfanew + 20, "no optional header: an object file, not an image");
    size_t want = opt_size < 240 ? opt_size : 240;
    if ((rc = abigate__src_read(p->src, opt, h, want, ABIGATE_E_PE)))
        return rc;
    unsigned magic = abigate__get16(h, 0);
    if (magic != 0x10b && magic != 0x20b)
        return fail(p, opt, "optional header magic is neither PE32 (0x10b) nor PE32+ (0x20b)");
    p->plus = magic == 0x20b;
    size_t dirs_at = p->plus ? 112 : 96;
    if (want < dirs_at)
        return fail(p, opt, "optional header shorter than its fixed part");
    p->image_base = p->plus ? abigate__get64(h + 24, 0) : abigate__get32(h + 28, 0);
    p->size_of_image = abigate__get32(h + 56, 0);
    p->size_of_headers = abigate__get32(h + 60, 0);
    uint32_t ndirs = abigate__get32(h + dirs_at - 4, 0);
    if (ndirs > 16)
        ndirs = 16; /* the loader reads 16 at most */
    if (dirs_at + (size_t)ndirs * 8 > want)
        return fail(p, opt, "data directories run past the optional header");
    memset(p->dir, 0, sizeof p->dir);
    for (unsigned i = 0; i < ndirs; i++) {
        p->dir[i].rva = abigate__get32(h + dirs_at + 8 * i, 0);
        p->dir[i].size = abigate__get32(h + dirs_at + 8 * i + 4, 0);
    }
    out->format = ABIGATE_FORMAT_PE;
    out->machine = machine_of(machine);
    out->elf_class = p->plus ? 64 : 32;
    out->big_endian = 0;
    out->elf_type = (characteristics & 0x2000) ? 3 : (characteristics & 0x0002) ? 2 : 1;
    out->min_os = (uint32_t)abigate__get16(h + 48, 0) << 16 | (uint32_t)abigate__get16(h + 50, 0) << 8;

    /* the section table */
    uint64_t st = opt + opt_size;
    unsigned char sh[40];
    for (unsigned i = 0; i < p->nsec; i++) {
        if ((rc = abigate__src_read(p->src, st + 40ull * i, sh, 40, ABIGATE_E_PE)))
            return rc;
        struct section *s = &p->sec[i];
        memcpy(s->name, sh, 8);
        s->name[8] = '\0';
        s->vsize = abigate__get32(sh + 8, 0);
        s->va = abigate__get32(sh + 12, 0);
        s->raw_size = abigate__get32(sh + 16, 0);
        s->raw_off = abigate__get32(sh + 20, 0);
        s->flags = abigate__get32(sh + 36, 0);
        if (s->raw_size && abigate__out_of_bounds(s->raw_off, s->raw_size, p->size))
            return fail(p, st + 40ull * i + 16, "a section's raw data lies outside the file");
    }
    return ABIGATE_OK;
}

/* The section holding `rva`, whose file bytes hold [rva, rva+len); -1
 * when the range lies in no section's file bytes (uninitialised data). */
static int section_of(const struct pe *p, uint32_t rva, uint32_t len)
{
    for (unsigned i = 0; i < p->nsec; i++) {
        const struct section *s = &p->sec[i];
        if (rva >= s->va && rva - s->va < s->raw_size && s->raw_size - (rva - s->va) >= len)
            return (int)i;
    }
    return -1;
}

/* Read [rva, rva+len): from the cached section when it holds it, else by
 * a bounded read; `what` names it in the error. */
static int rva_read(struct pe *p, uint32_t rva, void *buf, uint32_t len, const char *what)
{
    int i = section_of(p, rva, len);
    if (i < 0) {
        if (rva < p->size_of_headers && !abigate__out_of_bounds(rva, len, p->size_of_headers) &&
            !abigate__out_of_bounds(rva, len, p->size))
            return abigate__src_read(p->src, rva, buf, len, ABIGATE_E_PE);
        return abigate__fail(p->err, ABIGATE_E_PE, -1,
                             "malformed PE file: %s (RVA 0x%x) is not in the file", what, rva);
    }
    const struct section *s = &p->sec[i];
    if (p->cached == i + 1) {
        memcpy(buf, p->cache + (rva - s->va), len);
        return ABIGATE_OK;
    }
    return abigate__src_read(p->src, (uint64_t)s->raw_off + (rva - s->va), buf, len, ABIGATE_E_PE);
}

/* Keep the section holding `rva` in memory (a table's section: its names
 * are read next). */
static int cache_section_of(struct pe *p, uint32_t rva)
{
    int i = section_of(p, rva, 1);
    if (i < 0 || p->cached == i + 1 || p->sec[i].raw_size > PE_CACHE_MAX)
        return ABIGATE_OK;
    const struct section *s = &p->sec[i];
    unsigned char *buf = realloc(p->cache, s->raw_size);
    if (!buf)
        return abigate__fail(p->err, ABIGATE_E_NOMEM, -1, NULL);
    p->cache = buf;
    p->cached = 0;
    int rc = abigate__src_read(p->src, s->raw_off, buf, s->raw_size, ABIGATE_E_PE);
    if (rc == ABIGATE_OK) {
        p->cached = i + 1;
        p->cache_len = s->raw_size;
    }
    return rc;
}

/* The NUL-terminated name at `rva` into buf[PE_NAME_MAX + 1]: its length. */
static int rva_string(struct pe *p, uint32_t rva, char *buf, size_t *len, const char *what)
{
    int i = section_of(p, rva, 1);
    if (i < 0)
        return abigate__fail(p->err, ABIGATE_E_PE, -1,
                             "malformed PE file: %s (RVA 0x%x) is not in the file", what, rva);
    const struct section *s = &p->sec[i];
    uint32_t room = s->raw_size - (rva - s->va);
    uint32_t n = room < PE_NAME_MAX + 1 ? room : PE_NAME_MAX + 1;
    int rc = rva_read(p, rva, buf, n, what);
    if (rc)
        return rc;
    const char *nul = memchr(buf, '\0', n);
    if (!nul)
        return abigate__fail(p->err, ABIGATE_E_PE, -1,
                             "malformed PE file: %s (RVA 0x%x) is unterminated or longer than "
                             "%u bytes", what, rva, PE_NAME_MAX);
    *len = (size_t)(nul - buf);
    return ABIGATE_OK;
}

static int has_prefix(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(s, prefix, n) == 0;
}

/* "python313t.dll", "python3.dll", "PYTHON313_D.DLL": one of CPython's
 * DLLs (compared without case, as Windows names files). */
static int is_python_dll(const char *name, size_t len)
{
    static const char p[] = "python3";
    if (len < sizeof p - 1 + 4)
        return 0;
    for (size_t i = 0; i < sizeof p - 1; i++)
        if ((name[i] | 0x20) != p[i])
            return 0;
    const char *ext = name + len - 4;
    return ext[0] == '.' && (ext[1] | 0x20) == 'd' && (ext[2] | 0x20) == 'l' &&
           (ext[3] | 0x20) == 'l';
}

/* The names one DLL's lookup table imports, from its python DLL or not. */
static int read_thunks(struct pe *p, uint32_t table, int python, abigate_file_info *out,
                       abigate_symbols *syms, unsigned *budget)
{
    unsigned w = p->plus ? 8 : 4;
    char name[PE_NAME_MAX + 1];
    for (uint32_t at = table;; at += w) {
        unsigned char e[8];
        if (at > UINT32_MAX - w)
            return fail(p, 0, "an import lookup table runs past 4 GiB");
        int rc = rva_read(p, at, e, w, "an import lookup table");
        if (rc)
            return rc;
        uint64_t v = p->plus ? abigate__get64(e, 0) : abigate__get32(e, 0);
        if (v == 0)
            return ABIGATE_OK;
        if (*budget == 0)
            return abigate__fail(p->err, ABIGATE_E_PE, -1,
                                 "malformed PE file: more than %u imported names, the cap",
                                 PE_MAX_NAMES);
        --*budget;
        if (v >> (w * 8 - 1))
            continue; /* by ordinal: no name */
        if (!python)
            continue;
        size_t len;
        if ((rc = rva_string(p, (uint32_t)v + 2, name, &len, "an imported name")))
            return rc;
        if (len == 0)
            return fail(p, 0, "an imported name is empty");
        out->n_pysyms++;
        abigate__keep_symbol(syms, name, len, 0);
    }
}

/* One import directory: the regular one (delay 0: 20-byte descriptors,
 * name at 12, lookup table at 0 or the address table at 16) or the
 * delay-load one (32-byte descriptors, attributes at 0, name at 4, names
 * table at 16; VAs instead of RVAs when attribute bit 0 is clear). */
static int read_imports(struct pe *p, int delay, abigate_file_info *out, abigate_symbols *syms,
                        unsigned *budget, int names)
{
    uint32_t dir = p->dir[delay ? DIR_DELAY : DIR_IMPORT].rva;
    unsigned size = delay ? 32 : 20;
    if (!dir)
        return ABIGATE_OK;
    int rc = cache_section_of(p, dir);
    if (rc)
        return rc;
    char name[PE_NAME_MAX + 1];
    for (unsigned n = 0;; n++) {
        unsigned char d[32];
        if (n == PE_MAX_DLLS)
            return abigate__fail(p->err, ABIGATE_E_PE, -1,
                                 "malformed PE file: more than %u import descriptors, the cap",
                                 PE_MAX_DLLS);
        if ((uint64_t)dir + (uint64_t)size * (n + 1) > UINT32_MAX)
            return fail(p, 0, "the import directory runs past 4 GiB");
        if ((rc = rva_read(p, dir + size * n, d, size, "an import descriptor")))
            return rc;
        static const unsigned char zero[32];
        if (memcmp(d, zero, size) == 0)
            return ABIGATE_OK;
        uint32_t name_rva = abigate__get32(d + (delay ? 4 : 12), 0);
        uint32_t table = delay ? abigate__get32(d + 16, 0)
                               : abigate__get32(d, 0) ? abigate__get32(d, 0)
                                                      : abigate__get32(d + 16, 0);
        if (delay && !(abigate__get32(d, 0) & 1)) { /* Visual C++ 6's VAs */
            uint64_t base = p->image_base;
            if (name_rva < base || table < base || name_rva - base > UINT32_MAX ||
                table - base > UINT32_MAX)
                return fail(p, 0, "a delay-load descriptor's addresses are outside the image");
            name_rva = (uint32_t)(name_rva - base);
            table = (uint32_t)(table - base);
        }
        size_t len;
        if ((rc = rva_string(p, name_rva, name, &len, "an imported DLL's name")))
            return rc;
        out->n_needed++;
        int python = is_python_dll(name, len);
        if (python) {
            if (out->n_libpython < ABIGATE_MAX_LIBPYTHON)
                abigate__copy_clamped(out->libpython[out->n_libpython], ABIGATE_NAME_MAX, name,
                                      len);
            out->n_libpython++;
        }
        if (names && (rc = read_thunks(p, table, python, out, syms, budget)))
            return rc;
    }
}

/* The export table: the init hooks, and the Py names with `exports`. */
static int read_exports(struct pe *p, int exports, abigate_file_info *out, abigate_symbols *syms)
{
    uint32_t dir = p->dir[DIR_EXPORT].rva;
    if (!dir)
        return ABIGATE_OK;
    unsigned char d[40];
    int rc = cache_section_of(p, dir);
    if (rc || (rc = rva_read(p, dir, d, 40, "the export directory")))
        return rc;
    uint32_t count = abigate__get32(d + 24, 0), names = abigate__get32(d + 32, 0);
    if (count > PE_MAX_NAMES)
        return abigate__fail(p->err, ABIGATE_E_PE, -1,
                             "malformed PE file: %u exported names, the cap is %u", count,
                             PE_MAX_NAMES);
    char name[PE_NAME_MAX + 1];
    for (uint32_t i = 0; i < count; i++) {
        unsigned char r[4];
        if (names > UINT32_MAX - 4 * i - 4)
            return fail(p, 0, "the export name table runs past 4 GiB");
        if ((rc = rva_read(p, names + 4 * i, r, 4, "the export name table")))
            return rc;
        size_t len;
        if ((rc = rva_string(p, abigate__get32(r, 0), name, &len, "an exported name")))
            return rc;
        abigate__take_hook(out, name, len);
        if (exports && (has_prefix(name, len, "Py") || has_prefix(name, len, "_Py"))) {
            out->n_pyexports++;
            abigate__keep_symbol(syms, name, len, 0);
        }
    }
    return ABIGATE_OK;
}

/* abigate's record: the note in the section named ".abigate". */
static int read_record(struct pe *p, abigate_file_info *out)
{
    for (unsigned i = 0; i < p->nsec; i++) {
        const struct section *s = &p->sec[i];
        if (memcmp(s->name, ".abigate", 8) != 0 || !s->raw_size)
            continue;
        uint32_t len = s->vsize && s->vsize < s->raw_size ? s->vsize : s->raw_size;
        return abigate__scan_record_notes(p->src, s->raw_off, len, 0, out);
    }
    return ABIGATE_OK;
}

/* ---------------------------------------------------------------- the native record
 *
 * CPython's own PyABIInfo (3.15's Py_mod_abi slot) in a PE image: a module
 * slot array ({int slot; void *value}, or 3.15's 16-byte PySlot) lies in an
 * initialised data section, its pointers written in place as the addresses
 * the image has at its preferred base, each one listed in the base
 * relocation table (.reloc) so that the loader can move it.  An array is
 * taken when it is well formed, as in an ELF file (docs/FORMAT.md, "The
 * native record"): from an aligned Py_mod_abi entry (or, in a file without
 * a record, Py_mod_exec / Py_mod_create of 3.15's numbering) forward to
 * its {0, NULL} terminator, every slot an ID of PEP 820's numbering, every
 * pointer relocated (a base relocation at its place) to an address inside
 * the image, the integer slots small.  Every module's must agree. */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The RVAs the base relocation table lists as pointer-sized (DIR64 in a
 * PE32+, HIGHLOW in a PE32), sorted; NULL when there is none or the table
 * is malformed (then no array is taken: no evidence, never wrong evidence). */
static uint32_t *base_relocs(struct pe *p, size_t *n)
{
    uint32_t rva = p->dir[DIR_BASERELOC].rva, size = p->dir[DIR_BASERELOC].size;
    *n = 0;
    if (!rva || !size || size > PE_MAX_RELOCS * 2u)
        return NULL;
    unsigned char *t = malloc(size);
    uint32_t *out = t ? malloc(sizeof *out * (size / 2)) : NULL;
    if (!out || rva_read(p, rva, t, size, "the base relocation table")) {
        free(t);
        free(out);
        abigate__ok(p->err); /* not a reason to refuse the file: no record found */
        return NULL;
    }
    unsigned want = p->plus ? 10 : 3; /* IMAGE_REL_BASED_DIR64, _HIGHLOW */
    for (uint32_t at = 0; size - at >= 8;) {
        uint32_t page = abigate__get32(t + at, 0), bsize = abigate__get32(t + at + 4, 0);
        if (bsize < 8 || bsize > size - at || bsize % 2)
            break;
        for (uint32_t k = at + 8; k + 2 <= at + bsize; k += 2) {
            unsigned e = abigate__get16(t + k, 0);
            if (e >> 12 == want && page <= UINT32_MAX - (e & 0xfff))
                out[(*n)++] = page + (e & 0xfff);
        }
        at += bsize;
    }
    free(t);
    qsort(out, *n, sizeof *out, cmp_u32);
    return out;
}

static int relocated(const uint32_t *r, size_t n, uint32_t rva)
{
    return r && bsearch(&rva, r, n, sizeof *r, cmp_u32) != NULL;
}

/* The reader's questions (slots.c), for a PE image: a place is an RVA, a
 * pointer in place is an address at the preferred image base. */
struct pe_fixups {
    struct pe *p;
    const uint32_t *rel;
    size_t nrel;
};

static int pe_fixed(void *ctx, uint64_t place, uint64_t in_place, uint64_t *target)
{
    const struct pe_fixups *x = ctx;
    if (place > UINT32_MAX || !relocated(x->rel, x->nrel, (uint32_t)place))
        return 0;
    *target = in_place;
    return 1;
}

static int pe_inside(void *ctx, uint64_t addr)
{
    const struct pe *p = ((const struct pe_fixups *)ctx)->p;
    return addr >= p->image_base && addr - p->image_base < p->size_of_image;
}

static int pe_read_abi(void *ctx, uint64_t addr, unsigned char b[12], uint64_t *offset)
{
    struct pe *p = ((const struct pe_fixups *)ctx)->p;
    uint32_t rva = (uint32_t)(addr - p->image_base);
    int k = section_of(p, rva, 12);
    if (k < 0 || rva_read(p, rva, b, 12, "a PyABIInfo")) {
        abigate__ok(p->err);
        return -1;
    }
    *offset = p->sec[k].raw_off + (uint64_t)(rva - p->sec[k].va);
    return 0;
}

/* Its initialised data sections (not code), searched (slots.c). */
static void take_native(struct pe *p, abigate_file_info *out)
{
    if (!abigate__native_wanted(out))
        return;
    struct abigate__native_found nat;
    memset(&nat, 0, sizeof nat);
    struct pe_fixups x = {p, NULL, 0};
    if (!(x.rel = base_relocs(p, &x.nrel)))
        return;
    struct abigate__slot_reader r = {0, p->plus, pe_fixed, pe_inside, pe_read_abi, &x};
    for (unsigned i = 0; i < p->nsec && nat.arrays < ABIGATE__SLOT_ARRAYS_MAX; i++) {
        const struct section *sec = &p->sec[i];
        if (!(sec->flags & 0x40) || (sec->flags & 0x20000000) || !sec->raw_size ||
            sec->raw_size > PE_MAX_DATA)
            continue;
        uint32_t len = sec->vsize && sec->vsize < sec->raw_size ? sec->vsize : sec->raw_size;
        unsigned char *data = malloc(len);
        if (!data || abigate__src_read(p->src, sec->raw_off, data, len, ABIGATE_E_PE)) {
            free(data);
            abigate__ok(p->err);
            continue;
        }
        abigate__slot_search(&r, data, len, sec->va, out->record_state != ABIGATE_RECORD_ABSENT,
                             &nat);
        free(data);
    }
    free((void *)x.rel);
    abigate__native_join(&nat, p->plus ? 8 : 4, out);
}

int abigate__parse_pe(struct abigate__src *s, int legacy, int exports, abigate_file_info *out,
                      abigate_symbols *syms)
{
    struct pe *p = calloc(1, sizeof *p);
    if (!p)
        return abigate__fail(abigate__src_err(s), ABIGATE_E_NOMEM, -1, NULL);
    p->src = s;
    p->err = abigate__src_err(s);
    int rc = read_headers(p, out);
    if (!rc && !legacy && !(rc = read_record(p, out)) && !exports)
        take_native(p, out);
    if (!rc && legacy) {
        unsigned budget = PE_MAX_NAMES;
        if (!(rc = read_exports(p, exports, out, syms)) &&
            !(rc = read_imports(p, 0, out, syms, &budget, !exports)))
            rc = read_imports(p, 1, out, syms, &budget, !exports);
    }
    free(p->cache);
    free(p);
    return rc;
}
