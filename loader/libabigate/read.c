/* read.c -- the entry points of the readers: a path, a descriptor, a
 * buffer or a caller's reader; the first read (the head); then the format
 * its first bytes name: ELF (elf.c), PE (pe.c) or Mach-O (macho.c), each
 * reading on through the same bounded input (internal.h, struct
 * abigate__src; elf.c's abigate__src_read).
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Fill s->head from the start of the input: a small file whole (a legacy
 * read then makes no other read), else its first ABIGATE__HEAD_SIZE bytes. */
static int fill_head(struct abigate__src *s)
{
    s->head_len = 0; /* empty until filled: src_read must not serve from it yet */
    size_t head = s->size <= ABIGATE__SMALL_FILE ? (size_t)s->size : ABIGATE__HEAD_SIZE;
    int rc = head > 0 ? abigate__src_read(s, 0, s->head, head, ABIGATE_E_IO) : ABIGATE_OK;
    if (rc == ABIGATE_OK)
        s->head_len = head;
    return rc;
}

static int valid_args(const abigate_file_info *info, unsigned flags)
{
    return info && !(flags & ~(ABIGATE_READ_LEGACY | ABIGATE_READ_EXPORTS));
}

/* A PE or Mach-O file (pe.c, macho.c): the identity and the record, then,
 * as elf.c does, the legacy facts when asked and needed. */
static int parse_other(struct abigate__src *s, int pe, const char *name, unsigned flags,
                       abigate_file_info *info, abigate_symbols *syms,
                       const struct abigate__stage *stage)
{
    int (*parse)(struct abigate__src *, int, int, abigate_file_info *, abigate_symbols *) =
        pe ? abigate__parse_pe : abigate__parse_macho;
    abigate_file_info out;
    memset(&out, 0, sizeof out);
    if (name)
        abigate_tag_parse(name, &out.tag);
    int rc = parse(s, 0, (flags & ABIGATE_READ_EXPORTS) != 0, &out, NULL);
    if (rc)
        return rc;
    if (stage && (flags & ABIGATE_READ_LEGACY)) {
        if (!(syms = stage->need(&out, stage->ctx)))
            flags &= ~ABIGATE_READ_LEGACY; /* the record settles it: stop here */
    }
    if (flags & (ABIGATE_READ_LEGACY | ABIGATE_READ_EXPORTS)) {
        abigate__symbols_reset(syms);
        if ((rc = parse(s, 1, (flags & ABIGATE_READ_EXPORTS) != 0, &out, syms)))
            return rc;
        out.legacy_read = 1;
    }
    uint64_t size;
    if ((rc = abigate__src_size(s, &size)))
        return rc;
    out.file_size = size;
    *info = out;
    return ABIGATE_OK;
}

/* The format the head names, read on. */
static int parse_input(struct abigate__src *s, const char *name, unsigned flags,
                       abigate_file_info *info, abigate_symbols *syms,
                       const struct abigate__stage *stage)
{
    if (s->head_len >= 2 && (abigate__is_pe(s->head, s->head_len) ||
                             abigate__is_macho(s->head, s->head_len))) {
        int rc = parse_other(s, abigate__is_pe(s->head, s->head_len), name, flags, info, syms,
                             stage);
        free(s->tail);
        s->tail = NULL;
        return rc;
    }
    return abigate__parse_elf(s, name, flags, info, syms, stage);
}

static long read_mem_cb(void *ctx, void *buf, size_t len, uint64_t offset);

int abigate__read_io(const abigate_io *io, const char *name, unsigned flags,
                                abigate_file_info *info, abigate_symbols *syms,
                                abigate_error *err)
{
    struct abigate__src s;
    s.tail = NULL;
    s.size_known = 1;
    s.stat_fd = -1;
    if (!io || !io->read || !valid_args(info, flags))
        return abigate__fail(err, ABIGATE_E_INVALID_ARG, -1, NULL);
    abigate__ok(err);
    s.io = io;
    s.in_memory = io->read == read_mem_cb;
    s.size = io->size;
    s.err = err;
    int rc = fill_head(&s);
    return rc ? rc : parse_input(&s, name, flags, info, syms, NULL);
}

static long read_fd_cb(void *ctx, void *buf, size_t len, uint64_t offset)
{
    int fd = *(int *)ctx;
    for (;;) {
        ssize_t r = pread(fd, buf, len, (off_t)offset);
        if (r >= 0 || errno != EINTR)
            return (long)r;
    }
}

struct membuf {
    const unsigned char *p;
    size_t len;
};

static long read_mem_cb(void *ctx, void *buf, size_t len, uint64_t offset)
{
    const struct membuf *m = ctx;
    if (offset >= m->len)
        return 0;
    size_t n = m->len - (size_t)offset < len ? m->len - (size_t)offset : len;
    memcpy(buf, m->p + offset, n);
    return (long)n;
}

