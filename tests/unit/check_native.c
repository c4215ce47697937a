/* check_native.c -- the native record's reader (elf.c, "the native
 * record") over crafted images: 32- and 64-bit, both byte orders, each
 * relocation table kind (RELA, REL, RELR), both slot forms
 * (PyModuleDef_Slot, PySlot), and what must not give a record.  The real
 * files (gcc's output, sid's 3.15 modules) are tests/native/native.py's.
 *
 * One image: a PT_LOAD (read, write, execute) mapping the whole file at
 * vaddr 0, a PT_DYNAMIC naming one relocation table, a 12-byte PyABIInfo
 * at 0x200, a slot array at 0x220 ({Py_mod_abi, &info}, {Py_mod_exec,
 * 0x300}, {0, NULL}), the table at 0x280, "code" at 0x300. */
#include "suites.h"

#include "abigate/abigate.h"
#include "elfimage.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { RELA, REL, RELR };

struct config {
    struct elfimage_spec spec; /* class, byte order, machine */
    int is64, be, table, form; /* form 0 PyModuleDef_Slot, 1 PySlot */
    unsigned relative;
};

/* 64-bit: x86-64 (LE), s390x (BE); 32-bit: i386 (LE), PowerPC (BE) */
static struct config config_of(int i)
{
    struct config c;
    memset(&c, 0, sizeof c);
    c.is64 = i & 1;
    c.be = i >> 1 & 1;
    c.table = i >> 2 & 3;
    c.form = i >> 4 & 1;
    static const unsigned machine[2][2] = {{3, 20}, {62, 22}}, relative[2][2] = {{8, 22}, {8, 12}};
    c.spec.is64 = c.is64;
    c.spec.be = c.be;
    c.spec.machine = machine[c.is64][c.be];
    c.relative = relative[c.is64][c.be];
    return c;
}
#define N_CONFIGS 32 /* table 3 (i >> 2 & 3 == 3) is skipped */

static void put(const struct config *c, unsigned char *b, size_t off, unsigned width, uint64_t v)
{
    elfimage_put(&c->spec, b, off, width, v);
}

#define SIZE 0x320u
#define INFO 0x200u
#define SLOTS 0x220u
#define TABLE 0x280u
#define CODE 0x300u

/* Mutations of the image. */
enum { GOOD, MAJOR_2, TERMINATOR_SET, EXEC_UNRELOCATED, OUTSIDE, HUGE_TABLE, UNKNOWN_ID,
       /* the slot numbering: no Py_mod_abi ({Py_mod_create 84, ...}), or the
        * numbering before 3.15 ({Py_mod_create 1}, {Py_mod_exec 2}) */
       WITHOUT_ABI, OLD_NUMBERING,
       /* 3.15's alphas' numbering (pyo3-ffi 0.28): {Py_mod_abi 5, &info},
        * {Py_mod_exec 2, ...}; and with an ID that numbering lacks (14) */
       ALPHA, ALPHA_UNKNOWN,
       /* the same array whose "PyABIInfo" is a type slot's code (3.15's
        * Py_mp_subscript is 5): major 1, flags 0x8948 */
       ALPHA_CODE };

