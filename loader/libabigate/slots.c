/* slots.c -- CPython's own PyABIInfo in a module's slot arrays, from the
 * bytes of a data section as a PE or Mach-O file holds them (pe.c,
 * macho.c; elf.c reads its own relocation tables the same way, "the
 * native record").
 *
 * A module slot array ({int slot; void *value}, PyModuleDef_Slot, or
 * 3.15's 16-byte PySlot) is searched from its aligned anchor: Py_mod_abi
 * (109) or, in a file without a record of its own, Py_mod_exec /
 * Py_mod_create of 3.15's numbering (85, 84).  It is taken when well
 * formed (docs/FORMAT.md, "The native record"): forward to its {0, NULL}
 * terminator in at most ABIGATE__SLOTS_MAX entries, every slot an ID of
 * PEP 820's numbering, every pointer slot fixed up by the loader (the
 * reader's fixed(): a base relocation, a rebase, a chained fixup) to an
 * address inside the image, the integer slots small and not fixed up, nor
 * the terminator.  Its Py_mod_abi value is read as a 12-byte PyABIInfo
 * (the reader's read_abi()); only major version 1 is taken, and every
 * module of the file must agree.  And, in a file without a record of its
 * own, an array of the numbering of 3.15's alphas (PyModuleDef_Slot form,
 * anchored by their Py_mod_abi, 5, with a PyABIInfo there): nat->alpha, no
 * record (no release loads it). */
#include "internal.h"

#include <string.h>

#define SLOT_MOD_ABI 109u

/* 1 when the array whose anchor entry is data[e] (address addr + e) is
 * well formed; *abi its Py_mod_abi pointer's target (0 none). */
static int walk_array(const struct abigate__slot_reader *r, const unsigned char *data,
                      uint64_t len, uint64_t addr, uint64_t e, int form, int alpha, uint64_t *abi)
{
    const int be = r->be;
    const unsigned w = r->is64 ? 8 : 4, size = form ? 16 : 2 * w, voff = form ? 8 : w;
    *abi = 0;
    for (unsigned k = 0; k < ABIGATE__SLOTS_MAX && len - e >= size; k++, e += size) {
        const unsigned char *b = data + e;
        long id;
        if (form == 0)
            id = (r->is64 && abigate__get32(b + 4, be)) ? -1 : (long)abigate__get32(b, be);
        else
            id = (abigate__get32(b + 4, be) || (abigate__get16(b + 2, be) & ~7u))
                     ? -1 : (long)abigate__get16(b, be);
        uint64_t value = w == 8 ? abigate__get64(b + voff, be) : abigate__get32(b + voff, be);
        uint64_t target = 0;
        int fixed = r->fixed(r->ctx, addr + e + voff, value, &target);
        if (id == 0)
            return value == 0 && fixed == 0;
        int kind = id <= 0 || id > 0xffff ? 0
                   : alpha ? abigate__alpha_slot_kind((unsigned)id)
                   : abigate__mod_slot_kind((unsigned)id);
        if (kind == 2) {
            if (fixed || (id != (alpha ? 8 : 102) && value > 2)) /* a state's size */
                return 0;
            continue;
        }
        if (kind != 1 || fixed != 1 || !r->inside(r->ctx, target))
            return 0;
        if (id == (alpha ? (long)ABIGATE__SLOT_ABI_ALPHA : (long)SLOT_MOD_ABI))
            *abi = target;
    }
    return 0; /* no terminator within bounds */
}

void abigate__slot_search(const struct abigate__slot_reader *r, const unsigned char *data,
                          uint64_t len, uint64_t addr, int own_record,
                          struct abigate__native_found *nat)
{
    const unsigned w = r->is64 ? 8 : 4;
    for (uint64_t e = (w - addr % w) % w;
         len >= e && len - e >= 2 * w && nat->arrays < ABIGATE__SLOT_ARRAYS_MAX; e += w) {
        for (int form = 0; form < 2; form++) {
            unsigned id = form ? abigate__get16(data + e, r->be) : abigate__get32(data + e, r->be);
            int alpha = form == 0 && id == ABIGATE__SLOT_ABI_ALPHA && !own_record;
            if ((form && (len - e < 16 || w != 8)) ||
                (id != SLOT_MOD_ABI && !alpha && (own_record || (id != 84 && id != 85))))
                continue;
            uint64_t abi, off;
            if (!walk_array(r, data, len, addr, e, form, alpha, &abi))
                continue;
            nat->arrays++;
            if (id != SLOT_MOD_ABI && !alpha) {
                nat->slot_id_315 = nat->slot_id_315 ? nat->slot_id_315 : id;
                continue;
            }
            unsigned char b[12];
            if (r->read_abi(r->ctx, abi, b, &off))
                continue;
            abigate_abiinfo a = {b[0], b[1], abigate__get16(b + 2, r->be),
                                 abigate__get32(b + 4, r->be), abigate__get32(b + 8, r->be)};
            if (a.major != 1)
                continue;
            if (alpha) {
                nat->alpha |= abigate__alpha_abiinfo_ok(&a);
                continue;
            }
            nat->slot_id_315 = nat->slot_id_315 ? nat->slot_id_315 : 85;
            if (!nat->found) {
                nat->found = 1;
                nat->info = a;
                nat->at = off;
            } else if (memcmp(&a, &nat->info, sizeof a)) {
                nat->conflict = 1;
            }
        }
    }
}

int abigate__native_wanted(const abigate_file_info *out)
{
    return out->record_state == ABIGATE_RECORD_ABSENT ||
           (out->record_state == ABIGATE_RECORD_PRESENT &&
            out->record.abiinfo.build_version >= 0x030f0000u);
}

void abigate__native_join(const struct abigate__native_found *nat, unsigned pointer_size,
                          abigate_file_info *out)
{
    int own = out->record_state != ABIGATE_RECORD_ABSENT;
    if (!own)
        out->slot_id_315 = nat->slot_id_315;
    if (!own && nat->alpha)
        out->slot_id_old = ABIGATE__SLOT_ABI_ALPHA;
    if (nat->found && !own) {
        out->record_state = nat->conflict ? ABIGATE_RECORD_CONFLICT : ABIGATE_RECORD_PRESENT;
        out->record_via = ABIGATE_VIA_PYABIINFO;
        out->record_offset = nat->at;
        abigate__native_record(&nat->info, pointer_size, &out->record);
    } else if (nat->found &&
               (nat->conflict || memcmp(&nat->info, &out->record.abiinfo, sizeof nat->info))) {
        out->record_state = ABIGATE_RECORD_CONFLICT; /* abigate's own record is kept */
    }
}
