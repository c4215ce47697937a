/* zip.c -- zip archives (wheels), read in place: the end records, the
 * central directory and every local header are checked before any member
 * is read, and members are read through the ELF reader's own callback
 * interface (abigate_read_io), STORED ones by pread, DEFLATE ones inflated
 * by zlib on demand, only as far as the reader asks.
 *
 * Everything comes from bounded preads of the archive's descriptor; every
 * count, offset and length is checked against the file and the caps of
 * abigate.h before it is used; memory per archive is the central directory
 * (capped) and per member read a fixed 120 KiB or so, whatever the
 * member's size or compression ratio.  Layout: PKWARE APPNOTE 6.3.x,
 * sections 4.3 (structure) and 4.5.3 (ZIP64 extra field).
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define EOCD_SIZE 22u
#define EOCD_SCAN (65535u + EOCD_SIZE) /* the comment is at most 65535 bytes */
#define LOCATOR_SIZE 20u
#define EOCD64_SIZE 56u
#define CDH_SIZE 46u
#define LFH_SIZE 30u
#define SIG_EOCD 0x06054b50u
#define SIG_LOCATOR 0x07064b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_CDH 0x02014b50u
#define SIG_LFH 0x04034b50u
#define FLAG_ENCRYPTED 0x0001u
#define FLAG_DESCRIPTOR 0x0008u
#define FLAG_STRONG_ENCRYPTION 0x0040u
#define METHOD_STORED 0u
#define METHOD_DEFLATE 8u
#define RING_SIZE 65536u  /* inflated bytes kept behind the current position */
#define IN_SIZE 16384u    /* compressed bytes read at a time */
#define MAX_RESTARTS 16u  /* inflations from the start, per member read */

struct entry {
    uint32_t name;        /* offset in the name pool */
    uint16_t name_len;
    uint16_t method, flags;
    uint32_t crc;
    uint64_t csize, usize;
    uint64_t local;       /* offset of the local header */
    uint64_t data;        /* offset of the data (from the local header) */
};

struct abigate_zip {
    int fd, owns_fd;
    uint64_t size;
    size_t count;
    struct entry *e;
    char *names;          /* NUL-terminated names, back to back */
    uint64_t budget;      /* inflated bytes all reads of this archive may produce */
    uint64_t spent;       /* and have produced (atomic: reads run on several threads) */
};

/* ------------------------------------------------------------------ input */

