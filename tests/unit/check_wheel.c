/* check_wheel.c -- a wheel's tags: the parsers (file name, WHEEL) and
 * abigate_wheel_decide, table-tested: every rule of docs/POLICY.md's
 * "Wheel tags against contents" on both sides, and the modes.  The
 * member's facts are built directly (the decision is pure).  Then the
 * archive reader's limits, and the walk over a tool's inputs.
 */
#include "suites.h"

#include "libabigate/internal.h"
#include "elfimage.h"

#include <zlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define V(maj, min) ((uint32_t)(maj) << 24 | (uint32_t)(min) << 16 | 0xf0u)
#define STABLE ABIGATE_ABIINFO_STABLE
#define GIL ABIGATE_ABIINFO_GIL
#define FT ABIGATE_ABIINFO_FREETHREADED
#define AGNOSTIC ABIGATE_ABIINFO_AGNOSTIC

struct row {
    const char *name;
    const char *tags;      /* WHEEL text: "Tag: ..." lines */
    int record;            /* 1: a record with abiflags/abi below */
    uint16_t abiflags;
    uint32_t abi;
    const char *file_name; /* the member's name (tag) */
    unsigned pyinit;       /* PyInit_ exports */
    unsigned machine, elf_class;
    int reason;            /* expected; ABIGATE_R_NONE: fits */
    /* PE and Mach-O: the format, the DLL, a universal file's slices
     * (64-bit machines), the minos */
    unsigned format;
    const char *dll;
    unsigned slices[2];
    uint32_t min_os;
};

#define PE_ROW(nm, tag, dll_, machine_, class_, why) \
    {.name = nm, .tags = tag, .file_name = "m.pyd", .pyinit = 1, .machine = machine_, \
     .elf_class = class_, .reason = why, .format = ABIGATE_FORMAT_PE, .dll = dll_}
#define MACHO_ROW(nm, tag, machine_, why, ...) \
    {.name = nm, .tags = tag, .record = 1, .abiflags = GIL, .abi = V(3, 13), .file_name = "m.so", \
     .pyinit = 1, .machine = machine_, .elf_class = 64, .reason = why, \
     .format = ABIGATE_FORMAT_MACHO, __VA_ARGS__}

#define X86 62, 64
#define R(n) ABIGATE_R_##n

