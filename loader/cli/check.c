/* check.c -- `abigate check` and `abigate profile`.
 *
 *   abigate check [--python PATH | --target SPEC | --tags] [--mode MODE] [--json] FILE...
 *     One verdict per file (--tags: per wheel member and interpreter its
 *     wheel's tags claim, then one line per wheel).  Exit 0 when every file is acceptable (accept,
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
        if ((allow_mode & OPT_TAGS) && !strcmp(a, "--tags")) {
            o->tags = 1;
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
    if (o->tags && (o->python || o->target)) {
        fprintf(stderr, "abigate %s: --tags judges each wheel for the interpreters its tags "
                        "claim: give it without --python and --target\n", cmd);
        return EXIT_USAGE;
    }
    if (!o->python && !o->target && !o->tags)
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
    char name[48], v[24];
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
    printf(", \"format\": \"%s\", \"soabi\": ",
           p->format == ABIGATE_FORMAT_PE ? "pe" : p->format == ABIGATE_FORMAT_MACHO ? "macho" : "elf");
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
    char name[48], v[24];
    const char *m = abigate_machine_name(p->machine);
    printf("interpreter:  %s (%s: %s)\n", abigate_profile_name(p, name, sizeof name),
           source_word(p->source), p->origin);
    printf("version:      %s (0x%08x)\n", abigate_format_version(p->hexversion, v, sizeof v),
           p->hexversion);
    printf("threading:    %s\n", p->flags & ABIGATE_PROFILE_FREETHREADED ? "free-threaded" : "GIL");
    printf("debug:        %s\n", p->flags & ABIGATE_PROFILE_DEBUG ? "yes (Py_DEBUG)" : "no");
    printf("trace-refs:   %s\n", p->flags & ABIGATE_PROFILE_TRACE_REFS ? "yes" : "no");
    printf("platform:     %s%u %s-endian %s, %u-byte pointers\n",
           p->format == ABIGATE_FORMAT_PE ? "PE" : p->format == ABIGATE_FORMAT_MACHO ? "Mach-O " : "ELF",
           p->elf_class, p->big_endian ? "big" : "little", m ? m : "unknown", p->pointer_size);
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

/* --tags: the gates of the interpreters the wheels' tags claim, one per
 * spec, made when first needed; and the wheel being judged. */
#define TAG_GATES 64
struct wheel_summary {
    char *path;
    unsigned judged, refused, failed, unclaimed, tags_refused;
    char targets[256];
};

struct check_state {
    abigate_gate *gate;
    abigate_policy policy;
    int json, n, refused, failed, tags;
    unsigned tags_refused; /* by the last check_tags */
    unsigned ngates;
    struct { char spec[64]; abigate_gate *gate; } gates[TAG_GATES];
    struct wheel_summary *wheels;
    size_t nwheels, wheels_cap;
};

/* A wheel member against the wheel's tags (file name, then WHEEL): one
 * line for each set of tags that does not fit it; in JSON, "tags". */
