/* gate.c -- the gate: judge a file, then load that same file.
 *
 * Every caller of abigate acts through this one gate (abigate.h, "the
 * gate"): the patched interpreter, the import hook (_abigate), the CLI and
 * embedders.  It owns the interpreter profile (taken once, lazily, under a
 * lock), the heap-owned symbol buffers (a pool: one per concurrent
 * judgement), the policy, the mode resolution and the texts users read.
 *
 * A judgement reads the record first (one pread) and the symbol table only
 * when the record cannot settle the verdict (abigate__needs_symbols).
 * abigate_gate_dlopen opens once, judges that descriptor and dlopen()s it
 * through a /proc/self/fd name no earlier load used, with the dependencies
 * a dlopen() of the path would load (load.c).
 */
#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A symbol buffer of the pool. */
struct scratch {
    struct scratch *next;
    abigate_symbols syms;
};

struct abigate_gate {
    abigate_policy policy;
    unsigned flags;
    int profile_flags_known;
    unsigned profile_flags;
    unsigned n_suffixes;
    char suffixes[ABIGATE_PROFILE_MAX_SUFFIXES][ABIGATE_PROFILE_TEXT_MAX];

    pthread_mutex_t lock;     /* the profile and the pool */
    int profile_ready;        /* 1 once taken (under `lock`; constant after) */
    int profile_rc;           /* its result */
    abigate_error profile_err;
    abigate_profile profile;
    abigate_symbols *exports; /* owned */
    struct scratch *pool;     /* free buffers */
    unsigned n_all;
    struct scratch **every;   /* every buffer made (n_all), for abigate_gate_free */

    unsigned long fd_names;   /* counter for unique /proc/self/fd names */
    uint64_t judged, symbols_read, nanoseconds; /* atomics */
};

ABIGATE_API void abigate_gate_config_init(abigate_gate_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->size = sizeof *cfg;
    cfg->policy.mode = ABIGATE_MODE_STRICT;
}

static abigate_gate *gate_alloc(const abigate_gate_config *cfg, abigate_error *err)
{
    if (!cfg || cfg->size < sizeof *cfg || cfg->policy.mode < ABIGATE_MODE_OFF ||
        cfg->policy.mode > ABIGATE_MODE_REQUIRE) {
        abigate__fail(err, ABIGATE_E_INVALID_ARG, -1,
                      "invalid gate configuration (use abigate_gate_config_init)");
        return NULL;
    }
    abigate_gate *g = calloc(1, sizeof *g);
    if (!g) {
        abigate__fail(err, ABIGATE_E_NOMEM, -1, NULL);
        return NULL;
    }
    g->policy = cfg->policy;
    g->flags = cfg->flags;
    g->profile_flags_known = cfg->profile_flags_known;
    g->profile_flags = cfg->profile_flags & ABIGATE_PROFILE_KNOWN;
    for (const char *const *s = cfg->suffixes; s && *s && g->n_suffixes < ABIGATE_PROFILE_MAX_SUFFIXES;
         s++)
        if (strlen(*s) < ABIGATE_PROFILE_TEXT_MAX)
            strcpy(g->suffixes[g->n_suffixes++], *s);
    pthread_mutex_init(&g->lock, NULL);
    abigate__ok(err);
    return g;
}

/* The caller's facts over what the exports told. */
static void apply_overrides(abigate_gate *g, abigate_profile *p)
{
    if (g->profile_flags_known && p->flags != g->profile_flags) {
        abigate_profile fixed;
        abigate_profile_init(&fixed, p->hexversion, g->profile_flags);
        p->flags = g->profile_flags;
        memcpy(p->soabi, fixed.soabi, sizeof p->soabi);
        memcpy(p->suffixes, fixed.suffixes, sizeof p->suffixes);
        p->n_suffixes = fixed.n_suffixes;
    }
    if (g->n_suffixes) {
        memcpy(p->suffixes, g->suffixes, sizeof p->suffixes);
        p->n_suffixes = g->n_suffixes;
    }
}

ABIGATE_API abigate_gate *abigate_gate_new(const abigate_gate_config *cfg, abigate_error *err)
{
    return gate_alloc(cfg, err);
}

