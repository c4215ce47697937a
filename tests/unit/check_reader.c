/* check_reader.c -- the reader over crafted in-memory ELF images. */
#include "suites.h"

#include "libabigate/internal.h"
#include "abigate/abigate.h"
#include "elfimage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CAP (64 * 1024)

/* _i encodes the variant: bit0 64-bit, bit1 big-endian */
static struct elfimage_spec variant(int i)
{
    struct elfimage_spec s;
    memset(&s, 0, sizeof s);
    s.is64 = i & 1;
    s.be = (i >> 1) & 1;
    s.machine = s.is64 ? (s.be ? 22 : 62) : (s.be ? 20 : 3);
    return s;
}

/* Both buffers hold the same names, in the same order. */
static void expect_same_names(const abigate_symbols *a, const abigate_symbols *b)
{
    ck_assert_uint_eq(a->count, b->count);
    for (unsigned i = 0; i < a->count; i++)
        ck_assert_str_eq(abigate_symbols_name(a, i), abigate_symbols_name(b, i));
}

static void expect_sample(const abigate_file_info *fi)
{
    ck_assert_int_eq(fi->record_state, ABIGATE_RECORD_PRESENT);
    ck_assert_uint_eq(fi->record.abiinfo.flags, ABIGATE_ABIINFO_GIL);
    ck_assert_uint_eq(fi->record.abiinfo.build_version, 0x030d01f0);
    ck_assert_uint_eq(fi->record.flags, ABIGATE_REC_HOOK_PYINIT);
    ck_assert_uint_eq(fi->record.pointer_size, 8);
}

START_TEST(test_note_via_phdr_only)
{
    struct elfimage_spec s = variant(_i);
    struct elfimage_layout l;
    unsigned char desc[40], *buf = malloc(CAP);
    abigate_file_info fi;
    abigate_error err;
    s.desc = desc;
    s.desclen = elfimage_sample_record(desc, s.be);
    s.note_in_phdr = 1;
    ck_assert_uint_gt(elfimage_build(&s, buf, CAP, &l), 0);
    ck_assert_int_eq(abigate_read_buffer(buf, l.size, NULL, 0, &fi, NULL, &err), ABIGATE_OK);
    ck_assert_uint_eq(fi.elf_class, s.is64 ? 64 : 32);
    ck_assert_uint_eq(fi.big_endian, (unsigned)s.be);
    ck_assert_uint_eq(fi.machine, s.machine);
    ck_assert_int_eq(fi.record_via, ABIGATE_VIA_PT_NOTE);
    ck_assert_uint_eq(fi.record_offset, l.desc_off);
    expect_sample(&fi);
    free(buf);
}
END_TEST

START_TEST(test_note_via_section_only)
{
    struct elfimage_spec s = variant(_i);
    struct elfimage_layout l;
    unsigned char desc[40], *buf = malloc(CAP);
    abigate_file_info fi;
    s.desc = desc;
    s.desclen = elfimage_sample_record(desc, s.be);
    s.note_in_shdr = 1;
    ck_assert_uint_gt(elfimage_build(&s, buf, CAP, &l), 0);
    ck_assert_int_eq(abigate_read_buffer(buf, l.size, NULL, 0, &fi, NULL, NULL), ABIGATE_OK);
    ck_assert_int_eq(fi.record_via, ABIGATE_VIA_SECTION);
    ck_assert_uint_eq(fi.record_offset, l.desc_off);
    expect_sample(&fi);
    free(buf);
}
END_TEST

/* Section headers stripped (e_shoff = e_shnum = 0): PT_NOTE still finds it. */
START_TEST(test_sections_stripped)
{
    struct elfimage_spec s = variant(_i);
    struct elfimage_layout l;
    unsigned char desc[40], *buf = malloc(CAP);
    abigate_file_info fi;
    s.desc = desc;
    s.desclen = elfimage_sample_record(desc, s.be);
    s.note_in_phdr = s.note_in_shdr = 1;
    ck_assert_uint_gt(elfimage_build(&s, buf, CAP, &l), 0);
    elfimage_put(&s, buf, s.is64 ? 40 : 32, s.is64 ? 8 : 4, 0);
    elfimage_put(&s, buf, s.is64 ? 60 : 48, 2, 0);
    ck_assert_int_eq(abigate_read_buffer(buf, l.size, NULL, 0, &fi, NULL, NULL), ABIGATE_OK);
    ck_assert_int_eq(fi.record_via, ABIGATE_VIA_PT_NOTE);
    expect_sample(&fi);
    free(buf);
}
END_TEST

