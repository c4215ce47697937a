/* check_record.c -- record encode/decode round trips and versioning rules. */
#include "suites.h"

#include "abigate/abigate.h"

#include <string.h>

static abigate_record sample(void)
{
    abigate_record r;
    memset(&r, 0, sizeof r);
    r.abiinfo.major = 1;
    r.abiinfo.flags = ABIGATE_ABIINFO_STABLE | ABIGATE_ABIINFO_AGNOSTIC;
    r.abiinfo.build_version = 0x030f02f0;
    r.abiinfo.abi_version = 0x030f0000;
    r.limited_api = 0x030f0000;
    r.target_abi3t = 0x030f0000;
    r.flags = ABIGATE_REC_LIMITED_API | ABIGATE_REC_OPAQUE_PYOBJECT | ABIGATE_REC_TARGET_ABI3T |
              ABIGATE_REC_HOOK_MODEXPORT;
    r.pointer_size = 8;
    return r;
}

/* loop over both byte orders */
START_TEST(test_roundtrip)
{
    int be = _i;
    abigate_record in = sample(), out;
    unsigned char buf[64];
    abigate_error err;
    ck_assert_int_eq(abigate_record_encode(&in, be, buf, sizeof buf), ABIGATE_RECORD_SIZE_1_0);
    ck_assert_int_eq(abigate_record_decode(buf, ABIGATE_RECORD_SIZE_1_0, be, &out, &err),
                     ABIGATE_OK);
    ck_assert_int_eq(err.code, ABIGATE_OK);
    ck_assert_uint_eq(out.major, 1);
    ck_assert_uint_eq(out.minor, 0);
    ck_assert_uint_eq(out.size, 40);
    ck_assert_uint_eq(out.abiinfo.major, 1);
    ck_assert_uint_eq(out.abiinfo.flags, in.abiinfo.flags);
    ck_assert_uint_eq(out.abiinfo.build_version, 0x030f02f0);
    ck_assert_uint_eq(out.abiinfo.abi_version, 0x030f0000);
    ck_assert_uint_eq(out.limited_api, 0x030f0000);
    ck_assert_uint_eq(out.target_abi3t, 0x030f0000);
    ck_assert_uint_eq(out.flags, in.flags);
    ck_assert_uint_eq(out.pointer_size, 8);
}
END_TEST

/* The PyABIInfo block sits at bytes 8..19 in CPython's own layout. */
START_TEST(test_abiinfo_bytes_le)
{
    abigate_record in = sample();
    unsigned char buf[40];
    abigate_record_encode(&in, 0, buf, sizeof buf);
    static const unsigned char want[12] = {1, 0, 0x07, 0x00, 0xf0, 0x02, 0x0f, 0x03,
                                           0x00, 0x00, 0x0f, 0x03};
    ck_assert_mem_eq(buf + 8, want, 12);
    ck_assert_mem_eq(buf, "ABIG", 4);
}
END_TEST

START_TEST(test_abiinfo_bytes_be)
{
    abigate_record in = sample();
    unsigned char buf[40];
    abigate_record_encode(&in, 1, buf, sizeof buf);
    static const unsigned char want[12] = {1, 0, 0x00, 0x07, 0x03, 0x0f, 0x02, 0xf0,
                                           0x03, 0x0f, 0x00, 0x00};
    ck_assert_mem_eq(buf + 8, want, 12);
    ck_assert_uint_eq(buf[6], 0);
    ck_assert_uint_eq(buf[7], 40);
}
END_TEST

/* Record 1.1: the universal flag (<abigate/universal.h>); in a 1.0 record
 * the same bit is a reserved one. */
START_TEST(test_universal_1_1)
{
    abigate_record in = sample(), out;
    unsigned char buf[40];
    abigate_record_encode(&in, 0, buf, sizeof buf);
    buf[29] |= 0x04;            /* flags |= ABIGATE_REC_UNIVERSAL (0x0400) */
    ck_assert_int_eq(abigate_record_decode(buf, 40, 0, &out, NULL), ABIGATE_E_RECORD_RESERVED);
    buf[5] = 1;                 /* minor 1 */
    ck_assert_int_eq(abigate_record_decode(buf, 40, 0, &out, NULL), ABIGATE_OK);
    ck_assert_uint_eq(out.minor, 1);
    ck_assert(out.flags & ABIGATE_REC_UNIVERSAL);
    ck_assert_uint_eq(out.flags & ~ABIGATE_REC_KNOWN_1_1, 0);
}
END_TEST