static const struct row rows[] = {
    {"right cp311", "Tag: cp311-cp311-linux_x86_64\n", 1, GIL, V(3, 11), "m.so", 1, X86, R(NONE)},
    {"cp313 tag, 3.11 build", "Tag: cp313-cp313-linux_x86_64\n", 1, GIL, V(3, 11), "m.so", 1, X86,
     R(WHEEL_VERSION)},
    {"cp313 tag, record-less cpython-311 name", "Tag: cp313-cp313-linux_x86_64\n", 0, 0, 0,
     "m.cpython-311-x86_64-linux-gnu.so", 1, X86, R(WHEEL_VERSION)},
    {"cp313 tag, record-less bare name: not known", "Tag: cp313-cp313-linux_x86_64\n", 0, 0, 0,
     "m.so", 1, X86, R(NONE)},
    {"abi3 tag, version-specific build", "Tag: cp38-abi3-linux_x86_64\n", 1, GIL, V(3, 11), "m.so", 1,
     X86, R(WHEEL_ABI3)},
    {"abi3 tag, stable free-threaded-only build", "Tag: cp313-abi3-linux_x86_64\n", 1, STABLE | FT,
     V(3, 13), "m.so", 1, X86, R(WHEEL_ABI3)},
    {"abi3 tag, abi3 3.8 build", "Tag: cp38-abi3-linux_x86_64\n", 1, STABLE | GIL, V(3, 8), "m.so", 1,
     X86, R(NONE)},
    {"cp38-abi3 tag, abi3 3.11 floor", "Tag: cp38-abi3-linux_x86_64\n", 1, STABLE | GIL, V(3, 11),
     "m.so", 1, X86, R(WHEEL_VERSION)},
    {"cp311-abi3 tag, abi3 3.11 floor", "Tag: cp311-abi3-linux_x86_64\n", 1, STABLE | GIL, V(3, 11),
     "m.so", 1, X86, R(NONE)},
    {"abi3t tag, abi3 (GIL) build", "Tag: cp315-abi3t-linux_x86_64\n", 1, STABLE | GIL, V(3, 15),
     "m.so", 1, X86, R(WHEEL_ABI3)},
    {"abi3t tag, abi3t build", "Tag: cp315-abi3t-linux_x86_64\n", 1, STABLE | AGNOSTIC, V(3, 15),
     "m.so", 1, X86, R(NONE)},
    {"cp313t tag, GIL build", "Tag: cp313-cp313t-linux_x86_64\n", 1, GIL, V(3, 13), "m.so", 1, X86,
     R(WHEEL_THREADING)},
    {"cp313t tag, abi3 (GIL) build", "Tag: cp313-cp313t-linux_x86_64\n", 1, STABLE | GIL, V(3, 8),
     "m.so", 1, X86, R(WHEEL_THREADING)},
    {"cp313t tag, free-threaded build", "Tag: cp313-cp313t-linux_x86_64\n", 1, FT, V(3, 13), "m.so", 1,
     X86, R(NONE)},
    {"cp313 tag, free-threaded build", "Tag: cp313-cp313-linux_x86_64\n", 1, FT, V(3, 13), "m.so", 1,
     X86, R(WHEEL_THREADING)},
    {"cp311 tag, abi3 3.8 build", "Tag: cp311-cp311-linux_x86_64\n", 1, STABLE | GIL, V(3, 8), "m.so",
     1, X86, R(NONE)},
    {"cp311 tag, abi3 3.12 floor", "Tag: cp311-cp311-linux_x86_64\n", 1, STABLE | GIL, V(3, 12),
     "m.so", 1, X86, R(WHEEL_VERSION)},
    {"none ABI, CPython extension", "Tag: py3-none-linux_x86_64\n", 0, 0, 0, "m.so", 1, X86,
     R(WHEEL_NONE_ABI)},
    {"none ABI, a plain shared library", "Tag: py3-none-linux_x86_64\n", 0, 0, 0, "libfoo.so", 0, X86,
     R(NONE)},
    {"any platform, ELF member", "Tag: cp311-cp311-any\n", 1, GIL, V(3, 11), "m.so", 1, X86,
     R(WHEEL_PLATFORM)},
    {"aarch64 tag, x86-64 member", "Tag: cp311-cp311-manylinux_2_17_aarch64\n", 1, GIL, V(3, 11),
     "m.so", 1, X86, R(WHEEL_PLATFORM)},
    {"i686 tag, x86-64 member", "Tag: cp311-cp311-linux_i686\n", 1, GIL, V(3, 11), "m.so", 1, X86,
     R(WHEEL_PLATFORM)},
    {"aarch64 tag, aarch64 member", "Tag: cp311-cp311-manylinux2014_aarch64\n", 1, GIL, V(3, 11),
     "m.so", 1, 183, 64, R(NONE)},
    /* a platform tag that is an architecture name alone: no byte before it
     * is read (issue 26), and it names no platform abigate knows */
    {"bare architecture platform tag", "Tag: cp311-cp311-x86_64\n", 1, GIL, V(3, 11), "m.so", 1, X86,
     R(NONE)},
    {"bare architecture platform tag, aarch64", "Tag: cp311-cp311-aarch64\n", 1, GIL, V(3, 11),
     "m.so", 1, X86, R(NONE)},
    {"two tags, the second fits", "Tag: cp312-cp312-linux_x86_64\nTag: cp311-cp311-linux_x86_64\n", 1,
     GIL, V(3, 11), "m.so", 1, X86, R(NONE)},
    {"compressed set, none fits", "Tag: cp312.cp313-cp312.cp313-linux_x86_64\n", 1, GIL, V(3, 11),
     "m.so", 1, X86, R(WHEEL_VERSION)},
    {"another implementation's tag: not judged", "Tag: pp310-pypy310_pp73-linux_x86_64\n", 1, GIL,
     V(3, 11), "m.so", 1, X86, R(NONE)},
    /* Windows: the DLL names the build; the platform tag the machine */
    PE_ROW("win_amd64, python313.dll", "Tag: cp313-cp313-win_amd64\n", "python313.dll", 62, 64, R(NONE)),
    PE_ROW("cp313t tag, python313.dll", "Tag: cp313-cp313t-win_amd64\n", "python313.dll", 62, 64,
           R(WHEEL_THREADING)),
    PE_ROW("cp313 tag, python312.dll", "Tag: cp313-cp313-win_amd64\n", "PYTHON312.DLL", 62, 64,
           R(WHEEL_VERSION)),
    PE_ROW("abi3 tag, python3.dll", "Tag: cp311-abi3-win_amd64\n", "python3.dll", 62, 64, R(NONE)),
    PE_ROW("abi3 tag, python313.dll", "Tag: cp311-abi3-win_amd64\n", "python313.dll", 62, 64,
           R(WHEEL_ABI3)),
    PE_ROW("win32 tag, a PE32+ x86-64 member", "Tag: cp313-cp313-win32\n", "python313.dll", 62, 64,
           R(WHEEL_PLATFORM)),
    PE_ROW("win32 tag, a PE32 member", "Tag: cp313-cp313-win32\n", "python313.dll", 3, 32, R(NONE)),
    PE_ROW("win_arm64 tag, an x86-64 member", "Tag: cp313-cp313-win_arm64\n", "python313.dll", 62, 64,
           R(WHEEL_PLATFORM)),
    PE_ROW("linux tag, a PE member", "Tag: cp313-cp313-manylinux_2_17_x86_64\n", "python313.dll",
           62, 64, R(WHEEL_PLATFORM)),
    {"win_amd64 tag, an ELF member", "Tag: cp313-cp313-win_amd64\n", 1, GIL, V(3, 13), "m.so", 1,
     X86, R(WHEEL_PLATFORM)},
    /* macOS: the slices against the architecture, the minos against the version */
    MACHO_ROW("arm64 tag, thin arm64", "Tag: cp313-cp313-macosx_11_0_arm64\n", 183, R(NONE)),
    MACHO_ROW("arm64 tag, thin x86_64", "Tag: cp313-cp313-macosx_11_0_arm64\n", 62,
              R(WHEEL_PLATFORM)),
    MACHO_ROW("universal2 tag, both slices", "Tag: cp313-cp313-macosx_10_13_universal2\n", 62,
              R(NONE), .slices = {62, 183}),
    MACHO_ROW("universal2 tag, x86_64 alone", "Tag: cp313-cp313-macosx_10_13_universal2\n", 62,
              R(WHEEL_PLATFORM)),
    MACHO_ROW("x86_64 tag, a universal2 file", "Tag: cp313-cp313-macosx_10_13_x86_64\n", 62, R(NONE),
              .slices = {62, 183}),
    MACHO_ROW("11.0 tag, minos 12.0", "Tag: cp313-cp313-macosx_11_0_arm64\n", 183,
              R(WHEEL_PLATFORM), .min_os = 0x0c0000),
    MACHO_ROW("11.0 tag, minos 11.0", "Tag: cp313-cp313-macosx_11_0_arm64\n", 183, R(NONE),
              .min_os = 0x0b0000),
    MACHO_ROW("linux tag, a Mach-O member", "Tag: cp313-cp313-linux_x86_64\n", 62,
              R(WHEEL_PLATFORM)),
};

