/* cli.h -- what the abigate CLI's source files share. */
#ifndef ABIGATE_CLI_H
#define ABIGATE_CLI_H

#include "abigate.h"

#define EXIT_REFUSED 1    /* check: some file refused */
#define EXIT_READ_ERROR 1 /* inspect: some file unreadable */
#define EXIT_USAGE 2

extern const char usage_text[];

/* JSON on stdout (json.c). */
void json_string(const char *s);
void json_hex(const char *key, uint32_t v, int comma);
void json_bool(const char *key, int v, int comma);

/* Ask the interpreter `python` once (sys, sysconfig, its mapped libpython
 * or executable) and fill `p`; p->exports_path names the file whose
 * exports the gate then reads (probe.c).  Returns ABIGATE_OK or
 * ABIGATE_E_PROBE. */
int probe_python(const char *python, abigate_profile *p, abigate_error *err);

int cmd_inspect(int argc, char **argv);
int cmd_check(int argc, char **argv);   /* check.c */
int cmd_profile(int argc, char **argv); /* check.c */

#endif