static int zread(const abigate_zip *z, uint64_t off, void *buf, size_t len, int bounds_code,
                 abigate_error *err)
{
    if (abigate__out_of_bounds(off, len, z->size))
        return abigate__fail(err, bounds_code, (int64_t)off, "%s: %zu bytes at offset %llu, "
                             "archive has %llu", abigate_strerror(bounds_code), len,
                             (unsigned long long)off, (unsigned long long)z->size);
    unsigned char *p = buf;
    while (len > 0) {
        ssize_t r = pread(z->fd, p, len, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return abigate__fail(err, ABIGATE_E_IO, (int64_t)off, "%s at offset %llu",
                                 r < 0 ? "read error" : "archive ended (it shrank while being read?)",
                                 (unsigned long long)off);
        p += r;
        off += (uint64_t)r;
        len -= (size_t)r;
    }
    return ABIGATE_OK;
}

/* ------------------------------------------------------------------ end records */

struct end {
    uint64_t entries, cd_size, cd_off;
    uint64_t records_at;  /* where the end records start (ZIP64 record, or EOCD) */
};

/* The ZIP64 locator just before the EOCD at `eocd`, and the record it
 * points to, which must end exactly where the locator starts. */
static int read_zip64(abigate_zip *z, uint64_t eocd, const unsigned char *e32, struct end *out,
                      abigate_error *err)
{
    unsigned char loc[LOCATOR_SIZE], r[EOCD64_SIZE];
    int rc;
    if (eocd < LOCATOR_SIZE + EOCD64_SIZE)
        return abigate__fail(err, ABIGATE_E_ZIP_ZIP64, (int64_t)eocd,
                             "the end record asks for ZIP64, but there is no room for its locator");
    if ((rc = zread(z, eocd - LOCATOR_SIZE, loc, sizeof loc, ABIGATE_E_ZIP_ZIP64, err)))
        return rc;
    if (abigate__get32(loc, 0) != SIG_LOCATOR)
        return abigate__fail(err, ABIGATE_E_ZIP_ZIP64, (int64_t)(eocd - LOCATOR_SIZE),
                             "the end record asks for ZIP64, but no ZIP64 locator precedes it");
    uint64_t at = abigate__get64(loc + 8, 0);
    if (abigate__get32(loc + 4, 0) != 0 || abigate__get32(loc + 16, 0) > 1)
        return abigate__fail(err, ABIGATE_E_ZIP_MULTIDISK, (int64_t)(eocd - LOCATOR_SIZE),
                             "the ZIP64 locator names another disk");
    if (abigate__out_of_bounds(at, EOCD64_SIZE, eocd - LOCATOR_SIZE))
        return abigate__fail(err, ABIGATE_E_ZIP_ZIP64, (int64_t)(eocd - LOCATOR_SIZE),
                             "the ZIP64 locator points to offset %llu, outside the archive",
                             (unsigned long long)at);
    if ((rc = zread(z, at, r, sizeof r, ABIGATE_E_ZIP_ZIP64, err)))
        return rc;
    uint64_t rsize = abigate__get64(r + 4, 0);
    if (abigate__get32(r, 0) != SIG_EOCD64 || rsize < EOCD64_SIZE - 12 ||
        (eocd - LOCATOR_SIZE) - at - 12 != rsize)
        return abigate__fail(err, ABIGATE_E_ZIP_ZIP64, (int64_t)at,
                             "no ZIP64 end record where the locator points, or it does not end "
                             "where the locator starts");
    if (abigate__get32(r + 16, 0) != 0 || abigate__get32(r + 20, 0) != 0)
        return abigate__fail(err, ABIGATE_E_ZIP_MULTIDISK, (int64_t)at, "the archive spans disks");
    uint64_t on_disk = abigate__get64(r + 24, 0), total = abigate__get64(r + 32, 0);
    out->entries = total;
    out->cd_size = abigate__get64(r + 40, 0);
    out->cd_off = abigate__get64(r + 48, 0);
    out->records_at = at;
    /* cross-check: a field the 32-bit record does not saturate must agree */
    uint16_t n16 = abigate__get16(e32 + 10, 0);
    uint32_t sz32 = abigate__get32(e32 + 12, 0), off32 = abigate__get32(e32 + 16, 0);
    if (on_disk != total || (n16 != 0xffffu && n16 != total) ||
        (sz32 != 0xffffffffu && sz32 != out->cd_size) ||
        (off32 != 0xffffffffu && off32 != out->cd_off))
        return abigate__fail(err, ABIGATE_E_ZIP_ZIP64, (int64_t)at,
                             "the ZIP64 end record and the end record disagree");
    return ABIGATE_OK;
}

static int read_end(abigate_zip *z, struct end *out, abigate_error *err)
{
    if (z->size < EOCD_SIZE)
        return abigate__fail(err, ABIGATE_E_ZIP_NO_END, 0,
                             "%llu bytes: too short for a zip end record",
                             (unsigned long long)z->size);
    size_t n = z->size < EOCD_SCAN ? (size_t)z->size : EOCD_SCAN;
    uint64_t base = z->size - n;
    unsigned char *tail = malloc(n);
    if (!tail)
        return abigate__fail(err, ABIGATE_E_NOMEM, -1, NULL);
    int rc = zread(z, base, tail, n, ABIGATE_E_IO, err);
    if (rc) {
        free(tail);
        return rc;
    }
    /* An end record is one whose comment ends exactly at the end of the
     * file; a signature inside a comment or member data is not one.  There
     * must be exactly one. */
    size_t found = 0, at = 0;
    for (size_t i = n - EOCD_SIZE + 1; i-- > 0;) {
        if (abigate__get32(tail + i, 0) == SIG_EOCD &&
            i + EOCD_SIZE + abigate__get16(tail + i + 20, 0) == n) {
            if (found++ == 0)
                at = i;
        }
    }
    if (found != 1) {
        free(tail);
        return found == 0
                   ? abigate__fail(err, ABIGATE_E_ZIP_NO_END, -1, "%s",
                                   abigate_strerror(ABIGATE_E_ZIP_NO_END))
                   : abigate__fail(err, ABIGATE_E_ZIP_END_AMBIGUOUS, (int64_t)(base + at),
                                   "%zu end-of-central-directory records end the archive", found);
    }
    unsigned char e[EOCD_SIZE];
    memcpy(e, tail + at, EOCD_SIZE);
    free(tail);
    uint64_t eocd = base + at;
    uint16_t disk = abigate__get16(e + 4, 0), cd_disk = abigate__get16(e + 6, 0);
    uint16_t on_disk = abigate__get16(e + 8, 0), total = abigate__get16(e + 10, 0);
    uint32_t cd_size = abigate__get32(e + 12, 0), cd_off = abigate__get32(e + 16, 0);
    int wants64 = disk == 0xffffu || cd_disk == 0xffffu || on_disk == 0xffffu ||
                  total == 0xffffu || cd_size == 0xffffffffu || cd_off == 0xffffffffu;
    unsigned char loc[4];
    int has_locator = eocd >= LOCATOR_SIZE &&
                      zread(z, eocd - LOCATOR_SIZE, loc, 4, ABIGATE_E_IO, NULL) == ABIGATE_OK &&
                      abigate__get32(loc, 0) == SIG_LOCATOR;
    if (wants64 || has_locator)
        return read_zip64(z, eocd, e, out, err);
    if (disk != 0 || cd_disk != 0 || on_disk != total)
        return abigate__fail(err, ABIGATE_E_ZIP_MULTIDISK, (int64_t)eocd, "the archive spans disks");
    out->entries = total;
    out->cd_size = cd_size;
    out->cd_off = cd_off;
    out->records_at = eocd;
    return ABIGATE_OK;
}

/* ------------------------------------------------------------------ central directory */

/* Names a wheel installer could be led astray by (directory traversal,
 * Windows separators, absolute paths, embedded NULs) are refused. */
static int bad_name(const char *s, size_t n)
{
    if (n == 0 || s[0] == '/' || memchr(s, '\\', n) || memchr(s, '\0', n))
        return 1;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && s[j] != '/')
            j++;
        if (j - i == 2 && s[i] == '.' && s[i + 1] == '.')
            return 1;
        i = j + 1;
    }
    return 0;
}

