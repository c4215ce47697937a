/* wheel.c -- a wheel's tags (its file name, its .dist-info/WHEEL) against
 * what each of its extension members really is.  The decision,
 * abigate_wheel_decide, is pure: docs/POLICY.md, "Wheel tags against
 * contents", is its table.  Tags: PEP 425 and the binary distribution
 * format (packaging.python.org, "Platform compatibility tags").
 */
#include "internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ parsing */

static int add_tag(abigate_wheel_tags *t, const char *py, size_t npy, const char *abi, size_t nabi,
                   const char *plat, size_t nplat)
{
    if (t->count >= ABIGATE_WHEEL_MAX_TAGS) {
        t->truncated = 1;
        return 0;
    }
    if (!npy || !nabi || !nplat || npy >= sizeof t->tag[0].python ||
        nabi >= sizeof t->tag[0].abi || nplat >= sizeof t->tag[0].platform)
        return -1;
    memcpy(t->tag[t->count].python, py, npy);
    t->tag[t->count].python[npy] = '\0';
    memcpy(t->tag[t->count].abi, abi, nabi);
    t->tag[t->count].abi[nabi] = '\0';
    memcpy(t->tag[t->count].platform, plat, nplat);
    t->tag[t->count].platform[nplat] = '\0';
    t->count++;
    return 0;
}

/* Expand "cp38.cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64"
 * (compressed tag sets) into triples. */
static int expand(abigate_wheel_tags *t, const char *py, size_t npy, const char *abi, size_t nabi,
                  const char *plat, size_t nplat)
{
    if (!npy || !nabi || !nplat)
        return -1;
    for (size_t a = 0; a < npy;) {
        size_t a2 = a;
        while (a2 < npy && py[a2] != '.')
            a2++;
        for (size_t b = 0; b < nabi;) {
            size_t b2 = b;
            while (b2 < nabi && abi[b2] != '.')
                b2++;
            for (size_t c = 0; c < nplat;) {
                size_t c2 = c;
                while (c2 < nplat && plat[c2] != '.')
                    c2++;
                if (add_tag(t, py + a, a2 - a, abi + b, b2 - b, plat + c, c2 - c))
                    return -1;
                c = c2 + 1;
            }
            b = b2 + 1;
        }
        a = a2 + 1;
    }
    return 0;
}

int abigate_wheel_tags_from_filename(const char *path, abigate_wheel_tags *out, abigate_error *err)
{
    if (!path || !out)
        return abigate__fail(err, ABIGATE_E_INVALID_ARG, -1, NULL);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n < 4 || strcmp(base + n - 4, ".whl") != 0)
        return abigate__fail(err, ABIGATE_E_WHEEL_NAME, -1, "%s: not a .whl file name", base);
    n -= 4;
    /* {distribution}-{version}(-{build})?-{python}-{abi}-{platform}: the last three */
    const char *dash[6];
    int nd = 0;
    for (size_t i = 0; i < n; i++)
        if (base[i] == '-') {
            if (nd == 6)
                return abigate__fail(err, ABIGATE_E_WHEEL_NAME, -1, "%s: too many '-' fields", base);
            dash[nd++] = base + i;
        }
    if (nd != 4 && nd != 5)
        return abigate__fail(err, ABIGATE_E_WHEEL_NAME, -1,
                             "%s: not name-version[-build]-python-abi-platform.whl", base);
    const char *py = dash[nd - 3] + 1, *abi = dash[nd - 2] + 1, *plat = dash[nd - 1] + 1;
    abigate_wheel_tags t;
    memset(&t, 0, sizeof t);
    if (expand(&t, py, (size_t)(dash[nd - 2] - py), abi, (size_t)(dash[nd - 1] - abi), plat,
               (size_t)(base + n - plat)))
        return abigate__fail(err, ABIGATE_E_WHEEL_NAME, -1, "%s: malformed tags", base);
    *out = t;
    abigate__ok(err);
    return ABIGATE_OK;
}