static void build(const struct config *c, int mutation, unsigned char *b)
{
    unsigned w = c->is64 ? 8 : 4, ehsize = c->is64 ? 64 : 52, phent = c->is64 ? 56 : 32;
    memset(b, 0, SIZE);
    elfimage_header(&c->spec, b, ehsize, 2, 0, 0);
    /* PT_LOAD read-write-execute over the file, PT_DYNAMIC at 0x100 */
    elfimage_phdr(&c->spec, b, ehsize, 1, 7, 0, SIZE, 0x1000);
    elfimage_phdr(&c->spec, b, ehsize + phent, 2, 6, 0x100, 4 * 2 * w, w);
    /* the PyABIInfo: 3.15.2, GIL, version-specific */
    b[INFO] = mutation == MAJOR_2 ? 2 : 1;
    put(c, b, INFO + 2, 2, mutation == ALPHA_CODE ? 0x8948 : 0x0002);
    put(c, b, INFO + 4, 4, 0x030f02f0);
    put(c, b, INFO + 8, 4, 0x030f02f0);
    /* the slot array */
    unsigned esize = c->form ? 16 : 2 * w, voff = c->form ? 8 : w;
    int alpha = mutation == ALPHA || mutation == ALPHA_UNKNOWN || mutation == ALPHA_CODE;
    uint64_t ids[3] = {mutation == WITHOUT_ABI ? 84 : mutation == OLD_NUMBERING ? 1 : alpha ? 5 : 109,
                       mutation == UNKNOWN_ID ? 999 : mutation == ALPHA_UNKNOWN ? 14
                       : mutation == OLD_NUMBERING || alpha ? 2 : 85, 0};
    uint64_t values[3] = {mutation == OUTSIDE ? 0x10000 : INFO, CODE, 0};
    uint64_t places[2];
    for (int k = 0; k < 3; k++) {
        size_t e = SLOTS + (size_t)k * esize;
        if (c->form)
            put(c, b, e, 2, ids[k]);
        else
            put(c, b, e, 4, ids[k]);
        if (k < 2)
            places[k] = e + voff;
        else if (mutation == TERMINATOR_SET)
            put(c, b, e + voff, w, CODE);
    }
    /* the relocations: RELATIVE, one per pointer (the exec one dropped) */
    int nrel = mutation == EXEC_UNRELOCATED ? 1 : 2;
    size_t ent = c->table == RELA ? 3 * w : c->table == REL ? 2 * w : w, size = 0;
    if (c->table == RELR) {
        put(c, b, TABLE, w, places[0]);
        size = w;
        if (nrel == 2) { /* a bitmap: bit k is the word k - 1 after the address's */
            uint64_t k = (places[1] - (places[0] + w)) / w + 1;
            put(c, b, TABLE + w, w, (uint64_t)1 << k | 1);
            size += w;
        }
    } else {
        for (int k = 0; k < nrel; k++) {
            put(c, b, TABLE + k * ent, w, places[k]);
            put(c, b, TABLE + k * ent + w, w, c->relative); /* symbol 0 */
            if (c->table == RELA)
                put(c, b, TABLE + k * ent + 2 * w, w, values[k]);
        }
        size = nrel * ent;
    }
    if (c->table != RELA) /* the addend in place */
        for (int k = 0; k < 2; k++)
            put(c, b, places[k], w, values[k]);
    if (mutation == HUGE_TABLE)
        size = (uint64_t)1 << 30;
    static const uint64_t tags[3][3] = {{7, 8, 9}, {17, 18, 19}, {36, 35, 37}};
    uint64_t dyn[4][2] = {{tags[c->table][0], TABLE}, {tags[c->table][1], size},
                          {tags[c->table][2], ent}, {0, 0}};
    for (int k = 0; k < 4; k++) {
        put(c, b, 0x100 + (size_t)k * 2 * w, w, dyn[k][0]);
        put(c, b, 0x100 + (size_t)k * 2 * w + w, w, dyn[k][1]);
    }
    memset(b + CODE, 0xc3, 16);
}

static const char *describe(const struct config *c)
{
    static char buf[64];
    static const char *const tables[] = {"RELA", "REL", "RELR"};
    snprintf(buf, sizeof buf, "%d-bit %s %s %s", c->is64 ? 64 : 32, c->be ? "BE" : "LE",
             tables[c->table], c->form ? "PySlot" : "PyModuleDef_Slot");
    return buf;
}

/* Build the image with `mutation` and read its first `len` bytes. */
static int read_image(const struct config *c, int mutation, size_t len, unsigned flags,
                      abigate_file_info *fi, abigate_error *err)
{
    unsigned char b[SIZE];
    build(c, mutation, b);
    return abigate_read_buffer(b, len, "m.so", flags, fi, NULL, err);
}

