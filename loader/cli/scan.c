/* scan.c -- abigate scan: which distributions of an environment work on a
 * target interpreter, and why not.
 *
 * The PATHs (site-packages, plain directories, directories of wheels,
 * wheels, files) are walked by libabigate's walk (abigate_walk); each file and each
 * wheel (all its extension members, and their tags) is one job, judged by
 * libabigate's gate on -j N threads; then the results are grouped by
 * distribution (a *.dist-info's RECORD where present, a wheel's own name,
 * else the file's top-level directory) and printed in a stable order.
 * With --tags (a release's wheelhouse), each wheel's members are judged
 * for every interpreter its file name's tags claim instead of one.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#define RECORD_MAX (16u << 20) /* a RECORD file read whole, up to this size */

struct result {
    char *member;             /* the wheel member, or NULL for a file */
    int rc;                   /* ABIGATE_OK, or why it could not be judged */
    char error[ABIGATE_ERROR_MESSAGE_MAX];
    abigate_verdict v;        /* for the interpreter */
    const char *target;       /* --tags: the spec it was judged for (sc->gates), else NULL */
    int tag_reason;           /* the first tag set that does not fit it, or 0 */
    int tag_kind;
    char tag_message[ABIGATE_VERDICT_MESSAGE_MAX];
};

struct job {
    char *path;
    int is_wheel;
    int via_link;             /* the walk reached the file itself through a link */
    const char *dist;         /* owned by the distribution table */
    const char *source;       /* what named it: "record", "dpkg", "egg-info", ... */
    struct result *results;
    size_t n, cap;
    unsigned ngates;          /* --tags: the interpreters its wheel's tags claim */
    unsigned gates[8];        /* ... as indices of sc->gates */
};

#define SCAN_TAG_GATES 64

struct scan {
    abigate_gate *gate;
    abigate_policy policy;
    int tags;                 /* --tags: each wheel for the interpreters its tags claim */
    unsigned ngates;
    struct { char spec[64]; abigate_gate *gate; } gates[SCAN_TAG_GATES];
    struct job *jobs;
    size_t njobs, cap;
    size_t next;              /* next job to take (atomic) */
    size_t done;              /* jobs finished (atomic) */
    /* file -> distribution, from RECORD files; sorted by path */
    struct owner { char *path; const char *dist; const char *source; } *owners;
    size_t nowners, owners_cap;
    /* top-level names (top_level.txt of *.egg-info) -> distribution */
    struct top { char *name; const char *dist; } *tops;
    size_t ntops, tops_cap;
    /* dpkg's extension modules (real path -> "package version"), loaded at
     * the first file under /usr that nothing else names */
    int dpkg_loaded;
    struct owner *dpkg;
    size_t ndpkg, dpkg_cap;
    char **dists;             /* distribution names (owned) */
    size_t ndists, dists_cap;
    size_t *dist_slots;       /* hash index of dists: position + 1, 0 empty */
    size_t dist_mask;         /* slots - 1 (a power of two, at most half full) */
    const char *root;         /* the PATH being collected */
    char **unread;            /* RECORD files that could not be read: reported as errors */
    size_t nunread;
    char real_dir_of[PATH_MAX];  /* real_path's cache: the last directory resolved */
    char real_dir[PATH_MAX];     /* and its realpath */
    int oom;                  /* an allocation failed (atomic: workers too) */
};

/* Memory.  Nothing here exits on a failed allocation (this code also runs
 * in a user's Python process: python -m abigate): the scan notes it in
 * sc->oom, adds no more work, and ends with "out of memory", exit 2. */
static void *scan_alloc(struct scan *sc, void *p, size_t n, size_t size)
{
    void *q = n <= SIZE_MAX / size ? realloc(p, n ? n * size : 1) : NULL;
    if (!q)
        __atomic_store_n(&sc->oom, 1, __ATOMIC_RELAXED);
    return q;
}

static char *scan_strdup(struct scan *sc, const char *s)
{
    char *d = strdup(s);
    if (!d)
        __atomic_store_n(&sc->oom, 1, __ATOMIC_RELAXED);
    return d;
}

/* Room in *arr (n elements of `size` used of *cap) for one more, growing
 * it to twice its capacity plus `more`: 0, or -1 (sc->oom set, *arr kept). */
static int room(struct scan *sc, void *arr, size_t n, size_t *cap, size_t size, size_t more)
{
    void **p = arr;
    if (n < *cap)
        return 0;
    size_t c = *cap * 2 + more;
    void *q = scan_alloc(sc, *p, c, size);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

static size_t name_hash(const char *s)
{
    uint64_t h = 14695981039346656037ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)h;
}

/* The one copy of distribution name `name` (a hash index over sc->dists:
 * a site-packages of thousands of files interns one name per file); NULL
 * without memory. */
