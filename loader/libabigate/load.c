/* load.c -- the same-file load: dlopen() the descriptor the gate judged,
 * with the dependencies a plain dlopen() of its path would load.
 *
 * The gate loads the descriptor it judged, through a /proc/self/fd name,
 * so that a file renamed into place between judging and loading never
 * runs.  But the dynamic loader takes $ORIGIN from the name it is given
 * (the string without its last component), so under that name
 * "$ORIGIN/../pkg.libs" means "/proc/self/pkg.libs": the vendored
 * libraries of every auditwheel-repaired wheel are not found.
 *
 * The search stand-in.  When the file's DT_NEEDED, DT_RPATH or DT_RUNPATH
 * mention $ORIGIN, a shared object is made in memory (a memfd) that holds
 * only the file's DT_NEEDED names, DT_RPATH, DT_RUNPATH and DT_FLAGS_1,
 * with $ORIGIN written out as the directory a plain dlopen(path) takes it
 * from: no code, no symbols, no relocations.  It is dlopen()ed first, with
 * the caller's flags, so the dynamic loader itself finds and loads the
 * dependencies by its own rules: DT_RPATH and its inheritance by the
 * libraries it loads, LD_LIBRARY_PATH, DT_RUNPATH, $LIB and $PLATFORM, the
 * hwcaps subdirectories, the cache, the objects already loaded.  The
 * judged descriptor is dlopen()ed next: each of its DT_NEEDED names now
 * matches an object loaded under that very name, so nothing is searched
 * again.  The stand-in is then closed; the dependencies stay, held by the
 * file, and go with it.  docs/PATCHED.md, "The same-file load", has what
 * this reproduces and what it cannot.
 *
 * Files that do not mention $ORIGIN are loaded as they always were: one
 * dlopen() of the descriptor's name (nothing else differs between the
 * name and the path for the dynamic loader).
 */
#include "internal.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* dlerror()'s text with `from` replaced by `to`, into err. */
static void load_error(abigate_error *err, const char *text, const char *from, const char *to)
{
    if (!err)
        return;
    char out[ABIGATE_ERROR_MESSAGE_MAX];
    size_t n = 0, flen = strlen(from), tlen = strlen(to);
    const char *s = text ? text : "unknown dlopen error";
    while (*s && n + 1 < sizeof out) {
        if (flen && !strncmp(s, from, flen) && n + tlen + 1 < sizeof out) {
            memcpy(out + n, to, tlen);
            n += tlen;
            s += flen;
        } else {
            out[n++] = *s++;
        }
    }
    out[n] = '\0';
    abigate__fail(err, ABIGATE_E_DLOPEN, -1, "%s", out);
}

void *abigate__dlopen_path(const char *path, int dlflags, abigate_error *err)
{
    void *handle = dlopen(path, dlflags);
    if (!handle)
        load_error(err, dlerror(), "", path);
    else
        abigate__ok(err);
    return handle;
}

/* 1 when /proc/self/fd cannot serve names (procfs not mounted). */
static int proc_missing(void)
{
    struct stat st;
    return stat("/proc/self/fd", &st) != 0;
}

/* The directory glibc takes $ORIGIN from for dlopen(path): the path as
 * given, prefixed with the working directory and a slash when relative,
 * without its last component ("/" for a file in the root); no "." or
 * ".." is resolved (the kernel does that when the expanded names are
 * opened).  0, or -1 when it does not fit. */
static int origin_of(const char *path, char *buf, size_t size)
{
    size_t n = 0, len = strlen(path);
    if (path[0] != '/') {
        if (!getcwd(buf, size))
            return -1;
        n = strlen(buf);
        if (n == 0 || buf[n - 1] != '/')
            buf[n++] = '/';
    }
    if (n + len + 1 > size)
        return -1;
    memcpy(buf + n, path, len + 1);
    char *cut = strrchr(buf, '/');
    if (cut == buf)
        cut++;
    *cut = '\0';
    return 0;
}

/* Append `str` to pool[*used..size) with every ORIGIN token (as the
 * dynamic loader reads them: "$ORIGIN" not followed by a name character,
 * "${ORIGIN}") replaced by `origin`; its offset in *at.  0, or -1 when it
 * does not fit. */
static int put_expanded(char *pool, size_t size, size_t *used, const char *str,
                        const char *origin, uint32_t *at)
{
    size_t n = *used, olen = strlen(origin), left = strlen(str);
    *at = (uint32_t)n;
    while (*str) {
        size_t skip = *str == '$' ? abigate__origin_token(str, left) : 0;
        left -= skip ? skip : 1;
        if (skip) {
            if (size - n <= olen)
                return -1;
            memcpy(pool + n, origin, olen);
            n += olen;
            str += skip;
        } else {
            if (size - n <= 1)
                return -1;
            pool[n++] = *str++;
        }
    }
    if (n >= size)
        return -1;
    pool[n++] = '\0';
    *used = n;
    return 0;
}

