/* profile.c -- what an interpreter is: version, build flags, platform,
 * extension suffixes, and (when known) the Py symbols it exports.
 *
 * Three sources (docs/POLICY.md, "Interpreter profiles"):
 *   - a spec string ("3.13t", "3.15.0b1"): abigate_profile_parse;
 *   - the interpreter in this process: abigate_profile_from_process;
 *   - an interpreter on disk: the CLI asks it once (loader/cli/probe.c) and
 *     then calls abigate_profile_init + abigate_profile_load_exports.
 */
#include "internal.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- the host */

#if defined(__x86_64__) && defined(__ILP32__)
#define HOST_MACHINE 62
#define HOST_ARCH "x86_64"
#define HOST_ABI "gnux32"
#elif defined(__x86_64__)
#define HOST_MACHINE 62
#define HOST_ARCH "x86_64"
#elif defined(__i386__)
#define HOST_MACHINE 3
#define HOST_ARCH "i386"
#elif defined(__aarch64__)
#define HOST_MACHINE 183
#define HOST_ARCH "aarch64"
#elif defined(__arm__)
#define HOST_MACHINE 40
#define HOST_ARCH "arm"
#if defined(__ARM_PCS_VFP)
#define HOST_ABI "gnueabihf"
#else
#define HOST_ABI "gnueabi"
#endif
#elif defined(__powerpc64__)
#define HOST_MACHINE 21
#if defined(__LITTLE_ENDIAN__)
#define HOST_ARCH "powerpc64le"
#else
#define HOST_ARCH "powerpc64"
#endif
#elif defined(__s390x__)
#define HOST_MACHINE 22
#define HOST_ARCH "s390x"
#elif defined(__riscv) && __riscv_xlen == 64
#define HOST_MACHINE 243
#define HOST_ARCH "riscv64"
#else
#define HOST_MACHINE 0
#define HOST_ARCH ""
#endif
#ifndef HOST_ABI
#define HOST_ABI "gnu"
#endif

unsigned abigate__host_machine(void)
{
    return HOST_MACHINE;
}

static void host_multiarch(char *buf, size_t len)
{
#if defined(__linux__) && defined(__GLIBC__)
    if (HOST_ARCH[0]) {
        snprintf(buf, len, "%s-linux-%s", HOST_ARCH, HOST_ABI);
        return;
    }
#endif
    if (len)
        buf[0] = '\0';
}

/* ---------------------------------------------------------------- init */

static unsigned ver_major(uint32_t hex) { return hex >> 24 & 0xff; }
static unsigned ver_minor(uint32_t hex) { return hex >> 16 & 0xff; }

static void add_suffix(abigate_profile *p, const char *fmt, const char *a)
    ABIGATE__PRINTF(2, 0);
static void add_suffix(abigate_profile *p, const char *fmt, const char *a)
{
    char tmp[2 * ABIGATE_PROFILE_TEXT_MAX];
    if (p->n_suffixes >= ABIGATE_PROFILE_MAX_SUFFIXES)
        return;
    snprintf(tmp, sizeof tmp, fmt, a);
    abigate__copy_clamped(p->suffixes[p->n_suffixes++], sizeof p->suffixes[0], tmp, sizeof tmp);
}