static const char *intern_dist(struct scan *sc, const char *name)
{
    if (sc->ndists && !strcmp(sc->dists[sc->ndists - 1], name))
        return sc->dists[sc->ndists - 1]; /* files of one distribution come together */
    for (size_t i = sc->dist_slots ? name_hash(name) & sc->dist_mask : 0;
         sc->dist_slots && sc->dist_slots[i];
         i = (i + 1) & sc->dist_mask)
        if (!strcmp(sc->dists[sc->dist_slots[i] - 1], name))
            return sc->dists[sc->dist_slots[i] - 1];
    char *copy;
    if (room(sc, &sc->dists, sc->ndists, &sc->dists_cap, sizeof *sc->dists, 16) ||
        !(copy = scan_strdup(sc, name)))
        return NULL;
    size_t first = sc->ndists; /* the names still to index */
    if (2 * (sc->ndists + 1) > (sc->dist_slots ? sc->dist_mask + 1 : 0)) { /* grow: index all again */
        size_t slots = sc->dist_slots ? 2 * (sc->dist_mask + 1) : 64;
        size_t *index = scan_alloc(sc, NULL, slots, sizeof *index);
        if (!index) {
            free(copy);
            return NULL;
        }
        memset(index, 0, slots * sizeof *index);
        free(sc->dist_slots);
        sc->dist_slots = index;
        sc->dist_mask = slots - 1;
        first = 0;
    }
    sc->dists[sc->ndists++] = copy;
    for (size_t k = first; k < sc->ndists; k++) {
        size_t i = name_hash(sc->dists[k]) & sc->dist_mask;
        while (sc->dist_slots[i])
            i = (i + 1) & sc->dist_mask;
        sc->dist_slots[i] = k + 1;
    }
    return sc->dists[sc->ndists - 1];
}

/* ------------------------------------------------------------------ distributions */

/* "numpy-1.24.2.dist-info" -> "numpy 1.24.2"; a wheel "pkg-1.0-cp311-...whl" -> "pkg 1.0" */
static void dist_name(const char *base, size_t len, char *out, size_t cap)
{
    const char *dash = memchr(base, '-', len);
    if (!dash) {
        snprintf(out, cap, "%.*s", (int)len, base);
        return;
    }
    const char *end = memchr(dash + 1, '-', (size_t)(base + len - dash - 1));
    size_t vlen = (size_t)((end ? end : base + len) - dash - 1);
    snprintf(out, cap, "%.*s %.*s", (int)(dash - base), base, (int)vlen, dash + 1);
}

/* realpath(path) into real[PATH_MAX] for a file the walk found (not itself
 * a link: owner_of resolves those whole), resolving its directory once for
 * all the files of that directory: realpath costs a system call per
 * component of the path, for every file of an environment. */
static int walked_real_path(struct scan *sc, const char *path, char *real)
{
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) : 0;
    if (!slash || dlen == 0 || dlen >= PATH_MAX)
        return realpath(path, real) != NULL;
    if (strncmp(sc->real_dir_of, path, dlen) || sc->real_dir_of[dlen] != '\0') {
        char dir[PATH_MAX];
        memcpy(dir, path, dlen);
        dir[dlen] = '\0';
        if (!realpath(dir, sc->real_dir)) {
            sc->real_dir_of[0] = '\0';
            return 0;
        }
        memcpy(sc->real_dir_of, dir, dlen + 1);
    }
    return (size_t)snprintf(real, PATH_MAX, "%s%s%s", sc->real_dir,
                            strcmp(sc->real_dir, "/") ? "/" : "", slash + 1) < PATH_MAX;
}

static void add_owner(struct scan *sc, const char *path, const char *dist, const char *source)
{
    char real[PATH_MAX];
    if (!dist || !realpath(path, real) ||
        room(sc, &sc->owners, sc->nowners, &sc->owners_cap, sizeof *sc->owners, 64) ||
        !(sc->owners[sc->nowners].path = scan_strdup(sc, real)))
        return;
    sc->owners[sc->nowners].source = source;
    sc->owners[sc->nowners++].dist = dist;
}

static void note_unread(struct scan *sc, const char *path)
{
    char **more = scan_alloc(sc, sc->unread, sc->nunread + 1, sizeof *sc->unread);
    if (!more)
        return;
    sc->unread = more;
    if ((sc->unread[sc->nunread] = scan_strdup(sc, path)))
        sc->nunread++;
}

/* `p` spelled once: repeated slashes made one, "." components dropped,
 * no slash at the end ("/" and "." stay).  ".." is kept: with links,
 * only the file system can say what it names. */
static void normalize_path(char *p)
{
    char *out = p;
    const char *in = p;
    int absolute = *p == '/';
    if (absolute)
        *out++ = *in++;
    while (*in) {
        while (*in == '/')
            in++;
        const char *end = strchr(in, '/');
        size_t n = end ? (size_t)(end - in) : strlen(in);
        if (n == 1 && in[0] == '.') {
            in += n;
            continue;
        }
        if (n) {
            if (out > p && out[-1] != '/')
                *out++ = '/';
            memmove(out, in, n);
            out += n;
            in += n;
        }
    }
    if (out == p)
        *out++ = '.';
    *out = '\0';
}

static int collect(const abigate_walk_item *it, void *ctx);

/* A RECORD, or a file of an *.egg-info, that exists but could not be read
 * (not a regular file, too large, unopenable): a job of its own whose one
 * result is the error. */