START_TEST(test_no_record)
{
    struct elfimage_spec s = variant(_i);
    struct elfimage_layout l;
    unsigned char *buf = malloc(CAP);
    abigate_file_info fi;
    s.note_in_phdr = s.note_in_shdr = 1;
    ck_assert_uint_gt(elfimage_build(&s, buf, CAP, &l), 0);
    ck_assert_int_eq(abigate_read_buffer(buf, l.size, NULL, 0, &fi, NULL, NULL), ABIGATE_OK);
    ck_assert_int_eq(fi.record_state, ABIGATE_RECORD_ABSENT);
    ck_assert_int_eq(fi.record_via, ABIGATE_VIA_NONE);
    free(buf);
}
END_TEST

/* Legacy facts, from SHT_DYNSYM (dynsym_section) or from DT_SYMTAB+DT_HASH. */
START_TEST(test_legacy_facts)
{
    struct elfimage_spec s = variant(_i & 3);
    struct elfimage_layout l;
    unsigned char *buf = malloc(CAP);
    abigate_file_info fi;
    abigate_symbols *syms = malloc(sizeof *syms);
    abigate_error err;
    s.note_in_phdr = 1;
    s.dynamic = 1;
    s.dynsym_section = _i >> 2;
    ck_assert_uint_gt(elfimage_build(&s, buf, CAP, &l), 0);
    int rc = abigate_read_buffer(buf, l.size, "/x/demo.cpython-311-x86_64-linux-gnu.so",
                                 ABIGATE_READ_LEGACY, &fi, syms, &err);
    ck_assert_msg(rc == ABIGATE_OK, "%s", err.message);
    ck_assert_int_eq(fi.legacy_read, 1);
    ck_assert_uint_eq(fi.n_needed, 1);
    ck_assert_uint_eq(fi.n_libpython, 1);
    ck_assert_str_eq(fi.libpython[0], "libpython3.11.so.1.0");
    ck_assert_uint_eq(fi.n_pyinit, 1);
    ck_assert_str_eq(fi.pyinit, "PyInit_demo");
    ck_assert_uint_eq(fi.n_modexport, 0);
    ck_assert_uint_eq(fi.n_pysyms, 2);
    ck_assert_uint_eq(fi.n_pysyms_weak, 1);
    ck_assert_uint_eq(syms->count, 2);
    ck_assert_str_eq(abigate_symbols_name(syms, 0), "PyLong_FromLong");
    ck_assert_uint_eq(syms->sym[0].weak, 0);
    ck_assert_str_eq(abigate_symbols_name(syms, 1), "_Py_Dealloc");
    ck_assert_uint_eq(syms->sym[1].weak, 1);
    ck_assert_ptr_null(abigate_symbols_name(syms, 2));
    ck_assert_int_eq(fi.tag.kind, ABIGATE_TAG_CPYTHON);
    ck_assert_uint_eq(fi.tag.minor, 11);
    free(syms);
    free(buf);
}
END_TEST

/* A record major this reader does not know: the file reads, the state says so. */
START_TEST(test_unsupported_major)
{
    struct elfimage_spec s = variant(1);
    struct elfimage_layout l;
    unsigned char desc[40], *buf = malloc(CAP);
    abigate_file_info fi;
    s.desc = desc;
    s.desclen = elfimage_sample_record(desc, 0);
    desc[4] = 7;
    desc[5] = 2;
    s.note_in_phdr = 1;
    ck_assert_uint_gt(elfimage_build(&s, buf, CAP, &l), 0);
    ck_assert_int_eq(abigate_read_buffer(buf, l.size, NULL, 0, &fi, NULL, NULL), ABIGATE_OK);
    ck_assert_int_eq(fi.record_state, ABIGATE_RECORD_UNSUPPORTED);
    ck_assert_uint_eq(fi.record.major, 7);
    ck_assert_uint_eq(fi.record.minor, 2);
    free(buf);
}
END_TEST

