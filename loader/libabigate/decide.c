/* decide.c -- the verdict: a file's facts + an interpreter profile + a policy
 * -> ACCEPT / ADAPT(kind) / REFUSE(reason, message).
 *
 * Pure: no I/O, no globals besides constant tables.  docs/POLICY.md is the
 * contract; every rule below names the row it implements (R_* reasons).
 *
 * Order:  mode off -> ELF identity -> record (or its absence) -> evidence
 * from the file's imported symbols -> accept.  The first rule that fails
 * decides; `warn` turns that refusal into an accepted warning.
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define VERSION_3_2  0x03020000u
#define VERSION_3_12 0x030c0000u
#define VERSION_3_13 0x030d0000u
#define VERSION_3_15 0x030f0000u
#define XY(hex) ((hex) & 0xffff0000u)

static unsigned ver_minor(uint32_t hex) { return hex >> 16 & 0xff; }
static unsigned ver_level(uint32_t hex) { return hex >> 4 & 0xf; }
/* Alpha and beta builds are not ABI-frozen; the freeze is at rc1. */
static int pre_freeze(uint32_t hex) { return hex && ver_level(hex) < 0xc; }
static int profile_ft(const abigate_profile *p)
{
    return (p->flags & ABIGATE_PROFILE_FREETHREADED) != 0;
}

/* ---------------------------------------------------------------- tables */

ABIGATE_API const char *abigate_reason_name(int reason)
{
    switch (reason) {
#define X(name, value, text) case value: return #name;
#include "abigate/reasons.h"
#undef X
    default:
        return "ABIGATE_R_UNKNOWN";
    }
}

ABIGATE_API const char *abigate_reason_text(int reason)
{
    switch (reason) {
#define X(name, value, text) case value: return text;
#include "abigate/reasons.h"
#undef X
    default:
        return "unknown reason";
    }
}

ABIGATE_API const char *abigate_verdict_name(int kind)
{
    return kind == ABIGATE_ACCEPT ? "accept" : kind == ABIGATE_ADAPT ? "adapt"
         : kind == ABIGATE_REFUSE ? "refuse" : "?";
}

static const char *const mode_names[] = {"off", "warn", "strict", "require"};

ABIGATE_API const char *abigate_mode_name(int mode)
{
    return mode >= ABIGATE_MODE_OFF && mode <= ABIGATE_MODE_REQUIRE ? mode_names[mode] : "?";
}

ABIGATE_API int abigate_policy_parse(const char *text, abigate_policy *out, abigate_error *err)
{
    if (!text || !out)
        return abigate__fail(err, ABIGATE_E_INVALID_ARG, -1, NULL);
    abigate_policy p = {ABIGATE_MODE_STRICT, 0};
    int have_mode = 0;
    const char *s = text;
    for (;;) {
        size_t n = strcspn(s, ",");
        int found = 0;
        for (int m = ABIGATE_MODE_OFF; m <= ABIGATE_MODE_REQUIRE; m++)
            if (!have_mode && n == strlen(mode_names[m]) && !strncmp(s, mode_names[m], n))
                p.mode = m, have_mode = found = 1;
        if (!found && n == 5 && !strncmp(s, "trace", 5) && !(p.flags & ABIGATE_POLICY_TRACE))
            p.flags |= ABIGATE_POLICY_TRACE, found = 1;
        if (!found)
            return abigate__fail(err, ABIGATE_E_BAD_MODE, -1,
                                 "'%.64s': want off, warn, strict or require, "
                                 "optionally followed by ,trace", text);
        if (!s[n])
            break;
        s += n + 1;
    }
    *out = p;
    abigate__ok(err);
    return ABIGATE_OK;
}

/* ---------------------------------------------------------------- messages */

/* The message being written.  A text with cap 0 is silent: nothing is
 * formatted (ABIGATE_POLICY_QUIET's first pass); buf still holds the NUL. */
struct text {
    char *buf;
    size_t cap, len;
};

