/* check_gate.c -- the gate (loader/gate.c): the record-first rule, mode
 * resolution, the texts users read, and files that cannot be judged, in
 * every mode, through abigate_gate_judge and abigate_gate_dlopen (docs/POLICY.md,
 * "Record first" and "Files that cannot be judged"). */
#include "libabigate/internal.h"

#include <check.h>
#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elfimage.h"
#include "suites.h"

/* ---------------------------------------------------------------- record first */

enum { ABSENT = ABIGATE_RECORD_ABSENT, PRESENT = ABIGATE_RECORD_PRESENT,
       UNSUPPORTED = ABIGATE_RECORD_UNSUPPORTED, CONFLICT = ABIGATE_RECORD_CONFLICT,
       NATIVE = 100 /* PRESENT through CPython's PyABIInfo */ };

struct need_row {
    const char *what;
    int state;
    unsigned recflags, abiflags;
    uint32_t build;
    const char *spec;   /* the runtime */
    int exports;        /* runtime exports known */
    int mode;
    unsigned policy_flags;
    int want;
};

#define ST ABIGATE_MODE_STRICT
#define STABLE ABIGATE_ABIINFO_STABLE
#define GIL ABIGATE_ABIINFO_GIL
#define AGN ABIGATE_ABIINFO_AGNOSTIC

static const struct need_row need_rows[] = {
    {"no record: inference needs symbols", ABSENT, 0, 0, 0, "3.13", 1, ST, 0, 1},
    {"no record, warn", ABSENT, 0, 0, 0, "3.13", 1, ABIGATE_MODE_WARN, 0, 1},
    {"no record, require: refused without them", ABSENT, 0, 0, 0, "3.13", 1,
     ABIGATE_MODE_REQUIRE, 0, 0},
    {"mode off", ABSENT, 0, 0, 0, "3.13", 1, ABIGATE_MODE_OFF, 0, 0},
    {"unknown record major", UNSUPPORTED, 0, 0, 0, "3.13", 1, ST, 0, 0},
    {"records that disagree: refused without them", CONFLICT, 0, GIL, 0x030f02f0, "3.15.2", 1, ST,
     0, 0},
    {"native record on a release runtime: Py_DEBUG unknown", NATIVE, 0, GIL, 0x030f02f0, "3.15.2",
     1, ST, 0, 1},
    {"native record on a debug runtime: settled", NATIVE, 0, GIL, 0x030f02f0, "3.15.2d", 1, ST,
     0, 0},
    {"native record, no exports known: settled", NATIVE, 0, GIL, 0x030f02f0, "3.15.2", 0, ST, 0,
     0},
    {"native record refused by its PyABIInfo: settled", NATIVE, 0, GIL, 0x030f02f0, "3.13.15", 1,
     ST, 0, 0},
    {"record, same version: settled", PRESENT, 0, GIL, 0x030d0ff0, "3.13.15", 1, ST, 0, 0},
    {"record, older headers: settled", PRESENT, ABIGATE_REC_LIMITED_API, STABLE | GIL,
     0x030b02f0, "3.13.15", 1, ST, 0, 0},
    {"record, headers newer than the runtime (nanobind#1183)", PRESENT, ABIGATE_REC_LIMITED_API,
     STABLE | GIL, 0x030f02f0, "3.13.15", 1, ST, 0, 1},
    {"record, newer micro", PRESENT, 0, GIL, 0x030d0ff0, "3.13.0", 1, ST, 0, 1},
    {"record, newer headers but no exports known", PRESENT, ABIGATE_REC_LIMITED_API, STABLE | GIL,
     0x030f02f0, "3.13.15", 0, ST, 0, 0},
    {"record, debug build on a release runtime", PRESENT, ABIGATE_REC_PY_DEBUG, GIL, 0x030d0ff0,
     "3.13.15", 0, ST, 0, 1},
    {"record, debug build on a debug runtime", PRESENT, ABIGATE_REC_PY_DEBUG, GIL, 0x030d0ff0,
     "3.13.15d", 1, ST, 0, 0},
    {"record, internal API", PRESENT, ABIGATE_REC_BUILD_CORE, GIL | ABIGATE_ABIINFO_INTERNAL,
     0x030d0ff0, "3.13.15", 1, ST, 0, 1},
    {"record refused by its PyABIInfo (another version): newer headers do not matter", PRESENT,
     0, GIL, 0x030f02f0, "3.13.15", 1, ST, 0, 0},
    {"record refused by its PyABIInfo: a debug build of another version", PRESENT,
     ABIGATE_REC_PY_DEBUG, GIL, 0x030b02f0, "3.13.15", 1, ST, 0, 0},
    {"record, abi3t with the backport possible", PRESENT,
     ABIGATE_REC_OPAQUE_PYOBJECT | ABIGATE_REC_LIMITED_API | ABIGATE_REC_TARGET_ABI3T,
     STABLE | AGN, 0x030f02f0, "3.13.15", 1, ST, ABIGATE_POLICY_ADAPT_ABI3T, 1},
    {"record, abi3t without the backport: headers newer still need them", PRESENT,
     ABIGATE_REC_OPAQUE_PYOBJECT | ABIGATE_REC_LIMITED_API, STABLE | AGN, 0x030f02f0,
     "3.15.2", 1, ST, ABIGATE_POLICY_ADAPT_ABI3T, 0},
};