/* The stand-in's layout, in the process's own ELF class and byte order:
 * the ELF header, three program headers (PT_LOAD of the whole image,
 * PT_DYNAMIC, PT_GNU_STACK so that the stack stays non-executable), the
 * dynamic entries, one null symbol, the string table.  One PT_LOAD at
 * address 0 maps it all, so addresses are offsets. */
#define STANDIN_PHNUM 3
#define STANDIN_FIXED_DYN 5 /* STRTAB, STRSZ, SYMTAB, SYMENT, NULL */

static unsigned char *build_standin(const struct abigate__search *s, const char *origin,
                                    size_t *len, abigate_error *err)
{
    const struct abigate__search_names *nm = s->names;
    size_t pool_cap = nm->pool_used * 2 + 64;
    size_t olen = strlen(origin);
    /* every ORIGIN token (>= 7 bytes) may become the origin */
    pool_cap += (nm->pool_used / 7 + 1) * olen;
    char *pool = malloc(pool_cap);
    uint32_t needed[ABIGATE__SEARCH_NEEDED], rpath = 0, runpath = 0;
    size_t used = 1;
    if (!pool) {
        abigate__fail(err, ABIGATE_E_NOMEM, -1, NULL);
        return NULL;
    }
    pool[0] = '\0';
    for (unsigned i = 0; i < nm->n_needed; i++)
        if (put_expanded(pool, pool_cap, &used, nm->pool + nm->needed[i], origin, &needed[i]))
            goto too_long;
    if ((s->has_rpath && put_expanded(pool, pool_cap, &used, nm->pool + nm->rpath, origin, &rpath)) ||
        (s->has_runpath &&
         put_expanded(pool, pool_cap, &used, nm->pool + nm->runpath, origin, &runpath)))
        goto too_long;

    size_t ndyn = nm->n_needed + (size_t)s->has_rpath + (size_t)s->has_runpath +
                  (s->flags_1 != 0) + STANDIN_FIXED_DYN;
    size_t phoff = sizeof(ElfW(Ehdr));
    size_t dynoff = (phoff + STANDIN_PHNUM * sizeof(ElfW(Phdr)) + 15) & ~(size_t)15;
    size_t symoff = dynoff + ndyn * sizeof(ElfW(Dyn));
    size_t stroff = symoff + sizeof(ElfW(Sym));
    size_t total = stroff + used;
    unsigned char *img = calloc(1, total);
    if (!img) {
        free(pool);
        abigate__fail(err, ABIGATE_E_NOMEM, -1, NULL);
        return NULL;
    }
    ElfW(Ehdr) *eh = (ElfW(Ehdr) *)img;
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    eh->e_ident[EI_DATA] = ELFDATA2MSB;
#else
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
#endif
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_ident[EI_OSABI] = s->osabi;
    eh->e_ident[EI_ABIVERSION] = s->abiversion;
    eh->e_type = ET_DYN;
    eh->e_machine = (uint16_t)s->machine;
    eh->e_version = EV_CURRENT;
    eh->e_phoff = phoff;
    eh->e_flags = s->e_flags;
    eh->e_ehsize = sizeof(ElfW(Ehdr));
    eh->e_phentsize = sizeof(ElfW(Phdr));
    eh->e_phnum = STANDIN_PHNUM;

    ElfW(Phdr) *ph = (ElfW(Phdr) *)(img + phoff);
    long page = sysconf(_SC_PAGESIZE);
    ph[0].p_type = PT_LOAD;
    ph[0].p_flags = PF_R | PF_W; /* the dynamic loader adjusts the entries in place */
    ph[0].p_filesz = ph[0].p_memsz = total;
    ph[0].p_align = page > 0 ? (size_t)page : 4096;
    ph[1].p_type = PT_DYNAMIC;
    ph[1].p_flags = PF_R | PF_W;
    ph[1].p_offset = ph[1].p_vaddr = ph[1].p_paddr = dynoff;
    ph[1].p_filesz = ph[1].p_memsz = ndyn * sizeof(ElfW(Dyn));
    ph[1].p_align = sizeof(void *);
    ph[2].p_type = PT_GNU_STACK;
    ph[2].p_flags = PF_R | PF_W;
    ph[2].p_align = 16;

    ElfW(Dyn) *d = (ElfW(Dyn) *)(img + dynoff);
    for (unsigned i = 0; i < nm->n_needed; i++, d++)
        d->d_tag = DT_NEEDED, d->d_un.d_val = needed[i];
    if (s->has_rpath)
        d->d_tag = DT_RPATH, d->d_un.d_val = rpath, d++;
    if (s->has_runpath)
        d->d_tag = DT_RUNPATH, d->d_un.d_val = runpath, d++;
    if (s->flags_1)
        d->d_tag = DT_FLAGS_1, d->d_un.d_val = (ElfW(Xword))s->flags_1, d++;
    d->d_tag = DT_STRTAB, d->d_un.d_ptr = stroff, d++;
    d->d_tag = DT_STRSZ, d->d_un.d_val = used, d++;
    d->d_tag = DT_SYMTAB, d->d_un.d_ptr = symoff, d++;
    d->d_tag = DT_SYMENT, d->d_un.d_val = sizeof(ElfW(Sym)), d++;
    d->d_tag = DT_NULL;
    memcpy(img + stroff, pool, used);
    free(pool);
    *len = total;
    return img;

too_long:
    free(pool);
    abigate__fail(err, ABIGATE_E_DLOPEN, -1,
                  "cannot reproduce the dynamic loader's search for this file's libraries: "
                  "its names with $ORIGIN written out do not fit");
    return NULL;
}

