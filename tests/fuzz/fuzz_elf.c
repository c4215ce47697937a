/* fuzz_elf.c -- libFuzzer target for the ELF reader: any bytes, both read
 * modes, with and without a symbol buffer and an error struct.  Built with
 * --enable-fuzzing; `make check` replays the seed corpus through
 * tests/fuzz/replay.c so every named regression keeps running. */
#include "abigate.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static abigate_symbols syms;
    abigate_file_info fi;
    abigate_error err;
    int a = abigate_read_buffer(data, size, "fuzz.cpython-313t-x86_64-linux-gnu.so",
                                ABIGATE_READ_RECORD, &fi, NULL, &err);
    int b = abigate_read_buffer(data, size, NULL, ABIGATE_READ_LEGACY, &fi, &syms, &err);
    int c = abigate_read_buffer(data, size, NULL, ABIGATE_READ_LEGACY, &fi, NULL, NULL);
    /* invariants: codes are from the table; the same input gives the same
     * code whether or not details were asked for */
    if (a > 0 || b > 0 || strcmp(abigate_strerror(b), "unknown error code") == 0 || b != c)
        abort();
    if (b == ABIGATE_OK)
        for (unsigned i = 0; i < syms.count; i++)
            if (strlen(abigate_symbols_name(&syms, i)) == 0)
                abort();
    return 0;
}
