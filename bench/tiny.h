// What bench/tiny.c and bench/bench.c agree on.
#ifndef BENCH_TINY_H
#define BENCH_TINY_H

#define TINY_STATUS 42		// tiny's exit status when it runs with no arguments
#define TINY_EXEC_FAILED 127	// the forked child's status when execve of tiny failed
#define TINY_MARKER "bench: first user program is running\n"

#endif
