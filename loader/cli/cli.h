/* cli.h -- what the abigate CLI's source files share. */
#ifndef ABIGATE_CLI_H
#define ABIGATE_CLI_H

#include "abigate/abigate.h"

#include <stdio.h>

#define EXIT_REFUSED 1    /* check: some file refused */
#define EXIT_READ_ERROR 1 /* inspect: some file unreadable */
#define EXIT_USAGE 2

extern const char usage_text[];

/* The abigate command, argv[0] its name (abigate.c): main.c's main, and
 * check, profile and scan judge for `default_python` (NULL: python3 from
 * PATH) unless --python or --target says otherwise. */
int cli_main(int argc, char **argv, const char *default_python);

/* JSON on stdout (json.c). */
void json_string(const char *s);
void json_hex(const char *key, uint32_t v, int comma);
void json_bool(const char *key, int v, int comma);

/* Ask the interpreter `python` once (sys, sysconfig, its mapped libpython
 * or executable) and fill `p`; p->exports_path names the file whose
 * exports the gate then reads (probe.c).  Returns ABIGATE_OK or
 * ABIGATE_E_PROBE. */
int probe_python(const char *python, abigate_profile *p, abigate_error *err);

/* An input of the library's walk (abigate_walk), named as the CLI names
 * it (report.c): "path" or "wheel.whl/member" (zipimport's spelling); JSON:
 * "path" and "member". */
void input_print_name(const abigate_walk_item *it, FILE *out);
void input_json_name(const abigate_walk_item *it);
/* abigate_walk_judge under the gate's policy, as the CLI reports it: an
 * input that cannot be opened or read is an error (its code, *err), as for
 * inspect, not a verdict.  ABIGATE_OK with *v and (a member) *facts. */
int input_judge(abigate_gate *gate, const abigate_walk_item *it, abigate_verdict *v,
                abigate_file_info *facts, abigate_error *err);
/* "abigate: NAME: message (at offset N)" on stderr, after flushing stdout. */
void input_report_error(const abigate_walk_item *it, const abigate_error *err);

/* Options of check, profile and scan (check.c): --python/--target, --mode
 * (OPT_MODE), -j N (OPT_JOBS), --json; then the files. */
struct options {
    const char *python, *target, *mode;
    int json, jobs, tags; /* tags: --tags (check) */
    unsigned walk_flags; /* --cross-filesystems: ABIGATE_WALK_CROSS_FILESYSTEMS */
    char **files;
    int nfiles;
};
#define OPT_MODE 1
#define OPT_JOBS 2
#define OPT_TAGS 4
int parse_options(const char *cmd, int argc, char **argv, int allow,
                  const char *default_python, struct options *o);
/* The gate the options ask for; NULL with *rc set (1: cannot profile, or EXIT_USAGE). */
abigate_gate *make_gate(const char *cmd, const struct options *o, const abigate_policy *policy,
                        int *rc);
const char *evidence_word(int evidence);

int cmd_inspect(int argc, char **argv);
int cmd_check(int argc, char **argv, const char *default_python);   /* check.c */
int cmd_profile(int argc, char **argv, const char *default_python); /* check.c */
int cmd_scan(int argc, char **argv, const char *default_python);    /* scan.c */

#endif
