/* inputs.c -- what the CLI's FILE arguments stand for: a file; a wheel
 * (any *.whl: each extension member, read in place); a directory (walked
 * in name order, symbolic links not followed: its *.so files and wheels). */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_DEPTH 64

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

int input_is_wheel(const char *path)
{
    return ends_with(path, ".whl");
}

static int wheel(const char *path, input_fn fn, void *ctx)
{
    abigate_wheel_tags *tags = malloc(2 * sizeof *tags); /* 2 x 11 KiB: not on a thread's stack */
    if (!tags) {
        fprintf(stderr, "abigate: out of memory\n");
        return 2;
    }
    abigate_wheel_tags *name_tags = &tags[0], *wheel_tags = &tags[1];
    struct input it = {path, NULL, NULL, 0, ABIGATE_OK, NULL, name_tags, wheel_tags};
    abigate_error err;
    abigate_zip *z = NULL;
    int rc = abigate_zip_open_path(path, &z, &err);
    if (rc) {
        it.rc = rc;
        it.err = &err;
        rc = fn(&it, ctx);
        free(tags);
        return rc;
    }
    if (abigate_wheel_tags_from_filename(path, name_tags, NULL) != ABIGATE_OK)
        name_tags->count = 0;
    int status = 0;
    it.zip = z;
    rc = abigate_wheel_read_metadata(z, wheel_tags, &err);
    if (rc != ABIGATE_OK) {
        wheel_tags->count = 0;
        if (rc != ABIGATE_E_WHEEL_NAME) { /* a WHEEL file that cannot be read: said once */
            struct input bad = it;
            bad.member = "*.dist-info/WHEEL";
            bad.rc = rc;
            bad.err = &err;
            status = fn(&bad, ctx);
        }
    }
    for (size_t i = 0; i < abigate_zip_count(z); i++) {
        abigate_zip_entry e;
        if (abigate_zip_entry_get(z, i, &e) != ABIGATE_OK || !abigate_zip_member_is_elf(z, i))
            continue;
        it.member = e.name;
        it.index = i;
        int s = fn(&it, ctx);
        if (s > status)
            status = s;
    }
    abigate_zip_close(z);
    free(tags);
    return status;
}

static int each(const char *arg, int open_wheels, input_fn fn, void *ctx);

static int walk(const char *dir, int depth, int open_wheels, input_fn fn, void *ctx)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort), status = 0;
    if (n < 0 || depth > MAX_DEPTH) {
        abigate_error err = {ABIGATE_E_OPEN, -1, ""};
        snprintf(err.message, sizeof err.message, "%s", n < 0 ? strerror(errno)
                                                              : "directories nested too deep");
        struct input it = {dir, NULL, NULL, 0, ABIGATE_E_OPEN, &err, NULL, NULL};
        for (int i = 0; i < n; i++)
            free(names[i]);
        if (n >= 0)
            free(names);
        return fn(&it, ctx);
    }
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        if (strcmp(name, ".") && strcmp(name, "..")) {
            size_t len = strlen(dir) + strlen(name) + 2;
            char *path = malloc(len);
            struct stat st;
            if (!path) {
                fprintf(stderr, "abigate: out of memory\n");
                status = 2;
            } else {
                snprintf(path, len, "%s%s%s", dir, ends_with(dir, "/") ? "" : "/", name);
                int s = 0;
                /* d_type saves an lstat where the file system gives it */
                unsigned char type = names[i]->d_type;
                if (type == DT_UNKNOWN || type == DT_LNK)
                    type = lstat(path, &st) != 0 ? DT_UNKNOWN : S_ISDIR(st.st_mode) ? DT_DIR
                                                               : S_ISREG(st.st_mode) ? DT_REG
                                                                                     : DT_UNKNOWN;
                if (type == DT_DIR) {
                    s = walk(path, depth + 1, open_wheels, fn, ctx);
                } else if (type == DT_REG && open_wheels && ends_with(name, ".whl")) {
                    s = wheel(path, fn, ctx);
                } else if (type == DT_REG && (ends_with(name, ".so") || ends_with(name, ".whl"))) {
                    struct input it = {path, NULL, NULL, 0, ABIGATE_OK, NULL, NULL, NULL};
                    s = fn(&it, ctx);
                }
                if (s > status)
                    status = s;
                free(path);
            }
        }
        free(names[i]);
    }
    free(names);
    return status;
}

