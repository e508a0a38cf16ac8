/*
 * rwloop: the benchmarks' syscall loops.
 *
 *   rwloop N [MODE [FILTER]]
 *
 * MODE "rw" (the default) makes N read(2)s of 64 bytes from /dev/zero, each
 * followed by a write(2) of them to /dev/null, like
 * `dd if=/dev/zero of=/dev/null bs=64 count=N`. MODE "futex" makes N
 * futex(FUTEX_WAKE_PRIVATE) calls on a word nobody waits on, each followed
 * by fcntl(0, F_GETFD): two syscalls whose arguments a learned profile pins.
 * MODE "wait" (N is ignored) only reads standard input until its end, so
 * that a benchmark can read the seccomp filter a runtime loaded for rwloop
 * while it waits.
 *
 * With FILTER, a file of raw struct sock_filter instructions (native byte
 * order), the loop runs under that seccomp filter: rwloop sets
 * no_new_privs and loads it after its set-up, just before the loop.
 *
 * It prints the loop's own time in nanoseconds on standard output, "CPU
 * WALL": the CPU time of the thread (user and system,
 * CLOCK_THREAD_CPUTIME_ID, which leaves out time the thread waited for a
 * CPU on a loaded machine) and the wall-clock time (CLOCK_MONOTONIC). Only
 * the loop is timed: start-up, exec and a recorder's set-up are not.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void load_filter(const char *path)
{
	static struct sock_filter insns[BPF_MAXINSNS];
	FILE *f = fopen(path, "rb");
	size_t n;
	struct sock_fprog prog;

	if (!f) {
		perror("rwloop: open filter");
		exit(1);
	}
	n = fread(insns, sizeof insns[0], BPF_MAXINSNS, f);
	fclose(f);
	if (n == 0) {
		fprintf(stderr, "rwloop: empty filter %s\n", path);
		exit(1);
	}
	prog.len = (unsigned short)n;
	prog.filter = insns;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) {
		perror("rwloop: load filter");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	char buf[64];
	struct timespec a, b, ca, cb;
	long n, i;
	int in, out, futex_mode = 0;
	static int word;

	if (argc < 2 || argc > 4 || (n = atol(argv[1])) <= 0 ||
	    (argc > 2 && strcmp(argv[2], "rw") && strcmp(argv[2], "futex") && strcmp(argv[2], "wait"))) {
		fprintf(stderr, "usage: rwloop N [rw|futex|wait [FILTER]]\n");
		return 2;
	}
	futex_mode = argc > 2 && !strcmp(argv[2], "futex");
	in = open("/dev/zero", O_RDONLY);
	out = open("/dev/null", O_WRONLY);
	if (in < 0 || out < 0) {
		perror("rwloop: open");
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 2 && !strcmp(argv[2], "wait")) {
		while (read(0, buf, sizeof buf) > 0)
			;
		return 0;
	}
	if (argc > 3)
		load_filter(argv[3]);
	clock_gettime(CLOCK_MONOTONIC, &a);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ca);
	for (i = 0; i < n; i++) {
		if (futex_mode) {
			if (syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) < 0 || fcntl(0, F_GETFD) < 0) {
				perror("rwloop: futex/fcntl");
				return 1;
			}
		} else if (read(in, buf, sizeof buf) != sizeof buf || write(out, buf, sizeof buf) != sizeof buf) {
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