static void check_tags(struct check_state *st, const abigate_walk_item *it, const abigate_file_info *fi)
{
    abigate_verdict tv[ABIGATE_WALK_TAG_SETS];
    unsigned judged = abigate_walk_judge_tags(it, fi, &st->policy, tv);
    st->tags_refused = 0;
    if (st->json)
        fputs(", \"tags\": [", stdout);
    for (int k = 0, n = 0; k < ABIGATE_WALK_TAG_SETS; k++) {
        const abigate_verdict *v = &tv[k];
        if (!(judged & 1u << k))
            continue;
        if (v->kind == ABIGATE_REFUSE) {
            st->refused = 1;
            st->tags_refused++;
        }
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

/* One input: judged by `gate` (a file, or a wheel's member in place), printed
 * (with --tags, for interpreter `spec`; its wheel-tag lines only once). */
static int judge_print(struct check_state *st, abigate_gate *gate, const char *spec,
                       int with_tags, const abigate_walk_item *it)
{
    abigate_verdict v;
    abigate_file_info fi;
    abigate_error err;
    int rc = input_judge(gate, it, &v, &fi, &err);
    if (st->json) {
        printf("%s\n  {", st->n++ ? "," : "");
        input_json_name(it);
        if (spec) {
            fputs(", \"target\": ", stdout);
            json_string(spec);
        }
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
            if (it->member && with_tags)
                check_tags(st, it, &fi);
            printf("}");
        }
    } else if (rc != ABIGATE_OK) {
        input_report_error(it, &err);
    } else {
        input_print_name(it, stdout);
        if (spec)
            printf(" [for %s]", spec);
        printf(": %s%s: %s", abigate_verdict_name(v.kind), v.warning ? " with a warning" : "",
               v.message);
        if (v.reason)
            printf(" [%s]", abigate_reason_name(v.reason));
        printf("\n");
        if (it->member && with_tags)
            check_tags(st, it, &fi);
    }
    if (rc != ABIGATE_OK)
        st->failed = 1;
    else if (v.kind == ABIGATE_REFUSE)
        st->refused = 1;
    return rc != ABIGATE_OK ? -1 : v.kind == ABIGATE_REFUSE;
}

static int check_one(const abigate_walk_item *it, void *ctx)
{
    judge_print(ctx, ((struct check_state *)ctx)->gate, NULL, 1, it);
    return 0;
}

/* --tags: the gate for `spec`, made once; NULL with a message on stderr. */
static abigate_gate *tag_gate(struct check_state *st, const char *spec)
{
    for (unsigned k = 0; k < st->ngates; k++)
        if (!strcmp(st->gates[k].spec, spec))
            return st->gates[k].gate;
    if (st->ngates == TAG_GATES) {
        fprintf(stderr, "abigate check: more than %d interpreters claimed by the wheels' tags\n",
                TAG_GATES);
        return NULL;
    }
    struct options o;
    memset(&o, 0, sizeof o);
    o.target = spec;
    int rc;
    abigate_gate *g = make_gate("check", &o, &st->policy, &rc);
    if (g) {
        snprintf(st->gates[st->ngates].spec, sizeof st->gates[0].spec, "%s", spec);
        st->gates[st->ngates++].gate = g;
    }
    return g;
}

/* --tags: the summary of the wheel `path`, added when first met. */
static struct wheel_summary *wheel_of(struct check_state *st, const char *path)
{
    if (st->nwheels && !strcmp(st->wheels[st->nwheels - 1].path, path))
        return &st->wheels[st->nwheels - 1];
    if (st->nwheels == st->wheels_cap) {
        size_t cap = st->wheels_cap ? 2 * st->wheels_cap : 16;
        struct wheel_summary *w = realloc(st->wheels, cap * sizeof *w);
        if (!w)
            return NULL;
        st->wheels = w;
        st->wheels_cap = cap;
    }
    struct wheel_summary *w = &st->wheels[st->nwheels];
    memset(w, 0, sizeof *w);
    if (!(w->path = strdup(path)))
        return NULL;
    st->nwheels++;
    return w;
}

static void add_target(struct wheel_summary *w, const char *spec)
{
    size_t n = strlen(w->targets), k = strlen(spec);
    char pat[72];
    snprintf(pat, sizeof pat, "%s,", spec);
    if (strstr(w->targets, pat) || n + k + 2 > sizeof w->targets)
        return;
    memcpy(w->targets + n, pat, k + 2);
}

/* --tags: each member of a wheel, for each interpreter its file name's
 * tags claim (abigate_wheel_tag_spec), then against the tags themselves. */
static int check_tags_one(const abigate_walk_item *it, void *ctx)
{
    struct check_state *st = ctx;
    if (it->rc != ABIGATE_OK || !it->member || !it->name_tags) {
        if (it->rc == ABIGATE_OK) {
            abigate_error err;
            err.code = ABIGATE_E_INVALID_ARG;
            snprintf(err.message, sizeof err.message,
                     "not a wheel: --tags judges the members of wheels, for the interpreters "
                     "their tags claim");
            input_report_error(it, &err);
            st->failed = 1;
            return 0;
        }
        return judge_print(st, st->gate, NULL, 1, it), 0;
    }
    struct wheel_summary *w = wheel_of(st, it->path);
    if (!w) {
        fprintf(stderr, "abigate check: out of memory\n");
        st->failed = 1;
        return 0;
    }
    unsigned judged = 0, seen = 0;
    abigate_gate *done[16]; /* a compressed tag set claims an interpreter more than once */
    for (unsigned i = 0; i < abigate_wheel_tags_count(it->name_tags); i++) {
        char spec[64];
        if (abigate_wheel_tag_spec(it->name_tags, i, spec, sizeof spec) != ABIGATE_OK)
            continue;
        abigate_gate *g = tag_gate(st, spec);
        unsigned k = 0;
        while (k < seen && done[k] != g)
            k++;
        if (g && k < seen)
            continue;
        if (g && seen < sizeof done / sizeof done[0])
            done[seen++] = g;
        if (!g) {
            st->failed = 1;
            w->failed++;
            continue;
        }
        st->tags_refused = 0;
        int r = judge_print(st, g, spec, judged++ == 0, it);
        w->tags_refused += st->tags_refused;
        w->judged++;
        w->refused += r > 0;
        w->failed += r < 0;
        add_target(w, spec);
    }
    if (!judged) { /* no CPython interpreter claimed (py3-none-any): its tags alone judge it */
        w->unclaimed++;
        abigate_verdict v;
        abigate_file_info fi;
        abigate_error err;
        if (input_judge(st->gate, it, &v, &fi, &err) != ABIGATE_OK) {
            judge_print(st, st->gate, NULL, 1, it); /* reports why it cannot be read */
            w->failed++;
            return 0;
        }
        if (st->json) {
            printf("%s\n  {", st->n++ ? "," : "");
            input_json_name(it);
            fputs(", \"target\": null", stdout);
            check_tags(st, it, &fi);
            fputs("}", stdout);
        } else {
            check_tags(st, it, &fi);
        }
        w->tags_refused += st->tags_refused;
    }
    return 0;
}

int cmd_check(int argc, char **argv, const char *default_python)
{
    struct options o;
    abigate_policy policy = {ABIGATE_MODE_STRICT, 0};
    abigate_error err;
    int rc = parse_options("check", argc, argv, OPT_MODE | OPT_TAGS, default_python, &o);
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
    struct options base = o;
    if (o.tags) /* a wheel whose tags claim no interpreter: this spec's gate, for its tags */
        base.target = "3.13";
    abigate_gate *gate = make_gate("check", &base, &policy, &rc);
    if (!gate)
        return EXIT_USAGE;
    const abigate_profile *profile = abigate_gate_profile(gate, &err);
    struct check_state *st = calloc(1, sizeof *st);
    if (!st) {
        abigate_gate_free(gate);
        fprintf(stderr, "abigate check: out of memory\n");
        return EXIT_USAGE;
    }
    st->gate = gate;
    st->policy = policy;
    st->json = o.json;
    st->tags = o.tags;
    if (o.json) {
        printf("{\"abigate\": \"%s\", \"mode\": \"%s\", \"profile\": ", ABIGATE_VERSION_STRING,
               abigate_mode_name(policy.mode));
        if (o.tags)
            fputs("\"the interpreters each wheel's tags claim\"", stdout);
        else
            json_profile(profile);
        printf(", \"files\": [");
    }
    for (int j = 0; j < o.nfiles; j++)
        abigate_walk(o.files[j], o.walk_flags, o.tags ? check_tags_one : check_one, st);
    if (o.json && o.tags)
        printf("\n], \"wheels\": [");
    for (size_t k = 0; k < st->nwheels; k++) {
        const struct wheel_summary *w = &st->wheels[k];
        int bad = w->refused || w->tags_refused;
        const char *verdict = w->failed ? "error" : bad ? "refuse" : "accept";
        size_t tl = strlen(w->targets);
        if (o.json) {
            printf("%s\n  {\"path\": ", k ? "," : "");
            json_string(w->path);
            printf(", \"verdict\": \"%s\", \"judged\": %u, \"refused\": %u, \"failed\": %u, "
                   "\"tags_refused\": %u, \"targets\": [", verdict, w->judged, w->refused, w->failed,
                   w->tags_refused);
            for (const char *t = w->targets; *t;) {
                const char *comma = strchr(t, ',');
                printf("%s\"%.*s\"", t == w->targets ? "" : ", ", (int)(comma - t), t);
                t = comma + 1;
            }
            printf("]}");
        } else {
            char shown[384] = "";
            size_t at = 0; /* the targets, ", " between them */
            for (const char *t = w->targets; *t && at + 2 < sizeof shown;) {
                const char *comma = strchr(t, ',');
                int n = snprintf(shown + at, sizeof shown - at, "%s%.*s", at ? ", " : "",
                                 (int)(comma - t), t);
                at += n > 0 ? (size_t)n : 0;
                t = comma + 1;
            }
            printf("%s: %s: its members judged for %s%s (%u judgement%s, %u refused, %u "
                   "unreadable), against its tags (%u refusal%s)%s\n", w->path,
                   bad || w->failed ? "does not fit" : "fits", shown,
                   tl ? "" : "no interpreter its tags claim", w->judged, w->judged == 1 ? "" : "s",
                   w->refused, w->failed, w->tags_refused, w->tags_refused == 1 ? "" : "s",
                   w->unclaimed ? "; members its tags claim no interpreter for were judged by "
                                  "the tags alone" : "");
        }
        free(w->path);
    }
    int refused = st->refused, failed = st->failed;
    if (o.json)
        printf("\n]}\n");
    for (unsigned k = 0; k < st->ngates; k++)
        abigate_gate_free(st->gates[k].gate);
    free(st->wheels);
    free(st);
    abigate_gate_free(gate);
    if (fflush(stdout) != 0) {
        perror("abigate: writing output");
        return EXIT_USAGE;
    }
    return failed ? EXIT_USAGE : refused ? EXIT_REFUSED : 0;
}
