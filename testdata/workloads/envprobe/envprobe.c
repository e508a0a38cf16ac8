/*
 * envprobe does what glibc, libuv and Go's runtime do with calls that
 * depend on where a program runs or on timing (docs/arguments.md, "Calls
 * that depend on the environment or on timing"):
 *
 *   - standard output: fstat(1), and when it is not a regular file (a
 *     pipe, a socket, /dev/null, a terminal) ioctl(FIONBIO) on and off and
 *     ioctl(FIOCLEX), as libuv does; printf then makes glibc's isatty
 *     (TCGETS) on a character device;
 *   - working directory: as Go's os.Getwd, $PWD when a stat of "." and of
 *     $PWD agree, getcwd(2) otherwise (a container has no PWD);
 *   - memory: madvise(MADV_HUGEPAGE) on a heap region, as Go's runtime does
 *     on every run; with --return-memory (what the scavenger's timing
 *     decides in Go) madvise(MADV_NOHUGEPAGE) and madvise(MADV_DONTNEED).
 *
 *   envprobe [--return-memory]
 *
 * Prints "envprobe: stdout KIND, cwd from SOURCE, memory STATE, pid N ok"
 * and exits 0; exits 42 when a call fails with EPERM (a seccomp denial), 1
 * on another failure, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(const char *call)
{
	int e = errno;
	fprintf(stderr, "envprobe: %s: %s\n", call, strerror(e));
	return e == EPERM ? 42 : 1;
}

int main(int argc, char **argv)
{
	struct stat st, dot, pwd;
	const char *kind = "file", *cwdfrom = "PWD", *mem = "kept";
	char buf[PATH_MAX];
	const char *env;
	size_t len = 4 << 20;
	void *p;
	int on;

	if (argc == 2 && strcmp(argv[1], "--return-memory") == 0)
		mem = "returned";
	else if (argc != 1) {
		fprintf(stderr, "usage: envprobe [--return-memory]\n");
		return 2;
	}

	if (fstat(1, &st) < 0)
		return fail("fstat(1)");
	if (!S_ISREG(st.st_mode)) {
		kind = S_ISFIFO(st.st_mode) ? "pipe" : S_ISSOCK(st.st_mode) ? "socket" : S_ISCHR(st.st_mode) ? "character device" : "other";
		on = 1;
		if (ioctl(1, FIONBIO, &on) < 0)
			return fail("ioctl(1, FIONBIO)");
		on = 0;
		if (ioctl(1, FIONBIO, &on) < 0)
			return fail("ioctl(1, FIONBIO, 0)");
		if (ioctl(1, FIOCLEX) < 0)
			return fail("ioctl(1, FIOCLEX)");
	}

	env = getenv("PWD");
	if (env == NULL || env[0] != '/' || stat(".", &dot) < 0 || stat(env, &pwd) < 0 ||
	    dot.st_dev != pwd.st_dev || dot.st_ino != pwd.st_ino) {
		cwdfrom = "getcwd";
		if (getcwd(buf, sizeof buf) == NULL)
			return fail("getcwd");
	}

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return fail("mmap");
	if (madvise(p, len, MADV_HUGEPAGE) < 0 && errno != EINVAL)
		return fail("madvise(MADV_HUGEPAGE)");
	memset(p, 1, len);
	if (strcmp(mem, "returned") == 0) {
		if (madvise(p, len, MADV_NOHUGEPAGE) < 0 && errno != EINVAL)
			return fail("madvise(MADV_NOHUGEPAGE)");
		if (madvise(p, len, MADV_DONTNEED) < 0)
			return fail("madvise(MADV_DONTNEED)");
	}

	printf("envprobe: stdout %s, cwd from %s, memory %s, pid %d ok\n", kind, cwdfrom, mem, (int)getpid());
	if (fflush(stdout) != 0)
		return fail("fflush");
	return 0;
}
