/* check_tag.c -- file-name tags. */
#include "suites.h"

#include "abigate/abigate.h"

#include <string.h>

static const struct {
    const char *path;
    int kind;
    const char *module, *tag, *platform;
    unsigned minor, t, d, m;
} tags[] = {
    {"/a/b/fastjson.cpython-313t-x86_64-linux-gnu.so", ABIGATE_TAG_CPYTHON, "fastjson",
     "cpython-313t-x86_64-linux-gnu", "x86_64-linux-gnu", 13, 1, 0, 0},
    {"m.cpython-311d-x86_64-linux-gnu.so", ABIGATE_TAG_CPYTHON, "m",
     "cpython-311d-x86_64-linux-gnu", "x86_64-linux-gnu", 11, 0, 1, 0},
    {"m.cpython-313td-x86_64-linux-gnu.so", ABIGATE_TAG_CPYTHON, "m",
     "cpython-313td-x86_64-linux-gnu", "x86_64-linux-gnu", 13, 1, 1, 0},
    {"m.cpython-37m-x86_64-linux-gnu.so", ABIGATE_TAG_CPYTHON, "m", "cpython-37m-x86_64-linux-gnu",
     "x86_64-linux-gnu", 7, 0, 0, 1},
    {"m.cpython-315.so", ABIGATE_TAG_CPYTHON, "m", "cpython-315", "", 15, 0, 0, 0},
    {"m.abi3.so", ABIGATE_TAG_ABI3, "m", "abi3", "", 0, 0, 0, 0},
    {"m.abi3t.so", ABIGATE_TAG_ABI3T, "m", "abi3t", "", 0, 0, 0, 0},
    {"m.abi3-x86_64-linux-gnu.so", ABIGATE_TAG_ABI3, "m", "abi3-x86_64-linux-gnu",
     "x86_64-linux-gnu", 0, 0, 0, 0},
    {"pkg/_speedups.so", ABIGATE_TAG_BARE, "_speedups", "", "", 0, 0, 0, 0},
    {"m.pypy39-pp73-x86_64-linux-gnu.so", ABIGATE_TAG_OTHER, "m", "pypy39-pp73-x86_64-linux-gnu",
     "pp73-x86_64-linux-gnu", 0, 0, 0, 0},
    {"m.cpython-3x-x86_64-linux-gnu.so", ABIGATE_TAG_OTHER, "m", "cpython-3x-x86_64-linux-gnu",
     "x86_64-linux-gnu", 0, 0, 0, 0},
    {"libpython3.11.so.1.0", ABIGATE_TAG_NONE, "libpython3", "", "", 0, 0, 0, 0},
    {"module.py", ABIGATE_TAG_NONE, "module", "", "", 0, 0, 0, 0},
    {"noext", ABIGATE_TAG_NONE, "noext", "", "", 0, 0, 0, 0},
    {"dir.with.dots/m.so", ABIGATE_TAG_BARE, "m", "", "", 0, 0, 0, 0},
};

START_TEST(test_tag)
{
    abigate_tag t;
    ck_assert_int_eq(abigate_tag_parse(tags[_i].path, &t), ABIGATE_OK);
    ck_assert_msg(t.kind == tags[_i].kind, "%s: kind %d", tags[_i].path, t.kind);
    ck_assert_str_eq(t.module, tags[_i].module);
    ck_assert_str_eq(t.tag, tags[_i].tag);
    ck_assert_str_eq(t.platform, tags[_i].platform);
    ck_assert_uint_eq(t.minor, tags[_i].minor);
    ck_assert_uint_eq(t.free_threaded, tags[_i].t);
    ck_assert_uint_eq(t.debug, tags[_i].d);
    ck_assert_uint_eq(t.pymalloc, tags[_i].m);
}
END_TEST

START_TEST(test_tag_long_name_clamped)
{
    char name[400];
    abigate_tag t;
    memset(name, 'x', sizeof name);
    memcpy(name + 300, ".abi3.so", 9);
    ck_assert_int_eq(abigate_tag_parse(name, &t), ABIGATE_OK);
    ck_assert_int_eq(t.kind, ABIGATE_TAG_ABI3);
    ck_assert_uint_eq(strlen(t.module), ABIGATE_TAG_TEXT_MAX - 1);
    ck_assert_int_eq(abigate_tag_parse(NULL, &t), ABIGATE_E_INVALID_ARG);
}
END_TEST

Suite *make_tag_suite(void)
{
    Suite *s = suite_create("tag");
    TCase *tc = tcase_create("names");
    tcase_add_loop_test(tc, test_tag, 0, (int)(sizeof tags / sizeof tags[0]));
    tcase_add_test(tc, test_tag_long_name_clamped);
    suite_add_tcase(s, tc);
    return s;
}