static void scan_unread(struct scan *sc, const char *path)
{
    abigate_error err;
    struct stat st;
    int code = ABIGATE_E_OPEN;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        code = S_ISDIR(st.st_mode) ? ABIGATE_E_IS_DIRECTORY : ABIGATE_E_NOT_REGULAR;
        snprintf(err.message, sizeof err.message,
                 "%s not read: not a regular file (a FIFO, socket, device or directory)", base);
    } else if (stat(path, &st) == 0 && st.st_size > (off_t)RECORD_MAX) {
        snprintf(err.message, sizeof err.message, "%s not read: larger than %u bytes", base,
                 (unsigned)RECORD_MAX);
    } else {
        snprintf(err.message, sizeof err.message, "%s not read: cannot open it", base);
    }
    err.code = code;
    err.offset = -1;
    abigate_walk_item it = {.size = sizeof it, .path = path, .rc = code, .err = &err};
    if (collect(&it, sc))
        return; /* out of memory */
    /* grouped under the distribution the RECORD belongs to */
    const char *info = strstr(path, ".dist-info/RECORD"), *start = info;
    while (start && start > path && start[-1] != '/')
        start--;
    if (info) {
        char name[256];
        dist_name(start, (size_t)(info - start), name, sizeof name);
        sc->jobs[sc->njobs - 1].dist = intern_dist(sc, name);
        sc->jobs[sc->njobs - 1].source = "record";
    }
}

/* Open the metadata file `path` for reading when it is a regular file:
 * never blocks (a FIFO named RECORD), never a terminal.  NULL otherwise:
 * silently when there is no such file, with sc->oom set without memory,
 * else, with `report`, noted as unread (reported with the results). */
static FILE *open_regular(struct scan *sc, const char *path, int report)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat st;
    FILE *f = NULL;
    if (fd < 0) {
        if (errno == ENOMEM)
            __atomic_store_n(&sc->oom, 1, __ATOMIC_RELAXED);
        else if (report && errno != ENOENT && errno != ENOTDIR)
            note_unread(sc, path);
        return NULL;
    }
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > (off_t)RECORD_MAX ||
        !(f = fdopen(fd, "r"))) {
        int e = errno;
        close(fd);
        if (e == ENOMEM && S_ISREG(st.st_mode))
            __atomic_store_n(&sc->oom, 1, __ATOMIC_RELAXED);
        else if (report)
            note_unread(sc, path);
    }
    return f;
}

/* One line of `f` without its end of line into buf; 0 at the end. */
static int read_line(FILE *f, char *buf, size_t cap)
{
    if (!fgets(buf, (int)cap, f))
        return 0;
    buf[strcspn(buf, "\r\n")] = '\0';
    return 1;
}

/* A *.egg-info directory under `dir` (what Debian's and distutils'
 * installs leave, with no RECORD): the distribution's name and version
 * from its PKG-INFO; its files from installed-files.txt (relative to the
 * egg-info directory) when there is one, and its top-level packages and
 * modules from top_level.txt. */
static void read_egg_info(struct scan *sc, const char *dir, const char *egg)
{
    char path[PATH_MAX], line[PATH_MAX], name[128] = "", version[64] = "", dist[256];
    snprintf(path, sizeof path, "%s/%s/PKG-INFO", dir, egg);
    FILE *f = open_regular(sc, path, 1);
    if (!f)
        return;
    while (read_line(f, line, sizeof line) && line[0] && !(name[0] && version[0])) {
        if (!strncmp(line, "Name: ", 6))
            snprintf(name, sizeof name, "%.*s", (int)sizeof name - 1, line + 6);
        else if (!strncmp(line, "Version: ", 9))
            snprintf(version, sizeof version, "%.*s", (int)sizeof version - 1, line + 9);
    }
    fclose(f);
    if (!name[0])
        return;
    snprintf(dist, sizeof dist, "%s%s%s", name, version[0] ? " " : "", version);
    const char *d = intern_dist(sc, dist);
    if (!d)
        return;
    snprintf(path, sizeof path, "%s/%s/installed-files.txt", dir, egg);
    if ((f = open_regular(sc, path, 1))) {
        while (read_line(f, line, sizeof line)) {
            size_t k = strlen(line);
            if (k > 3 && !strcmp(line + k - 3, ".so")) {
                char full[PATH_MAX * 2];
                snprintf(full, sizeof full, "%s/%s/%s", dir, egg, line);
                add_owner(sc, full, d, "egg-info");
            }
        }
        fclose(f);
    }
    snprintf(path, sizeof path, "%s/%s/top_level.txt", dir, egg);
    if ((f = open_regular(sc, path, 1))) {
        while (read_line(f, line, sizeof line)) {
            if (!line[0] || strchr(line, '/'))
                continue;
            if (room(sc, &sc->tops, sc->ntops, &sc->tops_cap, sizeof *sc->tops, 16) ||
                !(sc->tops[sc->ntops].name = scan_strdup(sc, line)))
                break;
            sc->tops[sc->ntops++].dist = d;
        }
        fclose(f);
    }
}

static int by_path(const void *a, const void *b);

/* dpkg's file lists (/var/lib/dpkg/info/PACKAGE[:ARCH].list): every
 * extension module a Debian package installed (a line under a python
 * directory ending in ".so"), by real path, named "package version" from
 * /var/lib/dpkg/status. */
