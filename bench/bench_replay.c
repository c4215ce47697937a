/* bench_replay.c -- the reads alone: replays a plan of preads over a list
 * of files, against the floor of one open, one 4 KiB read and one close of
 * each, in one process, round by round (make bench-wheel).
 *
 *   bench_replay ROUNDS PLAN
 *
 * PLAN has one line per file: its path, then pairs of offset and length
 * (tab-separated), the reads a reader of that file makes after opening it;
 * bench_wheel.py writes the plan of what judging each file needs at least.
 * Each round times the floor pass and the plan pass over every file, in
 * alternating order; prints the median per-file microseconds of both and
 * their ratio.  Speed is measured here, never asserted. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_READS 16

struct file {
    char *path;
    unsigned n;
    long long off[MAX_READS], len[MAX_READS];
};

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static unsigned char buf[1 << 20];

static int pass(const struct file *f, size_t n, int floor)
{
    for (size_t i = 0; i < n; i++) {
        int fd = open(f[i].path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
            return -1;
        if (floor) {
            if (pread(fd, buf, 4096, 0) < 0)
                return -1;
        } else {
            for (unsigned k = 0; k < f[i].n; k++)
                if (pread(fd, buf, (size_t)f[i].len[k], (off_t)f[i].off[k]) < 0)
                    return -1;
        }
        close(fd);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_replay ROUNDS PLAN\n");
        return 2;
    }
    int rounds = atoi(argv[1]);
    FILE *p = fopen(argv[2], "r");
    if (rounds < 1 || !p) {
        fprintf(stderr, "bench_replay: bad rounds or cannot open %s\n", argv[2]);
        return 2;
    }
    struct file *f = NULL;
    size_t n = 0, cap = 0;
    char line[8192];
    while (fgets(line, sizeof line, p)) {
        char *save = NULL, *tok = strtok_r(line, "\t\n", &save);
        if (!tok)
            continue;
        if (n == cap && !(f = realloc(f, (cap = cap * 2 + 256) * sizeof *f))) {
            fprintf(stderr, "bench_replay: out of memory\n");
            return 2;
        }
        f[n].path = strdup(tok);
        f[n].n = 0;
        char *o, *l;
        while ((o = strtok_r(NULL, "\t\n", &save)) && (l = strtok_r(NULL, "\t\n", &save)) &&
               f[n].n < MAX_READS) {
            f[n].off[f[n].n] = atoll(o);
            f[n].len[f[n].n] = atoll(l);
            if (f[n].len[f[n].n] < 0 || f[n].len[f[n].n] > (long long)sizeof buf) {
                fprintf(stderr, "bench_replay: %s: bad length\n", f[n].path);
                return 2;
            }
            f[n].n++;
        }
        n++;
    }
    fclose(p);
    if (!n || !f)
        return 2;
    double *t[2] = {malloc(rounds * sizeof(double)), malloc(rounds * sizeof(double))};
    if (!t[0] || !t[1] || pass(f, n, 1) || pass(f, n, 0)) { /* warm the page cache */
        perror("bench_replay");
        return 2;
    }
    for (int r = 0; r < rounds; r++)
        for (int k = 0; k < 2; k++) {
            int side = (r + k) % 2;
            double t0 = now_us();
            if (pass(f, n, side == 0)) {
                perror("bench_replay");
                return 2;
            }
            t[side][r] = (now_us() - t0) / (double)n;
        }
    qsort(t[0], rounds, sizeof(double), cmp_double);
    qsort(t[1], rounds, sizeof(double), cmp_double);
    printf("%zu %.3f %.3f\n", n, t[0][rounds / 2], t[1][rounds / 2]);
    return 0;
}
