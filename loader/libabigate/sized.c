/* sized.c -- the entry points of the structures that grow (abigate.h,
 * "Structures that grow"): abigate_file_info and abigate_verdict.  The
 * header's macros pass the caller's sizeof; the library works on a whole
 * structure of its own when the caller's differs (compiled against other
 * headers), then gives back what the caller's holds: the fields both know,
 * the rest of a newer caller's zeroed.  A caller's structure smaller than
 * the first published one is refused (ABIGATE_E_INVALID_ARG).  Exactly the
 * library's size, the usual case, costs a comparison: the caller's
 * structure is used in place. */
#include "internal.h"

#include <string.h>

void *abigate__sized_out(void *p, size_t size, void *whole, size_t whole_size, size_t min, size_t n)
{
    if (!p || size == whole_size)
        return p;
    if (size < min)
        return NULL;
    memset(whole, 0, whole_size * n);
    return whole;
}

const void *abigate__sized_in(const void *p, size_t size, void *whole, size_t whole_size,
                              size_t min, size_t n)
{
    if (!p || size == whole_size)
        return p;
    if (size < min)
        return NULL;
    memset(whole, 0, whole_size * n);
    for (size_t k = 0; k < n; k++)
        memcpy((char *)whole + k * whole_size, (const char *)p + k * size,
               size < whole_size ? size : whole_size);
    return whole;
}

void abigate__sized_give(void *p, size_t size, const void *w, size_t whole_size, size_t n)
{
    if (!p || !w || w == p)
        return;
    for (size_t k = 0; k < n; k++) {
        char *to = (char *)p + k * size;
        memcpy(to, (const char *)w + k * whole_size, size < whole_size ? size : whole_size);
        if (size > whole_size)
            memset(to + whole_size, 0, size - whole_size);
    }
}

static int too_old(abigate_error *err, const char *fn)
{
    return abigate__fail(err, ABIGATE_E_INVALID_ARG, -1,
                         "%s: the caller's structure is older than this library's first", fn);
}

/* The structure an entry point works on for its caller's `p` (n of them):
 * p_whole, the library's own, and p_w, the one passed on (p itself when
 * the sizes agree); GIVE copies an output back. */
#define SIZED_OUT(type, p, min, n)                                                                 \
    type p##_whole[n];                                                                             \
    type *p##_w = abigate__sized_out(p, p##_size, p##_whole, sizeof *p##_whole, min, n)
#define SIZED_IN(type, p, min, n)                                                                  \
    type p##_whole[n];                                                                             \
    const type *p##_w = abigate__sized_in(p, p##_size, p##_whole, sizeof *p##_whole, min, n)
#define GIVE(p, n) abigate__sized_give(p, p##_size, p##_w, sizeof *p##_whole, n)

ABIGATE_API int abigate_read_path_(const char *path, unsigned flags, abigate_file_info *info,
                                   size_t info_size, abigate_symbols *syms, abigate_error *err)
{
    SIZED_OUT(abigate_file_info, info, ABIGATE__FILE_INFO_MIN, 1);
    if (info && !info_w)
        return too_old(err, "abigate_read_path");
    int r = abigate__read_path(path, flags, info_w, syms, err);
    GIVE(info, 1);
    return r;
}

ABIGATE_API int abigate_read_fd_(int fd, const char *name, unsigned flags, abigate_file_info *info,
                                 size_t info_size, abigate_symbols *syms, abigate_error *err)
{
    SIZED_OUT(abigate_file_info, info, ABIGATE__FILE_INFO_MIN, 1);
    if (info && !info_w)
        return too_old(err, "abigate_read_fd");
    int r = abigate__read_fd(fd, name, flags, info_w, syms, err);
    GIVE(info, 1);
    return r;
}

ABIGATE_API int abigate_read_buffer_(const void *buf, size_t len, const char *name, unsigned flags,
                                     abigate_file_info *info, size_t info_size,
                                     abigate_symbols *syms, abigate_error *err)
{
    SIZED_OUT(abigate_file_info, info, ABIGATE__FILE_INFO_MIN, 1);
    if (info && !info_w)
        return too_old(err, "abigate_read_buffer");
    int r = abigate__read_buffer(buf, len, name, flags, info_w, syms, err);
    GIVE(info, 1);
    return r;
}

