/* elfimage.h -- craft small ELF images in memory for the reader tests.
 *
 * The image is a shared object whose one PT_LOAD maps the whole file at
 * vaddr 0 (so addresses equal offsets).  Parts are optional: the note area
 * (a GNU note then the abigate note(s)) seen through PT_NOTE and/or an
 * SHT_NOTE section, and a dynamic part (PT_DYNAMIC with DT_NEEDED
 * libpython3.11.so.1.0, a hash table, and four symbols: PyInit_demo
 * defined, PyLong_FromLong and _Py_Dealloc (weak) undefined, malloc
 * undefined).  The layout struct gives every offset a test may corrupt.
 */
#ifndef ELFIMAGE_H
#define ELFIMAGE_H

#include <stddef.h>
#include <stdint.h>

struct elfimage_spec {
    int is64, be;
    unsigned machine;
    int note_in_phdr, note_in_shdr;
    int dynamic, dynsym_section;
    const unsigned char *desc;  /* abigate descriptor, NULL for none */
    size_t desclen;
    const unsigned char *desc2; /* a second abigate note, NULL for none */
    size_t desc2len;
    size_t pad_to;              /* grow the file to at least this size */
    const char *const *imports; /* more undefined symbols, NULL-terminated, or NULL */
    size_t dynamic_at;          /* the dynamic part at least at this offset (0: after the notes) */
    size_t shdrs_gap;           /* bytes between the dynamic part and the section headers */
    const char *search_path;    /* DT_RUNPATH (or DT_RPATH with search_is_rpath), or NULL */
    int search_is_rpath;
};

struct elfimage_layout {
    size_t size;
    size_t phoff, phentsize, shoff, shentsize;
    int ph_note, ph_dyn;        /* program header index, -1 if absent */
    int sh_note, sh_dynsym;     /* section index, -1 if absent */
    size_t note_off, note_size; /* whole note area */
    size_t rec_note_off;        /* the abigate note header */
    size_t desc_off;            /* its descriptor */
    size_t dyn_off, strtab_off, strtab_size, symtab_off, hash_off;
    size_t needed_dyn_index, strtab_dyn_index, strsz_dyn_index, syment_dyn_index,
        hash_dyn_index;
};

/* Build into buf[cap]; returns the image size, 0 if cap is too small. */
size_t elfimage_build(const struct elfimage_spec *spec, unsigned char *buf, size_t cap,
                      struct elfimage_layout *lay);

/* Write an unsigned value of `width` bytes (1, 2, 4, 8) at `off` in the
 * spec's byte order. */
void elfimage_put(const struct elfimage_spec *spec, unsigned char *buf, size_t off,
                  unsigned width, uint64_t v);

/* The ELF header (ET_DYN, the spec's class, byte order and machine), and
 * one program header (vaddr == offset, memsz == filesz). */
void elfimage_header(const struct elfimage_spec *spec, unsigned char *buf, size_t phoff,
                     unsigned nph, size_t shoff, unsigned nsh);
void elfimage_phdr(const struct elfimage_spec *spec, unsigned char *buf, size_t off,
                   uint32_t type, uint32_t flags, uint64_t offset, uint64_t filesz, uint64_t align);

/* Offsets of fields that tests corrupt. */
size_t elfimage_ph_field(const struct elfimage_spec *spec, const struct elfimage_layout *lay,
                         int index, const char *field, unsigned *width);
size_t elfimage_sh_field(const struct elfimage_spec *spec, const struct elfimage_layout *lay,
                         int index, const char *field, unsigned *width);
size_t elfimage_dyn_value(const struct elfimage_spec *spec, const struct elfimage_layout *lay,
                          size_t index, unsigned *width);

/* A valid record descriptor of a 3.13.1 GIL version-specific build. */
size_t elfimage_sample_record(unsigned char *desc, int be);

#endif
