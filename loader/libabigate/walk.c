/* walk.c -- what a path given to a tool stands for (abigate.h, "the walk
 * over inputs"): a file; a wheel (any *.whl: each extension member, read in
 * place); a directory (walked in name order, symbolic links followed once,
 * on one file system: its *.so files and wheels).  Prints nothing: each
 * input, and each thing that could not be walked, goes to the caller's
 * function. */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

ABIGATE_API int abigate_walk_is_wheel(const char *path)
{
    return ends_with(path, ".whl");
}

static int wheel(const char *path, abigate_walk_fn fn, void *ctx)
{
    abigate_wheel_tags *tags = malloc(2 * sizeof *tags); /* 2 x 11 KiB: not on a thread's stack */
    if (!tags) {
        abigate_error err = {ABIGATE_E_NOMEM, -1, "out of memory"};
        abigate_walk_item it = {.size = sizeof it, .path = path, .rc = ABIGATE_E_NOMEM, .err = &err};
        return fn(&it, ctx);
    }
    abigate_wheel_tags *name_tags = &tags[0], *wheel_tags = &tags[1];
    abigate_walk_item it = {.size = sizeof it, .path = path, .name_tags = name_tags,
                            .wheel_tags = wheel_tags};
    abigate_error err;
    abigate_zip *z = NULL;
    int rc = abigate_zip_open_path(path, &z, &err);
    if (rc) {
        it.rc = rc;
        it.err = &err;
        rc = fn(&it, ctx);
        free(tags);
        return rc;
    }
    if (abigate_wheel_tags_from_filename(path, name_tags, NULL) != ABIGATE_OK)
        name_tags->count = 0;
    int status = 0;
    it.zip = z;
    rc = abigate_wheel_read_metadata(z, wheel_tags, &err);
    it.wheel_tags_rc = rc;
    it.wheel_tags_problem = rc ? err.message : NULL; /* judged with each member */
    if (rc != ABIGATE_OK) {
        wheel_tags->count = 0;
        if (rc != ABIGATE_E_WHEEL_NAME) { /* a WHEEL file that cannot be read: said once */
            abigate_walk_item bad = it;
            bad.member = "*.dist-info/WHEEL";
            bad.rc = rc;
            bad.err = &err;
            status = fn(&bad, ctx);
        }
    }
    for (size_t i = 0; i < abigate_zip_count(z); i++) {
        abigate_zip_entry e;
        /* a member whose first bytes could not be read (memory, I/O) is
         * judged: its read then says why */
        if (abigate_zip_entry_get(z, i, &e) != ABIGATE_OK || abigate_zip_member_is_elf(z, i) == 0)
            continue;
        it.member = e.name;
        it.index = i;
        int s = fn(&it, ctx);
        if (s > status)
            status = s;
    }
    abigate_zip_close(z);
    free(tags);
    return status;
}

/* A set of (device, inode) pairs: open addressing, at most half full. */
struct idset {
    struct id { dev_t dev; ino_t ino; int used; } *slots;
    size_t n, cap;
};

static size_t id_hash(dev_t dev, ino_t ino, size_t mask)
{
    uint64_t h = ((uint64_t)dev * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)ino * 0xc2b2ae3d27d4eb4full);
    return (size_t)(h ^ (h >> 29)) & mask;
}

/* 1 when (dev, ino) was in the set; else it is added (0), or -1 without memory. */
static int id_seen(struct idset *s, dev_t dev, ino_t ino)
{
    if (2 * (s->n + 1) > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        struct id *slots = calloc(cap, sizeof *slots);
        if (!slots)
            return -1;
        for (size_t i = 0; i < s->cap; i++)
            if (s->slots[i].used) {
                size_t h = id_hash(s->slots[i].dev, s->slots[i].ino, cap - 1);
                while (slots[h].used)
                    h = (h + 1) & (cap - 1);
                slots[h] = s->slots[i];
            }
        free(s->slots);
        s->slots = slots;
        s->cap = cap;
    }
    size_t h = id_hash(dev, ino, s->cap - 1);
    for (; s->slots[h].used; h = (h + 1) & (s->cap - 1))
        if (s->slots[h].dev == dev && s->slots[h].ino == ino)
            return 1;
    s->slots[h].dev = dev;
    s->slots[h].ino = ino;
    s->slots[h].used = 1;
    s->n++;
    return 0;
}

/* One walk from one argument.  Symbolic links are followed (a Nix or Guix
 * profile, a Spack view, a venv made of links: their files are links into
 * a store): a real file met again through a link is not given again
 * (the first path that reached it names it); each real directory is
 * walked once; a link back to a directory
 * being walked is a loop, reported.  The walk stays on the file system of
 * the argument unless ABIGATE_WALK_CROSS_FILESYSTEMS: another one is reported,
 * not walked (/proc and /sys under "/"). */