ABIGATE_API int abigate_read_io_(const abigate_io *io, const char *name, unsigned flags,
                                 abigate_file_info *info, size_t info_size, abigate_symbols *syms,
                                 abigate_error *err)
{
    SIZED_OUT(abigate_file_info, info, ABIGATE__FILE_INFO_MIN, 1);
    if (info && !info_w)
        return too_old(err, "abigate_read_io");
    int r = abigate__read_io(io, name, flags, info_w, syms, err);
    GIVE(info, 1);
    return r;
}

ABIGATE_API int abigate_zip_read_member_(const abigate_zip *z, size_t i, unsigned flags,
                                         abigate_file_info *info, size_t info_size,
                                         abigate_symbols *syms, abigate_error *err)
{
    SIZED_OUT(abigate_file_info, info, ABIGATE__FILE_INFO_MIN, 1);
    if (info && !info_w)
        return too_old(err, "abigate_zip_read_member");
    int r = abigate__zip_read_member(z, i, flags, info_w, syms, err);
    GIVE(info, 1);
    return r;
}

ABIGATE_API int abigate_decide_(const abigate_file_info *file, size_t file_size,
                                const abigate_symbols *file_syms, const abigate_profile *profile,
                                size_t profile_size, const abigate_policy *policy,
                                abigate_verdict *out, size_t out_size)
{
    SIZED_IN(abigate_file_info, file, ABIGATE__FILE_INFO_MIN, 1);
    if (file && !file_w)
        return too_old(NULL, "abigate_decide");
    SIZED_IN(abigate_profile, profile, ABIGATE__PROFILE_MIN, 1);
    if (profile && !profile_w)
        return too_old(NULL, "abigate_decide");
    SIZED_OUT(abigate_verdict, out, ABIGATE__VERDICT_MIN, 1);
    if (out && !out_w)
        return too_old(NULL, "abigate_decide");
    int r = abigate__decide(file_w, file_syms, profile_w, policy, out_w);
    GIVE(out, 1);
    return r;
}

ABIGATE_API int abigate_gate_judge_(abigate_gate *gate, const char *path,
                                    const abigate_policy *policy, abigate_verdict *v, size_t v_size,
                                    abigate_error *err)
{
    SIZED_OUT(abigate_verdict, v, ABIGATE__VERDICT_MIN, 1);
    if (v && !v_w)
        return too_old(err, "abigate_gate_judge");
    int r = abigate__gate_judge(gate, path, policy, v_w, err);
    GIVE(v, 1);
    return r;
}

ABIGATE_API int abigate_gate_judge_fd_(abigate_gate *gate, int fd, const char *name,
                                       const abigate_policy *policy, abigate_verdict *v,
                                       size_t v_size, abigate_error *err)
{
    SIZED_OUT(abigate_verdict, v, ABIGATE__VERDICT_MIN, 1);
    if (v && !v_w)
        return too_old(err, "abigate_gate_judge_fd");
    int r = abigate__gate_judge_fd(gate, fd, name, policy, v_w, err);
    GIVE(v, 1);
    return r;
}

ABIGATE_API int abigate_gate_judge_zip_member_(abigate_gate *gate, const abigate_zip *zip, size_t i,
                                               const abigate_policy *policy, abigate_verdict *v,
                                               size_t v_size, abigate_error *err)
{
    SIZED_OUT(abigate_verdict, v, ABIGATE__VERDICT_MIN, 1);
    if (v && !v_w)
        return too_old(err, "abigate_gate_judge_zip_member");
    int r = abigate__gate_judge_zip_member(gate, zip, i, policy, v_w, err);
    GIVE(v, 1);
    return r;
}

ABIGATE_API int abigate_gate_judge_zip_member_facts_(abigate_gate *gate, const abigate_zip *zip,
                                                     size_t i, const abigate_policy *policy,
                                                     abigate_verdict *v, size_t v_size,
                                                     abigate_file_info *facts, size_t facts_size,
                                                     abigate_error *err)
{
    SIZED_OUT(abigate_verdict, v, ABIGATE__VERDICT_MIN, 1);
    if (v && !v_w)
        return too_old(err, "abigate_gate_judge_zip_member_facts");
    SIZED_OUT(abigate_file_info, facts, ABIGATE__FILE_INFO_MIN, 1);
    if (facts && !facts_w)
        return too_old(err, "abigate_gate_judge_zip_member_facts");
    int r = abigate__gate_judge_zip_member_facts(gate, zip, i, policy, v_w, facts_w, err);
    GIVE(v, 1);
    GIVE(facts, 1);
    return r;
}