int abigate_wheel_tags_from_metadata(const char *text, size_t len, abigate_wheel_tags *out,
                                     abigate_error *err)
{
    if (!text || !out)
        return abigate__fail(err, ABIGATE_E_INVALID_ARG, -1, NULL);
    abigate_wheel_tags t;
    memset(&t, 0, sizeof t);
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && text[j] != '\n')
            j++;
        size_t e = j;
        if (e > i && text[e - 1] == '\r')
            e--;
        if (e - i > 4 && strncmp(text + i, "Tag:", 4) == 0) {
            size_t s = i + 4;
            while (s < e && (text[s] == ' ' || text[s] == '\t'))
                s++;
            const char *d1 = memchr(text + s, '-', e - s);
            const char *d2 = d1 ? memchr(d1 + 1, '-', (size_t)(text + e - d1 - 1)) : NULL;
            if (!d2 || expand(&t, text + s, (size_t)(d1 - text - s), d1 + 1, (size_t)(d2 - d1 - 1),
                              d2 + 1, (size_t)(text + e - d2 - 1)))
                return abigate__fail(err, ABIGATE_E_WHEEL_NAME, (int64_t)i,
                                     "WHEEL: malformed Tag line \"%.*s\"", (int)(e - i > 80 ? 80 : e - i),
                                     text + i);
        }
        i = j + 1;
    }
    *out = t;
    abigate__ok(err);
    return ABIGATE_OK;
}

int abigate_wheel_read_metadata(const abigate_zip *z, abigate_wheel_tags *out, abigate_error *err)
{
    if (!z || !out)
        return abigate__fail(err, ABIGATE_E_INVALID_ARG, -1, NULL);
    for (size_t i = 0; i < abigate_zip_count(z); i++) {
        abigate_zip_entry e;
        abigate_zip_entry_get(z, i, &e);
        const char *slash = strchr(e.name, '/');
        size_t n = slash ? (size_t)(slash - e.name) : 0;
        if (!slash || n < 11 || strncmp(slash - 10, ".dist-info", 10) != 0 ||
            strcmp(slash + 1, "WHEEL") != 0)
            continue;
        char buf[16384];
        size_t len;
        int rc = abigate_zip_read_small(z, i, buf, sizeof buf, &len, err);
        if (rc)
            memset(out, 0, sizeof *out);
        return rc ? rc : abigate_wheel_tags_from_metadata(buf, len, out, err);
    }
    memset(out, 0, sizeof *out);
    return abigate__fail(err, ABIGATE_E_WHEEL_NAME, -1, "no *.dist-info/WHEEL in the archive");
}

/* ------------------------------------------------------------------ the decision */

/* What a member is, from its record, else its file-name tag and symbols. */
struct member {
    int cpython;          /* a CPython extension at all */
    int known;            /* version and ABI known (record or tag) */
    int stable;           /* stable ABI (abi3/abi3t) */
    unsigned major, minor; /* version-specific: built for; stable: the floor */
    int gil, ft;          /* runs with the GIL / free-threaded */
    const char *from;     /* "record" or "file name" */
};

static void describe_member(const abigate_file_info *f, struct member *m)
{
    memset(m, 0, sizeof *m);
    m->cpython = f->record_state == ABIGATE_RECORD_PRESENT || f->n_pyinit || f->n_modexport ||
                 f->n_pysyms || f->n_libpython || f->tag.kind == ABIGATE_TAG_CPYTHON ||
                 f->tag.kind == ABIGATE_TAG_ABI3 || f->tag.kind == ABIGATE_TAG_ABI3T;
    if (f->record_state == ABIGATE_RECORD_PRESENT) {
        const abigate_abiinfo *a = &f->record.abiinfo;
        m->known = 1;
        m->from = "record";
        m->stable = (a->flags & ABIGATE_ABIINFO_STABLE) != 0;
        m->major = a->abi_version >> 24 & 0xff;
        m->minor = a->abi_version >> 16 & 0xff;
        unsigned th = a->flags & ABIGATE_ABIINFO_AGNOSTIC;
        m->gil = th != ABIGATE_ABIINFO_FREETHREADED; /* GIL, both, or unspecified */
        m->ft = th == ABIGATE_ABIINFO_FREETHREADED || th == ABIGATE_ABIINFO_AGNOSTIC ||
                (th == 0 && (f->record.flags & ABIGATE_REC_GIL_DISABLED));
        if (th == 0 && (f->record.flags & ABIGATE_REC_GIL_DISABLED))
            m->gil = 0;
        return;
    }
    /* A Windows file names its build in the DLL it imports from */
    for (unsigned i = 0; f->format == ABIGATE_FORMAT_PE && i < f->n_libpython &&
                         i < ABIGATE_MAX_LIBPYTHON; i++) {
        struct abigate__pylink l;
        if (!abigate__parse_libpython(f, f->libpython[i], &l))
            continue;
        m->known = 1;
        m->from = "the DLL it imports from";
        m->ft = l.ft;
        m->gil = !m->ft;
        if (l.minor) {
            m->major = 3;
            m->minor = l.minor;
        } else {
            m->stable = 1; /* python3.dll: abi3; python3t.dll: abi3t, loaded by both builds */
            m->gil = 1;
        }
        return;
    }
    m->from = "file name";
    if (f->tag.kind == ABIGATE_TAG_CPYTHON) {
        m->known = 1;
        m->major = f->tag.major;
        m->minor = f->tag.minor;
        m->ft = f->tag.free_threaded != 0;
        m->gil = !m->ft;
    } else if (f->tag.kind == ABIGATE_TAG_ABI3 || f->tag.kind == ABIGATE_TAG_ABI3T) {
        m->known = 1;
        m->stable = 1;
        m->gil = 1;
        m->ft = f->tag.kind == ABIGATE_TAG_ABI3T;
    }
}