abigate_gate *abigate__gate_new_for(const abigate_profile *profile,
                                               const char *exports_path,
                                               const abigate_gate_config *cfg,
                                               abigate_error *err)
{
    if (!profile) {
        abigate__fail(err, ABIGATE_E_INVALID_ARG, -1, NULL);
        return NULL;
    }
    abigate_gate *g = gate_alloc(cfg, err);
    if (!g)
        return NULL;
    g->profile = *profile;
    g->profile.exports = NULL;
    if (exports_path && !(g->flags & ABIGATE_GATE_NO_SYMBOLS)) {
        g->exports = abigate_symbols_new();
        int rc = g->exports ? abigate_profile_load_exports(&g->profile, exports_path, 0,
                                                           g->exports, err)
                            : abigate__fail(err, ABIGATE_E_NOMEM, -1, NULL);
        if (rc) {
            abigate_gate_free(g);
            return NULL;
        }
    } else if (profile->exports && !(g->flags & ABIGATE_GATE_NO_SYMBOLS)) {
        /* the caller's exports: the gate keeps a copy of its own, never the
         * caller's pointer (it may outlive the caller's buffer) */
        if (!(g->exports = abigate_symbols_new())) {
            abigate__fail(err, ABIGATE_E_NOMEM, -1, NULL);
            abigate_gate_free(g);
            return NULL;
        }
        memcpy(g->exports, profile->exports, sizeof *g->exports);
        g->profile.exports = g->exports;
    }
    apply_overrides(g, &g->profile);
    g->profile_rc = ABIGATE_OK;
    g->profile_ready = 1;
    return g;
}

/* The profile of this process, taken once; ABIGATE_OK or its error:
 * ABIGATE_E_NO_INTERPRETER (no CPython here) or ABIGATE_E_NOMEM (not kept:
 * the next judgement tries again).  When the interpreter's exports cannot
 * be read (its libpython replaced on disk since it was mapped, an
 * execute-only binary), the gate judges without symbol evidence rather
 * than failing every import; profile_err keeps why, for status displays.
 * The lock is taken every time (uncontended it costs tens of nanoseconds, a
 * judgement several microseconds): no double-checked locking to get wrong. */
static int take_profile(abigate_gate *g, abigate_error *err)
{
    pthread_mutex_lock(&g->lock);
    if (!g->profile_ready) {
        abigate_symbols *ex = NULL;
        abigate__ok(&g->profile_err);
        if (!(g->flags & ABIGATE_GATE_NO_SYMBOLS) && !(ex = abigate_symbols_new())) {
            g->profile_rc = abigate__fail(&g->profile_err, ABIGATE_E_NOMEM, -1, NULL);
        } else {
            g->profile_rc = abigate_profile_from_process(&g->profile, ex, &g->profile_err);
            if (g->profile_rc && ex && g->profile_rc != ABIGATE_E_NO_INTERPRETER &&
                g->profile_rc != ABIGATE_E_NOMEM) {
                abigate_symbols_free(ex); /* the version alone: no symbol evidence */
                ex = NULL;
                g->profile_rc = abigate_profile_from_process(&g->profile, NULL, NULL);
            }
            if (g->profile_rc) {
                abigate_symbols_free(ex);
            } else {
                g->exports = ex;
                apply_overrides(g, &g->profile);
            }
        }
        g->profile_ready = g->profile_rc != ABIGATE_E_NOMEM;
    }
    int rc = g->profile_rc;
    if (rc && err)
        *err = g->profile_err;
    pthread_mutex_unlock(&g->lock);
    return rc;
}

ABIGATE_API const abigate_profile *abigate_gate_profile(abigate_gate *g, abigate_error *err)
{
    if (!g) {
        abigate__fail(err, ABIGATE_E_INVALID_ARG, -1, NULL);
        return NULL;
    }
    return take_profile(g, err) ? NULL : &g->profile;
}

/* A symbol buffer from the pool (a new one when all are in use). */
static abigate_symbols *scratch_take(abigate_gate *g)
{
    pthread_mutex_lock(&g->lock);
    struct scratch *s = g->pool;
    if (s) {
        g->pool = s->next;
    } else {
        struct scratch **every = realloc(g->every, (g->n_all + 1) * sizeof *every);
        if (every) {
            g->every = every;
            if ((s = malloc(sizeof *s)))
                every[g->n_all++] = s;
        }
    }
    pthread_mutex_unlock(&g->lock);
    return s ? &s->syms : NULL;
}