START_TEST(test_native_found)
{
    struct config c = config_of(_i);
    if (c.table > RELR)
        return;
    abigate_file_info fi;
    abigate_error err;
    int rc = read_image(&c, GOOD, SIZE, ABIGATE_READ_RECORD, &fi, &err);
    ck_assert_msg(rc == ABIGATE_OK, "%s: %s", describe(&c), err.message);
    ck_assert_msg(fi.record_state == ABIGATE_RECORD_PRESENT && fi.record_via == ABIGATE_VIA_PYABIINFO,
                  "%s: state %d via %d", describe(&c), fi.record_state, fi.record_via);
    ck_assert_uint_eq(fi.record.abiinfo.major, 1);
    ck_assert_uint_eq(fi.record.abiinfo.flags, 0x0002);
    ck_assert_uint_eq(fi.record.abiinfo.build_version, 0x030f02f0);
    ck_assert_uint_eq(fi.record.abiinfo.abi_version, 0x030f02f0);
    ck_assert_uint_eq(fi.record.pointer_size, c.is64 ? 8 : 4);
    ck_assert_uint_eq(fi.record_offset, INFO);
}
END_TEST

/* What must not give a record, and must not fail the read either. */
START_TEST(test_native_refused)
{
    struct config c = config_of(_i % N_CONFIGS);
    int mutation = 1 + _i / N_CONFIGS; /* MAJOR_2 .. UNKNOWN_ID */
    if (c.table > RELR)
        return;
    abigate_file_info fi;
    abigate_error err;
    int rc = read_image(&c, mutation, SIZE, ABIGATE_READ_LEGACY, &fi, &err);
    ck_assert_msg(rc == ABIGATE_OK, "%s, mutation %d: %s", describe(&c), mutation, err.message);
    ck_assert_msg(fi.record_state == ABIGATE_RECORD_ABSENT, "%s, mutation %d: state %d",
                  describe(&c), mutation, fi.record_state);
    /* cut anywhere past the dynamic part: never a crash, and no record
     * before the file holds the array, its relocations and the code its
     * exec slot points at */
    for (size_t cut = SLOTS; cut < SIZE; cut += 4) {
        read_image(&c, GOOD, cut, ABIGATE_READ_RECORD, &fi, &err);
        ck_assert_msg(fi.record_state != ABIGATE_RECORD_PRESENT || cut > CODE,
                      "%s cut at %zu: a record", describe(&c), cut);
    }
}
END_TEST

/* The slot numbering (FORMAT.md, "The native record", 6): an array of
 * 3.15's numbering proves 3.15+ headers with or without its Py_mod_abi;
 * the numbering before 3.15 proves nothing; an array that is not well
 * formed (its exec pointer not relocated, an unknown ID) neither.  The
 * alphas' numbering (Py_mod_abi 5 with a PyABIInfo) is slot_id_old 5 and no
 * record, in PyModuleDef_Slot form only (pyo3-ffi's; a 64-bit
 * little-endian PySlot has the same bytes); with an ID that
 * numbering lacks, or a "PyABIInfo" that is code, nothing. */
START_TEST(test_native_numbering)
{
    struct config c = config_of(_i);
    if (c.table > RELR)
        return;
    static const struct { int mutation, state; unsigned id; } cases[] = {
        {GOOD, ABIGATE_RECORD_PRESENT, 85},       {WITHOUT_ABI, ABIGATE_RECORD_ABSENT, 85},
        {OLD_NUMBERING, ABIGATE_RECORD_ABSENT, 0}, {EXEC_UNRELOCATED, ABIGATE_RECORD_ABSENT, 0},
        {UNKNOWN_ID, ABIGATE_RECORD_ABSENT, 0},    {ALPHA, ABIGATE_RECORD_ABSENT, 0},
        {ALPHA_UNKNOWN, ABIGATE_RECORD_ABSENT, 0}, {ALPHA_CODE, ABIGATE_RECORD_ABSENT, 0}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        abigate_file_info fi;
        abigate_error err;
        int rc = read_image(&c, cases[k].mutation, SIZE, ABIGATE_READ_LEGACY, &fi, &err);
        /* a 64-bit little-endian PySlot has PyModuleDef_Slot's bytes */
        unsigned old = cases[k].mutation == ALPHA && (c.form == 0 || (c.is64 && !c.be)) ? 5 : 0;
        ck_assert_msg(rc == ABIGATE_OK, "%s: %s", describe(&c), err.message);
        ck_assert_msg(fi.record_state == cases[k].state && fi.slot_id_315 == cases[k].id &&
                          fi.slot_id_old == old,
                      "%s, mutation %d: state %d, slot_id_315 %u, slot_id_old %u (want %d, %u, "
                      "%u)", describe(&c), cases[k].mutation, fi.record_state, fi.slot_id_315,
                      fi.slot_id_old, cases[k].state, cases[k].id, old);
    }
}
END_TEST

