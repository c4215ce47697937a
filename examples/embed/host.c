/* host.c -- a plugin host that embeds CPython and loads every extension
 * module of a plugin directory through abigate (docs/EMBEDDING.md).
 *
 *   host [--threads] [--mode MODE] PLUGIN_DIR
 *   host --race TARGET GOOD BAD ROUNDS
 *
 * Each *.so of PLUGIN_DIR is loaded with abigate_gate_dlopen: the file is
 * opened once, judged on that descriptor (nothing of it runs), and only if
 * it is acceptable dlopen()ed through that same descriptor.  The host then
 * calls the plugin's init hook PyInit_<name> and its hello() function.
 * Refusals are printed with abigate's own text; the process never loads a
 * refused file.
 *
 *   --threads  each plugin is judged and loaded by its own thread, all at
 *              once through one gate; the main thread then initialises them
 *   --mode     off, warn, strict (the default) or require; without it,
 *              PYTHONABIGATE is honoured as CPython honours it
 *   --race     TARGET is replaced by GOOD and BAD in turn by another thread
 *              while the host loads TARGET at least ROUNDS times (and on
 *              until it has met both): every load must be GOOD (its
 *              plugin_build string), never BAD
 *
 * Output, one line per plugin: "loaded NAME: <hello()>", "refused: <text>",
 * "warning: <text>" or "failed: <text>"; then "judged N, symbols read N,
 * fds before N after N".  Exit status 0, or 1 when the gate itself failed.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <abigate/abigate.h>

#define MAX_PLUGINS 64

struct plugin {
    char path[4096];
    char name[128];         /* the module name: the file name up to its first '.' */
    void *handle;           /* NULL: refused or failed */
    abigate_verdict verdict;
    abigate_error error;
};

static abigate_gate *gate;

/* The gate for this process: the interpreter's own flags (this host was
 * compiled against its headers) and the mode. */
static int make_gate(const char *mode)
{
    abigate_gate_config cfg;
    abigate_gate_config_init(&cfg);
    abigate_gate_config_python(&cfg); /* the build flags of the headers compiled against */
    abigate_mode_choice choice;
    abigate_error err;
    /* --mode counts like -X abigate; else PYTHONABIGATE; else strict */
    if (abigate_mode_resolve(mode != NULL, mode, getenv("PYTHONABIGATE"), 0, "strict", &choice,
                             &err)) {
        fprintf(stderr, "host: %s\n", err.message);
        return -1;
    }
    if (choice.warning[0])
        fprintf(stderr, "%s\n", choice.warning);
    cfg.policy = choice.policy;
    if (!(gate = abigate_gate_new(&cfg, &err))) {
        fprintf(stderr, "host: %s\n", err.message);
        return -1;
    }
    return 0;
}

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n - 1; /* the directory stream's own */
}

static void *load(void *arg)
{
    struct plugin *p = arg;
    p->handle = abigate_gate_dlopen(gate, p->path, RTLD_NOW | RTLD_LOCAL, NULL, &p->verdict,
                                    &p->error);
    return NULL;
}

/* PyInit_<name>, then hello(): what the host does with a loaded plugin. */
static void start(struct plugin *p)
{
    char text[2048], sym[160];
    if (!p->handle && p->verdict.warning) { /* warn: the warning, then the failed load */
        abigate_gate_format(ABIGATE_TEXT_WARNING, NULL, p->name, p->path, &p->verdict, NULL, text,
                            sizeof text);
        printf("warning: %s\n", text);
    }
    if (!p->handle) {
        int gate_failed = p->error.code && p->error.code != ABIGATE_E_REFUSED &&
                          p->error.code != ABIGATE_E_OPEN &&
                          p->error.code != ABIGATE_E_DLOPEN && p->error.code != ABIGATE_E_IS_DIRECTORY;
        abigate_gate_format(ABIGATE_TEXT_REFUSAL, NULL, p->name, p->path, &p->verdict, &p->error,
                            text, sizeof text);
        printf("%s: %s\n", gate_failed ? "error" : p->verdict.kind == ABIGATE_REFUSE ? "refused"
                                                                                      : "failed",
               text);
        return;
    }
    if (p->verdict.warning) {
        abigate_gate_format(ABIGATE_TEXT_WARNING, NULL, p->name, p->path, &p->verdict, NULL, text,
                            sizeof text);
        printf("warning: %s\n", text);
    }
    snprintf(sym, sizeof sym, "PyInit_%s", p->name);
    PyObject *(*init)(void);
    *(void **)&init = dlsym(p->handle, sym);
    if (!init) {
        printf("failed: %s has no %s\n", p->path, sym);
        return;
    }
    PyObject *m = init();
    if (m && PyObject_TypeCheck(m, &PyModuleDef_Type)) { /* multi-phase */
        PyObject *machinery = PyImport_ImportModule("importlib.machinery");
        PyObject *spec = machinery ? PyObject_CallMethod(machinery, "ModuleSpec", "ssO", p->name,
                                                         NULL, Py_None)
                                   : NULL;
        Py_XDECREF(machinery);
        PyModuleDef *def = (PyModuleDef *)m;
        m = spec ? PyModule_FromDefAndSpec(def, spec) : NULL;
        Py_XDECREF(spec);
        if (m && PyModule_ExecDef(m, def) < 0)
            Py_CLEAR(m);
    }
    PyObject *r = m ? PyObject_CallMethod(m, "hello", NULL) : NULL;
    if (!r) {
        printf("failed: %s: ", p->name);
        fflush(stdout);
        PyErr_Print();
    } else {
        printf("loaded %s: %s\n", p->name, PyUnicode_AsUTF8(r));
    }
    Py_XDECREF(r);
    Py_XDECREF(m);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct plugin *)a)->path, ((const struct plugin *)b)->path);
}

