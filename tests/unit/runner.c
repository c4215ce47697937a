/* runner.c -- runs every unit suite; TAP goes where CK_TAP_LOG_FILE_NAME says
 * (make check sets "-", stdout, for Automake's TAP driver). */
#include "suites.h"

#include <stdlib.h>

int main(void)
{
    SRunner *sr = srunner_create(make_record_suite());
    srunner_add_suite(sr, make_reader_suite());
    srunner_add_suite(sr, make_malformed_suite());
    srunner_add_suite(sr, make_tag_suite());
    srunner_add_suite(sr, make_decide_suite());
    srunner_add_suite(sr, make_gate_suite());
    srunner_add_suite(sr, make_wheel_suite());
    srunner_add_suite(sr, make_native_suite());
    srunner_add_suite(sr, make_pe_suite());
    srunner_add_suite(sr, make_macho_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