static void load_dpkg(struct scan *sc)
{
    const char *info = "/var/lib/dpkg/info";
    sc->dpkg_loaded = 1;
    DIR *d = opendir(info);
    struct dirent *de;
    if (!d) {
        if (errno == ENOMEM)
            __atomic_store_n(&sc->oom, 1, __ATOMIC_RELAXED);
        return;
    }
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 6 || strcmp(de->d_name + n - 5, ".list"))
            continue;
        char path[PATH_MAX], line[PATH_MAX], real[PATH_MAX], pkg[256];
        snprintf(path, sizeof path, "%s/%s", info, de->d_name);
        snprintf(pkg, sizeof pkg, "%.*s", (int)strcspn(de->d_name, ":."), de->d_name);
        FILE *f = open_regular(sc, path, 0);
        if (!f)
            continue;
        while (read_line(f, line, sizeof line)) {
            size_t k = strlen(line);
            if (k < 4 || strcmp(line + k - 3, ".so") || !strstr(line, "/python") || !realpath(line, real))
                continue;
            const char *dist = intern_dist(sc, pkg); /* the version is added below */
            if (!dist || room(sc, &sc->dpkg, sc->ndpkg, &sc->dpkg_cap, sizeof *sc->dpkg, 64) ||
                !(sc->dpkg[sc->ndpkg].path = scan_strdup(sc, real)))
                break;
            sc->dpkg[sc->ndpkg].source = "dpkg";
            sc->dpkg[sc->ndpkg++].dist = dist;
        }
        fclose(f);
    }
    closedir(d);
    /* the versions of the packages met, from the status file */
    FILE *f = open_regular(sc, "/var/lib/dpkg/status", 0);
    char line[1024], pkg[256] = "";
    while (f && read_line(f, line, sizeof line)) {
        if (!strncmp(line, "Package: ", 9)) {
            snprintf(pkg, sizeof pkg, "%.*s", (int)sizeof pkg - 1, line + 9);
        } else if (!strncmp(line, "Version: ", 9) && pkg[0]) {
            for (size_t i = 0; i < sc->ndpkg; i++)
                if (!strcmp(sc->dpkg[i].dist, pkg)) {
                    char full[300];
                    snprintf(full, sizeof full, "%.*s %.40s", 250, pkg, line + 9);
                    const char *named = intern_dist(sc, full);
                    for (size_t k = i; named && k < sc->ndpkg; k++)
                        if (!strcmp(sc->dpkg[k].dist, pkg))
                            sc->dpkg[k].dist = named;
                    break;
                }
            pkg[0] = '\0';
        }
    }
    if (f)
        fclose(f);
    qsort(sc->dpkg, sc->ndpkg, sizeof *sc->dpkg, by_path);
}

/* Each *.dist-info/RECORD directly under `dir` (a site-packages): its
 * first CSV field names a file, relative to `dir`. */
static void read_records(struct scan *sc, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    if (!d) { /* the walk reports a directory it cannot read */
        if (errno == ENOMEM)
            __atomic_store_n(&sc->oom, 1, __ATOMIC_RELAXED);
        return;
    }
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n > 9 && !strcmp(de->d_name + n - 9, ".egg-info")) {
            read_egg_info(sc, dir, de->d_name);
            continue;
        }
        if (n < 11 || strcmp(de->d_name + n - 10, ".dist-info"))
            continue;
        char path[PATH_MAX], name[256];
        snprintf(path, sizeof path, "%s/%s/RECORD", dir, de->d_name);
        /* one that exists but cannot be read is reported (scan_unread),
         * the walk goes on */
        FILE *f = open_regular(sc, path, 1);
        if (!f)
            continue;
        dist_name(de->d_name, n - 10, name, sizeof name);
        const char *dist = intern_dist(sc, name);
        char line[PATH_MAX + 256];
        while (fgets(line, sizeof line, f)) {
            char *p = line, *q;
            char file[PATH_MAX];
            size_t k = 0;
            if (*p == '"') { /* a quoted field: "" is a quote */
                for (p++; *p && k + 1 < sizeof file; p++) {
                    if (*p == '"' && p[1] == '"')
                        file[k++] = *p++;
                    else if (*p == '"')
                        break;
                    else
                        file[k++] = *p;
                }
            } else {
                for (q = p; *q && *q != ',' && *q != '\n' && k + 1 < sizeof file; q++)
                    file[k++] = *q;
            }
            file[k] = '\0';
            if (k > 3 && !strcmp(file + k - 3, ".so")) {
                char full[PATH_MAX * 2];
                snprintf(full, sizeof full, "%s/%s", dir, file);
                add_owner(sc, full, dist, "record");
            }
        }
        fclose(f);
    }
    closedir(d);
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const struct owner *)a)->path, ((const struct owner *)b)->path);
}

/* The distribution of a file, and what named it (*source): the RECORD
 * that lists it; else dpkg's file list that holds it (a file under /usr);
 * else the *.egg-info whose installed-files.txt lists it or whose
 * top_level.txt names its top-level directory or module; else its
 * top-level directory under the PATH it was found in; else the file. */