int abigate__profile_init(abigate_profile *p, uint32_t hexversion, unsigned flags)
{
    if (!p || ver_major(hexversion) != 3 || (flags & ~ABIGATE_PROFILE_KNOWN))
        return ABIGATE_E_INVALID_ARG;
    memset(p, 0, sizeof *p);
    p->hexversion = hexversion;
    p->flags = flags;
    p->pointer_size = (unsigned)sizeof(void *);
    p->elf_class = sizeof(void *) == 8 ? 64 : 32;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    p->big_endian = 1;
#endif
    p->machine = HOST_MACHINE;
    p->source = ABIGATE_PROFILE_FROM_BUILD;
    host_multiarch(p->multiarch, sizeof p->multiarch);

    /* SOABI as CPython's configure spells it: cpython-XY[t][d][m]-MULTIARCH
     * ('m' is pymalloc, part of the ABI tag below 3.8). */
    unsigned minor = ver_minor(hexversion);
    int ft = (flags & ABIGATE_PROFILE_FREETHREADED) != 0;
    snprintf(p->soabi, sizeof p->soabi, "cpython-3%u%s%s%s%s%.48s", minor, ft ? "t" : "",
             flags & ABIGATE_PROFILE_DEBUG ? "d" : "", minor < 8 ? "m" : "",
             p->multiarch[0] ? "-" : "", p->multiarch);

    /* importlib.machinery.EXTENSION_SUFFIXES of an upstream build
     * (Python/dynload_shlib.c): the SOABI suffix; on debug builds from 3.8
     * the release SOABI suffix (ALT_SOABI); ".abi3.so", which 3.13t
     * and 3.14t load too (the crash abigate exists for), but free-threaded
     * 3.15+ does not; ".abi3t.so" from 3.15; then ".so". */
    add_suffix(p, ".%s.so", p->soabi);
    if ((flags & ABIGATE_PROFILE_DEBUG) && minor >= 8) {
        /* ALT_SOABI: from 3.8 a debug build also loads release extensions */
        char alt[ABIGATE_PROFILE_TEXT_MAX];
        snprintf(alt, sizeof alt, "cpython-3%u%s%s%.48s", minor, ft ? "t" : "",
                 p->multiarch[0] ? "-" : "", p->multiarch);
        add_suffix(p, ".%s.so", alt);
    }
    if (!ft || minor < 15)
        add_suffix(p, "%s", ".abi3.so");
    if (minor >= 15)
        add_suffix(p, "%s", ".abi3t.so");
    add_suffix(p, "%s", ".so");
    return ABIGATE_OK;
}

/* ---------------------------------------------------------------- spec strings */

static int parse_uint(const char **s, unsigned max, unsigned *out)
{
    const char *q = *s;
    unsigned v = 0;
    if (*q < '0' || *q > '9')
        return 0;
    while (*q >= '0' && *q <= '9') {
        v = v * 10 + (unsigned)(*q - '0');
        if (v > max)
            return 0;
        q++;
    }
    *s = q;
    *out = v;
    return 1;
}

/* A spec's platform part, as a wheel's platform tag spells it: the format,
 * machine and class of that platform's interpreters, the multiarch (or
 * platform tag) its file names carry, and (macOS) the oldest version. */
struct platform {
    unsigned format, machine, elf_class, big_endian;
    char multiarch[ABIGATE_PROFILE_TEXT_MAX];
    uint32_t min_os;
};

static const struct {
    const char *arch, *multiarch;
    unsigned machine, elf_class, big_endian;
} LINUX_ARCHES[] = {
    {"x86_64", "x86_64-linux-gnu", 62, 64, 0},      {"i686", "i386-linux-gnu", 3, 32, 0},
    {"aarch64", "aarch64-linux-gnu", 183, 64, 0},   {"armv7l", "arm-linux-gnueabihf", 40, 32, 0},
    {"ppc64le", "powerpc64le-linux-gnu", 21, 64, 0}, {"ppc64", "powerpc64-linux-gnu", 21, 64, 1},
    {"s390x", "s390x-linux-gnu", 22, 64, 1},         {"riscv64", "riscv64-linux-gnu", 243, 64, 0},
};