static int read_fd(int fd, const char *name, unsigned flags, abigate_file_info *info,
                   abigate_symbols *syms, const struct abigate__stage *stage, abigate_error *err)
{
    struct abigate__src s;
    s.tail = NULL;
    s.size_known = 1;
    s.stat_fd = -1;
    s.in_memory = 0;
    struct stat st;
    if (fd < 0)
        return abigate__fail(err, ABIGATE_E_INVALID_ARG, -1, "invalid file descriptor %d", fd);
    if (!valid_args(info, flags))
        return abigate__fail(err, ABIGATE_E_INVALID_ARG, -1, NULL);
    abigate__ok(err);
    abigate_io io = {read_fd_cb, &fd, 0}; /* the size lives in s.size */
    s.io = &io;
    s.err = err;
    /* The first read asks for ABIGATE__SMALL_FILE bytes before the size is known.  A
     * short count ends a regular file, so a small file costs no fstat.  A
     * larger one is parsed without its size: it is asked (fstat) when a
     * range past the head is checked, or at the end, unless the read of
     * the section headers reached the end of the file (read_tail).  fstat
     * is asked when the read fails, and before a failed parse is reported,
     * so that a directory, FIFO or device gets its own error rather than
     * "not ELF"; the parse is then done again with the size known. */
    long n = read_fd_cb(&fd, s.head, ABIGATE__SMALL_FILE, 0);
    int read_errno = errno, rc = ABIGATE_OK;
    if (n >= 0 && (size_t)n < ABIGATE__SMALL_FILE) {
        s.size = (uint64_t)n;
        s.head_len = (size_t)n;
        if ((rc = parse_input(&s, name, flags, info, syms, stage)) == ABIGATE_OK)
            return rc;
    } else if (n == (long)ABIGATE__SMALL_FILE) {
        s.size = UINT64_MAX;
        s.size_known = 0;
        s.stat_fd = fd;
        s.head_len = ABIGATE__SMALL_FILE;
        if ((rc = parse_input(&s, name, flags, info, syms, stage)) == ABIGATE_OK)
            return rc;
        s.size_known = 1;
    }
    if (fstat(fd, &st) != 0)
        return abigate__fail(err, ABIGATE_E_IO, -1, "fstat failed: %s", strerror(errno));
    if (S_ISDIR(st.st_mode))
        return abigate__fail(err, ABIGATE_E_IS_DIRECTORY, -1, NULL);
    if (!S_ISREG(st.st_mode))
        return abigate__fail(err, ABIGATE_E_NOT_REGULAR, -1,
                             "not a regular file (a FIFO, socket or device)");
    if (n < 0)
        return abigate__fail(err, ABIGATE_E_IO, 0, "read error at offset 0: %s",
                             strerror(read_errno));
    if (rc && (uint64_t)st.st_size == (uint64_t)n)
        return rc; /* the short read was the whole file: its error stands */
    abigate__ok(err);
    s.size = (uint64_t)st.st_size;
    if (rc || s.size < (uint64_t)n) {
        /* The file changed size since the first read: read it again. */
        if ((rc = fill_head(&s)))
            return rc;
    } else {
        s.head_len = ABIGATE__SMALL_FILE; /* a larger file: its first ABIGATE__SMALL_FILE bytes */
    }
    return parse_input(&s, name, flags, info, syms, stage);
}

int abigate__read_fd(int fd, const char *name, unsigned flags, abigate_file_info *info,
                                abigate_symbols *syms, abigate_error *err)
{
    return read_fd(fd, name, flags, info, syms, NULL, err);
}

int abigate__read_fd_staged(int fd, const char *name, const struct abigate__stage *stage,
                            abigate_file_info *info, abigate_error *err)
{
    return read_fd(fd, name, ABIGATE_READ_LEGACY, info, NULL, stage, err);
}

int abigate__read_path(const char *path, unsigned flags, abigate_file_info *info,
                                  abigate_symbols *syms, abigate_error *err)
{
    if (!path)
        return abigate__fail(err, ABIGATE_E_INVALID_ARG, -1, NULL);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        int saved = errno;
        if (saved == EISDIR)
            return abigate__fail(err, ABIGATE_E_IS_DIRECTORY, -1, NULL);
        return abigate__fail(err, ABIGATE_E_OPEN, -1, "cannot open: %s", strerror(saved));
    }
    int rc = abigate_read_fd(fd, path, flags, info, syms, err);
    close(fd);
    return rc;
}

int abigate__read_buffer(const void *buf, size_t len, const char *name,
                                    unsigned flags, abigate_file_info *info,
                                    abigate_symbols *syms, abigate_error *err)
{
    if (!buf && len)
        return abigate__fail(err, ABIGATE_E_INVALID_ARG, -1, NULL);
    struct membuf m = {buf, len};
    abigate_io io = {read_mem_cb, &m, len};
    return abigate_read_io(&io, name, flags, info, syms, err);
}

