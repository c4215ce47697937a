/* check_malformed.c -- hostile inputs: each returns its specific error code,
 * a message, and never crashes (the suite also runs under valgrind).
 *
 * Every row starts from one valid image (ELF64 LE, record note seen through
 * PT_NOTE and SHT_NOTE, a dynamic part and SHT_DYNSYM) and corrupts it. */
#include "suites.h"

#include "abigate/abigate.h"
#include "elfimage.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CAP (2u * 1024u * 1024u)

struct img {
    struct elfimage_spec s;
    struct elfimage_layout l;
    unsigned char *b;
    size_t len; /* bytes handed to the reader */
};

static void put(struct img *m, size_t off, unsigned w, uint64_t v) { elfimage_put(&m->s, m->b, off, w, v); }

static void ph(struct img *m, int i, const char *f, uint64_t v)
{
    unsigned w;
    size_t off = elfimage_ph_field(&m->s, &m->l, i, f, &w);
    put(m, off, w, v);
}

static void sh(struct img *m, int i, const char *f, uint64_t v)
{
    unsigned w;
    size_t off = elfimage_sh_field(&m->s, &m->l, i, f, &w);
    put(m, off, w, v);
}

static void dyn(struct img *m, size_t i, uint64_t v)
{
    unsigned w;
    size_t off = elfimage_dyn_value(&m->s, &m->l, i, &w);
    put(m, off, w, v);
}

