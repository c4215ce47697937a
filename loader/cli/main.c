/* main.c -- the abigate program: its commands are in cli_main (abigate.c).
 *
 * Without --python or --target, check, profile and scan judge for
 * $ABIGATE_PYTHON when it is set (`python -m abigate` sets it to that
 * interpreter), else for the python3 in this program's own directory when
 * there is one (a venv's bin/abigate, installed by pip, judges for that
 * venv's interpreter, as its console scripts do), else for python3 from
 * PATH. */
#include "cli.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char self[PATH_MAX], python[PATH_MAX + 8];
    const char *default_python = getenv("ABIGATE_PYTHON");
    if (default_python && *default_python)
        return cli_main(argc, argv, default_python);
    default_python = NULL;
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            memcpy(python, self, (size_t)(slash - self));
            memcpy(python + (slash - self), "/python3", sizeof "/python3");
            if (access(python, X_OK) == 0)
                default_python = python;
        }
    }
    return cli_main(argc, argv, default_python);
}