static void scratch_give(abigate_gate *g, abigate_symbols *syms)
{
    struct scratch *s = (struct scratch *)((char *)syms - offsetof(struct scratch, syms));
    pthread_mutex_lock(&g->lock);
    s->next = g->pool;
    g->pool = s;
    pthread_mutex_unlock(&g->lock);
}

ABIGATE_API void abigate_gate_free(abigate_gate *g)
{
    if (!g)
        return;
    for (unsigned i = 0; i < g->n_all; i++)
        free(g->every[i]);
    free(g->every);
    abigate_symbols_free(g->exports);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Open `path` to be judged; -1 with `e` filled (ABIGATE_E_IS_DIRECTORY,
 * ABIGATE_E_OPEN) when it cannot be. */
static int open_file(const char *path, abigate_error *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        int saved = errno;
        if (saved == EISDIR)
            abigate__fail(e, ABIGATE_E_IS_DIRECTORY, -1, NULL);
        else
            abigate__fail(e, ABIGATE_E_OPEN, -1, "cannot open: %s", strerror(saved));
    }
    return fd;
}

/* A file that could not be read: a verdict by the table of docs/POLICY.md,
 * "Files that cannot be judged". */
static int unreadable(const abigate_policy *pol, const abigate_error *why, abigate_verdict *v)
{
    memset(v, 0, sizeof *v);
    v->evidence = ABIGATE_EVIDENCE_NONE;
    if (pol->mode == ABIGATE_MODE_OFF) {
        snprintf(v->message, sizeof v->message, "not checked (mode off)");
        return v->kind = ABIGATE_ACCEPT;
    }
    v->reason = ABIGATE_R_UNREADABLE;
    v->error = why->code;
    snprintf(v->message, sizeof v->message, "cannot be judged: %s", why->message);
    if (pol->mode == ABIGATE_MODE_WARN) {
        v->warning = 1;
        return v->kind = ABIGATE_ACCEPT;
    }
    return v->kind = ABIGATE_REFUSE;
}

const abigate_policy *abigate__gate_policy(const abigate_gate *g)
{
    return &g->policy;
}

int abigate__verdict_unreadable(const abigate_policy *policy, const abigate_error *why,
                                           abigate_verdict *v)
{
    if (!policy || !why || !v || policy->mode < ABIGATE_MODE_OFF ||
        policy->mode > ABIGATE_MODE_REQUIRE)
        return ABIGATE_E_INVALID_ARG;
    return unreadable(policy, why, v);
}

/* The reader's question after the record: read the symbols?  Yes when the
 * record-first rule says so (and the gate reads symbols at all): then a
 * buffer from the pool, the same one if the reader asks twice. */
struct staging {
    abigate_gate *g;
    const abigate_policy *pol;
    abigate_symbols *syms;
    int nomem;
};

static abigate_symbols *need_symbols(const abigate_file_info *info, void *ctx)
{
    struct staging *st = ctx;
    if ((st->g->flags & ABIGATE_GATE_NO_SYMBOLS) ||
        !abigate__needs_symbols(info, &st->g->profile, st->pol))
        return NULL;
    if (!st->syms && !(st->syms = scratch_take(st->g)))
        st->nomem = 1;
    return st->syms;
}

/* What judge reads: the open `fd`, or (fd < 0) the file `name`, or what
 * `reader` reads (a zip member: zip.c, so that a program that judges only
 * files never links the zip reader and zlib). */
struct input {
    int fd;
    const char *name;
    abigate__stage_reader reader;
    void *reader_ctx;
    struct abigate__search *search; /* also read these facts (a file), or NULL */
    abigate_file_info *facts;       /* receives what the verdict was decided from, or NULL */
};

