/* abigate -- command-line front end of libabigate.
 *
 *   abigate inspect [--json] [--symbols] FILE...
 *   abigate check [--python PATH | --target SPEC] [--mode MODE] [--json] FILE...
 *   abigate profile [--python PATH | --target SPEC] [--json]
 *
 * Exit status of inspect (documented in abigate(1)):
 *   0  every file was read (with or without a record)
 *   1  at least one file could not be read or is malformed
 *   2  usage error
 * check and profile: see check.c.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char usage_text[] =
    "usage: abigate inspect [--json] [--symbols] FILE...\n"
    "       abigate check [--python PATH | --target SPEC | --tags] [--mode MODE] [--json] FILE...\n"
    "       abigate profile [--python PATH | --target SPEC] [--json]\n"
    "       abigate scan [--python PATH | --target SPEC | --tags] [--mode MODE] [--json] [-j N] PATH...\n"
    "       abigate --version | --help\n"
    "\n"
    "  inspect    show the ABI record of each extension module, or what can be\n"
    "             inferred from a file without one (name tag, libpython, symbols)\n"
    "  check      decide whether each file can be loaded by an interpreter:\n"
    "             accept, adapt or refuse, with the evidence\n"
    "  profile    show what abigate knows about an interpreter\n"
    "  scan       which distributions under each PATH (site-packages, directories,\n"
    "             wheels) work on the interpreter, and why not; -j N threads;\n"
    "             --json: one JSON object per line (files, distributions, summary)\n"
    "  --python PATH  the interpreter to check against (run once to ask it;\n"
    "                 default: the python3 next to this program, else python3\n"
    "                 on PATH; python -m abigate: that interpreter)\n"
    "  --target SPEC  an interpreter described by a spec: 3.13, 3.13t, 3.15d,\n"
    "                 3.11.2, 3.15.0b1 (no symbol evidence); -PLATFORM (a wheel's\n"
    "                 platform tag) for another platform: 3.13t-win_amd64,\n"
    "                 3.15-macosx_11_0_arm64, 3.13-manylinux_2_17_aarch64\n"
    "  --tags     check, scan: judge each wheel for the interpreters its tags\n"
    "             claim (a release's wheelhouse of Linux, Windows and macOS wheels)\n"
    "  --mode MODE    warn, strict (default) or require; off checks nothing\n"
    "  --json     one JSON document on stdout instead of one line per file\n"
    "  --symbols  also list the undefined Py* / _Py* symbols each file imports\n"
    "  --cross-filesystems  walk directories on other file systems too\n"
    "\n"
    "FILE may be a wheel (*.whl: each extension member is read in place, shown as\n"
    "WHEEL/MEMBER; check also judges it against the wheel's tags) or a directory\n"
    "(its *.so and *.pyd files and wheels, recursively, in name order; links\n"
    "followed, each real file given once, loops reported; other file systems\n"
    "reported, not walked).  ELF, Windows PE and macOS Mach-O files are read.\n"
    "\n"
    "Exit status: inspect: 0 all files read, 1 some file unreadable or malformed,\n"
    "2 usage.  check: 0 every file acceptable, 1 some file refused, 2 usage, an\n"
    "unreadable file or an interpreter that cannot be profiled.  profile: 0, 1 the\n"
    "interpreter cannot be profiled, 2 usage.  scan: 0 nothing refused, 1 something\n"
    "refused, 2 usage or a file that cannot be read.\n";

/* ------------------------------------------------------------------ describing */

static const char *threading_word(unsigned abiflags)
{
    switch (abiflags & ABIGATE_ABIINFO_AGNOSTIC) {
    case ABIGATE_ABIINFO_AGNOSTIC: return "agnostic";
    case ABIGATE_ABIINFO_FREETHREADED: return "free-threaded";
    case ABIGATE_ABIINFO_GIL: return "gil";
    default: return "unspecified";
    }
}

