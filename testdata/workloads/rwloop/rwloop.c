/*
 * rwloop: the recorder benchmark's syscall loop, like
 * `dd if=/dev/zero of=/dev/null bs=64 count=N`.
 *
 *   rwloop N
 *
 * Makes N read(2)s of 64 bytes from /dev/zero, each followed by a write(2)
 * of them to /dev/null, and prints the loop's own time in nanoseconds on
 * standard output, "CPU WALL": the CPU time of the thread (user and system,
 * CLOCK_THREAD_CPUTIME_ID, which leaves out time the thread waited for a
 * CPU on a loaded machine) and the wall-clock time (CLOCK_MONOTONIC). Only
 * the loop is timed: start-up, exec and a recorder's set-up are not.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char buf[64];
	struct timespec a, b, ca, cb;
	long n, i;
	int in, out;

	if (argc != 2 || (n = atol(argv[1])) <= 0) {
		fprintf(stderr, "usage: rwloop N\n");
		return 2;
	}
	in = open("/dev/zero", O_RDONLY);
	out = open("/dev/null", O_WRONLY);
	if (in < 0 || out < 0) {
		perror("rwloop: open");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ca);
	for (i = 0; i < n; i++) {
		if (read(in, buf, sizeof buf) != sizeof buf || write(out, buf, sizeof buf) != sizeof buf) {
			perror("rwloop: read/write");
			return 1;
		}
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cb);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%lld %lld\n", (long long)(cb.tv_sec - ca.tv_sec) * 1000000000LL + (cb.tv_nsec - ca.tv_nsec),
	       (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec));
	return 0;
}
