/* check_macho.c -- the Mach-O reader on images built here, in memory:
 * thin files of four CPUs and both byte orders, universal (fat) files, the
 * record in a __abigate section, symbols from LC_SYMTAB, from chained
 * fixups and from bind streams; CPython's PyABIInfo in slot arrays fixed
 * up by rebase opcodes or chained fixups; then a table of hostile inputs, each with
 * its code (the suite also runs under valgrind).  MACHO_DEBUG=1 prints
 * each hostile row's message. */
#include "suites.h"

#include "abigate/abigate.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAP 65536u

/* ------------------------------------------------------------------ the image builder */

enum { IMPORTS_SYMTAB, IMPORTS_CHAINED, IMPORTS_CHAINED64, IMPORTS_BIND };

struct spec {
    int be, is64;
    uint32_t cputype, filetype;
    const char *undef[8];    /* undefined external names, as written ("_PyFoo") */
    const char *weak[4];     /* ... weak references */
    const char *defs[8];     /* defined external names */
    const char *dylibs[4];
    uint32_t build_minos;    /* LC_BUILD_VERSION (macOS), 0: none */
    uint32_t vmin;           /* LC_VERSION_MIN_MACOSX, 0: none */
    int record;              /* __abigate sections (0, 1 or 2), each with a record note */
    const char *rec_segment; /* its segment (default __TEXT) */
    int imports;             /* where the imports are written (IMPORTS_*) */
};

/* Where the builder put things (offsets in the image). */
struct lay {
    size_t len;
    size_t seg_cmd, sect, symtab_cmd, dylib_cmd, chained_cmd, dyld_cmd;
    size_t note, note2, symoff, stroff, strsize, nsyms, chained, bind;
};

struct img {
    unsigned char b[CAP];
    struct spec sp;
    struct lay l;
};

static void p32(struct img *m, size_t off, uint32_t v)
{
    int be = m->sp.be;
    for (int i = 0; i < 4; i++)
        m->b[off + (size_t)i] = (unsigned char)(v >> (be ? 24 - 8 * i : 8 * i));
}

static void p64(struct img *m, size_t off, uint64_t v)
{
    p32(m, off + (m->sp.be ? 0 : 4), (uint32_t)(v >> 32));
    p32(m, off + (m->sp.be ? 4 : 0), (uint32_t)v);
}