/* ---- corruptions ---- */
static void m_empty(struct img *m) { m->len = 0; }
static void m_three_bytes(struct img *m) { m->len = 3; }
static void m_not_elf(struct img *m) { memcpy(m->b, "#!/bin/sh\necho hi\n", 18); }
static void m_ident_only(struct img *m) { m->len = 16; }
static void m_header_cut(struct img *m) { m->len = 40; }
static void m_class0(struct img *m) { m->b[4] = 0; }
static void m_class3(struct img *m) { m->b[4] = 3; }
static void m_data0(struct img *m) { m->b[5] = 0; }
static void m_data3(struct img *m) { m->b[5] = 3; }
static void m_ident_version(struct img *m) { m->b[6] = 0; }
static void m_e_version(struct img *m) { put(m, 20, 4, 2); }
static void m_ehsize(struct img *m) { put(m, 52, 2, 52); }
static void m_class_swapped(struct img *m) { m->b[4] = 1; } /* ELF32 reading of ELF64 fields */
static void m_phentsize(struct img *m) { put(m, 54, 2, 32); }
static void m_phnum_xnum(struct img *m) { put(m, 56, 2, 0xffff); }
static void m_phnum_big(struct img *m) { put(m, 56, 2, 2000); }
static void m_phoff_past_eof(struct img *m) { put(m, 32, 8, m->l.size + 100); }
static void m_phoff_wrap(struct img *m) { put(m, 32, 8, UINT64_MAX - 8); }
static void m_ph_table_past_eof(struct img *m) { put(m, 32, 8, m->l.size - 60); }
static void m_phnum_times_entsize(struct img *m) { put(m, 56, 2, 1024); } /* 1024*56 > file */
static void m_shentsize(struct img *m) { put(m, 58, 2, 40); }
static void m_shnum_xnum(struct img *m) { put(m, 60, 2, 0); }
static void m_shnum_big(struct img *m) { put(m, 60, 2, 60000); }
static void m_shoff_past_eof(struct img *m) { put(m, 40, 8, m->l.size); }
static void m_shoff_wrap(struct img *m) { put(m, 40, 8, UINT64_MAX - 63); }
static void m_note_off_past_eof(struct img *m) { ph(m, m->l.ph_note, "offset", m->l.size + 1); }
static void m_note_off_wrap(struct img *m)
{
    ph(m, m->l.ph_note, "offset", 0xfffffffffffffff0ull);
    ph(m, m->l.ph_note, "filesz", 0x20);
}
static void m_note_size_past_eof(struct img *m) { ph(m, m->l.ph_note, "filesz", m->l.size); }
static void m_note_too_big(struct img *m) { ph(m, m->l.ph_note, "filesz", ABIGATE_MAX_NOTE_BYTES + 4); }
static void m_note_header_cut(struct img *m)
{
    ph(m, m->l.ph_note, "filesz", 7); /* 7 bytes of a non-zero note header */
}
static void m_namesz_lie(struct img *m) { put(m, m->l.note_off, 4, 4000); }
static void m_namesz_wrap(struct img *m) { put(m, m->l.note_off, 4, 0xffffffffu); }
static void m_descsz_wrap(struct img *m) { put(m, m->l.note_off + 4, 4, 0xfffffffeu); }
static void m_descsz_lie(struct img *m) { put(m, m->l.rec_note_off + 4, 4, 200); }
static void m_desc_after_name_past_end(struct img *m)
{
    /* name fits exactly to the end, so the descriptor has no room */
    size_t left = m->l.note_off + m->l.note_size - (m->l.rec_note_off + 12);
    put(m, m->l.rec_note_off, 4, left);
    put(m, m->l.rec_note_off + 4, 4, 4);
}
static void m_record_truncated(struct img *m) { put(m, m->l.rec_note_off + 4, 4, 12); }
static void m_record_magic(struct img *m) { m->b[m->l.desc_off] = 'X'; }
static void m_record_size(struct img *m) { put(m, m->l.desc_off + 6, 2, 36); }
static void m_record_reserved(struct img *m) { m->b[m->l.desc_off + 36] = 1; }
static void m_record_flags(struct img *m) { put(m, m->l.desc_off + 28, 4, 0x80000000u); }
static void m_record_abiinfo(struct img *m) { m->b[m->l.desc_off + 8] = 9; }
static void m_record_too_big(struct img *m)
{
    /* a 2000-byte abigate descriptor that does fit its area */
    ph(m, m->l.ph_note, "filesz", 4096);
    put(m, m->l.rec_note_off + 4, 4, 2000);
}
static void m_record_conflict(struct img *m)
{
    /* the second note (desc2) differs from the first */
    size_t second = m->l.desc_off + 40 + 12 + 8;
    m->b[second + 12] ^= 0x01; /* build_version differs */
}
static void m_dynamic_past_eof(struct img *m) { ph(m, m->l.ph_dyn, "filesz", m->l.size); }
static void m_dynamic_too_big(struct img *m)
{
    ph(m, m->l.ph_dyn, "offset", 0);
    ph(m, m->l.ph_dyn, "filesz", (ABIGATE_MAX_DYN + 1) * 16ull);
}
static void m_strtab_unmapped(struct img *m) { dyn(m, m->l.strtab_dyn_index, 0x7fff0000); }
static void m_strsz_huge(struct img *m) { dyn(m, m->l.strsz_dyn_index, 1ull << 40); }
static void m_needed_past_strtab(struct img *m) { dyn(m, m->l.needed_dyn_index, 5000); }
static void m_needed_unterminated(struct img *m)
{
    /* shrink the string table so the last name loses its NUL */
    dyn(m, m->l.strsz_dyn_index, m->l.strtab_size - 1);
    dyn(m, m->l.needed_dyn_index, m->l.strtab_size - 4);
}
static void m_syment(struct img *m) { sh(m, m->l.sh_dynsym, "entsize", 7); }
static void m_symtab_past_eof(struct img *m) { sh(m, m->l.sh_dynsym, "offset", m->l.size - 10); }
static void m_dynsym_link(struct img *m) { sh(m, m->l.sh_dynsym, "link", 99); }
static void m_symname_past_strtab(struct img *m)
{
    put(m, m->l.symtab_off + 24, 4, 100000); /* symbol 1's st_name */
}
static void m_hash_nchain_huge(struct img *m)
{
    sh(m, m->l.sh_dynsym, "type", 3); /* no SHT_DYNSYM: use DT_HASH */
    put(m, m->l.hash_off + 4, 4, 0x7fffffffu);
}
static void m_hash_unmapped(struct img *m)
{
    sh(m, m->l.sh_dynsym, "type", 3);
    dyn(m, m->l.hash_dyn_index, 0x40000000);
}
static void m_hash_past_eof(struct img *m)
{
    sh(m, m->l.sh_dynsym, "type", 3);
    ph(m, 0, "filesz", m->l.size + 0x1000); /* PT_LOAD claims more than the file */
    dyn(m, m->l.hash_dyn_index, m->l.size + 16);
}