/* The ZIP64 extra field (id 1) of a central header: the saturated fields,
 * in the order usize, csize, local offset. */
static int zip64_extra(const unsigned char *x, size_t xlen, struct entry *en, int need_u,
                       int need_c, int need_off)
{
    size_t i = 0;
    while (xlen - i >= 4) {
        uint16_t id = abigate__get16(x + i, 0), len = abigate__get16(x + i + 2, 0);
        if (xlen - i - 4 < len)
            return -1;
        if (id == 1) {
            const unsigned char *p = x + i + 4;
            size_t need = 8u * (size_t)(need_u + need_c + need_off);
            if (len < need)
                return -1;
            if (need_u)
                en->usize = abigate__get64(p, 0), p += 8;
            if (need_c)
                en->csize = abigate__get64(p, 0), p += 8;
            if (need_off)
                en->local = abigate__get64(p, 0);
            return 0;
        }
        i += 4u + len;
    }
    return need_u || need_c || need_off ? -1 : 0;
}

static int walk_central(abigate_zip *z, const struct end *end, abigate_error *err)
{
    if (end->entries > ABIGATE_ZIP_MAX_ENTRIES || end->cd_size > ABIGATE_ZIP_MAX_CENTRAL)
        return abigate__fail(err, ABIGATE_E_ZIP_TOO_BIG, (int64_t)end->cd_off,
                             "%llu entries in a central directory of %llu bytes (caps: %u, %u)",
                             (unsigned long long)end->entries, (unsigned long long)end->cd_size,
                             ABIGATE_ZIP_MAX_ENTRIES, ABIGATE_ZIP_MAX_CENTRAL);
    if (end->cd_off > end->records_at || end->records_at - end->cd_off != end->cd_size)
        return abigate__fail(err, ABIGATE_E_ZIP_CENTRAL, (int64_t)end->cd_off,
                             "the central directory (%llu bytes at offset %llu) does not end "
                             "where the end records start (offset %llu)",
                             (unsigned long long)end->cd_size, (unsigned long long)end->cd_off,
                             (unsigned long long)end->records_at);
    size_t cd_size = (size_t)end->cd_size;
    unsigned char *cd = malloc(cd_size ? cd_size : 1);
    z->e = calloc(end->entries ? (size_t)end->entries : 1, sizeof *z->e);
    z->names = malloc(cd_size + 1); /* names are shorter than the directory holding them */
    if (!cd || !z->e || !z->names) {
        free(cd);
        return abigate__fail(err, ABIGATE_E_NOMEM, -1, NULL);
    }
    int rc = zread(z, end->cd_off, cd, cd_size, ABIGATE_E_ZIP_CENTRAL, err);
    size_t pos = 0, pool = 0;
    for (uint64_t k = 0; rc == ABIGATE_OK && k < end->entries; k++) {
        int64_t at = (int64_t)(end->cd_off + pos);
        if (cd_size - pos < CDH_SIZE || abigate__get32(cd + pos, 0) != SIG_CDH) {
            rc = abigate__fail(err, ABIGATE_E_ZIP_CENTRAL, at,
                               "central directory entry %llu of %llu is missing or truncated",
                               (unsigned long long)k + 1, (unsigned long long)end->entries);
            break;
        }
        const unsigned char *h = cd + pos;
        size_t nlen = abigate__get16(h + 28, 0), xlen = abigate__get16(h + 30, 0),
               clen = abigate__get16(h + 32, 0);
        if (cd_size - pos - CDH_SIZE < nlen + xlen + clen) {
            rc = abigate__fail(err, ABIGATE_E_ZIP_CENTRAL, at,
                               "central directory entry %llu runs past the directory",
                               (unsigned long long)k + 1);
            break;
        }
        const char *name = (const char *)h + CDH_SIZE;
        struct entry *en = &z->e[k];
        en->flags = abigate__get16(h + 8, 0);
        en->method = abigate__get16(h + 10, 0);
        en->crc = abigate__get32(h + 16, 0);
        en->csize = abigate__get32(h + 20, 0);
        en->usize = abigate__get32(h + 24, 0);
        en->local = abigate__get32(h + 42, 0);
        uint16_t disk = abigate__get16(h + 34, 0);
        if (nlen > ABIGATE_ZIP_NAME_MAX) {
            rc = abigate__fail(err, ABIGATE_E_ZIP_TOO_BIG, at, "member %llu has a name of %zu "
                               "bytes (cap %u)", (unsigned long long)k + 1, nlen,
                               ABIGATE_ZIP_NAME_MAX);
            break;
        }
        if (bad_name(name, nlen)) {
            rc = abigate__fail(err, ABIGATE_E_ZIP_BAD_NAME, at, "member %llu: \"%.*s\": %s",
                               (unsigned long long)k + 1, (int)(nlen > 200 ? 200 : nlen), name,
                               abigate_strerror(ABIGATE_E_ZIP_BAD_NAME));
            break;
        }
        memcpy(z->names + pool, name, nlen);
        z->names[pool + nlen] = '\0';
        en->name = (uint32_t)pool;
        en->name_len = (uint16_t)nlen;
        pool += nlen + 1;
        if (zip64_extra(h + CDH_SIZE + nlen, xlen, en, en->usize == 0xffffffffu,
                        en->csize == 0xffffffffu, en->local == 0xffffffffu) ||
            (disk != 0 && disk != 0xffffu)) {
            rc = abigate__fail(err, disk != 0 && disk != 0xffffu ? ABIGATE_E_ZIP_MULTIDISK
                                                                 : ABIGATE_E_ZIP_ZIP64,
                               at, "%s: %s", z->names + en->name,
                               disk != 0 && disk != 0xffffu ? "on another disk"
                                                            : "malformed ZIP64 extra field");
            break;
        }
        if ((en->flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) ||
            (en->method != METHOD_STORED && en->method != METHOD_DEFLATE)) {
            rc = abigate__fail(err, ABIGATE_E_ZIP_METHOD, at, "%s: %s (method %u, flags 0x%x)",
                               z->names + en->name,
                               en->flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)
                                   ? "encrypted"
                                   : "compression method not supported",
                               en->method, en->flags);
            break;
        }
        if (en->method == METHOD_STORED && en->csize != en->usize) {
            rc = abigate__fail(err, ABIGATE_E_ZIP_CENTRAL, at, "%s: stored with %llu bytes "
                               "compressed but %llu uncompressed", z->names + en->name,
                               (unsigned long long)en->csize, (unsigned long long)en->usize);
            break;
        }
        pos += CDH_SIZE + nlen + xlen + clen;
    }
    if (rc == ABIGATE_OK && pos != cd_size)
        rc = abigate__fail(err, ABIGATE_E_ZIP_CENTRAL, (int64_t)(end->cd_off + pos),
                           "%zu bytes of the central directory follow its %llu entries",
                           cd_size - pos, (unsigned long long)end->entries);
    free(cd);
    if (rc == ABIGATE_OK)
        z->count = (size_t)end->entries;
    return rc;
}

