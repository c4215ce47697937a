/* fuzz_zip.c -- libFuzzer target for the zip (wheel) reader: any bytes, as
 * an archive (through a memfd: the reader reads descriptors with pread
 * only); when it opens, every member is read as an ELF object (both modes),
 * read whole when small, checked against the wheel's tags when it reads,
 * and the WHEEL file is parsed.  Built with --enable-fuzzing; `make check`
 * replays seed archives through tests/fuzz/replay.c (tests/fuzz/replay_zip.sh). */
#define _GNU_SOURCE
#include "abigate/abigate.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MEMBERS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static abigate_symbols *syms;
    if (!syms && !(syms = abigate_symbols_new()))
        abort();
    if (fd < 0 && (fd = memfd_create("fuzz_zip", MFD_CLOEXEC)) < 0)
        abort();
    if (ftruncate(fd, 0) || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
        abort();
    abigate_zip *z = NULL;
    abigate_error err;
    int rc = abigate_zip_open_fd(fd, &z, &err);
    /* invariants: a code from the table, the same one without details, a message */
    if (rc > 0 || (rc == ABIGATE_OK) != (z != NULL) ||
        strcmp(abigate_strerror(rc), "unknown error code") == 0 || err.code != rc ||
        (rc && err.message[0] == '\0'))
        abort();
    abigate_zip *z2 = NULL;
    if (abigate_zip_open_fd(fd, &z2, NULL) != rc)
        abort();
    abigate_zip_close(z2);
    if (rc)
        return 0;
    static abigate_wheel_tags *tags;
    if (!tags && !(tags = abigate_wheel_tags_new()))
        abort();
    int have_tags = abigate_wheel_read_metadata(z, tags, NULL) == ABIGATE_OK;
    size_t n = abigate_zip_count(z);
    for (size_t i = 0; i < n && i < MAX_MEMBERS; i++) {
        abigate_zip_entry e;
        if (abigate_zip_entry_get(z, i, &e) || !e.name || !e.name[0] || e.name[0] == '/')
            abort();
        abigate_file_info fi;
        int a = abigate_zip_read_member(z, i, ABIGATE_READ_RECORD, &fi, NULL, &err);
        int b = abigate_zip_read_member(z, i, ABIGATE_READ_LEGACY, &fi, syms, &err);
        if (a > 0 || b > 0 || strcmp(abigate_strerror(b), "unknown error code") == 0)
            abort();
        if (b == ABIGATE_OK && have_tags) {
            abigate_policy pol = {ABIGATE_MODE_STRICT, 0};
            abigate_verdict v;
            int kind = abigate_wheel_decide(tags, "WHEEL", &fi, &pol, &v);
            if (kind < ABIGATE_ACCEPT || kind > ABIGATE_REFUSE || v.message[0] == '\0')
                abort();
        }
        unsigned char buf[4096];
        size_t len = 0;
        int c = abigate_zip_read_small(z, i, buf, sizeof buf, &len, NULL);
        if (c > 0 || (c == ABIGATE_OK && len != e.size))
            abort();
        abigate_zip_member_is_elf(z, i);
    }
    abigate_zip_close(z);
    return 0;
}
