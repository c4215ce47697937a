/* elfimage.c -- see elfimage.h. */
#include "elfimage.h"

#include "abigate/abigate.h"

#include <string.h>

#define ALIGN(x, a) (((x) + (a) - 1) & ~(size_t)((a) - 1))

void elfimage_put(const struct elfimage_spec *s, unsigned char *buf, size_t off, unsigned width,
                  uint64_t v)
{
    for (unsigned i = 0; i < width; i++) {
        unsigned shift = 8 * (s->be ? width - 1 - i : i);
        buf[off + i] = (unsigned char)(v >> shift);
    }
}

static size_t word(const struct elfimage_spec *s) { return s->is64 ? 8 : 4; }

static size_t put_note(const struct elfimage_spec *s, unsigned char *b, size_t off,
                       const char *name, uint32_t type, const unsigned char *desc, size_t dlen)
{
    size_t nlen = strlen(name) + 1;
    elfimage_put(s, b, off, 4, nlen);
    elfimage_put(s, b, off + 4, 4, dlen);
    elfimage_put(s, b, off + 8, 4, type);
    memcpy(b + off + 12, name, nlen);
    size_t d = off + 12 + ALIGN(nlen, 4);
    if (dlen)
        memcpy(b + d, desc, dlen);
    return d + ALIGN(dlen, 4);
}

size_t elfimage_ph_field(const struct elfimage_spec *s, const struct elfimage_layout *l,
                         int i, const char *f, unsigned *w)
{
    size_t base = l->phoff + (size_t)i * l->phentsize;
    *w = s->is64 ? 8 : 4;
    if (!strcmp(f, "type")) { *w = 4; return base; }
    if (!strcmp(f, "offset")) return base + (s->is64 ? 8 : 4);
    if (!strcmp(f, "vaddr")) return base + (s->is64 ? 16 : 8);
    if (!strcmp(f, "filesz")) return base + (s->is64 ? 32 : 16);
    if (!strcmp(f, "align")) return base + (s->is64 ? 48 : 28);
    return (size_t)-1;
}

size_t elfimage_sh_field(const struct elfimage_spec *s, const struct elfimage_layout *l,
                         int i, const char *f, unsigned *w)
{
    size_t base = l->shoff + (size_t)i * l->shentsize;
    *w = s->is64 ? 8 : 4;
    if (!strcmp(f, "type")) { *w = 4; return base + 4; }
    if (!strcmp(f, "offset")) return base + (s->is64 ? 24 : 16);
    if (!strcmp(f, "size")) return base + (s->is64 ? 32 : 20);
    if (!strcmp(f, "link")) { *w = 4; return base + (s->is64 ? 40 : 24); }
    if (!strcmp(f, "entsize")) return base + (s->is64 ? 56 : 36);
    return (size_t)-1;
}

size_t elfimage_dyn_value(const struct elfimage_spec *s, const struct elfimage_layout *l,
                          size_t i, unsigned *w)
{
    *w = (unsigned)word(s);
    return l->dyn_off + i * 2 * word(s) + word(s);
}

void elfimage_phdr(const struct elfimage_spec *s, unsigned char *b, size_t off, uint32_t type,
                   uint32_t flags, uint64_t offset, uint64_t filesz, uint64_t align)
{
    elfimage_put(s, b, off, 4, type);
    if (s->is64) {
        elfimage_put(s, b, off + 4, 4, flags);
        elfimage_put(s, b, off + 8, 8, offset);
        elfimage_put(s, b, off + 16, 8, offset); /* vaddr == offset */
        elfimage_put(s, b, off + 24, 8, offset);
        elfimage_put(s, b, off + 32, 8, filesz);
        elfimage_put(s, b, off + 40, 8, filesz);
        elfimage_put(s, b, off + 48, 8, align);
    } else {
        elfimage_put(s, b, off + 4, 4, offset);
        elfimage_put(s, b, off + 8, 4, offset);
        elfimage_put(s, b, off + 12, 4, offset);
        elfimage_put(s, b, off + 16, 4, filesz);
        elfimage_put(s, b, off + 20, 4, filesz);
        elfimage_put(s, b, off + 24, 4, flags);
        elfimage_put(s, b, off + 28, 4, align);
    }
}

static void put_shdr(const struct elfimage_spec *s, unsigned char *b, size_t off, uint32_t type,
                     uint64_t offset, uint64_t size, uint32_t link, uint64_t align,
                     uint64_t entsize)
{
    elfimage_put(s, b, off + 4, 4, type);
    if (s->is64) {
        elfimage_put(s, b, off + 24, 8, offset);
        elfimage_put(s, b, off + 32, 8, size);
        elfimage_put(s, b, off + 40, 4, link);
        elfimage_put(s, b, off + 48, 8, align);
        elfimage_put(s, b, off + 56, 8, entsize);
    } else {
        elfimage_put(s, b, off + 16, 4, offset);
        elfimage_put(s, b, off + 20, 4, size);
        elfimage_put(s, b, off + 24, 4, link);
        elfimage_put(s, b, off + 32, 4, align);
        elfimage_put(s, b, off + 36, 4, entsize);
    }
}