/* Two identical notes (one record emitted twice) are one record. */
START_TEST(test_duplicate_identical)
{
    struct elfimage_spec s = variant(1);
    struct elfimage_layout l;
    unsigned char desc[40], *buf = malloc(CAP);
    abigate_file_info fi;
    s.desc = s.desc2 = desc;
    s.desclen = s.desc2len = elfimage_sample_record(desc, 0);
    s.note_in_phdr = 1;
    ck_assert_uint_gt(elfimage_build(&s, buf, CAP, &l), 0);
    ck_assert_int_eq(abigate_read_buffer(buf, l.size, NULL, 0, &fi, NULL, NULL), ABIGATE_OK);
    expect_sample(&fi);
    free(buf);
}
END_TEST

struct counting {
    const unsigned char *p;
    size_t len;
    int calls;
};

static long counting_read(void *ctx, void *buf, size_t len, uint64_t off)
{
    struct counting *c = ctx;
    c->calls++;
    if (off >= c->len)
        return 0;
    size_t n = c->len - off < len ? c->len - off : len;
    memcpy(buf, c->p + off, n);
    return (long)n;
}

/* The design promise: header, program headers and note in the first 4 KiB
 * cost one read, whatever else the file holds after them. */
START_TEST(test_record_costs_one_read)
{
    struct elfimage_spec s = variant(1);
    struct elfimage_layout l;
    unsigned char desc[40], *buf = malloc(CAP);
    abigate_file_info fi;
    s.desc = desc;
    s.desclen = elfimage_sample_record(desc, 0);
    s.note_in_phdr = s.note_in_shdr = 1;
    s.dynamic = s.dynsym_section = 1;
    s.pad_to = 40000;
    ck_assert_uint_gt(elfimage_build(&s, buf, CAP, &l), 0);
    struct counting c = {buf, l.size, 0};
    abigate_io io = {counting_read, &c, l.size};
    ck_assert_int_eq(abigate_read_io(&io, NULL, ABIGATE_READ_RECORD, &fi, NULL, NULL),
                     ABIGATE_OK);
    expect_sample(&fi);
    ck_assert_int_eq(c.calls, 1);
    free(buf);
}
END_TEST

/* Reading by path and by fd gives the same as from memory, for a file read
 * whole by the first read (no fstat), one exactly that size, and larger
 * ones whose section table lies past it. */
static const size_t fd_sizes[] = {0, 16383, 16384, 16385, 40000};

START_TEST(test_path_and_fd)
{
    struct elfimage_spec s = variant(1);
    struct elfimage_layout l;
    unsigned char desc[40], *buf = malloc(CAP);
    abigate_file_info a, b, m;
    static abigate_symbols sa, sm;
    char path[] = "/tmp/abigate-check-XXXXXX";
    s.desc = desc;
    s.desclen = elfimage_sample_record(desc, 0);
    s.note_in_phdr = s.note_in_shdr = 1;
    s.dynamic = s.dynsym_section = 1;
    s.pad_to = fd_sizes[_i];
    ck_assert_uint_gt(elfimage_build(&s, buf, CAP, &l), 0);
    ck_assert_uint_ge(l.size, fd_sizes[_i]);
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, buf, l.size), (ssize_t)l.size);
    ck_assert_int_eq(abigate_read_buffer(buf, l.size, path, ABIGATE_READ_LEGACY, &m, &sm, NULL),
                     ABIGATE_OK);
    ck_assert_int_eq(abigate_read_path(path, ABIGATE_READ_LEGACY, &a, &sa, NULL), ABIGATE_OK);
    ck_assert_int_eq(abigate_read_fd(fd, path, ABIGATE_READ_LEGACY, &b, NULL, NULL), ABIGATE_OK);
    close(fd);
    unlink(path);
    ck_assert_int_eq(memcmp(&a, &m, sizeof a), 0);
    ck_assert_int_eq(memcmp(&b, &m, sizeof b), 0);
    ck_assert_uint_eq(a.file_size, l.size);
    expect_sample(&a);
    ck_assert_uint_eq(a.n_pysyms, 2);
    expect_same_names(&sa, &sm);
    free(buf);
}
END_TEST

