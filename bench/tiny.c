// The smallest useful static program, for two jobs:
//  - the exec benchmark runs it with no arguments: it exits with TINY_STATUS at once, so
//    that fork_exec_wait measures fork, execve and exit, not the program;
//  - the boot-time measurement runs it as the first program after init, with the argument
//    "marker": it prints TINY_MARKER, the line the host waits for, and exits 0.
#include <string.h>
#include <unistd.h>

#include "tiny.h"

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "marker") == 0) {
		write(STDOUT_FILENO, TINY_MARKER, sizeof(TINY_MARKER) - 1);
		return 0;
	}
	return TINY_STATUS;
}