static const struct {
    const char *name;
    void (*mutate)(struct img *);
    unsigned flags;
    int code;
} cases[] = {
    {"empty file", m_empty, 0, ABIGATE_E_EMPTY},
    {"three bytes of magic", m_three_bytes, 0, ABIGATE_E_TRUNCATED_HEADER},
    {"shell script", m_not_elf, 0, ABIGATE_E_NOT_ELF},
    {"e_ident only", m_ident_only, 0, ABIGATE_E_TRUNCATED_HEADER},
    {"header cut at 40 bytes", m_header_cut, 0, ABIGATE_E_TRUNCATED_HEADER},
    {"class 0", m_class0, 0, ABIGATE_E_BAD_CLASS},
    {"class 3", m_class3, 0, ABIGATE_E_BAD_CLASS},
    {"data encoding 0", m_data0, 0, ABIGATE_E_BAD_DATA},
    {"data encoding 3", m_data3, 0, ABIGATE_E_BAD_DATA},
    {"EI_VERSION 0", m_ident_version, 0, ABIGATE_E_BAD_VERSION},
    {"e_version 2", m_e_version, 0, ABIGATE_E_BAD_VERSION},
    {"e_ehsize 52 in ELF64", m_ehsize, 0, ABIGATE_E_BAD_EHSIZE},
    {"ELF64 labelled ELF32", m_class_swapped, 0, ABIGATE_E_BAD_EHSIZE},
    {"e_phentsize 32 in ELF64", m_phentsize, 0, ABIGATE_E_BAD_PHENTSIZE},
    {"e_phnum PN_XNUM", m_phnum_xnum, 0, ABIGATE_E_TOO_MANY_PH},
    {"e_phnum 2000", m_phnum_big, 0, ABIGATE_E_TOO_MANY_PH},
    {"e_phoff past EOF", m_phoff_past_eof, 0, ABIGATE_E_PH_BOUNDS},
    {"e_phoff wraps", m_phoff_wrap, 0, ABIGATE_E_PH_BOUNDS},
    {"phdr table crosses EOF", m_ph_table_past_eof, 0, ABIGATE_E_PH_BOUNDS},
    {"e_phnum x e_phentsize past EOF", m_phnum_times_entsize, 0, ABIGATE_E_PH_BOUNDS},
    {"e_shentsize 40 in ELF64", m_shentsize, 0, ABIGATE_E_BAD_SHENTSIZE},
    {"e_shnum 0 with e_shoff", m_shnum_xnum, 0, ABIGATE_E_TOO_MANY_SH},
    {"e_shnum 60000", m_shnum_big, 0, ABIGATE_E_TOO_MANY_SH},
    {"e_shoff at EOF", m_shoff_past_eof, 0, ABIGATE_E_SH_BOUNDS},
    {"e_shoff wraps", m_shoff_wrap, 0, ABIGATE_E_SH_BOUNDS},
    {"PT_NOTE offset past EOF", m_note_off_past_eof, 0, ABIGATE_E_NOTE_BOUNDS},
    {"PT_NOTE offset wraps", m_note_off_wrap, 0, ABIGATE_E_NOTE_BOUNDS},
    {"PT_NOTE size past EOF", m_note_size_past_eof, 0, ABIGATE_E_NOTE_BOUNDS},
    {"PT_NOTE over the cap", m_note_too_big, 0, ABIGATE_E_NOTE_TOO_BIG},
    {"note header cut", m_note_header_cut, 0, ABIGATE_E_NOTE_TRUNCATED},
    {"namesz lies", m_namesz_lie, 0, ABIGATE_E_NOTE_NAMESZ},
    {"namesz wraps when padded", m_namesz_wrap, 0, ABIGATE_E_NOTE_WRAP},
    {"descsz wraps when padded", m_descsz_wrap, 0, ABIGATE_E_NOTE_WRAP},
    {"descsz lies", m_descsz_lie, 0, ABIGATE_E_NOTE_DESCSZ},
    {"name fills the area", m_desc_after_name_past_end, 0, ABIGATE_E_NOTE_DESCSZ},
    {"record truncated", m_record_truncated, 0, ABIGATE_E_RECORD_TRUNCATED},
    {"record magic", m_record_magic, 0, ABIGATE_E_RECORD_MAGIC},
    {"record size field", m_record_size, 0, ABIGATE_E_RECORD_SIZE},
    {"record reserved byte", m_record_reserved, 0, ABIGATE_E_RECORD_RESERVED},
    {"record unknown flag", m_record_flags, 0, ABIGATE_E_RECORD_RESERVED},
    {"record PyABIInfo major 9", m_record_abiinfo, 0, ABIGATE_E_RECORD_ABIINFO},
    {"record over the cap", m_record_too_big, 0, ABIGATE_E_RECORD_TOO_BIG},
    {"two different records", m_record_conflict, 0, ABIGATE_E_RECORD_CONFLICT},
    {"PT_DYNAMIC past EOF", m_dynamic_past_eof, ABIGATE_READ_LEGACY, ABIGATE_E_DYNAMIC_BOUNDS},
    {"PT_DYNAMIC over the cap", m_dynamic_too_big, ABIGATE_READ_LEGACY, ABIGATE_E_DYNAMIC_TOO_BIG},
    {"DT_STRTAB unmapped", m_strtab_unmapped, ABIGATE_READ_LEGACY, ABIGATE_E_ADDR_UNMAPPED},
    {"DT_STRSZ huge", m_strsz_huge, ABIGATE_READ_LEGACY, ABIGATE_E_STRTAB_BOUNDS},
    {"DT_NEEDED past strtab", m_needed_past_strtab, ABIGATE_READ_LEGACY, ABIGATE_E_STRING_BOUNDS},
    {"DT_NEEDED unterminated", m_needed_unterminated, ABIGATE_READ_LEGACY, ABIGATE_E_STRING_BOUNDS},
    {"dynsym entsize 7", m_syment, ABIGATE_READ_LEGACY, ABIGATE_E_BAD_SYMENT},
    {"dynsym past EOF", m_symtab_past_eof, ABIGATE_READ_LEGACY, ABIGATE_E_SYMTAB_BOUNDS},
    {"dynsym sh_link 99", m_dynsym_link, ABIGATE_READ_LEGACY, ABIGATE_E_BAD_SECTION_LINK},
    {"st_name past strtab", m_symname_past_strtab, ABIGATE_READ_LEGACY, ABIGATE_E_STRING_BOUNDS},
    {"DT_HASH nchain huge", m_hash_nchain_huge, ABIGATE_READ_LEGACY, ABIGATE_E_TOO_MANY_SYMS},
    {"DT_HASH unmapped", m_hash_unmapped, ABIGATE_READ_LEGACY, ABIGATE_E_ADDR_UNMAPPED},
    {"DT_HASH past EOF", m_hash_past_eof, ABIGATE_READ_LEGACY, ABIGATE_E_HASH_BOUNDS},
};