static void put_sym(const struct elfimage_spec *s, unsigned char *b, size_t off, uint32_t name,
                    unsigned bind, unsigned type, uint16_t shndx)
{
    unsigned char info = (unsigned char)(bind << 4 | type);
    elfimage_put(s, b, off, 4, name);
    if (s->is64) {
        b[off + 4] = info;
        elfimage_put(s, b, off + 6, 2, shndx);
        elfimage_put(s, b, off + 8, 8, shndx ? 0x100 : 0);
    } else {
        elfimage_put(s, b, off + 4, 4, shndx ? 0x100 : 0);
        b[off + 12] = info;
        elfimage_put(s, b, off + 14, 2, shndx);
    }
}

void elfimage_header(const struct elfimage_spec *s, unsigned char *b, size_t phoff,
                     unsigned nph, size_t shoff, unsigned nsh)
{
    memcpy(b, "\177ELF", 4);
    b[4] = s->is64 ? 2 : 1;
    b[5] = s->be ? 2 : 1;
    b[6] = 1;
    elfimage_put(s, b, 16, 2, 3); /* ET_DYN */
    elfimage_put(s, b, 18, 2, s->machine);
    elfimage_put(s, b, 20, 4, 1);
    size_t r = s->is64 ? 32 : 28;
    elfimage_put(s, b, r, (unsigned)word(s), phoff);
    elfimage_put(s, b, r + word(s), (unsigned)word(s), shoff);
    r += 2 * word(s) + 4;
    elfimage_put(s, b, r, 2, s->is64 ? 64 : 52);       /* e_ehsize */
    elfimage_put(s, b, r + 2, 2, s->is64 ? 56 : 32);   /* e_phentsize */
    elfimage_put(s, b, r + 4, 2, nph);
    elfimage_put(s, b, r + 6, 2, s->is64 ? 64 : 40);   /* e_shentsize */
    elfimage_put(s, b, r + 8, 2, nsh);
}