/* ------------------------------------------------------------------ cross-checks */

static int by_name(const void *a, const void *b, void *ctx)
{
    const abigate_zip *z = ctx;
    const struct entry *x = &z->e[*(const size_t *)a], *y = &z->e[*(const size_t *)b];
    return strcmp(z->names + x->name, z->names + y->name);
}

static int by_local(const void *a, const void *b, void *ctx)
{
    const abigate_zip *z = ctx;
    const struct entry *x = &z->e[*(const size_t *)a], *y = &z->e[*(const size_t *)b];
    return x->local < y->local ? -1 : x->local > y->local;
}

static void sort_entries(const abigate_zip *z, size_t *order,
                         int (*cmp)(const void *, const void *, void *))
{
    for (size_t i = 0; i < z->count; i++)
        order[i] = i;
    qsort_r(order, z->count, sizeof *order, cmp, (void *)z);
}

/* Each local header agrees with its central entry; its data lies before
 * the central directory. */
static int check_local(abigate_zip *z, struct entry *en, uint64_t cd_off, abigate_error *err)
{
    unsigned char h[LFH_SIZE + ABIGATE_ZIP_NAME_MAX];
    const char *name = z->names + en->name;
    int rc = zread(z, en->local, h, LFH_SIZE + en->name_len, ABIGATE_E_ZIP_LOCAL, err);
    if (rc)
        return rc;
    size_t nlen = abigate__get16(h + 26, 0), xlen = abigate__get16(h + 28, 0);
    const char *why = NULL;
    if (abigate__get32(h, 0) != SIG_LFH)
        why = "no local header where the central directory points";
    else if (abigate__get16(h + 8, 0) != en->method)
        why = "the compression methods differ";
    else if (nlen != en->name_len || memcmp(h + LFH_SIZE, name, nlen) != 0)
        why = "the names differ";
    else if (!(en->flags & FLAG_DESCRIPTOR) &&
             (abigate__get32(h + 14, 0) != en->crc ||
              (abigate__get32(h + 18, 0) != 0xffffffffu && abigate__get32(h + 18, 0) != en->csize) ||
              (abigate__get32(h + 22, 0) != 0xffffffffu && abigate__get32(h + 22, 0) != en->usize)))
        why = "the CRC or sizes differ";
    if (why)
        return abigate__fail(err, ABIGATE_E_ZIP_LOCAL, (int64_t)en->local, "%s: %s", name, why);
    en->data = en->local + LFH_SIZE + nlen + xlen;
    if (en->data > cd_off || cd_off - en->data < en->csize)
        return abigate__fail(err, ABIGATE_E_ZIP_OVERLAP, (int64_t)en->local,
                             "%s: its %llu bytes of data run into the central directory", name,
                             (unsigned long long)en->csize);
    return ABIGATE_OK;
}