START_TEST(test_needs_symbols)
{
    const struct need_row *r = &need_rows[_i];
    abigate_profile p;
    abigate_symbols *ex = calloc(1, sizeof *ex);
    ck_assert_ptr_nonnull(ex);
    ck_assert_int_eq(abigate_profile_parse(&p, r->spec, NULL), ABIGATE_OK);
    if (r->exports)
        p.exports = ex;
    abigate_file_info f;
    memset(&f, 0, sizeof f);
    f.record_state = r->state == NATIVE ? PRESENT : r->state;
    f.record_via = r->state == NATIVE ? ABIGATE_VIA_PYABIINFO : ABIGATE_VIA_PT_NOTE;
    f.record.major = r->state == UNSUPPORTED ? 2 : 1;
    f.record.flags = r->recflags;
    f.record.abiinfo.major = 1;
    f.record.abiinfo.flags = (uint16_t)r->abiflags;
    f.record.abiinfo.build_version = r->build;
    f.record.abiinfo.abi_version = r->abiflags & STABLE ? 0x030d0000 : r->build;
    abigate_policy pol = {r->mode, r->policy_flags};
    ck_assert_msg(abigate__needs_symbols(&f, &p, &pol) == r->want, "%s: want %d", r->what,
                  r->want);
    free(ex);
}
END_TEST

/* ---------------------------------------------------------------- mode resolution */

struct mode_row {
    int xgiven;
    const char *x, *env;
    unsigned flags;
    const char *dflt;
    int mode;
    unsigned policy_flags;
    const char *source;
    const char *warning; /* substring, or "" for none */
};

static const struct mode_row mode_rows[] = {
    {0, NULL, NULL, 0, NULL, ABIGATE_MODE_OFF, 0, "default", ""},
    {0, NULL, NULL, 0, "strict", ABIGATE_MODE_STRICT, 0, "default", ""},
    {0, NULL, "warn", 0, "strict", ABIGATE_MODE_WARN, 0, "PYTHONABIGATE", ""},
    {0, NULL, "", 0, "strict", ABIGATE_MODE_STRICT, 0, "default", ""},
    {0, NULL, "warn", ABIGATE_RESOLVE_IGNORE_ENV, "strict", ABIGATE_MODE_STRICT, 0, "default", ""},
    {1, NULL, "warn", 0, "off", ABIGATE_MODE_STRICT, 0, "-X abigate", ""},
    {1, "", NULL, 0, NULL, ABIGATE_MODE_STRICT, 0, "-X abigate", ""},
    {1, "require,trace", "warn", 0, NULL, ABIGATE_MODE_REQUIRE, ABIGATE_POLICY_TRACE, "-X abigate",
     ""},
    {1, "off", NULL, ABIGATE_RESOLVE_IGNORE_ENV, "strict", ABIGATE_MODE_OFF, 0, "-X abigate", ""},
    {0, NULL, "bogus", 0, NULL, ABIGATE_MODE_STRICT, 0, "PYTHONABIGATE",
     "abigate: PYTHONABIGATE=bogus is not a mode (off, warn, strict or require, optionally "
     "followed by ',trace'); using strict"},
    {1, "nope", NULL, 0, NULL, ABIGATE_MODE_STRICT, 0, "-X abigate",
     "abigate: -X abigate=nope is not a mode"},
};