struct arch {
    const char *suffix;
    unsigned machine, elf_class;
};

static const struct arch ARCHES[] = {
    {"x86_64", 62, 64}, {"i686", 3, 32}, {"aarch64", 183, 64}, {"armv7l", 40, 32},
    {"ppc64le", 21, 64}, {"ppc64", 21, 64}, {"s390x", 22, 64}, {"riscv64", 243, 64},
};

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static const char *format_words(const abigate_file_info *f)
{
    return f->format == ABIGATE_FORMAT_PE      ? "Windows PE"
           : f->format == ABIGATE_FORMAT_MACHO ? "macOS Mach-O"
                                               : "ELF";
}

/* 1 when the file (a universal one: one of its slices) is for `machine`
 * with `elf_class`. */
static int has_machine(const abigate_file_info *f, unsigned machine, unsigned elf_class)
{
    if (!f->n_slices)
        return f->machine == machine && f->elf_class == elf_class;
    for (unsigned i = 0; i < f->n_slices && i < ABIGATE_MAX_SLICES; i++)
        if (f->slice[i].machine == machine && f->slice[i].elf_class == elf_class)
            return 1;
    return 0;
}

/* The machines a file is for, in words ("x86-64", "x86-64 and AArch64"). */
static void machines_words(const abigate_file_info *f, char *buf, size_t len)
{
    unsigned n = f->n_slices ? f->n_slices : 1;
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < n && i < ABIGATE_MAX_SLICES && used < len; i++) {
        unsigned m = f->n_slices ? f->slice[i].machine : f->machine;
        unsigned c = f->n_slices ? f->slice[i].elf_class : f->elf_class;
        const char *mn = abigate_machine_name(m);
        int w = snprintf(buf + used, len - used, "%s%s %u-bit", i ? (i + 1 == n ? " and " : ", ") : "",
                         mn ? mn : "unknown", c);
        used += w > 0 ? (size_t)w : 0;
    }
}

/* Windows and macOS platform tags against a file of that format: its
 * machines (win_amd64, win32, win_arm64; macosx_*_x86_64, _arm64, and
 * _universal2 / _intel, which need each of their slices) and, on macOS,
 * the oldest version the tag names against the file's minos. */