/* "3.8" for a stable-ABI floor (0x03080000); the limited API value 3 means 3.2. */
static void format_floor(uint32_t abi_version, char *buf, size_t len)
{
    snprintf(buf, len, "%u.%u", abi_version >> 24 & 0xff, abi_version >> 16 & 0xff);
}

static const char *tag_kind_word(int kind)
{
    switch (kind) {
    case ABIGATE_TAG_NONE: return "none";
    case ABIGATE_TAG_BARE: return "bare";
    case ABIGATE_TAG_CPYTHON: return "cpython";
    case ABIGATE_TAG_ABI3: return "abi3";
    case ABIGATE_TAG_ABI3T: return "abi3t";
    case ABIGATE_TAG_OTHER: return "other";
    default: return "?";
    }
}

/* What a record says; `native`: CPython's PyABIInfo, which cannot say
 * whether the build was a debug one. */
/* " [ELF64 LE x86-64]", " [PE32+ x86-64]", " [Mach-O 64-bit AArch64, macOS 11.0]",
 * " [Mach-O universal: x86-64, AArch64; macOS 10.13]" */
static void print_identity(const abigate_file_info *fi)
{
    const char *m = abigate_machine_name(fi->machine);
    if (fi->format == ABIGATE_FORMAT_PE) {
        printf(" [PE32%s %s]\n", fi->elf_class == 64 ? "+" : "", m ? m : "?");
        return;
    }
    if (fi->format != ABIGATE_FORMAT_MACHO) {
        printf(" [ELF%u %s %s]\n", fi->elf_class, fi->big_endian ? "BE" : "LE", m ? m : "?");
        return;
    }
    if (fi->n_slices) {
        fputs(" [Mach-O universal:", stdout);
        for (unsigned i = 0; i < fi->n_slices && i < ABIGATE_MAX_SLICES; i++) {
            const char *sm = abigate_machine_name(fi->slice[i].machine);
            printf("%s %s", i ? "," : "", sm ? sm : "?");
        }
    } else {
        printf(" [Mach-O %u-bit %s", fi->elf_class, m ? m : "?");
    }
    if (fi->min_os)
        printf("%s macOS %u.%u", fi->n_slices ? ";" : ",", fi->min_os >> 16, fi->min_os >> 8 & 0xff);
    fputs("]\n", stdout);
}

static void describe_record(const abigate_record *r, int native, FILE *out)
{
    char ver[32], floor[16];
    unsigned f = r->abiinfo.flags;
    abigate_format_version(r->abiinfo.build_version, ver, sizeof ver);
    fprintf(out, "built for CPython %s, ", ver);
    if (f & ABIGATE_ABIINFO_STABLE) {
        format_floor(r->abiinfo.abi_version, floor, sizeof floor);
        if ((f & ABIGATE_ABIINFO_AGNOSTIC) == ABIGATE_ABIINFO_AGNOSTIC)
            fprintf(out, "stable ABI %s+, free-threading agnostic (abi3t)", floor);
        else
            fprintf(out, "stable ABI %s+ (abi3), %s", floor,
                    f & ABIGATE_ABIINFO_FREETHREADED ? "free-threaded" : "GIL");
    } else {
        fprintf(out, "version-specific ABI, %s",
                (f & ABIGATE_ABIINFO_AGNOSTIC) == ABIGATE_ABIINFO_AGNOSTIC ? "free-threading agnostic"
                : f & ABIGATE_ABIINFO_FREETHREADED ? "free-threaded"
                                                   : "GIL");
    }
    if (f & ABIGATE_ABIINFO_INTERNAL)
        fputs(", internal API (Py_BUILD_CORE)", out);
    if (r->flags & ABIGATE_REC_PY_DEBUG)
        fputs(r->flags & ABIGATE_REC_TRACE_REFS ? ", debug build (Py_DEBUG, Py_TRACE_REFS)"
                                                : ", debug build (Py_DEBUG)",
              out);
    else if (r->flags & ABIGATE_REC_TRACE_REFS)
        fputs(", trace-refs build (Py_TRACE_REFS)", out);
    else if (!native)
        fputs(", release build", out);
    if (r->flags & ABIGATE_REC_UNIVERSAL)
        fputs(", universal (PyInit_ serves 3.12 to 3.14)", out);
    if (r->flags & ABIGATE_REC_HOOK_MODEXPORT)
        fputs(", exports PyModExport (PEP 793)", out);
    if ((r->abiinfo.build_version >> 4 & 0xf) != 0xf)
        fputs(", pre-release headers", out);
}