struct walk {
    int open_wheels;
    unsigned flags;
    dev_t dev;             /* the argument's file system */
    struct idset files, dirs;
    struct chain { dev_t dev; ino_t ino; } stack[ABIGATE_WALK_MAX_DEPTH + 2]; /* the directories being walked */
    int depth;
    int linked_depth;      /* how many links lead to the directory being walked */
    abigate_walk_fn fn;
    void *ctx;
};

/* An input that cannot be walked or read, with `what` happened to it
 * (after `prefix`). */
static int report(struct walk *w, const char *path, int code, const char *prefix, const char *what)
{
    abigate_error err = {code, -1, ""};
    snprintf(err.message, sizeof err.message, "%s%s", prefix, what);
    abigate_walk_item it = {.size = sizeof it, .path = path, .rc = code, .err = &err};
    return w->fn(&it, w->ctx);
}

static int walk(struct walk *w, const char *dir, const struct stat *dst);

/* One entry of a directory: `st` is lstat's, or (`linked`) stat's of the
 * link's target.  A file met again is given again only when neither it
 * nor a directory above it was reached through a link (hard links in a
 * real tree are distinct files of distinct packages). */
static int entry(struct walk *w, const char *path, const char *name, const struct stat *st,
                 int linked)
{
    int wheel_name = ends_with(name, ".whl"),
        so_name = ends_with(name, ".so") || ends_with(name, ".pyd");
    if (S_ISDIR(st->st_mode)) {
        w->linked_depth += linked;
        int rc = walk(w, path, st);
        w->linked_depth -= linked;
        return rc;
    }
    if (!so_name && !wheel_name)
        return 0;
    if (S_ISREG(st->st_mode)) {
        int seen = id_seen(&w->files, st->st_dev, st->st_ino);
        if (seen < 0)
            return report(w, path, ABIGATE_E_NOMEM, "", "out of memory");
        if (seen && (linked || w->linked_depth))
            return 0; /* the same file, met again through a link: given once */
    }
    if (S_ISREG(st->st_mode) && w->open_wheels && wheel_name)
        return wheel(path, w->fn, w->ctx);
    /* a regular file, or something else under an extension's or a wheel's
     * name (a FIFO, a socket, a device, reached directly or by a link):
     * the reader opens it without blocking and says what it is */
    abigate_walk_item it = {.size = sizeof it, .path = path, .via_link = linked};
    return w->fn(&it, w->ctx);
}

static int walk(struct walk *w, const char *dir, const struct stat *dst)
{
    if (dst->st_dev != w->dev && !(w->flags & ABIGATE_WALK_CROSS_FILESYSTEMS))
        return report(w, dir, ABIGATE_E_OPEN, "another file system: ",
                      "not walked (--cross-filesystems walks it)");
    for (int i = 0; i < w->depth; i++)
        if (w->stack[i].dev == dst->st_dev && w->stack[i].ino == dst->st_ino)
            return report(w, dir, ABIGATE_E_OPEN, "a loop of links: ",
                          "this directory is one being walked");
    int seen = id_seen(&w->dirs, dst->st_dev, dst->st_ino);
    if (seen)
        return seen < 0 ? report(w, dir, ABIGATE_E_NOMEM, "", "out of memory") : 0;
    struct dirent **names;
    int n = w->depth > ABIGATE_WALK_MAX_DEPTH ? 0 : scandir(dir, &names, NULL, alphasort), status = 0;
    if (n < 0 || w->depth > ABIGATE_WALK_MAX_DEPTH)
        return report(w, dir, ABIGATE_E_OPEN, "",
                      n < 0 ? strerror(errno) : "directories nested too deep");
    w->stack[w->depth].dev = dst->st_dev;
    w->stack[w->depth].ino = dst->st_ino;
    w->depth++;
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        if (strcmp(name, ".") && strcmp(name, "..")) {
            size_t len = strlen(dir) + strlen(name) + 2;
            char *path = malloc(len);
            struct stat st;
            int s = 0;
            if (!path) {
                s = report(w, dir, ABIGATE_E_NOMEM, "", "out of memory");
            } else {
                snprintf(path, len, "%s%s%s", dir, ends_with(dir, "/") ? "" : "/", name);
                unsigned char type = names[i]->d_type;
                int interesting = ends_with(name, ".so") || ends_with(name, ".pyd") ||
                                  ends_with(name, ".whl");
                if (type == DT_REG && !interesting) {
                    /* d_type saves an lstat where the file system gives it */
                } else if (type == DT_REG) {
                    /* and d_ino the identity: a regular entry is on the
                     * directory's own file system */
                    memset(&st, 0, sizeof st);
                    st.st_mode = S_IFREG;
                    st.st_dev = dst->st_dev;
                    st.st_ino = names[i]->d_ino;
                    s = entry(w, path, name, &st, 0);
                } else if (lstat(path, &st) != 0) {
                    s = report(w, path, ABIGATE_E_OPEN, "", strerror(errno));
                } else if (S_ISLNK(st.st_mode)) {
                    if (stat(path, &st) == 0)
                        s = entry(w, path, name, &st, 1);
                    else if (interesting)
                        s = report(w, path, ABIGATE_E_OPEN, "a link to nothing: ",
                                   strerror(errno));
                } else {
                    s = entry(w, path, name, &st, 0);
                }
                free(path);
            }
            if (s > status)
                status = s;
        }
        free(names[i]);
    }
    free(names);
    w->depth--;
    return status;
}