static int judge_platform(const char *plat, const abigate_file_info *f, char *why, size_t wlen)
{
    static const struct {
        const char *tag;
        unsigned m1, m2, elf_class;
    } NEEDS[] = {
        {"win_amd64", 62, 0, 64}, {"win32", 3, 0, 32},        {"win_arm64", 183, 0, 64},
        {"x86_64", 62, 0, 64},    {"arm64", 183, 0, 64},      {"universal2", 62, 183, 64},
        {"intel", 62, 3, 0},      {"i386", 3, 0, 32},
    };
    const char *arch = plat;
    unsigned major = 0, minor = 0;
    int n = 0;
    if (f->format == ABIGATE_FORMAT_MACHO) {
        if (sscanf(plat, "macosx_%u_%u_%n", &major, &minor, &n) != 2 || n == 0)
            return ABIGATE_R_NONE; /* not a tag this reads: not judged */
        arch = plat + n;
    }
    char words[160];
    machines_words(f, words, sizeof words);
    for (size_t i = 0; i < sizeof NEEDS / sizeof NEEDS[0]; i++) {
        if (strcmp(arch, NEEDS[i].tag))
            continue;
        unsigned c1 = NEEDS[i].elf_class ? NEEDS[i].elf_class : 64;
        unsigned c2 = NEEDS[i].elf_class ? NEEDS[i].elf_class : 32;
        if (!has_machine(f, NEEDS[i].m1, c1) || (NEEDS[i].m2 && !has_machine(f, NEEDS[i].m2, c2))) {
            snprintf(why, wlen, "a %s file for %s%s", format_words(f), words,
                     NEEDS[i].m2 ? " (the tag needs both slices)" : "");
            return ABIGATE_R_WHEEL_PLATFORM;
        }
        break;
    }
    if (f->format == ABIGATE_FORMAT_MACHO && f->min_os && (major << 16 | minor << 8) < f->min_os) {
        snprintf(why, wlen, "a Mach-O file that needs macOS %u.%u (its minos); the tag says %u.%u",
                 f->min_os >> 16, f->min_os >> 8 & 0xff, major, minor);
        return ABIGATE_R_WHEEL_PLATFORM;
    }
    return ABIGATE_R_NONE;
}

/* The reason one tag triple refuses the member, or ABIGATE_R_NONE; `why`
 * gets the member's side in words. */
static int judge_triple(const struct abigate_wheel_tag *t, const abigate_file_info *f,
                        const struct member *m, char *why, size_t wlen)
{
    const char *plat = t->platform, *abi = t->abi;
    if (strcmp(abi, "none") == 0 && m->cpython) {
        snprintf(why, wlen, "a CPython extension (%s)",
                 f->record_state == ABIGATE_RECORD_PRESENT ? "record" : "its exports and imports");
        return ABIGATE_R_WHEEL_NONE_ABI;
    }
    unsigned want = strncmp(plat, "win", 3) == 0      ? ABIGATE_FORMAT_PE
                    : strncmp(plat, "macosx_", 7) == 0 ? ABIGATE_FORMAT_MACHO
                                                       : ABIGATE_FORMAT_ELF;
    if (strcmp(plat, "any") == 0 || f->format != want) {
        snprintf(why, wlen, "a %s file", format_words(f));
        return ABIGATE_R_WHEEL_PLATFORM;
    }
    if (want != ABIGATE_FORMAT_ELF) {
        int r = judge_platform(plat, f, why, wlen);
        if (r)
            return r;
    } else
    for (size_t i = 0; i < sizeof ARCHES / sizeof ARCHES[0]; i++)
        if (ends_with(plat, ARCHES[i].suffix) && strlen(plat) > strlen(ARCHES[i].suffix) &&
            plat[strlen(plat) - strlen(ARCHES[i].suffix) - 1] == '_') {
            if (ARCHES[i].machine != f->machine || ARCHES[i].elf_class != f->elf_class) {
                const char *mn = abigate_machine_name(f->machine);
                snprintf(why, wlen, "ELF%u %s", f->elf_class, mn ? mn : "of another machine");
                return ABIGATE_R_WHEEL_PLATFORM;
            }
            break;
        }
    if (strcmp(abi, "none") == 0)
        return ABIGATE_R_NONE;
    if (!m->known)
        return ABIGATE_R_NONE;
    if (strcmp(abi, "abi3") == 0 || strcmp(abi, "abi3t") == 0) {
        int need_ft = abi[4] == 't';
        if (!m->stable || (need_ft ? !m->ft : !m->gil)) {
            snprintf(why, wlen, "%s %s build (%s)", !m->stable ? "a version-specific" : "a stable-ABI",
                     m->ft && !m->gil ? "free-threaded" : m->ft ? "GIL and free-threaded" : "GIL",
                     m->from);
            return ABIGATE_R_WHEEL_ABI3;
        }
        unsigned pmaj, pmin;
        if (sscanf(t->python, "cp%1u%2u", &pmaj, &pmin) == 2 && m->major &&
            (m->major > pmaj || (m->major == pmaj && m->minor > pmin))) {
            snprintf(why, wlen, "a stable-ABI build for %u.%u and later (%s)", m->major, m->minor,
                     m->from);
            return ABIGATE_R_WHEEL_VERSION;
        }
        return ABIGATE_R_NONE;
    }
    unsigned amaj, amin;
    char flags[8] = "";
    if (sscanf(abi, "cp%1u%2u%7s", &amaj, &amin, flags) < 2)
        return ABIGATE_R_NONE; /* another implementation's tag: not judged */
    int want_ft = strchr(flags, 't') != NULL;
    if (m->stable) {
        if (m->major && (m->major > amaj || (m->major == amaj && m->minor > amin))) {
            snprintf(why, wlen, "a stable-ABI build for %u.%u and later (%s)", m->major, m->minor,
                     m->from);
            return ABIGATE_R_WHEEL_VERSION;
        }
    } else if (m->major != amaj || m->minor != amin) {
        snprintf(why, wlen, "built for %u.%u (%s)", m->major, m->minor, m->from);
        return ABIGATE_R_WHEEL_VERSION;
    }
    if (want_ft ? !m->ft : !m->gil) {
        snprintf(why, wlen, "a %s build (%s)", m->ft && !m->gil ? "free-threaded" : "GIL", m->from);
        return ABIGATE_R_WHEEL_THREADING;
    }
    return ABIGATE_R_NONE;
}

