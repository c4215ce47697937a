/* abigate/slots315.h -- the one table from CPython 3.15's module slots
 * (PEP 793 slots-only modules, PEP 820 slot numbers) to what 3.12 to 3.14
 * know: the fields of a PyModuleDef and the old PyModuleDef_Slot IDs.
 *
 * Used by <abigate/universal.h> (in an extension, compiled against the 3.15
 * headers) and by the import gate's abi3t backport (loader/gate/backport.c,
 * compiled against each older interpreter's own headers), so it names no
 * Python type: the slot array is read through its own 16-byte mirror.
 *
 * Facts, from the headers of CPython 3.15.2 (Include/slots.h,
 * Include/slots_generated.h) and 3.13/3.14 (Include/moduleobject.h):
 *   - struct PySlot: uint16_t sl_id, uint16_t sl_flags, uint32_t reserved,
 *     then an 8-byte union (pointer, function, Py_ssize_t, int64);
 *     PySlot_OPTIONAL is flag 0x0001; an array ends with sl_id 0;
 *   - module slot IDs: Py_mod_create 84, _exec 85, _multiple_interpreters 86,
 *     _gil 87 (also accepted as their old values 1-4), Py_slot_subslots 92,
 *     Py_mod_slots 94 (both nest another array), Py_mod_name 100, _doc 101,
 *     _state_size 102, _methods 103, _state_traverse 104, _state_clear 105,
 *     _state_free 106, Py_mod_abi 109, Py_mod_token 110;
 *   - before 3.15: PyModuleDef_Slot is {int slot; void *value}; the IDs are
 *     Py_mod_create 1, Py_mod_exec 2, Py_mod_multiple_interpreters 3 (3.12+),
 *     Py_mod_gil 4 (3.13+).
 */
#ifndef ABIGATE_SLOTS315_H
#define ABIGATE_SLOTS315_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct abigate_pyslot {
    uint16_t id;
    uint16_t flags;
    uint32_t reserved;
    union {
        void *ptr;
        void (*func)(void);
        intptr_t size;
        int64_t i64;
    } v;
} abigate_pyslot;

#define ABIGATE_PYSLOT_OPTIONAL 0x0001u
#define ABIGATE_MAX_OLD_SLOTS 64
#define ABIGATE_MAX_SLOTS_SEEN 4096 /* bounds a malformed (cyclic) array */
#define ABIGATE_MAX_SLOT_DEPTH 8

enum {
    ABIGATE_S315_END = 0,
    ABIGATE_S315_MOD_CREATE = 84, ABIGATE_S315_MOD_EXEC = 85,
    ABIGATE_S315_MOD_MULTIPLE_INTERPRETERS = 86, ABIGATE_S315_MOD_GIL = 87,
    ABIGATE_S315_SUBSLOTS = 92, ABIGATE_S315_MOD_SLOTS = 94,
    ABIGATE_S315_MOD_NAME = 100, ABIGATE_S315_MOD_DOC = 101, ABIGATE_S315_MOD_STATE_SIZE = 102,
    ABIGATE_S315_MOD_METHODS = 103, ABIGATE_S315_MOD_STATE_TRAVERSE = 104,
    ABIGATE_S315_MOD_STATE_CLEAR = 105, ABIGATE_S315_MOD_STATE_FREE = 106,
    ABIGATE_S315_MOD_ABI = 109, ABIGATE_S315_MOD_TOKEN = 110
};

/* The old PyModuleDef_Slot IDs, and the versions that know them. */
enum { ABIGATE_OLD_CREATE = 1, ABIGATE_OLD_EXEC = 2, ABIGATE_OLD_MULTIPLE_INTERPRETERS = 3,
       ABIGATE_OLD_GIL = 4 };

/* What a 3.15 slot array says, in the terms of an older PyModuleDef. */
typedef struct abigate_moddef_fields {
    const char *name, *doc;
    intptr_t size;
    void *methods;
    void (*traverse)(void), (*clear)(void), (*free)(void);
    struct { int slot; void *value; } slots[ABIGATE_MAX_OLD_SLOTS + 1]; /* ends with {0, NULL} */
    unsigned n_slots, seen;
    const void *abi;      /* the Py_mod_abi slot's PyABIInfo, or NULL */
    char error[200];
} abigate_moddef_fields;

