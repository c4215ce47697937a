/* json.c -- the small JSON writer the CLI commands share (stdout). */
#include "cli.h"

#include <stdio.h>

/* The length (2-4) of the well-formed UTF-8 sequence at p, or 0
 * (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF). */
static int utf8_sequence(const unsigned char *p)
{
    unsigned c = p[0];
    int n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    if (!n || c > 0xf4)
        return 0;
    for (int i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) || (c == 0xf0 && p[1] < 0x90) ||
        (c == 0xf4 && p[1] > 0x8f))
        return 0;
    return n;
}

/* A JSON string.  Bytes that are not UTF-8 (a file name is bytes) are
 * written as the lone surrogate U+DC80..U+DCFF of that byte, as Python's
 * surrogateescape decodes them: os.fsencode() of the decoded string gives
 * the name's bytes back (docs/WHEELS.md, "JSON"). */
void json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", stdout); break;
        case '\\': fputs("\\\\", stdout); break;
        case '\n': fputs("\\n", stdout); break;
        case '\t': fputs("\\t", stdout); break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                printf("\\u%04x", *p);
            } else if (*p < 0x80) {
                putchar(*p);
            } else {
                int n = utf8_sequence(p);
                if (n) {
                    fwrite(p, 1, (size_t)n, stdout);
                    p += n - 1;
                } else {
                    printf("\\udc%02x", *p);
                }
            }
        }
    }
    putchar('"');
}

void json_hex(const char *key, uint32_t v, int comma)
{
    printf("\"%s\": \"0x%08x\"%s", key, v, comma ? ", " : "");
}

void json_bool(const char *key, int v, int comma)
{
    printf("\"%s\": %s%s", key, v ? "true" : "false", comma ? ", " : "");
}
