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
#include <sys/socket.h>
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
	if (argc == 6 && !strcmp(argv[1], "tree"))
		return tree(argv[2], atoi(argv[3]), atoi(argv[4]), atol(argv[5]));
	fprintf(stderr, "usage: pathops ops DIR PORT | pathops tree DIR DIRS FILES ITER\n");
	return 2;
}
