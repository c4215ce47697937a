/* bench_read.c -- per-file cost of reading the abigate record, and of the
 * whole check (read + abigate_decide), against the floor of one open + one
 * 16 KiB pread (abigate's first read) + close on the same files.
 *
 *   bench_read [-r ROUNDS] [-x INTERPRETER_API_FILE] FILE...
 *
 * -x: the libpython or python executable whose exports the profile uses
 * (symbol evidence, as `abigate check --python` has); the profile is
 * CPython 3.11 on this machine.
 *
 * Both are measured in one process and one run, interleaved round by round
 * (floor, record, floor, record, ...) so that machine noise hits both
 * alike; the figure reported is the median over rounds of the per-file
 * time, and the ratio of the medians.  A third line gives the full legacy
 * read (symbols, DT_NEEDED) for scale.  The page cache is warm: a first
 * untimed pass reads every file.  The last two lines are the judgement's
 * I/O alone: the preads abigate_read_io makes on each file (recorded once,
 * their count in parentheses), replayed between an open and a close with
 * nothing parsed. */
#include "abigate/abigate.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
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
    static char buf[16384];
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

static abigate_symbols *syms, *exports; /* made in main */
static abigate_profile profile;
static const abigate_policy policy = {ABIGATE_MODE_STRICT, 0};

/* Read and decide, as `abigate check` does per file. */
static double check_pass(char **files, int n, unsigned flags)
{
    abigate_file_info fi;
    abigate_error err;
    abigate_verdict v;
    int refused = 0;
    double t0 = now_ns();
    for (int i = 0; i < n; i++) {
        if (abigate_read_path(files[i], flags, &fi, flags ? syms : NULL, &err) != ABIGATE_OK)
            exit(2);
        refused += abigate_decide(&fi, flags ? syms : NULL, &profile, &policy, &v) == ABIGATE_REFUSE;
    }
    double per = (now_ns() - t0) / n;
    if (refused < 0) /* keeps the loop observable */
        puts("");
    return per;
}

/* abigate_decide alone, over facts read beforehand (no symbols). */
static double decide_pass(const abigate_file_info *infos, int n, int repeat)
{
    abigate_verdict v;
    unsigned sum = 0;
    double t0 = now_ns();
    for (int k = 0; k < repeat; k++)
        for (int i = 0; i < n; i++)
            sum += (unsigned)abigate_decide(&infos[i], NULL, &profile, &policy, &v) + v.message[0];
    double per = (now_ns() - t0) / ((double)n * repeat);
    if (sum == 0xffffffffu)
        puts("");
    return per;
}

