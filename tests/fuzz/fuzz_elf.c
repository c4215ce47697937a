/* fuzz_elf.c -- libFuzzer target for the ELF reader: any bytes, both read
 * modes, with and without a symbol buffer and an error struct; whatever is
 * read is then judged by abigate_decide on three profiles (the exports of
 * one being the file's own symbols) in every mode.  Built with
 * --enable-fuzzing; `make check` replays the seed corpus through
 * tests/fuzz/replay.c so every named regression keeps running. */
#include "abigate/abigate.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The same bytes through abigate_read_io, in pieces of at most 4093 bytes
 * a call: a reader that is not a buffer in memory also reads the section
 * headers and the dynamic segment together (read_tail), and every read
 * loop meets short counts. */
struct pieces {
    const uint8_t *p;
    size_t len;
};

static long read_pieces(void *ctx, void *buf, size_t len, uint64_t off)
{
    const struct pieces *c = ctx;
    if (off >= c->len)
        return 0;
    size_t n = c->len - off < len ? c->len - off : len;
    n = n < 4093 ? n : 4093;
    memcpy(buf, c->p + off, n);
    return (long)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static abigate_symbols *syms, *syms2, *exports;
    if (!syms && (!(syms = abigate_symbols_new()) || !(syms2 = abigate_symbols_new()) ||
                  !(exports = abigate_symbols_new())))
        abort();
    abigate_file_info fi;
    abigate_error err;
    int a = abigate_read_buffer(data, size, "fuzz.cpython-313t-x86_64-linux-gnu.so",
                                ABIGATE_READ_RECORD, &fi, NULL, &err);
    int b = abigate_read_buffer(data, size, NULL, ABIGATE_READ_LEGACY, &fi, syms, &err);
    int c = abigate_read_buffer(data, size, NULL, ABIGATE_READ_LEGACY, &fi, NULL, NULL);
    /* invariants: codes are from the table; the same input gives the same
     * code whether or not details were asked for */
    if (a > 0 || b > 0 || strcmp(abigate_strerror(b), "unknown error code") == 0 || b != c)
        abort();
    if (b == ABIGATE_OK)
        for (unsigned i = 0; i < abigate_symbols_count(syms); i++)
            if (strlen(abigate_symbols_name(syms, i)) == 0)
                abort();
    /* read in pieces: the same code, facts and names as from the buffer */
    abigate_file_info fi2, fi_buf;
    if (b == ABIGATE_OK)
        abigate_read_buffer(data, size, NULL, ABIGATE_READ_LEGACY, &fi_buf, syms, NULL);
    struct pieces pc = {data, size};
    abigate_io io = {read_pieces, &pc, size};
    int d = abigate_read_io(&io, NULL, ABIGATE_READ_LEGACY, &fi2, syms2, NULL);
    if (d != b || (b == ABIGATE_OK && (memcmp(&fi2, &fi_buf, sizeof fi2) || abigate_symbols_count(syms2) != abigate_symbols_count(syms))))
        abort();
    for (unsigned i = 0; b == ABIGATE_OK && i < abigate_symbols_count(syms); i++)
        if (strcmp(abigate_symbols_name(syms, i), abigate_symbols_name(syms2, i)))
            abort();
    if (b != ABIGATE_OK)
        return 0;
    /* decide: a verdict from the table and a non-empty message, always */
    if (abigate_read_buffer(data, size, NULL, ABIGATE_READ_EXPORTS, &fi, exports, NULL))
        abort();
    abigate_symbols_sort(exports);
    abigate_read_buffer(data, size, "fuzz.abi3.so", ABIGATE_READ_LEGACY, &fi, syms, NULL);
    static const char *const specs[] = {"3.11", "3.13t", "3.15.0b1d"};
    for (int k = 0; k < 3; k++) {
        abigate_profile p;
        if (abigate_profile_parse(&p, specs[k], NULL))
            abort();
        if (k == 1)
            p.exports = exports;
        for (int mode = ABIGATE_MODE_OFF; mode <= ABIGATE_MODE_REQUIRE; mode++) {
            abigate_policy pol = {mode, ABIGATE_POLICY_ADAPT_ABI3T};
            abigate_verdict v;
            int kind = abigate_decide(&fi, syms, &p, &pol, &v);
            if (kind < ABIGATE_ACCEPT || kind > ABIGATE_REFUSE || kind != v.kind ||
                v.message[0] == '\0' || strlen(v.message) >= sizeof v.message ||
                strcmp(abigate_reason_name(v.reason), "ABIGATE_R_UNKNOWN") == 0)
                abort();
        }
    }
    return 0;
}
