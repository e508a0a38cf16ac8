/*
 * pathops: workloads for the path recorder (trace/bpf/paths.h).
 *
 *   pathops ops DIR PORT
 *
 * In DIR (which holds a file "data" and a directory "sub"): opens
 * sub/../data relative to a descriptor of DIR (openat), creates "tmpfile"
 * and removes it again, creates "a" and renames it to sub/b (another
 * directory), then binds a TCP socket to 127.0.0.1:PORT, listens and
 * connects another one to it, and does the same with an abstract UNIX
 * socket.
 *
 *   pathops tree DIR DIRS FILES ITER
 *
 *   pathops calls DIR
 *
 * Every call by name Landlock governs, in DIR (empty), by names relative
 * to its cwd (chdir DIR): creat, truncate, open with O_TRUNC read-only
 * (of r: the kernel truncates, and checks truncate, all the same) and
 * write-only, openat2, mkdir, mknod of a FIFO, a socket and a regular
 * file, symlink, link (same directory) and linkat (into d/, following the
 * symlink), linkat of descriptors (AT_EMPTY_PATH: an O_TMPFILE file, and
 * hard into d/), a rename that replaces a file, renameat2 with RENAME_EXCHANGE
 * across directories and with RENAME_NOREPLACE; 50 files made, renamed
 * and removed at once (gN to hN); a UNIX socket bound to d/usock; a child that changes into
 * d/ by fchdir makes and removes a directory and removes the FIFO there;
 * another execs /usr/bin/true by execveat relative to a descriptor of
 * /usr/bin.
 *
 *   pathops tree DIR DIRS FILES ITER
 *
 * The file-heavy loop of the benchmarks: ITER times over DIR/dNN/fNNN
 * (DIRS directories of FILES files, made by the caller), open, read 64
 * bytes, close. Prints the loop's own time in nanoseconds, "CPU WALL" (as
 * rwloop does).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <linux/openat2.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static long long ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int ops(const char *dir, int port)
{
	char buf[64];
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		die("open dir");
	int fd = openat(dfd, "sub/../data", O_RDONLY);
	if (fd < 0 || read(fd, buf, sizeof buf) < 0)
		die("openat data");
	close(fd);
	fd = openat(dfd, "tmpfile", O_CREAT | O_WRONLY | O_EXCL, 0644);
	if (fd < 0 || write(fd, "x", 1) != 1)
		die("create tmpfile");
	close(fd);
	if (unlinkat(dfd, "tmpfile", 0))
		die("unlink tmpfile");
	fd = openat(dfd, "a", O_CREAT | O_WRONLY | O_EXCL, 0644);
	if (fd < 0)
		die("create a");
	close(fd);
	if (renameat(dfd, "a", dfd, "sub/b"))
		die("rename a");

	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof sa) || listen(s, 1))
		die("bind");
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof sa))
		die("connect");
	close(c);
	close(s);

	struct sockaddr_un ua = {.sun_family = AF_UNIX};
	snprintf(ua.sun_path + 1, sizeof ua.sun_path - 1, "profgen-pathops-%d", (int)getpid());
	socklen_t ulen = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(ua.sun_path + 1);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&ua, ulen) || listen(s, 1))
		die("bind abstract");
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&ua, ulen))
		die("connect abstract");
	close(c);
	close(s);
	return 0;
}

static void waitok(pid_t pid, const char *what)
{
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		die(what);
}

static int calls(const char *dir)
{
	if (chdir(dir))
		die("chdir");
	int fd = creat("f", 0644);
	if (fd < 0 || write(fd, "hello\n", 6) != 6)
		die("creat f");
	close(fd);
	if (truncate("f", 1))
		die("truncate f");
	if ((fd = creat("r", 0644)) < 0)
		die("creat r");
	close(fd);
	if ((fd = open("r", O_RDONLY | O_TRUNC)) < 0)
		die("open r O_RDONLY|O_TRUNC");
	close(fd);
	if ((fd = open("f", O_WRONLY | O_TRUNC)) < 0)
		die("open f O_WRONLY|O_TRUNC");
	close(fd);
	struct open_how how = {.flags = O_RDONLY};
	if ((fd = syscall(SYS_openat2, AT_FDCWD, "f", &how, sizeof how)) < 0)
		die("openat2 f");
	close(fd);
	if (mkdir("d", 0755) || mknod("d/fifo", S_IFIFO | 0644, 0) || mknod("sock", S_IFSOCK | 0644, 0) ||
	    mknod("reg", S_IFREG | 0644, 0))
		die("mkdir, mknod");
	if (symlink("f", "s") || link("f", "hard") || linkat(AT_FDCWD, "s", AT_FDCWD, "d/hard", AT_SYMLINK_FOLLOW))
		die("symlink, link");
	// Links of a descriptor's file (AT_EMPTY_PATH): an O_TMPFILE file
	// given its name, and hard by a descriptor into d/.
	if ((fd = open(".", O_TMPFILE | O_WRONLY, 0644)) < 0 || write(fd, "t\n", 2) != 2 ||
	    linkat(fd, "", AT_FDCWD, "tmplinked", AT_EMPTY_PATH))
		die("O_TMPFILE, linkat AT_EMPTY_PATH");
	close(fd);
	if ((fd = open("hard", O_RDONLY)) < 0 || linkat(fd, "", AT_FDCWD, "d/byfd", AT_EMPTY_PATH))
		die("linkat hard AT_EMPTY_PATH");
	close(fd);
	if (rename("reg", "f"))
		die("rename reg f");
	if (syscall(SYS_renameat2, AT_FDCWD, "f", AT_FDCWD, "d/hard", RENAME_EXCHANGE))
		die("renameat2 exchange");
	if (syscall(SYS_renameat2, AT_FDCWD, "s", AT_FDCWD, "s2", RENAME_NOREPLACE))
		die("renameat2 noreplace");
	// Renamed, then removed at once: gone before a tracer could read
	// the renamed file's type.
	for (int i = 0; i < 50; i++) {
		char g[16], h[16];
		snprintf(g, sizeof g, "g%d", i);
		snprintf(h, sizeof h, "h%d", i);
		if ((fd = creat(g, 0644)) < 0)
			die("creat g");
		close(fd);
		if (rename(g, h) || unlink(h))
			die("rename g h, unlink h");
	}
	// A UNIX socket bound to a relative path: its file made.
	struct sockaddr_un su = {.sun_family = AF_UNIX};
	strcpy(su.sun_path, "d/usock");
	int us = socket(AF_UNIX, SOCK_STREAM, 0);
	if (us < 0 || bind(us, (struct sockaddr *)&su, sizeof su))
		die("bind d/usock");
	close(us);
	pid_t pid = fork();
	if (pid == 0) {
		int dfd = open("d", O_RDONLY | O_DIRECTORY);
		if (dfd < 0 || fchdir(dfd) || mkdir("sub", 0755) || rmdir("sub") || unlink("fifo"))
			die("child in d");
		_exit(0);
	}
	waitok(pid, "child in d");
	pid = fork();
	if (pid == 0) {
		int bin = open("/usr/bin", O_RDONLY | O_DIRECTORY);
		char *argv[] = {"true", 0}, *envp[] = {0};
		syscall(SYS_execveat, bin, "true", argv, envp, 0);
		die("execveat true");
	}
	waitok(pid, "execveat true");
	return 0;
}

static int tree(const char *dir, int dirs, int files, long iter)
{
	char path[4096], buf[64];
	long long cpu = ns(CLOCK_THREAD_CPUTIME_ID), wall = ns(CLOCK_MONOTONIC);
	for (long i = 0; i < iter; i++)
		for (int d = 0; d < dirs; d++)
			for (int f = 0; f < files; f++) {
				snprintf(path, sizeof path, "%s/d%02d/f%03d", dir, d, f);
				int fd = open(path, O_RDONLY);
				if (fd < 0)
					die(path);
				if (read(fd, buf, sizeof buf) < 0)
					die("read");
				close(fd);
			}
	printf("%lld %lld\n", ns(CLOCK_THREAD_CPUTIME_ID) - cpu, ns(CLOCK_MONOTONIC) - wall);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "ops"))
		return ops(argv[2], atoi(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "calls"))
		return calls(argv[2]);
	if (argc == 6 && !strcmp(argv[1], "tree"))
		return tree(argv[2], atoi(argv[3]), atoi(argv[4]), atol(argv[5]));
	fprintf(stderr, "usage: pathops ops DIR PORT | pathops calls DIR | pathops tree DIR DIRS FILES ITER\n");
	return 2;
}