/* Load the stand-in for `s`, $ORIGIN being `origin`: its handle, or NULL
 * with err (the dynamic loader's own words, naming the library it could
 * not find, as a plain dlopen(path) reports it). */
static void *load_standin(const struct abigate__search *s, const char *origin, const char *path,
                          int dlflags, void (*fd_name)(void *, char *, size_t, int), void *ctx,
                          int *no_proc, abigate_error *err)
{
    size_t len;
    unsigned char *img = build_standin(s, origin, &len, err);
    if (!img)
        return NULL;
    void *h = NULL;
    int mfd = memfd_create("abigate-search", MFD_CLOEXEC);
    if (mfd < 0) {
        abigate__fail(err, ABIGATE_E_DLOPEN, -1,
                      "cannot reproduce the dynamic loader's search for this file's libraries: "
                      "memfd_create: %s", strerror(errno));
        free(img);
        return NULL;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(mfd, img + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            abigate__fail(err, ABIGATE_E_DLOPEN, -1,
                          "cannot reproduce the dynamic loader's search for this file's "
                          "libraries: writing the stand-in: %s", w < 0 ? strerror(errno) : "short write");
            goto out;
        }
        done += (size_t)w;
    }
    char name[96];
    fd_name(ctx, name, sizeof name, mfd);
    if (!(h = dlopen(name, dlflags & ~RTLD_NODELETE))) {
        const char *text = dlerror();
        if (proc_missing())
            *no_proc = 1;
        load_error(err, text, name, path);
    }
out:
    close(mfd);
    free(img);
    return h;
}

void *abigate__load_judged(int fd, const char *path, int dlflags,
                           const struct abigate__search *search,
                           void (*fd_name)(void *ctx, char *buf, size_t size, int fd),
                           void *fd_name_ctx, int *no_proc, abigate_error *err)
{
    char name[96];
    char origin[4096];
    void *standin = NULL;
    *no_proc = 0;
    /* The stand-in when the file's search depends on $ORIGIN and the
     * dynamic loader would expand it (not in a setuid process, whose
     * $ORIGIN glibc restricts; not for RTLD_NOLOAD, which loads nothing),
     * in this process's ELF class, byte order and machine (otherwise the
     * load below fails with the dynamic loader's own words). */
    if (search && search->has_origin && !(dlflags & RTLD_NOLOAD) && !getauxval(AT_SECURE) &&
        search->elf_class == (sizeof(void *) == 8 ? 64 : 32) &&
        search->big_endian == (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__) &&
        search->machine == abigate__host_machine()) {
        if (search->state != 1 || !search->names) {
            abigate__fail(err, ABIGATE_E_DLOPEN, -1,
                          "cannot reproduce the dynamic loader's search for this file's "
                          "libraries: its dynamic section lists more than %u libraries or "
                          "%u bytes of names, or they could not be read or kept",
                          ABIGATE__SEARCH_NEEDED, ABIGATE__SEARCH_POOL);
            return NULL;
        }
        if (search->needed_origin) {
            abigate__fail(err, ABIGATE_E_DLOPEN, -1,
                          "cannot load it from the descriptor that was judged: a DT_NEEDED "
                          "name uses $ORIGIN, which the dynamic loader would take from the "
                          "descriptor's name");
            return NULL;
        }
        if (origin_of(path, origin, sizeof origin)) {
            abigate__fail(err, ABIGATE_E_DLOPEN, -1, "the path is too long to take $ORIGIN from");
            return NULL;
        }
        if (strchr(origin, ':')) {
            abigate__fail(err, ABIGATE_E_DLOPEN, -1,
                          "cannot reproduce the dynamic loader's search for this file's "
                          "libraries: $ORIGIN (%s) contains ':', the search path separator",
                          origin);
            return NULL;
        }
        if (!(standin = load_standin(search, origin, path, dlflags, fd_name, fd_name_ctx,
                                     no_proc, err)))
            return NULL;
    }
    fd_name(fd_name_ctx, name, sizeof name, fd);
    void *handle = dlopen(name, dlflags);
    if (!handle) {
        const char *text = dlerror();
        if (proc_missing())
            *no_proc = 1;
        load_error(err, text, name, path);
    } else {
        abigate__ok(err);
    }
    if (standin)
        dlclose(standin);
    return handle;
}