START_TEST(test_higher_minor_tolerated)
{
    abigate_record in = sample(), out;
    unsigned char buf[48];
    memset(buf, 0, sizeof buf);
    abigate_record_encode(&in, 0, buf, sizeof buf);
    buf[5] = 3;                 /* minor 3 */
    buf[6] = 48;                /* 8 more bytes */
    buf[30] |= 0x80;            /* a flag bit 1.0 does not know */
    buf[35] = 0x5a;             /* a reserved byte a later minor uses */
    buf[44] = 0x11;             /* an appended field */
    ck_assert_int_eq(abigate_record_decode(buf, 48, 0, &out, NULL), ABIGATE_OK);
    ck_assert_uint_eq(out.minor, 3);
    ck_assert_uint_eq(out.size, 48);
    ck_assert_uint_eq(out.abiinfo.build_version, 0x030f02f0);
}
END_TEST

START_TEST(test_unknown_major_rejected)
{
    abigate_record in = sample(), out;
    unsigned char buf[40];
    abigate_error err;
    abigate_record_encode(&in, 0, buf, sizeof buf);
    buf[4] = 2;
    memset(&out, 0x5a, sizeof out);
    ck_assert_int_eq(abigate_record_decode(buf, 40, 0, &out, &err), ABIGATE_E_RECORD_MAJOR);
    ck_assert_int_eq(err.code, ABIGATE_E_RECORD_MAJOR);
    ck_assert_int_eq(err.offset, 4);
    ck_assert_ptr_nonnull(strstr(err.message, "2.0"));
    ck_assert_uint_eq(out.major, 0x5a); /* untouched on failure */
}
END_TEST

/* Each row: a corruption of a valid 1.0 LE descriptor and its error. */
static const struct {
    const char *what;
    size_t len;
    int byte, value;
    int code;
} decode_errors[] = {
    {"too short", 20, -1, 0, ABIGATE_E_RECORD_TRUNCATED},
    {"shorter than the version", 6, -1, 0, ABIGATE_E_RECORD_TRUNCATED},
    {"bad magic", 40, 0, 'X', ABIGATE_E_RECORD_MAGIC},
    {"major 0", 40, 4, 0, ABIGATE_E_RECORD_MAJOR},
    {"size field lies", 40, 6, 44, ABIGATE_E_RECORD_SIZE},
    {"abiinfo major 2", 40, 8, 2, ABIGATE_E_RECORD_ABIINFO},
    {"abiinfo flag 0x10", 40, 10, 0x17, ABIGATE_E_RECORD_RESERVED},
    {"record flag 0x80", 40, 28, 0x80, ABIGATE_E_RECORD_RESERVED},
    {"record flag 0x0400", 40, 29, 0x04, ABIGATE_E_RECORD_RESERVED},
    {"reserved byte 33", 40, 33, 1, ABIGATE_E_RECORD_RESERVED},
    {"reserved byte 39", 40, 39, 1, ABIGATE_E_RECORD_RESERVED},
};

START_TEST(test_decode_errors)
{
    abigate_record in = sample(), out;
    unsigned char buf[64];
    abigate_error err;
    memset(buf, 0, sizeof buf);
    abigate_record_encode(&in, 0, buf, sizeof buf);
    if (decode_errors[_i].byte >= 0)
        buf[decode_errors[_i].byte] = (unsigned char)decode_errors[_i].value;
    int rc = abigate_record_decode(buf, decode_errors[_i].len, 0, &out, &err);
    ck_assert_msg(rc == decode_errors[_i].code, "%s: got %s, want %s", decode_errors[_i].what,
                  abigate_code_name(rc), abigate_code_name(decode_errors[_i].code));
    ck_assert_int_eq(err.code, rc);
    ck_assert_str_ne(err.message, "");
}
END_TEST

