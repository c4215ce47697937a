/* report.c -- how the CLI names an input of the library's walk, and how it
 * reports one that cannot be judged. */
#include "cli.h"

#include <stdio.h>

void input_print_name(const abigate_walk_item *it, FILE *out)
{
    if (it->member)
        fprintf(out, "%s/%s", it->path, it->member);
    else
        fputs(it->path, out);
}

void input_json_name(const abigate_walk_item *it)
{
    fputs("\"path\": ", stdout);
    json_string(it->path);
    if (it->member) {
        fputs(", \"member\": ", stdout);
        json_string(it->member);
    }
}

void input_report_error(const abigate_walk_item *it, const abigate_error *err)
{
    fflush(stdout);
    fputs("abigate: ", stderr);
    input_print_name(it, stderr);
    if (err->offset >= 0)
        fprintf(stderr, ": %s (at offset %lld)\n", err->message, (long long)err->offset);
    else
        fprintf(stderr, ": %s\n", err->message);
}

int input_judge(abigate_gate *gate, const abigate_walk_item *it, abigate_verdict *v,
                abigate_file_info *facts, abigate_error *err)
{
    if (it->rc) {
        *err = *it->err;
        return it->rc;
    }
    int kind = abigate_walk_judge(gate, it, NULL, v, facts, err);
    if (kind < 0)
        return kind;
    if (v->reason == ABIGATE_R_UNREADABLE)
        return v->error; /* not a readable object: an error here, as for inspect */
    return ABIGATE_OK;
}