static void print_human(const abigate_walk_item *it, const abigate_file_info *fi,
                        const abigate_symbols *syms, int list_symbols)
{
    input_print_name(it, stdout);
    fputs(": ", stdout);
    if (fi->record_state == ABIGATE_RECORD_PRESENT || fi->record_state == ABIGATE_RECORD_CONFLICT) {
        if (fi->record_via == ABIGATE_VIA_PYABIINFO)
            fputs("PyABIInfo (Py_mod_abi): ", stdout);
        describe_record(&fi->record, fi->record_via == ABIGATE_VIA_PYABIINFO, stdout);
        if (fi->record_state == ABIGATE_RECORD_CONFLICT)
            fputs(fi->record_via == ABIGATE_VIA_PYABIINFO
                      ? "; its modules' PyABIInfo disagree"
                      : "; its PyABIInfo (Py_mod_abi) disagrees with this record", stdout);
    } else if (fi->record_state == ABIGATE_RECORD_UNSUPPORTED) {
        printf("abigate record of unsupported version %u.%u", fi->record.major, fi->record.minor);
    } else {
        fputs("no abigate record", stdout);
        switch (fi->tag.kind) {
        case ABIGATE_TAG_CPYTHON:
        case ABIGATE_TAG_ABI3:
        case ABIGATE_TAG_ABI3T:
        case ABIGATE_TAG_OTHER:
            /* "cpython-311", "abi3": the claim, without the platform */
            printf("; tagged %.*s", (int)(strlen(fi->tag.tag) -
                                          (fi->tag.platform[0] ? strlen(fi->tag.platform) + 1 : 0)),
                   fi->tag.tag);
            break;
        case ABIGATE_TAG_BARE:
            fputs("; untagged (bare .so)", stdout);
            break;
        default:
            break;
        }
        for (unsigned i = 0; i < fi->n_libpython && i < ABIGATE_MAX_LIBPYTHON; i++)
            printf("; needs %s", fi->libpython[i]);
        if (fi->legacy_read) {
            if (fi->n_libpython == 0)
                fputs("; no libpython needed", stdout);
            printf("; imports %u Py symbol%s", fi->n_pysyms, fi->n_pysyms == 1 ? "" : "s");
        }
    }
    if (fi->legacy_read) {
        if (fi->n_modexport)
            printf("; exports %s", fi->modexport);
        if (fi->n_pyinit)
            printf("; exports %s", fi->pyinit);
        if (!fi->n_modexport && !fi->n_pyinit)
            fputs("; exports no module init hook", stdout);
    }
    if (fi->slot_id_315)
        printf("; module slots in 3.15's numbering (%s = %u)",
               abigate_module_slot_name(fi->slot_id_315) ? abigate_module_slot_name(fi->slot_id_315)
                                                          : "slot",
               fi->slot_id_315);
    if (fi->moddef_layout)
        printf("; PyModuleDef with the %s object header",
               fi->moddef_layout == ABIGATE_MODDEF_GIL           ? "GIL"
               : fi->moddef_layout == ABIGATE_MODDEF_FREETHREADED ? "free-threaded"
                                                                  : "GIL and the free-threaded");
    if (fi->moddef_minor_max && fi->moddef_minor_min)
        printf(" of 3.%u%s or later headers", fi->moddef_minor_min,
               fi->moddef_layout == ABIGATE_MODDEF_FREETHREADED ? "t" : "");
    if (fi->slot_id_old == 5)
        printf("; its slots give Py_mod_abi as 5 (3.15 alphas' numbering: no release loads it)");
    else if (fi->slot_id_old >= 3)
        printf("; its slots include %s (3.%u+)",
               fi->slot_id_old == 3 ? "Py_mod_multiple_interpreters" : "Py_mod_gil",
               fi->slot_id_old == 3 ? 12u : 13u);
    print_identity(fi);
    if (list_symbols && syms)
        for (unsigned i = 0; i < abigate_symbols_count(syms); i++)
            printf("    %s%s\n", abigate_symbols_name(syms, i), abigate_symbols_weak(syms, i) ? " (weak)" : "");
}

