/*
 * manycalls: a syscall-volume workload for profgen tests and benchmarks.
 *
 *   manycalls N [fcntl]
 *
 * Makes exactly N getppid() calls (a raw syscall each: getppid has no vDSO
 * and glibc does not cache it), then one personality(0xffffffff), which only
 * queries the current persona: a rare syscall that must not be lost behind
 * the flood. Prints "manycalls: N ok" and exits 0.
 *
 * With "fcntl", the N calls are fcntl(0, F_GETFD) instead: a syscall whose
 * argument profgen pins, for benchmarks of argument checking.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char *end;
	long long n, i;

	int use_fcntl = argc == 3 && strcmp(argv[2], "fcntl") == 0;

	if (argc != 2 && !use_fcntl) {
		fprintf(stderr, "usage: manycalls N [fcntl]\n");
		return 2;
	}
	errno = 0;
	n = strtoll(argv[1], &end, 10);
	if (errno != 0 || *end != '\0' || end == argv[1] || n < 0) {
		fprintf(stderr, "manycalls: bad N %s\n", argv[1]);
		return 2;
	}
	for (i = 0; i < n; i++) {
		if (use_fcntl)
			syscall(SYS_fcntl, 0, F_GETFD);
		else
			syscall(SYS_getppid);
	}
	if (syscall(SYS_personality, 0xffffffffUL) < 0) {
		fprintf(stderr, "manycalls: personality: %s\n", strerror(errno));
		return 1;
	}
	printf("manycalls: %lld ok\n", n);
	return 0;
}