static const char *owner_of(struct scan *sc, const char *root, const char *path, int via_link,
                            const char **source)
{
    char real[PATH_MAX], name[PATH_MAX + 16];
    int have_real = -1;
    if (sc->nowners && (have_real = via_link ? realpath(path, real) != NULL
                                             : walked_real_path(sc, path, real))) {
        struct owner key = {real, NULL, NULL};
        struct owner *o = bsearch(&key, sc->owners, sc->nowners, sizeof *o, by_path);
        if (o && !strcmp(o->source, "record"))
            return *source = o->source, o->dist;
    }
    if (have_real < 0)
        have_real = via_link ? realpath(path, real) != NULL : walked_real_path(sc, path, real);
    if (have_real && !strncmp(real, "/usr/", 5)) {
        if (!sc->dpkg_loaded)
            load_dpkg(sc);
        struct owner key = {real, NULL, NULL};
        struct owner *o = sc->ndpkg ? bsearch(&key, sc->dpkg, sc->ndpkg, sizeof *o, by_path) : NULL;
        if (o)
            return *source = o->source, o->dist;
    }
    if (have_real && sc->nowners) { /* an egg-info's installed-files.txt */
        struct owner key = {real, NULL, NULL};
        struct owner *o = bsearch(&key, sc->owners, sc->nowners, sizeof *o, by_path);
        if (o)
            return *source = o->source, o->dist;
    }
    size_t rl = strlen(root);
    const char *rel = !strncmp(path, root, rl) && path[rl] == '/' ? path + rl + 1 : NULL;
    const char *slash = rel ? strchr(rel, '/') : NULL;
    if (rel) { /* an egg-info's top-level name: a directory, or a module's name */
        size_t k = slash ? (size_t)(slash - rel) : strcspn(rel, ".");
        for (size_t i = 0; i < sc->ntops; i++)
            if (strlen(sc->tops[i].name) == k && !strncmp(sc->tops[i].name, rel, k))
                return *source = "egg-info", sc->tops[i].dist;
    }
    *source = slash ? "directory" : "file";
    if (slash)
        snprintf(name, sizeof name, "%.*s (directory)", (int)(slash - rel), rel);
    else
        snprintf(name, sizeof name, "%s", rel ? rel : path);
    return intern_dist(sc, name);
}

/* ------------------------------------------------------------------ collecting */

static int collect(const abigate_walk_item *it, void *ctx)
{
    struct scan *sc = ctx;
    if (sc->oom || room(sc, &sc->jobs, sc->njobs, &sc->cap, sizeof *sc->jobs, 64))
        return EXIT_USAGE; /* no more work: the scan ends with "out of memory" */
    struct job *j = &sc->jobs[sc->njobs];
    memset(j, 0, sizeof *j);
    if (!(j->path = scan_strdup(sc, it->path)))
        return EXIT_USAGE;
    sc->njobs++;
    j->is_wheel = it->rc == ABIGATE_OK && abigate_walk_is_wheel(it->path);
    if (it->rc) { /* a directory that cannot be read: an error of its own */
        if (!(j->results = scan_alloc(sc, NULL, 1, sizeof *j->results)))
            return EXIT_USAGE;
        memset(j->results, 0, sizeof *j->results);
        j->n = 1;
        j->results[0].rc = it->rc;
        snprintf(j->results[0].error, sizeof j->results[0].error, "%s", it->err->message);
    }
    j->via_link = it->via_link;
    if (j->is_wheel) {
        const char *base = strrchr(it->path, '/');
        char name[256];
        base = base ? base + 1 : it->path;
        dist_name(base, strlen(base), name, sizeof name);
        j->dist = intern_dist(sc, name);
        j->source = "wheel";
    } else {
        j->dist = owner_of(sc, sc->root, it->path, it->via_link, &j->source);
    }
    return 0;
}

/* ------------------------------------------------------------------ judging */

static struct result *new_result(struct scan *sc, struct job *j)
{
    if (room(sc, &j->results, j->n, &j->cap, sizeof *j->results, j->is_wheel ? 8 : 1))
        return NULL;
    struct result *r = &j->results[j->n++];
    memset(r, 0, sizeof *r);
    return r;
}

struct member_ctx {
    struct scan *sc;
    struct job *job;
};

/* Judge `it` into a new result of `job`: the gate's verdict, and for a
 * wheel member the first of the wheel's tag sets that does not fit it. */
static void judge_one(struct scan *sc, struct job *job, const abigate_walk_item *it,
                      abigate_gate *gate, const char *target);

static void judge_into(struct scan *sc, struct job *job, const abigate_walk_item *it)
{
    if (!sc->tags) {
        judge_one(sc, job, it, sc->gate, NULL);
        return;
    }
    if (it->rc == ABIGATE_OK && !job->is_wheel) { /* --tags judges wheels: said, not skipped */
        struct result *r = new_result(sc, job);
        if (r) {
            r->rc = ABIGATE_E_INVALID_ARG;
            snprintf(r->error, sizeof r->error, "not a wheel: --tags judges the members of "
                                                "wheels, for the interpreters their tags claim");
        }
        return;
    }
    if (it->rc != ABIGATE_OK || job->ngates == 0) { /* unreadable, or no interpreter claimed */
        judge_one(sc, job, it, sc->gate, NULL);
        struct result *r = job->n ? &job->results[job->n - 1] : NULL;
        if (r && r->rc == ABIGATE_OK && it->rc == ABIGATE_OK) { /* its tags alone judge it */
            memset(&r->v, 0, sizeof r->v);
            r->v.kind = ABIGATE_ACCEPT;
            snprintf(r->v.message, sizeof r->v.message,
                     "its wheel's tags claim no CPython interpreter: judged by its tags alone");
        }
        return;
    }
    for (unsigned k = 0; k < job->ngates; k++)
        judge_one(sc, job, it, sc->gates[job->gates[k]].gate, sc->gates[job->gates[k]].spec);
}

