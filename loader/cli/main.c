/* main.c -- the abigate program: its commands are in cli_main (abigate.c),
 * which the import gate's module runs too (`python -m abigate scan`). */
#include "cli.h"

int main(int argc, char **argv)
{
    return cli_main(argc, argv);
}