static int parse_platform(const char *s, struct platform *pl)
{
    memset(pl, 0, sizeof *pl);
    if (!strcmp(s, "win_amd64") || !strcmp(s, "win32") || !strcmp(s, "win_arm64")) {
        pl->format = ABIGATE_FORMAT_PE;
        pl->machine = s[4] == 'a' && s[5] == 'm' ? 62 : s[3] == '3' ? 3 : 183;
        pl->elf_class = s[3] == '3' ? 32 : 64;
        snprintf(pl->multiarch, sizeof pl->multiarch, "%s", s);
        return 1;
    }
    unsigned major, minor;
    int n = 0;
    if (sscanf(s, "macosx_%u_%u_%n", &major, &minor, &n) == 2 && n > 0 && major < 256 &&
        minor < 256) {
        const char *arch = s + n;
        pl->format = ABIGATE_FORMAT_MACHO;
        pl->elf_class = 64;
        if (!strcmp(arch, "x86_64"))
            pl->machine = 62;
        else if (!strcmp(arch, "arm64"))
            pl->machine = 183;
        else if (strcmp(arch, "universal2"))
            return 0;
        pl->min_os = major << 16 | minor << 8;
        snprintf(pl->multiarch, sizeof pl->multiarch, "darwin");
        return 1;
    }
    const char *arch = NULL;
    if (!strncmp(s, "linux_", 6))
        arch = s + 6;
    else if (!strncmp(s, "manylinux", 9) || !strncmp(s, "musllinux", 9))
        for (size_t i = 0; i < sizeof LINUX_ARCHES / sizeof LINUX_ARCHES[0]; i++) {
            size_t n1 = strlen(s), k = strlen(LINUX_ARCHES[i].arch);
            if (n1 > k && s[n1 - k - 1] == '_' && !strcmp(s + n1 - k, LINUX_ARCHES[i].arch))
                arch = s + n1 - k;
        }
    for (size_t i = 0; arch && i < sizeof LINUX_ARCHES / sizeof LINUX_ARCHES[0]; i++)
        if (!strcmp(arch, LINUX_ARCHES[i].arch)) {
            pl->format = ABIGATE_FORMAT_ELF;
            pl->machine = LINUX_ARCHES[i].machine;
            pl->elf_class = LINUX_ARCHES[i].elf_class;
            pl->big_endian = LINUX_ARCHES[i].big_endian;
            snprintf(pl->multiarch, sizeof pl->multiarch, "%s", LINUX_ARCHES[i].multiarch);
            if (!strncmp(s, "musllinux", 9))
                memcpy(strstr(pl->multiarch, "-gnu"), "-musl", 6);
            return 1;
        }
    return 0;
}

/* The profile of `pl`'s interpreters: its SOABI and suffixes as CPython
 * spells them there (importlib.machinery.EXTENSION_SUFFIXES of the
 * python.org builds). */
static void set_platform(abigate_profile *p, const struct platform *pl)
{
    unsigned minor = ver_minor(p->hexversion);
    int ft = (p->flags & ABIGATE_PROFILE_FREETHREADED) != 0;
    int debug = (p->flags & ABIGATE_PROFILE_DEBUG) != 0;
    p->format = pl->format;
    p->machine = pl->machine;
    p->elf_class = pl->elf_class;
    p->pointer_size = pl->elf_class / 8;
    p->big_endian = pl->big_endian;
    memcpy(p->multiarch, pl->multiarch, sizeof p->multiarch);
    p->min_os = pl->min_os;
    if (pl->format == ABIGATE_FORMAT_ELF) {
        abigate_profile tmp = *p;
        abigate__profile_init(&tmp, p->hexversion, p->flags);
        snprintf(p->soabi, sizeof p->soabi, "cpython-3%u%s%s%s-%.48s", minor, ft ? "t" : "",
                 debug ? "d" : "", minor < 8 ? "m" : "", p->multiarch);
        p->n_suffixes = 0;
        add_suffix(p, ".%s.so", p->soabi);
        for (unsigned i = 1; i < tmp.n_suffixes; i++)
            if (strncmp(tmp.suffixes[i], ".cpython-", 9))
                add_suffix(p, "%s", tmp.suffixes[i]);
        return;
    }
    p->n_suffixes = 0;
    if (pl->format == ABIGATE_FORMAT_PE) {
        /* Windows: cp313t-win_amd64; a debug build's suffixes start "_d" */
        snprintf(p->soabi, sizeof p->soabi, "cp3%u%s-%.48s", minor, ft ? "t" : "", p->multiarch);
        add_suffix(p, debug ? "_d.%s.pyd" : ".%s.pyd", p->soabi);
        add_suffix(p, "%s", debug ? "_d.pyd" : ".pyd");
        return;
    }
    snprintf(p->soabi, sizeof p->soabi, "cpython-3%u%s%s-darwin", minor, ft ? "t" : "",
             debug ? "d" : "");
    add_suffix(p, ".%s.so", p->soabi);
    if (!ft || minor < 15)
        add_suffix(p, "%s", ".abi3.so");
    if (minor >= 15)
        add_suffix(p, "%s", ".abi3t.so");
    add_suffix(p, "%s", ".so");
}

