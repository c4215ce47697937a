/* check_reader.c -- the reader over crafted in-memory ELF images. */
#include "suites.h"

#include "abigate.h"
#include "elfimage.h"

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
    ck_assert_uint_eq(sa.count, sm.count);
    for (unsigned i = 0; i < sa.count; i++)
        ck_assert_str_eq(abigate_symbols_name(&sa, i), abigate_symbols_name(&sm, i));
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
    suite_add_tcase(s, tc);
    return s;
}
