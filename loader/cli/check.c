/* check.c -- `abigate check` and `abigate profile`.
 *
 *   abigate check [--python PATH | --target SPEC] [--mode MODE] [--json] FILE...
 *     One verdict per file.  Exit 0 when every file is acceptable (accept,
 *     adapt, or a warning under --mode warn), 1 when any is refused, 2 on a
 *     usage error or a file that cannot be read.
 *   abigate profile [--python PATH | --target SPEC] [--json]
 *     What abigate knows about the interpreter.  Exit 0, 1 when it cannot be
 *     profiled, 2 on a usage error.
 * Without --python or --target the interpreter is the caller's default
 * (cli_main): for the abigate program, the python3 in its own directory,
 * else python3 from PATH; for python -m abigate, that interpreter.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* Parse options up to the first non-option; 0 or EXIT_USAGE.  o->python is
 * `default_python` (NULL: "python3") unless --python or --target is given. */
int parse_options(const char *cmd, int argc, char **argv, int allow_mode,
                  const char *default_python, struct options *o)
{
    int i;
    memset(o, 0, sizeof *o);
    for (i = 0; i < argc; i++) {
        const char *a = argv[i], *value = NULL;
        const char **slot = NULL;
        if (!strcmp(a, "--json")) {
            o->json = 1;
            continue;
        }
        if (!strcmp(a, "--cross-filesystems")) {
            o->walk_flags |= ABIGATE_WALK_CROSS_FILESYSTEMS;
            continue;
        }
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if ((allow_mode & OPT_JOBS) && (!strcmp(a, "-j") || !strcmp(a, "--jobs") ||
                                        !strncmp(a, "--jobs=", 7) || (!strncmp(a, "-j", 2) && a[2]))) {
            const char *n = a[1] == 'j' ? (a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL))
                                        : (a[6] == '=' ? a + 7 : (i + 1 < argc ? argv[++i] : NULL));
            char *end;
            long v = n ? strtol(n, &end, 10) : 0;
            if (!n || *end || v < 1 || v > 256) {
                fprintf(stderr, "abigate %s: -j needs a number of threads from 1 to 256\n", cmd);
                return EXIT_USAGE;
            }
            o->jobs = (int)v;
            continue;
        }
        if (a[0] != '-' || !a[1])
            break;
        static const char *const names[] = {"--python", "--target", "--mode"};
        for (int k = 0; k < 3 && !slot; k++) {
            size_t n = strlen(names[k]);
            if (k == 2 && !(allow_mode & OPT_MODE))
                break;
            if (!strncmp(a, names[k], n) && (a[n] == '\0' || a[n] == '=')) {
                slot = k == 0 ? &o->python : k == 1 ? &o->target : &o->mode;
                if (a[n] == '=')
                    value = a + n + 1;
                else if (i + 1 < argc)
                    value = argv[++i];
            }
        }
        if (!slot) {
            fprintf(stderr, "abigate %s: unknown option '%s'\n%s", cmd, a, usage_text);
            return EXIT_USAGE;
        }
        if (!value || !*value) {
            fprintf(stderr, "abigate %s: %s needs a value\n", cmd, a);
            return EXIT_USAGE;
        }
        *slot = value;
    }
    if (o->python && o->target) {
        fprintf(stderr, "abigate %s: give --python or --target, not both\n", cmd);
        return EXIT_USAGE;
    }
    if (!o->python && !o->target)
        o->python = default_python ? default_python : "python3";
    o->files = argv + i;
    o->nfiles = argc - i;
    return 0;
}

/* The gate the options ask for (an interpreter asked once and its exports
 * read, or a spec with no symbols), under `policy`; NULL with *rc set to 1
 * (cannot profile) or EXIT_USAGE. */
abigate_gate *make_gate(const char *cmd, const struct options *o, const abigate_policy *policy,
                        int *rc)
{
    abigate_error err;
    abigate_profile p;
    *rc = 0;
    if (o->target) {
        if (abigate_profile_parse(&p, o->target, &err) != ABIGATE_OK) {
            fprintf(stderr, "abigate %s: --target %s\n", cmd, err.message);
            *rc = EXIT_USAGE;
            return NULL;
        }
    } else if (probe_python(o->python, &p, &err) != ABIGATE_OK) {
        fprintf(stderr, "abigate %s: %s\n", cmd, err.message);
        *rc = 1;
        return NULL;
    }
    abigate_gate_config cfg;
    abigate_gate_config_init(&cfg);
    cfg.policy = *policy; /* never ABIGATE_POLICY_QUIET: every message is printed */
    abigate_gate *g = abigate_gate_new_for(&p, o->target ? NULL : p.exports_path, &cfg, &err);
    if (!g) {
        fprintf(stderr, "abigate %s: %s\n", cmd, err.message);
        *rc = 1;
    }
    return g;
}

