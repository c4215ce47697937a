/* abiinfo_decide.c -- a filter over abigate_decide_abiinfo() for the
 * conformance test tests/conformance/pyabiinfo.py.
 *
 *   abiinfo_decide HEXVERSION PROFILE_FLAGS < combos
 *
 * HEXVERSION is the runtime's full PY_VERSION_HEX and PROFILE_FLAGS the
 * ABIGATE_PROFILE_* bits (both decimal or 0x hex).  Each input line is
 * "major minor flags build_version abi_version" (decimal or 0x hex); for
 * each, one line is printed: the reason name abigate_decide_abiinfo()
 * returns ("ABIGATE_R_NONE" when compatible).  A malformed argument or line
 * stops it with exit status 2. */
#include "abigate/abigate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parse one unsigned number no larger than `max` at *s; advance *s. */
static int number(char **s, unsigned long max, unsigned long *out)
{
    char *end;
    while (**s == ' ' || **s == '\t')
        (*s)++;
    if (**s < '0' || **s > '9')
        return -1;
    errno = 0;
    unsigned long v = strtoul(*s, &end, 0);
    if (errno || end == *s || v > max || (*end && *end != ' ' && *end != '\t' && *end != '\n'))
        return -1;
    *s = end;
    *out = v;
    return 0;
}

static int argument(const char *text, unsigned long max, unsigned long *out)
{
    char *s = (char *)text;
    if (number(&s, max, out) || *s)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    unsigned long hexversion, pflags;
    if (argc != 3 || argument(argv[1], 0xfffffffful, &hexversion) ||
        argument(argv[2], ABIGATE_PROFILE_KNOWN, &pflags)) {
        fprintf(stderr, "usage: %s HEXVERSION PROFILE_FLAGS < 'major minor flags build abi' lines\n",
                argc ? argv[0] : "abiinfo_decide");
        return 2;
    }
    abigate_profile profile;
    if (abigate_profile_init(&profile, (uint32_t)hexversion, (unsigned)pflags) != ABIGATE_OK) {
        fprintf(stderr, "abigate_profile_init(0x%08lx, %lu) failed\n", hexversion, pflags);
        return 2;
    }
    char line[256];
    unsigned long lineno = 0;
    while (fgets(line, sizeof line, stdin)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(stdin)) {
            fprintf(stderr, "line %lu: too long\n", lineno);
            return 2;
        }
        static const unsigned long max[5] = {0xff, 0xff, 0xffff, 0xfffffffful, 0xfffffffful};
        unsigned long v[5];
        char *s = line;
        for (int i = 0; i < 5; i++) {
            if (number(&s, max[i], &v[i])) {
                fprintf(stderr, "line %lu: want 5 numbers 'major minor flags build abi': %s",
                        lineno, line);
                return 2;
            }
        }
        while (*s == ' ' || *s == '\t' || *s == '\n')
            s++;
        if (*s) {
            fprintf(stderr, "line %lu: trailing text: %s", lineno, line);
            return 2;
        }
        abigate_abiinfo info = {
            .major = (uint8_t)v[0],
            .minor = (uint8_t)v[1],
            .flags = (uint16_t)v[2],
            .build_version = (uint32_t)v[3],
            .abi_version = (uint32_t)v[4],
        };
        printf("%s\n", abigate_reason_name(abigate_decide_abiinfo(&info, &profile)));
    }
    if (ferror(stdin)) {
        perror("stdin");
        return 2;
    }
    return fflush(stdout) == 0 ? 0 : 2;
}