static void member_of(const struct row *r, abigate_file_info *f)
{
    memset(f, 0, sizeof *f);
    f->machine = r->machine;
    f->elf_class = r->elf_class;
    f->legacy_read = 1;
    f->n_pyinit = r->pyinit;
    abigate_tag_parse(r->file_name, &f->tag);
    f->format = r->format;
    f->min_os = r->min_os;
    if (r->dll) {
        f->n_libpython = f->n_needed = 1;
        snprintf(f->libpython[0], sizeof f->libpython[0], "%s", r->dll);
    }
    for (unsigned k = 0; k < 2 && r->slices[k]; k++) {
        f->slice[k].machine = r->slices[k];
        f->slice[k].elf_class = 64;
        f->n_slices = k + 1;
    }
    if (r->record) {
        f->record_state = ABIGATE_RECORD_PRESENT;
        f->record.major = 1;
        f->record.abiinfo.major = 1;
        f->record.abiinfo.flags = r->abiflags;
        f->record.abiinfo.abi_version = r->abi;
        f->record.abiinfo.build_version = r->abi;
    }
}

START_TEST(test_rows)
{
    const struct row *r = &rows[_i];
    abigate_wheel_tags tags;
    abigate_error err;
    ck_assert_int_eq(abigate_wheel_tags_from_metadata(r->tags, strlen(r->tags), &tags, &err),
                     ABIGATE_OK);
    abigate_file_info f;
    member_of(r, &f);
    abigate_policy strict = {ABIGATE_MODE_STRICT, 0}, warn = {ABIGATE_MODE_WARN, 0},
                   off = {ABIGATE_MODE_OFF, 0};
    abigate_verdict v;
    int kind = abigate_wheel_decide(&tags, "WHEEL", &f, &strict, &v);
    ck_assert_msg(v.reason == r->reason, "%s: reason %s, want %s (%s)", r->name,
                  abigate_reason_name(v.reason), abigate_reason_name(r->reason), v.message);
    ck_assert_int_eq(kind, r->reason ? ABIGATE_REFUSE : ABIGATE_ACCEPT);
    ck_assert_msg(v.message[0] != '\0', "%s: a message", r->name);
    if (r->reason) {
        ck_assert_msg(strstr(v.message, "WHEEL tag") && strstr(v.message, tags.tag[0].python),
                      "%s: the message names the source and the tag: %s", r->name, v.message);
        ck_assert_int_eq(abigate_wheel_decide(&tags, "WHEEL", &f, &warn, &v), ABIGATE_ACCEPT);
        ck_assert_int_eq(v.warning, 1);
        ck_assert_int_eq(v.reason, r->reason);
    }
    ck_assert_int_eq(abigate_wheel_decide(&tags, "WHEEL", &f, &off, &v), ABIGATE_ACCEPT);
    ck_assert_int_eq(v.reason, ABIGATE_R_NONE);
}
END_TEST

/* abigate_wheel_tags_decide: a tag set that could not all be read, in
 * each mode (POLICY.md, ABIGATE_R_WHEEL_METADATA). */
struct tags_case {
    const char *what;
    const char *wheel_text; /* parsed into the set; NULL: no WHEEL file */
    int read_rc;            /* what reading WHEEL returned */
    int mode;
    int kind, reason, warning;
    const char *words;      /* in the message */
};