START_TEST(test_malformed)
{
    struct img m;
    unsigned char desc[40];
    memset(&m, 0, sizeof m);
    m.b = calloc(1, CAP);
    ck_assert_ptr_nonnull(m.b);
    m.s.is64 = 1;
    m.s.machine = 62;
    m.s.note_in_phdr = m.s.note_in_shdr = 1;
    m.s.dynamic = m.s.dynsym_section = 1;
    m.s.desc = desc;
    m.s.desclen = elfimage_sample_record(desc, 0);
    if (cases[_i].mutate == m_record_conflict) {
        m.s.desc2 = desc;
        m.s.desc2len = m.s.desclen;
    }
    if (cases[_i].mutate == m_note_too_big || cases[_i].mutate == m_dynamic_too_big)
        m.s.pad_to = ABIGATE_MAX_NOTE_BYTES + 8192;
    if (cases[_i].mutate == m_record_too_big)
        m.s.pad_to = 8192;
    m.len = elfimage_build(&m.s, m.b, CAP, &m.l);
    ck_assert_uint_gt(m.len, 0);

    /* the unmutated image reads */
    abigate_file_info fi, before;
    abigate_error err;
    ck_assert_int_eq(abigate_read_buffer(m.b, m.len, NULL, cases[_i].flags, &fi, NULL, &err),
                     ABIGATE_OK);

    cases[_i].mutate(&m);
    memset(&fi, 0xa5, sizeof fi);
    before = fi;
    int rc = abigate_read_buffer(m.b, m.len, NULL, cases[_i].flags, &fi, NULL, &err);
    ck_assert_msg(rc == cases[_i].code, "%s: got %s (%s), want %s", cases[_i].name,
                  abigate_code_name(rc), err.message, abigate_code_name(cases[_i].code));
    ck_assert_int_eq(err.code, rc);
    ck_assert_msg(err.message[0] != '\0', "%s: empty message", cases[_i].name);
    ck_assert_msg(memcmp(&fi, &before, sizeof fi) == 0, "%s: out-parameter written on failure",
                  cases[_i].name);
    /* the code does not depend on whether the caller asked for details */
    int rc_no_err = abigate_read_buffer(m.b, m.len, NULL, cases[_i].flags, &fi, NULL, NULL);
    ck_assert_msg(rc_no_err == rc, "%s: without an error struct got %s", cases[_i].name,
                  abigate_code_name(rc_no_err));
    free(m.b);
}
END_TEST