/* Py names of every length from 2 to 80, two of one length that differ in
 * one late byte, and names that share long prefixes: the reader hashes
 * each as it finds its end (eight bytes a step, or by memchr near the end
 * of the table), the index by the C string; the two must agree. */
#define N_NAMES 83
static char name_store[N_NAMES][96];
static const char *names[N_NAMES + 1];

static void make_names(void)
{
    unsigned n = 0;
    for (unsigned len = 2; len <= 80; len++, n++) {
        memcpy(name_store[n], len % 3 ? "Py" : "_Py", len % 3 ? 2 : 3);
        for (unsigned k = len % 3 ? 2 : 3; k < len; k++)
            name_store[n][k] = (char)('A' + (k * 7 + len) % 26);
        name_store[n][len] = '\0';
    }
    strcpy(name_store[n++], "PyUnicode_DecodeUTF16Stateful");
    strcpy(name_store[n++], "PyUnicode_DecodeUTF32Stateful");
    strcpy(name_store[n++], "PyUnicode_DecodeUTF32");
    strcpy(name_store[n++], "PyUnicode_DecodeUTF32Statefu");
    for (unsigned i = 0; i < n; i++)
        names[i] = name_store[i];
    names[n] = NULL;
}

static int listed(const abigate_symbols *syms, const char *name)
{
    for (unsigned i = 0; i < syms->count; i++)
        if (!strcmp(abigate_symbols_name(syms, i), name))
            return 1;
    return 0;
}

/* How many names of `syms` that are not weak `set` lacks, as
 * abigate_decide counts them. */
static unsigned missing_from(const abigate_symbols *set, const abigate_symbols *syms)
{
    unsigned n = 0;
    for (unsigned i = 0; i < syms->count; i++)
        n += !syms->sym[i].weak && !abigate__symbols_has(set, syms, i);
    return n;
}

/* Fill `syms` by hand (no kept hashes) with names[] but the one at `skip`. */
static void fill_by_hand(abigate_symbols *syms, int skip)
{
    memset(syms, 0, offsetof(abigate_symbols, pool));
    syms->hashed = 0;
    for (int i = 0; names[i]; i++) {
        if (i == skip)
            continue;
        size_t n = strlen(names[i]) + 1;
        memcpy(syms->pool + syms->pool_used, names[i], n);
        syms->sym[syms->count++].name = (uint32_t)syms->pool_used;
        syms->pool_used += n;
    }
}

START_TEST(test_symbol_index)
{
    struct elfimage_spec s = variant(_i);
    struct elfimage_layout l;
    unsigned char *buf = malloc(CAP);
    abigate_file_info fi;
    abigate_symbols *read = abigate_symbols_new(), *hand = abigate_symbols_new();
    make_names();
    s.dynamic = s.dynsym_section = 1;
    s.imports = names;
    ck_assert_uint_gt(elfimage_build(&s, buf, CAP, &l), 0);
    ck_assert_int_eq(abigate_read_buffer(buf, l.size, NULL, ABIGATE_READ_LEGACY, &fi, read, NULL),
                     ABIGATE_OK);
    ck_assert_uint_eq(read->count, N_NAMES + 2); /* and PyLong_FromLong, _Py_Dealloc */
    ck_assert_uint_eq(read->hashed, 1);
    abigate_symbols_index(read);
    for (int i = 0; names[i]; i++) {
        char probe[128];
        size_t n = strlen(names[i]);
        ck_assert_msg(abigate_symbols_contains(read, names[i]), "%s not found", names[i]);
        /* one byte more, one less, the last one changed: found only if listed */
        snprintf(probe, sizeof probe, "%sx", names[i]);
        ck_assert_int_eq(abigate_symbols_contains(read, probe), listed(read, probe));
        memcpy(probe, names[i], n - 1);
        probe[n - 1] = '\0';
        ck_assert_int_eq(abigate_symbols_contains(read, probe), listed(read, probe));
        probe[n - 1] = names[i][n - 1] == 'Q' ? 'R' : 'Q';
        probe[n] = '\0';
        ck_assert_int_eq(abigate_symbols_contains(read, probe), listed(read, probe));
    }
    /* the reader's kept hashes against an index built from the C strings:
     * PyLong_FromLong is missing (_Py_Dealloc is weak), and one more each */
    fill_by_hand(hand, -1);
    abigate_symbols_index(hand);
    ck_assert_uint_eq(missing_from(hand, read), 1);
    for (int skip = 0; names[skip]; skip += 9) {
        fill_by_hand(hand, skip);
        abigate_symbols_index(hand);
        ck_assert_uint_eq(missing_from(hand, read), 2);
        ck_assert_int_eq(abigate_symbols_contains(hand, names[skip]), 0);
    }
    /* and the reverse: hand-filled names against the read buffer's index */
    fill_by_hand(hand, -1);
    ck_assert_uint_eq(missing_from(read, hand), 0);
    abigate_symbols_free(read);
    abigate_symbols_free(hand);
    free(buf);
}
END_TEST

