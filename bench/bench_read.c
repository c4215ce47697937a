/* bench_read.c -- per-file cost of reading the abigate record, against the
 * floor of one open + one 4 KiB pread + close on the same files.
 *
 *   bench_read [-r ROUNDS] FILE...
 *
 * Both are measured in one process and one run, interleaved round by round
 * (floor, record, floor, record, ...) so that machine noise hits both
 * alike; the figure reported is the median over rounds of the per-file
 * time, and the ratio of the medians.  A third line gives the full legacy
 * read (symbols, DT_NEEDED) for scale.  The page cache is warm: a first
 * untimed pass reads every file. */
#include "abigate.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double floor_pass(char **files, int n)
{
    static char buf[4096];
    double t0 = now_ns();
    for (int i = 0; i < n; i++) {
        int fd = open(files[i], O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0 || pread(fd, buf, sizeof buf, 0) < 0) {
            perror(files[i]);
            exit(2);
        }
        close(fd);
    }
    return (now_ns() - t0) / n;
}

static abigate_symbols syms;

static double read_pass(char **files, int n, unsigned flags, int *with_record)
{
    abigate_file_info fi;
    abigate_error err;
    int records = 0;
    double t0 = now_ns();
    for (int i = 0; i < n; i++) {
        if (abigate_read_path(files[i], flags, &fi, flags ? &syms : NULL, &err) != ABIGATE_OK) {
            fprintf(stderr, "%s: %s\n", files[i], err.message);
            exit(2);
        }
        records += fi.record_state == ABIGATE_RECORD_PRESENT;
    }
    double per = (now_ns() - t0) / n;
    if (with_record)
        *with_record = records;
    return per;
}

int main(int argc, char **argv)
{
    int rounds = 31, first = 1;
    if (argc > 2 && strcmp(argv[1], "-r") == 0) {
        rounds = atoi(argv[2]);
        first = 3;
    }
    int n = argc - first;
    char **files = argv + first;
    if (n < 1 || rounds < 1) {
        fprintf(stderr, "usage: bench_read [-r ROUNDS] FILE...\n");
        return 2;
    }
    double *fl = calloc((size_t)rounds, sizeof *fl), *rd = calloc((size_t)rounds, sizeof *rd),
           *lg = calloc((size_t)rounds, sizeof *lg);
    int records = 0;
    floor_pass(files, n); /* warm the page cache */
    read_pass(files, n, ABIGATE_READ_LEGACY, NULL);
    for (int r = 0; r < rounds; r++) {
        fl[r] = floor_pass(files, n);
        rd[r] = read_pass(files, n, ABIGATE_READ_RECORD, &records);
        lg[r] = read_pass(files, n, ABIGATE_READ_LEGACY, NULL);
    }
    qsort(fl, (size_t)rounds, sizeof *fl, cmp_double);
    qsort(rd, (size_t)rounds, sizeof *rd, cmp_double);
    qsort(lg, (size_t)rounds, sizeof *lg, cmp_double);
    double f = fl[rounds / 2], r = rd[rounds / 2], l = lg[rounds / 2];
    printf("files: %d (%d with a record), rounds: %d, median per file\n", n, records, rounds);
    printf("  floor  open+pread(4 KiB)+close  %8.0f ns\n", f);
    printf("  abigate_read_path(RECORD)       %8.0f ns   ratio %.2f\n", r, r / f);
    printf("  abigate_read_path(LEGACY)       %8.0f ns   ratio %.2f\n", l, l / f);
    free(fl);
    free(rd);
    free(lg);
    return 0;
}