START_TEST(test_mode_resolve)
{
    const struct mode_row *r = &mode_rows[_i];
    abigate_mode_choice c;
    ck_assert_int_eq(abigate_mode_resolve(r->xgiven, r->x, r->env, r->flags, r->dflt, &c, NULL),
                     ABIGATE_OK);
    ck_assert_int_eq(c.policy.mode, r->mode);
    ck_assert_uint_eq(c.policy.flags, r->policy_flags);
    ck_assert_str_eq(c.source, r->source);
    if (r->warning[0])
        ck_assert_msg(strstr(c.warning, r->warning) == c.warning, "warning: %s", c.warning);
    else
        ck_assert_str_eq(c.warning, "");
}
END_TEST

START_TEST(test_mode_resolve_bad_default)
{
    abigate_mode_choice c;
    abigate_error err;
    ck_assert_int_eq(abigate_mode_resolve(0, NULL, NULL, 0, "loud", &c, &err), ABIGATE_E_BAD_MODE);
    ck_assert_int_eq(err.code, ABIGATE_E_BAD_MODE);
}
END_TEST

/* ---------------------------------------------------------------- the texts */

START_TEST(test_texts)
{
    abigate_verdict v;
    memset(&v, 0, sizeof v);
    v.kind = ABIGATE_REFUSE;
    v.reason = ABIGATE_R_VERSION;
    snprintf(v.message, sizeof v.message, "built for 3.11");
    char buf[256];
    abigate_gate_format(ABIGATE_TEXT_REFUSAL, NULL, "spam", "/p/spam.so", &v, NULL, buf, sizeof buf);
    ck_assert_str_eq(buf, "cannot load 'spam' from /p/spam.so: built for 3.11 [ABIGATE_R_VERSION]");
    abigate_gate_format(ABIGATE_TEXT_TRACE, NULL, "spam", "/p/spam.so", &v, NULL, buf, sizeof buf);
    ck_assert_str_eq(buf, "abigate: refuse 'spam' /p/spam.so: built for 3.11 [ABIGATE_R_VERSION]");
    v.kind = ABIGATE_ACCEPT;
    v.warning = 1;
    abigate_gate_format(ABIGATE_TEXT_WARNING, NULL, "spam", "/p/spam.so", &v, NULL, buf, sizeof buf);
    ck_assert_str_eq(buf, "abigate: 'spam' from /p/spam.so: built for 3.11 [ABIGATE_R_VERSION]");
    abigate_gate_format(ABIGATE_TEXT_TRACE, NULL, "spam", "/p/spam.so", &v, NULL, buf, sizeof buf);
    ck_assert_str_eq(buf, "abigate: warn 'spam' /p/spam.so: built for 3.11 [ABIGATE_R_VERSION]");
    v.warning = 0;
    v.reason = ABIGATE_R_NONE;
    abigate_gate_format(ABIGATE_TEXT_TRACE, NULL, "spam", "/p/spam.so", &v, NULL, buf, sizeof buf);
    ck_assert_str_eq(buf, "abigate: accept 'spam' /p/spam.so: built for 3.11");
    v.kind = ABIGATE_REFUSE;
    v.reason = ABIGATE_R_UNREADABLE;
    v.error = ABIGATE_E_NOT_ELF;
    ck_assert_str_eq(abigate_verdict_rule(&v), "ABIGATE_E_NOT_ELF");
    /* truncation: the length needed is returned, the buffer is terminated */
    size_t need = abigate_gate_format(ABIGATE_TEXT_REFUSAL, NULL, "spam", "/p/spam.so", &v, NULL,
                                      buf, 10);
    ck_assert_uint_gt(need, 10);
    ck_assert_uint_eq(strlen(buf), 9);
    /* a failed load */
    abigate_error err = {ABIGATE_E_DLOPEN, -1, "/p/spam.so: invalid ELF header"};
    v.kind = ABIGATE_ACCEPT;
    abigate_gate_format(ABIGATE_TEXT_REFUSAL, NULL, "spam", "/p/spam.so", &v, &err, buf, sizeof buf);
    ck_assert_str_eq(buf, "cannot load 'spam' from /p/spam.so: /p/spam.so: invalid ELF header "
                          "[ABIGATE_E_DLOPEN]");
}
END_TEST