static double read_pass(char **files, int n, unsigned flags, int *with_record)
{
    abigate_file_info fi;
    abigate_error err;
    int records = 0;
    double t0 = now_ns();
    for (int i = 0; i < n; i++) {
        if (abigate_read_path(files[i], flags, &fi, flags ? syms : NULL, &err) != ABIGATE_OK) {
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

/* abigate's own reads, replayed without parsing: the reads a judgement
 * makes are recorded once through abigate_read_io (a reader that preads
 * and notes each offset and length), then each pass opens the file, makes
 * those preads and closes it: the I/O part of the judgement alone. */
#define MAX_READS 64
struct reads {
    int fd, n;
    uint64_t off[MAX_READS];
    size_t len[MAX_READS];
};

static long record_read(void *ctx, void *buf, size_t len, uint64_t offset)
{
    struct reads *r = ctx;
    if (r->n < MAX_READS) {
        r->off[r->n] = offset;
        r->len[r->n++] = len;
    }
    return (long)pread(r->fd, buf, len, (off_t)offset);
}

static struct reads *record_reads(char **files, int n, unsigned flags)
{
    struct reads *all = calloc((size_t)n, sizeof *all);
    for (int i = 0; i < n && all; i++) {
        struct stat st;
        abigate_file_info fi;
        abigate_error err;
        all[i].fd = open(files[i], O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (all[i].fd < 0 || fstat(all[i].fd, &st)) {
            perror(files[i]);
            exit(2);
        }
        abigate_io io = {record_read, &all[i], (uint64_t)st.st_size};
        abigate_read_io(&io, files[i], flags, &fi, flags ? syms : NULL, &err);
        close(all[i].fd);
    }
    return all;
}

static double reads_pass(char **files, int n, const struct reads *all)
{
    static char buf[1 << 20];
    double t0 = now_ns();
    for (int i = 0; i < n; i++) {
        int fd = open(files[i], O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        for (int k = 0; k < all[i].n; k++)
            if (pread(fd, buf, all[i].len[k] < sizeof buf ? all[i].len[k] : sizeof buf,
                      (off_t)all[i].off[k]) < 0)
                exit(2);
        close(fd);
    }
    return (now_ns() - t0) / n;
}

static double median(double *v, int rounds)
{
    qsort(v, (size_t)rounds, sizeof *v, cmp_double);
    return v[rounds / 2];
}

enum { FLOOR, RECORD, RECORD_CHECK, LEGACY, LEGACY_CHECK, DECIDE, READS_RECORD, READS_LEGACY,
       NPASS };

int main(int argc, char **argv)
{
    int rounds = 31, first = 1;
    const char *api_file = NULL;
    if (!(syms = abigate_symbols_new()) || !(exports = abigate_symbols_new()))
        return 2;
    while (argc > first + 1 && argv[first][0] == '-') {
        if (strcmp(argv[first], "-r") == 0)
            rounds = atoi(argv[first + 1]);
        else if (strcmp(argv[first], "-x") == 0)
            api_file = argv[first + 1];
        else
            break;
        first += 2;
    }
    int n = argc - first;
    char **files = argv + first;
    if (n < 1 || rounds < 1) {
        fprintf(stderr, "usage: bench_read [-r ROUNDS] [-x API_FILE] FILE...\n");
        return 2;
    }
    abigate_error err;
    abigate_profile_init(&profile, 0x030b02f0, 0);
    if (api_file && abigate_profile_load_exports(&profile, api_file, 0, exports, &err)) {
        fprintf(stderr, "%s: %s\n", api_file, err.message);
        return 2;
    }
    double *t[NPASS];
    for (int k = 0; k < NPASS; k++)
        t[k] = calloc((size_t)rounds, sizeof(double));
    abigate_file_info *infos = calloc((size_t)n, sizeof *infos);
    int records = 0;
    floor_pass(files, n); /* warm the page cache */
    read_pass(files, n, ABIGATE_READ_LEGACY, NULL);
    for (int i = 0; i < n; i++)
        abigate_read_path(files[i], ABIGATE_READ_RECORD, &infos[i], NULL, &err);
    struct reads *reads_record = record_reads(files, n, ABIGATE_READ_RECORD),
                 *reads_legacy = record_reads(files, n, ABIGATE_READ_LEGACY);
    int nreads[2] = {0, 0};
    for (int i = 0; i < n; i++) {
        nreads[0] += reads_record[i].n;
        nreads[1] += reads_legacy[i].n;
    }
    for (int r = 0; r < rounds; r++) {
        t[FLOOR][r] = floor_pass(files, n);
        t[READS_RECORD][r] = reads_pass(files, n, reads_record);
        t[READS_LEGACY][r] = reads_pass(files, n, reads_legacy);
        t[RECORD][r] = read_pass(files, n, ABIGATE_READ_RECORD, &records);
        t[RECORD_CHECK][r] = check_pass(files, n, ABIGATE_READ_RECORD);
        t[LEGACY][r] = read_pass(files, n, ABIGATE_READ_LEGACY, NULL);
        t[LEGACY_CHECK][r] = check_pass(files, n, ABIGATE_READ_LEGACY);
        t[DECIDE][r] = decide_pass(infos, n, 20);
    }
    double m[NPASS];
    for (int k = 0; k < NPASS; k++)
        m[k] = median(t[k], rounds);
    double f = m[FLOOR];
    printf("files: %d (%d with a record), rounds: %d, median per file; profile 3.11 %s\n", n,
           records, rounds, api_file ? "with exports" : "without exports");
    printf("  floor  open+pread(16 KiB)+close     %8.0f ns\n", f);
    printf("  abigate_read_path(RECORD)           %8.0f ns   ratio %.2f\n", m[RECORD], m[RECORD] / f);
    printf("  check: read(RECORD) + decide        %8.0f ns   ratio %.2f   decide adds %+.1f%%\n",
           m[RECORD_CHECK], m[RECORD_CHECK] / f, 100.0 * (m[RECORD_CHECK] / m[RECORD] - 1));
    printf("  abigate_read_path(LEGACY)           %8.0f ns   ratio %.2f\n", m[LEGACY], m[LEGACY] / f);
    printf("  check: read(LEGACY) + decide+syms   %8.0f ns   ratio %.2f   decide adds %+.1f%%\n",
           m[LEGACY_CHECK], m[LEGACY_CHECK] / f, 100.0 * (m[LEGACY_CHECK] / m[LEGACY] - 1));
    printf("  abigate_decide alone (no symbols)   %8.0f ns per call   ratio %.2f\n", m[DECIDE],
           m[DECIDE] / f);
    printf("  its reads alone, RECORD (%4d)       %8.0f ns   ratio %.2f\n", nreads[0],
           m[READS_RECORD], m[READS_RECORD] / f);
    printf("  its reads alone, LEGACY (%4d)       %8.0f ns   ratio %.2f\n", nreads[1],
           m[READS_LEGACY], m[READS_LEGACY] / f);
    free(reads_record);
    free(reads_legacy);
    for (int k = 0; k < NPASS; k++)
        free(t[k]);
    free(infos);
    return 0;
}