const char *evidence_word(int e)
{
    return e == ABIGATE_EVIDENCE_RECORD ? "record" : e == ABIGATE_EVIDENCE_INFERRED ? "inferred"
                                                                                    : "none";
}

static const char *source_word(int s)
{
    switch (s) {
    case ABIGATE_PROFILE_FROM_SPEC: return "spec";
    case ABIGATE_PROFILE_FROM_PYTHON: return "python";
    case ABIGATE_PROFILE_FROM_PROCESS: return "process";
    default: return "build";
    }
}

static void json_profile(const abigate_profile *p)
{
    char name[32], v[24];
    printf("{\"name\": ");
    json_string(abigate_profile_name(p, name, sizeof name));
    printf(", \"source\": \"%s\", \"origin\": ", source_word(p->source));
    json_string(p->origin);
    printf(", \"version\": \"%s\", ", abigate_format_version(p->hexversion, v, sizeof v));
    json_hex("hexversion", p->hexversion, 1);
    json_bool("free_threaded", p->flags & ABIGATE_PROFILE_FREETHREADED, 1);
    json_bool("debug", p->flags & ABIGATE_PROFILE_DEBUG, 1);
    json_bool("trace_refs", p->flags & ABIGATE_PROFILE_TRACE_REFS, 1);
    const char *m = abigate_machine_name(p->machine);
    printf("\"pointer_size\": %u, \"elf_class\": %u, \"big_endian\": %s, \"machine\": ",
           p->pointer_size, p->elf_class, p->big_endian ? "true" : "false");
    json_string(m ? m : "unknown");
    printf(", \"soabi\": ");
    json_string(p->soabi);
    printf(", \"multiarch\": ");
    json_string(p->multiarch);
    printf(", \"suffixes\": [");
    for (unsigned i = 0; i < p->n_suffixes; i++) {
        if (i)
            printf(", ");
        json_string(p->suffixes[i]);
    }
    printf("], \"exports\": ");
    if (p->exports) {
        printf("{\"file\": ");
        json_string(p->exports_path);
        printf(", \"count\": %u}", abigate_symbols_count(p->exports));
    } else {
        printf("null");
    }
    printf("}");
}

static void print_profile(const abigate_profile *p)
{
    char name[32], v[24];
    const char *m = abigate_machine_name(p->machine);
    printf("interpreter:  %s (%s: %s)\n", abigate_profile_name(p, name, sizeof name),
           source_word(p->source), p->origin);
    printf("version:      %s (0x%08x)\n", abigate_format_version(p->hexversion, v, sizeof v),
           p->hexversion);
    printf("threading:    %s\n", p->flags & ABIGATE_PROFILE_FREETHREADED ? "free-threaded" : "GIL");
    printf("debug:        %s\n", p->flags & ABIGATE_PROFILE_DEBUG ? "yes (Py_DEBUG)" : "no");
    printf("trace-refs:   %s\n", p->flags & ABIGATE_PROFILE_TRACE_REFS ? "yes" : "no");
    printf("platform:     ELF%u %s-endian %s, %u-byte pointers\n", p->elf_class,
           p->big_endian ? "big" : "little", m ? m : "unknown", p->pointer_size);
    printf("soabi:        %s\n", p->soabi);
    printf("multiarch:    %s\n", p->multiarch[0] ? p->multiarch : "(unknown)");
    printf("suffixes:    ");
    for (unsigned i = 0; i < p->n_suffixes; i++)
        printf(" %s", p->suffixes[i]);
    printf("\n");
    if (p->exports)
        printf("exports:      %u Py symbols, read from %s\n", abigate_symbols_count(p->exports), p->exports_path);
    else
        printf("exports:      unknown (a spec has no symbols: no symbol evidence)\n");
}

int cmd_profile(int argc, char **argv, const char *default_python)
{
    struct options o;
    int rc = parse_options("profile", argc, argv, 0, default_python, &o);
    if (rc)
        return rc;
    if (o.nfiles) {
        fprintf(stderr, "abigate profile: unexpected argument '%s'\n", o.files[0]);
        return EXIT_USAGE;
    }
    abigate_policy policy = {ABIGATE_MODE_STRICT, 0};
    abigate_gate *gate = make_gate("profile", &o, &policy, &rc);
    if (gate) {
        abigate_error err;
        const abigate_profile *p = abigate_gate_profile(gate, &err);
        if (o.json) {
            printf("{\"abigate\": \"%s\", \"profile\": ", ABIGATE_VERSION_STRING);
            json_profile(p);
            printf("}\n");
        } else {
            print_profile(p);
        }
        abigate_gate_free(gate);
    }
    return rc;
}

struct check_state {
    abigate_gate *gate;
    abigate_policy policy;
    int json, n, refused, failed;
};