static int cross_check(abigate_zip *z, uint64_t cd_off, abigate_error *err)
{
    size_t *order = malloc((z->count ? z->count : 1) * sizeof *order);
    if (!order)
        return abigate__fail(err, ABIGATE_E_NOMEM, -1, NULL);
    int rc = ABIGATE_OK;
    sort_entries(z, order, by_name);
    for (size_t i = 1; i < z->count && rc == ABIGATE_OK; i++)
        if (strcmp(z->names + z->e[order[i]].name, z->names + z->e[order[i - 1]].name) == 0)
            rc = abigate__fail(err, ABIGATE_E_ZIP_DUPLICATE, (int64_t)z->e[order[i]].local,
                               "%s: %s", z->names + z->e[order[i]].name,
                               abigate_strerror(ABIGATE_E_ZIP_DUPLICATE));
    for (size_t i = 0; i < z->count && rc == ABIGATE_OK; i++)
        rc = check_local(z, &z->e[i], cd_off, err);
    if (rc == ABIGATE_OK) {
        /* a member's bytes (local header to end of data) end before the
         * next member's local header: no byte belongs to two members */
        sort_entries(z, order, by_local);
        for (size_t i = 1; i < z->count && rc == ABIGATE_OK; i++) {
            const struct entry *a = &z->e[order[i - 1]], *b = &z->e[order[i]];
            if (a->data + a->csize > b->local)
                rc = abigate__fail(err, ABIGATE_E_ZIP_OVERLAP, (int64_t)b->local,
                                   "%s and %s overlap", z->names + a->name, z->names + b->name);
        }
    }
    free(order);
    return rc;
}

/* ------------------------------------------------------------------ open / close */

uint64_t abigate__zip_spent(const abigate_zip *z)
{
    return __atomic_load_n(&z->spent, __ATOMIC_RELAXED);
}

uint64_t abigate__zip_budget(uint64_t size)
{
    uint64_t b = size > ABIGATE_ZIP_MAX_INFLATE_ARCHIVE / ABIGATE_ZIP_INFLATE_RATIO
                     ? ABIGATE_ZIP_MAX_INFLATE_ARCHIVE
                     : size * ABIGATE_ZIP_INFLATE_RATIO;
    return b < ABIGATE_ZIP_INFLATE_FLOOR ? ABIGATE_ZIP_INFLATE_FLOOR : b;
}

static int zip_open(abigate_zip *z, abigate_error *err)
{
    struct stat st;
    if (fstat(z->fd, &st) != 0)
        return abigate__fail(err, ABIGATE_E_IO, -1, "fstat: %s", strerror(errno));
    if (S_ISDIR(st.st_mode))
        return abigate__fail(err, ABIGATE_E_IS_DIRECTORY, -1, NULL);
    if (!S_ISREG(st.st_mode))
        return abigate__fail(err, ABIGATE_E_NOT_REGULAR, -1, NULL);
    z->size = (uint64_t)st.st_size;
    z->budget = abigate__zip_budget(z->size);
    struct end end = {0, 0, 0, 0};
    int rc = read_end(z, &end, err);
    if (rc == ABIGATE_OK)
        rc = walk_central(z, &end, err);
    if (rc == ABIGATE_OK)
        rc = cross_check(z, end.cd_off, err);
    if (rc == ABIGATE_OK)
        abigate__ok(err);
    return rc;
}

static int zip_new(int fd, int owns, abigate_zip **out, abigate_error *err)
{
    abigate_zip *z = calloc(1, sizeof *z);
    if (!z) {
        if (owns)
            close(fd);
        return abigate__fail(err, ABIGATE_E_NOMEM, -1, NULL);
    }
    z->fd = fd;
    z->owns_fd = owns;
    int rc = zip_open(z, err);
    if (rc) {
        abigate_zip_close(z);
        return rc;
    }
    *out = z;
    return ABIGATE_OK;
}

int abigate_zip_open_fd(int fd, abigate_zip **out, abigate_error *err)
{
    if (fd < 0 || !out)
        return abigate__fail(err, ABIGATE_E_INVALID_ARG, -1, NULL);
    return zip_new(fd, 0, out, err);
}

int abigate_zip_open_path(const char *path, abigate_zip **out, abigate_error *err)
{
    if (!path || !out)
        return abigate__fail(err, ABIGATE_E_INVALID_ARG, -1, NULL);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return abigate__fail(err, ABIGATE_E_OPEN, -1, "%s: %s", path, strerror(errno));
    return zip_new(fd, 1, out, err);
}

void abigate_zip_close(abigate_zip *z)
{
    if (!z)
        return;
    if (z->owns_fd)
        close(z->fd);
    free(z->e);
    free(z->names);
    free(z);
}

size_t abigate_zip_count(const abigate_zip *z)
{
    return z ? z->count : 0;
}

int abigate_zip_entry_get(const abigate_zip *z, size_t i, abigate_zip_entry *out)
{
    if (!z || !out || i >= z->count)
        return ABIGATE_E_INVALID_ARG;
    const struct entry *en = &z->e[i];
    out->name = z->names + en->name;
    out->method = en->method;
    out->crc32 = en->crc;
    out->compressed_size = en->csize;
    out->size = en->usize;
    out->offset = en->local;
    return ABIGATE_OK;
}