static int each(const char *arg, int open_wheels, unsigned flags, abigate_walk_fn fn, void *ctx)
{
    struct stat st;
    if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
        struct walk w;
        memset(&w, 0, sizeof w);
        w.open_wheels = open_wheels;
        w.flags = flags;
        w.dev = st.st_dev;
        w.fn = fn;
        w.ctx = ctx;
        int rc = walk(&w, arg, &st);
        free(w.files.slots);
        free(w.dirs.slots);
        return rc;
    }
    if (open_wheels && abigate_walk_is_wheel(arg))
        return wheel(arg, fn, ctx);
    abigate_walk_item it = {.size = sizeof it, .path = arg};
    return fn(&it, ctx);
}

ABIGATE_API int abigate_walk(const char *path, unsigned flags, abigate_walk_fn fn, void *ctx)
{
    if (!path || !fn)
        return 0;
    return each(path, !(flags & ABIGATE_WALK_WHEELS_UNOPENED), flags, fn, ctx);
}

ABIGATE_API int abigate_walk_wheel(const char *path, abigate_walk_fn fn, void *ctx)
{
    if (!path || !fn)
        return 0;
    return wheel(path, fn, ctx);
}

static const char *const tag_sources[ABIGATE_WALK_TAG_SETS] = {"file name", "WHEEL"};

ABIGATE_API const char *abigate_walk_tag_source(int k)
{
    return k >= 0 && k < ABIGATE_WALK_TAG_SETS ? tag_sources[k] : NULL;
}

unsigned abigate__walk_judge_tags(const abigate_walk_item *it,
                                             const abigate_file_info *fi,
                                             const abigate_policy *policy,
                                             abigate_verdict v[ABIGATE_WALK_TAG_SETS])
{
    if (!it || !fi || !policy || !v)
        return 0;
    const abigate_wheel_tags *sets[ABIGATE_WALK_TAG_SETS] = {it->name_tags, it->wheel_tags};
    unsigned judged = 0;
    if (!it->member || it->rc || (fi->elf_class == 0 && policy->mode != ABIGATE_MODE_OFF))
        return 0; /* the member could not be read */
    for (int k = 0; k < ABIGATE_WALK_TAG_SETS; k++) {
        if (!sets[k])
            continue;
        /* tags that could not all be read (the WHEEL file missing or
         * malformed, a list cut short) are a finding of their own; the
         * file name's own problems are the archive's (it opened as a zip) */
        int rc = k == 1 ? it->wheel_tags_rc : ABIGATE_OK;
        if ((rc != ABIGATE_OK || sets[k]->truncated) &&
            abigate_wheel_tags_decide(sets[k], rc, k == 1 ? it->wheel_tags_problem : NULL,
                                      tag_sources[k], policy, &v[k]) >= 0 &&
            v[k].reason) {
            judged |= 1u << k;
            continue;
        }
        if (sets[k]->count &&
            abigate_wheel_decide(sets[k], tag_sources[k], fi, policy, &v[k]) >= 0)
            judged |= 1u << k;
    }
    return judged;
}

int abigate__walk_judge(abigate_gate *gate, const abigate_walk_item *it,
                                   const abigate_policy *policy, abigate_verdict *v,
                                   abigate_file_info *facts, abigate_error *err)
{
    if (facts)
        memset(facts, 0, sizeof *facts);
    if (!gate || !it || !v)
        return abigate__fail(err, ABIGATE_E_INVALID_ARG, -1, "abigate_walk_judge: NULL argument");
    if (it->rc) {
        /* a wheel or a directory that could not be read: the gate's own
         * table for what cannot be judged */
        if (err)
            *err = *it->err;
        return abigate_verdict_unreadable(policy ? policy : abigate__gate_policy(gate), it->err, v);
    }
    if (it->member)
        return abigate_gate_judge_zip_member_facts(gate, it->zip, it->index, policy, v, facts, err);
    return abigate_gate_judge(gate, it->path, policy, v, err);
}