ABIGATE_API int abigate_wheel_tag_spec(const abigate_wheel_tags *tags, unsigned i, char *buf,
                                       size_t len)
{
    if (!tags || i >= tags->count || i >= ABIGATE_WHEEL_MAX_TAGS || !buf || len < 8)
        return ABIGATE_E_INVALID_ARG;
    const struct abigate_wheel_tag *t = &tags->tag[i];
    unsigned pmaj, pmin, amaj, amin;
    char flags[8] = "", rest[2];
    if (sscanf(t->python, "cp%1u%2u%1s", &pmaj, &pmin, rest) != 2 || pmaj != 3 ||
        !strcmp(t->platform, "any"))
        return ABIGATE_E_BAD_SPEC; /* another implementation's, or no binary at all */
    int n;
    if (!strcmp(t->abi, "abi3"))
        n = snprintf(buf, len, "3.%u-%s", pmin, t->platform);
    else if (!strcmp(t->abi, "abi3t")) /* abi3t: the free-threaded runtimes, from 3.15 on */
        n = snprintf(buf, len, "3.%ut-%s", pmin < 15 ? 15 : pmin, t->platform);
    else if (sscanf(t->abi, "cp%1u%2u%7s", &amaj, &amin, flags) >= 2 && amaj == 3 &&
             strspn(flags, "td") == strlen(flags))
        n = snprintf(buf, len, "3.%u%s%s-%s", amin, strchr(flags, 't') ? "t" : "",
                     strchr(flags, 'd') ? "d" : "", t->platform);
    else
        return ABIGATE_E_BAD_SPEC; /* "none", another implementation's ABI */
    if (n < 0 || (size_t)n >= len)
        return ABIGATE_E_INVALID_ARG;
    abigate_profile p;
    return abigate_profile_parse(&p, buf, NULL); /* a platform this library knows */
}

ABIGATE_API abigate_wheel_tags *abigate_wheel_tags_new(void)
{
    return calloc(1, sizeof(abigate_wheel_tags));
}

ABIGATE_API void abigate_wheel_tags_free(abigate_wheel_tags *tags)
{
    free(tags);
}

ABIGATE_API unsigned abigate_wheel_tags_count(const abigate_wheel_tags *tags)
{
    return tags ? tags->count : 0;
}

ABIGATE_API int abigate_wheel_tags_truncated(const abigate_wheel_tags *tags)
{
    return tags && tags->truncated;
}

ABIGATE_API int abigate_wheel_tags_get(const abigate_wheel_tags *tags, unsigned i,
                                       const char **python, const char **abi,
                                       const char **platform)
{
    if (!tags || i >= tags->count)
        return ABIGATE_E_INVALID_ARG;
    if (python)
        *python = tags->tag[i].python;
    if (abi)
        *abi = tags->tag[i].abi;
    if (platform)
        *platform = tags->tag[i].platform;
    return ABIGATE_OK;
}

