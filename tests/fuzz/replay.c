/* replay.c -- runs the fuzz target over files, without libFuzzer, so that
 * `make check` exercises the target on every build: each file whole, then
 * every prefix at 64-byte steps and each single-byte flip of its first
 * 256 bytes (the header area, where the reader branches most).  Prints TAP,
 * one line per file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FILE (8u << 20)

int main(int argc, char **argv)
{
    int n = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            printf("not ok %d - %s: cannot open\n", ++n, argv[i]);
            continue;
        }
        uint8_t *buf = malloc(MAX_FILE);
        size_t len = buf ? fread(buf, 1, MAX_FILE, f) : 0;
        fclose(f);
        if (!buf) {
            printf("Bail out! out of memory\n");
            return 99;
        }
        LLVMFuzzerTestOneInput(buf, len);
        for (size_t cut = 0; cut < len; cut += 64)
            LLVMFuzzerTestOneInput(buf, cut);
        for (size_t at = 0; at < len && at < 256; at++) {
            buf[at] ^= 0xff;
            LLVMFuzzerTestOneInput(buf, len);
            buf[at] ^= 0xff;
        }
        /* and of its last 256 bytes (an archive's end records and central
         * directory; an ELF file's section headers) */
        size_t tail = len > 512 ? len - 256 : len;
        for (size_t at = tail; at < len; at++) {
            buf[at] ^= 0xff;
            LLVMFuzzerTestOneInput(buf, len);
            buf[at] ^= 0xff;
        }
        free(buf);
        printf("ok %d - %s: whole, %zu prefixes, %zu byte flips\n", ++n, argv[i],
               (len + 63) / 64, (len < 256 ? len : 256) + (len - tail));
    }
    printf("1..%d\n", n);
    return 0;
}