/* ------------------------------------------------------------------ JSON */

static void json_record(const abigate_file_info *fi)
{
    const abigate_record *r = &fi->record;
    char ver[32];
    printf("{\"state\": \"%s\", \"via\": \"%s\", \"offset\": %llu, \"version\": \"%u.%u\", "
           "\"size\": %u",
           abigate_record_state_name(fi->record_state), abigate_record_via_name(fi->record_via),
           (unsigned long long)fi->record_offset, r->major, r->minor, r->size);
    if (fi->record_state != ABIGATE_RECORD_PRESENT && fi->record_state != ABIGATE_RECORD_CONFLICT) {
        putchar('}');
        return;
    }
    unsigned f = r->abiinfo.flags;
    printf(", \"abiinfo\": {\"major\": %u, \"minor\": %u, \"flags\": %u, ", r->abiinfo.major,
           r->abiinfo.minor, f);
    json_hex("build_version", r->abiinfo.build_version, 1);
    json_hex("abi_version", r->abiinfo.abi_version, 0);
    printf("}, \"python_version\": \"%s\", ",
           abigate_format_version(r->abiinfo.build_version, ver, sizeof ver));
    printf("\"abi\": \"%s\", ", f & ABIGATE_ABIINFO_STABLE ? "stable" : "version-specific");
    if (f & ABIGATE_ABIINFO_STABLE) {
        char floor[16];
        format_floor(r->abiinfo.abi_version, floor, sizeof floor);
        printf("\"stable_abi_floor\": \"%s\", ", floor);
    } else {
        fputs("\"stable_abi_floor\": null, ", stdout);
    }
    if (r->flags & ABIGATE_REC_LIMITED_API)
        json_hex("limited_api", r->limited_api, 1);
    else
        fputs("\"limited_api\": null, ", stdout);
    if (r->flags & ABIGATE_REC_TARGET_ABI3T)
        json_hex("target_abi3t", r->target_abi3t, 1);
    else
        fputs("\"target_abi3t\": null, ", stdout);
    printf("\"threading\": \"%s\", ", threading_word(f));
    json_bool("gil_disabled", r->flags & ABIGATE_REC_GIL_DISABLED, 1);
    json_bool("opaque_pyobject", r->flags & ABIGATE_REC_OPAQUE_PYOBJECT, 1);
    json_bool("py_debug", r->flags & ABIGATE_REC_PY_DEBUG, 1);
    json_bool("trace_refs", r->flags & ABIGATE_REC_TRACE_REFS, 1);
    json_bool("build_core", r->flags & ABIGATE_REC_BUILD_CORE, 1);
    json_bool("internal", f & ABIGATE_ABIINFO_INTERNAL, 1);
    printf("\"pointer_size\": %u, \"hooks\": [", r->pointer_size);
    int first = 1;
    if (r->flags & ABIGATE_REC_HOOK_PYINIT) {
        fputs("\"PyInit\"", stdout);
        first = 0;
    }
    if (r->flags & ABIGATE_REC_HOOK_MODEXPORT)
        printf("%s\"PyModExport\"", first ? "" : ", ");
    printf("], \"universal\": %s, \"flags\": %u}",
           r->flags & ABIGATE_REC_UNIVERSAL ? "true" : "false", r->flags);
}

