/* failmalloc.c -- allocation failures on demand, for tests/nomem/nomem.py.
 *
 * Preloaded (LD_PRELOAD) into the abigate program, and armed only there
 * (not in the shell or libtool wrapper around it):
 *   ABIGATE_FAIL_AT=N    allocation N (counted from 0, malloc, calloc and
 *                        realloc alike, every thread) fails with ENOMEM;
 *   ABIGATE_FAIL_FROM=1  ... and so does every one after it (memory gone);
 *   ABIGATE_FAIL_COUNT=F nothing fails; the number of allocations made is
 *                        written to file F at exit.
 * glibc's own calls (strdup, scandir, fopen, pthread_create) allocate
 * through these too. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);

static long fail_at = -1, count;
static int armed, from;
static const char *count_file;

__attribute__((constructor)) static void arm(void)
{
    const char *me = program_invocation_short_name;
    if (strcmp(me, "abigate") && strcmp(me, "lt-abigate"))
        return;
    const char *at = getenv("ABIGATE_FAIL_AT");
    fail_at = at ? atol(at) : -1;
    from = getenv("ABIGATE_FAIL_FROM") != NULL;
    count_file = getenv("ABIGATE_FAIL_COUNT");
    armed = 1;
}

__attribute__((destructor)) static void report(void)
{
    if (!armed || !count_file)
        return;
    armed = 0;
    FILE *f = fopen(count_file, "w");
    if (f) {
        fprintf(f, "%ld\n", count);
        fclose(f);
    }
}

static int fails(void)
{
    if (!armed)
        return 0;
    long n = __atomic_fetch_add(&count, 1, __ATOMIC_RELAXED);
    if (fail_at >= 0 && (n == fail_at || (from && n > fail_at))) {
        errno = ENOMEM;
        return 1;
    }
    return 0;
}

void *malloc(size_t n)
{
    return fails() ? NULL : __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
    return fails() ? NULL : __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
    return fails() ? NULL : __libc_realloc(p, n);
}