/* Judge one input (struct input). */
static int judge(abigate_gate *g, struct input in, const abigate_policy *policy,
                 abigate_verdict *v, abigate_error *err)
{
    int fd = in.fd;
    const char *name = in.name;
    const abigate_policy *pol = policy ? policy : &g->policy;
    if (in.facts)
        memset(in.facts, 0, sizeof *in.facts); /* nothing read (yet) */
    if (pol->mode < ABIGATE_MODE_OFF || pol->mode > ABIGATE_MODE_REQUIRE)
        return abigate__fail(err, ABIGATE_E_INVALID_ARG, -1, "invalid policy mode %d", pol->mode);
    if (pol->mode == ABIGATE_MODE_OFF) {
        abigate__ok(err);
        memset(v, 0, sizeof *v);
        snprintf(v->message, sizeof v->message, "not checked (mode off)");
        return v->kind = ABIGATE_ACCEPT;
    }
    int rc = take_profile(g, err);
    if (rc)
        return rc;
    uint64_t t0 = now_ns();
    abigate_error local;
    abigate_error *e = err ? err : &local;
    abigate_file_info info;
    struct staging st = {g, pol, NULL, 0};
    struct abigate__stage stage = {need_symbols, &st, in.search, in.facts != NULL};
    int opened = -1;
    if (fd < 0 && !in.reader) {
        if ((opened = fd = open_file(name, e)) < 0) {
            rc = unreadable(pol, e, v);
            goto done;
        }
    }
    /* one pass: the record, then the symbols only if the record-first rule
     * asks for them (need_symbols gives the buffer then) */
    rc = in.reader ? in.reader(in.reader_ctx, &stage, &info, e)
                   : abigate__read_fd_staged(fd, name, &stage, &info, e);
    abigate_symbols *syms = st.syms;
    if (st.nomem) {
        rc = abigate__fail(err, ABIGATE_E_NOMEM, -1, NULL);
        goto done;
    }
    if (syms)
        __atomic_add_fetch(&g->symbols_read, 1, __ATOMIC_RELAXED);
    if (rc) {
        rc = unreadable(pol, e, v);
    } else {
        rc = abigate_decide(&info, syms, &g->profile, pol, v);
        if (in.facts)
            *in.facts = info;
        v->error = 0;
        v->symbols_read = syms != NULL;
        memset(v->reserved_, 0, sizeof v->reserved_);
    }
done:
    if (st.syms)
        scratch_give(g, st.syms);
    if (opened >= 0)
        close(opened);
    __atomic_add_fetch(&g->judged, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&g->nanoseconds, now_ns() - t0, __ATOMIC_RELAXED);
    return rc;
}

int abigate__gate_judge(abigate_gate *g, const char *path, const abigate_policy *policy,
                                   abigate_verdict *v, abigate_error *err)
{
    if (!g || !path || !v)
        return abigate__fail(err, ABIGATE_E_INVALID_ARG, -1, NULL);
    memset(v, 0, sizeof *v); /* defined even when the gate itself fails */
    struct input in = {-1, path, NULL, NULL, NULL, NULL};
    return judge(g, in, policy, v, err);
}

int abigate__gate_judge_fd(abigate_gate *g, int fd, const char *name,
                                      const abigate_policy *policy, abigate_verdict *v,
                                      abigate_error *err)
{
    if (!g || fd < 0 || !v)
        return abigate__fail(err, ABIGATE_E_INVALID_ARG, -1, NULL);
    memset(v, 0, sizeof *v);
    struct input in = {fd, name, NULL, NULL, NULL, NULL};
    return judge(g, in, policy, v, err);
}

int abigate__gate_judge_reader(abigate_gate *g, const char *name, abigate__stage_reader reader,
                               void *ctx, const abigate_policy *policy, abigate_verdict *v,
                               abigate_file_info *facts, abigate_error *err)
{
    memset(v, 0, sizeof *v);
    struct input in = {-1, name, reader, ctx, NULL, facts};
    return judge(g, in, policy, v, err);
}

/* A spelling of /proc/self/fd/FD that no earlier load used: the dynamic
 * loader finds already-loaded objects by the name they were opened with,
 * and descriptor numbers are reused.  Empty components ("/", "./") encode
 * a counter, so the name still resolves to the descriptor. */
static void fd_name(void *ctx, char *buf, size_t size, int fd)
{
    abigate_gate *g = ctx;
    unsigned long c = __atomic_fetch_add(&g->fd_names, 1, __ATOMIC_RELAXED);
    size_t n = (size_t)snprintf(buf, size, "/proc/self/fd/");
    for (; c && n + 3 < size; c >>= 1) {
        if (c & 1)
            buf[n++] = '.';
        buf[n++] = '/';
    }
    snprintf(buf + n, size - n, "%d", fd);
}