/* The PyModuleDef layout (FORMAT.md, "The native record", 7): a static
 * PyModuleDef at 0x240 of the image (no slot array), its m_name pointing at
 * "m" (the file is read as "m.so"), with each header CPython's headers
 * write: GIL with ob_refcnt 1 (3.8 to 3.12), UINT_MAX (3.12's core, 3.13;
 * 32-bit UINT_MAX >> 2), 3.14+'s immortal value; free-threaded with
 * ob_flags 0 (3.13t) or 4 (3.14t, 3.15t).  Not found: a relocated ob_type
 * (non-zero in place), another module's name, a refcount CPython never
 * writes, a file read without a name. */
#define DEF 0x240u
#define NAME_STR 0x310u

static size_t build_def(const struct config *c, int kind, unsigned char *b)
{
    unsigned w = c->is64 ? 8 : 4, ehsize = c->is64 ? 64 : 52;
    memset(b, 0, SIZE);
    elfimage_header(&c->spec, b, ehsize, 1, 0, 0);
    elfimage_phdr(&c->spec, b, ehsize, 1, 7, 0, SIZE, 0x1000);
    unsigned name;
    if (kind <= 2 || kind >= 5) { /* GIL */
        static const uint64_t r64[] = {1, 0xffffffffu, 0x00050000c0000000u};
        static const uint64_t r32[] = {1, 0x3fffffffu, 0x70000000u};
        int k = kind >= 5 ? 0 : kind;
        put(c, b, DEF, w, kind == 7 ? 2 : c->is64 ? r64[k] : r32[k]);
        if (kind == 5)
            put(c, b, DEF + w, w, CODE); /* ob_type relocated: a pointer in place */
        name = 5 * w;
    } else { /* free-threaded: ob_tid 0, ob_flags, ob_ref_local 0xffffffff */
        put(c, b, DEF + w, 2, kind == 4 ? 4 : 0);
        put(c, b, DEF + w + 4, 4, 0xffffffffu);
        name = c->is64 ? 56 : 32;
    }
    put(c, b, DEF + name, w, NAME_STR);          /* m_name */
    put(c, b, DEF + name + 2 * w, w, c->is64 ? UINT64_MAX : UINT32_MAX); /* m_size -1 */
    memcpy(b + NAME_STR, kind == 6 ? "other" : "pkg.m", 6);
    return SIZE;
}

START_TEST(test_moddef_layout)
{
    struct config c = config_of(_i % 4); /* 32/64-bit, LE/BE */
    int kind = _i / 4;
    static const unsigned want[] = {ABIGATE_MODDEF_GIL, ABIGATE_MODDEF_GIL, ABIGATE_MODDEF_GIL,
                                    ABIGATE_MODDEF_FREETHREADED, ABIGATE_MODDEF_FREETHREADED,
                                    0, 0, 0};
    unsigned char b[SIZE];
    size_t len = build_def(&c, kind, b);
    abigate_file_info fi;
    abigate_error err;
    ck_assert_int_eq(abigate_read_buffer(b, len, "m.so", ABIGATE_READ_LEGACY, &fi, NULL, &err),
                     ABIGATE_OK);
    ck_assert_msg(fi.moddef_layout == want[kind], "%s, kind %d: moddef_layout %u, want %u",
                  describe(&c), kind, fi.moddef_layout, want[kind]);
    /* the oldest headers that write that header; never a newest (255):
     * PyO3 0.28 writes ob_refcnt 1 for 3.15 and ob_flags 0 for 3.14t */
    static const unsigned vmin[] = {0, 12, 14, 13, 14, 0, 0, 0},
                          vmax[] = {255, 255, 255, 255, 255, 0, 0, 0};
    ck_assert_msg(fi.moddef_minor_min == vmin[kind] && fi.moddef_minor_max == vmax[kind],
                  "%s, kind %d: versions %u..%u", describe(&c), kind, fi.moddef_minor_min,
                  fi.moddef_minor_max);
    ck_assert_int_eq(abigate_read_buffer(b, len, NULL, ABIGATE_READ_LEGACY, &fi, NULL, &err),
                     ABIGATE_OK);
    ck_assert_uint_eq(fi.moddef_layout, 0); /* no file name: no module name to match */
}
END_TEST

