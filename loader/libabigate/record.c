/* record.c -- encode and decode the abigate record descriptor.
 *
 * Layout (docs/FORMAT.md is the contract; offsets in bytes, multi-byte
 * fields in the ELF file's byte order):
 *    0  magic "ABIG"          4  major u8   5  minor u8   6  size u16
 *    8  PyABIInfo {u8 major, u8 minor, u16 flags, u32 build, u32 abi}
 *   20  limited_api u32      24  target_abi3t u32         28  flags u32
 *   32  pointer_size u8      33..39 reserved, zero
 * Decoding checks, in order: the fixed part is present, the magic, the
 * major version, the size field against the descriptor length, the
 * PyABIInfo version, then (for minor 0 only) that unknown bits and the
 * reserved bytes are zero.  A higher minor may use those, so it skips the
 * last check and anything past byte 40.
 */
#include "internal.h"

#include <string.h>

static const unsigned char record_magic[4] = {'A', 'B', 'I', 'G'};

ABIGATE_API int abigate_record_decode(const void *desc, size_t len, int big_endian,
                                      abigate_record *out, abigate_error *err)
{
    const unsigned char *p = desc;
    int be = big_endian != 0;
    abigate_record rec;

    if (!desc || !out)
        return abigate__fail(err, ABIGATE_E_INVALID_ARG, -1, NULL);
    if (len < 8 || (p[4] == ABIGATE_RECORD_MAJOR && len < ABIGATE_RECORD_SIZE_1_0))
        return abigate__fail(err, ABIGATE_E_RECORD_TRUNCATED, 0,
                             "abigate record is %zu bytes, the fixed part needs %d", len,
                             len < 8 ? 8 : ABIGATE_RECORD_SIZE_1_0);
    if (len > ABIGATE_RECORD_MAX_SIZE)
        return abigate__fail(err, ABIGATE_E_RECORD_TOO_BIG, 0,
                             "abigate record is %zu bytes, the cap is %d", len,
                             ABIGATE_RECORD_MAX_SIZE);
    if (memcmp(p, record_magic, 4) != 0)
        return abigate__fail(err, ABIGATE_E_RECORD_MAGIC, 0,
                             "abigate record magic is %02x %02x %02x %02x, expected \"ABIG\"",
                             p[0], p[1], p[2], p[3]);

    memset(&rec, 0, sizeof rec);
    rec.major = p[4];
    rec.minor = p[5];
    rec.size = abigate__get16(p + 6, be);
    if (rec.major != ABIGATE_RECORD_MAJOR)
        return abigate__fail(err, ABIGATE_E_RECORD_MAJOR, 4,
                             "abigate record version %u.%u; this reader knows major %d",
                             rec.major, rec.minor, ABIGATE_RECORD_MAJOR);
    if (rec.size != len)
        return abigate__fail(err, ABIGATE_E_RECORD_SIZE, 6,
                             "abigate record size field says %u, descriptor has %zu bytes",
                             rec.size, len);

    rec.abiinfo.major = p[8];
    rec.abiinfo.minor = p[9];
    rec.abiinfo.flags = abigate__get16(p + 10, be);
    rec.abiinfo.build_version = abigate__get32(p + 12, be);
    rec.abiinfo.abi_version = abigate__get32(p + 16, be);
    if (rec.abiinfo.major != 1)
        return abigate__fail(err, ABIGATE_E_RECORD_ABIINFO, 8,
                             "PyABIInfo block version %u.%u; this reader knows major 1",
                             rec.abiinfo.major, rec.abiinfo.minor);
    rec.limited_api = abigate__get32(p + 20, be);
    rec.target_abi3t = abigate__get32(p + 24, be);
    rec.flags = abigate__get32(p + 28, be);
    rec.pointer_size = p[32];

    if (rec.minor == 0) {
        if (rec.abiinfo.flags & ~ABIGATE_ABIINFO_KNOWN)
            return abigate__fail(err, ABIGATE_E_RECORD_RESERVED, 10,
                                 "PyABIInfo flags 0x%04x have unknown bits set",
                                 rec.abiinfo.flags);
        if (rec.flags & ~ABIGATE_REC_KNOWN_1_0)
            return abigate__fail(err, ABIGATE_E_RECORD_RESERVED, 28,
                                 "record flags 0x%08x have unknown bits set", rec.flags);
        for (int i = 33; i < ABIGATE_RECORD_SIZE_1_0; i++)
            if (p[i] != 0)
                return abigate__fail(err, ABIGATE_E_RECORD_RESERVED, i,
                                     "reserved record byte %d is 0x%02x, must be zero", i,
                                     p[i]);
    }
    *out = rec;
    abigate__ok(err);
    return ABIGATE_OK;
}

ABIGATE_API int abigate_record_encode(const abigate_record *rec, int big_endian, void *buf,
                                      size_t len)
{
    unsigned char *p = buf;
    int be = big_endian != 0;

    if (!rec || !buf || len < ABIGATE_RECORD_SIZE_1_0 ||
        (rec->abiinfo.flags & ~ABIGATE_ABIINFO_KNOWN) || (rec->flags & ~ABIGATE_REC_KNOWN_1_0))
        return ABIGATE_E_INVALID_ARG;
    memset(p, 0, ABIGATE_RECORD_SIZE_1_0);
    memcpy(p, record_magic, 4);
    p[4] = ABIGATE_RECORD_MAJOR;
    p[5] = ABIGATE_RECORD_MINOR;
    abigate__put16(p + 6, ABIGATE_RECORD_SIZE_1_0, be);
    p[8] = rec->abiinfo.major;
    p[9] = rec->abiinfo.minor;
    abigate__put16(p + 10, rec->abiinfo.flags, be);
    abigate__put32(p + 12, rec->abiinfo.build_version, be);
    abigate__put32(p + 16, rec->abiinfo.abi_version, be);
    abigate__put32(p + 20, rec->limited_api, be);
    abigate__put32(p + 24, rec->target_abi3t, be);
    abigate__put32(p + 28, rec->flags, be);
    p[32] = rec->pointer_size;
    return ABIGATE_RECORD_SIZE_1_0;
}

ABIGATE_API const char *abigate_record_state_name(int state)
{
    static const char *const names[] = {"absent", "present", "unsupported", "conflict"};
    return state >= 0 && state < 4 ? names[state] : "unknown";
}

ABIGATE_API const char *abigate_record_via_name(int via)
{
    static const char *const names[] = {"none", "PT_NOTE", "section", "PyABIInfo"};
    return via >= 0 && via < 4 ? names[via] : "unknown";
}
