/*
 * manyshapes: a workload that overflows a small shape map.
 *
 *   manyshapes N
 *
 * Makes ioctl(-1, REQUEST) for N distinct requests (0x7e000000 + i; each
 * fails with EBADF), so that the recording holds N+ distinct (syscall,
 * argument shape) pairs; then, as calls never made before, one
 * prctl(PR_GET_DUMPABLE) (a captured argument: a new shape, lost when the
 * map is full), one sched_yield() and one getpgid(0) (no captured
 * argument: counted per syscall number, never lost). Prints
 * "manyshapes: N ok" and exits 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sched.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char *end;
	long n, i;

	if (argc != 2 || (n = strtol(argv[1], &end, 10)) < 0 || *end != '\0') {
		fprintf(stderr, "usage: manyshapes N\n");
		return 2;
	}
	for (i = 0; i < n; i++) {
		if (ioctl(-1, 0x7e000000UL + (unsigned long)i) != -1 || errno != EBADF) {
			fprintf(stderr, "manyshapes: ioctl %ld did not fail with EBADF\n", i);
			return 1;
		}
	}
	if (prctl(PR_GET_DUMPABLE) < 0) {
		perror("prctl");
		return 1;
	}
	sched_yield();
	if (getpgid(0) < 0) {
		perror("getpgid");
		return 1;
	}
	printf("manyshapes: %ld ok\n", n);
	return 0;
}
