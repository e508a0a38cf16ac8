/*
 * threads: a multithreaded profgen test workload.
 *
 *   threads [N]
 *
 * Starts N pthreads (default 4). Each calls gettid(), then sched_yield() and
 * getcpu() (as a raw syscall: glibc's sched_getcpu uses the vDSO or rseq)
 * 10 times each, and records its results. The main thread joins them all,
 * prints "threads: N ok" and exits 0.
 *
 * pthread_join only calls futex() when a thread is still running, so the main
 * thread makes one futex(FUTEX_WAKE) call of its own: futex is then always
 * part of the syscall set, whatever the scheduling.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_THREADS 64
#define ROUNDS 10

struct result {
	long tid;
	int calls;
	int failed;
};

static void *work(void *arg)
{
	struct result *r = arg;
	unsigned cpu, node;
	int i;

	r->tid = syscall(SYS_gettid);
	for (i = 0; i < ROUNDS; i++) {
		if (sched_yield() < 0)
			r->failed++;
		if (syscall(SYS_getcpu, &cpu, &node, NULL) < 0)
			r->failed++;
		r->calls += 2;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[MAX_THREADS];
	struct result res[MAX_THREADS];
	int n = 4, i, err, word = 0;

	if (argc > 2) {
		fprintf(stderr, "usage: threads [N]\n");
		return 2;
	}
	if (argc == 2)
		n = atoi(argv[1]);
	if (n < 1 || n > MAX_THREADS) {
		fprintf(stderr, "threads: N must be 1..%d\n", MAX_THREADS);
		return 2;
	}

	memset(res, 0, sizeof(res));
	for (i = 0; i < n; i++) {
		err = pthread_create(&th[i], NULL, work, &res[i]);
		if (err != 0) {
			fprintf(stderr, "threads: pthread_create: %s\n", strerror(err));
			return 1;
		}
	}
	if (syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) < 0) {
		perror("threads: futex");
		return 1;
	}
	for (i = 0; i < n; i++) {
		err = pthread_join(th[i], NULL);
		if (err != 0) {
			fprintf(stderr, "threads: pthread_join: %s\n", strerror(err));
			return 1;
		}
	}
	for (i = 0; i < n; i++) {
		if (res[i].failed || res[i].calls != 2 * ROUNDS || res[i].tid <= 0) {
			fprintf(stderr, "threads: thread %d: %d calls, %d failed, tid %ld\n",
				i, res[i].calls, res[i].failed, res[i].tid);
			return 1;
		}
		for (int j = 0; j < i; j++)
			if (res[j].tid == res[i].tid) {
				fprintf(stderr, "threads: threads %d and %d share tid %ld\n", j, i, res[i].tid);
				return 1;
			}
	}
	printf("threads: %d ok\n", n);
	return 0;
}