/* ------------------------------------------------------------------ member reads */

struct member {
    const abigate_zip *z;
    const struct entry *en;
    z_stream zs;
    int zs_ready;
    uint64_t in_pos;      /* compressed bytes fed so far */
    uint64_t out_pos;     /* inflated bytes produced so far */
    uint64_t work;        /* inflated bytes produced in all, restarts included */
    unsigned restarts;
    int code;             /* the member's own failure, reported instead of ABIGATE_E_IO */
    int64_t code_at;
    char why[96];
    unsigned char ring[RING_SIZE]; /* the last RING_SIZE bytes before out_pos */
    unsigned char in[IN_SIZE];
};

static long member_fail(struct member *m, int code, const char *why)
{
    m->code = code;
    m->code_at = (int64_t)m->out_pos;
    snprintf(m->why, sizeof m->why, "%s", why);
    return -1;
}

static void ring_put(struct member *m, const unsigned char *p, size_t n)
{
    /* out_pos already counts these n bytes */
    if (n > RING_SIZE) {
        p += n - RING_SIZE;
        n = RING_SIZE;
    }
    size_t at = (size_t)((m->out_pos - n) % RING_SIZE), first = RING_SIZE - at;
    if (first > n)
        first = n;
    memcpy(m->ring + at, p, first);
    memcpy(m->ring, p + first, n - first);
}

static void ring_get(const struct member *m, uint64_t off, unsigned char *p, size_t n)
{
    size_t at = (size_t)(off % RING_SIZE), first = RING_SIZE - at;
    if (first > n)
        first = n;
    memcpy(p, m->ring + at, first);
    memcpy(p + first, m->ring, n - first);
}

static int member_restart(struct member *m)
{
    if (m->zs_ready ? inflateReset(&m->zs) != Z_OK : inflateInit2(&m->zs, -MAX_WBITS) != Z_OK)
        return -1;
    m->zs_ready = 1;
    m->zs.avail_in = 0;
    m->in_pos = 0;
    m->out_pos = 0;
    return 0;
}

/* Feed zlib the next compressed bytes when it has used what it had;
 * 0, or -1 on a read error. */
static int member_refill(struct member *m)
{
    const struct entry *en = m->en;
    if (m->zs.avail_in > 0 || m->in_pos >= en->csize)
        return 0;
    uint64_t left = en->csize - m->in_pos;
    size_t n = left < IN_SIZE ? (size_t)left : IN_SIZE;
    if (zread(m->z, en->data + m->in_pos, m->in, n, ABIGATE_E_IO, NULL) != ABIGATE_OK)
        return -1;
    m->in_pos += n;
    m->zs.next_in = m->in;
    m->zs.avail_in = (uInt)n;
    return 0;
}

/* Inflate up to `len` bytes into `dst`; returns the count (0 at the
 * member's declared end), -1 on failure.  Output never goes past the
 * declared size: a stream that would is caught by the CRC of a whole read
 * (abigate_zip_read_small), and by the ELF reader's own checks otherwise. */
static long member_inflate(struct member *m, unsigned char *dst, size_t len)
{
    const struct entry *en = m->en;
    if (m->out_pos >= en->usize)
        return 0;
    if (len > en->usize - m->out_pos)
        len = (size_t)(en->usize - m->out_pos);
    if (m->work > ABIGATE_ZIP_MAX_INFLATE)
        return member_fail(m, ABIGATE_E_ZIP_TOO_BIG, "reading it would inflate more than the "
                           "reader's cap");
    if (__atomic_load_n(&m->z->spent, __ATOMIC_RELAXED) >= m->z->budget)
        return member_fail(m, ABIGATE_E_ZIP_TOO_BIG, "the archive's inflate budget is spent "
                           "(docs/WHEELS.md)");
    m->zs.next_out = dst;
    m->zs.avail_out = (uInt)(len > 1u << 30 ? 1u << 30 : len);
    while (m->zs.avail_out > 0) {
        if (member_refill(m))
            return member_fail(m, ABIGATE_E_IO, "read error in its compressed data");
        int zr = inflate(&m->zs, Z_NO_FLUSH);
        if (zr == Z_STREAM_END)
            break;
        if (zr == Z_BUF_ERROR && m->zs.avail_in == 0 && m->in_pos >= en->csize)
            return member_fail(m, ABIGATE_E_ZIP_INFLATE, "its compressed data ends early");
        if (zr != Z_OK)
            return member_fail(m, ABIGATE_E_ZIP_INFLATE, m->zs.msg ? m->zs.msg : "inflate failed");
    }
    size_t got = (size_t)(m->zs.next_out - dst);
    if (got == 0)
        return member_fail(m, ABIGATE_E_ZIP_INFLATE, "its data ends before its declared size");
    m->out_pos += got;
    m->work += got;
    /* the archive's budget: `z` is const to readers, its counter is not */
    __atomic_add_fetch(&((abigate_zip *)m->z)->spent, got, __ATOMIC_RELAXED);
    ring_put(m, dst, got);
    return (long)got;
}

