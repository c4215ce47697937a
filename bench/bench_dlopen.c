/* bench_dlopen.c -- what loading an extension through its descriptor costs,
 * in C, without CPython's import machinery around it: the floor under the
 * gate built into CPython (patches/, make bench-patched).
 *
 *   bench_dlopen MODE LIBPYTHON FILE...
 *
 * LIBPYTHON is loaded first (RTLD_GLOBAL) so that the extension files
 * resolve against it.  Then each FILE is loaded once, in order (RTLD_NOW,
 * as CPython loads extensions), the way MODE says:
 *
 *   path  dlopen(FILE): CPython without the gate;
 *   fd    open(FILE), dlopen("/proc/self/fd/N") under a name no earlier load
 *         used, close: the built-in gate's way of loading, with nothing read
 *         and nothing decided;
 *   gate  fd, plus abigate_read_fd and abigate_decide (strict) on the
 *         descriptor before the dlopen: all the built-in gate does in C;
 *   api   abigate_gate_dlopen (strict) from one gate: the embedder API,
 *         record-first, the same open-judge-dlopen-close sequence.
 *
 * Prints the mean microseconds per file.  A loaded object stays loaded, so
 * one process measures one mode; bench_gate.py runs the modes alternately,
 * round after round, each in a fresh process.  Speed is measured here,
 * never asserted. */
#include "abigate/abigate.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* "/proc/self/fd/" + load number k as a run of "./" and "/" components
 * (binary, low bit first) + fd: a name glibc has not seen, since it finds
 * loaded objects by name and descriptor numbers are reused. */
static void unique_fd_name(char *buf, size_t size, unsigned long k, int fd)
{
    size_t n = (size_t)snprintf(buf, size, "/proc/self/fd/");
    for (; k && n + 3 < size; k >>= 1)
        n += (size_t)snprintf(buf + n, size - n, "%s", k & 1 ? "./" : "/");
    snprintf(buf + n, size - n, "%d", fd);
}

static int die(const char *what, const char *detail)
{
    fprintf(stderr, "bench_dlopen: %s: %s\n", what, detail);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[1], "path") && strcmp(argv[1], "fd") && strcmp(argv[1], "gate") &&
                     strcmp(argv[1], "api")))
        return die("usage", "bench_dlopen path|fd|gate|api LIBPYTHON FILE...");
    const char *mode = argv[1];
    int judge = strcmp(mode, "gate") == 0, by_fd = strcmp(mode, "path") != 0;
    if (!dlopen(argv[2], RTLD_NOW | RTLD_GLOBAL))
        return die(argv[2], dlerror());

    abigate_symbols *exports = abigate_symbols_new(), *syms = abigate_symbols_new();
    if (!exports || !syms)
        return 2;
    abigate_profile profile;
    abigate_policy policy;
    abigate_error err;
    if (judge && (abigate_profile_from_process(&profile, exports, &err) ||
                  abigate_policy_parse("strict", &policy, &err)))
        return die("profile", err.message);

    abigate_gate *gate = NULL;
    if (!strcmp(mode, "api")) {
        abigate_gate_config cfg;
        abigate_gate_config_init(&cfg);
        if (!(gate = abigate_gate_new(&cfg, &err)) || !abigate_gate_profile(gate, &err))
            return die("gate", err.message);
    }

    char name[128];
    double t = now_us();
    for (int i = 3; i < argc; i++) {
        const char *file = argv[i];
        void *h;
        if (gate) {
            abigate_verdict v;
            if (!(h = abigate_gate_dlopen(gate, file, RTLD_NOW, NULL, &v, &err)))
                return die(file, err.code ? err.message : v.message);
        } else if (!by_fd) {
            h = dlopen(file, RTLD_NOW);
        } else {
            int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
            if (fd < 0)
                return die(file, "cannot open");
            if (judge) {
                abigate_file_info info;
                abigate_verdict v;
                if (abigate_read_fd(fd, file, ABIGATE_READ_LEGACY, &info, syms, &err))
                    return die(file, err.message);
                if (abigate_decide(&info, syms, &profile, &policy, &v) != ABIGATE_ACCEPT)
                    return die(file, v.message);
            }
            unique_fd_name(name, sizeof name, (unsigned long)i, fd);
            h = dlopen(name, RTLD_NOW);
            close(fd);
        }
        if (!h)
            return die(file, dlerror());
    }
    printf("%.3f\n", (now_us() - t) / (argc - 3));
    abigate_gate_free(gate);
    return 0;
}