#define M(m) ABIGATE_MODE_##m
static const struct tags_case tags_cases[] = {
    {"all read", "Tag: cp311-cp311-linux_x86_64\n", ABIGATE_OK, M(STRICT), ABIGATE_ACCEPT, R(NONE), 0,
     "were read (1)"},
    {"no WHEEL, strict", NULL, ABIGATE_E_WHEEL_NAME, M(STRICT), ABIGATE_REFUSE, R(WHEEL_METADATA), 0,
     "no *.dist-info/WHEEL"},
    {"no WHEEL, require", NULL, ABIGATE_E_WHEEL_NAME, M(REQUIRE), ABIGATE_REFUSE, R(WHEEL_METADATA), 0,
     "escape the WHEEL tags check"},
    {"no WHEEL, warn", NULL, ABIGATE_E_WHEEL_NAME, M(WARN), ABIGATE_ACCEPT, R(WHEEL_METADATA), 1,
     "cannot be read"},
    {"no WHEEL, off", NULL, ABIGATE_E_WHEEL_NAME, M(OFF), ABIGATE_ACCEPT, R(NONE), 0, "mode off"},
    {"malformed Tag line", "Tag: x\n", ABIGATE_E_WHEEL_NAME, M(STRICT), ABIGATE_REFUSE,
     R(WHEEL_METADATA), 0, "malformed Tag line"},
    {"70 tags: cut at 64", "", ABIGATE_OK, M(STRICT), ABIGATE_REFUSE, R(WHEEL_METADATA), 0,
     "more than 64 tags"},
    {"70 tags, warn", "", ABIGATE_OK, M(WARN), ABIGATE_ACCEPT, R(WHEEL_METADATA), 1, "not read"},
};

START_TEST(test_tags_decide)
{
    const struct tags_case *c = &tags_cases[_i];
    abigate_wheel_tags t;
    abigate_error err;
    char text[4096] = "";
    memset(&t, 0, sizeof t);
    const char *problem = NULL;
    if (c->wheel_text && !c->wheel_text[0]) { /* 70 tags */
        size_t n = 0;
        for (int i = 0; i < 70; i++)
            n += (size_t)snprintf(text + n, sizeof text - n, "Tag: cp3%d-cp3%d-linux_x86_64\n", i, i);
        ck_assert_int_eq(abigate_wheel_tags_from_metadata(text, n, &t, &err), ABIGATE_OK);
        ck_assert_uint_eq(t.truncated, 1);
    } else if (c->wheel_text) {
        int rc = abigate_wheel_tags_from_metadata(c->wheel_text, strlen(c->wheel_text), &t, &err);
        ck_assert_int_eq(rc, c->read_rc);
        problem = rc ? err.message : NULL;
    } else {
        problem = "no *.dist-info/WHEEL in the archive";
    }
    abigate_policy pol = {c->mode, 0};
    abigate_verdict v;
    ck_assert_int_eq(abigate_wheel_tags_decide(&t, c->read_rc, problem, "WHEEL", &pol, &v), c->kind);
    ck_assert_int_eq(v.kind, c->kind);
    ck_assert_int_eq(v.reason, c->reason);
    ck_assert_int_eq(v.warning, c->warning);
    ck_assert_msg(strstr(v.message, c->words), "%s: \"%s\" lacks \"%s\"", c->what, v.message, c->words);
    ck_assert_int_eq(abigate_wheel_tags_decide(NULL, ABIGATE_OK, NULL, NULL, &pol, &v),
                     ABIGATE_E_INVALID_ARG);
}
END_TEST

/* abigate_wheel_tag_spec: the interpreter a tag claims */
START_TEST(test_tag_spec)
{
    static const struct {
        const char *tag, *spec;
    } cases[] = {
        {"cp313-cp313t-win_amd64", "3.13t-win_amd64"},
        {"cp313-cp313d-win32", "3.13d-win32"},
        {"cp311-abi3-macosx_11_0_arm64", "3.11-macosx_11_0_arm64"},
        {"cp312-abi3t-manylinux_2_17_x86_64", "3.15t-manylinux_2_17_x86_64"},
        {"cp316-abi3t-win_arm64", "3.16t-win_arm64"},
        {"cp310-cp310-macosx_10_9_universal2", "3.10-macosx_10_9_universal2"},
        {"cp313-cp313-musllinux_1_2_aarch64", "3.13-musllinux_1_2_aarch64"},
        {"py3-none-any", NULL},
        {"cp313-none-win_amd64", NULL},
        {"pp310-pypy310_pp73-linux_x86_64", NULL},
        {"cp313-cp313-any", NULL},
        {"cp313-cp313-freebsd_14_0_amd64", NULL},
        {"cp27-cp27mu-linux_x86_64", NULL},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char name[128], buf[64];
        snprintf(name, sizeof name, "x-1.0-%s.whl", cases[k].tag);
        abigate_wheel_tags *tags = abigate_wheel_tags_new();
        abigate_error err;
        ck_assert_int_eq(abigate_wheel_tags_from_filename(name, tags, &err), ABIGATE_OK);
        int rc = abigate_wheel_tag_spec(tags, 0, buf, sizeof buf);
        if (cases[k].spec) {
            ck_assert_msg(rc == ABIGATE_OK, "%s: %s", cases[k].tag, abigate_code_name(rc));
            ck_assert_str_eq(buf, cases[k].spec);
        } else {
            ck_assert_msg(rc == ABIGATE_E_BAD_SPEC, "%s: %s", cases[k].tag, abigate_code_name(rc));
        }
        ck_assert_int_eq(abigate_wheel_tag_spec(tags, 1, buf, sizeof buf), ABIGATE_E_INVALID_ARG);
        abigate_wheel_tags_free(tags);
    }
}
END_TEST