/* Its PyModuleDef's own slots (m_slots, in place): a GIL definition
 * (ob_refcnt 1) whose m_slots points at 0x2c0: {4 Py_mod_gil, code},
 * {0, NULL}; {86 (3.15's Py_mod_multiple_interpreters), 1}, {0, NULL};
 * an ID of no numbering (99); a terminator whose value is not NULL. */
#define DEF_SLOTS 0x2c0u
START_TEST(test_moddef_slots)
{
    struct config c = config_of(_i % 4);
    int kind = _i / 4;
    unsigned w = c.is64 ? 8 : 4;
    unsigned char b[SIZE];
    size_t len = build_def(&c, 0, b);
    put(&c, b, DEF + 5 * w + 4 * w, w, DEF_SLOTS); /* m_slots */
    static const unsigned ids[4] = {4, 86, 99, 4};
    put(&c, b, DEF_SLOTS, 4, ids[kind]);
    put(&c, b, DEF_SLOTS + w, w, ids[kind] == 86 ? 1 : CODE);
    put(&c, b, DEF_SLOTS + 2 * w, 4, 0);
    put(&c, b, DEF_SLOTS + 3 * w, w, kind == 3 ? CODE : 0);
    abigate_file_info fi;
    abigate_error err;
    ck_assert_int_eq(abigate_read_buffer(b, len, "m.so", ABIGATE_READ_LEGACY, &fi, NULL, &err),
                     ABIGATE_OK);
    static const unsigned old[] = {4, 0, 0, 0}, new315[] = {0, 86, 0, 0};
    ck_assert_msg(fi.slot_id_old == old[kind] && fi.slot_id_315 == new315[kind],
                  "%s, kind %d: slot_id_old %u, slot_id_315 %u", describe(&c), kind,
                  fi.slot_id_old, fi.slot_id_315);
}
END_TEST

/* A PyModuleDef whose pointers are zero in place, as lld writes a RELA
 * file (rustc's default linker): m_name and m_slots found through their
 * RELATIVE relocations (a table at 0x1a0 named by PT_DYNAMIC), m_slots
 * {4 Py_mod_gil, NULL in place}, {0, NULL}.  _i / 4: 0 GIL, found; 1
 * free-threaded, found; 2 m_name not relocated, nothing; 3 m_name
 * relocated to another module's name, nothing. */