/* A wheel member against the wheel's tags (file name, then WHEEL): one
 * line for each set of tags that does not fit it; in JSON, "tags". */
static void check_tags(struct check_state *st, const abigate_walk_item *it, const abigate_file_info *fi)
{
    abigate_verdict tv[ABIGATE_WALK_TAG_SETS];
    unsigned judged = abigate_walk_judge_tags(it, fi, &st->policy, tv);
    if (st->json)
        fputs(", \"tags\": [", stdout);
    for (int k = 0, n = 0; k < ABIGATE_WALK_TAG_SETS; k++) {
        const abigate_verdict *v = &tv[k];
        if (!(judged & 1u << k))
            continue;
        if (v->kind == ABIGATE_REFUSE)
            st->refused = 1;
        if (st->json) {
            printf("%s{\"source\": \"%s\", \"verdict\": \"%s\", \"reason\": \"%s\", "
                   "\"warning\": %s, \"message\": ", n++ ? ", " : "", abigate_walk_tag_source(k),
                   abigate_verdict_name(v->kind), abigate_reason_name(v->reason),
                   v->warning ? "true" : "false");
            json_string(v->message);
            putchar('}');
        } else if (v->reason) {
            input_print_name(it, stdout);
            printf(": %s%s: %s [%s]\n", abigate_verdict_name(v->kind),
                   v->warning ? " with a warning" : "", v->message, abigate_reason_name(v->reason));
        }
    }
    if (st->json)
        putchar(']');
}

/* One input: judged by the gate (a file, or a wheel's member in place), printed. */
static int check_one(const abigate_walk_item *it, void *ctx)
{
    struct check_state *st = ctx;
    abigate_verdict v;
    abigate_file_info fi;
    abigate_error err;
    int rc = input_judge(st->gate, it, &v, &fi, &err);
    if (st->json) {
        printf("%s\n  {", st->n++ ? "," : "");
        input_json_name(it);
        if (rc != ABIGATE_OK) {
            printf(", \"error\": {\"code\": \"%s\", \"message\": ", abigate_code_name(rc));
            json_string(err.message);
            printf("}}");
        } else {
            printf(", \"verdict\": \"%s\", \"adapt\": %d, \"reason\": \"%s\", "
                   "\"warning\": %s, \"evidence\": \"%s\", \"message\": ",
                   abigate_verdict_name(v.kind), v.adapt, abigate_reason_name(v.reason),
                   v.warning ? "true" : "false", evidence_word(v.evidence));
            json_string(v.message);
            if (it->member)
                check_tags(st, it, &fi);
            printf("}");
        }
    } else if (rc != ABIGATE_OK) {
        input_report_error(it, &err);
    } else {
        input_print_name(it, stdout);
        printf(": %s%s: %s", abigate_verdict_name(v.kind), v.warning ? " with a warning" : "",
               v.message);
        if (v.reason)
            printf(" [%s]", abigate_reason_name(v.reason));
        printf("\n");
        if (it->member)
            check_tags(st, it, &fi);
    }
    if (rc != ABIGATE_OK)
        st->failed = 1;
    else if (v.kind == ABIGATE_REFUSE)
        st->refused = 1;
    return 0;
}

int cmd_check(int argc, char **argv, const char *default_python)
{
    struct options o;
    abigate_policy policy = {ABIGATE_MODE_STRICT, 0};
    abigate_error err;
    int rc = parse_options("check", argc, argv, OPT_MODE, default_python, &o);
    if (rc)
        return rc;
    if (o.mode && abigate_policy_parse(o.mode, &policy, &err) != ABIGATE_OK) {
        fprintf(stderr, "abigate check: --mode %s\n", err.message);
        return EXIT_USAGE;
    }
    if (o.nfiles == 0) {
        fprintf(stderr, "abigate check: no FILE given\n%s", usage_text);
        return EXIT_USAGE;
    }
    abigate_gate *gate = make_gate("check", &o, &policy, &rc);
    if (!gate)
        return EXIT_USAGE;
    const abigate_profile *profile = abigate_gate_profile(gate, &err);
    struct check_state st = {gate, policy, o.json, 0, 0, 0};
    if (o.json) {
        printf("{\"abigate\": \"%s\", \"mode\": \"%s\", \"profile\": ", ABIGATE_VERSION_STRING,
               abigate_mode_name(policy.mode));
        json_profile(profile);
        printf(", \"files\": [");
    }
    for (int j = 0; j < o.nfiles; j++)
        abigate_walk(o.files[j], o.walk_flags, check_one, &st);
    int refused = st.refused, failed = st.failed;
    if (o.json)
        printf("\n]}\n");
    abigate_gate_free(gate);
    if (fflush(stdout) != 0) {
        perror("abigate: writing output");
        return EXIT_USAGE;
    }
    return failed ? EXIT_USAGE : refused ? EXIT_REFUSED : 0;
}