static int each(const char *arg, int open_wheels, input_fn fn, void *ctx)
{
    struct stat st;
    if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
        return walk(arg, 0, open_wheels, fn, ctx);
    if (open_wheels && input_is_wheel(arg))
        return wheel(arg, fn, ctx);
    struct input it = {arg, NULL, NULL, 0, ABIGATE_OK, NULL, NULL, NULL};
    return fn(&it, ctx);
}

int for_each_input(const char *arg, input_fn fn, void *ctx)
{
    return each(arg, 1, fn, ctx);
}

int for_each_path(const char *arg, input_fn fn, void *ctx)
{
    return each(arg, 0, fn, ctx);
}

/* The extension members of the wheel `path`, as for_each_input gives them. */
int for_each_member(const char *path, input_fn fn, void *ctx)
{
    return wheel(path, fn, ctx);
}

void input_print_name(const struct input *it, FILE *out)
{
    if (it->member)
        fprintf(out, "%s/%s", it->path, it->member);
    else
        fputs(it->path, out);
}

void input_json_name(const struct input *it)
{
    fputs("\"path\": ", stdout);
    json_string(it->path);
    if (it->member) {
        fputs(", \"member\": ", stdout);
        json_string(it->member);
    }
}

void input_report_error(const struct input *it, const abigate_error *err)
{
    fflush(stdout);
    fputs("abigate: ", stderr);
    input_print_name(it, stderr);
    if (err->offset >= 0)
        fprintf(stderr, ": %s (at offset %lld)\n", err->message, (long long)err->offset);
    else
        fprintf(stderr, ": %s\n", err->message);
}

/* What abigate_wheel_decide needs of a wheel member: its record, or,
 * without one, its legacy facts (the member inflated as far as they lie). */
static int read_member_facts(const struct input *it, abigate_file_info *fi, abigate_error *err)
{
    int rc = abigate_zip_read_member(it->zip, it->index, ABIGATE_READ_RECORD, fi, NULL, err);
    if (rc == ABIGATE_OK && fi->record_state != ABIGATE_RECORD_PRESENT)
        rc = abigate_zip_read_member(it->zip, it->index, ABIGATE_READ_LEGACY, fi, NULL, err);
    return rc;
}

const char *const input_tag_sources[INPUT_TAG_SETS] = {"file name", "WHEEL"};

unsigned input_judge_tags(const struct input *it, const abigate_policy *policy,
                          abigate_verdict v[INPUT_TAG_SETS])
{
    const abigate_wheel_tags *sets[INPUT_TAG_SETS] = {it->name_tags, it->wheel_tags};
    abigate_file_info fi;
    abigate_error err;
    unsigned judged = 0;
    if (!it->member || read_member_facts(it, &fi, &err) != ABIGATE_OK)
        return 0;
    for (int k = 0; k < INPUT_TAG_SETS; k++)
        if (sets[k] && sets[k]->count &&
            abigate_wheel_decide(sets[k], input_tag_sources[k], &fi, policy, &v[k]) >= 0)
            judged |= 1u << k;
    return judged;
}

int input_judge(abigate_gate *gate, const struct input *it, abigate_verdict *v, abigate_error *err)
{
    if (it->rc) {
        *err = *it->err;
        return it->rc;
    }
    int rc = it->member ? abigate_gate_judge_zip_member(gate, it->zip, it->index, NULL, v, err)
                        : abigate_gate_judge(gate, it->path, NULL, v, err);
    if (rc >= 0 && v->reason == ABIGATE_R_UNREADABLE)
        return v->error; /* not a readable ELF object: an error here, as for inspect */
    return rc >= 0 ? ABIGATE_OK : rc;
}
