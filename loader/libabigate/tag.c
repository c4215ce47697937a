/* tag.c -- the file-name tag of an extension module.
 *
 * CPython finds extensions by suffix (importlib.machinery.EXTENSION_SUFFIXES):
 *   name.cpython-313t-x86_64-linux-gnu.so   version-specific, ABI flags t/d/m
 *   name.abi3.so / name.abi3t.so            stable ABI (abi3t: 3.15+)
 *   name.abi3-x86_64-linux-gnu.so           multiarch spelling of abi3
 *   name.so                                 bare: any CPython 3 loads it
 *   name.cp313t-win_amd64.pyd, name.pyd     Windows (and _d.… for debug builds)
 * The module name is everything before the first '.', the tag everything
 * between that dot and the final ".so".  The name is a claim, not a fact:
 * this parser reports what it says and nothing more.
 */
#include "internal.h"

#include <ctype.h>
#include <string.h>

/* "x86_64-linux-gnu": the multiarch part after the first '-' of a tag. */
static void split_platform(const char *tag, abigate_tag *out, const char **rest_end)
{
    const char *dash = strchr(tag, '-');
    if (dash) {
        abigate__copy_clamped(out->platform, sizeof out->platform, dash + 1, strlen(dash + 1));
        *rest_end = dash;
    } else {
        *rest_end = tag + strlen(tag);
    }
}

/* "cpython-313td": major 3, minor 13, flags t, d.  Returns 1 if it parses. */
static int parse_cpython(const char *p, const char *end, abigate_tag *out)
{
    if (end - p < 2 || p[0] != '3' || !isdigit((unsigned char)p[1]))
        return 0;
    out->major = 3;
    unsigned minor = 0;
    const char *q = p + 1;
    while (q < end && isdigit((unsigned char)*q) && minor < 1000)
        minor = minor * 10 + (unsigned)(*q++ - '0');
    if (q < end && isdigit((unsigned char)*q))
        return 0;
    out->minor = minor;
    for (; q < end; q++) {
        switch (*q) {
        case 't': out->free_threaded = 1; break;
        case 'd': out->debug = 1; break;
        case 'm': out->pymalloc = 1; break;
        default: return 0;
        }
    }
    return 1;
}

/* Windows (PC/pyconfig.h, Python/dynload_win.c): "name.cp313t-win_amd64.pyd",
 * "name.pyd"; a debug build's files end "_d.cp313-win_amd64.pyd" or
 * "_d.pyd", the module name without the "_d". */
static void parse_pyd(const char *base, const char *dot, size_t len, abigate_tag *t)
{
    const char *tag_start = dot + 1, *tag_end = base + len - 4;
    int debug = dot - base > 2 && dot[-2] == '_' && dot[-1] == 'd';
    if (debug)
        t->module[dot - base - 2] = '\0';
    if (tag_start > tag_end) {
        t->kind = ABIGATE_TAG_BARE;
        t->debug = (unsigned)debug;
        return;
    }
    abigate__copy_clamped(t->tag, sizeof t->tag, tag_start, (size_t)(tag_end - tag_start));
    const char *dash = strchr(t->tag, '-');
    if (dash)
        abigate__copy_clamped(t->platform, sizeof t->platform, dash + 1, strlen(dash + 1));
    const char *vend = dash ? dash : t->tag + strlen(t->tag);
    if (strncmp(t->tag, "cp", 2) == 0 && parse_cpython(t->tag + 2, vend, t) && !t->debug &&
        !t->pymalloc) {
        t->kind = ABIGATE_TAG_CPYTHON;
        t->debug = (unsigned)debug;
    } else {
        t->kind = ABIGATE_TAG_OTHER;
        t->major = t->minor = t->free_threaded = t->debug = t->pymalloc = 0;
    }
}

ABIGATE_API int abigate_tag_parse(const char *path, abigate_tag *out)
{
    abigate_tag t;
    if (!path || !out)
        return ABIGATE_E_INVALID_ARG;
    memset(&t, 0, sizeof t);

    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len = strlen(base);
    const char *dot = strchr(base, '.');
    abigate__copy_clamped(t.module, sizeof t.module, base, dot ? (size_t)(dot - base) : len);

    if (dot && len >= 4 && strcmp(base + len - 4, ".pyd") == 0) {
        parse_pyd(base, dot, len, &t);
        *out = t;
        return ABIGATE_OK;
    }
    if (!dot || len < 3 || strcmp(base + len - 3, ".so") != 0) {
        t.kind = ABIGATE_TAG_NONE;
        *out = t;
        return ABIGATE_OK;
    }
    const char *tag_start = dot + 1, *tag_end = base + len - 3;
    if (tag_start > tag_end) { /* "name.so": the first dot is the ".so" one */
        t.kind = ABIGATE_TAG_BARE;
        *out = t;
        return ABIGATE_OK;
    }
    abigate__copy_clamped(t.tag, sizeof t.tag, tag_start, (size_t)(tag_end - tag_start));

    const char *rest_end;
    split_platform(t.tag, &t, &rest_end);
    size_t head = (size_t)(rest_end - t.tag);
    if (head == 4 && memcmp(t.tag, "abi3", 4) == 0) {
        t.kind = ABIGATE_TAG_ABI3;
    } else if (head == 5 && memcmp(t.tag, "abi3t", 5) == 0) {
        t.kind = ABIGATE_TAG_ABI3T;
    } else if (strncmp(t.tag, "cpython-", 8) == 0) {
        /* the platform starts after the second '-' here */
        const char *ver = t.tag + 8;
        const char *dash = strchr(ver, '-');
        const char *vend = dash ? dash : ver + strlen(ver);
        t.platform[0] = '\0';
        if (dash)
            abigate__copy_clamped(t.platform, sizeof t.platform, dash + 1, strlen(dash + 1));
        if (parse_cpython(ver, vend, &t)) {
            t.kind = ABIGATE_TAG_CPYTHON;
        } else {
            t.kind = ABIGATE_TAG_OTHER;
            t.major = t.minor = t.free_threaded = t.debug = t.pymalloc = 0;
        }
    } else {
        t.kind = ABIGATE_TAG_OTHER;
    }
    *out = t;
    return ABIGATE_OK;
}