/* /proc is not mounted, so the judged descriptor has no name to load it
 * by (docs/PATCHED.md, "Without /proc").  warn loads `path` after checking
 * that it still names the judged file, and says so in the verdict; strict
 * and require load nothing. */
static void *load_without_proc(const abigate_policy *pol, int fd, const char *path, int dlflags,
                               abigate_verdict *v, abigate_error *err)
{
    struct stat judged, now;
    if (pol->mode != ABIGATE_MODE_WARN) {
        abigate__fail(err, ABIGATE_E_DLOPEN, -1,
                      "cannot load the file that was judged: /proc is not mounted, so its "
                      "descriptor has no name to load it by (mount /proc, or use mode warn, "
                      "which loads the path)");
        return NULL;
    }
    if (fstat(fd, &judged) != 0 || stat(path, &now) != 0 || judged.st_dev != now.st_dev ||
        judged.st_ino != now.st_ino) {
        abigate__fail(err, ABIGATE_E_DLOPEN, -1,
                      "cannot load the file that was judged: /proc is not mounted, and the "
                      "path no longer names the file that was judged");
        return NULL;
    }
    void *handle = abigate__dlopen_path(path, dlflags, err);
    if (!handle)
        return NULL;
    char was[sizeof v->message];
    memcpy(was, v->message, sizeof was);
    snprintf(v->message, sizeof v->message,
             "loaded by path, not from the descriptor that was judged (/proc is not mounted): "
             "a file renamed into place meanwhile would have run; judged: %.*s",
             (int)(sizeof was / 2), was);
    v->warning = 1;
    abigate__ok(err);
    return handle;
}

void *abigate__gate_dlopen(abigate_gate *g, const char *path, int dlflags,
                                      const abigate_policy *policy, abigate_verdict *v,
                                      abigate_error *err)
{
    if (!g || !path || !v) {
        abigate__fail(err, ABIGATE_E_INVALID_ARG, -1, NULL);
        return NULL;
    }
    memset(v, 0, sizeof *v);
    const abigate_policy *pol = policy ? policy : &g->policy;
    if (pol->mode < ABIGATE_MODE_OFF || pol->mode > ABIGATE_MODE_REQUIRE) {
        abigate__fail(err, ABIGATE_E_INVALID_ARG, -1, "invalid policy mode %d", pol->mode);
        return NULL;
    }
    if (pol->mode == ABIGATE_MODE_OFF) {
        /* nothing judged: exactly the caller's own dlopen */
        snprintf(v->message, sizeof v->message, "not checked (mode off)");
        v->kind = ABIGATE_ACCEPT;
        return abigate__dlopen_path(path, dlflags, err);
    }
    abigate_error why;
    int fd = open_file(path, &why);
    if (fd < 0) {
        int rc = take_profile(g, err);
        if (rc)
            return NULL; /* the gate itself failed: err says why */
        unreadable(pol, &why, v);
        __atomic_add_fetch(&g->judged, 1, __ATOMIC_RELAXED);
        if (v->kind == ABIGATE_REFUSE)
            abigate__fail(err, ABIGATE_E_REFUSED, -1, "%s", v->message);
        else if (err)
            *err = why;
        return NULL;
    }
    struct abigate__search search = {0}; /* not read until the reader fills it */
    struct input in = {fd, path, NULL, NULL, &search, NULL};
    int rc = judge(g, in, pol, v, err);
    void *handle = NULL;
    if (rc < 0 || v->kind == ABIGATE_REFUSE) {
        if (rc >= 0)
            abigate__fail(err, ABIGATE_E_REFUSED, -1, "%s", v->message);
    } else {
        int no_proc;
        handle = abigate__load_judged(fd, path, dlflags, &search, fd_name, g, &no_proc, err);
        if (!handle && no_proc)
            handle = load_without_proc(pol, fd, path, dlflags, v, err);
    }
    abigate__search_release(&search);
    close(fd);
    return handle;
}