/* abigate_symbols_sort on buffers the reader filled (kept hashes): sorted
 * before any index, and indexed then sorted.  Every name is still found,
 * both as a looked-up set and as a file's imports, and abigate_decide with
 * such a buffer as an interpreter's exports accepts the file whose imports
 * it lists (issue 24: the hashes once stayed in file order and decide then
 * refused good files with ABIGATE_R_MISSING_SYMBOLS). */
START_TEST(test_sorted_read)
{
    struct elfimage_spec s = variant(_i >> 1);
    struct elfimage_layout l;
    unsigned char *buf = malloc(CAP);
    abigate_file_info fi, fi2;
    abigate_symbols *file = abigate_symbols_new(), *exp = abigate_symbols_new();
    make_names();
    s.dynamic = s.dynsym_section = 1;
    s.imports = names;
    ck_assert_uint_gt(elfimage_build(&s, buf, CAP, &l), 0);
    ck_assert_int_eq(abigate_read_buffer(buf, l.size, NULL, ABIGATE_READ_LEGACY, &fi, file, NULL),
                     ABIGATE_OK);
    ck_assert_int_eq(abigate_read_buffer(buf, l.size, NULL, ABIGATE_READ_LEGACY, &fi2, exp, NULL),
                     ABIGATE_OK);
    ck_assert_uint_eq(exp->hashed, 1);
    if (_i & 1)
        abigate_symbols_index(exp); /* indexed in file order first */
    abigate_symbols_sort(exp);
    ck_assert_uint_eq(exp->sorted, 1);
    for (unsigned i = 1; i < exp->count; i++)
        ck_assert_int_lt(strcmp(abigate_symbols_name(exp, i - 1), abigate_symbols_name(exp, i)), 0);
    for (unsigned i = 0; i < exp->count; i++)
        ck_assert_msg(abigate_symbols_contains(exp, abigate_symbols_name(exp, i)), "%s lost",
                      abigate_symbols_name(exp, i));
    ck_assert_uint_eq(missing_from(exp, file), 0);
    ck_assert_uint_eq(missing_from(file, exp), 0); /* the sorted buffer as a file's imports */
    abigate_symbols_sort(file);                    /* both sorted */
    ck_assert_uint_eq(missing_from(exp, file), 0);

    abigate_profile p;
    abigate_policy pol = {ABIGATE_MODE_STRICT, 0};
    abigate_verdict v;
    ck_assert_int_eq(abigate_profile_parse(&p, "3.11", NULL), ABIGATE_OK);
    p.elf_class = fi.elf_class;
    p.machine = fi.machine;
    p.big_endian = fi.big_endian;
    p.pointer_size = fi.elf_class / 8;
    p.exports = exp;
    ck_assert_int_eq(abigate_decide(&fi, file, &p, &pol, &v), ABIGATE_ACCEPT);
    ck_assert_int_ne(v.reason, ABIGATE_R_MISSING_SYMBOLS);
    abigate_symbols_free(file);
    abigate_symbols_free(exp);
    free(buf);
}
END_TEST

/* Past the head, the section headers and the dynamic part within 16 KiB of
 * each other are read by one read (read_tail); farther apart, each by its
 * own.  Either way the facts are those of the same image read from memory. */