START_TEST(test_encode_rejects)
{
    abigate_record in = sample();
    unsigned char buf[64];
    ck_assert_int_eq(abigate_record_encode(&in, 0, buf, 39), ABIGATE_E_INVALID_ARG);
    in.flags |= 0x80000000u;
    ck_assert_int_eq(abigate_record_encode(&in, 0, buf, 64), ABIGATE_E_INVALID_ARG);
    in = sample();
    in.abiinfo.flags |= 0x10;
    ck_assert_int_eq(abigate_record_encode(&in, 0, buf, 64), ABIGATE_E_INVALID_ARG);
    ck_assert_int_eq(abigate_record_decode(NULL, 40, 0, &in, NULL), ABIGATE_E_INVALID_ARG);
}
END_TEST

START_TEST(test_strerror_table)
{
    ck_assert_str_eq(abigate_strerror(ABIGATE_OK), "success");
    ck_assert_str_eq(abigate_code_name(ABIGATE_E_NOT_ELF), "ABIGATE_E_NOT_ELF");
    ck_assert_str_eq(abigate_strerror(12345), "unknown error code");
    /* every code from 0 down to the last has its own distinct message */
    for (int c = 0; c >= ABIGATE_E_BAD_SECTION_LINK; c--) {
        ck_assert_str_ne(abigate_strerror(c), "unknown error code");
        for (int d = c - 1; d >= ABIGATE_E_BAD_SECTION_LINK; d--)
            ck_assert_str_ne(abigate_strerror(c), abigate_strerror(d));
    }
}
END_TEST

START_TEST(test_format_version)
{
    char b[32];
    ck_assert_str_eq(abigate_format_version(0x030d01f0, b, sizeof b), "3.13.1");
    ck_assert_str_eq(abigate_format_version(0x030f00b2, b, sizeof b), "3.15.0b2");
    ck_assert_str_eq(abigate_format_version(0x030e00c1, b, sizeof b), "3.14.0rc1");
    ck_assert_str_eq(abigate_format_version(0x030f00a7, b, sizeof b), "3.15.0a7");
}
END_TEST

/* The words for a record's state and origin, and the run-time version. */
START_TEST(test_record_words)
{
    ck_assert_str_eq(abigate_record_state_name(ABIGATE_RECORD_ABSENT), "absent");
    ck_assert_str_eq(abigate_record_state_name(ABIGATE_RECORD_PRESENT), "present");
    ck_assert_str_eq(abigate_record_state_name(ABIGATE_RECORD_UNSUPPORTED), "unsupported");
    ck_assert_str_eq(abigate_record_state_name(ABIGATE_RECORD_CONFLICT), "conflict");
    ck_assert_str_eq(abigate_record_state_name(-1), "unknown");
    ck_assert_str_eq(abigate_record_state_name(4), "unknown");
    ck_assert_str_eq(abigate_record_via_name(ABIGATE_VIA_NONE), "none");
    ck_assert_str_eq(abigate_record_via_name(ABIGATE_VIA_PT_NOTE), "PT_NOTE");
    ck_assert_str_eq(abigate_record_via_name(ABIGATE_VIA_SECTION), "section");
    ck_assert_str_eq(abigate_record_via_name(ABIGATE_VIA_PYABIINFO), "PyABIInfo");
    ck_assert_str_eq(abigate_record_via_name(99), "unknown");
    ck_assert_str_eq(abigate_version(), ABIGATE_VERSION_STRING);
}
END_TEST

Suite *make_record_suite(void)
{
    Suite *s = suite_create("record");
    TCase *tc = tcase_create("codec");
    tcase_add_loop_test(tc, test_roundtrip, 0, 2);
    tcase_add_test(tc, test_abiinfo_bytes_le);
    tcase_add_test(tc, test_abiinfo_bytes_be);
    tcase_add_test(tc, test_higher_minor_tolerated);
    tcase_add_test(tc, test_universal_1_1);
    tcase_add_test(tc, test_unknown_major_rejected);
    tcase_add_loop_test(tc, test_decode_errors, 0,
                        (int)(sizeof decode_errors / sizeof decode_errors[0]));
    tcase_add_test(tc, test_encode_rejects);
    tcase_add_test(tc, test_record_words);
    tcase_add_test(tc, test_strerror_table);
    tcase_add_test(tc, test_format_version);
    suite_add_tcase(s, tc);
    return s;
}