int abigate__wheel_decide(const abigate_wheel_tags *tags, const char *source,
                         const abigate_file_info *member, const abigate_policy *policy,
                         abigate_verdict *out)
{
    if (!tags || !member || !policy || !out || policy->mode < ABIGATE_MODE_OFF ||
        policy->mode > ABIGATE_MODE_REQUIRE)
        return ABIGATE_E_INVALID_ARG;
    memset(out, 0, sizeof *out);
    struct member m;
    describe_member(member, &m);
    out->evidence = member->record_state == ABIGATE_RECORD_PRESENT ? ABIGATE_EVIDENCE_RECORD
                                                                   : ABIGATE_EVIDENCE_INFERRED;
    if (policy->mode == ABIGATE_MODE_OFF || tags->count == 0) {
        snprintf(out->message, sizeof out->message, "%s", policy->mode == ABIGATE_MODE_OFF
                                                              ? "not checked (mode off)"
                                                              : "no tags to check against");
        return out->kind = ABIGATE_ACCEPT;
    }
    /* the member fits the wheel when one of its tags accepts it */
    int first = ABIGATE_R_NONE;
    char why[128] = "", first_why[128] = "";
    const struct abigate_wheel_tag *first_tag = NULL;
    for (unsigned i = 0; i < tags->count; i++) {
        int r = judge_triple(&tags->tag[i], member, &m, why, sizeof why);
        if (r == ABIGATE_R_NONE) {
            snprintf(out->message, sizeof out->message, "fits the %s tag %s-%s-%s",
                     source ? source : "wheel", tags->tag[i].python, tags->tag[i].abi,
                     tags->tag[i].platform);
            return out->kind = ABIGATE_ACCEPT;
        }
        if (!first_tag) {
            first = r;
            first_tag = &tags->tag[i];
            memcpy(first_why, why, sizeof why);
        }
    }
    out->reason = first;
    snprintf(out->message, sizeof out->message, "the %s tag %s-%s-%s%s does not fit this member: %s",
             source ? source : "wheel", first_tag->python, first_tag->abi, first_tag->platform,
             tags->count > 1 ? " (nor any other of its tags)" : "", first_why);
    if (policy->mode == ABIGATE_MODE_WARN) {
        out->warning = 1;
        return out->kind = ABIGATE_ACCEPT;
    }
    return out->kind = ABIGATE_REFUSE;
}

int abigate__wheel_tags_decide(const abigate_wheel_tags *tags, int read_rc, const char *problem,
                              const char *source, const abigate_policy *policy,
                              abigate_verdict *out)
{
    if (!tags || !policy || !out || policy->mode < ABIGATE_MODE_OFF ||
        policy->mode > ABIGATE_MODE_REQUIRE)
        return ABIGATE_E_INVALID_ARG;
    memset(out, 0, sizeof *out);
    out->evidence = ABIGATE_EVIDENCE_NONE;
    const char *src = source ? source : "wheel";
    if (policy->mode == ABIGATE_MODE_OFF) {
        snprintf(out->message, sizeof out->message, "not checked (mode off)");
        return out->kind = ABIGATE_ACCEPT;
    }
    if (read_rc == ABIGATE_OK && !tags->truncated) {
        snprintf(out->message, sizeof out->message, "the %s tags were read (%u)", src, tags->count);
        return out->kind = ABIGATE_ACCEPT;
    }
    out->reason = ABIGATE_R_WHEEL_METADATA;
    if (read_rc != ABIGATE_OK)
        snprintf(out->message, sizeof out->message,
                 "the %s tags cannot be read (%s): its members escape the %s tags check", src,
                 problem && problem[0] ? problem : abigate_strerror(read_rc), src);
    else
        snprintf(out->message, sizeof out->message,
                 "the %s lists more than %u tags: the rest were not read, so its members are "
                 "not checked against them", src, (unsigned)ABIGATE_WHEEL_MAX_TAGS);
    if (policy->mode == ABIGATE_MODE_WARN) {
        out->warning = 1;
        return out->kind = ABIGATE_ACCEPT;
    }
    return out->kind = ABIGATE_REFUSE;
}