START_TEST(test_tail_read)
{
    struct elfimage_spec s = variant(_i & 3);
    struct elfimage_layout l;
    unsigned char *buf = malloc(CAP);
    abigate_file_info fi, mem;
    abigate_symbols *a = abigate_symbols_new(), *b = abigate_symbols_new();
    int apart = _i >= 4;
    s.dynamic = s.dynsym_section = 1;
    s.dynamic_at = 20000;
    s.shdrs_gap = apart ? 20000 : 0;
    ck_assert_uint_gt(elfimage_build(&s, buf, CAP, &l), 0);
    ck_assert_uint_gt(l.dyn_off, 16384);
    struct counting c = {buf, l.size, 0};
    abigate_io io = {counting_read, &c, l.size};
    ck_assert_int_eq(abigate_read_io(&io, NULL, ABIGATE_READ_LEGACY, &fi, a, NULL), ABIGATE_OK);
    ck_assert_int_eq(abigate_read_buffer(buf, l.size, NULL, ABIGATE_READ_LEGACY, &mem, b, NULL),
                     ABIGATE_OK);
    ck_assert_int_eq(memcmp(&fi, &mem, sizeof fi), 0);
    ck_assert_uint_eq(fi.n_pysyms, 2);
    expect_same_names(a, b);
    /* the head, then the tail (section headers, dynamic segment and the
     * tables between them); apart: the head, the section headers, the
     * dynamic segment, the string table, the symbol table */
    ck_assert_int_eq(c.calls, (apart ? 5 : 2));
    abigate_symbols_free(a);
    abigate_symbols_free(b);
    free(buf);
}
END_TEST

/* A file larger than the head, read from a descriptor, is parsed without
 * its size (read_fd): the read of the section headers that reaches the
 * end of the file gives it (in the tail with the dynamic part, or alone
 * when they lie apart), else it is asked when needed.  Whole or cut short
 * anywhere past the head (in the section headers, in the dynamic part),
 * with and without a record, the descriptor gives the same facts or the
 * same error as the bytes read from memory. */
static const size_t cut_by[] = {0, 1, 40, 300, 2000};

START_TEST(test_fd_size_unknown)
{
    struct elfimage_spec s = variant(1);
    struct elfimage_layout l;
    unsigned char desc[40], *buf = malloc(CAP);
    abigate_file_info a, m;
    abigate_error ea, em;
    char path[] = "/tmp/abigate-check-XXXXXX";
    int with_record = _i % 10 >= 5, apart = _i >= 10;
    size_t cut = cut_by[_i % 5];
    if (with_record) {
        s.desc = desc;
        s.desclen = elfimage_sample_record(desc, 0);
        s.note_in_phdr = 1;
    }
    s.dynamic = s.dynsym_section = 1;
    s.dynamic_at = 20000;
    s.shdrs_gap = apart ? 20000 : 0;
    ck_assert_uint_gt(elfimage_build(&s, buf, CAP, &l), 0);
    size_t size = l.size - cut;
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, buf, size), (ssize_t)size);
    for (unsigned flags = ABIGATE_READ_RECORD; flags <= ABIGATE_READ_LEGACY; flags++) {
        int rm = abigate_read_buffer(buf, size, NULL, flags, &m, NULL, &em);
        int ra = abigate_read_fd(fd, NULL, flags, &a, NULL, &ea);
        ck_assert_int_eq(ra, rm);
        ck_assert_int_eq(ea.code, em.code);
        if (rm == ABIGATE_OK) {
            ck_assert_int_eq(memcmp(&a, &m, sizeof a), 0);
            ck_assert_uint_eq(a.file_size, size);
        }
    }
    ck_assert_int_eq(abigate_read_fd(fd, NULL, ABIGATE_READ_LEGACY, &a, NULL, &ea),
                     cut ? ABIGATE_E_SH_BOUNDS : ABIGATE_OK);
    close(fd);
    unlink(path);
    free(buf);
}
END_TEST

/* The same, over 3000 images with a few bytes changed in the headers, the
 * dynamic part or the section headers (a fixed pseudo-random sequence):
 * whatever the descriptor's read decides without the size, it decides as
 * the read from memory, where the size is known from the start. */