int abigate__profile_parse(abigate_profile *p, const char *spec, abigate_error *err)
{
    if (!p || !spec)
        return abigate__fail(err, ABIGATE_E_INVALID_ARG, -1, NULL);
    const char *s = spec;
    unsigned major, minor, micro = 0, level = 0xf, serial = 0, flags = 0;
    if (!parse_uint(&s, 255, &major) || major != 3 || *s++ != '.' || !parse_uint(&s, 255, &minor))
        goto bad;
    if (*s == '.') {
        s++;
        if (!parse_uint(&s, 255, &micro))
            goto bad;
        if (*s == 'a' || *s == 'b' || (s[0] == 'r' && s[1] == 'c')) {
            level = *s == 'a' ? 0xa : *s == 'b' ? 0xb : 0xc;
            s += level == 0xc ? 2 : 1;
            if (!parse_uint(&s, 15, &serial))
                goto bad;
        }
    }
    struct platform pl;
    int have_platform = 0;
    const char *dash = strchr(s, '-');
    if (dash) {
        if (!parse_platform(dash + 1, &pl))
            return abigate__fail(err, ABIGATE_E_BAD_SPEC, -1,
                                 "'%.64s': unknown platform '%.40s' (want a wheel's platform tag: "
                                 "win_amd64, win32, win_arm64, macosx_11_0_arm64, "
                                 "macosx_10_13_x86_64, macosx_11_0_universal2, linux_x86_64, "
                                 "manylinux_2_17_aarch64, ...)",
                                 spec, dash + 1);
        have_platform = 1;
    }
    for (; *s && s != dash; s++) {
        unsigned f = *s == 't' ? ABIGATE_PROFILE_FREETHREADED
                   : *s == 'd' ? ABIGATE_PROFILE_DEBUG : 0;
        if (!f || (flags & f))
            goto bad;
        flags |= f;
    }
    if ((flags & ABIGATE_PROFILE_FREETHREADED) && minor < 13)
        return abigate__fail(err, ABIGATE_E_BAD_SPEC, -1,
                             "%s: free-threaded CPython exists from 3.13 on", spec);
    abigate_profile tmp;
    uint32_t hex = (uint32_t)(major << 24 | minor << 16 | micro << 8 | level << 4 | serial);
    if (abigate_profile_init(&tmp, hex, flags) != ABIGATE_OK)
        goto bad;
    if (have_platform)
        set_platform(&tmp, &pl);
    tmp.source = ABIGATE_PROFILE_FROM_SPEC;
    abigate__copy_clamped(tmp.origin, sizeof tmp.origin, spec, strlen(spec));
    *p = tmp;
    abigate__ok(err);
    return ABIGATE_OK;
bad:
    return abigate__fail(err, ABIGATE_E_BAD_SPEC, -1,
                         "'%.64s': want MAJOR.MINOR[.MICRO[{a|b|rc}N]][t][d][-PLATFORM], e.g. 3.13t, "
                         "3.13t-win_amd64", spec);
}

char *abigate__profile_name(const abigate_profile *p, char *buf, size_t len)
{
    char v[24];
    if (!buf || !len)
        return buf;
    if (!p) {
        snprintf(buf, len, "?");
        return buf;
    }
    snprintf(buf, len, "%s%s%s%s%.24s", abigate_format_version(p->hexversion, v, sizeof v),
             p->flags & ABIGATE_PROFILE_FREETHREADED ? "t" : "",
             p->flags & ABIGATE_PROFILE_DEBUG ? "d" : "",
             p->format == ABIGATE_FORMAT_ELF ? "" : "-",
             p->format == ABIGATE_FORMAT_PE ? p->multiarch
             : p->format == ABIGATE_FORMAT_MACHO ? "macos" : "");
    return buf;
}

/* ---------------------------------------------------------------- exports */

/* Symbols that only builds with a given flag define (checked against the
 * registry's interpreters by tests/integration/profile.py). */
static unsigned flags_from_exports(const abigate_symbols *x)
{
    unsigned f = 0;
    if (abigate_symbols_contains(x, "_Py_MergeZeroLocalRefcount"))
        f |= ABIGATE_PROFILE_FREETHREADED;       /* 3.13+: Py_DECREF on free-threaded builds */
    if (abigate_symbols_contains(x, "_Py_NegativeRefcount"))
        f |= ABIGATE_PROFILE_DEBUG;              /* Py_REF_DEBUG, implied by Py_DEBUG */
    if (abigate_symbols_contains(x, "_Py_PrintReferences"))
        f |= ABIGATE_PROFILE_TRACE_REFS;
    return f;
}