static int load_directory(const char *dir, int threads)
{
    static struct plugin plugins[MAX_PLUGINS];
    int n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        return 1;
    }
    for (struct dirent *e; (e = readdir(d)) && n < MAX_PLUGINS;) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".so"))
            continue;
        snprintf(plugins[n].path, sizeof plugins[n].path, "%s/%s", dir, e->d_name);
        snprintf(plugins[n].name, sizeof plugins[n].name, "%.*s",
                 (int)strcspn(e->d_name, "."), e->d_name);
        n++;
    }
    closedir(d);
    qsort(plugins, (size_t)n, sizeof *plugins, by_name);
    int before = count_fds();
    if (threads) {
        pthread_t t[MAX_PLUGINS];
        Py_BEGIN_ALLOW_THREADS
        for (int i = 0; i < n; i++)
            if (pthread_create(&t[i], NULL, load, &plugins[i]))
                load(&plugins[i]), t[i] = 0;
        for (int i = 0; i < n; i++)
            if (t[i])
                pthread_join(t[i], NULL);
        Py_END_ALLOW_THREADS
    } else {
        for (int i = 0; i < n; i++)
            load(&plugins[i]);
    }
    int after = count_fds();
    int status = 0;
    for (int i = 0; i < n; i++) {
        start(&plugins[i]);
        if (!plugins[i].handle && plugins[i].error.code == ABIGATE_E_PROFILE)
            status = 1;
    }
    abigate_gate_stats s;
    abigate_gate_stats_get(gate, &s);
    printf("judged %llu, symbols read %llu, fds before %d after %d\n",
           (unsigned long long)s.judged, (unsigned long long)s.symbols_read, before, after);
    return status;
}

/* --race: a thread renames GOOD and BAD onto TARGET in turn (each a hard
 * link, so both stay on disk) while this thread loads TARGET. */
struct race {
    const char *target, *good, *bad;
    int stop, swaps; /* atomics */
};

static void *swapper(void *arg)
{
    struct race *r = arg;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.swap", r->target);
    for (unsigned i = 0; !__atomic_load_n(&r->stop, __ATOMIC_RELAXED); i++) {
        unlink(tmp);
        if (link(i & 1 ? r->bad : r->good, tmp) == 0 && rename(tmp, r->target) == 0)
            __atomic_add_fetch(&r->swaps, 1, __ATOMIC_RELAXED);
    }
    unlink(tmp);
    return NULL;
}

static int race(const char *target, const char *good, const char *bad, int rounds)
{
    struct race r = {target, good, bad, 0, 0};
    pthread_t t;
    unlink(target); /* start from GOOD */
    if (link(good, target)) {
        perror(target);
        return 1;
    }
    pthread_create(&t, NULL, swapper, &r);
    while (__atomic_load_n(&r.swaps, __ATOMIC_RELAXED) < 2) /* the swapper is running */
        sched_yield();
    int loaded_good = 0, loaded_bad = 0, refused = 0, other = 0;
    int before = count_fds();
    /* ROUNDS loads at least, and on until both files were met (a busy
     * machine can starve the swapper for a while), up to 100 x ROUNDS */
    int i = 0;
    for (; i < rounds || ((!loaded_good || !refused) && i < 100 * rounds); i++) {
        abigate_verdict v;
        abigate_error err;
        void *h = abigate_gate_dlopen(gate, target, RTLD_NOW | RTLD_LOCAL, NULL, &v, &err);
        if (!h) {
            refused += v.kind == ABIGATE_REFUSE;
            other += v.kind != ABIGATE_REFUSE;
            continue;
        }
        const char *build = dlsym(h, "plugin_build");
        if (build && !strcmp(build, "good"))
            loaded_good++;
        else
            loaded_bad++;
        dlclose(h);
    }
    __atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
    pthread_join(t, NULL);
    printf("race: %d rounds, loaded good %d, loaded bad %d, refused %d, other %d, "
           "fds before %d after %d\n",
           i, loaded_good, loaded_bad, refused, other, before, count_fds());
    return loaded_bad != 0;
}

int main(int argc, char **argv)
{
    const char *mode = NULL;
    int threads = 0, a = 1;
    for (; a < argc && argv[a][0] == '-'; a++) {
        if (!strcmp(argv[a], "--threads"))
            threads = 1;
        else if (!strcmp(argv[a], "--mode") && a + 1 < argc)
            mode = argv[++a];
        else if (!strcmp(argv[a], "--race") && a + 4 < argc)
            break;
        else
            goto usage;
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* each line out before a plugin can crash the host */
    Py_InitializeEx(0);
    if (make_gate(mode))
        return 1;
    int status;
    if (a < argc && !strcmp(argv[a], "--race"))
        status = race(argv[a + 1], argv[a + 2], argv[a + 3], atoi(argv[a + 4]));
    else if (a + 1 == argc)
        status = load_directory(argv[a], threads);
    else
        goto usage;
    abigate_gate_free(gate);
    if (Py_FinalizeEx() < 0)
        status = 1;
    return status;
usage:
    fprintf(stderr, "usage: host [--threads] [--mode MODE] PLUGIN_DIR\n"
                    "       host --race TARGET GOOD BAD ROUNDS\n");
    return 2;
}