START_TEST(test_fd_matches_memory)
{
    struct elfimage_spec s = variant(1);
    s.shdrs_gap = _i ? 20000 : 0; /* the section headers with the dynamic part, or apart */
    struct elfimage_layout l;
    unsigned char *img = malloc(CAP), *buf = malloc(CAP);
    abigate_symbols *sa = abigate_symbols_new(), *sm = abigate_symbols_new();
    char path[] = "/tmp/abigate-check-XXXXXX";
    s.dynamic = s.dynsym_section = 1;
    s.dynamic_at = 20000;
    ck_assert_uint_gt(elfimage_build(&s, img, CAP, &l), 0);
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int k = 0; k < 3000; k++) {
        memcpy(buf, img, l.size);
        size_t size = l.size;
        for (int n = 0; n < 3; n++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t at;
            switch (x % 4) {
            case 0: at = x >> 8 & 63; break;                               /* ELF header */
            case 1: at = l.phoff + (x >> 8) % (3 * l.phentsize); break;   /* program headers */
            case 2: at = l.dyn_off + (x >> 8) % (l.shoff - l.dyn_off); break; /* dynamic part */
            default: at = l.shoff + (x >> 8) % (size - l.shoff); break;   /* section headers */
            }
            buf[at] ^= (unsigned char)(1u << (x >> 40 & 7));
        }
        if (x >> 50 & 1)
            size -= (size_t)(x >> 20) % 600; /* and cut short */
        ck_assert_int_eq(ftruncate(fd, 0), 0);
        ck_assert_int_eq(pwrite(fd, buf, size, 0), (ssize_t)size);
        abigate_file_info a, m;
        abigate_error ea, em;
        int rm = abigate_read_buffer(buf, size, NULL, ABIGATE_READ_LEGACY, &m, sm, &em);
        int ra = abigate_read_fd(fd, NULL, ABIGATE_READ_LEGACY, &a, sa, &ea);
        ck_assert_msg(ra == rm && ea.code == em.code, "image %d: fd %d (%s), memory %d (%s)", k,
                      ra, ea.message, rm, em.message);
        if (rm != ABIGATE_OK)
            continue;
        ck_assert_int_eq(memcmp(&a, &m, sizeof a), 0);
        expect_same_names(sa, sm);
    }
    close(fd);
    unlink(path);
    abigate_symbols_free(sa);
    abigate_symbols_free(sm);
    free(img);
    free(buf);
}
END_TEST

/* The structures that grow (abigate.h): a caller compiled against other
 * headers passes its own sizeof through the macros.  Called here through
 * the sized entry points with the sizes such callers would pass: a newer
 * caller (bigger) gets the same fields and zeros past them, an older one
 * (smaller, here: cut at the first published size) gets exactly its bytes
 * and nothing written past them, and one smaller than the first published
 * size is refused.  The same for a verdict, and for a judged input. */
