/* alpha.c -- the source of the fuzz seeds alpha-lld.so and alpha-bfd.so (README). */
struct abi { unsigned char major, minor; unsigned short flags; unsigned build, abiv; };
static struct abi info = {1, 0, 2, 0x030f02f0, 0x030f02f0};
static int exec_m(void *m) { (void)m; return 0; }
struct slot { int id; void *v; };
struct slot slots[] = {{5, &info}, {2, (void *)exec_m}, {3, (void *)2}, {0, 0}};
void *PyModExport_m(void) { return slots; }
struct slot oslots[] = {{2, (void *)exec_m}, {4, (void *)1}, {0, 0}};
struct def { long refcnt; void *type, *init; long index; void *copy; const char *name, *doc; long size; void *methods, *slots, *a, *b, *c; };
struct def d = {1, 0, 0, 0, 0, "fuzz", "doc", -1, 0, oslots, 0, 0, 0};
void *PyInit_m(void) { return &d; }