int abigate__profile_load_exports(abigate_profile *p, const char *path,
                                             int derive_flags, abigate_symbols *exports,
                                             abigate_error *err)
{
    abigate_file_info fi;
    if (!p || !path || !exports)
        return abigate__fail(err, ABIGATE_E_INVALID_ARG, -1, NULL);
    int rc = abigate_read_path(path, ABIGATE_READ_EXPORTS, &fi, exports, err);
    if (rc)
        return rc;
    abigate_symbols_index(exports);
    if (!abigate_symbols_contains(exports, "Py_Initialize"))
        return abigate__fail(err, ABIGATE_E_NOT_INTERPRETER, -1,
                             "%s: exports no Py_Initialize, not a CPython interpreter", path);
    if (derive_flags)
        p->flags = (p->flags & ~ABIGATE_PROFILE_KNOWN) | flags_from_exports(exports);
    p->exports = exports;
    abigate__copy_clamped(p->exports_path, sizeof p->exports_path, path, strlen(path));
    return ABIGATE_OK;
}

/* ---------------------------------------------------------------- this process */

/* "3.13.1+ (main, ...)" -> 0x030d01f0; 0 when it does not parse. */
static uint32_t parse_version_text(const char *text)
{
    abigate_profile tmp;
    char spec[32];
    size_t n = 0;
    while (n + 1 < sizeof spec && text[n] && text[n] != ' ' && text[n] != '+')
        spec[n] = text[n], n++;
    spec[n] = '\0';
    return abigate_profile_parse(&tmp, spec, NULL) == ABIGATE_OK ? tmp.hexversion : 0;
}

/* The file mapped at `addr`, from /proc/self/maps.  dladdr() would name the
 * main program by argv[0], which is wrong for interpreters started through
 * a launcher or an explicit ld.so. */
static int mapped_file_of(const void *addr, char *out, size_t cap)
{
    FILE *f = fopen("/proc/self/maps", "re");
    char line[ABIGATE_PROFILE_PATH_MAX + 128];
    int found = 0;
    if (!f)
        return 0;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        int at = 0;
        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &lo, &hi, &at) < 2 || !at)
            continue;
        if ((uintptr_t)addr < lo || (uintptr_t)addr >= hi || line[at] != '/')
            continue;
        line[strcspn(line, "\n")] = '\0';
        found = !abigate__copy_clamped(out, cap, line + at, strlen(line + at));
    }
    fclose(f);
    return found;
}

int abigate__profile_from_process(abigate_profile *p, abigate_symbols *exports,
                                             abigate_error *err)
{
    if (!p)
        return abigate__fail(err, ABIGATE_E_INVALID_ARG, -1, NULL);
    uint32_t hex = 0;
    void *anchor = dlsym(RTLD_DEFAULT, "Py_Version"); /* const unsigned long, 3.11+ */
    if (anchor) {
        hex = (uint32_t)*(const unsigned long *)anchor;
    } else {
        const char *(*get_version)(void);
        *(void **)&get_version = dlsym(RTLD_DEFAULT, "Py_GetVersion");
        anchor = *(void **)&get_version;
        if (get_version)
            hex = parse_version_text(get_version());
    }
    if (!anchor || ver_major(hex) != 3)
        return abigate__fail(err, ABIGATE_E_NO_INTERPRETER, -1,
                             "no Py_Version or Py_GetVersion in this process");
    abigate_profile tmp;
    abigate_profile_init(&tmp, hex, 0);
    tmp.source = ABIGATE_PROFILE_FROM_PROCESS;
    snprintf(tmp.origin, sizeof tmp.origin, "this process");
    if (exports) {
        char path[ABIGATE_PROFILE_PATH_MAX];
        if (!mapped_file_of(anchor, path, sizeof path))
            snprintf(path, sizeof path, "/proc/self/exe");
        int rc = abigate_profile_load_exports(&tmp, path, 1, exports, err);
        if (rc)
            return rc;
        /* The suffixes and SOABI follow the flags just learned. */
        abigate_profile fixed;
        abigate_profile_init(&fixed, hex, tmp.flags);
        memcpy(tmp.soabi, fixed.soabi, sizeof tmp.soabi);
        memcpy(tmp.suffixes, fixed.suffixes, sizeof tmp.suffixes);
        tmp.n_suffixes = fixed.n_suffixes;
    }
    *p = tmp;
    abigate__ok(err);
    return ABIGATE_OK;
}