START_TEST(test_sized_structures)
{
    struct elfimage_spec s = variant(0);
    struct elfimage_layout l;
    unsigned char desc[40], *buf = malloc(CAP);
    s.desc = desc;
    s.desclen = elfimage_sample_record(desc, s.be);
    s.note_in_phdr = 1;
    ck_assert_uint_gt(elfimage_build(&s, buf, CAP, &l), 0);
    abigate_file_info want;
    ck_assert_int_eq(abigate_read_buffer(buf, l.size, "m.so", 0, &want, NULL, NULL), ABIGATE_OK);

    enum { PAD = 64 };
    unsigned char big[sizeof(abigate_file_info) + PAD];
    memset(big, 0xa5, sizeof big);
    ck_assert_int_eq(abigate_read_buffer_(buf, l.size, "m.so", 0, (abigate_file_info *)big,
                                          sizeof big, NULL, NULL), ABIGATE_OK);
    ck_assert_int_eq(memcmp(big, &want, sizeof want), 0);
    for (size_t k = sizeof want; k < sizeof big; k++)
        ck_assert_uint_eq(big[k], 0);

    size_t first = ABIGATE__FILE_INFO_MIN;
    unsigned char old[sizeof(abigate_file_info) + PAD];
    memset(old, 0xa5, sizeof old);
    ck_assert_int_eq(abigate_read_buffer_(buf, l.size, "m.so", 0, (abigate_file_info *)old, first,
                                          NULL, NULL), ABIGATE_OK);
    ck_assert_int_eq(memcmp(old, &want, first), 0);
    for (size_t k = first; k < sizeof old; k++)
        ck_assert_uint_eq(old[k], 0xa5);

    abigate_error err;
    ck_assert_int_eq(abigate_read_buffer_(buf, l.size, "m.so", 0, (abigate_file_info *)old,
                                          first - 1, NULL, &err), ABIGATE_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(err.message, "abigate_read_buffer"));

    /* a verdict: the same, and a bigger file_info read back by decide */
    abigate_profile p;
    ck_assert_int_eq(abigate_profile_parse(&p, "3.13", NULL), ABIGATE_OK);
    abigate_policy pol = {ABIGATE_MODE_STRICT, 0};
    abigate_verdict vw;
    memset(&vw, 0, sizeof vw); /* decide leaves the message's tail as it was */
    int kind = abigate_decide(&want, NULL, &p, &pol, &vw);
    ck_assert_int_ge(kind, 0);
    unsigned char vb[sizeof(abigate_verdict) + PAD];
    memset(vb, 0xa5, sizeof vb);
    ck_assert_int_eq(abigate_decide_((const abigate_file_info *)big, sizeof big, NULL, &p,
                                     sizeof p, &pol, (abigate_verdict *)vb, sizeof vb), kind);
    ck_assert_int_eq(memcmp(vb, &vw, sizeof vw), 0);
    for (size_t k = sizeof vw; k < sizeof vb; k++)
        ck_assert_uint_eq(vb[k], 0);
    ck_assert_int_eq(abigate_decide_(&want, sizeof want, NULL, &p, sizeof p, &pol,
                                     (abigate_verdict *)vb, ABIGATE__VERDICT_MIN - 1),
                     ABIGATE_E_INVALID_ARG);
    /* a profile: a bigger caller's is read; a smaller one than the first is refused */
    unsigned char pb[sizeof(abigate_profile) + PAD];
    memset(pb, 0, sizeof pb);
    memcpy(pb, &p, sizeof p);
    ck_assert_int_eq(abigate_decide_(&want, sizeof want, NULL, (const abigate_profile *)pb,
                                     sizeof pb, &pol, &vw, sizeof vw), kind);
    ck_assert_int_eq(abigate_decide_(&want, sizeof want, NULL, (const abigate_profile *)pb,
                                     ABIGATE__PROFILE_MIN - 1, &pol, &vw, sizeof vw),
                     ABIGATE_E_INVALID_ARG);
    memset(pb, 0xa5, sizeof pb);
    ck_assert_int_eq(abigate_profile_parse_((abigate_profile *)pb, sizeof pb, "3.13t", NULL),
                     ABIGATE_OK);
    for (size_t k = sizeof(abigate_profile); k < sizeof pb; k++)
        ck_assert_uint_eq(pb[k], 0);
    ck_assert_str_eq(abigate_verdict_rule_((const abigate_verdict *)vb, 1), "ABIGATE_E_INVALID_ARG");
    ck_assert_str_eq(abigate_verdict_rule(&vw), abigate_verdict_rule_((abigate_verdict *)vb, sizeof vb));
    free(buf);
}
END_TEST

Suite *make_reader_suite(void)
{
    Suite *s = suite_create("reader");
    TCase *tc = tcase_create("images");
    tcase_add_loop_test(tc, test_note_via_phdr_only, 0, 4);
    tcase_add_loop_test(tc, test_note_via_section_only, 0, 4);
    tcase_add_loop_test(tc, test_sections_stripped, 0, 4);
    tcase_add_loop_test(tc, test_no_record, 0, 4);
    tcase_add_loop_test(tc, test_legacy_facts, 0, 8);
    tcase_add_test(tc, test_unsupported_major);
    tcase_add_test(tc, test_duplicate_identical);
    tcase_add_test(tc, test_record_costs_one_read);
    tcase_add_loop_test(tc, test_path_and_fd, 0, (int)(sizeof fd_sizes / sizeof fd_sizes[0]));
    tcase_add_loop_test(tc, test_symbol_index, 0, 4);
    tcase_add_loop_test(tc, test_sorted_read, 0, 8);
    tcase_add_loop_test(tc, test_tail_read, 0, 8);
    tcase_add_loop_test(tc, test_fd_size_unknown, 0, 20);
    tcase_add_loop_test(tc, test_fd_matches_memory, 0, 2);
    tcase_add_test(tc, test_sized_structures);
    suite_add_tcase(s, tc);
    return s;
}