START_TEST(test_every_wheel_reason_covered)
{
    static const int reasons[] = {R(WHEEL_VERSION), R(WHEEL_ABI3), R(WHEEL_THREADING),
                                  R(WHEEL_NONE_ABI), R(WHEEL_PLATFORM), R(WHEEL_METADATA)};
    for (size_t k = 0; k < sizeof reasons / sizeof reasons[0]; k++) {
        int seen = 0;
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
            seen |= rows[i].reason == reasons[k];
        for (size_t i = 0; i < sizeof tags_cases / sizeof tags_cases[0]; i++)
            seen |= tags_cases[i].reason == reasons[k];
        ck_assert_msg(seen, "no row exercises %s", abigate_reason_name(reasons[k]));
    }
}
END_TEST

struct name_case {
    const char *file;
    int rc;
    unsigned count;
    const char *first; /* "py-abi-plat" of the first tag */
};

static const struct name_case names[] = {
    {"numpy-2.1.0-cp313-cp313t-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", ABIGATE_OK, 2,
     "cp313-cp313t-manylinux_2_17_x86_64"},
    {"/some/dir/pkg-1.0-1build-cp38.cp39-abi3-linux_x86_64.whl", ABIGATE_OK, 2, "cp38-abi3-linux_x86_64"},
    {"pip-24.2-py3-none-any.whl", ABIGATE_OK, 1, "py3-none-any"},
    {"pkg-1.0.whl", ABIGATE_E_WHEEL_NAME, 0, NULL},
    {"pkg-1.0-cp311-cp311-linux_x86_64.zip", ABIGATE_E_WHEEL_NAME, 0, NULL},
    {"a-b-c-d-e-f-g-h.whl", ABIGATE_E_WHEEL_NAME, 0, NULL},
    {"pkg-1.0-cp311--linux_x86_64.whl", ABIGATE_E_WHEEL_NAME, 0, NULL},
};

START_TEST(test_file_names)
{
    const struct name_case *c = &names[_i];
    abigate_wheel_tags t;
    abigate_error err;
    memset(&t, 0x5a, sizeof t);
    int rc = abigate_wheel_tags_from_filename(c->file, &t, &err);
    ck_assert_msg(rc == c->rc, "%s: %s (%s)", c->file, abigate_code_name(rc), err.message);
    if (rc == ABIGATE_OK) {
        char first[160];
        snprintf(first, sizeof first, "%s-%s-%s", t.tag[0].python, t.tag[0].abi, t.tag[0].platform);
        ck_assert_uint_eq(t.count, c->count);
        ck_assert_str_eq(first, c->first);
    }
}
END_TEST

START_TEST(test_metadata)
{
    const char text[] = "Wheel-Version: 1.0\r\nGenerator: bdist_wheel (0.38.4)\r\n"
                        "Root-Is-Purelib: false\r\nTag: cp311-cp311-linux_x86_64\r\n"
                        "Tag: cp311-cp311-manylinux2014_x86_64\r\n";
    abigate_wheel_tags t;
    abigate_error err;
    ck_assert_int_eq(abigate_wheel_tags_from_metadata(text, sizeof text - 1, &t, &err), ABIGATE_OK);
    ck_assert_uint_eq(t.count, 2);
    ck_assert_str_eq(t.tag[1].platform, "manylinux2014_x86_64");
    const char bad[] = "Tag: cp311\n";
    ck_assert_int_eq(abigate_wheel_tags_from_metadata(bad, sizeof bad - 1, &t, &err),
                     ABIGATE_E_WHEEL_NAME);
    /* more tags than the cap: kept up to it, and said so */
    char many[8192] = "";
    for (int i = 0; i < ABIGATE_WHEEL_MAX_TAGS + 5; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "Tag: cp3%02d-none-any\n", i);
    ck_assert_int_eq(abigate_wheel_tags_from_metadata(many, strlen(many), &t, &err), ABIGATE_OK);
    ck_assert_uint_eq(t.count, ABIGATE_WHEEL_MAX_TAGS);
    ck_assert_uint_eq(t.truncated, 1);
    /* the same through the opaque set callers get */
    abigate_wheel_tags *h = abigate_wheel_tags_new();
    ck_assert_ptr_nonnull(h);
    ck_assert_uint_eq(abigate_wheel_tags_count(h), 0);
    ck_assert_int_eq(abigate_wheel_tags_from_metadata(text, sizeof text - 1, h, &err), ABIGATE_OK);
    const char *py, *abi, *plat;
    ck_assert_uint_eq(abigate_wheel_tags_count(h), 2);
    ck_assert_int_eq(abigate_wheel_tags_truncated(h), 0);
    ck_assert_int_eq(abigate_wheel_tags_get(h, 1, &py, &abi, &plat), ABIGATE_OK);
    ck_assert_str_eq(py, "cp311");
    ck_assert_str_eq(abi, "cp311");
    ck_assert_str_eq(plat, "manylinux2014_x86_64");
    ck_assert_int_eq(abigate_wheel_tags_get(h, 2, &py, NULL, NULL), ABIGATE_E_INVALID_ARG);
    ck_assert_int_eq(abigate_wheel_tags_from_metadata(many, strlen(many), h, &err), ABIGATE_OK);
    ck_assert_int_eq(abigate_wheel_tags_truncated(h), 1);
    abigate_wheel_tags_free(h);
    abigate_wheel_tags_free(NULL);
}
END_TEST