static long member_read(void *ctx, void *buf, size_t len, uint64_t off)
{
    struct member *m = ctx;
    const struct entry *en = m->en;
    if (off >= en->usize || len == 0)
        return 0;
    if (len > en->usize - off)
        len = (size_t)(en->usize - off);
    if (en->method == METHOD_STORED) {
        if (len > 1u << 30)
            len = 1u << 30;
        return zread(m->z, en->data + off, buf, len, ABIGATE_E_IO, NULL) == ABIGATE_OK
                   ? (long)len
                   : member_fail(m, ABIGATE_E_IO, "read error in its data");
    }
    uint64_t kept = m->out_pos < RING_SIZE ? m->out_pos : RING_SIZE;
    if (off < m->out_pos && off >= m->out_pos - kept) { /* behind, still in the ring */
        size_t n = m->out_pos - off < len ? (size_t)(m->out_pos - off) : len;
        ring_get(m, off, buf, n);
        return (long)n;
    }
    if (off < m->out_pos || !m->zs_ready) { /* further back: inflate again from the start */
        if (m->zs_ready && ++m->restarts > MAX_RESTARTS)
            return member_fail(m, ABIGATE_E_ZIP_TOO_BIG, "the reader went back too often");
        if (member_restart(m))
            return member_fail(m, ABIGATE_E_NOMEM, "inflateInit failed");
    }
    while (m->out_pos < off) { /* skip ahead, through the ring */
        unsigned char skip[IN_SIZE];
        uint64_t gap = off - m->out_pos;
        long r = member_inflate(m, skip, gap < sizeof skip ? (size_t)gap : sizeof skip);
        if (r <= 0)
            return r < 0 ? -1 : member_fail(m, ABIGATE_E_ZIP_INFLATE, "it ends early");
    }
    return member_inflate(m, buf, len);
}

static struct member *member_new(const abigate_zip *z, size_t i)
{
    struct member *m = calloc(1, sizeof *m);
    if (m) {
        m->z = z;
        m->en = &z->e[i];
    }
    return m;
}

static void member_free(struct member *m)
{
    if (m->zs_ready)
        inflateEnd(&m->zs);
    free(m);
}

