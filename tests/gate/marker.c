/* marker.c -- linked into the test extensions of tests/gate: says on stderr
 * that the file was dlopen()ed (its constructors ran), so a test can tell a
 * refusal before dlopen from a failure after it. */
#include <unistd.h>

__attribute__((constructor)) static void abigate_test_marker(void)
{
    static const char text[] = "ABIGATE-TEST-DLOPENED\n";
    ssize_t n = write(2, text, sizeof text - 1);
    (void)n;
}