static void put(struct text *t, const char *fmt, ...) ABIGATE__PRINTF(2, 3);
static void put(struct text *t, const char *fmt, ...)
{
    if (t->len + 1 >= t->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len = (size_t)n < t->cap - t->len ? t->len + (size_t)n : t->cap - 1;
}

/* The hot path (an ACCEPT on every import) appends without printf. */
static void put_s(struct text *t, const char *s)
{
    while (*s && t->len + 1 < t->cap)
        t->buf[t->len++] = *s++;
    t->buf[t->len] = '\0';
}

static void put_version(struct text *t, uint32_t hex)
{
    if (!t->cap)
        return;
    char v[24];
    put_s(t, abigate_format_version(hex, v, sizeof v));
}

/* "3.8" */
static void put_xy(struct text *t, uint32_t hex)
{
    if (!t->cap)
        return;
    char v[24];
    abigate_format_version(hex & 0xffff00f0u, v, sizeof v); /* "3.8.0" */
    *strrchr(v, '.') = '\0';
    put_s(t, v);
}

/* "3.13.15 free-threaded", "3.11.2 with the GIL", "3.15.2 debug with the GIL" */
static void put_profile(struct text *t, const abigate_profile *p)
{
    put_version(t, p->hexversion);
    put_s(t, p->flags & ABIGATE_PROFILE_DEBUG ? " debug " : " ");
    put_s(t, profile_ft(p) ? "free-threaded" : "with the GIL");
}

/* What the record says the file was built for. */
static void put_build(struct text *t, const abigate_record *r)
{
    const abigate_abiinfo *a = &r->abiinfo;
    unsigned gil = a->flags & ABIGATE_ABIINFO_AGNOSTIC;
    int dbg = (r->flags & ABIGATE_REC_PY_DEBUG) != 0;
    if (a->flags & ABIGATE_ABIINFO_STABLE) {
        put_s(t, gil == ABIGATE_ABIINFO_AGNOSTIC
                     ? "built for the free-threading agnostic stable ABI (abi3t, "
                 : gil == ABIGATE_ABIINFO_FREETHREADED
                     ? "built for the free-threaded stable ABI ("
                     : "built for the GIL stable ABI (abi3, ");
        put_xy(t, a->abi_version);
        put_s(t, dbg ? "+), debug" : "+)");
    } else if (a->flags & ABIGATE_ABIINFO_INTERNAL) {
        put_s(t, "built for the internal ABI of exactly ");
        put_version(t, a->abi_version ? a->abi_version : a->build_version);
        put_s(t, dbg ? " debug" : "");
    } else {
        put_s(t, "built for ");
        put_xy(t, a->abi_version ? a->abi_version : a->build_version);
        put_s(t, gil == ABIGATE_ABIINFO_FREETHREADED ? "t (free-threaded)" : " (GIL)");
        put_s(t, dbg ? " debug" : "");
    }
    if (a->build_version && pre_freeze(a->build_version)) {
        put_s(t, " with ");
        put_version(t, a->build_version);
        put_s(t, " headers");
    }
}

static void put_tag(struct text *t, const abigate_tag *tag)
{
    if (tag->kind == ABIGATE_TAG_NONE || tag->kind == ABIGATE_TAG_BARE) {
        put_s(t, "the file name has no ABI tag");
    } else {
        put_s(t, "the file is tagged ");
        put_s(t, tag->tag);
    }
}

/* ---------------------------------------------------------------- the PyABIInfo rules */

int abigate__decide_abiinfo(const abigate_abiinfo *a, const abigate_profile *p)
{
    if (!a || !p)
        return ABIGATE_R_NONE;
    uint32_t rt = p->hexversion;
    if (a->major == 0)
        return ABIGATE_R_NONE; /* CPython: version 0 means "no information" */
    if (a->major > 1)
        return ABIGATE_R_ABIINFO_VERSION;
    if ((a->flags & ABIGATE_ABIINFO_INTERNAL) && a->abi_version && a->abi_version != rt)
        return ABIGATE_R_INTERNAL_VERSION;
    unsigned gil = a->flags & ABIGATE_ABIINFO_AGNOSTIC;
    /* Stricter than CPython, which never runs this check below 3.15: abi3t
     * (agnostic stable ABI) says so before its 3.15 floor is compared. */
    if ((a->flags & ABIGATE_ABIINFO_STABLE) && gil == ABIGATE_ABIINFO_AGNOSTIC &&
        rt < VERSION_3_15)
        return ABIGATE_R_ABI3T_TOO_OLD;
    if (a->flags & ABIGATE_ABIINFO_STABLE) {
        if (a->abi_version) {
            if (XY(a->abi_version) > XY(rt))
                return ABIGATE_R_STABLE_TOO_NEW;
            if (a->abi_version < VERSION_3_2)
                return ABIGATE_R_STABLE_INVALID;
        }
        if (a->flags & ABIGATE_ABIINFO_INTERNAL)
            return ABIGATE_R_STABLE_INTERNAL;
    } else if (a->abi_version && XY(a->abi_version) != XY(rt)) {
        return ABIGATE_R_VERSION;
    }
    if (profile_ft(p) && gil == ABIGATE_ABIINFO_GIL)
        return ABIGATE_R_GIL_ON_FREETHREADED;
    if (!profile_ft(p) && gil == ABIGATE_ABIINFO_FREETHREADED)
        return ABIGATE_R_FREETHREADED_ON_GIL;

    /* Stricter than CPython (docs/POLICY.md, "Where abigate is stricter"). */
    /* The ABI the file depends on is the build's own major.minor (version-
     * specific, or a stable floor equal to it): before rc1 that ABI is not
     * frozen, so only the very same version will do. */
    uint32_t dep = a->abi_version ? a->abi_version : a->build_version;
    if (a->build_version && XY(dep) == XY(a->build_version) &&
        (pre_freeze(a->build_version) || (XY(rt) == XY(dep) && pre_freeze(rt))) &&
        a->build_version != rt)
        return ABIGATE_R_PRERELEASE;
    return ABIGATE_R_NONE;
}

/* "which needs ..." for a PyABIInfo reason */
static void put_abiinfo_rule(struct text *t, int reason, const abigate_record *r,
                             const abigate_profile *p)
{
    const abigate_abiinfo *a = &r->abiinfo;
    unsigned minor = ver_minor(p->hexversion);
    switch (reason) {
    case ABIGATE_R_ABIINFO_VERSION:
        put(t, "; its PyABIInfo has version %u.%u, newer than this abigate understands",
            a->major, a->minor);
        break;
    case ABIGATE_R_VERSION:
        put(t, ", which needs a 3.%u%s build or the stable ABI", minor, profile_ft(p) ? "t" : "");
        break;
    case ABIGATE_R_INTERNAL_VERSION:
        put(t, ", and the internal ABI changes with every release");
        break;
    case ABIGATE_R_PRERELEASE:
        put(t, "; %s is a pre-release whose ABI is not frozen before rc1, so only the "
               "exact version it was built with is compatible",
            pre_freeze(a->build_version) ? "the build" : "this interpreter");
        break;
    case ABIGATE_R_STABLE_TOO_NEW:
        put(t, ", older than the stable ABI floor %u.%u the file needs",
            a->abi_version >> 24 & 0xff, ver_minor(a->abi_version));
        break;
    case ABIGATE_R_STABLE_INVALID:
        put(t, "; a stable ABI floor below 3.2 is invalid (stable ABI version 0x%08x)",
            (unsigned)a->abi_version);
        break;
    case ABIGATE_R_STABLE_INTERNAL:
        put(t, "; the record claims both the stable and the internal ABI, which is invalid");
        break;
    case ABIGATE_R_GIL_ON_FREETHREADED:
        put(t, ", which needs a free-threaded or abi3t build");
        break;
    case ABIGATE_R_FREETHREADED_ON_GIL:
        put(t, ", which needs a GIL build (3.%u or abi3) or abi3t", minor);
        break;
    case ABIGATE_R_ABI3T_TOO_OLD:
        put(t, "; abi3t is loadable from 3.15 on (the import gate can adapt slots-only "
               "modules below that)");
        break;
    default:
        break;
    }
}

/* ---------------------------------------------------------------- symbol evidence */

static int is_weak(const abigate_symbols *s, unsigned i) { return s->sym[i].weak != 0; }

/* Symbols that only debug (Py_REF_DEBUG) builds define, from 3.8 to 3.15. */
static const char *const debug_only_symbols[] = {
    "_Py_RefTotal", "_Py_NegativeRefcount", "_Py_INCREF_IncRefTotal",
    "_Py_DECREF_DecRefTotal", "_Py_IncRefTotal", "_Py_DecRefTotal", "_Py_GetRefTotal",
};

static int debug_only(const char *name)
{
    if (name[0] != '_' || name[1] != 'P' || name[2] != 'y' || name[3] != '_' ||
        !strstr(name + 4, "Ref"))
        return 0; /* all of them are _Py_*Ref*: nearly every import leaves here */
    for (size_t i = 0; i < sizeof debug_only_symbols / sizeof *debug_only_symbols; i++)
        if (!strcmp(name, debug_only_symbols[i]))
            return 1;
    return 0;
}

/* List up to 4 names of `syms` for which pick() holds; returns how many held. */
static unsigned put_names(struct text *t, const abigate_symbols *syms,
                          int (*pick)(const abigate_symbols *, unsigned, const void *),
                          const void *ctx)
{
    unsigned n = 0;
    for (unsigned i = 0; i < syms->count; i++) {
        if (!pick(syms, i, ctx))
            continue;
        if (n < 4)
            put(t, "%s%s", n ? ", " : "", abigate_symbols_name(syms, i));
        n++;
    }
    if (n > 4)
        put(t, " and %u more", n - 4);
    return n;
}

static unsigned count_names(const abigate_symbols *syms,
                            int (*pick)(const abigate_symbols *, unsigned, const void *),
                            const void *ctx)
{
    unsigned n = 0;
    for (unsigned i = 0; i < syms->count; i++)
        n += pick(syms, i, ctx) != 0;
    return n;
}

static int pick_missing(const abigate_symbols *s, unsigned i, const void *exports)
{
    return !is_weak(s, i) && !abigate__symbols_has(exports, s, i);
}

static int pick_debug(const abigate_symbols *s, unsigned i, const void *ctx)
{
    (void)ctx;
    return !is_weak(s, i) && debug_only(abigate__symbol_name(s, i));
}

static int pick_not_stable(const abigate_symbols *s, unsigned i, const void *ctx)
{
    (void)ctx;
    return !is_weak(s, i) && !abigate_stable_abi_lookup(abigate__symbol_name(s, i));
}

static int pick_too_new(const abigate_symbols *s, unsigned i, const void *rt)
{
    const abigate_stable_symbol *e = abigate_stable_abi_lookup(abigate__symbol_name(s, i));
    return !is_weak(s, i) && e && XY(e->added) > XY(*(const uint32_t *)rt);
}

/* Symbol rules shared by files with and without a record: writes "needs X,
 * Y, which ..." and returns the reason, or writes nothing. */
static int check_symbols(struct text *t, const abigate_file_info *f, const abigate_symbols *syms,
                         const abigate_profile *p)
{
    if (!syms || !f->legacy_read)
        return ABIGATE_R_NONE;
    int release = !(p->flags & ABIGATE_PROFILE_DEBUG);
    if (p->exports && count_names(syms, pick_missing, p->exports)) {
        char name[48];
        put(t, "needs ");
        put_names(t, syms, pick_missing, p->exports);
        put(t, ", which this %s interpreter does not export",
            abigate_profile_name(p, name, sizeof name));
        return release && count_names(syms, pick_debug, NULL) ? ABIGATE_R_DEBUG_SYMBOLS
                                                              : ABIGATE_R_MISSING_SYMBOLS;
    }
    if (release && count_names(syms, pick_debug, NULL)) {
        put(t, "needs ");
        put_names(t, syms, pick_debug, NULL);
        put(t, ", which only debug (Py_DEBUG) interpreters export");
        return ABIGATE_R_DEBUG_SYMBOLS;
    }
    return ABIGATE_R_NONE;
}

static void rewind_to(struct text *t, size_t mark)
{
    t->len = mark;
    t->buf[mark] = '\0';
}

/* ---------------------------------------------------------------- files with a record */

/* An abi3t record the import gate's backport could load below 3.15: opaque
 * PyObject (no object layout), a PEP 793 PyModExport hook, a stable floor
 * the backport knows (3.15), and symbol evidence to check. */
static int backport_candidate(const abigate_file_info *f, const abigate_profile *p,
                              const abigate_policy *pol)
{
    const abigate_record *r = &f->record;
    return (pol->flags & ABIGATE_POLICY_ADAPT_ABI3T) && (r->flags & ABIGATE_REC_OPAQUE_PYOBJECT) &&
           f->n_modexport && XY(r->abiinfo.abi_version) <= VERSION_3_15 && p->exports;
}

/* A record 1.1 "universal" module (<abigate/universal.h>) below 3.15,
 * whose imports can be checked: its PyInit_ serves 3.12 to 3.14; below
 * 3.12 the imports it lacks are named. */
/* 1 for an abi3t PyABIInfo that only CPython's own record gives, next to
 * a classic PyInit_ (read with the legacy facts): the module's author gave
 * the versions below 3.15 a hook of their own, as <abigate/universal.h> does. */
static int native_universal(const abigate_file_info *f)
{
    return f->record_via == ABIGATE_VIA_PYABIINFO && f->legacy_read && f->n_pyinit > 0;
}

static int universal_candidate(const abigate_file_info *f, const abigate_profile *p)
{
    const abigate_record *r = &f->record;
    return (((r->flags & ABIGATE_REC_UNIVERSAL) && r->minor >= 1) || native_universal(f)) &&
           p->hexversion < VERSION_3_15 && p->exports;
}

static int decide_record(struct text *t, const abigate_file_info *f, const abigate_symbols *syms,
                         const abigate_profile *p, const abigate_policy *pol, int *adapt)
{
    const abigate_record *r = &f->record;
    if (r->pointer_size && p->pointer_size && r->pointer_size != p->pointer_size) {
        put(t, "built with %u-byte pointers; this interpreter uses %u-byte pointers",
            r->pointer_size, p->pointer_size);
        return ABIGATE_R_POINTER_SIZE;
    }
    int reason = abigate_decide_abiinfo(&r->abiinfo, p);
    if (reason) {
        put_build(t, r);
        put_s(t, "; this interpreter is ");
        put_profile(t, p);
        if (reason == ABIGATE_R_ABI3T_TOO_OLD && universal_candidate(f, p)) {
            /* <abigate/universal.h>: its own PyInit_ builds this version's
             * PyModuleDef; it runs when every function it imports is here */
            size_t mark = t->len;
            put_s(t, ": its universal PyInit_ cannot serve it, it ");
            int missing = check_symbols(t, f, syms, p);
            if (missing)
                return missing;
            if (syms && f->legacy_read && !syms->truncated && p->hexversion >= VERSION_3_12) {
                rewind_to(t, mark);
                put_s(t, native_universal(f)
                             ? ": its classic PyInit_ serves the versions before 3.15, and every "
                               "imported symbol is exported"
                             : ": a universal module (<abigate/universal.h>): its PyInit_ serves "
                               "3.12 to 3.14, and every imported symbol is exported");
                if (f->tag.kind == ABIGATE_TAG_ABI3T)
                    put(t, "; but this interpreter does not look for files named %s.%s.so: "
                           "name it %s.so, which every version loads (docs/UNIVERSAL.md)",
                        f->tag.module, f->tag.tag, f->tag.module);
                else if (f->tag.kind == ABIGATE_TAG_ABI3)
                    put(t, "; 3.15t does not look for files named %s.%s.so: name it %s.so, "
                           "which every version loads (docs/UNIVERSAL.md)",
                        f->tag.module, f->tag.tag, f->tag.module);
                return ABIGATE_R_NONE;
            }
            rewind_to(t, mark);
        }
        if (reason == ABIGATE_R_ABI3T_TOO_OLD && backport_candidate(f, p, pol)) {
            size_t mark = t->len;
            put_s(t, ": the abi3t backport cannot load it, it ");
            int missing = check_symbols(t, f, syms, p);
            if (missing)
                return missing;
            rewind_to(t, mark);
            if (syms && f->legacy_read && !syms->truncated) {
                put(t, ": loaded through the abi3t backport (opaque PyObject, slots-only %s, "
                       "every imported symbol exported)", f->modexport);
                *adapt = ABIGATE_ADAPT_ABI3T_BACKPORT;
                return ABIGATE_R_NONE;
            }
        }
        put_abiinfo_rule(t, reason, r, p);
        return reason;
    }
    uint32_t build = r->abiinfo.build_version ? r->abiinfo.build_version : p->hexversion;
    int tr_file = (r->flags & ABIGATE_REC_TRACE_REFS) != 0;
    int tr_rt = (p->flags & ABIGATE_PROFILE_TRACE_REFS) != 0;
    if (tr_file != tr_rt && (p->hexversion < VERSION_3_13 || build < VERSION_3_13)) {
        put_build(t, r);
        put(t, " %s Py_TRACE_REFS; this interpreter is ", tr_file ? "with" : "without");
        put_profile(t, p);
        put(t, " %s it, and below 3.13 that changes the PyObject layout",
            tr_rt ? "with" : "without");
        return ABIGATE_R_TRACE_REFS;
    }
    put_build(t, r);
    size_t mark = t->len;
    put_s(t, "; it ");
    if ((reason = check_symbols(t, f, syms, p)))
        return reason;
    rewind_to(t, mark);
    put_s(t, "; compatible with this ");
    put_profile(t, p);
    put_s(t, " interpreter");
    return ABIGATE_R_NONE;
}

/* Record first (docs/POLICY.md, "Record first"): whether the symbol table
 * must be read for `f` (read with ABIGATE_READ_RECORD) on `p`.  A record
 * settles the verdict alone unless a symbol could still be missing: headers
 * newer than the runtime (a stable-ABI build can call what its floor's
 * runtime lacks, nanobind#1183), a debug build on a release runtime, the
 * internal API, or the abi3t backport (which needs every import exported). */
int abigate__needs_symbols(const abigate_file_info *f, const abigate_profile *p,
                           const abigate_policy *pol)
{
    if (pol->mode == ABIGATE_MODE_OFF || f->record_state == ABIGATE_RECORD_UNSUPPORTED ||
        f->record_state == ABIGATE_RECORD_CONFLICT)
        return 0; /* refused by the records alone */
    if (f->record_state == ABIGATE_RECORD_ABSENT)
        return pol->mode != ABIGATE_MODE_REQUIRE;
    const abigate_record *r = &f->record;
    if ((pol->flags & ABIGATE_POLICY_ADAPT_ABI3T) && (r->flags & ABIGATE_REC_OPAQUE_PYOBJECT) &&
        p->hexversion < VERSION_3_15 && p->exports)
        return 1; /* the backport needs every import exported */
    if ((r->flags & ABIGATE_REC_UNIVERSAL) && r->minor >= 1 && p->hexversion < VERSION_3_15 &&
        p->exports)
        return 1; /* so does a universal module's own PyInit_ */
    if (f->record_via == ABIGATE_VIA_PYABIINFO && p->hexversion < VERSION_3_15 && p->exports &&
        (r->abiinfo.flags & (ABIGATE_ABIINFO_STABLE | ABIGATE_ABIINFO_AGNOSTIC)) ==
            (ABIGATE_ABIINFO_STABLE | ABIGATE_ABIINFO_AGNOSTIC))
        return 1; /* an abi3t PyABIInfo: a classic PyInit_ of its own may serve (native_universal) */
    if (abigate_decide_abiinfo(&r->abiinfo, p) != ABIGATE_R_NONE)
        return 0; /* refused by the record alone */
    if (!(p->flags & ABIGATE_PROFILE_DEBUG) && (r->flags & ABIGATE_REC_PY_DEBUG))
        return 1; /* a debug build on a release runtime: debug-only imports */
    if (!p->exports)
        return 0; /* no exports: no other symbol rule can apply */
    if (f->record_via == ABIGATE_VIA_PYABIINFO && !(p->flags & ABIGATE_PROFILE_DEBUG))
        return 1; /* CPython's PyABIInfo cannot say Py_DEBUG: the symbols tell */
    return r->abiinfo.build_version > p->hexversion ||
           (r->abiinfo.flags & ABIGATE_ABIINFO_INTERNAL);
}

/* ---------------------------------------------------------------- files without a record */

int abigate__parse_libpython(const abigate_file_info *f, const char *name,
                             struct abigate__pylink *l)
{
    const char *s = name;
    memset(l, 0, sizeof *l);
    if (f->format == ABIGATE_FORMAT_PE) {
        /* python3[MINOR][t][_d].dll, any case */
        if (strncasecmp(s, "python3", 7))
            return 0;
        s += 7;
        while (*s >= '0' && *s <= '9' && l->minor < 1000)
            l->minor = l->minor * 10 + (unsigned)(*s++ - '0');
        if (*s == 't' || *s == 'T')
            l->ft = 1, s++;
        if (s[0] == '_' && (s[1] == 'd' || s[1] == 'D'))
            l->debug = 1, s += 2;
        return !strcasecmp(s, ".dll");
    }
    const char *slash = strrchr(s, '/');
    if (f->format == ABIGATE_FORMAT_MACHO && slash && !strcmp(slash, "/Python")) {
        const char *v = strstr(s, "/Versions/3.");
        if (!v)
            return 0;
        s = v + 12; /* the framework's version directory: 3.13, 3.13t */
    } else {
        s = slash ? slash + 1 : s;
        if (strncmp(s, "libpython3.", 11))
            return 0;
        s += 11;
    }
    if (*s < '0' || *s > '9')
        return 0; /* libpython3.so: the stable-ABI forwarder */
    while (*s >= '0' && *s <= '9' && l->minor < 1000)
        l->minor = l->minor * 10 + (unsigned)(*s++ - '0');
    for (; *s && *s != '.' && *s != '/'; s++) {
        if (*s == 't')
            l->ft = 1;
        else if (*s == 'd')
            l->debug = 1;
    }
    return 1;
}

/* The stable-ABI DLL a Windows file links (python3.dll, python3t.dll,
 * their _d builds), or NULL. */
static const char *stable_dll(const abigate_file_info *f, struct abigate__pylink *l)
{
    for (unsigned i = 0; f->format == ABIGATE_FORMAT_PE && i < f->n_libpython &&
                         i < ABIGATE_MAX_LIBPYTHON; i++)
        if (abigate__parse_libpython(f, f->libpython[i], l) && l->minor == 0)
            return f->libpython[i];
    return NULL;
}

/* The CPython library a record-less file links: ELF's DT_NEEDED
 * libpython3.X, a Mach-O's libpython or framework, the DLL a Windows file
 * imports from (each Windows build has its own: version, free-threading,
 * debug, the stable ABI's two). */
static int check_linked(struct text *t, const abigate_file_info *f, const abigate_profile *p,
                        const char *name)
{
    const abigate_tag *tag = &f->tag;
    unsigned minor = ver_minor(p->hexversion);
    int ft = profile_ft(p);
    int debug = (p->flags & ABIGATE_PROFILE_DEBUG) != 0;
    for (unsigned i = 0; i < f->n_libpython && i < ABIGATE_MAX_LIBPYTHON; i++) {
        struct abigate__pylink l;
        const char *lib = f->libpython[i];
        if (!abigate__parse_libpython(f, lib, &l))
            continue;
        if (f->format != ABIGATE_FORMAT_PE) {
            if (l.minor != minor || l.ft != ft) {
                put(t, "linked against %s (%s); this interpreter is %s", lib,
                    f->format == ABIGATE_FORMAT_MACHO ? "LC_LOAD_DYLIB" : "DT_NEEDED", name);
                return ABIGATE_R_LIBPYTHON;
            }
            continue;
        }
        if (l.minor == 0 && !l.ft && ft) {
            put(t, "it imports from %s, the GIL stable ABI (abi3); this interpreter is "
                   "free-threaded %s, which needs a free-threaded or abi3t build; ", lib, name);
            put_tag(t, tag);
            return ABIGATE_R_ABI3_FREETHREADED;
        }
        if (l.minor == 0 && l.ft && p->hexversion < VERSION_3_15) {
            put(t, "it imports from %s, the free-threading agnostic stable ABI (abi3t), which "
                   "interpreters load from 3.15 on; this interpreter is %s; ", lib, name);
            put_tag(t, tag);
            return ABIGATE_R_ABI3T_TOO_OLD;
        }
        if ((l.minor && (l.minor != minor || l.ft != ft)) || l.debug != debug) {
            if (l.minor)
                put(t, "it imports from %s, the DLL of %s%s CPython 3.%u", lib,
                    l.ft ? "free-threaded" : "GIL", l.debug ? " debug" : "", l.minor);
            else
                put(t, "it imports from %s, the stable ABI's DLL of %s builds", lib,
                    l.debug ? "debug" : "release");
            put(t, "; this interpreter is %s, whose DLL is python3%u%s%s.dll; ", name, minor,
                ft ? "t" : "", debug ? "_d" : "");
            put_tag(t, tag);
            return ABIGATE_R_PYTHON_DLL;
        }
    }

    return ABIGATE_R_NONE;
}

/* The object layout a record-less file was compiled for, from the entry
 * points its inline reference counting calls (docs/POLICY.md, "Layout
 * evidence"): a GIL build's Py_DECREF calls _Py_Dealloc, a free-threaded
 * build's calls _Py_DecRefShared / _Py_MergeZeroLocalRefcount and never
 * _Py_Dealloc itself.  Measured on every registered interpreter's own
 * lib-dynload and Debian's third-party extensions: no GIL module imports a
 * free-threaded entry point, no free-threaded one imports _Py_Dealloc
 * without one.  LAYOUT_UNKNOWN when the file shows neither (the limited API
 * from 3.12 and abi3t call Py_DecRef / _Py_DecRef instead; before 3.8
 * Py_DECREF called tp_dealloc itself) or both, or its list is truncated. */
enum { LAYOUT_UNKNOWN = 0, LAYOUT_GIL, LAYOUT_FREETHREADED };

static const char *const ft_refcount_symbols[] = {
    "_Py_DecRefShared", "_Py_DecRefSharedDebug", "_Py_MergeZeroLocalRefcount",
};

static int is_ft_refcount(const char *name)
{
    if (strncmp(name, "_Py_", 4) != 0)
        return 0;
    for (size_t i = 0; i < sizeof ft_refcount_symbols / sizeof *ft_refcount_symbols; i++)
        if (!strcmp(name, ft_refcount_symbols[i]))
            return 1;
    return 0;
}

static int file_layout(const abigate_file_info *f, const abigate_symbols *syms)
{
    if (!syms || !f->legacy_read || syms->truncated)
        return LAYOUT_UNKNOWN;
    int gil = 0, ft = 0;
    for (unsigned i = 0; i < syms->count; i++) { /* one pass; most names leave at '_Py_' */
        const char *n = abigate__symbol_name(syms, i);
        if (n[0] != '_' || n[1] != 'P' || n[2] != 'y' || n[3] != '_')
            continue;
        if (!strcmp(n + 4, "Dealloc"))
            gil = 1;
        else if (is_ft_refcount(n))
            ft = 1;
    }
    return gil == ft ? LAYOUT_UNKNOWN : gil ? LAYOUT_GIL : LAYOUT_FREETHREADED;
}

static int pick_ft_refcount(const abigate_symbols *s, unsigned i, const void *ctx)
{
    (void)ctx;
    return is_ft_refcount(abigate__symbol_name(s, i));
}

ABIGATE_API const char *abigate_module_slot_name(unsigned id)
{
    switch (id) {
    case 84: return "Py_mod_create";
    case 85: return "Py_mod_exec";
    case 86: return "Py_mod_multiple_interpreters";
    case 87: return "Py_mod_gil";
    case 94: return "Py_mod_slots";
    case 100: return "Py_mod_name";
    case 101: return "Py_mod_doc";
    case 102: return "Py_mod_state_size";
    case 103: return "Py_mod_methods";
    case 104: return "Py_mod_state_traverse";
    case 105: return "Py_mod_state_clear";
    case 106: return "Py_mod_state_free";
    case 109: return "Py_mod_abi";
    case 110: return "Py_mod_token";
    default: return NULL;
    }
}

static int decide_inferred(struct text *t, const abigate_file_info *f, const abigate_symbols *syms,
                           const abigate_profile *p)
{
    const abigate_tag *tag = &f->tag;
    unsigned minor = ver_minor(p->hexversion);
    int ft = profile_ft(p);
    char name[48];
    name[0] = '\0';
    if (t->cap) /* a silent text (ABIGATE_POLICY_QUIET's first pass) names nothing */
        abigate_profile_name(p, name, sizeof name);

    /* 0. A Windows file names its interpreter's build in the DLL it
     * imports from: the strongest evidence it has. */
    int reason;
    if (f->format == ABIGATE_FORMAT_PE && (reason = check_linked(t, f, p, name)))
        return reason;

    /* 1. Imported symbols against what the interpreter exports. */
    reason = check_symbols(t, f, syms, p);
    if (reason) {
        put(t, "; ");
        put_tag(t, tag);
        return reason;
    }

    /* 2. The object layout it was compiled for: what its inline reference
     * counting calls, and the object header of its static PyModuleDef
     * (the file's data); both must agree. */
    int layout = file_layout(f, syms);
    int moddef = f->moddef_layout == ABIGATE_MODDEF_GIL           ? LAYOUT_GIL
                 : f->moddef_layout == ABIGATE_MODDEF_FREETHREADED ? LAYOUT_FREETHREADED
                                                                   : LAYOUT_UNKNOWN;
    if (f->moddef_layout == (ABIGATE_MODDEF_GIL | ABIGATE_MODDEF_FREETHREADED) ||
        (layout && moddef && layout != moddef)) {
        if (f->moddef_layout == (ABIGATE_MODDEF_GIL | ABIGATE_MODDEF_FREETHREADED))
            put(t, "its static PyModuleDef structures disagree: one has the GIL object header, "
                   "one the free-threaded one; ");
        else
            put(t, "its inline reference counting is a %s build's, but its PyModuleDef has the "
                   "%s object header: its code and its data disagree; ",
                layout == LAYOUT_GIL ? "GIL" : "free-threaded",
                moddef == LAYOUT_GIL ? "GIL" : "free-threaded");
        put_tag(t, tag);
        return ABIGATE_R_LAYOUT_CONFLICT;
    }
    if (!layout && moddef == LAYOUT_GIL && ft) {
        put(t, "its PyModuleDef starts with the GIL object header (ob_refcnt, ob_type), so it "
               "was compiled with the GIL object layout; this interpreter is free-threaded %s, "
               "which needs a free-threaded or abi3t build; ", name);
        put_tag(t, tag);
        return ABIGATE_R_LAYOUT_GIL_ON_FREETHREADED;
    }
    if (!layout && moddef == LAYOUT_FREETHREADED && !ft) {
        put(t, "its PyModuleDef starts with the free-threaded object header (ob_tid ... "
               "ob_ref_shared), so it was compiled with the free-threaded object layout; this "
               "interpreter is %s with the GIL; ", name);
        put_tag(t, tag);
        return ABIGATE_R_LAYOUT_FREETHREADED_ON_GIL;
    }
    if (layout == LAYOUT_GIL && ft) {
        put(t, "its inline reference counting calls _Py_Dealloc and none of the free-threaded "
               "entry points, so it was compiled with the GIL object layout; this interpreter is "
               "free-threaded %s, which needs a free-threaded or abi3t build; ", name);
        put_tag(t, tag);
        return ABIGATE_R_LAYOUT_GIL_ON_FREETHREADED;
    }
    if (layout == LAYOUT_FREETHREADED && !ft) {
        put(t, "its inline reference counting calls ");
        put_names(t, syms, pick_ft_refcount, NULL);
        put(t, ", so it was compiled with the free-threaded object layout; this interpreter is %s "
               "with the GIL; ", name);
        put_tag(t, tag);
        return ABIGATE_R_LAYOUT_FREETHREADED_ON_GIL;
    }

    /* 3. Its init hook: a PEP 793 slots-only module (PyModExport_ and no
     * PyInit_) is found only by 3.15 and later. */
    if (f->legacy_read && f->n_modexport && !f->n_pyinit && p->hexversion < VERSION_3_15) {
        put(t, "it exports %s and no PyInit_ function: a PEP 793 slots-only module, which "
               "interpreters load from 3.15 on; this interpreter is %s; ", f->modexport, name);
        put_tag(t, tag);
        return ABIGATE_R_MODEXPORT_ONLY;
    }

    /* 3a. Its module slots: IDs of 3.15's numbering (PEP 820) come only
     * from 3.15+ headers, and older interpreters reject them ("unknown slot
     * ID 85") after the file's constructors and init function ran. */
    if (f->slot_id_315 && p->hexversion < VERSION_3_15) {
        put(t, "its module slots use CPython 3.15's numbering (%s = %u), so it was built with "
               "3.15 or later headers; this interpreter is %s, which rejects them (\"unknown "
               "slot ID %u\"); ",
            abigate_module_slot_name(f->slot_id_315) ? abigate_module_slot_name(f->slot_id_315)
                                                      : "a slot",
            f->slot_id_315, name, f->slot_id_315);
        put_tag(t, tag);
        return ABIGATE_R_SLOT_NUMBERING;
    }
    /* 3b. No init hook at all, in a file named as a CPython extension:
     * CPython finds nothing to call, whatever the module's name, after
     * the file's constructors ran; its own words are quoted.  A file whose
     * name claims nothing (a vendored library in pkg.libs/) is not judged
     * by this rule. */
    if (f->legacy_read && !f->n_pyinit && !f->n_modexport &&
        (tag->kind == ABIGATE_TAG_CPYTHON || tag->kind == ABIGATE_TAG_ABI3 ||
         tag->kind == ABIGATE_TAG_ABI3T)) {
        put(t, "it exports no init hook (no PyInit_, PyInitU_ or PyModExport_ function), so no "
               "module can be imported from it; CPython would say \"dynamic module does not define "
               "module export function (PyInit_%s)\" after loading it; ",
            tag->module[0] ? tag->module : "<name>");
        put_tag(t, tag);
        return ABIGATE_R_NO_INIT_HOOK;
    }

    /* 4. The CPython library it links (ELF, Mach-O; Windows' came first) */
    if (f->format != ABIGATE_FORMAT_PE && (reason = check_linked(t, f, p, name)))
        return reason;

    /* 5. The file-name tag */
    switch (tag->kind) {
    case ABIGATE_TAG_OTHER:
        put(t, "the file is tagged %s, which is not a CPython ABI; this interpreter is CPython %s",
            tag->tag, name);
        return ABIGATE_R_TAG_OTHER;
    case ABIGATE_TAG_CPYTHON:
        if (tag->major != 3 || tag->minor != minor) {
            put(t, "the file is tagged %s (CPython %u.%u); this interpreter is %s", tag->tag,
                tag->major, tag->minor, name);
            return ABIGATE_R_TAG_VERSION;
        }
        if ((int)tag->free_threaded != ft) {
            put(t, "the file is tagged %s (%s); this interpreter is %s", tag->tag,
                tag->free_threaded ? "free-threaded" : "GIL", name);
            return ABIGATE_R_TAG_ABI_FLAGS;
        }
        /* Debug and release share the ABI from 3.8 on ('d' alone changes nothing). */
        if (minor < 8 && (int)tag->debug != ((p->flags & ABIGATE_PROFILE_DEBUG) != 0)) {
            put(t, "the file is tagged %s; below 3.8 debug and release builds have different "
                   "ABIs and this interpreter is %s", tag->tag, name);
            return ABIGATE_R_TAG_ABI_FLAGS;
        }
        break;
    case ABIGATE_TAG_ABI3:
        if (ft) {
            put(t, "the file is tagged %s, the GIL stable ABI; this interpreter is free-threaded "
                   "%s, which needs a free-threaded or abi3t build", tag->tag, name);
            return ABIGATE_R_ABI3_FREETHREADED;
        }
        break;
    case ABIGATE_TAG_ABI3T:
        if (p->hexversion < VERSION_3_15) {
            put(t, "the file is tagged %s; abi3t is loadable from 3.15 on and this interpreter "
                   "is %s", tag->tag, name);
            return ABIGATE_R_ABI3T_TOO_OLD;
        }
        break;
    default:
        break;
    }
    if (tag->platform[0] && p->multiarch[0] && strcmp(tag->platform, p->multiarch)) {
        put(t, "the file is tagged for %s; this interpreter runs on %s", tag->platform,
            p->multiarch);
        return ABIGATE_R_TAG_PLATFORM;
    }

    /* 5b. Where the file name claims nothing the data does (a tagged file
     * is judged by its tag above): */
    /* Slot IDs of the older numbering that came later: its PyModuleDef's
     * slots name Py_mod_multiple_interpreters (3, 3.12+) or Py_mod_gil (4, 3.13+). */
    if (f->slot_id_old == 5) {
        put(t, "its slots give Py_mod_abi as slot ID 5, the numbering of CPython 3.15's alpha "
               "releases (pyo3-ffi 0.28 has it), which no release loads: 3.15 reads ID 5 as a "
               "type slot (\"invalid module slot 5 (Py_mp_subscript)\"), older versions do not "
               "know it (\"unknown slot ID 5\"), after the file's code ran; this interpreter is "
               "%s; ", name);
        put_tag(t, tag);
        return ABIGATE_R_SLOT_UNKNOWN;
    }
    if (f->slot_id_old >= 3 && minor < (f->slot_id_old == 3 ? 12u : 13u)) {
        put(t, "its PyModuleDef's slots include %s (slot ID %u), which CPython knows from 3.%u on; "
               "this interpreter is %s, which rejects it (\"unknown slot ID %u\") after the "
               "file's code ran; ",
            f->slot_id_old == 3 ? "Py_mod_multiple_interpreters" : "Py_mod_gil", f->slot_id_old,
            f->slot_id_old == 3 ? 12u : 13u, name, f->slot_id_old);
        put_tag(t, tag);
        return ABIGATE_R_SLOT_UNKNOWN;
    }

    /* The oldest headers its PyModuleDef's header can come from
     * (PyModuleDef_HEAD_INIT's values change with the headers: 3.12 and 3.14
     * made it immortal; other producers may keep older values, so they bound
     * the version from below only), for a version-specific build: one that
     * needs symbols outside the stable ABI (a limited-API build runs on later
     * versions whatever headers wrote it). */
    if (f->moddef_minor_max && minor < f->moddef_minor_min && syms && f->legacy_read &&
        !syms->truncated && count_names(syms, pick_not_stable, NULL)) {
        put(t, "its PyModuleDef's header has values only the headers of CPython 3.%u%s and later "
               "write, and it needs ",
            f->moddef_minor_min,
            f->moddef_layout == ABIGATE_MODDEF_FREETHREADED ? "t" : "");
        put_names(t, syms, pick_not_stable, NULL);
        put(t, ", outside the stable ABI: a version-specific build for another version; this "
               "interpreter is %s; ", name);
        put_tag(t, tag);
        return ABIGATE_R_LAYOUT_VERSION;
    }

    /* 6. abi3 claims against the stable ABI table: a file name's, or a
     * Windows file's stable-ABI DLL (whose imports are what it needs). */
    struct abigate__pylink sl;
    const char *sdll = stable_dll(f, &sl);
    if ((tag->kind == ABIGATE_TAG_ABI3 || tag->kind == ABIGATE_TAG_ABI3T || sdll) && syms &&
        f->legacy_read && !syms->truncated) {
        const char *claim = sdll ? sdll : tag->tag;
        if (XY(p->hexversion) <= XY(abigate_stable_abi_version()) &&
            count_names(syms, pick_not_stable, NULL)) {
            put(t, "the file %s %s but needs ", sdll ? "imports from" : "is tagged", claim);
            put_names(t, syms, pick_not_stable, NULL);
            put(t, ", outside the stable ABI (up to 3.%u)", ver_minor(abigate_stable_abi_version()));
            return ABIGATE_R_ABI3_NOT_STABLE;
        }
        uint32_t rt = p->hexversion;
        if (count_names(syms, pick_too_new, &rt)) {
            put(t, "the file %s %s and needs ", sdll ? "imports from" : "is tagged", claim);
            put_names(t, syms, pick_too_new, &rt);
            put(t, ", added to the stable ABI after %u.%u; this interpreter is %s",
                rt >> 24 & 0xff, ver_minor(rt), name);
            return ABIGATE_R_ABI3_SYMBOL_TOO_NEW;
        }
    }

    /* Accepted without a record: say how strong the evidence was (one
     * formatted write; the rest are plain appends). */
    if (!t->cap)
        return ABIGATE_R_NONE;
    if (!syms || !f->legacy_read)
        put_s(t, "no abigate record; no evidence of a mismatch: symbols not read");
    else
        put(t, "no abigate record; no evidence of a mismatch: symbols %s (%u Py symbols imported%s)",
            !p->exports ? "not checked" : syms->truncated ? "partly checked" : "checked",
            f->n_pysyms,
            !p->exports ? "; no exports known for this interpreter"
            : syms->truncated ? "; the first ones, all exported by this interpreter"
                              : ", all exported by this interpreter");
    put_s(t, layout == LAYOUT_GIL ? "; layout: GIL (imports _Py_Dealloc); "
             : layout == LAYOUT_FREETHREADED ? "; layout: free-threaded (imports _Py_DecRefShared "
                                               "or _Py_MergeZeroLocalRefcount); "
             : moddef == LAYOUT_GIL          ? "; layout: GIL (its PyModuleDef's header); "
             : moddef == LAYOUT_FREETHREADED ? "; layout: free-threaded (its PyModuleDef's header); "
                                             : "; layout: not shown; ");
    put_tag(t, tag);
    return ABIGATE_R_NONE;
}

/* ---------------------------------------------------------------- the verdict */

static const char *format_name(unsigned format)
{
    return format == ABIGATE_FORMAT_PE ? "Windows PE" : format == ABIGATE_FORMAT_MACHO ? "macOS Mach-O" : "ELF";
}

static const char *format_system(unsigned format)
{
    return format == ABIGATE_FORMAT_PE      ? "Windows (PE files)"
           : format == ABIGATE_FORMAT_MACHO ? "macOS (Mach-O files)"
                                            : "an ELF system (Linux, ...)";
}

/* A universal file: one of its slices is for the interpreter's machine. */
static int slice_fits(const abigate_file_info *f, const abigate_profile *p)
{
    for (unsigned i = 0; i < f->n_slices && i < ABIGATE_MAX_SLICES; i++)
        if ((!p->machine || f->slice[i].machine == p->machine) &&
            (!p->elf_class || f->slice[i].elf_class == p->elf_class))
            return 1;
    return 0;
}

/* The verdict, its message written to `t` (silent when t->cap is 0). */
static void judge(const abigate_file_info *f, const abigate_symbols *syms,
                  const abigate_profile *p, const abigate_policy *pol, struct text *t,
                  abigate_verdict *out)
{
    out->adapt = out->warning = 0;
    out->evidence = ABIGATE_EVIDENCE_NONE;
    int reason = ABIGATE_R_NONE, adapt = ABIGATE_ADAPT_NONE;

    if (pol->mode == ABIGATE_MODE_OFF) {
        put(t, "not checked (mode off)");
        goto done;
    }
    out->evidence = f->record_state == ABIGATE_RECORD_ABSENT ? ABIGATE_EVIDENCE_INFERRED
                                                          : ABIGATE_EVIDENCE_RECORD;
    if (f->format != p->format) {
        put(t, "a %s file; this interpreter runs on %s", format_name(f->format),
            format_system(p->format));
        reason = ABIGATE_R_FORMAT;
    } else if (f->n_slices && !slice_fits(f, p)) {
        put(t, "a universal file whose slices are ");
        for (unsigned i = 0; i < f->n_slices && i < ABIGATE_MAX_SLICES; i++) {
            const char *mn = abigate_machine_name(f->slice[i].machine);
            put(t, "%s%s %u-bit", i ? ", " : "", mn ? mn : "unknown", f->slice[i].elf_class);
        }
        const char *pm = abigate_machine_name(p->machine);
        put(t, "; none is for this interpreter's %s %u-bit", pm ? pm : "unknown", p->elf_class);
        reason = ABIGATE_R_MACHINE;
    } else if (!f->n_slices && p->elf_class && f->elf_class != p->elf_class) {
        put(t, "a %u-bit %s file; this interpreter is %u-bit", f->elf_class,
            format_name(f->format), p->elf_class);
        reason = ABIGATE_R_ELF_CLASS;
    } else if (f->big_endian != p->big_endian) {
        put(t, "a %s-endian ELF file; this interpreter is %s-endian",
            f->big_endian ? "big" : "little", p->big_endian ? "big" : "little");
        reason = ABIGATE_R_BYTE_ORDER;
    } else if (!f->n_slices && p->machine && f->machine != p->machine) {
        const char *fm = abigate_machine_name(f->machine), *pm = abigate_machine_name(p->machine);
        put(t, "built for machine %s (e_machine %u); this interpreter runs on %s",
            fm ? fm : "unknown", f->machine, pm ? pm : "unknown");
        reason = ABIGATE_R_MACHINE;
    } else if (f->format == ABIGATE_FORMAT_MACHO && p->min_os && f->min_os > p->min_os) {
        put(t, "it needs macOS %u.%u or later (its minos); the target is macOS %u.%u",
            f->min_os >> 16, f->min_os >> 8 & 0xff, p->min_os >> 16, p->min_os >> 8 & 0xff);
        reason = ABIGATE_R_MIN_OS;
    } else if (f->record_state == ABIGATE_RECORD_UNSUPPORTED) {
        put(t, "its abigate record has version %u.%u, which this abigate (record %d.x) "
                "cannot read", f->record.major, f->record.minor, ABIGATE_RECORD_MAJOR);
        reason = ABIGATE_R_RECORD_UNSUPPORTED;
    } else if (f->record_state == ABIGATE_RECORD_CONFLICT) {
        put_s(t, f->record_via == ABIGATE_VIA_PYABIINFO
                     ? "its modules' PyABIInfo (Py_mod_abi) disagree; one says it was "
                     : "its abigate record and its PyABIInfo (Py_mod_abi) disagree; the record "
                       "says it was ");
        put_build(t, &f->record);
        put_s(t, ": a file that says two things is refused");
        reason = ABIGATE_R_RECORD_CONFLICT;
    } else if (f->record_state == ABIGATE_RECORD_PRESENT) {
        if (f->record_via == ABIGATE_VIA_PYABIINFO)
            put_s(t, "its PyABIInfo (Py_mod_abi): ");
        reason = decide_record(t, f, syms, p, pol, &adapt);
    } else if (pol->mode == ABIGATE_MODE_REQUIRE) {
        put(t, "has no abigate record, and mode require refuses such files (");
        put_tag(t, &f->tag);
        put(t, ")");
        reason = ABIGATE_R_NO_RECORD;
    } else {
        reason = decide_inferred(t, f, syms, p);
    }

done:
    out->reason = reason;
    if (reason == ABIGATE_R_NONE) {
        out->kind = adapt ? ABIGATE_ADAPT : ABIGATE_ACCEPT;
        out->adapt = adapt;
    } else if (pol->mode == ABIGATE_MODE_WARN) {
        out->kind = ABIGATE_ACCEPT;
        out->warning = 1;
    } else {
        out->kind = ABIGATE_REFUSE;
    }
}

int abigate__decide(const abigate_file_info *f, const abigate_symbols *syms,
                               const abigate_profile *p, const abigate_policy *pol,
                               abigate_verdict *out)
{
    if (!f || !p || !pol || !out || pol->mode < ABIGATE_MODE_OFF ||
        pol->mode > ABIGATE_MODE_REQUIRE)
        return ABIGATE_E_INVALID_ARG;
    out->message[0] = '\0';
    if (pol->flags & ABIGATE_POLICY_QUIET) {
        /* Decide without words; a plain ACCEPT is done, anything else is
         * decided again with its message. */
        struct text silent = {out->message, 0, 0};
        judge(f, syms, p, pol, &silent, out);
        if (out->kind == ABIGATE_ACCEPT && !out->warning)
            return out->kind;
    }
    struct text t = {out->message, sizeof out->message, 0};
    judge(f, syms, p, pol, &t, out);
    return out->kind;
}
