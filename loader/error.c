/* error.c -- the error table turned into functions, and error-struct filling. */
#include "abigate-internal.h"

#include <stdio.h>
#include <string.h>

ABIGATE_API const char *abigate_strerror(int code)
{
    switch (code) {
#define X(name, value, message) case value: return message;
#include "abigate-errors.h"
#undef X
    default:
        return "unknown error code";
    }
}

ABIGATE_API const char *abigate_code_name(int code)
{
    switch (code) {
#define X(name, value, message) case value: return #name;
#include "abigate-errors.h"
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
    size_t n = 0;
    while (n < srclen && src[n] != '\0')
        n++;
    int clamped = n >= cap;
    if (clamped)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return clamped;
}

ABIGATE_API char *abigate_format_version(uint32_t hex, char *buf, size_t len)
{
    unsigned major = hex >> 24 & 0xff, minor = hex >> 16 & 0xff, micro = hex >> 8 & 0xff;
    unsigned level = hex >> 4 & 0xf, serial = hex & 0xf;
    const char *lv = level == 0xa ? "a" : level == 0xb ? "b" : level == 0xc ? "rc" : NULL;
    if (level == 0xf)
        snprintf(buf, len, "%u.%u.%u", major, minor, micro);
    else if (lv)
        snprintf(buf, len, "%u.%u.%u%s%u", major, minor, micro, lv, serial);
    else
        snprintf(buf, len, "%u.%u.%u(level %x)%u", major, minor, micro, level, serial);
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