ABIGATE_API void abigate_gate_stats_get(const abigate_gate *g, abigate_gate_stats *out)
{
    if (!g || !out)
        return;
    out->judged = __atomic_load_n(&g->judged, __ATOMIC_RELAXED);
    out->symbols_read = __atomic_load_n(&g->symbols_read, __ATOMIC_RELAXED);
    out->nanoseconds = __atomic_load_n(&g->nanoseconds, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------- the mode */

ABIGATE_API int abigate_mode_resolve(int xoption_given, const char *xoption, const char *env,
                                     unsigned flags, const char *default_mode,
                                     abigate_mode_choice *out, abigate_error *err)
{
    if (!out)
        return abigate__fail(err, ABIGATE_E_INVALID_ARG, -1, NULL);
    abigate_mode_choice c;
    memset(&c, 0, sizeof c);
    const char *value = NULL;
    if (xoption_given) {
        value = xoption && xoption[0] ? xoption : "strict";
        c.source = "-X abigate";
    } else if (!(flags & ABIGATE_RESOLVE_IGNORE_ENV) && env && env[0]) {
        value = env;
        c.source = "PYTHONABIGATE";
    }
    if (value && abigate_policy_parse(value, &c.policy, NULL) != ABIGATE_OK) {
        abigate__copy_clamped(c.invalid, sizeof c.invalid, value, strlen(value));
        snprintf(c.warning, sizeof c.warning,
                 "abigate: %s=%s is not a mode (off, warn, strict or require, optionally "
                 "followed by ',trace'); using strict", c.source, c.invalid);
        abigate_policy_parse("strict", &c.policy, NULL);
    } else if (!value) {
        c.source = "default";
        if (abigate_policy_parse(default_mode ? default_mode : "off", &c.policy, err))
            return ABIGATE_E_BAD_MODE;
    }
    *out = c;
    abigate__ok(err);
    return ABIGATE_OK;
}

/* ---------------------------------------------------------------- the texts */

const char *abigate__verdict_rule(const abigate_verdict *v)
{
    if (!v)
        return "ABIGATE_R_NONE";
    return v->reason == ABIGATE_R_UNREADABLE && v->error ? abigate_code_name(v->error)
                                                         : abigate_reason_name(v->reason);
}

ABIGATE_API size_t abigate_format_text(int kind, const char *action, const char *module, const char *path,
                            const char *msg, const char *rule, int plain, char *buf, size_t len)
{
    char scratch[1];
    if (!buf || !len)
        buf = scratch, len = sizeof scratch;
    const char *m = module ? module : "?", *p = path ? path : "?";
    int n;
    switch (kind) {
    case ABIGATE_TEXT_REFUSAL:
        n = snprintf(buf, len, "cannot load '%s' from %s: %s [%s]", m, p, msg, rule);
        break;
    case ABIGATE_TEXT_WARNING:
        n = snprintf(buf, len, "abigate: '%s' from %s: %s [%s]", m, p, msg, rule);
        break;
    case ABIGATE_TEXT_TRACE:
        n = snprintf(buf, len, "abigate: %s '%s' %s: %s%s%s%s", action ? action : "?", m, p, msg,
                     plain ? "" : " [", plain ? "" : rule, plain ? "" : "]");
        break;
    default:
        n = snprintf(buf, len, "?");
        break;
    }
    return n < 0 ? 0 : (size_t)n;
}

size_t abigate__gate_format(int kind, const char *action, const char *module,
                                       const char *path, const abigate_verdict *v,
                                       const abigate_error *err, char *buf, size_t len)
{
    const char *msg, *rule;
    int plain = 0;
    if (err && err->code && (!v || v->kind != ABIGATE_REFUSE)) {
        msg = err->message; /* a failed open or load */
        rule = abigate_code_name(err->code);
        if (!action)
            action = "error";
    } else if (v) {
        msg = v->message;
        rule = abigate_verdict_rule(v);
        plain = v->reason == ABIGATE_R_NONE;
        if (!action)
            action = v->warning ? "warn" : abigate_verdict_name(v->kind);
    } else {
        msg = "no verdict";
        rule = "ABIGATE_E_INVALID_ARG";
    }
    return abigate_format_text(kind, action, module, path, msg, rule, plain, buf, len);
}