static void judge_one(struct scan *sc, struct job *job, const abigate_walk_item *it,
                      abigate_gate *gate, const char *target)
{
    struct result *r = new_result(sc, job);
    abigate_error err;
    if (!r)
        return;
    r->target = target;
    r->member = it->member && !it->rc ? scan_strdup(sc, it->member) : NULL;
    abigate_file_info fi;
    r->rc = input_judge(gate, it, &r->v, &fi, &err);
    if (r->rc) {
        snprintf(r->error, sizeof r->error, "%s", err.message);
        return;
    }
    abigate_verdict tv[ABIGATE_WALK_TAG_SETS];
    unsigned judged = abigate_walk_judge_tags(it, &fi, &sc->policy, tv);
    for (int k = 0; k < ABIGATE_WALK_TAG_SETS && !r->tag_reason; k++)
        if ((judged & 1u << k) && tv[k].reason) {
            r->tag_reason = tv[k].reason;
            r->tag_kind = tv[k].kind;
            snprintf(r->tag_message, sizeof r->tag_message, "%s", tv[k].message);
        }
}

static int judge_member(const abigate_walk_item *it, void *ctx)
{
    struct member_ctx *mc = ctx;
    judge_into(mc->sc, mc->job, it);
    return 0;
}

static void *worker(void *arg)
{
    struct scan *sc = arg;
    for (;;) {
        size_t i = __atomic_fetch_add(&sc->next, 1, __ATOMIC_RELAXED);
        if (i >= sc->njobs)
            break;
        struct job *j = &sc->jobs[i];
        if (j->n == 0) {
            if (j->is_wheel) {
                struct member_ctx mc = {sc, j};
                abigate_walk_wheel(j->path, judge_member, &mc);
            } else {
                abigate_walk_item it = {.size = sizeof it, .path = j->path};
                judge_into(sc, j, &it);
            }
        }
        __atomic_add_fetch(&sc->done, 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

/* ------------------------------------------------------------------ reporting */

static int refused(const struct result *r)
{
    return r->rc == ABIGATE_OK && (r->v.kind == ABIGATE_REFUSE || r->tag_kind == ABIGATE_REFUSE);
}

static void name_of(const struct job *j, const struct result *r, FILE *out)
{
    abigate_walk_item it = {.size = sizeof it, .path = j->path, .member = r->member};
    input_print_name(&it, out);
}

static void json_result(const struct job *j, const struct result *r)
{
    abigate_walk_item it = {.size = sizeof it, .path = j->path, .member = r->member};
    putchar('{');
    input_json_name(&it);
    fputs(", \"distribution\": ", stdout);
    json_string(j->dist);
    if (r->target) {
        fputs(", \"target\": ", stdout);
        json_string(r->target);
    }
    if (r->rc) {
        printf(", \"error\": {\"code\": \"%s\", \"message\": ", abigate_code_name(r->rc));
        json_string(r->error);
        puts("}}");
        return;
    }
    printf(", \"verdict\": \"%s\", \"reason\": \"%s\", \"warning\": %s, \"evidence\": \"%s\", "
           "\"message\": ",
           abigate_verdict_name(r->v.kind), abigate_reason_name(r->v.reason),
           r->v.warning ? "true" : "false", evidence_word(r->v.evidence));
    json_string(r->v.message);
    if (r->member) {
        printf(", \"tags\": {\"verdict\": \"%s\", \"reason\": \"%s\", \"message\": ",
               abigate_verdict_name(r->tag_reason ? r->tag_kind : ABIGATE_ACCEPT),
               abigate_reason_name(r->tag_reason));
        json_string(r->tag_message);
        putchar('}');
    }
    puts("}");
}

/* The jobs in distribution-name order, each distribution's in walk order. */
static int by_dist_then_walk(const void *a, const void *b)
{
    const struct job *x = *(const struct job *const *)a, *y = *(const struct job *const *)b;
    int c = x->dist == y->dist ? 0 : strcmp(x->dist, y->dist);
    return c ? c : (x > y) - (x < y);
}

/* Call fn for each result of the jobs jobs[0..n) (one distribution's). */
static void each_result(struct job *const *jobs, size_t n,
                        void (*fn)(const struct job *, const struct result *, void *), void *ctx)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < jobs[i]->n; k++)
            fn(jobs[i], &jobs[i]->results[k], ctx);
}

struct tally {
    size_t files, accept, adapt, refuse, errors;
};

static void count(const struct job *j, const struct result *r, void *ctx)
{
    struct tally *t = ctx;
    (void)j;
    t->files++;
    if (r->rc)
        t->errors++;
    else if (refused(r))
        t->refuse++;
    else if (r->v.kind == ABIGATE_ADAPT)
        t->adapt++;
    else
        t->accept++;
}

static void print_json(const struct job *j, const struct result *r, void *ctx)
{
    (void)ctx;
    json_result(j, r);
}

static void print_problem(const struct job *j, const struct result *r, void *ctx)
{
    (void)ctx;
    if (!r->rc && !refused(r))
        return;
    fputs("  ", stdout);
    name_of(j, r, stdout);
    if (r->target)
        printf(" [for %s]", r->target);
    if (r->rc)
        printf(": cannot be judged: %s\n", r->error);
    else if (r->v.kind == ABIGATE_REFUSE)
        printf(": %s [%s]\n", r->v.message, abigate_reason_name(r->v.reason));
    else
        printf(": %s [%s]\n", r->tag_message, abigate_reason_name(r->tag_reason));
}

static int report(struct scan *sc, int json, const abigate_profile *p)
{
    char target[64], v[24];
    snprintf(target, sizeof target, "%s%s", abigate_format_version(p->hexversion, v, sizeof v),
             p->flags & ABIGATE_PROFILE_FREETHREADED ? " free-threaded" : "");
    if (sc->tags)
        snprintf(target, sizeof target, "the interpreters its tags claim");
    struct job **order = scan_alloc(sc, NULL, sc->njobs, sizeof *order);
    const char **broken = scan_alloc(sc, NULL, sc->ndists, sizeof *broken);
    if (!order || !broken) {
        free(order);
        free(broken);
        return EXIT_USAGE; /* cmd_scan says "out of memory" */
    }
    for (size_t i = 0; i < sc->njobs; i++)
        order[i] = &sc->jobs[i];
    qsort(order, sc->njobs, sizeof *order, by_dist_then_walk);
    size_t nbroken = 0, ndists = 0;
    struct tally all = {0, 0, 0, 0, 0};
    for (size_t d = 0, end; d < sc->njobs; d = end) {
        const char *dist = order[d]->dist;
        for (end = d + 1; end < sc->njobs && order[end]->dist == dist; end++)
            ;
        struct tally t = {0, 0, 0, 0, 0};
        each_result(order + d, end - d, count, &t);
        if (t.files == 0)
            continue; /* a RECORD whose files were not among the inputs */
        ndists++;
        all.files += t.files, all.accept += t.accept, all.adapt += t.adapt;
        all.refuse += t.refuse, all.errors += t.errors;
        int works = !t.refuse && !t.errors;
        if (!works)
            broken[nbroken++] = dist;
        if (json) {
            each_result(order + d, end - d, print_json, NULL);
            fputs("{\"distribution\": ", stdout);
            json_string(dist);
            printf(", \"grouped_by\": \"%s\", \"target\": \"%s\", \"works\": %s, \"files\": %zu, "
                   "\"refused\": %zu, \"errors\": %zu}\n", order[d]->source ? order[d]->source : "file",
                   target, works ? "true" : "false", t.files, t.refuse, t.errors);
            continue;
        }
        printf("%s: %s on %s: ", dist, works ? "works" : "breaks", target);
        if (works)
            printf("%zu extension module%s\n", t.files, t.files == 1 ? "" : "s");
        else
            printf("%zu of %zu extension module%s refused%s\n", t.refuse + t.errors, t.files,
                   t.files == 1 ? "" : "s", t.errors ? " or unreadable" : "");
        each_result(order + d, end - d, print_problem, NULL);
    }
    if (json) {
        printf("{\"summary\": {\"target\": \"%s\", \"files\": %zu, \"distributions\": %zu, "
               "\"accept\": %zu, \"adapt\": %zu, \"refuse\": %zu, \"errors\": %zu, \"breaking\": [",
               target, all.files, ndists, all.accept, all.adapt, all.refuse, all.errors);
        for (size_t b = 0; b < nbroken; b++) {
            fputs(b ? ", " : "", stdout);
            json_string(broken[b]);
        }
        puts("]}}");
    } else {
        printf("scan: %zu extension module%s on %s: %zu accept, %zu adapt, %zu refuse, %zu "
               "unreadable; %zu distribution%s would break%s",
               all.files, all.files == 1 ? "" : "s", target, all.accept, all.adapt, all.refuse,
               all.errors, nbroken, nbroken == 1 ? "" : "s", nbroken ? ": " : "");
        for (size_t b = 0; b < nbroken; b++)
            printf("%s%s", b ? ", " : "", broken[b]);
        putchar('\n');
    }
    free(broken);
    free(order);
    return all.errors ? EXIT_USAGE : all.refuse ? EXIT_REFUSED : 0;
}

/* ------------------------------------------------------------------ the command */

int cmd_scan(int argc, char **argv, const char *default_python)
{
    struct options o;
    int rc = parse_options("scan", argc, argv, OPT_MODE | OPT_JOBS | OPT_TAGS, default_python, &o);
    if (rc)
        return rc;
    static struct scan sc; /* one per process (it holds the --tags gates) */
    memset(&sc, 0, sizeof sc);
    sc.tags = o.tags;
    sc.policy.mode = ABIGATE_MODE_STRICT;
    abigate_error err;
    if (o.mode && abigate_policy_parse(o.mode, &sc.policy, &err) != ABIGATE_OK) {
        fprintf(stderr, "abigate scan: --mode %s\n", err.message);
        return EXIT_USAGE;
    }
    if (o.nfiles == 0) {
        fprintf(stderr, "abigate scan: no PATH given\n%s", usage_text);
        return EXIT_USAGE;
    }
    struct options base = o;
    if (o.tags) /* for files its tags claim no interpreter for: their tags alone decide */
        base.target = "3.13";
    sc.gate = make_gate("scan", &base, &sc.policy, &rc);
    if (!sc.gate)
        return EXIT_USAGE;
    const abigate_profile *profile = abigate_gate_profile(sc.gate, &err);
    /* each PATH spelled one way, so that "site", "site/", "site//" and
     * "./site/." group alike */
    char **roots = scan_alloc(&sc, NULL, (size_t)o.nfiles, sizeof *roots);
    for (int i = 0; roots && i < o.nfiles; i++)
        if ((roots[i] = scan_strdup(&sc, o.files[i])))
            normalize_path(roots[i]);
    for (int i = 0; !sc.oom && i < o.nfiles; i++) {
        struct stat st;
        if (stat(roots[i], &st) == 0 && S_ISDIR(st.st_mode))
            read_records(&sc, roots[i]);
    }
    qsort(sc.owners, sc.nowners, sizeof *sc.owners, by_path);
    for (int i = 0; !sc.oom && i < o.nfiles; i++) {
        sc.root = roots[i];
        abigate_walk(roots[i], o.walk_flags | ABIGATE_WALK_WHEELS_UNOPENED, collect, &sc);
    }
    for (size_t i = 0; !sc.oom && i < sc.nunread; i++)
        scan_unread(&sc, sc.unread[i]);
    /* --tags: the interpreters each wheel's file name claims, their gates
     * made here, before the workers share them */
    for (size_t i = 0; sc.tags && !sc.oom && i < sc.njobs; i++) {
        struct job *j = &sc.jobs[i];
        abigate_wheel_tags *tags = j->is_wheel ? abigate_wheel_tags_new() : NULL;
        if (j->is_wheel && !tags) {
            sc.oom = 1;
            break;
        }
        if (!tags || abigate_wheel_tags_from_filename(j->path, tags, NULL) != ABIGATE_OK) {
            abigate_wheel_tags_free(tags);
            continue;
        }
        for (unsigned t = 0; t < abigate_wheel_tags_count(tags) && j->ngates < 8; t++) {
            char spec[64];
            if (abigate_wheel_tag_spec(tags, t, spec, sizeof spec) != ABIGATE_OK)
                continue;
            unsigned g = 0;
            while (g < sc.ngates && strcmp(sc.gates[g].spec, spec))
                g++;
            if (g == sc.ngates) {
                struct options one;
                memset(&one, 0, sizeof one);
                one.target = spec;
                abigate_gate *gate = sc.ngates < SCAN_TAG_GATES ? make_gate("scan", &one, &sc.policy, &rc)
                                                                : NULL;
                if (!gate) {
                    fprintf(stderr, "abigate scan: no interpreter for %s (more than %d claimed?)\n",
                            spec, SCAN_TAG_GATES);
                    continue;
                }
                snprintf(sc.gates[g].spec, sizeof sc.gates[g].spec, "%s", spec);
                sc.gates[g].gate = gate;
                sc.ngates++;
            }
            unsigned k = 0;
            while (k < j->ngates && j->gates[k] != g)
                k++;
            if (k == j->ngates)
                j->gates[j->ngates++] = g;
        }
        abigate_wheel_tags_free(tags);
    }
    /* N workers; this thread shows progress on a terminal meanwhile */
    int jobs = sc.oom ? 0 : o.jobs ? o.jobs : 1, started = 0;
    int tty = !sc.oom && isatty(STDERR_FILENO);
    pthread_t threads[256];
    for (; started < jobs; started++)
        if (pthread_create(&threads[started], NULL, worker, &sc))
            break;
    if (started == 0 && !sc.oom) /* nothing is judged when the walk could not see everything */
        worker(&sc);
    /* at least once, however fast the workers are, then every 100 ms */
    for (size_t done; tty; nanosleep(&(struct timespec){0, 100000000}, NULL)) {
        done = __atomic_load_n(&sc.done, __ATOMIC_ACQUIRE);
        fprintf(stderr, "\rscan: %zu/%zu files and wheels judged", done, sc.njobs);
        if (done >= sc.njobs)
            break;
    }
    for (int t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    if (tty)
        fprintf(stderr, "\r%60s\r", "");
    rc = sc.oom ? EXIT_USAGE : report(&sc, o.json, profile);
    if (sc.oom) {
        fflush(stdout);
        fprintf(stderr, "abigate scan: out of memory\n");
    }
    for (size_t i = 0; i < sc.njobs; i++) {
        for (size_t k = 0; k < sc.jobs[i].n; k++)
            free(sc.jobs[i].results[k].member);
        free(sc.jobs[i].results);
        free(sc.jobs[i].path);
    }
    for (size_t i = 0; i < sc.nowners; i++)
        free(sc.owners[i].path);
    for (size_t i = 0; i < sc.ndists; i++)
        free(sc.dists[i]);
    for (size_t i = 0; i < sc.nunread; i++)
        free(sc.unread[i]);
    for (size_t i = 0; i < sc.ndpkg; i++)
        free(sc.dpkg[i].path);
    for (size_t i = 0; i < sc.ntops; i++)
        free(sc.tops[i].name);
    free(sc.dpkg);
    free(sc.tops);
    for (int i = 0; roots && i < o.nfiles; i++)
        free(roots[i]);
    free(roots);
    free(sc.unread);
    free(sc.jobs);
    free(sc.owners);
    free(sc.dists);
    free(sc.dist_slots);
    abigate_gate_free(sc.gate);
    for (unsigned g = 0; g < sc.ngates; g++)
        abigate_gate_free(sc.gates[g].gate);
    if (fflush(stdout) != 0) {
        perror("abigate: writing output");
        return EXIT_USAGE;
    }
    return rc;
}
