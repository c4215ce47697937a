/* cli.h -- what the abigate CLI's source files share. */
#ifndef ABIGATE_CLI_H
#define ABIGATE_CLI_H

#include "abigate.h"

#include <stdio.h>

#define EXIT_REFUSED 1    /* check: some file refused */
#define EXIT_READ_ERROR 1 /* inspect: some file unreadable */
#define EXIT_USAGE 2

extern const char usage_text[];

/* The abigate command, argv[0] its name (abigate.c): main.c's main, and
 * the import gate's `python -m abigate` (_abigate.cli).  check, profile
 * and scan judge for `default_python` (NULL: python3 from PATH) unless
 * --python or --target says otherwise. */
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

/* One thing a FILE argument stands for (inputs.c): a file, or an extension
 * member of a wheel; rc/err say why a wheel or directory could not be
 * opened (then there is nothing to read). */
struct input {
    const char *path;         /* the file, or the wheel, or the directory */
    const abigate_zip *zip;   /* the wheel, for a member */
    const char *member;       /* the member's name in the wheel, or NULL */
    size_t index;             /* the member's index */
    int rc;
    const abigate_error *err;
    /* a wheel's tags, from its file name and its WHEEL file (count 0: none
     * could be read) */
    const abigate_wheel_tags *name_tags, *wheel_tags;
    int via_link;             /* the file itself was reached through a link */
    /* how reading the WHEEL file's tags went (ABIGATE_OK, or the code and
     * the reader's message): abigate_wheel_tags_decide's inputs */
    int wheel_tags_rc;
    const char *wheel_tags_problem;
};
typedef int (*input_fn)(const struct input *it, void *ctx);

/* Call fn for each input `arg` stands for: the file itself; each member of
 * a *.whl that is an extension (abigate_zip_member_is_elf); in a directory,
 * walked in name order without following symbolic links, each *.so and
 * each wheel.  Returns the largest status fn returned. */
#define INPUT_CROSS_FILESYSTEMS 1u /* walk directories on other file systems too */
int for_each_input(const char *arg, unsigned flags, input_fn fn, void *ctx);
/* The same walk, giving each wheel as itself (member NULL), unopened. */
int for_each_path(const char *arg, unsigned flags, input_fn fn, void *ctx);
/* The extension members of one wheel, as for_each_input gives them. */
int for_each_member(const char *wheel_path, input_fn fn, void *ctx);
int input_is_wheel(const char *path);
/* "path" or "wheel.whl/member" (zipimport's spelling); JSON: "path" and "member". */
void input_print_name(const struct input *it, FILE *out);
void input_json_name(const struct input *it);
/* Judge an input with the gate: the file, or the wheel member in place.
 * ABIGATE_OK with *v; else the code that stopped it, with *err: the input
 * could not be opened, the gate failed, or the file is not a readable ELF
 * object (for the CLI an error, as for inspect, not a verdict).  For a
 * member, *facts receives what it was judged from (one read: see
 * abigate_gate_judge_zip_member_facts); NULL for a file. */
int input_judge(abigate_gate *gate, const struct input *it, abigate_verdict *v,
                abigate_file_info *facts, abigate_error *err);
/* A wheel member, judged by input_judge into `facts`, against the wheel's
 * tag sets (its file name's, its WHEEL's; input_tag_sources names them):
 * v[k] is set for each bit k of the result; 0 when the member could not be
 * read or the wheel has no tags. */
#define INPUT_TAG_SETS 2
extern const char *const input_tag_sources[INPUT_TAG_SETS];
unsigned input_judge_tags(const struct input *it, const abigate_file_info *facts,
                          const abigate_policy *policy, abigate_verdict v[INPUT_TAG_SETS]);
/* "abigate: NAME: message (at offset N)" on stderr, after flushing stdout. */
void input_report_error(const struct input *it, const abigate_error *err);

/* Options of check, profile and scan (check.c): --python/--target, --mode
 * (OPT_MODE), -j N (OPT_JOBS), --json; then the files. */
struct options {
    const char *python, *target, *mode;
    int json, jobs;
    unsigned walk_flags; /* --cross-filesystems: INPUT_CROSS_FILESYSTEMS */
    char **files;
    int nfiles;
};
#define OPT_MODE 1
#define OPT_JOBS 2
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