/* ---------------------------------------------------------------- files that cannot be judged */

static char dir[64];

static void make_files(void)
{
    snprintf(dir, sizeof dir, "/tmp/abigate-gate-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char p[128];
    snprintf(p, sizeof p, "%s/text.so", dir);
    FILE *f = fopen(p, "w");
    fputs("this is not an ELF object\n", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/empty.so", dir);
    fclose(fopen(p, "w"));
    snprintf(p, sizeof p, "%s/truncated.so", dir); /* an ELF magic, then nothing */
    f = fopen(p, "w");
    fputs("\177ELF\002\001", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/dir.so", dir);
    mkdir(p, 0755);
}

static void remove_files(void)
{
    const char *names[] = {"text.so", "empty.so", "truncated.so"};
    char p[128];
    for (unsigned i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s/dir.so", dir);
    rmdir(p);
    rmdir(dir);
}

static int open_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

struct unreadable_row {
    const char *name;
    int code;
};

static const struct unreadable_row unreadable_rows[] = {
    {"missing.so", ABIGATE_E_OPEN},
    {"dir.so", ABIGATE_E_IS_DIRECTORY},
    {"text.so", ABIGATE_E_NOT_ELF},
    {"empty.so", ABIGATE_E_EMPTY},
    {"truncated.so", ABIGATE_E_TRUNCATED_HEADER},
};

START_TEST(test_unreadable)
{
    const struct unreadable_row *r = &unreadable_rows[_i / 4];
    int mode = _i % 4;
    make_files();
    abigate_profile p;
    ck_assert_int_eq(abigate_profile_parse(&p, "3.13", NULL), ABIGATE_OK);
    abigate_gate_config cfg;
    abigate_gate_config_init(&cfg);
    cfg.policy.mode = mode;
    abigate_error err;
    abigate_gate *g = abigate_gate_new_for(&p, NULL, &cfg, &err);
    ck_assert_ptr_nonnull(g);
    char path[160];
    snprintf(path, sizeof path, "%s/%s", dir, r->name);
    int fds = open_fds();
    abigate_verdict v;
    int kind = abigate_gate_judge(g, path, NULL, &v, &err);
    /* the table of docs/POLICY.md */
    int want = mode == ABIGATE_MODE_STRICT || mode == ABIGATE_MODE_REQUIRE ? ABIGATE_REFUSE
                                                                           : ABIGATE_ACCEPT;
    ck_assert_int_eq(kind, want);
    ck_assert_int_eq(v.kind, want);
    if (mode == ABIGATE_MODE_OFF) {
        ck_assert_int_eq(v.reason, ABIGATE_R_NONE);
    } else {
        ck_assert_int_eq(v.reason, ABIGATE_R_UNREADABLE);
        ck_assert_int_eq(v.error, r->code);
        ck_assert_int_eq(v.warning, mode == ABIGATE_MODE_WARN);
        ck_assert_str_eq(abigate_verdict_rule(&v), abigate_code_name(r->code));
        ck_assert_ptr_nonnull(strstr(v.message, "cannot be judged"));
    }
    /* the load: refused in strict/require, else tried, and the loader's error has the
     * real path, never the /proc/self/fd name */
    void *h = abigate_gate_dlopen(g, path, RTLD_NOW, NULL, &v, &err);
    ck_assert_ptr_null(h);
    if (want == ABIGATE_REFUSE) {
        ck_assert_int_eq(v.kind, ABIGATE_REFUSE);
        ck_assert_int_eq(err.code, ABIGATE_E_REFUSED);
        ck_assert_str_eq(err.message, v.message);
    } else {
        ck_assert_int_ne(err.code, ABIGATE_OK);
        ck_assert_msg(strstr(err.message, "/proc/self/fd") == NULL, "%s", err.message);
        if (err.code == ABIGATE_E_DLOPEN)
            ck_assert_msg(strstr(err.message, path) != NULL, "%s", err.message);
    }
    ck_assert_int_eq(open_fds(), fds); /* nothing leaked */
    abigate_gate_free(g);
    remove_files();
}
END_TEST

START_TEST(test_gate_args)
{
    abigate_error err;
    abigate_gate_config cfg;
    abigate_gate_config_init(&cfg);
    cfg.size = 4; /* a caller that did not call abigate_gate_config_init */
    ck_assert_ptr_null(abigate_gate_new(&cfg, &err));
    ck_assert_int_eq(err.code, ABIGATE_E_INVALID_ARG);
    ck_assert_ptr_null(abigate_gate_new(NULL, &err));
    abigate_gate_config_init(&cfg);
    abigate_gate *g = abigate_gate_new(&cfg, &err);
    ck_assert_ptr_nonnull(g);
    abigate_verdict v;
    /* no CPython in this process: the gate's own error, not a verdict */
    ck_assert_int_eq(abigate_gate_judge(g, "/bin/sh", NULL, &v, &err), ABIGATE_E_NO_INTERPRETER);
    ck_assert_ptr_null(abigate_gate_profile(g, &err));
    ck_assert_int_eq(abigate_gate_judge(NULL, "/bin/sh", NULL, &v, &err), ABIGATE_E_INVALID_ARG);
    abigate_policy bad = {42, 0};
    ck_assert_int_eq(abigate_gate_judge(g, "/bin/sh", &bad, &v, &err), ABIGATE_E_INVALID_ARG);
    abigate_gate_stats s;
    abigate_gate_stats_get(g, &s);
    ck_assert_uint_eq(s.judged, 0);
    abigate_gate_free(g);
    abigate_gate_free(NULL);
    abigate_symbols *syms = abigate_symbols_new(); /* heap-owned, empty */
    ck_assert_ptr_nonnull(syms);
    ck_assert_uint_eq(syms->count, 0);
    ck_assert_int_eq(abigate_symbols_contains(syms, "Py_Initialize"), 0);
    abigate_symbols_free(syms);
    abigate_symbols_free(NULL);
}
END_TEST

/* ---------------------------------------------------------------- search facts */

/* What the same-file load reads from a file with its record (elf.c
 * read_search, through the staged read the gate makes): the search path,
 * whether it or a DT_NEEDED name mentions ORIGIN as the dynamic loader
 * reads it, and the names kept only then, in every ELF class and byte
 * order.  The struct comes filled with garbage but for `names`. */
struct search_row {
    const char *path; /* DT_RUNPATH / DT_RPATH, NULL: none */
    int rpath;
    int dynamic;      /* 0: no dynamic segment at all */
    int state, origin;
};

static const struct search_row search_rows[] = {
    {"$ORIGIN/../pkg.libs", 0, 1, 1, 1},
    {"$ORIGIN/../pkg.libs", 1, 1, 1, 1},
    {"${ORIGIN}", 0, 1, 1, 1},
    {"/opt/lib:$ORIGIN", 1, 1, 1, 1},
    {"x$ORIGIN/y", 0, 1, 1, 1},
    {"$ORIGIN", 0, 1, 1, 1},
    {"$ORIGINAL/lib", 0, 1, 1, 0},   /* another token: not ORIGIN */
    {"$ORIGIN_x", 0, 1, 1, 0},
    {"${ORIGIN", 0, 1, 1, 0},        /* unterminated brace */
    {"$LIB:$PLATFORM", 0, 1, 1, 0},
    {"/usr/lib/foo", 1, 1, 1, 0},
    {NULL, 0, 1, 1, 0},              /* a DT_NEEDED, no search path */
    {NULL, 0, 0, 0, 0},              /* no dynamic segment */
};

static abigate_symbols *no_symbols(const abigate_file_info *info, void *ctx)
{
    (void)info, (void)ctx;
    return NULL;
}

START_TEST(test_search_facts)
{
    const struct search_row *r = &search_rows[_i / 4];
    struct elfimage_spec spec;
    struct elfimage_layout lay;
    static unsigned char img[65536];
    memset(&spec, 0, sizeof spec);
    spec.is64 = _i & 1;
    spec.be = (_i >> 1) & 1;
    spec.machine = spec.is64 ? 62 : 3;
    spec.dynamic = r->dynamic;
    spec.search_path = r->path;
    spec.search_is_rpath = r->rpath;
    size_t len = elfimage_build(&spec, img, sizeof img, &lay);
    ck_assert_uint_gt(len, 0);
    int fd = memfd_create("search", MFD_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, img, len), (ssize_t)len);
    struct abigate__search *out = malloc(sizeof *out);
    memset(out, 0xa5, sizeof *out);
    out->names = NULL; /* the one field the caller sets */
    struct abigate__stage stage = {no_symbols, NULL, out};
    abigate_file_info info;
    abigate_error err;
    ck_assert_int_eq(abigate__read_fd_staged(fd, "m.so", &stage, &info, &err), ABIGATE_OK);
    close(fd);
    ck_assert_int_eq(out->state, r->state);
    ck_assert_int_eq(out->has_origin, r->origin);
    if (r->dynamic) {
        ck_assert_int_eq(out->needed_origin, 0);
        ck_assert_int_eq(out->has_rpath, r->path && r->rpath);
        ck_assert_int_eq(out->has_runpath, r->path && !r->rpath);
    }
    if (r->origin) { /* the names, kept for the stand-in */
        const struct abigate__search_names *nm = out->names;
        ck_assert_ptr_nonnull(nm);
        ck_assert_uint_eq(nm->n_needed, 1);
        ck_assert_str_eq(nm->pool + nm->needed[0], "libpython3.11.so.1.0");
        ck_assert_str_eq(nm->pool + (r->rpath ? nm->rpath : nm->runpath), r->path);
        ck_assert_uint_le(nm->pool_used, sizeof nm->pool);
    } else {
        ck_assert_ptr_null(out->names); /* nothing kept, nothing copied */
    }
    abigate__search_release(out);
    ck_assert_uint_eq(out->elf_class, spec.is64 ? 64 : 32);
    ck_assert_uint_eq(out->big_endian, (unsigned)spec.be);
    ck_assert_uint_eq(out->machine, spec.machine);
    free(out);
}
END_TEST

Suite *make_gate_suite(void)
{
    Suite *s = suite_create("gate");
    TCase *tc = tcase_create("record_first");
    tcase_add_loop_test(tc, test_needs_symbols, 0, (int)(sizeof need_rows / sizeof *need_rows));
    suite_add_tcase(s, tc);
    tc = tcase_create("mode");
    tcase_add_loop_test(tc, test_mode_resolve, 0, (int)(sizeof mode_rows / sizeof *mode_rows));
    tcase_add_test(tc, test_mode_resolve_bad_default);
    suite_add_tcase(s, tc);
    tc = tcase_create("texts");
    tcase_add_test(tc, test_texts);
    suite_add_tcase(s, tc);
    tc = tcase_create("unreadable");
    tcase_add_loop_test(tc, test_unreadable, 0,
                        (int)(4 * sizeof unreadable_rows / sizeof *unreadable_rows));
    tcase_add_test(tc, test_gate_args);
    suite_add_tcase(s, tc);
    tc = tcase_create("search");
    tcase_add_loop_test(tc, test_search_facts, 0, (int)(sizeof search_rows / sizeof *search_rows) * 4);
    suite_add_tcase(s, tc);
    return s;
}