size_t elfimage_build(const struct elfimage_spec *s, unsigned char *b, size_t cap,
                      struct elfimage_layout *l)
{
    static const char strtab[] = "\0libpython3.11.so.1.0\0PyInit_demo\0PyLong_FromLong\0"
                                 "_Py_Dealloc\0malloc";
    size_t nsym = 5, strsz = sizeof strtab; /* the table above, then spec->imports */
    for (size_t i = 0; s->imports && s->imports[i]; i++, nsym++)
        strsz += strlen(s->imports[i]) + 1;
    size_t search_at = strsz; /* the search path's string, after the imports */
    if (s->search_path)
        strsz += strlen(s->search_path) + 1;
    static const unsigned char gnu_desc[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    size_t phent = s->is64 ? 56 : 32, shent = s->is64 ? 64 : 40;
    size_t symsz = s->is64 ? 24 : 16, dynent = 2 * word(s);
    int have_note = s->note_in_phdr || s->note_in_shdr;
    int nph = 1 + (s->note_in_phdr ? 1 : 0) + (s->dynamic ? 1 : 0);

    memset(l, 0, sizeof *l);
    l->ph_note = l->ph_dyn = l->sh_note = l->sh_dynsym = -1;
    l->phoff = 0x40;
    l->phentsize = phent;
    l->shentsize = shent;

    /* compute the layout first, then check the capacity */
    size_t off = ALIGN(l->phoff + (size_t)nph * phent, 16);
    l->note_off = off;
    if (have_note) {
        off += 12 + 4 + 8; /* the GNU note */
        l->rec_note_off = off;
        l->desc_off = off + 12 + 8;
        if (s->desc)
            off = l->desc_off + ALIGN(s->desclen, 4);
        if (s->desc2)
            off += 12 + 8 + ALIGN(s->desc2len, 4);
    }
    l->note_size = off - l->note_off;
    off = ALIGN(off, 16);
    if (s->dynamic) {
        if (s->dynamic_at > off)
            off = ALIGN(s->dynamic_at, 16);
        l->dyn_off = off;
        off += 8 * dynent;
        l->strtab_off = off;
        l->strtab_size = strsz;
        off = ALIGN(off + strsz, 8);
        l->symtab_off = off;
        off += nsym * symsz;
        l->hash_off = off;
        off += 4 * (2 + 1 + nsym);
        off = ALIGN(off, 8);
    }
    int nsh = 1 + (s->note_in_shdr ? 1 : 0) + (s->dynsym_section ? 2 : 0);
    l->shoff = off = ALIGN(off + s->shdrs_gap, 8);
    off += (size_t)nsh * shent;
    if (off < s->pad_to)
        off = s->pad_to;
    l->size = off;
    if (off > cap)
        return 0;
    memset(b, 0, off);

    elfimage_header(s, b, l->phoff, (unsigned)nph, l->shoff, (unsigned)nsh);

    /* program headers */
    int ph = 0;
    elfimage_phdr(s, b, l->phoff, 1, 4, 0, l->size, 0x1000);
    ph++;
    if (s->note_in_phdr) {
        l->ph_note = ph;
        elfimage_phdr(s, b, l->phoff + (size_t)ph++ * phent, 4, 4, l->note_off, l->note_size, 4);
    }
    if (s->dynamic) {
        l->ph_dyn = ph;
        elfimage_phdr(s, b, l->phoff + (size_t)ph++ * phent, 2, 4, l->dyn_off, 8 * dynent, 8);
    }

    /* notes */
    if (have_note) {
        size_t n = put_note(s, b, l->note_off, "GNU", 3, gnu_desc, sizeof gnu_desc);
        if (s->desc)
            n = put_note(s, b, n, ABIGATE_NOTE_NAME, ABIGATE_NOTE_TYPE_RECORD, s->desc,
                         s->desclen);
        if (s->desc2)
            put_note(s, b, n, ABIGATE_NOTE_NAME, ABIGATE_NOTE_TYPE_RECORD, s->desc2,
                     s->desc2len);
    }

    /* dynamic part: DT_NEEDED, STRTAB, STRSZ, SYMTAB, SYMENT, HASH,
     * [DT_RUNPATH or DT_RPATH,] NULL */
    if (s->dynamic) {
        uint64_t tags[8][2] = {{1, 1}, {5, l->strtab_off}, {10, strsz},
                               {6, l->symtab_off}, {11, symsz}, {4, l->hash_off}, {0, 0}, {0, 0}};
        if (s->search_path) {
            tags[6][0] = s->search_is_rpath ? 15 : 29;
            tags[6][1] = search_at;
            memcpy(b + l->strtab_off + search_at, s->search_path, strlen(s->search_path) + 1);
        }
        for (size_t i = 0; i < 8; i++) {
            elfimage_put(s, b, l->dyn_off + i * dynent, (unsigned)word(s), tags[i][0]);
            elfimage_put(s, b, l->dyn_off + i * dynent + word(s), (unsigned)word(s), tags[i][1]);
        }
        l->needed_dyn_index = 0;
        l->strtab_dyn_index = 1;
        l->strsz_dyn_index = 2;
        l->syment_dyn_index = 4;
        l->hash_dyn_index = 5;
        memcpy(b + l->strtab_off, strtab, sizeof strtab);
        /* name offsets in strtab */
        uint32_t n_init = 22, n_long = 34, n_dealloc = 50, n_malloc = 62;
        put_sym(s, b, l->symtab_off + 1 * symsz, n_init, 1, 2, 7);
        put_sym(s, b, l->symtab_off + 2 * symsz, n_long, 1, 2, 0);
        put_sym(s, b, l->symtab_off + 3 * symsz, n_dealloc, 2, 2, 0);
        put_sym(s, b, l->symtab_off + 4 * symsz, n_malloc, 1, 2, 0);
        size_t name = sizeof strtab;
        for (size_t i = 5; i < nsym; i++) { /* undefined GLOBAL FUNC */
            size_t n = strlen(s->imports[i - 5]) + 1;
            memcpy(b + l->strtab_off + name, s->imports[i - 5], n);
            put_sym(s, b, l->symtab_off + i * symsz, (uint32_t)name, 1, 2, 0);
            name += n;
        }
        /* SysV hash: nbucket 1, nchain nsym, bucket -> nsym-1 -> ... -> 1 -> 0 */
        elfimage_put(s, b, l->hash_off, 4, 1);
        elfimage_put(s, b, l->hash_off + 4, 4, nsym);
        elfimage_put(s, b, l->hash_off + 8, 4, nsym - 1);
        for (size_t i = 0; i < nsym; i++)
            elfimage_put(s, b, l->hash_off + 12 + 4 * i, 4, i ? i - 1 : 0);
    }

    /* section headers: [0] null, [note], [dynstr, dynsym] */
    int sh = 1;
    if (s->note_in_shdr) {
        l->sh_note = sh;
        put_shdr(s, b, l->shoff + (size_t)sh++ * shent, 7, l->note_off, l->note_size, 0, 4, 0);
    }
    if (s->dynsym_section) {
        int strndx = sh;
        put_shdr(s, b, l->shoff + (size_t)sh++ * shent, 3, l->strtab_off, l->strtab_size, 0, 1,
                 0);
        l->sh_dynsym = sh;
        put_shdr(s, b, l->shoff + (size_t)sh++ * shent, 11, l->symtab_off, nsym * symsz,
                 (uint32_t)strndx, 8, symsz);
    }
    return l->size;
}

size_t elfimage_sample_record(unsigned char *desc, int be)
{
    abigate_record rec;
    memset(&rec, 0, sizeof rec);
    rec.abiinfo.major = 1;
    rec.abiinfo.flags = ABIGATE_ABIINFO_GIL;
    rec.abiinfo.build_version = 0x030d01f0;
    rec.abiinfo.abi_version = 0x030d01f0;
    rec.flags = ABIGATE_REC_HOOK_PYINIT;
    rec.pointer_size = 8;
    return (size_t)abigate_record_encode(&rec, be, desc, ABIGATE_RECORD_SIZE_1_0);
}