ABIGATE_API int abigate_wheel_tags_decide_(const abigate_wheel_tags *tags, int read_rc,
                                           const char *problem, const char *source,
                                           const abigate_policy *policy, abigate_verdict *out,
                                           size_t out_size)
{
    SIZED_OUT(abigate_verdict, out, ABIGATE__VERDICT_MIN, 1);
    if (out && !out_w)
        return too_old(NULL, "abigate_wheel_tags_decide");
    int r = abigate__wheel_tags_decide(tags, read_rc, problem, source, policy, out_w);
    GIVE(out, 1);
    return r;
}

ABIGATE_API int abigate_wheel_decide_(const abigate_wheel_tags *tags, const char *source,
                                      const abigate_file_info *member, size_t member_size,
                                      const abigate_policy *policy, abigate_verdict *out,
                                      size_t out_size)
{
    SIZED_IN(abigate_file_info, member, ABIGATE__FILE_INFO_MIN, 1);
    if (member && !member_w)
        return too_old(NULL, "abigate_wheel_decide");
    SIZED_OUT(abigate_verdict, out, ABIGATE__VERDICT_MIN, 1);
    if (out && !out_w)
        return too_old(NULL, "abigate_wheel_decide");
    int r = abigate__wheel_decide(tags, source, member_w, policy, out_w);
    GIVE(out, 1);
    return r;
}

ABIGATE_API void *abigate_gate_dlopen_(abigate_gate *gate, const char *path, int dlflags,
                                       const abigate_policy *policy, abigate_verdict *v,
                                       size_t v_size, abigate_error *err)
{
    SIZED_OUT(abigate_verdict, v, ABIGATE__VERDICT_MIN, 1);
    if (v && !v_w)
        return too_old(err, "abigate_gate_dlopen"), NULL;
    void *r = abigate__gate_dlopen(gate, path, dlflags, policy, v_w, err);
    GIVE(v, 1);
    return r;
}

ABIGATE_API int abigate_verdict_unreadable_(const abigate_policy *policy, const abigate_error *why,
                                            abigate_verdict *v, size_t v_size)
{
    SIZED_OUT(abigate_verdict, v, ABIGATE__VERDICT_MIN, 1);
    if (v && !v_w)
        return too_old(NULL, "abigate_verdict_unreadable");
    int r = abigate__verdict_unreadable(policy, why, v_w);
    GIVE(v, 1);
    return r;
}

ABIGATE_API size_t abigate_gate_format_(int kind, const char *action, const char *module,
                                        const char *path, const abigate_verdict *v, size_t v_size,
                                        const abigate_error *err, char *buf, size_t len)
{
    SIZED_IN(abigate_verdict, v, ABIGATE__VERDICT_MIN, 1);
    if (v && !v_w)
        return 0;
    return abigate__gate_format(kind, action, module, path, v_w, err, buf, len);
}

ABIGATE_API const char *abigate_verdict_rule_(const abigate_verdict *v, size_t v_size)
{
    SIZED_IN(abigate_verdict, v, ABIGATE__VERDICT_MIN, 1);
    if (v && !v_w)
        return abigate_code_name(ABIGATE_E_INVALID_ARG);
    return abigate__verdict_rule(v_w);
}

ABIGATE_API int abigate_walk_judge_(abigate_gate *gate, const abigate_walk_item *item,
                                    const abigate_policy *policy, abigate_verdict *v, size_t v_size,
                                    abigate_file_info *facts, size_t facts_size, abigate_error *err)
{
    SIZED_OUT(abigate_verdict, v, ABIGATE__VERDICT_MIN, 1);
    if (v && !v_w)
        return too_old(err, "abigate_walk_judge");
    SIZED_OUT(abigate_file_info, facts, ABIGATE__FILE_INFO_MIN, 1);
    if (facts && !facts_w)
        return too_old(err, "abigate_walk_judge");
    int r = abigate__walk_judge(gate, item, policy, v_w, facts_w, err);
    GIVE(v, 1);
    GIVE(facts, 1);
    return r;
}