static void json_file(const abigate_walk_item *it, int rc, const abigate_error *err,
                      const abigate_file_info *fi, const abigate_symbols *syms, int list_symbols)
{
    putchar('{');
    input_json_name(it);
    if (rc != ABIGATE_OK) {
        printf(", \"ok\": false, \"error\": {\"code\": \"%s\", \"value\": %d, \"offset\": %lld, "
               "\"message\": ",
               abigate_code_name(rc), rc, (long long)err->offset);
        json_string(err->message);
        fputs("}}", stdout);
        return;
    }
    const char *m = abigate_machine_name(fi->machine);
    printf(", \"ok\": true, \"elf\": {\"class\": %u, \"byte_order\": \"%s\", \"machine\": %u, "
           "\"machine_name\": ",
           fi->elf_class, fi->big_endian ? "big" : "little", fi->machine);
    if (m)
        json_string(m);
    else
        fputs("null", stdout);
    printf(", \"type\": %u, \"size\": %llu}, \"format\": \"%s\", \"min_os\": ", fi->elf_type,
           (unsigned long long)fi->file_size,
           fi->format == ABIGATE_FORMAT_PE ? "pe" : fi->format == ABIGATE_FORMAT_MACHO ? "macho" : "elf");
    if (fi->min_os)
        printf("\"%u.%u\"", fi->min_os >> 16, fi->min_os >> 8 & 0xff);
    else
        fputs("null", stdout);
    fputs(", \"slices\": [", stdout);
    for (unsigned i = 0; i < fi->n_slices && i < ABIGATE_MAX_SLICES; i++) {
        const char *sm = abigate_machine_name(fi->slice[i].machine);
        printf("%s{\"class\": %u, \"machine\": %u, \"machine_name\": ", i ? ", " : "",
               fi->slice[i].elf_class, fi->slice[i].machine);
        if (sm)
            json_string(sm);
        else
            fputs("null", stdout);
        fputs("}", stdout);
    }
    fputs("], \"record\": ", stdout);
    if (fi->record_state == ABIGATE_RECORD_ABSENT)
        fputs("null", stdout);
    else
        json_record(fi);

    fputs(", \"tag\": {\"kind\": ", stdout);
    json_string(tag_kind_word(fi->tag.kind));
    fputs(", \"module\": ", stdout);
    json_string(fi->tag.module);
    fputs(", \"tag\": ", stdout);
    json_string(fi->tag.tag);
    fputs(", \"platform\": ", stdout);
    json_string(fi->tag.platform);
    if (fi->tag.kind == ABIGATE_TAG_CPYTHON)
        printf(", \"python\": \"%u.%u\"", fi->tag.major, fi->tag.minor);
    else
        fputs(", \"python\": null", stdout);
    fputs(", ", stdout);
    json_bool("free_threaded", (int)fi->tag.free_threaded, 1);
    json_bool("debug", (int)fi->tag.debug, 0);
    fputs("}, \"legacy\": {", stdout);
    printf("\"pyinit\": ");
    json_string(fi->pyinit);
    printf(", \"pyinit_count\": %u, \"modexport\": ", fi->n_pyinit);
    json_string(fi->modexport);
    printf(", \"modexport_count\": %u, \"slot_id_315\": %u, \"slot_id_old\": %u, "
           "\"moddef_layout\": \"%s\", \"moddef_minor\": ",
           fi->n_modexport, fi->slot_id_315, fi->slot_id_old,
           fi->moddef_layout == ABIGATE_MODDEF_GIL           ? "gil"
           : fi->moddef_layout == ABIGATE_MODDEF_FREETHREADED ? "free-threaded"
           : fi->moddef_layout                                ? "both"
                                                              : "none");
    if (fi->moddef_minor_max)
        printf("[%u, %u]", fi->moddef_minor_min, fi->moddef_minor_max);
    else
        fputs("null", stdout);
    printf(", \"needed_count\": %u, \"libpython\": [", fi->n_needed);
    for (unsigned i = 0; i < fi->n_libpython && i < ABIGATE_MAX_LIBPYTHON; i++) {
        if (i)
            fputs(", ", stdout);
        json_string(fi->libpython[i]);
    }
    printf("], \"py_symbols_count\": %u, \"py_symbols_weak\": %u", fi->n_pysyms,
           fi->n_pysyms_weak);
    if (list_symbols && syms) {
        printf(", \"py_symbols_truncated\": %s, \"py_symbols\": [",
               abigate_symbols_truncated(syms) ? "true" : "false");
        for (unsigned i = 0; i < abigate_symbols_count(syms); i++) {
            if (i)
                fputs(", ", stdout);
            json_string(abigate_symbols_name(syms, i));
        }
        putchar(']');
    }
    fputs("}}", stdout);
}

