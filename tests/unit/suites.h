/* suites.h -- every Check suite of the unit runner. */
#ifndef SUITES_H
#define SUITES_H
#include <check.h>
Suite *make_record_suite(void);
Suite *make_reader_suite(void);
Suite *make_malformed_suite(void);
Suite *make_tag_suite(void);
Suite *make_decide_suite(void);
Suite *make_gate_suite(void);
Suite *make_wheel_suite(void);
Suite *make_native_suite(void);
Suite *make_pe_suite(void);
Suite *make_macho_suite(void);
#endif