ABIGATE_API unsigned abigate_walk_judge_tags_(const abigate_walk_item *item,
                                              const abigate_file_info *facts, size_t facts_size,
                                              const abigate_policy *policy,
                                              abigate_verdict v[ABIGATE_WALK_TAG_SETS],
                                              size_t v_size)
{
    SIZED_IN(abigate_file_info, facts, ABIGATE__FILE_INFO_MIN, 1);
    if (facts && !facts_w)
        return 0;
    SIZED_OUT(abigate_verdict, v, ABIGATE__VERDICT_MIN, ABIGATE_WALK_TAG_SETS);
    if (v && !v_w)
        return 0;
    unsigned r = abigate__walk_judge_tags(item, facts_w, policy, v_w);
    GIVE(v, ABIGATE_WALK_TAG_SETS);
    return r;
}

/* The profile (abigate_profile), a structure that grows too. */

ABIGATE_API int abigate_profile_init_(abigate_profile *p, size_t p_size, uint32_t hexversion,
                                      unsigned flags)
{
    SIZED_OUT(abigate_profile, p, ABIGATE__PROFILE_MIN, 1);
    if (p && !p_w)
        return too_old(NULL, "abigate_profile_init");
    int r = abigate__profile_init(p_w, hexversion, flags);
    GIVE(p, 1);
    return r;
}

ABIGATE_API int abigate_profile_parse_(abigate_profile *p, size_t p_size, const char *spec,
                                       abigate_error *err)
{
    /* p is left untouched on failure: read it in, give it back */
    SIZED_IN(abigate_profile, p, ABIGATE__PROFILE_MIN, 1);
    if (p && !p_w)
        return too_old(err, "abigate_profile_parse");
    int r = abigate__profile_parse((abigate_profile *)p_w, spec, err);
    GIVE(p, 1);
    return r;
}

ABIGATE_API int abigate_profile_from_process_(abigate_profile *p, size_t p_size,
                                              abigate_symbols *exports, abigate_error *err)
{
    SIZED_OUT(abigate_profile, p, ABIGATE__PROFILE_MIN, 1);
    if (p && !p_w)
        return too_old(err, "abigate_profile_from_process");
    int r = abigate__profile_from_process(p_w, exports, err);
    GIVE(p, 1);
    return r;
}

ABIGATE_API int abigate_profile_load_exports_(abigate_profile *p, size_t p_size, const char *path,
                                              int derive_flags, abigate_symbols *exports,
                                              abigate_error *err)
{
    SIZED_IN(abigate_profile, p, ABIGATE__PROFILE_MIN, 1); /* read and written */
    if (p && !p_w)
        return too_old(err, "abigate_profile_load_exports");
    int r = abigate__profile_load_exports((abigate_profile *)p_w, path, derive_flags, exports, err);
    GIVE(p, 1);
    return r;
}

ABIGATE_API char *abigate_profile_name_(const abigate_profile *p, size_t p_size, char *buf,
                                        size_t len)
{
    SIZED_IN(abigate_profile, p, ABIGATE__PROFILE_MIN, 1);
    if (p && !p_w)
        return NULL;
    return abigate__profile_name(p_w, buf, len);
}

ABIGATE_API int abigate_decide_abiinfo_(const abigate_abiinfo *info, const abigate_profile *profile,
                                        size_t profile_size)
{
    SIZED_IN(abigate_profile, profile, ABIGATE__PROFILE_MIN, 1);
    if (profile && !profile_w)
        return too_old(NULL, "abigate_decide_abiinfo");
    return abigate__decide_abiinfo(info, profile_w);
}

ABIGATE_API abigate_gate *abigate_gate_new_for_(const abigate_profile *profile, size_t profile_size,
                                                const char *exports_path,
                                                const abigate_gate_config *cfg, abigate_error *err)
{
    SIZED_IN(abigate_profile, profile, ABIGATE__PROFILE_MIN, 1);
    if (profile && !profile_w)
        return too_old(err, "abigate_gate_new_for"), NULL;
    return abigate__gate_new_for(profile_w, exports_path, cfg, err);
}