/* Not files at all: directory, FIFO (must not block), device, missing. */
START_TEST(test_not_regular)
{
    abigate_file_info fi;
    abigate_error err;
    char dir[] = "/tmp/abigate-dir-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(abigate_read_path(dir, 0, &fi, NULL, &err), ABIGATE_E_IS_DIRECTORY);

    char fifo[64];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    ck_assert_int_eq(abigate_read_path(fifo, 0, &fi, NULL, &err), ABIGATE_E_NOT_REGULAR);
    unlink(fifo);

    ck_assert_int_eq(abigate_read_path("/dev/null", 0, &fi, NULL, &err), ABIGATE_E_NOT_REGULAR);
    char missing[64];
    snprintf(missing, sizeof missing, "%s/missing.so", dir);
    ck_assert_int_eq(abigate_read_path(missing, 0, &fi, NULL, &err), ABIGATE_E_OPEN);
    ck_assert_ptr_nonnull(strstr(err.message, "No such file"));
    rmdir(dir);

    int fd = open("/dev/zero", O_RDONLY);
    ck_assert_int_eq(abigate_read_fd(fd, NULL, 0, &fi, NULL, &err), ABIGATE_E_NOT_REGULAR);
    close(fd);
    ck_assert_int_eq(abigate_read_fd(-1, NULL, 0, &fi, NULL, &err), ABIGATE_E_INVALID_ARG);
    ck_assert_int_eq(abigate_read_buffer(NULL, 4, NULL, 0, &fi, NULL, &err), ABIGATE_E_INVALID_ARG);
    ck_assert_int_eq(abigate_read_buffer("x", 1, NULL, 0x80, &fi, NULL, &err), ABIGATE_E_INVALID_ARG);
}
END_TEST

/* A file that shrinks between fstat and pread is an I/O error, not a crash. */
static long shrinking_read(void *ctx, void *buf, size_t len, uint64_t off)
{
    (void)ctx; (void)buf; (void)len; (void)off;
    return 0;
}

START_TEST(test_shrinking_input)
{
    abigate_file_info fi;
    abigate_error err;
    abigate_io io = {shrinking_read, NULL, 100000};
    ck_assert_int_eq(abigate_read_io(&io, NULL, 0, &fi, NULL, &err), ABIGATE_E_IO);
    ck_assert_int_eq(err.offset, 0);
}
END_TEST

/* Every prefix of a valid image fails cleanly or reads: no crash, no hang. */
START_TEST(test_every_truncation)
{
    struct elfimage_spec s;
    struct elfimage_layout l;
    unsigned char desc[40];
    unsigned char *b = malloc(CAP);
    memset(&s, 0, sizeof s);
    s.is64 = 1;
    s.note_in_phdr = s.note_in_shdr = s.dynamic = s.dynsym_section = 1;
    s.desc = desc;
    s.desclen = elfimage_sample_record(desc, 0);
    size_t n = elfimage_build(&s, b, CAP, &l);
    int ok = 0;
    for (size_t len = 0; len < n; len++) {
        abigate_file_info fi;
        abigate_error err;
        int rc = abigate_read_buffer(b, len, NULL, ABIGATE_READ_LEGACY, &fi, NULL, &err);
        ck_assert_int_le(rc, 0);
        if (rc == ABIGATE_OK)
            ok++;
        else
            ck_assert_str_ne(err.message, "");
    }
    ck_assert_int_eq(ok, 0); /* the section table is last: every prefix is malformed */
    free(b);
}
END_TEST

/* Every input a fuzzer crashed the reader with (tests/fuzz/regressions),
 * given to the fuzz target itself (tests/fuzz/fuzz_elf.c is linked in):
 * its reads from memory and in pieces, and its invariants (it aborts on a
 * broken one).  Under valgrind (tests/unit/valgrind.sh) an over-read of the
 * reader's own copies shows, which a build without sanitizers would not. */
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

START_TEST(test_fuzz_regressions)
{
    const char *src = getenv("ABIGATE_SRCDIR");
    ck_assert_msg(src != NULL, "ABIGATE_SRCDIR is not set: run through make check");
    static const char *const names[] = {"moddef-segment-end.elf"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/tests/fuzz/regressions/%s", src, names[k]);
        FILE *f = fopen(path, "rb");
        ck_assert_msg(f != NULL, "%s: cannot open", path);
        static unsigned char buf[1 << 20];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        unsigned char *copy = malloc(len); /* exactly its size: an over-read shows */
        ck_assert_ptr_nonnull(copy);
        memcpy(copy, buf, len);
        ck_assert_int_eq(LLVMFuzzerTestOneInput(copy, len), 0);
        free(copy);
    }
}
END_TEST

Suite *make_malformed_suite(void)
{
    Suite *s = suite_create("malformed");
    TCase *tc = tcase_create("table");
    tcase_add_loop_test(tc, test_malformed, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, test_not_regular);
    tcase_add_test(tc, test_shrinking_input);
    tcase_add_test(tc, test_every_truncation);
    tcase_add_test(tc, test_fuzz_regressions);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