#define DEF_TABLE 0x1a0u
START_TEST(test_moddef_rela)
{
    struct config c = config_of(_i % 4);
    int kind = _i / 4;
    unsigned w = c.is64 ? 8 : 4, ehsize = c.is64 ? 64 : 52, phent = c.is64 ? 56 : 32;
    unsigned char b[SIZE];
    build_def(&c, kind == 1 ? 3 : 0, b);
    elfimage_header(&c.spec, b, ehsize, 2, 0, 0);
    elfimage_phdr(&c.spec, b, ehsize, 1, 7, 0, SIZE, 0x1000);
    elfimage_phdr(&c.spec, b, ehsize + phent, 2, 6, 0x100, 4 * 2 * w, w);
    unsigned name = kind == 1 ? (c.is64 ? 56 : 32) : 5 * w;
    put(&c, b, DEF + name, w, 0); /* m_name zero in place */
    put(&c, b, DEF_SLOTS, 4, 4);  /* {Py_mod_gil, NULL}, {0, NULL} */
    if (kind == 3)
        memcpy(b + NAME_STR + 8, "other", 6);
    uint64_t places[2] = {DEF + name, DEF + name + 4 * w};
    uint64_t values[2] = {kind == 3 ? NAME_STR + 8 : NAME_STR, DEF_SLOTS};
    unsigned nrel = kind == 2 ? 1 : 2, ent = 3 * w;
    for (unsigned k = 0; k < nrel; k++) {
        unsigned at = kind == 2 ? 1 : k; /* kind 2: m_slots only */
        put(&c, b, DEF_TABLE + k * ent, w, places[at]);
        put(&c, b, DEF_TABLE + k * ent + w, w, c.relative);
        put(&c, b, DEF_TABLE + k * ent + 2 * w, w, values[at]);
    }
    uint64_t dyn[4][2] = {{7, DEF_TABLE}, {8, nrel * ent}, {9, ent}, {0, 0}};
    for (int k = 0; k < 4; k++) {
        put(&c, b, 0x100 + (size_t)k * 2 * w, w, dyn[k][0]);
        put(&c, b, 0x100 + (size_t)k * 2 * w + w, w, dyn[k][1]);
    }
    abigate_file_info fi;
    abigate_error err;
    ck_assert_int_eq(abigate_read_buffer(b, SIZE, "m.so", ABIGATE_READ_LEGACY, &fi, NULL, &err),
                     ABIGATE_OK);
    static const unsigned layout[] = {ABIGATE_MODDEF_GIL, ABIGATE_MODDEF_FREETHREADED, 0, 0};
    ck_assert_msg(fi.moddef_layout == layout[kind] && fi.slot_id_old == (kind < 2 ? 4u : 0u),
                  "%s, kind %d: moddef_layout %u, slot_id_old %u", describe(&c), kind,
                  fi.moddef_layout, fi.slot_id_old);
}
END_TEST

/* The real bytes of tests/fuzz/seeds/alpha-{lld,bfd}.so (README there):
 * the alphas' numbering found (slot_id_old 5, no record), and the
 * PyModuleDef, in place (GNU ld) and through RELA relocations (lld). */
START_TEST(test_alpha_seeds)
{
    static const char *const names[] = {"alpha-lld.so", "alpha-bfd.so"};
    const char *src = getenv("ABIGATE_SRCDIR");
    ck_assert_msg(src != NULL, "ABIGATE_SRCDIR is not set: run through make check");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fuzz/seeds/%s", src, names[_i]);
    static unsigned char b[1 << 16];
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s: cannot open", path);
    size_t len = fread(b, 1, sizeof b, f);
    fclose(f);
    abigate_file_info fi;
    abigate_error err;
    ck_assert_int_eq(abigate_read_buffer(b, len, "fuzz.so", ABIGATE_READ_LEGACY, &fi, NULL, &err),
                     ABIGATE_OK);
    ck_assert_msg(fi.record_state == ABIGATE_RECORD_ABSENT && fi.slot_id_old == 5 &&
                      fi.moddef_layout == ABIGATE_MODDEF_GIL && fi.moddef_minor_min == 0,
                  "%s: record %d, slot_id_old %u, moddef_layout %u", names[_i], fi.record_state,
                  fi.slot_id_old, fi.moddef_layout);
}
END_TEST

Suite *make_native_suite(void)
{
    Suite *s = suite_create("native");
    TCase *tc = tcase_create("images");
    tcase_add_loop_test(tc, test_native_found, 0, N_CONFIGS);
    tcase_add_loop_test(tc, test_native_refused, 0, N_CONFIGS * (UNKNOWN_ID - GOOD));
    tcase_add_loop_test(tc, test_native_numbering, 0, N_CONFIGS);
    tcase_add_loop_test(tc, test_moddef_layout, 0, 4 * 8);
    tcase_add_loop_test(tc, test_moddef_rela, 0, 4 * 4);
    tcase_add_loop_test(tc, test_alpha_seeds, 0, 2);
    tcase_add_loop_test(tc, test_moddef_slots, 0, 4 * 4);
    suite_add_tcase(s, tc);
    return s;
}
