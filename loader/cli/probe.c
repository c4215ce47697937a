/* probe.c -- profile an interpreter on disk by asking it once.
 *
 * The interpreter runs a short script (no site import) that prints its
 * version, build flags, SOABI, extension suffixes and the ELF file that
 * defines the C API in its own process (libpython when mapped, else the
 * executable), as KEY=VALUE lines.  The exports are then read from that
 * file with the bounded reader: nothing is executed to learn them.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2 */
#endif
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char probe_script[] =
    "import os, struct, sys, sysconfig\n"
    "import importlib.machinery as m\n"
    "g = sysconfig.get_config_var\n"
    "print('hexversion=%d' % sys.hexversion)\n"
    "print('freethreaded=%d' % bool(g('Py_GIL_DISABLED')))\n"
    "print('debug=%d' % bool(g('Py_DEBUG') or hasattr(sys, 'gettotalrefcount')))\n"
    "print('trace_refs=%d' % bool(g('Py_TRACE_REFS') or hasattr(sys, 'getobjects')))\n"
    "print('pointer_size=%d' % struct.calcsize('P'))\n"
    "print('soabi=%s' % (g('SOABI') or ''))\n"
    "print('multiarch=%s' % (g('MULTIARCH') or getattr(sys.implementation, '_multiarch', '')))\n"
    "for s in m.EXTENSION_SUFFIXES: print('suffix=%s' % s)\n"
    "paths = []\n"
    "with open('/proc/self/maps') as f:\n"
    "    for line in f:\n"
    "        part = line.split(None, 5)\n"
    "        if len(part) == 6 and part[5].startswith('/'):\n"
    "            paths.append(part[5].rstrip('\\n'))\n"
    "names = [(os.path.basename(p), p) for p in paths]\n"
    "lib = [p for b, p in names if b.startswith('libpython3')]\n"
    "exe = [p for b, p in names if b.startswith('python') and '.so' not in b]\n"
    "print('api_file=%s' % (lib or exe or [os.path.realpath('/proc/self/exe')])[0])\n";

#define PROBE_OUTPUT_MAX 16384

static int probe_fail(abigate_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int probe_fail(abigate_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    err->code = ABIGATE_E_PROBE;
    err->offset = -1;
    return ABIGATE_E_PROBE;
}

static int run_probe(const char *python, char *out, size_t cap, abigate_error *err)
{
    int fds[2];
    /* close-on-exec: another thread's spawn (the CLI also runs inside a
     * user's Python process) must not inherit the pipe; dup2 onto the
     * child's stdout clears the flag there */
    if (pipe2(fds, O_CLOEXEC) != 0)
        goto fail_errno;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    /* -S: no site (faster, no .pth side effects).  Not -E/-I: launchers of
     * relocated interpreters pass PYTHONHOME. */
    char *argv[] = {(char *)python, "-S", "-c", (char *)probe_script, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, python, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        errno = rc;
        goto fail_errno;
    }
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fds[0], out + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || (len += (size_t)n) >= cap - 1)
            break;
    }
    out[len] = '\0';
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            goto fail_errno;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return probe_fail(err, "%s: the probe script failed (%s %d)", python,
                                 WIFEXITED(status) ? "exit status" : "signal",
                                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    return ABIGATE_OK;
fail_errno:
    return probe_fail(err, "%s: cannot run it: %s", python, strerror(errno));
}

int probe_python(const char *python, abigate_profile *p, abigate_error *err)
{
    char out[PROBE_OUTPUT_MAX]; /* reentrant: no static state */
    char *save = NULL;
    int rc = run_probe(python, out, sizeof out, err);
    if (rc)
        return rc;

    unsigned long hex = 0, ptr = 0;
    unsigned flags = 0;
    char soabi[ABIGATE_PROFILE_TEXT_MAX] = "", multiarch[ABIGATE_PROFILE_TEXT_MAX] = "";
    char api_file[ABIGATE_PROFILE_PATH_MAX] = "";
    char suffixes[ABIGATE_PROFILE_MAX_SUFFIXES][ABIGATE_PROFILE_TEXT_MAX];
    unsigned n_suffixes = 0;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        const char *v = eq + 1;
        if (!strcmp(line, "hexversion"))
            hex = strtoul(v, NULL, 10);
        else if (!strcmp(line, "pointer_size"))
            ptr = strtoul(v, NULL, 10);
        else if (!strcmp(line, "freethreaded") && *v == '1')
            flags |= ABIGATE_PROFILE_FREETHREADED;
        else if (!strcmp(line, "debug") && *v == '1')
            flags |= ABIGATE_PROFILE_DEBUG;
        else if (!strcmp(line, "trace_refs") && *v == '1')
            flags |= ABIGATE_PROFILE_TRACE_REFS;
        else if (!strcmp(line, "soabi"))
            snprintf(soabi, sizeof soabi, "%s", v);
        else if (!strcmp(line, "multiarch"))
            snprintf(multiarch, sizeof multiarch, "%s", v);
        else if (!strcmp(line, "api_file"))
            snprintf(api_file, sizeof api_file, "%s", v);
        else if (!strcmp(line, "suffix") && n_suffixes < ABIGATE_PROFILE_MAX_SUFFIXES)
            snprintf(suffixes[n_suffixes++], sizeof suffixes[0], "%s", v);
    }
    abigate_profile tmp;
    if (hex > 0xffffffffUL || abigate_profile_init(&tmp, (uint32_t)hex, flags) != ABIGATE_OK)
        return probe_fail(err, "%s: not a CPython 3 interpreter (hexversion 0x%lx)",
                                 python, hex);
    tmp.source = ABIGATE_PROFILE_FROM_PYTHON;
    snprintf(tmp.origin, sizeof tmp.origin, "%s", python);
    if (ptr) {
        tmp.pointer_size = (unsigned)ptr;
        tmp.elf_class = ptr == 8 ? 64 : 32;
    }
    memcpy(tmp.soabi, soabi, sizeof soabi);
    memcpy(tmp.multiarch, multiarch, sizeof multiarch);
    if (n_suffixes) {
        memcpy(tmp.suffixes, suffixes, sizeof suffixes);
        tmp.n_suffixes = n_suffixes;
    }
    if (!api_file[0])
        return probe_fail(err, "%s: could not find the file defining its C API", python);
    snprintf(tmp.exports_path, sizeof tmp.exports_path, "%s", api_file);
    *p = tmp;
    return ABIGATE_OK;
}