/* Read the member's first `len` bytes into `buf`; returns how many it gave. */
static size_t member_read_all(struct member *m, unsigned char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        long r = member_read(m, buf + got, len - got, got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

/* After a whole read of a DEFLATE member: 1 when its stream ends there,
 * 0 when it would inflate past its declared size. */
static int member_ends_here(struct member *m)
{
    unsigned char extra;
    m->zs.next_out = &extra;
    m->zs.avail_out = 1;
    for (int zr = Z_OK; zr == Z_OK && m->zs.avail_out == 1;) {
        if (member_refill(m))
            break;
        zr = inflate(&m->zs, Z_NO_FLUSH);
        if (zr == Z_BUF_ERROR && m->zs.avail_in == 0 && m->in_pos >= m->en->csize)
            break;
    }
    return m->zs.avail_out == 1;
}

/* Read member m as abigate_read_io reads a file.  A member read again
 * through the same `m` (the staged read below) goes on from where its
 * inflation stands: the head it read first is still in the ring. */
static int member_read_io(struct member *m, unsigned flags, abigate_file_info *info,
                          abigate_symbols *syms, abigate_error *err)
{
    abigate_io io = {member_read, m, m->en->usize};
    const char *name = m->z->names + m->en->name;
    int rc = abigate_read_io(&io, name, flags, info, syms, err);
    if (rc && m->code)
        rc = abigate__fail(err, m->code, m->code_at, "%s: %s (at inflated offset %lld)", name,
                           m->why, (long long)m->code_at);
    return rc;
}

int abigate__zip_read_member(const abigate_zip *z, size_t i, unsigned flags, abigate_file_info *info,
                            abigate_symbols *syms, abigate_error *err)
{
    if (!z || i >= z->count || !info)
        return abigate__fail(err, ABIGATE_E_INVALID_ARG, -1, NULL);
    struct member *m = member_new(z, i);
    if (!m)
        return abigate__fail(err, ABIGATE_E_NOMEM, -1, NULL);
    int rc = member_read_io(m, flags, info, syms, err);
    member_free(m);
    return rc;
}

int abigate_zip_read_small(const abigate_zip *z, size_t i, void *buf, size_t cap, size_t *len,
                           abigate_error *err)
{
    if (!z || i >= z->count || !buf || !len)
        return abigate__fail(err, ABIGATE_E_INVALID_ARG, -1, NULL);
    const struct entry *en = &z->e[i];
    const char *name = z->names + en->name;
    if (en->usize > cap)
        return abigate__fail(err, ABIGATE_E_ZIP_TOO_BIG, (int64_t)en->local,
                             "%s: %llu bytes, more than the %zu asked for", name,
                             (unsigned long long)en->usize, cap);
    struct member *m = member_new(z, i);
    if (!m)
        return abigate__fail(err, ABIGATE_E_NOMEM, -1, NULL);
    int rc = ABIGATE_OK;
    size_t got = member_read_all(m, buf, (size_t)en->usize);
    if (got < en->usize)
        rc = abigate__fail(err, m->code ? m->code : ABIGATE_E_ZIP_INFLATE, (int64_t)en->local,
                           "%s: %s", name, m->code ? m->why : "it ends early");
    else if (en->method == METHOD_DEFLATE && m->zs_ready && !member_ends_here(m))
        rc = abigate__fail(err, ABIGATE_E_ZIP_INFLATE, (int64_t)en->local,
                           "%s: it inflates past its declared size of %llu bytes", name,
                           (unsigned long long)en->usize);
    member_free(m);
    if (rc == ABIGATE_OK && crc32(crc32(0L, Z_NULL, 0), buf, (uInt)got) != en->crc)
        rc = abigate__fail(err, ABIGATE_E_ZIP_CRC, (int64_t)en->local, "%s: %s", name,
                           abigate_strerror(ABIGATE_E_ZIP_CRC));
    if (rc == ABIGATE_OK) {
        *len = got;
        abigate__ok(err);
    }
    return rc;
}

/* 1 when a wheel installs member `name` outside the import path: under
 * "<dist>.data/" into scripts/, headers/ or data/ (PEP 427: the
 * environment's bin, include and prefix), where no module is imported from. */
static int outside_import_path(const char *name)
{
    const char *slash = strchr(name, '/');
    if (!slash || slash - name < 6 || memcmp(slash - 5, ".data", 5))
        return 0;
    static const char *const dirs[] = {"scripts/", "headers/", "data/"};
    for (size_t k = 0; k < sizeof dirs / sizeof dirs[0]; k++)
        if (!strncmp(slash + 1, dirs[k], strlen(dirs[k])))
            return 1;
    return 0;
}

int abigate_zip_member_is_elf(const abigate_zip *z, size_t i)
{
    if (!z || i >= z->count)
        return 0;
    const struct entry *en = &z->e[i];
    const char *name = z->names + en->name;
    size_t n = en->name_len;
    if (outside_import_path(name))
        return 0;
    if ((n >= 3 && memcmp(name + n - 3, ".so", 3) == 0) ||
        (n >= 4 && strcasecmp(name + n - 4, ".pyd") == 0))
        return 1;
    if (en->usize < 4 || name[n - 1] == '/')
        return 0;
    struct member *m = member_new(z, i);
    if (!m)
        return ABIGATE_E_NOMEM;
    unsigned char magic[8];
    size_t got = member_read_all(m, magic, en->usize < 8 ? 4 : sizeof magic);
    int code = m->code;
    member_free(m);
    if (got < 4)
        return code == ABIGATE_E_NOMEM || code == ABIGATE_E_IO ? code : 0;
    /* ELF, Mach-O (a .dylib that delocate vendored), or a DLL (delvewheel's) */
    return memcmp(magic, "\177ELF", 4) == 0 || abigate__is_macho(magic, got) ||
           (magic[0] == 'M' && magic[1] == 'Z' && n >= 4 && strcasecmp(name + n - 4, ".dll") == 0);
}

/* ------------------------------------------------------------------ the gate */

struct staged_member {
    struct member *m;
};

/* A member, record first, as abigate__read_fd_staged reads a file: then,
 * when there is no record, the legacy facts if stage->legacy asks for
 * them, with the symbols if stage->need gives a table.  Both reads go
 * through one inflation of the member. */
static int read_member_staged(void *ctx, const struct abigate__stage *stage,
                              abigate_file_info *info, abigate_error *err)
{
    struct member *m = ((const struct staged_member *)ctx)->m;
    int rc = member_read_io(m, ABIGATE_READ_RECORD, info, NULL, err);
    abigate_symbols *syms = rc ? NULL : stage->need(info, stage->ctx);
    if (syms || (rc == ABIGATE_OK && stage->legacy && info->record_state != ABIGATE_RECORD_PRESENT))
        rc = member_read_io(m, ABIGATE_READ_LEGACY, info, syms, err);
    return rc;
}

int abigate__gate_judge_zip_member_facts(abigate_gate *g, const abigate_zip *z, size_t i,
                                        const abigate_policy *policy, abigate_verdict *v,
                                        abigate_file_info *facts, abigate_error *err)
{
    if (!g || !z || i >= z->count || !v)
        return abigate__fail(err, ABIGATE_E_INVALID_ARG, -1, NULL);
    struct staged_member sm = {member_new(z, i)};
    if (!sm.m) {
        memset(v, 0, sizeof *v);
        return abigate__fail(err, ABIGATE_E_NOMEM, -1, NULL);
    }
    int rc = abigate__gate_judge_reader(g, z->names + z->e[i].name, read_member_staged, &sm,
                                        policy, v, facts, err);
    member_free(sm.m);
    return rc;
}

int abigate__gate_judge_zip_member(abigate_gate *g, const abigate_zip *z, size_t i,
                                  const abigate_policy *policy, abigate_verdict *v,
                                  abigate_error *err)
{
    return abigate_gate_judge_zip_member_facts(g, z, i, policy, v, NULL, err);
}