/* Archives that are not regular files, or not there, or empty. */
START_TEST(test_zip_open_kinds)
{
    char dir[] = "/tmp/abigate-zip-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char fifo[64], empty[64];
    snprintf(fifo, sizeof fifo, "%s/fifo.whl", dir);
    snprintf(empty, sizeof empty, "%s/empty.whl", dir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    FILE *f = fopen(empty, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    static const struct { const char *what; int code; } kinds[] = {
        {"dir", ABIGATE_E_IS_DIRECTORY}, {"fifo", ABIGATE_E_NOT_REGULAR},
        {"empty", ABIGATE_E_ZIP_NO_END}, {"missing", ABIGATE_E_OPEN}};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        char path[80];
        const char *p = k == 0 ? dir : k == 1 ? fifo : k == 2 ? empty : path;
        snprintf(path, sizeof path, "%s/missing.whl", dir);
        abigate_zip *z = (abigate_zip *)&kinds; /* untouched on failure */
        abigate_error err;
        int rc = abigate_zip_open_path(p, &z, &err);
        ck_assert_msg(rc == kinds[k].code, "%s: %s (%s)", kinds[k].what, abigate_code_name(rc),
                      err.message);
        ck_assert_ptr_eq(z, (abigate_zip *)&kinds);
        ck_assert_int_eq(err.code, rc);
    }
    abigate_zip *z;
    ck_assert_int_eq(abigate_zip_open_path(NULL, &z, NULL), ABIGATE_E_INVALID_ARG);
    ck_assert_int_eq(abigate_zip_open_fd(-1, &z, NULL), ABIGATE_E_INVALID_ARG);
    ck_assert_uint_eq(abigate_zip_count(NULL), 0);
    abigate_zip_close(NULL);
    unlink(fifo);
    unlink(empty);
    rmdir(dir);
}
END_TEST

/* An archive of one DEFLATE member holding `data`, written to `path`. */
static void write_deflated(const char *path, const char *name, const unsigned char *data,
                           size_t len)
{
    uLong cap = compressBound((uLong)len) + 64;
    unsigned char *out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    ck_assert_int_eq(deflateInit2(&zs, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (unsigned char *)data;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
    uint32_t csize = (uint32_t)zs.total_out, crc = (uint32_t)crc32(0, data, (uInt)len);
    deflateEnd(&zs);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    uint16_t nlen = (uint16_t)strlen(name);
    unsigned char h[46];
#define P16(at, v) (h[at] = (unsigned char)(v), h[(at) + 1] = (unsigned char)((v) >> 8))
#define P32(at, v) (P16(at, (v) & 0xffff), P16((at) + 2, (uint32_t)(v) >> 16))
    memset(h, 0, sizeof h); /* local header */
    P32(0, 0x04034b50u), P16(4, 20), P16(8, 8), P32(14, crc), P32(18, csize);
    P32(22, (uint32_t)len), P16(26, nlen);
    fwrite(h, 1, 30, f), fwrite(name, 1, nlen, f), fwrite(out, 1, csize, f);
    uint32_t cd = (uint32_t)(30 + nlen + csize);
    memset(h, 0, sizeof h); /* central header */
    P32(0, 0x02014b50u), P16(4, 20), P16(6, 20), P16(10, 8), P32(16, crc), P32(20, csize);
    P32(24, (uint32_t)len), P16(28, nlen);
    fwrite(h, 1, 46, f), fwrite(name, 1, nlen, f);
    memset(h, 0, sizeof h); /* end record */
    P32(0, 0x06054b50u), P16(8, 1), P16(10, 1), P32(12, 46u + nlen), P32(16, cd);
    fwrite(h, 1, 22, f);
#undef P16
#undef P32
    ck_assert_int_eq(fclose(f), 0);
    free(out);
}

/* A record-less member judged by the gate with its facts given
 * (abigate_gate_judge_zip_member_facts) is inflated through one member
 * read: less work than the gate's read and the tag check's own read did
 * (each inflating from the start), and the same legacy facts.  The
 * dynamic part and the section headers lie far apart, as in a real file,
 * so the reader goes back further than the ring keeps. */
START_TEST(test_member_judged_in_one_read)
{
    struct elfimage_spec spec = {1, 0, 62, 0, 0, 1, 1, NULL, 0, NULL, 0, 1u << 20, NULL,
                                 256u << 10, 512u << 10, NULL, 0};
    struct elfimage_layout lay;
    size_t cap = 4u << 20;
    unsigned char *img = calloc(1, cap);
    ck_assert_ptr_nonnull(img);
    size_t n = elfimage_build(&spec, img, cap, &lay);
    ck_assert_uint_ge(n, 1u << 20);
    char dir[] = "/tmp/abigate-zip-XXXXXX", path[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/m.whl", dir);
    write_deflated(path, "m.cpython-311-x86_64-linux-gnu.so", img, n);
    abigate_profile p;
    ck_assert_int_eq(abigate_profile_parse(&p, "3.11", NULL), ABIGATE_OK);
    abigate_gate_config cfg;
    abigate_gate_config_init(&cfg);
    abigate_error err;
    abigate_gate *g = abigate_gate_new_for(&p, NULL, &cfg, &err);
    ck_assert_ptr_nonnull(g);

    abigate_zip *z;
    ck_assert_int_eq(abigate_zip_open_path(path, &z, &err), ABIGATE_OK);
    abigate_verdict v;
    abigate_file_info facts, legacy;
    ck_assert_int_ge(abigate_gate_judge_zip_member_facts(g, z, 0, NULL, &v, &facts, &err), 0);
    uint64_t one = abigate__zip_spent(z);
    abigate_zip_close(z);

    /* what the tag check read before: its own record read, then legacy read */
    ck_assert_int_eq(abigate_zip_open_path(path, &z, &err), ABIGATE_OK);
    ck_assert_int_ge(abigate_gate_judge_zip_member(g, z, 0, NULL, &v, &err), 0);
    ck_assert_int_eq(abigate_zip_read_member(z, 0, ABIGATE_READ_RECORD, &legacy, NULL, &err),
                     ABIGATE_OK);
    ck_assert_int_eq(abigate_zip_read_member(z, 0, ABIGATE_READ_LEGACY, &legacy, NULL, &err),
                     ABIGATE_OK);
    uint64_t two = abigate__zip_spent(z);
    abigate_zip_close(z);

    ck_assert_int_eq(facts.legacy_read, 1);
    ck_assert_uint_eq(facts.n_pysyms, legacy.n_pysyms);
    ck_assert_uint_eq(facts.n_needed, legacy.n_needed);
    ck_assert_uint_eq(facts.n_libpython, legacy.n_libpython);
    ck_assert_uint_eq(facts.n_pyinit, legacy.n_pyinit);
    ck_assert_msg(one < two && one <= 3 * (uint64_t)n,
                  "one read inflated %llu bytes, the two reads %llu (member %zu)",
                  (unsigned long long)one, (unsigned long long)two, n);
    /* mode off reads nothing, and says so by zeroed facts */
    abigate_policy off = {ABIGATE_MODE_OFF, 0};
    ck_assert_int_eq(abigate_zip_open_path(path, &z, &err), ABIGATE_OK);
    memset(&facts, 0xff, sizeof facts);
    ck_assert_int_eq(abigate_gate_judge_zip_member_facts(g, z, 0, &off, &v, &facts, &err),
                     ABIGATE_ACCEPT);
    ck_assert_uint_eq(facts.elf_class, 0);
    ck_assert_uint_eq(abigate__zip_spent(z), 0);
    abigate_zip_close(z);
    abigate_gate_free(g);
    free(img);
    unlink(path);
    rmdir(dir);
}
END_TEST

/* The archive's budget: 64 times its size, between 1 GiB and 16 GiB. */
START_TEST(test_zip_budget)
{
    ck_assert_uint_eq(abigate__zip_budget(0), ABIGATE_ZIP_INFLATE_FLOOR);
    ck_assert_uint_eq(abigate__zip_budget(16u << 20), ABIGATE_ZIP_INFLATE_FLOOR);
    ck_assert_uint_eq(abigate__zip_budget(100u << 20), (uint64_t)6400 << 20);
    ck_assert_uint_eq(abigate__zip_budget((uint64_t)1 << 30), ABIGATE_ZIP_MAX_INFLATE_ARCHIVE);
    ck_assert_uint_eq(abigate__zip_budget(UINT64_MAX), ABIGATE_ZIP_MAX_INFLATE_ARCHIVE);
}
END_TEST

/* The walk over a tool's inputs (abigate_walk): what a directory stands
 * for, in name order; a link to a directory walked once, a loop reported,
 * a FIFO under an extension's name given (its reader says what it is), a
 * wheel's extension members given in place, or the wheel itself unopened. */
struct seen {
    char text[2048];
};

static int note_item(const abigate_walk_item *it, void *ctx)
{
    struct seen *s = ctx;
    const char *base = strrchr(it->path, '/');
    size_t n = strlen(s->text);
    ck_assert_uint_eq(it->size, sizeof *it);
    snprintf(s->text + n, sizeof s->text - n, "%s%s%s%s%s;", base ? base + 1 : it->path,
             it->member ? "/" : "", it->member ? it->member : "", it->rc ? " " : "",
             it->rc ? abigate_code_name(it->rc) : "");
    return it->rc ? 2 : 1;
}

START_TEST(test_walk)
{
    char dir[] = "/tmp/abigate-walk-XXXXXX", path[128];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    static const unsigned char elf[64] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
    snprintf(path, sizeof path, "%s/sub", dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    const char *files[] = {"a.so", "b.txt", "sub/c.so"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs("not ELF\n", f);
        fclose(f);
    }
    snprintf(path, sizeof path, "%s/fifo.so", dir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    snprintf(path, sizeof path, "%s/link", dir);
    ck_assert_int_eq(symlink("sub", path), 0);
    snprintf(path, sizeof path, "%s/loop", dir);
    ck_assert_int_eq(symlink(".", path), 0);
    snprintf(path, sizeof path, "%s/w.whl", dir);
    write_deflated(path, "pkg/m.so", elf, sizeof elf);

    struct seen s = {""};
    ck_assert_int_eq(abigate_walk(dir, 0, note_item, &s), 2); /* the largest return */
    ck_assert_str_eq(s.text, "a.so;fifo.so;c.so;loop ABIGATE_E_OPEN;w.whl/pkg/m.so;");
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(abigate_walk(dir, ABIGATE_WALK_WHEELS_UNOPENED, note_item, &s), 2);
    ck_assert_str_eq(s.text, "a.so;fifo.so;c.so;loop ABIGATE_E_OPEN;w.whl;");
    memset(&s, 0, sizeof s);
    snprintf(path, sizeof path, "%s/w.whl", dir);
    ck_assert_int_eq(abigate_walk_wheel(path, note_item, &s), 1);
    ck_assert_str_eq(s.text, "w.whl/pkg/m.so;");
    ck_assert(abigate_walk_is_wheel(path));
    ck_assert(!abigate_walk_is_wheel(dir));
    ck_assert_str_eq(abigate_walk_tag_source(1), "WHEEL");
    ck_assert_ptr_null(abigate_walk_tag_source(ABIGATE_WALK_TAG_SETS));
    memset(&s, 0, sizeof s);
    snprintf(path, sizeof path, "%s/missing", dir);
    ck_assert_int_eq(abigate_walk(path, 0, note_item, &s), 1); /* a path, given: its reader says */
    ck_assert_str_eq(s.text, "missing;");

    /* judged: the member in place (its facts given), a file that is not
     * ELF and an item that could not be walked by the gate's table */
    abigate_profile prof;
    ck_assert_int_eq(abigate_profile_parse(&prof, "3.13", NULL), ABIGATE_OK);
    abigate_gate_config cfg;
    abigate_gate_config_init(&cfg);
    abigate_error err;
    abigate_gate *g = abigate_gate_new_for(&prof, NULL, &cfg, &err);
    ck_assert_ptr_nonnull(g);
    abigate_verdict v;
    abigate_file_info fi;
    abigate_error why = {ABIGATE_E_OPEN, -1, "a loop of links: this directory is one being walked"};
    abigate_walk_item loop = {.size = sizeof loop, .path = dir, .rc = ABIGATE_E_OPEN, .err = &why};
    ck_assert_int_eq(abigate_walk_judge(g, &loop, NULL, &v, &fi, &err), ABIGATE_REFUSE);
    ck_assert_int_eq(v.reason, ABIGATE_R_UNREADABLE);
    ck_assert_int_eq(err.code, ABIGATE_E_OPEN);
    snprintf(path, sizeof path, "%s/a.so", dir);
    abigate_walk_item file = {.size = sizeof file, .path = path};
    ck_assert_int_eq(abigate_walk_judge(g, &file, NULL, &v, &fi, &err), ABIGATE_REFUSE);
    ck_assert_int_eq(v.error, ABIGATE_E_NOT_ELF);
    abigate_policy warn = {ABIGATE_MODE_WARN, 0};
    ck_assert_int_eq(abigate_walk_judge(g, &file, &warn, &v, &fi, &err), ABIGATE_ACCEPT);
    ck_assert(v.warning);
    ck_assert_int_eq(abigate_walk_judge(NULL, &file, NULL, &v, NULL, &err), ABIGATE_E_INVALID_ARG);
    abigate_verdict tv[ABIGATE_WALK_TAG_SETS];
    ck_assert_uint_eq(abigate_walk_judge_tags(&file, &fi, &warn, tv), 0); /* not a member */
    abigate_gate_free(g);

    const char *rm[] = {"a.so", "b.txt", "sub/c.so", "fifo.so", "link", "loop", "w.whl", "sub"};
    for (size_t i = 0; i < sizeof rm / sizeof rm[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, rm[i]);
        ck_assert_int_eq(i + 1 < sizeof rm / sizeof rm[0] ? unlink(path) : rmdir(path), 0);
    }
    ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

Suite *make_wheel_suite(void)
{
    Suite *s = suite_create("wheel");
    TCase *tc = tcase_create("tags");
    tcase_add_loop_test(tc, test_rows, 0, (int)(sizeof rows / sizeof rows[0]));
    tcase_add_test(tc, test_every_wheel_reason_covered);
    tcase_add_test(tc, test_tag_spec);
    tcase_add_loop_test(tc, test_tags_decide, 0, (int)(sizeof tags_cases / sizeof tags_cases[0]));
    tcase_add_loop_test(tc, test_file_names, 0, (int)(sizeof names / sizeof names[0]));
    tcase_add_test(tc, test_metadata);
    tcase_add_test(tc, test_zip_open_kinds);
    tcase_add_test(tc, test_member_judged_in_one_read);
    tcase_add_test(tc, test_zip_budget);
    tcase_add_test(tc, test_walk);
    suite_add_tcase(s, tc);
    return s;
}
