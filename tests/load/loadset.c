/* loadset -- load one shared object, plainly or through the gate, and print
 * what the load added to the process (tests/load/layouts.py).
 *
 *   loadset [--gate MODE] [--global] [--preload LIB] [--call SYM]
 *           [--visible SYM] [--twice] PATH
 *
 * --gate MODE loads with abigate_gate_dlopen (a gate for a 3.11 spec: the
 * files judged here carry no Python evidence, so strict accepts them);
 * without it, dlopen(PATH).  Flags: RTLD_NOW, with RTLD_GLOBAL under
 * --global.  --preload dlopen()s LIB first (an object already loaded).
 * Prints:
 *   new: FILE       each object the load added, by the file the kernel has
 *                   mapped (/proc/self/maps), sorted by the caller
 *   call: N         int SYM(void) of the loaded object, called
 *   visible: yes|no SYM found through RTLD_DEFAULT (global scope)
 *   fds: N N        descriptors open before and after (a leak shows)
 *   error: TEXT     the load failed (exit 1)
 */
#define _GNU_SOURCE
#include <abigate/abigate.h>
#include <dirent.h>
#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OBJS 512

struct objs {
    unsigned n;
    uintptr_t base[MAX_OBJS];
};

static int collect(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct objs *o = data;
    uintptr_t first = 0;
    for (unsigned i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_LOAD) {
            first = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
            break;
        }
    if (first && o->n < MAX_OBJS)
        o->base[o->n++] = first;
    return 0;
}

/* The file mapped at `addr`, from /proc/self/maps. */
static int mapped_file(uintptr_t addr, char *out, size_t size)
{
    FILE *f = fopen("/proc/self/maps", "re");
    char line[4352];
    int found = 0;
    if (!f)
        return 0;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        int off = 0;
        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &lo, &hi, &off) < 2 || !off)
            continue;
        if (addr >= lo && addr < hi) {
            snprintf(out, size, "%s", line + off);
            out[strcspn(out, "\n")] = '\0';
            found = 1;
        }
    }
    fclose(f);
    return found;
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n - 3; /* ".", "..", and the directory's own descriptor */
}

int main(int argc, char **argv)
{
    const char *mode = NULL, *preload = NULL, *call = NULL, *visible = NULL, *path = NULL;
    int flags = RTLD_NOW;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--gate") && i + 1 < argc)
            mode = argv[++i];
        else if (!strcmp(argv[i], "--global"))
            flags |= RTLD_GLOBAL;
        else if (!strcmp(argv[i], "--preload") && i + 1 < argc)
            preload = argv[++i];
        else if (!strcmp(argv[i], "--call") && i + 1 < argc)
            call = argv[++i];
        else if (!strcmp(argv[i], "--visible") && i + 1 < argc)
            visible = argv[++i];
        else
            path = argv[i];
    }
    if (!path) {
        fprintf(stderr, "usage: loadset [--gate MODE] [--global] [--preload LIB] [--call SYM] "
                        "[--visible SYM] PATH\n");
        return 2;
    }
    if (preload && !dlopen(preload, RTLD_NOW | RTLD_GLOBAL)) {
        printf("error: preload: %s\n", dlerror());
        return 1;
    }
    abigate_gate *gate = NULL;
    abigate_error err;
    if (mode) {
        abigate_gate_config cfg;
        abigate_profile prof;
        abigate_gate_config_init(&cfg);
        if (abigate_policy_parse(mode, &cfg.policy, &err) ||
            abigate_profile_parse(&prof, "3.11", &err) ||
            !(gate = abigate_gate_new_for(&prof, NULL, &cfg, &err))) {
            printf("error: gate: %s\n", err.message);
            return 2;
        }
    }
    static struct objs before, after;
    dl_iterate_phdr(collect, &before);
    int fds_before = count_fds();
    void *h;
    if (gate) {
        abigate_verdict v;
        h = abigate_gate_dlopen(gate, path, flags, NULL, &v, &err);
        if (!h)
            printf("error: %s\n", v.kind == ABIGATE_REFUSE ? v.message : err.message);
        else if (v.warning)
            printf("warning: %s\n", v.message);
    } else if (!(h = dlopen(path, flags))) {
        printf("error: %s\n", dlerror());
    }
    dl_iterate_phdr(collect, &after); /* after a failure: nothing may stay */
    for (unsigned i = 0; i < after.n; i++) {
        int old = 0;
        for (unsigned j = 0; j < before.n && !old; j++)
            old = before.base[j] == after.base[i];
        char file[4096];
        if (!old)
            printf("new: %s\n", mapped_file(after.base[i], file, sizeof file) ? file : "?");
    }
    if (!h) {
        printf("fds: %d %d\n", fds_before, count_fds());
        abigate_gate_free(gate);
        return 1;
    }
    if (call) {
        int (*fn)(void);
        *(void **)&fn = dlsym(h, call);
        if (fn)
            printf("call: %d\n", fn());
        else
            printf("call: missing\n");
    }
    if (visible)
        printf("visible: %s\n", dlsym(RTLD_DEFAULT, visible) ? "yes" : "no");
    printf("fds: %d %d\n", fds_before, count_fds());
    abigate_gate_free(gate);
    return 0;
}
