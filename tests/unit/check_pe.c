/* check_pe.c -- the PE reader (pe.c) over crafted images: PE32+ and PE32,
 * the import directory (names, by-ordinal entries, the address table when
 * the lookup table is absent), the delay-load directory (RVA-based and
 * Visual C++ 6's VA-based), the export table, the record in ".abigate",
 * the exports mode; then a table of malformed images, each refused with
 * its code, none read past its bounds (the suite also runs under
 * valgrind), and the caps that keep a hostile image's cost bounded.  The
 * real files (MinGW-w64's output) are tests/platforms/pe.py's.
 *
 * One image: headers in the first 0x200 bytes (DOS header, "PE\0\0" at
 * 0x40, the COFF and optional headers, the section table), one section
 * ".rdata" at RVA 0x1000 holding every table, at file offset 0x200, and
 * optionally a ".abigate" section after it. */
#include "suites.h"

#include "abigate/abigate.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEC_RVA 0x1000u
#define SEC_OFF 0x200u

struct pe {
    unsigned char *b;
    size_t len, cap;
    int plus;
    unsigned nsec;
    size_t sec_table; /* offset of the section table */
    size_t data;      /* next free byte of .rdata (file offset) */
};

static void put16(unsigned char *p, unsigned v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
static void put32(unsigned char *p, uint32_t v) { put16(p, v & 0xffff); put16(p + 2, v >> 16); }
static void put64(unsigned char *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

static uint32_t rva(const struct pe *pe, size_t off) { (void)pe; return (uint32_t)(off - SEC_OFF + SEC_RVA); }

/* Room for `n` bytes of .rdata; their file offset. */
static size_t take(struct pe *pe, size_t n)
{
    size_t at = pe->data;
    pe->data += (n + 7) & ~(size_t)7;
    if (pe->data > pe->cap) {
        size_t cap = pe->cap * 2 > pe->data ? pe->cap * 2 : pe->data + 4096;
        pe->b = realloc(pe->b, cap);
        ck_assert_ptr_nonnull(pe->b);
        memset(pe->b + pe->cap, 0, cap - pe->cap);
        pe->cap = cap;
    }
    return at;
}

static size_t put_string(struct pe *pe, const char *s)
{
    size_t at = take(pe, strlen(s) + 1);
    memcpy(pe->b + at, s, strlen(s) + 1);
    return at;
}

static void pe_init(struct pe *pe, int plus, unsigned machine)
{
    memset(pe, 0, sizeof *pe);
    pe->cap = 8192;
    pe->b = calloc(1, pe->cap);
    ck_assert_ptr_nonnull(pe->b);
    pe->plus = plus;
    pe->data = SEC_OFF;
    unsigned char *b = pe->b;
    b[0] = 'M';
    b[1] = 'Z';
    put32(b + 0x3c, 0x40);
    memcpy(b + 0x40, "PE\0\0", 4);
    put16(b + 0x44, machine);
    unsigned opt = plus ? 240 : 224;
    put16(b + 0x54, opt);
    put16(b + 0x56, 0x2022); /* DLL | executable image | large address aware */
    unsigned char *o = b + 0x58;
    put16(o, plus ? 0x20b : 0x10b);
    if (plus)
        put64(o + 24, 0x180000000ull);
    else
        put32(o + 28, 0x10000000u);
    put32(o + 56, 0x10000); /* SizeOfImage */
    put32(o + 60, 0x200);   /* SizeOfHeaders */
    put16(o + 48, 6);       /* subsystem version 6.0 */
    put32(o + (plus ? 108 : 92), 16);
    pe->sec_table = 0x58 + opt;
}

/* The section table and the data directories, once the data is written. */
static void set_dir(struct pe *pe, unsigned i, size_t off, uint32_t size)
{
    put32(pe->b + 0x58 + (pe->plus ? 112 : 96) + 8 * i, off ? rva(pe, off) : 0);
    put32(pe->b + 0x58 + (pe->plus ? 112 : 96) + 8 * i + 4, size);
}

static void add_section(struct pe *pe, const char *name, uint32_t va, uint32_t off, uint32_t size)
{
    unsigned char *s = pe->b + pe->sec_table + 40 * pe->nsec++;
    memcpy(s, name, strlen(name) < 8 ? strlen(name) : 8);
    put32(s + 8, size);
    put32(s + 12, va);
    put32(s + 16, size);
    put32(s + 20, off);
    put16(pe->b + 0x46, pe->nsec);
}

static void finish(struct pe *pe)
{
    add_section(pe, ".rdata", SEC_RVA, SEC_OFF, (uint32_t)(pe->data - SEC_OFF));
    put32(pe->b + pe->sec_table + 40 * (pe->nsec - 1) + 36, 0x40000040u); /* initialised data, read */
    pe->len = pe->data;
}

/* A lookup table of `names` (NULL-terminated; "#7" is ordinal 7). */
static size_t put_thunks(struct pe *pe, const char *const *names)
{
    unsigned w = pe->plus ? 8 : 4, n = 0;
    while (names[n])
        n++;
    size_t table = take(pe, (size_t)w * (n + 1));
    for (unsigned i = 0; i < n; i++) {
        uint64_t v;
        if (names[i][0] == '#') {
            v = (uint64_t)atoi(names[i] + 1) | (pe->plus ? 1ull << 63 : 1ull << 31);
        } else {
            size_t hn = take(pe, 2 + strlen(names[i]) + 1);
            memcpy(pe->b + hn + 2, names[i], strlen(names[i]) + 1);
            v = rva(pe, hn);
        }
        if (pe->plus)
            put64(pe->b + table + (size_t)w * i, v);
        else
            put32(pe->b + table + (size_t)w * i, (uint32_t)v);
    }
    return table;
}

struct dll {
    const char *name;
    const char *const *names;
    int use_iat; /* lookup table 0: the address table holds the names */
};

static void put_imports(struct pe *pe, const struct dll *dlls, unsigned n)
{
    size_t dir = take(pe, 20 * (n + 1));
    for (unsigned i = 0; i < n; i++) {
        size_t nm = put_string(pe, dlls[i].name);
        size_t t = put_thunks(pe, dlls[i].names);
        unsigned char *d = pe->b + dir + 20 * i;
        put32(d, dlls[i].use_iat ? 0 : rva(pe, t));
        put32(d + 12, rva(pe, nm));
        put32(d + 16, rva(pe, t));
    }
    set_dir(pe, 1, dir, 20 * (n + 1));
}

static void put_delay(struct pe *pe, const char *dll, const char *const *names, int va_based)
{
    size_t dir = take(pe, 64);
    size_t nm = put_string(pe, dll);
    size_t t = put_thunks(pe, names);
    uint64_t base = va_based ? (pe->plus ? 0x180000000ull : 0x10000000u) : 0;
    unsigned char *d = pe->b + dir;
    put32(d, va_based ? 0 : 1);
    put32(d + 4, (uint32_t)(rva(pe, nm) + base));
    put32(d + 16, (uint32_t)(rva(pe, t) + base));
    set_dir(pe, 13, dir, 64);
}

static void put_exports(struct pe *pe, const char *const *names)
{
    unsigned n = 0;
    while (names[n])
        n++;
    size_t dir = take(pe, 40), table = take(pe, 4 * n);
    for (unsigned i = 0; i < n; i++)
        put32(pe->b + table + 4 * i, rva(pe, put_string(pe, names[i])));
    put32(pe->b + dir + 20, n);
    put32(pe->b + dir + 24, n);
    put32(pe->b + dir + 32, rva(pe, table));
    set_dir(pe, 0, dir, 40);
}

static int read_pe(const struct pe *pe, unsigned flags, abigate_file_info *fi,
                   abigate_symbols *syms, abigate_error *err)
{
    return abigate_read_buffer(pe->b, pe->len, "m.cp313t-win_amd64.pyd", flags, fi, syms, err);
}

static int has(const abigate_symbols *s, const char *name)
{
    for (unsigned i = 0; i < abigate_symbols_count(s); i++)
        if (!strcmp(abigate_symbols_name(s, i), name))
            return 1;
    return 0;
}

static const char *const PY_NAMES[] = {"PyLong_FromLong", "_Py_DecRefShared", "#7", NULL};
static const char *const K32_NAMES[] = {"Sleep", "GetLastError", NULL};
static const char *const EXPORTS[] = {"PyInit_m", "helper", NULL};

/* PE32+ (x86-64) and PE32 (i386): identity, DLLs, names, hook */
START_TEST(test_pe_imports)
{
    struct pe pe;
    int plus = _i & 1, iat = _i >> 1 & 1;
    pe_init(&pe, plus, plus ? 0x8664 : 0x14c);
    struct dll dlls[] = {{"KERNEL32.dll", K32_NAMES, 0}, {"python313t.dll", PY_NAMES, iat}};
    put_imports(&pe, dlls, 2);
    put_exports(&pe, EXPORTS);
    finish(&pe);
    abigate_file_info fi;
    abigate_error err;
    abigate_symbols *syms = abigate_symbols_new();
    ck_assert_int_eq(read_pe(&pe, ABIGATE_READ_LEGACY, &fi, syms, &err), ABIGATE_OK);
    ck_assert_uint_eq(fi.format, ABIGATE_FORMAT_PE);
    ck_assert_uint_eq(fi.machine, plus ? 62 : 3);
    ck_assert_uint_eq(fi.elf_class, plus ? 64 : 32);
    ck_assert_uint_eq(fi.elf_type, 3);
    ck_assert_uint_eq(fi.min_os, 0x060000);
    ck_assert_uint_eq(fi.file_size, pe.len);
    ck_assert_uint_eq(fi.n_needed, 2);
    ck_assert_uint_eq(fi.n_libpython, 1);
    ck_assert_str_eq(fi.libpython[0], "python313t.dll");
    ck_assert_uint_eq(fi.n_pysyms, 2); /* the ordinal has no name */
    ck_assert_uint_eq(abigate_symbols_count(syms), 2);
    ck_assert(has(syms, "PyLong_FromLong") && has(syms, "_Py_DecRefShared"));
    ck_assert(!has(syms, "Sleep"));
    ck_assert_uint_eq(fi.n_pyinit, 1);
    ck_assert_str_eq(fi.pyinit, "PyInit_m");
    ck_assert_int_eq(fi.record_state, ABIGATE_RECORD_ABSENT);
    ck_assert_uint_eq(fi.tag.kind, ABIGATE_TAG_CPYTHON);
    ck_assert_str_eq(fi.tag.platform, "win_amd64");
    /* the record read alone costs no import table */
    ck_assert_int_eq(read_pe(&pe, ABIGATE_READ_RECORD, &fi, NULL, &err), ABIGATE_OK);
    ck_assert_int_eq(fi.legacy_read, 0);
    ck_assert_uint_eq(fi.n_libpython, 0);
    /* the exports mode: the Py names it defines */
    ck_assert_int_eq(read_pe(&pe, ABIGATE_READ_EXPORTS, &fi, syms, &err), ABIGATE_OK);
    ck_assert_uint_eq(fi.n_pyexports, 1);
    ck_assert(has(syms, "PyInit_m") && !has(syms, "PyLong_FromLong"));
    abigate_symbols_free(syms);
    free(pe.b);
}
END_TEST

/* The delay-load directory: RVA-based, and Visual C++ 6's VAs */
START_TEST(test_pe_delay)
{
    struct pe pe;
    int plus = _i == 0, va_based = _i == 2; /* VAs: a PE32 of Visual C++ 6's day */
    pe_init(&pe, plus, plus ? 0x8664 : 0x14c);
    struct dll dlls[] = {{"KERNEL32.dll", K32_NAMES, 0}};
    put_imports(&pe, dlls, 1);
    put_delay(&pe, "python313_d.dll", PY_NAMES, va_based);
    finish(&pe);
    abigate_file_info fi;
    abigate_error err;
    abigate_symbols *syms = abigate_symbols_new();
    ck_assert_int_eq(read_pe(&pe, ABIGATE_READ_LEGACY, &fi, syms, &err), ABIGATE_OK);
    ck_assert_uint_eq(fi.n_needed, 2);
    ck_assert_str_eq(fi.libpython[0], "python313_d.dll");
    ck_assert(has(syms, "_Py_DecRefShared"));
    abigate_symbols_free(syms);
    free(pe.b);
}
END_TEST

/* abigate's record, in a section named ".abigate" */
START_TEST(test_pe_record)
{
    struct pe pe;
    pe_init(&pe, 1, 0x8664);
    struct dll dlls[] = {{"python313.dll", PY_NAMES, 0}};
    put_imports(&pe, dlls, 1);
    finish(&pe);
    abigate_record r;
    memset(&r, 0, sizeof r);
    r.major = 1;
    r.size = 40;
    r.abiinfo.major = 1;
    r.abiinfo.flags = ABIGATE_ABIINFO_FREETHREADED;
    r.abiinfo.build_version = r.abiinfo.abi_version = 0x030d0ff0;
    r.pointer_size = 8;
    unsigned char desc[64];
    int n = abigate_record_encode(&r, 0, desc, sizeof desc);
    ck_assert_int_eq(n, 40);
    size_t at = pe.len = (pe.len + 0x1ff) & ~(size_t)0x1ff;
    ck_assert(at + 0x200 <= pe.cap || (pe.b = realloc(pe.b, at + 0x200)) != NULL);
    memset(pe.b + at, 0, 0x200);
    put32(pe.b + at, 8);
    put32(pe.b + at + 4, 40);
    put32(pe.b + at + 8, ABIGATE_NOTE_TYPE_RECORD);
    memcpy(pe.b + at + 12, "abigate", 8);
    memcpy(pe.b + at + 20, desc, 40);
    add_section(&pe, ".abigate", 0x8000, (uint32_t)at, 60);
    pe.len = at + 0x200;
    abigate_file_info fi;
    abigate_error err;
    ck_assert_int_eq(read_pe(&pe, ABIGATE_READ_RECORD, &fi, NULL, &err), ABIGATE_OK);
    ck_assert_int_eq(fi.record_state, ABIGATE_RECORD_PRESENT);
    ck_assert_int_eq(fi.record_via, ABIGATE_VIA_SECTION);
    ck_assert_uint_eq(fi.record_offset, at + 20);
    ck_assert_uint_eq(fi.record.abiinfo.flags, ABIGATE_ABIINFO_FREETHREADED);
    /* the record decides: a free-threaded build on 3.13 with the GIL */
    abigate_profile p;
    abigate_policy pol = {ABIGATE_MODE_STRICT, 0};
    abigate_verdict v;
    ck_assert_int_eq(abigate_profile_parse(&p, "3.13-win_amd64", &err), ABIGATE_OK);
    ck_assert_int_eq(abigate_decide(&fi, NULL, &p, &pol, &v), ABIGATE_REFUSE);
    ck_assert_int_eq(v.reason, ABIGATE_R_FREETHREADED_ON_GIL);
    free(pe.b);
}
END_TEST

/* CPython's own PyABIInfo in a module's slots, found through the base
 * relocation table: the pointers written in place as addresses at the
 * image base, each listed there (docs/FORMAT.md, "PE and Mach-O").
 * _i: 0 found; 1 a pointer not listed in .reloc; 2 a pointer outside the
 * image; 3 two modules whose PyABIInfo differ; 4 no terminator; 5 PE32;
 * 6 the numbering of 3.15's alphas ({5, &info}, {2, code}: pyo3-ffi 0.28's
 * Py_mod_abi and Py_mod_exec), no record and slot_id_old 5. */
START_TEST(test_pe_native)
{
    struct pe pe;
    int plus = _i != 5;
    pe_init(&pe, plus, plus ? 0x8664 : 0x14c);
    uint64_t base = plus ? 0x180000000ull : 0x10000000u;
    unsigned w = plus ? 8 : 4;
    static const unsigned char gil[12] = {1, 0, 2, 0, 0xf0, 2, 0x0f, 3, 0xf0, 2, 0x0f, 3};
    static const unsigned char ft[12] = {1, 0, 4, 0, 0xf0, 2, 0x0f, 3, 0xf0, 2, 0x0f, 3};
    size_t places[8];
    unsigned nplaces = 0;
    for (int m = 0; m < (_i == 3 ? 2 : 1); m++) {
        size_t info = take(&pe, 12);
        memcpy(pe.b + info, m ? ft : gil, 12);
        size_t arr = take(&pe, 3 * 2 * w);
        put32(pe.b + arr, _i == 6 ? 5 : 109);
        put32(pe.b + arr + 2 * w, _i == 6 ? 2 : 85);
        uint64_t v1 = base + rva(&pe, info) + (_i == 2 ? 0x100000 : 0), v2 = base + SEC_RVA;
        if (plus) {
            put64(pe.b + arr + w, v1);
            put64(pe.b + arr + 3 * w, v2);
        } else {
            put32(pe.b + arr + w, (uint32_t)v1);
            put32(pe.b + arr + 3 * w, (uint32_t)v2);
        }
        if (_i == 4)
            put32(pe.b + arr + 4 * w, 86); /* where the terminator should be */
        places[nplaces++] = arr + w;
        places[nplaces++] = arr + 3 * w;
    }
    /* .reloc: one block for the page of .rdata */
    size_t rel = take(&pe, 8 + 2 * 8);
    put32(pe.b + rel, SEC_RVA);
    put32(pe.b + rel + 4, 8 + 2 * 8);
    for (unsigned k = 0; k < nplaces; k++)
        if (!(_i == 1 && k == 0))
            put16(pe.b + rel + 8 + 2 * k, (plus ? 10u : 3u) << 12 | (rva(&pe, places[k]) - SEC_RVA));
    set_dir(&pe, 5, rel, 8 + 2 * 8);
    finish(&pe);
    abigate_file_info fi;
    abigate_error err;
    ck_assert_int_eq(read_pe(&pe, ABIGATE_READ_RECORD, &fi, NULL, &err), ABIGATE_OK);
    static const int want[] = {ABIGATE_RECORD_PRESENT, ABIGATE_RECORD_ABSENT, ABIGATE_RECORD_ABSENT,
                               ABIGATE_RECORD_CONFLICT, ABIGATE_RECORD_ABSENT,
                               ABIGATE_RECORD_PRESENT, ABIGATE_RECORD_ABSENT};
    ck_assert_int_eq(fi.record_state, want[_i]);
    ck_assert_uint_eq(fi.slot_id_old, _i == 6 ? 5 : 0);
    if (_i == 6)
        ck_assert_uint_eq(fi.slot_id_315, 0);
    if (want[_i] == ABIGATE_RECORD_PRESENT) {
        ck_assert_int_eq(fi.record_via, ABIGATE_VIA_PYABIINFO);
        ck_assert_uint_eq(fi.record.abiinfo.build_version, 0x030f02f0);
        ck_assert_uint_eq(fi.record.pointer_size, w);
        ck_assert_uint_eq(fi.slot_id_315, 85);
    }
    free(pe.b);
}
END_TEST

/* ---------------------------------------------------------------- malformed */

enum mutation {
    M_SHORT_DOS, M_LFANEW_OUT, M_NO_SIGNATURE, M_SECTIONS, M_MAGIC, M_OPT_SHORT, M_RAW_OUT,
    M_IMPORT_UNMAPPED, M_NAME_UNMAPPED, M_NAME_UNTERMINATED, M_NO_TERMINATOR, M_THUNKS_OPEN,
    M_EXPORT_COUNT, M_DELAY_VA_LOW, M_HEADERS_ONLY, N_MUTATIONS
};

static const struct {
    const char *what;
    int code;
    const char *says; /* in the message: the check that caught it */
} MUTATIONS[] = {
    {"DOS header shorter than 64 bytes", ABIGATE_E_PE, "DOS header is truncated"},
    {"e_lfanew past the end (an MZ file that is not PE)", ABIGATE_E_NOT_ELF, "not an ELF, PE"},
    {"no PE signature (an MS-DOS program)", ABIGATE_E_NOT_ELF, "not an ELF, PE"},
    {"97 sections", ABIGATE_E_PE, "more sections than the Windows loader takes"},
    {"optional header magic 0x107 (ROM)", ABIGATE_E_PE, "neither PE32"},
    {"optional header shorter than its fixed part", ABIGATE_E_PE, "shorter than its fixed part"},
    {"a section's raw data past the end", ABIGATE_E_PE, "raw data lies outside the file"},
    {"import directory in no section", ABIGATE_E_PE, "an import descriptor (RVA 0x9000)"},
    {"a DLL name in no section", ABIGATE_E_PE, "an imported DLL's name (RVA 0x7000)"},
    {"a DLL name running to the section's end", ABIGATE_E_PE, "unterminated"},
    {"import descriptors never terminated", ABIGATE_E_PE, "an import descriptor (RVA"},
    {"a lookup table never terminated", ABIGATE_E_PE, "an import lookup table (RVA"},
    {"2^21 exported names", ABIGATE_E_PE, "the cap is 1048576"},
    {"a VA-based delay descriptor below the image base", ABIGATE_E_PE, "outside the image"},
    {"the headers alone, truncated", ABIGATE_E_PE, "file has 256"},
};

START_TEST(test_pe_malformed)
{
    struct pe pe;
    pe_init(&pe, 1, 0x8664);
    struct dll dlls[] = {{"python313.dll", PY_NAMES, 0}};
    put_imports(&pe, dlls, 1);
    if (_i != M_NO_TERMINATOR && _i != M_THUNKS_OPEN)
        put_exports(&pe, EXPORTS);
    size_t tail = take(&pe, 24); /* the section's last bytes: the two open tables below */
    finish(&pe);
    unsigned char *o = pe.b + 0x58;
    uint32_t imp = 0;
    memcpy(&imp, o + 112 + 8, 4); /* little-endian host or not: only compared below */
    size_t dir_off = SEC_OFF + ((size_t)pe.b[0x58 + 120] | (size_t)pe.b[0x58 + 121] << 8) - SEC_RVA;
    switch (_i) {
    case M_SHORT_DOS: pe.len = 0x20; break;
    case M_LFANEW_OUT: put32(pe.b + 0x3c, (uint32_t)pe.len - 8); break;
    case M_NO_SIGNATURE: memcpy(pe.b + 0x40, "NE\0\0", 4); break;
    case M_SECTIONS: put16(pe.b + 0x46, 97); break;
    case M_MAGIC: put16(o, 0x107); break;
    case M_OPT_SHORT: put16(pe.b + 0x54, 64); break;
    case M_RAW_OUT: put32(pe.b + pe.sec_table + 16, (uint32_t)pe.len); break;
    case M_IMPORT_UNMAPPED: put32(o + 120, 0x9000); break;
    case M_NAME_UNMAPPED: put32(pe.b + dir_off + 12, 0x7000); break;
    case M_NAME_UNTERMINATED: {
        uint32_t end = (uint32_t)(pe.len - SEC_OFF + SEC_RVA);
        pe.b[pe.len - 1] = 'x';  /* the last string's NUL */
        put32(pe.b + dir_off + 12, end - 1); /* the DLL name: the section's last byte */
        break;
    }
    case M_NO_TERMINATOR:
        /* a good descriptor in the section's last 20 bytes: where the
         * terminator should follow, the section ends */
        memcpy(pe.b + pe.len - 20, pe.b + dir_off, 20);
        put32(o + 120, rva(&pe, pe.len - 20));
        break;
    case M_THUNKS_OPEN:
        /* the lookup table: an ordinal in the section's last 8 bytes */
        put32(pe.b + dir_off, rva(&pe, pe.len - 8));
        put64(pe.b + pe.len - 8, 1ull << 63 | 7);
        break;
    case M_EXPORT_COUNT: {
        size_t edir = SEC_OFF + ((size_t)pe.b[0x58 + 112] | (size_t)pe.b[0x58 + 113] << 8) - SEC_RVA;
        put32(pe.b + edir + 24, 1u << 21);
        break;
    }
    case M_DELAY_VA_LOW: {
        static const char *const none[] = {NULL};
        free(pe.b);
        pe_init(&pe, 0, 0x14c);
        put_delay(&pe, "python313.dll", none, 1);
        finish(&pe);
        size_t d = SEC_OFF;
        put32(pe.b + d + 4, 0x1000); /* a VA below the image base */
        break;
    }
    case M_HEADERS_ONLY: pe.len = 0x100; break;
    }
    (void)imp;
    (void)tail;
    abigate_file_info fi;
    abigate_error err;
    abigate_symbols *syms = abigate_symbols_new();
    int rc = read_pe(&pe, ABIGATE_READ_LEGACY, &fi, syms, &err);
    ck_assert_msg(rc == MUTATIONS[_i].code, "%s: got %s (%s), want %s", MUTATIONS[_i].what,
                  abigate_code_name(rc), err.message, abigate_code_name(MUTATIONS[_i].code));
    ck_assert_int_eq(err.code, rc);
    ck_assert_msg(strstr(err.message, MUTATIONS[_i].says) != NULL, "%s: %s", MUTATIONS[_i].what,
                  err.message);
    abigate_symbols_free(syms);
    free(pe.b);
}
END_TEST

/* Caps: a hostile image costs bounded time and memory.  4100 import
 * descriptors (the cap is 4096), and 1100 descriptors all naming one
 * lookup table of 1000 entries (1.1 million names: the cap is 2^20). */
START_TEST(test_pe_caps)
{
    struct pe pe;
    pe_init(&pe, 1, 0x8664);
    unsigned n = _i == 0 ? 4100 : 1100, names = _i == 0 ? 1 : 1000;
    size_t dir = take(&pe, 20 * (n + 1));
    size_t nm = put_string(&pe, "KERNEL32.dll");
    size_t table = take(&pe, 8 * (names + 1));
    for (unsigned i = 0; i < names; i++)
        put64(pe.b + table + 8 * i, (1ull << 63) | (i + 1));
    for (unsigned i = 0; i < n; i++) {
        put32(pe.b + dir + 20 * i, rva(&pe, table));
        put32(pe.b + dir + 20 * i + 12, rva(&pe, nm));
        put32(pe.b + dir + 20 * i + 16, rva(&pe, table));
    }
    set_dir(&pe, 1, dir, 20 * (n + 1));
    finish(&pe);
    abigate_file_info fi;
    abigate_error err;
    int rc = read_pe(&pe, ABIGATE_READ_LEGACY, &fi, NULL, &err);
    ck_assert_int_eq(rc, ABIGATE_E_PE);
    ck_assert_msg(strstr(err.message, "the cap"), "%s", err.message);
    free(pe.b);
}
END_TEST

/* A file that is none of the three formats keeps its old answer. */
START_TEST(test_pe_not_pe)
{
    static const char text[] = "MZ is how this text file starts, and nothing more.\n";
    abigate_file_info fi;
    abigate_error err;
    int rc = abigate_read_buffer(text, sizeof text - 1, "m.pyd", ABIGATE_READ_LEGACY, &fi, NULL,
                                 &err);
    ck_assert_int_eq(rc, ABIGATE_E_PE); /* "MZ" and shorter than a DOS header: a truncated one */
    char big[256];
    memset(big, ' ', sizeof big);
    memcpy(big, "MZ", 2);
    rc = abigate_read_buffer(big, sizeof big, "m.pyd", ABIGATE_READ_LEGACY, &fi, NULL, &err);
    ck_assert_int_eq(rc, ABIGATE_E_NOT_ELF); /* e_lfanew 0x20202020: no PE header can be there */
    rc = abigate_read_buffer("#!/bin/sh\n", 10, "m.pyd", ABIGATE_READ_LEGACY, &fi, NULL, &err);
    ck_assert_int_eq(rc, ABIGATE_E_NOT_ELF);
    ck_assert(strstr(err.message, "not an ELF, PE or Mach-O file") != NULL);
}
END_TEST

/* The real files kept as fuzz seeds (tests/fuzz/seeds/README): what a
 * MinGW-w64 build of 3.13t says, with and without abigate's record, and a
 * Mach-O thin and universal file, read by path as the gate reads them. */
START_TEST(test_real_seeds)
{
    static const struct {
        const char *name;
        unsigned format, machine, slices;
        int record;
        const char *lib, *pyinit, *import;
    } seeds[] = {
        {"ext.cp313t-win_amd64.pyd", ABIGATE_FORMAT_PE, 62, 0, 0, "python313t.dll", "PyInit_ext",
         "_Py_DecRefShared"},
        {"record-313t.pyd", ABIGATE_FORMAT_PE, 62, 0, 1, "python313t.dll", "PyInit_rec",
         "PyModule_Create2"},
        {"record-311-x86_64.darwin.so", ABIGATE_FORMAT_MACHO, 62, 0, 1, NULL, "PyInit_ext",
         "PyLong_FromLong"},
        {"universal2.darwin.so", ABIGATE_FORMAT_MACHO, 62, 2, 0, NULL, "PyInit_ext", "_Py_Dealloc"},
    };
    const char *src = getenv("ABIGATE_SRCDIR");
    ck_assert_msg(src != NULL, "ABIGATE_SRCDIR is not set: run through make check");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fuzz/seeds/%s", src, seeds[_i].name);
    abigate_file_info fi;
    abigate_error err;
    abigate_symbols *syms = abigate_symbols_new();
    ck_assert_msg(abigate_read_path(path, ABIGATE_READ_LEGACY, &fi, syms, &err) == ABIGATE_OK,
                  "%s: %s", path, err.message);
    ck_assert_uint_eq(fi.format, seeds[_i].format);
    ck_assert_uint_eq(fi.machine, seeds[_i].machine);
    ck_assert_uint_eq(fi.n_slices, seeds[_i].slices);
    if (seeds[_i].slices)
        ck_assert(fi.slice[0].machine == 62 && fi.slice[1].machine == 183);
    ck_assert_int_eq(fi.record_state,
                     seeds[_i].record ? ABIGATE_RECORD_PRESENT : ABIGATE_RECORD_ABSENT);
    if (seeds[_i].lib)
        ck_assert_str_eq(fi.libpython[0], seeds[_i].lib);
    else
        ck_assert_uint_eq(fi.n_libpython, 0);
    ck_assert_str_eq(fi.pyinit, seeds[_i].pyinit);
    ck_assert_msg(has(syms, seeds[_i].import), "%s imports %s", path, seeds[_i].import);
    abigate_symbols_free(syms);
}
END_TEST

Suite *make_pe_suite(void)
{
    Suite *s = suite_create("pe");
    TCase *tc = tcase_create("images");
    tcase_add_loop_test(tc, test_pe_imports, 0, 4);
    tcase_add_loop_test(tc, test_pe_delay, 0, 3);
    tcase_add_test(tc, test_pe_record);
    tcase_add_loop_test(tc, test_pe_native, 0, 7);
    tcase_add_loop_test(tc, test_pe_malformed, 0, N_MUTATIONS);
    tcase_add_loop_test(tc, test_pe_caps, 0, 2);
    tcase_add_test(tc, test_pe_not_pe);
    tcase_add_loop_test(tc, test_real_seeds, 0, 4);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