/* ------------------------------------------------------------------ commands */

struct inspect_state {
    int json, list_symbols, n;
    abigate_symbols *syms;
};

/* One input: read (a file, or a wheel's member in place) and print. */
static int inspect_one(const abigate_walk_item *it, void *ctx)
{
    struct inspect_state *st = ctx;
    abigate_file_info fi;
    abigate_error err;
    int rc = it->rc;
    if (rc)
        err = *it->err;
    else if (it->member)
        rc = abigate_zip_read_member(it->zip, it->index, ABIGATE_READ_LEGACY, &fi, st->syms, &err);
    else
        rc = abigate_read_path(it->path, ABIGATE_READ_LEGACY, &fi, st->syms, &err);
    if (st->json) {
        fputs(st->n++ ? ",\n  " : "\n  ", stdout);
        json_file(it, rc, &err, &fi, st->syms, st->list_symbols);
    } else if (rc != ABIGATE_OK) {
        input_report_error(it, &err);
    } else {
        print_human(it, &fi, st->syms, st->list_symbols);
    }
    return rc != ABIGATE_OK;
}

int cmd_inspect(int argc, char **argv)
{
    int json = 0, list_symbols = 0, nfiles = 0, status = 0, i;
    unsigned walk_flags = 0;
    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--symbols") == 0)
            list_symbols = 1;
        else if (strcmp(argv[i], "--cross-filesystems") == 0)
            walk_flags |= ABIGATE_WALK_CROSS_FILESYSTEMS;
        else if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "abigate inspect: unknown option '%s'\n%s", argv[i], usage_text);
            return EXIT_USAGE;
        } else
            break;
    }
    char **files = argv + i;
    nfiles = argc - i;
    for (int j = 0; j < nfiles; j++)
        if (strcmp(files[j], "--json") == 0 || strcmp(files[j], "--symbols") == 0) {
            fprintf(stderr, "abigate inspect: options must come before the files\n");
            return EXIT_USAGE;
        }
    if (nfiles == 0) {
        fprintf(stderr, "abigate inspect: no FILE given\n%s", usage_text);
        return EXIT_USAGE;
    }

    struct inspect_state st = {json, list_symbols, 0, abigate_symbols_new()};
    if (!st.syms) {
        fprintf(stderr, "abigate: out of memory\n");
        return EXIT_READ_ERROR;
    }
    if (json)
        printf("{\"abigate\": \"%s\", \"files\": [", ABIGATE_VERSION_STRING);
    for (int j = 0; j < nfiles; j++)
        if (abigate_walk(files[j], walk_flags, inspect_one, &st))
            status = EXIT_READ_ERROR;
    abigate_symbols *syms = st.syms;
    if (json)
        puts("\n]}");
    abigate_symbols_free(syms);
    if (fflush(stdout) != 0) {
        perror("abigate: writing output");
        return EXIT_READ_ERROR;
    }
    return status;
}

int cli_main(int argc, char **argv, const char *default_python)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("abigate %s\n", abigate_version());
        return 0;
    }
    if (strcmp(argv[1], "inspect") == 0)
        return cmd_inspect(argc - 2, argv + 2);
    if (strcmp(argv[1], "check") == 0)
        return cmd_check(argc - 2, argv + 2, default_python);
    if (strcmp(argv[1], "scan") == 0)
        return cmd_scan(argc - 2, argv + 2, default_python);
    if (strcmp(argv[1], "profile") == 0)
        return cmd_profile(argc - 2, argv + 2, default_python);
    fprintf(stderr, "abigate: unknown command '%s'\n%s", argv[1], usage_text);
    return EXIT_USAGE;
}