static inline int abigate__add_old_slot(abigate_moddef_fields *f, int id, void *value)
{
    if (f->n_slots >= ABIGATE_MAX_OLD_SLOTS) {
        snprintf(f->error, sizeof f->error, "more than %d module slots", ABIGATE_MAX_OLD_SLOTS);
        return -1;
    }
    f->slots[f->n_slots].slot = id;
    f->slots[f->n_slots].value = value;
    f->n_slots++;
    f->slots[f->n_slots].slot = 0;
    f->slots[f->n_slots].value = NULL;
    return 0;
}

static inline int abigate__translate315(const abigate_pyslot *s, abigate_moddef_fields *f,
                                        unsigned long runtime_hex, int depth)
{
    if (depth > ABIGATE_MAX_SLOT_DEPTH) {
        snprintf(f->error, sizeof f->error, "slot arrays nested deeper than %d",
                 ABIGATE_MAX_SLOT_DEPTH);
        return -1;
    }
    for (; s->id != ABIGATE_S315_END; s++) {
        int rc = 0;
        if (++f->seen > ABIGATE_MAX_SLOTS_SEEN) {
            snprintf(f->error, sizeof f->error, "more than %d slots (unterminated array?)",
                     ABIGATE_MAX_SLOTS_SEEN);
            return -1;
        }
        switch (s->id) {
        case ABIGATE_S315_SUBSLOTS:
        case ABIGATE_S315_MOD_SLOTS:
            rc = s->v.ptr ? abigate__translate315((const abigate_pyslot *)s->v.ptr, f, runtime_hex,
                                                  depth + 1)
                          : 0;
            break;
        case ABIGATE_S315_MOD_NAME: f->name = (const char *)s->v.ptr; break;
        case ABIGATE_S315_MOD_DOC: f->doc = (const char *)s->v.ptr; break;
        case ABIGATE_S315_MOD_STATE_SIZE: f->size = s->v.size; break;
        case ABIGATE_S315_MOD_METHODS: f->methods = s->v.ptr; break;
        case ABIGATE_S315_MOD_STATE_TRAVERSE: f->traverse = s->v.func; break;
        case ABIGATE_S315_MOD_STATE_CLEAR: f->clear = s->v.func; break;
        case ABIGATE_S315_MOD_STATE_FREE: f->free = s->v.func; break;
        case ABIGATE_S315_MOD_ABI: f->abi = s->v.ptr; break;
        case ABIGATE_S315_MOD_TOKEN:
            break; /* no module tokens before 3.15: nothing to declare */
        case ABIGATE_S315_MOD_CREATE:
        case ABIGATE_OLD_CREATE:
            rc = abigate__add_old_slot(f, ABIGATE_OLD_CREATE, s->v.ptr);
            break;
        case ABIGATE_S315_MOD_EXEC:
        case ABIGATE_OLD_EXEC:
            rc = abigate__add_old_slot(f, ABIGATE_OLD_EXEC, s->v.ptr);
            break;
        case ABIGATE_S315_MOD_MULTIPLE_INTERPRETERS:
        case ABIGATE_OLD_MULTIPLE_INTERPRETERS:
            if (runtime_hex >= 0x030c0000UL) /* before 3.12: one GIL, nothing to declare */
                rc = abigate__add_old_slot(f, ABIGATE_OLD_MULTIPLE_INTERPRETERS, s->v.ptr);
            break;
        case ABIGATE_S315_MOD_GIL:
        case ABIGATE_OLD_GIL:
            if (runtime_hex >= 0x030d0000UL) /* before 3.13: there is always a GIL */
                rc = abigate__add_old_slot(f, ABIGATE_OLD_GIL, s->v.ptr);
            break;
        default:
            if (s->flags & ABIGATE_PYSLOT_OPTIONAL)
                break;
            snprintf(f->error, sizeof f->error,
                     "slot ID %u is not known before 3.15 and is not optional", s->id);
            return -1;
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* Translate the slot array `slots` (what PyModExport_<name> returned) for
 * an interpreter of PY_VERSION_HEX `runtime_hex`.  Returns 0, or -1 with
 * f->error saying why (a slot that cannot be expressed, a malformed array). */
static inline int abigate_translate315(const void *slots, abigate_moddef_fields *f,
                                       unsigned long runtime_hex)
{
    memset(f, 0, sizeof *f);
    if (!slots) {
        snprintf(f->error, sizeof f->error, "the export hook returned no slots");
        return -1;
    }
    return abigate__translate315((const abigate_pyslot *)slots, f, runtime_hex, 0);
}

#endif /* ABIGATE_SLOTS315_H */
