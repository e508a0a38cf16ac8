/*
 * manycalls: a syscall-volume workload for profgen tests and benchmarks.
 *
 *   manycalls N
 *
 * Makes exactly N getppid() calls (a raw syscall each: getppid has no vDSO
 * and glibc does not cache it), then one personality(0xffffffff), which only
 * queries the current persona: a rare syscall that must not be lost behind
 * the flood. Prints "manycalls: N ok" and exits 0.
 */
#define _GNU_SOURCE
#include <errno.h>
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

	if (argc != 2) {
		fprintf(stderr, "usage: manycalls N\n");
		return 2;
	}
	errno = 0;
	n = strtoll(argv[1], &end, 10);
	if (errno != 0 || *end != '\0' || end == argv[1] || n < 0) {
		fprintf(stderr, "manycalls: bad N %s\n", argv[1]);
		return 2;
	}
	for (i = 0; i < n; i++)
		syscall(SYS_getppid);
	if (syscall(SYS_personality, 0xffffffffUL) < 0) {
		fprintf(stderr, "manycalls: personality: %s\n", strerror(errno));
		return 1;
	}
	printf("manycalls: %lld ok\n", n);
	return 0;
}
