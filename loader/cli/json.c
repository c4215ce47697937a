/* json.c -- the small JSON writer the CLI commands share (stdout). */
#include "cli.h"

#include <stdio.h>

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
            if (*p < 0x20)
                printf("\\u%04x", *p);
            else
                putchar(*p);
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