static uint32_t g32(const struct img *m, size_t off)
{
    const unsigned char *p = m->b + off;
    return m->sp.be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
                    : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static void pword(struct img *m, size_t off, uint64_t v)
{
    if (m->sp.is64)
        p64(m, off, v);
    else
        p32(m, off, (uint32_t)v);
}

static abigate_record sample_record(void)
{
    abigate_record r;
    memset(&r, 0, sizeof r);
    r.abiinfo.major = 1;
    r.abiinfo.flags = ABIGATE_ABIINFO_STABLE;
    r.abiinfo.build_version = 0x030b04f0;
    r.abiinfo.abi_version = 0x030b0000;
    r.limited_api = 0x030b0000;
    r.flags = ABIGATE_REC_LIMITED_API;
    r.pointer_size = 8;
    return r;
}

static size_t count(const char *const *v, size_t n)
{
    size_t k = 0;
    while (k < n && v[k])
        k++;
    return k;
}

/* Build m->sp into m->b: header, load commands, then the data. */
static void build(struct img *m)
{
    struct spec *sp = &m->sp;
    struct lay *l = &m->l;
    memset(m->b, 0, sizeof m->b);
    memset(l, 0, sizeof *l);
    const int is64 = sp->is64;
    size_t hdr = is64 ? 32 : 28, pos = hdr;
    unsigned ncmds = 0;
    size_t nu = count(sp->undef, 8), nw = count(sp->weak, 4), nd = count(sp->defs, 8);
    size_t nimports = nu + nw;
    int in_symtab = sp->imports == IMPORTS_SYMTAB;

    /* the commands first, their data offsets patched below */
    if (sp->record) {
        size_t seg = is64 ? 72 : 56, sect = is64 ? 80 : 68;
        l->seg_cmd = pos;
        p32(m, pos, is64 ? 0x19 : 0x1);
        const char *segname = sp->rec_segment ? sp->rec_segment : "__TEXT";
        p32(m, pos + 4, (uint32_t)(seg + (size_t)sp->record * sect));
        memcpy(m->b + pos + 8, segname, strlen(segname));
        p32(m, pos + (is64 ? 64 : 48), (uint32_t)sp->record);
        l->sect = pos + seg;
        for (int k = 0; k < sp->record; k++) {
            memcpy(m->b + l->sect + (size_t)k * sect, "__abigate", 9);
            memcpy(m->b + l->sect + (size_t)k * sect + 16, segname, strlen(segname));
        }
        pos += seg + (size_t)sp->record * sect;
        ncmds++;
    }
    if (sp->build_minos) {
        p32(m, pos, 0x32);
        p32(m, pos + 4, 24);
        p32(m, pos + 8, 1);
        p32(m, pos + 12, sp->build_minos);
        p32(m, pos + 16, sp->build_minos);
        pos += 24;
        ncmds++;
    }
    if (sp->vmin) {
        p32(m, pos, 0x24);
        p32(m, pos + 4, 16);
        p32(m, pos + 8, sp->vmin);
        pos += 16;
        ncmds++;
    }
    for (size_t i = 0; i < count(sp->dylibs, 4); i++) {
        size_t n = strlen(sp->dylibs[i]) + 1, size = (24 + n + 7) & ~(size_t)7;
        if (i == 0)
            l->dylib_cmd = pos;
        p32(m, pos, 0xc);
        p32(m, pos + 4, (uint32_t)size);
        p32(m, pos + 8, 24);
        memcpy(m->b + pos + 24, sp->dylibs[i], n);
        pos += size;
        ncmds++;
    }
    l->symtab_cmd = pos;
    p32(m, pos, 0x2);
    p32(m, pos + 4, 24);
    pos += 24;
    ncmds++;
    if (sp->imports == IMPORTS_CHAINED || sp->imports == IMPORTS_CHAINED64) {
        l->chained_cmd = pos;
        p32(m, pos, 0x80000034u);
        p32(m, pos + 4, 16);
        pos += 16;
        ncmds++;
    } else if (sp->imports == IMPORTS_BIND) {
        l->dyld_cmd = pos;
        p32(m, pos, 0x80000022u);
        p32(m, pos + 4, 48);
        pos += 48;
        ncmds++;
    }
    /* the header */
    p32(m, 0, is64 ? 0xfeedfacfu : 0xfeedfaceu);
    p32(m, 4, sp->cputype);
    p32(m, 12, sp->filetype);
    p32(m, 16, ncmds);
    p32(m, 20, (uint32_t)(pos - hdr));
    pos = (pos + 15) & ~(size_t)15;

    for (int k = 0; k < sp->record; k++) {
        unsigned char desc[64];
        abigate_record r = sample_record();
        int n = abigate_record_encode(&r, sp->be, desc, sizeof desc);
        size_t sc = l->sect + (size_t)k * (is64 ? 80 : 68);
        ck_assert_int_gt(n, 0);
        *(k ? &l->note2 : &l->note) = pos;
        p32(m, pos, 8);
        p32(m, pos + 4, (uint32_t)n);
        p32(m, pos + 8, ABIGATE_NOTE_TYPE_RECORD);
        memcpy(m->b + pos + 12, "abigate", 8);
        memcpy(m->b + pos + 20, desc, (size_t)n);
        size_t size = 20 + (size_t)n;
        if (is64) {
            p64(m, sc + 40, size);
            p32(m, sc + 48, (uint32_t)pos);
        } else {
            p32(m, sc + 36, (uint32_t)size);
            p32(m, sc + 40, (uint32_t)pos);
        }
        pos = (pos + size + 15) & ~(size_t)15;
    }

    /* the string table: a leading " \0" as ld64 writes, then the names */
    char strs[1024];
    size_t slen = 2;
    uint32_t at[20];
    const char *names[20];
    int kinds[20]; /* 0 undef, 1 weak, 2 defined */
    size_t nn = 0;
    memcpy(strs, " ", 2);
    for (size_t i = 0; i < nu; i++)
        names[nn] = sp->undef[i], kinds[nn++] = 0;
    for (size_t i = 0; i < nw; i++)
        names[nn] = sp->weak[i], kinds[nn++] = 1;
    for (size_t i = 0; i < nd; i++)
        names[nn] = sp->defs[i], kinds[nn++] = 2;
    for (size_t i = 0; i < nn; i++) {
        at[i] = (uint32_t)slen;
        memcpy(strs + slen, names[i], strlen(names[i]) + 1);
        slen += strlen(names[i]) + 1;
    }

    /* the symbol table: a debugging (N_STAB) entry and a local first */
    size_t ent = is64 ? 16 : 12, nsyms = 2;
    l->symoff = pos;
    m->b[pos + 4] = 0x64; /* N_SO */
    p32(m, pos, at[0]);
    m->b[pos + ent + 4] = 0x0e; /* N_SECT, not N_EXT */
    p32(m, pos + ent, at[0]);
    for (size_t i = 0; i < nn; i++) {
        if (kinds[i] != 2 && !in_symtab)
            continue;
        size_t e = pos + nsyms * ent;
        p32(m, e, at[i]);
        m->b[e + 4] = kinds[i] == 2 ? 0x0f : 0x01;
        m->b[e + 5] = kinds[i] == 2 ? 1 : 0;
        if (kinds[i] == 1) {
            m->b[e + 6 + (sp->be ? 1 : 0)] = 0x40; /* N_WEAK_REF */
        }
        pword(m, e + 8, kinds[i] == 2 ? 0x4000 : 0);
        nsyms++;
    }
    l->nsyms = nsyms;
    pos += nsyms * ent;
    l->stroff = pos;
    l->strsize = slen;
    memcpy(m->b + pos, strs, slen);
    pos = (pos + slen + 15) & ~(size_t)15;
    p32(m, l->symtab_cmd + 8, (uint32_t)l->symoff);
    p32(m, l->symtab_cmd + 12, (uint32_t)nsyms);
    p32(m, l->symtab_cmd + 16, (uint32_t)l->stroff);
    p32(m, l->symtab_cmd + 20, (uint32_t)slen);

    if (sp->imports == IMPORTS_CHAINED || sp->imports == IMPORTS_CHAINED64) {
        int fmt64 = sp->imports == IMPORTS_CHAINED64;
        size_t entsize = fmt64 ? 16 : 4, imports = 32, symbols = imports + nimports * entsize;
        l->chained = pos;
        p32(m, pos, 0);            /* fixups_version */
        p32(m, pos + 4, 28);       /* starts_offset */
        p32(m, pos + 8, (uint32_t)imports);
        p32(m, pos + 12, (uint32_t)symbols);
        p32(m, pos + 16, (uint32_t)nimports);
        p32(m, pos + 20, fmt64 ? 3 : 1);
        p32(m, pos + 24, 0);
        size_t so = 1; /* names after a leading NUL */
        for (size_t i = 0; i < nimports; i++) {
            size_t e = pos + imports + i * entsize;
            if (fmt64) {
                p32(m, e, 1u | (kinds[i] == 1 ? 1u << 16 : 0));
                p32(m, e + 4, (uint32_t)so);
            } else {
                p32(m, e, 1u | (kinds[i] == 1 ? 1u << 8 : 0) | (uint32_t)so << 9);
            }
            memcpy(m->b + pos + symbols + so, names[i], strlen(names[i]) + 1);
            so += strlen(names[i]) + 1;
        }
        size_t size = symbols + so;
        p32(m, l->chained_cmd + 8, (uint32_t)pos);
        p32(m, l->chained_cmd + 12, (uint32_t)size);
        pos = (pos + size + 15) & ~(size_t)15;
    } else if (sp->imports == IMPORTS_BIND) {
        /* a bind stream binding each import twice (the reader counts it once) */
        size_t q = pos;
        l->bind = pos;
        for (int pass = 0; pass < 2; pass++) {
            for (size_t i = 0; i < nimports; i++) {
                m->b[q++] = 0x11;                                    /* ordinal 1 */
                m->b[q++] = (unsigned char)(0x40 | (kinds[i] == 1)); /* SET_SYMBOL */
                memcpy(m->b + q, names[i], strlen(names[i]) + 1);
                q += strlen(names[i]) + 1;
                m->b[q++] = 0x51;                  /* TYPE_POINTER */
                m->b[q++] = 0x72;                  /* segment 2, ULEB offset */
                m->b[q++] = 0x90, m->b[q++] = 0x01; /* 144, two bytes */
                m->b[q++] = 0x60, m->b[q++] = 0x7f; /* addend -1 */
                m->b[q++] = 0xc0, m->b[q++] = 0x02, m->b[q++] = 0x08; /* times, skip */
                m->b[q++] = 0x90;                  /* DO_BIND */
            }
        }
        m->b[q++] = 0x00; /* DONE */
        p32(m, l->dyld_cmd + 16, (uint32_t)pos);
        p32(m, l->dyld_cmd + 20, (uint32_t)(q - pos));
        pos = (q + 15) & ~(size_t)15;
    }
    l->len = pos;
    ck_assert_uint_le(pos, CAP);
}

static const struct spec x86_64_spec = {
    0, 1, 0x01000007, 8,
    {"_PyLong_FromLong", "__Py_Dealloc", "_PyModule_Create2", "_malloc", "_Py_NotPy", NULL},
    {"__Py_NoneStruct", NULL},
    {"_PyInit_ext", "_helper", "_PyInitU_second", NULL},
    {"/usr/lib/libSystem.B.dylib", "@rpath/libpython3.11.dylib", NULL},
    0x000b0000, 0, 0, NULL, IMPORTS_SYMTAB,
};

static struct img *make(const struct spec *sp)
{
    struct img *m = malloc(sizeof *m);
    ck_assert_ptr_nonnull(m);
    m->sp = *sp;
    build(m);
    return m;
}

static int read_img(const void *b, size_t len, unsigned flags, abigate_file_info *fi,
                    abigate_symbols *syms, abigate_error *err)
{
    return abigate_read_buffer(b, len, "ext.cpython-311-darwin.so", flags, fi, syms, err);
}

static void assert_names(abigate_symbols *syms, const char *const *want, size_t n)
{
    ck_assert_uint_eq(abigate_symbols_count(syms), n);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(abigate_symbols_name(syms, (unsigned)i), want[i]);
}

/* ------------------------------------------------------------------ thin files */

START_TEST(test_x86_64_thin)
{
    struct img *m = make(&x86_64_spec);
    abigate_file_info fi;
    abigate_error err;
    abigate_symbols *syms = abigate_symbols_new();
    ck_assert_int_eq(read_img(m->b, m->l.len, ABIGATE_READ_LEGACY, &fi, syms, &err), ABIGATE_OK);
    ck_assert_uint_eq(fi.format, ABIGATE_FORMAT_MACHO);
    ck_assert_uint_eq(fi.machine, 62);
    ck_assert_uint_eq(fi.elf_class, 64);
    ck_assert_uint_eq(fi.big_endian, 0);
    ck_assert_uint_eq(fi.elf_type, 3);
    ck_assert_uint_eq(fi.min_os, 0x000b0000);
    ck_assert_uint_eq(fi.n_slices, 0);
    ck_assert_uint_eq(fi.file_size, m->l.len);
    ck_assert_int_eq(fi.record_state, ABIGATE_RECORD_ABSENT);
    ck_assert_int_eq(fi.legacy_read, 1);
    ck_assert_uint_eq(fi.n_pyinit, 2);
    ck_assert_str_eq(fi.pyinit, "PyInit_ext");
    ck_assert_uint_eq(fi.n_modexport, 0);
    ck_assert_uint_eq(fi.n_needed, 2);
    ck_assert_uint_eq(fi.n_libpython, 1);
    ck_assert_str_eq(fi.libpython[0], "@rpath/libpython3.11.dylib");
    /* "_Py_NotPy" is "Py_NotPy" once stripped: a Py name too */
    ck_assert_uint_eq(fi.n_pysyms, 5);
    ck_assert_uint_eq(fi.n_pysyms_weak, 1);
    ck_assert_uint_eq(fi.n_pyexports, 2);
    static const char *const want[] = {"PyLong_FromLong", "_Py_Dealloc", "PyModule_Create2",
                                       "Py_NotPy", "_Py_NoneStruct"};
    assert_names(syms, want, 5);
    ck_assert_int_eq(abigate_symbols_weak(syms, 4), 1);
    ck_assert_int_eq(abigate_symbols_weak(syms, 0), 0);
    ck_assert_int_eq(abigate_symbols_contains(syms, "malloc"), 0);

    /* exports: the defined Py names instead */
    ck_assert_int_eq(read_img(m->b, m->l.len, ABIGATE_READ_EXPORTS, &fi, syms, &err), ABIGATE_OK);
    static const char *const exp[] = {"PyInit_ext", "PyInitU_second"};
    assert_names(syms, exp, 2);
    ck_assert_uint_eq(fi.n_pyexports, 2);
    ck_assert_uint_eq(fi.n_pysyms, 5);

    /* the record-only read: identity, no legacy facts */
    ck_assert_int_eq(read_img(m->b, m->l.len, ABIGATE_READ_RECORD, &fi, NULL, &err), ABIGATE_OK);
    ck_assert_uint_eq(fi.machine, 62);
    ck_assert_int_eq(fi.legacy_read, 0);
    ck_assert_uint_eq(fi.n_pysyms, 0);
    abigate_symbols_free(syms);
    free(m);
}
END_TEST

/* arm64, the record in __DATA_CONST,__abigate, LC_VERSION_MIN_MACOSX */
START_TEST(test_arm64_record)
{
    struct spec sp = x86_64_spec;
    sp.cputype = 0x0100000c;
    sp.build_minos = 0;
    sp.vmin = 0x000b0100;
    sp.record = 1;
    sp.rec_segment = "__DATA_CONST";
    struct img *m = make(&sp);
    abigate_file_info fi;
    abigate_error err;
    ck_assert_int_eq(read_img(m->b, m->l.len, ABIGATE_READ_RECORD, &fi, NULL, &err), ABIGATE_OK);
    ck_assert_uint_eq(fi.machine, 183);
    ck_assert_uint_eq(fi.elf_class, 64);
    ck_assert_uint_eq(fi.min_os, 0x000b0100);
    ck_assert_int_eq(fi.record_state, ABIGATE_RECORD_PRESENT);
    ck_assert_int_eq(fi.record_via, ABIGATE_VIA_SECTION);
    ck_assert_uint_eq(fi.record_offset, m->l.note + 20);
    ck_assert_uint_eq(fi.record.limited_api, 0x030b0000);
    ck_assert_uint_eq(fi.record.abiinfo.build_version, 0x030b04f0);
    /* the legacy read keeps the record */
    ck_assert_int_eq(read_img(m->b, m->l.len, ABIGATE_READ_LEGACY, &fi, NULL, &err), ABIGATE_OK);
    ck_assert_int_eq(fi.record_state, ABIGATE_RECORD_PRESENT);
    ck_assert_uint_eq(fi.n_pysyms, 5);
    free(m);
}
END_TEST

/* Both version commands: LC_BUILD_VERSION's macOS minos wins. */
START_TEST(test_min_os_both)
{
    struct spec sp = x86_64_spec;
    sp.build_minos = 0x000c0000;
    sp.vmin = 0x000a0e00;
    struct img *m = make(&sp);
    abigate_file_info fi;
    ck_assert_int_eq(read_img(m->b, m->l.len, ABIGATE_READ_RECORD, &fi, NULL, NULL), ABIGATE_OK);
    ck_assert_uint_eq(fi.min_os, 0x000c0000);
    /* an iOS LC_BUILD_VERSION says nothing of macOS */
    p32(m, 32 + 8, 2);
    ck_assert_int_eq(read_img(m->b, m->l.len, ABIGATE_READ_RECORD, &fi, NULL, NULL), ABIGATE_OK);
    ck_assert_uint_eq(fi.min_os, 0x000a0e00);
    free(m);
}
END_TEST

/* i386 (32-bit nlist) and big-endian ppc (with its record), ppc64, arm64_32 */
static const struct {
    uint32_t cputype;
    int be, is64;
    unsigned machine, elf_class;
} cpus[] = {
    {7, 0, 0, 3, 32},
    {18, 1, 0, 20, 32},
    {0x01000012, 1, 1, 21, 64},
    {0x0200000c, 0, 0, 183, 32},
    {12, 0, 0, 40, 32},
    {0x01000099, 0, 1, 0, 64},
};

START_TEST(test_cpus)
{
    struct spec sp = x86_64_spec;
    sp.cputype = cpus[_i].cputype;
    sp.be = cpus[_i].be;
    sp.is64 = cpus[_i].is64;
    sp.record = 1;
    struct img *m = make(&sp);
    abigate_file_info fi;
    abigate_error err;
    abigate_symbols *syms = abigate_symbols_new();
    ck_assert_int_eq(read_img(m->b, m->l.len, ABIGATE_READ_LEGACY, &fi, syms, &err), ABIGATE_OK);
    ck_assert_uint_eq(fi.machine, cpus[_i].machine);
    ck_assert_uint_eq(fi.elf_class, cpus[_i].elf_class);
    ck_assert_uint_eq(fi.big_endian, (unsigned)cpus[_i].be);
    ck_assert_int_eq(fi.record_state, ABIGATE_RECORD_PRESENT);
    ck_assert_uint_eq(fi.n_pysyms, 5);
    ck_assert_uint_eq(fi.n_pysyms_weak, 1);
    ck_assert_int_eq(abigate_symbols_weak(syms, 4), 1);
    ck_assert_str_eq(abigate_symbols_name(syms, 1), "_Py_Dealloc");
    ck_assert_str_eq(fi.pyinit, "PyInit_ext");
    abigate_symbols_free(syms);
    free(m);
}
END_TEST

START_TEST(test_filetypes)
{
    static const unsigned want[][2] = {{8, 3}, {6, 3}, {2, 2}, {1, 1}, {7, 0}};
    struct spec sp = x86_64_spec;
    sp.filetype = want[_i][0];
    struct img *m = make(&sp);
    abigate_file_info fi;
    ck_assert_int_eq(read_img(m->b, m->l.len, ABIGATE_READ_RECORD, &fi, NULL, NULL), ABIGATE_OK);
    ck_assert_uint_eq(fi.elf_type, want[_i][1]);
    free(m);
}
END_TEST

START_TEST(test_modexport_and_frameworks)
{
    struct spec sp = x86_64_spec;
    sp.defs[0] = "_PyModExport_ext";
    sp.defs[1] = "_PyModExport_other";
    sp.defs[2] = NULL;
    sp.dylibs[0] = "/Library/Frameworks/Python.framework/Versions/3.13/Python";
    sp.dylibs[1] = "@executable_path/../Python";
    sp.dylibs[2] = "/usr/lib/libSystem.B.dylib";
    struct img *m = make(&sp);
    abigate_file_info fi;
    ck_assert_int_eq(read_img(m->b, m->l.len, ABIGATE_READ_LEGACY, &fi, NULL, NULL), ABIGATE_OK);
    ck_assert_uint_eq(fi.n_pyinit, 0);
    ck_assert_str_eq(fi.pyinit, "");
    ck_assert_uint_eq(fi.n_modexport, 2);
    ck_assert_str_eq(fi.modexport, "PyModExport_ext");
    ck_assert_uint_eq(fi.n_needed, 3);
    ck_assert_uint_eq(fi.n_libpython, 2);
    ck_assert_str_eq(fi.libpython[1], "@executable_path/../Python");
    free(m);
}
END_TEST

/* A zerofill __abigate (offset 0) is not read. */
START_TEST(test_zerofill_section)
{
    struct spec sp = x86_64_spec;
    sp.record = 1;
    struct img *m = make(&sp);
    p32(m, m->l.sect + 64, 0x1); /* S_ZEROFILL */
    p32(m, m->l.sect + 48, 0);
    abigate_file_info fi;
    ck_assert_int_eq(read_img(m->b, m->l.len, ABIGATE_READ_RECORD, &fi, NULL, NULL), ABIGATE_OK);
    ck_assert_int_eq(fi.record_state, ABIGATE_RECORD_ABSENT);
    free(m);
}
END_TEST

/* Two __abigate sections: the same record twice is one record (the
 * first), two that differ are a conflict. */
START_TEST(test_two_records)
{
    struct spec sp = x86_64_spec;
    sp.record = 2;
    struct img *m = make(&sp);
    abigate_file_info fi;
    abigate_error err;
    ck_assert_int_eq(read_img(m->b, m->l.len, ABIGATE_READ_LEGACY, &fi, NULL, &err), ABIGATE_OK);
    ck_assert_int_eq(fi.record_state, ABIGATE_RECORD_PRESENT);
    ck_assert_uint_eq(fi.record_offset, m->l.note + 20);
    m->b[m->l.note2 + 20 + 12] ^= 1; /* build_version */
    ck_assert_int_eq(read_img(m->b, m->l.len, ABIGATE_READ_RECORD, &fi, NULL, &err),
                     ABIGATE_E_RECORD_CONFLICT);
    ck_assert_int_eq(err.offset, (int64_t)(m->l.note2 + 20));
    free(m);
}
END_TEST

/* A string table over 16 MiB is read a name at a time, not whole. */
START_TEST(test_big_strtab)
{
    struct img *m = make(&x86_64_spec);
    size_t big = (17u << 20) + m->l.len;
    unsigned char *b = calloc(1, big);
    ck_assert_ptr_nonnull(b);
    memcpy(b, m->b, m->l.len);
    uint32_t strsize = (uint32_t)(big - m->l.stroff);
    for (int i = 0; i < 4; i++)
        b[m->l.symtab_cmd + 20 + (size_t)i] = (unsigned char)(strsize >> (8 * i));
    abigate_file_info fi;
    abigate_error err;
    abigate_symbols *syms = abigate_symbols_new();
    ck_assert_int_eq(read_img(b, big, ABIGATE_READ_LEGACY, &fi, syms, &err), ABIGATE_OK);
    ck_assert_uint_eq(fi.n_pysyms, 5);
    ck_assert_str_eq(abigate_symbols_name(syms, 2), "PyModule_Create2");
    ck_assert_str_eq(fi.pyinit, "PyInit_ext");
    /* a name that runs into the end of the table */
    memset(b + big - 2000, 'x', 2000);
    memcpy(b + big - 2000, "_Py", 3);
    uint32_t strx = (uint32_t)(strsize - 2000);
    for (int i = 0; i < 4; i++)
        b[m->l.symoff + 2 * 16 + (size_t)i] = (unsigned char)(strx >> (8 * i));
    ck_assert_int_eq(read_img(b, big, ABIGATE_READ_LEGACY, &fi, syms, &err), ABIGATE_E_MACHO);
    abigate_symbols_free(syms);
    free(b);
    free(m);
}
END_TEST

/* Imports only in chained fixups (format 1 and 3) or bind streams. */
START_TEST(test_other_imports)
{
    static const int kinds[] = {IMPORTS_CHAINED, IMPORTS_CHAINED64, IMPORTS_BIND};
    struct spec sp = x86_64_spec;
    sp.imports = kinds[_i];
    struct img *m = make(&sp);
    abigate_file_info fi;
    abigate_error err;
    abigate_symbols *syms = abigate_symbols_new();
    ck_assert_int_eq(read_img(m->b, m->l.len, ABIGATE_READ_LEGACY, &fi, syms, &err), ABIGATE_OK);
    ck_assert_uint_eq(fi.n_pysyms, 5);
    ck_assert_uint_eq(fi.n_pysyms_weak, 1);
    ck_assert_uint_eq(fi.n_pyinit, 2);
    static const char *const want[] = {"PyLong_FromLong", "_Py_Dealloc", "PyModule_Create2",
                                       "Py_NotPy", "_Py_NoneStruct"};
    assert_names(syms, want, 5);
    ck_assert_int_eq(abigate_symbols_weak(syms, 4), 1);
    abigate_symbols_free(syms);
    free(m);
}
END_TEST

/* ------------------------------------------------------------------ fat files */

struct fat {
    unsigned char b[3 * CAP];
    size_t len;
    size_t off[3];
};

/* A fat file of `n` thin images, slices at 4 KiB boundaries. */
static void make_fat(struct fat *f, struct img *const *thin, unsigned n, int fat64)
{
    memset(f->b, 0, sizeof f->b);
    size_t entsize = fat64 ? 32 : 20, pos = 4096;
    memcpy(f->b, fat64 ? "\xca\xfe\xba\xbf" : "\xca\xfe\xba\xbe", 4);
    for (unsigned i = 0; i < n; i++) {
        size_t e = 8 + i * entsize;
        f->off[i] = pos;
        memcpy(f->b + pos, thin[i]->b, thin[i]->l.len);
        uint32_t cpu = g32(thin[i], 4);
        for (int k = 0; k < 4; k++)
            f->b[e + (size_t)k] = (unsigned char)(cpu >> (24 - 8 * k));
        uint64_t vals[2] = {pos, thin[i]->l.len};
        if (fat64) {
            for (int k = 0; k < 8; k++) {
                f->b[e + 8 + (size_t)k] = (unsigned char)(vals[0] >> (56 - 8 * k));
                f->b[e + 16 + (size_t)k] = (unsigned char)(vals[1] >> (56 - 8 * k));
            }
            f->b[e + 27] = 12;
        } else {
            for (int k = 0; k < 4; k++) {
                f->b[e + 8 + (size_t)k] = (unsigned char)(vals[0] >> (24 - 8 * k));
                f->b[e + 12 + (size_t)k] = (unsigned char)(vals[1] >> (24 - 8 * k));
            }
            f->b[e + 19] = 12;
        }
        pos = (pos + thin[i]->l.len + 4095) & ~(size_t)4095;
    }
    f->b[7] = (unsigned char)n;
    f->len = pos;
}

static void fat_put32(struct fat *f, size_t off, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        f->b[off + (size_t)k] = (unsigned char)(v >> (24 - 8 * k));
}

START_TEST(test_fat_two_slices)
{
    int fat64 = _i;
    struct spec a = x86_64_spec, b = x86_64_spec;
    b.cputype = 0x0100000c;
    b.defs[0] = "_PyInit_other";
    b.record = 1;
    struct img *ma = make(&a), *mb = make(&b);
    struct img *both[2] = {ma, mb};
    struct fat *f = malloc(sizeof *f);
    make_fat(f, both, 2, fat64);
    abigate_file_info fi;
    abigate_error err;
    abigate_symbols *syms = abigate_symbols_new();
    ck_assert_int_eq(read_img(f->b, f->len, ABIGATE_READ_LEGACY, &fi, syms, &err), ABIGATE_OK);
    ck_assert_uint_eq(fi.format, ABIGATE_FORMAT_MACHO);
    ck_assert_uint_eq(fi.n_slices, 2);
    ck_assert_uint_eq(fi.slice[0].machine, 62);
    ck_assert_uint_eq(fi.slice[1].machine, 183);
    ck_assert_uint_eq(fi.slice[0].elf_class, 64);
    ck_assert_uint_eq(fi.machine, 62); /* the first slice's facts */
    ck_assert_str_eq(fi.pyinit, "PyInit_ext");
    ck_assert_int_eq(fi.record_state, ABIGATE_RECORD_ABSENT);
    ck_assert_uint_eq(fi.n_pysyms, 5);
    ck_assert_uint_eq(fi.file_size, f->len);

    /* the other order: the arm64 slice's record, offset in the file */
    struct img *rev[2] = {mb, ma};
    make_fat(f, rev, 2, fat64);
    ck_assert_int_eq(read_img(f->b, f->len, ABIGATE_READ_LEGACY, &fi, syms, &err), ABIGATE_OK);
    ck_assert_uint_eq(fi.machine, 183);
    ck_assert_uint_eq(fi.slice[1].machine, 62);
    ck_assert_str_eq(fi.pyinit, "PyInit_other");
    ck_assert_int_eq(fi.record_state, ABIGATE_RECORD_PRESENT);
    ck_assert_uint_eq(fi.record_offset, f->off[0] + mb->l.note + 20);
    abigate_symbols_free(syms);
    free(f);
    free(ma);
    free(mb);
}
END_TEST

/* A Java class file (0xcafebabe, then version 45 and up) is not Mach-O. */
START_TEST(test_java_class)
{
    unsigned char b[64] = {0xca, 0xfe, 0xba, 0xbe, 0x00, 0x00, 0x00, 0x2d};
    abigate_file_info fi;
    abigate_error err;
    ck_assert_int_eq(read_img(b, sizeof b, ABIGATE_READ_LEGACY, &fi, NULL, &err),
                     ABIGATE_E_NOT_ELF);
    b[7] = 0x34; /* Java 8 */
    ck_assert_int_eq(read_img(b, sizeof b, ABIGATE_READ_LEGACY, &fi, NULL, &err),
                     ABIGATE_E_NOT_ELF);
}
END_TEST

/* ------------------------------------------------------------------ the native record */

/* A 64-bit bundle with __TEXT, __DATA (one __data section) and __LINKEDIT
 * at `base`, the __data section holding slot arrays whose pointers are
 * fixed up through rebase opcodes or chained fixups, each array's
 * Py_mod_abi pointing at a PyABIInfo (3.15.2, GIL) in __data too. */
enum { FIX_REBASE, FIX_CHAINED6, FIX_CHAINED2 };

struct nspec {
    int fix;                 /* FIX_* */
    int form;                /* 0 PyModuleDef_Slot, 1 PySlot */
    int modules;             /* slot arrays (1 or 2; 0 means 1) */
    uint32_t build2;         /* the second array's build_version, 0: the first's */
    int unrebased;           /* the first Py_mod_abi pointer has no fixup */
    int outside;             /* ... and points past the image */
    int no_terminator;       /* __data ends before the first array's terminator */
    int no_abi;              /* {Py_mod_exec, f}, {0, NULL}: no Py_mod_abi */
    unsigned major;          /* the PyABIInfo's major, 0 means 1 */
};

#define N_TEXT_SIZE 0x1000u
#define N_DATA 0x1000u       /* __DATA's offset from base, in memory and in the file */
#define N_LINKEDIT 0x2000u
#define N_ARRAY 0x40u        /* the first array's offset in __data; the next 0x40 on */
#define N_ABI 0x100u         /* the first PyABIInfo's offset in __data; the next 0x10 on */
#define N_FUNC 0x400u        /* a function in __TEXT */

static size_t uleb(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    do {
        p[n++] = (unsigned char)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return n;
}

static size_t seg64(struct img *m, size_t pos, const char *name, uint64_t vmaddr, uint64_t size,
                    uint32_t prot, const char *sect, uint32_t sect_size, uint32_t sect_flags)
{
    unsigned nsects = sect != NULL;
    p32(m, pos, 0x19);
    p32(m, pos + 4, 72 + 80 * nsects);
    memcpy(m->b + pos + 8, name, strlen(name));
    p64(m, pos + 24, vmaddr);
    p64(m, pos + 32, size);
    p64(m, pos + 40, vmaddr & 0xffff);
    p64(m, pos + 48, size);
    p32(m, pos + 56, prot);
    p32(m, pos + 60, prot);
    p32(m, pos + 64, nsects);
    if (sect) {
        size_t s = pos + 72;
        memcpy(m->b + s, sect, strlen(sect));
        memcpy(m->b + s + 16, name, strlen(name));
        p64(m, s + 32, vmaddr);
        p64(m, s + 40, sect_size);
        p32(m, s + 48, (uint32_t)(vmaddr & 0xffff));
        p32(m, s + 64, sect_flags);
    }
    return pos + 72 + 80 * nsects;
}

static uint64_t g64(const struct img *m, size_t off)
{
    return (uint64_t)g32(m, off + 4) << 32 | g32(m, off); /* little-endian images only */
}

static const uint64_t n_base[] = {0, 0x100000000ull, 0x100000000ull}; /* by fix */

static void nbuild(struct img *m, const struct nspec *ns)
{
    struct lay *l = &m->l;
    const uint64_t base = n_base[ns->fix];
    const int modules = ns->modules ? ns->modules : 1;
    memset(m->b, 0, sizeof m->b);
    memset(l, 0, sizeof *l);
    memset(&m->sp, 0, sizeof m->sp);
    m->sp.is64 = 1;
    p32(m, 0, 0xfeedfacfu);
    p32(m, 4, 0x01000007);
    p32(m, 8, 3);
    p32(m, 12, 8);
    size_t pos = 32;
    pos = seg64(m, pos, "__TEXT", base, N_TEXT_SIZE, 5, "__text", 0x100, 0x80000400u);
    l->seg_cmd = pos; /* __DATA's command */
    uint32_t data_size = ns->no_terminator ? N_ARRAY + 32 : 0x200;
    pos = seg64(m, pos, "__DATA", base + N_DATA, 0x1000, 3, "__data", data_size, 0);
    pos = seg64(m, pos, "__LINKEDIT", base + N_LINKEDIT, 0x1000, 1, NULL, 0, 0);
    size_t fixcmd = pos;
    if (ns->fix == FIX_REBASE) {
        l->dyld_cmd = pos;
        p32(m, pos, 0x80000022u);
        p32(m, pos + 4, 48);
        pos += 48;
    } else {
        l->chained_cmd = pos;
        p32(m, pos, 0x80000034u);
        p32(m, pos + 4, 16);
        pos += 16;
    }
    p32(m, 16, 4);
    p32(m, 20, (uint32_t)(pos - 32));

    /* the arrays and their PyABIInfo blocks; the places to fix up */
    uint64_t place[8], target[8];
    int fixed[8];
    unsigned np = 0;
    for (int k = 0; k < modules; k++) {
        size_t arr = N_DATA + N_ARRAY + 0x40u * (unsigned)k;
        size_t abi = N_DATA + N_ABI + 0x10u * (unsigned)k;
        unsigned e = 0;
        if (!ns->no_abi) {
            if (ns->form)
                m->b[arr] = 109;
            else
                p32(m, arr, 109);
            place[np] = arr + 8;
            target[np] = k == 0 && ns->outside ? 0x9000 : abi;
            fixed[np++] = !(k == 0 && ns->unrebased);
            e++;
        }
        if (ns->form)
            m->b[arr + 16 * e] = 85;
        else
            p32(m, arr + 16 * e, 85);
        place[np] = arr + 16 * e + 8;
        target[np] = N_FUNC;
        fixed[np++] = 1;
        p32(m, abi, (ns->major ? ns->major : 1u) | 2u << 16); /* major, minor 0, flags GIL */
        uint32_t build = k && ns->build2 ? ns->build2 : 0x030f02f0;
        p32(m, abi + 4, build);
        p32(m, abi + 8, build);
    }

    size_t le = N_LINKEDIT, q = le;
    if (ns->fix == FIX_REBASE) {
        for (unsigned i = 0; i < np; i++)
            pword(m, place[i], base + target[i]);
        l->bind = q;
        m->b[q++] = 0x11; /* SET_TYPE_IMM pointer */
        for (unsigned i = 0; i < np; i++) {
            if (!fixed[i])
                continue;
            m->b[q++] = 0x21; /* SET_SEGMENT_AND_OFFSET_ULEB, segment 1 */
            q += uleb(m->b + q, place[i] - N_DATA);
            if (i + 1 < np && fixed[i + 1] && place[i + 1] - place[i] == 16) {
                m->b[q++] = 0x80; /* DO_REBASE_ULEB_TIMES_SKIPPING_ULEB: 2, skip 8 */
                m->b[q++] = 2;
                m->b[q++] = 8;
                i++;
            } else {
                m->b[q++] = 0x51; /* DO_REBASE_IMM_TIMES 1 */
            }
        }
        m->b[q++] = 0x00; /* DONE */
        p32(m, fixcmd + 8, (uint32_t)le);
        p32(m, fixcmd + 12, (uint32_t)(q - le));
    } else {
        unsigned fmt = ns->fix == FIX_CHAINED6 ? 6 : 2;
        uint64_t prev = 0;
        int first = -1;
        for (unsigned i = 0; i < np; i++) {
            uint64_t t = fmt == 6 ? target[i] : base + target[i];
            if (!fixed[i]) {
                pword(m, place[i], base + target[i]); /* what a pointer would be, unfixed */
                continue;
            }
            p64(m, place[i], t);
            if (first < 0)
                first = (int)i;
            else
                p64(m, prev, g64(m, prev) | (place[i] - prev) / 4 << 51);
            prev = place[i];
        }
        l->chained = q;
        p32(m, q, 0);        /* fixups_version */
        p32(m, q + 4, 32);   /* starts_offset */
        p32(m, q + 8, 72);   /* imports_offset: none */
        p32(m, q + 12, 72);  /* symbols_offset */
        p32(m, q + 20, 1);   /* imports_format */
        p32(m, q + 32, 3);   /* seg_count */
        p32(m, q + 40, 16);  /* __DATA's starts_in_segment, at 48 */
        p32(m, q + 48, 24);  /* size */
        m->b[q + 52] = 0x00, m->b[q + 53] = 0x10; /* page_size 0x1000 */
        m->b[q + 54] = (unsigned char)fmt;
        p64(m, q + 56, N_DATA);
        m->b[q + 68] = 1; /* page_count */
        uint16_t start = first < 0 ? 0xffff : (uint16_t)(place[first] - N_DATA);
        m->b[q + 70] = (unsigned char)start, m->b[q + 71] = (unsigned char)(start >> 8);
        p32(m, fixcmd + 8, (uint32_t)le);
        p32(m, fixcmd + 12, 72);
    }
    l->len = 0x3000;
}

static struct img *nmake(const struct nspec *ns)
{
    struct img *m = malloc(sizeof *m);
    ck_assert_ptr_nonnull(m);
    nbuild(m, ns);
    return m;
}

/* Found: through rebase opcodes, chained fixups of format 6 and 2, in
 * either slot form; the same in a legacy read; not in an exports read. */
START_TEST(test_native)
{
    struct nspec ns = {0};
    ns.fix = _i / 2;
    ns.form = _i % 2;
    struct img *m = nmake(&ns);
    abigate_file_info fi;
    abigate_error err;
    for (int legacy = 0; legacy < 2; legacy++) {
        unsigned flags = legacy ? ABIGATE_READ_LEGACY : ABIGATE_READ_RECORD;
        ck_assert_int_eq(read_img(m->b, m->l.len, flags, &fi, NULL, &err), ABIGATE_OK);
        ck_assert_int_eq(fi.record_state, ABIGATE_RECORD_PRESENT);
        ck_assert_int_eq(fi.record_via, ABIGATE_VIA_PYABIINFO);
        ck_assert_uint_eq(fi.record_offset, N_DATA + N_ABI);
        ck_assert_uint_eq(fi.record.abiinfo.major, 1);
        ck_assert_uint_eq(fi.record.abiinfo.flags, ABIGATE_ABIINFO_GIL);
        ck_assert_uint_eq(fi.record.abiinfo.build_version, 0x030f02f0);
        ck_assert_uint_eq(fi.record.pointer_size, 8);
        ck_assert_uint_eq(fi.slot_id_315, 85);
    }
    free(m);
}
END_TEST

/* Rewrite the rebase stream (`n` bytes). */
static void set_rebase(struct img *m, const unsigned char *p, size_t n)
{
    memcpy(m->b + m->l.bind, p, n);
    p32(m, m->l.dyld_cmd + 12, (uint32_t)n);
}

static void n_rebase_opcode(struct img *m) { m->b[m->l.bind + 1] = 0x90; }
static void n_rebase_uleb_off(struct img *m)
{
    static const unsigned char p[] = {0x11, 0x21, 0x80};
    set_rebase(m, p, sizeof p);
}
static void n_rebase_uleb_long(struct img *m)
{
    static const unsigned char p[] = {0x11, 0x21, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                      0xff, 0xff, 0x7f, 0x51, 0x00};
    set_rebase(m, p, sizeof p);
}
static void n_rebase_huge(struct img *m)
{
    /* __DATA of 2^40 bytes in memory: 2^62 places inside it, stopped at the cap */
    static const unsigned char p[] = {0x11, 0x21, 0x00, 0x60, 0x80, 0x80, 0x80, 0x80, 0x80,
                                      0x80, 0x80, 0x80, 0x40, 0x00};
    p64(m, m->l.seg_cmd + 32, 1ull << 40);
    set_rebase(m, p, sizeof p);
}
static void n_rebase_past_segment(struct img *m)
{
    /* the real places, then one past __DATA: the whole stream is dropped */
    size_t n = g32(m, m->l.dyld_cmd + 12) - 1, q = m->l.bind + n;
    m->b[q++] = 0x21, m->b[q++] = 0x80, m->b[q++] = 0x20; /* offset 0x1000 */
    m->b[q++] = 0x51, m->b[q++] = 0x00;
    p32(m, m->l.dyld_cmd + 12, (uint32_t)(q - m->l.bind));
}
static void n_rebase_segment_index(struct img *m) { m->b[m->l.bind + 1] = 0x25; }
static void n_rebase_outside_file(struct img *m) { p32(m, m->l.dyld_cmd + 8, 0x2ffc); }
static void n_chain_format1(struct img *m) { m->b[m->l.chained + 54] = 1; }
static void n_chain_off_page(struct img *m)
{
    size_t last = N_DATA + N_ARRAY + 16 + 8;
    p64(m, last, g64(m, last) | 0xfffull << 51);
}
static void n_chain_bind(struct img *m)
{
    size_t abi = N_DATA + N_ARRAY + 8;
    p64(m, abi, g64(m, abi) | 1ull << 63);
}
static void n_chain_high8(struct img *m)
{
    size_t abi = N_DATA + N_ARRAY + 8;
    p64(m, abi, g64(m, abi) | 0x80ull << 36);
}
static void n_chain_multi(struct img *m) { m->b[m->l.chained + 71] |= 0x80; }
static void n_chain_seg_count(struct img *m) { p32(m, m->l.chained + 32, 4); }
static void n_chain_page_count(struct img *m) { m->b[m->l.chained + 68] = 2; }
static void n_chain_seg_offset(struct img *m) { p64(m, m->l.chained + 56, N_DATA + 0x1000); }
static void n_chain_starts(struct img *m) { p32(m, m->l.chained + 4, 70); }
static void n_chain_version(struct img *m) { p32(m, m->l.chained, 1); }
static void n_int_rebased(struct img *m)
{
    /* a fixup on the terminator's value too: not a {0, NULL} */
    static const unsigned char p[] = {0x11, 0x21, N_ARRAY + 8, 0x80, 3, 8, 0x00};
    set_rebase(m, p, sizeof p);
}

static const struct {
    const char *name;
    struct nspec ns;
    void (*mutate)(struct img *);
    int state;
    unsigned slot_id_315;
} native_rows[] = {
    {"not rebased", {.fix = FIX_REBASE, .unrebased = 1}, NULL, ABIGATE_RECORD_ABSENT, 85},
    {"not chained (6)", {.fix = FIX_CHAINED6, .unrebased = 1}, NULL, ABIGATE_RECORD_ABSENT, 85},
    {"not chained (2)", {.fix = FIX_CHAINED2, .unrebased = 1, .form = 1}, NULL,
     ABIGATE_RECORD_ABSENT, 85},
    {"outside the image", {.fix = FIX_REBASE, .outside = 1}, NULL, ABIGATE_RECORD_ABSENT, 85},
    {"outside the image (6)", {.fix = FIX_CHAINED6, .outside = 1}, NULL, ABIGATE_RECORD_ABSENT, 85},
    {"outside the image (2)", {.fix = FIX_CHAINED2, .outside = 1}, NULL, ABIGATE_RECORD_ABSENT, 85},
    {"two agree", {.fix = FIX_REBASE, .modules = 2}, NULL, ABIGATE_RECORD_PRESENT, 85},
    {"two agree (6)", {.fix = FIX_CHAINED6, .modules = 2, .form = 1}, NULL,
     ABIGATE_RECORD_PRESENT, 85},
    {"two disagree", {.fix = FIX_REBASE, .modules = 2, .build2 = 0x030f01f0}, NULL,
     ABIGATE_RECORD_CONFLICT, 85},
    {"two disagree (6)", {.fix = FIX_CHAINED6, .modules = 2, .build2 = 0x030f01f0}, NULL,
     ABIGATE_RECORD_CONFLICT, 85},
    {"two disagree (2)", {.fix = FIX_CHAINED2, .modules = 2, .build2 = 0x030f01f0, .form = 1},
     NULL, ABIGATE_RECORD_CONFLICT, 85},
    {"no terminator", {.fix = FIX_REBASE, .no_terminator = 1}, NULL, ABIGATE_RECORD_ABSENT, 0},
    {"no terminator (6)", {.fix = FIX_CHAINED6, .no_terminator = 1}, NULL,
     ABIGATE_RECORD_ABSENT, 0},
    {"no Py_mod_abi", {.fix = FIX_REBASE, .no_abi = 1}, NULL, ABIGATE_RECORD_ABSENT, 85},
    {"no Py_mod_abi (6)", {.fix = FIX_CHAINED6, .no_abi = 1}, NULL, ABIGATE_RECORD_ABSENT, 85},
    {"PyABIInfo major 2", {.fix = FIX_REBASE, .major = 2}, NULL, ABIGATE_RECORD_ABSENT, 85},
    {"terminator rebased", {.fix = FIX_REBASE}, n_int_rebased, ABIGATE_RECORD_ABSENT, 0},
    {"rebase: unknown opcode", {.fix = FIX_REBASE}, n_rebase_opcode, ABIGATE_RECORD_ABSENT, 0},
    {"rebase: ULEB off the stream", {.fix = FIX_REBASE}, n_rebase_uleb_off,
     ABIGATE_RECORD_ABSENT, 0},
    {"rebase: ULEB past 64 bits", {.fix = FIX_REBASE}, n_rebase_uleb_long,
     ABIGATE_RECORD_ABSENT, 0},
    {"rebase: 2^62 places", {.fix = FIX_REBASE}, n_rebase_huge, ABIGATE_RECORD_ABSENT, 0},
    {"rebase: past its segment", {.fix = FIX_REBASE}, n_rebase_past_segment,
     ABIGATE_RECORD_ABSENT, 0},
    {"rebase: segment 5", {.fix = FIX_REBASE}, n_rebase_segment_index, ABIGATE_RECORD_ABSENT, 0},
    {"rebase: outside the file", {.fix = FIX_REBASE}, n_rebase_outside_file,
     ABIGATE_RECORD_ABSENT, 0},
    {"chained: arm64e format", {.fix = FIX_CHAINED6}, n_chain_format1, ABIGATE_RECORD_ABSENT, 0},
    {"chained: next off the page", {.fix = FIX_CHAINED6}, n_chain_off_page,
     ABIGATE_RECORD_ABSENT, 0},
    {"chained: a bind", {.fix = FIX_CHAINED6}, n_chain_bind, ABIGATE_RECORD_ABSENT, 85},
    {"chained: high8", {.fix = FIX_CHAINED2}, n_chain_high8, ABIGATE_RECORD_ABSENT, 85},
    {"chained: several starts", {.fix = FIX_CHAINED6}, n_chain_multi, ABIGATE_RECORD_ABSENT, 0},
    {"chained: seg_count", {.fix = FIX_CHAINED6}, n_chain_seg_count, ABIGATE_RECORD_ABSENT, 0},
    {"chained: page_count", {.fix = FIX_CHAINED6}, n_chain_page_count, ABIGATE_RECORD_ABSENT, 0},
    {"chained: segment_offset", {.fix = FIX_CHAINED2}, n_chain_seg_offset,
     ABIGATE_RECORD_ABSENT, 0},
    {"chained: starts_offset", {.fix = FIX_CHAINED6}, n_chain_starts, ABIGATE_RECORD_ABSENT, 0},
    {"chained: version", {.fix = FIX_CHAINED6}, n_chain_version, -1, 0},
};

/* Each row: the read succeeds (the version row: the legacy read of the
 * chained imports refuses it, the record read does not), with its state.
 * Where the Py_mod_abi array is refused but its fixups are read, the rest
 * of it, {Py_mod_exec, f}, {0, NULL}, is an array of 3.15's numbering:
 * slot_id_315 85. */
START_TEST(test_native_rows)
{
    struct img *m = nmake(&native_rows[_i].ns);
    abigate_file_info fi;
    abigate_error err;
    if (native_rows[_i].mutate)
        native_rows[_i].mutate(m);
    int rc = read_img(m->b, m->l.len, ABIGATE_READ_RECORD, &fi, NULL, &err);
    if (rc)
        fprintf(stderr, "%s: %s\n", native_rows[_i].name, err.message);
    ck_assert_int_eq(rc, ABIGATE_OK);
    int want = native_rows[_i].state < 0 ? ABIGATE_RECORD_ABSENT : native_rows[_i].state;
    ck_assert_msg(fi.record_state == want, "%s: state %d, want %d", native_rows[_i].name,
                  fi.record_state, want);
    ck_assert_uint_eq(fi.slot_id_315, native_rows[_i].slot_id_315);
    if (native_rows[_i].state >= 0)
        ck_assert_int_eq(read_img(m->b, m->l.len, ABIGATE_READ_LEGACY, &fi, NULL, &err),
                         ABIGATE_OK);
    free(m);
}
END_TEST

/* A universal file: the first slice's PyABIInfo, at its offset in the file;
 * none when the first slice has none. */
START_TEST(test_native_fat)
{
    struct nspec ns = {0};
    struct img *mn = nmake(&ns), *ml = make(&x86_64_spec);
    struct img *both[2] = {mn, ml};
    struct fat *f = malloc(sizeof *f);
    abigate_file_info fi;
    abigate_error err;
    make_fat(f, both, 2, 0);
    ck_assert_int_eq(read_img(f->b, f->len, ABIGATE_READ_LEGACY, &fi, NULL, &err), ABIGATE_OK);
    ck_assert_int_eq(fi.record_state, ABIGATE_RECORD_PRESENT);
    ck_assert_int_eq(fi.record_via, ABIGATE_VIA_PYABIINFO);
    ck_assert_uint_eq(fi.record_offset, f->off[0] + N_DATA + N_ABI);
    struct img *rev[2] = {ml, mn};
    make_fat(f, rev, 2, 0);
    ck_assert_int_eq(read_img(f->b, f->len, ABIGATE_READ_LEGACY, &fi, NULL, &err), ABIGATE_OK);
    ck_assert_int_eq(fi.record_state, ABIGATE_RECORD_ABSENT);
    free(f);
    free(mn);
    free(ml);
}
END_TEST

/* ------------------------------------------------------------------ malformed thin files */

struct bad {
    const char *name;
    struct spec base;
    void (*mutate)(struct img *);
    int code;
};

static void m_truncated(struct img *m) { m->l.len = 20; }
static void m_magic_only(struct img *m) { m->l.len = 4; }
static void m_ncmds_absurd(struct img *m) { p32(m, 16, 100000); }
static void m_ncmds_vs_size(struct img *m) { p32(m, 16, 1000); }
static void m_sizeofcmds_big(struct img *m) { p32(m, 20, 17u << 20); }
static void m_sizeofcmds_past(struct img *m) { p32(m, 20, (uint32_t)m->l.len); }
static void m_cmdsize_0(struct img *m) { p32(m, 32 + 4, 0); }
static void m_cmdsize_6(struct img *m) { p32(m, 32 + 4, 6); }
static void m_cmdsize_odd(struct img *m) { p32(m, 32 + 4, 26); }
static void m_cmdsize_past(struct img *m) { p32(m, m->l.symtab_cmd + 4, 0x1000); }
static void m_ncmds_past(struct img *m) { p32(m, 16, g32(m, 16) + 1); }
static void m_symtab_small(struct img *m)
{
    p32(m, m->l.symtab_cmd + 4, 16);
    p32(m, 16, g32(m, 16) + 1);
}
static void m_symoff_outside(struct img *m) { p32(m, m->l.symtab_cmd + 8, (uint32_t)m->l.len); }
static void m_symoff_wrap(struct img *m) { p32(m, m->l.symtab_cmd + 8, 0xfffffff0u); }
static void m_nsyms_past(struct img *m) { p32(m, m->l.symtab_cmd + 12, 100000); }
static void m_nsyms_cap(struct img *m) { p32(m, m->l.symtab_cmd + 12, ABIGATE_MAX_SYMS + 1); }
static void m_stroff_outside(struct img *m) { p32(m, m->l.symtab_cmd + 16, 0xffffff00u); }
static void m_strsize_past(struct img *m) { p32(m, m->l.symtab_cmd + 20, (uint32_t)m->l.len); }
static void m_strx_outside(struct img *m) { p32(m, m->l.symoff + 2 * 16, (uint32_t)m->l.strsize); }
static void m_strx_huge(struct img *m) { p32(m, m->l.symoff + 2 * 16, 0xffffffffu); }
/* the last name ("_PyInitU_second") loses its NUL */
static void m_unterminated(struct img *m)
{
    p32(m, m->l.symtab_cmd + 20, (uint32_t)m->l.strsize - 1);
}
static void m_second_symtab(struct img *m)
{
    /* the LC_LOAD_DYLIB before LC_SYMTAB becomes another LC_SYMTAB */
    p32(m, m->l.dylib_cmd, 0x2);
}
static void m_section_outside(struct img *m) { p32(m, m->l.sect + 48, (uint32_t)m->l.len); }
static void m_section_size_wrap(struct img *m) { p64(m, m->l.sect + 40, UINT64_MAX); }
static void m_nsects_big(struct img *m) { p32(m, m->l.seg_cmd + 64, 2); }
static void m_note_descsz(struct img *m) { p32(m, m->l.note + 4, 400); }
static void m_seg32_in_64(struct img *m) { p32(m, m->l.seg_cmd, 0x1); }
static void m_dylib_name_outside(struct img *m) { p32(m, m->l.dylib_cmd + 8, 0x400); }
static void m_dylib_name_in_header(struct img *m) { p32(m, m->l.dylib_cmd + 8, 4); }
static void m_dylib_unterminated(struct img *m)
{
    /* "/usr/lib/libSystem.B.dylib": 27 bytes with its NUL, padded to 56 */
    memset(m->b + m->l.dylib_cmd + 24, 'x', 32);
}
static void m_build_version_small(struct img *m) { p32(m, 32 + 4, 16); }
static void m_vmin_small(struct img *m) { p32(m, 32 + 24 + 4, 8); }
static void m_chained_cmd_small(struct img *m) { p32(m, m->l.chained_cmd + 4, 8); }
static void m_chained_version(struct img *m) { p32(m, m->l.chained, 1); }
static void m_chained_format(struct img *m) { p32(m, m->l.chained + 20, 7); }
static void m_chained_symformat(struct img *m) { p32(m, m->l.chained + 24, 1); }
static void m_chained_count(struct img *m) { p32(m, m->l.chained + 16, 5000); }
static void m_chained_name(struct img *m) { p32(m, m->l.chained + 32, 1u | 0x7fffffu << 9); }
static void m_chained_outside(struct img *m) { p32(m, m->l.chained_cmd + 8, (uint32_t)m->l.len); }
static void m_chained_short(struct img *m) { p32(m, m->l.chained_cmd + 12, 20); }
static void m_bind_opcode(struct img *m) { m->b[m->l.bind] = 0xe0; }
static void m_bind_uleb(struct img *m)
{
    /* the stream ends inside an ULEB */
    uint32_t size = g32(m, m->l.dyld_cmd + 20);
    m->b[m->l.bind + size - 2] = 0x70;
    m->b[m->l.bind + size - 1] = 0x80;
}
static void m_bind_uleb_long(struct img *m)
{
    uint32_t size = g32(m, m->l.dyld_cmd + 20);
    size_t q = m->l.bind + size - 1;
    m->b[q++] = 0x80; /* ADD_ADDR_ULEB, eleven continuation bytes */
    memset(m->b + q, 0xff, 11);
    m->b[q + 11] = 0x01;
    p32(m, m->l.dyld_cmd + 20, size + 12);
    if (m->l.len < q + 12)
        m->l.len = q + 12;
}
static void m_bind_name(struct img *m)
{
    /* the stream ends inside a name */
    p32(m, m->l.dyld_cmd + 20, 5);
}
static void m_bind_outside(struct img *m) { p32(m, m->l.dyld_cmd + 16, 0xfffffff0u); }

static struct spec with(int imports)
{
    struct spec sp = x86_64_spec;
    sp.imports = imports;
    return sp;
}

static struct spec with_record(void)
{
    struct spec sp = x86_64_spec;
    sp.record = 1;
    return sp;
}

static struct bad bad_thin[64];
static unsigned n_bad_thin;

static void add(const char *name, struct spec sp, void (*mutate)(struct img *), int code)
{
    if (n_bad_thin >= sizeof bad_thin / sizeof bad_thin[0])
        abort(); /* the table outgrew its array */
    bad_thin[n_bad_thin++] = (struct bad){name, sp, mutate, code};
}

static void fill_bad_thin(void)
{
    if (n_bad_thin)
        return;
    const int E = ABIGATE_E_MACHO;
    struct spec x = x86_64_spec, r = with_record();
    add("truncated header", x, m_truncated, E);
    add("magic only", x, m_magic_only, E);
    add("ncmds absurd", x, m_ncmds_absurd, E);
    add("ncmds x 8 > sizeofcmds", x, m_ncmds_vs_size, E);
    add("sizeofcmds over 16 MiB", x, m_sizeofcmds_big, E);
    add("sizeofcmds past the file", x, m_sizeofcmds_past, E);
    add("cmdsize 0", x, m_cmdsize_0, E);
    add("cmdsize 6", x, m_cmdsize_6, E);
    add("cmdsize not a multiple of 4", x, m_cmdsize_odd, E);
    add("cmdsize past sizeofcmds", x, m_cmdsize_past, E);
    add("one command more than fits", x, m_ncmds_past, E);
    add("LC_SYMTAB too short", x, m_symtab_small, E);
    add("symtab outside", x, m_symoff_outside, E);
    add("symoff wraps", x, m_symoff_wrap, E);
    add("nsyms past the file", x, m_nsyms_past, E);
    add("nsyms over the cap", x, m_nsyms_cap, E);
    add("string table outside", x, m_stroff_outside, E);
    add("strsize past the file", x, m_strsize_past, E);
    add("string index at the end", x, m_strx_outside, E);
    add("string index 0xffffffff", x, m_strx_huge, E);
    add("unterminated name", x, m_unterminated, E);
    add("two LC_SYMTAB", x, m_second_symtab, E);
    add("__abigate outside", r, m_section_outside, E);
    add("__abigate size wraps", r, m_section_size_wrap, E);
    add("nsects past cmdsize", r, m_nsects_big, E);
    add("record note descsz", r, m_note_descsz, ABIGATE_E_NOTE_DESCSZ);
    add("LC_SEGMENT in a 64-bit file", r, m_seg32_in_64, E);
    add("dylib name outside", x, m_dylib_name_outside, E);
    add("dylib name in its header", x, m_dylib_name_in_header, E);
    add("dylib name unterminated", x, m_dylib_unterminated, E);
    add("LC_BUILD_VERSION too short", x, m_build_version_small, E);
    struct spec v = x86_64_spec;
    v.vmin = 0x000a0f00;
    add("LC_VERSION_MIN_MACOSX too short", v, m_vmin_small, E);
    add("LC_DYLD_CHAINED_FIXUPS too short", with(IMPORTS_CHAINED), m_chained_cmd_small, E);
    add("chained version 1", with(IMPORTS_CHAINED), m_chained_version, E);
    add("chained imports_format 7", with(IMPORTS_CHAINED), m_chained_format, E);
    add("chained symbols_format 1", with(IMPORTS_CHAINED), m_chained_symformat, E);
    add("chained imports_count past", with(IMPORTS_CHAINED), m_chained_count, E);
    add("chained name outside", with(IMPORTS_CHAINED), m_chained_name, E);
    add("chained data outside", with(IMPORTS_CHAINED), m_chained_outside, E);
    add("chained data too short", with(IMPORTS_CHAINED), m_chained_short, E);
    add("bind opcode 0xe0", with(IMPORTS_BIND), m_bind_opcode, E);
    add("bind ULEB cut", with(IMPORTS_BIND), m_bind_uleb, E);
    add("bind ULEB over 64 bits", with(IMPORTS_BIND), m_bind_uleb_long, E);
    add("bind name cut", with(IMPORTS_BIND), m_bind_name, E);
    add("bind stream outside", with(IMPORTS_BIND), m_bind_outside, E);
}

/* Each row: its code with and without an error struct and symbol buffer,
 * through a buffer and an io reader in small pieces; a message. */
struct pieces {
    const unsigned char *p;
    size_t len;
};

static long read_pieces(void *ctx, void *buf, size_t len, uint64_t off)
{
    const struct pieces *c = ctx;
    if (off >= c->len)
        return 0;
    size_t n = c->len - off < len ? c->len - off : len;
    n = n < 509 ? n : 509;
    memcpy(buf, c->p + off, n);
    return (long)n;
}

static void expect(const unsigned char *b, size_t len, int code, const char *name)
{
    abigate_file_info fi;
    abigate_error err;
    abigate_symbols *syms = abigate_symbols_new();
    memset(&err, 0, sizeof err);
    int rc = read_img(b, len, ABIGATE_READ_LEGACY, &fi, syms, &err);
    ck_assert_msg(rc == code, "%s: got %s (%s), want %s", name, abigate_code_name(rc),
                  err.message, abigate_code_name(code));
    if (getenv("MACHO_DEBUG")) /* each row's message, to read them over */
        fprintf(stderr, "%-32s %s @%lld: %s\n", name, abigate_code_name(rc),
                (long long)err.offset, err.message);
    ck_assert_int_eq(err.code, code);
    ck_assert_msg(err.message[0] != '\0', "%s: no message", name);
    ck_assert_int_eq(read_img(b, len, ABIGATE_READ_LEGACY, &fi, NULL, NULL), code);
    ck_assert_int_eq(read_img(b, len, ABIGATE_READ_EXPORTS, &fi, syms, NULL), code);
    struct pieces pc = {b, len};
    abigate_io io = {read_pieces, &pc, len};
    ck_assert_int_eq(abigate_read_io(&io, "x.so", ABIGATE_READ_LEGACY, &fi, syms, NULL), code);
    abigate_symbols_free(syms);
}

START_TEST(test_malformed_thin)
{
    fill_bad_thin();
    const struct bad *c = &bad_thin[_i];
    struct img *m = make(&c->base);
    /* the unmutated image reads */
    abigate_file_info fi;
    ck_assert_int_eq(read_img(m->b, m->l.len, ABIGATE_READ_LEGACY, &fi, NULL, NULL), ABIGATE_OK);
    c->mutate(m);
    expect(m->b, m->l.len, c->code, c->name);
    free(m);
}
END_TEST

/* ------------------------------------------------------------------ malformed fat files */

static void f_nfat0(struct fat *f) { f->b[7] = 0; }
static void f_nfat9(struct fat *f) { f->b[7] = 9; }
static void f_overlap(struct fat *f) { fat_put32(f, 8 + 20 + 8, (uint32_t)f->off[0] + 64); }
static void f_same(struct fat *f) { fat_put32(f, 8 + 20 + 8, (uint32_t)f->off[0]); }
static void f_outside(struct fat *f) { fat_put32(f, 8 + 20 + 12, (uint32_t)f->len); }
static void f_offset_wrap(struct fat *f) { fat_put32(f, 8 + 8, 0xfffff000u); }
static void f_in_header(struct fat *f) { fat_put32(f, 8 + 8, 16); }
static void f_tiny_slice(struct fat *f) { fat_put32(f, 8 + 12, 16); }
static void f_truncated_table(struct fat *f) { f->len = 30; }
static void f_header_only(struct fat *f) { f->len = 7; }
static void f_fat_inside(struct fat *f)
{
    /* the second slice is itself a fat file pointing at the first */
    size_t s = f->off[1];
    memcpy(f->b + s, "\xca\xfe\xba\xbe\0\0\0\1", 8);
    fat_put32(f, s + 16, (uint32_t)f->off[0]);
    fat_put32(f, s + 20, 4096);
}
static void f_first_fat(struct fat *f)
{
    size_t s = f->off[0];
    memcpy(f->b + s, "\xca\xfe\xba\xbe\0\0\0\1", 8);
}
static void f_slice_bad_thin(struct fat *f)
{
    /* the first slice's load commands run past the slice (inside the file) */
    size_t s = f->off[0];
    f->b[s + 20] = 0x00;
    f->b[s + 21] = 0x20;
}

static const struct {
    const char *name;
    void (*mutate)(struct fat *);
    int code;
} bad_fat[] = {
    {"fat nfat 0", f_nfat0, ABIGATE_E_MACHO},
    {"fat nfat 9", f_nfat9, ABIGATE_E_MACHO},
    {"fat slices overlapping", f_overlap, ABIGATE_E_MACHO},
    {"fat slices at one offset", f_same, ABIGATE_E_MACHO},
    {"fat slice outside the file", f_outside, ABIGATE_E_MACHO},
    {"fat slice offset wraps", f_offset_wrap, ABIGATE_E_MACHO},
    {"fat slice over the header", f_in_header, ABIGATE_E_MACHO},
    {"fat slice of 16 bytes", f_tiny_slice, ABIGATE_E_MACHO},
    {"fat table truncated", f_truncated_table, ABIGATE_E_MACHO},
    {"fat header of 7 bytes", f_header_only, ABIGATE_E_NOT_ELF},
    {"fat inside fat", f_fat_inside, ABIGATE_E_MACHO},
    {"first slice fat", f_first_fat, ABIGATE_E_MACHO},
    {"first slice's commands past it", f_slice_bad_thin, ABIGATE_E_MACHO},
};

START_TEST(test_malformed_fat)
{
    struct spec b = x86_64_spec;
    b.cputype = 0x0100000c;
    struct img *ma = make(&x86_64_spec), *mb = make(&b);
    struct img *both[2] = {ma, mb};
    struct fat *f = malloc(sizeof *f);
    make_fat(f, both, 2, 0);
    f->b[7] = 2;
    bad_fat[_i].mutate(f);
    expect(f->b, f->len, bad_fat[_i].code, bad_fat[_i].name);
    free(f);
    free(ma);
    free(mb);
}
END_TEST

Suite *make_macho_suite(void)
{
    Suite *s = suite_create("macho");
    TCase *tc = tcase_create("thin");
    tcase_add_test(tc, test_x86_64_thin);
    tcase_add_test(tc, test_arm64_record);
    tcase_add_test(tc, test_min_os_both);
    tcase_add_loop_test(tc, test_cpus, 0, sizeof cpus / sizeof cpus[0]);
    tcase_add_loop_test(tc, test_filetypes, 0, 5);
    tcase_add_test(tc, test_modexport_and_frameworks);
    tcase_add_test(tc, test_zerofill_section);
    tcase_add_test(tc, test_two_records);
    tcase_add_test(tc, test_big_strtab);
    tcase_add_loop_test(tc, test_other_imports, 0, 3);
    tcase_add_test(tc, test_java_class);
    suite_add_tcase(s, tc);
    tc = tcase_create("fat");
    tcase_add_loop_test(tc, test_fat_two_slices, 0, 2);
    suite_add_tcase(s, tc);
    tc = tcase_create("native");
    tcase_add_loop_test(tc, test_native, 0, 6);
    tcase_add_loop_test(tc, test_native_rows, 0, sizeof native_rows / sizeof native_rows[0]);
    tcase_add_test(tc, test_native_fat);
    suite_add_tcase(s, tc);
    tc = tcase_create("malformed");
    fill_bad_thin();
    tcase_add_loop_test(tc, test_malformed_thin, 0, (int)n_bad_thin);
    tcase_add_loop_test(tc, test_malformed_fat, 0, sizeof bad_fat / sizeof bad_fat[0]);
    suite_add_tcase(s, tc);
    return s;
}
