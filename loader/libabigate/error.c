/* error.c -- the error table turned into functions, and error-struct filling. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

ABIGATE_API const char *abigate_strerror(int code)
{
    switch (code) {
#define X(name, value, message) case value: return message;
#include "abigate/errors.h"
#undef X
    default:
        return "unknown error code";
    }
}

ABIGATE_API const char *abigate_code_name(int code)
{
    switch (code) {
#define X(name, value, message) case value: return #name;
#include "abigate/errors.h"
#undef X
    default:
        return "ABIGATE_E_UNKNOWN";
    }
}

int abigate__fail(abigate_error *err, int code, int64_t offset, const char *fmt, ...)
{
    if (err) {
        err->code = code;
        err->offset = offset;
        if (fmt) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err->message, sizeof err->message, fmt, ap);
            va_end(ap);
        } else {
            snprintf(err->message, sizeof err->message, "%s", abigate_strerror(code));
        }
    }
    return code;
}

void abigate__ok(abigate_error *err)
{
    if (err) {
        err->code = ABIGATE_OK;
        err->offset = -1;
        err->message[0] = '\0';
    }
}

int abigate__copy_clamped(char *dst, size_t cap, const char *src, size_t srclen)
{
    const char *nul = memchr(src, '\0', srclen);
    size_t n = nul ? (size_t)(nul - src) : srclen;
    int clamped = n >= cap;
    if (clamped)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return clamped;
}

/* Append decimal `v` at buf[*n] (cap bytes in all); keeps room for the NUL. */
static void append_uint(char *buf, size_t cap, size_t *n, unsigned v)
{
    char digits[12];
    int k = 0;
    do
        digits[k++] = (char)('0' + v % 10);
    while ((v /= 10) && k < 12);
    while (k > 0 && *n + 1 < cap)
        buf[(*n)++] = digits[--k];
}

static void append_str(char *buf, size_t cap, size_t *n, const char *s)
{
    while (*s && *n + 1 < cap)
        buf[(*n)++] = *s++;
}

/* Hand-rolled (no printf): abigate_decide formats versions on every call. */
ABIGATE_API char *abigate_format_version(uint32_t hex, char *buf, size_t len)
{
    static const char hexdigit[] = "0123456789abcdef";
    unsigned level = hex >> 4 & 0xf;
    size_t n = 0;
    if (!buf || !len)
        return buf;
    append_uint(buf, len, &n, hex >> 24 & 0xff);
    append_str(buf, len, &n, ".");
    append_uint(buf, len, &n, hex >> 16 & 0xff);
    append_str(buf, len, &n, ".");
    append_uint(buf, len, &n, hex >> 8 & 0xff);
    if (level != 0xf) {
        if (level == 0xa || level == 0xb || level == 0xc) {
            append_str(buf, len, &n, level == 0xa ? "a" : level == 0xb ? "b" : "rc");
        } else {
            char lv[] = "(level x)";
            lv[7] = hexdigit[level];
            append_str(buf, len, &n, lv);
        }
        append_uint(buf, len, &n, hex & 0xf);
    }
    buf[n] = '\0';
    return buf;
}

ABIGATE_API const char *abigate_machine_name(unsigned machine)
{
    switch (machine) {
    case 3: return "i386";
    case 8: return "MIPS";
    case 20: return "PowerPC";
    case 21: return "PowerPC64";
    case 22: return "S/390";
    case 40: return "ARM";
    case 62: return "x86-64";
    case 183: return "AArch64";
    case 243: return "RISC-V";
    case 258: return "LoongArch";
    default: return NULL;
    }
}

ABIGATE_API const char *abigate_version(void)
{
    return ABIGATE_VERSION_STRING;
}
